#include "mf_build_config.h"
#include "loader.h"
