/* Being written: the litellm source plugin. */
#include <modelfuse/plugin.h>
