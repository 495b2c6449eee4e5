/* Helpers shared by the reliability and security tests (test_faults,
 * test_hostile, test_kill, test_security): the scripted loopback server
 * (tests/httpd/mfhttpd.py), runs of the real program, and snapshots of
 * whole folders to prove that nothing changed or leaked. */
#ifndef MF_FAULTUTIL_H
#define MF_FAULTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The loopback server: tests/httpd_client.h. */
#include "httpd_client.h"

/* ------------------------------------------------------------- the program */

/* Run $MF_TEST_PROGRAM -c cfg args... (args ends with NULL) with env
 * entries "NAME=value" added (NULL-terminated list, may be NULL); stdout
 * and stderr captured when the pointers are not NULL. Returns the exit
 * status (128 + signal when killed). */
int fu_program(const char *cfg, const char *const *args, const char *const *env, char **out,
	       char **err);

/* ------------------------------------------------------------- folders */

/* Every regular file under a folder, by relative path, with its bytes. */
struct fu_file {
	char *path;
	char *data;
	size_t size;
};
struct fu_tree {
	struct fu_file *files;
	size_t count;
};
void fu_tree_read(struct fu_tree *t, const char *dir);
/* Same paths, same bytes. Differences are printed on stderr, prefixed by
 * what (the test's name for the comparison). */
bool fu_tree_equal(const struct fu_tree *a, const struct fu_tree *b, const char *what);
void fu_tree_free(struct fu_tree *t);
/* The first file under dir holding needle (relative path, caller frees),
 * or NULL. Hidden files and folders are searched too. */
char *fu_tree_grep(const char *dir, const char *needle);

/* A new private folder for a test, on a memory file system when there is
 * one (the program fsyncs every file it commits). Caller frees; remove it
 * with tu_rm_rf. */
char *fu_sandbox(void);

/* Copy a folder tree (cp -a). Returns 0 on success. */
int fu_copy_tree(const char *from, const char *to);

/* True when s contains part; otherwise prints both and returns false. */
bool fu_has(const char *s, const char *part);

/* Built with AddressSanitizer: some limits (address space) do not apply. */
bool fu_sanitized(void);
/* MF_TEST_QUICK is set (check-valgrind): run a subset of the big matrices. */
bool fu_quick(void);

#endif
