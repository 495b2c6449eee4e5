/* An int option whose default is no integer: refused. */
#include "fx_common.h"

static const struct mf_option options[] = {
	{.name = "limit", .type = MF_OPT_INT, .default_value = "ten"},
	{.name = NULL},
};

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "fx_baddefault",
	.version = "1.0",
	.options = options,
	.fetch = fx_fetch,
	.normalize = fx_normalize,
};
