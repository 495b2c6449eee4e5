/* The mapper: keys, makers, every alignment rule with as many
 * must-not-merge cases as must-merge ones, crosswalk evidence, overrides,
 * the maker table, mapping decisions, order independence, linear cost. */
#include "mf_build_config.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "mapper.h"
#include "record.h"
#include "runner.h"
#include "util.h"

/* ------------------------------------------------------------ fixture */

static struct mapper_tables *tables; /* the shipped maker table, no overrides */

/* Source instances the cases may name, as a config would list them. */
static const struct {
	const char *name;
	const char *plugin;
	int precedence;
} known_sources[] = {
    {"modelsdev", "modelsdev", 50},
    {"openrouter", "openrouter", 40},
    {"huggingface", "huggingface", 30},
    {"arena", "arena", 10},
    {"openai", "anyllm", 60},
    {"anthropic", "anyllm", 60},
    {"xai", "anyllm", 60},
    {"mistral", "anyllm", 60},
    {"gemini", "anyllm", 60},
    {"groq", "anyllm", 60},
    {"litellm", "litellm", 35},
    {"local", "local", 100},
};
#define N_KNOWN (sizeof known_sources / sizeof known_sources[0])

struct fx {
	struct config cfg;
	struct source_config src[N_KNOWN];
	struct source_result res[N_KNOWN];
	size_t n;
	struct mapping map;
	bool mapped;
};

static void fx_init(struct fx *x)
{
	memset(x, 0, sizeof *x);
	x->cfg.sources = x->src;
}

static size_t fx_source(struct fx *x, const char *name)
{
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->src[i].name, name) == 0)
			return i;
	for (size_t k = 0; k < N_KNOWN; k++) {
		if (strcmp(known_sources[k].name, name) != 0)
			continue;
		size_t i = x->n++;
		x->src[i] = (struct source_config){
		    .name = (char *)known_sources[k].name,
		    .plugin = (char *)known_sources[k].plugin,
		    .enabled = true,
		    .precedence = known_sources[k].precedence,
		};
		x->res[i].source = &x->src[i];
		x->res[i].status = SOURCE_FRESH;
		x->cfg.n_sources = x->n;
		return i;
	}
	CU_FAIL_FATAL("unknown source in a test case");
	return 0;
}

/* One record as a case describes it. A provider makes it an offering. */
struct spec {
	const char *source;
	const char *provider; /* NULL: a model record */
	const char *id;
	const char *maker;
};

static struct mf_record *fx_add(struct fx *x, const struct spec *s)
{
	size_t i = fx_source(x, s->source);
	struct mf_record *r = record_new(s->provider ? MF_RECORD_OFFERING : MF_RECORD_MODEL, s->id);
	if (s->provider)
		record_set_string(r, MF_FIELD_PROVIDER, s->provider);
	if (s->maker)
		record_set_string(r, MF_FIELD_MAKER, s->maker);
	record_array_push(&x->res[i].records, r);
	return r;
}

static void fx_map_with(struct fx *x, const struct mapper_tables *t)
{
	CU_ASSERT_EQUAL_FATAL(mapper_map_with(t, &x->cfg, x->res, x->n, &x->map), 0);
	x->mapped = true;
}

static void fx_map(struct fx *x)
{
	fx_map_with(x, tables);
}

static void fx_free(struct fx *x)
{
	if (x->mapped)
		mapping_free(&x->map);
	for (size_t i = 0; i < x->n; i++)
		record_array_free(&x->res[i].records);
}

static const struct mapping_entry *entry_of(const struct fx *x, const struct mf_record *r)
{
	for (size_t i = 0; i < x->map.count; i++)
		if (x->map.items[i].rec == r)
			return &x->map.items[i];
	return NULL;
}

static const char *model_of(const struct fx *x, const struct mf_record *r)
{
	const struct mapping_entry *e = entry_of(x, r);
	return e ? e->model_id : "(dropped)";
}

/* ------------------------------------------------------------ makers */

static void test_maker_table(void)
{
	CU_ASSERT_STRING_EQUAL(mapper_maker_of(tables, "x-ai"), "xai");
	CU_ASSERT_STRING_EQUAL(mapper_maker_of(tables, "meta-llama"), "meta");
	CU_ASSERT_STRING_EQUAL(mapper_maker_of(tables, "MistralAI"), "mistral");
	CU_ASSERT_STRING_EQUAL(mapper_maker_of(tables, "Mistral AI"), "mistral");
	CU_ASSERT_STRING_EQUAL(mapper_maker_of(tables, "Qwen"), "qwen");
	CU_ASSERT_STRING_EQUAL(mapper_maker_of(tables, "deepseek-ai"), "deepseek");
	CU_ASSERT_STRING_EQUAL(mapper_maker_of(tables, "z-ai"), "zai");
	CU_ASSERT_STRING_EQUAL(mapper_maker_of(tables, "THUDM"), "zai");
	/* Hosts are not makers. */
	CU_ASSERT_PTR_NULL(mapper_maker_of(tables, "amazon-bedrock"));
	CU_ASSERT_PTR_NULL(mapper_maker_of(tables, "groq"));
	CU_ASSERT_PTR_NULL(mapper_maker_of(tables, "azure"));
	CU_ASSERT_PTR_NULL(mapper_maker_of(tables, "openrouter"));
	CU_ASSERT_PTR_NULL(mapper_maker_of(tables, "meta-llam"));
	CU_ASSERT_PTR_NULL(mapper_maker_of(tables, NULL));
	CU_ASSERT_PTR_NULL(mapper_maker_of(NULL, "openai"));

	static const struct {
		const char *model;
		const char *maker;
	} families[] = {
	    {"gpt-4o", "openai"},
	    {"gpt4o", "openai"},
	    {"o3-mini", "openai"},
	    {"chatgpt-4o-latest", "openai"},
	    {"Claude-3-5-Sonnet", "anthropic"},
	    {"gemma2-9b-it", "google"},
	    {"llama3-70b-8192", "meta"},
	    {"mixtral-8x7b", "mistral"},
	    {"open-mistral-nemo", "mistral"},
	    {"grok-4", "xai"},
	    {"qwq-32b", "qwen"},
	    {"phi-4", "microsoft"},
	    {"glm-4.5", "zai"},
	    {"kimi-k2", "moonshotai"},
	    {"command-r-08-2024", "cohere"},
	    /* A token anywhere beats the prefix. */
	    {"llama-3.1-nemotron-70b-instruct", "nvidia"},
	    {"llama-3.1-tulu-3-8b", "allenai"},
	    {"meta-llama/Llama-3.1-8B", "meta"},
	};
	for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
		const char *got = mapper_infer_maker(tables, families[i].model);
		if (!got || strcmp(got, families[i].maker) != 0) {
			fprintf(stderr, "\n%s: got %s, want %s\n", families[i].model,
				got ? got : "NULL", families[i].maker);
			CU_FAIL("family inference");
		}
	}
	/* A prefix must end at a non-letter. */
	CU_ASSERT_PTR_NULL(mapper_infer_maker(tables, "phind-codellama-34b"));
	CU_ASSERT_PTR_NULL(mapper_infer_maker(tables, "o1x"));
	CU_ASSERT_PTR_NULL(mapper_infer_maker(tables, "palmyra-x5"));
	CU_ASSERT_PTR_NULL(mapper_infer_maker(tables, "koala-13b"));
	CU_ASSERT_PTR_NULL(mapper_infer_maker(tables, NULL));
}

/* ------------------------------------------------------------ keys */

static void test_keys(void)
{
	static const struct {
		const char *provider;
		const char *maker;
		const char *id;
		const char *key;
	} cases[] = {
	    /* case, separators, 3.5 vs 3-5, word order */
	    {"openrouter", NULL, "anthropic/claude-3.5-sonnet", "anthropic/3.5-claude-sonnet"},
	    {"anthropic", NULL, "claude-3-5-sonnet", "anthropic/3.5-claude-sonnet"},
	    {"cortecs", NULL, "claude-sonnet-3.5", "anthropic/3.5-claude-sonnet"},
	    {"deepinfra", NULL, "Qwen/Qwen2.5-72B-Instruct", "qwen/2.5-72b-instruct-qwen"},
	    {"cloudflare", NULL, "@cf/meta/llama-3_1-8b-instruct", "meta/3.1-8b-instruct-llama"},
	    /* dates in one spelling, maker-specific four digits */
	    {"openai", NULL, "gpt-4o-2024-05-13", "openai/4o-d20240513-gpt"},
	    {"azure", NULL, "gpt-4o-20240513", "openai/4o-d20240513-gpt"},
	    {"openai", NULL, "gpt-4-0613", "openai/4-d0613-gpt"},
	    {"mistral", NULL, "mistral-large-2407", "mistral/d202407-large-mistral"},
	    {"x", NULL, "mistral-large-2024-07", "mistral/d202407-large-mistral"},
	    {"cohere", NULL, "command-r-08-2024", "cohere/command-d202408-r"},
	    {"google", NULL, "gemini-2.5-flash-preview-05-20",
	     "google/2.5-d0520-flash-gemini-preview"},
	    {"xai", NULL, "grok-4-0709", "xai/4-d0709-grok"},
	    {"openrouter", NULL, "x-ai/grok-4-07-09", "xai/4-d0709-grok"},
	    {"qwen", NULL, "qwen3-235b-a22b-instruct-2507",
	     "qwen/235b-3-a22b-d202507-instruct-qwen"},
	    /* an unknown org keeps its four digits as they are */
	    {"openrouter", NULL, "arliai/qwq-32b-rpr-0325", "arliai/0325-32b-qwq-rpr"},
	    /* a listed maker without a date style: auto (03 is a month) */
	    {"openrouter", NULL, "allenai/olmo-2-0325-32b-instruct",
	     "allenai/2-32b-d0325-instruct-olmo"},
	    /* not a date: groq's context length */
	    {"groq", NULL, "llama3-70b-8192", "meta/3-70b-8192-llama"},
	    /* serving and precision suffixes */
	    {"openrouter", NULL, "moonshotai/kimi-k2:free", "moonshotai/k2-kimi"},
	    {"amazon-bedrock", NULL, "anthropic.claude-3-5-sonnet-20241022-v2:0",
	     "anthropic/3.5-claude-d20241022-sonnet"},
	    {"amazon-bedrock", NULL, "us.anthropic.claude-sonnet-4-20250514-v1:0",
	     "anthropic/4-claude-d20250514-sonnet"},
	    {"google-vertex-anthropic", NULL, "claude-3-5-sonnet@20241022",
	     "anthropic/3.5-claude-d20241022-sonnet"},
	    {"arena", NULL, "llama-3.1-405b-instruct-bf16", "meta/3.1-405b-instruct-llama"},
	    {"fireworks-ai", NULL, "accounts/fireworks/models/llama-v3p1-8b-instruct",
	     "meta/3.1-8b-instruct-llama"},
	    {"together", NULL, "Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8",
	     "qwen/3-480b-a35b-coder-instruct-qwen"},
	    /* :thinking is a variant */
	    {"openrouter", NULL, "anthropic/claude-3.7-sonnet:thinking",
	     "anthropic/3.7-claude-sonnet-thinking"},
	    /* namespaces, Gemini's models/, synthetic's hf:, the maker's name in front */
	    {"google", NULL, "models/gemini-2.0-flash", "google/2-flash-gemini"},
	    {"synthetic", NULL, "hf:Qwen/Qwen3-235B-A22B", "qwen/235b-3-a22b-qwen"},
	    {"huggingface", "meta-llama", "meta-llama/Meta-Llama-3.1-8B-Instruct",
	     "meta/3.1-8b-instruct-llama"},
	    {"arena", NULL, "amazon-nova-pro-v1.0", "amazon/1-nova-pro"},
	    {"arena", NULL, "nvidia-llama-3.3-nemotron-super-49b-v1.5",
	     "nvidia/1.5-3.3-49b-llama-nemotron-super"},
	    /* a host's or the provider's name in front of another maker's model */
	    {"databricks", NULL, "databricks-meta-llama-3-1-8b-instruct",
	     "meta/3.1-8b-instruct-llama"},
	    {"llama", NULL, "cerebras-llama-4-scout-17b-16e-instruct",
	     "meta/16e-17b-4-instruct-llama-scout"},
	    {"x", NULL, "us-gov-east-1/anthropic.claude-3-5-sonnet-20240620-v1:0",
	     "anthropic/3.5-claude-d20240620-sonnet"},
	    /* ... but never in front of an org's fine-tune */
	    {"openrouter", NULL, "mattshumer/reflection-llama-3.1-70b",
	     "mattshumer/3.1-70b-llama-reflection"},
	    {"arena", NULL, "dolphin-2.2.1-mistral-7b", "arena/2.2.1-7b-dolphin-mistral"},
	    /* v-versions, .0 */
	    {"x", NULL, "deepseek-ai/DeepSeek-V3.1", "deepseek/3.1-deepseek"},
	    {"x", NULL, "google/gemini-3.0-pro-preview", "google/3-gemini-preview-pro"},
	    /* a local Ollama tag */
	    {"ollama", NULL, "gemma3:27b", "google/27b-3-gemma"},
	    /* unknown everything: the provider stands in */
	    {"groq", NULL, "whisper-large-v3", "openai/3-large-whisper"},
	    {"someone", NULL, "koala-13b", "someone/13b-koala"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *key = mapper_key_of(tables, cases[i].provider, cases[i].maker, cases[i].id);
		if (!key || strcmp(key, cases[i].key) != 0) {
			fprintf(stderr, "\n%s: key %s, want %s\n", cases[i].id, key ? key : "NULL",
				cases[i].key);
			CU_FAIL("normalized key");
		}
		free(key);
	}
	/* No usable name. */
	CU_ASSERT_PTR_NULL(mapper_key_of(tables, "x", NULL, ""));
	CU_ASSERT_PTR_NULL(mapper_key_of(tables, "x", NULL, "models/"));
	CU_ASSERT_PTR_NULL(mapper_key_of(tables, "x", NULL, "meta-llama/"));
	CU_ASSERT_PTR_NULL(mapper_key_of(tables, "x", NULL, "--"));
	CU_ASSERT_PTR_NULL(
	    mapper_key_of(tables, "fireworks-ai", NULL, "accounts/fireworks/models/"));
	CU_ASSERT_PTR_NULL(mapper_key_of(tables, "x", NULL, "~"));
	/* Absurdly long ids are refused rather than analyzed. */
	char *huge = xcalloc(1, 5001);
	memset(huge, '1', 2000);
	memset(huge + 2000, '-', 1000);
	memset(huge + 3000, 'a', 2000);
	CU_ASSERT_PTR_NULL(mapper_key_of(tables, "x", NULL, huge));
	huge[1000] = '\0';
	char *ok = mapper_key_of(tables, "x", NULL, huge);
	CU_ASSERT_PTR_NOT_NULL(ok);
	free(ok);
	free(huge);
}

/* ------------------------------------------------------------ pairs */

struct pair_case {
	struct spec a;
	struct spec b;
	const char *why;
};

static void check_pairs(const struct pair_case *cases, size_t n, bool same)
{
	for (size_t i = 0; i < n; i++) {
		struct fx x;
		fx_init(&x);
		struct mf_record *ra = fx_add(&x, &cases[i].a);
		struct mf_record *rb = fx_add(&x, &cases[i].b);
		fx_map(&x);
		const char *ma = model_of(&x, ra), *mb = model_of(&x, rb);
		if ((strcmp(ma, mb) == 0) != same) {
			fprintf(stderr, "\n%s (%s): %s -> %s, %s -> %s\n", cases[i].why,
				same ? "must merge" : "must not merge", cases[i].a.id, ma,
				cases[i].b.id, mb);
			CU_FAIL("pair");
		}
		fx_free(&x);
	}
}

/* Same model: the rules of SPEC §5 that join spellings. */
static const struct pair_case must_merge[] = {
    {{"modelsdev", "openai", "gpt-4o-2024-05-13", NULL},
     {"arena", NULL, "gpt-4o-2024-05-13", NULL},
     "exact key, family"},
    {{"modelsdev", "anthropic", "claude-3-5-sonnet-20241022", NULL},
     {"modelsdev", "google-vertex-anthropic", "claude-3-5-sonnet@20241022", NULL},
     "Vertex @date"},
    {{"modelsdev", "anthropic", "claude-3-5-sonnet-20241022", NULL},
     {"modelsdev", "amazon-bedrock", "anthropic.claude-3-5-sonnet-20241022-v2:0", NULL},
     "Bedrock -v2:0"},
    {{"modelsdev", "anthropic", "claude-sonnet-4-20250514", NULL},
     {"modelsdev", "amazon-bedrock", "us.anthropic.claude-sonnet-4-20250514-v1:0", NULL},
     "Bedrock region prefix"},
    {{"arena", NULL, "llama-3.1-405b-instruct-bf16", NULL},
     {"openrouter", "openrouter", "meta-llama/llama-3.1-405b-instruct", NULL},
     "arena -bf16"},
    {{"modelsdev", "fireworks-ai", "accounts/fireworks/models/llama-v3p1-8b-instruct", NULL},
     {"openrouter", "openrouter", "meta-llama/llama-3.1-8b-instruct", NULL},
     "Fireworks p for dot"},
    {{"openrouter", "openrouter", "moonshotai/kimi-k2:free", NULL},
     {"modelsdev", "moonshotai", "kimi-k2", NULL},
     "OpenRouter :free"},
    {{"openrouter", "openrouter", "openai/gpt-4o:extended", NULL},
     {"openai", "openai", "gpt-4o", NULL},
     "OpenRouter :extended"},
    {{"openrouter", "openrouter", "x-ai/grok-4", NULL},
     {"xai", "xai", "grok-4", NULL},
     "x-ai is xai"},
    {{"openrouter", "openrouter", "mistralai/mistral-large-2411", NULL},
     {"mistral", "mistral", "mistral-large-2411", NULL},
     "mistralai is mistral"},
    {{"huggingface", NULL, "meta-llama/Llama-3.1-8B-Instruct", "meta-llama"},
     {"openrouter", "openrouter", "meta-llama/llama-3.1-8b-instruct", NULL},
     "case"},
    {{"huggingface", NULL, "meta-llama/Meta-Llama-3.1-8B-Instruct", "meta-llama"},
     {"openrouter", "openrouter", "meta-llama/llama-3.1-8b-instruct", NULL},
     "maker name before its family"},
    {{"gemini", "google", "models/gemini-2.0-flash", NULL},
     {"modelsdev", "google", "gemini-2.0-flash", NULL},
     "Gemini models/ prefix"},
    {{"modelsdev", "github-copilot", "claude-3.5-sonnet", NULL},
     {"modelsdev", "opencode", "claude-3-5-sonnet", NULL},
     "3.5 vs 3-5"},
    {{"modelsdev", "cortecs", "claude-4-5-sonnet", NULL},
     {"modelsdev", "opencode", "claude-sonnet-4-5", NULL},
     "word order"},
    {{"xai", "xai", "grok-4-0709", NULL},
     {"modelsdev", "zenmux", "x-ai/grok-4-07-09", NULL},
     "month-day spellings"},
    {{"mistral", "mistral", "mistral-large-2407", NULL},
     {"modelsdev", "scaleway", "mistral-large-2024-07", NULL},
     "Mistral year-month"},
    {{"modelsdev", "cohere", "command-r-08-2024", NULL},
     {"modelsdev", "x", "cohere/command-r-2024-08", NULL},
     "Cohere month-year"},
    {{"openai", "openai", "gpt-4-0613", NULL},
     {"modelsdev", "azure", "gpt-4-06-13", NULL},
     "OpenAI month-day"},
    {{"huggingface", NULL, "Qwen/Qwen2.5-7B-Instruct-AWQ", "Qwen"},
     {"huggingface", NULL, "Qwen/Qwen2.5-7B-Instruct", "Qwen"},
     "AWQ packaging"},
    {{"modelsdev", "nebius", "nvidia/llama-3_1-nemotron-ultra-253b-v1", NULL},
     {"openrouter", "openrouter", "nvidia/llama-3.1-nemotron-ultra-253b-v1", NULL},
     "underscores"},
    {{"modelsdev", "google", "gemini-3.0-pro-preview", NULL},
     {"gemini", "google", "gemini-3-pro-preview", NULL},
     "trailing .0"},
    {{"modelsdev", "synthetic", "hf:Qwen/Qwen3-235B-A22B", NULL},
     {"huggingface", NULL, "Qwen/Qwen3-235B-A22B", "Qwen"},
     "hf: prefix"},
    {{"arena", NULL, "amazon-nova-pro-v1.0", NULL},
     {"openrouter", "openrouter", "amazon/nova-pro-v1", NULL},
     "maker name in front, v1.0"},
    {{"arena", NULL, "llama-3.1-nemotron-70b-instruct", NULL},
     {"openrouter", "openrouter", "nvidia/llama-3.1-nemotron-70b-instruct", NULL},
     "nemotron token"},
    {{"modelsdev", "ollama-cloud", "gemma3:27b", NULL},
     {"modelsdev", "x", "google/gemma-3-27b", NULL},
     "Ollama tag"},
    {{"groq", "groq", "llama-3.3-70b-versatile", "Meta"},
     {"modelsdev", "groq", "llama-3.3-70b-versatile", NULL},
     "owned_by as maker"},
    {{"modelsdev", "cloudflare-workers-ai", "@cf/meta/llama-3.1-8b-instruct", NULL},
     {"huggingface", NULL, "meta-llama/Llama-3.1-8B-Instruct", "meta-llama"},
     "@cf path"},
    {{"modelsdev", "deepinfra", "deepseek-ai/DeepSeek-V3.1", NULL},
     {"modelsdev", "iflowcn", "deepseek-v3.1", NULL},
     "v-version"},
};

/* Different models that look alike: size, tier, generation, snapshot,
 * variant, effort, pointer, maker. */
static const struct pair_case must_not_merge[] = {
    {{"openrouter", "openrouter", "meta-llama/llama-3.1-8b-instruct", NULL},
     {"openrouter", "openrouter", "meta-llama/llama-3.1-70b-instruct", NULL},
     "size 8b/70b"},
    {{"modelsdev", "openai", "gpt-4o", NULL},
     {"modelsdev", "openai", "gpt-4o-mini", NULL},
     "tier mini"},
    {{"modelsdev", "openai", "gpt-4.1-mini", NULL},
     {"modelsdev", "openai", "gpt-4.1-nano", NULL},
     "tier mini/nano"},
    {{"modelsdev", "google", "gemini-2.0-flash", NULL},
     {"modelsdev", "google", "gemini-2.0-flash-lite", NULL},
     "tier lite"},
    {{"modelsdev", "google", "gemini-2.5-pro", NULL},
     {"modelsdev", "google", "gemini-2.5-flash", NULL},
     "tier pro/flash"},
    {{"openai", "openai", "gpt-4-turbo", NULL}, {"openai", "openai", "gpt-4", NULL}, "tier turbo"},
    {{"openai", "openai", "o3", NULL}, {"openai", "openai", "o3-pro", NULL}, "tier pro"},
    {{"openrouter", "openrouter", "anthropic/claude-3.5-sonnet", NULL},
     {"openrouter", "openrouter", "anthropic/claude-3.7-sonnet", NULL},
     "generation 3.5/3.7"},
    {{"modelsdev", "openai", "gpt-4o", NULL},
     {"modelsdev", "openai", "gpt-4.1", NULL},
     "generation 4o/4.1"},
    {{"modelsdev", "anthropic", "claude-opus-4", NULL},
     {"modelsdev", "anthropic", "claude-opus-4-1", NULL},
     "generation 4/4.1"},
    {{"huggingface", NULL, "Qwen/Qwen2.5-72B-Instruct", "Qwen"},
     {"huggingface", NULL, "Qwen/Qwen2-72B-Instruct", "Qwen"},
     "generation 2.5/2"},
    {{"arena", NULL, "llama-3-70b-instruct", NULL},
     {"arena", NULL, "llama-3.1-70b-instruct", NULL},
     "generation 3/3.1"},
    {{"arena", NULL, "deepseek-v3", NULL},
     {"arena", NULL, "deepseek-v3.1", NULL},
     "generation v3/v3.1"},
    {{"openai", "openai", "gpt-4o-2024-05-13", NULL},
     {"openai", "openai", "gpt-4o-2024-08-06", NULL},
     "dated snapshots"},
    {{"openai", "openai", "gpt-4-0613", NULL},
     {"openai", "openai", "gpt-4-0314", NULL},
     "month-day snapshots"},
    {{"mistral", "mistral", "mistral-large-2407", NULL},
     {"mistral", "mistral", "mistral-large-2411", NULL},
     "year-month snapshots"},
    {{"modelsdev", "openai", "gpt-4o", NULL},
     {"arena", NULL, "gpt-4o-2024-05-13", NULL},
     "undated vs dated without evidence"},
    {{"modelsdev", "google", "gemini-2.5-pro-preview", NULL},
     {"modelsdev", "google", "gemini-2.5-pro-preview-05-06", NULL},
     "preview pointer vs dated"},
    {{"modelsdev", "google", "gemini-2.0-flash-exp", NULL},
     {"modelsdev", "google", "gemini-2.0-flash", NULL},
     "exp"},
    {{"huggingface", NULL, "meta-llama/Llama-3.1-405B", "meta-llama"},
     {"huggingface", NULL, "meta-llama/Llama-3.1-405B-Instruct", "meta-llama"},
     "base vs instruct"},
    {{"huggingface", NULL, "Qwen/Qwen2.5-VL-7B-Instruct", "Qwen"},
     {"huggingface", NULL, "Qwen/Qwen2.5-7B-Instruct", "Qwen"},
     "vision variant"},
    {{"xai", "xai", "grok-2-vision-1212", NULL},
     {"xai", "xai", "grok-2-1212", NULL},
     "vision variant"},
    {{"openrouter", "openrouter", "anthropic/claude-3.7-sonnet:thinking", NULL},
     {"openrouter", "openrouter", "anthropic/claude-3.7-sonnet", NULL},
     ":thinking variant"},
    {{"modelsdev", "moonshotai", "kimi-k2-thinking", NULL},
     {"modelsdev", "moonshotai", "kimi-k2", NULL},
     "thinking variant"},
    {{"arena", NULL, "gpt-5-high", NULL}, {"modelsdev", "openai", "gpt-5", NULL}, "effort -high"},
    {{"openrouter", "openrouter", "openai/o3-mini-high", NULL},
     {"modelsdev", "openai", "o3-mini", NULL},
     "effort -high"},
    {{"modelsdev", "mistral", "mistral-large-latest", NULL},
     {"modelsdev", "mistral", "mistral-large-2411", NULL},
     "moving pointer"},
    {{"arena", NULL, "phi-3-mini-4k-instruct", NULL},
     {"arena", NULL, "phi-3-mini-128k-instruct", NULL},
     "context variant"},
    {{"huggingface", NULL, "unsloth/Llama-3.2-1B-Instruct", "unsloth"},
     {"huggingface", NULL, "meta-llama/Llama-3.2-1B-Instruct", "meta-llama"},
     "another org's copy"},
    {{"huggingface", NULL, "Qwen/Qwen3-235B-A22B", "Qwen"},
     {"arena", NULL, "qwen3-235b-a22b-instruct-2507", NULL},
     "undated vs the 2507 release"},
    {{"groq", "groq", "llama3-70b-8192", NULL},
     {"arena", NULL, "llama-3-70b", NULL},
     "8192 is no date and no noise"},
    {{"modelsdev", "openai", "gpt-5", NULL},
     {"modelsdev", "openai", "gpt-5-chat", NULL},
     "chat variant"},
};

static void test_must_merge(void)
{
	check_pairs(must_merge, sizeof must_merge / sizeof must_merge[0], true);
}

static void test_must_not_merge(void)
{
	/* At least as many hard negatives as positives. */
	CU_ASSERT_TRUE(sizeof must_not_merge / sizeof must_not_merge[0] >=
		       sizeof must_merge / sizeof must_merge[0]);
	check_pairs(must_not_merge, sizeof must_not_merge / sizeof must_not_merge[0], false);
}

/* ------------------------------------------------------------ crosswalks */

static void test_crosswalk_hf_id_and_slug(void)
{
	struct fx x;
	fx_init(&x);
	/* hf_id adds "instruct": followed. */
	struct mf_record *qo = fx_add(
	    &x, &(struct spec){"openrouter", "openrouter", "qwen/qwen3-235b-a22b-2507", NULL});
	record_set_string(qo, MF_FIELD_HF_ID, "Qwen/Qwen3-235B-A22B-Instruct-2507");
	record_set_string(qo, MF_FIELD_CANONICAL_SLUG, "qwen/qwen3-235b-a22b-07-25");
	struct mf_record *qh = fx_add(
	    &x, &(struct spec){"huggingface", NULL, "Qwen/Qwen3-235B-A22B-Instruct-2507", "Qwen"});
	/* models.dev lists OpenRouter's id too: it follows the same node. */
	struct mf_record *qm = fx_add(
	    &x, &(struct spec){"modelsdev", "openrouter", "qwen/qwen3-235b-a22b-2507", NULL});
	/* canonical_slug adds a date: followed, and the undated models.dev
	 * listing of the maker joins as well. */
	struct mf_record *go =
	    fx_add(&x, &(struct spec){"openrouter", "openrouter", "openai/gpt-4.1", NULL});
	record_set_string(go, MF_FIELD_CANONICAL_SLUG, "openai/gpt-4.1-2025-04-14");
	struct mf_record *ga =
	    fx_add(&x, &(struct spec){"openai", "openai", "gpt-4.1-2025-04-14", NULL});
	struct mf_record *gm = fx_add(&x, &(struct spec){"modelsdev", "openai", "gpt-4.1", NULL});
	/* A slug in another word order still lands. */
	struct mf_record *ho = fx_add(
	    &x, &(struct spec){"openrouter", "openrouter", "anthropic/claude-haiku-4.5", NULL});
	record_set_string(ho, MF_FIELD_CANONICAL_SLUG, "anthropic/claude-4.5-haiku-20251001");
	struct mf_record *ha =
	    fx_add(&x, &(struct spec){"anthropic", "anthropic", "claude-haiku-4-5-20251001", NULL});
	/* A slug that names another generation is refused (Qwen2 vs 2.5). */
	struct mf_record *vo = fx_add(
	    &x, &(struct spec){"openrouter", "openrouter", "qwen/qwen-2.5-vl-7b-instruct", NULL});
	record_set_string(vo, MF_FIELD_CANONICAL_SLUG, "qwen/qwen-2-vl-7b-instruct");
	struct mf_record *vh =
	    fx_add(&x, &(struct spec){"huggingface", NULL, "Qwen/Qwen2-VL-7B-Instruct", "Qwen"});
	/* Another date instead of the own one is refused. */
	struct mf_record *po =
	    fx_add(&x, &(struct spec){"openrouter", "openrouter",
				      "google/gemini-2.5-pro-preview-05-06", NULL});
	record_set_string(po, MF_FIELD_CANONICAL_SLUG, "google/gemini-2.5-pro-preview-03-25");
	struct mf_record *pg =
	    fx_add(&x, &(struct spec){"modelsdev", "google", "gemini-2.5-pro-preview-03-25", NULL});
	/* Dropping "chat" and adding a version at once is refused... */
	struct mf_record *dc =
	    fx_add(&x, &(struct spec){"openrouter", "openrouter", "deepseek/deepseek-chat", NULL});
	record_set_string(dc, MF_FIELD_HF_ID, "deepseek-ai/DeepSeek-V3");
	struct mf_record *dv = fx_add(
	    &x, &(struct spec){"huggingface", NULL, "deepseek-ai/DeepSeek-V3", "deepseek-ai"});
	/* ... dropping "chat" alone is followed. */
	struct mf_record *d1 = fx_add(
	    &x, &(struct spec){"openrouter", "openrouter", "deepseek/deepseek-chat-v3.1", NULL});
	record_set_string(d1, MF_FIELD_HF_ID, "deepseek-ai/DeepSeek-V3.1");
	struct mf_record *d1h = fx_add(
	    &x, &(struct spec){"huggingface", NULL, "deepseek-ai/DeepSeek-V3.1", "deepseek-ai"});
	/* Another maker is refused. */
	struct mf_record *co =
	    fx_add(&x, &(struct spec){"openrouter", "openrouter",
				      "cognitivecomputations/dolphin-24b", NULL});
	record_set_string(co, MF_FIELD_CANONICAL_SLUG, "venice/dolphin-24b-v2");
	struct mf_record *cv =
	    fx_add(&x, &(struct spec){"modelsdev", "venice", "venice/dolphin-24b-v2", NULL});
	/* A target nobody lists changes nothing. */
	struct mf_record *lo =
	    fx_add(&x, &(struct spec){"openrouter", "openrouter", "openai/o3", NULL});
	record_set_string(lo, MF_FIELD_CANONICAL_SLUG, "openai/o3-2025-04-16");
	fx_map(&x);

	CU_ASSERT_STRING_EQUAL(model_of(&x, qo), "qwen/qwen3-235b-a22b-instruct-2507");
	CU_ASSERT_STRING_EQUAL(model_of(&x, qh), model_of(&x, qo));
	CU_ASSERT_STRING_EQUAL(model_of(&x, qm), model_of(&x, qo));
	const struct mapping_entry *e = entry_of(&x, qo);
	CU_ASSERT_STRING_EQUAL(e->rule, MAPPER_RULE_CROSSWALK);
	CU_ASSERT_STRING_EQUAL(e->key, "Qwen/Qwen3-235B-A22B-Instruct-2507");
	CU_ASSERT_STRING_EQUAL(e->evidence, "hf_id of openrouter:qwen/qwen3-235b-a22b-2507");
	CU_ASSERT_STRING_EQUAL(entry_of(&x, qm)->rule, MAPPER_RULE_CROSSWALK);
	CU_ASSERT_STRING_EQUAL(entry_of(&x, qh)->rule, MAPPER_RULE_EXACT);

	CU_ASSERT_STRING_EQUAL(model_of(&x, go), "openai/gpt-4.1-2025-04-14");
	CU_ASSERT_STRING_EQUAL(model_of(&x, ga), "openai/gpt-4.1-2025-04-14");
	CU_ASSERT_STRING_EQUAL(model_of(&x, gm), "openai/gpt-4.1-2025-04-14");
	CU_ASSERT_STRING_EQUAL(model_of(&x, ho), "anthropic/claude-haiku-4-5-20251001");
	CU_ASSERT_STRING_EQUAL(model_of(&x, ha), "anthropic/claude-haiku-4-5-20251001");

	CU_ASSERT_STRING_NOT_EQUAL(model_of(&x, vo), model_of(&x, vh));
	CU_ASSERT_STRING_NOT_EQUAL(model_of(&x, po), model_of(&x, pg));
	CU_ASSERT_STRING_NOT_EQUAL(model_of(&x, dc), model_of(&x, dv));
	CU_ASSERT_STRING_EQUAL(model_of(&x, d1), model_of(&x, d1h));
	CU_ASSERT_STRING_NOT_EQUAL(model_of(&x, co), model_of(&x, cv));
	CU_ASSERT_STRING_EQUAL(model_of(&x, lo), "openai/o3");
	CU_ASSERT_STRING_EQUAL(entry_of(&x, lo)->rule, MAPPER_RULE_UNALIGNED);
	fx_free(&x);
}

static void test_crosswalk_aliases_and_pointers(void)
{
	struct fx x;
	fx_init(&x);
	/* xAI: the dated entry lists the undated id and a -latest pointer. */
	struct mf_record *xd = fx_add(&x, &(struct spec){"xai", "xai", "grok-4-0709", NULL});
	record_list_add(xd, MF_FIELD_ALIASES, "grok-4");
	record_list_add(xd, MF_FIELD_ALIASES, "grok-4-latest");
	struct mf_record *xu = fx_add(&x, &(struct spec){"modelsdev", "xai", "grok-4", NULL});
	struct mf_record *xl =
	    fx_add(&x, &(struct spec){"modelsdev", "xai", "grok-4-latest", NULL});
	/* Mistral: the undated entry lists its dated snapshot. */
	struct mf_record *pu =
	    fx_add(&x, &(struct spec){"mistral", "mistral", "pixtral-12b", NULL});
	record_list_add(pu, MF_FIELD_ALIASES, "pixtral-12b-2409");
	record_list_add(pu, MF_FIELD_ALIASES, "pixtral-12b-latest");
	struct mf_record *pd =
	    fx_add(&x, &(struct spec){"modelsdev", "mistral", "pixtral-12b-2409", NULL});
	/* An alias that names another model is no evidence. */
	struct mf_record *ms =
	    fx_add(&x, &(struct spec){"mistral", "mistral", "mistral-small", NULL});
	record_list_add(ms, MF_FIELD_ALIASES, "open-mixtral-8x7b");
	struct mf_record *mx =
	    fx_add(&x, &(struct spec){"modelsdev", "mistral", "open-mixtral-8x7b", NULL});
	/* OpenRouter's ~ pointer with an alias_target never joins it. */
	struct mf_record *tp = fx_add(&x, &(struct spec){"openrouter", "openrouter",
							 "~anthropic/claude-sonnet-latest", NULL});
	record_set_string(tp, MF_FIELD_ALIAS_TARGET, "anthropic/claude-sonnet-4.5");
	record_set_bool(tp, MF_FIELD_MOVING_POINTER, true);
	struct mf_record *ts = fx_add(
	    &x, &(struct spec){"openrouter", "openrouter", "anthropic/claude-sonnet-4.5", NULL});
	/* A non-pointer alias_target is followed when compatible. */
	struct mf_record *at = fx_add(
	    &x, &(struct spec){"openrouter", "openrouter", "anthropic/claude-opus-4.1", NULL});
	record_set_string(at, MF_FIELD_ALIAS_TARGET, "anthropic/claude-opus-4-1-20250805");
	struct mf_record *ad =
	    fx_add(&x, &(struct spec){"anthropic", "anthropic", "claude-opus-4-1-20250805", NULL});
	/* Gemini's version names the -NNN snapshot. */
	struct mf_record *gv =
	    fx_add(&x, &(struct spec){"gemini", "google", "models/gemini-1.5-pro", NULL});
	record_set_string(gv, MF_FIELD_VERSION, "002");
	struct mf_record *ga =
	    fx_add(&x, &(struct spec){"arena", NULL, "gemini-1.5-pro-002", NULL});
	/* ... but not a version label that is not a snapshot number. */
	struct mf_record *gl =
	    fx_add(&x, &(struct spec){"gemini", "google", "models/gemini-2.0-flash", NULL});
	record_set_string(gl, MF_FIELD_VERSION, "2.0");
	struct mf_record *g1 =
	    fx_add(&x, &(struct spec){"arena", NULL, "gemini-2.0-flash-001", NULL});
	fx_map(&x);

	CU_ASSERT_STRING_EQUAL(model_of(&x, xu), "xai/grok-4-0709");
	CU_ASSERT_STRING_EQUAL(model_of(&x, xd), "xai/grok-4-0709");
	CU_ASSERT_STRING_EQUAL(entry_of(&x, xu)->rule, MAPPER_RULE_CROSSWALK);
	CU_ASSERT_STRING_EQUAL(entry_of(&x, xu)->evidence, "aliases of xai:grok-4-0709");
	CU_ASSERT_STRING_EQUAL(model_of(&x, xl), "xai/grok-4-latest");
	CU_ASSERT_STRING_EQUAL(model_of(&x, pu), "mistral/pixtral-12b-2409");
	CU_ASSERT_STRING_EQUAL(model_of(&x, pd), "mistral/pixtral-12b-2409");
	CU_ASSERT_STRING_NOT_EQUAL(model_of(&x, ms), model_of(&x, mx));
	CU_ASSERT_STRING_EQUAL(model_of(&x, tp), "anthropic/claude-sonnet-latest");
	CU_ASSERT_STRING_NOT_EQUAL(model_of(&x, tp), model_of(&x, ts));
	CU_ASSERT_STRING_EQUAL(model_of(&x, at), "anthropic/claude-opus-4-1-20250805");
	CU_ASSERT_STRING_EQUAL(model_of(&x, ad), model_of(&x, at));
	CU_ASSERT_STRING_EQUAL(model_of(&x, gv), "google/gemini-1.5-pro-002");
	CU_ASSERT_STRING_EQUAL(model_of(&x, ga), model_of(&x, gv));
	CU_ASSERT_STRING_NOT_EQUAL(model_of(&x, gl), model_of(&x, g1));
	fx_free(&x);
}

static void test_crosswalk_ambiguous_and_cycles(void)
{
	struct fx x;
	fx_init(&x);
	/* Two records say "mistral-small" is two different snapshots: no
	 * match at all, and explain says why. */
	struct mf_record *a =
	    fx_add(&x, &(struct spec){"mistral", "mistral", "mistral-small-2312", NULL});
	record_list_add(a, MF_FIELD_ALIASES, "mistral-small");
	struct mf_record *b =
	    fx_add(&x, &(struct spec){"modelsdev", "mistral", "mistral-small-2503", NULL});
	record_list_add(b, MF_FIELD_ALIASES, "mistral-small");
	struct mf_record *u =
	    fx_add(&x, &(struct spec){"modelsdev", "x", "mistralai/mistral-small", NULL});
	struct mf_record *u2 =
	    fx_add(&x, &(struct spec){"openrouter", "openrouter", "mistralai/mistral-small", NULL});
	/* A cycle of evidence (each says the other is its date) is broken
	 * deterministically and still makes one model. */
	struct mf_record *c1 =
	    fx_add(&x, &(struct spec){"openrouter", "openrouter", "z-ai/glm-4-32b", NULL});
	record_set_string(c1, MF_FIELD_CANONICAL_SLUG, "z-ai/glm-4-32b-0414");
	struct mf_record *c2 =
	    fx_add(&x, &(struct spec){"modelsdev", "zai", "glm-4-32b-0414", NULL});
	record_list_add(c2, MF_FIELD_ALIASES, "glm-4-32b");
	fx_map(&x);
	CU_ASSERT_STRING_EQUAL(model_of(&x, u), "mistral/mistral-small");
	CU_ASSERT_STRING_EQUAL(model_of(&x, u2), "mistral/mistral-small");
	CU_ASSERT_STRING_EQUAL(model_of(&x, a), "mistral/mistral-small-2312");
	CU_ASSERT_STRING_EQUAL(model_of(&x, b), "mistral/mistral-small-2503");
	const struct mapping_entry *e = entry_of(&x, u);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e->evidence);
	CU_ASSERT_PTR_NOT_NULL(strstr(e->evidence, "ambiguous"));
	CU_ASSERT_STRING_EQUAL(model_of(&x, c1), "zai/glm-4-32b-0414");
	CU_ASSERT_STRING_EQUAL(model_of(&x, c2), "zai/glm-4-32b-0414");
	fx_free(&x);
}

/* ------------------------------------------------------------ decisions */

static void test_rules_and_display(void)
{
	struct fx x;
	fx_init(&x);
	/* The maker's own spelling names the model, whatever the order. */
	struct mf_record *r1 =
	    fx_add(&x, &(struct spec){"openrouter", "openrouter",
				      "anthropic/claude-3.5-haiku-20241022", NULL});
	struct mf_record *r2 =
	    fx_add(&x, &(struct spec){"modelsdev", "anthropic", "claude-3-5-haiku-20241022", NULL});
	struct mf_record *r3 =
	    fx_add(&x, &(struct spec){"modelsdev", "amazon-bedrock",
				      "anthropic.claude-3-5-haiku-20241022-v1:0", NULL});
	/* Without the maker, a Hugging Face repo of the maker's org. */
	struct mf_record *h1 =
	    fx_add(&x, &(struct spec){"openrouter", "openrouter",
				      "meta-llama/llama-3.3-70b-instruct:free", NULL});
	struct mf_record *h2 =
	    fx_add(&x, &(struct spec){"huggingface", NULL, "meta-llama/Llama-3.3-70B-Instruct",
				      "meta-llama"});
	/* Else the spelling most records share. */
	fx_add(&x, &(struct spec){"modelsdev", "a", "deepseek-v3-1", NULL});
	struct mf_record *v2 = fx_add(&x, &(struct spec){"modelsdev", "b", "deepseek-v3.1", NULL});
	fx_add(&x, &(struct spec){"modelsdev", "c", "deepseek-ai/deepseek-v3.1", NULL});
	/* Alone: unaligned, with its own key. */
	struct mf_record *alone = fx_add(&x, &(struct spec){"arena", NULL, "koala-13b-v2", NULL});
	/* The same id twice in one source and provider is still alone. */
	struct mf_record *f1 =
	    fx_add(&x, &(struct spec){"openrouter", "openrouter", "z/thing:free", NULL});
	struct mf_record *f2 =
	    fx_add(&x, &(struct spec){"openrouter", "openrouter", "z/thing", NULL});
	fx_map(&x);

	CU_ASSERT_STRING_EQUAL(model_of(&x, r1), "anthropic/claude-3-5-haiku-20241022");
	CU_ASSERT_STRING_EQUAL(model_of(&x, r3), "anthropic/claude-3-5-haiku-20241022");
	const struct mapping_entry *e = entry_of(&x, r2);
	CU_ASSERT_STRING_EQUAL(e->rule, MAPPER_RULE_EXACT);
	CU_ASSERT_STRING_EQUAL(e->key, "anthropic/claude-3-5-haiku-20241022");
	CU_ASSERT_STRING_EQUAL(e->maker, "anthropic");
	CU_ASSERT_STRING_EQUAL(e->maker_rule, "provider");
	CU_ASSERT_TRUE(e->first_party);
	e = entry_of(&x, r1);
	CU_ASSERT_STRING_EQUAL(e->rule, MAPPER_RULE_NORMALIZED);
	CU_ASSERT_STRING_EQUAL(e->key, "anthropic/3.5-claude-d20241022-haiku");
	CU_ASSERT_STRING_EQUAL(e->maker_rule, "namespace");
	CU_ASSERT_FALSE(e->first_party);
	CU_ASSERT_STRING_EQUAL(entry_of(&x, r3)->rule, MAPPER_RULE_EXACT);

	CU_ASSERT_STRING_EQUAL(model_of(&x, h1), "meta/llama-3.3-70b-instruct");
	CU_ASSERT_STRING_EQUAL(model_of(&x, h2), "meta/llama-3.3-70b-instruct");
	CU_ASSERT_STRING_EQUAL(entry_of(&x, h2)->maker_rule, "namespace");

	CU_ASSERT_STRING_EQUAL(model_of(&x, v2), "deepseek/deepseek-v3.1");

	e = entry_of(&x, alone);
	CU_ASSERT_STRING_EQUAL(e->rule, MAPPER_RULE_UNALIGNED);
	CU_ASSERT_STRING_EQUAL(e->model_id, "unknown/koala-13b-v2");
	CU_ASSERT_STRING_EQUAL(e->key, "unknown/13b-2-koala");
	CU_ASSERT_STRING_EQUAL(e->maker_rule, "none");
	CU_ASSERT_STRING_EQUAL(model_of(&x, f1), "z/thing");
	CU_ASSERT_STRING_EQUAL(entry_of(&x, f1)->rule, MAPPER_RULE_UNALIGNED);
	CU_ASSERT_STRING_EQUAL(entry_of(&x, f2)->rule, MAPPER_RULE_UNALIGNED);
	CU_ASSERT_STRING_EQUAL(entry_of(&x, f1)->maker_rule, "org");
	fx_free(&x);
}

static void test_order_and_bad_ids(void)
{
	struct fx x;
	fx_init(&x);
	struct spec specs[] = {
	    {"modelsdev", "openai", "gpt-4o", NULL},
	    {"modelsdev", "openai", "", NULL},
	    {"modelsdev", "openai", "models/", NULL},
	    {"openrouter", "openrouter", "openai/gpt-4o", NULL},
	    {"modelsdev", "openai", "o3", NULL},
	    {"modelsdev", "openai", " -- ", NULL},
	};
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
		fx_add(&x, &specs[i]);
	fx_map(&x);
	CU_ASSERT_EQUAL_FATAL(x.map.count, 3);
	CU_ASSERT_EQUAL(x.map.dropped, 3);
	/* Sources in config order, records in their order. */
	CU_ASSERT_EQUAL(x.map.items[0].position, 0);
	CU_ASSERT_STRING_EQUAL(x.map.items[0].model_id, "openai/gpt-4o");
	CU_ASSERT_EQUAL(x.map.items[1].position, 3);
	CU_ASSERT_STRING_EQUAL(x.map.items[1].model_id, "openai/o3");
	CU_ASSERT_PTR_EQUAL(x.map.items[2].result, &x.res[1]);
	CU_ASSERT_EQUAL(x.map.items[2].position, 0);
	CU_ASSERT_STRING_EQUAL(x.map.items[2].model_id, "openai/gpt-4o");
	mapping_free(&x.map);
	CU_ASSERT_EQUAL(x.map.count, 0);
	x.mapped = false;
	fx_free(&x);

	/* No records at all. */
	fx_init(&x);
	fx_map(&x);
	CU_ASSERT_EQUAL(x.map.count, 0);
	CU_ASSERT_PTR_NULL(x.map.items);
	fx_free(&x);
}

/* Whatever an upstream sends, the mapper answers without crashing: a
 * model id for every usable id, a drop for the rest. */
static void test_hostile_ids(void)
{
	static const char *const ids[] = {
	    "////",
	    "@@@",
	    "::::",
	    ".",
	    "a.b.c",
	    "-v1:0",
	    "us.",
	    "x:free:free",
	    "accounts/fireworks/models/x:free",
	    "~~~",
	    "models/models/x",
	    "hf:",
	    "hf:/",
	    "\xc3\xa9t\xc3\xa9-7b",
	    "\xff\xfe",
	    "1-2-3-4-5-6-7-8-9-10-11-12",
	    "2024-13-45",
	    "a-2024-02-30",
	    "v",
	    "v.",
	    "p1p2p3",
	    "...",
	    "-",
	    "@",
	    "meta-",
	    "meta-meta-meta",
	    "us.anthropic.",
	    "anthropic.",
	    "x@",
	    "@20241022",
	    "gpt-4o:thinking:free",
	};
	struct fx x;
	fx_init(&x);
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		fx_add(&x, &(struct spec){"modelsdev", "fireworks-ai", ids[i], NULL});
		struct mf_record *r =
		    fx_add(&x, &(struct spec){"openrouter", "openrouter", ids[i], NULL});
		record_set_string(r, MF_FIELD_CANONICAL_SLUG, ids[i]);
		record_set_string(r, MF_FIELD_HF_ID, ids[(i + 1) % (sizeof ids / sizeof ids[0])]);
		record_list_add(r, MF_FIELD_ALIASES, ids[(i + 2) % (sizeof ids / sizeof ids[0])]);
		record_set_string(r, MF_FIELD_VERSION, "001");
	}
	fx_map(&x);
	CU_ASSERT_EQUAL(x.map.count + x.map.dropped, 2 * (sizeof ids / sizeof ids[0]));
	for (size_t i = 0; i < x.map.count; i++) {
		const struct mapping_entry *e = &x.map.items[i];
		CU_ASSERT_PTR_NOT_NULL(strchr(e->model_id, '/'));
		CU_ASSERT_EQUAL(strncmp(e->model_id, e->maker, strlen(e->maker)), 0);
		CU_ASSERT_PTR_NOT_NULL(e->key);
	}
	fx_free(&x);
}

/* The same records in any config order give the same model ids. */
static void test_order_independent(void)
{
	static const struct spec specs[] = {
	    {"openrouter", "openrouter", "anthropic/claude-3.5-haiku-20241022", NULL},
	    {"modelsdev", "anthropic", "claude-3-5-haiku-20241022", NULL},
	    {"huggingface", NULL, "meta-llama/Llama-3.3-70B-Instruct", "meta-llama"},
	    {"openrouter", "openrouter", "meta-llama/llama-3.3-70b-instruct", NULL},
	    {"arena", NULL, "llama-3.3-70b-instruct", NULL},
	    {"modelsdev", "a", "deepseek-v3-1", NULL},
	    {"modelsdev", "b", "deepseek-v3.1", NULL},
	    {"openrouter", "openrouter", "deepseek/deepseek-v3.1", NULL},
	    {"xai", "xai", "grok-4-0709", NULL},
	    {"modelsdev", "xai", "grok-4", NULL},
	};
	size_t n = sizeof specs / sizeof specs[0];
	char *first[16] = {NULL};
	for (int round = 0; round < 4; round++) {
		struct fx x;
		fx_init(&x);
		struct mf_record *recs[16];
		/* Round 0 in order, then rotated and reversed. */
		for (size_t k = 0; k < n; k++) {
			size_t i = round == 0	? k
				   : round == 1 ? n - 1 - k
						: (k + (size_t)round) % n;
			recs[i] = fx_add(&x, &specs[i]);
		}
		fx_map(&x);
		for (size_t i = 0; i < n; i++) {
			if (round == 0) {
				first[i] = xstrdup(model_of(&x, recs[i]));
			} else if (strcmp(first[i], model_of(&x, recs[i])) != 0) {
				fprintf(stderr, "\nround %d: %s -> %s, was %s\n", round,
					specs[i].id, model_of(&x, recs[i]), first[i]);
				CU_FAIL("order dependent");
			}
		}
		fx_free(&x);
	}
	for (size_t i = 0; i < n; i++)
		free(first[i]);
}

/* Hash indexes only: 60000 records map in well under a few seconds even
 * under valgrind's slowdown, and doubling the input does not quadruple
 * the time. */
static double map_synthetic(size_t n)
{
	struct fx x;
	fx_init(&x);
	char id[96];
	for (size_t i = 0; i < n; i++) {
		snprintf(id, sizeof id, "vendor%zu/model-%zu-%zub-instruct", i % 97, i / 3, i % 5);
		struct spec sp = {
		    .source = i % 2 ? "openrouter" : "modelsdev",
		    .provider = i % 2 ? "openrouter" : "p",
		    .id = id,
		};
		struct mf_record *r = fx_add(&x, &sp);
		if (i % 7 == 0) {
			snprintf(id, sizeof id, "vendor%zu/model-%zu-%zub-instruct-2025-01-01",
				 i % 97, i / 3, i % 5);
			record_set_string(r, MF_FIELD_CANONICAL_SLUG, id);
		}
	}
	clock_t start = clock();
	fx_map(&x);
	double secs = (double)(clock() - start) / CLOCKS_PER_SEC;
	CU_ASSERT_EQUAL(x.map.count, n);
	fx_free(&x);
	return secs;
}

static void test_linear(void)
{
	double small = map_synthetic(15000);
	double big = map_synthetic(60000);
	/* Quadratic would be 16x; allow noise well below that. */
	if (small > 0.05)
		CU_ASSERT_TRUE(big < small * 9);
	CU_ASSERT_TRUE(big < 60);
}

/* ------------------------------------------------------------ overrides */

static char *write_tmp(const char *dir, const char *name, const char *text)
{
	return tu_write_file(dir, name, text);
}

static void test_overrides(void)
{
	char *dir = tu_tmpdir();
	char *makers = tu_srcpath("data/makers.json");
	char *ov =
	    write_tmp(dir, "ov.json",
		      "{\"about\": \"test\",\n"
		      " \"models\": [\n"
		      "  {\"id\": \"amazon.nova-pro-v1:0\", \"provider\": \"amazon-bedrock\",\n"
		      "   \"model\": \"amazon/nova-pro-v1\", \"reason\": \"Bedrock adds :0\"},\n"
		      "  {\"id\": \"mystery-model\", \"source\": \"arena\",\n"
		      "   \"model\": \"acme/mystery\", \"reason\": \"arena name\"},\n"
		      "  {\"id\": \"mystery-model\", \"source\": \"anyllm\",\n"
		      "   \"model\": \"acme/mystery-2\", \"reason\": \"plugin match\"}\n"
		      " ],\n"
		      " \"providers\": [{\"name\": \"acme-cloud\", \"maker\": \"acme\",\n"
		      "   \"reason\": \"acme's own API\"}],\n"
		      " \"families\": [{\"prefix\": \"koala\", \"maker\": \"berkeley\",\n"
		      "   \"reason\": \"Berkeley's Koala\"}]\n"
		      "}\n");
	struct errors errs = {0};
	struct mapper_tables *t = mapper_tables_load_files(makers, ov, &errs);
	errors_print(&errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(mapper_tables_override_count(t), 5);
	CU_ASSERT_STRING_EQUAL(mapper_maker_of(t, "acme-cloud"), "acme");
	CU_ASSERT_STRING_EQUAL(mapper_infer_maker(t, "koala-13b"), "berkeley");

	struct fx x;
	fx_init(&x);
	struct mf_record *bedrock =
	    fx_add(&x, &(struct spec){"modelsdev", "amazon-bedrock", "amazon.nova-pro-v1:0", NULL});
	struct mf_record *other_host =
	    fx_add(&x, &(struct spec){"modelsdev", "elsewhere", "amazon.nova-pro-v1:0", NULL});
	struct mf_record *orr =
	    fx_add(&x, &(struct spec){"openrouter", "openrouter", "amazon/nova-pro-v1", NULL});
	struct mf_record *ar = fx_add(&x, &(struct spec){"arena", NULL, "mystery-model", NULL});
	struct mf_record *oa =
	    fx_add(&x, &(struct spec){"openai", "openai", "Mystery-Model", NULL});
	struct mf_record *md = fx_add(&x, &(struct spec){"modelsdev", "p", "mystery-model", NULL});
	struct mf_record *at = fx_add(&x, &(struct spec){"arena", NULL, "koala-13b", NULL});
	struct mf_record *ac =
	    fx_add(&x, &(struct spec){"modelsdev", "acme-cloud", "rocket-1", NULL});
	fx_map_with(&x, t);
	CU_ASSERT_STRING_EQUAL(model_of(&x, bedrock), "amazon/nova-pro-v1");
	CU_ASSERT_STRING_EQUAL(model_of(&x, orr), "amazon/nova-pro-v1");
	const struct mapping_entry *e = entry_of(&x, bedrock);
	CU_ASSERT_STRING_EQUAL(e->rule, MAPPER_RULE_OVERRIDE);
	CU_ASSERT_STRING_EQUAL(e->key, "amazon.nova-pro-v1:0");
	CU_ASSERT_STRING_EQUAL(e->evidence, "Bedrock adds :0");
	CU_ASSERT_STRING_EQUAL(e->maker_rule, "override");
	CU_ASSERT_STRING_EQUAL(entry_of(&x, orr)->rule, MAPPER_RULE_EXACT);
	/* Restricted to one provider. */
	CU_ASSERT_STRING_EQUAL(model_of(&x, other_host), "amazon/nova-pro");
	/* By source instance, by plugin; ids compare ignoring case. */
	CU_ASSERT_STRING_EQUAL(model_of(&x, ar), "acme/mystery");
	CU_ASSERT_STRING_EQUAL(model_of(&x, oa), "acme/mystery-2");
	CU_ASSERT_STRING_EQUAL(model_of(&x, md), "p/mystery-model");
	CU_ASSERT_STRING_EQUAL(model_of(&x, at), "berkeley/koala-13b");
	CU_ASSERT_STRING_EQUAL(entry_of(&x, at)->maker_rule, "family");
	CU_ASSERT_STRING_EQUAL(model_of(&x, ac), "acme/rocket-1");
	CU_ASSERT_TRUE(entry_of(&x, ac)->first_party);
	fx_free(&x);
	mapper_tables_free(t);
	errors_free(&errs);

	/* Broken files: every problem reported with the file and entry. */
	static const struct {
		const char *text;
		const char *needle;
	} bad[] = {
	    {"[1]", "expected an object"},
	    {"{\"models\": 3}", "models is a number, expected a list"},
	    {"{\"modles\": []}", "unknown key 'modles'"},
	    {"{\"models\": [{\"id\": \"x\", \"model\": \"a/b\"}]}", "models[0]: missing 'reason'"},
	    {"{\"models\": [{\"id\": \"x\", \"model\": \"ab\", \"reason\": \"r\"}]}",
	     "models[0].model 'ab' is not maker/model"},
	    {"{\"models\": [{\"id\": \"x\", \"model\": \"a/--\", \"reason\": \"r\"}]}",
	     "has no model name"},
	    {"{\"models\": [{\"id\": \"\", \"model\": \"a/b\", \"reason\": \"r\"}]}",
	     "models[0].id is a string, expected a non-empty string"},
	    {"{\"models\": [{\"id\": \"x\", \"model\": \"a/b\", \"reason\": \"r\", \"extra\": 1}]}",
	     "models[0]: unknown key 'extra'"},
	    {"{\"providers\": [{\"name\": \"x\", \"reason\": \"r\"}]}",
	     "providers[0]: missing 'maker'"},
	    {"{\"families\": [7]}", "families[0] is a number, expected an object"},
	    {"{\"models\": [], \"models\": []}", "cannot read the overrides"},
	    {"{not json", "cannot read the overrides"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *p = write_tmp(dir, "bad.json", bad[i].text);
		struct errors e2 = {0};
		struct mapper_tables *tb = mapper_tables_load_files(makers, p, &e2);
		CU_ASSERT_PTR_NULL(tb);
		if (!errors_contains(&e2, bad[i].needle) || !errors_contains(&e2, p)) {
			fprintf(stderr, "\n%s: want '%s' in:\n", bad[i].text, bad[i].needle);
			errors_print(&e2);
			CU_FAIL("override error message");
		}
		mapper_tables_free(tb);
		errors_free(&e2);
		free(p);
	}
	/* A missing file is an error too. */
	char *missing = xasprintf("%s/none.json", dir);
	struct mapper_tables *tm = mapper_tables_load_files(makers, missing, &errs);
	CU_ASSERT_PTR_NULL(tm);
	CU_ASSERT_TRUE(errors_contains(&errs, missing));
	errors_free(&errs);
	free(missing);
	free(ov);
	free(makers);
	tu_rm_rf(dir);
	free(dir);
}

/* [mapper] overrides: a path, none, or the shipped default. */
static void test_overrides_config(void)
{
	char *dir = tu_tmpdir();
	char *ov = write_tmp(dir, "ov.json",
			     "{\"models\": [{\"id\": \"odd-1\", \"model\": \"acme/odd\", "
			     "\"reason\": \"test\"}]}");
	struct config cfg = {0};
	for (int mode = 0; mode < 3; mode++) {
		cfg.mapper_overrides_set = mode > 0;
		cfg.mapper_overrides = mode == 1 ? ov : NULL;
		struct errors errs = {0};
		struct mapper_tables *t = mapper_tables_load(&cfg, &errs);
		errors_print(&errs);
		CU_ASSERT_PTR_NOT_NULL_FATAL(t);
		char *key = mapper_key_of(t, "p", NULL, "odd-1");
		struct fx x;
		fx_init(&x);
		struct mf_record *r = fx_add(&x, &(struct spec){"arena", NULL, "odd-1", NULL});
		fx_map_with(&x, t);
		const char *want = mode == 1 ? "acme/odd" : "unknown/odd-1";
		CU_ASSERT_STRING_EQUAL(model_of(&x, r), want);
		if (mode == 2)
			CU_ASSERT_EQUAL(mapper_tables_override_count(t), 0);
		fx_free(&x);
		free(key);
		mapper_tables_free(t);
		errors_free(&errs);
	}
	/* A configured file that is missing stops the mapper with a reason. */
	char *missing = xasprintf("%s/missing.json", dir);
	cfg.mapper_overrides_set = true;
	cfg.mapper_overrides = missing;
	struct fx x;
	fx_init(&x);
	fx_add(&x, &(struct spec){"arena", NULL, "gpt-4o", NULL});
	char err[512] = "";
	CU_ASSERT_EQUAL(mapper_run(&cfg, x.res, x.n, &x.map, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot load the mapper tables"));
	CU_ASSERT_EQUAL(x.map.count, 0);
	fx_free(&x);
	/* And the default tables work through mapper_run and mapper_map. */
	fx_init(&x);
	struct mf_record *r = fx_add(&x, &(struct spec){"arena", NULL, "gpt-4o", NULL});
	CU_ASSERT_EQUAL(mapper_map(x.res, x.n, &x.map), 0);
	x.mapped = true;
	CU_ASSERT_STRING_EQUAL(model_of(&x, r), "openai/gpt-4o");
	fx_free(&x);
	free(missing);
	free(ov);
	tu_rm_rf(dir);
	free(dir);
}

/* The shipped overrides stay small and explained (the issue: <= 50). */
static void test_shipped_overrides(void)
{
	char *makers = tu_srcpath("data/makers.json");
	char *ov = tu_srcpath("data/overrides.json");
	struct errors errs = {0};
	struct mapper_tables *t = mapper_tables_load_files(makers, ov, &errs);
	errors_print(&errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_TRUE(mapper_tables_override_count(t) <= 50);
	/* Every entry has a reason: the loader refuses one without. */
	CU_ASSERT_EQUAL(errs.count, 0);
	mapper_tables_free(t);
	errors_free(&errs);
	free(makers);
	free(ov);
}

static void test_maker_table_errors(void)
{
	char *dir = tu_tmpdir();
	static const struct {
		const char *text;
		const char *needle;
	} bad[] = {
	    {"{\"makers\": []}", "makers is a list, expected an object"},
	    {"{}", "makers is missing"},
	    {"{\"makers\": {\"a\": {\"names\": [\"x\"]}, \"b\": {\"names\": [\"x\"]}}}",
	     "'x' already belongs to maker a"},
	    {"{\"makers\": {\"a\": {\"dates\": \"ddmm\"}}}", "makers.a.dates must be"},
	    {"{\"makers\": {\"a\": {\"families\": \"gpt\"}}}",
	     "makers.a.families is a string, expected a list"},
	    {"{\"makers\": {\"a\": {\"tokens\": [\"\"]}}}", "makers.a.tokens[0]"},
	    {"{\"makers\": {\"a\": {\"colour\": 1}}}", "makers.a: unknown key 'colour'"},
	    {"{\"makers\": {}, \"hosts\": [1]}", "hosts[0]"},
	    {"{\"makers\": {}, \"extra\": 1}", "unknown key 'extra'"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *p = write_tmp(dir, "makers.json", bad[i].text);
		struct errors errs = {0};
		struct mapper_tables *t = mapper_tables_load_files(p, NULL, &errs);
		CU_ASSERT_PTR_NULL(t);
		if (!errors_contains(&errs, bad[i].needle)) {
			fprintf(stderr, "\n%s: want '%s' in:\n", bad[i].text, bad[i].needle);
			errors_print(&errs);
			CU_FAIL("maker table error message");
		}
		mapper_tables_free(t);
		errors_free(&errs);
		free(p);
	}
	tu_rm_rf(dir);
	free(dir);
}

int main(void)
{
	/* The shipped tables from the source tree. */
	char *data = tu_srcpath("data");
	setenv("MODELFUSE_DATADIR", data, 1);
	free(data);
	char *makers = tu_srcpath("data/makers.json");
	struct errors errs = {0};
	tables = mapper_tables_load_files(makers, NULL, &errs);
	errors_print(&errs);
	errors_free(&errs);
	free(makers);
	if (!tables)
		return 1;
	static const struct tu_test tests[] = {
	    {"maker table and family inference", test_maker_table},
	    {"normalized keys", test_keys},
	    {"must merge", test_must_merge},
	    {"must not merge", test_must_not_merge},
	    {"crosswalk: hf_id and canonical_slug", test_crosswalk_hf_id_and_slug},
	    {"crosswalk: aliases, alias_target, version, pointers",
	     test_crosswalk_aliases_and_pointers},
	    {"crosswalk: ambiguous evidence and cycles", test_crosswalk_ambiguous_and_cycles},
	    {"decisions: rules, keys, display id", test_rules_and_display},
	    {"order kept, unusable ids dropped", test_order_and_bad_ids},
	    {"hostile ids", test_hostile_ids},
	    {"config order does not matter", test_order_independent},
	    {"linear cost", test_linear},
	    {"overrides", test_overrides},
	    {"[mapper] overrides path, none, default", test_overrides_config},
	    {"shipped overrides", test_shipped_overrides},
	    {"maker table errors", test_maker_table_errors},
	    {NULL, NULL},
	};
	int rc = tu_main("mapper", tests);
	mapper_tables_free(tables);
	return rc;
}
