#include "mf_build_config.h"
#include "writer.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "derive.h"
#include "log.h"
#include "record.h"
#include "stream.h"
#include "util.h"

/*
 * Every output is streamed: the document's frame (brackets, commas) is
 * written by hand and each element (one model, one mapping entry) is built
 * as a json_t, dumped and freed before the next, so memory holds one model
 * at a time. Elements are dumped with a 2-space indent and re-indented to
 * their depth: the files are meant to be diffed and read by people, and
 * jansson never emits a raw newline inside a string, so re-indenting after
 * each newline is safe. Objects keep insertion order, which the code below
 * fixes, so the bytes are deterministic.
 */
#define DUMP_FLAGS (JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15) | JSON_ENCODE_ANY)

/* Dump j (stolen) at the given depth; the first line is indented too. */
static int emit(FILE *f, json_t *j, int depth, bool pretty)
{
	if (!j)
		return -1;
	char *s = json_dumps(j, DUMP_FLAGS | (pretty ? JSON_INDENT(2) : 0));
	json_decref(j);
	if (!s)
		return -1;
	/* Re-indent line by line for the nesting depth: whole lines go out
	 * with one fwrite each (a byte-wise loop was the writer's hot spot). */
	static const char spaces[] = "                                ";
	size_t indent = (size_t)depth < sizeof spaces - 1 ? (size_t)depth : sizeof spaces - 1;
	fwrite(spaces, 1, indent, f);
	for (const char *p = s; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
		fwrite(p, 1, len, f);
		if (nl)
			fwrite(spaces, 1, indent, f);
		p += len;
	}
	free(s);
	return ferror(f) ? -1 : 0;
}

/* Strings from upstreams should be UTF-8; anything else is made ASCII-safe
 * rather than dropped, so that one bad byte cannot cost an output. */
static json_t *jstr(const char *s)
{
	if (!s)
		return json_null();
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

static json_t *jlist(const struct strlist *l)
{
	json_t *a = json_array();
	for (size_t i = 0; l && i < l->count; i++)
		json_array_append_new(a, jstr(l->items[i]));
	return a;
}

static json_t *jbool_field(const struct mf_record *r, enum mf_field f)
{
	bool b;
	return record_get_bool(r, f, &b) ? json_boolean(b) : json_null();
}

/* Token limits: 0 means unknown (SPEC §3), written as null. */
static json_t *jtokens(const struct mf_record *r, enum mf_field f)
{
	int64_t v;
	return record_get_int(r, f, &v) && v > 0 ? json_integer(v) : json_null();
}

/* Any field, by its type; null when unset. */
static json_t *jfield(const struct mf_record *r, enum mf_field f)
{
	const struct field_info *info = field_info(f);
	const struct field_value *v = record_field(r, f);
	if (!info || !v)
		return json_null();
	switch (info->type) {
	case MF_TYPE_STRING:
		return jstr(v->u.s);
	case MF_TYPE_INT:
		return json_integer(v->u.i);
	case MF_TYPE_BOOL:
		return json_boolean(v->u.b);
	case MF_TYPE_REAL:
		return json_real(v->u.r);
	case MF_TYPE_LIST:
		return jlist(&v->u.list);
	case MF_TYPE_MAP: {
		json_t *o = json_object();
		for (size_t i = 0; i < v->u.map.count; i++)
			json_object_set_new(o, v->u.map.items[i].key,
					    json_real(v->u.map.items[i].value));
		return o;
	}
	}
	return json_null();
}

static json_t *jprice_value(const struct nummap *m, const char *key)
{
	double v;
	return nummap_get(m, key, &v) ? json_real(price_round(v)) : json_null();
}

/* {input_per_million, output_per_million, <other>_per_million...} or null. */
static json_t *jprice(const struct mf_record *r)
{
	const struct nummap *m = record_get_map(r, MF_FIELD_PRICE);
	if (!m || m->count == 0)
		return json_null();
	json_t *o = json_object();
	json_object_set_new(o, "input_per_million", jprice_value(m, "input"));
	json_object_set_new(o, "output_per_million", jprice_value(m, "output"));
	for (size_t i = 0; i < m->count; i++) {
		const char *key = m->items[i].key;
		if (strcmp(key, "input") == 0 || strcmp(key, "output") == 0)
			continue;
		char *name = xasprintf("%s_per_million", key);
		json_object_set_new(o, name, json_real(price_round(m->items[i].value)));
		free(name);
	}
	return o;
}

static json_t *jmodalities(const struct mf_record *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "input", jlist(record_get_list(r, MF_FIELD_INPUT_MODALITIES)));
	json_object_set_new(o, "output", jlist(record_get_list(r, MF_FIELD_OUTPUT_MODALITIES)));
	return o;
}

static json_t *jarena(const struct mf_record *r)
{
	const struct nummap *scores = record_get_map(r, MF_FIELD_SCORES);
	double rating;
	if (!nummap_get(scores, "arena.full", &rating))
		return json_null();
	json_t *o = json_object();
	double q;
	json_object_set_new(o, "rating", json_real(rating));
	json_object_set_new(o, "rating_q025",
			    nummap_get(scores, "arena.full.q025", &q) ? json_real(q) : json_null());
	json_object_set_new(o, "rating_q975",
			    nummap_get(scores, "arena.full.q975", &q) ? json_real(q) : json_null());
	return o;
}

/* Add every set field of r not in `skip` under its field name. */
static void add_remaining(json_t *o, const struct mf_record *r, const bool *skip)
{
	for (int fi = 1; fi < MF_FIELD_COUNT; fi++) {
		enum mf_field f = (enum mf_field)fi;
		const struct field_info *info = field_info(f);
		if (!info || skip[f] || !record_has(r, f) || merge_field_is_control(f))
			continue;
		json_object_set_new(o, info->name, jfield(r, f));
	}
}

static char *join_plus(const char *const *names, size_t n)
{
	struct strbuf sb;
	strbuf_init(&sb);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strbuf_puts(&sb, "+");
		strbuf_puts(&sb, names[i]);
	}
	return strbuf_detach(&sb);
}

static json_t *joffering(const struct catalog_offering *o)
{
	const struct mf_record *r = o->merged;
	json_t *j = json_object();
	char *source = join_plus((const char *const *)o->sources, o->n_sources);
	json_object_set_new(j, "source", jstr(source));
	free(source);
	json_object_set_new(j, "provider", jstr(o->provider));
	json_object_set_new(j, "id", jstr(o->native_id));
	json_object_set_new(j, "name", jfield(r, MF_FIELD_NAME));
	json_object_set_new(j, "price", jprice(r));
	json_object_set_new(j, "context_tokens", jtokens(r, MF_FIELD_CONTEXT_TOKENS));
	json_object_set_new(j, "max_output_tokens", jtokens(r, MF_FIELD_MAX_OUTPUT_TOKENS));
	json_object_set_new(j, "max_input_tokens", jtokens(r, MF_FIELD_MAX_INPUT_TOKENS));
	json_object_set_new(j, "modalities", jmodalities(r));
	bool skip[MF_FIELD_COUNT] = {
	    [MF_FIELD_NAME] = true,
	    [MF_FIELD_PROVIDER] = true,
	    [MF_FIELD_PRICE] = true,
	    [MF_FIELD_CONTEXT_TOKENS] = true,
	    [MF_FIELD_MAX_OUTPUT_TOKENS] = true,
	    [MF_FIELD_MAX_INPUT_TOKENS] = true,
	    [MF_FIELD_INPUT_MODALITIES] = true,
	    [MF_FIELD_OUTPUT_MODALITIES] = true,
	};
	add_remaining(j, r, skip);
	return j;
}

/* ------------------------------------------------------------ derived */

static json_t *jnumber(bool has, double v)
{
	return has ? json_real(v) : json_null();
}

static json_t *jtier(const struct derive_tier *t)
{
	json_t *o = json_object();
	json_object_set_new(o, "tier", t->tier > 0 ? json_integer(t->tier) : json_null());
	json_object_set_new(o, "basis", jstr(t->basis));
	if (t->has_value)
		json_object_set_new(o, "value", json_real(t->value));
	if (t->from)
		json_object_set_new(o, "from", jstr(t->from));
	if (t->adjustment)
		json_object_set_new(o, "adjustment", json_integer(t->adjustment));
	if (t->detail)
		json_object_set_new(
		    o, strcmp(t->basis, DERIVE_BASIS_REPUTATION) == 0 ? "maker" : "category",
		    jstr(t->detail));
	return o;
}

static json_t *jtiers(const struct derive_model *dm)
{
	json_t *o = json_object();
	for (int k = 0; dm && k < DERIVE_TIER_COUNT; k++)
		json_object_set_new(o, derive_tier_name((enum derive_tier_kind)k),
				    jtier(&dm->tiers[k]));
	return o;
}

/* Weights and percentiles are written to 1e-6, enough to recompute a
 * score by hand and short enough to read. */
static json_t *jround(double v)
{
	return json_real(round(v * 1e6) / 1e6);
}

static json_t *jcontribution(const struct derive_contribution *c)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", jstr(c->score));
	json_object_set_new(o, "value", jround(c->value));
	if (c->has_raw)
		json_object_set_new(o, "raw", json_real(c->raw));
	json_object_set_new(o, "weight", jround(c->weight));
	json_object_set_new(o, "effective_weight", jround(c->effective));
	json_object_set_new(o, "source", jstr(c->source));
	json_object_set_new(o, "date", c->date[0] ? jstr(c->date) : json_null());
	return o;
}

static json_t *jscores(const struct derive_result *res, const struct derive_model *dm)
{
	json_t *o = json_object();
	for (size_t s = 0; dm && s < dm->n_scores; s++) {
		const struct derive_score *sc = &dm->scores[s];
		json_t *j = json_object();
		json_object_set_new(j, "score", json_real(sc->score));
		json_object_set_new(j, "confidence", json_real(sc->confidence));
		json_object_set_new(j, "rank", json_integer((json_int_t)sc->rank));
		json_t *list = json_array();
		for (size_t k = 0; k < sc->n_contributions; k++)
			json_array_append_new(list, jcontribution(&sc->contributions[k]));
		json_object_set_new(j, "contributing_scores", list);
		if (sc->n_adjustments > 0) {
			json_t *adj = json_array();
			for (size_t k = 0; k < sc->n_adjustments; k++) {
				const struct derive_adjustment *a = &sc->adjustments[k];
				json_t *ja = json_object();
				json_object_set_new(ja, "kind", jstr(a->kind));
				json_object_set_new(ja, "points", jround(a->points));
				json_object_set_new(ja, "value", json_real(a->value));
				json_object_set_new(ja, "percentile", jround(a->percentile));
				json_array_append_new(adj, ja);
			}
			json_object_set_new(j, "adjustments", adj);
		}
		json_object_set_new(o, res->categories[sc->category], j);
	}
	return o;
}

static json_t *jflag_value(const struct derive_value *v)
{
	json_t *o = json_object();
	json_object_set_new(o, "source", jstr(v->source));
	if (v->provider) {
		json_object_set_new(o, "provider", jstr(v->provider));
		json_object_set_new(o, "id", jstr(v->id));
	}
	if (v->field)
		json_object_set_new(o, "field", jstr(v->field));
	json_object_set_new(o, "value", v->is_string ? jstr(v->string) : json_real(v->number));
	return o;
}

static json_t *jquality(const struct derive_model *dm)
{
	json_t *o = json_object();
	if (!dm)
		return o;
	json_t *flags = json_array();
	for (size_t i = 0; i < dm->n_flags; i++) {
		const struct derive_flag *f = &dm->flags[i];
		json_t *j = json_object();
		json_object_set_new(j, "check", jstr(f->check));
		json_object_set_new(j, "field", jstr(f->field));
		json_t *offering = json_null();
		if (f->provider) {
			offering = json_object();
			json_object_set_new(offering, "provider", jstr(f->provider));
			json_object_set_new(offering, "id", jstr(f->id));
		}
		json_object_set_new(j, "offering", offering);
		json_object_set_new(j, "action", jstr(f->action));
		json_object_set_new(j, "message", jstr(f->message));
		json_t *values = json_array();
		for (size_t k = 0; k < f->n_values; k++)
			json_array_append_new(values, jflag_value(&f->values[k]));
		json_object_set_new(j, "values", values);
		json_array_append_new(flags, j);
	}
	json_object_set_new(o, "flags", flags);
	return o;
}

/* best_at ... speed: the per-model summaries of the derive stage. */
static void add_summaries(json_t *j, const struct derive_result *res, const struct derive_model *dm)
{
	json_object_set_new(j, "best_at",
			    dm->best_at >= 0 ? jstr(res->categories[dm->best_at]) : json_null());
	json_object_set_new(j, "worst_at",
			    dm->worst_at >= 0 ? jstr(res->categories[dm->worst_at]) : json_null());
	json_object_set_new(j, "overall_score", jnumber(dm->has_overall, dm->overall_score));
	json_object_set_new(j, "overall_rank",
			    dm->overall_rank ? json_integer((json_int_t)dm->overall_rank)
					     : json_null());
	json_object_set_new(j, "cost_efficiency",
			    jnumber(dm->has_cost_efficiency, dm->cost_efficiency));
	json_t *speed = json_null();
	if (dm->has_speed || dm->has_ttft) {
		speed = json_object();
		json_object_set_new(speed, "output_tokens_per_second",
				    jnumber(dm->has_speed, dm->speed));
		json_object_set_new(speed, "time_to_first_token_seconds",
				    jnumber(dm->has_ttft, dm->ttft));
	}
	json_object_set_new(j, "speed", speed);
}

/* One model of catalog.json: contract keys first, in a fixed order, then
 * the other known model-level fields. res and dm are NULL when the derive
 * stage did not run. */
static json_t *jmodel(const struct catalog_model *m, const struct derive_result *res,
		      const struct derive_model *dm)
{
	const struct mf_record *r = m->merged;
	json_t *j = json_object();
	json_object_set_new(j, "id", jstr(m->id));
	json_object_set_new(j, "provider", jstr(m->maker));
	json_object_set_new(j, "name", jfield(r, MF_FIELD_NAME));
	json_object_set_new(j, "aliases", jlist(record_get_list(r, MF_FIELD_ALIASES)));
	json_object_set_new(j, "tags", jlist(record_get_list(r, MF_FIELD_TAGS)));
	json_object_set_new(j, "modalities", jmodalities(r));
	json_object_set_new(j, "context_tokens", jtokens(r, MF_FIELD_CONTEXT_TOKENS));
	json_object_set_new(j, "max_output_tokens", jtokens(r, MF_FIELD_MAX_OUTPUT_TOKENS));
	json_object_set_new(j, "max_input_tokens", jtokens(r, MF_FIELD_MAX_INPUT_TOKENS));
	json_object_set_new(j, "price", jprice(r));
	json_t *from = json_null();
	if (m->price_from >= 0 && (size_t)m->price_from < m->n_offerings) {
		const struct catalog_offering *o = &m->offerings[m->price_from];
		from = json_object();
		json_object_set_new(from, "provider", jstr(o->provider));
		json_object_set_new(from, "id", jstr(o->native_id));
	}
	json_object_set_new(j, "price_from", from);
	json_object_set_new(j, "release_date", jfield(r, MF_FIELD_RELEASE_DATE));
	json_object_set_new(j, "license", jfield(r, MF_FIELD_LICENSE));
	json_object_set_new(j, "open_weights", jbool_field(r, MF_FIELD_OPEN_WEIGHTS));
	json_object_set_new(j, "reasoning", jbool_field(r, MF_FIELD_REASONING));
	json_object_set_new(j, "tool_call", jbool_field(r, MF_FIELD_TOOL_CALL));
	json_object_set_new(j, "arena", jarena(r));
	json_object_set_new(j, "popularity_score", json_real(m->popularity_score));
	json_object_set_new(j, "tiers", jtiers(dm));
	json_object_set_new(j, "category_scores", jscores(res, dm));
	json_object_set_new(j, "quality", jquality(dm));
	if (dm)
		add_summaries(j, res, dm);
	json_object_set_new(j, "callable_via", jlist(&m->callable_via));

	json_t *offerings = json_array();
	for (size_t i = 0; i < m->n_offerings; i++)
		json_array_append_new(offerings, joffering(&m->offerings[i]));
	json_object_set_new(j, "offerings", offerings);

	json_t *ids = json_object();
	for (size_t i = 0; i < m->n_source_ids; i++)
		json_object_set_new(ids, m->source_ids[i].instance, jlist(&m->source_ids[i].ids));
	json_object_set_new(j, "source_ids", ids);

	json_t *prov = json_object();
	for (int fi = 1; fi < MF_FIELD_COUNT; fi++) {
		const struct field_info *info = field_info((enum mf_field)fi);
		if (info && m->provenance[fi])
			json_object_set_new(prov, info->name, jstr(m->provenance[fi]));
	}
	json_object_set_new(j, "provenance", prov);

	bool skip[MF_FIELD_COUNT] = {
	    [MF_FIELD_NAME] = true,
	    [MF_FIELD_ALIASES] = true,
	    [MF_FIELD_TAGS] = true,
	    [MF_FIELD_INPUT_MODALITIES] = true,
	    [MF_FIELD_OUTPUT_MODALITIES] = true,
	    [MF_FIELD_RELEASE_DATE] = true,
	    [MF_FIELD_LICENSE] = true,
	    [MF_FIELD_OPEN_WEIGHTS] = true,
	    [MF_FIELD_REASONING] = true,
	    [MF_FIELD_TOOL_CALL] = true,
	};
	for (int fi = 1; fi < MF_FIELD_COUNT; fi++)
		if (merge_field_is_offering_level((enum mf_field)fi))
			skip[fi] = true;
	add_remaining(j, r, skip);
	return j;
}

static json_t *jsource(const struct source_config *src, const struct source_result *res)
{
	json_t *j = json_object();
	json_object_set_new(j, "name", jstr(src->name));
	json_object_set_new(j, "plugin", jstr(src->plugin));
	json_object_set_new(j, "status", jstr(source_status_name(res->status)));
	json_object_set_new(j, "records", json_integer((json_int_t)source_result_count(res)));
	json_object_set_new(j, "fetched_at", jstr(res->fetched_at));
	json_object_set_new(j, "message", jstr(res->message));
	json_object_set_new(j, "precedence", json_integer(src->precedence));
	return j;
}

static const char *generated_at(const struct writer_input *in, char *buf, size_t len)
{
	if (in->generated_at)
		return in->generated_at;
	utc_now_iso(buf, len);
	return buf;
}

/* Write "[", the elements made by make(i) one per line at depth, and "]". */
static int emit_array(FILE *f, size_t n, int depth, bool pretty,
		      json_t *(*make)(const void *ctx, size_t i), const void *ctx)
{
	if (n == 0) {
		fputs("[]", f);
		return ferror(f) ? -1 : 0;
	}
	fputs("[\n", f);
	for (size_t i = 0; i < n; i++) {
		if (emit(f, make(ctx, i), depth + 2, pretty) != 0)
			return -1;
		fputs(i + 1 < n ? ",\n" : "\n", f);
	}
	fprintf(f, "%*s]", depth, "");
	return ferror(f) ? -1 : 0;
}

static json_t *make_source(const void *ctx, size_t i)
{
	const struct writer_input *in = ctx;
	return jsource(&in->cfg->sources[i], &in->results[i]);
}

static json_t *make_model(const void *ctx, size_t i)
{
	const struct writer_input *in = ctx;
	const struct derive_result *res = in->catalog->derived;
	const struct derive_model *dm = res && i < res->n_models ? &res->models[i] : NULL;
	return jmodel(&in->catalog->models[i], dm ? res : NULL, dm);
}

int writer_catalog(FILE *f, const struct writer_input *in)
{
	char now[32];
	fprintf(f, "{\n  \"schema_version\": %d,\n  \"generated_at\": ", MF_CATALOG_SCHEMA_VERSION);
	if (emit(f, jstr(generated_at(in, now, sizeof now)), 0, false) != 0)
		return -1;
	fputs(",\n  \"sources\": ", f);
	size_t n_sources = in->results ? in->cfg->n_sources : 0;
	if (emit_array(f, n_sources, 2, true, make_source, in) != 0)
		return -1;
	fputs(",\n  \"models\": ", f);
	if (emit_array(f, in->catalog->n_models, 2, true, make_model, in) != 0)
		return -1;
	fputs("\n}\n", f);
	return ferror(f) ? -1 : 0;
}

/* ------------------------------------------------------------ staging */

static const struct source_config *find_source(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_sources; i++)
		if (strcmp(cfg->sources[i].name, name) == 0)
			return &cfg->sources[i];
	return NULL;
}

static bool is_staging_plugin(const char *plugin)
{
	return strcmp(plugin, "huggingface") == 0 || strcmp(plugin, "community") == 0 ||
	       strcmp(plugin, "openrouter") == 0;
}

static json_t *jstaging(const struct config *cfg, const struct catalog_model *m)
{
	const struct mf_record *r = m->merged;
	/* source_ids is sorted by instance name, which gives the fixed order
	 * of `source`; the first Hugging Face id stands in for a missing
	 * hf_id crosswalk. */
	const char **names = xcalloc(m->n_source_ids + 1, sizeof *names);
	size_t n = 0;
	const char *hf_id = record_get_string(r, MF_FIELD_HF_ID);
	for (size_t i = 0; i < m->n_source_ids; i++) {
		const struct source_config *src = find_source(cfg, m->source_ids[i].instance);
		if (!src || !is_staging_plugin(src->plugin))
			continue;
		names[n++] = m->source_ids[i].instance;
		if (!hf_id && strcmp(src->plugin, "huggingface") == 0 &&
		    m->source_ids[i].ids.count > 0)
			hf_id = m->source_ids[i].ids.items[0];
	}
	char *source = join_plus(names, n);
	free(names);

	json_t *j = json_object();
	json_object_set_new(j, "model_id", jstr(m->id));
	json_object_set_new(j, "provider", jstr(m->maker));
	json_object_set_new(j, "license", jfield(r, MF_FIELD_LICENSE));
	json_object_set_new(j, "source", jstr(source));
	json_object_set_new(j, "popularity_score", json_real(m->popularity_score));
	json_object_set_new(j, "tags", jlist(record_get_list(r, MF_FIELD_TAGS)));
	json_object_set_new(j, "hf_id", jstr(hf_id));
	free(source);
	return j;
}

static int staging_qsort(const void *pa, const void *pb)
{
	const struct catalog_model *a = *(const struct catalog_model *const *)pa;
	const struct catalog_model *b = *(const struct catalog_model *const *)pb;
	if (a->popularity_score != b->popularity_score)
		return a->popularity_score > b->popularity_score ? -1 : 1;
	return strcmp(a->id, b->id);
}

/* The staging candidates in their output order. */
struct staging_view {
	const struct config *cfg;
	const struct catalog_model **models;
};

static json_t *make_staging(const void *ctx, size_t i)
{
	const struct staging_view *v = ctx;
	return jstaging(v->cfg, v->models[i]);
}

int writer_staging(FILE *f, const struct writer_input *in)
{
	const struct catalog *cat = in->catalog;
	struct staging_view view = {.cfg = in->cfg};
	view.models = xcalloc(cat->n_models + 1, sizeof *view.models);
	size_t n = 0;
	for (size_t i = 0; i < cat->n_models; i++)
		if (cat->models[i].staging)
			view.models[n++] = &cat->models[i];
	if (n > 1)
		qsort(view.models, n, sizeof *view.models, staging_qsort);
	int rc = emit_array(f, n, 0, true, make_staging, &view);
	free(view.models);
	if (rc == 0)
		fputs("\n", f);
	return rc == 0 && !ferror(f) ? 0 : -1;
}

/* ------------------------------------------------------------ mapping */

static json_t *make_mapping_entry(const void *ctx, size_t i)
{
	const struct writer_input *in = ctx;
	const struct mapping_entry *e = &in->mapping->items[i];
	const char *key = record_get_string(e->rec, MF_FIELD_SOURCE_KEY);
	const char *id = key && *key ? key : e->rec->native_id;
	const char *provider = record_get_string(e->rec, MF_FIELD_PROVIDER);
	json_t *j = json_object();
	json_object_set_new(j, "source", jstr(e->result->source ? e->result->source->name : NULL));
	json_object_set_new(j, "id", jstr(id));
	/* The native id only when the upstream lists the record otherwise
	 * (models.dev's provider/model keys). */
	if (strcmp(id, e->rec->native_id) != 0)
		json_object_set_new(j, "native_id", jstr(e->rec->native_id));
	if (e->rec->kind == MF_RECORD_OFFERING && provider)
		json_object_set_new(j, "provider", jstr(provider));
	json_object_set_new(j, "model", jstr(e->model_id));
	json_object_set_new(j, "rule", jstr(e->rule));
	json_object_set_new(j, "key", jstr(e->key));
	json_object_set_new(j, "maker_rule", jstr(e->maker_rule));
	if (e->evidence)
		json_object_set_new(j, "evidence", jstr(e->evidence));
	return j;
}

int writer_mapping(FILE *f, const struct writer_input *in)
{
	char now[32];
	fputs("{\n  \"generated_at\": ", f);
	if (emit(f, jstr(generated_at(in, now, sizeof now)), 0, false) != 0)
		return -1;
	/* Counts first, for status and monitoring: records mapped, records
	 * that stayed alone, records dropped for want of a usable id. */
	size_t n = in->mapping ? in->mapping->count : 0;
	size_t unaligned = 0;
	for (size_t i = 0; i < n; i++)
		unaligned += strcmp(in->mapping->items[i].rule, MAPPER_RULE_UNALIGNED) == 0;
	fprintf(f, ",\n  \"records\": %zu,\n  \"unaligned\": %zu,\n  \"dropped\": %zu", n,
		unaligned, in->mapping ? in->mapping->dropped : 0);
	fputs(",\n  \"entries\": ", f);
	/* One compact line per decision: mapping.json has one entry per
	 * record, and a line per entry keeps it greppable. */
	if (emit_array(f, n, 2, false, make_mapping_entry, in) != 0)
		return -1;
	fputs("\n}\n", f);
	return ferror(f) ? -1 : 0;
}

/* ------------------------------------------------------------ all */

static int write_changes(FILE *f, const struct writer_input *in)
{
	char now[32];
	return changes_write_json(f, in->changes, generated_at(in, now, sizeof now));
}

static int write_digest(FILE *f, const struct writer_input *in)
{
	char now[32];
	return changes_write_digest(f, in->catalog, generated_at(in, now, sizeof now));
}

struct output {
	const char *name;
	int (*write)(FILE *f, const struct writer_input *in);
};

/* The digest comes last: it is what the next run compares with, so it
 * must describe outputs that were all written. */
static const struct output outputs[] = {
    {"catalog.json", writer_catalog},	 {"staging_candidates.json", writer_staging},
    {"mapping.json", writer_mapping},	 {"changes.json", write_changes},
    {CHANGES_DIGEST_NAME, write_digest},
};
#define N_OUTPUTS (sizeof outputs / sizeof outputs[0])

/*
 * All outputs are written to temporary files and flushed to disk first;
 * only when every one of them is complete are they renamed into place. A
 * rename within one folder fails in practice only when the target is not a
 * file, which is checked before anything is written, so a failed run leaves
 * the previous outputs as a consistent set.
 */
/* A run killed while writing leaves "<output>.tmp.XXXXXX" files beside the
 * outputs (atomic_open). The caller holds the run lock, so none of them can
 * belong to a live run: clear them before writing. */
static void remove_stale_temporaries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		for (size_t i = 0; i < N_OUTPUTS; i++) {
			size_t n = strlen(outputs[i].name);
			if (strncmp(e->d_name, outputs[i].name, n) != 0 ||
			    strncmp(e->d_name + n, ".tmp.", 5) != 0)
				continue;
			char *path = xasprintf("%s/%s", dir, e->d_name);
			if (unlink(path) == 0)
				log_info("removed %s, left by an interrupted run", path);
			free(path);
			break;
		}
	}
	closedir(d);
}

int writer_write_all(const struct writer_input *given, char *err, size_t errlen)
{
	struct writer_input copy = *given;
	const struct writer_input *in = &copy;
	const char *dir = in->cfg->output_dir;
	if (!dir || !*dir) {
		snprintf(err, errlen, "no output_dir configured");
		return -1;
	}
	if (mkdir_p(dir) != 0) {
		snprintf(err, errlen, "creating output folder %s: %s", dir, strerror(errno));
		return -1;
	}

	remove_stale_temporaries(dir);

	/* The changes are read from the previous digest before anything of
	 * this run replaces it. */
	struct changes computed = {0};
	bool own_changes = !in->changes;
	if (own_changes) {
		changes_compute(dir, in->catalog, &computed);
		copy.changes = &computed;
	}
	char now[32];
	if (!copy.generated_at)
		copy.generated_at = generated_at(in, now, sizeof now);

	char *paths[N_OUTPUTS] = {NULL};
	struct atomic_file files[N_OUTPUTS];
	bool open[N_OUTPUTS] = {false};
	int rc = -1;
	memset(files, 0, sizeof files);
	for (size_t i = 0; i < N_OUTPUTS; i++) {
		paths[i] = xasprintf("%s/%s", dir, outputs[i].name);
		struct stat st;
		if (lstat(paths[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "cannot replace %s: it is a directory", paths[i]);
			goto cleanup;
		}
	}
	for (size_t i = 0; i < N_OUTPUTS; i++) {
		if (atomic_open(&files[i], paths[i], err, errlen) != 0)
			goto cleanup;
		open[i] = true;
		FILE *f = atomic_stream(&files[i]);
		errno = 0;
		int wrc = outputs[i].write(f, in);
		if (wrc == 0 && (fflush(f) != 0 || fsync(fileno(f)) != 0))
			wrc = -1;
		if (wrc != 0) {
			int e = errno;
			snprintf(err, errlen, "writing %s: %s", paths[i],
				 e ? strerror(e) : "could not encode the output");
			goto cleanup;
		}
	}
	rc = 0;
	for (size_t i = 0; i < N_OUTPUTS; i++) {
		open[i] = false; /* atomic_commit cleans up after itself either way */
		if (atomic_commit(&files[i], err, errlen) != 0) {
			rc = -1;
			break;
		}
	}
cleanup:
	for (size_t i = 0; i < N_OUTPUTS; i++) {
		if (open[i])
			atomic_abort(&files[i]);
		free(paths[i]);
	}
	if (own_changes)
		changes_free(&computed);
	return rc;
}
