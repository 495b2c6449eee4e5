/* The INI configuration: values, defaults, and every error with file:line. */
#include "mf_build_config.h"
#include "testutil.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

/* A config written into a fresh folder and loaded from there. */
struct loaded {
	char *tmp;   /* as tu_tmpdir made it */
	char *dir;   /* its real path: what cfg->dir must be */
	char *path;
	struct config *cfg;
	struct errors errs;
};

static void load_mode(struct loaded *l, const char *text, mode_t mode)
{
	*l = (struct loaded){0};
	l->tmp = tu_tmpdir();
	l->dir = realpath(l->tmp, NULL);
	l->path = tu_write_file(l->tmp, "modelfuse.ini", text);
	CU_ASSERT_FATAL(chmod(l->path, mode) == 0);
	l->cfg = config_load(l->path, &l->errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l->cfg);
}

static void load(struct loaded *l, const char *text)
{
	load_mode(l, text, 0644);
}

static void unload(struct loaded *l)
{
	config_free(l->cfg);
	errors_free(&l->errs);
	tu_rm_rf(l->tmp);
	free(l->tmp);
	free(l->dir);
	free(l->path);
}

/* True when some error starts with "PATH:LINE: " and contains every needle. */
static bool has_error(const struct loaded *l, const struct errors *errs, int line,
		      const char *needle, const char *needle2)
{
	char prefix[PATH_MAX + 32];
	snprintf(prefix, sizeof prefix, "%s:%d: ", l->path, line);
	for (size_t i = 0; i < errs->count; i++) {
		const char *m = errs->msgs[i];
		if (strncmp(m, prefix, strlen(prefix)) == 0 && strstr(m, needle) &&
		    (!needle2 || strstr(m, needle2)))
			return true;
	}
	return false;
}

static void print_errors(const struct errors *errs)
{
	for (size_t i = 0; i < errs->count; i++)
		fprintf(stderr, "  [%s]\n", errs->msgs[i]);
}

/* The number of errors is n; shows them when it is not. */
static bool count_is(const struct errors *errs, size_t n)
{
	if (errs->count != n)
		print_errors(errs);
	return errs->count == n;
}

static bool near(double a, double b)
{
	return a - b < 1e-9 && b - a < 1e-9;
}

/* ------------------------------------------------------------- valid files */

static void test_full_file(void)
{
	char *path = tu_srcpath("tests/fixtures/config/full.ini");
	char *fixdir = tu_srcpath("tests/fixtures/config");
	char *dir = realpath(fixdir, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	struct errors errs = {0};
	struct config *cfg = config_load(path, &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT(count_is(&errs, 0));
	CU_ASSERT_STRING_EQUAL(cfg->path, path);
	CU_ASSERT_STRING_EQUAL(cfg->dir, dir);

	char *expect = NULL;
	CU_ASSERT(asprintf(&expect, "%s/plugins", dir) > 0);
	CU_ASSERT_STRING_EQUAL(cfg->plugin_dir, expect);
	free(expect);
	CU_ASSERT_STRING_EQUAL(cfg->cache_dir, "/srv/mf/cache");
	CU_ASSERT(asprintf(&expect, "%s/out", dir) > 0);
	CU_ASSERT_STRING_EQUAL(cfg->output_dir, expect);
	free(expect);
	CU_ASSERT(asprintf(&expect, "%s/certs/ca.pem", dir) > 0);
	CU_ASSERT_STRING_EQUAL(cfg->ca_file, expect);
	free(expect);
	CU_ASSERT_EQUAL(cfg->jobs, 3);
	CU_ASSERT(near(cfg->source_time_limit, 90.5));
	CU_ASSERT_EQUAL(cfg->connect_timeout_ms, 2500);
	CU_ASSERT_EQUAL(cfg->transfer_timeout_ms, 60000);
	CU_ASSERT_EQUAL(cfg->max_body_bytes, 1048576);
	CU_ASSERT_EQUAL(cfg->max_pages, 12);

	CU_ASSERT_EQUAL_FATAL(cfg->n_sources, 3);
	const struct source_config *md = &cfg->sources[0];
	CU_ASSERT_STRING_EQUAL(md->name, "modelsdev");
	CU_ASSERT_STRING_EQUAL(md->plugin, "modelsdev");
	CU_ASSERT_TRUE(md->enabled);
	CU_ASSERT_EQUAL(md->precedence, 50);
	CU_ASSERT_STRING_EQUAL(md->url, "https://models.dev/api.json");
	CU_ASSERT(near(md->ttl_hours, 12));
	CU_ASSERT(near(md->shrink_ratio, 0.5));
	CU_ASSERT(near(md->time_limit, 90.5)); /* [core] source_time_limit */
	CU_ASSERT_EQUAL(md->line, 16);
	CU_ASSERT_EQUAL(md->n_options, 0);

	const struct source_config *oa = &cfg->sources[1];
	CU_ASSERT_STRING_EQUAL(oa->name, "openai");
	CU_ASSERT_STRING_EQUAL(oa->plugin, "anyllm");
	CU_ASSERT_FALSE(oa->enabled);
	CU_ASSERT_EQUAL(oa->precedence, 75);
	CU_ASSERT_STRING_EQUAL(oa->url, "https://api.openai.com/v1/models");
	CU_ASSERT(near(oa->ttl_hours, 0));
	CU_ASSERT(near(oa->shrink_ratio, 0.25));
	CU_ASSERT(near(oa->time_limit, 30));
	CU_ASSERT_EQUAL(oa->line, 20);
	CU_ASSERT_EQUAL_FATAL(oa->n_options, 3);
	CU_ASSERT_STRING_EQUAL(oa->options[0].key, "kind");
	CU_ASSERT_STRING_EQUAL(oa->options[0].value, "openai"); /* inline comment gone */
	CU_ASSERT_EQUAL(oa->options[0].line, 24);
	CU_ASSERT_STRING_EQUAL(oa->options[1].key, "provider");
	CU_ASSERT_STRING_EQUAL(oa->options[2].key, "api_key_env");
	CU_ASSERT_STRING_EQUAL(oa->options[2].value, "OPENAI_API_KEY");
	CU_ASSERT_EQUAL(oa->options[2].line, 27);

	const struct source_config *loc = &cfg->sources[2];
	CU_ASSERT_STRING_EQUAL(loc->plugin, "local");
	CU_ASSERT_EQUAL(loc->precedence, 100);
	CU_ASSERT(asprintf(&expect, "file://%s/samples/local.json", dir) > 0);
	CU_ASSERT_STRING_EQUAL(loc->url, expect);
	free(expect);

	CU_ASSERT_EQUAL_FATAL(cfg->n_providers, 2);
	const struct provider_config *po = &cfg->providers[0];
	CU_ASSERT_STRING_EQUAL(po->name, "openai");
	CU_ASSERT_EQUAL(po->line, 36);
	CU_ASSERT_EQUAL_FATAL(po->n_exclude, 3);
	CU_ASSERT_STRING_EQUAL(po->exclude_models[0], "gpt-3.5-turbo-instruct*");
	CU_ASSERT_STRING_EQUAL(po->exclude_models[1], "babbage-002");
	CU_ASSERT_STRING_EQUAL(po->exclude_models[2], "davinci-002");
	/* A section without keys still exists. */
	CU_ASSERT_STRING_EQUAL(cfg->providers[1].name, "empty");
	CU_ASSERT_EQUAL(cfg->providers[1].n_exclude, 0);
	CU_ASSERT_EQUAL(cfg->providers[1].line, 39);

	CU_ASSERT_TRUE(cfg->mapper_overrides_set);
	CU_ASSERT_PTR_NULL(cfg->mapper_overrides);

	config_free(cfg);
	errors_free(&errs);
	free(dir);
	free(fixdir);
	free(path);
}

static void test_defaults_without_core(void)
{
	struct loaded l;
	load(&l, "[source modelsdev]\n");
	CU_ASSERT(count_is(&l.errs, 0));
	const struct config *cfg = l.cfg;
	CU_ASSERT_STRING_EQUAL(cfg->dir, l.dir);
	CU_ASSERT_PTR_NULL(cfg->plugin_dir);
	CU_ASSERT_STRING_EQUAL(cfg->cache_dir, "/var/cache/modelfuse");
	CU_ASSERT_STRING_EQUAL(cfg->output_dir, "/var/lib/modelfuse");
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	CU_ASSERT_EQUAL(cfg->jobs, cpus < 1 ? 1 : (int)cpus);
	CU_ASSERT(near(cfg->source_time_limit, 600));
	CU_ASSERT_EQUAL(cfg->connect_timeout_ms, 10000);
	CU_ASSERT_EQUAL(cfg->transfer_timeout_ms, 120000);
	CU_ASSERT_EQUAL(cfg->max_body_bytes, 256 * 1024 * 1024);
	CU_ASSERT_EQUAL(cfg->max_pages, 1000);
	CU_ASSERT_PTR_NULL(cfg->ca_file);
	CU_ASSERT_EQUAL(cfg->retries, 3);
	CU_ASSERT_EQUAL(cfg->backoff_ms, 1000);
	CU_ASSERT(near(cfg->retry_after_max, 60));
	CU_ASSERT_PTR_NULL(cfg->mapper_overrides);
	CU_ASSERT_FALSE(cfg->mapper_overrides_set);
	CU_ASSERT_EQUAL(cfg->n_providers, 0);
	CU_ASSERT_EQUAL_FATAL(cfg->n_sources, 1);
	const struct source_config *src = &cfg->sources[0];
	CU_ASSERT_STRING_EQUAL(src->plugin, "modelsdev");
	CU_ASSERT_TRUE(src->enabled);
	CU_ASSERT_PTR_NULL(src->url);
	CU_ASSERT(near(src->ttl_hours, 24));
	CU_ASSERT(near(src->shrink_ratio, 0.5));
	CU_ASSERT(near(src->time_limit, 600));
	CU_ASSERT_PTR_NULL(src->refresh_command);
	CU_ASSERT(near(src->refresh_time_limit, 300));
	CU_ASSERT_PTR_NULL(src->path);
	CU_ASSERT_EQUAL(src->line, 1);
	unload(&l);
}

static void test_core_after_sources(void)
{
	/* [core] may come last: defaults taken from it apply all the same. */
	struct loaded l;
	load(&l, "[source a]\n[source b]\ntime_limit = 5\n[core]\nsource_time_limit = 42\n");
	CU_ASSERT(count_is(&l.errs, 0));
	CU_ASSERT_EQUAL_FATAL(l.cfg->n_sources, 2);
	CU_ASSERT(near(l.cfg->sources[0].time_limit, 42));
	CU_ASSERT(near(l.cfg->sources[1].time_limit, 5));
	unload(&l);
}

static void test_plugin_instances(void)
{
	struct loaded l;
	load(&l, "[source groq]\nplugin = anyllm\nurl = https://api.groq.com/openai/v1/models\n"
		 "[source mistral]\nplugin = anyllm\n"
		 "[source openrouter]\n");
	CU_ASSERT(count_is(&l.errs, 0));
	CU_ASSERT_EQUAL_FATAL(l.cfg->n_sources, 3);
	CU_ASSERT_STRING_EQUAL(l.cfg->sources[0].name, "groq");
	CU_ASSERT_STRING_EQUAL(l.cfg->sources[0].plugin, "anyllm");
	CU_ASSERT_STRING_EQUAL(l.cfg->sources[1].name, "mistral");
	CU_ASSERT_STRING_EQUAL(l.cfg->sources[1].plugin, "anyllm");
	CU_ASSERT_PTR_NULL(l.cfg->sources[1].url);
	CU_ASSERT_STRING_EQUAL(l.cfg->sources[2].plugin, "openrouter");
	CU_ASSERT_EQUAL(l.cfg->sources[2].line, 6);
	unload(&l);
}

static void test_precedence(void)
{
	CU_ASSERT_EQUAL(config_default_precedence("local"), 100);
	CU_ASSERT_EQUAL(config_default_precedence("anyllm"), 60);
	CU_ASSERT_EQUAL(config_default_precedence("modelsdev"), 50);
	CU_ASSERT_EQUAL(config_default_precedence("openrouter"), 40);
	CU_ASSERT_EQUAL(config_default_precedence("litellm"), 35);
	CU_ASSERT_EQUAL(config_default_precedence("huggingface"), 30);
	CU_ASSERT_EQUAL(config_default_precedence("community"), 20);
	CU_ASSERT_EQUAL(config_default_precedence("arena"), 10);
	CU_ASSERT_EQUAL(config_default_precedence("benchmarks"), 10);
	CU_ASSERT_EQUAL(config_default_precedence("artificialanalysis"), 10);
	CU_ASSERT_EQUAL(config_default_precedence("someone-elses"), 10);

	/* The default follows the plugin even when `plugin` comes after it;
	 * an explicit precedence wins, negative ones included. */
	struct loaded l;
	load(&l, "[source mine]\nttl_hours = 1\nplugin = openrouter\n"
		 "[source hf]\nplugin = huggingface\nprecedence = 99\n"
		 "[source low]\nprecedence = -5\n");
	CU_ASSERT(count_is(&l.errs, 0));
	CU_ASSERT_EQUAL_FATAL(l.cfg->n_sources, 3);
	CU_ASSERT_EQUAL(l.cfg->sources[0].precedence, 40);
	CU_ASSERT_EQUAL(l.cfg->sources[1].precedence, 99);
	CU_ASSERT_EQUAL(l.cfg->sources[2].precedence, -5);
	unload(&l);
}

/* ------------------------------------------------------------- URLs */

static void test_relative_file_url(void)
{
	struct loaded l;
	load(&l, "[source local]\nurl = file:samples/overlay.json\n"
		 "[source abs]\nplugin = local\nurl = file:/srv/x.json\n"
		 "[source abs3]\nplugin = local\nurl = file:///srv/y.json\n"
		 "[source lh]\nplugin = local\nurl = file://localhost/srv/z.json\n");
	CU_ASSERT(count_is(&l.errs, 0));
	CU_ASSERT_EQUAL_FATAL(l.cfg->n_sources, 4);
	char *expect = NULL;
	CU_ASSERT(asprintf(&expect, "file://%s/samples/overlay.json", l.dir) > 0);
	CU_ASSERT_STRING_EQUAL(l.cfg->sources[0].url, expect);
	CU_ASSERT_EQUAL(strncmp(l.cfg->sources[0].url, "file:///", 8), 0);
	free(expect);
	CU_ASSERT_STRING_EQUAL(l.cfg->sources[1].url, "file:///srv/x.json");
	CU_ASSERT_STRING_EQUAL(l.cfg->sources[2].url, "file:///srv/y.json");
	CU_ASSERT_STRING_EQUAL(l.cfg->sources[3].url, "file:///srv/z.json");
	unload(&l);
}

static void test_resolve_url(void)
{
	char *u = config_resolve_url("file:a/b.json", "/etc/modelfuse");
	CU_ASSERT_STRING_EQUAL(u, "file:///etc/modelfuse/a/b.json");
	free(u);
	u = config_resolve_url("file:b.json", "/");
	CU_ASSERT_STRING_EQUAL(u, "file:///b.json");
	free(u);
	/* Characters a URL would misread are escaped in the folder part. */
	u = config_resolve_url("file:b.json", "/my dir/50%#x");
	CU_ASSERT_STRING_EQUAL(u, "file:///my%20dir/50%25%23x/b.json");
	free(u);
	u = config_resolve_url("https://example.org/a?b=c", "/etc");
	CU_ASSERT_STRING_EQUAL(u, "https://example.org/a?b=c");
	free(u);
	u = config_resolve_url("file:/x", NULL);
	CU_ASSERT_STRING_EQUAL(u, "file:///x");
	free(u);
}

static void test_http_url_unchanged(void)
{
	struct loaded l;
	load(&l, "[source a]\nurl = http://localhost:8080/models?x=1;y=2\n");
	CU_ASSERT(count_is(&l.errs, 0));
	CU_ASSERT_STRING_EQUAL(l.cfg->sources[0].url, "http://localhost:8080/models?x=1;y=2");
	unload(&l);
}

static void test_bad_urls(void)
{
	struct loaded l;
	load(&l, "[source a]\nurl = ftp://example.org/models.json\n"
		 "[source b]\nurl = models.json\n"
		 "[source c]\nurl = https://\n"
		 "[source d]\nurl = file://otherhost/x.json\n"
		 "[source e]\nurl = file:\n");
	CU_ASSERT(count_is(&l.errs, 5));
	CU_ASSERT(has_error(&l, &l.errs, 2, "only https, http and file URLs are allowed", "url"));
	CU_ASSERT(has_error(&l, &l.errs, 2, "ftp://example.org/models.json", "[source a]"));
	CU_ASSERT(has_error(&l, &l.errs, 4, "only https, http and file URLs are allowed", NULL));
	CU_ASSERT(has_error(&l, &l.errs, 6, "url", "no host"));
	CU_ASSERT(has_error(&l, &l.errs, 8, "url", "local file"));
	/* "file:" alone names nothing. */
	CU_ASSERT(has_error(&l, &l.errs, 10, "url", "no file"));
	CU_ASSERT_PTR_NULL(l.cfg->sources[0].url);
	unload(&l);
}

static void test_long_url_preserved(void)
{
	size_t n = 5000;
	char *url = malloc(n + 1);
	strcpy(url, "https://example.org/");
	for (size_t i = strlen(url); i < n; i++)
		url[i] = (char)('a' + i % 26);
	url[n] = '\0';
	char *text = NULL;
	CU_ASSERT_FATAL(asprintf(&text, "[source a]\nurl = %s\nttl_hours = 2\n", url) > 0);
	struct loaded l;
	load(&l, text);
	CU_ASSERT(count_is(&l.errs, 0));
	CU_ASSERT_EQUAL(strlen(l.cfg->sources[0].url), n);
	CU_ASSERT_STRING_EQUAL(l.cfg->sources[0].url, url);
	CU_ASSERT(near(l.cfg->sources[0].ttl_hours, 2));
	unload(&l);
	free(text);
	free(url);
}

static void test_too_long_line(void)
{
	/* Over the 1 MiB limit: an error naming the line, never a cut value. */
	size_t n = (1 << 20) + 100;
	char *text = malloc(n + 128);
	int k = sprintf(text, "[source a]\nurl = https://example.org/");
	memset(text + k, 'x', n);
	static const char tail[] = "\nttl_hours = 3\n[core]\njobs = 0\n";
	memcpy(text + k + n, tail, sizeof tail);
	struct loaded l;
	load(&l, text);
	CU_ASSERT(has_error(&l, &l.errs, 2, "line too long", NULL));
	CU_ASSERT_PTR_NULL(l.cfg->sources[0].url);
	CU_ASSERT(near(l.cfg->sources[0].ttl_hours, 3));
	/* Counting goes on right after it. */
	CU_ASSERT(has_error(&l, &l.errs, 5, "jobs", NULL));
	CU_ASSERT(count_is(&l.errs, 2));
	unload(&l);
	free(text);
}

/* ------------------------------------------------------------- errors */

static void test_missing_file(void)
{
	struct errors errs = {0};
	struct config *cfg = config_load("/nonexistent/dir/modelfuse.ini", &errs);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(count_is(&errs, 1));
	CU_ASSERT(errors_contains(&errs, "/nonexistent/dir/modelfuse.ini: cannot read: "
					 "No such file or directory"));
	errors_free(&errs);

	/* A folder is not a config file either. */
	char *tmp = tu_tmpdir();
	cfg = config_load(tmp, &errs);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(errors_contains(&errs, "cannot read: Is a directory"));
	errors_free(&errs);
	tu_rm_rf(tmp);
	free(tmp);
}

static void test_unknown_section(void)
{
	struct loaded l;
	load(&l, "[core]\njobs = 2\n\n[sources x]\nfoo = 1\n[Core]\n[categories coding]\n"
		 "weight = 1\n[core]\n");
	CU_ASSERT(has_error(&l, &l.errs, 4, "unknown section [sources x]", NULL));
	CU_ASSERT(has_error(&l, &l.errs, 6, "unknown section [Core]", NULL));
	CU_ASSERT(has_error(&l, &l.errs, 7, "unknown section [categories coding]", NULL));
	/* Names are case-sensitive: [Core] was not the [core] of line 1, the
	 * one at line 9 is its duplicate. */
	CU_ASSERT(has_error(&l, &l.errs, 9, "duplicate section [core]", "line 1"));
	/* Keys of a refused section are not reported again. */
	CU_ASSERT(count_is(&l.errs, 4));
	CU_ASSERT_EQUAL(l.cfg->jobs, 2);
	unload(&l);
}

static void test_unknown_core_key(void)
{
	struct loaded l;
	load(&l, "[core]\njobs = 2\nthreads = 4\n[mapper]\npath = x\n[provider p]\nexclude = a\n");
	CU_ASSERT(count_is(&l.errs, 3));
	CU_ASSERT(has_error(&l, &l.errs, 3, "unknown key 'threads' in [core]", "jobs"));
	CU_ASSERT(has_error(&l, &l.errs, 5, "unknown key 'path' in [mapper]", "overrides"));
	CU_ASSERT(has_error(&l, &l.errs, 7, "unknown key 'exclude' in [provider p]",
			    "exclude_models"));
	CU_ASSERT_EQUAL(l.cfg->jobs, 2);
	unload(&l);
}

static void test_bad_values(void)
{
	struct loaded l;
	load(&l, "[core]\n"
		 "jobs = abc\n"                  /* 2 */
		 "source_time_limit = 0\n"       /* 3 */
		 "connect_timeout_ms = -1\n"     /* 4 */
		 "max_pages = 10x\n"             /* 5 */
		 "max_body_bytes = 99999999999999999999\n" /* 6 */
		 "cache_dir =\n"                 /* 7 */
		 "[source a]\n"                  /* 8 */
		 "enabled = maybe\n"             /* 9 */
		 "precedence = high\n"           /* 10 */
		 "ttl_hours = -1\n"              /* 11 */
		 "shrink_ratio = 1.5\n"          /* 12 */
		 "time_limit = nan\n"            /* 13 */
		 "plugin = ../evil\n"            /* 14 */
		 "url =\n"                       /* 15 */
		 "jobs = 0\n");                  /* 16: a plugin option here, not core's */
	CU_ASSERT(has_error(&l, &l.errs, 2, "bad value 'abc' for jobs: ",
			    "expected a whole number >= 1"));
	CU_ASSERT(has_error(&l, &l.errs, 3, "'0' for source_time_limit", "> 0"));
	CU_ASSERT(has_error(&l, &l.errs, 4, "'-1' for connect_timeout_ms", NULL));
	CU_ASSERT(has_error(&l, &l.errs, 5, "'10x' for max_pages", NULL));
	CU_ASSERT(has_error(&l, &l.errs, 6, "for max_body_bytes", NULL));
	CU_ASSERT(has_error(&l, &l.errs, 7, "empty value for 'cache_dir'", NULL));
	CU_ASSERT(has_error(&l, &l.errs, 9, "'maybe' for enabled in [source a]", "yes or no"));
	CU_ASSERT(has_error(&l, &l.errs, 10, "'high' for precedence", NULL));
	CU_ASSERT(has_error(&l, &l.errs, 11, "'-1' for ttl_hours", NULL));
	CU_ASSERT(has_error(&l, &l.errs, 12, "'1.5' for shrink_ratio", NULL));
	CU_ASSERT(has_error(&l, &l.errs, 13, "'nan' for time_limit", NULL));
	CU_ASSERT(has_error(&l, &l.errs, 14, "'../evil' for plugin", NULL));
	CU_ASSERT(has_error(&l, &l.errs, 15, "empty value for 'url'", NULL));
	CU_ASSERT(count_is(&l.errs, 13));
	/* Refused values leave the defaults in place. */
	CU_ASSERT_EQUAL(l.cfg->max_pages, 1000);
	CU_ASSERT_STRING_EQUAL(l.cfg->cache_dir, "/var/cache/modelfuse");
	CU_ASSERT_TRUE(l.cfg->sources[0].enabled);
	CU_ASSERT_STRING_EQUAL(l.cfg->sources[0].plugin, "a");
	unload(&l);
}

/* The keys of the HTTP and cache service. */
static void test_fetch_keys(void)
{
	struct loaded l;
	load(&l, "[core]\nretries = 0\nbackoff_ms = 250\nretry_after_max = 1.5\n"
		 "[source arena]\nrefresh_command = git -C \"{dir}/my repo\" pull\n"
		 "refresh_time_limit = 45\npath = {dir}/leaderboard text.json\n"
		 "[source local]\npath = data/over lay.json\n"
		 "[core]\n");
	/* (the second [core] is only there to be refused: keys above stand) */
	CU_ASSERT(count_is(&l.errs, 1));
	const struct config *cfg = l.cfg;
	CU_ASSERT_EQUAL(cfg->retries, 0);
	CU_ASSERT_EQUAL(cfg->backoff_ms, 250);
	CU_ASSERT(near(cfg->retry_after_max, 1.5));
	CU_ASSERT_EQUAL_FATAL(cfg->n_sources, 2);
	const struct source_config *arena = &cfg->sources[0];
	CU_ASSERT_STRING_EQUAL(arena->refresh_command, "git -C \"{dir}/my repo\" pull");
	CU_ASSERT(near(arena->refresh_time_limit, 45));
	/* {dir} is cache_dir/NAME/refresh; the URL is the path's, encoded. */
	CU_ASSERT_STRING_EQUAL(arena->path,
			       "/var/cache/modelfuse/arena/refresh/leaderboard text.json");
	CU_ASSERT_STRING_EQUAL(arena->url,
			       "file:///var/cache/modelfuse/arena/refresh/leaderboard%20text.json");
	char *dir = config_refresh_dir(cfg, arena);
	CU_ASSERT_STRING_EQUAL(dir, "/var/cache/modelfuse/arena/refresh");
	free(dir);
	/* A relative path is the config folder's. */
	char *want = xasprintf("%s/data/over lay.json", l.dir);
	CU_ASSERT_STRING_EQUAL(cfg->sources[1].path, want);
	free(want);
	CU_ASSERT(str_starts_with(cfg->sources[1].url, "file:///"));
	CU_ASSERT_PTR_NOT_NULL(strstr(cfg->sources[1].url, "/data/over%20lay.json"));
	unload(&l);

	/* {dir} follows a cache_dir set after the source. */
	load(&l, "[source arena]\npath = {dir}/x.json\n[core]\ncache_dir = c\n");
	CU_ASSERT(count_is(&l.errs, 0));
	want = xasprintf("%s/c/arena/refresh/x.json", l.dir);
	CU_ASSERT_STRING_EQUAL(l.cfg->sources[0].path, want);
	free(want);
	unload(&l);

	load(&l, "[core]\n"
		 "retries = -1\n"                /* 2 */
		 "backoff_ms = 1.5\n"            /* 3 */
		 "retry_after_max = soon\n"      /* 4 */
		 "[source a]\n"                  /* 5 */
		 "url = https://example.com/\n"  /* 6 */
		 "path = a.json\n"               /* 7 */
		 "refresh_command = say \"hi\n" /* 8 */
		 "refresh_time_limit = 0\n"      /* 9 */
		 "[source b]\n"                  /* 10 */
		 "path = b.json\n"               /* 11 */
		 "url = https://example.com/\n"  /* 12 */
		 "refresh_command = \"\"\n");  /* 13: an empty word is a word */
	CU_ASSERT(has_error(&l, &l.errs, 2, "'-1' for retries", "from 0 to 100"));
	CU_ASSERT(has_error(&l, &l.errs, 3, "'1.5' for backoff_ms", "milliseconds"));
	CU_ASSERT(has_error(&l, &l.errs, 4, "'soon' for retry_after_max", "seconds"));
	CU_ASSERT(has_error(&l, &l.errs, 7, "'path' and 'url' cannot both be set in [source a]",
			    "url at line 6"));
	CU_ASSERT(has_error(&l, &l.errs, 8, "bad refresh_command in [source a]",
			    "a double quote is not closed"));
	CU_ASSERT(has_error(&l, &l.errs, 9, "'0' for refresh_time_limit", NULL));
	CU_ASSERT(has_error(&l, &l.errs, 12, "'url' and 'path' cannot both be set in [source b]",
			    "path at line 11"));
	CU_ASSERT(count_is(&l.errs, 7));
	CU_ASSERT_EQUAL(l.cfg->retries, 3);
	unload(&l);
}

static void test_split_command(void)
{
	static const struct {
		const char *line;
		const char *words; /* joined with '|'; NULL: refused */
	} cases[] = {
		{"git pull", "git|pull"},
		{"  sh   -c  \"a  b\"  ", "sh|-c|a  b"},
		{"cp \"{dir}/x y\"z w", "cp|{dir}/x yz|w"},
		{"tool \"\" end", "tool||end"},
		{"a\tb", "a|b"},
		{"bad \"quote", NULL},
		{"   ", NULL},
		{"", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char **argv = NULL;
		char err[128] = "";
		int rc = config_split_command(cases[i].line, &argv, err, sizeof err);
		if (!cases[i].words) {
			CU_ASSERT_EQUAL(rc, -1);
			CU_ASSERT_PTR_NULL(argv);
			CU_ASSERT(err[0] != '\0');
			continue;
		}
		CU_ASSERT_EQUAL_FATAL(rc, 0);
		struct strbuf sb;
		strbuf_init(&sb);
		for (size_t k = 0; argv[k]; k++)
			strbuf_printf(&sb, "%s%s", k ? "|" : "", argv[k]);
		CU_ASSERT_STRING_EQUAL(sb.data ? sb.data : "", cases[i].words);
		strbuf_free(&sb);
		config_free_argv(argv);
	}
}

static void test_good_value_spellings(void)
{
	struct loaded l;
	load(&l, "[source a]\nenabled = Off\nshrink_ratio = 1\nttl_hours = 0.5\n"
		 "[source b]\nenabled = TRUE\n[source c]\nenabled = 0\n");
	CU_ASSERT(count_is(&l.errs, 0));
	CU_ASSERT_FALSE(l.cfg->sources[0].enabled);
	CU_ASSERT(near(l.cfg->sources[0].shrink_ratio, 1));
	CU_ASSERT(near(l.cfg->sources[0].ttl_hours, 0.5));
	CU_ASSERT_TRUE(l.cfg->sources[1].enabled);
	CU_ASSERT_FALSE(l.cfg->sources[2].enabled);
	unload(&l);
}

static void test_duplicate_key(void)
{
	struct loaded l;
	load(&l, "[core]\njobs = 2\n; comment\njobs = 3\n[source a]\nkind = x\nkind = y\n"
		 "[source b]\nkind = z\n");
	CU_ASSERT(count_is(&l.errs, 2));
	CU_ASSERT(has_error(&l, &l.errs, 4, "duplicate key 'jobs' in [core]", "line 2"));
	CU_ASSERT(has_error(&l, &l.errs, 7, "duplicate key 'kind' in [source a]", "line 6"));
	CU_ASSERT_EQUAL(l.cfg->jobs, 2);
	CU_ASSERT_EQUAL(l.cfg->sources[0].n_options, 1);
	unload(&l);
}

static void test_duplicate_section(void)
{
	struct loaded l;
	load(&l, "[core]\n[source x]\n\n[source  x]\nurl = https://a.example/\n[core]\n"
		 "[provider x]\n[mapper]\n[mapper]\n");
	CU_ASSERT(count_is(&l.errs, 3));
	CU_ASSERT(has_error(&l, &l.errs, 4, "duplicate section [source x]", "line 2"));
	CU_ASSERT(has_error(&l, &l.errs, 6, "duplicate section [core]", "line 1"));
	CU_ASSERT(has_error(&l, &l.errs, 9, "duplicate section [mapper]", "line 8"));
	/* The duplicate's keys are not applied to the first one. */
	CU_ASSERT_EQUAL(l.cfg->n_sources, 1);
	CU_ASSERT_PTR_NULL(l.cfg->sources[0].url);
	CU_ASSERT_EQUAL(l.cfg->n_providers, 1);
	unload(&l);
}

static void test_bad_section_name(void)
{
	struct loaded l;
	load(&l, "[source my/src]\n[source]\n[source a b]\n[provider ..]\n[core x]\n"
		 "[source ok.name_1-2]\n");
	CU_ASSERT(count_is(&l.errs, 5));
	CU_ASSERT(has_error(&l, &l.errs, 1, "bad name 'my/src'", "[source my/src]"));
	CU_ASSERT(has_error(&l, &l.errs, 2, "[source]", "NAME"));
	CU_ASSERT(has_error(&l, &l.errs, 3, "[source a b]", "one name"));
	CU_ASSERT(has_error(&l, &l.errs, 4, "bad name '..'", NULL));
	CU_ASSERT(has_error(&l, &l.errs, 5, "[core] takes no name", NULL));
	CU_ASSERT_EQUAL_FATAL(l.cfg->n_sources, 1);
	CU_ASSERT_STRING_EQUAL(l.cfg->sources[0].name, "ok.name_1-2");
	unload(&l);
}

static void test_long_section_name(void)
{
	/* inih itself keeps only 49 bytes of a section name; we do not. */
	const char *name = "a-very-long-instance-name-that-goes-past-fifty-bytes-of-inih";
	char *text = NULL;
	CU_ASSERT_FATAL(asprintf(&text, "[source %s]\nplugin = anyllm\n", name) > 0);
	struct loaded l;
	load(&l, text);
	CU_ASSERT(count_is(&l.errs, 0));
	CU_ASSERT_EQUAL_FATAL(l.cfg->n_sources, 1);
	CU_ASSERT_STRING_EQUAL(l.cfg->sources[0].name, name);
	CU_ASSERT_STRING_EQUAL(l.cfg->sources[0].plugin, "anyllm");
	unload(&l);
	free(text);
}

static void test_syntax_errors(void)
{
	struct loaded l;
	load(&l, "jobs = 1\n"                   /* 1: before any section */
		 "[core\n"                      /* 2 */
		 "jobs = 2\n"                   /* 3: ignored, its section was refused */
		 "[core]\n"                     /* 4 */
		 "jobs 4\n"                     /* 5: no '=' */
		 "jobs = 5\n"                   /* 6 */
		 "   continued\n"               /* 7: multi-line values are off */
		 "= 7\n"                        /* 8 */
		 "[mapper] junk\n"              /* 9 */
		 "[source a] ; a comment is fine\n" /* 10 */
		 "ttl_hours: 3 ; colon form\n"); /* 11 */
	CU_ASSERT(has_error(&l, &l.errs, 1, "outside of any section", "jobs"));
	CU_ASSERT(has_error(&l, &l.errs, 2, "without ']'", NULL));
	CU_ASSERT(has_error(&l, &l.errs, 5, "expected 'key = value'", NULL));
	CU_ASSERT(has_error(&l, &l.errs, 7, "continuation", NULL));
	CU_ASSERT(has_error(&l, &l.errs, 8, "missing key", NULL));
	CU_ASSERT(has_error(&l, &l.errs, 9, "after the section header", NULL));
	CU_ASSERT(count_is(&l.errs, 6));
	CU_ASSERT_EQUAL(l.cfg->jobs, 5);
	CU_ASSERT_EQUAL_FATAL(l.cfg->n_sources, 1);
	CU_ASSERT_EQUAL(l.cfg->sources[0].line, 10);
	CU_ASSERT(near(l.cfg->sources[0].ttl_hours, 3));
	unload(&l);
}

static void test_line_counting(void)
{
	/* Comments, blank lines, CRLF, a BOM and a long line (read by inih in
	 * several pieces) must not shift the line numbers. */
	char *longval = malloc(3001);
	memset(longval, 'v', 3000);
	longval[3000] = '\0';
	char *text = NULL;
	CU_ASSERT_FATAL(asprintf(&text,
				 "\xEF\xBB\xBF; top comment\n" /* 1 */
				 "\n"                           /* 2 */
				 "# another\r\n"                /* 3 */
				 "[source a]\r\n"               /* 4 */
				 "long = %s\n"                  /* 5 */
				 "    \n"                       /* 6 */
				 "; %s\n"                       /* 7 */
				 "bogus\n"                      /* 8 */
				 "after = 1\r\n"                /* 9 */
				 "\n\n\n"                       /* 10-12 */
				 "[core]\n"                     /* 13 */
				 "jobs = none\n",               /* 14 */
				 longval, longval) > 0);
	struct loaded l;
	load(&l, text);
	CU_ASSERT(count_is(&l.errs, 2));
	CU_ASSERT(has_error(&l, &l.errs, 8, "expected 'key = value'", NULL));
	CU_ASSERT(has_error(&l, &l.errs, 14, "for jobs", NULL));
	CU_ASSERT_EQUAL_FATAL(l.cfg->n_sources, 1);
	const struct source_config *src = &l.cfg->sources[0];
	CU_ASSERT_EQUAL(src->line, 4);
	CU_ASSERT_EQUAL_FATAL(src->n_options, 2);
	CU_ASSERT_EQUAL(src->options[0].line, 5);
	CU_ASSERT_STRING_EQUAL(src->options[0].value, longval);
	CU_ASSERT_EQUAL(src->options[1].line, 9);
	CU_ASSERT_STRING_EQUAL(src->options[1].key, "after");
	CU_ASSERT_STRING_EQUAL(src->options[1].value, "1");
	unload(&l);
	free(text);
	free(longval);
}

static void test_all_errors_collected(void)
{
	struct loaded l;
	load(&l, "[core]\njobs = x\nmax_pages = y\n[nope]\n[source a]\nurl = gopher://h/\n");
	CU_ASSERT(count_is(&l.errs, 4));
	CU_ASSERT(has_error(&l, &l.errs, 2, "jobs", NULL));
	CU_ASSERT(has_error(&l, &l.errs, 3, "max_pages", NULL));
	CU_ASSERT(has_error(&l, &l.errs, 4, "unknown section [nope]", NULL));
	CU_ASSERT(has_error(&l, &l.errs, 6, "url", NULL));
	unload(&l);
}

/* ------------------------------------------------------------- plugin options */

static const struct mf_option test_options[] = {
	{.name = "kind", .type = MF_OPT_STRING, .default_value = "openai", .help = "api flavour"},
	{.name = "max_models", .type = MF_OPT_INT, .default_value = "100"},
	{.name = "reasoning", .type = MF_OPT_BOOL},
	{.name = "weight", .type = MF_OPT_REAL},
	{.name = "org", .type = MF_OPT_STRING, .required = true},
	{.name = "api_key", .type = MF_OPT_STRING, .secret = true},
	{.name = "api_key_env", .type = MF_OPT_STRING},
	{.name = "token", .type = MF_OPT_INT, .secret = true},
	{.name = NULL},
};

static const struct mf_plugin test_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "anyllm",
	.version = "1.0.0",
	.options = test_options,
};

static void test_check_options_ok(void)
{
	struct loaded l;
	load(&l, "[source x]\nplugin = anyllm\norg = acme\nmax_models = 7\nreasoning = yes\n"
		 "weight = 0.5\napi_key_env = X_KEY\n");
	CU_ASSERT(count_is(&l.errs, 0));
	const struct source_config *src = &l.cfg->sources[0];
	struct errors errs = {0};
	CU_ASSERT_EQUAL(config_check_options(l.cfg, src, &test_plugin, &errs), 0);
	CU_ASSERT(count_is(&errs, 0));
	CU_ASSERT_STRING_EQUAL(config_option(src, &test_plugin, "max_models"), "7");
	CU_ASSERT_STRING_EQUAL(config_option(src, &test_plugin, "org"), "acme");
	/* Not configured: the declared default, else NULL. */
	CU_ASSERT_STRING_EQUAL(config_option(src, &test_plugin, "kind"), "openai");
	CU_ASSERT_PTR_NULL(config_option(src, &test_plugin, "api_key"));
	CU_ASSERT_PTR_NULL(config_option(src, &test_plugin, "undeclared"));
	errors_free(&errs);
	unload(&l);
}

static void test_check_options_errors(void)
{
	struct loaded l;
	load(&l, "[source x]\n"          /* 1 */
		 "plugin = anyllm\n"     /* 2 */
		 "modle = gpt\n"         /* 3 */
		 "max_models = many\n"   /* 4 */
		 "reasoning = perhaps\n" /* 5 */
		 "weight = 1e\n"         /* 6 */
		 "kind = gemini\n");     /* 7 */
	CU_ASSERT(count_is(&l.errs, 0));
	struct errors errs = {0};
	int n = config_check_options(l.cfg, &l.cfg->sources[0], &test_plugin, &errs);
	CU_ASSERT_EQUAL(n, 5);
	CU_ASSERT(count_is(&errs, 5));
	CU_ASSERT(has_error(&l, &errs, 3, "unknown key 'modle' in [source x]",
			    "(plugin anyllm accepts: kind, max_models, reasoning, weight, org, "
			    "api_key, api_key_env, token)"));
	CU_ASSERT(has_error(&l, &errs, 4, "bad value 'many' for 'max_models'", "an integer"));
	CU_ASSERT(has_error(&l, &errs, 5, "'reasoning'", "yes or no"));
	CU_ASSERT(has_error(&l, &errs, 6, "'weight'", "a number"));
	/* The missing required option is reported at the section's line. */
	CU_ASSERT(has_error(&l, &errs, 1, "needs 'org'", "anyllm"));
	errors_free(&errs);

	/* A plugin that declares no options accepts none. */
	struct mf_plugin bare = test_plugin;
	bare.options = NULL;
	n = config_check_options(l.cfg, &l.cfg->sources[0], &bare, &errs);
	CU_ASSERT_EQUAL(n, 5);
	CU_ASSERT(has_error(&l, &errs, 7, "unknown key 'kind'", "accepts no options"));
	errors_free(&errs);
	unload(&l);
}

static void test_secret_in_shared_file(void)
{
	const char *text = "[source x]\nplugin = anyllm\norg = acme\n"
			   "api_key = sk-VERYSECRET-1234\ntoken = 9876543210\n";
	struct loaded l;
	load_mode(&l, text, 0644);
	CU_ASSERT_FALSE(l.cfg->file_private);
	CU_ASSERT(count_is(&l.errs, 0));
	struct errors errs = {0};
	int n = config_check_options(l.cfg, &l.cfg->sources[0], &test_plugin, &errs);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT(has_error(&l, &errs, 4, "'api_key' is a secret",
			    "name the variable with api_key_env"));
	CU_ASSERT(has_error(&l, &errs, 4, "mode 0600", l.path));
	/* No `token_env` is declared, so none is suggested. */
	CU_ASSERT(has_error(&l, &errs, 5, "'token' is a secret", NULL));
	CU_ASSERT_FALSE(errors_contains(&errs, "token_env"));
	CU_ASSERT_FALSE(errors_contains(&errs, "VERYSECRET"));
	CU_ASSERT_FALSE(errors_contains(&errs, "9876543210"));
	errors_free(&errs);
	unload(&l);

	/* Group-readable is not private either. */
	load_mode(&l, text, 0640);
	CU_ASSERT_FALSE(l.cfg->file_private);
	unload(&l);
}

static void test_secret_in_private_file(void)
{
	struct loaded l;
	load_mode(&l, "[source x]\nplugin = anyllm\norg = acme\napi_key = sk-VERYSECRET-1234\n"
		      "token = not-a-number-SECRET2\n",
		  0600);
	CU_ASSERT_TRUE(l.cfg->file_private);
	struct errors errs = {0};
	int n = config_check_options(l.cfg, &l.cfg->sources[0], &test_plugin, &errs);
	/* api_key is fine here; token still has to be an integer, and its
	 * value stays out of the message. */
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT(has_error(&l, &errs, 5, "bad value for 'token'", "an integer"));
	CU_ASSERT_FALSE(errors_contains(&errs, "SECRET"));
	CU_ASSERT_STRING_EQUAL(config_option(&l.cfg->sources[0], &test_plugin, "api_key"),
			       "sk-VERYSECRET-1234");
	errors_free(&errs);
	unload(&l);
}

/* ------------------------------------------------------------- the rest */

static void test_exclude_models(void)
{
	struct loaded l;
	load(&l, "[provider openai]\nexclude_models = a ,b*,, ,  c-1 \n"
		 "[provider anthropic]\nexclude_models = ,\n"
		 "[provider x-ai]\nexclude_models = grok-2 ; comment\n");
	CU_ASSERT(count_is(&l.errs, 0));
	CU_ASSERT_EQUAL_FATAL(l.cfg->n_providers, 3);
	const struct provider_config *p = &l.cfg->providers[0];
	CU_ASSERT_STRING_EQUAL(p->name, "openai");
	CU_ASSERT_EQUAL_FATAL(p->n_exclude, 3);
	CU_ASSERT_STRING_EQUAL(p->exclude_models[0], "a");
	CU_ASSERT_STRING_EQUAL(p->exclude_models[1], "b*");
	CU_ASSERT_STRING_EQUAL(p->exclude_models[2], "c-1");
	CU_ASSERT_EQUAL(l.cfg->providers[1].n_exclude, 0);
	CU_ASSERT_EQUAL_FATAL(l.cfg->providers[2].n_exclude, 1);
	CU_ASSERT_STRING_EQUAL(l.cfg->providers[2].exclude_models[0], "grok-2");
	unload(&l);
}

static void test_mapper_overrides(void)
{
	struct loaded l;
	load(&l, "[mapper]\noverrides = none\n");
	CU_ASSERT(count_is(&l.errs, 0));
	CU_ASSERT_TRUE(l.cfg->mapper_overrides_set);
	CU_ASSERT_PTR_NULL(l.cfg->mapper_overrides);
	unload(&l);

	load(&l, "[mapper]\noverrides = local/overrides.json\n");
	CU_ASSERT(count_is(&l.errs, 0));
	CU_ASSERT_TRUE(l.cfg->mapper_overrides_set);
	char *expect = NULL;
	CU_ASSERT(asprintf(&expect, "%s/local/overrides.json", l.dir) > 0);
	CU_ASSERT_STRING_EQUAL(l.cfg->mapper_overrides, expect);
	free(expect);
	unload(&l);

	load(&l, "[mapper]\noverrides = /etc/mf/o.json\n");
	CU_ASSERT_STRING_EQUAL(l.cfg->mapper_overrides, "/etc/mf/o.json");
	unload(&l);
}

static void test_default_path(void)
{
	unsetenv("MODELFUSE_CONFIG");
	CU_ASSERT_STRING_EQUAL(config_default_path(), "/etc/modelfuse/modelfuse.ini");
	setenv("MODELFUSE_CONFIG", "", 1);
	CU_ASSERT_STRING_EQUAL(config_default_path(), "/etc/modelfuse/modelfuse.ini");
	setenv("MODELFUSE_CONFIG", "/srv/mf.ini", 1);
	CU_ASSERT_STRING_EQUAL(config_default_path(), "/srv/mf.ini");
	unsetenv("MODELFUSE_CONFIG");
}

static void test_relative_config_path(void)
{
	/* A config given as a bare file name resolves against the working folder. */
	char *tmp = tu_tmpdir();
	char *dir = realpath(tmp, NULL);
	char *path = tu_write_file(tmp, "m.ini", "[core]\noutput_dir = out\n");
	char *cwd = getcwd(NULL, 0);
	CU_ASSERT_FATAL(chdir(tmp) == 0);
	struct errors errs = {0};
	struct config *cfg = config_load("m.ini", &errs);
	CU_ASSERT_FATAL(chdir(cwd) == 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT(count_is(&errs, 0));
	CU_ASSERT_STRING_EQUAL(cfg->path, "m.ini");
	CU_ASSERT_STRING_EQUAL(cfg->dir, dir);
	char *expect = NULL;
	CU_ASSERT(asprintf(&expect, "%s/out", dir) > 0);
	CU_ASSERT_STRING_EQUAL(cfg->output_dir, expect);
	free(expect);
	config_free(cfg);
	errors_free(&errs);
	tu_rm_rf(tmp);
	free(cwd);
	free(path);
	free(dir);
	free(tmp);
}

static const struct tu_test tests[] = {
	{"full valid file", test_full_file},
	{"defaults without [core]", test_defaults_without_core},
	{"[core] after the sources", test_core_after_sources},
	{"plugin defaults to instance, two instances", test_plugin_instances},
	{"default and explicit precedence", test_precedence},
	{"relative file: URL", test_relative_file_url},
	{"config_resolve_url", test_resolve_url},
	{"http URL unchanged", test_http_url_unchanged},
	{"ftp and other bad URLs refused", test_bad_urls},
	{"5000-character URL preserved", test_long_url_preserved},
	{"line over the limit refused", test_too_long_line},
	{"missing file", test_missing_file},
	{"unknown section", test_unknown_section},
	{"unknown keys", test_unknown_core_key},
	{"bad int, bool and real values", test_bad_values},
	{"accepted value spellings", test_good_value_spellings},
	{"fetch and refresh keys", test_fetch_keys},
	{"refresh_command words", test_split_command},
	{"duplicate key", test_duplicate_key},
	{"duplicate section", test_duplicate_section},
	{"bad section name", test_bad_section_name},
	{"long section name", test_long_section_name},
	{"syntax errors", test_syntax_errors},
	{"line counting", test_line_counting},
	{"all errors collected", test_all_errors_collected},
	{"plugin options accepted", test_check_options_ok},
	{"plugin option errors", test_check_options_errors},
	{"secret refused in a 0644 file", test_secret_in_shared_file},
	{"secret accepted in a 0600 file", test_secret_in_private_file},
	{"exclude_models list", test_exclude_models},
	{"[mapper] overrides", test_mapper_overrides},
	{"MODELFUSE_CONFIG", test_default_path},
	{"relative config path", test_relative_config_path},
	{NULL, NULL},
};

int main(void)
{
	return tu_main("config", tests);
}
