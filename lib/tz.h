/*
 * Local time in a named time zone (IANA id such as "Asia/Tokyo"), thread-safe and without
 * touching the process's TZ: day of the week and minute of the day for rules, and the
 * offset to show or parse times with.  The zone data is ICU's.
 */
#ifndef SEKISHO_TZ_H
#define SEKISHO_TZ_H

#include <stdint.h>

/* 1 when zone is a known time zone id, else 0. */
int tz_valid(const char *zone);

struct tz_local {
	int wday;	/* 0 Sunday .. 6 Saturday */
	int minute;	/* minutes since local midnight, 0..1439 */
	int offset;	/* seconds east of UTC at that instant */
};
/* The local time in zone at t (seconds since the epoch, UTC).  0, or -1 (unknown zone). */
int tz_local(const char *zone, int64_t t, struct tz_local *l_r);

#define TZ_TIME_LEN 64	/* "2031-12-31 23:59 UTC+09:00", with room for any year */
/* t as people read it in zone, with its offset (UTC when zone is unknown). */
void tz_format(const char *zone, int64_t t, char out[TZ_TIME_LEN]);

#endif
