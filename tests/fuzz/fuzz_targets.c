/* The bodies of the fuzz targets (fuzz.h). A failed check calls abort(),
 * which libFuzzer reports as a crash and the replay test as a dead test
 * program: both keep the input. */
#include "mf_build_config.h"
#include "fuzz.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "config.h"
#include "fetch.h"
#include "host.h"
#include "log.h"
#include "record.h"
#include "stream.h"
#include "util.h"

static char *work_dir;	 /* private temporary folder for the file-based targets */
static int null_fd = -1; /* where the cache's stream copier writes */

static void remove_work_dir(void)
{
	if (!work_dir)
		return;
	char *ini = xasprintf("%s/fuzz.ini", work_dir);
	char *stream = xasprintf("%s/fuzz.mfrs", work_dir);
	unlink(ini);
	unlink(stream);
	rmdir(work_dir);
	free(ini);
	free(stream);
	free(work_dir);
	work_dir = NULL;
}

void fuzz_setup(void)
{
	if (work_dir)
		return;
	/* Plugins log every problem they see; at fuzzing speed that is noise. */
	log_set_level(MF_LOG_ERROR);
	const char *tmp = getenv("TMPDIR");
	work_dir = xasprintf("%s/mffuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(work_dir)) {
		perror("mkdtemp");
		abort();
	}
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	atexit(remove_work_dir);
}

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz check failed: %s\n", what);
		abort();
	}
}

static void write_whole(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	check(f != NULL, "cannot create a temporary file");
	check(fwrite(data, 1, size, f) == size && fclose(f) == 0, "cannot write a temporary file");
}

/* ------------------------------------------------------------- normalize */

/* Every record a plugin hands over must survive the trip through the
 * stream the child sends it in. */
static int fuzz_sink(void *arg, struct mf_record *rec)
{
	unsigned long *count = arg;
	check(rec->native_id && rec->native_id[0], "a record without an id reached the sink");
	struct stream_writer w;
	stream_writer_init(&w, -1);
	size_t before = w.buf.len;
	stream_encode_record(&w.buf, rec);
	if (w.buf.len - before - 5 <= MF_STREAM_MAX_FRAME) {
		w.records = 1;
		/* The end frame by hand: stream_write_end would write to the fd. */
		struct strbuf *b = &w.buf;
		const uint8_t end[] = {'E', 13, 0, 0, 0, SOURCE_FRESH, 1, 0, 0, 0, 0, 0, 0,
				       0,   0,	0, 0, 0};
		strbuf_append(b, end, sizeof end);
		struct record_array back = {0};
		struct stream_end e;
		char err[256];
		int rc = stream_decode(b->data, b->len, &back, &e, err, sizeof err);
		if (rc != 0)
			fprintf(stderr, "record '%.80s' does not decode: %s\n", rec->native_id,
				err);
		check(rc == 0 && back.count == 1, "an emitted record does not decode");
		check(strcmp(back.items[0]->native_id, rec->native_id) == 0 &&
			  back.items[0]->kind == rec->kind,
		      "a decoded record differs from the emitted one");
		stream_end_free(&e);
		record_array_free(&back);
	}
	stream_writer_free(&w);
	record_free(rec);
	(*count)++;
	return MF_OK;
}

void fuzz_normalize(const struct mf_plugin *plugin, const char *kind, const uint8_t *data,
		    size_t size)
{
	static const char url[] = "file:///fuzz/page.json";
	struct option_value opt = {.key = (char *)"kind", .value = (char *)kind, .line = 1};
	struct source_config src = {
	    .name = (char *)"fuzz",
	    .plugin = (char *)plugin->name,
	    .enabled = true,
	    .url = (char *)url,
	    .options = kind ? &opt : NULL,
	    .n_options = kind ? 1 : 0,
	};
	unsigned long count = 0;
	struct mf_context ctx;
	context_init(&ctx, NULL, &src, plugin, fuzz_sink, &count);
	void *state = NULL;
	int rc = plugin->init ? plugin->init(&host_table, &ctx, &state) : MF_OK;
	check(rc == MF_OK, "plugin init failed: the harness is set up wrong");

	/* The page as the core hands it over: NUL-terminated, not counted. */
	char *copy = xmalloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	struct fetched_page page;
	fetched_page_make(&page, 0, xstrdup(url), 200, copy, size, NULL, 0);
	rc = plugin->normalize(&host_table, &ctx, state, &page.page);
	check(rc == MF_OK || rc < 0, "normalize returned a status that is not an error");
	if (plugin->fini)
		plugin->fini(&host_table, &ctx, state);
	fetched_page_free(&page);
}

/* ------------------------------------------------------------- stream */

static void reencode(const struct record_array *in)
{
	struct stream_writer w;
	stream_writer_init(&w, -1);
	for (size_t i = 0; i < in->count; i++) {
		stream_encode_record(&w.buf, in->items[i]);
		w.records++;
	}
	uint8_t end[18] = {'E', 13, 0, 0, 0, SOURCE_FRESH};
	for (int k = 0; k < 4; k++)
		end[6 + k] = (uint8_t)(w.records >> (8 * k));
	strbuf_append(&w.buf, end, sizeof end);
	struct record_array back = {0};
	struct stream_end e;
	char err[256];
	int rc = stream_decode(w.buf.data, w.buf.len, &back, &e, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "re-encoded stream does not decode: %s\n", err);
	check(rc == 0 && back.count == in->count, "a decoded stream does not survive re-encoding");
	for (size_t i = 0; i < back.count; i++)
		check(strcmp(back.items[i]->native_id, in->items[i]->native_id) == 0,
		      "re-encoding changed a record id");
	stream_end_free(&e);
	record_array_free(&back);
	stream_writer_free(&w);
}

void fuzz_stream(const uint8_t *data, size_t size)
{
	struct record_array out = {0};
	struct stream_end end;
	char err[256];
	int rc = stream_decode(data, size, &out, &end, err, sizeof err);
	if (rc == 0) {
		check(end.records == out.count, "decoder accepted a wrong record count");
		reencode(&out);
		stream_end_free(&end);
	} else {
		check(out.count == 0, "a refused stream left records behind");
	}

	/* The cache's own walk over a stored stream: whatever the decoder
	 * accepts, it must accept too (never the other way round: it does
	 * not look inside records). */
	char *path = xasprintf("%s/fuzz.mfrs", work_dir);
	write_whole(path, data, size);
	struct stream_writer w;
	stream_writer_init(&w, null_fd);
	w.buf.len = 0; /* the copier appends frames only */
	uint64_t expect = rc == 0 ? out.count : (size >= 4 ? data[size - 1] : 0);
	int src = cache_send_records(path, &w, expect, err, sizeof err);
	if (rc == 0 && src != 0)
		fprintf(stderr, "the cache refused a stream the decoder took: %s\n", err);
	check(rc != 0 || src == 0, "the cache's stream check refused a valid stream");
	stream_writer_free(&w);
	free(path);
	record_array_free(&out);
}

/* ------------------------------------------------------------- config */

static const struct mf_option fuzz_options[] = {
    {.name = "text", .type = MF_OPT_STRING, .default_value = "x"},
    {.name = "count", .type = MF_OPT_INT, .default_value = "1"},
    {.name = "flag", .type = MF_OPT_BOOL, .default_value = "no"},
    {.name = "ratio", .type = MF_OPT_REAL, .default_value = "0.5"},
    {.name = "needed", .type = MF_OPT_STRING, .required = true},
    {.name = "api_key", .type = MF_OPT_STRING, .secret = true},
    {.name = NULL},
};

static int fuzz_fetch(const struct mf_host *host, struct mf_context *ctx, void *state,
		      const struct mf_page *prev, struct mf_request *req)
{
	(void)host;
	(void)ctx;
	(void)state;
	(void)prev;
	(void)req;
	return MF_DONE;
}

static int fuzz_normalize_none(const struct mf_host *host, struct mf_context *ctx, void *state,
			       const struct mf_page *page)
{
	(void)host;
	(void)ctx;
	(void)state;
	(void)page;
	return MF_OK;
}

static const struct mf_plugin fuzz_plugin = {
    .abi_major = MF_ABI_MAJOR,
    .abi_minor = MF_ABI_MINOR,
    .struct_size = sizeof(struct mf_plugin),
    .name = "fuzz",
    .version = "1.0.0",
    .options = fuzz_options,
    .fetch = fuzz_fetch,
    .normalize = fuzz_normalize_none,
};

void fuzz_config(const uint8_t *data, size_t size)
{
	char *path = xasprintf("%s/fuzz.ini", work_dir);
	write_whole(path, data, size);
	struct errors errs = {0};
	struct config *cfg = config_load(path, &errs);
	if (cfg && errs.count == 0) {
		for (size_t i = 0; i < cfg->n_sources; i++) {
			const struct source_config *src = &cfg->sources[i];
			config_check_options(cfg, src, &fuzz_plugin, &errs);
			for (const struct mf_option *o = fuzz_options; o->name; o++)
				(void)config_option(src, &fuzz_plugin, o->name);
			if (src->refresh_command) {
				char **argv = NULL;
				char err[256];
				if (config_split_command(src->refresh_command, &argv, err,
							 sizeof err) == 0)
					check(argv && argv[0], "a split command without words");
				config_free_argv(argv);
				free(config_refresh_dir(cfg, src));
			}
		}
	}
	for (size_t i = 0; i < errs.count; i++)
		check(errs.msgs[i] && *errs.msgs[i], "an empty configuration error");
	errors_free(&errs);
	config_free(cfg);
	free(path);
}
