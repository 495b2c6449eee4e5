/* Security (issue 9, SPEC §9, §11, §12): TLS verification that cannot be
 * switched off, only https, http and file URLs and never https to http,
 * API keys that go to the configured origin only and appear nowhere (not
 * in logs, outputs, cache files or error text), literal keys only from a
 * private config file, no plugin from a file or folder others may write,
 * and no instance name that leads out of cache_dir or output_dir. Over the
 * loopback server (tests/httpd/mfhttpd.py), through the real program and,
 * for page planning, runner_run. */
#include "mf_build_config.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "faultutil.h"
#include "loader.h"
#include "runner.h"
#include "testutil.h"
#include "util.h"

/* The canary: a key that must never be seen where it does not belong. */
#define CANARY "mfcanary-7f3d9e21b5c8a4046e1d"
#define CANARY_ENV "MF_CANARY_KEY=" CANARY

static const char *jstr(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : "";
}

static json_t *catalog_source(const char *dir, const char *name)
{
	char *path = xasprintf("%s/out/catalog.json", dir);
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

static char *core_ini(const char *extra)
{
	return xasprintf("[core]\nplugin_dir = %s\ncache_dir = cache\noutput_dir = out\njobs = 2\n"
			 "connect_timeout_ms = 2000\ntransfer_timeout_ms = 5000\nretries = 0\n%s",
			 tu_env("MF_TEST_PLUGIN_DIR"), extra ? extra : "");
}

/* ------------------------------------------------------------- TLS */

static void test_tls_always_verified(void)
{
	struct httpd h;
	char *good = tu_srcpath("data/samples/openrouter-models.json");
	char *script = xasprintf("{\"/m\": {\"body_file\": \"%s\"}, \"/down\": {\"status\": 302, "
				 "\"headers\": {\"Location\": \"http://127.0.0.1:{plain}/m\"}}}",
				 good);
	httpd_start(&h, script);
	static const char *const run[] = {"run", NULL};
	char *dir = fu_sandbox();

	/* The test CA is not trusted by default: the transfer fails, whatever
	 * the environment says. */
	char *core = core_ini(NULL);
	char *ini = xasprintf("%s[source tls]\nplugin = openrouter\nurl = https://127.0.0.1:%d/m\n",
			      core, h.tls);
	char *cfg = tu_write_file(dir, "untrusted.ini", ini);
	static const char *const lax_env[] = {"GIT_SSL_NO_VERIFY=1", "CURL_INSECURE=1",
					      "MODELFUSE_INSECURE=1", "PYTHONHTTPSVERIFY=0", NULL};
	char *err = NULL;
	CU_ASSERT_EQUAL(fu_program(cfg, run, lax_env, NULL, &err), 3);
	CU_ASSERT(fu_has(err, "certificate"));
	free(err);
	free(cfg);
	free(ini);

	/* No key of the config turns verification off. */
	static const char *const keys[] = {"insecure = yes",  "ssl_verify = no",
					   "verify_tls = no", "tls_verify = false",
					   "verify_peer = 0", "ssl_no_verify = 1"};
	static const char *const check[] = {"check-config", NULL};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		char *text = xasprintf("%s%s\n[source tls]\nplugin = openrouter\nurl = https://"
				       "127.0.0.1:%d/m\n%s\n",
				       core, keys[i], h.tls, keys[i]);
		cfg = tu_write_file(dir, "lax.ini", text);
		char *line = xasprintf("%s:%d:", cfg, 9);
		CU_ASSERT_EQUAL(fu_program(cfg, check, NULL, NULL, &err), 2);
		CU_ASSERT(fu_has(err, line));
		free(line);
		free(err);
		free(cfg);
		free(text);
	}

	/* Trusted through ca_file: fetched; a redirect down to http refused. */
	char *extra = xasprintf("ca_file = %s\n", httpd_ca_file());
	free(core);
	core = core_ini(extra);
	ini = xasprintf("%s[source tls]\nplugin = openrouter\nurl = https://127.0.0.1:%d/m\n"
			"[source down]\nplugin = openrouter\nurl = https://127.0.0.1:%d/down\n",
			core, h.tls, h.tls);
	cfg = tu_write_file(dir, "trusted.ini", ini);
	CU_ASSERT_EQUAL(fu_program(cfg, run, NULL, NULL, &err), 1);
	free(err);
	json_t *tls = catalog_source(dir, "tls"), *down = catalog_source(dir, "down");
	CU_ASSERT_STRING_EQUAL(jstr(tls, "status"), "fresh");
	CU_ASSERT_STRING_EQUAL(jstr(down, "status"), "failed");
	CU_ASSERT(fu_has(jstr(down, "message"), "https to http"));
	CU_ASSERT_EQUAL(httpd_requests(&h, "plain", "/m", NULL, NULL), 0);
	json_decref(tls);
	json_decref(down);
	free(cfg);
	free(ini);
	free(extra);
	free(core);
	free(script);
	free(good);
	tu_rm_rf(dir);
	free(dir);
	httpd_stop(&h);
}

/* ------------------------------------------------------------- schemes */

static void test_only_web_and_file(void)
{
	static const char *const check[] = {"check-config", NULL};
	static const char *const schemes[] = {"ftp://127.0.0.1/x.json", "gopher://127.0.0.1/x",
					      "dict://127.0.0.1/x",	"scp://127.0.0.1/x",
					      "ldap://127.0.0.1/x",	"telnet://127.0.0.1/",
					      "smb://127.0.0.1/x",	"/etc/passwd"};
	char *dir = fu_sandbox();
	char *core = core_ini(NULL);
	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		char *text =
		    xasprintf("%s[source s]\nplugin = openrouter\nurl = %s\n", core, schemes[i]);
		char *cfg = tu_write_file(dir, "scheme.ini", text);
		char *line = xasprintf("%s:%d:", cfg, 11);
		char *err = NULL;
		CU_ASSERT_EQUAL(fu_program(cfg, check, NULL, NULL, &err), 2);
		CU_ASSERT(fu_has(err, line));
		free(err);
		free(line);
		free(cfg);
		free(text);
	}
	free(core);
	tu_rm_rf(dir);
	free(dir);
}

/* Redirects and next pages that leave the web: refused by the fetch
 * service and by the runner, whatever the plugin plans. */
static void test_no_way_to_local_files(void)
{
	struct httpd h;
	char *secret_dir = fu_sandbox();
	char *secret = tu_write_file(secret_dir, "secret.json", "{\"data\": []}");
	char *script = xasprintf(
	    "{\"/r\": {\"status\": 302, \"headers\": {\"Location\": \"file://%s\"}},"
	    " \"/ftp\": {\"status\": 302, \"headers\": {\"Location\": \"ftp://127.0.0.1/x\"}},"
	    " \"/p1\": {\"body\": \"offer: openai first\\nnext: file://%s\\n\"},"
	    " \"/s1\": {\"body\": \"offer: openai first\\nnext: http://127.0.0.1:{plain}/p2\\n\"},"
	    " \"/p2\": {\"body\": \"offer: openai second\\n\"}}",
	    secret, secret);
	httpd_start(&h, script);
	static const char *const run[] = {"run", NULL};
	char *dir = fu_sandbox();
	char *core = core_ini(NULL);
	char *ini = xasprintf("%s[source r]\nplugin = openrouter\nurl = http://127.0.0.1:%d/r\n"
			      "[source f]\nplugin = openrouter\nurl = http://127.0.0.1:%d/ftp\n",
			      core, h.plain, h.plain);
	char *cfg = tu_write_file(dir, "redirect.ini", ini);
	char *err = NULL;
	CU_ASSERT_EQUAL(fu_program(cfg, run, NULL, NULL, &err), 3);
	CU_ASSERT(fu_has(err, "redirect to file://"));
	CU_ASSERT(fu_has(err, "refused: not an http(s) URL"));
	CU_ASSERT(fu_has(err, "redirect to ftp://127.0.0.1/x refused"));
	free(err);
	free(cfg);
	free(ini);

	/* A plugin that plans a local file, or a step down from https, as its
	 * next page: the runner refuses it (rx_pager follows any "next:"). */
	char *pdir = xstrdup(tu_env("MF_TEST_FIXTURE_PLUGIN_DIR"));
	ini = xasprintf("[core]\ncache_dir = cache\noutput_dir = out\nretries = 0\n"
			"ca_file = %s\n"
			"[source p]\nplugin = rx_pager\nurl = http://127.0.0.1:%d/p1\n"
			"[source s]\nplugin = rx_pager\nurl = https://127.0.0.1:%d/s1\n",
			httpd_ca_file(), h.plain, h.tls);
	free(tu_write_file(dir, "pager.ini", ini));
	char *path = xasprintf("%s/pager.ini", dir);
	struct errors errs = {0};
	struct config *c = config_load(path, &errs);
	CU_ASSERT_FATAL(c && errs.count == 0);
	struct loaded_plugin plugins[2];
	for (size_t i = 0; i < 2; i++)
		CU_ASSERT_FATAL(loader_open_named(pdir, "rx_pager", &plugins[i], &errs) == 0);
	struct source_result results[2];
	static const struct run_options none = {0};
	runner_run(c, plugins, &none, results);
	CU_ASSERT_EQUAL(results[0].status, SOURCE_FAILED);
	CU_ASSERT(fu_has(results[0].message, "page 2: file://"));
	CU_ASSERT(fu_has(results[0].message, "refused: not an http(s) URL"));
	CU_ASSERT_EQUAL(results[1].status, SOURCE_FAILED);
	CU_ASSERT(fu_has(results[1].message, "refused: https source, http page"));
	CU_ASSERT_EQUAL(httpd_requests(&h, "plain", "/p2", NULL, NULL), 0);
	for (size_t i = 0; i < 2; i++) {
		source_result_free(&results[i]);
		loader_close(&plugins[i]);
	}
	config_free(c);
	errors_free(&errs);
	free(path);
	free(pdir);
	free(ini);
	free(core);
	free(script);
	free(secret);
	tu_rm_rf(secret_dir);
	free(secret_dir);
	tu_rm_rf(dir);
	free(dir);
	httpd_stop(&h);
}

/* ------------------------------------------------------------- the canary key */

/* No request to the listener may carry the canary in any header. */
static int canary_requests(const struct httpd *h, const char *listener)
{
	char *log = httpd_request_log(h);
	int n = 0;
	for (char *line = log, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		json_t *j = json_loads(line, 0, NULL);
		if (strcmp(jstr(j, "listener"), listener) == 0 && strstr(line, CANARY))
			n++;
		json_decref(j);
		if (!next)
			break;
	}
	free(log);
	return n;
}

/* Nowhere: cache, outputs, stderr, stdout. */
static void assert_canary_nowhere(const char *dir, const char *out, const char *err)
{
	static const char *const where[] = {"cache", "out"};
	for (size_t i = 0; i < 2; i++) {
		char *sub = xasprintf("%s/%s", dir, where[i]);
		char *found = fu_tree_grep(sub, CANARY);
		if (found)
			fprintf(stderr, "\nthe key is in %s/%s\n", where[i], found);
		CU_ASSERT_PTR_NULL(found);
		free(found);
		free(sub);
	}
	CU_ASSERT_PTR_NULL(strstr(out ? out : "", CANARY));
	CU_ASSERT_PTR_NULL(strstr(err ? err : "", CANARY));
	/* Nor its start: a key cut short in a message is still a leak. */
	CU_ASSERT_PTR_NULL(strstr(err ? err : "", "mfcanary-7f3d"));
}

static void test_canary_key(void)
{
	struct httpd h;
	char *hf1 = tu_srcpath("tests/fixtures/huggingface/models-minified.json");
	char *openai = tu_srcpath("data/samples/openai-v1-models.json");
	char *anthropic = tu_srcpath("tests/fixtures/anyllm/anthropic-page1.json");
	char *anthropic_last = tu_srcpath("tests/fixtures/anyllm/anthropic-page3.json");
	char *aa = tu_srcpath("data/samples/artificialanalysis.json");
	/* huggingface: page 1 at the configured origin links page 2 on another
	 * port, which links page 3 back home; anyllm and artificialanalysis:
	 * redirected to another port. A 401 and a 503 exercise error text. */
	char *script = xasprintf(
	    "{\"plain /api/models\": {\"body_file\": \"%s\", \"headers\": {\"Link\": "
	    "\"<http://127.0.0.1:{other}/api/models?cursor=2>; rel=\\\"next\\\"\"}},"
	    " \"other /api/models\": {\"body_file\": \"%s\", \"headers\": {\"Link\": "
	    "\"<http://127.0.0.1:{plain}/api/models3>; rel=\\\"next\\\"\"}},"
	    " \"plain /api/models3\": {\"body\": \"[]\"},"
	    " \"plain /v1/models\": {\"status\": 307, \"headers\": {\"Location\": "
	    "\"http://127.0.0.1:{other}/v1/models\"}},"
	    " \"other /v1/models\": {\"body_file\": \"%s\"},"
	    " \"plain /anthropic/v1/models\": {\"status\": 302, \"headers\": {\"Location\": "
	    "\"http://127.0.0.1:{other}/anthropic/v1/models\"}},"
	    " \"other /anthropic/v1/models\": [{\"body_file\": \"%s\"}, {\"body_file\": \"%s\"}],"
	    " \"plain /aa\": {\"status\": 301, \"headers\": {\"Location\": "
	    "\"http://127.0.0.1:{other}/aa\"}},"
	    " \"other /aa\": {\"body_file\": \"%s\"},"
	    " \"plain /denied\": {\"status\": 401, \"body\": \"bad key\"},"
	    " \"plain /busy\": {\"status\": 503}}",
	    hf1, hf1, openai, anthropic, anthropic_last, aa);
	httpd_start(&h, script);
	char *dir = fu_sandbox();
	char *core = core_ini(NULL);
	char *ini = xasprintf(
	    "%s[source hf]\nplugin = huggingface\nurl = http://127.0.0.1:%d/api/models\n"
	    "api_key_env = MF_CANARY_KEY\n"
	    "[source openai]\nplugin = anyllm\nkind = openai\nurl = http://127.0.0.1:%d/v1/models\n"
	    "api_key_env = MF_CANARY_KEY\n"
	    "[source anthropic]\nplugin = anyllm\nkind = anthropic\n"
	    "url = http://127.0.0.1:%d/anthropic/v1/models\napi_key_env = MF_CANARY_KEY\n"
	    "[source aa]\nplugin = artificialanalysis\nurl = http://127.0.0.1:%d/aa\n"
	    "api_key_env = MF_CANARY_KEY\n"
	    "[source denied]\nplugin = anyllm\nkind = gemini\nurl = http://127.0.0.1:%d/denied\n"
	    "api_key_env = MF_CANARY_KEY\n"
	    "[source busy]\nplugin = anyllm\nkind = mistral\nurl = http://127.0.0.1:%d/busy\n"
	    "api_key_env = MF_CANARY_KEY\n"
	    "[source userinfo]\nplugin = openrouter\n"
	    "url = http://user:" CANARY "@127.0.0.1:%d/denied\n",
	    core, h.plain, h.plain, h.plain, h.plain, h.plain, h.plain, h.plain);
	char *cfg = tu_write_file(dir, "canary.ini", ini);
	static const char *const env[] = {CANARY_ENV, NULL};

	/* Twice, the second time with debug logging: nothing differs. */
	static const char *const runs[][5] = {{"run", NULL},
					      {"-v", "-v", "run", "--force-refresh", NULL}};
	for (size_t r = 0; r < 2; r++) {
		httpd_script(&h, script); /* the paged answers start again */
		char *out = NULL, *err = NULL;
		CU_ASSERT_EQUAL(fu_program(cfg, runs[r], env, &out, &err), 1);
		assert_canary_nowhere(dir, out, err);
		free(out);
		free(err);
	}
	json_t *hf = catalog_source(dir, "hf"), *oa = catalog_source(dir, "openai");
	json_t *an = catalog_source(dir, "anthropic"), *aas = catalog_source(dir, "aa");
	json_t *denied = catalog_source(dir, "denied");
	json_t *each[] = {hf, oa, an, aas};
	for (size_t i = 0; i < 4; i++)
		if (strcmp(jstr(each[i], "status"), "fresh") != 0)
			fprintf(stderr, "\n%s: %s: %s\n", jstr(each[i], "name"),
				jstr(each[i], "status"), jstr(each[i], "message"));
	CU_ASSERT_STRING_EQUAL(jstr(hf, "status"), "fresh");
	CU_ASSERT_STRING_EQUAL(jstr(oa, "status"), "fresh");
	CU_ASSERT_STRING_EQUAL(jstr(an, "status"), "fresh");
	CU_ASSERT_STRING_EQUAL(jstr(aas, "status"), "fresh");
	CU_ASSERT(fu_has(jstr(denied, "message"), "HTTP 401"));
	json_decref(hf);
	json_decref(oa);
	json_decref(an);
	json_decref(aas);
	json_decref(denied);

	/* The key went to the configured origin (every kind of header, every
	 * page)... */
	CU_ASSERT(httpd_requests(&h, "other", "/anthropic/v1/models", NULL, NULL) >= 2);
	CU_ASSERT(httpd_requests(&h, "plain", "/api/models", "authorization", "Bearer " CANARY) >= 1);
	CU_ASSERT(httpd_requests(&h, "plain", "/api/models3", "authorization", "Bearer " CANARY) >= 1);
	CU_ASSERT(httpd_requests(&h, "plain", "/v1/models", "authorization", "Bearer " CANARY) >= 1);
	CU_ASSERT(httpd_requests(&h, "plain", "/anthropic/v1/models", "x-api-key", CANARY) >= 1);
	CU_ASSERT(httpd_requests(&h, "plain", "/aa", "x-api-key", CANARY) >= 1);
	CU_ASSERT(httpd_requests(&h, "plain", "/denied", "x-goog-api-key", CANARY) >= 1);
	/* ...and never anywhere else, nor in any URL. */
	CU_ASSERT(httpd_requests(&h, "other", "/api/models", NULL, NULL) >= 1);
	CU_ASSERT(httpd_requests(&h, "other", "/v1/models", NULL, NULL) >= 1);
	CU_ASSERT(httpd_requests(&h, "other", "/anthropic/v1/models", NULL, NULL) >= 1);
	CU_ASSERT(httpd_requests(&h, "other", "/aa", NULL, NULL) >= 1);
	CU_ASSERT_EQUAL(canary_requests(&h, "other"), 0);
	CU_ASSERT_EQUAL(httpd_requests(&h, "other", NULL, "authorization", NULL), 0);
	CU_ASSERT_EQUAL(httpd_requests(&h, "other", NULL, "x-api-key", NULL), 0);
	char *log = httpd_request_log(&h);
	for (char *line = log, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		json_t *j = json_loads(line, 0, NULL);
		CU_ASSERT_PTR_NULL(strstr(jstr(j, "path"), CANARY));
		json_decref(j);
		if (!next)
			break;
	}
	free(log);
	free(cfg);
	free(ini);
	free(core);
	free(script);
	free(hf1);
	free(openai);
	free(anthropic);
	free(anthropic_last);
	free(aa);
	tu_rm_rf(dir);
	free(dir);
	httpd_stop(&h);
}

/* A literal api_key: only from a file of mode 0600 owned by the user, and
 * the refusal never quotes it. */
static void test_literal_key(void)
{
	static const char *const check[] = {"check-config", NULL};
	char *dir = fu_sandbox();
	char *core = core_ini(NULL);
	char *ini = xasprintf("%s[source openai]\nplugin = anyllm\nkind = openai\n"
			      "url = https://127.0.0.1:9/v1/models\napi_key = " CANARY "\n",
			      core);
	char *cfg = tu_write_file(dir, "literal.ini", ini);
	char *line = xasprintf("%s:%d:", cfg, 13);
	static const mode_t refused[] = {0644, 0640, 0604, 0660, 0666};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		chmod(cfg, refused[i]);
		char *err = NULL;
		CU_ASSERT_EQUAL(fu_program(cfg, check, NULL, NULL, &err), 2);
		CU_ASSERT(fu_has(err, line));
		CU_ASSERT(fu_has(err, "0600"));
		CU_ASSERT_PTR_NULL(strstr(err, CANARY));
		free(err);
	}
	chmod(cfg, 0600);
	char *err = NULL;
	CU_ASSERT_EQUAL(fu_program(cfg, check, NULL, NULL, &err), 0);
	free(err);
	/* Owned by someone else (needs root to arrange): refused too. */
	if (geteuid() == 0) {
		CU_ASSERT_EQUAL(chown(cfg, 65534, 65534), 0);
		CU_ASSERT_EQUAL(fu_program(cfg, check, NULL, NULL, &err), 2);
		CU_ASSERT(fu_has(err, line));
		CU_ASSERT_PTR_NULL(strstr(err, CANARY));
		free(err);
	}
	free(line);
	free(cfg);
	free(ini);
	free(core);
	tu_rm_rf(dir);
	free(dir);
}

/* ------------------------------------------------------------- plugins */

static char *copy_plugin(const char *dir, const char *name)
{
	char *from = xasprintf("%s/%s.so", tu_env("MF_TEST_PLUGIN_DIR"), name);
	char *to = xasprintf("%s/%s.so", dir, name);
	char *const argv[] = {"/bin/cp", from, to, NULL};
	CU_ASSERT_FATAL(tu_run(argv, NULL, NULL, NULL) == 0);
	chmod(to, 0755);
	free(from);
	return to;
}

static void test_writable_plugins_refused(void)
{
	static const char *const check[] = {"check-config", NULL};
	char *dir = fu_sandbox();
	char *pdir = xasprintf("%s/plugins", dir);
	mkdir(pdir, 0755);
	char *so = copy_plugin(pdir, "modelsdev");
	char *fixture = tu_srcpath("tests/fixtures/e2e/modelsdev-a.json");
	char *ini = xasprintf("[core]\nplugin_dir = %s\ncache_dir = cache\noutput_dir = out\n"
			      "[source m]\nplugin = modelsdev\nurl = file:%s\n",
			      pdir, fixture);
	char *cfg = tu_write_file(dir, "plugins.ini", ini);
	char *err = NULL;
	CU_ASSERT_EQUAL(fu_program(cfg, check, NULL, NULL, &err), 0);
	free(err);

	struct {
		mode_t file, folder;
		const char *part;
	} cases[] = {
	    {0775, 0755, "group- or world-writable plugin file"},
	    {0757, 0755, "group- or world-writable plugin file"},
	    {0755, 0775, "group- or world-writable folder"},
	    {0755, 0757, "group- or world-writable folder"},
	    {0755, 01777, "group- or world-writable folder"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		chmod(so, cases[i].file);
		chmod(pdir, cases[i].folder);
		CU_ASSERT_EQUAL(fu_program(cfg, check, NULL, NULL, &err), 2);
		CU_ASSERT(fu_has(err, cases[i].part));
		free(err);
		static const char *const run[] = {"run", NULL};
		CU_ASSERT_NOT_EQUAL(fu_program(cfg, run, NULL, NULL, &err), 0);
		CU_ASSERT(fu_has(err, cases[i].part));
		free(err);
	}
	chmod(so, 0755);
	chmod(pdir, 0755);

	/* A symlink in a safe folder to a plugin in an unsafe one. */
	char *unsafe = xasprintf("%s/unsafe", dir);
	mkdir(unsafe, 0755);
	char *real = copy_plugin(unsafe, "modelsdev");
	chmod(unsafe, 0777);
	unlink(so);
	CU_ASSERT_EQUAL_FATAL(symlink(real, so), 0);
	CU_ASSERT_EQUAL(fu_program(cfg, check, NULL, NULL, &err), 2);
	CU_ASSERT(fu_has(err, "group- or world-writable folder"));
	free(err);
	chmod(unsafe, 0755);
	CU_ASSERT_EQUAL(fu_program(cfg, check, NULL, NULL, &err), 0);
	free(err);

	free(real);
	free(unsafe);
	free(cfg);
	free(ini);
	free(fixture);
	free(so);
	free(pdir);
	tu_rm_rf(dir);
	free(dir);
}

/* ------------------------------------------------------------- names */

static void test_names_stay_inside(void)
{
	static const char *const run[] = {"run", NULL};
	static const char *const names[] = {"../escape", "..",	 ".",	     "a/b",
					    "/tmp/abs",	 "a\\b", "sp ace/x", "..."};
	char *dir = fu_sandbox();
	char *inner = xasprintf("%s/inner", dir);
	mkdir(inner, 0755);
	char *fixture = tu_srcpath("tests/fixtures/e2e/modelsdev-a.json");
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char *ini = xasprintf("[core]\nplugin_dir = %s\ncache_dir = c\noutput_dir = o\n"
				      "[source %s]\nplugin = modelsdev\nurl = file:%s\n",
				      tu_env("MF_TEST_PLUGIN_DIR"), names[i], fixture);
		char *cfg = tu_write_file(inner, "names.ini", ini);
		char *line = xasprintf("%s:5:", cfg);
		char *err = NULL;
		CU_ASSERT_EQUAL(fu_program(cfg, run, NULL, NULL, &err), 2);
		CU_ASSERT(fu_has(err, line));
		free(err);
		free(line);
		free(cfg);
		free(ini);
	}
	/* Nothing was created anywhere. */
	struct fu_tree t;
	fu_tree_read(&t, dir);
	CU_ASSERT_EQUAL(t.count, 1); /* inner/names.ini */
	fu_tree_free(&t);
	char *c = xasprintf("%s/c", inner);
	CU_ASSERT_NOT_EQUAL(access(c, F_OK), 0);
	free(c);
	free(fixture);
	free(inner);
	tu_rm_rf(dir);
	free(dir);
}

/* cache_dir holds the run's own files beside the instance folders (.lock,
 * .last-run.json): an instance named like one of them collides with them
 * (the source can never run) and must be refused like the names that leave
 * the folder. */
static void test_names_do_not_collide(void)
{
	static const char *const run[] = {"run", NULL};
	static const char *const names[] = {".lock", ".last-run.json"};
	char *dir = fu_sandbox();
	char *fixture = tu_srcpath("tests/fixtures/e2e/modelsdev-a.json");
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char *ini = xasprintf("[core]\nplugin_dir = %s\ncache_dir = c\noutput_dir = o\n"
				      "[source %s]\nplugin = modelsdev\nurl = file:%s\n",
				      tu_env("MF_TEST_PLUGIN_DIR"), names[i], fixture);
		char *cfg = tu_write_file(dir, "names.ini", ini);
		char *line = xasprintf("%s:5:", cfg);
		char *err = NULL;
		int rc = fu_program(cfg, run, NULL, NULL, &err);
		if (rc != 2)
			fprintf(stderr, "\n[source %s]: exit %d\n%s\n", names[i], rc, err);
		CU_ASSERT_EQUAL(rc, 2);
		CU_ASSERT(fu_has(err, line));
		free(err);
		free(line);
		free(cfg);
		free(ini);
	}
	free(fixture);
	tu_rm_rf(dir);
	free(dir);
}

int main(void)
{
	static const struct tu_test tests[] = {
	    {"TLS verification cannot be turned off", test_tls_always_verified},
	    {"only https, http and file URLs", test_only_web_and_file},
	    {"no redirect or next page into local files", test_no_way_to_local_files},
	    {"the canary key stays with its origin", test_canary_key},
	    {"a literal api_key needs a private file", test_literal_key},
	    {"writable plugin files and folders refused", test_writable_plugins_refused},
	    {"instance names stay inside their folders", test_names_stay_inside},
	    {"instance names do not collide with the run's files", test_names_do_not_collide},
	    {NULL, NULL},
	};
	return tu_main("security", tests);
}
