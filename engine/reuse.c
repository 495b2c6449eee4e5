#include "mf_build_config.h"
#include "reuse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "changes.h"
#include "mapper.h"
#include "stream.h"
#include "util.h"

/* ------------------------------------------------------------ run key */

static void hash_str0(struct sha256 *s, const char *label, const char *value)
{
	/* Each part is labelled and terminated so that no two different
	 * sequences of parts hash the same bytes. */
	sha256_update(s, label, strlen(label) + 1);
	if (value)
		sha256_update(s, value, strlen(value) + 1);
	else
		sha256_update(s, "\xff", 1);
}

/* A file's bytes under a label; a missing file hashes as "absent". */
static void hash_file(struct sha256 *s, const char *label, const char *path)
{
	hash_str0(s, label, path);
	char err[256];
	size_t len = 0;
	char *data = path ? read_file(path, &len, err, sizeof err) : NULL;
	if (!data) {
		sha256_update(s, "absent", 7);
		return;
	}
	char size[32];
	snprintf(size, sizeof size, "%zu", len);
	hash_str0(s, "size", size);
	sha256_update(s, data, len);
	free(data);
}

static int str_qsort(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.json directly in the data folder: the mapper's and the derive
 * stage's shipped tables. Hashing them all, rather than repeating which
 * stage reads which, keeps the key right when a stage reads another. */
static void hash_data_dir(struct sha256 *s, const char *dir)
{
	hash_str0(s, "datadir", dir);
	DIR *d = opendir(dir);
	if (!d)
		return;
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.' || len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		names = xrealloc(names, (n + 1) * sizeof *names);
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, str_qsort);
	for (size_t i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		hash_file(s, names[i], path);
		free(path);
		free(names[i]);
	}
	free(names);
}

/* The program itself: a rebuilt binary may write other bytes under the
 * same version number. Its stat is enough to notice a new build. */
static void hash_program(struct sha256 *s)
{
	hash_str0(s, "version", PACKAGE_VERSION);
	struct stat st;
	char id[160] = "unknown";
	if (stat("/proc/self/exe", &st) == 0)
		snprintf(id, sizeof id, "%ju:%ju:%jd:%jd.%09ld", (uintmax_t)st.st_dev,
			 (uintmax_t)st.st_ino, (intmax_t)st.st_size, (intmax_t)st.st_mtim.tv_sec,
			 st.st_mtim.tv_nsec);
	hash_str0(s, "program", id);
}

static bool decays(const struct config *cfg)
{
	if (cfg->derive_half_life_days > 0)
		return true;
	for (size_t i = 0; i < cfg->n_categories; i++)
		if (cfg->categories[i].half_life_days_set && cfg->categories[i].half_life_days > 0)
			return true;
	return false;
}

char *reuse_run_key(const struct config *cfg, time_t now)
{
	struct sha256 s;
	sha256_init(&s);
	hash_str0(&s, "modelfuse run key", "1");
	hash_program(&s);
	char format[16];
	snprintf(format, sizeof format, "%d", MF_STREAM_VERSION);
	hash_str0(&s, "stream", format);
	/* The configuration file decides precedence, exclusions, categories
	 * and the paths; relative ones resolve against its folder. */
	hash_file(&s, "config", cfg->path);
	hash_str0(&s, "config dir", cfg->dir);
	hash_data_dir(&s, mapper_data_dir());
	if (cfg->mapper_overrides_set)
		hash_file(&s, "overrides", cfg->mapper_overrides);
	if (cfg->derive_reputation_set)
		hash_file(&s, "reputation", cfg->derive_reputation);
	if (decays(cfg)) {
		char day[32];
		snprintf(day, sizeof day, "%jd", (intmax_t)(now / 86400));
		hash_str0(&s, "day", day);
	}
	char hex[65];
	sha256_final_hex(&s, hex);
	return xstrdup(hex);
}

/* ------------------------------------------------------------ the state file */

void reuse_state_free(struct reuse_state *st)
{
	free(st->key);
	free(st->generated_at);
	for (size_t i = 0; i < st->n_sources; i++) {
		free(st->sources[i].name);
		free(st->sources[i].records);
	}
	free(st->sources);
	for (size_t i = 0; i < st->n_outputs; i++)
		free(st->outputs[i].name);
	free(st->outputs);
	memset(st, 0, sizeof *st);
}

static char *dup_string(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? xstrdup(s) : NULL;
}

/* The state is small (a line per source and output) and read once. */
bool reuse_state_read(const char *output_dir, struct reuse_state *st, char *why, size_t whylen)
{
	memset(st, 0, sizeof *st);
	char *path = xasprintf("%s/%s", output_dir, REUSE_STATE_NAME);
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(why, whylen, "%s: %s", path,
			 access(path, F_OK) != 0 ? "no state of an earlier run" : jerr.text);
		free(path);
		return false;
	}
	bool ok = false;
	const json_t *sources = json_object_get(root, "sources");
	const json_t *outputs = json_object_get(root, "outputs");
	json_int_t version = json_integer_value(json_object_get(root, "version"));
	if (version != REUSE_STATE_VERSION || !json_is_array(sources) || !json_is_array(outputs) ||
	    !json_is_integer(json_object_get(root, "models"))) {
		snprintf(why, whylen, "%s: not a state this version writes", path);
		goto out;
	}
	st->key = dup_string(root, "key");
	st->generated_at = dup_string(root, "generated_at");
	st->n_models = (size_t)json_integer_value(json_object_get(root, "models"));
	size_t i;
	const json_t *v;
	st->sources = xcalloc(json_array_size(sources) + 1, sizeof *st->sources);
	json_array_foreach(sources, i, v) {
		char *name = dup_string(v, "name");
		if (!name) {
			snprintf(why, whylen, "%s: a source without a name", path);
			goto out;
		}
		st->sources[st->n_sources++] =
		    (struct reuse_source){.name = name, .records = dup_string(v, "records")};
	}
	st->outputs = xcalloc(json_array_size(outputs) + 1, sizeof *st->outputs);
	json_array_foreach(outputs, i, v) {
		char *name = dup_string(v, "name");
		if (!name || strchr(name, '/')) {
			free(name);
			snprintf(why, whylen, "%s: an output without a plain file name", path);
			goto out;
		}
		st->outputs[st->n_outputs++] = (struct reuse_output){
		    .name = name,
		    .size = (uint64_t)json_integer_value(json_object_get(v, "size")),
		    .mtime_sec = json_integer_value(json_object_get(v, "mtime")),
		    .mtime_nsec = (long)json_integer_value(json_object_get(v, "mtime_nsec")),
		    .dev = (uint64_t)json_integer_value(json_object_get(v, "dev")),
		    .ino = (uint64_t)json_integer_value(json_object_get(v, "ino")),
		};
	}
	if (!st->key || !st->generated_at) {
		snprintf(why, whylen, "%s: no key or generated_at", path);
		goto out;
	}
	ok = true;
out:
	json_decref(root);
	free(path);
	if (!ok)
		reuse_state_free(st);
	return ok;
}

const char *reuse_state_records(const struct reuse_state *st, const char *name)
{
	for (size_t i = 0; st && i < st->n_sources; i++)
		if (strcmp(st->sources[i].name, name) == 0)
			return st->sources[i].records;
	return NULL;
}

static bool stat_output(const char *dir, const char *name, struct reuse_output *o)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct stat st;
	int rc = stat(path, &st);
	free(path);
	if (rc != 0 || !S_ISREG(st.st_mode))
		return false;
	*o = (struct reuse_output){
	    .size = (uint64_t)st.st_size,
	    .mtime_sec = (int64_t)st.st_mtim.tv_sec,
	    .mtime_nsec = st.st_mtim.tv_nsec,
	    .dev = (uint64_t)st.st_dev,
	    .ino = (uint64_t)st.st_ino,
	};
	return true;
}

bool reuse_outputs_intact(const char *output_dir, const struct reuse_state *st, char *why,
			  size_t whylen)
{
	if (st->n_outputs == 0) {
		snprintf(why, whylen, "the state names no outputs");
		return false;
	}
	for (size_t i = 0; i < st->n_outputs; i++) {
		const struct reuse_output *want = &st->outputs[i];
		struct reuse_output now;
		if (!stat_output(output_dir, want->name, &now)) {
			snprintf(why, whylen, "%s/%s is gone", output_dir, want->name);
			return false;
		}
		if (now.size != want->size || now.mtime_sec != want->mtime_sec ||
		    now.mtime_nsec != want->mtime_nsec || now.dev != want->dev ||
		    now.ino != want->ino) {
			snprintf(why, whylen, "%s/%s changed since the run that wrote it",
				 output_dir, want->name);
			return false;
		}
	}
	return true;
}

static json_t *jstring_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

int reuse_state_write(const char *output_dir, struct reuse_state *st, const char *const *names,
		      size_t n_names, char *err, size_t errlen)
{
	for (size_t i = 0; i < st->n_outputs; i++)
		free(st->outputs[i].name);
	free(st->outputs);
	st->outputs = xcalloc(n_names + 1, sizeof *st->outputs);
	st->n_outputs = 0;
	for (size_t i = 0; i < n_names; i++) {
		struct reuse_output o;
		if (!stat_output(output_dir, names[i], &o)) {
			snprintf(err, errlen, "%s/%s: %s", output_dir, names[i], strerror(errno));
			return -1;
		}
		o.name = xstrdup(names[i]);
		st->outputs[st->n_outputs++] = o;
	}

	json_t *root = json_object();
	json_object_set_new(root, "version", json_integer(REUSE_STATE_VERSION));
	json_object_set_new(root, "key", json_string(st->key));
	json_object_set_new(root, "generated_at", json_string(st->generated_at));
	json_object_set_new(root, "models", json_integer((json_int_t)st->n_models));
	json_t *sources = json_array();
	for (size_t i = 0; i < st->n_sources; i++) {
		json_t *s = json_object();
		json_object_set_new(s, "name", json_string(st->sources[i].name));
		json_object_set_new(s, "records", jstring_or_null(st->sources[i].records));
		json_array_append_new(sources, s);
	}
	json_object_set_new(root, "sources", sources);
	json_t *outputs = json_array();
	for (size_t i = 0; i < st->n_outputs; i++) {
		const struct reuse_output *o = &st->outputs[i];
		json_t *j = json_object();
		json_object_set_new(j, "name", json_string(o->name));
		json_object_set_new(j, "size", json_integer((json_int_t)o->size));
		json_object_set_new(j, "mtime", json_integer((json_int_t)o->mtime_sec));
		json_object_set_new(j, "mtime_nsec", json_integer((json_int_t)o->mtime_nsec));
		json_object_set_new(j, "dev", json_integer((json_int_t)o->dev));
		json_object_set_new(j, "ino", json_integer((json_int_t)o->ino));
		json_array_append_new(outputs, j);
	}
	json_object_set_new(root, "outputs", outputs);

	char *path = xasprintf("%s/%s", output_dir, REUSE_STATE_NAME);
	struct atomic_file af;
	int rc = atomic_open(&af, path, err, errlen);
	if (rc == 0) {
		FILE *f = atomic_stream(&af);
		if (json_dumpf(root, f, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0 ||
		    fputc('\n', f) == EOF) {
			snprintf(err, errlen, "writing %s: %s", path, strerror(errno));
			atomic_abort(&af);
			rc = -1;
		} else {
			rc = atomic_commit(&af, err, errlen);
		}
	}
	free(path);
	json_decref(root);
	return rc;
}

/* ------------------------------------------------------------ copying */

long reuse_find_marker(FILE *f, const char *marker, size_t window)
{
	char *buf = xmalloc(window + 1);
	if (fseek(f, 0, SEEK_SET) != 0) {
		free(buf);
		return -1;
	}
	size_t n = fread(buf, 1, window, f);
	buf[n] = '\0';
	long at = -1;
	size_t mlen = strlen(marker);
	/* memmem: the head holds no NUL, but a damaged file might. */
	const char *hit = memmem(buf, n, marker, mlen);
	if (hit)
		at = (long)(hit - buf);
	free(buf);
	return at;
}

int reuse_copy_tail(FILE *out, FILE *src, long from)
{
	if (fflush(out) != 0)
		return -1;
	int in_fd = fileno(src), out_fd = fileno(out);
	struct stat st;
	if (fstat(in_fd, &st) != 0)
		return -1;
	if (from < 0 || (off_t)from > st.st_size) {
		errno = EINVAL;
		return -1;
	}
	off_t off = from;
	bool kernel = true;
	while (off < st.st_size) {
		size_t want = (size_t)(st.st_size - off);
		ssize_t n = -1;
		if (kernel) {
			/* Within one file system the kernel copies (or shares)
			 * the extents without bringing the bytes to us. */
			n = copy_file_range(in_fd, &off, out_fd, NULL, want, 0);
			if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP ||
				      errno == EINVAL)) {
				kernel = false;
				continue;
			}
		} else {
			char buf[1 << 16];
			n = pread(in_fd, buf, want < sizeof buf ? want : sizeof buf, off);
			if (n > 0) {
				ssize_t done = 0;
				while (done < n) {
					ssize_t w = write(out_fd, buf + done, (size_t)(n - done));
					if (w < 0) {
						if (errno == EINTR)
							continue;
						return -1;
					}
					done += w;
				}
				off += n;
			}
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			/* The file shrank under us: the copy would be short. */
			errno = EIO;
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ renewing */

void reuse_remove_stale_temporaries(const char *output_dir)
{
	static const char *const names[] = {"catalog.json",  "staging_candidates.json",
					    "mapping.json",  "changes.json",
					    CHANGES_DIGEST_NAME, REUSE_STATE_NAME};
	remove_stale_temporaries(output_dir, names, sizeof names / sizeof names[0]);
}

#define HEAD_WINDOW (256 * 1024) /* the catalog's head: a few hundred bytes per source */
#define TIMESTAMP_LEN 20	 /* "YYYY-MM-DDTHH:MM:SSZ" */

/* Copy prev into f with the timestamp that follows `marker` replaced by
 * generated_at: mapping.json and the digest differ from the previous ones
 * in nothing else when the run is unchanged. */
static int renew_timestamp(FILE *f, FILE *prev, const char *marker, const char *generated_at)
{
	long at = reuse_find_marker(prev, marker, 4096);
	if (at < 0 || strlen(generated_at) != TIMESTAMP_LEN) {
		errno = EINVAL;
		return -1;
	}
	size_t head = (size_t)at + strlen(marker);
	char *buf = xmalloc(head + TIMESTAMP_LEN + 1);
	int rc = -1;
	if (fseek(prev, 0, SEEK_SET) == 0 &&
	    fread(buf, 1, head + TIMESTAMP_LEN + 1, prev) == head + TIMESTAMP_LEN + 1 &&
	    buf[head + TIMESTAMP_LEN] == '"') {
		fwrite(buf, 1, head, f);
		fputs(generated_at, f);
		rc = reuse_copy_tail(f, prev, (long)(head + TIMESTAMP_LEN));
	} else {
		errno = EINVAL;
	}
	free(buf);
	return rc;
}

enum renewed { RENEW_CATALOG, RENEW_MAPPING, RENEW_CHANGES, RENEW_DIGEST, N_RENEWED };

static const char *const renewed_names[N_RENEWED] = {
    [RENEW_CATALOG] = "catalog.json",
    [RENEW_MAPPING] = "mapping.json",
    [RENEW_CHANGES] = "changes.json",
    [RENEW_DIGEST] = CHANGES_DIGEST_NAME,
};

static int renew_one(const struct reuse_renewal *rn, enum renewed which, FILE *f, FILE *prev)
{
	switch (which) {
	case RENEW_CATALOG: {
		long at = reuse_find_marker(prev, ",\n  \"models\": ", HEAD_WINDOW);
		if (at < 0) {
			errno = EINVAL;
			return -1;
		}
		if (rn->catalog_head(f, rn->arg) != 0)
			return -1;
		return reuse_copy_tail(f, prev, at);
	}
	case RENEW_MAPPING:
		return renew_timestamp(f, prev, "\"generated_at\": \"", rn->generated_at);
	case RENEW_DIGEST:
		return renew_timestamp(f, prev, "\"generated_at\":\"", rn->generated_at);
	case RENEW_CHANGES:
	default:
		return rn->changes(f, rn->arg);
	}
}

int reuse_renew_outputs(const struct reuse_renewal *rn, char *err, size_t errlen)
{
	struct atomic_file files[N_RENEWED];
	bool open[N_RENEWED] = {false};
	int rc = -1;
	memset(files, 0, sizeof files);
	for (int i = 0; i < N_RENEWED; i++) {
		char *path = xasprintf("%s/%s", rn->output_dir, renewed_names[i]);
		FILE *prev = NULL;
		if (i != RENEW_CHANGES && !(prev = fopen(path, "rb"))) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			free(path);
			goto cleanup;
		}
		if (atomic_open(&files[i], path, err, errlen) != 0) {
			if (prev)
				fclose(prev);
			free(path);
			goto cleanup;
		}
		open[i] = true;
		FILE *f = atomic_stream(&files[i]);
		errno = 0;
		int wrc = renew_one(rn, (enum renewed)i, f, prev);
		if (wrc == 0 && (fflush(f) != 0 || fsync(fileno(f)) != 0))
			wrc = -1;
		if (prev)
			fclose(prev);
		if (wrc != 0) {
			int e = errno;
			snprintf(err, errlen, "renewing %s: %s", path,
				 e ? strerror(e) : "could not write it");
			free(path);
			goto cleanup;
		}
		free(path);
	}
	/* The digest goes last, as with the writer: it describes the rest. */
	rc = atomic_commit_set(files, N_RENEWED, err, errlen);
	for (int i = 0; i < N_RENEWED; i++)
		open[i] = false;
cleanup:
	for (int i = 0; i < N_RENEWED; i++)
		if (open[i])
			atomic_abort(&files[i]);
	return rc;
}
