/* The litellm plugin's fetch plan and normalizer, driven on fixtures in the
 * format of LiteLLM's model_prices_and_context_window.json through the real
 * host table and record code. The plugin is compiled into this program, so
 * its descriptor is called directly rather than loaded. */
#include "mf_build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "plugin_harness.h"
#include "testutil.h"

extern const struct mf_plugin modelfuse_plugin;

#define PAGE_URL "file:///fixture/model_prices_and_context_window.json"

static void normalize_bytes(struct ph_run *r, const char *data, size_t size)
{
	ph_normalize_bytes(r, &modelfuse_plugin, NULL, PAGE_URL, data, size);
}

static void normalize_fixture(struct ph_run *r, const char *rel)
{
	ph_normalize_fixture(r, &modelfuse_plugin, NULL, PAGE_URL, rel);
}

/* ------------------------------------------------------------------ tests */

static void test_descriptor_and_fetch(void)
{
	ph_expect_descriptor(&modelfuse_plugin, "litellm");
	CU_ASSERT_STRING_EQUAL(modelfuse_plugin.default_url,
			       "https://raw.githubusercontent.com/BerriAI/litellm/main/"
			       "model_prices_and_context_window.json");

	struct ph_run r;
	ph_run_setup(&r, &modelfuse_plugin, NULL);
	const char *url = modelfuse_plugin.default_url;
	CU_ASSERT_EQUAL(ph_expect_fetch(&modelfuse_plugin, &r.ctx, NULL, NULL, url), 0);
	/* One page only. */
	ph_expect_last_page(&modelfuse_plugin, &r.ctx, NULL, url);
	ph_run_free(&r);
}

static void test_one_offering_per_entry(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/litellm/prices-upstream.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	/* 28 keys: sample_spec and 27 models. */
	CU_ASSERT_EQUAL(r.records.count, 27);
	CU_ASSERT_EQUAL(r.ctx.rejected, 0);
	/* Skipping the schema example is no warning. */
	CU_ASSERT_STRING_EQUAL(r.log, "");
	for (size_t i = 0; i < r.records.count; i++) {
		const struct mf_record *rec = r.records.items[i];
		CU_ASSERT_EQUAL(rec->kind, MF_RECORD_OFFERING);
		CU_ASSERT_PTR_NOT_NULL(record_get_string(rec, MF_FIELD_PROVIDER));
		CU_ASSERT(strcmp(rec->native_id, "sample_spec") != 0);
	}
	ph_run_free(&r);
}

static void test_all_fields(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/litellm/prices-upstream.json");
	const struct mf_record *rec = ph_find_at(&r.records, "openai", "gpt-4o");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	/* Key and native id agree: no separate source key. */
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_SOURCE_KEY));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MODE, "chat"));
	static const char *const tags[] = {"mode:chat"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_TAGS, tags, 1));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_CONTEXT_TOKENS, 128000));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_MAX_INPUT_TOKENS, 128000));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_MAX_OUTPUT_TOKENS, 16384));
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 8);
	CU_ASSERT(ph_price_is(rec, "input", 2.5));
	CU_ASSERT(ph_price_is(rec, "output", 10));
	CU_ASSERT(ph_price_is(rec, "cache_read", 1.25));
	CU_ASSERT(ph_price_is(rec, "priority.cache_read", 2.125));
	CU_ASSERT(ph_price_is(rec, "priority.input", 4.25));
	CU_ASSERT(ph_price_is(rec, "priority.output", 17));
	CU_ASSERT(ph_price_is(rec, "batch.input", 1.25));
	CU_ASSERT(ph_price_is(rec, "batch.output", 5));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_TOOL_CALL, true));
	CU_ASSERT(!ph_bool_set(rec, MF_FIELD_REASONING));
	static const char *const caps[] = {
		"function_calling", "parallel_function_calling", "pdf_input", "prompt_caching",
		"response_schema",  "system_messages",           "tool_choice", "vision",
	};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_CAPABILITIES, caps, 8));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_DEPRECATION_DATE));

	rec = ph_find_at(&r.records, "google", "gemini-2.5-pro");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_SOURCE_KEY, "gemini/gemini-2.5-pro"));
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 11);
	CU_ASSERT(ph_price_is(rec, "input", 1.25));
	CU_ASSERT(ph_price_is(rec, "output", 10));
	CU_ASSERT(ph_price_is(rec, "cache_read", 0.125));
	CU_ASSERT(ph_price_is(rec, "context_over_200k.input", 2.5));
	CU_ASSERT(ph_price_is(rec, "context_over_200k.output", 15));
	CU_ASSERT(ph_price_is(rec, "context_over_200k.cache_read", 0.25));
	CU_ASSERT(ph_price_is(rec, "priority.input", 2.25));
	CU_ASSERT(ph_price_is(rec, "priority.context_over_200k.input", 4.5));
	CU_ASSERT(ph_price_is(rec, "web_search.low", 0.035));
	CU_ASSERT(ph_price_is(rec, "web_search.medium", 0.035));
	CU_ASSERT(ph_price_is(rec, "web_search.high", 0.035));
	static const char *const in[] = {"text", "image", "audio", "video"};
	static const char *const out[] = {"text"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_INPUT_MODALITIES, in, 4));
	CU_ASSERT(ph_list_is(rec, MF_FIELD_OUTPUT_MODALITIES, out, 1));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_REASONING, true));
	static const char *const caps2[] = {"audio_input", "function_calling", "reasoning",
					    "web_search"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_CAPABILITIES, caps2, 4));

	/* Per-unit prices keep their LiteLLM name (it says the unit), the
	 * context tier of a token price becomes a prefix. */
	rec = ph_find_at(&r.records, "google-vertex", "gemini-1.5-pro");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_DEPRECATION_DATE, "2025-09-24"));
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 8);
	CU_ASSERT(ph_price_is(rec, "input", 1.25));
	CU_ASSERT(ph_price_is(rec, "output", 5));
	CU_ASSERT(ph_price_is(rec, "context_over_128k.input", 2.5));
	CU_ASSERT(ph_price_is(rec, "context_over_128k.output", 10));
	CU_ASSERT(ph_price_is(rec, "image", 0.00032875));
	CU_ASSERT(ph_price_is(rec, "input_cost_per_audio_per_second", 0.00003125));
	CU_ASSERT(ph_price_is(rec, "input_cost_per_character", 0.0000003125));
	CU_ASSERT(ph_price_is(rec, "output_cost_per_character", 0.00000125));

	/* supports_reasoning: false is stated, so it is kept as false. */
	rec = ph_find_at(&r.records, "amazon-bedrock", "anthropic.claude-3-5-sonnet-20241022-v2:0");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_REASONING, false));
	static const char *const caps3[] = {"computer_use", "function_calling", "pdf_input",
					    "vision"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_CAPABILITIES, caps3, 4));
	CU_ASSERT(ph_price_is(rec, "cache_write", 3.75));
	CU_ASSERT(ph_price_is(rec, "cache_read", 0.3));
	ph_run_free(&r);
}

/* The shortest decimal of each double, shifted on its digits. */
static void test_exact_conversion(void)
{
	static const char page[] =
		"{\"m\": {\"litellm_provider\": \"openai\", \"input_cost_per_token\": 4e-07,"
		" \"output_cost_per_token\": 8e-07, \"cache_read_input_token_cost\": 3.3e-06,"
		" \"cache_creation_input_token_cost\": 1.5e-07,"
		" \"output_cost_per_reasoning_token\": 7.5e-7,"
		" \"input_cost_per_audio_token\": 0.000003,"
		" \"output_cost_per_audio_token\": 1E-6,"
		" \"input_cost_per_image_token\": 2,"
		" \"output_cost_per_image_token\": 1.23456789012345e-05,"
		" \"citation_cost_per_token\": 1e-10,"
		" \"input_cost_per_request\": 0.1,"
		" \"input_cost_per_second\": 0.0002833333333333333,"
		" \"output_cost_per_video_token\": 0}}";
	struct ph_run r;
	normalize_bytes(&r, page, sizeof(page) - 1);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	const struct mf_record *rec = ph_find_at(&r.records, "openai", "m");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 13);
	CU_ASSERT(ph_price_is(rec, "input", 0.4));
	CU_ASSERT(ph_price_is(rec, "output", 0.8));
	CU_ASSERT(ph_price_is(rec, "cache_read", 3.3));
	CU_ASSERT(ph_price_is(rec, "cache_write", 0.15));
	CU_ASSERT(ph_price_is(rec, "reasoning", 0.75));
	CU_ASSERT(ph_price_is(rec, "input_audio", 3));
	CU_ASSERT(ph_price_is(rec, "output_audio", 1));
	CU_ASSERT(ph_price_is(rec, "input_image", 2000000));
	CU_ASSERT(ph_price_is(rec, "output_image", 12.3456789012345));
	CU_ASSERT(ph_price_is(rec, "citation", 0.0001));
	CU_ASSERT(ph_price_is(rec, "request", 0.1));
	CU_ASSERT(ph_price_is(rec, "input_cost_per_second", 0.0002833333333333333));
	CU_ASSERT(ph_price_is(rec, "output_video", 0));
	CU_ASSERT_STRING_EQUAL(r.log, "");
	ph_run_free(&r);

	normalize_fixture(&r, "tests/fixtures/litellm/prices-upstream.json");
	rec = ph_find_at(&r.records, "openai", "babbage-002");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_price_is(rec, "input", 0.4));
	rec = ph_find_at(&r.records, "newco", "nc-1-mini");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_price_is(rec, "input", 3.3));
	CU_ASSERT(ph_price_is(rec, "output", 11));
	rec = ph_find_at(&r.records, "databricks", "databricks-meta-llama-3-3-70b-instruct");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	/* DBU prices are not USD: left out. */
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 2);
	CU_ASSERT(ph_price_is(rec, "input", 1.00002));
	CU_ASSERT(ph_price_is(rec, "output", 2.99999));
	rec = ph_find_at(&r.records, "openai", "hd/1024-x-1024/dall-e-3");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_price_is(rec, "input_cost_per_pixel", 0.00000007629));
	CU_ASSERT(ph_price_is(rec, "output_cost_per_pixel", 0));
	rec = ph_find_at(&r.records, "deepseek", "deepseek-chat");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_price_is(rec, "cache_read", 0.028));
	CU_ASSERT(ph_price_is(rec, "cache_hit", 0.028));
	CU_ASSERT(ph_price_is(rec, "input", 0.28));
	CU_ASSERT(ph_price_is(rec, "output", 0.42));
	ph_run_free(&r);
}

static void test_provider_prefixes(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/litellm/prices-upstream.json");
	static const char *const cases[][3] = {
		/* key, provider, native id */
		{"bedrock/us.anthropic.claude-3-5-haiku-20241022-v1:0", "amazon-bedrock",
		 "us.anthropic.claude-3-5-haiku-20241022-v1:0"},
		{"bedrock/us-east-1/meta.llama3-70b-instruct-v1:0", "amazon-bedrock",
		 "us-east-1/meta.llama3-70b-instruct-v1:0"},
		{"vertex_ai/claude-3-5-sonnet@20240620", "google-vertex-anthropic",
		 "claude-3-5-sonnet@20240620"},
		{"vertex_ai/mistral-large@2407", "google-vertex", "mistral-large@2407"},
		{"gemini/gemini-2.5-pro", "google", "gemini-2.5-pro"},
		{"azure/gpt-4o-2024-08-06", "azure", "gpt-4o-2024-08-06"},
		{"azure_ai/mistral-large-2407", "azure", "mistral-large-2407"},
		{"azure/gpt-35-turbo-instruct", "azure", "gpt-35-turbo-instruct"},
		{"together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo", "togetherai",
		 "meta-llama/Llama-3.3-70B-Instruct-Turbo"},
		{"fireworks_ai/accounts/fireworks/models/deepseek-r1", "fireworks-ai",
		 "accounts/fireworks/models/deepseek-r1"},
		{"fireworks_ai/nomic-ai/nomic-embed-text-v1.5", "fireworks-ai",
		 "nomic-ai/nomic-embed-text-v1.5"},
		/* Only the provider's own prefix goes: OpenRouter ids keep theirs. */
		{"openrouter/openrouter/auto", "openrouter", "openrouter/auto"},
		{"xai/grok-4-fast-reasoning", "xai", "grok-4-fast-reasoning"},
		{"dashscope/qwen-flash", "alibaba", "qwen-flash"},
		{"newco/nc-1-mini", "newco", "nc-1-mini"},
		{"azure/gpt-realtime-whisper", "azure", "gpt-realtime-whisper"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct mf_record *rec = ph_find_at(&r.records, cases[i][1], cases[i][2]);
		CU_ASSERT_PTR_NOT_NULL(rec);
		if (!rec) {
			fprintf(stderr, "missing %s %s\n", cases[i][1], cases[i][2]);
			continue;
		}
		CU_ASSERT(ph_string_is(rec, MF_FIELD_SOURCE_KEY, cases[i][0]));
	}
	/* Keys without a prefix (or with a foreign one) stay whole. */
	static const char *const whole[][2] = {
		{"openai", "gpt-4o"},
		{"openai", "babbage-002"},
		{"amazon-bedrock", "anthropic.claude-3-5-sonnet-20241022-v2:0"},
		{"google-vertex", "gemini-1.5-pro"},
		{"cohere", "command-r"},
		{"openai", "hd/1024-x-1024/dall-e-3"},
	};
	for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++) {
		const struct mf_record *rec = ph_find_at(&r.records, whole[i][0], whole[i][1]);
		CU_ASSERT_PTR_NOT_NULL(rec);
		if (rec)
			CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_SOURCE_KEY));
	}
	ph_run_free(&r);
}

static void test_limits(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/litellm/prices-upstream.json");
	/* max_tokens stands in for a missing max_output_tokens... */
	const struct mf_record *rec = ph_find_at(&r.records, "groq", "llama-3.1-8b-instant");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_int_is(rec, MF_FIELD_MAX_OUTPUT_TOKENS, 8192));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_CONTEXT_TOKENS, 131072));
	/* ...but never over it. */
	rec = ph_find_at(&r.records, "openai", "babbage-002");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_int_is(rec, MF_FIELD_MAX_OUTPUT_TOKENS, 4096));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_CONTEXT_TOKENS, 16384));
	/* A max_tokens that only copies the input limit is no output limit. */
	rec = ph_find_at(&r.records, "openai", "text-embedding-3-small");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_int_is(rec, MF_FIELD_CONTEXT_TOKENS, 8191));
	CU_ASSERT(!ph_int_set(rec, MF_FIELD_MAX_OUTPUT_TOKENS));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MODE, "embedding"));
	CU_ASSERT(ph_price_is(rec, "input", 0.02));
	CU_ASSERT(ph_price_is(rec, "batch.input", 0.01));
	CU_ASSERT(ph_price_is(rec, "output", 0));
	rec = ph_find_at(&r.records, "openrouter", "openrouter/auto");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_int_is(rec, MF_FIELD_CONTEXT_TOKENS, 2000000));
	CU_ASSERT(!ph_int_set(rec, MF_FIELD_MAX_OUTPUT_TOKENS));
	CU_ASSERT(ph_price_is(rec, "input", 0));
	/* Whole reals are whole numbers. */
	rec = ph_find_at(&r.records, "xai", "grok-4-fast-reasoning");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_int_is(rec, MF_FIELD_CONTEXT_TOKENS, 2000000));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_MAX_OUTPUT_TOKENS, 2000000));
	CU_ASSERT(ph_price_is(rec, "cache_read", 0.05));
	/* No limits at all. */
	rec = ph_find_at(&r.records, "togetherai", "meta-llama/Llama-3.3-70B-Instruct-Turbo");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(!ph_int_set(rec, MF_FIELD_CONTEXT_TOKENS));
	CU_ASSERT(!ph_int_set(rec, MF_FIELD_MAX_OUTPUT_TOKENS));
	CU_ASSERT(ph_price_is(rec, "input", 0.88));
	ph_run_free(&r);

	/* max_output_tokens null counts as absent. */
	normalize_fixture(&r, "tests/fixtures/litellm/prices-mirror.json");
	rec = ph_find_at(&r.records, "groq", "llama3-8b-8192");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_int_is(rec, MF_FIELD_MAX_OUTPUT_TOKENS, 1024));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_CONTEXT_TOKENS, 8192));
	ph_run_free(&r);
}

static void test_tiered_pricing(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/litellm/prices-upstream.json");
	const struct mf_record *rec = ph_find_at(&r.records, "alibaba", "qwen-flash");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 4);
	CU_ASSERT(ph_price_is(rec, "input", 0.05));
	CU_ASSERT(ph_price_is(rec, "output", 0.4));
	CU_ASSERT(ph_price_is(rec, "context_over_256k.input", 0.25));
	CU_ASSERT(ph_price_is(rec, "context_over_256k.output", 2));
	rec = ph_find_at(&r.records, "exa_ai", "search");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 2);
	CU_ASSERT(ph_price_is(rec, "results_0_25.input_cost_per_query", 0.005));
	CU_ASSERT(ph_price_is(rec, "results_26_100.input_cost_per_query", 0.025));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MODE, "search"));
	ph_run_free(&r);
}

static void test_mirror_skips_and_wrong_types(void)
{
	enum mf_log_level saved = log_get_level();
	log_set_level(MF_LOG_INFO);
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/litellm/prices-mirror.json");
	log_set_level(saved);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	/* 11 keys: 4 models, one without a key (dropped by the core), one
	 * with a numeric provider, and 5 that are not models at all. */
	CU_ASSERT_EQUAL(r.records.count, 4);
	CU_ASSERT_EQUAL(r.ctx.emitted, 4);
	CU_ASSERT_EQUAL(r.ctx.rejected, 1);

	/* Each non-model key is named, with its reason, at info level. */
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "not a model ("), 5);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "sample_spec: not a model (the schema example)"), 1);
	CU_ASSERT_EQUAL(
		ph_count_lines(r.log,
			       "fallback_generalizations: not a model (no litellm_provider)"),
		1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "noprov/model: not a model (no litellm_provider)"),
			1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "list-value: not a model (an array, not an object)"),
			1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log,
				       "last_updated: not a model (a string, not an object)"),
			1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "11 keys, 6 of them skipped as not models"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "numprov/model: litellm_provider is an integer"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "an entry has an empty key; dropped"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "has no id: dropped"), 1);

	/* Numbers written as strings: the field goes, the entry stays. */
	const struct mf_record *rec = ph_find_at(&r.records, "mistral", "mistral-large-latest");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 1);
	CU_ASSERT(ph_price_is(rec, "output", 6));
	CU_ASSERT(!ph_int_set(rec, MF_FIELD_CONTEXT_TOKENS));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_MAX_OUTPUT_TOKENS, 4096));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_TOOL_CALL, true));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "mistral/mistral-large-latest: "), 2);
	CU_ASSERT_EQUAL(ph_count_lines(r.log,
				       "input_cost_per_token is a string, expected a number"),
			1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "max_input_tokens is a string, expected a number"),
			1);

	rec = ph_find_at(&r.records, "bad_provider", "bad/types");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_SOURCE_KEY));
	CU_ASSERT_PTR_NULL(record_get_map(rec, MF_FIELD_PRICE));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_MODE));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_TAGS));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_CAPABILITIES));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_INPUT_MODALITIES));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_DEPRECATION_DATE));
	/* A broken max_output_tokens is not "absent": no fallback. */
	CU_ASSERT(!ph_int_set(rec, MF_FIELD_MAX_OUTPUT_TOKENS));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "bad/types: "), 10);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "mode is an integer"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "max_output_tokens is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "tiered_pricing is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "cache_read_input_token_cost is an array"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "input_cost_per_token is 1e-300, out of range"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "output_cost_per_token is -1e-06, negative"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "search_context_size_low is not a price"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "supports_vision is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "supported_modalities is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "deprecation_date is an integer"), 1);

	rec = ph_find_at(&r.records, "perplexity", "sonar");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 2);
	CU_ASSERT(ph_price_is(rec, "input", 1));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "tiered_pricing[0] has no usable range"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "tiered_pricing[1] is an integer"), 1);

	/* 16 warnings from the plugin, 1 from the core, 6 info lines. */
	CU_ASSERT_EQUAL(ph_total_lines(r.log), 23);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "warning: "), 17);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "litellm: "), 23);
	ph_run_free(&r);

	/* At the default level, skipping non-models is silent. */
	normalize_fixture(&r, "tests/fixtures/litellm/prices-mirror.json");
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "not a model"), 0);
	CU_ASSERT_EQUAL(ph_total_lines(r.log), 17);
	ph_run_free(&r);
}

static void test_malformed(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/litellm/malformed.json");
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "not valid JSON: line 8, column"), 1);
	ph_run_free(&r);

	normalize_fixture(&r, "tests/fixtures/litellm/toplevel-array.json");
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "top level is an array, expected an object"), 1);
	ph_run_free(&r);

	normalize_bytes(&r, "", 0);
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	ph_run_free(&r);

	static const char scalar[] = "42";
	normalize_bytes(&r, scalar, sizeof(scalar) - 1);
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	ph_run_free(&r);

	static const char cut[] = "{\"gpt-4o\":{\"litellm_provider\":\"openai\"}}";
	normalize_bytes(&r, cut, 20);
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	ph_run_free(&r);

	/* Duplicate keys: the last one wins, with a warning naming the line. */
	static const char dup[] =
		"{\"m\":{\"litellm_provider\":\"openai\",\"input_cost_per_token\":1e-06},\n"
		"\"m\":{\"litellm_provider\":\"openai\",\"input_cost_per_token\":2e-06}}";
	normalize_bytes(&r, dup, sizeof(dup) - 1);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL_FATAL(r.records.count, 1);
	CU_ASSERT(ph_price_is(r.records.items[0], "input", 2));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "line 2"), 1);
	ph_run_free(&r);

	normalize_bytes(&r, "{}", 2);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 0);
	ph_run_free(&r);
}

/* Hostile values cost fields, never the process. */
static void test_hostile_input(void)
{
	static const char page[] =
		"{\"a\":null,\"b\":{\"litellm_provider\":null},"
		"\"bedrock/\":{\"litellm_provider\":\"bedrock\",\"input_cost_per_token\":1e308,"
		"\"output_cost_per_token\":5e-324,\"max_input_tokens\":1e300,"
		"\"max_output_tokens\":-5,"
		"\"tiered_pricing\":[{\"range\":[-1,5],\"input_cost_per_token\":1},"
		"{\"range\":[1.5,2]},{\"range\":[1000,null]},{\"range\":[2000,3000],"
		"\"input_cost_per_token\":{\"x\":1}}],\"supports_\":true,"
		"\"search_context_cost_per_query\":{\"x\":[[[]]]},\"mode\":\"chat\"},"
		"\"c\":{\"litellm_provider\":\"WEIRD PROVIDER\",\"mode\":\"\"}}";
	struct ph_run r;
	normalize_bytes(&r, page, sizeof(page) - 1);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 2);
	/* "bedrock/" has nothing after its prefix: kept whole. */
	const struct mf_record *rec = ph_find_at(&r.records, "amazon-bedrock", "bedrock/");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_PTR_NULL(record_get_map(rec, MF_FIELD_PRICE));
	CU_ASSERT(!ph_int_set(rec, MF_FIELD_CONTEXT_TOKENS));
	CU_ASSERT(!ph_int_set(rec, MF_FIELD_MAX_OUTPUT_TOKENS));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_CAPABILITIES));
	rec = ph_find_at(&r.records, "weird provider", "c");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "b: litellm_provider is null"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "max_input_tokens is 1e+300, not a whole number"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "max_output_tokens is -5, negative"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "tiered_pricing[0] has no usable range"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "tiered_pricing[2] has no usable range"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "context_over_2k.input_cost_per_token is an object"),
			1);
	ph_run_free(&r);
}

/* Thousands of entries with the same defect must not flood the log. */
static void test_warnings_capped(void)
{
	enum { N = 300 };
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("{", f);
	for (int i = 0; i < N; i++)
		fprintf(f, "%s\"groq/m%d\":{\"litellm_provider\":\"groq\","
			   "\"input_cost_per_token\":\"1e-06\",\"output_cost_per_token\":%d.5e-6}",
			i ? "," : "", i, i);
	fputs("}", f);
	fclose(f);

	struct ph_run r;
	normalize_bytes(&r, page, len);
	free(page);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, N);
	ph_expect_capped(r.log, "is a string, expected a number", 1, 50, N);
	const struct mf_record *rec = ph_find_at(&r.records, "groq", "m299");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_price_is(rec, "output", 299.5));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_SOURCE_KEY, "groq/m299"));
	ph_run_free(&r);
}

int main(void)
{
	static const struct tu_test tests[] = {
		{"descriptor, one page", test_descriptor_and_fetch},
		{"one offering per model entry", test_one_offering_per_entry},
		{"all fields mapped", test_all_fields},
		{"exact e-notation conversion", test_exact_conversion},
		{"provider prefixes and spellings", test_provider_prefixes},
		{"limits, legacy max_tokens as fallback", test_limits},
		{"tiered pricing", test_tiered_pricing},
		{"mirror: non-models skipped, wrong types", test_mirror_skips_and_wrong_types},
		{"malformed documents", test_malformed},
		{"hostile input", test_hostile_input},
		{"warnings capped per page", test_warnings_capped},
		{NULL, NULL},
	};
	return tu_main("litellm", tests);
}
