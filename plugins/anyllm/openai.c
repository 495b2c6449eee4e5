/*
 * anyllm: OpenAI-style listings (`GET /v1/models`): OpenAI itself and the
 * OpenAI-compatible servers (Groq, xAI, DeepSeek, ZenMux, Ollama, vLLM...).
 *
 * The base is `{object: "list", data: [{id, object, created, owned_by}]}`.
 * Servers add their own extras, read when present:
 *  - Groq: `context_window`, `active` (false: status "inactive"),
 *    `max_completion_tokens`;
 *  - xAI: `aliases`, `context_length` and integer prices (see xai_price);
 *  - ZenMux: `display_name`, `context_length`, `input_modalities`,
 *    `output_modalities`, `capabilities` {flag: bool}, `publish_time` and
 *    `pricings` (see zenmux_pricings);
 *  - vLLM: `max_model_len`; Mistral-style `max_context_length`.
 * A bare top-level array of entries (as some servers send) is accepted too.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "anyllm.h"

/* ---------------------------------------------------------------- xAI */

/* xAI's `*_token_price` integers are in 1/10,000 USD per 1M tokens (SPEC
 * §3): 12500 is USD 1.25 per 1M. `image_price` uses the same scale per
 * unit (USD 1e-10 per image: 200000000 is USD 0.02 per image, xAI's list
 * price for grok-imagine-image). The digits are shifted, never multiplied
 * as floats. */
#define XAI_TOKEN_SHIFT (-4)
#define XAI_IMAGE_SHIFT (-10)

static const char *xai_price_kind(const char *base)
{
	static const char *const names[][2] = {
	    {"prompt_text", "input"},
	    {"completion_text", "output"},
	    {"cached_prompt_text", "cache_read"},
	    {"prompt_image", "input_image"},
	    {"prompt_audio", "input_audio"},
	    {"completion_audio", "output_audio"},
	    {"cached_prompt_audio", "cache_read_audio"},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(base, names[i][0]) == 0)
			return names[i][1];
	return NULL;
}

/* "context_over_200k." from `long_context_threshold`, like models.dev
 * names the same tier; "long_context." when the threshold is unknown. */
static void xai_tier_prefix(const json_t *entry, char *buf, size_t size)
{
	const json_t *t = json_object_get(entry, "long_context_threshold");
	json_int_t n = json_is_integer(t) ? json_integer_value(t) : 0;
	int len;
	if (n > 0 && n % 1000 == 0)
		len = snprintf(buf, size, "context_over_%" JSON_INTEGER_FORMAT "k.", n / 1000);
	else if (n > 0)
		len = snprintf(buf, size, "context_over_%" JSON_INTEGER_FORMAT ".", n);
	else
		len = snprintf(buf, size, "long_context.");
	if (len < 0 || (size_t)len >= size)
		snprintf(buf, size, "long_context.");
}

static void xai_price(struct anyllm_walk *w, struct mf_record *rec, const char *key,
		      const json_t *v, const char *kind, int shift)
{
	if (json_is_null(v))
		return;
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		anyllm_warn(w, "%.80s is %s, expected a non-negative integer; price skipped", key,
			    json_is_integer(v) ? "negative" : anyllm_type_name(v));
		return;
	}
	char digits[32];
	snprintf(digits, sizeof(digits), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	anyllm_check(w, w->host->map_set_decimal(rec, MF_FIELD_PRICE, kind, digits, shift), key);
}

static bool ends_with(const char *s, const char *suffix, size_t *stem)
{
	size_t n = strlen(s), m = strlen(suffix);
	if (n <= m || strcmp(s + n - m, suffix) != 0)
		return false;
	*stem = n - m;
	return true;
}

static void xai_prices(struct anyllm_walk *w, struct mf_record *rec, const json_t *entry)
{
	char tier[64] = "";
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)entry, key, v)
	{
		if (strcmp(key, "image_price") == 0) {
			xai_price(w, rec, key, v, "image", XAI_IMAGE_SHIFT);
			continue;
		}
		size_t stem;
		bool long_context = ends_with(key, "_token_price_long_context", &stem);
		if (!long_context && !ends_with(key, "_token_price", &stem))
			continue;
		char base[96];
		if (stem >= sizeof(base)) {
			anyllm_warn(w, "price key %.60s... too long; skipped", key);
			continue;
		}
		memcpy(base, key, stem);
		base[stem] = '\0';
		/* A price kind without a usual name keeps xAI's own. */
		const char *kind = xai_price_kind(base);
		if (kind == NULL)
			kind = base;
		char name[192];
		if (long_context && tier[0] == '\0')
			xai_tier_prefix(entry, tier, sizeof(tier));
		snprintf(name, sizeof(name), "%s%s", long_context ? tier : "", kind);
		xai_price(w, rec, key, v, name, XAI_TOKEN_SHIFT);
	}
}

/* ---------------------------------------------------------------- ZenMux */

/*
 * ZenMux `pricings`: {kind: [{currency, unit, value, conditions?}]}, where
 * unit "perMTokens" is already USD per 1M tokens, "perCount" USD per call
 * (web_search) and "perSecond" USD per second of audio. A kind lists
 * several entries when the price depends on the prompt size: conditions
 * {prompt_tokens: {gt|gte: N, lt|lte: M, unit: "kTokens"}}. The entry whose
 * lower bounds are all 0 (or that has no conditions) is the base price; one
 * conditioned only on prompt_tokens above N thousand becomes the tier
 * "context_over_Nk.<kind>", as models.dev names such tiers. Entries with
 * other conditions (output size) have no place in a flat price map and are
 * left out; so are non-USD prices. When entries repeat a tier, the first
 * listed wins. Kinds get the names models.dev uses ("prompt" is "input",
 * "input_cache_read" is "cache_read"...).
 */
static const char *zenmux_price_kind(const char *kind, bool plain_cache_write)
{
	/* The 5-minute cache write is Anthropic's default, what models.dev
	 * calls cache_write; it keeps its own name only beside a plain one. */
	if (!plain_cache_write && strcmp(kind, "input_cache_write_5_min") == 0)
		return "cache_write";
	static const char *const names[][2] = {
	    {"prompt", "input"},
	    {"completion", "output"},
	    {"input_cache_read", "cache_read"},
	    {"input_cache_write", "cache_write"},
	    {"input_cache_write_5_min", "cache_write_5m"},
	    {"input_cache_write_1_h", "cache_write_1h"},
	    {"audio_input", "input_audio"},
	    {"audio_output", "output_audio"},
	    {"audio_cache_read", "cache_read_audio"},
	    {"internal_reasoning", "reasoning"},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(kind, names[i][0]) == 0)
			return names[i][1];
	return kind;
}

#define ZENMUX_MAX_TIERS 16

/* The tier one price entry belongs to: 0 for the base price, N (thousands
 * of prompt tokens) for a context tier, -1 for one that fits neither. */
static double zenmux_tier(const json_t *conditions)
{
	if (conditions == NULL || json_is_null(conditions))
		return 0;
	if (!json_is_object(conditions))
		return -1;
	double prompt_from = 0;
	bool others_from_zero = true;
	const char *what;
	json_t *range;
	json_object_foreach((json_t *)conditions, what, range)
	{
		if (!json_is_object(range))
			return -1;
		const json_t *lo = json_object_get(range, "gte");
		if (lo == NULL)
			lo = json_object_get(range, "gt");
		double from = lo == NULL ? 0 : json_is_number(lo) ? json_number_value(lo) : -1;
		if (from < 0)
			return -1;
		const json_t *unit = json_object_get(range, "unit");
		if (unit != NULL && json_is_string(unit) &&
		    strcmp(json_string_value(unit), "tokens") == 0)
			from /= 1000;
		else if (unit != NULL &&
			 !(json_is_string(unit) && strcmp(json_string_value(unit), "kTokens") == 0))
			return -1;
		if (strcmp(what, "prompt_tokens") == 0)
			prompt_from = from;
		else if (from != 0)
			others_from_zero = false;
	}
	if (!others_from_zero)
		return -1;
	/* Tiers are named in whole thousands of tokens. */
	if (prompt_from != floor(prompt_from) || prompt_from > 1e9)
		return -1;
	return prompt_from;
}

/* The price key of one entry's unit, or false for a unit with no place. */
static bool zenmux_unit_key(const char *unit, const char *kind, char *buf, size_t size, int *shift)
{
	int n;
	*shift = 0;
	if (strcmp(unit, "perMTokens") == 0 || strcmp(unit, "perCount") == 0) {
		n = snprintf(buf, size, "%s", kind);
	} else if (strcmp(unit, "perKTokens") == 0) {
		*shift = 3;
		n = snprintf(buf, size, "%s", kind);
	} else if (strcmp(unit, "perSecond") == 0) {
		n = snprintf(buf, size, "%s_per_second", kind);
	} else {
		return false;
	}
	return n > 0 && (size_t)n < size;
}

static void zenmux_price_entry(struct anyllm_walk *w, struct mf_record *rec, const char *kind,
			       const char *name, size_t i, const json_t *p, double *done,
			       size_t *n_done)
{
	if (!json_is_object(p)) {
		anyllm_warn(w, "pricings.%.40s[%zu] is %s, expected an object; skipped", kind, i,
			    anyllm_type_name(p));
		return;
	}
	const json_t *currency = json_object_get(p, "currency");
	if (!json_is_string(currency) || strcmp(json_string_value(currency), "USD") != 0)
		return;
	double tier = zenmux_tier(json_object_get(p, "conditions"));
	if (tier < 0)
		return;
	for (size_t k = 0; k < *n_done; k++)
		if (done[k] == tier)
			return;
	const json_t *unit = json_object_get(p, "unit");
	const json_t *value = json_object_get(p, "value");
	char key[128];
	int shift;
	if (!json_is_string(unit) ||
	    !zenmux_unit_key(json_string_value(unit), name, key, sizeof(key), &shift)) {
		anyllm_warn(w, "pricings.%.40s[%zu]: unit %.40s is not known; skipped", kind, i,
			    json_is_string(unit) ? json_string_value(unit) : "(none)");
		return;
	}
	char full[192];
	if (tier > 0)
		snprintf(full, sizeof(full), "context_over_%.0fk.%s", tier, key);
	else
		snprintf(full, sizeof(full), "%s", key);

	int rc;
	if (json_is_string(value)) {
		rc = w->host->map_set_decimal(rec, MF_FIELD_PRICE, full, json_string_value(value),
					      shift);
	} else if (json_is_number(value) && json_number_value(value) >= 0) {
		rc = w->host->map_set(rec, MF_FIELD_PRICE, full,
				      json_number_value(value) * pow(10, shift));
	} else {
		anyllm_warn(w, "pricings.%.40s[%zu].value is %s, expected a price; skipped", kind,
			    i, json_is_number(value) ? "negative" : anyllm_type_name(value));
		return;
	}
	anyllm_check(w, rc, full);
	if (rc == MF_OK && *n_done < ZENMUX_MAX_TIERS)
		done[(*n_done)++] = tier;
}

static void zenmux_pricings(struct anyllm_walk *w, struct mf_record *rec, const json_t *entry)
{
	const json_t *pricings = json_object_get(entry, "pricings");
	if (pricings == NULL || json_is_null(pricings))
		return;
	if (!json_is_object(pricings)) {
		anyllm_warn(w, "pricings is %s, expected an object; field skipped",
			    anyllm_type_name(pricings));
		return;
	}
	bool plain_cache_write = json_object_get(pricings, "input_cache_write") != NULL;
	const char *kind;
	json_t *list;
	json_object_foreach((json_t *)pricings, kind, list)
	{
		if (json_is_null(list))
			continue;
		if (!json_is_array(list)) {
			anyllm_warn(w, "pricings.%.40s is %s, expected an array; skipped", kind,
				    anyllm_type_name(list));
			continue;
		}
		const char *name = zenmux_price_kind(kind, plain_cache_write);
		double done[ZENMUX_MAX_TIERS];
		size_t n_done = 0;
		size_t i;
		json_t *p;
		json_array_foreach(list, i, p)
		    zenmux_price_entry(w, rec, kind, name, i, p, done, &n_done);
	}
}

/* ---------------------------------------------------------------- entries */

/* The context window, under whichever name the server uses. */
static void openai_context(struct anyllm_walk *w, struct mf_record *rec, const json_t *entry)
{
	static const char *const keys[] = {"context_length", "context_window", "max_context_length",
					   "max_model_len"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const json_t *v = json_object_get(entry, keys[i]);
		if (v != NULL && !json_is_null(v)) {
			anyllm_tokens(w, rec, entry, keys[i], MF_FIELD_CONTEXT_TOKENS);
			return;
		}
	}
}

static void openai_capabilities(struct anyllm_walk *w, struct mf_record *rec, const json_t *entry)
{
	const json_t *caps = json_object_get(entry, "capabilities");
	if (caps == NULL || json_is_null(caps))
		return;
	if (json_is_object(caps))
		anyllm_capability_flags(w, rec, caps);
	else if (json_is_array(caps))
		anyllm_string_list(w, rec, entry, "capabilities", MF_FIELD_CAPABILITIES);
	else
		anyllm_warn(w, "capabilities is %s, expected an object; field skipped",
			    anyllm_type_name(caps));
}

static int openai_entry(struct anyllm_walk *w, size_t position, const json_t *entry)
{
	int rc;
	const char *id = anyllm_entry_id(w, entry, "id", position, &rc);
	if (id == NULL)
		return rc;
	w->id = id;
	struct mf_record *rec = anyllm_record_new(w, id);
	if (rec == NULL)
		return w->rc;

	anyllm_created_unix(w, rec, entry, "created");
	anyllm_owned_by(w, rec, entry);
	anyllm_string(w, rec, entry, "display_name", MF_FIELD_NAME);
	anyllm_string(w, rec, entry, "description", MF_FIELD_DESCRIPTION);
	openai_context(w, rec, entry);
	anyllm_tokens(w, rec, entry, "max_completion_tokens", MF_FIELD_MAX_OUTPUT_TOKENS);
	anyllm_string_list(w, rec, entry, "aliases", MF_FIELD_ALIASES);
	anyllm_string_list(w, rec, entry, "input_modalities", MF_FIELD_INPUT_MODALITIES);
	anyllm_string_list(w, rec, entry, "output_modalities", MF_FIELD_OUTPUT_MODALITIES);
	openai_capabilities(w, rec, entry);
	anyllm_date(w, rec, entry, "publish_time", MF_FIELD_RELEASE_DATE);

	/* Groq lists models it switched off with active: false. */
	const json_t *active = json_object_get(entry, "active");
	if (json_is_false(active))
		anyllm_check(w, w->host->set_string(rec, MF_FIELD_STATUS, "inactive"), "active");
	else if (active != NULL && !json_is_boolean(active) && !json_is_null(active))
		anyllm_warn(w, "active is %s, expected a boolean; field skipped",
			    anyllm_type_name(active));

	xai_prices(w, rec, entry);
	zenmux_pricings(w, rec, entry);
	rc = anyllm_emit(w, rec);
	w->id = NULL;
	return rc;
}

int anyllm_openai_page(struct anyllm_walk *w, const json_t *root)
{
	const json_t *data = root;
	if (json_is_object(root)) {
		data = json_object_get(root, "data");
		if (data == NULL || !json_is_array(data)) {
			w->host->log(w->ctx, MF_LOG_ERROR,
				     "the page has %s \"data\", expected an array of models",
				     data == NULL ? "no" : anyllm_type_name(data));
			return MF_EPARSE;
		}
	} else if (!json_is_array(root)) {
		w->host->log(w->ctx, MF_LOG_ERROR,
			     "top level is %s, expected an object with a \"data\" array",
			     anyllm_type_name(root));
		return MF_EPARSE;
	}
	size_t i;
	const json_t *entry;
	json_array_foreach(data, i, entry)
	{
		int rc = openai_entry(w, i + 1, entry);
		if (rc != MF_OK)
			return rc;
	}
	return MF_OK;
}
