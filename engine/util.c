#include "mf_build_config.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static void out_of_memory(size_t n)
{
	fprintf(stderr, "modelfuse: error: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory(n);
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (!p)
		out_of_memory(count * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		out_of_memory(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		out_of_memory(0);
	return s;
}

/* ------------------------------------------------------------- strbuf */

void strbuf_init(struct strbuf *sb)
{
	sb->data = NULL;
	sb->len = 0;
	sb->cap = 0;
}

static void strbuf_grow(struct strbuf *sb, size_t extra)
{
	if (sb->len + extra + 1 <= sb->cap)
		return;
	size_t cap = sb->cap ? sb->cap : 64;
	while (cap < sb->len + extra + 1)
		cap *= 2;
	sb->data = xrealloc(sb->data, cap);
	sb->cap = cap;
}

void strbuf_append(struct strbuf *sb, const void *data, size_t len)
{
	strbuf_grow(sb, len);
	if (len)
		memcpy(sb->data + sb->len, data, len);
	sb->len += len;
	sb->data[sb->len] = '\0';
}

void strbuf_puts(struct strbuf *sb, const char *s)
{
	strbuf_append(sb, s, strlen(s));
}

void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0) {
		strbuf_grow(sb, (size_t)n);
		vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap2);
		sb->len += (size_t)n;
	}
	va_end(ap2);
}

char *strbuf_detach(struct strbuf *sb)
{
	char *d = sb->data ? sb->data : xstrdup("");
	strbuf_init(sb);
	return d;
}

void strbuf_free(struct strbuf *sb)
{
	free(sb->data);
	strbuf_init(sb);
}

/* ------------------------------------------------------------- errors */

void errors_add(struct errors *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		out_of_memory(0);
	va_end(ap);
	e->msgs = xrealloc(e->msgs, (e->count + 1) * sizeof *e->msgs);
	e->msgs[e->count++] = s;
}

void errors_print(const struct errors *e)
{
	for (size_t i = 0; i < e->count; i++)
		log_error("%s", e->msgs[i]);
}

bool errors_contains(const struct errors *e, const char *needle)
{
	for (size_t i = 0; i < e->count; i++)
		if (strstr(e->msgs[i], needle))
			return true;
	return false;
}

void errors_free(struct errors *e)
{
	for (size_t i = 0; i < e->count; i++)
		free(e->msgs[i]);
	free(e->msgs);
	e->msgs = NULL;
	e->count = 0;
}

/* ------------------------------------------------------------- files */

int atomic_open(struct atomic_file *af, const char *path, char *err, size_t errlen)
{
	af->path = xstrdup(path);
	af->tmp_path = xasprintf("%s.tmp.XXXXXX", path);
	af->fp = NULL;
	af->fd = mkstemp(af->tmp_path);
	if (af->fd < 0) {
		snprintf(err, errlen, "cannot create a temporary file beside %s: %s", path,
			 strerror(errno));
		free(af->path);
		free(af->tmp_path);
		af->path = af->tmp_path = NULL;
		return -1;
	}
	/* mkstemp creates 0600; outputs are meant to be read by others. */
	fchmod(af->fd, 0644);
	af->fp = fdopen(af->fd, "w");
	if (!af->fp) {
		snprintf(err, errlen, "%s: %s", af->tmp_path, strerror(errno));
		close(af->fd);
		unlink(af->tmp_path);
		free(af->path);
		free(af->tmp_path);
		af->path = af->tmp_path = NULL;
		return -1;
	}
	return 0;
}

void *atomic_stream(struct atomic_file *af)
{
	return af->fp;
}

static void fsync_parent_dir(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

static int commit_file(struct atomic_file *af, bool sync_dir, char *err, size_t errlen)
{
	FILE *f = af->fp;
	int rc = 0;
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
		snprintf(err, errlen, "writing %s: %s", af->path, strerror(errno));
		rc = -1;
	}
	if (fclose(f) != 0 && rc == 0) {
		snprintf(err, errlen, "writing %s: %s", af->path, strerror(errno));
		rc = -1;
	}
	af->fp = NULL;
	if (rc == 0 && rename(af->tmp_path, af->path) != 0) {
		snprintf(err, errlen, "renaming %s to %s: %s", af->tmp_path, af->path,
			 strerror(errno));
		rc = -1;
	}
	if (rc != 0)
		unlink(af->tmp_path);
	else if (sync_dir)
		fsync_parent_dir(af->path);
	free(af->path);
	free(af->tmp_path);
	af->path = af->tmp_path = NULL;
	return rc;
}

int atomic_commit(struct atomic_file *af, char *err, size_t errlen)
{
	return commit_file(af, true, err, errlen);
}

int atomic_commit_set(struct atomic_file *files, size_t n, char *err, size_t errlen)
{
	if (n == 0)
		return 0;
	/* The folder's entry for the first file tells where they all are. */
	char *first = xstrdup(files[0].path);
	size_t i = 0;
	int rc = 0;
	for (; i < n && rc == 0; i++)
		rc = commit_file(&files[i], false, err, errlen);
	for (; i < n; i++)
		atomic_abort(&files[i]);
	/* Renames that did happen are made durable even after a failure. */
	fsync_parent_dir(first);
	free(first);
	return rc;
}

void remove_stale_temporaries(const char *dir, const char *const *names, size_t n)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		for (size_t i = 0; i < n; i++) {
			size_t len = strlen(names[i]);
			if (strncmp(e->d_name, names[i], len) != 0 ||
			    strncmp(e->d_name + len, ".tmp.", 5) != 0)
				continue;
			char *path = xasprintf("%s/%s", dir, e->d_name);
			if (unlink(path) == 0)
				log_info("removed %s, left by an interrupted run", path);
			free(path);
			break;
		}
	}
	closedir(d);
}

void atomic_abort(struct atomic_file *af)
{
	if (af->fp)
		fclose(af->fp);
	af->fp = NULL;
	if (af->tmp_path)
		unlink(af->tmp_path);
	free(af->path);
	free(af->tmp_path);
	af->path = af->tmp_path = NULL;
}

char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct strbuf sb;
	strbuf_init(&sb);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		strbuf_append(&sb, chunk, n);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(f);
		strbuf_free(&sb);
		return NULL;
	}
	fclose(f);
	if (len)
		*len = sb.len;
	return strbuf_detach(&sb);
}

int mkdir_p(const char *path)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	int rc = 0;
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

void utc_now_iso(char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ------------------------------------------------------------- parsing */

bool parse_int64(const char *s, int64_t *out)
{
	if (!s || !*s || isspace((unsigned char)*s))
		return false;
	errno = 0;
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return false;
	*out = (int64_t)v;
	return true;
}

bool parse_double(const char *s, double *out)
{
	if (!s || !*s || isspace((unsigned char)*s))
		return false;
	errno = 0;
	char *end = NULL;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v))
		return false;
	*out = v;
	return true;
}

bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	if (!s)
		return false;
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

char *str_lower(const char *s)
{
	char *p = xstrdup(s);
	for (char *c = p; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return p;
}

bool str_starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ------------------------------------------------------------- arena */

struct arena_block {
	struct arena_block *next;
	char data[];
};

#define ARENA_BLOCK (64 * 1024 - 64)

/* n bytes from the current block, or from a new one (a string larger than
 * a block gets its own). */
static char *arena_take(struct arena *a, size_t n)
{
	if (n > a->left) {
		size_t size = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;
		struct arena_block *b = xmalloc(sizeof *b + size);
		b->next = a->blocks;
		a->blocks = b;
		if (size == n)
			return b->data;
		a->next = b->data;
		a->left = size;
	}
	char *p = a->next;
	a->next += n;
	a->left -= n;
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(arena_take(a, n), s, n);
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap, again;
	va_start(ap, fmt);
	va_copy(again, ap);
	char buf[256];
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0) {
		va_end(again);
		return arena_strdup(a, "");
	}
	char *s = arena_take(a, (size_t)n + 1);
	if ((size_t)n < sizeof buf)
		memcpy(s, buf, (size_t)n + 1);
	else
		vsnprintf(s, (size_t)n + 1, fmt, again);
	va_end(again);
	return s;
}

void arena_free(struct arena *a)
{
	while (a->blocks) {
		struct arena_block *b = a->blocks;
		a->blocks = b->next;
		free(b);
	}
	*a = (struct arena){0};
}

/* ------------------------------------------------------------- strmap */

uint64_t hash_mem(const void *data, size_t len)
{
	/* 8 bytes at a time, multiply and fold, then a final mix: ids and
	 * keys are short but hashed millions of times at scale. */
	const unsigned char *p = data;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	uint64_t w = 0;
	memcpy(&w, p + i, len - i);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 32;
	return h;
}

uint64_t hash_str(const char *s)
{
	return hash_mem(s, strlen(s));
}

void strmap_init(struct strmap *m)
{
	*m = (struct strmap){0};
}

static size_t strmap_cap_for(size_t n)
{
	size_t cap = 64;
	/* Below the 3/4 load at which strmap_put grows. */
	while (cap * 3 <= (n + 1) * 4)
		cap *= 2;
	return cap;
}

void strmap_init_sized(struct strmap *m, size_t n)
{
	strmap_init(m);
	m->cap = strmap_cap_for(n);
	m->slots = xcalloc(m->cap, sizeof *m->slots);
}

void strmap_init_borrowed(struct strmap *m, size_t n)
{
	strmap_init_sized(m, n);
	m->borrowed = true;
}

static struct strmap_entry *strmap_slot(const struct strmap *m, const char *key, uint64_t h)
{
	size_t mask = m->cap - 1;
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		struct strmap_entry *e = &m->slots[i];
		if (!e->key || (e->hash == h && strcmp(e->key, key) == 0))
			return e;
	}
}

void *strmap_get(const struct strmap *m, const char *key)
{
	if (m->cap == 0)
		return NULL;
	struct strmap_entry *e = strmap_slot(m, key, hash_str(key));
	return e->key ? e->value : NULL;
}

static void strmap_rehash(struct strmap *m, size_t cap)
{
	struct strmap old = *m;
	m->slots = xcalloc(cap, sizeof *m->slots);
	m->cap = cap;
	size_t mask = cap - 1;
	for (size_t i = 0; i < old.cap; i++) {
		if (!old.slots[i].key)
			continue;
		size_t k = (size_t)old.slots[i].hash & mask;
		while (m->slots[k].key)
			k = (k + 1) & mask;
		m->slots[k] = old.slots[i];
	}
	free(old.slots);
}

void *strmap_put(struct strmap *m, const char *key, void *value)
{
	if ((m->count + 1) * 4 >= m->cap * 3)
		strmap_rehash(m, m->cap ? m->cap * 2 : 64);
	uint64_t h = hash_str(key);
	struct strmap_entry *e = strmap_slot(m, key, h);
	if (e->key) {
		void *prev = e->value;
		e->value = value;
		return prev;
	}
	e->key = m->borrowed ? (char *)key : xstrdup(key);
	e->value = value;
	e->hash = h;
	m->count++;
	return NULL;
}

void strmap_free(struct strmap *m, void (*free_value)(void *))
{
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->slots[i].key)
			continue;
		if (!m->borrowed)
			free(m->slots[i].key);
		if (free_value)
			free_value(m->slots[i].value);
	}
	free(m->slots);
	strmap_init(m);
}
