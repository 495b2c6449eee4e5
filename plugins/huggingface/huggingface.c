/* Being written: the huggingface source plugin. */
#include <modelfuse/plugin.h>
