/* The anyllm plugin: options, key handling, page planning and the four
 * listing formats, driven through the real host table and record code on
 * fixtures written in the upstream formats. The plugin is compiled into
 * this program, so its descriptor is called directly rather than loaded.
 * Pages are handed to fetch as synthetic struct mf_page values. */
#include "mf_build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "plugin_harness.h"
#include "testutil.h"

extern const struct mf_plugin modelfuse_plugin;

#define CANARY "sk-canary-XYZ-7f3c9a1e5b2d4c6f8a0b1c2d3e4f5a6b"
#define CANARY_VAR "ANYLLM_TEST_CANARY_KEY"
#define UNSET_VAR "ANYLLM_TEST_UNSET_KEY"

/* ------------------------------------------------------------ instances */

/* An instance keeps the log of every call made through these helpers, in
 * order, in in->log: the key must appear in none of them. */
static void log_append(char **log, char *text)
{
	size_t old = *log ? strlen(*log) : 0;
	size_t add = strlen(text);
	char *joined = realloc(*log, old + add + 1);
	CU_ASSERT_FATAL(joined != NULL);
	memcpy(joined + old, text, add + 1);
	*log = joined;
	free(text);
}

/* One configured instance of the plugin, after init. kv: option name,
 * value, ... NULL. url may be NULL (none configured). */
static void inst_open(struct ph_source *in, const char *name, const char *url,
		      const char *const *kv)
{
	ph_source_setup(in, &modelfuse_plugin, name, url, kv);
	char *text = NULL;
	ph_source_init(in, &text);
	log_append(&in->log, text);
}

static int inst_fetch(struct ph_source *in, const struct mf_page *prev, struct mf_request *req)
{
	request_init(req);
	struct ph_capture c;
	ph_capture_begin(&c);
	int rc = modelfuse_plugin.fetch(&host_table, &in->ctx, in->state, prev, req);
	log_append(&in->log, ph_capture_end(&c));
	return rc;
}

static int inst_normalize_bytes(struct ph_source *in, const char *data, size_t size)
{
	struct ph_capture c;
	ph_capture_begin(&c);
	int rc = ph_source_normalize(in, "https://api.example.test/v1/models", data, size);
	log_append(&in->log, ph_capture_end(&c));
	return rc;
}

static char *fixture(const char *name)
{
	char rel[256];
	snprintf(rel, sizeof(rel), "tests/fixtures/anyllm/%s", name);
	return ph_fixture(rel);
}

static int inst_normalize(struct ph_source *in, const char *name)
{
	char *data = fixture(name);
	int rc = inst_normalize_bytes(in, data, strlen(data));
	free(data);
	return rc;
}

/* ------------------------------------------------------------ requests */

static const struct http_header *header(const struct mf_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_headers; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return &req->headers[i];
	return NULL;
}

/* ------------------------------------------------------------ tests */

static const struct mf_option *option(const char *name)
{
	for (const struct mf_option *o = modelfuse_plugin.options; o && o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

static void test_descriptor(void)
{
	ph_expect_descriptor(&modelfuse_plugin, "anyllm");
	CU_ASSERT_PTR_NULL(modelfuse_plugin.default_url);
	CU_ASSERT_PTR_NOT_NULL(modelfuse_plugin.init);
	CU_ASSERT_PTR_NOT_NULL(modelfuse_plugin.fini);

	const struct mf_option *o = option("kind");
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_STRING_EQUAL(o->default_value, "openai");
	o = option("api_key");
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_TRUE(o->secret);
	CU_ASSERT_PTR_NULL(o->default_value);
	o = option("api_key_env");
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_FALSE(o->secret);
	CU_ASSERT_FALSE(o->required);
	o = option("auth");
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_STRING_EQUAL(o->default_value, "key");
	o = option("page_limit");
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_EQUAL(o->type, MF_OPT_INT);
	CU_ASSERT_PTR_NOT_NULL(option("provider"));
	CU_ASSERT_PTR_NOT_NULL(option("anthropic_version"));
	/* The core's check (unknown keys, types) runs against the declaration. */
	CU_ASSERT_PTR_NULL(option("key"));
}

static void test_init_refuses_bad_options(void)
{
	struct ph_source in;
	static const char *const bad_kind[] = {"kind", "claude", "auth", "none", NULL};
	inst_open(&in, "acme", "https://api.acme.test/v1/models", bad_kind);
	CU_ASSERT_EQUAL(in.init_rc, MF_ERROR);
	CU_ASSERT_PTR_NULL(in.state);
	CU_ASSERT_EQUAL(ph_count_lines(in.log,
				       "acme: error: unknown kind 'claude': expected openai, "
					    "openai-compatible, anthropic, gemini or mistral"),
			1);
	ph_source_free(&in);

	static const char *const bad_auth[] = {"auth", "token", NULL};
	inst_open(&in, "acme", "https://api.acme.test/v1/models", bad_auth);
	CU_ASSERT_EQUAL(in.init_rc, MF_ERROR);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "unknown auth 'token': expected key or none"), 1);
	ph_source_free(&in);

	/* No url configured, and the plugin has no default. */
	static const char *const gemini[] = {"kind", "gemini", "auth", "none", NULL};
	inst_open(&in, "google", NULL, gemini);
	CU_ASSERT_EQUAL(in.init_rc, MF_ERROR);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "no url: the anyllm plugin has no default, set e.g. "
					    "url = https://generativelanguage.googleapis.com/"
					    "v1beta/models"),
			1);
	ph_source_free(&in);

	static const char *const big_page[] = {"kind", "anthropic", "page_limit", "5000",
					       "auth", "none",	    NULL};
	inst_open(&in, "anthropic", "https://api.anthropic.com/v1/models", big_page);
	CU_ASSERT_EQUAL(in.init_rc, MF_ERROR);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "page_limit 5000 is out of range"), 1);
	ph_source_free(&in);

	static const char *const no_version[] = {
	    "kind", "anthropic", "anthropic_version", "", "auth", "none", NULL};
	inst_open(&in, "anthropic", "https://api.anthropic.com/v1/models", no_version);
	CU_ASSERT_EQUAL(in.init_rc, MF_ERROR);
	ph_source_free(&in);
}

static void test_disabled_without_key(void)
{
	unsetenv(UNSET_VAR);
	struct ph_source in;
	static const char *const unset[] = {"api_key_env", UNSET_VAR, NULL};
	inst_open(&in, "openai", "https://api.openai.com/v1/models", unset);
	CU_ASSERT_EQUAL(in.init_rc, MF_EDISABLED);
	CU_ASSERT_PTR_NULL(in.state);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "openai: api key variable " UNSET_VAR
					    " is not set: source disabled"),
			1);
	ph_source_free(&in);

	/* No variable named at all. */
	inst_open(&in, "openai", "https://api.openai.com/v1/models", NULL);
	CU_ASSERT_EQUAL(in.init_rc, MF_EDISABLED);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "no api_key_env is set"), 1);
	ph_source_free(&in);

	/* Set but empty, or blank, is as good as unset. */
	setenv(UNSET_VAR, "", 1);
	inst_open(&in, "openai", "https://api.openai.com/v1/models", unset);
	CU_ASSERT_EQUAL(in.init_rc, MF_EDISABLED);
	ph_source_free(&in);
	setenv(UNSET_VAR, " \n", 1);
	inst_open(&in, "openai", "https://api.openai.com/v1/models", unset);
	CU_ASSERT_EQUAL(in.init_rc, MF_EDISABLED);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "api key in " UNSET_VAR " is blank"), 1);
	ph_source_free(&in);
	unsetenv(UNSET_VAR);
}

static void test_file_url_needs_no_key(void)
{
	unsetenv(UNSET_VAR);
	struct ph_source in;
	static const char *const opts[] = {"kind", "anthropic", "api_key_env", UNSET_VAR, NULL};
	inst_open(&in, "anthropic", "file:///srv/saved/anthropic-models.json", opts);
	CU_ASSERT_EQUAL_FATAL(in.init_rc, MF_OK);

	struct mf_request req;
	CU_ASSERT_EQUAL(inst_fetch(&in, NULL, &req), MF_OK);
	CU_ASSERT_STRING_EQUAL(req.url, "file:///srv/saved/anthropic-models.json");
	CU_ASSERT_EQUAL(req.n_headers, 0);
	request_clear(&req);

	/* A saved page that says has_more is still the whole file. */
	char *data = fixture("anthropic-page1.json");
	struct mf_page page =
	    ph_page(0, "file:///srv/saved/anthropic-models.json", data, strlen(data));
	CU_ASSERT_EQUAL(inst_fetch(&in, &page, &req), MF_DONE);
	CU_ASSERT_PTR_NULL(req.url);
	request_clear(&req);
	free(data);

	CU_ASSERT_EQUAL(inst_normalize(&in, "anthropic-page1.json"), MF_OK);
	CU_ASSERT_EQUAL(in.records.count, 2);
	/* A saved listing of the admin's account is what the account calls. */
	CU_ASSERT(ph_bool_is(ph_find(&in.records, "claude-opus-5"), MF_FIELD_CALLABLE, true));
	ph_source_free(&in);
}

static void test_auth_none(void)
{
	struct ph_source in;
	static const char *const opts[] = {
	    "kind", "openai-compatible", "auth", "none", "provider", "ollama", NULL};
	inst_open(&in, "local", "http://localhost:11434/v1/models", opts);
	CU_ASSERT_EQUAL_FATAL(in.init_rc, MF_OK);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "warning"), 0);

	struct mf_request req;
	CU_ASSERT_EQUAL(inst_fetch(&in, NULL, &req), MF_OK);
	CU_ASSERT_STRING_EQUAL(req.url, "http://localhost:11434/v1/models");
	CU_ASSERT_EQUAL(req.n_headers, 0);
	request_clear(&req);

	static const char ollama[] =
	    "{\"object\":\"list\",\"data\":[{\"id\":\"llama3.1:latest\",\"object\":"
	    "\"model\",\"created\":1721000000,\"owned_by\":\"library\"},{\"id\":"
	    "\"qwen2.5:7b\",\"object\":\"model\",\"created\":1725000000,\"owned_by\":"
	    "\"library\"}]}";
	CU_ASSERT_EQUAL(inst_normalize_bytes(&in, ollama, sizeof(ollama) - 1), MF_OK);
	CU_ASSERT_EQUAL_FATAL(in.records.count, 2);
	const struct mf_record *rec = ph_find(&in.records, "llama3.1:latest");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_PROVIDER, "ollama"));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_CALLABLE, true));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_MOVING_POINTER, true));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_MAKER));
	bool b;
	CU_ASSERT_FALSE(record_get_bool(ph_find(&in.records, "qwen2.5:7b"), MF_FIELD_MOVING_POINTER,
					&b));
	ph_source_free(&in);
}

/* Plan the first page of one kind with the canary key and check where the
 * key went: only into the credential header. */
static void canary_first_page(const char *kind, const char *url, const char *auth_name,
			      const char *auth_value, const char *fixture_name, size_t records)
{
	struct ph_source in;
	const char *const opts[] = {"kind", kind, "api_key_env", CANARY_VAR, NULL};
	inst_open(&in, kind, url, opts);
	CU_ASSERT_EQUAL_FATAL(in.init_rc, MF_OK);

	struct mf_request req;
	CU_ASSERT_EQUAL(inst_fetch(&in, NULL, &req), MF_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req.url);
	CU_ASSERT_PTR_NULL(strstr(req.url, "sk-canary"));
	CU_ASSERT_PTR_NULL(strstr(req.url, "key="));
	const struct http_header *h = header(&req, auth_name);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_STRING_EQUAL(h->value, auth_value);
	CU_ASSERT_TRUE(h->is_auth);
	/* Exactly one header carries the key, and it is flagged. */
	for (size_t i = 0; i < req.n_headers; i++)
		if (strstr(req.headers[i].value, "sk-canary"))
			CU_ASSERT_TRUE(req.headers[i].is_auth && &req.headers[i] == h);
	if (strcmp(kind, "anthropic") == 0) {
		const struct http_header *v = header(&req, "anthropic-version");
		CU_ASSERT_PTR_NOT_NULL_FATAL(v);
		CU_ASSERT_STRING_EQUAL(v->value, "2023-06-01");
		CU_ASSERT_FALSE(v->is_auth);
		CU_ASSERT_EQUAL(req.n_headers, 2);
	} else {
		CU_ASSERT_EQUAL(req.n_headers, 1);
	}
	request_clear(&req);

	CU_ASSERT_EQUAL(inst_normalize(&in, fixture_name), MF_OK);
	CU_ASSERT_EQUAL(in.records.count, records);
	/* Errors and warnings must not leak it either. */
	CU_ASSERT_EQUAL(inst_normalize(&in, "malformed.json"), MF_EPARSE);
	CU_ASSERT_EQUAL(inst_normalize(&in, "broken-entries.json"),
			strcmp(kind, "gemini") == 0 ? MF_EPARSE : MF_OK);
	for (size_t i = 0; i < in.records.count; i++)
		CU_ASSERT_FALSE(ph_record_mentions(in.records.items[i], "sk-canary"));
	CU_ASSERT_PTR_NULL(strstr(in.log, "sk-canary"));
	CU_ASSERT_PTR_NULL(strstr(in.log, "XYZ-7f3c"));
	/* Something was logged, so the check above means something. */
	CU_ASSERT(strlen(in.log) > 0);
	ph_source_free(&in);
}

static void test_canary_key(void)
{
	/* Trailing blanks (a key read with $(cat file)) are not part of it. */
	setenv(CANARY_VAR, "  " CANARY "\n", 1);
	canary_first_page("openai", "https://api.openai.com/v1/models", "Authorization",
			  "Bearer " CANARY, "openai-models.json", 8);
	canary_first_page("openai-compatible", "https://api.x.ai/v1/models", "Authorization",
			  "Bearer " CANARY, "xai-models.json", 4);
	canary_first_page("mistral", "https://api.mistral.ai/v1/models", "Authorization",
			  "Bearer " CANARY, "mistral-models.json", 8);
	canary_first_page("anthropic", "https://api.anthropic.com/v1/models", "x-api-key", CANARY,
			  "anthropic-page1.json", 2);
	canary_first_page("gemini", "https://generativelanguage.googleapis.com/v1beta/models",
			  "x-goog-api-key", CANARY, "gemini-page1.json", 2);

	/* Plain http to another host: warned about, without the key. */
	struct ph_source in;
	static const char *const opts[] = {"kind", "openai-compatible", "api_key_env", CANARY_VAR,
					   NULL};
	inst_open(&in, "vllm", "http://gpu-box.lan:8000/v1/models", opts);
	CU_ASSERT_EQUAL(in.init_rc, MF_OK);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "warning: the api key goes to "
					    "http://gpu-box.lan:8000/v1/models over plain http"),
			1);
	CU_ASSERT_PTR_NULL(strstr(in.log, "sk-canary"));
	ph_source_free(&in);

	/* A key that cannot go into a header is refused, not quoted. */
	setenv(CANARY_VAR, CANARY "\r\nX-Injected: 1", 1);
	inst_open(&in, "openai", "https://api.openai.com/v1/models", opts);
	CU_ASSERT_EQUAL(in.init_rc, MF_ERROR);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "api key in " CANARY_VAR " contains control "
					    "characters"),
			1);
	CU_ASSERT_PTR_NULL(strstr(in.log, "sk-canary"));
	ph_source_free(&in);

	/* The literal secret option wins over the variable. */
	setenv(CANARY_VAR, CANARY, 1);
	static const char *const literal[] = {
	    "kind",	   "mistral",  "api_key", "sk-canary-literal-0000",
	    "api_key_env", CANARY_VAR, NULL};
	inst_open(&in, "mistral", "https://api.mistral.ai/v1/models", literal);
	CU_ASSERT_EQUAL_FATAL(in.init_rc, MF_OK);
	struct mf_request req;
	CU_ASSERT_EQUAL(inst_fetch(&in, NULL, &req), MF_OK);
	const struct http_header *h = header(&req, "Authorization");
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_STRING_EQUAL(h->value, "Bearer sk-canary-literal-0000");
	request_clear(&req);
	CU_ASSERT_PTR_NULL(strstr(in.log, "sk-canary"));
	ph_source_free(&in);
	unsetenv(CANARY_VAR);
}

/* Plan the page after data (a fixture) and return the planned URL. */
static char *next_url(struct ph_source *in, unsigned index, const char *name, int want_rc)
{
	char *data = fixture(name);
	struct mf_page page = ph_page(index, "https://example.test/prev", data, strlen(data));
	struct mf_request req;
	int rc = inst_fetch(in, &page, &req);
	CU_ASSERT_EQUAL(rc, want_rc);
	char *url = req.url ? strdup(req.url) : NULL;
	/* Every page carries the same headers as the first. */
	for (size_t i = 0; i < req.n_headers; i++)
		CU_ASSERT_EQUAL(req.headers[i].is_auth,
				strcmp(req.headers[i].name, "anthropic-version") != 0);
	request_clear(&req);
	free(data);
	return url;
}

static void test_anthropic_paging(void)
{
	setenv(CANARY_VAR, CANARY, 1);
	struct ph_source in;
	static const char *const opts[] = {"kind", "anthropic", "api_key_env", CANARY_VAR, NULL};
	inst_open(&in, "anthropic", "https://api.anthropic.com/v1/models", opts);
	CU_ASSERT_EQUAL_FATAL(in.init_rc, MF_OK);

	struct mf_request req;
	CU_ASSERT_EQUAL(inst_fetch(&in, NULL, &req), MF_OK);
	CU_ASSERT_STRING_EQUAL(req.url, "https://api.anthropic.com/v1/models?limit=1000");
	request_clear(&req);

	char *url = next_url(&in, 0, "anthropic-page1.json", MF_OK);
	CU_ASSERT_STRING_EQUAL(url, "https://api.anthropic.com/v1/models?limit=1000"
				    "&after_id=claude-3-5-haiku-20241022");
	free(url);
	/* Page 2 has no last_id: its last entry's id is the cursor. */
	url = next_url(&in, 1, "anthropic-page2.json", MF_OK);
	CU_ASSERT_STRING_EQUAL(url, "https://api.anthropic.com/v1/models?limit=1000"
				    "&after_id=claude-3-haiku-20240307");
	free(url);
	url = next_url(&in, 2, "anthropic-page3.json", MF_DONE);
	CU_ASSERT_PTR_NULL(url);

	CU_ASSERT_EQUAL(inst_normalize(&in, "anthropic-page1.json"), MF_OK);
	CU_ASSERT_EQUAL(inst_normalize(&in, "anthropic-page2.json"), MF_OK);
	CU_ASSERT_EQUAL(inst_normalize(&in, "anthropic-page3.json"), MF_OK);
	CU_ASSERT_EQUAL(in.records.count, 5);

	/* A server that ignores the cursor would page forever. */
	url = next_url(&in, 0, "anthropic-page1.json", MF_OK);
	free(url);
	url = next_url(&in, 1, "anthropic-page1.json", MF_EPARSE);
	CU_ASSERT_PTR_NULL(url);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "points to itself again"), 1);

	/* has_more without any id to continue from cannot be completed. */
	static const char lost[] = "{\"data\":[],\"has_more\":true}";
	struct mf_page page = ph_page(3, "https://example.test/prev", lost, sizeof(lost) - 1);
	CU_ASSERT_EQUAL(inst_fetch(&in, &page, &req), MF_EPARSE);
	request_clear(&req);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "page 4 says has_more but names no last id"), 1);
	CU_ASSERT_PTR_NULL(strstr(in.log, "sk-canary"));
	ph_source_free(&in);

	/* The configured query is kept; a configured page size wins. */
	static const char *const sized[] = {"kind",	  "anthropic", "api_key_env", CANARY_VAR,
					    "page_limit", "0",	       NULL};
	inst_open(&in, "anthropic", "https://proxy.test/anthropic/v1/models?beta=true", sized);
	CU_ASSERT_EQUAL_FATAL(in.init_rc, MF_OK);
	CU_ASSERT_EQUAL(inst_fetch(&in, NULL, &req), MF_OK);
	CU_ASSERT_STRING_EQUAL(req.url, "https://proxy.test/anthropic/v1/models?beta=true");
	request_clear(&req);
	url = next_url(&in, 0, "anthropic-page1.json", MF_OK);
	CU_ASSERT_STRING_EQUAL(url, "https://proxy.test/anthropic/v1/models?beta=true"
				    "&after_id=claude-3-5-haiku-20241022");
	free(url);
	ph_source_free(&in);

	inst_open(&in, "anthropic", "https://api.anthropic.com/v1/models?limit=50", opts);
	CU_ASSERT_EQUAL_FATAL(in.init_rc, MF_OK);
	CU_ASSERT_EQUAL(inst_fetch(&in, NULL, &req), MF_OK);
	CU_ASSERT_STRING_EQUAL(req.url, "https://api.anthropic.com/v1/models?limit=50");
	request_clear(&req);
	ph_source_free(&in);
	unsetenv(CANARY_VAR);
}

static void test_gemini_paging(void)
{
	setenv(CANARY_VAR, CANARY, 1);
	struct ph_source in;
	static const char *const opts[] = {"kind",     "gemini",     "api_key_env",
					   CANARY_VAR, "page_limit", "50",
					   "provider", "google",     NULL};
	inst_open(&in, "gemini", "https://generativelanguage.googleapis.com/v1beta/models", opts);
	CU_ASSERT_EQUAL_FATAL(in.init_rc, MF_OK);

	struct mf_request req;
	CU_ASSERT_EQUAL(inst_fetch(&in, NULL, &req), MF_OK);
	CU_ASSERT_STRING_EQUAL(
	    req.url, "https://generativelanguage.googleapis.com/v1beta/models?pageSize=50");
	const struct http_header *h = header(&req, "x-goog-api-key");
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_TRUE(h->is_auth);
	request_clear(&req);

	/* The token is percent-encoded: '+', '/' and '=' are not literal. */
	char *url = next_url(&in, 0, "gemini-page1.json", MF_OK);
	CU_ASSERT_STRING_EQUAL(url, "https://generativelanguage.googleapis.com/v1beta/models"
				    "?pageSize=50&pageToken=Cg5nZW1pbmktMi4wLWZsYXNo%2B%2F%3D");
	free(url);
	url = next_url(&in, 1, "gemini-page2.json", MF_OK);
	CU_ASSERT_STRING_EQUAL(url, "https://generativelanguage.googleapis.com/v1beta/models"
				    "?pageSize=50&pageToken=page-3");
	CU_ASSERT_PTR_NULL(strstr(url, "key="));
	free(url);
	url = next_url(&in, 2, "gemini-page3.json", MF_DONE);
	CU_ASSERT_PTR_NULL(url);

	CU_ASSERT_EQUAL(inst_normalize(&in, "gemini-page1.json"), MF_OK);
	CU_ASSERT_EQUAL(inst_normalize(&in, "gemini-page2.json"), MF_OK);
	CU_ASSERT_EQUAL(inst_normalize(&in, "gemini-page3.json"), MF_OK);
	CU_ASSERT_EQUAL(in.records.count, 7);
	CU_ASSERT(ph_string_is(ph_find(&in.records, "aqa"), MF_FIELD_PROVIDER, "google"));

	/* An empty token is the end too. */
	static const char empty[] = "{\"models\":[],\"nextPageToken\":\"\"}";
	struct mf_page page = ph_page(3, "https://example.test/prev", empty, sizeof(empty) - 1);
	CU_ASSERT_EQUAL(inst_fetch(&in, &page, &req), MF_DONE);
	request_clear(&req);
	ph_source_free(&in);
	unsetenv(CANARY_VAR);
}

static void test_openai_fields(void)
{
	struct ph_source in;
	static const char *const opts[] = {"auth", "none", NULL};
	inst_open(&in, "openai", "https://api.openai.com/v1/models", opts);
	CU_ASSERT_EQUAL_FATAL(in.init_rc, MF_OK);
	CU_ASSERT_EQUAL(inst_normalize(&in, "openai-models.json"), MF_OK);
	CU_ASSERT_EQUAL(in.records.count, 8);
	CU_ASSERT_EQUAL(in.ctx.rejected, 0);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "warning"), 0);
	for (size_t i = 0; i < in.records.count; i++) {
		const struct mf_record *rec = in.records.items[i];
		CU_ASSERT_EQUAL(rec->kind, MF_RECORD_OFFERING);
		CU_ASSERT(ph_string_is(rec, MF_FIELD_PROVIDER, "openai"));
		CU_ASSERT(ph_bool_is(rec, MF_FIELD_CALLABLE, true));
		CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_SOURCE_KEY));
	}
	const struct mf_record *rec = ph_find(&in.records, "gpt-4o-2024-08-06");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_CREATED, "2024-08-04T23:38:39Z"));
	/* "system" is OpenAI's account kind, not a maker. */
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_MAKER));
	CU_ASSERT_PTR_NULL(record_get_string(ph_find(&in.records, "whisper-1"), MF_FIELD_MAKER));
	CU_ASSERT_PTR_NULL(record_get_string(ph_find(&in.records,
						     "ft:gpt-4o-mini-2024-07-18:acme::B1x2y3z4"),
					     MF_FIELD_MAKER));
	CU_ASSERT(ph_string_is(ph_find(&in.records, "text-embedding-3-small"), MF_FIELD_MAKER,
			       "openai"));
	CU_ASSERT(ph_bool_is(ph_find(&in.records, "chatgpt-4o-latest"), MF_FIELD_MOVING_POINTER,
			     true));
	bool b;
	CU_ASSERT_FALSE(record_get_bool(ph_find(&in.records, "gpt-4o"), MF_FIELD_MOVING_POINTER,
					&b));

	/* /v1/models is one page. */
	char *url = next_url(&in, 0, "openai-models.json", MF_DONE);
	CU_ASSERT_PTR_NULL(url);
	/* A compatible server that pages the OpenAI way is followed. */
	static const char paged[] = "{\"object\":\"list\",\"data\":[{\"id\":\"m-1\"},{\"id\":"
				    "\"m/2 x\"}],\"has_more\":true}";
	struct mf_page page = ph_page(0, "https://example.test/prev", paged, sizeof(paged) - 1);
	struct mf_request req;
	CU_ASSERT_EQUAL(inst_fetch(&in, &page, &req), MF_OK);
	CU_ASSERT_STRING_EQUAL(req.url, "https://api.openai.com/v1/models?after=m%2F2%20x");
	request_clear(&req);

	/* A bare array of entries is read too. */
	static const char bare[] = "[{\"id\":\"a-model\",\"owned_by\":\"acme\"}]";
	CU_ASSERT_EQUAL(inst_normalize_bytes(&in, bare, sizeof(bare) - 1), MF_OK);
	CU_ASSERT(ph_string_is(ph_find(&in.records, "a-model"), MF_FIELD_MAKER, "acme"));
	ph_source_free(&in);
}

static void test_groq_fields(void)
{
	struct ph_source in;
	static const char *const opts[] = {
	    "kind", "openai-compatible", "provider", "groq", "auth", "none", NULL};
	inst_open(&in, "groq-team", "https://api.groq.com/openai/v1/models", opts);
	CU_ASSERT_EQUAL_FATAL(in.init_rc, MF_OK);
	CU_ASSERT_EQUAL(inst_normalize(&in, "groq-models.json"), MF_OK);
	CU_ASSERT_EQUAL(in.records.count, 3);
	const struct mf_record *rec = ph_find(&in.records, "llama-3.3-70b-versatile");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_PROVIDER, "groq"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "Meta"));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_CONTEXT_TOKENS, 131072));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_MAX_OUTPUT_TOKENS, 32768));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_CREATED, "2024-12-06T01:15:54Z"));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_STATUS));
	rec = ph_find(&in.records, "mixtral-8x7b-32768");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_STATUS, "inactive"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "Mistral AI"));
	CU_ASSERT(ph_int_is(ph_find(&in.records, "whisper-large-v3"), MF_FIELD_CONTEXT_TOKENS,
			    448));
	ph_source_free(&in);
}

static void test_xai_prices(void)
{
	struct ph_source in;
	static const char *const opts[] = {"kind", "openai-compatible", "auth", "none", NULL};
	inst_open(&in, "xai", "https://api.x.ai/v1/models", opts);
	CU_ASSERT_EQUAL_FATAL(in.init_rc, MF_OK);
	CU_ASSERT_EQUAL(inst_normalize(&in, "xai-models.json"), MF_OK);
	CU_ASSERT_EQUAL(in.records.count, 4);

	/* 1/10,000 USD per 1M tokens: 30000 is USD 3 per 1M. */
	const struct mf_record *rec = ph_find(&in.records, "grok-4-0709");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_price_is(rec, "input", 3));
	CU_ASSERT(ph_price_is(rec, "output", 15));
	CU_ASSERT(ph_price_is(rec, "cache_read", 0.75));
	CU_ASSERT(ph_price_is(rec, "input_image", 3));
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 4);
	static const char *const aliases[] = {"grok-4", "grok-4-latest"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_ALIASES, aliases, 2));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_CONTEXT_TOKENS, 256000));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "xai"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_CREATED, "2025-07-09T00:00:00Z"));

	/* Long-context prices are their own tier, named by the threshold. */
	rec = ph_find(&in.records, "grok-4.20-0309-reasoning");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_price_is(rec, "input", 1.25));
	CU_ASSERT(ph_price_is(rec, "output", 2.5));
	CU_ASSERT(ph_price_is(rec, "cache_read", 0.2));
	CU_ASSERT(ph_price_is(rec, "input_image", 1.25));
	CU_ASSERT(ph_price_is(rec, "context_over_200k.input", 2.5));
	CU_ASSERT(ph_price_is(rec, "context_over_200k.output", 5));
	CU_ASSERT(ph_price_is(rec, "context_over_200k.cache_read", 0.4));
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 7);

	/* Images: USD 1e-10 per unit, 200000000 is USD 0.02 per image. */
	rec = ph_find(&in.records, "grok-imagine-image");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_price_is(rec, "image", 0.02));
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 1);

	/* Wrong prices are skipped one by one; an unknown kind keeps xAI's
	 * own name. */
	rec = ph_find(&in.records, "grok-odd-prices");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_price_is(rec, "search", 0.025));
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 1);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "grok-odd-prices: completion_text_token_price is a "
					    "string"),
			1);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "grok-odd-prices: prompt_text_token_price is "
					    "negative"),
			1);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "warning"), 2);
	ph_source_free(&in);
}

static void test_zenmux_fields(void)
{
	struct ph_source in;
	static const char *const opts[] = {"kind", "openai-compatible", "auth", "none", NULL};
	inst_open(&in, "zenmux", "https://zenmux.ai/api/v1/models", opts);
	CU_ASSERT_EQUAL_FATAL(in.init_rc, MF_OK);
	CU_ASSERT_EQUAL(inst_normalize(&in, "zenmux-models.json"), MF_OK);
	CU_ASSERT_EQUAL(in.records.count, 5);

	const struct mf_record *rec = ph_find(&in.records, "qwen/qwen3.8-max");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_NAME, "Qwen: Qwen3.8-Max"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "qwen"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_RELEASE_DATE, "2026-08-03"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_CREATED, "2026-08-03T07:46:38Z"));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_CONTEXT_TOKENS, 1000000));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_REASONING, true));
	static const char *const reasoning[] = {"reasoning"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_CAPABILITIES, reasoning, 1));
	static const char *const text[] = {"text"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_INPUT_MODALITIES, text, 1));
	CU_ASSERT(ph_list_is(rec, MF_FIELD_OUTPUT_MODALITIES, text, 1));
	/* USD only (the CNY price is not converted); the first of two
	 * unconditioned prices wins; per-call prices keep their kind. */
	CU_ASSERT(ph_price_is(rec, "input", 2));
	CU_ASSERT(ph_price_is(rec, "output", 6));
	CU_ASSERT(ph_price_is(rec, "cache_read", 0.17));
	CU_ASSERT(ph_price_is(rec, "web_search", 0.01));
	/* Beside a plain cache write, the 5-minute one keeps its own name. */
	CU_ASSERT(ph_price_is(rec, "cache_write", 2.5));
	CU_ASSERT(ph_price_is(rec, "cache_write_5m", 2.6));
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 6);

	/* Prompt-size tiers; a price conditioned on output size has no place. */
	rec = ph_find(&in.records, "qwen/qwen3.7-flash");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_price_is(rec, "output", 0.13));
	CU_ASSERT(ph_price_is(rec, "context_over_32k.output", 0.4));
	CU_ASSERT(ph_price_is(rec, "context_over_256k.output", 0.8));
	CU_ASSERT(ph_price_is(rec, "input", 0.05));
	CU_ASSERT(ph_price_is(rec, "context_over_32k.input", 0.2));
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 5);
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_REASONING, false));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_CAPABILITIES));
	static const char *const tiv[] = {"text", "image", "video"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_INPUT_MODALITIES, tiv, 3));

	rec = ph_find(&in.records, "openai/gpt-audio");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_price_is(rec, "input_audio_per_second", 3.5e-05));
	CU_ASSERT(ph_price_is(rec, "input", 2.5));
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 2);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "openai/gpt-audio: pricings.completion[0]: unit "
					    "perFortnight is not known"),
			1);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "openai"));

	/* Alone, the 5-minute cache write is the cache write. */
	rec = ph_find(&in.records, "anthropic/claude-sonnet-4.5");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_price_is(rec, "cache_write", 3.75));
	CU_ASSERT(ph_price_is(rec, "cache_write_1h", 6));
	CU_ASSERT(ph_price_is(rec, "cache_read", 0.3));
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 5);

	rec = ph_find(&in.records, "inclusionai/ling-2.6-flash");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_PTR_NULL(record_get_map(rec, MF_FIELD_PRICE));
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "warning"), 1);
	ph_source_free(&in);
}

static void test_anthropic_fields(void)
{
	struct ph_source in;
	static const char *const opts[] = {"kind", "anthropic", "auth", "none", NULL};
	inst_open(&in, "anthropic", "https://api.anthropic.com/v1/models", opts);
	CU_ASSERT_EQUAL_FATAL(in.init_rc, MF_OK);
	CU_ASSERT_EQUAL(inst_normalize(&in, "anthropic-page1.json"), MF_OK);
	CU_ASSERT_EQUAL(inst_normalize(&in, "anthropic-page2.json"), MF_OK);
	CU_ASSERT_EQUAL(in.records.count, 4);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "warning"), 0);

	const struct mf_record *rec = ph_find(&in.records, "claude-opus-5");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_NAME, "Claude Opus 5"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_CREATED, "2026-07-24T00:00:00Z"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_RELEASE_DATE, "2026-07-24"));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_CONTEXT_TOKENS, 1000000));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_MAX_INPUT_TOKENS, 1000000));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_MAX_OUTPUT_TOKENS, 128000));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_REASONING, true));
	static const char *const supported[] = {
		"batch",
		"citations",
		"effort",
		"effort.high",
		"effort.low",
		"vision",
		"pdf",
		"structured_outputs",
		"thinking",
		"thinking.adaptive",
	};
	for (size_t i = 0; i < sizeof(supported) / sizeof(supported[0]); i++)
		CU_ASSERT(ph_list_has(rec, MF_FIELD_CAPABILITIES, supported[i]));
	CU_ASSERT_EQUAL(ph_list_count(rec, MF_FIELD_CAPABILITIES), 10);
	CU_ASSERT_FALSE(ph_list_has(rec, MF_FIELD_CAPABILITIES, "code_execution"));
	CU_ASSERT_FALSE(ph_list_has(rec, MF_FIELD_CAPABILITIES, "thinking.enabled"));
	static const char *const in_mod[] = {"text", "image", "pdf"};
	static const char *const text[] = {"text"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_INPUT_MODALITIES, in_mod, 3));
	CU_ASSERT(ph_list_is(rec, MF_FIELD_OUTPUT_MODALITIES, text, 1));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_MAKER));

	/* Unsupported features bring none of their sub-features. */
	rec = ph_find(&in.records, "claude-3-5-haiku-20241022");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_REASONING, false));
	static const char *const batch[] = {"batch"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_CAPABILITIES, batch, 1));
	CU_ASSERT(ph_list_is(rec, MF_FIELD_INPUT_MODALITIES, text, 1));

	/* The older listing: no limits, no capabilities. */
	rec = ph_find(&in.records, "claude-3-5-sonnet-20240620");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_RELEASE_DATE, "2024-06-20"));
	int64_t v;
	CU_ASSERT_FALSE(record_get_int(rec, MF_FIELD_CONTEXT_TOKENS, &v));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_INPUT_MODALITIES));
	bool b;
	CU_ASSERT_FALSE(record_get_bool(rec, MF_FIELD_REASONING, &b));

	/* The epoch is Anthropic's "release date unknown". */
	rec = ph_find(&in.records, "claude-3-haiku-20240307");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_RELEASE_DATE));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_CREATED));
	ph_source_free(&in);
}

static void test_gemini_fields(void)
{
	struct ph_source in;
	static const char *const opts[] = {"kind",     "gemini", "auth", "none",
					   "provider", "google", NULL};
	inst_open(&in, "gemini", "https://generativelanguage.googleapis.com/v1beta/models", opts);
	CU_ASSERT_EQUAL_FATAL(in.init_rc, MF_OK);
	CU_ASSERT_EQUAL(inst_normalize(&in, "gemini-page1.json"), MF_OK);
	CU_ASSERT_EQUAL(inst_normalize(&in, "gemini-page2.json"), MF_OK);
	CU_ASSERT_EQUAL(inst_normalize(&in, "gemini-page3.json"), MF_OK);
	CU_ASSERT_EQUAL(in.records.count, 7);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "warning"), 0);

	const struct mf_record *rec = ph_find(&in.records, "gemini-2.5-pro");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_SOURCE_KEY, "models/gemini-2.5-pro"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_VERSION, "2.5"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_NAME, "Gemini 2.5 Pro"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_PROVIDER, "google"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MODE, "chat"));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_CONTEXT_TOKENS, 1048576));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_MAX_INPUT_TOKENS, 1048576));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_MAX_OUTPUT_TOKENS, 65536));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_REASONING, true));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_TEMPERATURE, true));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_CALLABLE, true));
	static const char *const caps[] = {"thinking", "caching", "batch"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_CAPABILITIES, caps, 3));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_TAGS));

	rec = ph_find(&in.records, "gemini-2.0-flash");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	bool b;
	CU_ASSERT_FALSE(record_get_bool(rec, MF_FIELD_REASONING, &b));

	/* Not chat: the methods are tags, the mode follows them. */
	rec = ph_find(&in.records, "gemini-embedding-001");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MODE, "embedding"));
	static const char *const methods[] = {"method:embedContent", "method:countTextTokens",
					      "method:countTokens",
					      "method:asyncBatchEmbedContent"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_TAGS, methods, 4));
	CU_ASSERT(
	    ph_string_is(ph_find(&in.records, "imagen-4.0-generate-001"), MF_FIELD_MODE,
			 "image_generation"));
	rec = ph_find(&in.records, "aqa");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_MODE));
	CU_ASSERT(ph_list_has(rec, MF_FIELD_TAGS, "method:generateAnswer"));
	rec = ph_find(&in.records, "gemini-2.5-flash-live-preview");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MODE, "realtime"));
	CU_ASSERT(ph_list_has(rec, MF_FIELD_CAPABILITIES, "live"));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_REASONING, false));
	CU_ASSERT(ph_bool_is(ph_find(&in.records, "gemini-flash-latest"), MF_FIELD_MOVING_POINTER,
			     true));

	/* An empty page is empty (Google leaves empty lists out); a page of
	 * another format is not a Gemini page. */
	CU_ASSERT_EQUAL(inst_normalize_bytes(&in, "{}", 2), MF_OK);
	static const char other[] = "{\"object\":\"list\",\"data\":[]}";
	CU_ASSERT_EQUAL(inst_normalize_bytes(&in, other, sizeof(other) - 1), MF_EPARSE);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "no \"models\" array"), 1);
	/* "models/" alone names nothing. */
	static const char bare[] =
	    "{\"models\":[{\"name\":\"models/\"},{\"name\":\"tunedModels/x\"}]}";
	CU_ASSERT_EQUAL(inst_normalize_bytes(&in, bare, sizeof(bare) - 1), MF_OK);
	CU_ASSERT_EQUAL(in.ctx.rejected, 1);
	rec = ph_find(&in.records, "tunedModels/x");
	CU_ASSERT_PTR_NOT_NULL(rec);
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_SOURCE_KEY));
	ph_source_free(&in);
}

static void test_mistral_folding(void)
{
	struct ph_source in;
	static const char *const opts[] = {"kind", "mistral", "auth", "none", NULL};
	inst_open(&in, "mistral", "https://api.mistral.ai/v1/models", opts);
	CU_ASSERT_EQUAL_FATAL(in.init_rc, MF_OK);
	CU_ASSERT_EQUAL(inst_normalize(&in, "mistral-models.json"), MF_OK);
	CU_ASSERT_EQUAL(in.records.count, 8);
	CU_ASSERT_EQUAL(in.ctx.rejected, 1);
	CU_ASSERT_EQUAL(ph_count_lines(in.log,
				       "entry #14 is a string, expected an object; dropped"),
			1);

	/* The entry whose id is Mistral's name is kept, even listed second. */
	const struct mf_record *rec = ph_find(&in.records, "mistral-large-2411");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	static const char *const large[] = {"mistral-large-latest"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_ALIASES, large, 1));
	CU_ASSERT_PTR_NULL(ph_find(&in.records, "mistral-large-latest"));

	/* ... even when dated members exist. */
	rec = ph_find(&in.records, "open-mistral-nemo");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	static const char *const nemo[] = {"open-mistral-nemo-2407", "mistral-tiny-2407",
					   "mistral-tiny-latest"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_ALIASES, nemo, 3));
	CU_ASSERT_PTR_NULL(ph_find(&in.records, "open-mistral-nemo-2407"));

	/* No id equals the name: the dated one; aliases that are no entry
	 * stay aliases. */
	rec = ph_find(&in.records, "codestral-2501");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	static const char *const codestral[] = {"codestral-latest", "codestral-2412"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_ALIASES, codestral, 2));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MODE, "chat"));
	CU_ASSERT(ph_list_has(rec, MF_FIELD_CAPABILITIES, "completion_fim"));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_CONTEXT_TOKENS, 256000));
	CU_ASSERT_PTR_NULL(ph_find(&in.records, "codestral-latest"));

	/* A one-sided mention folds nothing. */
	rec = ph_find(&in.records, "pixtral-12b-2409");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	static const char *const pixtral[] = {"pixtral-12b"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_ALIASES, pixtral, 1));
	static const char *const vision[] = {"text", "image"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_INPUT_MODALITIES, vision, 2));
	CU_ASSERT(ph_list_has(rec, MF_FIELD_CAPABILITIES, "vision"));
	CU_ASSERT_PTR_NOT_NULL(ph_find(&in.records, "pixtral-12b"));

	/* Every id of the listing is an offering or an alias of one. */
	static const char *const ids[] = {
	    "mistral-large-latest",
	    "mistral-large-2411",
	    "open-mistral-nemo-2407",
	    "open-mistral-nemo",
	    "mistral-tiny-2407",
	    "mistral-tiny-latest",
	    "codestral-latest",
	    "codestral-2501",
	    "pixtral-12b-2409",
	    "pixtral-12b",
	    "mistral-small-2402",
	    "mistral-embed",
	    "ft:open-mistral-7b:6f2e4c1a:20250101:b7d9e0f3",
	};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		bool seen = ph_find(&in.records, ids[i]) != NULL;
		for (size_t r = 0; r < in.records.count && !seen; r++)
			seen = ph_list_has(in.records.items[r], MF_FIELD_ALIASES, ids[i]);
		CU_ASSERT(seen);
		if (!seen)
			fprintf(stderr, "lost id %s\n", ids[i]);
	}
	for (size_t r = 0; r < in.records.count; r++) {
		rec = in.records.items[r];
		CU_ASSERT_FALSE(ph_list_has(rec, MF_FIELD_ALIASES, rec->native_id));
	}

	rec = ph_find(&in.records, "mistral-large-2411");
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MODE, "chat"));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_TOOL_CALL, true));
	CU_ASSERT(ph_list_has(rec, MF_FIELD_CAPABILITIES, "tools"));
	CU_ASSERT(ph_list_has(rec, MF_FIELD_CAPABILITIES, "fine_tuning"));
	CU_ASSERT_FALSE(ph_list_has(rec, MF_FIELD_CAPABILITIES, "vision"));
	static const char *const text[] = {"text"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_INPUT_MODALITIES, text, 1));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "mistralai"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_DESCRIPTION,
			    "Official mistral-large-2411 Mistral AI "
			    "model"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_CREATED, "2025-05-23T17:34:52Z"));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_STATUS));

	rec = ph_find(&in.records, "mistral-small-2402");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_DEPRECATION_DATE, "2025-06-30"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_STATUS, "deprecated"));

	rec = ph_find(&in.records, "mistral-embed");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_MODE));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_TOOL_CALL, false));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_INPUT_MODALITIES));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_ALIASES));

	/* A fine-tune belongs to an organization, not a maker. */
	rec = ph_find(&in.records, "ft:open-mistral-7b:6f2e4c1a:20250101:b7d9e0f3");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_list_has(rec, MF_FIELD_TAGS, "fine-tuned"));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_MAKER));

	/* One page: nothing follows. */
	char *url = next_url(&in, 0, "mistral-models.json", MF_DONE);
	CU_ASSERT_PTR_NULL(url);
	ph_source_free(&in);
}

/* Hundreds of entries naming each other: one offering, every id kept, and
 * no quadratic blow-up in the index. */
static void test_mistral_big_group(void)
{
	enum { N = 300 };
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("{\"object\":\"list\",\"data\":[", f);
	for (int i = 0; i < N; i++) {
		fprintf(f, "%s{\"id\":\"m-%d\",\"name\":\"m-%d\",\"aliases\":[", i ? "," : "", i,
			N - 1);
		for (int j = 0, first = 1; j < N; j++) {
			if (j == i)
				continue;
			fprintf(f, "%s\"m-%d\"", first ? "" : ",", j);
			first = 0;
		}
		fputs("]}", f);
	}
	fputs("]}", f);
	fclose(f);

	struct ph_source in;
	static const char *const opts[] = {"kind", "mistral", "auth", "none", NULL};
	inst_open(&in, "mistral", "https://api.mistral.ai/v1/models", opts);
	CU_ASSERT_EQUAL_FATAL(in.init_rc, MF_OK);
	CU_ASSERT_EQUAL(inst_normalize_bytes(&in, page, len), MF_OK);
	free(page);
	CU_ASSERT_EQUAL_FATAL(in.records.count, 1);
	char want[16];
	snprintf(want, sizeof(want), "m-%d", N - 1);
	const struct mf_record *rec = in.records.items[0];
	CU_ASSERT_STRING_EQUAL(rec->native_id, want);
	CU_ASSERT_EQUAL(ph_list_count(rec, MF_FIELD_ALIASES), N - 1);
	ph_source_free(&in);
}

static void test_broken_entries(void)
{
	struct ph_source in;
	static const char *const opts[] = {"kind", "openai-compatible", "auth", "none", NULL};
	inst_open(&in, "acme", "https://api.acme.test/v1/models", opts);
	CU_ASSERT_EQUAL_FATAL(in.init_rc, MF_OK);
	CU_ASSERT_EQUAL(inst_normalize(&in, "broken-entries.json"), MF_OK);
	CU_ASSERT_EQUAL(in.records.count, 3);
	/* Entries without a usable id: dropped and counted by the core. */
	CU_ASSERT_EQUAL(in.ctx.rejected, 4);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "entry #2 is an integer"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "entry #3 has no id"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "entry #4 has an empty or broken id"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "entry #5 has an integer id"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "has no id: dropped"), 4);

	const struct mf_record *rec = ph_find(&in.records, "typo-model");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	static const char *const problems[] = {
	    "created is a string",
	    "owned_by is an array",
	    "display_name is an integer",
	    "context_length is a string",
	    "max_completion_tokens is -1, negative",
	    "aliases is a string",
	    "input_modalities[1] is an integer",
	    "input_modalities[2] is an empty or broken string",
	    "active is a string",
	    "capabilities.vision is a string",
	    "publish_time 'last week' is not an ISO 8601 date",
	    "pricings.prompt is an object",
	};
	for (size_t i = 0; i < sizeof(problems) / sizeof(problems[0]); i++) {
		char line[160];
		snprintf(line, sizeof(line), "typo-model: %s", problems[i]);
		CU_ASSERT_EQUAL(ph_count_lines(in.log, line), 1);
		if (ph_count_lines(in.log, line) != 1)
			fprintf(stderr, "missing warning: %s\n", line);
	}
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "typo-model: "), 12);
	/* The well-typed parts of a bad entry survive. */
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_TOOL_CALL, true));
	static const char *const text[] = {"text"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_INPUT_MODALITIES, text, 1));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_CREATED));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_STATUS));

	/* Nulls everywhere mean "unknown", quietly. */
	rec = ph_find(&in.records, "null-model");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "null-model"), 0);
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_CALLABLE, true));
	CU_ASSERT(ph_string_is(ph_find(&in.records, "good-model"), MF_FIELD_MAKER, "acme"));
	ph_source_free(&in);
}

static void test_malformed_pages(void)
{
	static const char *const kinds[] = {"openai", "openai-compatible", "anthropic", "gemini",
					    "mistral"};
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct ph_source in;
		const char *const opts[] = {"kind", kinds[k], "auth", "none", NULL};
		inst_open(&in, "acme", "https://api.acme.test/v1/models", opts);
		CU_ASSERT_EQUAL_FATAL(in.init_rc, MF_OK);

		CU_ASSERT_EQUAL(inst_normalize(&in, "malformed.json"), MF_EPARSE);
		CU_ASSERT_EQUAL(ph_count_lines(in.log, "not valid JSON: line 2, column"), 1);
		CU_ASSERT_EQUAL(inst_normalize_bytes(&in, "", 0), MF_EPARSE);
		static const char trailing[] = "{\"data\":[]} {}";
		CU_ASSERT_EQUAL(inst_normalize_bytes(&in, trailing, sizeof(trailing) - 1),
				MF_EPARSE);
		/* The size bounds the page even when the buffer goes on. */
		static const char cut[] = "{\"data\":[{\"id\":\"x\"}],\"models\":[]}";
		CU_ASSERT_EQUAL(inst_normalize_bytes(&in, cut, 12), MF_EPARSE);
		CU_ASSERT_EQUAL(inst_normalize_bytes(&in, "\"models\"", 8), MF_EPARSE);
		CU_ASSERT_EQUAL(inst_normalize_bytes(&in, "{\"data\":{}}", 11), MF_EPARSE);

		/* An error object is refused without repeating its text. */
		static const char error[] = "{\"error\":{\"message\":\"Incorrect API key provided: "
					    "sk-can***XYZ\",\"type\":\"invalid_request_error\"}}";
		CU_ASSERT_EQUAL(inst_normalize_bytes(&in, error, sizeof(error) - 1), MF_EPARSE);
		CU_ASSERT_EQUAL(ph_count_lines(in.log, "the page is an error response"), 1);
		CU_ASSERT_PTR_NULL(strstr(in.log, "Incorrect"));
		CU_ASSERT_EQUAL(in.records.count, 0);
		ph_source_free(&in);
	}

	/* Per kind: the other kinds' shapes are refused. */
	struct ph_source in;
	static const char *const anthropic[] = {"kind", "anthropic", "auth", "none", NULL};
	inst_open(&in, "anthropic", "https://api.anthropic.com/v1/models", anthropic);
	CU_ASSERT_EQUAL(inst_normalize_bytes(&in, "[]", 2), MF_EPARSE);
	CU_ASSERT_EQUAL(inst_normalize_bytes(&in, "{\"models\":[]}", 13), MF_EPARSE);
	CU_ASSERT_EQUAL(inst_normalize_bytes(&in, "{\"data\":[]}", 11), MF_OK);
	ph_source_free(&in);
	static const char *const openai[] = {"auth", "none", NULL};
	inst_open(&in, "openai", "https://api.openai.com/v1/models", openai);
	CU_ASSERT_EQUAL(inst_normalize_bytes(&in, "{}", 2), MF_EPARSE);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, "the page has no \"data\", expected an array"), 1);
	CU_ASSERT_EQUAL(inst_normalize_bytes(&in, "42", 2), MF_EPARSE);
	ph_source_free(&in);
}

/* Hostile input: deep nesting, huge strings, the same defect everywhere. */
static void test_hostile_input(void)
{
	enum { N = 300, DEPTH = 5000 };
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("{\"data\":[", f);
	for (int i = 0; i < N; i++)
		fprintf(f, "%s{\"id\":\"m%d\",\"created\":\"soon\",\"context_length\":%d}",
			i ? "," : "", i, i + 1);
	fputs("]}", f);
	fclose(f);

	struct ph_source in;
	static const char *const opts[] = {"kind", "openai-compatible", "auth", "none", NULL};
	inst_open(&in, "acme", "https://api.acme.test/v1/models", opts);
	CU_ASSERT_EQUAL_FATAL(in.init_rc, MF_OK);
	CU_ASSERT_EQUAL(inst_normalize_bytes(&in, page, len), MF_OK);
	free(page);
	CU_ASSERT_EQUAL(in.records.count, N);
	unsigned shown = ph_count_lines(in.log, "created is a string");
	CU_ASSERT(shown >= 1 && shown <= 20);
	char want[64];
	snprintf(want, sizeof(want), "%u more warnings", N - shown);
	CU_ASSERT_EQUAL(ph_count_lines(in.log, want), 1);
	CU_ASSERT(ph_int_is(ph_find(&in.records, "m299"), MF_FIELD_CONTEXT_TOKENS, 300));

	/* Nesting deeper than the parser allows is a parse error, not a
	 * crash. */
	page = malloc(2 * DEPTH + 16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(page);
	len = 0;
	for (int i = 0; i < DEPTH; i++)
		page[len++] = '[';
	for (int i = 0; i < DEPTH; i++)
		page[len++] = ']';
	CU_ASSERT_EQUAL(inst_normalize_bytes(&in, page, len), MF_EPARSE);
	free(page);

	/* A megabyte-long id is just an id. */
	size_t big = 1 << 20;
	page = malloc(big + 64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(page);
	len = (size_t)snprintf(page, 64, "{\"data\":[{\"id\":\"");
	memset(page + len, 'a', big);
	len += big;
	memcpy(page + len, "\"}]}", 4);
	len += 4;
	size_t before = in.records.count;
	CU_ASSERT_EQUAL(inst_normalize_bytes(&in, page, len), MF_OK);
	CU_ASSERT_EQUAL(in.records.count, before + 1);
	free(page);
	ph_source_free(&in);

	/* Anthropic capabilities nested deeply: bounded, no crash. */
	f = open_memstream(&page, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("{\"data\":[{\"id\":\"deep\",\"capabilities\":{\"x\":", f);
	for (int i = 0; i < 200; i++)
		fputs("{\"supported\":true,\"y\":", f);
	fputs("{}", f);
	for (int i = 0; i < 200; i++)
		fputs("}", f);
	fputs("}}]}", f);
	fclose(f);
	static const char *const anthropic[] = {"kind", "anthropic", "auth", "none", NULL};
	inst_open(&in, "anthropic", "https://api.anthropic.com/v1/models", anthropic);
	CU_ASSERT_EQUAL(inst_normalize_bytes(&in, page, len), MF_OK);
	free(page);
	CU_ASSERT_EQUAL_FATAL(in.records.count, 1);
	static const char *const levels[] = {"x", "x.y", "x.y.y"};
	CU_ASSERT(ph_list_is(in.records.items[0], MF_FIELD_CAPABILITIES, levels, 3));
	ph_source_free(&in);
}

int main(void)
{
	/* Every level, so that the key checks see every line the plugin logs. */
	log_set_level(MF_LOG_DEBUG);
	static const struct tu_test tests[] = {
	    {"descriptor and declared options", test_descriptor},
	    {"init refuses bad options", test_init_refuses_bad_options},
	    {"disabled without a key", test_disabled_without_key},
	    {"file: url needs no key", test_file_url_needs_no_key},
	    {"auth = none needs no key", test_auth_none},
	    {"canary key only in the auth header", test_canary_key},
	    {"anthropic pages by after_id", test_anthropic_paging},
	    {"gemini pages by pageToken", test_gemini_paging},
	    {"openai fields", test_openai_fields},
	    {"groq extras", test_groq_fields},
	    {"xai integer prices and aliases", test_xai_prices},
	    {"zenmux pricings and capabilities", test_zenmux_fields},
	    {"anthropic fields and capabilities", test_anthropic_fields},
	    {"gemini fields, modes and methods", test_gemini_fields},
	    {"mistral aliases folded", test_mistral_folding},
	    {"mistral big alias group", test_mistral_big_group},
	    {"broken entries", test_broken_entries},
	    {"malformed pages refused", test_malformed_pages},
	    {"hostile input", test_hostile_input},
	    {NULL, NULL},
	};
	return tu_main("anyllm", tests);
}
