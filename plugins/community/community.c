/*
 * community: a curated list of models the community ranks as important, even
 * when they are new or little downloaded. The project ships one in
 * $(pkgdatadir)/community.json; any URL serving the same format works too.
 *
 * Format (doc/sources/community.md):
 *
 *   {"format": "modelfuse-community/1", "reviewed": "2026-11-20",
 *    "description": "...",
 *    "models": [{"id": "deepseek/deepseek-r1", "maker": "deepseek",
 *                "name": "DeepSeek-R1", "rank": 1, "tags": ["reasoning"],
 *                "reason": "one line", "reviewed": "2026-11-15",
 *                "hf_id": "deepseek-ai/DeepSeek-R1"}, ...]}
 *
 * Every entry becomes one model record. The rank is passed on as given: the
 * core's merge turns it into a popularity score. A document in another
 * format (or version) is refused (MF_EPARSE, so the last good list is kept);
 * a broken field only loses that field, a duplicate id loses the later entry.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <modelfuse/plugin.h>

#ifndef MF_PKGDATADIR
#error "MF_PKGDATADIR must be defined (plugins/community/plugin.am does it)"
#endif

/* Warnings per page before the rest are only counted. */
#define COMMUNITY_MAX_WARNINGS 20

/* The format name; a version follows the slash. */
#define COMMUNITY_FORMAT "modelfuse-community/"
/* The major version this plugin reads. Minor versions only add keys. */
#define COMMUNITY_MAJOR 1

/* Ranks beyond this are typing errors, not a curated order. */
#define COMMUNITY_MAX_RANK 1000000

/* State of one normalize call. */
struct community_walk {
	const struct mf_host *host;
	struct mf_context *ctx;
	const char *where;     /* page URL, for messages */
	size_t position;       /* 1-based entry number, 0 outside entries */
	const char *id;        /* current entry's id, for messages */
	bool strict_keys;      /* version 1 exactly: unknown keys are typos */
	const char *reviewed;  /* the list's own review date, inherited */
	unsigned warnings;
	/* Ids already taken, folded to lowercase, with their position:
	 * open addressing, size a power of two over twice the entries. */
	char **seen;
	size_t *seen_pos;
	size_t n_seen_slots;
	int rc; /* first fatal setter failure (out of memory), else MF_OK */
};

static void community_warn(struct community_walk *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void community_warn(struct community_walk *w, const char *fmt, ...)
{
	w->warnings++;
	if (w->warnings > COMMUNITY_MAX_WARNINGS)
		return;

	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	const char *more = (size_t)n >= sizeof(msg) ? "..." : "";
	if (w->position > 0 && w->id != NULL)
		w->host->log(w->ctx, MF_LOG_WARNING, "models[%zu] %.200s: %s%s", w->position - 1,
			     w->id, msg, more);
	else if (w->position > 0)
		w->host->log(w->ctx, MF_LOG_WARNING, "models[%zu]: %s%s", w->position - 1, msg,
			     more);
	else
		w->host->log(w->ctx, MF_LOG_WARNING, "%s: %s%s", w->where, msg, more);
}

static const char *community_type_name(const json_t *v)
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

/* Remember the first out-of-memory; other refusals cost only the field. */
static void community_check(struct community_walk *w, int rc, const char *field)
{
	if (rc == MF_OK)
		return;
	if (rc == MF_ENOMEM) {
		if (w->rc == MF_OK)
			w->rc = MF_ENOMEM;
		return;
	}
	community_warn(w, "%s: value refused by the core (status %d), skipped", field, rc);
}

/* ------------------------------------------------------------ values */

/* No whitespace or control bytes: ids and repo names are single tokens. */
static bool community_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* YYYY-MM-DD, a real calendar day. */
static bool community_date(const char *s)
{
	static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (size_t i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return false;
	int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int month = (s[5] - '0') * 10 + (s[6] - '0');
	int day = (s[8] - '0') * 10 + (s[9] - '0');
	if (month < 1 || month > 12 || day < 1 || day > days[month - 1])
		return false;
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return !(month == 2 && day == 29 && !leap);
}

/* An optional string: absent and null mean unset; "" and other types are
 * reported. Returns the string or NULL. */
static const char *community_string(struct community_walk *w, const json_t *entry,
				    const char *key)
{
	const json_t *v = json_object_get(entry, key);
	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		community_warn(w, "%s is %s, expected a string; field skipped", key,
			       community_type_name(v));
		return NULL;
	}
	if (json_string_length(v) == 0) {
		community_warn(w, "%s is empty; field skipped", key);
		return NULL;
	}
	return json_string_value(v);
}

static void community_rank(struct community_walk *w, struct mf_record *rec, const json_t *entry)
{
	const json_t *v = json_object_get(entry, "rank");
	if (v == NULL || json_is_null(v)) {
		community_warn(w, "no rank; the entry counts as listed, unranked");
		return;
	}
	int64_t rank;
	if (json_is_integer(v)) {
		rank = json_integer_value(v);
	} else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
		   fabs(json_real_value(v)) <= COMMUNITY_MAX_RANK) {
		/* 3.0 is a rank written oddly; 2.5 is not a rank. */
		rank = (int64_t)json_real_value(v);
	} else if (json_is_real(v)) {
		community_warn(w, "rank is %g, not a whole number; field skipped",
			       json_real_value(v));
		return;
	} else {
		community_warn(w, "rank is %s, expected a positive integer; field skipped",
			       community_type_name(v));
		return;
	}
	if (rank < 1 || rank > COMMUNITY_MAX_RANK) {
		community_warn(w, "rank is %" PRId64 ", expected 1 to %d; field skipped", rank,
			       COMMUNITY_MAX_RANK);
		return;
	}
	community_check(w, w->host->set_int(rec, MF_FIELD_RANK, rank), "rank");
}

static void community_tags(struct community_walk *w, struct mf_record *rec, const json_t *entry)
{
	const json_t *tags = json_object_get(entry, "tags");
	if (tags == NULL || json_is_null(tags))
		return;
	if (!json_is_array(tags)) {
		community_warn(w, "tags is %s, expected an array of strings; field skipped",
			       community_type_name(tags));
		return;
	}
	size_t i;
	json_t *tag;
	json_array_foreach(tags, i, tag) {
		if (!json_is_string(tag) || json_string_length(tag) == 0) {
			community_warn(w, "tags[%zu] is %s, expected a non-empty string; skipped",
				       i, json_is_string(tag) ? "empty" : community_type_name(tag));
			continue;
		}
		community_check(w, w->host->list_add(rec, MF_FIELD_TAGS, json_string_value(tag)),
				"tags");
	}
}

/* One line: a reason with a line break keeps its first line. */
static void community_reason(struct community_walk *w, struct mf_record *rec, const json_t *entry)
{
	const char *reason = community_string(w, entry, "reason");
	if (reason == NULL)
		return;
	size_t len = strcspn(reason, "\r\n");
	if (reason[len] != '\0')
		community_warn(w, "reason has more than one line; only the first is kept");
	if (len == 0)
		return;
	community_check(w, w->host->set_string_n(rec, MF_FIELD_REASON, reason, len), "reason");
}

static void community_reviewed(struct community_walk *w, struct mf_record *rec,
			       const json_t *entry)
{
	const char *date = community_string(w, entry, "reviewed");
	if (date != NULL && !community_date(date)) {
		community_warn(w, "reviewed \"%.40s\" is not a YYYY-MM-DD date; field skipped",
			       date);
		date = NULL;
	}
	/* An entry without a date of its own was reviewed with the list. */
	if (date == NULL)
		date = w->reviewed;
	if (date != NULL)
		community_check(w, w->host->set_string(rec, MF_FIELD_REVIEWED, date), "reviewed");
}

static void community_hf_id(struct community_walk *w, struct mf_record *rec, const json_t *entry)
{
	const char *hf = community_string(w, entry, "hf_id");
	if (hf == NULL)
		return;
	const char *slash = strchr(hf, '/');
	if (!community_token(hf) || slash == NULL || slash == hf || slash[1] == '\0' ||
	    strchr(slash + 1, '/') != NULL) {
		community_warn(w, "hf_id \"%.100s\" is not an org/repo id; field skipped", hf);
		return;
	}
	community_check(w, w->host->set_string(rec, MF_FIELD_HF_ID, hf), "hf_id");
}

/* The maker as given, else the id's namespace. A given maker that
 * disagrees with the namespace wins, but is worth a look. */
static void community_maker(struct community_walk *w, struct mf_record *rec, const json_t *entry,
			    const char *id)
{
	const char *maker = community_string(w, entry, "maker");
	if (maker != NULL && strchr(maker, '/') != NULL) {
		community_warn(w, "maker \"%.100s\" contains '/'; field skipped", maker);
		maker = NULL;
	}
	const char *slash = strchr(id, '/');
	size_t ns_len = slash != NULL ? (size_t)(slash - id) : 0;
	if (maker != NULL) {
		if (ns_len > 0 && (strlen(maker) != ns_len || strncasecmp(maker, id, ns_len) != 0))
			community_warn(w, "maker %.100s differs from the id's namespace; "
					  "the maker is used",
				       maker);
		community_check(w, w->host->set_string(rec, MF_FIELD_MAKER, maker), "maker");
	} else if (ns_len > 0) {
		community_check(w, w->host->set_string_n(rec, MF_FIELD_MAKER, id, ns_len),
				"maker");
	}
}

/* Keys a version-1 list has; with strict_keys, any other is reported. */
static void community_unknown_keys(struct community_walk *w, const json_t *obj,
				   const char *const *known, const char *what)
{
	if (!w->strict_keys)
		return;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		bool found = false;
		for (const char *const *k = known; *k != NULL && !found; k++)
			found = strcmp(*k, key) == 0;
		if (!found)
			community_warn(w, "unknown %s key \"%.60s\" ignored (a typo?)", what, key);
	}
}

/* ------------------------------------------------------------ duplicates */

static uint64_t community_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)tolower((unsigned char)*s);
		h *= 1099511628211ULL;
	}
	return h;
}

static int community_seen_init(struct community_walk *w, size_t entries)
{
	size_t n = 16;
	while (n < entries * 2) {
		if (n > SIZE_MAX / 4)
			return MF_ENOMEM;
		n *= 2;
	}
	w->seen = calloc(n, sizeof(*w->seen));
	w->seen_pos = calloc(n, sizeof(*w->seen_pos));
	if (w->seen == NULL || w->seen_pos == NULL)
		return MF_ENOMEM;
	w->n_seen_slots = n;
	return MF_OK;
}

/* Ids that differ only in case are one model to the mapper: the first
 * keeps it. Returns the earlier position (1-based) or 0 when new. */
static size_t community_seen(struct community_walk *w, const char *id)
{
	size_t mask = w->n_seen_slots - 1;
	size_t i = (size_t)community_hash(id) & mask;
	while (w->seen[i] != NULL) {
		if (strcasecmp(w->seen[i], id) == 0)
			return w->seen_pos[i];
		i = (i + 1) & mask;
	}
	/* Borrowed: the document outlives the walk. */
	w->seen[i] = (char *)id;
	w->seen_pos[i] = w->position;
	return 0;
}

/* ------------------------------------------------------------ entries */

static int community_entry(struct community_walk *w, const json_t *entry)
{
	static const char *const known[] = {"id",	"maker",    "name",  "rank", "tags",
					    "reason", "reviewed", "hf_id", NULL};
	const struct mf_host *host = w->host;
	w->id = NULL;

	if (!json_is_object(entry)) {
		community_warn(w, "entry is %s, expected an object; skipped",
			       community_type_name(entry));
		return MF_OK;
	}
	const json_t *idv = json_object_get(entry, "id");
	const char *id = "";
	if (idv == NULL || json_is_null(idv))
		community_warn(w, "no id; entry dropped");
	else if (!json_is_string(idv))
		community_warn(w, "id is %s, expected a string; entry dropped",
			       community_type_name(idv));
	else if (!community_token(json_string_value(idv)))
		community_warn(w, "id \"%.100s\" is empty or holds blanks; entry dropped",
			       json_string_value(idv));
	else
		id = json_string_value(idv);

	/* No usable id: still handed over, so that the core drops and counts
	 * it the way it does every such record. */
	if (id[0] == '\0') {
		struct mf_record *rec = host->record_new(w->ctx, MF_RECORD_MODEL, "");
		if (rec == NULL)
			return MF_ENOMEM;
		int rc = host->emit(w->ctx, rec);
		return rc == MF_EINVAL ? MF_OK : rc;
	}
	w->id = id;
	size_t first = community_seen(w, id);
	if (first > 0) {
		community_warn(w, "duplicate of models[%zu]; the first is kept", first - 1);
		return MF_OK;
	}
	community_unknown_keys(w, entry, known, "entry");

	struct mf_record *rec = host->record_new(w->ctx, MF_RECORD_MODEL, id);
	if (rec == NULL)
		return MF_ENOMEM;
	community_maker(w, rec, entry, id);
	const char *name = community_string(w, entry, "name");
	if (name != NULL)
		community_check(w, host->set_string(rec, MF_FIELD_NAME, name), "name");
	community_rank(w, rec, entry);
	community_tags(w, rec, entry);
	community_reason(w, rec, entry);
	community_reviewed(w, rec, entry);
	community_hf_id(w, rec, entry);

	if (w->rc != MF_OK) {
		host->record_free(rec);
		return w->rc;
	}
	/* emit owns rec from here on; anything but a refused record means
	 * the core can take no more. */
	int rc = host->emit(w->ctx, rec);
	if (rc != MF_OK && rc != MF_EINVAL)
		return rc;
	return MF_OK;
}

/* ------------------------------------------------------------ document */

/* "modelfuse-community/1" or "/1.N": the major this plugin reads. Minor
 * versions add keys only; a file of minor 0 is checked for typos. */
static bool community_format(const char *fmt, bool *strict)
{
	size_t head = sizeof(COMMUNITY_FORMAT) - 1;
	if (strncmp(fmt, COMMUNITY_FORMAT, head) != 0)
		return false;
	const char *ver = fmt + head;
	if (!isdigit((unsigned char)ver[0]))
		return false;
	char *end;
	unsigned long major = strtoul(ver, &end, 10);
	if (major != COMMUNITY_MAJOR || (ver[0] == '0'))
		return false;
	if (*end == '\0') {
		*strict = true;
		return true;
	}
	if (*end != '.' || !isdigit((unsigned char)end[1]))
		return false;
	const char *minor = end + 1;
	strtoul(minor, &end, 10);
	if (*end != '\0')
		return false;
	/* "1.0" is version 1 exactly. */
	*strict = strspn(minor, "0") == strlen(minor);
	return true;
}

/* Check the document's frame; returns the models array or NULL (logged). */
static const json_t *community_frame(struct community_walk *w, const json_t *root)
{
	const struct mf_host *host = w->host;
	if (!json_is_object(root)) {
		host->log(w->ctx, MF_LOG_ERROR,
			  "%s: top level is %s, expected an object with format and models",
			  w->where, community_type_name(root));
		return NULL;
	}
	const json_t *fmt = json_object_get(root, "format");
	if (!json_is_string(fmt)) {
		host->log(w->ctx, MF_LOG_ERROR,
			  "%s: format is %s, expected \"" COMMUNITY_FORMAT "%d\"", w->where,
			  fmt != NULL ? community_type_name(fmt) : "missing", COMMUNITY_MAJOR);
		return NULL;
	}
	if (!community_format(json_string_value(fmt), &w->strict_keys)) {
		host->log(w->ctx, MF_LOG_ERROR,
			  "%s: format \"%.80s\" is not one this plugin reads (\"" COMMUNITY_FORMAT
			  "%d\" or \"" COMMUNITY_FORMAT "%d.N\")",
			  w->where, json_string_value(fmt), COMMUNITY_MAJOR, COMMUNITY_MAJOR);
		return NULL;
	}
	const json_t *models = json_object_get(root, "models");
	if (!json_is_array(models)) {
		host->log(w->ctx, MF_LOG_ERROR, "%s: models is %s, expected an array", w->where,
			  models != NULL ? community_type_name(models) : "missing");
		return NULL;
	}

	static const char *const known[] = {"format", "reviewed", "description", "models", NULL};
	community_unknown_keys(w, root, known, "top-level");
	const char *reviewed = community_string(w, root, "reviewed");
	if (reviewed != NULL && !community_date(reviewed))
		community_warn(w, "reviewed \"%.40s\" is not a YYYY-MM-DD date; ignored",
			       reviewed);
	else
		w->reviewed = reviewed;
	const json_t *desc = json_object_get(root, "description");
	if (desc != NULL && !json_is_null(desc) && !json_is_string(desc))
		community_warn(w, "description is %s, expected a string; ignored",
			       community_type_name(desc));
	return models;
}

static json_t *community_parse(const struct mf_host *host, struct mf_context *ctx,
			       const struct mf_page *page, const char *where)
{
	json_error_t err;
	/* A curated file with a repeated key is a mistake to fix, not guess. */
	json_t *root = json_loadb(page->data, page->size, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL)
		host->log(ctx, MF_LOG_ERROR, "%s: not valid JSON: line %d, column %d: %s", where,
			  err.line, err.column, err.text);
	return root;
}

static int community_fetch(const struct mf_host *host, struct mf_context *ctx, void *state,
			   const struct mf_page *prev, struct mf_request *req)
{
	(void)state;
	if (prev != NULL)
		return MF_DONE;
	return host->request_set_url(req, host->source_url(ctx));
}

static int community_normalize(const struct mf_host *host, struct mf_context *ctx, void *state,
			       const struct mf_page *page)
{
	(void)state;
	const char *where = page->url != NULL ? page->url : "page";
	json_t *root = community_parse(host, ctx, page, where);
	if (root == NULL)
		return MF_EPARSE;

	struct community_walk w = {.host = host, .ctx = ctx, .where = where, .rc = MF_OK};
	int rc = MF_OK;
	const json_t *models = community_frame(&w, root);
	if (models == NULL)
		rc = MF_EPARSE;
	else
		rc = community_seen_init(&w, json_array_size(models));

	size_t i;
	json_t *entry;
	if (rc == MF_OK) {
		json_array_foreach(models, i, entry) {
			w.position = i + 1;
			rc = community_entry(&w, entry);
			if (rc != MF_OK)
				break;
		}
	}
	w.position = 0;
	if (w.warnings > COMMUNITY_MAX_WARNINGS)
		host->log(ctx, MF_LOG_WARNING, "%u more warnings on %s not shown",
			  w.warnings - COMMUNITY_MAX_WARNINGS, where);
	free(w.seen);
	free(w.seen_pos);
	json_decref(root);
	return rc;
}

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "community",
	.version = "1.0.0",
	.description = "curated list of models the community ranks as important",
	.default_url = "file://" MF_PKGDATADIR "/community.json",
	.options = NULL,
	.init = NULL,
	.fetch = community_fetch,
	.normalize = community_normalize,
	.fini = NULL,
};
