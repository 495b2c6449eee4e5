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
#include <strings.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "cache.h"
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
/* How often to look for a child that exited while something it started still
 * holds its pipe open. */
#define RUNNER_EXIT_POLL_MS 100
/* Address space a source's child may take, in MiB; 0: half of physical
 * memory, at least 2 GiB and at most 16 GiB. A plugin that allocates without
 * bound then fails on its own instead of pushing the machine into the OOM
 * killer. Compiled in until [core] has a key for it; the tests build with a
 * small value. */
#ifndef RUNNER_MEMORY_LIMIT_MB
#define RUNNER_MEMORY_LIMIT_MB 0
#endif

/* Sanitizer runtimes reserve terabytes of address space and trace the
 * process for leak checks: no address-space limit and no undumpable flag
 * for them. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RUNNER_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
	__has_feature(memory_sanitizer)
#define RUNNER_SANITIZED 1
#endif
#endif

/* ------------------------------------------------------------- the child */

static void close_inherited_fds(int keep);
static double now_seconds(void);

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

/* Records go into a stream as they are emitted (the writer flushes in
 * chunks), so a child never holds more than what one page produced. The
 * host's emit has already dropped and counted records without an id. */
static int child_sink_record(void *arg, struct mf_record *rec)
{
	struct stream_writer *w = arg;
	int rc = stream_write_record(w, rec);
	record_free(rec);
	/* MF_EINVAL: this record alone was too large to frame (host_emit says
	 * so); MF_ERROR: the stream itself failed. */
	return rc == 0 ? MF_OK : w->error ? MF_ERROR : MF_EINVAL;
}

/* One source's run inside its child. */
struct source_run {
	const struct config *cfg;
	const struct source_config *src;
	const struct mf_plugin *plugin;
	const struct run_options *opts;
	struct mf_context ctx;
	void *state;
	struct stream_writer *out; /* the pipe to the parent */
	struct cache cache;
	char *options_hash;
	bool usable;   /* the cache holds this source's last good data */
	bool reusable; /* ... made by this very plugin version and options */
	/* Validators of the first page just fetched (or renewed by a 304). */
	char *etag;
	char *last_modified;
	/* The outcome, sent in the end frame. */
	const char *records_name; /* the kept stream the records are, or NULL */
	bool pending;		  /* ... not sent: the parent knows it */
	uint64_t pending_records;
	enum source_status status;
	char message[2048];
	char fetched_at[32];
};

static bool name_listed(char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* Send the records of a stored stream with status st; a damaged file makes
 * the source fail instead. */
static void send_stream(struct source_run *sr, const char *path, uint64_t count,
			enum source_status st)
{
	char err[512];
	/* Only a stream the cache keeps has a name the next run can know. */
	sr->records_name = NULL;
	sr->pending = false;
	char *kept = sr->cache.valid && sr->cache.m.records_file
			 ? cache_file_path(&sr->cache, sr->cache.m.records_file)
			 : NULL;
	if (kept && strcmp(kept, path) == 0)
		sr->records_name = sr->cache.m.records_file;
	free(kept);
	const char *known = sr->opts->known_records
				? sr->opts->known_records[sr->src - sr->cfg->sources]
				: NULL;
	if (sr->records_name && known && strcmp(known, sr->records_name) == 0) {
		sr->pending = true;
		sr->pending_records = count;
		sr->status = st;
		return;
	}
	if (cache_send_records(path, sr->out, count, err, sizeof err) != 0) {
		sr->records_name = NULL;
		sr->status = SOURCE_FAILED;
		snprintf(sr->message, sizeof sr->message, "%s", err);
		sr->fetched_at[0] = '\0';
		return;
	}
	sr->status = st;
}

/* Serve the last good data: `cached` (why NULL) or `stale` because of why. */
static void send_cached(struct source_run *sr, enum source_status st, const char *why)
{
	char *path = cache_file_path(&sr->cache, sr->cache.m.records_file);
	snprintf(sr->fetched_at, sizeof sr->fetched_at, "%s", sr->cache.m.fetched_at);
	if (why)
		snprintf(sr->message, sizeof sr->message, "%s; using cache from %s", why,
			 sr->cache.m.fetched_at);
	else
		sr->message[0] = '\0';
	send_stream(sr, path, sr->cache.m.records, st);
	free(path);
}

/* A refresh failed for `why`: the last good data if any, else failed. */
static void fall_back(struct source_run *sr, const char *why)
{
	if (sr->usable) {
		send_cached(sr, SOURCE_STALE, why);
		return;
	}
	sr->status = SOURCE_FAILED;
	sr->fetched_at[0] = '\0';
	snprintf(sr->message, sizeof sr->message, "%s", why);
}

/* ------------------------------------------------------------- refresh_command */

/* The last non-empty line of a command's output, for the message. */
static void last_line(const struct strbuf *out, char *line, size_t len)
{
	const char *end = out->data ? out->data + out->len : NULL;
	while (end && end > out->data && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	const char *start = end;
	while (start && start > out->data && start[-1] != '\n')
		start--;
	int n = end ? (int)(end - start) : 0;
	snprintf(line, len, "%.*s", n > 200 ? 200 : n, start ? start : "");
}

static void keep_output(struct strbuf *out, const char *chunk, size_t n)
{
	strbuf_append(out, chunk, n);
	if (out->len > 65536) {
		memmove(out->data, out->data + 32768, out->len - 32768);
		out->len -= 32768;
		out->data[out->len] = '\0';
	}
}

/* Collect the command's output (its last 32 to 64 KiB) until it exits or
 * its time is up. Returns true when the time limit was hit. */
static bool watch_command(pid_t pid, int fd, double limit, struct strbuf *out, int *wstatus)
{
	double deadline = now_seconds() + limit;
	bool eof = false;
	char chunk[4096];
	for (;;) {
		pid_t p = waitpid(pid, wstatus, WNOHANG);
		if (p == pid || (p < 0 && errno != EINTR)) {
			if (p < 0)
				*wstatus = 1 << 8;
			/* What is already in the pipe, not what a grandchild
			 * holding it open may still write. */
			struct pollfd pf = {.fd = fd, .events = POLLIN};
			for (int i = 0; !eof && i < 16 && poll(&pf, 1, 0) > 0; i++) {
				ssize_t n = read(fd, chunk, sizeof chunk);
				if (n <= 0)
					break;
				keep_output(out, chunk, (size_t)n);
			}
			return false;
		}
		double left = deadline - now_seconds();
		if (left <= 0)
			return true;
		int ms = left > 0.1 ? 100 : (int)(left * 1000) + 1;
		if (eof) {
			struct timespec nap = {.tv_nsec = 10 * 1000000};
			nanosleep(&nap, NULL);
			continue;
		}
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		if (poll(&pf, 1, ms) <= 0)
			continue;
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n > 0)
			keep_output(out, chunk, (size_t)n);
		else if (n == 0 || errno != EINTR)
			eof = true;
	}
}

_Noreturn static void exec_command(char **argv, int out_fd, const char *cwd, pid_t parent)
{
	setpgid(0, 0);
#ifdef __linux__
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126);
#else
	(void)parent;
#endif
	signal(SIGPIPE, SIG_DFL);
	/* The source's memory limit is for the plugin, not for this command
	 * (a JVM or a Go program reserves far more address space than it uses). */
	struct rlimit as;
	if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != as.rlim_max) {
		as.rlim_cur = as.rlim_max;
		setrlimit(RLIMIT_AS, &as);
	}
	int null = open("/dev/null", O_RDONLY);
	if (null >= 0 && null != 0) {
		dup2(null, 0);
		close(null);
	}
	dup2(out_fd, 1);
	dup2(out_fd, 2);
	/* Above all the pipe to the parent: the run waits for its EOF. */
	close_inherited_fds(2);
	if (cwd && chdir(cwd) != 0) {
		dprintf(2, "cannot change to %s: %s\n", cwd, strerror(errno));
		_exit(126);
	}
	execvp(argv[0], argv);
	dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Run the source's refresh_command: no shell, {dir} replaced, stdin from
 * /dev/null, output kept for the message, killed at refresh_time_limit.
 * Returns 0, or -1 with why filled. */
static int run_refresh_command(const struct source_run *sr, char *why, size_t whylen)
{
	char **argv = NULL;
	char err[256];
	if (config_split_command(sr->src->refresh_command, &argv, err, sizeof err) != 0) {
		snprintf(why, whylen, "bad refresh_command: %s", err);
		return -1;
	}
	char *dir = config_refresh_dir(sr->cfg, sr->src);
	int rc = -1;
	int p[2] = {-1, -1};
	if (mkdir_p(dir) != 0) {
		snprintf(why, whylen, "refresh command not run: cannot create %s: %s", dir,
			 strerror(errno));
		goto out;
	}
	for (size_t i = 0; argv[i]; i++) {
		if (!strstr(argv[i], "{dir}"))
			continue;
		struct strbuf sb;
		strbuf_init(&sb);
		const char *s = argv[i];
		for (const char *at; (at = strstr(s, "{dir}")); s = at + 5) {
			strbuf_append(&sb, s, (size_t)(at - s));
			strbuf_puts(&sb, dir);
		}
		strbuf_puts(&sb, s);
		free(argv[i]);
		argv[i] = strbuf_detach(&sb);
	}
	free(dir);
	dir = NULL;
	if (pipe2(p, O_CLOEXEC) != 0) {
		snprintf(why, whylen, "refresh command not run: %s", strerror(errno));
		goto out;
	}
	fflush(NULL);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "refresh command not run: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		exec_command(argv, p[1], sr->cfg->dir, parent);
	close(p[1]);
	p[1] = -1;
	struct strbuf output;
	strbuf_init(&output);
	int wstatus = 0;
	bool timed_out = watch_command(pid, p[0], sr->src->refresh_time_limit, &output, &wstatus);
	if (timed_out) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
			;
	}
	char line[256];
	last_line(&output, line, sizeof line);
	strbuf_free(&output);
	if (timed_out)
		snprintf(why, whylen, "refresh command %s killed after %g s time limit", argv[0],
			 sr->src->refresh_time_limit);
	else if (WIFSIGNALED(wstatus))
		snprintf(why, whylen, "refresh command %s killed by signal %d%s%s", argv[0],
			 WTERMSIG(wstatus), *line ? ": " : "", line);
	else if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
		snprintf(why, whylen, "refresh command %s failed with status %d%s%s", argv[0],
			 WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1, *line ? ": " : "", line);
	else
		rc = 0;
out:
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	free(dir);
	config_free_argv(argv);
	return rc;
}

/* ------------------------------------------------------------- fetching */

static void take_validators(struct source_run *sr, const struct fetched_page *page)
{
	const char *etag = page->page.header(&page->page, "ETag");
	const char *lm = page->page.header(&page->page, "Last-Modified");
	if (etag) {
		free(sr->etag);
		sr->etag = xstrdup(etag);
	}
	if (lm) {
		free(sr->last_modified);
		sr->last_modified = xstrdup(lm);
	}
}

static bool has_scheme(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);
	return url && strncasecmp(url, scheme, n) == 0 && url[n] == ':';
}

/* What a page of a source may be, by the source's own URL: pages of a web
 * source stay on the web (an upstream must not steer a plugin into local
 * files), and pages of an https source stay on https. Returns NULL when
 * the page is allowed, else why not. */
static const char *page_scheme_refusal(const char *source_url, const char *page_url)
{
	bool web = has_scheme(page_url, "http") || has_scheme(page_url, "https");
	if (has_scheme(source_url, "https"))
		return has_scheme(page_url, "https") ? NULL
		       : web			     ? "https source, http page"
						     : "not an https URL";
	if (has_scheme(source_url, "http"))
		return web ? NULL : "not an http(s) URL";
	return NULL;
}

/* Fetch every page the plugin plans into the build. The first request is
 * conditional when `conditional`; a 304 to it sets *not_modified. Returns
 * 0, or -1 with err filled. */
static int fetch_pages(struct source_run *sr, struct cache_build *b, bool conditional,
		       bool *not_modified, char *err, size_t errlen)
{
	const struct config *cfg = sr->cfg;
	char *origin = url_origin(sr->ctx.url);
	const struct fetch_limits lim = {
		.connect_timeout_ms = cfg->connect_timeout_ms,
		.transfer_timeout_ms = cfg->transfer_timeout_ms,
		.max_body_bytes = cfg->max_body_bytes,
		.max_redirects = RUNNER_MAX_REDIRECTS,
		.ca_file = cfg->ca_file,
		.auth_origin = origin,
		.offline = sr->opts->offline,
		.retries = cfg->retries,
		.backoff_ms = cfg->backoff_ms,
		.retry_after_max_ms = (int64_t)(cfg->retry_after_max * 1000),
		.log_prefix = sr->src->name,
	};
	int rc = -1;
	struct fetched_page page = {0};
	bool have_page = false;
	*not_modified = false;
	/* A file: 304 vouches for one file only (fetch.h): every page the
	 * plugin plans is validated against the cached page of that place,
	 * and a payload is unchanged only when all of them are. */
	bool by_page = conditional && has_scheme(sr->ctx.url, "file");
	size_t validated = 0; /* pages answered 304, not in the build */
	for (unsigned index = 0;; index++) {
		struct mf_request req;
		request_init(&req);
		int prc = sr->plugin->fetch(&host_table, &sr->ctx, sr->state,
					    have_page ? &page.page : NULL, &req);
		if (prc == MF_DONE) {
			request_clear(&req);
			rc = 0;
			if (validated > 0 && validated == sr->cache.m.n_pages)
				*not_modified = true;
			else if (validated > 0)
				rc = cache_build_add_cached(b, &sr->cache, validated, err, errlen);
			break;
		}
		if (prc != MF_OK || !req.url) {
			snprintf(err, errlen, "plugin could not plan page %u: %s", index + 1,
				 prc != MF_OK ? status_word(prc) : "no URL given");
			request_clear(&req);
			break;
		}
		const char *refusal = page_scheme_refusal(sr->ctx.url, req.url);
		if (refusal) {
			char *shown = url_redacted(req.url);
			snprintf(err, errlen, "page %u: %s refused: %s", index + 1, shown, refusal);
			free(shown);
			request_clear(&req);
			break;
		}
		if (cfg->max_pages > 0 && index >= (uint64_t)cfg->max_pages) {
			snprintf(err, errlen, "more than %lld pages", (long long)cfg->max_pages);
			request_clear(&req);
			break;
		}
		bool cond = index == 0 && conditional;
		if (cond && sr->cache.m.etag)
			request_add_header(&req, "If-None-Match", sr->cache.m.etag, false);
		if (cond && sr->cache.m.last_modified)
			request_add_header(&req, "If-Modified-Since", sr->cache.m.last_modified,
					   false);
		const char *page_etag = by_page && index > 0 && validated == index
						? cache_page_etag(&sr->cache, index, req.url)
						: NULL;
		if (page_etag) {
			cond = true;
			request_add_header(&req, "If-None-Match", page_etag, false);
		}
		struct fetched_page next;
		int frc = fetch_perform(&lim, &req, index, &next, err, errlen);
		request_clear(&req);
		if (frc == FETCH_NOT_MODIFIED && cond && by_page) {
			/* The plugin plans the next page from the cached copy. */
			if (index == 0)
				take_validators(sr, &next);
			fetched_page_free(&next);
			fetched_page_free(&page);
			have_page = false;
			if (cache_read_page(&sr->cache, index, &page, err, errlen) != 0)
				break;
			have_page = true;
			validated++;
			continue;
		}
		if (frc == 0 && validated > 0) {
			/* A page changed: the ones before it go in from the cache. */
			if (cache_build_add_cached(b, &sr->cache, validated, err, errlen) != 0) {
				fetched_page_free(&next);
				break;
			}
			validated = 0;
		}
		if (frc == FETCH_NOT_MODIFIED) {
			if (cond) {
				take_validators(sr, &next);
				*not_modified = true;
				rc = 0;
			} else {
				char *shown = url_redacted(next.url);
				snprintf(err, errlen,
					 "GET %s: HTTP 304 to a request that was not conditional",
					 shown);
				free(shown);
			}
			fetched_page_free(&next);
			break;
		}
		if (frc != 0)
			break;
		if (index == 0)
			take_validators(sr, &next);
		int arc = cache_build_add_page(b, &next, err, errlen);
		/* The previous page stays alive until the next one is in, because
		 * fetch plans from it; older ones live on disk only. */
		fetched_page_free(&page);
		page = next;
		have_page = true;
		if (arc != 0)
			break;
	}
	fetched_page_free(&page);
	free(origin);
	return rc;
}

/* Normalize the build's pages, one at a time from disk, into its record
 * stream file. Returns the record count, or -1 with err filled. */
static int64_t normalize_pages(struct source_run *sr, struct cache_build *b, char *err,
			       size_t errlen)
{
	int fd = cache_build_open_stream(b, err, errlen);
	if (fd < 0)
		return -1;
	struct stream_writer w;
	stream_writer_init(&w, fd);
	sr->ctx.sink = child_sink_record;
	sr->ctx.sink_arg = &w;
	int64_t count = -1;
	size_t i = 0;
	for (; i < b->n_pages; i++) {
		struct fetched_page page;
		if (cache_build_read_page(b, i, &page, err, errlen) != 0)
			break;
		int rc = sr->plugin->normalize(&host_table, &sr->ctx, sr->state, &page.page);
		if (stream_writer_flush(&w) != 0) {
			snprintf(err, errlen, "writing %s: %s", b->stream_path, strerror(w.error));
			fetched_page_free(&page);
			break;
		}
		if (rc != MF_OK) {
			snprintf(err, errlen, "normalizing page %zu (%s) failed: %s", i + 1,
				 page.url, status_word(rc));
			fetched_page_free(&page);
			break;
		}
		fetched_page_free(&page);
	}
	/* The stored stream carries no time or message, so that the same
	 * records always make the same file (and content name). */
	if (i == b->n_pages) {
		if (stream_write_end(&w, SOURCE_FRESH, "", "") == 0)
			count = w.records;
		else
			snprintf(err, errlen, "writing %s: %s", b->stream_path, strerror(w.error));
	}
	sr->ctx.sink = NULL;
	sr->ctx.sink_arg = NULL;
	stream_writer_free(&w);
	if (close(fd) != 0 && count >= 0) {
		snprintf(err, errlen, "writing %s: %s", b->stream_path, strerror(errno));
		count = -1;
	}
	return count;
}

/* The shrink guard: a payload with far fewer records than the last good
 * one of the same URL and options is refused unless accepted for this run. */
static bool shrink_refused(struct source_run *sr, uint64_t count, char *why, size_t whylen)
{
	const struct cache_manifest *m = &sr->cache.m;
	if (!sr->usable || strcmp(m->options_hash, sr->options_hash) != 0)
		return false;
	if ((double)count >= sr->src->shrink_ratio * (double)m->records)
		return false;
	if (name_listed(sr->opts->accept_shrink, sr->opts->n_accept_shrink, sr->src->name)) {
		log_msg(MF_LOG_WARNING, sr->src->name,
			"%llu records where the last good payload had %llu: accepted "
			"(--accept-shrink)",
			(unsigned long long)count, (unsigned long long)m->records);
		return false;
	}
	snprintf(why, whylen,
		 "shrink guard: the new payload has %llu records, fewer than %g of the last "
		 "good %llu: refused (accept it once with --accept-shrink %s)",
		 (unsigned long long)count, sr->src->shrink_ratio, (unsigned long long)m->records,
		 sr->src->name);
	return true;
}

/* The data of a refresh was sent: fresh as of now, or stale because of
 * note (a refresh command that failed or was not run). */
static void settle_refresh(struct source_run *sr, const char *note, const char *now)
{
	if (sr->status == SOURCE_FAILED)
		return;
	if (*note) {
		sr->status = SOURCE_STALE;
		snprintf(sr->message, sizeof sr->message, "%s; using the data as it is", note);
		return;
	}
	snprintf(sr->fetched_at, sizeof sr->fetched_at, "%s", now);
}

/* Fetch the source now (past its TTL, forced, or named by --only). */
static void refresh(struct source_run *sr)
{
	const struct run_options *opts = sr->opts;
	char now[32];
	char note[1024] = ""; /* a reason the data is stale even if it is read */
	char err[1024] = "";
	char why[2048];
	if (sr->src->refresh_command) {
		if (opts->offline)
			snprintf(note, sizeof note, "offline: refresh command not run");
		else if (run_refresh_command(sr, note, sizeof note) != 0)
			log_msg(MF_LOG_WARNING, sr->src->name, "%s", note);
	}

	struct cache_build b;
	if (cache_build_begin(&b, &sr->cache, opts->dry_run, err, sizeof err) != 0) {
		fall_back(sr, err);
		return;
	}
	/* A file: source's 304 comes from a stat, not from its upstream:
	 * --force-refresh reads it again. */
	bool conditional = sr->reusable && (sr->cache.m.etag || sr->cache.m.last_modified) &&
			   !(opts->force_refresh && has_scheme(sr->ctx.url, "file"));
	bool not_modified = false;
	if (fetch_pages(sr, &b, conditional, &not_modified, err, sizeof err) != 0) {
		snprintf(why, sizeof why, "%s%s%s", note, *note ? "; " : "", err);
		fall_back(sr, why);
		goto out;
	}
	utc_now_iso(now, sizeof now);
	/* After a failed refresh command nothing is renewed or committed: the
	 * cache keeps its date, so the next run tries the command again. */
	bool keep = !*note && !opts->dry_run && sr->cache.dir;
	bool unchanged = not_modified;
	if (!unchanged) {
		cache_build_seal(&b);
		/* Normalize once: the same payload, plugin version and options
		 * made the cached records. */
		unchanged = sr->reusable && strcmp(b.sha256, sr->cache.m.sha256) == 0;
	}
	if (unchanged) {
		if (keep && cache_renew(&sr->cache, now, sr->etag, sr->last_modified, err,
					sizeof err) != 0)
			log_msg(MF_LOG_WARNING, sr->src->name, "cannot renew the cache: %s", err);
		/* What killed runs left (their tmp-PID folders) goes now, not
		 * only when a new payload is committed: an upstream that never
		 * changes would otherwise keep them forever. */
		if (keep)
			cache_cleanup(&sr->cache);
		send_cached(sr, SOURCE_FRESH, NULL);
		settle_refresh(sr, note, now);
		goto out;
	}
	int64_t count = normalize_pages(sr, &b, err, sizeof err);
	if (count < 0) {
		snprintf(why, sizeof why, "%s%s%s", note, *note ? "; " : "", err);
		fall_back(sr, why);
		goto out;
	}
	if (shrink_refused(sr, (uint64_t)count, err, sizeof err)) {
		fall_back(sr, err);
		goto out;
	}
	if (keep) {
		const struct cache_meta meta = {
			.url = sr->ctx.url,
			.fetched_at = now,
			.etag = sr->etag,
			.last_modified = sr->last_modified,
			.records = (uint64_t)count,
			.plugin = sr->plugin->name,
			.plugin_version = sr->plugin->version,
			.options_hash = sr->options_hash,
		};
		if (cache_build_commit(&sr->cache, &b, &meta, err, sizeof err) != 0)
			log_msg(MF_LOG_WARNING, sr->src->name, "cannot update the cache: %s", err);
	}
	sr->message[0] = '\0';
	sr->fetched_at[0] = '\0';
	send_stream(sr, b.stream_path, (uint64_t)count, SOURCE_FRESH);
	settle_refresh(sr, note, now);
out:
	cache_build_free(&b);
}

/* What the run does with the source: TTL, --force-refresh and --only. */
static void serve(struct source_run *sr)
{
	const struct run_options *opts = sr->opts;
	double age = cache_age_seconds(&sr->cache);
	bool within_ttl = sr->reusable && age >= 0 && age < sr->src->ttl_hours * 3600;
	if (opts->n_only > 0 && !name_listed(opts->only, opts->n_only, sr->src->name)) {
		/* --only names other sources: this one comes from its cache. */
		if (within_ttl)
			send_cached(sr, SOURCE_CACHED, NULL);
		else
			fall_back(sr, sr->usable ? "not refreshed: --only names other sources"
						 : "no cache, and --only names other sources");
		return;
	}
	if (within_ttl && !opts->force_refresh && opts->n_only == 0) {
		send_cached(sr, SOURCE_CACHED, NULL);
		return;
	}
	refresh(sr);
}

int runner_source_main(const struct config *cfg, const struct source_config *src,
		       const struct mf_plugin *plugin, const struct run_options *opts, int fd)
{
	static const struct run_options no_options = {0};
	struct stream_writer w;
	stream_writer_init(&w, fd);
	struct source_run sr = {
		.cfg = cfg,
		.src = src,
		.plugin = plugin,
		.opts = opts ? opts : &no_options,
		.out = &w,
		.status = SOURCE_FAILED,
	};
	/* The sink is set while normalize runs, the only time records may come. */
	context_init(&sr.ctx, cfg, src, plugin, NULL, NULL);

	char why[512];
	cache_open(&sr.cache, cfg->cache_dir, src->name, why, sizeof why);
	if (*why)
		log_msg(MF_LOG_WARNING, src->name, "ignoring a damaged cache: %s", why);
	sr.options_hash = cache_options_hash(src, plugin);
	sr.usable = cache_usable(&sr.cache, sr.ctx.url, plugin);
	sr.reusable = cache_reusable(&sr.cache, sr.ctx.url, plugin, sr.options_hash);

	int rc = plugin->init ? plugin->init(&host_table, &sr.ctx, &sr.state) : MF_OK;
	if (rc == MF_EDISABLED) {
		sr.status = SOURCE_DISABLED;
		snprintf(sr.message, sizeof sr.message, "%s",
			 *sr.ctx.last_log ? sr.ctx.last_log : "disabled by the plugin");
	} else if (rc != MF_OK) {
		/* The plugin's own last word says why better than a status. */
		snprintf(why, sizeof why, "plugin init failed: %s%s%s", status_word(rc),
			 *sr.ctx.last_log ? ": " : "", sr.ctx.last_log);
		fall_back(&sr, why);
	} else {
		serve(&sr);
		if (plugin->fini)
			plugin->fini(&host_table, &sr.ctx, sr.state);
	}
	if (sr.status == SOURCE_FAILED || sr.status == SOURCE_DISABLED)
		sr.records_name = NULL, sr.pending = false;
	stream_write_end_named(&w, sr.status, sr.fetched_at, sr.message, sr.records_name,
			       sr.pending, (uint32_t)sr.pending_records);
	int werr = stream_writer_flush(&w) != 0 || w.error != 0;
	stream_writer_free(&w);
	cache_close(&sr.cache);
	free(sr.options_hash);
	free(sr.etag);
	free(sr.last_modified);
	return werr ? 1 : 0;
}

/* ------------------------------------------------------------- the parent */

struct child {
	pid_t pid;
	size_t index; /* into cfg->sources and results */
	int fd;       /* read end of the pipe; -1 once at EOF */
	/* Records are decoded as their frames arrive: buf holds only what
	 * the decoder has not taken yet (an unfinished frame). */
	struct strbuf buf;
	struct stream_decoder dec;
	size_t received; /* bytes read from the pipe */
	double started;
	double deadline; /* monotonic seconds; 0: none */
	bool reaped;
	int wstatus;
	bool timed_out;
	bool too_big;
	bool stream_ok; /* a complete stream came: the child decided the status */
	size_t checked; /* bytes of the stream whose frame headers were checked */
	size_t records;	/* record frames among them, for progress */
	char broken[160]; /* why the bytes cannot be a record stream; "" while they can */
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

#ifndef RUNNER_SANITIZED
/* The child's address-space limit (RUNNER_MEMORY_LIMIT_MB). */
static rlim_t child_memory_limit(void)
{
	if (RUNNER_MEMORY_LIMIT_MB > 0)
		return (rlim_t)RUNNER_MEMORY_LIMIT_MB << 20;
	long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
	uint64_t half = pages > 0 && page_size > 0 ? (uint64_t)pages * (uint64_t)page_size / 2 : 0;
	const uint64_t lo = (uint64_t)2 << 30, hi = (uint64_t)16 << 30;
	return (rlim_t)(half < lo ? lo : half > hi ? hi : half);
}
#endif

/* Limits of a source's process: bounded memory, and no core file, because
 * the process may hold an API key that must never land on disk. */
static void limit_child(void)
{
	struct rlimit none = {.rlim_cur = 0, .rlim_max = 0};
	setrlimit(RLIMIT_CORE, &none);
#ifndef RUNNER_SANITIZED
#ifdef __linux__
	/* Also keeps other processes of the user from reading its memory. */
	prctl(PR_SET_DUMPABLE, 0);
#endif
	/* The soft limit only: it guards against a plugin's bug, not its
	 * malice (native code can do anything), and a refresh_command it
	 * runs gets the whole address space back (exec_command). */
	struct rlimit as;
	if (getrlimit(RLIMIT_AS, &as) == 0) {
		rlim_t want = child_memory_limit();
		bool lower = as.rlim_max != RLIM_INFINITY && as.rlim_max < want;
		as.rlim_cur = lower ? as.rlim_max : want;
		setrlimit(RLIMIT_AS, &as);
	}
#endif
}

_Noreturn static void child_main(const struct config *cfg, const struct source_config *src,
				 const struct mf_plugin *plugin, const struct run_options *opts,
				 int fd, pid_t parent)
{
	/* Its own process group, so that whatever a plugin starts goes with
	 * it (runner_run kills the group). */
	setpgid(0, 0);
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
	/* Out of the terminal's foreground group: a log line must not stop
	 * it (stty tostop), and it has no business reading the terminal. */
	signal(SIGTTOU, SIG_IGN);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		if (null != STDIN_FILENO)
			close(null);
	}
	/* Plugins never print; one that does must not mix into the program's
	 * stdout (machine-read output): its lines go to stderr with the logs. */
	dup2(STDERR_FILENO, STDOUT_FILENO);
	limit_child();
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

/* A child that died without a word (crash, time limit, broken stream):
 * the source's last good records, read here, make it stale instead of
 * failed (SPEC §2). */
static void fall_back_in_parent(const struct config *cfg, struct source_result *r)
{
	const struct source_config *src = r->source;
	const char *url = src->url ? src->url : r->plugin ? r->plugin->default_url : NULL;
	if (!cfg->cache_dir || !r->plugin || !url)
		return;
	struct cache c;
	char why[512];
	cache_open(&c, cfg->cache_dir, src->name, why, sizeof why);
	if (cache_usable(&c, url, r->plugin) &&
	    cache_load_records(&c, &r->records, why, sizeof why) == 0) {
		char *message = xasprintf("%s; using cache from %s", r->message, c.m.fetched_at);
		free(r->message);
		r->message = message;
		free(r->fetched_at);
		r->fetched_at = xstrdup(c.m.fetched_at);
		free(r->records_name);
		r->records_name = xstrdup(c.m.records_file);
		r->status = SOURCE_STALE;
	}
	cache_close(&c);
}

/* Turn a finished child's exit status and bytes into its result. */
static void settle_child(const struct config *cfg, struct child *c, struct source_result *r,
			 double limit)
{
	r->seconds = now_seconds() - c->started;
	if (c->timed_out) {
		set_failed(r, xasprintf("killed after %g s time limit", limit));
	} else if (*c->broken) {
		set_failed(r, xasprintf("broken record stream: %s: killed", c->broken));
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
		if (stream_decoder_finish(&c->dec, c->buf.data, c->buf.len, &r->records, &end, err,
					  sizeof err) != 0) {
			set_failed(r, xasprintf("broken record stream: %s", err));
		} else {
			c->stream_ok = true;
			r->status = end.status;
			r->fetched_at = nonempty_or_null(end.fetched_at);
			r->message = nonempty_or_null(end.message);
			end.fetched_at = end.message = NULL;
			r->records_name = end.records_name;
			r->records_pending = end.pending;
			r->pending_records = end.pending_records;
			end.records_name = NULL;
			/* Records streamed before a failure are not usable data. */
			if (r->status == SOURCE_FAILED)
				record_array_free(&r->records);
		}
		stream_end_free(&end);
	}
	strbuf_free(&c->buf);
	stream_decoder_free(&c->dec);
	/* A child that ended its stream already decided; one that did not
	 * might still have a cache to fall back on. */
	if (!c->stream_ok) {
		/* Its half-built payload goes; the cache itself is whole. */
		cache_remove_build(cfg->cache_dir, r->source->name, (long)c->pid);
		fall_back_in_parent(cfg, r);
	}
}

static uint32_t get_le32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

/* Walk the frame headers that arrived since the last call: bytes that
 * cannot be a record stream end the child at once, instead of piling up
 * in the parent's memory until the size limit. */
static void check_frames(struct child *c)
{
	/* buf starts at byte dec.offset of the stream (the decoder took the
	 * whole frames before it, all checked here first); checked counts
	 * from the stream's start. */
	size_t base = c->dec.offset;
	const char *p = c->buf.data;
	size_t len = c->buf.len;
	if (c->checked == 0) {
		size_t n = len < 4 ? len : 4;
		if (memcmp(p, "MFRS", n) != 0) {
			snprintf(c->broken, sizeof c->broken, "no MFRS header");
			return;
		}
		if (len < MF_STREAM_HEADER_LEN)
			return;
		c->checked = MF_STREAM_HEADER_LEN;
	}
	while (c->checked + 5 <= base + len) {
		char type = p[c->checked - base];
		uint32_t flen = get_le32(p + (c->checked - base) + 1);
		if ((type != 'R' && type != 'E') || flen > MF_STREAM_MAX_FRAME) {
			snprintf(c->broken, sizeof c->broken,
				 "bad frame (type 0x%02x, %u bytes) at byte %zu",
				 (unsigned char)type, flen, c->checked);
			return;
		}
		c->checked += 5 + (size_t)flen;
		c->records += type == 'R';
	}
}

/* Read what a child has sent so far, without blocking. */
static void drain_child(struct child *c)
{
	char chunk[65536];
	for (;;) {
		ssize_t n = read(c->fd, chunk, sizeof chunk);
		if (n > 0) {
			c->received += (size_t)n;
			if (c->received > RUNNER_MAX_STREAM_BYTES) {
				c->too_big = true;
				break;
			}
			/* A stream the decoder found broken is not used: the rest
			 * is dropped and the settling says why. */
			if (c->dec.error[0])
				continue;
			strbuf_append(&c->buf, chunk, (size_t)n);
			check_frames(c);
			if (*c->broken)
				break;
			/* Whole frames become records now; what is left is the
			 * start of the next frame. */
			size_t used = stream_decoder_feed(&c->dec, c->buf.data, c->buf.len);
			if (used > 0) {
				memmove(c->buf.data, c->buf.data + used, c->buf.len - used);
				c->buf.len -= used;
				c->buf.data[c->buf.len] = '\0';
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

/* Once the child has exited, whatever it started in its process group goes
 * too: a helper left holding the pipe would otherwise keep the source open
 * until its time limit, and outlive the run. The exited child stays a zombie
 * until reaped, so its number cannot name a stranger's group yet. */
static void reap(struct child *c, bool block)
{
	if (c->reaped)
		return;
	siginfo_t si = {0};
	if (!block && waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid == c->pid)
		block = true;
	if (block)
		kill(-c->pid, SIGKILL);
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
	/* Also here: the group must exist before anything kills it. */
	setpgid(pid, pid);
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
	stream_decoder_init(&slot->dec);
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
		/* A child may exit while a helper it started holds the pipe. */
		if (!c->reaped && (wait < 0 || wait > RUNNER_EXIT_POLL_MS / 1e3))
			wait = RUNNER_EXIT_POLL_MS / 1e3;
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

static void report(const struct run_options *opts, enum runner_event ev, const struct child *c,
		   const struct source_result *r)
{
	if (opts && opts->progress)
		opts->progress->fn(opts->progress->arg, ev, c->index, c->received, c->records, r);
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
			if (start_child(cfg, r->plugin, opts, i, &running[n_running], r)) {
				report(opts, RUNNER_STARTED, &running[n_running], NULL);
				n_running++;
			}
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
		for (size_t k = 0; k < n_running; k++) {
			if (running[k].fd < 0)
				continue;
			size_t before = running[k].received;
			drain_child(&running[k]);
			if (running[k].received != before)
				report(opts, RUNNER_RECEIVING, &running[k], NULL);
		}

		double now = now_seconds();
		for (size_t k = 0; k < n_running;) {
			struct child *c = &running[k];
			const struct source_config *src = &cfg->sources[c->index];
			reap(c, false);
			if (c->too_big || *c->broken) {
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
			size_t bytes = c->received, records = c->records;
			settle_child(cfg, c, &results[c->index], src->time_limit);
			if (opts && opts->progress)
				opts->progress->fn(opts->progress->arg, RUNNER_FINISHED, c->index,
						   bytes, records, &results[c->index]);
			running[k] = running[--n_running];
		}
	}
	/* Only reached early when poll itself failed: nothing may be left behind. */
	for (size_t k = 0; k < n_running; k++) {
		kill_child(&running[k]);
		set_failed(&results[running[k].index], xstrdup("aborted: poll failed"));
		strbuf_free(&running[k].buf);
		stream_decoder_free(&running[k].dec);
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
	free(r->records_name);
	record_array_free(&r->records);
	r->message = r->fetched_at = r->records_name = NULL;
}

void runner_load_pending(const struct config *cfg, struct source_result *results)
{
	for (size_t i = 0; i < cfg->n_sources; i++) {
		struct source_result *r = &results[i];
		if (!r->records_pending)
			continue;
		r->records_pending = false;
		struct cache c;
		char why[512] = "";
		cache_open(&c, cfg->cache_dir, r->source->name, why, sizeof why);
		/* The manifest cannot have moved on since the child read it (the
		 * run holds the lock), but a damaged file must not pass. */
		if (!*why && c.valid && c.m.records_file &&
		    strcmp(c.m.records_file, r->records_name) == 0 &&
		    cache_load_records(&c, &r->records, why, sizeof why) == 0 &&
		    r->records.count == r->pending_records) {
			cache_close(&c);
			continue;
		}
		if (!*why)
			snprintf(why, sizeof why, "the cache no longer holds %s", r->records_name);
		record_array_free(&r->records);
		set_failed(r, xasprintf("cannot read the cached records: %s", why));
		free(r->records_name);
		r->records_name = NULL;
		cache_close(&c);
	}
}
