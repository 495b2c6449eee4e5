/* The arena plugin's options, fetch plan and normalizer, driven on fixtures
 * in the LMArena leaderboard format through the real host table and record
 * code. The plugin is compiled into this program, so its descriptor is
 * called directly rather than loaded. */
#include "mf_build_config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fetch.h"
#include "host.h"
#include "record.h"
#include "testutil.h"

extern const struct mf_plugin modelfuse_plugin;

/* Options of one run, as a [source] section would give them; NULL: not
 * configured (the declared default applies). */
struct settings {
	const char *leaderboard;
	const char *overall_category;
	const char *url;
};

/* The outcome of one init + normalize. */
struct run {
	int init_rc;
	int rc;
	struct record_array records;
	struct mf_context ctx;
	struct source_config src;
	struct option_value opts[2];
	char *log; /* everything logged on stderr meanwhile */
};

/* Point stderr at a file while the plugin runs, so tests can assert on
 * what it logged through the host. */
static char *capture_begin(int *saved_fd, char **path)
{
	char *dir = tu_tmpdir();
	*path = tu_write_file(dir, "stderr.txt", "");
	fflush(stderr);
	*saved_fd = dup(STDERR_FILENO);
	FILE *f = fopen(*path, "w");
	CU_ASSERT_FATAL(f != NULL);
	dup2(fileno(f), STDERR_FILENO);
	fclose(f);
	return dir;
}

static char *capture_end(int saved_fd, char *dir, char *path)
{
	fflush(stderr);
	dup2(saved_fd, STDERR_FILENO);
	close(saved_fd);
	char *text = tu_read_file(path);
	tu_rm_rf(dir);
	free(dir);
	free(path);
	return text ? text : strdup("");
}

static void run_setup(struct run *r, const struct settings *s)
{
	memset(r, 0, sizeof(*r));
	r->src.name = (char *)"arena";
	r->src.plugin = (char *)"arena";
	r->src.enabled = true;
	r->src.options = r->opts;
	if (s && s->leaderboard)
		r->opts[r->src.n_options++] =
			(struct option_value){.key = (char *)"leaderboard",
					      .value = (char *)s->leaderboard};
	if (s && s->overall_category)
		r->opts[r->src.n_options++] =
			(struct option_value){.key = (char *)"overall_category",
					      .value = (char *)s->overall_category};
	r->src.url = s && s->url ? (char *)s->url : NULL;
	context_init(&r->ctx, NULL, &r->src, &modelfuse_plugin, record_array_sink, &r->records);
}

/* init, then normalize when init succeeded: what the core's child does. */
static void normalize_bytes_with(struct run *r, const struct settings *s, const char *data,
				 size_t size)
{
	run_setup(r, s);
	struct mf_page page = {
		.struct_size = sizeof(page),
		.index = 0,
		.url = "file:///fixture/leaderboard.json",
		.status = 200,
		.data = data,
		.size = size,
		.header = NULL,
	};
	int saved;
	char *path;
	char *dir = capture_begin(&saved, &path);
	void *state = NULL;
	r->init_rc = modelfuse_plugin.init(&host_table, &r->ctx, &state);
	r->rc = r->init_rc == MF_OK
			? modelfuse_plugin.normalize(&host_table, &r->ctx, state, &page)
			: r->init_rc;
	if (r->init_rc == MF_OK && modelfuse_plugin.fini)
		modelfuse_plugin.fini(&host_table, &r->ctx, state);
	r->log = capture_end(saved, dir, path);
}

static void normalize_bytes(struct run *r, const char *data, size_t size)
{
	normalize_bytes_with(r, NULL, data, size);
}

static char *fixture_text(const char *rel)
{
	char *path = tu_srcpath(rel);
	char *data = tu_read_file(path);
	free(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	return data;
}

static void normalize_fixture_with(struct run *r, const struct settings *s, const char *rel)
{
	char *data = fixture_text(rel);
	normalize_bytes_with(r, s, data, strlen(data));
	free(data);
}

static void normalize_fixture(struct run *r, const char *rel)
{
	normalize_fixture_with(r, NULL, rel);
}

static void run_free(struct run *r)
{
	record_array_free(&r->records);
	free(r->log);
}

static const struct mf_record *find(const struct run *r, const char *name)
{
	for (size_t i = 0; i < r->records.count; i++)
		if (strcmp(r->records.items[i]->native_id, name) == 0)
			return r->records.items[i];
	return NULL;
}

static bool score_is(const struct mf_record *rec, const char *key, double want)
{
	double v;
	return rec && nummap_get(record_get_map(rec, MF_FIELD_SCORES), key, &v) && v == want;
}

static bool has_score(const struct mf_record *rec, const char *key)
{
	double v;
	return rec && nummap_get(record_get_map(rec, MF_FIELD_SCORES), key, &v);
}

static size_t n_scores(const struct mf_record *rec)
{
	const struct nummap *m = rec ? record_get_map(rec, MF_FIELD_SCORES) : NULL;
	return m ? m->count : 0;
}

static unsigned count_lines(const char *text, const char *needle)
{
	unsigned n = 0;
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *copy = strndup(line, len);
		if (strstr(copy, needle))
			n++;
		free(copy);
		line = end ? end + 1 : NULL;
	}
	return n;
}

static unsigned total_lines(const char *text)
{
	unsigned n = 0;
	for (; *text; text++)
		n += *text == '\n';
	return n;
}

/* Every (category, name) row of a leaderboard file is in the records with
 * exactly its three values under "<prefix>.<category>[.q025|.q975]", and
 * no record has a score the file does not explain. */
static void check_every_row(const struct run *r, const char *rel, const char *prefix,
			    const char *overall)
{
	char *data = fixture_text(rel);
	json_error_t err;
	json_t *root = json_loads(data, 0, &err);
	free(data);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);

	static const char *const fields[3] = {"rating", "rating_q025", "rating_q975"};
	static const char *const suffix[3] = {"", ".q025", ".q975"};
	size_t rows = 0;
	const char *cat;
	json_t *models;
	json_object_foreach(root, cat, models) {
		const char *name;
		json_t *row;
		json_object_foreach(models, name, row) {
			const struct mf_record *rec = find(r, name);
			CU_ASSERT_PTR_NOT_NULL(rec);
			for (size_t i = 0; rec && i < 3; i++) {
				char key[256];
				double want = json_real_value(json_object_get(row, fields[i]));
				snprintf(key, sizeof(key), "%s.%s%s", prefix, cat, suffix[i]);
				CU_ASSERT(score_is(rec, key, want));
				if (strcmp(cat, overall) != 0)
					continue;
				snprintf(key, sizeof(key), "%s.overall%s", prefix, suffix[i]);
				CU_ASSERT(score_is(rec, key, want));
				rows++;
			}
			rows += 3;
		}
	}
	size_t stored = 0;
	for (size_t i = 0; i < r->records.count; i++)
		stored += n_scores(r->records.items[i]);
	CU_ASSERT_EQUAL(stored, rows);
	json_decref(root);
}

/* ------------------------------------------------------------------ tests */

static void test_descriptor(void)
{
	CU_ASSERT_EQUAL(modelfuse_plugin.abi_major, MF_ABI_MAJOR);
	CU_ASSERT_EQUAL(modelfuse_plugin.abi_minor, MF_ABI_MINOR);
	CU_ASSERT_EQUAL(modelfuse_plugin.struct_size, sizeof(struct mf_plugin));
	CU_ASSERT_STRING_EQUAL(modelfuse_plugin.name, "arena");
	CU_ASSERT_STRING_EQUAL(modelfuse_plugin.version, "1.0.0");
	CU_ASSERT_STRING_EQUAL(modelfuse_plugin.default_url,
			       "https://raw.githubusercontent.com/lmarena/arena-catalog/main/data/"
			       "leaderboard-text.json");
	CU_ASSERT_PTR_NOT_NULL(modelfuse_plugin.fetch);
	CU_ASSERT_PTR_NOT_NULL(modelfuse_plugin.normalize);

	/* Both options declared, optional, with their defaults. */
	const struct mf_option *o = modelfuse_plugin.options;
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	unsigned seen = 0;
	for (; o->name; o++) {
		CU_ASSERT_EQUAL(o->type, MF_OPT_STRING);
		CU_ASSERT_FALSE(o->required);
		CU_ASSERT_FALSE(o->secret);
		CU_ASSERT_PTR_NOT_NULL(o->help);
		if (strcmp(o->name, "overall_category") == 0) {
			CU_ASSERT_STRING_EQUAL(o->default_value, "full");
			seen |= 1;
		} else if (strcmp(o->name, "leaderboard") == 0) {
			CU_ASSERT_STRING_EQUAL(o->default_value, "text");
			seen |= 2;
		} else {
			CU_FAIL("unexpected option");
		}
	}
	CU_ASSERT_EQUAL(seen, 3);
}

static void test_fetch_one_page(void)
{
	struct run r;
	run_setup(&r, NULL);
	struct mf_request req;
	request_init(&req);
	CU_ASSERT_EQUAL(modelfuse_plugin.fetch(&host_table, &r.ctx, NULL, NULL, &req), MF_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req.url);
	CU_ASSERT_STRING_EQUAL(req.url, modelfuse_plugin.default_url);
	CU_ASSERT_EQUAL(req.n_headers, 0);
	request_clear(&req);

	/* A configured URL (or the file a refresh_command wrote) wins. */
	struct settings s = {.url = "file:///var/cache/modelfuse/arena/leaderboard-text.json"};
	run_setup(&r, &s);
	request_init(&req);
	CU_ASSERT_EQUAL(modelfuse_plugin.fetch(&host_table, &r.ctx, NULL, NULL, &req), MF_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req.url);
	CU_ASSERT_STRING_EQUAL(req.url, s.url);
	request_clear(&req);

	struct mf_page first = {
		.struct_size = sizeof(first),
		.url = s.url,
		.status = 200,
		.data = "{}",
		.size = 2,
	};
	request_init(&req);
	CU_ASSERT_EQUAL(modelfuse_plugin.fetch(&host_table, &r.ctx, NULL, &first, &req), MF_DONE);
	CU_ASSERT_PTR_NULL(req.url);
	request_clear(&req);
	CU_ASSERT_EQUAL(r.records.count, 0);
}

static void test_one_record_per_name(void)
{
	struct run r;
	normalize_fixture(&r, "tests/fixtures/arena/leaderboard-text.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.log[0], '\0');
	/* Eight distinct names over ten categories, in the order they first
	 * appear (categories in file order, names in category order). */
	static const char *const order[] = {
		"deepseek-r1-0528",
		"athene-v2-chat",
		"gemini-2.5-pro",
		"qwen2.5-72b-instruct",
		"claude-opus-4-1-20250805-thinking-16k",
		"gpt-4o-2024-05-13",
		"gemini-2.5-flash-preview-05-20",
		"llama-3.1-405b-instruct-bf16",
	};
	CU_ASSERT_EQUAL_FATAL(r.records.count, sizeof(order) / sizeof(order[0]));
	CU_ASSERT_EQUAL(r.ctx.emitted, r.records.count);
	CU_ASSERT_EQUAL(r.ctx.rejected, 0);
	for (size_t i = 0; i < r.records.count; i++) {
		const struct mf_record *rec = r.records.items[i];
		CU_ASSERT_EQUAL(rec->kind, MF_RECORD_MODEL);
		/* Names kept exactly, variant and precision suffixes included. */
		CU_ASSERT_STRING_EQUAL(rec->native_id, order[i]);
		/* Nothing but scores: the name says nothing certain about a
		 * maker or a display name. */
		CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_MAKER));
		CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_NAME));
		CU_ASSERT_PTR_NULL(record_get_string(rec, MF_FIELD_PROVIDER));
	}
	check_every_row(&r, "tests/fixtures/arena/leaderboard-text.json", "arena", "full");
	run_free(&r);
}

static void test_scores_every_category(void)
{
	struct run r;
	normalize_fixture(&r, "tests/fixtures/arena/leaderboard-text.json");
	const struct mf_record *rec = find(&r, "gemini-2.5-pro");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	/* Ten categories and the overall rating, three values each. */
	CU_ASSERT_EQUAL(n_scores(rec), 33);
	CU_ASSERT(score_is(rec, "arena.full", 1459.523651));
	CU_ASSERT(score_is(rec, "arena.full.q025", 1455.059072));
	CU_ASSERT(score_is(rec, "arena.full.q975", 1466.717618));
	CU_ASSERT(score_is(rec, "arena.overall", 1459.523651));
	CU_ASSERT(score_is(rec, "arena.overall.q025", 1455.059072));
	CU_ASSERT(score_is(rec, "arena.overall.q975", 1466.717618));
	CU_ASSERT(score_is(rec, "arena.hard_6", 1463.923863));
	static const char *const cats[] = {
		"chinese", "coding", "creative_writing", "expert", "hard_6", "if",
		"industry_software_and_it_services", "math", "multiturn",
	};
	for (size_t i = 0; i < sizeof(cats) / sizeof(cats[0]); i++) {
		char key[128];
		snprintf(key, sizeof(key), "arena.%s", cats[i]);
		CU_ASSERT(has_score(rec, key));
		snprintf(key, sizeof(key), "arena.%s.q025", cats[i]);
		CU_ASSERT(has_score(rec, key));
		snprintf(key, sizeof(key), "arena.%s.q975", cats[i]);
		CU_ASSERT(has_score(rec, key));
	}
	run_free(&r);
}

static void test_absent_from_overall(void)
{
	struct run r;
	normalize_fixture(&r, "tests/fixtures/arena/leaderboard-text.json");
	/* Rated in chinese and coding only: no overall, the rest kept. */
	const struct mf_record *rec = find(&r, "athene-v2-chat");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_EQUAL(n_scores(rec), 6);
	CU_ASSERT(score_is(rec, "arena.coding", 1433.854625));
	CU_ASSERT(score_is(rec, "arena.coding.q025", 1429.003734));
	CU_ASSERT(score_is(rec, "arena.coding.q975", 1437.561378));
	CU_ASSERT(has_score(rec, "arena.chinese"));
	CU_ASSERT_FALSE(has_score(rec, "arena.full"));
	CU_ASSERT_FALSE(has_score(rec, "arena.overall"));
	CU_ASSERT_FALSE(has_score(rec, "arena.overall.q025"));
	/* Nobody is warned about: being absent from a category is normal. */
	CU_ASSERT_EQUAL(r.log[0], '\0');
	run_free(&r);
}

static void test_overall_category_option(void)
{
	struct settings s = {.overall_category = "hard_6"};
	struct run r;
	normalize_fixture_with(&r, &s, "tests/fixtures/arena/leaderboard-text.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 8);
	const struct mf_record *rec = find(&r, "gemini-2.5-pro");
	CU_ASSERT(score_is(rec, "arena.overall", 1463.923863));
	CU_ASSERT(score_is(rec, "arena.hard_6", 1463.923863));
	CU_ASSERT(score_is(rec, "arena.full", 1459.523651));
	/* In full but not in hard_6: full kept, no overall. */
	rec = find(&r, "gpt-4o-2024-05-13");
	CU_ASSERT(has_score(rec, "arena.full"));
	CU_ASSERT_FALSE(has_score(rec, "arena.overall"));
	check_every_row(&r, "tests/fixtures/arena/leaderboard-text.json", "arena", "hard_6");
	run_free(&r);

	/* A category the file does not have: every rating kept, one warning. */
	s.overall_category = "style_control";
	normalize_fixture_with(&r, &s, "tests/fixtures/arena/leaderboard-text.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 8);
	CU_ASSERT(has_score(find(&r, "gemini-2.5-pro"), "arena.full"));
	CU_ASSERT_FALSE(has_score(find(&r, "gemini-2.5-pro"), "arena.overall"));
	CU_ASSERT_EQUAL(count_lines(r.log, "no category style_control, so no arena.overall"), 1);
	CU_ASSERT_EQUAL(total_lines(r.log), 1);
	run_free(&r);
}

/* Another board keeps its own namespace; its names keep spaces, parens,
 * brackets and non-ASCII bytes. */
static void test_image_leaderboard(void)
{
	struct settings s = {
		.leaderboard = "image",
		.url = "https://raw.githubusercontent.com/lmarena/arena-catalog/main/data/"
		       "leaderboard-image.json",
	};
	struct run r;
	normalize_fixture_with(&r, &s, "tests/fixtures/arena/leaderboard-image.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.log[0], '\0');
	CU_ASSERT_EQUAL_FATAL(r.records.count, 5);
	CU_ASSERT_STRING_EQUAL(r.records.items[0]->native_id,
			       "gemini-2.5-flash-image-preview (nano-banana)");
	CU_ASSERT_STRING_EQUAL(r.records.items[1]->native_id, "gpt-image-1 (high fidelity)");
	CU_ASSERT_STRING_EQUAL(r.records.items[4]->native_id,
			       "Seedream 4.0 [2K] \xe2\x80\x94 \"quoted\"");

	const struct mf_record *rec = find(&r, "gemini-2.5-flash-image-preview (nano-banana)");
	CU_ASSERT_EQUAL(n_scores(rec), 12);
	CU_ASSERT(score_is(rec, "arena-image.full", 1155.8731));
	CU_ASSERT(score_is(rec, "arena-image.overall", 1155.8731));
	CU_ASSERT(score_is(rec, "arena-image.overall.q975", 1158.9455));
	CU_ASSERT(score_is(rec, "arena-image.is_preset_generation", 1129.0));
	CU_ASSERT(score_is(rec, "arena-image.not_preset_generation.q025", 1156.0));
	CU_ASSERT_FALSE(has_score(rec, "arena.full"));
	CU_ASSERT_FALSE(has_score(rec, "arena.overall"));
	check_every_row(&r, "tests/fixtures/arena/leaderboard-image.json", "arena-image", "full");
	run_free(&r);
}

static void test_bad_options(void)
{
	static const char *const bad_boards[] = {"Text", "", "vision style", "arena.x",
						 "a-very-long-leaderboard-name-over-32"};
	struct run r;
	for (size_t i = 0; i < sizeof(bad_boards) / sizeof(bad_boards[0]); i++) {
		struct settings s = {.leaderboard = bad_boards[i]};
		normalize_fixture_with(&r, &s, "tests/fixtures/arena/leaderboard-text.json");
		CU_ASSERT_EQUAL(r.init_rc, MF_EINVAL);
		CU_ASSERT_EQUAL(r.records.count, 0);
		CU_ASSERT_EQUAL(count_lines(r.log, "leaderboard \""), 1);
		run_free(&r);
	}
	struct settings s = {.overall_category = ""};
	normalize_fixture_with(&r, &s, "tests/fixtures/arena/leaderboard-text.json");
	CU_ASSERT_EQUAL(r.init_rc, MF_EINVAL);
	CU_ASSERT_EQUAL(count_lines(r.log, "overall_category \"\": expected"), 1);
	run_free(&r);

	/* The same checks guard normalize, which may run without init in a
	 * host that replays pages. */
	run_setup(&r, &(struct settings){.leaderboard = "BAD"});
	struct mf_page page = {.struct_size = sizeof(page), .data = "{}", .size = 2};
	int saved;
	char *path;
	char *dir = capture_begin(&saved, &path);
	CU_ASSERT_EQUAL(modelfuse_plugin.normalize(&host_table, &r.ctx, NULL, &page), MF_EINVAL);
	r.log = capture_end(saved, dir, path);
	run_free(&r);

	/* Good tags: digits, '_' and '-' are fine. */
	s = (struct settings){.leaderboard = "text-style_control2"};
	normalize_fixture_with(&r, &s, "tests/fixtures/arena/leaderboard-text.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT(has_score(find(&r, "gemini-2.5-pro"), "arena-text-style_control2.full"));
	run_free(&r);
}

/* A url naming another board than the configured one is worth a warning;
 * the style-control file of the same board is not. */
static void test_url_board_mismatch(void)
{
	struct settings s = {.url = "https://example.org/data/leaderboard-vision.json"};
	struct run r;
	normalize_fixture_with(&r, &s, "tests/fixtures/arena/leaderboard-text.json");
	CU_ASSERT_EQUAL(r.init_rc, MF_OK);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(
		count_lines(r.log, "url names the vision leaderboard but leaderboard = text"), 1);
	run_free(&r);

	static const struct settings quiet[] = {
		{.url = "https://example.org/leaderboard-text-style-control.json"},
		{.url = "https://example.org/leaderboard-vision-style-control.json",
		 .leaderboard = "vision"},
		{.url = "https://example.org/leaderboard-vision.json",
		 .leaderboard = "vision-style-control"},
		{.url = "file:///srv/arena/latest.json"},
		{.url = "file:///srv/arena/leaderboard-"},
	};
	for (size_t i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
		normalize_fixture_with(&r, &quiet[i], "tests/fixtures/arena/leaderboard-text.json");
		CU_ASSERT_EQUAL(r.rc, MF_OK);
		CU_ASSERT_EQUAL(r.log[0], '\0');
		run_free(&r);
	}
}

static void test_wrong_types_skipped(void)
{
	struct run r;
	normalize_fixture(&r, "tests/fixtures/arena/wrong-types.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	/* good-model, string-rating, null-quantiles, bool-q975, row-array,
	 * row-number, nested, extra-keys; the empty name is handed over and
	 * dropped by the core; the skipped categories give nobody. */
	CU_ASSERT_EQUAL(r.records.count, 8);
	CU_ASSERT_EQUAL(r.ctx.rejected, 1);
	CU_ASSERT_PTR_NULL(find(&r, "only-in-overall"));
	CU_ASSERT_PTR_NULL(find(&r, "in-empty-category"));

	/* An integer rating is a number like any other. */
	const struct mf_record *rec = find(&r, "good-model");
	CU_ASSERT(score_is(rec, "arena.coding", 1300));
	CU_ASSERT(score_is(rec, "arena.coding.q975", 1310.5));
	CU_ASSERT(score_is(rec, "arena.overall", 1320));
	CU_ASSERT_EQUAL(n_scores(rec), 9);

	/* A wrong value costs that value only. */
	rec = find(&r, "string-rating");
	CU_ASSERT_FALSE(has_score(rec, "arena.coding"));
	CU_ASSERT(score_is(rec, "arena.coding.q025", 1240));
	CU_ASSERT(score_is(rec, "arena.coding.q975", 1260));
	CU_ASSERT(score_is(rec, "arena.full", 1251));
	rec = find(&r, "bool-q975");
	CU_ASSERT(score_is(rec, "arena.coding", 1190));
	CU_ASSERT(score_is(rec, "arena.coding.q025", 1180));
	CU_ASSERT_FALSE(has_score(rec, "arena.coding.q975"));
	rec = find(&r, "nested");
	CU_ASSERT_EQUAL(n_scores(rec), 2);
	CU_ASSERT(score_is(rec, "arena.full.q975", 1500));
	CU_ASSERT(score_is(rec, "arena.overall.q975", 1500));

	/* null is "unknown": no value and no warning. */
	rec = find(&r, "null-quantiles");
	CU_ASSERT_EQUAL(n_scores(rec), 1);
	CU_ASSERT(score_is(rec, "arena.coding", 1200.5));

	/* A row that is not an object still names a model on the board. */
	CU_ASSERT_EQUAL(n_scores(find(&r, "row-array")), 0);
	CU_ASSERT_EQUAL(n_scores(find(&r, "row-number")), 0);
	/* Keys the format does not have are ignored. */
	CU_ASSERT_EQUAL(n_scores(find(&r, "extra-keys")), 6);

	CU_ASSERT_EQUAL(count_lines(r.log, "coding/\"string-rating\": rating is a string"), 1);
	CU_ASSERT_EQUAL(count_lines(r.log, "coding/\"bool-q975\": rating_q975 is a boolean"), 1);
	CU_ASSERT_EQUAL(count_lines(r.log, "coding/\"row-array\": row is an array"), 1);
	CU_ASSERT_EQUAL(count_lines(r.log, "coding/\"row-number\": row is a real number"), 1);
	CU_ASSERT_EQUAL(count_lines(r.log, "full/\"nested\": rating is an object"), 1);
	CU_ASSERT_EQUAL(count_lines(r.log, "full/\"nested\": rating_q025 is an array"), 1);
	CU_ASSERT_EQUAL(count_lines(r.log, "category math: is an array"), 1);
	CU_ASSERT_EQUAL(count_lines(r.log, "category notes: is a string"), 1);
	CU_ASSERT_EQUAL(count_lines(r.log, "category overall: clashes with the overall rating"), 1);
	CU_ASSERT_EQUAL(count_lines(r.log, "a category has an empty name"), 1);
	CU_ASSERT_EQUAL(count_lines(r.log, "has no id: dropped"), 1);
	CU_ASSERT_EQUAL(count_lines(r.log, "null-quantiles"), 0);
	CU_ASSERT_EQUAL(total_lines(r.log), 11);
	/* Every line carries the instance prefix the host adds. */
	CU_ASSERT_EQUAL(count_lines(r.log, "arena: "), 11);
	run_free(&r);
}

/* overall_category = overall: a category of that name is then the overall
 * one, not a clash. */
static void test_overall_named_overall(void)
{
	struct settings s = {.overall_category = "overall"};
	struct run r;
	normalize_fixture_with(&r, &s, "tests/fixtures/arena/wrong-types.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	const struct mf_record *rec = find(&r, "only-in-overall");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_EQUAL(n_scores(rec), 3);
	CU_ASSERT(score_is(rec, "arena.overall", 1500));
	CU_ASSERT_FALSE(has_score(find(&r, "good-model"), "arena.overall"));
	CU_ASSERT(score_is(find(&r, "good-model"), "arena.full", 1320));
	CU_ASSERT_EQUAL(count_lines(r.log, "clashes"), 0);
	run_free(&r);
}

static void test_malformed_pages(void)
{
	struct run r;
	normalize_fixture(&r, "tests/fixtures/arena/malformed.json");
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(count_lines(r.log, "not valid JSON: line 11, column"), 1);
	run_free(&r);

	/* The catalog's other files are not leaderboards. */
	normalize_fixture(&r, "tests/fixtures/arena/scatterplot-data.json");
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(count_lines(r.log, "top level is an array"), 1);
	run_free(&r);

	normalize_fixture(&r, "tests/fixtures/arena/visibility-data.json");
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(count_lines(r.log, "no rating in any of its 4 rows"), 1);
	run_free(&r);

	static const char *const bad[] = {
		"", "null", "\"full\"", "[]", "{} {}", "{\"full\": {\"m\": {\"rating\": 1}}",
		"{\"full\": {\"m\": {\"rating\": 1e999}}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		normalize_bytes(&r, bad[i], strlen(bad[i]));
		CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
		CU_ASSERT_EQUAL(r.records.count, 0);
		run_free(&r);
	}

	/* The size bounds the page even when the buffer goes on. */
	static const char cut[] = "{\"full\":{\"m\":{\"rating\":1200.0}}}";
	normalize_bytes(&r, cut, 12);
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	run_free(&r);
	normalize_bytes(&r, cut, sizeof(cut) - 1);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 1);
	run_free(&r);

	/* An empty board is valid, just empty (the shrink guard judges it). */
	normalize_bytes(&r, "{}", 2);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(r.log[0], '\0');
	run_free(&r);
	normalize_bytes(&r, "{\"full\": {}}", 12);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 0);
	run_free(&r);
}

static void test_duplicate_names(void)
{
	struct run r;
	normalize_fixture(&r, "tests/fixtures/arena/duplicate-names.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL_FATAL(r.records.count, 1);
	CU_ASSERT(score_is(r.records.items[0], "arena.full", 1310));
	CU_ASSERT(score_is(r.records.items[0], "arena.overall.q025", 1305));
	CU_ASSERT_EQUAL(count_lines(r.log, "duplicate"), 1);
	run_free(&r);
}

/* Thousands of rows with the same defect must not flood the log, and a big
 * board is still one record per name, in first-appearance order. */
static void test_many_rows_warnings_capped(void)
{
	enum { NAMES = 3000, CATS = 4 };
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputc('{', f);
	for (int c = 0; c < CATS; c++) {
		fprintf(f, "%s\"cat%d\":{", c ? "," : "", c);
		/* Each category lists the names in another order: a stride
		 * prime to NAMES visits every name once. */
		static const int stride[CATS] = {1, 7, 11, 13};
		for (int i = 0; i < NAMES; i++) {
			int n = (i * stride[c]) % NAMES;
			fprintf(f, "%s\"model-%d\":{\"rating\":%d.5,\"rating_q025\":\"low\","
				   "\"rating_q975\":%d}",
				i ? "," : "", n, 1000 + n + c, 2000 + n);
		}
		fputc('}', f);
	}
	fputc('}', f);
	fclose(f);

	struct run r;
	normalize_bytes_with(&r, &(struct settings){.overall_category = "cat1"}, page, len);
	free(page);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL_FATAL(r.records.count, NAMES);
	for (int i = 0; i < NAMES; i += 997) {
		char name[32];
		snprintf(name, sizeof(name), "model-%d", i);
		CU_ASSERT_STRING_EQUAL(r.records.items[i]->native_id, name);
		const struct mf_record *rec = r.records.items[i];
		CU_ASSERT_EQUAL(n_scores(rec), CATS * 2 + 2);
		CU_ASSERT(score_is(rec, "arena.cat3", 1000 + i + 3 + 0.5));
		CU_ASSERT(score_is(rec, "arena.overall", 1000 + i + 1 + 0.5));
		CU_ASSERT(score_is(rec, "arena.cat0.q975", 2000 + i));
	}
	unsigned shown = count_lines(r.log, "rating_q025 is a string");
	CU_ASSERT(shown >= 1 && shown <= 50);
	CU_ASSERT_EQUAL(total_lines(r.log), shown + 1);
	char want[64];
	snprintf(want, sizeof(want), "%u more warnings", NAMES * CATS - shown);
	CU_ASSERT_EQUAL(count_lines(r.log, want), 1);
	run_free(&r);
}

/* Hostile input: a huge name, deep nesting inside a row, control bytes. */
static void test_hostile_input(void)
{
	enum { BIG = 1 << 20, DEPTH = 1000 };
	size_t cap = BIG + 4 * DEPTH + 256;
	char *page = malloc(cap);
	CU_ASSERT_PTR_NOT_NULL_FATAL(page);
	size_t n = 0;
	n += (size_t)snprintf(page + n, cap - n, "{\"full\":{\"");
	memset(page + n, 'x', BIG);
	n += BIG;
	n += (size_t)snprintf(page + n, cap - n, "\":{\"rating\":1.0},\"deep\":{\"rating\":");
	for (int i = 0; i < DEPTH; i++)
		page[n++] = '[';
	for (int i = 0; i < DEPTH; i++)
		page[n++] = ']';
	n += (size_t)snprintf(page + n, cap - n,
			      ",\"rating_q025\":2.0},\"tab\\there\\u0001\":{\"rating\":3}}}");

	struct run r;
	normalize_bytes(&r, page, n);
	free(page);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL_FATAL(r.records.count, 3);
	CU_ASSERT_EQUAL(strlen(r.records.items[0]->native_id), BIG);
	CU_ASSERT(score_is(r.records.items[0], "arena.overall", 1.0));
	CU_ASSERT(score_is(find(&r, "deep"), "arena.full.q025", 2.0));
	CU_ASSERT(score_is(find(&r, "tab\there\x01"), "arena.full", 3.0));
	CU_ASSERT_EQUAL(count_lines(r.log, "rating is an array"), 1);
	/* A logged name is cut short, not a megabyte line. */
	CU_ASSERT(strlen(r.log) < 2048);
	run_free(&r);

	/* A category name too long for a score key loses that category. */
	char *longcat = malloc(600);
	CU_ASSERT_PTR_NOT_NULL_FATAL(longcat);
	memset(longcat, 'c', 300);
	snprintf(longcat + 300, 300, "\":{\"m\":{\"rating\":5}},\"full\":{\"m\":{\"rating\":6}}}");
	char *doc = malloc(700);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	snprintf(doc, 700, "{\"%s", longcat);
	free(longcat);
	normalize_bytes(&r, doc, strlen(doc));
	free(doc);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL_FATAL(r.records.count, 1);
	CU_ASSERT_EQUAL(n_scores(r.records.items[0]), 2);
	CU_ASSERT_EQUAL(count_lines(r.log, "too long for a score key"), 1);
	run_free(&r);
}

int main(void)
{
	static const struct tu_test tests[] = {
		{"descriptor and options", test_descriptor},
		{"fetch plans one page", test_fetch_one_page},
		{"one record per name, first-appearance order", test_one_record_per_name},
		{"scores for every category", test_scores_every_category},
		{"model absent from the overall category", test_absent_from_overall},
		{"overall_category option", test_overall_category_option},
		{"image leaderboard: own namespace, odd names", test_image_leaderboard},
		{"bad options refused", test_bad_options},
		{"url naming another board warned", test_url_board_mismatch},
		{"wrong-typed values skipped", test_wrong_types_skipped},
		{"a category named overall", test_overall_named_overall},
		{"malformed pages refused", test_malformed_pages},
		{"duplicate names: last wins, warned", test_duplicate_names},
		{"many rows, warnings capped", test_many_rows_warnings_capped},
		{"hostile input", test_hostile_input},
		{NULL, NULL},
	};
	return tu_main("arena", tests);
}
