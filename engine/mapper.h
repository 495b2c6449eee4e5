/* The mapper (SPEC §5): gives every record a canonical model id
 * `maker/model`, attaches every offering to one model, and records why.
 *
 * Cascade, first match wins for the identity of a record:
 *   override    an entry of the admin overrides ([mapper] overrides)
 *   crosswalk   evidence carried in the data: hf_id, canonical_slug,
 *               aliases, alias_target, Gemini version
 *   exact       the canonical key after namespace normalization
 *   normalized  the normalized key (case, separators, 3.5/3-5, dates,
 *               serving and precision suffixes, word order)
 * and for its maker: override, namespace, maker field, family inference
 * (data/makers.json), the provider itself. Records that share no key with
 * a record of another (source, provider) stay their own model and are
 * marked unaligned. Hash indexes only: linear in the number of records. */
#ifndef MF_MAPPER_H
#define MF_MAPPER_H

#include <stdbool.h>
#include <stddef.h>
#include "config.h"
#include "runner.h"
#include "util.h"

/* Rule names as written in mapping.json. */
#define MAPPER_RULE_OVERRIDE "override"
#define MAPPER_RULE_CROSSWALK "crosswalk"
#define MAPPER_RULE_EXACT "exact"
#define MAPPER_RULE_NORMALIZED "normalized"
#define MAPPER_RULE_UNALIGNED "unaligned"

/* One mapping decision: record `position` of source `result`. */
struct mapping_entry {
	const struct source_result *result;
	size_t position;
	const struct mf_record *rec;
	char *model_id;		/* canonical "maker/model", lowercase */
	char *maker;		/* the maker part of model_id */
	const char *rule;	/* static: one of MAPPER_RULE_* */
	char *key;		/* the key the rule matched on */
	const char *maker_rule; /* static: "override", "namespace", "maker-field", "family",
				 * "provider", "org" or "none" */
	char *evidence;		/* crosswalk or override detail, NULL when none */
	bool first_party;	/* an offering by the maker itself (provider is the maker) */
};

struct mapping {
	struct mapping_entry *items; /* sources in config order, records in order */
	size_t count;
	size_t dropped; /* records without a usable id */
	/* The entries' strings (model_id, maker, key, evidence) when the
	 * mapper made them: records of one model share one model_id string.
	 * Empty for a mapping built by hand, whose entries own their strings. */
	struct arena strings;
};

/* Maker table and overrides, loaded once per run. */
struct mapper_tables;

/* Folder of the shipped data files: $MODELFUSE_DATADIR when set (a build
 * tree, the tests), else the installed $(pkgdatadir). */
const char *mapper_data_dir(void);

/*
 * Load the maker table (mapper_data_dir()/makers.json) and the overrides:
 * cfg->mapper_overrides when [mapper] overrides names a file, none when it
 * says `none`, else the shipped overrides.json (skipped silently when it is
 * not installed). cfg may be NULL (shipped defaults). Returns NULL with the
 * reasons in errs when a file exists but cannot be used, or the maker table
 * is missing.
 */
struct mapper_tables *mapper_tables_load(const struct config *cfg, struct errors *errs);
/* The same from explicit files; overrides_path may be NULL (none). */
struct mapper_tables *mapper_tables_load_files(const char *makers_path, const char *overrides_path,
					       struct errors *errs);
void mapper_tables_free(struct mapper_tables *t);
/* Number of entries in the loaded overrides (ids, providers, families). */
size_t mapper_tables_override_count(const struct mapper_tables *t);

/*
 * Map every record of every result. results[i] belongs to
 * cfg->sources[i] when result->source is NULL; cfg gives precedences (may
 * be NULL). Records without a usable id are skipped with a warning and
 * counted in out->dropped. Returns 0.
 */
int mapper_map_with(const struct mapper_tables *t, const struct config *cfg,
		    const struct source_result *results, size_t n_results, struct mapping *out);

/* Load the tables for cfg and map. Returns 0, or -1 with err set when the
 * tables cannot be loaded (nothing mapped). */
int mapper_run(const struct config *cfg, const struct source_result *results, size_t n_results,
	       struct mapping *out, char *err, size_t errlen);

/* Compatibility entry point of the first engine version: shipped tables,
 * no config. Prefer mapper_run. */
int mapper_map(const struct source_result *results, size_t n_results, struct mapping *out);
void mapping_free(struct mapping *m);

/* Helpers exposed for tests. */
/* Canonical maker for a namespace, org, provider or owned_by spelling
 * ("x-ai" -> "xai", "meta-llama" -> "meta", "Mistral AI" -> "mistral");
 * NULL when the name is not known as a maker. */
const char *mapper_maker_of(const struct mapper_tables *t, const char *name);
/* Maker inferred from a model name's family ("gpt-4o" -> "openai",
 * "llama-3.1-nemotron-70b" -> "nvidia"); NULL when unknown. */
const char *mapper_infer_maker(const struct mapper_tables *t, const char *model);

/* The normalized key of an id as the mapper computes it, e.g.
 * ("openrouter", NULL, "anthropic/claude-3.5-sonnet:beta") ->
 * "anthropic/3.5-claude-sonnet". provider and maker may be NULL. Caller
 * frees; NULL when the id has no usable name. */
char *mapper_key_of(const struct mapper_tables *t, const char *provider, const char *maker,
		    const char *id);

#endif
