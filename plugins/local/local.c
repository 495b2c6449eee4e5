/* Being written: the local source plugin. */
#include <modelfuse/plugin.h>
