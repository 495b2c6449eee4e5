/* libFuzzer entry points: one binary per target, chosen when tests/fuzz/run.sh
 * compiles this file: -DMF_FUZZ_STREAM, -DMF_FUZZ_CONFIG, or
 * -DMF_FUZZ_PLUGIN=mf_fuzz_plugin_NAME (with -DMF_FUZZ_KIND='"kind"' for
 * anyllm's listing formats). */
#include "mf_build_config.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef MF_FUZZ_KIND
#define MF_FUZZ_KIND NULL
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#if defined(MF_FUZZ_STREAM)
	fuzz_stream(data, size);
#elif defined(MF_FUZZ_CONFIG)
	fuzz_config(data, size);
#elif defined(MF_FUZZ_PLUGIN)
	fuzz_normalize(&MF_FUZZ_PLUGIN, MF_FUZZ_KIND, data, size);
#else
#error "choose a target: MF_FUZZ_STREAM, MF_FUZZ_CONFIG or MF_FUZZ_PLUGIN"
#endif
	return 0;
}
