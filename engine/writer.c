#include "mf_build_config.h"
#include "writer.h"
