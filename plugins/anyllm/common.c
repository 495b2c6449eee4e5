/*
 * anyllm: the field readers every listing format shares. Parsing is strict
 * about the document and lax about entries: a page that is not the expected
 * JSON shape is refused (MF_EPARSE, so the last good payload is kept); a
 * wrong-typed field costs only that field, with a capped warning.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "anyllm.h"

void anyllm_warn(struct anyllm_walk *w, const char *fmt, ...)
{
	w->warnings++;
	if (w->warnings > ANYLLM_MAX_WARNINGS)
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
	if (w->id != NULL)
		w->host->log(w->ctx, MF_LOG_WARNING, "%.200s: %s%s", w->id, msg, more);
	else
		w->host->log(w->ctx, MF_LOG_WARNING, "%s%s", msg, more);
}

const char *anyllm_type_name(const json_t *v)
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

void anyllm_check(struct anyllm_walk *w, int rc, const char *what)
{
	if (rc == MF_OK)
		return;
	if (rc == MF_ENOMEM) {
		if (w->rc == MF_OK)
			w->rc = MF_ENOMEM;
		return;
	}
	anyllm_warn(w, "%s: value refused by the core (status %d), skipped", what, rc);
}

/* Duplicate keys make a document ambiguous; refusing a whole listing over
 * one would keep the source stale until upstream fixed it, so they are
 * reported and the last value is taken (jansson's default). An upstream
 * error object delivered with a 200 is not a listing: refused, and its
 * text is not repeated (error texts may quote a masked key). */
json_t *anyllm_parse_page(const struct mf_host *host, struct mf_context *ctx,
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
	if (json_is_object(root) && json_object_get(root, "error") != NULL &&
	    json_object_get(root, "data") == NULL && json_object_get(root, "models") == NULL) {
		host->log(ctx, MF_LOG_ERROR,
			  "%s: the page is an error response (an \"error\" member), not a model "
			  "listing",
			  where);
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Ids that follow whatever snapshot is current (SPEC §5): Mistral/Gemini
 * `-latest`, OpenAI's `chatgpt-4o-latest`, Ollama's `:latest` tag. */
static bool anyllm_moving_pointer(const char *id)
{
	size_t len = strlen(id);
	return len >= 7 &&
	       (strcmp(id + len - 7, "-latest") == 0 || strcmp(id + len - 7, ":latest") == 0);
}

struct mf_record *anyllm_record_new(struct anyllm_walk *w, const char *id)
{
	const struct mf_host *host = w->host;
	struct mf_record *rec = host->record_new(w->ctx, MF_RECORD_OFFERING, id);
	if (rec == NULL) {
		w->rc = MF_ENOMEM;
		return NULL;
	}
	anyllm_check(w, host->set_string(rec, MF_FIELD_PROVIDER, w->st->provider), "provider");
	/* The listing is what the admin's key (or keyless local server, or a
	 * saved listing of the admin's account for file: URLs) can call. */
	anyllm_check(w, host->set_bool(rec, MF_FIELD_CALLABLE, true), "callable");
	if (anyllm_moving_pointer(id))
		anyllm_check(w, host->set_bool(rec, MF_FIELD_MOVING_POINTER, true),
			     "moving pointer");
	return rec;
}

int anyllm_emit(struct anyllm_walk *w, struct mf_record *rec)
{
	if (w->rc != MF_OK) {
		w->host->record_free(rec);
		return w->rc;
	}
	/* emit owns rec whatever it returns. A refused record (MF_EINVAL) is
	 * the core's to count; anything else means the core takes no more. */
	int rc = w->host->emit(w->ctx, rec);
	if (rc != MF_OK && rc != MF_EINVAL)
		return rc;
	return MF_OK;
}

int anyllm_drop(struct anyllm_walk *w, size_t position, const char *why)
{
	const char *saved = w->id;
	w->id = NULL;
	anyllm_warn(w, "entry #%zu %s; dropped", position, why);
	w->id = saved;
	struct mf_record *rec = w->host->record_new(w->ctx, MF_RECORD_OFFERING, "");
	if (rec == NULL)
		return MF_ENOMEM;
	return anyllm_emit(w, rec);
}

const char *anyllm_entry_id(struct anyllm_walk *w, const json_t *entry, const char *key,
			    size_t position, int *rc)
{
	char why[96];
	*rc = MF_OK;
	if (!json_is_object(entry)) {
		snprintf(why, sizeof(why), "is %s, expected an object", anyllm_type_name(entry));
		*rc = anyllm_drop(w, position, why);
		return NULL;
	}
	const json_t *id = json_object_get(entry, key);
	if (id == NULL || !json_is_string(id)) {
		snprintf(why, sizeof(why), "has %s %s", id ? anyllm_type_name(id) : "no", key);
		*rc = anyllm_drop(w, position, why);
		return NULL;
	}
	/* An id with a NUL inside could not be told apart from its prefix. */
	if (json_string_length(id) == 0 ||
	    strlen(json_string_value(id)) != json_string_length(id)) {
		snprintf(why, sizeof(why), "has an empty or broken %s", key);
		*rc = anyllm_drop(w, position, why);
		return NULL;
	}
	return json_string_value(id);
}

/* The value of key, or NULL when absent or null (unknown). */
static const json_t *anyllm_value(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	return v == NULL || json_is_null(v) ? NULL : v;
}

void anyllm_string(struct anyllm_walk *w, struct mf_record *rec, const json_t *obj, const char *key,
		   enum mf_field field)
{
	const json_t *v = anyllm_value(obj, key);
	if (v == NULL)
		return;
	if (!json_is_string(v)) {
		anyllm_warn(w, "%s is %s, expected a string; field skipped", key,
			    anyllm_type_name(v));
		return;
	}
	if (json_string_length(v) == 0)
		return;
	anyllm_check(
	    w, w->host->set_string_n(rec, field, json_string_value(v), json_string_length(v)), key);
}

void anyllm_bool(struct anyllm_walk *w, struct mf_record *rec, const json_t *obj, const char *key,
		 enum mf_field field)
{
	const json_t *v = anyllm_value(obj, key);
	if (v == NULL)
		return;
	if (!json_is_boolean(v)) {
		anyllm_warn(w, "%s is %s, expected a boolean; field skipped", key,
			    anyllm_type_name(v));
		return;
	}
	anyllm_check(w, w->host->set_bool(rec, field, json_is_true(v)), key);
}

bool anyllm_tokens(struct anyllm_walk *w, struct mf_record *rec, const json_t *obj, const char *key,
		   enum mf_field field)
{
	const json_t *v = anyllm_value(obj, key);
	if (v == NULL)
		return false;
	int64_t tokens;
	if (json_is_integer(v)) {
		tokens = json_integer_value(v);
	} else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
		   fabs(json_real_value(v)) < 9007199254740992.0) {
		/* 128000.0 is a fine limit written oddly; 1.5 tokens is not. */
		tokens = (int64_t)json_real_value(v);
	} else {
		anyllm_warn(w, "%s is %s, expected a whole number of tokens; field skipped", key,
			    anyllm_type_name(v));
		return false;
	}
	if (tokens == 0)
		return false;
	if (tokens < 0) {
		anyllm_warn(w, "%s is %" PRId64 ", negative; field skipped", key, tokens);
		return false;
	}
	int rc = w->host->set_int(rec, field, tokens);
	anyllm_check(w, rc, key);
	return rc == MF_OK;
}

void anyllm_string_list(struct anyllm_walk *w, struct mf_record *rec, const json_t *obj,
			const char *key, enum mf_field field)
{
	const json_t *list = anyllm_value(obj, key);
	if (list == NULL)
		return;
	if (!json_is_array(list)) {
		anyllm_warn(w, "%s is %s, expected an array; field skipped", key,
			    anyllm_type_name(list));
		return;
	}
	size_t i;
	const json_t *item;
	json_array_foreach(list, i, item)
	{
		if (!json_is_string(item) || json_string_length(item) == 0 ||
		    strlen(json_string_value(item)) != json_string_length(item)) {
			anyllm_warn(w, "%s[%zu] is %s, expected a name; skipped", key, i,
				    json_is_string(item) ? "an empty or broken string"
							 : anyllm_type_name(item));
			continue;
		}
		anyllm_check(w, w->host->list_add(rec, field, json_string_value(item)), key);
	}
}

/* "YYYY-MM-DD" at the start of s, with plausible month and day. */
static bool anyllm_date_prefix(const char *s, size_t len)
{
	if (len < 10)
		return false;
	for (size_t i = 0; i < 10; i++) {
		bool dash = i == 4 || i == 7;
		if (dash ? s[i] != '-' : !isdigit((unsigned char)s[i]))
			return false;
	}
	int month = (s[5] - '0') * 10 + (s[6] - '0');
	int day = (s[8] - '0') * 10 + (s[9] - '0');
	return month >= 1 && month <= 12 && day >= 1 && day <= 31 &&
	       (len == 10 || s[10] == 'T' || s[10] == ' ');
}

bool anyllm_date(struct anyllm_walk *w, struct mf_record *rec, const json_t *obj, const char *key,
		 enum mf_field field)
{
	const json_t *v = anyllm_value(obj, key);
	if (v == NULL)
		return false;
	if (!json_is_string(v)) {
		anyllm_warn(w, "%s is %s, expected a date; field skipped", key,
			    anyllm_type_name(v));
		return false;
	}
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (len == 0)
		return false;
	if (!anyllm_date_prefix(s, len)) {
		anyllm_warn(w, "%s '%.40s' is not an ISO 8601 date; field skipped", key, s);
		return false;
	}
	int rc = w->host->set_string_n(rec, field, s, 10);
	anyllm_check(w, rc, key);
	return rc == MF_OK;
}

void anyllm_created_unix(struct anyllm_walk *w, struct mf_record *rec, const json_t *obj,
			 const char *key)
{
	const json_t *v = anyllm_value(obj, key);
	if (v == NULL)
		return;
	if (!json_is_integer(v)) {
		anyllm_warn(w, "%s is %s, expected unix seconds; field skipped", key,
			    anyllm_type_name(v));
		return;
	}
	json_int_t secs = json_integer_value(v);
	/* 0 is what some servers send for "unknown"; beyond year 9999 the
	 * value is not a time. */
	if (secs == 0)
		return;
	if (secs < 0 || secs > 253402300799LL) {
		anyllm_warn(w,
			    "%s is %" JSON_INTEGER_FORMAT ", not a plausible time; field "
			    "skipped",
			    key, secs);
		return;
	}
	time_t t = (time_t)secs;
	struct tm tm;
	char iso[32];
	if (gmtime_r(&t, &tm) == NULL || strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return;
	anyllm_check(w, w->host->set_string(rec, MF_FIELD_CREATED, iso), key);
}

/* `owned_by` names a maker on Groq ("Meta"), xAI, Mistral and ZenMux, but
 * on OpenAI mostly the kind of account ("system", "openai-internal"), on
 * fine-tunes the owning user or organization, and on local servers the
 * server itself (Ollama "library", vLLM "vllm"). Those are not makers.
 * ("openai" is kept: OpenAI uses it for its own models.) */
bool anyllm_is_maker(const char *owned_by)
{
	static const char *const accounts[] = {
		"system",
		"openai-internal",
		"openai-dev",
		"library",
		"vllm",
		"user",
		"organization",
		"organization-owner",
		"owner",
		"unknown",
		"none",
		"custom",
	};
	static const char *const prefixes[] = {"user-", "org-", "ft-", "organization-"};

	if (owned_by[0] == '\0')
		return false;
	/* An organization's id (Mistral fine-tunes: a UUID) is an account. */
	size_t len = strlen(owned_by);
	if (len >= 16 && strspn(owned_by, "0123456789abcdefABCDEF-") == len)
		return false;
	for (size_t i = 0; i < sizeof(accounts) / sizeof(accounts[0]); i++)
		if (strcasecmp(owned_by, accounts[i]) == 0)
			return false;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncasecmp(owned_by, prefixes[i], strlen(prefixes[i])) == 0)
			return false;
	return true;
}

void anyllm_owned_by(struct anyllm_walk *w, struct mf_record *rec, const json_t *entry)
{
	const json_t *v = anyllm_value(entry, "owned_by");
	if (v == NULL)
		return;
	if (!json_is_string(v)) {
		anyllm_warn(w, "owned_by is %s, expected a string; field skipped",
			    anyllm_type_name(v));
		return;
	}
	const char *s = json_string_value(v);
	if (strlen(s) != json_string_length(v) || !anyllm_is_maker(s))
		return;
	anyllm_check(w, w->host->set_string(rec, MF_FIELD_MAKER, s), "owned_by");
}

/* Names of the capability list for the flags that have a usual name. */
static const char *anyllm_capability_name(const char *flag)
{
	if (strcmp(flag, "function_calling") == 0 || strcmp(flag, "tool_call") == 0 ||
	    strcmp(flag, "tool_calling") == 0)
		return "tools";
	return flag;
}

void anyllm_capability_flags(struct anyllm_walk *w, struct mf_record *rec, const json_t *caps)
{
	const struct mf_host *host = w->host;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)caps, key, v)
	{
		if (json_is_null(v))
			continue;
		if (!json_is_boolean(v)) {
			anyllm_warn(w, "capabilities.%.60s is %s, expected a boolean; skipped", key,
				    anyllm_type_name(v));
			continue;
		}
		bool on = json_is_true(v);
		const char *name = anyllm_capability_name(key);
		if (on && key[0] != '\0')
			anyllm_check(w, host->list_add(rec, MF_FIELD_CAPABILITIES, name),
				     "capabilities");
		if (strcmp(name, "tools") == 0 || strcmp(key, "tools") == 0)
			anyllm_check(w, host->set_bool(rec, MF_FIELD_TOOL_CALL, on),
				     "capabilities.tools");
		else if (strcmp(key, "reasoning") == 0 || strcmp(key, "thinking") == 0)
			anyllm_check(w, host->set_bool(rec, MF_FIELD_REASONING, on),
				     "capabilities.reasoning");
		else if (strcmp(key, "vision") == 0 && on) {
			/* A model that reads images reads text too. */
			anyllm_check(w, host->list_add(rec, MF_FIELD_INPUT_MODALITIES, "text"),
				     "capabilities.vision");
			anyllm_check(w, host->list_add(rec, MF_FIELD_INPUT_MODALITIES, "image"),
				     "capabilities.vision");
		}
	}
}
