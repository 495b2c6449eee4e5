#include "mf_build_config.h"
#include "stream.h"
