#include "mf_build_config.h"
#include "stream.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Frame types. */
#define FRAME_RECORD 'R'
#define FRAME_END 'E'
#define HEADER_LEN MF_STREAM_HEADER_LEN
#define MAX_FRAME MF_STREAM_MAX_FRAME

const char *source_status_name(enum source_status st)
{
	switch (st) {
	case SOURCE_FRESH:
		return "fresh";
	case SOURCE_CACHED:
		return "cached";
	case SOURCE_STALE:
		return "stale";
	case SOURCE_FAILED:
		return "failed";
	case SOURCE_DISABLED:
		return "disabled";
	}
	return "failed";
}

/* ------------------------------------------------------------ encoding */

static void put_u8(struct strbuf *b, uint8_t v)
{
	strbuf_append(b, &v, 1);
}

static void put_u16(struct strbuf *b, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
	strbuf_append(b, x, 2);
}

static void put_u32(struct strbuf *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	strbuf_append(b, x, 4);
}

static void put_u64(struct strbuf *b, uint64_t v)
{
	put_u32(b, (uint32_t)v);
	put_u32(b, (uint32_t)(v >> 32));
}

static void put_f64(struct strbuf *b, double d)
{
	uint64_t v;
	memcpy(&v, &d, sizeof v);
	put_u64(b, v);
}

static void put_str(struct strbuf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	put_u32(b, (uint32_t)n);
	strbuf_append(b, s ? s : "", n);
}

static void patch_u32(struct strbuf *b, size_t at, uint32_t v)
{
	uint8_t *p = (uint8_t *)b->data + at;
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

void stream_encode_record(struct strbuf *buf, const struct mf_record *rec)
{
	put_u8(buf, FRAME_RECORD);
	size_t len_at = buf->len;
	put_u32(buf, 0);
	size_t start = buf->len;
	put_u8(buf, (uint8_t)rec->kind);
	put_str(buf, rec->native_id);
	uint16_t nfields = 0;
	for (int f = 1; f < MF_FIELD_COUNT; f++)
		if (record_has(rec, (enum mf_field)f))
			nfields++;
	put_u16(buf, nfields);
	for (int f = 1; f < MF_FIELD_COUNT; f++) {
		const struct field_value *v = record_field(rec, (enum mf_field)f);
		if (!v)
			continue;
		enum mf_field_type type = field_info((enum mf_field)f)->type;
		put_u16(buf, (uint16_t)f);
		put_u8(buf, (uint8_t)type);
		switch (type) {
		case MF_TYPE_STRING:
			put_str(buf, v->u.s);
			break;
		case MF_TYPE_INT:
			put_u64(buf, (uint64_t)v->u.i);
			break;
		case MF_TYPE_BOOL:
			put_u8(buf, v->u.b ? 1 : 0);
			break;
		case MF_TYPE_REAL:
			put_f64(buf, v->u.r);
			break;
		case MF_TYPE_LIST:
			put_u32(buf, (uint32_t)v->u.list.count);
			for (size_t i = 0; i < v->u.list.count; i++)
				put_str(buf, v->u.list.items[i]);
			break;
		case MF_TYPE_MAP:
			put_u32(buf, (uint32_t)v->u.map.count);
			for (size_t i = 0; i < v->u.map.count; i++) {
				put_str(buf, v->u.map.items[i].key);
				put_f64(buf, v->u.map.items[i].value);
			}
			break;
		}
	}
	patch_u32(buf, len_at, (uint32_t)(buf->len - start));
}

void stream_writer_init(struct stream_writer *w, int fd)
{
	w->fd = fd;
	w->records = 0;
	w->error = 0;
	strbuf_init(&w->buf);
	const uint8_t header[HEADER_LEN] = {'M', 'F', 'R', 'S', MF_STREAM_VERSION, 0, 0, 0};
	strbuf_append(&w->buf, header, sizeof header);
}

int stream_writer_flush(struct stream_writer *w)
{
	size_t off = 0;
	while (off < w->buf.len && !w->error) {
		ssize_t n = write(w->fd, w->buf.data + off, w->buf.len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			w->error = errno;
			break;
		}
		off += (size_t)n;
	}
	w->buf.len = 0;
	return w->error ? -1 : 0;
}

int stream_write_record(struct stream_writer *w, const struct mf_record *rec)
{
	size_t before = w->buf.len;
	stream_encode_record(&w->buf, rec);
	/* A frame no decoder would accept would break the whole stream: the
	 * record alone is refused (EFBIG), the stream goes on. */
	if (w->buf.len - before - 5 > MAX_FRAME) {
		w->buf.len = before;
		w->buf.data[before] = '\0';
		errno = EFBIG;
		return -1;
	}
	w->records++;
	/* Flush in chunks: the parent drains the pipe while we produce. */
	if (w->buf.len >= 64 * 1024)
		return stream_writer_flush(w);
	return w->error ? -1 : 0;
}

static int write_end(struct stream_writer *w, enum source_status status, const char *fetched_at,
		     const char *message, bool named, const char *records_name, bool pending,
		     uint32_t pending_records)
{
	put_u8(&w->buf, FRAME_END);
	size_t len_at = w->buf.len;
	put_u32(&w->buf, 0);
	size_t start = w->buf.len;
	put_u8(&w->buf, (uint8_t)status);
	put_u32(&w->buf, w->records);
	put_str(&w->buf, fetched_at);
	put_str(&w->buf, message);
	if (named) {
		put_str(&w->buf, records_name);
		put_u8(&w->buf, pending ? STREAM_END_PENDING : 0);
		put_u32(&w->buf, pending ? pending_records : 0);
	}
	patch_u32(&w->buf, len_at, (uint32_t)(w->buf.len - start));
	return stream_writer_flush(w);
}

int stream_write_end(struct stream_writer *w, enum source_status status, const char *fetched_at,
		     const char *message)
{
	return write_end(w, status, fetched_at, message, false, NULL, false, 0);
}

int stream_write_end_named(struct stream_writer *w, enum source_status status,
			   const char *fetched_at, const char *message, const char *records_name,
			   bool pending, uint32_t pending_records)
{
	return write_end(w, status, fetched_at, message, true, records_name, pending,
			 pending_records);
}

void stream_writer_free(struct stream_writer *w)
{
	strbuf_free(&w->buf);
}

/* ------------------------------------------------------------ decoding */

struct cursor {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static bool take(struct cursor *c, void *dst, size_t n)
{
	if (c->bad || c->left < n) {
		c->bad = true;
		return false;
	}
	memcpy(dst, c->p, n);
	c->p += n;
	c->left -= n;
	return true;
}

static uint8_t get_u8(struct cursor *c)
{
	uint8_t v = 0;
	take(c, &v, 1);
	return v;
}

static uint16_t get_u16(struct cursor *c)
{
	uint8_t x[2] = {0, 0};
	take(c, x, 2);
	return (uint16_t)(x[0] | x[1] << 8);
}

static uint32_t get_u32(struct cursor *c)
{
	uint8_t x[4] = {0, 0, 0, 0};
	take(c, x, 4);
	return (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24;
}

static uint64_t get_u64(struct cursor *c)
{
	uint64_t lo = get_u32(c);
	uint64_t hi = get_u32(c);
	return lo | hi << 32;
}

static double get_f64(struct cursor *c)
{
	uint64_t v = get_u64(c);
	double d;
	memcpy(&d, &v, sizeof d);
	return d;
}

/* A string of the stream; NULL (and c->bad) when it runs past the frame or
 * holds a NUL byte, which no field may contain. */
static char *get_str(struct cursor *c)
{
	uint32_t n = get_u32(c);
	if (c->bad || n > c->left || memchr(c->p, '\0', n)) {
		c->bad = true;
		return NULL;
	}
	char *s = xstrndup((const char *)c->p, n);
	c->p += n;
	c->left -= n;
	return s;
}

/* A string of the stream in place; false (and c->bad) as for get_str. */
static bool get_view(struct cursor *c, const char **s, size_t *len)
{
	uint32_t n = get_u32(c);
	if (c->bad || n > c->left || memchr(c->p, '\0', n)) {
		c->bad = true;
		return false;
	}
	*s = (const char *)c->p;
	*len = n;
	c->p += n;
	c->left -= n;
	return true;
}

/* The sizes a record frame needs, from a walk over a copy of the cursor;
 * false when the frame is malformed or its fields are not in increasing
 * order (what the encoder writes): the general decoder then decides. */
static bool measure_record(struct cursor c, size_t *n_fields, size_t *n_items, size_t *n_entries)
{
	const char *s;
	size_t len;
	get_u8(&c);
	get_view(&c, &s, &len);
	uint16_t nfields = get_u16(&c);
	*n_fields = nfields;
	*n_items = *n_entries = 0;
	int last = 0;
	for (uint16_t i = 0; i < nfields && !c.bad; i++) {
		uint16_t f = get_u16(&c);
		uint8_t type = get_u8(&c);
		if (c.bad || !field_valid(f) || field_info((enum mf_field)f)->type != type ||
		    f <= last)
			return false;
		last = f;
		switch ((enum mf_field_type)type) {
		case MF_TYPE_STRING:
			get_view(&c, &s, &len);
			break;
		case MF_TYPE_INT:
		case MF_TYPE_REAL:
			get_u64(&c);
			break;
		case MF_TYPE_BOOL:
			get_u8(&c);
			break;
		case MF_TYPE_LIST: {
			uint32_t n = get_u32(&c);
			for (uint32_t k = 0; k < n && !c.bad; k++)
				get_view(&c, &s, &len);
			*n_items += n;
			break;
		}
		case MF_TYPE_MAP: {
			uint32_t n = get_u32(&c);
			for (uint32_t k = 0; k < n && !c.bad; k++) {
				get_view(&c, &s, &len);
				get_u64(&c);
			}
			*n_entries += n;
			break;
		}
		}
	}
	return !c.bad && c.left == 0;
}

/* The record of a measured frame, built in place in its one allocation;
 * NULL when a value breaks the setters' rules. */
static struct mf_record *build_record(struct cursor *c, size_t n_fields, size_t n_items,
				      size_t n_entries)
{
	uint8_t kind = get_u8(c);
	const char *s;
	size_t len;
	get_view(c, &s, &len);
	if (kind != MF_RECORD_MODEL && kind != MF_RECORD_OFFERING)
		return NULL;
	struct record_build b;
	record_build_begin(&b, (enum mf_record_kind)kind, s, len, n_fields, n_items, n_entries);
	uint16_t nfields = get_u16(c);
	bool ok = true;
	for (uint16_t i = 0; i < nfields && ok; i++) {
		enum mf_field field = (enum mf_field)get_u16(c);
		switch ((enum mf_field_type)get_u8(c)) {
		case MF_TYPE_STRING:
			ok = get_view(c, &s, &len) && record_build_string(&b, field, s, len);
			break;
		case MF_TYPE_INT:
			ok = record_build_int(&b, field, (int64_t)get_u64(c));
			break;
		case MF_TYPE_BOOL:
			ok = record_build_bool(&b, field, get_u8(c) != 0);
			break;
		case MF_TYPE_REAL:
			ok = record_build_real(&b, field, get_f64(c));
			break;
		case MF_TYPE_LIST: {
			uint32_t n = get_u32(c);
			ok = record_build_list(&b, field, n);
			for (uint32_t k = 0; k < n && ok; k++)
				ok = get_view(c, &s, &len) && record_build_item(&b, s, len);
			break;
		}
		case MF_TYPE_MAP: {
			uint32_t n = get_u32(c);
			ok = record_build_map(&b, field, n);
			for (uint32_t k = 0; k < n && ok; k++) {
				ok = get_view(c, &s, &len);
				double v = get_f64(c);
				ok = ok && record_build_entry(&b, s, len, v);
			}
			break;
		}
		default:
			ok = false;
			break;
		}
	}
	struct mf_record *rec = record_build_end(&b);
	if (!ok || c->bad || c->left != 0) {
		record_free(rec);
		return NULL;
	}
	return rec;
}

/* Records decoded one setter at a time: any frame the measure refused or
 * the builder could not take (fields out of order or repeated, values the
 * setters refuse). */
static struct mf_record *decode_record_slow(struct cursor *c)
{
	uint8_t kind = get_u8(c);
	char *id = get_str(c);
	if (c->bad || (kind != MF_RECORD_MODEL && kind != MF_RECORD_OFFERING)) {
		free(id);
		c->bad = true;
		return NULL;
	}
	struct mf_record *rec = record_new((enum mf_record_kind)kind, id);
	free(id);
	uint16_t nfields = get_u16(c);
	record_reserve(rec, nfields);
	for (uint16_t i = 0; i < nfields && !c->bad; i++) {
		uint16_t f = get_u16(c);
		uint8_t type = get_u8(c);
		if (c->bad || !field_valid(f) || field_info((enum mf_field)f)->type != type) {
			c->bad = true;
			break;
		}
		enum mf_field field = (enum mf_field)f;
		switch ((enum mf_field_type)type) {
		case MF_TYPE_STRING: {
			char *s = get_str(c);
			if (s)
				record_set_string(rec, field, s);
			free(s);
			break;
		}
		case MF_TYPE_INT:
			record_set_int(rec, field, (int64_t)get_u64(c));
			break;
		case MF_TYPE_BOOL:
			record_set_bool(rec, field, get_u8(c) != 0);
			break;
		case MF_TYPE_REAL:
			if (record_set_real(rec, field, get_f64(c)) != MF_OK)
				c->bad = true;
			break;
		case MF_TYPE_LIST: {
			uint32_t n = get_u32(c);
			record_mark_known(rec, field);
			for (uint32_t k = 0; k < n && !c->bad; k++) {
				char *s = get_str(c);
				if (s)
					record_list_add(rec, field, s);
				free(s);
			}
			break;
		}
		case MF_TYPE_MAP: {
			uint32_t n = get_u32(c);
			record_mark_known(rec, field);
			for (uint32_t k = 0; k < n && !c->bad; k++) {
				char *key = get_str(c);
				double v = get_f64(c);
				if (key && record_map_set(rec, field, key, v) != MF_OK)
					c->bad = true;
				free(key);
			}
			break;
		}
		}
	}
	if (c->bad || c->left != 0) {
		record_free(rec);
		c->bad = true;
		return NULL;
	}
	/* Decoded records are mostly read from here on: one exact
	 * allocation each. */
	struct mf_record *packed = record_pack(rec);
	record_free(rec);
	return packed;
}

/* A record frame: built in one allocation when it is as the encoder
 * writes it, else decoded field by field. */
static struct mf_record *decode_record(struct cursor *c)
{
	struct cursor start = *c;
	size_t n_fields, n_items, n_entries;
	if (measure_record(*c, &n_fields, &n_items, &n_entries)) {
		struct mf_record *rec = build_record(c, n_fields, n_items, n_entries);
		if (rec)
			return rec;
		*c = start;
	}
	return decode_record_slow(c);
}

/* The end frame's payload; false when it is malformed. */
static bool decode_end(struct cursor *c, struct stream_end *end)
{
	uint8_t st = get_u8(c);
	end->records = get_u32(c);
	end->fetched_at = get_str(c);
	end->message = get_str(c);
	uint8_t flags = 0;
	if (!c->bad && c->left > 0) {
		end->records_name = get_str(c);
		flags = get_u8(c);
		end->pending_records = get_u32(c);
		end->pending = (flags & STREAM_END_PENDING) != 0;
	}
	if (c->bad || c->left != 0 || st > SOURCE_DISABLED || (flags & ~STREAM_END_PENDING) != 0 ||
	    (end->pending && (!end->records_name || !*end->records_name)))
		return false;
	end->status = (enum source_status)st;
	return true;
}

void stream_decoder_init(struct stream_decoder *d)
{
	*d = (struct stream_decoder){0};
}

void stream_decoder_free(struct stream_decoder *d)
{
	record_array_free(&d->records);
	stream_end_free(&d->end);
	stream_decoder_init(d);
}

size_t stream_decoder_feed(struct stream_decoder *d, const void *data, size_t len)
{
	const uint8_t *p = data;
	if (d->error[0]) {
		d->offset += len;
		return len;
	}
	size_t off = 0;
	if (!d->header_ok) {
		if (len < HEADER_LEN)
			return 0;
		if (memcmp(p, "MFRS", 4) != 0) {
			snprintf(d->error, sizeof d->error,
				 "not a record stream (%zu bytes, no MFRS header)",
				 d->offset + len);
			goto broken;
		}
		if (p[4] != MF_STREAM_VERSION) {
			snprintf(d->error, sizeof d->error, "record stream version %u, expected %u",
				 p[4], MF_STREAM_VERSION);
			goto broken;
		}
		d->header_ok = true;
		off = HEADER_LEN;
	}
	while (off < len) {
		size_t at = d->offset + off; /* where the frame starts in the stream */
		if (d->ended) {
			snprintf(d->error, sizeof d->error, "data after the end frame at byte %zu",
				 at);
			goto broken;
		}
		if (len - off < 5)
			break;
		uint8_t type = p[off];
		uint32_t flen = (uint32_t)p[off + 1] | (uint32_t)p[off + 2] << 8 |
				(uint32_t)p[off + 3] << 16 | (uint32_t)p[off + 4] << 24;
		if (flen > MAX_FRAME) {
			snprintf(d->error, sizeof d->error,
				 "truncated frame at byte %zu (claims %u bytes)", at, flen);
			goto broken;
		}
		if (flen > len - off - 5)
			break; /* the rest of the frame is still to come */
		struct cursor c = {.p = p + off + 5, .left = flen, .bad = false};
		if (type == FRAME_RECORD) {
			struct mf_record *rec = decode_record(&c);
			if (!rec) {
				snprintf(d->error, sizeof d->error,
					 "malformed record frame at byte %zu", at);
				goto broken;
			}
			record_array_push(&d->records, rec);
		} else if (type == FRAME_END) {
			if (!decode_end(&c, &d->end)) {
				snprintf(d->error, sizeof d->error,
					 "malformed end frame at byte %zu", at);
				goto broken;
			}
			d->ended = true;
		} else {
			snprintf(d->error, sizeof d->error, "unknown frame type 0x%02x at byte %zu",
				 type, at);
			goto broken;
		}
		off += 5 + flen;
	}
	d->offset += off;
	return off;
broken:
	/* Nothing of a broken stream is used: free what it gave early. */
	record_array_free(&d->records);
	stream_end_free(&d->end);
	d->offset += len;
	return len;
}

/* Empty strings in the end frame mean "none". */
static void end_strings(struct stream_end *end)
{
	char **strings[] = {&end->fetched_at, &end->message, &end->records_name};
	for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
		if (*strings[i] && !**strings[i]) {
			free(*strings[i]);
			*strings[i] = NULL;
		}
	}
}

int stream_decoder_finish(struct stream_decoder *d, const void *rest, size_t rest_len,
			  struct record_array *out, struct stream_end *end, char *err,
			  size_t errlen)
{
	memset(end, 0, sizeof *end);
	const uint8_t *p = rest;
	if (d->error[0]) {
		snprintf(err, errlen, "%s", d->error);
	} else if (!d->header_ok) {
		snprintf(err, errlen, "not a record stream (%zu bytes, no MFRS header)",
			 d->offset + rest_len);
	} else if (rest_len > 0 && d->ended) {
		snprintf(err, errlen, "data after the end frame at byte %zu", d->offset);
	} else if (rest_len > 0 && rest_len < 5) {
		snprintf(err, errlen, "truncated frame header at byte %zu", d->offset);
	} else if (rest_len > 0) {
		uint32_t flen = (uint32_t)p[1] | (uint32_t)p[2] << 8 | (uint32_t)p[3] << 16 |
				(uint32_t)p[4] << 24;
		snprintf(err, errlen, "truncated frame at byte %zu (claims %u bytes)", d->offset,
			 flen);
	} else if (!d->ended) {
		snprintf(err, errlen, "stream ended without an end frame after %zu records",
			 d->records.count);
	} else if (d->end.records != d->records.count) {
		snprintf(err, errlen, "end frame counts %u records but the stream holds %zu",
			 d->end.records, d->records.count);
	} else {
		end_strings(&d->end);
		*end = d->end;
		d->end = (struct stream_end){0};
		if (out->count == 0 && !out->items) {
			*out = d->records;
		} else {
			for (size_t i = 0; i < d->records.count; i++)
				record_array_push(out, d->records.items[i]);
			free(d->records.items);
		}
		d->records = (struct record_array){0};
		stream_decoder_free(d);
		return 0;
	}
	stream_decoder_free(d);
	return -1;
}

int stream_decode(const void *data, size_t len, struct record_array *out, struct stream_end *end,
		  char *err, size_t errlen)
{
	struct stream_decoder d;
	stream_decoder_init(&d);
	size_t used = stream_decoder_feed(&d, data, len);
	return stream_decoder_finish(&d, (const uint8_t *)data + used, len - used, out, end, err,
				     errlen);
}

void stream_end_free(struct stream_end *end)
{
	free(end->fetched_at);
	free(end->message);
	free(end->records_name);
	end->fetched_at = NULL;
	end->message = NULL;
	end->records_name = NULL;
}
