#include <modelfuse/plugin.h>
