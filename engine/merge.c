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

static uint64_t field_bit(enum mf_field field)
{
	return (uint64_t)1 << (unsigned)field;
}

/* The masks of merge_field_is_control and merge_field_is_offering_level. */
static uint64_t control_mask(void)
{
	return field_bit(MF_FIELD_REMOVE) | field_bit(MF_FIELD_REPLACE) |
	       field_bit(MF_FIELD_PINNED);
}

static uint64_t offering_level_mask(void)
{
	static uint64_t mask;
	if (!mask) {
		for (int fi = 1; fi < MF_FIELD_COUNT; fi++)
			if (merge_field_is_offering_level((enum mf_field)fi))
				mask |= field_bit((enum mf_field)fi);
	}
	return mask;
}

static size_t bit_count(uint64_t m)
{
	size_t n = 0;
	for (; m; m &= m - 1)
		n++;
	return n;
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
			size_t n, enum mf_field f, bool controls)
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
			if (controls && names_field(rec, MF_FIELD_REPLACE, f))
				record_unset(dst, f);
			/* The first list is copied whole (it has no duplicates);
			 * an explicitly empty list still counts as known. */
			if (!record_has(dst, f)) {
				record_copy_field(dst, rec, f);
				continue;
			}
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
		if (!prov[f]) {
			/* The first map is copied whole. */
			prov[f] = items[i].src->name;
			record_copy_field(dst, items[i].e->rec, f);
			continue;
		}
		for (size_t k = 0; k < m->count; k++) {
			double ignored;
			if (!nummap_get(record_get_map(dst, f), m->items[k].key, &ignored))
				record_map_set(dst, f, m->items[k].key, m->items[k].value);
		}
	}
}

/* Merge every field of items (priority order, highest first) into dst.
 * Unset fields never erase: the first record that has a value gives it.
 * Only fields some record has are visited; controls says whether any
 * record carries overlay controls (pinned, replace). */
static void merge_fields(struct mf_record *dst, const char **prov, const struct contrib *items,
			 size_t n, bool model_level, bool controls)
{
	uint64_t fields = 0;
	for (size_t i = 0; i < n; i++)
		fields |= record_field_mask(items[i].e->rec);
	fields &= ~control_mask();
	if (model_level)
		fields &= ~offering_level_mask();
	/* Room for what comes, and for the price and limits of a model. */
	record_reserve(dst, bit_count(fields) + (model_level ? 4 : 1));
	for (uint64_t left = fields; left; left &= left - 1) {
		enum mf_field f = (enum mf_field)__builtin_ctzll(left);
		const struct field_info *info = field_info(f);
		if (!info)
			continue;
		/* A pinned value beats every precedence. */
		size_t pinned = n;
		for (size_t i = 0; controls && i < n && pinned == n; i++)
			if (record_has(items[i].e->rec, f) &&
			    names_field(items[i].e->rec, MF_FIELD_PINNED, f))
				pinned = i;
		if (pinned < n) {
			record_copy_field(dst, items[pinned].e->rec, f);
			prov[f] = items[pinned].src->name;
			continue;
		}
		if (field_is_union(f)) {
			merge_union(dst, prov, items, n, f, controls);
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

/* ------------------------------------------------------------ shared parts */

/*
 * Provenance vectors are interned per catalog: models fed by the same
 * sources with the same fields (most of them, at scale) share one vector
 * instead of holding MF_FIELD_COUNT pointers each.
 */
struct merge_pool {
	const char ***slots; /* open addressing; each a vector of MF_FIELD_COUNT */
	size_t cap;
	size_t count;
};

static uint64_t prov_hash(const char *const *v)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL;
	for (int f = 0; f < MF_FIELD_COUNT; f++) {
		h = (h ^ (uint64_t)(uintptr_t)v[f]) * 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
	}
	return h;
}

static const char *const *prov_intern(struct merge_pool *p, const char *const *v)
{
	if ((p->count + 1) * 2 > p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		const char ***slots = xcalloc(cap, sizeof *slots);
		for (size_t i = 0; i < p->cap; i++) {
			if (!p->slots[i])
				continue;
			size_t k = prov_hash(p->slots[i]) & (cap - 1);
			while (slots[k])
				k = (k + 1) & (cap - 1);
			slots[k] = p->slots[i];
		}
		free(p->slots);
		p->slots = slots;
		p->cap = cap;
	}
	size_t size = MF_FIELD_COUNT * sizeof *v;
	size_t k = prov_hash(v) & (p->cap - 1);
	for (; p->slots[k]; k = (k + 1) & (p->cap - 1))
		if (memcmp(p->slots[k], v, size) == 0)
			return p->slots[k];
	p->slots[k] = xmalloc(size);
	memcpy(p->slots[k], v, size);
	p->count++;
	return p->slots[k];
}

static void pool_free(struct merge_pool *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->cap; i++)
		free(p->slots[i]);
	free(p->slots);
	free(p);
}

void catalog_set_provenance(struct catalog *cat, const char *const **prov, enum mf_field field,
			    const char *source)
{
	if (!field_valid((int)field))
		return;
	const char *v[MF_FIELD_COUNT] = {0};
	if (*prov)
		memcpy(v, *prov, sizeof v);
	v[field] = source;
	if (!cat->pool)
		cat->pool = xcalloc(1, sizeof *cat->pool);
	*prov = prov_intern(cat->pool, v);
}

struct mf_record *catalog_offering_writable(struct catalog_offering *o)
{
	if (o->merged_borrowed) {
		o->merged = record_clone(o->merged);
		o->merged_borrowed = false;
	}
	return o->merged;
}

struct mf_record *catalog_model_writable(struct catalog_model *m)
{
	if (m->merged_borrowed) {
		const struct mf_record *src = m->merged;
		m->merged = record_new(MF_RECORD_MODEL, m->id);
		for (uint64_t left = record_field_mask(src); left; left &= left - 1)
			record_copy_field(m->merged, src, (enum mf_field)__builtin_ctzll(left));
		m->merged_borrowed = false;
	}
	return m->merged;
}

/* Scratch arrays reused from one model to the next. */
struct scratch {
	struct contrib *offers;
	size_t offers_cap;
	void *pairs;
	size_t pairs_cap;
};

static void *scratch_grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n <= *cap)
		return p;
	*cap = n < 64 ? 64 : n;
	return xrealloc(p, *cap * size);
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

/* The provenance of a record taken whole: every field from src. */
static const char *const *whole_provenance(struct merge_pool *pool, const struct mf_record *rec,
					   const char *src)
{
	const char *prov[MF_FIELD_COUNT] = {0};
	for (uint64_t left = record_field_mask(rec); left; left &= left - 1)
		prov[__builtin_ctzll(left)] = src;
	return prov_intern(pool, prov);
}

/* items: the model's offering records sorted by offering_contrib_qsort.
 * controls: some record of the model carries overlay controls. */
static void build_offerings(struct merge_pool *pool, struct catalog_model *m,
			    const struct contrib *items, size_t n, bool controls)
{
	m->offerings = n ? xcalloc(n, sizeof *m->offerings) : NULL;
	size_t start = 0;
	while (start < n) {
		size_t end = start + 1;
		while (end < n && strcmp(items[end].provider, items[start].provider) == 0 &&
		       strcmp(items[end].e->rec->native_id, items[start].e->rec->native_id) == 0)
			end++;
		const struct contrib *c = &items[start];
		const struct mf_record *rec = c->e->rec;
		struct catalog_offering *o = &m->offerings[m->n_offerings++];
		/* Borrowed: the provider string lives in the record or the
		 * config, the id in the record. */
		o->provider = (char *)c->provider;
		o->native_id = rec->native_id;
		const char *rec_provider = record_get_string(rec, MF_FIELD_PROVIDER);
		if (end - start == 1 && !controls && rec_provider && *rec_provider) {
			/* One record that already names its provider: merging
			 * it would only copy it. */
			o->merged = (struct mf_record *)rec;
			o->merged_borrowed = true;
			o->provenance = whole_provenance(pool, rec, c->src->name);
		} else {
			const char *prov[MF_FIELD_COUNT] = {0};
			o->merged = record_new(MF_RECORD_OFFERING, o->native_id);
			merge_fields(o->merged, prov, items + start, end - start, false, controls);
			record_set_string(o->merged, MF_FIELD_PROVIDER, o->provider);
			o->provenance = prov_intern(pool, prov);
		}
		if (end - start == 1) {
			/* The one name is the config's own (read-only). */
			o->sources = (char **)&c->src->name;
			o->n_sources = 1;
			o->first_party = c->e->first_party;
		} else {
			for (size_t i = start; i < end; i++) {
				add_unique(&o->sources, &o->n_sources, items[i].src->name);
				o->first_party = o->first_party || items[i].e->first_party;
			}
			/* One instance listed it several times: its name is
			 * borrowed like any single name (model_free frees only
			 * lists of several). */
			if (o->n_sources == 1) {
				free(o->sources[0]);
				free(o->sources);
				o->sources = (char **)&c->src->name;
			}
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

/* SPEC §8: per instance, the ids exactly as the upstream lists them. The
 * ids are the records' own strings; the entries and their id arrays are
 * one allocation. */
static void build_source_ids(struct catalog_model *m, const struct contrib *items, size_t n,
			     struct scratch *sc)
{
	sc->pairs = scratch_grow(sc->pairs, &sc->pairs_cap, n, sizeof(struct id_pair));
	struct id_pair *pairs = sc->pairs;
	for (size_t i = 0; i < n; i++) {
		const char *key = record_get_string(items[i].e->rec, MF_FIELD_SOURCE_KEY);
		pairs[i].instance = items[i].src->name;
		pairs[i].id = key && *key ? key : items[i].e->rec->native_id;
	}
	if (n > 1)
		qsort(pairs, n, sizeof *pairs, id_pair_qsort);
	m->source_ids = xmalloc(n * (sizeof *m->source_ids + sizeof(char *)));
	char **ids = (char **)(void *)(m->source_ids + n);
	size_t n_ids = 0;
	for (size_t i = 0; i < n; i++) {
		struct source_ids *s = m->n_source_ids ? &m->source_ids[m->n_source_ids - 1] : NULL;
		if (!s || strcmp(s->instance, pairs[i].instance) != 0) {
			s = &m->source_ids[m->n_source_ids++];
			s->instance = pairs[i].instance;
			s->ids = (struct strlist){.items = ids + n_ids, .count = 0};
		}
		struct strlist *l = &s->ids;
		if (l->count > 0 && strcmp(l->items[l->count - 1], pairs[i].id) == 0)
			continue;
		l->items[l->count++] = (char *)pairs[i].id;
		n_ids++;
	}
}

static bool is_staging_plugin(const char *plugin)
{
	return strcmp(plugin, "huggingface") == 0 || strcmp(plugin, "community") == 0 ||
	       strcmp(plugin, "openrouter") == 0;
}

static void pack(struct mf_record **rec, bool borrowed)
{
	if (borrowed)
		return;
	struct mf_record *packed = record_pack(*rec);
	record_free(*rec);
	*rec = packed;
}

/* items: every record of the model, priority order. Returns false when
 * nothing is left to make a model of. */
static bool build_model(struct merge_pool *pool, struct catalog_model *m, struct contrib *items,
			size_t n, struct scratch *sc)
{
	if (n == 0)
		return false;
	/* Borrowed from the mapping, which outlives the catalog. */
	m->id = items[0].e->model_id;
	m->maker = items[0].e->maker;
	m->price_from = -1;
	bool controls = false;
	for (size_t i = 0; i < n && !controls; i++)
		controls = (record_field_mask(items[i].e->rec) & control_mask()) != 0;

	const struct mf_record *only = items[0].e->rec;
	if (n == 1 && !controls && only->kind == MF_RECORD_MODEL &&
	    !(record_field_mask(only) & offering_level_mask())) {
		/* One model record: its model-level fields are all it has, and
		 * no offering gives a price. The model reads it as it is. */
		m->merged = (struct mf_record *)only;
		m->merged_borrowed = true;
		m->provenance = whole_provenance(pool, only, items[0].src->name);
	} else {
		const char *prov[MF_FIELD_COUNT] = {0};
		m->merged = record_new(MF_RECORD_MODEL, m->id);
		merge_fields(m->merged, prov, items, n, true, controls);
		m->provenance = prov_intern(pool, prov);
	}

	/* Offerings are merged from offering records only. */
	sc->offers = scratch_grow(sc->offers, &sc->offers_cap, n, sizeof *sc->offers);
	struct contrib *offers = sc->offers;
	size_t n_offers = 0;
	for (size_t i = 0; i < n; i++)
		if (items[i].e->rec->kind == MF_RECORD_OFFERING)
			offers[n_offers++] = items[i];
	if (n_offers > 1)
		qsort(offers, n_offers, sizeof *offers, offering_contrib_qsort);
	build_offerings(pool, m, offers, n_offers, controls);

	/* An overlay's removals hold for the model and every offering. */
	if (controls) {
		apply_removes(m->merged, items, n);
		for (size_t i = 0; i < m->n_offerings; i++)
			apply_removes(m->offerings[i].merged, items, n);
	}

	/* Price and limits come whole from one offering (SPEC §6). */
	m->price_from = choose_price_from(m);
	if (m->price_from >= 0) {
		const struct mf_record *o = m->offerings[m->price_from].merged;
		record_copy_field(m->merged, o, MF_FIELD_PRICE);
		record_copy_field(m->merged, o, MF_FIELD_CONTEXT_TOKENS);
		record_copy_field(m->merged, o, MF_FIELD_MAX_OUTPUT_TOKENS);
		record_copy_field(m->merged, o, MF_FIELD_MAX_INPUT_TOKENS);
	}

	/* Built field by field, with slack: kept exact from here on. */
	pack(&m->merged, m->merged_borrowed);
	for (size_t i = 0; i < m->n_offerings; i++)
		pack(&m->offerings[i].merged, m->offerings[i].merged_borrowed);

	build_source_ids(m, items, n, sc);

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
	if (!m->merged_borrowed)
		record_free(m->merged);
	for (size_t i = 0; i < m->n_offerings; i++) {
		struct catalog_offering *o = &m->offerings[i];
		if (!o->merged_borrowed)
			record_free(o->merged);
		if (o->n_sources > 1) {
			for (size_t k = 0; k < o->n_sources; k++)
				free(o->sources[k]);
			free(o->sources);
		}
	}
	free(m->offerings);
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
	pool_free(cat->pool);
	cat->pool = NULL;
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

/* One model's records in the grouped array. */
struct span {
	uint64_t prefix; /* the id's first 8 bytes, big-endian, zero-padded */
	const char *id;
	size_t begin;
	size_t end;
};

static uint64_t id_prefix(const char *id)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++) {
		v = v << 8 | (unsigned char)*id;
		if (*id)
			id++;
	}
	return v;
}

/* strcmp order: the prefixes compare as the first 8 bytes do, and most
 * ids differ there, so the strings are seldom read. */
static int span_qsort(const void *pa, const void *pb)
{
	const struct span *a = pa, *b = pb;
	if (a->prefix != b->prefix)
		return a->prefix < b->prefix ? -1 : 1;
	/* Equal prefixes without a zero byte: both go on past 8 bytes. */
	if ((a->prefix & 0xff) == 0)
		return strcmp(a->id, b->id);
	return strcmp(a->id + 8, b->id + 8);
}

int merge_build(const struct config *cfg, const struct source_result *results, size_t n_results,
		const struct mapping *map, struct catalog *out)
{
	*out = (struct catalog){0};
	out->pool = xcalloc(1, sizeof *out->pool);

	/* Every usable record with the number of its model (first seen
	 * order), then the records regrouped by model in one array. */
	struct contrib *all = xmalloc((map->count ? map->count : 1) * sizeof *all);
	size_t *model_of = xmalloc((map->count ? map->count : 1) * sizeof *model_of);
	size_t *counts = NULL;
	size_t n_all = 0, n_groups = 0, counts_cap = 0;
	struct strmap index;
	strmap_init_borrowed(&index, map->count);
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
		/* Group numbers are stored +1: NULL means a new model. */
		size_t g = (size_t)(uintptr_t)strmap_get(&index, e->model_id);
		if (g == 0) {
			g = ++n_groups;
			strmap_put(&index, e->model_id, (void *)(uintptr_t)g);
			counts = scratch_grow(counts, &counts_cap, n_groups, sizeof *counts);
			counts[g - 1] = 0;
		}
		counts[g - 1]++;
		model_of[n_all] = g - 1;
		all[n_all++] = c;
	}
	strmap_free(&index, NULL);

	/* Counting sort by group: each group's records stay in mapping order. */
	size_t *starts = xmalloc((n_groups + 1) * sizeof *starts);
	size_t at = 0;
	for (size_t g = 0; g < n_groups; g++) {
		starts[g] = at;
		at += counts[g];
	}
	starts[n_groups] = at;
	struct contrib *grouped = xmalloc((n_all ? n_all : 1) * sizeof *grouped);
	for (size_t i = 0; i < n_all; i++)
		grouped[starts[model_of[i]]++] = all[i];
	free(all);
	free(model_of);
	/* starts[g] now ends group g, which begins where g - 1 ends. */
	struct span *spans = xmalloc((n_groups ? n_groups : 1) * sizeof *spans);
	for (size_t g = 0; g < n_groups; g++) {
		size_t begin = g ? starts[g - 1] : 0;
		const char *id = grouped[begin].e->model_id;
		spans[g] = (struct span){
		    .prefix = id_prefix(id), .id = id, .begin = begin, .end = starts[g]};
	}
	if (n_groups > 1)
		qsort(spans, n_groups, sizeof *spans, span_qsort);

	struct scratch sc = {0};
	out->models = n_groups ? xcalloc(n_groups, sizeof *out->models) : NULL;
	for (size_t k = 0; k < n_groups; k++) {
		struct contrib *items = grouped + spans[k].begin;
		size_t n = spans[k].end - spans[k].begin;
		if (n > 1)
			qsort(items, n, sizeof *items, contrib_qsort);
		if (build_model(out->pool, &out->models[out->n_models], items, n, &sc))
			out->n_models++;
	}
	free(sc.offers);
	free(sc.pairs);
	free(spans);
	free(starts);
	free(counts);
	free(grouped);
	compute_popularity(out);
	return 0;
}
