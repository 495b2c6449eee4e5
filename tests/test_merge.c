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

#include "mapper.h"
#include "merge.h"
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
	CU_ASSERT_EQUAL_FATAL(mapper_map(x->res, x->n, &x->map), 0);
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

/* ------------------------------------------------------------ mapper */

static void test_maker_tables(void)
{
	CU_ASSERT_STRING_EQUAL(mapper_maker_of("x-ai"), "xai");
	CU_ASSERT_STRING_EQUAL(mapper_maker_of("meta-llama"), "meta");
	CU_ASSERT_STRING_EQUAL(mapper_maker_of("MistralAI"), "mistral");
	CU_ASSERT_STRING_EQUAL(mapper_maker_of("Qwen"), "qwen");
	CU_ASSERT_STRING_EQUAL(mapper_maker_of("deepseek-ai"), "deepseek");
	CU_ASSERT_STRING_EQUAL(mapper_maker_of("anthropic"), "anthropic");
	/* Hosts are not makers. */
	CU_ASSERT_PTR_NULL(mapper_maker_of("amazon-bedrock"));
	CU_ASSERT_PTR_NULL(mapper_maker_of("groq"));
	CU_ASSERT_PTR_NULL(mapper_maker_of("openrouter"));
	CU_ASSERT_PTR_NULL(mapper_maker_of("meta-llam"));
	CU_ASSERT_PTR_NULL(mapper_maker_of(NULL));

	CU_ASSERT_STRING_EQUAL(mapper_infer_maker("gpt-4o"), "openai");
	CU_ASSERT_STRING_EQUAL(mapper_infer_maker("o3-mini"), "openai");
	CU_ASSERT_STRING_EQUAL(mapper_infer_maker("Claude-3-5-Sonnet"), "anthropic");
	CU_ASSERT_STRING_EQUAL(mapper_infer_maker("gemma2-9b-it"), "google");
	CU_ASSERT_STRING_EQUAL(mapper_infer_maker("llama3-70b-8192"), "meta");
	CU_ASSERT_STRING_EQUAL(mapper_infer_maker("mixtral-8x7b"), "mistral");
	CU_ASSERT_STRING_EQUAL(mapper_infer_maker("grok-4"), "xai");
	CU_ASSERT_STRING_EQUAL(mapper_infer_maker("qwq-32b"), "qwen");
	CU_ASSERT_STRING_EQUAL(mapper_infer_maker("phi-4"), "microsoft");
	CU_ASSERT_STRING_EQUAL(mapper_infer_maker("glm-4.5"), "zhipu");
	/* A prefix must end at a non-letter. */
	CU_ASSERT_PTR_NULL(mapper_infer_maker("phind-codellama-34b"));
	CU_ASSERT_PTR_NULL(mapper_infer_maker("o1x"));
	CU_ASSERT_PTR_NULL(mapper_infer_maker("whisper-large-v3"));
	CU_ASSERT_PTR_NULL(mapper_infer_maker(NULL));
}

/* Map one record alone; check model id, rule and key. */
static void check_map(enum mf_record_kind kind, const char *provider, const char *maker,
		      const char *id, const char *want_model, const char *want_rule,
		      const char *want_key)
{
	struct fx x;
	fx_init(&x);
	size_t s = fx_source(&x, "src", "modelsdev", 50);
	struct mf_record *r =
	    kind == MF_RECORD_OFFERING ? fx_offer(&x, s, provider, id) : fx_model(&x, s, id);
	if (maker)
		record_set_string(r, MF_FIELD_MAKER, maker);
	CU_ASSERT_EQUAL_FATAL(mapper_map(x.res, x.n, &x.map), 0);
	CU_ASSERT_EQUAL_FATAL(x.map.count, 1);
	const struct mapping_entry *e = &x.map.items[0];
	CU_ASSERT_PTR_EQUAL(e->rec, r);
	CU_ASSERT_PTR_EQUAL(e->result, &x.res[s]);
	CU_ASSERT_EQUAL(e->position, 0);
	if (strcmp(e->model_id, want_model) != 0 || strcmp(e->rule, want_rule) != 0 ||
	    strcmp(e->key, want_key) != 0) {
		fprintf(stderr, "\n%s: got %s rule %s key %s; want %s rule %s key %s\n", id,
			e->model_id, e->rule, e->key, want_model, want_rule, want_key);
		CU_FAIL("mapping differs");
	}
	/* maker is the part before the slash. */
	CU_ASSERT_EQUAL(strncmp(e->model_id, e->maker, strlen(e->maker)), 0);
	CU_ASSERT_EQUAL(e->model_id[strlen(e->maker)], '/');
	mapping_free(&x.map);
	fx_free(&x);
}

#define OFF MF_RECORD_OFFERING
#define MOD MF_RECORD_MODEL

static void test_map_maker_provider(void)
{
	check_map(OFF, "anthropic", NULL, "claude-3-5-sonnet-20241022",
		  "anthropic/claude-3-5-sonnet-20241022", "maker-provider", "anthropic");
	check_map(OFF, "openai", NULL, "GPT-4o-2024-05-13", "openai/gpt-4o-2024-05-13",
		  "maker-provider", "openai");
	check_map(OFF, "alibaba", NULL, "qwen-max", "qwen/qwen-max", "maker-provider", "alibaba");
	/* The provider's own name wins over a family guess. */
	check_map(OFF, "xai", NULL, "some-new-thing", "xai/some-new-thing", "maker-provider",
		  "xai");
	/* A maker provider serving another maker's namespaced id: the
	 * namespace decides. */
	check_map(OFF, "nvidia", NULL, "meta/llama-3.1-8b-instruct", "meta/llama-3.1-8b-instruct",
		  "namespace", "meta");
}

static void test_map_namespace(void)
{
	check_map(OFF, "openrouter", NULL, "x-ai/grok-4", "xai/grok-4", "namespace", "x-ai");
	check_map(OFF, "togetherai", NULL, "meta-llama/Llama-3.3-70B-Instruct-Turbo",
		  "meta/llama-3.3-70b-instruct-turbo", "namespace", "meta-llama");
	check_map(OFF, "openrouter", NULL, "mistralai/mistral-large-2411",
		  "mistral/mistral-large-2411", "namespace", "mistralai");
	check_map(OFF, "deepinfra", NULL, "Qwen/Qwen3-Coder-480B-A35B-Instruct",
		  "qwen/qwen3-coder-480b-a35b-instruct", "namespace", "Qwen");
	check_map(MOD, NULL, NULL, "deepseek-ai/DeepSeek-R1", "deepseek/deepseek-r1", "namespace",
		  "deepseek-ai");
	/* Gemini's models/ prefix is not a namespace. */
	check_map(OFF, "google", NULL, "models/gemini-2.0-flash", "google/gemini-2.0-flash",
		  "maker-provider", "google");
	check_map(OFF, "proxy", NULL, "models/gemini-2.0-flash", "google/gemini-2.0-flash",
		  "family-prefix", "gemini");
	/* Host paths: the segment nearest the name that is a maker, else the
	 * family of the last segment. */
	check_map(OFF, "cloudflare-workers-ai", NULL, "@cf/meta/llama-3-8b-instruct",
		  "meta/llama-3-8b-instruct", "namespace", "meta");
	check_map(OFF, "fireworks-ai", NULL, "accounts/fireworks/models/llama-v3p1-8b-instruct",
		  "meta/llama-v3p1-8b-instruct", "family-prefix", "llama");
}

static void test_map_family_and_maker_field(void)
{
	check_map(OFF, "groq", NULL, "llama-3.1-8b-instant", "meta/llama-3.1-8b-instant",
		  "family-prefix", "llama");
	check_map(OFF, "groq", NULL, "deepseek-r1-distill-llama-70b",
		  "deepseek/deepseek-r1-distill-llama-70b", "family-prefix", "deepseek");
	check_map(MOD, NULL, NULL, "claude-3-opus-20240229", "anthropic/claude-3-opus-20240229",
		  "family-prefix", "claude");
	/* Model records name their maker. */
	check_map(MOD, NULL, "Meta-Llama", "Llama-3-8B", "meta/llama-3-8b", "maker-field",
		  "Meta-Llama");
	check_map(MOD, NULL, "NousResearch", "NousResearch/Hermes-3-Llama-3.1-8B",
		  "nousresearch/hermes-3-llama-3.1-8b", "maker-field", "NousResearch");
	/* ... but an offering's MAKER field is not trusted over its provider. */
	check_map(OFF, "groq", "openai", "llama-3.1-8b-instant", "meta/llama-3.1-8b-instant",
		  "family-prefix", "llama");
}

static void test_map_unaligned(void)
{
	check_map(OFF, "groq", NULL, "whisper-large-v3", "groq/whisper-large-v3", "unaligned",
		  "whisper-large-v3");
	check_map(MOD, NULL, NULL, "Athene-V2-Chat", "unknown/athene-v2-chat", "unaligned",
		  "Athene-V2-Chat");
	check_map(OFF, "openrouter", NULL, "nousresearch/hermes-4-70b", "nousresearch/hermes-4-70b",
		  "unaligned", "nousresearch/hermes-4-70b");
	/* No merging across generations or tiers: different ids stay apart. */
	check_map(OFF, "openrouter", NULL, "anthropic/claude-3.5-sonnet",
		  "anthropic/claude-3.5-sonnet", "namespace", "anthropic");
	check_map(OFF, "anthropic", NULL, "claude-3-5-sonnet", "anthropic/claude-3-5-sonnet",
		  "maker-provider", "anthropic");
}

static void test_map_order_and_bad_ids(void)
{
	struct fx x;
	fx_init(&x);
	size_t a = fx_source(&x, "a", "modelsdev", 50);
	size_t b = fx_source(&x, "b", "openrouter", 40);
	fx_offer(&x, a, "openai", "gpt-4o");
	fx_offer(&x, a, "openai", "");			/* no usable id */
	fx_offer(&x, a, "openai", "models/");		/* nothing left after the prefix */
	fx_offer(&x, b, "openrouter", "openai/gpt-4o"); /* position 0 of b */
	fx_offer(&x, a, "openai", "o3");
	CU_ASSERT_EQUAL_FATAL(mapper_map(x.res, x.n, &x.map), 0);
	CU_ASSERT_EQUAL_FATAL(x.map.count, 3);
	CU_ASSERT_EQUAL(x.map.items[0].position, 0);
	CU_ASSERT_STRING_EQUAL(x.map.items[0].model_id, "openai/gpt-4o");
	CU_ASSERT_EQUAL(x.map.items[1].position, 3);
	CU_ASSERT_STRING_EQUAL(x.map.items[1].model_id, "openai/o3");
	CU_ASSERT_PTR_EQUAL(x.map.items[2].result, &x.res[b]);
	CU_ASSERT_EQUAL(x.map.items[2].position, 0);
	CU_ASSERT_STRING_EQUAL(x.map.items[2].model_id, "openai/gpt-4o");
	mapping_free(&x.map);
	CU_ASSERT_EQUAL(x.map.count, 0);
	fx_free(&x);
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
	/* davinci has no family prefix: the arena record is its own model,
	 * and the excluded offering's model is gone. */
	CU_ASSERT_PTR_NULL(find_model(&x.cat, "openai/davinci-002"));
	m = find_model(&x.cat, "unknown/davinci-002");
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

/* A small but complete run for the writers. */
static void fx_writer_run(struct fx *x)
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
	record_map_set(r, MF_FIELD_PRICE, "input", 0.15);
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

	r = fx_model(x, ar, "gpt-4o-mini-2024-07-18");
	record_map_set(r, MF_FIELD_SCORES, "arena.full", 1272.1);
	record_map_set(r, MF_FIELD_SCORES, "arena.full.q025", 1268.3);
	record_map_set(r, MF_FIELD_SCORES, "arena.full.q975", 1276.9);

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
	json_t *entries = json_object_get(mp, "entries");
	CU_ASSERT_EQUAL_FATAL(json_array_size(entries), x.map.count);
	json_t *m0 = json_array_get(entries, 0);
	CU_ASSERT_STRING_EQUAL(jget_str(m0, "source"), "modelsdev");
	CU_ASSERT_STRING_EQUAL(jget_str(m0, "id"), "openai/gpt-4o-mini"); /* the source key */
	CU_ASSERT_STRING_EQUAL(jget_str(m0, "model"), "openai/gpt-4o-mini");
	CU_ASSERT_STRING_EQUAL(jget_str(m0, "rule"), "maker-provider");
	CU_ASSERT_STRING_EQUAL(jget_str(m0, "key"), "openai");
	json_t *m1 = json_array_get(entries, 1);
	CU_ASSERT_STRING_EQUAL(jget_str(m1, "source"), "openrouter");
	CU_ASSERT_STRING_EQUAL(jget_str(m1, "rule"), "namespace");
	json_decref(mp);

	/* Nothing but the three outputs is left in the folder. */
	DIR *d = opendir(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	int n = 0;
	for (struct dirent *de; (de = readdir(d));)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	CU_ASSERT_EQUAL(n, 3);
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

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	for (struct dirent *de; (de = readdir(d));)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
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
	CU_ASSERT_EQUAL(count_entries(dir), 3);

	/* An output folder below a regular file cannot be created. */
	char *below = xasprintf("%s/catalog.json/sub", dir);
	x.cfg.output_dir = below;
	err[0] = '\0';
	CU_ASSERT_EQUAL(writer_write_all(&in, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, below));
	CU_ASSERT_EQUAL(count_entries(dir), 3);

	/* A stream that fails is reported, not ignored. */
	FILE *full = fopen("/dev/full", "w");
	if (full) {
		setvbuf(full, NULL, _IONBF, 0);
		CU_ASSERT_EQUAL(writer_catalog(full, &in), -1);
		CU_ASSERT_EQUAL(writer_staging(full, &in), -1);
		CU_ASSERT_EQUAL(writer_mapping(full, &in), -1);
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

int main(void)
{
	static const struct tu_test tests[] = {
	    {"maker and family tables", test_maker_tables},
	    {"map: maker provider", test_map_maker_provider},
	    {"map: namespace normalization", test_map_namespace},
	    {"map: family prefix and maker field", test_map_family_and_maker_field},
	    {"map: unaligned stays its own model", test_map_unaligned},
	    {"map: order kept, unusable ids skipped", test_map_order_and_bad_ids},
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
	    {"write: catalog contract", test_write_catalog},
	    {"write: staging and mapping", test_write_staging_and_mapping},
	    {"write: deterministic bytes", test_write_deterministic},
	    {"write: atomic, previous outputs kept", test_write_atomic},
	    {"write: empty run", test_write_empty},
	    {NULL, NULL},
	};
	return tu_main("merge", tests);
}
