/*
 * huggingface: the Hugging Face Hub model listing (GET /api/models).
 *
 * The upstream answers a query (pipeline, sort order, page size, filters)
 * with a bare JSON array of repos, one page at a time; the next page is
 * named by a `Link: <URL>; rel="next"` response header. Every repo is one
 * model-level record: 30-day downloads, likes, trending score, tags,
 * license, library and pipeline, plus what an expanded listing adds
 * (gating, parameter count, last modification).
 *
 * fetch builds the first URL from the options and then follows next links
 * until the listing ends, max_models entries were listed, or a link would
 * lead back to a page already fetched. normalize is strict about the
 * document (a page that is not an array is refused) and lax about entries
 * (a wrong-typed field costs that field, with a warning).
 */
/* strdup, strndup and strncasecmp are POSIX, not ISO C: ask for them so
 * that the plugin also builds as strict C11. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <modelfuse/plugin.h>

/* Warnings per page before the rest are only counted: a format change
 * upstream would otherwise print one line per model. */
#define HF_MAX_WARNINGS 20

/* Largest integer a double holds exactly. */
#define HF_MAX_EXACT 9007199254740992.0

/* How much of an id or URL a log line quotes: enough to recognise it,
 * short enough that hostile input cannot flood the log. */
#define HF_QUOTE "%.200s"

/* A "\u0000" inside one string should cost that string, not the page:
 * strings are checked for embedded NULs where they are used. */
#define HF_JSON_FLAGS JSON_ALLOW_NUL

/* ------------------------------------------------------------ strings */

/* A growable string that remembers an allocation failure instead of
 * making every caller check each append. */
struct hf_buf {
	char *data;
	size_t len;
	size_t cap;
	bool failed;
};

static void hf_buf_add_n(struct hf_buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (n > SIZE_MAX / 2 - b->len) {
		b->failed = true;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->data, cap);
		if (p == NULL) {
			b->failed = true;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void hf_buf_add(struct hf_buf *b, const char *s)
{
	hf_buf_add_n(b, s, strlen(s));
}

static bool hf_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/* Percent-encode n bytes as a query key or value: everything but RFC 3986
 * unreserved characters, so '&', '=', '+', '#', '%' and spaces in an
 * option can never change the query's structure. */
static void hf_buf_add_encoded(struct hf_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (hf_unreserved(c)) {
			hf_buf_add_n(b, (const char *)&c, 1);
		} else {
			char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
			hf_buf_add_n(b, esc, 3);
		}
	}
}

/* The finished string (caller frees), or NULL when an allocation failed. */
static char *hf_buf_take(struct hf_buf *b)
{
	char *s = b->failed ? NULL : b->data;
	if (b->failed)
		free(b->data);
	else if (s == NULL)
		s = strdup("");
	*b = (struct hf_buf){0};
	return s;
}

static bool hf_has_scheme(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);
	return strncasecmp(url, scheme, n) == 0 && url[n] == ':';
}

static bool hf_is_http(const char *url)
{
	return hf_has_scheme(url, "http") || hf_has_scheme(url, "https");
}

/* ------------------------------------------------------------ options */

static const struct mf_option hf_options[] = {
	{.name = "pipeline_tag",
	 .type = MF_OPT_STRING,
	 .default_value = "text-generation",
	 .help = "only models of this pipeline (empty: all pipelines)"},
	{.name = "sort",
	 .type = MF_OPT_STRING,
	 .default_value = "downloads",
	 .help = "sort key: downloads, likes, trendingScore, createdAt, lastModified "
		 "(empty: none)"},
	{.name = "direction",
	 .type = MF_OPT_INT,
	 .default_value = "-1",
	 .help = "sort direction: -1 descending, 1 ascending"},
	{.name = "limit",
	 .type = MF_OPT_INT,
	 .default_value = "100",
	 .help = "models per page (1 or more)"},
	{.name = "author",
	 .type = MF_OPT_STRING,
	 .help = "only models of this user or organization"},
	{.name = "search",
	 .type = MF_OPT_STRING,
	 .help = "only models whose id contains this text"},
	{.name = "filter",
	 .type = MF_OPT_STRING,
	 .help = "comma-separated tags every model must have, e.g. license:mit,gguf"},
	{.name = "expand",
	 .type = MF_OPT_STRING,
	 .help = "comma-separated properties to ask for (expand[]); the listing then holds "
		 "only those, e.g. downloads,likes,tags,gated,safetensors,cardData"},
	{.name = "max_models",
	 .type = MF_OPT_INT,
	 .default_value = "1000",
	 .help = "stop paging once this many models were listed (0: only the core's page cap)"},
	{.name = "api_key_env",
	 .type = MF_OPT_STRING,
	 .help = "environment variable holding a Hugging Face access token (optional)"},
	{.name = NULL},
};

/* ------------------------------------------------------------ state */

struct hf_state {
	char *first_url;    /* the listing query built from the options */
	char *auth;         /* "Bearer <token>", or NULL for anonymous requests */
	int64_t max_models; /* 0: no limit of our own */
	uint64_t seen;      /* entries on the pages fetched so far */
	char **visited;     /* every URL planned, for the loop guard */
	size_t n_visited;
};

static void hf_forget_visits(struct hf_state *st)
{
	for (size_t i = 0; i < st->n_visited; i++)
		free(st->visited[i]);
	free(st->visited);
	st->visited = NULL;
	st->n_visited = 0;
}

static void hf_state_free(struct hf_state *st)
{
	if (st == NULL)
		return;
	hf_forget_visits(st);
	free(st->first_url);
	if (st->auth != NULL) {
		/* The token should not outlive its use in freed memory. */
		memset(st->auth, 0, strlen(st->auth));
		free(st->auth);
	}
	free(st);
}

static const char *hf_nonempty(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

/* One key=value pair of the query, both encoded. */
static void hf_param(struct hf_buf *q, const char *key, const char *value, size_t len)
{
	if (q->len > 0)
		hf_buf_add(q, "&");
	hf_buf_add_encoded(q, key, strlen(key));
	hf_buf_add(q, "=");
	hf_buf_add_encoded(q, value, len);
}

/* A comma-separated option as one parameter per item (HF takes repeated
 * `expand[]=` and `filter=` parameters); blanks around items are ignored. */
static void hf_param_list(struct hf_buf *q, const char *key, const char *list)
{
	const char *p = list;
	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		const char *item = p;
		size_t len = n;
		while (len > 0 && (*item == ' ' || *item == '\t')) {
			item++;
			len--;
		}
		while (len > 0 && (item[len - 1] == ' ' || item[len - 1] == '\t'))
			len--;
		if (len > 0)
			hf_param(q, key, item, len);
		p += n;
		if (*p == ',')
			p++;
	}
}

/* The first page's URL: the configured URL with the listing query added
 * (after any query it already has, before its fragment). Only http(s) URLs
 * get one: a file: snapshot is a single page whatever it was queried
 * with, and its name should stay readable in messages. */
static char *hf_build_url(const struct mf_host *host, struct mf_context *ctx, const char *base,
			  int64_t limit)
{
	if (!hf_is_http(base))
		return strdup(base);

	struct hf_buf q = {0};
	const char *v = hf_nonempty(host->option_string(ctx, "pipeline_tag"));
	if (v != NULL)
		hf_param(&q, "pipeline_tag", v, strlen(v));
	v = hf_nonempty(host->option_string(ctx, "sort"));
	if (v != NULL) {
		hf_param(&q, "sort", v, strlen(v));
		char dir[24];
		snprintf(dir, sizeof(dir), "%" PRId64, host->option_int(ctx, "direction"));
		hf_param(&q, "direction", dir, strlen(dir));
	}
	char num[24];
	snprintf(num, sizeof(num), "%" PRId64, limit);
	hf_param(&q, "limit", num, strlen(num));
	v = hf_nonempty(host->option_string(ctx, "author"));
	if (v != NULL)
		hf_param(&q, "author", v, strlen(v));
	v = hf_nonempty(host->option_string(ctx, "search"));
	if (v != NULL)
		hf_param(&q, "search", v, strlen(v));
	v = hf_nonempty(host->option_string(ctx, "filter"));
	if (v != NULL)
		hf_param_list(&q, "filter", v);
	v = hf_nonempty(host->option_string(ctx, "expand"));
	if (v != NULL)
		hf_param_list(&q, "expand[]", v);
	char *query = hf_buf_take(&q);
	if (query == NULL)
		return NULL;

	struct hf_buf url = {0};
	size_t head = strcspn(base, "#");
	hf_buf_add_n(&url, base, head);
	const char *qmark = memchr(base, '?', head);
	if (qmark == NULL)
		hf_buf_add(&url, "?");
	else if (base[head - 1] != '?' && base[head - 1] != '&')
		hf_buf_add(&url, "&");
	hf_buf_add(&url, query);
	hf_buf_add(&url, base + head);
	free(query);
	return hf_buf_take(&url);
}

static int hf_init(const struct mf_host *host, struct mf_context *ctx, void **state)
{
	int64_t limit = host->option_int(ctx, "limit");
	int64_t max_models = host->option_int(ctx, "max_models");
	int64_t direction = host->option_int(ctx, "direction");
	if (limit < 1) {
		host->log(ctx, MF_LOG_ERROR, "option limit is %" PRId64 ": a page holds at least 1",
			  limit);
		return MF_EINVAL;
	}
	if (max_models < 0) {
		host->log(ctx, MF_LOG_ERROR,
			  "option max_models is %" PRId64 ": expected 0 (no limit) or more",
			  max_models);
		return MF_EINVAL;
	}
	if (direction != -1 && direction != 1) {
		host->log(ctx, MF_LOG_ERROR,
			  "option direction is %" PRId64 ": expected -1 (descending) or 1",
			  direction);
		return MF_EINVAL;
	}
	const char *base = host->source_url(ctx);
	if (base == NULL || base[0] == '\0') {
		host->log(ctx, MF_LOG_ERROR, "no url to list models from");
		return MF_EINVAL;
	}

	struct hf_state *st = calloc(1, sizeof(*st));
	if (st == NULL)
		return MF_ENOMEM;
	st->max_models = max_models;
	/* A first page larger than max_models would overshoot it at once;
	 * later pages come as the upstream's next links say. */
	if (max_models > 0 && max_models < limit)
		limit = max_models;
	st->first_url = hf_build_url(host, ctx, base, limit);
	if (st->first_url == NULL) {
		hf_state_free(st);
		return MF_ENOMEM;
	}

	/* A token only raises rate limits (and shows the owner's private
	 * repos): without one the listing still works, so a named but unset
	 * variable is a warning, not a reason to disable the source. */
	const char *env = hf_nonempty(host->option_string(ctx, "api_key_env"));
	if (env != NULL) {
		const char *token = getenv(env);
		if (token == NULL || token[0] == '\0') {
			host->log(ctx, MF_LOG_WARNING,
				  "environment variable %s is not set: listing models anonymously",
				  env);
		} else {
			struct hf_buf auth = {0};
			hf_buf_add(&auth, "Bearer ");
			hf_buf_add(&auth, token);
			st->auth = hf_buf_take(&auth);
			if (st->auth == NULL) {
				hf_state_free(st);
				return MF_ENOMEM;
			}
		}
	}
	*state = st;
	return MF_OK;
}

static void hf_fini(const struct mf_host *host, struct mf_context *ctx, void *state)
{
	(void)host;
	(void)ctx;
	hf_state_free(state);
}

/* ------------------------------------------------------------ Link header */

static bool hf_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool hf_token_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Does a rel value (space-separated relation types) contain "next"? */
static bool hf_rel_has_next(const char *v, size_t len)
{
	size_t i = 0;
	while (i < len) {
		while (i < len && (hf_ows(v[i]) || v[i] == '\n' || v[i] == '\r'))
			i++;
		size_t start = i;
		while (i < len && !hf_ows(v[i]) && v[i] != '\n' && v[i] != '\r')
			i++;
		if (i - start == 4 && strncasecmp(v + start, "next", 4) == 0)
			return true;
	}
	return false;
}

/* Skip a quoted-string starting at *p == '"'; returns the position after
 * it (or the end of the header when the quote never closes). When val is
 * given, the unescaped content goes there, truncated to cap - 1 bytes. */
static const char *hf_skip_quoted(const char *p, char *val, size_t cap, size_t *len)
{
	size_t n = 0;
	for (p++; *p != '\0' && *p != '"'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		if (val != NULL && n + 1 < cap)
			val[n++] = *p;
	}
	if (len != NULL)
		*len = n;
	return *p == '"' ? p + 1 : p;
}

/*
 * The target of the first link whose rel names "next", as a new string
 * (caller frees), or NULL. RFC 8288: links separated by commas, each
 * "<URI>" followed by ";"-separated parameters whose values are tokens or
 * quoted strings; only a link's first rel parameter counts. Anything
 * malformed costs only the link it is in.
 */
static char *hf_link_next(const char *header)
{
	const char *p = header;
	while (*p != '\0') {
		while (hf_ows(*p) || *p == ',' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '\0')
			break;
		const char *uri = NULL;
		size_t uri_len = 0;
		if (*p == '<') {
			const char *gt = strchr(p + 1, '>');
			if (gt == NULL)
				return NULL;
			uri = p + 1;
			uri_len = (size_t)(gt - uri);
			p = gt + 1;
		}
		bool next = false;
		bool rel_seen = false;
		/* Parameters, then anything up to the next comma outside quotes. */
		while (*p != '\0' && *p != ',') {
			if (*p == '"') {
				p = hf_skip_quoted(p, NULL, 0, NULL);
				continue;
			}
			if (*p != ';') {
				p++;
				continue;
			}
			p++;
			while (hf_ows(*p))
				p++;
			const char *name = p;
			while (hf_token_char(*p))
				p++;
			size_t name_len = (size_t)(p - name);
			while (hf_ows(*p))
				p++;
			char value[256] = "";
			size_t value_len = 0;
			if (*p == '=') {
				p++;
				while (hf_ows(*p))
					p++;
				if (*p == '"') {
					p = hf_skip_quoted(p, value, sizeof(value), &value_len);
				} else {
					const char *v = p;
					while (hf_token_char(*p))
						p++;
					value_len = (size_t)(p - v);
					if (value_len >= sizeof(value))
						value_len = sizeof(value) - 1;
					memcpy(value, v, value_len);
				}
			}
			if (name_len == 3 && strncasecmp(name, "rel", 3) == 0 && !rel_seen) {
				rel_seen = true;
				next = hf_rel_has_next(value, value_len);
			}
		}
		if (next && uri != NULL) {
			while (uri_len > 0 && hf_ows(*uri)) {
				uri++;
				uri_len--;
			}
			while (uri_len > 0 && hf_ows(uri[uri_len - 1]))
				uri_len--;
			return strndup(uri, uri_len);
		}
	}
	return NULL;
}

/* ------------------------------------------------------------ relative URLs */

/* Length of a URL's scheme (before ':'), or 0 when it has none. */
static size_t hf_scheme_len(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
		return 0;
	size_t i = 1;
	while ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
	       (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' || s[i] == '.')
		i++;
	return s[i] == ':' ? i : 0;
}

/* Remove the last segment of out after start, with the '/' before it. */
static void hf_drop_segment(struct hf_buf *out, size_t start)
{
	if (out->failed || out->data == NULL)
		return;
	while (out->len > start && out->data[out->len - 1] != '/')
		out->len--;
	if (out->len > start)
		out->len--;
	out->data[out->len] = '\0';
}

/* RFC 3986 5.2.4: append path[0..len) to out with its "." and ".."
 * segments resolved. */
static void hf_add_path(struct hf_buf *out, const char *path, size_t len)
{
	size_t start = out->len;
	size_t i = 0;
	while (i < len) {
		const char *in = path + i;
		size_t rest = len - i;
		if (rest >= 3 && strncmp(in, "../", 3) == 0) {
			i += 3;
		} else if (rest >= 2 && strncmp(in, "./", 2) == 0) {
			i += 2;
		} else if (rest >= 3 && strncmp(in, "/./", 3) == 0) {
			i += 2; /* leaves "/..." */
		} else if (rest == 2 && strncmp(in, "/.", 2) == 0) {
			hf_buf_add(out, "/");
			i = len;
		} else if (rest >= 4 && strncmp(in, "/../", 4) == 0) {
			hf_drop_segment(out, start);
			i += 3;
		} else if (rest == 3 && strncmp(in, "/..", 3) == 0) {
			hf_drop_segment(out, start);
			hf_buf_add(out, "/");
			i = len;
		} else if ((rest == 1 && in[0] == '.') ||
			   (rest == 2 && strncmp(in, "..", 2) == 0)) {
			i = len;
		} else {
			/* Move the first segment, with its leading '/', to out. */
			size_t n = in[0] == '/' ? 1 : 0;
			while (n < rest && in[n] != '/')
				n++;
			hf_buf_add_n(out, in, n);
			i += n;
		}
	}
}

/*
 * Resolve a link target against the URL of the page that gave it (RFC 3986
 * 5.2.2). Returns a new string (caller frees), or NULL when base is not an
 * absolute URL or memory ran out.
 */
static char *hf_resolve(const char *base, const char *ref)
{
	if (hf_scheme_len(ref) > 0)
		return strdup(ref);
	size_t scheme = hf_scheme_len(base);
	if (scheme == 0)
		return NULL;

	/* base = scheme ":" ["//" authority] path ["?" query] ["#" fragment] */
	const char *after = base + scheme + 1;
	const char *auth_end = after;
	bool has_auth = strncmp(after, "//", 2) == 0;
	if (has_auth)
		auth_end = after + 2 + strcspn(after + 2, "/?#");
	const char *path = auth_end;
	size_t path_len = strcspn(path, "?#");
	size_t until_query = (size_t)(path - base) + path_len;
	size_t until_frag = strcspn(base, "#");

	struct hf_buf out = {0};
	size_t ref_path_len = strcspn(ref, "?#");
	if (strncmp(ref, "//", 2) == 0) {
		hf_buf_add_n(&out, base, scheme + 1);
		hf_buf_add(&out, ref);
	} else if (ref[0] == '\0' || ref[0] == '#') {
		hf_buf_add_n(&out, base, until_frag);
		hf_buf_add(&out, ref);
	} else if (ref[0] == '?') {
		hf_buf_add_n(&out, base, until_query);
		hf_buf_add(&out, ref);
	} else {
		hf_buf_add_n(&out, base, (size_t)(path - base));
		if (ref[0] == '/') {
			hf_add_path(&out, ref, ref_path_len);
		} else {
			/* Merge: the base path up to its last '/', then the ref. */
			struct hf_buf merged = {0};
			const char *slash = NULL;
			for (const char *c = path; c < path + path_len; c++)
				if (*c == '/')
					slash = c;
			if (slash != NULL)
				hf_buf_add_n(&merged, path, (size_t)(slash - path) + 1);
			else if (has_auth)
				hf_buf_add(&merged, "/");
			hf_buf_add_n(&merged, ref, ref_path_len);
			if (merged.failed)
				out.failed = true;
			else if (merged.data != NULL)
				hf_add_path(&out, merged.data, merged.len);
			free(merged.data);
		}
		hf_buf_add(&out, ref + ref_path_len);
	}
	return hf_buf_take(&out);
}

/* ------------------------------------------------------------ fetch */

static int hf_plan(const struct mf_host *host, struct mf_context *ctx, struct hf_state *st,
		   struct mf_request *req, char *url)
{
	char **grown = realloc(st->visited, (st->n_visited + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(url);
		return MF_ENOMEM;
	}
	st->visited = grown;
	st->visited[st->n_visited++] = url;
	int rc = host->request_set_url(req, url);
	if (rc != MF_OK) {
		host->log(ctx, MF_LOG_ERROR, "cannot request " HF_QUOTE ": status %d", url, rc);
		return rc;
	}
	if (st->auth != NULL) {
		/* The core sends it only to the configured origin. */
		rc = host->request_add_header(req, "Authorization", st->auth, true);
		if (rc != MF_OK) {
			host->log(ctx, MF_LOG_ERROR,
				  "the access token cannot be sent as a header (status %d)", rc);
			return rc;
		}
	}
	return MF_OK;
}

static bool hf_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Count the entries of a top-level JSON array without building it: a walk
 * over brackets and strings that only counts commas at depth 1. It answers
 * only for what is plainly a well-bracketed array (false otherwise, and
 * hf_count_entries then asks jansson, which says exactly what is wrong);
 * the values themselves are checked by normalize, which parses the page
 * anyway.
 */
static bool hf_count_quick(const char *data, size_t size, size_t *count)
{
	const char *p = data, *end = data + size;
	while (p < end && hf_json_space(*p))
		p++;
	if (p == end || *p != '[')
		return false;
	/* Open brackets, one bit each: 1 for '[', 0 for '{'. */
	uint64_t kinds = 1;
	unsigned depth = 1;
	size_t n = 0;
	bool want_value = true; /* after '[' or a comma at depth 1 */
	for (p++; p < end; p++) {
		char c = *p;
		if (hf_json_space(c))
			continue;
		if (depth == 1) {
			if (c == ',') {
				if (want_value)
					return false;
				want_value = true;
				continue;
			}
			if (c == ']') {
				if (want_value && n > 0)
					return false; /* a trailing comma */
				for (p++; p < end && hf_json_space(*p); p++)
					;
				*count = n;
				return p == end;
			}
			if (!want_value)
				return false; /* two values without a comma */
			want_value = false;
			n++;
			if (c != '"' && c != '[' && c != '{') {
				/* A number or literal: to its end. */
				while (p + 1 < end && !hf_json_space(p[1]) && p[1] != ',' &&
				       p[1] != ']' && p[1] != '\0')
					p++;
				continue;
			}
		}
		if (c == '"') {
			/* To the closing quote: one not escaped by an odd run
			 * of backslashes. */
			for (;;) {
				const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
				if (q == NULL)
					return false;
				const char *b = q;
				while (b > p + 1 && b[-1] == '\\')
					b--;
				p = q;
				if ((q - b) % 2 == 0)
					break;
			}
		} else if (c == '[' || c == '{') {
			if (depth >= 64)
				return false;
			kinds = kinds << 1 | (c == '[');
			depth++;
		} else if (c == ']' || c == '}') {
			if ((kinds & 1) != (c == ']'))
				return false;
			kinds >>= 1;
			depth--;
		} else if (c == '\0') {
			return false;
		}
	}
	return false;
}

/* Entries on a page, counted from the page itself: normalize is not run on
 * a payload the core replays from its cache, so it cannot keep count. */
static int hf_count_entries(const struct mf_host *host, struct mf_context *ctx,
			    const struct mf_page *page, size_t *count)
{
	if (page->data != NULL && hf_count_quick(page->data, page->size, count))
		return MF_OK;
	json_error_t err;
	json_t *root = page->data != NULL
			       ? json_loadb(page->data, page->size, HF_JSON_FLAGS, &err)
			       : NULL;
	if (root == NULL || !json_is_array(root)) {
		host->log(ctx, MF_LOG_ERROR,
			  HF_QUOTE ": not a JSON array of models, cannot page on",
			  page->url != NULL ? page->url : "page");
		json_decref(root);
		return MF_EPARSE;
	}
	*count = json_array_size(root);
	json_decref(root);
	return MF_OK;
}

static int hf_fetch(const struct mf_host *host, struct mf_context *ctx, void *state,
		    const struct mf_page *prev, struct mf_request *req)
{
	struct hf_state *st = state;
	if (st == NULL)
		return MF_EINVAL;
	if (prev == NULL) {
		/* A new listing, even if this state has paged before. */
		hf_forget_visits(st);
		st->seen = 0;
		char *first = strdup(st->first_url);
		if (first == NULL)
			return MF_ENOMEM;
		return hf_plan(host, ctx, st, req, first);
	}

	/* Without a next link the listing ends here: the page's entries need
	 * no counting (normalize reads the page anyway). */
	const char *link = prev->header != NULL ? prev->header(prev, "Link") : NULL;
	char *target = link != NULL ? hf_link_next(link) : NULL;
	if (target == NULL)
		return MF_DONE;

	size_t count = 0;
	int rc = hf_count_entries(host, ctx, prev, &count);
	if (rc != MF_OK) {
		free(target);
		return rc;
	}
	st->seen += count;
	/* An empty page ends the listing whatever its links say. */
	if (count == 0 || (st->max_models > 0 && st->seen >= (uint64_t)st->max_models)) {
		free(target);
		return MF_DONE;
	}

	const char *here = prev->url;
	if (here == NULL && st->n_visited > 0)
		here = st->visited[st->n_visited - 1];
	char *next = here != NULL ? hf_resolve(here, target) : NULL;
	if (next == NULL) {
		host->log(ctx, MF_LOG_WARNING,
			  "next link <" HF_QUOTE "> cannot be resolved against " HF_QUOTE
			  "; stopping after %" PRIu64 " models",
			  target, here != NULL ? here : "an unknown URL", st->seen);
		free(target);
		return MF_DONE;
	}
	free(target);

	/* A next page is a listing page: never a local file, never a step
	 * down from https to http. */
	if (!hf_is_http(next) ||
	    (here != NULL && hf_has_scheme(here, "https") && !hf_has_scheme(next, "https"))) {
		host->log(ctx, MF_LOG_WARNING,
			  "next link " HF_QUOTE " is not an https page like " HF_QUOTE
			  "; stopping after %" PRIu64 " models",
			  next, here != NULL ? here : "the previous page", st->seen);
		free(next);
		return MF_DONE;
	}
	bool again = prev->url != NULL && strcmp(prev->url, next) == 0;
	for (size_t i = 0; i < st->n_visited && !again; i++)
		again = strcmp(st->visited[i], next) == 0;
	if (again) {
		host->log(ctx, MF_LOG_WARNING,
			  "next link " HF_QUOTE " leads to a page already fetched; stopping after "
			  "%" PRIu64 " models",
			  next, st->seen);
		free(next);
		return MF_DONE;
	}
	return hf_plan(host, ctx, st, req, next);
}

/* ------------------------------------------------------------ normalize */

/* State of one normalize call: what is being read, for messages. */
struct hf_walk {
	const struct mf_host *host;
	struct mf_context *ctx;
	const char *id; /* the entry being read, NULL before its id is known */
	unsigned warnings;
	int rc; /* first fatal setter failure (out of memory), else MF_OK */
};

static void hf_warn(struct hf_walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void hf_warn(struct hf_walk *w, const char *fmt, ...)
{
	w->warnings++;
	if (w->warnings > HF_MAX_WARNINGS)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	const char *more = (size_t)n >= sizeof(msg) ? "..." : "";
	if (w->id != NULL)
		w->host->log(w->ctx, MF_LOG_WARNING, HF_QUOTE ": %s%s", w->id, msg, more);
	else
		w->host->log(w->ctx, MF_LOG_WARNING, "%s%s", msg, more);
}

static const char *hf_type_name(const json_t *v)
{
	/* An absent member (json_object_get gives NULL) is named, not read. */
	if (v == NULL)
		return "missing";
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "an unknown value";
}

/* Remember the first out-of-memory; any other refusal costs the field. */
static void hf_check(struct hf_walk *w, int rc, const char *field)
{
	if (rc == MF_OK)
		return;
	if (rc == MF_ENOMEM) {
		if (w->rc == MF_OK)
			w->rc = MF_ENOMEM;
		return;
	}
	hf_warn(w, "%s: value refused by the core (status %d), skipped", field, rc);
}

/* A usable string: non-empty and without an embedded NUL, which C strings
 * would silently cut. */
static bool hf_usable_string(const json_t *v)
{
	return json_is_string(v) && json_string_length(v) > 0 &&
	       strlen(json_string_value(v)) == json_string_length(v);
}

/* A string field: absent, null and "" mean unknown; other types are wrong. */
static void hf_string(struct hf_walk *w, struct mf_record *rec, const json_t *entry,
		      const char *key, enum mf_field field)
{
	const json_t *v = json_object_get(entry, key);
	if (v == NULL || json_is_null(v))
		return;
	if (!json_is_string(v)) {
		hf_warn(w, "%s is %s, expected a string; field skipped", key, hf_type_name(v));
		return;
	}
	if (json_string_length(v) == 0)
		return;
	if (!hf_usable_string(v)) {
		hf_warn(w, "%s holds a NUL byte; field skipped", key);
		return;
	}
	hf_check(w, w->host->set_string_n(rec, field, json_string_value(v), json_string_length(v)),
		 key);
}

/* A non-negative whole number (a count); 1e6 written as 1000000.0 is fine.
 * Returns false, having warned, for anything else. */
static bool hf_whole(struct hf_walk *w, const json_t *v, const char *what, int64_t *out)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
	} else if (json_is_real(v)) {
		/* Range first: casting an out-of-range double is undefined. */
		double d = json_real_value(v);
		if (!(d >= -HF_MAX_EXACT && d <= HF_MAX_EXACT) || d != (double)(int64_t)d) {
			hf_warn(w, "%s is %g, not a whole number; field skipped", what, d);
			return false;
		}
		*out = (int64_t)d;
	} else {
		hf_warn(w, "%s is %s, expected a number; field skipped", what, hf_type_name(v));
		return false;
	}
	if (*out < 0) {
		hf_warn(w, "%s is %" PRId64 ", negative; field skipped", what, *out);
		return false;
	}
	return true;
}

static void hf_count(struct hf_walk *w, struct mf_record *rec, const json_t *entry,
		     const char *key, enum mf_field field)
{
	const json_t *v = json_object_get(entry, key);
	int64_t n;
	if (v == NULL || json_is_null(v) || !hf_whole(w, v, key, &n))
		return;
	hf_check(w, w->host->set_int(rec, field, n), key);
}

static void hf_trending(struct hf_walk *w, struct mf_record *rec, const json_t *entry)
{
	const json_t *v = json_object_get(entry, "trendingScore");
	if (v == NULL || json_is_null(v))
		return;
	if (!json_is_number(v)) {
		hf_warn(w, "trendingScore is %s, expected a number; field skipped",
			hf_type_name(v));
		return;
	}
	hf_check(w, w->host->set_real(rec, MF_FIELD_TRENDING_SCORE, json_number_value(v)),
		 "trendingScore");
}

/* Tags go in as given. The first `license:<id>` tag is the license: HF
 * derives those tags from the model card, so they agree with cardData
 * where both exist, and the tags come with every listing. */
static void hf_tags(struct hf_walk *w, struct mf_record *rec, const json_t *entry,
		    const char **license, size_t *license_len)
{
	const json_t *tags = json_object_get(entry, "tags");
	if (tags == NULL || json_is_null(tags))
		return;
	if (!json_is_array(tags)) {
		hf_warn(w, "tags is %s, expected an array; field skipped", hf_type_name(tags));
		return;
	}
	size_t i;
	json_t *tag;
	json_array_foreach(tags, i, tag) {
		if (!hf_usable_string(tag)) {
			hf_warn(w, "tags[%zu] is %s, expected a tag; skipped", i,
				json_is_string(tag) ? "an empty or NUL-holding string"
						    : hf_type_name(tag));
			continue;
		}
		const char *s = json_string_value(tag);
		hf_check(w, w->host->list_add(rec, MF_FIELD_TAGS, s), "tags");
		if (*license == NULL && strncmp(s, "license:", 8) == 0 && s[8] != '\0') {
			*license = s + 8;
			*license_len = json_string_length(tag) - 8;
		}
	}
}

/* The model card's license: a string, or a list of which the first is
 * taken (the catalog holds one license per model). */
static void hf_card_license(struct hf_walk *w, struct mf_record *rec, const json_t *entry)
{
	const json_t *card = json_object_get(entry, "cardData");
	if (card == NULL || json_is_null(card))
		return;
	if (!json_is_object(card)) {
		hf_warn(w, "cardData is %s, expected an object; license not read",
			hf_type_name(card));
		return;
	}
	const json_t *lic = json_object_get(card, "license");
	if (lic == NULL || json_is_null(lic))
		return;
	if (json_is_array(lic)) {
		size_t i;
		json_t *item;
		json_array_foreach(lic, i, item) {
			if (hf_usable_string(item)) {
				lic = item;
				break;
			}
		}
		if (json_is_array(lic))
			return; /* an empty list: no license named */
	}
	if (!json_is_string(lic)) {
		hf_warn(w, "cardData.license is %s, expected a string or a list; field skipped",
			hf_type_name(lic));
		return;
	}
	if (json_string_length(lic) == 0)
		return;
	if (!hf_usable_string(lic)) {
		hf_warn(w, "cardData.license holds a NUL byte; field skipped");
		return;
	}
	hf_check(w,
		 w->host->set_string_n(rec, MF_FIELD_LICENSE, json_string_value(lic),
				       json_string_length(lic)),
		 "cardData.license");
}

/* gated is false, or the way access is granted: "auto" or "manual". */
static void hf_gated(struct hf_walk *w, struct mf_record *rec, const json_t *entry)
{
	const json_t *v = json_object_get(entry, "gated");
	if (v == NULL || json_is_null(v))
		return;
	bool gated;
	if (json_is_boolean(v)) {
		gated = json_is_true(v);
	} else if (json_is_string(v) && (strcmp(json_string_value(v), "auto") == 0 ||
					 strcmp(json_string_value(v), "manual") == 0)) {
		gated = true;
	} else {
		/* An unknown mode might mean anything; better unknown than wrong. */
		if (json_is_string(v))
			hf_warn(w,
				"gated is \"" HF_QUOTE "\", expected false, \"auto\" or "
				"\"manual\"; field skipped",
				json_string_value(v));
		else
			hf_warn(w, "gated is %s, expected false, \"auto\" or \"manual\"; "
				"field skipped",
				hf_type_name(v));
		return;
	}
	hf_check(w, w->host->set_bool(rec, MF_FIELD_GATED, gated), "gated");
}

/* Parameters in one weights summary ({total, parameters: {dtype: n}}):
 * its total, else the sum per dtype. 0 when it says nothing usable. */
static int64_t hf_weights_total(struct hf_walk *w, const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v)) {
		hf_warn(w, "%s is %s, expected an object; parameters not read", key,
			hf_type_name(v));
		return 0;
	}
	char what[64];
	const json_t *total = json_object_get(v, "total");
	int64_t n = 0;
	snprintf(what, sizeof(what), "%s.total", key);
	if (total != NULL && !json_is_null(total) && hf_whole(w, total, what, &n) && n > 0)
		return n;

	const json_t *per = json_object_get(v, "parameters");
	if (per == NULL || json_is_null(per))
		return 0;
	if (!json_is_object(per)) {
		hf_warn(w, "%s.parameters is %s, expected an object; field skipped", key,
			hf_type_name(per));
		return 0;
	}
	int64_t sum = 0;
	const char *dtype;
	json_t *count;
	json_object_foreach((json_t *)per, dtype, count) {
		snprintf(what, sizeof(what), "%s.parameters.%.20s", key, dtype);
		if (!hf_whole(w, count, what, &n))
			return 0;
		if (n > INT64_MAX - sum) {
			hf_warn(w, "%s.parameters add up past 2^63; field skipped", key);
			return 0;
		}
		sum += n;
	}
	return sum;
}

/* Parameter count from the safetensors summary, else the GGUF one (both
 * only in expanded listings). */
static void hf_parameters(struct hf_walk *w, struct mf_record *rec, const json_t *entry)
{
	int64_t n = hf_weights_total(w, entry, "safetensors");
	if (n <= 0)
		n = hf_weights_total(w, entry, "gguf");
	if (n > 0)
		hf_check(w, w->host->set_int(rec, MF_FIELD_PARAMETERS, n), "parameters");
}

/* A flag that may be absent; true only for a real true. */
static bool hf_flag(struct hf_walk *w, const json_t *entry, const char *key)
{
	const json_t *v = json_object_get(entry, key);
	if (v == NULL || json_is_null(v))
		return false;
	if (!json_is_boolean(v)) {
		hf_warn(w, "%s is %s, expected a boolean; ignored", key, hf_type_name(v));
		return false;
	}
	return json_is_true(v);
}

/* The repo id: `id`, else the older `modelId`; NULL when neither is a
 * usable string. */
static const json_t *hf_entry_id(struct hf_walk *w, const json_t *entry, size_t position)
{
	static const char *const keys[] = {"id", "modelId"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const json_t *v = json_object_get(entry, keys[i]);
		if (v == NULL || json_is_null(v))
			continue;
		if (hf_usable_string(v))
			return v;
		hf_warn(w, "model #%zu: %s is %s, not a usable id", position, keys[i],
			json_is_string(v) ? "an empty or NUL-holding string" : hf_type_name(v));
	}
	return NULL;
}

static int hf_emit(struct hf_walk *w, struct mf_record *rec)
{
	/* emit owns rec from here on, whatever it returns. A refused record
	 * (MF_EINVAL) is the core's to count; anything else means the core
	 * can take no more records. */
	int rc = w->host->emit(w->ctx, rec);
	return rc == MF_OK || rc == MF_EINVAL ? MF_OK : rc;
}

static int hf_model(struct hf_walk *w, const json_t *entry, size_t position)
{
	const struct mf_host *host = w->host;
	w->id = NULL;
	if (!json_is_object(entry)) {
		hf_warn(w, "model #%zu is %s, expected an object; skipped", position,
			hf_type_name(entry));
		return MF_OK;
	}

	const json_t *idv = hf_entry_id(w, entry, position);
	if (idv == NULL) {
		/* Handed over without an id so that the core drops and counts
		 * it like every record it cannot place. */
		hf_warn(w, "model #%zu has no id; dropped", position);
		struct mf_record *bare = host->record_new(w->ctx, MF_RECORD_MODEL, "");
		return bare == NULL ? MF_ENOMEM : hf_emit(w, bare);
	}
	const char *id = json_string_value(idv);
	w->id = id;
	struct mf_record *rec = host->record_new(w->ctx, MF_RECORD_MODEL, id);
	if (rec == NULL)
		return MF_ENOMEM;

	hf_check(w, host->set_string(rec, MF_FIELD_HF_ID, id), "id");
	/* The repo's namespace is its maker as Hugging Face names it
	 * ("meta-llama"); the mapper normalizes namespaces. */
	const char *slash = strchr(id, '/');
	if (slash != NULL && slash != id)
		hf_check(w, host->set_string_n(rec, MF_FIELD_MAKER, id, (size_t)(slash - id)),
			 "maker");

	hf_count(w, rec, entry, "downloads", MF_FIELD_DOWNLOADS);
	hf_count(w, rec, entry, "likes", MF_FIELD_LIKES);
	hf_trending(w, rec, entry);
	hf_string(w, rec, entry, "library_name", MF_FIELD_LIBRARY);
	hf_string(w, rec, entry, "pipeline_tag", MF_FIELD_PIPELINE);
	hf_string(w, rec, entry, "createdAt", MF_FIELD_CREATED);
	hf_string(w, rec, entry, "lastModified", MF_FIELD_LAST_UPDATED);

	const char *license = NULL;
	size_t license_len = 0;
	hf_tags(w, rec, entry, &license, &license_len);
	if (license != NULL)
		hf_check(w, host->set_string_n(rec, MF_FIELD_LICENSE, license, license_len),
			 "license");
	else
		hf_card_license(w, rec, entry);

	hf_gated(w, rec, entry);
	hf_parameters(w, rec, entry);

	/* Private repos (listed only to their owner's token) and disabled ones
	 * stay in: they are real models, and dropping them would hide them
	 * from the count checks. Their status says why nobody else can use
	 * them, without mixing made-up words into the upstream's tags. */
	bool disabled = hf_flag(w, entry, "disabled");
	bool private = hf_flag(w, entry, "private");
	if (disabled || private)
		hf_check(w,
			 host->set_string(rec, MF_FIELD_STATUS, disabled ? "disabled" : "private"),
			 "status");

	if (w->rc != MF_OK) {
		host->record_free(rec);
		return w->rc;
	}
	return hf_emit(w, rec);
}

/* Duplicate keys are reported, then the document is read as jansson does
 * by default (the last value wins): one repeated key upstream should not
 * keep the whole source stale. */
static json_t *hf_parse(const struct mf_host *host, struct mf_context *ctx,
			const struct mf_page *page)
{
	const char *where = page->url != NULL ? page->url : "page";
	if (page->data == NULL) {
		host->log(ctx, MF_LOG_ERROR, HF_QUOTE ": no body", where);
		return NULL;
	}
	json_error_t err;
	json_t *root = json_loadb(page->data, page->size, HF_JSON_FLAGS | JSON_REJECT_DUPLICATES,
				  &err);
	if (root == NULL && json_error_code(&err) == json_error_duplicate_key) {
		host->log(ctx, MF_LOG_WARNING,
			  HF_QUOTE ": line %d, column %d: %s; the last value is used", where,
			  err.line, err.column, err.text);
		root = json_loadb(page->data, page->size, HF_JSON_FLAGS, &err);
	}
	if (root == NULL) {
		host->log(ctx, MF_LOG_ERROR, HF_QUOTE ": not valid JSON: line %d, column %d: %s",
			  where, err.line, err.column, err.text);
		return NULL;
	}
	if (!json_is_array(root)) {
		host->log(ctx, MF_LOG_ERROR,
			  HF_QUOTE ": top level is %s, expected an array of models", where,
			  hf_type_name(root));
		json_decref(root);
		return NULL;
	}
	return root;
}

static int hf_normalize(const struct mf_host *host, struct mf_context *ctx, void *state,
			const struct mf_page *page)
{
	(void)state;
	json_t *root = hf_parse(host, ctx, page);
	if (root == NULL)
		return MF_EPARSE;

	struct hf_walk w = {.host = host, .ctx = ctx, .rc = MF_OK};
	int rc = MF_OK;
	size_t i;
	json_t *entry;
	json_array_foreach(root, i, entry) {
		rc = hf_model(&w, entry, i + 1);
		if (rc != MF_OK)
			break;
	}
	w.id = NULL;
	if (w.warnings > HF_MAX_WARNINGS)
		host->log(ctx, MF_LOG_WARNING, "%u more warnings on " HF_QUOTE " not shown",
			  w.warnings - HF_MAX_WARNINGS,
			  page->url != NULL ? page->url : "this page");
	json_decref(root);
	return rc;
}

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "huggingface",
	.version = "1.0.0",
	.description = "Hugging Face Hub model listing: downloads, likes, tags, license, library",
	.default_url = "https://huggingface.co/api/models",
	.options = hf_options,
	.init = hf_init,
	.fetch = hf_fetch,
	.normalize = hf_normalize,
	.fini = hf_fini,
};
