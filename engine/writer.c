#include "mf_build_config.h"
#include "writer.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "derive.h"
#include "jsonw.h"
#include "log.h"
#include "record.h"
#include "stream.h"
#include "util.h"

/*
 * Every output is streamed through a jsonw (jsonw.h) model by model: no
 * document tree is built, so memory holds nothing of the output but the
 * writer's buffer. The bytes are those the writers wrote when they built a
 * json_t per model and dumped it with jansson (2-space indent, reals with
 * 15 significant digits, keys in the order below), so the files diff well
 * from one run to the next and against older runs.
 */

/* A scratch buffer reused for strings built on the way (joined source
 * names, price keys). */
struct wctx {
	struct jsonw w;
	struct strbuf scratch;
};

static void ctx_init(struct wctx *c, FILE *f, enum jw_style style)
{
	jw_init(&c->w, f, style);
	strbuf_init(&c->scratch);
}

static int ctx_finish(struct wctx *c)
{
	int rc = jw_finish(&c->w);
	jw_free(&c->w);
	strbuf_free(&c->scratch);
	return rc;
}

static const char *scratch_reset(struct wctx *c)
{
	c->scratch.len = 0;
	if (c->scratch.data)
		c->scratch.data[0] = '\0';
	return c->scratch.data;
}

static void put_list(struct jsonw *w, const struct strlist *l)
{
	jw_array_begin(w);
	for (size_t i = 0; l && i < l->count; i++)
		jw_string(w, l->items[i]);
	jw_end(w);
}

static void put_bool_field(struct jsonw *w, const struct mf_record *r, enum mf_field f)
{
	bool b;
	if (record_get_bool(r, f, &b))
		jw_bool(w, b);
	else
		jw_null(w);
}

/* Token limits: 0 means unknown (SPEC §3), written as null. */
static void put_tokens(struct jsonw *w, const struct mf_record *r, enum mf_field f)
{
	int64_t v;
	if (record_get_int(r, f, &v) && v > 0)
		jw_int(w, v);
	else
		jw_null(w);
}

/* Any field, by its type; null when unset. */
static void put_field(struct jsonw *w, const struct mf_record *r, enum mf_field f)
{
	const struct field_info *info = field_info(f);
	const struct field_value *v = record_field(r, f);
	if (!info || !v) {
		jw_null(w);
		return;
	}
	switch (info->type) {
	case MF_TYPE_STRING:
		jw_string(w, v->u.s);
		return;
	case MF_TYPE_INT:
		jw_int(w, v->u.i);
		return;
	case MF_TYPE_BOOL:
		jw_bool(w, v->u.b);
		return;
	case MF_TYPE_REAL:
		jw_real(w, v->u.r);
		return;
	case MF_TYPE_LIST:
		put_list(w, &v->u.list);
		return;
	case MF_TYPE_MAP:
		jw_object_begin(w);
		for (size_t i = 0; i < v->u.map.count; i++) {
			jw_key(w, v->u.map.items[i].key);
			jw_real(w, v->u.map.items[i].value);
		}
		jw_end(w);
		return;
	}
	jw_null(w);
}

static void put_price_value(struct jsonw *w, const struct nummap *m, const char *key)
{
	double v;
	if (nummap_get(m, key, &v))
		jw_real(w, price_round(v));
	else
		jw_null(w);
}

/* {input_per_million, output_per_million, <other>_per_million...} or null. */
static void put_price(struct wctx *c, const struct mf_record *r)
{
	struct jsonw *w = &c->w;
	const struct nummap *m = record_get_map(r, MF_FIELD_PRICE);
	if (!m || m->count == 0) {
		jw_null(w);
		return;
	}
	jw_object_begin(w);
	jw_key(w, "input_per_million");
	put_price_value(w, m, "input");
	jw_key(w, "output_per_million");
	put_price_value(w, m, "output");
	for (size_t i = 0; i < m->count; i++) {
		const char *key = m->items[i].key;
		if (strcmp(key, "input") == 0 || strcmp(key, "output") == 0)
			continue;
		scratch_reset(c);
		strbuf_puts(&c->scratch, key);
		strbuf_puts(&c->scratch, "_per_million");
		jw_key(w, c->scratch.data);
		jw_real(w, price_round(m->items[i].value));
	}
	jw_end(w);
}

/* The three token limits, in the order models and offerings show them. */
static void put_token_limits(struct jsonw *w, const struct mf_record *r)
{
	jw_key(w, "context_tokens");
	put_tokens(w, r, MF_FIELD_CONTEXT_TOKENS);
	jw_key(w, "max_output_tokens");
	put_tokens(w, r, MF_FIELD_MAX_OUTPUT_TOKENS);
	jw_key(w, "max_input_tokens");
	put_tokens(w, r, MF_FIELD_MAX_INPUT_TOKENS);
}

static void put_modalities(struct jsonw *w, const struct mf_record *r)
{
	jw_object_begin(w);
	jw_key(w, "input");
	put_list(w, record_get_list(r, MF_FIELD_INPUT_MODALITIES));
	jw_key(w, "output");
	put_list(w, record_get_list(r, MF_FIELD_OUTPUT_MODALITIES));
	jw_end(w);
}

static void put_arena(struct jsonw *w, const struct mf_record *r)
{
	const struct nummap *scores = record_get_map(r, MF_FIELD_SCORES);
	double rating;
	if (!nummap_get(scores, "arena.full", &rating)) {
		jw_null(w);
		return;
	}
	double q;
	jw_object_begin(w);
	jw_key(w, "rating");
	jw_real(w, rating);
	jw_key(w, "rating_q025");
	if (nummap_get(scores, "arena.full.q025", &q))
		jw_real(w, q);
	else
		jw_null(w);
	jw_key(w, "rating_q975");
	if (nummap_get(scores, "arena.full.q975", &q))
		jw_real(w, q);
	else
		jw_null(w);
	jw_end(w);
}

/* Every set field of r not in `skip`, under its field name. */
static void put_remaining(struct jsonw *w, const struct mf_record *r, const bool *skip)
{
	for (int fi = 1; fi < MF_FIELD_COUNT; fi++) {
		enum mf_field f = (enum mf_field)fi;
		const struct field_info *info = field_info(f);
		if (!info || skip[f] || !record_has(r, f) || merge_field_is_control(f))
			continue;
		jw_key(w, info->name);
		put_field(w, r, f);
	}
}

/* names joined with "+", in the scratch buffer. */
static const char *join_plus(struct wctx *c, const char *const *names, size_t n)
{
	scratch_reset(c);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strbuf_puts(&c->scratch, "+");
		strbuf_puts(&c->scratch, names[i]);
	}
	return c->scratch.data ? c->scratch.data : "";
}

static void put_offering(struct wctx *c, const struct catalog_offering *o)
{
	static const bool skip[MF_FIELD_COUNT] = {
	    [MF_FIELD_NAME] = true,
	    [MF_FIELD_PROVIDER] = true,
	    [MF_FIELD_PRICE] = true,
	    [MF_FIELD_CONTEXT_TOKENS] = true,
	    [MF_FIELD_MAX_OUTPUT_TOKENS] = true,
	    [MF_FIELD_MAX_INPUT_TOKENS] = true,
	    [MF_FIELD_INPUT_MODALITIES] = true,
	    [MF_FIELD_OUTPUT_MODALITIES] = true,
	};
	struct jsonw *w = &c->w;
	const struct mf_record *r = o->merged;
	jw_object_begin(w);
	jw_key(w, "source");
	jw_string(w, join_plus(c, (const char *const *)o->sources, o->n_sources));
	jw_key(w, "provider");
	jw_string(w, o->provider);
	jw_key(w, "id");
	jw_string(w, o->native_id);
	jw_key(w, "name");
	put_field(w, r, MF_FIELD_NAME);
	jw_key(w, "price");
	put_price(c, r);
	put_token_limits(w, r);
	jw_key(w, "modalities");
	put_modalities(w, r);
	put_remaining(w, r, skip);
	jw_end(w);
}

/* ------------------------------------------------------------ derived */

static void put_number(struct jsonw *w, bool has, double v)
{
	if (has)
		jw_real(w, v);
	else
		jw_null(w);
}

/* Weights and percentiles are written to 1e-6, enough to recompute a
 * score by hand and short enough to read. */
static void put_rounded(struct jsonw *w, double v)
{
	jw_real(w, round(v * 1e6) / 1e6);
}

static void put_tier(struct jsonw *w, const struct derive_tier *t)
{
	jw_object_begin(w);
	jw_key(w, "tier");
	if (t->tier > 0)
		jw_int(w, t->tier);
	else
		jw_null(w);
	jw_key(w, "basis");
	jw_string(w, t->basis);
	if (t->has_value) {
		jw_key(w, "value");
		jw_real(w, t->value);
	}
	if (t->from) {
		jw_key(w, "from");
		jw_string(w, t->from);
	}
	if (t->adjustment) {
		jw_key(w, "adjustment");
		jw_int(w, t->adjustment);
	}
	if (t->detail) {
		jw_key(w, strcmp(t->basis, DERIVE_BASIS_REPUTATION) == 0 ? "maker" : "category");
		jw_string(w, t->detail);
	}
	jw_end(w);
}

static void put_tiers(struct jsonw *w, const struct derive_model *dm)
{
	jw_object_begin(w);
	for (int k = 0; dm && k < DERIVE_TIER_COUNT; k++) {
		jw_key(w, derive_tier_name((enum derive_tier_kind)k));
		put_tier(w, &dm->tiers[k]);
	}
	jw_end(w);
}

static void put_contribution(struct jsonw *w, const struct derive_contribution *c)
{
	jw_object_begin(w);
	jw_key(w, "name");
	jw_string(w, c->score);
	jw_key(w, "value");
	put_rounded(w, c->value);
	if (c->has_raw) {
		jw_key(w, "raw");
		jw_real(w, c->raw);
	}
	jw_key(w, "weight");
	put_rounded(w, c->weight);
	jw_key(w, "effective_weight");
	put_rounded(w, c->effective);
	jw_key(w, "source");
	jw_string(w, c->source);
	jw_key(w, "date");
	jw_string(w, c->date[0] ? c->date : NULL);
	jw_end(w);
}

static void put_scores(struct jsonw *w, const struct derive_result *res,
		       const struct derive_model *dm)
{
	jw_object_begin(w);
	for (size_t s = 0; dm && s < dm->n_scores; s++) {
		const struct derive_score *sc = &dm->scores[s];
		jw_key(w, res->categories[sc->category]);
		jw_object_begin(w);
		jw_key(w, "score");
		jw_real(w, sc->score);
		jw_key(w, "confidence");
		jw_real(w, sc->confidence);
		jw_key(w, "rank");
		jw_int(w, (int64_t)sc->rank);
		jw_key(w, "contributing_scores");
		jw_array_begin(w);
		for (size_t k = 0; k < sc->n_contributions; k++)
			put_contribution(w, &sc->contributions[k]);
		jw_end(w);
		if (sc->n_adjustments > 0) {
			jw_key(w, "adjustments");
			jw_array_begin(w);
			for (size_t k = 0; k < sc->n_adjustments; k++) {
				const struct derive_adjustment *a = &sc->adjustments[k];
				jw_object_begin(w);
				jw_key(w, "kind");
				jw_string(w, a->kind);
				jw_key(w, "points");
				put_rounded(w, a->points);
				jw_key(w, "value");
				jw_real(w, a->value);
				jw_key(w, "percentile");
				put_rounded(w, a->percentile);
				jw_end(w);
			}
			jw_end(w);
		}
		jw_end(w);
	}
	jw_end(w);
}

static void put_flag_value(struct jsonw *w, const struct derive_value *v)
{
	jw_object_begin(w);
	jw_key(w, "source");
	jw_string(w, v->source);
	if (v->provider) {
		jw_key(w, "provider");
		jw_string(w, v->provider);
		jw_key(w, "id");
		jw_string(w, v->id);
	}
	if (v->field) {
		jw_key(w, "field");
		jw_string(w, v->field);
	}
	jw_key(w, "value");
	if (v->is_string)
		jw_string(w, v->string);
	else
		jw_real(w, v->number);
	jw_end(w);
}

static void put_quality(struct jsonw *w, const struct derive_model *dm)
{
	jw_object_begin(w);
	if (!dm) {
		jw_end(w);
		return;
	}
	jw_key(w, "flags");
	jw_array_begin(w);
	for (size_t i = 0; i < dm->n_flags; i++) {
		const struct derive_flag *f = &dm->flags[i];
		jw_object_begin(w);
		jw_key(w, "check");
		jw_string(w, f->check);
		jw_key(w, "field");
		jw_string(w, f->field);
		jw_key(w, "offering");
		if (f->provider) {
			jw_object_begin(w);
			jw_key(w, "provider");
			jw_string(w, f->provider);
			jw_key(w, "id");
			jw_string(w, f->id);
			jw_end(w);
		} else {
			jw_null(w);
		}
		jw_key(w, "action");
		jw_string(w, f->action);
		jw_key(w, "message");
		jw_string(w, f->message);
		jw_key(w, "values");
		jw_array_begin(w);
		for (size_t k = 0; k < f->n_values; k++)
			put_flag_value(w, &f->values[k]);
		jw_end(w);
		jw_end(w);
	}
	jw_end(w);
	jw_end(w);
}

/* best_at ... speed: the per-model summaries of the derive stage. */
static void put_summaries(struct jsonw *w, const struct derive_result *res,
			  const struct derive_model *dm)
{
	jw_key(w, "best_at");
	jw_string(w, dm->best_at >= 0 ? res->categories[dm->best_at] : NULL);
	jw_key(w, "worst_at");
	jw_string(w, dm->worst_at >= 0 ? res->categories[dm->worst_at] : NULL);
	jw_key(w, "overall_score");
	put_number(w, dm->has_overall, dm->overall_score);
	jw_key(w, "overall_rank");
	if (dm->overall_rank)
		jw_int(w, (int64_t)dm->overall_rank);
	else
		jw_null(w);
	jw_key(w, "cost_efficiency");
	put_number(w, dm->has_cost_efficiency, dm->cost_efficiency);
	jw_key(w, "speed");
	if (dm->has_speed || dm->has_ttft) {
		jw_object_begin(w);
		jw_key(w, "output_tokens_per_second");
		put_number(w, dm->has_speed, dm->speed);
		jw_key(w, "time_to_first_token_seconds");
		put_number(w, dm->has_ttft, dm->ttft);
		jw_end(w);
	} else {
		jw_null(w);
	}
}

/* The model-level fields written by name after the contract keys: all but
 * those written above and the offering-level ones. */
static bool model_skip[MF_FIELD_COUNT];
static bool model_skip_ready;

static const bool *model_skip_fields(void)
{
	if (model_skip_ready)
		return model_skip;
	static const enum mf_field written[] = {
	    MF_FIELD_NAME,
	    MF_FIELD_ALIASES,
	    MF_FIELD_TAGS,
	    MF_FIELD_INPUT_MODALITIES,
	    MF_FIELD_OUTPUT_MODALITIES,
	    MF_FIELD_RELEASE_DATE,
	    MF_FIELD_LICENSE,
	    MF_FIELD_OPEN_WEIGHTS,
	    MF_FIELD_REASONING,
	    MF_FIELD_TOOL_CALL,
	};
	for (size_t i = 0; i < sizeof written / sizeof written[0]; i++)
		model_skip[written[i]] = true;
	for (int fi = 1; fi < MF_FIELD_COUNT; fi++)
		if (merge_field_is_offering_level((enum mf_field)fi))
			model_skip[fi] = true;
	model_skip_ready = true;
	return model_skip;
}

/* One model of catalog.json: contract keys first, in a fixed order, then
 * the other known model-level fields. res and dm are NULL when the derive
 * stage did not run. */
static void put_model(struct wctx *c, const struct catalog_model *m,
		      const struct derive_result *res, const struct derive_model *dm)
{
	struct jsonw *w = &c->w;
	const struct mf_record *r = m->merged;
	jw_object_begin(w);
	jw_key(w, "id");
	jw_string(w, m->id);
	jw_key(w, "provider");
	jw_string(w, m->maker);
	jw_key(w, "name");
	put_field(w, r, MF_FIELD_NAME);
	jw_key(w, "aliases");
	put_list(w, record_get_list(r, MF_FIELD_ALIASES));
	jw_key(w, "tags");
	put_list(w, record_get_list(r, MF_FIELD_TAGS));
	jw_key(w, "modalities");
	put_modalities(w, r);
	put_token_limits(w, r);
	jw_key(w, "price");
	put_price(c, r);
	jw_key(w, "price_from");
	if (m->price_from >= 0 && (size_t)m->price_from < m->n_offerings) {
		const struct catalog_offering *o = &m->offerings[m->price_from];
		jw_object_begin(w);
		jw_key(w, "provider");
		jw_string(w, o->provider);
		jw_key(w, "id");
		jw_string(w, o->native_id);
		jw_end(w);
	} else {
		jw_null(w);
	}
	jw_key(w, "release_date");
	put_field(w, r, MF_FIELD_RELEASE_DATE);
	jw_key(w, "license");
	put_field(w, r, MF_FIELD_LICENSE);
	jw_key(w, "open_weights");
	put_bool_field(w, r, MF_FIELD_OPEN_WEIGHTS);
	jw_key(w, "reasoning");
	put_bool_field(w, r, MF_FIELD_REASONING);
	jw_key(w, "tool_call");
	put_bool_field(w, r, MF_FIELD_TOOL_CALL);
	jw_key(w, "arena");
	put_arena(w, r);
	jw_key(w, "popularity_score");
	jw_real(w, m->popularity_score);
	jw_key(w, "tiers");
	put_tiers(w, dm);
	jw_key(w, "category_scores");
	put_scores(w, res, dm);
	jw_key(w, "quality");
	put_quality(w, dm);
	if (dm)
		put_summaries(w, res, dm);
	jw_key(w, "callable_via");
	put_list(w, &m->callable_via);

	jw_key(w, "offerings");
	jw_array_begin(w);
	for (size_t i = 0; i < m->n_offerings; i++)
		put_offering(c, &m->offerings[i]);
	jw_end(w);

	jw_key(w, "source_ids");
	jw_object_begin(w);
	for (size_t i = 0; i < m->n_source_ids; i++) {
		jw_key(w, m->source_ids[i].instance);
		put_list(w, &m->source_ids[i].ids);
	}
	jw_end(w);

	/* A catalog built by hand (tests) may have no provenance at all. */
	const char *const *prov = m->provenance;
	jw_key(w, "provenance");
	jw_object_begin(w);
	for (int fi = 1; prov && fi < MF_FIELD_COUNT; fi++) {
		const struct field_info *info = field_info((enum mf_field)fi);
		if (info && prov[fi]) {
			jw_key(w, info->name);
			jw_string(w, prov[fi]);
		}
	}
	jw_end(w);

	put_remaining(w, r, model_skip_fields());
	jw_end(w);
}

static void put_source(struct jsonw *w, const struct source_config *src,
		       const struct source_result *res)
{
	jw_object_begin(w);
	jw_key(w, "name");
	jw_string(w, src->name);
	jw_key(w, "plugin");
	jw_string(w, src->plugin);
	jw_key(w, "status");
	jw_string(w, source_status_name(res->status));
	jw_key(w, "records");
	jw_int(w, (int64_t)source_result_count(res));
	jw_key(w, "fetched_at");
	jw_string(w, res->fetched_at);
	jw_key(w, "message");
	jw_string(w, res->message);
	jw_key(w, "precedence");
	jw_int(w, src->precedence);
	jw_end(w);
}

static const char *generated_at(const struct writer_input *in, char *buf, size_t len)
{
	if (in->generated_at)
		return in->generated_at;
	utc_now_iso(buf, len);
	return buf;
}

/* catalog.json up to its models: the part that carries the run's time and
 * the sources' statuses. */
static void put_catalog_head(struct jsonw *w, const struct writer_input *in)
{
	char now[32];
	jw_object_begin(w);
	jw_key(w, "schema_version");
	jw_int(w, MF_CATALOG_SCHEMA_VERSION);
	jw_key(w, "generated_at");
	jw_string(w, generated_at(in, now, sizeof now));
	jw_key(w, "sources");
	jw_array_begin(w);
	size_t n_sources = in->results ? in->cfg->n_sources : 0;
	for (size_t i = 0; i < n_sources; i++)
		put_source(w, &in->cfg->sources[i], &in->results[i]);
	jw_end(w);
}

int writer_catalog_head(FILE *f, const struct writer_input *in)
{
	struct jsonw w;
	jw_init(&w, f, JW_PRETTY);
	put_catalog_head(&w, in);
	/* The object stays open: what follows is copied from elsewhere. */
	int rc = jw_flush(&w);
	jw_free(&w);
	return rc;
}

int writer_catalog(FILE *f, const struct writer_input *in)
{
	struct wctx c;
	ctx_init(&c, f, JW_PRETTY);
	struct jsonw *w = &c.w;
	put_catalog_head(w, in);
	jw_key(w, "models");
	jw_array_begin(w);
	const struct catalog *cat = in->catalog;
	const struct derive_result *res = cat->derived;
	for (size_t i = 0; i < cat->n_models; i++) {
		const struct derive_model *dm = res && i < res->n_models ? &res->models[i] : NULL;
		put_model(&c, &cat->models[i], dm ? res : NULL, dm);
	}
	jw_end(w);
	jw_end(w);
	jw_text(w, "\n", 1);
	return ctx_finish(&c);
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

static void put_staging(struct wctx *c, const struct config *cfg, const struct catalog_model *m,
			const char **names)
{
	struct jsonw *w = &c->w;
	const struct mf_record *r = m->merged;
	/* source_ids is sorted by instance name, which gives the fixed order
	 * of `source`; the first Hugging Face id stands in for a missing
	 * hf_id crosswalk. */
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
	jw_object_begin(w);
	jw_key(w, "model_id");
	jw_string(w, m->id);
	jw_key(w, "provider");
	jw_string(w, m->maker);
	jw_key(w, "license");
	put_field(w, r, MF_FIELD_LICENSE);
	jw_key(w, "source");
	jw_string(w, join_plus(c, names, n));
	jw_key(w, "popularity_score");
	jw_real(w, m->popularity_score);
	jw_key(w, "tags");
	put_list(w, record_get_list(r, MF_FIELD_TAGS));
	jw_key(w, "hf_id");
	jw_string(w, hf_id);
	jw_end(w);
}

static int staging_qsort(const void *pa, const void *pb)
{
	const struct catalog_model *a = *(const struct catalog_model *const *)pa;
	const struct catalog_model *b = *(const struct catalog_model *const *)pb;
	if (a->popularity_score != b->popularity_score)
		return a->popularity_score > b->popularity_score ? -1 : 1;
	return strcmp(a->id, b->id);
}

int writer_staging(FILE *f, const struct writer_input *in)
{
	const struct catalog *cat = in->catalog;
	const struct catalog_model **models = xcalloc(cat->n_models + 1, sizeof *models);
	size_t n = 0, max_ids = 0;
	for (size_t i = 0; i < cat->n_models; i++) {
		if (!cat->models[i].staging)
			continue;
		models[n++] = &cat->models[i];
		if (cat->models[i].n_source_ids > max_ids)
			max_ids = cat->models[i].n_source_ids;
	}
	if (n > 1)
		qsort(models, n, sizeof *models, staging_qsort);
	const char **names = xcalloc(max_ids + 1, sizeof *names);
	struct wctx c;
	ctx_init(&c, f, JW_PRETTY);
	jw_array_begin(&c.w);
	for (size_t i = 0; i < n; i++)
		put_staging(&c, in->cfg, models[i], names);
	jw_end(&c.w);
	jw_text(&c.w, "\n", 1);
	free(names);
	free(models);
	return ctx_finish(&c);
}

/* ------------------------------------------------------------ mapping */

static void put_mapping_entry(struct jsonw *w, const struct mapping_entry *e)
{
	const char *key = record_get_string(e->rec, MF_FIELD_SOURCE_KEY);
	const char *id = key && *key ? key : e->rec->native_id;
	const char *provider = record_get_string(e->rec, MF_FIELD_PROVIDER);
	jw_object_begin(w);
	jw_key(w, "source");
	jw_string(w, e->result->source ? e->result->source->name : NULL);
	jw_key(w, "id");
	jw_string(w, id);
	/* The native id only when the upstream lists the record otherwise
	 * (models.dev's provider/model keys). */
	if (strcmp(id, e->rec->native_id) != 0) {
		jw_key(w, "native_id");
		jw_string(w, e->rec->native_id);
	}
	if (e->rec->kind == MF_RECORD_OFFERING && provider) {
		jw_key(w, "provider");
		jw_string(w, provider);
	}
	jw_key(w, "model");
	jw_string(w, e->model_id);
	jw_key(w, "rule");
	jw_string(w, e->rule);
	jw_key(w, "key");
	jw_string(w, e->key);
	jw_key(w, "maker_rule");
	jw_string(w, e->maker_rule);
	if (e->evidence) {
		jw_key(w, "evidence");
		jw_string(w, e->evidence);
	}
	jw_end(w);
}

int writer_mapping(FILE *f, const struct writer_input *in)
{
	char now[32];
	struct jsonw w;
	jw_init(&w, f, JW_PRETTY);
	jw_object_begin(&w);
	jw_key(&w, "generated_at");
	jw_string(&w, generated_at(in, now, sizeof now));
	/* Counts first, for status and monitoring: records mapped, records
	 * that stayed alone, records dropped for want of a usable id. */
	size_t n = in->mapping ? in->mapping->count : 0;
	size_t unaligned = 0;
	for (size_t i = 0; i < n; i++)
		unaligned += strcmp(in->mapping->items[i].rule, MAPPER_RULE_UNALIGNED) == 0;
	jw_key(&w, "records");
	jw_int(&w, (int64_t)n);
	jw_key(&w, "unaligned");
	jw_int(&w, (int64_t)unaligned);
	jw_key(&w, "dropped");
	jw_int(&w, (int64_t)(in->mapping ? in->mapping->dropped : 0));
	jw_key(&w, "entries");
	jw_array_begin(&w);
	/* One line per decision: mapping.json has one entry per record, and
	 * a line per entry keeps it greppable. */
	jw_set_style(&w, JW_INLINE);
	for (size_t i = 0; i < n; i++)
		put_mapping_entry(&w, &in->mapping->items[i]);
	jw_end(&w);
	jw_end(&w);
	jw_text(&w, "\n", 1);
	int rc = jw_finish(&w);
	jw_free(&w);
	return rc;
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
/* One output written and flushed to disk, on whichever thread runs it. */
struct output_job {
	const struct output *out;
	FILE *f;
	const struct writer_input *in;
	int rc;
	int err; /* errno of the failure, 0 when the output could not be encoded */
};

static void *run_output_job(void *arg)
{
	struct output_job *job = arg;
	errno = 0;
	job->rc = job->out->write(job->f, job->in);
	if (job->rc == 0 && (fflush(job->f) != 0 || fsync(fileno(job->f)) != 0))
		job->rc = -1;
	job->err = job->rc != 0 ? errno : 0;
	return NULL;
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

	const char *names[N_OUTPUTS];
	for (size_t i = 0; i < N_OUTPUTS; i++)
		names[i] = outputs[i].name;
	remove_stale_temporaries(dir, names, N_OUTPUTS);

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
	struct output_job jobs[N_OUTPUTS];
	for (size_t i = 0; i < N_OUTPUTS; i++) {
		if (atomic_open(&files[i], paths[i], err, errlen) != 0)
			goto cleanup;
		open[i] = true;
		jobs[i] = (struct output_job){
		    .out = &outputs[i], .f = atomic_stream(&files[i]), .in = in};
	}
	/* catalog.json is about two thirds of the writing: it is formatted on
	 * a second thread while this one writes the rest. Writers only read
	 * the catalog (records are never changed from here on), each has its
	 * own buffer and file. Without a thread everything runs here. */
	(void)model_skip_fields(); /* its lazy set-up must not race */
	pthread_t thread;
	bool threaded = pthread_create(&thread, NULL, run_output_job, &jobs[0]) == 0;
	for (size_t i = threaded ? 1 : 0; i < N_OUTPUTS; i++)
		run_output_job(&jobs[i]);
	if (threaded)
		pthread_join(thread, NULL);
	for (size_t i = 0; i < N_OUTPUTS; i++) {
		if (jobs[i].rc != 0) {
			snprintf(err, errlen, "writing %s: %s", paths[i],
				 jobs[i].err ? strerror(jobs[i].err)
					     : "could not encode the output");
			goto cleanup;
		}
	}
	rc = atomic_commit_set(files, N_OUTPUTS, err, errlen);
	for (size_t i = 0; i < N_OUTPUTS; i++)
		open[i] = false; /* committed or removed by atomic_commit_set */
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
