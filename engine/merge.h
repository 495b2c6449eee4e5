/* The merge engine (SPEC §6): groups mapped records into models and
 * offerings, combines them by precedence and unions the list fields. */
#ifndef MF_MERGE_H
#define MF_MERGE_H

#include <stddef.h>
#include <sys/types.h>
#include "config.h"
#include "mapper.h"
#include "record.h"

struct catalog_offering {
	char *provider;
	char *native_id;
	struct mf_record *merged;    /* kind MF_RECORD_OFFERING */
	char **sources;              /* instance names that list it, by precedence, high first */
	size_t n_sources;
	const char *provenance[MF_FIELD_COUNT]; /* instance that supplied each field */
};

struct source_ids {
	const char *instance;  /* borrowed from the config */
	struct strlist ids;    /* native ids exactly as the upstream lists them, sorted */
};

struct catalog_model {
	char *id;      /* canonical maker/model */
	char *maker;
	struct mf_record *merged; /* kind MF_RECORD_MODEL: model-level fields */
	const char *provenance[MF_FIELD_COUNT];
	struct catalog_offering *offerings; /* sorted by provider, native id */
	size_t n_offerings;
	ssize_t price_from; /* offering whose price/limits the model shows; -1 none */
	struct source_ids *source_ids; /* sorted by instance name */
	size_t n_source_ids;
	struct strlist callable_via; /* anyllm instances that can call it, sorted */
	double popularity_score;     /* 0..100 */
	bool staging;                /* known to huggingface, community or openrouter */
};

struct catalog {
	struct catalog_model *models; /* sorted by id */
	size_t n_models;
};

/* Build the catalog. results[i] belongs to cfg->sources[i]. */
int merge_build(const struct config *cfg, const struct source_result *results, size_t n_results,
		const struct mapping *map, struct catalog *out);
void catalog_free(struct catalog *cat);

/* Model-level fields and offering-level fields (SPEC §6). */
bool merge_field_is_offering_level(enum mf_field field);

#endif
