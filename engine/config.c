#include "mf_build_config.h"
#include "config.h"
