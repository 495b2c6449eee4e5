/* The execution model (SPEC §2) and the fetch service: paging, child
 * isolation (crash, abort, exit, hang, garbage), limits, offline mode, and
 * the HTTP side of fetch_perform against a tiny local server. */
#include "mf_build_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fetch.h"
#include "loader.h"
#include "record.h"
#include "runner.h"
#include "stream.h"
#include "testutil.h"
#include "util.h"

/* ------------------------------------------------------------- helpers */

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *fixture_path(const char *name)
{
	char *rel = xasprintf("tests/fixtures/runner/%s", name);
	char *path = tu_srcpath(rel);
	free(rel);
	return path;
}

static char *fixture_url(const char *name)
{
	char *path = fixture_path(name);
	char *url = xasprintf("file://%s", path);
	free(path);
	return url;
}

static struct fetch_limits default_limits(void)
{
	return (struct fetch_limits){
		.connect_timeout_ms = 5000,
		.transfer_timeout_ms = 10000,
		.max_body_bytes = 1 << 20,
		.max_redirects = 5,
	};
}

static int get(const struct fetch_limits *lim, const char *url, struct fetched_page *page,
	       char *err, size_t errlen)
{
	struct mf_request req;
	request_init(&req);
	CU_ASSERT_EQUAL(request_set_url(&req, url), MF_OK);
	int rc = fetch_perform(lim, &req, 0, page, err, errlen);
	request_clear(&req);
	return rc;
}

/* A run over hand-built configuration: up to MAX_SOURCES sources, each
 * backed by a fixture plugin loaded through the real loader. */
#define MAX_SOURCES 8

struct run {
	struct config cfg;
	struct source_config src[MAX_SOURCES];
	struct option_value opt[MAX_SOURCES];
	struct loaded_plugin plugins[MAX_SOURCES];
	struct source_result results[MAX_SOURCES];
	bool ran;
	double seconds;
};

static void run_init(struct run *r, int jobs)
{
	memset(r, 0, sizeof *r);
	r->cfg = (struct config){
		.jobs = jobs,
		.source_time_limit = 20,
		.connect_timeout_ms = 2000,
		.transfer_timeout_ms = 5000,
		.max_body_bytes = 1 << 20,
		.max_pages = 100,
		.sources = r->src,
	};
}

/* Add [source name] using fixture plugin `plugin`; url NULL for none. */
static size_t add_source(struct run *r, const char *name, const char *plugin, const char *url)
{
	size_t i = r->cfg.n_sources++;
	CU_ASSERT_FATAL(i < MAX_SOURCES);
	r->src[i] = (struct source_config){
		.name = xstrdup(name),
		.plugin = xstrdup(plugin),
		.enabled = true,
		.url = url ? xstrdup(url) : NULL,
		.ttl_hours = 24,
		.shrink_ratio = 0.5,
		.time_limit = 20,
	};
	char *path = xasprintf("%s/%s.so", tu_env("MF_TEST_FIXTURE_PLUGIN_DIR"), plugin);
	struct errors errs = {0};
	int rc = loader_open(path, &r->plugins[i], &errs);
	if (rc != 0)
		fprintf(stderr, "loading %s: %s\n", path, errs.count ? errs.msgs[0] : "?");
	CU_ASSERT_FATAL(rc == 0);
	errors_free(&errs);
	free(path);
	return i;
}

static size_t add_fixture_source(struct run *r, const char *name, const char *plugin,
				 const char *page)
{
	char *url = fixture_url(page);
	size_t i = add_source(r, name, plugin, url);
	free(url);
	return i;
}

static void set_option(struct run *r, size_t i, const char *key, const char *value)
{
	r->opt[i] = (struct option_value){.key = xstrdup(key), .value = xstrdup(value)};
	r->src[i].options = &r->opt[i];
	r->src[i].n_options = 1;
}

static void run_go(struct run *r, const struct run_options *opts)
{
	static const struct run_options none = {0};
	double t0 = now_seconds();
	CU_ASSERT_EQUAL(runner_run(&r->cfg, r->plugins, opts ? opts : &none, r->results), 0);
	r->seconds = now_seconds() - t0;
	r->ran = true;
}

static void run_free(struct run *r)
{
	for (size_t i = 0; i < r->cfg.n_sources; i++) {
		if (r->ran)
			source_result_free(&r->results[i]);
		if (r->plugins[i].handle)
			loader_close(&r->plugins[i]);
		free(r->src[i].name);
		free(r->src[i].plugin);
		free(r->src[i].url);
		free(r->opt[i].key);
		free(r->opt[i].value);
	}
}

static bool message_is(const struct source_result *res, const char *want)
{
	if (!res->message || strcmp(res->message, want) != 0) {
		fprintf(stderr, "\nmessage: \"%s\", expected \"%s\"\n",
			res->message ? res->message : "(null)", want);
		return false;
	}
	return true;
}

static bool message_has(const struct source_result *res, const char *part)
{
	if (!res->message || !strstr(res->message, part)) {
		fprintf(stderr, "\nmessage: \"%s\", expected to contain \"%s\"\n",
			res->message ? res->message : "(null)", part);
		return false;
	}
	return true;
}

/* The five offerings of page1..page3, in page order. */
static const char *const paged_ids[] = {"p1-a", "p1-b", "p2-a", "p3-a", "p3-b"};
static const unsigned paged_pages[] = {1, 1, 2, 3, 3};

static void check_paged(const struct source_result *res)
{
	CU_ASSERT_EQUAL(res->status, SOURCE_FRESH);
	CU_ASSERT_PTR_NULL(res->message);
	CU_ASSERT_PTR_NOT_NULL(res->fetched_at);
	CU_ASSERT_EQUAL_FATAL(res->records.count, 5);
	for (size_t k = 0; k < 5; k++) {
		const struct mf_record *rec = res->records.items[k];
		CU_ASSERT_STRING_EQUAL(rec->native_id, paged_ids[k]);
		char *want = xasprintf("/tests/fixtures/runner/page%u.txt", paged_pages[k]);
		const char *url = record_get_string(rec, MF_FIELD_DESCRIPTION);
		CU_ASSERT_PTR_NOT_NULL_FATAL(url);
		CU_ASSERT(str_starts_with(url, "file:///"));
		CU_ASSERT(strlen(url) > strlen(want) &&
			  strcmp(url + strlen(url) - strlen(want), want) == 0);
		free(want);
		char *tag = xasprintf("page:%u", paged_pages[k] - 1);
		const struct strlist *tags = record_get_list(rec, MF_FIELD_TAGS);
		CU_ASSERT(tags && tags->count == 1 && strcmp(tags->items[0], tag) == 0);
		free(tag);
	}
}

/* ------------------------------------------------------------- fetch: requests, URLs */

static void test_url_origin(void)
{
	struct {
		const char *url, *origin;
	} cases[] = {
		{"https://Models.DEV/api.json", "https://models.dev"},
		{"https://models.dev:443/x", "https://models.dev"},
		{"http://127.0.0.1:8080/v1/models?x=1", "http://127.0.0.1:8080"},
		{"HTTP://example.com:80", "http://example.com"},
		{"https://example.com:8443/", "https://example.com:8443"},
		{"file:///etc/passwd", NULL},
		{"not a url", NULL},
		{"", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *o = url_origin(cases[i].url);
		if (cases[i].origin) {
			CU_ASSERT(o && strcmp(o, cases[i].origin) == 0);
		} else {
			CU_ASSERT_PTR_NULL(o);
		}
		free(o);
	}
	CU_ASSERT_PTR_NULL(url_origin(NULL));
}

static void test_request_building(void)
{
	struct mf_request req;
	request_init(&req);
	CU_ASSERT_EQUAL(request_set_url(&req, "https://a.example/1"), MF_OK);
	CU_ASSERT_EQUAL(request_set_url(&req, "https://a.example/2"), MF_OK);
	CU_ASSERT_STRING_EQUAL(req.url, "https://a.example/2");
	CU_ASSERT_EQUAL(request_set_url(&req, NULL), MF_EINVAL);
	CU_ASSERT_EQUAL(request_set_url(&req, ""), MF_EINVAL);
	CU_ASSERT_EQUAL(request_add_header(&req, "Accept", "application/json", false), MF_OK);
	CU_ASSERT_EQUAL(request_add_header(&req, "x-api-key", "k", true), MF_OK);
	/* Header injection: a name or value that would start another line. */
	CU_ASSERT_EQUAL(request_add_header(&req, "X-A: b\r\nX-C", "d", false), MF_EINVAL);
	CU_ASSERT_EQUAL(request_add_header(&req, "X-Ok", "a\r\nX-Evil: 1", false), MF_EINVAL);
	CU_ASSERT_EQUAL(request_add_header(&req, "", "v", false), MF_EINVAL);
	CU_ASSERT_EQUAL(request_add_header(&req, "Bad Name", "v", false), MF_EINVAL);
	CU_ASSERT_EQUAL_FATAL(req.n_headers, 2);
	CU_ASSERT_STRING_EQUAL(req.headers[1].name, "x-api-key");
	CU_ASSERT(req.headers[1].is_auth);
	CU_ASSERT(!req.headers[0].is_auth);
	request_clear(&req);
	CU_ASSERT_PTR_NULL(req.url);
	CU_ASSERT_EQUAL(req.n_headers, 0);
}

/* ------------------------------------------------------------- fetch: file: */

static void test_fetch_file(void)
{
	struct fetch_limits lim = default_limits();
	char *url = fixture_url("page2.txt");
	char *path = fixture_path("page2.txt");
	char *want = tu_read_file(path);
	struct fetched_page page;
	char err[512] = "";
	struct mf_request req;
	request_init(&req);
	request_set_url(&req, url);
	CU_ASSERT_EQUAL_FATAL(fetch_perform(&lim, &req, 7, &page, err, sizeof err), 0);
	request_clear(&req);
	CU_ASSERT_EQUAL(page.page.struct_size, sizeof(struct mf_page));
	CU_ASSERT_EQUAL(page.page.index, 7);
	CU_ASSERT_EQUAL(page.page.status, 200);
	CU_ASSERT_STRING_EQUAL(page.page.url, url);
	CU_ASSERT_EQUAL(page.page.size, strlen(want));
	CU_ASSERT_EQUAL(page.page.data[page.page.size], '\0');
	CU_ASSERT_STRING_EQUAL(page.page.data, want);
	CU_ASSERT_PTR_NOT_NULL_FATAL(page.page.header);
	CU_ASSERT_PTR_NULL(page.page.header(&page.page, "X-Nothing"));
	fetched_page_free(&page);
	free(want);
	free(path);
	free(url);
}

static void test_fetch_file_empty(void)
{
	char *dir = tu_tmpdir();
	char *path = tu_write_file(dir, "empty.json", "");
	char *url = xasprintf("file://%s", path);
	struct fetch_limits lim = default_limits();
	struct fetched_page page;
	char err[512] = "";
	CU_ASSERT_EQUAL_FATAL(get(&lim, url, &page, err, sizeof err), 0);
	CU_ASSERT_EQUAL(page.page.size, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(page.page.data);
	CU_ASSERT_EQUAL(page.page.data[0], '\0');
	fetched_page_free(&page);
	free(url);
	free(path);
	tu_rm_rf(dir);
	free(dir);
}

static void test_fetch_file_missing(void)
{
	struct fetch_limits lim = default_limits();
	struct fetched_page page;
	char err[512] = "";
	char *dir = tu_tmpdir();
	char *url = xasprintf("file://%s/no-such-file.json", dir);
	CU_ASSERT_EQUAL(get(&lim, url, &page, err, sizeof err), -1);
	char *want = xasprintf("%s: No such file or directory", url);
	CU_ASSERT_STRING_EQUAL(err, want);
	CU_ASSERT_PTR_NULL(page.data);
	free(want);
	free(url);

	/* A directory is not a page (libcurl would read it as empty). */
	url = xasprintf("file://%s", dir);
	CU_ASSERT_EQUAL(get(&lim, url, &page, err, sizeof err), -1);
	want = xasprintf("%s: Is a directory", url);
	CU_ASSERT_STRING_EQUAL(err, want);
	free(want);
	free(url);
	tu_rm_rf(dir);
	free(dir);
}

static void test_fetch_file_body_limit(void)
{
	struct fetch_limits lim = default_limits();
	char *url = fixture_url("page1.txt");
	char *path = fixture_path("page1.txt");
	char *content = tu_read_file(path);
	size_t size = strlen(content);
	struct fetched_page page;
	char err[512] = "";

	lim.max_body_bytes = 10;
	CU_ASSERT_EQUAL(get(&lim, url, &page, err, sizeof err), -1);
	char *want = xasprintf("%s: body larger than 10 bytes", url);
	CU_ASSERT_STRING_EQUAL(err, want);
	free(want);

	/* Exactly at the limit is allowed, one byte below is not. */
	lim.max_body_bytes = (int64_t)size;
	CU_ASSERT_EQUAL(get(&lim, url, &page, err, sizeof err), 0);
	CU_ASSERT_EQUAL(page.size, size);
	fetched_page_free(&page);
	lim.max_body_bytes = (int64_t)size - 1;
	CU_ASSERT_EQUAL(get(&lim, url, &page, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "body larger than"));

	free(content);
	free(path);
	free(url);
}

static void test_fetch_refuses(void)
{
	struct fetch_limits lim = default_limits();
	struct fetched_page page;
	char err[512] = "";
	CU_ASSERT_EQUAL(get(&lim, "ftp://127.0.0.1/x", &page, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err,
			       "ftp://127.0.0.1/x: only http, https and file URLs are fetched");
	CU_ASSERT_EQUAL(get(&lim, "no url at all", &page, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a valid URL"));

	struct mf_request req;
	request_init(&req);
	CU_ASSERT_EQUAL(fetch_perform(&lim, &req, 0, &page, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "request without a URL");
}

static void test_fetch_offline(void)
{
	struct fetch_limits lim = default_limits();
	lim.offline = true;
	struct fetched_page page;
	char err[512] = "";
	/* Port 9 (discard) on loopback: nothing leaves the machine even if
	 * the offline check were missing, and nothing listens there. */
	CU_ASSERT_EQUAL(get(&lim, "http://127.0.0.1:9/models", &page, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "GET http://127.0.0.1:9/models: offline: not fetching");
	CU_ASSERT_EQUAL(get(&lim, "https://127.0.0.1:9/", &page, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "GET https://127.0.0.1:9/: offline: not fetching");

	/* file: is still read offline. */
	char *url = fixture_url("single.txt");
	CU_ASSERT_EQUAL(get(&lim, url, &page, err, sizeof err), 0);
	fetched_page_free(&page);
	free(url);

	/* Online, the same URL really is attempted and fails to connect. */
	lim.offline = false;
	CU_ASSERT_EQUAL(get(&lim, "http://127.0.0.1:9/models", &page, err, sizeof err), -1);
	CU_ASSERT(str_starts_with(err, "GET http://127.0.0.1:9/models: "));
	CU_ASSERT_PTR_NULL(strstr(err, "offline"));
}

/* ------------------------------------------------------------- fetch: http, local server */

/* A forked HTTP/1.0 server on two loopback ports (two origins). It logs
 * every request head to a file, then answers by path. */
struct server {
	pid_t pid;
	int port[2];
	char *dir;
	char *log_path;
};

static void server_respond(int fd, const char *path, int other_port)
{
	char head[512];
	const char *extra = "";
	char location[256] = "";
	int status = 200;
	const char *reason = "OK";
	size_t body_len = 0;
	char body[8192];
	if (strcmp(path, "/ok") == 0) {
		extra = "Content-Type: text/plain\r\nX-Mixed-Case:   Value One  \r\n"
			"X-Folded: first\r\n second\r\n";
		body_len = (size_t)snprintf(body, sizeof body, "hello over http\n");
	} else if (strcmp(path, "/status503") == 0) {
		status = 503;
		reason = "Service Unavailable";
		body_len = (size_t)snprintf(body, sizeof body, "down\n");
	} else if (strcmp(path, "/big") == 0) {
		body_len = 5000;
		memset(body, 'x', body_len);
	} else if (strcmp(path, "/same") == 0 || strcmp(path, "/loop") == 0 ||
		   strcmp(path, "/other") == 0 || strcmp(path, "/tofile") == 0) {
		status = 302;
		reason = "Found";
		if (strcmp(path, "/same") == 0)
			snprintf(location, sizeof location, "Location: /ok\r\n");
		else if (strcmp(path, "/loop") == 0)
			snprintf(location, sizeof location, "Location: /loop\r\n");
		else if (strcmp(path, "/other") == 0)
			snprintf(location, sizeof location,
				 "Location: http://127.0.0.1:%d/ok\r\n", other_port);
		else
			snprintf(location, sizeof location, "Location: file:///etc/hostname\r\n");
	} else {
		status = 404;
		reason = "Not Found";
	}
	int n = snprintf(head, sizeof head,
			 "HTTP/1.0 %d %s\r\n%s%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, reason, extra, location, body_len);
	if (write(fd, head, (size_t)n) < 0 || write(fd, body, body_len) < 0)
		return;
}

static void server_handle(int fd, int index, const struct server *s)
{
	char req[8192];
	size_t len = 0;
	while (len < sizeof req - 1) {
		ssize_t n = read(fd, req + len, sizeof req - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	req[len] = '\0';
	FILE *log = fopen(s->log_path, "a");
	if (log) {
		fprintf(log, "=== port%d\n%s", index, req);
		fclose(log);
	}
	char path[256] = "/";
	sscanf(req, "GET %255s", path);
	server_respond(fd, path, s->port[1 - index]);
	shutdown(fd, SHUT_WR);
	/* Let the client read everything before the socket goes away. */
	while (read(fd, req, sizeof req) > 0)
		;
	close(fd);
}

static void server_start(struct server *s)
{
	s->dir = tu_tmpdir();
	s->log_path = xasprintf("%s/requests.log", s->dir);
	int lfd[2];
	for (int k = 0; k < 2; k++) {
		lfd[k] = socket(AF_INET, SOCK_STREAM, 0);
		CU_ASSERT_FATAL(lfd[k] >= 0);
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t alen = sizeof a;
		CU_ASSERT_FATAL(bind(lfd[k], (struct sockaddr *)&a, sizeof a) == 0);
		CU_ASSERT_FATAL(listen(lfd[k], 16) == 0);
		CU_ASSERT_FATAL(getsockname(lfd[k], (struct sockaddr *)&a, &alen) == 0);
		s->port[k] = ntohs(a.sin_port);
	}
	fflush(NULL);
	s->pid = fork();
	CU_ASSERT_FATAL(s->pid >= 0);
	if (s->pid == 0) {
		struct pollfd p[2] = {{.fd = lfd[0], .events = POLLIN},
				      {.fd = lfd[1], .events = POLLIN}};
		for (;;) {
			if (poll(p, 2, -1) < 0 && errno != EINTR)
				_exit(1);
			for (int k = 0; k < 2; k++) {
				if (!(p[k].revents & POLLIN))
					continue;
				int c = accept(lfd[k], NULL, NULL);
				if (c >= 0)
					server_handle(c, k, s);
			}
		}
	}
	close(lfd[0]);
	close(lfd[1]);
}

static void server_stop(struct server *s)
{
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	tu_rm_rf(s->dir);
	free(s->dir);
	free(s->log_path);
}

/* The log of requests, cut into the ones each port received. */
static char *server_log(const struct server *s)
{
	char *log = tu_read_file(s->log_path);
	return log ? log : xstrdup("");
}

static void test_fetch_http_status_and_headers(void)
{
	struct server s;
	server_start(&s);
	struct fetch_limits lim = default_limits();
	struct fetched_page page;
	char err[512] = "";

	char *url = xasprintf("http://127.0.0.1:%d/ok", s.port[0]);
	CU_ASSERT_EQUAL_FATAL(get(&lim, url, &page, err, sizeof err), 0);
	CU_ASSERT_EQUAL(page.page.status, 200);
	CU_ASSERT_STRING_EQUAL(page.page.data, "hello over http\n");
	CU_ASSERT_STRING_EQUAL(page.page.url, url);
	const char *v = page.page.header(&page.page, "x-mixed-case");
	CU_ASSERT(v && strcmp(v, "Value One") == 0);
	v = page.page.header(&page.page, "CONTENT-TYPE");
	CU_ASSERT(v && strcmp(v, "text/plain") == 0);
	v = page.page.header(&page.page, "X-Folded");
	CU_ASSERT(v && strcmp(v, "first second") == 0);
	CU_ASSERT_PTR_NULL(page.page.header(&page.page, "X-Absent"));
	fetched_page_free(&page);
	free(url);

	/* The request carried our user agent. */
	char *log = server_log(&s);
	char *ua = xasprintf("User-Agent: modelfuse/%s\r\n", PACKAGE_VERSION);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, ua));
	free(ua);
	free(log);

	url = xasprintf("http://127.0.0.1:%d/status503", s.port[0]);
	struct mf_request req;
	request_init(&req);
	request_set_url(&req, url);
	request_add_header(&req, "Authorization", "Bearer s3cret-token", true);
	lim.auth_origin = NULL;
	CU_ASSERT_EQUAL(fetch_perform(&lim, &req, 0, &page, err, sizeof err), -1);
	char *want = xasprintf("GET %s: HTTP 503", url);
	CU_ASSERT_STRING_EQUAL(err, want);
	CU_ASSERT_PTR_NULL(strstr(err, "s3cret"));
	free(want);
	request_clear(&req);
	free(url);

	url = xasprintf("http://127.0.0.1:%d/nothing-here", s.port[0]);
	CU_ASSERT_EQUAL(get(&lim, url, &page, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ": HTTP 404"));
	free(url);

	/* The body limit holds over http too. */
	url = xasprintf("http://127.0.0.1:%d/big", s.port[0]);
	lim.max_body_bytes = 1000;
	CU_ASSERT_EQUAL(get(&lim, url, &page, err, sizeof err), -1);
	want = xasprintf("GET %s: body larger than 1000 bytes", url);
	CU_ASSERT_STRING_EQUAL(err, want);
	free(want);
	lim.max_body_bytes = 5000;
	CU_ASSERT_EQUAL(get(&lim, url, &page, err, sizeof err), 0);
	CU_ASSERT_EQUAL(page.size, 5000);
	fetched_page_free(&page);
	free(url);
	server_stop(&s);
}

/* Count the requests a port received that contain needle. */
static int requests_with(const char *log, int port_index, const char *needle)
{
	char *marker = xasprintf("=== port%d\n", port_index);
	int count = 0;
	for (const char *p = strstr(log, "=== port"); p; p = strstr(p + 1, "=== port")) {
		const char *end = strstr(p + 1, "=== port");
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *one = xstrndup(p, len);
		if (str_starts_with(one, marker) && (!needle || strstr(one, needle)))
			count++;
		free(one);
	}
	free(marker);
	return count;
}

static int fetch_with_auth(const struct fetch_limits *lim, const char *url,
			   struct fetched_page *page, char *err, size_t errlen)
{
	struct mf_request req;
	request_init(&req);
	request_set_url(&req, url);
	request_add_header(&req, "Authorization", "Bearer s3cret-token", true);
	request_add_header(&req, "X-Plain", "visible", false);
	int rc = fetch_perform(lim, &req, 0, page, err, errlen);
	request_clear(&req);
	return rc;
}

static void test_fetch_http_redirects_and_auth(void)
{
	struct server s;
	server_start(&s);
	struct fetch_limits lim = default_limits();
	char *start = xasprintf("http://127.0.0.1:%d/", s.port[0]);
	char *origin = url_origin(start);
	lim.auth_origin = origin;
	struct fetched_page page;
	char err[512] = "";

	/* Same origin: the auth header follows the redirect. */
	char *url = xasprintf("http://127.0.0.1:%d/same", s.port[0]);
	CU_ASSERT_EQUAL_FATAL(fetch_with_auth(&lim, url, &page, err, sizeof err), 0);
	char *final = xasprintf("http://127.0.0.1:%d/ok", s.port[0]);
	CU_ASSERT_STRING_EQUAL(page.page.url, final);
	CU_ASSERT_STRING_EQUAL(page.page.data, "hello over http\n");
	fetched_page_free(&page);
	free(final);
	free(url);
	char *log = server_log(&s);
	CU_ASSERT_EQUAL(requests_with(log, 0, NULL), 2);
	CU_ASSERT_EQUAL(requests_with(log, 0, "Authorization: Bearer s3cret-token\r\n"), 2);
	free(log);

	/* Another origin (other port): the redirect is followed, the auth
	 * header is not sent there, plain headers are. */
	url = xasprintf("http://127.0.0.1:%d/other", s.port[0]);
	CU_ASSERT_EQUAL_FATAL(fetch_with_auth(&lim, url, &page, err, sizeof err), 0);
	final = xasprintf("http://127.0.0.1:%d/ok", s.port[1]);
	CU_ASSERT_STRING_EQUAL(page.page.url, final);
	fetched_page_free(&page);
	free(final);
	free(url);
	log = server_log(&s);
	CU_ASSERT_EQUAL(requests_with(log, 0, "s3cret-token"), 3);
	CU_ASSERT_EQUAL(requests_with(log, 1, NULL), 1);
	CU_ASSERT_EQUAL(requests_with(log, 1, "s3cret-token"), 0);
	CU_ASSERT_EQUAL(requests_with(log, 1, "X-Plain: visible\r\n"), 1);
	free(log);

	/* A next-page URL on another origin never gets the auth header. */
	url = xasprintf("http://127.0.0.1:%d/ok", s.port[1]);
	CU_ASSERT_EQUAL(fetch_with_auth(&lim, url, &page, err, sizeof err), 0);
	fetched_page_free(&page);
	free(url);
	log = server_log(&s);
	CU_ASSERT_EQUAL(requests_with(log, 1, NULL), 2);
	CU_ASSERT_EQUAL(requests_with(log, 1, "s3cret-token"), 0);
	free(log);

	/* Redirect loops stop at the limit; redirects to file: are refused. */
	lim.max_redirects = 3;
	url = xasprintf("http://127.0.0.1:%d/loop", s.port[0]);
	CU_ASSERT_EQUAL(fetch_with_auth(&lim, url, &page, err, sizeof err), -1);
	char *want = xasprintf("GET %s: more than 3 redirects", url);
	CU_ASSERT_STRING_EQUAL(err, want);
	free(want);
	free(url);
	url = xasprintf("http://127.0.0.1:%d/tofile", s.port[0]);
	CU_ASSERT_EQUAL(get(&lim, url, &page, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "redirect to file:///etc/hostname refused"));
	CU_ASSERT_PTR_NULL(strstr(err, "s3cret"));
	free(url);
	lim.max_redirects = 0;
	url = xasprintf("http://127.0.0.1:%d/same", s.port[0]);
	CU_ASSERT_EQUAL(get(&lim, url, &page, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "more than 0 redirects"));
	free(url);

	free(origin);
	free(start);
	server_stop(&s);
}

/* ------------------------------------------------------------- runner */

static void test_runner_paging(void)
{
	struct run r;
	run_init(&r, 2);
	add_fixture_source(&r, "pager", "rx_pager", "page1.txt");
	run_go(&r, NULL);
	CU_ASSERT_PTR_EQUAL(r.results[0].source, &r.src[0]);
	CU_ASSERT_PTR_EQUAL(r.results[0].plugin, r.plugins[0].desc);
	check_paged(&r.results[0]);
	CU_ASSERT(r.results[0].seconds >= 0);
	run_free(&r);
}

static void test_runner_max_pages(void)
{
	struct run r;
	run_init(&r, 2);
	r.cfg.max_pages = 2;
	add_fixture_source(&r, "pager", "rx_pager", "page1.txt");
	run_go(&r, NULL);
	CU_ASSERT_EQUAL(r.results[0].status, SOURCE_FAILED);
	CU_ASSERT(message_is(&r.results[0], "more than 2 pages"));
	CU_ASSERT_EQUAL(r.results[0].records.count, 0);
	run_free(&r);

	run_init(&r, 2);
	r.cfg.max_pages = 3;
	add_fixture_source(&r, "pager", "rx_pager", "page1.txt");
	run_go(&r, NULL);
	check_paged(&r.results[0]);
	run_free(&r);
}

/* The child body, called in this process: the stream it writes decodes to
 * the records and a fresh end frame; a failed source still writes a
 * complete stream (exit 0); a closed pipe makes it return non-zero. */
static void test_runner_source_main(void)
{
	struct run r;
	run_init(&r, 1);
	add_fixture_source(&r, "pager", "rx_pager", "page1.txt");
	add_fixture_source(&r, "missing", "rx_pager", "no-such-page.txt");
	char *dir = tu_tmpdir();
	char *path = xasprintf("%s/stream", dir);
	const struct run_options opts = {0};

	for (size_t i = 0; i < 2; i++) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		CU_ASSERT_FATAL(fd >= 0);
		CU_ASSERT_EQUAL(runner_source_main(&r.cfg, &r.src[i], r.plugins[i].desc, &opts,
						   fd),
				0);
		close(fd);
		size_t len = 0;
		char err[256];
		char *data = read_file(path, &len, err, sizeof err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(data);
		struct record_array recs = {0};
		struct stream_end end;
		CU_ASSERT_EQUAL_FATAL(stream_decode(data, len, &recs, &end, err, sizeof err), 0);
		if (i == 0) {
			CU_ASSERT_EQUAL(end.status, SOURCE_FRESH);
			CU_ASSERT_EQUAL(end.records, 5);
			CU_ASSERT_EQUAL(recs.count, 5);
			CU_ASSERT(end.fetched_at && strlen(end.fetched_at) == 20);
		} else {
			CU_ASSERT_EQUAL(end.status, SOURCE_FAILED);
			CU_ASSERT(end.message && strstr(end.message, "no-such-page.txt: No such"));
			CU_ASSERT_EQUAL(recs.count, 0);
		}
		stream_end_free(&end);
		record_array_free(&recs);
		free(data);
	}

	int p[2];
	CU_ASSERT_FATAL(pipe(p) == 0);
	close(p[0]);
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	CU_ASSERT_NOT_EQUAL(runner_source_main(&r.cfg, &r.src[0], r.plugins[0].desc, &opts, p[1]),
			    0);
	signal(SIGPIPE, old);
	close(p[1]);

	free(path);
	tu_rm_rf(dir);
	free(dir);
	run_free(&r);
}

/* One misbehaving plugin beside a good pager in the same run. */
static void crash_case(const char *plugin, const char *how, const char *want, bool exact)
{
	struct run r;
	run_init(&r, 2);
	add_fixture_source(&r, "good", "rx_pager", "page1.txt");
	size_t bad = add_fixture_source(&r, "bad", plugin, "single.txt");
	if (how)
		set_option(&r, bad, "how", how);
	run_go(&r, NULL);
	check_paged(&r.results[0]);
	CU_ASSERT_EQUAL(r.results[1].status, SOURCE_FAILED);
	CU_ASSERT(exact ? message_is(&r.results[1], want) : message_has(&r.results[1], want));
	CU_ASSERT_EQUAL(r.results[1].records.count, 0);
	CU_ASSERT_PTR_NULL(r.results[1].fetched_at);
	run_free(&r);
}

static void test_runner_segv(void)
{
	char *want = xasprintf("plugin crashed: killed by signal %d (%s)", SIGSEGV,
			       strsignal(SIGSEGV));
	crash_case("rx_segv", NULL, want, true);
	CU_ASSERT_STRING_EQUAL(want, "plugin crashed: killed by signal 11 (Segmentation fault)");
	free(want);
}

static void test_runner_abort(void)
{
	char *want = xasprintf("plugin crashed: killed by signal %d (%s)", SIGABRT,
			       strsignal(SIGABRT));
	crash_case("rx_abort", NULL, want, true);
	free(want);
}

static void test_runner_exit(void)
{
	crash_case("rx_exit", "exit3", "plugin process exited with status 3", true);
	/* exit(0) is a clean status but leaves no end frame. */
	crash_case("rx_exit", "exit0", "broken record stream: ", false);
}

static void test_runner_garbage(void)
{
	/* A pipe of the parent's own: rx_garbage writes into every pipe it can
	 * see, so anything arriving here means the child inherited it. */
	int p[2];
	CU_ASSERT_FATAL(pipe(p) == 0);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	crash_case("rx_garbage", NULL, "broken record stream: ", false);
	char c;
	CU_ASSERT_EQUAL(read(p[0], &c, 1), -1);
	CU_ASSERT_EQUAL(errno, EAGAIN);
	close(p[0]);
	close(p[1]);
}

static void test_runner_parse_error(void)
{
	struct run r;
	run_init(&r, 2);
	add_fixture_source(&r, "bad", "rx_pager", "bad.txt");
	run_go(&r, NULL);
	CU_ASSERT_EQUAL(r.results[0].status, SOURCE_FAILED);
	CU_ASSERT(message_has(&r.results[0], "normalizing page 1 (file:///"));
	CU_ASSERT(message_has(&r.results[0], "bad.txt) failed: parse error"));
	/* The record emitted before the bad line is not usable data. */
	CU_ASSERT_EQUAL(r.results[0].records.count, 0);
	run_free(&r);
}

static void test_runner_hang(void)
{
	struct run r;
	run_init(&r, 4);
	add_fixture_source(&r, "good", "rx_pager", "page1.txt");
	size_t h = add_fixture_source(&r, "hang", "rx_hang", "single.txt");
	r.src[h].time_limit = 0.5;
	run_go(&r, NULL);
	check_paged(&r.results[0]);
	CU_ASSERT_EQUAL(r.results[1].status, SOURCE_FAILED);
	CU_ASSERT(message_is(&r.results[1], "killed after 0.5 s time limit"));
	CU_ASSERT(r.seconds >= 0.5);
	CU_ASSERT(r.seconds < 4.0);
	CU_ASSERT(r.results[1].seconds >= 0.5 && r.results[1].seconds < 4.0);
	run_free(&r);
}

/* jobs = 1 really runs one child at a time: two hanging sources take at
 * least the sum of their limits. */
static void test_runner_jobs_serialize(void)
{
	struct run r;
	run_init(&r, 1);
	r.src[add_fixture_source(&r, "h1", "rx_hang", "single.txt")].time_limit = 0.3;
	r.src[add_fixture_source(&r, "h2", "rx_hang", "single.txt")].time_limit = 0.3;
	run_go(&r, NULL);
	CU_ASSERT(r.seconds >= 0.6);
	CU_ASSERT(message_is(&r.results[0], "killed after 0.3 s time limit"));
	CU_ASSERT(message_is(&r.results[1], "killed after 0.3 s time limit"));
	run_free(&r);
}

/* Everything a result says except timings, as one string. */
static char *result_digest(const struct source_result *res)
{
	struct strbuf sb;
	strbuf_init(&sb);
	strbuf_printf(&sb, "%s|%s|%s|%s|%zu|", res->source->name, source_status_name(res->status),
		      res->message ? res->message : "-", res->fetched_at ? "t" : "-",
		      res->records.count);
	for (size_t k = 0; k < res->records.count; k++)
		stream_encode_record(&sb, res->records.items[k]);
	return strbuf_detach(&sb);
}

static void build_mixed_run(struct run *r, int jobs)
{
	run_init(r, jobs);
	add_fixture_source(r, "a-pager", "rx_pager", "page1.txt");
	add_fixture_source(r, "b-segv", "rx_segv", "single.txt");
	add_fixture_source(r, "c-single", "rx_pager", "single.txt");
	set_option(r, add_fixture_source(r, "d-exit", "rx_exit", "single.txt"), "how", "exit3");
	r->src[add_fixture_source(r, "e-off", "rx_pager", "single.txt")].enabled = false;
	add_fixture_source(r, "f-garbage", "rx_garbage", "single.txt");
	add_fixture_source(r, "g-pager", "rx_pager", "page2.txt");
	add_fixture_source(r, "h-missing", "rx_pager", "missing.txt");
}

static void test_runner_jobs_identical(void)
{
	struct run one, four;
	build_mixed_run(&one, 1);
	build_mixed_run(&four, 4);
	run_go(&one, NULL);
	run_go(&four, NULL);
	for (size_t i = 0; i < one.cfg.n_sources; i++) {
		char *a = result_digest(&one.results[i]);
		char *b = result_digest(&four.results[i]);
		CU_ASSERT_STRING_EQUAL(a, b);
		free(a);
		free(b);
	}
	check_paged(&one.results[0]);
	CU_ASSERT_EQUAL(four.results[2].status, SOURCE_FRESH);
	CU_ASSERT_EQUAL(four.results[2].records.count, 1);
	CU_ASSERT_EQUAL(four.results[4].status, SOURCE_DISABLED);
	CU_ASSERT_EQUAL(four.results[6].records.count, 3); /* page2 then page3 */
	CU_ASSERT_EQUAL(four.results[7].status, SOURCE_FAILED);
	run_free(&one);
	run_free(&four);
}

static void test_runner_disabled(void)
{
	struct run r;
	run_init(&r, 2);
	size_t off = add_fixture_source(&r, "off", "rx_pager", "page1.txt");
	r.src[off].enabled = false;
	size_t gone = add_fixture_source(&r, "unloaded", "rx_pager", "page1.txt");
	loader_close(&r.plugins[gone]);
	memset(&r.plugins[gone], 0, sizeof r.plugins[gone]);
	size_t self = add_fixture_source(&r, "self-disabled", "rx_pager", "page1.txt");
	set_option(&r, self, "disable", "yes");
	add_fixture_source(&r, "on", "rx_pager", "single.txt");
	run_go(&r, NULL);
	CU_ASSERT_EQUAL(r.results[0].status, SOURCE_DISABLED);
	CU_ASSERT_PTR_NULL(r.results[0].plugin);
	CU_ASSERT_EQUAL(r.results[0].records.count, 0);
	CU_ASSERT_EQUAL(r.results[1].status, SOURCE_FAILED);
	CU_ASSERT(message_is(&r.results[1], "plugin not loaded"));
	CU_ASSERT_PTR_NULL(r.results[1].plugin);
	CU_ASSERT_EQUAL(r.results[2].status, SOURCE_DISABLED);
	/* The reason the plugin logged is the message. */
	CU_ASSERT(message_is(&r.results[2], "disabled by option"));
	CU_ASSERT_EQUAL(r.results[3].status, SOURCE_FRESH);
	CU_ASSERT_EQUAL(r.results[3].records.count, 1);
	run_free(&r);
}

static void test_runner_fetch_failures(void)
{
	struct run r;
	run_init(&r, 3);
	size_t missing = add_fixture_source(&r, "missing", "rx_pager", "no-such-page.txt");
	size_t big = add_fixture_source(&r, "big", "rx_pager", "page1.txt");
	r.cfg.max_body_bytes = 60; /* page1.txt is larger, single.txt smaller */
	add_fixture_source(&r, "small", "rx_pager", "single.txt");
	run_go(&r, NULL);

	char *path = fixture_path("no-such-page.txt");
	char *want = xasprintf("file://%s: No such file or directory", path);
	CU_ASSERT(message_is(&r.results[missing], want));
	CU_ASSERT_EQUAL(r.results[missing].status, SOURCE_FAILED);
	free(want);
	free(path);

	char *url = fixture_url("page1.txt");
	want = xasprintf("%s: body larger than 60 bytes", url);
	CU_ASSERT_EQUAL(r.results[big].status, SOURCE_FAILED);
	CU_ASSERT(message_is(&r.results[big], want));
	free(want);
	free(url);

	CU_ASSERT_EQUAL(r.results[2].status, SOURCE_FRESH);
	run_free(&r);
}

static void test_runner_offline(void)
{
	struct run r;
	run_init(&r, 2);
	add_source(&r, "web", "rx_pager", "http://127.0.0.1:9/models.txt");
	add_fixture_source(&r, "local", "rx_pager", "single.txt");
	const struct run_options opts = {.offline = true};
	run_go(&r, &opts);
	CU_ASSERT_EQUAL(r.results[0].status, SOURCE_FAILED);
	CU_ASSERT(message_is(&r.results[0],
			     "GET http://127.0.0.1:9/models.txt: offline: not fetching"));
	CU_ASSERT_EQUAL(r.results[1].status, SOURCE_FRESH);
	CU_ASSERT_EQUAL(r.results[1].records.count, 1);
	run_free(&r);
}

static void test_runner_empty_id(void)
{
	char *dir = tu_tmpdir();
	char *log_path = xasprintf("%s/stderr", dir);
	struct run r;
	run_init(&r, 2);
	add_fixture_source(&r, "noid-source", "rx_emptyid", "single.txt");

	/* The warning comes from the child on the shared stderr: catch it. */
	fflush(stderr);
	int saved = dup(2);
	int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	run_go(&r, NULL);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);

	CU_ASSERT_EQUAL(r.results[0].status, SOURCE_FRESH);
	CU_ASSERT_EQUAL_FATAL(r.results[0].records.count, 2);
	CU_ASSERT_STRING_EQUAL(r.results[0].records.items[0]->native_id, "first");
	CU_ASSERT_STRING_EQUAL(r.results[0].records.items[1]->native_id, "last");
	char *log = tu_read_file(log_path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "noid-source: warning: "));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "dropped"));
	free(log);
	run_free(&r);
	tu_rm_rf(dir);
	free(dir);
	free(log_path);
}

int main(void)
{
	static const struct tu_test tests[] = {
		{"url_origin", test_url_origin},
		{"request building", test_request_building},
		{"fetch file:", test_fetch_file},
		{"fetch empty file: is an empty body", test_fetch_file_empty},
		{"fetch missing file: names the path", test_fetch_file_missing},
		{"fetch file: body limit", test_fetch_file_body_limit},
		{"fetch refuses other schemes and bad URLs", test_fetch_refuses},
		{"fetch offline refuses http(s)", test_fetch_offline},
		{"fetch http status and headers", test_fetch_http_status_and_headers},
		{"fetch http redirects keep auth to its origin",
		 test_fetch_http_redirects_and_auth},
		{"runner pages over three pages", test_runner_paging},
		{"runner caps the number of pages", test_runner_max_pages},
		{"runner child body writes a complete stream", test_runner_source_main},
		{"runner segfault costs only its source", test_runner_segv},
		{"runner abort costs only its source", test_runner_abort},
		{"runner exit(3) and exit(0)", test_runner_exit},
		{"runner garbage stream", test_runner_garbage},
		{"runner normalize parse error", test_runner_parse_error},
		{"runner kills a hanging child at its time limit", test_runner_hang},
		{"runner jobs=1 runs one child at a time", test_runner_jobs_serialize},
		{"runner jobs=1 and jobs=4 agree", test_runner_jobs_identical},
		{"runner disabled and unloaded sources", test_runner_disabled},
		{"runner fetch failures: missing file, body limit", test_runner_fetch_failures},
		{"runner offline", test_runner_offline},
		{"runner drops records without an id", test_runner_empty_id},
		{NULL, NULL},
	};
	return tu_main("runner", tests);
}
