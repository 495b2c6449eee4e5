/* The huggingface plugin's fetch plan (URL building, Link paging, stops)
 * and normalizer, driven through the real host table and record code on
 * fixtures in the shape of GET /api/models. The plugin is compiled into
 * this program, so its descriptor is called directly rather than loaded. */
#include "mf_build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "plugin_harness.h"
#include "testutil.h"

extern const struct mf_plugin modelfuse_plugin;

/* ------------------------------------------------------------ fetch set-up */

/* One configured instance: [source hf] with the given url and options
 * (kv: "key", "value", ..., NULL; url NULL: the plugin's default), after
 * init; what init logged is in s->log. */
static void setup_init(struct ph_source *s, const char *url, const char *const *kv)
{
	ph_source_setup(s, &modelfuse_plugin, "hf", url, kv);
	ph_source_init(s, &s->log);
}

/* A fetched page as the core hands it over, with one Link header value. */
struct fake_page {
	struct mf_page page;
	const char *link;
};

static const char *fake_header(const struct mf_page *page, const char *name)
{
	const struct fake_page *f = (const struct fake_page *)page;
	return strcasecmp(name, "Link") == 0 ? f->link : NULL;
}

/* What one fetch call planned. */
struct plan {
	int rc;
	char *url;  /* planned URL or NULL */
	char *auth; /* Authorization header value, or NULL */
	bool auth_is_auth;
	size_t n_headers;
	char *log;
};

static void plan_free(struct plan *p)
{
	free(p->url);
	free(p->auth);
	free(p->log);
}

/* fetch after a page at url holding data, whose Link header is link (NULL:
 * absent); url NULL means the first call (prev == NULL). */
static struct plan plan_after(struct ph_source *s, unsigned index, const char *url,
			      const char *data, const char *link)
{
	struct fake_page fp = {
		.page = ph_page(index, url, data, data ? strlen(data) : 0),
		.link = link,
	};
	fp.page.header = fake_header;
	struct mf_request req;
	request_init(&req);
	struct ph_capture c;
	ph_capture_begin(&c);
	struct plan p = {0};
	p.rc = modelfuse_plugin.fetch(&host_table, &s->ctx, s->state, url ? &fp.page : NULL,
				      &req);
	p.log = ph_capture_end(&c);
	p.url = req.url ? strdup(req.url) : NULL;
	p.n_headers = req.n_headers;
	for (size_t i = 0; i < req.n_headers; i++) {
		if (strcasecmp(req.headers[i].name, "Authorization") == 0) {
			free(p.auth);
			p.auth = strdup(req.headers[i].value);
			p.auth_is_auth = req.headers[i].is_auth;
		}
	}
	request_clear(&req);
	return p;
}

static struct plan plan_first(struct ph_source *s)
{
	return plan_after(s, 0, NULL, NULL, NULL);
}

/* The URL the first fetch plans for a configuration. */
static char *first_url(const char *url, const char *const *kv)
{
	struct ph_source s;
	setup_init(&s, url, kv);
	CU_ASSERT_EQUAL(s.init_rc, MF_OK);
	char *out = NULL;
	if (s.init_rc == MF_OK) {
		struct plan p = plan_first(&s);
		CU_ASSERT_EQUAL(p.rc, MF_OK);
		out = p.url ? strdup(p.url) : NULL;
		plan_free(&p);
	}
	ph_source_free(&s);
	return out ? out : strdup("(none)");
}

/* A page of n entries, as the listing sends them. */
static char *page_of(unsigned first, unsigned n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	fputc('[', f);
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "%s{\"_id\":\"%024x\",\"id\":\"org/model-%u\",\"downloads\":%u}",
			i ? "," : "", first + i, first + i, 1000 - first - i);
	fputc(']', f);
	fclose(f);
	return buf;
}

/* ------------------------------------------------------------ normalize set-up */

static void normalize_bytes(struct ph_run *r, const char *data, size_t size)
{
	ph_normalize_bytes(r, &modelfuse_plugin, NULL,
			   "https://huggingface.co/api/models?limit=100",
			   data, size);
}

static void normalize_fixture(struct ph_run *r, const char *name)
{
	char rel[256];
	snprintf(rel, sizeof(rel), "tests/fixtures/huggingface/%s", name);
	ph_normalize_fixture(r, &modelfuse_plugin, NULL,
			     "https://huggingface.co/api/models?limit=100",
			     rel);
}

/* ------------------------------------------------------------ tests: options, URL */

static void test_descriptor(void)
{
	ph_expect_descriptor(&modelfuse_plugin, "huggingface");
	CU_ASSERT_STRING_EQUAL(modelfuse_plugin.default_url, "https://huggingface.co/api/models");
	CU_ASSERT_PTR_NOT_NULL(modelfuse_plugin.init);
	CU_ASSERT_PTR_NOT_NULL(modelfuse_plugin.fetch);
	CU_ASSERT_PTR_NOT_NULL(modelfuse_plugin.normalize);
	CU_ASSERT_PTR_NOT_NULL(modelfuse_plugin.fini);

	static const char *const want[][2] = {
		{"pipeline_tag", "text-generation"}, {"sort", "downloads"}, {"direction", "-1"},
		{"limit", "100"}, {"author", NULL}, {"search", NULL}, {"filter", NULL},
		{"expand", NULL}, {"max_models", "1000"}, {"api_key_env", NULL},
	};
	size_t n = 0;
	for (const struct mf_option *o = modelfuse_plugin.options; o && o->name; o++) {
		CU_ASSERT_FATAL(n < sizeof(want) / sizeof(want[0]));
		CU_ASSERT_STRING_EQUAL(o->name, want[n][0]);
		if (want[n][1]) {
			CU_ASSERT(o->default_value && strcmp(o->default_value, want[n][1]) == 0);
		} else {
			CU_ASSERT_PTR_NULL(o->default_value);
		}
		CU_ASSERT_FALSE(o->required);
		CU_ASSERT_FALSE(o->secret);
		CU_ASSERT_PTR_NOT_NULL(o->help);
		n++;
	}
	CU_ASSERT_EQUAL(n, sizeof(want) / sizeof(want[0]));
}

static void test_default_url(void)
{
	/* Without a [source] section at all: declared defaults only. */
	struct ph_run r;
	ph_run_setup(&r, &modelfuse_plugin, NULL);
	void *state = NULL;
	CU_ASSERT_EQUAL_FATAL(modelfuse_plugin.init(&host_table, &r.ctx, &state), MF_OK);
	/* Exactly SPEC §4's upstream URL. */
	CU_ASSERT_EQUAL(ph_expect_fetch(&modelfuse_plugin, &r.ctx, state, NULL,
					"https://huggingface.co/api/models?pipeline_tag=text-"
					"generation&sort=downloads&direction=-1&limit=100"),
			0);
	modelfuse_plugin.fini(&host_table, &r.ctx, state);
	ph_run_free(&r);

	/* The same through a configured section without options. */
	char *url = first_url(NULL, NULL);
	CU_ASSERT_STRING_EQUAL(url, "https://huggingface.co/api/models?pipeline_tag=text-"
				    "generation&sort=downloads&direction=-1&limit=100");
	free(url);
}

static void test_url_every_option(void)
{
	static const char *const kv[] = {
		"pipeline_tag", "text-generation",
		"sort", "likes",
		"direction", "1",
		"limit", "50",
		"author", "meta-llama",
		"search", "Llama 3.1 & co/=+#%\xc3\xa9",
		"filter", "license:mit, gguf,,",
		"expand", " safetensors, cardData ,gated",
		"max_models", "500",
		NULL,
	};
	char *url = first_url(NULL, kv);
	CU_ASSERT_STRING_EQUAL(url,
			       "https://huggingface.co/api/models?pipeline_tag=text-generation"
			       "&sort=likes&direction=1&limit=50&author=meta-llama"
			       "&search=Llama%203.1%20%26%20co%2F%3D%2B%23%25%C3%A9"
			       "&filter=license%3Amit&filter=gguf"
			       "&expand%5B%5D=safetensors&expand%5B%5D=cardData"
			       "&expand%5B%5D=gated");
	free(url);

	/* Empty values leave their parameter out; without a sort key the
	 * direction means nothing and is left out too. */
	static const char *const empty[] = {
		"pipeline_tag", "", "sort", "", "author", "", "expand", " , ", NULL,
	};
	url = first_url(NULL, empty);
	CU_ASSERT_STRING_EQUAL(url, "https://huggingface.co/api/models?limit=100");
	free(url);

	/* A page larger than max_models is not asked for. */
	static const char *const small[] = {"max_models", "20", NULL};
	url = first_url(NULL, small);
	CU_ASSERT_PTR_NOT_NULL(strstr(url, "&limit=20"));
	free(url);
	static const char *const unlimited[] = {"max_models", "0", "limit", "1000", NULL};
	url = first_url(NULL, unlimited);
	CU_ASSERT_PTR_NOT_NULL(strstr(url, "&limit=1000"));
	free(url);
}

static void test_url_existing_query(void)
{
	static const char *const kv[] = {"pipeline_tag", "", "sort", "", "limit", "5", NULL};

	char *url = first_url("https://hub.example/api/models?full=true", kv);
	CU_ASSERT_STRING_EQUAL(url, "https://hub.example/api/models?full=true&limit=5");
	free(url);

	/* Nothing doubled after a query that ends in a separator. */
	url = first_url("https://hub.example/api/models?", kv);
	CU_ASSERT_STRING_EQUAL(url, "https://hub.example/api/models?limit=5");
	free(url);
	url = first_url("https://hub.example/api/models?full=true&", kv);
	CU_ASSERT_STRING_EQUAL(url, "https://hub.example/api/models?full=true&limit=5");
	free(url);

	/* The query goes before a fragment, never into it. */
	url = first_url("HTTPS://hub.example/api/models?a=1#top", kv);
	CU_ASSERT_STRING_EQUAL(url, "HTTPS://hub.example/api/models?a=1&limit=5#top");
	free(url);
	url = first_url("http://127.0.0.1:8080/api/models#x?y", kv);
	CU_ASSERT_STRING_EQUAL(url, "http://127.0.0.1:8080/api/models?limit=5#x?y");
	free(url);

	/* A file snapshot is one page: its URL is used as it is. */
	url = first_url("file:///srv/mirror/hf%20models.json", kv);
	CU_ASSERT_STRING_EQUAL(url, "file:///srv/mirror/hf%20models.json");
	free(url);
}

static void test_bad_options(void)
{
	static const char *const cases[][3] = {
		{"limit", "0", "option limit is 0"},
		{"limit", "-5", "option limit is -5"},
		{"max_models", "-1", "option max_models is -1"},
		{"direction", "0", "option direction is 0"},
		{"direction", "2", "option direction is 2"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *kv[] = {cases[i][0], cases[i][1], NULL};
		struct ph_source s;
		setup_init(&s, NULL, kv);
		CU_ASSERT_EQUAL(s.init_rc, MF_EINVAL);
		CU_ASSERT_EQUAL(ph_count_lines(s.log, cases[i][2]), 1);
		CU_ASSERT_EQUAL(ph_count_lines(s.log, "hf: "), 1);
		ph_source_free(&s);
	}
}

static void test_access_token(void)
{
	static const char *const kv[] = {"api_key_env", "MF_TEST_HF_TOKEN", NULL};
	setenv("MF_TEST_HF_TOKEN", "hf_secretvalue", 1);
	struct ph_source s;
	setup_init(&s, NULL, kv);
	CU_ASSERT_EQUAL_FATAL(s.init_rc, MF_OK);
	CU_ASSERT_EQUAL(s.log[0], '\0');
	struct plan p = plan_first(&s);
	CU_ASSERT_EQUAL(p.rc, MF_OK);
	CU_ASSERT_EQUAL(p.n_headers, 1);
	CU_ASSERT(p.auth && strcmp(p.auth, "Bearer hf_secretvalue") == 0);
	CU_ASSERT(p.auth_is_auth);
	CU_ASSERT(p.url && !strstr(p.url, "secret"));
	plan_free(&p);

	/* Next pages carry it too (the core keeps it to the configured host). */
	char *data = page_of(0, 2);
	p = plan_after(&s, 0, "https://huggingface.co/api/models?limit=2", data,
		       "<https://huggingface.co/api/models?limit=2&cursor=Mg>; rel=\"next\"");
	CU_ASSERT_EQUAL(p.rc, MF_OK);
	CU_ASSERT(p.auth && p.auth_is_auth);
	plan_free(&p);
	free(data);
	ph_source_free(&s);

	/* Named but not set: anonymous, with a warning that names the variable
	 * (and nothing of any value). */
	unsetenv("MF_TEST_HF_TOKEN");
	setup_init(&s, NULL, kv);
	CU_ASSERT_EQUAL_FATAL(s.init_rc, MF_OK);
	CU_ASSERT_EQUAL(ph_count_lines(s.log, "MF_TEST_HF_TOKEN is not set"), 1);
	p = plan_first(&s);
	CU_ASSERT_EQUAL(p.rc, MF_OK);
	CU_ASSERT_EQUAL(p.n_headers, 0);
	plan_free(&p);
	ph_source_free(&s);
}

/* ------------------------------------------------------------ tests: paging */

#define HF_BASE "https://huggingface.co/api/models?pipeline_tag=text-generation&limit=2"

/* The next URL planned after a two-entry page at HF_BASE with this Link
 * header; "DONE" when fetch said so, "ERR" for anything else. */
static char *next_for(const char *link, char **log)
{
	struct ph_source s;
	setup_init(&s, NULL, NULL);
	char *data = page_of(0, 2);
	struct plan first = plan_first(&s);
	plan_free(&first);
	struct plan p = plan_after(&s, 0, HF_BASE, data, link);
	char *out = p.rc == MF_OK && p.url ? strdup(p.url)
		    : p.rc == MF_DONE     ? strdup("DONE")
					  : strdup("ERR");
	if (log)
		*log = strdup(p.log);
	plan_free(&p);
	free(data);
	ph_source_free(&s);
	return out;
}

static void expect_next(const char *link, const char *want)
{
	char *log = NULL;
	char *got = next_for(link, &log);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "\n  Link: %s\n  want: %s\n  got:  %s\n", link ? link : "(none)",
			want, got);
	CU_ASSERT_STRING_EQUAL(got, want);
	/* Parsing alone never warns; only the guards below do. */
	CU_ASSERT_EQUAL(log[0], '\0');
	free(got);
	free(log);
}

static void test_link_parsing(void)
{
	/* What the Hub sends. */
	expect_next("<https://huggingface.co/api/models?pipeline_tag=text-generation&limit=2"
		    "&cursor=eyIkb3IiOlt7fV19>; rel=\"next\"",
		    "https://huggingface.co/api/models?pipeline_tag=text-generation&limit=2"
		    "&cursor=eyIkb3IiOlt7fV19");
	/* Several links; next is not first. */
	expect_next("<https://h.example/api/models?p=1>; rel=\"prev\", "
		    "<https://h.example/api/models?p=3>; rel=\"next\", "
		    "<https://h.example/api/models?p=9>; rel=\"last\"",
		    "https://h.example/api/models?p=3");
	/* Unquoted rel, no spaces, odd case. */
	expect_next("<https://h.example/a?p=1>;rel=prev,<https://h.example/a?p=2>;REL=Next",
		    "https://h.example/a?p=2");
	/* Several relation types in one rel; spaces everywhere. */
	expect_next("  < https://h.example/a?p=2 >  ;  rel = \"last   next\"  ",
		    "https://h.example/a?p=2");
	/* Commas and semicolons inside the URL and inside a quoted parameter. */
	expect_next("<https://h.example/a?tags=a,b;c&p=2>; title=\"x, y; rel=next\"; "
		    "rel=\"next\"",
		    "https://h.example/a?tags=a,b;c&p=2");
	expect_next("<https://h.example/a?p=0>; title=\"x, <https://evil.example/>; rel=next\", "
		    "<https://h.example/a?p=2>; rel=\"next\"",
		    "https://h.example/a?p=2");
	/* Only a link's first rel counts (RFC 8288). */
	expect_next("<https://h.example/a?p=2>; rel=\"prev\"; rel=\"next\"", "DONE");
	/* "nextpage" is not "next". */
	expect_next("<https://h.example/a?p=2>; rel=\"nextpage\"", "DONE");
	/* No next link, or no header at all: the listing is over. */
	expect_next("<https://h.example/a?p=1>; rel=\"prev\"", "DONE");
	expect_next("", "DONE");
	expect_next(NULL, "DONE");
	/* Malformed parts cost only themselves. */
	expect_next("garbage; rel=next, <https://h.example/a?p=2>; rel=next",
		    "https://h.example/a?p=2");
	expect_next("<https://h.example/a?p=2; rel=next", "DONE");
	expect_next("<https://h.example/a?p=2>; rel=\"next", "https://h.example/a?p=2");
}

static void test_link_relative(void)
{
	expect_next("</api/models?cursor=Mg>; rel=\"next\"",
		    "https://huggingface.co/api/models?cursor=Mg");
	expect_next("<?limit=2&cursor=Mg>; rel=\"next\"",
		    "https://huggingface.co/api/models?limit=2&cursor=Mg");
	expect_next("<models2?c=1>; rel=\"next\"", "https://huggingface.co/api/models2?c=1");
	expect_next("<../v2/./models?c=1>; rel=\"next\"", "https://huggingface.co/v2/models?c=1");
	expect_next("<./x/../../y/>; rel=\"next\"", "https://huggingface.co/y/");
	expect_next("<../../../z>; rel=\"next\"", "https://huggingface.co/z");
	expect_next("<//mirror.example/api/models?c=2>; rel=\"next\"",
		    "https://mirror.example/api/models?c=2");
	expect_next("<HTTPS://Other.example/list>; rel=next", "HTTPS://Other.example/list");
}

static void test_link_guards(void)
{
	char *log = NULL;

	/* Never down to http from https, never to a local file. */
	char *got = next_for("<http://huggingface.co/api/models?cursor=Mg>; rel=\"next\"", &log);
	CU_ASSERT_STRING_EQUAL(got, "DONE");
	CU_ASSERT_EQUAL(ph_count_lines(log, "is not an https page"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(log, "stopping after 2 models"), 1);
	free(got);
	free(log);
	got = next_for("<file:///etc/passwd>; rel=\"next\"", &log);
	CU_ASSERT_STRING_EQUAL(got, "DONE");
	CU_ASSERT_EQUAL(ph_count_lines(log, "is not an https page"), 1);
	free(got);
	free(log);

	/* A link back to the page itself. */
	got = next_for("<" HF_BASE ">; rel=\"next\"", &log);
	CU_ASSERT_STRING_EQUAL(got, "DONE");
	CU_ASSERT_EQUAL(ph_count_lines(log, "leads to a page already fetched"), 1);
	free(got);
	free(log);
	/* ...also when written relatively, or as an empty reference. */
	got = next_for("<?pipeline_tag=text-generation&limit=2>; rel=next", &log);
	CU_ASSERT_STRING_EQUAL(got, "DONE");
	CU_ASSERT_EQUAL(ph_count_lines(log, "already fetched"), 1);
	free(got);
	free(log);
	got = next_for("<>; rel=next", &log);
	CU_ASSERT_STRING_EQUAL(got, "DONE");
	CU_ASSERT_EQUAL(ph_count_lines(log, "already fetched"), 1);
	free(got);
	free(log);
}

/* A -> B -> A: the loop guard remembers every page, not only the last. */
static void test_loop_over_pages(void)
{
	struct ph_source s;
	setup_init(&s, NULL, NULL);
	char *data = page_of(0, 2);
	struct plan p = plan_first(&s);
	char *a = strdup(p.url);
	plan_free(&p);
	p = plan_after(&s, 0, a, data, "<https://huggingface.co/api/models?cursor=B>; rel=next");
	CU_ASSERT_EQUAL(p.rc, MF_OK);
	plan_free(&p);
	char link[1024];
	snprintf(link, sizeof(link), "<%s>; rel=next", a);
	p = plan_after(&s, 1, "https://huggingface.co/api/models?cursor=B", data, link);
	CU_ASSERT_EQUAL(p.rc, MF_DONE);
	CU_ASSERT_PTR_NULL(p.url);
	CU_ASSERT_EQUAL(ph_count_lines(p.log, "already fetched; stopping after 4 models"), 1);
	plan_free(&p);
	free(a);
	free(data);
	ph_source_free(&s);
}

/* Planning a whole listing: page after page from the Link headers, until
 * the last page has no next link. */
static void test_paging_plan(void)
{
	static const char *const kv[] = {"limit", "3", "max_models", "0", NULL};
	struct ph_source s;
	setup_init(&s, NULL, kv);
	CU_ASSERT_EQUAL_FATAL(s.init_rc, MF_OK);

	struct plan p = plan_first(&s);
	CU_ASSERT_EQUAL(p.rc, MF_OK);
	CU_ASSERT_STRING_EQUAL(p.url, "https://huggingface.co/api/models?pipeline_tag=text-"
				      "generation&sort=downloads&direction=-1&limit=3");
	char *url = strdup(p.url);
	plan_free(&p);

	static const char *const cursors[] = {"MyJ9", "NiJ9", "OSJ9"};
	for (unsigned i = 0; i < 3; i++) {
		char *data = page_of(i * 3, 3);
		char next[512], link[600];
		snprintf(next, sizeof(next),
			 "https://huggingface.co/api/models?pipeline_tag=text-generation"
			 "&sort=downloads&direction=-1&limit=3&cursor=%s",
			 cursors[i]);
		snprintf(link, sizeof(link), "<%s>; rel=\"next\"", next);
		p = plan_after(&s, i, url, data, link);
		CU_ASSERT_EQUAL(p.rc, MF_OK);
		CU_ASSERT(p.url && strcmp(p.url, next) == 0);
		CU_ASSERT_EQUAL(p.log[0], '\0');
		plan_free(&p);
		free(url);
		url = strdup(next);
		free(data);
	}
	/* The fourth page is the last: no next link. */
	char *data = page_of(9, 2);
	p = plan_after(&s, 3, url, data, NULL);
	CU_ASSERT_EQUAL(p.rc, MF_DONE);
	CU_ASSERT_PTR_NULL(p.url);
	plan_free(&p);
	free(data);

	/* A new listing (a later run with the same state) starts over. */
	p = plan_first(&s);
	CU_ASSERT_EQUAL(p.rc, MF_OK);
	plan_free(&p);
	data = page_of(0, 3);
	p = plan_after(&s, 0, url, data, "<?cursor=MyJ9>; rel=next");
	CU_ASSERT_EQUAL(p.rc, MF_OK);
	plan_free(&p);
	free(data);
	free(url);
	ph_source_free(&s);
}

static void test_paging_stops(void)
{
	/* An empty page ends the listing even with a next link. */
	struct ph_source s;
	setup_init(&s, NULL, NULL);
	struct plan p = plan_first(&s);
	plan_free(&p);
	p = plan_after(&s, 0, HF_BASE, "[]", "<https://huggingface.co/api/models?c=2>; rel=next");
	CU_ASSERT_EQUAL(p.rc, MF_DONE);
	plan_free(&p);

	/* A page that is no array cannot be paged on. */
	p = plan_after(&s, 0, HF_BASE, "{\"error\":\"x\"}",
		       "<https://huggingface.co/api/models?c=2>; rel=next");
	CU_ASSERT_EQUAL(p.rc, MF_EPARSE);
	CU_ASSERT_EQUAL(ph_count_lines(p.log, "not a JSON array of models"), 1);
	plan_free(&p);
	ph_source_free(&s);

	/* No state (init never ran): refused, not crashed. */
	struct mf_request req;
	request_init(&req);
	CU_ASSERT_EQUAL(modelfuse_plugin.fetch(&host_table, &s.ctx, NULL, NULL, &req), MF_EINVAL);
	request_clear(&req);
}

/* max_models counts listed entries over the pages and stops there, next
 * link or not; the page in which it is reached is kept whole. */
static void test_max_models(void)
{
	static const char *const kv[] = {"limit", "2", "max_models", "5", NULL};
	struct ph_source s;
	setup_init(&s, NULL, kv);
	CU_ASSERT_EQUAL_FATAL(s.init_rc, MF_OK);
	struct plan p = plan_first(&s);
	CU_ASSERT(p.url && strstr(p.url, "&limit=2"));
	plan_free(&p);

	unsigned pages = 0;
	int rc = MF_OK;
	for (unsigned i = 0; i < 10 && rc == MF_OK; i++) {
		char *data = page_of(i * 2, 2);
		char url[128], link[160];
		snprintf(url, sizeof(url), "https://huggingface.co/api/models?limit=2&cursor=%u",
			 i);
		snprintf(link, sizeof(link),
			 "<https://huggingface.co/api/models?limit=2&cursor=%u>; rel=\"next\"",
			 i + 1);
		p = plan_after(&s, i, url, data, link);
		rc = p.rc;
		pages++;
		plan_free(&p);
		free(data);
	}
	CU_ASSERT_EQUAL(rc, MF_DONE);
	CU_ASSERT_EQUAL(pages, 3); /* 2 + 2 + 2 >= 5 */
	ph_source_free(&s);

	/* Exactly reached on a page boundary. */
	static const char *const four[] = {"limit", "2", "max_models", "4", NULL};
	setup_init(&s, NULL, four);
	p = plan_first(&s);
	plan_free(&p);
	char *data = page_of(0, 2);
	p = plan_after(&s, 0, HF_BASE, data, "<?cursor=1>; rel=next");
	CU_ASSERT_EQUAL(p.rc, MF_OK);
	plan_free(&p);
	p = plan_after(&s, 1, "https://huggingface.co/api/models?cursor=1", data,
		       "<?cursor=2>; rel=next");
	CU_ASSERT_EQUAL(p.rc, MF_DONE);
	plan_free(&p);
	free(data);
	ph_source_free(&s);
}

/* The entries fetch counts on a page at HF_BASE whose Link leads back to
 * the page itself: the loop guard says how many it saw. -1: no count (the
 * listing ended first), -2: refused as not an array. */
static long counted(const char *data, const char *link)
{
	struct ph_source s;
	setup_init(&s, NULL, NULL);
	struct plan p = plan_first(&s);
	plan_free(&p);
	p = plan_after(&s, 0, HF_BASE, data, link);
	long n = -1;
	const char *at = strstr(p.log, "stopping after ");
	if (p.rc == MF_EPARSE && ph_count_lines(p.log, "not a JSON array of models") == 1)
		n = -2;
	else if (p.rc == MF_DONE && at != NULL)
		n = strtol(at + strlen("stopping after "), NULL, 10);
	else if (p.rc != MF_DONE || p.log[0] != '\0')
		n = -3;
	plan_free(&p);
	ph_source_free(&s);
	return n;
}

/* What jansson counts: the reference the quick count must agree with. */
static long jansson_count(const char *data)
{
	json_t *root = json_loadb(data, strlen(data), JSON_ALLOW_NUL, NULL);
	long n = json_is_array(root) ? (long)json_array_size(root) : -2;
	json_decref(root);
	return n;
}

/* fetch counts a page's entries without parsing it, and only when a next
 * page would be asked for; whatever the shape, it agrees with jansson. */
static void test_page_count(void)
{
	static const char self[] = "<" HF_BASE ">; rel=\"next\"";
	char deep[300] = "[";
	for (int i = 0; i < 70; i++)
		strcat(deep, "[");
	for (int i = 0; i < 70; i++)
		strcat(deep, "]");
	strcat(deep, ",{}]");
	char *seven = page_of(0, 7);
	const char *const pages[] = {
	    /* Well-formed: strings hide brackets, commas and escaped quotes. */
	    "[{\"id\":\"a\"}]",
	    " \n\t[ {\"id\" : \"a\"} ,\r\n {\"id\":\"b\"} ] \n",
	    "[1, 22 ,333]",
	    "[\"a\", true, null, -1.5e3, [], {}]",
	    "[{\"id\":\"a]b,c\",\"x\":[1,{\"y\":\"}\"}]},{\"id\":\"c\\\\\"}]",
	    "[\"q\\\"],[\",\"\\\\\\\\\",\"\\\\\\\"\"]",
	    "[{\"t\":\"\\u005d\"},{\"t\":\"caf\xc3\xa9\"}]",
	    deep,
	    seven,
	    /* Malformed: jansson has the last word, as before. */
	    "{\"error\":\"rate limited\"}",
	    "[1,]",
	    "[,1]",
	    "[1 2]",
	    "[{\"id\":\"a\"}",
	    "[\"abc",
	    "[{]}",
	    "[{\"a\":[1}]",
	    "[] x",
	    "[\"a\"]]",
	    "",
	};
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		long want = jansson_count(pages[i]);
		long got = counted(pages[i], self);
		if (got != want)
			fprintf(stderr, "\n  page %s: counted %ld, jansson %ld\n", pages[i], got,
				want);
		CU_ASSERT_EQUAL(got, want);
	}
	/* The empty page ends the listing, next link or not. */
	CU_ASSERT_EQUAL(counted("[ ]", self), -1);

	/* Without a next link nothing is counted or parsed: even a page that
	 * is no array ends the listing quietly (normalize refuses it). */
	CU_ASSERT_EQUAL(counted("{\"error\":\"x\"}", NULL), -1);
	CU_ASSERT_EQUAL(counted("{\"error\":\"x\"}", "<https://h.example/a>; rel=\"prev\""), -1);
	free(seven);
}

/* ------------------------------------------------------------ tests: normalize */

static void test_minified_listing(void)
{
	struct ph_run r;
	normalize_fixture(&r, "models-minified.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 4);
	CU_ASSERT_EQUAL(r.ctx.rejected, 0);
	CU_ASSERT_EQUAL(r.log[0], '\0');
	for (size_t i = 0; i < r.records.count; i++) {
		const struct mf_record *rec = r.records.items[i];
		CU_ASSERT_EQUAL(rec->kind, MF_RECORD_MODEL);
		/* The repo id is the native id and the crosswalk. */
		CU_ASSERT(ph_string_is(rec, MF_FIELD_HF_ID, rec->native_id));
		CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_SOURCE_KEY));
		CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_PROVIDER));
		CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_STATUS));
	}

	const struct mf_record *rec = ph_find(&r.records, "meta-llama/Llama-3.1-8B-Instruct");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "meta-llama"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_LICENSE, "llama3.1"));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_DOWNLOADS, 5732541));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_LIKES, 4870));
	CU_ASSERT(ph_real_is(rec, MF_FIELD_TRENDING_SCORE, 62));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_LIBRARY, "transformers"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_PIPELINE, "text-generation"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_CREATED, "2024-07-18T08:56:00.000Z"));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_LAST_UPDATED));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_NAME));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_RELEASE_DATE));
	bool b;
	int64_t i;
	CU_ASSERT_FALSE(record_get_bool(rec, MF_FIELD_GATED, &b));
	CU_ASSERT_FALSE(record_get_int(rec, MF_FIELD_PARAMETERS, &i));
	/* Tags as given, in order, base_model crosswalk tags included. */
	const struct strlist *tags = record_get_list(rec, MF_FIELD_TAGS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tags);
	CU_ASSERT_EQUAL(tags->count, 24);
	CU_ASSERT_STRING_EQUAL(tags->items[0], "transformers");
	CU_ASSERT_STRING_EQUAL(tags->items[18], "base_model:meta-llama/Llama-3.1-8B");
	CU_ASSERT_STRING_EQUAL(tags->items[20], "license:llama3.1");
	CU_ASSERT_STRING_EQUAL(tags->items[23], "region:us");

	/* A legacy id without a namespace has no maker. */
	rec = ph_find(&r.records, "distilgpt2");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_MAKER));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_LICENSE, "apache-2.0"));
	CU_ASSERT(ph_real_is(rec, MF_FIELD_TRENDING_SCORE, 1.5));

	/* No pipeline_tag, no library_name: those fields stay unset. */
	rec = ph_find(&r.records, "unsloth/Qwen3-8B-GGUF");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "unsloth"));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_PIPELINE));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_LIBRARY));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_DOWNLOADS, 402117));
	ph_run_free(&r);
}

static void test_pretty_listing(void)
{
	struct ph_run r;
	normalize_fixture(&r, "models-pretty.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 5);
	CU_ASSERT_EQUAL(r.log[0], '\0');
	/* Records come out in listing order. */
	static const char *const order[] = {
		"deepseek-ai/DeepSeek-R1", "openai/gpt-oss-20b",
		"bartowski/Mistral-Small-3.2-24B-Instruct-2506-GGUF",
		"Comfy-Org/Wan_2.2_ComfyUI_Repackaged", "moonshotai/Kimi-K2-Instruct",
	};
	for (size_t i = 0; i < 5 && i < r.records.count; i++)
		CU_ASSERT_STRING_EQUAL(r.records.items[i]->native_id, order[i]);

	const struct mf_record *rec =
		ph_find(&r.records, "bartowski/Mistral-Small-3.2-24B-Instruct-2506-GGUF");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_PIPELINE, "text-generation"));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_LIBRARY));

	rec = ph_find(&r.records, "Comfy-Org/Wan_2.2_ComfyUI_Repackaged");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_PIPELINE));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_LIBRARY));
	static const char *const tags[] = {"diffusion-single-file", "comfyui", "license:apache-2.0",
					   "region:us"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_TAGS, tags, 4));

	rec = ph_find(&r.records, "moonshotai/Kimi-K2-Instruct");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_LICENSE, "other"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "moonshotai"));
	ph_run_free(&r);
}

static void test_expanded_listing(void)
{
	struct ph_run r;
	normalize_fixture(&r, "expanded.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 6);
	CU_ASSERT_EQUAL(r.log[0], '\0');

	const struct mf_record *rec = ph_find(&r.records, "meta-llama/Llama-3.1-8B-Instruct");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_GATED, true)); /* "manual" */
	CU_ASSERT(ph_int_is(rec, MF_FIELD_PARAMETERS, 8030261248));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_LAST_UPDATED, "2024-09-25T17:00:57.000Z"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_LICENSE, "llama3.1"));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_STATUS));

	/* "auto"; the card's license when no tag names one; parameters summed
	 * over dtypes when there is no total. */
	rec = ph_find(&r.records, "google/gemma-2-9b-it");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_GATED, true));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_LICENSE, "gemma"));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_PARAMETERS, 9241705984));

	/* gated false; the license tag wins over a disagreeing card. */
	rec = ph_find(&r.records, "Qwen/Qwen2.5-7B-Instruct");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_GATED, false));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_LICENSE, "apache-2.0"));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_PARAMETERS, 7615616512));

	/* A list of licenses: the first; GGUF parameter count. */
	rec = ph_find(&r.records, "someorg/dual-licensed-7b-GGUF");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_LICENSE, "apache-2.0"));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_PARAMETERS, 7241732096));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_PIPELINE));

	/* Private and disabled repos are kept, with a status saying so. */
	rec = ph_find(&r.records, "acme-internal/private-llm");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_STATUS, "private"));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_DOWNLOADS, 0));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_LICENSE));
	rec = ph_find(&r.records, "badactor/removed-model");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_STATUS, "disabled"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_LICENSE, "mit"));
	ph_run_free(&r);
}

static void test_broken_entries(void)
{
	struct ph_run r;
	normalize_fixture(&r, "broken-entries.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	/* 9 entries: 2 are no objects (skipped), 2 have no usable id (handed
	 * over empty, dropped and counted by the core), 5 are records. */
	CU_ASSERT_EQUAL(r.records.count, 5);
	CU_ASSERT_EQUAL(r.ctx.emitted, 5);
	CU_ASSERT_EQUAL(r.ctx.rejected, 2);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "model #1 is an integer, expected an object"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "model #8 is null, expected an object"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "model #2 has no id; dropped"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "model #5 has no id; dropped"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "model #5: id is an empty"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "model #5: modelId is an empty"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "has no id: dropped"), 2); /* the core's own */

	/* modelId stands in for a missing or unusable id. */
	const struct mf_record *rec = ph_find(&r.records, "EleutherAI/gpt-neox-20b");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_HF_ID, "EleutherAI/gpt-neox-20b"));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "EleutherAI"));
	CU_ASSERT(ph_real_is(rec, MF_FIELD_TRENDING_SCORE, 0));
	rec = ph_find(&r.records, "tiiuae/falcon-7b");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_LICENSE, "apache-2.0"));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "model #4: id is an integer, not a usable id"), 1);

	/* Every wrong-typed field is skipped, the record kept. */
	rec = ph_find(&r.records, "wrongtypes/model");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_string_is(rec, MF_FIELD_MAKER, "wrongtypes"));
	int64_t i;
	bool b;
	double d;
	CU_ASSERT_FALSE(record_get_int(rec, MF_FIELD_DOWNLOADS, &i));
	CU_ASSERT_FALSE(record_get_int(rec, MF_FIELD_LIKES, &i));
	CU_ASSERT_FALSE(record_get_real(rec, MF_FIELD_TRENDING_SCORE, &d));
	CU_ASSERT_FALSE(record_get_bool(rec, MF_FIELD_GATED, &b));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_TAGS));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_LICENSE));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_PIPELINE));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_LIBRARY));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_CREATED));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_STATUS));
	static const char *const wrong[] = {
		"wrongtypes/model: likes is -3, negative",
		"wrongtypes/model: trendingScore is a string",
		"wrongtypes/model: downloads is a string, expected a number",
		"wrongtypes/model: tags is a string, expected an array",
		"wrongtypes/model: pipeline_tag is an integer",
		"wrongtypes/model: library_name is an array",
		"wrongtypes/model: createdAt is a boolean",
		"wrongtypes/model: gated is \"sometimes\"",
		"wrongtypes/model: private is a string, expected a boolean",
	};
	for (size_t k = 0; k < sizeof(wrong) / sizeof(wrong[0]); k++)
		CU_ASSERT_EQUAL(ph_count_lines(r.log, wrong[k]), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "wrongtypes/model: "), 9);

	/* Bad tags are skipped one by one; the first license tag counts;
	 * 1500000.0 is a whole number, 2.5 likes are not. */
	rec = ph_find(&r.records, "mixed/tag-list");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	static const char *const tags[] = {"transformers", "license:bsd-3-clause", "license:mit"};
	CU_ASSERT(ph_list_is(rec, MF_FIELD_TAGS, tags, 3));
	CU_ASSERT(ph_string_is(rec, MF_FIELD_LICENSE, "bsd-3-clause"));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_DOWNLOADS, 1500000));
	CU_ASSERT_FALSE(record_get_int(rec, MF_FIELD_LIKES, &i));
	CU_ASSERT(ph_real_is(rec, MF_FIELD_TRENDING_SCORE, 0.75));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "mixed/tag-list: tags[1] is an integer"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "mixed/tag-list: tags[2] is null"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "mixed/tag-list: tags[3] is an empty"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "mixed/tag-list: likes is 2.5, not a whole"), 1);

	/* An id that starts with '/' names no maker; an empty tag list is no
	 * tag list. */
	rec = ph_find(&r.records, "/leading-slash");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_MAKER));
	CU_ASSERT_PTR_NULL(record_get_list(rec, MF_FIELD_TAGS));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_DOWNLOADS, 0));
	/* Nothing else was said: the 20 warnings of the plugin above (just
	 * under the cap) and 2 of the core for the records it dropped. */
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "more warnings"), 0);
	CU_ASSERT_EQUAL(ph_total_lines(r.log), 22);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "huggingface: "), 22);
	ph_run_free(&r);
}

/* Broken parts of an expanded listing cost their own fields only. */
static void test_broken_expansions(void)
{
	static const char page[] =
		"[{\"_id\":\"6a00000000000000000000b1\",\"id\":\"org/bad-expansions\","
		"\"gated\":1,\"safetensors\":{\"parameters\":{\"BF16\":\"lots\"},\"total\":-5},"
		"\"gguf\":[7],\"cardData\":\"license: mit\",\"disabled\":\"yes\","
		"\"lastModified\":12,\"downloads\":4},"
		"{\"_id\":\"6a00000000000000000000b2\",\"id\":\"org/bad-card\",\"gated\":true,"
		"\"safetensors\":[],\"gguf\":{\"total\":1.5},"
		"\"cardData\":{\"license\":42}},"
		"{\"_id\":\"6a00000000000000000000b3\",\"id\":\"org/empty-lists\","
		"\"safetensors\":{\"parameters\":{}},\"cardData\":{\"license\":[]},"
		"\"tags\":[\"license:\"]}]";
	struct ph_run r;
	normalize_bytes(&r, page, sizeof(page) - 1);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL_FATAL(r.records.count, 3);
	int64_t i;
	bool b;

	const struct mf_record *rec = ph_find(&r.records, "org/bad-expansions");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_FALSE(record_get_int(rec, MF_FIELD_PARAMETERS, &i));
	CU_ASSERT_FALSE(record_get_bool(rec, MF_FIELD_GATED, &b));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_LICENSE));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_STATUS));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_LAST_UPDATED));
	CU_ASSERT(ph_int_is(rec, MF_FIELD_DOWNLOADS, 4));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "org/bad-expansions: gated is an integer"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "org/bad-expansions: safetensors.total is -5"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "safetensors.parameters.BF16 is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "org/bad-expansions: gguf is an array"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "org/bad-expansions: cardData is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "org/bad-expansions: disabled is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "org/bad-expansions: lastModified is an integer"), 1);

	rec = ph_find(&r.records, "org/bad-card");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_bool_is(rec, MF_FIELD_GATED, true));
	CU_ASSERT_FALSE(record_get_int(rec, MF_FIELD_PARAMETERS, &i));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_LICENSE));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "org/bad-card: safetensors is an array"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "org/bad-card: gguf.total is 1.5"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "org/bad-card: cardData.license is an integer"), 1);

	/* Empty things are unknowns, not errors: no parameters, no license,
	 * and "license:" names none. */
	rec = ph_find(&r.records, "org/empty-lists");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_FALSE(record_get_int(rec, MF_FIELD_PARAMETERS, &i));
	CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_LICENSE));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "org/empty-lists"), 0);
	CU_ASSERT_EQUAL(ph_total_lines(r.log), 10);
	ph_run_free(&r);
}

static void test_malformed_pages(void)
{
	struct ph_run r;
	/* The derived snapshot shape {models: [...]} is no listing page. */
	normalize_fixture(&r, "toplevel-object.json");
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "top level is an object, expected an array"), 1);
	ph_run_free(&r);

	normalize_fixture(&r, "truncated.json");
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "not valid JSON: line 1, column"), 1);
	ph_run_free(&r);

	static const char *const bad[] = {"", "null", "\"models\"", "[] []", "[{\"id\":\"a/b\"},]",
					  "[1,2"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		normalize_bytes(&r, bad[i], strlen(bad[i]));
		CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
		CU_ASSERT_EQUAL(r.records.count, 0);
		ph_run_free(&r);
	}

	/* The size bounds the page even when the buffer goes on. */
	static const char cut[] = "[{\"id\":\"a/b\"}]";
	normalize_bytes(&r, cut, 8);
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	ph_run_free(&r);

	/* No body at all. */
	normalize_bytes(&r, NULL, 0);
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	ph_run_free(&r);

	/* An empty listing is valid, just empty. */
	normalize_bytes(&r, "[]", 2);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(r.log[0], '\0');
	ph_run_free(&r);
}

static void test_duplicate_keys(void)
{
	static const char page[] = "[{\"id\":\"a/b\",\"likes\":1,\"likes\":7}]";
	struct ph_run r;
	normalize_bytes(&r, page, sizeof(page) - 1);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL_FATAL(r.records.count, 1);
	CU_ASSERT(ph_int_is(r.records.items[0], MF_FIELD_LIKES, 7));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "duplicate"), 1);
	ph_run_free(&r);
}

/* Hostile input: deep nesting, huge strings, embedded NULs, nulls. */
static void test_hostile_input(void)
{
	struct ph_run r;
	enum { DEPTH = 100000 };
	char *deep = malloc(2 * DEPTH + 1);
	memset(deep, '[', DEPTH);
	memset(deep + DEPTH, ']', DEPTH);
	deep[2 * DEPTH] = '\0';
	normalize_bytes(&r, deep, 2 * DEPTH);
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	ph_run_free(&r);
	free(deep);

	/* A 1 MB id and tag are stored, not cut; log lines stay short. */
	enum { BIG = 1 << 20 };
	char *big = malloc(BIG + 200);
	int n = snprintf(big, 100, "[{\"id\":\"org/");
	memset(big + n, 'x', BIG);
	strcpy(big + n + BIG, "\",\"likes\":\"many\",\"tags\":[null]},null]");
	normalize_bytes(&r, big, strlen(big));
	free(big);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL_FATAL(r.records.count, 1);
	CU_ASSERT_EQUAL(strlen(r.records.items[0]->native_id), 4 + BIG);
	CU_ASSERT_EQUAL(ph_total_lines(r.log), 3);
	CU_ASSERT(strlen(r.log) < 3 * 400);
	ph_run_free(&r);

	/* An id with an embedded NUL is no usable id; a tag or a field with
	 * one is skipped; the rest of the page stands. */
	static const char nul[] = "[{\"id\":\"a/b\\u0000c\",\"modelId\":\"a/bc\","
				  "\"library_name\":\"trans\\u0000formers\","
				  "\"tags\":[\"x\\u0000y\",\"ok\"]},"
				  "{\"id\":null,\"modelId\":null,\"tags\":null,\"downloads\":null,"
				  "\"gated\":null,\"cardData\":{\"license\":null},"
				  "\"safetensors\":null,\"private\":null}]";
	normalize_bytes(&r, nul, sizeof(nul) - 1);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL_FATAL(r.records.count, 1);
	CU_ASSERT_STRING_EQUAL(r.records.items[0]->native_id, "a/bc");
	static const char *const ok[] = {"ok"};
	CU_ASSERT(ph_list_is(r.records.items[0], MF_FIELD_TAGS, ok, 1));
	CU_ASSERT_PTR_NULL(record_get_string(r.records.items[0], MF_FIELD_LIBRARY));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "a/bc: library_name holds a NUL byte"), 1);
	CU_ASSERT_EQUAL(r.ctx.rejected, 1);
	ph_run_free(&r);

	/* Parameter counts that overflow are refused, not wrapped. */
	static const char huge[] = "[{\"id\":\"a/b\",\"safetensors\":{\"parameters\":"
				   "{\"F32\":9223372036854775807,\"BF16\":1}}}]";
	normalize_bytes(&r, huge, sizeof(huge) - 1);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	int64_t v;
	CU_ASSERT_FALSE(record_get_int(r.records.items[0], MF_FIELD_PARAMETERS, &v));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "add up past"), 1);
	ph_run_free(&r);
}

/* Thousands of models with the same defect must not flood the log. */
static void test_warnings_capped(void)
{
	enum { N = 300 };
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputc('[', f);
	for (int i = 0; i < N; i++)
		fprintf(f, "%s{\"id\":\"org/m%d\",\"downloads\":\"%d\",\"likes\":%d}", i ? "," : "",
			i, i, i);
	fputc(']', f);
	fclose(f);

	struct ph_run r;
	normalize_bytes(&r, page, len);
	free(page);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, N);
	ph_expect_capped(r.log, "downloads is a string", 1, 50, N);
	const struct mf_record *rec = ph_find(&r.records, "org/m299");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT(ph_int_is(rec, MF_FIELD_LIKES, 299));
	ph_run_free(&r);
}

int main(void)
{
	static const struct tu_test tests[] = {
		{"descriptor and options", test_descriptor},
		{"default URL is SPEC's", test_default_url},
		{"URL with every option, encoded", test_url_every_option},
		{"URL keeps an existing query", test_url_existing_query},
		{"bad options refused by init", test_bad_options},
		{"access token as auth header", test_access_token},
		{"Link header parsing", test_link_parsing},
		{"relative next links", test_link_relative},
		{"next link guards", test_link_guards},
		{"loop over several pages stopped", test_loop_over_pages},
		{"paging plan over 4 pages", test_paging_plan},
		{"paging stops", test_paging_stops},
		{"max_models stops paging", test_max_models},
		{"entries counted without a parse, only to page on", test_page_count},
		{"minified listing", test_minified_listing},
		{"pretty listing, missing fields", test_pretty_listing},
		{"expanded listing: gated, parameters, license", test_expanded_listing},
		{"broken entries", test_broken_entries},
		{"broken expansions", test_broken_expansions},
		{"malformed pages refused", test_malformed_pages},
		{"duplicate keys: last wins, warned", test_duplicate_keys},
		{"hostile input", test_hostile_input},
		{"warnings capped per page", test_warnings_capped},
		{NULL, NULL},
	};
	return tu_main("huggingface", tests);
}
