#include "mf_build_config.h"
#include "faultutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "util.h"

/* ------------------------------------------------------------- the program */

int fu_program(const char *cfg, const char *const *args, const char *const *env, char **out,
	       char **err)
{
	const char *argv[32];
	size_t n = 0;
	argv[n++] = tu_env("MF_TEST_PROGRAM");
	argv[n++] = "-c";
	argv[n++] = cfg;
	for (size_t i = 0; args && args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return tu_run((char *const *)argv, env, out, err);
}

/* ------------------------------------------------------------- folders */

static void tree_walk(struct fu_tree *t, const char *root, const char *rel)
{
	char *dir = *rel ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	DIR *d = opendir(dir);
	if (!d) {
		free(dir);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *sub = *rel ? xasprintf("%s/%s", rel, e->d_name) : xstrdup(e->d_name);
		char *path = xasprintf("%s/%s", root, sub);
		struct stat st;
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			tree_walk(t, root, sub);
			free(sub);
		} else if (S_ISREG(st.st_mode)) {
			char err[256];
			size_t len = 0;
			char *data = read_file(path, &len, err, sizeof err);
			t->files = xrealloc(t->files, (t->count + 1) * sizeof *t->files);
			t->files[t->count++] = (struct fu_file){
			    .path = sub, .data = data ? data : xstrdup(""), .size = len};
		} else {
			free(sub);
		}
		free(path);
	}
	closedir(d);
	free(dir);
}

static int compare_files(const void *a, const void *b)
{
	return strcmp(((const struct fu_file *)a)->path, ((const struct fu_file *)b)->path);
}

void fu_tree_read(struct fu_tree *t, const char *dir)
{
	*t = (struct fu_tree){0};
	tree_walk(t, dir, "");
	if (t->count)
		qsort(t->files, t->count, sizeof *t->files, compare_files);
}

bool fu_tree_equal(const struct fu_tree *a, const struct fu_tree *b, const char *what)
{
	bool same = a->count == b->count;
	size_t i = 0, k = 0;
	while (i < a->count || k < b->count) {
		int c = i == a->count	? 1
			: k == b->count ? -1
					: strcmp(a->files[i].path, b->files[k].path);
		if (c < 0) {
			fprintf(stderr, "\n%s: %s is gone\n", what, a->files[i].path);
			same = false;
			i++;
		} else if (c > 0) {
			fprintf(stderr, "\n%s: %s appeared\n", what, b->files[k].path);
			same = false;
			k++;
		} else {
			if (a->files[i].size != b->files[k].size ||
			    memcmp(a->files[i].data, b->files[k].data, a->files[i].size) != 0) {
				fprintf(stderr, "\n%s: %s changed\n", what, a->files[i].path);
				same = false;
			}
			i++;
			k++;
		}
	}
	return same;
}

void fu_tree_free(struct fu_tree *t)
{
	for (size_t i = 0; i < t->count; i++) {
		free(t->files[i].path);
		free(t->files[i].data);
	}
	free(t->files);
	*t = (struct fu_tree){0};
}

char *fu_tree_grep(const char *dir, const char *needle)
{
	struct fu_tree t;
	fu_tree_read(&t, dir);
	char *found = NULL;
	size_t n = strlen(needle);
	for (size_t i = 0; i < t.count && !found; i++) {
		const struct fu_file *f = &t.files[i];
		for (size_t at = 0; n && at + n <= f->size; at++) {
			if (memcmp(f->data + at, needle, n) == 0) {
				found = xstrdup(f->path);
				break;
			}
		}
	}
	fu_tree_free(&t);
	return found;
}

char *fu_sandbox(void)
{
	struct stat st;
	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0) {
		char *dir = xstrdup("/dev/shm/mftest.XXXXXX");
		if (mkdtemp(dir))
			return dir;
		free(dir);
	}
	return tu_tmpdir();
}

int fu_copy_tree(const char *from, const char *to)
{
	char *const argv[] = {"/bin/cp", "-a", (char *)from, (char *)to, NULL};
	return tu_run(argv, NULL, NULL, NULL);
}

bool fu_has(const char *s, const char *part)
{
	if (s && strstr(s, part))
		return true;
	fprintf(stderr, "\n\"%s\" does not contain \"%s\"\n", s ? s : "(null)", part);
	return false;
}

bool fu_sanitized(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	return true;
#else
	return false;
#endif
#else
	return false;
#endif
}

bool fu_quick(void)
{
	const char *q = getenv("MF_TEST_QUICK");
	return q && *q && strcmp(q, "0") != 0;
}
