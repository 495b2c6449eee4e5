/* Fixture plugin of the cache tests: pages over any URL, follows "next:"
 * lines and Link rel="next" headers, and counts its normalize calls.
 * Page format (one item a line):
 *   # comment
 *   next: REF                 REF relative to the page's URL, or a whole URL
 *   offer: PROVIDER ID        one offering
 *   crash                     a real segmentation fault in normalize
 * Any other line makes normalize fail with MF_EPARSE.
 * Options:
 *   count_file   a file that gets one line per normalize call (tests only:
 *                a real normalize never touches files)
 *   auth         an Authorization header value, sent as an auth header
 *   disable      a reason: init logs it and reports the source disabled */
#include <modelfuse/plugin.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct mf_option cx_pager_options[] = {
    {.name = "count_file", .type = MF_OPT_STRING, .help = "append a line per normalize"},
    {.name = "auth", .type = MF_OPT_STRING, .help = "Authorization header value"},
    {.name = "disable", .type = MF_OPT_STRING, .help = "disable the source with this reason"},
    {.name = NULL},
};

static int cx_pager_init(const struct mf_host *host, struct mf_context *ctx, void **state)
{
	*state = NULL;
	const char *reason = host->option_string(ctx, "disable");
	if (reason) {
		host->log(ctx, MF_LOG_WARNING, "%s", reason);
		return MF_EDISABLED;
	}
	return MF_OK;
}

/* The value of "key" at the start of a line of data; its span in *len. */
static const char *cx_pager_find(const char *data, const char *key, size_t *len)
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

/* The URL of a Link: <URL>; rel="next" header. */
static const char *cx_pager_link_next(const char *link, size_t *len)
{
	const char *lt = link ? strchr(link, '<') : NULL;
	const char *gt = lt ? strchr(lt, '>') : NULL;
	if (!gt || !strstr(gt, "rel=\"next\""))
		return NULL;
	*len = (size_t)(gt - lt - 1);
	return lt + 1;
}

static int cx_pager_fetch(const struct mf_host *host, struct mf_context *ctx, void *state,
			  const struct mf_page *prev, struct mf_request *req)
{
	(void)state;
	const char *auth = host->option_string(ctx, "auth");
	if (auth && host->request_add_header(req, "Authorization", auth, true) != MF_OK)
		return MF_EINVAL;
	if (!prev)
		return host->request_set_url(req, host->source_url(ctx));
	size_t len = 0;
	const char *ref = cx_pager_link_next(prev->header(prev, "Link"), &len);
	if (!ref)
		ref = cx_pager_find(prev->data, "next:", &len);
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

static int cx_pager_offer(const struct mf_host *host, struct mf_context *ctx,
			  const struct mf_page *page, const char *line, size_t n)
{
	char provider[64], id[128], copy[512];
	if (n >= sizeof copy)
		return MF_EPARSE;
	memcpy(copy, line, n);
	copy[n] = '\0';
	if (sscanf(copy, "offer: %63s %127s", provider, id) != 2)
		return MF_EPARSE;
	struct mf_record *rec = host->record_new(ctx, MF_RECORD_OFFERING, id);
	if (!rec)
		return MF_ENOMEM;
	char tag[32];
	snprintf(tag, sizeof tag, "page:%u", page->index);
	if (host->set_string(rec, MF_FIELD_PROVIDER, provider) != MF_OK ||
	    host->list_add(rec, MF_FIELD_TAGS, tag) != MF_OK) {
		host->record_free(rec);
		return MF_ERROR;
	}
	return host->emit(ctx, rec);
}

static int cx_pager_normalize(const struct mf_host *host, struct mf_context *ctx, void *state,
			      const struct mf_page *page)
{
	(void)state;
	const char *count_file = host->option_string(ctx, "count_file");
	if (count_file) {
		FILE *f = fopen(count_file, "a");
		if (f) {
			fprintf(f, "normalize %u\n", page->index);
			fclose(f);
		}
	}
	const char *end = page->data + page->size;
	for (const char *line = page->data; line < end;) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		size_t n = eol ? (size_t)(eol - line) : (size_t)(end - line);
		if (n && line[n - 1] == '\r')
			n--;
		int rc = MF_OK;
		if (n == 5 && strncmp(line, "crash", 5) == 0) {
			volatile uintptr_t address = 0;
			*(volatile int *)address = 1;
		} else if (n == 0 || line[0] == '#' || strncmp(line, "next:", 5) == 0) {
			rc = MF_OK;
		} else if (strncmp(line, "offer:", 6) == 0) {
			rc = cx_pager_offer(host, ctx, page, line, n);
		} else {
			rc = MF_EPARSE;
		}
		if (rc != MF_OK) {
			host->log(ctx, MF_LOG_ERROR, "page %u: bad line", page->index + 1);
			return rc;
		}
		line = eol ? eol + 1 : end;
	}
	return MF_OK;
}

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "cx_pager",
	.version = "1.0.0",
	.description = "cache fixture: pages over any URL and counts normalize calls",
	.options = cx_pager_options,
	.init = cx_pager_init,
	.fetch = cx_pager_fetch,
	.normalize = cx_pager_normalize,
};
