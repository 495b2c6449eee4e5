/*
 * arena: the LMArena leaderboard (lmarena/arena-catalog,
 * data/leaderboard-<board>.json).
 *
 * The upstream is one JSON object: category -> {model name -> {rating,
 * rating_q975, rating_q025}}. The same model shows up once per category it
 * was rated in, so the rows are gathered per name first (a hash table local
 * to one normalize call) and each name becomes one model record whose
 * scores map holds "<prefix>.<category>" = rating plus ".q025" and ".q975"
 * for every category, and "<prefix>.overall" from the overall category.
 * Records come out in the order the names first appear in the file.
 *
 * Names are kept exactly as listed ("...-bf16", "... (thinking)"): what a
 * suffix means is the mapper's business, not this plugin's.
 *
 * The file is a single page. A broken document is refused (MF_EPARSE, so the
 * last good payload is kept); a broken value only loses that value.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <modelfuse/plugin.h>

/* Warnings per page before the rest are only counted: a format change
 * upstream would otherwise print one line per row (thousands). */
#define ARENA_MAX_WARNINGS 20

/* Longest leaderboard tag and overall category accepted as options. */
#define ARENA_MAX_TAG 32
#define ARENA_MAX_CATEGORY 128

/* Longest score key: prefix, category and a quantile suffix. */
#define ARENA_MAX_KEY 256

static const struct mf_option arena_options[] = {
	{
		.name = "overall_category",
		.type = MF_OPT_STRING,
		.default_value = "full",
		.help = "category whose rating is also stored as <prefix>.overall",
	},
	{
		.name = "leaderboard",
		.type = MF_OPT_STRING,
		.default_value = "text",
		.help = "which board the file is: text scores go under arena.*, "
			"any other board NAME under arena-NAME.*",
	},
	{.name = NULL},
};

/* Options as one normalize call uses them. */
struct arena_settings {
	char prefix[ARENA_MAX_TAG + 8]; /* "arena" or "arena-<board>" */
	const char *board;              /* borrowed from the host until fini */
	const char *overall;            /* likewise */
};

/* One distinct model name and the record gathering its scores. */
struct arena_entry {
	const char *name; /* borrowed from the parsed document */
	uint64_t hash;
	struct mf_record *rec;
};

/* State of one normalize call. */
struct arena_walk {
	const struct mf_host *host;
	struct mf_context *ctx;
	const struct arena_settings *set;
	const char *category; /* for messages */
	const char *name;     /* for messages */
	unsigned warnings;
	/* Names in order of first appearance, and an open-addressing index
	 * into them (size a power of two, at least twice the rows). */
	struct arena_entry *entries;
	size_t n_entries;
	size_t *slots; /* entry index + 1; 0 = free */
	size_t n_slots;
	size_t values; /* ratings stored, to tell a leaderboard from other JSON */
	int rc;        /* first fatal setter failure (out of memory), else MF_OK */
};

static void arena_warn(struct arena_walk *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void arena_warn(struct arena_walk *w, const char *fmt, ...)
{
	w->warnings++;
	if (w->warnings > ARENA_MAX_WARNINGS)
		return;

	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	const char *more = (size_t)n >= sizeof(msg) ? "..." : "";
	/* Names can be long and odd: quote them, cut at a sane length. */
	if (w->category != NULL && w->name != NULL)
		w->host->log(w->ctx, MF_LOG_WARNING, "%.100s/\"%.200s\": %s%s", w->category, w->name,
			     msg, more);
	else if (w->category != NULL)
		w->host->log(w->ctx, MF_LOG_WARNING, "category %.100s: %s%s", w->category, msg, more);
	else
		w->host->log(w->ctx, MF_LOG_WARNING, "%s%s", msg, more);
}

static const char *arena_type_name(const json_t *v)
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

/* ------------------------------------------------------------ options */

/* The board tag becomes part of score names: keep it to [a-z0-9_-]. */
static bool arena_tag_valid(const char *tag)
{
	size_t len = strlen(tag);
	if (len == 0 || len > ARENA_MAX_TAG)
		return false;
	for (const char *c = tag; *c; c++)
		if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '_' &&
		    *c != '-')
			return false;
	return true;
}

static bool arena_category_valid(const char *cat)
{
	size_t len = strlen(cat);
	if (len == 0 || len > ARENA_MAX_CATEGORY)
		return false;
	for (const char *c = cat; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	return true;
}

/* Read and check the options. Returns MF_OK or MF_EINVAL (logged). */
static int arena_settings_read(const struct mf_host *host, struct mf_context *ctx,
			       struct arena_settings *set)
{
	const char *board = host->option_string(ctx, "leaderboard");
	const char *overall = host->option_string(ctx, "overall_category");
	if (board == NULL)
		board = "text";
	if (overall == NULL)
		overall = "full";

	if (!arena_tag_valid(board)) {
		host->log(ctx, MF_LOG_ERROR,
			  "leaderboard \"%.64s\": expected 1 to %d of a-z, 0-9, '_' and '-'", board,
			  ARENA_MAX_TAG);
		return MF_EINVAL;
	}
	if (!arena_category_valid(overall)) {
		host->log(ctx, MF_LOG_ERROR,
			  "overall_category \"%.64s\": expected a category name of 1 to %d "
			  "printable characters",
			  overall, ARENA_MAX_CATEGORY);
		return MF_EINVAL;
	}
	/* The text board is what tiers and category scores read, under plain
	 * "arena."; any other board keeps its own namespace so that a vision
	 * rating can never pass for a text one. */
	if (strcmp(board, "text") == 0)
		snprintf(set->prefix, sizeof(set->prefix), "arena");
	else
		snprintf(set->prefix, sizeof(set->prefix), "arena-%s", board);
	set->board = board;
	set->overall = overall;
	return MF_OK;
}

/* A url such as .../leaderboard-vision.json names its board: say so when the
 * configured tag disagrees, since the ratings would land under the wrong
 * names. Style-control files ("text-style-control") count as their board. */
static void arena_check_url(const struct mf_host *host, struct mf_context *ctx, const char *board)
{
	const char *url = host->source_url(ctx);
	if (url == NULL)
		return;
	const char *base = strrchr(url, '/');
	base = base != NULL ? base + 1 : url;
	static const char head[] = "leaderboard-";
	if (strncmp(base, head, sizeof(head) - 1) != 0)
		return;
	const char *kind = base + sizeof(head) - 1;
	size_t len = strcspn(kind, "-.?#");
	size_t board_len = strcspn(board, "-");
	if (len == 0 || kind[len] == '\0')
		return;
	if (len != board_len || strncmp(kind, board, len) != 0)
		host->log(ctx, MF_LOG_WARNING,
			  "url names the %.*s leaderboard but leaderboard = %s: its ratings are "
			  "stored as that board's",
			  (int)len, kind, board);
}

static int arena_init(const struct mf_host *host, struct mf_context *ctx, void **state)
{
	*state = NULL;
	struct arena_settings set;
	int rc = arena_settings_read(host, ctx, &set);
	if (rc != MF_OK)
		return rc;
	arena_check_url(host, ctx, set.board);
	return MF_OK;
}

/* ------------------------------------------------------------ names */

/* FNV-1a: short keys, no adversary worth a keyed hash (a crafted page can
 * only slow its own normalize down). */
static uint64_t arena_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static int arena_index_init(struct arena_walk *w, size_t rows)
{
	size_t n = 16;
	while (n < rows * 2) {
		if (n > SIZE_MAX / 4)
			return MF_ENOMEM;
		n *= 2;
	}
	w->slots = calloc(n, sizeof(*w->slots));
	w->entries = calloc(rows > 0 ? rows : 1, sizeof(*w->entries));
	if (w->slots == NULL || w->entries == NULL)
		return MF_ENOMEM;
	w->n_slots = n;
	return MF_OK;
}

/* The record of `name`, created on first sight. NULL when out of memory
 * (w->rc says so). The index never fills: it has twice the slots of rows. */
static struct mf_record *arena_record_of(struct arena_walk *w, const char *name)
{
	uint64_t h = arena_hash(name);
	size_t mask = w->n_slots - 1;
	size_t i = (size_t)h & mask;
	while (w->slots[i] != 0) {
		struct arena_entry *e = &w->entries[w->slots[i] - 1];
		if (e->hash == h && strcmp(e->name, name) == 0)
			return e->rec;
		i = (i + 1) & mask;
	}
	struct mf_record *rec = w->host->record_new(w->ctx, MF_RECORD_MODEL, name);
	if (rec == NULL) {
		w->rc = MF_ENOMEM;
		return NULL;
	}
	w->entries[w->n_entries] = (struct arena_entry){.name = name, .hash = h, .rec = rec};
	w->slots[i] = ++w->n_entries;
	return rec;
}

static void arena_index_free(struct arena_walk *w)
{
	for (size_t i = 0; i < w->n_entries; i++)
		if (w->entries[i].rec != NULL)
			w->host->record_free(w->entries[i].rec);
	free(w->entries);
	free(w->slots);
}

/* ------------------------------------------------------------ rows */

/* Store one value of a row under key (and under overall_key when the row
 * belongs to the overall category). A missing or null value is unknown;
 * anything but a finite number is wrong and reported. */
static void arena_value(struct arena_walk *w, struct mf_record *rec, const json_t *row,
			const char *field, const char *key, const char *overall_key)
{
	const json_t *v = json_object_get(row, field);
	if (v == NULL || json_is_null(v))
		return;
	if (!json_is_number(v)) {
		arena_warn(w, "%s is %s, expected a number; value skipped", field,
			   arena_type_name(v));
		return;
	}
	double d = json_number_value(v);
	if (!isfinite(d)) {
		arena_warn(w, "%s is not a finite number; value skipped", field);
		return;
	}
	const char *keys[2] = {key, overall_key};
	for (size_t i = 0; i < 2 && keys[i] != NULL; i++) {
		int rc = w->host->map_set(rec, MF_FIELD_SCORES, keys[i], d);
		if (rc == MF_ENOMEM) {
			w->rc = MF_ENOMEM;
			return;
		}
		if (rc != MF_OK) {
			arena_warn(w, "%s refused by the core (status %d); value skipped", keys[i],
				   rc);
			return;
		}
	}
	w->values++;
}

/* The three score names of one category: "<prefix>.<cat>" and its
 * quantiles. False when they would not fit. */
static bool arena_keys(const struct arena_walk *w, const char *category, char keys[3][ARENA_MAX_KEY])
{
	static const char *const suffix[3] = {"", ".q025", ".q975"};
	for (size_t i = 0; i < 3; i++) {
		int n = snprintf(keys[i], ARENA_MAX_KEY, "%s.%s%s", w->set->prefix, category,
				 suffix[i]);
		if (n < 0 || (size_t)n >= ARENA_MAX_KEY)
			return false;
	}
	return true;
}

static int arena_category(struct arena_walk *w, const char *category, const json_t *rows)
{
	w->category = category;
	w->name = NULL;
	if (!json_is_object(rows)) {
		arena_warn(w, "is %s, expected an object of models; skipped",
			   arena_type_name(rows));
		return MF_OK;
	}
	bool is_overall = strcmp(category, w->set->overall) == 0;
	/* A category literally called "overall" would collide with the
	 * overall rating taken from another category. */
	if (!is_overall && strcmp(category, "overall") == 0) {
		arena_warn(w, "clashes with the overall rating taken from %s; skipped",
			   w->set->overall);
		return MF_OK;
	}
	char keys[3][ARENA_MAX_KEY];
	char overall[3][ARENA_MAX_KEY];
	if (!arena_keys(w, category, keys) || !arena_keys(w, "overall", overall)) {
		arena_warn(w, "name too long for a score key; skipped");
		return MF_OK;
	}

	static const char *const fields[3] = {"rating", "rating_q025", "rating_q975"};
	const char *name;
	json_t *row;
	json_object_foreach((json_t *)rows, name, row) {
		w->name = name;
		struct mf_record *rec = arena_record_of(w, name);
		if (rec == NULL)
			return w->rc;
		if (!json_is_object(row)) {
			arena_warn(w, "row is %s, expected an object; skipped",
				   arena_type_name(row));
			continue;
		}
		for (size_t i = 0; i < 3; i++) {
			arena_value(w, rec, row, fields[i], keys[i],
				    is_overall ? overall[i] : NULL);
			if (w->rc != MF_OK)
				return w->rc;
		}
	}
	w->name = NULL;
	return MF_OK;
}

/* ------------------------------------------------------------ page */

/* Duplicate keys make a document ambiguous, but refusing the whole board
 * over one repeated name would keep the source stale until upstream fixed
 * it: detect them (strict parse), say where, and take the last value. */
static json_t *arena_parse(const struct mf_host *host, struct mf_context *ctx,
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
			  "%s: top level is %s, expected an object of leaderboard categories", where,
			  arena_type_name(root));
		json_decref(root);
		return NULL;
	}
	return root;
}

static int arena_fetch(const struct mf_host *host, struct mf_context *ctx, void *state,
		       const struct mf_page *prev, struct mf_request *req)
{
	(void)state;
	if (prev != NULL)
		return MF_DONE;
	return host->request_set_url(req, host->source_url(ctx));
}

/* Hand every gathered record to the core, in order of first appearance. */
static int arena_emit_all(struct arena_walk *w)
{
	for (size_t i = 0; i < w->n_entries; i++) {
		struct mf_record *rec = w->entries[i].rec;
		w->entries[i].rec = NULL;
		/* emit owns rec whatever it returns. A refused record (an empty
		 * name) is the core's to count; anything else means it can take
		 * no more records. */
		int rc = w->host->emit(w->ctx, rec);
		if (rc != MF_OK && rc != MF_EINVAL)
			return rc;
	}
	return MF_OK;
}

static int arena_normalize(const struct mf_host *host, struct mf_context *ctx, void *state,
			   const struct mf_page *page)
{
	(void)state;
	struct arena_settings set;
	int rc = arena_settings_read(host, ctx, &set);
	if (rc != MF_OK)
		return rc;

	json_t *root = arena_parse(host, ctx, page);
	if (root == NULL)
		return MF_EPARSE;
	const char *where = page->url != NULL ? page->url : "page";

	/* Size the index on the rows: every name is in at least one. */
	size_t rows = 0;
	const char *category;
	json_t *models;
	json_object_foreach(root, category, models)
		if (json_is_object(models))
			rows += json_object_size(models);

	struct arena_walk w = {.host = host, .ctx = ctx, .set = &set, .rc = MF_OK};
	rc = arena_index_init(&w, rows);
	bool has_overall = false;
	json_object_foreach(root, category, models) {
		if (rc != MF_OK)
			break;
		if (category[0] == '\0') {
			w.category = NULL;
			arena_warn(&w, "a category has an empty name; skipped");
			continue;
		}
		has_overall |= strcmp(category, set.overall) == 0;
		rc = arena_category(&w, category, models);
	}
	w.category = NULL;
	w.name = NULL;

	/* Rows but not one rating among them: some other JSON object (the
	 * catalog's visibility-data.json, say), not a leaderboard. */
	if (rc == MF_OK && rows > 0 && w.values == 0) {
		host->log(ctx, MF_LOG_ERROR,
			  "%s: no rating in any of its %zu rows, not an arena leaderboard", where,
			  rows);
		rc = MF_EPARSE;
	}
	if (rc == MF_OK && !has_overall && rows > 0)
		host->log(ctx, MF_LOG_WARNING, "%s: no category %s, so no %s.overall rating",
			  where, set.overall, set.prefix);
	if (rc == MF_OK)
		rc = arena_emit_all(&w);
	if (w.warnings > ARENA_MAX_WARNINGS)
		host->log(ctx, MF_LOG_WARNING, "%u more warnings on %s not shown",
			  w.warnings - ARENA_MAX_WARNINGS, where);
	arena_index_free(&w);
	json_decref(root);
	return rc;
}

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "arena",
	.version = "1.0.0",
	.description = "LMArena leaderboard: ratings with 95% intervals for every category",
	.default_url = "https://raw.githubusercontent.com/lmarena/arena-catalog/main/data/"
		       "leaderboard-text.json",
	.options = arena_options,
	.init = arena_init,
	.fetch = arena_fetch,
	.normalize = arena_normalize,
	.fini = NULL,
};
