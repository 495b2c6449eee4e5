/* Being written: the anyllm source plugin. */
#include <modelfuse/plugin.h>
