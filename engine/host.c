#include "mf_build_config.h"
#include "host.h"
