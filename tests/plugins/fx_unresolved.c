/* Calls a function that exists nowhere. Linked without -z now and -z defs
 * (tests/loader.am), the way a careless third-party build would be: the
 * loader must still refuse it at load time and name the missing symbol. */
#include "fx_common.h"

extern int mf_no_such_function(void);

static int fx_unresolved_normalize(const struct mf_host *host, struct mf_context *ctx,
				   void *state, const struct mf_page *page)
{
	(void)host;
	(void)ctx;
	(void)state;
	(void)page;
	return mf_no_such_function();
}

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "fx_unresolved",
	.version = "1.0",
	.fetch = fx_fetch,
	.normalize = fx_unresolved_normalize,
};
