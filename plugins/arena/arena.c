/* Being written: the arena source plugin. */
#include <modelfuse/plugin.h>
