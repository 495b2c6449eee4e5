/* Records, their setters, and the framed record stream. */
#include "mf_build_config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"
#include "stream.h"
#include "testutil.h"

static struct mf_record *sample_record(void)
{
	struct mf_record *r = record_new(MF_RECORD_OFFERING, "gpt-4o-2024-08-06");
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

/* Encode records and an end frame into memory through a pipe-less writer. */
static struct strbuf encode_stream(size_t nrec, bool with_end)
{
	char path[] = "/tmp/mfstream.XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	struct stream_writer w;
	stream_writer_init(&w, fd);
	for (size_t i = 0; i < nrec; i++) {
		struct mf_record *r = sample_record();
		char id[32];
		snprintf(id, sizeof id, "model-%zu", i);
		free(r->native_id);
		r->native_id = strdup(id);
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
	{"stream round trip", test_stream_roundtrip},
	{"every truncated stream is refused", test_stream_every_truncation_refused},
	{"stream faults", test_stream_faults},
	{"stream count mismatch", test_stream_count_mismatch},
	{NULL, NULL},
};

int main(void)
{
	return tu_main("record", tests);
}
