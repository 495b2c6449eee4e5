#include "mf_build_config.h"
#include "query.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
