/*
 * Time zones with ICU's C API: ICU only gives the zone's offset at an instant; the day of
 * the week and the minute follow from it by arithmetic.  Each thread keeps calendars for
 * the last few zones it used (opening one costs about 4 µs, reusing it 0.3-0.5 µs), so
 * tenants in a handful of zones do not reopen them by turns.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unicode/ucal.h>
#include <unicode/ustring.h>

#include "tz.h"
#include "xmalloc.h"

#define TZ_ID_MAX 64
#define TZ_CACHED 4
/* Years 0..9999: far beyond any rule, and exact in ICU's double milliseconds. */
#define TZ_T_MIN (-62167219200LL)
#define TZ_T_MAX 253402300799LL

struct tz_cache {
	struct {
		char zone[TZ_ID_MAX];
		UCalendar *cal;
	} e[TZ_CACHED];
	unsigned next;		/* the slot to reuse next, round robin */
};

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

/* zone as UTF-16 into u; 0, or -1 when it is too long or not plain ASCII. */
static int
zone_uchars(const char *zone, UChar u[TZ_ID_MAX])
{
	size_t n = strlen(zone);

	if (n == 0 || n >= TZ_ID_MAX)
		return -1;
	for (size_t i = 0; i <= n; i++) {
		if ((unsigned char)zone[i] > 0x7e || (zone[i] < 0x20 && zone[i] != '\0'))
			return -1;
		u[i] = (UChar)zone[i];
	}
	return 0;
}

/*
 * ICU falls back to GMT (as "Etc/Unknown") for an id it does not know: only a system id
 * that ICU can canonicalize counts, which also refuses custom ids such as "GMT+09:00".
 */
int
tz_valid(const char *zone)
{
	UChar u[TZ_ID_MAX], canon[TZ_ID_MAX];
	UErrorCode st = U_ZERO_ERROR;
	UBool system = 0;

	if (zone == NULL || zone_uchars(zone, u) == -1)
		return 0;
	ucal_getCanonicalTimeZoneID(u, -1, canon, TZ_ID_MAX, &system, &st);
	return U_SUCCESS(st) && system;
}

static void
cache_free(void *p)
{
	struct tz_cache *c = p;

	for (int i = 0; i < TZ_CACHED; i++)
		if (c->e[i].cal)
			ucal_close(c->e[i].cal);
	free(c);
}

static void
cache_init(void)
{
	pthread_key_create(&cache_key, cache_free);
}

/* A new calendar for zone, or NULL when the zone is unknown. */
static UCalendar *
calendar_open(const char *zone)
{
	UErrorCode st = U_ZERO_ERROR;
	UCalendar *cal;
	UChar u[TZ_ID_MAX];

	if (!tz_valid(zone) || zone_uchars(zone, u) == -1)
		return NULL;
	cal = ucal_open(u, -1, "", UCAL_GREGORIAN, &st);
	if (U_FAILURE(st) && cal) {
		ucal_close(cal);
		cal = NULL;
	}
	return cal;
}

/* This thread's calendar for zone; NULL when the zone is unknown. */
static UCalendar *
calendar(const char *zone)
{
	struct tz_cache *c;
	UCalendar *cal;
	unsigned i;

	pthread_once(&cache_once, cache_init);
	if ((c = pthread_getspecific(cache_key)) == NULL) {
		c = xcalloc(1, sizeof(*c));
		pthread_setspecific(cache_key, c);
	}
	for (i = 0; i < TZ_CACHED; i++)
		if (c->e[i].cal && strcmp(c->e[i].zone, zone) == 0)
			return c->e[i].cal;
	if ((cal = calendar_open(zone)) == NULL)
		return NULL;
	i = c->next++ % TZ_CACHED;
	if (c->e[i].cal)
		ucal_close(c->e[i].cal);
	c->e[i].cal = cal;
	memcpy(c->e[i].zone, zone, strlen(zone) + 1);
	return cal;
}

/* Floored division: instants before 1970 fall on the right day too. */
static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int
tz_local(const char *zone, int64_t t, struct tz_local *l_r)
{
	UErrorCode st = U_ZERO_ERROR;
	UCalendar *cal;
	int64_t local, days;
	int32_t off;

	if (zone == NULL || t < TZ_T_MIN || t > TZ_T_MAX || (cal = calendar(zone)) == NULL)
		return -1;
	ucal_setMillis(cal, (UDate)t * 1000.0, &st);
	off = ucal_get(cal, UCAL_ZONE_OFFSET, &st);
	off += ucal_get(cal, UCAL_DST_OFFSET, &st);
	if (U_FAILURE(st))
		return -1;
	l_r->offset = off / 1000;
	local = t + l_r->offset;
	days = floor_div(local, 86400);
	/* 1970-01-01 was a Thursday (4). */
	l_r->wday = (int)(((days + 4) % 7 + 7) % 7);
	l_r->minute = (int)((local - days * 86400) / 60);
	return 0;
}

void
tz_format(const char *zone, int64_t t, char out[TZ_TIME_LEN])
{
	struct tz_local l = { 0 };
	time_t local;
	struct tm tm;
	int off;

	if (tz_local(zone, t, &l) < 0)
		l.offset = 0;
	local = (time_t)(t + l.offset);
	gmtime_r(&local, &tm);
	off = l.offset < 0 ? -l.offset : l.offset;
	snprintf(out, TZ_TIME_LEN, "%04d-%02d-%02d %02d:%02d UTC%c%02d:%02d",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    l.offset < 0 ? '-' : '+', off / 3600, off % 3600 / 60);
}
