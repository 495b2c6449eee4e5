/*
 * local: the admin's own JSON overlay (doc/sources/local.md).
 *
 * One file, format "modelfuse-local/1": entries that set or pin catalog
 * fields of a model (by canonical id) or of an offering (by provider and
 * native id), add aliases and tags, and replace or remove entries of the
 * union lists. The overlay controls travel as the SDK's MF_FIELD_REPLACE,
 * MF_FIELD_REMOVE and MF_FIELD_PINNED lists; the merge engine applies them.
 *
 * The file is written by a person, so the document is read strictly (a
 * wrong format tag, a duplicate key or a misshapen top level refuses the
 * whole file and the last good overlay stays in force) while a single bad
 * field only costs that field, with a warning naming the entry and field.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <modelfuse/plugin.h>

#define LOCAL_FORMAT "modelfuse-local/1"

/* An overlay is short; past this many warnings something is wrong with
 * the whole file and the rest are only counted. */
#define LOCAL_MAX_WARNINGS 100

/* Largest integer a double holds exactly. */
#define LOCAL_MAX_WHOLE 9007199254740992.0

/* How a field's value is written in the overlay and checked. */
enum local_type {
	LOCAL_STRING,    /* non-empty string */
	LOCAL_DATE,      /* YYYY-MM-DD */
	LOCAL_MONTH,     /* YYYY-MM or YYYY-MM-DD (knowledge cutoff) */
	LOCAL_TIME,      /* YYYY-MM-DD, optionally followed by a time */
	LOCAL_COUNT,     /* whole number >= 0 */
	LOCAL_BOOL,      /* true or false */
	LOCAL_REAL,      /* any number */
	LOCAL_RATE,      /* number >= 0 */
	LOCAL_LIST,      /* array of strings, replaced whole by precedence */
	LOCAL_UNION,     /* array of strings, joined across sources: add/replace/remove */
	LOCAL_PRICE,     /* object: kind -> USD per 1M, >= 0 */
	LOCAL_SCORES,    /* object: name -> number */
	LOCAL_DERIVED,   /* not settable here; the reason is in `why` */
};

struct local_field {
	const char *name; /* the SDK field's name, as the core's writers spell it */
	enum mf_field field;
	enum local_type type;
	const char *why; /* LOCAL_DERIVED only */
};

/* The catalog fields an overlay may name. The plugin links no core code,
 * so it keeps its own copy of the names; they must match the core's. */
static const struct local_field local_fields[] = {
	{"name", MF_FIELD_NAME, LOCAL_STRING, NULL},
	{"family", MF_FIELD_FAMILY, LOCAL_STRING, NULL},
	{"release_date", MF_FIELD_RELEASE_DATE, LOCAL_DATE, NULL},
	{"last_updated", MF_FIELD_LAST_UPDATED, LOCAL_DATE, NULL},
	{"knowledge", MF_FIELD_KNOWLEDGE, LOCAL_MONTH, NULL},
	{"license", MF_FIELD_LICENSE, LOCAL_STRING, NULL},
	{"status", MF_FIELD_STATUS, LOCAL_STRING, NULL},
	{"hf_id", MF_FIELD_HF_ID, LOCAL_STRING, NULL},
	{"canonical_slug", MF_FIELD_CANONICAL_SLUG, LOCAL_STRING, NULL},
	{"context_tokens", MF_FIELD_CONTEXT_TOKENS, LOCAL_COUNT, NULL},
	{"max_output_tokens", MF_FIELD_MAX_OUTPUT_TOKENS, LOCAL_COUNT, NULL},
	{"max_input_tokens", MF_FIELD_MAX_INPUT_TOKENS, LOCAL_COUNT, NULL},
	{"open_weights", MF_FIELD_OPEN_WEIGHTS, LOCAL_BOOL, NULL},
	{"reasoning", MF_FIELD_REASONING, LOCAL_BOOL, NULL},
	{"tool_call", MF_FIELD_TOOL_CALL, LOCAL_BOOL, NULL},
	{"attachment", MF_FIELD_ATTACHMENT, LOCAL_BOOL, NULL},
	{"temperature", MF_FIELD_TEMPERATURE, LOCAL_BOOL, NULL},
	{"downloads", MF_FIELD_DOWNLOADS, LOCAL_COUNT, NULL},
	{"likes", MF_FIELD_LIKES, LOCAL_COUNT, NULL},
	{"aliases", MF_FIELD_ALIASES, LOCAL_UNION, NULL},
	{"tags", MF_FIELD_TAGS, LOCAL_UNION, NULL},
	{"input_modalities", MF_FIELD_INPUT_MODALITIES, LOCAL_UNION, NULL},
	{"output_modalities", MF_FIELD_OUTPUT_MODALITIES, LOCAL_UNION, NULL},
	{"price", MF_FIELD_PRICE, LOCAL_PRICE, NULL},
	{"scores", MF_FIELD_SCORES, LOCAL_SCORES, NULL},
	{"description", MF_FIELD_DESCRIPTION, LOCAL_STRING, NULL},
	{"created", MF_FIELD_CREATED, LOCAL_TIME, NULL},
	{"base_id", MF_FIELD_BASE_ID, LOCAL_STRING, NULL},
	{"serving_suffix", MF_FIELD_SERVING_SUFFIX, LOCAL_STRING, NULL},
	{"moving_pointer", MF_FIELD_MOVING_POINTER, LOCAL_BOOL, NULL},
	{"alias_target", MF_FIELD_ALIAS_TARGET, LOCAL_STRING, NULL},
	{"expiration_date", MF_FIELD_EXPIRATION_DATE, LOCAL_DATE, NULL},
	{"deprecation_date", MF_FIELD_DEPRECATION_DATE, LOCAL_DATE, NULL},
	{"capabilities", MF_FIELD_CAPABILITIES, LOCAL_LIST, NULL},
	{"supported_parameters", MF_FIELD_SUPPORTED_PARAMETERS, LOCAL_LIST, NULL},
	{"library", MF_FIELD_LIBRARY, LOCAL_STRING, NULL},
	{"pipeline", MF_FIELD_PIPELINE, LOCAL_STRING, NULL},
	{"gated", MF_FIELD_GATED, LOCAL_BOOL, NULL},
	{"parameters", MF_FIELD_PARAMETERS, LOCAL_COUNT, NULL},
	{"trending_score", MF_FIELD_TRENDING_SCORE, LOCAL_REAL, NULL},
	{"mode", MF_FIELD_MODE, LOCAL_STRING, NULL},
	{"version", MF_FIELD_VERSION, LOCAL_STRING, NULL},
	{"output_tokens_per_second", MF_FIELD_OUTPUT_SPEED, LOCAL_RATE, NULL},
	{"time_to_first_token_seconds", MF_FIELD_TTFT, LOCAL_RATE, NULL},
	{"rank", MF_FIELD_RANK, LOCAL_COUNT, NULL},
	{"reviewed", MF_FIELD_REVIEWED, LOCAL_DATE, NULL},
	{"reason", MF_FIELD_REASON, LOCAL_STRING, NULL},
	/* Named so that the warning explains instead of saying "unknown". */
	{"maker", MF_FIELD_MAKER, LOCAL_DERIVED, "it comes from the part of the id before '/'"},
	{"provider", MF_FIELD_PROVIDER, LOCAL_DERIVED, "it is part of the offering's identity"},
	{"source_key", MF_FIELD_SOURCE_KEY, LOCAL_DERIVED, "it is the id the entry is keyed by"},
	{"callable", MF_FIELD_CALLABLE, LOCAL_DERIVED, "only an anyllm source can tell"},
	{"remove", MF_FIELD_REMOVE, LOCAL_DERIVED, "use the entry's \"remove\" object"},
	{"replace", MF_FIELD_REPLACE, LOCAL_DERIVED, "use the entry's \"replace\" object"},
	{"pinned", MF_FIELD_PINNED, LOCAL_DERIVED, "use the entry's \"pin\" list"},
};

/* Field numbers fit one 64-bit mask of "this entry gives a value". */
_Static_assert(MF_FIELD_PINNED < 64, "field mask too small");

static const struct local_field *local_field_find(const char *name)
{
	for (size_t i = 0; i < sizeof(local_fields) / sizeof(local_fields[0]); i++)
		if (strcmp(local_fields[i].name, name) == 0)
			return &local_fields[i];
	return NULL;
}

/* State of one normalize call. */
struct local_walk {
	const struct mf_host *host;
	struct mf_context *ctx;
	const char *where; /* the page's URL, for document-level messages */
	char entry[256];   /* "model openai/gpt-4o" etc., for entry-level messages */
	unsigned warnings;
	int rc;          /* first fatal failure (out of memory), else MF_OK */
	uint64_t given;  /* fields the current entry gives a value for */
};

static void local_warn(struct local_walk *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void local_warn(struct local_walk *w, const char *fmt, ...)
{
	w->warnings++;
	if (w->warnings > LOCAL_MAX_WARNINGS)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	const char *more = (size_t)n >= sizeof(msg) ? "..." : "";
	w->host->log(w->ctx, MF_LOG_WARNING, "%s: %s%s", w->entry, msg, more);
}

static const char *local_type_name(const json_t *v)
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

/* Out of memory stops the page; any other refusal costs only the value. */
static bool local_check(struct local_walk *w, int rc, const char *what)
{
	if (rc == MF_OK)
		return true;
	if (rc == MF_ENOMEM) {
		if (w->rc == MF_OK)
			w->rc = MF_ENOMEM;
		return false;
	}
	local_warn(w, "%s: value refused by the core (status %d), skipped", what, rc);
	return false;
}

static bool local_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* "YYYY-MM" with a plausible month; len is how much of s to look at. */
static bool local_is_month(const char *s, size_t len)
{
	if (len < 7 || !local_digits(s, 4) || s[4] != '-' || !local_digits(s + 5, 2))
		return false;
	int month = (s[5] - '0') * 10 + (s[6] - '0');
	return month >= 1 && month <= 12;
}

static bool local_is_date(const char *s, size_t len)
{
	if (len < 10 || !local_is_month(s, len) || s[7] != '-' || !local_digits(s + 8, 2))
		return false;
	int day = (s[8] - '0') * 10 + (s[9] - '0');
	return day >= 1 && day <= 31;
}

/* Is v a valid string of the given date-like type? */
static bool local_string_ok(enum local_type type, const char *s, size_t len)
{
	switch (type) {
	case LOCAL_DATE:
		return len == 10 && local_is_date(s, len);
	case LOCAL_MONTH:
		return (len == 7 && local_is_month(s, len)) || (len == 10 && local_is_date(s, len));
	case LOCAL_TIME:
		return local_is_date(s, len) && (len == 10 || s[10] == 'T' || s[10] == ' ');
	default:
		return len > 0;
	}
}

static const char *local_type_expected(enum local_type type)
{
	switch (type) {
	case LOCAL_STRING:
		return "a non-empty string";
	case LOCAL_DATE:
		return "a date YYYY-MM-DD";
	case LOCAL_MONTH:
		return "a date YYYY-MM or YYYY-MM-DD";
	case LOCAL_TIME:
		return "a date or time YYYY-MM-DD[THH:MM:SSZ]";
	case LOCAL_COUNT:
		return "a whole number >= 0";
	case LOCAL_BOOL:
		return "true or false";
	case LOCAL_REAL:
		return "a number";
	case LOCAL_RATE:
		return "a number >= 0";
	case LOCAL_LIST:
	case LOCAL_UNION:
		return "an array of strings";
	case LOCAL_PRICE:
		return "an object of prices >= 0 (USD per 1M tokens)";
	case LOCAL_SCORES:
		return "an object of numbers";
	case LOCAL_DERIVED:
		break;
	}
	return "something else";
}

/* Add every string of an array to a list field, prefixed when prefix is
 * not NULL ("aliases:" for MF_FIELD_REMOVE). Returns how many went in. */
static size_t local_strings(struct local_walk *w, struct mf_record *rec, enum mf_field field,
			    const char *section, const char *name, const json_t *array,
			    const char *prefix)
{
	size_t added = 0;
	size_t i;
	json_t *item;
	json_array_foreach(array, i, item) {
		if (!json_is_string(item) || json_string_length(item) == 0 ||
		    strlen(json_string_value(item)) != json_string_length(item)) {
			const char *what =
				json_is_string(item) ? "an empty string" : local_type_name(item);
			local_warn(w, "%s.%s[%zu] is %s, expected a non-empty string; skipped",
				   section, name, i, what);
			continue;
		}
		const char *value = json_string_value(item);
		char buf[1024];
		if (prefix != NULL) {
			int n = snprintf(buf, sizeof(buf), "%s%s", prefix, value);
			if (n < 0 || (size_t)n >= sizeof(buf)) {
				local_warn(w, "%s.%s[%zu] is too long; skipped", section, name, i);
				continue;
			}
			value = buf;
		}
		if (local_check(w, w->host->list_add(rec, field, value), name))
			added++;
	}
	return added;
}

/* The numbers of a price or scores object, key by key. */
static bool local_map(struct local_walk *w, struct mf_record *rec, const struct local_field *f,
		      const json_t *obj)
{
	bool any = false;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		if (key[0] == '\0') {
			local_warn(w, "set.%s has an empty key; skipped", f->name);
			continue;
		}
		if (!json_is_number(v)) {
			local_warn(w, "set.%s.%s is %s, expected a number; skipped", f->name, key,
				   local_type_name(v));
			continue;
		}
		double d = json_number_value(v);
		if (f->type == LOCAL_PRICE && d < 0) {
			local_warn(w, "set.%s.%s is %g, a negative price; skipped", f->name, key,
				   d);
			continue;
		}
		if (local_check(w, w->host->map_set(rec, f->field, key, d), f->name))
			any = true;
	}
	return any;
}

/* One field of "set". Returns true when the record got a value. */
static bool local_set_one(struct local_walk *w, struct mf_record *rec, const struct local_field *f,
			  const json_t *v)
{
	const struct mf_host *host = w->host;

	if (json_is_null(v)) {
		local_warn(w, "set.%s is null: an overlay can override a value but not erase it; "
			   "skipped", f->name);
		return false;
	}
	switch (f->type) {
	case LOCAL_STRING:
	case LOCAL_DATE:
	case LOCAL_MONTH:
	case LOCAL_TIME:
		/* An embedded NUL would silently cut the value short. */
		if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v) &&
		    local_string_ok(f->type, json_string_value(v), json_string_length(v)))
			return local_check(w, host->set_string(rec, f->field, json_string_value(v)),
					   f->name);
		break;
	case LOCAL_COUNT: {
		int64_t n;
		if (json_is_integer(v)) {
			n = json_integer_value(v);
		} else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
			   fabs(json_real_value(v)) <= LOCAL_MAX_WHOLE) {
			n = (int64_t)json_real_value(v);
		} else {
			break;
		}
		if (n < 0)
			break;
		return local_check(w, host->set_int(rec, f->field, n), f->name);
	}
	case LOCAL_BOOL:
		if (json_is_boolean(v))
			return local_check(w, host->set_bool(rec, f->field, json_is_true(v)),
					   f->name);
		break;
	case LOCAL_REAL:
	case LOCAL_RATE:
		if (json_is_number(v) && (f->type == LOCAL_REAL || json_number_value(v) >= 0))
			return local_check(w, host->set_real(rec, f->field, json_number_value(v)),
					   f->name);
		break;
	case LOCAL_LIST:
		if (json_is_array(v))
			return local_strings(w, rec, f->field, "set", f->name, v, NULL) > 0;
		break;
	case LOCAL_PRICE:
	case LOCAL_SCORES:
		if (json_is_object(v))
			return local_map(w, rec, f, v);
		break;
	case LOCAL_UNION:
		local_warn(w, "set.%s: %s is a union list, use \"add\", \"replace\" or "
			   "\"remove\"; skipped", f->name, f->name);
		return false;
	case LOCAL_DERIVED:
		local_warn(w, "set.%s: %s cannot be set here: %s; skipped", f->name, f->name,
			   f->why);
		return false;
	}
	/* The right JSON type with a wrong value, or the wrong type? */
	bool stringy = f->type == LOCAL_STRING || f->type == LOCAL_DATE || f->type == LOCAL_MONTH ||
		       f->type == LOCAL_TIME;
	bool numeric = f->type == LOCAL_COUNT || f->type == LOCAL_REAL || f->type == LOCAL_RATE;
	if ((stringy && json_is_string(v)) || (numeric && json_is_number(v)))
		local_warn(w, "set.%s is not %s; skipped", f->name, local_type_expected(f->type));
	else
		local_warn(w, "set.%s is %s, expected %s; skipped", f->name, local_type_name(v),
			   local_type_expected(f->type));
	return false;
}

static void local_set(struct local_walk *w, struct mf_record *rec, const json_t *set)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)set, key, v) {
		const struct local_field *f = local_field_find(key);
		if (f == NULL) {
			local_warn(w, "set.%s: unknown field; skipped", key);
			continue;
		}
		if (local_set_one(w, rec, f, v))
			w->given |= UINT64_C(1) << f->field;
	}
}

/* "add", "replace" and "remove": objects of union list name -> strings. */
static void local_union_section(struct local_walk *w, struct mf_record *rec,
				const char *section, const json_t *obj)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		const struct local_field *f = local_field_find(key);
		if (f == NULL) {
			local_warn(w, "%s.%s: unknown field; skipped", section, key);
			continue;
		}
		if (f->type != LOCAL_UNION) {
			local_warn(w, "%s.%s: %s is not a union list (aliases, tags, "
				   "input_modalities, output_modalities); skipped",
				   section, key, key);
			continue;
		}
		if (!json_is_array(v)) {
			local_warn(w, "%s.%s is %s, expected an array of strings; skipped",
				   section, key, local_type_name(v));
			continue;
		}
		if (strcmp(section, "remove") == 0) {
			char prefix[64];
			snprintf(prefix, sizeof(prefix), "%s:", f->name);
			local_strings(w, rec, MF_FIELD_REMOVE, section, key, v, prefix);
			continue;
		}
		size_t added = local_strings(w, rec, f->field, section, key, v, NULL);
		if (strcmp(section, "replace") == 0) {
			/* An empty replacement is meaningful: it empties the list. */
			if (json_array_size(v) > 0 && added == 0)
				continue;
			if (!local_check(w, w->host->list_add(rec, MF_FIELD_REPLACE, f->name),
					 "replace"))
				continue;
			w->given |= UINT64_C(1) << f->field;
		} else if (added > 0) {
			w->given |= UINT64_C(1) << f->field;
		}
	}
}

static void local_pin(struct local_walk *w, struct mf_record *rec, const json_t *pin)
{
	size_t i;
	json_t *item;
	json_array_foreach(pin, i, item) {
		if (!json_is_string(item)) {
			local_warn(w, "pin[%zu] is %s, expected a field name; skipped", i,
				   local_type_name(item));
			continue;
		}
		const char *name = json_string_value(item);
		const struct local_field *f = local_field_find(name);
		if (f == NULL || f->type == LOCAL_DERIVED) {
			local_warn(w, "pin[%zu]: %s is not a field an overlay sets; skipped", i,
				   name);
			continue;
		}
		/* A pin guards this entry's own value: pinning a field it does
		 * not give would pin nothing, which is surely a typo. */
		if (!(w->given & (UINT64_C(1) << f->field))) {
			local_warn(w, "pin[%zu]: the entry gives no value for %s; pin skipped", i,
				   name);
			continue;
		}
		local_check(w, w->host->list_add(rec, MF_FIELD_PINNED, f->name), "pin");
	}
}

/* A section of an entry that must be an object (or absent). */
static const json_t *local_section(struct local_walk *w, const json_t *entry, const char *name,
				   bool array)
{
	const json_t *v = json_object_get(entry, name);
	if (v == NULL || json_is_null(v))
		return NULL;
	if (array ? !json_is_array(v) : !json_is_object(v)) {
		local_warn(w, "%s is %s, expected %s; skipped", name, local_type_name(v),
			   array ? "an array of field names" : "an object");
		return NULL;
	}
	return v;
}

/* A string member usable as an id: non-empty, no embedded NUL. */
static const char *local_id_member(const json_t *entry, const char *name)
{
	const json_t *v = json_object_get(entry, name);
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return json_string_value(v);
}

/* Hand the core a record without an id, so that it drops and counts it
 * the way it does for every source. */
static int local_drop(struct local_walk *w, enum mf_record_kind kind)
{
	struct mf_record *rec = w->host->record_new(w->ctx, kind, "");
	if (rec == NULL)
		return MF_ENOMEM;
	int rc = w->host->emit(w->ctx, rec);
	return rc == MF_OK || rc == MF_EINVAL ? MF_OK : rc;
}

/*
 * One entry of "models" (kind MF_RECORD_MODEL) or "offerings". seen maps
 * the identities met so far to their position, to refuse repeats.
 */
static int local_entry(struct local_walk *w, enum mf_record_kind kind, const char *list,
		       size_t position, const json_t *entry, json_t *seen)
{
	const struct mf_host *host = w->host;
	bool model = kind == MF_RECORD_MODEL;

	snprintf(w->entry, sizeof(w->entry), "%s[%zu]", list, position);
	w->given = 0;
	if (!json_is_object(entry)) {
		local_warn(w, "entry is %s, expected an object; dropped", local_type_name(entry));
		return local_drop(w, kind);
	}

	const char *id = local_id_member(entry, "id");
	const char *provider = model ? NULL : local_id_member(entry, "provider");
	const char *slash = id != NULL ? strchr(id, '/') : NULL;
	if (id == NULL || (model && (slash == NULL || slash == id || slash[1] == '\0'))) {
		if (model)
			local_warn(w, "\"id\" must be a canonical model id maker/model; "
				      "entry dropped");
		else
			local_warn(w, "\"id\" must be the offering's native id; entry dropped");
		return local_drop(w, kind);
	}
	if (!model && provider == NULL) {
		local_warn(w, "\"provider\" must name the serving provider; entry dropped");
		return local_drop(w, kind);
	}

	/* From here on, messages name the entry by what it overlays. */
	int n = model ? snprintf(w->entry, sizeof(w->entry), "model %s", id)
		      : snprintf(w->entry, sizeof(w->entry), "offering %s %s", provider, id);
	if (n < 0 || (size_t)n >= sizeof(w->entry))
		snprintf(w->entry + sizeof(w->entry) - 4, 4, "...");

	/* The provider's length in front keeps ("a b", "c") apart from ("a", "b c"). */
	char key[2048];
	n = snprintf(key, sizeof(key), "%c%zu:%s%s", model ? 'm' : 'o',
		     provider ? strlen(provider) : 0, provider ? provider : "", id);
	if (n < 0 || (size_t)n >= sizeof(key)) {
		local_warn(w, "id too long; entry skipped");
		return MF_OK;
	}
	const json_t *first = json_object_get(seen, key);
	if (first != NULL) {
		local_warn(w, "repeats %s[%" JSON_INTEGER_FORMAT "]; entry skipped", list,
			   json_integer_value(first));
		return MF_OK;
	}
	if (json_object_set_new(seen, key, json_integer((json_int_t)position)) != 0)
		return MF_ENOMEM;

	const char *member;
	json_t *value;
	json_object_foreach((json_t *)entry, member, value) {
		static const char *const known[] = {"id",     "provider", "set",    "add",
						    "remove", "replace",  "pin",    "comment"};
		bool ok = false;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			ok = ok || strcmp(member, known[i]) == 0;
		if (!ok || (model && strcmp(member, "provider") == 0))
			local_warn(w, "unknown key \"%s\"; ignored", member);
	}

	struct mf_record *rec = host->record_new(w->ctx, kind, id);
	if (rec == NULL)
		return MF_ENOMEM;
	if (model) {
		char maker[256];
		size_t len = (size_t)(slash - id);
		if (len < sizeof(maker)) {
			memcpy(maker, id, len);
			maker[len] = '\0';
			local_check(w, host->set_string(rec, MF_FIELD_MAKER, maker), "maker");
		} else {
			local_warn(w, "maker part of the id too long; maker not set");
		}
	} else {
		local_check(w, host->set_string(rec, MF_FIELD_PROVIDER, provider), "provider");
	}

	const json_t *sec = local_section(w, entry, "set", false);
	if (sec != NULL)
		local_set(w, rec, sec);
	static const char *const unions[] = {"add", "replace", "remove"};
	for (size_t i = 0; i < sizeof(unions) / sizeof(unions[0]); i++) {
		sec = local_section(w, entry, unions[i], false);
		if (sec != NULL)
			local_union_section(w, rec, unions[i], sec);
	}
	sec = local_section(w, entry, "pin", true);
	if (sec != NULL)
		local_pin(w, rec, sec);

	if (w->rc != MF_OK) {
		host->record_free(rec);
		return w->rc;
	}
	int rc = host->emit(w->ctx, rec);
	return rc == MF_OK || rc == MF_EINVAL ? MF_OK : rc;
}

static int local_list(struct local_walk *w, const json_t *root, const char *name,
		      enum mf_record_kind kind, json_t *seen)
{
	const json_t *list = json_object_get(root, name);
	if (list == NULL || json_is_null(list))
		return MF_OK;
	size_t i;
	json_t *entry;
	json_array_foreach(list, i, entry) {
		int rc = local_entry(w, kind, name, i, entry, seen);
		if (rc != MF_OK)
			return rc;
	}
	return MF_OK;
}

/* The document: an object with the right format tag, and lists where
 * lists belong. Anything else refuses the file. */
static json_t *local_parse(const struct mf_host *host, struct mf_context *ctx,
			   const struct mf_page *page, const char *where)
{
	json_error_t err;
	json_t *root = json_loadb(page->data, page->size, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		host->log(ctx, MF_LOG_ERROR, "%s: not valid JSON: line %d, column %d: %s", where,
			  err.line, err.column, err.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		host->log(ctx, MF_LOG_ERROR, "%s: top level is %s, expected an object", where,
			  local_type_name(root));
		goto refuse;
	}
	const json_t *format = json_object_get(root, "format");
	if (!json_is_string(format)) {
		host->log(ctx, MF_LOG_ERROR,
			  "%s: no \"format\": the file must say \"format\": \"%s\"", where,
			  LOCAL_FORMAT);
		goto refuse;
	}
	if (strcmp(json_string_value(format), LOCAL_FORMAT) != 0) {
		host->log(ctx, MF_LOG_ERROR, "%s: format \"%.64s\" is not supported (this plugin "
			  "reads %s)", where, json_string_value(format), LOCAL_FORMAT);
		goto refuse;
	}
	static const char *const lists[] = {"models", "offerings"};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		const json_t *v = json_object_get(root, lists[i]);
		if (v != NULL && !json_is_null(v) && !json_is_array(v)) {
			host->log(ctx, MF_LOG_ERROR, "%s: \"%s\" is %s, expected an array", where,
				  lists[i], local_type_name(v));
			goto refuse;
		}
	}
	return root;
refuse:
	json_decref(root);
	return NULL;
}

static int local_fetch(const struct mf_host *host, struct mf_context *ctx, void *state,
		       const struct mf_page *prev, struct mf_request *req)
{
	(void)state;
	if (prev != NULL)
		return MF_DONE;
	const char *url = host->source_url(ctx);
	if (url == NULL || url[0] == '\0') {
		host->log(ctx, MF_LOG_ERROR, "no url: set url = file:PATH to the overlay file");
		return MF_EINVAL;
	}
	return host->request_set_url(req, url);
}

static int local_normalize(const struct mf_host *host, struct mf_context *ctx, void *state,
			   const struct mf_page *page)
{
	(void)state;
	struct local_walk w = {
		.host = host,
		.ctx = ctx,
		.where = page->url != NULL ? page->url : "overlay",
		.rc = MF_OK,
	};
	json_t *root = local_parse(host, ctx, page, w.where);
	if (root == NULL)
		return MF_EPARSE;

	snprintf(w.entry, sizeof(w.entry), "%s", w.where);
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v) {
		if (strcmp(key, "format") != 0 && strcmp(key, "models") != 0 &&
		    strcmp(key, "offerings") != 0 && strcmp(key, "comment") != 0)
			local_warn(&w, "unknown top-level key \"%s\"; ignored", key);
	}

	json_t *seen = json_object();
	int rc = seen != NULL ? MF_OK : MF_ENOMEM;
	if (rc == MF_OK)
		rc = local_list(&w, root, "models", MF_RECORD_MODEL, seen);
	if (rc == MF_OK)
		rc = local_list(&w, root, "offerings", MF_RECORD_OFFERING, seen);
	if (w.warnings > LOCAL_MAX_WARNINGS)
		host->log(ctx, MF_LOG_WARNING, "%u more warnings on %s not shown",
			  w.warnings - LOCAL_MAX_WARNINGS, w.where);
	json_decref(seen);
	json_decref(root);
	return rc;
}

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "local",
	.version = "1.0.0",
	.description = "the admin's JSON overlay: set, pin, add, replace and remove catalog fields",
	.default_url = NULL,
	.options = NULL,
	.init = NULL,
	.fetch = local_fetch,
	.normalize = local_normalize,
	.fini = NULL,
};
