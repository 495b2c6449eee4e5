/*
 * modelsdev: the models.dev catalog (https://models.dev/api.json).
 *
 * The upstream is one JSON object: provider id -> provider entry whose
 * `models` object maps model id -> model. Every model under every provider
 * is one offering: the provider serving it under the model's key, with
 * price (already USD per 1M tokens), limits, modalities and flags.
 *
 * The file is a single page. Parsing is strict about the document and lax
 * about entries: a broken document is refused (MF_EPARSE, so the last good
 * payload is kept), a broken field only loses that field, with a warning.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <modelfuse/plugin.h>

/* Warnings per page before the rest are only counted: a format change
 * upstream would otherwise print one line per model (thousands). */
#define MODELSDEV_MAX_WARNINGS 20

/* Largest integer a double holds exactly: real limits beyond it cannot be
 * whole numbers we could trust. */
#define MODELSDEV_MAX_LIMIT 9007199254740992.0

/* State of one normalize call: what is being read, for messages. */
struct modelsdev_walk {
	const struct mf_host *host;
	struct mf_context *ctx;
	const char *provider;
	const char *model;
	unsigned warnings;
	int rc; /* first fatal setter failure (out of memory), else MF_OK */
};

static void modelsdev_warn(struct modelsdev_walk *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void modelsdev_warn(struct modelsdev_walk *w, const char *fmt, ...)
{
	w->warnings++;
	if (w->warnings > MODELSDEV_MAX_WARNINGS)
		return;

	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* A truncated message still says enough; mark it rather than fail. */
	const char *more = (size_t)n >= sizeof(msg) ? "..." : "";
	if (w->provider != NULL && w->model != NULL)
		w->host->log(w->ctx, MF_LOG_WARNING, "%s/%s: %s%s", w->provider, w->model, msg,
			     more);
	else if (w->provider != NULL)
		w->host->log(w->ctx, MF_LOG_WARNING, "%s: %s%s", w->provider, msg, more);
	else
		w->host->log(w->ctx, MF_LOG_WARNING, "%s%s", msg, more);
}

static const char *modelsdev_type_name(const json_t *v)
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

/* Remember the first out-of-memory; any other setter refusal costs only the
 * field and is reported. */
static void modelsdev_check(struct modelsdev_walk *w, int rc, const char *field)
{
	if (rc == MF_OK)
		return;
	if (rc == MF_ENOMEM) {
		if (w->rc == MF_OK)
			w->rc = MF_ENOMEM;
		return;
	}
	modelsdev_warn(w, "%s: value refused by the core (status %d), skipped", field, rc);
}

/* A string field: absent, null and "" mean unknown; other types are wrong. */
static void modelsdev_string(struct modelsdev_walk *w, struct mf_record *rec, const json_t *model,
			     const char *key, enum mf_field field)
{
	const json_t *v = json_object_get(model, key);
	if (v == NULL || json_is_null(v))
		return;
	if (!json_is_string(v)) {
		modelsdev_warn(w, "%s is %s, expected a string; field skipped", key,
			       modelsdev_type_name(v));
		return;
	}
	if (json_string_length(v) == 0)
		return;
	modelsdev_check(w, w->host->set_string_n(rec, field, json_string_value(v),
						 json_string_length(v)),
			key);
}

static void modelsdev_bool(struct modelsdev_walk *w, struct mf_record *rec, const json_t *model,
			   const char *key, enum mf_field field)
{
	const json_t *v = json_object_get(model, key);
	if (v == NULL || json_is_null(v))
		return;
	if (!json_is_boolean(v)) {
		modelsdev_warn(w, "%s is %s, expected a boolean; field skipped", key,
			       modelsdev_type_name(v));
		return;
	}
	modelsdev_check(w, w->host->set_bool(rec, field, json_is_true(v)), key);
}

/* One limit in tokens. 0 is models.dev's "unknown" (image models, for
 * one), so it is left unset rather than stored as a real limit. */
static void modelsdev_limit(struct modelsdev_walk *w, struct mf_record *rec, const json_t *limit,
			    const char *key, enum mf_field field)
{
	const json_t *v = json_object_get(limit, key);
	if (v == NULL || json_is_null(v))
		return;

	int64_t tokens;
	if (json_is_integer(v)) {
		tokens = json_integer_value(v);
	} else if (json_is_real(v)) {
		/* 128000.0 is a fine limit written oddly; 1.5 tokens is not. */
		double d = json_real_value(v);
		if (d != floor(d) || d < -MODELSDEV_MAX_LIMIT || d > MODELSDEV_MAX_LIMIT) {
			modelsdev_warn(w, "limit.%s is %g, not a whole number; field skipped", key,
				       d);
			return;
		}
		tokens = (int64_t)d;
	} else {
		modelsdev_warn(w, "limit.%s is %s, expected a number; field skipped", key,
			       modelsdev_type_name(v));
		return;
	}
	if (tokens == 0)
		return;
	if (tokens < 0) {
		modelsdev_warn(w, "limit.%s is %" PRId64 ", negative; field skipped", key, tokens);
		return;
	}
	char name[32];
	snprintf(name, sizeof(name), "limit.%s", key);
	modelsdev_check(w, w->host->set_int(rec, field, tokens), name);
}

/* Prices are USD per 1M tokens already: stored as given, every numeric key
 * under its own name. A nested object (`context_over_200k`) is a price
 * tier: its keys go in with the tier name as prefix. */
static void modelsdev_cost_object(struct modelsdev_walk *w, struct mf_record *rec,
				  const json_t *cost, const char *prefix)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)cost, key, v) {
		char name[128];
		int n = snprintf(name, sizeof(name), "%s%s", prefix, key);
		if (n < 0 || (size_t)n >= sizeof(name)) {
			modelsdev_warn(w, "cost key %s%.40s... too long; skipped", prefix, key);
			continue;
		}
		if (json_is_number(v)) {
			modelsdev_check(w,
					w->host->map_set(rec, MF_FIELD_PRICE, name,
							 json_number_value(v)),
					name);
		} else if (json_is_object(v) && prefix[0] == '\0') {
			char sub[128];
			n = snprintf(sub, sizeof(sub), "%s.", key);
			if (n < 0 || (size_t)n >= sizeof(sub)) {
				modelsdev_warn(w, "cost key %.40s... too long; skipped", key);
				continue;
			}
			modelsdev_cost_object(w, rec, v, sub);
		} else if (json_is_null(v)) {
			continue;
		} else if (prefix[0] == '\0' && strcmp(key, "tiers") == 0 && json_is_array(v)) {
			/* Newer files list tiers generically; the same prices also
			 * come as context_over_200k, which is what we keep. */
			continue;
		} else {
			modelsdev_warn(w, "cost.%s is %s, expected a number; field skipped", name,
				       modelsdev_type_name(v));
		}
	}
}

static void modelsdev_cost(struct modelsdev_walk *w, struct mf_record *rec, const json_t *model)
{
	const json_t *cost = json_object_get(model, "cost");
	if (cost == NULL || json_is_null(cost))
		return;
	if (!json_is_object(cost)) {
		modelsdev_warn(w, "cost is %s, expected an object; field skipped",
			       modelsdev_type_name(cost));
		return;
	}
	modelsdev_cost_object(w, rec, cost, "");
}

static void modelsdev_limits(struct modelsdev_walk *w, struct mf_record *rec, const json_t *model)
{
	const json_t *limit = json_object_get(model, "limit");
	if (limit == NULL || json_is_null(limit))
		return;
	if (!json_is_object(limit)) {
		modelsdev_warn(w, "limit is %s, expected an object; field skipped",
			       modelsdev_type_name(limit));
		return;
	}
	modelsdev_limit(w, rec, limit, "context", MF_FIELD_CONTEXT_TOKENS);
	modelsdev_limit(w, rec, limit, "output", MF_FIELD_MAX_OUTPUT_TOKENS);
	modelsdev_limit(w, rec, limit, "input", MF_FIELD_MAX_INPUT_TOKENS);
}

static void modelsdev_modality_list(struct modelsdev_walk *w, struct mf_record *rec,
				    const json_t *modalities, const char *key, enum mf_field field)
{
	const json_t *list = json_object_get(modalities, key);
	if (list == NULL || json_is_null(list))
		return;
	if (!json_is_array(list)) {
		modelsdev_warn(w, "modalities.%s is %s, expected an array; field skipped", key,
			       modelsdev_type_name(list));
		return;
	}
	size_t i;
	json_t *item;
	json_array_foreach(list, i, item) {
		if (!json_is_string(item) || json_string_length(item) == 0) {
			modelsdev_warn(w, "modalities.%s[%zu] is %s, expected a name; skipped",
				       key, i, modelsdev_type_name(item));
			continue;
		}
		modelsdev_check(w, w->host->list_add(rec, field, json_string_value(item)), key);
	}
}

static void modelsdev_modalities(struct modelsdev_walk *w, struct mf_record *rec,
				 const json_t *model)
{
	const json_t *mods = json_object_get(model, "modalities");
	if (mods == NULL || json_is_null(mods))
		return;
	if (!json_is_object(mods)) {
		modelsdev_warn(w, "modalities is %s, expected an object; field skipped",
			       modelsdev_type_name(mods));
		return;
	}
	modelsdev_modality_list(w, rec, mods, "input", MF_FIELD_INPUT_MODALITIES);
	modelsdev_modality_list(w, rec, mods, "output", MF_FIELD_OUTPUT_MODALITIES);
}

/* Capability flags without a field of their own become tags.
 * `interleaved` is true or an object naming the reasoning field. */
static void modelsdev_tags(struct modelsdev_walk *w, struct mf_record *rec, const json_t *model)
{
	static const char *const flags[] = {"structured_output", "interleaved"};

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		const json_t *v = json_object_get(model, flags[i]);
		if (v == NULL || json_is_null(v) || json_is_false(v))
			continue;
		if (json_is_true(v) || (json_is_object(v) && i == 1)) {
			modelsdev_check(w, w->host->list_add(rec, MF_FIELD_TAGS, flags[i]),
					flags[i]);
			continue;
		}
		modelsdev_warn(w, "%s is %s, expected a boolean; field skipped", flags[i],
			       modelsdev_type_name(v));
	}
}

/* Build and emit the offering of one model. Returns MF_OK, or a fatal
 * status (out of memory, or the core refusing records altogether). */
static int modelsdev_model(struct modelsdev_walk *w, const char *key, const json_t *model)
{
	const struct mf_host *host = w->host;

	if (!json_is_object(model)) {
		modelsdev_warn(w, "entry is %s, expected an object; model skipped",
			       modelsdev_type_name(model));
		return MF_OK;
	}

	struct mf_record *rec = host->record_new(w->ctx, MF_RECORD_OFFERING, key);
	if (rec == NULL)
		return MF_ENOMEM;

	/* The two map keys are the id the catalog reports (SPEC source_ids). */
	char source_key[1024];
	int n = snprintf(source_key, sizeof(source_key), "%s/%s", w->provider, key);
	if (n < 0 || (size_t)n >= sizeof(source_key)) {
		modelsdev_warn(w, "provider/model key too long; model skipped");
		host->record_free(rec);
		return MF_OK;
	}
	modelsdev_check(w, host->set_string(rec, MF_FIELD_PROVIDER, w->provider), "provider");
	modelsdev_check(w, host->set_string(rec, MF_FIELD_SOURCE_KEY, source_key), "source key");

	modelsdev_string(w, rec, model, "name", MF_FIELD_NAME);
	modelsdev_string(w, rec, model, "family", MF_FIELD_FAMILY);
	modelsdev_string(w, rec, model, "knowledge", MF_FIELD_KNOWLEDGE);
	modelsdev_string(w, rec, model, "release_date", MF_FIELD_RELEASE_DATE);
	modelsdev_string(w, rec, model, "last_updated", MF_FIELD_LAST_UPDATED);
	modelsdev_string(w, rec, model, "status", MF_FIELD_STATUS);
	modelsdev_bool(w, rec, model, "reasoning", MF_FIELD_REASONING);
	modelsdev_bool(w, rec, model, "tool_call", MF_FIELD_TOOL_CALL);
	modelsdev_bool(w, rec, model, "attachment", MF_FIELD_ATTACHMENT);
	modelsdev_bool(w, rec, model, "temperature", MF_FIELD_TEMPERATURE);
	modelsdev_bool(w, rec, model, "open_weights", MF_FIELD_OPEN_WEIGHTS);
	modelsdev_cost(w, rec, model);
	modelsdev_limits(w, rec, model);
	modelsdev_modalities(w, rec, model);
	modelsdev_tags(w, rec, model);

	if (w->rc != MF_OK) {
		host->record_free(rec);
		return w->rc;
	}
	/* emit owns rec from here on, whatever it returns. A refused record
	 * (MF_EINVAL) is the core's to count; anything else means the core
	 * can take no more records, so going on would be pointless. */
	int rc = host->emit(w->ctx, rec);
	if (rc != MF_OK && rc != MF_EINVAL)
		return rc;
	return MF_OK;
}

static int modelsdev_provider(struct modelsdev_walk *w, const json_t *provider)
{
	w->model = NULL;
	if (!json_is_object(provider)) {
		modelsdev_warn(w, "provider entry is %s, expected an object; skipped",
			       modelsdev_type_name(provider));
		return MF_OK;
	}
	const json_t *models = json_object_get(provider, "models");
	if (models == NULL || json_is_null(models))
		return MF_OK;
	if (!json_is_object(models)) {
		modelsdev_warn(w, "models is %s, expected an object; provider skipped",
			       modelsdev_type_name(models));
		return MF_OK;
	}

	const char *key;
	json_t *model;
	size_t position = 0;
	json_object_foreach((json_t *)models, key, model) {
		position++;
		w->model = NULL;
		/* No usable id: still handed over, so that the core drops it the
		 * way it drops every such record, and counts it. */
		if (key[0] == '\0')
			modelsdev_warn(w, "model #%zu has an empty id; dropped", position);
		else
			w->model = key;
		int rc = modelsdev_model(w, key, model);
		if (rc != MF_OK)
			return rc;
	}
	w->model = NULL;
	return MF_OK;
}

/* Duplicate keys make a JSON document ambiguous, but refusing all of
 * models.dev over one repeated key would keep the source stale until
 * upstream fixed it. So: detect them (strict parse), say where, and take the
 * document as jansson reads it by default (the last value wins). */
static json_t *modelsdev_parse(const struct mf_host *host, struct mf_context *ctx,
			       const struct mf_page *page)
{
	const char *where = page->url != NULL ? page->url : "page";
	json_error_t err;
	json_t *root = json_loadb(page->data, page->size, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL && json_error_code(&err) == json_error_duplicate_key) {
		host->log(ctx, MF_LOG_WARNING,
			  "%s: line %d, column %d: %s; the last value is used", where,
			  err.line, err.column, err.text);
		root = json_loadb(page->data, page->size, 0, &err);
	}
	if (root == NULL) {
		host->log(ctx, MF_LOG_ERROR, "%s: not valid JSON: line %d, column %d: %s",
			  where, err.line, err.column, err.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		host->log(ctx, MF_LOG_ERROR,
			  "%s: top level is %s, expected an object of providers", where,
			  modelsdev_type_name(root));
		json_decref(root);
		return NULL;
	}
	return root;
}

static int modelsdev_fetch(const struct mf_host *host, struct mf_context *ctx, void *state,
			   const struct mf_page *prev, struct mf_request *req)
{
	(void)state;
	if (prev != NULL)
		return MF_DONE;
	return host->request_set_url(req, host->source_url(ctx));
}

static int modelsdev_normalize(const struct mf_host *host, struct mf_context *ctx, void *state,
			       const struct mf_page *page)
{
	(void)state;
	json_t *root = modelsdev_parse(host, ctx, page);
	if (root == NULL)
		return MF_EPARSE;

	struct modelsdev_walk w = {.host = host, .ctx = ctx, .rc = MF_OK};
	int rc = MF_OK;
	const char *key;
	json_t *provider;
	json_object_foreach(root, key, provider) {
		w.model = NULL;
		if (key[0] == '\0') {
			w.provider = NULL;
			modelsdev_warn(&w, "a provider has an empty id; skipped");
			continue;
		}
		w.provider = key;
		rc = modelsdev_provider(&w, provider);
		if (rc != MF_OK)
			break;
	}
	if (w.warnings > MODELSDEV_MAX_WARNINGS)
		host->log(ctx, MF_LOG_WARNING, "%u more warnings on %s not shown",
			  w.warnings - MODELSDEV_MAX_WARNINGS,
			  page->url != NULL ? page->url : "this page");
	json_decref(root);
	return rc;
}

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "modelsdev",
	.version = "1.0.0",
	.description = "models.dev catalog: per-provider prices, limits, modalities and flags",
	.default_url = "https://models.dev/api.json",
	.options = NULL,
	.init = NULL,
	.fetch = modelsdev_fetch,
	.normalize = modelsdev_normalize,
	.fini = NULL,
};
