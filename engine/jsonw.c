#include "mf_build_config.h"
#include "jsonw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define JW_FILE_BUFFER (64 * 1024)
#define JW_MEMORY_BUFFER 4096

void jw_init(struct jsonw *w, FILE *f, enum jw_style style)
{
	*w = (struct jsonw){.f = f, .style = style};
	w->cap = f ? JW_FILE_BUFFER : JW_MEMORY_BUFFER;
	w->buf = xmalloc(w->cap);
}

static void flush(struct jsonw *w)
{
	if (!w->f || w->len == 0)
		return;
	if (fwrite(w->buf, 1, w->len, w->f) != w->len)
		w->error = true;
	w->len = 0;
}

int jw_flush(struct jsonw *w)
{
	flush(w);
	/* Through to the file, so that a full disk shows here. */
	if (w->f && fflush(w->f) != 0)
		w->error = true;
	return w->error || (w->f && ferror(w->f)) ? -1 : 0;
}

int jw_finish(struct jsonw *w)
{
	if (w->depth != 0 || w->skip != 0)
		w->error = true;
	return jw_flush(w);
}

void jw_free(struct jsonw *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

const char *jw_data(const struct jsonw *w, size_t *len)
{
	*len = w->len;
	return w->buf;
}

void jw_clear(struct jsonw *w)
{
	w->len = 0;
	w->depth = 0;
	w->skip = 0;
	w->key = NULL;
}

void jw_set_style(struct jsonw *w, enum jw_style style)
{
	w->style = style;
}

void jw_key(struct jsonw *w, const char *key)
{
	w->key = key;
}

/* Make room for n more bytes. What the caller writes into that room goes
 * out in one piece, so a value can be taken back (cancel_value) until the
 * next call that makes room. */
static char *room(struct jsonw *w, size_t n)
{
	if (w->cap - w->len >= n)
		return w->buf + w->len;
	flush(w);
	if (w->cap - w->len < n) {
		size_t cap = w->cap;
		while (cap - w->len < n)
			cap *= 2;
		w->buf = xrealloc(w->buf, cap);
		w->cap = cap;
	}
	return w->buf + w->len;
}

/* ------------------------------------------------------------ strings */

size_t jw_utf8_sequence(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	if (c < 0x80)
		return 1;
	size_t len;
	uint32_t v;
	if (c < 0xC2) /* a continuation byte, or C0/C1 (overlong ASCII) */
		return 0;
	if (c <= 0xDF) {
		len = 2;
		v = c & 0x1F;
	} else if (c <= 0xEF) {
		len = 3;
		v = c & 0x0F;
	} else if (c <= 0xF4) {
		len = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	if ((len == 3 && v < 0x800) || (len == 4 && v < 0x10000))
		return 0;
	return len;
}

/* The bytes that go out as they are: printable ASCII (DEL included) but
 * '"' and '\\'. */
static inline bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* Escape s (n bytes) into dst, which has room for 6 * n bytes. With
 * ascii set, bytes >= 0x80 are written as '?'. Returns the bytes written,
 * or (size_t)-1 when s is not valid UTF-8 (ascii unset). */
static size_t escape(char *dst, const char *s, size_t n, bool ascii)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + n;
	char *d = dst;
	while (p < end) {
		const unsigned char *run = p;
		while (p < end && plain(*p))
			p++;
		if (p > run) {
			memcpy(d, run, (size_t)(p - run));
			d += p - run;
		}
		if (p == end)
			break;
		unsigned c = *p;
		if (c >= 0x80) {
			if (ascii) {
				*d++ = '?';
				p++;
				continue;
			}
			size_t len = jw_utf8_sequence(p, (size_t)(end - p));
			if (len == 0)
				return (size_t)-1;
			memcpy(d, p, len);
			d += len;
			p += len;
			continue;
		}
		*d++ = '\\';
		switch (c) {
		case '"':
		case '\\':
			*d++ = (char)c;
			break;
		case '\b':
			*d++ = 'b';
			break;
		case '\f':
			*d++ = 'f';
			break;
		case '\n':
			*d++ = 'n';
			break;
		case '\r':
			*d++ = 'r';
			break;
		case '\t':
			*d++ = 't';
			break;
		default:
			memcpy(d, "u00", 3);
			d[3] = hex[c >> 4];
			d[4] = hex[c & 15];
			d += 5;
			break;
		}
		p++;
	}
	return (size_t)(d - dst);
}

/* Write "s" into room already made for 6 * n + 2 bytes. Returns false when
 * s is not valid UTF-8 and lossy is unset; lossy writes it with '?' for
 * every byte >= 0x80 instead. */
static bool put_string(struct jsonw *w, const char *s, size_t n, bool lossy)
{
	char *d = w->buf + w->len;
	*d++ = '"';
	size_t len = escape(d, s, n, false);
	if (len == (size_t)-1) {
		if (!lossy)
			return false;
		len = escape(d, s, n, true);
	}
	d[len] = '"';
	w->len += len + 2;
	return true;
}

/* ------------------------------------------------------------ structure */

/* Where a value started, to take it back when jansson would have dropped
 * it. */
struct slot {
	size_t mark;
	bool was_first;
};

/* Write what comes before a value (comma, line break and indent, key) and
 * make room for `extra` more bytes. Returns false when the value is not to
 * be written at all. */
static bool open_value(struct jsonw *w, size_t extra, struct slot *s)
{
	const char *key = w->key;
	w->key = NULL;
	if (w->skip > 0)
		return false;
	if (w->depth == 0) {
		room(w, extra);
		s->mark = w->len;
		s->was_first = false;
		return true;
	}
	struct jw_frame *fr = &w->stack[w->depth - 1];
	size_t klen = 0;
	if (fr->object) {
		if (!key)
			return false;
		klen = strlen(key);
	}
	size_t indent = 2 * (size_t)w->depth;
	char *p = room(w, extra + indent + 6 * klen + 8);
	s->mark = w->len;
	s->was_first = fr->first;
	if (!fr->first)
		*p++ = ',';
	if (fr->style == JW_PRETTY) {
		*p++ = '\n';
		memset(p, ' ', indent);
		p += indent;
	} else if (fr->style == JW_INLINE && !fr->first) {
		*p++ = ' ';
	}
	fr->first = false;
	w->len = (size_t)(p - w->buf);
	if (fr->object) {
		if (!put_string(w, key, klen, false)) {
			w->len = s->mark;
			fr->first = s->was_first;
			return false;
		}
		w->buf[w->len++] = ':';
		if (fr->style != JW_COMPACT)
			w->buf[w->len++] = ' ';
	}
	return true;
}

static void cancel_value(struct jsonw *w, const struct slot *s)
{
	w->len = s->mark;
	if (w->depth > 0)
		w->stack[w->depth - 1].first = s->was_first;
}

static void put_bytes(struct jsonw *w, const char *s, size_t n)
{
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void begin(struct jsonw *w, bool object)
{
	struct slot s;
	if (!open_value(w, 1, &s)) {
		w->skip++;
		return;
	}
	if (w->depth == JW_MAX_DEPTH) {
		/* Deeper than any output: drop it and report it at the end. */
		cancel_value(w, &s);
		w->error = true;
		w->skip++;
		return;
	}
	w->buf[w->len++] = object ? '{' : '[';
	w->stack[w->depth++] = (struct jw_frame){
	    .object = object,
	    .first = true,
	    .style = w->style,
	};
}

void jw_object_begin(struct jsonw *w)
{
	begin(w, true);
}

void jw_array_begin(struct jsonw *w)
{
	begin(w, false);
}

void jw_end(struct jsonw *w)
{
	w->key = NULL;
	if (w->skip > 0) {
		w->skip--;
		return;
	}
	if (w->depth == 0) {
		w->error = true;
		return;
	}
	const struct jw_frame *fr = &w->stack[--w->depth];
	size_t indent = 2 * (size_t)w->depth;
	char *p = room(w, indent + 2);
	if (fr->style == JW_PRETTY && !fr->first) {
		*p++ = '\n';
		memset(p, ' ', indent);
		p += indent;
	}
	*p++ = fr->object ? '}' : ']';
	w->len = (size_t)(p - w->buf);
}

/* ------------------------------------------------------------ scalars */

void jw_null(struct jsonw *w)
{
	struct slot s;
	if (open_value(w, 4, &s))
		put_bytes(w, "null", 4);
}

void jw_bool(struct jsonw *w, bool v)
{
	struct slot s;
	if (open_value(w, 5, &s))
		put_bytes(w, v ? "true" : "false", v ? 4 : 5);
}

/* Decimal digits of v into the end of buf; returns where they start. */
static char *format_int(char *end, int64_t v)
{
	/* Through unsigned arithmetic, so INT64_MIN needs no special case. */
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	char *p = end;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	return p;
}

void jw_int(struct jsonw *w, int64_t v)
{
	char buf[24];
	char *end = buf + sizeof buf;
	char *p = format_int(end, v);
	struct slot s;
	if (open_value(w, (size_t)(end - p), &s))
		put_bytes(w, p, (size_t)(end - p));
}

/* Powers of ten that doubles hold exactly (up to 1e22), and the decades
 * format_decimal handles. */
static const double exact_pow10[] = {
    1e0,  1e1,	1e2,  1e3,  1e4,  1e5,	1e6,  1e7,  1e8,  1e9,	1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};
static const double decades[] = {
    1e-4, 1e-3, 1e-2, 1e-1, 1e0,  1e1,	1e2,  1e3,  1e4,  1e5,
    1e6,  1e7,	1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
};

/*
 * "%.15g" without printf for the values outputs are full of: prices,
 * ratings and weights that are short decimals. When the decimal d of at
 * most 15 significant digits nearest to v converts back to v, printf's
 * exact rounding of v to 15 digits gives d: v is within half a binary ulp
 * of d, far less than half a step of the 15-digit grid. The candidate is
 * found with one multiplication, and checked with one division of two
 * exact numbers (correctly rounded by IEEE 754); any doubt returns 0 and
 * printf decides. Only 1e-4 <= |v| < 1e15, where %g writes no exponent.
 */
static size_t format_decimal(char *buf, double v)
{
	double a = fabs(v);
	if (!(a >= decades[0] && a < decades[19]))
		return 0;
	int e10 = 0; /* decades[e10] <= a, about */
	while (e10 < 18 && a >= decades[e10 + 1])
		e10++;
	int k = 18 - e10; /* digits after the point for 15 significant ones */
	double scaled = a * exact_pow10[k];
	if (!(scaled >= 1e14 && scaled < 1e15))
		return 0;
	uint64_t n = (uint64_t)llround(scaled);
	while (k > 0 && n % 10 == 0) {
		n /= 10;
		k--;
	}
	if (k == 0 || (double)n / exact_pow10[k] != a)
		return 0;
	char digits[24];
	char *end = digits + sizeof digits;
	char *d = format_int(end, (int64_t)n);
	size_t len = (size_t)(end - d);
	char *p = buf;
	if (v < 0)
		*p++ = '-';
	if (len > (size_t)k) {
		size_t whole = len - (size_t)k;
		memcpy(p, d, whole);
		p += whole;
		*p++ = '.';
		memcpy(p, d + whole, (size_t)k);
		p += k;
	} else {
		*p++ = '0';
		*p++ = '.';
		memset(p, '0', (size_t)k - len);
		p += (size_t)k - len;
		memcpy(p, d, len);
		p += len;
	}
	*p = '\0';
	return (size_t)(p - buf);
}

size_t jw_format_real(char *buf, double v)
{
	if (!isfinite(v))
		return 0;
	/* Whole numbers below 1e15 print as "%.15g" prints them, all digits
	 * and no exponent, then ".0"; they are common (token counts, ranks,
	 * prices of 0) and snprintf is slow. */
	if (fabs(v) < 1e15 && v == trunc(v)) {
		char tmp[24];
		char *end = tmp + sizeof tmp;
		char *p = format_int(end, (int64_t)v);
		size_t n = (size_t)(end - p);
		if (v == 0 && signbit(v)) {
			memcpy(buf, "-0", 2);
			n = 2;
		} else {
			memcpy(buf, p, n);
		}
		memcpy(buf + n, ".0", 3);
		return n + 2;
	}
	size_t fast = format_decimal(buf, v);
	if (fast > 0)
		return fast;
	int r = snprintf(buf, JW_REAL_MAX, "%.15g", v);
	if (r <= 0 || r >= JW_REAL_MAX)
		return 0;
	size_t n = (size_t)r;
	char *e = memchr(buf, 'e', n);
	if (!e) {
		if (!memchr(buf, '.', n)) {
			memcpy(buf + n, ".0", 3);
			n += 2;
		}
		return n;
	}
	/* "e+20" -> "e20", "e-05" -> "e-5", as jansson writes exponents. */
	char *from = e + 1;
	char *to = e + 1;
	if (*from == '-')
		to = ++from;
	else if (*from == '+')
		from++;
	while (*from == '0')
		from++;
	memmove(to, from, (size_t)(buf + n - from) + 1);
	return n - (size_t)(from - to);
}

void jw_real(struct jsonw *w, double v)
{
	char buf[JW_REAL_MAX];
	size_t n = jw_format_real(buf, v);
	struct slot s;
	if (n > 0 && open_value(w, n, &s))
		put_bytes(w, buf, n);
	else if (n == 0)
		w->key = NULL;
}

static void string_value(struct jsonw *w, const char *str, bool lossy)
{
	size_t n = strlen(str);
	struct slot s;
	if (!open_value(w, 6 * n + 2, &s))
		return;
	if (!put_string(w, str, n, lossy))
		cancel_value(w, &s);
}

void jw_string(struct jsonw *w, const char *s)
{
	if (s)
		string_value(w, s, true);
	else
		jw_null(w);
}

void jw_string_strict(struct jsonw *w, const char *s)
{
	if (s)
		string_value(w, s, false);
	else
		w->key = NULL;
}

void jw_raw(struct jsonw *w, const char *json, size_t len)
{
	struct slot s;
	if (open_value(w, len, &s))
		put_bytes(w, json, len);
}

void jw_text(struct jsonw *w, const char *text, size_t len)
{
	room(w, len);
	put_bytes(w, text, len);
}
