/* Logging of the core: lowercase one-line messages on stderr. With journald
 * as reader a later issue adds <N> priority prefixes; keep every message
 * going through here. */
#ifndef MF_LOG_H
#define MF_LOG_H

#include <stdarg.h>
#include <modelfuse/plugin.h>

/* Messages above this level are dropped. Default MF_LOG_WARNING; -v raises
 * it to INFO (twice: DEBUG), -q lowers it to ERROR. */
void log_set_level(enum mf_log_level level);
enum mf_log_level log_get_level(void);

/* prefix may be NULL; it is printed as "prefix: " (the source instance). */
void log_vmsg(enum mf_log_level level, const char *prefix, const char *fmt, va_list ap);
void log_msg(enum mf_log_level level, const char *prefix, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_error(...) log_msg(MF_LOG_ERROR, NULL, __VA_ARGS__)
#define log_warning(...) log_msg(MF_LOG_WARNING, NULL, __VA_ARGS__)
#define log_info(...) log_msg(MF_LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...) log_msg(MF_LOG_DEBUG, NULL, __VA_ARGS__)

#endif
