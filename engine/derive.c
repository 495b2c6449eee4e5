#include "mf_build_config.h"
#include "derive.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "record.h"

/* ================================================================ tables */

static void weights_free(struct weight_entry *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(w[i].name);
	free(w);
}

static void weights_set(struct weight_entry **w, size_t *n, const char *name, double weight)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*w)[i].name, name) == 0) {
			(*w)[i].weight = weight;
			return;
		}
	}
	*w = xrealloc(*w, (*n + 1) * sizeof **w);
	(*w)[(*n)++] = (struct weight_entry){.name = xstrdup(name), .weight = weight};
}

static bool weights_get(const struct weight_entry *w, size_t n, const char *name, double *out)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(w[i].name, name) == 0) {
			*out = w[i].weight;
			return true;
		}
	}
	return false;
}

static void category_free(struct derive_category *c)
{
	free(c->name);
	weights_free(c->weights, c->n_weights);
	weights_free(c->source_weights, c->n_source_weights);
}

void derive_tables_free(struct derive_tables *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_categories; i++)
		category_free(&t->categories[i]);
	free(t->categories);
	weights_free(t->reputation, t->n_reputation);
	free(t);
}

static bool weight_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_' ||
		      *s == '.' || *s == '-'))
			return false;
	return true;
}

static bool category_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

static json_t *load_object(const char *path, const char *what, const char *format,
			   struct errors *errs)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (jerr.line < 1)
			errors_add(errs, "%s: cannot read %s: %s", path, what, jerr.text);
		else
			errors_add(errs, "%s:%d:%d: cannot read %s: %s", path, jerr.line,
				   jerr.column, what, jerr.text);
		return NULL;
	}
	const char *fmt = json_string_value(json_object_get(root, "format"));
	if (!json_is_object(root) || !fmt || strcmp(fmt, format) != 0) {
		errors_add(errs, "%s: %s must be an object with \"format\": \"%s\"", path, what,
			   format);
		json_decref(root);
		return NULL;
	}
	return root;
}

/* An object of name -> number in [0, max]; appended to *w in file order. */
static bool read_weights(const char *path, const char *where, const json_t *obj, double max,
			 struct weight_entry **w, size_t *n, struct errors *errs)
{
	if (!json_is_object(obj) || json_object_size(obj) == 0) {
		errors_add(errs, "%s: %s must be a non-empty object of name: number", path, where);
		return false;
	}
	bool ok = true;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v)
	{
		double d = json_number_value(v);
		if (!weight_name_ok(key) || !json_is_number(v) || d < 0 || d > max) {
			errors_add(errs,
				   "%s: %s: bad entry '%s' (a name of lowercase letters, digits, "
				   "'_', '.' and '-', and a number from 0 to %g)",
				   path, where, key, max);
			ok = false;
			continue;
		}
		weights_set(w, n, key, d);
	}
	return ok;
}

static bool read_points(const char *path, const char *name, const json_t *cat, const char *key,
			double *out, struct errors *errs)
{
	const json_t *v = json_object_get(cat, key);
	if (!v)
		return true;
	double d = json_number_value(v);
	if (!json_is_number(v) || d < 0 || d > 100) {
		errors_add(errs, "%s: category %s: %s must be a number from 0 to 100", path, name,
			   key);
		return false;
	}
	*out = d;
	return true;
}

static bool load_categories(struct derive_tables *t, const char *path,
			    struct weight_entry **sources, size_t *n_sources, struct errors *errs)
{
	json_t *root = load_object(path, "the category table", DERIVE_CATEGORIES_FORMAT, errs);
	if (!root)
		return false;
	size_t before = errs->count;
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v)
	{
		if (strcmp(key, "about") != 0 && strcmp(key, "format") != 0 &&
		    strcmp(key, "source_weights") != 0 && strcmp(key, "categories") != 0)
			errors_add(errs,
				   "%s: unknown key '%s' (expected about, format, source_weights, "
				   "categories)",
				   path, key);
	}
	const json_t *sw = json_object_get(root, "source_weights");
	if (sw)
		read_weights(path, "source_weights", sw, 1000, sources, n_sources, errs);
	const json_t *cats = json_object_get(root, "categories");
	if (!json_is_array(cats) || json_array_size(cats) == 0)
		errors_add(errs, "%s: categories must be a non-empty array", path);
	size_t i;
	json_array_foreach(cats, i, v)
	{
		const char *name = json_string_value(json_object_get(v, "name"));
		if (!json_is_object(v) || !name || !category_name_ok(name)) {
			errors_add(errs,
				   "%s: categories[%zu] needs a name of lowercase letters, digits "
				   "and '_'",
				   path, i);
			continue;
		}
		bool dup = false;
		for (size_t k = 0; k < t->n_categories; k++)
			dup = dup || strcmp(t->categories[k].name, name) == 0;
		if (dup) {
			errors_add(errs, "%s: category %s is given twice", path, name);
			continue;
		}
		json_object_foreach(v, key, sw)
		{
			if (strcmp(key, "name") != 0 && strcmp(key, "weights") != 0 &&
			    strcmp(key, "latency_penalty") != 0 && strcmp(key, "cost_bonus") != 0)
				errors_add(errs,
					   "%s: category %s: unknown key '%s' (expected name, "
					   "weights, latency_penalty, cost_bonus)",
					   path, name, key);
		}
		t->categories =
		    xrealloc(t->categories, (t->n_categories + 1) * sizeof *t->categories);
		struct derive_category *c = &t->categories[t->n_categories++];
		*c = (struct derive_category){.name = xstrdup(name)};
		char *where = xasprintf("category %s: weights", name);
		read_weights(path, where, json_object_get(v, "weights"), 1000, &c->weights,
			     &c->n_weights, errs);
		free(where);
		read_points(path, name, v, "latency_penalty", &c->latency_penalty, errs);
		read_points(path, name, v, "cost_bonus", &c->cost_bonus, errs);
	}
	json_decref(root);
	return errs->count == before;
}

static bool load_reputation(struct derive_tables *t, const char *path, struct errors *errs)
{
	json_t *root =
	    load_object(path, "the provider-reputation table", DERIVE_REPUTATION_FORMAT, errs);
	if (!root)
		return false;
	size_t before = errs->count;
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v)
	{
		if (strcmp(key, "about") != 0 && strcmp(key, "format") != 0 &&
		    strcmp(key, "makers") != 0)
			errors_add(errs, "%s: unknown key '%s' (expected about, format, makers)",
				   path, key);
	}
	const json_t *makers = json_object_get(root, "makers");
	if (!json_is_object(makers))
		errors_add(errs, "%s: makers must be an object of maker: tier", path);
	json_object_foreach((json_t *)makers, key, v)
	{
		json_int_t tier = json_integer_value(v);
		if (!weight_name_ok(key) || !json_is_integer(v) || tier < 1 || tier > 5) {
			errors_add(errs,
				   "%s: makers: bad entry '%s' (a lowercase maker and a tier from "
				   "1 to 5)",
				   path, key);
			continue;
		}
		weights_set(&t->reputation, &t->n_reputation, key, (double)tier);
	}
	json_decref(root);
	return errs->count == before;
}

static int weight_name_qsort(const void *pa, const void *pb)
{
	return strcmp(((const struct weight_entry *)pa)->name,
		      ((const struct weight_entry *)pb)->name);
}

/* The [category NAME] sections over the table. Returns false with errors
 * added when a section cannot be applied. */
static bool apply_config(struct derive_tables *t, const struct config *cfg,
			 const struct weight_entry *sources, size_t n_sources, struct errors *errs)
{
	size_t before = errs->count;
	size_t n_shipped = t->n_categories;
	bool *drop = xcalloc(n_shipped + cfg->n_categories + 1, sizeof *drop);
	for (size_t i = 0; i < cfg->n_categories; i++) {
		const struct category_config *cc = &cfg->categories[i];
		struct derive_category *c = NULL;
		size_t at = 0;
		for (size_t k = 0; k < t->n_categories && !c; k++)
			if (strcmp(t->categories[k].name, cc->name) == 0)
				c = &t->categories[at = k];
		if (!c) {
			if (!cc->weights_set) {
				struct strbuf known;
				strbuf_init(&known);
				for (size_t k = 0; k < n_shipped; k++)
					strbuf_printf(&known, "%s%s", k ? ", " : "",
						      t->categories[k].name);
				errors_add(errs,
					   "%s:%d: [category %s] is not a shipped category (%s): "
					   "a new one needs weights",
					   cfg->path, cc->line, cc->name, known.data);
				strbuf_free(&known);
				continue;
			}
			t->categories =
			    xrealloc(t->categories, (t->n_categories + 1) * sizeof *t->categories);
			at = t->n_categories++;
			c = &t->categories[at];
			*c = (struct derive_category){
			    .name = xstrdup(cc->name),
			    .half_life_days = cfg->derive_half_life_days,
			};
			for (size_t k = 0; k < n_sources; k++)
				weights_set(&c->source_weights, &c->n_source_weights,
					    sources[k].name, sources[k].weight);
		}
		if (cc->weights_set) {
			weights_free(c->weights, c->n_weights);
			c->weights = NULL;
			c->n_weights = 0;
			for (size_t k = 0; k < cc->n_weights; k++)
				weights_set(&c->weights, &c->n_weights, cc->weights[k].name,
					    cc->weights[k].weight);
		}
		for (size_t k = 0; k < cc->n_source_weights; k++)
			weights_set(&c->source_weights, &c->n_source_weights,
				    cc->source_weights[k].name, cc->source_weights[k].weight);
		if (cc->half_life_days_set)
			c->half_life_days = cc->half_life_days;
		if (cc->latency_penalty_set)
			c->latency_penalty = cc->latency_penalty;
		if (cc->cost_bonus_set)
			c->cost_bonus = cc->cost_bonus;
		if (cc->enabled_set && !cc->enabled)
			drop[at] = true;
	}
	/* Disabled categories go; the rest keep their order. */
	size_t kept = 0;
	for (size_t i = 0; i < t->n_categories; i++) {
		if (drop[i])
			category_free(&t->categories[i]);
		else
			t->categories[kept++] = t->categories[i];
	}
	t->n_categories = kept;
	free(drop);
	return errs->count == before;
}

struct derive_tables *derive_tables_load_files(const char *categories_path,
					       const char *reputation_path,
					       const struct config *cfg, struct errors *errs)
{
	struct derive_tables *t = xcalloc(1, sizeof *t);
	t->max_price = cfg ? cfg->derive_max_price : 10000;
	struct weight_entry *sources = NULL;
	size_t n_sources = 0;
	bool ok =
	    !categories_path || load_categories(t, categories_path, &sources, &n_sources, errs);
	if (ok && reputation_path)
		ok = load_reputation(t, reputation_path, errs);
	/* Every category starts from the global half-life and source weights;
	 * its own section changes them. */
	for (size_t i = 0; ok && i < t->n_categories; i++) {
		struct derive_category *c = &t->categories[i];
		c->half_life_days = cfg ? cfg->derive_half_life_days : 0;
		for (size_t k = 0; k < n_sources; k++)
			weights_set(&c->source_weights, &c->n_source_weights, sources[k].name,
				    sources[k].weight);
	}
	if (ok && cfg)
		ok = apply_config(t, cfg, sources, n_sources, errs);
	weights_free(sources, n_sources);
	if (!ok) {
		derive_tables_free(t);
		return NULL;
	}
	if (t->n_reputation > 1)
		qsort(t->reputation, t->n_reputation, sizeof *t->reputation, weight_name_qsort);
	return t;
}

/* A shipped table that is not installed costs what it provides, with a
 * warning, not the run: a partial install still builds its catalog. */
static char *shipped(const char *dir, const char *name, const char *loss)
{
	char *path = xasprintf("%s/%s", dir, name);
	if (access(path, F_OK) == 0)
		return path;
	log_warning("%s is not installed: %s", path, loss);
	free(path);
	return NULL;
}

struct derive_tables *derive_tables_load(const struct config *cfg, struct errors *errs)
{
	const char *dir = mapper_data_dir();
	char *categories = shipped(dir, "categories.json", "no category scores");
	char *reputation = NULL;
	if (cfg && cfg->derive_reputation_set) {
		if (cfg->derive_reputation)
			reputation = xstrdup(cfg->derive_reputation);
	} else {
		reputation =
		    shipped(dir, "reputation.json", "unrated models get the default quality tier");
	}
	struct derive_tables *t = derive_tables_load_files(categories, reputation, cfg, errs);
	free(categories);
	free(reputation);
	return t;
}

/* ================================================================ numbers */

double derive_quantile(const double *sorted, size_t n, int k)
{
	if (n == 0)
		return 0;
	/* h = (n - 1) k / 5 in integers, so that the cut points are exact. */
	size_t num = (n - 1) * (size_t)k;
	size_t lo = num / 5;
	double frac = (double)(num % 5) / 5.0;
	if (lo + 1 >= n)
		return sorted[n - 1];
	return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

int derive_tier_of(double v, const double *sorted, size_t n, bool less_is_better)
{
	if (n == 0 || sorted[0] == sorted[n - 1])
		return 3;
	int tier = 1;
	for (int k = 1; k <= 4; k++) {
		if (less_is_better && v > derive_quantile(sorted, n, k))
			tier++;
		if (!less_is_better && v < derive_quantile(sorted, n, 5 - k))
			tier++;
	}
	return tier;
}

double derive_percentile(const double *sorted, size_t n, double v)
{
	if (n < 2)
		return 50;
	/* First index >= v, first index > v: binary searches. */
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (sorted[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t below = lo;
	hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (sorted[mid] <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t equal = lo - below;
	double rank = (double)below + (equal > 0 ? (double)(equal - 1) / 2.0 : 0);
	return 100.0 * rank / (double)(n - 1);
}

static double round_to(double v, double unit)
{
	return round(v / unit) * unit;
}

static int double_qsort(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;
	return a < b ? -1 : a > b;
}

/* A growable list of values to sort. */
struct values {
	double *v;
	size_t n;
	size_t cap;
};

static void values_push(struct values *vs, double v)
{
	if (vs->n == vs->cap) {
		vs->cap = vs->cap ? vs->cap * 2 : 16;
		vs->v = xrealloc(vs->v, vs->cap * sizeof *vs->v);
	}
	vs->v[vs->n++] = v;
}

static void values_sort(struct values *vs)
{
	if (vs->n > 1)
		qsort(vs->v, vs->n, sizeof *vs->v, double_qsort);
}

/* ================================================================ dates */

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int num(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int days_in_month(int year, int month)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return month == 2 && leap ? 29 : days[month - 1];
}

bool derive_date_valid(const char *s)
{
	size_t len = strlen(s);
	if (len < 4 || !digits(s, 4) || num(s, 4) < 1900)
		return false;
	if (len == 4)
		return true;
	if (len < 7 || s[4] != '-' || !digits(s + 5, 2))
		return false;
	int month = num(s + 5, 2);
	if (month < 1 || month > 12)
		return false;
	if (len == 7)
		return true;
	if (len < 10 || s[7] != '-' || !digits(s + 8, 2))
		return false;
	int day = num(s + 8, 2);
	if (day < 1 || day > days_in_month(num(s, 4), month))
		return false;
	if (len == 10)
		return true;
	const char *t = s + 10;
	if (*t != 'T' || strlen(t) < 6 || !digits(t + 1, 2) || t[3] != ':' || !digits(t + 4, 2) ||
	    num(t + 1, 2) > 23 || num(t + 4, 2) > 59)
		return false;
	t += 6;
	if (*t == ':') {
		if (!digits(t + 1, 2) || num(t + 1, 2) > 60)
			return false;
		t += 3;
		if (*t == '.') {
			t++;
			if (!isdigit((unsigned char)*t))
				return false;
			while (isdigit((unsigned char)*t))
				t++;
		}
	}
	if (*t == '\0' || strcmp(t, "Z") == 0)
		return true;
	if (*t != '+' && *t != '-')
		return false;
	t++;
	if (!digits(t, 2) || num(t, 2) > 23)
		return false;
	t += 2;
	if (*t == ':')
		t++;
	if (*t == '\0')
		return true;
	return digits(t, 2) && num(t, 2) <= 59 && t[2] == '\0';
}

/* Seconds since the epoch of a YYYY-MM-DD day at 00:00 UTC. */
static bool day_time(const char *ymd, time_t *out)
{
	if (strlen(ymd) < 10 || !derive_date_valid(ymd) || ymd[7] != '-')
		return false;
	struct tm tm = {
	    .tm_year = num(ymd, 4) - 1900,
	    .tm_mon = num(ymd + 5, 2) - 1,
	    .tm_mday = num(ymd + 8, 2),
	};
	*out = timegm(&tm);
	return true;
}

/* ================================================================ records by model */

/* One record of a model with its source: the priority order of merge.c
 * (precedence, then instance name, then mapping order). */
struct contrib {
	const struct mapping_entry *e;
	const struct source_config *src;
	const char *provider; /* offerings: PROVIDER, else the instance name */
	size_t order;
};

/* The records of one model id, priority order. */
struct group {
	struct contrib *items;
	size_t n;
};

/* Each catalog model's group of records. */
struct model_index {
	const struct group **of_model; /* by catalog model; NULL: no records */
	struct group *groups;
	struct contrib *items; /* all groups' records, group after group */
};

static int contrib_qsort(const void *pa, const void *pb)
{
	const struct contrib *a = pa, *b = pb;
	if (a->src->precedence != b->src->precedence)
		return a->src->precedence > b->src->precedence ? -1 : 1;
	int c = strcmp(a->src->name, b->src->name);
	if (c != 0)
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

static const struct source_config *entry_source(const struct derive_input *in,
						const struct mapping_entry *e)
{
	if (e->result->source)
		return e->result->source;
	if (in->cfg && in->results && e->result >= in->results &&
	    e->result < in->results + in->n_results &&
	    (size_t)(e->result - in->results) < in->cfg->n_sources)
		return &in->cfg->sources[e->result - in->results];
	return NULL;
}

/* model id -> its records, each group in priority order: numbered by a
 * hash of the ids, regrouped in one array by a counting sort, then found
 * for each model of the catalog. */
static void index_mapping(const struct derive_input *in, const struct catalog *cat,
			  struct model_index *ix)
{
	*ix = (struct model_index){0};
	const struct mapping *map = in->mapping;
	size_t n = map ? map->count : 0;
	struct contrib *all = xmalloc((n ? n : 1) * sizeof *all);
	size_t *group_of = xmalloc((n ? n : 1) * sizeof *group_of);
	size_t *counts = xcalloc(n + 1, sizeof *counts);
	size_t n_all = 0, n_groups = 0;
	struct strmap ids;
	strmap_init_borrowed(&ids, n);
	for (size_t i = 0; i < n; i++) {
		const struct mapping_entry *e = &map->items[i];
		const struct source_config *src = entry_source(in, e);
		if (!src)
			continue;
		/* Numbers are stored +1: NULL means a new id. */
		size_t g = (size_t)(uintptr_t)strmap_get(&ids, e->model_id);
		if (g == 0) {
			g = ++n_groups;
			strmap_put(&ids, e->model_id, (void *)(uintptr_t)g);
		}
		const char *provider = NULL;
		if (e->rec->kind == MF_RECORD_OFFERING) {
			provider = record_get_string(e->rec, MF_FIELD_PROVIDER);
			if (!provider || !*provider)
				provider = src->name;
		}
		counts[g - 1]++;
		group_of[n_all] = g - 1;
		all[n_all++] =
		    (struct contrib){.e = e, .src = src, .provider = provider, .order = i};
	}

	ix->items = xmalloc((n_all ? n_all : 1) * sizeof *ix->items);
	ix->groups = xmalloc((n_groups ? n_groups : 1) * sizeof *ix->groups);
	size_t at = 0;
	for (size_t g = 0; g < n_groups; g++) {
		ix->groups[g] = (struct group){.items = ix->items + at};
		at += counts[g];
	}
	for (size_t i = 0; i < n_all; i++) {
		struct group *g = &ix->groups[group_of[i]];
		g->items[g->n++] = all[i];
	}
	for (size_t g = 0; g < n_groups; g++)
		if (ix->groups[g].n > 1)
			qsort(ix->groups[g].items, ix->groups[g].n, sizeof *ix->items,
			      contrib_qsort);
	free(all);
	free(group_of);
	free(counts);
	ix->of_model = xmalloc((cat->n_models ? cat->n_models : 1) * sizeof *ix->of_model);
	for (size_t i = 0; i < cat->n_models; i++) {
		size_t g = (size_t)(uintptr_t)strmap_get(&ids, cat->models[i].id);
		ix->of_model[i] = g ? &ix->groups[g - 1] : NULL;
	}
	strmap_free(&ids, NULL);
}

static void index_free(struct model_index *ix)
{
	free(ix->of_model);
	free(ix->groups);
	free(ix->items);
	*ix = (struct model_index){0};
}

static bool contrib_is_offering(const struct contrib *c, const struct catalog_offering *o)
{
	return c->e->rec->kind == MF_RECORD_OFFERING && strcmp(c->provider, o->provider) == 0 &&
	       strcmp(c->e->rec->native_id, o->native_id) == 0;
}

/* ================================================================ checks */

struct checker {
	const struct derive_input *in;
	struct catalog *cat;
	struct catalog_model *m;
	struct derive_model *dm;
	const struct group *g; /* the model's records; NULL without a mapping */
	bool offers_changed;   /* a check changed an offering's record */
	struct derive_result *res;
};

/* The offering's record, about to be changed by a check. */
static struct mf_record *offering_to_change(struct checker *ck, struct catalog_offering *o)
{
	ck->offers_changed = true;
	return catalog_offering_writable(o);
}

static struct derive_flag *add_flag(struct checker *ck, const char *check, const char *field,
				    const struct catalog_offering *o, const char *action,
				    char *message)
{
	struct derive_model *dm = ck->dm;
	dm->flags = xrealloc(dm->flags, (dm->n_flags + 1) * sizeof *dm->flags);
	struct derive_flag *f = &dm->flags[dm->n_flags++];
	*f = (struct derive_flag){
	    .check = check,
	    .field = xstrdup(field),
	    /* Borrowed from the catalog's sources (derive.h). */
	    .provider = o ? o->provider : NULL,
	    .id = o ? o->native_id : NULL,
	    .action = action,
	    .message = message,
	};
	ck->res->flags++;
	if (strcmp(action, DERIVE_ACTION_NULLED) == 0)
		ck->res->nulled++;
	return f;
}

static struct derive_value *add_value(struct derive_flag *f, const struct contrib *c,
				      const char *field)
{
	f->values = xrealloc(f->values, (f->n_values + 1) * sizeof *f->values);
	struct derive_value *v = &f->values[f->n_values++];
	*v = (struct derive_value){.source = c ? c->src->name : NULL, .field = field};
	if (c && c->e->rec->kind == MF_RECORD_OFFERING) {
		v->provider = (char *)c->provider;
		v->id = c->e->rec->native_id;
	}
	return v;
}

/* Every source's value of field on the records selected by o (an
 * offering's records; NULL: all the model's records). */
static void add_source_values(struct derive_flag *f, const struct checker *ck,
			      const struct catalog_offering *o, enum mf_field field,
			      const char *label)
{
	for (size_t i = 0; ck->g && i < ck->g->n; i++) {
		const struct contrib *c = &ck->g->items[i];
		if (o && !contrib_is_offering(c, o))
			continue;
		const struct mf_record *r = c->e->rec;
		const struct field_value *fv = record_field(r, field);
		if (!fv)
			continue;
		struct derive_value *v = add_value(f, c, label);
		switch (field_info(field)->type) {
		case MF_TYPE_STRING:
			v->is_string = true;
			v->string = xstrdup(fv->u.s);
			break;
		case MF_TYPE_INT:
			v->number = (double)fv->u.i;
			break;
		case MF_TYPE_REAL:
			v->number = fv->u.r;
			break;
		default:
			v->is_string = true;
			v->string = xstrdup("?");
			break;
		}
	}
}

/* Each source's price of one kind on the selected records. */
static void add_price_values(struct derive_flag *f, const struct checker *ck,
			     const struct catalog_offering *o, const char *kind)
{
	for (size_t i = 0; ck->g && i < ck->g->n; i++) {
		const struct contrib *c = &ck->g->items[i];
		double d;
		if ((o && !contrib_is_offering(c, o)) ||
		    !nummap_get(record_get_map(c->e->rec, MF_FIELD_PRICE), kind, &d))
			continue;
		add_value(f, c, NULL)->number = d;
	}
}

static const char *field_name(enum mf_field f)
{
	return field_info(f)->name;
}

/*
 * A value failing a check gives way to the next source's value of the same
 * field on the same offering (or model) that passes, since an unusable
 * value must not erase a usable one (SPEC §6); with none, the field is
 * nulled. Either way the flag lists what every source gave.
 */
static bool selected(const struct contrib *c, const struct catalog_offering *o)
{
	return o ? contrib_is_offering(c, o) : true;
}

/* The first record (priority order) with field in [lo, hi]. */
static const struct contrib *next_int(const struct checker *ck, const struct catalog_offering *o,
				      enum mf_field field, int64_t lo, int64_t hi, int64_t *out)
{
	for (size_t i = 0; ck->g && i < ck->g->n; i++) {
		const struct contrib *c = &ck->g->items[i];
		if (selected(c, o) && record_get_int(c->e->rec, field, out) && *out >= lo &&
		    *out <= hi)
			return c;
	}
	return NULL;
}

static char *replaced_note(const struct contrib *c, const char *value)
{
	return c ? xasprintf(": %s's %s is used", c->src->name, value) : xstrdup("");
}

/* A token limit of 0 or less means unknown (SPEC §3). */
static void check_positive(struct checker *ck, struct catalog_offering *o, enum mf_field field)
{
	const struct mf_record *r = o->merged;
	int64_t v, other = 0;
	if (!record_get_int(r, field, &v) || v > 0)
		return;
	const struct contrib *next = next_int(ck, o, field, 1, INT64_MAX, &other);
	char buf[32];
	snprintf(buf, sizeof buf, "%lld", (long long)other);
	char *note = replaced_note(next, buf);
	if (next) {
		record_set_int(offering_to_change(ck, o), field, other);
		catalog_set_provenance(ck->cat, &o->provenance, field, next->src->name);
	} else {
		record_unset(offering_to_change(ck, o), field);
	}
	struct derive_flag *f =
	    add_flag(ck, DERIVE_CHECK_NOT_POSITIVE, field_name(field), o,
		     next ? DERIVE_ACTION_REPLACED : DERIVE_ACTION_NULLED,
		     xasprintf("%s %lld means unknown%s", field_name(field), (long long)v, note));
	free(note);
	add_source_values(f, ck, o, field, NULL);
}

static void check_over_context(struct checker *ck, struct catalog_offering *o, enum mf_field field,
			       const char *check)
{
	const struct mf_record *r = o->merged;
	int64_t limit, ctx, other = 0;
	if (!record_get_int(r, field, &limit) ||
	    !record_get_int(r, MF_FIELD_CONTEXT_TOKENS, &ctx) || limit <= ctx)
		return;
	const struct contrib *next = next_int(ck, o, field, 1, ctx, &other);
	char buf[32];
	snprintf(buf, sizeof buf, "%lld", (long long)other);
	char *note = replaced_note(next, buf);
	if (next) {
		record_set_int(offering_to_change(ck, o), field, other);
		catalog_set_provenance(ck->cat, &o->provenance, field, next->src->name);
	} else {
		record_unset(offering_to_change(ck, o), field);
	}
	struct derive_flag *f = add_flag(
	    ck, check, field_name(field), o, next ? DERIVE_ACTION_REPLACED : DERIVE_ACTION_NULLED,
	    xasprintf("%s %lld is above context_tokens %lld%s", field_name(field), (long long)limit,
		      (long long)ctx, note));
	free(note);
	add_source_values(f, ck, o, field, field_name(field));
	add_source_values(f, ck, o, MF_FIELD_CONTEXT_TOKENS, field_name(MF_FIELD_CONTEXT_TOKENS));
}

static bool price_ok(double v, double max)
{
	return isfinite(v) && v >= 0 && v < max;
}

static void check_prices(struct checker *ck, struct catalog_offering *o)
{
	const struct mf_record *r = o->merged;
	const struct nummap *price = record_get_map(r, MF_FIELD_PRICE);
	if (!price)
		return;
	double max = ck->in->tables->max_price;
	struct nummap kept = {0};
	bool changed = false;
	for (size_t i = 0; i < price->count; i++) {
		const struct nummap_entry *e = &price->items[i];
		if (price_ok(e->value, max)) {
			kept.items = xrealloc(kept.items, (kept.count + 1) * sizeof *kept.items);
			kept.items[kept.count++] = *e;
			continue;
		}
		changed = true;
		const struct contrib *next = NULL;
		double other = 0;
		for (size_t k = 0; ck->g && k < ck->g->n && !next; k++) {
			const struct contrib *c = &ck->g->items[k];
			if (contrib_is_offering(c, o) &&
			    nummap_get(record_get_map(c->e->rec, MF_FIELD_PRICE), e->key, &other) &&
			    price_ok(other, max))
				next = c;
		}
		if (next) {
			kept.items = xrealloc(kept.items, (kept.count + 1) * sizeof *kept.items);
			kept.items[kept.count++] =
			    (struct nummap_entry){.key = e->key, .value = other};
		}
		char buf[32];
		snprintf(buf, sizeof buf, "%g", other);
		char *note = replaced_note(next, buf);
		bool negative = e->value < 0 || !isfinite(e->value);
		char *path = xasprintf("price.%s_per_million", e->key);
		struct derive_flag *f = add_flag(
		    ck, negative ? DERIVE_CHECK_NEGATIVE_PRICE : DERIVE_CHECK_IMPLAUSIBLE_PRICE,
		    path, o, next ? DERIVE_ACTION_REPLACED : DERIVE_ACTION_NULLED,
		    negative ? xasprintf("%s price %g is negative%s", e->key, e->value, note)
			     : xasprintf("%s price %g USD per 1M tokens is not plausible (the "
					 "limit is %g)%s",
					 e->key, e->value, max, note));
		free(note);
		free(path);
		add_price_values(f, ck, o, e->key);
	}
	if (changed) {
		/* Rebuild the map from copies before the old one is freed. */
		char **keys = xcalloc(kept.count + 1, sizeof *keys);
		for (size_t i = 0; i < kept.count; i++)
			keys[i] = xstrdup(kept.items[i].key);
		struct mf_record *w = offering_to_change(ck, o);
		record_unset(w, MF_FIELD_PRICE);
		for (size_t i = 0; i < kept.count; i++) {
			record_map_set(w, MF_FIELD_PRICE, keys[i], kept.items[i].value);
			free(keys[i]);
		}
		free(keys);
	}
	free(kept.items);
}

static const enum mf_field date_fields[] = {
    MF_FIELD_RELEASE_DATE,    MF_FIELD_LAST_UPDATED,	 MF_FIELD_KNOWLEDGE, MF_FIELD_CREATED,
    MF_FIELD_EXPIRATION_DATE, MF_FIELD_DEPRECATION_DATE, MF_FIELD_REVIEWED,
};

/* Dates of an offering (o) or of the model (o NULL). */
static void check_dates(struct checker *ck, struct catalog_offering *o)
{
	const struct mf_record *r = o ? o->merged : ck->m->merged;
	const char *const **prov = o ? &o->provenance : &ck->m->provenance;
	for (size_t i = 0; i < sizeof date_fields / sizeof date_fields[0]; i++) {
		enum mf_field field = date_fields[i];
		const char *s = record_get_string(r, field);
		if (!s || derive_date_valid(s))
			continue;
		const struct contrib *next = NULL;
		const char *other = NULL;
		for (size_t k = 0; ck->g && k < ck->g->n && !next; k++) {
			const struct contrib *c = &ck->g->items[k];
			other = record_get_string(c->e->rec, field);
			if (selected(c, o) && other && derive_date_valid(other))
				next = c;
		}
		char *note = replaced_note(next, next ? other : "");
		char *msg =
		    xasprintf("%s '%s' is not an ISO 8601 date%s", field_name(field), s, note);
		free(note);
		struct mf_record *w = o ? offering_to_change(ck, o) : catalog_model_writable(ck->m);
		r = w;
		if (next) {
			record_set_string(w, field, other);
			catalog_set_provenance(ck->cat, prov, field, next->src->name);
		} else {
			record_unset(w, field);
		}
		struct derive_flag *f =
		    add_flag(ck, DERIVE_CHECK_BAD_DATE, field_name(field), o,
			     next ? DERIVE_ACTION_REPLACED : DERIVE_ACTION_NULLED, msg);
		add_source_values(f, ck, o, field, NULL);
	}
}

/* Offerings are sorted by provider and id (merge.h): a binary search. */
static bool model_has_offering(const struct catalog_model *m, const struct contrib *c)
{
	if (c->e->rec->kind != MF_RECORD_OFFERING)
		return false;
	size_t lo = 0, hi = m->n_offerings;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct catalog_offering *o = &m->offerings[mid];
		int cmp = strcmp(o->provider, c->provider);
		if (cmp == 0)
			cmp = strcmp(o->native_id, c->e->rec->native_id);
		if (cmp == 0)
			return true;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Sources (and offerings) disagreeing by more than 2x: flagged, the value
 * precedence chose is kept (which one is wrong cannot be told, and
 * providers may legitimately differ). kind: a price kind, or NULL for the
 * context. */
static void check_disagreement(struct checker *ck, const char *kind)
{
	if (!ck->g)
		return;
	double lo = INFINITY, hi = 0;
	size_t n = 0;
	for (size_t i = 0; i < ck->g->n; i++) {
		const struct contrib *c = &ck->g->items[i];
		if (c->e->rec->kind != MF_RECORD_OFFERING || !model_has_offering(ck->m, c))
			continue;
		double v = 0;
		int64_t t = 0;
		if (kind) {
			if (!nummap_get(record_get_map(c->e->rec, MF_FIELD_PRICE), kind, &v) ||
			    v <= 0 || v >= ck->in->tables->max_price)
				continue;
		} else {
			if (!record_get_int(c->e->rec, MF_FIELD_CONTEXT_TOKENS, &t) || t <= 0)
				continue;
			v = (double)t;
		}
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
		n++;
	}
	if (n < 2 || hi <= 2 * lo)
		return;
	char *path = kind ? xasprintf("price.%s_per_million", kind) : xstrdup("context_tokens");
	struct derive_flag *f = add_flag(
	    ck, DERIVE_CHECK_DISAGREEMENT, path, NULL, DERIVE_ACTION_KEPT,
	    xasprintf("%zu offering values from %g to %g differ by more than 2x", n, lo, hi));
	free(path);
	for (size_t i = 0; i < ck->g->n; i++) {
		const struct contrib *c = &ck->g->items[i];
		if (c->e->rec->kind != MF_RECORD_OFFERING || !model_has_offering(ck->m, c))
			continue;
		double v = 0;
		int64_t t = 0;
		if (kind ? nummap_get(record_get_map(c->e->rec, MF_FIELD_PRICE), kind, &v) &&
			       v > 0 && v < ck->in->tables->max_price
			 : record_get_int(c->e->rec, MF_FIELD_CONTEXT_TOKENS, &t) && t > 0)
			add_value(f, c, NULL)->number = kind ? v : (double)t;
	}
}

static void check_model(struct checker *ck)
{
	struct catalog_model *m = ck->m;
	for (size_t i = 0; i < m->n_offerings; i++) {
		struct catalog_offering *o = &m->offerings[i];
		check_positive(ck, o, MF_FIELD_CONTEXT_TOKENS);
		check_positive(ck, o, MF_FIELD_MAX_OUTPUT_TOKENS);
		check_positive(ck, o, MF_FIELD_MAX_INPUT_TOKENS);
		check_over_context(ck, o, MF_FIELD_MAX_OUTPUT_TOKENS,
				   DERIVE_CHECK_OUTPUT_OVER_CONTEXT);
		check_over_context(ck, o, MF_FIELD_MAX_INPUT_TOKENS,
				   DERIVE_CHECK_INPUT_OVER_CONTEXT);
		check_prices(ck, o);
		check_dates(ck, o);
	}
	check_dates(ck, NULL);
	check_disagreement(ck, NULL);
	check_disagreement(ck, "input");
	check_disagreement(ck, "output");
	/* The model shows its offering's values as they are now (merge
	 * copied them; only a changed offering needs it again). */
	if (ck->offers_changed && m->price_from >= 0 && (size_t)m->price_from < m->n_offerings) {
		const struct mf_record *o = m->offerings[m->price_from].merged;
		struct mf_record *w = catalog_model_writable(m);
		record_copy_field(w, o, MF_FIELD_PRICE);
		record_copy_field(w, o, MF_FIELD_CONTEXT_TOKENS);
		record_copy_field(w, o, MF_FIELD_MAX_OUTPUT_TOKENS);
		record_copy_field(w, o, MF_FIELD_MAX_INPUT_TOKENS);
	}
}

/* ================================================================ tiers */

static bool model_blended(const struct catalog_model *m, double *out)
{
	const struct nummap *price = record_get_map(m->merged, MF_FIELD_PRICE);
	double in, out_price;
	if (!nummap_get(price, "input", &in) || !nummap_get(price, "output", &out_price))
		return false;
	*out = (in + out_price) / 2;
	return true;
}

static bool model_score(const struct catalog_model *m, const char *key, double *out)
{
	return nummap_get(record_get_map(m->merged, MF_FIELD_SCORES), key, out);
}

static bool model_real(const struct catalog_model *m, enum mf_field f, double *out)
{
	return record_get_real(m->merged, f, out) && isfinite(*out) && *out > 0;
}

/* The distributions every model is placed in. */
struct populations {
	struct values blended;
	struct values overall;
	struct values creative;
	struct values speed;
	struct values ttft;
	struct strmap arena;	   /* arena score name -> struct values * */
	struct values *categories; /* per category: the scores, filled later */
	/* Per category and weight, what every model would look up again:
	 * the weight times its source's weight, and an arena score's
	 * population. */
	struct weight_plan {
		double weight;
		bool arena_kind;
		const struct values *arena; /* NULL: none */
	} **plans;
	size_t n_plans;
};

static bool is_arena_kind(const char *score)
{
	return strncmp(score, "arena.", 6) == 0 || strncmp(score, "arena-", 6) == 0;
}

static void values_free(void *p)
{
	struct values *vs = p;
	free(vs->v);
	free(vs);
}

static double source_weight(const struct derive_category *c, const char *score)
{
	const char *dot = strchr(score, '.');
	size_t len = dot ? (size_t)(dot - score) : strlen(score);
	for (size_t i = 0; i < c->n_source_weights; i++)
		if (strlen(c->source_weights[i].name) == len &&
		    strncmp(c->source_weights[i].name, score, len) == 0)
			return c->source_weights[i].weight;
	return 1.0;
}

static void collect_populations(const struct catalog *cat, const struct derive_tables *t,
				struct populations *pop)
{
	strmap_init(&pop->arena);
	for (size_t c = 0; c < t->n_categories; c++) {
		for (size_t k = 0; k < t->categories[c].n_weights; k++) {
			const char *s = t->categories[c].weights[k].name;
			if (is_arena_kind(s) && !strmap_get(&pop->arena, s))
				strmap_put(&pop->arena, s, xcalloc(1, sizeof(struct values)));
		}
	}
	for (size_t i = 0; i < cat->n_models; i++) {
		const struct catalog_model *m = &cat->models[i];
		double v;
		if (model_blended(m, &v))
			values_push(&pop->blended, v);
		if (model_score(m, "arena.overall", &v))
			values_push(&pop->overall, v);
		if (model_score(m, "arena.creative_writing", &v))
			values_push(&pop->creative, v);
		if (model_real(m, MF_FIELD_OUTPUT_SPEED, &v))
			values_push(&pop->speed, v);
		if (model_real(m, MF_FIELD_TTFT, &v))
			values_push(&pop->ttft, v);
		const struct nummap *scores = record_get_map(m->merged, MF_FIELD_SCORES);
		for (size_t k = 0; scores && k < scores->count; k++) {
			struct values *vs = strmap_get(&pop->arena, scores->items[k].key);
			if (vs)
				values_push(vs, scores->items[k].value);
		}
	}
	values_sort(&pop->blended);
	values_sort(&pop->overall);
	values_sort(&pop->creative);
	values_sort(&pop->speed);
	values_sort(&pop->ttft);
	for (size_t i = 0; i < pop->arena.cap; i++)
		if (pop->arena.slots[i].key)
			values_sort(pop->arena.slots[i].value);
	pop->n_plans = t->n_categories;
	pop->plans = xcalloc(t->n_categories + 1, sizeof *pop->plans);
	for (size_t c = 0; c < t->n_categories; c++) {
		const struct derive_category *cat_c = &t->categories[c];
		pop->plans[c] = xcalloc(cat_c->n_weights + 1, sizeof **pop->plans);
		for (size_t k = 0; k < cat_c->n_weights; k++) {
			const char *key = cat_c->weights[k].name;
			struct weight_plan *p = &pop->plans[c][k];
			p->weight = cat_c->weights[k].weight * source_weight(cat_c, key);
			p->arena_kind = is_arena_kind(key);
			p->arena = p->arena_kind ? strmap_get(&pop->arena, key) : NULL;
		}
	}
}

static void populations_free(struct populations *pop, size_t n_categories)
{
	free(pop->blended.v);
	free(pop->overall.v);
	free(pop->creative.v);
	free(pop->speed.v);
	free(pop->ttft.v);
	strmap_free(&pop->arena, values_free);
	for (size_t i = 0; pop->categories && i < n_categories; i++)
		free(pop->categories[i].v);
	free(pop->categories);
	for (size_t i = 0; i < pop->n_plans; i++)
		free(pop->plans[i]);
	free(pop->plans);
}

static struct derive_tier quantile_tier(double v, const struct values *vs, const char *basis,
					bool less_is_better)
{
	return (struct derive_tier){
	    .tier = derive_tier_of(v, vs->v, vs->n, less_is_better),
	    .basis = basis,
	    .has_value = true,
	    .value = v,
	};
}

static void derive_tiers(const struct catalog_model *m, const struct derive_tables *t,
			 const struct populations *pop, struct derive_model *dm)
{
	struct derive_tier none = {.basis = DERIVE_BASIS_NONE};
	double v;

	dm->tiers[DERIVE_TIER_COST] =
	    model_blended(m, &v) ? quantile_tier(v, &pop->blended, DERIVE_BASIS_PRICE, true) : none;

	struct derive_tier quality = {.tier = 3, .basis = DERIVE_BASIS_DEFAULT};
	double rep;
	if (model_score(m, "arena.overall", &v)) {
		quality = quantile_tier(v, &pop->overall, DERIVE_BASIS_ARENA, false);
		quality.detail = "overall";
	} else if (m->maker && weights_get(t->reputation, t->n_reputation, m->maker, &rep)) {
		quality = (struct derive_tier){
		    .tier = (int)rep,
		    .basis = DERIVE_BASIS_REPUTATION,
		    .detail = m->maker,
		};
	}
	dm->tiers[DERIVE_TIER_QUALITY] = quality;

	struct derive_tier reasoning = quality;
	reasoning.from = "quality";
	reasoning.has_value = false;
	bool is_reasoning = false;
	if (record_get_bool(m->merged, MF_FIELD_REASONING, &is_reasoning) && is_reasoning &&
	    reasoning.tier > 1) {
		reasoning.tier--;
		reasoning.adjustment = -1;
	}
	dm->tiers[DERIVE_TIER_REASONING] = reasoning;

	if (model_score(m, "arena.creative_writing", &v)) {
		dm->tiers[DERIVE_TIER_CREATIVE] =
		    quantile_tier(v, &pop->creative, DERIVE_BASIS_ARENA, false);
		dm->tiers[DERIVE_TIER_CREATIVE].detail = "creative_writing";
	} else {
		dm->tiers[DERIVE_TIER_CREATIVE] = quality;
		dm->tiers[DERIVE_TIER_CREATIVE].from = "quality";
		dm->tiers[DERIVE_TIER_CREATIVE].has_value = false;
	}

	dm->tiers[DERIVE_TIER_SPEED] =
	    model_real(m, MF_FIELD_OUTPUT_SPEED, &v)
		? quantile_tier(v, &pop->speed, DERIVE_BASIS_SPEED, false)
		: none;
}

/* ================================================================ category scores */

/* The instance whose record gave score `key` to the merged model: the
 * pinning record when one pins the scores, else the first in priority. */
static const struct source_config *score_source(const struct group *g, const char *key)
{
	for (size_t i = 0; g && i < g->n; i++) {
		const struct mf_record *r = g->items[i].e->rec;
		const struct strlist *pins = record_get_list(r, MF_FIELD_PINNED);
		for (size_t k = 0; pins && k < pins->count; k++)
			if (strcmp(pins->items[k], "scores") == 0 && record_has(r, MF_FIELD_SCORES))
				return g->items[i].src;
	}
	double ignored;
	for (size_t i = 0; g && i < g->n; i++)
		if (nummap_get(record_get_map(g->items[i].e->rec, MF_FIELD_SCORES), key, &ignored))
			return g->items[i].src;
	return NULL;
}

static const struct source_result *find_result(const struct derive_input *in,
					       const struct source_config *src)
{
	for (size_t i = 0; in->results && src && i < in->n_results; i++)
		if (in->results[i].source == src ||
		    (in->results[i].source && strcmp(in->results[i].source->name, src->name) == 0))
			return &in->results[i];
	return NULL;
}

/* The date of a score: bench.NAME.date (YYYYMMDD), else the day its source
 * was fetched. */
static void score_date(const struct derive_input *in, const struct catalog_model *m,
		       const char *key, const struct source_config *src, char date[11])
{
	date[0] = '\0';
	char *date_key = xasprintf("%s.date", key);
	double d;
	bool has = str_starts_with(key, "bench.") && model_score(m, date_key, &d);
	free(date_key);
	if (has) {
		if (d >= 19000101 && d <= 99991231 && d == floor(d)) {
			long ymd = (long)d;
			char buf[40];
			int n = snprintf(buf, sizeof buf, "%04ld-%02ld-%02ld", ymd / 10000,
					 ymd / 100 % 100, ymd % 100);
			if (n == 10 && derive_date_valid(buf))
				memcpy(date, buf, 11);
		}
		return;
	}
	const struct source_result *r = find_result(in, src);
	if (r && r->fetched_at && strlen(r->fetched_at) >= 10) {
		char buf[11];
		memcpy(buf, r->fetched_at, 10);
		buf[10] = '\0';
		if (derive_date_valid(buf))
			memcpy(date, buf, 11);
	}
}

static bool score_category(const struct derive_input *in, const struct catalog_model *m,
			   const struct group *g, const struct derive_category *c,
			   const struct populations *pop, struct derive_score *out)
{
	double configured = 0, present = 0, sum = 0;
	*out = (struct derive_score){0};
	const struct weight_plan *plan = pop->plans[c - in->tables->categories];
	for (size_t k = 0; k < c->n_weights; k++) {
		const char *key = c->weights[k].name;
		double weight = plan[k].weight;
		configured += weight;
		double raw;
		if (weight <= 0 || !model_score(m, key, &raw) || !isfinite(raw))
			continue;
		struct derive_contribution ct = {
		    .value = raw,
		    .weight = weight,
		    .effective = weight,
		};
		if (plan[k].arena_kind) {
			const struct values *vs = plan[k].arena;
			ct.has_raw = true;
			ct.raw = raw;
			ct.value = vs ? derive_percentile(vs->v, vs->n, raw) : 50;
		} else if (raw < 0 || raw > 100) {
			continue;
		}
		const struct source_config *src = score_source(g, key);
		ct.source = src ? src->name : NULL;
		score_date(in, m, key, src, ct.date);
		time_t when;
		if (c->half_life_days > 0 && ct.date[0] && day_time(ct.date, &when)) {
			double age = difftime(in->now, when) / 86400.0;
			if (age > 0)
				ct.effective = weight * pow(0.5, age / c->half_life_days);
		}
		/* The tables outlive the result (derive.h). */
		ct.score = (char *)key;
		present += ct.effective;
		sum += ct.effective * ct.value;
		out->contributions = xrealloc(out->contributions, (out->n_contributions + 1) *
								      sizeof *out->contributions);
		out->contributions[out->n_contributions++] = ct;
	}
	if (present <= 0 || configured <= 0) {
		free(out->contributions);
		*out = (struct derive_score){0};
		return false;
	}
	double score = sum / present;
	double v;
	if (c->latency_penalty > 0 && model_real(m, MF_FIELD_TTFT, &v)) {
		double slow = derive_percentile(pop->ttft.v, pop->ttft.n, v);
		double points = -c->latency_penalty * slow / 100.0;
		out->adjustments[out->n_adjustments++] = (struct derive_adjustment){
		    .kind = "latency_penalty",
		    .points = points,
		    .value = v,
		    .percentile = 100 - slow,
		};
		score += points;
	}
	if (c->cost_bonus > 0 && model_blended(m, &v)) {
		double cheap = 100 - derive_percentile(pop->blended.v, pop->blended.n, v);
		double points = c->cost_bonus * cheap / 100.0;
		out->adjustments[out->n_adjustments++] = (struct derive_adjustment){
		    .kind = "cost_bonus",
		    .points = points,
		    .value = v,
		    .percentile = cheap,
		};
		score += points;
	}
	score = score < 0 ? 0 : score > 100 ? 100 : score;
	out->score = round_to(score, 0.01);
	out->confidence = round_to(present / configured, 0.0001);
	return true;
}

/* Order of a category's ranking: score, then confidence (both higher
 * first), then id. */
struct ranked {
	const char *id;
	double score;
	double confidence;
	size_t *rank;
};

static int ranked_qsort(const void *pa, const void *pb)
{
	const struct ranked *a = pa, *b = pb;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	if (a->confidence != b->confidence)
		return a->confidence > b->confidence ? -1 : 1;
	return strcmp(a->id, b->id);
}

/* Competition ranking: 1 + the number of entries with a higher score. */
static void assign_ranks(struct ranked *r, size_t n)
{
	if (n > 1)
		qsort(r, n, sizeof *r, ranked_qsort);
	for (size_t i = 0; i < n; i++)
		*r[i].rank = i > 0 && r[i].score == r[i - 1].score ? *r[i - 1].rank : i + 1;
}

static void rank_categories(struct catalog *cat, struct derive_result *res, struct populations *pop)
{
	size_t nc = res->n_categories;
	pop->categories = xcalloc(nc + 1, sizeof *pop->categories);
	struct ranked *r = xcalloc(cat->n_models + 1, sizeof *r);
	for (size_t c = 0; c < nc; c++) {
		size_t n = 0;
		for (size_t i = 0; i < cat->n_models; i++) {
			struct derive_model *dm = &res->models[i];
			for (size_t s = 0; s < dm->n_scores; s++) {
				struct derive_score *sc = &dm->scores[s];
				if (sc->category != c)
					continue;
				r[n++] = (struct ranked){
				    .id = cat->models[i].id,
				    .score = sc->score,
				    .confidence = sc->confidence,
				    .rank = &sc->rank,
				};
				values_push(&pop->categories[c], sc->score);
			}
		}
		assign_ranks(r, n);
		values_sort(&pop->categories[c]);
	}
	/* best_at and worst_at: the model's place in each category, as a
	 * percentile, since scores of different categories do not compare. */
	for (size_t i = 0; i < cat->n_models; i++) {
		struct derive_model *dm = &res->models[i];
		dm->best_at = dm->worst_at = -1;
		double best = -1, worst = 101;
		for (size_t s = 0; s < dm->n_scores; s++) {
			const struct derive_score *sc = &dm->scores[s];
			const struct values *vs = &pop->categories[sc->category];
			double p = derive_percentile(vs->v, vs->n, sc->score);
			if (p > best) {
				best = p;
				dm->best_at = (int)sc->category;
			}
			if (p < worst) {
				worst = p;
				dm->worst_at = (int)sc->category;
			}
		}
		if (dm->n_scores < 2)
			dm->worst_at = -1;
	}
	/* The overall rank. */
	size_t n = 0;
	for (size_t i = 0; i < cat->n_models; i++) {
		struct derive_model *dm = &res->models[i];
		if (dm->has_overall)
			r[n++] = (struct ranked){
			    .id = cat->models[i].id,
			    .score = dm->overall_score,
			    .rank = &dm->overall_rank,
			};
	}
	assign_ranks(r, n);
	free(r);
}

static void derive_scores(const struct derive_input *in, const struct catalog_model *m,
			  const struct group *g, const struct populations *pop,
			  struct derive_model *dm)
{
	const struct derive_tables *t = in->tables;
	double weighted = 0;
	for (size_t c = 0; c < t->n_categories; c++) {
		struct derive_score sc;
		if (!score_category(in, m, g, &t->categories[c], pop, &sc))
			continue;
		sc.category = c;
		weighted += sc.score * sc.confidence;
		dm->scores = xrealloc(dm->scores, (dm->n_scores + 1) * sizeof *dm->scores);
		dm->scores[dm->n_scores++] = sc;
	}
	if (dm->n_scores > 0 && t->n_categories > 0) {
		dm->has_overall = true;
		dm->overall_score = round_to(weighted / (double)t->n_categories, 0.01);
		double blended;
		if (model_blended(m, &blended) && blended >= 0) {
			dm->has_cost_efficiency = true;
			dm->cost_efficiency = round_to(dm->overall_score / (1 + blended), 0.01);
		}
	}
	dm->has_speed = model_real(m, MF_FIELD_OUTPUT_SPEED, &dm->speed);
	dm->has_ttft = model_real(m, MF_FIELD_TTFT, &dm->ttft);
}

/* ================================================================ run */

void derive_result_free(struct derive_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_models; i++) {
		struct derive_model *dm = &r->models[i];
		for (size_t s = 0; s < dm->n_scores; s++)
			free(dm->scores[s].contributions);
		free(dm->scores);
		for (size_t f = 0; f < dm->n_flags; f++) {
			struct derive_flag *fl = &dm->flags[f];
			free(fl->field);
			free(fl->message);
			for (size_t v = 0; v < fl->n_values; v++)
				free(fl->values[v].string);
			free(fl->values);
		}
		free(dm->flags);
	}
	free(r->models);
	for (size_t i = 0; i < r->n_categories; i++)
		free(r->categories[i]);
	free(r->categories);
	free(r);
}

int derive_run(const struct derive_input *in, struct catalog *cat)
{
	const struct derive_tables *t = in->tables;
	struct derive_result *res = xcalloc(1, sizeof *res);
	res->n_models = cat->n_models;
	res->models = xcalloc(cat->n_models + 1, sizeof *res->models);
	res->n_categories = t->n_categories;
	res->categories = xcalloc(t->n_categories + 1, sizeof *res->categories);
	for (size_t c = 0; c < t->n_categories; c++)
		res->categories[c] = xstrdup(t->categories[c].name);

	struct model_index index;
	index_mapping(in, cat, &index);

	/* Checks first: tiers and scores see only values that passed. */
	for (size_t i = 0; i < cat->n_models; i++) {
		struct checker ck = {
		    .in = in,
		    .cat = cat,
		    .m = &cat->models[i],
		    .dm = &res->models[i],
		    .g = index.of_model[i],
		    .res = res,
		};
		check_model(&ck);
		if (res->models[i].n_flags > 0)
			res->flagged_models++;
	}

	struct populations pop = {0};
	collect_populations(cat, t, &pop);
	for (size_t i = 0; i < cat->n_models; i++) {
		const struct catalog_model *m = &cat->models[i];
		derive_tiers(m, t, &pop, &res->models[i]);
		derive_scores(in, m, index.of_model[i], &pop, &res->models[i]);
	}
	/* Not needed any more: gone before the ranking allocates. */
	index_free(&index);
	rank_categories(cat, res, &pop);
	populations_free(&pop, res->n_categories);

	if (cat->derived && cat->derived_free)
		cat->derived_free(cat->derived);
	cat->derived = res;
	cat->derived_free = derive_result_free;
	if (res->flags > 0)
		log_info("derive: %zu data-check flags on %zu models, %zu fields nulled",
			 res->flags, res->flagged_models, res->nulled);
	return 0;
}
