/* Atomicity under kill (issue 9): `modelfuse run` killed with SIGKILL at
 * random moments, over sources whose payloads change from run to run. After
 * every kill each output is its old bytes or a complete new version, each
 * cache folder is a complete payload (its manifest names only files that
 * are there, every content-named file holds the bytes its name hashes, the
 * record stream decodes), no source process outlives the run, and the lock
 * is free: the next run succeeds and clears what the killed ones left. */
#include "mf_build_config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "faultutil.h"
#include "record.h"
#include "stream.h"
#include "testutil.h"
#include "util.h"

#define KILLS 30

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const instances[] = {"modelsdev", "openrouter", "huggingface", "litellm",
					"arena"};

/* Sources read from files, all refreshed on every run; modelsdev reads the
 * file the test swaps between two versions. */
static char *kill_ini(const char *dir)
{
	char *a = tu_srcpath("data/samples/openrouter-models.json");
	char *b = tu_srcpath("data/samples/huggingface-models.json");
	char *c = tu_srcpath("data/samples/litellm-prices.json");
	char *d = tu_srcpath("data/samples/arena-leaderboard-text.json");
	char *ini =
	    xasprintf("[core]\nplugin_dir = %s\ncache_dir = cache\noutput_dir = out\njobs = 3\n"
		      "[source modelsdev]\nurl = file:%s/current.json\nttl_hours = 0\n"
		      "[source openrouter]\nurl = file:%s\nttl_hours = 0\n"
		      "[source huggingface]\nurl = file:%s\nttl_hours = 0\n"
		      "[source litellm]\nurl = file:%s\nttl_hours = 0\n"
		      "[source arena]\nurl = file:%s\nttl_hours = 0\n",
		      tu_env("MF_TEST_PLUGIN_DIR"), dir, a, b, c, d);
	free(a);
	free(b);
	free(c);
	free(d);
	return ini;
}

/* Put version v (0 or 1) of the modelsdev payload in place, atomically. */
static void swap_payload(const char *dir, int v)
{
	char *src = tu_srcpath(v ? "tests/fixtures/e2e/modelsdev-b.json"
				 : "tests/fixtures/e2e/modelsdev-a.json");
	char *text = tu_read_file(src);
	free(tu_write_file(dir, "current.json.new", text));
	char *from = xasprintf("%s/current.json.new", dir), *to = xasprintf("%s/current.json", dir);
	CU_ASSERT_FATAL(rename(from, to) == 0);
	free(from);
	free(to);
	free(text);
	free(src);
}

/* Start the program in its own process group, quiet. */
static pid_t start_run(const char *cfg)
{
	fflush(NULL);
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		setpgid(0, 0);
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execl(tu_env("MF_TEST_PROGRAM"), "modelfuse", "-c", cfg, "run", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Reap everything the killed run left (this process is their subreaper):
 * source processes must die with it. Returns how many were still alive
 * after a second (then killed). */
static int reap_orphans(void)
{
	double until = now_seconds() + 1.0;
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);
		if (p < 0 && errno == ECHILD)
			return 0;
		if (p > 0)
			continue;
		if (now_seconds() > until)
			break;
		usleep(5000);
	}
	/* Survivors: name them by killing them, then count. */
	int left = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		long pid = strtol(e->d_name, NULL, 10);
		if (pid <= 0)
			continue;
		char *path = xasprintf("/proc/%ld/stat", pid);
		char *stat = tu_read_file(path);
		free(path);
		const char *paren = stat ? strrchr(stat, ')') : NULL;
		long ppid = 0;
		if (paren && sscanf(paren + 2, "%*c %ld", &ppid) == 1 && ppid == (long)getpid()) {
			kill((pid_t)pid, SIGKILL);
			left++;
		}
		free(stat);
	}
	if (d)
		closedir(d);
	while (waitpid(-1, NULL, 0) > 0)
		;
	return left;
}

static bool is_temporary(const char *name)
{
	return strstr(name, ".tmp.") != NULL;
}

/* An output that changed must be complete: JSON that parses whole (each
 * line of the digest). */
static bool complete_output(const struct fu_file *f)
{
	json_error_t err;
	if (strcmp(f->path, ".catalog-digest.jsonl") == 0 ||
	    (strlen(f->path) > 6 && strcmp(f->path + strlen(f->path) - 6, ".jsonl") == 0)) {
		if (f->size == 0 || f->data[f->size - 1] != '\n')
			return false;
		char *copy = xstrndup(f->data, f->size);
		bool ok = true;
		for (char *line = copy, *next; ok && line && *line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			json_t *j = json_loads(line, 0, &err);
			ok = j != NULL;
			json_decref(j);
		}
		free(copy);
		return ok;
	}
	json_t *j = json_loadb(f->data, f->size, 0, &err);
	bool ok = j != NULL;
	json_decref(j);
	return ok;
}

static const struct fu_file *find_file(const struct fu_tree *t, const char *path)
{
	for (size_t i = 0; i < t->count; i++)
		if (strcmp(t->files[i].path, path) == 0)
			return &t->files[i];
	return NULL;
}

/* Every output is its old bytes or complete; none went missing. */
static bool outputs_whole(const struct fu_tree *before, const struct fu_tree *after, int round)
{
	bool ok = true;
	for (size_t i = 0; i < before->count; i++) {
		const struct fu_file *old = &before->files[i];
		if (is_temporary(old->path))
			continue;
		if (!find_file(after, old->path)) {
			fprintf(stderr, "\nkill %d: output %s disappeared\n", round, old->path);
			ok = false;
		}
	}
	for (size_t i = 0; i < after->count; i++) {
		const struct fu_file *f = &after->files[i];
		if (is_temporary(f->path))
			continue;
		const struct fu_file *old = find_file(before, f->path);
		bool same = old && old->size == f->size && memcmp(old->data, f->data, f->size) == 0;
		if (!same && !complete_output(f)) {
			fprintf(stderr, "\nkill %d: output %s is partial (%zu bytes)\n", round,
				f->path, f->size);
			ok = false;
		}
	}
	return ok;
}

static bool content_named(const char *dir, const char *name, const char *prefix, const char *suffix)
{
	size_t np = strlen(prefix), ns = strlen(suffix), n = strlen(name);
	if (n != np + 64 + ns)
		return true; /* not a content name */
	char *path = xasprintf("%s/%s", dir, name);
	char err[256];
	size_t len = 0;
	char *data = read_file(path, &len, err, sizeof err);
	free(path);
	if (!data)
		return false;
	struct sha256 s;
	char hex[65];
	sha256_init(&s);
	sha256_update(&s, data, len);
	sha256_final_hex(&s, hex);
	free(data);
	return strncmp(name + np, hex, 64) == 0;
}

/* The instance's cache is empty or one complete payload. */
static bool cache_whole(const char *cache_dir, const char *name, int round)
{
	struct cache c;
	char why[512];
	cache_open(&c, cache_dir, name, why, sizeof why);
	bool ok = *why == '\0';
	if (!ok)
		fprintf(stderr, "\nkill %d: cache of %s: %s\n", round, name, why);
	if (ok && c.valid) {
		struct record_array records = {0};
		char err[256];
		if (cache_load_records(&c, &records, err, sizeof err) != 0) {
			fprintf(stderr, "\nkill %d: records of %s: %s\n", round, name, err);
			ok = false;
		}
		record_array_free(&records);
	}
	/* Content-named files hold what their names say, wherever they are. */
	DIR *d = c.dir ? opendir(c.dir) : NULL;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		bool good = true;
		if (str_starts_with(e->d_name, "page-"))
			good = content_named(c.dir, e->d_name, "page-", "");
		else if (str_starts_with(e->d_name, "records-"))
			good = content_named(c.dir, e->d_name, "records-", ".mfrs");
		if (!good) {
			fprintf(stderr, "\nkill %d: %s/%s does not hold what its name says\n",
				round, name, e->d_name);
			ok = false;
		}
	}
	if (d)
		closedir(d);
	cache_close(&c);
	return ok;
}

/* Pseudo-random delays from a fixed seed: a failure can be replayed. */
static unsigned long lcg_state;
static double uniform(void)
{
	lcg_state = lcg_state * 6364136223846793005UL + 1442695040888963407UL;
	return (double)(lcg_state >> 11) / (double)(1UL << 53);
}

static void test_kill_at_random_moments(void)
{
	CU_ASSERT_FATAL(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
	char *dir = tu_tmpdir();
	char *ini = kill_ini(dir);
	char *cfg = tu_write_file(dir, "modelfuse.ini", ini);
	char *out = xasprintf("%s/out", dir), *cache = xasprintf("%s/cache", dir);
	const char *seed_env = getenv("MF_TEST_KILL_SEED");
	lcg_state = seed_env ? strtoul(seed_env, NULL, 10) : (unsigned long)time(NULL);
	printf("\nkill seed %lu (MF_TEST_KILL_SEED replays it)\n", lcg_state);

	/* One whole run first: outputs to replace, and how long a run takes. */
	swap_payload(dir, 0);
	static const char *const run[] = {"run", NULL};
	double t0 = now_seconds();
	CU_ASSERT_EQUAL_FATAL(fu_program(cfg, run, NULL, NULL, NULL), 0);
	double took = now_seconds() - t0;

	int kills = fu_quick() ? 6 : KILLS, mid_run = 0;
	for (int round = 0; round < kills; round++) {
		swap_payload(dir, (round + 1) % 2);
		struct fu_tree before, after;
		fu_tree_read(&before, out);
		pid_t pid = start_run(cfg);
		double delay = uniform() * took * 1.3;
		usleep((useconds_t)(delay * 1e6));
		int st = 0;
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		mid_run += WIFSIGNALED(st);
		int left = reap_orphans();
		if (left)
			fprintf(stderr, "\nkill %d: %d source processes outlived the run\n", round,
				left);
		CU_ASSERT_EQUAL(left, 0);
		fu_tree_read(&after, out);
		CU_ASSERT(outputs_whole(&before, &after, round));
		for (size_t i = 0; i < sizeof instances / sizeof instances[0]; i++)
			CU_ASSERT(cache_whole(cache, instances[i], round));
		fu_tree_free(&before);
		fu_tree_free(&after);
	}
	printf("kills: %d, %d of them in the middle of a run (a run takes %.3f s)\n", kills,
	       mid_run, took);
	/* Under valgrind (quick) few kills and slow runs: no promise there. */
	if (!fu_quick())
		CU_ASSERT(mid_run > 0);

	/* The next run: the lock is free, everything is fresh again, and what
	 * the killed runs left behind is gone. */
	char *err = NULL;
	int rc = fu_program(cfg, run, NULL, NULL, &err);
	if (rc != 0)
		fprintf(stderr, "\nthe run after the kills: exit %d\n%s\n", rc, err);
	CU_ASSERT_EQUAL(rc, 0);
	free(err);
	for (size_t i = 0; i < sizeof instances / sizeof instances[0]; i++) {
		CU_ASSERT(cache_whole(cache, instances[i], kills));
		char *idir = xasprintf("%s/%s", cache, instances[i]);
		DIR *d = opendir(idir);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (str_starts_with(e->d_name, "tmp-") || strstr(e->d_name, ".tmp.")) {
				fprintf(stderr, "\nleft in the cache: %s/%s\n", instances[i],
					e->d_name);
				CU_FAIL("a killed run's leftovers stayed in the cache");
			}
		}
		if (d)
			closedir(d);
		free(idir);
	}
	free(out);
	free(cache);
	free(cfg);
	free(ini);
	tu_rm_rf(dir);
	free(dir);
}

/* The writer's temporary files of killed runs do not pile up in
 * output_dir: the next run that writes clears them. */
static void test_no_leftovers_in_outputs(void)
{
	char *dir = tu_tmpdir();
	char *ini = kill_ini(dir);
	char *cfg = tu_write_file(dir, "modelfuse.ini", ini);
	swap_payload(dir, 0);
	static const char *const run[] = {"run", NULL};
	CU_ASSERT_EQUAL_FATAL(fu_program(cfg, run, NULL, NULL, NULL), 0);
	/* What a run killed while writing leaves: a temporary beside each output. */
	char *out = xasprintf("%s/out", dir);
	free(tu_write_file(out, "catalog.json.tmp.Ab12Cd", "{\"partial\": "));
	free(tu_write_file(out, "mapping.json.tmp.Ef34Gh", "["));
	CU_ASSERT_EQUAL(fu_program(cfg, run, NULL, NULL, NULL), 0);
	struct fu_tree t;
	fu_tree_read(&t, out);
	for (size_t i = 0; i < t.count; i++) {
		if (is_temporary(t.files[i].path)) {
			fprintf(stderr, "\nleft in output_dir: %s\n", t.files[i].path);
			CU_FAIL("a killed run's temporary output stayed");
		}
	}
	fu_tree_free(&t);
	free(out);
	free(cfg);
	free(ini);
	tu_rm_rf(dir);
	free(dir);
}

int main(void)
{
	static const struct tu_test tests[] = {
	    {"SIGKILL at random moments", test_kill_at_random_moments},
	    {"temporary outputs of killed runs", test_no_leftovers_in_outputs},
	    {NULL, NULL},
	};
	return tu_main("kill safety", tests);
}
