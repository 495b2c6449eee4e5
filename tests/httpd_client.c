#include "mf_build_config.h"
#include "httpd_client.h"

#include <CUnit/CUnit.h>
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "util.h"

/* One CA and server certificate for the whole program: openssl runs once. */
static char *tls_dir;
static char *ca_path;

static void remove_tls_dir(void)
{
	tu_rm_rf(tls_dir);
	free(tls_dir);
	free(ca_path);
}

void httpd_script(struct httpd *h, const char *json)
{
	/* A new file renamed in: the server never reads half a script. */
	char *tmp = xasprintf("%s/script.json.new", h->dir);
	FILE *f = fopen(tmp, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs(json, f);
	fclose(f);
	CU_ASSERT_FATAL(rename(tmp, h->script) == 0);
	free(tmp);
}

static int port_of(const char *line, const char *name)
{
	char *key = xasprintf("%s=", name);
	const char *at = strstr(line, key);
	free(key);
	return at ? atoi(at + strlen(name) + 1) : -1;
}

void httpd_start(struct httpd *h, const char *json)
{
	if (!tls_dir) {
		tls_dir = tu_tmpdir();
		atexit(remove_tls_dir);
	}
	*h = (struct httpd){.dir = tu_tmpdir()};
	h->script = xasprintf("%s/script.json", h->dir);
	h->log = xasprintf("%s/requests.jsonl", h->dir);
	httpd_script(h, json);
	char *server = tu_srcpath("tests/httpd/mfhttpd.py");
	int p[2];
	CU_ASSERT_FATAL(pipe(p) == 0);
	fflush(NULL);
	h->pid = fork();
	CU_ASSERT_FATAL(h->pid >= 0);
	if (h->pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execlp("python3", "python3", server, "--script", h->script, "--log", h->log,
		       "--tls-dir", tls_dir, "--idle", "300", (char *)NULL);
		fprintf(stderr, "cannot run python3: %s\n", strerror(errno));
		_exit(127);
	}
	close(p[1]);
	free(server);
	char line[256] = "";
	size_t len = 0;
	struct pollfd pf = {.fd = p[0], .events = POLLIN};
	while (len < sizeof line - 1 && !memchr(line, '\n', len) && poll(&pf, 1, 30000) > 0) {
		ssize_t n = read(p[0], line + len, sizeof line - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		line[len] = '\0';
	}
	close(p[0]);
	h->plain = port_of(line, "plain");
	h->other = port_of(line, "other");
	h->tls = port_of(line, "tls");
	if (h->plain <= 0 || h->other <= 0 || h->tls <= 0)
		fprintf(stderr, "the test server did not start: \"%s\"\n", line);
	CU_ASSERT_FATAL(h->plain > 0 && h->other > 0 && h->tls > 0);
}

void httpd_kill(struct httpd *h)
{
	if (h->pid > 0) {
		kill(h->pid, SIGKILL);
		waitpid(h->pid, NULL, 0);
		h->pid = 0;
	}
}

void httpd_stop(struct httpd *h)
{
	httpd_kill(h);
	tu_rm_rf(h->dir);
	free(h->dir);
	free(h->script);
	free(h->log);
}

int httpd_requests(const struct httpd *h, const char *listener, const char *path,
		   const char *header, const char *value)
{
	char *log = tu_read_file(h->log);
	int count = 0;
	for (char *line = log, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		json_t *j = json_loads(line, 0, NULL);
		const char *l = json_string_value(json_object_get(j, "listener"));
		const char *pth = json_string_value(json_object_get(j, "path"));
		json_t *hv = header ? json_object_get(json_object_get(j, "headers"), header) : NULL;
		bool ok =
		    j && (!listener || (l && strcmp(l, listener) == 0)) &&
		    (!path || (pth && str_starts_with(pth, path) &&
			       (pth[strlen(path)] == '\0' || pth[strlen(path)] == '?'))) &&
		    (!header || (hv && (!value || strcmp(json_string_value(hv), value) == 0)));
		count += ok;
		json_decref(j);
		if (!next)
			break;
	}
	free(log);
	return count;
}

const char *httpd_ca_file(void)
{
	if (!ca_path && tls_dir)
		ca_path = xasprintf("%s/ca.pem", tls_dir);
	return ca_path;
}

char *httpd_request_path(const struct httpd *h, int n)
{
	char *log = tu_read_file(h->log);
	char *found = NULL;
	int i = 0;
	for (char *line = log, *next; line && *line && !found; line = next, i++) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (i == n) {
			json_t *j = json_loads(line, 0, NULL);
			const char *p = json_string_value(json_object_get(j, "path"));
			found = p ? xstrdup(p) : NULL;
			json_decref(j);
		}
		if (!next)
			break;
	}
	free(log);
	return found;
}

char *httpd_request_log(const struct httpd *h)
{
	char *log = tu_read_file(h->log);
	return log ? log : xstrdup("");
}
