/* The merge engine (SPEC §6): groups mapped records into models and
 * offerings, combines them by precedence and unions the list fields.
 *
 * Field classes:
 *  - model-level: every field not listed below. The highest-precedence
 *    non-null value wins (ties: instance name, then record order); maps
 *    merge key by key; aliases, tags, input_modalities and
 *    output_modalities are unions (lowest precedence first, each list in its
 *    own order, exact duplicates dropped); every other list (capabilities,
 *    ...) is replaced whole by the highest-precedence one.
 *  - offering-level (merge_field_is_offering_level): provider, source_key,
 *    price, context_tokens, max_output_tokens, max_input_tokens, callable,
 *    base_id, serving_suffix, moving_pointer, alias_target, status, version,
 *    supported_parameters, expiration_date, deprecation_date. They describe
 *    one provider's listing: merged per offering (provider, native id) only,
 *    and the model shows price and limits whole from one offering
 *    (price_from).
 *  - overlay controls (merge_field_is_control): remove, replace, pinned.
 *    They steer the merge and are never output themselves:
 *      pinned  - the record's value of each named field wins over any
 *                precedence (among several pinning records, the highest);
 *                a pinned map or list is taken whole;
 *      replace - for each named union list, the record's list replaces what
 *                lower-precedence records gave instead of joining it;
 *      remove  - "field:value" entries are removed from the merged list
 *                `field` of the model and of its offerings, whoever gave
 *                them.
 *    Field names are the catalog's ("aliases", "input_modalities"...);
 *    "modalities.input" and "modalities.output" are accepted too.
 *
 * popularity_score (SPEC §8), 0..100: the larger of the Hugging Face
 * download percentile (100 x the share of models with downloads whose
 * count is at most this model's) and the community rank score (rank 1 is
 * 100, each rank below costs MERGE_RANK_STEP, never below
 * MERGE_RANK_FLOOR); 0 when the model has neither. Rounded to 0.01. */
#ifndef MF_MERGE_H
#define MF_MERGE_H

#include <stddef.h>
#include <sys/types.h>
#include "config.h"
#include "mapper.h"
#include "record.h"

/*
 * Memory: a catalog borrows from what it was built from (the results'
 * records, the mapping and the config): free it before them. Strings in
 * it are read-only. provenance vectors (MF_FIELD_COUNT entries) are shared
 * between models and offerings that have the same one: change an entry
 * only through catalog_set_provenance. A `merged` record may be a source
 * record lent to the catalog (merged_borrowed) when merging one record
 * would only copy it; a stage that changes it first calls
 * catalog_offering_writable / catalog_model_writable.
 */
struct catalog_offering {
	char *provider;
	char *native_id;
	struct mf_record *merged; /* kind MF_RECORD_OFFERING */
	char **sources;		  /* instance names that list it, by precedence, high first */
	size_t n_sources;
	const char *const *provenance; /* instance that supplied each field, by field */
	bool first_party;	       /* the maker's own offering */
	bool merged_borrowed;	       /* merged is a source record */
};

struct source_ids {
	const char *instance; /* borrowed from the config */
	struct strlist ids;   /* native ids exactly as the upstream lists them, sorted */
};

struct catalog_model {
	char *id; /* canonical maker/model */
	char *maker;
	/* model-level fields; when borrowed, its native_id is the source's:
	 * the model's id is `id` */
	struct mf_record *merged;
	const char *const *provenance;	    /* by field, as for offerings */
	struct catalog_offering *offerings; /* sorted by provider, native id */
	size_t n_offerings;
	ssize_t price_from;	       /* offering whose price/limits the model shows; -1 none */
	struct source_ids *source_ids; /* sorted by instance name */
	size_t n_source_ids;
	struct strlist callable_via; /* anyllm instances that can call it, sorted */
	double popularity_score;     /* 0..100 */
	bool staging;		     /* known to huggingface, community or openrouter */
	bool merged_borrowed;	     /* merged is a source record */
};

struct derive_result; /* derive.h */
struct merge_pool;    /* merge.c */

struct catalog {
	struct catalog_model *models; /* sorted by id */
	size_t n_models;
	/* What the derive stage added (derive.h); NULL before it ran. Freed
	 * by catalog_free through derived_free, so that merge needs nothing
	 * of derive. */
	struct derive_result *derived;
	void (*derived_free)(struct derive_result *derived);
	struct merge_pool *pool; /* what the models share (provenance vectors) */
};

/* Build the catalog. results[i] belongs to cfg->sources[i]. */
int merge_build(const struct config *cfg, const struct source_result *results, size_t n_results,
		const struct mapping *map, struct catalog *out);
void catalog_free(struct catalog *cat);

/* Make *prov (a model's or offering's provenance) say that field came from
 * source (NULL: from nobody), without changing the models sharing it. */
void catalog_set_provenance(struct catalog *cat, const char *const **prov, enum mf_field field,
			    const char *source);
/* The merged record, the catalog's own from now on (a borrowed one is
 * copied first): for a stage that changes it. */
struct mf_record *catalog_offering_writable(struct catalog_offering *o);
struct mf_record *catalog_model_writable(struct catalog_model *m);

/* Model-level fields and offering-level fields (SPEC §6). */
bool merge_field_is_offering_level(enum mf_field field);
/* The overlay controls: never merged as data. */
bool merge_field_is_control(enum mf_field field);
/* A field by its catalog name ("aliases", "modalities.input"...); 0 when
 * unknown. */
enum mf_field merge_field_by_name(const char *name);

#define MERGE_RANK_STEP 1.0
#define MERGE_RANK_FLOOR 20.0
/* Community rank score: 100 for rank 1, linear down to the floor; 0 for a
 * rank below 1. */
double merge_rank_score(int64_t rank);

#endif
