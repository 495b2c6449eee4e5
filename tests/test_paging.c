/* Paged upstreams over the loopback server, through the real program and
 * plugins: Hugging Face follows Link rel="next", Anthropic after_id,
 * Gemini pageToken; every record of every page arrives, and the admin's key
 * goes only to the configured origin. */
#include "mf_build_config.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpd_client.h"
#include "testutil.h"
#include "util.h"

#define CANARY "sk-canary-7f3a9c1e55d04b2b"

struct sandbox {
	char *dir;
	char *config;
};

static struct sandbox sandbox_new(const char *sources)
{
	struct sandbox sb = {.dir = tu_tmpdir()};
	char *ini = xasprintf("[core]\nplugin_dir = %s\ncache_dir = cache\noutput_dir = out\n"
			      "retries = 0\nconnect_timeout_ms = 2000\n\n%s",
			      tu_env("MF_TEST_PLUGIN_DIR"), sources);
	sb.config = tu_write_file(sb.dir, "modelfuse.ini", ini);
	free(ini);
	return sb;
}

static void sandbox_free(struct sandbox *sb)
{
	tu_rm_rf(sb->dir);
	free(sb->dir);
	free(sb->config);
}

static int run(const struct sandbox *sb, char **err)
{
	char *argv[] = {(char *)tu_env("MF_TEST_PROGRAM"), "-c", sb->config, "run", NULL};
	const char *env[] = {"MF_PAGING_KEY=" CANARY, NULL};
	return tu_run(argv, env, NULL, err);
}

/* The native ids the catalog lists for one source instance, sorted, joined
 * with spaces. */
static char *ids_of(const struct sandbox *sb, const char *instance)
{
	char *path = xasprintf("%s/out/catalog.json", sb->dir);
	json_t *cat = json_load_file(path, 0, NULL);
	free(path);
	struct strbuf out;
	strbuf_init(&out);
	size_t i;
	json_t *model;
	json_array_foreach(json_object_get(cat, "models"), i, model) {
		json_t *ids = json_object_get(json_object_get(model, "source_ids"), instance);
		size_t k;
		json_t *id;
		json_array_foreach(ids, k, id) {
			strbuf_puts(&out, json_string_value(id));
			strbuf_puts(&out, " ");
		}
	}
	json_decref(cat);
	return strbuf_detach(&out);
}

static bool lists(const char *ids, const char *id)
{
	char *word = xasprintf("%s ", id);
	bool found = strstr(ids, word) != NULL;
	if (!found)
		fprintf(stderr, "\n'%s' not among: %s\n", id, ids);
	free(word);
	return found;
}

static void test_huggingface_link_pages(void)
{
	struct httpd h;
	httpd_start(&h, "{\"/api/models\": ["
			"{\"headers\": {\"Link\": \"<http://127.0.0.1:{plain}/api/models?cursor=p2>; "
			"rel=\\\"next\\\"\"}, \"body\": \"[{\\\"id\\\": \\\"org-a/model-one\\\", "
			"\\\"downloads\\\": 10}]\"},"
			"{\"headers\": {\"Link\": \"</api/models?cursor=p3>; rel=next\"}, "
			"\"body\": \"[{\\\"id\\\": \\\"org-b/model-two\\\", \\\"downloads\\\": 20}]\"},"
			"{\"body\": \"[{\\\"id\\\": \\\"org-c/model-three\\\", \\\"downloads\\\": 30}]\"}"
			"]}");
	char *src = xasprintf("[source hf]\nplugin = huggingface\n"
			      "url = http://127.0.0.1:%d/api/models\nlimit = 1\n",
			      h.plain);
	struct sandbox sb = sandbox_new(src);
	char *err = NULL;
	CU_ASSERT_EQUAL(run(&sb, &err), 0);
	CU_ASSERT_EQUAL(httpd_requests(&h, "plain", "/api/models", NULL, NULL), 3);
	char *second = httpd_request_path(&h, 1);
	char *third = httpd_request_path(&h, 2);
	CU_ASSERT_PTR_NOT_NULL(second && strstr(second, "cursor=p2") ? second : NULL);
	CU_ASSERT_PTR_NOT_NULL(third && strstr(third, "cursor=p3") ? third : NULL);
	char *ids = ids_of(&sb, "hf");
	CU_ASSERT_TRUE(lists(ids, "org-a/model-one"));
	CU_ASSERT_TRUE(lists(ids, "org-b/model-two"));
	CU_ASSERT_TRUE(lists(ids, "org-c/model-three"));
	free(ids);
	free(second);
	free(third);
	free(err);
	free(src);
	sandbox_free(&sb);
	httpd_stop(&h);
}

static void test_anthropic_after_id_pages_and_key(void)
{
	struct httpd h;
	httpd_start(&h, "{\"/v1/models\": ["
			"{\"body\": \"{\\\"data\\\": [{\\\"id\\\": \\\"claude-a\\\", \\\"type\\\": "
			"\\\"model\\\"}], \\\"has_more\\\": true, \\\"last_id\\\": \\\"claude-a\\\"}\"},"
			"{\"body\": \"{\\\"data\\\": [{\\\"id\\\": \\\"claude-b\\\", \\\"type\\\": "
			"\\\"model\\\"}], \\\"has_more\\\": true, \\\"last_id\\\": \\\"claude-b\\\"}\"},"
			"{\"body\": \"{\\\"data\\\": [{\\\"id\\\": \\\"claude-c\\\", \\\"type\\\": "
			"\\\"model\\\"}], \\\"has_more\\\": false, \\\"last_id\\\": \\\"claude-c\\\"}\"}"
			"]}");
	char *src = xasprintf("[source anthropic]\nplugin = anyllm\nkind = anthropic\n"
			      "url = http://127.0.0.1:%d/v1/models\napi_key_env = MF_PAGING_KEY\n",
			      h.plain);
	struct sandbox sb = sandbox_new(src);
	char *err = NULL;
	CU_ASSERT_EQUAL(run(&sb, &err), 0);
	CU_ASSERT_EQUAL(httpd_requests(&h, "plain", "/v1/models", "x-api-key", CANARY), 3);
	char *second = httpd_request_path(&h, 1);
	char *third = httpd_request_path(&h, 2);
	CU_ASSERT_PTR_NOT_NULL(second && strstr(second, "after_id=claude-a") ? second : NULL);
	CU_ASSERT_PTR_NOT_NULL(third && strstr(third, "after_id=claude-b") ? third : NULL);
	char *ids = ids_of(&sb, "anthropic");
	CU_ASSERT_TRUE(lists(ids, "claude-a"));
	CU_ASSERT_TRUE(lists(ids, "claude-b"));
	CU_ASSERT_TRUE(lists(ids, "claude-c"));
	/* The key is in no output, no cache file and no message. */
	CU_ASSERT_PTR_NULL(strstr(err, CANARY));
	char *cmd = xasprintf("grep -r -l '%s' '%s' >/dev/null 2>&1", CANARY, sb.dir);
	CU_ASSERT_NOT_EQUAL(system(cmd), 0);
	free(cmd);
	free(ids);
	free(second);
	free(third);
	free(err);
	free(src);
	sandbox_free(&sb);
	httpd_stop(&h);
}

static void test_gemini_page_token_pages(void)
{
	struct httpd h;
	httpd_start(&h, "{\"/v1beta/models\": ["
			"{\"body\": \"{\\\"models\\\": [{\\\"name\\\": \\\"models/gemini-x\\\", "
			"\\\"supportedGenerationMethods\\\": [\\\"generateContent\\\"]}], "
			"\\\"nextPageToken\\\": \\\"tok-2\\\"}\"},"
			"{\"body\": \"{\\\"models\\\": [{\\\"name\\\": \\\"models/gemini-y\\\", "
			"\\\"supportedGenerationMethods\\\": [\\\"generateContent\\\"]}], "
			"\\\"nextPageToken\\\": \\\"tok-3\\\"}\"},"
			"{\"body\": \"{\\\"models\\\": [{\\\"name\\\": \\\"models/text-embedding-z\\\", "
			"\\\"supportedGenerationMethods\\\": [\\\"embedContent\\\"]}]}\"}"
			"]}");
	char *src = xasprintf("[source gemini]\nplugin = anyllm\nkind = gemini\nprovider = google\n"
			      "url = http://127.0.0.1:%d/v1beta/models\napi_key_env = MF_PAGING_KEY\n",
			      h.plain);
	struct sandbox sb = sandbox_new(src);
	char *err = NULL;
	CU_ASSERT_EQUAL(run(&sb, &err), 0);
	CU_ASSERT_EQUAL(httpd_requests(&h, "plain", "/v1beta/models", "x-goog-api-key", CANARY), 3);
	char *second = httpd_request_path(&h, 1);
	char *third = httpd_request_path(&h, 2);
	CU_ASSERT_PTR_NOT_NULL(second && strstr(second, "pageToken=tok-2") ? second : NULL);
	CU_ASSERT_PTR_NOT_NULL(third && strstr(third, "pageToken=tok-3") ? third : NULL);
	/* The key travels in a header, never in the URL. */
	CU_ASSERT_PTR_NULL(second ? strstr(second, CANARY) : NULL);
	char *ids = ids_of(&sb, "gemini");
	CU_ASSERT_TRUE(lists(ids, "models/gemini-x"));
	CU_ASSERT_TRUE(lists(ids, "models/gemini-y"));
	CU_ASSERT_TRUE(lists(ids, "models/text-embedding-z"));
	free(ids);
	free(second);
	free(third);
	free(err);
	free(src);
	sandbox_free(&sb);
	httpd_stop(&h);
}

static const struct tu_test tests[] = {
	{"huggingface follows Link next over 3 pages", test_huggingface_link_pages},
	{"anthropic pages with after_id, key to its origin only",
	 test_anthropic_after_id_pages_and_key},
	{"gemini pages with pageToken", test_gemini_page_token_pages},
	{NULL, NULL},
};

int main(void)
{
	return tu_main("paging", tests);
}
