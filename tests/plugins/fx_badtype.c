/* An option of a type that does not exist: refused. */
#include "fx_common.h"

static const struct mf_option options[] = {
	{.name = "limit", .type = (enum mf_option_type)42},
	{.name = NULL},
};

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "fx_badtype",
	.version = "1.0",
	.options = options,
	.fetch = fx_fetch,
	.normalize = fx_normalize,
};
