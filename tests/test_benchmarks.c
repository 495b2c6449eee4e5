/* The benchmarks plugin: fetch planning over a folder of files, and the
 * normalizer on fixtures in its documented format, driven through the real
 * host table, record code and (for planned file: URLs) fetch service. The
 * plugin is compiled into this program, so its descriptor is called
 * directly. */
#include "mf_build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_harness.h"
#include "testutil.h"

extern const struct mf_plugin modelfuse_plugin;

/* The page URL matters: the plugin names the benchmark after the file. */
static void normalize_bytes(struct ph_run *r, const char *url, const char *data, size_t size)
{
	ph_normalize_bytes(r, &modelfuse_plugin, NULL, url, data, size);
}

static void normalize_text(struct ph_run *r, const char *text)
{
	normalize_bytes(r, "file:///bench/inline.json", text, strlen(text));
}

static void normalize_fixture(struct ph_run *r, const char *rel)
{
	ph_normalize_fixture(r, &modelfuse_plugin, NULL, rel, rel);
}

/* ----------------------------------------------------- fetch planning */

/* The plugin's view of one configured source, initialized (init logs on
 * stderr, not captured). */
static int source_init(struct ph_source *s, const char *url, const char *pattern)
{
	ph_source_setup(s, &modelfuse_plugin, "bench", url, NULL);
	if (pattern)
		ph_source_option(s, "pattern", pattern);
	return ph_source_init(s, NULL);
}

/* Drive fetch as the runner does; the URLs planned go into urls (up to
 * max). Returns the count, or -1 - rc when fetch failed. The log of the
 * whole walk goes to *log when not NULL. */
static int plan_all(struct ph_source *s, char **urls, int max, char **log)
{
	struct ph_capture c;
	ph_capture_begin(&c);
	int n = 0;
	for (;;) {
		struct mf_page prev =
			ph_page((unsigned)(n - 1), n > 0 ? urls[n - 1] : NULL, "{}", 2);
		struct mf_request req;
		request_init(&req);
		int rc = modelfuse_plugin.fetch(&host_table, &s->ctx, s->state,
						n > 0 ? &prev : NULL, &req);
		if (rc == MF_DONE) {
			CU_ASSERT_PTR_NULL(req.url);
			request_clear(&req);
			break;
		}
		if (rc != MF_OK || n == max) {
			request_clear(&req);
			n = rc != MF_OK ? -1 + rc : -100;
			break;
		}
		CU_ASSERT_PTR_NOT_NULL_FATAL(req.url);
		CU_ASSERT_EQUAL(req.n_headers, 0);
		urls[n++] = strdup(req.url);
		request_clear(&req);
	}
	char *text = ph_capture_end(&c);
	if (log)
		*log = text;
	else
		free(text);
	return n;
}

static char *file_url(const char *dir, const char *name)
{
	char *u = NULL;
	CU_ASSERT_FATAL(asprintf(&u, "file://%s%s%s", dir, name ? "/" : "", name ? name : "") >
			0);
	return u;
}

/* Every planned URL must be readable through the core's own fetch, and
 * give back the file's bytes. */
static void assert_fetchable(const char *url, const char *want)
{
	struct fetch_limits lim = {
		.connect_timeout_ms = 1000,
		.transfer_timeout_ms = 5000,
		.max_body_bytes = 1 << 20,
		.max_redirects = 0,
	};
	struct mf_request req;
	request_init(&req);
	request_set_url(&req, url);
	struct fetched_page page;
	char err[512] = "";
	int rc = fetch_perform(&lim, &req, 0, &page, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, 0);
	if (rc != 0) {
		fprintf(stderr, "fetch %s: %s\n", url, err);
	} else {
		CU_ASSERT_EQUAL(page.size, strlen(want));
		CU_ASSERT(page.size == strlen(want) && memcmp(page.data, want, page.size) == 0);
		fetched_page_free(&page);
	}
	request_clear(&req);
}

static void test_descriptor(void)
{
	ph_expect_descriptor(&modelfuse_plugin, "benchmarks");
	CU_ASSERT_PTR_NULL(modelfuse_plugin.default_url);
	/* `path` is the core's; the plugin must not declare it. */
	bool pattern = false;
	for (const struct mf_option *o = modelfuse_plugin.options; o && o->name; o++) {
		CU_ASSERT(strcmp(o->name, "path") != 0);
		if (strcmp(o->name, "pattern") == 0) {
			pattern = true;
			CU_ASSERT_STRING_EQUAL(o->default_value, "*.json");
			CU_ASSERT_EQUAL(o->type, MF_OPT_STRING);
		}
	}
	CU_ASSERT(pattern);
}

static void test_plan_folder_sorted(void)
{
	char *dir = tu_tmpdir();
	static const char *const files[][2] = {
		{"mmlu.json", "{\"m\":1}"},
		{"arena-2025.json", "{\"a\":1}"},
		{"c d#1%.json", "{\"odd\":1}"},
		{"Zeta.json", "{\"z\":1}"},
		{"notes.txt", "not a benchmark file"},
		{".draft.json", "{\"hidden\":1}"},
		{"sub.json/inner.json", "{\"deeper\":1}"},
		{"humaneval.json.bak", "{}"},
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		free(tu_write_file(dir, files[i][0], files[i][1]));

	struct ph_source s;
	char *url = file_url(dir, NULL);
	CU_ASSERT_EQUAL_FATAL(source_init(&s, url, NULL), MF_OK);
	char *urls[16] = {0};
	char *log = NULL;
	int n = plan_all(&s, urls, 16, &log);
	/* Byte order: upper case before lower case; the folder "sub.json",
	 * the hidden draft, the .txt and the .bak are not pages. */
	CU_ASSERT_EQUAL_FATAL(n, 4);
	char *want0 = file_url(dir, "Zeta.json");
	char *want1 = file_url(dir, "arena-2025.json");
	char *want2 = file_url(dir, "c%20d%231%25.json");
	char *want3 = file_url(dir, "mmlu.json");
	CU_ASSERT_STRING_EQUAL(urls[0], want0);
	CU_ASSERT_STRING_EQUAL(urls[1], want1);
	CU_ASSERT_STRING_EQUAL(urls[2], want2);
	CU_ASSERT_STRING_EQUAL(urls[3], want3);
	CU_ASSERT_EQUAL(log[0], '\0');
	assert_fetchable(urls[0], "{\"z\":1}");
	assert_fetchable(urls[2], "{\"odd\":1}");
	assert_fetchable(urls[3], "{\"m\":1}");
	free(want0);
	free(want1);
	free(want2);
	free(want3);
	for (int i = 0; i < n; i++)
		free(urls[i]);
	free(log);
	ph_source_free(&s);
	free(url);

	/* Another pattern picks other files; a trailing '/' on the folder is fine. */
	url = file_url(dir, "");
	CU_ASSERT_EQUAL_FATAL(source_init(&s, url, "*.txt"), MF_OK);
	n = plan_all(&s, urls, 16, NULL);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	want0 = file_url(dir, "notes.txt");
	CU_ASSERT_STRING_EQUAL(urls[0], want0);
	free(want0);
	free(urls[0]);
	ph_source_free(&s);
	free(url);

	tu_rm_rf(dir);
	free(dir);
}

static void test_plan_single_and_remote(void)
{
	char *dir = tu_tmpdir();
	free(tu_write_file(dir, "one.json", "{}"));
	free(tu_write_file(dir, "two.json", "{}"));

	/* A url naming one file: that file only, whatever the pattern. */
	struct ph_source s;
	char *url = file_url(dir, "one.json");
	CU_ASSERT_EQUAL_FATAL(source_init(&s, url, "*.txt"), MF_OK);
	char *urls[4] = {0};
	int n = plan_all(&s, urls, 4, NULL);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_STRING_EQUAL(urls[0], url);
	free(urls[0]);
	ph_source_free(&s);
	free(url);

	/* file:/path and file://localhost/path name the same folder. */
	char *alt = NULL;
	CU_ASSERT_FATAL(asprintf(&alt, "file://localhost%s", dir) > 0);
	CU_ASSERT_EQUAL_FATAL(source_init(&s, alt, NULL), MF_OK);
	n = plan_all(&s, urls, 4, NULL);
	CU_ASSERT_EQUAL(n, 2);
	for (int i = 0; i < n; i++)
		free(urls[i]);
	ph_source_free(&s);
	free(alt);

	/* An http(s) url is one remote file. */
	const char *remote = "https://bench.example.org/results/mmlu.json";
	CU_ASSERT_EQUAL_FATAL(source_init(&s, remote, NULL), MF_OK);
	n = plan_all(&s, urls, 4, NULL);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_STRING_EQUAL(urls[0], remote);
	free(urls[0]);
	ph_source_free(&s);

	tu_rm_rf(dir);
	free(dir);
}

static void test_plan_problems(void)
{
	char *dir = tu_tmpdir();
	struct ph_source s;
	char *urls[4] = {0};
	char *log = NULL;

	/* An empty folder: nothing to read, said once, not an error. */
	char *url = file_url(dir, NULL);
	CU_ASSERT_EQUAL_FATAL(source_init(&s, url, NULL), MF_OK);
	CU_ASSERT_EQUAL(plan_all(&s, urls, 4, &log), 0);
	CU_ASSERT_EQUAL(ph_count_lines(log, "matches *.json"), 1);
	free(log);
	ph_source_free(&s);
	free(url);

	/* A folder that does not exist fails the fetch, naming it. */
	url = file_url(dir, "missing");
	CU_ASSERT_EQUAL_FATAL(source_init(&s, url, NULL), MF_OK);
	CU_ASSERT(plan_all(&s, urls, 4, &log) < 0);
	CU_ASSERT_EQUAL(ph_count_lines(log, "missing: No such file or directory"), 1);
	free(log);
	ph_source_free(&s);
	free(url);

	/* A file: URL on another host is not local. */
	CU_ASSERT_EQUAL_FATAL(source_init(&s, "file://server/share/bench", NULL), MF_OK);
	CU_ASSERT(plan_all(&s, urls, 4, &log) < 0);
	CU_ASSERT_EQUAL(ph_count_lines(log, "not a local file URL"), 1);
	free(log);
	ph_source_free(&s);

	/* No url at all. */
	CU_ASSERT_EQUAL_FATAL(source_init(&s, NULL, NULL), MF_OK);
	CU_ASSERT(plan_all(&s, urls, 4, &log) < 0);
	CU_ASSERT_EQUAL(ph_count_lines(log, "no url"), 1);
	free(log);
	ph_source_free(&s);

	/* A pattern with a '/' could never match a file name: refused. */
	struct ph_source bad;
	struct ph_capture c;
	ph_capture_begin(&c);
	int rc = source_init(&bad, "file:///srv/bench", "sub/*.json");
	log = ph_capture_end(&c);
	CU_ASSERT_EQUAL(rc, MF_EINVAL);
	CU_ASSERT_EQUAL(ph_count_lines(log, "pattern 'sub/*.json'"), 1);
	free(log);
	ph_source_free(&bad);

	tu_rm_rf(dir);
	free(dir);
}

/* ----------------------------------------------------------- normalize */

static void test_single_benchmark(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/benchmarks/humaneval.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 7);
	CU_ASSERT_EQUAL(r.ctx.rejected, 1);
	for (size_t i = 0; i < r.records.count; i++)
		CU_ASSERT_EQUAL(r.records.items[i]->kind, MF_RECORD_MODEL);

	/* 0..1 scores become percentages, dated by the file... */
	const struct mf_record *rec = ph_find(&r.records, "openai/gpt-4o-2024-08-06");
	CU_ASSERT(ph_score_is(rec, "bench.humaneval", 90.2));
	CU_ASSERT(ph_score_is(rec, "bench.humaneval.date", 20250301));
	CU_ASSERT_EQUAL(record_get_map(rec, MF_FIELD_SCORES)->count, 2);
	CU_ASSERT_STRING_EQUAL(record_get_string(rec, MF_FIELD_MAKER), "openai");
	/* ...or by the score itself. */
	rec = ph_find(&r.records, "anthropic/claude-3-5-sonnet-20241022");
	CU_ASSERT(ph_score_is(rec, "bench.humaneval", 92));
	CU_ASSERT(ph_score_is(rec, "bench.humaneval.date", 20241022));
	/* Ids stay as the file wrote them; the maker is their namespace. */
	rec = ph_find(&r.records, "meta-llama/Llama-3.1-70B-Instruct");
	CU_ASSERT(ph_score_is(rec, "bench.humaneval", 80.5));
	CU_ASSERT_STRING_EQUAL(record_get_string(rec, MF_FIELD_MAKER), "meta-llama");
	rec = ph_find(&r.records, "gpt-4o-mini");
	CU_ASSERT(ph_score_is(rec, "bench.humaneval", 87.2));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_MAKER));
	/* 0.29 * 100 is 28.999999999999996 in floating point: rounded. */
	rec = ph_find(&r.records, "google/gemini-2.0-flash");
	CU_ASSERT(ph_score_is(rec, "bench.humaneval", 29));
	CU_ASSERT(ph_score_is(rec, "bench.humaneval.date", 20250301));
	CU_ASSERT(ph_score_is(ph_find(&r.records, "perfect/model"), "bench.humaneval", 100));
	CU_ASSERT(ph_score_is(ph_find(&r.records, "zero/model"), "bench.humaneval", 0));

	/* Not evaluated (null), out of scale, not a number, no score: no record. */
	CU_ASSERT_PTR_NULL(ph_find(&r.records, "deepseek/deepseek-v3"));
	CU_ASSERT_PTR_NULL(ph_find(&r.records, "qwen/qwen2.5-72b-instruct"));
	CU_ASSERT_PTR_NULL(ph_find(&r.records, "mistral/mistral-large-2411"));
	CU_ASSERT_PTR_NULL(ph_find(&r.records, "xai/grok-2"));

	CU_ASSERT_EQUAL(ph_count_lines(r.log, "qwen/qwen2.5-72b-instruct: score 1.2 is outside "
					   "the file's scale 0..1"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "mistral/mistral-large-2411: score is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "google/gemini-2.0-flash: \"date\" is not "
					   "YYYY-MM-DD"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "empty model id"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "humaneval.json: "), 4);
	CU_ASSERT_EQUAL(ph_total_lines(r.log), 5); /* and the core's drop */
	ph_run_free(&r);
}

static void test_several_benchmarks(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/benchmarks/knowledge.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	/* One record per model per file, whatever the number of benchmarks,
	 * in order of first appearance. */
	CU_ASSERT_EQUAL_FATAL(r.records.count, 3);
	CU_ASSERT_STRING_EQUAL(r.records.items[0]->native_id, "openai/gpt-4o-2024-08-06");
	CU_ASSERT_STRING_EQUAL(r.records.items[1]->native_id, "gpt-4o-mini");
	CU_ASSERT_STRING_EQUAL(r.records.items[2]->native_id,
			       "anthropic/claude-3-5-sonnet-20241022");

	const struct mf_record *rec = r.records.items[0];
	CU_ASSERT_EQUAL(record_get_map(rec, MF_FIELD_SCORES)->count, 6);
	CU_ASSERT(ph_score_is(rec, "bench.mmlu", 88.7));
	CU_ASSERT(ph_score_is(rec, "bench.mmlu.date", 20250210));
	/* Names are lower-cased; a benchmark's own scale and date win. */
	CU_ASSERT(ph_score_is(rec, "bench.gpqa", 53.6));
	CU_ASSERT(ph_score_is(rec, "bench.gpqa.date", 20250220));
	CU_ASSERT(ph_score_is(rec, "bench.mmlu_pro", 72.6));
	CU_ASSERT(ph_score_is(rec, "bench.mmlu_pro.date", 20250210));
	CU_ASSERT_FALSE(ph_map_has(rec, MF_FIELD_SCORES, "bench.GPQA"));

	CU_ASSERT(ph_score_is(r.records.items[1], "bench.mmlu", 82));
	rec = r.records.items[2];
	CU_ASSERT(ph_score_is(rec, "bench.gpqa", 65));
	CU_ASSERT_FALSE(ph_map_has(rec, MF_FIELD_SCORES, "bench.mmlu_pro"));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "score 100.5 is outside the file's scale 0..100"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "benchmark mmlu_pro: unknown key \"notes\""), 1);
	CU_ASSERT_EQUAL(ph_total_lines(r.log), 2);
	ph_run_free(&r);
}

static void test_undated(void)
{
	struct ph_run r;
	normalize_text(&r, "{\"format\": \"modelfuse-benchmarks/1\", \"benchmark\": \"truthfulqa\","
			   " \"scale\": \"0..100\", \"scores\": {\"a/b\": 61.5, "
			   "\"c\": {\"score\": 40,"
			   " \"date\": \"2024-12-01\"}}}");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL_FATAL(r.records.count, 2);
	CU_ASSERT(ph_score_is(ph_find(&r.records, "a/b"), "bench.truthfulqa", 61.5));
	CU_ASSERT_FALSE(ph_map_has(ph_find(&r.records, "a/b"), MF_FIELD_SCORES,
				   "bench.truthfulqa.date"));
	CU_ASSERT(ph_score_is(ph_find(&r.records, "c"), "bench.truthfulqa.date", 20241201));
	CU_ASSERT_EQUAL(r.log[0], '\0');
	ph_run_free(&r);
}

static void test_files_refused(void)
{
	static const struct {
		const char *fixture;
		const char *message;
	} cases[] = {
		{"tests/fixtures/benchmarks/no-scale.json",
		 "benchmark gsm8k: \"scale\" must be \"0..1\" or \"0..100\""},
		{"tests/fixtures/benchmarks/percent-scale.json",
		 "benchmark hellaswag: \"scale\" must be \"0..1\" or \"0..100\", not \"percent\""},
		{"tests/fixtures/benchmarks/future-format.json",
		 "format \"modelfuse-benchmarks/2\" is not supported"},
		{"tests/fixtures/benchmarks/malformed.json", "not valid JSON: line 1, column"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ph_run r;
		normalize_fixture(&r, cases[i].fixture);
		CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
		/* Refused whole: not even the good benchmark of the file. */
		CU_ASSERT_EQUAL(r.records.count, 0);
		CU_ASSERT_EQUAL(ph_count_lines(r.log, cases[i].message), 1);
		if (ph_count_lines(r.log, cases[i].message) != 1)
			fprintf(stderr, "%s: log was:\n%s", cases[i].fixture, r.log);
		ph_run_free(&r);
	}

	static const struct {
		const char *text;
		const char *message;
	} texts[] = {
		{"", "not valid JSON"},
		{"[]", "top level is an array"},
		{"{\"benchmark\": \"x\", \"scale\": \"0..1\", \"scores\": {}}", "no \"format\""},
		{"{\"format\": \"modelfuse-benchmarks/1\"}", "no \"benchmark\" and no"},
		{"{\"format\": \"modelfuse-benchmarks/1\", \"benchmark\": \"x\", "
		 "\"benchmarks\": [], "
		 "\"scale\": \"0..1\", \"scores\": {}}", "not both"},
		{"{\"format\": \"modelfuse-benchmarks/1\", \"benchmarks\": {}}",
		 "\"benchmarks\" is an object"},
		{"{\"format\": \"modelfuse-benchmarks/1\", \"benchmarks\": [7]}",
		 "benchmarks[0] is an integer"},
		{"{\"format\": \"modelfuse-benchmarks/1\", \"benchmark\": \"mmlu.v2\", "
		 "\"scale\": \"0..1\", \"scores\": {}}", "needs \"benchmark\": a name"},
		{"{\"format\": \"modelfuse-benchmarks/1\", \"benchmark\": 5, "
		 "\"scale\": \"0..1\", \"scores\": {}}", "needs \"benchmark\""},
		{"{\"format\": \"modelfuse-benchmarks/1\", \"benchmark\": \"x\", "
		 "\"scale\": 1, \"scores\": {}}", "\"scale\" must be"},
		{"{\"format\": \"modelfuse-benchmarks/1\", \"benchmark\": \"x\", "
		 "\"scale\": \"0..1\", \"scores\": [0.5]}", "\"scores\" is an array"},
		{"{\"format\": \"modelfuse-benchmarks/1\", \"benchmark\": \"x\", "
		 "\"scale\": \"0..1\"}", "\"scores\" is missing"},
		{"{\"format\": \"modelfuse-benchmarks/1\", \"benchmark\": \"x\", "
		 "\"date\": \"2025-3-1\","
		 " \"scale\": \"0..1\", \"scores\": {}}", "\"date\" must be YYYY-MM-DD"},
		{"{\"format\": \"modelfuse-benchmarks/1\", \"scale\": \"0..1\", \"benchmarks\": ["
		 "{\"benchmark\": \"MMLU\", \"scores\": {}}, {\"benchmark\": \"mmlu\", "
		 "\"scores\": {}}]}", "benchmark mmlu is given twice"},
		{"{\"format\": \"modelfuse-benchmarks/1\", \"benchmark\": \"x\", "
		 "\"scale\": \"0..1\", "
		 "\"scores\": {\"a\": 0.1, \"a\": 0.2}}", "duplicate object key"},
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct ph_run r;
		normalize_text(&r, texts[i].text);
		CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
		CU_ASSERT_EQUAL(r.records.count, 0);
		CU_ASSERT_EQUAL(ph_count_lines(r.log, texts[i].message), 1);
		if (r.rc != MF_EPARSE || ph_count_lines(r.log, texts[i].message) != 1)
			fprintf(stderr, "case %zu: log was:\n%s", i, r.log);
		ph_run_free(&r);
	}
}

static void test_empty_list(void)
{
	struct ph_run r;
	normalize_text(&r, "{\"format\": \"modelfuse-benchmarks/1\", \"benchmarks\": []}");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(r.log[0], '\0');
	ph_run_free(&r);
}

/* Many bad scores: the log stays short, the good scores all go in. */
static void test_warnings_capped(void)
{
	enum { N = 400 };
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("{\"format\": \"modelfuse-benchmarks/1\", \"benchmark\": \"gsm8k\", "
	      "\"scale\": \"0..1\", \"scores\": {", f);
	for (int i = 0; i < N; i++)
		fprintf(f, "%s\"m/bad%d\": true, \"m/good%d\": %d.5e-3", i ? "," : "", i, i, i);
	fputs("}}", f);
	fclose(f);
	struct ph_run r;
	normalize_bytes(&r, "file:///bench/many.json", page, len);
	free(page);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, N);
	ph_expect_capped(r.log, "score is a boolean", 10, 100, N);
	CU_ASSERT(ph_score_is(ph_find(&r.records, "m/good399"), "bench.gsm8k", 39.95));
	ph_run_free(&r);
}

/* The offline samples the bundled configuration reads: every file of the
 * folder, as fetch plans them. */
static void test_sample_data(void)
{
	char *dir = tu_srcpath("data/samples/benchmarks");
	char *url = file_url(dir, NULL);
	struct ph_source s;
	CU_ASSERT_EQUAL_FATAL(source_init(&s, url, NULL), MF_OK);
	char *urls[16] = {0};
	int n = plan_all(&s, urls, 16, NULL);
	CU_ASSERT(n >= 2);
	size_t total = 0;
	bool zero_one = false;
	for (int i = 0; i < n; i++) {
		const char *name = strrchr(urls[i], '/') + 1;
		char *path = NULL;
		CU_ASSERT_FATAL(asprintf(&path, "%s/%s", dir, name) > 0);
		char *data = tu_read_file(path);
		CU_ASSERT_PTR_NOT_NULL_FATAL(data);
		struct ph_run r;
		normalize_bytes(&r, urls[i], data, strlen(data));
		CU_ASSERT_EQUAL(r.rc, MF_OK);
		CU_ASSERT(r.records.count > 0);
		CU_ASSERT_EQUAL(r.ctx.rejected, 0);
		CU_ASSERT_EQUAL(r.log[0], '\0');
		if (r.log[0])
			fprintf(stderr, "%s:\n%s", name, r.log);
		total += r.records.count;
		zero_one = zero_one || strstr(data, "\"0..1\"") != NULL;
		ph_run_free(&r);
		free(data);
		free(path);
		free(urls[i]);
	}
	CU_ASSERT(total >= 10);
	CU_ASSERT(zero_one);
	ph_source_free(&s);
	free(url);
	free(dir);
}

int main(void)
{
	static const struct tu_test tests[] = {
		{"descriptor and options", test_descriptor},
		{"folder: one page per file, sorted", test_plan_folder_sorted},
		{"single file and remote url", test_plan_single_and_remote},
		{"empty or missing folder, bad pattern", test_plan_problems},
		{"one benchmark per file", test_single_benchmark},
		{"several benchmarks per file", test_several_benchmarks},
		{"scores without a date", test_undated},
		{"bad files refused whole", test_files_refused},
		{"empty benchmark list", test_empty_list},
		{"warnings capped", test_warnings_capped},
		{"offline sample data", test_sample_data},
		{NULL, NULL},
	};
	return tu_main("benchmarks", tests);
}
