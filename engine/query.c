#include "mf_build_config.h"
#include "query.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "util.h"

/*
 * mapping.json is written one decision per line (writer.c), so explain
 * reads it line by line and keeps only the matches: a run with a hundred
 * thousand records does not need its whole mapping in memory to answer
 * for one id. A file in another layout (hand-edited, re-indented) is read
 * whole as a fallback.
 */

struct query {
	const char *source; /* NULL: any */
	char *id;
	json_t *matches; /* array */
	bool exact;	 /* an exact match was seen: drop case-insensitive ones */
};

static bool field_is(const json_t *e, const char *key, const char *want, bool exact)
{
	const char *v = json_string_value(json_object_get(e, key));
	if (!v)
		return false;
	return exact ? strcmp(v, want) == 0 : strcasecmp(v, want) == 0;
}

static void consider(struct query *q, json_t *e)
{
	if (!json_is_object(e))
		return;
	if (q->source && !field_is(e, "source", q->source, true))
		return;
	static const char *const keys[] = {"id", "native_id", "model"};
	for (int pass = 0; pass < 2; pass++) {
		bool exact = pass == 0;
		if (!exact && q->exact)
			return;
		for (size_t k = 0; k < 3; k++) {
			if (!field_is(e, keys[k], q->id, exact))
				continue;
			if (exact && !q->exact) {
				/* The first exact match outranks earlier case-insensitive ones. */
				json_array_clear(q->matches);
				q->exact = true;
			}
			json_array_append(q->matches, e);
			return;
		}
	}
}

/* Line by line; returns the number of entry lines seen, -1 on a read error. */
static long scan_lines(FILE *f, struct query *q)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long entries = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (strncmp(s, "{\"source\"", 9) != 0)
			continue;
		size_t n = strlen(s);
		while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ','))
			s[--n] = '\0';
		json_error_t jerr;
		json_t *e = json_loads(s, 0, &jerr);
		if (!e) {
			entries = -1;
			break;
		}
		entries++;
		consider(q, e);
		json_decref(e);
	}
	bool failed = ferror(f) != 0;
	free(line);
	return failed ? -1 : entries;
}

static int scan_whole(const char *path, struct query *q)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	json_t *entries = json_object_get(root, "entries");
	if (!json_is_array(entries)) {
		log_error("%s: not a mapping file: %s", path, root ? "no entries list" : jerr.text);
		json_decref(root);
		return -1;
	}
	size_t i;
	json_t *e;
	json_array_foreach(entries, i, e) consider(q, e);
	json_decref(root);
	return 0;
}

static const char *jget(const json_t *e, const char *key)
{
	const char *v = json_string_value(json_object_get(e, key));
	return v ? v : "";
}

static void print_text(FILE *out, const struct query *q)
{
	size_t n = json_array_size(q->matches);
	const json_t *first = json_array_get(q->matches, 0);
	bool by_model = n > 0 && field_is(first, "model", q->id, q->exact) &&
			!field_is(first, "id", q->id, q->exact);
	if (by_model)
		fprintf(out, "%s: %zu record%s\n", jget(first, "model"), n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(q->matches, i);
		fprintf(out, "%s:%s", jget(e, "source"), jget(e, "id"));
		if (*jget(e, "provider"))
			fprintf(out, " (provider %s)", jget(e, "provider"));
		fprintf(out, " -> %s\n", jget(e, "model"));
		fprintf(out, "    rule %s, key %s, maker from %s\n", jget(e, "rule"),
			jget(e, "key"), *jget(e, "maker_rule") ? jget(e, "maker_rule") : "?");
		if (*jget(e, "evidence"))
			fprintf(out, "    evidence: %s\n", jget(e, "evidence"));
	}
}

int query_explain(const struct config *cfg, const char *arg, bool json, FILE *out)
{
	if (!arg || !*arg) {
		log_error("explain: no id given (usage: explain [SOURCE:]ID)");
		return MF_EXIT_USAGE;
	}
	struct query q = {.matches = json_array()};
	const char *colon = strchr(arg, ':');
	for (size_t i = 0; colon && cfg && i < cfg->n_sources; i++) {
		const char *name = cfg->sources[i].name;
		if (strlen(name) == (size_t)(colon - arg) &&
		    strncmp(name, arg, strlen(name)) == 0 && colon[1]) {
			q.source = name;
			break;
		}
	}
	q.id = xstrdup(q.source ? colon + 1 : arg);

	const char *dir = cfg && cfg->output_dir ? cfg->output_dir : ".";
	char *path = xasprintf("%s/mapping.json", dir);
	int rc = MF_EXIT_OK;
	FILE *f = fopen(path, "r");
	if (!f) {
		log_error("cannot read %s: %s (has a run written its outputs?)", path,
			  strerror(errno));
		rc = MF_EXIT_NO_OUTPUT;
		goto out;
	}
	long entries = scan_lines(f, &q);
	fclose(f);
	if (entries <= 0) {
		json_array_clear(q.matches);
		q.exact = false;
		if (scan_whole(path, &q) != 0) {
			rc = MF_EXIT_NO_OUTPUT;
			goto out;
		}
	}

	if (json) {
		json_t *o = json_object();
		json_object_set_new(o, "query", json_string(arg));
		json_object_set_new(o, "mapping", json_string(path));
		json_object_set(o, "matches", q.matches);
		char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(o);
		if (s) {
			fprintf(out, "%s\n", s);
			free(s);
		}
	} else if (json_array_size(q.matches) > 0) {
		print_text(out, &q);
	}
	if (json_array_size(q.matches) == 0) {
		log_error("explain: no mapping decision for %s in %s", arg, path);
		rc = 1;
	}
out:
	free(path);
	free(q.id);
	json_decref(q.matches);
	return rc;
}

/* ================================================================ catalog queries */

#define QUERY_DUMP_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

static void print_json(FILE *out, json_t *j)
{
	char *s = json_dumps(j, QUERY_DUMP_FLAGS);
	if (s) {
		fprintf(out, "%s\n", s);
		free(s);
	}
}

static const char *output_dir(const struct config *cfg)
{
	return cfg && cfg->output_dir ? cfg->output_dir : ".";
}

/* catalog.json of the last run, or NULL with the reason logged. */
static json_t *load_catalog(const struct config *cfg, char **path_out)
{
	char *path = xasprintf("%s/catalog.json", output_dir(cfg));
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	if (!root) {
		if (access(path, F_OK) != 0)
			log_error("cannot read %s: %s (has a run written its outputs?)", path,
				  strerror(errno));
		else
			log_error("cannot read %s: %s", path, jerr.text);
	} else if (!json_is_array(json_object_get(root, "models"))) {
		log_error("%s: not a catalog: no models list", path);
		json_decref(root);
		root = NULL;
	}
	if (path_out && root)
		*path_out = path;
	else
		free(path);
	return root;
}

static const char *sget(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* A number for a table: "-" when null; integers without a fraction. */
static const char *num_text(const json_t *v, char *buf, size_t len)
{
	if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%.10g", json_real_value(v));
	else
		snprintf(buf, len, "-");
	return buf;
}

static const char *num_of(const json_t *o, const char *key, char *buf, size_t len)
{
	return num_text(json_object_get(o, key), buf, len);
}

/* "a, b, c" of a list of strings, "-" when empty. */
static char *join_list(const json_t *list, const char *sep)
{
	struct strbuf sb;
	strbuf_init(&sb);
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
	{
		if (json_is_string(v))
			strbuf_printf(&sb, "%s%s", sb.len ? sep : "", json_string_value(v));
	}
	if (!sb.len)
		strbuf_puts(&sb, "-");
	return strbuf_detach(&sb);
}

static bool list_has(const json_t *list, const char *want, bool exact)
{
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
	{
		const char *s = json_string_value(v);
		if (s && (exact ? strcmp(s, want) == 0 : strcasecmp(s, want) == 0))
			return true;
	}
	return false;
}

/* Does model m answer to arg at this level? 0: its id, 1: id ignoring
 * case, 2: an alias or native id, 3: the same ignoring case. */
static bool model_matches(const json_t *m, const char *arg, int level)
{
	const char *id = sget(m, "id");
	if (level == 0)
		return id && strcmp(id, arg) == 0;
	if (level == 1)
		return id && strcasecmp(id, arg) == 0;
	bool exact = level == 2;
	if (list_has(json_object_get(m, "aliases"), arg, exact))
		return true;
	const char *key;
	json_t *ids;
	json_object_foreach(json_object_get(m, "source_ids"), key, ids)
	{
		if (list_has(ids, arg, exact))
			return true;
	}
	return false;
}

/* The model arg names, or NULL: then the candidates of an ambiguous name
 * are printed (the status is 1 either way). */
static json_t *find_model(const json_t *models, const char *arg, FILE *out)
{
	for (int level = 0; level < 4; level++) {
		json_t *found = NULL;
		size_t hits = 0;
		size_t i;
		json_t *m;
		json_array_foreach(models, i, m)
		{
			if (model_matches(m, arg, level)) {
				found = found ? found : m;
				hits++;
			}
		}
		if (hits == 1)
			return found;
		if (hits > 1) {
			log_error("%s names %zu models; give one of their ids:", arg, hits);
			json_array_foreach(models, i, m)
			{
				if (model_matches(m, arg, level))
					fprintf(out, "%s\n", sget(m, "id"));
			}
			return NULL;
		}
	}
	log_error("no model %s in the catalog (by id, alias or native id)", arg);
	return NULL;
}

static json_t *load_model(const struct config *cfg, const char *arg, FILE *out, json_t **root,
			  int *rc)
{
	*root = NULL;
	if (!arg || !*arg) {
		log_error("no model given");
		*rc = MF_EXIT_USAGE;
		return NULL;
	}
	*root = load_catalog(cfg, NULL);
	if (!*root) {
		*rc = MF_EXIT_NO_OUTPUT;
		return NULL;
	}
	json_t *m = find_model(json_object_get(*root, "models"), arg, out);
	*rc = m ? MF_EXIT_OK : 1;
	return m;
}

/* ------------------------------------------------------------ tiers and scores */

static void print_tiers(FILE *out, const json_t *tiers, const char *indent)
{
	const char *key;
	json_t *t;
	json_object_foreach((json_t *)tiers, key, t)
	{
		char tier[32], value[64];
		fprintf(out, "%s%-10s %-2s %s", indent, key, num_of(t, "tier", tier, sizeof tier),
			sget(t, "basis") ? sget(t, "basis") : "-");
		if (json_object_get(t, "value"))
			fprintf(out, ", value %s", num_of(t, "value", value, sizeof value));
		if (sget(t, "maker"))
			fprintf(out, ", maker %s", sget(t, "maker"));
		if (sget(t, "category"))
			fprintf(out, ", arena %s", sget(t, "category"));
		if (sget(t, "from"))
			fprintf(out, " (from %s%s)", sget(t, "from"),
				json_integer_value(json_object_get(t, "adjustment")) < 0
				    ? ", minus 1 for a reasoning model"
				    : "");
		fputc('\n', out);
	}
}

static void print_summaries(FILE *out, const json_t *m)
{
	char a[32], b[32], c[32];
	fprintf(out, "best at %s, worst at %s; overall score %s, rank %s; cost efficiency %s\n",
		sget(m, "best_at") ? sget(m, "best_at") : "-",
		sget(m, "worst_at") ? sget(m, "worst_at") : "-",
		num_of(m, "overall_score", a, sizeof a), num_of(m, "overall_rank", b, sizeof b),
		num_of(m, "cost_efficiency", c, sizeof c));
}

static void print_scores(FILE *out, const json_t *scores, bool details)
{
	if (json_object_size(scores) == 0) {
		fprintf(out, "  no category scores (no benchmark, index or arena data)\n");
		return;
	}
	fprintf(out, "  %-18s %7s %7s %6s\n", "CATEGORY", "SCORE", "CONF", "RANK");
	const char *key;
	json_t *s;
	json_object_foreach((json_t *)scores, key, s)
	{
		char rank[32];
		fprintf(out, "  %-18s %7.2f %7.4f %6s\n", key,
			json_number_value(json_object_get(s, "score")),
			json_number_value(json_object_get(s, "confidence")),
			num_of(s, "rank", rank, sizeof rank));
		if (!details)
			continue;
		size_t i;
		json_t *c;
		json_array_foreach(json_object_get(s, "contributing_scores"), i, c)
		{
			char value[32], raw[48] = "", weight[32], eff[32];
			if (json_object_get(c, "raw")) {
				char r[32];
				snprintf(raw, sizeof raw, " (rating %s)",
					 num_of(c, "raw", r, sizeof r));
			}
			fprintf(out, "      %-40s %8s%s weight %s", sget(c, "name"),
				num_of(c, "value", value, sizeof value), raw,
				num_of(c, "weight", weight, sizeof weight));
			if (json_real_value(json_object_get(c, "weight")) !=
			    json_real_value(json_object_get(c, "effective_weight")))
				fprintf(out, " (decayed %s)",
					num_of(c, "effective_weight", eff, sizeof eff));
			fprintf(out, ", %s, %s\n", sget(c, "source") ? sget(c, "source") : "?",
				sget(c, "date") ? sget(c, "date") : "no date");
		}
		json_array_foreach(json_object_get(s, "adjustments"), i, c)
		{
			char points[32], value[32], pct[32];
			fprintf(out, "      %-40s %8s points (value %s, percentile %s)\n",
				sget(c, "kind"), num_of(c, "points", points, sizeof points),
				num_of(c, "value", value, sizeof value),
				num_of(c, "percentile", pct, sizeof pct));
		}
	}
}

static void print_flags(FILE *out, const json_t *m)
{
	const json_t *flags = json_object_get(json_object_get(m, "quality"), "flags");
	if (json_array_size(flags) == 0) {
		fprintf(out, "quality: no flags\n");
		return;
	}
	fprintf(out, "quality flags:\n");
	size_t i;
	json_t *f;
	json_array_foreach(flags, i, f)
	{
		const json_t *o = json_object_get(f, "offering");
		fprintf(out, "  [%s] %s", sget(f, "action"), sget(f, "check"));
		if (json_is_object(o))
			fprintf(out, " on %s:%s", sget(o, "provider"), sget(o, "id"));
		fprintf(out, ": %s\n", sget(f, "message") ? sget(f, "message") : "");
		size_t k;
		json_t *v;
		json_array_foreach(json_object_get(f, "values"), k, v)
		{
			char buf[64];
			const json_t *value = json_object_get(v, "value");
			fprintf(out, "      %s", sget(v, "source") ? sget(v, "source") : "?");
			if (sget(v, "provider"))
				fprintf(out, " %s:%s", sget(v, "provider"), sget(v, "id"));
			if (sget(v, "field"))
				fprintf(out, " %s", sget(v, "field"));
			fprintf(out, " = %s\n",
				json_is_string(value) ? json_string_value(value)
						      : num_text(value, buf, sizeof buf));
		}
	}
}

/* ------------------------------------------------------------ show */

static void print_price(FILE *out, const json_t *price)
{
	char in[32], o[32];
	if (!json_is_object(price)) {
		fprintf(out, "-");
		return;
	}
	fprintf(out, "%s in / %s out", num_of(price, "input_per_million", in, sizeof in),
		num_of(price, "output_per_million", o, sizeof o));
}

static void show_text(FILE *out, const json_t *m)
{
	char a[32], b[32], c[32];
	fprintf(out, "%s", sget(m, "id"));
	if (sget(m, "name"))
		fprintf(out, "  %s", sget(m, "name"));
	fputc('\n', out);
	char *aliases = join_list(json_object_get(m, "aliases"), ", ");
	char *tags = join_list(json_object_get(m, "tags"), ", ");
	char *callable = join_list(json_object_get(m, "callable_via"), ", ");
	const json_t *mod = json_object_get(m, "modalities");
	char *min = join_list(json_object_get(mod, "input"), ", ");
	char *mout = join_list(json_object_get(mod, "output"), ", ");
	fprintf(out, "  %-14s %s\n", "maker", sget(m, "provider"));
	fprintf(out, "  %-14s %s\n", "aliases", aliases);
	fprintf(out, "  %-14s %s\n", "tags", tags);
	fprintf(out, "  %-14s %s -> %s\n", "modalities", min, mout);
	fprintf(out, "  %-14s %s tokens, max output %s, max input %s\n", "context",
		num_of(m, "context_tokens", a, sizeof a),
		num_of(m, "max_output_tokens", b, sizeof b),
		num_of(m, "max_input_tokens", c, sizeof c));
	fprintf(out, "  %-14s ", "price");
	print_price(out, json_object_get(m, "price"));
	const json_t *from = json_object_get(m, "price_from");
	if (json_is_object(from))
		fprintf(out, " USD per 1M tokens (from %s:%s)", sget(from, "provider"),
			sget(from, "id"));
	fputc('\n', out);
	fprintf(out, "  %-14s %s\n", "release date",
		sget(m, "release_date") ? sget(m, "release_date") : "-");
	fprintf(out, "  %-14s %s\n", "license", sget(m, "license") ? sget(m, "license") : "-");
	static const char *const flags[] = {"open_weights", "reasoning", "tool_call"};
	for (size_t i = 0; i < 3; i++) {
		const json_t *v = json_object_get(m, flags[i]);
		fprintf(out, "  %-14s %s\n", flags[i],
			json_is_boolean(v) ? (json_is_true(v) ? "yes" : "no") : "-");
	}
	const json_t *arena = json_object_get(m, "arena");
	if (json_is_object(arena))
		fprintf(out, "  %-14s %s (%s .. %s)\n", "arena",
			num_of(arena, "rating", a, sizeof a),
			num_of(arena, "rating_q025", b, sizeof b),
			num_of(arena, "rating_q975", c, sizeof c));
	fprintf(out, "  %-14s %s\n", "popularity", num_of(m, "popularity_score", a, sizeof a));
	fprintf(out, "  %-14s %s\n", "callable via", callable);
	const json_t *speed = json_object_get(m, "speed");
	if (json_is_object(speed))
		fprintf(out, "  %-14s %s tokens/s, first token after %s s\n", "speed",
			num_of(speed, "output_tokens_per_second", a, sizeof a),
			num_of(speed, "time_to_first_token_seconds", b, sizeof b));
	free(aliases);
	free(tags);
	free(callable);
	free(min);
	free(mout);

	fprintf(out, "tiers:\n");
	print_tiers(out, json_object_get(m, "tiers"), "  ");
	fprintf(out, "scores: ");
	print_summaries(out, m);
	print_scores(out, json_object_get(m, "category_scores"), false);

	const json_t *offerings = json_object_get(m, "offerings");
	fprintf(out, "offerings (%zu):\n", json_array_size(offerings));
	if (json_array_size(offerings) > 0)
		fprintf(out, "  %-16s %-40s %10s %10s %9s %9s  %s\n", "PROVIDER", "ID", "INPUT",
			"OUTPUT", "CONTEXT", "OUTPUT", "SOURCE");
	size_t i;
	json_t *o;
	json_array_foreach(offerings, i, o)
	{
		const json_t *price = json_object_get(o, "price");
		char in[32], op[32], ctx[32], mo[32];
		fprintf(out, "  %-16s %-40s %10s %10s %9s %9s  %s\n", sget(o, "provider"),
			sget(o, "id"), num_of(price, "input_per_million", in, sizeof in),
			num_of(price, "output_per_million", op, sizeof op),
			num_of(o, "context_tokens", ctx, sizeof ctx),
			num_of(o, "max_output_tokens", mo, sizeof mo), sget(o, "source"));
	}
	fprintf(out, "source ids:\n");
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(m, "source_ids"), key, v)
	{
		char *ids = join_list(v, ", ");
		fprintf(out, "  %-18s %s\n", key, ids);
		free(ids);
	}
	fprintf(out, "provenance:\n");
	json_object_foreach(json_object_get(m, "provenance"), key, v)
	    fprintf(out, "  %-28s %s\n", key, json_string_value(v));
	print_flags(out, m);
}

int query_show(const struct config *cfg, const char *model, bool json, FILE *out)
{
	json_t *root;
	int rc;
	json_t *m = load_model(cfg, model, out, &root, &rc);
	if (m) {
		if (json)
			print_json(out, m);
		else
			show_text(out, m);
	}
	json_decref(root);
	return rc;
}

/* ------------------------------------------------------------ scores */

int query_scores(const struct config *cfg, const char *model, bool json, FILE *out)
{
	json_t *root;
	int rc;
	json_t *m = load_model(cfg, model, out, &root, &rc);
	if (!m) {
		json_decref(root);
		return rc;
	}
	if (json) {
		json_t *o = json_object();
		static const char *const keys[] = {
		    "id",	"name",		 "tiers",	 "category_scores", "best_at",
		    "worst_at", "overall_score", "overall_rank", "cost_efficiency", "speed",
		};
		for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
			json_t *v = json_object_get(m, keys[i]);
			json_object_set(o, keys[i], v ? v : json_null());
		}
		print_json(out, o);
		json_decref(o);
	} else {
		fprintf(out, "%s%s%s%s\n", sget(m, "id"), sget(m, "name") ? " (" : "",
			sget(m, "name") ? sget(m, "name") : "", sget(m, "name") ? ")" : "");
		print_summaries(out, m);
		fprintf(out, "tiers:\n");
		print_tiers(out, json_object_get(m, "tiers"), "  ");
		fprintf(out, "category scores:\n");
		print_scores(out, json_object_get(m, "category_scores"), true);
	}
	json_decref(root);
	return rc;
}

/* ------------------------------------------------------------ rankings */

struct rank_row {
	const json_t *model;
	double score;
	double confidence;
	json_int_t rank;
};

static int rank_row_qsort(const void *pa, const void *pb)
{
	const struct rank_row *a = pa, *b = pb;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	if (a->confidence != b->confidence)
		return a->confidence > b->confidence ? -1 : 1;
	return strcmp(sget(a->model, "id"), sget(b->model, "id"));
}

/* The categories some model has a score in, in first-seen order. */
static char *known_categories(const json_t *models)
{
	json_t *seen = json_object();
	struct strbuf sb;
	strbuf_init(&sb);
	size_t i;
	json_t *m;
	json_array_foreach(models, i, m)
	{
		const char *key;
		json_t *v;
		json_object_foreach(json_object_get(m, "category_scores"), key, v)
		{
			if (json_object_get(seen, key))
				continue;
			json_object_set_new(seen, key, json_true());
			strbuf_printf(&sb, "%s%s", sb.len ? ", " : "", key);
		}
	}
	json_decref(seen);
	if (!sb.len)
		strbuf_puts(&sb, "none");
	return strbuf_detach(&sb);
}

int query_rankings(const struct config *cfg, const char *category, size_t limit, bool callable,
		   bool json, FILE *out)
{
	if (!category || !*category) {
		log_error("no category given");
		return MF_EXIT_USAGE;
	}
	json_t *root = load_catalog(cfg, NULL);
	if (!root)
		return MF_EXIT_NO_OUTPUT;
	const json_t *models = json_object_get(root, "models");
	bool overall = strcmp(category, "overall") == 0;
	struct rank_row *rows = xcalloc(json_array_size(models) + 1, sizeof *rows);
	size_t n = 0, scored = 0;
	size_t i;
	json_t *m;
	json_array_foreach(models, i, m)
	{
		const json_t *s =
		    overall ? m : json_object_get(json_object_get(m, "category_scores"), category);
		const json_t *score = json_object_get(s, overall ? "overall_score" : "score");
		if (!json_is_number(score))
			continue;
		scored++;
		if (callable && json_array_size(json_object_get(m, "callable_via")) == 0)
			continue;
		rows[n++] = (struct rank_row){
		    .model = m,
		    .score = json_number_value(score),
		    .confidence = overall ? 0 : json_number_value(json_object_get(s, "confidence")),
		    .rank =
			json_integer_value(json_object_get(s, overall ? "overall_rank" : "rank")),
		};
	}
	int rc = MF_EXIT_OK;
	if (scored == 0) {
		char *known = known_categories(models);
		log_error(
		    "no model has a score for %s (categories in the catalog: %s, and overall)",
		    category, known);
		free(known);
		rc = 1;
		goto out;
	}
	if (n > 1)
		qsort(rows, n, sizeof *rows, rank_row_qsort);
	size_t shown = limit && limit < n ? limit : n;
	if (json) {
		json_t *o = json_object();
		json_object_set_new(o, "category", json_string(category));
		json_object_set_new(o, "scored", json_integer((json_int_t)scored));
		json_object_set_new(o, "callable_only", json_boolean(callable));
		json_t *list = json_array();
		for (size_t k = 0; k < shown; k++) {
			json_t *r = json_object();
			const json_t *mm = rows[k].model;
			json_object_set_new(r, "rank", json_integer(rows[k].rank));
			json_object_set(r, "id", json_object_get(mm, "id"));
			json_object_set(r, "name", json_object_get(mm, "name"));
			json_object_set_new(r, "score", json_real(rows[k].score));
			if (!overall)
				json_object_set_new(r, "confidence", json_real(rows[k].confidence));
			json_object_set(r, "callable_via", json_object_get(mm, "callable_via"));
			json_array_append_new(list, r);
		}
		json_object_set_new(o, "models", list);
		print_json(out, o);
		json_decref(o);
		goto out;
	}
	fprintf(out, "%s: %zu model%s scored", category, scored, scored == 1 ? "" : "s");
	if (callable)
		fprintf(out, ", %zu callable with the admin's keys", n);
	fprintf(out, ", showing %zu\n", shown);
	fprintf(out, "%5s  %-50s %7s %7s  %s\n", "RANK", "MODEL", "SCORE", overall ? "" : "CONF",
		"CALLABLE VIA");
	for (size_t k = 0; k < shown; k++) {
		const json_t *mm = rows[k].model;
		char *via = join_list(json_object_get(mm, "callable_via"), ",");
		char conf[32] = "";
		if (!overall)
			snprintf(conf, sizeof conf, "%.4f", rows[k].confidence);
		fprintf(out, "%5" JSON_INTEGER_FORMAT "  %-50s %7.2f %7s  %s\n", rows[k].rank,
			sget(mm, "id"), rows[k].score, conf, via);
		free(via);
	}
out:
	free(rows);
	json_decref(root);
	return rc;
}

/* ------------------------------------------------------------ status */

int query_save_last_run(const struct config *cfg, const char *started_at, int exit_status,
			const char *message)
{
	if (!cfg || !cfg->cache_dir)
		return -1;
	char finished[32];
	utc_now_iso(finished, sizeof finished);
	json_t *o = json_object();
	json_object_set_new(o, "started_at", started_at ? json_string(started_at) : json_null());
	json_object_set_new(o, "finished_at", json_string(finished));
	json_object_set_new(o, "exit_status", json_integer(exit_status));
	json_object_set_new(o, "message", message ? json_string(message) : json_null());
	char *path = xasprintf("%s/%s", cfg->cache_dir, QUERY_LAST_RUN_NAME);
	char err[512] = "";
	struct atomic_file af;
	int rc = atomic_open(&af, path, err, sizeof err);
	if (rc == 0) {
		FILE *f = atomic_stream(&af);
		if (json_dumpf(o, f, QUERY_DUMP_FLAGS) != 0 || fputc('\n', f) == EOF) {
			atomic_abort(&af);
			snprintf(err, sizeof err, "writing %s failed", path);
			rc = -1;
		} else {
			rc = atomic_commit(&af, err, sizeof err);
		}
	}
	if (rc != 0)
		log_warning("cannot record the run's outcome: %s", err);
	free(path);
	json_decref(o);
	return rc;
}

static const char *exit_meaning(json_int_t status)
{
	switch (status) {
	case MF_EXIT_OK:
		return "every source fresh or cached";
	case MF_EXIT_DEGRADED:
		return "outputs written, a source stale or failed";
	case MF_EXIT_NO_OUTPUT:
		return "no outputs written";
	default:
		return "see the message";
	}
}

static void age_text(double seconds, char *buf, size_t len)
{
	if (seconds < 0) {
		snprintf(buf, len, "-");
		return;
	}
	long s = (long)seconds;
	if (s < 120)
		snprintf(buf, len, "%lds", s);
	else if (s < 7200)
		snprintf(buf, len, "%ldm", s / 60);
	else if (s < 172800)
		snprintf(buf, len, "%ldh %ldm", s / 3600, s / 60 % 60);
	else
		snprintf(buf, len, "%ldd %ldh", s / 86400, s / 3600 % 24);
}

/* The counts and the unaligned entries of mapping.json, read line by
 * line as explain does. */
struct mapping_scan {
	json_int_t records;
	json_int_t unaligned;
	json_int_t dropped;
	bool found;
	json_t *entries; /* unaligned entries */
};

static bool count_line(const char *s, const char *key, json_int_t *out)
{
	char pattern[64];
	snprintf(pattern, sizeof pattern, "\"%s\": ", key);
	if (!str_starts_with(s, pattern))
		return false;
	int64_t v;
	char *copy = xstrdup(s + strlen(pattern));
	size_t n = strlen(copy);
	while (n > 0 && (copy[n - 1] == '\n' || copy[n - 1] == ',' || copy[n - 1] == '\r'))
		copy[--n] = '\0';
	bool ok = parse_int64(copy, &v);
	free(copy);
	if (ok)
		*out = v;
	return ok;
}

static void scan_mapping(const struct config *cfg, struct mapping_scan *ms)
{
	ms->entries = json_array();
	char *path = xasprintf("%s/mapping.json", output_dir(cfg));
	FILE *f = fopen(path, "r");
	free(path);
	if (!f)
		return;
	ms->found = true;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) >= 0) {
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (count_line(s, "records", &ms->records) ||
		    count_line(s, "unaligned", &ms->unaligned) ||
		    count_line(s, "dropped", &ms->dropped))
			continue;
		if (strncmp(s, "{\"source\"", 9) != 0 || !strstr(s, "\"rule\": \"unaligned\""))
			continue;
		size_t n = strlen(s);
		while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ','))
			s[--n] = '\0';
		json_error_t jerr;
		json_t *e = json_loads(s, 0, &jerr);
		if (e)
			json_array_append_new(ms->entries, e);
	}
	free(line);
	fclose(f);
}

struct unaligned_row {
	const json_t *entry;
	double popularity;
};

static int unaligned_qsort(const void *pa, const void *pb)
{
	const struct unaligned_row *a = pa, *b = pb;
	if (a->popularity != b->popularity)
		return a->popularity > b->popularity ? -1 : 1;
	int c = strcmp(sget(a->entry, "source"), sget(b->entry, "source"));
	return c != 0 ? c : strcmp(sget(a->entry, "id"), sget(b->entry, "id"));
}

/* Unaligned ids of models with a popularity, most popular first. */
static json_t *worth_override(const json_t *models, const json_t *entries, size_t limit)
{
	struct strmap pop;
	strmap_init(&pop);
	size_t i;
	json_t *m;
	json_array_foreach(models, i, m)
	{
		const char *id = sget(m, "id");
		if (id)
			strmap_put(&pop, id, json_object_get(m, "popularity_score"));
	}
	struct unaligned_row *rows = xcalloc(json_array_size(entries) + 1, sizeof *rows);
	size_t n = 0;
	json_t *e;
	json_array_foreach(entries, i, e)
	{
		const char *model = sget(e, "model");
		const json_t *p = model ? strmap_get(&pop, model) : NULL;
		if (!sget(e, "source") || !sget(e, "id") || json_number_value(p) <= 0)
			continue;
		rows[n++] = (struct unaligned_row){.entry = e, .popularity = json_number_value(p)};
	}
	if (n > 1)
		qsort(rows, n, sizeof *rows, unaligned_qsort);
	json_t *list = json_array();
	for (size_t k = 0; k < n && (limit == 0 || k < limit); k++) {
		json_t *r = json_object();
		json_object_set(r, "source", json_object_get(rows[k].entry, "source"));
		json_object_set(r, "id", json_object_get(rows[k].entry, "id"));
		json_object_set(r, "model", json_object_get(rows[k].entry, "model"));
		json_object_set_new(r, "popularity_score", json_real(rows[k].popularity));
		json_array_append_new(list, r);
	}
	free(rows);
	strmap_free(&pop, NULL);
	return list;
}

/* Per source: the catalog's entry, and the age of the cache now. */
static json_t *source_status(const struct config *cfg, const json_t *catalog_sources,
			     const char *name, const char *plugin)
{
	const json_t *found = NULL;
	size_t i;
	json_t *s;
	json_array_foreach(catalog_sources, i, s)
	{
		if (sget(s, "name") && strcmp(sget(s, "name"), name) == 0)
			found = s;
	}
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "plugin", plugin ? json_string(plugin) : json_null());
	static const char *const keys[] = {"status", "records", "fetched_at", "message"};
	for (size_t k = 0; k < 4; k++) {
		json_t *v = found ? json_object_get(found, keys[k]) : NULL;
		json_object_set(o, keys[k], v ? v : json_null());
	}
	if (!found)
		json_object_set_new(o, "message", json_string("not in the last run's catalog"));
	/* The manifest of the last good payload (cache.h) says when it was
	 * fetched; read directly, so that status needs nothing of the cache
	 * code and never touches the cache. */
	json_t *age = json_null();
	json_t *cached_at = json_null();
	char *manifest =
	    xasprintf("%s/%s/manifest.json", cfg && cfg->cache_dir ? cfg->cache_dir : ".", name);
	json_error_t jerr;
	json_t *mj = json_load_file(manifest, 0, &jerr);
	free(manifest);
	const char *fetched = sget(mj, "fetched_at");
	struct tm tm = {0};
	const char *end = fetched ? strptime(fetched, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (end && (*end == 'Z' || *end == '\0')) {
		cached_at = json_string(fetched);
		double seconds = difftime(time(NULL), timegm(&tm));
		if (seconds >= 0)
			age = json_integer((json_int_t)seconds);
	}
	json_decref(mj);
	json_object_set_new(o, "cache_fetched_at", cached_at);
	json_object_set_new(o, "age_seconds", age);
	return o;
}

static json_t *build_status(const struct config *cfg, const json_t *catalog, const char *path,
			    size_t limit)
{
	json_t *o = json_object();
	const json_t *models = json_object_get(catalog, "models");
	json_object_set_new(o, "catalog", json_string(path));
	json_object_set(o, "generated_at", json_object_get(catalog, "generated_at"));
	json_object_set_new(o, "models", json_integer((json_int_t)json_array_size(models)));

	char *last_path =
	    xasprintf("%s/%s", cfg && cfg->cache_dir ? cfg->cache_dir : ".", QUERY_LAST_RUN_NAME);
	json_error_t jerr;
	json_t *last = json_load_file(last_path, 0, &jerr);
	free(last_path);
	json_object_set_new(o, "last_run", json_is_object(last) ? last : json_null());
	if (last && !json_is_object(last))
		json_decref(last);

	/* The catalog's sources in its order, then sources configured since. */
	const json_t *sources = json_object_get(catalog, "sources");
	json_t *list = json_array();
	size_t i;
	json_t *s;
	json_array_foreach(sources, i, s)
	{
		if (sget(s, "name"))
			json_array_append_new(
			    list, source_status(cfg, sources, sget(s, "name"), sget(s, "plugin")));
	}
	for (size_t k = 0; cfg && k < cfg->n_sources; k++) {
		bool listed = false;
		json_array_foreach(sources, i, s)
		{
			listed = listed || (sget(s, "name") &&
					    strcmp(sget(s, "name"), cfg->sources[k].name) == 0);
		}
		if (!listed)
			json_array_append_new(list,
					      source_status(cfg, sources, cfg->sources[k].name,
							    cfg->sources[k].plugin));
	}
	json_object_set_new(o, "sources", list);

	struct mapping_scan ms = {0};
	scan_mapping(cfg, &ms);
	json_t *mapping = json_null();
	if (ms.found) {
		mapping = json_object();
		json_object_set_new(mapping, "records", json_integer(ms.records));
		json_object_set_new(mapping, "unaligned", json_integer(ms.unaligned));
		json_object_set_new(mapping, "dropped", json_integer(ms.dropped));
	}
	json_object_set_new(o, "mapping", mapping);

	json_int_t flagged = 0, flags = 0, nulled = 0;
	json_t *m;
	json_array_foreach(models, i, m)
	{
		const json_t *fl = json_object_get(json_object_get(m, "quality"), "flags");
		flagged += json_array_size(fl) > 0;
		size_t k;
		json_t *f;
		json_array_foreach(fl, k, f)
		{
			flags++;
			nulled += sget(f, "action") && strcmp(sget(f, "action"), "nulled") == 0;
		}
	}
	json_t *quality = json_object();
	json_object_set_new(quality, "flagged_models", json_integer(flagged));
	json_object_set_new(quality, "flags", json_integer(flags));
	json_object_set_new(quality, "nulled", json_integer(nulled));
	json_object_set_new(o, "quality", quality);
	json_object_set_new(o, "unaligned", worth_override(models, ms.entries, limit));
	json_decref(ms.entries);
	return o;
}

static void status_text(FILE *out, const json_t *st)
{
	char a[32], b[32], c[32];
	fprintf(out, "catalog: %s, generated %s, %s models\n", sget(st, "catalog"),
		sget(st, "generated_at") ? sget(st, "generated_at") : "?",
		num_of(st, "models", a, sizeof a));
	const json_t *last = json_object_get(st, "last_run");
	if (json_is_object(last)) {
		json_int_t rc = json_integer_value(json_object_get(last, "exit_status"));
		fprintf(out, "last run: finished %s, exit %" JSON_INTEGER_FORMAT " (%s)%s%s\n",
			sget(last, "finished_at") ? sget(last, "finished_at") : "?", rc,
			exit_meaning(rc), sget(last, "message") ? ": " : "",
			sget(last, "message") ? sget(last, "message") : "");
	} else {
		fprintf(out, "last run: not recorded\n");
	}
	fprintf(out, "\n%-18s %-18s %-9s %8s  %-20s %8s  %s\n", "SOURCE", "PLUGIN", "STATUS",
		"RECORDS", "FETCHED_AT", "AGE", "MESSAGE");
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(st, "sources"), i, s)
	{
		const json_t *age = json_object_get(s, "age_seconds");
		age_text(json_is_integer(age) ? (double)json_integer_value(age) : -1, b, sizeof b);
		fprintf(out, "%-18s %-18s %-9s %8s  %-20s %8s  %s\n", sget(s, "name"),
			sget(s, "plugin") ? sget(s, "plugin") : "-",
			sget(s, "status") ? sget(s, "status") : "-",
			num_of(s, "records", a, sizeof a),
			sget(s, "fetched_at") ? sget(s, "fetched_at") : "-", b,
			sget(s, "message") ? sget(s, "message") : "");
	}
	const json_t *mapping = json_object_get(st, "mapping");
	if (json_is_object(mapping))
		fprintf(out, "\nrecords: %s mapped, %s unaligned, %s dropped (no usable id)\n",
			num_of(mapping, "records", a, sizeof a),
			num_of(mapping, "unaligned", b, sizeof b),
			num_of(mapping, "dropped", c, sizeof c));
	else
		fprintf(out, "\nrecords: no mapping.json\n");
	const json_t *q = json_object_get(st, "quality");
	json_int_t flagged = json_integer_value(json_object_get(q, "flagged_models"));
	json_int_t flags = json_integer_value(json_object_get(q, "flags"));
	json_int_t nulled = json_integer_value(json_object_get(q, "nulled"));
	fprintf(out,
		"data checks: %" JSON_INTEGER_FORMAT " model%s flagged, %" JSON_INTEGER_FORMAT
		" flag%s, %" JSON_INTEGER_FORMAT " field%s nulled\n",
		flagged, flagged == 1 ? "" : "s", flags, flags == 1 ? "" : "s", nulled,
		nulled == 1 ? "" : "s");
	const json_t *un = json_object_get(st, "unaligned");
	if (json_array_size(un) == 0)
		return;
	fprintf(out, "\nunaligned ids worth an override (most popular first):\n");
	json_t *u;
	json_array_foreach(un, i, u)
	    fprintf(out, "  %7s  %s:%s -> %s\n", num_of(u, "popularity_score", a, sizeof a),
		    sget(u, "source"), sget(u, "id"), sget(u, "model"));
}

int query_status(const struct config *cfg, size_t limit, bool json, FILE *out)
{
	char *path = NULL;
	json_t *catalog = load_catalog(cfg, &path);
	if (!catalog)
		return MF_EXIT_NO_OUTPUT;
	json_t *st = build_status(cfg, catalog, path, limit);
	if (json)
		print_json(out, st);
	else
		status_text(out, st);
	json_decref(st);
	json_decref(catalog);
	free(path);
	return MF_EXIT_OK;
}
