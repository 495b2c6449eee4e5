/* Being written: the benchmarks source plugin. */
#include <modelfuse/plugin.h>
