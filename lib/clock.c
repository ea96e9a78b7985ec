/*
 * Wall and monotonic clocks, with a test hook, and the xs:dateTime and duration formats
 * used by SAML and the configuration.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>

#include "clock.h"

static _Atomic int64_t fixed_time;

int64_t
clock_now(void)
{
	int64_t f = atomic_load(&fixed_time);
	struct timespec ts;

	if (f)
		return f;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

int64_t
clock_now_us(void)
{
	int64_t f = atomic_load(&fixed_time);
	struct timespec ts;

	if (f)
		return f * 1000000;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
clock_set_fixed(int64_t t)
{
	atomic_store(&fixed_time, t);
}

void
clock_iso8601(int64_t t, char out[21])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
digits(const char **p, int n, int *v_r)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*v_r = v;
	return 0;
}

/*
 * "YYYY-MM-DDTHH:MM:SS[.fraction]" at the start of s as if in UTC: 0 with *t_r and *rest_r
 * (what follows), or -1.
 */
static int
parse_datetime(const char *s, int64_t *t_r, const char **rest_r)
{
	struct tm tm = { 0 }, back;
	int y, mo, d, h, mi, sec;
	const char *p = s;
	time_t t;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d) || *p++ != 'T' || digits(&p, 2, &h) || *p++ != ':' ||
	    digits(&p, 2, &mi) || *p++ != ':' || digits(&p, 2, &sec))
		return -1;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec > 59 ? 59 : sec;	/* a leap second counts as :59 */
	t = timegm(&tm);
	/* timegm normalises 30 February into March: refuse dates that move. */
	if (gmtime_r(&t, &back) == NULL || back.tm_mday != d || back.tm_mon != mo - 1)
		return -1;
	*t_r = (int64_t)t;
	*rest_r = p;
	return 0;
}

int
clock_parse_iso8601(const char *s, int64_t *t_r)
{
	const char *rest;
	int64_t t;

	if (parse_datetime(s, &t, &rest) == -1 || strcmp(rest, "Z") != 0)
		return -1;
	*t_r = t;
	return 0;
}

/* "Z", or "+HH:MM" / "-HH:MM" (hours 00..23): the offset east of UTC in seconds. */
static int
parse_offset(const char *p, int64_t *offset_r)
{
	int h, m, sign = *p == '-' ? -1 : 1;

	if (strcmp(p, "Z") == 0) {
		*offset_r = 0;
		return 0;
	}
	if (*p != '+' && *p != '-')
		return -1;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &m) || *p != '\0' || h > 23 ||
	    m > 59)
		return -1;
	*offset_r = sign * (int64_t)(h * 3600 + m * 60);
	return 0;
}

int
clock_parse_iso8601_offset(const char *s, int64_t *t_r)
{
	const char *rest;
	int64_t t, offset;

	if (parse_datetime(s, &t, &rest) == -1 || parse_offset(rest, &offset) == -1)
		return -1;
	*t_r = t - offset;
	return 0;
}

int
clock_parse_duration(const char *s, int64_t *seconds_r)
{
	char *end;
	long long v;
	int64_t mult = 1;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || v < 0)
		return -1;
	switch (*end) {
	case '\0':
	case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	default: return -1;
	}
	if (*end && end[1] != '\0')
		return -1;
	if (v > INT64_MAX / mult)
		return -1;
	*seconds_r = (int64_t)v * mult;
	return 0;
}

int
clock_sync_status(int *synced_r, int64_t *maxerror_us_r)
{
	struct timex tx = { .modes = 0 };	/* read only: needs no privilege */
	int state = ntp_adjtime(&tx);

	if (state == -1)
		return -1;
	*synced_r = state != TIME_ERROR && !(tx.status & STA_UNSYNC);
	*maxerror_us_r = tx.maxerror;
	return 0;
}
