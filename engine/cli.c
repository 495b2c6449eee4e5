#include "mf_build_config.h"
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "changes.h"
#include "config.h"
#include "derive.h"
#include "fetch.h"
#include "loader.h"
#include "log.h"
#include "mapper.h"
#include "merge.h"
#include "query.h"
#include "reuse.h"
#include "runner.h"
#include "util.h"
#include "writer.h"

static const char usage_text[] =
	"usage: modelfuse [-c FILE] [-v|-q] COMMAND [options]\n"
	"\n"
	"Builds one catalog of LLM models from the sources enabled in the config file.\n"
	"\n"
	"commands:\n"
	"  run [--offline] [--force-refresh] [--only NAME]... [--accept-shrink NAME]\n"
	"      [--dry-run] [--stats]\n"
	"                         fetch every enabled source and write the outputs\n"
	"  plugins [-v]           list the plugins found, with ABI and plugin versions\n"
	"  check-config           validate the config and that every enabled plugin loads\n"
	"  explain [--json] [SOURCE:]ID\n"
	"                         how a native id (or every record of a model id) was\n"
	"                         aligned, from the last run's mapping.json\n"
	"  status [--json]        per source: status, fetched_at, records, cache age; the\n"
	"                         last run's outcome, data-check flags, unaligned ids\n"
	"  show [--json] MODEL    a model by id or alias: fields, tiers, scores, offerings,\n"
	"                         provenance and data-check flags\n"
	"  scores [--json] MODEL  a model's tiers and category scores with what they\n"
	"                         are made of\n"
	"  rankings [--json] [-n N] [--callable] CATEGORY\n"
	"                         the best models of a category (or overall)\n"
	"\n"
	"options:\n"
	"  -c, --config FILE      config file (default $MODELFUSE_CONFIG, else\n"
	"                         " MF_SYSCONFDIR "/modelfuse/modelfuse.ini)\n"
	"  -v, --verbose          more messages (twice: debug)\n"
	"  -q, --quiet            errors only\n"
	"  -h, --help             this help\n"
	"  -V, --version          the version\n"
	"\n"
	"run options:\n"
	"  --offline              never open an http(s) connection\n"
	"  --force-refresh        ignore cache lifetimes\n"
	"  --only NAME            refresh only the named sources (repeat, or NAME,NAME)\n"
	"  --accept-shrink NAME   accept a payload the shrink guard would refuse, once\n"
	"  --dry-run              write neither cache nor outputs; print the summary\n"
	"  --stats                print each phase's time and output count, and peak memory\n"
	"\n"
	"query options (the query commands read the last run's outputs):\n"
	"  --json                 one JSON document instead of a table\n"
	"  -n N                   rankings: at most N models (default 20, 0: all)\n"
	"  --callable             rankings: only models the admin's keys can call\n"
	"\n"
	"exit status: 0 every source fresh or cached; 1 outputs written but a source\n"
	"stale or failed; 2 usage or configuration error; 3 no records or outputs not\n"
	"written; 4 another run holds the lock.\n";

struct cli {
	const char *config_path; /* NULL: default */
	int verbosity;
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "modelfuse: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\ntry 'modelfuse --help'\n");
	va_end(ap);
	return MF_EXIT_USAGE;
}

/* Append NAME or NAME,NAME to a list of names. */
static void add_names(char ***list, size_t *count, const char *arg)
{
	char *copy = xstrdup(arg);
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!*tok)
			continue;
		*list = xrealloc(*list, (*count + 1) * sizeof **list);
		(*list)[(*count)++] = xstrdup(tok);
	}
	free(copy);
}

static void free_names(char **list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(list[i]);
	free(list);
}

static const struct source_config *find_source(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_sources; i++)
		if (strcmp(cfg->sources[i].name, name) == 0)
			return &cfg->sources[i];
	return NULL;
}

static struct config *load_config(const struct cli *cli)
{
	const char *path = cli->config_path ? cli->config_path : config_default_path();
	struct errors errs = {0};
	struct config *cfg = config_load(path, &errs);
	if (errs.count > 0) {
		errors_print(&errs);
		log_error("%s: %zu configuration error%s: nothing run", path, errs.count,
			  errs.count == 1 ? "" : "s");
		config_free(cfg);
		cfg = NULL;
	}
	errors_free(&errs);
	return cfg;
}

/* Load the plugin of every enabled source and check its options. A plugin
 * that cannot be loaded is recorded in load_errs (the source then fails on
 * its own); bad options are configuration errors (config_errs). */
static struct loaded_plugin *load_plugins(const struct config *cfg, struct errors *load_errs,
					  struct errors *config_errs)
{
	struct loaded_plugin *plugins = xcalloc(cfg->n_sources, sizeof *plugins);
	const char *dir = loader_plugin_dir(cfg->plugin_dir);
	for (size_t i = 0; i < cfg->n_sources; i++) {
		const struct source_config *src = &cfg->sources[i];
		if (!src->enabled)
			continue;
		/* A plugin that is not there at all is a mistake in the config
		 * (a typo, or the plugin was never installed): name the section.
		 * A file that is there but refused costs only its source. */
		char *file = xasprintf("%s/%s.so", dir, src->plugin);
		bool present = access(file, F_OK) == 0;
		free(file);
		if (!present) {
			errors_add(config_errs,
				   "%s:%d: [source %s]: no plugin '%s' in %s (check `plugin =`, "
				   "[core] plugin_dir or MODELFUSE_PLUGIN_DIR)",
				   cfg->path, src->line, src->name, src->plugin, dir);
			continue;
		}
		if (loader_open_named(dir, src->plugin, &plugins[i], load_errs) != 0)
			continue;
		config_check_options(cfg, src, plugins[i].desc, config_errs);
	}
	return plugins;
}

static void close_plugins(const struct config *cfg, struct loaded_plugin *plugins)
{
	for (size_t i = 0; i < cfg->n_sources; i++)
		if (plugins[i].handle)
			loader_close(&plugins[i]);
	free(plugins);
}

/* flock on cache_dir/.lock: the kernel releases it if a run dies. */
static int take_lock(const struct config *cfg, int *fd_out)
{
	if (mkdir_p(cfg->cache_dir) != 0) {
		log_error("cannot create cache_dir %s: %s", cfg->cache_dir, strerror(errno));
		return MF_EXIT_NO_OUTPUT;
	}
	char *path = xasprintf("%s/.lock", cfg->cache_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_error("cannot open lock file %s: %s", path, strerror(errno));
		free(path);
		return MF_EXIT_NO_OUTPUT;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK) {
			log_error("another run holds the lock on %s: not running", path);
			free(path);
			return MF_EXIT_LOCKED;
		}
		log_error("cannot lock %s: %s", path, strerror(e));
		free(path);
		return MF_EXIT_NO_OUTPUT;
	}
	free(path);
	*fd_out = fd;
	return MF_EXIT_OK;
}

/* The live display on a terminal: one line that shows the sources running
 * now (records and bytes received so far), rewritten in place, and a
 * permanent line for each source as it finishes. */
struct progress_view {
	const struct config *cfg;
	size_t *bytes;
	size_t *records;
	bool *active;
	size_t shown; /* characters of the live line on screen */
};

static void progress_redraw(struct progress_view *v)
{
	char line[512];
	size_t len = 0;
	for (size_t i = 0; i < v->cfg->n_sources && len < 200; i++) {
		if (!v->active[i])
			continue;
		int n = snprintf(line + len, sizeof line - len, "%s%s %zu rec %.1f MB",
				 len ? " | " : "", v->cfg->sources[i].name, v->records[i],
				 (double)v->bytes[i] / 1e6);
		if (n < 0 || (size_t)n >= sizeof line - len)
			break;
		len += (size_t)n;
	}
	fprintf(stderr, "\r%-*s\r%s", (int)v->shown, "", line);
	v->shown = len;
	fflush(stderr);
}

static void progress_event(void *arg, enum runner_event ev, size_t index, size_t bytes,
			   size_t records, const struct source_result *r)
{
	struct progress_view *v = arg;
	v->bytes[index] = bytes;
	v->records[index] = records;
	v->active[index] = ev != RUNNER_FINISHED;
	if (ev == RUNNER_FINISHED) {
		fprintf(stderr, "\r%-*s\r", (int)v->shown, "");
		v->shown = 0;
		fprintf(stderr, "%-20s %-9s %8zu records %7.2f s  %s\n", v->cfg->sources[index].name,
			source_status_name(r->status), r->records.count, r->seconds,
			r->message ? r->message : "");
	}
	progress_redraw(v);
}

/* Age of an ISO 8601 UTC time, for the closing table ("3h", "2d", "-"). */
static void format_age(const char *iso, char *buf, size_t len)
{
	struct tm tm = {0};
	const char *end = iso ? strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!end) {
		snprintf(buf, len, "-");
		return;
	}
	double age = difftime(time(NULL), timegm(&tm));
	if (age < 0)
		age = 0;
	if (age < 120)
		snprintf(buf, len, "%.0fs", age);
	else if (age < 7200)
		snprintf(buf, len, "%.0fm", age / 60);
	else if (age < 172800)
		snprintf(buf, len, "%.0fh", age / 3600);
	else
		snprintf(buf, len, "%.0fd", age / 86400);
}

static void print_summary(const struct config *cfg, const struct source_result *results,
			  size_t n_models, const char *where)
{
	fprintf(stderr, "%-20s %-12s %-9s %8s %5s %7s  %s\n", "SOURCE", "PLUGIN", "STATUS",
		"RECORDS", "AGE", "SECONDS", "MESSAGE");
	for (size_t i = 0; i < cfg->n_sources; i++) {
		const struct source_result *r = &results[i];
		char age[16];
		format_age(r->fetched_at, age, sizeof age);
		fprintf(stderr, "%-20s %-12s %-9s %8zu %5s %7.2f  %s\n", cfg->sources[i].name,
			cfg->sources[i].plugin, source_status_name(r->status), source_result_count(r), age,
			r->seconds, r->message ? r->message : "");
	}
	fprintf(stderr, "%zu models", n_models);
	if (where)
		fprintf(stderr, " written to %s", where);
	fprintf(stderr, "\n");
}


/* `run --stats`: wall time and output count of each phase, and peak memory,
 * so that a slow or large run can be read without a profiler. */
#define STATS_MAX_PHASES 8

struct run_stats {
	bool enabled;
	struct timespec last;
	size_t n;
	struct {
		const char *phase;
		double seconds;
		size_t count;
		const char *unit;
	} rows[STATS_MAX_PHASES];
};

static double seconds_since(struct timespec *last)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double s = (double)(now.tv_sec - last->tv_sec) + (double)(now.tv_nsec - last->tv_nsec) / 1e9;
	*last = now;
	return s;
}

static void stats_start(struct run_stats *st)
{
	clock_gettime(CLOCK_MONOTONIC, &st->last);
}

/* Close the phase that just ended. */
static void stats_mark(struct run_stats *st, const char *phase, size_t count, const char *unit)
{
	double s = seconds_since(&st->last);
	if (st->n == STATS_MAX_PHASES)
		return;
	st->rows[st->n].phase = phase;
	st->rows[st->n].seconds = s;
	st->rows[st->n].count = count;
	st->rows[st->n].unit = unit;
	st->n++;
}

static void stats_print(const struct run_stats *st)
{
	double total = 0;
	fprintf(stderr, "%-16s %9s %10s\n", "PHASE", "SECONDS", "OUT");
	for (size_t i = 0; i < st->n; i++) {
		fprintf(stderr, "%-16s %9.3f %10zu %s\n", st->rows[i].phase, st->rows[i].seconds,
			st->rows[i].count, st->rows[i].unit);
		total += st->rows[i].seconds;
	}
	fprintf(stderr, "%-16s %9.3f\n", "total", total);
	/* ru_maxrss is in KiB on Linux; RUSAGE_CHILDREN gives the largest
	 * reaped child, i.e. the hungriest source process. */
	struct rusage self, children;
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &children);
	fprintf(stderr, "peak memory: main process %.1f MiB, largest source process %.1f MiB\n",
		(double)self.ru_maxrss / 1024.0, (double)children.ru_maxrss / 1024.0);
}

static int parse_run_args(int argc, char **argv, struct run_options *opts, struct run_stats *st)
{
	enum { OPT_OFFLINE = 1000, OPT_FORCE, OPT_ONLY, OPT_ACCEPT, OPT_DRY, OPT_STATS };
	static const struct option longopts[] = {
		{"offline", no_argument, NULL, OPT_OFFLINE},
		{"force-refresh", no_argument, NULL, OPT_FORCE},
		{"only", required_argument, NULL, OPT_ONLY},
		{"accept-shrink", required_argument, NULL, OPT_ACCEPT},
		{"dry-run", no_argument, NULL, OPT_DRY},
		{"stats", no_argument, NULL, OPT_STATS},
		{NULL, 0, NULL, 0},
	};
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_OFFLINE:
			opts->offline = true;
			break;
		case OPT_FORCE:
			opts->force_refresh = true;
			break;
		case OPT_ONLY:
			add_names(&opts->only, &opts->n_only, optarg);
			break;
		case OPT_ACCEPT:
			add_names(&opts->accept_shrink, &opts->n_accept_shrink, optarg);
			break;
		case OPT_DRY:
			opts->dry_run = true;
			break;
		case OPT_STATS:
			st->enabled = true;
			break;
		default:
			return usage_error("%s: bad option for run", argv[0]);
		}
	}
	if (optind < argc)
		return usage_error("run: unexpected argument '%s'", argv[optind]);
	return MF_EXIT_OK;
}

static int check_names(const struct config *cfg, char **names, size_t n, const char *option)
{
	for (size_t i = 0; i < n; i++) {
		if (!find_source(cfg, names[i])) {
			log_error("%s %s: no [source %s] in %s", option, names[i], names[i],
				  cfg->path);
			return MF_EXIT_USAGE;
		}
	}
	return MF_EXIT_OK;
}

static size_t total_records(const struct config *cfg, const struct source_result *results)
{
	size_t n = 0;
	for (size_t i = 0; i < cfg->n_sources; i++)
		n += source_result_count(&results[i]);
	return n;
}

/* --------------------------------------------------------- unchanged runs */

/* The previous run's state when this run may reuse its outputs (reuse.h):
 * same key, outputs untouched since. */
static bool previous_run(const struct config *cfg, const char *key, struct reuse_state *prev)
{
	char why[512] = "";
	bool ok = reuse_state_read(cfg->output_dir, prev, why, sizeof why);
	if (ok && strcmp(prev->key, key) != 0) {
		snprintf(why, sizeof why,
			 "the program, configuration or data tables changed since the last run");
		ok = false;
	}
	if (ok && !reuse_outputs_intact(cfg->output_dir, prev, why, sizeof why))
		ok = false;
	if (!ok) {
		log_debug("outputs will be rebuilt: %s", why);
		reuse_state_free(prev);
	}
	return ok;
}

/* Did every source give exactly the records the previous run used? */
static bool records_unchanged(const struct config *cfg, const struct source_result *results,
			      const struct reuse_state *prev)
{
	for (size_t i = 0; i < cfg->n_sources; i++) {
		const struct source_result *r = &results[i];
		const char *before = reuse_state_records(prev, cfg->sources[i].name);
		if (r->records_pending)
			continue; /* the child only sends that when its stream is `before` */
		if (before || r->records.count > 0)
			return false;
	}
	return true;
}

struct renew_ctx {
	const struct writer_input *in;
	const struct changes *changes;
};

static int renew_catalog_head(FILE *f, void *arg)
{
	const struct renew_ctx *ctx = arg;
	return writer_catalog_head(f, ctx->in);
}

static int renew_changes(FILE *f, void *arg)
{
	const struct renew_ctx *ctx = arg;
	return changes_write_json(f, ctx->changes, ctx->in->generated_at);
}

/* Write the outputs of an unchanged run from the previous ones. */
static int renew_outputs(const struct config *cfg, const struct source_result *results,
			 const struct reuse_state *prev, const char *generated_at, char *err,
			 size_t errlen)
{
	const struct writer_input in = {
		.cfg = cfg,
		.results = results,
		.generated_at = generated_at,
	};
	const struct changes unchanged = {
		.has_previous = true,
		.previous_generated_at = prev->generated_at,
		.unchanged = prev->n_models,
	};
	struct renew_ctx ctx = {.in = &in, .changes = &unchanged};
	const struct reuse_renewal rn = {
		.output_dir = cfg->output_dir,
		.generated_at = generated_at,
		.catalog_head = renew_catalog_head,
		.changes = renew_changes,
		.arg = &ctx,
	};
	return reuse_renew_outputs(&rn, err, errlen);
}

/* Leave the state the next run compares with; a failure costs only that
 * run's shortcut. */
static void save_run_state(const struct config *cfg, const struct source_result *results,
			   const char *key, const char *generated_at, size_t n_models)
{
	static const char *const outputs[] = {"catalog.json", "staging_candidates.json",
					      "mapping.json", "changes.json",
					      CHANGES_DIGEST_NAME};
	struct reuse_state st = {
		.key = xstrdup(key),
		.generated_at = xstrdup(generated_at),
		.n_models = n_models,
		.sources = xcalloc(cfg->n_sources + 1, sizeof *st.sources),
		.n_sources = cfg->n_sources,
	};
	for (size_t i = 0; i < cfg->n_sources; i++) {
		const struct source_result *r = &results[i];
		st.sources[i].name = xstrdup(cfg->sources[i].name);
		st.sources[i].records = r->records_name ? xstrdup(r->records_name) : NULL;
	}
	char err[512];
	if (reuse_state_write(cfg->output_dir, &st, outputs, sizeof outputs / sizeof outputs[0],
			      err, sizeof err) != 0)
		log_warning("%s: the next run will rebuild every output", err);
	reuse_state_free(&st);
}

static int cmd_run(const struct cli *cli, int argc, char **argv)
{
	struct run_options opts = {0};
	struct run_stats stats = {0};
	int rc = parse_run_args(argc, argv, &opts, &stats);
	if (rc != MF_EXIT_OK)
		goto out_opts;
	struct config *cfg = load_config(cli);
	if (!cfg) {
		rc = MF_EXIT_USAGE;
		goto out_opts;
	}
	size_t enabled = 0;
	for (size_t i = 0; i < cfg->n_sources; i++)
		enabled += cfg->sources[i].enabled;
	if (enabled == 0) {
		log_error("%s: no source is enabled: nothing to run (add a [source NAME] section)",
			  cfg->path);
		rc = MF_EXIT_USAGE;
		goto out_cfg;
	}
	rc = check_names(cfg, opts.only, opts.n_only, "--only");
	if (rc == MF_EXIT_OK)
		rc = check_names(cfg, opts.accept_shrink, opts.n_accept_shrink, "--accept-shrink");
	if (rc != MF_EXIT_OK)
		goto out_cfg;

	struct errors load_errs = {0}, config_errs = {0};
	struct loaded_plugin *plugins = load_plugins(cfg, &load_errs, &config_errs);
	if (config_errs.count > 0) {
		errors_print(&config_errs);
		log_error("%s: %zu configuration error%s: nothing run", cfg->path,
			  config_errs.count, config_errs.count == 1 ? "" : "s");
		rc = MF_EXIT_USAGE;
		goto out_plugins;
	}
	/* The mapper's tables are configuration too: a broken overrides file
	 * stops the run before anything is fetched. */
	struct mapper_tables *tables = mapper_tables_load(cfg, &config_errs);
	if (!tables) {
		errors_print(&config_errs);
		log_error("%s: the mapper's data cannot be used: nothing run", cfg->path);
		rc = MF_EXIT_USAGE;
		goto out_plugins;
	}
	/* So are the derive stage's tables and [category] sections. */
	struct derive_tables *derive_tables = derive_tables_load(cfg, &config_errs);
	if (!derive_tables) {
		errors_print(&config_errs);
		log_error("%s: the derive stage's data cannot be used: nothing run", cfg->path);
		rc = MF_EXIT_USAGE;
		goto out_tables;
	}
	/* A plugin that cannot be loaded costs its source, not the run. */
	errors_print(&load_errs);

	int lock_fd = -1;
	rc = take_lock(cfg, &lock_fd);
	if (rc != MF_EXIT_OK)
		goto out_tables;
	char started_at[32];
	utc_now_iso(started_at, sizeof started_at);
	const char *outcome = NULL;

	fetch_global_init();
	struct source_result *results = xcalloc(cfg->n_sources, sizeof *results);
	struct progress_view view = {
		.cfg = cfg,
		.bytes = xcalloc(cfg->n_sources, sizeof *view.bytes),
		.records = xcalloc(cfg->n_sources, sizeof *view.records),
		.active = xcalloc(cfg->n_sources, sizeof *view.active),
	};
	const struct runner_progress progress = {.fn = progress_event, .arg = &view};
	if (isatty(STDERR_FILENO) && log_get_level() >= MF_LOG_WARNING)
		opts.progress = &progress;
	stats_start(&stats);
	/* Sources whose records are what the last run used need not send
	 * them: when none sent anything new, the outputs are renewed rather
	 * than rebuilt (reuse.h). A dry run writes nothing to compare with. */
	time_t now = time(NULL);
	if (!opts.dry_run)
		reuse_remove_stale_temporaries(cfg->output_dir);
	char *run_key = reuse_run_key(cfg, now);
	struct reuse_state prev = {0};
	bool have_prev = !opts.dry_run && previous_run(cfg, run_key, &prev);
	const char **known = NULL;
	if (have_prev) {
		known = xcalloc(cfg->n_sources, sizeof *known);
		for (size_t i = 0; i < cfg->n_sources; i++)
			known[i] = reuse_state_records(&prev, cfg->sources[i].name);
		opts.known_records = known;
	}
	runner_run(cfg, plugins, &opts, results);
	free(view.bytes);
	free(view.records);
	free(view.active);
	stats_mark(&stats, "fetch+normalize", total_records(cfg, results), "records");
	bool reused = false;
	char generated_at[32];
	utc_now_iso(generated_at, sizeof generated_at);
	char err[1024] = "";
	if (have_prev && records_unchanged(cfg, results, &prev)) {
		if (renew_outputs(cfg, results, &prev, generated_at, err, sizeof err) == 0) {
			reused = true;
			stats_mark(&stats, "renew outputs", prev.n_models, "models");
			log_info("nothing changed since %s: outputs renewed, not rebuilt",
				 prev.generated_at);
		} else {
			log_warning("%s: rebuilding the outputs instead", err);
		}
	}
	if (!reused)
		runner_load_pending(cfg, results);

	bool degraded = false;
	for (size_t i = 0; i < cfg->n_sources; i++) {
		const struct source_result *r = &results[i];
		if (r->status == SOURCE_STALE || r->status == SOURCE_FAILED) {
			degraded = true;
			log_warning("source %s %s: %s", cfg->sources[i].name,
				    source_status_name(r->status),
				    r->message ? r->message : "no details");
		}
	}

	struct mapping map = {0};
	struct catalog cat = {0};
	struct changes changes = {0};
	if (reused) {
		save_run_state(cfg, results, run_key, generated_at, prev.n_models);
		if (stats.enabled)
			stats_print(&stats);
		rc = degraded ? MF_EXIT_DEGRADED : MF_EXIT_OK;
		if (degraded)
			outcome = "a source is stale or failed (see status)";
		if (isatty(STDERR_FILENO) || log_get_level() >= MF_LOG_INFO) {
			print_summary(cfg, results, prev.n_models, cfg->output_dir);
			fprintf(stderr, "no model changed (%zu models)\n", prev.n_models);
		}
		if (isatty(STDOUT_FILENO) || log_get_level() >= MF_LOG_INFO)
			printf("catalog written to %s/catalog.json\n", cfg->output_dir);
		goto out_catalog;
	}
	if (total_records(cfg, results) == 0) {
		log_error("no source yielded records: previous outputs left untouched");
		outcome = "no source yielded records: previous outputs left untouched";
		rc = MF_EXIT_NO_OUTPUT;
		goto out_results;
	}
	mapper_map_with(tables, cfg, results, cfg->n_sources, &map);
	stats_mark(&stats, "map", map.count, "records");
	merge_build(cfg, results, cfg->n_sources, &map, &cat);
	stats_mark(&stats, "merge", cat.n_models, "models");
	/* Checks, tiers and scores before the changes: a nulled field is what
	 * the catalog says. */
	struct derive_input derive_in = {
		.cfg = cfg,
		.results = results,
		.n_results = cfg->n_sources,
		.mapping = &map,
		.tables = derive_tables,
		/* Ages count from the start of the UTC day, so that every run of
		 * a day derives the same scores (and an unchanged one can be
		 * reused: reuse_run_key holds the day when scores decay). */
		.now = now - now % 86400,
	};
	derive_run(&derive_in, &cat);
	stats_mark(&stats, "derive", cat.n_models, "models");
	changes_compute(cfg->output_dir, &cat, &changes);
	stats_mark(&stats, "changes", changes.n_added + changes.n_removed + changes.n_changed,
		   "changed models");

	struct writer_input in = {
		.cfg = cfg,
		.results = results,
		.catalog = &cat,
		.mapping = &map,
		.generated_at = generated_at,
		.changes = &changes,
	};
	if (!opts.dry_run && writer_write_all(&in, err, sizeof err) != 0) {
		log_error("%s: previous outputs left untouched", err);
		outcome = err;
		rc = MF_EXIT_NO_OUTPUT;
		goto out_catalog;
	}
	if (!opts.dry_run) {
		stats_mark(&stats, "write", cat.n_models, "models");
		save_run_state(cfg, results, run_key, generated_at, cat.n_models);
	}
	if (stats.enabled)
		stats_print(&stats);
	rc = degraded ? MF_EXIT_DEGRADED : MF_EXIT_OK;
	if (degraded)
		outcome = "a source is stale or failed (see status)";
	/* Silent on success without a terminal, as cron expects; a person at
	 * a terminal (or -v) gets the table and where the catalog went. */
	if (opts.dry_run || isatty(STDERR_FILENO) || log_get_level() >= MF_LOG_INFO) {
		print_summary(cfg, results, cat.n_models, opts.dry_run ? NULL : cfg->output_dir);
		changes_summary(&changes, stderr, 10);
	}
	if (opts.dry_run)
		printf("dry run: %zu models from %zu records; nothing written\n", cat.n_models,
		       total_records(cfg, results));
	else if (isatty(STDOUT_FILENO) || log_get_level() >= MF_LOG_INFO)
		printf("catalog written to %s/catalog.json\n", cfg->output_dir);

out_catalog:
	changes_free(&changes);
	catalog_free(&cat);
	mapping_free(&map);
out_results:
	/* What status reports as the last run; a dry run leaves nothing. */
	if (!opts.dry_run)
		query_save_last_run(cfg, started_at, rc, outcome);
	for (size_t i = 0; i < cfg->n_sources; i++)
		source_result_free(&results[i]);
	free(results);
	free(known);
	free(run_key);
	reuse_state_free(&prev);
	close(lock_fd);
out_tables:
	derive_tables_free(derive_tables);
	mapper_tables_free(tables);
out_plugins:
	errors_free(&load_errs);
	errors_free(&config_errs);
	close_plugins(cfg, plugins);
out_cfg:
	config_free(cfg);
out_opts:
	free_names(opts.only, opts.n_only);
	free_names(opts.accept_shrink, opts.n_accept_shrink);
	return rc;
}

static const char *option_type_name(enum mf_option_type t)
{
	switch (t) {
	case MF_OPT_STRING:
		return "string";
	case MF_OPT_INT:
		return "integer";
	case MF_OPT_BOOL:
		return "boolean";
	case MF_OPT_REAL:
		return "number";
	}
	return "?";
}

static int cmd_plugins(const struct cli *cli, int argc, char **argv)
{
	bool verbose = cli->verbosity > 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0)
			verbose = true;
		else
			return usage_error("plugins: unexpected argument '%s'", argv[i]);
	}
	/* The config names the plugin folder when there is one; without a
	 * config file the environment and the installed default apply. */
	const char *configured = NULL;
	struct config *cfg = NULL;
	const char *path = cli->config_path ? cli->config_path : config_default_path();
	if (cli->config_path || access(path, R_OK) == 0) {
		cfg = load_config(cli);
		if (!cfg)
			return MF_EXIT_USAGE;
		configured = cfg->plugin_dir;
	}
	const char *dir = loader_plugin_dir(configured);
	struct loaded_plugin *list = NULL;
	size_t count = 0;
	struct errors errs = {0};
	loader_scan(dir, &list, &count, &errs);
	errors_print(&errs);
	printf("plugins in %s:\n", dir);
	for (size_t i = 0; i < count; i++) {
		const struct mf_plugin *p = list[i].desc;
		printf("%-20s %-10s ABI %u.%u  %s\n", p->name, p->version, p->abi_major,
		       p->abi_minor, p->description ? p->description : "");
		if (!verbose)
			continue;
		printf("    file: %s\n", list[i].path);
		if (p->default_url)
			printf("    default url: %s\n", p->default_url);
		for (const struct mf_option *o = p->options; o && o->name; o++)
			printf("    option %s (%s%s%s, default %s): %s\n", o->name,
			       option_type_name(o->type), o->required ? ", required" : "",
			       o->secret ? ", secret" : "",
			       o->default_value ? o->default_value : "none", o->help ? o->help : "");
	}
	int rc = errs.count ? MF_EXIT_DEGRADED : MF_EXIT_OK;
	if (count == 0) {
		log_error("no plugins found in %s", dir);
		rc = MF_EXIT_USAGE;
	}
	errors_free(&errs);
	loader_free_all(list, count);
	config_free(cfg);
	return rc;
}

static int cmd_check_config(const struct cli *cli, int argc, char **argv)
{
	if (argc > 1)
		return usage_error("check-config: unexpected argument '%s'", argv[1]);
	struct config *cfg = load_config(cli);
	if (!cfg)
		return MF_EXIT_USAGE;
	struct errors load_errs = {0}, config_errs = {0};
	struct loaded_plugin *plugins = load_plugins(cfg, &load_errs, &config_errs);
	mapper_tables_free(mapper_tables_load(cfg, &config_errs));
	derive_tables_free(derive_tables_load(cfg, &config_errs));
	errors_print(&load_errs);
	errors_print(&config_errs);
	size_t enabled = 0;
	for (size_t i = 0; i < cfg->n_sources; i++)
		enabled += cfg->sources[i].enabled;
	int rc = MF_EXIT_OK;
	size_t problems = load_errs.count + config_errs.count;
	if (problems) {
		log_error("%s: %zu problem%s found", cfg->path, problems, problems == 1 ? "" : "s");
		rc = MF_EXIT_USAGE;
	} else {
		printf("%s: ok (%zu sources, %zu enabled)\n", cfg->path, cfg->n_sources, enabled);
	}
	errors_free(&load_errs);
	errors_free(&config_errs);
	close_plugins(cfg, plugins);
	config_free(cfg);
	return rc;
}

static int cmd_explain(const struct cli *cli, int argc, char **argv)
{
	bool json = false;
	const char *arg = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (!arg && argv[i][0] != '-')
			arg = argv[i];
		else
			return usage_error("explain: unexpected argument '%s'", argv[i]);
	}
	if (!arg)
		return usage_error("%s", "explain: give a [SOURCE:]ID");
	struct config *cfg = load_config(cli);
	if (!cfg)
		return MF_EXIT_USAGE;
	int rc = query_explain(cfg, arg, json, stdout);
	config_free(cfg);
	return rc;
}

/* The options the query commands share. */
struct query_args {
	bool json;
	bool callable;
	size_t limit;
	const char *arg;
};

/* Options may stand before or after the argument; `what` is the
 * argument's name for the messages, NULL when the command takes none. */
static int parse_query_args(int argc, char **argv, const char *what, bool rankings,
			    struct query_args *qa)
{
	const char *cmd = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--json") == 0) {
			qa->json = true;
		} else if (rankings && strcmp(a, "--callable") == 0) {
			qa->callable = true;
		} else if (rankings && str_starts_with(a, "-n")) {
			const char *v = a[2] ? a + 2 : i + 1 < argc ? argv[++i] : NULL;
			int64_t n = 0;
			if (!v || !parse_int64(v, &n) || n < 0)
				return usage_error("%s: -n needs a number of models >= 0 (0: all)",
						   cmd);
			qa->limit = (size_t)n;
		} else if (what && !qa->arg && (a[0] != '-' || a[1] == '\0')) {
			qa->arg = a;
		} else {
			return usage_error("%s: unexpected argument '%s'", cmd, a);
		}
	}
	if (what && !qa->arg)
		return usage_error("%s: give a %s", cmd, what);
	return MF_EXIT_OK;
}

static int cmd_query(const struct cli *cli, int argc, char **argv)
{
	const char *cmd = argv[0];
	bool rankings = strcmp(cmd, "rankings") == 0;
	const char *what = strcmp(cmd, "status") == 0 ? NULL : rankings ? "CATEGORY" : "MODEL";
	struct query_args qa = {.limit = 20};
	int rc = parse_query_args(argc, argv, what, rankings, &qa);
	if (rc != MF_EXIT_OK)
		return rc;
	struct config *cfg = load_config(cli);
	if (!cfg)
		return MF_EXIT_USAGE;
	if (strcmp(cmd, "status") == 0)
		rc = query_status(cfg, 10, qa.json, stdout);
	else if (strcmp(cmd, "show") == 0)
		rc = query_show(cfg, qa.arg, qa.json, stdout);
	else if (strcmp(cmd, "scores") == 0)
		rc = query_scores(cfg, qa.arg, qa.json, stdout);
	else
		rc = query_rankings(cfg, qa.arg, qa.limit, qa.callable, qa.json, stdout);
	config_free(cfg);
	return rc;
}

int cli_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"verbose", no_argument, NULL, 'v'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct cli cli = {0};
	bool quiet = false;
	int c;
	/* '+': stop at the command; its own options follow it. */
	while ((c = getopt_long(argc, argv, "+c:vqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cli.config_path = optarg;
			break;
		case 'v':
			cli.verbosity++;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return MF_EXIT_OK;
		case 'V':
			printf("modelfuse %s (plugin ABI %d.%d)\n", PACKAGE_VERSION, MF_ABI_MAJOR,
			       MF_ABI_MINOR);
			return MF_EXIT_OK;
		default:
			fputs("try 'modelfuse --help'\n", stderr);
			return MF_EXIT_USAGE;
		}
	}
	if (quiet)
		log_set_level(MF_LOG_ERROR);
	else if (cli.verbosity == 1)
		log_set_level(MF_LOG_INFO);
	else if (cli.verbosity > 1)
		log_set_level(MF_LOG_DEBUG);

	if (optind >= argc)
		return usage_error("%s", "no command given");
	const char *cmd = argv[optind];
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	if (strcmp(cmd, "run") == 0)
		return cmd_run(&cli, sub_argc, sub_argv);
	if (strcmp(cmd, "plugins") == 0)
		return cmd_plugins(&cli, sub_argc, sub_argv);
	if (strcmp(cmd, "check-config") == 0)
		return cmd_check_config(&cli, sub_argc, sub_argv);
	if (strcmp(cmd, "explain") == 0)
		return cmd_explain(&cli, sub_argc, sub_argv);
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "show") == 0 ||
	    strcmp(cmd, "scores") == 0 || strcmp(cmd, "rankings") == 0)
		return cmd_query(&cli, sub_argc, sub_argv);
	if (strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		return MF_EXIT_OK;
	}
	return usage_error("unknown command '%s'", cmd);
}
