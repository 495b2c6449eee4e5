/* Log lines: plain on a terminal or a file, "<N>" syslog priority prefixes
 * when JOURNAL_STREAM names the very file stderr is open on (as systemd
 * sets it for a service whose stderr goes to the journal). */
#include "mf_build_config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "testutil.h"

/* stderr is pointed at a fresh file for each capture and restored after. */
struct capture {
	char *dir;
	char *path;
	int saved_fd;
};

static struct capture capture_start(void)
{
	struct capture c = {.dir = tu_tmpdir(), .saved_fd = -1};
	c.path = tu_write_file(c.dir, "stderr.txt", "");
	fflush(stderr);
	c.saved_fd = dup(STDERR_FILENO);
	int fd = open(c.path, O_WRONLY | O_APPEND | O_CLOEXEC);
	CU_ASSERT_FATAL(fd >= 0 && c.saved_fd >= 0);
	CU_ASSERT_FATAL(dup2(fd, STDERR_FILENO) == STDERR_FILENO);
	close(fd);
	return c;
}

/* "DEV:INODE" of a path, as systemd formats JOURNAL_STREAM. */
static void stream_id(const char *path, char *buf, size_t len)
{
	struct stat st;
	CU_ASSERT_FATAL(stat(path, &st) == 0);
	int n = snprintf(buf, len, "%llu:%llu", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino);
	CU_ASSERT_FATAL(n > 0 && (size_t)n < len);
}

/* Restore stderr and return what was written, caller frees. */
static char *capture_end(struct capture *c)
{
	fflush(stderr);
	dup2(c->saved_fd, STDERR_FILENO);
	close(c->saved_fd);
	char *text = tu_read_file(c->path);
	tu_rm_rf(c->dir);
	free(c->dir);
	free(c->path);
	return text;
}

static void log_all_levels(void)
{
	log_set_level(MF_LOG_DEBUG);
	log_error("cannot open %s", "x.ini");
	log_warning("source %s stale", "a");
	log_info("run %d", 1);
	log_debug("page %u", 2u);
	log_msg(MF_LOG_WARNING, "openrouter", "HTTP %d", 503);
	log_set_level(MF_LOG_WARNING);
}

static void test_plain_without_variable(void)
{
	unsetenv("JOURNAL_STREAM");
	struct capture c = capture_start();
	CU_ASSERT_FALSE(log_stderr_is_journal());
	log_all_levels();
	char *text = capture_end(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(text, "modelfuse: error: cannot open x.ini\n"
				     "modelfuse: warning: source a stale\n"
				     "modelfuse: run 1\n"
				     "modelfuse: page 2\n"
				     "modelfuse: openrouter: warning: HTTP 503\n");
	free(text);
}

static void test_prefixes_when_stderr_is_the_journal(void)
{
	struct capture c = capture_start();
	char id[64];
	stream_id(c.path, id, sizeof id);
	setenv("JOURNAL_STREAM", id, 1);
	CU_ASSERT_TRUE(log_stderr_is_journal());
	log_all_levels();
	unsetenv("JOURNAL_STREAM");
	char *text = capture_end(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(text, "<3>error: cannot open x.ini\n"
				     "<4>warning: source a stale\n"
				     "<6>run 1\n"
				     "<7>page 2\n"
				     "<4>openrouter: warning: HTTP 503\n");
	free(text);
}

/* The level filter applies to the journal as well. */
static void test_journal_keeps_the_level_filter(void)
{
	struct capture c = capture_start();
	char id[64];
	stream_id(c.path, id, sizeof id);
	setenv("JOURNAL_STREAM", id, 1);
	log_set_level(MF_LOG_ERROR);
	log_warning("hidden");
	log_error("shown");
	log_set_level(MF_LOG_WARNING);
	unsetenv("JOURNAL_STREAM");
	char *text = capture_end(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(text, "<3>error: shown\n");
	free(text);
}

/* A child whose stderr was redirected inherits the variable: another
 * file's identity must not turn the prefixes on. */
static void test_other_stream_stays_plain(void)
{
	char *dir = tu_tmpdir();
	char *other = tu_write_file(dir, "other.txt", "");
	char id[64];
	stream_id(other, id, sizeof id);
	struct capture c = capture_start();
	setenv("JOURNAL_STREAM", id, 1);
	CU_ASSERT_FALSE(log_stderr_is_journal());
	log_error("plain");
	unsetenv("JOURNAL_STREAM");
	char *text = capture_end(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(text, "modelfuse: error: plain\n");
	free(text);
	tu_rm_rf(dir);
	free(dir);
	free(other);
}

/* Malformed values are ignored, never half-parsed: right device with a
 * trailing junk byte, missing parts, signs, overflow. */
static void test_malformed_variable_stays_plain(void)
{
	struct capture c = capture_start();
	char id[64];
	stream_id(c.path, id, sizeof id);
	char buf[96];
	const char *bad[] = {"", ":", "abc", "12", "12:", ":12", " 1:2", "-1:2", "1:-2",
			     "99999999999999999999999:1", NULL};
	for (const char **b = bad; *b; b++) {
		setenv("JOURNAL_STREAM", *b, 1);
		CU_ASSERT_FALSE(log_stderr_is_journal());
	}
	snprintf(buf, sizeof buf, "%sx", id);
	setenv("JOURNAL_STREAM", buf, 1);
	CU_ASSERT_FALSE(log_stderr_is_journal());
	snprintf(buf, sizeof buf, "%s:1", id);
	setenv("JOURNAL_STREAM", buf, 1);
	CU_ASSERT_FALSE(log_stderr_is_journal());
	/* Sanity: the well-formed value does match. */
	setenv("JOURNAL_STREAM", id, 1);
	CU_ASSERT_TRUE(log_stderr_is_journal());
	unsetenv("JOURNAL_STREAM");
	free(capture_end(&c));
}

/* The real program, as systemd starts it: stderr on a file whose identity
 * is in JOURNAL_STREAM. A missing config is an error (exit 2). */
static void test_program_under_journal(void)
{
	char *dir = tu_tmpdir();
	char *errpath = tu_write_file(dir, "err.txt", "");
	char *const argv[] = {
		"/bin/sh", "-c",
		"exec 2>\"$1\"; JOURNAL_STREAM=$(stat -c %d:%i \"$1\") exec \"$2\" -c "
		"\"$3\" run",
		"sh", errpath, (char *)tu_env("MF_TEST_PROGRAM"), "/nonexistent/modelfuse.ini", NULL,
	};
	int rc = tu_run(argv, NULL, NULL, NULL);
	CU_ASSERT_EQUAL(rc, 2);
	char *text = tu_read_file(errpath);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_NSTRING_EQUAL(text, "<3>", 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "/nonexistent/modelfuse.ini"));
	/* Every line carries a priority. */
	for (const char *line = text; *line; line = strchr(line, '\n') + 1) {
		CU_ASSERT_EQUAL(line[0], '<');
		if (!strchr(line, '\n'))
			break;
	}
	free(text);

	/* The same run without the variable is plain. */
	char *const plain[] = {
		"/bin/sh", "-c", "exec 2>\"$1\"; unset JOURNAL_STREAM; exec \"$2\" -c \"$3\" run",
		"sh", errpath, (char *)tu_env("MF_TEST_PROGRAM"), "/nonexistent/modelfuse.ini", NULL,
	};
	CU_ASSERT_EQUAL(tu_run(plain, NULL, NULL, NULL), 2);
	text = tu_read_file(errpath);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_NSTRING_EQUAL(text, "modelfuse: ", 11);
	CU_ASSERT_PTR_NULL(strstr(text, "<3>"));
	free(text);
	tu_rm_rf(dir);
	free(dir);
	free(errpath);
}

int main(void)
{
	static const struct tu_test tests[] = {
		{"plain lines without JOURNAL_STREAM", test_plain_without_variable},
		{"<N> prefixes when stderr is the journal", test_prefixes_when_stderr_is_the_journal},
		{"journal output keeps the level filter", test_journal_keeps_the_level_filter},
		{"another stream's identity stays plain", test_other_stream_stays_plain},
		{"malformed JOURNAL_STREAM stays plain", test_malformed_variable_stays_plain},
		{"the program under a journal stream", test_program_under_journal},
		{NULL, NULL},
	};
	return tu_main("log", tests);
}
