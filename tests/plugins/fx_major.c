/* Built for the next ABI major: refused before anything else is read. */
#include "fx_common.h"

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR + 1,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "fx_major",
	.version = "1.0",
	.fetch = fx_fetch,
	.normalize = fx_normalize,
};
