/*
 * Logging: levels with printf-format checking, a stderr or syslog sink, and one-line
 * key=value audit events.  Tests install a capture sink to assert that a failure was logged.
 */
#ifndef SEKISHO_LOG_H
#define SEKISHO_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* A sink receives one formatted line without trailing newline. */
typedef void (*log_sink_fn)(enum log_level level, const char *line, void *arg);

void log_init(const char *ident, int to_syslog, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Replace the sink (NULL restores the default); returns nothing, for tests. */
void log_set_sink(log_sink_fn fn, void *arg);
/* Parse "error", "warn", "info", "debug"; -1 if unknown. */
int log_level_parse(const char *s);

void log_msg(enum log_level level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level level, const char *func, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __func__, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __func__, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __func__, __VA_ARGS__)
#define log_debug(...) \
	do { if (log_get_level() >= LOG_LEVEL_DEBUG) log_msg(LOG_LEVEL_DEBUG, __func__, __VA_ARGS__); } while (0)

/*
 * An audit line: "audit event=NAME k=v k=v".  Values are quoted when they contain spaces,
 * quotes, '=' or control characters, so one event is always one parsable line.
 * Pairs are given as key, value, key, value, ..., NULL.  NULL values are skipped.
 */
void log_audit(const char *event, ...) __attribute__((sentinel));
void log_vaudit(const char *event, va_list ap);

/* Write "key=value" (quoted as above) into buf; returns bytes written, truncated safely. */
size_t log_kv(char *buf, size_t size, const char *key, const char *value);

__attribute__((noreturn, format(printf, 1, 2))) void fatal(const char *fmt, ...);

#endif
