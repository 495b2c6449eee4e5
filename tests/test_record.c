/* Records, their setters, and the framed record stream. */
#include "mf_build_config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"
#include "stream.h"
#include "testutil.h"

static struct mf_record *sample_record_id(const char *id)
{
	struct mf_record *r = record_new(MF_RECORD_OFFERING, id);
	record_set_string(r, MF_FIELD_PROVIDER, "openai");
	record_set_string(r, MF_FIELD_NAME, "GPT-4o");
	record_set_int(r, MF_FIELD_CONTEXT_TOKENS, 128000);
	record_set_bool(r, MF_FIELD_TOOL_CALL, true);
	record_list_add(r, MF_FIELD_INPUT_MODALITIES, "text");
	record_list_add(r, MF_FIELD_INPUT_MODALITIES, "image");
	record_map_set(r, MF_FIELD_PRICE, "output", 10);
	record_map_set(r, MF_FIELD_PRICE, "input", 2.5);
	return r;
}

static struct mf_record *sample_record(void)
{
	return sample_record_id("gpt-4o-2024-08-06");
}

/* Every getter of a and b agrees, field by field. */
static bool same_record(const struct mf_record *a, const struct mf_record *b)
{
	if (a->kind != b->kind || strcmp(a->native_id, b->native_id) != 0 ||
	    record_field_mask(a) != record_field_mask(b))
		return false;
	for (int f = 1; f < MF_FIELD_COUNT; f++) {
		const struct field_value *va = record_field(a, (enum mf_field)f);
		const struct field_value *vb = record_field(b, (enum mf_field)f);
		if (!va || !vb) {
			if (va != vb)
				return false;
			continue;
		}
		switch (field_info((enum mf_field)f)->type) {
		case MF_TYPE_STRING:
			if (strcmp(va->u.s, vb->u.s) != 0)
				return false;
			break;
		case MF_TYPE_INT:
			if (va->u.i != vb->u.i)
				return false;
			break;
		case MF_TYPE_BOOL:
			if (va->u.b != vb->u.b)
				return false;
			break;
		case MF_TYPE_REAL:
			if (va->u.r != vb->u.r)
				return false;
			break;
		case MF_TYPE_LIST:
			if (va->u.list.count != vb->u.list.count)
				return false;
			for (size_t i = 0; i < va->u.list.count; i++)
				if (strcmp(va->u.list.items[i], vb->u.list.items[i]) != 0)
					return false;
			break;
		case MF_TYPE_MAP:
			if (va->u.map.count != vb->u.map.count)
				return false;
			for (size_t i = 0; i < va->u.map.count; i++)
				if (strcmp(va->u.map.items[i].key, vb->u.map.items[i].key) != 0 ||
				    va->u.map.items[i].value != vb->u.map.items[i].value)
					return false;
			break;
		}
	}
	return true;
}

static void test_setters_check_types(void)
{
	struct mf_record *r = record_new(MF_RECORD_MODEL, "x");
	CU_ASSERT_EQUAL(record_set_int(r, MF_FIELD_NAME, 3), MF_EINVAL);
	CU_ASSERT_EQUAL(record_set_string(r, MF_FIELD_CONTEXT_TOKENS, "3"), MF_EINVAL);
	CU_ASSERT_EQUAL(record_set_string(r, (enum mf_field)999, "3"), MF_EINVAL);
	CU_ASSERT_EQUAL(record_set_string(r, MF_FIELD_NAME, NULL), MF_EINVAL);
	CU_ASSERT_EQUAL(record_map_set(r, MF_FIELD_PRICE, "input", NAN), MF_EINVAL);
	CU_ASSERT_EQUAL(record_map_set(r, MF_FIELD_PRICE, "", 1), MF_EINVAL);
	CU_ASSERT_PTR_NULL(record_get_string(r, MF_FIELD_NAME));
	CU_ASSERT_EQUAL(record_set_string_n(r, MF_FIELD_NAME, "abcdef", 3), MF_OK);
	CU_ASSERT_STRING_EQUAL(record_get_string(r, MF_FIELD_NAME), "abc");
	record_free(r);
}

static void test_list_dedup_keeps_order(void)
{
	struct mf_record *r = record_new(MF_RECORD_MODEL, "x");
	record_list_add(r, MF_FIELD_TAGS, "b");
	record_list_add(r, MF_FIELD_TAGS, "a");
	record_list_add(r, MF_FIELD_TAGS, "b");
	const struct strlist *l = record_get_list(r, MF_FIELD_TAGS);
	CU_ASSERT_EQUAL_FATAL(l->count, 2);
	CU_ASSERT_STRING_EQUAL(l->items[0], "b");
	CU_ASSERT_STRING_EQUAL(l->items[1], "a");
	record_free(r);
}

static void test_map_sorted_and_replaced(void)
{
	struct mf_record *r = sample_record();
	record_map_set(r, MF_FIELD_PRICE, "cache_read", 1.25);
	record_map_set(r, MF_FIELD_PRICE, "input", 3);
	const struct nummap *m = record_get_map(r, MF_FIELD_PRICE);
	CU_ASSERT_EQUAL_FATAL(m->count, 3);
	CU_ASSERT_STRING_EQUAL(m->items[0].key, "cache_read");
	CU_ASSERT_STRING_EQUAL(m->items[1].key, "input");
	CU_ASSERT_EQUAL(m->items[1].value, 3);
	double v = 0;
	CU_ASSERT_TRUE(nummap_get(m, "output", &v));
	CU_ASSERT_EQUAL(v, 10);
	CU_ASSERT_FALSE(nummap_get(m, "image", &v));
	record_free(r);
}

static void test_decimal_shift(void)
{
	double v = -1;
	CU_ASSERT_TRUE(decimal_shift("0.000003", 6, &v));
	CU_ASSERT_EQUAL(v, 3.0);
	CU_ASSERT_TRUE(decimal_shift("0.0000025", 6, &v));
	CU_ASSERT_EQUAL(v, 2.5);
	/* Through a float multiply this is 0.15000000000000002. */
	CU_ASSERT_TRUE(decimal_shift("0.00000015", 6, &v));
	CU_ASSERT_EQUAL(v, 0.15);
	CU_ASSERT_TRUE(decimal_shift("12", 6, &v));
	CU_ASSERT_EQUAL(v, 12000000.0);
	CU_ASSERT_TRUE(decimal_shift("-1", 0, &v));
	CU_ASSERT_EQUAL(v, -1.0);
	CU_ASSERT_TRUE(decimal_shift("150", -4, &v));
	CU_ASSERT_EQUAL(v, 0.015);
	CU_ASSERT_TRUE(decimal_shift(".5", 1, &v));
	CU_ASSERT_EQUAL(v, 5.0);
	CU_ASSERT_FALSE(decimal_shift("", 6, &v));
	CU_ASSERT_FALSE(decimal_shift("1e-6", 6, &v));
	CU_ASSERT_FALSE(decimal_shift("0.1.2", 6, &v));
	CU_ASSERT_FALSE(decimal_shift("abc", 6, &v));
	CU_ASSERT_FALSE(decimal_shift(" 1", 6, &v));
	CU_ASSERT_EQUAL(price_round(0.1 + 0.2), 0.3);
}

static void test_clone_is_deep(void)
{
	struct mf_record *r = sample_record();
	struct mf_record *c = record_clone(r);
	record_free(r);
	CU_ASSERT_STRING_EQUAL(c->native_id, "gpt-4o-2024-08-06");
	CU_ASSERT_STRING_EQUAL(record_get_string(c, MF_FIELD_NAME), "GPT-4o");
	CU_ASSERT_EQUAL(record_get_list(c, MF_FIELD_INPUT_MODALITIES)->count, 2);
	record_free(c);
}

/* Only set fields are stored: setting, replacing and unsetting fields in
 * any order keeps every other field, and the mask says what is set. */
static void test_compact_fields(void)
{
	struct mf_record *r = record_new(MF_RECORD_MODEL, "m");
	CU_ASSERT_EQUAL(record_field_mask(r), 0);
	/* Out of field order on purpose: values are kept in field order. */
	record_set_string(r, MF_FIELD_VERSION, "v1");
	record_set_int(r, MF_FIELD_CONTEXT_TOKENS, 1000);
	record_set_string(r, MF_FIELD_NAME, "Name");
	record_list_add(r, MF_FIELD_TAGS, "a");
	record_set_real(r, MF_FIELD_TTFT, 0.5);
	record_set_bool(r, MF_FIELD_REASONING, true);
	for (int f = 1; f < MF_FIELD_COUNT; f++)
		CU_ASSERT_EQUAL(record_has(r, (enum mf_field)f),
				(record_field_mask(r) >> f & 1) != 0);
	CU_ASSERT_EQUAL(__builtin_popcountll(record_field_mask(r)), 6);
	record_unset(r, MF_FIELD_CONTEXT_TOKENS);
	record_set_string(r, MF_FIELD_NAME, "Other");
	CU_ASSERT_FALSE(record_has(r, MF_FIELD_CONTEXT_TOKENS));
	CU_ASSERT_STRING_EQUAL(record_get_string(r, MF_FIELD_NAME), "Other");
	CU_ASSERT_STRING_EQUAL(record_get_string(r, MF_FIELD_VERSION), "v1");
	CU_ASSERT_STRING_EQUAL(record_get_list(r, MF_FIELD_TAGS)->items[0], "a");
	double ttft = 0;
	CU_ASSERT_TRUE(record_get_real(r, MF_FIELD_TTFT, &ttft));
	CU_ASSERT_EQUAL(ttft, 0.5);
	bool reasoning = false;
	CU_ASSERT_TRUE(record_get_bool(r, MF_FIELD_REASONING, &reasoning));
	CU_ASSERT_TRUE(reasoning);
	/* Every field at once, then none. */
	for (int f = 1; f < MF_FIELD_COUNT; f++) {
		const struct field_info *info = field_info((enum mf_field)f);
		if (!info)
			continue;
		if (info->type == MF_TYPE_LIST || info->type == MF_TYPE_MAP)
			record_mark_known(r, (enum mf_field)f);
		else if (info->type == MF_TYPE_STRING)
			record_set_string(r, (enum mf_field)f, info->name);
		else if (info->type == MF_TYPE_INT)
			record_set_int(r, (enum mf_field)f, f);
		else if (info->type == MF_TYPE_BOOL)
			record_set_bool(r, (enum mf_field)f, true);
		else
			record_set_real(r, (enum mf_field)f, f);
	}
	for (int f = 1; f < MF_FIELD_COUNT; f++) {
		const struct field_info *info = field_info((enum mf_field)f);
		if (info && info->type == MF_TYPE_STRING)
			CU_ASSERT_STRING_EQUAL(record_get_string(r, (enum mf_field)f), info->name);
		if (info && info->type == MF_TYPE_INT) {
			int64_t v = 0;
			CU_ASSERT_TRUE(record_get_int(r, (enum mf_field)f, &v));
			CU_ASSERT_EQUAL(v, f);
		}
	}
	for (int f = MF_FIELD_COUNT - 1; f > 0; f--)
		record_unset(r, (enum mf_field)f);
	CU_ASSERT_EQUAL(record_field_mask(r), 0);
	record_free(r);
}

/* Equal strings are stored once, whoever holds them, and go with the last
 * holder; values that alias the record's own strings are safe. */
static void test_strings_shared(void)
{
	size_t before = record_string_count();
	struct mf_record *a = sample_record();
	size_t one = record_string_count();
	struct mf_record *b = sample_record();
	struct mf_record *c = record_clone(a);
	CU_ASSERT_EQUAL(record_string_count(), one);
	CU_ASSERT_PTR_EQUAL(record_get_string(a, MF_FIELD_PROVIDER),
			    record_get_string(b, MF_FIELD_PROVIDER));
	/* Set a field to its own value, and from another field. */
	record_set_string(a, MF_FIELD_NAME, record_get_string(a, MF_FIELD_NAME));
	CU_ASSERT_STRING_EQUAL(record_get_string(a, MF_FIELD_NAME), "GPT-4o");
	record_set_string(a, MF_FIELD_FAMILY, record_get_string(a, MF_FIELD_NAME));
	CU_ASSERT_STRING_EQUAL(record_get_string(a, MF_FIELD_FAMILY), "GPT-4o");
	/* Remove a list item given by the list itself. */
	record_list_remove(a, MF_FIELD_INPUT_MODALITIES,
			   record_get_list(a, MF_FIELD_INPUT_MODALITIES)->items[0]);
	const struct strlist *l = record_get_list(a, MF_FIELD_INPUT_MODALITIES);
	CU_ASSERT_EQUAL_FATAL(l->count, 1);
	CU_ASSERT_STRING_EQUAL(l->items[0], "image");
	/* The other holders still see "text". */
	CU_ASSERT_STRING_EQUAL(record_get_list(b, MF_FIELD_INPUT_MODALITIES)->items[0], "text");
	record_free(a);
	record_free(b);
	CU_ASSERT_STRING_EQUAL(record_get_string(c, MF_FIELD_PROVIDER), "openai");
	record_free(c);
	CU_ASSERT_EQUAL(record_string_count(), before);
}

/* A packed copy reads the same, and still takes every change. */
static void test_pack(void)
{
	struct mf_record *r = sample_record();
	record_set_string(r, MF_FIELD_RELEASE_DATE, "2024-08-06");
	record_mark_known(r, MF_FIELD_TAGS);
	struct mf_record *p = record_pack(r);
	CU_ASSERT_TRUE(same_record(r, p));
	CU_ASSERT_TRUE(record_has(p, MF_FIELD_TAGS));
	CU_ASSERT_EQUAL(record_get_list(p, MF_FIELD_TAGS)->count, 0);

	/* Changes go to r and p alike: grow a packed list and map, add and
	 * remove fields, replace a string. */
	for (int round = 0; round < 2; round++) {
		struct mf_record *x = round == 0 ? r : p;
		record_list_add(x, MF_FIELD_INPUT_MODALITIES, "audio");
		record_list_add(x, MF_FIELD_TAGS, "new");
		record_map_set(x, MF_FIELD_PRICE, "cache_read", 1.25);
		record_map_set(x, MF_FIELD_PRICE, "input", 3);
		record_set_int(x, MF_FIELD_MAX_OUTPUT_TOKENS, 16384);
		record_unset(x, MF_FIELD_TOOL_CALL);
		record_set_string(x, MF_FIELD_NAME, "GPT-4o (2024-08-06)");
		record_list_remove(x, MF_FIELD_INPUT_MODALITIES, "text");
	}
	CU_ASSERT_TRUE(same_record(r, p));
	struct mf_record *c = record_clone(p);
	CU_ASSERT_TRUE(same_record(c, p));
	record_free(c);
	/* A packed record packed again. */
	struct mf_record *pp = record_pack(p);
	CU_ASSERT_TRUE(same_record(pp, r));
	record_free(pp);
	record_free(p);
	record_free(r);
	struct mf_record *empty = record_new(MF_RECORD_MODEL, "");
	struct mf_record *pe = record_pack(empty);
	CU_ASSERT_TRUE(same_record(empty, pe));
	record_set_bool(pe, MF_FIELD_GATED, true);
	CU_ASSERT_TRUE(record_has(pe, MF_FIELD_GATED));
	record_free(pe);
	record_free(empty);
}

/* Encode records and an end frame into memory through a pipe-less writer. */
static struct strbuf encode_stream(size_t nrec, bool with_end)
{
	char path[] = "/tmp/mfstream.XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	struct stream_writer w;
	stream_writer_init(&w, fd);
	for (size_t i = 0; i < nrec; i++) {
		char id[32];
		snprintf(id, sizeof id, "model-%zu", i);
		struct mf_record *r = sample_record_id(id);
		stream_write_record(&w, r);
		record_free(r);
	}
	if (with_end)
		stream_write_end(&w, SOURCE_FRESH, "2026-11-22T10:00:00Z", "");
	else
		stream_writer_flush(&w);
	stream_writer_free(&w);
	struct strbuf sb;
	strbuf_init(&sb);
	lseek(fd, 0, SEEK_SET);
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		strbuf_append(&sb, buf, (size_t)n);
	close(fd);
	return sb;
}

static void test_stream_roundtrip(void)
{
	struct strbuf sb = encode_stream(1000, true);
	struct record_array out = {0};
	struct stream_end end;
	char err[256] = "";
	CU_ASSERT_EQUAL_FATAL(stream_decode(sb.data, sb.len, &out, &end, err, sizeof err), 0);
	CU_ASSERT_EQUAL(out.count, 1000);
	CU_ASSERT_EQUAL(end.status, SOURCE_FRESH);
	CU_ASSERT_EQUAL(end.records, 1000);
	CU_ASSERT_STRING_EQUAL(end.fetched_at, "2026-11-22T10:00:00Z");
	CU_ASSERT_PTR_NULL(end.message);
	struct mf_record *r = out.items[999];
	CU_ASSERT_STRING_EQUAL(r->native_id, "model-999");
	CU_ASSERT_EQUAL(r->kind, MF_RECORD_OFFERING);
	CU_ASSERT_STRING_EQUAL(record_get_string(r, MF_FIELD_PROVIDER), "openai");
	int64_t ctx = 0;
	CU_ASSERT_TRUE(record_get_int(r, MF_FIELD_CONTEXT_TOKENS, &ctx));
	CU_ASSERT_EQUAL(ctx, 128000);
	bool tools = false;
	CU_ASSERT_TRUE(record_get_bool(r, MF_FIELD_TOOL_CALL, &tools));
	CU_ASSERT_TRUE(tools);
	CU_ASSERT_STRING_EQUAL(record_get_list(r, MF_FIELD_INPUT_MODALITIES)->items[1], "image");
	double price = 0;
	CU_ASSERT_TRUE(nummap_get(record_get_map(r, MF_FIELD_PRICE), "input", &price));
	CU_ASSERT_EQUAL(price, 2.5);
	record_array_free(&out);
	stream_end_free(&end);
	strbuf_free(&sb);
}

/* Every prefix of a valid stream is refused, and adds no record. */
static void test_stream_every_truncation_refused(void)
{
	struct strbuf sb = encode_stream(3, true);
	for (size_t cut = 0; cut < sb.len; cut++) {
		struct record_array out = {0};
		struct stream_end end;
		char err[256] = "";
		int rc = stream_decode(sb.data, cut, &out, &end, err, sizeof err);
		CU_ASSERT_EQUAL(rc, -1);
		CU_ASSERT_EQUAL(out.count, 0);
		CU_ASSERT(err[0] != '\0');
		record_array_free(&out);
	}
	strbuf_free(&sb);
}

static void test_stream_faults(void)
{
	struct record_array out = {0};
	struct stream_end end;
	char err[256];

	struct strbuf noend = encode_stream(2, false);
	CU_ASSERT_EQUAL(stream_decode(noend.data, noend.len, &out, &end, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "without an end frame"));
	CU_ASSERT_EQUAL(out.count, 0);

	struct strbuf good = encode_stream(2, true);
	/* Wrong version byte. */
	good.data[4] = 9;
	CU_ASSERT_EQUAL(stream_decode(good.data, good.len, &out, &end, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "version 9"));
	good.data[4] = MF_STREAM_VERSION;
	/* Unknown frame type for the first frame. */
	good.data[8] = 'Z';
	CU_ASSERT_EQUAL(stream_decode(good.data, good.len, &out, &end, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown frame type"));
	good.data[8] = 'R';
	/* Trailing bytes after the end frame. */
	strbuf_append(&good, "x", 1);
	CU_ASSERT_EQUAL(stream_decode(good.data, good.len, &out, &end, err, sizeof err), -1);
	CU_ASSERT_EQUAL(out.count, 0);

	const char garbage[] = "hello, this is not a stream";
	CU_ASSERT_EQUAL(stream_decode(garbage, sizeof garbage, &out, &end, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a record stream"));
	strbuf_free(&noend);
	strbuf_free(&good);
}

/* Fed in pieces of any size, the decoder gives what stream_decode gives on
 * the whole buffer: the same records, or the same error for every prefix
 * (a truncated stream) and for garbage in a frame. */
static void test_decoder_pieces(void)
{
	struct strbuf sb = encode_stream(40, true);
	static const size_t pieces[] = {1, 2, 5, 7, 64, 1000, 100000};
	for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
		struct stream_decoder d;
		stream_decoder_init(&d);
		struct strbuf held;
		strbuf_init(&held);
		for (size_t off = 0; off < sb.len; off += pieces[k]) {
			size_t n = sb.len - off < pieces[k] ? sb.len - off : pieces[k];
			strbuf_append(&held, sb.data + off, n);
			size_t used = stream_decoder_feed(&d, held.data, held.len);
			CU_ASSERT(used <= held.len);
			memmove(held.data, held.data + used, held.len - used);
			held.len -= used;
			/* Never more than one unfinished frame is held. */
			CU_ASSERT(held.len < 200 + pieces[k]);
		}
		struct record_array out = {0};
		struct stream_end end;
		char err[256] = "";
		CU_ASSERT_EQUAL_FATAL(
		    stream_decoder_finish(&d, held.data, held.len, &out, &end, err, sizeof err), 0);
		CU_ASSERT_EQUAL(out.count, 40);
		CU_ASSERT_STRING_EQUAL(out.items[39]->native_id, "model-39");
		CU_ASSERT_EQUAL(end.records, 40);
		record_array_free(&out);
		stream_end_free(&end);
		stream_decoder_free(&d);
		strbuf_free(&held);
	}

	/* Every prefix, fed in two pieces: the error of the whole prefix. */
	for (size_t cut = 0; cut < sb.len; cut += 7) {
		struct record_array whole = {0}, out = {0};
		struct stream_end end;
		char want[256] = "", got[256] = "";
		CU_ASSERT_EQUAL(stream_decode(sb.data, cut, &whole, &end, want, sizeof want), -1);
		struct stream_decoder d;
		stream_decoder_init(&d);
		size_t half = cut / 2;
		size_t used = stream_decoder_feed(&d, sb.data, half);
		struct strbuf held;
		strbuf_init(&held);
		strbuf_append(&held, sb.data + used, cut - used);
		used = stream_decoder_feed(&d, held.data, held.len);
		CU_ASSERT_EQUAL(stream_decoder_finish(&d, held.data + used, held.len - used, &out,
						      &end, got, sizeof got),
				-1);
		CU_ASSERT_STRING_EQUAL(got, want);
		CU_ASSERT_EQUAL(out.count, 0);
		CU_ASSERT_PTR_NULL(out.items);
		stream_decoder_free(&d);
		strbuf_free(&held);
	}

	/* A damaged record frame in the middle: nothing is kept, and what
	 * follows is swallowed. */
	struct strbuf bad = encode_stream(3, true);
	/* The first record's field count (after 'R', length, kind and the
	 * native id's length and 6 bytes "model-0"). */
	size_t at = 8 + 5 + 1 + 4 + strlen("model-0");
	bad.data[at] = (char)0xff;
	bad.data[at + 1] = (char)0xff;
	struct stream_decoder d;
	stream_decoder_init(&d);
	/* The first piece ends inside the first frame: only the header is
	 * taken; the rest holds the bad frame, and all of it is taken. */
	CU_ASSERT_EQUAL(stream_decoder_feed(&d, bad.data, 30), 8);
	CU_ASSERT_EQUAL(stream_decoder_feed(&d, bad.data + 8, bad.len - 8), bad.len - 8);
	struct record_array out = {0};
	struct stream_end end;
	char err[256] = "";
	CU_ASSERT_EQUAL(stream_decoder_finish(&d, NULL, 0, &out, &end, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "malformed record frame at byte 8"));
	CU_ASSERT_EQUAL(out.count, 0);
	stream_decoder_free(&d);
	strbuf_free(&bad);
	strbuf_free(&sb);
}

/* Decoded records hold their strings in the shared table and come back
 * equal to what was sent. */
static void test_decoded_records_equal(void)
{
	size_t before = record_string_count();
	struct strbuf sb = encode_stream(5, true);
	struct record_array out = {0};
	struct stream_end end;
	char err[256] = "";
	CU_ASSERT_EQUAL_FATAL(stream_decode(sb.data, sb.len, &out, &end, err, sizeof err), 0);
	struct mf_record *want = sample_record_id("model-4");
	CU_ASSERT_TRUE(same_record(out.items[4], want));
	record_free(want);
	/* A decoded record can be changed like any other. */
	record_list_add(out.items[0], MF_FIELD_INPUT_MODALITIES, "audio");
	record_set_string(out.items[0], MF_FIELD_FAMILY, "gpt");
	CU_ASSERT_EQUAL(record_get_list(out.items[0], MF_FIELD_INPUT_MODALITIES)->count, 3);
	record_array_free(&out);
	stream_end_free(&end);
	strbuf_free(&sb);
	CU_ASSERT_EQUAL(record_string_count(), before);
}

/* Little-endian pieces of a hand-made frame. */
static void put_le(struct strbuf *b, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t x = (uint8_t)(v >> (8 * i));
		strbuf_append(b, &x, 1);
	}
}

static void put_s(struct strbuf *b, const char *s)
{
	put_le(b, strlen(s), 4);
	strbuf_append(b, s, strlen(s));
}

/* A stream of one record frame whose payload (after kind and id) is body,
 * then an end frame for one record. */
static struct strbuf one_record_stream(const struct strbuf *body)
{
	struct strbuf sb;
	strbuf_init(&sb);
	strbuf_append(&sb, "MFRS\x01\0\0\0", 8);
	struct strbuf rec;
	strbuf_init(&rec);
	put_le(&rec, MF_RECORD_MODEL, 1);
	put_s(&rec, "hand-made");
	strbuf_append(&rec, body->data, body->len);
	strbuf_append(&sb, "R", 1);
	put_le(&sb, rec.len, 4);
	strbuf_append(&sb, rec.data, rec.len);
	strbuf_free(&rec);
	strbuf_append(&sb, "E", 1);
	put_le(&sb, 1 + 4 + 4 + 4, 4);
	put_le(&sb, SOURCE_FRESH, 1);
	put_le(&sb, 1, 4);
	put_s(&sb, "");
	put_s(&sb, "");
	return sb;
}

/* Frames the encoder would not write still decode with the setters'
 * rules: fields out of order or repeated, duplicate list items, unsorted
 * and repeated map keys; values a setter refuses make the frame malformed. */
static void test_decode_unusual_frames(void)
{
	struct strbuf body;
	strbuf_init(&body);
	put_le(&body, 5, 2); /* five fields */
	put_le(&body, MF_FIELD_TAGS, 2);
	put_le(&body, MF_TYPE_LIST, 1);
	put_le(&body, 3, 4);
	put_s(&body, "b");
	put_s(&body, "a");
	put_s(&body, "b");
	put_le(&body, MF_FIELD_NAME, 2); /* before TAGS: out of order */
	put_le(&body, MF_TYPE_STRING, 1);
	put_s(&body, "first");
	put_le(&body, MF_FIELD_SCORES, 2);
	put_le(&body, MF_TYPE_MAP, 1);
	put_le(&body, 3, 4);
	double v1 = 2, v2 = 1, v3 = 3;
	uint64_t w;
	put_s(&body, "z");
	memcpy(&w, &v1, 8);
	put_le(&body, w, 8);
	put_s(&body, "a");
	memcpy(&w, &v2, 8);
	put_le(&body, w, 8);
	put_s(&body, "z");
	memcpy(&w, &v3, 8);
	put_le(&body, w, 8);
	put_le(&body, MF_FIELD_NAME, 2); /* again: replaces */
	put_le(&body, MF_TYPE_STRING, 1);
	put_s(&body, "second");
	put_le(&body, MF_FIELD_DOWNLOADS, 2);
	put_le(&body, MF_TYPE_INT, 1);
	put_le(&body, 42, 8);
	struct strbuf sb = one_record_stream(&body);
	struct record_array out = {0};
	struct stream_end end;
	char err[256] = "";
	CU_ASSERT_EQUAL_FATAL(stream_decode(sb.data, sb.len, &out, &end, err, sizeof err), 0);
	const struct mf_record *r = out.items[0];
	CU_ASSERT_STRING_EQUAL(r->native_id, "hand-made");
	CU_ASSERT_STRING_EQUAL(record_get_string(r, MF_FIELD_NAME), "second");
	const struct strlist *l = record_get_list(r, MF_FIELD_TAGS);
	CU_ASSERT_EQUAL_FATAL(l->count, 2);
	CU_ASSERT_STRING_EQUAL(l->items[0], "b");
	CU_ASSERT_STRING_EQUAL(l->items[1], "a");
	const struct nummap *m = record_get_map(r, MF_FIELD_SCORES);
	CU_ASSERT_EQUAL_FATAL(m->count, 2);
	CU_ASSERT_STRING_EQUAL(m->items[0].key, "a");
	CU_ASSERT_EQUAL(m->items[1].value, 3);
	record_array_free(&out);
	stream_end_free(&end);
	strbuf_free(&sb);

	/* In order, as the encoder writes: the same rules in one allocation. */
	strbuf_free(&body);
	strbuf_init(&body);
	put_le(&body, 2, 2);
	put_le(&body, MF_FIELD_TAGS, 2);
	put_le(&body, MF_TYPE_LIST, 1);
	put_le(&body, 3, 4);
	put_s(&body, "b");
	put_s(&body, "a");
	put_s(&body, "b");
	put_le(&body, MF_FIELD_SCORES, 2);
	put_le(&body, MF_TYPE_MAP, 1);
	put_le(&body, 2, 4);
	put_s(&body, "z");
	memcpy(&w, &v1, 8);
	put_le(&body, w, 8);
	put_s(&body, "a");
	memcpy(&w, &v2, 8);
	put_le(&body, w, 8);
	sb = one_record_stream(&body);
	CU_ASSERT_EQUAL_FATAL(stream_decode(sb.data, sb.len, &out, &end, err, sizeof err), 0);
	r = out.items[0];
	CU_ASSERT_EQUAL(record_get_list(r, MF_FIELD_TAGS)->count, 2);
	m = record_get_map(r, MF_FIELD_SCORES);
	CU_ASSERT_EQUAL_FATAL(m->count, 2);
	CU_ASSERT_STRING_EQUAL(m->items[0].key, "a");
	CU_ASSERT_STRING_EQUAL(m->items[1].key, "z");
	record_array_free(&out);
	stream_end_free(&end);
	strbuf_free(&sb);

	/* An empty map key, a real that is no number: malformed. */
	for (int round = 0; round < 2; round++) {
		strbuf_free(&body);
		strbuf_init(&body);
		put_le(&body, 1, 2);
		double bad = NAN;
		memcpy(&w, &bad, 8);
		if (round == 0) {
			put_le(&body, MF_FIELD_SCORES, 2);
			put_le(&body, MF_TYPE_MAP, 1);
			put_le(&body, 1, 4);
			put_s(&body, "");
			memcpy(&w, &v1, 8);
		} else {
			put_le(&body, MF_FIELD_TTFT, 2);
			put_le(&body, MF_TYPE_REAL, 1);
		}
		put_le(&body, w, 8);
		sb = one_record_stream(&body);
		CU_ASSERT_EQUAL(stream_decode(sb.data, sb.len, &out, &end, err, sizeof err), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "malformed record frame at byte 8"));
		CU_ASSERT_EQUAL(out.count, 0);
		strbuf_free(&sb);
	}
	strbuf_free(&body);
}

/* The end frame's count must match the records actually sent. */
static void test_stream_count_mismatch(void)
{
	struct strbuf sb = encode_stream(2, true);
	/* Record count sits after the 'E', length and status bytes. */
	char *e = sb.data + sb.len;
	const char *fetched = "2026-11-22T10:00:00Z";
	size_t tail = 4 + strlen(fetched) + 4; /* fetched_at and empty message */
	char *count = e - tail - 4;
	count[0] = 5;
	struct record_array out = {0};
	struct stream_end end;
	char err[256];
	CU_ASSERT_EQUAL(stream_decode(sb.data, sb.len, &out, &end, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "counts 5 records"));
	strbuf_free(&sb);
}

static const struct tu_test tests[] = {
	{"setters check field types", test_setters_check_types},
	{"lists drop duplicates and keep order", test_list_dedup_keeps_order},
	{"maps stay sorted, keys replace", test_map_sorted_and_replaced},
	{"decimal strings shift exactly", test_decimal_shift},
	{"clone is deep", test_clone_is_deep},
	{"only set fields are stored", test_compact_fields},
	{"strings are shared and freed with the last holder", test_strings_shared},
	{"packed records read and change alike", test_pack},
	{"stream round trip", test_stream_roundtrip},
	{"every truncated stream is refused", test_stream_every_truncation_refused},
	{"stream faults", test_stream_faults},
	{"stream count mismatch", test_stream_count_mismatch},
	{"decoder fed in pieces", test_decoder_pieces},
	{"decoded records equal what was sent", test_decoded_records_equal},
	{"unusual frames decode with the setters' rules", test_decode_unusual_frames},
	{NULL, NULL},
};

int main(void)
{
	return tu_main("record", tests);
}
