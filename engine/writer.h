/* The writers (SPEC §8): catalog.json, staging_candidates.json,
 * mapping.json, changes.json and the digest the next run compares with
 * (changes.h), streamed model by model, deterministic, and committed
 * atomically together: on any failure no previous output is touched. */
#ifndef MF_WRITER_H
#define MF_WRITER_H

#include <stdio.h>
#include "changes.h"
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
	/* Changes since the previous run (changes_compute); NULL: computed
	 * by writer_write_all from the digest in output_dir. */
	const struct changes *changes;
};

int writer_catalog(FILE *f, const struct writer_input *in);
/* The head of catalog.json alone: the bytes writer_catalog writes before
 * ",\n  \"models\": " (schema_version, generated_at, sources). in->catalog
 * is not read. */
int writer_catalog_head(FILE *f, const struct writer_input *in);
int writer_staging(FILE *f, const struct writer_input *in);
int writer_mapping(FILE *f, const struct writer_input *in);

/* Write all outputs and the digest into cfg->output_dir. Returns 0, or -1
 * with err set and the previous outputs left as they were. */
int writer_write_all(const struct writer_input *in, char *err, size_t errlen);

#endif
