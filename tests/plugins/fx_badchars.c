/* A name with characters a plugin name may not have: refused. */
#include "fx_common.h"

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "Fx-Bad!",
	.version = "1.0",
	.fetch = fx_fetch,
	.normalize = fx_normalize,
};
