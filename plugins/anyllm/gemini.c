/*
 * anyllm: Gemini's `GET /v1beta/models`: {models: [{name: "models/...",
 * version, displayName, description, inputTokenLimit, outputTokenLimit,
 * supportedGenerationMethods, temperature?, thinking?}], nextPageToken},
 * paged with pageToken (anyllm.c plans the pages).
 *
 * The native id is the name without "models/" (what the generate calls
 * take); the full name is the source key. A model that supports
 * generateContent is a chat offering; the others (embeddings, Imagen, Veo,
 * Live-only models) keep their methods as tags ("method:embedContent") and
 * get the mode their method implies.
 */
#include <stdio.h>
#include <string.h>

#include "anyllm.h"

#define GEMINI_PREFIX "models/"

/* Mode of a model without generateContent, in the words LiteLLM uses. */
static const char *gemini_method_mode(const char *method)
{
	static const char *const modes[][2] = {
	    {"embedContent", "embedding"},	     {"batchEmbedContents", "embedding"},
	    {"asyncBatchEmbedContent", "embedding"}, {"embedText", "embedding"},
	    {"predict", "image_generation"},	     {"predictLongRunning", "video_generation"},
	    {"bidiGenerateContent", "realtime"},     {"generateText", "completion"},
	};
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(method, modes[i][0]) == 0)
			return modes[i][1];
	return NULL;
}

/* Features a method implies, named like the other kinds name them. */
static const char *gemini_method_capability(const char *method)
{
	if (strcmp(method, "batchGenerateContent") == 0 ||
	    strcmp(method, "asyncBatchEmbedContent") == 0 ||
	    strcmp(method, "batchEmbedContents") == 0)
		return "batch";
	if (strcmp(method, "createCachedContent") == 0)
		return "caching";
	if (strcmp(method, "bidiGenerateContent") == 0)
		return "live";
	return NULL;
}

static void gemini_methods(struct anyllm_walk *w, struct mf_record *rec, const json_t *entry)
{
	const struct mf_host *host = w->host;
	const json_t *methods = json_object_get(entry, "supportedGenerationMethods");
	if (methods == NULL || json_is_null(methods))
		return;
	if (!json_is_array(methods)) {
		anyllm_warn(w, "supportedGenerationMethods is %s, expected an array; field skipped",
			    anyllm_type_name(methods));
		return;
	}
	bool chat = false;
	size_t i;
	const json_t *m;
	json_array_foreach(methods, i, m)
	{
		if (json_is_string(m) && strcmp(json_string_value(m), "generateContent") == 0)
			chat = true;
	}
	const char *mode = chat ? "chat" : NULL;
	json_array_foreach(methods, i, m)
	{
		if (!json_is_string(m) || json_string_length(m) == 0 ||
		    strlen(json_string_value(m)) != json_string_length(m)) {
			anyllm_warn(w,
				    "supportedGenerationMethods[%zu] is %s, expected a name; "
				    "skipped",
				    i, anyllm_type_name(m));
			continue;
		}
		const char *name = json_string_value(m);
		const char *cap = gemini_method_capability(name);
		if (cap != NULL)
			anyllm_check(w, host->list_add(rec, MF_FIELD_CAPABILITIES, cap),
				     "capabilities");
		if (chat)
			continue;
		if (mode == NULL)
			mode = gemini_method_mode(name);
		char tag[160];
		int n = snprintf(tag, sizeof(tag), "method:%s", name);
		if (n > 0 && (size_t)n < sizeof(tag))
			anyllm_check(w, host->list_add(rec, MF_FIELD_TAGS, tag), "tags");
	}
	if (mode != NULL)
		anyllm_check(w, host->set_string(rec, MF_FIELD_MODE, mode), "mode");
}

static int gemini_entry(struct anyllm_walk *w, size_t position, const json_t *entry)
{
	int rc;
	const char *name = anyllm_entry_id(w, entry, "name", position, &rc);
	if (name == NULL)
		return rc;
	const char *id = name;
	if (strncmp(name, GEMINI_PREFIX, strlen(GEMINI_PREFIX)) == 0)
		id = name + strlen(GEMINI_PREFIX);
	if (id[0] == '\0')
		return anyllm_drop(w, position, "is named only \"models/\"");
	w->id = name;
	struct mf_record *rec = anyllm_record_new(w, id);
	if (rec == NULL)
		return w->rc;
	if (id != name)
		anyllm_check(w, w->host->set_string(rec, MF_FIELD_SOURCE_KEY, name), "name");

	anyllm_string(w, rec, entry, "version", MF_FIELD_VERSION);
	anyllm_string(w, rec, entry, "displayName", MF_FIELD_NAME);
	anyllm_string(w, rec, entry, "description", MF_FIELD_DESCRIPTION);
	/* Gemini's input limit is its context window (models.dev agrees). */
	if (anyllm_tokens(w, rec, entry, "inputTokenLimit", MF_FIELD_MAX_INPUT_TOKENS))
		anyllm_tokens(w, rec, entry, "inputTokenLimit", MF_FIELD_CONTEXT_TOKENS);
	anyllm_tokens(w, rec, entry, "outputTokenLimit", MF_FIELD_MAX_OUTPUT_TOKENS);
	anyllm_bool(w, rec, entry, "thinking", MF_FIELD_REASONING);
	const json_t *thinking = json_object_get(entry, "thinking");
	if (json_is_true(thinking))
		anyllm_check(w, w->host->list_add(rec, MF_FIELD_CAPABILITIES, "thinking"),
			     "thinking");
	/* A default temperature means the model takes one. */
	const json_t *temperature = json_object_get(entry, "temperature");
	if (json_is_number(temperature))
		anyllm_check(w, w->host->set_bool(rec, MF_FIELD_TEMPERATURE, true), "temperature");
	gemini_methods(w, rec, entry);

	rc = anyllm_emit(w, rec);
	w->id = NULL;
	return rc;
}

int anyllm_gemini_page(struct anyllm_walk *w, const json_t *root)
{
	if (!json_is_object(root)) {
		w->host->log(w->ctx, MF_LOG_ERROR,
			     "top level is %s, expected an object with a \"models\" array",
			     anyllm_type_name(root));
		return MF_EPARSE;
	}
	/* Google's JSON leaves empty repeated fields out: a page without
	 * "models" is an empty page, not a broken one. */
	const json_t *models = json_object_get(root, "models");
	if (models == NULL || json_is_null(models)) {
		size_t others = json_object_size(root);
		others -= json_object_get(root, "nextPageToken") != NULL;
		others -= models != NULL;
		if (others == 0)
			return MF_OK;
		/* Members but no models: another listing format. */
		w->host->log(w->ctx, MF_LOG_ERROR,
			     "the page has no \"models\" array (is this a Gemini listing?)");
		return MF_EPARSE;
	}
	if (!json_is_array(models)) {
		w->host->log(w->ctx, MF_LOG_ERROR, "\"models\" is %s, expected an array",
			     anyllm_type_name(models));
		return MF_EPARSE;
	}
	size_t i;
	const json_t *entry;
	json_array_foreach(models, i, entry)
	{
		int rc = gemini_entry(w, i + 1, entry);
		if (rc != MF_OK)
			return rc;
	}
	return MF_OK;
}
