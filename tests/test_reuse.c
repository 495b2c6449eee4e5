/* Reusing the outputs of an unchanged run (engine/reuse.c) and the end
 * frame's optional part that carries the record stream's name
 * (engine/stream.c). The whole flow through the program is in test_e2e. */
#include "mf_build_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../engine/config.h"
#include "../engine/reuse.h"
#include "../engine/stream.h"
#include "../engine/util.h"
#include "testutil.h"

/* ------------------------------------------------------------ run key */

static struct config *load(const char *dir, const char *ini)
{
	char *path = tu_write_file(dir, "modelfuse.ini", ini);
	struct errors errs = {0};
	struct config *cfg = config_load(path, &errs);
	CU_ASSERT_EQUAL(errs.count, 0);
	errors_free(&errs);
	free(path);
	return cfg;
}

static void test_key_follows_config_and_tables(void)
{
	char *dir = tu_tmpdir();
	char *data = malloc(strlen(dir) + 8);
	sprintf(data, "%s/data", dir);
	free(tu_write_file(dir, "data/makers.json", "{\"makers\": {}}\n"));
	char *old_env = getenv("MODELFUSE_DATADIR") ? strdup(getenv("MODELFUSE_DATADIR")) : NULL;
	setenv("MODELFUSE_DATADIR", data, 1);
	static const char ini[] = "[source a]\nplugin = modelsdev\nurl = file:a.json\n";
	struct config *cfg = load(dir, ini);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	time_t now = 1700000000;
	char *k1 = reuse_run_key(cfg, now);
	char *k2 = reuse_run_key(cfg, now);
	CU_ASSERT_EQUAL(strlen(k1), 64);
	CU_ASSERT_STRING_EQUAL(k1, k2);
	/* Without decay the day does not matter. */
	char *k3 = reuse_run_key(cfg, now + 5 * 86400);
	CU_ASSERT_STRING_EQUAL(k1, k3);
	/* A data table's bytes do. */
	free(tu_write_file(dir, "data/makers.json", "{\"makers\": {\"x\": {}}}\n"));
	char *k4 = reuse_run_key(cfg, now);
	CU_ASSERT_STRING_NOT_EQUAL(k1, k4);
	/* And so does one more table in the folder. */
	free(tu_write_file(dir, "data/reputation.json", "{}\n"));
	char *k5 = reuse_run_key(cfg, now);
	CU_ASSERT_STRING_NOT_EQUAL(k4, k5);
	config_free(cfg);
	/* The configuration file's bytes. */
	cfg = load(dir, "[source a]\nplugin = modelsdev\nurl = file:a.json\nprecedence = 7\n");
	char *k6 = reuse_run_key(cfg, now);
	CU_ASSERT_STRING_NOT_EQUAL(k5, k6);
	config_free(cfg);
	/* With decay, scores change by the day: so does the key. */
	cfg = load(dir, "[derive]\nhalf_life_days = 30\n\n[source a]\nplugin = modelsdev\n"
			"url = file:a.json\n");
	char *d1 = reuse_run_key(cfg, now);
	char *d2 = reuse_run_key(cfg, now + 60);
	char *d3 = reuse_run_key(cfg, now + 86400);
	CU_ASSERT_STRING_EQUAL(d1, d2);
	CU_ASSERT_STRING_NOT_EQUAL(d1, d3);
	config_free(cfg);
	if (old_env)
		setenv("MODELFUSE_DATADIR", old_env, 1);
	else
		unsetenv("MODELFUSE_DATADIR");
	free(old_env);
	free(k1), free(k2), free(k3), free(k4), free(k5), free(k6);
	free(d1), free(d2), free(d3);
	free(data);
	tu_rm_rf(dir);
	free(dir);
}

/* ------------------------------------------------------------ state */

static void test_state_round_trip_and_intact(void)
{
	char *dir = tu_tmpdir();
	free(tu_write_file(dir, "catalog.json", "{}\n"));
	free(tu_write_file(dir, "mapping.json", "{}\n"));
	struct reuse_state st = {
	    .key = strdup("k"),
	    .generated_at = strdup("2026-11-22T10:00:00Z"),
	    .n_models = 42,
	    .sources = calloc(2, sizeof *st.sources),
	    .n_sources = 2,
	};
	st.sources[0] = (struct reuse_source){.name = strdup("a"), .records = strdup("records-1")};
	st.sources[1] = (struct reuse_source){.name = strdup("b"), .records = NULL};
	const char *names[] = {"catalog.json", "mapping.json"};
	char err[512] = "", why[512] = "";
	CU_ASSERT_EQUAL_FATAL(reuse_state_write(dir, &st, names, 2, err, sizeof err), 0);
	reuse_state_free(&st);

	struct reuse_state back;
	CU_ASSERT_TRUE_FATAL(reuse_state_read(dir, &back, why, sizeof why));
	CU_ASSERT_STRING_EQUAL(back.key, "k");
	CU_ASSERT_STRING_EQUAL(back.generated_at, "2026-11-22T10:00:00Z");
	CU_ASSERT_EQUAL(back.n_models, 42);
	CU_ASSERT_STRING_EQUAL(reuse_state_records(&back, "a"), "records-1");
	CU_ASSERT_PTR_NULL(reuse_state_records(&back, "b"));
	CU_ASSERT_PTR_NULL(reuse_state_records(&back, "nosuch"));
	CU_ASSERT_TRUE(reuse_outputs_intact(dir, &back, why, sizeof why));

	/* Rewritten with other content (a new inode, as an editor saving
	 * would): no longer the run's output. */
	free(tu_write_file(dir, "mapping.json", "{\"x\": 1}\n"));
	CU_ASSERT_FALSE(reuse_outputs_intact(dir, &back, why, sizeof why));
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "mapping.json changed"));
	char *path = malloc(strlen(dir) + 32);
	sprintf(path, "%s/catalog.json", dir);
	unlink(path);
	CU_ASSERT_FALSE(reuse_outputs_intact(dir, &back, why, sizeof why));
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "catalog.json is gone"));
	reuse_state_free(&back);

	/* A damaged or foreign state is no state. */
	free(tu_write_file(dir, REUSE_STATE_NAME, "{\"version\": 1, \"key\": "));
	CU_ASSERT_FALSE(reuse_state_read(dir, &back, why, sizeof why));
	CU_ASSERT_PTR_NOT_NULL(strstr(why, REUSE_STATE_NAME));
	free(tu_write_file(dir, REUSE_STATE_NAME,
			   "{\"version\": 99, \"key\": \"k\", \"generated_at\": \"x\", "
			   "\"models\": 1, \"sources\": [], \"outputs\": []}"));
	CU_ASSERT_FALSE(reuse_state_read(dir, &back, why, sizeof why));
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "not a state"));
	free(tu_write_file(dir, REUSE_STATE_NAME,
			   "{\"version\": 1, \"key\": \"k\", \"generated_at\": \"x\", "
			   "\"models\": 1, \"sources\": [], "
			   "\"outputs\": [{\"name\": \"../etc/passwd\"}]}"));
	CU_ASSERT_FALSE(reuse_state_read(dir, &back, why, sizeof why));
	free(path);
	tu_rm_rf(dir);
	free(dir);
}

/* ------------------------------------------------------------ renewing */

static const char old_catalog[] = "{\n  \"schema_version\": 1,\n"
				  "  \"generated_at\": \"2026-01-01T00:00:00Z\",\n"
				  "  \"sources\": [\"old\"],\n  \"models\": [\n    {\"id\": \"m\"}\n"
				  "  ]\n}\n";
static const char old_mapping[] = "{\n  \"generated_at\": \"2026-01-01T00:00:00Z\",\n"
				  "  \"records\": 1,\n  \"entries\": [\n  ]\n}\n";
static const char old_digest[] = "{\"modelfuse_digest\":1,"
				 "\"generated_at\":\"2026-01-01T00:00:00Z\"}\n"
				 "{\"id\":\"m\",\"f\":{}}\n";

static int head_new(FILE *f, void *arg)
{
	(void)arg;
	fputs("{\n  \"schema_version\": 1,\n  \"generated_at\": \"2026-11-22T12:00:00Z\",\n"
	      "  \"sources\": [\"new\"]",
	      f);
	return ferror(f) ? -1 : 0;
}

static int changes_new(FILE *f, void *arg)
{
	(void)arg;
	fputs("{\"changes\": \"none\"}\n", f);
	return 0;
}

static char *read_out(const char *dir, const char *name)
{
	char *path = malloc(strlen(dir) + strlen(name) + 2);
	sprintf(path, "%s/%s", dir, name);
	char *s = tu_read_file(path);
	free(path);
	return s;
}

static void test_renew_outputs(void)
{
	char *dir = tu_tmpdir();
	free(tu_write_file(dir, "catalog.json", old_catalog));
	free(tu_write_file(dir, "mapping.json", old_mapping));
	free(tu_write_file(dir, ".catalog-digest.jsonl", old_digest));
	const struct reuse_renewal rn = {
	    .output_dir = dir,
	    .generated_at = "2026-11-22T12:00:00Z",
	    .catalog_head = head_new,
	    .changes = changes_new,
	};
	char err[512] = "";
	CU_ASSERT_EQUAL_FATAL(reuse_renew_outputs(&rn, err, sizeof err), 0);
	char *cat = read_out(dir, "catalog.json");
	CU_ASSERT_STRING_EQUAL(cat, "{\n  \"schema_version\": 1,\n"
				    "  \"generated_at\": \"2026-11-22T12:00:00Z\",\n"
				    "  \"sources\": [\"new\"],\n  \"models\": [\n    {\"id\": \"m\"}\n"
				    "  ]\n}\n");
	char *map = read_out(dir, "mapping.json");
	CU_ASSERT_STRING_EQUAL(map, "{\n  \"generated_at\": \"2026-11-22T12:00:00Z\",\n"
				    "  \"records\": 1,\n  \"entries\": [\n  ]\n}\n");
	char *dig = read_out(dir, ".catalog-digest.jsonl");
	CU_ASSERT_STRING_EQUAL(dig, "{\"modelfuse_digest\":1,\"generated_at\":\"2026-11-22T12:00:00Z\"}\n"
				    "{\"id\":\"m\",\"f\":{}}\n");
	char *ch = read_out(dir, "changes.json");
	CU_ASSERT_STRING_EQUAL(ch, "{\"changes\": \"none\"}\n");
	free(cat), free(map), free(dig), free(ch);

	/* A previous output that is not what the writer writes (here a digest
	 * without its timestamp) stops the renewal and leaves every file as
	 * it was: the run then rebuilds. */
	free(tu_write_file(dir, ".catalog-digest.jsonl", "{\"modelfuse_digest\":1}\n"));
	free(tu_write_file(dir, "changes.json", "previous\n"));
	CU_ASSERT_EQUAL(reuse_renew_outputs(&rn, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ".catalog-digest.jsonl"));
	ch = read_out(dir, "changes.json");
	CU_ASSERT_STRING_EQUAL(ch, "previous\n");
	free(ch);
	/* So does a missing one. */
	char *path = malloc(strlen(dir) + 32);
	sprintf(path, "%s/mapping.json", dir);
	unlink(path);
	CU_ASSERT_EQUAL(reuse_renew_outputs(&rn, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "mapping.json"));
	free(path);
	tu_rm_rf(dir);
	free(dir);
}

static void test_copy_tail(void)
{
	char *dir = tu_tmpdir();
	char *src = tu_write_file(dir, "src", "0123456789");
	char out_path[4096];
	snprintf(out_path, sizeof out_path, "%s/out", dir);
	FILE *in = fopen(src, "rb");
	FILE *out = fopen(out_path, "wb");
	fputs("head:", out);
	CU_ASSERT_EQUAL(reuse_copy_tail(out, in, 4), 0);
	/* Past the end is refused, not a silent short copy. */
	CU_ASSERT_EQUAL(reuse_copy_tail(out, in, 11), -1);
	fclose(out);
	char *got = tu_read_file(out_path);
	CU_ASSERT_STRING_EQUAL(got, "head:456789");
	CU_ASSERT_EQUAL(reuse_find_marker(in, "56", 100), 5);
	CU_ASSERT_EQUAL(reuse_find_marker(in, "89", 5), -1); /* beyond the window */
	CU_ASSERT_EQUAL(reuse_find_marker(in, "x", 100), -1);
	fclose(in);
	free(got);
	free(src);
	tu_rm_rf(dir);
	free(dir);
}

/* ------------------------------------------------------------ the end frame */

static int decode(const struct strbuf *b, struct stream_end *end, char *err, size_t errlen)
{
	struct record_array recs = {0};
	int rc = stream_decode(b->data, b->len, &recs, end, err, errlen);
	record_array_free(&recs);
	return rc;
}

/* A stream as the writer makes it, written to a file and read back. */
static void write_stream(struct strbuf *out, bool named, const char *name, bool pending,
			 uint32_t n)
{
	char path[] = "/tmp/mf-reuse-XXXXXX";
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	struct stream_writer w;
	stream_writer_init(&w, fd);
	if (named)
		stream_write_end_named(&w, SOURCE_CACHED, "2026-11-22T10:00:00Z", "", name, pending,
				       n);
	else
		stream_write_end(&w, SOURCE_CACHED, "2026-11-22T10:00:00Z", "");
	stream_writer_free(&w);
	close(fd);
	char *data = NULL;
	size_t len = 0;
	char err[256];
	data = read_file(path, &len, err, sizeof err);
	unlink(path);
	strbuf_init(out);
	strbuf_append(out, data, len);
	free(data);
}

static void test_end_frame_names_the_stream(void)
{
	struct strbuf b;
	struct stream_end end = {0};
	char err[256];
	/* Streams kept by older caches have no optional part. */
	write_stream(&b, false, NULL, false, 0);
	CU_ASSERT_EQUAL(decode(&b, &end, err, sizeof err), 0);
	CU_ASSERT_PTR_NULL(end.records_name);
	CU_ASSERT_FALSE(end.pending);
	stream_end_free(&end);
	strbuf_free(&b);

	write_stream(&b, true, "records-abc.mfrs", true, 1234);
	memset(&end, 0, sizeof end);
	CU_ASSERT_EQUAL(decode(&b, &end, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(end.records_name, "records-abc.mfrs");
	CU_ASSERT_TRUE(end.pending);
	CU_ASSERT_EQUAL(end.pending_records, 1234);
	CU_ASSERT_EQUAL(end.records, 0);
	stream_end_free(&end);
	/* Unknown flag bits are a broken stream, not ignored. */
	b.data[b.len - 5] = 0x02;
	memset(&end, 0, sizeof end);
	CU_ASSERT_EQUAL(decode(&b, &end, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "malformed end frame"));
	stream_end_free(&end);
	strbuf_free(&b);

	/* Pending records must say which stream they are. */
	write_stream(&b, true, "", true, 3);
	memset(&end, 0, sizeof end);
	CU_ASSERT_EQUAL(decode(&b, &end, err, sizeof err), -1);
	stream_end_free(&end);
	strbuf_free(&b);

	/* A name without pending: the records were sent, the name says which
	 * kept stream they are. */
	write_stream(&b, true, "records-def.mfrs", false, 0);
	memset(&end, 0, sizeof end);
	CU_ASSERT_EQUAL(decode(&b, &end, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(end.records_name, "records-def.mfrs");
	CU_ASSERT_FALSE(end.pending);
	stream_end_free(&end);
	/* A truncated optional part is broken too. */
	b.len -= 2;
	b.data[MF_STREAM_HEADER_LEN + 1] -= 2;
	memset(&end, 0, sizeof end);
	CU_ASSERT_EQUAL(decode(&b, &end, err, sizeof err), -1);
	stream_end_free(&end);
	strbuf_free(&b);
}

int main(void)
{
	static const struct tu_test tests[] = {
	    {"run key follows config, tables and (with decay) the day",
	     test_key_follows_config_and_tables},
	    {"state round trip; edited or removed outputs are noticed",
	     test_state_round_trip_and_intact},
	    {"renewing rewrites heads and copies the rest, or touches nothing", test_renew_outputs},
	    {"copy_tail and find_marker", test_copy_tail},
	    {"end frame names the record stream; pending records", test_end_frame_names_the_stream},
	    {NULL, NULL},
	};
	return tu_main("reuse", tests);
}
