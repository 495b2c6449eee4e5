/* Logging of the core: lowercase one-line messages on stderr. When stderr is
 * connected to the journal (systemd sets JOURNAL_STREAM to its device and
 * inode), every line starts with a syslog priority prefix such as "<4>" so
 * that journald files it at the right level; otherwise lines are plain.
 * Keep every message going through here. */
#ifndef MF_LOG_H
#define MF_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <modelfuse/plugin.h>

/* Messages above this level are dropped. Default MF_LOG_WARNING; -v raises
 * it to INFO (twice: DEBUG), -q lowers it to ERROR. */
void log_set_level(enum mf_log_level level);
enum mf_log_level log_get_level(void);

/* True when JOURNAL_STREAM ("DEV:INODE") names the file stderr is open on,
 * i.e. journald reads our stderr. Checked on every message, so a test or a
 * caller that redirects stderr sees the change at once. */
bool log_stderr_is_journal(void);

/* prefix may be NULL; it is printed as "prefix: " (the source instance). */
void log_vmsg(enum mf_log_level level, const char *prefix, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
void log_msg(enum mf_log_level level, const char *prefix, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_error(...) log_msg(MF_LOG_ERROR, NULL, __VA_ARGS__)
#define log_warning(...) log_msg(MF_LOG_WARNING, NULL, __VA_ARGS__)
#define log_info(...) log_msg(MF_LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...) log_msg(MF_LOG_DEBUG, NULL, __VA_ARGS__)

#endif
