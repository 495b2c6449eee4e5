/* Hostile plugins (SPEC §2): a plugin that crashes, aborts, exits, hangs,
 * eats memory, floods or closes its stream, or emits records the core cannot
 * use, in init, fetch or normalize, costs only its own source: `failed`, or
 * `stale` from its last good data, with the reason; the other sources and
 * the run go on. Driven through runner_run (the whole matrix) and through
 * the real program (exit status, messages, outputs). The fixture plugin is
 * tests/plugins/hx_hostile.c. */
#include "mf_build_config.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "faultutil.h"
#include "loader.h"
#include "record.h"
#include "runner.h"
#include "stream.h"
#include "testutil.h"
#include "util.h"

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------- runs */

/* A config with a hostile source `bad` and a well-behaved source `good`,
 * both of the hx_hostile plugin, run through runner_run. */
struct run {
	char *dir;
	struct config *cfg;
	struct loaded_plugin plugins[2];
	struct source_result results[2];
	double seconds;
};

static char *hostile_ini(const char *dir, const char *where, const char *what, double limit)
{
	return xasprintf("[core]\ncache_dir = cache\noutput_dir = out\njobs = 2\n"
			 "source_time_limit = 60\n"
			 "[source bad]\nplugin = hx_hostile\nurl = file:page.txt\nttl_hours = 0\n"
			 "time_limit = %g\nwhere = %s\nwhat = %s\nfile = %s/report\n"
			 "[source good]\nplugin = hx_hostile\nurl = file:page.txt\nttl_hours = 0\n"
			 "records = 2\n",
			 limit, where, what, dir);
}

static void run_ini(struct run *r, const char *dir, const char *ini)
{
	memset(r, 0, sizeof *r);
	r->dir = xstrdup(dir);
	free(tu_write_file(dir, "page.txt", "any bytes: hx_hostile does not read them\n"));
	free(tu_write_file(dir, "modelfuse.ini", ini));
	char *path = xasprintf("%s/modelfuse.ini", dir);
	struct errors errs = {0};
	r->cfg = config_load(path, &errs);
	for (size_t i = 0; i < errs.count; i++)
		fprintf(stderr, "\nconfig: %s\n", errs.msgs[i]);
	CU_ASSERT_FATAL(r->cfg && errs.count == 0 && r->cfg->n_sources == 2);
	const char *pdir = tu_env("MF_TEST_FIXTURE_PLUGIN_DIR");
	for (size_t i = 0; i < 2; i++) {
		CU_ASSERT_FATAL(loader_open_named(pdir, "hx_hostile", &r->plugins[i], &errs) == 0);
		config_check_options(r->cfg, &r->cfg->sources[i], r->plugins[i].desc, &errs);
	}
	CU_ASSERT_FATAL(errs.count == 0);
	errors_free(&errs);
	free(path);
	static const struct run_options none = {0};
	double t0 = now_seconds();
	CU_ASSERT_EQUAL(runner_run(r->cfg, r->plugins, &none, r->results), 0);
	r->seconds = now_seconds() - t0;
}

static void run_free(struct run *r)
{
	for (size_t i = 0; r->cfg && i < r->cfg->n_sources; i++) {
		source_result_free(&r->results[i]);
		loader_close(&r->plugins[i]);
	}
	config_free(r->cfg);
	free(r->dir);
	memset(r, 0, sizeof *r);
}

static void run_case(struct run *r, const char *dir, const char *where, const char *what,
		     double limit)
{
	char *ini = hostile_ini(dir, where, what, limit);
	run_ini(r, dir, ini);
	free(ini);
}

/* The good source is never touched by what the bad one does. */
static bool good_untouched(const struct run *r)
{
	const struct source_result *g = &r->results[1];
	bool ok = g->status == SOURCE_FRESH && g->records.count == 2;
	if (!ok)
		fprintf(stderr, "\ngood source: %s, %zu records, %s\n",
			source_status_name(g->status), g->records.count,
			g->message ? g->message : "");
	return ok;
}

/* A hostile source: failed without a cache, stale with its 3 cached
 * records otherwise, and the reason said. */
static bool bad_outcome(const struct run *r, bool cached, const char *reason, const char *label)
{
	const struct source_result *b = &r->results[0];
	enum source_status want = cached ? SOURCE_STALE : SOURCE_FAILED;
	size_t records = cached ? 3 : 0;
	bool ok = b->status == want && b->records.count == records && b->message &&
		  strstr(b->message, reason) && (!cached || strstr(b->message, "using cache from"));
	if (!ok)
		fprintf(stderr, "\n%s: %s with %zu records, message \"%s\"; wanted %s, \"%s\"\n",
			label, source_status_name(b->status), b->records.count,
			b->message ? b->message : "", source_status_name(want), reason);
	return ok;
}

/* ------------------------------------------------------------- the matrix */

struct misbehaviour {
	const char *what;
	const char *reason; /* part of the message */
	bool slow;	    /* waits for the time limit */
	/* Breaks only the stream: the payload itself is good and may become
	 * the new last good data before the child fails (stale then, even
	 * without a cache before). */
	bool may_commit;
};

static const struct misbehaviour misbehaviours[] = {
    {.what = "segv", .reason = "killed by signal 11"},
    {.what = "abort", .reason = "killed by signal 6"},
    {.what = "exit", .reason = "exited with status 3"},
    {.what = "exit0", .reason = "broken record stream"},
    {.what = "loop", .reason = "time limit", .slow = true},
    {.what = "alloc", .reason = "plugin"},
    {.what = "garbage", .reason = "broken record stream", .may_commit = true},
    {.what = "flood", .reason = "broken record stream"},
    {.what = "silent", .reason = "exited with status 1", .may_commit = true},
};
static const char *const places[] = {"init", "fetch", "normalize"};

static void test_hostile_matrix(void)
{
	unsigned cases = 0, passed = 0;
	bool quick = fu_quick();
	for (size_t p = 0; p < sizeof places / sizeof places[0]; p++) {
		for (size_t m = 0; m < sizeof misbehaviours / sizeof misbehaviours[0]; m++) {
			const struct misbehaviour *mb = &misbehaviours[m];
			/* Without an address-space limit (sanitizer runtimes need
			 * terabytes) unbounded allocation would take the machine. */
			if (strcmp(mb->what, "alloc") == 0 && fu_sanitized())
				continue;
			/* Under valgrind: one place for the slow ones. */
			if (quick && mb->slow && p != 2)
				continue;
			for (int cached = 0; cached <= 1; cached++) {
				char *dir = fu_sandbox();
				struct run r;
				if (cached) {
					run_case(&r, dir, places[p], "ok", 60);
					CU_ASSERT(r.results[0].status == SOURCE_FRESH);
					run_free(&r);
				}
				/* The time limit only matters for the hanging ones. */
				double limit = mb->slow ? 1 : 60;
				run_case(&r, dir, places[p], mb->what, limit);
				char label[96];
				snprintf(label, sizeof label, "%s in %s, %s", mb->what, places[p],
					 cached ? "cached" : "no cache");
				bool stale = cached || (mb->may_commit &&
							r.results[0].status == SOURCE_STALE);
				bool ok = bad_outcome(&r, stale, mb->reason, label);
				ok = good_untouched(&r) && ok;
				/* Killed at the limit, not waited for much longer. */
				if (mb->slow && r.seconds > 10) {
					fprintf(stderr, "\n%s took %.1f s\n", label, r.seconds);
					ok = false;
				}
				CU_ASSERT(ok);
				cases++;
				passed += ok;
				run_free(&r);
				tu_rm_rf(dir);
				free(dir);
			}
		}
	}
	printf("\nhostile matrix: %u cases, %u passed\n", cases, passed);
}

/* Records without an id, in every callback: dropped (outside normalize
 * nothing may be emitted at all), the source stays fresh. */
static void test_records_without_id(void)
{
	for (size_t p = 0; p < sizeof places / sizeof places[0]; p++) {
		char *dir = fu_sandbox();
		struct run r;
		run_case(&r, dir, places[p], "noid", 60);
		CU_ASSERT_EQUAL(r.results[0].status, SOURCE_FRESH);
		CU_ASSERT_EQUAL(r.results[0].records.count, 3);
		for (size_t i = 0; i < r.results[0].records.count; i++)
			CU_ASSERT(r.results[0].records.items[i]->native_id[0] != '\0');
		CU_ASSERT(good_untouched(&r));
		run_free(&r);
		tu_rm_rf(dir);
		free(dir);
	}
}

/* A record too large for a stream frame is dropped alone. */
static void test_huge_record(void)
{
	if (fu_quick())
		return;
	char *dir = fu_sandbox();
	struct run r;
	run_case(&r, dir, "normalize", "huge", 60);
	CU_ASSERT_EQUAL(r.results[0].status, SOURCE_FRESH);
	CU_ASSERT_EQUAL(r.results[0].records.count, 3);
	CU_ASSERT(good_untouched(&r));
	run_free(&r);
	tu_rm_rf(dir);
	free(dir);
}

static bool process_gone(pid_t pid)
{
	if (kill(pid, 0) != 0)
		return errno == ESRCH;
	/* A zombie nobody reaped yet is gone too. */
	char *path = xasprintf("/proc/%ld/stat", (long)pid);
	char *stat = tu_read_file(path);
	free(path);
	const char *paren = stat ? strrchr(stat, ')') : NULL;
	bool zombie = paren && paren[1] == ' ' && paren[2] == 'Z';
	free(stat);
	return zombie;
}

/* A plugin that leaves a process behind holding the record pipe: the run
 * does not wait for the time limit, and the process does not outlive it. */
static void test_leftover_process(void)
{
	for (size_t p = 0; p < sizeof places / sizeof places[0]; p++) {
		char *dir = fu_sandbox();
		struct run r;
		run_case(&r, dir, places[p], "fork", 30);
		CU_ASSERT_EQUAL(r.results[0].status, SOURCE_FRESH);
		CU_ASSERT_EQUAL(r.results[0].records.count, 3);
		CU_ASSERT(good_untouched(&r));
		CU_ASSERT(r.seconds < 10);
		char *file = xasprintf("%s/report", dir);
		char *text = tu_read_file(file);
		long pid = text ? strtol(text, NULL, 10) : 0;
		CU_ASSERT_FATAL(pid > 0);
		bool gone = false;
		for (int i = 0; i < 100 && !gone; i++) {
			gone = process_gone((pid_t)pid);
			if (!gone)
				usleep(10000);
		}
		CU_ASSERT(gone);
		if (!gone)
			kill((pid_t)pid, SIGKILL);
		free(text);
		free(file);
		run_free(&r);
		tu_rm_rf(dir);
		free(dir);
	}
}

/* The child runs with no core file (it may hold an API key), not
 * dumpable, and with an address-space limit. */
static void test_child_limits(void)
{
	char *dir = fu_sandbox();
	struct run r;
	run_case(&r, dir, "normalize", "report", 60);
	CU_ASSERT_EQUAL(r.results[0].status, SOURCE_FRESH);
	char *file = xasprintf("%s/report", dir);
	char *text = tu_read_file(file);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	long long core = -2, as = -2;
	int dumpable = -1;
	CU_ASSERT_EQUAL(sscanf(text, "core=%lld as=%lld dumpable=%d", &core, &as, &dumpable), 3);
	CU_ASSERT_EQUAL(core, 0);
	if (!fu_sanitized()) {
		CU_ASSERT_EQUAL(dumpable, 0);
		/* This test program is built with a 1 GiB limit. */
		CU_ASSERT_EQUAL(as, 1024LL << 20);
	}
	free(text);
	free(file);
	run_free(&r);
	tu_rm_rf(dir);
	free(dir);
}

/* ------------------------------------------------------------- the program */

static char *program_ini(const char *dir, const char *where, const char *what)
{
	return xasprintf("[core]\nplugin_dir = %s\ncache_dir = cache\noutput_dir = out\n"
			 "jobs = 2\nsource_time_limit = 60\n"
			 "[source bad]\nplugin = hx_hostile\nurl = file:page.txt\nttl_hours = 0\n"
			 "where = %s\nwhat = %s\nfile = %s/report\n"
			 "[source good]\nplugin = hx_hostile\nurl = file:page.txt\nttl_hours = 0\n"
			 "records = 2\n",
			 tu_env("MF_TEST_FIXTURE_PLUGIN_DIR"), where, what, dir);
}

static char *write_program_ini(const char *dir, const char *where, const char *what)
{
	free(tu_write_file(dir, "page.txt", "bytes\n"));
	char *ini = program_ini(dir, where, what);
	char *path = tu_write_file(dir, "modelfuse.ini", ini);
	free(ini);
	return path;
}

static json_t *catalog_source(const char *dir, const char *name)
{
	char *path = xasprintf("%s/out/catalog.json", dir);
	json_t *cat = json_load_file(path, 0, NULL);
	free(path);
	json_t *found = NULL;
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(cat, "sources"), i, s)
	{
		const char *n = json_string_value(json_object_get(s, "name"));
		if (n && strcmp(n, name) == 0)
			found = json_incref(s);
	}
	json_decref(cat);
	return found;
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* A crash with a cache: exit 1, the source stale with the signal named on
 * stderr and in catalog.json, the other source fresh. */
static void test_program_crash_goes_on(void)
{
	char *dir = fu_sandbox();
	char *cfg = write_program_ini(dir, "normalize", "ok");
	static const char *const run[] = {"run", NULL};
	char *err = NULL;
	CU_ASSERT_EQUAL(fu_program(cfg, run, NULL, NULL, &err), 0);
	free(err);
	free(cfg);

	cfg = write_program_ini(dir, "normalize", "segv");
	CU_ASSERT_EQUAL(fu_program(cfg, run, NULL, NULL, &err), 1);
	CU_ASSERT(fu_has(err, "source bad stale: plugin crashed: killed by signal 11"));
	CU_ASSERT(fu_has(err, "using cache from"));
	json_t *bad = catalog_source(dir, "bad"), *good = catalog_source(dir, "good");
	CU_ASSERT_STRING_EQUAL(jstr(bad, "status"), "stale");
	CU_ASSERT(fu_has(jstr(bad, "message"), "killed by signal 11"));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(bad, "records")), 3);
	CU_ASSERT_STRING_EQUAL(jstr(good, "status"), "fresh");
	json_decref(bad);
	json_decref(good);
	free(err);

	/* Without any cache: failed, and the run still writes the good one. */
	char *cache = xasprintf("%s/cache", dir);
	tu_rm_rf(cache);
	free(cache);
	CU_ASSERT_EQUAL(fu_program(cfg, run, NULL, NULL, &err), 1);
	CU_ASSERT(fu_has(err, "source bad failed: plugin crashed: killed by signal 11"));
	bad = catalog_source(dir, "bad");
	CU_ASSERT_STRING_EQUAL(jstr(bad, "status"), "failed");
	json_decref(bad);
	free(err);
	free(cfg);
	tu_rm_rf(dir);
	free(dir);
}

/* What a plugin prints goes to stderr, never into the program's stdout. */
static void test_program_plugin_prints(void)
{
	char *dir = fu_sandbox();
	char *cfg = write_program_ini(dir, "fetch", "stdout");
	static const char *const run[] = {"-v", "run", NULL};
	char *out = NULL, *err = NULL;
	CU_ASSERT_EQUAL(fu_program(cfg, run, NULL, &out, &err), 0);
	CU_ASSERT_PTR_NULL(strstr(out, "hx_hostile was here"));
	CU_ASSERT(fu_has(err, "hx_hostile was here"));
	free(out);
	free(err);
	free(cfg);
	tu_rm_rf(dir);
	free(dir);
}

/* Dropped records are named on stderr with the source and position. */
static void test_program_dropped_records(void)
{
	static const char *const run[] = {"run", NULL};
	char *dir = fu_sandbox();
	char *cfg = write_program_ini(dir, "normalize", "noid");
	char *err = NULL;
	CU_ASSERT_EQUAL(fu_program(cfg, run, NULL, NULL, &err), 0);
	CU_ASSERT(fu_has(err, "bad: warning: record 1 has no id: dropped"));
	CU_ASSERT(fu_has(err, "bad: warning: record 2 has no id: dropped"));
	free(err);
	free(cfg);
	cfg = write_program_ini(dir, "fetch", "noid");
	CU_ASSERT_EQUAL(fu_program(cfg, run, NULL, NULL, &err), 0);
	CU_ASSERT(fu_has(err, "bad: warning: record '' emitted outside normalize: dropped"));
	free(err);
	free(cfg);
	tu_rm_rf(dir);
	free(dir);
}

int main(void)
{
	static const struct tu_test tests[] = {
	    {"misbehaviour x callback x cache", test_hostile_matrix},
	    {"records without an id", test_records_without_id},
	    {"a record too large for the stream", test_huge_record},
	    {"a process left behind", test_leftover_process},
	    {"child limits: no core, memory", test_child_limits},
	    {"program: a crash costs its source only", test_program_crash_goes_on},
	    {"program: plugin output kept off stdout", test_program_plugin_prints},
	    {"program: dropped records named", test_program_dropped_records},
	    {NULL, NULL},
	};
	return tu_main("hostile plugins", tests);
}
