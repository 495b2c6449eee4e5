#include "mf_build_config.h"
#include "runner.h"
