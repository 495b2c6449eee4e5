#include "mf_build_config.h"
#include "merge.h"

#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "util.h"

/*
 * Priority of a record, used by every rule of SPEC §6: higher `precedence`
 * first; at equal precedence the instance whose name sorts first (strcmp)
 * wins, so the outcome never depends on the order of the config file or on
 * which child finished first; within one instance, the earlier record wins.
 */
struct contrib {
	const struct mapping_entry *e;
	const struct source_config *src;
	const char *provider; /* offerings: PROVIDER, else the instance name */
	size_t order;	      /* index in the mapping: the last tie-breaker */
};

static int contrib_cmp(const struct contrib *a, const struct contrib *b)
{
	if (a->src->precedence != b->src->precedence)
		return a->src->precedence > b->src->precedence ? -1 : 1;
	int c = strcmp(a->src->name, b->src->name);
	if (c != 0)
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

static int contrib_qsort(const void *a, const void *b)
{
	return contrib_cmp(a, b);
}

/* Offerings of one model side by side: by (provider, native id), then by
 * priority inside one offering. */
static int offering_contrib_qsort(const void *pa, const void *pb)
{
	const struct contrib *a = pa, *b = pb;
	int c = strcmp(a->provider, b->provider);
	if (c == 0)
		c = strcmp(a->e->rec->native_id, b->e->rec->native_id);
	return c != 0 ? c : contrib_cmp(a, b);
}

bool merge_field_is_offering_level(enum mf_field field)
{
	switch (field) {
	case MF_FIELD_PRICE:
	case MF_FIELD_CONTEXT_TOKENS:
	case MF_FIELD_MAX_OUTPUT_TOKENS:
	case MF_FIELD_MAX_INPUT_TOKENS:
	case MF_FIELD_PROVIDER:
	case MF_FIELD_CALLABLE:
	case MF_FIELD_SOURCE_KEY:
	case MF_FIELD_BASE_ID:
	case MF_FIELD_SERVING_SUFFIX:
	case MF_FIELD_MOVING_POINTER:
	case MF_FIELD_ALIAS_TARGET:
	case MF_FIELD_STATUS:
	case MF_FIELD_VERSION:
	case MF_FIELD_SUPPORTED_PARAMETERS:
	case MF_FIELD_EXPIRATION_DATE:
	case MF_FIELD_DEPRECATION_DATE:
		return true;
	default:
		return false;
	}
}

bool merge_field_is_control(enum mf_field field)
{
	return field == MF_FIELD_REMOVE || field == MF_FIELD_REPLACE || field == MF_FIELD_PINNED;
}

enum mf_field merge_field_by_name(const char *name)
{
	if (!name)
		return 0;
	if (strcmp(name, "modalities.input") == 0)
		return MF_FIELD_INPUT_MODALITIES;
	if (strcmp(name, "modalities.output") == 0)
		return MF_FIELD_OUTPUT_MODALITIES;
	for (int fi = 1; fi < MF_FIELD_COUNT; fi++) {
		const struct field_info *info = field_info((enum mf_field)fi);
		if (info && strcmp(info->name, name) == 0)
			return (enum mf_field)fi;
	}
	return 0;
}

double merge_rank_score(int64_t rank)
{
	if (rank < 1)
		return 0;
	double score = 100.0 - (double)(rank - 1) * MERGE_RANK_STEP;
	return score < MERGE_RANK_FLOOR ? MERGE_RANK_FLOOR : score;
}

static bool field_is_union(enum mf_field field)
{
	return field == MF_FIELD_ALIASES || field == MF_FIELD_TAGS ||
	       field == MF_FIELD_INPUT_MODALITIES || field == MF_FIELD_OUTPUT_MODALITIES;
}

/* Does the record's control list (PINNED or REPLACE) name field f? */
static bool names_field(const struct mf_record *rec, enum mf_field control, enum mf_field f)
{
	const struct strlist *l = record_get_list(rec, control);
	for (size_t i = 0; l && i < l->count; i++)
		if (merge_field_by_name(l->items[i]) == f)
			return true;
	return false;
}

/* Union list: instances from the lowest priority to the highest, each
 * instance's records in their own order, exact duplicates dropped (by
 * record_list_add). A record that replaces the field starts the list
 * anew. Provenance goes to the highest contributor. */
static void merge_union(struct mf_record *dst, const char **prov, const struct contrib *items,
			size_t n, enum mf_field f)
{
	size_t end = n;
	while (end > 0) {
		size_t start = end - 1;
		while (start > 0 && items[start - 1].src == items[end - 1].src)
			start--;
		for (size_t i = start; i < end; i++) {
			const struct mf_record *rec = items[i].e->rec;
			const struct strlist *l = record_get_list(rec, f);
			if (!l)
				continue;
			if (names_field(rec, MF_FIELD_REPLACE, f))
				record_unset(dst, f);
			/* An explicitly empty list still counts as known. */
			record_mark_known(dst, f);
			for (size_t k = 0; k < l->count; k++)
				record_list_add(dst, f, l->items[k]);
		}
		end = start;
	}
	for (size_t i = 0; i < n; i++) {
		if (record_has(items[i].e->rec, f)) {
			prov[f] = items[i].src->name;
			break;
		}
	}
}

/* Maps merge key by key: the highest-priority record holding a key gives
 * its value. */
static void merge_map(struct mf_record *dst, const char **prov, const struct contrib *items,
		      size_t n, enum mf_field f)
{
	for (size_t i = 0; i < n; i++) {
		const struct nummap *m = record_get_map(items[i].e->rec, f);
		if (!m)
			continue;
		if (!prov[f])
			prov[f] = items[i].src->name;
		record_mark_known(dst, f);
		for (size_t k = 0; k < m->count; k++) {
			double ignored;
			if (!nummap_get(record_get_map(dst, f), m->items[k].key, &ignored))
				record_map_set(dst, f, m->items[k].key, m->items[k].value);
		}
	}
}

/* Merge every field of items (priority order, highest first) into dst.
 * Unset fields never erase: the first record that has a value gives it. */
static void merge_fields(struct mf_record *dst, const char **prov, const struct contrib *items,
			 size_t n, bool model_level)
{
	for (int fi = 1; fi < MF_FIELD_COUNT; fi++) {
		enum mf_field f = (enum mf_field)fi;
		const struct field_info *info = field_info(f);
		if (!info || merge_field_is_control(f) ||
		    (model_level && merge_field_is_offering_level(f)))
			continue;
		/* A pinned value beats every precedence. */
		size_t pinned = n;
		for (size_t i = 0; i < n && pinned == n; i++)
			if (record_has(items[i].e->rec, f) &&
			    names_field(items[i].e->rec, MF_FIELD_PINNED, f))
				pinned = i;
		if (pinned < n) {
			record_copy_field(dst, items[pinned].e->rec, f);
			prov[f] = items[pinned].src->name;
			continue;
		}
		if (field_is_union(f)) {
			merge_union(dst, prov, items, n, f);
			continue;
		}
		if (info->type == MF_TYPE_MAP) {
			merge_map(dst, prov, items, n, f);
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			if (record_has(items[i].e->rec, f)) {
				record_copy_field(dst, items[i].e->rec, f);
				prov[f] = items[i].src->name;
				break;
			}
		}
	}
}

/* Apply every "field:value" of the REMOVE lists of items to rec. */
static void apply_removes(struct mf_record *rec, const struct contrib *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct strlist *l = record_get_list(items[i].e->rec, MF_FIELD_REMOVE);
		for (size_t k = 0; l && k < l->count; k++) {
			const char *colon = strchr(l->items[k], ':');
			if (!colon)
				continue;
			char *name = xstrndup(l->items[k], (size_t)(colon - l->items[k]));
			enum mf_field f = merge_field_by_name(name);
			free(name);
			if (f)
				record_list_remove(rec, f, colon + 1);
		}
	}
}

/* ------------------------------------------------------------ offerings */

static bool excluded(const struct config *cfg, const char *provider, const char *id)
{
	for (size_t i = 0; i < cfg->n_providers; i++) {
		const struct provider_config *p = &cfg->providers[i];
		if (strcasecmp(p->name, provider) != 0)
			continue;
		for (size_t k = 0; k < p->n_exclude; k++)
			if (fnmatch(p->exclude_models[k], id, 0) == 0)
				return true;
	}
	return false;
}

static void add_unique(char ***list, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*list)[i], name) == 0)
			return;
	*list = xrealloc(*list, (*n + 1) * sizeof **list);
	(*list)[(*n)++] = xstrdup(name);
}

/* items: the model's offering records sorted by offering_contrib_qsort. */
static void build_offerings(struct catalog_model *m, const struct contrib *items, size_t n)
{
	m->offerings = n ? xcalloc(n, sizeof *m->offerings) : NULL;
	size_t start = 0;
	while (start < n) {
		size_t end = start + 1;
		while (end < n && strcmp(items[end].provider, items[start].provider) == 0 &&
		       strcmp(items[end].e->rec->native_id, items[start].e->rec->native_id) == 0)
			end++;
		struct catalog_offering *o = &m->offerings[m->n_offerings++];
		o->provider = xstrdup(items[start].provider);
		o->native_id = xstrdup(items[start].e->rec->native_id);
		o->merged = record_new(MF_RECORD_OFFERING, o->native_id);
		merge_fields(o->merged, o->provenance, items + start, end - start, false);
		record_set_string(o->merged, MF_FIELD_PROVIDER, o->provider);
		for (size_t i = start; i < end; i++) {
			add_unique(&o->sources, &o->n_sources, items[i].src->name);
			o->first_party = o->first_party || items[i].e->first_party;
		}
		start = end;
	}
}

static bool offering_blended(const struct catalog_offering *o, double *blended)
{
	const struct nummap *price = record_get_map(o->merged, MF_FIELD_PRICE);
	double in, out;
	if (!nummap_get(price, "input", &in) || !nummap_get(price, "output", &out))
		return false;
	*blended = (in + out) / 2;
	return true;
}

static bool offering_has_data(const struct catalog_offering *o)
{
	const struct nummap *price = record_get_map(o->merged, MF_FIELD_PRICE);
	int64_t ctx = 0;
	record_get_int(o->merged, MF_FIELD_CONTEXT_TOKENS, &ctx);
	return (price && price->count > 0) || ctx > 0;
}

struct priced {
	size_t index;
	double blended;
};

static int priced_qsort(const void *pa, const void *pb)
{
	const struct priced *a = pa, *b = pb;
	if (a->blended != b->blended)
		return a->blended < b->blended ? -1 : 1;
	/* Offerings are sorted by (provider, id): the index breaks ties so. */
	return a->index < b->index ? -1 : a->index > b->index;
}

/* SPEC §6: the maker's own offering, else the median blended price (the
 * lower one for an even count), else the first offering with a price or a
 * context. An offering with nothing to show is never chosen, not even the
 * maker's own. */
static ssize_t choose_price_from(const struct catalog_model *m)
{
	ssize_t own = -1;
	for (size_t i = 0; i < m->n_offerings; i++) {
		const struct catalog_offering *o = &m->offerings[i];
		double b;
		if (!o->first_party || !offering_has_data(o))
			continue;
		if (offering_blended(o, &b))
			return (ssize_t)i;
		if (own < 0)
			own = (ssize_t)i;
	}
	if (own >= 0)
		return own;

	struct priced *p = xcalloc(m->n_offerings, sizeof *p);
	size_t np = 0;
	for (size_t i = 0; i < m->n_offerings; i++)
		if (offering_blended(&m->offerings[i], &p[np].blended))
			p[np++].index = i;
	ssize_t chosen = -1;
	if (np > 0) {
		qsort(p, np, sizeof *p, priced_qsort);
		chosen = (ssize_t)p[(np - 1) / 2].index;
	}
	free(p);
	if (chosen >= 0)
		return chosen;
	for (size_t i = 0; i < m->n_offerings; i++)
		if (offering_has_data(&m->offerings[i]))
			return (ssize_t)i;
	return -1;
}

/* ------------------------------------------------------------ models */

struct id_pair {
	const char *instance;
	const char *id;
};

static int id_pair_qsort(const void *pa, const void *pb)
{
	const struct id_pair *a = pa, *b = pb;
	int c = strcmp(a->instance, b->instance);
	return c != 0 ? c : strcmp(a->id, b->id);
}

static int str_qsort(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* SPEC §8: per instance, the ids exactly as the upstream lists them. */
static void build_source_ids(struct catalog_model *m, const struct contrib *items, size_t n)
{
	struct id_pair *pairs = xcalloc(n, sizeof *pairs);
	for (size_t i = 0; i < n; i++) {
		const char *key = record_get_string(items[i].e->rec, MF_FIELD_SOURCE_KEY);
		pairs[i].instance = items[i].src->name;
		pairs[i].id = key && *key ? key : items[i].e->rec->native_id;
	}
	qsort(pairs, n, sizeof *pairs, id_pair_qsort);
	m->source_ids = xcalloc(n, sizeof *m->source_ids);
	for (size_t i = 0; i < n; i++) {
		struct source_ids *s = m->n_source_ids ? &m->source_ids[m->n_source_ids - 1] : NULL;
		if (!s || strcmp(s->instance, pairs[i].instance) != 0) {
			s = &m->source_ids[m->n_source_ids++];
			s->instance = pairs[i].instance;
		}
		struct strlist *l = &s->ids;
		if (l->count > 0 && strcmp(l->items[l->count - 1], pairs[i].id) == 0)
			continue;
		l->items = xrealloc(l->items, (l->count + 1) * sizeof *l->items);
		l->items[l->count++] = xstrdup(pairs[i].id);
	}
	free(pairs);
}

static bool is_staging_plugin(const char *plugin)
{
	return strcmp(plugin, "huggingface") == 0 || strcmp(plugin, "community") == 0 ||
	       strcmp(plugin, "openrouter") == 0;
}

/* items: every record of the model, priority order. Returns false when
 * nothing is left to make a model of. */
static bool build_model(struct catalog_model *m, struct contrib *items, size_t n)
{
	if (n == 0)
		return false;
	m->id = xstrdup(items[0].e->model_id);
	m->maker = xstrdup(items[0].e->maker);
	m->merged = record_new(MF_RECORD_MODEL, m->id);
	m->price_from = -1;
	merge_fields(m->merged, m->provenance, items, n, true);

	/* Offerings are merged from offering records only. */
	struct contrib *offers = xcalloc(n, sizeof *offers);
	size_t n_offers = 0;
	for (size_t i = 0; i < n; i++)
		if (items[i].e->rec->kind == MF_RECORD_OFFERING)
			offers[n_offers++] = items[i];
	qsort(offers, n_offers, sizeof *offers, offering_contrib_qsort);
	build_offerings(m, offers, n_offers);
	free(offers);

	/* An overlay's removals hold for the model and every offering. */
	apply_removes(m->merged, items, n);
	for (size_t i = 0; i < m->n_offerings; i++)
		apply_removes(m->offerings[i].merged, items, n);

	/* Price and limits come whole from one offering (SPEC §6). */
	m->price_from = choose_price_from(m);
	if (m->price_from >= 0) {
		const struct mf_record *o = m->offerings[m->price_from].merged;
		record_copy_field(m->merged, o, MF_FIELD_PRICE);
		record_copy_field(m->merged, o, MF_FIELD_CONTEXT_TOKENS);
		record_copy_field(m->merged, o, MF_FIELD_MAX_OUTPUT_TOKENS);
		record_copy_field(m->merged, o, MF_FIELD_MAX_INPUT_TOKENS);
	}

	build_source_ids(m, items, n);

	char **callable = NULL;
	size_t n_callable = 0;
	for (size_t i = 0; i < n; i++) {
		const struct source_config *src = items[i].src;
		bool can = true;
		record_get_bool(items[i].e->rec, MF_FIELD_CALLABLE, &can);
		if (strcmp(src->plugin, "anyllm") == 0 && can)
			add_unique(&callable, &n_callable, src->name);
		if (is_staging_plugin(src->plugin))
			m->staging = true;
	}
	if (n_callable > 1)
		qsort(callable, n_callable, sizeof *callable, str_qsort);
	m->callable_via.items = callable;
	m->callable_via.count = n_callable;
	return true;
}

static int int64_qsort(const void *pa, const void *pb)
{
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
	return a < b ? -1 : a > b;
}

/* SPEC §8; the definition is in merge.h. */
static void compute_popularity(struct catalog *cat)
{
	int64_t *downloads = xcalloc(cat->n_models + 1, sizeof *downloads);
	size_t n = 0;
	for (size_t i = 0; i < cat->n_models; i++)
		if (record_get_int(cat->models[i].merged, MF_FIELD_DOWNLOADS, &downloads[n]))
			n++;
	qsort(downloads, n, sizeof *downloads, int64_qsort);
	for (size_t i = 0; i < cat->n_models; i++) {
		struct catalog_model *m = &cat->models[i];
		double score = 0;
		int64_t d, rank;
		if (record_get_int(m->merged, MF_FIELD_DOWNLOADS, &d)) {
			/* Models with at most d downloads: binary search for the
			 * first larger count. */
			size_t lo = 0, hi = n;
			while (lo < hi) {
				size_t mid = (lo + hi) / 2;
				if (downloads[mid] <= d)
					lo = mid + 1;
				else
					hi = mid;
			}
			score = 100.0 * (double)lo / (double)n;
		}
		if (record_get_int(m->merged, MF_FIELD_RANK, &rank) &&
		    merge_rank_score(rank) > score)
			score = merge_rank_score(rank);
		m->popularity_score = round(score * 100.0) / 100.0;
	}
	free(downloads);
}

static void model_free(struct catalog_model *m)
{
	free(m->id);
	free(m->maker);
	record_free(m->merged);
	for (size_t i = 0; i < m->n_offerings; i++) {
		struct catalog_offering *o = &m->offerings[i];
		free(o->provider);
		free(o->native_id);
		record_free(o->merged);
		for (size_t k = 0; k < o->n_sources; k++)
			free(o->sources[k]);
		free(o->sources);
	}
	free(m->offerings);
	for (size_t i = 0; i < m->n_source_ids; i++) {
		for (size_t k = 0; k < m->source_ids[i].ids.count; k++)
			free(m->source_ids[i].ids.items[k]);
		free(m->source_ids[i].ids.items);
	}
	free(m->source_ids);
	for (size_t i = 0; i < m->callable_via.count; i++)
		free(m->callable_via.items[i]);
	free(m->callable_via.items);
	memset(m, 0, sizeof *m);
}

void catalog_free(struct catalog *cat)
{
	for (size_t i = 0; i < cat->n_models; i++)
		model_free(&cat->models[i]);
	free(cat->models);
	cat->models = NULL;
	cat->n_models = 0;
	if (cat->derived && cat->derived_free)
		cat->derived_free(cat->derived);
	cat->derived = NULL;
	cat->derived_free = NULL;
}

/* The records of one model id, gathered in one pass over the mapping. */
struct group {
	const char *id; /* borrowed from the first mapping entry */
	struct contrib *items;
	size_t count;
	size_t cap;
};

static int group_qsort(const void *pa, const void *pb)
{
	const struct group *a = *(struct group *const *)pa, *b = *(struct group *const *)pb;
	return strcmp(a->id, b->id);
}

static const struct source_config *entry_source(const struct config *cfg,
						const struct source_result *results,
						size_t n_results, const struct mapping_entry *e)
{
	if (e->result->source)
		return e->result->source;
	if (e->result >= results && e->result < results + n_results &&
	    (size_t)(e->result - results) < cfg->n_sources)
		return &cfg->sources[e->result - results];
	return NULL;
}

int merge_build(const struct config *cfg, const struct source_result *results, size_t n_results,
		const struct mapping *map, struct catalog *out)
{
	*out = (struct catalog){0};

	struct strmap index;
	strmap_init(&index);
	struct group **groups = NULL;
	size_t n_groups = 0;
	for (size_t i = 0; i < map->count; i++) {
		const struct mapping_entry *e = &map->items[i];
		const struct source_config *src = entry_source(cfg, results, n_results, e);
		if (!src) {
			log_warning("merge: a record of %s has no source configuration, skipped",
				    e->model_id);
			continue;
		}
		struct contrib c = {.e = e, .src = src, .order = i};
		if (e->rec->kind == MF_RECORD_OFFERING) {
			const char *p = record_get_string(e->rec, MF_FIELD_PROVIDER);
			c.provider = p && *p ? p : src->name;
			/* An excluded offering contributes nothing at all, so that
			 * a wrong listing cannot leak its fields into the model. */
			if (excluded(cfg, c.provider, e->rec->native_id))
				continue;
		}
		struct group *g = strmap_get(&index, e->model_id);
		if (!g) {
			g = xcalloc(1, sizeof *g);
			g->id = e->model_id;
			strmap_put(&index, e->model_id, g);
			groups = xrealloc(groups, (n_groups + 1) * sizeof *groups);
			groups[n_groups++] = g;
		}
		if (g->count == g->cap) {
			g->cap = g->cap ? g->cap * 2 : 4;
			g->items = xrealloc(g->items, g->cap * sizeof *g->items);
		}
		g->items[g->count++] = c;
	}
	strmap_free(&index, NULL);

	if (n_groups > 1)
		qsort(groups, n_groups, sizeof *groups, group_qsort);
	out->models = n_groups ? xcalloc(n_groups, sizeof *out->models) : NULL;
	for (size_t i = 0; i < n_groups; i++) {
		struct group *g = groups[i];
		qsort(g->items, g->count, sizeof *g->items, contrib_qsort);
		if (build_model(&out->models[out->n_models], g->items, g->count))
			out->n_models++;
		free(g->items);
		free(g);
	}
	free(groups);
	compute_popularity(out);
	return 0;
}
