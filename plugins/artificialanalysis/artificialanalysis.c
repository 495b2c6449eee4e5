/* Being written: the artificialanalysis source plugin. */
#include <modelfuse/plugin.h>
