/* Fixture plugin: follows "next:" pointers over several file: pages and
 * emits one offering per "offer:" line. Page format (one item a line):
 *   # comment
 *   next: REF                 REF relative to the page's folder, or a URL
 *   offer: PROVIDER ID [CONTEXT]
 * Any other line makes normalize fail with MF_EPARSE. */
#include <modelfuse/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct mf_option rx_pager_options[] = {
	{.name = "disable", .type = MF_OPT_BOOL, .default_value = "no",
	 .help = "make init report the source disabled"},
	{.name = NULL},
};

static int rx_pager_init(const struct mf_host *host, struct mf_context *ctx, void **state)
{
	*state = NULL;
	if (host->option_bool(ctx, "disable")) {
		host->log(ctx, MF_LOG_INFO, "disabled by option");
		return MF_EDISABLED;
	}
	return MF_OK;
}

/* Find "key: value" at the start of a line; returns the value's span. */
static const char *rx_pager_find(const char *data, const char *key, size_t *len)
{
	size_t klen = strlen(key);
	for (const char *line = data; line && *line;) {
		const char *eol = strchr(line, '\n');
		size_t n = eol ? (size_t)(eol - line) : strlen(line);
		if (n > klen && strncmp(line, key, klen) == 0) {
			const char *v = line + klen;
			while (*v == ' ')
				v++;
			*len = (size_t)(line + n - v);
			while (*len && (v[*len - 1] == '\r' || v[*len - 1] == ' '))
				(*len)--;
			return v;
		}
		line = eol ? eol + 1 : NULL;
	}
	return NULL;
}

static int rx_pager_fetch(const struct mf_host *host, struct mf_context *ctx, void *state,
			  const struct mf_page *prev, struct mf_request *req)
{
	(void)state;
	if (!prev)
		return host->request_set_url(req, host->source_url(ctx));
	size_t len = 0;
	const char *ref = rx_pager_find(prev->data, "next:", &len);
	if (!ref)
		return MF_DONE;
	char url[4096];
	int n;
	if (memchr(ref, ':', len)) {
		n = snprintf(url, sizeof url, "%.*s", (int)len, ref);
	} else {
		const char *slash = strrchr(prev->url, '/');
		int base = slash ? (int)(slash - prev->url + 1) : 0;
		n = snprintf(url, sizeof url, "%.*s%.*s", base, prev->url, (int)len, ref);
	}
	if (n < 0 || (size_t)n >= sizeof url)
		return MF_EINVAL;
	return host->request_set_url(req, url);
}

static int rx_pager_offer(const struct mf_host *host, struct mf_context *ctx,
			  const struct mf_page *page, const char *line, size_t n)
{
	char provider[64], id[128];
	long long context = 0;
	char copy[512];
	if (n >= sizeof copy)
		return MF_EPARSE;
	memcpy(copy, line, n);
	copy[n] = '\0';
	int got = sscanf(copy, "offer: %63s %127s %lld", provider, id, &context);
	if (got < 2)
		return MF_EPARSE;
	struct mf_record *rec = host->record_new(ctx, MF_RECORD_OFFERING, id);
	if (!rec)
		return MF_ENOMEM;
	char tag[32];
	snprintf(tag, sizeof tag, "page:%u", page->index);
	if (host->set_string(rec, MF_FIELD_PROVIDER, provider) != MF_OK ||
	    host->set_string(rec, MF_FIELD_DESCRIPTION, page->url) != MF_OK ||
	    host->list_add(rec, MF_FIELD_TAGS, tag) != MF_OK ||
	    (got == 3 && host->set_int(rec, MF_FIELD_CONTEXT_TOKENS, context) != MF_OK)) {
		host->record_free(rec);
		return MF_ERROR;
	}
	return host->emit(ctx, rec);
}

static int rx_pager_normalize(const struct mf_host *host, struct mf_context *ctx, void *state,
			      const struct mf_page *page)
{
	(void)state;
	const char *line = page->data;
	while (line < page->data + page->size) {
		const char *eol = memchr(line, '\n', (size_t)(page->data + page->size - line));
		size_t n = eol ? (size_t)(eol - line) : (size_t)(page->data + page->size - line);
		if (n && line[n - 1] == '\r')
			n--;
		int rc = MF_OK;
		if (n == 0 || line[0] == '#' || strncmp(line, "next:", 5) == 0)
			rc = MF_OK;
		else if (strncmp(line, "offer:", 6) == 0)
			rc = rx_pager_offer(host, ctx, page, line, n);
		else
			rc = MF_EPARSE;
		if (rc != MF_OK) {
			host->log(ctx, MF_LOG_ERROR, "page %u: bad line", page->index + 1);
			return rc;
		}
		line = eol ? eol + 1 : page->data + page->size;
	}
	return MF_OK;
}

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "rx_pager",
	.version = "1.0.0",
	.description = "runner fixture: pages over file: URLs",
	.options = rx_pager_options,
	.init = rx_pager_init,
	.fetch = rx_pager_fetch,
	.normalize = rx_pager_normalize,
};
