/* Sources run in parallel (SPEC §2, issue 10), proven without timing: the
 * built program fetches from a loopback server that holds every request
 * until N of them wait at once (a barrier). With jobs >= N the barrier
 * opens and every source is fresh; with fewer jobs it never opens, the
 * sources fail on their transfer timeout instead of hanging, and the
 * server saw at most `jobs` requests at once. */
#include "mf_build_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

/* Most connections the server keeps; more would be a bug in the runner. */
#define BARRIER_MAX_CONNS 32
/* A run that neither opens the barrier nor times out is stopped here, so
 * that a deadlock fails the test instead of hanging `make check`. */
#define TEST_ALARM_SECONDS 120

/* ------------------------------------------------------------- the server */

struct barrier_conn {
	int fd;
	char head[4096];
	size_t len;
	bool waiting; /* its request head is complete and unanswered */
	char path[128];
};

struct barrier_server {
	pid_t pid;
	int port;
	char *log_path; /* "peak N" and "answered N" lines, appended as they happen */
};

/* The server's log, written with one write(2) per line so that the test
 * can read it at any time. */
static void barrier_log(int log_fd, const char *word, int n)
{
	char line[64];
	int len = snprintf(line, sizeof line, "%s %d\n", word, n);
	if (len > 0 && write(log_fd, line, (size_t)len) < 0)
		_exit(3);
}

/* A models.dev document with one provider named after the path
 * ("/alpha.json" -> provider alpha serving alpha-1). */
static void barrier_answer(const struct barrier_conn *c)
{
	char name[64] = "x";
	sscanf(c->path, "/%63[a-z]", name);
	char body[512];
	int blen = snprintf(body, sizeof body,
			    "{\"%s\":{\"id\":\"%s\",\"name\":\"%s\",\"models\":{\"%s-1\":"
			    "{\"id\":\"%s-1\",\"name\":\"%s one\",\"limit\":{\"context\":8192,"
			    "\"output\":1024}}}}}",
			    name, name, name, name, name, name);
	char head[256];
	int hlen = snprintf(head, sizeof head,
			    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			    "Content-Length: %d\r\nConnection: close\r\n\r\n",
			    blen);
	if (write(c->fd, head, (size_t)hlen) < 0 || write(c->fd, body, (size_t)blen) < 0)
		return;
	shutdown(c->fd, SHUT_WR);
}

static void barrier_drop(struct barrier_conn *conns, size_t *n, size_t k)
{
	close(conns[k].fd);
	conns[k] = conns[--*n];
}

/* The server's loop: accept, read request heads, and once `barrier` of
 * them wait at once, answer all that wait. Never returns. */
_Noreturn static void barrier_serve(int lfd, int barrier, int log_fd)
{
	struct barrier_conn conns[BARRIER_MAX_CONNS];
	size_t n = 0;
	int n_waiting = 0, peak = 0, answered = 0;
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		struct pollfd pfd[BARRIER_MAX_CONNS + 1];
		pfd[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
		for (size_t k = 0; k < n; k++)
			pfd[k + 1] = (struct pollfd){.fd = conns[k].fd, .events = POLLIN};
		if (poll(pfd, n + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		/* Walk backwards: dropping k moves the last entry into its place. */
		for (size_t k = n; k-- > 0;) {
			struct barrier_conn *c = &conns[k];
			if (!(pfd[k + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char *at = c->head + c->len;
			ssize_t got = read(c->fd, at, sizeof c->head - 1 - c->len);
			if (got <= 0) {
				/* The client gave up (its timeout): no longer waiting. */
				if (c->waiting)
					n_waiting--;
				barrier_drop(conns, &n, k);
				continue;
			}
			c->len += (size_t)got;
			c->head[c->len] = '\0';
			if (c->waiting || !strstr(c->head, "\r\n\r\n"))
				continue;
			c->waiting = true;
			sscanf(c->head, "GET %127s", c->path);
			if (++n_waiting > peak) {
				peak = n_waiting;
				barrier_log(log_fd, "peak", peak);
			}
		}
		if (pfd[0].revents & POLLIN) {
			int fd = accept(lfd, NULL, NULL);
			if (fd >= 0 && n < BARRIER_MAX_CONNS)
				conns[n++] = (struct barrier_conn){.fd = fd};
			else if (fd >= 0)
				close(fd);
		}
		if (n_waiting < barrier)
			continue;
		for (size_t k = n; k-- > 0;) {
			if (!conns[k].waiting)
				continue;
			barrier_answer(&conns[k]);
			barrier_drop(conns, &n, k);
			answered++;
		}
		n_waiting = 0;
		barrier_log(log_fd, "answered", answered);
	}
}

static void barrier_start(struct barrier_server *s, const char *dir, int barrier)
{
	size_t plen = strlen(dir) + 16;
	s->log_path = malloc(plen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s->log_path);
	snprintf(s->log_path, plen, "%s/server.log", dir);
	int log_fd = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	CU_ASSERT_FATAL(log_fd >= 0);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(lfd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof a;
	CU_ASSERT_FATAL(bind(lfd, (struct sockaddr *)&a, sizeof a) == 0);
	CU_ASSERT_FATAL(listen(lfd, 16) == 0);
	CU_ASSERT_FATAL(getsockname(lfd, (struct sockaddr *)&a, &alen) == 0);
	s->port = ntohs(a.sin_port);
	fflush(NULL);
	s->pid = fork();
	CU_ASSERT_FATAL(s->pid >= 0);
	if (s->pid == 0)
		barrier_serve(lfd, barrier, log_fd);
	close(lfd);
	close(log_fd);
}

/* The server's last "peak" and "answered" figures (0 when none). */
static void barrier_stats(const struct barrier_server *s, int *peak, int *answered)
{
	*peak = *answered = 0;
	char *log = tu_read_file(s->log_path);
	for (char *line = log; line && *line;) {
		int v = 0;
		if (sscanf(line, "peak %d", &v) == 1)
			*peak = v;
		else if (sscanf(line, "answered %d", &v) == 1)
			*answered = v;
		char *eol = strchr(line, '\n');
		line = eol ? eol + 1 : NULL;
	}
	free(log);
}

static void barrier_stop(struct barrier_server *s)
{
	kill(s->pid, SIGKILL);
	while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
		;
	free(s->log_path);
}

/* ------------------------------------------------------------- the run */

static const char *const source_names[] = {"alpha", "bravo", "charlie", "delta"};

/* One run of the program: n_sources modelsdev sources on the server, no
 * retries. Runs that must open the barrier get a long transfer timeout, so
 * that a slow machine cannot make them fail; runs that must not open it
 * get a short one, so that they fail fast. */
struct run {
	char *dir;
	char *config;
	int status;
	char *out;
	char *err;
	int peak;
	int answered;
};

/* Transfer timeouts (ms) of runs whose barrier opens and of those whose
 * barrier stays closed. */
#define TIMEOUT_OPEN 30000
#define TIMEOUT_CLOSED 800

static void run_program(struct run *r, int jobs, size_t n_sources, int barrier, int timeout_ms)
{
	*r = (struct run){.dir = tu_tmpdir()};
	struct barrier_server s;
	barrier_start(&s, r->dir, barrier);

	char ini[4096];
	size_t len = 0;
	int n = snprintf(ini, sizeof ini,
			 "[core]\nplugin_dir = %s\ncache_dir = cache\noutput_dir = out\n"
			 "jobs = %d\nretries = 0\nconnect_timeout_ms = 2000\n"
			 "transfer_timeout_ms = %d\nsource_time_limit = 60\n",
			 tu_env("MF_TEST_PLUGIN_DIR"), jobs, timeout_ms);
	CU_ASSERT_FATAL(n > 0 && (size_t)n < sizeof ini);
	len = (size_t)n;
	for (size_t i = 0; i < n_sources; i++) {
		n = snprintf(ini + len, sizeof ini - len,
			     "\n[source %s]\nplugin = modelsdev\nurl = http://127.0.0.1:%d/%s.json\n",
			     source_names[i], s.port, source_names[i]);
		CU_ASSERT_FATAL(n > 0 && (size_t)n < sizeof ini - len);
		len += (size_t)n;
	}
	r->config = tu_write_file(r->dir, "modelfuse.ini", ini);

	char *argv[] = {(char *)tu_env("MF_TEST_PROGRAM"), "-c", r->config, "run", NULL};
	alarm(TEST_ALARM_SECONDS);
	r->status = tu_run(argv, NULL, &r->out, &r->err);
	alarm(0);
	barrier_stats(&s, &r->peak, &r->answered);
	barrier_stop(&s);
}

static void run_free(struct run *r)
{
	tu_rm_rf(r->dir);
	free(r->dir);
	free(r->config);
	free(r->out);
	free(r->err);
}

/* Every source of the catalog fresh with its one record. */
static void check_all_fresh(const struct run *r, size_t n_sources)
{
	size_t plen = strlen(r->dir) + 32;
	char *path = malloc(plen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	snprintf(path, plen, "%s/out/catalog.json", r->dir);
	json_error_t jerr;
	json_t *cat = json_load_file(path, 0, &jerr);
	free(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cat);
	json_t *sources = json_object_get(cat, "sources");
	CU_ASSERT_EQUAL(json_array_size(sources), n_sources);
	for (size_t i = 0; i < n_sources && i < json_array_size(sources); i++) {
		json_t *src = json_array_get(sources, i);
		const char *name = json_string_value(json_object_get(src, "name"));
		const char *status = json_string_value(json_object_get(src, "status"));
		CU_ASSERT_STRING_EQUAL(name ? name : "", source_names[i]);
		CU_ASSERT_STRING_EQUAL(status ? status : "", "fresh");
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(src, "records")), 1);
	}
	json_decref(cat);
}

static void show_failure(const struct run *r)
{
	fprintf(stderr, "\nexit %d, server peak %d, answered %d\nstderr:\n%s\n", r->status,
		r->peak, r->answered, r->err ? r->err : "");
}

/* ------------------------------------------------------------- tests */

/* jobs = 2: both sources fetch at once, so the barrier of two opens. */
static void test_two_jobs_open_barrier(void)
{
	struct run r;
	run_program(&r, 2, 2, 2, TIMEOUT_OPEN);
	if (r.status != 0 || r.peak != 2 || r.answered != 2)
		show_failure(&r);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_EQUAL(r.peak, 2);
	CU_ASSERT_EQUAL(r.answered, 2);
	if (r.status == 0)
		check_all_fresh(&r, 2);
	run_free(&r);
}

/* jobs = 1: one source at a time never opens a barrier of two. Each one
 * fails on its own transfer timeout (the run ends, it does not hang), no
 * source yielded records (exit 3), and never did two requests wait. */
static void test_one_job_is_serial(void)
{
	struct run r;
	run_program(&r, 1, 2, 2, TIMEOUT_CLOSED);
	if (r.status != 3 || r.peak != 1 || r.answered != 0)
		show_failure(&r);
	CU_ASSERT_EQUAL(r.status, 3);
	CU_ASSERT_EQUAL(r.peak, 1);
	CU_ASSERT_EQUAL(r.answered, 0);
	CU_ASSERT_PTR_NOT_NULL(r.err && strstr(r.err, "source alpha failed"));
	CU_ASSERT_PTR_NOT_NULL(r.err && strstr(r.err, "source bravo failed"));
	CU_ASSERT_PTR_NOT_NULL(r.err && strstr(r.err, "no source yielded records"));
	run_free(&r);
}

/* Four sources with jobs = 2 go in pairs: each pair opens the barrier,
 * and no third request ever waited beside them. */
static void test_jobs_cap_in_pairs(void)
{
	struct run r;
	run_program(&r, 2, 4, 2, TIMEOUT_OPEN);
	if (r.status != 0 || r.peak != 2 || r.answered != 4)
		show_failure(&r);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_EQUAL(r.peak, 2);
	CU_ASSERT_EQUAL(r.answered, 4);
	if (r.status == 0)
		check_all_fresh(&r, 4);
	run_free(&r);
}

/* Three sources, jobs = 2, a barrier of three: the third source only
 * starts once one of the first two has given up, so three never wait at
 * once and nothing is answered; all three fail cleanly. */
static void test_jobs_cap_never_exceeded(void)
{
	struct run r;
	run_program(&r, 2, 3, 3, TIMEOUT_CLOSED);
	if (r.status != 3 || r.peak != 2 || r.answered != 0)
		show_failure(&r);
	CU_ASSERT_EQUAL(r.status, 3);
	CU_ASSERT_EQUAL(r.peak, 2);
	CU_ASSERT_EQUAL(r.answered, 0);
	CU_ASSERT_PTR_NOT_NULL(r.err && strstr(r.err, "source charlie failed"));
	run_free(&r);
}

/* Three sources, jobs = 3, barrier of three: all at once. */
static void test_three_jobs_open_barrier(void)
{
	struct run r;
	run_program(&r, 3, 3, 3, TIMEOUT_OPEN);
	if (r.status != 0 || r.peak != 3 || r.answered != 3)
		show_failure(&r);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_EQUAL(r.peak, 3);
	CU_ASSERT_EQUAL(r.answered, 3);
	if (r.status == 0)
		check_all_fresh(&r, 3);
	run_free(&r);
}

int main(void)
{
	static const struct tu_test tests[] = {
		{"jobs=2: two sources fetch at once", test_two_jobs_open_barrier},
		{"jobs=1: one at a time, fails cleanly on timeouts", test_one_job_is_serial},
		{"jobs=2: four sources in pairs", test_jobs_cap_in_pairs},
		{"jobs=2: never three at once", test_jobs_cap_never_exceeded},
		{"jobs=3: three sources fetch at once", test_three_jobs_open_barrier},
		{NULL, NULL},
	};
	return tu_main("concurrency", tests);
}
