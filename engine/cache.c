#include "mf_build_config.h"
#include "cache.h"
