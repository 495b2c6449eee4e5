/* End to end: the built program run over fixture configs, as an admin or a
 * timer would run it; outputs, statuses and exit codes checked. */
#include "mf_build_config.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

/* One test's sandbox: a folder with the config, a plugin folder linking
 * the real modelsdev plugin and the fixture plugins, cache and outputs. */
struct sandbox {
	char *dir;
	char *plugins;
	char *config;
};

static void link_plugin(const struct sandbox *sb, const char *from_env, const char *name)
{
	char src[4096], dst[4096];
	snprintf(src, sizeof src, "%s/%s.so", tu_env(from_env), name);
	snprintf(dst, sizeof dst, "%s/%s.so", sb->plugins, name);
	CU_ASSERT_EQUAL_FATAL(symlink(src, dst), 0);
}

static struct sandbox sandbox_new(void)
{
	struct sandbox sb = {.dir = tu_tmpdir()};
	size_t n = strlen(sb.dir) + 32;
	sb.plugins = malloc(n);
	snprintf(sb.plugins, n, "%s/plugins", sb.dir);
	mkdir(sb.plugins, 0755);
	link_plugin(&sb, "MF_TEST_PLUGIN_DIR", "modelsdev");
	link_plugin(&sb, "MF_TEST_FIXTURE_PLUGIN_DIR", "rx_segv");
	link_plugin(&sb, "MF_TEST_FIXTURE_PLUGIN_DIR", "rx_hang");
	/* Fixtures are copied in so that configs can use relative file: URLs. */
	const char *fixtures[] = {"modelsdev-a.json", "modelsdev-b.json"};
	for (size_t i = 0; i < 2; i++) {
		char rel[256];
		snprintf(rel, sizeof rel, "tests/fixtures/e2e/%s", fixtures[i]);
		char *path = tu_srcpath(rel);
		char *content = tu_read_file(path);
		CU_ASSERT_PTR_NOT_NULL_FATAL(content);
		char name[256];
		snprintf(name, sizeof name, "data/%s", fixtures[i]);
		free(tu_write_file(sb.dir, name, content));
		free(content);
		free(path);
	}
	return sb;
}

static void sandbox_config(struct sandbox *sb, const char *sources_ini)
{
	char core[1024];
	snprintf(core, sizeof core,
		 "[core]\nplugin_dir = plugins\ncache_dir = cache\noutput_dir = out\n"
		 "source_time_limit = 20\n\n");
	size_t n = strlen(core) + strlen(sources_ini) + 1;
	char *ini = malloc(n);
	snprintf(ini, n, "%s%s", core, sources_ini);
	free(sb->config);
	sb->config = tu_write_file(sb->dir, "modelfuse.ini", ini);
	free(ini);
}

static void sandbox_free(struct sandbox *sb)
{
	tu_rm_rf(sb->dir);
	free(sb->dir);
	free(sb->plugins);
	free(sb->config);
}

/* Run the program with -c the sandbox config and extra arguments. */
static int run_program(const struct sandbox *sb, const char *const args[], char **out, char **err)
{
	char *argv[32];
	size_t n = 0;
	argv[n++] = (char *)tu_env("MF_TEST_PROGRAM");
	if (sb) {
		argv[n++] = "-c";
		argv[n++] = sb->config;
	}
	for (size_t i = 0; args[i] && n < 31; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	return tu_run(argv, NULL, out, err);
}

static json_t *load_output(const struct sandbox *sb, const char *name)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/out/%s", sb->dir, name);
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);
	if (!j)
		fprintf(stderr, "%s: %s\n", path, jerr.text);
	return j;
}

static json_t *find_by_key(json_t *array, const char *key, const char *value)
{
	size_t i;
	json_t *item;
	json_array_foreach(array, i, item) {
		const char *v = json_string_value(json_object_get(item, key));
		if (v && strcmp(v, value) == 0)
			return item;
	}
	return NULL;
}

static const char *source_status(json_t *catalog, const char *name)
{
	json_t *s = find_by_key(json_object_get(catalog, "sources"), "name", name);
	return s ? json_string_value(json_object_get(s, "status")) : "(missing)";
}

static const char two_sources[] = "[source modelsdev]\nurl = file:data/modelsdev-a.json\n\n"
				  "[source mirror]\nplugin = modelsdev\n"
				  "url = file:data/modelsdev-b.json\n";

static void test_run_writes_catalog(void)
{
	struct sandbox sb = sandbox_new();
	sandbox_config(&sb, two_sources);
	char *err = NULL;
	int rc = run_program(&sb, (const char *const[]){"run", NULL}, NULL, &err);
	CU_ASSERT_EQUAL(rc, 0);
	/* Silent on success without a terminal, as cron expects. */
	CU_ASSERT_STRING_EQUAL(err, "");
	json_t *cat = load_output(&sb, "catalog.json");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cat);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(cat, "schema_version")), 1);
	CU_ASSERT_STRING_EQUAL(source_status(cat, "modelsdev"), "fresh");
	CU_ASSERT_STRING_EQUAL(source_status(cat, "mirror"), "fresh");
	json_t *src = find_by_key(json_object_get(cat, "sources"), "name", "modelsdev");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(src, "records")), 4);
	json_t *models = json_object_get(cat, "models");
	json_t *sonnet = find_by_key(models, "id", "anthropic/claude-3-5-sonnet-20241022");
	CU_ASSERT_PTR_NOT_NULL_FATAL(sonnet);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(sonnet, "provider")), "anthropic");
	json_t *price = json_object_get(sonnet, "price");
	CU_ASSERT_EQUAL(json_number_value(json_object_get(price, "input_per_million")), 3);
	CU_ASSERT_EQUAL(json_number_value(json_object_get(price, "output_per_million")), 15);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(sonnet, "context_tokens")), 200000);
	json_t *ids = json_object_get(json_object_get(sonnet, "source_ids"), "modelsdev");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(ids, 0)),
			       "anthropic/claude-3-5-sonnet-20241022");
	/* The Together-hosted Llama lands under its maker through the namespace. */
	CU_ASSERT_PTR_NOT_NULL(find_by_key(models, "id", "meta/llama-3.3-70b-instruct-turbo"));
	json_decref(cat);

	json_t *staging = load_output(&sb, "staging_candidates.json");
	CU_ASSERT_TRUE(json_is_array(staging));
	json_decref(staging);
	json_t *mapping = load_output(&sb, "mapping.json");
	CU_ASSERT_PTR_NOT_NULL(mapping);
	json_decref(mapping);
	free(err);
	sandbox_free(&sb);
}

static void test_bad_config_exits_2_with_line(void)
{
	struct sandbox sb = sandbox_new();
	sandbox_config(&sb, "[source modelsdev]\nurl = file:data/modelsdev-a.json\nbogus_key = 1\n");
	char *err = NULL;
	int rc = run_program(&sb, (const char *const[]){"run", NULL}, NULL, &err);
	CU_ASSERT_EQUAL(rc, 2);
	char expect[4096];
	snprintf(expect, sizeof expect, "%s:9:", sb.config);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, expect));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "bogus_key"));
	/* Nothing ran: no outputs. */
	char out[4096];
	snprintf(out, sizeof out, "%s/out/catalog.json", sb.dir);
	CU_ASSERT_NOT_EQUAL(access(out, F_OK), 0);
	free(err);

	rc = run_program(&sb, (const char *const[]){"check-config", NULL}, NULL, &err);
	CU_ASSERT_EQUAL(rc, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, expect));
	free(err);
	sandbox_free(&sb);
}

static void test_crashing_plugin_costs_only_its_source(void)
{
	struct sandbox sb = sandbox_new();
	sandbox_config(&sb, "[source modelsdev]\nurl = file:data/modelsdev-a.json\n\n"
			    "[source crashy]\nplugin = rx_segv\nurl = file:data/modelsdev-b.json\n");
	char *err = NULL;
	int rc = run_program(&sb, (const char *const[]){"run", NULL}, NULL, &err);
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "crashy"));
	json_t *cat = load_output(&sb, "catalog.json");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cat);
	CU_ASSERT_STRING_EQUAL(source_status(cat, "modelsdev"), "fresh");
	CU_ASSERT_STRING_EQUAL(source_status(cat, "crashy"), "failed");
	json_t *crashy = find_by_key(json_object_get(cat, "sources"), "name", "crashy");
	const char *msg = json_string_value(json_object_get(crashy, "message"));
	CU_ASSERT_PTR_NOT_NULL(msg && strstr(msg, "signal 11") ? msg : NULL);
	CU_ASSERT_PTR_NOT_NULL(find_by_key(json_object_get(cat, "models"), "id",
					   "openai/gpt-4o-mini"));
	json_decref(cat);
	free(err);
	sandbox_free(&sb);
}

static void test_no_records_exit_3_keeps_outputs(void)
{
	struct sandbox sb = sandbox_new();
	sandbox_config(&sb, two_sources);
	CU_ASSERT_EQUAL_FATAL(run_program(&sb, (const char *const[]){"run", NULL}, NULL, NULL), 0);
	char path[4096];
	snprintf(path, sizeof path, "%s/out/catalog.json", sb.dir);
	char *before = tu_read_file(path);

	sandbox_config(&sb, "[source modelsdev]\nurl = file:data/missing.json\n");
	char *err = NULL;
	int rc = run_program(&sb, (const char *const[]){"run", NULL}, NULL, &err);
	CU_ASSERT_EQUAL(rc, 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "missing.json"));
	char *after = tu_read_file(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(after);
	CU_ASSERT_STRING_EQUAL(before, after);
	free(before);
	free(after);
	free(err);
	sandbox_free(&sb);
}

static void test_missing_file_source_fails_run_goes_on(void)
{
	struct sandbox sb = sandbox_new();
	sandbox_config(&sb, "[source modelsdev]\nurl = file:data/modelsdev-a.json\n\n"
			    "[source gone]\nplugin = modelsdev\nurl = file:data/nope.json\n");
	char *err = NULL;
	CU_ASSERT_EQUAL(run_program(&sb, (const char *const[]){"run", NULL}, NULL, &err), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "nope.json"));
	json_t *cat = load_output(&sb, "catalog.json");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cat);
	CU_ASSERT_STRING_EQUAL(source_status(cat, "gone"), "failed");
	CU_ASSERT_STRING_EQUAL(source_status(cat, "modelsdev"), "fresh");
	json_decref(cat);
	free(err);
	sandbox_free(&sb);
}

static void test_hanging_plugin_is_killed(void)
{
	struct sandbox sb = sandbox_new();
	sandbox_config(&sb, "[source modelsdev]\nurl = file:data/modelsdev-a.json\n\n"
			    "[source stuck]\nplugin = rx_hang\nurl = file:data/modelsdev-b.json\n"
			    "time_limit = 0.5\n");
	CU_ASSERT_EQUAL(run_program(&sb, (const char *const[]){"run", NULL}, NULL, NULL), 1);
	json_t *cat = load_output(&sb, "catalog.json");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cat);
	CU_ASSERT_STRING_EQUAL(source_status(cat, "stuck"), "failed");
	json_decref(cat);
	sandbox_free(&sb);
}

static void test_lock_held_exits_4(void)
{
	struct sandbox sb = sandbox_new();
	sandbox_config(&sb, two_sources);
	char path[4096];
	snprintf(path, sizeof path, "%s/cache", sb.dir);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/cache/.lock", sb.dir);
	int fd = open(path, O_RDWR | O_CREAT, 0644);
	CU_ASSERT_EQUAL_FATAL(flock(fd, LOCK_EX), 0);
	char *err = NULL;
	CU_ASSERT_EQUAL(run_program(&sb, (const char *const[]){"run", NULL}, NULL, &err), 4);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "lock"));
	free(err);
	close(fd);
	/* The kernel dropped the lock with the descriptor. */
	CU_ASSERT_EQUAL(run_program(&sb, (const char *const[]){"run", NULL}, NULL, NULL), 0);
	sandbox_free(&sb);
}

static char *xasprintf_test(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *xasprintf_test(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* Remove the lines that may differ between runs (times). */
static char *without_times(const char *s)
{
	char *copy = strdup(s);
	char *w = copy;
	const char *line = s;
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) + 1 : strlen(line);
		bool drop = memmem(line, len, "\"generated_at\"", 14) ||
			    memmem(line, len, "\"fetched_at\"", 12);
		if (!drop) {
			memcpy(w, line, len);
			w += len;
		}
		line += len;
	}
	*w = '\0';
	return copy;
}

static void test_deterministic_across_jobs(void)
{
	static const char sources[] = "[source modelsdev]\nurl = file:data/modelsdev-a.json\n\n"
				      "[source mirror]\nplugin = modelsdev\n"
				      "url = file:data/modelsdev-b.json\n\n"
				      "[source third]\nplugin = modelsdev\nprecedence = 45\n"
				      "url = file:data/modelsdev-a.json\n";
	const char *files[] = {"catalog.json", "staging_candidates.json", "mapping.json"};
	char *first[3] = {NULL, NULL, NULL};
	for (int jobs = 1; jobs <= 4; jobs += 3) {
		struct sandbox sb = sandbox_new();
		char ini[2048];
		snprintf(ini, sizeof ini, "%s", sources);
		sandbox_config(&sb, ini);
		/* jobs goes into [core]: rewrite the config with it. */
		char *content = tu_read_file(sb.config);
		char *with_jobs = malloc(strlen(content) + 32);
		sprintf(with_jobs, "%.6s\njobs = %d%s", content, jobs, content + 6);
		free(tu_write_file(sb.dir, "modelfuse.ini", with_jobs));
		free(with_jobs);
		free(content);
		CU_ASSERT_EQUAL(run_program(&sb, (const char *const[]){"run", NULL}, NULL, NULL),
				0);
		for (int f = 0; f < 3; f++) {
			char path[4096];
			snprintf(path, sizeof path, "%s/out/%s", sb.dir, files[f]);
			char *raw = tu_read_file(path);
			CU_ASSERT_PTR_NOT_NULL_FATAL(raw);
			char *stable = without_times(raw);
			free(raw);
			if (!first[f]) {
				first[f] = stable;
			} else {
				CU_ASSERT_STRING_EQUAL(first[f], stable);
				free(stable);
			}
		}
		sandbox_free(&sb);
	}
	for (int f = 0; f < 3; f++)
		free(first[f]);
}

static void test_run_stats(void)
{
	struct sandbox sb = sandbox_new();
	sandbox_config(&sb, two_sources);
	char *err = NULL;
	CU_ASSERT_EQUAL(run_program(&sb, (const char *const[]){"run", "--stats", NULL}, NULL, &err),
			0);
	const char *phases[] = {"fetch+normalize", "map", "merge", "derive", "changes", "write",
				"total", "peak memory: main process"};
	for (size_t i = 0; i < sizeof phases / sizeof *phases; i++)
		CU_ASSERT_PTR_NOT_NULL(strstr(err, phases[i]));
	/* The fixtures hold 4 + 4 records. */
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "8 records"));
	free(err);
	sandbox_free(&sb);
}

/* On a terminal a run shows each source as it finishes and a closing table
 * with ages; script(1) gives the program a terminal. */
static void test_progress_on_a_terminal(void)
{
	if (access("/usr/bin/script", X_OK) != 0)
		return;
	struct sandbox sb = sandbox_new();
	sandbox_config(&sb, two_sources);
	char *cmd = xasprintf_test("%s -c %s run", tu_env("MF_TEST_PROGRAM"), sb.config);
	char *argv[] = {"/usr/bin/script", "-qec", cmd, "/dev/null", NULL};
	char *out = NULL;
	CU_ASSERT_EQUAL(tu_run(argv, NULL, &out, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "modelsdev            fresh"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "mirror               fresh"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, " records "));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "AGE"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "catalog written to"));
	free(out);
	free(cmd);
	sandbox_free(&sb);
}

static void test_dry_run_writes_nothing(void)
{
	struct sandbox sb = sandbox_new();
	sandbox_config(&sb, two_sources);
	char *out = NULL;
	CU_ASSERT_EQUAL(run_program(&sb, (const char *const[]){"run", "--dry-run", NULL}, &out,
				    NULL),
			0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "dry run"));
	char path[4096];
	snprintf(path, sizeof path, "%s/out/catalog.json", sb.dir);
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
	free(out);
	sandbox_free(&sb);
}

static void test_cli_usage(void)
{
	char *out = NULL, *err = NULL;
	CU_ASSERT_EQUAL(run_program(NULL, (const char *const[]){"--version", NULL}, &out, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "modelfuse " PACKAGE_VERSION));
	free(out);
	CU_ASSERT_EQUAL(run_program(NULL, (const char *const[]){"--help", NULL}, &out, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "check-config"));
	free(out);
	CU_ASSERT_EQUAL(run_program(NULL, (const char *const[]){"frobnicate", NULL}, NULL, &err),
			2);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown command"));
	free(err);
	CU_ASSERT_EQUAL(run_program(NULL, (const char *const[]){NULL}, NULL, NULL), 2);

	struct sandbox sb = sandbox_new();
	sandbox_config(&sb, two_sources);
	CU_ASSERT_EQUAL(run_program(&sb, (const char *const[]){"run", "--only", "nosuch", NULL},
				    NULL, &err),
			2);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "nosuch"));
	free(err);
	CU_ASSERT_EQUAL(run_program(&sb, (const char *const[]){"check-config", NULL}, &out, NULL),
			0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "ok (2 sources, 2 enabled)"));
	free(out);
	CU_ASSERT_EQUAL(run_program(&sb, (const char *const[]){"plugins", NULL}, &out, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "modelsdev"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "ABI 1.0"));
	free(out);
	sandbox_free(&sb);
}

static void test_explain_after_run(void)
{
	struct sandbox sb = sandbox_new();
	sandbox_config(&sb, two_sources);
	CU_ASSERT_EQUAL_FATAL(run_program(&sb, (const char *const[]){"run", NULL}, NULL, NULL), 0);
	char *out = NULL;
	CU_ASSERT_EQUAL(run_program(&sb,
				    (const char *const[]){"explain",
							  "anthropic/claude-3-5-sonnet-20241022",
							  NULL},
				    &out, NULL),
			0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "modelsdev"));
	free(out);
	CU_ASSERT_EQUAL(run_program(&sb,
				    (const char *const[]){"explain", "--json",
							  "modelsdev:gpt-4o-mini", NULL},
				    &out, NULL),
			0);
	json_error_t jerr;
	json_t *j = json_loads(out, 0, &jerr);
	CU_ASSERT_PTR_NOT_NULL(j);
	json_decref(j);
	free(out);
	CU_ASSERT_EQUAL(run_program(&sb, (const char *const[]){"explain", "modelsdev:no-such", NULL},
				    NULL, NULL),
			1);
	CU_ASSERT_EQUAL(run_program(&sb, (const char *const[]){"explain", NULL}, NULL, NULL), 2);
	sandbox_free(&sb);
}


/* ------------------------------------------------------------ unchanged runs */

static char *out_text(const struct sandbox *sb, const char *name, bool stable)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/out/%s", sb->dir, name);
	char *raw = tu_read_file(path);
	if (!raw || !stable)
		return raw;
	char *s = without_times(raw);
	free(raw);
	return s;
}

static bool renewed(const char *err)
{
	return err && strstr(err, "outputs renewed, not rebuilt") != NULL;
}

static void stat_out(const struct sandbox *sb, const char *name, struct stat *st)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/out/%s", sb->dir, name);
	CU_ASSERT_EQUAL(stat(path, st), 0);
}

/* A run over unchanged sources renews the outputs instead of rebuilding
 * them, and what it writes is what a full run writes. */
static void test_unchanged_run_reuses_outputs(void)
{
	struct sandbox sb = sandbox_new();
	sandbox_config(&sb, two_sources);
	const char *const verbose_run[] = {"-v", "run", NULL};
	char *err = NULL;
	CU_ASSERT_EQUAL(run_program(&sb, verbose_run, NULL, &err), 0);
	CU_ASSERT_FALSE(renewed(err));
	free(err);
	char *files[] = {"catalog.json", "mapping.json", "staging_candidates.json"};
	char *first[3];
	for (int i = 0; i < 3; i++)
		first[i] = out_text(&sb, files[i], true);
	json_t *cat1 = load_output(&sb, "catalog.json");
	struct stat staging1;
	stat_out(&sb, "staging_candidates.json", &staging1);

	CU_ASSERT_EQUAL(run_program(&sb, verbose_run, NULL, &err), 0);
	CU_ASSERT_TRUE(renewed(err));
	free(err);
	/* The sources are cached now, not fresh: the catalog's head differs
	 * from the first run's, the rest does not. */
	for (int i = 0; i < 3; i++) {
		char *now = out_text(&sb, files[i], true);
		if (i == 0) {
			CU_ASSERT_STRING_EQUAL(strstr(now, "\"models\": ["),
					       strstr(first[i], "\"models\": ["));
			free(first[i]);
			first[i] = now;
			continue;
		}
		CU_ASSERT_STRING_EQUAL(now, first[i]);
		free(now);
	}
	json_t *cat2 = load_output(&sb, "catalog.json");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cat2);
	/* The sources' record counts are the real ones, not the 0 records
	 * that travelled. */
	json_t *src = find_by_key(json_object_get(cat2, "sources"), "name", "mirror");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(src, "records")), 4);
	CU_ASSERT_STRING_EQUAL(source_status(cat2, "modelsdev"), "cached");
	/* changes.json compares with the run before, which it names. */
	json_t *changes = load_output(&sb, "changes.json");
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_object_get(changes, "previous_generated_at")),
	    json_string_value(json_object_get(cat1, "generated_at")));
	CU_ASSERT_EQUAL(
	    json_integer_value(json_object_get(json_object_get(changes, "counts"), "unchanged")),
	    (json_int_t)json_array_size(json_object_get(cat2, "models")));
	CU_ASSERT_EQUAL(json_array_size(json_object_get(changes, "changed")), 0);
	/* The staging candidates carry no time: left as they were. */
	struct stat staging2;
	stat_out(&sb, "staging_candidates.json", &staging2);
	CU_ASSERT_EQUAL(staging1.st_ino, staging2.st_ino);
	CU_ASSERT_EQUAL(staging1.st_mtim.tv_nsec, staging2.st_mtim.tv_nsec);

	/* Without the state the same outputs come from a full run. */
	char path[4096];
	snprintf(path, sizeof path, "%s/out/.run-state.json", sb.dir);
	CU_ASSERT_EQUAL(unlink(path), 0);
	CU_ASSERT_EQUAL(run_program(&sb, verbose_run, NULL, &err), 0);
	CU_ASSERT_FALSE(renewed(err));
	free(err);
	for (int i = 0; i < 3; i++) {
		char *now = out_text(&sb, files[i], true);
		CU_ASSERT_STRING_EQUAL(now, first[i]);
		free(now);
		free(first[i]);
	}
	json_decref(cat1);
	json_decref(cat2);
	json_decref(changes);
	sandbox_free(&sb);
}

/* Anything the state cannot vouch for means a full run: an edited output,
 * another configuration, a damaged state. */
static void test_edits_and_config_changes_rebuild(void)
{
	struct sandbox sb = sandbox_new();
	sandbox_config(&sb, two_sources);
	const char *const verbose_run[] = {"-v", "run", NULL};
	char *err = NULL;
	CU_ASSERT_EQUAL(run_program(&sb, verbose_run, NULL, &err), 0);
	free(err);
	CU_ASSERT_EQUAL(run_program(&sb, verbose_run, NULL, &err), 0);
	CU_ASSERT_TRUE(renewed(err));
	free(err);
	char *catalog = out_text(&sb, "catalog.json", true);

	/* Someone edits catalog.json: the next run rebuilds it. */
	char path[4096];
	snprintf(path, sizeof path, "%s/out/catalog.json", sb.dir);
	FILE *f = fopen(path, "a");
	fputs("\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(run_program(&sb, verbose_run, NULL, &err), 0);
	CU_ASSERT_FALSE(renewed(err));
	free(err);
	char *now = out_text(&sb, "catalog.json", true);
	CU_ASSERT_STRING_EQUAL(now, catalog);
	free(now);
	CU_ASSERT_EQUAL(run_program(&sb, verbose_run, NULL, &err), 0);
	CU_ASSERT_TRUE(renewed(err));
	free(err);

	/* A damaged state is no state. */
	snprintf(path, sizeof path, "%s/out/.run-state.json", sb.dir);
	free(tu_write_file(sb.dir, "out/.run-state.json", "{\"version\": 1, \"key"));
	CU_ASSERT_EQUAL(run_program(&sb, verbose_run, NULL, &err), 0);
	CU_ASSERT_FALSE(renewed(err));
	free(err);
	CU_ASSERT_EQUAL(run_program(&sb, verbose_run, NULL, &err), 0);
	CU_ASSERT_TRUE(renewed(err));
	free(err);

	/* Another precedence is another catalog. */
	static const char reordered[] = "[source modelsdev]\nurl = file:data/modelsdev-a.json\n\n"
					"[source mirror]\nplugin = modelsdev\nprecedence = 99\n"
					"url = file:data/modelsdev-b.json\n";
	sandbox_config(&sb, reordered);
	CU_ASSERT_EQUAL(run_program(&sb, verbose_run, NULL, &err), 0);
	CU_ASSERT_FALSE(renewed(err));
	free(err);
	json_t *cat = load_output(&sb, "catalog.json");
	json_t *mirror = find_by_key(json_object_get(cat, "sources"), "name", "mirror");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(mirror, "precedence")), 99);
	json_decref(cat);
	free(catalog);
	sandbox_free(&sb);
}

/* Replace every occurrence of from by to in the sandbox file. */
static void edit_file(const struct sandbox *sb, const char *name, const char *from, const char *to)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", sb->dir, name);
	char *s = tu_read_file(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	char *hit = strstr(s, from);
	CU_ASSERT_PTR_NOT_NULL_FATAL(hit);
	char *edited = xasprintf_test("%.*s%s%s", (int)(hit - s), s, to, hit + strlen(from));
	free(tu_write_file(sb->dir, name, edited));
	free(edited);
	free(s);
}

/* One source changes: the run rebuilds, the other source's records come
 * from its cache (it did not send them), and a damaged cached stream fails
 * that source instead of passing. */
static void test_one_changed_source_rebuilds(void)
{
	struct sandbox sb = sandbox_new();
	static const char sources[] = "[source modelsdev]\nurl = file:data/modelsdev-a.json\n\n"
				      "[source mirror]\nplugin = modelsdev\nttl_hours = 0\n"
				      "url = file:data/modelsdev-b.json\n";
	sandbox_config(&sb, sources);
	const char *const verbose_run[] = {"-v", "run", NULL};
	char *err = NULL;
	CU_ASSERT_EQUAL(run_program(&sb, verbose_run, NULL, &err), 0);
	free(err);
	/* Past its TTL but the same bytes: still nothing new. */
	CU_ASSERT_EQUAL(run_program(&sb, verbose_run, NULL, &err), 0);
	CU_ASSERT_TRUE(renewed(err));
	free(err);

	edit_file(&sb, "data/modelsdev-b.json", "\"name\":\"DeepSeek R1\"",
		  "\"name\":\"DeepSeek R1 renamed\"");
	CU_ASSERT_EQUAL(run_program(&sb, verbose_run, NULL, &err), 0);
	CU_ASSERT_FALSE(renewed(err));
	free(err);
	json_t *cat = load_output(&sb, "catalog.json");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cat);
	char *text = out_text(&sb, "catalog.json", false);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "DeepSeek R1 renamed"));
	/* modelsdev-a's own model is still there: its records were read from
	 * the cache by the parent. */
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"modelsdev\": ["));
	free(text);
	json_t *md = find_by_key(json_object_get(cat, "sources"), "name", "modelsdev");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(md, "records")), 4);
	CU_ASSERT_STRING_EQUAL(source_status(cat, "modelsdev"), "cached");
	json_decref(cat);
	json_t *changes = load_output(&sb, "changes.json");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(changes, "changed")), 1);
	json_decref(changes);

	/* Damage modelsdev's kept record stream, then change the mirror again. */
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/cache/modelsdev", sb.dir);
	DIR *d = opendir(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	struct dirent *e;
	int damaged = 0;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "records-", 8) != 0)
			continue;
		char path[4096 + 256];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		CU_ASSERT_EQUAL(truncate(path, 20), 0);
		damaged++;
	}
	closedir(d);
	CU_ASSERT_EQUAL(damaged, 1);
	edit_file(&sb, "data/modelsdev-b.json", "DeepSeek R1 renamed", "DeepSeek R1 again");
	CU_ASSERT_EQUAL(run_program(&sb, verbose_run, NULL, &err), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot read the cached records"));
	free(err);
	cat = load_output(&sb, "catalog.json");
	CU_ASSERT_STRING_EQUAL(source_status(cat, "modelsdev"), "failed");
	CU_ASSERT_STRING_EQUAL(source_status(cat, "mirror"), "fresh");
	json_decref(cat);
	sandbox_free(&sb);
}

static const struct tu_test tests[] = {
	{"explain after a run", test_explain_after_run},
	{"run writes the catalog", test_run_writes_catalog},
	{"bad config exits 2 naming file:line", test_bad_config_exits_2_with_line},
	{"a crashing plugin costs only its source", test_crashing_plugin_costs_only_its_source},
	{"no records: exit 3, outputs kept", test_no_records_exit_3_keeps_outputs},
	{"a missing file fails its source only", test_missing_file_source_fails_run_goes_on},
	{"a hanging plugin is killed", test_hanging_plugin_is_killed},
	{"a held lock exits 4", test_lock_held_exits_4},
	{"outputs identical for jobs=1 and jobs=4", test_deterministic_across_jobs},
	{"dry run writes nothing", test_dry_run_writes_nothing},
	{"run --stats prints phases and memory", test_run_stats},
	{"progress and closing table on a terminal", test_progress_on_a_terminal},
	{"command line usage", test_cli_usage},
	{"an unchanged run renews the outputs", test_unchanged_run_reuses_outputs},
	{"edits, a damaged state, a config change: full run", test_edits_and_config_changes_rebuild},
	{"one changed source: full run with the others' cached records",
	 test_one_changed_source_rebuilds},
	{NULL, NULL},
};

int main(void)
{
	return tu_main("e2e", tests);
}
