/* Fixture plugin: abort() in normalize, after emitting one record. */
#include <modelfuse/plugin.h>

#include <stdlib.h>

static int rx_abort_fetch(const struct mf_host *host, struct mf_context *ctx, void *state,
			  const struct mf_page *prev, struct mf_request *req)
{
	(void)state;
	return prev ? MF_DONE : host->request_set_url(req, host->source_url(ctx));
}

static int rx_abort_normalize(const struct mf_host *host, struct mf_context *ctx, void *state,
			      const struct mf_page *page)
{
	(void)state;
	(void)page;
	struct mf_record *rec = host->record_new(ctx, MF_RECORD_OFFERING, "before-abort");
	if (rec)
		host->emit(ctx, rec);
	abort();
}

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "rx_abort",
	.version = "1.0.0",
	.description = "runner fixture: aborts in normalize",
	.fetch = rx_abort_fetch,
	.normalize = rx_abort_normalize,
};
