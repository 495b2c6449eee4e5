/* The host side of the SDK: the service table handed to plugins and the
 * per-source context behind struct mf_context. */
#ifndef MF_HOST_H
#define MF_HOST_H

#include <modelfuse/plugin.h>
#include "config.h"

/* Where emitted records go: the child's stream writer, or a test's array.
 * The sink takes ownership of rec whatever it returns. */
typedef int (*record_sink_fn)(void *arg, struct mf_record *rec);

struct mf_context {
	const struct config *cfg;
	const struct source_config *source;
	const struct mf_plugin *plugin;
	const char *url; /* effective URL: source url, else plugin default */
	record_sink_fn sink; /* NULL: no records accepted now (outside normalize) */
	void *sink_arg;
	unsigned long emitted;  /* records accepted by the sink */
	unsigned long rejected; /* records emitted without a usable id */
	/* The last error, warning or info line the plugin logged: the reason
	 * given when init reports MF_EDISABLED. */
	char last_log[256];
};

/* The table every plugin receives. */
extern const struct mf_host host_table;

/* cfg and src may be NULL in unit tests of a normalizer (then options give
 * their declared defaults and the instance name is the plugin's). */
void context_init(struct mf_context *ctx, const struct config *cfg, const struct source_config *src,
		  const struct mf_plugin *plugin, record_sink_fn sink, void *sink_arg);

/* A sink that appends to a struct record_array (tests, and the parent). */
int record_array_sink(void *arg, struct mf_record *rec);

#endif
