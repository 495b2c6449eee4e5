/* The writers (SPEC §8): catalog.json, staging_candidates.json and
 * mapping.json, streamed model by model, deterministic, and committed
 * atomically together: on any failure no previous output is touched. */
#ifndef MF_WRITER_H
#define MF_WRITER_H

#include <stdio.h>
#include "config.h"
#include "mapper.h"
#include "merge.h"
#include "runner.h"

#define MF_CATALOG_SCHEMA_VERSION 1

struct writer_input {
	const struct config *cfg;
	const struct source_result *results; /* cfg->n_sources entries */
	const struct catalog *catalog;
	const struct mapping *mapping;
	const char *generated_at;
};

int writer_catalog(FILE *f, const struct writer_input *in);
int writer_staging(FILE *f, const struct writer_input *in);
int writer_mapping(FILE *f, const struct writer_input *in);

/* Write all outputs into cfg->output_dir. Returns 0, or -1 with err set
 * and the previous outputs left as they were. */
int writer_write_all(const struct writer_input *in, char *err, size_t errlen);

#endif
