/* Finding and loading source plugins with libltdl, refusing any file that is
 * unsafe or incompatible before a single plugin callback runs (SPEC §12). */
#ifndef MF_LOADER_H
#define MF_LOADER_H

#include <stddef.h>
#include <modelfuse/plugin.h>
#include "util.h"

struct loaded_plugin {
	char *path;                 /* the .so file */
	void *handle;               /* lt_dlhandle */
	const struct mf_plugin *desc;
};

/* Plugin folder: the config's plugin_dir when set, else
 * $MODELFUSE_PLUGIN_DIR, else the installed default. */
const char *loader_plugin_dir(const char *configured);

/* Load one file. Refusals, each with its own message naming the file:
 * not a regular file; group- or world-writable, or in a group- or
 * world-writable folder (its own or its symlink target's); dlopen failure
 * (with the real dlerror, e.g. the unresolved symbol); no MF_PLUGIN_SYMBOL;
 * descriptor smaller than the 1.0 layout; another ABI major; a newer ABI
 * minor (both versions given); missing name/version; name not matching the
 * file name; missing fetch or normalize callback; malformed option
 * declarations.
 * Returns 0, or -1 with one message added to errs. */
int loader_open(const char *path, struct loaded_plugin *out, struct errors *errs);

/* Load DIR/NAME.so. */
int loader_open_named(const char *dir, const char *name, struct loaded_plugin *out,
		      struct errors *errs);

/* Load every *.so in dir, sorted by name; refused files add to errs and are
 * skipped. */
int loader_scan(const char *dir, struct loaded_plugin **out, size_t *count, struct errors *errs);

void loader_close(struct loaded_plugin *p);
void loader_free_all(struct loaded_plugin *list, size_t count);

#endif
