/*
 * anyllm: private interfaces between the files of the plugin. Nothing here
 * is exported from the .so (the plugin is built -fvisibility=hidden); the
 * functions are only shared between anyllm.c (options, auth, paging), the
 * shared field readers in common.c and one file per listing format.
 */
#ifndef ANYLLM_H
#define ANYLLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <modelfuse/plugin.h>

/* Warnings per page before the rest are only counted. */
#define ANYLLM_MAX_WARNINGS 20

/* Largest page size the paged APIs accept (Anthropic `limit`, Gemini
 * `pageSize`). */
#define ANYLLM_MAX_PAGE_LIMIT 1000

enum anyllm_kind {
	ANYLLM_OPENAI = 0,
	ANYLLM_OPENAI_COMPATIBLE,
	ANYLLM_ANTHROPIC,
	ANYLLM_GEMINI,
	ANYLLM_MISTRAL,
};

/* One instance, from init to fini. Option strings are borrowed from the
 * core, which keeps them valid until fini. */
struct anyllm_state {
	enum anyllm_kind kind;
	const char *provider;
	const char *url;
	bool file_url;
	/* The credential header; auth_name NULL: no credential is sent. The
	 * value holds the key, so it is wiped before it is freed. */
	const char *auth_name;
	char *auth_value;
	size_t auth_size;
	const char *anthropic_version;
	int64_t page_limit; /* 0: let the server choose */
	char *cursor;	    /* the cursor of the page last planned, NULL: none */
};

/* One normalize call: what is being read, for messages. */
struct anyllm_walk {
	const struct mf_host *host;
	struct mf_context *ctx;
	const struct anyllm_state *st;
	const char *id; /* the entry being read, NULL between entries */
	unsigned warnings;
	int rc; /* first fatal setter failure (out of memory), else MF_OK */
};

/* ------------------------------------------------------------ common.c */

void anyllm_warn(struct anyllm_walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *anyllm_type_name(const json_t *v);
/* Remember an out-of-memory, report any other refusal of a setter. */
void anyllm_check(struct anyllm_walk *w, int rc, const char *what);

/* Parse one page strictly enough to trust it; NULL (logged) when the bytes
 * are not a JSON document or are an upstream error object. */
json_t *anyllm_parse_page(const struct mf_host *host, struct mf_context *ctx,
			  const struct mf_page *page);

/* A new offering of the instance's provider, marked callable. NULL when out
 * of memory (w->rc is set). */
struct mf_record *anyllm_record_new(struct anyllm_walk *w, const char *id);
/* Hand rec to the core; returns MF_OK or a status that ends the page. */
int anyllm_emit(struct anyllm_walk *w, struct mf_record *rec);
/* An entry without a usable id: warn, and hand the core an id-less record
 * so that it drops and counts it like every such record. */
int anyllm_drop(struct anyllm_walk *w, size_t position, const char *why);
/* The entry's string id, or NULL when it has none (the entry is dropped). */
const char *anyllm_entry_id(struct anyllm_walk *w, const json_t *entry, const char *key,
			    size_t position, int *rc);

/* Field readers: absent and null mean unknown; a wrong type skips only the
 * field, with a warning naming it. */
void anyllm_string(struct anyllm_walk *w, struct mf_record *rec, const json_t *obj, const char *key,
		   enum mf_field field);
void anyllm_bool(struct anyllm_walk *w, struct mf_record *rec, const json_t *obj, const char *key,
		 enum mf_field field);
/* A token count; 0 is unknown and left unset. Returns true when set. */
bool anyllm_tokens(struct anyllm_walk *w, struct mf_record *rec, const json_t *obj, const char *key,
		   enum mf_field field);
void anyllm_string_list(struct anyllm_walk *w, struct mf_record *rec, const json_t *obj,
			const char *key, enum mf_field field);
/* A date or timestamp string; its YYYY-MM-DD prefix goes into field.
 * Returns true when set. */
bool anyllm_date(struct anyllm_walk *w, struct mf_record *rec, const json_t *obj, const char *key,
		 enum mf_field field);
/* Unix seconds -> MF_FIELD_CREATED as ISO 8601 UTC. */
void anyllm_created_unix(struct anyllm_walk *w, struct mf_record *rec, const json_t *obj,
			 const char *key);
/* `owned_by` as MF_FIELD_MAKER, unless it names an account, not a maker. */
void anyllm_owned_by(struct anyllm_walk *w, struct mf_record *rec, const json_t *entry);
bool anyllm_is_maker(const char *owned_by);
/* A capabilities object of booleans (Mistral, ZenMux and alike). */
void anyllm_capability_flags(struct anyllm_walk *w, struct mf_record *rec, const json_t *caps);

/* ------------------------------------------------------ one per format */

int anyllm_openai_page(struct anyllm_walk *w, const json_t *root);
int anyllm_anthropic_page(struct anyllm_walk *w, const json_t *root);
int anyllm_gemini_page(struct anyllm_walk *w, const json_t *root);
int anyllm_mistral_page(struct anyllm_walk *w, const json_t *root);

#endif
