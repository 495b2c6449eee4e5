#include "mf_build_config.h"
#include "cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define MANIFEST "manifest.json"
#define STREAM_HEADER_LEN MF_STREAM_HEADER_LEN
/* The same bound as the stream decoder's: a damaged length word must not
 * make the copier skip or read gigabytes. */
#define MAX_FRAME MF_STREAM_MAX_FRAME

/* ------------------------------------------------------------- sha256 */

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static inline uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* One round, written for rotating names instead of moving eight values:
 * the caller passes the working variables shifted by one each time. */
#define SHA_ROUND(a, b, c, d, e, f, g, h, k, w)                                                    \
	do {                                                                                       \
		uint32_t t1_ = (h) + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) +                       \
			       ((g) ^ ((e) & ((f) ^ (g)))) + (k) + (w);                            \
		(d) += t1_;                                                                        \
		(h) = t1_ + (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) +                                \
		      (((a) & (b)) | ((c) & ((a) | (b))));                                         \
	} while (0)

#define SHA_EIGHT(i)                                                                               \
	do {                                                                                       \
		SHA_ROUND(a, b, c, d, e, f, g, h, sha256_k[(i) + 0], w[(i) + 0]);                  \
		SHA_ROUND(h, a, b, c, d, e, f, g, sha256_k[(i) + 1], w[(i) + 1]);                  \
		SHA_ROUND(g, h, a, b, c, d, e, f, sha256_k[(i) + 2], w[(i) + 2]);                  \
		SHA_ROUND(f, g, h, a, b, c, d, e, sha256_k[(i) + 3], w[(i) + 3]);                  \
		SHA_ROUND(e, f, g, h, a, b, c, d, sha256_k[(i) + 4], w[(i) + 4]);                  \
		SHA_ROUND(d, e, f, g, h, a, b, c, sha256_k[(i) + 5], w[(i) + 5]);                  \
		SHA_ROUND(c, d, e, f, g, h, a, b, sha256_k[(i) + 6], w[(i) + 6]);                  \
		SHA_ROUND(b, c, d, e, f, g, h, a, sha256_k[(i) + 7], w[(i) + 7]);                  \
	} while (0)

/* The portable compression of n consecutive 64-byte blocks: the whole
 * schedule first, then the rounds eight at a time, so that no value moves
 * between the working variables. */
static void sha256_blocks_portable(uint32_t state[8], const uint8_t *p, size_t n)
{
	for (; n > 0; n--, p += 64) {
		uint32_t w[64];
		for (int i = 0; i < 16; i++)
			w[i] = load_be32(p + 4 * i);
		for (int i = 16; i < 64; i++) {
			uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
			uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
			w[i] = w[i - 16] + s0 + w[i - 7] + s1;
		}
		uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
		uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
		for (int i = 0; i < 64; i += 8)
			SHA_EIGHT(i);
		state[0] += a;
		state[1] += b;
		state[2] += c;
		state[3] += d;
		state[4] += e;
		state[5] += f;
		state[6] += g;
		state[7] += h;
	}
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define SHA256_HAVE_SHANI 1
#include <cpuid.h>
#include <immintrin.h>

/* Four rounds with the SHA extensions. cur holds the message words of
 * these rounds; when next_ is given it is finished from cur and prev
 * (sha256msg2), and when older is given it is started (sha256msg1), so the
 * schedule runs three groups ahead of the rounds. */
#define SHANI_FOUR(g, cur, prev, next_, older, do_msg2, do_msg1)                                   \
	do {                                                                                       \
		__m128i m_ = _mm_add_epi32(                                                        \
		    cur, _mm_loadu_si128((const __m128i *)(const void *)&sha256_k[4 * (g)]));      \
		cdgh = _mm_sha256rnds2_epu32(cdgh, abef, m_);                                      \
		if (do_msg2)                                                                       \
			next_ = _mm_sha256msg2_epu32(                                              \
			    _mm_add_epi32(next_, _mm_alignr_epi8(cur, prev, 4)), cur);             \
		abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(m_, 0x0e));             \
		if (do_msg1)                                                                       \
			older = _mm_sha256msg1_epu32(older, cur);                                  \
	} while (0)

/* The SHA-NI compression (Intel SHA extensions, with SSSE3 byte shuffles
 * and an SSE4.1 blend). The state registers hold the words in the order
 * the instructions want: ABEF and CDGH. */
__attribute__((target("sha,sse4.1"))) static void sha256_blocks_shani(uint32_t state[8],
								      const uint8_t *p, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
	__m128i dcba = _mm_loadu_si128((const __m128i *)(const void *)&state[0]);
	__m128i hgfe = _mm_loadu_si128((const __m128i *)(const void *)&state[4]);
	__m128i badc = _mm_shuffle_epi32(dcba, 0xb1);
	__m128i efgh = _mm_shuffle_epi32(hgfe, 0x1b);
	__m128i abef = _mm_alignr_epi8(badc, efgh, 8);
	__m128i cdgh = _mm_blend_epi16(efgh, badc, 0xf0);
	for (; n > 0; n--, p += 64) {
		const __m128i abef_in = abef, cdgh_in = cdgh;
		__m128i w0 =
		    _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), bswap);
		__m128i w1 = _mm_shuffle_epi8(
		    _mm_loadu_si128((const __m128i *)(const void *)(p + 16)), bswap);
		__m128i w2 = _mm_shuffle_epi8(
		    _mm_loadu_si128((const __m128i *)(const void *)(p + 32)), bswap);
		__m128i w3 = _mm_shuffle_epi8(
		    _mm_loadu_si128((const __m128i *)(const void *)(p + 48)), bswap);
		/* Group g uses w[g%4], finishes w[(g+1)%4] (3 <= g <= 14) and
		 * starts w[(g-1)%4] (1 <= g <= 12). */
		SHANI_FOUR(0, w0, w3, w1, w3, 0, 0);
		SHANI_FOUR(1, w1, w0, w2, w0, 0, 1);
		SHANI_FOUR(2, w2, w1, w3, w1, 0, 1);
		SHANI_FOUR(3, w3, w2, w0, w2, 1, 1);
		SHANI_FOUR(4, w0, w3, w1, w3, 1, 1);
		SHANI_FOUR(5, w1, w0, w2, w0, 1, 1);
		SHANI_FOUR(6, w2, w1, w3, w1, 1, 1);
		SHANI_FOUR(7, w3, w2, w0, w2, 1, 1);
		SHANI_FOUR(8, w0, w3, w1, w3, 1, 1);
		SHANI_FOUR(9, w1, w0, w2, w0, 1, 1);
		SHANI_FOUR(10, w2, w1, w3, w1, 1, 1);
		SHANI_FOUR(11, w3, w2, w0, w2, 1, 1);
		SHANI_FOUR(12, w0, w3, w1, w3, 1, 1);
		SHANI_FOUR(13, w1, w0, w2, w0, 1, 0);
		SHANI_FOUR(14, w2, w1, w3, w1, 1, 0);
		SHANI_FOUR(15, w3, w2, w0, w2, 0, 0);
		abef = _mm_add_epi32(abef, abef_in);
		cdgh = _mm_add_epi32(cdgh, cdgh_in);
	}
	__m128i feba = _mm_shuffle_epi32(abef, 0x1b);
	__m128i dchg = _mm_shuffle_epi32(cdgh, 0xb1);
	_mm_storeu_si128((__m128i *)(void *)&state[0], _mm_blend_epi16(feba, dchg, 0xf0));
	_mm_storeu_si128((__m128i *)(void *)&state[4], _mm_alignr_epi8(dchg, feba, 8));
}
#endif

/* The compression in use, chosen on the first sha256_init. */
static void (*sha256_blocks)(uint32_t state[8], const uint8_t *p, size_t n);

static bool sha256_cpu_has_shani(void)
{
#ifdef SHA256_HAVE_SHANI
	/* GCC's __builtin_cpu_supports knows "sha", clang 14's does not:
	 * CPUID leaf 7 says it for both (EBX bit 29). */
	unsigned a = 0, b = 0, c = 0, d = 0;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 29)))
		return false;
	__builtin_cpu_init();
	return __builtin_cpu_supports("sse4.1");
#else
	return false;
#endif
}

bool sha256_use_accel(bool want)
{
	bool accel = false;
#ifdef SHA256_HAVE_SHANI
	accel = want && sha256_cpu_has_shani();
	sha256_blocks = accel ? sha256_blocks_shani : sha256_blocks_portable;
#else
	(void)want;
	sha256_blocks = sha256_blocks_portable;
#endif
	return accel;
}

void sha256_init(struct sha256 *s)
{
	static const uint32_t init[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	if (!sha256_blocks)
		sha256_use_accel(true);
	memcpy(s->h, init, sizeof init);
	s->bytes = 0;
	s->used = 0;
}

void sha256_update(struct sha256 *s, const void *data, size_t n)
{
	const uint8_t *p = data;
	s->bytes += n;
	if (s->used > 0) {
		size_t take = 64 - s->used < n ? 64 - s->used : n;
		memcpy(s->block + s->used, p, take);
		s->used += take;
		p += take;
		n -= take;
		if (s->used < 64)
			return;
		sha256_blocks(s->h, s->block, 1);
		s->used = 0;
	}
	/* Whole blocks straight from the caller's buffer. */
	if (n >= 64) {
		sha256_blocks(s->h, p, n / 64);
		p += n & ~(size_t)63;
		n &= 63;
	}
	memcpy(s->block, p, n);
	s->used = n;
}

void sha256_final_hex(struct sha256 *s, char hex[65])
{
	uint64_t bits = s->bytes * 8;
	uint8_t tail[128] = {0x80};
	/* 0x80, zeros up to 56 bytes mod 64, then the length in bits. */
	size_t pad = s->used < 56 ? 56 - s->used : 120 - s->used;
	for (int i = 0; i < 8; i++)
		tail[pad + i] = (uint8_t)(bits >> (56 - 8 * i));
	sha256_update(s, tail, pad + 8);
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 8; i++)
		for (int k = 0; k < 8; k++)
			hex[8 * i + k] = digits[(s->h[i] >> (28 - 4 * k)) & 15];
	hex[64] = '\0';
}

/* ------------------------------------------------------------- helpers */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void rm_rf(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static void free_headers(struct http_header *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

static void cache_page_free(struct cache_page *p)
{
	free(p->file);
	free(p->url);
	free_headers(p->headers, p->n_headers);
	*p = (struct cache_page){0};
}

void cache_manifest_free(struct cache_manifest *m)
{
	free(m->url);
	free(m->fetched_at);
	free(m->etag);
	free(m->last_modified);
	free(m->sha256);
	for (size_t i = 0; i < m->n_pages; i++)
		cache_page_free(&m->pages[i]);
	free(m->pages);
	free(m->records_file);
	free(m->plugin);
	free(m->plugin_version);
	free(m->options_hash);
	*m = (struct cache_manifest){0};
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static bool str_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

char *cache_file_path(const struct cache *c, const char *file)
{
	return xasprintf("%s/%s", c->dir, file);
}

/* A file name a manifest may give: one plain name with our prefix, so a
 * tampered manifest cannot point outside the folder. */
static bool plain_name(const char *name, const char *prefix)
{
	return name && str_starts_with(name, prefix) && !strchr(name, '/') &&
	       strlen(name) > strlen(prefix);
}

/* ------------------------------------------------------------- manifest: reading */

static const char *jstring(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool juint(json_t *o, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

static bool parse_page(json_t *jp, struct cache_page *p)
{
	uint64_t status = 0;
	const char *file = jstring(jp, "file"), *url = jstring(jp, "url");
	json_t *headers = json_object_get(jp, "headers");
	if (!plain_name(file, "page-") || !url || !juint(jp, "status", &status) ||
	    !juint(jp, "size", &p->size) || !json_is_array(headers))
		return false;
	p->file = xstrdup(file);
	p->url = xstrdup(url);
	p->status = (long)status;
	size_t n = json_array_size(headers);
	p->headers = n ? xcalloc(n, sizeof *p->headers) : NULL;
	for (size_t i = 0; i < n; i++) {
		json_t *pair = json_array_get(headers, i);
		const char *name = json_string_value(json_array_get(pair, 0));
		const char *value = json_string_value(json_array_get(pair, 1));
		if (!name || !value)
			return false;
		p->headers[i] =
		    (struct http_header){.name = xstrdup(name), .value = xstrdup(value)};
		p->n_headers++;
	}
	return true;
}

/* Fill m from the JSON; false (with why) when anything is missing. */
static bool parse_manifest(json_t *j, struct cache_manifest *m, const char **why)
{
	uint64_t version = 0, format = 0;
	json_t *pages = json_object_get(j, "pages");
	const char *url = jstring(j, "url"), *fetched_at = jstring(j, "fetched_at");
	const char *sha = jstring(j, "sha256"), *records_file = jstring(j, "records_file");
	const char *plugin = jstring(j, "plugin"), *pversion = jstring(j, "plugin_version");
	const char *options = jstring(j, "options_hash");
	if (!juint(j, "manifest_version", &version) || version < CACHE_MANIFEST_OLDEST ||
	    version > CACHE_MANIFEST_VERSION) {
		*why = "unknown manifest version";
		return false;
	}
	m->version = (int)version;
	if (!url || !fetched_at || !sha || !plugin || !pversion || !options ||
	    !juint(j, "size", &m->size) || !juint(j, "records", &m->records) ||
	    !juint(j, "stream_format", &format) || !json_is_array(pages) ||
	    !plain_name(records_file, "records-")) {
		*why = "a field is missing or has the wrong type";
		return false;
	}
	m->url = xstrdup(url);
	m->fetched_at = xstrdup(fetched_at);
	m->etag = dup_or_null(jstring(j, "etag"));
	m->last_modified = dup_or_null(jstring(j, "last_modified"));
	m->sha256 = xstrdup(sha);
	m->records_file = xstrdup(records_file);
	m->plugin = xstrdup(plugin);
	m->plugin_version = xstrdup(pversion);
	m->options_hash = xstrdup(options);
	m->stream_format = format > 255 ? -1 : (int)format;
	size_t n = json_array_size(pages);
	m->pages = n ? xcalloc(n, sizeof *m->pages) : NULL;
	for (size_t i = 0; i < n; i++) {
		m->n_pages++;
		if (!parse_page(json_array_get(pages, i), &m->pages[i])) {
			*why = "a page entry is malformed";
			return false;
		}
	}
	return true;
}

/* Every file the manifest names is there with its size. */
static bool files_present(const struct cache *c, const char **why)
{
	struct stat st;
	for (size_t i = 0; i < c->m.n_pages; i++) {
		char *path = cache_file_path(c, c->m.pages[i].file);
		int rc = stat(path, &st);
		free(path);
		if (rc != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != c->m.pages[i].size) {
			*why = "a page file is missing or has the wrong size";
			return false;
		}
	}
	char *path = cache_file_path(c, c->m.records_file);
	int rc = stat(path, &st);
	free(path);
	if (rc != 0 || !S_ISREG(st.st_mode)) {
		*why = "the records file is missing";
		return false;
	}
	return true;
}

void cache_open(struct cache *c, const char *cache_dir, const char *instance, char *why,
		size_t whylen)
{
	*c = (struct cache){0};
	if (whylen)
		why[0] = '\0';
	if (!cache_dir)
		return;
	c->dir = xasprintf("%s/%s", cache_dir, instance);
	char *path = cache_file_path(c, MANIFEST);
	if (access(path, F_OK) != 0) {
		free(path);
		return;
	}
	json_error_t jerr;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	const char *problem = NULL;
	if (!j) {
		snprintf(why, whylen, "%s: %s", path, jerr.text);
	} else if (!parse_manifest(j, &c->m, &problem) || !files_present(c, &problem)) {
		snprintf(why, whylen, "%s: %s", path, problem);
	} else {
		c->valid = true;
	}
	if (!c->valid)
		cache_manifest_free(&c->m);
	json_decref(j);
	free(path);
}

void cache_close(struct cache *c)
{
	cache_manifest_free(&c->m);
	free(c->dir);
	*c = (struct cache){0};
}

/* ------------------------------------------------------------- manifest: writing */

static json_t *jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *manifest_json(const struct cache_manifest *m)
{
	json_t *pages = json_array();
	for (size_t i = 0; i < m->n_pages; i++) {
		const struct cache_page *p = &m->pages[i];
		json_t *headers = json_array();
		for (size_t k = 0; k < p->n_headers; k++)
			json_array_append_new(
			    headers, json_pack("[ss]", p->headers[k].name, p->headers[k].value));
		json_array_append_new(pages,
				      json_pack("{s:s, s:s, s:I, s:I, s:o}", "file", p->file, "url",
						p->url, "status", (json_int_t)p->status, "size",
						(json_int_t)p->size, "headers", headers));
	}
	json_t *j = json_object();
	json_object_set_new(j, "manifest_version",
			    json_integer(m->version ? m->version : CACHE_MANIFEST_VERSION));
	json_object_set_new(j, "url", json_string(m->url));
	json_object_set_new(j, "fetched_at", json_string(m->fetched_at));
	json_object_set_new(j, "etag", jstr_or_null(m->etag));
	json_object_set_new(j, "last_modified", jstr_or_null(m->last_modified));
	json_object_set_new(j, "sha256", json_string(m->sha256));
	json_object_set_new(j, "size", json_integer((json_int_t)m->size));
	json_object_set_new(j, "pages", pages);
	json_object_set_new(j, "records", json_integer((json_int_t)m->records));
	json_object_set_new(j, "records_file", json_string(m->records_file));
	json_object_set_new(j, "plugin", json_string(m->plugin));
	json_object_set_new(j, "plugin_version", json_string(m->plugin_version));
	json_object_set_new(j, "stream_format", json_integer(m->stream_format));
	json_object_set_new(j, "options_hash", json_string(m->options_hash));
	return j;
}

static int write_manifest(const struct cache *c, const struct cache_manifest *m, char *err,
			  size_t errlen)
{
	char *path = cache_file_path(c, MANIFEST);
	struct atomic_file af;
	int rc = atomic_open(&af, path, err, errlen);
	free(path);
	if (rc != 0)
		return -1;
	json_t *j = manifest_json(m);
	if (json_dumpf(j, atomic_stream(&af), JSON_INDENT(1) | JSON_ENSURE_ASCII) != 0 ||
	    fputc('\n', atomic_stream(&af)) == EOF) {
		snprintf(err, errlen, "writing %s/%s: %s", c->dir, MANIFEST, strerror(errno));
		atomic_abort(&af);
		json_decref(j);
		return -1;
	}
	json_decref(j);
	return atomic_commit(&af, err, errlen);
}

static struct http_header *copy_headers(const struct http_header *h, size_t n)
{
	struct http_header *out = n ? xcalloc(n, sizeof *out) : NULL;
	for (size_t i = 0; i < n; i++)
		out[i] =
		    (struct http_header){.name = xstrdup(h[i].name), .value = xstrdup(h[i].value)};
	return out;
}

static void copy_page(struct cache_page *dst, const struct cache_page *src)
{
	*dst = (struct cache_page){
		.file = xstrdup(src->file),
		.url = xstrdup(src->url),
		.status = src->status,
		.size = src->size,
		.headers = copy_headers(src->headers, src->n_headers),
		.n_headers = src->n_headers,
	};
}

int cache_renew(struct cache *c, const char *fetched_at, const char *etag,
		const char *last_modified, char *err, size_t errlen)
{
	if (!c->dir || !c->valid) {
		snprintf(err, errlen, "no cache to renew");
		return -1;
	}
	struct cache_manifest m = c->m;
	m.fetched_at = (char *)fetched_at;
	if (etag)
		m.etag = (char *)etag;
	if (last_modified)
		m.last_modified = (char *)last_modified;
	if (write_manifest(c, &m, err, errlen) != 0)
		return -1;
	char *new_at = xstrdup(fetched_at);
	char *new_etag = dup_or_null(m.etag), *new_lm = dup_or_null(m.last_modified);
	free(c->m.fetched_at);
	free(c->m.etag);
	free(c->m.last_modified);
	c->m.fetched_at = new_at;
	c->m.etag = new_etag;
	c->m.last_modified = new_lm;
	return 0;
}

/* ------------------------------------------------------------- keys */

char *cache_options_hash(const struct source_config *src, const struct mf_plugin *plugin)
{
	size_t n = src ? src->n_options : 0;
	const struct option_value **sorted = n ? xcalloc(n, sizeof *sorted) : NULL;
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		const struct option_value *ov = &src->options[i];
		bool secret = false;
		for (const struct mf_option *o = plugin ? plugin->options : NULL; o && o->name; o++)
			if (strcmp(o->name, ov->key) == 0)
				secret = o->secret;
		if (secret)
			continue; /* not even a hash of a key goes into the cache */
		size_t at = kept++;
		while (at > 0 && strcmp(sorted[at - 1]->key, ov->key) > 0) {
			sorted[at] = sorted[at - 1];
			at--;
		}
		sorted[at] = ov;
	}
	struct sha256 s;
	sha256_init(&s);
	for (size_t i = 0; i < kept; i++) {
		/* NUL separators: "ab"="c" and "a"="bc" hash apart. */
		sha256_update(&s, sorted[i]->key, strlen(sorted[i]->key) + 1);
		sha256_update(&s, sorted[i]->value, strlen(sorted[i]->value) + 1);
	}
	free(sorted);
	char hex[65];
	sha256_final_hex(&s, hex);
	return xstrdup(hex);
}

bool cache_usable(const struct cache *c, const char *url, const struct mf_plugin *plugin)
{
	if (!c->valid || !url || !plugin)
		return false;
	char *shown = url_redacted(url);
	bool ok = str_eq(c->m.plugin, plugin->name) && c->m.stream_format == MF_STREAM_VERSION &&
		  str_eq(c->m.url, shown);
	free(shown);
	return ok;
}

bool cache_reusable(const struct cache *c, const char *url, const struct mf_plugin *plugin,
		    const char *options_hash)
{
	/* An older manifest's sha256 was computed another way: its payload
	 * can never compare equal, so it is refreshed and normalized once. */
	return cache_usable(c, url, plugin) && c->m.version == CACHE_MANIFEST_VERSION &&
	       str_eq(c->m.plugin_version, plugin->version) &&
	       str_eq(c->m.options_hash, options_hash);
}

double cache_age_seconds(const struct cache *c)
{
	if (!c->valid || !c->m.fetched_at)
		return -1;
	struct tm tm = {0};
	const char *end = strptime(c->m.fetched_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return -1;
	time_t then = timegm(&tm);
	double age = difftime(time(NULL), then);
	return age >= 0 ? age : -1;
}

/* ------------------------------------------------------------- records */

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Walk the frames of a stored stream without decoding records: the header,
 * record frames, then one end frame whose count matches, then nothing. */
static int check_stream(FILE *f, const char *path, uint64_t expect, char *err, size_t errlen)
{
	uint8_t head[STREAM_HEADER_LEN];
	if (fread(head, 1, sizeof head, f) != sizeof head || memcmp(head, "MFRS", 4) != 0 ||
	    head[4] != MF_STREAM_VERSION) {
		snprintf(err, errlen, "%s: not a version %d record stream", path,
			 MF_STREAM_VERSION);
		return -1;
	}
	uint64_t records = 0;
	for (;;) {
		uint8_t fh[5];
		if (fread(fh, 1, sizeof fh, f) != sizeof fh)
			break;
		uint32_t len = le32(fh + 1);
		if (len > MAX_FRAME)
			break;
		if (fh[0] == 'R') {
			records++;
			if (fseeko(f, len, SEEK_CUR) != 0)
				break;
			continue;
		}
		uint8_t end[5];
		if (fh[0] != 'E' || len < sizeof end || fread(end, 1, sizeof end, f) != sizeof end)
			break;
		if (le32(end + 1) != records || records != expect) {
			snprintf(err, errlen, "%s: holds %llu records, the manifest says %llu",
				 path, (unsigned long long)records, (unsigned long long)expect);
			return -1;
		}
		if (fseeko(f, len - (off_t)sizeof end, SEEK_CUR) != 0 || fgetc(f) != EOF)
			break;
		return 0;
	}
	snprintf(err, errlen, "%s: damaged record stream", path);
	return -1;
}

int cache_send_records(const char *stream_path, struct stream_writer *w, uint64_t expect, char *err,
		       size_t errlen)
{
	FILE *f = fopen(stream_path, "rbe");
	if (!f) {
		snprintf(err, errlen, "%s: %s", stream_path, strerror(errno));
		return -1;
	}
	if (check_stream(f, stream_path, expect, err, errlen) != 0 ||
	    fseeko(f, STREAM_HEADER_LEN, SEEK_SET) != 0) {
		fclose(f);
		return -1;
	}
	int rc = 0;
	for (uint64_t i = 0; i < expect && rc == 0; i++) {
		uint8_t fh[5];
		if (fread(fh, 1, sizeof fh, f) != sizeof fh) {
			snprintf(err, errlen, "%s: changed while read", stream_path);
			rc = -1;
			break;
		}
		uint32_t len = le32(fh + 1);
		char *frame = xmalloc(len ? len : 1);
		if (fread(frame, 1, len, f) != len) {
			snprintf(err, errlen, "%s: changed while read", stream_path);
			free(frame);
			rc = -1;
			break;
		}
		strbuf_append(&w->buf, fh, sizeof fh);
		strbuf_append(&w->buf, frame, len);
		free(frame);
		w->records++;
		if (w->buf.len >= 64 * 1024 && stream_writer_flush(w) != 0) {
			snprintf(err, errlen, "sending records: %s", strerror(w->error));
			rc = -1;
		}
	}
	fclose(f);
	return rc;
}

int cache_load_records(const struct cache *c, struct record_array *out, char *err, size_t errlen)
{
	if (!c->valid) {
		snprintf(err, errlen, "no cache");
		return -1;
	}
	char *path = cache_file_path(c, c->m.records_file);
	size_t len = 0;
	char *data = read_file(path, &len, err, errlen);
	free(path);
	if (!data)
		return -1;
	struct stream_end end;
	size_t before = out->count;
	int rc = stream_decode(data, len, out, &end, err, errlen);
	free(data);
	if (rc == 0) {
		stream_end_free(&end);
		if (out->count - before != c->m.records) {
			snprintf(err, errlen, "the records file does not match the manifest");
			while (out->count > before)
				record_free(out->items[--out->count]);
			return -1;
		}
	}
	return rc;
}

/* ------------------------------------------------------------- building */

int cache_build_begin(struct cache_build *b, const struct cache *c, bool dry_run, char *err,
		      size_t errlen)
{
	*b = (struct cache_build){0};
	sha256_init(&b->sum);
	if (c->dir && !dry_run) {
		b->in_cache = true;
		b->dir = xasprintf("%s/tmp-%ld", c->dir, (long)getpid());
		if (mkdir_p(c->dir) != 0) {
			snprintf(err, errlen, "cannot create %s: %s", c->dir, strerror(errno));
			goto fail;
		}
		/* A leftover of a killed run with our pid: nothing in it is ours. */
		rm_rf(b->dir);
		if (mkdir(b->dir, 0700) != 0) {
			snprintf(err, errlen, "cannot create %s: %s", b->dir, strerror(errno));
			goto fail;
		}
		return 0;
	}
	const char *tmp = getenv("TMPDIR");
	b->dir = xasprintf("%s/modelfuse-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(b->dir)) {
		snprintf(err, errlen, "cannot create a temporary folder %s: %s", b->dir,
			 strerror(errno));
		goto fail;
	}
	return 0;
fail:
	free(b->dir);
	b->dir = NULL;
	return -1;
}

/* Write all of data to path, fsynced when it is to be committed. */
static int write_whole(const char *path, const void *data, size_t len, bool durable, char *err,
		       size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	const char *p = data;
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, p + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "writing %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	if ((durable && fsync(fd) != 0) || close(fd) != 0) {
		snprintf(err, errlen, "writing %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int cache_build_add_page(struct cache_build *b, const struct fetched_page *p, char *err,
			 size_t errlen)
{
	size_t i = b->n_pages;
	char name[32];
	snprintf(name, sizeof name, "page-%06zu", i);
	char *path = xasprintf("%s/%s", b->dir, name);
	int rc = write_whole(path, p->data, p->size, b->in_cache, err, errlen);
	free(path);
	if (rc != 0)
		return -1;

	b->pages = xrealloc(b->pages, (i + 1) * sizeof *b->pages);
	b->page_sha = xrealloc(b->page_sha, (i + 1) * sizeof *b->page_sha);
	struct sha256 one;
	sha256_init(&one);
	sha256_update(&one, p->data, p->size);
	sha256_final_hex(&one, b->page_sha[i]);

	/* The payload hash covers each page's hash with its length (so the
	 * same bytes cut into other pages are another payload): the bytes
	 * themselves are hashed once, for the page's content name. */
	char line[128];
	int n = snprintf(line, sizeof line, "page %zu %s\n", p->size, b->page_sha[i]);
	sha256_update(&b->sum, line, (size_t)n);
	b->size += p->size;

	/* Cookies are the server's state, not the payload's: never cached. */
	size_t kept = 0;
	struct http_header *headers = p->n_headers ? xcalloc(p->n_headers, sizeof *headers) : NULL;
	for (size_t k = 0; k < p->n_headers; k++) {
		if (strcasecmp(p->headers[k].name, "Set-Cookie") == 0)
			continue;
		headers[kept++] = (struct http_header){.name = xstrdup(p->headers[k].name),
						       .value = xstrdup(p->headers[k].value)};
	}
	b->pages[i] = (struct cache_page){
		.file = xstrdup(name),
		.url = url_redacted(p->url),
		.status = p->status,
		.size = p->size,
		.headers = headers,
		.n_headers = kept,
	};
	b->n_pages++;
	return 0;
}

void cache_build_seal(struct cache_build *b)
{
	sha256_final_hex(&b->sum, b->sha256);
}

int cache_build_read_page(const struct cache_build *b, size_t i, struct fetched_page *out,
			  char *err, size_t errlen)
{
	const struct cache_page *p = &b->pages[i];
	char *path = xasprintf("%s/%s", b->dir, p->file);
	size_t len = 0;
	char *data = read_file(path, &len, err, errlen);
	free(path);
	if (!data)
		return -1;
	if (len != p->size) {
		snprintf(err, errlen, "page %zu changed on disk", i + 1);
		free(data);
		return -1;
	}
	fetched_page_make(out, (unsigned)i, xstrdup(p->url), p->status, data, len,
			  copy_headers(p->headers, p->n_headers), p->n_headers);
	return 0;
}

int cache_read_page(const struct cache *c, size_t i, struct fetched_page *out, char *err,
		    size_t errlen)
{
	if (!c->valid || i >= c->m.n_pages) {
		snprintf(err, errlen, "the cache has no page %zu", i + 1);
		return -1;
	}
	const struct cache_page *p = &c->m.pages[i];
	char *path = cache_file_path(c, p->file);
	size_t len = 0;
	char *data = read_file(path, &len, err, errlen);
	free(path);
	if (!data)
		return -1;
	if (len != p->size) {
		snprintf(err, errlen, "%s/%s: changed on disk", c->dir, p->file);
		free(data);
		return -1;
	}
	fetched_page_make(out, (unsigned)i, xstrdup(p->url), p->status, data, len,
			  copy_headers(p->headers, p->n_headers), p->n_headers);
	return 0;
}

const char *cache_page_etag(const struct cache *c, size_t i, const char *url)
{
	if (!c->valid || i >= c->m.n_pages || !url)
		return NULL;
	const struct cache_page *p = &c->m.pages[i];
	char *shown = url_redacted(url);
	bool same = str_eq(shown, p->url);
	free(shown);
	for (size_t k = 0; same && k < p->n_headers; k++)
		if (strcasecmp(p->headers[k].name, "ETag") == 0)
			return p->headers[k].value;
	return NULL;
}

int cache_build_add_cached(struct cache_build *b, const struct cache *c, size_t n, char *err,
			   size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		struct fetched_page page;
		if (cache_read_page(c, i, &page, err, errlen) != 0)
			return -1;
		int rc = cache_build_add_page(b, &page, err, errlen);
		fetched_page_free(&page);
		if (rc != 0)
			return -1;
	}
	return 0;
}

int cache_build_open_stream(struct cache_build *b, char *err, size_t errlen)
{
	free(b->stream_path);
	b->stream_path = xasprintf("%s/records.mfrs", b->dir);
	int fd = open(b->stream_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		snprintf(err, errlen, "cannot create %s: %s", b->stream_path, strerror(errno));
	return fd;
}

/* sha256 of a file's content, and an fsync of it on the way. */
static int hash_file(const char *path, char hex[65], char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct sha256 s;
	sha256_init(&s);
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		sha256_update(&s, buf, (size_t)n);
	}
	int rc = fsync(fd);
	close(fd);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	sha256_final_hex(&s, hex);
	return 0;
}

/* Rename dir/from to c->dir/to (a content name: an existing file of that
 * name has the same bytes, so replacing it changes nothing). */
static int move_in(const struct cache *c, const struct cache_build *b, const char *from,
		   const char *to, char *err, size_t errlen)
{
	char *src = xasprintf("%s/%s", b->dir, from);
	char *dst = cache_file_path(c, to);
	int rc = rename(src, dst);
	if (rc != 0)
		snprintf(err, errlen, "renaming %s to %s: %s", src, dst, strerror(errno));
	free(src);
	free(dst);
	return rc;
}

int cache_commit_files(struct cache *c, struct cache_build *b, char *err, size_t errlen)
{
	if (!b->in_cache || !b->stream_path) {
		snprintf(err, errlen, "nothing to commit");
		return -1;
	}
	for (size_t i = 0; i < b->n_pages; i++) {
		char *name = xasprintf("page-%s", b->page_sha[i]);
		if (move_in(c, b, b->pages[i].file, name, err, errlen) != 0) {
			free(name);
			return -1;
		}
		free(b->pages[i].file);
		b->pages[i].file = name;
	}
	char hex[65];
	if (hash_file(b->stream_path, hex, err, errlen) != 0)
		return -1;
	char *name = xasprintf("records-%s.mfrs", hex);
	int rc = move_in(c, b, "records.mfrs", name, err, errlen);
	if (rc == 0) {
		free(b->stream_path);
		b->stream_path = cache_file_path(c, name);
	}
	free(name);
	/* The renames must be on disk before a manifest names their targets. */
	fsync_dir(c->dir);
	return rc;
}

int cache_commit_manifest(struct cache *c, struct cache_build *b, const struct cache_meta *meta,
			  char *err, size_t errlen)
{
	const char *slash = b->stream_path ? strrchr(b->stream_path, '/') : NULL;
	if (!slash || !plain_name(slash + 1, "records-")) {
		snprintf(err, errlen, "the record stream is not committed");
		return -1;
	}
	struct cache_manifest m = {
		.url = url_redacted(meta->url),
		.fetched_at = xstrdup(meta->fetched_at),
		.etag = dup_or_null(meta->etag),
		.last_modified = dup_or_null(meta->last_modified),
		.sha256 = xstrdup(b->sha256),
		.size = b->size,
		.pages = b->n_pages ? xcalloc(b->n_pages, sizeof *m.pages) : NULL,
		.n_pages = b->n_pages,
		.records = meta->records,
		.records_file = xstrdup(slash + 1),
		.plugin = xstrdup(meta->plugin),
		.plugin_version = xstrdup(meta->plugin_version),
		.stream_format = MF_STREAM_VERSION,
		.options_hash = xstrdup(meta->options_hash),
		.version = CACHE_MANIFEST_VERSION,
	};
	for (size_t i = 0; i < b->n_pages; i++)
		copy_page(&m.pages[i], &b->pages[i]);
	if (write_manifest(c, &m, err, errlen) != 0) {
		cache_manifest_free(&m);
		return -1;
	}
	cache_manifest_free(&c->m);
	c->m = m;
	c->valid = true;
	return 0;
}

void cache_cleanup(const struct cache *c)
{
	if (!c->dir)
		return;
	DIR *d = opendir(c->dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *name = e->d_name;
		char *path = NULL;
		if (str_starts_with(name, "page-") || str_starts_with(name, "records-")) {
			bool named = c->valid && str_eq(name, c->m.records_file);
			for (size_t i = 0; c->valid && !named && i < c->m.n_pages; i++)
				named = str_eq(name, c->m.pages[i].file);
			if (!named) {
				path = cache_file_path(c, name);
				unlink(path);
			}
		} else if (str_starts_with(name, MANIFEST ".tmp.")) {
			path = cache_file_path(c, name);
			unlink(path);
		} else if (str_starts_with(name, "tmp-")) {
			path = cache_file_path(c, name);
			rm_rf(path);
		}
		free(path);
	}
	closedir(d);
}

int cache_build_commit(struct cache *c, struct cache_build *b, const struct cache_meta *meta,
		       char *err, size_t errlen)
{
	if (cache_commit_files(c, b, err, errlen) != 0 ||
	    cache_commit_manifest(c, b, meta, err, errlen) != 0)
		return -1;
	cache_cleanup(c);
	return 0;
}

void cache_remove_build(const char *cache_dir, const char *instance, long pid)
{
	if (!cache_dir)
		return;
	char *dir = xasprintf("%s/%s/tmp-%ld", cache_dir, instance, pid);
	rm_rf(dir);
	free(dir);
}

void cache_build_free(struct cache_build *b)
{
	if (b->dir)
		rm_rf(b->dir);
	free(b->dir);
	for (size_t i = 0; i < b->n_pages; i++)
		cache_page_free(&b->pages[i]);
	free(b->pages);
	free(b->page_sha);
	free(b->stream_path);
	*b = (struct cache_build){0};
}
