/* The mapper, the merge engine and the writers, on records built here. */
#include "mf_build_config.h"
#include "testutil.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "changes.h"
#include "mapper.h"
#include "merge.h"
#include "query.h"
#include "record.h"
#include "runner.h"
#include "util.h"
#include "writer.h"

/* ------------------------------------------------------------ fixture */

#define FX_MAX 8

/* A hand-built run: sources as the config would list them, their results,
 * and what mapper and merge made of them. */
struct fx {
	struct config cfg;
	struct source_config src[FX_MAX];
	struct source_result res[FX_MAX];
	struct provider_config prov[2];
	size_t n;
	struct mapping map;
	struct catalog cat;
	bool built;
};

static void fx_init(struct fx *x)
{
	memset(x, 0, sizeof *x);
	x->cfg.sources = x->src;
	/* [mapper] overrides = none: the tests see the rules alone. */
	x->cfg.mapper_overrides_set = true;
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

static struct mf_record *fx_offer(struct fx *x, size_t src, const char *provider, const char *id)
{
	struct mf_record *r = record_new(MF_RECORD_OFFERING, id);
	if (provider)
		record_set_string(r, MF_FIELD_PROVIDER, provider);
	record_array_push(&x->res[src].records, r);
	return r;
}

static struct mf_record *fx_model(struct fx *x, size_t src, const char *id)
{
	struct mf_record *r = record_new(MF_RECORD_MODEL, id);
	record_array_push(&x->res[src].records, r);
	return r;
}

static void fx_build(struct fx *x)
{
	char err[256] = "";
	CU_ASSERT_EQUAL_FATAL(mapper_run(&x->cfg, x->res, x->n, &x->map, err, sizeof err), 0);
	CU_ASSERT_EQUAL_FATAL(merge_build(&x->cfg, x->res, x->n, &x->map, &x->cat), 0);
	x->built = true;
}

static void fx_free(struct fx *x)
{
	if (x->built) {
		catalog_free(&x->cat);
		mapping_free(&x->map);
	}
	for (size_t i = 0; i < x->n; i++)
		record_array_free(&x->res[i].records);
}

static const struct catalog_model *find_model(const struct catalog *cat, const char *id)
{
	for (size_t i = 0; i < cat->n_models; i++)
		if (strcmp(cat->models[i].id, id) == 0)
			return &cat->models[i];
	return NULL;
}

static bool list_is(const struct strlist *l, const char *const *want)
{
	size_t n = 0;
	while (want[n])
		n++;
	if (!l)
		return n == 0;
	if (l->count != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(l->items[i], want[i]) != 0)
			return false;
	return true;
}

static double price_of(const struct mf_record *r, const char *key)
{
	double v = -1;
	nummap_get(record_get_map(r, MF_FIELD_PRICE), key, &v);
	return v;
}

static void set_price(struct mf_record *r, double in, double out)
{
	record_map_set(r, MF_FIELD_PRICE, "input", in);
	record_map_set(r, MF_FIELD_PRICE, "output", out);
}

/* ------------------------------------------------------------ merge */

static void test_scalar_precedence(void)
{
	for (int round = 0; round < 2; round++) {
		struct fx x;
		fx_init(&x);
		/* Round 0: a is higher; round 1: the admin raised b. */
		size_t a = fx_source(&x, "a", "modelsdev", 50);
		size_t b = fx_source(&x, "b", "openrouter", round == 0 ? 40 : 70);
		struct mf_record *ra = fx_offer(&x, a, "openai", "gpt-4o");
		struct mf_record *rb = fx_offer(&x, b, "openrouter", "openai/gpt-4o");
		record_set_string(ra, MF_FIELD_RELEASE_DATE, "2024-05-13");
		record_set_string(rb, MF_FIELD_RELEASE_DATE, "2024-05-01");
		record_set_bool(ra, MF_FIELD_REASONING, false);
		record_set_bool(rb, MF_FIELD_REASONING, true);
		fx_build(&x);
		CU_ASSERT_EQUAL_FATAL(x.cat.n_models, 1);
		const struct catalog_model *m = &x.cat.models[0];
		CU_ASSERT_STRING_EQUAL(m->id, "openai/gpt-4o");
		CU_ASSERT_STRING_EQUAL(m->maker, "openai");
		const char *want = round == 0 ? "2024-05-13" : "2024-05-01";
		CU_ASSERT_STRING_EQUAL(record_get_string(m->merged, MF_FIELD_RELEASE_DATE), want);
		CU_ASSERT_STRING_EQUAL(m->provenance[MF_FIELD_RELEASE_DATE],
				       round == 0 ? "a" : "b");
		bool reasoning = false;
		CU_ASSERT_TRUE(record_get_bool(m->merged, MF_FIELD_REASONING, &reasoning));
		CU_ASSERT_EQUAL(reasoning, round == 1);
		/* Offering-level fields are no model-level provenance. */
		CU_ASSERT_PTR_NULL(m->provenance[MF_FIELD_PROVIDER]);
		fx_free(&x);
	}
}

static void test_null_never_erases(void)
{
	struct fx x;
	fx_init(&x);
	size_t hi = fx_source(&x, "hi", "local", 100);
	size_t lo = fx_source(&x, "lo", "huggingface", 30);
	struct mf_record *rh = fx_model(&x, hi, "meta-llama/Llama-3.1-8B");
	struct mf_record *rl = fx_model(&x, lo, "meta-llama/Llama-3.1-8B");
	record_set_string(rh, MF_FIELD_NAME, "Llama 3.1 8B");
	record_set_string(rl, MF_FIELD_NAME, "llama-3.1-8b");
	record_set_string(rl, MF_FIELD_LICENSE, "llama3.1");
	record_set_int(rl, MF_FIELD_DOWNLOADS, 12345);
	fx_build(&x);
	CU_ASSERT_EQUAL_FATAL(x.cat.n_models, 1);
	const struct catalog_model *m = &x.cat.models[0];
	CU_ASSERT_STRING_EQUAL(record_get_string(m->merged, MF_FIELD_NAME), "Llama 3.1 8B");
	CU_ASSERT_STRING_EQUAL(m->provenance[MF_FIELD_NAME], "hi");
	CU_ASSERT_STRING_EQUAL(record_get_string(m->merged, MF_FIELD_LICENSE), "llama3.1");
	CU_ASSERT_STRING_EQUAL(m->provenance[MF_FIELD_LICENSE], "lo");
	int64_t downloads = 0;
	CU_ASSERT_TRUE(record_get_int(m->merged, MF_FIELD_DOWNLOADS, &downloads));
	CU_ASSERT_EQUAL(downloads, 12345);
	/* Nobody knows the release date: unset, no provenance. */
	CU_ASSERT_PTR_NULL(record_get_string(m->merged, MF_FIELD_RELEASE_DATE));
	CU_ASSERT_PTR_NULL(m->provenance[MF_FIELD_RELEASE_DATE]);
	/* No offering: no price source. */
	CU_ASSERT_EQUAL(m->n_offerings, 0);
	CU_ASSERT_EQUAL(m->price_from, -1);
	fx_free(&x);
}

static void add_list(struct mf_record *r, enum mf_field f, const char *const *items)
{
	for (; *items; items++)
		record_list_add(r, f, *items);
}

static void test_union_lists(void)
{
	struct fx x;
	fx_init(&x);
	/* Config order is not precedence order on purpose. */
	size_t mid = fx_source(&x, "mid", "openrouter", 40);
	size_t hi = fx_source(&x, "hi", "modelsdev", 50);
	size_t lo = fx_source(&x, "lo", "huggingface", 30);
	struct mf_record *rm = fx_offer(&x, mid, "openrouter", "openai/gpt-4o");
	struct mf_record *rh = fx_offer(&x, hi, "openai", "gpt-4o");
	struct mf_record *rl = fx_model(&x, lo, "openai/gpt-4o");
	add_list(rl, MF_FIELD_ALIASES, (const char *const[]){"x", "y", NULL});
	add_list(rm, MF_FIELD_ALIASES, (const char *const[]){"y", "z", NULL});
	add_list(rh, MF_FIELD_ALIASES, (const char *const[]){"w", "x", NULL});
	add_list(rl, MF_FIELD_TAGS, (const char *const[]){"text-generation", NULL});
	add_list(rh, MF_FIELD_TAGS, (const char *const[]){"chat", "Text-Generation", NULL});
	add_list(rl, MF_FIELD_INPUT_MODALITIES, (const char *const[]){"text", NULL});
	add_list(rm, MF_FIELD_INPUT_MODALITIES, (const char *const[]){"image", "text", NULL});
	add_list(rh, MF_FIELD_INPUT_MODALITIES, (const char *const[]){"audio", "image", NULL});
	add_list(rm, MF_FIELD_OUTPUT_MODALITIES, (const char *const[]){"text", NULL});
	add_list(rh, MF_FIELD_OUTPUT_MODALITIES, (const char *const[]){"audio", "text", NULL});
	fx_build(&x);
	CU_ASSERT_EQUAL_FATAL(x.cat.n_models, 1);
	const struct catalog_model *m = &x.cat.models[0];
	const struct mf_record *r = m->merged;
	CU_ASSERT_TRUE(list_is(record_get_list(r, MF_FIELD_ALIASES),
			       (const char *const[]){"x", "y", "z", "w", NULL}));
	/* Duplicates are exact bytes: a different case is another tag. */
	CU_ASSERT_TRUE(
	    list_is(record_get_list(r, MF_FIELD_TAGS),
		    (const char *const[]){"text-generation", "chat", "Text-Generation", NULL}));
	CU_ASSERT_TRUE(list_is(record_get_list(r, MF_FIELD_INPUT_MODALITIES),
			       (const char *const[]){"text", "image", "audio", NULL}));
	CU_ASSERT_TRUE(list_is(record_get_list(r, MF_FIELD_OUTPUT_MODALITIES),
			       (const char *const[]){"text", "audio", NULL}));
	/* Provenance of a union: its highest contributor. */
	CU_ASSERT_STRING_EQUAL(m->provenance[MF_FIELD_ALIASES], "hi");
	CU_ASSERT_STRING_EQUAL(m->provenance[MF_FIELD_TAGS], "hi");
	CU_ASSERT_STRING_EQUAL(m->provenance[MF_FIELD_OUTPUT_MODALITIES], "hi");
	/* The offerings keep their own lists. */
	CU_ASSERT_EQUAL_FATAL(m->n_offerings, 2);
	CU_ASSERT_STRING_EQUAL(m->offerings[0].provider, "openai");
	CU_ASSERT_TRUE(list_is(record_get_list(m->offerings[0].merged, MF_FIELD_ALIASES),
			       (const char *const[]){"w", "x", NULL}));
	fx_free(&x);
}

static void test_map_merge_per_key(void)
{
	struct fx x;
	fx_init(&x);
	size_t hi = fx_source(&x, "hi", "arena", 60);
	size_t lo = fx_source(&x, "lo", "benchmarks", 10);
	struct mf_record *rh = fx_model(&x, hi, "gpt-4o-2024-05-13");
	struct mf_record *rl = fx_model(&x, lo, "gpt-4o-2024-05-13");
	record_map_set(rh, MF_FIELD_SCORES, "arena.full", 1285.5);
	record_map_set(rl, MF_FIELD_SCORES, "arena.full", 1200);
	record_map_set(rl, MF_FIELD_SCORES, "mmlu", 88.7);
	fx_build(&x);
	CU_ASSERT_EQUAL_FATAL(x.cat.n_models, 1);
	const struct nummap *s = record_get_map(x.cat.models[0].merged, MF_FIELD_SCORES);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->count, 2);
	double v = 0;
	CU_ASSERT_TRUE(nummap_get(s, "arena.full", &v));
	CU_ASSERT_DOUBLE_EQUAL(v, 1285.5, 1e-12);
	CU_ASSERT_TRUE(nummap_get(s, "mmlu", &v));
	CU_ASSERT_DOUBLE_EQUAL(v, 88.7, 1e-12);
	CU_ASSERT_STRING_EQUAL(x.cat.models[0].provenance[MF_FIELD_SCORES], "hi");
	fx_free(&x);
}

static void test_ties_by_instance_name(void)
{
	struct fx x;
	fx_init(&x);
	/* Same precedence; "alpha" sorts first and wins although it comes
	 * second in the config. */
	size_t beta = fx_source(&x, "beta", "modelsdev", 50);
	size_t alpha = fx_source(&x, "alpha", "modelsdev", 50);
	struct mf_record *rb = fx_offer(&x, beta, "openai", "gpt-4o");
	struct mf_record *ra = fx_offer(&x, alpha, "openai", "gpt-4o");
	record_set_string(rb, MF_FIELD_FAMILY, "from-beta");
	record_set_string(ra, MF_FIELD_FAMILY, "from-alpha");
	record_set_int(rb, MF_FIELD_CONTEXT_TOKENS, 1000);
	record_set_int(ra, MF_FIELD_CONTEXT_TOKENS, 2000);
	add_list(rb, MF_FIELD_ALIASES, (const char *const[]){"b1", "shared", NULL});
	add_list(ra, MF_FIELD_ALIASES, (const char *const[]){"a1", "shared", NULL});
	fx_build(&x);
	CU_ASSERT_EQUAL_FATAL(x.cat.n_models, 1);
	const struct catalog_model *m = &x.cat.models[0];
	CU_ASSERT_STRING_EQUAL(record_get_string(m->merged, MF_FIELD_FAMILY), "from-alpha");
	CU_ASSERT_STRING_EQUAL(m->provenance[MF_FIELD_FAMILY], "alpha");
	/* The union runs from the loser to the winner. */
	CU_ASSERT_TRUE(list_is(record_get_list(m->merged, MF_FIELD_ALIASES),
			       (const char *const[]){"b1", "shared", "a1", NULL}));
	CU_ASSERT_EQUAL_FATAL(m->n_offerings, 1);
	const struct catalog_offering *o = &m->offerings[0];
	CU_ASSERT_EQUAL_FATAL(o->n_sources, 2);
	CU_ASSERT_STRING_EQUAL(o->sources[0], "alpha");
	CU_ASSERT_STRING_EQUAL(o->sources[1], "beta");
	int64_t ctx = 0;
	CU_ASSERT_TRUE(record_get_int(o->merged, MF_FIELD_CONTEXT_TOKENS, &ctx));
	CU_ASSERT_EQUAL(ctx, 2000);
	CU_ASSERT_STRING_EQUAL(o->provenance[MF_FIELD_CONTEXT_TOKENS], "alpha");
	fx_free(&x);
}

static void test_same_offering_two_sources(void)
{
	struct fx x;
	fx_init(&x);
	size_t md = fx_source(&x, "modelsdev", "modelsdev", 50);
	size_t oa = fx_source(&x, "openai", "anyllm", 60);
	size_t or = fx_source(&x, "openrouter", "openrouter", 40);
	struct mf_record *rmd = fx_offer(&x, md, "openai", "gpt-4o");
	record_set_string(rmd, MF_FIELD_SOURCE_KEY, "openai/gpt-4o");
	set_price(rmd, 2.5, 10);
	record_set_int(rmd, MF_FIELD_CONTEXT_TOKENS, 128000);
	record_set_string(rmd, MF_FIELD_NAME, "GPT-4o");
	struct mf_record *roa = fx_offer(&x, oa, "openai", "gpt-4o");
	record_set_int(roa, MF_FIELD_CONTEXT_TOKENS, 100000);
	struct mf_record *ror = fx_offer(&x, or, "openrouter", "openai/gpt-4o");
	set_price(ror, 2.5, 10);
	fx_build(&x);
	CU_ASSERT_EQUAL_FATAL(x.cat.n_models, 1);
	const struct catalog_model *m = &x.cat.models[0];
	CU_ASSERT_EQUAL_FATAL(m->n_offerings, 2);
	const struct catalog_offering *o = &m->offerings[0];
	CU_ASSERT_STRING_EQUAL(o->provider, "openai");
	CU_ASSERT_STRING_EQUAL(o->native_id, "gpt-4o");
	CU_ASSERT_EQUAL_FATAL(o->n_sources, 2);
	CU_ASSERT_STRING_EQUAL(o->sources[0], "openai"); /* precedence 60 */
	CU_ASSERT_STRING_EQUAL(o->sources[1], "modelsdev");
	/* Per field: the anyllm context wins, the price only models.dev has. */
	int64_t ctx = 0;
	record_get_int(o->merged, MF_FIELD_CONTEXT_TOKENS, &ctx);
	CU_ASSERT_EQUAL(ctx, 100000);
	CU_ASSERT_DOUBLE_EQUAL(price_of(o->merged, "input"), 2.5, 1e-12);
	CU_ASSERT_STRING_EQUAL(o->provenance[MF_FIELD_PRICE], "modelsdev");
	CU_ASSERT_STRING_EQUAL(record_get_string(o->merged, MF_FIELD_PROVIDER), "openai");
	CU_ASSERT_STRING_EQUAL(m->offerings[1].provider, "openrouter");
	CU_ASSERT_STRING_EQUAL(m->offerings[1].native_id, "openai/gpt-4o");
	/* Model-level: the offering's name reaches the model. */
	CU_ASSERT_STRING_EQUAL(record_get_string(m->merged, MF_FIELD_NAME), "GPT-4o");
	/* The anyllm instance can call it; openrouter makes it a candidate. */
	CU_ASSERT_EQUAL_FATAL(m->callable_via.count, 1);
	CU_ASSERT_STRING_EQUAL(m->callable_via.items[0], "openai");
	CU_ASSERT_TRUE(m->staging);
	fx_free(&x);
}

static void test_price_from(void)
{
	struct fx x;
	fx_init(&x);
	size_t md = fx_source(&x, "modelsdev", "modelsdev", 50);
	/* The maker's own offering, even though it is not the median. */
	set_price(fx_offer(&x, md, "azure", "gpt-4o"), 5, 15);
	set_price(fx_offer(&x, md, "openai", "gpt-4o"), 2.5, 10);
	set_price(fx_offer(&x, md, "github-models", "gpt-4o"), 0, 0);
	/* No maker offering: the priced one beats one with a context only. */
	set_price(fx_offer(&x, md, "groq", "llama-3.1-8b-instant"), 0.05, 0.08);
	struct mf_record *r = fx_offer(&x, md, "cerebras", "llama-3.1-8b-instant");
	record_set_int(r, MF_FIELD_CONTEXT_TOKENS, 8192);
	fx_build(&x);

	const struct catalog_model *m = find_model(&x.cat, "openai/gpt-4o");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL_FATAL(m->n_offerings, 3);
	CU_ASSERT_STRING_EQUAL(m->offerings[0].provider, "azure");
	CU_ASSERT_STRING_EQUAL(m->offerings[1].provider, "github-models");
	CU_ASSERT_STRING_EQUAL(m->offerings[2].provider, "openai");
	CU_ASSERT_EQUAL(m->price_from, 2);
	CU_ASSERT_DOUBLE_EQUAL(price_of(m->merged, "input"), 2.5, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(price_of(m->merged, "output"), 10, 1e-12);

	/* meta/llama-3.1-8b-instant: groq (0.065) and cerebras (context
	 * only): the priced one. */
	m = find_model(&x.cat, "meta/llama-3.1-8b-instant");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL_FATAL(m->n_offerings, 2);
	CU_ASSERT_TRUE(m->price_from >= 0);
	CU_ASSERT_STRING_EQUAL(m->offerings[m->price_from].provider, "groq");
	/* The context comes whole from the price offering: groq has none. */
	int64_t ctx = 0;
	CU_ASSERT_FALSE(record_get_int(m->merged, MF_FIELD_CONTEXT_TOKENS, &ctx));
	fx_free(&x);

	/* The median among several offerings of one model. */
	for (int n = 3; n <= 4; n++) {
		fx_init(&x);
		md = fx_source(&x, "modelsdev", "modelsdev", 50);
		set_price(fx_offer(&x, md, "p-deepinfra", "llama-3.1-8b"), 0.03, 0.05);
		set_price(fx_offer(&x, md, "p-groq", "llama-3.1-8b"), 0.05, 0.08);
		set_price(fx_offer(&x, md, "p-together", "llama-3.1-8b"), 0.18, 0.18);
		if (n == 4)
			set_price(fx_offer(&x, md, "p-fireworks", "llama-3.1-8b"), 0.2, 0.2);
		struct mf_record *ctx_only = fx_offer(&x, md, "p-aaa", "llama-3.1-8b");
		record_set_int(ctx_only, MF_FIELD_CONTEXT_TOKENS, 131072);
		fx_build(&x);
		CU_ASSERT_EQUAL_FATAL(x.cat.n_models, 1);
		m = &x.cat.models[0];
		CU_ASSERT_STRING_EQUAL(m->id, "meta/llama-3.1-8b");
		CU_ASSERT_EQUAL(m->n_offerings, (size_t)n + 1);
		CU_ASSERT_TRUE_FATAL(m->price_from >= 0);
		/* 0.04 0.065 0.18 (0.2): the lower median is groq either way. */
		CU_ASSERT_STRING_EQUAL(m->offerings[m->price_from].provider, "p-groq");
		CU_ASSERT_DOUBLE_EQUAL(price_of(m->merged, "output"), 0.08, 1e-12);
		fx_free(&x);
	}

	/* Nothing priced: the first offering with a context; nothing at all:
	 * none. */
	fx_init(&x);
	md = fx_source(&x, "modelsdev", "modelsdev", 50);
	fx_offer(&x, md, "p-a", "llama-x");
	record_set_int(fx_offer(&x, md, "p-b", "llama-x"), MF_FIELD_CONTEXT_TOKENS, 4096);
	record_set_int(fx_offer(&x, md, "p-c", "llama-x"), MF_FIELD_CONTEXT_TOKENS, 8192);
	fx_offer(&x, md, "p-a", "llama-y");
	fx_build(&x);
	m = find_model(&x.cat, "meta/llama-x");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(m->price_from, 1);
	CU_ASSERT_TRUE(record_get_int(m->merged, MF_FIELD_CONTEXT_TOKENS, &ctx));
	CU_ASSERT_EQUAL(ctx, 4096);
	m = find_model(&x.cat, "meta/llama-y");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(m->n_offerings, 1);
	CU_ASSERT_EQUAL(m->price_from, -1);
	fx_free(&x);
}

static void test_exclude_models(void)
{
	struct fx x;
	fx_init(&x);
	size_t md = fx_source(&x, "modelsdev", "modelsdev", 50);
	char *patterns[] = {"gpt-3.5-turbo-instruct*", "babbage-002"};
	x.prov[0] =
	    (struct provider_config){.name = "openai", .exclude_models = patterns, .n_exclude = 2};
	x.cfg.providers = x.prov;
	x.cfg.n_providers = 1;
	fx_offer(&x, md, "openai", "babbage-002");			 /* exact */
	fx_offer(&x, md, "openai", "gpt-3.5-turbo-instruct-0914");	 /* glob */
	fx_offer(&x, md, "openai", "gpt-3.5-turbo-instruct");		 /* glob, empty star */
	fx_offer(&x, md, "openrouter", "openai/gpt-3.5-turbo-instruct"); /* other provider */
	fx_offer(&x, md, "openai", "babbage-0020");			 /* not exact */
	fx_offer(&x, md, "openai", "gpt-4o");				 /* kept */
	fx_build(&x);
	CU_ASSERT_PTR_NULL(find_model(&x.cat, "openai/babbage-002"));
	CU_ASSERT_PTR_NULL(find_model(&x.cat, "openai/gpt-3.5-turbo-instruct-0914"));
	const struct catalog_model *m = find_model(&x.cat, "openai/gpt-3.5-turbo-instruct");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL_FATAL(m->n_offerings, 1);
	CU_ASSERT_STRING_EQUAL(m->offerings[0].provider, "openrouter");
	CU_ASSERT_PTR_NOT_NULL(find_model(&x.cat, "openai/babbage-0020"));
	CU_ASSERT_PTR_NOT_NULL(find_model(&x.cat, "openai/gpt-4o"));
	fx_free(&x);

	/* Globs, and provider names compared ignoring case. */
	fx_init(&x);
	md = fx_source(&x, "modelsdev", "modelsdev", 50);
	size_t ar = fx_source(&x, "arena", "arena", 10);
	char *dav[] = {"davinci-*"};
	x.prov[0] =
	    (struct provider_config){.name = "OpenAI", .exclude_models = dav, .n_exclude = 1};
	x.cfg.providers = x.prov;
	x.cfg.n_providers = 1;
	fx_offer(&x, md, "openai", "davinci-002");
	fx_model(&x, ar, "davinci-002");
	fx_offer(&x, md, "openai", "davinci-003");
	fx_build(&x);
	CU_ASSERT_PTR_NULL(find_model(&x.cat, "openai/davinci-003"));
	/* The excluded offering is gone; the arena record of the same model
	 * still makes one, without offerings. */
	m = find_model(&x.cat, "openai/davinci-002");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(m->n_offerings, 0);
	CU_ASSERT_EQUAL(x.cat.n_models, 1);
	fx_free(&x);

	/* A model with a model record and an excluded offering stays. */
	fx_init(&x);
	md = fx_source(&x, "modelsdev", "modelsdev", 50);
	ar = fx_source(&x, "arena", "arena", 10);
	char *gpt[] = {"gpt-4o-mini"};
	x.prov[0] =
	    (struct provider_config){.name = "openai", .exclude_models = gpt, .n_exclude = 1};
	x.cfg.providers = x.prov;
	x.cfg.n_providers = 1;
	fx_offer(&x, md, "openai", "gpt-4o-mini");
	fx_model(&x, ar, "gpt-4o-mini");
	fx_build(&x);
	m = find_model(&x.cat, "openai/gpt-4o-mini");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(m->n_offerings, 0);
	CU_ASSERT_EQUAL(m->price_from, -1);
	CU_ASSERT_EQUAL_FATAL(m->n_source_ids, 1);
	CU_ASSERT_STRING_EQUAL(m->source_ids[0].instance, "arena");
	fx_free(&x);
}

static void test_source_ids_and_flags(void)
{
	struct fx x;
	fx_init(&x);
	size_t md = fx_source(&x, "modelsdev", "modelsdev", 50);
	size_t ar = fx_source(&x, "arena", "arena", 10);
	size_t oa = fx_source(&x, "openai", "anyllm", 60);
	size_t az = fx_source(&x, "azure-keys", "anyllm", 60);
	struct mf_record *r = fx_offer(&x, md, "openai", "gpt-4o");
	record_set_string(r, MF_FIELD_SOURCE_KEY, "openai/gpt-4o");
	r = fx_offer(&x, md, "azure", "gpt-4o");
	record_set_string(r, MF_FIELD_SOURCE_KEY, "azure/gpt-4o");
	fx_model(&x, ar, "gpt-4o");
	fx_model(&x, ar, "gpt-4o"); /* listed twice: kept once */
	fx_offer(&x, oa, "openai", "gpt-4o");
	r = fx_offer(&x, az, "azure", "gpt-4o");
	record_set_bool(r, MF_FIELD_CALLABLE, false);
	fx_build(&x);
	CU_ASSERT_EQUAL_FATAL(x.cat.n_models, 1);
	const struct catalog_model *m = &x.cat.models[0];
	CU_ASSERT_EQUAL_FATAL(m->n_source_ids, 4);
	CU_ASSERT_STRING_EQUAL(m->source_ids[0].instance, "arena");
	CU_ASSERT_TRUE(list_is(&m->source_ids[0].ids, (const char *const[]){"gpt-4o", NULL}));
	CU_ASSERT_STRING_EQUAL(m->source_ids[1].instance, "azure-keys");
	CU_ASSERT_STRING_EQUAL(m->source_ids[2].instance, "modelsdev");
	CU_ASSERT_TRUE(list_is(&m->source_ids[2].ids,
			       (const char *const[]){"azure/gpt-4o", "openai/gpt-4o", NULL}));
	CU_ASSERT_STRING_EQUAL(m->source_ids[3].instance, "openai");
	/* CALLABLE false takes the azure instance out. */
	CU_ASSERT_TRUE(list_is(&m->callable_via, (const char *const[]){"openai", NULL}));
	CU_ASSERT_FALSE(m->staging);
	CU_ASSERT_DOUBLE_EQUAL(m->popularity_score, 0, 0);
	fx_free(&x);
}

static void test_sorted_and_order_independent(void)
{
	/* The same sources in two config orders give the same models. */
	struct fx x[2];
	for (int k = 0; k < 2; k++) {
		fx_init(&x[k]);
		size_t s1 = fx_source(&x[k], k ? "zeta" : "eta", "modelsdev", 50);
		size_t s2 = fx_source(&x[k], k ? "eta" : "zeta", "modelsdev", 50);
		size_t first = k ? s2 : s1; /* always "eta" */
		size_t second = k ? s1 : s2;
		fx_offer(&x[k], first, "mistral", "mistral-large-2411");
		fx_offer(&x[k], first, "xai", "grok-4");
		fx_offer(&x[k], second, "groq", "llama-3.1-8b-instant");
		struct mf_record *a = fx_offer(&x[k], first, "openai", "gpt-4o");
		struct mf_record *b = fx_offer(&x[k], second, "openai", "gpt-4o");
		record_set_string(a, MF_FIELD_FAMILY, "eta-family");
		record_set_string(b, MF_FIELD_FAMILY, "zeta-family");
		add_list(a, MF_FIELD_TAGS, (const char *const[]){"e", NULL});
		add_list(b, MF_FIELD_TAGS, (const char *const[]){"z", NULL});
		fx_offer(&x[k], second, "azure", "gpt-4o");
		fx_build(&x[k]);
	}
	const char *want[] = {"meta/llama-3.1-8b-instant", "mistral/mistral-large-2411",
			      "openai/gpt-4o", "xai/grok-4"};
	for (int k = 0; k < 2; k++) {
		CU_ASSERT_EQUAL_FATAL(x[k].cat.n_models, 4);
		for (size_t i = 0; i < 4; i++)
			CU_ASSERT_STRING_EQUAL(x[k].cat.models[i].id, want[i]);
		const struct catalog_model *m = find_model(&x[k].cat, "openai/gpt-4o");
		CU_ASSERT_STRING_EQUAL(record_get_string(m->merged, MF_FIELD_FAMILY), "eta-family");
		CU_ASSERT_TRUE(list_is(record_get_list(m->merged, MF_FIELD_TAGS),
				       (const char *const[]){"z", "e", NULL}));
		CU_ASSERT_EQUAL_FATAL(m->n_offerings, 2);
		CU_ASSERT_STRING_EQUAL(m->offerings[0].provider, "azure");
		CU_ASSERT_STRING_EQUAL(m->offerings[1].provider, "openai");
	}
	fx_free(&x[0]);
	fx_free(&x[1]);
}

static int64_t int_of_field(const struct mf_record *r, enum mf_field f)
{
	int64_t v = -1;
	record_get_int(r, f, &v);
	return v;
}

/* The model whose only record is rec; NULL when none. */
static const struct catalog_model *model_from(const struct catalog *cat,
					      const struct mf_record *rec)
{
	for (size_t i = 0; i < cat->n_models; i++) {
		const struct catalog_model *m = &cat->models[i];
		if (m->n_source_ids == 1 && m->source_ids[0].ids.count == 1 &&
		    strcmp(m->source_ids[0].ids.items[0], rec->native_id) == 0)
			return m;
	}
	return NULL;
}

/* Merging one record would only copy it: the catalog lends the source's
 * record instead, shares equal provenance vectors, and copies on change. */
static void test_borrowed_records(void)
{
	struct fx x;
	fx_init(&x);
	size_t md = fx_source(&x, "md", "modelsdev", 50);
	size_t hf = fx_source(&x, "hf", "huggingface", 30);
	struct mf_record *ro = fx_offer(&x, md, "openai", "gpt-4o");
	set_price(ro, 2.5, 10);
	record_set_int(ro, MF_FIELD_CONTEXT_TOKENS, 128000);
	record_set_string(ro, MF_FIELD_NAME, "GPT-4o");
	/* No provider of its own: the merged offering gets the instance's. */
	struct mf_record *rn = fx_offer(&x, md, NULL, "nameless-9");
	record_set_int(rn, MF_FIELD_CONTEXT_TOKENS, 4096);
	struct mf_record *r1 = fx_model(&x, hf, "meta-llama/Llama-3.1-8B");
	record_set_string(r1, MF_FIELD_LICENSE, "llama3.1");
	record_set_int(r1, MF_FIELD_DOWNLOADS, 5);
	struct mf_record *r2 = fx_model(&x, hf, "mistralai/Mistral-7B-v0.1");
	record_set_string(r2, MF_FIELD_LICENSE, "apache-2.0");
	record_set_int(r2, MF_FIELD_DOWNLOADS, 7);
	fx_build(&x);

	struct catalog_model *m = (struct catalog_model *)find_model(&x.cat, "openai/gpt-4o");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL_FATAL(m->n_offerings, 1);
	struct catalog_offering *o = &m->offerings[0];
	CU_ASSERT_TRUE(o->merged_borrowed);
	CU_ASSERT_PTR_EQUAL(o->merged, ro);
	CU_ASSERT_STRING_EQUAL(o->provenance[MF_FIELD_PRICE], "md");
	CU_ASSERT_EQUAL(o->n_sources, 1);
	CU_ASSERT_STRING_EQUAL(o->sources[0], "md");
	/* The model is built: model-level fields and the offering's price. */
	CU_ASSERT_FALSE(m->merged_borrowed);
	CU_ASSERT_EQUAL(price_of(m->merged, "input"), 2.5);
	CU_ASSERT_FALSE(record_has(m->merged, MF_FIELD_PROVIDER));
	CU_ASSERT_STRING_EQUAL(record_get_string(m->merged, MF_FIELD_NAME), "GPT-4o");

	const struct catalog_model *mn = model_from(&x.cat, rn);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mn);
	CU_ASSERT_FALSE(mn->offerings[0].merged_borrowed);
	CU_ASSERT_STRING_EQUAL(record_get_string(mn->offerings[0].merged, MF_FIELD_PROVIDER), "md");

	struct catalog_model *m1 = (struct catalog_model *)model_from(&x.cat, r1);
	const struct catalog_model *m2 = model_from(&x.cat, r2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m2);
	CU_ASSERT_TRUE(m1->merged_borrowed);
	CU_ASSERT_PTR_EQUAL(m1->merged, r1);
	CU_ASSERT_STRING_EQUAL(m1->provenance[MF_FIELD_LICENSE], "hf");
	CU_ASSERT_PTR_NULL(m1->provenance[MF_FIELD_NAME]);
	/* Same sources for the same fields: one vector. */
	CU_ASSERT_PTR_EQUAL(m1->provenance, m2->provenance);

	/* Changes touch only the one model, never the sources' records. */
	catalog_set_provenance(&x.cat, &m1->provenance, MF_FIELD_LICENSE, "md");
	CU_ASSERT_STRING_EQUAL(m1->provenance[MF_FIELD_LICENSE], "md");
	CU_ASSERT_STRING_EQUAL(m2->provenance[MF_FIELD_LICENSE], "hf");
	struct mf_record *w = catalog_model_writable(m1);
	CU_ASSERT_FALSE(m1->merged_borrowed);
	CU_ASSERT_PTR_NOT_EQUAL(w, r1);
	CU_ASSERT_PTR_EQUAL(catalog_model_writable(m1), w);
	CU_ASSERT_STRING_EQUAL(w->native_id, m1->id);
	record_set_string(w, MF_FIELD_LICENSE, "other");
	CU_ASSERT_STRING_EQUAL(record_get_string(r1, MF_FIELD_LICENSE), "llama3.1");
	int64_t downloads = 0;
	CU_ASSERT_TRUE(record_get_int(w, MF_FIELD_DOWNLOADS, &downloads));
	CU_ASSERT_EQUAL(downloads, 5);
	struct mf_record *wo = catalog_offering_writable(o);
	CU_ASSERT_FALSE(o->merged_borrowed);
	record_unset(wo, MF_FIELD_CONTEXT_TOKENS);
	CU_ASSERT_TRUE(record_has(ro, MF_FIELD_CONTEXT_TOKENS));
	CU_ASSERT_EQUAL(price_of(wo, "output"), 10);
	fx_free(&x);

	/* One source listing an offering twice: merged (not lent), one
	 * source name. */
	fx_init(&x);
	md = fx_source(&x, "md", "modelsdev", 50);
	record_set_int(fx_offer(&x, md, "openai", "gpt-4o"), MF_FIELD_CONTEXT_TOKENS, 1);
	record_set_string(fx_offer(&x, md, "openai", "gpt-4o"), MF_FIELD_NAME, "GPT-4o");
	fx_build(&x);
	CU_ASSERT_EQUAL_FATAL(x.cat.n_models, 1);
	CU_ASSERT_EQUAL_FATAL(x.cat.models[0].n_offerings, 1);
	o = &x.cat.models[0].offerings[0];
	CU_ASSERT_FALSE(o->merged_borrowed);
	CU_ASSERT_EQUAL(o->n_sources, 1);
	CU_ASSERT_STRING_EQUAL(o->sources[0], "md");
	CU_ASSERT_EQUAL(int_of_field(o->merged, MF_FIELD_CONTEXT_TOKENS), 1);
	CU_ASSERT_STRING_EQUAL(record_get_string(o->merged, MF_FIELD_NAME), "GPT-4o");
	fx_free(&x);
}

/* The mapping's records of one model share its id string. */
static void test_mapping_shares_ids(void)
{
	struct fx x;
	fx_init(&x);
	size_t a = fx_source(&x, "a", "modelsdev", 50);
	size_t b = fx_source(&x, "b", "openrouter", 40);
	fx_offer(&x, a, "openai", "gpt-4o");
	fx_offer(&x, b, "openrouter", "openai/gpt-4o");
	fx_offer(&x, a, "azure", "gpt-4o");
	fx_build(&x);
	CU_ASSERT_EQUAL_FATAL(x.map.count, 3);
	for (size_t i = 0; i < x.map.count; i++) {
		CU_ASSERT_STRING_EQUAL(x.map.items[i].model_id, "openai/gpt-4o");
		CU_ASSERT_PTR_EQUAL(x.map.items[i].model_id, x.map.items[0].model_id);
		CU_ASSERT_PTR_EQUAL(x.map.items[i].maker, x.map.items[0].maker);
	}
	CU_ASSERT_EQUAL(x.cat.n_models, 1);
	CU_ASSERT_EQUAL(x.cat.models[0].n_offerings, 3);
	fx_free(&x);
}

static void test_offering_level_fields(void)
{
	CU_ASSERT_TRUE(merge_field_is_offering_level(MF_FIELD_PRICE));
	CU_ASSERT_TRUE(merge_field_is_offering_level(MF_FIELD_CONTEXT_TOKENS));
	CU_ASSERT_TRUE(merge_field_is_offering_level(MF_FIELD_MAX_OUTPUT_TOKENS));
	CU_ASSERT_TRUE(merge_field_is_offering_level(MF_FIELD_PROVIDER));
	CU_ASSERT_TRUE(merge_field_is_offering_level(MF_FIELD_SOURCE_KEY));
	CU_ASSERT_FALSE(merge_field_is_offering_level(MF_FIELD_NAME));
	CU_ASSERT_FALSE(merge_field_is_offering_level(MF_FIELD_RELEASE_DATE));
	CU_ASSERT_FALSE(merge_field_is_offering_level(MF_FIELD_INPUT_MODALITIES));

	/* A model record's price is no offering's: it never reaches the
	 * model. */
	struct fx x;
	fx_init(&x);
	size_t aa = fx_source(&x, "aa", "artificialanalysis", 10);
	set_price(fx_model(&x, aa, "gpt-4o"), 1, 2);
	fx_build(&x);
	CU_ASSERT_EQUAL_FATAL(x.cat.n_models, 1);
	CU_ASSERT_PTR_NULL(record_get_map(x.cat.models[0].merged, MF_FIELD_PRICE));
	CU_ASSERT_EQUAL(x.cat.models[0].n_offerings, 0);
	fx_free(&x);
}

/* ------------------------------------------------------------ writers */

/* Every entry of a folder, temporary and hidden files included. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	for (struct dirent *de; (de = readdir(d));)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* A small but complete run for the writers. Variant 1 is the next run:
 * a price moved, the arena model is gone, a model is new. */
static void fx_writer_run_v(struct fx *x, int variant)
{
	fx_init(x);
	size_t md = fx_source(x, "modelsdev", "modelsdev", 50);
	size_t or = fx_source(x, "openrouter", "openrouter", 40);
	size_t hf = fx_source(x, "huggingface", "huggingface", 30);
	size_t ar = fx_source(x, "arena", "arena", 10);
	size_t off = fx_source(x, "mistral", "anyllm", 60);
	x->res[md].fetched_at = "2025-01-02T03:04:05Z";
	x->res[or].status = SOURCE_STALE;
	x->res[or].message = "GET https://openrouter.ai/api/v1/models: HTTP 503";
	x->res[off].status = SOURCE_DISABLED;

	struct mf_record *r = fx_offer(x, md, "openai", "gpt-4o-mini");
	record_set_string(r, MF_FIELD_SOURCE_KEY, "openai/gpt-4o-mini");
	record_set_string(r, MF_FIELD_NAME, "GPT-4o mini");
	record_map_set(r, MF_FIELD_PRICE, "input", variant == 1 ? 0.2 : 0.15);
	record_map_set(r, MF_FIELD_PRICE, "output", 0.6);
	record_map_set(r, MF_FIELD_PRICE, "cache_read", 0.075);
	record_set_int(r, MF_FIELD_CONTEXT_TOKENS, 128000);
	record_set_int(r, MF_FIELD_MAX_OUTPUT_TOKENS, 16384);
	record_set_string(r, MF_FIELD_RELEASE_DATE, "2024-07-18");
	record_set_string(r, MF_FIELD_KNOWLEDGE, "2023-10");
	record_set_bool(r, MF_FIELD_TOOL_CALL, true);
	add_list(r, MF_FIELD_INPUT_MODALITIES, (const char *const[]){"text", "image", NULL});
	add_list(r, MF_FIELD_OUTPUT_MODALITIES, (const char *const[]){"text", NULL});

	r = fx_offer(x, or, "openrouter", "openai/gpt-4o-mini");
	double p = 0;
	CU_ASSERT_TRUE(decimal_shift("0.00000015", 6, &p));
	record_map_set(r, MF_FIELD_PRICE, "input", p);
	record_map_set(r, MF_FIELD_PRICE, "output", 0.6);
	record_set_int(r, MF_FIELD_CONTEXT_TOKENS, 128000);

	if (variant == 0) {
		r = fx_model(x, ar, "gpt-4o-mini-2024-07-18");
		record_map_set(r, MF_FIELD_SCORES, "arena.full", 1272.1);
		record_map_set(r, MF_FIELD_SCORES, "arena.full.q025", 1268.3);
		record_map_set(r, MF_FIELD_SCORES, "arena.full.q975", 1276.9);
	} else {
		r = fx_offer(x, or, "openrouter", "google/gemini-2.5-flash");
		record_set_string(r, MF_FIELD_NAME, "Gemini 2.5 Flash");
	}

	r = fx_model(x, hf, "mistralai/Mistral-7B-Instruct-v0.3");
	record_set_string(r, MF_FIELD_LICENSE, "apache-2.0");
	add_list(r, MF_FIELD_TAGS, (const char *const[]){"transformers", "conversational", NULL});
	record_set_int(r, MF_FIELD_DOWNLOADS, 1000000);

	r = fx_offer(x, or, "openrouter", "mistralai/mistral-7b-instruct-v0.3");
	record_set_string(r, MF_FIELD_HF_ID, "mistralai/Mistral-7B-Instruct-v0.3");

	fx_offer(x, or, "openrouter", "qwen/qwen-2.5-72b-instruct");
	/* No hf_id crosswalk: the Hugging Face repo id stands in. */
	fx_model(x, hf, "Qwen/Qwen-2.5-72B-Instruct");
	fx_build(x);
}

static void fx_writer_run(struct fx *x)
{
	fx_writer_run_v(x, 0);
}

struct outputs {
	char *dir;
	char *catalog;
	char *staging;
	char *mapping;
	json_t *cj;
};

static void write_outputs(struct fx *x, const char *dir, struct outputs *o)
{
	memset(o, 0, sizeof *o);
	x->cfg.output_dir = (char *)dir;
	struct writer_input in = {
	    .cfg = &x->cfg,
	    .results = x->res,
	    .catalog = &x->cat,
	    .mapping = &x->map,
	    .generated_at = "2025-06-01T00:00:00Z",
	};
	char err[512] = "";
	int rc = writer_write_all(&in, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "\nwriter_write_all: %s\n", err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	char *p = xasprintf("%s/catalog.json", dir);
	o->catalog = tu_read_file(p);
	free(p);
	p = xasprintf("%s/staging_candidates.json", dir);
	o->staging = tu_read_file(p);
	free(p);
	p = xasprintf("%s/mapping.json", dir);
	o->mapping = tu_read_file(p);
	free(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o->catalog);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o->staging);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o->mapping);
	json_error_t jerr;
	o->cj = json_loads(o->catalog, 0, &jerr);
	if (!o->cj)
		fprintf(stderr, "\ncatalog.json line %d: %s\n", jerr.line, jerr.text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o->cj);
}

static void outputs_free(struct outputs *o)
{
	free(o->catalog);
	free(o->staging);
	free(o->mapping);
	json_decref(o->cj);
}

static json_t *model_json(json_t *catalog, const char *id)
{
	json_t *models = json_object_get(catalog, "models");
	for (size_t i = 0; i < json_array_size(models); i++) {
		json_t *m = json_array_get(models, i);
		if (strcmp(json_string_value(json_object_get(m, "id")), id) == 0)
			return m;
	}
	return NULL;
}

static const char *jget_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool jis_null(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return v && json_is_null(v);
}

static void test_write_catalog(void)
{
	struct fx x;
	fx_writer_run(&x);
	char *dir = tu_tmpdir();
	char *out = xasprintf("%s/out/lib", dir); /* created by the writer */
	struct outputs o;
	write_outputs(&x, out, &o);
	json_t *c = o.cj;

	CU_ASSERT_EQUAL(json_integer_value(json_object_get(c, "schema_version")), 1);
	CU_ASSERT_STRING_EQUAL(jget_str(c, "generated_at"), "2025-06-01T00:00:00Z");
	json_t *sources = json_object_get(c, "sources");
	CU_ASSERT_EQUAL_FATAL(json_array_size(sources), 5);
	json_t *s0 = json_array_get(sources, 0);
	CU_ASSERT_STRING_EQUAL(jget_str(s0, "name"), "modelsdev");
	CU_ASSERT_STRING_EQUAL(jget_str(s0, "plugin"), "modelsdev");
	CU_ASSERT_STRING_EQUAL(jget_str(s0, "status"), "fresh");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(s0, "records")), 1);
	CU_ASSERT_STRING_EQUAL(jget_str(s0, "fetched_at"), "2025-01-02T03:04:05Z");
	CU_ASSERT_TRUE(jis_null(s0, "message"));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(s0, "precedence")), 50);
	json_t *s1 = json_array_get(sources, 1);
	CU_ASSERT_STRING_EQUAL(jget_str(s1, "status"), "stale");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(s1, "records")), 3);
	CU_ASSERT_TRUE(jis_null(s1, "fetched_at"));
	CU_ASSERT_STRING_EQUAL(jget_str(s1, "message"),
			       "GET https://openrouter.ai/api/v1/models: HTTP 503");
	CU_ASSERT_STRING_EQUAL(jget_str(json_array_get(sources, 4), "status"), "disabled");

	/* Models sorted by id. */
	json_t *models = json_object_get(c, "models");
	const char *ids[] = {"mistral/mistral-7b-instruct-v0.3", "openai/gpt-4o-mini",
			     "openai/gpt-4o-mini-2024-07-18", "qwen/qwen-2.5-72b-instruct"};
	CU_ASSERT_EQUAL_FATAL(json_array_size(models), 4);
	for (size_t i = 0; i < 4; i++)
		CU_ASSERT_STRING_EQUAL(jget_str(json_array_get(models, i), "id"), ids[i]);

	/* Every contract key in every model, null when unknown. */
	static const char *const keys[] = {"id",
					   "provider",
					   "name",
					   "aliases",
					   "tags",
					   "modalities",
					   "context_tokens",
					   "max_output_tokens",
					   "price",
					   "price_from",
					   "release_date",
					   "license",
					   "open_weights",
					   "reasoning",
					   "tool_call",
					   "arena",
					   "popularity_score",
					   "tiers",
					   "category_scores",
					   "quality",
					   "callable_via",
					   "offerings",
					   "source_ids",
					   "provenance"};
	for (size_t i = 0; i < json_array_size(models); i++)
		for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
			if (!json_object_get(json_array_get(models, i), keys[k])) {
				fprintf(stderr, "\nmodel %zu lacks %s\n", i, keys[k]);
				CU_FAIL("contract key missing");
			}

	json_t *m = model_json(c, "openai/gpt-4o-mini");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_STRING_EQUAL(jget_str(m, "provider"), "openai");
	CU_ASSERT_STRING_EQUAL(jget_str(m, "name"), "GPT-4o mini");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(m, "context_tokens")), 128000);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(m, "max_output_tokens")), 16384);
	json_t *price = json_object_get(m, "price");
	CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(price, "input_per_million")), 0.15,
			       1e-12);
	CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(price, "output_per_million")), 0.6,
			       1e-12);
	CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(price, "cache_read_per_million")),
			       0.075, 1e-12);
	json_t *from = json_object_get(m, "price_from");
	CU_ASSERT_STRING_EQUAL(jget_str(from, "provider"), "openai");
	CU_ASSERT_STRING_EQUAL(jget_str(from, "id"), "gpt-4o-mini");
	CU_ASSERT_STRING_EQUAL(jget_str(m, "release_date"), "2024-07-18");
	CU_ASSERT_STRING_EQUAL(jget_str(m, "knowledge"), "2023-10");
	CU_ASSERT_TRUE(jis_null(m, "license"));
	CU_ASSERT_TRUE(jis_null(m, "open_weights"));
	CU_ASSERT_TRUE(jis_null(m, "reasoning"));
	CU_ASSERT_TRUE(json_is_true(json_object_get(m, "tool_call")));
	CU_ASSERT_TRUE(jis_null(m, "arena"));
	json_t *mod = json_object_get(m, "modalities");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(mod, "input")), 2);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(json_object_get(mod, "input"), 1)),
			       "image");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(m, "aliases")), 0);
	CU_ASSERT_TRUE(json_is_object(json_object_get(m, "tiers")));
	CU_ASSERT_TRUE(json_is_number(json_object_get(m, "popularity_score")));

	json_t *offerings = json_object_get(m, "offerings");
	CU_ASSERT_EQUAL_FATAL(json_array_size(offerings), 2);
	json_t *o0 = json_array_get(offerings, 0);
	CU_ASSERT_STRING_EQUAL(jget_str(o0, "source"), "modelsdev");
	CU_ASSERT_STRING_EQUAL(jget_str(o0, "provider"), "openai");
	CU_ASSERT_STRING_EQUAL(jget_str(o0, "id"), "gpt-4o-mini");
	CU_ASSERT_STRING_EQUAL(jget_str(o0, "source_key"), "openai/gpt-4o-mini");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(o0, "context_tokens")), 128000);
	json_t *o1 = json_array_get(offerings, 1);
	CU_ASSERT_STRING_EQUAL(jget_str(o1, "provider"), "openrouter");
	CU_ASSERT_TRUE(jis_null(o1, "max_output_tokens"));
	CU_ASSERT_DOUBLE_EQUAL(
	    json_real_value(json_object_get(json_object_get(o1, "price"), "input_per_million")),
	    0.15, 1e-12);

	json_t *sids = json_object_get(m, "source_ids");
	CU_ASSERT_EQUAL(json_object_size(sids), 2);
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_array_get(json_object_get(sids, "modelsdev"), 0)),
	    "openai/gpt-4o-mini");
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_array_get(json_object_get(sids, "openrouter"), 0)),
	    "openai/gpt-4o-mini");
	json_t *prov = json_object_get(m, "provenance");
	CU_ASSERT_STRING_EQUAL(jget_str(prov, "name"), "modelsdev");
	CU_ASSERT_STRING_EQUAL(jget_str(prov, "release_date"), "modelsdev");
	CU_ASSERT_PTR_NULL(json_object_get(prov, "price"));

	/* The arena model: ratings in their own object. */
	m = model_json(c, "openai/gpt-4o-mini-2024-07-18");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	json_t *arena = json_object_get(m, "arena");
	CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(arena, "rating")), 1272.1, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(arena, "rating_q025")), 1268.3,
			       1e-9);
	CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(arena, "rating_q975")), 1276.9,
			       1e-9);
	CU_ASSERT_TRUE(jis_null(m, "price"));
	CU_ASSERT_TRUE(jis_null(m, "price_from"));
	CU_ASSERT_TRUE(jis_null(m, "context_tokens"));
	CU_ASSERT_EQUAL(json_array_size(json_object_get(m, "offerings")), 0);

	m = model_json(c, "mistral/mistral-7b-instruct-v0.3");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_STRING_EQUAL(jget_str(m, "license"), "apache-2.0");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(m, "downloads")), 1000000);

	/* Money is written as decimals, never as 0.14999999999999999. */
	CU_ASSERT_PTR_NOT_NULL(strstr(o.catalog, "\"input_per_million\": 0.15,"));
	CU_ASSERT_PTR_NULL(strstr(o.catalog, "0.1499999"));
	CU_ASSERT_PTR_NULL(strstr(o.catalog, "0.15000000"));
	outputs_free(&o);
	tu_rm_rf(dir);
	free(dir);
	free(out);
	fx_free(&x);
}

static void test_write_staging_and_mapping(void)
{
	struct fx x;
	fx_writer_run(&x);
	char *dir = tu_tmpdir();
	struct outputs o;
	write_outputs(&x, dir, &o);

	json_error_t jerr;
	json_t *st = json_loads(o.staging, 0, &jerr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_TRUE_FATAL(json_is_array(st));
	/* Only models known to huggingface or openrouter; equal popularity,
	 * so sorted by model_id. */
	CU_ASSERT_EQUAL_FATAL(json_array_size(st), 3);
	json_t *e0 = json_array_get(st, 0);
	CU_ASSERT_STRING_EQUAL(jget_str(e0, "model_id"), "mistral/mistral-7b-instruct-v0.3");
	CU_ASSERT_STRING_EQUAL(jget_str(e0, "provider"), "mistral");
	CU_ASSERT_STRING_EQUAL(jget_str(e0, "license"), "apache-2.0");
	CU_ASSERT_STRING_EQUAL(jget_str(e0, "source"), "huggingface+openrouter");
	CU_ASSERT_STRING_EQUAL(jget_str(e0, "hf_id"), "mistralai/Mistral-7B-Instruct-v0.3");
	CU_ASSERT_TRUE(json_is_number(json_object_get(e0, "popularity_score")));
	CU_ASSERT_EQUAL(json_array_size(json_object_get(e0, "tags")), 2);
	json_t *e1 = json_array_get(st, 1);
	CU_ASSERT_STRING_EQUAL(jget_str(e1, "model_id"), "openai/gpt-4o-mini");
	CU_ASSERT_STRING_EQUAL(jget_str(e1, "source"), "openrouter");
	CU_ASSERT_TRUE(jis_null(e1, "hf_id"));
	CU_ASSERT_TRUE(jis_null(e1, "license"));
	json_t *e2 = json_array_get(st, 2);
	CU_ASSERT_STRING_EQUAL(jget_str(e2, "model_id"), "qwen/qwen-2.5-72b-instruct");
	CU_ASSERT_STRING_EQUAL(jget_str(e2, "source"), "huggingface+openrouter");
	CU_ASSERT_STRING_EQUAL(jget_str(e2, "hf_id"), "Qwen/Qwen-2.5-72B-Instruct");
	json_decref(st);

	json_t *mp = json_loads(o.mapping, 0, &jerr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	CU_ASSERT_STRING_EQUAL(jget_str(mp, "generated_at"), "2025-06-01T00:00:00Z");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(mp, "records")), x.map.count);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(mp, "unaligned")), 1);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(mp, "dropped")), 0);
	json_t *entries = json_object_get(mp, "entries");
	CU_ASSERT_EQUAL_FATAL(json_array_size(entries), x.map.count);
	json_t *m0 = json_array_get(entries, 0);
	CU_ASSERT_STRING_EQUAL(jget_str(m0, "source"), "modelsdev");
	CU_ASSERT_STRING_EQUAL(jget_str(m0, "id"), "openai/gpt-4o-mini"); /* the source key */
	CU_ASSERT_STRING_EQUAL(jget_str(m0, "model"), "openai/gpt-4o-mini");
	CU_ASSERT_STRING_EQUAL(jget_str(m0, "native_id"), "gpt-4o-mini");
	CU_ASSERT_STRING_EQUAL(jget_str(m0, "provider"), "openai");
	CU_ASSERT_STRING_EQUAL(jget_str(m0, "rule"), "exact");
	CU_ASSERT_STRING_EQUAL(jget_str(m0, "key"), "openai/gpt-4o-mini");
	CU_ASSERT_STRING_EQUAL(jget_str(m0, "maker_rule"), "provider");
	CU_ASSERT_PTR_NULL(json_object_get(m0, "evidence"));
	json_t *m1 = json_array_get(entries, 1);
	CU_ASSERT_STRING_EQUAL(jget_str(m1, "source"), "openrouter");
	CU_ASSERT_STRING_EQUAL(jget_str(m1, "rule"), "exact");
	CU_ASSERT_STRING_EQUAL(jget_str(m1, "maker_rule"), "namespace");
	CU_ASSERT_PTR_NULL(json_object_get(m1, "native_id"));
	/* Crosswalk evidence is explained. */
	for (size_t i = 0; i < json_array_size(entries); i++) {
		json_t *e = json_array_get(entries, i);
		if (strcmp(jget_str(e, "id"), "mistralai/mistral-7b-instruct-v0.3") == 0)
			CU_ASSERT_STRING_EQUAL(jget_str(e, "rule"), "exact");
		if (strcmp(jget_str(e, "id"), "gpt-4o-mini-2024-07-18") == 0)
			CU_ASSERT_STRING_EQUAL(jget_str(e, "rule"), "unaligned");
	}
	json_decref(mp);

	/* Nothing but the four outputs and the digest is left. */
	CU_ASSERT_EQUAL(count_entries(dir), 5);
	outputs_free(&o);
	tu_rm_rf(dir);
	free(dir);
	fx_free(&x);
}

static void test_write_deterministic(void)
{
	struct outputs o[2];
	char *dirs[2];
	for (int k = 0; k < 2; k++) {
		struct fx x;
		fx_writer_run(&x);
		dirs[k] = tu_tmpdir();
		write_outputs(&x, dirs[k], &o[k]);
		fx_free(&x);
	}
	CU_ASSERT_STRING_EQUAL(o[0].catalog, o[1].catalog);
	CU_ASSERT_STRING_EQUAL(o[0].staging, o[1].staging);
	CU_ASSERT_STRING_EQUAL(o[0].mapping, o[1].mapping);
	/* And the fixed key order is the documented one. */
	const char *id = strstr(o[0].catalog, "\"id\": \"mistral/");
	const char *prov = strstr(o[0].catalog, "\"provenance\"");
	CU_ASSERT_TRUE(id && prov && id < prov);
	for (int k = 0; k < 2; k++) {
		outputs_free(&o[k]);
		tu_rm_rf(dirs[k]);
		free(dirs[k]);
	}
}

static void test_write_atomic(void)
{
	struct fx x;
	fx_writer_run(&x);
	char *dir = tu_tmpdir();
	char *old = tu_write_file(dir, "catalog.json", "{\"previous\": true}\n");
	char *staging = tu_write_file(dir, "staging_candidates.json", "[]\n");
	/* mapping.json is a directory: its rename must fail, so nothing may
	 * be replaced. */
	char *blocker = xasprintf("%s/mapping.json", dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(blocker, 0755), 0);
	x.cfg.output_dir = dir;
	struct writer_input in = {
	    .cfg = &x.cfg,
	    .results = x.res,
	    .catalog = &x.cat,
	    .mapping = &x.map,
	    .generated_at = "2025-06-01T00:00:00Z",
	};
	char err[512] = "";
	CU_ASSERT_EQUAL(writer_write_all(&in, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "mapping.json"));
	char *text = tu_read_file(old);
	CU_ASSERT_STRING_EQUAL(text, "{\"previous\": true}\n");
	free(text);
	text = tu_read_file(staging);
	CU_ASSERT_STRING_EQUAL(text, "[]\n");
	free(text);
	CU_ASSERT_EQUAL(count_entries(dir), 3); /* no temporary file left */

	/* Once the obstacle is gone the same call replaces everything. */
	CU_ASSERT_EQUAL_FATAL(rmdir(blocker), 0);
	err[0] = '\0';
	CU_ASSERT_EQUAL(writer_write_all(&in, err, sizeof err), 0);
	text = tu_read_file(old);
	CU_ASSERT_PTR_NULL(strstr(text, "previous"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"schema_version\": 1"));
	free(text);
	CU_ASSERT_EQUAL(count_entries(dir), 5);

	/* An output folder below a regular file cannot be created. */
	char *below = xasprintf("%s/catalog.json/sub", dir);
	x.cfg.output_dir = below;
	err[0] = '\0';
	CU_ASSERT_EQUAL(writer_write_all(&in, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, below));
	CU_ASSERT_EQUAL(count_entries(dir), 5);

	/* A stream that fails is reported, not ignored. */
	FILE *full = fopen("/dev/full", "w");
	if (full) {
		setvbuf(full, NULL, _IONBF, 0);
		CU_ASSERT_EQUAL(writer_catalog(full, &in), -1);
		CU_ASSERT_EQUAL(writer_staging(full, &in), -1);
		CU_ASSERT_EQUAL(writer_mapping(full, &in), -1);
		struct changes ch = {0};
		changes_compute(dir, &x.cat, &ch);
		CU_ASSERT_EQUAL(changes_write_json(full, &ch, "2025-06-01T00:00:00Z"), -1);
		CU_ASSERT_EQUAL(changes_write_digest(full, &x.cat, "2025-06-01T00:00:00Z"), -1);
		changes_free(&ch);
		fclose(full);
	}
	free(below);
	free(blocker);
	free(old);
	free(staging);
	tu_rm_rf(dir);
	free(dir);
	fx_free(&x);
}

static void test_write_empty(void)
{
	struct fx x;
	fx_init(&x);
	fx_build(&x);
	char *dir = tu_tmpdir();
	struct outputs o;
	write_outputs(&x, dir, &o);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(o.cj, "models")), 0);
	CU_ASSERT_STRING_EQUAL(o.staging, "[]\n");
	json_error_t jerr;
	json_t *mp = json_loads(o.mapping, 0, &jerr);
	CU_ASSERT_PTR_NOT_NULL(mp);
	json_decref(mp);
	outputs_free(&o);
	tu_rm_rf(dir);
	free(dir);
	fx_free(&x);
}

/* ------------------------------------------------------------ lists and overlays */

static void test_non_union_lists(void)
{
	struct fx x;
	fx_init(&x);
	size_t hi = fx_source(&x, "hi", "anyllm", 60);
	size_t lo = fx_source(&x, "lo", "modelsdev", 50);
	struct mf_record *rh = fx_offer(&x, hi, "mistral", "mistral-large-2411");
	struct mf_record *rl = fx_offer(&x, lo, "mistral", "mistral-large-2411");
	add_list(rh, MF_FIELD_CAPABILITIES, (const char *const[]){"tools", NULL});
	add_list(rl, MF_FIELD_CAPABILITIES, (const char *const[]){"tools", "vision", NULL});
	add_list(rh, MF_FIELD_SUPPORTED_PARAMETERS, (const char *const[]){"temperature", NULL});
	add_list(rl, MF_FIELD_SUPPORTED_PARAMETERS,
		 (const char *const[]){"temperature", "top_p", NULL});
	add_list(rl, MF_FIELD_ALIASES, (const char *const[]){"mistral-large", NULL});
	add_list(rh, MF_FIELD_ALIASES, (const char *const[]){"mistral-large-latest", NULL});
	/* Only the lower record knows the mode: null never erases. */
	record_set_string(rl, MF_FIELD_MODE, "chat");
	fx_build(&x);
	CU_ASSERT_EQUAL_FATAL(x.cat.n_models, 1);
	const struct catalog_model *m = &x.cat.models[0];
	/* A list that is not a union is replaced whole by the higher one. */
	CU_ASSERT_TRUE(list_is(record_get_list(m->merged, MF_FIELD_CAPABILITIES),
			       (const char *const[]){"tools", NULL}));
	CU_ASSERT_STRING_EQUAL(m->provenance[MF_FIELD_CAPABILITIES], "hi");
	/* ... while a union list joins both, lowest first. */
	CU_ASSERT_TRUE(
	    list_is(record_get_list(m->merged, MF_FIELD_ALIASES),
		    (const char *const[]){"mistral-large", "mistral-large-latest", NULL}));
	CU_ASSERT_STRING_EQUAL(record_get_string(m->merged, MF_FIELD_MODE), "chat");
	CU_ASSERT_STRING_EQUAL(m->provenance[MF_FIELD_MODE], "lo");
	/* supported_parameters belong to an offering, replaced there too. */
	CU_ASSERT_PTR_NULL(record_get_list(m->merged, MF_FIELD_SUPPORTED_PARAMETERS));
	CU_ASSERT_EQUAL_FATAL(m->n_offerings, 1);
	CU_ASSERT_TRUE(
	    list_is(record_get_list(m->offerings[0].merged, MF_FIELD_SUPPORTED_PARAMETERS),
		    (const char *const[]){"temperature", NULL}));
	fx_free(&x);
}

static void test_overlay_remove_replace(void)
{
	struct fx x;
	fx_init(&x);
	size_t loc = fx_source(&x, "local", "local", 100);
	size_t md = fx_source(&x, "modelsdev", "modelsdev", 50);
	size_t or = fx_source(&x, "openrouter", "openrouter", 40);
	struct mf_record *ro = fx_offer(&x, or, "openrouter", "openai/gpt-4o");
	struct mf_record *rm = fx_offer(&x, md, "openai", "gpt-4o");
	struct mf_record *rl = fx_model(&x, loc, "openai/gpt-4o");
	add_list(ro, MF_FIELD_ALIASES, (const char *const[]){"openai-gpt-4o", NULL});
	add_list(rm, MF_FIELD_ALIASES, (const char *const[]){"gpt4o", "gpt-4-omni", NULL});
	add_list(rl, MF_FIELD_ALIASES, (const char *const[]){"omni", NULL});
	add_list(ro, MF_FIELD_INPUT_MODALITIES,
		 (const char *const[]){"text", "image", "file", NULL});
	add_list(rm, MF_FIELD_INPUT_MODALITIES, (const char *const[]){"text", "image", NULL});
	add_list(rl, MF_FIELD_INPUT_MODALITIES, (const char *const[]){"text", NULL});
	add_list(ro, MF_FIELD_OUTPUT_MODALITIES, (const char *const[]){"text", NULL});
	add_list(rm, MF_FIELD_OUTPUT_MODALITIES, (const char *const[]){"text", "audio", NULL});
	add_list(ro, MF_FIELD_TAGS, (const char *const[]){"a", NULL});
	add_list(rm, MF_FIELD_TAGS, (const char *const[]){"b", NULL});
	add_list(rl, MF_FIELD_TAGS, (const char *const[]){"c", NULL});
	/* The overlay: a wrong alias and an output modality taken away, the
	 * input modalities replaced (nested name), and models.dev's tags
	 * replacing what lower sources said. */
	add_list(rl, MF_FIELD_REMOVE,
		 (const char *const[]){"aliases:gpt-4-omni", "modalities.output:audio",
				       "tags:not-there", "nosuchfield:x", "no colon", NULL});
	add_list(rl, MF_FIELD_REPLACE, (const char *const[]){"modalities.input", NULL});
	add_list(rm, MF_FIELD_REPLACE, (const char *const[]){"tags", NULL});
	fx_build(&x);
	CU_ASSERT_EQUAL_FATAL(x.cat.n_models, 1);
	const struct catalog_model *m = &x.cat.models[0];
	const struct mf_record *r = m->merged;
	CU_ASSERT_TRUE(list_is(record_get_list(r, MF_FIELD_ALIASES),
			       (const char *const[]){"openai-gpt-4o", "gpt4o", "omni", NULL}));
	CU_ASSERT_TRUE(list_is(record_get_list(r, MF_FIELD_INPUT_MODALITIES),
			       (const char *const[]){"text", NULL}));
	CU_ASSERT_STRING_EQUAL(m->provenance[MF_FIELD_INPUT_MODALITIES], "local");
	CU_ASSERT_TRUE(list_is(record_get_list(r, MF_FIELD_OUTPUT_MODALITIES),
			       (const char *const[]){"text", NULL}));
	CU_ASSERT_TRUE(
	    list_is(record_get_list(r, MF_FIELD_TAGS), (const char *const[]){"b", "c", NULL}));
	/* The controls steer the merge and are no data. */
	CU_ASSERT_PTR_NULL(record_get_list(r, MF_FIELD_REMOVE));
	CU_ASSERT_PTR_NULL(record_get_list(r, MF_FIELD_REPLACE));
	CU_ASSERT_PTR_NULL(m->provenance[MF_FIELD_REMOVE]);
	/* Removal holds for the offerings too; replace does not reach them. */
	CU_ASSERT_EQUAL_FATAL(m->n_offerings, 2);
	const struct catalog_offering *oo = &m->offerings[0], *oor = &m->offerings[1];
	CU_ASSERT_STRING_EQUAL(oo->provider, "openai");
	CU_ASSERT_TRUE(list_is(record_get_list(oo->merged, MF_FIELD_ALIASES),
			       (const char *const[]){"gpt4o", NULL}));
	CU_ASSERT_TRUE(list_is(record_get_list(oo->merged, MF_FIELD_OUTPUT_MODALITIES),
			       (const char *const[]){"text", NULL}));
	CU_ASSERT_TRUE(list_is(record_get_list(oor->merged, MF_FIELD_INPUT_MODALITIES),
			       (const char *const[]){"text", "image", "file", NULL}));
	fx_free(&x);

	/* Without the overlay, the same sources union as usual. */
	fx_init(&x);
	md = fx_source(&x, "modelsdev", "modelsdev", 50);
	or = fx_source(&x, "openrouter", "openrouter", 40);
	ro = fx_offer(&x, or, "openrouter", "openai/gpt-4o");
	rm = fx_offer(&x, md, "openai", "gpt-4o");
	add_list(ro, MF_FIELD_INPUT_MODALITIES, (const char *const[]){"text", "file", NULL});
	add_list(rm, MF_FIELD_INPUT_MODALITIES, (const char *const[]){"image", "text", NULL});
	fx_build(&x);
	CU_ASSERT_TRUE(list_is(record_get_list(x.cat.models[0].merged, MF_FIELD_INPUT_MODALITIES),
			       (const char *const[]){"text", "file", "image", NULL}));
	fx_free(&x);
}

static void test_overlay_pinned(void)
{
	struct fx x;
	fx_init(&x);
	/* The curated source is the lowest, and still wins what it pins. */
	size_t cur = fx_source(&x, "curated", "local", 5);
	size_t md = fx_source(&x, "modelsdev", "modelsdev", 50);
	size_t or = fx_source(&x, "openrouter", "openrouter", 40);
	struct mf_record *rc = fx_model(&x, cur, "openai/gpt-4o");
	struct mf_record *rm = fx_offer(&x, md, "openai", "gpt-4o");
	struct mf_record *ro = fx_offer(&x, or, "openrouter", "openai/gpt-4o");
	record_set_string(rc, MF_FIELD_NAME, "GPT-4o (curated)");
	record_set_string(rm, MF_FIELD_NAME, "GPT-4o");
	add_list(rc, MF_FIELD_TAGS, (const char *const[]){"x", NULL});
	add_list(rm, MF_FIELD_TAGS, (const char *const[]){"y", NULL});
	record_map_set(rc, MF_FIELD_SCORES, "arena.full", 1);
	record_map_set(rm, MF_FIELD_SCORES, "arena.full", 2);
	record_map_set(rm, MF_FIELD_SCORES, "mmlu", 3);
	record_set_string(rc, MF_FIELD_RELEASE_DATE, "2000-01-01"); /* not pinned */
	record_set_string(rm, MF_FIELD_RELEASE_DATE, "2024-05-13");
	record_set_string(rc, MF_FIELD_KNOWLEDGE, "2022-01");
	record_set_string(ro, MF_FIELD_KNOWLEDGE, "2023-01");
	record_set_string(rm, MF_FIELD_LICENSE, "proprietary");
	add_list(rc, MF_FIELD_PINNED,
		 (const char *const[]){"name", "tags", "scores", "knowledge", "license", NULL});
	add_list(ro, MF_FIELD_PINNED, (const char *const[]){"knowledge", NULL});
	fx_build(&x);
	CU_ASSERT_EQUAL_FATAL(x.cat.n_models, 1);
	const struct catalog_model *m = &x.cat.models[0];
	const struct mf_record *r = m->merged;
	CU_ASSERT_STRING_EQUAL(record_get_string(r, MF_FIELD_NAME), "GPT-4o (curated)");
	CU_ASSERT_STRING_EQUAL(m->provenance[MF_FIELD_NAME], "curated");
	CU_ASSERT_TRUE(
	    list_is(record_get_list(r, MF_FIELD_TAGS), (const char *const[]){"x", NULL}));
	const struct nummap *sc = record_get_map(r, MF_FIELD_SCORES);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
	CU_ASSERT_EQUAL(sc->count, 1);
	double v = 0;
	CU_ASSERT_TRUE(nummap_get(sc, "arena.full", &v));
	CU_ASSERT_DOUBLE_EQUAL(v, 1, 0);
	CU_ASSERT_STRING_EQUAL(record_get_string(r, MF_FIELD_RELEASE_DATE), "2024-05-13");
	/* Two pins: the higher precedence of the pinning records. */
	CU_ASSERT_STRING_EQUAL(record_get_string(r, MF_FIELD_KNOWLEDGE), "2023-01");
	CU_ASSERT_STRING_EQUAL(m->provenance[MF_FIELD_KNOWLEDGE], "openrouter");
	/* A pin without a value changes nothing. */
	CU_ASSERT_STRING_EQUAL(record_get_string(r, MF_FIELD_LICENSE), "proprietary");
	CU_ASSERT_PTR_NULL(record_get_list(r, MF_FIELD_PINNED));

	CU_ASSERT_EQUAL(merge_field_by_name("modalities.input"), MF_FIELD_INPUT_MODALITIES);
	CU_ASSERT_EQUAL(merge_field_by_name("output_modalities"), MF_FIELD_OUTPUT_MODALITIES);
	CU_ASSERT_EQUAL(merge_field_by_name("capabilities"), MF_FIELD_CAPABILITIES);
	CU_ASSERT_EQUAL(merge_field_by_name("nope"), 0);
	CU_ASSERT_EQUAL(merge_field_by_name(NULL), 0);
	fx_free(&x);
}

static void test_popularity(void)
{
	CU_ASSERT_DOUBLE_EQUAL(merge_rank_score(1), 100, 0);
	CU_ASSERT_DOUBLE_EQUAL(merge_rank_score(2), 100 - MERGE_RANK_STEP, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(merge_rank_score(100000), MERGE_RANK_FLOOR, 0);
	CU_ASSERT_DOUBLE_EQUAL(merge_rank_score(0), 0, 0);
	CU_ASSERT_DOUBLE_EQUAL(merge_rank_score(-3), 0, 0);

	struct fx x;
	fx_init(&x);
	size_t hf = fx_source(&x, "huggingface", "huggingface", 30);
	size_t cm = fx_source(&x, "community", "community", 20);
	static const struct {
		const char *id;
		int64_t downloads;
	} dl[] = {{"acme/m1", 10}, {"acme/m2", 20}, {"acme/m3", 20}, {"acme/m4", 40}};
	for (size_t i = 0; i < 4; i++)
		record_set_int(fx_model(&x, hf, dl[i].id), MF_FIELD_DOWNLOADS, dl[i].downloads);
	record_set_int(fx_model(&x, cm, "acme/m1"), MF_FIELD_RANK, 1);
	record_set_int(fx_model(&x, cm, "acme/m2"), MF_FIELD_RANK, 50);
	record_set_int(fx_model(&x, cm, "acme/c5"), MF_FIELD_RANK, 5);
	record_set_int(fx_model(&x, cm, "acme/c500"), MF_FIELD_RANK, 500);
	fx_model(&x, cm, "acme/none");
	fx_build(&x);
	static const struct {
		const char *id;
		double score;
	} want[] = {
	    {"acme/m1", 100}, /* 25th percentile, but community rank 1 */
	    {"acme/m2", 75},  /* ties share a percentile; rank 50 is 51 */
	    {"acme/m3", 75},  {"acme/m4", 100}, {"acme/c5", 96}, {"acme/c500", 20}, /* the floor */
	    {"acme/none", 0},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const struct catalog_model *m = find_model(&x.cat, want[i].id);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		if (m->popularity_score != want[i].score) {
			fprintf(stderr, "\n%s: popularity %g, want %g\n", want[i].id,
				m->popularity_score, want[i].score);
			CU_FAIL("popularity");
		}
		CU_ASSERT_TRUE(m->staging);
	}
	/* Staging is sorted by popularity, then id. */
	char *dir = tu_tmpdir();
	x.cfg.output_dir = dir;
	struct writer_input in = {.cfg = &x.cfg,
				  .results = x.res,
				  .catalog = &x.cat,
				  .mapping = &x.map,
				  .generated_at = "2025-06-01T00:00:00Z"};
	char err[256] = "";
	CU_ASSERT_EQUAL_FATAL(writer_write_all(&in, err, sizeof err), 0);
	char *path = xasprintf("%s/staging_candidates.json", dir);
	json_error_t jerr;
	json_t *st = json_load_file(path, 0, &jerr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	const char *order[] = {"acme/m1", "acme/m4",   "acme/c5",  "acme/m2",
			       "acme/m3", "acme/c500", "acme/none"};
	CU_ASSERT_EQUAL_FATAL(json_array_size(st), 7);
	for (size_t i = 0; i < 7; i++)
		CU_ASSERT_STRING_EQUAL(
		    json_string_value(json_object_get(json_array_get(st, i), "model_id")),
		    order[i]);
	CU_ASSERT_DOUBLE_EQUAL(
	    json_number_value(json_object_get(json_array_get(st, 2), "popularity_score")), 96, 0);
	json_decref(st);
	free(path);
	tu_rm_rf(dir);
	free(dir);
	fx_free(&x);
}

/* ------------------------------------------------------------ changes */

static char *read_out(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);
	char *text = tu_read_file(p);
	free(p);
	return text;
}

static void run_into(const char *dir, int variant, const char *at)
{
	struct fx x;
	fx_writer_run_v(&x, variant);
	x.cfg.output_dir = (char *)dir;
	struct writer_input in = {.cfg = &x.cfg,
				  .results = x.res,
				  .catalog = &x.cat,
				  .mapping = &x.map,
				  .generated_at = at};
	char err[256] = "";
	CU_ASSERT_EQUAL(writer_write_all(&in, err, sizeof err), 0);
	fx_free(&x);
}

static void test_changes(void)
{
	char *dir = tu_tmpdir();
	/* First run: everything is new. */
	run_into(dir, 0, "2025-06-01T00:00:00Z");
	char *text = read_out(dir, "changes.json");
	json_error_t jerr;
	json_t *c = json_loads(text, 0, &jerr);
	free(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_TRUE(json_is_null(json_object_get(c, "previous_generated_at")));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(c, "counts"), "added")),
			4);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(c, "added")), 4);
	json_decref(c);
	char *digest = read_out(dir, CHANGES_DIGEST_NAME);
	CU_ASSERT_PTR_NOT_NULL_FATAL(digest);
	CU_ASSERT_TRUE(str_starts_with(digest, "{\"modelfuse_digest\":1,"));
	free(digest);

	/* The same run again: nothing changed. */
	run_into(dir, 0, "2025-06-02T00:00:00Z");
	text = read_out(dir, "changes.json");
	c = json_loads(text, 0, &jerr);
	free(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c, "previous_generated_at")),
			       "2025-06-01T00:00:00Z");
	json_t *counts = json_object_get(c, "counts");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(counts, "unchanged")), 4);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(counts, "changed")), 0);
	json_decref(c);

	/* The next run: a price moved, a model left, one arrived. */
	struct fx x;
	fx_writer_run_v(&x, 1);
	struct changes ch;
	CU_ASSERT_EQUAL(changes_compute(dir, &x.cat, &ch), 0);
	CU_ASSERT_TRUE(ch.has_previous);
	CU_ASSERT_STRING_EQUAL(ch.previous_generated_at, "2025-06-02T00:00:00Z");
	CU_ASSERT_EQUAL_FATAL(ch.n_added, 1);
	CU_ASSERT_STRING_EQUAL(ch.added[0].id, "google/gemini-2.5-flash");
	CU_ASSERT_STRING_EQUAL(ch.added[0].name, "Gemini 2.5 Flash");
	CU_ASSERT_EQUAL_FATAL(ch.n_removed, 1);
	CU_ASSERT_STRING_EQUAL(ch.removed[0].id, "openai/gpt-4o-mini-2024-07-18");
	CU_ASSERT_EQUAL_FATAL(ch.n_changed, 1);
	CU_ASSERT_STRING_EQUAL(ch.changed[0].id, "openai/gpt-4o-mini");
	CU_ASSERT_EQUAL_FATAL(ch.changed[0].n_fields, 1);
	CU_ASSERT_STRING_EQUAL(ch.changed[0].fields[0].path, "price.input_per_million");
	CU_ASSERT_STRING_EQUAL(ch.changed[0].fields[0].before, "0.15");
	CU_ASSERT_STRING_EQUAL(ch.changed[0].fields[0].after, "0.2");
	CU_ASSERT_EQUAL(ch.unchanged, 2);
	char *sum = NULL;
	size_t sumlen = 0;
	FILE *f = open_memstream(&sum, &sumlen);
	changes_summary(&ch, f, 10);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(sum,
				      "changes since 2025-06-02T00:00:00Z: 1 added, 1 removed, "
				      "1 changed, 2 unchanged"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sum, "  + google/gemini-2.5-flash\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sum, "  - openai/gpt-4o-mini-2024-07-18\n"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(sum, "  ~ openai/gpt-4o-mini: price.input_per_million 0.15 -> 0.2\n"));
	free(sum);
	/* A limit of 0 keeps only the counts and the "more" lines. */
	f = open_memstream(&sum, &sumlen);
	changes_summary(&ch, f, 0);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(sum, "  + ... and 1 more\n"));
	free(sum);

	/* Written as the run writes it: the same numbers, before and after
	 * as JSON values. */
	x.cfg.output_dir = dir;
	struct writer_input in = {.cfg = &x.cfg,
				  .results = x.res,
				  .catalog = &x.cat,
				  .mapping = &x.map,
				  .generated_at = "2025-06-03T00:00:00Z",
				  .changes = &ch};
	char err[256] = "";
	CU_ASSERT_EQUAL(writer_write_all(&in, err, sizeof err), 0);
	changes_free(&ch);
	CU_ASSERT_EQUAL(ch.n_added, 0);
	text = read_out(dir, "changes.json");
	c = json_loads(text, 0, &jerr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	json_t *changed = json_array_get(json_object_get(c, "changed"), 0);
	json_t *field = json_array_get(json_object_get(changed, "fields"), 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(field, "path")),
			       "price.input_per_million");
	CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(field, "before")), 0.15, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(field, "after")), 0.2, 1e-12);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
				   json_array_get(json_object_get(c, "removed"), 0), "id")),
			       "openai/gpt-4o-mini-2024-07-18");
	json_decref(c);
	free(text);
	/* The digest now describes this run. */
	CU_ASSERT_EQUAL(changes_compute(dir, &x.cat, &ch), 0);
	CU_ASSERT_EQUAL(ch.n_changed + ch.n_added + ch.n_removed, 0);
	changes_free(&ch);

	/* A digest that cannot be trusted counts as none, with a warning. */
	static const char *const broken[] = {
	    "garbage\n",
	    "{\"modelfuse_digest\":99,\"generated_at\":\"x\"}\n",
	    "{\"modelfuse_digest\":1,\"generated_at\":\"x\"}\n{\"id\": 3}\n",
	    "",
	};
	for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
		free(tu_write_file(dir, CHANGES_DIGEST_NAME, broken[i]));
		CU_ASSERT_EQUAL(changes_compute(dir, &x.cat, &ch), 0);
		CU_ASSERT_FALSE(ch.has_previous);
		CU_ASSERT_PTR_NULL(ch.previous_generated_at);
		CU_ASSERT_EQUAL(ch.n_added, x.cat.n_models);
		f = open_memstream(&sum, &sumlen);
		changes_summary(&ch, f, 10);
		fclose(f);
		CU_ASSERT_PTR_NOT_NULL(strstr(sum, "first run"));
		free(sum);
		changes_free(&ch);
	}
	fx_free(&x);
	tu_rm_rf(dir);
	free(dir);
}

/* ------------------------------------------------------------ explain */

static int explain(const struct config *cfg, const char *arg, bool json, char **out)
{
	size_t len = 0;
	FILE *f = open_memstream(out, &len);
	int rc = query_explain(cfg, arg, json, f);
	fclose(f);
	return rc;
}

static void test_explain(void)
{
	char *dir = tu_tmpdir();
	struct fx x;
	fx_writer_run(&x);
	x.cfg.output_dir = dir;
	struct writer_input in = {.cfg = &x.cfg,
				  .results = x.res,
				  .catalog = &x.cat,
				  .mapping = &x.map,
				  .generated_at = "2025-06-01T00:00:00Z"};
	char err[256] = "";
	CU_ASSERT_EQUAL_FATAL(writer_write_all(&in, err, sizeof err), 0);

	char *out = NULL;
	CU_ASSERT_EQUAL(explain(&x.cfg, "openrouter:openai/gpt-4o-mini", false, &out), 0);
	CU_ASSERT_STRING_EQUAL(out,
			       "openrouter:openai/gpt-4o-mini (provider openrouter) -> "
			       "openai/gpt-4o-mini\n"
			       "    rule exact, key openai/gpt-4o-mini, maker from namespace\n");
	free(out);
	/* Without a source: every source that lists the id. */
	CU_ASSERT_EQUAL(explain(&x.cfg, "openai/gpt-4o-mini", true, &out), 0);
	json_error_t jerr;
	json_t *j = json_loads(out, 0, &jerr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	json_t *matches = json_object_get(j, "matches");
	CU_ASSERT_EQUAL(json_array_size(matches), 2);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "query")),
			       "openai/gpt-4o-mini");
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_object_get(json_array_get(matches, 0), "source")), "modelsdev");
	json_decref(j);
	free(out);
	/* The bare native id, and ignoring case. */
	CU_ASSERT_EQUAL(explain(&x.cfg, "modelsdev:gpt-4o-mini", false, &out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "modelsdev:openai/gpt-4o-mini (provider openai)"));
	free(out);
	CU_ASSERT_EQUAL(explain(&x.cfg, "MISTRALAI/Mistral-7B-Instruct-v0.3", false, &out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "huggingface:mistralai/Mistral-7B-Instruct-v0.3 -> "
					   "mistral/mistral-7b-instruct-v0.3"));
	free(out);
	/* A canonical model id: all records that went to it. */
	CU_ASSERT_EQUAL(explain(&x.cfg, "mistral/mistral-7b-instruct-v0.3", false, &out), 0);
	CU_ASSERT_TRUE(str_starts_with(out, "mistral/mistral-7b-instruct-v0.3: 2 records\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "openrouter:mistralai/mistral-7b-instruct-v0.3"));
	free(out);
	/* An unaligned record says so. */
	CU_ASSERT_EQUAL(explain(&x.cfg, "arena:gpt-4o-mini-2024-07-18", false, &out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "rule unaligned"));
	free(out);
	/* Not a configured source: the whole argument is the id. */
	CU_ASSERT_EQUAL(explain(&x.cfg, "nosuch:openai/gpt-4o-mini", false, &out), 1);
	CU_ASSERT_STRING_EQUAL(out, "");
	free(out);
	CU_ASSERT_EQUAL(explain(&x.cfg, "arena:openai/gpt-4o-mini", true, &out), 1);
	j = json_loads(out, 0, &jerr);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "matches")), 0);
	json_decref(j);
	free(out);
	CU_ASSERT_EQUAL(explain(&x.cfg, "", false, &out), 2);
	free(out);
	/* A hand-written mapping in another layout is still read. */
	free(tu_write_file(dir, "mapping.json",
			   "{\"entries\":[{\"source\":\"s\",\"id\":\"a:b\",\"model\":\"m/a\","
			   "\"rule\":\"exact\",\"key\":\"m/a\"}]}"));
	CU_ASSERT_EQUAL(explain(&x.cfg, "a:b", false, &out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "s:a:b -> m/a"));
	free(out);
	free(tu_write_file(dir, "mapping.json", "[1, 2]"));
	CU_ASSERT_EQUAL(explain(&x.cfg, "a:b", false, &out), 3);
	free(out);
	/* No outputs yet. */
	tu_rm_rf(dir);
	CU_ASSERT_EQUAL(explain(&x.cfg, "a:b", false, &out), 3);
	free(out);
	fx_free(&x);
	free(dir);
}

/* ------------------------------------------------------------ golden */

/*
 * An end-to-end run of mapper, merge and writers over records as the
 * plugins make them from several sources, compared byte for byte with
 * tests/fixtures/mapper/golden-*.json. MF_UPDATE_GOLDEN=1 rewrites them
 * (review the diff before committing).
 */
static void fx_golden_run(struct fx *x, bool reversed)
{
	fx_init(x);
	const struct {
		const char *name;
		const char *plugin;
		int precedence;
	} srcs[] = {
	    {"modelsdev", "modelsdev", 50},
	    {"openrouter", "openrouter", 40},
	    {"huggingface", "huggingface", 30},
	    {"arena", "arena", 10},
	    {"openai", "anyllm", 60},
	    {"community", "community", 20},
	    {"local", "local", 100},
	};
	size_t n = sizeof srcs / sizeof srcs[0];
	size_t idx[8];
	for (size_t k = 0; k < n; k++) {
		size_t i = reversed ? n - 1 - k : k;
		idx[i] = fx_source(x, srcs[i].name, srcs[i].plugin, srcs[i].precedence);
		x->res[idx[i]].fetched_at = "2025-06-01T00:00:00Z";
	}
	size_t md = idx[0], or = idx[1], hf = idx[2], ar = idx[3], oa = idx[4], cm = idx[5],
	       loc = idx[6];
	struct mf_record *r;
	/* models.dev: the maker, a cloud, Bedrock, Vertex. */
	r = fx_offer(x, md, "anthropic", "claude-3-5-sonnet-20241022");
	record_set_string(r, MF_FIELD_SOURCE_KEY, "anthropic/claude-3-5-sonnet-20241022");
	record_set_string(r, MF_FIELD_NAME, "Claude Sonnet 3.5 v2");
	set_price(r, 3, 15);
	record_set_int(r, MF_FIELD_CONTEXT_TOKENS, 200000);
	record_set_string(r, MF_FIELD_RELEASE_DATE, "2024-10-22");
	add_list(r, MF_FIELD_INPUT_MODALITIES, (const char *const[]){"text", "image", NULL});
	r = fx_offer(x, md, "amazon-bedrock", "anthropic.claude-3-5-sonnet-20241022-v2:0");
	record_set_string(r, MF_FIELD_SOURCE_KEY,
			  "amazon-bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0");
	set_price(r, 3, 15);
	r = fx_offer(x, md, "google-vertex-anthropic", "claude-3-5-sonnet@20241022");
	record_set_string(r, MF_FIELD_SOURCE_KEY,
			  "google-vertex-anthropic/claude-3-5-sonnet@20241022");
	set_price(r, 3.3, 16.5);
	r = fx_offer(x, md, "openai", "gpt-4.1");
	record_set_string(r, MF_FIELD_SOURCE_KEY, "openai/gpt-4.1");
	set_price(r, 2, 8);
	r = fx_offer(x, md, "azure", "gpt-4.1");
	record_set_string(r, MF_FIELD_SOURCE_KEY, "azure/gpt-4.1");
	set_price(r, 2.2, 8.8);
	r = fx_offer(x, md, "togetherai", "meta-llama/Llama-3.3-70B-Instruct-Turbo");
	record_set_string(r, MF_FIELD_SOURCE_KEY,
			  "togetherai/meta-llama/Llama-3.3-70B-Instruct-Turbo");
	set_price(r, 0.88, 0.88);
	r = fx_offer(x, md, "fireworks-ai", "accounts/fireworks/models/llama-v3p3-70b-instruct");
	record_set_string(r, MF_FIELD_SOURCE_KEY,
			  "fireworks-ai/accounts/fireworks/models/llama-v3p3-70b-instruct");
	set_price(r, 0.9, 0.9);
	/* OpenRouter: serving suffixes and crosswalks. */
	r = fx_offer(x, or, "openrouter", "openai/gpt-4.1");
	record_set_string(r, MF_FIELD_CANONICAL_SLUG, "openai/gpt-4.1-2025-04-14");
	set_price(r, 2, 8);
	r = fx_offer(x, or, "openrouter", "meta-llama/llama-3.3-70b-instruct:free");
	record_set_string(r, MF_FIELD_BASE_ID, "meta-llama/llama-3.3-70b-instruct");
	record_set_string(r, MF_FIELD_SERVING_SUFFIX, "free");
	record_set_string(r, MF_FIELD_HF_ID, "meta-llama/Llama-3.3-70B-Instruct");
	set_price(r, 0, 0);
	r = fx_offer(x, or, "openrouter", "meta-llama/llama-3.3-70b-instruct");
	record_set_string(r, MF_FIELD_HF_ID, "meta-llama/Llama-3.3-70B-Instruct");
	set_price(r, 0.13, 0.4);
	r = fx_offer(x, or, "openrouter", "anthropic/claude-3.7-sonnet:thinking");
	set_price(r, 3, 15);
	/* The admin's OpenAI key lists the dated snapshot. */
	r = fx_offer(x, oa, "openai", "gpt-4.1-2025-04-14");
	record_set_bool(r, MF_FIELD_CALLABLE, true);
	record_set_string(r, MF_FIELD_CREATED, "2025-04-14T00:00:00Z");
	/* Hugging Face and the community list. */
	r = fx_model(x, hf, "meta-llama/Llama-3.3-70B-Instruct");
	record_set_string(r, MF_FIELD_MAKER, "meta-llama");
	record_set_string(r, MF_FIELD_HF_ID, "meta-llama/Llama-3.3-70B-Instruct");
	record_set_string(r, MF_FIELD_LICENSE, "llama3.3");
	record_set_int(r, MF_FIELD_DOWNLOADS, 500000);
	add_list(r, MF_FIELD_TAGS, (const char *const[]){"transformers", "conversational", NULL});
	r = fx_model(x, hf, "Qwen/Qwen2.5-7B-Instruct");
	record_set_string(r, MF_FIELD_MAKER, "Qwen");
	record_set_int(r, MF_FIELD_DOWNLOADS, 900000);
	r = fx_model(x, cm, "anthropic/claude-3-5-sonnet-20241022");
	record_set_int(r, MF_FIELD_RANK, 3);
	/* Arena names. */
	r = fx_model(x, ar, "claude-3-5-sonnet-20241022");
	record_map_set(r, MF_FIELD_SCORES, "arena.full", 1283.4);
	r = fx_model(x, ar, "llama-3.3-70b-instruct");
	record_map_set(r, MF_FIELD_SCORES, "arena.full", 1255.9);
	r = fx_model(x, ar, "athene-v2-chat");
	record_map_set(r, MF_FIELD_SCORES, "arena.full", 1250);
	/* The admin's overlay. */
	r = fx_model(x, loc, "anthropic/claude-3-5-sonnet-20241022");
	add_list(r, MF_FIELD_ALIASES, (const char *const[]){"sonnet-new", NULL});
	record_set_string(r, MF_FIELD_NAME, "Claude 3.5 Sonnet (Oct 2024)");
	fx_build(x);
}

static void compare_golden(const char *name, const char *got)
{
	char *rel = xasprintf("tests/fixtures/mapper/golden-%s", name);
	char *path = tu_srcpath(rel);
	const char *update = getenv("MF_UPDATE_GOLDEN");
	if (update && *update) {
		FILE *f = fopen(path, "w");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fputs(got, f);
		fclose(f);
	} else {
		char *want = tu_read_file(path);
		CU_ASSERT_PTR_NOT_NULL(want);
		if (want && strcmp(want, got) != 0) {
			fprintf(stderr,
				"\n%s differs from the output (MF_UPDATE_GOLDEN=1 rewrites "
				"it)\n",
				path);
			CU_FAIL("golden output");
		}
		free(want);
	}
	free(path);
	free(rel);
}

static void test_golden(void)
{
	static const char *const files[] = {"catalog.json", "mapping.json",
					    "staging_candidates.json", "changes.json"};
	char *texts[2][4];
	for (int round = 0; round < 2; round++) {
		struct fx x;
		fx_golden_run(&x, round == 1);
		char *dir = tu_tmpdir();
		x.cfg.output_dir = dir;
		struct writer_input in = {.cfg = &x.cfg,
					  .results = x.res,
					  .catalog = &x.cat,
					  .mapping = &x.map,
					  .generated_at = "2025-06-01T00:00:00Z"};
		char err[256] = "";
		CU_ASSERT_EQUAL_FATAL(writer_write_all(&in, err, sizeof err), 0);
		for (size_t i = 0; i < 4; i++) {
			texts[round][i] = read_out(dir, files[i]);
			CU_ASSERT_PTR_NOT_NULL_FATAL(texts[round][i]);
		}
		tu_rm_rf(dir);
		free(dir);
		fx_free(&x);
	}
	for (size_t i = 0; i < 4; i++)
		compare_golden(files[i], texts[0][i]);
	/* Config order changes only what lists sources in config order (the
	 * catalog's sources[] and mapping.json): models, staging and changes
	 * are the same bytes. */
	const char *m0 = strstr(texts[0][0], "\"models\": ");
	const char *m1 = strstr(texts[1][0], "\"models\": ");
	CU_ASSERT_TRUE(m0 && m1 && strcmp(m0, m1) == 0);
	CU_ASSERT_STRING_EQUAL(texts[0][2], texts[1][2]);
	CU_ASSERT_STRING_EQUAL(texts[0][3], texts[1][3]);
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < 4; i++)
			free(texts[round][i]);
}

int main(void)
{
	char *data = tu_srcpath("data");
	setenv("MODELFUSE_DATADIR", data, 1);
	free(data);
	static const struct tu_test tests[] = {
	    {"merge: scalar precedence", test_scalar_precedence},
	    {"merge: null never erases", test_null_never_erases},
	    {"merge: union lists", test_union_lists},
	    {"merge: maps per key", test_map_merge_per_key},
	    {"merge: ties by instance name", test_ties_by_instance_name},
	    {"merge: one offering from two sources", test_same_offering_two_sources},
	    {"merge: price_from", test_price_from},
	    {"merge: exclude_models", test_exclude_models},
	    {"merge: source_ids, callable_via, staging", test_source_ids_and_flags},
	    {"merge: sorted, config order irrelevant", test_sorted_and_order_independent},
	    {"merge: offering-level fields", test_offering_level_fields},
	    {"merge: one record is lent, not copied", test_borrowed_records},
	    {"mapping: one id string per model", test_mapping_shares_ids},
	    {"write: catalog contract", test_write_catalog},
	    {"write: staging and mapping", test_write_staging_and_mapping},
	    {"write: deterministic bytes", test_write_deterministic},
	    {"write: atomic, previous outputs kept", test_write_atomic},
	    {"write: empty run", test_write_empty},
	    {"merge: lists that replace", test_non_union_lists},
	    {"overlay: remove and replace", test_overlay_remove_replace},
	    {"overlay: pinned", test_overlay_pinned},
	    {"popularity", test_popularity},
	    {"changes: digest, changes.json, summary", test_changes},
	    {"explain", test_explain},
	    {"golden end-to-end, config order", test_golden},
	    {NULL, NULL},
	};
	return tu_main("merge", tests);
}
