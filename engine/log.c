#include "mf_build_config.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static enum mf_log_level current_level = MF_LOG_WARNING;

void log_set_level(enum mf_log_level level)
{
	current_level = level;
}

enum mf_log_level log_get_level(void)
{
	return current_level;
}

/* One unsigned decimal number from *p up to stop (a ':' or the end);
 * false on anything else, including an empty number or overflow. */
static bool parse_number(const char **p, char stop, unsigned long long *out)
{
	const char *s = *p;
	if (*s < '0' || *s > '9')
		return false;
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != stop)
		return false;
	*out = v;
	*p = stop ? end + 1 : end;
	return true;
}

bool log_stderr_is_journal(void)
{
	/* systemd exports the device and inode of the stream it connected to
	 * stdout/stderr; a child whose stderr was redirected elsewhere (a
	 * pipe, a file) inherits the variable but not the stream, hence the
	 * comparison rather than a mere presence test. */
	const char *v = getenv("JOURNAL_STREAM");
	if (!v || !*v)
		return false;
	unsigned long long dev, ino;
	if (!parse_number(&v, ':', &dev) || !parse_number(&v, '\0', &ino))
		return false;
	struct stat st;
	if (fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static const char *level_word(enum mf_log_level level)
{
	switch (level) {
	case MF_LOG_ERROR:
		return "error: ";
	case MF_LOG_WARNING:
		return "warning: ";
	default:
		return "";
	}
}

/* The syslog priority journald reads from a "<N>" line prefix
 * (sd-daemon(3)): err 3, warning 4, info 6, debug 7. */
static int syslog_priority(enum mf_log_level level)
{
	switch (level) {
	case MF_LOG_ERROR:
		return 3;
	case MF_LOG_WARNING:
		return 4;
	case MF_LOG_INFO:
		return 6;
	default:
		return 7;
	}
}

void log_vmsg(enum mf_log_level level, const char *prefix, const char *fmt, va_list ap)
{
	if (level > current_level)
		return;
	/* Build the line first so that concurrent children never interleave
	 * halves of two lines on the shared stderr. The journal records the
	 * program name itself, so there the line starts with the priority. */
	char line[4096];
	char lead[8] = "";
	bool journal = log_stderr_is_journal();
	if (journal)
		snprintf(lead, sizeof lead, "<%d>", syslog_priority(level));
	int n = snprintf(line, sizeof line, "%s%s%s%s%s", lead, journal ? "" : "modelfuse: ",
			 prefix ? prefix : "", prefix ? ": " : "", level_word(level));
	if (n < 0)
		return;
	if ((size_t)n < sizeof line)
		vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	fprintf(stderr, "%s\n", line);
}

void log_msg(enum mf_log_level level, const char *prefix, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, prefix, fmt, ap);
	va_end(ap);
}
