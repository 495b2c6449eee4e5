/* Declares the option "region" twice: refused. */
#include "fx_common.h"

static const struct mf_option options[] = {
	{.name = "region", .type = MF_OPT_STRING},
	{.name = "limit", .type = MF_OPT_INT, .default_value = "5"},
	{.name = "region", .type = MF_OPT_BOOL},
	{.name = NULL},
};

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "fx_badopt",
	.version = "1.0",
	.options = options,
	.fetch = fx_fetch,
	.normalize = fx_normalize,
};
