/* The arena plugin's options, fetch plan and normalizer, driven on fixtures
 * in the LMArena leaderboard format through the real host table and record
 * code. The plugin is compiled into this program, so its descriptor is
 * called directly rather than loaded. */
#include "mf_build_config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_harness.h"
#include "testutil.h"

extern const struct mf_plugin modelfuse_plugin;

/* Options of one run, as a [source] section would give them; NULL: not
 * configured (the declared default applies). */
struct settings {
	const char *leaderboard;
	const char *overall_category;
	const char *url;
};

/* The [source arena] section these settings stand for, in cfg->src;
 * nothing of the plugin is called. */
static void arena_section(struct ph_source *cfg, const struct settings *s)
{
	ph_source_setup(cfg, &modelfuse_plugin, "arena", s ? s->url : NULL, NULL);
	if (s && s->leaderboard)
		ph_source_option(cfg, "leaderboard", s->leaderboard);
	if (s && s->overall_category)
		ph_source_option(cfg, "overall_category", s->overall_category);
}

static void run_setup(struct ph_run *r, const struct settings *s)
{
	struct ph_source cfg;
	arena_section(&cfg, s);
	ph_run_setup(r, &modelfuse_plugin, &cfg.src);
	ph_source_free(&cfg);
}

/* init, then normalize when init succeeded: what the core's child does. */
static void normalize_bytes_with(struct ph_run *r, const struct settings *s, const char *data,
				 size_t size)
{
	struct ph_source cfg;
	arena_section(&cfg, s);
	ph_normalize_bytes(r, &modelfuse_plugin, &cfg.src, "file:///fixture/leaderboard.json", data,
			   size);
	ph_source_free(&cfg);
}

static void normalize_bytes(struct ph_run *r, const char *data, size_t size)
{
	normalize_bytes_with(r, NULL, data, size);
}

static void normalize_fixture_with(struct ph_run *r, const struct settings *s, const char *rel)
{
	char *data = ph_fixture(rel);
	normalize_bytes_with(r, s, data, strlen(data));
	free(data);
}

static void normalize_fixture(struct ph_run *r, const char *rel)
{
	normalize_fixture_with(r, NULL, rel);
}

/* Every (category, name) row of a leaderboard file is in the records with
 * exactly its three values under "<prefix>.<category>[.q025|.q975]", and
 * no record has a score the file does not explain. */
static void check_every_row(const struct ph_run *r, const char *rel, const char *prefix,
			    const char *overall)
{
	char *data = ph_fixture(rel);
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
			const struct mf_record *rec = ph_find(&r->records, name);
			CU_ASSERT_PTR_NOT_NULL(rec);
			for (size_t i = 0; rec && i < 3; i++) {
				char key[256];
				double want = json_real_value(json_object_get(row, fields[i]));
				snprintf(key, sizeof(key), "%s.%s%s", prefix, cat, suffix[i]);
				CU_ASSERT(ph_score_is(rec, key, want));
				if (strcmp(cat, overall) != 0)
					continue;
				snprintf(key, sizeof(key), "%s.overall%s", prefix, suffix[i]);
				CU_ASSERT(ph_score_is(rec, key, want));
				rows++;
			}
			rows += 3;
		}
	}
	size_t stored = 0;
	for (size_t i = 0; i < r->records.count; i++)
		stored += ph_map_count(r->records.items[i], MF_FIELD_SCORES);
	CU_ASSERT_EQUAL(stored, rows);
	json_decref(root);
}

/* ------------------------------------------------------------------ tests */

static void test_descriptor(void)
{
	ph_expect_descriptor(&modelfuse_plugin, "arena");
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
	struct ph_run r;
	run_setup(&r, NULL);
	const char *url = modelfuse_plugin.default_url;
	CU_ASSERT_EQUAL(ph_expect_fetch(&modelfuse_plugin, &r.ctx, NULL, NULL, url), 0);

	/* A configured URL (or the file a refresh_command wrote) wins. */
	struct settings s = {.url = "file:///var/cache/modelfuse/arena/leaderboard-text.json"};
	run_setup(&r, &s);
	ph_expect_fetch(&modelfuse_plugin, &r.ctx, NULL, NULL, s.url);
	ph_expect_last_page(&modelfuse_plugin, &r.ctx, NULL, s.url);
	CU_ASSERT_EQUAL(r.records.count, 0);
	ph_run_free(&r);
}

static void test_one_record_per_name(void)
{
	struct ph_run r;
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
	ph_run_free(&r);
}

static void test_scores_every_category(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/arena/leaderboard-text.json");
	const struct mf_record *rec = ph_find(&r.records, "gemini-2.5-pro");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	/* Ten categories and the overall rating, three values each. */
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_SCORES), 33);
	CU_ASSERT(ph_score_is(rec, "arena.full", 1459.523651));
	CU_ASSERT(ph_score_is(rec, "arena.full.q025", 1455.059072));
	CU_ASSERT(ph_score_is(rec, "arena.full.q975", 1466.717618));
	CU_ASSERT(ph_score_is(rec, "arena.overall", 1459.523651));
	CU_ASSERT(ph_score_is(rec, "arena.overall.q025", 1455.059072));
	CU_ASSERT(ph_score_is(rec, "arena.overall.q975", 1466.717618));
	CU_ASSERT(ph_score_is(rec, "arena.hard_6", 1463.923863));
	static const char *const cats[] = {
		"chinese", "coding", "creative_writing", "expert", "hard_6", "if",
		"industry_software_and_it_services", "math", "multiturn",
	};
	for (size_t i = 0; i < sizeof(cats) / sizeof(cats[0]); i++) {
		char key[128];
		snprintf(key, sizeof(key), "arena.%s", cats[i]);
		CU_ASSERT(ph_map_has(rec, MF_FIELD_SCORES, key));
		snprintf(key, sizeof(key), "arena.%s.q025", cats[i]);
		CU_ASSERT(ph_map_has(rec, MF_FIELD_SCORES, key));
		snprintf(key, sizeof(key), "arena.%s.q975", cats[i]);
		CU_ASSERT(ph_map_has(rec, MF_FIELD_SCORES, key));
	}
	ph_run_free(&r);
}

static void test_absent_from_overall(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/arena/leaderboard-text.json");
	/* Rated in chinese and coding only: no overall, the rest kept. */
	const struct mf_record *rec = ph_find(&r.records, "athene-v2-chat");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_SCORES), 6);
	CU_ASSERT(ph_score_is(rec, "arena.coding", 1433.854625));
	CU_ASSERT(ph_score_is(rec, "arena.coding.q025", 1429.003734));
	CU_ASSERT(ph_score_is(rec, "arena.coding.q975", 1437.561378));
	CU_ASSERT(ph_map_has(rec, MF_FIELD_SCORES, "arena.chinese"));
	CU_ASSERT_FALSE(ph_map_has(rec, MF_FIELD_SCORES, "arena.full"));
	CU_ASSERT_FALSE(ph_map_has(rec, MF_FIELD_SCORES, "arena.overall"));
	CU_ASSERT_FALSE(ph_map_has(rec, MF_FIELD_SCORES, "arena.overall.q025"));
	/* Nobody is warned about: being absent from a category is normal. */
	CU_ASSERT_EQUAL(r.log[0], '\0');
	ph_run_free(&r);
}

static void test_overall_category_option(void)
{
	struct settings s = {.overall_category = "hard_6"};
	struct ph_run r;
	normalize_fixture_with(&r, &s, "tests/fixtures/arena/leaderboard-text.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 8);
	const struct mf_record *rec = ph_find(&r.records, "gemini-2.5-pro");
	CU_ASSERT(ph_score_is(rec, "arena.overall", 1463.923863));
	CU_ASSERT(ph_score_is(rec, "arena.hard_6", 1463.923863));
	CU_ASSERT(ph_score_is(rec, "arena.full", 1459.523651));
	/* In full but not in hard_6: full kept, no overall. */
	rec = ph_find(&r.records, "gpt-4o-2024-05-13");
	CU_ASSERT(ph_map_has(rec, MF_FIELD_SCORES, "arena.full"));
	CU_ASSERT_FALSE(ph_map_has(rec, MF_FIELD_SCORES, "arena.overall"));
	check_every_row(&r, "tests/fixtures/arena/leaderboard-text.json", "arena", "hard_6");
	ph_run_free(&r);

	/* A category the file does not have: every rating kept, one warning. */
	s.overall_category = "style_control";
	normalize_fixture_with(&r, &s, "tests/fixtures/arena/leaderboard-text.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 8);
	CU_ASSERT(ph_map_has(ph_find(&r.records, "gemini-2.5-pro"), MF_FIELD_SCORES, "arena.full"));
	CU_ASSERT_FALSE(ph_map_has(ph_find(&r.records, "gemini-2.5-pro"), MF_FIELD_SCORES,
				   "arena.overall"));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "no category style_control, so no arena.overall"), 1);
	CU_ASSERT_EQUAL(ph_total_lines(r.log), 1);
	ph_run_free(&r);
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
	struct ph_run r;
	normalize_fixture_with(&r, &s, "tests/fixtures/arena/leaderboard-image.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.log[0], '\0');
	CU_ASSERT_EQUAL_FATAL(r.records.count, 5);
	CU_ASSERT_STRING_EQUAL(r.records.items[0]->native_id,
			       "gemini-2.5-flash-image-preview (nano-banana)");
	CU_ASSERT_STRING_EQUAL(r.records.items[1]->native_id, "gpt-image-1 (high fidelity)");
	CU_ASSERT_STRING_EQUAL(r.records.items[4]->native_id,
			       "Seedream 4.0 [2K] \xe2\x80\x94 \"quoted\"");

	const struct mf_record *rec =
		ph_find(&r.records, "gemini-2.5-flash-image-preview (nano-banana)");
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_SCORES), 12);
	CU_ASSERT(ph_score_is(rec, "arena-image.full", 1155.8731));
	CU_ASSERT(ph_score_is(rec, "arena-image.overall", 1155.8731));
	CU_ASSERT(ph_score_is(rec, "arena-image.overall.q975", 1158.9455));
	CU_ASSERT(ph_score_is(rec, "arena-image.is_preset_generation", 1129.0));
	CU_ASSERT(ph_score_is(rec, "arena-image.not_preset_generation.q025", 1156.0));
	CU_ASSERT_FALSE(ph_map_has(rec, MF_FIELD_SCORES, "arena.full"));
	CU_ASSERT_FALSE(ph_map_has(rec, MF_FIELD_SCORES, "arena.overall"));
	check_every_row(&r, "tests/fixtures/arena/leaderboard-image.json", "arena-image", "full");
	ph_run_free(&r);
}

static void test_bad_options(void)
{
	static const char *const bad_boards[] = {"Text", "", "vision style", "arena.x",
						 "a-very-long-leaderboard-name-over-32"};
	struct ph_run r;
	for (size_t i = 0; i < sizeof(bad_boards) / sizeof(bad_boards[0]); i++) {
		struct settings s = {.leaderboard = bad_boards[i]};
		normalize_fixture_with(&r, &s, "tests/fixtures/arena/leaderboard-text.json");
		CU_ASSERT_EQUAL(r.init_rc, MF_EINVAL);
		CU_ASSERT_EQUAL(r.records.count, 0);
		CU_ASSERT_EQUAL(ph_count_lines(r.log, "leaderboard \""), 1);
		ph_run_free(&r);
	}
	struct settings s = {.overall_category = ""};
	normalize_fixture_with(&r, &s, "tests/fixtures/arena/leaderboard-text.json");
	CU_ASSERT_EQUAL(r.init_rc, MF_EINVAL);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "overall_category \"\": expected"), 1);
	ph_run_free(&r);

	/* The same checks guard normalize, which may run without init in a
	 * host that replays pages. */
	run_setup(&r, &(struct settings){.leaderboard = "BAD"});
	struct mf_page page = ph_page(0, NULL, "{}", 2);
	struct ph_capture c;
	ph_capture_begin(&c);
	CU_ASSERT_EQUAL(modelfuse_plugin.normalize(&host_table, &r.ctx, NULL, &page), MF_EINVAL);
	r.log = ph_capture_end(&c);
	ph_run_free(&r);

	/* Good tags: digits, '_' and '-' are fine. */
	s = (struct settings){.leaderboard = "text-style_control2"};
	normalize_fixture_with(&r, &s, "tests/fixtures/arena/leaderboard-text.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT(ph_map_has(ph_find(&r.records, "gemini-2.5-pro"), MF_FIELD_SCORES,
			     "arena-text-style_control2.full"));
	ph_run_free(&r);
}

/* A url naming another board than the configured one is worth a warning;
 * the style-control file of the same board is not. */
static void test_url_board_mismatch(void)
{
	struct settings s = {.url = "https://example.org/data/leaderboard-vision.json"};
	struct ph_run r;
	normalize_fixture_with(&r, &s, "tests/fixtures/arena/leaderboard-text.json");
	CU_ASSERT_EQUAL(r.init_rc, MF_OK);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(
		ph_count_lines(r.log, "url names the vision leaderboard but leaderboard = text"),
		1);
	ph_run_free(&r);

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
		ph_run_free(&r);
	}
}

static void test_wrong_types_skipped(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/arena/wrong-types.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	/* good-model, string-rating, null-quantiles, bool-q975, row-array,
	 * row-number, nested, extra-keys; the empty name is handed over and
	 * dropped by the core; the skipped categories give nobody. */
	CU_ASSERT_EQUAL(r.records.count, 8);
	CU_ASSERT_EQUAL(r.ctx.rejected, 1);
	CU_ASSERT_PTR_NULL(ph_find(&r.records, "only-in-overall"));
	CU_ASSERT_PTR_NULL(ph_find(&r.records, "in-empty-category"));

	/* An integer rating is a number like any other. */
	const struct mf_record *rec = ph_find(&r.records, "good-model");
	CU_ASSERT(ph_score_is(rec, "arena.coding", 1300));
	CU_ASSERT(ph_score_is(rec, "arena.coding.q975", 1310.5));
	CU_ASSERT(ph_score_is(rec, "arena.overall", 1320));
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_SCORES), 9);

	/* A wrong value costs that value only. */
	rec = ph_find(&r.records, "string-rating");
	CU_ASSERT_FALSE(ph_map_has(rec, MF_FIELD_SCORES, "arena.coding"));
	CU_ASSERT(ph_score_is(rec, "arena.coding.q025", 1240));
	CU_ASSERT(ph_score_is(rec, "arena.coding.q975", 1260));
	CU_ASSERT(ph_score_is(rec, "arena.full", 1251));
	rec = ph_find(&r.records, "bool-q975");
	CU_ASSERT(ph_score_is(rec, "arena.coding", 1190));
	CU_ASSERT(ph_score_is(rec, "arena.coding.q025", 1180));
	CU_ASSERT_FALSE(ph_map_has(rec, MF_FIELD_SCORES, "arena.coding.q975"));
	rec = ph_find(&r.records, "nested");
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_SCORES), 2);
	CU_ASSERT(ph_score_is(rec, "arena.full.q975", 1500));
	CU_ASSERT(ph_score_is(rec, "arena.overall.q975", 1500));

	/* null is "unknown": no value and no warning. */
	rec = ph_find(&r.records, "null-quantiles");
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_SCORES), 1);
	CU_ASSERT(ph_score_is(rec, "arena.coding", 1200.5));

	/* A row that is not an object still names a model on the board. */
	CU_ASSERT_EQUAL(ph_map_count(ph_find(&r.records, "row-array"), MF_FIELD_SCORES), 0);
	CU_ASSERT_EQUAL(ph_map_count(ph_find(&r.records, "row-number"), MF_FIELD_SCORES), 0);
	/* Keys the format does not have are ignored. */
	CU_ASSERT_EQUAL(ph_map_count(ph_find(&r.records, "extra-keys"), MF_FIELD_SCORES), 6);

	CU_ASSERT_EQUAL(ph_count_lines(r.log, "coding/\"string-rating\": rating is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "coding/\"bool-q975\": rating_q975 is a boolean"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "coding/\"row-array\": row is an array"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "coding/\"row-number\": row is a real number"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "full/\"nested\": rating is an object"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "full/\"nested\": rating_q025 is an array"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "category math: is an array"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "category notes: is a string"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "category overall: clashes with the overall rating"),
			1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "a category has an empty name"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "has no id: dropped"), 1);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "null-quantiles"), 0);
	CU_ASSERT_EQUAL(ph_total_lines(r.log), 11);
	/* Every line carries the instance prefix the host adds. */
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "arena: "), 11);
	ph_run_free(&r);
}

/* overall_category = overall: a category of that name is then the overall
 * one, not a clash. */
static void test_overall_named_overall(void)
{
	struct settings s = {.overall_category = "overall"};
	struct ph_run r;
	normalize_fixture_with(&r, &s, "tests/fixtures/arena/wrong-types.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	const struct mf_record *rec = ph_find(&r.records, "only-in-overall");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_SCORES), 3);
	CU_ASSERT(ph_score_is(rec, "arena.overall", 1500));
	CU_ASSERT_FALSE(ph_map_has(ph_find(&r.records, "good-model"), MF_FIELD_SCORES,
				   "arena.overall"));
	CU_ASSERT(ph_score_is(ph_find(&r.records, "good-model"), "arena.full", 1320));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "clashes"), 0);
	ph_run_free(&r);
}

static void test_malformed_pages(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/arena/malformed.json");
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "not valid JSON: line 11, column"), 1);
	ph_run_free(&r);

	/* The catalog's other files are not leaderboards. */
	normalize_fixture(&r, "tests/fixtures/arena/scatterplot-data.json");
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "top level is an array"), 1);
	ph_run_free(&r);

	normalize_fixture(&r, "tests/fixtures/arena/visibility-data.json");
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "no rating in any of its 4 rows"), 1);
	ph_run_free(&r);

	static const char *const bad[] = {
		"", "null", "\"full\"", "[]", "{} {}", "{\"full\": {\"m\": {\"rating\": 1}}",
		"{\"full\": {\"m\": {\"rating\": 1e999}}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		normalize_bytes(&r, bad[i], strlen(bad[i]));
		CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
		CU_ASSERT_EQUAL(r.records.count, 0);
		ph_run_free(&r);
	}

	/* The size bounds the page even when the buffer goes on. */
	static const char cut[] = "{\"full\":{\"m\":{\"rating\":1200.0}}}";
	normalize_bytes(&r, cut, 12);
	CU_ASSERT_EQUAL(r.rc, MF_EPARSE);
	ph_run_free(&r);
	normalize_bytes(&r, cut, sizeof(cut) - 1);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 1);
	ph_run_free(&r);

	/* An empty board is valid, just empty (the shrink guard judges it). */
	normalize_bytes(&r, "{}", 2);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 0);
	CU_ASSERT_EQUAL(r.log[0], '\0');
	ph_run_free(&r);
	normalize_bytes(&r, "{\"full\": {}}", 12);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL(r.records.count, 0);
	ph_run_free(&r);
}

static void test_duplicate_names(void)
{
	struct ph_run r;
	normalize_fixture(&r, "tests/fixtures/arena/duplicate-names.json");
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL_FATAL(r.records.count, 1);
	CU_ASSERT(ph_score_is(r.records.items[0], "arena.full", 1310));
	CU_ASSERT(ph_score_is(r.records.items[0], "arena.overall.q025", 1305));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "duplicate"), 1);
	ph_run_free(&r);
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

	struct ph_run r;
	normalize_bytes_with(&r, &(struct settings){.overall_category = "cat1"}, page, len);
	free(page);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL_FATAL(r.records.count, NAMES);
	for (int i = 0; i < NAMES; i += 997) {
		char name[32];
		snprintf(name, sizeof(name), "model-%d", i);
		CU_ASSERT_STRING_EQUAL(r.records.items[i]->native_id, name);
		const struct mf_record *rec = r.records.items[i];
		CU_ASSERT_EQUAL(ph_map_count(rec, MF_FIELD_SCORES), CATS * 2 + 2);
		CU_ASSERT(ph_score_is(rec, "arena.cat3", 1000 + i + 3 + 0.5));
		CU_ASSERT(ph_score_is(rec, "arena.overall", 1000 + i + 1 + 0.5));
		CU_ASSERT(ph_score_is(rec, "arena.cat0.q975", 2000 + i));
	}
	ph_expect_capped(r.log, "rating_q025 is a string", 1, 50, NAMES * CATS);
	ph_run_free(&r);
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

	struct ph_run r;
	normalize_bytes(&r, page, n);
	free(page);
	CU_ASSERT_EQUAL(r.rc, MF_OK);
	CU_ASSERT_EQUAL_FATAL(r.records.count, 3);
	CU_ASSERT_EQUAL(strlen(r.records.items[0]->native_id), BIG);
	CU_ASSERT(ph_score_is(r.records.items[0], "arena.overall", 1.0));
	CU_ASSERT(ph_score_is(ph_find(&r.records, "deep"), "arena.full.q025", 2.0));
	CU_ASSERT(ph_score_is(ph_find(&r.records, "tab\there\x01"), "arena.full", 3.0));
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "rating is an array"), 1);
	/* A logged name is cut short, not a megabyte line. */
	CU_ASSERT(strlen(r.log) < 2048);
	ph_run_free(&r);

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
	CU_ASSERT_EQUAL(ph_map_count(r.records.items[0], MF_FIELD_SCORES), 2);
	CU_ASSERT_EQUAL(ph_count_lines(r.log, "too long for a score key"), 1);
	ph_run_free(&r);
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
