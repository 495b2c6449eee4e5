#include "mf_build_config.h"
#include "query.h"
