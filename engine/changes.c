#include "mf_build_config.h"
#include "changes.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "record.h"
#include "util.h"

/*
 * The digest holds, per model, the watched fields as one compact JSON line
 * ({"id": ..., "f": {path: value}}), after a header line naming the format
 * and the run. Values are compared as the text jansson writes with 15
 * significant digits, so a price read back from the digest equals the
 * same price computed again.
 */
#define DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15) | JSON_ENCODE_ANY)

static void put(json_t *o, const char *path, json_t *v)
{
	if (v && !json_is_null(v))
		json_object_set_new(o, path, v);
	else
		json_decref(v);
}

/* Upstream strings should be UTF-8; anything else is made ASCII-safe the
 * way the writers do it, so the digest always encodes. */
static json_t *jstring(const char *s)
{
	if (!s)
		return NULL;
	json_t *j = json_string(s);
	if (j)
		return j;
	char *copy = xstrdup(s);
	for (char *c = copy; *c; c++)
		if ((unsigned char)*c >= 0x80)
			*c = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static json_t *jstrlist(const struct strlist *l)
{
	if (!l)
		return NULL;
	json_t *a = json_array();
	for (size_t i = 0; i < l->count; i++)
		json_array_append_new(a, jstring(l->items[i]));
	return a;
}

/* The watched fields of one model (see changes.h). */
static json_t *digest_fields(const struct catalog_model *m)
{
	const struct mf_record *r = m->merged;
	json_t *o = json_object();
	put(o, "name", jstring(record_get_string(r, MF_FIELD_NAME)));
	put(o, "provider", jstring(m->maker));
	static const struct {
		enum mf_field f;
		const char *path;
	} strings[] =
	    {
		{MF_FIELD_RELEASE_DATE, "release_date"},
		{MF_FIELD_KNOWLEDGE, "knowledge"},
		{MF_FIELD_LICENSE, "license"},
		{MF_FIELD_MODE, "mode"},
	    },
	  bools[] =
	      {
		  {MF_FIELD_OPEN_WEIGHTS, "open_weights"},
		  {MF_FIELD_REASONING, "reasoning"},
		  {MF_FIELD_TOOL_CALL, "tool_call"},
	      },
	  tokens[] = {
	      {MF_FIELD_CONTEXT_TOKENS, "context_tokens"},
	      {MF_FIELD_MAX_OUTPUT_TOKENS, "max_output_tokens"},
	      {MF_FIELD_MAX_INPUT_TOKENS, "max_input_tokens"},
	  };
	for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
		put(o, strings[i].path, jstring(record_get_string(r, strings[i].f)));
	for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
		bool b;
		if (record_get_bool(r, bools[i].f, &b))
			put(o, bools[i].path, json_boolean(b));
	}
	for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
		int64_t v;
		if (record_get_int(r, tokens[i].f, &v) && v > 0)
			put(o, tokens[i].path, json_integer(v));
	}
	const struct nummap *price = record_get_map(r, MF_FIELD_PRICE);
	for (size_t i = 0; price && i < price->count; i++) {
		char *path = xasprintf("price.%s_per_million", price->items[i].key);
		put(o, path, json_real(price_round(price->items[i].value)));
		free(path);
	}
	if (m->price_from >= 0 && (size_t)m->price_from < m->n_offerings) {
		const struct catalog_offering *po = &m->offerings[m->price_from];
		char *from = xasprintf("%s:%s", po->provider, po->native_id);
		put(o, "price_from", jstring(from));
		free(from);
	}
	double rating;
	if (nummap_get(record_get_map(r, MF_FIELD_SCORES), "arena.full", &rating))
		put(o, "arena.rating", json_real(rating));
	put(o, "modalities.input", jstrlist(record_get_list(r, MF_FIELD_INPUT_MODALITIES)));
	put(o, "modalities.output", jstrlist(record_get_list(r, MF_FIELD_OUTPUT_MODALITIES)));
	put(o, "aliases", jstrlist(record_get_list(r, MF_FIELD_ALIASES)));
	if (m->callable_via.count > 0)
		put(o, "callable_via", jstrlist(&m->callable_via));
	if (m->n_offerings > 0) {
		json_t *a = json_array();
		for (size_t i = 0; i < m->n_offerings; i++) {
			char *s =
			    xasprintf("%s:%s", m->offerings[i].provider, m->offerings[i].native_id);
			json_array_append_new(a, jstring(s));
			free(s);
		}
		put(o, "offerings", a);
	}
	return o;
}

static char *dump(const json_t *v)
{
	if (!v)
		return xstrdup("null");
	char *s = json_dumps(v, DUMP_FLAGS);
	if (!s)
		return xstrdup("null");
	char *copy = xstrdup(s);
	free(s);
	return copy;
}

/* ------------------------------------------------------------ reading */

struct previous {
	char *id;
	json_t *fields;
	bool seen;
};

struct digest {
	struct previous *items;
	size_t count;
	struct strmap index; /* id -> struct previous index + 1 */
	char *generated_at;
};

static void digest_free(struct digest *d)
{
	for (size_t i = 0; i < d->count; i++) {
		free(d->items[i].id);
		json_decref(d->items[i].fields);
	}
	free(d->items);
	free(d->generated_at);
	strmap_free(&d->index, NULL);
	memset(d, 0, sizeof *d);
}

/* Read the digest line by line: true when there is one to trust; a
 * digest that exists but cannot be trusted is warned about, and d is left
 * empty. */
static bool digest_read(const char *path, struct digest *d)
{
	strmap_init(&d->index);
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno != ENOENT)
			log_warning("cannot read the previous digest %s: %s; changes computed as "
				    "for a first run",
				    path, strerror(errno));
		return false;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	size_t lineno = 0;
	bool ok = true;
	while (ok && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		json_error_t jerr;
		json_t *j = json_loadb(line, (size_t)len, 0, &jerr);
		if (lineno == 1) {
			json_t *ver = json_object_get(j, "modelfuse_digest");
			ok = json_is_integer(ver) &&
			     json_integer_value(ver) == CHANGES_DIGEST_VERSION;
			const char *at = json_string_value(json_object_get(j, "generated_at"));
			if (ok && at)
				d->generated_at = xstrdup(at);
		} else {
			const char *id = json_string_value(json_object_get(j, "id"));
			json_t *fields = json_object_get(j, "f");
			ok = id && json_is_object(fields);
			if (ok && !strmap_get(&d->index, id)) {
				d->items = xrealloc(d->items, (d->count + 1) * sizeof *d->items);
				d->items[d->count] = (struct previous){
				    .id = xstrdup(id),
				    .fields = json_incref(fields),
				};
				strmap_put(&d->index, id, (void *)(uintptr_t)(++d->count));
			}
		}
		json_decref(j);
		if (!ok)
			log_warning("%s: line %zu is not a modelfuse digest line; changes computed "
				    "as for a first run",
				    path, lineno);
	}
	free(line);
	fclose(f);
	if (lineno == 0) {
		log_warning("%s: empty digest; changes computed as for a first run", path);
		ok = false;
	}
	if (!ok) {
		digest_free(d);
		strmap_init(&d->index);
	}
	return ok;
}

/* ------------------------------------------------------------ comparing */

static void push_change(struct model_change **list, size_t *n, const char *id, const char *name)
{
	*list = xrealloc(*list, (*n + 1) * sizeof **list);
	(*list)[*n] = (struct model_change){
	    .id = xstrdup(id),
	    .name = name ? xstrdup(name) : NULL,
	};
	(*n)++;
}

static int str_qsort(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The field changes between two digests of one model, sorted by path. */
static void compare_fields(const json_t *before, const json_t *after, struct model_change *mc)
{
	size_t n = json_object_size(before) + json_object_size(after);
	const char **paths = xcalloc(n + 1, sizeof *paths);
	size_t np = 0;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)before, k, v) paths[np++] = k;
	json_object_foreach((json_t *)after, k, v)
	{
		if (!json_object_get(before, k))
			paths[np++] = k;
	}
	qsort(paths, np, sizeof *paths, str_qsort);
	for (size_t i = 0; i < np; i++) {
		char *a = dump(json_object_get(before, paths[i]));
		char *b = dump(json_object_get(after, paths[i]));
		if (strcmp(a, b) == 0) {
			free(a);
			free(b);
			continue;
		}
		mc->fields = xrealloc(mc->fields, (mc->n_fields + 1) * sizeof *mc->fields);
		mc->fields[mc->n_fields++] = (struct field_change){
		    .path = xstrdup(paths[i]),
		    .before = a,
		    .after = b,
		};
	}
	free(paths);
}

static int change_qsort(const void *pa, const void *pb)
{
	const struct model_change *a = pa, *b = pb;
	return strcmp(a->id, b->id);
}

int changes_compute(const char *output_dir, const struct catalog *cat, struct changes *out)
{
	memset(out, 0, sizeof *out);
	struct digest d = {0};
	char *path = xasprintf("%s/%s", output_dir ? output_dir : ".", CHANGES_DIGEST_NAME);
	out->has_previous = digest_read(path, &d);
	free(path);
	if (out->has_previous && d.generated_at)
		out->previous_generated_at = xstrdup(d.generated_at);

	for (size_t i = 0; i < cat->n_models; i++) {
		const struct catalog_model *m = &cat->models[i];
		const char *name = record_get_string(m->merged, MF_FIELD_NAME);
		void *v = out->has_previous ? strmap_get(&d.index, m->id) : NULL;
		if (!v) {
			push_change(&out->added, &out->n_added, m->id, name);
			continue;
		}
		struct previous *p = &d.items[(size_t)(uintptr_t)v - 1];
		p->seen = true;
		json_t *now = digest_fields(m);
		struct model_change mc = {0};
		compare_fields(p->fields, now, &mc);
		json_decref(now);
		if (mc.n_fields == 0) {
			out->unchanged++;
			continue;
		}
		push_change(&out->changed, &out->n_changed, m->id, name);
		out->changed[out->n_changed - 1].fields = mc.fields;
		out->changed[out->n_changed - 1].n_fields = mc.n_fields;
	}
	for (size_t i = 0; i < d.count; i++)
		if (!d.items[i].seen)
			push_change(&out->removed, &out->n_removed, d.items[i].id,
				    json_string_value(json_object_get(d.items[i].fields, "name")));
	/* The catalog is sorted already; the digest may not be. */
	if (out->n_removed > 1)
		qsort(out->removed, out->n_removed, sizeof *out->removed, change_qsort);
	if (out->n_added > 1)
		qsort(out->added, out->n_added, sizeof *out->added, change_qsort);
	if (out->n_changed > 1)
		qsort(out->changed, out->n_changed, sizeof *out->changed, change_qsort);
	digest_free(&d);
	return 0;
}

static void model_changes_free(struct model_change *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].id);
		free(list[i].name);
		for (size_t k = 0; k < list[i].n_fields; k++) {
			free(list[i].fields[k].path);
			free(list[i].fields[k].before);
			free(list[i].fields[k].after);
		}
		free(list[i].fields);
	}
	free(list);
}

void changes_free(struct changes *ch)
{
	model_changes_free(ch->added, ch->n_added);
	model_changes_free(ch->removed, ch->n_removed);
	model_changes_free(ch->changed, ch->n_changed);
	free(ch->previous_generated_at);
	memset(ch, 0, sizeof *ch);
}

/* ------------------------------------------------------------ output */

void changes_summary(const struct changes *ch, FILE *f, size_t limit)
{
	if (!ch->has_previous) {
		fprintf(f, "changes: first run, %zu models (no digest of an earlier run)\n",
			ch->n_added);
		return;
	}
	fprintf(f, "changes since %s: %zu added, %zu removed, %zu changed, %zu unchanged\n",
		ch->previous_generated_at ? ch->previous_generated_at : "the previous run",
		ch->n_added, ch->n_removed, ch->n_changed, ch->unchanged);
	const struct {
		const struct model_change *list;
		size_t n;
		char mark;
	} kinds[] = {
	    {ch->added, ch->n_added, '+'},
	    {ch->removed, ch->n_removed, '-'},
	    {ch->changed, ch->n_changed, '~'},
	};
	for (size_t k = 0; k < 3; k++) {
		size_t shown = kinds[k].n < limit ? kinds[k].n : limit;
		for (size_t i = 0; i < shown; i++) {
			const struct model_change *mc = &kinds[k].list[i];
			fprintf(f, "  %c %s", kinds[k].mark, mc->id);
			for (size_t j = 0; j < mc->n_fields && j < 3; j++)
				fprintf(f, "%s %s %s -> %s", j ? "," : ":", mc->fields[j].path,
					mc->fields[j].before, mc->fields[j].after);
			if (mc->n_fields > 3)
				fprintf(f, ", and %zu more fields", mc->n_fields - 3);
			fputc('\n', f);
		}
		if (kinds[k].n > shown)
			fprintf(f, "  %c ... and %zu more\n", kinds[k].mark, kinds[k].n - shown);
	}
}

/* A JSON value from text this file produced; "null" for anything else. */
static json_t *parse_value(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
	return v ? v : json_null();
}

static int write_json_line(FILE *f, json_t *j, const char *indent, bool last)
{
	char *s = j ? json_dumps(j, DUMP_FLAGS) : NULL;
	json_decref(j);
	if (!s)
		return -1;
	fprintf(f, "%s%s%s\n", indent, s, last ? "" : ",");
	free(s);
	return ferror(f) ? -1 : 0;
}

static int write_list(FILE *f, const char *name, const struct model_change *list, size_t n,
		      bool with_fields, bool last)
{
	fprintf(f, "  \"%s\": [%s", name, n ? "\n" : "");
	for (size_t i = 0; i < n; i++) {
		json_t *j = json_object();
		json_object_set_new(j, "id", jstring(list[i].id));
		json_object_set_new(j, "name", list[i].name ? jstring(list[i].name) : json_null());
		if (with_fields) {
			json_t *a = json_array();
			for (size_t k = 0; k < list[i].n_fields; k++) {
				json_t *c = json_object();
				json_object_set_new(c, "path", json_string(list[i].fields[k].path));
				json_object_set_new(c, "before",
						    parse_value(list[i].fields[k].before));
				json_object_set_new(c, "after",
						    parse_value(list[i].fields[k].after));
				json_array_append_new(a, c);
			}
			json_object_set_new(j, "fields", a);
		}
		if (write_json_line(f, j, "    ", i + 1 == n) != 0)
			return -1;
	}
	fprintf(f, "%s]%s\n", n ? "  " : "", last ? "" : ",");
	return ferror(f) ? -1 : 0;
}

int changes_write_json(FILE *f, const struct changes *ch, const char *generated_at)
{
	json_t *head = json_object();
	json_object_set_new(head, "generated_at",
			    generated_at ? json_string(generated_at) : json_null());
	json_object_set_new(head, "previous_generated_at",
			    ch->previous_generated_at ? json_string(ch->previous_generated_at)
						      : json_null());
	json_t *counts = json_object();
	json_object_set_new(counts, "added", json_integer((json_int_t)ch->n_added));
	json_object_set_new(counts, "removed", json_integer((json_int_t)ch->n_removed));
	json_object_set_new(counts, "changed", json_integer((json_int_t)ch->n_changed));
	json_object_set_new(counts, "unchanged", json_integer((json_int_t)ch->unchanged));
	json_object_set_new(head, "counts", counts);
	/* The head's keys, then the three lists one model per line. */
	fputs("{\n", f);
	const char *k;
	json_t *v;
	json_object_foreach(head, k, v)
	{
		char *s = json_dumps(v, DUMP_FLAGS);
		if (!s) {
			json_decref(head);
			return -1;
		}
		fprintf(f, "  \"%s\": %s,\n", k, s);
		free(s);
	}
	json_decref(head);
	if (write_list(f, "added", ch->added, ch->n_added, false, false) != 0 ||
	    write_list(f, "removed", ch->removed, ch->n_removed, false, false) != 0 ||
	    write_list(f, "changed", ch->changed, ch->n_changed, true, true) != 0)
		return -1;
	fputs("}\n", f);
	return ferror(f) ? -1 : 0;
}

int changes_write_digest(FILE *f, const struct catalog *cat, const char *generated_at)
{
	json_t *h = json_object();
	json_object_set_new(h, "modelfuse_digest", json_integer(CHANGES_DIGEST_VERSION));
	json_object_set_new(h, "generated_at",
			    generated_at ? json_string(generated_at) : json_null());
	char *s = json_dumps(h, DUMP_FLAGS);
	json_decref(h);
	if (!s)
		return -1;
	fprintf(f, "%s\n", s);
	free(s);
	for (size_t i = 0; i < cat->n_models; i++) {
		json_t *j = json_object();
		json_object_set_new(j, "id", jstring(cat->models[i].id));
		json_object_set_new(j, "f", digest_fields(&cat->models[i]));
		s = json_dumps(j, DUMP_FLAGS);
		json_decref(j);
		if (!s)
			return -1;
		fprintf(f, "%s\n", s);
		free(s);
	}
	return ferror(f) ? -1 : 0;
}
