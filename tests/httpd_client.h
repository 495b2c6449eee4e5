/* The C side of the scripted loopback server (tests/httpd/mfhttpd.py):
 * start it on ports the kernel picks, script its answers, read its request
 * log. Shared by the tests that talk HTTP. */
#ifndef MF_HTTPD_CLIENT_H
#define MF_HTTPD_CLIENT_H

#include <sys/types.h>

struct httpd {
	pid_t pid;
	char *dir; /* script and log */
	char *script;
	char *log;
	int plain, other, tls; /* ports */
};

/* Start the server with a JSON script (see mfhttpd.py for its keys); the
 * https listener uses a test CA made once per program, whose file is
 * httpd_ca_file(). Fails the test (fatally) when it does not start. */
void httpd_start(struct httpd *h, const char *json);
/* Replace the script; the server re-reads it at the next request. */
void httpd_script(struct httpd *h, const char *json);
/* The server goes away at once, as a crashed upstream would. */
void httpd_kill(struct httpd *h);
void httpd_stop(struct httpd *h);
/* The test CA's certificate, valid after the first httpd_start. */
const char *httpd_ca_file(void);

/* Requests logged so far that match: listener and path (NULL: any; a path
 * matches up to its query), and the header present (header NULL: any),
 * with that value when value is not NULL. */
int httpd_requests(const struct httpd *h, const char *listener, const char *path,
		   const char *header, const char *value);

/* The whole request log (one JSON line per request), caller frees. */
char *httpd_request_log(const struct httpd *h);

/* The path (with its query) of the n-th logged request (0-based); NULL when
 * there are fewer. Caller frees. */
char *httpd_request_path(const struct httpd *h, int n);

#endif
