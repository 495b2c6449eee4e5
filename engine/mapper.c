#include "mf_build_config.h"
#include "mapper.h"
