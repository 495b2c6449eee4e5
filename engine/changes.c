#include "mf_build_config.h"
#include "changes.h"
