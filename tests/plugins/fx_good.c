/* A valid fixture plugin: everything the loader checks is right, and it
 * declares two options so tests can see them through the descriptor. */
#include <stdint.h>
#include <string.h>
#include "fx_common.h"

struct fx_state {
	int64_t limit;
};

static int fx_good_init(const struct mf_host *host, struct mf_context *ctx, void **state)
{
	static struct fx_state st;
	st.limit = host->option_int(ctx, "limit");
	*state = &st;
	return MF_OK;
}

/* One model record per non-empty line, up to `limit`. */
static int fx_good_normalize(const struct mf_host *host, struct mf_context *ctx, void *state,
			     const struct mf_page *page)
{
	const struct fx_state *st = state;
	const char *p = page->data, *end = page->data + page->size;
	int64_t n = 0;
	while (p < end && n < st->limit) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (len > 0) {
			char id[128];
			if (len >= sizeof id)
				return MF_EPARSE;
			memcpy(id, p, len);
			id[len] = '\0';
			struct mf_record *rec = host->record_new(ctx, MF_RECORD_MODEL, id);
			if (!rec)
				return MF_ENOMEM;
			if (host->emit(ctx, rec) != MF_OK)
				return MF_ERROR;
			n++;
		}
		p += len + 1;
	}
	return MF_OK;
}

static const struct mf_option fx_good_options[] = {
	{.name = "greeting", .type = MF_OPT_STRING, .default_value = "hello",
	 .help = "a string option with a default"},
	{.name = "limit", .type = MF_OPT_INT, .default_value = "10", .required = false,
	 .help = "an integer option"},
	{.name = NULL},
};

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "fx_good",
	.version = "1.2.3",
	.description = "loader test fixture that loads",
	.default_url = "file:/dev/null",
	.options = fx_good_options,
	.init = fx_good_init,
	.fetch = fx_fetch,
	.normalize = fx_good_normalize,
};
