#include "mf_build_config.h"
#include "mapper.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "record.h"
#include "util.h"

#ifndef MF_PKGDATADIR
#define MF_PKGDATADIR "/usr/share/modelfuse"
#endif

/*
 * How the mapper works (SPEC §5).
 *
 * Every record is first analyzed on its own: its id loses what only routes
 * or serves it (Gemini's models/, OpenRouter's ~ and :free, Bedrock's
 * -v2:0, Vertex's @, host paths such as accounts/fireworks/models/, a
 * trailing -bf16 or -awq), its maker is found (override, namespace, org,
 * maker field, family, provider), and what is left becomes the stem, the
 * model name spelled as the best source spells it. The stem is cut into
 * units: alphanumeric runs, version numbers joined ("3-5" and "3.5" are
 * both 3.5, a trailing .0 dropped), dates in one spelling (d20240513,
 * d202407 for a year-month, d0613 for a month-day) and a leading v
 * dropped from versions. The normalized key is the maker plus the sorted
 * units, so word order, case and separators do not matter but every size,
 * tier, generation, date and variant word still does: two ids meet only
 * when the maker and every such unit agree.
 *
 * Records with the same key form a node. Evidence in the data (hf_id,
 * canonical_slug, aliases, alias_target, Gemini version) adds an edge from
 * one node to another, and only when the target exists in this run and
 * is compatible: the target may add precision (a date, a version, a size,
 * "instruct") or drop a generic word ("chat", a context length such as
 * 128k), never both, never swap one unit for another. A node with edges
 * to two different nodes is ambiguous and keeps none. Following the edges
 * gives each node its root: one root, one model. Moving pointers (-latest,
 * OpenRouter's ~..., records flagged moving_pointer) never follow evidence
 * into a snapshot.
 *
 * The model id is spelled after the best record of the root node: an
 * override, else the maker's own offering, else a model record of the
 * maker's org, else the spelling most of its records share, else by
 * source precedence and name. All indexes are hash maps; no record is
 * compared with every other.
 */

enum date_mode {
	DATES_NONE = 0, /* a four-digit number is not a date */
	DATES_AUTO,	/* a first pair above 12 is a year (yymm), else month-day */
	DATES_MMDD,
	DATES_YYMM,
};

struct maker {
	char *name;
	enum date_mode dates;
};

/* One entry of the "models" list of an overrides file. */
struct override_id {
	char *source;	/* instance or plugin name; NULL: any */
	char *provider; /* NULL: any */
	char *id;	/* native id or source key, as the upstream lists it */
	char *maker;
	char *model; /* the part after the slash, lowercase */
	char *reason;
	struct override_id *next; /* the next entry for the same id */
};

struct mapper_tables {
	struct maker *makers;
	size_t n_makers;
	struct strmap names;	/* spelling -> maker index + 1 */
	struct strmap families; /* name prefix -> maker index + 1 */
	struct strmap tokens;	/* unit -> maker index + 1 */
	struct strmap hosts;	/* routing namespace segments */
	struct override_id *overrides;
	size_t n_overrides;
	struct strmap override_index; /* lowercase id -> first struct override_id */
	size_t max_family;	      /* longest family prefix */
	size_t n_override_others;     /* provider and family entries */
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define MAPPER_MAX_ID 1024
#define IDX_PTR(i) ((void *)(uintptr_t)((i) + 1))
#define PTR_IDX(p) ((size_t)(uintptr_t)(p)-1)

/* OpenRouter-style ":word" suffixes that only change how a model is
 * served (price tier, routing, moderation); ":thinking" is a variant. */
static const char *const serving_words[] = {
    "free", "extended", "beta", "nitro", "floor", "exacto", "online",
};

/* Trailing words that name a precision or a packaging of the same
 * weights: arena's -bf16, Together's -FP8, Hugging Face's -AWQ and -hf. */
static const char *const precision_words[] = {
    "bf16", "fp16", "fp32", "fp8",  "fp4", "nvfp4", "mxfp4",
    "int8", "int4", "awq",  "gptq", "hf",  "maas", /* Vertex's model-as-a-service listing of a
						      partner model */
};

/* Words a crosswalk target may add to an id: the undated or unsized id of
 * a listing names the dated, sized instruct release it serves. */
static const char *const addable_words[] = {"instruct", "it", "hf"};
/* Words a crosswalk target may drop: "deepseek-chat-v3.1" is DeepSeek-V3.1;
 * a context length ("phi-3.5-mini-128k-instruct") is dropped the same way. */
static const char *const droppable_words[] = {"chat"};

static bool in_list(const char *const *list, size_t n, const char *s, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == len && strncmp(list[i], s, len) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------ names */

/* Lookup form of a name: lowercase, spaces and underscores as dashes, so
 * that owned_by values such as "Mistral AI" find "mistral-ai". */
static char *name_key(const char *name, size_t len)
{
	char *k = xstrndup(name, len);
	for (char *p = k; *p; p++) {
		*p = (char)tolower((unsigned char)*p);
		if (*p == ' ' || *p == '_')
			*p = '-';
	}
	return k;
}

/* strmap_get of the lookup form of name[0..len). Called for every record,
 * mostly with short names: no allocation for those. */
static void *get_by_name(const struct strmap *m, const char *name, size_t len)
{
	char buf[64];
	char *k = buf;
	len = strnlen(name, len);
	if (len < sizeof buf) {
		for (size_t i = 0; i < len; i++) {
			char ch = (char)tolower((unsigned char)name[i]);
			buf[i] = ch == ' ' || ch == '_' ? '-' : ch;
		}
		buf[len] = '\0';
	} else {
		k = name_key(name, len);
	}
	void *v = strmap_get(m, k);
	if (k != buf)
		free(k);
	return v;
}

static int maker_index_n(const struct mapper_tables *t, const char *name, size_t len)
{
	if (!t || !name || len == 0)
		return -1;
	void *v = get_by_name(&t->names, name, len);
	return v ? (int)PTR_IDX(v) : -1;
}

static int maker_index(const struct mapper_tables *t, const char *name)
{
	return name ? maker_index_n(t, name, strlen(name)) : -1;
}

const char *mapper_maker_of(const struct mapper_tables *t, const char *name)
{
	int i = maker_index(t, name);
	return i >= 0 ? t->makers[i].name : NULL;
}

/* A cloud region as a path segment: us-east-1, eu-west-2, us-gov-west-1. */
static bool is_region(const char *seg, size_t len)
{
	size_t i = 0, dashes = 0;
	if (len < 6 || !isalpha((unsigned char)seg[0]) || !isdigit((unsigned char)seg[len - 1]))
		return false;
	for (i = 0; i < len; i++) {
		if (seg[i] == '-')
			dashes++;
		else if (!isalnum((unsigned char)seg[i]))
			return false;
	}
	return dashes >= 2 && seg[len - 2] == '-';
}

static bool is_host(const struct mapper_tables *t, const char *seg, size_t len)
{
	if (len > 0 && seg[0] == '@')
		return true;
	if (is_region(seg, len))
		return true;
	return get_by_name(&t->hosts, seg, len) != NULL;
}

/* ------------------------------------------------------------ units */

/* Every record's ids are cut into units several times: the unit strings
 * and the array live in the struct itself while they fit (ids are short),
 * so that no allocation is made per unit. A struct units must not be
 * copied once it holds units. */
struct units {
	char **v;
	size_t n;
	size_t cap;
	char *first_v[16];
	char space[256];
	size_t used;
};

static char *units_copy(struct units *u, const char *s, size_t len)
{
	if (u->used + len + 1 > sizeof u->space)
		return xstrndup(s, len);
	char *p = u->space + u->used;
	memcpy(p, s, len);
	p[len] = '\0';
	u->used += len + 1;
	return p;
}

static void units_drop(struct units *u, char *s)
{
	if (s < u->space || s >= u->space + sizeof u->space)
		free(s);
}

static void units_push(struct units *u, const char *s, size_t len)
{
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : sizeof u->first_v / sizeof *u->first_v;
		if (!u->v) {
			u->v = u->first_v;
		} else if (u->v == u->first_v) {
			u->v = xmalloc(cap * sizeof *u->v);
			memcpy(u->v, u->first_v, u->n * sizeof *u->v);
		} else {
			u->v = xrealloc(u->v, cap * sizeof *u->v);
		}
		u->cap = cap;
	}
	u->v[u->n++] = units_copy(u, s, len);
}

/* Replace unit i by s. */
static void units_set(struct units *u, size_t i, const char *s)
{
	char *copy = units_copy(u, s, strlen(s));
	units_drop(u, u->v[i]);
	u->v[i] = copy;
}

static void units_free(struct units *u)
{
	for (size_t i = 0; i < u->n; i++)
		units_drop(u, u->v[i]);
	if (u->v != u->first_v)
		free(u->v);
	u->v = NULL;
	u->n = u->cap = u->used = 0;
}

static void units_remove(struct units *u, size_t i)
{
	units_drop(u, u->v[i]);
	memmove(&u->v[i], &u->v[i + 1], (u->n - i - 1) * sizeof *u->v);
	u->n--;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Digits with dots between them: "3", "3.5", "0.1.2". */
static bool is_number(const char *s)
{
	if (!isdigit((unsigned char)*s))
		return false;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1])))
			return false;
	return true;
}

static int two_digits(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

static bool is_month(const char *s)
{
	int m = two_digits(s);
	return m >= 1 && m <= 12;
}

static bool is_day(const char *s)
{
	int d = two_digits(s);
	return d >= 1 && d <= 31;
}

static bool is_year(const char *s)
{
	int y = two_digits(s) * 100 + two_digits(s + 2);
	return y >= 1990 && y <= 2099;
}

/* Split one alphanumeric chunk where a word meets a number: "qwen3" is
 * qwen + 3 and "3mini" is 3 + mini, but "4o", "8b", "a22b", "r1", "8x7b"
 * and "128k" stay whole (one or two letters belong to their number). */
static void split_chunk(const char *c, size_t len, struct units *out)
{
	size_t start = 0;
	for (size_t j = 1; j < len; j++) {
		bool cut = false;
		if (isalpha((unsigned char)c[j - 1]) && isdigit((unsigned char)c[j])) {
			size_t run = 0;
			while (run < j && isalpha((unsigned char)c[j - 1 - run]))
				run++;
			cut = run >= 2;
		} else if (isdigit((unsigned char)c[j - 1]) && isalpha((unsigned char)c[j])) {
			size_t run = 0;
			while (j + run < len && isalpha((unsigned char)c[j + run]))
				run++;
			cut = run >= 3;
		}
		if (cut) {
			units_push(out, c + start, j - start);
			start = j;
		}
	}
	units_push(out, c + start, len - start);
}

/* Rewrite the run of pure-digit units starting at i as a date when it is
 * one; returns true when it did. */
static bool parse_date(struct units *u, size_t i, enum date_mode mode)
{
	const char *a = u->v[i];
	size_t len = strlen(a);
	const char *b = i + 1 < u->n && all_digits(u->v[i + 1]) ? u->v[i + 1] : NULL;
	const char *c = b && i + 2 < u->n && all_digits(u->v[i + 2]) ? u->v[i + 2] : NULL;
	size_t blen = b ? strlen(b) : 0, clen = c ? strlen(c) : 0;
	char date[32] = "";
	size_t eat = 0;

	if (len == 8 && is_year(a) && is_month(a + 4) && is_day(a + 6)) {
		snprintf(date, sizeof date, "d%s", a);
	} else if (len == 6 && is_year(a) && is_month(a + 4)) {
		snprintf(date, sizeof date, "d%s", a);
	} else if (len == 4 && is_year(a) && blen == 2 && is_month(b) && clen == 2 && is_day(c)) {
		snprintf(date, sizeof date, "d%s%s%s", a, b, c);
		eat = 2;
	} else if (len == 4 && is_year(a) && blen == 2 && is_month(b)) {
		snprintf(date, sizeof date, "d%s%s", a, b);
		eat = 1;
	} else if (len == 2 && is_month(a) && blen == 4 && is_year(b)) {
		/* Cohere's command-r-08-2024, Google's preview-09-2025. */
		snprintf(date, sizeof date, "d%s%s", b, a);
		eat = 1;
	} else if (len == 2 && is_month(a) && blen == 2 && is_day(b) && !c) {
		/* Google's preview-05-20, OpenRouter's grok-4-07-09. */
		snprintf(date, sizeof date, "d%s%s", a, b);
		eat = 1;
	} else if (len == 4 && mode != DATES_NONE) {
		int first = two_digits(a), second = two_digits(a + 2);
		bool yymm = mode == DATES_YYMM || (mode == DATES_AUTO && first > 12);
		if (yymm && first >= 13 && first <= 39 && second >= 1 && second <= 12)
			snprintf(date, sizeof date, "d20%s", a);
		else if (!yymm && is_month(a) && is_day(a + 2))
			snprintf(date, sizeof date, "d%s", a);
	}
	if (!date[0])
		return false;
	units_set(u, i, date);
	while (eat-- > 0)
		units_remove(u, i + 1);
	return true;
}

/* The units of a stem, in the stem's order (see the comment on top). */
static void stem_units(const char *stem, enum date_mode mode, struct units *u)
{
	size_t n = strlen(stem);
	for (size_t i = 0; i < n;) {
		if (!isalnum((unsigned char)stem[i])) {
			i++;
			continue;
		}
		size_t start = i;
		while (i < n &&
		       (isalnum((unsigned char)stem[i]) ||
			(stem[i] == '.' && i > start && isdigit((unsigned char)stem[i - 1]) &&
			 isdigit((unsigned char)stem[i + 1]))))
			i++;
		split_chunk(stem + start, i - start, u);
	}
	/* v3.1 is the version 3.1. */
	for (size_t i = 0; i < u->n; i++) {
		char *s = u->v[i];
		if (s[0] == 'v' && is_number(s + 1))
			memmove(s, s + 1, strlen(s));
	}
	for (size_t i = 0; i < u->n; i++)
		if (all_digits(u->v[i]))
			parse_date(u, i, mode);
	/* Adjacent small numbers are one version: claude-3-5 is 3.5. */
	for (size_t i = 0; i + 1 < u->n;) {
		size_t a = strlen(u->v[i]), b = strlen(u->v[i + 1]);
		if (all_digits(u->v[i]) && a <= 2 && all_digits(u->v[i + 1]) && b <= 2) {
			char joined[8];
			snprintf(joined, sizeof joined, "%s.%s", u->v[i], u->v[i + 1]);
			units_set(u, i, joined);
			units_remove(u, i + 1);
			continue;
		}
		i++;
	}
	/* gemini-2.0 is gemini-2. */
	for (size_t i = 0; i < u->n; i++) {
		char *s = u->v[i];
		size_t len = strlen(s);
		if (is_number(s) && len > 2 && strcmp(s + len - 2, ".0") == 0)
			s[len - 2] = '\0';
	}
}

static int str_qsort(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* maker/units sorted and joined with dashes; NULL when there are none.
 * Sorts u. */
static char *key_of_units(const char *maker, struct units *u)
{
	if (u->n == 0)
		return NULL;
	qsort(u->v, u->n, sizeof *u->v, str_qsort);
	size_t len = strlen(maker) + 1;
	for (size_t i = 0; i < u->n; i++)
		len += strlen(u->v[i]) + 1;
	char *key = xmalloc(len);
	char *p = key;
	p = stpcpy(p, maker);
	*p++ = '/';
	for (size_t i = 0; i < u->n; i++) {
		if (i > 0)
			*p++ = '-';
		p = stpcpy(p, u->v[i]);
	}
	return key;
}

static char *make_key(const char *maker, const char *stem, enum date_mode mode)
{
	struct units u = {0};
	stem_units(stem, mode, &u);
	char *key = key_of_units(maker, &u);
	units_free(&u);
	return key;
}

/* ------------------------------------------------------------ families */

/* The maker of a model name: a token anywhere (nemotron), else the
 * longest family prefix ending at a non-letter. -1 when unknown. */
static int infer_family(const struct mapper_tables *t, const char *name)
{
	if (!t || !name)
		return -1;
	struct units u = {0};
	stem_units(name, DATES_NONE, &u);
	int found = -1;
	for (size_t i = 0; i < u.n && found < 0; i++) {
		void *v = strmap_get(&t->tokens, u.v[i]);
		if (v)
			found = (int)PTR_IDX(v);
	}
	units_free(&u);
	if (found >= 0)
		return found;
	size_t len = strlen(name);
	if (len > t->max_family)
		len = t->max_family;
	for (size_t end = 1; end <= len; end++) {
		/* A prefix ends where the name does, at a separator, or where a
		 * word meets a number ("gpt" in "gpt4o"), never inside a word or
		 * a number ("o1" is not a prefix of "o10"). */
		unsigned char next = (unsigned char)name[end];
		if (isalpha(next) || (isdigit(next) && !isalpha((unsigned char)name[end - 1])))
			continue;
		char buf[128];
		char *k = end < sizeof buf ? buf : xmalloc(end + 1);
		for (size_t i = 0; i < end; i++)
			k[i] = (char)tolower((unsigned char)name[i]);
		k[end] = '\0';
		void *v = strmap_get(&t->families, k);
		if (k != buf)
			free(k);
		if (v)
			found = (int)PTR_IDX(v); /* later means longer */
	}
	return found;
}

const char *mapper_infer_maker(const struct mapper_tables *t, const char *model)
{
	if (!t || !model)
		return NULL;
	const char *slash = strrchr(model, '/');
	int i = infer_family(t, slash ? slash + 1 : model);
	return i >= 0 ? t->makers[i].name : NULL;
}

/* ------------------------------------------------------------ analysis */

/* What a record's id says once the serving details are gone. */
struct ident {
	char *maker;		/* canonical maker (owned) */
	int maker_idx;		/* -1: an org the table does not know */
	const char *maker_rule; /* static */
	char *stem;		/* lowercase model name, the model id's spelling */
	char *key;		/* maker + sorted units */
	bool pointer;		/* a moving pointer, not a release */
	bool has_namespace;	/* the maker came from the id itself */
};

static void ident_free(struct ident *id)
{
	free(id->maker);
	free(id->stem);
	free(id->key);
	memset(id, 0, sizeof *id);
}

struct id_ctx {
	const char *provider;	 /* an offering's provider */
	const char *maker_field; /* MF_FIELD_MAKER */
	bool model_record;
	int forced_maker; /* aliases of a record: its maker, -1 none */
	const char *forced_maker_name;
};

static bool has_prefix_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Cut ":free" and friends, then a Bedrock "-v2:0" (or "-1:0") tail. */
static void strip_serving(char *s)
{
	for (;;) {
		char *colon = strrchr(s, ':');
		if (!colon || colon == s)
			break;
		if (!in_list(serving_words, N_ELEMS(serving_words), colon + 1, strlen(colon + 1)))
			break;
		*colon = '\0';
	}
	char *slash = strrchr(s, '/');
	char *colon = strchr(slash ? slash : s, ':');
	if (!colon || !isdigit((unsigned char)colon[1]))
		return;
	for (const char *p = colon + 1; *p && *p != ':'; p++)
		if (!isdigit((unsigned char)*p))
			return;
	char *p = colon;
	while (p > s && isdigit((unsigned char)p[-1]))
		p--;
	if (p == colon)
		return;
	if (p > s && p[-1] == 'v')
		p--;
	if (p > s && p[-1] == '-')
		p[-1] = '\0';
}

/* Drop trailing precision words: "-instruct-bf16" -> "-instruct". */
static void strip_precision(char *name)
{
	for (;;) {
		size_t len = strlen(name);
		size_t i = len;
		while (i > 0 && isalnum((unsigned char)name[i - 1]))
			i--;
		if (i == 0 || i == len ||
		    (name[i - 1] != '-' && name[i - 1] != '_' && name[i - 1] != '.'))
			return;
		if (!in_list(precision_words, N_ELEMS(precision_words), name + i, len - i))
			return;
		name[i - 1] = '\0';
	}
}

/* Fireworks spells versions with a p: v3p1 is v3.1. */
static void fireworks_dots(char *name)
{
	if (!*name)
		return;
	for (char *p = name + 1; *p && p[1]; p++)
		if (*p == 'p' && isdigit((unsigned char)p[-1]) && isdigit((unsigned char)p[1]))
			*p = '.';
}

static void set_maker(const struct mapper_tables *t, struct ident *out, int idx, const char *org,
		      size_t org_len, const char *rule)
{
	free(out->maker);
	out->maker_idx = idx;
	out->maker = idx >= 0 ? xstrdup(t->makers[idx].name) : name_key(org, org_len);
	out->maker_rule = rule;
}

static bool analyze(const struct mapper_tables *t, const struct id_ctx *ctx, const char *id,
		    struct ident *out)
{
	memset(out, 0, sizeof *out);
	out->maker_idx = -1;
	/* No real id is this long; refusing it keeps every step linear. */
	if (!id || strlen(id) > MAPPER_MAX_ID)
		return false;
	char *buf = str_lower(id);
	char *s = buf;
	while (isspace((unsigned char)*s))
		s++;
	for (size_t len = strlen(s); len > 0 && isspace((unsigned char)s[len - 1]); len--)
		s[len - 1] = '\0';
	if (*s == '~') {
		out->pointer = true;
		s++;
	}
	if (has_prefix_ci(s, "models/"))
		s += 7;
	if (has_prefix_ci(s, "hf:"))
		s += 3;
	strip_serving(s);
	for (char *p = s; *p; p++)
		if (*p == '@' || *p == ':')
			*p = '-';

	char *name = strrchr(s, '/');
	name = name ? name + 1 : s;
	bool fireworks = strstr(s, "fireworks/") != NULL ||
			 (ctx->provider && strstr(ctx->provider, "fireworks") != NULL);

	/* Namespace segments, nearest to the name first: a known maker, else
	 * the first segment that is not routing plumbing is the org. */
	for (char *end = name - 1; end > s;) {
		char *start = end;
		while (start > s && start[-1] != '/')
			start--;
		size_t len = (size_t)(end - start);
		int m = maker_index_n(t, start, len);
		if (m >= 0) {
			set_maker(t, out, m, NULL, 0, "namespace");
			out->has_namespace = true;
			break;
		}
		if (len > 0 && !is_host(t, start, len)) {
			set_maker(t, out, -1, start, len, "org");
			out->has_namespace = true;
			break;
		}
		end = start > s ? start - 1 : s;
	}
	/* Bedrock: "us.anthropic.claude-...": a region, then maker-dot. */
	if (!out->maker) {
		static const char *const regions[] = {"us.", "eu.",	"apac.",  "au.",
						      "jp.", "global.", "us-gov."};
		char *p = name;
		for (size_t i = 0; i < N_ELEMS(regions); i++)
			if (has_prefix_ci(p, regions[i])) {
				p += strlen(regions[i]);
				break;
			}
		char *dot = strchr(p, '.');
		int m = dot ? maker_index_n(t, p, (size_t)(dot - p)) : -1;
		if (m >= 0 && isalpha((unsigned char)dot[1])) {
			set_maker(t, out, m, NULL, 0, "namespace");
			out->has_namespace = true;
			name = dot + 1;
		}
	}
	if (fireworks)
		fireworks_dots(name);
	strip_precision(name);

	/* "meta-llama-3.1-8b", "amazon-nova-pro", "cohere-command-r": the
	 * maker's name in front of one of its own families is redundant.
	 * "cerebras-llama-4-scout", "databricks-meta-llama-3-1-8b": so is a
	 * host's or the provider's own name in front of someone's family. */
	for (int round = 0; round < 2; round++) {
		char *dash = strchr(name, '-');
		if (!dash)
			break;
		size_t wlen = (size_t)(dash - name);
		int m = maker_index_n(t, name, wlen);
		int fam = infer_family(t, dash + 1);
		if (m >= 0 && fam == m && (!out->maker || out->maker_idx == m)) {
			name = dash + 1;
			if (!out->maker)
				set_maker(t, out, m, NULL, 0, "family");
			continue;
		}
		bool host =
		    is_host(t, name, wlen) || (ctx->provider && strlen(ctx->provider) == wlen &&
					       strncasecmp(ctx->provider, name, wlen) == 0);
		if (host && !out->maker && fam < 0) {
			/* "meta-llama-...": the maker's name follows the host's. */
			char *d2 = strchr(dash + 1, '-');
			int m2 = d2 ? maker_index_n(t, dash + 1, (size_t)(d2 - dash - 1)) : -1;
			if (m2 >= 0 && infer_family(t, d2 + 1) == m2)
				fam = m2;
		}
		if (host && !out->maker && fam >= 0 && infer_family(t, name) < 0) {
			name = dash + 1;
			continue;
		}
		break;
	}
	if (!*name) {
		free(buf);
		ident_free(out);
		return false;
	}

	if (!out->maker && ctx->forced_maker >= 0)
		set_maker(t, out, ctx->forced_maker, NULL, 0, "namespace");
	else if (!out->maker && ctx->forced_maker_name)
		set_maker(t, out, -1, ctx->forced_maker_name, strlen(ctx->forced_maker_name),
			  "namespace");
	if (!out->maker && ctx->maker_field) {
		int m = maker_index(t, ctx->maker_field);
		if (m >= 0)
			set_maker(t, out, m, NULL, 0, "maker-field");
	}
	/* A maker's own provider names the maker, unless the family says the
	 * model is someone else's (Alibaba serving DeepSeek-R1). */
	if (!out->maker) {
		int fam = infer_family(t, name);
		int pm = ctx->provider ? maker_index(t, ctx->provider) : -1;
		if (pm >= 0 && (fam < 0 || fam == pm))
			set_maker(t, out, pm, NULL, 0, "provider");
		else if (fam >= 0)
			set_maker(t, out, fam, NULL, 0, "family");
	}
	if (!out->maker && ctx->model_record && ctx->maker_field && *ctx->maker_field &&
	    !strchr(ctx->maker_field, '/'))
		set_maker(t, out, -1, ctx->maker_field, strlen(ctx->maker_field), "maker-field");
	if (!out->maker) {
		const char *p = ctx->provider && *ctx->provider ? ctx->provider : "unknown";
		set_maker(t, out, -1, p, strlen(p), "none");
	}

	out->stem = xstrdup(name);
	free(buf);
	enum date_mode mode = out->maker_idx >= 0 ? t->makers[out->maker_idx].dates : DATES_NONE;
	struct units u = {0};
	stem_units(out->stem, mode, &u);
	/* An undated -latest follows the vendor's current release: it is a
	 * model of its own and never follows evidence into a snapshot. An
	 * undated -preview or -exp is no snapshot either, but it meets one
	 * only through evidence (a canonical_slug), like any undated id. */
	if (u.n > 0 && !out->pointer) {
		bool dated = false, moving = false;
		for (size_t i = 0; i < u.n; i++) {
			if (u.v[i][0] == 'd' && all_digits(u.v[i] + 1))
				dated = true;
			if (strcmp(u.v[i], "latest") == 0)
				moving = true;
		}
		out->pointer = moving && !dated;
	}
	out->key = key_of_units(out->maker, &u);
	units_free(&u);
	if (!out->key) {
		ident_free(out);
		return false;
	}
	return true;
}

char *mapper_key_of(const struct mapper_tables *t, const char *provider, const char *maker,
		    const char *id)
{
	struct id_ctx ctx = {.provider = provider, .maker_field = maker, .forced_maker = -1};
	struct ident ident;
	if (!analyze(t, &ctx, id, &ident))
		return NULL;
	char *key = ident.key;
	ident.key = NULL;
	ident_free(&ident);
	return key;
}

/* ------------------------------------------------------------ crosswalk checks */

static bool is_date_unit(const char *u, size_t len)
{
	if (len < 2 || u[0] != 'd')
		return false;
	for (size_t i = 1; i < len; i++)
		if (!isdigit((unsigned char)u[i]))
			return false;
	return true;
}

static bool is_number_n(const char *u, size_t len)
{
	char *s = xstrndup(u, len);
	bool ok = is_number(s);
	free(s);
	return ok;
}

/* 8b, 1.5b, 300m, a22b, e4b, 128e, 8x7b: a parameter count or layout. */
static bool is_size_unit(const char *u, size_t len)
{
	size_t i = 0;
	if (i < len && (u[i] == 'a' || u[i] == 'e'))
		i++;
	size_t digits = i;
	while (i < len && (isdigit((unsigned char)u[i]) || u[i] == '.' || u[i] == 'x'))
		i++;
	if (i == digits || !isdigit((unsigned char)u[digits]))
		return false;
	return i + 1 == len && (u[i] == 'b' || u[i] == 'm' || u[i] == 'e' || u[i] == 't');
}

/* 128k, 32k: a context length the listing names and the release may not. */
static bool is_context_unit(const char *u, size_t len)
{
	if (len < 2 || u[len - 1] != 'k')
		return false;
	for (size_t i = 0; i + 1 < len; i++)
		if (!isdigit((unsigned char)u[i]))
			return false;
	return true;
}

static bool addable_unit(const char *u, size_t len)
{
	return is_date_unit(u, len) || is_number_n(u, len) || is_size_unit(u, len) ||
	       in_list(addable_words, N_ELEMS(addable_words), u, len);
}

/* Next unit of a sorted key: [*p, end of unit); advances *p. */
static bool next_unit(const char **p, const char **u, size_t *len)
{
	if (!**p)
		return false;
	*u = *p;
	const char *dash = strchr(*p, '-');
	*len = dash ? (size_t)(dash - *p) : strlen(*p);
	*p = dash ? dash + 1 : *p + *len;
	return true;
}

static int unit_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = memcmp(a, b, n);
	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/*
 * May evidence lead from key `from` to key `to`? Same maker, and the
 * target either adds only precision (dates, versions, sizes, "instruct")
 * or drops only generic words ("chat"), never both and never another
 * unit: a different size, tier, generation, date or variant is refused.
 */
static bool crosswalk_compatible(const char *from, const char *to)
{
	const char *fs = strchr(from, '/'), *ts = strchr(to, '/');
	if (!fs || !ts || fs - from != ts - to || strncmp(from, to, (size_t)(fs - from)) != 0)
		return false;
	const char *a = fs + 1, *b = ts + 1;
	const char *ua = NULL, *ub = NULL;
	size_t la = 0, lb = 0;
	bool ha = next_unit(&a, &ua, &la), hb = next_unit(&b, &ub, &lb);
	size_t added = 0, dropped = 0;
	while (ha || hb) {
		int c = !ha ? 1 : !hb ? -1 : unit_cmp(ua, la, ub, lb);
		if (c == 0) {
			ha = next_unit(&a, &ua, &la);
			hb = next_unit(&b, &ub, &lb);
		} else if (c < 0) {
			if (!in_list(droppable_words, N_ELEMS(droppable_words), ua, la) &&
			    !is_context_unit(ua, la))
				return false;
			dropped++;
			ha = next_unit(&a, &ua, &la);
		} else {
			if (!addable_unit(ub, lb))
				return false;
			added++;
			hb = next_unit(&b, &ub, &lb);
		}
	}
	return (added > 0) != (dropped > 0);
}

/* ------------------------------------------------------------ tables */

static void tables_init(struct mapper_tables *t)
{
	memset(t, 0, sizeof *t);
	strmap_init(&t->names);
	strmap_init(&t->families);
	strmap_init(&t->tokens);
	strmap_init(&t->hosts);
	strmap_init(&t->override_index);
}

static int add_maker(struct mapper_tables *t, const char *name, enum date_mode dates)
{
	char *k = name_key(name, strlen(name));
	void *v = strmap_get(&t->names, k);
	if (v) {
		free(k);
		return (int)PTR_IDX(v);
	}
	t->makers = xrealloc(t->makers, (t->n_makers + 1) * sizeof *t->makers);
	t->makers[t->n_makers] = (struct maker){.name = xstrdup(k), .dates = dates};
	strmap_put(&t->names, k, IDX_PTR(t->n_makers));
	free(k);
	return (int)t->n_makers++;
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "a list";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "something else";
}

/* Read a list of non-empty strings; false (with an error) otherwise. */
static bool string_list(const json_t *v, const char *path, const char *where, struct errors *errs)
{
	if (!v)
		return true;
	if (!json_is_array(v)) {
		errors_add(errs, "%s: %s is %s, expected a list of strings", path, where,
			   json_type_name(v));
		return false;
	}
	size_t i;
	const json_t *item;
	json_array_foreach(v, i, item)
	{
		if (!json_is_string(item) || json_string_length(item) == 0) {
			errors_add(errs, "%s: %s[%zu] is %s, expected a non-empty string", path,
				   where, i, json_type_name(item));
			return false;
		}
	}
	return true;
}

static bool map_name(struct mapper_tables *t, struct strmap *map, const char *value, int maker,
		     bool replace, const char *path, const char *where, struct errors *errs)
{
	if (map == &t->families && strlen(value) > t->max_family)
		t->max_family = strlen(value);
	char *k = name_key(value, strlen(value));
	void *old = strmap_get(map, k);
	if (old && PTR_IDX(old) != (size_t)maker && !replace) {
		errors_add(errs, "%s: %s: '%s' already belongs to maker %s", path, where, value,
			   t->makers[PTR_IDX(old)].name);
		free(k);
		return false;
	}
	strmap_put(map, k, IDX_PTR(maker));
	free(k);
	return true;
}

static bool parse_dates(const json_t *v, enum date_mode *out)
{
	const char *s = json_string_value(v);
	if (!v) {
		*out = DATES_AUTO;
		return true;
	}
	if (!s)
		return false;
	if (strcmp(s, "auto") == 0)
		*out = DATES_AUTO;
	else if (strcmp(s, "mmdd") == 0)
		*out = DATES_MMDD;
	else if (strcmp(s, "yymm") == 0)
		*out = DATES_YYMM;
	else if (strcmp(s, "none") == 0)
		*out = DATES_NONE;
	else
		return false;
	return true;
}

static json_t *load_json(const char *path, const char *what, struct errors *errs)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root && jerr.line < 1) {
		errors_add(errs, "%s: cannot read %s: %s", path, what, jerr.text);
		return NULL;
	}
	if (!root) {
		errors_add(errs, "%s:%d:%d: cannot read %s: %s", path, jerr.line, jerr.column, what,
			   jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		errors_add(errs, "%s: %s is %s, expected an object", path, what,
			   json_type_name(root));
		json_decref(root);
		return NULL;
	}
	return root;
}

static bool load_makers(struct mapper_tables *t, const char *path, struct errors *errs)
{
	json_t *root = load_json(path, "the maker table", errs);
	if (!root)
		return false;
	size_t before = errs->count;
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v)
	{
		if (strcmp(key, "about") != 0 && strcmp(key, "makers") != 0 &&
		    strcmp(key, "hosts") != 0)
			errors_add(errs, "%s: unknown key '%s' (expected about, makers, hosts)",
				   path, key);
	}
	json_t *makers = json_object_get(root, "makers");
	if (!json_is_object(makers)) {
		errors_add(errs, "%s: makers is %s, expected an object", path,
			   makers ? json_type_name(makers) : "missing");
		json_decref(root);
		return false;
	}
	const char *name;
	json_object_foreach(makers, name, v)
	{
		char where[160];
		snprintf(where, sizeof where, "makers.%s", name);
		enum date_mode dates;
		if (!json_is_object(v) || !*name) {
			errors_add(errs, "%s: %s is %s, expected an object", path, where,
				   json_type_name(v));
			continue;
		}
		if (!parse_dates(json_object_get(v, "dates"), &dates)) {
			errors_add(errs, "%s: %s.dates must be auto, mmdd, yymm or none", path,
				   where);
			continue;
		}
		int m = add_maker(t, name, dates);
		static const char *const lists[] = {"names", "families", "tokens"};
		struct strmap *maps[] = {&t->names, &t->families, &t->tokens};
		const char *k2;
		json_t *v2;
		json_object_foreach(v, k2, v2)
		{
			if (strcmp(k2, "dates") != 0 && !in_list(lists, 3, k2, strlen(k2)))
				errors_add(errs, "%s: %s: unknown key '%s'", path, where, k2);
		}
		for (size_t l = 0; l < N_ELEMS(lists); l++) {
			const json_t *list = json_object_get(v, lists[l]);
			char lwhere[200];
			snprintf(lwhere, sizeof lwhere, "%s.%s", where, lists[l]);
			if (!string_list(list, path, lwhere, errs))
				continue;
			size_t i;
			const json_t *item;
			json_array_foreach(list, i, item) map_name(
			    t, maps[l], json_string_value(item), m, false, path, lwhere, errs);
		}
	}
	json_t *hosts = json_object_get(root, "hosts");
	if (string_list(hosts, path, "hosts", errs)) {
		size_t i;
		json_t *item;
		json_array_foreach(hosts, i, item)
		{
			const char *h = json_string_value(item);
			char *k = name_key(h, strlen(h));
			strmap_put(&t->hosts, k, IDX_PTR(0));
			free(k);
		}
	}
	json_decref(root);
	return errs->count == before;
}

static const char *entry_string(const json_t *entry, const char *key, bool required,
				const char *path, const char *where, struct errors *errs)
{
	const json_t *v = json_object_get(entry, key);
	if (!v) {
		if (required)
			errors_add(errs, "%s: %s: missing '%s'", path, where, key);
		return NULL;
	}
	if (!json_is_string(v) || json_string_length(v) == 0) {
		errors_add(errs, "%s: %s.%s is %s, expected a non-empty string", path, where, key,
			   json_type_name(v));
		return NULL;
	}
	return json_string_value(v);
}

static bool check_keys(const json_t *entry, const char *const *allowed, size_t n, const char *path,
		       const char *where, struct errors *errs)
{
	bool ok = true;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)entry, key, v)
	{
		if (!in_list(allowed, n, key, strlen(key))) {
			errors_add(errs, "%s: %s: unknown key '%s'", path, where, key);
			ok = false;
		}
	}
	return ok;
}

static void load_override_models(struct mapper_tables *t, const json_t *list, const char *path,
				 struct errors *errs)
{
	static const char *const allowed[] = {"id", "source", "provider", "model", "reason"};
	size_t i;
	const json_t *e;
	json_array_foreach(list, i, e)
	{
		char where[64];
		snprintf(where, sizeof where, "models[%zu]", i);
		if (!json_is_object(e)) {
			errors_add(errs, "%s: %s is %s, expected an object", path, where,
				   json_type_name(e));
			continue;
		}
		size_t before = errs->count;
		check_keys(e, allowed, N_ELEMS(allowed), path, where, errs);
		const char *id = entry_string(e, "id", true, path, where, errs);
		const char *model = entry_string(e, "model", true, path, where, errs);
		const char *reason = entry_string(e, "reason", true, path, where, errs);
		const char *source = entry_string(e, "source", false, path, where, errs);
		const char *provider = entry_string(e, "provider", false, path, where, errs);
		const char *slash = model ? strchr(model, '/') : NULL;
		if (model && (!slash || slash == model || !slash[1] || strchr(slash + 1, '/'))) {
			errors_add(errs, "%s: %s.model '%s' is not maker/model", path, where,
				   model);
		} else if (model) {
			char *key = make_key("m", slash + 1, DATES_NONE);
			if (!key)
				errors_add(errs, "%s: %s.model '%s' has no model name", path, where,
					   model);
			free(key);
		}
		if (errs->count != before)
			continue;
		struct override_id *o = xcalloc(1, sizeof *o);
		o->id = xstrdup(id);
		o->source = source ? xstrdup(source) : NULL;
		o->provider = provider ? xstrdup(provider) : NULL;
		o->maker = name_key(model, (size_t)(slash - model));
		o->model = str_lower(slash + 1);
		o->reason = xstrdup(reason);
		/* Chain entries of one id in file order. */
		char *k = str_lower(id);
		struct override_id *head = strmap_get(&t->override_index, k);
		if (!head) {
			strmap_put(&t->override_index, k, o);
		} else {
			while (head->next)
				head = head->next;
			head->next = o;
		}
		free(k);
		t->n_overrides++;
	}
}

static void load_override_names(struct mapper_tables *t, const json_t *list, bool families,
				const char *path, struct errors *errs)
{
	static const char *const allowed_p[] = {"name", "maker", "reason"};
	static const char *const allowed_f[] = {"prefix", "maker", "reason"};
	const char *field = families ? "prefix" : "name";
	const char *section = families ? "families" : "providers";
	size_t i;
	const json_t *e;
	json_array_foreach(list, i, e)
	{
		char where[64];
		snprintf(where, sizeof where, "%s[%zu]", section, i);
		if (!json_is_object(e)) {
			errors_add(errs, "%s: %s is %s, expected an object", path, where,
				   json_type_name(e));
			continue;
		}
		size_t before = errs->count;
		check_keys(e, families ? allowed_f : allowed_p, 3, path, where, errs);
		const char *name = entry_string(e, field, true, path, where, errs);
		const char *maker = entry_string(e, "maker", true, path, where, errs);
		entry_string(e, "reason", true, path, where, errs);
		if (errs->count != before)
			continue;
		int m = maker_index(t, maker);
		if (m < 0)
			m = add_maker(t, maker, DATES_NONE);
		map_name(t, families ? &t->families : &t->names, name, m, true, path, where, errs);
		t->n_override_others++;
	}
}

static bool load_overrides(struct mapper_tables *t, const char *path, struct errors *errs)
{
	json_t *root = load_json(path, "the overrides", errs);
	if (!root)
		return false;
	size_t before = errs->count;
	static const char *const sections[] = {"about", "models", "providers", "families"};
	check_keys(root, sections, N_ELEMS(sections), path, "top level", errs);
	for (size_t s = 1; s < N_ELEMS(sections); s++) {
		const json_t *list = json_object_get(root, sections[s]);
		if (!list)
			continue;
		if (!json_is_array(list)) {
			errors_add(errs, "%s: %s is %s, expected a list", path, sections[s],
				   json_type_name(list));
			continue;
		}
		if (s == 1)
			load_override_models(t, list, path, errs);
		else
			load_override_names(t, list, s == 3, path, errs);
	}
	json_decref(root);
	return errs->count == before;
}

const char *mapper_data_dir(void)
{
	const char *env = getenv("MODELFUSE_DATADIR");
	return env && *env ? env : MF_PKGDATADIR;
}

struct mapper_tables *mapper_tables_load_files(const char *makers_path, const char *overrides_path,
					       struct errors *errs)
{
	struct mapper_tables *t = xcalloc(1, sizeof *t);
	tables_init(t);
	bool ok = load_makers(t, makers_path, errs);
	if (ok && overrides_path)
		ok = load_overrides(t, overrides_path, errs);
	if (!ok) {
		mapper_tables_free(t);
		return NULL;
	}
	return t;
}

struct mapper_tables *mapper_tables_load(const struct config *cfg, struct errors *errs)
{
	const char *dir = mapper_data_dir();
	char *makers = xasprintf("%s/makers.json", dir);
	char *overrides = NULL;
	if (cfg && cfg->mapper_overrides_set) {
		if (cfg->mapper_overrides)
			overrides = xstrdup(cfg->mapper_overrides);
	} else {
		/* The shipped file is optional: a build without it maps by rules
		 * alone. An admin's own file must exist. */
		overrides = xasprintf("%s/overrides.json", dir);
		if (access(overrides, F_OK) != 0) {
			free(overrides);
			overrides = NULL;
		}
	}
	struct mapper_tables *t = mapper_tables_load_files(makers, overrides, errs);
	free(makers);
	free(overrides);
	return t;
}

size_t mapper_tables_override_count(const struct mapper_tables *t)
{
	return t ? t->n_overrides + t->n_override_others : 0;
}

static void override_chain_free(void *p)
{
	for (struct override_id *o = p, *next; o; o = next) {
		next = o->next;
		free(o->source);
		free(o->provider);
		free(o->id);
		free(o->maker);
		free(o->model);
		free(o->reason);
		free(o);
	}
}

void mapper_tables_free(struct mapper_tables *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_makers; i++)
		free(t->makers[i].name);
	free(t->makers);
	strmap_free(&t->names, NULL);
	strmap_free(&t->families, NULL);
	strmap_free(&t->tokens, NULL);
	strmap_free(&t->hosts, NULL);
	strmap_free(&t->override_index, override_chain_free);
	free(t);
}

/* ------------------------------------------------------------ mapping */

#define NONE SIZE_MAX

/* One record on its way through the mapper. */
struct item {
	const struct source_result *result;
	const char *instance; /* "" when the source is unknown */
	const char *plugin;
	int precedence;
	size_t position;
	const struct mf_record *rec;
	const char *provider; /* offerings only */
	struct ident id;
	const struct override_id *ov;
	bool first_party;
	size_t node;
	size_t next;  /* the next item of the same node */
	size_t votes; /* records of its node spelled like it */
};

/* The records sharing one normalized key, and where evidence leads. */
struct node {
	const char *key; /* borrowed from the first item */
	size_t first;
	size_t last;
	size_t target;	   /* crosswalk target node, NONE */
	bool ambiguous;	   /* evidence led to two nodes: none followed */
	const char *field; /* the evidence of the edge */
	const char *value;
	size_t via;	    /* the item that carried it */
	const char *amb[2]; /* two of the targets, for explain */
	size_t root;
	int state; /* 0 new, 1 on the current path, 2 resolved */
	/* Strings of the mapping made once per node (NULL until needed):
	 * the key, the crosswalk value; for a root, the model id and maker. */
	char *out_key;
	char *out_value;
	char *out_model;
	char *out_maker;
	size_t display;
	bool multi;  /* the model has records of two (instance, provider) pairs */
	size_t pair; /* some item of the model */
};

static const char *item_source_id(const struct item *it)
{
	const char *key = record_get_string(it->rec, MF_FIELD_SOURCE_KEY);
	return key && *key ? key : it->rec->native_id;
}

static const struct override_id *find_override(const struct mapper_tables *t, const struct item *it)
{
	const char *ids[2] = {it->rec->native_id, record_get_string(it->rec, MF_FIELD_SOURCE_KEY)};
	for (size_t k = 0; k < 2; k++) {
		if (!ids[k] || !*ids[k])
			continue;
		/* Every record looks here twice: no allocation for a short id. */
		char buf[128];
		size_t len = strlen(ids[k]);
		char *low = len < sizeof buf ? buf : xmalloc(len + 1);
		for (size_t i = 0; i <= len; i++)
			low[i] = (char)tolower((unsigned char)ids[k][i]);
		const struct override_id *o = strmap_get(&t->override_index, low);
		if (low != buf)
			free(low);
		for (; o; o = o->next) {
			if (o->source && strcmp(o->source, it->instance) != 0 &&
			    strcmp(o->source, it->plugin) != 0)
				continue;
			if (o->provider &&
			    (!it->provider || strcasecmp(o->provider, it->provider) != 0))
				continue;
			return o;
		}
	}
	return NULL;
}

static bool override_ident(const struct mapper_tables *t, const struct override_id *o,
			   struct ident *out)
{
	memset(out, 0, sizeof *out);
	out->maker_idx = maker_index(t, o->maker);
	out->maker = xstrdup(out->maker_idx >= 0 ? t->makers[out->maker_idx].name : o->maker);
	out->maker_rule = "override";
	out->stem = xstrdup(o->model);
	enum date_mode mode = out->maker_idx >= 0 ? t->makers[out->maker_idx].dates : DATES_NONE;
	out->key = make_key(out->maker, out->stem, mode);
	if (!out->key) {
		ident_free(out);
		return false;
	}
	return true;
}

static int rank_class(const struct item *it)
{
	if (it->ov)
		return 0;
	if (it->first_party)
		return 1;
	if (it->rec->kind == MF_RECORD_MODEL && it->id.maker_idx >= 0 && it->id.has_namespace)
		return 2;
	return 3;
}

/* Which record spells the model id: fixed by content, never by the order
 * in which sources are configured or finish. */
static bool display_better(const struct item *a, const struct item *b)
{
	int ca = rank_class(a), cb = rank_class(b);
	if (ca != cb)
		return ca < cb;
	if (a->votes != b->votes)
		return a->votes > b->votes;
	if (a->precedence != b->precedence)
		return a->precedence > b->precedence;
	int c = strcmp(a->instance, b->instance);
	if (c == 0)
		c = strcmp(a->id.stem, b->id.stem);
	if (c == 0)
		c = strcmp(a->rec->native_id, b->rec->native_id);
	return c < 0;
}

static void add_edge(struct node *nodes, size_t from, size_t to, const char *field,
		     const char *value, size_t via)
{
	struct node *n = &nodes[from];
	if (from == to || n->ambiguous)
		return;
	if (n->target == NONE) {
		n->target = to;
		n->field = field;
		n->value = value;
		n->via = via;
	} else if (n->target != to) {
		n->ambiguous = true;
		n->amb[0] = nodes[n->target].key;
		n->amb[1] = nodes[to].key;
		n->target = NONE;
	}
}

static size_t node_of(const struct strmap *index, const char *key)
{
	void *v = strmap_get(index, key);
	return v ? PTR_IDX(v) : NONE;
}

/* Evidence one record carries about its own identity. */
static void item_evidence(const struct mapper_tables *t, struct item *items, size_t i,
			  struct node *nodes, const struct strmap *index)
{
	struct item *it = &items[i];
	if (it->ov)
		return;
	const struct mf_record *r = it->rec;
	struct id_ctx ns_ctx = {.forced_maker = -1};
	struct id_ctx own_ctx = {
	    .forced_maker = it->id.maker_idx,
	    .forced_maker_name = it->id.maker_idx < 0 ? it->id.maker : NULL,
	};
	static const struct {
		enum mf_field field;
		const char *name;
		bool own_maker;
	} crosswalks[] = {
	    {MF_FIELD_HF_ID, "hf_id", false},
	    {MF_FIELD_CANONICAL_SLUG, "canonical_slug", false},
	    {MF_FIELD_ALIAS_TARGET, "alias_target", true},
	    {MF_FIELD_VERSION, "version", true},
	};
	for (size_t k = 0; k < N_ELEMS(crosswalks) && !it->id.pointer; k++) {
		const char *value = record_get_string(r, crosswalks[k].field);
		if (!value || !*value)
			continue;
		/* Gemini's version "001" names the snapshot id-001. */
		char *target = NULL;
		if (crosswalks[k].field == MF_FIELD_VERSION) {
			size_t vl = strlen(value), il = strlen(r->native_id);
			if (!all_digits(value) || (il > vl && r->native_id[il - vl - 1] == '-' &&
						   strcmp(r->native_id + il - vl, value) == 0))
				continue;
			target = xasprintf("%s-%s", r->native_id, value);
		}
		struct ident tid;
		if (analyze(t, crosswalks[k].own_maker ? &own_ctx : &ns_ctx,
			    target ? target : value, &tid)) {
			size_t to = node_of(index, tid.key);
			if (to != NONE && !tid.pointer && crosswalk_compatible(it->id.key, tid.key))
				add_edge(nodes, it->node, to, crosswalks[k].name, value, i);
			ident_free(&tid);
		}
		free(target);
	}
	const struct strlist *aliases = record_get_list(r, MF_FIELD_ALIASES);
	for (size_t k = 0; aliases && k < aliases->count; k++) {
		struct ident tid;
		if (!analyze(t, &own_ctx, aliases->items[k], &tid))
			continue;
		size_t other = node_of(index, tid.key);
		/* The less precise id points to the more precise one. */
		if (other != NONE && other != it->node) {
			if (!tid.pointer && crosswalk_compatible(tid.key, it->id.key))
				add_edge(nodes, other, it->node, "aliases", aliases->items[k], i);
			else if (!it->id.pointer && crosswalk_compatible(it->id.key, tid.key))
				add_edge(nodes, it->node, other, "aliases", aliases->items[k], i);
		}
		ident_free(&tid);
	}
}

/* Follow the edges to a root for every node. A cycle is broken at its
 * node with the smallest key, so the outcome does not depend on order. */
static void resolve_roots(struct node *nodes, size_t n)
{
	size_t *path = xcalloc(n ? n : 1, sizeof *path);
	for (size_t s = 0; s < n; s++) {
		size_t len = 0, cur = s, root;
		for (;;) {
			if (nodes[cur].state == 2) {
				root = nodes[cur].root;
				break;
			}
			if (nodes[cur].state == 1) {
				size_t k = 0;
				while (path[k] != cur)
					k++;
				root = path[k];
				for (size_t j = k; j < len; j++)
					if (strcmp(nodes[path[j]].key, nodes[root].key) < 0)
						root = path[j];
				nodes[root].target = NONE;
				break;
			}
			nodes[cur].state = 1;
			path[len++] = cur;
			if (nodes[cur].target == NONE) {
				root = cur;
				break;
			}
			cur = nodes[cur].target;
		}
		for (size_t j = 0; j < len; j++) {
			nodes[path[j]].root = root;
			nodes[path[j]].state = 2;
		}
	}
	free(path);
}

static const struct source_config *result_source(const struct config *cfg,
						 const struct source_result *results, size_t i)
{
	if (results[i].source)
		return results[i].source;
	if (cfg && i < cfg->n_sources)
		return &cfg->sources[i];
	return NULL;
}

/* Analyze every record into items; returns the number of items. */
static size_t build_items(const struct mapper_tables *t, const struct config *cfg,
			  const struct source_result *results, size_t n_results, struct item *items,
			  size_t *dropped)
{
	size_t n = 0;
	for (size_t i = 0; i < n_results; i++) {
		const struct source_config *src = result_source(cfg, results, i);
		const char *instance = src ? src->name : "";
		for (size_t pos = 0; pos < results[i].records.count; pos++) {
			const struct mf_record *rec = results[i].records.items[pos];
			struct item *it = &items[n];
			*it = (struct item){
			    .result = &results[i],
			    .instance = instance,
			    .plugin = src && src->plugin ? src->plugin : instance,
			    .precedence = src ? src->precedence : 0,
			    .position = pos,
			    .rec = rec,
			    .node = NONE,
			    .next = NONE,
			};
			bool ok = false;
			if (rec && rec->native_id && *rec->native_id) {
				if (rec->kind == MF_RECORD_OFFERING)
					it->provider = record_get_string(rec, MF_FIELD_PROVIDER);
				it->ov = find_override(t, it);
				if (it->ov) {
					ok = override_ident(t, it->ov, &it->id);
				} else {
					struct id_ctx ctx = {
					    .provider = it->provider,
					    .maker_field = record_get_string(rec, MF_FIELD_MAKER),
					    .model_record = rec->kind == MF_RECORD_MODEL,
					    .forced_maker = -1,
					};
					const char *base = record_get_string(rec, MF_FIELD_BASE_ID);
					ok = analyze(t, &ctx, base && *base ? base : rec->native_id,
						     &it->id);
					bool moving = false;
					if (ok &&
					    record_get_bool(rec, MF_FIELD_MOVING_POINTER,
							    &moving) &&
					    moving)
						it->id.pointer = true;
				}
			}
			if (!ok) {
				log_msg(MF_LOG_WARNING, *instance ? instance : NULL,
					"record %zu has no usable id, skipped", pos);
				(*dropped)++;
				continue;
			}
			int pm = it->provider ? maker_index(t, it->provider) : -1;
			it->first_party = pm >= 0 && pm == it->id.maker_idx;
			n++;
		}
	}
	return n;
}

/* Group items into nodes by key; returns the number of nodes. */
static size_t build_nodes(struct item *items, size_t n, struct node *nodes, struct strmap *index)
{
	size_t n_nodes = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k = node_of(index, items[i].id.key);
		if (k == NONE) {
			k = n_nodes++;
			nodes[k] = (struct node){
			    .key = items[i].id.key,
			    .first = i,
			    .last = i,
			    .target = NONE,
			    .root = NONE,
			    .display = i,
			    .pair = NONE,
			};
			strmap_put(index, items[i].id.key, IDX_PTR(k));
		} else {
			items[nodes[k].last].next = i;
			nodes[k].last = i;
		}
		items[i].node = k;
	}
	return n_nodes;
}

/* A node's string for the mapping, made once in the mapping's arena. */
static char *node_string(struct arena *a, char **slot, const char *s)
{
	if (!*slot)
		*slot = arena_strdup(a, s);
	return *slot;
}

/* Is "maker/stem" of the item the model id? */
static bool own_id_is(const struct item *it, const char *model_id)
{
	size_t ml = strlen(it->id.maker);
	return strncmp(model_id, it->id.maker, ml) == 0 && model_id[ml] == '/' &&
	       strcmp(model_id + ml + 1, it->id.stem) == 0;
}

static void fill_entry(const struct item *items, size_t i, struct node *nodes, struct arena *a,
		       struct mapping_entry *e)
{
	const struct item *it = &items[i];
	struct node *own = &nodes[it->node];
	struct node *root = &nodes[own->root];
	const struct item *d = &items[root->display];
	if (!root->out_model) {
		root->out_model = arena_printf(a, "%s/%s", d->id.maker, d->id.stem);
		root->out_maker = arena_strdup(a, d->id.maker);
	}
	*e = (struct mapping_entry){
	    .result = it->result,
	    .position = it->position,
	    .rec = it->rec,
	    .model_id = root->out_model,
	    .maker = root->out_maker,
	    .maker_rule = it->id.maker_rule,
	    .first_party = it->first_party,
	};
	if (it->ov) {
		e->rule = MAPPER_RULE_OVERRIDE;
		e->key = arena_strdup(a, it->ov->id);
		e->evidence = arena_strdup(a, it->ov->reason);
	} else if (!root->multi) {
		e->rule = MAPPER_RULE_UNALIGNED;
		e->key = node_string(a, &own->out_key, it->id.key);
	} else if (own != root) {
		const struct item *via = &items[own->via];
		e->rule = MAPPER_RULE_CROSSWALK;
		e->key = node_string(a, &own->out_value, own->value);
		e->evidence =
		    arena_printf(a, "%s of %s:%s", own->field, via->instance, item_source_id(via));
	} else if (own_id_is(it, e->model_id)) {
		e->rule = MAPPER_RULE_EXACT;
		e->key = e->model_id;
	} else {
		e->rule = MAPPER_RULE_NORMALIZED;
		e->key = node_string(a, &own->out_key, it->id.key);
	}
	if (own->ambiguous && !e->evidence)
		e->evidence = arena_printf(a, "ambiguous evidence (%s or %s): none followed",
					   own->amb[0], own->amb[1]);
}

/* Spelling votes: how many records of a node write its name alike. One
 * hash of (node, stem) pairs: each slot holds the first item of a pair and
 * its count. */
static void count_votes(struct item *items, size_t n)
{
	size_t cap = 64;
	while (cap < 2 * n)
		cap *= 2;
	struct vote {
		size_t item; /* NONE: empty */
		size_t count;
		uint64_t hash; /* of the pair: most probes end here */
	} *slots = xmalloc(cap * sizeof *slots);
	for (size_t k = 0; k < cap; k++)
		slots[k].item = NONE;
	size_t *slot_of = xmalloc((n ? n : 1) * sizeof *slot_of);
	for (size_t i = 0; i < n; i++) {
		uint64_t h =
		    hash_str(items[i].id.stem) ^ ((uint64_t)items[i].node * 0x9e3779b97f4a7c15ULL);
		size_t k = (size_t)(h ^ (h >> 31)) & (cap - 1);
		for (; slots[k].item != NONE; k = (k + 1) & (cap - 1)) {
			const struct item *o = &items[slots[k].item];
			if (slots[k].hash == h && o->node == items[i].node &&
			    strcmp(o->id.stem, items[i].id.stem) == 0)
				break;
		}
		if (slots[k].item == NONE)
			slots[k] = (struct vote){.item = i, .count = 0, .hash = h};
		slots[k].count++;
		slot_of[i] = k;
	}
	for (size_t i = 0; i < n; i++)
		items[i].votes = slots[slot_of[i]].count;
	free(slot_of);
	free(slots);
}

int mapper_map_with(const struct mapper_tables *t, const struct config *cfg,
		    const struct source_result *results, size_t n_results, struct mapping *out)
{
	memset(out, 0, sizeof *out);
	size_t total = 0;
	for (size_t i = 0; i < n_results; i++)
		total += results[i].records.count;
	if (total == 0)
		return 0;
	struct item *items = xcalloc(total, sizeof *items);
	size_t n = build_items(t, cfg, results, n_results, items, &out->dropped);
	struct node *nodes = xcalloc(n ? n : 1, sizeof *nodes);
	/* The keys are the items' own, alive until the end. */
	struct strmap index;
	strmap_init_borrowed(&index, n);
	size_t n_nodes = build_nodes(items, n, nodes, &index);
	nodes = xrealloc(nodes, (n_nodes ? n_nodes : 1) * sizeof *nodes);

	for (size_t i = 0; i < n; i++)
		item_evidence(t, items, i, nodes, &index);
	resolve_roots(nodes, n_nodes);
	count_votes(items, n);
	for (size_t i = 0; i < n; i++) {
		struct node *root = &nodes[nodes[items[i].node].root];
		if (items[i].node == nodes[items[i].node].root &&
		    display_better(&items[i], &items[root->display]))
			root->display = i;
		if (root->pair == NONE) {
			root->pair = i;
		} else if (!root->multi) {
			const struct item *p = &items[root->pair];
			const char *pa = p->provider ? p->provider : "";
			const char *pb = items[i].provider ? items[i].provider : "";
			root->multi =
			    strcmp(p->instance, items[i].instance) != 0 || strcasecmp(pa, pb) != 0;
		}
	}
	/* The display item of a root must belong to the root node itself. */
	for (size_t k = 0; k < n_nodes; k++)
		if (nodes[k].root == k && items[nodes[k].display].node != k)
			nodes[k].display = nodes[k].first;

	out->items = n ? xcalloc(n, sizeof *out->items) : NULL;
	size_t unaligned = 0;
	for (size_t i = 0; i < n; i++) {
		fill_entry(items, i, nodes, &out->strings, &out->items[i]);
		unaligned += strcmp(out->items[i].rule, MAPPER_RULE_UNALIGNED) == 0;
	}
	out->count = n;
	log_info("mapper: %zu records, %zu keys, %zu unaligned, %zu dropped", n, n_nodes, unaligned,
		 out->dropped);

	strmap_free(&index, NULL);
	free(nodes);
	for (size_t i = 0; i < n; i++)
		ident_free(&items[i].id);
	free(items);
	return 0;
}

int mapper_run(const struct config *cfg, const struct source_result *results, size_t n_results,
	       struct mapping *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	struct errors errs = {0};
	struct mapper_tables *t = mapper_tables_load(cfg, &errs);
	if (!t) {
		errors_print(&errs);
		snprintf(err, errlen, "cannot load the mapper tables from %s (%zu problem%s)",
			 mapper_data_dir(), errs.count, errs.count == 1 ? "" : "s");
		errors_free(&errs);
		return -1;
	}
	errors_free(&errs);
	int rc = mapper_map_with(t, cfg, results, n_results, out);
	mapper_tables_free(t);
	return rc;
}

int mapper_map(const struct source_result *results, size_t n_results, struct mapping *out)
{
	char err[512];
	if (mapper_run(NULL, results, n_results, out, err, sizeof err) != 0) {
		log_error("%s", err);
		return -1;
	}
	return 0;
}

void mapping_free(struct mapping *m)
{
	if (m->strings.blocks) {
		arena_free(&m->strings);
	} else {
		for (size_t i = 0; i < m->count; i++) {
			free(m->items[i].model_id);
			free(m->items[i].maker);
			free(m->items[i].key);
			free(m->items[i].evidence);
		}
	}
	free(m->items);
	memset(m, 0, sizeof *m);
}
