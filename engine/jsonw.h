/* A streaming JSON writer for the outputs (writer.c, changes.c): values go
 * straight into a 64 KiB buffer flushed to a FILE, or into memory, with no
 * document tree in between.
 *
 * The bytes are those jansson's json_dumps writes for the same value with
 * JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15) and the style's flags, so
 * the outputs did not change when the writers stopped building json_t:
 *  - reals as "%.15g", with ".0" appended when that reads as an integer and
 *    the exponent without "+" or leading zeros (1e+20 -> 1e20);
 *  - strings escape '"', '\\' and control characters (\b \f \n \r \t, else
 *    \u00XX); '/' and non-ASCII characters are written as they are;
 *  - empty containers are "{}" and "[]" in every style.
 * jansson refuses some values, and a container then silently lacks them:
 * a non-finite real, a string (jw_string_strict) or a key that is not
 * valid UTF-8, a NULL key. The writer drops the same values, with their
 * key, so even those cases give the same bytes.
 *
 * Errors (a failed write) are remembered and reported by jw_finish; the
 * calls before it need no checks. */
#ifndef MF_JSONW_H
#define MF_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum jw_style {
	JW_PRETTY,  /* a line per item, 2 spaces per level: JSON_INDENT(2) */
	JW_INLINE,  /* one line, ", " and ": ": jansson without flags */
	JW_COMPACT, /* one line, "," and ":": JSON_COMPACT */
};

#define JW_MAX_DEPTH 32
/* Room jw_format_real needs, NUL included. */
#define JW_REAL_MAX 32

struct jw_frame {
	bool object;
	bool first; /* nothing written into it yet */
	enum jw_style style;
};

struct jsonw {
	FILE *f; /* NULL: the output stays in memory (jw_data) */
	char *buf;
	size_t len;
	size_t cap;
	enum jw_style style; /* of the containers begun from now on */
	const char *key;     /* of the next value inside an object; borrowed */
	int depth;
	int skip; /* levels inside a container that is being dropped */
	bool error;
	struct jw_frame stack[JW_MAX_DEPTH];
};

/* f NULL: write into memory. */
void jw_init(struct jsonw *w, FILE *f, enum jw_style style);
/* Flush the buffer and the FILE; 0, or -1 when a write failed or the
 * structure was not balanced. */
int jw_finish(struct jsonw *w);
/* The same, for a document left open on purpose (its end is written by
 * other means): no balance check. */
int jw_flush(struct jsonw *w);
void jw_free(struct jsonw *w);
/* In memory: what was written so far (not NUL-terminated), and forget it. */
const char *jw_data(const struct jsonw *w, size_t *len);
void jw_clear(struct jsonw *w);

/* Style of the containers begun after this call; the items of a container
 * keep the style it was begun with. */
void jw_set_style(struct jsonw *w, enum jw_style style);

/* The key of the next value, inside an object. The string is read when the
 * value is written, so it must live until then. */
void jw_key(struct jsonw *w, const char *key);

void jw_object_begin(struct jsonw *w);
void jw_array_begin(struct jsonw *w);
void jw_end(struct jsonw *w);

void jw_null(struct jsonw *w);
void jw_bool(struct jsonw *w, bool v);
void jw_int(struct jsonw *w, int64_t v);
void jw_real(struct jsonw *w, double v); /* dropped when not finite */
/* The writers' rule for upstream text: NULL is null, and a string that is
 * not valid UTF-8 is written with every byte >= 0x80 replaced by '?'. */
void jw_string(struct jsonw *w, const char *s);
/* jansson's json_string: dropped when NULL or not valid UTF-8. */
void jw_string_strict(struct jsonw *w, const char *s);
/* A value already encoded (compact JSON text), written as it is. */
void jw_raw(struct jsonw *w, const char *json, size_t len);
/* Bytes outside any value, such as the newline after a document. */
void jw_text(struct jsonw *w, const char *text, size_t len);

/* A real as the writer writes it, into buf (>= JW_REAL_MAX bytes); returns
 * its length, 0 for a value that is not finite. */
size_t jw_format_real(char *buf, double v);
/* Length of the valid UTF-8 sequence at s (n bytes available), by
 * jansson's rules (no overlong forms, surrogates or code points past
 * U+10FFFF); 0 when invalid. */
size_t jw_utf8_sequence(const unsigned char *s, size_t n);

#endif
