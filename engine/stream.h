/* The framed record stream: how a source's child process hands records to
 * the parent, and the format of the record stream kept in the cache.
 *
 * Layout (all integers little-endian):
 *   header   "MFRS" u8 version u8[3] zero
 *   frame    u8 type, u32 payload length, payload
 *   'R'      record: u8 kind, str native_id, u16 field count, then per field
 *            u16 field, u8 type, value
 *              string: str            int: i64      bool: u8
 *              real:   f64 (IEEE)     list: u32 n, n x str
 *              map:    u32 n, n x (str key, f64 value)
 *   'E'      end: u8 source status, u32 record count, str fetched_at,
 *            str message [, str records_name, u8 flags, u32 pending]
 *            — always the last frame of a complete stream. The bracketed
 *            part is optional (streams kept in older caches lack it):
 *            records_name is the cache's content name of the record stream
 *            the source's records are ("" when they are not a kept stream);
 *            flags bit 0 (STREAM_END_PENDING) says those `pending` records
 *            were not sent because the parent said it already knows that
 *            stream (reuse.h), so the record count is 0
 *   str      u32 length, bytes (no terminator)
 * A stream that ends without an 'E' frame, or whose record count does not
 * match, is broken: the source's records are not used. */
#ifndef MF_STREAM_H
#define MF_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "record.h"
#include "util.h"

#define MF_STREAM_VERSION 1
/* Bytes of the header, and the largest payload one frame may claim: a length
 * word from a garbage stream must not make a reader trust gigabytes. */
#define MF_STREAM_HEADER_LEN 8
#define MF_STREAM_MAX_FRAME (64u * 1024 * 1024)
#define STREAM_END_PENDING 0x01

/* Status of a source run (SPEC §9). Numbers are part of the stream format. */
enum source_status {
	SOURCE_FRESH = 0,
	SOURCE_CACHED = 1,
	SOURCE_STALE = 2,
	SOURCE_FAILED = 3,
	SOURCE_DISABLED = 4,
};
const char *source_status_name(enum source_status st);

/* Encoder over a file descriptor (pipe or file), buffered. */
struct stream_writer {
	int fd;
	struct strbuf buf;
	uint32_t records;
	int error; /* errno of the first failed write, sticky */
};
void stream_writer_init(struct stream_writer *w, int fd); /* writes the header */
/* Returns 0, or -1 when a write failed (w->error set) or when the record's
 * frame would be larger than MF_STREAM_MAX_FRAME (errno EFBIG, w->error
 * untouched: that record is left out, the stream stays whole). */
int stream_write_record(struct stream_writer *w, const struct mf_record *rec);
int stream_write_end(struct stream_writer *w, enum source_status status, const char *fetched_at,
		     const char *message);
/* The end frame with the optional part: records_name (may be NULL) and,
 * when pending, the count of the records not sent. */
int stream_write_end_named(struct stream_writer *w, enum source_status status,
			   const char *fetched_at, const char *message, const char *records_name,
			   bool pending, uint32_t pending_records);
int stream_writer_flush(struct stream_writer *w);
void stream_writer_free(struct stream_writer *w);

/* Encode one record into buf (used by the writer and by tests). */
void stream_encode_record(struct strbuf *buf, const struct mf_record *rec);

/* The end frame, decoded. */
struct stream_end {
	enum source_status status;
	uint32_t records;
	char *fetched_at;
	char *message;
	char *records_name; /* NULL: none */
	bool pending;	    /* records_name's records were not sent */
	uint32_t pending_records;
};

/* Decode a complete stream held in memory. Records are appended to out.
 * Returns 0 when the stream is complete and consistent; otherwise -1 with a
 * reason in err ("truncated record frame at byte 1234", "no end frame", ...)
 * and out left with nothing added. */
int stream_decode(const void *data, size_t len, struct record_array *out, struct stream_end *end,
		  char *err, size_t errlen);
void stream_end_free(struct stream_end *end);

/* Incremental decoding, for a stream that arrives in pieces (a child's
 * pipe): each whole frame is decoded as soon as it is there, so the caller
 * holds at most one unfinished frame of bytes, never the whole stream.
 * The checks and messages are those of stream_decode, which is this on a
 * complete buffer. */
struct stream_decoder {
	size_t offset;		     /* bytes of the stream taken so far */
	bool header_ok;		     /* the 8 header bytes were taken */
	bool ended;		     /* the end frame was taken */
	struct record_array records; /* decoded so far */
	struct stream_end end;
	char error[200]; /* why the stream is broken; "" while it may be whole */
};
void stream_decoder_init(struct stream_decoder *d);
/* Take the whole frames at the start of data[0..len) and return how many
 * bytes that was: the caller keeps the rest (an unfinished frame) and
 * passes it again with what follows. Once the stream is known to be
 * broken, everything is taken and dropped (finish reports why). */
size_t stream_decoder_feed(struct stream_decoder *d, const void *data, size_t len);
/* The stream ended; rest[0..rest_len) are the bytes feed left. Returns 0
 * with the records appended to out and the end frame in end, or -1 with
 * the reason in err and nothing added to out. d is empty afterwards
 * (stream_decoder_free is still allowed). */
int stream_decoder_finish(struct stream_decoder *d, const void *rest, size_t rest_len,
			  struct record_array *out, struct stream_end *end, char *err,
			  size_t errlen);
void stream_decoder_free(struct stream_decoder *d);

#endif
