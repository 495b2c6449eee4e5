/* The local plugin (the admin's overlay) on fixtures in its documented
 * format, driven through the real host table and record code. The plugin
 * is compiled into this program, so its descriptor is called directly. */
#include "mf_build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_harness.h"
#include "testutil.h"

extern const struct mf_plugin modelfuse_plugin;

#define PAGE_URL "file:///etc/modelfuse/local.json"

static void normalize_bytes(struct ph_run *r, const char *data, size_t size)
{
	ph_normalize_bytes(r, &modelfuse_plugin, NULL, PAGE_URL, data, size);
}

static void normalize_text(struct ph_run *r, const char *text)
{
	normalize_bytes(r, text, strlen(text));
}

static void normalize_fixture(struct ph_run *r, const char *rel)
{
	ph_normalize_fixture(r, &modelfuse_plugin, NULL, PAGE_URL, rel);
}

/* A model and an offering may share an id: look for the one asked. */
static const struct mf_record *find_model(const struct ph_run *r, const char *id)
{
	return ph_find_kind(&r->records, MF_RECORD_MODEL, NULL, id);
}

static const struct mf_record *find_offering(const struct ph_run *r, const char *provider,
					     const char *id)
{
	return ph_find_kind(&r->records, MF_RECORD_OFFERING, provider, id);
}

/* ------------------------------------------------------------------ tests */

static void test_descriptor(void)
{
	ph_expect_descriptor(&modelfuse_plugin, "local");
	/* The overlay is the admin's own file: there is no default to fall back on. */
	CU_ASSERT_PTR_NULL(modelfuse_plugin.default_url);
	CU_ASSERT_PTR_NOT_NULL(modelfuse_plugin.fetch);
	CU_ASSERT_PTR_NOT_NULL(modelfuse_plugin.normalize);
}

static void test_fetch_one_page(void)
{
	struct ph_run r;
	ph_run_setup(&r, &modelfuse_plugin, NULL);

	/* No url configured: nothing to read, said so. */
	struct mf_request req;
	request_init(&req);
	struct ph_capture c;
	ph_capture_begin(&c);
	int rc = modelfuse_plugin.fetch(&host_table, &r.ctx, NULL, NULL, &req);
	char *log = ph_capture_end(&c);
	CU_ASSERT_NOT_EQUAL(rc, MF_OK);
	CU_ASSERT_PTR_NULL(req.url);
	CU_ASSERT_EQUAL(ph_count_lines(log, "no url"), 1);
	free(log);
	request_clear(&req);

	r.ctx.url = PAGE_URL;
	CU_ASSERT_EQUAL(ph_expect_fetch(&modelfuse_plugin, &r.ctx, NULL, NULL, PAGE_URL), 0);
	ph_expect_last_page(&modelfuse_plugin, &r.ctx, NULL, PAGE_URL);
	ph_run_free(&r);
}

static void test_records_and_drops(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/local/overlay.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	/* 3 models and 2 offerings; 5 entries without a usable id handed to
	 * the core to drop and count; 2 repeats skipped. */
	CU_ASSERT_EQUAL(r.records.count, 5);
	CU_ASSERT_EQUAL(r.ctx.emitted, 5);
	CU_ASSERT_EQUAL(r.ctx.rejected, 5);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "models[3]: \"id\" must be a canonical model id"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "models[4]: \"id\" must be"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "models[5]: entry is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "model openai/gpt-4o-2024-08-06: repeats models[0]"),
			1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "offerings[2]: \"provider\" must name"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "offerings[3]: \"provider\" must name"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "offering openai gpt-4o-2024-08-06: repeats "
					   "offerings[0]"), 1);
	/* The repeat did not overwrite the first entry. */
	const struct mf_record *rec = find_model(&r, "openai/gpt-4o-2024-08-06");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_NAME, "GPT-4o (Aug 2024)"));
	CU_ASSERT_PTR_NULL(find_model(&r, "gpt-4o"));
	ph_run_free(&r);
}

static void test_model_fields(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/local/overlay.json");
	const struct mf_record *rec = find_model(&r, "openai/gpt-4o-2024-08-06");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_EQUAL(rec->kind, MF_RECORD_MODEL);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "openai"));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_PROVIDER));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_NAME, "GPT-4o (Aug 2024)"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_FAMILY, "gpt-4o"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_LICENSE, "proprietary"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_RELEASE_DATE, "2024-08-06"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_KNOWLEDGE, "2023-10"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_CREATED, "2024-08-06T00:00:00Z"));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_CONTEXT_TOKENS, 128000));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_MAX_OUTPUT_TOKENS, 16384));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_RANK, 3));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_OPEN_WEIGHTS, false));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_TOOL_CALL, true));
	CU_ASSERT(ph_real_is(rec, MF_FIELD_OUTPUT_SPEED, 95.5));
	CU_ASSERT(ph_real_is(rec, MF_FIELD_TRENDING_SCORE, -3.5));
	CU_ASSERT_EQUAL(record_get_map(rec, MF_FIELD_PRICE)->count, 3);
	CU_ASSERT(ph_map_is(rec, MF_FIELD_PRICE, "input", 2.5));
	CU_ASSERT(ph_map_is(rec, MF_FIELD_PRICE, "output", 10));
	CU_ASSERT(ph_map_is(rec, MF_FIELD_PRICE, "cache_read", 1.25));
	CU_ASSERT(ph_map_is(rec, MF_FIELD_SCORES, "house.coding", 81.5));
	CU_ASSERT(ph_map_is(rec, MF_FIELD_SCORES, "house.penalty", -2));
	static const char *const caps[] = {"tools", "vision"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_CAPABILITIES, caps, 2));
	bool b;
	CU_ASSERT_FALSE(record_get_bool(rec, MF_FIELD_REASONING, &b));
	/* Nothing in this entry was wrong. */
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "model openai/gpt-4o-2024-08-06: "),
			1); /* the repeat */
	ph_run_free(&r);
}

static void test_overlay_controls(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/local/overlay.json");
	const struct mf_record *rec = find_model(&r, "openai/gpt-4o-2024-08-06");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);

	static const char *const aliases[] = {"gpt-4o", "gpt4o-aug"};
	static const char *const tags[] = {"flagship"};
	static const char *const input[] = {"text", "image"};
	static const char *const removed[] = {"aliases:gpt4", "aliases:gpt-4", "tags:cheap"};
	static const char *const replaced[] = {"input_modalities"};
	static const char *const pinned[] = {"name", "license", "price"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_ALIASES, aliases, 2));
	CU_ASSERT(ph_list_is(rec, MF_FIELD_TAGS, tags, 1));
	CU_ASSERT(ph_list_is(rec, MF_FIELD_INPUT_MODALITIES, input, 2));
	CU_ASSERT(ph_list_is(rec, MF_FIELD_REMOVE, removed, 3));
	CU_ASSERT(ph_list_is(rec, MF_FIELD_REPLACE, replaced, 1));
	CU_ASSERT(ph_list_is(rec, MF_FIELD_PINNED, pinned, 3));

	/* An empty replacement empties the list: REPLACE names it while the
	 * record carries no tags. */
	rec = find_model(&r, "meta/llama-3.1-70b-instruct");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	static const char *const tags_only[] = {"tags"};
	static const char *const pinned2[] = {"tags", "open_weights"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_REPLACE, tags_only, 1));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_TAGS));
	CU_ASSERT(ph_list_is(rec, MF_FIELD_PINNED, pinned2, 2));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "meta"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_LICENSE, "llama3.1"));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_OPEN_WEIGHTS, true));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_REMOVE));
	ph_run_free(&r);
}

static void test_offerings(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/local/overlay.json");
	const struct mf_record *rec = find_offering(&r, "openai", "gpt-4o-2024-08-06");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_MAKER));
	CU_ASSERT(ph_map_is(rec, MF_FIELD_PRICE, "input", 2.5));
	CU_ASSERT(ph_map_is(rec, MF_FIELD_PRICE, "output", 10));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_CONTEXT_TOKENS, 128000));
	static const char *const price[] = {"price"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_PINNED, price, 1));

	/* A host's id with a slash is an offering id, kept whole. */
	rec = find_offering(&r, "openrouter", "openai/gpt-4o");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_STATUS, "deprecated"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_DEPRECATION_DATE, "2025-06-01"));
	static const char *const text[] = {"text"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_OUTPUT_MODALITIES, text, 1));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_PINNED));
	ph_run_free(&r);
}

static void test_bad_fields_warned(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/local/overlay.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	const struct mf_record *rec = find_model(&r, "anthropic/claude-3-5-sonnet-20241022");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);

	/* The good values went in... */
	CU_ASSERT(ph_string_is(rec, MF_FIELD_FAMILY, "claude-3.5-sonnet"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "anthropic"));
	CU_ASSERT_EQUAL(record_get_map(rec, MF_FIELD_PRICE)->count, 1);
	CU_ASSERT(ph_map_is(rec, MF_FIELD_PRICE, "input", 3));
	static const char *const aliases[] = {"claude-3-5-sonnet-latest"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_ALIASES, aliases, 1));
	static const char *const family[] = {"family"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_PINNED, family, 1));

	/* ...the bad ones did not. */
	int64_t i;
	bool b;
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_NAME));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_RELEASE_DATE));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_LICENSE));
	CU_ASSERT_FALSE(record_get_int(rec, MF_FIELD_CONTEXT_TOKENS, &i));
	CU_ASSERT_FALSE(record_get_int(rec, MF_FIELD_MAX_OUTPUT_TOKENS, &i));
	CU_ASSERT_FALSE(record_get_bool(rec, MF_FIELD_REASONING, &b));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_CAPABILITIES));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_TAGS));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_REMOVE));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_REPLACE));

	/* One warning per mistake, each naming the entry and the field. */
	const char *log = r.log;
	CU_ASSERT_EQUAL(ph_count_lines(log, "model anthropic/claude-3-5-sonnet-20241022: "), 21);
	CU_ASSERT_EQUAL(ph_count_lines(log, "unknown key \"extra\""), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "set.name is an integer, expected a non-empty string"),
			1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "set.context_tokens is not a whole number >= 0"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "set.max_output_tokens is not a whole number"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "set.release_date is not a date YYYY-MM-DD"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "set.reasoning is a string, expected true or false"),
			1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "set.price.output is a string, expected a number"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "set.price.cache_write is -1, a negative price"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "set.maker: maker cannot be set here"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "set.aliases: aliases is a union list"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "set.colour: unknown field"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "set.license is null: an overlay can override"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "add.aliases[1] is an integer"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "add.aliases[2] is an empty string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "add.capabilities: capabilities is not a union list"),
			1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "add.flavours: unknown field"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "remove.tags is a string, expected an array"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "pin[0]: the entry gives no value for name"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "pin[1]: bogus is not a field"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "pin[2]: the entry gives no value for license"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "pin[3] is an integer"), 1);
	/* 21 above, 7 entry problems, 5 drops counted by the core; nothing else,
	 * and every line carries the instance the host puts in front. */
	CU_ASSERT_EQUAL(ph_total_lines(log), 33);
	CU_ASSERT_EQUAL(ph_count_lines(log, "local: "), 33);
	ph_run_free(&r);
}

static void test_document_refused(void)
{
	static const struct {
		const char *fixture;
		const char *message;
	} cases[] = {
		{"tests/fixtures/local/malformed.json", "not valid JSON: line 1, column"},
		{"tests/fixtures/local/future-format.json",
		 "format \"modelfuse-local/2\" is not supported (this plugin reads "
		 "modelfuse-local/1)"},
		{"tests/fixtures/local/no-format.json", "no \"format\""},
		{"tests/fixtures/local/duplicate-key.json", "duplicate object key"},
		{"tests/fixtures/local/models-object.json", "\"models\" is an object"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ph_run r;
		normalize_fixture(&r, cases[i].fixture);
		CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
		CU_ASSERT_EQUAL(r.records.count, 0);
		CU_ASSERT_EQUAL(ph_count_lines(r.log, cases[i].message), 1);
		if (ph_count_lines(r.log, cases[i].message) != 1)
			fprintf(stderr, "%s: log was:\n%s", cases[i].fixture, r.log);
		ph_run_free(&r);
	}

	static const char *const texts[] = {
		"",
		"[]",
		"\"modelfuse-local/1\"",
		"{\"format\": 1}",
		"{\"format\": \"modelfuse-local/1\", \"offerings\": 7}",
		"{\"format\": \"modelfuse-local/1\"} {}",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct ph_run r;
		normalize_text(&r, texts[i]);
		CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
		CU_ASSERT_EQUAL(r.records.count, 0);
		CU_ASSERT(ph_total_lines(r.log) >= 1);
		ph_run_free(&r);
	}
}

static void test_empty_and_unknown_top_level(void)
{
	struct ph_run r;
	normalize_text(&r, "{\"format\": \"modelfuse-local/1\"}");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(r.log[0], '\0');
	ph_run_free(&r);

	normalize_text(&r, "{\"format\": \"modelfuse-local/1\", \"models\": null, "
			   "\"offerings\": [], \"modles\": [], \"comment\": \"x\"}");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "unknown top-level key \"modles\""), 1);
	CU_ASSERT_EQUAL(ph_total_lines(r.log), 1);
	ph_run_free(&r);
}

/* Every field name the core knows is either accepted or explained. */
static void test_every_field_name(void)
{
	for (int f = 1; f < MF_FIELD_COUNT; f++) {
		const struct field_info *fi = field_info((enum mf_field)f);
		if (!fi)
			continue;
		char doc[512];
		snprintf(doc, sizeof(doc),
			 "{\"format\": \"modelfuse-local/1\", \"models\": [{\"id\": \"a/b\", "
			 "\"set\": {\"%s\": 1}}]}", fi->name);
		struct ph_run r;
		normalize_text(&r, doc);
		CU_ASSERT_EQUAL(r.rc, MF_OK);
		CU_ASSERT_EQUAL(r.records.count, 1);
		CU_ASSERT_EQUAL(ph_count_lines(r.log, "unknown field"), 0);
		if (ph_count_lines(r.log, "unknown field") != 0)
			fprintf(stderr, "field %s unknown to the local plugin\n", fi->name);
		/* A number is right for numeric fields and stored under the
		 * very field the name says. */
		if (fi->type == MF_TYPE_INT && r.records.count == 1)
			CU_ASSERT(ph_int_is(r.records.items[0], (enum mf_field)f, 1));
		if (fi->type == MF_TYPE_REAL && r.records.count == 1)
			CU_ASSERT(ph_real_is(r.records.items[0], (enum mf_field)f, 1));
		ph_run_free(&r);
	}
}

static void test_values_by_type(void)
{
	struct ph_run r;
	normalize_text(&r,
		       "{\"format\": \"modelfuse-local/1\", \"models\": [{\"id\": \"m/x\", "
		       "\"set\": {"
		       "\"knowledge\": \"2024-13\", \"last_updated\": \"2024-02-30x\", "
		       "\"reviewed\": \"2025-01-15\", \"created\": \"2024-01-01 10:00\", "
		       "\"time_to_first_token_seconds\": -0.5, \"parameters\": 70000000000, "
		       "\"gated\": true, \"price\": {\"\": 1, \"request\": 0.01}, "
		       "\"scores\": [1], \"supported_parameters\": [\"temperature\", 3], "
		       "\"name\": [\"x\"], \"description\": \"\", \"moving_pointer\": false}}]}");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL_FATAL(r.records.count, 1);
	const struct mf_record *rec = r.records.items[0];
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "m"));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_KNOWLEDGE));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_LAST_UPDATED));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_REVIEWED, "2025-01-15"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_CREATED, "2024-01-01 10:00"));
	double d;
	CU_ASSERT_FALSE(record_get_real(rec, MF_FIELD_TTFT, &d));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_PARAMETERS, 70000000000));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_GATED, true));
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_MOVING_POINTER, false));
	CU_ASSERT_EQUAL(record_get_map(rec, MF_FIELD_PRICE)->count, 1);
	CU_ASSERT(ph_map_is(rec, MF_FIELD_PRICE, "request", 0.01));
	CU_ASSERT_PTR_NULL(record_get_map(rec, MF_FIELD_SCORES));
	static const char *const params[] = {"temperature"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_SUPPORTED_PARAMETERS, params, 1));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_NAME));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_DESCRIPTION));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "set.knowledge is not a date YYYY-MM or"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "set.last_updated is not"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log,
				       "set.time_to_first_token_seconds is not a number >= 0"),
			1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "set.price has an empty key"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "set.scores is an array"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "set.supported_parameters[1] is an integer"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "set.name is an array, expected a non-empty"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "set.description is not"), 1);
	CU_ASSERT_EQUAL(ph_total_lines(r.log), 8);
	ph_run_free(&r);
}

/* Sections of the wrong shape lose only themselves; ids are checked. */
static void test_sections_and_ids(void)
{
	struct ph_run r;
	normalize_text(&r, "{\"format\": \"modelfuse-local/1\", \"models\": ["
			   "{\"id\": \"a/b\", \"set\": [1], \"add\": \"x\", \"pin\": {}, "
			   "\"replace\": {\"aliases\": [\"only\"]}, \"remove\": null},"
			   "{\"id\": \"/b\"}, {\"id\": \"a/\"}, {\"id\": 5}, {\"id\": \"c/d\", "
			   "\"provider\": \"x\"}], \"offerings\": [{\"provider\": \"groq\", "
			   "\"id\": \"a/b\"}]}");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 3);
	CU_ASSERT_EQUAL(r.ctx.rejected, 3);
	const struct mf_record *rec = find_model(&r, "a/b");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	static const char *const only[] = {"only"};
	static const char *const aliases[] = {"aliases"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_ALIASES, only, 1));
	CU_ASSERT(ph_list_is(rec, MF_FIELD_REPLACE, aliases, 1));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "model a/b: set is an array, expected an object"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "model a/b: add is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "model a/b: pin is an object, expected an array"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "model c/d: unknown key \"provider\""), 1);
	/* A model and an offering with the same id are different things. */
	CU_ASSERT_PTR_NOT_NULL(find_offering(&r, "groq", "a/b"));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "repeats"), 0);
	ph_run_free(&r);
}

/* Thousands of broken entries must not flood the log. */
static void test_warnings_capped(void)
{
	enum { N = 500 };
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("{\"format\": \"modelfuse-local/1\", \"models\": [", f);
	for (int i = 0; i < N; i++)
		fprintf(f, "%s{\"id\": \"m/x%d\", \"set\": {\"reasoning\": \"maybe\", "
			   "\"context_tokens\": %d}}", i ? "," : "", i, i + 1);
	fputs("]}", f);
	fclose(f);

	struct ph_run r;
	normalize_bytes(&r, page, len);
	free(page);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, N);
	ph_expect_capped(r.log, "set.reasoning is a string", 10, 200, N);
	CU_ASSERT(ph_int_is(find_model(&r, "m/x499"), MF_FIELD_CONTEXT_TOKENS, 500));
	ph_run_free(&r);
}

/* Deep nesting and huge strings are refused or survived, never a crash. */
static void test_hostile_input(void)
{
	enum { DEPTH = 5000 };
	char *deep = malloc(2 * DEPTH + 64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(deep);
	size_t n = 0;
	for (int i = 0; i < DEPTH; i++)
		deep[n++] = '[';
	for (int i = 0; i < DEPTH; i++)
		deep[n++] = ']';
	struct ph_run r;
	normalize_bytes(&r, deep, n);
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	ph_run_free(&r);
	free(deep);

	enum { LONG = 100000 };
	char *big = malloc(LONG + 256);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	int k = snprintf(big, 256, "{\"format\": \"modelfuse-local/1\", \"models\": [{\"id\": \"");
	memset(big + k, 'a', LONG);
	k += LONG;
	snprintf(big + k, 200, "/b\", \"set\": {\"name\": \"n\"}}]}");
	normalize_text(&r, big);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "id too long"), 1);
	ph_run_free(&r);
	free(big);
}

/* The offline sample the bundled configuration reads. */
static void test_sample_data(void)
{
	struct ph_run r;
	normalize_fixture(&r, "data/samples/local-overlay.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT(r.records.count >= 3);
	CU_ASSERT_EQUAL(r.ctx.rejected, 0);
	CU_ASSERT_EQUAL(r.log[0], '\0');
	if (r.log[0])
		fprintf(stderr, "sample overlay warnings:\n%s", r.log);
	const struct mf_record *rec = find_model(&r, "openai/gpt-4o-2024-08-06");
	CU_ASSERT_PTR_NOT_NULL(rec);
	bool removes = false, pins = false;
	for (size_t i = 0; i < r.records.count; i++) {
		removes = removes || record_get_list(r.records.items[i], MF_FIELD_REMOVE);
		pins = pins || record_get_list(r.records.items[i], MF_FIELD_PINNED);
	}
	CU_ASSERT(removes);
	CU_ASSERT(pins);
	ph_run_free(&r);
}

int main(void)
{
	static const struct tu_test tests[] = {
		{"descriptor", test_descriptor},
		{"fetch plans the overlay file", test_fetch_one_page},
		{"records, drops and repeats", test_records_and_drops},
		{"model fields set", test_model_fields},
		{"add, replace, remove and pin", test_overlay_controls},
		{"offerings", test_offerings},
		{"bad fields warned and skipped", test_bad_fields_warned},
		{"bad documents refused", test_document_refused},
		{"empty overlay, unknown top-level keys", test_empty_and_unknown_top_level},
		{"every core field name accepted or explained", test_every_field_name},
		{"values checked by type", test_values_by_type},
		{"sections of the wrong shape, ids", test_sections_and_ids},
		{"warnings capped", test_warnings_capped},
		{"hostile input", test_hostile_input},
		{"offline sample data", test_sample_data},
		{NULL, NULL},
	};
	return tu_main("local", tests);
}
