/* Fixture plugin: one page, three records, the middle one with an empty
 * native id. */
#include <modelfuse/plugin.h>

static int rx_emptyid_fetch(const struct mf_host *host, struct mf_context *ctx, void *state,
			    const struct mf_page *prev, struct mf_request *req)
{
	(void)state;
	return prev ? MF_DONE : host->request_set_url(req, host->source_url(ctx));
}

static int rx_emptyid_normalize(const struct mf_host *host, struct mf_context *ctx, void *state,
				const struct mf_page *page)
{
	(void)state;
	(void)page;
	static const char *const ids[] = {"first", "", "last"};
	for (unsigned i = 0; i < 3; i++) {
		struct mf_record *rec = host->record_new(ctx, MF_RECORD_MODEL, ids[i]);
		if (!rec)
			continue;
		/* emit's verdict on the empty id is the core's business. */
		host->emit(ctx, rec);
	}
	return MF_OK;
}

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "rx_emptyid",
	.version = "1.0.0",
	.description = "runner fixture: emits a record without an id",
	.fetch = rx_emptyid_fetch,
	.normalize = rx_emptyid_normalize,
};
