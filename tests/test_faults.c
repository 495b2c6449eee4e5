/* The fault matrix (issue 9), through the real program over the loopback
 * server (tests/httpd/mfhttpd.py):
 *  - every transport fault (status classes, Retry-After, 304, delays, slow
 *    drip, cut bodies, wrong Content-Length, oversize and gzip bombs,
 *    redirect loops, resets, broken HTTP, refused connections) against the
 *    openrouter plugin;
 *  - every shape fault (invalid JSON, wrong top-level type, missing and
 *    mistyped fields, empty lists, huge strings, deep nesting, invalid
 *    UTF-8) against every plugin;
 * each without and with a previous good cache. Recoverable faults end
 * `fresh` and exit 0; fatal ones end `stale` (cache) or `failed` and exit 1,
 * the cache untouched; the other source never changes; with no records at
 * all the run exits 3 and every previous output stays byte-identical.
 * Also the config and command-line faults an admin makes: file:line and
 * exit 2.
 *
 * Built twice (tests/faults.am): test_faults runs the transport matrix and
 * the admin faults, test_faults_shape (MF_FAULTS_SHAPE) the shape matrix,
 * so that the two halves run side by side. */
#include "mf_build_config.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "faultutil.h"
#include "testutil.h"
#include "util.h"

/* The canary the anyllm instance of the shape matrix sends as its key. */
#define KEY_ENV "MF_FAULT_KEY=sk-fault-matrix-key"

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------- a sandbox */

/* One folder with two configs over the same output_dir: `full` (the source
 * under test, `net`, and a well-behaved `other` read from a file) and
 * `alone` (only `net`, with a cache of its own that stays empty). */
struct sandbox {
	char *dir;
	char *full;  /* path of the full config */
	char *alone; /* path of the config with only net */
	char *cache; /* cache_dir of the full config */
	char *out;
};

/* The [core] of both configs: small limits so that faults cost little. */
#ifdef MF_FAULTS_SHAPE
#define MAX_BODY 67108864 /* huge strings make payloads of megabytes */
#else
#define MAX_BODY 400000
#endif
static char *core_section(const char *cache)
{
	return xasprintf("[core]\nplugin_dir = %s\ncache_dir = %s\noutput_dir = out\njobs = 2\n"
			 "source_time_limit = 30\nconnect_timeout_ms = 1000\n"
			 "transfer_timeout_ms = 1000\nretries = 1\nbackoff_ms = 50\n"
			 "retry_after_max = 1\nmax_body_bytes = %d\n",
			 tu_env("MF_TEST_PLUGIN_DIR"), cache, MAX_BODY);
}

/* net_section: "[source net]\n..." without ttl (added here). */
static void sandbox_make(struct sandbox *s, const char *net_section)
{
	s->dir = fu_sandbox();
	s->cache = xasprintf("%s/cache", s->dir);
	s->out = xasprintf("%s/out", s->dir);
	char *other = tu_srcpath("tests/fixtures/e2e/modelsdev-a.json");
	char *core = core_section("cache");
	char *ini = xasprintf("%s%sttl_hours = 0\n[source other]\nplugin = modelsdev\n"
			      "url = file:%s\nttl_hours = 0\n",
			      core, net_section, other);
	s->full = tu_write_file(s->dir, "full.ini", ini);
	free(ini);
	free(core);
	core = core_section("cache-alone");
	ini = xasprintf("%s%sttl_hours = 0\n", core, net_section);
	s->alone = tu_write_file(s->dir, "alone.ini", ini);
	free(ini);
	free(core);
	free(other);
}

static void sandbox_free(struct sandbox *s)
{
	tu_rm_rf(s->dir);
	free(s->dir);
	free(s->full);
	free(s->alone);
	free(s->cache);
	free(s->out);
	memset(s, 0, sizeof *s);
}

static void reset_dir(const char *path)
{
	tu_rm_rf(path);
	mkdir(path, 0755);
}

/* A source's entry in out/catalog.json (NULL when missing). */
static json_t *catalog_source(const struct sandbox *s, const char *name)
{
	char *path = xasprintf("%s/catalog.json", s->out);
	json_t *cat = json_load_file(path, 0, NULL);
	free(path);
	json_t *found = NULL, *src;
	size_t i;
	json_array_foreach(json_object_get(cat, "sources"), i, src)
	{
		const char *n = json_string_value(json_object_get(src, "name"));
		if (n && strcmp(n, name) == 0)
			found = json_incref(src);
	}
	json_decref(cat);
	return found;
}

static const char *jstr(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : "";
}

/* ------------------------------------------------------------- verdicts */

enum outcome {
	RECOVER, /* fresh, exit 0 */
	FATAL,	 /* stale (cache) or failed (none), exit 1 */
	NOT_MOD, /* a 304: fresh with a cache, fatal without */
	EMPTY,	 /* no records: fresh without a cache, the shrink guard's stale with one */
};

struct verdict {
	const char *label;
	int want_exit;
	const char *want_status;
	const char *reason; /* part of the message, NULL: any */
};

/* What one run of the full config must give. */
static struct verdict expected(enum outcome o, bool cached, const char *reason)
{
	bool fatal = o == FATAL || (o == NOT_MOD && !cached) || (o == EMPTY && cached);
	return (struct verdict){
	    .want_exit = fatal ? 1 : 0,
	    .want_status = !fatal   ? "fresh"
			   : cached ? "stale"
				    : "failed",
	    .reason = fatal ? (o == EMPTY ? "shrink guard" : reason) : NULL,
	};
}

static unsigned n_cases, n_passed;

/* Run the full config and judge it: exit status, net's status and message,
 * other's status and records, and (fatal, with a cache) a cache left
 * exactly as it was. */
static bool judge_run(const struct sandbox *s, const struct verdict *v, const char *label,
		      const struct fu_tree *cache_before, json_int_t other_records)
{
	static const char *const run[] = {"run", NULL};
	static const char *const env[] = {KEY_ENV, NULL};
	char *err = NULL;
	double t0 = now_seconds();
	int rc = fu_program(s->full, run, env, NULL, &err);
	double took = now_seconds() - t0;
	json_t *net = catalog_source(s, "net"), *other = catalog_source(s, "other");
	bool ok = rc == v->want_exit && strcmp(jstr(net, "status"), v->want_status) == 0 &&
		  (!v->reason || strstr(jstr(net, "message"), v->reason)) &&
		  (strcmp(v->want_status, "stale") != 0 ||
		   strstr(jstr(net, "message"), "using cache from")) &&
		  strcmp(jstr(other, "status"), "fresh") == 0 &&
		  json_integer_value(json_object_get(other, "records")) == other_records;
	if (!ok)
		fprintf(
		    stderr,
		    "\n%s: exit %d, net %s (\"%s\"), other %s with %lld records; wanted exit %d, "
		    "net %s (\"%s\")\nstderr: %.2000s\n",
		    label, rc, jstr(net, "status"), jstr(net, "message"), jstr(other, "status"),
		    (long long)json_integer_value(json_object_get(other, "records")), v->want_exit,
		    v->want_status, v->reason ? v->reason : "", err ? err : "");
	if (ok && cache_before) {
		/* Nothing renewed, committed or left behind. */
		char *dir = xasprintf("%s/net", s->cache);
		struct fu_tree after;
		fu_tree_read(&after, dir);
		ok = fu_tree_equal(cache_before, &after, label);
		fu_tree_free(&after);
		free(dir);
	}
	if (ok && strcmp(v->want_status, "failed") == 0) {
		/* Nothing half-built stays in the cache of a failed source. */
		char *manifest = xasprintf("%s/net/manifest.json", s->cache);
		ok = access(manifest, F_OK) != 0;
		if (!ok)
			fprintf(stderr, "\n%s: a failed source left a manifest\n", label);
		free(manifest);
	}
	if (ok && took > 20) {
		fprintf(stderr, "\n%s: took %.1f s\n", label, took);
		ok = false;
	}
	json_decref(net);
	json_decref(other);
	free(err);
	n_cases++;
	n_passed += ok;
	return ok;
}

/* The config with net alone and no cache, net failing: no records at all,
 * exit 3, and every previous output byte-identical. */
static bool judge_alone(const struct sandbox *s, const char *label)
{
	static const char *const run[] = {"run", NULL};
	static const char *const env[] = {KEY_ENV, NULL};
	char *alone_cache = xasprintf("%s/cache-alone", s->dir);
	reset_dir(alone_cache);
	free(alone_cache);
	struct fu_tree before, after;
	fu_tree_read(&before, s->out);
	char *err = NULL;
	int rc = fu_program(s->alone, run, env, NULL, &err);
	fu_tree_read(&after, s->out);
	bool ok = rc == 3 && before.count > 0 && fu_tree_equal(&before, &after, label) &&
		  strstr(err, "previous outputs left untouched");
	if (!ok)
		fprintf(stderr, "\n%s (alone): exit %d, %zu outputs before\nstderr: %.2000s\n",
			label, rc, before.count, err ? err : "");
	fu_tree_free(&before);
	fu_tree_free(&after);
	free(err);
	n_cases++;
	n_passed += ok;
	return ok;
}

/* The records other has: from a first good run of the sandbox. */
static json_int_t other_records_of(const struct sandbox *s)
{
	json_t *other = catalog_source(s, "other");
	json_int_t n = json_integer_value(json_object_get(other, "records"));
	json_decref(other);
	return n;
}

/* ------------------------------------------------------------- transport faults */

#ifndef MF_FAULTS_SHAPE

struct transport_case {
	const char *name;
	/* The responses to /t, in order (the last repeats), as JSON text; GOOD
	 * is replaced by the good response. Extra script entries may follow
	 * after the closing bracket of the list. */
	const char *responses;
	enum outcome outcome;
	const char *reason;
	double min_seconds; /* a retry wait that must have happened */
};

/* The good response: the openrouter sample, with validators. */
#define GOOD "{\"body_file\": \"@GOOD@\", \"headers\": {\"ETag\": \"\\\"v1\\\"\"}}"

static const struct transport_case transport_cases[] = {
    {.name = "200", .responses = "[" GOOD "]", .outcome = RECOVER},
    {.name = "204 no content",
     .responses = "[{\"status\": 204}]",
     .outcome = FATAL,
     .reason = "parse"},
    {.name = "301 same origin",
     .responses = "[{\"status\": 301, \"headers\": {\"Location\": \"/good\"}}]",
     .outcome = RECOVER},
    {.name = "307 other origin",
     .responses =
	 "[{\"status\": 307, \"headers\": {\"Location\": \"http://127.0.0.1:{other}/good\"}}]",
     .outcome = RECOVER},
    {.name = "300 without location",
     .responses = "[{\"status\": 300}]",
     .outcome = FATAL,
     .reason = "HTTP 300"},
    {.name = "304", .responses = "[{\"status\": 304}]", .outcome = NOT_MOD, .reason = "HTTP 304"},
    {.name = "401", .responses = "[{\"status\": 401}]", .outcome = FATAL, .reason = "HTTP 401"},
    {.name = "403", .responses = "[{\"status\": 403}]", .outcome = FATAL, .reason = "HTTP 403"},
    {.name = "404", .responses = "[{\"status\": 404}]", .outcome = FATAL, .reason = "HTTP 404"},
    {.name = "410", .responses = "[{\"status\": 410}]", .outcome = FATAL, .reason = "HTTP 410"},
    {.name = "429 then 200",
     .responses = "[{\"status\": 429, \"headers\": {\"Retry-After\": \"1\"}}, " GOOD "]",
     .outcome = RECOVER,
     .min_seconds = 0.9},
    {.name = "429 always",
     .responses = "[{\"status\": 429, \"headers\": {\"Retry-After\": \"1\"}}]",
     .outcome = FATAL,
     .reason = "HTTP 429",
     .min_seconds = 0.9},
    {.name = "Retry-After past the maximum",
     .responses = "[{\"status\": 503, \"headers\": {\"Retry-After\": \"86400\"}}, " GOOD "]",
     .outcome = RECOVER,
     .min_seconds = 0.9},
    {.name = "503 then 200", .responses = "[{\"status\": 503}, " GOOD "]", .outcome = RECOVER},
    {.name = "500 always",
     .responses = "[{\"status\": 500}]",
     .outcome = FATAL,
     .reason = "HTTP 500"},
    {.name = "502 always",
     .responses = "[{\"status\": 502}]",
     .outcome = FATAL,
     .reason = "HTTP 502"},
    {.name = "503 always",
     .responses = "[{\"status\": 503}]",
     .outcome = FATAL,
     .reason = "HTTP 503"},
    {.name = "delay below the timeout",
     .responses = "[{\"delay\": 0.2, \"body_file\": \"@GOOD@\"}]",
     .outcome = RECOVER},
    {.name = "delay above the timeout",
     .responses = "[{\"delay\": 1.5, \"body_file\": \"@GOOD@\"}]",
     .outcome = FATAL,
     .reason = "imed out"},
    {.name = "slow drip",
     .responses = "[{\"drip\": 0.01, \"body_file\": \"@GOOD@\"}]",
     .outcome = FATAL,
     .reason = "imed out"},
    {.name = "body cut",
     .responses = "[{\"cut\": 100, \"body_file\": \"@GOOD@\"}]",
     .outcome = FATAL,
     .reason = "GET"},
    {.name = "body cut, then whole",
     .responses = "[{\"cut\": 100, \"body_file\": \"@GOOD@\"}, " GOOD "]",
     .outcome = RECOVER},
    {.name = "Content-Length too long",
     .responses = "[{\"content_length\": 99999, \"body_file\": \"@GOOD@\"}]",
     .outcome = FATAL,
     .reason = "GET"},
    {.name = "Content-Length too short",
     .responses = "[{\"content_length\": 120, \"body_file\": \"@GOOD@\"}]",
     .outcome = FATAL,
     .reason = "parse"},
    {.name = "oversize body",
     .responses = "[{\"body_repeat\": [\"x\", 500000]}]",
     .outcome = FATAL,
     .reason = "body larger than 400000 bytes"},
    {.name = "gzip bomb",
     .responses = "[{\"body_repeat\": [\"a\", 5000000], \"gzip\": true}]",
     .outcome = FATAL,
     .reason = "body larger than 400000 bytes"},
    {.name = "gzip",
     .responses = "[{\"body_file\": \"@GOOD@\", \"gzip\": true}]",
     .outcome = RECOVER},
    {.name = "broken gzip",
     .responses = "[{\"body_file\": \"@GOOD@\", \"headers\": {\"Content-Encoding\": \"gzip\"}}]",
     .outcome = FATAL,
     .reason = "GET"},
    {.name = "redirect loop",
     .responses = "[{\"status\": 302, \"headers\": {\"Location\": \"/t\"}}]",
     .outcome = FATAL,
     .reason = "more than 5 redirects"},
    {.name = "connection reset",
     .responses = "[{\"reset\": true}]",
     .outcome = FATAL,
     .reason = "GET"},
    {.name = "reset, then whole", .responses = "[{\"reset\": true}, " GOOD "]", .outcome = RECOVER},
    {.name = "not HTTP",
     .responses = "[{\"raw\": \"garbage that is not HTTP\\r\\n\\r\\n\"}]",
     .outcome = FATAL,
     .reason = "GET"},
    {.name = "broken chunks",
     .responses = "[{\"raw\": \"HTTP/1.1 200 OK\\r\\nTransfer-Encoding: "
		  "chunked\\r\\n\\r\\nzz\\r\\nx\\r\\n\"}]",
     .outcome = FATAL,
     .reason = "GET"},
    {.name = "empty 200", .responses = "[{\"body\": \"\"}]", .outcome = FATAL, .reason = "parse"},
};

/* Replace every @GOOD@ in text with path. Caller frees. */
static char *with_good(const char *text, const char *path)
{
	struct strbuf sb;
	strbuf_init(&sb);
	const char *s = text;
	for (const char *at; (at = strstr(s, "@GOOD@")); s = at + 6) {
		strbuf_append(&sb, s, (size_t)(at - s));
		strbuf_puts(&sb, path);
	}
	strbuf_puts(&sb, s);
	return strbuf_detach(&sb);
}

static char *transport_script(const struct transport_case *c, const char *good)
{
	char *responses = with_good(c->responses, good);
	char *good_response = with_good(GOOD, good);
	char *script = xasprintf("{\"/t\": %s, \"/good\": %s}", responses, good_response);
	free(responses);
	free(good_response);
	return script;
}

static void transport_case(struct httpd *h, const struct sandbox *s, const char *good,
			   const struct fu_tree *good_cache, json_int_t other_records,
			   const struct transport_case *c)
{
	char *script = transport_script(c, good);
	for (int cached = 0; cached <= 1; cached++) {
		char label[128];
		snprintf(label, sizeof label, "transport %s, %s", c->name,
			 cached ? "cached" : "no cache");
		reset_dir(s->cache);
		if (cached) {
			char *net = xasprintf("%s/net", s->cache);
			char *saved = xasprintf("%s/good-cache", s->dir);
			CU_ASSERT_FATAL(fu_copy_tree(saved, net) == 0);
			free(net);
			free(saved);
		}
		httpd_script(h, script); /* the responses start again */
		struct verdict v = expected(c->outcome, cached, c->reason);
		bool fatal = strcmp(v.want_status, "fresh") != 0;
		double t0 = now_seconds();
		bool ok =
		    judge_run(s, &v, label, cached && fatal ? good_cache : NULL, other_records);
		if (ok && c->min_seconds > 0 && now_seconds() - t0 < c->min_seconds) {
			fprintf(stderr, "\n%s: no retry wait\n", label);
			ok = false;
		}
		CU_ASSERT(ok);
		if (fatal && !cached && !fu_quick()) {
			httpd_script(h, script);
			CU_ASSERT(judge_alone(s, label));
		}
	}
	free(script);
}

static void test_transport_matrix(void)
{
	struct httpd h;
	httpd_start(&h, "{}");
	char *good = tu_srcpath("data/samples/openrouter-models.json");
	char *net =
	    xasprintf("[source net]\nplugin = openrouter\nurl = http://127.0.0.1:%d/t\n", h.plain);
	struct sandbox s;
	sandbox_make(&s, net);

	/* A good run first: outputs to compare with, and the good cache. */
	char *script = transport_script(&transport_cases[0], good);
	httpd_script(&h, script);
	free(script);
	static const char *const run[] = {"run", NULL};
	char *err = NULL;
	CU_ASSERT_EQUAL_FATAL(fu_program(s.full, run, NULL, NULL, &err), 0);
	free(err);
	json_int_t other_records = other_records_of(&s);
	CU_ASSERT_FATAL(other_records > 0);
	char *net_cache = xasprintf("%s/net", s.cache);
	char *saved = xasprintf("%s/good-cache", s.dir);
	CU_ASSERT_FATAL(fu_copy_tree(net_cache, saved) == 0);
	struct fu_tree good_cache;
	fu_tree_read(&good_cache, saved);
	CU_ASSERT_FATAL(good_cache.count >= 3);

	size_t n = sizeof transport_cases / sizeof transport_cases[0];
	unsigned before = n_cases, passed_before = n_passed;
	for (size_t i = 0; i < n; i++) {
		if (fu_quick() && i % 3 != 0)
			continue;
		transport_case(&h, &s, good, &good_cache, other_records, &transport_cases[i]);
	}

	/* Nothing listening: refused at once, retried, fatal. */
	free(net);
	net = xstrdup("[source net]\nplugin = openrouter\nurl = http://127.0.0.1:1/t\n");
	struct sandbox refused;
	sandbox_make(&refused, net);
	struct verdict v = expected(FATAL, false, "GET http://127.0.0.1:1/t");
	CU_ASSERT(judge_run(&refused, &v, "transport connection refused", NULL, other_records));
	sandbox_free(&refused);

	printf("\ntransport matrix: %u runs judged, %u passed\n", n_cases - before,
	       n_passed - passed_before);
	fu_tree_free(&good_cache);
	free(saved);
	free(net_cache);
	free(net);
	free(good);
	sandbox_free(&s);
	httpd_stop(&h);
}

/* ------------------------------------------------------------- admin faults */

/* A config file with text; returns its path. */
static char *config_file(const char *dir, const char *name, const char *text)
{
	return tu_write_file(dir, name, text);
}

/* `modelfuse -c path args`: exit 2, and stderr names path:line. */
static bool usage_fails(const char *path, const char *const *args, int line, const char *part)
{
	char *err = NULL;
	int rc = fu_program(path, args, NULL, NULL, &err);
	char *where = line > 0 ? xasprintf("%s:%d: ", path, line) : xasprintf("%s", path);
	bool ok = rc == 2 && strstr(err, where) && (!part || strstr(err, part));
	if (!ok)
		fprintf(stderr, "\n%s: exit %d, wanted 2 with \"%s\" and \"%s\"\nstderr: %s\n",
			path, rc, where, part ? part : "", err ? err : "");
	free(where);
	free(err);
	return ok;
}

static char *admin_core(const char *dir)
{
	(void)dir;
	return xasprintf("[core]\nplugin_dir = %s\ncache_dir = cache\noutput_dir = out\n",
			 tu_env("MF_TEST_PLUGIN_DIR"));
}

static void test_config_faults(void)
{
	static const char *const run[] = {"run", NULL};
	static const char *const check[] = {"check-config", NULL};
	char *dir = fu_sandbox();
	char *core = admin_core(dir);
	struct {
		const char *name;
		const char *body; /* after the [core] of 4 lines */
		int line;
		const char *part;
	} cases[] = {
	    {"bad-type.ini", "jobs = many\n", 5, "jobs"},
	    {"bad-number.ini", "retries = 99999999999999999999\n", 5, "retries"},
	    {"bad-bool.ini", "[source m]\nplugin = modelsdev\nenabled = perhaps\n", 7, "enabled"},
	    {"unknown-section.ini", "[nonsense]\n", 5, "unknown section"},
	    {"unknown-core-key.ini", "colour = blue\n", 5, "colour"},
	    {"unknown-option.ini", "[source m]\nplugin = modelsdev\nflavour = x\n", 7, "flavour"},
	    {"bad-plugin-option.ini", "[source hf]\nplugin = huggingface\nlimit = lots\n", 7,
	     "limit"},
	    {"duplicate-key.ini", "jobs = 1\njobs = 2\n", 6, "duplicate"},
	    {"duplicate-section.ini", "[source m]\nplugin = modelsdev\n[source m]\n", 7,
	     "duplicate"},
	    {"no-equals.ini", "just words\n", 5, NULL},
	    {"open-section.ini", "[source m\n", 5, NULL},
	    {"bad-name.ini", "[source ../escape]\nplugin = modelsdev\n", 5, NULL},
	    {"nul-byte.ini", "jobs = 1\n", 0, NULL}, /* rewritten below */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *text = xasprintf("%s%s", core, cases[i].body);
		char *path = config_file(dir, cases[i].name, text);
		if (strcmp(cases[i].name, "nul-byte.ini") == 0) {
			FILE *f = fopen(path, "ab");
			fwrite("x = \0y\n", 1, 7, f);
			fclose(f);
			cases[i].line = 6;
		}
		CU_ASSERT(usage_fails(path, run, cases[i].line, cases[i].part));
		CU_ASSERT(usage_fails(path, check, cases[i].line, cases[i].part));
		free(path);
		free(text);
	}

	/* A very long line is read whole, and counting lines goes on past it:
	 * a problem after it is reported on its own line. */
	struct strbuf sb;
	strbuf_init(&sb);
	strbuf_puts(&sb, core);
	strbuf_puts(&sb, "[source m]\nplugin = modelsdev\nurl = file:/nowhere/");
	for (int i = 0; i < 20000; i++)
		strbuf_puts(&sb, "long-");
	strbuf_puts(&sb, ".json\nbogus_key = 1\n");
	char *path = config_file(dir, "long-line.ini", sb.data);
	CU_ASSERT(usage_fails(path, check, 8, "bogus_key"));
	free(path);
	strbuf_free(&sb);
	/* A long value is kept whole: a path of 3400 bytes (open(2) takes no
	 * more than 4096) that only works when not one byte is lost. */
	char *fixture = tu_srcpath("tests/fixtures/e2e/modelsdev-a.json");
	char *copy = tu_read_file(fixture);
	free(tu_write_file(dir, "m.json", copy));
	strbuf_init(&sb);
	strbuf_puts(&sb, core);
	strbuf_puts(&sb, "[source m]\nplugin = modelsdev\nurl = file:");
	for (int i = 0; i < 1700; i++)
		strbuf_puts(&sb, "./");
	strbuf_puts(&sb, "m.json\n");
	path = config_file(dir, "long-ok.ini", sb.data);
	char *err = NULL;
	CU_ASSERT_EQUAL(fu_program(path, run, NULL, NULL, &err), 0);
	free(err);
	free(path);
	free(copy);
	free(fixture);
	strbuf_free(&sb);

	/* A file that cannot be read: a folder (root reads any mode), and one
	 * that does not exist. */
	char *folder = xasprintf("%s/a-folder.ini", dir);
	mkdir(folder, 0755);
	CU_ASSERT(usage_fails(folder, run, 0, "cannot read"));
	char *missing = xasprintf("%s/missing.ini", dir);
	CU_ASSERT(usage_fails(missing, run, 0, "cannot read"));
	if (geteuid() != 0) {
		char *locked = config_file(dir, "locked.ini", core);
		chmod(locked, 0);
		CU_ASSERT(usage_fails(locked, run, 0, "cannot read"));
		free(locked);
	}
	free(folder);
	free(missing);
	free(core);
	tu_rm_rf(dir);
	free(dir);
}

/* A plugin that does not exist is a configuration error, named where the
 * config asks for it, and nothing runs (issue 9: exit 2 with file:line). */
static void test_config_missing_plugin(void)
{
	static const char *const run[] = {"run", NULL};
	static const char *const check[] = {"check-config", NULL};
	char *dir = fu_sandbox();
	char *core = admin_core(dir);
	char *text = xasprintf("%s[source m]\nplugin = no_such_plugin\nurl = file:x.json\n", core);
	char *path = config_file(dir, "missing-plugin.ini", text);
	CU_ASSERT(usage_fails(path, check, 5, "no_such_plugin"));
	CU_ASSERT(usage_fails(path, run, 5, "no_such_plugin"));
	free(path);
	free(text);
	free(core);
	tu_rm_rf(dir);
	free(dir);
}

/* An empty config (or one without any source) runs nothing: a
 * configuration error, not a run without records (issue 9). */
static void test_config_empty(void)
{
	static const char *const run[] = {"run", NULL};
	char *dir = fu_sandbox();
	char *path = config_file(dir, "empty.ini", "");
	CU_ASSERT(usage_fails(path, run, 0, "source"));
	free(path);
	tu_rm_rf(dir);
	free(dir);
}

static void test_cli_faults(void)
{
	char *dir = fu_sandbox();
	char *core = admin_core(dir);
	char *other = tu_srcpath("tests/fixtures/e2e/modelsdev-a.json");
	char *text = xasprintf("%s[source m]\nplugin = modelsdev\nurl = file:%s\n", core, other);
	char *path = config_file(dir, "ok.ini", text);
	static const char *const bad[][4] = {
	    {"frobnicate", NULL},
	    {"run", "--no-such-option", NULL},
	    {"run", "--only", "nosuchsource", NULL},
	    {"run", "--accept-shrink", "nosuchsource", NULL},
	    {"run", "extra-argument", NULL},
	    {"--no-such-global", "run", NULL},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *err = NULL;
		int rc = fu_program(path, bad[i], NULL, NULL, &err);
		if (rc != 2)
			fprintf(stderr, "\n%s: exit %d\n%s\n", bad[i][0], rc, err);
		CU_ASSERT_EQUAL(rc, 2);
		CU_ASSERT(err && *err);
		free(err);
	}
	/* -c without its argument. */
	char *const argv[] = {(char *)tu_env("MF_TEST_PROGRAM"), "-c", NULL};
	CU_ASSERT_EQUAL(tu_run(argv, NULL, NULL, NULL), 2);
	free(path);
	free(text);
	free(other);
	free(core);
	tu_rm_rf(dir);
	free(dir);
}

#endif /* !MF_FAULTS_SHAPE */

/* ------------------------------------------------------------- shape faults */

#ifdef MF_FAULTS_SHAPE

/* A plugin, its good payload, and where in it the entries are. */
struct shape_plugin {
	const char *plugin;
	const char *good;	 /* under the source tree */
	const char *entries[2];	 /* keys leading to the container of entries ("" = top) */
	size_t at;		 /* the entry to damage */
	const char *empty[2][2]; /* containers emptied by "empty list" (up to two) */
	const char *options;	 /* more lines for [source net] */
};

static const struct shape_plugin shape_plugins[] = {
    {"modelsdev", "data/samples/modelsdev-api.json", {"openai", "models"}, 0, {{NULL}}, NULL},
    {"openrouter", "data/samples/openrouter-models.json", {"data"}, 0, {{"data"}}, NULL},
    {"litellm", "data/samples/litellm-prices.json", {NULL}, 1, {{NULL}}, NULL},
    {"huggingface", "data/samples/huggingface-models.json", {NULL}, 0, {{NULL}}, NULL},
    {"arena", "data/samples/arena-leaderboard-text.json", {"full"}, 0, {{NULL}}, NULL},
    {"community", "data/community.json", {"models"}, 0, {{"models"}}, NULL},
    {"local", "data/samples/local-overlay.json", {"models"}, 0, {{"models"}, {"offerings"}}, NULL},
    {"benchmarks",
     "data/samples/benchmarks/coding.json",
     {"benchmarks"},
     0,
     {{"benchmarks"}},
     NULL},
    {"artificialanalysis",
     "data/samples/artificialanalysis.json",
     {"data"},
     0,
     {{"data"}},
     "api_key_env = MF_FAULT_KEY\n"},
    {"anyllm",
     "data/samples/openai-v1-models.json",
     {"data"},
     0,
     {{"data"}},
     "kind = openai\nprovider = openai\napi_key_env = MF_FAULT_KEY\n"},
};

enum shape {
	SH_INVALID_JSON,
	SH_TRAILING_GARBAGE,
	SH_WRONG_TOP,
	SH_SCALAR_TOP,
	SH_MISSING_FIELDS,
	SH_MISTYPED_FIELDS,
	SH_MISTYPED_ENTRY,
	SH_NULL_ENTRY,
	SH_EMPTY,
	SH_HUGE_STRINGS,
	SH_DEEP_OK,
	SH_DEEP_OVER,
	SH_BAD_UTF8,
	SH_OVERLONG_UTF8,
	SH_LONE_SURROGATE,
	SH_NUL_ESCAPE,
};

static const struct {
	enum shape shape;
	const char *name;
	enum outcome outcome;
} shapes[] = {
    {SH_INVALID_JSON, "invalid JSON", FATAL},
    {SH_TRAILING_GARBAGE, "garbage after the JSON", FATAL},
    {SH_WRONG_TOP, "wrong top-level type", FATAL},
    {SH_SCALAR_TOP, "scalar top level", FATAL},
    {SH_MISSING_FIELDS, "missing fields", RECOVER},
    {SH_MISTYPED_FIELDS, "mistyped fields", RECOVER},
    {SH_MISTYPED_ENTRY, "an entry of the wrong type", RECOVER},
    {SH_NULL_ENTRY, "a null entry", RECOVER},
    {SH_EMPTY, "empty list", EMPTY},
    {SH_HUGE_STRINGS, "huge strings", RECOVER},
    {SH_DEEP_OK, "deep nesting (500)", RECOVER},
    {SH_DEEP_OVER, "deep nesting (100000)", FATAL},
    {SH_BAD_UTF8, "invalid UTF-8", FATAL},
    {SH_OVERLONG_UTF8, "overlong UTF-8", FATAL},
    {SH_LONE_SURROGATE, "lone surrogate escape", FATAL},
    {SH_NUL_ESCAPE, "NUL escape", FATAL},
};

/* Where a plugin's documentation decides otherwise than the matrix's
 * default outcome. */
static enum outcome shape_outcome(const struct shape_plugin *p, size_t i)
{
	enum shape sh = shapes[i].shape;
	/* doc/sources/benchmarks.md: files are written by people and checked
	 * whole; a broken benchmark definition refuses the file (a bad score
	 * only loses that score). The damaged entry here is a definition. */
	if (strcmp(p->plugin, "benchmarks") == 0 &&
	    (sh == SH_MISSING_FIELDS || sh == SH_MISTYPED_FIELDS || sh == SH_MISTYPED_ENTRY ||
	     sh == SH_NULL_ENTRY || sh == SH_HUGE_STRINGS))
		return FATAL;
	/* huggingface.c: a \u0000 costs the string it is in, not the page; the
	 * damaged string here is one the plugin does not use. */
	if (strcmp(p->plugin, "huggingface") == 0 && sh == SH_NUL_ESCAPE)
		return RECOVER;
	return shapes[i].outcome;
}

#define HUGE_STRING (300 * 1024)

static json_t *walk(json_t *root, const char *const *keys, size_t n)
{
	json_t *at = root;
	for (size_t i = 0; i < n && keys[i]; i++)
		at = json_object_get(at, keys[i]);
	return at;
}

/* A value of another JSON type than v. */
static json_t *other_type(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_integer(12345);
	case JSON_INTEGER:
	case JSON_REAL:
		return json_string("not a number");
	case JSON_TRUE:
	case JSON_FALSE:
		return json_string("yes");
	case JSON_OBJECT:
		return json_pack("[i]", 1);
	case JSON_ARRAY:
		return json_pack("{s:i}", "a", 1);
	default:
		return json_pack("[]");
	}
}

/* Every string in v replaced by a huge one; returns the new value. */
static json_t *huge_strings(json_t *v, const char *huge)
{
	if (json_is_string(v))
		return json_string(huge);
	if (json_is_object(v)) {
		const char *key;
		json_t *val;
		void *tmp;
		json_object_foreach_safe(v, tmp, key, val)
		{
			json_object_set_new(v, key, huge_strings(val, huge));
		}
	} else if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++)
			json_array_set_new(v, i, huge_strings(json_array_get(v, i), huge));
	}
	return json_incref(v);
}

/* The damaged entry goes back where it was. */
static void put_entry(json_t *container, size_t at, const char *key, json_t *value)
{
	if (json_is_array(container))
		json_array_set_new(container, at, value);
	else
		json_object_set_new(container, key, value);
}

/* Replace the first "MFMARK" string (with its quotes kept or not) in text. */
static char *replace_mark(const char *text, const char *mark, const char *with)
{
	const char *at = strstr(text, mark);
	if (!at)
		return xstrdup(text);
	return xasprintf("%.*s%s%s", (int)(at - text), text, with, at + strlen(mark));
}

static char *nested(size_t depth)
{
	char *s = xmalloc(2 * depth + 2);
	memset(s, '[', depth);
	s[depth] = '1';
	memset(s + depth + 1, ']', depth);
	s[2 * depth + 1] = '\0';
	return s;
}

/* The good payload with one shape fault. Caller frees. */
static char *damaged(const struct shape_plugin *p, enum shape sh)
{
	char *path = tu_srcpath(p->good);
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	free(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	json_t *container = walk(root, p->entries, 2);
	CU_ASSERT_FATAL(json_is_array(container) || json_is_object(container));
	const char *key = NULL;
	json_t *entry = NULL;
	if (json_is_array(container)) {
		entry = json_array_get(container, p->at);
	} else {
		void *it = json_object_iter(container);
		for (size_t i = 0; i < p->at && it; i++)
			it = json_object_iter_next(container, it);
		key = json_object_iter_key(it);
		entry = json_object_iter_value(it);
	}
	CU_ASSERT_FATAL(json_is_object(entry));
	char *text = NULL;
	switch (sh) {
	case SH_INVALID_JSON: {
		char *whole = json_dumps(root, JSON_INDENT(1));
		text = xstrndup(whole, strlen(whole) / 2);
		free(whole);
		break;
	}
	case SH_TRAILING_GARBAGE: {
		char *whole = json_dumps(root, 0);
		text = xasprintf("%s\n}garbage]", whole);
		free(whole);
		break;
	}
	case SH_WRONG_TOP: {
		/* The right content in the wrong container. */
		json_t *wrong = json_is_object(root) ? json_pack("[O]", root)
						     : json_pack("{s:O}", "data", root);
		text = json_dumps(wrong, 0);
		json_decref(wrong);
		break;
	}
	case SH_SCALAR_TOP:
		text = xstrdup("\"models\"");
		break;
	case SH_MISSING_FIELDS:
		put_entry(container, p->at, key, json_object());
		break;
	case SH_MISTYPED_FIELDS: {
		const char *k;
		json_t *v;
		void *tmp;
		json_object_foreach_safe(entry, tmp, k, v)
		{
			json_object_set_new(entry, k, other_type(v));
		}
		break;
	}
	case SH_MISTYPED_ENTRY:
		put_entry(container, p->at, key, json_integer(42));
		break;
	case SH_NULL_ENTRY:
		put_entry(container, p->at, key, json_null());
		break;
	case SH_EMPTY:
		/* No container named: the top level itself. */
		for (size_t i = 0; i < 2; i++) {
			json_t *c = p->empty[i][0] ? walk(root, p->empty[i], 2)
				    : i == 0	   ? root
						   : NULL;
			if (json_is_array(c))
				json_array_clear(c);
			else if (json_is_object(c))
				json_object_clear(c);
		}
		break;
	case SH_HUGE_STRINGS: {
		char *huge = xmalloc(HUGE_STRING + 1);
		memset(huge, 'x', HUGE_STRING);
		huge[HUGE_STRING] = '\0';
		json_decref(huge_strings(entry, huge));
		free(huge);
		break;
	}
	case SH_DEEP_OK:
	case SH_DEEP_OVER:
	case SH_BAD_UTF8:
	case SH_OVERLONG_UTF8:
	case SH_LONE_SURROGATE:
	case SH_NUL_ESCAPE:
		json_object_set_new(entry, "zz_fault", json_string("MFMARK"));
		break;
	}
	if (!text) {
		char *whole = json_dumps(root, 0);
		switch (sh) {
		case SH_DEEP_OK:
		case SH_DEEP_OVER: {
			char *deep = nested(sh == SH_DEEP_OK ? 500 : 100000);
			text = replace_mark(whole, "\"MFMARK\"", deep);
			free(deep);
			break;
		}
		case SH_BAD_UTF8:
			text = replace_mark(whole, "MFMARK", "bad \xff\xfe byte");
			break;
		case SH_OVERLONG_UTF8:
			text = replace_mark(whole, "MFMARK", "overlong \xc0\xaf slash");
			break;
		case SH_LONE_SURROGATE:
			text = replace_mark(whole, "MFMARK", "lone \\ud800 surrogate");
			break;
		case SH_NUL_ESCAPE:
			text = replace_mark(whole, "MFMARK", "nul \\u0000 byte");
			break;
		default:
			text = xstrdup(whole);
			break;
		}
		free(whole);
	}
	json_decref(root);
	return text;
}

static void shape_plugin_matrix(struct httpd *h, const struct shape_plugin *p)
{
	char *net = xasprintf("[source net]\nplugin = %s\nurl = http://127.0.0.1:%d/s\n%s",
			      p->plugin, h->plain, p->options ? p->options : "");
	struct sandbox s;
	sandbox_make(&s, net);
	free(net);
	char *good = tu_srcpath(p->good);

	/* A good run: the outputs and the good cache. */
	char *script = xasprintf("{\"/s\": {\"body_file\": \"%s\"}}", good);
	httpd_script(h, script);
	free(script);
	static const char *const run[] = {"run", NULL};
	static const char *const env[] = {KEY_ENV, NULL};
	char *err = NULL;
	int rc = fu_program(s.full, run, env, NULL, &err);
	if (rc != 0)
		fprintf(stderr, "\n%s: good run: exit %d\n%s\n", p->plugin, rc, err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	free(err);
	json_t *netsrc = catalog_source(&s, "net");
	json_int_t good_records = json_integer_value(json_object_get(netsrc, "records"));
	if (good_records < 2)
		fprintf(stderr, "\n%s: the good payload gave %lld records: %s\n", p->plugin,
			(long long)good_records, jstr(netsrc, "message"));
	CU_ASSERT_FATAL(good_records >= 2);
	json_decref(netsrc);
	json_int_t other_records = other_records_of(&s);
	char *net_cache = xasprintf("%s/net", s.cache);
	char *saved = xasprintf("%s/good-cache", s.dir);
	CU_ASSERT_FATAL(fu_copy_tree(net_cache, saved) == 0);
	struct fu_tree good_cache;
	fu_tree_read(&good_cache, saved);

	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		if (fu_quick() && i % 4 != 0)
			continue;
		char *body = damaged(p, shapes[i].shape);
		char *file = xasprintf("%s/payload", s.dir);
		free(tu_write_file(s.dir, "payload", body));
		script = xasprintf("{\"/s\": {\"body_file\": \"%s\"}}", file);
		httpd_script(h, script);
		for (int cached = 0; cached <= 1; cached++) {
			char label[160];
			snprintf(label, sizeof label, "%s: %s, %s", p->plugin, shapes[i].name,
				 cached ? "cached" : "no cache");
			reset_dir(s.cache);
			if (cached)
				CU_ASSERT_FATAL(fu_copy_tree(saved, net_cache) == 0);
			struct verdict v = expected(shape_outcome(p, i), cached, NULL);
			bool fatal = strcmp(v.want_status, "fresh") != 0;
			CU_ASSERT(judge_run(&s, &v, label, cached && fatal ? &good_cache : NULL,
					    other_records));
			if (fatal && !cached && !fu_quick())
				CU_ASSERT(judge_alone(&s, label));
		}
		free(script);
		free(file);
		free(body);
	}
	fu_tree_free(&good_cache);
	free(saved);
	free(net_cache);
	free(good);
	sandbox_free(&s);
}

static void test_shape_matrix(void)
{
	struct httpd h;
	httpd_start(&h, "{}");
	unsigned before = n_cases, passed_before = n_passed;
	for (size_t i = 0; i < sizeof shape_plugins / sizeof shape_plugins[0]; i++)
		shape_plugin_matrix(&h, &shape_plugins[i]);
	printf("\nshape matrix: %zu plugins x %zu faults x 2 caches: %u runs judged, %u passed\n",
	       sizeof shape_plugins / sizeof shape_plugins[0], sizeof shapes / sizeof shapes[0],
	       n_cases - before, n_passed - passed_before);
	httpd_stop(&h);
}

#endif /* MF_FAULTS_SHAPE */

int main(void)
{
	static const struct tu_test tests[] = {
#ifdef MF_FAULTS_SHAPE
	    {"shape faults x every plugin x cache", test_shape_matrix},
#else
	    {"transport faults x cache", test_transport_matrix},
	    {"config faults: file:line, exit 2", test_config_faults},
	    {"config: a missing plugin", test_config_missing_plugin},
	    {"config: an empty file", test_config_empty},
	    {"command-line faults: exit 2", test_cli_faults},
#endif
	    {NULL, NULL},
	};
	return tu_main("fault matrix", tests);
}
