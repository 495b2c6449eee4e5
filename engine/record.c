#include "mf_build_config.h"
#include "record.h"
