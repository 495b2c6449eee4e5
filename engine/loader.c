#include "mf_build_config.h"
#include "loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <ltdl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef MF_PLUGIN_DIR
#error "MF_PLUGIN_DIR must be defined by the build (engine.am)"
#endif

/* Size of the descriptor as ABI 1.0 defined it: everything up to fini. A
 * later minor appends fields, so sizeof may grow; this must not. */
#define PLUGIN_SIZE_1_0 \
	(offsetof(struct mf_plugin, fini) + sizeof(((struct mf_plugin *)0)->fini))

/* Plugin and option names end up in file names, INI keys and messages. */
#define NAME_MAX_LEN 64
/* An options array without its NULL terminator would be read forever. */
#define OPTIONS_MAX 256

const char *loader_plugin_dir(const char *configured)
{
	if (configured && *configured)
		return configured;
	const char *env = getenv("MODELFUSE_PLUGIN_DIR");
	if (env && *env)
		return env;
	return MF_PLUGIN_DIR;
}

static bool valid_name(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
		if (!ok || n >= NAME_MAX_LEN)
			return false;
	}
	return n > 0;
}

/* A name a plugin gave, made safe to put in a message: the plugin may hand
 * us anything, including control characters or a huge string. */
static const char *printable(const char *s, char *buf, size_t len)
{
	size_t i = 0;
	for (; s[i] && i + 1 < len; i++) {
		unsigned char c = (unsigned char)s[i];
		buf[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	buf[i] = '\0';
	return buf;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static bool default_parses(enum mf_option_type type, const char *value)
{
	int64_t i;
	double d;
	bool b;
	switch (type) {
	case MF_OPT_STRING:
		return true;
	case MF_OPT_INT:
		return parse_int64(value, &i);
	case MF_OPT_BOOL:
		return parse_bool(value, &b);
	case MF_OPT_REAL:
		return parse_double(value, &d);
	}
	return false;
}

static const char *const type_names[] = {
	[MF_OPT_STRING] = "string",
	[MF_OPT_INT] = "int",
	[MF_OPT_BOOL] = "bool",
	[MF_OPT_REAL] = "real",
};

/* The core validates configured values against these declarations, so a
 * declaration it cannot use is the plugin's bug, refused at load time. */
static int check_options(const char *path, const char *name, const struct mf_option *opts,
			 struct errors *errs)
{
	char shown[NAME_MAX_LEN + 1];
	for (size_t i = 0; opts && opts[i].name; i++) {
		const struct mf_option *o = &opts[i];
		if (i >= OPTIONS_MAX) {
			errors_add(errs,
				   "%s: plugin '%s' declares more than %d options "
				   "(is its options array missing the NULL-name terminator?)",
				   path, name, OPTIONS_MAX);
			return -1;
		}
		if (!*o->name) {
			errors_add(errs, "%s: plugin '%s' option %zu has an empty name", path,
				   name, i + 1);
			return -1;
		}
		if (!valid_name(o->name)) {
			errors_add(errs,
				   "%s: plugin '%s' option '%s' has an invalid name: "
				   "use [a-z0-9_-], at most %d characters",
				   path, name, printable(o->name, shown, sizeof shown),
				   NAME_MAX_LEN);
			return -1;
		}
		/* Read the enum as a plain number: the plugin may hold any value. */
		unsigned type = (unsigned)o->type;
		if (type > MF_OPT_REAL) {
			errors_add(errs, "%s: plugin '%s' option '%s' has an unknown type %u",
				   path, name, o->name, type);
			return -1;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(opts[j].name, o->name) == 0) {
				errors_add(errs,
					   "%s: plugin '%s' declares option '%s' twice "
					   "(entries %zu and %zu)",
					   path, name, o->name, j + 1, i + 1);
				return -1;
			}
		}
		if (o->default_value && !default_parses(o->type, o->default_value)) {
			char dv[NAME_MAX_LEN + 1];
			errors_add(errs,
				   "%s: plugin '%s' option '%s' has default '%s' that is not a "
				   "valid %s",
				   path, name, o->name, printable(o->default_value, dv, sizeof dv),
				   type_names[type]);
			return -1;
		}
	}
	return 0;
}

/* Check the descriptor field by field, in the order that makes each read
 * safe: the version fields first (they never move), then the size, and only
 * then anything that depends on the layout. */
static int check_descriptor(const char *path, const struct mf_plugin *d, struct errors *errs)
{
	unsigned major = d->abi_major, minor = d->abi_minor;
	if (major != MF_ABI_MAJOR) {
		errors_add(errs,
			   "%s: plugin ABI %u.%u, this modelfuse speaks ABI %d.%d: "
			   "rebuild the plugin against this SDK",
			   path, major, minor, MF_ABI_MAJOR, MF_ABI_MINOR);
		return -1;
	}
	if (minor > MF_ABI_MINOR) {
		errors_add(errs,
			   "%s: plugin needs ABI %u.%u, this modelfuse has ABI %d.%d: "
			   "upgrade modelfuse",
			   path, major, minor, MF_ABI_MAJOR, MF_ABI_MINOR);
		return -1;
	}
	if (d->struct_size < PLUGIN_SIZE_1_0) {
		errors_add(errs,
			   "%s: plugin descriptor is %zu bytes, smaller than the %zu bytes of "
			   "ABI 1.0: not built with this SDK's header",
			   path, d->struct_size, PLUGIN_SIZE_1_0);
		return -1;
	}

	char shown[NAME_MAX_LEN + 1];
	if (!d->name || !*d->name) {
		errors_add(errs, "%s: plugin has no name in its descriptor", path);
		return -1;
	}
	if (!valid_name(d->name)) {
		errors_add(errs,
			   "%s: plugin name '%s' is invalid: use [a-z0-9_-], at most %d characters",
			   path, printable(d->name, shown, sizeof shown), NAME_MAX_LEN);
		return -1;
	}
	if (!d->version || !*d->version) {
		errors_add(errs, "%s: plugin '%s' has no version in its descriptor", path,
			   d->name);
		return -1;
	}

	/* The core finds a plugin as DIR/NAME.so, so the two must agree. */
	const char *file = base_name(path);
	size_t n = strlen(d->name);
	if (strncmp(file, d->name, n) != 0 || strcmp(file + n, ".so") != 0) {
		errors_add(errs,
			   "%s: plugin calls itself '%s' but the file is named '%s' "
			   "(expected '%s.so')",
			   path, d->name, file, d->name);
		return -1;
	}

	if (!d->fetch) {
		errors_add(errs, "%s: plugin '%s' has no fetch callback", path, d->name);
		return -1;
	}
	if (!d->normalize) {
		errors_add(errs, "%s: plugin '%s' has no normalize callback", path, d->name);
		return -1;
	}
	return check_options(path, d->name, d->options, errs);
}

static bool ltdl_ready(struct errors *errs, const char *path)
{
	static bool ready;
	if (!ready) {
		if (lt_dlinit() != 0) {
			const char *why = lt_dlerror();
			errors_add(errs, "%s: cannot load: libltdl failed to initialize: %s", path,
				   why ? why : "unknown error");
			return false;
		}
		ready = true;
	}
	return true;
}

/* Open the file with every symbol bound now. libltdl binds lazily and,
 * when a load fails, only says "file not found"; dlopen with RTLD_NOW both
 * catches a missing symbol even in a plugin not linked with -z now and
 * tells which one. The probe handle is kept until libltdl has its own. */
static void *probe_open(const char *path, const char *shown_path, struct errors *errs)
{
	dlerror();
	void *probe = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!probe) {
		const char *why = dlerror();
		errors_add(errs, "%s: cannot load: %s", shown_path, why ? why : "unknown error");
	}
	return probe;
}

static lt_dlhandle ltdl_open(const char *path, const char *shown_path, struct errors *errs)
{
	lt_dladvise advise;
	if (lt_dladvise_init(&advise) != 0) {
		errors_add(errs, "%s: cannot load: %s", shown_path, lt_dlerror());
		return NULL;
	}
	/* Local: two plugins may define the same symbol names. Resident: a
	 * plugin's descriptor strings and code may still be referenced
	 * (records, forked children, atexit handlers of its libraries) after
	 * the core is done with the handle, so it is never unmapped. */
	lt_dlhandle h = NULL;
	if (lt_dladvise_local(&advise) == 0 && lt_dladvise_resident(&advise) == 0)
		h = lt_dlopenadvise(path, advise);
	if (!h) {
		const char *why = lt_dlerror();
		errors_add(errs, "%s: cannot load: %s", shown_path, why ? why : "unknown error");
	}
	lt_dladvise_destroy(&advise);
	return h;
}

/* A folder others may write to lets them swap or add a plugin (rename
 * needs only write access to the folder), whatever the file's own mode. */
static int check_folder(const char *path, const char *dir, struct errors *errs)
{
	struct stat st;
	if (stat(dir, &st) != 0) {
		errors_add(errs, "%s: cannot check its folder %s: %s", path, dir, strerror(errno));
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		errors_add(errs,
			   "%s: refusing a plugin in the group- or world-writable folder %s "
			   "(mode %04o): fix with chmod go-w",
			   path, dir, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* The folder the path names, and the folder of the file it resolves to
 * (a symlinked plugin is only as safe as the folder of its target). */
static int check_folders(const char *path, struct errors *errs)
{
	const char *slash = strrchr(path, '/');
	char *dir = !slash ? xstrdup(".") : slash == path ? xstrdup("/")
				 : xstrndup(path, (size_t)(slash - path));
	int rc = check_folder(path, dir, errs);
	free(dir);
	char *real = rc == 0 ? realpath(path, NULL) : NULL;
	if (real) {
		char *rslash = strrchr(real, '/');
		if (rslash && rslash != real) {
			*rslash = '\0';
			rc = check_folder(path, real, errs);
		}
		free(real);
	}
	return rc;
}

int loader_open(const char *path, struct loaded_plugin *out, struct errors *errs)
{
	memset(out, 0, sizeof *out);

	/* stat, not lstat: a symlink is fine, but its target is what gets
	 * mapped, so the target's type and mode are what must be checked. */
	struct stat st;
	if (stat(path, &st) != 0) {
		errors_add(errs, "%s: cannot load: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		errors_add(errs, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		errors_add(errs,
			   "%s: refusing a group- or world-writable plugin file (mode %04o): "
			   "fix with chmod go-w",
			   path, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (check_folders(path, errs) != 0)
		return -1;
	if (!ltdl_ready(errs, path))
		return -1;

	/* dlopen searches the library path for a name without a slash. */
	char *open_path = strchr(path, '/') ? xstrdup(path) : xasprintf("./%s", path);
	int rc = -1;
	lt_dlhandle h = NULL;
	void *probe = probe_open(open_path, path, errs);
	if (!probe)
		goto out;
	h = ltdl_open(open_path, path, errs);
	if (!h)
		goto out;

	const struct mf_plugin *sym = lt_dlsym(h, MF_PLUGIN_SYMBOL);
	if (!sym) {
		errors_add(errs,
			   "%s: no " MF_PLUGIN_SYMBOL " descriptor: not a modelfuse plugin "
			   "(was it built with MF_PLUGIN_EXPORT?)",
			   path);
		goto out;
	}
	if (check_descriptor(path, sym, errs) != 0)
		goto out;

	/* Keep a host-sized copy holding only the bytes the plugin's struct
	 * really has: fields of a newer host minor read as zero/NULL instead
	 * of past the end of an older plugin's descriptor. */
	struct mf_plugin *copy = xcalloc(1, sizeof *copy);
	size_t n = sym->struct_size < sizeof *copy ? sym->struct_size : sizeof *copy;
	memcpy(copy, sym, n);
	copy->struct_size = n;

	out->path = xstrdup(path);
	out->handle = h;
	out->desc = copy;
	h = NULL;
	rc = 0;
out:
	if (h)
		lt_dlclose(h);
	if (probe)
		dlclose(probe);
	free(open_path);
	return rc;
}

int loader_open_named(const char *dir, const char *name, struct loaded_plugin *out,
		      struct errors *errs)
{
	memset(out, 0, sizeof *out);
	/* The name comes from the config: never let it walk out of dir. */
	if (!name || !valid_name(name)) {
		char shown[NAME_MAX_LEN + 1];
		errors_add(errs,
			   "plugin name '%s' is invalid: use [a-z0-9_-], at most %d characters",
			   name ? printable(name, shown, sizeof shown) : "", NAME_MAX_LEN);
		return -1;
	}
	char *path = xasprintf("%s/%s.so", dir, name);
	struct stat st;
	int rc;
	if (stat(path, &st) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
		errors_add(errs,
			   "%s: no such plugin (looked in %s; set [core] plugin_dir or "
			   "MODELFUSE_PLUGIN_DIR)",
			   path, dir);
		rc = -1;
	} else {
		rc = loader_open(path, out, errs);
	}
	free(path);
	return rc;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_plugin_file_name(const char *name)
{
	size_t n = strlen(name);
	/* Hidden files are editor or packaging leftovers, not plugins. */
	return name[0] != '.' && n > 3 && strcmp(name + n - 3, ".so") == 0;
}

int loader_scan(const char *dir, struct loaded_plugin **out, size_t *count, struct errors *errs)
{
	*out = NULL;
	*count = 0;
	DIR *d = opendir(dir);
	if (!d) {
		errors_add(errs, "%s: cannot read plugin folder: %s", dir, strerror(errno));
		return -1;
	}
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!is_plugin_file_name(e->d_name))
			continue;
		names = xrealloc(names, (n + 1) * sizeof *names);
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	/* readdir order depends on the file system; output must not. */
	if (n > 0)
		qsort(names, n, sizeof *names, compare_names);

	struct loaded_plugin *list = xcalloc(n, sizeof *list);
	size_t loaded = 0;
	for (size_t i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		if (loader_open(path, &list[loaded], errs) == 0)
			loaded++;
		free(path);
		free(names[i]);
	}
	free(names);
	if (loaded == 0) {
		free(list);
		list = NULL;
	}
	*out = list;
	*count = loaded;
	return 0;
}

void loader_close(struct loaded_plugin *p)
{
	if (!p)
		return;
	/* desc is our copy only when loader_open filled the struct (handle
	 * set); a hand-built one in a test may point at a static descriptor. */
	if (p->handle) {
		/* Resident modules stay mapped; this only drops the reference. */
		lt_dlclose(p->handle);
		free((void *)p->desc);
	}
	free(p->path);
	memset(p, 0, sizeof *p);
}

void loader_free_all(struct loaded_plugin *list, size_t count)
{
	for (size_t i = 0; list && i < count; i++)
		loader_close(&list[i]);
	free(list);
}
