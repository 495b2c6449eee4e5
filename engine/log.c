#include "mf_build_config.h"
#include "log.h"

#include <stdio.h>

static enum mf_log_level current_level = MF_LOG_WARNING;

void log_set_level(enum mf_log_level level)
{
	current_level = level;
}

enum mf_log_level log_get_level(void)
{
	return current_level;
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

void log_vmsg(enum mf_log_level level, const char *prefix, const char *fmt, va_list ap)
{
	if (level > current_level)
		return;
	/* Build the line first so that concurrent children never interleave
	 * halves of two lines on the shared stderr. */
	char line[4096];
	int n = snprintf(line, sizeof line, "modelfuse: %s%s%s", prefix ? prefix : "",
			 prefix ? ": " : "", level_word(level));
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
