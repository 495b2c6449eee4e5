/* The per-instance cache (SPEC §9): the last good payload of a source, its
 * manifest and the record stream made from it, under cache_dir/INSTANCE/.
 *
 * Layout of an instance folder:
 *   manifest.json          what the last good payload is (see struct cache_manifest)
 *   page-SHA256            each page's bytes, named by their own sha256
 *   records-SHA256.mfrs    the record stream (stream.h format) made from them
 *   tmp-PID/               a payload being fetched (removed when done)
 *   refresh/               the folder a refresh_command writes into ({dir})
 *
 * Write protocol: a new payload's files are written and fsynced in tmp-PID,
 * renamed into the folder under their content names (which never replace a
 * file with other content), the folder is fsynced, then the manifest is
 * replaced atomically (temporary file, fsync, rename) and only then are the
 * files no manifest refers to removed. A process killed at any moment
 * leaves either the old or the new manifest, with every file it names
 * complete. A payload that failed to normalize is never committed. */
#ifndef MF_CACHE_H
#define MF_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <modelfuse/plugin.h>
#include "config.h"
#include "fetch.h"
#include "record.h"
#include "stream.h"

/* 2: the payload sha256 is made from the pages' own hashes and sizes. A
 * version 1 cache is still read: usable as last good data, but not
 * reusable (its sha256 means something else), so it is normalized once. */
#define CACHE_MANIFEST_VERSION 2
#define CACHE_MANIFEST_OLDEST 1

/* SHA-256, for payloads and content names. */
struct sha256 {
	uint32_t h[8];
	uint64_t bytes;
	uint8_t block[64];
	size_t used;
};
void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
/* Lowercase hex digest into hex (65 bytes with the terminator). */
void sha256_final_hex(struct sha256 *s, char hex[65]);
/* Use the CPU's SHA instructions (x86 SHA-NI) when want and the CPU has
 * them, else the portable code; returns whether they are in use. The first
 * sha256_init picks them by itself; the tests call this to check both. */
bool sha256_use_accel(bool want);

struct cache_page {
	char *file; /* name inside the instance (or build) folder */
	char *url;  /* the URL finally fetched, without credentials */
	long status;
	uint64_t size;
	struct http_header *headers; /* response headers but Set-Cookie */
	size_t n_headers;
};

struct cache_manifest {
	char *url;	     /* the source's configured URL, without credentials */
	char *fetched_at;    /* ISO 8601 UTC: when the payload was fetched or last renewed */
	char *etag;	     /* of the first page; NULL: none */
	char *last_modified; /* of the first page; NULL: none */
	char *sha256;	     /* of the payload: every page's sha256 with its length */
	uint64_t size;	     /* payload bytes */
	struct cache_page *pages;
	size_t n_pages;
	uint64_t records; /* records in the stream */
	char *records_file;
	char *plugin;
	char *plugin_version;
	int stream_format;  /* MF_STREAM_VERSION of the records file */
	char *options_hash; /* cache_options_hash of the source when fetched */
	int version;	    /* manifest_version it was read with */
};
void cache_manifest_free(struct cache_manifest *m);

struct cache {
	char *dir;  /* cache_dir/INSTANCE; NULL when the run keeps no cache */
	bool valid; /* m describes a complete last good payload */
	struct cache_manifest m;
};

/* Read an instance's cache. cache_dir NULL: no cache. A missing folder or
 * manifest is an empty cache; a broken one is treated as empty and *why
 * says what is wrong (else *why is ""). Never creates anything. */
void cache_open(struct cache *c, const char *cache_dir, const char *instance, char *why,
		size_t whylen);
void cache_close(struct cache *c);

/* dir/file. Caller frees. */
char *cache_file_path(const struct cache *c, const char *file);

/* Hash of the source's non-secret plugin options (sorted by key), so that a
 * change of options is noticed. Caller frees (64 hex digits). */
char *cache_options_hash(const struct source_config *src, const struct mf_plugin *plugin);

/* The last good data of this source as configured now: the same plugin,
 * stream format and URL. Usable when a refresh fails. */
bool cache_usable(const struct cache *c, const char *url, const struct mf_plugin *plugin);
/* Its records are exactly what this plugin version with these options
 * would make of its payload: TTL, 304 and normalize-once apply. */
bool cache_reusable(const struct cache *c, const char *url, const struct mf_plugin *plugin,
		    const char *options_hash);
/* Seconds since fetched_at; negative when unknown or in the future. */
double cache_age_seconds(const struct cache *c);

/* Copy the record frames of a stored stream into w (its record count
 * follows), checking the stream's structure first so that nothing is sent
 * from a damaged file. expect: the count the manifest gives. */
int cache_send_records(const char *stream_path, struct stream_writer *w, uint64_t expect, char *err,
		       size_t errlen);
/* Decode the cached records into out (the parent's fallback). */
int cache_load_records(const struct cache *c, struct record_array *out, char *err, size_t errlen);

/* Rewrite the manifest with a new fetched_at and validators (a 304, or an
 * unchanged payload). NULL validators keep the old ones. */
int cache_renew(struct cache *c, const char *fetched_at, const char *etag,
		const char *last_modified, char *err, size_t errlen);

/* A new payload being built in a temporary folder: inside the instance
 * folder (so it can be renamed in), or under $TMPDIR for a dry run or a run
 * without cache. */
struct cache_build {
	char *dir;
	bool in_cache;
	struct sha256 sum;
	uint64_t size;
	struct cache_page *pages; /* file names relative to dir until committed */
	char (*page_sha)[65];	  /* each page's own sha256: its content name */
	size_t n_pages;
	char sha256[65];   /* set by cache_build_seal */
	char *stream_path; /* set by cache_build_open_stream */
};
int cache_build_begin(struct cache_build *b, const struct cache *c, bool dry_run, char *err,
		      size_t errlen);
/* Write one fetched page to disk and into the payload hash. */
int cache_build_add_page(struct cache_build *b, const struct fetched_page *p, char *err,
			 size_t errlen);
void cache_build_seal(struct cache_build *b);
/* Read page i back for normalize. */
int cache_build_read_page(const struct cache_build *b, size_t i, struct fetched_page *out,
			  char *err, size_t errlen);
/* Read page i of the last good payload, with its stored headers. */
int cache_read_page(const struct cache *c, size_t i, struct fetched_page *out, char *err,
		    size_t errlen);
/* The ETag stored for page i of the last good payload when that page came
 * from url; NULL otherwise. Borrowed from c. */
const char *cache_page_etag(const struct cache *c, size_t i, const char *url);
/* Add the first n pages of the last good payload to the build, as if they
 * had been fetched again (pages a validation found unchanged). */
int cache_build_add_cached(struct cache_build *b, const struct cache *c, size_t n, char *err,
			   size_t errlen);
/* Create the file the new record stream goes to; returns its fd or -1. */
int cache_build_open_stream(struct cache_build *b, char *err, size_t errlen);

/* What the manifest says beyond the payload itself. */
struct cache_meta {
	const char *url;
	const char *fetched_at;
	const char *etag;
	const char *last_modified;
	uint64_t records;
	const char *plugin;
	const char *plugin_version;
	const char *options_hash;
};

/* Commit the build as the new last good payload (the write protocol on
 * top), in its three steps; cache_build_commit runs them all. After it, c
 * describes the new payload. The steps are separate for the tests of the
 * protocol, which stop between them as a killed process would. */
int cache_build_commit(struct cache *c, struct cache_build *b, const struct cache_meta *meta,
		       char *err, size_t errlen);
int cache_commit_files(struct cache *c, struct cache_build *b, char *err, size_t errlen);
int cache_commit_manifest(struct cache *c, struct cache_build *b, const struct cache_meta *meta,
			  char *err, size_t errlen);
/* Remove every page, records file, temporary manifest and tmp-* folder the
 * manifest does not name (leftovers of killed runs included). */
void cache_cleanup(const struct cache *c);

/* Remove what the build of a killed process left: INSTANCE/tmp-PID. */
void cache_remove_build(const char *cache_dir, const char *instance, long pid);

/* Remove the temporary folder and free. */
void cache_build_free(struct cache_build *b);

#endif
