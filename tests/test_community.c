/* The community plugin's fetch plan and normalizer, driven on fixtures in
 * its own format and on the list the project ships (data/community.json),
 * through the real host table and record code. The plugin is compiled into
 * this program, so its descriptor is called directly rather than loaded. */
#include "mf_build_config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_harness.h"
#include "testutil.h"

extern const struct mf_plugin modelfuse_plugin;

#define PAGE_URL "file:///fixture/community.json"

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
	ph_expect_descriptor(&modelfuse_plugin, "community");
	CU_ASSERT_STRING_EQUAL(modelfuse_plugin.version, "1.0.0");
	/* The shipped list, where `make install` puts it. */
	CU_ASSERT_STRING_EQUAL(modelfuse_plugin.default_url,
			       "file://" MF_PKGDATADIR "/community.json");
	CU_ASSERT_PTR_NOT_NULL(modelfuse_plugin.fetch);
	CU_ASSERT_PTR_NOT_NULL(modelfuse_plugin.normalize);
}

/* The shipped list, where `make install` puts it, or any URL serving the
 * format; one page either way. */
static void test_fetch_one_page(void)
{
	ph_expect_single_page(&modelfuse_plugin, "file://" MF_PKGDATADIR "/community.json",
			      "https://example.org/lists/community.json");
}

static void test_all_fields(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/community/list.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.log[0], '\0');
	CU_ASSERT_EQUAL_FATAL(r.records.count, 5);
	CU_ASSERT_EQUAL(r.ctx.rejected, 0);
	/* One model record per entry, in file order. */
	static const char *const order[] = {
		"deepseek/deepseek-r1", "anthropic/claude-3-5-sonnet-20241022",
		"meta/llama-3.1-70b-instruct", "gpt-4o-2024-05-13", "newlab/brand-new-model",
	};
	for (size_t i = 0; i < r.records.count; i++) {
		CU_ASSERT_EQUAL(r.records.items[i]->kind, MF_RECORD_MODEL);
		CU_ASSERT_STRING_EQUAL(r.records.items[i]->native_id, order[i]);
		CU_ASSERT(ph_int_is(r.records.items[i], MF_FIELD_RANK, (int64_t)i + 1));
		CU_ASSERT_PTR_NULL(record_get_string(r.records.items[i], MF_FIELD_PROVIDER));
	}

	const struct mf_record *rec = ph_find(&r.records, "deepseek/deepseek-r1");
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "deepseek"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_NAME, "DeepSeek-R1"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_REASON,
			    "Open reasoning model that matched the closed ones on math and code."));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_REVIEWED, "2026-11-15"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_HF_ID, "deepseek-ai/DeepSeek-R1"));
	static const char *const tags[] = {"open-weights", "reasoning", "moe"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_TAGS, tags, 3));

	/* Maker from the id's namespace; the list's date stands in for the
	 * entry's; a repeated tag is kept once. */
	rec = ph_find(&r.records, "anthropic/claude-3-5-sonnet-20241022");
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "anthropic"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_REVIEWED, "2026-11-20"));
	static const char *const tags2[] = {"coding", "agentic"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_TAGS, tags2, 2));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_HF_ID));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_NAME));

	rec = ph_find(&r.records, "meta/llama-3.1-70b-instruct");
	CU_ASSERT(ph_string_is(rec, MF_FIELD_HF_ID, "meta-llama/Llama-3.1-70B-Instruct"));
	CU_ASSERT(ph_list_is(rec, MF_FIELD_TAGS, NULL, 0));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_REASON));

	/* No namespace: the maker key says who; 4.0 is rank 4. */
	rec = ph_find(&r.records, "gpt-4o-2024-05-13");
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "openai"));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_RANK, 4));

	/* null means unknown, without a warning. */
	rec = ph_find(&r.records, "newlab/brand-new-model");
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "newlab"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_REVIEWED, "2026-11-20"));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_HF_ID));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_TAGS));
	ph_run_free(&r);
}

static void test_bad_entries(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/community/bad-entries.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	/* Two usable entries; three without a usable id handed to the core,
	 * which drops and counts them; a string entry and a duplicate
	 * skipped. */
	CU_ASSERT_EQUAL(r.records.count, 2);
	CU_ASSERT_EQUAL(r.ctx.rejected, 3);

	/* The first of two ids differing in case is kept, with the fields
	 * that were right. */
	const struct mf_record *rec = ph_find(&r.records, "qwen/qwen2.5-72b-instruct");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_FALSE(ph_int_set(rec, MF_FIELD_RANK));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_TAGS));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_REASON, "first line"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "qwen"));
	CU_ASSERT_PTR_NULL(ph_find(&r.records, "Qwen/Qwen2.5-72B-Instruct"));

	rec = ph_find(&r.records, "qwen/qwq-32b");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_FALSE(ph_int_set(rec, MF_FIELD_RANK));
	static const char *const tags[] = {"reasoning"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_TAGS, tags, 1));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_REVIEWED, "2026-11-20"));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_HF_ID));

	CU_ASSERT_EQUAL(ph_count_lines(r.log, "unknown top-level key \"ranked_by\""), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "models[0]: entry is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "models[1]: no id; entry dropped"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "models[2]: id is an integer"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log,
				       "models[3]: id \"bad id/with blanks\" is empty or holds "
					   "blanks"),
			1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "has no id: dropped"), 3);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "models[4] qwen/qwen2.5-72b-instruct: rank is 0"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log,
				       "models[4] qwen/qwen2.5-72b-instruct: tags is a string"),
			1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "reason has more than one line"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "models[5] qwen/qwq-32b: rank is -3"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "tags[1] is an integer"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "tags[2] is empty"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "reviewed \"2026-02-30\" is not a YYYY-MM-DD date"),
			1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "hf_id \"QwQ-32B\" is not an org/repo id"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "models[6] Qwen/Qwen2.5-72B-Instruct: duplicate of "
					   "models[4]; the first is kept"),
			1);
	CU_ASSERT_EQUAL(ph_total_lines(r.log), 17);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "community: "), 17);
	ph_run_free(&r);
}

static void test_bad_fields(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/community/bad-fields.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 4);
	CU_ASSERT_EQUAL(r.ctx.rejected, 0);

	/* A maker with a slash is no maker: the namespace stands in. */
	const struct mf_record *rec = ph_find(&r.records, "mistral/mistral-nemo");
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "mistral"));
	CU_ASSERT_FALSE(ph_int_set(rec, MF_FIELD_RANK));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_REVIEWED));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_HF_ID));

	/* A maker that disagrees with the namespace wins, with a warning. */
	rec = ph_find(&r.records, "google/gemma-3-27b-it");
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "deepmind"));
	CU_ASSERT_FALSE(ph_int_set(rec, MF_FIELD_RANK));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_NAME));

	rec = ph_find(&r.records, "xai/grok-3");
	CU_ASSERT_FALSE(ph_int_set(rec, MF_FIELD_RANK));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_REASON));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_REVIEWED));

	/* 2024 was a leap year. */
	rec = ph_find(&r.records, "xai/grok-2");
	CU_ASSERT(ph_int_is(rec, MF_FIELD_RANK, 12));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_REVIEWED, "2024-02-29"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_HF_ID, "xai-org/grok-2"));

	CU_ASSERT_EQUAL(ph_count_lines(r.log, "maker \"mistral/ai\" contains '/'"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "rank is a string, expected a positive integer"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "reviewed \"20260101\" is not"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "hf_id \"a/b/c\" is not an org/repo id"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "unknown entry key \"ranks\""), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "maker deepmind differs from the id's namespace"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "rank is 2.5, not a whole number"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "name is an integer"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "rank is 99999999999, expected 1 to 1000000"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "reason is empty"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "reviewed \"2025-02-29\" is not"), 1);
	CU_ASSERT_EQUAL(ph_total_lines(r.log), 11);
	ph_run_free(&r);
}

/* A later minor version only adds keys: read it, quietly. */
static void test_future_minor_version(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/community/future-minor.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 2);
	CU_ASSERT_EQUAL(r.log[0], '\0');
	CU_ASSERT(ph_string_is(ph_find(&r.records, "openai/gpt-oss-20b"), MF_FIELD_REVIEWED,
			       "2027-03-01"));
	CU_ASSERT(ph_int_is(ph_find(&r.records, "openai/gpt-oss-20b"), MF_FIELD_RANK, 2));
	ph_run_free(&r);

	/* "1.0" is version 1 exactly: unknown keys are typos again. */
	static const char v10[] = "{\"format\": \"modelfuse-community/1.0\", \"models\": "
				  "[{\"id\": \"a/b\", \"rank\": 1, \"rnak\": 2}]}";
	normalize_bytes(&r, v10, sizeof(v10) - 1);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "unknown entry key \"rnak\""), 1);
	ph_run_free(&r);
}

static void test_refused_documents(void)
{
	static const struct {
		const char *file;
		const char *message;
	} cases[] = {
		{"format-2.json", "format \"modelfuse-community/2\" is not one this plugin reads"},
		{"no-format.json", "format is missing, expected \"modelfuse-community/1\""},
		{"models-object.json", "models is an object, expected an array"},
		{"toplevel-array.json", "top level is an array"},
		{"malformed.json", "not valid JSON: line 5, column"},
		{"duplicate-key.json", "duplicate object key"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "tests/fixtures/community/%s", cases[i].file);
		struct ph_run r;
		normalize_fixture(&r, rel);
		CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
		CU_ASSERT_EQUAL(r.records.count, 0);
		CU_ASSERT_EQUAL(ph_count_lines(r.log, cases[i].message), 1);
		if (ph_count_lines(r.log, cases[i].message) != 1)
			fprintf(stderr, "%s: got %s\n", cases[i].file, r.log);
		ph_run_free(&r);
	}

	static const char *const bad[] = {
		"",
		"null",
		"{}",
		"{\"format\": 1, \"models\": []}",
		"{\"format\": \"modelfuse-community/\", \"models\": []}",
		"{\"format\": \"modelfuse-community/01\", \"models\": []}",
		"{\"format\": \"modelfuse-community/1.\", \"models\": []}",
		"{\"format\": \"modelfuse-community/1.2b\", \"models\": []}",
		"{\"format\": \"modelfuse-community/1x\", \"models\": []}",
		"{\"format\": \"modelfuse-community/99999999999999999999999\", \"models\": []}",
		"{\"format\": \"MODELFUSE-community/1\", \"models\": []}",
		"{\"format\": \"modelfuse-community/1\"}",
		"{\"format\": \"modelfuse-community/1\", \"models\": null}",
		"{\"format\": \"modelfuse-community/1\", \"models\": []} []",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ph_run r;
		normalize_bytes(&r, bad[i], strlen(bad[i]));
		CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
		CU_ASSERT_EQUAL(r.records.count, 0);
		ph_run_free(&r);
	}

	/* An empty list is valid, just empty. */
	struct ph_run r;
	static const char empty[] = "{\"format\": \"modelfuse-community/1\", \"models\": []}";
	normalize_bytes(&r, empty, sizeof(empty) - 1);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(r.log[0], '\0');
	ph_run_free(&r);

	/* A bad list-level date is reported and not inherited. */
	static const char date[] = "{\"format\": \"modelfuse-community/1\", \"reviewed\": "
				   "\"yesterday\", \"models\": [{\"id\": \"a/b\", \"rank\": 1}]}";
	normalize_bytes(&r, date, sizeof(date) - 1);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL_FATAL(r.records.count, 1);
	CU_ASSERT_PTR_NULL(record_get_string(r.records.items[0], MF_FIELD_REVIEWED));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "reviewed \"yesterday\" is not a YYYY-MM-DD date"),
			1);
	ph_run_free(&r);
}

/* Many entries, all with the same defect: the log stays short, every entry
 * still comes out, duplicates are found in linear time. */
static void test_many_entries_warnings_capped(void)
{
	enum { N = 5000 };
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("{\"format\":\"modelfuse-community/1\",\"models\":[", f);
	for (int i = 0; i < N; i++)
		fprintf(f, "%s{\"id\":\"lab%d/model-%d\",\"rank\":%d,\"tags\":[1]}", i ? "," : "",
			i % 7, i, i + 1);
	/* And every one of them again, upper-cased. */
	for (int i = 0; i < N; i++)
		fprintf(f, ",{\"id\":\"LAB%d/MODEL-%d\",\"rank\":1}", i % 7, i);
	fputs("]}", f);
	fclose(f);

	struct ph_run r;
	normalize_bytes(&r, page, len);
	free(page);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL_FATAL(r.records.count, N);
	CU_ASSERT(ph_int_is(r.records.items[N - 1], MF_FIELD_RANK, N));
	CU_ASSERT(ph_string_is(r.records.items[N - 1], MF_FIELD_MAKER, "lab1"));
	ph_expect_capped(r.log, "tags[0] is an integer", 1, 50, 2 * N);
	ph_run_free(&r);
}

/* The list the project ships: every entry loads without a warning, ranks
 * run 1..N, and each entry carries what the format documents. */
static void test_shipped_list(void)
{
	struct ph_run r;
	normalize_fixture(&r, "data/community.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.log[0], '\0');
	if (r.log[0] != '\0')
		fprintf(stderr, "data/community.json warnings:\n%s", r.log);
	CU_ASSERT_EQUAL(r.ctx.rejected, 0);
	CU_ASSERT(r.records.count >= 30 && r.records.count <= 100);

	bool *rank_seen = calloc(r.records.count + 1, sizeof(*rank_seen));
	CU_ASSERT_PTR_NOT_NULL_FATAL(rank_seen);
	for (size_t i = 0; i < r.records.count; i++) {
		const struct mf_record *rec = r.records.items[i];
		const char *id = rec->native_id;
		/* Canonical ids: lowercase maker/model, maker = namespace. */
		const char *slash = strchr(id, '/');
		CU_ASSERT_PTR_NOT_NULL(slash);
		CU_ASSERT(slash && slash > id && slash[1] != '\0' && !strchr(slash + 1, '/'));
		for (const char *c = id; *c; c++)
			CU_ASSERT_FALSE(isupper((unsigned char)*c));
		const char *maker = record_get_string(rec, MF_FIELD_MAKER);
		CU_ASSERT(maker && slash && strlen(maker) == (size_t)(slash - id) &&
			  strncmp(maker, id, strlen(maker)) == 0);

		int64_t rank = 0;
		CU_ASSERT(record_get_int(rec, MF_FIELD_RANK, &rank));
		CU_ASSERT(rank >= 1 && (size_t)rank <= r.records.count);
		if (rank >= 1 && (size_t)rank <= r.records.count) {
			CU_ASSERT_FALSE(rank_seen[rank]);
			rank_seen[rank] = true;
		}
		const char *reason = record_get_string(rec, MF_FIELD_REASON);
		CU_ASSERT(reason && strlen(reason) >= 20 && strlen(reason) <= 200);
		const char *reviewed = record_get_string(rec, MF_FIELD_REVIEWED);
		CU_ASSERT(reviewed && strlen(reviewed) == 10 && reviewed[4] == '-');
		CU_ASSERT_PTR_NOT_NULL(record_get_string(rec, MF_FIELD_NAME));
		const struct strlist *tags = record_get_list(rec, MF_FIELD_TAGS);
		CU_ASSERT(tags && tags->count >= 1);
		/* Open weights live on Hugging Face: the crosswalk is there. */
		bool open = false;
		for (size_t t = 0; tags && t < tags->count; t++)
			open |= strcmp(tags->items[t], "open-weights") == 0;
		if (open)
			CU_ASSERT_PTR_NOT_NULL(record_get_string(rec, MF_FIELD_HF_ID));
	}
	free(rank_seen);

	/* A few that any such list has. */
	CU_ASSERT(ph_int_is(ph_find(&r.records, "deepseek/deepseek-r1"), MF_FIELD_RANK, 4));
	CU_ASSERT(ph_string_is(ph_find(&r.records, "deepseek/deepseek-r1"), MF_FIELD_HF_ID,
			    "deepseek-ai/DeepSeek-R1"));
	CU_ASSERT_PTR_NOT_NULL(ph_find(&r.records, "meta/llama-3.1-70b-instruct"));
	CU_ASSERT_PTR_NOT_NULL(ph_find(&r.records, "qwen/qwen2.5-72b-instruct"));
	CU_ASSERT_PTR_NOT_NULL(ph_find(&r.records, "anthropic/claude-3-5-sonnet-20241022"));
	CU_ASSERT_PTR_NOT_NULL(ph_find(&r.records, "openai/gpt-4o"));
	ph_run_free(&r);
}

int main(void)
{
	static const struct tu_test tests[] = {
		{"descriptor", test_descriptor},
		{"fetch plans one page", test_fetch_one_page},
		{"all fields mapped", test_all_fields},
		{"bad entries: ids, duplicates", test_bad_entries},
		{"bad fields skipped", test_bad_fields},
		{"later minor version read", test_future_minor_version},
		{"documents in another format refused", test_refused_documents},
		{"many entries, warnings capped", test_many_entries_warnings_capped},
		{"shipped data/community.json", test_shipped_list},
		{NULL, NULL},
	};
	return tu_main("community", tests);
}
