/* Being written: the community source plugin. */
#include <modelfuse/plugin.h>
