/*
 * hello: a complete modelfuse source plugin, small enough to read in one go.
 *
 * Its upstream is a plain text listing, one offering per line:
 *
 *     provider<TAB>native id<TAB>display name
 *
 * Blank lines and lines starting with '#' are ignored. It shows the whole
 * life of a plugin: declared options, init and fini with private state,
 * fetch planning through the core, and a pure normalize that hands records
 * back to the core. It includes only <modelfuse/plugin.h> and links nothing
 * of modelfuse: every service comes in through the host table.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <modelfuse/plugin.h>

/* What init learns from the options, kept for fetch and normalize. */
struct hello_state {
	const char *only_provider; /* borrowed from the core until fini; NULL: all */
	int64_t max_models;
	int64_t emitted;
};

/* The core checks configured values against these declarations (type,
 * required, unknown keys) before the plugin runs. */
static const struct mf_option hello_options[] = {
	{
		.name = "only_provider",
		.type = MF_OPT_STRING,
		.help = "keep only the offerings of this provider",
	},
	{
		.name = "max_models",
		.type = MF_OPT_INT,
		.default_value = "1000",
		.help = "stop after this many offerings",
	},
	{.name = NULL},
};

static int hello_init(const struct mf_host *host, struct mf_context *ctx, void **state)
{
	struct hello_state *st = calloc(1, sizeof *st);
	if (!st)
		return MF_ENOMEM;
	st->only_provider = host->option_string(ctx, "only_provider");
	st->max_models = host->option_int(ctx, "max_models");
	if (st->max_models <= 0) {
		host->log(ctx, MF_LOG_ERROR, "max_models must be positive, not %lld",
			  (long long)st->max_models);
		free(st);
		return MF_EINVAL;
	}
	*state = st;
	return MF_OK;
}

/* One page: the source URL. The core does the HTTP, caching and retries. */
static int hello_fetch(const struct mf_host *host, struct mf_context *ctx, void *state,
		       const struct mf_page *prev, struct mf_request *req)
{
	(void)state;
	if (prev)
		return MF_DONE;
	return host->request_set_url(req, host->source_url(ctx));
}

/* Split [p, end) at the first tab; returns the start of the rest or NULL. */
static const char *field(const char *p, const char *end, size_t *len)
{
	const char *tab = memchr(p, '\t', (size_t)(end - p));
	*len = (size_t)((tab ? tab : end) - p);
	return tab ? tab + 1 : NULL;
}

/* Turn one line into an offering. Returns MF_OK, or MF_EPARSE for a line
 * that does not have exactly three non-empty fields. */
static int hello_line(const struct mf_host *host, struct mf_context *ctx,
		      struct hello_state *st, const char *line, const char *end)
{
	size_t plen, ilen, nlen;
	const char *id = field(line, end, &plen);
	const char *name = id ? field(id, end, &ilen) : NULL;
	if (!name || plen == 0 || ilen == 0 || memchr(name, '\t', (size_t)(end - name)))
		return MF_EPARSE;
	nlen = (size_t)(end - name);

	if (st->only_provider &&
	    (strlen(st->only_provider) != plen || memcmp(st->only_provider, line, plen) != 0))
		return MF_OK;

	/* record_new wants a terminated native id; the line is not one. */
	char native_id[256];
	if (ilen >= sizeof native_id)
		return MF_EPARSE;
	memcpy(native_id, id, ilen);
	native_id[ilen] = '\0';

	struct mf_record *rec = host->record_new(ctx, MF_RECORD_OFFERING, native_id);
	if (!rec)
		return MF_ENOMEM;
	int rc = host->set_string_n(rec, MF_FIELD_PROVIDER, line, plen);
	if (rc == MF_OK && nlen > 0)
		rc = host->set_string_n(rec, MF_FIELD_NAME, name, nlen);
	if (rc != MF_OK) {
		/* Not emitted, so still ours to give back. */
		host->record_free(rec);
		return rc;
	}
	st->emitted++;
	/* emit takes the record whatever it returns. */
	return host->emit(ctx, rec);
}

/* Pure: only the page's bytes in, records out. Any malformed line refuses
 * the whole page, so the core keeps its last good copy of the listing. */
static int hello_normalize(const struct mf_host *host, struct mf_context *ctx, void *state,
			   const struct mf_page *page)
{
	struct hello_state *st = state;
	const char *p = page->data, *end = page->data + page->size;
	unsigned lineno = 0;
	while (p < end && st->emitted < st->max_models) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		lineno++;
		/* Tolerate files written with CRLF line ends. */
		const char *stop = (eol > p && eol[-1] == '\r') ? eol - 1 : eol;
		if (stop > p && *p != '#') {
			int rc = hello_line(host, ctx, st, p, stop);
			if (rc == MF_EPARSE)
				host->log(ctx, MF_LOG_ERROR,
					  "%s: line %u: expected provider<TAB>id<TAB>name",
					  page->url, lineno);
			if (rc != MF_OK)
				return rc;
		}
		p = eol + 1;
	}
	return MF_OK;
}

static void hello_fini(const struct mf_host *host, struct mf_context *ctx, void *state)
{
	(void)host;
	(void)ctx;
	free(state);
}

/* The one exported symbol: the core reads the first three fields before it
 * trusts anything else, and refuses the file if they do not fit. */
MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "hello",
	.version = "1.0.0",
	.description = "example plugin: a tab-separated list of offerings",
	.default_url = NULL, /* the admin must give `url` */
	.options = hello_options,
	.init = hello_init,
	.fetch = hello_fetch,
	.normalize = hello_normalize,
	.fini = hello_fini,
};
