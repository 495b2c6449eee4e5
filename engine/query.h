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

#endif
