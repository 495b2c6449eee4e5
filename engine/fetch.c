#include "mf_build_config.h"
#include "fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* ------------------------------------------------------------- requests */

void request_init(struct mf_request *req)
{
	*req = (struct mf_request){0};
}

void request_clear(struct mf_request *req)
{
	free(req->url);
	for (size_t i = 0; i < req->n_headers; i++) {
		free(req->headers[i].name);
		free(req->headers[i].value);
	}
	free(req->headers);
	request_init(req);
}

int request_set_url(struct mf_request *req, const char *url)
{
	if (!req || !url || !*url)
		return MF_EINVAL;
	free(req->url);
	req->url = xstrdup(url);
	return MF_OK;
}

/* A header name is an HTTP token; anything else (':' or line breaks) would
 * let a plugin smuggle a second header line into the request. */
static bool header_name_ok(const char *name)
{
	if (!*name)
		return false;
	for (const char *c = name; *c; c++)
		if (*c <= ' ' || *c >= 127 || strchr("()<>@,;:\\\"/[]?={}", *c))
			return false;
	return true;
}

static bool header_value_ok(const char *value)
{
	return strpbrk(value, "\r\n") == NULL;
}

int request_add_header(struct mf_request *req, const char *name, const char *value, bool is_auth)
{
	if (!req || !name || !value || !header_name_ok(name) || !header_value_ok(value))
		return MF_EINVAL;
	req->headers = xrealloc(req->headers, (req->n_headers + 1) * sizeof *req->headers);
	req->headers[req->n_headers++] = (struct http_header){
		.name = xstrdup(name),
		.value = xstrdup(value),
		.is_auth = is_auth,
	};
	return MF_OK;
}

/* ------------------------------------------------------------- URLs */

void fetch_global_init(void)
{
	static bool done;
	if (done)
		return;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	done = true;
}

enum url_scheme {
	SCHEME_BAD,
	SCHEME_OTHER,
	SCHEME_HTTP,
	SCHEME_HTTPS,
	SCHEME_FILE,
};

static CURLU *parse_url(const char *url)
{
	CURLU *u = curl_url();
	if (!u)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
		curl_url_cleanup(u);
		return NULL;
	}
	return u;
}

static enum url_scheme url_scheme(const char *url)
{
	CURLU *u = parse_url(url);
	if (!u)
		return SCHEME_BAD;
	char *scheme = NULL;
	enum url_scheme s = SCHEME_BAD;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK) {
		if (strcasecmp(scheme, "http") == 0)
			s = SCHEME_HTTP;
		else if (strcasecmp(scheme, "https") == 0)
			s = SCHEME_HTTPS;
		else if (strcasecmp(scheme, "file") == 0)
			s = SCHEME_FILE;
		else
			s = SCHEME_OTHER;
	}
	curl_free(scheme);
	curl_url_cleanup(u);
	return s;
}

char *url_origin(const char *url)
{
	if (!url)
		return NULL;
	CURLU *u = parse_url(url);
	if (!u)
		return NULL;
	char *scheme = NULL, *host = NULL, *port = NULL, *origin = NULL;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    strcasecmp(scheme, "file") == 0 ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host)
		goto out;
	/* A default port is left out so that "https://h" and "https://h:443"
	 * are one origin. */
	if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_NO_DEFAULT_PORT) != CURLUE_OK)
		port = NULL;
	char *joined = port ? xasprintf("%s://%s:%s", scheme, host, port)
			    : xasprintf("%s://%s", scheme, host);
	origin = str_lower(joined);
	free(joined);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return origin;
}

/* The URL as it may appear in a message: user and password removed, in
 * case an admin put credentials there despite the documentation. */
static char *url_for_message(const char *url)
{
	CURLU *u = parse_url(url);
	if (!u)
		return xstrdup(url);
	char *user = NULL, *password = NULL, *clean = NULL;
	bool has_user = curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK;
	bool has_password = curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK;
	curl_free(user);
	curl_free(password);
	char *shown = NULL;
	if ((has_user || has_password) && curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &clean, 0) == CURLUE_OK)
		shown = xstrdup(clean);
	curl_free(clean);
	curl_url_cleanup(u);
	return shown ? shown : xstrdup(url);
}

char *url_redacted(const char *url)
{
	return url_for_message(url);
}

/* The local path of a file: URL, percent-decoded; NULL when unparsable. */
static char *file_url_path(const char *url)
{
	CURLU *u = parse_url(url);
	if (!u)
		return NULL;
	char *path = NULL, *copy = NULL;
	if (curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) == CURLUE_OK)
		copy = xstrdup(path);
	curl_free(path);
	curl_url_cleanup(u);
	return copy;
}

/* ------------------------------------------------------------- transfers */

/* State of one transfer (one hop of a redirect chain). */
struct transfer {
	int64_t limit; /* body bytes allowed; <= 0: no limit */
	struct strbuf body;
	struct http_header *headers;
	size_t n_headers;
	bool too_large;
	char errbuf[CURL_ERROR_SIZE];
};

static void free_headers(struct http_header *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

static void transfer_reset(struct transfer *t)
{
	strbuf_free(&t->body);
	free_headers(t->headers, t->n_headers);
	t->headers = NULL;
	t->n_headers = 0;
	t->too_large = false;
	t->errbuf[0] = '\0';
}

/* The body limit is enforced here, while receiving, because
 * CURLOPT_MAXFILESIZE neither stops a transfer under way nor applies to
 * file: URLs. Returning less than given makes libcurl abort the transfer. */
static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	size_t n = size * nmemb;
	if (t->limit > 0 && (uint64_t)t->body.len + n > (uint64_t)t->limit) {
		t->too_large = true;
		return 0;
	}
	strbuf_append(&t->body, ptr, n);
	return n;
}

static void trim_span(const char **start, const char **end)
{
	while (*start < *end && (**start == ' ' || **start == '\t'))
		(*start)++;
	while (*end > *start && strchr(" \t\r\n", (*end)[-1]))
		(*end)--;
}

/* libcurl hands every response header line here, status lines included. */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	size_t n = size * nmemb;
	const char *line = ptr, *end = ptr + n;
	if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
		/* A new response (after 100 Continue, say): its headers replace
		 * those of the interim one. */
		free_headers(t->headers, t->n_headers);
		t->headers = NULL;
		t->n_headers = 0;
		return n;
	}
	if (t->n_headers && (*line == ' ' || *line == '\t')) {
		/* Obsolete line folding: continues the previous value. */
		const char *s = line, *e = end;
		trim_span(&s, &e);
		struct http_header *last = &t->headers[t->n_headers - 1];
		char *joined = xasprintf("%s %.*s", last->value, (int)(e - s), s);
		free(last->value);
		last->value = joined;
		return n;
	}
	const char *colon = memchr(line, ':', n);
	if (!colon || colon == line)
		return n; /* the blank line ending the block, or junk */
	const char *vs = colon + 1, *ve = end;
	trim_span(&vs, &ve);
	t->headers = xrealloc(t->headers, (t->n_headers + 1) * sizeof *t->headers);
	t->headers[t->n_headers++] = (struct http_header){
		.name = xstrndup(line, (size_t)(colon - line)),
		.value = xstrndup(vs, (size_t)(ve - vs)),
	};
	return n;
}

static const char *page_header(const struct mf_page *page, const char *name)
{
	/* page is the first member of a struct fetched_page. */
	const struct fetched_page *p = (const struct fetched_page *)page;
	if (!name)
		return NULL;
	for (size_t i = 0; i < p->n_headers; i++)
		if (strcasecmp(p->headers[i].name, name) == 0)
			return p->headers[i].value;
	return NULL;
}

static long clamp_long(int64_t v)
{
	if (v <= 0)
		return 0;
	return v > (int64_t)LONG_MAX ? LONG_MAX : (long)v;
}

/* The custom headers of req for one hop: auth headers only when the hop's
 * origin is the configured one. Returns NULL when there are none. */
static struct curl_slist *hop_headers(const struct fetch_limits *lim, const struct mf_request *req,
				      const char *url, bool *ok)
{
	char *origin = url_origin(url);
	bool send_auth = origin && lim->auth_origin && strcasecmp(origin, lim->auth_origin) == 0;
	free(origin);
	struct curl_slist *list = NULL;
	*ok = true;
	for (size_t i = 0; i < req->n_headers; i++) {
		const struct http_header *h = &req->headers[i];
		if (h->is_auth && !send_auth)
			continue;
		/* "Name;" is libcurl's spelling of a header with an empty value. */
		char *line = *h->value ? xasprintf("%s: %s", h->name, h->value)
				       : xasprintf("%s;", h->name);
		struct curl_slist *next = curl_slist_append(list, line);
		free(line);
		if (!next) {
			*ok = false;
			break;
		}
		list = next;
	}
	return list;
}

static void set_common_options(CURL *h, const struct fetch_limits *lim, struct transfer *t)
{
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,file");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS | CURLPROTO_FILE);
#endif
	/* Redirects are followed by fetch_perform itself, hop by hop, so that
	 * every hop's scheme and origin are checked before auth headers go out. */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "modelfuse/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, clamp_long(lim->connect_timeout_ms));
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, clamp_long(lim->transfer_timeout_ms));
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (lim->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, lim->ca_file);
	/* Decoded bytes count against the body limit, so compression is safe. */
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->errbuf);
}

static bool is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* Describe a failed curl_easy_perform. what is "GET URL" or "URL". */
static void describe_failure(const struct transfer *t, CURLcode rc, enum url_scheme scheme,
			     const char *url, const char *what, const struct fetch_limits *lim,
			     char *err, size_t errlen)
{
	if (t->too_large) {
		snprintf(err, errlen, "%s: body larger than %lld bytes", what,
			 (long long)lim->max_body_bytes);
		return;
	}
	if (scheme == SCHEME_FILE && rc == CURLE_FILE_COULDNT_READ_FILE) {
		/* libcurl says only "Couldn't open file": ask the system why. */
		char *path = file_url_path(url);
		int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
		int why = errno;
		free(path);
		if (fd < 0) {
			snprintf(err, errlen, "%s: %s", what, strerror(why));
			return;
		}
		close(fd);
	}
	snprintf(err, errlen, "%s: %s", what, t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
}

/* libcurl reads a directory as an empty body and would block on a FIFO:
 * only regular files are pages. Returns 0 with *st filled, or -1 with err
 * filled. */
static int check_local_file(const char *url, const char *what, struct stat *st, char *err,
			    size_t errlen)
{
	char *path = file_url_path(url);
	if (!path) {
		snprintf(err, errlen, "%s: not a valid file URL", what);
		return -1;
	}
	int rc = stat(path, st);
	int why = errno;
	free(path);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", what, strerror(why));
		return -1;
	}
	if (S_ISDIR(st->st_mode)) {
		snprintf(err, errlen, "%s: %s", what, strerror(EISDIR));
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", what);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------- file: validators */

/* A file: page has no server to ask, so its stat stands in for one: the
 * ETag names the file (device, inode) and its state (size, mtime with
 * nanoseconds), and a conditional request whose If-None-Match equals it is
 * answered 304 without reading a byte. */

/* Seconds a file's mtime must lie before the read for its stat to be
 * trusted: a write in the same timestamp tick as the one before it leaves
 * size and mtime as they were (coarse or 1-2 s granular file systems). */
#define FILE_RACY_SECONDS 2

static void file_etag(const struct stat *st, char *out, size_t len)
{
	snprintf(out, len, "\"file-%llx-%llx-%llx-%lld.%09ld\"", (unsigned long long)st->st_dev,
		 (unsigned long long)st->st_ino, (unsigned long long)st->st_size,
		 (long long)st->st_mtim.tv_sec, (long)st->st_mtim.tv_nsec);
}

/* RFC 9110 IMF-fixdate, written without the locale. */
static void http_date(time_t t, char *out, size_t len)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	if (!gmtime_r(&t, &tm) || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
	    tm.tm_mon > 11) {
		snprintf(out, len, "Thu, 01 Jan 1970 00:00:00 GMT");
		return;
	}
	snprintf(out, len, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static bool same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void add_header(struct http_header **h, size_t *n, const char *name, const char *value)
{
	*h = xrealloc(*h, (*n + 1) * sizeof **h);
	(*h)[(*n)++] = (struct http_header){.name = xstrdup(name), .value = xstrdup(value)};
}

/* The validators of a file in state st, as response headers. */
static void add_file_validators(struct transfer *t, const struct stat *st)
{
	char etag[128], date[64];
	file_etag(st, etag, sizeof etag);
	http_date(st->st_mtim.tv_sec, date, sizeof date);
	add_header(&t->headers, &t->n_headers, "ETag", etag);
	add_header(&t->headers, &t->n_headers, "Last-Modified", date);
}

static const char *request_header(const struct mf_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_headers; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

/* The file is as the request's If-None-Match says it was. */
static bool file_not_modified(const struct mf_request *req, const struct stat *st)
{
	const char *want = request_header(req, "If-None-Match");
	char etag[128];
	file_etag(st, etag, sizeof etag);
	return want && strcmp(want, etag) == 0;
}

/* After a read: validators only when the file did not change while it was
 * read and its mtime is old enough to be trusted (see FILE_RACY_SECONDS). */
static void validate_file_read(struct transfer *t, const char *url, const struct stat *before,
			       const struct timespec *started)
{
	char *path = file_url_path(url);
	struct stat after;
	bool same = path && stat(path, &after) == 0 && same_file_state(before, &after) &&
		    (uint64_t)after.st_size == (uint64_t)t->body.len;
	free(path);
	if (same && after.st_mtim.tv_sec < started->tv_sec - FILE_RACY_SECONDS)
		add_file_validators(t, &after);
}

/* Check a redirect from the hop at `from` to `to`. Returns NULL when it is
 * allowed, else why not (a static string). */
static const char *redirect_refusal(enum url_scheme from, const char *to, bool seen_https)
{
	enum url_scheme s = url_scheme(to);
	if (s == SCHEME_HTTPS)
		return NULL;
	if (s == SCHEME_HTTP)
		return (from == SCHEME_HTTPS || seen_https) ? "https to http" : NULL;
	return "not an http(s) URL";
}

/* Failures worth another attempt: the network or the server, not us. */
static bool retryable_code(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return true;
	default:
		return false;
	}
}

static bool retryable_status(long status)
{
	return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
			      .tv_nsec = (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* How long to wait before attempt number `attempt` + 1 (0 based): the
 * server's Retry-After when it gave one, else the doubling backoff; never
 * more than retry_after_max_ms. */
static int64_t retry_wait_ms(const struct fetch_limits *lim, CURL *h, long status, int attempt)
{
	int64_t cap = lim->retry_after_max_ms > 0 ? lim->retry_after_max_ms : 0;
	curl_off_t after = 0;
	if ((status == 429 || status == 503) &&
	    curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &after) == CURLE_OK && after > 0) {
		if (after > cap / 1000)
			return cap;
		return (int64_t)after * 1000;
	}
	int64_t wait = lim->backoff_ms > 0 ? lim->backoff_ms : 0;
	for (int i = 0; i < attempt && wait < cap; i++)
		wait *= 2;
	return wait < cap ? wait : cap;
}

/* One hop with its retries. Returns the last CURLcode; *status is the HTTP
 * status of the last attempt (0 when none). */
static CURLcode perform_with_retries(const struct fetch_limits *lim, CURL *h, struct transfer *t,
				     bool web, const char *what, long *status)
{
	CURLcode cc = CURLE_OK;
	for (int attempt = 0;; attempt++) {
		transfer_reset(t);
		*status = 0;
		cc = curl_easy_perform(h);
		if (web && cc == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
		bool again = web && !t->too_large &&
			     (cc != CURLE_OK ? retryable_code(cc) : retryable_status(*status));
		if (!again || attempt >= lim->retries)
			return cc;
		int64_t wait = retry_wait_ms(lim, h, *status, attempt);
		char why[64];
		if (cc != CURLE_OK)
			snprintf(why, sizeof why, "%s", curl_easy_strerror(cc));
		else
			snprintf(why, sizeof why, "HTTP %ld", *status);
		log_msg(MF_LOG_INFO, lim->log_prefix,
			"%s: %s: retrying in %.3g s (attempt %d of %d)", what, why,
			(double)wait / 1000.0, attempt + 2, lim->retries + 1);
		sleep_ms(wait);
	}
}

int fetch_perform(const struct fetch_limits *lim, const struct mf_request *req, unsigned index,
		  struct fetched_page *out, char *err, size_t errlen)
{
	*out = (struct fetched_page){0};
	if (!req || !req->url || !*req->url) {
		snprintf(err, errlen, "request without a URL");
		return -1;
	}
	fetch_global_init();

	int rc = -1;
	char *url = xstrdup(req->url);
	char *shown = url_for_message(url);
	char *what = NULL;
	struct transfer t = {.limit = lim->max_body_bytes};
	strbuf_init(&t.body);
	struct curl_slist *headers = NULL;
	bool seen_https = false;
	long status = 0;
	CURL *h = curl_easy_init();
	if (!h) {
		snprintf(err, errlen, "%s: cannot create a transfer handle", shown);
		goto out;
	}
	set_common_options(h, lim, &t);

	for (int hops = 0;; hops++) {
		enum url_scheme scheme = url_scheme(url);
		bool web = scheme == SCHEME_HTTP || scheme == SCHEME_HTTPS;
		free(what);
		what = web ? xasprintf("GET %s", shown) : xstrdup(shown);
		if (scheme == SCHEME_BAD) {
			snprintf(err, errlen, "%s: not a valid URL", what);
			goto out;
		}
		if (!web && scheme != SCHEME_FILE) {
			snprintf(err, errlen, "%s: only http, https and file URLs are fetched",
				 what);
			goto out;
		}
		if (web && lim->offline) {
			snprintf(err, errlen, "%s: offline: not fetching", what);
			goto out;
		}
		struct stat file_st;
		if (scheme == SCHEME_FILE &&
		    check_local_file(url, what, &file_st, err, errlen) != 0)
			goto out;
		if (scheme == SCHEME_FILE && file_not_modified(req, &file_st)) {
			transfer_reset(&t);
			add_file_validators(&t, &file_st);
			status = 304;
			rc = FETCH_NOT_MODIFIED;
			break;
		}
		seen_https = seen_https || scheme == SCHEME_HTTPS;
		struct timespec started;
		clock_gettime(CLOCK_REALTIME, &started);

		curl_slist_free_all(headers);
		bool headers_ok;
		headers = hop_headers(lim, req, url, &headers_ok);
		if (!headers_ok) {
			snprintf(err, errlen, "%s: out of memory building headers", what);
			goto out;
		}
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
		CURLcode cc = perform_with_retries(lim, h, &t, web, what, &status);
		if (cc != CURLE_OK) {
			describe_failure(&t, cc, scheme, url, what, lim, err, errlen);
			goto out;
		}
		if (scheme == SCHEME_FILE) {
			status = 200; /* libcurl reports 0 for file: */
			validate_file_read(&t, url, &file_st, &started);
			break;
		}
		char *location = NULL;
		if (is_redirect(status))
			curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &location);
		if (location) {
			if (hops >= lim->max_redirects) {
				snprintf(err, errlen, "%s: more than %d redirects", what,
					 lim->max_redirects);
				goto out;
			}
			const char *why = redirect_refusal(scheme, location, seen_https);
			char *next = xstrdup(location); /* owned by the handle */
			if (why) {
				char *next_shown = url_for_message(next);
				snprintf(err, errlen, "%s: redirect to %s refused: %s", what,
					 next_shown, why);
				free(next_shown);
				free(next);
				goto out;
			}
			free(url);
			url = next;
			free(shown);
			shown = url_for_message(url);
			continue;
		}
		if (status == 304) {
			rc = FETCH_NOT_MODIFIED;
			break;
		}
		if (status < 200 || status > 299) {
			snprintf(err, errlen, "%s: HTTP %ld", what, status);
			goto out;
		}
		break;
	}

	out->url = url;
	url = NULL;
	out->size = t.body.len;
	out->data = strbuf_detach(&t.body);
	out->status = status;
	out->headers = t.headers;
	out->n_headers = t.n_headers;
	t.headers = NULL;
	t.n_headers = 0;
	out->page = (struct mf_page){
		.struct_size = sizeof(struct mf_page),
		.index = index,
		.url = out->url,
		.status = status,
		.data = out->data,
		.size = out->size,
		.header = page_header,
	};
	if (rc != FETCH_NOT_MODIFIED)
		rc = 0;
out:
	if (h)
		curl_easy_cleanup(h);
	curl_slist_free_all(headers);
	transfer_reset(&t);
	free(what);
	free(shown);
	free(url);
	return rc;
}

void fetched_page_free(struct fetched_page *p)
{
	if (!p)
		return;
	free(p->url);
	free(p->data);
	free_headers(p->headers, p->n_headers);
	*p = (struct fetched_page){0};
}

void fetched_page_make(struct fetched_page *p, unsigned index, char *url, long status, char *data,
		       size_t size, struct http_header *headers, size_t n_headers)
{
	*p = (struct fetched_page){
		.url = url,
		.data = data,
		.size = size,
		.status = status,
		.headers = headers,
		.n_headers = n_headers,
	};
	p->page = (struct mf_page){
		.struct_size = sizeof(struct mf_page),
		.index = index,
		.url = url,
		.status = status,
		.data = data,
		.size = size,
		.header = page_header,
	};
}
