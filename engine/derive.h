/* The derive stage (SPEC §7): runs over the merged catalog before the
 * writers and adds, per model, data checks (a failing field is nulled and
 * flagged with the values the sources gave), tiers 1..5 with their basis,
 * category scores with their contributions, and the summaries best_at,
 * worst_at, overall_rank, cost_efficiency and speed.
 *
 * Definitions (modelfuse(1) documents them for users):
 *
 *  - quantile q of n sorted values (linear interpolation): h = (n - 1) q,
 *    v[floor h] + (h - floor h)(v[floor h + 1] - v[floor h]). Tiers cut at
 *    p20, p40, p60, p80: for a measure where less is better (price),
 *    tier = 1 + the number of cuts the value is above; where more is better
 *    (rating, speed), 1 + the number of cuts it is below. A value equal to a
 *    cut takes the better side. When all values are equal (one value
 *    included) nothing tells models apart and every one gets tier 3.
 *  - percentile of a value among n values (n >= 2):
 *    100 (below + (equal - 1) / 2) / (n - 1), below and equal counting the
 *    values less than and equal to it; 50 for n = 1. Ties share the mean.
 *  - category score: every configured score name w_i the model has, with
 *    its value v_i on 0..100 (arena ratings as their percentile among the
 *    models rated in that arena category), configured weight
 *    c_i = w_i * source_weight(kind of the name), present weight
 *    p_i = c_i * 0.5^(age_days / half_life_days) (no decay when the
 *    half-life is 0 or the date unknown): score = sum p_i v_i / sum p_i,
 *    confidence = sum p_i / sum of c_i over every configured name.
 *    latency_penalty P: minus P (100 - ttft_percentile_fast) / 100 where the
 *    model has a time to first token; cost_bonus B: plus
 *    B * cheapness_percentile / 100 where it has a blended price; clamped
 *    to 0..100. Scores are rounded to 0.01, confidences to 0.0001.
 *  - overall_score: the mean over every enabled category of
 *    score * confidence (a category without a score counts 0);
 *    overall_rank: 1 + the models with a higher overall_score.
 *  - cost_efficiency: overall_score / (1 + blended price), points per
 *    (1 + USD per 1M tokens).
 */
#ifndef MF_DERIVE_H
#define MF_DERIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "config.h"
#include "mapper.h"
#include "merge.h"
#include "runner.h"
#include "util.h"

#define DERIVE_CATEGORIES_FORMAT "modelfuse-categories/1"
#define DERIVE_REPUTATION_FORMAT "modelfuse-reputation/1"

/* Tier bases as written in catalog.json. */
#define DERIVE_BASIS_PRICE "price_quantile"
#define DERIVE_BASIS_ARENA "arena_quantile"
#define DERIVE_BASIS_SPEED "speed_quantile"
#define DERIVE_BASIS_REPUTATION "provider_reputation"
#define DERIVE_BASIS_DEFAULT "default"
#define DERIVE_BASIS_NONE "none" /* no data: tier null */

/* Check names as written in the quality report. */
#define DERIVE_CHECK_OUTPUT_OVER_CONTEXT "output_over_context"
#define DERIVE_CHECK_INPUT_OVER_CONTEXT "input_over_context"
#define DERIVE_CHECK_NOT_POSITIVE "not_positive"
#define DERIVE_CHECK_NEGATIVE_PRICE "negative_price"
#define DERIVE_CHECK_IMPLAUSIBLE_PRICE "implausible_price"
#define DERIVE_CHECK_BAD_DATE "bad_date"
#define DERIVE_CHECK_DISAGREEMENT "disagreement"

/* Actions taken on a flagged field. */
#define DERIVE_ACTION_NULLED "nulled"
#define DERIVE_ACTION_REPLACED "replaced" /* an unusable value gave way to the next source's */
#define DERIVE_ACTION_KEPT "kept"

enum derive_tier_kind {
	DERIVE_TIER_COST,
	DERIVE_TIER_QUALITY,
	DERIVE_TIER_REASONING,
	DERIVE_TIER_CREATIVE,
	DERIVE_TIER_SPEED,
	DERIVE_TIER_COUNT
};
/* "cost", "quality", ...; inline so that readers of the results (the
 * writers) need nothing of derive.c. */
static inline const char *derive_tier_name(enum derive_tier_kind kind)
{
	static const char *const names[DERIVE_TIER_COUNT] = {
	    [DERIVE_TIER_COST] = "cost",	   [DERIVE_TIER_QUALITY] = "quality",
	    [DERIVE_TIER_REASONING] = "reasoning", [DERIVE_TIER_CREATIVE] = "creative",
	    [DERIVE_TIER_SPEED] = "speed",
	};
	return (unsigned)kind < DERIVE_TIER_COUNT ? names[kind] : "?";
}

/* ------------------------------------------------------------ tables */

struct derive_category {
	char *name;
	struct weight_entry *weights; /* score name -> weight, in table order */
	size_t n_weights;
	struct weight_entry *source_weights; /* kind -> weight; kinds not listed weigh 1 */
	size_t n_source_weights;
	double half_life_days; /* 0: no decay */
	double latency_penalty;
	double cost_bonus;
};

struct derive_tables {
	struct derive_category *categories; /* enabled ones, table order then new ones */
	size_t n_categories;
	struct weight_entry *reputation; /* maker -> tier 1..5, sorted by maker */
	size_t n_reputation;
	double max_price; /* USD per 1M tokens; a price at or above it is implausible */
};

/*
 * The shipped tables (mapper_data_dir()/categories.json and reputation.json)
 * with cfg's [derive] and [category NAME] sections applied; cfg may be NULL
 * (shipped defaults). Returns NULL with the reasons in errs ("PATH: ..." for
 * a file, "PATH:LINE: ..." for a section) when a file cannot be used or a
 * section makes no sense (a new category without weights).
 */
struct derive_tables *derive_tables_load(const struct config *cfg, struct errors *errs);
/* The same from explicit files; a NULL path: no such table (no categories,
 * no reputation). derive_tables_load passes NULL, with a warning, for a
 * shipped table that is not installed; a file the admin names must exist. */
struct derive_tables *derive_tables_load_files(const char *categories_path,
					       const char *reputation_path,
					       const struct config *cfg, struct errors *errs);
void derive_tables_free(struct derive_tables *t);

/* ------------------------------------------------------------ results */

/* Fields ordered (and the small ones narrow) for size: one per tier of
 * every model. */
struct derive_tier {
	const char *basis;  /* static: DERIVE_BASIS_* */
	double value;	    /* the measure it comes from: blended price, rating, tokens/s */
	const char *from;   /* "quality" when taken from the quality tier; else NULL */
	const char *detail; /* the maker (reputation) or the arena category; borrowed */
	int8_t tier;	    /* 1..5; 0: none (basis "none") */
	int8_t adjustment;  /* reasoning: -1 for a reasoning model whose tier was above 1 */
	bool has_value;
};

struct derive_contribution {
	char *score;  /* score name, borrowed from the derive tables */
	double value; /* 0..100 as used */
	bool has_raw;
	double raw;	    /* arena: the rating the percentile comes from */
	double weight;	    /* configured: weight x source weight */
	double effective;   /* after recency decay */
	const char *source; /* instance that gave it, borrowed from the config; NULL unknown */
	char date[11];	    /* YYYY-MM-DD, "" when unknown */
};

struct derive_adjustment {
	const char *kind;  /* "latency_penalty" or "cost_bonus" */
	double points;	   /* negative for a penalty */
	double value;	   /* ttft seconds or blended USD per 1M tokens */
	double percentile; /* of the model among those with the value (100 = fastest/cheapest) */
};

struct derive_score {
	size_t category; /* index into derive_result.categories */
	double score;	 /* 0..100 */
	double confidence;
	struct derive_contribution *contributions; /* table order */
	size_t n_contributions;
	struct derive_adjustment adjustments[2];
	size_t n_adjustments;
	size_t rank; /* 1-based among the models scored in the category */
};

/* One value a source gave for a flagged field. */
struct derive_value {
	const char *source; /* instance, borrowed; NULL: derived */
	char *provider;	    /* offering values: the offering; else NULL (borrowed) */
	char *id;	    /* borrowed from the record */
	const char *field; /* when the flag compares two fields: which one; else NULL */
	bool is_string;
	char *string;
	double number;
};

struct derive_flag {
	const char *check; /* DERIVE_CHECK_* */
	char *field;	   /* catalog field path: "max_output_tokens", "price.input_per_million" */
	char *provider;	   /* the offering flagged; NULL: the model itself (borrowed) */
	char *id;	   /* borrowed from the catalog */
	const char *action; /* DERIVE_ACTION_* */
	char *message;
	struct derive_value *values;
	size_t n_values;
};

/* One per model: fields ordered so that no padding is wasted. */
struct derive_model {
	struct derive_tier tiers[DERIVE_TIER_COUNT];
	struct derive_score *scores; /* scored categories only, in category order */
	size_t n_scores;
	double overall_score;
	size_t overall_rank; /* 0: none */
	double cost_efficiency;
	double speed; /* output tokens per second */
	double ttft;  /* seconds to the first token */
	struct derive_flag *flags;
	size_t n_flags;
	int best_at; /* category index, -1: none */
	int worst_at;
	bool has_overall;
	bool has_cost_efficiency;
	bool has_speed;
	bool has_ttft;
};

struct derive_result {
	struct derive_model *models; /* parallel to catalog.models */
	size_t n_models;
	char **categories; /* names, copied from the tables */
	size_t n_categories;
	size_t flags;	       /* flags over all models */
	size_t flagged_models; /* models with at least one flag */
	size_t nulled;	       /* fields nulled */
};

struct derive_input {
	const struct config *cfg;	     /* may be NULL */
	const struct source_result *results; /* may be NULL: no fetched_at dates */
	size_t n_results;
	const struct mapping *mapping; /* may be NULL: flags list no per-source values */
	const struct derive_tables *tables;
	time_t now; /* reference of the recency decay */
};

/* Check, then derive. Fields failing a check are changed in the catalog's
 * merged records; the rest goes into cat->derived (freed by
 * catalog_free), which borrows names from in->tables and the sources'
 * strings (offering providers and ids) as the catalog does: free the
 * catalog first. Returns 0. */
int derive_run(const struct derive_input *in, struct catalog *cat);
void derive_result_free(struct derive_result *r);

/* ------------------------------------------------------------ helpers exposed for tests */

/* Quantile k/5 (k = 1..4) of n sorted values, linear interpolation. */
double derive_quantile(const double *sorted, size_t n, int k);
/* Tier of v among n sorted values (definitions above). */
int derive_tier_of(double v, const double *sorted, size_t n, bool less_is_better);
/* Percentile of v among n sorted values (definitions above). */
double derive_percentile(const double *sorted, size_t n, double v);
/* An ISO 8601 date or time as catalog fields hold them: YYYY, YYYY-MM,
 * YYYY-MM-DD, optionally THH:MM[:SS[.fff]] and Z or an offset; a real
 * calendar day. */
bool derive_date_valid(const char *s);

#endif
