/* The modelsdev plugin's fetch plan and normalizer, driven on fixtures in
 * the models.dev format through the real host table and record code. The
 * plugin is compiled into this program, so its descriptor is called
 * directly rather than loaded. */
#include "mf_build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_harness.h"
#include "testutil.h"

extern const struct mf_plugin modelfuse_plugin;

#define PAGE_URL "file:///fixture/api.json"

static void normalize_bytes(struct ph_run *r, const char *data, size_t size)
{
	ph_normalize_bytes(r, &modelfuse_plugin, NULL, PAGE_URL, data, size);
}

static void normalize_fixture(struct ph_run *r, const char *rel)
{
	ph_normalize_fixture(r, &modelfuse_plugin, NULL, PAGE_URL, rel);
}

/* ------------------------------------------------------------------ tests */

static void test_descriptor(void)
{
	ph_expect_descriptor(&modelfuse_plugin, "modelsdev");
	CU_ASSERT_STRING_EQUAL(modelfuse_plugin.version, "1.0.0");
	CU_ASSERT_STRING_EQUAL(modelfuse_plugin.default_url, "https://models.dev/api.json");
	CU_ASSERT_PTR_NOT_NULL(modelfuse_plugin.fetch);
	CU_ASSERT_PTR_NOT_NULL(modelfuse_plugin.normalize);
}

/* The default URL, or a configured one instead; after the first page
 * there is nothing more to plan. */
static void test_fetch_one_page(void)
{
	ph_expect_single_page(&modelfuse_plugin, "https://models.dev/api.json",
			      "file:///srv/mirror/api.json");
}

static void test_one_offering_per_model(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/modelsdev/api-pretty.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	/* anthropic 2, deepseek 2, emptyco 0, openai 4, openrouter 2 */
	CU_ASSERT_EQUAL(r.records.count, 10);
	CU_ASSERT_EQUAL(r.ctx.emitted, 10);
	CU_ASSERT_EQUAL(r.ctx.rejected, 0);
	for (size_t i = 0; i < r.records.count; i++)
		CU_ASSERT_EQUAL(r.records.items[i]->kind, MF_RECORD_OFFERING);
	CU_ASSERT_PTR_NULL(ph_find_at(&r.records, "emptyco", "anything"));
	ph_run_free(&r);
}

static void test_all_fields(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/modelsdev/api-pretty.json");
	const struct mf_record *rec =
		ph_find_at(&r.records, "anthropic", "claude-sonnet-4-5-20250929");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);

	CU_ASSERT(ph_string_is(rec, MF_FIELD_SOURCE_KEY, "anthropic/claude-sonnet-4-5-20250929"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_NAME, "Claude Sonnet 4.5"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_FAMILY, "claude-sonnet"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_KNOWLEDGE, "2025-07-31"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_RELEASE_DATE, "2025-09-29"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_LAST_UPDATED, "2025-09-29"));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_STATUS));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_MAKER));

	CU_ASSERT(ph_int_is(rec, MF_FIELD_CONTEXT_TOKENS, 200000));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_MAX_OUTPUT_TOKENS, 64000));
	int64_t unused;
	CU_ASSERT_FALSE(record_get_int(rec, MF_FIELD_MAX_INPUT_TOKENS, &unused));

	CU_ASSERT(ph_bool_is(rec, MF_FIELD_ATTACHMENT, true));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_REASONING, true));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_TOOL_CALL, true));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_TEMPERATURE, true));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_OPEN_WEIGHTS, false));

	const struct nummap *price = record_get_map(rec, MF_FIELD_PRICE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(price);
	CU_ASSERT_EQUAL(price->count, 8);
	CU_ASSERT(ph_price_is(rec, "input", 3));
	CU_ASSERT(ph_price_is(rec, "output", 15));
	CU_ASSERT(ph_price_is(rec, "cache_read", 0.3));
	CU_ASSERT(ph_price_is(rec, "cache_write", 3.75));
	CU_ASSERT(ph_price_is(rec, "context_over_200k.input", 6));
	CU_ASSERT(ph_price_is(rec, "context_over_200k.output", 22.5));
	CU_ASSERT(ph_price_is(rec, "context_over_200k.cache_read", 0.6));
	CU_ASSERT(ph_price_is(rec, "context_over_200k.cache_write", 7.5));

	static const char *const in[] = {"text", "image", "pdf"};
	static const char *const out[] = {"text"};
	static const char *const tags[] = {"structured_output", "interleaved"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_INPUT_MODALITIES, in, 3));
	CU_ASSERT(ph_list_is(rec, MF_FIELD_OUTPUT_MODALITIES, out, 1));
	CU_ASSERT(ph_list_is(rec, MF_FIELD_TAGS, tags, 2));

	/* Audio prices and an input limit, each under its own key. */
	rec = ph_find_at(&r.records, "openai", "gpt-4o-mini-audio-preview");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_price_is(rec, "input_audio", 10));
	CU_ASSERT(ph_price_is(rec, "output_audio", 20));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_MAX_INPUT_TOKENS, 112000));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_STATUS, "beta"));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_FAMILY));

	rec = ph_find_at(&r.records, "anthropic", "claude-3-haiku-20240307");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_STATUS, "deprecated"));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_TAGS));
	ph_run_free(&r);
}

static void test_unknown_limits_unset(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/modelsdev/api-pretty.json");
	int64_t v;

	/* limit {context: 0, input: 0, output: 0}: all unknown. */
	const struct mf_record *rec = ph_find_at(&r.records, "openai", "gpt-image-1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_FALSE(record_get_int(rec, MF_FIELD_CONTEXT_TOKENS, &v));
	CU_ASSERT_FALSE(record_get_int(rec, MF_FIELD_MAX_OUTPUT_TOKENS, &v));
	CU_ASSERT_FALSE(record_get_int(rec, MF_FIELD_MAX_INPUT_TOKENS, &v));
	CU_ASSERT(ph_price_is(rec, "output", 40));
	static const char *const image[] = {"image"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_OUTPUT_MODALITIES, image, 1));

	/* No limit and no cost at all: the offering is still there. */
	rec = ph_find_at(&r.records, "openai", "text-embedding-3-small");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_FALSE(record_get_int(rec, MF_FIELD_CONTEXT_TOKENS, &v));
	CU_ASSERT_PTR_NULL(record_get_map(rec, MF_FIELD_PRICE));
	bool b;
	CU_ASSERT_FALSE(record_get_bool(rec, MF_FIELD_TEMPERATURE, &b));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_NAME, "text-embedding-3-small"));
	ph_run_free(&r);
}

static void test_source_keys(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/modelsdev/api-pretty.json");
	CU_ASSERT_EQUAL_FATAL(r.records.count, 10);
	for (size_t i = 0; i < r.records.count; i++) {
		const struct mf_record *rec = r.records.items[i];
		const char *provider = record_get_string(rec, MF_FIELD_PROVIDER);
		const char *key = record_get_string(rec, MF_FIELD_SOURCE_KEY);
		CU_ASSERT_PTR_NOT_NULL_FATAL(provider);
		CU_ASSERT_PTR_NOT_NULL_FATAL(key);
		char want[512];
		snprintf(want, sizeof(want), "%s/%s", provider, rec->native_id);
		CU_ASSERT_STRING_EQUAL(key, want);
	}
	/* A host's id that itself holds a slash keeps it whole. */
	const struct mf_record *rec =
		ph_find_at(&r.records, "openrouter", "anthropic/claude-3.5-sonnet");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_SOURCE_KEY, "openrouter/anthropic/claude-3.5-sonnet"));
	rec = ph_find_at(&r.records, "openrouter", "deepseek/deepseek-chat-v3-0324:free");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_price_is(rec, "input", 0));
	ph_run_free(&r);
}

static void test_wrong_types_skipped(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/modelsdev/api-pretty.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	const struct mf_record *rec = ph_find_at(&r.records, "deepseek", "deepseek-reasoner");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);

	/* The well-typed fields survive... */
	CU_ASSERT(ph_string_is(rec, MF_FIELD_NAME, "DeepSeek Reasoner"));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_REASONING, true));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_TEMPERATURE, false));
	CU_ASSERT(ph_price_is(rec, "output", 0.42));
	CU_ASSERT(ph_price_is(rec, "cache_read", 0.028));
	static const char *const text[] = {"text"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_OUTPUT_MODALITIES, text, 1));

	/* ...the others are left unset, not guessed. */
	double d;
	int64_t i;
	bool b;
	const struct nummap *price = record_get_map(rec, MF_FIELD_PRICE);
	CU_ASSERT_EQUAL(price->count, 2);
	CU_ASSERT_FALSE(nummap_get(price, "input", &d));
	CU_ASSERT_FALSE(nummap_get(price, "reasoning", &d));
	CU_ASSERT_FALSE(record_get_bool(rec, MF_FIELD_ATTACHMENT, &b));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_FAMILY));
	CU_ASSERT_FALSE(record_get_int(rec, MF_FIELD_CONTEXT_TOKENS, &i));
	CU_ASSERT_FALSE(record_get_int(rec, MF_FIELD_MAX_OUTPUT_TOKENS, &i));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_INPUT_MODALITIES));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_TAGS));

	/* One warning per bad field, each naming the model and the field;
	 * the null price is "unknown", not an error. */
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "deepseek/deepseek-reasoner: "), 8);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "cost.input is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "limit.context is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "limit.output is -1"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "attachment is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "family is an integer"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "modalities.input is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "modalities.output[1] is an integer"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "structured_output is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "cost.reasoning"), 0);
	/* Nothing else warned about, and every line carries the instance
	 * prefix the host adds. */
	CU_ASSERT_EQUAL(ph_total_lines(r.log), 8);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "modelsdev: "), 8);
	ph_run_free(&r);
}

static void test_minified_and_broken_entries(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/modelsdev/api-minified.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	/* mistral 2, groq 2, xai 1; the empty id is dropped and counted by
	 * the core; "grok-bad" (not an object) and the providers "broken"
	 * (a string), "nomodels" and "weird" (models an array) give nothing. */
	CU_ASSERT_EQUAL(r.records.count, 5);
	CU_ASSERT_EQUAL(r.ctx.emitted, 5);
	CU_ASSERT_EQUAL(r.ctx.rejected, 1);
	CU_ASSERT_PTR_NOT_NULL(ph_find_at(&r.records, "mistral", "mistral-large-2411"));
	CU_ASSERT_PTR_NOT_NULL(ph_find_at(&r.records, "mistral", "codestral-2501"));
	CU_ASSERT_PTR_NOT_NULL(ph_find_at(&r.records, "xai", "grok-3"));
	CU_ASSERT_PTR_NULL(ph_find_at(&r.records, "xai", "grok-bad"));

	/* 131072.0 is a whole number; 32768.5 is not. */
	const struct mf_record *rec = ph_find_at(&r.records, "groq", "llama-3.3-70b-versatile");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_int_is(rec, MF_FIELD_CONTEXT_TOKENS, 131072));
	int64_t v;
	CU_ASSERT_FALSE(record_get_int(rec, MF_FIELD_MAX_OUTPUT_TOKENS, &v));

	/* Very large limits are stored as given; checks judge them later. */
	rec = ph_find_at(&r.records, "groq", "kling-v2-6");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_int_is(rec, MF_FIELD_CONTEXT_TOKENS, 99999999));
	CU_ASSERT_PTR_NULL(record_get_map(rec, MF_FIELD_PRICE));

	rec = ph_find_at(&r.records, "mistral", "mistral-large-2411");
	CU_ASSERT(ph_string_is(rec, MF_FIELD_SOURCE_KEY, "mistral/mistral-large-2411"));
	CU_ASSERT(ph_price_is(rec, "input", 2));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_OPEN_WEIGHTS, true));

	CU_ASSERT_EQUAL(ph_count_lines(r.log, "broken: provider entry is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "weird: models is an array"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "xai: model #2 has an empty id"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "xai/grok-bad: entry is an integer"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "nomodels"), 0);
	ph_run_free(&r);
}

static void test_malformed_json(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/modelsdev/malformed.json");
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "not valid JSON: line 1, column"), 1);
	ph_run_free(&r);

	normalize_bytes(&r, "", 0);
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	CU_ASSERT_EQUAL(r.records.count, 0);
	ph_run_free(&r);

	/* Bytes after the document are garbage too. */
	static const char trailing[] = "{} {}";
	normalize_bytes(&r, trailing, sizeof(trailing) - 1);
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	ph_run_free(&r);

	/* The size bounds the page even when the buffer goes on. */
	static const char cut[] = "{\"a\":{\"models\":{}}}";
	normalize_bytes(&r, cut, 10);
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	ph_run_free(&r);
}

static void test_top_level_not_object(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/modelsdev/toplevel-array.json");
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "top level is an array"), 1);
	ph_run_free(&r);

	static const char scalar[] = "\"models\"";
	normalize_bytes(&r, scalar, sizeof(scalar) - 1);
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	CU_ASSERT_EQUAL(r.records.count, 0);
	ph_run_free(&r);

	/* An empty catalog is valid, just empty. */
	normalize_bytes(&r, "{}", 2);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 0);
	ph_run_free(&r);
}

static void test_duplicate_keys(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/modelsdev/duplicate-keys.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL_FATAL(r.records.count, 1);
	const struct mf_record *rec = r.records.items[0];
	CU_ASSERT(ph_string_is(rec, MF_FIELD_NAME, "GPT-4o mini"));
	CU_ASSERT(ph_price_is(rec, "input", 0.15));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "duplicate"), 1);
	ph_run_free(&r);
}

/* Thousands of models with the same defect must not flood the log. */
static void test_warnings_capped(void)
{
	enum { N = 300 };
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("{\"acme\":{\"id\":\"acme\",\"models\":{", f);
	for (int i = 0; i < N; i++)
		fprintf(f, "%s\"m%d\":{\"id\":\"m%d\",\"reasoning\":\"maybe\",\"cost\":{\"input\":%d}}",
			i ? "," : "", i, i, i);
	fputs("}}}", f);
	fclose(f);

	struct ph_run r;
	normalize_bytes(&r, page, len);
	free(page);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, N);
	ph_expect_capped(r.log, "reasoning is a string", 1, 50, N);
	const struct mf_record *rec = ph_find_at(&r.records, "acme", "m299");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_price_is(rec, "input", 299));
	ph_run_free(&r);
}

/* The offline sample the bundled configuration reads. */
static void test_sample_data(void)
{
	struct ph_run r;
	normalize_fixture(&r, "data/samples/modelsdev-api.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 25);
	CU_ASSERT_EQUAL(r.ctx.rejected, 0);
	CU_ASSERT_EQUAL(r.log[0], '\0');
	static const char *const wanted[][2] = {
		{"anthropic", "claude-3-5-sonnet-20241022"},
		{"openai", "gpt-4o-2024-08-06"},
		{"openai", "gpt-4o-mini"},
		{"google", "gemini-2.0-flash"},
		{"mistral", "mistral-large-2411"},
		{"togetherai", "meta-llama/Llama-3.3-70B-Instruct-Turbo"},
		{"deepseek", "deepseek-chat"},
	};
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
		const struct mf_record *rec = ph_find_at(&r.records, wanted[i][0], wanted[i][1]);
		CU_ASSERT_PTR_NOT_NULL(rec);
		if (!rec)
			continue;
		double d;
		CU_ASSERT(nummap_get(record_get_map(rec, MF_FIELD_PRICE), "input", &d) && d > 0);
		int64_t ctx;
		CU_ASSERT(record_get_int(rec, MF_FIELD_CONTEXT_TOKENS, &ctx) && ctx > 0);
	}
	ph_run_free(&r);
}

int main(void)
{
	static const struct tu_test tests[] = {
		{"descriptor", test_descriptor},
		{"fetch plans one page", test_fetch_one_page},
		{"one offering per model", test_one_offering_per_model},
		{"all fields mapped", test_all_fields},
		{"unknown limits left unset", test_unknown_limits_unset},
		{"source keys provider/model", test_source_keys},
		{"wrong-typed fields skipped", test_wrong_types_skipped},
		{"minified file, broken entries", test_minified_and_broken_entries},
		{"malformed JSON refused", test_malformed_json},
		{"top level not an object refused", test_top_level_not_object},
		{"duplicate keys: last wins, warned", test_duplicate_keys},
		{"warnings capped per page", test_warnings_capped},
		{"offline sample data", test_sample_data},
		{NULL, NULL},
	};
	return tu_main("modelsdev", tests);
}
