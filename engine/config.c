/* The INI configuration (SPEC §11).
 *
 * inih splits "key = value" lines, trims them and strips inline comments;
 * everything else is ours. Debian's inih gives its handler no line number
 * and truncates sections to 49 bytes, so our reader callback counts lines,
 * recognizes section headers itself and screens out every line inih would
 * reject (reporting it with file:line and handing inih a blank line
 * instead): that way all problems are reported, not only the first. */
#include "mf_build_config.h"
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* Longest line we accept, terminator included; inih needs 3 bytes more
 * than the text for "\r\n\0". Long enough for any sane URL. */
#define CONFIG_MAX_LINE (1 << 20)

static const char core_keys[] = "plugin_dir, cache_dir, output_dir, jobs, source_time_limit, "
				"connect_timeout_ms, transfer_timeout_ms, max_body_bytes, "
				"max_pages, ca_file, retries, backoff_ms, retry_after_max";

enum section_kind {
	SECTION_NONE,   /* before the first header */
	SECTION_IGNORE, /* after a header that was refused: its keys are not checked */
	SECTION_CORE,
	SECTION_SOURCE,
	SECTION_PROVIDER,
	SECTION_MAPPER,
	SECTION_CATEGORY,
	SECTION_DERIVE,
};

/* What the source_config itself cannot say: whether a default still applies. */
struct source_flags {
	bool precedence_set;
	bool time_limit_set;
	char *raw_path; /* `path` as written */
};

struct parser {
	struct config *cfg;
	struct errors *errs;
	FILE *fp;

	/* The line being handed to inih, and how much of it it has taken. */
	char *line;
	size_t line_cap;
	size_t len;
	size_t off;
	int lineno;
	bool eof;
	int read_errno;
	bool syntax_reported;

	/* The section the keys now read belong to. */
	enum section_kind kind;
	size_t index; /* into cfg->sources, cfg->providers or cfg->categories */
	char *label;  /* "[source NAME]", for messages */
	struct strmap sections; /* label -> first line */
	struct strmap keys;     /* key -> line, in the current section */
	struct source_flags *flags; /* parallel to cfg->sources */
};

/* ------------------------------------------------------------- helpers */

static void *line_value(int line)
{
	return (void *)(intptr_t)line;
}

static int value_line(void *v)
{
	return (int)(intptr_t)v;
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

/* Instance and provider names become folder names under cache_dir:
 * [A-Za-z0-9_.-]+, never starting with a dot -- that rules out "." and
 * ".." and keeps clear of the run's own files there (.lock, .last-run.json). */
static bool valid_name(const char *s, size_t n)
{
	if (n == 0 || n > 128 || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char(s[i]))
			return false;
	return true;
}

/* Plugin names as plugin.h defines them: [a-z0-9_-]+. */
static bool valid_plugin_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_' ||
		      *s == '-'))
			return false;
	return true;
}

static char *resolve_path(const char *dir, const char *value)
{
	if (value[0] == '/' || !dir)
		return xstrdup(value);
	size_t n = strlen(dir);
	if (n > 0 && dir[n - 1] == '/')
		return xasprintf("%s%s", dir, value);
	return xasprintf("%s/%s", dir, value);
}

/* The absolute folder of path, the base of every relative path in it. */
static char *absolute_dir_of(const char *path)
{
	char *copy = xstrdup(path);
	char *slash = strrchr(copy, '/');
	const char *dir = copy;
	if (!slash)
		dir = ".";
	else if (slash == copy)
		dir = "/";
	else
		*slash = '\0';
	char *abs = realpath(dir, NULL);
	if (!abs) {
		char *cwd = dir[0] == '/' ? NULL : getcwd(NULL, 0);
		abs = cwd ? xasprintf("%s/%s", cwd, dir) : xstrdup(dir);
		free(cwd);
	}
	free(copy);
	return abs;
}

/* Why url cannot be used, or NULL when it can. */
static const char *url_problem(const char *url)
{
	for (const char *c = url; *c; c++)
		if (isspace((unsigned char)*c) || iscntrl((unsigned char)*c))
			return "a URL cannot contain spaces or control characters";
	if (strncasecmp(url, "https://", 8) == 0 || strncasecmp(url, "http://", 7) == 0) {
		const char *host = url + (url[4] == ':' ? 7 : 8);
		if (!*host || *host == '/')
			return "the URL names no host";
		return NULL;
	}
	if (strncasecmp(url, "file:", 5) != 0)
		return "only https, http and file URLs are allowed (a local file is file:PATH)";
	const char *rest = url + 5;
	if (strncmp(rest, "//", 2) == 0) {
		const char *host = rest + 2;
		const char *path = strchr(host, '/');
		if (!path || !path[1])
			return "the file URL names no file";
		size_t host_len = (size_t)(path - host);
		if (host_len != 0 && !(host_len == 9 && strncasecmp(host, "localhost", 9) == 0))
			return "a file URL must name a local file (file:///PATH)";
		return NULL;
	}
	if (!*rest || strcmp(rest, "/") == 0)
		return "the file URL names no file";
	return NULL;
}

/* Append base_dir to sb with the characters a URL path cannot carry as
 * themselves percent-encoded, so that curl reads the folder back exactly. */
static void append_url_path(struct strbuf *sb, const char *dir)
{
	static const char keep[] = "-._~/!$&'()*+,;=:@";
	for (const unsigned char *c = (const unsigned char *)dir; *c; c++) {
		if (isalnum(*c) || (*c < 0x80 && strchr(keep, *c)))
			strbuf_append(sb, c, 1);
		else
			strbuf_printf(sb, "%%%02X", *c);
	}
}

char *config_resolve_url(const char *url, const char *base_dir)
{
	if (strncasecmp(url, "file:", 5) != 0)
		return xstrdup(url);
	const char *rest = url + 5;
	if (strncmp(rest, "//", 2) == 0) {
		/* file://localhost/x is file:///x; other forms stay as written. */
		if (strncasecmp(rest + 2, "localhost/", 10) == 0)
			return xasprintf("file://%s", rest + 11);
		return xstrdup(url);
	}
	if (rest[0] == '/')
		return xasprintf("file://%s", rest);
	if (!base_dir || base_dir[0] != '/')
		return xstrdup(url);
	struct strbuf sb;
	strbuf_init(&sb);
	strbuf_puts(&sb, "file://");
	append_url_path(&sb, base_dir);
	if (sb.data[sb.len - 1] != '/')
		strbuf_puts(&sb, "/");
	strbuf_puts(&sb, rest);
	return strbuf_detach(&sb);
}

const char *config_default_path(void)
{
	const char *env = getenv("MODELFUSE_CONFIG");
	if (env && *env)
		return env;
	return MF_SYSCONFDIR "/modelfuse/modelfuse.ini";
}

int config_default_precedence(const char *plugin)
{
	static const struct {
		const char *name;
		int precedence;
	} table[] = {
		{"local", 100},     {"anyllm", 60},      {"modelsdev", 50},
		{"openrouter", 40}, {"litellm", 35},     {"huggingface", 30},
		{"community", 20},  {"arena", 10},       {"benchmarks", 10},
		{"artificialanalysis", 10},
	};
	for (size_t i = 0; plugin && i < sizeof table / sizeof table[0]; i++)
		if (strcmp(plugin, table[i].name) == 0)
			return table[i].precedence;
	return 10;
}

/* ------------------------------------------------------------- sections */

static struct config *config_new(const char *path, const struct stat *st)
{
	struct config *cfg = xcalloc(1, sizeof *cfg);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	*cfg = (struct config){
		.path = xstrdup(path),
		.dir = absolute_dir_of(path),
		.file_private = (st->st_mode & 077) == 0 && st->st_uid == geteuid(),
		.cache_dir = xstrdup(MF_LOCALSTATEDIR "/cache/modelfuse"),
		.output_dir = xstrdup(MF_LOCALSTATEDIR "/lib/modelfuse"),
		.jobs = cpus < 1 ? 1 : cpus > INT_MAX ? INT_MAX : (int)cpus,
		.source_time_limit = 600,
		.connect_timeout_ms = 10000,
		.transfer_timeout_ms = 120000,
		.max_body_bytes = (int64_t)256 << 20,
		.max_pages = 1000,
		.retries = 3,
		.backoff_ms = 1000,
		.retry_after_max = 60,
		.derive_max_price = 10000,
	};
	return cfg;
}

static void add_source(struct parser *p, const char *name, size_t n)
{
	struct config *cfg = p->cfg;
	cfg->sources = xrealloc(cfg->sources, (cfg->n_sources + 1) * sizeof *cfg->sources);
	p->flags = xrealloc(p->flags, (cfg->n_sources + 1) * sizeof *p->flags);
	cfg->sources[cfg->n_sources] = (struct source_config){
		.name = xstrndup(name, n),
		.enabled = true,
		.ttl_hours = 24,
		.shrink_ratio = 0.5,
		.refresh_time_limit = 300,
		.line = p->lineno,
	};
	p->flags[cfg->n_sources] = (struct source_flags){0};
	p->index = cfg->n_sources++;
}

static void add_provider(struct parser *p, const char *name, size_t n)
{
	struct config *cfg = p->cfg;
	cfg->providers =
		xrealloc(cfg->providers, (cfg->n_providers + 1) * sizeof *cfg->providers);
	cfg->providers[cfg->n_providers] = (struct provider_config){
		.name = xstrndup(name, n),
		.line = p->lineno,
	};
	p->index = cfg->n_providers++;
}

static void add_category(struct parser *p, const char *name, size_t n)
{
	struct config *cfg = p->cfg;
	cfg->categories =
		xrealloc(cfg->categories, (cfg->n_categories + 1) * sizeof *cfg->categories);
	cfg->categories[cfg->n_categories] = (struct category_config){
		.name = xstrndup(name, n),
		.line = p->lineno,
		.enabled = true,
	};
	p->index = cfg->n_categories++;
}

/* Category names become JSON keys and command arguments: [a-z0-9_]+. */
static bool valid_category_name(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return n > 0;
}

/* A "[...]" header; inner is what stands between the brackets. */
static void open_section(struct parser *p, const char *inner, size_t inner_len)
{
	const char *path = p->cfg->path;
	strmap_free(&p->keys, NULL);
	free(p->label);
	p->label = NULL;
	p->kind = SECTION_IGNORE;

	/* Up to three whitespace-separated words; a third is always wrong. */
	const char *word[3] = {NULL, NULL, NULL};
	size_t wlen[3] = {0, 0, 0};
	size_t nwords = 0;
	for (size_t i = 0; i < inner_len;) {
		while (i < inner_len && isspace((unsigned char)inner[i]))
			i++;
		if (i == inner_len)
			break;
		size_t start = i;
		while (i < inner_len && !isspace((unsigned char)inner[i]))
			i++;
		if (nwords < 3) {
			word[nwords] = inner + start;
			wlen[nwords] = i - start;
		}
		nwords++;
	}

	enum section_kind kind = SECTION_IGNORE;
	bool named = false;
	if (nwords >= 1) {
		static const struct {
			const char *word;
			enum section_kind kind;
			bool named;
		} kinds[] = {
			{"core", SECTION_CORE, false},
			{"source", SECTION_SOURCE, true},
			{"provider", SECTION_PROVIDER, true},
			{"mapper", SECTION_MAPPER, false},
			{"category", SECTION_CATEGORY, true},
			{"derive", SECTION_DERIVE, false},
		};
		for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
			if (wlen[0] == strlen(kinds[i].word) &&
			    strncmp(word[0], kinds[i].word, wlen[0]) == 0) {
				kind = kinds[i].kind;
				named = kinds[i].named;
			}
		}
	}
	if (kind == SECTION_IGNORE) {
		errors_add(p->errs,
			   "%s:%d: unknown section [%.*s] (known: [core], [source NAME], "
			   "[provider NAME], [mapper], [derive], [category NAME])",
			   path, p->lineno, (int)inner_len, inner);
		return;
	}
	if (!named && nwords != 1) {
		errors_add(p->errs, "%s:%d: section [%.*s] takes no name", path, p->lineno,
			   (int)wlen[0], word[0]);
		return;
	}
	if (named && nwords != 2) {
		errors_add(p->errs, "%s:%d: section [%.*s] needs exactly one name: [%.*s NAME]",
			   path, p->lineno, (int)inner_len, inner, (int)wlen[0], word[0]);
		return;
	}
	if (named && !valid_name(word[1], wlen[1])) {
		errors_add(p->errs,
			   "%s:%d: bad name '%.*s' in [%.*s]: use 1 to 128 letters, digits, '_', "
			   "'.' and '-' (not only dots)",
			   path, p->lineno, (int)wlen[1], word[1], (int)inner_len, inner);
		return;
	}
	if (kind == SECTION_CATEGORY && !valid_category_name(word[1], wlen[1])) {
		errors_add(p->errs,
			   "%s:%d: bad category name '%.*s': use lowercase letters, digits and '_'",
			   path, p->lineno, (int)wlen[1], word[1]);
		return;
	}

	char *label = named ? xasprintf("[%.*s %.*s]", (int)wlen[0], word[0], (int)wlen[1],
					word[1])
			    : xasprintf("[%.*s]", (int)wlen[0], word[0]);
	void *first = strmap_get(&p->sections, label);
	if (first) {
		errors_add(p->errs, "%s:%d: duplicate section %s, first at line %d", path,
			   p->lineno, label, value_line(first));
		free(label);
		return;
	}
	strmap_put(&p->sections, label, line_value(p->lineno));
	p->label = label;
	p->kind = kind;
	if (kind == SECTION_SOURCE)
		add_source(p, word[1], wlen[1]);
	else if (kind == SECTION_PROVIDER)
		add_provider(p, word[1], wlen[1]);
	else if (kind == SECTION_CATEGORY)
		add_category(p, word[1], wlen[1]);
}

/* ------------------------------------------------------------- reading */

/* Report a line inih must not see and blank it for inih. */
static void refuse_line(struct parser *p, const char *why)
{
	errors_add(p->errs, "%s:%d: %s", p->cfg->path, p->lineno, why);
	p->syntax_reported = true;
	p->line[0] = '\n';
	p->line[1] = '\0';
	p->len = 1;
}

/* Look at a new line before inih does (the same rules inih applies). */
static void examine_line(struct parser *p)
{
	if (memchr(p->line, '\0', p->len)) {
		refuse_line(p, "the line contains a NUL byte");
		return;
	}
	if (p->len + 3 > CONFIG_MAX_LINE) {
		char why[96];
		snprintf(why, sizeof why, "line too long (%zu bytes, the limit is %d)", p->len,
			 CONFIG_MAX_LINE - 3);
		refuse_line(p, why);
		return;
	}
	const char *s = p->line;
	if (p->lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	const char *indent = s;
	while (isspace((unsigned char)*s))
		s++;
	const char *e = p->line + p->len;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	if (s == e || *s == ';' || *s == '#')
		return;

	if (*s == '[') {
		const char *close = memchr(s, ']', (size_t)(e - s));
		if (!close) {
			p->kind = SECTION_IGNORE;
			refuse_line(p, "section header without ']'");
			return;
		}
		const char *after = close + 1;
		while (after < e && isspace((unsigned char)*after))
			after++;
		if (after < e && *after != ';') {
			p->kind = SECTION_IGNORE;
			refuse_line(p, "unexpected text after the section header");
			return;
		}
		open_section(p, s + 1, (size_t)(close - s - 1));
		return;
	}

	/* "key = value" or "key: value"; an inline comment is ';' after a space. */
	bool was_space = false;
	const char *c = s;
	for (; c < e; c++) {
		if (*c == '=' || *c == ':' || (was_space && *c == ';'))
			break;
		was_space = isspace((unsigned char)*c);
	}
	if (c == e || *c == ';') {
		refuse_line(p, s > indent ? "expected 'key = value' (continuation lines are not "
					    "supported)"
					  : "expected 'key = value', a [section] or a ; comment");
		return;
	}
	if (c == s)
		refuse_line(p, "missing key name before the separator");
}

static bool next_line(struct parser *p)
{
	p->len = 0;
	p->off = 0;
	if (p->eof)
		return false;
	errno = 0;
	ssize_t n = getline(&p->line, &p->line_cap, p->fp);
	if (n < 0) {
		if (ferror(p->fp))
			p->read_errno = errno ? errno : EIO;
		p->eof = true;
		return false;
	}
	p->lineno++;
	p->len = (size_t)n;
	examine_line(p);
	return true;
}

/* fgets-like reader for inih. With a growing buffer inih calls it several
 * times for one long line, so a line is counted when it starts, not each
 * time the reader is called. */
static char *read_piece(char *str, int num, void *stream)
{
	struct parser *p = stream;
	if (num < 1)
		return NULL;
	if (num == 1) {
		if (p->off >= p->len && p->eof)
			return NULL;
		str[0] = '\0';
		return str;
	}
	if (p->off >= p->len && !next_line(p))
		return NULL;
	size_t n = p->len - p->off;
	if (n > (size_t)num - 1)
		n = (size_t)num - 1;
	memcpy(str, p->line + p->off, n);
	str[n] = '\0';
	p->off += n;
	return str;
}

/* ------------------------------------------------------------- keys */

static void bad_value(struct parser *p, const char *key, const char *value, const char *expected)
{
	if (p->kind == SECTION_CORE)
		errors_add(p->errs, "%s:%d: bad value '%s' for %s: expected %s", p->cfg->path,
			   p->lineno, value, key, expected);
	else
		errors_add(p->errs, "%s:%d: bad value '%s' for %s in %s: expected %s",
			   p->cfg->path, p->lineno, value, key, p->label, expected);
}

static void unknown_key(struct parser *p, const char *key, const char *accepted)
{
	errors_add(p->errs, "%s:%d: unknown key '%s' in %s (accepted: %s)", p->cfg->path,
		   p->lineno, key, p->label, accepted);
}

static bool get_int(struct parser *p, const char *key, const char *value, int64_t min,
		    int64_t max, const char *expected, int64_t *out)
{
	int64_t v = 0;
	if (!parse_int64(value, &v) || v < min || v > max) {
		bad_value(p, key, value, expected);
		return false;
	}
	*out = v;
	return true;
}

static bool get_real(struct parser *p, const char *key, const char *value, double min,
		     bool min_inclusive, double max, const char *expected, double *out)
{
	double v = 0;
	if (!parse_double(value, &v) || v < min || (!min_inclusive && v == min) || v > max) {
		bad_value(p, key, value, expected);
		return false;
	}
	*out = v;
	return true;
}

/* url and path name the same thing: only one of them. */
static bool both_url_and_path(struct parser *p, const char *key)
{
	const char *other = strcmp(key, "url") == 0 ? "path" : "url";
	void *at = strmap_get(&p->keys, other);
	if (!at)
		return false;
	errors_add(p->errs, "%s:%d: '%s' and '%s' cannot both be set in %s (%s at line %d)",
		   p->cfg->path, p->lineno, key, other, p->label, other, value_line(at));
	return true;
}

static void set_path(char **field, const struct config *cfg, const char *value)
{
	free(*field);
	*field = resolve_path(cfg->dir, value);
}

static void core_key(struct parser *p, const char *key, const char *value)
{
	struct config *cfg = p->cfg;
	int64_t i = 0;
	if (strcmp(key, "plugin_dir") == 0) {
		set_path(&cfg->plugin_dir, cfg, value);
	} else if (strcmp(key, "cache_dir") == 0) {
		set_path(&cfg->cache_dir, cfg, value);
	} else if (strcmp(key, "output_dir") == 0) {
		set_path(&cfg->output_dir, cfg, value);
	} else if (strcmp(key, "ca_file") == 0) {
		set_path(&cfg->ca_file, cfg, value);
	} else if (strcmp(key, "jobs") == 0) {
		if (get_int(p, key, value, 1, INT_MAX, "a whole number >= 1", &i))
			cfg->jobs = (int)i;
	} else if (strcmp(key, "source_time_limit") == 0) {
		get_real(p, key, value, 0, false, 1e9, "a number of seconds > 0",
			 &cfg->source_time_limit);
	} else if (strcmp(key, "connect_timeout_ms") == 0) {
		get_int(p, key, value, 1, INT64_MAX, "a whole number > 0",
			&cfg->connect_timeout_ms);
	} else if (strcmp(key, "transfer_timeout_ms") == 0) {
		get_int(p, key, value, 1, INT64_MAX, "a whole number > 0",
			&cfg->transfer_timeout_ms);
	} else if (strcmp(key, "max_body_bytes") == 0) {
		get_int(p, key, value, 1, INT64_MAX, "a whole number > 0", &cfg->max_body_bytes);
	} else if (strcmp(key, "max_pages") == 0) {
		get_int(p, key, value, 1, INT64_MAX, "a whole number > 0", &cfg->max_pages);
	} else if (strcmp(key, "retries") == 0) {
		if (get_int(p, key, value, 0, 100, "a whole number from 0 to 100", &i))
			cfg->retries = (int)i;
	} else if (strcmp(key, "backoff_ms") == 0) {
		get_int(p, key, value, 0, 3600000,
			"a whole number of milliseconds from 0 to 3600000", &cfg->backoff_ms);
	} else if (strcmp(key, "retry_after_max") == 0) {
		get_real(p, key, value, 0, true, 86400, "a number of seconds from 0 to 86400",
			 &cfg->retry_after_max);
	} else {
		unknown_key(p, key, core_keys);
	}
}

static void source_key(struct parser *p, const char *key, const char *value)
{
	struct source_config *src = &p->cfg->sources[p->index];
	struct source_flags *flags = &p->flags[p->index];
	int64_t i = 0;
	if (strcmp(key, "plugin") == 0) {
		if (!valid_plugin_name(value)) {
			bad_value(p, key, value, "a plugin name (a-z, 0-9, '_' and '-')");
			return;
		}
		free(src->plugin);
		src->plugin = xstrdup(value);
	} else if (strcmp(key, "enabled") == 0) {
		if (!parse_bool(value, &src->enabled))
			bad_value(p, key, value, "yes or no");
	} else if (strcmp(key, "precedence") == 0) {
		if (get_int(p, key, value, INT_MIN, INT_MAX, "a whole number", &i)) {
			src->precedence = (int)i;
			flags->precedence_set = true;
		}
	} else if (strcmp(key, "url") == 0) {
		if (both_url_and_path(p, key))
			return;
		const char *why = url_problem(value);
		if (why) {
			errors_add(p->errs, "%s:%d: bad url '%s' in %s: %s", p->cfg->path,
				   p->lineno, value, p->label, why);
			return;
		}
		free(src->url);
		src->url = config_resolve_url(value, p->cfg->dir);
	} else if (strcmp(key, "ttl_hours") == 0) {
		get_real(p, key, value, 0, true, 1e9, "a number of hours >= 0", &src->ttl_hours);
	} else if (strcmp(key, "shrink_ratio") == 0) {
		get_real(p, key, value, 0, true, 1, "a number from 0 to 1", &src->shrink_ratio);
	} else if (strcmp(key, "time_limit") == 0) {
		if (get_real(p, key, value, 0, false, 1e9, "a number of seconds > 0",
			     &src->time_limit))
			flags->time_limit_set = true;
	} else if (strcmp(key, "refresh_command") == 0) {
		char **argv = NULL;
		char why[160];
		if (config_split_command(value, &argv, why, sizeof why) != 0) {
			errors_add(p->errs, "%s:%d: bad refresh_command in %s: %s", p->cfg->path,
				   p->lineno, p->label, why);
			return;
		}
		config_free_argv(argv);
		free(src->refresh_command);
		src->refresh_command = xstrdup(value);
	} else if (strcmp(key, "refresh_time_limit") == 0) {
		get_real(p, key, value, 0, false, 1e9, "a number of seconds > 0",
			 &src->refresh_time_limit);
	} else if (strcmp(key, "path") == 0) {
		if (both_url_and_path(p, key))
			return;
		for (const char *c = value; *c; c++) {
			if (iscntrl((unsigned char)*c)) {
				bad_value(p, key, value, "a file path without control characters");
				return;
			}
		}
		/* {dir} needs cache_dir, which may come later: see apply_defaults. */
		free(flags->raw_path);
		flags->raw_path = xstrdup(value);
	} else {
		/* A plugin option: checked against its declaration later. */
		src->options =
			xrealloc(src->options, (src->n_options + 1) * sizeof *src->options);
		src->options[src->n_options++] = (struct option_value){
			.key = xstrdup(key),
			.value = xstrdup(value),
			.line = p->lineno,
		};
	}
}

/* "a, b*, ,c" -> {"a", "b*", "c"}. */
static void split_list(const char *value, char ***items, size_t *count)
{
	const char *s = value;
	while (*s) {
		const char *end = strchr(s, ',');
		if (!end)
			end = s + strlen(s);
		const char *a = s;
		const char *b = end;
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (b > a) {
			*items = xrealloc(*items, (*count + 1) * sizeof **items);
			(*items)[(*count)++] = xstrndup(a, (size_t)(b - a));
		}
		s = *end ? end + 1 : end;
	}
}

static void provider_key(struct parser *p, const char *key, const char *value)
{
	struct provider_config *prov = &p->cfg->providers[p->index];
	if (strcmp(key, "exclude_models") == 0)
		split_list(value, &prov->exclude_models, &prov->n_exclude);
	else
		unknown_key(p, key, "exclude_models");
}

static void mapper_key(struct parser *p, const char *key, const char *value)
{
	struct config *cfg = p->cfg;
	if (strcmp(key, "overrides") != 0) {
		unknown_key(p, key, "overrides");
		return;
	}
	free(cfg->mapper_overrides);
	cfg->mapper_overrides = NULL;
	cfg->mapper_overrides_set = true;
	if (strcasecmp(value, "none") != 0)
		cfg->mapper_overrides = resolve_path(cfg->dir, value);
}

/* Score names ("bench.humaneval", "arena-vision.full") and source kinds:
 * lowercase letters, digits, '_', '.' and '-'. */
static bool valid_weight_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_' ||
		      *s == '.' || *s == '-'))
			return false;
	return true;
}

static void free_weights(struct weight_entry *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(w[i].name);
	free(w);
}

/* "name:weight, name:weight": every name once, weights from 0 to 1000, at
 * least one above 0. Returns false (with the problem reported) when the
 * list cannot be used; *out is then left as it was. */
static bool parse_weights(struct parser *p, const char *key, const char *value,
			  struct weight_entry **out, size_t *n_out)
{
	char **items = NULL;
	size_t n = 0;
	split_list(value, &items, &n);
	struct weight_entry *w = n ? xcalloc(n, sizeof *w) : NULL;
	bool ok = n > 0, positive = false;
	for (size_t i = 0; ok && i < n; i++) {
		char *colon = strrchr(items[i], ':');
		double d = 0;
		if (colon)
			*colon = '\0';
		char *name = items[i];
		size_t len = strlen(name);
		while (len > 0 && isspace((unsigned char)name[len - 1]))
			name[--len] = '\0';
		const char *num = colon ? colon + 1 : "";
		while (isspace((unsigned char)*num))
			num++;
		if (!colon || !valid_weight_name(name)) {
			errors_add(p->errs,
				   "%s:%d: bad entry '%s' in %s of %s: expected NAME:WEIGHT, "
				   "NAME of lowercase letters, digits, '_', '.' and '-'",
				   p->cfg->path, p->lineno, items[i], key, p->label);
			ok = false;
		} else if (!parse_double(num, &d) || d < 0 || d > 1000) {
			errors_add(p->errs,
				   "%s:%d: bad weight '%s' for %s in %s of %s: expected a "
				   "number from 0 to 1000",
				   p->cfg->path, p->lineno, num, name, key, p->label);
			ok = false;
		} else {
			for (size_t k = 0; k < i; k++) {
				if (strcmp(w[k].name, name) == 0) {
					errors_add(p->errs, "%s:%d: %s is given twice in %s of %s",
						   p->cfg->path, p->lineno, name, key, p->label);
					ok = false;
				}
			}
			w[i].name = xstrdup(name);
			w[i].weight = d;
			positive = positive || d > 0;
		}
	}
	if (ok && !positive && strcmp(key, "weights") == 0) {
		errors_add(p->errs, "%s:%d: weights in %s: at least one weight must be above 0",
			   p->cfg->path, p->lineno, p->label);
		ok = false;
	}
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
	if (!ok) {
		free_weights(w, n);
		return false;
	}
	free_weights(*out, *n_out);
	*out = w;
	*n_out = n;
	return true;
}

static const char category_keys[] =
	"enabled, weights, source_weights, half_life_days, latency_penalty, cost_bonus";

static void category_key(struct parser *p, const char *key, const char *value)
{
	struct category_config *cat = &p->cfg->categories[p->index];
	if (strcmp(key, "enabled") == 0) {
		if (parse_bool(value, &cat->enabled))
			cat->enabled_set = true;
		else
			bad_value(p, key, value, "yes or no");
	} else if (strcmp(key, "weights") == 0) {
		if (parse_weights(p, key, value, &cat->weights, &cat->n_weights))
			cat->weights_set = true;
	} else if (strcmp(key, "source_weights") == 0) {
		parse_weights(p, key, value, &cat->source_weights, &cat->n_source_weights);
	} else if (strcmp(key, "half_life_days") == 0) {
		if (get_real(p, key, value, 0, true, 1e6, "a number of days >= 0 (0: no decay)",
			     &cat->half_life_days))
			cat->half_life_days_set = true;
	} else if (strcmp(key, "latency_penalty") == 0) {
		if (get_real(p, key, value, 0, true, 100, "a number of points from 0 to 100",
			     &cat->latency_penalty))
			cat->latency_penalty_set = true;
	} else if (strcmp(key, "cost_bonus") == 0) {
		if (get_real(p, key, value, 0, true, 100, "a number of points from 0 to 100",
			     &cat->cost_bonus))
			cat->cost_bonus_set = true;
	} else {
		unknown_key(p, key, category_keys);
	}
}

static void derive_key(struct parser *p, const char *key, const char *value)
{
	struct config *cfg = p->cfg;
	if (strcmp(key, "reputation") == 0) {
		free(cfg->derive_reputation);
		cfg->derive_reputation = NULL;
		cfg->derive_reputation_set = true;
		if (strcasecmp(value, "none") != 0)
			cfg->derive_reputation = resolve_path(cfg->dir, value);
	} else if (strcmp(key, "half_life_days") == 0) {
		get_real(p, key, value, 0, true, 1e6, "a number of days >= 0 (0: no decay)",
			 &cfg->derive_half_life_days);
	} else if (strcmp(key, "max_price") == 0) {
		get_real(p, key, value, 0, false, 1e9, "a price in USD per 1M tokens > 0",
			 &cfg->derive_max_price);
	} else {
		unknown_key(p, key, "reputation, half_life_days, max_price");
	}
}

/* inih's handler: always "success", since we keep our own error list. */
static int handle_key(void *user, const char *section, const char *key, const char *value)
{
	struct parser *p = user;
	const char *path = p->cfg->path;
	(void)section; /* ours is in p: inih truncates long section names */
	if (!key || !value)
		return 1;
	if (p->off < p->len) {
		/* Belt and braces: examine_line refuses lines inih could not take whole. */
		errors_add(p->errs, "%s:%d: line too long to be read whole", path, p->lineno);
		return 1;
	}
	if (p->kind == SECTION_NONE) {
		errors_add(p->errs, "%s:%d: key '%s' is outside of any section", path, p->lineno,
			   key);
		return 1;
	}
	if (p->kind == SECTION_IGNORE)
		return 1;
	void *first = strmap_get(&p->keys, key);
	if (first) {
		errors_add(p->errs, "%s:%d: duplicate key '%s' in %s, first set at line %d", path,
			   p->lineno, key, p->label, value_line(first));
		return 1;
	}
	strmap_put(&p->keys, key, line_value(p->lineno));
	if (!*value) {
		errors_add(p->errs, "%s:%d: empty value for '%s' in %s", path, p->lineno, key,
			   p->label);
		return 1;
	}
	switch (p->kind) {
	case SECTION_CORE:
		core_key(p, key, value);
		break;
	case SECTION_SOURCE:
		source_key(p, key, value);
		break;
	case SECTION_PROVIDER:
		provider_key(p, key, value);
		break;
	case SECTION_MAPPER:
		mapper_key(p, key, value);
		break;
	case SECTION_CATEGORY:
		category_key(p, key, value);
		break;
	case SECTION_DERIVE:
		derive_key(p, key, value);
		break;
	default:
		break;
	}
	return 1;
}

/* Replace every {dir} in s with dir. Caller frees. */
static char *replace_dir(const char *s, const char *dir)
{
	struct strbuf sb;
	strbuf_init(&sb);
	for (const char *at; (at = strstr(s, "{dir}")); s = at + 5) {
		strbuf_append(&sb, s, (size_t)(at - s));
		strbuf_puts(&sb, dir);
	}
	strbuf_puts(&sb, s);
	return strbuf_detach(&sb);
}

/* `path = P` is url = file:P, with {dir} the refresh folder and a relative
 * P taken from the config's folder. */
static void set_source_path(const struct config *cfg, struct source_config *src, const char *raw)
{
	char *dir = config_refresh_dir(cfg, src);
	char *replaced = replace_dir(raw, dir);
	free(src->path);
	src->path = resolve_path(cfg->dir, replaced);
	struct strbuf sb;
	strbuf_init(&sb);
	strbuf_puts(&sb, "file://");
	append_url_path(&sb, src->path);
	free(src->url);
	src->url = strbuf_detach(&sb);
	free(replaced);
	free(dir);
}

/* Defaults that depend on other keys, which may come later in the file. */
static void apply_defaults(struct parser *p)
{
	struct config *cfg = p->cfg;
	for (size_t i = 0; i < cfg->n_sources; i++) {
		struct source_config *src = &cfg->sources[i];
		if (!src->plugin)
			src->plugin = xstrdup(src->name);
		if (!p->flags[i].precedence_set)
			src->precedence = config_default_precedence(src->plugin);
		if (!p->flags[i].time_limit_set)
			src->time_limit = cfg->source_time_limit;
		if (p->flags[i].raw_path)
			set_source_path(cfg, src, p->flags[i].raw_path);
	}
}

struct config *config_load(const char *path, struct errors *errs)
{
	FILE *fp = fopen(path, "re");
	if (!fp) {
		errors_add(errs, "%s: cannot read: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	int err = fstat(fileno(fp), &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
	if (err) {
		errors_add(errs, "%s: cannot read: %s", path, strerror(err));
		fclose(fp);
		return NULL;
	}

	struct parser p = {
		.cfg = config_new(path, &st),
		.errs = errs,
		.fp = fp,
		.kind = SECTION_NONE,
	};
	strmap_init(&p.sections);
	strmap_init(&p.keys);

	/* Debian's inih has these as run-time knobs; set them for our
	 * syntax and put them back, as they are process-wide. */
	bool saved_stack = ini_use_stack, saved_realloc = ini_allow_realloc;
	bool saved_multiline = ini_allow_multiline, saved_inline = ini_allow_inline_comments;
	bool saved_no_value = ini_allow_no_value, saved_stop = ini_stop_on_first_error;
	int saved_max = ini_max_line;
	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_max_line = CONFIG_MAX_LINE;
	ini_allow_multiline = false;
	ini_allow_inline_comments = true;
	ini_allow_no_value = false;
	ini_stop_on_first_error = false;

	int rc = ini_parse_stream(read_piece, &p, handle_key, &p);

	ini_use_stack = saved_stack;
	ini_allow_realloc = saved_realloc;
	ini_max_line = saved_max;
	ini_allow_multiline = saved_multiline;
	ini_allow_inline_comments = saved_inline;
	ini_allow_no_value = saved_no_value;
	ini_stop_on_first_error = saved_stop;

	if (p.read_errno)
		errors_add(errs, "%s:%d: cannot read: %s", path, p.lineno + 1,
			   strerror(p.read_errno));
	else if (rc == -2)
		errors_add(errs, "%s: cannot parse: out of memory", path);
	else if (rc < 0)
		errors_add(errs, "%s: cannot parse (inih error %d)", path, rc);
	else if (rc > 0 && !p.syntax_reported)
		/* Every line inih refuses should have been screened out above. */
		errors_add(errs, "%s:%d: syntax error", path, rc);

	apply_defaults(&p);
	for (size_t i = 0; i < p.cfg->n_sources; i++)
		free(p.flags[i].raw_path);
	free(p.line);
	free(p.label);
	free(p.flags);
	strmap_free(&p.sections, NULL);
	strmap_free(&p.keys, NULL);
	fclose(fp);
	return p.cfg;
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_sources; i++) {
		struct source_config *src = &cfg->sources[i];
		free(src->name);
		free(src->plugin);
		free(src->url);
		free(src->refresh_command);
		free(src->path);
		for (size_t j = 0; j < src->n_options; j++) {
			free(src->options[j].key);
			free(src->options[j].value);
		}
		free(src->options);
	}
	free(cfg->sources);
	for (size_t i = 0; i < cfg->n_providers; i++) {
		struct provider_config *prov = &cfg->providers[i];
		free(prov->name);
		for (size_t j = 0; j < prov->n_exclude; j++)
			free(prov->exclude_models[j]);
		free(prov->exclude_models);
	}
	free(cfg->providers);
	for (size_t i = 0; i < cfg->n_categories; i++) {
		struct category_config *cat = &cfg->categories[i];
		free(cat->name);
		free_weights(cat->weights, cat->n_weights);
		free_weights(cat->source_weights, cat->n_source_weights);
	}
	free(cfg->categories);
	free(cfg->derive_reputation);
	free(cfg->path);
	free(cfg->dir);
	free(cfg->plugin_dir);
	free(cfg->cache_dir);
	free(cfg->output_dir);
	free(cfg->ca_file);
	free(cfg->mapper_overrides);
	free(cfg);
}

/* ------------------------------------------------------------- plugin options */

static const struct mf_option *find_option(const struct mf_plugin *plugin, const char *name)
{
	if (!plugin || !plugin->options)
		return NULL;
	for (const struct mf_option *o = plugin->options; o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

static const struct option_value *find_value(const struct source_config *src, const char *name)
{
	for (size_t i = 0; i < src->n_options; i++)
		if (strcmp(src->options[i].key, name) == 0)
			return &src->options[i];
	return NULL;
}

static const char *type_expected(enum mf_option_type type)
{
	switch (type) {
	case MF_OPT_INT:
		return "an integer";
	case MF_OPT_BOOL:
		return "yes or no";
	case MF_OPT_REAL:
		return "a number";
	default:
		return "a string";
	}
}

static bool value_has_type(const char *value, enum mf_option_type type)
{
	int64_t i = 0;
	double d = 0;
	bool b = false;
	switch (type) {
	case MF_OPT_INT:
		return parse_int64(value, &i);
	case MF_OPT_BOOL:
		return parse_bool(value, &b);
	case MF_OPT_REAL:
		return parse_double(value, &d);
	default:
		return true;
	}
}

int config_check_options(const struct config *cfg, const struct source_config *src,
			 const struct mf_plugin *plugin, struct errors *errs)
{
	const char *path = cfg->path;
	const char *pname = plugin && plugin->name ? plugin->name : src->plugin;
	int added = 0;
	for (size_t i = 0; i < src->n_options; i++) {
		const struct option_value *ov = &src->options[i];
		const struct mf_option *opt = find_option(plugin, ov->key);
		if (!opt) {
			struct strbuf names;
			strbuf_init(&names);
			const struct mf_option *o = plugin ? plugin->options : NULL;
			for (; o && o->name; o++)
				strbuf_printf(&names, "%s%s", names.len ? ", " : "", o->name);
			if (names.len)
				errors_add(errs,
					   "%s:%d: unknown key '%s' in [source %s] (plugin %s "
					   "accepts: %s)",
					   path, ov->line, ov->key, src->name, pname, names.data);
			else
				errors_add(errs,
					   "%s:%d: unknown key '%s' in [source %s] (plugin %s "
					   "accepts no options)",
					   path, ov->line, ov->key, src->name, pname);
			strbuf_free(&names);
			added++;
			continue;
		}
		/* A secret's value is never quoted, whatever is wrong with it. */
		if (opt->secret && !cfg->file_private) {
			char env_key[128];
			int n = snprintf(env_key, sizeof env_key, "%s_env", opt->name);
			bool has_env = n > 0 && (size_t)n < sizeof env_key &&
				       find_option(plugin, env_key) != NULL;
			errors_add(errs,
				   "%s:%d: '%s' is a secret: put it in the environment%s%s, or "
				   "make %s mode 0600 (owned by the user running modelfuse)",
				   path, ov->line, opt->name,
				   has_env ? " and name the variable with " : "",
				   has_env ? env_key : "", path);
			added++;
			continue;
		}
		if (!value_has_type(ov->value, opt->type)) {
			const char *expected = type_expected(opt->type);
			if (opt->secret)
				errors_add(errs,
					   "%s:%d: bad value for '%s' in [source %s]: expected %s",
					   path, ov->line, ov->key, src->name, expected);
			else
				errors_add(errs,
					   "%s:%d: bad value '%s' for '%s' in [source %s]: "
					   "expected %s",
					   path, ov->line, ov->value, ov->key, src->name, expected);
			added++;
		}
	}
	for (const struct mf_option *o = plugin ? plugin->options : NULL; o && o->name; o++) {
		if (o->required && !find_value(src, o->name)) {
			errors_add(errs, "%s:%d: [source %s] needs '%s' (required by plugin %s)",
				   path, src->line, src->name, o->name, pname);
			added++;
		}
	}
	return added;
}

const char *config_option(const struct source_config *src, const struct mf_plugin *plugin,
			  const char *name)
{
	const struct option_value *ov = find_value(src, name);
	if (ov)
		return ov->value;
	const struct mf_option *opt = find_option(plugin, name);
	return opt ? opt->default_value : NULL;
}

/* ------------------------------------------------------------- refresh commands */

int config_split_command(const char *line, char ***argv_out, char *err, size_t errlen)
{
	char **argv = NULL;
	size_t argc = 0;
	struct strbuf word;
	strbuf_init(&word);
	bool in_word = false, quoted = false;
	for (const char *c = line;; c++) {
		if (*c == '"') {
			quoted = !quoted;
			in_word = true; /* "" is an empty argument */
			continue;
		}
		bool end = *c == '\0' || (!quoted && isspace((unsigned char)*c));
		if (!end) {
			strbuf_append(&word, c, 1);
			in_word = true;
			continue;
		}
		if (*c == '\0' && quoted)
			break;
		if (in_word) {
			argv = xrealloc(argv, (argc + 2) * sizeof *argv);
			argv[argc++] = strbuf_detach(&word);
			argv[argc] = NULL;
			in_word = false;
		}
		if (*c == '\0')
			break;
	}
	strbuf_free(&word);
	if (quoted || argc == 0) {
		snprintf(err, errlen, "%s", quoted ? "a double quote is not closed" : "no command");
		config_free_argv(argv);
		*argv_out = NULL;
		return -1;
	}
	*argv_out = argv;
	return 0;
}

void config_free_argv(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

char *config_refresh_dir(const struct config *cfg, const struct source_config *src)
{
	const char *base = cfg && cfg->cache_dir ? cfg->cache_dir : ".";
	return xasprintf("%s/%s/refresh", base, src->name);
}
