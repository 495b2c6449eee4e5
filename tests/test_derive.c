/* The derive stage: quantiles and tiers, category scores computed by hand,
 * the data checks, the [derive] and [category] configuration, and what the
 * writer makes of it. Catalogs are built here from records and a mapping
 * made by hand, so that only derive is under test. */
#include "mf_build_config.h"
#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "derive.h"
#include "mapper.h"
#include "merge.h"
#include "record.h"
#include "runner.h"
#include "util.h"
#include "writer.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

/* ------------------------------------------------------------ fixture */

#define FX_MAX 8

struct fx {
	struct config cfg;
	struct source_config src[FX_MAX];
	struct source_result res[FX_MAX];
	size_t n;
	struct mapping map;
	size_t map_cap;
	struct catalog cat;
	struct derive_tables *tables;
	time_t now;
	bool built;
};

static char *fixture(const char *name)
{
	char rel[256];
	snprintf(rel, sizeof rel, "tests/fixtures/derive/%s", name);
	return tu_srcpath(rel);
}

/* The test tables, with the [derive] values of x->cfg. */
static struct derive_tables *load_test_tables(const struct config *cfg, bool reputation)
{
	char *cats = fixture("categories.json");
	char *rep = reputation ? fixture("reputation.json") : NULL;
	struct errors errs = {0};
	struct derive_tables *t = derive_tables_load_files(cats, rep, cfg, &errs);
	errors_print(&errs);
	CU_ASSERT_EQUAL(errs.count, 0);
	errors_free(&errs);
	free(cats);
	free(rep);
	return t;
}

static void fx_init(struct fx *x)
{
	memset(x, 0, sizeof *x);
	x->cfg.sources = x->src;
	x->cfg.path = "test.ini";
	x->cfg.derive_max_price = 10000;
	struct tm tm = {.tm_year = 125, .tm_mon = 3, .tm_mday = 11}; /* 2025-04-11 */
	x->now = timegm(&tm);
}

static size_t fx_source(struct fx *x, const char *name, const char *plugin, int precedence)
{
	CU_ASSERT_FATAL(x->n < FX_MAX);
	size_t i = x->n++;
	x->src[i] = (struct source_config){
	    .name = (char *)name,
	    .plugin = (char *)plugin,
	    .enabled = true,
	    .precedence = precedence,
	};
	x->res[i].source = &x->src[i];
	x->res[i].status = SOURCE_FRESH;
	x->cfg.n_sources = x->n;
	return i;
}

/* A record of source src that the mapper sent to model_id. */
static struct mf_record *fx_rec(struct fx *x, size_t src, enum mf_record_kind kind,
				const char *provider, const char *native_id, const char *model_id)
{
	struct mf_record *r = record_new(kind, native_id);
	if (provider)
		record_set_string(r, MF_FIELD_PROVIDER, provider);
	record_array_push(&x->res[src].records, r);
	if (x->map.count == x->map_cap) {
		x->map_cap = x->map_cap ? x->map_cap * 2 : 16;
		x->map.items = xrealloc(x->map.items, x->map_cap * sizeof *x->map.items);
	}
	const char *slash = strchr(model_id, '/');
	x->map.items[x->map.count++] = (struct mapping_entry){
	    .result = &x->res[src],
	    .position = x->res[src].records.count - 1,
	    .rec = r,
	    .model_id = xstrdup(model_id),
	    .maker = xstrndup(model_id, (size_t)(slash - model_id)),
	    .rule = MAPPER_RULE_EXACT,
	    .key = xstrdup(model_id),
	    .maker_rule = "namespace",
	};
	return r;
}

static struct mf_record *fx_model(struct fx *x, size_t src, const char *model_id)
{
	return fx_rec(x, src, MF_RECORD_MODEL, NULL, model_id, model_id);
}

static struct mf_record *fx_offer(struct fx *x, size_t src, const char *provider, const char *id,
				  const char *model_id)
{
	return fx_rec(x, src, MF_RECORD_OFFERING, provider, id, model_id);
}

static void score(struct mf_record *r, const char *key, double v)
{
	record_map_set(r, MF_FIELD_SCORES, key, v);
}

static void set_price(struct mf_record *r, double in, double out)
{
	record_map_set(r, MF_FIELD_PRICE, "input", in);
	record_map_set(r, MF_FIELD_PRICE, "output", out);
}

static void fx_build_with(struct fx *x, struct derive_tables *tables)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(tables);
	x->tables = tables;
	CU_ASSERT_EQUAL_FATAL(merge_build(&x->cfg, x->res, x->n, &x->map, &x->cat), 0);
	struct derive_input in = {
	    .cfg = &x->cfg,
	    .results = x->res,
	    .n_results = x->n,
	    .mapping = &x->map,
	    .tables = tables,
	    .now = x->now,
	};
	CU_ASSERT_EQUAL_FATAL(derive_run(&in, &x->cat), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x->cat.derived);
	x->built = true;
}

static void fx_build(struct fx *x)
{
	fx_build_with(x, load_test_tables(&x->cfg, true));
}

static void fx_free(struct fx *x)
{
	if (x->built)
		catalog_free(&x->cat);
	mapping_free(&x->map);
	for (size_t i = 0; i < x->n; i++) {
		record_array_free(&x->res[i].records);
		free(x->res[i].fetched_at);
	}
	derive_tables_free(x->tables);
}

static size_t model_index(const struct fx *x, const char *id)
{
	for (size_t i = 0; i < x->cat.n_models; i++)
		if (strcmp(x->cat.models[i].id, id) == 0)
			return i;
	CU_FAIL_FATAL("model not in the catalog");
	return 0;
}

static const struct derive_model *dm_of(const struct fx *x, const char *id)
{
	return &x->cat.derived->models[model_index(x, id)];
}

static const struct mf_record *merged_of(const struct fx *x, const char *id)
{
	return x->cat.models[model_index(x, id)].merged;
}

static const struct derive_score *score_of(const struct fx *x, const char *id, const char *cat)
{
	const struct derive_model *dm = dm_of(x, id);
	for (size_t i = 0; i < dm->n_scores; i++)
		if (strcmp(x->cat.derived->categories[dm->scores[i].category], cat) == 0)
			return &dm->scores[i];
	return NULL;
}

static const struct derive_flag *flag_of(const struct fx *x, const char *id, const char *check,
					 const char *field, const char *provider)
{
	const struct derive_model *dm = dm_of(x, id);
	for (size_t i = 0; i < dm->n_flags; i++) {
		const struct derive_flag *f = &dm->flags[i];
		if (strcmp(f->check, check) == 0 && strcmp(f->field, field) == 0 &&
		    (provider ? f->provider && strcmp(f->provider, provider) == 0 : !f->provider))
			return f;
	}
	return NULL;
}

static const struct catalog_offering *offering_of(const struct fx *x, const char *id,
						  const char *provider)
{
	const struct catalog_model *m = &x->cat.models[model_index(x, id)];
	for (size_t i = 0; i < m->n_offerings; i++)
		if (strcmp(m->offerings[i].provider, provider) == 0)
			return &m->offerings[i];
	CU_FAIL_FATAL("offering not found");
	return NULL;
}

/* ------------------------------------------------------------ numbers */

static void test_quantiles(void)
{
	const double five[] = {1, 2, 3, 4, 5};
	/* h = (n - 1) q: p20 at 0.8, p40 at 1.6, p60 at 2.4, p80 at 3.2. */
	CU_ASSERT(NEAR(derive_quantile(five, 5, 1), 1.8));
	CU_ASSERT(NEAR(derive_quantile(five, 5, 2), 2.6));
	CU_ASSERT(NEAR(derive_quantile(five, 5, 3), 3.4));
	CU_ASSERT(NEAR(derive_quantile(five, 5, 4), 4.2));
	for (int v = 1; v <= 5; v++) {
		CU_ASSERT_EQUAL(derive_tier_of(v, five, 5, true), v);
		CU_ASSERT_EQUAL(derive_tier_of(v, five, 5, false), 6 - v);
	}
	/* A value on a cut point takes the better tier. */
	CU_ASSERT_EQUAL(derive_tier_of(1.8, five, 5, true), 1);
	CU_ASSERT_EQUAL(derive_tier_of(4.2, five, 5, false), 1);

	/* Ties: four cheap models share tier 1, the dear one is 5. */
	const double ties[] = {1, 1, 1, 1, 5};
	CU_ASSERT(NEAR(derive_quantile(ties, 5, 4), 1.8));
	CU_ASSERT_EQUAL(derive_tier_of(1, ties, 5, true), 1);
	CU_ASSERT_EQUAL(derive_tier_of(5, ties, 5, true), 5);
	CU_ASSERT_EQUAL(derive_tier_of(5, ties, 5, false), 1);
	CU_ASSERT_EQUAL(derive_tier_of(1, ties, 5, false), 2);

	/* Fewer than five models: the cuts interpolate between them. */
	const double three[] = {1, 2, 10};
	CU_ASSERT(NEAR(derive_quantile(three, 3, 1), 1.4));
	CU_ASSERT(NEAR(derive_quantile(three, 3, 2), 1.8));
	CU_ASSERT(NEAR(derive_quantile(three, 3, 3), 3.6));
	CU_ASSERT(NEAR(derive_quantile(three, 3, 4), 6.8));
	CU_ASSERT_EQUAL(derive_tier_of(1, three, 3, true), 1);
	CU_ASSERT_EQUAL(derive_tier_of(2, three, 3, true), 3);
	CU_ASSERT_EQUAL(derive_tier_of(10, three, 3, true), 5);
	const double two[] = {1, 4};
	CU_ASSERT_EQUAL(derive_tier_of(1, two, 2, true), 1);
	CU_ASSERT_EQUAL(derive_tier_of(4, two, 2, true), 5);

	/* Nothing to tell apart: one value, or all equal, is the middle. */
	const double one[] = {7};
	CU_ASSERT(NEAR(derive_quantile(one, 1, 2), 7));
	CU_ASSERT_EQUAL(derive_tier_of(7, one, 1, true), 3);
	const double same[] = {2, 2, 2};
	CU_ASSERT_EQUAL(derive_tier_of(2, same, 3, true), 3);
	CU_ASSERT_EQUAL(derive_tier_of(2, same, 3, false), 3);
	CU_ASSERT_EQUAL(derive_tier_of(2, NULL, 0, true), 3);
}

static void test_percentiles(void)
{
	const double v[] = {10, 20, 20, 30};
	CU_ASSERT(NEAR(derive_percentile(v, 4, 10), 0));
	CU_ASSERT(NEAR(derive_percentile(v, 4, 20), 50)); /* ties share ranks 1 and 2 */
	CU_ASSERT(NEAR(derive_percentile(v, 4, 30), 100));
	CU_ASSERT(NEAR(derive_percentile(v, 1, 10), 50));
	const double five[] = {1100, 1150, 1200, 1250, 1300};
	CU_ASSERT(NEAR(derive_percentile(five, 5, 1150), 25));
	CU_ASSERT(NEAR(derive_percentile(five, 5, 1250), 75));
}

static void test_dates(void)
{
	const char *good[] = {"2024",
			      "2024-02",
			      "2024-02-29",
			      "2000-02-29",
			      "2024-10-22T08:00:00Z",
			      "2024-10-22T08:00Z",
			      "2024-10-22T08:00:00.123+02:00",
			      "2024-10-22T08:00:00-0530",
			      NULL};
	const char *bad[] = {"",
			     "24",
			     "2023-02-29",
			     "1900-02-29",
			     "2025-02-31",
			     "2025-25-11",
			     "2025-00-10",
			     "2025-1-5",
			     "2025/01/05",
			     "1899-12-31",
			     "2024-10-22 08:00",
			     "2024-10-22T25:00:00Z",
			     "2024-10-22T08:00:00Q",
			     "2024-10-22x",
			     "unknown",
			     NULL};
	for (size_t i = 0; good[i]; i++)
		CU_ASSERT_TRUE(derive_date_valid(good[i]));
	for (size_t i = 0; bad[i]; i++)
		CU_ASSERT_FALSE(derive_date_valid(bad[i]));
}

/* ------------------------------------------------------------ tables */

static bool weight_is(const struct weight_entry *w, size_t n, const char *name, double want)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(w[i].name, name) == 0)
			return NEAR(w[i].weight, want);
	return false;
}

static void test_shipped_tables(void)
{
	char *dir = tu_srcpath("data");
	char *cats = xasprintf("%s/categories.json", dir);
	char *rep = xasprintf("%s/reputation.json", dir);
	struct errors errs = {0};
	struct derive_tables *t = derive_tables_load_files(cats, rep, NULL, &errs);
	errors_print(&errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	const char *want[] = {"coding",	 "math",     "reasoning", "creative_writing",
			      "general", "question", "chat"};
	CU_ASSERT_EQUAL_FATAL(t->n_categories, 7);
	for (size_t i = 0; i < 7; i++)
		CU_ASSERT_STRING_EQUAL(t->categories[i].name, want[i]);
	CU_ASSERT(weight_is(t->categories[0].weights, t->categories[0].n_weights, "bench.humaneval",
			    1.0));
	CU_ASSERT(weight_is(t->categories[0].weights, t->categories[0].n_weights,
			    "aa.artificial_analysis_coding_index", 0.9));
	CU_ASSERT(NEAR(t->categories[6].cost_bonus, 5));
	CU_ASSERT(NEAR(t->categories[5].latency_penalty, 10));
	CU_ASSERT(NEAR(t->categories[0].half_life_days, 0));
	CU_ASSERT(weight_is(t->reputation, t->n_reputation, "openai", 1));
	CU_ASSERT(NEAR(t->max_price, 10000));
	derive_tables_free(t);
	errors_free(&errs);
	free(cats);
	free(rep);
	free(dir);
}

static struct config *load_ini(const char *dir, const char *text, struct errors *errs)
{
	char *path = tu_write_file(dir, "modelfuse.ini", text);
	struct config *cfg = config_load(path, errs);
	free(path);
	return cfg;
}

static void test_category_config(void)
{
	char *dir = tu_tmpdir();
	struct errors errs = {0};
	struct config *cfg = load_ini(dir,
				      "[derive]\n"
				      "reputation = none\n"
				      "half_life_days = 30\n"
				      "max_price = 500\n"
				      "[category coding]\n"
				      "weights = bench.humaneval:2, arena.coding : 1\n"
				      "source_weights = arena:0.25\n"
				      "latency_penalty = 3\n"
				      "[category math]\n"
				      "enabled = no\n"
				      "[category agentic]\n"
				      "weights = bench.tau_bench:1\n"
				      "half_life_days = 0\n",
				      &errs);
	errors_print(&errs);
	CU_ASSERT_EQUAL_FATAL(errs.count, 0);
	CU_ASSERT_EQUAL(cfg->n_categories, 3);
	CU_ASSERT_TRUE(cfg->derive_reputation_set);
	CU_ASSERT_PTR_NULL(cfg->derive_reputation);
	struct derive_tables *t = load_test_tables(cfg, false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT(NEAR(t->max_price, 500));
	CU_ASSERT_EQUAL(t->n_reputation, 0);
	/* math is gone; the new category comes last. */
	CU_ASSERT_EQUAL_FATAL(t->n_categories, 3);
	CU_ASSERT_STRING_EQUAL(t->categories[0].name, "coding");
	CU_ASSERT_STRING_EQUAL(t->categories[1].name, "chat");
	CU_ASSERT_STRING_EQUAL(t->categories[2].name, "agentic");
	const struct derive_category *c = &t->categories[0];
	CU_ASSERT_EQUAL(c->n_weights, 2);
	CU_ASSERT(weight_is(c->weights, c->n_weights, "bench.humaneval", 2));
	CU_ASSERT(weight_is(c->weights, c->n_weights, "arena.coding", 1));
	/* Source weights merge over the table's, key by key. */
	CU_ASSERT(weight_is(c->source_weights, c->n_source_weights, "arena", 0.25));
	CU_ASSERT(weight_is(c->source_weights, c->n_source_weights, "aa", 0.5));
	CU_ASSERT(NEAR(c->latency_penalty, 3));
	CU_ASSERT(NEAR(c->half_life_days, 30));
	CU_ASSERT(NEAR(t->categories[1].half_life_days, 30));
	CU_ASSERT(NEAR(t->categories[1].cost_bonus, 20));
	CU_ASSERT(NEAR(t->categories[2].half_life_days, 0));
	CU_ASSERT(weight_is(t->categories[2].source_weights, t->categories[2].n_source_weights,
			    "aa", 0.5));
	derive_tables_free(t);
	config_free(cfg);
	errors_free(&errs);

	/* A new category needs weights: reported at its section's line. */
	cfg = load_ini(dir, "[core]\njobs = 1\n[category newone]\nhalf_life_days = 3\n", &errs);
	CU_ASSERT_EQUAL_FATAL(errs.count, 0);
	char *cats = fixture("categories.json");
	t = derive_tables_load_files(cats, NULL, cfg, &errs);
	CU_ASSERT_PTR_NULL(t);
	CU_ASSERT(errors_contains(&errs, "modelfuse.ini:3: [category newone] is not a shipped "
					 "category (coding, math, chat): a new one needs weights"));
	free(cats);
	config_free(cfg);
	errors_free(&errs);
	tu_rm_rf(dir);
	free(dir);
}

static void test_category_config_errors(void)
{
	char *dir = tu_tmpdir();
	struct errors errs = {0};
	struct config *cfg = load_ini(dir,
				      "[category Coding]\n"	   /* 1 */
				      "[category x]\n"		   /* 2 */
				      "weights = a.b:1, a.b:2\n"   /* 3 */
				      "source_weights = bench\n"   /* 4 */
				      "half_life_days = -1\n"	   /* 5 */
				      "latency_penalty = 101\n"	   /* 6 */
				      "cost_bonus = lots\n"	   /* 7 */
				      "foo = 1\n"		   /* 8 */
				      "[category y]\n"		   /* 9 */
				      "weights = a.b:0, c.d:0\n"   /* 10 */
				      "enabled = maybe\n"	   /* 11 */
				      "[category z]\n"		   /* 12 */
				      "weights = A.B:1\n"	   /* 13 */
				      "source_weights = aa:1001\n" /* 14 */
				      "[derive]\n"		   /* 15 */
				      "max_price = 0\n"		   /* 16 */
				      "half_life_days = soon\n"	   /* 17 */
				      "bogus = 1\n"		   /* 18 */
				      "[category]\n",		   /* 19 */
				      &errs);
	const char *want[] = {
	    "modelfuse.ini:1: bad category name 'Coding': use lowercase letters, digits and '_'",
	    "modelfuse.ini:3: a.b is given twice in weights of [category x]",
	    "modelfuse.ini:4: bad entry 'bench' in source_weights of [category x]",
	    "modelfuse.ini:5: bad value '-1' for half_life_days in [category x]",
	    "modelfuse.ini:6: bad value '101' for latency_penalty in [category x]",
	    "modelfuse.ini:7: bad value 'lots' for cost_bonus in [category x]",
	    "modelfuse.ini:8: unknown key 'foo' in [category x]",
	    "modelfuse.ini:10: weights in [category y]: at least one weight must be above 0",
	    "modelfuse.ini:11: bad value 'maybe' for enabled in [category y]",
	    "modelfuse.ini:13: bad entry 'A.B' in weights of [category z]",
	    "modelfuse.ini:14: bad weight '1001' for aa in source_weights of [category z]",
	    "modelfuse.ini:16: bad value '0' for max_price in [derive]",
	    "modelfuse.ini:17: bad value 'soon' for half_life_days in [derive]",
	    "modelfuse.ini:18: unknown key 'bogus' in [derive]",
	    "modelfuse.ini:19: section [category] needs exactly one name",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		if (!errors_contains(&errs, want[i])) {
			fprintf(stderr, "missing error: %s\n", want[i]);
			CU_FAIL("an expected error is missing");
		}
	}
	CU_ASSERT_EQUAL(errs.count, sizeof want / sizeof want[0]);
	/* A refused list leaves the category's weights as they were. */
	CU_ASSERT_EQUAL(cfg->categories[1].n_weights, 0);
	CU_ASSERT_FALSE(cfg->categories[1].weights_set);
	config_free(cfg);
	errors_free(&errs);
	tu_rm_rf(dir);
	free(dir);
}

static void test_bad_table_files(void)
{
	char *dir = tu_tmpdir();
	struct {
		const char *content;
		const char *error;
	} cases[] = {
	    {"{", "cannot read the category table"},
	    {"{\"format\": \"other/1\", \"categories\": []}", "must be an object with \"format\""},
	    {"{\"format\": \"modelfuse-categories/1\", \"categories\": []}",
	     "categories must be a non-empty array"},
	    {"{\"format\": \"modelfuse-categories/1\", \"categories\": [{\"name\": \"c\", "
	     "\"weights\": {\"bench.x\": -1}}]}",
	     "category c: weights: bad entry 'bench.x'"},
	    {"{\"format\": \"modelfuse-categories/1\", \"categories\": [{\"name\": \"c\", "
	     "\"weights\": {\"bench.x\": 1}, \"latency\": 1}]}",
	     "category c: unknown key 'latency'"},
	    {"{\"format\": \"modelfuse-categories/1\", \"categories\": [{\"name\": \"c\", "
	     "\"weights\": {\"bench.x\": 1}}, {\"name\": \"c\", \"weights\": {\"bench.y\": 1}}]}",
	     "category c is given twice"},
	    {"{\"format\": \"modelfuse-categories/1\", \"extra\": 1, \"categories\": [{\"name\": "
	     "\"C\", \"weights\": {}}]}",
	     "unknown key 'extra'"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *path = tu_write_file(dir, "categories.json", cases[i].content);
		struct errors errs = {0};
		struct derive_tables *t = derive_tables_load_files(path, NULL, NULL, &errs);
		CU_ASSERT_PTR_NULL(t);
		if (!errors_contains(&errs, cases[i].error) || !errors_contains(&errs, path)) {
			fprintf(stderr, "case %zu: no error '%s'\n", i, cases[i].error);
			errors_print(&errs);
			CU_FAIL("expected error missing");
		}
		derive_tables_free(t);
		errors_free(&errs);
		free(path);
	}
	/* The reputation table: tiers are 1..5. */
	char *cats = fixture("categories.json");
	char *rep = tu_write_file(dir, "reputation.json",
				  "{\"format\": \"modelfuse-reputation/1\", \"makers\": "
				  "{\"acme\": 6}}");
	struct errors errs = {0};
	CU_ASSERT_PTR_NULL(derive_tables_load_files(cats, rep, NULL, &errs));
	CU_ASSERT(errors_contains(&errs, "makers: bad entry 'acme'"));
	errors_free(&errs);
	CU_ASSERT_PTR_NULL(derive_tables_load_files(cats, "/nonexistent/rep.json", NULL, &errs));
	CU_ASSERT(errors_contains(&errs, "/nonexistent/rep.json: cannot read"));
	errors_free(&errs);
	free(rep);
	free(cats);
	tu_rm_rf(dir);
	free(dir);
}

/* A shipped table that is not installed costs its data, not the run; a
 * file the admin names must be there. */
static void test_missing_shipped_tables(void)
{
	char *dir = tu_tmpdir();
	char *saved = getenv("MODELFUSE_DATADIR") ? xstrdup(getenv("MODELFUSE_DATADIR")) : NULL;
	setenv("MODELFUSE_DATADIR", dir, 1);
	struct errors errs = {0};
	struct derive_tables *t = derive_tables_load(NULL, &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(errs.count, 0);
	CU_ASSERT_EQUAL(t->n_categories, 0);
	CU_ASSERT_EQUAL(t->n_reputation, 0);
	derive_tables_free(t);

	struct config *cfg = load_ini(dir, "[derive]\nreputation = missing.json\n", &errs);
	CU_ASSERT_EQUAL_FATAL(errs.count, 0);
	CU_ASSERT_PTR_NULL(derive_tables_load(cfg, &errs));
	CU_ASSERT(
	    errors_contains(&errs, "missing.json: cannot read the provider-reputation table"));
	config_free(cfg);
	errors_free(&errs);

	/* The shipped ones are found through MODELFUSE_DATADIR. */
	char *data = tu_srcpath("data");
	setenv("MODELFUSE_DATADIR", data, 1);
	t = derive_tables_load(NULL, &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(t->n_categories, 7);
	CU_ASSERT_TRUE(t->n_reputation > 10);
	derive_tables_free(t);
	free(data);
	if (saved)
		setenv("MODELFUSE_DATADIR", saved, 1);
	else
		unsetenv("MODELFUSE_DATADIR");
	free(saved);
	tu_rm_rf(dir);
	free(dir);
}

/* ------------------------------------------------------------ tiers */

static void test_cost_tiers(void)
{
	struct fx x;
	fx_init(&x);
	size_t md = fx_source(&x, "modelsdev", "modelsdev", 50);
	/* Blended prices 1..5; one model without prices, one with an input
	 * price only: neither has a cost tier nor counts in the quantiles. */
	const char *ids[] = {"acme/a", "acme/b", "acme/c", "acme/d", "acme/e"};
	for (int i = 0; i < 5; i++)
		set_price(fx_offer(&x, md, "host", ids[i], ids[i]), i + 1, i + 1);
	record_set_int(fx_offer(&x, md, "host", "nothing", "acme/f"), MF_FIELD_CONTEXT_TOKENS,
		       1000);
	record_map_set(fx_offer(&x, md, "host", "half", "acme/g"), MF_FIELD_PRICE, "input", 0.1);
	fx_build(&x);
	for (int i = 0; i < 5; i++) {
		const struct derive_tier *t = &dm_of(&x, ids[i])->tiers[DERIVE_TIER_COST];
		CU_ASSERT_EQUAL(t->tier, i + 1);
		CU_ASSERT_STRING_EQUAL(t->basis, DERIVE_BASIS_PRICE);
		CU_ASSERT_TRUE(t->has_value);
		CU_ASSERT(NEAR(t->value, i + 1));
	}
	for (int i = 0; i < 2; i++) {
		const struct derive_tier *t =
		    &dm_of(&x, i ? "acme/g" : "acme/f")->tiers[DERIVE_TIER_COST];
		CU_ASSERT_EQUAL(t->tier, 0);
		CU_ASSERT_STRING_EQUAL(t->basis, DERIVE_BASIS_NONE);
	}
	fx_free(&x);
}

static void test_quality_tiers(void)
{
	struct fx x;
	fx_init(&x);
	size_t arena = fx_source(&x, "arena", "arena", 10);
	size_t md = fx_source(&x, "modelsdev", "modelsdev", 50);
	/* Overall ratings 1100..1500: cuts at 1180, 1260, 1340, 1420. */
	const char *rated[] = {"other/r1", "other/r2", "other/r3", "other/r4", "other/r5"};
	for (int i = 0; i < 5; i++)
		score(fx_model(&x, arena, rated[i]), "arena.overall", 1100 + 100 * i);
	/* Creative writing for two of them only. */
	score(fx_model(&x, arena, "other/r1"), "arena.creative_writing", 1100);
	score(fx_model(&x, arena, "other/r2"), "arena.creative_writing", 1000);
	record_set_bool(fx_model(&x, md, "other/r3"), MF_FIELD_REASONING, true);
	record_set_bool(fx_model(&x, md, "other/r5"), MF_FIELD_REASONING, true);
	/* Unrated: by the maker's reputation, else the default. */
	record_set_bool(fx_model(&x, md, "acme/think"), MF_FIELD_REASONING, true);
	fx_model(&x, md, "bigco/big");
	fx_model(&x, md, "nobody/x");
	fx_build(&x);

	for (int i = 0; i < 5; i++) {
		const struct derive_tier *q = &dm_of(&x, rated[i])->tiers[DERIVE_TIER_QUALITY];
		CU_ASSERT_EQUAL(q->tier, 5 - i);
		CU_ASSERT_STRING_EQUAL(q->basis, DERIVE_BASIS_ARENA);
		CU_ASSERT(NEAR(q->value, 1100 + 100 * i));
	}
	/* Reasoning: one better for a reasoning model, never above 1. */
	const struct derive_tier *r = &dm_of(&x, "other/r3")->tiers[DERIVE_TIER_REASONING];
	CU_ASSERT_EQUAL(r->tier, 2);
	CU_ASSERT_EQUAL(r->adjustment, -1);
	CU_ASSERT_STRING_EQUAL(r->from, "quality");
	r = &dm_of(&x, "other/r5")->tiers[DERIVE_TIER_REASONING];
	CU_ASSERT_EQUAL(r->tier, 1);
	CU_ASSERT_EQUAL(r->adjustment, 0);
	r = &dm_of(&x, "other/r4")->tiers[DERIVE_TIER_REASONING];
	CU_ASSERT_EQUAL(r->tier, 2);
	CU_ASSERT_EQUAL(r->adjustment, 0);

	/* Creative: from creative_writing where rated, else the quality tier. */
	const struct derive_tier *c = &dm_of(&x, "other/r1")->tiers[DERIVE_TIER_CREATIVE];
	CU_ASSERT_EQUAL(c->tier, 1);
	CU_ASSERT_STRING_EQUAL(c->basis, DERIVE_BASIS_ARENA);
	CU_ASSERT_STRING_EQUAL(c->detail, "creative_writing");
	c = &dm_of(&x, "other/r2")->tiers[DERIVE_TIER_CREATIVE];
	CU_ASSERT_EQUAL(c->tier, 5);
	c = &dm_of(&x, "other/r4")->tiers[DERIVE_TIER_CREATIVE];
	CU_ASSERT_EQUAL(c->tier, 2);
	CU_ASSERT_STRING_EQUAL(c->from, "quality");

	/* The reputation fallback, and the default. */
	const struct derive_model *dm = dm_of(&x, "acme/think");
	CU_ASSERT_EQUAL(dm->tiers[DERIVE_TIER_QUALITY].tier, 2);
	CU_ASSERT_STRING_EQUAL(dm->tiers[DERIVE_TIER_QUALITY].basis, DERIVE_BASIS_REPUTATION);
	CU_ASSERT_STRING_EQUAL(dm->tiers[DERIVE_TIER_QUALITY].detail, "acme");
	CU_ASSERT_EQUAL(dm->tiers[DERIVE_TIER_REASONING].tier, 1);
	CU_ASSERT_STRING_EQUAL(dm->tiers[DERIVE_TIER_REASONING].basis, DERIVE_BASIS_REPUTATION);
	CU_ASSERT_EQUAL(dm->tiers[DERIVE_TIER_CREATIVE].tier, 2);
	CU_ASSERT_EQUAL(dm_of(&x, "bigco/big")->tiers[DERIVE_TIER_QUALITY].tier, 1);
	dm = dm_of(&x, "nobody/x");
	CU_ASSERT_EQUAL(dm->tiers[DERIVE_TIER_QUALITY].tier, 3);
	CU_ASSERT_STRING_EQUAL(dm->tiers[DERIVE_TIER_QUALITY].basis, DERIVE_BASIS_DEFAULT);
	CU_ASSERT_STRING_EQUAL(dm->tiers[DERIVE_TIER_SPEED].basis, DERIVE_BASIS_NONE);
	fx_free(&x);

	/* Without a reputation table every unrated model is the default. */
	fx_init(&x);
	md = fx_source(&x, "modelsdev", "modelsdev", 50);
	fx_model(&x, md, "bigco/big");
	fx_build_with(&x, load_test_tables(&x.cfg, false));
	CU_ASSERT_EQUAL(dm_of(&x, "bigco/big")->tiers[DERIVE_TIER_QUALITY].tier, 3);
	CU_ASSERT_STRING_EQUAL(dm_of(&x, "bigco/big")->tiers[DERIVE_TIER_QUALITY].basis,
			       DERIVE_BASIS_DEFAULT);
	fx_free(&x);
}

static void test_speed_tiers(void)
{
	struct fx x;
	fx_init(&x);
	size_t aa = fx_source(&x, "artificialanalysis", "artificialanalysis", 10);
	const char *ids[] = {"acme/s1", "acme/s2", "acme/s3", "acme/s4", "acme/s5"};
	for (int i = 0; i < 5; i++) {
		struct mf_record *r = fx_model(&x, aa, ids[i]);
		record_set_real(r, MF_FIELD_OUTPUT_SPEED, 10.0 * (i + 1));
		record_set_real(r, MF_FIELD_TTFT, 0.5);
	}
	fx_model(&x, aa, "acme/unmeasured");
	fx_build(&x);
	for (int i = 0; i < 5; i++) {
		const struct derive_model *dm = dm_of(&x, ids[i]);
		CU_ASSERT_EQUAL(dm->tiers[DERIVE_TIER_SPEED].tier, 5 - i);
		CU_ASSERT_STRING_EQUAL(dm->tiers[DERIVE_TIER_SPEED].basis, DERIVE_BASIS_SPEED);
		CU_ASSERT_TRUE(dm->has_speed);
		CU_ASSERT(NEAR(dm->speed, 10.0 * (i + 1)));
		CU_ASSERT_TRUE(dm->has_ttft);
	}
	const struct derive_model *dm = dm_of(&x, "acme/unmeasured");
	CU_ASSERT_EQUAL(dm->tiers[DERIVE_TIER_SPEED].tier, 0);
	CU_ASSERT_FALSE(dm->has_speed);
	fx_free(&x);
}

/* ------------------------------------------------------------ category scores */

/*
 * The coding fixture. Weights: bench.humaneval 1, aa.coding_index 1 x
 * source weight 0.5, arena.coding 2: 3.5 configured. Arena coding ratings
 * 1100..1300 are percentiles 0, 25, 50, 75, 100.
 *   E  humaneval 95                          95.00   1/3.5   = 0.2857
 *   A  90, aa 60, arena 1300 (100)    320/3.5 = 91.43   3.5/3.5 = 1
 *   B  80, arena 1250 (75)            230/3   = 76.67   3/3.5   = 0.8571
 *   C  70, aa 80                      110/1.5 = 73.33   1.5/3.5 = 0.4286
 *   D  arena 1200 (50)                          50.00   2/3.5   = 0.5714
 *   I  humaneval 50                             50.00   0.2857 (tie with D, lower confidence)
 *   H  aa 40, arena 1150 (25)          70/2.5 = 28.00   2.5/3.5 = 0.7143
 *   F  arena 1100 (0)                            0.00   0.5714
 * G has no coding score at all.
 */
static void build_coding(struct fx *x)
{
	size_t bench = fx_source(x, "bench", "benchmarks", 10);
	size_t aa = fx_source(x, "aa", "artificialanalysis", 10);
	size_t arena = fx_source(x, "arena", "arena", 10);
	x->res[aa].fetched_at = xstrdup("2025-04-01T10:00:00Z");
	x->res[arena].fetched_at = xstrdup("2025-04-02T10:00:00Z");
	struct {
		const char *id;
		double humaneval, aa, arena;
	} rows[] = {
	    {"m/a", 90, 60, 1300}, {"m/b", 80, -1, 1250}, {"m/c", 70, 80, -1},
	    {"m/d", -1, -1, 1200}, {"m/e", 95, -1, -1},	  {"m/f", -1, -1, 1100},
	    {"m/h", -1, 40, 1150}, {"m/i", 50, -1, -1},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		if (rows[i].humaneval >= 0) {
			struct mf_record *r = fx_model(x, bench, rows[i].id);
			score(r, "bench.humaneval", rows[i].humaneval);
			score(r, "bench.humaneval.date", 20250301);
		}
		if (rows[i].aa >= 0)
			score(fx_model(x, aa, rows[i].id), "aa.coding_index", rows[i].aa);
		if (rows[i].arena >= 0)
			score(fx_model(x, arena, rows[i].id), "arena.coding", rows[i].arena);
	}
	score(fx_model(x, bench, "m/g"), "bench.other", 50);
}

static void test_coding_ranking(void)
{
	struct fx x;
	fx_init(&x);
	build_coding(&x);
	fx_build(&x);
	struct {
		const char *id;
		double score, confidence;
		size_t rank;
	} want[] = {
	    {"m/e", 95.00, 0.2857, 1}, {"m/a", 91.43, 1.0, 2},	  {"m/b", 76.67, 0.8571, 3},
	    {"m/c", 73.33, 0.4286, 4}, {"m/d", 50.00, 0.5714, 5}, {"m/i", 50.00, 0.2857, 5},
	    {"m/h", 28.00, 0.7143, 7}, {"m/f", 0.00, 0.5714, 8},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const struct derive_score *s = score_of(&x, want[i].id, "coding");
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		if (!NEAR(s->score, want[i].score) || !NEAR(s->confidence, want[i].confidence) ||
		    s->rank != want[i].rank)
			fprintf(stderr, "%s: score %.10g confidence %.10g rank %zu\n", want[i].id,
				s->score, s->confidence, s->rank);
		CU_ASSERT(NEAR(s->score, want[i].score));
		CU_ASSERT(NEAR(s->confidence, want[i].confidence));
		CU_ASSERT_EQUAL(s->rank, want[i].rank);
	}
	CU_ASSERT_PTR_NULL(score_of(&x, "m/g", "coding"));

	/* A's contributions, in table order, with their sources and dates. */
	const struct derive_score *a = score_of(&x, "m/a", "coding");
	CU_ASSERT_EQUAL_FATAL(a->n_contributions, 3);
	const struct derive_contribution *c = a->contributions;
	CU_ASSERT_STRING_EQUAL(c[0].score, "bench.humaneval");
	CU_ASSERT(NEAR(c[0].value, 90) && NEAR(c[0].weight, 1) && !c[0].has_raw);
	CU_ASSERT_STRING_EQUAL(c[0].source, "bench");
	CU_ASSERT_STRING_EQUAL(c[0].date, "2025-03-01");
	CU_ASSERT_STRING_EQUAL(c[1].score, "aa.coding_index");
	CU_ASSERT(NEAR(c[1].weight, 0.5) && NEAR(c[1].effective, 0.5));
	CU_ASSERT_STRING_EQUAL(c[1].source, "aa");
	CU_ASSERT_STRING_EQUAL(c[1].date, "2025-04-01");
	CU_ASSERT_STRING_EQUAL(c[2].score, "arena.coding");
	CU_ASSERT(NEAR(c[2].value, 100) && c[2].has_raw && NEAR(c[2].raw, 1300));
	CU_ASSERT(NEAR(c[2].weight, 2));
	CU_ASSERT_STRING_EQUAL(c[2].date, "2025-04-02");
	CU_ASSERT_EQUAL(a->n_adjustments, 0);
	fx_free(&x);
}

/* A half-life of 100 days, run on 2025-04-11: a benchmark of 2025-01-01 is
 * 100 days old and weighs half; the analytics fetched that day weigh in
 * full. Score (0.5 x 80 + 0.5 x 40) / 1 = 60, confidence 1 / 3.5. */
static void test_recency_decay(void)
{
	for (int decay = 0; decay < 2; decay++) {
		struct fx x;
		fx_init(&x);
		x.cfg.derive_half_life_days = decay ? 100 : 0;
		size_t bench = fx_source(&x, "bench", "benchmarks", 10);
		size_t aa = fx_source(&x, "aa", "artificialanalysis", 10);
		x.res[aa].fetched_at = xstrdup("2025-04-11T06:00:00Z");
		struct mf_record *r = fx_model(&x, bench, "m/x");
		score(r, "bench.humaneval", 80);
		score(r, "bench.humaneval.date", 20250101);
		score(fx_model(&x, aa, "m/x"), "aa.coding_index", 40);
		/* A date after the run does not make a score weigh more. */
		r = fx_model(&x, bench, "m/future");
		score(r, "bench.humaneval", 70);
		score(r, "bench.humaneval.date", 20260101);
		fx_build(&x);
		const struct derive_score *s = score_of(&x, "m/x", "coding");
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		if (decay) {
			CU_ASSERT(NEAR(s->contributions[0].effective, 0.5));
			CU_ASSERT(NEAR(s->contributions[1].effective, 0.5));
			CU_ASSERT(NEAR(s->score, 60));
			CU_ASSERT(NEAR(s->confidence, 0.2857));
		} else {
			/* (80 + 0.5 x 40) / 1.5 = 66.67, confidence 1.5 / 3.5 */
			CU_ASSERT(NEAR(s->contributions[0].effective, 1));
			CU_ASSERT(NEAR(s->score, 66.67));
			CU_ASSERT(NEAR(s->confidence, 0.4286));
		}
		s = score_of(&x, "m/future", "coding");
		CU_ASSERT(NEAR(s->contributions[0].effective, 1));
		CU_ASSERT(NEAR(s->score, 70));
		fx_free(&x);
	}
}

/* chat: bench.mt_bench, latency_penalty 10, cost_bonus 20. Times to first
 * token 0.5, 1, 2 s are 0, 50, 100 percent slow; blended prices 1, 2, 4
 * are 100, 50, 0 percent cheap.
 *   P 80 - 0 + 20 = 100 (kept at 100), Q 60 - 5 + 10 = 65,
 *   R 40 - 10 + 0 = 30, S 70 (neither measured nor priced). */
static void test_latency_and_cost(void)
{
	struct fx x;
	fx_init(&x);
	size_t bench = fx_source(&x, "bench", "benchmarks", 10);
	size_t aa = fx_source(&x, "aa", "artificialanalysis", 10);
	size_t md = fx_source(&x, "modelsdev", "modelsdev", 50);
	struct {
		const char *id;
		double mt, ttft, price;
	} rows[] = {
	    {"m/p", 80, 0.5, 1},
	    {"m/q", 60, 1.0, 2},
	    {"m/r", 40, 2.0, 4},
	    {"m/s", 70, -1, -1},
	};
	for (size_t i = 0; i < 4; i++) {
		score(fx_model(&x, bench, rows[i].id), "bench.mt_bench", rows[i].mt);
		if (rows[i].ttft > 0)
			record_set_real(fx_model(&x, aa, rows[i].id), MF_FIELD_TTFT, rows[i].ttft);
		if (rows[i].price > 0)
			set_price(fx_offer(&x, md, "host", rows[i].id, rows[i].id), rows[i].price,
				  rows[i].price);
	}
	fx_build(&x);
	const double want[] = {100, 65, 30, 70};
	for (size_t i = 0; i < 4; i++) {
		const struct derive_score *s = score_of(&x, rows[i].id, "chat");
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		CU_ASSERT(NEAR(s->score, want[i]));
		CU_ASSERT(NEAR(s->confidence, 1));
	}
	const struct derive_score *q = score_of(&x, "m/q", "chat");
	CU_ASSERT_EQUAL_FATAL(q->n_adjustments, 2);
	CU_ASSERT_STRING_EQUAL(q->adjustments[0].kind, "latency_penalty");
	CU_ASSERT(NEAR(q->adjustments[0].points, -5));
	CU_ASSERT(NEAR(q->adjustments[0].percentile, 50));
	CU_ASSERT(NEAR(q->adjustments[0].value, 1.0));
	CU_ASSERT_STRING_EQUAL(q->adjustments[1].kind, "cost_bonus");
	CU_ASSERT(NEAR(q->adjustments[1].points, 10));
	CU_ASSERT_EQUAL(score_of(&x, "m/s", "chat")->n_adjustments, 0);
	/* coding has no adjustments at all. */
	CU_ASSERT_PTR_NULL(score_of(&x, "m/p", "coding"));
	fx_free(&x);
}

/* best_at / worst_at by percentile within each category; the overall score
 * is the mean of score x confidence over the three categories. */
static void test_summaries(void)
{
	struct fx x;
	fx_init(&x);
	build_coding(&x);
	size_t bench = 0; /* build_coding's first source */
	size_t md = fx_source(&x, "modelsdev", "modelsdev", 50);
	score(fx_model(&x, bench, "m/a"), "bench.math", 10);
	score(fx_model(&x, bench, "m/b"), "bench.math", 50);
	score(fx_model(&x, bench, "m/c"), "bench.math", 90);
	set_price(fx_offer(&x, md, "host", "b", "m/b"), 1, 3);
	fx_build(&x);

	const struct derive_model *a = dm_of(&x, "m/a");
	CU_ASSERT_STRING_EQUAL(x.cat.derived->categories[a->best_at], "coding");
	CU_ASSERT_STRING_EQUAL(x.cat.derived->categories[a->worst_at], "math");
	/* (91.43 x 1 + 10 x 1) / 3 */
	CU_ASSERT_TRUE(a->has_overall);
	CU_ASSERT(NEAR(a->overall_score, 33.81));
	CU_ASSERT_FALSE(a->has_cost_efficiency);
	const struct derive_model *c = dm_of(&x, "m/c");
	CU_ASSERT_STRING_EQUAL(x.cat.derived->categories[c->best_at], "math");
	CU_ASSERT_STRING_EQUAL(x.cat.derived->categories[c->worst_at], "coding");
	/* (73.33 x 0.4286 + 90) / 3 = 40.4771 -> 40.48 */
	CU_ASSERT(NEAR(c->overall_score, 40.48));
	/* B: (76.67 x 0.8571 + 50) / 3 = 38.5716 -> 38.57; cost efficiency
	 * 38.57 / (1 + 2) = 12.86 */
	const struct derive_model *b = dm_of(&x, "m/b");
	CU_ASSERT(NEAR(b->overall_score, 38.57));
	CU_ASSERT_TRUE(b->has_cost_efficiency);
	CU_ASSERT(NEAR(b->cost_efficiency, 12.86));
	/* One category: best_at only. */
	const struct derive_model *e = dm_of(&x, "m/e");
	CU_ASSERT_STRING_EQUAL(x.cat.derived->categories[e->best_at], "coding");
	CU_ASSERT_EQUAL(e->worst_at, -1);
	/* E: 95 x 0.2857 / 3 = 9.05; ranks: C 40.48, B 38.57, A 33.81... */
	CU_ASSERT(NEAR(e->overall_score, 9.05));
	CU_ASSERT_EQUAL(c->overall_rank, 1);
	CU_ASSERT_EQUAL(b->overall_rank, 2);
	CU_ASSERT_EQUAL(a->overall_rank, 3);
	const struct derive_model *g = dm_of(&x, "m/g");
	CU_ASSERT_FALSE(g->has_overall);
	CU_ASSERT_EQUAL(g->overall_rank, 0);
	CU_ASSERT_EQUAL(g->best_at, -1);
	fx_free(&x);
}

/* ------------------------------------------------------------ checks */

static int64_t int_of(const struct mf_record *r, enum mf_field f)
{
	int64_t v = -999;
	record_get_int(r, f, &v);
	return v;
}

static double price_of(const struct mf_record *r, const char *kind)
{
	double v = -999;
	nummap_get(record_get_map(r, MF_FIELD_PRICE), kind, &v);
	return v;
}

static void test_check_limits(void)
{
	struct fx x;
	fx_init(&x);
	size_t md = fx_source(&x, "modelsdev", "modelsdev", 50);
	size_t ll = fx_source(&x, "litellm", "litellm", 35);
	/* p:m1 - modelsdev's output limit is above the context, litellm's
	 * fits: litellm's is used. q:m1 - nobody has a better one: nulled. */
	struct mf_record *r = fx_offer(&x, md, "p", "m1", "acme/m1");
	record_set_int(r, MF_FIELD_CONTEXT_TOKENS, 1000);
	record_set_int(r, MF_FIELD_MAX_OUTPUT_TOKENS, 2000);
	set_price(r, 1, 1);
	r = fx_offer(&x, ll, "p", "m1", "acme/m1");
	record_set_int(r, MF_FIELD_CONTEXT_TOKENS, 1000);
	record_set_int(r, MF_FIELD_MAX_OUTPUT_TOKENS, 500);
	r = fx_offer(&x, md, "q", "m1", "acme/m1");
	record_set_int(r, MF_FIELD_CONTEXT_TOKENS, 1000);
	record_set_int(r, MF_FIELD_MAX_OUTPUT_TOKENS, 4000);
	record_set_int(r, MF_FIELD_MAX_INPUT_TOKENS, 1500);
	set_price(r, 1.5, 1.5);
	/* A zero context is unknown: litellm's value stands in on p:m2; on
	 * q:m2 a negative one is nulled. */
	r = fx_offer(&x, md, "p", "m2", "acme/m2");
	record_set_int(r, MF_FIELD_CONTEXT_TOKENS, 0);
	record_set_int(fx_offer(&x, ll, "p", "m2", "acme/m2"), MF_FIELD_CONTEXT_TOKENS, 8000);
	record_set_int(fx_offer(&x, md, "q", "m2", "acme/m2"), MF_FIELD_CONTEXT_TOKENS, -5);
	fx_build(&x);

	const struct catalog_offering *o = offering_of(&x, "acme/m1", "p");
	CU_ASSERT_EQUAL(int_of(o->merged, MF_FIELD_MAX_OUTPUT_TOKENS), 500);
	CU_ASSERT_STRING_EQUAL(o->provenance[MF_FIELD_MAX_OUTPUT_TOKENS], "litellm");
	const struct derive_flag *f =
	    flag_of(&x, "acme/m1", DERIVE_CHECK_OUTPUT_OVER_CONTEXT, "max_output_tokens", "p");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_STRING_EQUAL(f->action, DERIVE_ACTION_REPLACED);
	CU_ASSERT_STRING_EQUAL(f->id, "m1");
	CU_ASSERT_PTR_NOT_NULL(strstr(f->message, "max_output_tokens 2000 is above context_tokens "
						  "1000: litellm's 500 is used"));
	/* Both sources' output limits, then both contexts. */
	CU_ASSERT_EQUAL_FATAL(f->n_values, 4);
	CU_ASSERT_STRING_EQUAL(f->values[0].source, "modelsdev");
	CU_ASSERT_STRING_EQUAL(f->values[0].field, "max_output_tokens");
	CU_ASSERT(NEAR(f->values[0].number, 2000));
	CU_ASSERT_STRING_EQUAL(f->values[1].source, "litellm");
	CU_ASSERT(NEAR(f->values[1].number, 500));
	CU_ASSERT_STRING_EQUAL(f->values[2].field, "context_tokens");
	CU_ASSERT_STRING_EQUAL(f->values[0].provider, "p");

	o = offering_of(&x, "acme/m1", "q");
	CU_ASSERT_FALSE(record_has(o->merged, MF_FIELD_MAX_OUTPUT_TOKENS));
	CU_ASSERT_FALSE(record_has(o->merged, MF_FIELD_MAX_INPUT_TOKENS));
	f = flag_of(&x, "acme/m1", DERIVE_CHECK_OUTPUT_OVER_CONTEXT, "max_output_tokens", "q");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_STRING_EQUAL(f->action, DERIVE_ACTION_NULLED);
	CU_ASSERT_PTR_NOT_NULL(
	    flag_of(&x, "acme/m1", DERIVE_CHECK_INPUT_OVER_CONTEXT, "max_input_tokens", "q"));
	/* The model shows the checked values of its price_from offering (the
	 * median blended price: p). */
	CU_ASSERT_EQUAL(int_of(merged_of(&x, "acme/m1"), MF_FIELD_MAX_OUTPUT_TOKENS), 500);

	o = offering_of(&x, "acme/m2", "p");
	CU_ASSERT_EQUAL(int_of(o->merged, MF_FIELD_CONTEXT_TOKENS), 8000);
	f = flag_of(&x, "acme/m2", DERIVE_CHECK_NOT_POSITIVE, "context_tokens", "p");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_STRING_EQUAL(f->action, DERIVE_ACTION_REPLACED);
	CU_ASSERT_EQUAL(f->n_values, 2);
	o = offering_of(&x, "acme/m2", "q");
	CU_ASSERT_FALSE(record_has(o->merged, MF_FIELD_CONTEXT_TOKENS));
	f = flag_of(&x, "acme/m2", DERIVE_CHECK_NOT_POSITIVE, "context_tokens", "q");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_STRING_EQUAL(f->action, DERIVE_ACTION_NULLED);
	CU_ASSERT(NEAR(f->values[0].number, -5));

	/* Two flags nulled a field (q:m1 output and input), q:m2 a third. */
	CU_ASSERT_EQUAL(x.cat.derived->nulled, 3);
	CU_ASSERT_EQUAL(x.cat.derived->flagged_models, 2);
	fx_free(&x);
}

static void test_check_prices(void)
{
	struct fx x;
	fx_init(&x);
	x.cfg.derive_max_price = 1000;
	size_t md = fx_source(&x, "modelsdev", "modelsdev", 50);
	size_t ll = fx_source(&x, "litellm", "litellm", 35);
	set_price(fx_offer(&x, md, "acme", "neg", "acme/neg"), -1, 2);
	struct mf_record *r = fx_offer(&x, md, "acme", "big", "acme/big");
	set_price(r, 5000, 4);
	set_price(fx_offer(&x, ll, "acme", "big", "acme/big"), 3, 4);
	set_price(fx_offer(&x, md, "acme", "ok", "acme/ok"), 0, 999.5);
	fx_build(&x);

	const struct catalog_offering *o = offering_of(&x, "acme/neg", "acme");
	CU_ASSERT(NEAR(price_of(o->merged, "input"), -999));
	CU_ASSERT(NEAR(price_of(o->merged, "output"), 2));
	const struct derive_flag *f =
	    flag_of(&x, "acme/neg", DERIVE_CHECK_NEGATIVE_PRICE, "price.input_per_million", "acme");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_STRING_EQUAL(f->action, DERIVE_ACTION_NULLED);
	CU_ASSERT_EQUAL(f->n_values, 1);
	/* No input price, so no blended price and no cost tier. */
	CU_ASSERT_EQUAL(dm_of(&x, "acme/neg")->tiers[DERIVE_TIER_COST].tier, 0);

	o = offering_of(&x, "acme/big", "acme");
	CU_ASSERT(NEAR(price_of(o->merged, "input"), 3));
	CU_ASSERT(NEAR(price_of(merged_of(&x, "acme/big"), "input"), 3));
	f = flag_of(&x, "acme/big", DERIVE_CHECK_IMPLAUSIBLE_PRICE, "price.input_per_million",
		    "acme");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_STRING_EQUAL(f->action, DERIVE_ACTION_REPLACED);
	CU_ASSERT_EQUAL(f->n_values, 2);
	CU_ASSERT(NEAR(f->values[0].number, 5000));
	CU_ASSERT(NEAR(f->values[1].number, 3));

	/* 0 and anything below the limit pass. */
	CU_ASSERT_EQUAL(dm_of(&x, "acme/ok")->n_flags, 0);
	fx_free(&x);
}

static void test_check_dates(void)
{
	struct fx x;
	fx_init(&x);
	size_t md = fx_source(&x, "modelsdev", "modelsdev", 50);
	size_t ll = fx_source(&x, "litellm", "litellm", 35);
	struct mf_record *r = fx_offer(&x, md, "acme", "m", "acme/m");
	record_set_string(r, MF_FIELD_RELEASE_DATE, "2024-13-01");
	record_set_string(r, MF_FIELD_KNOWLEDGE, "2025-02-31");
	r = fx_offer(&x, ll, "acme", "m", "acme/m");
	record_set_string(r, MF_FIELD_RELEASE_DATE, "2024-12-01");
	record_set_string(r, MF_FIELD_DEPRECATION_DATE, "soon");
	fx_build(&x);

	/* The model: the bad release date gives way to litellm's; the bad
	 * knowledge date has no alternative and is nulled. */
	const struct mf_record *m = merged_of(&x, "acme/m");
	CU_ASSERT_STRING_EQUAL(record_get_string(m, MF_FIELD_RELEASE_DATE), "2024-12-01");
	CU_ASSERT_PTR_NULL(record_get_string(m, MF_FIELD_KNOWLEDGE));
	const struct derive_flag *f =
	    flag_of(&x, "acme/m", DERIVE_CHECK_BAD_DATE, "release_date", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_STRING_EQUAL(f->action, DERIVE_ACTION_REPLACED);
	CU_ASSERT_EQUAL_FATAL(f->n_values, 2);
	CU_ASSERT_TRUE(f->values[0].is_string);
	CU_ASSERT_STRING_EQUAL(f->values[0].string, "2024-13-01");
	f = flag_of(&x, "acme/m", DERIVE_CHECK_BAD_DATE, "knowledge", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_STRING_EQUAL(f->action, DERIVE_ACTION_NULLED);

	/* The offering itself is checked too. */
	const struct catalog_offering *o = offering_of(&x, "acme/m", "acme");
	CU_ASSERT_STRING_EQUAL(record_get_string(o->merged, MF_FIELD_RELEASE_DATE), "2024-12-01");
	CU_ASSERT_PTR_NULL(record_get_string(o->merged, MF_FIELD_DEPRECATION_DATE));
	CU_ASSERT_PTR_NOT_NULL(
	    flag_of(&x, "acme/m", DERIVE_CHECK_BAD_DATE, "deprecation_date", "acme"));
	fx_free(&x);
}

/* A record the catalog borrowed whole (one source's offering, one model
 * record) is copied before a check changes it: the source's record, which
 * mapping.json still reads, keeps what the source said. */
static void test_checks_leave_sources_alone(void)
{
	struct fx x;
	fx_init(&x);
	size_t md = fx_source(&x, "modelsdev", "modelsdev", 50);
	size_t hf = fx_source(&x, "huggingface", "huggingface", 30);
	struct mf_record *ro = fx_offer(&x, md, "acme", "m", "acme/m");
	record_set_int(ro, MF_FIELD_CONTEXT_TOKENS, 1000);
	record_set_int(ro, MF_FIELD_MAX_OUTPUT_TOKENS, 4000);
	record_set_string(ro, MF_FIELD_RELEASE_DATE, "2024-02-30");
	set_price(ro, 1, -2);
	struct mf_record *rm = fx_model(&x, hf, "acme/base");
	record_set_string(rm, MF_FIELD_CREATED, "yesterday");
	record_set_int(rm, MF_FIELD_DOWNLOADS, 10);
	fx_build(&x);

	const struct catalog_offering *o = offering_of(&x, "acme/m", "acme");
	CU_ASSERT_PTR_NOT_EQUAL(o->merged, ro);
	CU_ASSERT_FALSE(record_has(o->merged, MF_FIELD_MAX_OUTPUT_TOKENS));
	CU_ASSERT_FALSE(record_has(o->merged, MF_FIELD_RELEASE_DATE));
	CU_ASSERT(NEAR(price_of(o->merged, "input"), 1));
	CU_ASSERT_EQUAL(price_of(o->merged, "output"), -999);
	CU_ASSERT_EQUAL(int_of(ro, MF_FIELD_MAX_OUTPUT_TOKENS), 4000);
	CU_ASSERT_STRING_EQUAL(record_get_string(ro, MF_FIELD_RELEASE_DATE), "2024-02-30");
	CU_ASSERT(NEAR(price_of(ro, "output"), -2));
	/* The model shows the checked offering. */
	const struct mf_record *m = merged_of(&x, "acme/m");
	CU_ASSERT_FALSE(record_has(m, MF_FIELD_MAX_OUTPUT_TOKENS));
	CU_ASSERT_EQUAL(price_of(m, "output"), -999);

	const struct mf_record *base = merged_of(&x, "acme/base");
	CU_ASSERT_PTR_NOT_EQUAL(base, rm);
	CU_ASSERT_PTR_NULL(record_get_string(base, MF_FIELD_CREATED));
	CU_ASSERT_EQUAL(int_of(base, MF_FIELD_DOWNLOADS), 10);
	CU_ASSERT_STRING_EQUAL(record_get_string(rm, MF_FIELD_CREATED), "yesterday");
	CU_ASSERT_PTR_NOT_NULL(flag_of(&x, "acme/base", DERIVE_CHECK_BAD_DATE, "created", NULL));
	fx_free(&x);
}

static void test_check_disagreement(void)
{
	struct fx x;
	fx_init(&x);
	size_t md = fx_source(&x, "modelsdev", "modelsdev", 50);
	size_t orr = fx_source(&x, "openrouter", "openrouter", 40);
	/* More than 2x apart: flagged, kept. */
	struct mf_record *r = fx_offer(&x, md, "acme", "wide", "acme/wide");
	record_set_int(r, MF_FIELD_CONTEXT_TOKENS, 128000);
	set_price(r, 1, 4);
	r = fx_offer(&x, orr, "openrouter", "acme/wide", "acme/wide");
	record_set_int(r, MF_FIELD_CONTEXT_TOKENS, 8000);
	set_price(r, 3, 8);
	/* A free offering does not count; 2x exactly is no disagreement. */
	r = fx_offer(&x, orr, "openrouter", "acme/wide:free", "acme/wide");
	set_price(r, 0, 0);
	r = fx_offer(&x, md, "acme", "near", "acme/near");
	record_set_int(r, MF_FIELD_CONTEXT_TOKENS, 100000);
	set_price(r, 1, 1);
	r = fx_offer(&x, orr, "openrouter", "acme/near", "acme/near");
	record_set_int(r, MF_FIELD_CONTEXT_TOKENS, 50000);
	set_price(r, 2, 2);
	fx_build(&x);

	const struct derive_flag *f =
	    flag_of(&x, "acme/wide", DERIVE_CHECK_DISAGREEMENT, "context_tokens", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_STRING_EQUAL(f->action, DERIVE_ACTION_KEPT);
	CU_ASSERT_EQUAL_FATAL(f->n_values, 2);
	CU_ASSERT_STRING_EQUAL(f->values[0].source, "modelsdev");
	CU_ASSERT(NEAR(f->values[0].number, 128000));
	CU_ASSERT_STRING_EQUAL(f->values[1].id, "acme/wide");
	f = flag_of(&x, "acme/wide", DERIVE_CHECK_DISAGREEMENT, "price.input_per_million", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->n_values, 2);
	/* 4 and 8 are within 2x. */
	CU_ASSERT_PTR_NULL(
	    flag_of(&x, "acme/wide", DERIVE_CHECK_DISAGREEMENT, "price.output_per_million", NULL));
	/* Kept: the model still shows its own offering's values. */
	CU_ASSERT_EQUAL(int_of(merged_of(&x, "acme/wide"), MF_FIELD_CONTEXT_TOKENS), 128000);
	CU_ASSERT_EQUAL(dm_of(&x, "acme/near")->n_flags, 0);
	CU_ASSERT_EQUAL(x.cat.derived->nulled, 0);
	fx_free(&x);
}

/* ------------------------------------------------------------ output */

static void test_writer_output(void)
{
	struct fx x;
	fx_init(&x);
	build_coding(&x);
	size_t md = fx_source(&x, "modelsdev", "modelsdev", 50);
	struct mf_record *r = fx_offer(&x, md, "host", "a", "m/a");
	set_price(r, 1, 3);
	record_set_int(r, MF_FIELD_CONTEXT_TOKENS, 1000);
	record_set_int(r, MF_FIELD_MAX_OUTPUT_TOKENS, 2000);
	fx_build(&x);

	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct writer_input in = {
	    .cfg = &x.cfg,
	    .results = x.res,
	    .catalog = &x.cat,
	    .mapping = &x.map,
	    .generated_at = "2025-04-11T00:00:00Z",
	};
	CU_ASSERT_EQUAL(writer_catalog(f, &in), 0);
	fclose(f);
	json_error_t jerr;
	json_t *root = json_loads(buf, 0, &jerr);
	free(buf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	json_t *a = NULL;
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(root, "models"), i, m)
	{
		if (strcmp(json_string_value(json_object_get(m, "id")), "m/a") == 0)
			a = m;
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	json_t *tiers = json_object_get(a, "tiers");
	CU_ASSERT_EQUAL(json_object_size(tiers), 5);
	json_t *cost = json_object_get(tiers, "cost");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(cost, "tier")), 3);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(cost, "basis")), "price_quantile");
	CU_ASSERT(NEAR(json_real_value(json_object_get(cost, "value")), 2));
	json_t *speed = json_object_get(tiers, "speed");
	CU_ASSERT_TRUE(json_is_null(json_object_get(speed, "tier")));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(speed, "basis")), "none");
	json_t *coding = json_object_get(json_object_get(a, "category_scores"), "coding");
	CU_ASSERT(NEAR(json_real_value(json_object_get(coding, "score")), 91.43));
	CU_ASSERT(NEAR(json_real_value(json_object_get(coding, "confidence")), 1));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(coding, "rank")), 2);
	json_t *contrib = json_array_get(json_object_get(coding, "contributing_scores"), 2);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(contrib, "name")), "arena.coding");
	CU_ASSERT(NEAR(json_real_value(json_object_get(contrib, "raw")), 1300));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(contrib, "source")), "arena");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(contrib, "date")), "2025-04-02");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(a, "best_at")), "coding");
	CU_ASSERT_TRUE(json_is_null(json_object_get(a, "worst_at")));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(a, "overall_rank")), 1);
	CU_ASSERT_TRUE(json_is_null(json_object_get(a, "speed")));
	/* The flag, with the offering and the values. */
	json_t *flags = json_object_get(json_object_get(a, "quality"), "flags");
	CU_ASSERT_EQUAL_FATAL(json_array_size(flags), 1);
	json_t *fl = json_array_get(flags, 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(fl, "check")),
			       "output_over_context");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(fl, "action")), "nulled");
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_object_get(json_object_get(fl, "offering"), "provider")),
	    "host");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(fl, "values")), 2);
	CU_ASSERT_TRUE(json_is_null(json_object_get(a, "max_output_tokens")));
	/* A model without derived scores still has every key. */
	json_array_foreach(json_object_get(root, "models"), i, m)
	{
		CU_ASSERT_PTR_NOT_NULL(json_object_get(m, "overall_rank"));
		CU_ASSERT_PTR_NOT_NULL(json_object_get(json_object_get(m, "quality"), "flags"));
	}
	json_decref(root);
	fx_free(&x);
}

/* Without a mapping derive still works: flags list no values, scores name
 * no source. */
static void test_without_mapping(void)
{
	struct fx x;
	fx_init(&x);
	size_t md = fx_source(&x, "modelsdev", "modelsdev", 50);
	struct mf_record *r = fx_offer(&x, md, "acme", "m", "acme/m");
	record_set_int(r, MF_FIELD_CONTEXT_TOKENS, 100);
	record_set_int(r, MF_FIELD_MAX_OUTPUT_TOKENS, 200);
	struct derive_tables *t = load_test_tables(&x.cfg, true);
	x.tables = t;
	CU_ASSERT_EQUAL_FATAL(merge_build(&x.cfg, x.res, x.n, &x.map, &x.cat), 0);
	struct derive_input in = {.tables = t, .now = x.now};
	CU_ASSERT_EQUAL(derive_run(&in, &x.cat), 0);
	x.built = true;
	const struct derive_flag *f =
	    flag_of(&x, "acme/m", DERIVE_CHECK_OUTPUT_OVER_CONTEXT, "max_output_tokens", "acme");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->n_values, 0);
	/* A second run replaces the first result. */
	CU_ASSERT_EQUAL(derive_run(&in, &x.cat), 0);
	CU_ASSERT_EQUAL(x.cat.derived->flags, 0);
	fx_free(&x);
}

int main(void)
{
	static const struct tu_test tests[] = {
	    {"quantiles and tiers: ties, fewer than five, one value", test_quantiles},
	    {"checks copy a borrowed record before changing it", test_checks_leave_sources_alone},
	    {"percentiles", test_percentiles},
	    {"ISO 8601 dates", test_dates},
	    {"the shipped tables load", test_shipped_tables},
	    {"[derive] and [category] over the table", test_category_config},
	    {"[derive] and [category] errors name file:line", test_category_config_errors},
	    {"broken table files are refused", test_bad_table_files},
	    {"tables that are not installed", test_missing_shipped_tables},
	    {"cost tiers; missing prices", test_cost_tiers},
	    {"quality, reasoning, creative tiers; reputation fallback", test_quality_tiers},
	    {"speed tiers", test_speed_tiers},
	    {"coding ranking and confidences computed by hand", test_coding_ranking},
	    {"recency decay", test_recency_decay},
	    {"latency penalty and cost bonus", test_latency_and_cost},
	    {"best_at, worst_at, overall rank, cost efficiency", test_summaries},
	    {"check: limits above the context, unknown limits", test_check_limits},
	    {"check: negative and implausible prices", test_check_prices},
	    {"check: dates", test_check_dates},
	    {"check: offerings disagreeing by more than 2x", test_check_disagreement},
	    {"catalog.json carries the derived data", test_writer_output},
	    {"derive without a mapping", test_without_mapping},
	    {NULL, NULL},
	};
	return tu_main("derive", tests);
}
