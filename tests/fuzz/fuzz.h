/* The fuzz targets of modelfuse: every plugin's normalize, the record
 * stream decoder (with the cache's stream checker) and the config parser.
 * The same functions serve the libFuzzer binaries (fuzz_main.c, built by
 * tests/fuzz/run.sh with clang) and the replay test of `make check`
 * (test_fuzz_replay.c), which runs the seeds and every crash found so far. */
#ifndef MF_FUZZ_H
#define MF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <modelfuse/plugin.h>

/* Each plugin is compiled for the fuzzers with its descriptor renamed
 * (-Dmodelfuse_plugin=mf_fuzz_plugin_NAME), so all of them link together. */
extern const struct mf_plugin mf_fuzz_plugin_modelsdev;
extern const struct mf_plugin mf_fuzz_plugin_openrouter;
extern const struct mf_plugin mf_fuzz_plugin_litellm;
extern const struct mf_plugin mf_fuzz_plugin_huggingface;
extern const struct mf_plugin mf_fuzz_plugin_anyllm;
extern const struct mf_plugin mf_fuzz_plugin_arena;
extern const struct mf_plugin mf_fuzz_plugin_community;
extern const struct mf_plugin mf_fuzz_plugin_local;
extern const struct mf_plugin mf_fuzz_plugin_benchmarks;
extern const struct mf_plugin mf_fuzz_plugin_artificialanalysis;

/* One page of bytes through init, normalize and fini of plugin, with the
 * option `kind` set when kind is not NULL (anyllm's listing formats). Every
 * record emitted is checked: encoded into a stream and decoded back. */
void fuzz_normalize(const struct mf_plugin *plugin, const char *kind, const uint8_t *data,
		    size_t size);

/* Bytes as a record stream: the decoder, the cache's stream checker and,
 * when the bytes decode, a round trip through the encoder. */
void fuzz_stream(const uint8_t *data, size_t size);

/* Bytes as an INI file: the parser, the option checks against a plugin that
 * declares one option of every type, and the refresh command splitter. */
void fuzz_config(const uint8_t *data, size_t size);

/* Called once before the first input (quiet logs, temporary files). */
void fuzz_setup(void);

#endif
