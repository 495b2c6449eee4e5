/* What changed since the previous run (SPEC §8): changes.json, computed
 * from a compact digest that each run leaves beside its outputs
 * (output_dir/.catalog-digest.jsonl: one line per model with the fields
 * worth watching), never by re-parsing the previous catalog.json.
 *
 * Watched field paths: name, provider, release_date, knowledge, license,
 * open_weights, reasoning, tool_call, mode, context_tokens,
 * max_output_tokens, max_input_tokens, price.<kind>_per_million,
 * price_from, arena.rating, modalities.input, modalities.output, aliases,
 * callable_via, offerings (as "provider:id"). Popularity and tags move on
 * every run and are left out. */
#ifndef MF_CHANGES_H
#define MF_CHANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "merge.h"

#define CHANGES_DIGEST_NAME ".catalog-digest.jsonl"
#define CHANGES_DIGEST_VERSION 1

/* One field of one model: before and after as compact JSON text ("null"
 * when absent). */
struct field_change {
	char *path;
	char *before;
	char *after;
};

struct model_change {
	char *id;
	char *name;		     /* may be NULL */
	struct field_change *fields; /* changed models only, sorted by path */
	size_t n_fields;
};

struct changes {
	bool has_previous;	     /* a usable digest of an earlier run was found */
	char *previous_generated_at; /* NULL without one */
	struct model_change *added;  /* each list sorted by id */
	size_t n_added;
	struct model_change *removed;
	size_t n_removed;
	struct model_change *changed;
	size_t n_changed;
	size_t unchanged;
};

/* Compare the catalog with the digest in output_dir, reading the digest one
 * line at a time beside the models (both are sorted by id; a digest that is
 * not is read whole). A missing digest is a first run (every model added);
 * an unreadable or foreign one is warned about and treated the same.
 * Returns 0. */
int changes_compute(const char *output_dir, const struct catalog *cat, struct changes *out);
void changes_free(struct changes *ch);

/* A few lines for people: counts, then up to `limit` models per kind. */
void changes_summary(const struct changes *ch, FILE *f, size_t limit);

/* Stream changes.json and the new digest. Return 0, or -1 on a write or
 * encoding error. */
int changes_write_json(FILE *f, const struct changes *ch, const char *generated_at);
int changes_write_digest(FILE *f, const struct catalog *cat, const char *generated_at);

#endif
