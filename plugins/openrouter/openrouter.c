/*
 * openrouter: OpenRouter's model list (GET https://openrouter.ai/api/v1/models).
 *
 * The upstream is `{data: [...]}` (newer responses add `links` and
 * `total_count`). Every entry is one offering of the provider "openrouter"
 * under the entry's `id`, exactly as listed: `:free`, `:extended`, `:nitro`...
 * ids are serving variants of their base id and say so (base id + serving
 * suffix) so that the mapper can join them; `:thinking` is a variant of its
 * own; `~vendor/...` and `...-latest` ids follow whatever is current.
 *
 * Prices are decimal strings in USD per token. They are moved to USD per 1M
 * tokens on the digits (host->map_set_decimal), never through a float
 * multiply, so "0.00000015" becomes exactly 0.15. "-1" means "variable" and
 * is left unknown. Per-unit prices (request, image, web_search) stay USD per
 * unit, as their keys say. Tiered prices (`pricing.overrides`: a list of
 * `{min_prompt_tokens: N, prompt: ..., completion: ...}`) become the keys
 * "context_over_<N>.<kind>" with N written as "200k" when it is whole
 * thousands: the spelling models.dev uses for the same tiers.
 *
 * Parsing is strict about the document and lax about entries: a page that
 * is not `{data: [...]}` is refused (MF_EPARSE, so the last good payload is
 * kept); a broken field only loses that field, with a capped warning.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <modelfuse/plugin.h>

/* Warnings per page before the rest are only counted. */
#define OPENROUTER_MAX_WARNINGS 20

/* Descriptions are a paragraph or two (under 2,000 bytes in every file
 * seen); anything far longer is not a description, so it is cut. */
#define OPENROUTER_MAX_DESCRIPTION 4096

/* Largest integer a double holds exactly. */
#define OPENROUTER_MAX_EXACT 9007199254740992.0

/* 9999-12-31T23:59:59Z: beyond it ISO 8601 needs more than four digits. */
#define OPENROUTER_MAX_TIME INT64_C(253402300799)

#define OPENROUTER_OPT_ALL "all_output_modalities"
#define OPENROUTER_ALL_PARAM "output_modalities=all"

/* State of one normalize call: what is being read, for messages. */
struct openrouter_walk {
	const struct mf_host *host;
	struct mf_context *ctx;
	const char *id;  /* the entry's id, when it has one */
	size_t position; /* 1-based position of the entry in data[] */
	unsigned warnings;
	int rc; /* first fatal setter failure (out of memory), else MF_OK */
};

static void openrouter_warn(struct openrouter_walk *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void openrouter_warn(struct openrouter_walk *w, const char *fmt, ...)
{
	w->warnings++;
	if (w->warnings > OPENROUTER_MAX_WARNINGS)
		return;

	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	const char *more = (size_t)n >= sizeof(msg) ? "..." : "";
	if (w->id != NULL)
		w->host->log(w->ctx, MF_LOG_WARNING, "%s: %s%s", w->id, msg, more);
	else
		w->host->log(w->ctx, MF_LOG_WARNING, "data[%zu]: %s%s", w->position - 1, msg,
			     more);
}

static const char *openrouter_type_name(const json_t *v)
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

/* Remember the first out-of-memory; any other refusal costs only the field. */
static void openrouter_check(struct openrouter_walk *w, int rc, const char *field)
{
	if (rc == MF_OK)
		return;
	if (rc == MF_ENOMEM) {
		if (w->rc == MF_OK)
			w->rc = MF_ENOMEM;
		return;
	}
	openrouter_warn(w, "%s: value refused by the core (status %d), skipped", field, rc);
}

/* A string field: absent, null and "" mean unknown; other types are wrong. */
static void openrouter_string(struct openrouter_walk *w, struct mf_record *rec,
			      const json_t *obj, const char *key, enum mf_field field)
{
	const json_t *v = json_object_get(obj, key);
	if (v == NULL || json_is_null(v))
		return;
	if (!json_is_string(v)) {
		openrouter_warn(w, "%s is %s, expected a string; field skipped", key,
				openrouter_type_name(v));
		return;
	}
	if (json_string_length(v) == 0)
		return;
	openrouter_check(w, w->host->set_string_n(rec, field, json_string_value(v),
						  json_string_length(v)),
			 key);
}

/* The length of the longest prefix of s (len bytes) that fits in max bytes
 * without splitting a UTF-8 sequence. */
static size_t openrouter_utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t cut = max;
	while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
		cut--;
	return cut;
}

static void openrouter_description(struct openrouter_walk *w, struct mf_record *rec,
				   const json_t *entry)
{
	const json_t *v = json_object_get(entry, "description");
	if (v == NULL || json_is_null(v))
		return;
	if (!json_is_string(v)) {
		openrouter_warn(w, "description is %s, expected a string; field skipped",
				openrouter_type_name(v));
		return;
	}
	size_t len = json_string_length(v);
	if (len == 0)
		return;
	size_t keep = openrouter_utf8_cut(json_string_value(v), len, OPENROUTER_MAX_DESCRIPTION);
	if (keep < len)
		openrouter_warn(w, "description is %zu bytes long; cut to %zu", len, keep);
	openrouter_check(w, w->host->set_string_n(rec, MF_FIELD_DESCRIPTION,
						  json_string_value(v), keep),
			 "description");
}

/* A whole number of tokens or seconds: an integer, or a real without a
 * fraction. Returns false (after warning) for anything else; *present is
 * false for absent and null values, which mean unknown. */
static bool openrouter_whole(struct openrouter_walk *w, const json_t *v, const char *label,
			     int64_t *out, bool *present)
{
	*present = false;
	if (v == NULL || json_is_null(v))
		return true;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
	} else if (json_is_real(v)) {
		double d = json_real_value(v);
		if (d != floor(d) || d < -OPENROUTER_MAX_EXACT || d > OPENROUTER_MAX_EXACT) {
			openrouter_warn(w, "%s is %g, not a whole number; field skipped", label, d);
			return false;
		}
		*out = (int64_t)d;
	} else {
		openrouter_warn(w, "%s is %s, expected a number; field skipped", label,
				openrouter_type_name(v));
		return false;
	}
	*present = true;
	return true;
}

/* A token limit: 0 is "unknown" (image and video models say 0), so it stays
 * unset rather than becoming a limit of nothing. */
static void openrouter_limit(struct openrouter_walk *w, struct mf_record *rec, const json_t *obj,
			     const char *key, const char *label, enum mf_field field)
{
	int64_t tokens = 0;
	bool present;
	if (!openrouter_whole(w, json_object_get(obj, key), label, &tokens, &present) ||
	    !present || tokens == 0)
		return;
	if (tokens < 0) {
		openrouter_warn(w, "%s is %" PRId64 ", negative; field skipped", label, tokens);
		return;
	}
	openrouter_check(w, w->host->set_int(rec, field, tokens), label);
}

/* `created` is unix seconds; the catalog wants ISO 8601 UTC. */
static void openrouter_created(struct openrouter_walk *w, struct mf_record *rec,
			       const json_t *entry)
{
	int64_t secs = 0;
	bool present;
	if (!openrouter_whole(w, json_object_get(entry, "created"), "created", &secs, &present) ||
	    !present)
		return;
	if (secs < 0 || secs > OPENROUTER_MAX_TIME) {
		openrouter_warn(w, "created is %" PRId64 ", out of range; field skipped", secs);
		return;
	}
	time_t t = (time_t)secs;
	struct tm tm;
	char iso[32];
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		openrouter_warn(w, "created is %" PRId64 ", not a time; field skipped", secs);
		return;
	}
	openrouter_check(w, w->host->set_string(rec, MF_FIELD_CREATED, iso), "created");
}

/* ---------------------------------------------------------------- prices */

/* OpenRouter's price keys and ours. Keys not listed keep their own name
 * and are per-token prices (image_output, image_token, audio_output,
 * input_audio_cache... in the files seen). */
static const struct openrouter_price_key {
	const char *upstream;
	const char *key;
	int shift; /* 6: USD per token -> per 1M tokens; 0: USD per unit */
} openrouter_price_keys[] = {
	{"prompt", "input", 6},
	{"completion", "output", 6},
	{"input_cache_read", "cache_read", 6},
	{"input_cache_write", "cache_write", 6},
	{"input_cache_write_1h", "cache_write_1h", 6},
	{"internal_reasoning", "reasoning", 6},
	{"audio", "input_audio", 6},
	{"request", "request", 0},
	{"image", "image", 0},
	{"web_search", "web_search", 0},
};

static const struct openrouter_price_key *openrouter_price_lookup(const char *upstream)
{
	size_t n = sizeof(openrouter_price_keys) / sizeof(openrouter_price_keys[0]);
	for (size_t i = 0; i < n; i++)
		if (strcmp(openrouter_price_keys[i].upstream, upstream) == 0)
			return &openrouter_price_keys[i];
	return NULL;
}

/* One price string; tier is "" or "context_over_200k." and the like. */
static void openrouter_price(struct openrouter_walk *w, struct mf_record *rec, const char *tier,
			     const char *upstream, const json_t *v)
{
	if (json_is_null(v))
		return;
	char label[160];
	snprintf(label, sizeof(label), "pricing.%s%.100s", tier, upstream);
	if (!json_is_string(v)) {
		openrouter_warn(w, "%s is %s, expected a decimal string; field skipped", label,
				openrouter_type_name(v));
		return;
	}
	const char *s = json_string_value(v);
	/* "-1": the price varies (routers, auto models), i.e. unknown. */
	if (strcmp(s, "-1") == 0)
		return;
	if (s[0] == '-') {
		openrouter_warn(w, "%s is \"%.40s\", negative; field skipped", label, s);
		return;
	}

	const struct openrouter_price_key *known = openrouter_price_lookup(upstream);
	char key[160];
	int n = snprintf(key, sizeof(key), "%s%s", tier, known != NULL ? known->key : upstream);
	if (n < 0 || (size_t)n >= sizeof(key)) {
		openrouter_warn(w, "price key %.60s... too long; skipped", label);
		return;
	}
	int rc = w->host->map_set_decimal(rec, MF_FIELD_PRICE, key, s,
					  known != NULL ? known->shift : 6);
	if (rc == MF_EINVAL)
		openrouter_warn(w, "%s is \"%.40s\", not a plain decimal; field skipped", label,
				s);
	else
		openrouter_check(w, rc, label);
}

/* One tier of pricing.overrides: {min_prompt_tokens: N, <price keys>}. */
static void openrouter_tier(struct openrouter_walk *w, struct mf_record *rec, size_t index,
			    const json_t *tier)
{
	if (!json_is_object(tier)) {
		openrouter_warn(w, "pricing.overrides[%zu] is %s, expected an object; skipped",
				index, openrouter_type_name(tier));
		return;
	}
	char label[64];
	snprintf(label, sizeof(label), "pricing.overrides[%zu].min_prompt_tokens", index);
	int64_t from = 0;
	bool present;
	if (!openrouter_whole(w, json_object_get(tier, "min_prompt_tokens"), label, &from,
			      &present))
		return;
	if (!present || from <= 0) {
		openrouter_warn(w, "pricing.overrides[%zu] has no positive min_prompt_tokens; "
				   "tier skipped",
				index);
		return;
	}
	char prefix[48];
	if (from % 1000 == 0)
		snprintf(prefix, sizeof(prefix), "context_over_%" PRId64 "k.", from / 1000);
	else
		snprintf(prefix, sizeof(prefix), "context_over_%" PRId64 ".", from);

	const char *key;
	json_t *v;
	json_object_foreach((json_t *)tier, key, v) {
		if (strcmp(key, "min_prompt_tokens") != 0)
			openrouter_price(w, rec, prefix, key, v);
	}
}

static void openrouter_pricing(struct openrouter_walk *w, struct mf_record *rec,
			       const json_t *entry)
{
	const json_t *pricing = json_object_get(entry, "pricing");
	if (pricing == NULL || json_is_null(pricing))
		return;
	if (!json_is_object(pricing)) {
		openrouter_warn(w, "pricing is %s, expected an object; field skipped",
				openrouter_type_name(pricing));
		return;
	}
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)pricing, key, v) {
		if (strcmp(key, "overrides") != 0) {
			openrouter_price(w, rec, "", key, v);
			continue;
		}
		if (json_is_null(v))
			continue;
		if (!json_is_array(v)) {
			openrouter_warn(w, "pricing.overrides is %s, expected an array; skipped",
					openrouter_type_name(v));
			continue;
		}
		size_t i;
		json_t *tier;
		json_array_foreach(v, i, tier)
			openrouter_tier(w, rec, i, tier);
	}
}

/* ---------------------------------------------------------------- lists */

/* Add every string of an array to a list field. Returns false when the
 * value is absent, null or not an array (the latter with a warning). */
static bool openrouter_list(struct openrouter_walk *w, struct mf_record *rec, const json_t *list,
			    const char *label, enum mf_field field)
{
	if (list == NULL || json_is_null(list))
		return false;
	if (!json_is_array(list)) {
		openrouter_warn(w, "%s is %s, expected an array; field skipped", label,
				openrouter_type_name(list));
		return false;
	}
	size_t i;
	json_t *item;
	json_array_foreach(list, i, item) {
		if (!json_is_string(item) || json_string_length(item) == 0) {
			openrouter_warn(w, "%s[%zu] is %s, expected a name; skipped", label, i,
					openrouter_type_name(item));
			continue;
		}
		openrouter_check(w, w->host->list_add(rec, field, json_string_value(item)), label);
	}
	return true;
}

/* "text+image->text": the older spelling of the two modality lists, used
 * when an entry lacks them. */
static void openrouter_modality_string(struct openrouter_walk *w, struct mf_record *rec,
				       const char *modality, bool output, enum mf_field field)
{
	const char *arrow = strstr(modality, "->");
	if (arrow == NULL) {
		openrouter_warn(w, "architecture.modality \"%.60s\" has no \"->\"; skipped",
				modality);
		return;
	}
	const char *p = output ? arrow + 2 : modality;
	const char *end = output ? p + strlen(p) : arrow;
	while (p < end) {
		const char *plus = memchr(p, '+', (size_t)(end - p));
		const char *stop = plus != NULL ? plus : end;
		if (stop > p) {
			char name[64];
			size_t len = (size_t)(stop - p);
			if (len < sizeof(name)) {
				memcpy(name, p, len);
				name[len] = '\0';
				openrouter_check(w, w->host->list_add(rec, field, name),
						 "architecture.modality");
			}
		}
		p = stop + 1;
	}
}

static void openrouter_modalities(struct openrouter_walk *w, struct mf_record *rec,
				  const json_t *entry)
{
	const json_t *arch = json_object_get(entry, "architecture");
	if (arch == NULL || json_is_null(arch))
		return;
	if (!json_is_object(arch)) {
		openrouter_warn(w, "architecture is %s, expected an object; field skipped",
				openrouter_type_name(arch));
		return;
	}
	bool have_in = openrouter_list(w, rec, json_object_get(arch, "input_modalities"),
				       "architecture.input_modalities",
				       MF_FIELD_INPUT_MODALITIES);
	bool have_out = openrouter_list(w, rec, json_object_get(arch, "output_modalities"),
					"architecture.output_modalities",
					MF_FIELD_OUTPUT_MODALITIES);
	if (have_in && have_out)
		return;
	const json_t *modality = json_object_get(arch, "modality");
	if (modality == NULL || json_is_null(modality))
		return;
	if (!json_is_string(modality)) {
		openrouter_warn(w, "architecture.modality is %s, expected a string; skipped",
				openrouter_type_name(modality));
		return;
	}
	if (!have_in)
		openrouter_modality_string(w, rec, json_string_value(modality), false,
					   MF_FIELD_INPUT_MODALITIES);
	if (!have_out)
		openrouter_modality_string(w, rec, json_string_value(modality), true,
					   MF_FIELD_OUTPUT_MODALITIES);
}

/* supported_parameters lists what the endpoint accepts; `tools` means tool
 * calling, `reasoning`/`include_reasoning` a reasoning model. */
static void openrouter_parameters(struct openrouter_walk *w, struct mf_record *rec,
				  const json_t *entry)
{
	const json_t *list = json_object_get(entry, "supported_parameters");
	if (!openrouter_list(w, rec, list, "supported_parameters",
			     MF_FIELD_SUPPORTED_PARAMETERS))
		return;
	bool tools = false, reasoning = false;
	size_t i;
	json_t *item;
	json_array_foreach(list, i, item) {
		const char *p = json_string_value(item);
		if (p == NULL)
			continue;
		tools |= strcmp(p, "tools") == 0;
		reasoning |= strcmp(p, "reasoning") == 0 || strcmp(p, "include_reasoning") == 0;
	}
	if (tools)
		openrouter_check(w, w->host->set_bool(rec, MF_FIELD_TOOL_CALL, true), "tools");
	if (reasoning)
		openrouter_check(w, w->host->set_bool(rec, MF_FIELD_REASONING, true),
				 "reasoning");
}

/* ---------------------------------------------------------------- ids */

static bool openrouter_is_suffix_word(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-' &&
		    *s != '_')
			return false;
	return true;
}

/* `x:free`, `x:extended`, `x:nitro`... serve x; `x:thinking` is a model
 * variant of its own. `~vendor/...` and `...-latest` move with the vendor. */
static void openrouter_id_parts(struct openrouter_walk *w, struct mf_record *rec, const char *id)
{
	size_t base_len = strlen(id);
	const char *colon = strrchr(id, ':');
	if (colon != NULL && colon != id && openrouter_is_suffix_word(colon + 1)) {
		base_len = (size_t)(colon - id);
		if (strcmp(colon + 1, "thinking") != 0) {
			openrouter_check(w, w->host->set_string_n(rec, MF_FIELD_BASE_ID, id,
								  base_len),
					 "base id");
			openrouter_check(w, w->host->set_string(rec, MF_FIELD_SERVING_SUFFIX,
								colon + 1),
					 "serving suffix");
		}
	}
	static const char latest[] = "-latest";
	size_t n = sizeof(latest) - 1;
	if (id[0] == '~' || (base_len >= n && memcmp(id + base_len - n, latest, n) == 0))
		openrouter_check(w, w->host->set_bool(rec, MF_FIELD_MOVING_POINTER, true),
				 "moving pointer");
}

/* alias_target: {name, slug} in the files seen; a bare string is taken too. */
static void openrouter_alias_target(struct openrouter_walk *w, struct mf_record *rec,
				    const json_t *entry)
{
	const json_t *v = json_object_get(entry, "alias_target");
	if (v == NULL || json_is_null(v))
		return;
	if (json_is_object(v)) {
		openrouter_string(w, rec, v, "slug", MF_FIELD_ALIAS_TARGET);
		return;
	}
	if (json_is_string(v)) {
		if (json_string_length(v) > 0)
			openrouter_check(w, w->host->set_string(rec, MF_FIELD_ALIAS_TARGET,
								json_string_value(v)),
					 "alias_target");
		return;
	}
	openrouter_warn(w, "alias_target is %s, expected an object; field skipped",
			openrouter_type_name(v));
}

/* ---------------------------------------------------------------- entries */

static int openrouter_emit(struct openrouter_walk *w, struct mf_record *rec)
{
	if (w->rc != MF_OK) {
		w->host->record_free(rec);
		return w->rc;
	}
	/* emit owns rec whatever it returns. A refused record (MF_EINVAL) is
	 * the core's to count; anything else means it takes no more. */
	int rc = w->host->emit(w->ctx, rec);
	return rc == MF_OK || rc == MF_EINVAL ? MF_OK : rc;
}

static int openrouter_entry(struct openrouter_walk *w, const json_t *entry)
{
	const struct mf_host *host = w->host;
	w->id = NULL;
	if (!json_is_object(entry)) {
		openrouter_warn(w, "entry is %s, expected an object; skipped",
				openrouter_type_name(entry));
		return MF_OK;
	}
	const json_t *idv = json_object_get(entry, "id");
	if (!json_is_string(idv) || json_string_length(idv) == 0 ||
	    strlen(json_string_value(idv)) != json_string_length(idv)) {
		/* Handed over without an id, so that the core drops and counts
		 * it the way it does every such record. */
		const char *what = idv == NULL	      ? "missing"
				   : json_is_string(idv) ? "empty"
							 : openrouter_type_name(idv);
		openrouter_warn(w, "id is %s, expected a non-empty string; entry dropped", what);
		struct mf_record *rec = host->record_new(w->ctx, MF_RECORD_OFFERING, "");
		return rec == NULL ? MF_ENOMEM : openrouter_emit(w, rec);
	}
	const char *id = json_string_value(idv);
	w->id = id;

	struct mf_record *rec = host->record_new(w->ctx, MF_RECORD_OFFERING, id);
	if (rec == NULL)
		return MF_ENOMEM;
	openrouter_check(w, host->set_string(rec, MF_FIELD_PROVIDER, "openrouter"), "provider");
	openrouter_id_parts(w, rec, id);

	openrouter_string(w, rec, entry, "name", MF_FIELD_NAME);
	openrouter_description(w, rec, entry);
	openrouter_created(w, rec, entry);
	openrouter_string(w, rec, entry, "canonical_slug", MF_FIELD_CANONICAL_SLUG);
	openrouter_string(w, rec, entry, "hugging_face_id", MF_FIELD_HF_ID);
	openrouter_string(w, rec, entry, "knowledge_cutoff", MF_FIELD_KNOWLEDGE);
	openrouter_string(w, rec, entry, "expiration_date", MF_FIELD_EXPIRATION_DATE);
	openrouter_alias_target(w, rec, entry);

	/* The model's context is `context_length`; top_provider.context_length
	 * is only the best endpoint's and may be smaller. */
	openrouter_limit(w, rec, entry, "context_length", "context_length",
			 MF_FIELD_CONTEXT_TOKENS);
	const json_t *top = json_object_get(entry, "top_provider");
	if (json_is_object(top))
		openrouter_limit(w, rec, top, "max_completion_tokens",
				 "top_provider.max_completion_tokens", MF_FIELD_MAX_OUTPUT_TOKENS);
	else if (top != NULL && !json_is_null(top))
		openrouter_warn(w, "top_provider is %s, expected an object; field skipped",
				openrouter_type_name(top));

	openrouter_pricing(w, rec, entry);
	openrouter_modalities(w, rec, entry);
	openrouter_parameters(w, rec, entry);
	/* Newer files describe reasoning support in an object of its own. */
	if (json_is_object(json_object_get(entry, "reasoning")))
		openrouter_check(w, host->set_bool(rec, MF_FIELD_REASONING, true), "reasoning");

	return openrouter_emit(w, rec);
}

static json_t *openrouter_parse(const struct mf_host *host, struct mf_context *ctx,
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
		host->log(ctx, MF_LOG_ERROR,
			  "%s: top level is %s, expected an object with a data array", where,
			  openrouter_type_name(root));
		json_decref(root);
		return NULL;
	}
	const json_t *data = json_object_get(root, "data");
	if (!json_is_array(data)) {
		host->log(ctx, MF_LOG_ERROR, "%s: data is %s, expected an array of models", where,
			  data == NULL ? "missing" : openrouter_type_name(data));
		json_decref(root);
		return NULL;
	}
	return root;
}

static int openrouter_normalize(const struct mf_host *host, struct mf_context *ctx, void *state,
				const struct mf_page *page)
{
	(void)state;
	json_t *root = openrouter_parse(host, ctx, page);
	if (root == NULL)
		return MF_EPARSE;

	struct openrouter_walk w = {.host = host, .ctx = ctx, .rc = MF_OK};
	int rc = MF_OK;
	const json_t *data = json_object_get(root, "data");
	size_t i;
	json_t *entry;
	json_array_foreach(data, i, entry) {
		w.position = i + 1;
		rc = openrouter_entry(&w, entry);
		if (rc != MF_OK)
			break;
	}
	if (w.warnings > OPENROUTER_MAX_WARNINGS)
		host->log(ctx, MF_LOG_WARNING, "%u more warnings on %s not shown",
			  w.warnings - OPENROUTER_MAX_WARNINGS,
			  page->url != NULL ? page->url : "this page");
	json_decref(root);
	return rc;
}

/* ---------------------------------------------------------------- fetch */

/* url with output_modalities=all added to its query, before any fragment;
 * unchanged when the query already chooses output modalities. Caller frees. */
static char *openrouter_url_all(const char *url)
{
	size_t len = strlen(url);
	const char *hash = strchr(url, '#');
	size_t cut = hash != NULL ? (size_t)(hash - url) : len;
	const char *query = memchr(url, '?', cut);
	const char *sep = "?";
	if (query != NULL) {
		/* Look for the parameter at the start of the query or after '&'. */
		static const char name[] = "output_modalities=";
		for (const char *p = query + 1; p < url + cut;) {
			const char *amp = memchr(p, '&', (size_t)(url + cut - p));
			const char *stop = amp != NULL ? amp : url + cut;
			if ((size_t)(stop - p) >= sizeof(name) - 1 &&
			    memcmp(p, name, sizeof(name) - 1) == 0)
				return strdup(url);
			p = stop + 1;
		}
		char last = url[cut - 1];
		sep = last == '?' || last == '&' ? "" : "&";
	}
	size_t size = len + strlen(sep) + sizeof(OPENROUTER_ALL_PARAM);
	char *out = malloc(size);
	if (out == NULL)
		return NULL;
	int n = snprintf(out, size, "%.*s%s%s%s", (int)cut, url, sep, OPENROUTER_ALL_PARAM,
			 url + cut);
	if (n < 0 || (size_t)n >= size) {
		free(out);
		return NULL;
	}
	return out;
}

static bool openrouter_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The closing quote of the string opening at p (one not escaped by an odd
 * run of backslashes), or NULL. */
static const char *openrouter_string_end(const char *p, const char *end)
{
	for (const char *from = p + 1;;) {
		const char *q = memchr(from, '"', (size_t)(end - from));
		if (q == NULL)
			return NULL;
		const char *b = q;
		while (b > from && b[-1] == '\\')
			b--;
		if ((q - b) % 2 == 0)
			return q;
		from = q + 1;
	}
}

enum openrouter_find { OPENROUTER_UNSURE = -1, OPENROUTER_NONE = 0, OPENROUTER_FOUND = 1 };

/*
 * Where the value of the top-level key "links" starts, found by a walk over
 * brackets and strings instead of a parse of the whole page (the entries
 * have "links" of their own). UNSURE for anything but a plainly
 * well-bracketed object with one plain "links" key (escapes in a key,
 * duplicates): the caller then parses the page as a whole, as before.
 */
static enum openrouter_find openrouter_find_links(const char *data, size_t size, size_t *at)
{
	const char *p = data, *end = data + size;
	while (p < end && openrouter_space(*p))
		p++;
	if (p == end || *p != '{')
		return OPENROUTER_UNSURE;
	uint64_t kinds = 0; /* open brackets below the top, 1 for '[' */
	unsigned depth = 1;
	bool want_key = true;
	enum openrouter_find found = OPENROUTER_NONE;
	for (p++; p < end; p++) {
		char c = *p;
		if (openrouter_space(c))
			continue;
		if (c == '"') {
			const char *q = openrouter_string_end(p, end);
			if (q == NULL)
				return OPENROUTER_UNSURE;
			if (depth == 1 && want_key) {
				size_t n = (size_t)(q - p - 1);
				if (memchr(p + 1, '\\', n) != NULL)
					return OPENROUTER_UNSURE;
				bool links = n == 5 && memcmp(p + 1, "links", 5) == 0;
				for (q++; q < end && openrouter_space(*q); q++)
					;
				if (q == end || *q != ':')
					return OPENROUTER_UNSURE;
				if (links) {
					if (found == OPENROUTER_FOUND)
						return OPENROUTER_UNSURE;
					found = OPENROUTER_FOUND;
					*at = (size_t)(q + 1 - data);
				}
				want_key = false;
			}
			p = q;
		} else if (c == '{' || c == '[') {
			if (depth >= 64)
				return OPENROUTER_UNSURE;
			kinds = kinds << 1 | (c == '[');
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 1) {
				if (c != '}')
					return OPENROUTER_UNSURE;
				for (p++; p < end && openrouter_space(*p); p++)
					;
				return p == end ? found : OPENROUTER_UNSURE;
			}
			if ((kinds & 1) != (c == ']'))
				return OPENROUTER_UNSURE;
			kinds >>= 1;
			depth--;
		} else if (c == ',' && depth == 1) {
			want_key = true;
		} else if (c == '\0') {
			return OPENROUTER_UNSURE;
		}
	}
	return OPENROUTER_UNSURE;
}

/* The next page a response names in links.next, made absolute against the
 * page's own URL; NULL when there is none. Caller frees. */
static char *openrouter_next_url(const struct mf_host *host, struct mf_context *ctx,
				 const struct mf_page *prev)
{
	/* Most pages have no top-level links at all, and the rest one small
	 * object of them: the page is parsed whole only when in doubt. */
	if (prev->data == NULL)
		return NULL;
	size_t at = 0;
	enum openrouter_find where = openrouter_find_links(prev->data, prev->size, &at);
	if (where == OPENROUTER_NONE)
		return NULL;
	json_t *root = where == OPENROUTER_FOUND ? json_loadb(prev->data + at, prev->size - at,
							      JSON_DISABLE_EOF_CHECK, NULL)
						 : json_loadb(prev->data, prev->size, 0, NULL);
	if (root == NULL)
		return NULL; /* normalize reports what is wrong with the page */
	const json_t *links = where == OPENROUTER_FOUND ? root : json_object_get(root, "links");
	const json_t *next = json_object_get(links, "next");
	char *out = NULL;
	if (!json_is_string(next) || json_string_length(next) == 0)
		goto done;
	const char *s = json_string_value(next);
	const char *base = prev->url != NULL ? prev->url : "";
	if (strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0) {
		out = strdup(s);
	} else if (s[0] == '/' && s[1] != '/' &&
		   (strncmp(base, "https://", 8) == 0 || strncmp(base, "http://", 7) == 0)) {
		/* A path: keep the scheme and host of the page it came from. */
		const char *host_start = strstr(base, "://") + 3;
		size_t origin = strcspn(host_start, "/?#") + (size_t)(host_start - base);
		size_t size = origin + strlen(s) + 1;
		out = malloc(size);
		if (out != NULL)
			snprintf(out, size, "%.*s%s", (int)origin, base, s);
	} else {
		host->log(ctx, MF_LOG_WARNING,
			  "%s: links.next \"%.80s\" is not a URL; no more pages", base, s);
		goto done;
	}
	/* A page naming itself would loop until the core's page cap. */
	if (out != NULL && prev->url != NULL && strcmp(out, prev->url) == 0) {
		free(out);
		out = NULL;
	}
done:
	json_decref(root);
	return out;
}

static int openrouter_fetch(const struct mf_host *host, struct mf_context *ctx, void *state,
			    const struct mf_page *prev, struct mf_request *req)
{
	(void)state;
	char *url;
	if (prev != NULL) {
		url = openrouter_next_url(host, ctx, prev);
		if (url == NULL)
			return MF_DONE;
	} else if (host->option_bool(ctx, OPENROUTER_OPT_ALL)) {
		url = openrouter_url_all(host->source_url(ctx));
		if (url == NULL)
			return MF_ENOMEM;
	} else {
		return host->request_set_url(req, host->source_url(ctx));
	}
	int rc = host->request_set_url(req, url);
	free(url);
	return rc;
}

static const struct mf_option openrouter_options[] = {
	{
		.name = OPENROUTER_OPT_ALL,
		.type = MF_OPT_BOOL,
		.default_value = "no",
		.help = "also list image, audio and video models (?output_modalities=all)",
	},
	{.name = NULL},
};

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "openrouter",
	.version = "1.0.0",
	.description = "OpenRouter model list: prices, context, modalities, crosswalk slugs",
	.default_url = "https://openrouter.ai/api/v1/models",
	.options = openrouter_options,
	.init = NULL,
	.fetch = openrouter_fetch,
	.normalize = openrouter_normalize,
	.fini = NULL,
};
