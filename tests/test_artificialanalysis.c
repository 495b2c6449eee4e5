/* The artificialanalysis plugin: key handling in init and fetch, and the
 * normalizer on a fixture written in the API's documented shape, driven
 * through the real host table and record code. The plugin is compiled into
 * this program, so its descriptor is called directly. */
#include "mf_build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_harness.h"
#include "testutil.h"

extern const struct mf_plugin modelfuse_plugin;

#define AA_URL "https://artificialanalysis.ai/api/v2/data/llms/models"
/* A key no message could contain by accident. */
#define CANARY "aa-canary-Zq7xW3kP9"

static void normalize_bytes(struct ph_run *r, const char *data, size_t size)
{
	ph_normalize_bytes(r, &modelfuse_plugin, NULL, AA_URL, data, size);
}

static void normalize_text(struct ph_run *r, const char *text)
{
	normalize_bytes(r, text, strlen(text));
}

static void normalize_fixture(struct ph_run *r, const char *rel)
{
	ph_normalize_fixture(r, &modelfuse_plugin, NULL, AA_URL, rel);
}

/* ------------------------------------------------------ init and fetch */

/* Set up a source as the runner would and call init, its log kept in
 * s->log; url NULL keeps the plugin's default. */
static int source_init(struct ph_source *s, const char *url, const char *key_env,
		       const char *api_key)
{
	ph_source_setup(s, &modelfuse_plugin, "aa", url, NULL);
	if (key_env)
		ph_source_option(s, "api_key_env", key_env);
	if (api_key)
		ph_source_option(s, "api_key", api_key);
	return ph_source_init(s, &s->log);
}

/* Plan the first page into req (caller clears), and check there is no second. */
static int plan(struct ph_source *s, struct mf_request *req)
{
	request_init(req);
	int rc = modelfuse_plugin.fetch(&host_table, &s->ctx, s->state, NULL, req);
	struct mf_page first = ph_page(0, req->url, "{}", 2);
	CU_ASSERT_EQUAL(ph_expect_fetch(&modelfuse_plugin, &s->ctx, s->state, &first, NULL), 0);
	return rc;
}

static void test_descriptor(void)
{
	ph_expect_descriptor(&modelfuse_plugin, "artificialanalysis");
	CU_ASSERT_STRING_EQUAL(modelfuse_plugin.default_url, AA_URL);
	bool env = false, key = false;
	for (const struct mf_option *o = modelfuse_plugin.options; o && o->name; o++) {
		if (strcmp(o->name, "api_key_env") == 0) {
			env = true;
			CU_ASSERT_STRING_EQUAL(o->default_value, "ARTIFICIAL_ANALYSIS_API_KEY");
			CU_ASSERT_FALSE(o->secret);
		}
		if (strcmp(o->name, "api_key") == 0) {
			key = true;
			CU_ASSERT(o->secret);
			CU_ASSERT_PTR_NULL(o->default_value);
		}
	}
	CU_ASSERT(env && key);
}

static void test_key_from_environment(void)
{
	setenv("MF_TEST_AA_KEY", CANARY, 1);
	struct ph_source s;
	CU_ASSERT_EQUAL_FATAL(source_init(&s, NULL, "MF_TEST_AA_KEY", NULL), MF_OK);
	CU_ASSERT_EQUAL(s.log[0], '\0');
	struct mf_request req;
	CU_ASSERT_EQUAL(plan(&s, &req), MF_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req.url);
	/* The key goes in a header marked as auth, never in the URL. */
	CU_ASSERT_STRING_EQUAL(req.url, AA_URL);
	CU_ASSERT_PTR_NULL(strstr(req.url, CANARY));
	CU_ASSERT_EQUAL_FATAL(req.n_headers, 1);
	CU_ASSERT_STRING_EQUAL(req.headers[0].name, "x-api-key");
	CU_ASSERT_STRING_EQUAL(req.headers[0].value, CANARY);
	CU_ASSERT(req.headers[0].is_auth);
	request_clear(&req);
	ph_source_free(&s);

	/* A line end pasted with the key is not part of it. */
	setenv("MF_TEST_AA_KEY", CANARY "\r\n", 1);
	CU_ASSERT_EQUAL_FATAL(source_init(&s, "https://mirror.example.org/aa.json",
					  "MF_TEST_AA_KEY", NULL), MF_OK);
	CU_ASSERT_EQUAL(plan(&s, &req), MF_OK);
	CU_ASSERT_EQUAL_FATAL(req.n_headers, 1);
	CU_ASSERT_STRING_EQUAL(req.headers[0].value, CANARY);
	CU_ASSERT_STRING_EQUAL(req.url, "https://mirror.example.org/aa.json");
	request_clear(&req);
	ph_source_free(&s);
	unsetenv("MF_TEST_AA_KEY");
}

static void test_key_literal(void)
{
	unsetenv("ARTIFICIAL_ANALYSIS_API_KEY");
	struct ph_source s;
	CU_ASSERT_EQUAL_FATAL(source_init(&s, NULL, NULL, CANARY), MF_OK);
	struct mf_request req;
	CU_ASSERT_EQUAL(plan(&s, &req), MF_OK);
	CU_ASSERT_EQUAL_FATAL(req.n_headers, 1);
	CU_ASSERT_STRING_EQUAL(req.headers[0].value, CANARY);
	CU_ASSERT(req.headers[0].is_auth);
	request_clear(&req);
	ph_source_free(&s);

	/* The literal key wins over the environment. */
	setenv("ARTIFICIAL_ANALYSIS_API_KEY", "from-the-environment", 1);
	CU_ASSERT_EQUAL_FATAL(source_init(&s, NULL, NULL, CANARY), MF_OK);
	CU_ASSERT_EQUAL(plan(&s, &req), MF_OK);
	CU_ASSERT_EQUAL_FATAL(req.n_headers, 1);
	CU_ASSERT_STRING_EQUAL(req.headers[0].value, CANARY);
	request_clear(&req);
	ph_source_free(&s);

	/* The default variable name is used when nothing else is said. */
	CU_ASSERT_EQUAL_FATAL(source_init(&s, NULL, NULL, NULL), MF_OK);
	CU_ASSERT_EQUAL(plan(&s, &req), MF_OK);
	CU_ASSERT_EQUAL_FATAL(req.n_headers, 1);
	CU_ASSERT_STRING_EQUAL(req.headers[0].value, "from-the-environment");
	request_clear(&req);
	ph_source_free(&s);
	unsetenv("ARTIFICIAL_ANALYSIS_API_KEY");
}

static void test_disabled_without_key(void)
{
	unsetenv("ARTIFICIAL_ANALYSIS_API_KEY");
	struct ph_source s;
	CU_ASSERT_EQUAL(source_init(&s, NULL, NULL, NULL), MF_EDISABLED);
	CU_ASSERT_EQUAL(ph_count_lines(s.log,
				       "ARTIFICIAL_ANALYSIS_API_KEY is unset or empty: source "
					   "disabled"), 1);
	CU_ASSERT_EQUAL(ph_total_lines(s.log), 1);
	ph_source_free(&s);

	/* Set but empty is no key either. */
	setenv("MF_TEST_AA_EMPTY", "", 1);
	CU_ASSERT_EQUAL(source_init(&s, "http://localhost:8080/models", "MF_TEST_AA_EMPTY", NULL),
			MF_EDISABLED);
	CU_ASSERT_EQUAL(ph_count_lines(s.log, "MF_TEST_AA_EMPTY is unset or empty"), 1);
	ph_source_free(&s);
	unsetenv("MF_TEST_AA_EMPTY");

	CU_ASSERT_EQUAL(source_init(&s, NULL, "", NULL), MF_EDISABLED);
	CU_ASSERT_EQUAL(ph_count_lines(s.log, "api_key_env is empty"), 1);
	ph_source_free(&s);
}

static void test_file_needs_no_key(void)
{
	unsetenv("ARTIFICIAL_ANALYSIS_API_KEY");
	struct ph_source s;
	CU_ASSERT_EQUAL_FATAL(source_init(&s, "file:///srv/aa/models.json", NULL, NULL), MF_OK);
	CU_ASSERT_EQUAL(s.log[0], '\0');
	struct mf_request req;
	CU_ASSERT_EQUAL(plan(&s, &req), MF_OK);
	CU_ASSERT_STRING_EQUAL(req.url, "file:///srv/aa/models.json");
	CU_ASSERT_EQUAL(req.n_headers, 0);
	request_clear(&req);
	ph_source_free(&s);

	/* Even with a key at hand, a file gets no header. */
	CU_ASSERT_EQUAL_FATAL(source_init(&s, "file:///srv/aa/models.json", NULL, CANARY), MF_OK);
	CU_ASSERT_EQUAL(plan(&s, &req), MF_OK);
	CU_ASSERT_EQUAL(req.n_headers, 0);
	request_clear(&req);
	ph_source_free(&s);
}

static void test_bad_key(void)
{
	setenv("MF_TEST_AA_KEY", CANARY "\nX-Injected: 1", 1);
	struct ph_source s;
	CU_ASSERT_EQUAL(source_init(&s, NULL, "MF_TEST_AA_KEY", NULL), MF_EINVAL);
	CU_ASSERT_EQUAL(ph_count_lines(s.log, "the API key (MF_TEST_AA_KEY) is empty or holds "
					   "control characters"), 1);
	CU_ASSERT_PTR_NULL(strstr(s.log, CANARY));
	ph_source_free(&s);

	CU_ASSERT_EQUAL(source_init(&s, NULL, NULL, "\t" CANARY), MF_EINVAL);
	CU_ASSERT_EQUAL(ph_count_lines(s.log, "the API key (api_key)"), 1);
	CU_ASSERT_PTR_NULL(strstr(s.log, CANARY));
	ph_source_free(&s);
	unsetenv("MF_TEST_AA_KEY");
}

/* The key goes nowhere but the header: not in any log line, record or
 * error, along the whole life of the source, good pages and bad. */
static void test_key_never_leaks(void)
{
	setenv("MF_TEST_AA_KEY", CANARY, 1);
	struct ph_source s;
	CU_ASSERT_EQUAL_FATAL(source_init(&s, NULL, "MF_TEST_AA_KEY", NULL), MF_OK);
	char *all_logs = strdup(s.log);

	struct ph_capture c;
	ph_capture_begin(&c);
	struct mf_request req;
	int rc = plan(&s, &req);
	request_clear(&req);
	char *fixture = ph_fixture("tests/fixtures/artificialanalysis/models.json");
	int rc_good = ph_source_normalize(&s, AA_URL, fixture, strlen(fixture));
	static const char *const bad[] = {
		"{\"status\": 401, \"message\": \"Invalid API key\"}",
		"{\"data\": 5}",
		"not json at all",
	};
	int rc_bad[3];
	for (size_t i = 0; i < 3; i++)
		rc_bad[i] = ph_source_normalize(&s, AA_URL, bad[i], strlen(bad[i]));
	modelfuse_plugin.fini(&host_table, &s.ctx, s.state);
	char *log = ph_capture_end(&c);

	CU_ASSERT_EQUAL(rc, MF_OK);
	CU_ASSERT_EQUAL(rc_good, MF_OK);
	for (size_t i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(rc_bad[i], MF_EPARSE);
	CU_ASSERT(s.records.count > 0);
	/* Warnings and errors were logged, so the check is not vacuous. */
	CU_ASSERT(ph_count_lines(log, "warning") > 5);
	CU_ASSERT(ph_count_lines(log, "error") >= 3);
	CU_ASSERT_PTR_NULL(strstr(all_logs, CANARY));
	CU_ASSERT_PTR_NULL(strstr(log, CANARY));
	for (size_t i = 0; i < s.records.count; i++)
		CU_ASSERT_FALSE(ph_record_mentions(s.records.items[i], CANARY));
	free(log);
	free(all_logs);
	free(fixture);
	record_array_free(&s.records);
	free(s.log);
	unsetenv("MF_TEST_AA_KEY");
}

/* ------------------------------------------------------------ normalize */

static void test_records(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/artificialanalysis/models.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	/* 6 models; the string entry and the one without slug or id are
	 * handed to the core to drop and count. */
	CU_ASSERT_EQUAL(r.records.count, 6);
	CU_ASSERT_EQUAL(r.ctx.rejected, 2);
	for (size_t i = 0; i < r.records.count; i++)
		CU_ASSERT_EQUAL(r.records.items[i]->kind, MF_RECORD_MODEL);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "data[6]: entry is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "data[7]: no slug and no id"), 1);
	ph_run_free(&r);
}

static void test_all_fields(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/artificialanalysis/models.json");
	const struct mf_record *rec = ph_find(&r.records, "gpt-4o-2024-08-06");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "openai"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_NAME, "GPT-4o (Aug '24)"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_RELEASE_DATE, "2024-08-06"));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_PROVIDER));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_SOURCE_KEY));

	/* Indices as given; fractions as percentages; the null left out. */
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_SCORES), 10);
	CU_ASSERT(ph_map_is(rec, MF_FIELD_SCORES, "aa.artificial_analysis_intelligence_index",
			    29.3));
	CU_ASSERT(ph_map_is(rec, MF_FIELD_SCORES, "aa.artificial_analysis_coding_index", 24.5));
	CU_ASSERT(ph_map_is(rec, MF_FIELD_SCORES, "aa.artificial_analysis_math_index", 15.1));
	CU_ASSERT(ph_map_is(rec, MF_FIELD_SCORES, "aa.mmlu_pro", 74.8));
	CU_ASSERT(ph_map_is(rec, MF_FIELD_SCORES, "aa.gpqa", 52.1));
	CU_ASSERT(ph_map_is(rec, MF_FIELD_SCORES, "aa.hle", 2.9));
	CU_ASSERT(ph_map_is(rec, MF_FIELD_SCORES, "aa.livecodebench", 31.7));
	CU_ASSERT(ph_map_is(rec, MF_FIELD_SCORES, "aa.scicode", 33.2));
	CU_ASSERT(ph_map_is(rec, MF_FIELD_SCORES, "aa.math_500", 79.5));
	CU_ASSERT(ph_map_is(rec, MF_FIELD_SCORES, "aa.aime", 11.7));
	CU_ASSERT_FALSE(ph_map_has(rec, MF_FIELD_SCORES, "aa.ifbench"));

	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 3);
	CU_ASSERT(ph_map_is(rec, MF_FIELD_PRICE, "input", 2.5));
	CU_ASSERT(ph_map_is(rec, MF_FIELD_PRICE, "output", 10));
	CU_ASSERT(ph_map_is(rec, MF_FIELD_PRICE, "blended_3_to_1", 4.375));
	CU_ASSERT(ph_real_is(rec, MF_FIELD_OUTPUT_SPEED, 108.5));
	CU_ASSERT(ph_real_is(rec, MF_FIELD_TTFT, 0.46));

	/* Nulls are simply absent values. */
	rec = ph_find(&r.records, "claude-35-sonnet");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "anthropic"));
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_SCORES), 8);
	CU_ASSERT_FALSE(ph_map_has(rec, MF_FIELD_SCORES, "aa.hle"));
	CU_ASSERT_FALSE(ph_map_has(rec, MF_FIELD_SCORES, "aa.artificial_analysis_math_index"));
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 2);
	CU_ASSERT_FALSE(ph_map_has(rec, MF_FIELD_PRICE, "output"));
	CU_ASSERT(ph_real_is(rec, MF_FIELD_TTFT, 0.98));

	rec = ph_find(&r.records, "quiet-model");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_NAME, "Quiet Model"));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_MAKER));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_RELEASE_DATE));
	CU_ASSERT_PTR_NULL(record_get_map(rec, MF_FIELD_SCORES));
	CU_ASSERT_PTR_NULL(record_get_map(rec, MF_FIELD_PRICE));
	double d;
	CU_ASSERT_FALSE(record_get_real(rec, MF_FIELD_OUTPUT_SPEED, &d));
	CU_ASSERT_FALSE(record_get_real(rec, MF_FIELD_TTFT, &d));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "quiet-model"), 0);
	ph_run_free(&r);
}

static void test_fallbacks(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/artificialanalysis/models.json");
	/* No slug: the id stands in; no creator slug: its name. A speed of 0
	 * is "not measured". */
	const struct mf_record *rec = ph_find(&r.records, "e5e5e5e5-0000-4000-8000-00000000cccc");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "Meta"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_NAME, "Llama 3.3 Instruct 70B"));
	CU_ASSERT(ph_map_is(rec, MF_FIELD_SCORES, "aa.mmlu_pro", 71.3));
	double d;
	CU_ASSERT_FALSE(record_get_real(rec, MF_FIELD_OUTPUT_SPEED, &d));
	CU_ASSERT(ph_real_is(rec, MF_FIELD_TTFT, 0.55));
	CU_ASSERT(ph_map_is(rec, MF_FIELD_PRICE, "blended_3_to_1", 0.62));

	/* Metrics nested in "performance"; a score above 1 is a percentage. */
	rec = ph_find(&r.records, "gemini-2-0-flash");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_real_is(rec, MF_FIELD_OUTPUT_SPEED, 251.3));
	CU_ASSERT(ph_real_is(rec, MF_FIELD_TTFT, 0.31));
	CU_ASSERT(ph_map_is(rec, MF_FIELD_SCORES, "aa.mmlu_pro", 77.9));
	CU_ASSERT(ph_map_is(rec, MF_FIELD_SCORES, "aa.artificial_analysis_intelligence_index",
			    37.4));
	CU_ASSERT(ph_map_is(rec, MF_FIELD_PRICE, "input", 0.1));
	ph_run_free(&r);
}

static void test_wrong_types(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/artificialanalysis/models.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	const struct mf_record *rec = ph_find(&r.records, "mixed-up-model");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	/* What was right survives... */
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_SCORES), 1);
	CU_ASSERT(ph_map_is(rec, MF_FIELD_SCORES, "aa.gpqa", 60));
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_PRICE), 1);
	CU_ASSERT(ph_map_is(rec, MF_FIELD_PRICE, "blended_3_to_1", 0.8));
	/* ...the rest is left out, each with a warning naming model and field. */
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_NAME));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_RELEASE_DATE));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_MAKER));
	double d;
	CU_ASSERT_FALSE(record_get_real(rec, MF_FIELD_OUTPUT_SPEED, &d));
	CU_ASSERT_FALSE(record_get_real(rec, MF_FIELD_TTFT, &d));

	const char *log = r.log;
	CU_ASSERT_EQUAL(ph_count_lines(log, "mixed-up-model: "), 10);
	CU_ASSERT_EQUAL(ph_count_lines(log, "mixed-up-model: name is an integer"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "mixed-up-model: release_date is an array"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "mixed-up-model: model_creator is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "evaluations.mmlu_pro is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "evaluations.nested is an object"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "evaluations.weird is 150, outside 0..100"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "evaluations.negative is -0.1, outside 0..100"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "price_1m_input_tokens is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "price_1m_output_tokens is -1, negative"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "median_output_tokens_per_second is a string"), 1);
	/* 10 here, 2 dropped entries, 2 drops counted by the core. */
	CU_ASSERT_EQUAL(ph_total_lines(log), 14);
	CU_ASSERT_EQUAL(ph_count_lines(log, "artificialanalysis: "), 14);
	ph_run_free(&r);
}

static void test_bad_pages(void)
{
	static const struct {
		const char *text;
		const char *message;
	} cases[] = {
		{"", "not valid JSON: line 1, column"},
		{"{\"status\": 200, \"data\": [", "not valid JSON"},
		{"[]", "top level is an array"},
		{"{\"status\": 200}", "\"data\" is missing"},
		{"{\"status\": 200, \"data\": {\"a\": 1}}", "\"data\" is an object"},
		{"{\"status\": 200, \"data\": null}", "\"data\" is null"},
		{"{\"status\": 429, \"data\": []}", "the answer says status 429"},
		{"{\"status\": 200, \"data\": []} []", "not valid JSON"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ph_run r;
		normalize_text(&r, cases[i].text);
		CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
		CU_ASSERT_EQUAL(r.records.count, 0);
		CU_ASSERT_EQUAL(ph_count_lines(r.log, cases[i].message), 1);
		if (ph_count_lines(r.log, cases[i].message) != 1)
			fprintf(stderr, "case %zu: log was:\n%s", i, r.log);
		ph_run_free(&r);
	}

	/* An empty list is valid; a missing status is fine. */
	struct ph_run r;
	normalize_text(&r, "{\"data\": []}");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(r.log[0], '\0');
	ph_run_free(&r);

	/* A repeated key upstream is warned about, not fatal. */
	normalize_text(&r, "{\"status\": 200, \"data\": [{\"slug\": \"a\", \"name\": \"x\", "
			   "\"name\": \"y\"}]}");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL_FATAL(r.records.count, 1);
	CU_ASSERT(ph_string_is(r.records.items[0], MF_FIELD_NAME, "y"));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "duplicate object key"), 1);
	ph_run_free(&r);
}

static void test_warnings_capped(void)
{
	enum { N = 300 };
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("{\"status\": 200, \"data\": [", f);
	for (int i = 0; i < N; i++)
		fprintf(f, "%s{\"slug\": \"m%d\", \"median_output_tokens_per_second\": \"x\", "
			   "\"pricing\": {\"price_1m_input_tokens\": %d}}", i ? "," : "", i, i);
	fputs("]}", f);
	fclose(f);
	struct ph_run r;
	normalize_bytes(&r, page, len);
	free(page);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, N);
	ph_expect_capped(r.log, "median_output_tokens_per_second is a string", 1, 50, N);
	CU_ASSERT(ph_map_is(ph_find(&r.records, "m299"), MF_FIELD_PRICE, "input", 299));
	ph_run_free(&r);
}

/* The offline sample the bundled configuration reads. */
static void test_sample_data(void)
{
	struct ph_run r;
	normalize_fixture(&r, "data/samples/artificialanalysis.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT(r.records.count >= 8);
	CU_ASSERT_EQUAL(r.ctx.rejected, 0);
	CU_ASSERT_EQUAL(r.log[0], '\0');
	if (r.log[0])
		fprintf(stderr, "sample warnings:\n%s", r.log);
	size_t with_speed = 0, with_index = 0, with_price = 0;
	for (size_t i = 0; i < r.records.count; i++) {
		const struct mf_record *rec = r.records.items[i];
		double d;
		with_speed += record_get_real(rec, MF_FIELD_OUTPUT_SPEED, &d);
		with_index += ph_map_has(rec, MF_FIELD_SCORES,
				      "aa.artificial_analysis_intelligence_index");
		with_price += ph_map_has(rec, MF_FIELD_PRICE, "input");
		CU_ASSERT_PTR_NOT_NULL(record_get_string(rec, MF_FIELD_MAKER));
	}
	CU_ASSERT(with_speed >= 5);
	CU_ASSERT(with_index >= 5);
	CU_ASSERT(with_price >= 5);
	ph_run_free(&r);
}

int main(void)
{
	static const struct tu_test tests[] = {
		{"descriptor and options", test_descriptor},
		{"key from the environment, in a header", test_key_from_environment},
		{"literal api_key", test_key_literal},
		{"no key: disabled, said why", test_disabled_without_key},
		{"file: url needs no key", test_file_needs_no_key},
		{"key with control characters refused", test_bad_key},
		{"key never in logs or records", test_key_never_leaks},
		{"one record per entry", test_records},
		{"all fields mapped", test_all_fields},
		{"id, maker and metric fallbacks", test_fallbacks},
		{"wrong types skipped with warnings", test_wrong_types},
		{"bad pages refused", test_bad_pages},
		{"warnings capped", test_warnings_capped},
		{"offline sample data", test_sample_data},
		{NULL, NULL},
	};
	return tu_main("artificialanalysis", tests);
}
