/*
 * Logging to stderr or syslog.  One line per call; control characters from input are
 * escaped so a request cannot forge extra log lines.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum log_level cur_level = LOG_LEVEL_INFO;
static int use_syslog;
static const char *log_ident = "sekisho";
static log_sink_fn sink_fn;
static void *sink_arg;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void
log_init(const char *ident, int to_syslog, enum log_level level)
{
	log_ident = ident;
	cur_level = level;
	use_syslog = to_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	cur_level = level;
}

enum log_level
log_get_level(void)
{
	return cur_level;
}

void
log_set_sink(log_sink_fn fn, void *arg)
{
	sink_fn = fn;
	sink_arg = arg;
}

int
log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

/* Replace control characters so one call is one line. */
static void
sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static void
emit(enum log_level level, char *line)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char ts[32];
	struct tm tm;
	time_t now;

	sanitize(line);
	if (sink_fn) {
		sink_fn(level, line, sink_arg);
		return;
	}
	if (use_syslog) {
		syslog(prio[level], "%s", line);
		return;
	}
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	flockfile(stderr);
	fprintf(stderr, "%s %s[%d] %s: %s\n", ts, log_ident, (int)getpid(), level_names[level], line);
	funlockfile(stderr);
}

void
log_vmsg(enum log_level level, const char *func, const char *fmt, va_list ap)
{
	char line[2048];
	int n = 0;

	if (level > cur_level)
		return;
	if (func && level != LOG_LEVEL_INFO)
		n = snprintf(line, sizeof(line), "%s: ", func);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	emit(level, line);
}

void
log_msg(enum log_level level, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, func, fmt, ap);
	va_end(ap);
}

static int
needs_quotes(const char *v)
{
	if (*v == '\0')
		return 1;
	for (; *v; v++)
		if (*v == ' ' || *v == '"' || *v == '=' || *v == '\\' || (unsigned char)*v < 0x20 ||
		    *v == 0x7f)
			return 1;
	return 0;
}

size_t
log_kv(char *buf, size_t size, const char *key, const char *value)
{
	size_t n = 0;

#define PUT(c) do { if (n + 1 < size) buf[n++] = (c); } while (0)
	if (size == 0)
		return 0;
	for (const char *k = key; *k; k++)
		PUT(*k);
	PUT('=');
	if (!needs_quotes(value)) {
		for (const char *v = value; *v; v++)
			PUT(*v);
	} else {
		PUT('"');
		for (const unsigned char *v = (const unsigned char *)value; *v; v++) {
			if (*v == '"' || *v == '\\') {
				PUT('\\');
				PUT((char)*v);
			} else if (*v < 0x20 || *v == 0x7f) {
				PUT('?');
			} else {
				PUT((char)*v);
			}
		}
		PUT('"');
	}
#undef PUT
	buf[n] = '\0';
	return n;
}

void
log_vaudit(const char *event, va_list ap)
{
	char line[2048];
	size_t n;
	const char *k, *v;

	n = (size_t)snprintf(line, sizeof(line), "audit event=%s", event);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (v == NULL || n + 2 >= sizeof(line))
			continue;
		line[n++] = ' ';
		n += log_kv(line + n, sizeof(line) - n, k, v);
	}
	emit(LOG_LEVEL_INFO, line);
}

void
log_audit(const char *event, ...)
{
	va_list ap;

	va_start(ap, event);
	log_vaudit(event, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
