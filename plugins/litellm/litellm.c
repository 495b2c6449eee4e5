/*
 * litellm: LiteLLM's price map (model_prices_and_context_window.json).
 *
 * The upstream is one flat object keyed by LiteLLM's model string
 * ("gpt-4o", "bedrock/us.anthropic.claude-...", "vertex_ai/claude-...@date").
 * Every entry with a `litellm_provider` is one offering: the provider in
 * models.dev's spelling, serving the key without its provider prefix. The
 * other top-level keys (`sample_spec`, the schema example; `last_updated`
 * and `fallback_generalizations`, added by mirrors and newer files) are not
 * models: they are skipped and reported at info level with the reason.
 *
 * Prices are JSON numbers in USD per token (3e-06, 1.5e-07). They are
 * converted to USD per 1M tokens without a float multiply: the shortest
 * decimal that reads back as the same double ("1.5e-07") is split into
 * digits and exponent, and host->map_set_decimal moves the point on the
 * digits, so 1.5e-07 becomes exactly 0.15. Per-unit prices (per image,
 * request, second, character, page...) stay USD per unit under their
 * LiteLLM name, which says the unit.
 *
 * Price keys: input, output, cache_read, cache_write, reasoning, ... as
 * the other plugins spell them (table below); LiteLLM's qualifiers become
 * prefixes: `_above_200k_tokens` -> "context_over_200k.", `_priority` ->
 * "priority.", `_flex` -> "flex.", `_batches` -> "batch.", and the list
 * `tiered_pricing` ([{range: [lo, hi], input_cost_per_token...}]) gives
 * "context_over_<lo>." keys, its first tier (lo = 0) the plain ones.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <modelfuse/plugin.h>

/* Warnings (and info lines about skipped keys) per page before the rest
 * are only counted. */
#define LITELLM_MAX_WARNINGS 20
#define LITELLM_MAX_SKIP_NOTES 20

/* Largest integer a double holds exactly. */
#define LITELLM_MAX_EXACT 9007199254740992.0

/* State of one normalize call. */
struct litellm_walk {
	const struct mf_host *host;
	struct mf_context *ctx;
	const char *key; /* the entry being read */
	unsigned warnings;
	unsigned skipped; /* top-level keys that are not models */
	int rc;           /* first fatal setter failure (out of memory), else MF_OK */
};

static void litellm_warn(struct litellm_walk *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void litellm_warn(struct litellm_walk *w, const char *fmt, ...)
{
	w->warnings++;
	if (w->warnings > LITELLM_MAX_WARNINGS)
		return;

	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	const char *more = (size_t)n >= sizeof(msg) ? "..." : "";
	if (w->key != NULL)
		w->host->log(w->ctx, MF_LOG_WARNING, "%s: %s%s", w->key, msg, more);
	else
		w->host->log(w->ctx, MF_LOG_WARNING, "%s%s", msg, more);
}

/* A top-level key that is not a model: counted, and said why at info. */
static void litellm_skip(struct litellm_walk *w, const char *key, const char *why)
{
	w->skipped++;
	if (w->skipped <= LITELLM_MAX_SKIP_NOTES)
		w->host->log(w->ctx, MF_LOG_INFO, "%s: not a model (%s); skipped", key, why);
}

static const char *litellm_type_name(const json_t *v)
{
	/* An absent member (json_object_get gives NULL) is named, not read. */
	if (v == NULL)
		return "missing";
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "an unknown value";
}

static void litellm_check(struct litellm_walk *w, int rc, const char *field)
{
	if (rc == MF_OK)
		return;
	if (rc == MF_ENOMEM) {
		if (w->rc == MF_OK)
			w->rc = MF_ENOMEM;
		return;
	}
	litellm_warn(w, "%s: value refused by the core (status %d), skipped", field, rc);
}

/* ---------------------------------------------------------------- providers */

/*
 * LiteLLM's provider names in models.dev's spelling, and the other prefix
 * a provider's keys may carry ("vertex_ai/..." under
 * vertex_ai-mistral_models). A name ending in '*' matches by prefix. Names
 * not listed are kept as given, lowercased (xai, groq, deepseek, cohere,
 * perplexity, deepinfra, cerebras... already match).
 */
static const struct litellm_provider {
	const char *name;
	const char *provider;
	const char *key_prefix;
} litellm_providers[] = {
	{"text-completion-openai", "openai", "openai"},
	{"bedrock", "amazon-bedrock", NULL},
	{"bedrock_converse", "amazon-bedrock", "bedrock"},
	{"bedrock_mantle", "amazon-bedrock", "bedrock"},
	{"amazon_nova", "nova", "amazon-nova"},
	{"vertex_ai", "google-vertex", NULL},
	/* models.dev lists Claude on Vertex as a provider of its own. */
	{"vertex_ai-anthropic_models", "google-vertex-anthropic", "vertex_ai"},
	{"vertex_ai-*", "google-vertex", "vertex_ai"},
	{"gemini", "google", NULL},
	{"palm", "google", NULL},
	{"azure_text", "azure", "azure"},
	{"azure_ai", "azure", NULL},
	{"together_ai", "togetherai", NULL},
	{"fireworks_ai", "fireworks-ai", NULL},
	{"fireworks_ai-*", "fireworks-ai", "fireworks_ai"},
	{"codestral", "mistral", NULL},
	{"text-completion-codestral", "mistral", "codestral"},
	{"cohere_chat", "cohere", "cohere"},
	{"text-completion-inception", "inception", "inception"},
	{"github_copilot", "github-copilot", NULL},
	{"moonshot", "moonshotai", NULL},
	{"novita", "novita-ai", NULL},
	{"vercel_ai_gateway", "vercel", NULL},
	{"snowflake", "snowflake-cortex", NULL},
	{"cloudflare", "cloudflare-workers-ai", NULL},
	{"dashscope", "alibaba", NULL},
	{"friendliai", "friendli", NULL},
	{"gmi", "gmicloud", NULL},
	{"meta_llama", "llama", NULL},
	{"nvidia_nim", "nvidia", NULL},
};

static const struct litellm_provider *litellm_provider_lookup(const char *name)
{
	size_t n = sizeof(litellm_providers) / sizeof(litellm_providers[0]);
	for (size_t i = 0; i < n; i++) {
		const char *p = litellm_providers[i].name;
		size_t len = strlen(p);
		if (p[len - 1] == '*' ? strncmp(p, name, len - 1) == 0 : strcmp(p, name) == 0)
			return &litellm_providers[i];
	}
	return NULL;
}

/* The key without "prefix/" when it starts so and something remains. */
static const char *litellm_strip(const char *key, const char *prefix)
{
	size_t len = strlen(prefix);
	if (len > 0 && strncmp(key, prefix, len) == 0 && key[len] == '/' && key[len + 1] != '\0')
		return key + len + 1;
	return NULL;
}

/* ---------------------------------------------------------------- numbers */

/* A whole number: an integer, or a real without a fraction. *present is
 * false for absent and null values. False (after a warning) otherwise. */
static bool litellm_whole(struct litellm_walk *w, const json_t *v, const char *label,
			  int64_t *out, bool *present)
{
	*present = false;
	if (v == NULL || json_is_null(v))
		return true;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
	} else if (json_is_real(v)) {
		double d = json_real_value(v);
		if (d != floor(d) || d < -LITELLM_MAX_EXACT || d > LITELLM_MAX_EXACT) {
			litellm_warn(w, "%s is %g, not a whole number; field skipped", label, d);
			return false;
		}
		*out = (int64_t)d;
	} else {
		litellm_warn(w, "%s is %s, expected a number; field skipped", label,
			     litellm_type_name(v));
		return false;
	}
	*present = true;
	return true;
}

/*
 * A JSON number as a decimal mantissa and a power of ten, exactly as the
 * upstream wrote it: integers as they are; reals as the shortest "%.*e"
 * text that reads back as the same double, which is what the file said
 * (3e-06 -> "3", -6; 1.5e-07 -> "1.5", -7).
 */
static bool litellm_decimal(const json_t *v, char *mant, size_t size, int *exp10)
{
	if (json_is_integer(v)) {
		*exp10 = 0;
		int n = snprintf(mant, size, "%" PRId64, (int64_t)json_integer_value(v));
		return n > 0 && (size_t)n < size;
	}
	double d = json_real_value(v);
	if (!isfinite(d))
		return false;
	char text[48];
	for (int prec = 0; prec <= 16; prec++) {
		snprintf(text, sizeof(text), "%.*e", prec, d);
		if (strtod(text, NULL) == d)
			break;
	}
	char *e = strchr(text, 'e');
	if (e == NULL)
		return false;
	char *end = NULL;
	long x = strtol(e + 1, &end, 10);
	if (end == e + 1 || *end != '\0' || x < -400 || x > 400)
		return false;
	*e = '\0';
	int n = snprintf(mant, size, "%s", text);
	*exp10 = (int)x;
	return n > 0 && (size_t)n < size;
}

/* ---------------------------------------------------------------- prices */

/* LiteLLM's price names and ours; shift 6 turns USD per token into USD
 * per 1M tokens, shift 0 keeps a per-unit price. */
static const struct litellm_price_name {
	const char *upstream;
	const char *key;
	int shift;
} litellm_price_names[] = {
	{"input_cost_per_token", "input", 6},
	{"output_cost_per_token", "output", 6},
	{"cache_read_input_token_cost", "cache_read", 6},
	{"cache_creation_input_token_cost", "cache_write", 6},
	{"cache_creation_input_token_cost_above_1hr", "cache_write_1h", 6},
	{"output_cost_per_reasoning_token", "reasoning", 6},
	{"input_cost_per_audio_token", "input_audio", 6},
	{"output_cost_per_audio_token", "output_audio", 6},
	{"cache_read_input_audio_token_cost", "cache_read_audio", 6},
	{"cache_creation_input_audio_token_cost", "cache_write_audio", 6},
	{"cache_read_input_image_token_cost", "cache_read_image", 6},
	{"input_cost_per_image_token", "input_image", 6},
	{"output_cost_per_image_token", "output_image", 6},
	{"output_cost_per_video_token", "output_video", 6},
	/* DeepSeek-style "cache hit" input price, beside cache_read in some
	 * entries: kept apart so that neither overwrites the other. */
	{"input_cost_per_token_cache_hit", "cache_hit", 6},
	{"citation_cost_per_token", "citation", 6},
	{"input_cost_per_request", "request", 0},
	{"input_cost_per_image", "image", 0},
};

/* Databricks prices in DBUs, not USD: not a price we can compare. */
static bool litellm_not_usd(const char *key)
{
	return strstr(key, "_dbu_") != NULL;
}

/* Peel one qualifier off the end of name[0..*len): a service tier
 * ("_priority") or a context tier ("_above_200k_tokens"). */
static bool litellm_peel(const char *name, size_t *len, char *out, size_t size, bool context)
{
	if (!context) {
		static const char *const tiers[][2] = {
			{"_priority", "priority"},
			{"_flex", "flex"},
			{"_batches", "batch"},
			{"_batch_requests", "batch"},
		};
		for (size_t i = 0; i < sizeof(tiers) / sizeof(tiers[0]); i++) {
			size_t n = strlen(tiers[i][0]);
			if (*len > n && memcmp(name + *len - n, tiers[i][0], n) == 0) {
				*len -= n;
				snprintf(out, size, "%s", tiers[i][1]);
				return true;
			}
		}
		return false;
	}
	/* "_above_<digits>[k]_tokens" */
	static const char tail[] = "_tokens";
	static const char head[] = "_above_";
	size_t t = sizeof(tail) - 1, h = sizeof(head) - 1;
	if (*len <= t + h || memcmp(name + *len - t, tail, t) != 0)
		return false;
	size_t end = *len - t, start = end;
	if (start > 0 && name[start - 1] == 'k')
		start--;
	size_t digits_end = start;
	while (start > 0 && isdigit((unsigned char)name[start - 1]))
		start--;
	if (start == digits_end || start < h || memcmp(name + start - h, head, h) != 0)
		return false;
	snprintf(out, size, "context_over_%.*s", (int)(end - start), name + start);
	*len = start - h;
	return true;
}

/* Our map key for a LiteLLM price key, with its shift. Returns false for
 * a key that is a price we do not keep (not in USD). */
static bool litellm_price_key(const char *upstream, const char *tier, char *out, size_t size,
			      int *shift)
{
	if (litellm_not_usd(upstream))
		return false;
	size_t len = strlen(upstream);
	char service[16] = "", context[48] = "";
	litellm_peel(upstream, &len, service, sizeof(service), false);
	litellm_peel(upstream, &len, context, sizeof(context), true);

	const struct litellm_price_name *known = NULL;
	size_t n = sizeof(litellm_price_names) / sizeof(litellm_price_names[0]);
	for (size_t i = 0; i < n; i++) {
		if (strlen(litellm_price_names[i].upstream) == len &&
		    memcmp(litellm_price_names[i].upstream, upstream, len) == 0) {
			known = &litellm_price_names[i];
			break;
		}
	}
	int written;
	if (known == NULL) {
		/* Anything else keeps its own name; only per-token prices are
		 * scaled, every other unit is in the name. */
		size_t full = strlen(upstream);
		bool per_token = (full > 10 && strcmp(upstream + full - 10, "_per_token") == 0) ||
				 (full > 11 && strcmp(upstream + full - 11, "_token_cost") == 0);
		*shift = per_token ? 6 : 0;
		written = snprintf(out, size, "%s%s%s", tier, tier[0] ? "." : "", upstream);
	} else {
		*shift = known->shift;
		written = snprintf(out, size, "%s%s%s%s%s%s%s", service, service[0] ? "." : "",
				   tier, tier[0] ? "." : "", context, context[0] ? "." : "",
				   known->key);
	}
	return written > 0 && (size_t)written < size;
}

/* One price: key is LiteLLM's, tier "" or a tier name from tiered_pricing. */
static void litellm_price(struct litellm_walk *w, struct mf_record *rec, const char *tier,
			  const char *upstream, const json_t *v)
{
	if (v == NULL || json_is_null(v))
		return;
	char name[160];
	int shift = 6;
	if (!litellm_price_key(upstream, tier, name, sizeof(name), &shift))
		return;
	if (!json_is_number(v)) {
		litellm_warn(w, "%s%s%.100s is %s, expected a number; field skipped", tier,
			     tier[0] ? "." : "", upstream, litellm_type_name(v));
		return;
	}
	if (json_number_value(v) < 0) {
		litellm_warn(w, "%s%s%.100s is %g, negative; field skipped", tier,
			     tier[0] ? "." : "", upstream, json_number_value(v));
		return;
	}
	char mant[48];
	int exp10 = 0;
	int rc = MF_EINVAL;
	if (litellm_decimal(v, mant, sizeof(mant), &exp10))
		rc = w->host->map_set_decimal(rec, MF_FIELD_PRICE, name, mant, shift + exp10);
	if (rc == MF_EINVAL)
		litellm_warn(w, "%s%s%.100s is %g, out of range; field skipped", tier,
			     tier[0] ? "." : "", upstream, json_number_value(v));
	else
		litellm_check(w, rc, name);
}

/* search_context_cost_per_query: {search_context_size_low: USD per query...} */
static void litellm_search_prices(struct litellm_walk *w, struct mf_record *rec,
				  const json_t *obj)
{
	static const char prefix[] = "search_context_size_";
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		const char *size = strncmp(key, prefix, sizeof(prefix) - 1) == 0
					   ? key + sizeof(prefix) - 1
					   : key;
		char name[96];
		int n = snprintf(name, sizeof(name), "web_search.%s", size);
		if (n < 0 || (size_t)n >= sizeof(name) || json_is_null(v))
			continue;
		if (!json_is_number(v) || json_number_value(v) < 0) {
			litellm_warn(w,
				     "search_context_cost_per_query.%.60s is not a price; skipped",
				     key);
			continue;
		}
		char mant[48];
		int exp10 = 0;
		int rc = MF_EINVAL;
		if (litellm_decimal(v, mant, sizeof(mant), &exp10))
			rc = w->host->map_set_decimal(rec, MF_FIELD_PRICE, name, mant, exp10);
		if (rc == MF_EINVAL)
			litellm_warn(w, "search_context_cost_per_query.%.60s is out of range; "
					"skipped",
				     key);
		else
			litellm_check(w, rc, name);
	}
}

/* The [lo, hi] of a tier as whole numbers. */
static bool litellm_range(const json_t *range, int64_t *lo, int64_t *hi)
{
	if (!json_is_array(range) || json_array_size(range) != 2)
		return false;
	for (size_t i = 0; i < 2; i++) {
		const json_t *v = json_array_get(range, i);
		if (!json_is_number(v))
			return false;
		double d = json_number_value(v);
		if (d != floor(d) || d < 0 || d > LITELLM_MAX_EXACT)
			return false;
		*(i == 0 ? lo : hi) = (int64_t)d;
	}
	return true;
}

/* tiered_pricing: [{range: [lo, hi], <prices>}] by prompt size, or
 * [{max_results_range: [lo, hi], <prices>}] for search. */
static void litellm_tiers(struct litellm_walk *w, struct mf_record *rec, const json_t *tiers)
{
	if (!json_is_array(tiers)) {
		litellm_warn(w, "tiered_pricing is %s, expected an array; field skipped",
			     litellm_type_name(tiers));
		return;
	}
	size_t i;
	json_t *tier;
	json_array_foreach(tiers, i, tier) {
		int64_t lo = 0, hi = 0;
		char name[64];
		if (!json_is_object(tier)) {
			litellm_warn(w, "tiered_pricing[%zu] is %s, expected an object; skipped", i,
				     litellm_type_name(tier));
			continue;
		}
		if (litellm_range(json_object_get(tier, "range"), &lo, &hi)) {
			/* The first tier is the plain price. */
			if (lo == 0)
				name[0] = '\0';
			else if (lo % 1000 == 0)
				snprintf(name, sizeof(name), "context_over_%" PRId64 "k",
					 lo / 1000);
			else
				snprintf(name, sizeof(name), "context_over_%" PRId64, lo);
		} else if (litellm_range(json_object_get(tier, "max_results_range"), &lo, &hi)) {
			snprintf(name, sizeof(name), "results_%" PRId64 "_%" PRId64, lo, hi);
		} else {
			litellm_warn(w, "tiered_pricing[%zu] has no usable range; skipped", i);
			continue;
		}
		const char *key;
		json_t *v;
		json_object_foreach(tier, key, v) {
			if (strstr(key, "cost") != NULL)
				litellm_price(w, rec, name, key, v);
		}
	}
}

static void litellm_prices(struct litellm_walk *w, struct mf_record *rec, const json_t *entry)
{
	/* Tiers first: a plain price given at the top level wins over the
	 * first tier's. */
	const json_t *tiers = json_object_get(entry, "tiered_pricing");
	if (tiers != NULL && !json_is_null(tiers))
		litellm_tiers(w, rec, tiers);

	const char *key;
	json_t *v;
	json_object_foreach((json_t *)entry, key, v) {
		if (strstr(key, "cost") == NULL)
			continue;
		if (strcmp(key, "search_context_cost_per_query") == 0 && json_is_object(v))
			litellm_search_prices(w, rec, v);
		else
			litellm_price(w, rec, "", key, v);
	}
}

/* ---------------------------------------------------------------- fields */

static void litellm_string(struct litellm_walk *w, struct mf_record *rec, const json_t *entry,
			   const char *key, enum mf_field field)
{
	const json_t *v = json_object_get(entry, key);
	if (v == NULL || json_is_null(v))
		return;
	if (!json_is_string(v)) {
		litellm_warn(w, "%s is %s, expected a string; field skipped", key,
			     litellm_type_name(v));
		return;
	}
	if (json_string_length(v) == 0)
		return;
	litellm_check(w, w->host->set_string_n(rec, field, json_string_value(v),
					       json_string_length(v)),
		      key);
}

/* A token limit; 0 means unknown. */
static void litellm_limit(struct litellm_walk *w, struct mf_record *rec, int64_t tokens,
			  const char *label, enum mf_field field)
{
	if (tokens == 0)
		return;
	if (tokens < 0) {
		litellm_warn(w, "%s is %" PRId64 ", negative; field skipped", label, tokens);
		return;
	}
	litellm_check(w, w->host->set_int(rec, field, tokens), label);
}

/*
 * max_input_tokens is the context; max_output_tokens the output limit.
 * max_tokens is LiteLLM's legacy field: the output limit when the provider
 * gives one, else a copy of the input limit (its sample_spec says so). So
 * it stands in for a missing max_output_tokens only when it is not just
 * that copy -- embedding models would otherwise get an "output limit".
 */
static void litellm_limits(struct litellm_walk *w, struct mf_record *rec, const json_t *entry)
{
	int64_t in = 0, out = 0, legacy = 0;
	bool have_in, have_out, have_legacy;
	if (litellm_whole(w, json_object_get(entry, "max_input_tokens"), "max_input_tokens", &in,
			  &have_in) &&
	    have_in) {
		litellm_limit(w, rec, in, "max_input_tokens", MF_FIELD_CONTEXT_TOKENS);
		litellm_limit(w, rec, in, "max_input_tokens", MF_FIELD_MAX_INPUT_TOKENS);
	}
	bool out_ok = litellm_whole(w, json_object_get(entry, "max_output_tokens"),
				    "max_output_tokens", &out, &have_out);
	if (out_ok && have_out) {
		litellm_limit(w, rec, out, "max_output_tokens", MF_FIELD_MAX_OUTPUT_TOKENS);
		return;
	}
	if (!out_ok)
		return;
	if (!litellm_whole(w, json_object_get(entry, "max_tokens"), "max_tokens", &legacy,
			   &have_legacy) ||
	    !have_legacy || (have_in && legacy == in))
		return;
	litellm_limit(w, rec, legacy, "max_tokens", MF_FIELD_MAX_OUTPUT_TOKENS);
}

static void litellm_list(struct litellm_walk *w, struct mf_record *rec, const json_t *entry,
			 const char *key, enum mf_field field)
{
	const json_t *list = json_object_get(entry, key);
	if (list == NULL || json_is_null(list))
		return;
	if (!json_is_array(list)) {
		litellm_warn(w, "%s is %s, expected an array; field skipped", key,
			     litellm_type_name(list));
		return;
	}
	size_t i;
	json_t *item;
	json_array_foreach(list, i, item) {
		if (!json_is_string(item) || json_string_length(item) == 0) {
			litellm_warn(w, "%s[%zu] is %s, expected a name; skipped", key, i,
				     litellm_type_name(item));
			continue;
		}
		litellm_check(w, w->host->list_add(rec, field, json_string_value(item)), key);
	}
}

/* supports_X: true adds X to the capabilities; two of them have fields of
 * their own, set either way since LiteLLM states them explicitly. */
static void litellm_flags(struct litellm_walk *w, struct mf_record *rec, const json_t *entry)
{
	static const char prefix[] = "supports_";
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)entry, key, v) {
		if (strncmp(key, prefix, sizeof(prefix) - 1) != 0 || json_is_null(v))
			continue;
		if (!json_is_boolean(v)) {
			litellm_warn(w, "%s is %s, expected a boolean; field skipped", key,
				     litellm_type_name(v));
			continue;
		}
		const char *cap = key + sizeof(prefix) - 1;
		bool on = json_is_true(v);
		if (strcmp(cap, "function_calling") == 0)
			litellm_check(w, w->host->set_bool(rec, MF_FIELD_TOOL_CALL, on), key);
		else if (strcmp(cap, "reasoning") == 0)
			litellm_check(w, w->host->set_bool(rec, MF_FIELD_REASONING, on), key);
		if (on && cap[0] != '\0')
			litellm_check(w, w->host->list_add(rec, MF_FIELD_CAPABILITIES, cap), key);
	}
}

static void litellm_mode(struct litellm_walk *w, struct mf_record *rec, const json_t *entry)
{
	const json_t *v = json_object_get(entry, "mode");
	if (v == NULL || json_is_null(v))
		return;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > 64) {
		litellm_warn(w, "mode is %s, expected a short name; field skipped",
			     litellm_type_name(v));
		return;
	}
	const char *mode = json_string_value(v);
	char tag[80];
	snprintf(tag, sizeof(tag), "mode:%s", mode);
	litellm_check(w, w->host->set_string(rec, MF_FIELD_MODE, mode), "mode");
	litellm_check(w, w->host->list_add(rec, MF_FIELD_TAGS, tag), "mode");
}

/* ---------------------------------------------------------------- entries */

static int litellm_emit(struct litellm_walk *w, struct mf_record *rec)
{
	if (w->rc != MF_OK) {
		w->host->record_free(rec);
		return w->rc;
	}
	/* emit owns rec whatever it returns; MF_EINVAL is the core's to count. */
	int rc = w->host->emit(w->ctx, rec);
	return rc == MF_OK || rc == MF_EINVAL ? MF_OK : rc;
}

static int litellm_entry(struct litellm_walk *w, const char *key, const json_t *entry)
{
	const struct mf_host *host = w->host;
	w->key = NULL;
	if (strcmp(key, "sample_spec") == 0) {
		litellm_skip(w, key, "the schema example");
		return MF_OK;
	}
	if (!json_is_object(entry)) {
		char why[48];
		snprintf(why, sizeof(why), "%s, not an object", litellm_type_name(entry));
		litellm_skip(w, key, why);
		return MF_OK;
	}
	const json_t *pv = json_object_get(entry, "litellm_provider");
	if (pv == NULL) {
		litellm_skip(w, key, "no litellm_provider");
		return MF_OK;
	}
	w->key = key[0] != '\0' ? key : NULL;
	if (!json_is_string(pv) || json_string_length(pv) == 0 ||
	    strlen(json_string_value(pv)) != json_string_length(pv)) {
		litellm_warn(w, "litellm_provider is %s, expected a provider name; entry skipped",
			     json_is_string(pv) ? "empty" : litellm_type_name(pv));
		w->skipped++;
		return MF_OK;
	}
	if (key[0] == '\0') {
		/* Handed over without an id: the core drops and counts it. */
		litellm_warn(w, "an entry has an empty key; dropped");
		struct mf_record *rec = host->record_new(w->ctx, MF_RECORD_OFFERING, "");
		return rec == NULL ? MF_ENOMEM : litellm_emit(w, rec);
	}

	/* The provider, lowercased, then in models.dev's spelling. */
	char given[128];
	snprintf(given, sizeof(given), "%s", json_string_value(pv));
	for (char *p = given; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	const struct litellm_provider *known = litellm_provider_lookup(given);
	const char *provider = known != NULL ? known->provider : given;

	const char *native = litellm_strip(key, given);
	if (native == NULL && known != NULL && known->key_prefix != NULL)
		native = litellm_strip(key, known->key_prefix);
	if (native == NULL)
		native = key;

	struct mf_record *rec = host->record_new(w->ctx, MF_RECORD_OFFERING, native);
	if (rec == NULL)
		return MF_ENOMEM;
	litellm_check(w, host->set_string(rec, MF_FIELD_PROVIDER, provider), "provider");
	if (native != key)
		litellm_check(w, host->set_string(rec, MF_FIELD_SOURCE_KEY, key), "source key");

	litellm_mode(w, rec, entry);
	litellm_limits(w, rec, entry);
	litellm_prices(w, rec, entry);
	litellm_flags(w, rec, entry);
	litellm_list(w, rec, entry, "supported_modalities", MF_FIELD_INPUT_MODALITIES);
	litellm_list(w, rec, entry, "supported_output_modalities", MF_FIELD_OUTPUT_MODALITIES);
	litellm_string(w, rec, entry, "deprecation_date", MF_FIELD_DEPRECATION_DATE);
	return litellm_emit(w, rec);
}

static json_t *litellm_parse(const struct mf_host *host, struct mf_context *ctx,
			     const struct mf_page *page)
{
	const char *where = page->url != NULL ? page->url : "page";
	json_error_t err;
	json_t *root = json_loadb(page->data, page->size, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL && json_error_code(&err) == json_error_duplicate_key) {
		host->log(ctx, MF_LOG_WARNING, "%s: line %d, column %d: %s; the last value is used",
			  where, err.line, err.column, err.text);
		root = json_loadb(page->data, page->size, 0, &err);
	}
	if (root == NULL) {
		host->log(ctx, MF_LOG_ERROR, "%s: not valid JSON: line %d, column %d: %s", where,
			  err.line, err.column, err.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		host->log(ctx, MF_LOG_ERROR, "%s: top level is %s, expected an object of models",
			  where, litellm_type_name(root));
		json_decref(root);
		return NULL;
	}
	return root;
}

static int litellm_fetch(const struct mf_host *host, struct mf_context *ctx, void *state,
			 const struct mf_page *prev, struct mf_request *req)
{
	(void)state;
	if (prev != NULL)
		return MF_DONE;
	return host->request_set_url(req, host->source_url(ctx));
}

static int litellm_normalize(const struct mf_host *host, struct mf_context *ctx, void *state,
			     const struct mf_page *page)
{
	(void)state;
	json_t *root = litellm_parse(host, ctx, page);
	if (root == NULL)
		return MF_EPARSE;

	struct litellm_walk w = {.host = host, .ctx = ctx, .rc = MF_OK};
	int rc = MF_OK;
	const char *key;
	json_t *entry;
	json_object_foreach(root, key, entry) {
		rc = litellm_entry(&w, key, entry);
		if (rc != MF_OK)
			break;
	}
	const char *where = page->url != NULL ? page->url : "this page";
	if (w.warnings > LITELLM_MAX_WARNINGS)
		host->log(ctx, MF_LOG_WARNING, "%u more warnings on %s not shown",
			  w.warnings - LITELLM_MAX_WARNINGS, where);
	if (w.skipped > 0)
		host->log(ctx, MF_LOG_INFO, "%s: %zu keys, %u of them skipped as not models",
			  where, json_object_size(root), w.skipped);
	json_decref(root);
	return rc;
}

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "litellm",
	.version = "1.0.0",
	.description = "LiteLLM price map: per-token prices, limits and supports_* flags",
	.default_url = "https://raw.githubusercontent.com/BerriAI/litellm/main/"
		       "model_prices_and_context_window.json",
	.options = NULL,
	.init = NULL,
	.fetch = litellm_fetch,
	.normalize = litellm_normalize,
	.fini = NULL,
};
