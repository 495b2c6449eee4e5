/*
 * modelfuse plugin SDK: the whole contract between the modelfuse core and a
 * source plugin. A plugin includes only this header, links no part of the
 * core, and exports one descriptor with MF_PLUGIN_EXPORT.
 *
 * OWNERSHIP AND LIFETIME RULES (read these first)
 *
 *  1. Everything the core passes in (the host table, option values, page
 *     bytes and headers, request objects) is BORROWED: valid only until the
 *     callback that received it returns. Copy what you want to keep.
 *  2. Records are created by the core (host->record_new) and belong to the
 *     plugin until it hands them back with host->emit. emit TAKES OWNERSHIP
 *     whether it succeeds or fails: never touch a record after emitting it.
 *     A record that is not emitted must be given back with host->record_free.
 *  3. Every setter COPIES its string arguments; the plugin keeps ownership of
 *     the buffers it passes in.
 *  4. The plugin's own state (allocated in init) is the plugin's to free in
 *     fini. The core calls fini exactly once after a successful init, even
 *     when fetch or normalize failed.
 *  5. A plugin never prints, never exits and never installs signal handlers:
 *     it logs through host->log, which prefixes the source instance, and it
 *     reports failure through return codes. Each source runs in its own
 *     process, so a crash costs only that source, but it is still a bug.
 *  6. normalize is pure: one page of bytes in, records out. No network, no
 *     files, no globals. That is what lets the core skip it for an unchanged
 *     payload and lets tests and fuzzers drive it on recorded pages.
 *
 * ABI CHANGELOG (MF_ABI_MAJOR.MF_ABI_MINOR)
 *
 *  1.0  first release: descriptor, declared options, paged fetch planning,
 *       per-page normalize, typed record setters, logging.
 *
 * Compatibility: structs only ever grow at their end and carry their size;
 * enum values are never renumbered or reused. A core refuses a plugin whose
 * major differs from its own, or whose minor is newer than its own.
 */
#ifndef MODELFUSE_PLUGIN_H
#define MODELFUSE_PLUGIN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MF_ABI_MAJOR 1
#define MF_ABI_MINOR 0

/* The symbol name the core looks up in every plugin file. */
#define MF_PLUGIN_SYMBOL "modelfuse_plugin"

/* Export the descriptor even from a -fvisibility=hidden build. */
#if defined(__GNUC__) || defined(__clang__)
#define MF_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define MF_PLUGIN_EXPORT
#endif

/* Return codes of every callback and host service. Numbers are never reused. */
enum mf_status {
	MF_OK = 0,
	MF_DONE = 1,       /* fetch: no more pages to request */
	MF_ERROR = -1,     /* generic failure, already logged by whoever saw it */
	MF_ENOMEM = -2,    /* out of memory */
	MF_EINVAL = -3,    /* bad argument: wrong field kind, NULL, bad value */
	MF_EPARSE = -4,    /* a page could not be parsed */
	MF_EDISABLED = -5, /* init: the source cannot run here (e.g. no API key) */
};

/* Log levels for host->log. */
enum mf_log_level {
	MF_LOG_ERROR = 0,
	MF_LOG_WARNING = 1,
	MF_LOG_INFO = 2,
	MF_LOG_DEBUG = 3,
};

/* ---------------------------------------------------------------- options */

enum mf_option_type {
	MF_OPT_STRING = 0,
	MF_OPT_INT = 1,  /* decimal, range-checked to int64 */
	MF_OPT_BOOL = 2, /* yes/no, true/false, on/off, 1/0 */
	MF_OPT_REAL = 3, /* decimal number */
};

/*
 * One option a plugin accepts in its [source NAME] section. The core rejects
 * unknown keys, values that do not parse as `type`, and missing `required`
 * options, with file:line, before the plugin runs. A `secret` option may
 * only be given literally in a config file of mode 0600 owned by the running
 * user, and its value never appears in logs or outputs.
 * Arrays of options end with an entry whose name is NULL.
 */
struct mf_option {
	const char *name;
	enum mf_option_type type;
	const char *default_value; /* as it would be written in the INI; NULL: none */
	bool required;
	bool secret;
	const char *help; /* one line, shown by `modelfuse plugins -v` */
};

/* ---------------------------------------------------------------- records */

/* What a record describes (SPEC data model). */
enum mf_record_kind {
	/* One model by its maker: ratings, downloads, license, release date. */
	MF_RECORD_MODEL = 1,
	/* One provider serving a model under its native id: price, limits. */
	MF_RECORD_OFFERING = 2,
};

/* Value kinds; each field accepts exactly one. */
enum mf_field_type {
	MF_TYPE_STRING = 1,
	MF_TYPE_INT = 2,
	MF_TYPE_BOOL = 3,
	MF_TYPE_REAL = 4,
	MF_TYPE_LIST = 5, /* ordered list of strings, duplicates dropped */
	MF_TYPE_MAP = 6,  /* string key -> real number */
};

/*
 * Record fields. The comment gives the value kind and unit. Numbers are
 * never reused; new fields are appended with a minor ABI bump.
 */
enum mf_field {
	MF_FIELD_NAME = 1,            /* string: display name */
	MF_FIELD_MAKER = 2,           /* string: maker as the source names it */
	MF_FIELD_PROVIDER = 3,        /* string: serving provider (offerings), as models.dev spells it */
	MF_FIELD_FAMILY = 4,          /* string: model family, e.g. "gpt-4o" */
	MF_FIELD_SOURCE_KEY = 5,      /* string: id as the upstream lists it, if not the native id */
	MF_FIELD_RELEASE_DATE = 6,    /* string: ISO 8601 date */
	MF_FIELD_LAST_UPDATED = 7,    /* string: ISO 8601 date */
	MF_FIELD_KNOWLEDGE = 8,       /* string: knowledge cutoff, ISO 8601 (year-month allowed) */
	MF_FIELD_LICENSE = 9,         /* string: SPDX-like license id */
	MF_FIELD_STATUS = 10,         /* string: upstream lifecycle, e.g. "deprecated", "beta" */
	MF_FIELD_HF_ID = 11,          /* string: Hugging Face repo id crosswalk */
	MF_FIELD_CANONICAL_SLUG = 12, /* string: upstream canonical slug crosswalk */
	MF_FIELD_CONTEXT_TOKENS = 13, /* int: context window in tokens; 0 = unknown */
	MF_FIELD_MAX_OUTPUT_TOKENS = 14, /* int: output limit in tokens; 0 = unknown */
	MF_FIELD_MAX_INPUT_TOKENS = 15,  /* int: input limit in tokens; 0 = unknown */
	MF_FIELD_OPEN_WEIGHTS = 16,   /* bool */
	MF_FIELD_REASONING = 17,      /* bool: a reasoning ("thinking") model */
	MF_FIELD_TOOL_CALL = 18,      /* bool: supports tool/function calling */
	MF_FIELD_ATTACHMENT = 19,     /* bool: accepts file attachments */
	MF_FIELD_TEMPERATURE = 20,    /* bool: accepts a temperature parameter */
	MF_FIELD_CALLABLE = 21,       /* bool: callable with the admin's own key */
	MF_FIELD_DOWNLOADS = 22,      /* int: downloads over the last 30 days */
	MF_FIELD_LIKES = 23,          /* int */
	MF_FIELD_ALIASES = 24,        /* list: other ids of the same model */
	MF_FIELD_TAGS = 25,           /* list: free-form tags */
	MF_FIELD_INPUT_MODALITIES = 26,  /* list: "text", "image", "audio", ... */
	MF_FIELD_OUTPUT_MODALITIES = 27, /* list */
	MF_FIELD_PRICE = 28,          /* map: kind ("input", "output", "cache_read", ...) -> USD per 1M */
	MF_FIELD_SCORES = 29,         /* map: score name (e.g. "arena.full") -> value */
	MF_FIELD_DESCRIPTION = 30,    /* string: one paragraph at most */
	MF_FIELD_CREATED = 31,        /* string: ISO 8601 time the upstream created the entry */
	/* Serving details the mapper uses to align ids (SPEC §5). */
	MF_FIELD_BASE_ID = 32,        /* string: the id this one serves when it only adds a serving
				       * suffix (OpenRouter "x:free" -> "x") */
	MF_FIELD_SERVING_SUFFIX = 33, /* string: that suffix without its separator, e.g. "free" */
	MF_FIELD_MOVING_POINTER = 34, /* bool: the id follows whatever snapshot is current
				       * (-latest, OpenRouter ~vendor/...), not one release */
	MF_FIELD_ALIAS_TARGET = 35,   /* string: the id this alias entry points to */
	MF_FIELD_EXPIRATION_DATE = 36,  /* string: ISO 8601 date the offering goes away */
	MF_FIELD_DEPRECATION_DATE = 37, /* string: ISO 8601 date it is deprecated */
	MF_FIELD_CAPABILITIES = 38,   /* list: "tools", "vision", "json_mode", ... */
	MF_FIELD_SUPPORTED_PARAMETERS = 39, /* list: request parameters the endpoint accepts */
	MF_FIELD_LIBRARY = 40,        /* string: Hugging Face library_name */
	MF_FIELD_PIPELINE = 41,       /* string: Hugging Face pipeline_tag */
	MF_FIELD_GATED = 42,          /* bool: access must be requested */
	MF_FIELD_PARAMETERS = 43,     /* int: parameter count */
	MF_FIELD_TRENDING_SCORE = 44, /* real */
	MF_FIELD_MODE = 45,           /* string: "chat", "completion", "embedding", ... */
	MF_FIELD_VERSION = 46,        /* string: upstream version label (Gemini `version`) */
	MF_FIELD_OUTPUT_SPEED = 47,   /* real: median output tokens per second */
	MF_FIELD_TTFT = 48,           /* real: median seconds to the first token */
	MF_FIELD_RANK = 49,           /* int: curated rank, 1 = most important */
	MF_FIELD_REVIEWED = 50,       /* string: ISO 8601 date a curated entry was last reviewed */
	MF_FIELD_REASON = 51,         /* string: one line on why a curated entry matters */
	/* Overlay controls (the admin's corrections, SPEC §6): union alone could
	 * never take a wrong alias away. */
	MF_FIELD_REMOVE = 52,  /* list: "field:value" entries removed from the merged union list
				* `field` (e.g. "aliases:gpt4") whoever supplied them */
	MF_FIELD_REPLACE = 53, /* list: names of union list fields ("aliases", "tags",
				* "input_modalities", "output_modalities") that this record's
				* list replaces instead of joining */
	MF_FIELD_PINNED = 54,  /* list: names of fields whose value from this record wins over
				* any precedence */
};

/* Opaque record built through the host's setters. */
struct mf_record;

/* ---------------------------------------------------------------- fetching */

/*
 * A request the plugin plans; the core performs it through its HTTP/cache
 * service (retries, limits, conditional GET, last-good cache). Opaque: fill
 * it through host->request_set_url and host->request_add_header.
 */
struct mf_request;

/* One fetched page, borrowed for the duration of the callback. */
struct mf_page {
	size_t struct_size;  /* sizeof(struct mf_page) as the core built it */
	unsigned index;      /* 0 for the first page */
	const char *url;     /* the URL finally fetched (after redirects) */
	long status;         /* HTTP status; 200 for file: */
	const char *data;    /* body bytes, NUL-terminated for convenience */
	size_t size;         /* body length, not counting the terminator */
	/* Response header lookup, case-insensitive; NULL when absent. */
	const char *(*header)(const struct mf_page *page, const char *name);
};

/* ---------------------------------------------------------------- host */

/* Per-source handle the core gives every callback: identifies the instance. */
struct mf_context;

/*
 * Services the core offers. The table is borrowed and stays valid from init
 * to fini. New services are appended; check struct_size before using one
 * added after MF_ABI 1.0.
 */
struct mf_host {
	size_t struct_size;
	unsigned abi_major;
	unsigned abi_minor;

	/* Log one line, prefixed by the core with the source instance. printf-style. */
	void (*log)(struct mf_context *ctx, enum mf_log_level level, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
		__attribute__((format(printf, 3, 4)))
#endif
		;

	/* Option values, already validated against the plugin's declaration.
	 * option_string returns the configured value, else the declared
	 * default, else NULL; the string is borrowed until fini. */
	const char *(*option_string)(struct mf_context *ctx, const char *name);
	int64_t (*option_int)(struct mf_context *ctx, const char *name);
	bool (*option_bool)(struct mf_context *ctx, const char *name);
	double (*option_real)(struct mf_context *ctx, const char *name);
	/* The source's URL (`url` key or the descriptor's default_url), with
	 * relative file: URLs already resolved against the config's folder. */
	const char *(*source_url)(struct mf_context *ctx);
	/* The instance name from [source NAME]. */
	const char *(*instance_name)(struct mf_context *ctx);

	/* Plan a request: the URL is copied. An auth header is sent only to
	 * the origin of the configured URL, never after a redirect to another
	 * host, and is never logged or cached. */
	int (*request_set_url)(struct mf_request *req, const char *url);
	int (*request_add_header)(struct mf_request *req, const char *name, const char *value,
				  bool is_auth);

	/* Records. record_new returns NULL when out of memory. native_id is the
	 * id the source uses (an offering's id at its provider). */
	struct mf_record *(*record_new)(struct mf_context *ctx, enum mf_record_kind kind,
					const char *native_id);
	void (*record_free)(struct mf_record *rec);
	int (*set_string)(struct mf_record *rec, enum mf_field field, const char *value);
	/* Copy at most len bytes of value (no terminator needed). */
	int (*set_string_n)(struct mf_record *rec, enum mf_field field, const char *value,
			    size_t len);
	int (*set_int)(struct mf_record *rec, enum mf_field field, int64_t value);
	int (*set_bool)(struct mf_record *rec, enum mf_field field, bool value);
	int (*set_real)(struct mf_record *rec, enum mf_field field, double value);
	/* Append to a list field; an exact duplicate is ignored. */
	int (*list_add)(struct mf_record *rec, enum mf_field field, const char *value);
	/* Set one key of a map field. */
	int (*map_set)(struct mf_record *rec, enum mf_field field, const char *key, double value);
	/* Set one key of a map field from a decimal string scaled by 10^shift,
	 * done on the digits (not through a float multiply): ("0.000003", 6)
	 * stores 3. Returns MF_EINVAL for a string that is not a plain decimal. */
	int (*map_set_decimal)(struct mf_record *rec, enum mf_field field, const char *key,
			       const char *decimal, int shift);
	/* Hand a finished record to the core. Takes ownership, always. */
	int (*emit)(struct mf_context *ctx, struct mf_record *rec);
};

/* ---------------------------------------------------------------- plugin */

/*
 * The descriptor every plugin exports as MF_PLUGIN_SYMBOL. The first three
 * fields never move: the core reads them before trusting anything else.
 */
struct mf_plugin {
	unsigned abi_major;  /* MF_ABI_MAJOR the plugin was built with */
	unsigned abi_minor;  /* MF_ABI_MINOR the plugin was built with */
	size_t struct_size;  /* sizeof(struct mf_plugin) the plugin was built with */

	const char *name;        /* plugin name, [a-z0-9_-]+, matches `plugin =` */
	const char *version;     /* the plugin's own version, e.g. "1.2.0" */
	const char *description; /* one line */
	const char *default_url; /* used when [source] has no url; NULL: url required */
	const struct mf_option *options; /* declared options; may be NULL */

	/*
	 * MAY be NULL. Set *state to the plugin's own state. Return MF_OK,
	 * MF_EDISABLED (the source is reported disabled with the logged
	 * reason), or an error.
	 */
	int (*init)(const struct mf_host *host, struct mf_context *ctx, void **state);

	/*
	 * MUST be set. Plan the next page: prev is NULL for the first page,
	 * else the page just fetched. Fill req and return MF_OK to fetch it, or
	 * return MF_DONE when prev was the last page. The core caps the number
	 * of pages. Not called again after a failed fetch.
	 */
	int (*fetch)(const struct mf_host *host, struct mf_context *ctx, void *state,
		     const struct mf_page *prev, struct mf_request *req);

	/*
	 * MUST be set. Turn one page into records via host->record_new and
	 * host->emit. Pure (see the rules on top). Return MF_OK, or MF_EPARSE
	 * when the page cannot be understood: the whole payload is then refused
	 * and the last good data kept.
	 */
	int (*normalize)(const struct mf_host *host, struct mf_context *ctx, void *state,
			 const struct mf_page *page);

	/* MAY be NULL. Free the state. */
	void (*fini)(const struct mf_host *host, struct mf_context *ctx, void *state);
};

#ifdef __cplusplus
}
#endif

#endif /* MODELFUSE_PLUGIN_H */
