/* The mapper (SPEC §5): gives every record a canonical model id
 * `maker/model` and records why. This first version knows exact ids and
 * namespace normalization; the full cascade is its own issue. */
#ifndef MF_MAPPER_H
#define MF_MAPPER_H

#include <stddef.h>
#include "runner.h"

/* One mapping decision: record `position` of source `result`. */
struct mapping_entry {
	const struct source_result *result;
	size_t position;
	const struct mf_record *rec;
	char *model_id; /* canonical "maker/model", lowercase */
	char *maker;    /* the maker part of model_id */
	const char *rule; /* static string: "exact-maker-provider", "namespace", ... */
	char *key;        /* the key the rule matched on */
};

struct mapping {
	struct mapping_entry *items; /* sources in config order, records in order */
	size_t count;
};

/* Map every record of every result (only results with records). Linear in
 * the number of records. */
int mapper_map(const struct source_result *results, size_t n_results, struct mapping *out);
void mapping_free(struct mapping *m);

/* Helpers exposed for tests. */
/* Canonical maker for a namespace or provider name ("x-ai" -> "xai",
 * "meta-llama" -> "meta", "mistralai" -> "mistral"); NULL when the name is
 * not known as a maker. */
const char *mapper_maker_of(const char *name);
/* Maker inferred from a model name's family prefix ("gpt-4o" -> "openai");
 * NULL when unknown. */
const char *mapper_infer_maker(const char *model);

#endif
