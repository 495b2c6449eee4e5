#include "mf_build_config.h"
#include "merge.h"
