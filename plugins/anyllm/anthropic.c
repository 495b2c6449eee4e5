/*
 * anyllm: Anthropic's `GET /v1/models`: {data: [{id, display_name,
 * created_at, type}], has_more, first_id, last_id}, paged with after_id
 * (anyllm.c plans the pages). Newer listings add max_input_tokens (the
 * context window), max_tokens (the output limit) and `capabilities`: nested
 * objects each with a `supported` boolean.
 */
#include <stdio.h>
#include <string.h>

#include "anyllm.h"

/* Capabilities nest: {thinking: {supported, types: {adaptive: {supported}}}}.
 * Deeper levels are detail; two below the top are enough for every level
 * seen ("thinking.adaptive", "effort.max"). */
#define ANTHROPIC_CAPABILITY_DEPTH 3

/* Usual names for the features that have one elsewhere in the catalog. */
static const char *anthropic_capability_name(const char *name)
{
	if (strcmp(name, "image_input") == 0)
		return "vision";
	if (strcmp(name, "pdf_input") == 0)
		return "pdf";
	return name;
}

static void anthropic_capability(struct anyllm_walk *w, struct mf_record *rec, const char *path,
				 const json_t *obj, int depth)
{
	const json_t *supported = json_object_get(obj, "supported");
	if (supported != NULL && !json_is_boolean(supported)) {
		anyllm_warn(w, "capabilities.%s.supported is %s, expected a boolean; skipped", path,
			    anyllm_type_name(supported));
		return;
	}
	/* A feature that is not supported has no supported sub-features. */
	if (json_is_false(supported))
		return;
	if (json_is_true(supported))
		anyllm_check(w, w->host->list_add(rec, MF_FIELD_CAPABILITIES, path),
			     "capabilities");
	if (depth >= ANTHROPIC_CAPABILITY_DEPTH)
		return;

	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v)
	{
		if (!json_is_object(v))
			continue;
		/* `types` only groups variants: thinking.types.adaptive is
		 * "thinking.adaptive". */
		if (strcmp(key, "types") == 0) {
			const char *sub;
			json_t *sv;
			json_object_foreach(v, sub, sv)
			{
				char name[160];
				int n = snprintf(name, sizeof(name), "%s.%s", path, sub);
				if (json_is_object(sv) && n > 0 && (size_t)n < sizeof(name))
					anthropic_capability(w, rec, name, sv, depth + 1);
			}
			continue;
		}
		char name[160];
		int n = snprintf(name, sizeof(name), "%s.%s", path, key);
		if (n > 0 && (size_t)n < sizeof(name))
			anthropic_capability(w, rec, name, v, depth + 1);
	}
}

static void anthropic_capabilities(struct anyllm_walk *w, struct mf_record *rec,
				   const json_t *entry)
{
	const json_t *caps = json_object_get(entry, "capabilities");
	if (caps == NULL || json_is_null(caps))
		return;
	if (!json_is_object(caps)) {
		anyllm_warn(w, "capabilities is %s, expected an object; field skipped",
			    anyllm_type_name(caps));
		return;
	}
	const struct mf_host *host = w->host;
	/* Every model reads and writes text; the listing says what else. */
	anyllm_check(w, host->list_add(rec, MF_FIELD_INPUT_MODALITIES, "text"), "modalities");
	anyllm_check(w, host->list_add(rec, MF_FIELD_OUTPUT_MODALITIES, "text"), "modalities");

	const char *key;
	json_t *v;
	json_object_foreach((json_t *)caps, key, v)
	{
		if (!json_is_object(v)) {
			if (!json_is_null(v))
				anyllm_warn(w,
					    "capabilities.%.60s is %s, expected an object; "
					    "skipped",
					    key, anyllm_type_name(v));
			continue;
		}
		char name[96];
		int n = snprintf(name, sizeof(name), "%s", anthropic_capability_name(key));
		if (n <= 0 || (size_t)n >= sizeof(name))
			continue;
		anthropic_capability(w, rec, name, v, 1);

		const json_t *supported = json_object_get(v, "supported");
		if (!json_is_boolean(supported))
			continue;
		bool on = json_is_true(supported);
		if (strcmp(key, "thinking") == 0)
			anyllm_check(w, host->set_bool(rec, MF_FIELD_REASONING, on), "thinking");
		else if (strcmp(key, "image_input") == 0 && on)
			anyllm_check(w, host->list_add(rec, MF_FIELD_INPUT_MODALITIES, "image"),
				     "image_input");
		else if (strcmp(key, "pdf_input") == 0 && on)
			anyllm_check(w, host->list_add(rec, MF_FIELD_INPUT_MODALITIES, "pdf"),
				     "pdf_input");
	}
}

static int anthropic_entry(struct anyllm_walk *w, size_t position, const json_t *entry)
{
	int rc;
	const char *id = anyllm_entry_id(w, entry, "id", position, &rc);
	if (id == NULL)
		return rc;
	w->id = id;
	struct mf_record *rec = anyllm_record_new(w, id);
	if (rec == NULL)
		return w->rc;

	anyllm_string(w, rec, entry, "display_name", MF_FIELD_NAME);
	/* created_at is "the time at which the model was released", or the
	 * epoch when Anthropic does not know it. */
	const json_t *created = json_object_get(entry, "created_at");
	if (json_is_string(created) && strncmp(json_string_value(created), "1970-01-01", 10) != 0) {
		if (anyllm_date(w, rec, entry, "created_at", MF_FIELD_RELEASE_DATE))
			anyllm_string(w, rec, entry, "created_at", MF_FIELD_CREATED);
	} else if (created != NULL && !json_is_null(created) && !json_is_string(created)) {
		anyllm_warn(w, "created_at is %s, expected a date; field skipped",
			    anyllm_type_name(created));
	}
	/* The input limit is the context window here: models.dev lists the
	 * same numbers as context. */
	if (anyllm_tokens(w, rec, entry, "max_input_tokens", MF_FIELD_MAX_INPUT_TOKENS))
		anyllm_tokens(w, rec, entry, "max_input_tokens", MF_FIELD_CONTEXT_TOKENS);
	anyllm_tokens(w, rec, entry, "max_tokens", MF_FIELD_MAX_OUTPUT_TOKENS);
	anthropic_capabilities(w, rec, entry);

	rc = anyllm_emit(w, rec);
	w->id = NULL;
	return rc;
}

int anyllm_anthropic_page(struct anyllm_walk *w, const json_t *root)
{
	const json_t *data = json_is_object(root) ? json_object_get(root, "data") : NULL;
	if (!json_is_object(root) || data == NULL || !json_is_array(data)) {
		w->host->log(w->ctx, MF_LOG_ERROR,
			     "the page is %s%s, expected an object with a \"data\" array of models",
			     json_is_object(root) ? "an object with " : anyllm_type_name(root),
			     json_is_object(root) ? (data ? "a non-array \"data\"" : "no \"data\"")
						  : "");
		return MF_EPARSE;
	}
	size_t i;
	const json_t *entry;
	json_array_foreach(data, i, entry)
	{
		int rc = anthropic_entry(w, i + 1, entry);
		if (rc != MF_OK)
			return rc;
	}
	return MF_OK;
}
