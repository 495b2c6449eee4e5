/* Skipping the work of an unchanged run (SPEC §8: outputs are
 * byte-identical for the same inputs apart from the run's own times).
 *
 * A run leaves output_dir/.run-state.json beside its outputs: the run key
 * (a sha256 over everything besides the records that decides what the
 * models, the mapping and the staging candidates look like: program,
 * configuration file, data tables), each source's record stream by its
 * content name in the cache, and the size, mtime and inode of each output.
 *
 * The next run tells each source's process which stream the previous run
 * used; a source whose records are still that very stream sends only its
 * status (runner.h: records_pending). When every source did so and the key
 * is the same, the models would come out byte for byte as they are: the run
 * then writes only what carries its own time and the sources' statuses
 * (the heads of catalog.json and mapping.json, changes.json, the digest's
 * first line) and copies everything behind those heads from the previous
 * files, instead of mapping, merging, deriving and writing again.
 *
 * Anything unexpected (no state, another key, an output edited or removed
 * since, a head that cannot be found) simply means a full run. */
#ifndef MF_REUSE_H
#define MF_REUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include "config.h"

#define REUSE_STATE_NAME ".run-state.json"
#define REUSE_STATE_VERSION 1

struct reuse_source {
	char *name;
	char *records; /* content name of its record stream; NULL: none used */
};

/* An output as the run that wrote it left it. */
struct reuse_output {
	char *name;
	uint64_t size;
	int64_t mtime_sec;
	long mtime_nsec;
	uint64_t dev;
	uint64_t ino;
};

struct reuse_state {
	char *key;
	char *generated_at;
	size_t n_models;
	struct reuse_source *sources;
	size_t n_sources;
	struct reuse_output *outputs;
	size_t n_outputs;
};

/* The run key of cfg now (64 hex digits, caller frees). `now` matters only
 * when a category decays with age: scores then depend on the UTC day. */
char *reuse_run_key(const struct config *cfg, time_t now);

/* Read the state of the previous run. false (and *why) when there is none
 * or it cannot be used; never fatal. */
bool reuse_state_read(const char *output_dir, struct reuse_state *st, char *why, size_t whylen);
void reuse_state_free(struct reuse_state *st);

/* Record the outputs' current stat into st->outputs (names given), then
 * write the state atomically. Returns 0 or -1 with err. */
int reuse_state_write(const char *output_dir, struct reuse_state *st, const char *const *names,
		      size_t n_names, char *err, size_t errlen);

/* The content name the previous run used for source `name`; NULL if none. */
const char *reuse_state_records(const struct reuse_state *st, const char *name);

/* Are the outputs exactly as the previous run left them (same size, mtime
 * and inode)? false with *why otherwise. */
bool reuse_outputs_intact(const char *output_dir, const struct reuse_state *st, char *why,
			  size_t whylen);

/* Where the part of a previous output that stays begins: the offset of
 * the first occurrence of marker within its first `window` bytes (the
 * heads are small), or -1. */
long reuse_find_marker(FILE *f, const char *marker, size_t window);

/* Append the bytes of src from offset `from` to its end to out (flushed
 * first), in the kernel where it can. Returns 0 or -1 with errno. */
int reuse_copy_tail(FILE *out, FILE *src, long from);

#endif

/* A run killed while writing leaves "<output>.tmp.XXXXXX" files beside
 * the outputs and the state. The caller holds the run lock, so none can
 * belong to a live run: remove them (each removal is logged). */
void reuse_remove_stale_temporaries(const char *output_dir);

/* What a run that reuses the previous outputs writes (see the top). */
struct reuse_renewal {
	const char *output_dir;
	const char *generated_at; /* "YYYY-MM-DDTHH:MM:SSZ" */
	/* Writes catalog.json up to, not including, the ",\n  \"models\": "
	 * that follows its sources. */
	int (*catalog_head)(FILE *f, void *arg);
	/* Writes the whole changes.json. */
	int (*changes)(FILE *f, void *arg);
	void *arg;
};

/* Rewrite catalog.json (new head, previous models), mapping.json and the
 * changes digest (new generated_at, the rest copied) and changes.json, all
 * committed together as the writer does; staging_candidates.json holds no
 * time and stays as it is. Returns 0, or -1 with err and the previous
 * outputs untouched (the caller then makes a full run). */
int reuse_renew_outputs(const struct reuse_renewal *rn, char *err, size_t errlen);
