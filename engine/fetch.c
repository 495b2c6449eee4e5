#include "mf_build_config.h"
#include "fetch.h"
