/* The streaming JSON writer (engine/jsonw.c) must write the very bytes
 * jansson's json_dumps writes for the same value, since the outputs were
 * written with jansson before; and the changes digest (engine/changes.c),
 * which it writes and reads back one line at a time. */
#include "mf_build_config.h"

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "changes.h"
#include "jsonw.h"
#include "record.h"
#include "runner.h"
#include "testutil.h"
#include "util.h"
#include "writer.h"

#define PRETTY_FLAGS                                                                               \
	(JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15) | JSON_ENCODE_ANY | JSON_INDENT(2))
#define INLINE_FLAGS (JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15) | JSON_ENCODE_ANY)
#define COMPACT_FLAGS (INLINE_FLAGS | JSON_COMPACT)

static size_t flags_of(enum jw_style style)
{
	return style == JW_PRETTY   ? PRETTY_FLAGS
	       : style == JW_INLINE ? INLINE_FLAGS
				    : COMPACT_FLAGS;
}

/*
 * A value is built twice at once: through the writer, and as a json_t the
 * way the writers used to build it (json_object_set_new, which refuses a
 * NULL value or a key that is not UTF-8). The two texts must be equal.
 */
struct both {
	struct jsonw w;
	json_t *root;
	json_t *stack[JW_MAX_DEPTH + 2];
	int depth;
	const char *key;
};

static void both_init(struct both *b, enum jw_style style)
{
	memset(b, 0, sizeof *b);
	jw_init(&b->w, NULL, style);
}

static void both_add(struct both *b, json_t *v)
{
	const char *key = b->key;
	b->key = NULL;
	if (b->depth == 0) {
		if (!b->root && v)
			b->root = json_incref(v);
	} else if (json_is_object(b->stack[b->depth - 1])) {
		if (key && v)
			json_object_set(b->stack[b->depth - 1], key, v);
	} else if (v) {
		json_array_append(b->stack[b->depth - 1], v);
	}
	json_decref(v);
}

static void b_key(struct both *b, const char *key)
{
	jw_key(&b->w, key);
	b->key = key;
}

static void b_begin(struct both *b, bool object)
{
	if (object)
		jw_object_begin(&b->w);
	else
		jw_array_begin(&b->w);
	json_t *v = object ? json_object() : json_array();
	both_add(b, json_incref(v));
	b->stack[b->depth++] = v;
}

static void b_end(struct both *b)
{
	jw_end(&b->w);
	json_decref(b->stack[--b->depth]);
}

/* The writers' rule for upstream strings, as they had it with jansson. */
static json_t *lossy_string(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (j)
		return j;
	char *copy = xstrdup(s);
	for (char *c = copy; *c; c++)
		if ((unsigned char)*c >= 0x80)
			*c = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static void b_string(struct both *b, const char *s)
{
	jw_string(&b->w, s);
	both_add(b, lossy_string(s));
}

static void b_strict(struct both *b, const char *s)
{
	jw_string_strict(&b->w, s);
	both_add(b, s ? json_string(s) : NULL);
}

static void b_real(struct both *b, double v)
{
	jw_real(&b->w, v);
	both_add(b, json_real(v));
}

static void b_int(struct both *b, int64_t v)
{
	jw_int(&b->w, v);
	both_add(b, json_integer(v));
}

/* Compare both texts; returns true when equal (and says where not). */
static bool both_check(struct both *b, enum jw_style style)
{
	CU_ASSERT_EQUAL(jw_finish(&b->w), 0);
	size_t len;
	const char *got = jw_data(&b->w, &len);
	char *want = b->root ? json_dumps(b->root, flags_of(style)) : xstrdup("");
	bool same = want && strlen(want) == len && memcmp(want, got, len) == 0;
	if (!same)
		fprintf(stderr, "\nstyle %d\nwant: %s\ngot:  %.*s\n", (int)style,
			want ? want : "(dump failed)", (int)len, got);
	CU_ASSERT_TRUE(same);
	free(want);
	json_decref(b->root);
	jw_free(&b->w);
	return same;
}

static const enum jw_style styles[] = {JW_PRETTY, JW_INLINE, JW_COMPACT};

/* Doubles that have tripped formatters: exponents, integers near 1e15,
 * negative zero, subnormals, the money values of the catalog. */
static const double awkward[] = {
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.1,
    0.15,
    0.2,
    1.0 / 3,
    2.0 / 3,
    100.0,
    -250.5,
    1e14,
    999999999999999.0,
    1e15,
    -1e15,
    1e15 + 1,
    1e16,
    12345678901234567.0,
    1e20,
    1e21,
    1e22,
    1.5e300,
    1e308,
    DBL_MAX,
    -DBL_MAX,
    DBL_MIN,
    5e-324,
    1e-5,
    1e-4,
    0.0001234,
    0.00001234,
    123456.789,
    9007199254740992.0,
    -9007199254740993.0,
    4.35,
    2.675,
    1.005,
    0.000003,
    0.000000075,
    3.0e-9,
    1234567.891,
    42.0,
    -0.5,
    1e-300,
    7e-10,
    0.1 + 0.2,
    1e100,
    123e-20,
    -1e-7,
    65536.0,
    /* Around the decimal fast path's edges: decades, 15 and 16 digits. */
    0.0001,
    0.00009999999999999999,
    0.000099999,
    0.00010000000000001,
    999999999999999.9,
    99999999999999.99,
    9.99999999999999e14,
    0.1234567890123456,
    0.123456789012345,
    123456789.012345,
    1234567890.12345,
    0.999999999999999,
    0.9999999999999999,
    9.5,
    0.05,
    1e-3,
    1234.5678,
    3.14159265358979,
    2.718281828459045,
};

static void test_reals(void)
{
	for (size_t s = 0; s < 3; s++) {
		struct both b;
		both_init(&b, styles[s]);
		b_begin(&b, false);
		for (size_t i = 0; i < sizeof awkward / sizeof awkward[0]; i++)
			b_real(&b, awkward[i]);
		b_end(&b);
		both_check(&b, styles[s]);
	}
	/* Many doubles from random bit patterns and random decimals. */
	uint64_t x = 0x9E3779B97F4A7C15u;
	struct both b;
	both_init(&b, JW_COMPACT);
	b_begin(&b, false);
	for (int i = 0; i < 60000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double d;
		if (i % 3 == 0) {
			memcpy(&d, &x, sizeof d);
		} else if (i % 3 == 1) {
			d = (double)(x % 100000000) / pow(10, (double)(x % 13));
		} else {
			/* Up to 16 digits, at any scale the fast path takes. */
			d = (double)(x % 10000000000000000u) / pow(10, (double)(x % 31));
		}
		if (i % 3 && (x & 1))
			d = -d;
		b_real(&b, d);
	}
	b_end(&b);
	both_check(&b, JW_COMPACT);
}

static void test_format_real(void)
{
	static const struct {
		double v;
		const char *text;
	} cases[] = {
	    {1e20, "1e20"},
	    {-0.0, "-0.0"},
	    {0.0, "0.0"},
	    {1e-5, "1e-5"},
	    {100.0, "100.0"},
	    {0.15, "0.15"},
	    {1e15, "1e15"},
	    {-1e21, "-1e21"},
	    {1.5e-300, "1.5e-300"},
	    {123456.5, "123456.5"},
	    {999999999999999.0, "999999999999999.0"},
	};
	char buf[JW_REAL_MAX];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = jw_format_real(buf, cases[i].v);
		CU_ASSERT_EQUAL(n, strlen(cases[i].text));
		CU_ASSERT_STRING_EQUAL(buf, cases[i].text);
	}
	CU_ASSERT_EQUAL(jw_format_real(buf, NAN), 0);
	CU_ASSERT_EQUAL(jw_format_real(buf, INFINITY), 0);
	CU_ASSERT_EQUAL(jw_format_real(buf, -INFINITY), 0);
}

static void test_integers(void)
{
	static const int64_t ints[] = {
	    0,	       1,	  -1,		9,	   10,
	    -10,       123456789, INT32_MAX,	INT32_MIN, (int64_t)1 << 53,
	    INT64_MAX, INT64_MIN, INT64_MIN + 1};
	for (size_t s = 0; s < 3; s++) {
		struct both b;
		both_init(&b, styles[s]);
		b_begin(&b, true);
		char keys[sizeof ints / sizeof ints[0]][8];
		for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
			snprintf(keys[i], sizeof keys[i], "k%zu", i);
			b_key(&b, keys[i]);
			b_int(&b, ints[i]);
		}
		b_end(&b);
		both_check(&b, styles[s]);
	}
}

static const char *const strings[] = {
    "",
    "plain ascii",
    "quote \" backslash \\ slash / end",
    "\b\f\n\r\t",
    "\x01\x02\x03\x04\x05\x06\x07\x0b\x0e\x0f\x10\x11\x1a\x1b\x1c\x1d\x1e\x1f",
    "del \x7f tilde ~",
    "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
    "\xef\xbf\xbf \xf4\x8f\xbf\xbf \xc2\x80 \xe0\xa0\x80 \xf0\x90\x80\x80",
    "https://huggingface.co/meta-llama/Llama-3.1-70B-Instruct",
    "<script>&amp;</script>",
    /* Not UTF-8: a lone continuation byte, overlong forms, a surrogate,
     * past U+10FFFF, a byte never used, cut-off sequences; with valid
     * characters around them, which the writers replace too. */
    "bad \x80 byte",
    "overlong \xc0\xaf and \xc1\xbf",
    "overlong3 \xe0\x80\xaf",
    "overlong4 \xf0\x80\x80\xaf",
    "surrogate \xed\xa0\x80 caf\xc3\xa9",
    "too high \xf4\x90\x80\x80",
    "never \xf5\x80\x80\x80 \xff\xfe",
    "cut \xe6\x97",
    "cut at end \xc3",
    "caf\xc3\xa9 then \x80 with \"quotes\" and \n",
};

static void test_strings(void)
{
	size_t n = sizeof strings / sizeof strings[0];
	for (size_t s = 0; s < 3; s++) {
		/* As values, lossy and strict, in an array and an object. */
		struct both b;
		both_init(&b, styles[s]);
		b_begin(&b, true);
		b_key(&b, "lossy");
		b_begin(&b, false);
		for (size_t i = 0; i < n; i++)
			b_string(&b, strings[i]);
		b_string(&b, NULL);
		b_end(&b);
		b_key(&b, "strict");
		b_begin(&b, false);
		for (size_t i = 0; i < n; i++)
			b_strict(&b, strings[i]);
		b_strict(&b, NULL);
		b_end(&b);
		char keys[sizeof strings / sizeof strings[0]][16];
		for (size_t i = 0; i < n; i++) {
			snprintf(keys[i], sizeof keys[i], "strict%zu", i);
			b_key(&b, keys[i]);
			b_strict(&b, strings[i]);
		}
		b_end(&b);
		both_check(&b, styles[s]);

		/* As keys: the ones that are not UTF-8 are left out, with
		 * their value, be it a scalar or a container. */
		both_init(&b, styles[s]);
		b_begin(&b, true);
		for (size_t i = 0; i < n; i++) {
			b_key(&b, strings[i]);
			if (i % 3 == 0) {
				b_int(&b, (int64_t)i);
			} else {
				b_begin(&b, i % 3 == 1);
				if (i % 3 == 1)
					b_key(&b, "inner");
				b_string(&b, strings[i]);
				b_begin(&b, false);
				b_real(&b, 1.5);
				b_end(&b);
				b_end(&b);
			}
		}
		b_key(&b, NULL);
		b_int(&b, 7);
		b_key(&b, "after");
		b_int(&b, 8);
		b_end(&b);
		both_check(&b, styles[s]);
	}
	/* Every single byte and every pair of bytes, lossy: covers each
	 * escape and each way a sequence can start and break. */
	struct both b;
	both_init(&b, JW_COMPACT);
	b_begin(&b, false);
	char one[2] = {0};
	for (int c = 1; c < 256; c++) {
		one[0] = (char)c;
		b_string(&b, one);
	}
	char two[3] = {0};
	for (int c = 0x70; c < 256; c += 3) {
		for (int d = 1; d < 256; d += 5) {
			two[0] = (char)c;
			two[1] = (char)d;
			b_string(&b, two);
		}
	}
	b_end(&b);
	both_check(&b, JW_COMPACT);
}

static void test_utf8_sequence(void)
{
	CU_ASSERT_EQUAL(jw_utf8_sequence((const unsigned char *)"a", 1), 1);
	CU_ASSERT_EQUAL(jw_utf8_sequence((const unsigned char *)"\xc3\xa9", 2), 2);
	CU_ASSERT_EQUAL(jw_utf8_sequence((const unsigned char *)"\xc3\xa9", 1), 0);
	CU_ASSERT_EQUAL(jw_utf8_sequence((const unsigned char *)"\xe6\x97\xa5", 3), 3);
	CU_ASSERT_EQUAL(jw_utf8_sequence((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
	CU_ASSERT_EQUAL(jw_utf8_sequence((const unsigned char *)"\xf4\x90\x80\x80", 4), 0);
	CU_ASSERT_EQUAL(jw_utf8_sequence((const unsigned char *)"\xed\xa0\x80", 3), 0);
	CU_ASSERT_EQUAL(jw_utf8_sequence((const unsigned char *)"\xe0\x80\xaf", 3), 0);
	CU_ASSERT_EQUAL(jw_utf8_sequence((const unsigned char *)"\xc1\xbf", 2), 0);
	CU_ASSERT_EQUAL(jw_utf8_sequence((const unsigned char *)"\x80", 1), 0);
	CU_ASSERT_EQUAL(jw_utf8_sequence((const unsigned char *)"\xc3(", 2), 0);
}

/* Nesting, empty containers, nulls and booleans in every style. */
static void test_structure(void)
{
	for (size_t s = 0; s < 3; s++) {
		struct both b;
		both_init(&b, styles[s]);
		b_begin(&b, true);
		b_key(&b, "empty_object");
		b_begin(&b, true);
		b_end(&b);
		b_key(&b, "empty_array");
		b_begin(&b, false);
		b_end(&b);
		b_key(&b, "null");
		jw_null(&b.w);
		both_add(&b, json_null());
		b_key(&b, "true");
		jw_bool(&b.w, true);
		both_add(&b, json_true());
		b_key(&b, "false");
		jw_bool(&b.w, false);
		both_add(&b, json_false());
		/* Dropped values leave no comma behind, first or last. */
		b_key(&b, "nan");
		b_real(&b, NAN);
		b_key(&b, "deep");
		for (int d = 0; d < 12; d++) {
			b_begin(&b, d % 2 == 0);
			if (d % 2 == 0)
				b_key(&b, "x");
		}
		b_begin(&b, false);
		b_real(&b, INFINITY);
		b_begin(&b, true);
		b_end(&b);
		b_real(&b, -INFINITY);
		b_end(&b);
		for (int d = 0; d < 12; d++)
			b_end(&b);
		b_key(&b, "array");
		b_begin(&b, false);
		b_real(&b, NAN);
		b_int(&b, 1);
		b_begin(&b, false);
		b_begin(&b, true);
		b_end(&b);
		b_end(&b);
		b_string(&b, "two");
		b_real(&b, NAN);
		b_end(&b);
		b_key(&b, "only_dropped");
		b_begin(&b, false);
		b_real(&b, NAN);
		b_end(&b);
		b_key(&b, "inf");
		b_real(&b, INFINITY);
		b_end(&b);
		both_check(&b, styles[s]);
	}
	/* A scalar alone is a document too (JSON_ENCODE_ANY). */
	for (size_t s = 0; s < 3; s++) {
		struct both b;
		both_init(&b, styles[s]);
		b_string(&b, "alone");
		both_check(&b, styles[s]);
	}
}

/* Styles mixed as the outputs mix them: pretty frames with compact or
 * inline items, the way the writers framed jansson's dumps by hand. */
static void test_mixed_styles(void)
{
	struct jsonw w;
	jw_init(&w, NULL, JW_PRETTY);
	jw_object_begin(&w);
	jw_key(&w, "generated_at");
	jw_string(&w, "2025-06-01T00:00:00Z");
	jw_key(&w, "records");
	jw_int(&w, 2);
	jw_key(&w, "entries");
	jw_array_begin(&w);
	jw_set_style(&w, JW_INLINE);
	for (int i = 0; i < 2; i++) {
		jw_object_begin(&w);
		jw_key(&w, "id");
		jw_string(&w, i ? "b/y" : "a/x");
		jw_key(&w, "list");
		jw_array_begin(&w);
		jw_int(&w, i);
		jw_bool(&w, true);
		jw_end(&w);
		jw_end(&w);
	}
	jw_end(&w);
	jw_set_style(&w, JW_COMPACT);
	jw_key(&w, "counts");
	jw_object_begin(&w);
	jw_key(&w, "a");
	jw_int(&w, 1);
	jw_key(&w, "b");
	jw_null(&w);
	jw_end(&w);
	jw_key(&w, "none");
	jw_set_style(&w, JW_PRETTY);
	jw_array_begin(&w);
	jw_end(&w);
	jw_end(&w);
	jw_text(&w, "\n", 1);
	CU_ASSERT_EQUAL(jw_finish(&w), 0);
	size_t len;
	const char *got = jw_data(&w, &len);
	const char *want = "{\n"
			   "  \"generated_at\": \"2025-06-01T00:00:00Z\",\n"
			   "  \"records\": 2,\n"
			   "  \"entries\": [\n"
			   "    {\"id\": \"a/x\", \"list\": [0, true]},\n"
			   "    {\"id\": \"b/y\", \"list\": [1, true]}\n"
			   "  ],\n"
			   "  \"counts\": {\"a\":1,\"b\":null},\n"
			   "  \"none\": []\n"
			   "}\n";
	CU_ASSERT_EQUAL(len, strlen(want));
	CU_ASSERT_NSTRING_EQUAL(got, want, strlen(want));
	/* jw_raw writes a value as given, in place of one. */
	jw_clear(&w);
	jw_array_begin(&w);
	jw_raw(&w, "{\"a\":1}", 7);
	jw_raw(&w, "2.5", 3);
	jw_end(&w);
	got = jw_data(&w, &len);
	CU_ASSERT_EQUAL(len, strlen("[\n  {\"a\":1},\n  2.5\n]"));
	CU_ASSERT_NSTRING_EQUAL(got, "[\n  {\"a\":1},\n  2.5\n]", len);
	jw_free(&w);
}

/* Misuse and write errors end in -1 from jw_finish, not a crash. */
static void test_errors(void)
{
	struct jsonw w;
	jw_init(&w, NULL, JW_COMPACT);
	jw_end(&w);
	CU_ASSERT_EQUAL(jw_finish(&w), -1);
	jw_free(&w);

	jw_init(&w, NULL, JW_COMPACT);
	jw_object_begin(&w);
	CU_ASSERT_EQUAL(jw_finish(&w), -1);
	jw_free(&w);

	/* Deeper than JW_MAX_DEPTH: the excess is dropped and reported. */
	jw_init(&w, NULL, JW_COMPACT);
	for (int i = 0; i < JW_MAX_DEPTH + 3; i++)
		jw_array_begin(&w);
	jw_int(&w, 1);
	for (int i = 0; i < JW_MAX_DEPTH + 3; i++)
		jw_end(&w);
	CU_ASSERT_EQUAL(w.depth, 0);
	CU_ASSERT_EQUAL(jw_finish(&w), -1);
	jw_free(&w);

	FILE *full = fopen("/dev/full", "w");
	if (full) {
		jw_init(&w, full, JW_PRETTY);
		jw_array_begin(&w);
		jw_string(&w, "x");
		jw_end(&w);
		CU_ASSERT_EQUAL(jw_finish(&w), -1);
		jw_free(&w);
		fclose(full);
	}
}

/* Through a FILE, with far more than the 64 KiB buffer and strings longer
 * than it: the same bytes as in memory and as jansson. */
static void test_file_output(void)
{
	char *big = xmalloc(200001);
	for (size_t i = 0; i < 200000; i++)
		big[i] = (char)(i % 7 == 0 ? '\n' : 'a' + i % 26);
	big[200000] = '\0';
	char *path = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&path, &size);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	struct jsonw w;
	jw_init(&w, f, JW_PRETTY);
	json_t *want = json_array();
	jw_array_begin(&w);
	for (int i = 0; i < 30000; i++) {
		jw_object_begin(&w);
		jw_key(&w, "i");
		jw_int(&w, i);
		jw_key(&w, "r");
		jw_real(&w, i / 7.0);
		jw_end(&w);
		json_array_append_new(want,
				      json_pack("{s:I,s:f}", "i", (json_int_t)i, "r", i / 7.0));
	}
	jw_string(&w, big);
	json_array_append_new(want, json_string(big));
	jw_end(&w);
	CU_ASSERT_EQUAL(jw_finish(&w), 0);
	jw_free(&w);
	fclose(f);
	char *text = json_dumps(want, PRETTY_FLAGS);
	CU_ASSERT_EQUAL(size, strlen(text));
	CU_ASSERT_TRUE(size == strlen(text) && memcmp(path, text, size) == 0);
	free(text);
	free(path);
	json_decref(want);
	free(big);
}

/* ------------------------------------------------------------ changes */

struct fake_model {
	const char *id;
	const char *name;
	double input_price;
	int64_t context;
};

static void catalog_of(struct catalog *cat, const struct fake_model *models, size_t n)
{
	memset(cat, 0, sizeof *cat);
	cat->models = xcalloc(n + 1, sizeof *cat->models);
	cat->n_models = n;
	for (size_t i = 0; i < n; i++) {
		struct catalog_model *m = &cat->models[i];
		m->id = xstrdup(models[i].id);
		m->maker = xstrndup(models[i].id, strcspn(models[i].id, "/"));
		m->merged = record_new(MF_RECORD_MODEL, models[i].id);
		m->price_from = -1;
		if (models[i].name)
			record_set_string(m->merged, MF_FIELD_NAME, models[i].name);
		if (models[i].input_price >= 0)
			record_map_set(m->merged, MF_FIELD_PRICE, "input", models[i].input_price);
		if (models[i].context > 0)
			record_set_int(m->merged, MF_FIELD_CONTEXT_TOKENS, models[i].context);
		record_list_add(m->merged, MF_FIELD_ALIASES, models[i].id);
	}
}

static void catalog_drop(struct catalog *cat)
{
	for (size_t i = 0; i < cat->n_models; i++) {
		free(cat->models[i].id);
		free(cat->models[i].maker);
		record_free(cat->models[i].merged);
	}
	free(cat->models);
}

static char *digest_of(const struct catalog *cat, const char *at)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	CU_ASSERT_EQUAL(changes_write_digest(f, cat, at), 0);
	fclose(f);
	return text;
}

static const struct fake_model before_models[] = {
    {"a/one", "One", 1.5, 1000},
    {"b/two", "Two \"2\"", 0.15, 0},
    {"c/three", "Thr\xc3\xa9\x01", -1, 4096},
    {"d/gone", "Gone", 2, 0},
    {"e/five", NULL, 3, 0},
};

static const struct fake_model after_models[] = {
    {"a/one", "One", 1.5, 1000},	      /* unchanged */
    {"b/two", "Two \"2\"", 0.2, 0},	      /* price moved */
    {"c/three", "Thr\xc3\xa9\x01", -1, 8192}, /* context moved */
    {"c/zzz", "New", -1, 0},		      /* added */
    {"e/five", "Five", 3, 0},		      /* named */
};

/* The digest is the line jansson wrote for each model before the writer
 * replaced it: checked against a json_t built the old way. */
static void test_digest_bytes(void)
{
	struct catalog cat;
	catalog_of(&cat, before_models, 5);
	char *text = digest_of(&cat, "2025-06-01T00:00:00Z");
	struct strbuf want;
	strbuf_init(&want);
	strbuf_puts(&want, "{\"modelfuse_digest\":1,\"generated_at\":\"2025-06-01T00:00:00Z\"}\n");
	for (size_t i = 0; i < 5; i++) {
		const struct fake_model *fm = &before_models[i];
		json_t *f = json_object();
		if (fm->name)
			json_object_set_new(f, "name", lossy_string(fm->name));
		char *maker = xstrndup(fm->id, strcspn(fm->id, "/"));
		json_object_set_new(f, "provider", json_string(maker));
		free(maker);
		if (fm->context > 0)
			json_object_set_new(f, "context_tokens", json_integer(fm->context));
		if (fm->input_price >= 0)
			json_object_set_new(f, "price.input_per_million",
					    json_real(price_round(fm->input_price)));
		json_t *aliases = json_array();
		json_array_append_new(aliases, json_string(fm->id));
		json_object_set_new(f, "aliases", aliases);
		json_t *line = json_object();
		json_object_set_new(line, "id", json_string(fm->id));
		json_object_set_new(line, "f", f);
		char *s = json_dumps(line, COMPACT_FLAGS);
		strbuf_puts(&want, s);
		strbuf_puts(&want, "\n");
		free(s);
		json_decref(line);
	}
	CU_ASSERT_STRING_EQUAL(text, want.data);
	strbuf_free(&want);
	free(text);
	catalog_drop(&cat);
}

static const struct model_change *find_change(const struct model_change *list, size_t n,
					      const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].id, id) == 0)
			return &list[i];
	return NULL;
}

/* The changes between before_models and after_models, whatever the
 * digest's spelling. */
static void check_changes(const struct changes *ch)
{
	CU_ASSERT_TRUE(ch->has_previous);
	CU_ASSERT_EQUAL(ch->unchanged, 1);
	CU_ASSERT_EQUAL_FATAL(ch->n_added, 1);
	CU_ASSERT_STRING_EQUAL(ch->added[0].id, "c/zzz");
	CU_ASSERT_STRING_EQUAL(ch->added[0].name, "New");
	CU_ASSERT_EQUAL_FATAL(ch->n_removed, 1);
	CU_ASSERT_STRING_EQUAL(ch->removed[0].id, "d/gone");
	CU_ASSERT_STRING_EQUAL(ch->removed[0].name, "Gone");
	CU_ASSERT_EQUAL_FATAL(ch->n_changed, 3);
	CU_ASSERT_STRING_EQUAL(ch->changed[0].id, "b/two");
	CU_ASSERT_STRING_EQUAL(ch->changed[1].id, "c/three");
	CU_ASSERT_STRING_EQUAL(ch->changed[2].id, "e/five");
	const struct model_change *mc = find_change(ch->changed, ch->n_changed, "b/two");
	CU_ASSERT_EQUAL_FATAL(mc->n_fields, 1);
	CU_ASSERT_STRING_EQUAL(mc->fields[0].path, "price.input_per_million");
	CU_ASSERT_STRING_EQUAL(mc->fields[0].before, "0.15");
	CU_ASSERT_STRING_EQUAL(mc->fields[0].after, "0.2");
	mc = find_change(ch->changed, ch->n_changed, "c/three");
	CU_ASSERT_EQUAL_FATAL(mc->n_fields, 1);
	CU_ASSERT_STRING_EQUAL(mc->fields[0].path, "context_tokens");
	CU_ASSERT_STRING_EQUAL(mc->fields[0].before, "4096");
	CU_ASSERT_STRING_EQUAL(mc->fields[0].after, "8192");
	mc = find_change(ch->changed, ch->n_changed, "e/five");
	CU_ASSERT_EQUAL_FATAL(mc->n_fields, 1);
	CU_ASSERT_STRING_EQUAL(mc->fields[0].before, "null");
	CU_ASSERT_STRING_EQUAL(mc->fields[0].after, "\"Five\"");
}

static void compute_with_digest(const char *dir, const char *digest, const struct catalog *cat,
				struct changes *ch)
{
	free(tu_write_file(dir, CHANGES_DIGEST_NAME, digest));
	CU_ASSERT_EQUAL(changes_compute(dir, cat, ch), 0);
}

/* Reorder a digest's model lines: header first, then lines in `order`. */
static char *reorder(const char *digest, const size_t *order, size_t n)
{
	char *copy = xstrdup(digest);
	char *lines[16];
	size_t count = 0;
	for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l && count < 16;
	     l = strtok_r(NULL, "\n", &save))
		lines[count++] = l;
	struct strbuf sb;
	strbuf_init(&sb);
	strbuf_puts(&sb, lines[0]);
	strbuf_puts(&sb, "\n");
	for (size_t i = 0; i < n; i++) {
		strbuf_puts(&sb, lines[1 + order[i]]);
		strbuf_puts(&sb, "\n");
	}
	free(copy);
	return strbuf_detach(&sb);
}

static void test_changes_join(void)
{
	char *dir = tu_tmpdir();
	struct catalog before, after;
	catalog_of(&before, before_models, 5);
	catalog_of(&after, after_models, 5);
	char *digest = digest_of(&before, "2025-06-01T00:00:00Z");
	struct changes ch;

	/* The digest as this program writes it. */
	compute_with_digest(dir, digest, &after, &ch);
	CU_ASSERT_STRING_EQUAL(ch.previous_generated_at, "2025-06-01T00:00:00Z");
	check_changes(&ch);
	/* changes.json is what jansson wrote for the same changes. */
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	CU_ASSERT_EQUAL(changes_write_json(f, &ch, "2025-06-02T00:00:00Z"), 0);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "  \"counts\": {\"added\":1,\"removed\":1,\"changed\":3,"
					   "\"unchanged\":1},\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "  \"removed\": [\n    {\"id\":\"d/gone\",\"name\":"
					   "\"Gone\"}\n  ],\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out,
				      "{\"id\":\"b/two\",\"name\":\"Two \\\"2\\\"\",\"fields\":"
				      "[{\"path\":\"price.input_per_million\",\"before\":0.15,"
				      "\"after\":0.2}]},\n"));
	CU_ASSERT_TRUE(str_starts_with(out,
				       "{\n  \"generated_at\": \"2025-06-02T00:00:00Z\",\n"
				       "  \"previous_generated_at\": \"2025-06-01T00:00:00Z\",\n"));
	json_error_t jerr;
	json_t *parsed = json_loads(out, 0, &jerr);
	CU_ASSERT_PTR_NOT_NULL(parsed);
	json_decref(parsed);
	free(out);
	changes_free(&ch);

	/* The same catalog again: nothing changed, nothing parsed apart. */
	compute_with_digest(dir, digest, &before, &ch);
	CU_ASSERT_EQUAL(ch.unchanged, 5);
	CU_ASSERT_EQUAL(ch.n_added + ch.n_removed + ch.n_changed, 0);
	changes_free(&ch);

	/* Spelled otherwise (spaces, other escapes, 0.150, keys in another
	 * order): read by jansson, with the same result. */
	char *spaced = xstrdup(digest);
	struct strbuf sb;
	strbuf_init(&sb);
	for (const char *p = spaced; *p; p++) {
		if (*p == ':' && p[1] != '"' && p[-1] == '"')
			strbuf_puts(&sb, ": ");
		else if (*p == ',' && p[1] == '"')
			strbuf_puts(&sb, ", ");
		else
			strbuf_append(&sb, p, 1);
	}
	free(spaced);
	char *text = strbuf_detach(&sb);
	char *at = strstr(text, "0.15");
	CU_ASSERT_PTR_NOT_NULL_FATAL(at);
	char *respelled = xasprintf("%.*s0.150%s", (int)(at - text), text, at + 4);
	free(text);
	compute_with_digest(dir, respelled, &after, &ch);
	check_changes(&ch);
	changes_free(&ch);
	free(respelled);

	/* A line with escapes the scanner leaves to jansson (\u00e9, \/). */
	char *escaped = xstrdup(digest);
	char *e = strstr(escaped, "Thr\xc3\xa9");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	char *esc = xasprintf("%.*sThr\\u00e9%s", (int)(e - escaped), escaped, e + 5);
	compute_with_digest(dir, esc, &after, &ch);
	check_changes(&ch);
	changes_free(&ch);
	free(esc);
	free(escaped);

	/* Lines out of order and a repeated id (the first one counts): the
	 * digest is read whole, with the same result. */
	static const size_t shuffled[] = {3, 1, 4, 0, 2};
	char *unsorted = reorder(digest, shuffled, 5);
	compute_with_digest(dir, unsorted, &after, &ch);
	check_changes(&ch);
	changes_free(&ch);
	free(unsorted);
	static const size_t repeated[] = {0, 1, 1, 2, 3, 4, 4};
	char *twice = reorder(digest, repeated, 7);
	compute_with_digest(dir, twice, &after, &ch);
	check_changes(&ch);
	changes_free(&ch);
	free(twice);

	/* A bad line anywhere, even after the last model or after lines
	 * already compared, makes it a first run. */
	static const char *const bad_tails[] = {
	    "{\"id\":\"z/last\"}\n",
	    "{\"id\":\"z/last\",\"f\":{\"x\":tru}}\n",
	    "{\"id\":\"z/last\",\"f\":{\"x\":\"\xff\"}}\n",
	    "{\"id\":\"z/last\",\"f\":{\"x\":1e999}}\n",
	    "{\"id\":\"z/last\",\"f\":{\"x\":99999999999999999999}}\n",
	    "{\"id\":\"z/last\",\"f\":{\"x\":\"\\u0000\"}}\n",
	    "\n",
	    "not json\n",
	};
	for (size_t i = 0; i < sizeof bad_tails / sizeof bad_tails[0]; i++) {
		char *bad = xasprintf("%s%s", digest, bad_tails[i]);
		compute_with_digest(dir, bad, &after, &ch);
		CU_ASSERT_FALSE(ch.has_previous);
		CU_ASSERT_PTR_NULL(ch.previous_generated_at);
		CU_ASSERT_EQUAL(ch.n_added, 5);
		CU_ASSERT_EQUAL(ch.n_removed + ch.n_changed + ch.unchanged, 0);
		changes_free(&ch);
		free(bad);
	}
	/* A bad line in the middle too, even one that sorts out of order. */
	char *mid = xstrdup(digest);
	char *second = strchr(strchr(mid, '\n') + 1, '\n') + 1;
	char *broken =
	    xasprintf("%.*s{\"id\":\"0\",\"f\":[]}\n%s", (int)(second - mid), mid, second);
	compute_with_digest(dir, broken, &after, &ch);
	CU_ASSERT_FALSE(ch.has_previous);
	CU_ASSERT_EQUAL(ch.n_added, 5);
	changes_free(&ch);
	free(broken);
	free(mid);

	/* A valid line the old reader accepted: extra keys, other order. */
	char *extra =
	    xasprintf("%s{\"f\": {\"name\": \"Late\"}, \"id\": \"z/late\", \"x\": 1}\n", digest);
	compute_with_digest(dir, extra, &after, &ch);
	CU_ASSERT_TRUE(ch.has_previous);
	CU_ASSERT_EQUAL_FATAL(ch.n_removed, 2);
	CU_ASSERT_STRING_EQUAL(ch.removed[1].id, "z/late");
	CU_ASSERT_STRING_EQUAL(ch.removed[1].name, "Late");
	changes_free(&ch);
	free(extra);

	/* Header only: a previous run without models. */
	compute_with_digest(dir, "{\"modelfuse_digest\":1,\"generated_at\":\"x\"}\n", &after, &ch);
	CU_ASSERT_TRUE(ch.has_previous);
	CU_ASSERT_EQUAL(ch.n_added, 5);
	changes_free(&ch);

	/* No digest: a first run, without a warning. */
	char *path = xasprintf("%s/%s", dir, CHANGES_DIGEST_NAME);
	unlink(path);
	free(path);
	CU_ASSERT_EQUAL(changes_compute(dir, &after, &ch), 0);
	CU_ASSERT_FALSE(ch.has_previous);
	CU_ASSERT_EQUAL(ch.n_added, 5);
	changes_free(&ch);

	free(digest);
	catalog_drop(&before);
	catalog_drop(&after);
	tu_rm_rf(dir);
	free(dir);
}

/* A catalog not in id order (merge sorts it; the join must not rely on
 * that blindly). */
static void test_changes_unsorted_catalog(void)
{
	char *dir = tu_tmpdir();
	struct catalog before, after;
	catalog_of(&before, before_models, 5);
	static const struct fake_model shuffled[] = {
	    after_models[4], after_models[2], after_models[0], after_models[3], after_models[1],
	};
	catalog_of(&after, shuffled, 5);
	char *digest = digest_of(&before, "2025-06-01T00:00:00Z");
	struct changes ch;
	compute_with_digest(dir, digest, &after, &ch);
	check_changes(&ch);
	changes_free(&ch);
	free(digest);
	catalog_drop(&before);
	catalog_drop(&after);
	tu_rm_rf(dir);
	free(dir);
}

/* ------------------------------------------------------------ catalog head */

/* writer_catalog_head writes what writer_catalog writes before the models,
 * byte for byte, whatever the catalog. */
static void test_catalog_head(void)
{
	struct source_config sources[2] = {
	    {.name = "alpha", .plugin = "modelsdev", .precedence = 10},
	    {.name = "b\xc3\xa9ta \"q\"", .plugin = "openrouter", .precedence = 20},
	};
	struct source_result results[2] = {
	    {.source = &sources[0], .status = SOURCE_FRESH, .fetched_at = "2025-06-01T00:00:00Z"},
	    {.source = &sources[1],
	     .status = SOURCE_FAILED,
	     .message = "HTTP 503\n\x01",
	     .records_pending = true,
	     .pending_records = 12},
	};
	struct config cfg = {.sources = sources, .n_sources = 2};
	struct catalog cat;
	catalog_of(&cat, before_models, 5);
	struct writer_input in = {
	    .cfg = &cfg,
	    .results = results,
	    .catalog = &cat,
	    .generated_at = "2025-06-02T00:00:00Z",
	};
	char *full = NULL, *head = NULL;
	size_t full_len = 0, head_len = 0;
	FILE *f = open_memstream(&full, &full_len);
	CU_ASSERT_EQUAL(writer_catalog(f, &in), 0);
	fclose(f);
	f = open_memstream(&head, &head_len);
	CU_ASSERT_EQUAL(writer_catalog_head(f, &in), 0);
	fclose(f);
	const char *models = strstr(full, ",\n  \"models\": [\n    {\n      \"id\": \"a/one\",");
	CU_ASSERT_PTR_NOT_NULL_FATAL(models);
	CU_ASSERT_EQUAL(head_len, (size_t)(models - full));
	CU_ASSERT_NSTRING_EQUAL(head, full, head_len);
	CU_ASSERT_PTR_NOT_NULL(strstr(head, "\"records\": 12,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(head, "\"message\": \"HTTP 503\\n\\u0001\","));
	CU_ASSERT_PTR_NOT_NULL(strstr(head, "\"name\": \"b\xc3\xa9ta \\\"q\\\"\","));
	/* The whole catalog still parses. */
	json_error_t jerr;
	json_t *j = json_loads(full, 0, &jerr);
	CU_ASSERT_PTR_NOT_NULL(j);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "models")), 5);
	json_decref(j);
	free(full);
	free(head);
	catalog_drop(&cat);
}

int main(void)
{
	static const struct tu_test tests[] = {
	    {"reals: awkward and random doubles as jansson", test_reals},
	    {"reals: exponent, -0.0, non-finite", test_format_real},
	    {"integers", test_integers},
	    {"strings: escapes, unicode, invalid UTF-8", test_strings},
	    {"utf-8 sequences", test_utf8_sequence},
	    {"structure: empty, nested, dropped values", test_structure},
	    {"mixed styles and raw values", test_mixed_styles},
	    {"errors: unbalanced, too deep, full disk", test_errors},
	    {"file output beyond the buffer", test_file_output},
	    {"digest: the bytes jansson wrote", test_digest_bytes},
	    {"changes: merge-join and odd digests", test_changes_join},
	    {"changes: catalog out of order", test_changes_unsorted_catalog},
	    {"catalog head: the bytes before the models", test_catalog_head},
	    {NULL, NULL},
	};
	return tu_main("jsonw", tests);
}
