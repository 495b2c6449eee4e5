/* The INI configuration (SPEC §11): parsed with inih, our own line
 * counting, every problem reported as "FILE:LINE: what is wrong". */
#ifndef MF_CONFIG_H
#define MF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <modelfuse/plugin.h>
#include "util.h"

/* A key = value the core does not interpret itself: a plugin option. */
struct option_value {
	char *key;
	char *value;
	int line;
};

struct source_config {
	char *name;      /* from [source NAME] */
	char *plugin;    /* `plugin`, defaults to name */
	bool enabled;    /* `enabled`, default yes */
	int precedence;  /* `precedence`, default per plugin (SPEC §4) */
	char *url;       /* `url` as resolved (relative file: made absolute); NULL: plugin default */
	double ttl_hours;    /* `ttl_hours`, default 24 */
	double shrink_ratio; /* `shrink_ratio`, default 0.5 */
	double time_limit;   /* `time_limit` seconds for the child, default [core] source_time_limit */
	/* `refresh_command`: run (no shell) before the source is fetched when it
	 * must refresh; NULL: none. Checked by config_split_command. */
	char *refresh_command;
	double refresh_time_limit; /* `refresh_time_limit` seconds, default 300 */
	/* `path`, with {dir} replaced and made absolute; url is then its
	 * file: URL. NULL when the source has no `path`. */
	char *path;
	int line;            /* line of the section header */
	struct option_value *options; /* plugin-specific keys, in file order */
	size_t n_options;
};

struct provider_config {
	char *name;
	char **exclude_models; /* `exclude_models`, comma-separated exact ids and * globs */
	size_t n_exclude;
	int line;
};

/* One "name:weight" entry of a [category NAME] list. */
struct weight_entry {
	char *name;
	double weight;
};

/* [category NAME]: the admin's changes to one category of the derive stage
 * (derive.h). A key not given keeps the shipped default (the *_set flags
 * say which were given); a NAME the defaults do not know is a new category
 * and needs `weights`. */
struct category_config {
	char *name;
	int line; /* of the section header */
	bool enabled;
	bool enabled_set;
	struct weight_entry *weights; /* `weights`: score name -> weight; replaces the default */
	size_t n_weights;
	bool weights_set;
	struct weight_entry *source_weights; /* `source_weights`: kind -> weight, over the default */
	size_t n_source_weights;
	double half_life_days; /* `half_life_days`, 0: no decay */
	bool half_life_days_set;
	double latency_penalty; /* `latency_penalty`, points */
	bool latency_penalty_set;
	double cost_bonus; /* `cost_bonus`, points */
	bool cost_bonus_set;
};

struct config {
	char *path;        /* the file as given */
	char *dir;         /* absolute folder of the file: base of relative paths */
	bool file_private; /* mode 0600 (no group/other bits) and owned by us: secrets allowed */

	/* [core]; relative paths resolve against dir */
	char *plugin_dir;  /* NULL: MODELFUSE_PLUGIN_DIR, then the installed default */
	char *cache_dir;   /* default $(localstatedir)/cache/modelfuse */
	char *output_dir;  /* default $(localstatedir)/lib/modelfuse */
	int jobs;          /* default: number of online CPUs */
	double source_time_limit; /* seconds a source's child may run, default 600 */
	int64_t connect_timeout_ms;  /* default 10000 */
	int64_t transfer_timeout_ms; /* default 120000 */
	int64_t max_body_bytes;      /* default 256 MiB */
	int64_t max_pages;           /* default 1000 */
	char *ca_file;               /* NULL: system CAs */
	int retries;                 /* attempts after the first, default 3 */
	int64_t backoff_ms;          /* first wait before a retry, doubling; default 1000 */
	double retry_after_max;      /* seconds: longest wait between attempts, default 60 */

	struct source_config *sources; /* in file order */
	size_t n_sources;
	struct provider_config *providers;
	size_t n_providers;

	/* [mapper] overrides: path, or NULL when "none" */
	char *mapper_overrides;
	bool mapper_overrides_set;

	/* [category NAME] sections, in file order */
	struct category_config *categories;
	size_t n_categories;
	/* [derive] */
	char *derive_reputation;      /* `reputation`: path, or NULL when "none" */
	bool derive_reputation_set;   /* false: the shipped reputation.json */
	double derive_half_life_days; /* `half_life_days` of every category, default 0 */
	double derive_max_price;      /* `max_price` USD per 1M tokens, default 10000 */
};

/* Default path: $MODELFUSE_CONFIG, else $(sysconfdir)/modelfuse/modelfuse.ini. */
const char *config_default_path(void);

/* Parse a file. Every syntax and core-key problem is added to errs as
 * "PATH:LINE: message" (all of them, not only the first). Returns the
 * config (possibly partial) or NULL when the file cannot be read. The
 * config is usable only when errs->count == 0. */
struct config *config_load(const char *path, struct errors *errs);
void config_free(struct config *cfg);

/* Check a source's plugin-specific keys against the plugin's declared
 * options: unknown keys, values that do not parse as the declared type,
 * missing required options, secrets in a file that is not private. Adds
 * "PATH:LINE: ..." errors; returns the number added. */
int config_check_options(const struct config *cfg, const struct source_config *src,
			 const struct mf_plugin *plugin, struct errors *errs);

/* The effective value of a plugin option (configured, else declared
 * default, else NULL). */
const char *config_option(const struct source_config *src, const struct mf_plugin *plugin,
			  const char *name);

/* Default precedence of a plugin by name (SPEC §4); 10 for unknown ones. */
int config_default_precedence(const char *plugin);

/* Split a refresh_command into words: whitespace separates them, double
 * quotes group (and are removed); no other escapes. Returns 0 with a
 * NULL-terminated *argv (free with config_free_argv), or -1 with err set
 * (unbalanced quote, no words). */
int config_split_command(const char *line, char ***argv, char *err, size_t errlen);
void config_free_argv(char **argv);

/* The folder a source's refresh_command writes into ({dir}):
 * cache_dir/NAME/refresh. Caller frees. */
char *config_refresh_dir(const struct config *cfg, const struct source_config *src);

/* Turn "file:relative/path" into "file:///abs/dir/relative/path"; other
 * URLs are returned copied. Caller frees. */
char *config_resolve_url(const char *url, const char *base_dir);

#endif
