/* The query commands (status, show, scores, rankings), text and JSON: on a
 * catalog written by hand (tests/fixtures/derive/catalog), and after a real
 * run of the program over the fixtures of tests/fixtures/derive, whose
 * coding ranking was computed by hand. */
#include "mf_build_config.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

struct sandbox {
	char *dir;
	char *config;
};

static void copy_fixture(const struct sandbox *sb, const char *rel, const char *to)
{
	char path[512];
	snprintf(path, sizeof path, "tests/fixtures/derive/%s", rel);
	char *src = tu_srcpath(path);
	char *content = tu_read_file(src);
	CU_ASSERT_PTR_NOT_NULL_FATAL(content);
	free(tu_write_file(sb->dir, to, content));
	free(content);
	free(src);
}

static void link_plugin(const struct sandbox *sb, const char *name)
{
	char src[4096], dst[4096];
	snprintf(src, sizeof src, "%s/%s.so", tu_env("MF_TEST_PLUGIN_DIR"), name);
	snprintf(dst, sizeof dst, "%s/plugins/%s.so", sb->dir, name);
	CU_ASSERT_EQUAL_FATAL(symlink(src, dst), 0);
}

/* The hand-written catalog: outputs in out/, a manifest and the last-run
 * record in cache/. */
static struct sandbox catalog_sandbox(void)
{
	struct sandbox sb = {.dir = tu_tmpdir()};
	sb.config = tu_write_file(sb.dir, "modelfuse.ini",
				  "[core]\ncache_dir = cache\noutput_dir = out\n\n"
				  "[source src1]\nplugin = modelsdev\nurl = file:x.json\n\n"
				  "[source keys]\nplugin = anyllm\n\n"
				  "[source newsrc]\nplugin = huggingface\n");
	copy_fixture(&sb, "catalog/catalog.json", "out/catalog.json");
	copy_fixture(&sb, "catalog/mapping.json", "out/mapping.json");
	free(tu_write_file(sb.dir, "cache/src1/manifest.json",
			   "{\"fetched_at\": \"2025-04-11T05:59:00Z\"}\n"));
	free(tu_write_file(sb.dir, "cache/.last-run.json",
			   "{\"started_at\": \"2025-04-11T05:58:00Z\", \"finished_at\": "
			   "\"2025-04-11T06:00:01Z\", \"exit_status\": 1, \"message\": \"a source "
			   "is stale or failed (see status)\"}\n"));
	return sb;
}

/* The fixtures read by the real plugins; [category coding] as in the
 * hand computation. */
static struct sandbox run_sandbox(void)
{
	struct sandbox sb = {.dir = tu_tmpdir()};
	char plugins[4096];
	snprintf(plugins, sizeof plugins, "%s/plugins", sb.dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(plugins, 0755), 0);
	const char *names[] = {"modelsdev", "arena", "benchmarks", "artificialanalysis", "anyllm"};
	for (size_t i = 0; i < 5; i++)
		link_plugin(&sb, names[i]);
	const char *files[] = {"modelsdev.json", "arena.json", "benchmarks.json",
			       "artificialanalysis.json", "openai-models.json"};
	for (size_t i = 0; i < 5; i++) {
		char to[256];
		snprintf(to, sizeof to, "data/%s", files[i]);
		copy_fixture(&sb, files[i], to);
	}
	sb.config =
	    tu_write_file(sb.dir, "modelfuse.ini",
			  "[core]\nplugin_dir = plugins\ncache_dir = cache\noutput_dir = out\n"
			  "source_time_limit = 20\n\n"
			  "[source modelsdev]\nurl = file:data/modelsdev.json\n\n"
			  "[source arena]\nurl = file:data/arena.json\n\n"
			  "[source benchmarks]\nurl = file:data/benchmarks.json\n\n"
			  "[source artificialanalysis]\nurl = file:data/artificialanalysis.json\n\n"
			  "[source openai]\nplugin = anyllm\nkind = openai\nprovider = openai\n"
			  "url = file:data/openai-models.json\n\n"
			  "[category coding]\n"
			  "weights = bench.humaneval:1.0, aa.artificial_analysis_coding_index:1.0, "
			  "arena.coding:2.0\n"
			  "source_weights = aa:0.5\n");
	return sb;
}

static void sandbox_free(struct sandbox *sb)
{
	tu_rm_rf(sb->dir);
	free(sb->dir);
	free(sb->config);
}

static int run(const struct sandbox *sb, const char *const args[], char **out, char **err)
{
	char *argv[32];
	size_t n = 0;
	argv[n++] = (char *)tu_env("MF_TEST_PROGRAM");
	argv[n++] = "-c";
	argv[n++] = sb->config;
	for (size_t i = 0; args[i] && n < 31; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	return tu_run(argv, NULL, out, err);
}

static json_t *run_json(const struct sandbox *sb, const char *const args[], int want_rc)
{
	char *out = NULL, *err = NULL;
	int rc = run(sb, args, &out, &err);
	CU_ASSERT_EQUAL(rc, want_rc);
	json_error_t jerr;
	json_t *j = out ? json_loads(out, 0, &jerr) : NULL;
	if (!j)
		fprintf(stderr, "not JSON (rc %d): %s\n%s\n", rc, out ? out : "", err ? err : "");
	free(out);
	free(err);
	return j;
}

static bool contains(const char *haystack, const char *needle)
{
	bool ok = haystack && strstr(haystack, needle);
	if (!ok)
		fprintf(stderr, "expected to find:\n%s\nin:\n%s\n", needle,
			haystack ? haystack : "");
	return ok;
}

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* ------------------------------------------------------------ the hand-written catalog */

static void test_rankings_text(void)
{
	struct sandbox sb = catalog_sandbox();
	char *out = NULL;
	CU_ASSERT_EQUAL(run(&sb, (const char *const[]){"rankings", "coding", NULL}, &out, NULL), 0);
	CU_ASSERT_STRING_EQUAL(
	    out, "coding: 2 models scored, showing 2\n"
		 " RANK  MODEL                                                SCORE    CONF  "
		 "CALLABLE VIA\n"
		 "    1  acme/alpha                                           80.00  0.5000  keys\n"
		 "    2  acme/beta                                            60.00  0.7500  -\n");
	free(out);
	CU_ASSERT_EQUAL(
	    run(&sb, (const char *const[]){"rankings", "--callable", "coding", NULL}, &out, NULL),
	    0);
	CU_ASSERT_STRING_EQUAL(
	    out,
	    "coding: 2 models scored, 1 callable with the admin's keys, showing 1\n"
	    " RANK  MODEL                                                SCORE    CONF  CALLABLE "
	    "VIA\n"
	    "    1  acme/alpha                                           80.00  0.5000  keys\n");
	free(out);
	CU_ASSERT_EQUAL(
	    run(&sb, (const char *const[]){"rankings", "overall", "-n", "1", NULL}, &out, NULL), 0);
	CU_ASSERT_STRING_EQUAL(
	    out, "overall: 2 models scored, showing 1\n"
		 " RANK  MODEL                                                SCORE          "
		 "CALLABLE VIA\n"
		 "    1  acme/beta                                            22.50          -\n");
	free(out);
	sandbox_free(&sb);
}

static void test_rankings_json_and_errors(void)
{
	struct sandbox sb = catalog_sandbox();
	json_t *j =
	    run_json(&sb, (const char *const[]){"rankings", "--json", "-n1", "coding", NULL}, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_STRING_EQUAL(jstr(j, "category"), "coding");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "scored")), 2);
	CU_ASSERT_TRUE(json_is_false(json_object_get(j, "callable_only")));
	json_t *models = json_object_get(j, "models");
	CU_ASSERT_EQUAL_FATAL(json_array_size(models), 1);
	json_t *m = json_array_get(models, 0);
	CU_ASSERT_STRING_EQUAL(jstr(m, "id"), "acme/alpha");
	CU_ASSERT_STRING_EQUAL(jstr(m, "name"), "Alpha");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(m, "rank")), 1);
	CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(m, "score")), 80, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(m, "confidence")), 0.5, 1e-9);
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_array_get(json_object_get(m, "callable_via"), 0)), "keys");
	json_decref(j);

	/* A category nobody is scored in: the ones there are are listed. */
	char *err = NULL;
	CU_ASSERT_EQUAL(run(&sb, (const char *const[]){"rankings", "poetry", NULL}, NULL, &err), 1);
	CU_ASSERT(contains(err, "no model has a score for poetry (categories in the catalog: "
				"coding, chat, and overall)"));
	free(err);
	/* Usage errors. */
	const char *const *bad[] = {
	    (const char *const[]){"rankings", NULL},
	    (const char *const[]){"rankings", "coding", "-n", NULL},
	    (const char *const[]){"rankings", "coding", "-n", "-1", NULL},
	    (const char *const[]){"rankings", "coding", "-n", "x", NULL},
	    (const char *const[]){"rankings", "coding", "math", NULL},
	    (const char *const[]){"rankings", "coding", "--frob", NULL},
	    (const char *const[]){"show", NULL},
	    (const char *const[]){"scores", "--callable", "x", NULL},
	    (const char *const[]){"status", "extra", NULL},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = run(&sb, bad[i], NULL, &err);
		CU_ASSERT_EQUAL(rc, 2);
		CU_ASSERT(contains(err, "try 'modelfuse --help'"));
		free(err);
	}
	sandbox_free(&sb);
}

static void test_show(void)
{
	struct sandbox sb = catalog_sandbox();
	char *out = NULL, *err = NULL;
	/* By an alias; every part is there. */
	CU_ASSERT_EQUAL(run(&sb, (const char *const[]){"show", "alpha", NULL}, &out, NULL), 0);
	const char *parts[] = {
	    "acme/alpha  Alpha\n",
	    "  price          1 in / 3 out USD per 1M tokens (from acme:alpha-1)\n",
	    "  arena          1300 (1295 .. 1305)\n",
	    "  reasoning      yes\n",
	    "  speed          95.5 tokens/s, first token after 0.9 s\n",
	    "tiers:\n  cost       2  price_quantile, value 2\n"
	    "  quality    1  arena_quantile, value 1300, arena overall\n",
	    "  speed      -  none\n",
	    "scores: best at coding, worst at chat; overall score 19.01, rank 2; cost "
	    "efficiency 6.34\n",
	    "  coding               80.00  0.5000      1\n",
	    "offerings (1):\n",
	    "  acme             alpha-1    ",
	    "  keys+src1\n",
	    "source ids:\n  keys               alpha-1\n  src1               acme/alpha-1\n",
	    "provenance:\n  name                         src1\n",
	    "quality flags:\n  [nulled] output_over_context on acme:alpha-1: max_output_tokens "
	    "200000 is above context_tokens 128000\n"
	    "      src1 acme:alpha-1 max_output_tokens = 200000\n"
	    "      src1 acme:alpha-1 context_tokens = 128000\n",
	};
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		CU_ASSERT(contains(out, parts[i]));
	free(out);

	/* By a native id, ignoring case; a model without data says so. */
	CU_ASSERT_EQUAL(run(&sb, (const char *const[]){"show", "GAMMA-x", NULL}, &out, NULL), 0);
	CU_ASSERT(contains(out, "bigco/gamma\n"));
	CU_ASSERT(contains(out, "  quality    3  default\n"));
	CU_ASSERT(contains(out, "  no category scores"));
	CU_ASSERT(contains(out, "quality: no flags\n"));
	free(out);

	/* JSON: the catalog's entry itself. */
	json_t *j = run_json(&sb, (const char *const[]){"show", "--json", "ACME/ALPHA", NULL}, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_STRING_EQUAL(jstr(j, "id"), "acme/alpha");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(
			    json_object_get(json_object_get(j, "tiers"), "cost"), "tier")),
			2);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(json_object_get(j, "quality"), "flags")),
			1);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "offerings")), 1);
	json_decref(j);

	/* An alias of two models: both are named, nothing is shown. */
	CU_ASSERT_EQUAL(run(&sb, (const char *const[]){"show", "shared", NULL}, &out, &err), 1);
	CU_ASSERT_STRING_EQUAL(out, "acme/beta\nbigco/gamma\n");
	CU_ASSERT(contains(err, "shared names 2 models"));
	free(out);
	free(err);
	CU_ASSERT_EQUAL(run(&sb, (const char *const[]){"show", "nosuch/model", NULL}, &out, &err),
			1);
	CU_ASSERT_STRING_EQUAL(out, "");
	CU_ASSERT(contains(err, "no model nosuch/model in the catalog"));
	free(out);
	free(err);
	sandbox_free(&sb);
}

static void test_scores(void)
{
	struct sandbox sb = catalog_sandbox();
	char *out = NULL;
	CU_ASSERT_EQUAL(run(&sb, (const char *const[]){"scores", "acme/beta", NULL}, &out, NULL),
			0);
	CU_ASSERT_STRING_EQUAL(
	    out, "acme/beta (Beta)\n"
		 "best at coding, worst at -; overall score 22.5, rank 1; cost efficiency -\n"
		 "tiers:\n"
		 "  cost       -  none\n"
		 "  quality    2  provider_reputation, maker acme\n"
		 "  reasoning  2  provider_reputation, maker acme (from quality)\n"
		 "  creative   2  provider_reputation, maker acme (from quality)\n"
		 "  speed      -  none\n"
		 "category scores:\n"
		 "  CATEGORY             SCORE    CONF   RANK\n"
		 "  coding               60.00  0.7500      2\n"
		 "      bench.humaneval                                60 weight 1, bench, "
		 "no date\n");
	free(out);
	CU_ASSERT_EQUAL(run(&sb, (const char *const[]){"scores", "alpha", NULL}, &out, NULL), 0);
	CU_ASSERT(contains(out, "      arena.coding                                   90 (rating "
				"1290.5) weight 1 (decayed 0.5), arena, 2025-04-11\n"));
	CU_ASSERT(contains(out, "      latency_penalty                              -4.5 points "
				"(value 0.9, percentile 55)\n"));
	free(out);

	json_t *j = run_json(&sb, (const char *const[]){"scores", "alpha", "--json", NULL}, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	const char *keys[] = {
	    "id",	"name",		 "tiers",	 "category_scores", "best_at",
	    "worst_at", "overall_score", "overall_rank", "cost_efficiency", "speed"};
	CU_ASSERT_EQUAL(json_object_size(j), 10);
	for (size_t i = 0; i < 10; i++)
		CU_ASSERT_PTR_NOT_NULL(json_object_get(j, keys[i]));
	json_t *chat = json_object_get(json_object_get(j, "category_scores"), "chat");
	CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(chat, "score")), 55.5, 1e-9);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(chat, "adjustments")), 1);
	/* Offerings and provenance are show's business. */
	CU_ASSERT_PTR_NULL(json_object_get(j, "offerings"));
	json_decref(j);
	sandbox_free(&sb);
}

static void test_status(void)
{
	struct sandbox sb = catalog_sandbox();
	char *out = NULL;
	CU_ASSERT_EQUAL(run(&sb, (const char *const[]){"status", NULL}, &out, NULL), 0);
	const char *parts[] = {
	    "/out/catalog.json, generated 2025-04-11T06:00:00Z, 3 models\n",
	    "last run: finished 2025-04-11T06:00:01Z, exit 1 (outputs written, a source stale "
	    "or failed): a source is stale or failed (see status)\n",
	    "SOURCE             PLUGIN             STATUS     RECORDS  FETCHED_AT",
	    "\nsrc1               modelsdev          fresh            3  2025-04-11T05:59:00Z",
	    "\nkeys               anyllm             stale            1  2025-04-10T06:00:00Z "
	    "       -  GET https://api.example.com/v1/models: HTTP 503, using cache\n",
	    "\nnewsrc             huggingface        -                -  -                    "
	    "       -  not in the last run's catalog\n",
	    "records: 5 mapped, 2 unaligned, 1 dropped (no usable id)\n",
	    "data checks: 1 model flagged, 1 flag, 1 field nulled\n",
	    "unaligned ids worth an override (most popular first):\n"
	    "       40  src1:Gamma-X -> bigco/gamma\n",
	};
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		CU_ASSERT(contains(out, parts[i]));
	/* acme/beta is unaligned too, but nobody uses it. */
	CU_ASSERT_PTR_NULL(strstr(out, "src1:beta"));
	free(out);

	json_t *j = run_json(&sb, (const char *const[]){"status", "--json", NULL}, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "models")), 3);
	CU_ASSERT_EQUAL(
	    json_integer_value(json_object_get(json_object_get(j, "last_run"), "exit_status")), 1);
	json_t *sources = json_object_get(j, "sources");
	CU_ASSERT_EQUAL_FATAL(json_array_size(sources), 3);
	json_t *src1 = json_array_get(sources, 0);
	CU_ASSERT_STRING_EQUAL(jstr(src1, "status"), "fresh");
	CU_ASSERT_STRING_EQUAL(jstr(src1, "cache_fetched_at"), "2025-04-11T05:59:00Z");
	CU_ASSERT_TRUE(json_integer_value(json_object_get(src1, "age_seconds")) > 86400);
	CU_ASSERT_TRUE(json_is_null(json_object_get(json_array_get(sources, 1), "age_seconds")));
	CU_ASSERT_TRUE(json_is_null(json_object_get(json_array_get(sources, 2), "status")));
	json_t *mapping = json_object_get(j, "mapping");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(mapping, "dropped")), 1);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(mapping, "unaligned")), 2);
	json_t *q = json_object_get(j, "quality");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(q, "flagged_models")), 1);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(q, "nulled")), 1);
	json_t *un = json_object_get(j, "unaligned");
	CU_ASSERT_EQUAL_FATAL(json_array_size(un), 1);
	CU_ASSERT_STRING_EQUAL(jstr(json_array_get(un, 0), "id"), "Gamma-X");
	json_decref(j);
	sandbox_free(&sb);
}

/* Without outputs every query says so and exits 3. */
static void test_no_outputs(void)
{
	struct sandbox sb = catalog_sandbox();
	char path[4096];
	snprintf(path, sizeof path, "%s/out/catalog.json", sb.dir);
	CU_ASSERT_EQUAL(unlink(path), 0);
	const char *const *cmds[] = {
	    (const char *const[]){"status", NULL},
	    (const char *const[]){"show", "alpha", NULL},
	    (const char *const[]){"scores", "--json", "alpha", NULL},
	    (const char *const[]){"rankings", "coding", NULL},
	};
	for (size_t i = 0; i < 4; i++) {
		char *err = NULL;
		CU_ASSERT_EQUAL(run(&sb, cmds[i], NULL, &err), 3);
		CU_ASSERT(contains(err, "catalog.json"));
		free(err);
	}
	/* A file that is not a catalog. */
	free(tu_write_file(sb.dir, "out/catalog.json", "{\"models\": 3}"));
	char *err = NULL;
	CU_ASSERT_EQUAL(run(&sb, (const char *const[]){"show", "alpha", NULL}, NULL, &err), 3);
	CU_ASSERT(contains(err, "not a catalog"));
	free(err);
	sandbox_free(&sb);
}

/* ------------------------------------------------------------ a real run */

/*
 * The acceptance check. [category coding]: humaneval 1, the Artificial
 * Analysis coding index 1 x 0.5, arena coding 2 (3.5 configured); arena
 * coding ratings 1100..1300 are percentiles 0..100 in steps of 25.
 */
static void test_rankings_after_run(void)
{
	struct sandbox sb = run_sandbox();
	char *err = NULL;
	int rc = run(&sb, (const char *const[]){"run", NULL}, NULL, &err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	free(err);

	json_t *j = run_json(&sb, (const char *const[]){"rankings", "coding", "--json", NULL}, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	struct {
		const char *id;
		double score, confidence;
		int rank;
	} want[] = {
	    /* humaneval 95 alone */
	    {"deepseek/deepseek-v3", 95.00, 0.2857, 1},
	    /* (90 + 0.5 x 60 + 2 x 100) / 3.5 */
	    {"anthropic/claude-3-5-sonnet-20241022", 91.43, 1.0, 2},
	    /* (80 + 2 x 75) / 3 */
	    {"openai/gpt-4o-2024-08-06", 76.67, 0.8571, 3},
	    /* (70 + 0.5 x 80) / 1.5 */
	    {"meta/llama-3.1-70b-instruct", 73.33, 0.4286, 4},
	    /* arena 50th percentile; then humaneval 50 with less weight */
	    {"google/gemini-1.5-pro-002", 50.00, 0.5714, 5},
	    {"openai/gpt-4o-mini-2024-07-18", 50.00, 0.2857, 5},
	    /* (0.5 x 40 + 2 x 25) / 2.5 */
	    {"qwen/qwen2.5-72b-instruct", 28.00, 0.7143, 7},
	    {"mistral/mistral-large-2411", 0.00, 0.5714, 8},
	};
	size_t n = sizeof want / sizeof want[0];
	json_t *models = json_object_get(j, "models");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "scored")), (json_int_t)n);
	CU_ASSERT_EQUAL_FATAL(json_array_size(models), n);
	for (size_t i = 0; i < n; i++) {
		json_t *m = json_array_get(models, i);
		CU_ASSERT_STRING_EQUAL(jstr(m, "id"), want[i].id);
		CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(m, "score")),
				       want[i].score, 1e-9);
		CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(m, "confidence")),
				       want[i].confidence, 1e-9);
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(m, "rank")), want[i].rank);
	}
	json_decref(j);

	/* Only GPT-4o is listed by the admin's (openai) source. */
	j = run_json(&sb, (const char *const[]){"rankings", "coding", "--callable", "--json", NULL},
		     0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	models = json_object_get(j, "models");
	CU_ASSERT_EQUAL_FATAL(json_array_size(models), 1);
	CU_ASSERT_STRING_EQUAL(jstr(json_array_get(models, 0), "id"), "openai/gpt-4o-2024-08-06");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(models, 0), "rank")), 3);
	json_decref(j);
	j = run_json(&sb, (const char *const[]){"rankings", "coding", "-n", "3", "--json", NULL},
		     0);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "models")), 3);
	json_decref(j);

	/* The data checks of the run: DeepSeek's output limit is above its
	 * context, the Together offering's knowledge date does not exist. */
	char *out = NULL;
	CU_ASSERT_EQUAL(
	    run(&sb, (const char *const[]){"show", "deepseek/deepseek-v3", NULL}, &out, NULL), 0);
	CU_ASSERT(contains(out, "[nulled] output_over_context on deepseek:deepseek-v3: "
				"max_output_tokens 128000 is above context_tokens 64000\n"));
	CU_ASSERT(
	    contains(out, "      modelsdev deepseek:deepseek-v3 max_output_tokens = 128000\n"));
	free(out);
	j = run_json(
	    &sb, (const char *const[]){"show", "--json", "meta/llama-3.1-70b-instruct", NULL}, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	json_t *flags = json_object_get(json_object_get(j, "quality"), "flags");
	bool knowledge = false;
	size_t i;
	json_t *f;
	json_array_foreach(flags, i, f)
	{
		knowledge = knowledge || (strcmp(jstr(f, "check"), "bad_date") == 0 &&
					  strcmp(jstr(f, "field"), "knowledge") == 0);
	}
	CU_ASSERT_TRUE(knowledge);
	/* Speed from Artificial Analysis, and its tier. */
	json_t *speed = json_object_get(j, "speed");
	CU_ASSERT_DOUBLE_EQUAL(
	    json_number_value(json_object_get(speed, "output_tokens_per_second")), 200, 1e-9);
	json_t *tier = json_object_get(json_object_get(j, "tiers"), "speed");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(tier, "tier")), 1);
	CU_ASSERT_STRING_EQUAL(jstr(tier, "basis"), "speed_quantile");
	json_decref(j);

	/* status after the run: outcome 0, every source with its age. */
	j = run_json(&sb, (const char *const[]){"status", "--json", NULL}, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_EQUAL(
	    json_integer_value(json_object_get(json_object_get(j, "last_run"), "exit_status")), 0);
	json_t *sources = json_object_get(j, "sources");
	CU_ASSERT_EQUAL(json_array_size(sources), 5);
	json_array_foreach(sources, i, f)
	{
		CU_ASSERT_STRING_EQUAL(jstr(f, "status"), "fresh");
		CU_ASSERT_TRUE(json_is_integer(json_object_get(f, "age_seconds")));
	}
	CU_ASSERT_EQUAL(
	    json_integer_value(json_object_get(json_object_get(j, "quality"), "flagged_models")),
	    2);
	json_decref(j);

	/* A run in which no source yields records (the files moved: the cache
	 * of another URL is not used) writes nothing (exit 3); status still
	 * shows the previous catalog, and that last outcome. */
	char *ini = tu_read_file(sb.config);
	char *broken = malloc(strlen(ini) + 64);
	strcpy(broken, ini);
	char *at;
	while ((at = strstr(broken, "url = file:data/")))
		memcpy(at + 11, "none/", 5);
	free(tu_write_file(sb.dir, "modelfuse.ini", broken));
	free(broken);
	free(ini);
	CU_ASSERT_EQUAL(run(&sb, (const char *const[]){"run", "--force-refresh", NULL}, NULL, NULL),
			3);
	j = run_json(&sb, (const char *const[]){"status", "--json", NULL}, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	json_t *last = json_object_get(j, "last_run");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(last, "exit_status")), 3);
	CU_ASSERT(contains(jstr(last, "message"), "no source yielded records"));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "models")), 9);
	json_decref(j);
	CU_ASSERT_EQUAL(run(&sb, (const char *const[]){"status", NULL}, &out, NULL), 0);
	CU_ASSERT(contains(out, ", exit 3 (no outputs written): no source yielded records"));
	free(out);
	sandbox_free(&sb);
}

/* A configuration error in a [category] section stops the run. */
static void test_run_refuses_bad_category(void)
{
	struct sandbox sb = run_sandbox();
	free(sb.config);
	sb.config =
	    tu_write_file(sb.dir, "modelfuse.ini",
			  "[core]\nplugin_dir = plugins\ncache_dir = cache\noutput_dir = out\n"
			  "[source modelsdev]\nurl = file:data/modelsdev.json\n"
			  "[category agentic]\nhalf_life_days = 10\n");
	char *err = NULL;
	CU_ASSERT_EQUAL(run(&sb, (const char *const[]){"run", NULL}, NULL, &err), 2);
	CU_ASSERT(contains(err, "modelfuse.ini:7: [category agentic] is not a shipped category"));
	free(err);
	CU_ASSERT_EQUAL(run(&sb, (const char *const[]){"check-config", NULL}, NULL, &err), 2);
	CU_ASSERT(contains(err, "[category agentic] is not a shipped category"));
	free(err);
	char path[4096];
	snprintf(path, sizeof path, "%s/out/catalog.json", sb.dir);
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
	sandbox_free(&sb);
}

int main(void)
{
	static const struct tu_test tests[] = {
	    {"rankings: text", test_rankings_text},
	    {"rankings: JSON, unknown category, usage errors", test_rankings_json_and_errors},
	    {"show: text, JSON, aliases, ambiguity", test_show},
	    {"scores: text and JSON", test_scores},
	    {"status: text and JSON", test_status},
	    {"queries without outputs exit 3", test_no_outputs},
	    {"rankings coding after a run: the hand-computed order", test_rankings_after_run},
	    {"a bad [category] section stops the run", test_run_refuses_bad_category},
	    {NULL, NULL},
	};
	return tu_main("query", tests);
}
