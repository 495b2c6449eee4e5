/*
 * benchmarks: per-model benchmark scores from local JSON files
 * (doc/sources/benchmarks.md).
 *
 * The source url names a folder (every file in it matching the `pattern`
 * option is one page, in name order, so a run is deterministic), a single
 * file, or an http(s) URL of one file. Each file says its format
 * ("modelfuse-benchmarks/1") and, per benchmark, the scale of its scores
 * (0..1 or 0..100). Every model gets one record per file with scores
 * normalized to 0..100 under "bench.<name>" and the date they were
 * measured as a number YYYYMMDD under "bench.<name>.date".
 *
 * Files are written by people: the document is checked whole before any
 * record is made, and a structural mistake (format, name, scale, scores
 * not an object) refuses the file so that the last good payload is kept.
 * One bad score only loses that score, with a warning.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>
#include <modelfuse/plugin.h>

#define BENCH_FORMAT "modelfuse-benchmarks/1"
#define BENCH_MAX_WARNINGS 50
#define BENCH_MAX_NAME 64

/* --------------------------------------------------------------- options */

static const struct mf_option bench_options[] = {
	{.name = "pattern",
	 .type = MF_OPT_STRING,
	 .default_value = "*.json",
	 .help = "when url names a folder: the files in it to read (a shell glob, "
		 "e.g. *.json)"},
	{.name = NULL},
};

/* ----------------------------------------------------------------- state */

struct bench_state {
	char *pattern;
	char **urls; /* the pages, in order; NULL until the first fetch */
	size_t n_urls;
};

static void bench_forget(struct bench_state *st)
{
	for (size_t i = 0; i < st->n_urls; i++)
		free(st->urls[i]);
	free(st->urls);
	st->urls = NULL;
	st->n_urls = 0;
}

static int bench_init(const struct mf_host *host, struct mf_context *ctx, void **state)
{
	const char *pattern = host->option_string(ctx, "pattern");
	if (pattern == NULL || pattern[0] == '\0' || strchr(pattern, '/') != NULL) {
		host->log(ctx, MF_LOG_ERROR,
			  "pattern '%s' must be a file name glob without '/' (e.g. *.json)",
			  pattern != NULL ? pattern : "");
		return MF_EINVAL;
	}
	struct bench_state *st = calloc(1, sizeof(*st));
	if (st == NULL)
		return MF_ENOMEM;
	st->pattern = strdup(pattern);
	if (st->pattern == NULL) {
		free(st);
		return MF_ENOMEM;
	}
	*state = st;
	return MF_OK;
}

static void bench_fini(const struct mf_host *host, struct mf_context *ctx, void *state)
{
	(void)host;
	(void)ctx;
	struct bench_state *st = state;
	if (st == NULL)
		return;
	bench_forget(st);
	free(st->pattern);
	free(st);
}

/* -------------------------------------------------------------- file URLs */

static int bench_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The local path of a file: URL (file:///p, file://localhost/p, file:/p),
 * percent-decoded; NULL when the URL is not one of those (caller frees). */
static char *bench_file_path(const char *url)
{
	if (strncasecmp(url, "file:", 5) != 0)
		return NULL;
	const char *p = url + 5;
	if (strncmp(p, "//", 2) == 0) {
		p += 2;
		if (strncasecmp(p, "localhost/", 10) == 0)
			p += 9;
		else if (p[0] != '/')
			return NULL; /* another host */
	}
	if (p[0] != '/')
		return NULL;
	char *path = malloc(strlen(p) + 1);
	if (path == NULL)
		return NULL;
	size_t n = 0;
	for (; *p != '\0' && *p != '?' && *p != '#'; p++) {
		if (*p == '%' && bench_hex(p[1]) >= 0 && bench_hex(p[2]) >= 0) {
			char c = (char)(bench_hex(p[1]) * 16 + bench_hex(p[2]));
			if (c == '\0') {
				free(path);
				return NULL;
			}
			path[n++] = c;
			p += 2;
		} else {
			path[n++] = *p;
		}
	}
	path[n] = '\0';
	return path;
}

/* "file://" + dir + "/" + name, percent-encoded so that any byte of a file
 * name (space, '#', '%', '?') reaches the core's fetch intact. */
static char *bench_file_url(const char *dir, const char *name)
{
	static const char keep[] = "-._~/!$&'()*+,;=:@";
	size_t cap = 8 + 3 * (strlen(dir) + strlen(name)) + 2;
	char *url = malloc(cap);
	if (url == NULL)
		return NULL;
	size_t n = (size_t)snprintf(url, cap, "file://");
	const char *parts[] = {dir, "/", name};
	for (size_t i = 0; i < 3; i++) {
		/* The folder's own trailing '/' makes the separator redundant. */
		if (i == 1 && n > 0 && url[n - 1] == '/')
			continue;
		for (const unsigned char *c = (const unsigned char *)parts[i]; *c; c++) {
			if (isalnum(*c) || (*c < 0x80 && strchr(keep, *c) != NULL))
				url[n++] = (char)*c;
			else
				n += (size_t)snprintf(url + n, cap - n, "%%%02X", *c);
		}
	}
	url[n] = '\0';
	return url;
}

static int bench_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* List the regular files of dir matching the pattern into st->urls, sorted
 * by name. Hidden files never match (FNM_PERIOD): editors leave them. */
static int bench_list(const struct mf_host *host, struct mf_context *ctx, struct bench_state *st,
		      const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		host->log(ctx, MF_LOG_ERROR, "cannot list %s: %s", dir, strerror(errno));
		return MF_ERROR;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = MF_OK;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (fnmatch(st->pattern, de->d_name, FNM_PERIOD) != 0)
			continue;
		size_t size = strlen(dir) + strlen(de->d_name) + 2;
		char *path = malloc(size);
		if (path == NULL) {
			rc = MF_ENOMEM;
			break;
		}
		snprintf(path, size, "%s/%s", dir, de->d_name);
		struct stat sb;
		bool regular = stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
		free(path);
		if (!regular)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			char **grown = realloc(names, cap * sizeof(*names));
			if (grown == NULL) {
				rc = MF_ENOMEM;
				break;
			}
			names = grown;
		}
		names[n] = strdup(de->d_name);
		if (names[n] == NULL) {
			rc = MF_ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (rc == MF_OK && n > 0) {
		qsort(names, n, sizeof(*names), bench_cmp);
		st->urls = calloc(n, sizeof(*st->urls));
		if (st->urls == NULL)
			rc = MF_ENOMEM;
		for (size_t i = 0; rc == MF_OK && i < n; i++) {
			st->urls[i] = bench_file_url(dir, names[i]);
			if (st->urls[i] == NULL)
				rc = MF_ENOMEM;
			st->n_urls = i + 1;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc != MF_OK)
		bench_forget(st);
	return rc;
}

/* Work out the pages once, on the first call: a folder gives one page per
 * matching file, anything else is one page. */
static int bench_plan(const struct mf_host *host, struct mf_context *ctx, struct bench_state *st,
		      const char *url)
{
	bench_forget(st);
	char *path = bench_file_path(url);
	if (path == NULL) {
		if (strncasecmp(url, "file:", 5) == 0) {
			host->log(ctx, MF_LOG_ERROR, "%s: not a local file URL", url);
			return MF_EINVAL;
		}
		st->urls = calloc(1, sizeof(*st->urls));
		if (st->urls == NULL || (st->urls[0] = strdup(url)) == NULL)
			return MF_ENOMEM;
		st->n_urls = 1;
		return MF_OK;
	}
	struct stat sb;
	int rc;
	if (stat(path, &sb) != 0) {
		host->log(ctx, MF_LOG_ERROR, "%s: %s", path, strerror(errno));
		rc = MF_ERROR;
	} else if (S_ISDIR(sb.st_mode)) {
		rc = bench_list(host, ctx, st, path);
		if (rc == MF_OK && st->n_urls == 0)
			host->log(ctx, MF_LOG_WARNING, "no file in %s matches %s", path,
				  st->pattern);
	} else {
		/* A single file: the core's fetch says what is wrong with it. */
		st->urls = calloc(1, sizeof(*st->urls));
		rc = st->urls != NULL && (st->urls[0] = strdup(url)) != NULL ? MF_OK : MF_ENOMEM;
		st->n_urls = rc == MF_OK ? 1 : 0;
	}
	free(path);
	return rc;
}

static int bench_fetch(const struct mf_host *host, struct mf_context *ctx, void *state,
		       const struct mf_page *prev, struct mf_request *req)
{
	struct bench_state *st = state;
	size_t next = 0;
	if (prev == NULL) {
		const char *url = host->source_url(ctx);
		if (url == NULL || url[0] == '\0') {
			host->log(ctx, MF_LOG_ERROR,
				  "no url: set url = file:FOLDER with the benchmark files");
			return MF_EINVAL;
		}
		int rc = bench_plan(host, ctx, st, url);
		if (rc != MF_OK)
			return rc;
	} else {
		next = (size_t)prev->index + 1;
	}
	if (next >= st->n_urls)
		return MF_DONE;
	return host->request_set_url(req, st->urls[next]);
}

/* ------------------------------------------------------------ normalizing */

/* One benchmark of a file, checked. */
struct bench_def {
	const json_t *obj;
	char name[BENCH_MAX_NAME + 1]; /* lowercased */
	double factor;                 /* to 0..100 */
	double max;                    /* top of the stated scale */
	long date;                     /* YYYYMMDD, 0: none */
	const json_t *scores;
};

struct bench_walk {
	const struct mf_host *host;
	struct mf_context *ctx;
	const char *where;
	unsigned warnings;
	int rc;
};

static void bench_warn(struct bench_walk *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void bench_warn(struct bench_walk *w, const char *fmt, ...)
{
	w->warnings++;
	if (w->warnings > BENCH_MAX_WARNINGS)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	w->host->log(w->ctx, MF_LOG_WARNING, "%s: %s%s", w->where, msg,
		     (size_t)n >= sizeof(msg) ? "..." : "");
}

static const char *bench_type_name(const json_t *v)
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

/* "YYYY-MM-DD" -> YYYYMMDD, or 0 when it is not such a date. */
static long bench_date(const char *s)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return 0;
	long year = strtol(s, NULL, 10);
	long month = strtol(s + 5, NULL, 10);
	long day = strtol(s + 8, NULL, 10);
	if (year < 1900 || month < 1 || month > 12 || day < 1 || day > 31)
		return 0;
	return year * 10000 + month * 100 + day;
}

/* A member that, when present, must be a string; its value or NULL. On the
 * wrong type *bad is set. */
static const char *bench_string(const json_t *obj, const char *key, bool *bad)
{
	const json_t *v = json_object_get(obj, key);
	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
		*bad = true;
		return NULL;
	}
	return json_string_value(v);
}

/* Check one benchmark object against the file's defaults; fill def.
 * Returns false (after logging why) when the file must be refused. */
static bool bench_check(const struct mf_host *host, struct mf_context *ctx, const char *where,
			const char *label, const json_t *obj, const json_t *defaults,
			struct bench_def *def)
{
	if (!json_is_object(obj)) {
		host->log(ctx, MF_LOG_ERROR, "%s: %s is %s, expected an object", where, label,
			  bench_type_name(obj));
		return false;
	}
	bool bad = false;
	const char *name = bench_string(obj, "benchmark", &bad);
	size_t len = name != NULL ? strlen(name) : 0;
	bool name_ok = len > 0 && len <= BENCH_MAX_NAME && isalnum((unsigned char)name[0]);
	for (size_t i = 0; name_ok && i < len; i++)
		name_ok = isalnum((unsigned char)name[i]) || name[i] == '_' || name[i] == '-';
	if (!name_ok) {
		host->log(ctx, MF_LOG_ERROR,
			  "%s: %s needs \"benchmark\": a name of letters, digits, '_' and '-' "
			  "(at most %d)", where, label, BENCH_MAX_NAME);
		return false;
	}
	for (size_t i = 0; i <= len; i++)
		def->name[i] = (char)tolower((unsigned char)name[i]);

	/* Scale and date may come from the file's top level. */
	const char *scale = bench_string(obj, "scale", &bad);
	if (scale == NULL && !bad && defaults != NULL)
		scale = bench_string(defaults, "scale", &bad);
	if (scale != NULL && strcmp(scale, "0..1") == 0) {
		def->factor = 100;
		def->max = 1;
	} else if (scale != NULL && strcmp(scale, "0..100") == 0) {
		def->factor = 1;
		def->max = 100;
	} else {
		host->log(ctx, MF_LOG_ERROR,
			  "%s: benchmark %s: \"scale\" must be \"0..1\" or \"0..100\"%s%.32s%s",
			  where, def->name, scale != NULL ? ", not \"" : "",
			  scale != NULL ? scale : "", scale != NULL ? "\"" : "");
		return false;
	}

	bad = false;
	const char *date = bench_string(obj, "date", &bad);
	if (date == NULL && !bad && defaults != NULL)
		date = bench_string(defaults, "date", &bad);
	def->date = date != NULL ? bench_date(date) : 0;
	if (bad || (date != NULL && def->date == 0)) {
		host->log(ctx, MF_LOG_ERROR, "%s: benchmark %s: \"date\" must be YYYY-MM-DD",
			  where, def->name);
		return false;
	}

	def->scores = json_object_get(obj, "scores");
	if (!json_is_object(def->scores)) {
		host->log(ctx, MF_LOG_ERROR, "%s: benchmark %s: \"scores\" is %s, expected an "
			  "object of model id -> score", where, def->name,
			  def->scores != NULL ? bench_type_name(def->scores) : "missing");
		return false;
	}
	def->obj = obj;
	return true;
}

/* The benchmarks of a file, checked whole into *out (*count of them).
 * Returns MF_OK, MF_EPARSE when the file is refused, or MF_ENOMEM. */
static int bench_defs(const struct mf_host *host, struct mf_context *ctx, const char *where,
		      const json_t *root, struct bench_def **out, size_t *count)
{
	const json_t *format = json_object_get(root, "format");
	if (!json_is_string(format)) {
		host->log(ctx, MF_LOG_ERROR, "%s: no \"format\": the file must say \"format\": "
			  "\"%s\"", where, BENCH_FORMAT);
		return MF_EPARSE;
	}
	if (strcmp(json_string_value(format), BENCH_FORMAT) != 0) {
		host->log(ctx, MF_LOG_ERROR,
			  "%s: format \"%.64s\" is not supported (this plugin reads %s)", where,
			  json_string_value(format), BENCH_FORMAT);
		return MF_EPARSE;
	}
	const json_t *list = json_object_get(root, "benchmarks");
	bool single = json_object_get(root, "benchmark") != NULL;
	if (list != NULL && single) {
		host->log(ctx, MF_LOG_ERROR, "%s: give either \"benchmark\" (one benchmark) or "
			  "\"benchmarks\" (a list), not both", where);
		return MF_EPARSE;
	}
	if (list == NULL && !single) {
		host->log(ctx, MF_LOG_ERROR, "%s: no \"benchmark\" and no \"benchmarks\"", where);
		return MF_EPARSE;
	}
	if (list != NULL && !json_is_array(list)) {
		host->log(ctx, MF_LOG_ERROR, "%s: \"benchmarks\" is %s, expected an array", where,
			  bench_type_name(list));
		return MF_EPARSE;
	}
	size_t n = single ? 1 : json_array_size(list);
	struct bench_def *defs = calloc(n ? n : 1, sizeof(*defs));
	if (defs == NULL)
		return MF_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char label[48];
		snprintf(label, sizeof(label), "benchmarks[%zu]", i);
		bool ok = single ? bench_check(host, ctx, where, "the file", root, NULL, &defs[i])
				 : bench_check(host, ctx, where, label, json_array_get(list, i),
					       root, &defs[i]);
		/* The same name twice would make one silently overwrite the other. */
		for (size_t j = 0; ok && j < i; j++) {
			if (strcmp(defs[j].name, defs[i].name) == 0) {
				host->log(ctx, MF_LOG_ERROR, "%s: benchmark %s is given twice",
					  where, defs[i].name);
				ok = false;
			}
		}
		if (!ok) {
			free(defs);
			return MF_EPARSE;
		}
	}
	*out = defs;
	*count = n;
	return MF_OK;
}

/* The records of one file, one per model id, in order of first sight;
 * index maps id -> position. */
struct bench_table {
	json_t *index;
	struct mf_record **models;
	size_t n, cap;
};

/* The record of a model id, made on first use. NULL on out of memory. */
static struct mf_record *bench_record(struct bench_walk *w, struct bench_table *t, const char *id)
{
	const json_t *at = json_object_get(t->index, id);
	if (at != NULL)
		return t->models[json_integer_value(at)];
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 32;
		struct mf_record **grown = realloc(t->models, cap * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		t->models = grown;
		t->cap = cap;
	}
	struct mf_record *rec = w->host->record_new(w->ctx, MF_RECORD_MODEL, id);
	if (rec == NULL)
		return NULL;
	if (json_object_set_new(t->index, id, json_integer((json_int_t)t->n)) != 0) {
		w->host->record_free(rec);
		return NULL;
	}
	/* A namespaced id names its maker; a bare one is left to the mapper. */
	const char *slash = strchr(id, '/');
	if (slash != NULL && slash != id && slash[1] != '\0' &&
	    w->host->set_string_n(rec, MF_FIELD_MAKER, id, (size_t)(slash - id)) == MF_ENOMEM) {
		w->host->record_free(rec);
		json_object_del(t->index, id);
		return NULL;
	}
	if (id[0] == '\0')
		bench_warn(w, "a score has an empty model id; dropped");
	t->models[t->n++] = rec;
	return rec;
}

/* One score of one benchmark: checked, normalized, stored. */
static int bench_score(struct bench_walk *w, const struct bench_def *def, const char *id,
		       const json_t *v, struct bench_table *t)
{
	const json_t *score = v;
	long date = def->date;
	if (json_is_object(v)) {
		score = json_object_get(v, "score");
		const json_t *d = json_object_get(v, "date");
		if (d != NULL && !json_is_null(d)) {
			long own = json_is_string(d) ? bench_date(json_string_value(d)) : 0;
			if (own == 0)
				bench_warn(w, "benchmark %s, model %s: \"date\" is not YYYY-MM-DD; "
					   "the benchmark's date is used", def->name, id);
			else
				date = own;
		}
		if (score == NULL || json_is_null(score))
			return MF_OK;
	}
	if (!json_is_number(score)) {
		bench_warn(w, "benchmark %s, model %s: score is %s, expected a number; skipped",
			   def->name, id, bench_type_name(score));
		return MF_OK;
	}
	double raw = json_number_value(score);
	if (raw < 0 || raw > def->max) {
		bench_warn(w, "benchmark %s, model %s: score %g is outside the file's scale "
			   "0..%g; skipped", def->name, id, raw, def->max);
		return MF_OK;
	}
	/* Rounded like prices, so 0.29 becomes 29 rather than 28.999999999999996. */
	double value = round(raw * def->factor * 1e9) / 1e9;
	struct mf_record *rec = bench_record(w, t, id);
	if (rec == NULL)
		return MF_ENOMEM;
	char key[BENCH_MAX_NAME + 16];
	snprintf(key, sizeof(key), "bench.%s", def->name);
	int rc = w->host->map_set(rec, MF_FIELD_SCORES, key, value);
	if (rc == MF_OK && date != 0) {
		snprintf(key, sizeof(key), "bench.%s.date", def->name);
		rc = w->host->map_set(rec, MF_FIELD_SCORES, key, (double)date);
	}
	if (rc == MF_ENOMEM)
		return rc;
	if (rc != MF_OK)
		bench_warn(w, "benchmark %s, model %s: score refused by the core (status %d)",
			   def->name, id, rc);
	return MF_OK;
}

/* Keys the format does not know are likely typos ("dat" for "date"): said,
 * then ignored. */
static void bench_keys(struct bench_walk *w, const json_t *obj, const char *label,
		       const char *const *known)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		bool ok = false;
		for (const char *const *k = known; *k != NULL && !ok; k++)
			ok = strcmp(key, *k) == 0;
		if (!ok)
			bench_warn(w, "%s: unknown key \"%s\"; ignored", label, key);
	}
}

static void bench_unknown_keys(struct bench_walk *w, const json_t *root, const char *label,
			       const struct bench_def *defs, size_t n_defs)
{
	static const char *const top[] = {"format", "benchmarks", "scale", "date",
					  "source", "comment",    NULL};
	static const char *const one[] = {"format", "benchmark", "scale",   "date",
					  "source", "scores",    "comment", NULL};
	static const char *const item[] = {"benchmark", "scale",   "date", "source",
					   "scores",    "comment", NULL};
	bool single = json_object_get(root, "benchmark") != NULL;
	bench_keys(w, root, label, single ? one : top);
	for (size_t i = 0; !single && i < n_defs; i++) {
		char name[BENCH_MAX_NAME + 16];
		snprintf(name, sizeof(name), "benchmark %s", defs[i].name);
		bench_keys(w, defs[i].obj, name, item);
	}
}

static int bench_emit_all(struct bench_walk *w, const struct bench_def *defs, size_t n_defs)
{
	struct bench_table t = {.index = json_object()};
	int rc = t.index != NULL ? MF_OK : MF_ENOMEM;

	for (size_t b = 0; rc == MF_OK && b < n_defs; b++) {
		const char *id;
		json_t *v;
		json_object_foreach((json_t *)defs[b].scores, id, v) {
			/* null: the model was not evaluated; nothing to say. */
			if (json_is_null(v))
				continue;
			rc = bench_score(w, &defs[b], id, v, &t);
			if (rc != MF_OK)
				break;
		}
	}
	/* Records go out in the order their models first appeared. An empty
	 * id is dropped and counted by the core. */
	size_t i = 0;
	for (; rc == MF_OK && i < t.n; i++) {
		int erc = w->host->emit(w->ctx, t.models[i]);
		if (erc != MF_OK && erc != MF_EINVAL)
			rc = erc;
	}
	for (; i < t.n; i++)
		w->host->record_free(t.models[i]);
	free(t.models);
	json_decref(t.index);
	return rc;
}

static int bench_normalize(const struct mf_host *host, struct mf_context *ctx, void *state,
			   const struct mf_page *page)
{
	(void)state;
	const char *where = page->url != NULL ? page->url : "benchmark file";
	json_error_t err;
	json_t *root = json_loadb(page->data, page->size, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		host->log(ctx, MF_LOG_ERROR, "%s: not valid JSON: line %d, column %d: %s", where,
			  err.line, err.column, err.text);
		return MF_EPARSE;
	}
	if (!json_is_object(root)) {
		host->log(ctx, MF_LOG_ERROR, "%s: top level is %s, expected an object", where,
			  bench_type_name(root));
		json_decref(root);
		return MF_EPARSE;
	}
	size_t n_defs = 0;
	struct bench_def *defs = NULL;
	int rc = bench_defs(host, ctx, where, root, &defs, &n_defs);
	if (rc != MF_OK) {
		json_decref(root);
		return rc;
	}
	struct bench_walk w = {.host = host, .ctx = ctx, .where = where, .rc = MF_OK};
	bench_unknown_keys(&w, root, "the file", defs, n_defs);
	rc = bench_emit_all(&w, defs, n_defs);
	if (w.warnings > BENCH_MAX_WARNINGS)
		host->log(ctx, MF_LOG_WARNING, "%u more warnings on %s not shown",
			  w.warnings - BENCH_MAX_WARNINGS, where);
	free(defs);
	json_decref(root);
	return rc;
}

MF_PLUGIN_EXPORT const struct mf_plugin modelfuse_plugin = {
	.abi_major = MF_ABI_MAJOR,
	.abi_minor = MF_ABI_MINOR,
	.struct_size = sizeof(struct mf_plugin),
	.name = "benchmarks",
	.version = "1.0.0",
	.description = "benchmark scores from local JSON files (any benchmark, 0..1 or 0..100)",
	.default_url = NULL,
	.options = bench_options,
	.init = bench_init,
	.fetch = bench_fetch,
	.normalize = bench_normalize,
	.fini = bench_fini,
};
