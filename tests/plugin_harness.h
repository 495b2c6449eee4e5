/* Scaffolding shared by the plugin tests. Each plugin's test program
 * compiles that one plugin in and drives its descriptor through the real
 * host table and record code; the harness knows no plugin, so every call
 * that reaches one takes the descriptor as an argument.
 *
 * Helpers that check something with CUnit say so below: their assertions
 * count in the run summary like the test's own, so a test keeps the same
 * number of assertions whether it checks by hand or through the harness. */
#ifndef MF_PLUGIN_HARNESS_H
#define MF_PLUGIN_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "fetch.h"
#include "host.h"
#include "record.h"

/* Options a configured instance can hold in the harness. */
#define PH_MAX_OPTIONS 16

/* ------------------------------------------------------------ stderr */

/* The host logs on stderr: point it at a file while the plugin runs, so a
 * test can assert on what was logged. */
struct ph_capture {
	int saved_fd;
	char *dir;
	char *path;
};

/* One assertion (fatal): the capture file could be opened. */
void ph_capture_begin(struct ph_capture *c);
/* Restores stderr; returns what was logged meanwhile ("" for nothing),
 * caller frees. */
char *ph_capture_end(struct ph_capture *c);

/* ------------------------------------------------------------ input */

/* The text of $MF_TEST_SRCDIR/rel, caller frees. One assertion (fatal):
 * the file could be read. */
char *ph_fixture(const char *rel);

/* A fetched page as the core hands it over: HTTP 200, no headers. */
struct mf_page ph_page(unsigned index, const char *url, const char *data, size_t size);

/* ------------------------------------------------------------ one normalize call */

/* The outcome of one normalize call and what came with it. */
struct ph_run {
	int init_rc; /* MF_OK when no init was called */
	int rc;
	struct record_array records;
	struct mf_context ctx;
	char *log; /* everything logged on stderr meanwhile; NULL before a call */
	/* The run's own copy of the [source] section it was given, so the
	 * context may point at it after the caller's copy is gone. */
	struct source_config src;
	struct option_value opts[PH_MAX_OPTIONS];
};

/* A context for p with records going to r->records, and no call made.
 * src NULL: no [source] section (options give their declared defaults and
 * the instance is named after the plugin); else src is copied (its strings
 * stay borrowed). */
void ph_run_setup(struct ph_run *r, const struct mf_plugin *p, const struct source_config *src);

/* Normalize one page of data at url with stderr captured into r->log.
 * Without src the normalizer runs alone, with no state; with src the
 * instance runs as the core's child does: init, normalize when init
 * succeeded (r->rc is init's code otherwise), fini. Asserts as
 * ph_capture_begin does. */
void ph_normalize_bytes(struct ph_run *r, const struct mf_plugin *p, const struct source_config *src,
			const char *url, const char *data, size_t size);
/* The same on the fixture file rel; asserts as ph_fixture does, then as
 * ph_normalize_bytes. */
void ph_normalize_fixture(struct ph_run *r, const struct mf_plugin *p,
			  const struct source_config *src, const char *url, const char *rel);
void ph_run_free(struct ph_run *r);

/* ------------------------------------------------------------ a configured instance */

/* One instance configured as a [source NAME] section would configure it,
 * kept over several calls (init, fetch after fetch, normalize). */
struct ph_source {
	const struct mf_plugin *plugin;
	struct source_config src;
	struct option_value opts[PH_MAX_OPTIONS];
	struct mf_context ctx;
	struct record_array records;
	void *state;
	int init_rc;
	bool initialized; /* init returned MF_OK: fini is due */
	char *log;        /* free for the caller's use; freed by ph_source_free */
};

/* Set up without calling anything of the plugin. url NULL: the plugin's
 * default. kv: "key", "value", ..., NULL (may be NULL); one assertion
 * (fatal) per pair: it fits. */
void ph_source_setup(struct ph_source *s, const struct mf_plugin *p, const char *name,
		     const char *url, const char *const *kv);
/* Add one option; the caller knows it fits (aborts otherwise). */
void ph_source_option(struct ph_source *s, const char *key, const char *value);
/* Call init and return its code. With log, what init logs is captured into
 * *log (caller frees; asserts as ph_capture_begin does); without, it goes
 * to stderr. */
int ph_source_init(struct ph_source *s, char **log);
/* Normalize a page at url with the instance's state; records go to
 * s->records, the log to stderr. */
int ph_source_normalize(struct ph_source *s, const char *url, const char *data, size_t size);
/* fini when init succeeded, then free the records and s->log. */
void ph_source_free(struct ph_source *s);

/* ------------------------------------------------------------ descriptor */

/* The descriptor has this host's ABI and size, and is named name (four
 * assertions). */
void ph_expect_descriptor(const struct mf_plugin *p, const char *name);

/* ------------------------------------------------------------ fetch planning */

/* Call fetch after prev (NULL: the first call) and check the plan. want
 * set: it returns MF_OK and a URL (fatal) equal to want (three
 * assertions); want NULL: it returns MF_DONE and no URL (two). Returns how
 * many headers were planned. */
size_t ph_expect_fetch(const struct mf_plugin *p, struct mf_context *ctx, void *state,
		       const struct mf_page *prev, const char *want);
/* After a first page at url, fetch plans nothing more (two assertions). */
void ph_expect_last_page(const struct mf_plugin *p, struct mf_context *ctx, void *state,
			 const char *url);
/* A source of one page: without a configured URL fetch plans default_url
 * and no header, with one it plans that, then nothing follows and no
 * record was emitted (ten assertions). */
void ph_expect_single_page(const struct mf_plugin *p, const char *default_url,
			   const char *configured_url);

/* ------------------------------------------------------------ records */

/* The first record with this native id; NULL when there is none. */
const struct mf_record *ph_find(const struct record_array *a, const char *id);
/* The same, of this provider. */
const struct mf_record *ph_find_at(const struct record_array *a, const char *provider,
				   const char *id);
/* The same, of this kind; provider NULL: any. */
const struct mf_record *ph_find_kind(const struct record_array *a, enum mf_record_kind kind,
				     const char *provider, const char *id);

/* Field checks: true when rec is there and the field holds what is asked.
 * A list asked to hold no item (n == 0) may also be absent. */
bool ph_string_is(const struct mf_record *rec, enum mf_field field, const char *want);
bool ph_int_is(const struct mf_record *rec, enum mf_field field, int64_t want);
bool ph_int_set(const struct mf_record *rec, enum mf_field field);
bool ph_bool_is(const struct mf_record *rec, enum mf_field field, bool want);
bool ph_bool_set(const struct mf_record *rec, enum mf_field field);
bool ph_real_is(const struct mf_record *rec, enum mf_field field, double want);
bool ph_list_is(const struct mf_record *rec, enum mf_field field, const char *const *want,
		size_t n);
bool ph_list_has(const struct mf_record *rec, enum mf_field field, const char *want);
size_t ph_list_count(const struct mf_record *rec, enum mf_field field);
/* Map values compare exactly on purpose: a conversion must give the very
 * double the decimal literal denotes. */
bool ph_map_is(const struct mf_record *rec, enum mf_field field, const char *key, double want);
bool ph_map_has(const struct mf_record *rec, enum mf_field field, const char *key);
size_t ph_map_count(const struct mf_record *rec, enum mf_field field);
bool ph_price_is(const struct mf_record *rec, const char *key, double want);
bool ph_score_is(const struct mf_record *rec, const char *key, double want);
/* Does needle appear anywhere in rec: id, strings, list items, map keys? */
bool ph_record_mentions(const struct mf_record *rec, const char *needle);

/* ------------------------------------------------------------ logs */

/* Lines of text holding needle, and lines in all. */
unsigned ph_count_lines(const char *text, const char *needle);
unsigned ph_total_lines(const char *text);
/* A capped warning: between lo and hi lines hold needle, one more line
 * says how many of total were not shown, and nothing else was logged
 * (three assertions). */
void ph_expect_capped(const char *log, const char *needle, unsigned lo, unsigned hi,
		      unsigned total);

#endif
