/* Being written: the openrouter source plugin. */
#include <modelfuse/plugin.h>
