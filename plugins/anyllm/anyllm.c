/*
 * anyllm: the models the admin's own API keys can call. One instance per
 * provider account:
 *
 *   [source openai]
 *   plugin = anyllm
 *   kind = openai            ; openai | openai-compatible | anthropic | gemini | mistral
 *   url = https://api.openai.com/v1/models
 *   api_key_env = OPENAI_API_KEY
 *
 * This file holds the lifecycle: options and the key (init), the paged
 * requests (fetch) and the dispatch of a page to its format's reader
 * (normalize). The readers live in one file per format.
 *
 * Keys: taken from the variable named by api_key_env (or the secret option
 * api_key, which the core accepts only from a private file), sent only in
 * a header flagged as a credential (the core sends those to the configured
 * origin only), never in a URL, never logged, and wiped in fini. An http(s)
 * instance whose key is missing reports itself disabled. file: URLs (a
 * saved listing of the admin's account) and auth = none (a local server
 * such as Ollama or vLLM) need no key.
 *
 * Every record is an offering of the `provider` option (default: the
 * instance name) marked callable: the listing is what this account, or
 * this keyless server, serves.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "anyllm.h"

static const char *const anyllm_kind_names[] = {
    [ANYLLM_OPENAI] = "openai",	      [ANYLLM_OPENAI_COMPATIBLE] = "openai-compatible",
    [ANYLLM_ANTHROPIC] = "anthropic", [ANYLLM_GEMINI] = "gemini",
    [ANYLLM_MISTRAL] = "mistral",
};
#define ANYLLM_N_KINDS (sizeof(anyllm_kind_names) / sizeof(anyllm_kind_names[0]))

/* What a url looks like for each kind, for the message of a missing url. */
static const char *const anyllm_example_urls[] = {
    [ANYLLM_OPENAI] = "https://api.openai.com/v1/models",
    [ANYLLM_OPENAI_COMPATIBLE] = "https://api.groq.com/openai/v1/models",
    [ANYLLM_ANTHROPIC] = "https://api.anthropic.com/v1/models",
    [ANYLLM_GEMINI] = "https://generativelanguage.googleapis.com/v1beta/models",
    [ANYLLM_MISTRAL] = "https://api.mistral.ai/v1/models",
};

static const struct mf_option anyllm_options[] = {
    {
	.name = "kind",
	.type = MF_OPT_STRING,
	.default_value = "openai",
	.help = "listing format: openai, openai-compatible, anthropic, gemini or mistral",
    },
    {
	.name = "provider",
	.type = MF_OPT_STRING,
	.help = "provider of the offerings, as models.dev spells it (default: the "
		"instance name)",
    },
    {
	.name = "api_key_env",
	.type = MF_OPT_STRING,
	.help = "environment variable holding the API key; unset: source disabled",
    },
    {
	.name = "api_key",
	.type = MF_OPT_STRING,
	.secret = true,
	.help = "the API key itself (only in a config file of mode 0600)",
    },
    {
	.name = "auth",
	.type = MF_OPT_STRING,
	.default_value = "key",
	.help = "key (send the API key) or none (a local server that needs no key)",
    },
    {
	.name = "anthropic_version",
	.type = MF_OPT_STRING,
	.default_value = "2023-06-01",
	.help = "anthropic-version header (kind = anthropic)",
    },
    {
	.name = "page_limit",
	.type = MF_OPT_INT,
	.default_value = "1000",
	.help = "models per page for paged kinds (anthropic, gemini), 1-1000; 0: the "
		"server's default",
    },
    {.name = NULL},
};

/* ---------------------------------------------------------------- init */

static void anyllm_free_state(struct anyllm_state *st)
{
	if (st == NULL)
		return;
	if (st->auth_value != NULL) {
		explicit_bzero(st->auth_value, st->auth_size);
		free(st->auth_value);
	}
	free(st->cursor);
	free(st);
}

static bool anyllm_is_loopback(const char *url)
{
	const char *host = strstr(url, "://");
	if (host == NULL)
		return false;
	host += 3;
	static const char *const loopback[] = {"localhost", "127.", "[::1]"};
	for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
		size_t n = strlen(loopback[i]);
		if (strncasecmp(host, loopback[i], n) == 0 &&
		    (loopback[i][n - 1] == '.' || host[n] == '\0' || host[n] == ':' ||
		     host[n] == '/'))
			return true;
	}
	return false;
}

/* Find the key and build the credential header. Returns MF_OK,
 * MF_EDISABLED (no key: logged) or an error. The key is only ever copied
 * into st->auth_value. */
static int anyllm_auth(const struct mf_host *host, struct mf_context *ctx, struct anyllm_state *st)
{
	const char *literal = host->option_string(ctx, "api_key");
	const char *var = host->option_string(ctx, "api_key_env");
	const char *key = NULL;
	const char *from = "api_key";
	if (literal != NULL && literal[0] != '\0') {
		key = literal;
	} else if (var == NULL || var[0] == '\0') {
		host->log(ctx, MF_LOG_INFO,
			  "no api_key_env is set (auth = none serves keyless local servers): "
			  "source disabled");
		return MF_EDISABLED;
	} else {
		key = getenv(var);
		from = var;
		if (key == NULL || key[0] == '\0') {
			host->log(ctx, MF_LOG_INFO,
				  "api key variable %s is not set: source disabled", var);
			return MF_EDISABLED;
		}
	}
	/* A key read from a file with $(cat ...) often ends in a newline. */
	while (isspace((unsigned char)*key))
		key++;
	size_t len = strlen(key);
	while (len > 0 && isspace((unsigned char)key[len - 1]))
		len--;
	if (len == 0) {
		host->log(ctx, MF_LOG_INFO, "api key in %s is blank: source disabled", from);
		return MF_EDISABLED;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)key[i];
		if (c < 0x20 || c == 0x7f) {
			host->log(ctx, MF_LOG_ERROR,
				  "api key in %s contains control characters and cannot be sent "
				  "in a header",
				  from);
			return MF_ERROR;
		}
	}

	bool bearer = st->kind != ANYLLM_ANTHROPIC && st->kind != ANYLLM_GEMINI;
	const char *prefix = bearer ? "Bearer " : "";
	st->auth_name = st->kind == ANYLLM_ANTHROPIC ? "x-api-key"
			: st->kind == ANYLLM_GEMINI  ? "x-goog-api-key"
						     : "Authorization";
	st->auth_size = strlen(prefix) + len + 1;
	st->auth_value = malloc(st->auth_size);
	if (st->auth_value == NULL)
		return MF_ENOMEM;
	memcpy(st->auth_value, prefix, strlen(prefix));
	memcpy(st->auth_value + strlen(prefix), key, len);
	st->auth_value[st->auth_size - 1] = '\0';

	if (strncasecmp(st->url, "http://", 7) == 0 && !anyllm_is_loopback(st->url))
		host->log(ctx, MF_LOG_WARNING, "the api key goes to %s over plain http; use https",
			  st->url);
	return MF_OK;
}

static int anyllm_init(const struct mf_host *host, struct mf_context *ctx, void **state)
{
	*state = NULL;
	const char *kind = host->option_string(ctx, "kind");
	size_t k = 0;
	while (k < ANYLLM_N_KINDS && (kind == NULL || strcmp(kind, anyllm_kind_names[k]) != 0))
		k++;
	if (k == ANYLLM_N_KINDS) {
		host->log(ctx, MF_LOG_ERROR,
			  "unknown kind '%.60s': expected openai, openai-compatible, anthropic, "
			  "gemini or mistral",
			  kind ? kind : "");
		return MF_ERROR;
	}
	const char *auth = host->option_string(ctx, "auth");
	bool use_key = auth == NULL || strcmp(auth, "key") == 0;
	if (!use_key && strcmp(auth, "none") != 0) {
		host->log(ctx, MF_LOG_ERROR, "unknown auth '%.60s': expected key or none", auth);
		return MF_ERROR;
	}
	const char *url = host->source_url(ctx);
	if (url == NULL || url[0] == '\0') {
		host->log(ctx, MF_LOG_ERROR,
			  "no url: the anyllm plugin has no default, set e.g. url = %s",
			  anyllm_example_urls[k]);
		return MF_ERROR;
	}
	int64_t page_limit = host->option_int(ctx, "page_limit");
	if (page_limit < 0 || page_limit > ANYLLM_MAX_PAGE_LIMIT) {
		host->log(ctx, MF_LOG_ERROR, "page_limit %lld is out of range: expected 0 to %d",
			  (long long)page_limit, ANYLLM_MAX_PAGE_LIMIT);
		return MF_ERROR;
	}
	const char *version = host->option_string(ctx, "anthropic_version");
	if (k == ANYLLM_ANTHROPIC &&
	    (version == NULL || version[0] == '\0' || strpbrk(version, "\r\n") != NULL)) {
		host->log(ctx, MF_LOG_ERROR, "anthropic_version must be a date such as 2023-06-01");
		return MF_ERROR;
	}
	const char *provider = host->option_string(ctx, "provider");
	if (provider == NULL || provider[0] == '\0')
		provider = host->instance_name(ctx);

	struct anyllm_state *st = calloc(1, sizeof(*st));
	if (st == NULL)
		return MF_ENOMEM;
	*st = (struct anyllm_state){
	    .kind = (enum anyllm_kind)k,
	    .provider = provider,
	    .url = url,
	    .file_url = strncasecmp(url, "file:", 5) == 0,
	    .anthropic_version = version,
	    .page_limit = page_limit,
	};
	/* A saved listing is read, not called: it needs no key. */
	if (use_key && !st->file_url) {
		int rc = anyllm_auth(host, ctx, st);
		if (rc != MF_OK) {
			anyllm_free_state(st);
			return rc;
		}
	}
	host->log(ctx, MF_LOG_DEBUG, "kind %s, provider %s, %s", anyllm_kind_names[k], provider,
		  st->auth_name ? "with an api key" : "without a key");
	*state = st;
	return MF_OK;
}

static void anyllm_fini(const struct mf_host *host, struct mf_context *ctx, void *state)
{
	(void)host;
	(void)ctx;
	anyllm_free_state(state);
}

/* ---------------------------------------------------------------- fetch */

/* Does the url's query already have parameter name? (An admin may have
 * put page size or filters into the url.) */
static bool anyllm_has_param(const char *url, const char *name)
{
	const char *q = strchr(url, '?');
	size_t n = strlen(name);
	while (q != NULL) {
		q++;
		if (strncmp(q, name, n) == 0 && (q[n] == '=' || q[n] == '&' || q[n] == '\0'))
			return true;
		q = strchr(q, '&');
	}
	return false;
}

/* Append "&name=value" (or "?...") with value percent-encoded. */
static int anyllm_add_param(char **url, size_t *len, size_t *cap, const char *name,
			    const char *value)
{
	size_t need = *len + strlen(name) + 3 * strlen(value) + 3;
	if (need > *cap) {
		char *grown = realloc(*url, need);
		if (grown == NULL)
			return MF_ENOMEM;
		*url = grown;
		*cap = need;
	}
	char *p = *url + *len;
	size_t left = *cap - *len;
	int n = snprintf(p, left, "%c%s=", strchr(*url, '?') ? '&' : '?', name);
	if (n < 0 || (size_t)n >= left)
		return MF_EINVAL;
	p += n;
	left -= (size_t)n;
	for (const unsigned char *c = (const unsigned char *)value; *c; c++) {
		if (isalnum(*c) || strchr("-._~", *c) != NULL)
			n = snprintf(p, left, "%c", *c);
		else
			n = snprintf(p, left, "%%%02X", *c);
		if (n < 0 || (size_t)n >= left)
			return MF_EINVAL;
		p += n;
		left -= (size_t)n;
	}
	*len = (size_t)(p - *url);
	return MF_OK;
}

/* The url of a page: the configured url, the page size, the cursor. */
static char *anyllm_page_url(const struct anyllm_state *st, const char *cursor_param,
			     const char *cursor)
{
	size_t len = strlen(st->url);
	size_t cap = len + 1;
	char *url = malloc(cap);
	if (url == NULL)
		return NULL;
	memcpy(url, st->url, cap);
	const char *size_param = st->kind == ANYLLM_ANTHROPIC ? "limit"
				 : st->kind == ANYLLM_GEMINI  ? "pageSize"
							      : NULL;
	int rc = MF_OK;
	if (size_param != NULL && st->page_limit > 0 && !anyllm_has_param(st->url, size_param)) {
		char digits[24];
		snprintf(digits, sizeof(digits), "%lld", (long long)st->page_limit);
		rc = anyllm_add_param(&url, &len, &cap, size_param, digits);
	}
	if (rc == MF_OK && cursor != NULL)
		rc = anyllm_add_param(&url, &len, &cap, cursor_param, cursor);
	if (rc != MF_OK) {
		free(url);
		return NULL;
	}
	return url;
}

/* The id of the last entry of data, for listings that page by it. */
static const char *anyllm_last_id(const json_t *root)
{
	const json_t *data = json_object_get(root, "data");
	const json_t *last = json_array_get(data, json_array_size(data) - 1);
	const json_t *id = json_object_get(last, "id");
	return json_is_string(id) && json_string_length(id) > 0 ? json_string_value(id) : NULL;
}

/*
 * Where the page after prev starts. Sets *cursor (owned by the caller) and
 * returns MF_OK, or MF_DONE on the last page, or an error (logged):
 *  - anthropic: while has_more is true, after_id = last_id (else the last
 *    entry's id);
 *  - gemini: pageToken = nextPageToken while there is one;
 *  - openai, openai-compatible: /v1/models is one page, but a server that
 *    says has_more gets the OpenAI list convention, after = last id;
 *  - mistral: one page (aliases are folded over the whole listing).
 */
static int anyllm_next_cursor(const struct mf_host *host, struct mf_context *ctx,
			      const struct anyllm_state *st, const struct mf_page *prev,
			      const char **param, char **cursor)
{
	*cursor = NULL;
	if (st->file_url || st->kind == ANYLLM_MISTRAL)
		return MF_DONE;
	json_error_t err;
	json_t *root = json_loadb(prev->data, prev->size, 0, &err);
	if (root == NULL || !json_is_object(root)) {
		host->log(ctx, MF_LOG_ERROR,
			  "page %u: cannot find the next page in what is not a "
			  "JSON object",
			  prev->index + 1);
		json_decref(root);
		return MF_EPARSE;
	}
	const char *next = NULL;
	int rc = MF_DONE;
	if (st->kind == ANYLLM_GEMINI) {
		*param = "pageToken";
		const json_t *token = json_object_get(root, "nextPageToken");
		if (json_is_string(token) && json_string_length(token) > 0)
			next = json_string_value(token);
		else if (token != NULL && !json_is_null(token) && !json_is_string(token))
			host->log(ctx, MF_LOG_WARNING,
				  "page %u: nextPageToken is %s; no more pages", prev->index + 1,
				  anyllm_type_name(token));
	} else {
		*param = st->kind == ANYLLM_ANTHROPIC ? "after_id" : "after";
		if (json_is_true(json_object_get(root, "has_more"))) {
			const json_t *last = json_object_get(root, "last_id");
			next = json_is_string(last) && json_string_length(last) > 0
				   ? json_string_value(last)
				   : anyllm_last_id(root);
			if (next == NULL) {
				host->log(ctx, MF_LOG_ERROR,
					  "page %u says has_more but names no last id: the listing "
					  "cannot be completed",
					  prev->index + 1);
				rc = MF_EPARSE;
			}
		}
	}
	if (next != NULL && strlen(next) > 4096) {
		host->log(ctx, MF_LOG_ERROR, "page %u: the next-page cursor is too long",
			  prev->index + 1);
		rc = MF_EPARSE;
	} else if (next != NULL && st->cursor != NULL && strcmp(next, st->cursor) == 0) {
		/* A server that ignores the cursor would page forever. */
		host->log(ctx, MF_LOG_ERROR,
			  "page %u points to itself again as the next page: stopping",
			  prev->index + 1);
		rc = MF_EPARSE;
	} else if (next != NULL) {
		*cursor = strdup(next);
		rc = *cursor ? MF_OK : MF_ENOMEM;
	}
	json_decref(root);
	return rc;
}

static int anyllm_fetch(const struct mf_host *host, struct mf_context *ctx, void *state,
			const struct mf_page *prev, struct mf_request *req)
{
	struct anyllm_state *st = state;
	if (st == NULL)
		return MF_EINVAL;
	const char *param = NULL;
	char *cursor = NULL;
	if (prev != NULL) {
		int rc = anyllm_next_cursor(host, ctx, st, prev, &param, &cursor);
		if (rc != MF_OK)
			return rc;
	} else {
		free(st->cursor);
		st->cursor = NULL;
	}

	/* file: URLs are read as they are: a query would be part of the path. */
	char *url = st->file_url ? strdup(st->url) : anyllm_page_url(st, param, cursor);
	free(st->cursor);
	st->cursor = cursor;
	if (url == NULL)
		return MF_ENOMEM;
	int rc = host->request_set_url(req, url);
	free(url);
	if (rc == MF_OK && st->auth_name != NULL)
		rc = host->request_add_header(req, st->auth_name, st->auth_value, true);
	if (rc == MF_OK && st->kind == ANYLLM_ANTHROPIC && !st->file_url)
		rc = host->request_add_header(req, "anthropic-version", st->anthropic_version,
					      false);
	return rc;
}

/* ---------------------------------------------------------------- normalize */

static int anyllm_normalize(const struct mf_host *host, struct mf_context *ctx, void *state,
			    const struct mf_page *page)
{
	const struct anyllm_state *st = state;
	if (st == NULL)
		return MF_EINVAL;
	json_t *root = anyllm_parse_page(host, ctx, page);
	if (root == NULL)
		return MF_EPARSE;

	struct anyllm_walk w = {.host = host, .ctx = ctx, .st = st, .rc = MF_OK};
	int rc;
	switch (st->kind) {
	case ANYLLM_ANTHROPIC:
		rc = anyllm_anthropic_page(&w, root);
		break;
	case ANYLLM_GEMINI:
		rc = anyllm_gemini_page(&w, root);
		break;
	case ANYLLM_MISTRAL:
		rc = anyllm_mistral_page(&w, root);
		break;
	default:
		rc = anyllm_openai_page(&w, root);
		break;
	}
	if (rc == MF_OK && w.rc != MF_OK)
		rc = w.rc;
	if (w.warnings > ANYLLM_MAX_WARNINGS)
		host->log(ctx, MF_LOG_WARNING, "%u more warnings on %s not shown",
			  w.warnings - ANYLLM_MAX_WARNINGS,
			  page->url != NULL ? page->url : "this page");
	json_decref(root);
	return rc;
}

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
    .abi_major = MF_ABI_MAJOR,
    .abi_minor = MF_ABI_MINOR,
    .struct_size = sizeof(struct mf_plugin),
    .name = "anyllm",
    .version = "1.0.0",
    .description = "the models an admin's own API keys can call (OpenAI, OpenAI-compatible, "
		   "Anthropic, Gemini, Mistral)",
    .default_url = NULL,
    .options = anyllm_options,
    .init = anyllm_init,
    .fetch = anyllm_fetch,
    .normalize = anyllm_normalize,
    .fini = anyllm_fini,
};
