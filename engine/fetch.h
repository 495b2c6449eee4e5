/* The core's fetch service: performs the requests plugins plan, through
 * libcurl, for http(s) and file: URLs, with limits enforced while
 * receiving, redirects checked hop by hop and retries with backoff. The
 * cache side (TTL, conditional GET, last good data) is cache.h's and the
 * runner's. */
#ifndef MF_FETCH_H
#define MF_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <modelfuse/plugin.h>

struct http_header {
	char *name;
	char *value;
	bool is_auth; /* only ever sent to the configured origin, never logged */
};

/* The SDK's opaque request, filled by the plugin through the host table. */
struct mf_request {
	char *url;
	struct http_header *headers;
	size_t n_headers;
};
void request_init(struct mf_request *req);
void request_clear(struct mf_request *req);
int request_set_url(struct mf_request *req, const char *url);
int request_add_header(struct mf_request *req, const char *name, const char *value, bool is_auth);

struct fetch_limits {
	int64_t connect_timeout_ms;
	int64_t transfer_timeout_ms;
	int64_t max_body_bytes;
	int max_redirects;
	const char *ca_file;     /* NULL: system CAs */
	const char *auth_origin; /* scheme://host[:port] of the configured URL */
	bool offline;            /* refuse http(s) */
	/* Retries on connection errors, timeouts, 408, 429 and 5xx: up to
	 * `retries` more attempts, waiting backoff_ms, then twice as long each
	 * time, or what Retry-After asks; no wait longer than
	 * retry_after_max_ms. */
	int retries;
	int64_t backoff_ms;
	int64_t retry_after_max_ms;
	const char *log_prefix; /* the source instance, for retry messages; may be NULL */
};

/* fetch_perform's result for a 304 answer to a conditional request. */
#define FETCH_NOT_MODIFIED 1

/* A fetched page; page points into the other fields. */
struct fetched_page {
	struct mf_page page;
	char *url;
	char *data;
	size_t size;
	long status;
	struct http_header *headers; /* response headers, names as received */
	size_t n_headers;
};

/* Perform req. Returns 0 with out filled for a 2xx (or file:) response;
 * FETCH_NOT_MODIFIED with out filled (empty body, the response headers) for
 * a 304; otherwise -1 with a message in err naming the URL and what happened
 * ("GET https://…: HTTP 503", "file:///x.json: No such file or directory",
 * "…: body larger than 268435456 bytes"). Auth headers never appear in err.
 *
 * A file: page gets validators made from its stat: an ETag naming device,
 * inode, size and mtime (nanoseconds), and a Last-Modified; none when the
 * file changed while read or was modified within the last seconds (its
 * stat could then miss a write). A file: request whose If-None-Match equals
 * the file's ETag now is answered 304 without reading the file. */
int fetch_perform(const struct fetch_limits *lim, const struct mf_request *req, unsigned index,
		  struct fetched_page *out, char *err, size_t errlen);
void fetched_page_free(struct fetched_page *p);

/* Build a page from parts (a page read back from the cache). Takes
 * ownership of url, data (NUL-terminated, size bytes) and the headers. */
void fetched_page_make(struct fetched_page *p, unsigned index, char *url, long status, char *data,
		       size_t size, struct http_header *headers, size_t n_headers);

/* url without any user:password part, for messages and cache manifests.
 * Caller frees. */
char *url_redacted(const char *url);

/* "scheme://host[:port]" of url, lowercase; NULL for file: or bad URLs.
 * Caller frees. */
char *url_origin(const char *url);

/* Global libcurl set-up, once per process. */
void fetch_global_init(void);

#endif
