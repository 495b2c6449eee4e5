#include "mf_build_config.h"
#include "mapper.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "util.h"

/*
 * This is the first, deliberately small mapper: a record's canonical id
 * comes from the first rule that applies, in this order:
 *
 *   maker-field     a model record names its maker (MF_FIELD_MAKER)
 *   maker-provider  an offering whose provider is itself a maker, with an
 *                   id that carries no namespace ("openai" + "gpt-4o")
 *   namespace       "ns/model" (or a host path) whose namespace is a maker
 *   family-prefix   the model name starts with a known family ("claude")
 *   unaligned       none of the above: the record stays its own model
 *
 * The later mapper issue adds overrides, crosswalks and key normalization in
 * front of and between these rules; each rule is one function so that those
 * steps slot in without touching the others. Both tables below move to
 * data/ with that issue.
 */

struct name_map {
	const char *name;
	const char *maker;
};

/* Provider and namespace spellings of the makers, compared ignoring case.
 * Hosts (amazon-bedrock, azure, groq, togetherai, ...) must not appear
 * here: an id served by a host says nothing about who made it. */
static const struct name_map maker_names[] = {
    {"alibaba", "qwen"},
    {"amazon", "amazon"},
    {"anthropic", "anthropic"},
    {"cohere", "cohere"},
    {"cohereforai", "cohere"},
    {"coherelabs", "cohere"},
    {"deepseek", "deepseek"},
    {"deepseek-ai", "deepseek"},
    {"facebook", "meta"},
    {"google", "google"},
    {"ibm-granite", "ibm"},
    {"meta", "meta"},
    {"meta-llama", "meta"},
    {"microsoft", "microsoft"},
    {"minimax", "minimax"},
    {"minimaxai", "minimax"},
    {"mistral", "mistral"},
    {"mistralai", "mistral"},
    {"moonshotai", "moonshotai"},
    {"nvidia", "nvidia"},
    {"openai", "openai"},
    {"perplexity", "perplexity"},
    {"qwen", "qwen"},
    {"thudm", "zhipu"},
    {"x-ai", "xai"},
    {"xai", "xai"},
    {"z-ai", "zhipu"},
    {"zai", "zhipu"},
    {"zai-org", "zhipu"},
    {"zhipuai", "zhipu"},
};

/* Family prefixes of model names. A prefix matches only when what follows
 * it is not a letter, so "phi-4" is Microsoft's but "phind" is not. */
static const struct name_map families[] = {
    {"chatgpt", "openai"},    {"gpt", "openai"},	{"o1", "openai"},
    {"o3", "openai"},	      {"o4", "openai"},		{"claude", "anthropic"},
    {"gemini", "google"},     {"gemma", "google"},	{"llama", "meta"},
    {"codestral", "mistral"}, {"devstral", "mistral"},	{"magistral", "mistral"},
    {"ministral", "mistral"}, {"mistral", "mistral"},	{"mixtral", "mistral"},
    {"pixtral", "mistral"},   {"grok", "xai"},		{"qwen", "qwen"},
    {"qwq", "qwen"},	      {"deepseek", "deepseek"}, {"command", "cohere"},
    {"phi", "microsoft"},     {"kimi", "moonshotai"},	{"glm", "zhipu"},
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char *maker_of_n(const char *name, size_t len)
{
	for (size_t i = 0; i < N_ELEMS(maker_names); i++)
		if (strlen(maker_names[i].name) == len &&
		    strncasecmp(maker_names[i].name, name, len) == 0)
			return maker_names[i].maker;
	return NULL;
}

const char *mapper_maker_of(const char *name)
{
	return name ? maker_of_n(name, strlen(name)) : NULL;
}

static const struct name_map *family_of(const char *model)
{
	const char *slash = strrchr(model, '/');
	if (slash)
		model = slash + 1;
	for (size_t i = 0; i < N_ELEMS(families); i++) {
		size_t n = strlen(families[i].name);
		if (strncasecmp(model, families[i].name, n) == 0 &&
		    !isalpha((unsigned char)model[n]))
			return &families[i];
	}
	return NULL;
}

const char *mapper_infer_maker(const char *model)
{
	const struct name_map *f = model ? family_of(model) : NULL;
	return f ? f->maker : NULL;
}

/* What one rule decided; maker and key are owned. */
struct decision {
	char *maker;
	const char *model; /* points into the native id */
	const char *rule;
	char *key;
};

static void decide(struct decision *d, char *maker, const char *rule, const char *key)
{
	d->maker = maker;
	d->rule = rule;
	d->key = xstrdup(key);
}

static bool rule_maker_field(const struct mf_record *rec, struct decision *d)
{
	const char *maker = record_get_string(rec, MF_FIELD_MAKER);
	if (rec->kind != MF_RECORD_MODEL || !maker || !*maker || strchr(maker, '/'))
		return false;
	const char *known = mapper_maker_of(maker);
	decide(d, known ? xstrdup(known) : str_lower(maker), "maker-field", maker);
	return true;
}

static bool rule_maker_provider(const struct mf_record *rec, const char *id, struct decision *d)
{
	const char *provider = record_get_string(rec, MF_FIELD_PROVIDER);
	const char *known = mapper_maker_of(provider);
	if (rec->kind != MF_RECORD_OFFERING || !known || strchr(id, '/'))
		return false;
	decide(d, xstrdup(known), "maker-provider", provider);
	return true;
}

/* "ns/model", or a host path such as "accounts/fireworks/models/x" or
 * "@cf/meta/llama-3-8b": the segment nearest the model name that is a maker
 * wins. */
static bool rule_namespace(const char *id, struct decision *d)
{
	const char *last = strrchr(id, '/');
	if (!last)
		return false;
	const char *end = last;
	while (end > id) {
		const char *start = end;
		while (start > id && start[-1] != '/')
			start--;
		const char *known = maker_of_n(start, (size_t)(end - start));
		if (known) {
			char *key = xstrndup(start, (size_t)(end - start));
			decide(d, xstrdup(known), "namespace", key);
			free(key);
			return true;
		}
		end = start > id ? start - 1 : id;
	}
	return false;
}

static bool rule_family_prefix(const char *model, struct decision *d)
{
	const struct name_map *f = family_of(model);
	if (!f)
		return false;
	decide(d, xstrdup(f->maker), "family-prefix", f->name);
	return true;
}

/* Nothing matched. A single unknown namespace ("nousresearch/hermes-3") is
 * the best maker guess there is and keeps the id two-part; otherwise the
 * provider stands in. The rule stays "unaligned" so that status and
 * explain show it as worth an override. */
static void rule_unaligned(const struct mf_record *rec, const char *id, struct decision *d)
{
	const char *slash = strchr(id, '/');
	char *maker;
	if (slash && slash == strrchr(id, '/') && slash > id) {
		char *ns = xstrndup(id, (size_t)(slash - id));
		maker = str_lower(ns);
		free(ns);
	} else {
		const char *provider = record_get_string(rec, MF_FIELD_PROVIDER);
		maker = str_lower(provider && *provider ? provider : "unknown");
	}
	decide(d, maker, "unaligned", id);
}

/* Run the cascade on one record; false when it has no usable id. */
static bool map_record(const struct mf_record *rec, struct decision *d)
{
	const char *id = rec->native_id;
	if (!id)
		return false;
	/* Gemini lists "models/gemini-2.0-flash": the prefix is API plumbing,
	 * not a namespace. */
	if (strncasecmp(id, "models/", 7) == 0)
		id += 7;
	const char *slash = strrchr(id, '/');
	d->model = slash ? slash + 1 : id;
	if (!*d->model)
		return false;

	if (rule_maker_field(rec, d) || rule_maker_provider(rec, id, d) || rule_namespace(id, d) ||
	    rule_family_prefix(d->model, d))
		return true;
	rule_unaligned(rec, id, d);
	return true;
}

int mapper_map(const struct source_result *results, size_t n_results, struct mapping *out)
{
	out->items = NULL;
	out->count = 0;
	size_t total = 0;
	for (size_t i = 0; i < n_results; i++)
		total += results[i].records.count;
	if (total == 0)
		return 0;
	out->items = xcalloc(total, sizeof *out->items);

	for (size_t i = 0; i < n_results; i++) {
		const struct source_result *r = &results[i];
		const char *instance = r->source ? r->source->name : NULL;
		for (size_t pos = 0; pos < r->records.count; pos++) {
			const struct mf_record *rec = r->records.items[pos];
			struct decision d = {0};
			if (!rec || !map_record(rec, &d)) {
				log_msg(MF_LOG_WARNING, instance,
					"record %zu has no usable id, skipped", pos);
				continue;
			}
			char *model = str_lower(d.model);
			struct mapping_entry *e = &out->items[out->count++];
			*e = (struct mapping_entry){
			    .result = r,
			    .position = pos,
			    .rec = rec,
			    .model_id = xasprintf("%s/%s", d.maker, model),
			    .maker = d.maker,
			    .rule = d.rule,
			    .key = d.key,
			};
			free(model);
		}
	}
	return 0;
}

void mapping_free(struct mapping *m)
{
	for (size_t i = 0; i < m->count; i++) {
		free(m->items[i].model_id);
		free(m->items[i].maker);
		free(m->items[i].key);
	}
	free(m->items);
	m->items = NULL;
	m->count = 0;
}
