/* Read-only queries over the outputs of the last run. */
#ifndef MF_QUERY_H
#define MF_QUERY_H

#include <stdbool.h>
#include <stdio.h>
#include "config.h"

/*
 * `modelfuse explain [SOURCE:]ID` (SPEC §5): every mapping decision of
 * output_dir/mapping.json for a native id (as its upstream lists it, or the
 * bare native id), optionally restricted to one source instance, or for a
 * canonical model id (all records that went to it): model, rule, key,
 * maker rule and evidence. SOURCE: is taken as a source only when it names
 * a [source] of cfg, since ids contain colons themselves (":free",
 * "-v2:0"). Ids compare exactly first, then ignoring case.
 *
 * Text goes to out; with json, one JSON object {"query", "mapping",
 * "matches": [...]}. Returns an exit status: 0 found, 1 no decision for
 * that id, 2 empty argument, 3 mapping.json missing or unreadable (the
 * message is logged).
 */
int query_explain(const struct config *cfg, const char *arg, bool json, FILE *out);

/*
 * The other queries read output_dir/catalog.json (and for status
 * mapping.json, the cache manifests and the last-run record). Text is a
 * readable table; with json, one JSON document. Each returns an exit
 * status: 0 answered, 1 nothing found (unknown model or category, an
 * ambiguous alias: the candidates are listed), 2 empty argument, 3 the
 * outputs are missing or unreadable (the message is logged).
 */

/* `modelfuse status`: per source (catalog.json sources[], every [source]
 * of cfg): status, fetched_at, records, age of its cache, message; the last
 * run's outcome; records mapped, unaligned and dropped; data-check flags;
 * up to `limit` unaligned ids with the most popular models first. */
int query_status(const struct config *cfg, size_t limit, bool json, FILE *out);

/* `modelfuse show MODEL`: the model found by id, alias or native id (exact,
 * then ignoring case): fields, tiers, scores, offerings with prices,
 * provenance, quality flags. json: the catalog's model object. */
int query_show(const struct config *cfg, const char *model, bool json, FILE *out);

/* `modelfuse scores MODEL`: tiers with basis, every category score with its
 * contributions and adjustments, best_at, worst_at, overall rank. */
int query_scores(const struct config *cfg, const char *model, bool json, FILE *out);

/* `modelfuse rankings CATEGORY`: models by score (then confidence, then
 * id), at most limit (0: all), only those callable with the admin's keys
 * when callable. CATEGORY "overall" ranks by overall_score. */
int query_rankings(const struct config *cfg, const char *category, size_t limit, bool callable,
		   bool json, FILE *out);

/* What the last run did, kept in cache_dir/.last-run.json for status: the
 * outputs alone cannot tell a run that wrote nothing. */
#define QUERY_LAST_RUN_NAME ".last-run.json"
int query_save_last_run(const struct config *cfg, const char *started_at, int exit_status,
			const char *message);

#endif
