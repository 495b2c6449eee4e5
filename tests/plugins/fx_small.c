/* A descriptor smaller than the ABI 1.0 layout: its size cannot be trusted. */
#include "fx_common.h"

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = offsetof(struct mf_plugin, fetch),
	.name = "fx_small",
	.version = "1.0",
	.fetch = fx_fetch,
	.normalize = fx_normalize,
};
