/* The fuzz targets on their seeds and on every input that ever crashed one
 * (tests/fuzz/regressions/TARGET/), in the ordinary build: what libFuzzer
 * found stays fixed, under valgrind and the sanitizer build too. */
#include "mf_build_config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "testutil.h"
#include "util.h"

/* A target, and the folders (under the source tree) its inputs are in; a
 * folder entry ending in ".json" or ".ini" is one file. */
struct target {
	const char *name;
	const struct mf_plugin *plugin; /* NULL: stream or config */
	const char *kind;
	const char *inputs[4];
};

static const struct target targets[] = {
    {"modelsdev", &mf_fuzz_plugin_modelsdev, NULL, {"tests/fixtures/modelsdev"}},
    {"openrouter", &mf_fuzz_plugin_openrouter, NULL, {"tests/fixtures/openrouter"}},
    {"litellm", &mf_fuzz_plugin_litellm, NULL, {"tests/fixtures/litellm"}},
    {"huggingface", &mf_fuzz_plugin_huggingface, NULL, {"tests/fixtures/huggingface"}},
    {"arena", &mf_fuzz_plugin_arena, NULL, {"tests/fixtures/arena"}},
    {"community",
     &mf_fuzz_plugin_community,
     NULL,
     {"tests/fixtures/community", "data/community.json"}},
    {"local", &mf_fuzz_plugin_local, NULL, {"tests/fixtures/local"}},
    {"benchmarks", &mf_fuzz_plugin_benchmarks, NULL, {"tests/fixtures/benchmarks"}},
    {"artificialanalysis",
     &mf_fuzz_plugin_artificialanalysis,
     NULL,
     {"tests/fixtures/artificialanalysis"}},
    {"anyllm_openai", &mf_fuzz_plugin_anyllm, "openai", {"tests/fixtures/anyllm"}},
    {"anyllm_anthropic", &mf_fuzz_plugin_anyllm, "anthropic", {"tests/fixtures/anyllm"}},
    {"anyllm_gemini", &mf_fuzz_plugin_anyllm, "gemini", {"tests/fixtures/anyllm"}},
    {"anyllm_mistral", &mf_fuzz_plugin_anyllm, "mistral", {"tests/fixtures/anyllm"}},
    {"stream", NULL, NULL, {"tests/fuzz/seeds/stream"}},
    {"config",
     NULL,
     NULL,
     {"tests/fixtures/config", "etc/modelfuse.ini", "etc/modelfuse-sample.ini"}},
};

static void run_one(const struct target *t, const char *path)
{
	char err[256];
	size_t len = 0;
	char *data = read_file(path, &len, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	if (t->plugin)
		fuzz_normalize(t->plugin, t->kind, (const uint8_t *)data, len);
	else if (strcmp(t->name, "stream") == 0)
		fuzz_stream((const uint8_t *)data, len);
	else
		fuzz_config((const uint8_t *)data, len);
	free(data);
}

/* Every regular file of a folder, or the one file. Returns how many. */
static unsigned run_inputs(const struct target *t, const char *rel)
{
	char *path = tu_srcpath(rel);
	unsigned n = 0;
	DIR *d = opendir(path);
	if (!d) {
		FILE *f = fopen(path, "rb");
		if (f) {
			fclose(f);
			run_one(t, path);
			n = 1;
		}
		free(path);
		return n;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *file = xasprintf("%s/%s", path, e->d_name);
		run_one(t, file);
		free(file);
		n++;
	}
	closedir(d);
	free(path);
	return n;
}

static void replay(const char *name)
{
	fuzz_setup();
	const struct target *t = NULL;
	for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
		if (strcmp(targets[i].name, name) == 0)
			t = &targets[i];
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	unsigned seeds = 0;
	for (size_t i = 0; i < 4 && t->inputs[i]; i++)
		seeds += run_inputs(t, t->inputs[i]);
	char *regressions = xasprintf("tests/fuzz/regressions/%s", name);
	unsigned found = run_inputs(t, regressions);
	free(regressions);
	CU_ASSERT(seeds > 0);
	printf(" (%u seeds, %u regressions)", seeds, found);
}

#define REPLAY(name)                                                                               \
	static void test_##name(void)                                                              \
	{                                                                                          \
		replay(#name);                                                                     \
	}
REPLAY(modelsdev)
REPLAY(openrouter)
REPLAY(litellm)
REPLAY(huggingface)
REPLAY(arena)
REPLAY(community)
REPLAY(local)
REPLAY(benchmarks)
REPLAY(artificialanalysis)
REPLAY(anyllm_openai)
REPLAY(anyllm_anthropic)
REPLAY(anyllm_gemini)
REPLAY(anyllm_mistral)
REPLAY(stream)
REPLAY(config)

int main(void)
{
	static const struct tu_test tests[] = {
	    {"modelsdev", test_modelsdev},
	    {"openrouter", test_openrouter},
	    {"litellm", test_litellm},
	    {"huggingface", test_huggingface},
	    {"arena", test_arena},
	    {"community", test_community},
	    {"local", test_local},
	    {"benchmarks", test_benchmarks},
	    {"artificialanalysis", test_artificialanalysis},
	    {"anyllm openai", test_anyllm_openai},
	    {"anyllm anthropic", test_anyllm_anthropic},
	    {"anyllm gemini", test_anyllm_gemini},
	    {"anyllm mistral", test_anyllm_mistral},
	    {"record stream", test_stream},
	    {"config", test_config},
	    {NULL, NULL},
	};
	return tu_main("fuzz regressions", tests);
}
