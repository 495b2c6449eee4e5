/* The descriptor is there but not exported (no MF_PLUGIN_EXPORT in a
 * -fvisibility=hidden build): the file is no modelfuse plugin to the core. */
#include "fx_common.h"

const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "fx_nodesc",
	.version = "1.0",
	.fetch = fx_fetch,
	.normalize = fx_normalize,
};
