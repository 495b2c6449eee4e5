/* The plugin loader against real fixture plugins (tests/plugins/fx_*.c):
 * every refusal with its own message naming the file, and the happy path. */
#include "mf_build_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"
#include "testutil.h"
#include "util.h"

/* Copy fixture NAME.so into dir as file AS with the given mode. Fixtures are
 * always staged so that their mode does not depend on the build's umask. */
static char *stage(const char *dir, const char *name, const char *as, mode_t mode)
{
	char *src = xasprintf("%s/%s.so", tu_env("MF_TEST_FIXTURE_PLUGIN_DIR"), name);
	char *dst = xasprintf("%s/%s", dir, as);
	FILE *in = fopen(src, "rb");
	FILE *out = fopen(dst, "wb");
	if (!in || !out) {
		fprintf(stderr, "cannot copy %s to %s: was the fixture built?\n", src, dst);
		exit(99);
	}
	char buf[8192];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	if (fclose(out) != 0 || chmod(dst, mode) != 0) {
		perror(dst);
		exit(99);
	}
	free(src);
	return dst;
}

static bool zeroed(const struct loaded_plugin *p)
{
	return !p->path && !p->handle && !p->desc;
}

/* Stage fixture NAME as NAME.so, load it and expect exactly one refusal
 * that starts with the file's path and contains each of the words. */
static void expect_refused_as(const char *name, const char *as, const char *const words[])
{
	char *dir = tu_tmpdir();
	char *path = stage(dir, name, as, 0755);
	struct errors errs = {0};
	struct loaded_plugin p;
	CU_ASSERT_EQUAL(loader_open(path, &p, &errs), -1);
	CU_ASSERT_TRUE(zeroed(&p));
	CU_ASSERT_EQUAL_FATAL(errs.count, 1);
	char *prefix = xasprintf("%s: ", path);
	CU_ASSERT_TRUE(str_starts_with(errs.msgs[0], prefix));
	for (size_t i = 0; words[i]; i++) {
		if (!strstr(errs.msgs[0], words[i])) {
			fprintf(stderr, "\nmessage \"%s\" lacks \"%s\"\n", errs.msgs[0], words[i]);
			CU_FAIL("message lacks an expected word");
		}
	}
	free(prefix);
	errors_free(&errs);
	free(path);
	tu_rm_rf(dir);
	free(dir);
}

static void expect_refused(const char *name, const char *const words[])
{
	char *as = xasprintf("%s.so", name);
	expect_refused_as(name, as, words);
	free(as);
}

static void test_good(void)
{
	char *dir = tu_tmpdir();
	char *path = stage(dir, "fx_good", "fx_good.so", 0755);
	struct errors errs = {0};
	struct loaded_plugin p;
	CU_ASSERT_EQUAL_FATAL(loader_open(path, &p, &errs), 0);
	CU_ASSERT_EQUAL(errs.count, 0);
	CU_ASSERT_STRING_EQUAL(p.path, path);
	CU_ASSERT_PTR_NOT_NULL(p.handle);
	const struct mf_plugin *d = p.desc;
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(d->abi_major, MF_ABI_MAJOR);
	CU_ASSERT_EQUAL(d->abi_minor, MF_ABI_MINOR);
	CU_ASSERT_EQUAL(d->struct_size, sizeof(struct mf_plugin));
	CU_ASSERT_STRING_EQUAL(d->name, "fx_good");
	CU_ASSERT_STRING_EQUAL(d->version, "1.2.3");
	CU_ASSERT_STRING_EQUAL(d->description, "loader test fixture that loads");
	CU_ASSERT_STRING_EQUAL(d->default_url, "file:/dev/null");
	CU_ASSERT_PTR_NOT_NULL(d->init);
	CU_ASSERT_PTR_NOT_NULL(d->fetch);
	CU_ASSERT_PTR_NOT_NULL(d->normalize);
	CU_ASSERT_PTR_NULL(d->fini);
	const struct mf_option *o = d->options;
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_STRING_EQUAL(o[0].name, "greeting");
	CU_ASSERT_EQUAL(o[0].type, MF_OPT_STRING);
	CU_ASSERT_STRING_EQUAL(o[0].default_value, "hello");
	CU_ASSERT_STRING_EQUAL(o[1].name, "limit");
	CU_ASSERT_EQUAL(o[1].type, MF_OPT_INT);
	CU_ASSERT_STRING_EQUAL(o[1].default_value, "10");
	CU_ASSERT_PTR_NULL(o[2].name);

	/* The same file a second time (check-config, then run) works too. */
	struct loaded_plugin again;
	CU_ASSERT_EQUAL(loader_open(path, &again, &errs), 0);
	CU_ASSERT_EQUAL(errs.count, 0);
	CU_ASSERT_STRING_EQUAL(again.desc->name, "fx_good");
	loader_close(&again);

	loader_close(&p);
	CU_ASSERT_TRUE(zeroed(&p));
	loader_close(&p); /* closing twice is harmless */
	errors_free(&errs);
	free(path);
	tu_rm_rf(dir);
	free(dir);
}

/* A symlink is followed: the link's name must match, the target loads. */
static void test_symlink(void)
{
	char *dir = tu_tmpdir();
	char *target = stage(dir, "fx_good", "fx_good-1.2.3.so", 0755);
	char *link = xasprintf("%s/fx_good.so", dir);
	CU_ASSERT_EQUAL_FATAL(symlink(target, link), 0);
	struct errors errs = {0};
	struct loaded_plugin p;
	CU_ASSERT_EQUAL(loader_open(link, &p, &errs), 0);
	CU_ASSERT_EQUAL(errs.count, 0);
	loader_close(&p);

	/* ...but the target's mode counts, not the link's. */
	CU_ASSERT_EQUAL(chmod(target, 0775), 0);
	CU_ASSERT_EQUAL(loader_open(link, &p, &errs), -1);
	CU_ASSERT_EQUAL_FATAL(errs.count, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(errs.msgs[0], "group- or world-writable"));
	CU_ASSERT_PTR_NOT_NULL(strstr(errs.msgs[0], "mode 0775"));
	errors_free(&errs);

	/* A link to a folder is not a plugin file. */
	char *sub = xasprintf("%s/sub", dir);
	char *dirlink = xasprintf("%s/dirlink.so", dir);
	CU_ASSERT_EQUAL(mkdir(sub, 0755), 0);
	CU_ASSERT_EQUAL(symlink(sub, dirlink), 0);
	CU_ASSERT_EQUAL(loader_open(dirlink, &p, &errs), -1);
	CU_ASSERT_TRUE(zeroed(&p));
	CU_ASSERT_EQUAL_FATAL(errs.count, 1);
	char *want = xasprintf("%s: not a regular file", dirlink);
	CU_ASSERT_STRING_EQUAL(errs.msgs[0], want);
	free(want);
	errors_free(&errs);

	free(sub);
	free(dirlink);
	free(link);
	free(target);
	tu_rm_rf(dir);
	free(dir);
}

static void test_not_regular(void)
{
	char *dir = tu_tmpdir();
	char *folder = xasprintf("%s/x.so", dir);
	char *fifo = xasprintf("%s/y.so", dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(folder, 0755), 0);
	CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0644), 0);
	const char *paths[] = {folder, fifo};
	for (size_t i = 0; i < 2; i++) {
		struct errors errs = {0};
		struct loaded_plugin p;
		CU_ASSERT_EQUAL(loader_open(paths[i], &p, &errs), -1);
		CU_ASSERT_TRUE(zeroed(&p));
		CU_ASSERT_EQUAL_FATAL(errs.count, 1);
		char *want = xasprintf("%s: not a regular file", paths[i]);
		CU_ASSERT_STRING_EQUAL(errs.msgs[0], want);
		free(want);
		errors_free(&errs);
	}
	free(folder);
	free(fifo);
	tu_rm_rf(dir);
	free(dir);
}

static void test_missing_file(void)
{
	struct errors errs = {0};
	struct loaded_plugin p;
	CU_ASSERT_EQUAL(loader_open("/nonexistent/fx_good.so", &p, &errs), -1);
	CU_ASSERT_EQUAL_FATAL(errs.count, 1);
	CU_ASSERT_STRING_EQUAL(errs.msgs[0],
			       "/nonexistent/fx_good.so: cannot load: No such file or directory");
	errors_free(&errs);
}

static void test_writable(void)
{
	const mode_t modes[] = {0664, 0646, 0666};
	const char *shown[] = {"mode 0664", "mode 0646", "mode 0666"};
	for (size_t i = 0; i < 3; i++) {
		char *dir = tu_tmpdir();
		char *path = stage(dir, "fx_good", "fx_good.so", modes[i]);
		struct errors errs = {0};
		struct loaded_plugin p;
		CU_ASSERT_EQUAL(loader_open(path, &p, &errs), -1);
		CU_ASSERT_TRUE(zeroed(&p));
		CU_ASSERT_EQUAL_FATAL(errs.count, 1);
		char *want = xasprintf("%s: refusing a group- or world-writable plugin file "
				       "(%s): fix with chmod go-w",
				       path, shown[i]);
		CU_ASSERT_STRING_EQUAL(errs.msgs[0], want);
		free(want);
		errors_free(&errs);
		free(path);
		tu_rm_rf(dir);
		free(dir);
	}
}

/* Not an ELF file at all: the dlopen reason, not libltdl's "file not found". */
static void test_not_elf(void)
{
	char *dir = tu_tmpdir();
	char *path = tu_write_file(dir, "junk.so", "this is not a shared object\n");
	CU_ASSERT_EQUAL(chmod(path, 0644), 0);
	struct errors errs = {0};
	struct loaded_plugin p;
	CU_ASSERT_EQUAL(loader_open(path, &p, &errs), -1);
	CU_ASSERT_TRUE(zeroed(&p));
	CU_ASSERT_EQUAL_FATAL(errs.count, 1);
	char *prefix = xasprintf("%s: cannot load: ", path);
	CU_ASSERT_TRUE(str_starts_with(errs.msgs[0], prefix));
	CU_ASSERT_PTR_NULL(strstr(errs.msgs[0], "file not found"));
	free(prefix);
	errors_free(&errs);
	free(path);
	tu_rm_rf(dir);
	free(dir);
}

static void test_unresolved(void)
{
	expect_refused("fx_unresolved", (const char *const[]){
		"cannot load", "undefined symbol", "mf_no_such_function", NULL});
}

static void test_no_descriptor(void)
{
	expect_refused("fx_nodesc", (const char *const[]){
		": no modelfuse_plugin descriptor: not a modelfuse plugin",
		"(was it built with MF_PLUGIN_EXPORT?)", NULL});
}

static void test_abi_major(void)
{
	char *got = xasprintf("plugin ABI %d.%d, this modelfuse speaks ABI %d.%d", MF_ABI_MAJOR + 1,
			      MF_ABI_MINOR, MF_ABI_MAJOR, MF_ABI_MINOR);
	expect_refused("fx_major", (const char *const[]){
		got, "rebuild the plugin against this SDK", NULL});
	free(got);
}

static void test_abi_minor(void)
{
	char *got = xasprintf("plugin needs ABI %d.%d, this modelfuse has ABI %d.%d", MF_ABI_MAJOR,
			      MF_ABI_MINOR + 1, MF_ABI_MAJOR, MF_ABI_MINOR);
	expect_refused("fx_minor", (const char *const[]){got, "upgrade modelfuse", NULL});
	free(got);
}

static void test_small_descriptor(void)
{
	expect_refused("fx_small", (const char *const[]){
		"plugin descriptor is", "smaller than", "ABI 1.0", NULL});
}

static void test_no_name(void)
{
	expect_refused("fx_noname", (const char *const[]){"plugin has no name", NULL});
}

static void test_bad_name_chars(void)
{
	expect_refused("fx_badchars", (const char *const[]){
		"plugin name 'Fx-Bad!' is invalid", "[a-z0-9_-]", NULL});
}

static void test_no_version(void)
{
	expect_refused("fx_noversion", (const char *const[]){
		"plugin 'fx_noversion' has no version", NULL});
}

static void test_name_mismatch(void)
{
	expect_refused("fx_badname", (const char *const[]){
		"plugin calls itself 'fx_other' but the file is named 'fx_badname.so'", NULL});
	/* A valid plugin under another file name is refused the same way. */
	expect_refused_as("fx_good", "hello.so", (const char *const[]){
		"plugin calls itself 'fx_good' but the file is named 'hello.so'", NULL});
	expect_refused_as("fx_good", "fx_good", (const char *const[]){
		"plugin calls itself 'fx_good' but the file is named 'fx_good'", NULL});
}

static void test_no_fetch(void)
{
	expect_refused("fx_nofetch", (const char *const[]){
		"plugin 'fx_nofetch' has no fetch callback", NULL});
}

static void test_no_normalize(void)
{
	expect_refused("fx_nonormalize", (const char *const[]){
		"plugin 'fx_nonormalize' has no normalize callback", NULL});
}

static void test_duplicate_option(void)
{
	expect_refused("fx_badopt", (const char *const[]){
		"plugin 'fx_badopt' declares option 'region' twice", NULL});
}

static void test_option_type(void)
{
	expect_refused("fx_badtype", (const char *const[]){
		"plugin 'fx_badtype' option 'limit' has an unknown type 42", NULL});
}

static void test_option_default(void)
{
	expect_refused("fx_baddefault", (const char *const[]){
		"option 'limit' has default 'ten' that is not a valid int", NULL});
}

static void test_open_named(void)
{
	char *dir = tu_tmpdir();
	char *path = stage(dir, "fx_good", "fx_good.so", 0755);
	struct errors errs = {0};
	struct loaded_plugin p;
	CU_ASSERT_EQUAL(loader_open_named(dir, "fx_good", &p, &errs), 0);
	CU_ASSERT_EQUAL(errs.count, 0);
	CU_ASSERT_STRING_EQUAL(p.path, path);
	CU_ASSERT_STRING_EQUAL(p.desc->name, "fx_good");
	loader_close(&p);

	CU_ASSERT_EQUAL(loader_open_named(dir, "nosuch", &p, &errs), -1);
	CU_ASSERT_TRUE(zeroed(&p));
	CU_ASSERT_EQUAL_FATAL(errs.count, 1);
	char *want = xasprintf("%s/nosuch.so: no such plugin (looked in %s; set [core] plugin_dir "
			       "or MODELFUSE_PLUGIN_DIR)",
			       dir, dir);
	CU_ASSERT_STRING_EQUAL(errs.msgs[0], want);
	free(want);
	errors_free(&errs);

	/* A name from the config never reaches outside the folder. */
	CU_ASSERT_EQUAL(loader_open_named(dir, "../fx_good", &p, &errs), -1);
	CU_ASSERT_EQUAL_FATAL(errs.count, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(errs.msgs[0], "plugin name '../fx_good' is invalid"));
	errors_free(&errs);

	/* Refusals of loader_open come through unchanged. */
	CU_ASSERT_EQUAL(chmod(path, 0666), 0);
	CU_ASSERT_EQUAL(loader_open_named(dir, "fx_good", &p, &errs), -1);
	CU_ASSERT_EQUAL_FATAL(errs.count, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(errs.msgs[0], "group- or world-writable"));
	errors_free(&errs);

	free(path);
	tu_rm_rf(dir);
	free(dir);
}

static const char *const refused_fixtures[] = {
	"fx_badchars", "fx_baddefault", "fx_badname", "fx_badopt", "fx_badtype",
	"fx_major", "fx_minor", "fx_nodesc", "fx_nofetch", "fx_noname",
	"fx_nonormalize", "fx_noversion", "fx_small", "fx_unresolved",
};
#define N_REFUSED (sizeof refused_fixtures / sizeof refused_fixtures[0])

/* The fixture folder, staged with a folder and non-plugin files among the
 * plugins: the valid ones load in name order, each refused one is reported
 * once, in the same order, and the rest is ignored. */
static void test_scan(void)
{
	char *dir = tu_tmpdir();
	/* fx_badname calls itself fx_other: under that file name it is valid. */
	free(stage(dir, "fx_badname", "fx_other.so", 0755));
	free(stage(dir, "fx_good", "fx_good.so", 0755));
	for (size_t i = 0; i < N_REFUSED; i++) {
		char *as = xasprintf("%s.so", refused_fixtures[i]);
		free(stage(dir, refused_fixtures[i], as, 0755));
		free(as);
	}
	char *folder = xasprintf("%s/zz.so", dir);
	CU_ASSERT_EQUAL(mkdir(folder, 0755), 0);
	free(tu_write_file(dir, "README", "not a plugin\n"));
	free(tu_write_file(dir, ".hidden.so", "an editor's leftover\n"));
	free(tu_write_file(dir, "fx_good.so.bak", "a backup\n"));

	struct errors errs = {0};
	struct loaded_plugin *list = NULL;
	size_t n = 0;
	CU_ASSERT_EQUAL(loader_scan(dir, &list, &n, &errs), 0);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(list[0].desc->name, "fx_good");
	CU_ASSERT_STRING_EQUAL(list[1].desc->name, "fx_other");

	/* One message per refused file, sorted like the files: the fixtures,
	 * then the folder zz.so. */
	CU_ASSERT_EQUAL_FATAL(errs.count, N_REFUSED + 1);
	for (size_t i = 0; i < N_REFUSED; i++) {
		char *prefix = xasprintf("%s/%s.so: ", dir, refused_fixtures[i]);
		if (!str_starts_with(errs.msgs[i], prefix)) {
			fprintf(stderr, "\nmessage %zu \"%s\" does not start with \"%s\"\n", i,
				errs.msgs[i], prefix);
			CU_FAIL("scan reported files out of order");
		}
		free(prefix);
	}
	char *want = xasprintf("%s: not a regular file", folder);
	CU_ASSERT_STRING_EQUAL(errs.msgs[N_REFUSED], want);
	free(want);
	CU_ASSERT_FALSE(errors_contains(&errs, "hidden"));
	CU_ASSERT_FALSE(errors_contains(&errs, "README"));
	CU_ASSERT_FALSE(errors_contains(&errs, ".bak"));

	loader_free_all(list, n);
	errors_free(&errs);
	free(folder);
	tu_rm_rf(dir);
	free(dir);
}

static void test_scan_empty_and_missing(void)
{
	char *dir = tu_tmpdir();
	struct errors errs = {0};
	struct loaded_plugin *list = NULL;
	size_t n = 99;
	CU_ASSERT_EQUAL(loader_scan(dir, &list, &n, &errs), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(errs.count, 0);
	loader_free_all(list, n);

	char *missing = xasprintf("%s/none", dir);
	CU_ASSERT_EQUAL(loader_scan(missing, &list, &n, &errs), -1);
	CU_ASSERT_PTR_NULL(list);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL_FATAL(errs.count, 1);
	char *want = xasprintf("%s: cannot read plugin folder: No such file or directory", missing);
	CU_ASSERT_STRING_EQUAL(errs.msgs[0], want);
	free(want);
	errors_free(&errs);
	free(missing);
	tu_rm_rf(dir);
	free(dir);
}

static void test_plugin_dir(void)
{
	char *saved = getenv("MODELFUSE_PLUGIN_DIR") ? xstrdup(getenv("MODELFUSE_PLUGIN_DIR"))
						    : NULL;
	unsetenv("MODELFUSE_PLUGIN_DIR");
	CU_ASSERT_STRING_EQUAL(loader_plugin_dir(NULL), MF_PLUGIN_DIR);
	CU_ASSERT_STRING_EQUAL(loader_plugin_dir(""), MF_PLUGIN_DIR);
	CU_ASSERT_STRING_EQUAL(loader_plugin_dir("/from/config"), "/from/config");

	setenv("MODELFUSE_PLUGIN_DIR", "", 1);
	CU_ASSERT_STRING_EQUAL(loader_plugin_dir(NULL), MF_PLUGIN_DIR);

	setenv("MODELFUSE_PLUGIN_DIR", "/from/env", 1);
	CU_ASSERT_STRING_EQUAL(loader_plugin_dir(NULL), "/from/env");
	CU_ASSERT_STRING_EQUAL(loader_plugin_dir("/from/config"), "/from/config");

	if (saved)
		setenv("MODELFUSE_PLUGIN_DIR", saved, 1);
	else
		unsetenv("MODELFUSE_PLUGIN_DIR");
	free(saved);
}

static const struct tu_test tests[] = {
	{"good plugin loads with its descriptor and options", test_good},
	{"symlinks are followed and their target checked", test_symlink},
	{"folder and fifo: not a regular file", test_not_regular},
	{"missing file", test_missing_file},
	{"group- or world-writable file refused", test_writable},
	{"not an ELF file: the real dlopen reason", test_not_elf},
	{"unresolved symbol named", test_unresolved},
	{"no exported descriptor", test_no_descriptor},
	{"another ABI major", test_abi_major},
	{"a newer ABI minor", test_abi_minor},
	{"descriptor smaller than ABI 1.0", test_small_descriptor},
	{"no name", test_no_name},
	{"invalid name characters", test_bad_name_chars},
	{"no version", test_no_version},
	{"name does not match the file", test_name_mismatch},
	{"no fetch callback", test_no_fetch},
	{"no normalize callback", test_no_normalize},
	{"duplicate option", test_duplicate_option},
	{"option of an unknown type", test_option_type},
	{"option default of the wrong type", test_option_default},
	{"open by name, missing plugin", test_open_named},
	{"scan: sorted, refused ones reported and skipped", test_scan},
	{"scan: empty and missing folder", test_scan_empty_and_missing},
	{"plugin dir: config, then environment, then default", test_plugin_dir},
	{NULL, NULL},
};

int main(void)
{
	return tu_main("loader", tests);
}
