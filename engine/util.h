/* Small helpers shared by the core: allocation that aborts on OOM, growable
 * strings, error lists, atomic file writes. */
#ifndef MF_UTIL_H
#define MF_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Allocation failure in the core is not recoverable in any useful way; these
 * print one line and abort rather than spreading NULL checks everywhere. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable byte/string buffer; data is always NUL-terminated. */
struct strbuf {
	char *data;
	size_t len;
	size_t cap;
};
void strbuf_init(struct strbuf *sb);
void strbuf_append(struct strbuf *sb, const void *data, size_t len);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *strbuf_detach(struct strbuf *sb); /* caller frees; sb is reset */
void strbuf_free(struct strbuf *sb);

/* Strings made one after another in large blocks and freed all at once:
 * for many small strings that live and die together (the mapping's ids),
 * without an allocation header each. */
struct arena {
	struct arena_block *blocks;
	char *next;
	size_t left;
};
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arena_free(struct arena *a); /* every string of a; a is empty again */

/* A list of error messages, collected so that all problems of a config file
 * are reported at once and tests can assert on them. */
struct errors {
	char **msgs;
	size_t count;
};
void errors_add(struct errors *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void errors_print(const struct errors *e); /* each through log_error */
bool errors_contains(const struct errors *e, const char *needle); /* substring match */
void errors_free(struct errors *e);

/* Write a file atomically: temporary file in the same folder, fsync, rename,
 * fsync of the folder. The writer callback streams the content into f and
 * returns 0 on success. On any failure the old file is untouched and a
 * message is put in err. */
struct atomic_file {
	char *path;
	char *tmp_path;
	int fd;
	void *fp; /* FILE * */
};
int atomic_open(struct atomic_file *af, const char *path, char *err, size_t errlen);
/* Returns the FILE * to write to. */
void *atomic_stream(struct atomic_file *af);
int atomic_commit(struct atomic_file *af, char *err, size_t errlen);
void atomic_abort(struct atomic_file *af);
/* Commit files written in one folder as a set: each flushed to disk and
 * renamed in order, the folder synced once at the end. On a failure the
 * files not yet renamed are removed (err says why). Every file is closed
 * and freed either way. */
int atomic_commit_set(struct atomic_file *files, size_t n, char *err, size_t errlen);

/* A run killed while writing leaves "NAME.tmp.XXXXXX" files (atomic_open)
 * beside the files it replaces. The caller holds the run lock, so none can
 * belong to a live run: remove those of the given names, each logged. */
void remove_stale_temporaries(const char *dir, const char *const *names, size_t n);

/* Read a whole file; returns NULL and sets err on failure. *len gets its size. */
char *read_file(const char *path, size_t *len, char *err, size_t errlen);

/* mkdir -p with mode 0755; returns 0 or -1 with errno set. */
int mkdir_p(const char *path);

/* Current UTC time as "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 21 bytes). */
void utc_now_iso(char *buf, size_t len);

/* Strict number parsing: whole string, no trailing junk, range-checked. */
bool parse_int64(const char *s, int64_t *out);
bool parse_double(const char *s, double *out);
bool parse_bool(const char *s, bool *out);

/* ASCII lowercase copy. */
char *str_lower(const char *s);
bool str_starts_with(const char *s, const char *prefix);

/* Simple open-addressing string hash map (string -> pointer). Keys are
 * copied unless the map was made with strmap_init_borrowed. Used by mapper
 * and merge so that nothing is quadratic. */
struct strmap_entry {
	char *key;
	void *value;
	uint64_t hash; /* of key: probes and growth compare no bytes for it */
};
struct strmap {
	struct strmap_entry *slots;
	size_t cap;
	size_t count;
	bool borrowed; /* keys belong to the caller */
};
void strmap_init(struct strmap *m);
/* Room for n keys before the table first grows: a caller that knows how
 * many keys come rehashes nothing. */
void strmap_init_sized(struct strmap *m, size_t n);
/* Keys are not copied: each must stay unchanged while the map lives. */
void strmap_init_borrowed(struct strmap *m, size_t n);
void *strmap_get(const struct strmap *m, const char *key);
/* Inserts or replaces; returns the previous value or NULL. */
void *strmap_put(struct strmap *m, const char *key, void *value);
void strmap_free(struct strmap *m, void (*free_value)(void *));
uint64_t hash_str(const char *s);
uint64_t hash_mem(const void *data, size_t len);

#endif
