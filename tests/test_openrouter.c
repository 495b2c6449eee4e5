/* The openrouter plugin's fetch plan and normalizer, driven on fixtures in
 * the OpenRouter /api/v1/models format through the real host table and
 * record code. The plugin is compiled into this program, so its descriptor
 * is called directly rather than loaded. */
#include "mf_build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_harness.h"
#include "testutil.h"

extern const struct mf_plugin modelfuse_plugin;

#define OR_URL "https://openrouter.ai/api/v1/models"

static void normalize_bytes(struct ph_run *r, const char *data, size_t size)
{
	ph_normalize_bytes(r, &modelfuse_plugin, NULL, OR_URL, data, size);
}

static void normalize_fixture(struct ph_run *r, const char *rel)
{
	ph_normalize_fixture(r, &modelfuse_plugin, NULL, OR_URL, rel);
}

/* The URL the plugin plans for its first page, for a configured URL (NULL:
 * the default) and all_output_modalities set or not. Caller frees. */
static char *plan_first(const char *url, const char *all)
{
	struct ph_source s;
	ph_source_setup(&s, &modelfuse_plugin, "openrouter", url, NULL);
	if (all)
		ph_source_option(&s, "all_output_modalities", all);
	struct mf_request req;
	request_init(&req);
	int rc = modelfuse_plugin.fetch(&host_table, &s.ctx, NULL, NULL, &req);
	CU_ASSERT_EQUAL(rc, MF_OK);
	CU_ASSERT_EQUAL(req.n_headers, 0);
	char *out = req.url ? strdup(req.url) : NULL;
	request_clear(&req);
	ph_source_free(&s);
	return out;
}

/* What fetch plans after a page with this body at this URL: the next URL,
 * or NULL for MF_DONE. */
static char *plan_next(const char *page_url, const char *body, char **log)
{
	struct ph_run r;
	ph_run_setup(&r, &modelfuse_plugin, NULL);
	struct mf_page prev = ph_page(0, page_url, body, strlen(body));
	struct mf_request req;
	request_init(&req);
	struct ph_capture c;
	ph_capture_begin(&c);
	int rc = modelfuse_plugin.fetch(&host_table, &r.ctx, NULL, &prev, &req);
	char *text = ph_capture_end(&c);
	if (log)
		*log = text;
	else
		free(text);
	char *out = NULL;
	if (rc == MF_OK) {
		CU_ASSERT_PTR_NOT_NULL(req.url);
		out = req.url ? strdup(req.url) : NULL;
	} else {
		CU_ASSERT_EQUAL(rc, MF_DONE);
		CU_ASSERT_PTR_NULL(req.url);
	}
	request_clear(&req);
	CU_ASSERT_EQUAL(r.records.count, 0);
	ph_run_free(&r);
	return out;
}

/* ------------------------------------------------------------------ tests */

static void test_descriptor(void)
{
	ph_expect_descriptor(&modelfuse_plugin, "openrouter");
	CU_ASSERT_STRING_EQUAL(modelfuse_plugin.default_url, "https://openrouter.ai/api/v1/models");
	CU_ASSERT_PTR_NOT_NULL(modelfuse_plugin.fetch);
	CU_ASSERT_PTR_NOT_NULL(modelfuse_plugin.normalize);
	const struct mf_option *o = modelfuse_plugin.options;
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_STRING_EQUAL(o[0].name, "all_output_modalities");
	CU_ASSERT_EQUAL(o[0].type, MF_OPT_BOOL);
	CU_ASSERT_STRING_EQUAL(o[0].default_value, "no");
	CU_ASSERT_FALSE(o[0].required);
	CU_ASSERT_FALSE(o[0].secret);
	CU_ASSERT_PTR_NULL(o[1].name);
}

static void test_fetch_first_page(void)
{
	struct {
		const char *url;
		const char *all;
		const char *want;
	} cases[] = {
		/* The default, with the option unset and set to no. */
		{NULL, NULL, "https://openrouter.ai/api/v1/models"},
		{NULL, "no", "https://openrouter.ai/api/v1/models"},
		{"https://mirror.example/models?x=1", "no", "https://mirror.example/models?x=1"},
		/* all_output_modalities = yes: a query of its own, or joined. */
		{NULL, "yes", "https://openrouter.ai/api/v1/models?output_modalities=all"},
		{"https://openrouter.ai/api/v1/models?category=programming", "yes",
		 "https://openrouter.ai/api/v1/models?category=programming&output_modalities=all"},
		{"https://mirror.example/models?", "true",
		 "https://mirror.example/models?output_modalities=all"},
		{"https://mirror.example/models?a=1&", "on",
		 "https://mirror.example/models?a=1&output_modalities=all"},
		/* Before a fragment, never inside it. */
		{"https://mirror.example/models#top", "yes",
		 "https://mirror.example/models?output_modalities=all#top"},
		{"https://mirror.example/models?a=1#x?y", "yes",
		 "https://mirror.example/models?a=1&output_modalities=all#x?y"},
		/* An explicit choice in the URL is the admin's to keep. */
		{"https://mirror.example/models?output_modalities=text,image", "yes",
		 "https://mirror.example/models?output_modalities=text,image"},
		{"https://mirror.example/models?a=1&output_modalities=all", "yes",
		 "https://mirror.example/models?a=1&output_modalities=all"},
		/* A parameter that merely ends the same way is another one. */
		{"https://mirror.example/models?x_output_modalities=text", "yes",
		 "https://mirror.example/models?x_output_modalities=text&output_modalities=all"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = plan_first(cases[i].url, cases[i].all);
		CU_ASSERT_PTR_NOT_NULL(got);
		if (got && strcmp(got, cases[i].want) != 0) {
			fprintf(stderr, "case %zu: got %s, want %s\n", i, got, cases[i].want);
			CU_FAIL("planned URL differs");
		}
		free(got);
	}
}

static void test_fetch_next_page(void)
{
	const char *base = "https://openrouter.ai/api/v1/models?output_modalities=all";
	/* The real responses: no links at all, or links.next null. */
	CU_ASSERT_PTR_NULL(plan_next(base, "{\"data\":[]}", NULL));
	CU_ASSERT_PTR_NULL(
		plan_next(base, "{\"data\":[],\"links\":{\"next\":null},\"total_count\":0}", NULL));
	CU_ASSERT_PTR_NULL(plan_next(base, "{\"data\":[],\"links\":{\"next\":\"\"}}", NULL));

	/* A path is taken relative to the page's origin. */
	char *next = plan_next(
		base, "{\"data\":[],\"links\":{\"next\":\"/api/v1/models?offset=2\"}}", NULL);
	CU_ASSERT_PTR_NOT_NULL(next);
	if (next)
		CU_ASSERT_STRING_EQUAL(next, "https://openrouter.ai/api/v1/models?offset=2");
	free(next);

	next = plan_next("https://openrouter.ai:8443/api/v1/models",
			 "{\"data\":[],\"links\":{\"next\":\"/p2\"}}", NULL);
	CU_ASSERT_PTR_NOT_NULL(next);
	if (next)
		CU_ASSERT_STRING_EQUAL(next, "https://openrouter.ai:8443/p2");
	free(next);

	next = plan_next(base,
			 "{\"data\":[],\"links\":{\"next\":\"https://openrouter.ai/api/v1/models"
			 "?cursor=abc\"}}",
			 NULL);
	CU_ASSERT_PTR_NOT_NULL(next);
	if (next)
		CU_ASSERT_STRING_EQUAL(next, "https://openrouter.ai/api/v1/models?cursor=abc");
	free(next);

	/* A page naming itself would loop: stop. */
	CU_ASSERT_PTR_NULL(plan_next("https://openrouter.ai/api/v1/models",
				     "{\"data\":[],\"links\":{\"next\":"
				     "\"https://openrouter.ai/api/v1/models\"}}",
				     NULL));
	/* Not a URL, or a path under a file: page: stop, and say why. */
	char *log = NULL;
	CU_ASSERT_PTR_NULL(
		plan_next(base, "{\"data\":[],\"links\":{\"next\":\"ftp://x/y\"}}", &log));
	CU_ASSERT_EQUAL(ph_count_lines(log, "links.next \"ftp://x/y\" is not a URL"), 1);
	free(log);
	CU_ASSERT_PTR_NULL(
		plan_next("file:///srv/models.json", "{\"links\":{\"next\":\"/p2\"}}", NULL));
	CU_ASSERT_PTR_NULL(
		plan_next(base, "{\"data\":[],\"links\":{\"next\":\"//evil.example/p\"}}", NULL));
	/* A broken page: fetch stops quietly, normalize reports it. */
	log = NULL;
	CU_ASSERT_PTR_NULL(plan_next(base, "{\"data\":[", &log));
	CU_ASSERT_STRING_EQUAL(log, "");
	free(log);
}

/* links.next is found by a walk over the page, not a parse of it: the same
 * answers as a parse whatever the page holds around it. */
static void test_next_page_found_quickly(void)
{
	const char *base = "https://openrouter.ai/api/v1/models";
	static const struct {
		const char *body;
		const char *want; /* NULL: no next page */
	} cases[] = {
	    /* Entries have links of their own: only the top-level one counts. */
	    {"{\"data\":[{\"id\":\"a\",\"links\":{\"next\":\"/wrong\"}}],"
	     "\"links\":{\"next\":\"/p2\"}}",
	     "https://openrouter.ai/p2"},
	    {"{\"data\":[{\"id\":\"a\",\"links\":{\"next\":\"/wrong\"}}]}", NULL},
	    {"{\"data\":[{\"id\":\"a\",\"links\":{\"details\":\"/x\"}}],\"links\":{\"next\":null}}",
	     NULL},
	    /* Before the data, spaced out, after other keys. */
	    {" {\n \"links\" :\n {\"next\" : \"/p2\"} , \"data\":[]}\n",
	     "https://openrouter.ai/p2"},
	    {"{\"total_count\":3,\"meta\":{\"links\":[1]},"
	     "\"links\":{\"next\":\"/p3\"},\"data\":[]}",
	     "https://openrouter.ai/p3"},
	    /* Look-alikes inside strings. */
	    {"{\"data\":[{\"description\":\"see \\\"links\\\": {\\\"next\\\": \\\"/x\\\"} }\"}],"
	     "\"links\":{\"next\":null}}",
	     NULL},
	    {"{\"data\":[\"}\",\"\\\\\"],\"links\":{\"next\":\"/p4\"}}",
	     "https://openrouter.ai/p4"},
	    {"{\"data\":[],\"note\":\"\\\"links\\\"\"}", NULL},
	    /* links that is no object, or a next that is no string. */
	    {"{\"data\":[],\"links\":null}", NULL},
	    {"{\"data\":[],\"links\":\"/p2\"}", NULL},
	    {"{\"data\":[],\"links\":[\"/p2\"]}", NULL},
	    {"{\"data\":[],\"links\":{\"next\":7}}", NULL},
	    /* An escaped or repeated key: the whole page is parsed, as before. */
	    {"{\"data\":[],\"li\\u006eks\":{\"next\":\"/p5\"}}", "https://openrouter.ai/p5"},
	    {"{\"links\":{\"next\":\"/p1\"},\"data\":[],\"links\":{\"next\":\"/p6\"}}",
	     "https://openrouter.ai/p6"},
	    /* Broken pages: no next page (normalize says what is wrong). */
	    {"{\"data\":[,\"links\":{\"next\":\"/p2\"}}", NULL},
	    {"{\"data\":[}],\"links\":{\"next\":\"/p2\"}}", NULL},
	    {"[{\"links\":{\"next\":\"/p2\"}}]", NULL},
	    {"{\"links\":{\"next\":\"/p2\"}} trailing", NULL},
	    {"", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = plan_next(base, cases[i].body, NULL);
		bool same = cases[i].want ? got && strcmp(got, cases[i].want) == 0 : got == NULL;
		if (!same)
			fprintf(stderr, "\n  page %s: next %s, expected %s\n", cases[i].body,
				got ? got : "(none)", cases[i].want ? cases[i].want : "(none)");
		CU_ASSERT(same);
		free(got);
	}
}

static void test_one_offering_per_entry(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/openrouter/models-minified.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 9);
	CU_ASSERT_EQUAL(r.ctx.emitted, 9);
	CU_ASSERT_EQUAL(r.ctx.rejected, 0);
	CU_ASSERT_STRING_EQUAL(r.log, "");
	for (size_t i = 0; i < r.records.count; i++) {
		const struct mf_record *rec = r.records.items[i];
		CU_ASSERT_EQUAL(rec->kind, MF_RECORD_OFFERING);
		CU_ASSERT(ph_string_is(rec, MF_FIELD_PROVIDER, "openrouter"));
		/* The native id is the upstream id, so no separate source key. */
		CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_SOURCE_KEY));
		CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_MAKER));
	}
	ph_run_free(&r);
}

static void test_all_fields(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/openrouter/models-minified.json");
	const struct mf_record *rec = ph_find(&r.records, "openai/gpt-4o-mini");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_NAME, "OpenAI: GPT-4o-mini"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_CANONICAL_SLUG, "openai/gpt-4o-mini"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_CREATED, "2024-07-18T00:00:00Z"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_DESCRIPTION,
			    "GPT-4o mini is OpenAI's small multimodal model: text and image in, "
			    "text out.\n\n#multimodal"));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_HF_ID));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_BASE_ID));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_SERVING_SUFFIX));
	CU_ASSERT(!ph_bool_set(rec, MF_FIELD_MOVING_POINTER));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_CONTEXT_TOKENS, 128000));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_MAX_OUTPUT_TOKENS, 16384));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_TOOL_CALL, true));
	CU_ASSERT(!ph_bool_set(rec, MF_FIELD_REASONING));
	static const char *const in[] = {"text", "image", "file"};
	static const char *const out[] = {"text"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_INPUT_MODALITIES, in, 3));
	CU_ASSERT(ph_list_is(rec, MF_FIELD_OUTPUT_MODALITIES, out, 1));
	const struct strlist *params = record_get_list(rec, MF_FIELD_SUPPORTED_PARAMETERS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(params);
	CU_ASSERT_EQUAL(params->count, 10);
	CU_ASSERT_STRING_EQUAL(params->items[8], "tools");

	/* USD per token -> per 1M, exactly; per-unit prices as they are. */
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 7);
	CU_ASSERT(ph_price_is(rec, "input", 0.15));
	CU_ASSERT(ph_price_is(rec, "output", 0.6));
	CU_ASSERT(ph_price_is(rec, "cache_read", 0.075));
	CU_ASSERT(ph_price_is(rec, "reasoning", 0));
	CU_ASSERT(ph_price_is(rec, "request", 0));
	CU_ASSERT(ph_price_is(rec, "image", 0.000217));
	CU_ASSERT(ph_price_is(rec, "web_search", 0));

	rec = ph_find(&r.records, "anthropic/claude-3.7-sonnet:thinking");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_price_is(rec, "input", 3));
	CU_ASSERT(ph_price_is(rec, "output", 15));
	CU_ASSERT(ph_price_is(rec, "cache_read", 0.3));
	CU_ASSERT(ph_price_is(rec, "cache_write", 3.75));
	CU_ASSERT(ph_price_is(rec, "image", 0.0048));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_REASONING, true));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_TOOL_CALL, true));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_CANONICAL_SLUG,
			       "anthropic/claude-3-7-sonnet-20250219"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_CREATED, "2025-02-24T18:35:10Z"));
	/* "" is no Hugging Face id. */
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_HF_ID));

	rec = ph_find(&r.records, "deepseek/deepseek-chat-v3-0324:free");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_HF_ID, "deepseek-ai/DeepSeek-V3-0324"));
	/* "0" is a real price of nothing, not an unknown one. */
	CU_ASSERT(ph_price_is(rec, "input", 0));
	CU_ASSERT(ph_price_is(rec, "output", 0));
	CU_ASSERT(!ph_int_set(rec, MF_FIELD_MAX_OUTPUT_TOKENS));
	CU_ASSERT(!ph_bool_set(rec, MF_FIELD_TOOL_CALL));

	rec = ph_find(&r.records, "meta-llama/llama-3.1-70b-instruct:nitro");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_price_is(rec, "input", 0.88));
	CU_ASSERT(ph_price_is(rec, "output", 0.88));
	ph_run_free(&r);
}

static void test_variable_price_unknown(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/openrouter/models-minified.json");
	const struct mf_record *rec = ph_find(&r.records, "openrouter/auto");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	/* "-1" on both: no price at all rather than a negative one. */
	CU_ASSERT_PTR_NULL(record_get_map(rec, MF_FIELD_PRICE));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_CONTEXT_TOKENS, 2000000));
	CU_ASSERT(!ph_int_set(rec, MF_FIELD_MAX_OUTPUT_TOKENS));
	static const char *const out[] = {"text", "image"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_OUTPUT_MODALITIES, out, 2));
	/* An empty parameter list says nothing. */
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_SUPPORTED_PARAMETERS));
	CU_ASSERT(!ph_bool_set(rec, MF_FIELD_TOOL_CALL));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "openrouter/auto"), 0);
	ph_run_free(&r);
}

static void test_context_length_not_top_provider(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/openrouter/models-minified.json");
	/* context_length 202752, top_provider.context_length 131072. */
	const struct mf_record *rec = ph_find(&r.records, "z-ai/glm-4.6:exacto");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_int_is(rec, MF_FIELD_CONTEXT_TOKENS, 202752));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_MAX_OUTPUT_TOKENS, 131072));
	CU_ASSERT(!ph_int_set(rec, MF_FIELD_MAX_INPUT_TOKENS));
	CU_ASSERT(ph_price_is(rec, "input", 0.45));
	CU_ASSERT(ph_price_is(rec, "output", 1.9));
	ph_run_free(&r);

	/* context_length 0 (image models): unknown, even though the output
	 * limit is null as well. */
	normalize_fixture(&r, "tests/fixtures/openrouter/models-2026.json");
	rec = ph_find(&r.records, "black-forest-labs/flux.2-pro");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(!ph_int_set(rec, MF_FIELD_CONTEXT_TOKENS));
	CU_ASSERT(!ph_int_set(rec, MF_FIELD_MAX_OUTPUT_TOKENS));
	ph_run_free(&r);
}

static void test_suffix_rules(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/openrouter/models-minified.json");
	static const char *const serving[][3] = {
		{"openai/gpt-4o:extended", "openai/gpt-4o", "extended"},
		{"deepseek/deepseek-chat-v3-0324:free", "deepseek/deepseek-chat-v3-0324", "free"},
		{"z-ai/glm-4.6:exacto", "z-ai/glm-4.6", "exacto"},
		{"anthropic/claude-3.5-sonnet:beta", "anthropic/claude-3.5-sonnet", "beta"},
		{"meta-llama/llama-3.1-70b-instruct:nitro", "meta-llama/llama-3.1-70b-instruct",
		 "nitro"},
	};
	for (size_t i = 0; i < sizeof(serving) / sizeof(serving[0]); i++) {
		const struct mf_record *rec = ph_find(&r.records, serving[i][0]);
		CU_ASSERT_PTR_NOT_NULL(rec);
		if (!rec)
			continue;
		CU_ASSERT(ph_string_is(rec, MF_FIELD_BASE_ID, serving[i][1]));
		CU_ASSERT(ph_string_is(rec, MF_FIELD_SERVING_SUFFIX, serving[i][2]));
		CU_ASSERT(!ph_bool_set(rec, MF_FIELD_MOVING_POINTER));
	}

	/* :thinking is a variant of its own, not a way to serve a base. */
	const struct mf_record *rec = ph_find(&r.records, "anthropic/claude-3.7-sonnet:thinking");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_BASE_ID));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_SERVING_SUFFIX));

	/* -latest moves with the vendor. */
	rec = ph_find(&r.records, "openai/chatgpt-4o-latest");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_MOVING_POINTER, true));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_BASE_ID));
	ph_run_free(&r);

	normalize_fixture(&r, "tests/fixtures/openrouter/models-2026.json");
	rec = ph_find(&r.records, "~anthropic/claude-sonnet-latest");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_MOVING_POINTER, true));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_ALIAS_TARGET, "anthropic/claude-sonnet-4.5"));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_BASE_ID));
	rec = ph_find(&r.records, "openai/gpt-oss-20b:free");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_BASE_ID, "openai/gpt-oss-20b"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_SERVING_SUFFIX, "free"));
	CU_ASSERT(!ph_bool_set(rec, MF_FIELD_MOVING_POINTER));
	rec = ph_find(&r.records, "anthropic/claude-sonnet-4.5");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(!ph_bool_set(rec, MF_FIELD_MOVING_POINTER));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_ALIAS_TARGET));
	ph_run_free(&r);
}

static void test_newer_fields_and_tiers(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/openrouter/models-2026.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 6);
	CU_ASSERT_STRING_EQUAL(r.log, "");

	const struct mf_record *rec = ph_find(&r.records, "anthropic/claude-sonnet-4.5");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_KNOWLEDGE, "2025-07-31"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_CREATED, "2025-09-29T16:01:16Z"));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_EXPIRATION_DATE));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_REASONING, true));
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 11);
	CU_ASSERT(ph_price_is(rec, "input", 3));
	CU_ASSERT(ph_price_is(rec, "cache_write_1h", 6));
	CU_ASSERT(ph_price_is(rec, "web_search", 0.01));
	CU_ASSERT(ph_price_is(rec, "context_over_200k.input", 6));
	CU_ASSERT(ph_price_is(rec, "context_over_200k.output", 22.5));
	CU_ASSERT(ph_price_is(rec, "context_over_200k.cache_read", 0.6));
	CU_ASSERT(ph_price_is(rec, "context_over_200k.cache_write", 7.5));
	CU_ASSERT(ph_price_is(rec, "context_over_200k.cache_write_1h", 12));
	CU_ASSERT(!ph_map_has(rec, MF_FIELD_PRICE, "overrides"));

	/* Several tiers; a threshold that is not whole thousands as it is. */
	rec = ph_find(&r.records, "qwen/qwen3-max");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 10);
	CU_ASSERT(ph_price_is(rec, "input", 1.2));
	CU_ASSERT(ph_price_is(rec, "output", 6));
	CU_ASSERT(ph_price_is(rec, "cache_read", 0.24));
	CU_ASSERT(ph_price_is(rec, "context_over_32k.input", 1.56));
	CU_ASSERT(ph_price_is(rec, "context_over_32k.output", 7.8));
	CU_ASSERT(ph_price_is(rec, "context_over_32k.cache_read", 0.312));
	CU_ASSERT(ph_price_is(rec, "context_over_128k.input", 1.95));
	CU_ASSERT(ph_price_is(rec, "context_over_128k.output", 9.75));
	CU_ASSERT(ph_price_is(rec, "context_over_128k.cache_read", 0.39));
	CU_ASSERT(ph_price_is(rec, "context_over_250500.input", 2.5));

	/* Image output: other keys under their own names, per token. */
	rec = ph_find(&r.records, "black-forest-labs/flux.2-pro");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_price_is(rec, "image_output", 9.58083832335329));
	CU_ASSERT(ph_price_is(rec, "image_token", 71.8562874251497));
	CU_ASSERT(ph_price_is(rec, "input", 0));
	static const char *const image[] = {"image"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_OUTPUT_MODALITIES, image, 1));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_SUPPORTED_PARAMETERS));

	rec = ph_find(&r.records, "google/gemini-2.0-flash-001");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_EXPIRATION_DATE, "2026-06-01"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_KNOWLEDGE, "2024-08"));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_HF_ID));
	CU_ASSERT(ph_price_is(rec, "input", 0.1));
	CU_ASSERT(ph_price_is(rec, "output", 0.4));
	CU_ASSERT(ph_price_is(rec, "input_audio", 0.7));
	CU_ASSERT(ph_price_is(rec, "input_audio_cache", 0.175));
	CU_ASSERT(ph_price_is(rec, "cache_read", 0.025));
	CU_ASSERT(ph_price_is(rec, "cache_write", 0.08333333333333));
	CU_ASSERT(ph_price_is(rec, "image", 0.0000001));
	CU_ASSERT(!ph_map_has(rec, MF_FIELD_PRICE, "audio"));
	static const char *const in[] = {"text", "image", "file", "audio", "video"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_INPUT_MODALITIES, in, 5));

	rec = ph_find(&r.records, "openai/gpt-oss-20b:free");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_HF_ID, "openai/gpt-oss-20b"));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_REASONING, true));
	ph_run_free(&r);
}

static void test_wrong_types_skipped(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/openrouter/broken-entries.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	/* acme/ok and acme/bad-types; the three entries without a usable id
	 * are handed over and dropped (and counted) by the core; the string
	 * entry is skipped. */
	CU_ASSERT_EQUAL(r.records.count, 2);
	CU_ASSERT_EQUAL(r.ctx.emitted, 2);
	CU_ASSERT_EQUAL(r.ctx.rejected, 3);

	const struct mf_record *rec = ph_find(&r.records, "acme/ok");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_HF_ID, "acme/ok-7b"));
	CU_ASSERT(ph_price_is(rec, "input", 0.1));
	CU_ASSERT(ph_price_is(rec, "output", 0.2));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_CREATED, "2023-11-14T22:13:20Z"));

	rec = ph_find(&r.records, "acme/bad-types");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	/* What was well-typed survives... */
	CU_ASSERT(ph_string_is(rec, MF_FIELD_DESCRIPTION, "Every other field is wrong."));
	CU_ASSERT(ph_price_is(rec, "web_search", 0.01));
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 1);
	/* ...and the modality string stands in for the missing lists. */
	static const char *const in[] = {"text", "image"};
	static const char *const out[] = {"text", "audio"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_INPUT_MODALITIES, in, 2));
	CU_ASSERT(ph_list_is(rec, MF_FIELD_OUTPUT_MODALITIES, out, 2));
	/* The rest is left unknown, not guessed. */
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_NAME));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_CANONICAL_SLUG));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_HF_ID));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_CREATED));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_ALIAS_TARGET));
	CU_ASSERT(!ph_int_set(rec, MF_FIELD_CONTEXT_TOKENS));
	CU_ASSERT(!ph_int_set(rec, MF_FIELD_MAX_OUTPUT_TOKENS));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_SUPPORTED_PARAMETERS));
	CU_ASSERT(!ph_bool_set(rec, MF_FIELD_TOOL_CALL));

	CU_ASSERT_EQUAL(ph_count_lines(r.log, "acme/bad-types: "), 13);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "canonical_slug is an array"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "hugging_face_id is an integer"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "name is an integer"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "created is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "context_length is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "pricing.prompt is a real number"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log,
				       "pricing.completion is \"1e-7\", not a plain decimal"),
			1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "pricing.request is \"abc\", not a plain decimal"),
			1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "pricing.image is \"-0.5\", negative"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "pricing.internal_reasoning is \"\""), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "supported_parameters is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "max_completion_tokens is -5, negative"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "alias_target is an integer"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "input_cache_read"), 0);

	CU_ASSERT_EQUAL(ph_count_lines(r.log, "data[2]: entry is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "data[3]: id is missing"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "data[4]: id is empty"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "data[5]: id is an integer"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "has no id: dropped"), 3);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "acme/ok"), 0);
	/* Every line carries the instance prefix the host adds. */
	CU_ASSERT_EQUAL(ph_total_lines(r.log), 20);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "openrouter: "), 20);
	ph_run_free(&r);
}

static void test_broken_tiers(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/openrouter/broken-tiers.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 2);

	const struct mf_record *rec = ph_find(&r.records, "acme/overrides-bad");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	/* A whole real is a fine limit; a fractional time is not a time. */
	CU_ASSERT(ph_int_is(rec, MF_FIELD_CONTEXT_TOKENS, 65536));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_CREATED));
	/* The only well-formed tier survives, without its bad price. */
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 3);
	CU_ASSERT(ph_price_is(rec, "input", 1));
	CU_ASSERT(ph_price_is(rec, "output", 2));
	CU_ASSERT(ph_price_is(rec, "context_over_64k.input", 4));
	/* The input list holds its good item; output falls back on the
	 * modality string because its list is null. */
	static const char *const text[] = {"text"};
	static const char *const image[] = {"image"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_INPUT_MODALITIES, text, 1));
	CU_ASSERT(ph_list_is(rec, MF_FIELD_OUTPUT_MODALITIES, image, 1));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_TOOL_CALL, true));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_REASONING, true));
	CU_ASSERT(!ph_int_set(rec, MF_FIELD_MAX_OUTPUT_TOKENS));

	CU_ASSERT_EQUAL(ph_count_lines(r.log, "acme/overrides-bad: "), 8);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "created is 1.7e+09, not a whole number"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "architecture.input_modalities[1] is an integer"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "pricing.overrides[0] has no positive"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "pricing.overrides[1] is an integer"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "overrides[2].min_prompt_tokens is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "pricing.context_over_64k.completion is an integer"),
			1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "top_provider is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "supported_parameters[1] is null"), 1);

	rec = ph_find(&r.records, "acme/overrides-string");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 1);
	CU_ASSERT(ph_price_is(rec, "input", 1));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_INPUT_MODALITIES));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "acme/overrides-string: "), 2);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "architecture is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "pricing.overrides is a string"), 1);
	CU_ASSERT_EQUAL(ph_total_lines(r.log), 10);
	ph_run_free(&r);
}

static void test_malformed_pages(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/openrouter/malformed.json");
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "not valid JSON: line 1, column"), 1);
	ph_run_free(&r);

	normalize_fixture(&r, "tests/fixtures/openrouter/toplevel-array.json");
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "top level is an array"), 1);
	ph_run_free(&r);

	normalize_fixture(&r, "tests/fixtures/openrouter/data-object.json");
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "data is an object, expected an array"), 1);
	ph_run_free(&r);

	static const char nodata[] = "{\"links\":{\"next\":null}}";
	normalize_bytes(&r, nodata, sizeof(nodata) - 1);
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "data is missing"), 1);
	ph_run_free(&r);

	normalize_bytes(&r, "", 0);
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	ph_run_free(&r);

	/* The size bounds the page even when the buffer goes on. */
	static const char cut[] = "{\"data\":[]}";
	normalize_bytes(&r, cut, 8);
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	ph_run_free(&r);

	/* Trailing garbage after the document. */
	static const char trailing[] = "{\"data\":[]} []";
	normalize_bytes(&r, trailing, sizeof(trailing) - 1);
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	ph_run_free(&r);

	/* An empty list is a valid, empty page. */
	static const char empty[] = "{\"data\":[],\"links\":{\"next\":null},\"total_count\":0}";
	normalize_bytes(&r, empty, sizeof(empty) - 1);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_STRING_EQUAL(r.log, "");
	ph_run_free(&r);
}

/* Hostile input: deep nesting and nulls everywhere cost fields, not the
 * process. */
static void test_hostile_input(void)
{
	struct ph_run r;
	static const char nulls[] =
		"{\"data\":[{\"id\":\"x/nulls\",\"name\":null,\"created\":null,"
		"\"description\":null,"
		"\"context_length\":null,\"architecture\":null,\"pricing\":null,"
		"\"top_provider\":null,\"supported_parameters\":null,\"canonical_slug\":null,"
		"\"hugging_face_id\":null,\"alias_target\":null,\"reasoning\":null},null,[],"
		"{\"id\":\"x/deep\",\"pricing\":{\"prompt\":[[[[[[[[[[[[\"1\"]]]]]]]]]]]]},"
		"\"architecture\":{\"modality\":\"+->+\"}},"
		"{\"id\":\":free\"},{\"id\":\"x/y:\"},{\"id\":\"x/y:Odd Suffix\"},"
		"{\"id\":\"x/huge\",\"context_length\":1e300,\"created\":99999999999999,"
		"\"pricing\":{\"prompt\":\"0.00000000000000000000000000000000000001\"}}]}";
	normalize_bytes(&r, nulls, sizeof(nulls) - 1);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 6);
	const struct mf_record *rec = ph_find(&r.records, "x/nulls");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_PROVIDER, "openrouter"));
	CU_ASSERT_PTR_NULL(record_get_map(rec, MF_FIELD_PRICE));
	CU_ASSERT(!ph_bool_set(rec, MF_FIELD_REASONING));
	rec = ph_find(&r.records, "x/deep");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_INPUT_MODALITIES));
	/* Suffix rules need a base and a suffix word. */
	rec = ph_find(&r.records, ":free");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_BASE_ID));
	rec = ph_find(&r.records, "x/y:");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_BASE_ID));
	rec = ph_find(&r.records, "x/y:Odd Suffix");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_BASE_ID));
	rec = ph_find(&r.records, "x/huge");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(!ph_int_set(rec, MF_FIELD_CONTEXT_TOKENS));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_CREATED));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "data[1]: entry is null"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "data[2]: entry is an array"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "x/deep: pricing.prompt is an array"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "x/huge: context_length is 1e+300"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "x/huge: created is 99999999999999, out of range"),
			1);
	ph_run_free(&r);
}

/* A description far beyond a paragraph is cut, on a character boundary. */
static void test_long_description(void)
{
	enum { LEN = 6000 };
	char *desc = malloc(LEN + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(desc);
	memset(desc, 'a', LEN);
	/* U+00E9 across bytes 4095 and 4096. */
	desc[4095] = (char)0xC3;
	desc[4096] = (char)0xA9;
	desc[LEN] = '\0';
	size_t size = LEN + 64;
	char *page = malloc(size);
	CU_ASSERT_PTR_NOT_NULL_FATAL(page);
	int n = snprintf(page, size, "{\"data\":[{\"id\":\"x/long\",\"description\":\"%s\"}]}",
			 desc);
	CU_ASSERT_FATAL(n > 0 && (size_t)n < size);

	struct ph_run r;
	normalize_bytes(&r, page, (size_t)n);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	const struct mf_record *rec = ph_find(&r.records, "x/long");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	const char *got = record_get_string(rec, MF_FIELD_DESCRIPTION);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_EQUAL(strlen(got), 4095);
	CU_ASSERT_EQUAL(strncmp(got, desc, 4095), 0);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "description is 6000 bytes long; cut to 4095"), 1);
	ph_run_free(&r);
	free(page);
	free(desc);
}

/* Hundreds of entries with the same defect must not flood the log. */
static void test_warnings_capped(void)
{
	enum { N = 300 };
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("{\"data\":[", f);
	for (int i = 0; i < N; i++)
		fprintf(f, "%s{\"id\":\"acme/m%d\",\"pricing\":{\"prompt\":\"%d.5e-6\","
			   "\"completion\":\"0.00000%d\"}}",
			i ? "," : "", i, i, i % 10);
	fputs("]}", f);
	fclose(f);

	struct ph_run r;
	normalize_bytes(&r, page, len);
	free(page);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, N);
	ph_expect_capped(r.log, "not a plain decimal", 1, 50, N);
	const struct mf_record *rec = ph_find(&r.records, "acme/m299");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_price_is(rec, "output", 9));
	CU_ASSERT(!ph_map_has(rec, MF_FIELD_PRICE, "input"));
	ph_run_free(&r);
}

int main(void)
{
	static const struct tu_test tests[] = {
		{"descriptor and option", test_descriptor},
		{"first page URL, output_modalities=all", test_fetch_first_page},
		{"next page from links.next", test_fetch_next_page},
		{"links.next found without parsing the page", test_next_page_found_quickly},
		{"one offering per entry", test_one_offering_per_entry},
		{"all fields mapped, exact prices", test_all_fields},
		{"-1 price is unknown", test_variable_price_unknown},
		{"context_length, not top_provider's", test_context_length_not_top_provider},
		{"serving suffixes, variants, moving pointers", test_suffix_rules},
		{"newer fields and price tiers", test_newer_fields_and_tiers},
		{"wrong-typed fields skipped", test_wrong_types_skipped},
		{"broken price tiers", test_broken_tiers},
		{"malformed pages refused", test_malformed_pages},
		{"hostile input", test_hostile_input},
		{"long description cut", test_long_description},
		{"warnings capped per page", test_warnings_capped},
		{NULL, NULL},
	};
	return tu_main("openrouter", tests);
}
