/* The core's fetch service: performs the requests plugins plan, through
 * libcurl, for http(s) and file: URLs, with limits enforced while
 * receiving. The HTTP/cache service (TTL, conditional GET, retries,
 * last-good cache) grows behind this interface. */
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
};

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
 * otherwise -1 with a message in err naming the URL and what happened
 * ("GET https://…: HTTP 503", "file:///x.json: No such file or directory",
 * "…: body larger than 268435456 bytes"). Auth headers never appear in err. */
int fetch_perform(const struct fetch_limits *lim, const struct mf_request *req, unsigned index,
		  struct fetched_page *out, char *err, size_t errlen);
void fetched_page_free(struct fetched_page *p);

/* "scheme://host[:port]" of url, lowercase; NULL for file: or bad URLs.
 * Caller frees. */
char *url_origin(const char *url);

/* Global libcurl set-up, once per process. */
void fetch_global_init(void);

#endif
