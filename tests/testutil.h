/* Shared helpers of the CUnit test programs. */
#ifndef MF_TESTUTIL_H
#define MF_TESTUTIL_H

#include <stddef.h>
#include <CUnit/CUnit.h>

struct tu_test {
	const char *name;
	void (*fn)(void);
};

/* Run one suite of tests (array ends with {NULL, NULL}); returns the exit
 * status for main: 0 when every assertion passed. */
int tu_main(const char *suite, const struct tu_test *tests);

/* An environment variable set by the test harness (tests.am); aborts with a
 * clear message when it is missing (the test was not run by make check). */
const char *tu_env(const char *name);

/* $MF_TEST_SRCDIR/rel, caller frees. */
char *tu_srcpath(const char *rel);

/* A new private temporary folder, removed by tu_rm_rf. Caller frees. */
char *tu_tmpdir(void);
void tu_rm_rf(const char *path);

/* Write content into dir/name (creating folders); returns the path, caller frees. */
char *tu_write_file(const char *dir, const char *name, const char *content);

/* Read a whole file, NULL when missing. Caller frees. */
char *tu_read_file(const char *path);

/* Run argv (argv[0] a path) with extra "NAME=value" entries added to the
 * environment (list ends with NULL; may be NULL). Captures stdout and
 * stderr when the pointers are non-NULL (caller frees). Returns the exit
 * status, or 128 + signal number. */
int tu_run(char *const argv[], const char *const env_extra[], char **out, char **err);

#endif
