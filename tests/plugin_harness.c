/* Scaffolding shared by the plugin tests; see plugin_harness.h. */
#include "mf_build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin_harness.h"
#include "testutil.h"

/* ------------------------------------------------------------ stderr */

void ph_capture_begin(struct ph_capture *c)
{
	c->dir = tu_tmpdir();
	c->path = tu_write_file(c->dir, "stderr.txt", "");
	fflush(stderr);
	c->saved_fd = dup(STDERR_FILENO);
	FILE *f = fopen(c->path, "w");
	CU_ASSERT_FATAL(f != NULL);
	dup2(fileno(f), STDERR_FILENO);
	fclose(f);
}

char *ph_capture_end(struct ph_capture *c)
{
	fflush(stderr);
	dup2(c->saved_fd, STDERR_FILENO);
	close(c->saved_fd);
	char *text = tu_read_file(c->path);
	tu_rm_rf(c->dir);
	free(c->dir);
	free(c->path);
	return text ? text : strdup("");
}

/* ------------------------------------------------------------ input */

char *ph_fixture(const char *rel)
{
	char *path = tu_srcpath(rel);
	char *data = tu_read_file(path);
	free(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	return data;
}

struct mf_page ph_page(unsigned index, const char *url, const char *data, size_t size)
{
	return (struct mf_page){
		.struct_size = sizeof(struct mf_page),
		.index = index,
		.url = url,
		.status = 200,
		.data = data,
		.size = size,
		.header = NULL,
	};
}

/* ------------------------------------------------------------ one normalize call */

/* Programming errors in a test's own set-up, not outcomes to count. */
static void option_bound(size_t n)
{
	if (n >= PH_MAX_OPTIONS) {
		fprintf(stderr, "plugin harness: more than %d options\n", PH_MAX_OPTIONS);
		abort();
	}
}

void ph_run_setup(struct ph_run *r, const struct mf_plugin *p, const struct source_config *src)
{
	memset(r, 0, sizeof(*r));
	if (src) {
		r->src = *src;
		r->src.options = r->opts;
		for (size_t i = 0; i < src->n_options; i++) {
			option_bound(i);
			r->opts[i] = src->options[i];
		}
	}
	context_init(&r->ctx, NULL, src ? &r->src : NULL, p, record_array_sink, &r->records);
}

void ph_normalize_bytes(struct ph_run *r, const struct mf_plugin *p, const struct source_config *src,
			const char *url, const char *data, size_t size)
{
	ph_run_setup(r, p, src);
	struct mf_page page = ph_page(0, url, data, size);
	struct ph_capture c;
	ph_capture_begin(&c);
	if (!src) {
		r->rc = p->normalize(&host_table, &r->ctx, NULL, &page);
	} else {
		void *state = NULL;
		r->init_rc = p->init ? p->init(&host_table, &r->ctx, &state) : MF_OK;
		r->rc = r->init_rc == MF_OK ? p->normalize(&host_table, &r->ctx, state, &page)
					    : r->init_rc;
		if (r->init_rc == MF_OK && p->fini)
			p->fini(&host_table, &r->ctx, state);
	}
	r->log = ph_capture_end(&c);
}

void ph_normalize_fixture(struct ph_run *r, const struct mf_plugin *p,
			  const struct source_config *src, const char *url, const char *rel)
{
	char *data = ph_fixture(rel);
	ph_normalize_bytes(r, p, src, url, data, strlen(data));
	free(data);
}

void ph_run_free(struct ph_run *r)
{
	record_array_free(&r->records);
	free(r->log);
	r->log = NULL;
}

/* ------------------------------------------------------------ a configured instance */

void ph_source_setup(struct ph_source *s, const struct mf_plugin *p, const char *name,
		     const char *url, const char *const *kv)
{
	memset(s, 0, sizeof(*s));
	s->plugin = p;
	/* The section's strings are borrowed, as the configuration's are. */
	s->src.name = (char *)name;
	s->src.plugin = (char *)p->name;
	s->src.enabled = true;
	s->src.url = (char *)url;
	s->src.options = s->opts;
	for (size_t i = 0; kv && kv[i]; i += 2) {
		CU_ASSERT_FATAL(s->src.n_options < PH_MAX_OPTIONS);
		ph_source_option(s, kv[i], kv[i + 1]);
	}
	context_init(&s->ctx, NULL, &s->src, p, record_array_sink, &s->records);
}

void ph_source_option(struct ph_source *s, const char *key, const char *value)
{
	option_bound(s->src.n_options);
	s->opts[s->src.n_options] = (struct option_value){
		.key = (char *)key,
		.value = (char *)value,
		.line = (int)s->src.n_options + 1,
	};
	s->src.n_options++;
}

int ph_source_init(struct ph_source *s, char **log)
{
	struct ph_capture c;
	if (log)
		ph_capture_begin(&c);
	s->init_rc = s->plugin->init(&host_table, &s->ctx, &s->state);
	if (log)
		*log = ph_capture_end(&c);
	s->initialized = s->init_rc == MF_OK;
	return s->init_rc;
}

int ph_source_normalize(struct ph_source *s, const char *url, const char *data, size_t size)
{
	struct mf_page page = ph_page(0, url, data, size);
	return s->plugin->normalize(&host_table, &s->ctx, s->state, &page);
}

void ph_source_free(struct ph_source *s)
{
	if (s->initialized && s->plugin->fini)
		s->plugin->fini(&host_table, &s->ctx, s->state);
	s->initialized = false;
	record_array_free(&s->records);
	free(s->log);
	s->log = NULL;
}

/* ------------------------------------------------------------ descriptor */

void ph_expect_descriptor(const struct mf_plugin *p, const char *name)
{
	CU_ASSERT_EQUAL(p->abi_major, MF_ABI_MAJOR);
	CU_ASSERT_EQUAL(p->abi_minor, MF_ABI_MINOR);
	CU_ASSERT_EQUAL(p->struct_size, sizeof(struct mf_plugin));
	CU_ASSERT_STRING_EQUAL(p->name, name);
}

/* ------------------------------------------------------------ fetch planning */

size_t ph_expect_fetch(const struct mf_plugin *p, struct mf_context *ctx, void *state,
		       const struct mf_page *prev, const char *want)
{
	struct mf_request req;
	request_init(&req);
	int rc = p->fetch(&host_table, ctx, state, prev, &req);
	if (want) {
		CU_ASSERT_EQUAL(rc, MF_OK);
		CU_ASSERT_PTR_NOT_NULL_FATAL(req.url);
		CU_ASSERT_STRING_EQUAL(req.url, want);
	} else {
		CU_ASSERT_EQUAL(rc, MF_DONE);
		CU_ASSERT_PTR_NULL(req.url);
	}
	size_t n = req.n_headers;
	request_clear(&req);
	return n;
}

void ph_expect_last_page(const struct mf_plugin *p, struct mf_context *ctx, void *state,
			 const char *url)
{
	struct mf_page first = ph_page(0, url, "{}", 2);
	ph_expect_fetch(p, ctx, state, &first, NULL);
}

void ph_expect_single_page(const struct mf_plugin *p, const char *default_url,
			   const char *configured_url)
{
	struct ph_run r;
	ph_run_setup(&r, p, NULL);
	CU_ASSERT_EQUAL(ph_expect_fetch(p, &r.ctx, NULL, NULL, default_url), 0);
	r.ctx.url = configured_url;
	ph_expect_fetch(p, &r.ctx, NULL, NULL, configured_url);
	ph_expect_last_page(p, &r.ctx, NULL, configured_url);
	CU_ASSERT_EQUAL(r.records.count, 0);
	ph_run_free(&r);
}

/* ------------------------------------------------------------ records */

/* kind < 0 and provider NULL match any. */
static const struct mf_record *find_where(const struct record_array *a, int kind,
					  const char *provider, const char *id)
{
	for (size_t i = 0; i < a->count; i++) {
		const struct mf_record *rec = a->items[i];
		if (kind >= 0 && rec->kind != (enum mf_record_kind)kind)
			continue;
		if (provider && !ph_string_is(rec, MF_FIELD_PROVIDER, provider))
			continue;
		if (strcmp(rec->native_id, id) == 0)
			return rec;
	}
	return NULL;
}

const struct mf_record *ph_find(const struct record_array *a, const char *id)
{
	return find_where(a, -1, NULL, id);
}

const struct mf_record *ph_find_at(const struct record_array *a, const char *provider,
				   const char *id)
{
	return find_where(a, -1, provider, id);
}

const struct mf_record *ph_find_kind(const struct record_array *a, enum mf_record_kind kind,
				     const char *provider, const char *id)
{
	return find_where(a, (int)kind, provider, id);
}

bool ph_string_is(const struct mf_record *rec, enum mf_field field, const char *want)
{
	const char *v = rec ? record_get_string(rec, field) : NULL;
	return v && strcmp(v, want) == 0;
}

bool ph_int_is(const struct mf_record *rec, enum mf_field field, int64_t want)
{
	int64_t v;
	return rec && record_get_int(rec, field, &v) && v == want;
}

bool ph_int_set(const struct mf_record *rec, enum mf_field field)
{
	int64_t v;
	return rec && record_get_int(rec, field, &v);
}

bool ph_bool_is(const struct mf_record *rec, enum mf_field field, bool want)
{
	bool v;
	return rec && record_get_bool(rec, field, &v) && v == want;
}

bool ph_bool_set(const struct mf_record *rec, enum mf_field field)
{
	bool v;
	return rec && record_get_bool(rec, field, &v);
}

bool ph_real_is(const struct mf_record *rec, enum mf_field field, double want)
{
	double v;
	return rec && record_get_real(rec, field, &v) && v == want;
}

bool ph_list_is(const struct mf_record *rec, enum mf_field field, const char *const *want,
		size_t n)
{
	const struct strlist *l = rec ? record_get_list(rec, field) : NULL;
	if (n == 0)
		return !l || l->count == 0;
	if (!l || l->count != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(l->items[i], want[i]) != 0)
			return false;
	return true;
}

bool ph_list_has(const struct mf_record *rec, enum mf_field field, const char *want)
{
	const struct strlist *l = rec ? record_get_list(rec, field) : NULL;
	for (size_t i = 0; l && i < l->count; i++)
		if (strcmp(l->items[i], want) == 0)
			return true;
	return false;
}

size_t ph_list_count(const struct mf_record *rec, enum mf_field field)
{
	const struct strlist *l = rec ? record_get_list(rec, field) : NULL;
	return l ? l->count : 0;
}

bool ph_map_is(const struct mf_record *rec, enum mf_field field, const char *key, double want)
{
	double v;
	return rec && nummap_get(record_get_map(rec, field), key, &v) && v == want;
}

bool ph_map_has(const struct mf_record *rec, enum mf_field field, const char *key)
{
	double v;
	return rec && nummap_get(record_get_map(rec, field), key, &v);
}

size_t ph_map_count(const struct mf_record *rec, enum mf_field field)
{
	const struct nummap *m = rec ? record_get_map(rec, field) : NULL;
	return m ? m->count : 0;
}

bool ph_price_is(const struct mf_record *rec, const char *key, double want)
{
	return ph_map_is(rec, MF_FIELD_PRICE, key, want);
}

bool ph_score_is(const struct mf_record *rec, const char *key, double want)
{
	return ph_map_is(rec, MF_FIELD_SCORES, key, want);
}

bool ph_record_mentions(const struct mf_record *rec, const char *needle)
{
	if (strstr(rec->native_id, needle))
		return true;
	for (int f = 1; f < MF_FIELD_COUNT; f++) {
		const struct field_info *info = field_info((enum mf_field)f);
		if (!info || !info->name)
			continue;
		if (info->type == MF_TYPE_STRING) {
			const char *s = record_get_string(rec, (enum mf_field)f);
			if (s && strstr(s, needle))
				return true;
		} else if (info->type == MF_TYPE_LIST) {
			const struct strlist *l = record_get_list(rec, (enum mf_field)f);
			for (size_t i = 0; l && i < l->count; i++)
				if (strstr(l->items[i], needle))
					return true;
		} else if (info->type == MF_TYPE_MAP) {
			const struct nummap *m = record_get_map(rec, (enum mf_field)f);
			for (size_t i = 0; m && i < m->count; i++)
				if (strstr(m->items[i].key, needle))
					return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------ logs */

unsigned ph_count_lines(const char *text, const char *needle)
{
	unsigned n = 0;
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *copy = strndup(line, len);
		if (strstr(copy, needle))
			n++;
		free(copy);
		line = end ? end + 1 : NULL;
	}
	return n;
}

unsigned ph_total_lines(const char *text)
{
	unsigned n = 0;
	for (; *text; text++)
		n += *text == '\n';
	return n;
}

void ph_expect_capped(const char *log, const char *needle, unsigned lo, unsigned hi,
		      unsigned total)
{
	unsigned shown = ph_count_lines(log, needle);
	CU_ASSERT(shown >= lo && shown <= hi);
	CU_ASSERT_EQUAL(ph_total_lines(log), shown + 1);
	char want[64];
	snprintf(want, sizeof(want), "%u more warnings", total - shown);
	CU_ASSERT_EQUAL(ph_count_lines(log, want), 1);
}
