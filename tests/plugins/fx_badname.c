/* Calls itself fx_other in a file named fx_badname.so: refused (the tests also
 * copy it to fx_other.so, where it is valid). */
#include "fx_common.h"

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "fx_other",
	.version = "1.0",
	.fetch = fx_fetch,
	.normalize = fx_normalize,
};
