/* The HTTP and cache service (SPEC §9): TTL, conditional GET, normalize
 * once, last good data, the shrink guard, run options, retries, limits,
 * TLS and auth origins, the refresh command and the cache's write
 * protocol, over a scripted loopback server (tests/httpd/mfhttpd.py). */
#include "mf_build_config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "config.h"
#include "fetch.h"
#include "httpd_client.h"
#include "loader.h"
#include "record.h"
#include "runner.h"
#include "stream.h"
#include "testutil.h"
#include "util.h"

/* The [core] every test starts from; tests add retries and the like. */
#define CORE                                                                                       \
	"[core]\ncache_dir = cache\noutput_dir = out\nsource_time_limit = 30\njobs = 2\n"          \
	"connect_timeout_ms = 2000\n"
#define OLD_TIME "2020-01-01T00:00:00Z"

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool has(const char *s, const char *part)
{
	if (s && strstr(s, part))
		return true;
	fprintf(stderr, "\n\"%s\" does not contain \"%s\"\n", s ? s : "(null)", part);
	return false;
}

/* ------------------------------------------------------------- runs */

#define MAX_SOURCES 6

/* A run over a config file written into a sandbox folder, with the fixture
 * plugins loaded through the real loader. */
struct run {
	char *dir;
	struct config *cfg;
	struct loaded_plugin plugins[MAX_SOURCES];
	struct source_result results[MAX_SOURCES];
	bool ran;
	double seconds;
};

static void run_load(struct run *r, const char *dir, const char *ini)
{
	memset(r, 0, sizeof *r);
	r->dir = xstrdup(dir);
	free(tu_write_file(dir, "modelfuse.ini", ini));
	char *path = xasprintf("%s/modelfuse.ini", dir);
	struct errors errs = {0};
	r->cfg = config_load(path, &errs);
	for (size_t i = 0; i < errs.count; i++)
		fprintf(stderr, "\nconfig: %s\n", errs.msgs[i]);
	CU_ASSERT_FATAL(r->cfg && errs.count == 0);
	CU_ASSERT_FATAL(r->cfg->n_sources <= MAX_SOURCES);
	for (size_t i = 0; i < r->cfg->n_sources; i++) {
		const struct source_config *src = &r->cfg->sources[i];
		const char *pdir = str_starts_with(src->plugin, "cx_")
				       ? tu_env("MF_TEST_FIXTURE_PLUGIN_DIR")
				       : tu_env("MF_TEST_PLUGIN_DIR");
		CU_ASSERT_FATAL(loader_open_named(pdir, src->plugin, &r->plugins[i], &errs) == 0);
		config_check_options(r->cfg, src, r->plugins[i].desc, &errs);
	}
	for (size_t i = 0; i < errs.count; i++)
		fprintf(stderr, "\nplugins: %s\n", errs.msgs[i]);
	CU_ASSERT_FATAL(errs.count == 0);
	errors_free(&errs);
	free(path);
}

static void run_go(struct run *r, const struct run_options *opts)
{
	static const struct run_options none = {0};
	if (r->ran)
		for (size_t i = 0; i < r->cfg->n_sources; i++)
			source_result_free(&r->results[i]);
	double t0 = now_seconds();
	CU_ASSERT_EQUAL(runner_run(r->cfg, r->plugins, opts ? opts : &none, r->results), 0);
	r->seconds = now_seconds() - t0;
	r->ran = true;
}

static void run_free(struct run *r)
{
	for (size_t i = 0; r->cfg && i < r->cfg->n_sources; i++) {
		if (r->ran)
			source_result_free(&r->results[i]);
		if (r->plugins[i].handle)
			loader_close(&r->plugins[i]);
	}
	config_free(r->cfg);
	free(r->dir);
	memset(r, 0, sizeof *r);
}

/* Load, run once with opts, keep the results for the caller. */
static void run_once(struct run *r, const char *dir, const char *ini,
		     const struct run_options *opts)
{
	run_load(r, dir, ini);
	run_go(r, opts);
}

/* Every record of a result, encoded: equal strings mean equal records. */
static char *records_digest(const struct source_result *res)
{
	struct strbuf sb;
	strbuf_init(&sb);
	strbuf_printf(&sb, "%zu:", res->records.count);
	for (size_t k = 0; k < res->records.count; k++)
		stream_encode_record(&sb, res->records.items[k]);
	return strbuf_detach(&sb);
}

static bool status_is(const struct source_result *res, enum source_status want)
{
	if (res->status == want)
		return true;
	fprintf(stderr, "\n%s: status %s, expected %s (message: %s)\n", res->source->name,
		source_status_name(res->status), source_status_name(want),
		res->message ? res->message : "-");
	return false;
}

/* A string member, "" when missing (CUnit's string checks need one). */
static const char *jstr(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : "";
}

static char *manifest_path(const char *dir, const char *instance)
{
	return xasprintf("%s/cache/%s/manifest.json", dir, instance);
}

static json_t *manifest(const char *dir, const char *instance)
{
	char *path = manifest_path(dir, instance);
	json_t *j = json_load_file(path, 0, NULL);
	free(path);
	return j;
}

static char *manifest_string(const char *dir, const char *instance, const char *key)
{
	json_t *j = manifest(dir, instance);
	const char *v = json_string_value(json_object_get(j, key));
	char *copy = v ? xstrdup(v) : NULL;
	json_decref(j);
	return copy;
}

/* Make the cache look fetched long ago: past any TTL. */
static void age_cache(const char *dir, const char *instance)
{
	char *path = manifest_path(dir, instance);
	json_t *j = json_load_file(path, 0, NULL);
	CU_ASSERT_FATAL(j != NULL);
	json_object_set_new(j, "fetched_at", json_string(OLD_TIME));
	CU_ASSERT(json_dump_file(j, path, 0) == 0);
	json_decref(j);
	free(path);
}

/* Names and contents of a cache folder (refresh/ aside), in one string:
 * equal strings mean nothing was written. */
static char *folder_digest(const char *folder)
{
	struct dirent **names = NULL;
	int n = scandir(folder, &names, NULL, alphasort);
	struct strbuf sb;
	strbuf_init(&sb);
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
		    strcmp(name, "refresh") != 0) {
			char *path = xasprintf("%s/%s", folder, name);
			char *content = tu_read_file(path);
			strbuf_printf(&sb, "[%s]%s\n", name, content ? content : "(dir)");
			free(content);
			free(path);
		}
		free(names[i]);
	}
	free(names);
	return strbuf_detach(&sb);
}

static int count_lines(const char *path)
{
	char *s = tu_read_file(path);
	int n = 0;
	for (const char *c = s; c && *c; c++)
		n += *c == '\n';
	free(s);
	return n;
}

/* cx_pager pages. */
#define PAGE_ABC "offer: openai a\noffer: openai b\noffer: anthropic c\n"

/* A script serving one cx_pager page at /data. */
static char *one_page_script(const char *body, const char *headers)
{
	return xasprintf("{\"/data\": {\"body\": \"%s\", \"headers\": {%s}}}", body,
			 headers ? headers : "");
}

/* The config of one cx_pager source reading http://127.0.0.1:PORT/data. */
static char *one_source_ini(int port, const char *core_extra, const char *source_extra)
{
	return xasprintf(CORE "%s\n[source web]\nplugin = cx_pager\n"
			      "url = http://127.0.0.1:%d/data\n%s",
			 core_extra ? core_extra : "retries = 0\n", port,
			 source_extra ? source_extra : "");
}

/* ------------------------------------------------------------- sha256 */

/* A million 'a' fed in odd-sized pieces crosses every block edge. */
static void sha256_million_a(char hex[65])
{
	struct sha256 s;
	sha256_init(&s);
	char chunk[997];
	memset(chunk, 'a', sizeof chunk);
	size_t left = 1000000;
	while (left) {
		size_t n = left < sizeof chunk ? left : sizeof chunk;
		sha256_update(&s, chunk, n);
		left -= n;
	}
	sha256_final_hex(&s, hex);
}

static void sha256_known_answers(void)
{
	static const struct {
		const char *in;
		const char *hex;
	} cases[] = {
	    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	    /* 448 bits: the padding needs a block of its own. */
	    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	    /* 896 bits: two whole blocks from the caller's buffer. */
	    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
	     "klmnopqrlmnopqrsmnopqrstnopqrstu",
	     "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sha256 s;
		char hex[65];
		sha256_init(&s);
		sha256_update(&s, cases[i].in, strlen(cases[i].in));
		sha256_final_hex(&s, hex);
		CU_ASSERT_STRING_EQUAL(hex, cases[i].hex);
	}
	char hex[65];
	sha256_million_a(hex);
	CU_ASSERT_STRING_EQUAL(hex,
			       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* The digest of buf[0..n) fed in two pieces cut at `cut`. */
static void sha256_cut(const unsigned char *buf, size_t n, size_t cut, char hex[65])
{
	struct sha256 s;
	sha256_init(&s);
	sha256_update(&s, buf, cut);
	sha256_update(&s, buf + cut, n - cut);
	sha256_final_hex(&s, hex);
}

static void test_sha256(void)
{
	/* The portable code always, the CPU's SHA instructions when it has
	 * them (valgrind's CPU does not). */
	CU_ASSERT_FALSE(sha256_use_accel(false));
	sha256_known_answers();
	bool accel = sha256_use_accel(true);
	if (accel)
		sha256_known_answers();
	else
		fprintf(stderr, "(no SHA instructions here: portable code only) ");

	/* Both give the same digests for every length around block edges,
	 * whatever the cut. */
	unsigned char buf[300];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(i * 167 + 13);
	for (size_t n = 0; n <= sizeof buf; n += 7) {
		char a[65], b[65];
		sha256_use_accel(false);
		sha256_cut(buf, n, n / 3, a);
		sha256_use_accel(true);
		sha256_cut(buf, n, n - n / 5, b);
		CU_ASSERT_STRING_EQUAL(a, b);
	}
}

/* ------------------------------------------------------------- TTL, 304, normalize once */

static void test_ttl_cached_makes_no_request(void)
{
	struct httpd h;
	char *script = one_page_script(PAGE_ABC, NULL);
	httpd_start(&h, script);
	char *dir = tu_tmpdir();
	char *ini = one_source_ini(h.plain, NULL, NULL);
	struct run r;
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_EQUAL(r.results[0].records.count, 3);
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, NULL, NULL, NULL), 1);
	char *first = records_digest(&r.results[0]);
	char *fetched = xstrdup(r.results[0].fetched_at);

	/* The manifest says what the cache holds. */
	json_t *m = manifest(dir, "web");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	char *url = xasprintf("http://127.0.0.1:%d/data", h.plain);
	CU_ASSERT_STRING_EQUAL(jstr(m, "url"), url);
	CU_ASSERT_STRING_EQUAL(jstr(m, "fetched_at"), fetched);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(m, "records")), 3);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(m, "size")), strlen(PAGE_ABC));
	CU_ASSERT_EQUAL(json_array_size(json_object_get(m, "pages")), 1);
	CU_ASSERT_STRING_EQUAL(jstr(m, "plugin"), "cx_pager");
	CU_ASSERT_STRING_EQUAL(jstr(m, "plugin_version"), "1.0.0");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(m, "stream_format")), MF_STREAM_VERSION);
	CU_ASSERT_EQUAL(strlen(jstr(m, "sha256")), 64);
	json_decref(m);

	/* Within ttl_hours: no request, the same records and fetched_at. */
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_CACHED));
	CU_ASSERT_PTR_NULL(r.results[0].message);
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, NULL, NULL, NULL), 1);
	char *second = records_digest(&r.results[0]);
	CU_ASSERT_STRING_EQUAL(first, second);
	CU_ASSERT(r.results[0].fetched_at && strcmp(r.results[0].fetched_at, fetched) == 0);

	/* Past it: a request again. */
	age_cache(dir, "web");
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, NULL, NULL, NULL), 2);
	run_free(&r);

	/* Another URL in the config is another source: no cached answer. */
	free(ini);
	ini = xasprintf(CORE "retries = 0\n[source web]\nplugin = cx_pager\n"
			     "url = http://127.0.0.1:%d/data?v=2\n",
			h.plain);
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, NULL, NULL, NULL), 3);
	run_free(&r);

	free(first);
	free(second);
	free(fetched);
	free(url);
	free(ini);
	free(script);
	tu_rm_rf(dir);
	free(dir);
	httpd_stop(&h);
}

static void test_304_renews(void)
{
	struct httpd h;
	httpd_start(&h, "{\"/data\": {\"body\": \"" PAGE_ABC "\", \"not_modified\": true, "
			"\"headers\": {\"ETag\": \"\\\"v1\\\"\", "
			"\"Last-Modified\": \"Tue, 01 Sep 2026 10:00:00 GMT\"}}}");
	char *dir = tu_tmpdir();
	char *count = xasprintf("%s/normalize.log", dir);
	char *opt = xasprintf("count_file = %s\n", count);
	char *ini = one_source_ini(h.plain, NULL, opt);
	struct run r;
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	char *first = records_digest(&r.results[0]);
	char *etag = manifest_string(dir, "web", "etag");
	CU_ASSERT(etag && strcmp(etag, "\"v1\"") == 0);
	char *lm = manifest_string(dir, "web", "last_modified");
	CU_ASSERT(lm && strcmp(lm, "Tue, 01 Sep 2026 10:00:00 GMT") == 0);
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, "/data", "if-none-match", NULL), 0);

	age_cache(dir, "web");
	char *before = folder_digest(dir);
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_PTR_NULL(r.results[0].message);
	/* The first page was asked for conditionally, the server said 304. */
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, "/data", "if-none-match", "\"v1\""), 1);
	CU_ASSERT_EQUAL(
	    httpd_requests(&h, NULL, "/data", "if-modified-since", "Tue, 01 Sep 2026 10:00:00 GMT"), 1);
	char *second = records_digest(&r.results[0]);
	CU_ASSERT_STRING_EQUAL(first, second);
	/* fetched_at renewed, in the result and the manifest. */
	char *renewed = manifest_string(dir, "web", "fetched_at");
	CU_ASSERT(renewed && strcmp(renewed, OLD_TIME) != 0);
	CU_ASSERT(renewed && r.results[0].fetched_at &&
		  strcmp(renewed, r.results[0].fetched_at) == 0);
	/* normalize ran once only, for the first run. */
	CU_ASSERT_EQUAL(count_lines(count), 1);
	free(before);
	free(renewed);
	free(second);

	/* Now within the TTL again. */
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_CACHED));
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, "/data", NULL, NULL), 2);
	run_free(&r);

	free(first);
	free(etag);
	free(lm);
	free(ini);
	free(opt);
	free(count);
	tu_rm_rf(dir);
	free(dir);
	httpd_stop(&h);
}

static void test_normalize_once(void)
{
	struct httpd h;
	/* Two pages, no validators: every refresh downloads everything. */
	httpd_start(&h, "{\"/data\": {\"body\": \"offer: openai a\\nnext: /p2\\n\"},"
			" \"/p2\": {\"body\": \"offer: openai b\\n\"}}");
	char *dir = tu_tmpdir();
	char *count = xasprintf("%s/normalize.log", dir);
	char *opt = xasprintf("count_file = %s\nttl_hours = 0\n", count);
	char *ini = one_source_ini(h.plain, NULL, opt);
	struct run r;
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_EQUAL(r.results[0].records.count, 2);
	CU_ASSERT_EQUAL(count_lines(count), 2); /* one call per page */
	char *first = records_digest(&r.results[0]);
	char *fetched = xstrdup(r.results[0].fetched_at);

	/* ttl_hours = 0: fetched again, the same bytes: normalize not called. */
	sleep(1); /* so that fetched_at (whole seconds) moves */
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, "/data", NULL, NULL), 2);
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, "/p2", NULL, NULL), 2);
	CU_ASSERT_EQUAL(count_lines(count), 2);
	char *second = records_digest(&r.results[0]);
	CU_ASSERT_STRING_EQUAL(first, second);
	CU_ASSERT(r.results[0].fetched_at && strcmp(r.results[0].fetched_at, fetched) != 0);
	char *m_at = manifest_string(dir, "web", "fetched_at");
	CU_ASSERT(m_at && r.results[0].fetched_at && strcmp(m_at, r.results[0].fetched_at) == 0);
	free(m_at);

	/* A changed second page is a new payload: normalized again. */
	httpd_script(&h, "{\"/data\": {\"body\": \"offer: openai a\\nnext: /p2\\n\"},"
			 " \"/p2\": {\"body\": \"offer: openai b2\\n\"}}");
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_EQUAL(count_lines(count), 4);
	CU_ASSERT_STRING_EQUAL(r.results[0].records.items[1]->native_id, "b2");
	run_free(&r);

	/* The same payload, but another plugin version made the cache. */
	char *path = manifest_path(dir, "web");
	json_t *j = json_load_file(path, 0, NULL);
	json_object_set_new(j, "plugin_version", json_string("0.9.0"));
	json_dump_file(j, path, 0);
	json_decref(j);
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_EQUAL(count_lines(count), 6);
	run_free(&r);

	/* Other options: normalized again too (they may change the records). */
	free(ini);
	free(opt);
	opt = xasprintf("count_file = %s\nttl_hours = 0\nauth = Bearer x\n", count);
	ini = one_source_ini(h.plain, NULL, opt);
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_EQUAL(count_lines(count), 8);
	run_free(&r);

	free(path);
	free(first);
	free(second);
	free(fetched);
	free(ini);
	free(opt);
	free(count);
	tu_rm_rf(dir);
	free(dir);
	httpd_stop(&h);
}

/* ------------------------------------------------------------- file: validated by stat */

/* Set a file's mtime (atime left alone). */
static void set_mtime(const char *path, time_t sec, long nsec)
{
	const struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = sec, .tv_nsec = nsec}};
	CU_ASSERT_FATAL(utimensat(AT_FDCWD, path, ts, 0) == 0);
}

/* Rewrite a file in place (same inode) and give it an mtime. */
static void rewrite(const char *dir, const char *name, const char *content, time_t sec, long nsec)
{
	char *path = tu_write_file(dir, name, content);
	set_mtime(path, sec, nsec);
	free(path);
}

static bool ids_are(const struct source_result *res, const char *want)
{
	struct strbuf sb;
	strbuf_init(&sb);
	for (size_t k = 0; k < res->records.count; k++)
		strbuf_printf(&sb, "%s%s", k ? " " : "", res->records.items[k]->native_id);
	char *got = strbuf_detach(&sb);
	bool same = strcmp(got, want) == 0;
	if (!same)
		fprintf(stderr, "\n%s: records %s, expected %s\n", res->source->name, got, want);
	free(got);
	return same;
}

#define T1 1700000000
/* The same size as PAGE_ABC: a rewrite keeps size and inode. */
#define PAGE_XYZ "offer: openai x\noffer: openai y\noffer: anthropic z\n"
#define PAGE_PQR "offer: openai p\noffer: openai q\noffer: anthropic r\n"
#define PAGE_DEF "offer: openai d\noffer: openai e\noffer: anthropic f\n"

static void test_file_validated_by_stat(void)
{
	char *dir = tu_tmpdir();
	char *count = xasprintf("%s/normalize.log", dir);
	char *ini = xasprintf(CORE "[source f]\nplugin = cx_pager\nurl = file:feed.txt\n"
				   "ttl_hours = 0\ncount_file = %s\n",
			      count);
	rewrite(dir, "feed.txt", PAGE_ABC, T1, 123456789);
	struct run r;
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT(ids_are(&r.results[0], "a b c"));
	CU_ASSERT_EQUAL(count_lines(count), 1);
	/* Validators made from the stat, nanoseconds included. */
	char *etag = manifest_string(dir, "f", "etag");
	CU_ASSERT(has(etag, "\"file-"));
	CU_ASSERT(has(etag, "-1700000000.123456789\""));
	char *lm = manifest_string(dir, "f", "last_modified");
	CU_ASSERT(lm && strcmp(lm, "Tue, 14 Nov 2023 22:13:20 GMT") == 0);

	/* Past the TTL, the stat unchanged: fresh from the cache, fetched_at
	 * renewed, no normalize. Other bytes of the same size under the same
	 * stat prove the file was not even read. */
	rewrite(dir, "feed.txt", PAGE_XYZ, T1, 123456789);
	age_cache(dir, "f");
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_PTR_NULL(r.results[0].message);
	CU_ASSERT(ids_are(&r.results[0], "a b c"));
	CU_ASSERT_EQUAL(count_lines(count), 1);
	char *renewed = manifest_string(dir, "f", "fetched_at");
	CU_ASSERT(renewed && strcmp(renewed, OLD_TIME) != 0);
	CU_ASSERT(renewed && r.results[0].fetched_at &&
		  strcmp(renewed, r.results[0].fetched_at) == 0);
	free(renewed);

	/* One nanosecond later: read again, the new bytes normalized. */
	char *feed = xasprintf("%s/feed.txt", dir);
	set_mtime(feed, T1, 123456790);
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT(ids_are(&r.results[0], "x y z"));
	CU_ASSERT_EQUAL(count_lines(count), 2);
	char *etag2 = manifest_string(dir, "f", "etag");
	CU_ASSERT(has(etag2, "-1700000000.123456790\""));

	/* Touched, the same bytes: read (the new stat is recorded), not
	 * normalized (the payload hash is the same). */
	set_mtime(feed, T1 + 60, 5);
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT(ids_are(&r.results[0], "x y z"));
	CU_ASSERT_EQUAL(count_lines(count), 2);
	char *etag3 = manifest_string(dir, "f", "etag");
	CU_ASSERT(has(etag3, "-1700000060.000000005\""));

	/* New bytes of the same size written now: read. An mtime this recent
	 * is not trusted (a write in the same tick would not move it), so no
	 * validator is kept and the next run reads the file again too. */
	free(tu_write_file(dir, "feed.txt", PAGE_PQR));
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT(ids_are(&r.results[0], "p q r"));
	CU_ASSERT_EQUAL(count_lines(count), 3);
	char *etag4 = manifest_string(dir, "f", "etag");
	CU_ASSERT_PTR_NULL(etag4);
	rewrite(dir, "feed.txt", PAGE_DEF, T1 + 120, 0);
	run_go(&r, NULL);
	CU_ASSERT(ids_are(&r.results[0], "d e f"));
	CU_ASSERT_EQUAL(count_lines(count), 4);
	char *etag5 = manifest_string(dir, "f", "etag");
	CU_ASSERT(has(etag5, "-1700000120.000000000\""));

	/* --force-refresh reads the file whatever its stat says. */
	rewrite(dir, "feed.txt", PAGE_ABC, T1 + 120, 0);
	const struct run_options force = {.force_refresh = true};
	run_go(&r, &force);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT(ids_are(&r.results[0], "a b c"));
	CU_ASSERT_EQUAL(count_lines(count), 5);

	/* The file gone: a stat failure is a failed fetch, the cache serves. */
	CU_ASSERT(unlink(feed) == 0);
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_STALE));
	CU_ASSERT(has(r.results[0].message, "No such file or directory"));
	CU_ASSERT(ids_are(&r.results[0], "a b c"));
	run_free(&r);

	free(feed);
	free(etag);
	free(etag2);
	free(etag3);
	free(etag4);
	free(etag5);
	free(lm);
	free(ini);
	free(count);
	tu_rm_rf(dir);
	free(dir);
}

/* A file: source of several pages is unchanged only when every page is. */
static void test_file_pages_each_validated(void)
{
	char *dir = tu_tmpdir();
	char *count = xasprintf("%s/normalize.log", dir);
	char *ini = xasprintf(CORE "[source f]\nplugin = cx_pager\nurl = file:p1.txt\n"
				   "ttl_hours = 0\ncount_file = %s\n",
			      count);
	rewrite(dir, "p1.txt", "offer: openai a\nnext: p2.txt\n", T1, 1);
	rewrite(dir, "p2.txt", "offer: openai b\nnext: p3.txt\n", T1, 2);
	rewrite(dir, "p3.txt", "offer: openai c\n", T1, 3);
	struct run r;
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT(ids_are(&r.results[0], "a b c"));
	CU_ASSERT_EQUAL(count_lines(count), 3);

	/* Every stat as recorded: nothing read (the swapped bytes stay
	 * unseen), nothing normalized. */
	rewrite(dir, "p2.txt", "offer: openai B\nnext: p3.txt\n", T1, 2);
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT(ids_are(&r.results[0], "a b c"));
	CU_ASSERT_EQUAL(count_lines(count), 3);

	/* The last page changed: read; the first two come from the cache
	 * (their stat vouches for them), the payload is new. */
	rewrite(dir, "p3.txt", "offer: openai C\n", T1, 4);
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT(ids_are(&r.results[0], "a b C"));
	CU_ASSERT_EQUAL(count_lines(count), 6);
	json_t *m = manifest(dir, "f");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(m, "pages")), 3);
	json_decref(m);

	/* Unchanged again, then the middle page touched: read from there on. */
	run_go(&r, NULL);
	CU_ASSERT(ids_are(&r.results[0], "a b C"));
	CU_ASSERT_EQUAL(count_lines(count), 6);
	rewrite(dir, "p2.txt", "offer: openai B\n", T1, 5); /* now the last page */
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT(ids_are(&r.results[0], "a B"));
	CU_ASSERT_EQUAL(count_lines(count), 8);

	/* A page gone: the refresh fails, the last good data serves. */
	char *p2 = xasprintf("%s/p2.txt", dir);
	CU_ASSERT(unlink(p2) == 0);
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_STALE));
	CU_ASSERT(has(r.results[0].message, "p2.txt: No such file or directory"));
	CU_ASSERT(ids_are(&r.results[0], "a B"));
	run_free(&r);

	free(p2);
	free(ini);
	free(count);
	tu_rm_rf(dir);
	free(dir);
}

/* ------------------------------------------------------------- cache format */

/* The payload sha256: each page's own sha256 with its size, hashed. */
static void test_payload_hash_from_pages(void)
{
	char *dir = tu_tmpdir();
	char *ini = xasprintf(CORE "[source f]\nplugin = cx_pager\nurl = file:p1.txt\n");
	rewrite(dir, "p1.txt", "offer: openai a\nnext: p2.txt\n", T1, 0);
	rewrite(dir, "p2.txt", "offer: openai b\n", T1, 0);
	struct run r;
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	run_free(&r);
	json_t *m = manifest(dir, "f");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(m, "manifest_version")),
			CACHE_MANIFEST_VERSION);
	json_t *pages = json_object_get(m, "pages");
	CU_ASSERT_EQUAL_FATAL(json_array_size(pages), 2);
	struct sha256 sum;
	sha256_init(&sum);
	for (size_t i = 0; i < 2; i++) {
		const char *file = jstr(json_array_get(pages, i), "file");
		CU_ASSERT_EQUAL_FATAL(strlen(file), 5 + 64);
		char *line = xasprintf("page %lld %s\n",
				       (long long)json_integer_value(
					   json_object_get(json_array_get(pages, i), "size")),
				       file + 5);
		sha256_update(&sum, line, strlen(line));
		free(line);
	}
	char hex[65];
	sha256_final_hex(&sum, hex);
	CU_ASSERT_STRING_EQUAL(jstr(m, "sha256"), hex);
	json_decref(m);
	free(ini);
	tu_rm_rf(dir);
	free(dir);
}

/* Make the manifest look written by an older (or newer) program. */
static void set_manifest_version(const char *dir, const char *instance, int version,
				 const char *sha)
{
	char *path = manifest_path(dir, instance);
	json_t *j = json_load_file(path, 0, NULL);
	CU_ASSERT_FATAL(j != NULL);
	json_object_set_new(j, "manifest_version", json_integer(version));
	if (sha)
		json_object_set_new(j, "sha256", json_string(sha));
	CU_ASSERT(json_dump_file(j, path, 0) == 0);
	json_decref(j);
	free(path);
}

/* A version 1 cache: its sha256 was the hash of the bytes themselves. */
#define V1_SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_old_cache_format(void)
{
	struct httpd h;
	httpd_start(&h, "{\"/data\": {\"body\": \"" PAGE_ABC "\", \"not_modified\": true, "
			"\"headers\": {\"ETag\": \"\\\"v1\\\"\"}}}");
	char *dir = tu_tmpdir();
	char *count = xasprintf("%s/normalize.log", dir);
	char *opt = xasprintf("count_file = %s\n", count);
	char *ini = one_source_ini(h.plain, NULL, opt);
	struct run r;
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_EQUAL(count_lines(count), 1);
	char *first = records_digest(&r.results[0]);

	/* An old cache within its TTL: read (no warning about damage), but
	 * refreshed unconditionally and normalized once, then current. */
	set_manifest_version(dir, "web", 1, V1_SHA);
	struct cache c;
	char why[512];
	char *cache_dir = xasprintf("%s/cache", dir);
	cache_open(&c, cache_dir, "web", why, sizeof why);
	CU_ASSERT_STRING_EQUAL(why, "");
	CU_ASSERT(c.valid);
	CU_ASSERT_EQUAL(c.m.version, 1);
	cache_close(&c);
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_EQUAL(count_lines(count), 2);
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, "/data", NULL, NULL), 2);
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, "/data", "if-none-match", NULL), 0);
	json_t *m = manifest(dir, "web");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(m, "manifest_version")),
			CACHE_MANIFEST_VERSION);
	CU_ASSERT(strcmp(jstr(m, "sha256"), V1_SHA) != 0);
	json_decref(m);
	char *second = records_digest(&r.results[0]);
	CU_ASSERT_STRING_EQUAL(first, second);
	free(second);
	/* From now on the usual: within the TTL, cached. */
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_CACHED));
	CU_ASSERT_EQUAL(count_lines(count), 2);

	/* An old cache when the upstream is down: its records serve, stale. */
	set_manifest_version(dir, "web", 1, V1_SHA);
	age_cache(dir, "web");
	httpd_kill(&h);
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_STALE));
	CU_ASSERT(has(r.results[0].message, "; using cache from " OLD_TIME));
	second = records_digest(&r.results[0]);
	CU_ASSERT_STRING_EQUAL(first, second);
	free(second);
	/* The parent's own fallback reads it too. */
	cache_open(&c, cache_dir, "web", why, sizeof why);
	struct record_array records = {0};
	char err[256];
	CU_ASSERT(cache_load_records(&c, &records, err, sizeof err) == 0);
	CU_ASSERT_EQUAL(records.count, 3);
	record_array_free(&records);
	cache_close(&c);

	/* A manifest of a newer program is not understood: treated as damaged. */
	set_manifest_version(dir, "web", CACHE_MANIFEST_VERSION + 1, NULL);
	cache_open(&c, cache_dir, "web", why, sizeof why);
	CU_ASSERT(has(why, "unknown manifest version"));
	CU_ASSERT(!c.valid);
	cache_close(&c);
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FAILED));
	run_free(&r);

	free(cache_dir);
	free(first);
	free(ini);
	free(opt);
	free(count);
	tu_rm_rf(dir);
	free(dir);
	httpd_stop(&h);
}

/* ------------------------------------------------------------- last good data */

static void test_server_dies_stale(void)
{
	struct httpd h;
	char *script = one_page_script(PAGE_ABC, NULL);
	httpd_start(&h, script);
	char *dir = tu_tmpdir();
	char *ini = one_source_ini(h.plain, "retries = 1\nbackoff_ms = 20\n", NULL);
	struct run r;
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	char *first = records_digest(&r.results[0]);
	char *fetched = xstrdup(r.results[0].fetched_at);

	httpd_kill(&h);
	age_cache(dir, "web");
	char *before = folder_digest(dir);
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_STALE));
	char *want = xasprintf("GET http://127.0.0.1:%d/data: ", h.plain);
	CU_ASSERT(has(r.results[0].message, want));
	CU_ASSERT(has(r.results[0].message, "; using cache from " OLD_TIME));
	char *second = records_digest(&r.results[0]);
	CU_ASSERT_STRING_EQUAL(first, second);
	CU_ASSERT(r.results[0].fetched_at && strcmp(r.results[0].fetched_at, OLD_TIME) == 0);
	char *after = folder_digest(dir);
	CU_ASSERT_STRING_EQUAL(before, after);
	run_free(&r);

	/* Without a cache the same failure is `failed`. */
	tu_rm_rf(dir);
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FAILED));
	CU_ASSERT(has(r.results[0].message, want));
	CU_ASSERT_EQUAL(r.results[0].records.count, 0);
	run_free(&r);

	free(want);
	free(before);
	free(after);
	free(first);
	free(second);
	free(fetched);
	free(ini);
	free(script);
	tu_rm_rf(dir);
	free(dir);
	httpd_stop(&h);
}

static void test_garbage_never_destroys_cache(void)
{
	struct httpd h;
	char *script = one_page_script(PAGE_ABC, NULL);
	httpd_start(&h, script);
	char *dir = tu_tmpdir();
	char *ini = one_source_ini(h.plain, NULL, "ttl_hours = 0\n");
	struct run r;
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	char *first = records_digest(&r.results[0]);
	char *cache = xasprintf("%s/cache/web", dir);
	char *before = folder_digest(cache);

	/* A 200 that does not parse. */
	httpd_script(&h, "{\"/data\": {\"body\": \"<html>we are down</html>\\n\"}}");
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_STALE));
	CU_ASSERT(has(r.results[0].message, "normalizing page 1 ("));
	CU_ASSERT(has(r.results[0].message, "failed: parse error; using cache from "));
	char *second = records_digest(&r.results[0]);
	CU_ASSERT_STRING_EQUAL(first, second);
	char *after = folder_digest(cache);
	CU_ASSERT_STRING_EQUAL(before, after);
	free(after);
	free(second);

	/* An empty 200, and a plugin that crashes on the page: the same. */
	httpd_script(&h, "{\"/data\": {\"body\": \"offer: openai a\\ncrash\\n\"}}");
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_STALE));
	CU_ASSERT(has(r.results[0].message, "plugin crashed: killed by signal"));
	CU_ASSERT(has(r.results[0].message, "; using cache from "));
	second = records_digest(&r.results[0]);
	CU_ASSERT_STRING_EQUAL(first, second);
	after = folder_digest(cache);
	CU_ASSERT_STRING_EQUAL(before, after);
	free(after);
	free(second);

	/* A good payload again replaces the cache. */
	httpd_script(&h, "{\"/data\": {\"body\": \"offer: openai z\\noffer: openai y\\n\"}}");
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_EQUAL(r.results[0].records.count, 2);
	after = folder_digest(cache);
	CU_ASSERT_STRING_NOT_EQUAL(before, after);
	free(after);
	run_free(&r);

	free(first);
	free(before);
	free(cache);
	free(ini);
	free(script);
	tu_rm_rf(dir);
	free(dir);
	httpd_stop(&h);
}

static void test_shrink_guard(void)
{
	struct httpd h;
	httpd_start(&h, "{\"/data\": {\"body\": \"offer: p a\\noffer: p b\\noffer: p c\\n"
			"offer: p d\\noffer: p e\\noffer: p f\\n\"}}");
	char *dir = tu_tmpdir();
	char *ini = one_source_ini(h.plain, NULL, "ttl_hours = 0\n");
	struct run r;
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_EQUAL(r.results[0].records.count, 6);
	char *first = records_digest(&r.results[0]);

	/* 2 of 6 is below the default ratio 0.5: refused. */
	httpd_script(&h, "{\"/data\": {\"body\": \"offer: p a\\noffer: p b\\n\"}}");
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_STALE));
	CU_ASSERT(has(r.results[0].message, "shrink guard: the new payload has 2 records, "
					    "fewer than 0.5 of the last good 6: refused"));
	CU_ASSERT(has(r.results[0].message, "--accept-shrink web"));
	char *second = records_digest(&r.results[0]);
	CU_ASSERT_STRING_EQUAL(first, second);
	free(second);
	json_t *m = manifest(dir, "web");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(m, "records")), 6);
	json_decref(m);

	/* 3 of 6 is not below it. */
	httpd_script(&h, "{\"/data\": {\"body\": \"offer: p a\\noffer: p b\\noffer: p c\\n\"}}");
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_EQUAL(r.results[0].records.count, 3);

	/* --accept-shrink accepts it, once: the cache then holds the 1. */
	httpd_script(&h, "{\"/data\": {\"body\": \"offer: p a\\n\"}}");
	char *names[] = {"web"};
	const struct run_options accept = {.accept_shrink = names, .n_accept_shrink = 1};
	run_go(&r, &accept);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_EQUAL(r.results[0].records.count, 1);
	m = manifest(dir, "web");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(m, "records")), 1);
	json_decref(m);
	run_free(&r);

	/* shrink_ratio = 0 switches the guard off. */
	httpd_script(&h, "{\"/data\": {\"body\": \"offer: p a\\noffer: p b\\noffer: p c\\n\"}}");
	run_once(&r, dir, ini, NULL);
	httpd_script(&h, "{\"/data\": {\"body\": \"# nothing today\\n\"}}");
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_STALE));
	run_free(&r);
	free(ini);
	ini = one_source_ini(h.plain, NULL, "ttl_hours = 0\nshrink_ratio = 0\n");
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_EQUAL(r.results[0].records.count, 0);
	run_free(&r);

	free(first);
	free(ini);
	tu_rm_rf(dir);
	free(dir);
	httpd_stop(&h);
}

/* ------------------------------------------------------------- run options */

static void test_offline(void)
{
	struct httpd h;
	char *script = one_page_script(PAGE_ABC, NULL);
	httpd_start(&h, script);
	char *dir = tu_tmpdir();
	char *page = tu_write_file(dir, "local.txt", "offer: local x\n");
	char *ini = xasprintf(CORE "retries = 0\n[source web]\nplugin = cx_pager\n"
				   "url = http://127.0.0.1:%d/data\n\n"
				   "[source local]\nplugin = cx_pager\nurl = file:local.txt\n"
				   "ttl_hours = 0\n\n"
				   "[source never]\nplugin = cx_pager\n"
				   "url = http://127.0.0.1:%d/never\n",
			      h.plain, h.plain);
	const struct run_options offline = {.offline = true};
	struct run r;
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	int made = httpd_requests(&h, NULL, NULL, NULL, NULL);
	CU_ASSERT_EQUAL(made, 2);

	/* Within the TTL offline: cached. */
	run_go(&r, &offline);
	CU_ASSERT(status_is(&r.results[0], SOURCE_CACHED));
	/* file: sources are still read. */
	CU_ASSERT(status_is(&r.results[1], SOURCE_FRESH));
	CU_ASSERT_EQUAL(r.results[1].records.count, 1);

	/* Past the TTL offline: the cache is used, stale. */
	age_cache(dir, "web");
	run_go(&r, &offline);
	CU_ASSERT(status_is(&r.results[0], SOURCE_STALE));
	CU_ASSERT(has(r.results[0].message, "offline: not fetching; using cache from"));
	CU_ASSERT_EQUAL(r.results[0].records.count, 3);
	/* No cache offline: failed. Never a connection, whatever the source. */
	CU_ASSERT(status_is(&r.results[2], SOURCE_FAILED));
	CU_ASSERT(has(r.results[2].message, "offline: not fetching"));
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, NULL, NULL, NULL), made);
	run_free(&r);

	free(page);
	free(ini);
	free(script);
	tu_rm_rf(dir);
	free(dir);
	httpd_stop(&h);
}

static void test_force_refresh(void)
{
	struct httpd h;
	char *script = one_page_script(PAGE_ABC, NULL);
	httpd_start(&h, script);
	char *dir = tu_tmpdir();
	char *count = xasprintf("%s/normalize.log", dir);
	char *opt = xasprintf("count_file = %s\n", count);
	char *ini = one_source_ini(h.plain, NULL, opt);
	struct run r;
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	const struct run_options force = {.force_refresh = true};
	run_go(&r, &force);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, "/data", NULL, NULL), 2);
	/* Forced, but the payload is the same: still normalized only once. */
	CU_ASSERT_EQUAL(count_lines(count), 1);
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_CACHED));
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, "/data", NULL, NULL), 2);
	run_free(&r);
	free(ini);
	free(opt);
	free(count);
	free(script);
	tu_rm_rf(dir);
	free(dir);
	httpd_stop(&h);
}

static void test_only(void)
{
	struct httpd h;
	httpd_start(&h,
		    "{\"/a\": {\"body\": \"offer: p a\\n\"}, \"/b\": {\"body\": \"offer: p b\\n\"},"
		    " \"/c\": {\"body\": \"offer: p c\\n\"}}");
	char *dir = tu_tmpdir();
	char *ini = xasprintf(CORE "retries = 0\n"
				   "[source a]\nplugin = cx_pager\nurl = http://127.0.0.1:%d/a\n\n"
				   "[source b]\nplugin = cx_pager\nurl = http://127.0.0.1:%d/b\n",
			      h.plain, h.plain);
	struct run r;
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT(status_is(&r.results[1], SOURCE_FRESH));

	/* --only a: a refreshed although within its TTL, b from its cache. */
	char *names[] = {"a"};
	const struct run_options only = {.only = names, .n_only = 1};
	run_go(&r, &only);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT(status_is(&r.results[1], SOURCE_CACHED));
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, "/a", NULL, NULL), 2);
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, "/b", NULL, NULL), 1);

	/* b past its TTL is not refreshed either: stale. */
	age_cache(dir, "b");
	run_go(&r, &only);
	CU_ASSERT(status_is(&r.results[1], SOURCE_STALE));
	CU_ASSERT(has(r.results[1].message, "not refreshed: --only names other sources; "
					    "using cache from " OLD_TIME));
	CU_ASSERT_EQUAL(r.results[1].records.count, 1);
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, "/b", NULL, NULL), 1);
	run_free(&r);

	/* A source with no cache that --only leaves out: failed. */
	free(ini);
	ini = xasprintf(CORE "retries = 0\n"
			     "[source a]\nplugin = cx_pager\nurl = http://127.0.0.1:%d/a\n\n"
			     "[source c]\nplugin = cx_pager\nurl = http://127.0.0.1:%d/c\n",
			h.plain, h.plain);
	run_once(&r, dir, ini, &only);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT(status_is(&r.results[1], SOURCE_FAILED));
	CU_ASSERT(has(r.results[1].message, "no cache, and --only names other sources"));
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, "/c", NULL, NULL), 0);
	run_free(&r);

	free(ini);
	tu_rm_rf(dir);
	free(dir);
	httpd_stop(&h);
}

static void test_dry_run_leaves_cache(void)
{
	struct httpd h;
	char *script = one_page_script(PAGE_ABC, NULL);
	httpd_start(&h, script);
	char *dir = tu_tmpdir();
	char *ini = one_source_ini(h.plain, NULL, NULL);
	const struct run_options dry = {.dry_run = true};
	struct run r;

	/* No cache: fresh data, but nothing written under cache_dir. */
	run_once(&r, dir, ini, &dry);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_EQUAL(r.results[0].records.count, 3);
	char *folder = xasprintf("%s/cache/web", dir);
	CU_ASSERT_NOT_EQUAL(access(folder, F_OK), 0);

	/* With a cache past its TTL and a new payload: nothing changes. */
	run_go(&r, NULL);
	age_cache(dir, "web");
	char *before = folder_digest(folder);
	httpd_script(&h, "{\"/data\": {\"body\": \"offer: p new1\\noffer: p new2\\n\"}}");
	run_go(&r, &dry);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_EQUAL(r.results[0].records.count, 2);
	char *after = folder_digest(folder);
	CU_ASSERT_STRING_EQUAL(before, after);
	free(after);
	/* Not even the renewal of a 304 or of an unchanged payload. */
	httpd_script(&h, script);
	run_go(&r, &dry);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	after = folder_digest(folder);
	CU_ASSERT_STRING_EQUAL(before, after);
	free(after);
	run_free(&r);

	free(before);
	free(folder);
	free(ini);
	free(script);
	tu_rm_rf(dir);
	free(dir);
	httpd_stop(&h);
}

/* ------------------------------------------------------------- retries, limits */

static void test_retries_503_429_retry_after(void)
{
	struct httpd h;
	/* Retry-After in seconds and as an HTTP date, both far too long. */
	httpd_start(&h, "{\"/data\": [{\"status\": 503, \"headers\": {\"Retry-After\": \"120\"}},"
			" {\"status\": 429, \"headers\": {\"Retry-After\": "
			"\"Wed, 21 Oct 2099 07:28:00 GMT\"}},"
			" {\"body\": \"" PAGE_ABC "\"}]}");
	char *dir = tu_tmpdir();
	char *ini =
	    one_source_ini(h.plain, "retries = 3\nbackoff_ms = 10\nretry_after_max = 0.4\n", NULL);
	struct run r;
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_EQUAL(r.results[0].records.count, 3);
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, "/data", NULL, NULL), 3);
	/* Both waits were capped at retry_after_max, not the 10 ms backoff. */
	CU_ASSERT(r.seconds >= 0.8);
	CU_ASSERT(r.seconds < 5);
	run_free(&r);

	/* Retries run out: the last status is the message. */
	httpd_script(&h, "{\"/data\": {\"status\": 503}}");
	tu_rm_rf(dir);
	free(ini);
	ini = one_source_ini(h.plain, "retries = 2\nbackoff_ms = 100\nretry_after_max = 5\n", NULL);
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FAILED));
	char *want = xasprintf("GET http://127.0.0.1:%d/data: HTTP 503", h.plain);
	CU_ASSERT(has(r.results[0].message, want));
	free(want);
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, "/data", NULL, NULL), 6);
	/* Doubling backoff: 100 ms, then 200 ms. */
	CU_ASSERT(r.seconds >= 0.3);
	run_free(&r);

	/* A 404 is an answer, not a hiccup: no retry. */
	httpd_script(&h, "{\"/data\": {\"status\": 404}}");
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FAILED));
	CU_ASSERT(has(r.results[0].message, ": HTTP 404"));
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, "/data", NULL, NULL), 7);
	run_free(&r);

	free(ini);
	tu_rm_rf(dir);
	free(dir);
	httpd_stop(&h);
}

static void test_connection_errors_retried(void)
{
	struct httpd h;
	/* A reset, a body cut short, a Content-Length larger than the body,
	 * then the page. */
	httpd_start(&h, "{\"/data\": [{\"reset\": true},"
			" {\"body\": \"" PAGE_ABC "\", \"cut\": 10},"
			" {\"body\": \"" PAGE_ABC "\", \"content_length\": 500},"
			" {\"body\": \"" PAGE_ABC "\"}]}");
	char *dir = tu_tmpdir();
	char *ini = one_source_ini(h.plain, "retries = 3\nbackoff_ms = 10\n", NULL);
	struct run r;
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_EQUAL(r.results[0].records.count, 3);
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, "/data", NULL, NULL), 4);
	run_free(&r);

	/* Without retries, the first failure is the outcome. */
	httpd_script(&h, "{\"/data\": [{\"body\": \"" PAGE_ABC "\", \"cut\": 10},"
			 " {\"body\": \"" PAGE_ABC "\"}]}");
	free(ini);
	ini = one_source_ini(h.plain, "retries = 0\n", NULL);
	tu_rm_rf(dir);
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FAILED));
	CU_ASSERT(has(r.results[0].message, "GET http://"));
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, "/data", NULL, NULL), 5);
	run_free(&r);

	/* Nobody listening: connection refused, retried, then failed. */
	int port = h.plain;
	httpd_kill(&h);
	free(ini);
	ini = one_source_ini(port, "retries = 2\nbackoff_ms = 150\n", NULL);
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FAILED));
	CU_ASSERT(has(r.results[0].message, "Failed to connect to 127.0.0.1"));
	CU_ASSERT(r.seconds >= 0.45); /* 150 + 300 ms of backoff */
	run_free(&r);

	free(ini);
	tu_rm_rf(dir);
	free(dir);
	httpd_stop(&h);
}

static void test_timeouts(void)
{
	struct httpd h;
	httpd_start(&h, "{\"/late\": {\"delay\": 3, \"body\": \"offer: p a\\n\"},"
			" \"/drip\": {\"drip\": 0.2, \"body\": \"" PAGE_ABC "\"}}");
	char *dir = tu_tmpdir();
	char *ini =
	    xasprintf(CORE "retries = 0\ntransfer_timeout_ms = 400\n"
			   "[source late]\nplugin = cx_pager\nurl = http://127.0.0.1:%d/late\n"
			   "[source drip]\nplugin = cx_pager\nurl = http://127.0.0.1:%d/drip\n",
		      h.plain, h.plain);
	struct run r;
	run_once(&r, dir, ini, NULL);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT(status_is(&r.results[i], SOURCE_FAILED));
		CU_ASSERT(has(r.results[i].message, "imed out"));
	}
	CU_ASSERT(r.seconds < 2.5);
	run_free(&r);
	free(ini);
	tu_rm_rf(dir);
	free(dir);
	httpd_stop(&h);
}

static void test_body_limit_http(void)
{
	struct httpd h;
	httpd_start(&h, "{\"/big\": {\"body_repeat\": [\"# filler line\\n\", 500]},"
			" \"/liar\": {\"body_repeat\": [\"# filler line\\n\", 500], "
			"\"content_length\": 100}}");
	char *dir = tu_tmpdir();
	char *ini =
	    xasprintf(CORE "retries = 2\nbackoff_ms = 10\nmax_body_bytes = 1000\n"
			   "[source big]\nplugin = cx_pager\nurl = http://127.0.0.1:%d/big\n",
		      h.plain);
	struct run r;
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FAILED));
	char *want = xasprintf("GET http://127.0.0.1:%d/big: body larger than 1000 bytes", h.plain);
	CU_ASSERT(has(r.results[0].message, want));
	free(want);
	/* Too big is not a hiccup: not retried. */
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, "/big", NULL, NULL), 1);
	run_free(&r);
	free(ini);

	/* A short Content-Length cannot sneak a big body past the limit: only
	 * the announced bytes are read. */
	ini = xasprintf(CORE "retries = 0\nmax_body_bytes = 1000\n"
			     "[source liar]\nplugin = cx_pager\nurl = http://127.0.0.1:%d/liar\n",
			h.plain);
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_EQUAL(r.results[0].records.count, 0);
	json_t *m = manifest(dir, "liar");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(m, "size")), 100);
	json_decref(m);
	run_free(&r);
	free(ini);
	tu_rm_rf(dir);
	free(dir);
	httpd_stop(&h);
}

static void test_redirects(void)
{
	struct httpd h;
	httpd_start(&h, "{\"/loop\": {\"status\": 302, \"headers\": {\"Location\": \"/loop\"}},"
			" \"/hop\": {\"status\": 301, \"headers\": {\"Location\": \"/data\"}},"
			" \"/data\": {\"body\": \"" PAGE_ABC "\"},"
			" \"tls /down\": {\"status\": 302, \"headers\": {\"Location\": "
			"\"http://127.0.0.1:{plain}/data\"}}}");
	char *dir = tu_tmpdir();
	char *ca = xstrdup(httpd_ca_file());
	char *ini =
	    xasprintf(CORE "retries = 0\nca_file = %s\n"
			   "[source loop]\nplugin = cx_pager\nurl = http://127.0.0.1:%d/loop\n"
			   "[source hop]\nplugin = cx_pager\nurl = http://127.0.0.1:%d/hop\n"
			   "[source down]\nplugin = cx_pager\n"
			   "url = https://127.0.0.1:%d/down\n",
		      ca, h.plain, h.plain, h.tls);
	struct run r;
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FAILED));
	CU_ASSERT(has(r.results[0].message, "more than 5 redirects"));
	CU_ASSERT_EQUAL(httpd_requests(&h, "plain", "/loop", NULL, NULL), 6);
	CU_ASSERT(status_is(&r.results[1], SOURCE_FRESH));
	CU_ASSERT_EQUAL(r.results[1].records.count, 3);
	/* https to http is refused, over real TLS, and the http URL never asked. */
	CU_ASSERT(status_is(&r.results[2], SOURCE_FAILED));
	char *want =
	    xasprintf("redirect to http://127.0.0.1:%d/data refused: https to http", h.plain);
	CU_ASSERT(has(r.results[2].message, want));
	free(want);
	CU_ASSERT_EQUAL(httpd_requests(&h, "tls", "/down", NULL, NULL), 1);
	CU_ASSERT_EQUAL(httpd_requests(&h, "plain", "/data", NULL, NULL), 1); /* hop's only */
	run_free(&r);
	free(ini);
	free(ca);
	tu_rm_rf(dir);
	free(dir);
	httpd_stop(&h);
}

static void test_tls_ca_file(void)
{
	struct httpd h;
	httpd_start(&h, "{\"/data\": {\"body\": \"" PAGE_ABC "\"}}");
	char *dir = tu_tmpdir();
	char *ca = xstrdup(httpd_ca_file());
	char *ini = xasprintf(CORE "retries = 0\nca_file = %s\n"
				   "[source secure]\nplugin = cx_pager\n"
				   "url = https://127.0.0.1:%d/data\n",
			      ca, h.tls);
	struct run r;
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_EQUAL(r.results[0].records.count, 3);
	CU_ASSERT_EQUAL(httpd_requests(&h, "tls", "/data", NULL, NULL), 1);
	run_free(&r);
	free(ini);

	/* Without the test CA the certificate is refused: no request at all. */
	ini = xasprintf(CORE "retries = 0\n[source secure]\nplugin = cx_pager\n"
			     "url = https://127.0.0.1:%d/data\n",
			h.tls);
	tu_rm_rf(dir);
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FAILED));
	CU_ASSERT(has(r.results[0].message, "certificate"));
	CU_ASSERT_EQUAL(httpd_requests(&h, "tls", "/data", NULL, NULL), 1);
	run_free(&r);
	free(ini);
	free(ca);
	tu_rm_rf(dir);
	free(dir);
	httpd_stop(&h);
}

/* Every byte under folder, as one string. */
static void slurp_tree(const char *folder, struct strbuf *sb)
{
	DIR *d = opendir(folder);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *path = xasprintf("%s/%s", folder, e->d_name);
		struct stat st;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			slurp_tree(path, sb);
		} else {
			char *content = tu_read_file(path);
			strbuf_puts(sb, content ? content : "");
			free(content);
		}
		free(path);
	}
	closedir(d);
}

static void test_auth_origin(void)
{
	struct httpd h;
	/* Page 1 on the configured origin points (Link) at page 2 on another
	 * port; /redir sends the first request to the other port. */
	httpd_start(&h, "{\"plain /data\": {\"body\": \"offer: p a\\n\", \"headers\": {\"Link\": "
			"\"<http://127.0.0.1:{other}/p2>; rel=\\\"next\\\"\"}},"
			" \"other /p2\": {\"body\": \"offer: p b\\n\"},"
			" \"plain /redir\": {\"status\": 307, \"headers\": {\"Location\": "
			"\"http://127.0.0.1:{other}/p2\"}},"
			" \"tls /secure\": {\"body\": \"offer: p s\\nnext: /secure2\\n\"},"
			" \"tls /secure2\": {\"body\": \"offer: p t\\n\"}}");
	char *dir = tu_tmpdir();
	char *ca = xstrdup(httpd_ca_file());
	char *ini =
	    xasprintf(CORE "retries = 0\nca_file = %s\n"
			   "[source paged]\nplugin = cx_pager\nauth = Bearer s3cret-token\n"
			   "url = http://127.0.0.1:%d/data\n"
			   "[source moved]\nplugin = cx_pager\nauth = Bearer s3cret-token\n"
			   "url = http://127.0.0.1:%d/redir\n"
			   "[source secure]\nplugin = cx_pager\nauth = Bearer s3cret-token\n"
			   "url = https://127.0.0.1:%d/secure\n",
		      ca, h.plain, h.plain, h.tls);
	struct run r;
	run_once(&r, dir, ini, NULL);
	for (int i = 0; i < 3; i++)
		CU_ASSERT(status_is(&r.results[i], SOURCE_FRESH));
	CU_ASSERT_EQUAL(r.results[0].records.count, 2);
	CU_ASSERT_EQUAL(r.results[1].records.count, 1);
	CU_ASSERT_EQUAL(r.results[2].records.count, 2);
	/* To the configured origin: the header. */
	CU_ASSERT_EQUAL(httpd_requests(&h, "plain", "/data", "authorization", "Bearer s3cret-token"), 1);
	CU_ASSERT_EQUAL(httpd_requests(&h, "plain", "/redir", "authorization", NULL), 1);
	CU_ASSERT_EQUAL(httpd_requests(&h, "tls", "/secure2", "authorization", NULL), 1);
	/* To the other port, by next page or by redirect: never. */
	CU_ASSERT_EQUAL(httpd_requests(&h, "other", "/p2", NULL, NULL), 2);
	CU_ASSERT_EQUAL(httpd_requests(&h, "other", "/p2", "authorization", NULL), 0);
	/* Our user agent, on every request. */
	char *ua = xasprintf("modelfuse/%s", PACKAGE_VERSION);
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, NULL, "user-agent", ua), 6);
	free(ua);
	/* And the secret is nowhere in the cache. */
	char *cache = xasprintf("%s/cache", dir);
	struct strbuf all;
	strbuf_init(&all);
	slurp_tree(cache, &all);
	CU_ASSERT(all.len > 0);
	CU_ASSERT_PTR_NULL(strstr(all.data ? all.data : "", "s3cret"));
	strbuf_free(&all);
	free(cache);
	run_free(&r);
	free(ini);
	free(ca);
	tu_rm_rf(dir);
	free(dir);
	httpd_stop(&h);
}

/* ------------------------------------------------------------- disabled */

static void test_disabled_reason(void)
{
	char *dir = tu_tmpdir();
	free(tu_write_file(dir, "p.txt", PAGE_ABC));
	struct run r;
	run_once(&r, dir,
		 CORE "[source off]\nplugin = cx_pager\nurl = file:p.txt\n"
		      "disable = OFF_KEY is not set\n",
		 NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_DISABLED));
	CU_ASSERT(r.results[0].message && strcmp(r.results[0].message, "OFF_KEY is not set") == 0);
	CU_ASSERT_EQUAL(r.results[0].records.count, 0);
	run_free(&r);
	tu_rm_rf(dir);
	free(dir);
}

/* ------------------------------------------------------------- refresh_command */

static void test_refresh_command(void)
{
	char *dir = tu_tmpdir();
	free(tu_write_file(dir, "upstream.txt", PAGE_ABC));
	char *ini = xasprintf(
	    CORE
	    "[source arena]\nplugin = cx_pager\n"
	    "refresh_command = sh -c \"echo ran >> ran.log && cp upstream.txt {dir}/data.txt\"\n"
	    "path = {dir}/data.txt\n");
	struct run r;

	/* 1. No cache: the command runs, its file is the data. */
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FRESH));
	CU_ASSERT_EQUAL(r.results[0].records.count, 3);
	char *ran = xasprintf("%s/ran.log", dir);
	CU_ASSERT_EQUAL(count_lines(ran), 1);
	char *copy = xasprintf("%s/cache/arena/refresh/data.txt", dir);
	CU_ASSERT_EQUAL(access(copy, F_OK), 0);
	char *url = manifest_string(dir, "arena", "url");
	CU_ASSERT(url && str_starts_with(url, "file:///") &&
		  strstr(url, "/cache/arena/refresh/data.txt"));
	free(url);

	/* 2. Within the TTL: the command does not run. */
	run_go(&r, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_CACHED));
	CU_ASSERT_EQUAL(count_lines(ran), 1);
	run_free(&r);

	/* 3. Past it, the command fails, the old file is there: used, stale. */
	age_cache(dir, "arena");
	free(ini);
	ini = xasprintf(CORE "[source arena]\nplugin = cx_pager\n"
			     "refresh_command = sh -c \"echo ran >> ran.log; "
			     "echo upstream unreachable >&2; exit 3\"\n"
			     "path = {dir}/data.txt\n\n"
			     "[source other]\nplugin = cx_pager\nurl = file:upstream.txt\n");
	run_once(&r, dir, ini, NULL);
	CU_ASSERT_EQUAL(count_lines(ran), 2);
	CU_ASSERT(status_is(&r.results[0], SOURCE_STALE));
	CU_ASSERT(has(r.results[0].message,
		      "refresh command sh failed with status 3: upstream unreachable"));
	CU_ASSERT_EQUAL(r.results[0].records.count, 3);
	/* The cache is not renewed by a failed refresh: next run tries again. */
	char *at = manifest_string(dir, "arena", "fetched_at");
	CU_ASSERT(at && strcmp(at, OLD_TIME) == 0);
	free(at);
	CU_ASSERT(status_is(&r.results[1], SOURCE_FRESH));

	/* --offline: the command is not run at all. */
	const struct run_options offline = {.offline = true};
	run_go(&r, &offline);
	CU_ASSERT_EQUAL(count_lines(ran), 2);
	CU_ASSERT(status_is(&r.results[0], SOURCE_STALE));
	CU_ASSERT(has(r.results[0].message, "offline: refresh command not run"));
	run_free(&r);

	/* 4. The command fails and there is nothing: failed; the run goes on. */
	free(ini);
	ini = xasprintf(CORE "[source fresh-start]\nplugin = cx_pager\n"
			     "refresh_command = false\npath = {dir}/data.txt\n\n"
			     "[source other]\nplugin = cx_pager\nurl = file:upstream.txt\n");
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FAILED));
	CU_ASSERT(has(r.results[0].message, "refresh command false failed with status 1"));
	CU_ASSERT(has(r.results[0].message, "data.txt: No such file or directory"));
	CU_ASSERT(status_is(&r.results[1], SOURCE_CACHED));
	CU_ASSERT_EQUAL(r.results[1].records.count, 3);
	run_free(&r);

	/* A command that hangs is killed at refresh_time_limit; one that
	 * cannot be found says so. */
	free(ini);
	ini = xasprintf(CORE "[source slow]\nplugin = cx_pager\n"
			     "refresh_command = sleep 20\nrefresh_time_limit = 0.5\n"
			     "path = {dir}/data.txt\n\n"
			     "[source nothere]\nplugin = cx_pager\n"
			     "refresh_command = no-such-command-mf {dir}\n"
			     "path = {dir}/data.txt\n");
	run_once(&r, dir, ini, NULL);
	CU_ASSERT(status_is(&r.results[0], SOURCE_FAILED));
	CU_ASSERT(has(r.results[0].message, "refresh command sleep killed after 0.5 s time limit"));
	CU_ASSERT(r.seconds < 5);
	CU_ASSERT(status_is(&r.results[1], SOURCE_FAILED));
	CU_ASSERT(has(r.results[1].message, "cannot run no-such-command-mf"));
	run_free(&r);

	free(copy);
	free(ran);
	free(ini);
	tu_rm_rf(dir);
	free(dir);
}

/* ------------------------------------------------------------- the write protocol */

/* A payload of n records "TAG-0".."TAG-(n-1)", one page of `filler` bytes
 * then the records, built and written into the cache's build folder. */
static void make_build(struct cache *c, struct cache_build *b, const char *tag, int n,
		       size_t filler)
{
	char err[512];
	CU_ASSERT_FATAL(cache_build_begin(b, c, false, err, sizeof err) == 0);
	struct strbuf body;
	strbuf_init(&body);
	for (size_t k = 0; k < filler; k += 64)
		strbuf_puts(&body,
			    "# filler filler filler filler filler filler filler filler fil\n");
	strbuf_printf(&body, "tag %s\n", tag);
	size_t len = body.len;
	struct fetched_page page;
	fetched_page_make(&page, 0, xstrdup("http://127.0.0.1:9/x"), 200, strbuf_detach(&body), len,
			  NULL, 0);
	CU_ASSERT_FATAL(cache_build_add_page(b, &page, err, sizeof err) == 0);
	fetched_page_free(&page);
	cache_build_seal(b);
	int fd = cache_build_open_stream(b, err, sizeof err);
	CU_ASSERT_FATAL(fd >= 0);
	struct stream_writer w;
	stream_writer_init(&w, fd);
	for (int i = 0; i < n; i++) {
		char id[64];
		snprintf(id, sizeof id, "%s-%d", tag, i);
		struct mf_record *rec = record_new(MF_RECORD_OFFERING, id);
		stream_write_record(&w, rec);
		record_free(rec);
	}
	stream_write_end(&w, SOURCE_FRESH, "", "");
	stream_writer_free(&w);
	close(fd);
}

static struct cache_meta meta_for(int n)
{
	return (struct cache_meta){
		.url = "http://127.0.0.1:9/x",
		.fetched_at = "2026-01-01T00:00:00Z",
		.records = (uint64_t)n,
		.plugin = "cx_pager",
		.plugin_version = "1.0.0",
		.options_hash = "0",
	};
}

/* The cache as a reader finds it: "" when empty, else its records' ids. */
static char *cache_state(const char *cache_dir)
{
	struct cache c;
	char why[512];
	cache_open(&c, cache_dir, "x", why, sizeof why);
	if (*why)
		fprintf(stderr, "\ncache: %s\n", why);
	struct strbuf sb;
	strbuf_init(&sb);
	struct record_array recs = {0};
	if (c.valid && cache_load_records(&c, &recs, why, sizeof why) == 0) {
		for (size_t i = 0; i < recs.count; i++)
			strbuf_printf(&sb, "%s ", recs.items[i]->native_id);
	} else if (c.valid) {
		strbuf_puts(&sb, "UNREADABLE");
	}
	record_array_free(&recs);
	cache_close(&c);
	return strbuf_detach(&sb);
}

static int files_in(const char *folder)
{
	struct dirent **names = NULL;
	int n = scandir(folder, &names, NULL, NULL);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return n - 2;
}

static void test_write_protocol_steps(void)
{
	char *dir = tu_tmpdir();
	char *folder = xasprintf("%s/x", dir);
	char err[512];
	struct cache c;
	cache_open(&c, dir, "x", err, sizeof err);
	struct cache_build b;
	make_build(&c, &b, "old", 3, 100);
	struct cache_meta meta = meta_for(3);
	CU_ASSERT_FATAL(cache_build_commit(&c, &b, &meta, err, sizeof err) == 0);
	cache_build_free(&b);
	cache_close(&c);
	char *old = cache_state(dir);
	CU_ASSERT_STRING_EQUAL(old, "old-0 old-1 old-2 ");
	/* manifest, one page, one records file */
	CU_ASSERT_EQUAL(files_in(folder), 3);

	/* Killed after the new files are in, before the manifest: the old
	 * version, whole. */
	cache_open(&c, dir, "x", err, sizeof err);
	make_build(&c, &b, "new", 2, 100);
	CU_ASSERT(cache_commit_files(&c, &b, err, sizeof err) == 0);
	free(b.dir); /* what a killed process leaves: its tmp folder stays */
	b.dir = NULL;
	cache_build_free(&b);
	cache_close(&c);
	char *state = cache_state(dir);
	CU_ASSERT_STRING_EQUAL(state, old);
	free(state);
	CU_ASSERT(files_in(folder) > 3);

	/* Killed after the manifest, before the clean-up: the new version. */
	cache_open(&c, dir, "x", err, sizeof err);
	make_build(&c, &b, "new", 2, 100);
	meta = meta_for(2);
	CU_ASSERT(cache_commit_files(&c, &b, err, sizeof err) == 0);
	CU_ASSERT(cache_commit_manifest(&c, &b, &meta, err, sizeof err) == 0);
	cache_build_free(&b);
	cache_close(&c);
	state = cache_state(dir);
	CU_ASSERT_STRING_EQUAL(state, "new-0 new-1 ");
	free(state);

	/* The next commit removes every leftover, tmp folders included. */
	cache_open(&c, dir, "x", err, sizeof err);
	make_build(&c, &b, "third", 1, 100);
	meta = meta_for(1);
	CU_ASSERT(cache_build_commit(&c, &b, &meta, err, sizeof err) == 0);
	cache_build_free(&b);
	cache_close(&c);
	CU_ASSERT_EQUAL(files_in(folder), 3);

	/* A damaged cache is not used: a missing page, a truncated stream. */
	cache_open(&c, dir, "x", err, sizeof err);
	CU_ASSERT_FATAL(c.valid && c.m.n_pages == 1);
	char *page = cache_file_path(&c, c.m.pages[0].file);
	char *records = cache_file_path(&c, c.m.records_file);
	cache_close(&c);
	char *saved = tu_read_file(records);
	CU_ASSERT_FATAL(truncate(records, 20) == 0);
	state = cache_state(dir);
	CU_ASSERT_STRING_EQUAL(state, "UNREADABLE");
	free(state);
	free(tu_write_file(folder, strrchr(records, '/') + 1, saved));
	unlink(page);
	cache_open(&c, dir, "x", err, sizeof err);
	CU_ASSERT(!c.valid);
	CU_ASSERT(has(err, "a page file is missing"));
	cache_close(&c);
	/* A manifest naming a file outside the folder is refused. */
	char *mpath = xasprintf("%s/manifest.json", folder);
	json_t *j = json_load_file(mpath, 0, NULL);
	json_object_set_new(j, "records_file", json_string("../../etc/passwd"));
	json_dump_file(j, mpath, 0);
	json_decref(j);
	cache_open(&c, dir, "x", err, sizeof err);
	CU_ASSERT(!c.valid);
	cache_close(&c);

	free(mpath);
	free(saved);
	free(page);
	free(records);
	free(old);
	free(folder);
	tu_rm_rf(dir);
	free(dir);
}

/* The real thing: a process committing payload after payload is killed at
 * random moments; every time, a reader finds one whole version. */
static void test_write_protocol_sigkill(void)
{
	char *dir = tu_tmpdir();
	char *folder = xasprintf("%s/x", dir);
	char err[512];
	struct cache c;
	struct cache_build b;
	cache_open(&c, dir, "x", err, sizeof err);
	make_build(&c, &b, "a", 3, 100);
	struct cache_meta meta = meta_for(3);
	CU_ASSERT_FATAL(cache_build_commit(&c, &b, &meta, err, sizeof err) == 0);
	cache_build_free(&b);
	cache_close(&c);

	/* Kill within about three commits' time, whatever this machine's (or
	 * valgrind's) speed: the kills then land all over the protocol. */
	double t0 = now_seconds();
	cache_open(&c, dir, "x", err, sizeof err);
	make_build(&c, &b, "a", 3, 200 * 1024);
	CU_ASSERT_FATAL(cache_build_commit(&c, &b, &meta, err, sizeof err) == 0);
	cache_build_free(&b);
	cache_close(&c);
	double commit = now_seconds() - t0;
	srand(12345);
	int seen_a = 0, seen_b = 0;
	for (int round = 0; round < 30; round++) {
		fflush(NULL);
		pid_t pid = fork();
		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0) {
			for (int i = 0;; i++) {
				struct cache cc;
				struct cache_build bb;
				char e[512];
				bool even = (i + round) % 2 == 0;
				cache_open(&cc, dir, "x", e, sizeof e);
				make_build(&cc, &bb, even ? "b" : "a", even ? 5 : 3,
					   (size_t)(200 + i % 7) * 1024);
				struct cache_meta mm = meta_for(even ? 5 : 3);
				cache_build_commit(&cc, &bb, &mm, e, sizeof e);
				cache_build_free(&bb);
				cache_close(&cc);
			}
		}
		double wait = commit * 3 * (rand() % 1000) / 1000.0 + 0.001;
		struct timespec nap = {.tv_sec = (time_t)wait,
				       .tv_nsec = (long)((wait - (double)(time_t)wait) * 1e9)};
		nanosleep(&nap, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		char *state = cache_state(dir);
		bool is_a = strcmp(state, "a-0 a-1 a-2 ") == 0;
		bool is_b = strcmp(state, "b-0 b-1 b-2 b-3 b-4 ") == 0;
		if (!is_a && !is_b)
			fprintf(stderr, "\nround %d: cache reads \"%s\"\n", round, state);
		CU_ASSERT(is_a || is_b);
		seen_a += is_a;
		seen_b += is_b;
		free(state);
	}
	/* The kills did land at various points of the loop. */
	CU_ASSERT(seen_a > 0 && seen_b > 0);
	/* And one more commit leaves no trace of them. */
	cache_open(&c, dir, "x", err, sizeof err);
	make_build(&c, &b, "a", 3, 100);
	meta = meta_for(3);
	CU_ASSERT(cache_build_commit(&c, &b, &meta, err, sizeof err) == 0);
	cache_build_free(&b);
	cache_close(&c);
	CU_ASSERT_EQUAL(files_in(folder), 3);
	free(folder);
	tu_rm_rf(dir);
	free(dir);
}

/* ------------------------------------------------------------- the program */

struct sandbox {
	char *dir;
	char *config;
};

static void sandbox_link(const char *dir, const char *env, const char *name)
{
	char *src = xasprintf("%s/%s.so", tu_env(env), name);
	char *dst = xasprintf("%s/plugins/%s.so", dir, name);
	CU_ASSERT_EQUAL_FATAL(symlink(src, dst), 0);
	free(src);
	free(dst);
}

static int program_run(const char *config, const char *opt, char **err)
{
	char *argv[] = {
	    (char *)tu_env("MF_TEST_PROGRAM"), "-c", (char *)config, "run", (char *)opt, NULL};
	/* The shipped data tables, from the source tree rather than installed. */
	char *data = tu_srcpath("data");
	char *env = xasprintf("MODELFUSE_DATADIR=%s", data);
	const char *const extra[] = {env, NULL};
	int rc = tu_run(argv, extra, NULL, err);
	free(env);
	free(data);
	return rc;
}

static json_t *catalog_source(json_t *cat, const char *name)
{
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(cat, "sources"), i, s)
	{
		if (strcmp(jstr(s, "name"), name) == 0)
			return s;
	}
	return NULL;
}

/* The acceptance test of the issue, through the real program: the upstream
 * dies between two runs: exit 1, stale, the same models. */
static void test_program_server_dies(void)
{
	struct httpd h;
	char *dir = tu_tmpdir();
	char *plugins = xasprintf("%s/plugins", dir);
	mkdir(plugins, 0755);
	sandbox_link(dir, "MF_TEST_PLUGIN_DIR", "modelsdev");
	sandbox_link(dir, "MF_TEST_FIXTURE_PLUGIN_DIR", "cx_pager");
	httpd_start(&h, "{\"/api.json\": {\"body_file\": \"api.json\"},"
			" \"/pages\": {\"body\": \"" PAGE_ABC "\"}}");
	char *fixture = tu_srcpath("tests/fixtures/e2e/modelsdev-a.json");
	char *api = tu_read_file(fixture);
	CU_ASSERT_PTR_NOT_NULL_FATAL(api);
	free(tu_write_file(h.dir, "api.json", api));
	char *count = xasprintf("%s/normalize.log", dir);
	char *ini = xasprintf("[core]\nplugin_dir = plugins\ncache_dir = cache\noutput_dir = out\n"
			      "retries = 1\nbackoff_ms = 20\n\n"
			      "[source modelsdev]\nurl = http://127.0.0.1:%d/api.json\n"
			      "ttl_hours = 0\n\n"
			      "[source pages]\nplugin = cx_pager\nurl = http://127.0.0.1:%d/pages\n"
			      "ttl_hours = 0\ncount_file = %s\n",
			      h.plain, h.plain, count);
	char *config = tu_write_file(dir, "modelfuse.ini", ini);
	char *catalog = xasprintf("%s/out/catalog.json", dir);

	char *err = NULL;
	CU_ASSERT_EQUAL(program_run(config, NULL, &err), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	free(err);
	json_t *first = json_load_file(catalog, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(first);
	CU_ASSERT_STRING_EQUAL(jstr(catalog_source(first, "modelsdev"), "status"), "fresh");
	CU_ASSERT(json_array_size(json_object_get(first, "models")) > 0);
	CU_ASSERT_EQUAL(count_lines(count), 1);

	/* The payload unchanged: fresh again, without normalize. */
	CU_ASSERT_EQUAL(program_run(config, NULL, NULL), 0);
	CU_ASSERT_EQUAL(count_lines(count), 1);
	CU_ASSERT_EQUAL(httpd_requests(&h, NULL, "/pages", NULL, NULL), 2);

	/* The upstream dies. */
	httpd_kill(&h);
	CU_ASSERT_EQUAL(program_run(config, NULL, &err), 1);
	CU_ASSERT(has(err, "modelsdev stale"));
	free(err);
	json_t *second = json_load_file(catalog, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(second);
	json_t *src = catalog_source(second, "modelsdev");
	CU_ASSERT_STRING_EQUAL(jstr(src, "status"), "stale");
	CU_ASSERT(has(json_string_value(json_object_get(src, "message")), "using cache from"));
	CU_ASSERT(json_equal(json_object_get(first, "models"), json_object_get(second, "models")));
	CU_ASSERT_EQUAL(count_lines(count), 1);

	/* Offline, past ttl_hours = 0: stale as well. */
	CU_ASSERT_EQUAL(program_run(config, "--offline", NULL), 1);

	json_decref(first);
	json_decref(second);
	free(catalog);
	free(config);
	free(ini);
	free(count);
	free(api);
	free(fixture);
	free(plugins);
	tu_rm_rf(dir);
	free(dir);
	httpd_stop(&h);
}

int main(void)
{
	static const struct tu_test tests[] = {
	    {"sha256 known answers", test_sha256},
	    {"within ttl_hours: cached, no request", test_ttl_cached_makes_no_request},
	    {"304 renews fetched_at, same records", test_304_renews},
	    {"unchanged payload: normalize not called", test_normalize_once},
	    {"server dies: stale with the same records", test_server_dies_stale},
	    {"garbage 200 or a crash never destroys the cache", test_garbage_never_destroys_cache},
	    {"shrink guard and --accept-shrink", test_shrink_guard},
	    {"--offline", test_offline},
	    {"--force-refresh", test_force_refresh},
	    {"file: past the TTL: validated by its stat, not read", test_file_validated_by_stat},
	    {"file: pages validated one by one", test_file_pages_each_validated},
	    {"payload sha256 made from the page hashes", test_payload_hash_from_pages},
	    {"an older cache format: read, normalized once, stale fallback", test_old_cache_format},
	    {"--only", test_only},
	    {"--dry-run leaves the cache alone", test_dry_run_leaves_cache},
	    {"retries on 503 and 429, Retry-After capped", test_retries_503_429_retry_after},
	    {"connection errors retried", test_connection_errors_retried},
	    {"transfer timeouts: late answer, slow drip", test_timeouts},
	    {"body limit over http", test_body_limit_http},
	    {"redirect limit, https to http refused", test_redirects},
	    {"TLS with ca_file, refused without", test_tls_ca_file},
	    {"auth header only to the configured origin", test_auth_origin},
	    {"disabled by the plugin, with its reason", test_disabled_reason},
	    {"refresh_command: run, skipped, failed", test_refresh_command},
	    {"write protocol, step by step", test_write_protocol_steps},
	    {"write protocol under SIGKILL", test_write_protocol_sigkill},
	    {"program: upstream dies, exit 1, same models", test_program_server_dies},
	    {NULL, NULL},
	};
	return tu_main("cache", tests);
}
