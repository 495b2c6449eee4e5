#include "mf_build_config.h"
#include "changes.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "log.h"
#include "record.h"
#include "util.h"

/*
 * The digest holds, per model, the watched fields as one compact JSON line
 * ({"id": ..., "f": {path: value}}) in catalog order (by id), after a
 * header line naming the format and the run. Values are compared as the
 * compact text jansson writes with 15 significant digits (which jsonw
 * writes too), so a price read back from the digest equals the same price
 * computed again.
 *
 * The previous digest is compared as a merge-join: the catalog and the
 * digest are both sorted by id, so one line at a time is read and set
 * against the model it names. A model whose line is the very line this run
 * writes is unchanged without parsing; other lines are taken apart, by a
 * scanner for the compact form this file writes, else by jansson.
 */
#define DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15) | JSON_ENCODE_ANY)

/* ------------------------------------------------------------ writing */

static void put_string(struct jsonw *w, const char *path, const char *s)
{
	if (s) {
		jw_key(w, path);
		jw_string(w, s);
	}
}

static void put_strlist(struct jsonw *w, const char *path, const struct strlist *l)
{
	if (!l)
		return;
	jw_key(w, path);
	jw_array_begin(w);
	for (size_t i = 0; i < l->count; i++)
		jw_string(w, l->items[i]);
	jw_end(w);
}

/* "provider:id" into sb. */
static const char *offering_name(struct strbuf *sb, const struct catalog_offering *o)
{
	sb->len = 0;
	strbuf_puts(sb, o->provider ? o->provider : "(null)");
	strbuf_puts(sb, ":");
	strbuf_puts(sb, o->native_id ? o->native_id : "(null)");
	return sb->data;
}

/* The digest line of one model (see changes.h for the watched fields),
 * without its newline. Absent values are left out. */
static void digest_line(struct jsonw *w, struct strbuf *sb, const struct catalog_model *m)
{
	static const struct {
		enum mf_field f;
		const char *path;
	} strings[] =
	    {
		{MF_FIELD_RELEASE_DATE, "release_date"},
		{MF_FIELD_KNOWLEDGE, "knowledge"},
		{MF_FIELD_LICENSE, "license"},
		{MF_FIELD_MODE, "mode"},
	    },
	  bools[] =
	      {
		  {MF_FIELD_OPEN_WEIGHTS, "open_weights"},
		  {MF_FIELD_REASONING, "reasoning"},
		  {MF_FIELD_TOOL_CALL, "tool_call"},
	      },
	  tokens[] = {
	      {MF_FIELD_CONTEXT_TOKENS, "context_tokens"},
	      {MF_FIELD_MAX_OUTPUT_TOKENS, "max_output_tokens"},
	      {MF_FIELD_MAX_INPUT_TOKENS, "max_input_tokens"},
	  };
	const struct mf_record *r = m->merged;
	jw_object_begin(w);
	jw_key(w, "id");
	jw_string(w, m->id);
	jw_key(w, "f");
	jw_object_begin(w);
	put_string(w, "name", record_get_string(r, MF_FIELD_NAME));
	put_string(w, "provider", m->maker);
	for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
		put_string(w, strings[i].path, record_get_string(r, strings[i].f));
	for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
		bool b;
		if (record_get_bool(r, bools[i].f, &b)) {
			jw_key(w, bools[i].path);
			jw_bool(w, b);
		}
	}
	for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
		int64_t v;
		if (record_get_int(r, tokens[i].f, &v) && v > 0) {
			jw_key(w, tokens[i].path);
			jw_int(w, v);
		}
	}
	const struct nummap *price = record_get_map(r, MF_FIELD_PRICE);
	for (size_t i = 0; price && i < price->count; i++) {
		sb->len = 0;
		strbuf_puts(sb, "price.");
		strbuf_puts(sb, price->items[i].key);
		strbuf_puts(sb, "_per_million");
		jw_key(w, sb->data);
		jw_real(w, price_round(price->items[i].value));
	}
	if (m->price_from >= 0 && (size_t)m->price_from < m->n_offerings)
		put_string(w, "price_from", offering_name(sb, &m->offerings[m->price_from]));
	double rating;
	if (nummap_get(record_get_map(r, MF_FIELD_SCORES), "arena.full", &rating)) {
		jw_key(w, "arena.rating");
		jw_real(w, rating);
	}
	put_strlist(w, "modalities.input", record_get_list(r, MF_FIELD_INPUT_MODALITIES));
	put_strlist(w, "modalities.output", record_get_list(r, MF_FIELD_OUTPUT_MODALITIES));
	put_strlist(w, "aliases", record_get_list(r, MF_FIELD_ALIASES));
	if (m->callable_via.count > 0)
		put_strlist(w, "callable_via", &m->callable_via);
	if (m->n_offerings > 0) {
		jw_key(w, "offerings");
		jw_array_begin(w);
		for (size_t i = 0; i < m->n_offerings; i++)
			jw_string(w, offering_name(sb, &m->offerings[i]));
		jw_end(w);
	}
	jw_end(w);
	jw_end(w);
}

static void digest_header(struct jsonw *w, const char *generated_at)
{
	jw_object_begin(w);
	jw_key(w, "modelfuse_digest");
	jw_int(w, CHANGES_DIGEST_VERSION);
	jw_key(w, "generated_at");
	if (generated_at)
		jw_string_strict(w, generated_at);
	else
		jw_null(w);
	jw_end(w);
}

/* ------------------------------------------------------------ taking lines apart */

/* One watched field of a digest line. Offsets into the line's store while
 * it is being read, pointers once it is complete. */
struct dfield {
	size_t path_off;
	size_t value_off;
	size_t value_len;
	const char *path;
	const char *value; /* compact JSON, not NUL-terminated */
};

struct dline {
	struct strbuf store; /* NUL-terminated id and paths, value texts */
	size_t id_off;
	struct dfield *fields; /* sorted by path */
	size_t n_fields;
	size_t cap;
};

static void dline_reset(struct dline *dl)
{
	dl->store.len = 0;
	dl->n_fields = 0;
}

static void dline_free(struct dline *dl)
{
	strbuf_free(&dl->store);
	free(dl->fields);
	memset(dl, 0, sizeof *dl);
}

static const char *dline_id(const struct dline *dl)
{
	return dl->store.data + dl->id_off;
}

static size_t store_bytes(struct strbuf *sb, const char *s, size_t n)
{
	size_t off = sb->len;
	strbuf_append(sb, s, n);
	return off;
}

static void dline_add(struct dline *dl, size_t path_off, const char *value, size_t len)
{
	if (dl->n_fields == dl->cap) {
		dl->cap = dl->cap ? 2 * dl->cap : 16;
		dl->fields = xrealloc(dl->fields, dl->cap * sizeof *dl->fields);
	}
	dl->fields[dl->n_fields++] = (struct dfield){
	    .path_off = path_off,
	    .value_off = store_bytes(&dl->store, value, len),
	    .value_len = len,
	};
}

static int dfield_qsort(const void *pa, const void *pb)
{
	const struct dfield *a = pa, *b = pb;
	return strcmp(a->path, b->path);
}

/* Resolve the offsets and sort by path. False when a path repeats (the
 * scanner leaves that case to jansson). */
static bool dline_finish(struct dline *dl)
{
	for (size_t i = 0; i < dl->n_fields; i++) {
		dl->fields[i].path = dl->store.data + dl->fields[i].path_off;
		dl->fields[i].value = dl->store.data + dl->fields[i].value_off;
	}
	if (dl->n_fields > 1)
		qsort(dl->fields, dl->n_fields, sizeof *dl->fields, dfield_qsort);
	for (size_t i = 1; i < dl->n_fields; i++)
		if (strcmp(dl->fields[i - 1].path, dl->fields[i].path) == 0)
			return false;
	return true;
}

struct scan {
	const unsigned char *p;
	const unsigned char *end;
};

static bool scan_lit(struct scan *s, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
		return false;
	s->p += n;
	return true;
}

static int hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The scanner takes the lines this file writes and declines (false)
 * anything it is not sure jansson reads the same way: other escapes than
 * the short ones and \u0001-\u001F, nested objects, numbers that might
 * overflow, whitespace, repeated keys. A declined line goes to jansson,
 * which decides. Whatever it accepts jansson accepts too.
 */

/* A string at s->p, decoded and NUL-terminated into out when not NULL. */
static bool scan_string(struct scan *s, struct strbuf *out)
{
	const unsigned char *p = s->p, *end = s->end;
	if (p >= end || *p != '"')
		return false;
	p++;
	for (;;) {
		const unsigned char *run = p;
		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			p++;
		if (out && p > run)
			strbuf_append(out, run, (size_t)(p - run));
		if (p >= end || *p < 0x20)
			return false;
		if (*p == '"')
			break;
		if (*p >= 0x80) {
			size_t len = jw_utf8_sequence(p, (size_t)(end - p));
			if (len == 0)
				return false;
			if (out)
				strbuf_append(out, p, len);
			p += len;
			continue;
		}
		if (end - p < 2)
			return false;
		char c;
		switch (p[1]) {
		case '"':
		case '\\':
		case '/':
			c = (char)p[1];
			break;
		case 'b':
			c = '\b';
			break;
		case 'f':
			c = '\f';
			break;
		case 'n':
			c = '\n';
			break;
		case 'r':
			c = '\r';
			break;
		case 't':
			c = '\t';
			break;
		case 'u': {
			if (end - p < 6 || p[2] != '0' || p[3] != '0')
				return false;
			int hi = hex_digit(p[4]), lo = hex_digit(p[5]);
			if (hi < 0 || lo < 0 || hi > 1 || (hi == 0 && lo == 0))
				return false;
			c = (char)(hi * 16 + lo);
			p += 4;
			break;
		}
		default:
			return false;
		}
		if (out)
			strbuf_append(out, &c, 1);
		p += 2;
	}
	if (out)
		strbuf_append(out, "", 1);
	s->p = p + 1;
	return true;
}

static bool is_digit(const unsigned char *p, const unsigned char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

/* A number by JSON's grammar that jansson reads without overflow. */
static bool scan_number(struct scan *s)
{
	const unsigned char *p = s->p, *end = s->end;
	const unsigned char *start = p;
	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (is_digit(p, end))
		while (is_digit(p, end))
			p++;
	else
		return false;
	const unsigned char *digits_end = p;
	bool real = false, exponent = false;
	if (p < end && *p == '.') {
		p++;
		if (!is_digit(p, end))
			return false;
		while (is_digit(p, end))
			p++;
		real = true;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!is_digit(p, end))
			return false;
		while (is_digit(p, end))
			p++;
		real = exponent = true;
	}
	/* What follows a number in a line (',', ']' or '}') stops strtoll
	 * and strtod where the scan stopped. */
	if (p >= end)
		return false;
	if (!real && digits_end - start > 18) {
		errno = 0;
		(void)strtoll((const char *)start, NULL, 10);
		if (errno == ERANGE)
			return false;
	} else if (real && (exponent || p - start > 300)) {
		errno = 0;
		double v = strtod((const char *)start, NULL);
		if ((v == HUGE_VAL || v == -HUGE_VAL) && errno == ERANGE)
			return false;
	}
	s->p = p;
	return true;
}

/* A value other than an object; arrays nest a few levels at most. */
static bool scan_value(struct scan *s, int depth)
{
	if (s->p >= s->end)
		return false;
	switch (*s->p) {
	case '"':
		return scan_string(s, NULL);
	case 't':
		return scan_lit(s, "true");
	case 'f':
		return scan_lit(s, "false");
	case 'n':
		return scan_lit(s, "null");
	case '[':
		if (depth >= 8)
			return false;
		s->p++;
		if (scan_lit(s, "]"))
			return true;
		for (;;) {
			if (!scan_value(s, depth + 1))
				return false;
			if (scan_lit(s, "]"))
				return true;
			if (!scan_lit(s, ","))
				return false;
		}
	default:
		return scan_number(s);
	}
}

/* The compact line this file writes: {"id":"...","f":{"path":value,...}}. */
static bool scan_line(const char *line, size_t len, struct dline *dl)
{
	dline_reset(dl);
	struct scan s = {(const unsigned char *)line, (const unsigned char *)line + len};
	if (s.end > s.p && s.end[-1] == '\n')
		s.end--;
	dl->id_off = dl->store.len;
	if (!scan_lit(&s, "{\"id\":") || !scan_string(&s, &dl->store) || !scan_lit(&s, ",\"f\":{"))
		return false;
	if (!scan_lit(&s, "}")) {
		for (;;) {
			size_t path_off = dl->store.len;
			if (!scan_string(&s, &dl->store) || !scan_lit(&s, ":"))
				return false;
			const unsigned char *value = s.p;
			if (!scan_value(&s, 0))
				return false;
			dline_add(dl, path_off, (const char *)value, (size_t)(s.p - value));
			if (scan_lit(&s, "}"))
				break;
			if (!scan_lit(&s, ","))
				return false;
		}
	}
	if (!scan_lit(&s, "}") || s.p != s.end)
		return false;
	return dline_finish(dl);
}

/* Any line, as the digest was read before the scanner: whatever jansson
 * reads as an object with a string "id" and an object "f". */
static bool load_line(const char *line, size_t len, struct dline *dl)
{
	json_error_t jerr;
	json_t *j = json_loadb(line, len, 0, &jerr);
	const char *id = json_string_value(json_object_get(j, "id"));
	json_t *fields = json_object_get(j, "f");
	bool ok = id && json_is_object(fields);
	if (ok) {
		dline_reset(dl);
		dl->id_off = store_bytes(&dl->store, id, strlen(id) + 1);
		const char *k;
		json_t *v;
		json_object_foreach(fields, k, v)
		{
			size_t path_off = store_bytes(&dl->store, k, strlen(k) + 1);
			char *text = json_dumps(v, DUMP_FLAGS);
			dline_add(dl, path_off, text ? text : "null", text ? strlen(text) : 4);
			free(text);
		}
		ok = dline_finish(dl);
	}
	json_decref(j);
	return ok;
}

static bool parse_line(const char *line, size_t len, struct dline *dl)
{
	return scan_line(line, len, dl) || load_line(line, len, dl);
}

/* A value's compact text as jansson writes it after reading it: the
 * scanner keeps the bytes of the line, which for a digest this file wrote
 * are that text already. */
static char *canonical(const char *value, size_t len)
{
	json_error_t jerr;
	json_t *j = json_loadb(value, len, JSON_DECODE_ANY, &jerr);
	char *s = j ? json_dumps(j, DUMP_FLAGS) : NULL;
	json_decref(j);
	char *copy = xstrdup(s ? s : "null");
	free(s);
	return copy;
}

/* The name a line gives its model: its "name" field when a string. */
static char *dline_name(const struct dline *dl)
{
	for (size_t i = 0; i < dl->n_fields; i++) {
		const struct dfield *f = &dl->fields[i];
		if (strcmp(f->path, "name") != 0)
			continue;
		struct strbuf sb;
		strbuf_init(&sb);
		struct scan s = {(const unsigned char *)f->value,
				 (const unsigned char *)f->value + f->value_len};
		if (scan_string(&s, &sb) && s.p == s.end)
			return strbuf_detach(&sb);
		strbuf_free(&sb);
		/* Not the scanner's kind of string: ask jansson. */
		json_error_t jerr;
		json_t *j = json_loadb(f->value, f->value_len, JSON_DECODE_ANY, &jerr);
		char *name = json_is_string(j) ? xstrdup(json_string_value(j)) : NULL;
		json_decref(j);
		return name;
	}
	return NULL;
}

/* ------------------------------------------------------------ reading */

/* A line kept in memory, for a digest whose lines are out of order. */
struct mline {
	char *text;
	size_t len;
	char *id;
	size_t lineno;
};

/* The previous digest, read one line at a time in id order. */
struct reader {
	FILE *f;
	const char *path;
	char *line; /* the current line */
	size_t len;
	size_t cap;
	size_t lineno;
	struct strbuf id;   /* of the current line */
	struct strbuf prev; /* of the line before, to check the order */
	bool have_prev;
	bool parsed; /* dl holds the current line taken apart */
	struct dline dl;
	/* Out of order: every line, sorted by id, then line. */
	struct mline *mem;
	size_t n_mem;
	size_t pos;
	bool memory;
};

enum {
	READ_EOF = 0,
	READ_LINE = 1,
	READ_BAD = -1,	   /* a line that is not a digest line (warned about) */
	READ_UNSORTED = 2, /* a line whose id sorts before the previous one */
};

static void reader_free(struct reader *rd)
{
	if (!rd->memory)
		free(rd->line);
	for (size_t i = 0; i < rd->n_mem; i++) {
		free(rd->mem[i].text);
		free(rd->mem[i].id);
	}
	free(rd->mem);
	strbuf_free(&rd->id);
	strbuf_free(&rd->prev);
	dline_free(&rd->dl);
	if (rd->f)
		fclose(rd->f);
}

static int bad_line(const struct reader *rd)
{
	log_warning("%s: line %zu is not a modelfuse digest line; changes computed as for a "
		    "first run",
		    rd->path, rd->lineno);
	return READ_BAD;
}

static bool ensure_parsed(struct reader *rd)
{
	if (!rd->parsed && !parse_line(rd->line, rd->len, &rd->dl))
		return false;
	rd->parsed = true;
	return true;
}

static void set_id(struct strbuf *sb, const char *s, size_t n)
{
	sb->len = 0;
	strbuf_append(sb, s, n);
}

/* The id of the current line without taking it apart, when it starts the
 * way this file writes it and needs no unescaping. A line that is not
 * what it seems is taken apart before it counts (join). */
static bool quick_id(struct reader *rd)
{
	static const char head[] = "{\"id\":\"";
	const size_t n = sizeof head - 1;
	if (rd->len <= n || memcmp(rd->line, head, n) != 0)
		return false;
	const char *start = rd->line + n;
	const char *end = rd->line + rd->len;
	for (const char *p = start; p < end; p++) {
		if (*p == '\\')
			return false;
		if (*p == '"') {
			set_id(&rd->id, start, (size_t)(p - start));
			return true;
		}
	}
	return false;
}

/* The next line with an id not seen before. Of lines with the same id the
 * first counts (the others must be digest lines all the same). */
static int reader_next(struct reader *rd)
{
	for (;;) {
		rd->parsed = false;
		if (rd->memory) {
			if (rd->pos == rd->n_mem)
				return READ_EOF;
			const struct mline *ml = &rd->mem[rd->pos++];
			rd->line = ml->text;
			rd->len = ml->len;
			rd->lineno = ml->lineno;
			set_id(&rd->id, ml->id, strlen(ml->id));
			return READ_LINE;
		}
		ssize_t n = getline(&rd->line, &rd->cap, rd->f);
		if (n < 0)
			return READ_EOF;
		rd->len = (size_t)n;
		rd->lineno++;
		if (!quick_id(rd)) {
			if (!ensure_parsed(rd))
				return bad_line(rd);
			const char *id = dline_id(&rd->dl);
			set_id(&rd->id, id, strlen(id));
		}
		if (rd->have_prev) {
			int c = strcmp(rd->id.data, rd->prev.data);
			if (c < 0)
				return READ_UNSORTED;
			if (c == 0) {
				if (!ensure_parsed(rd))
					return bad_line(rd);
				continue;
			}
		}
		set_id(&rd->prev, rd->id.data, rd->id.len);
		rd->have_prev = true;
		return READ_LINE;
	}
}

static int mline_qsort(const void *pa, const void *pb)
{
	const struct mline *a = pa, *b = pb;
	int c = strcmp(a->id, b->id);
	if (c != 0)
		return c;
	return a->lineno < b->lineno ? -1 : a->lineno > b->lineno;
}

/* A digest out of id order (not one this program wrote): read all of it
 * and go through it sorted. */
static int reader_load_all(struct reader *rd)
{
	log_info("%s: lines are not sorted by model id; reading the whole digest", rd->path);
	if (fseek(rd->f, 0, SEEK_SET) != 0 || getline(&rd->line, &rd->cap, rd->f) < 0) {
		log_warning("cannot read the previous digest %s again: %s; changes computed as "
			    "for a first run",
			    rd->path, strerror(errno));
		return READ_BAD;
	}
	rd->lineno = 1;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&rd->line, &rd->cap, rd->f)) >= 0) {
		rd->len = (size_t)n;
		rd->lineno++;
		rd->parsed = false;
		if (!ensure_parsed(rd))
			return bad_line(rd);
		if (rd->n_mem == cap) {
			cap = cap ? 2 * cap : 1024;
			rd->mem = xrealloc(rd->mem, cap * sizeof *rd->mem);
		}
		rd->mem[rd->n_mem++] = (struct mline){
		    .text = xstrndup(rd->line, rd->len),
		    .len = rd->len,
		    .id = xstrdup(dline_id(&rd->dl)),
		    .lineno = rd->lineno,
		};
	}
	if (rd->n_mem > 1)
		qsort(rd->mem, rd->n_mem, sizeof *rd->mem, mline_qsort);
	size_t kept = 0;
	for (size_t i = 0; i < rd->n_mem; i++) {
		if (kept > 0 && strcmp(rd->mem[kept - 1].id, rd->mem[i].id) == 0) {
			free(rd->mem[i].text);
			free(rd->mem[i].id);
			continue;
		}
		rd->mem[kept++] = rd->mem[i];
	}
	rd->n_mem = kept;
	free(rd->line);
	rd->line = NULL;
	rd->memory = true;
	rd->pos = 0;
	return READ_LINE;
}

/* The header: true when the digest is one to trust, with its run's time
 * in out. A digest that exists but cannot be trusted is warned about. */
static bool reader_open(struct reader *rd, const char *path, struct changes *out)
{
	rd->path = path;
	rd->f = fopen(path, "r");
	if (!rd->f) {
		if (errno != ENOENT)
			log_warning("cannot read the previous digest %s: %s; changes computed as "
				    "for a first run",
				    path, strerror(errno));
		return false;
	}
	ssize_t n = getline(&rd->line, &rd->cap, rd->f);
	if (n < 0) {
		log_warning("%s: empty digest; changes computed as for a first run", path);
		return false;
	}
	rd->lineno = 1;
	json_error_t jerr;
	json_t *j = json_loadb(rd->line, (size_t)n, 0, &jerr);
	json_t *ver = json_object_get(j, "modelfuse_digest");
	bool ok = json_is_integer(ver) && json_integer_value(ver) == CHANGES_DIGEST_VERSION;
	const char *at = json_string_value(json_object_get(j, "generated_at"));
	if (ok && at)
		out->previous_generated_at = xstrdup(at);
	json_decref(j);
	if (!ok)
		bad_line(rd);
	return ok;
}

/* ------------------------------------------------------------ comparing */

struct lists {
	size_t cap_added, cap_removed, cap_changed;
};

static struct model_change *push_change(struct model_change **list, size_t *n, size_t *cap,
					const char *id, char *name)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		*list = xrealloc(*list, *cap * sizeof **list);
	}
	(*list)[*n] = (struct model_change){.id = xstrdup(id), .name = name};
	return &(*list)[(*n)++];
}

static char *name_of(const struct catalog_model *m)
{
	const char *name = record_get_string(m->merged, MF_FIELD_NAME);
	return name ? xstrdup(name) : NULL;
}

static void push_field(struct model_change *mc, size_t *cap, const char *path, char *before,
		       char *after)
{
	if (mc->n_fields == *cap) {
		*cap = *cap ? 2 * *cap : 4;
		mc->fields = xrealloc(mc->fields, *cap * sizeof *mc->fields);
	}
	mc->fields[mc->n_fields++] = (struct field_change){
	    .path = xstrdup(path),
	    .before = before,
	    .after = after,
	};
}

/* The fields that differ between two lines of one model, sorted by path:
 * a field absent on one side counts as null there. */
static void compare_fields(const struct dline *before, const struct dline *after,
			   struct model_change *mc)
{
	size_t cap = 0;
	size_t i = 0, j = 0;
	while (i < before->n_fields || j < after->n_fields) {
		const struct dfield *b = i < before->n_fields ? &before->fields[i] : NULL;
		const struct dfield *a = j < after->n_fields ? &after->fields[j] : NULL;
		int c = a && b ? strcmp(b->path, a->path) : b ? -1 : 1;
		const char *path = c <= 0 ? b->path : a->path;
		const char *bv = c <= 0 ? b->value : "null";
		size_t blen = c <= 0 ? b->value_len : 4;
		const char *av = c >= 0 ? a->value : "null";
		size_t alen = c >= 0 ? a->value_len : 4;
		i += c <= 0;
		j += c >= 0;
		if (blen == alen && memcmp(bv, av, alen) == 0)
			continue;
		/* The new side is jansson's text already; the old one may be
		 * spelled otherwise (a digest not written by this program). */
		char *btext = canonical(bv, blen);
		if (strlen(btext) == alen && memcmp(btext, av, alen) == 0) {
			free(btext);
			continue;
		}
		push_field(mc, &cap, path, btext, xstrndup(av, alen));
	}
}

static int change_qsort(const void *pa, const void *pb)
{
	const struct model_change *a = pa, *b = pb;
	return strcmp(a->id, b->id);
}

static void sort_changes(struct model_change *list, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		if (strcmp(list[i - 1].id, list[i].id) > 0) {
			qsort(list, n, sizeof *list, change_qsort);
			return;
		}
	}
}

static int model_ptr_qsort(const void *pa, const void *pb)
{
	const struct catalog_model *a = *(const struct catalog_model *const *)pa;
	const struct catalog_model *b = *(const struct catalog_model *const *)pb;
	int c = strcmp(a->id, b->id);
	return c != 0 ? c : (a > b) - (a < b);
}

/* The models in id order: NULL when the catalog is in that order already
 * (merge sorts it; anything else is put in order here). */
static const struct catalog_model **catalog_order(const struct catalog *cat)
{
	size_t i = 1;
	while (i < cat->n_models && strcmp(cat->models[i - 1].id, cat->models[i].id) < 0)
		i++;
	if (i >= cat->n_models)
		return NULL;
	const struct catalog_model **order = xcalloc(cat->n_models, sizeof *order);
	for (i = 0; i < cat->n_models; i++)
		order[i] = &cat->models[i];
	qsort(order, cat->n_models, sizeof *order, model_ptr_qsort);
	return order;
}

static void model_changes_free(struct model_change *list, size_t n);

static void clear_lists(struct changes *out, struct lists *l)
{
	model_changes_free(out->added, out->n_added);
	model_changes_free(out->removed, out->n_removed);
	model_changes_free(out->changed, out->n_changed);
	out->added = out->removed = out->changed = NULL;
	out->n_added = out->n_removed = out->n_changed = out->unchanged = 0;
	*l = (struct lists){0};
}

/* Walk the models and the digest's lines together. Returns READ_EOF when
 * both were gone through, else READ_BAD or READ_UNSORTED. */
static int join(struct reader *rd, const struct catalog *cat,
		const struct catalog_model *const *order, struct changes *out, struct lists *l)
{
	struct jsonw w;
	jw_init(&w, NULL, JW_COMPACT);
	struct strbuf sb;
	strbuf_init(&sb);
	struct dline now = {0};
	size_t i = 0;
	int rc = reader_next(rd);
	while ((rc == READ_LINE || i < cat->n_models) && (rc == READ_LINE || rc == READ_EOF)) {
		const struct catalog_model *m = i >= cat->n_models ? NULL
						: order		   ? order[i]
								   : &cat->models[i];
		int c = rc != READ_LINE ? 1 : m ? strcmp(rd->id.data, m->id) : -1;
		if (c < 0) {
			/* The line's model is gone. */
			if (!ensure_parsed(rd)) {
				rc = bad_line(rd);
				break;
			}
			push_change(&out->removed, &out->n_removed, &l->cap_removed,
				    dline_id(&rd->dl), dline_name(&rd->dl));
			rc = reader_next(rd);
			continue;
		}
		i++;
		if (c > 0) {
			push_change(&out->added, &out->n_added, &l->cap_added, m->id, name_of(m));
			continue;
		}
		/* The same model: unchanged when its line is the one this run
		 * writes, else compared field by field. */
		jw_clear(&w);
		digest_line(&w, &sb, m);
		size_t len;
		const char *text = jw_data(&w, &len);
		size_t old_len = rd->len - (rd->len > 0 && rd->line[rd->len - 1] == '\n');
		if (len == old_len && memcmp(text, rd->line, len) == 0) {
			out->unchanged++;
			rc = reader_next(rd);
			continue;
		}
		if (!ensure_parsed(rd)) {
			rc = bad_line(rd);
			break;
		}
		if (!parse_line(text, len, &now))
			dline_reset(&now); /* not reached: this file's own line */
		struct model_change mc = {0};
		compare_fields(&rd->dl, &now, &mc);
		if (mc.n_fields == 0) {
			out->unchanged++;
		} else {
			struct model_change *pc = push_change(&out->changed, &out->n_changed,
							      &l->cap_changed, m->id, name_of(m));
			pc->fields = mc.fields;
			pc->n_fields = mc.n_fields;
		}
		rc = reader_next(rd);
	}
	dline_free(&now);
	strbuf_free(&sb);
	jw_free(&w);
	return rc == READ_LINE ? READ_EOF : rc;
}

int changes_compute(const char *output_dir, const struct catalog *cat, struct changes *out)
{
	memset(out, 0, sizeof *out);
	struct lists l = {0};
	struct reader rd = {0};
	char *path = xasprintf("%s/%s", output_dir ? output_dir : ".", CHANGES_DIGEST_NAME);
	out->has_previous = reader_open(&rd, path, out);
	if (out->has_previous) {
		const struct catalog_model **order = catalog_order(cat);
		int rc = join(&rd, cat, order, out, &l);
		if (rc == READ_UNSORTED) {
			clear_lists(out, &l);
			rc = reader_load_all(&rd);
			if (rc == READ_LINE)
				rc = join(&rd, cat, order, out, &l);
		}
		free(order);
		if (rc != READ_EOF) {
			clear_lists(out, &l);
			out->has_previous = false;
		}
	}
	reader_free(&rd);
	free(path);
	if (!out->has_previous) {
		free(out->previous_generated_at);
		out->previous_generated_at = NULL;
		for (size_t i = 0; i < cat->n_models; i++)
			push_change(&out->added, &out->n_added, &l.cap_added, cat->models[i].id,
				    name_of(&cat->models[i]));
	}
	/* In id order already, unless the catalog or the digest was not. */
	sort_changes(out->added, out->n_added);
	sort_changes(out->removed, out->n_removed);
	sort_changes(out->changed, out->n_changed);
	return 0;
}

static void model_changes_free(struct model_change *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].id);
		free(list[i].name);
		for (size_t k = 0; k < list[i].n_fields; k++) {
			free(list[i].fields[k].path);
			free(list[i].fields[k].before);
			free(list[i].fields[k].after);
		}
		free(list[i].fields);
	}
	free(list);
}

void changes_free(struct changes *ch)
{
	model_changes_free(ch->added, ch->n_added);
	model_changes_free(ch->removed, ch->n_removed);
	model_changes_free(ch->changed, ch->n_changed);
	free(ch->previous_generated_at);
	memset(ch, 0, sizeof *ch);
}

/* ------------------------------------------------------------ output */

void changes_summary(const struct changes *ch, FILE *f, size_t limit)
{
	if (!ch->has_previous) {
		fprintf(f, "changes: first run, %zu models (no digest of an earlier run)\n",
			ch->n_added);
		return;
	}
	fprintf(f, "changes since %s: %zu added, %zu removed, %zu changed, %zu unchanged\n",
		ch->previous_generated_at ? ch->previous_generated_at : "the previous run",
		ch->n_added, ch->n_removed, ch->n_changed, ch->unchanged);
	const struct {
		const struct model_change *list;
		size_t n;
		char mark;
	} kinds[] = {
	    {ch->added, ch->n_added, '+'},
	    {ch->removed, ch->n_removed, '-'},
	    {ch->changed, ch->n_changed, '~'},
	};
	for (size_t k = 0; k < 3; k++) {
		size_t shown = kinds[k].n < limit ? kinds[k].n : limit;
		for (size_t i = 0; i < shown; i++) {
			const struct model_change *mc = &kinds[k].list[i];
			fprintf(f, "  %c %s", kinds[k].mark, mc->id);
			for (size_t j = 0; j < mc->n_fields && j < 3; j++)
				fprintf(f, "%s %s %s -> %s", j ? "," : ":", mc->fields[j].path,
					mc->fields[j].before, mc->fields[j].after);
			if (mc->n_fields > 3)
				fprintf(f, ", and %zu more fields", mc->n_fields - 3);
			fputc('\n', f);
		}
		if (kinds[k].n > shown)
			fprintf(f, "  %c ... and %zu more\n", kinds[k].mark, kinds[k].n - shown);
	}
}

static void write_list(struct jsonw *w, const char *name, const struct model_change *list, size_t n,
		       bool with_fields)
{
	jw_key(w, name);
	jw_set_style(w, JW_PRETTY);
	jw_array_begin(w);
	/* One model per line. */
	jw_set_style(w, JW_COMPACT);
	for (size_t i = 0; i < n; i++) {
		jw_object_begin(w);
		jw_key(w, "id");
		jw_string(w, list[i].id);
		jw_key(w, "name");
		jw_string(w, list[i].name);
		if (with_fields) {
			jw_key(w, "fields");
			jw_array_begin(w);
			for (size_t k = 0; k < list[i].n_fields; k++) {
				const struct field_change *fc = &list[i].fields[k];
				jw_object_begin(w);
				jw_key(w, "path");
				jw_string_strict(w, fc->path);
				/* before and after are compact JSON already. */
				jw_key(w, "before");
				jw_raw(w, fc->before, strlen(fc->before));
				jw_key(w, "after");
				jw_raw(w, fc->after, strlen(fc->after));
				jw_end(w);
			}
			jw_end(w);
		}
		jw_end(w);
	}
	jw_end(w);
}

int changes_write_json(FILE *f, const struct changes *ch, const char *generated_at)
{
	struct jsonw w;
	jw_init(&w, f, JW_PRETTY);
	jw_object_begin(&w);
	jw_key(&w, "generated_at");
	if (generated_at)
		jw_string_strict(&w, generated_at);
	else
		jw_null(&w);
	jw_key(&w, "previous_generated_at");
	if (ch->previous_generated_at)
		jw_string_strict(&w, ch->previous_generated_at);
	else
		jw_null(&w);
	/* The counts on one line, then the three lists one model per line. */
	jw_set_style(&w, JW_COMPACT);
	jw_key(&w, "counts");
	jw_object_begin(&w);
	jw_key(&w, "added");
	jw_int(&w, (int64_t)ch->n_added);
	jw_key(&w, "removed");
	jw_int(&w, (int64_t)ch->n_removed);
	jw_key(&w, "changed");
	jw_int(&w, (int64_t)ch->n_changed);
	jw_key(&w, "unchanged");
	jw_int(&w, (int64_t)ch->unchanged);
	jw_end(&w);
	write_list(&w, "added", ch->added, ch->n_added, false);
	write_list(&w, "removed", ch->removed, ch->n_removed, false);
	write_list(&w, "changed", ch->changed, ch->n_changed, true);
	jw_end(&w);
	jw_text(&w, "\n", 1);
	int rc = jw_finish(&w);
	jw_free(&w);
	return rc;
}

int changes_write_digest(FILE *f, const struct catalog *cat, const char *generated_at)
{
	struct jsonw w;
	jw_init(&w, f, JW_COMPACT);
	struct strbuf sb;
	strbuf_init(&sb);
	digest_header(&w, generated_at);
	jw_text(&w, "\n", 1);
	for (size_t i = 0; i < cat->n_models; i++) {
		digest_line(&w, &sb, &cat->models[i]);
		jw_text(&w, "\n", 1);
	}
	strbuf_free(&sb);
	int rc = jw_finish(&w);
	jw_free(&w);
	return rc;
}
