#include "mf_build_config.h"
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "fetch.h"
#include "host.h"
#include "log.h"
#include "util.h"

/* "At most a few redirects" (SPEC §9); not configurable yet. */
#define RUNNER_MAX_REDIRECTS 5
/* A child that sends more than this is not sending records but noise; it is
 * killed before it can exhaust the parent's memory. */
#define RUNNER_MAX_STREAM_BYTES ((size_t)1 << 30)
/* How long to wait between checks for a child that closed its pipe but has
 * not exited yet. */
#define RUNNER_REAP_POLL_MS 10

/* ------------------------------------------------------------- the child */

static const char *status_word(int rc)
{
	switch (rc) {
	case MF_ENOMEM:
		return "out of memory";
	case MF_EINVAL:
		return "invalid argument";
	case MF_EPARSE:
		return "parse error";
	case MF_EDISABLED:
		return "disabled";
	default:
		return "error";
	}
}

/* Records go into the stream as they are emitted (the writer flushes in
 * chunks), so a child never holds more than what one page produced. The
 * host's emit has already dropped and counted records without an id. */
static int child_sink_record(void *arg, struct mf_record *rec)
{
	int rc = stream_write_record(arg, rec);
	record_free(rec);
	return rc == 0 ? MF_OK : MF_ERROR;
}

/* Fetch and normalize page after page. Returns the source status and puts
 * the reason for a failure into msg. */
static enum source_status run_pages(const struct config *cfg, const struct mf_plugin *plugin,
				    const struct run_options *opts, struct mf_context *ctx,
				    void *state, struct stream_writer *w, char *msg, size_t msglen)
{
	char *origin = url_origin(ctx->url);
	const struct fetch_limits lim = {
		.connect_timeout_ms = cfg->connect_timeout_ms,
		.transfer_timeout_ms = cfg->transfer_timeout_ms,
		.max_body_bytes = cfg->max_body_bytes,
		.max_redirects = RUNNER_MAX_REDIRECTS,
		.ca_file = cfg->ca_file,
		.auth_origin = origin,
		.offline = opts && opts->offline,
	};
	enum source_status st = SOURCE_FAILED;
	struct fetched_page page = {0};
	bool have_page = false;
	for (unsigned index = 0;; index++) {
		struct mf_request req;
		request_init(&req);
		int rc = plugin->fetch(&host_table, ctx, state, have_page ? &page.page : NULL,
				       &req);
		if (rc == MF_DONE) {
			request_clear(&req);
			st = SOURCE_FRESH;
			break;
		}
		if (rc != MF_OK || !req.url) {
			snprintf(msg, msglen, "plugin could not plan page %u: %s", index + 1,
				 rc != MF_OK ? status_word(rc) : "no URL given");
			request_clear(&req);
			break;
		}
		if (cfg->max_pages > 0 && index >= (uint64_t)cfg->max_pages) {
			snprintf(msg, msglen, "more than %lld pages", (long long)cfg->max_pages);
			request_clear(&req);
			break;
		}
		struct fetched_page next;
		rc = fetch_perform(&lim, &req, index, &next, msg, msglen);
		request_clear(&req);
		if (rc != 0)
			break;
		/* The previous page stays alive until the next one is in, because
		 * fetch plans from it. */
		fetched_page_free(&page);
		page = next;
		have_page = true;
		rc = plugin->normalize(&host_table, ctx, state, &page.page);
		if (stream_writer_flush(w) != 0) {
			snprintf(msg, msglen, "writing the record stream: %s", strerror(w->error));
			break;
		}
		if (rc != MF_OK) {
			snprintf(msg, msglen, "normalizing page %u (%s) failed: %s", index + 1,
				 page.url, status_word(rc));
			break;
		}
	}
	fetched_page_free(&page);
	free(origin);
	return st;
}

int runner_source_main(const struct config *cfg, const struct source_config *src,
		       const struct mf_plugin *plugin, const struct run_options *opts, int fd)
{
	struct stream_writer w;
	stream_writer_init(&w, fd);
	struct mf_context ctx;
	context_init(&ctx, cfg, src, plugin, child_sink_record, &w);

	char msg[1024] = "";
	char fetched_at[32] = "";
	enum source_status st = SOURCE_FAILED;
	void *state = NULL;
	int rc = plugin->init ? plugin->init(&host_table, &ctx, &state) : MF_OK;
	if (rc == MF_EDISABLED) {
		st = SOURCE_DISABLED;
		snprintf(msg, sizeof msg, "disabled by the plugin");
	} else if (rc != MF_OK) {
		snprintf(msg, sizeof msg, "plugin init failed: %s", status_word(rc));
	} else {
		st = run_pages(cfg, plugin, opts, &ctx, state, &w, msg, sizeof msg);
		if (plugin->fini)
			plugin->fini(&host_table, &ctx, state);
	}
	if (st == SOURCE_FRESH) {
		utc_now_iso(fetched_at, sizeof fetched_at);
		msg[0] = '\0';
	}
	stream_write_end(&w, st, fetched_at, msg);
	int werr = stream_writer_flush(&w) != 0 || w.error != 0;
	stream_writer_free(&w);
	return werr ? 1 : 0;
}

/* ------------------------------------------------------------- the parent */

struct child {
	pid_t pid;
	size_t index; /* into cfg->sources and results */
	int fd;       /* read end of the pipe; -1 once at EOF */
	struct strbuf buf;
	double started;
	double deadline; /* monotonic seconds; 0: none */
	bool reaped;
	int wstatus;
	bool timed_out;
	bool too_big;
};

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Close every descriptor but the standard ones and keep: a child must not
 * hold other children's pipes (their EOF would never come), the run's lock
 * or anything else the parent opened. */
static void close_inherited_fds(int keep)
{
#ifdef SYS_close_range
	unsigned k = (unsigned)keep;
	bool ok = k <= 3 || syscall(SYS_close_range, 3U, k - 1, 0U) == 0;
	if (ok && syscall(SYS_close_range, k < 3 ? 3U : k + 1, ~0U, 0U) == 0)
		return;
#endif
	long max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = 3; fd < max; fd++)
		if (fd != keep)
			close(fd);
}

_Noreturn static void child_main(const struct config *cfg, const struct source_config *src,
				 const struct mf_plugin *plugin, const struct run_options *opts,
				 int fd, pid_t parent)
{
#ifdef __linux__
	/* A child must not outlive an interrupted run, hanging plugin or not. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
#else
	(void)parent;
#endif
	/* SIGPIPE is ignored: with CURLOPT_NOSIGNAL libcurl no longer guards
	 * against it, and a TLS peer that hangs up must fail the transfer, not
	 * kill the source. A write to a dead parent then fails with EPIPE and
	 * the child exits non-zero. */
	signal(SIGPIPE, SIG_IGN);
	close_inherited_fds(fd);
	int rc = runner_source_main(cfg, src, plugin, opts, fd);
	/* _exit: the parent's atexit handlers and stdio buffers are not ours. */
	_exit(rc);
}

static void set_failed(struct source_result *r, char *message)
{
	r->status = SOURCE_FAILED;
	free(r->message);
	r->message = message;
}

static char *nonempty_or_null(char *s)
{
	if (s && !*s) {
		free(s);
		return NULL;
	}
	return s;
}

/* Turn a finished child's exit status and bytes into its result. */
static void settle_child(struct child *c, struct source_result *r, double limit)
{
	r->seconds = now_seconds() - c->started;
	if (c->timed_out) {
		set_failed(r, xasprintf("killed after %g s time limit", limit));
	} else if (c->too_big) {
		set_failed(r, xasprintf("record stream larger than %zu bytes: killed",
					RUNNER_MAX_STREAM_BYTES));
	} else if (WIFSIGNALED(c->wstatus)) {
		int sig = WTERMSIG(c->wstatus);
		set_failed(r, xasprintf("plugin crashed: killed by signal %d (%s)", sig,
					strsignal(sig)));
	} else if (!WIFEXITED(c->wstatus) || WEXITSTATUS(c->wstatus) != 0) {
		set_failed(r, xasprintf("plugin process exited with status %d",
					WIFEXITED(c->wstatus) ? WEXITSTATUS(c->wstatus) : -1));
	} else {
		char err[256];
		struct stream_end end = {0};
		if (stream_decode(c->buf.data, c->buf.len, &r->records, &end, err, sizeof err) !=
		    0) {
			set_failed(r, xasprintf("broken record stream: %s", err));
		} else {
			r->status = end.status;
			r->fetched_at = nonempty_or_null(end.fetched_at);
			r->message = nonempty_or_null(end.message);
			end.fetched_at = end.message = NULL;
			/* Records streamed before a failure are not usable data. */
			if (r->status == SOURCE_FAILED)
				record_array_free(&r->records);
		}
		stream_end_free(&end);
	}
	strbuf_free(&c->buf);
}

/* Read what a child has sent so far, without blocking. */
static void drain_child(struct child *c)
{
	char chunk[65536];
	for (;;) {
		ssize_t n = read(c->fd, chunk, sizeof chunk);
		if (n > 0) {
			strbuf_append(&c->buf, chunk, (size_t)n);
			if (c->buf.len > RUNNER_MAX_STREAM_BYTES) {
				c->too_big = true;
				break;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		break; /* EOF, or an error that no retry will cure */
	}
	close(c->fd);
	c->fd = -1;
}

static void reap(struct child *c, bool block)
{
	if (c->reaped)
		return;
	for (;;) {
		pid_t p = waitpid(c->pid, &c->wstatus, block ? 0 : WNOHANG);
		if (p == c->pid) {
			c->reaped = true;
			return;
		}
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0) {
			/* Someone else reaped it (the caller's SIGCHLD handling):
			 * report it as a failed process rather than hanging. */
			c->reaped = true;
			c->wstatus = 0xff00;
		}
		return;
	}
}

static void kill_child(struct child *c)
{
	if (!c->reaped) {
		kill(c->pid, SIGKILL);
		reap(c, true);
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}

/* Start sources[i]'s child. Returns false (with the result filled) when no
 * child could be started. */
static bool start_child(const struct config *cfg, const struct mf_plugin *plugin,
			const struct run_options *opts, size_t i, struct child *slot,
			struct source_result *r)
{
	const struct source_config *src = &cfg->sources[i];
	int p[2];
	if (pipe(p) != 0) {
		set_failed(r, xasprintf("cannot create a pipe: %s", strerror(errno)));
		return false;
	}
	/* Whatever sits in stdio buffers would otherwise be written twice. */
	fflush(NULL);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		set_failed(r, xasprintf("cannot start a process: %s", strerror(errno)));
		close(p[0]);
		close(p[1]);
		return false;
	}
	if (pid == 0)
		child_main(cfg, src, plugin, opts, p[1], parent);
	close(p[1]);
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	double t = now_seconds();
	*slot = (struct child){
		.pid = pid,
		.index = i,
		.fd = p[0],
		.started = t,
		.deadline = src->time_limit > 0 ? t + src->time_limit : 0,
	};
	strbuf_init(&slot->buf);
	return true;
}

/* Milliseconds poll may sleep: until the nearest deadline, briefly when a
 * child closed its pipe without having exited, forever otherwise. */
static int poll_timeout(const struct child *running, size_t n)
{
	double now = now_seconds();
	double wait = -1;
	for (size_t k = 0; k < n; k++) {
		const struct child *c = &running[k];
		if (c->fd < 0 && !c->reaped && (wait < 0 || wait > RUNNER_REAP_POLL_MS / 1e3))
			wait = RUNNER_REAP_POLL_MS / 1e3;
		if (c->deadline > 0) {
			double left = c->deadline > now ? c->deadline - now : 0;
			if (wait < 0 || left < wait)
				wait = left;
		}
	}
	if (wait < 0)
		return -1;
	double ms = ceil(wait * 1e3);
	return ms > 60000 ? 60000 : (int)ms;
}

int runner_run(const struct config *cfg, const struct loaded_plugin *plugins,
	       const struct run_options *opts, struct source_result *results)
{
	size_t n = cfg->n_sources;
	for (size_t i = 0; i < n; i++) {
		results[i] = (struct source_result){
			.source = &cfg->sources[i],
			.plugin = plugins ? plugins[i].desc : NULL,
			.status = SOURCE_FAILED,
		};
	}
	/* libcurl's global set-up is not thread-safe and must not be repeated in
	 * every child: do it once here. */
	fetch_global_init();

	size_t jobs = cfg->jobs > 0 ? (size_t)cfg->jobs : 1;
	struct child *running = xcalloc(jobs, sizeof *running);
	struct pollfd *pfds = xcalloc(jobs, sizeof *pfds);
	size_t n_running = 0, next = 0;
	while (next < n || n_running > 0) {
		while (n_running < jobs && next < n) {
			size_t i = next++;
			struct source_result *r = &results[i];
			if (!cfg->sources[i].enabled) {
				r->status = SOURCE_DISABLED;
				r->message = xstrdup("enabled = no");
				r->plugin = NULL;
				continue;
			}
			if (!r->plugin) {
				set_failed(r, xstrdup("plugin not loaded"));
				continue;
			}
			if (start_child(cfg, r->plugin, opts, i, &running[n_running], r))
				n_running++;
		}
		if (n_running == 0)
			continue;

		size_t n_pfds = 0;
		for (size_t k = 0; k < n_running; k++) {
			if (running[k].fd >= 0)
				pfds[n_pfds++] =
					(struct pollfd){.fd = running[k].fd, .events = POLLIN};
		}
		if (poll(pfds, n_pfds, poll_timeout(running, n_running)) < 0 && errno != EINTR) {
			log_error("waiting for source processes: %s", strerror(errno));
			break;
		}
		/* Read whatever is there; a readable or hung-up fd never blocks. */
		for (size_t k = 0; k < n_running; k++)
			if (running[k].fd >= 0)
				drain_child(&running[k]);

		double now = now_seconds();
		for (size_t k = 0; k < n_running;) {
			struct child *c = &running[k];
			const struct source_config *src = &cfg->sources[c->index];
			if (c->fd < 0)
				reap(c, false);
			if (c->too_big) {
				kill_child(c);
			} else if (c->deadline > 0 && now >= c->deadline &&
				   (c->fd >= 0 || !c->reaped)) {
				/* A child that already exited but whose pipe some
				 * grandchild keeps open is settled on what it sent. */
				c->timed_out = !c->reaped;
				kill_child(c);
			}
			if (c->fd >= 0 || !c->reaped) {
				k++;
				continue;
			}
			settle_child(c, &results[c->index], src->time_limit);
			running[k] = running[--n_running];
		}
	}
	/* Only reached early when poll itself failed: nothing may be left behind. */
	for (size_t k = 0; k < n_running; k++) {
		kill_child(&running[k]);
		set_failed(&results[running[k].index], xstrdup("aborted: poll failed"));
		strbuf_free(&running[k].buf);
	}
	free(pfds);
	free(running);
	return 0;
}

void source_result_free(struct source_result *r)
{
	if (!r)
		return;
	free(r->message);
	free(r->fetched_at);
	record_array_free(&r->records);
	r->message = r->fetched_at = NULL;
}
