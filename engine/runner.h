/* The execution model (SPEC §2): one child process per enabled source, at
 * most `jobs` at once, records streamed back over a pipe; a child that
 * crashes, exits, hangs or sends a broken stream costs only its source. */
#ifndef MF_RUNNER_H
#define MF_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include "config.h"
#include "loader.h"
#include "record.h"
#include "stream.h"

/* Progress of a run for a live display, reported in the parent as children
 * start, send records and finish. */
enum runner_event {
	RUNNER_STARTED,
	RUNNER_RECEIVING,
	RUNNER_FINISHED,
};
struct source_result;
struct runner_progress {
	/* bytes and records received from the source's process so far; r is
	 * the settled result with RUNNER_FINISHED, else NULL. */
	void (*fn)(void *arg, enum runner_event ev, size_t index, size_t bytes, size_t records,
		   const struct source_result *r);
	void *arg;
};

struct run_options {
	bool offline;
	bool force_refresh;
	bool dry_run;
	char **only; /* --only names; sources not named are taken from cache */
	size_t n_only;
	char **accept_shrink;
	size_t n_accept_shrink;
	const struct runner_progress *progress; /* NULL: none */
	/* Per source (cfg->sources order): the content name of the record
	 * stream the parent already knows (reuse.h). A source whose records
	 * are that very stream does not send them. NULL: send everything. */
	const char *const *known_records;
};

struct source_result {
	const struct source_config *source;
	const struct mf_plugin *plugin; /* NULL when disabled or not loaded */
	enum source_status status;
	char *message;    /* why, for anything but fresh/cached; may be NULL */
	char *fetched_at; /* ISO 8601 or NULL */
	struct record_array records;
	double seconds;   /* wall time of the child */
	/* The cache's content name of the record stream the records are;
	 * NULL when they are not a kept stream (a failed commit, a dry run). */
	char *records_name;
	/* The records are records_name's and were not sent (known_records):
	 * records is empty until runner_load_pending fills it. */
	bool records_pending;
	size_t pending_records;
};

/* The number of records of the source, sent or pending. */
static inline size_t source_result_count(const struct source_result *r)
{
	return r->records_pending ? r->pending_records : r->records.count;
}

/* Read the pending records of every result from the cache, as the child
 * would have sent them. A stream that cannot be read makes its source
 * failed. */
void runner_load_pending(const struct config *cfg, struct source_result *results);

/* Run every source of cfg. plugins[i] belongs to cfg->sources[i] and is NULL
 * for a disabled source. results must have cfg->n_sources entries; they are
 * filled in config order whatever order the children finish in. Returns 0;
 * every per-source failure is in its result. */
int runner_run(const struct config *cfg, const struct loaded_plugin *plugins,
	       const struct run_options *opts, struct source_result *results);

/* The body of a source's child: init, then from the cache (SPEC §9) either
 * the cached records (within ttl_hours), or a refresh: refresh_command,
 * pages fetched to disk (conditional first request), normalize unless the
 * payload is unchanged, shrink guard, commit, falling back to the last good
 * data on failure. Writes the framed stream (records then the end frame) to
 * fd. Returns the exit code for the child. Exposed for tests. */
int runner_source_main(const struct config *cfg, const struct source_config *src,
		       const struct mf_plugin *plugin, const struct run_options *opts, int fd);

void source_result_free(struct source_result *r);

#endif
