/*
 * The clock, injectable: production reads CLOCK_REALTIME, tests set a fixed or stepped time.
 */
#ifndef SEKISHO_CLOCK_H
#define SEKISHO_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Seconds since the epoch, UTC. */
int64_t clock_now(void);
/* Microseconds since the epoch, UTC. */
int64_t clock_now_us(void);
/* Monotonic milliseconds, for durations only. */
int64_t clock_mono_ms(void);
/* Tests: fix the wall clock at t (seconds); 0 returns to the real clock. */
void clock_set_fixed(int64_t t);
/* Format t as xs:dateTime "YYYY-MM-DDTHH:MM:SSZ" into a 21-byte buffer. */
void clock_iso8601(int64_t t, char out[21]);
/* Parse xs:dateTime in UTC (Z, optional fraction); 0 or -1. */
int clock_parse_iso8601(const char *s, int64_t *t_r);
/*
 * The same with "Z" or a UTC offset "+09:00" / "-05:30" at the end (as an administrator
 * writes a local time); *t_r is UTC.  0 or -1.
 */
int clock_parse_iso8601_offset(const char *s, int64_t *t_r);
/*
 * Whether the kernel says the clock is synchronised (NTP discipline: not STA_UNSYNC and
 * not TIME_ERROR) into *synced_r, and its maximum error in microseconds.  0 or -1.
 */
int clock_sync_status(int *synced_r, int64_t *maxerror_us_r);
/* Parse a duration such as "90", "30s", "15m", "8h", "30d"; 0 or -1. */
int clock_parse_duration(const char *s, int64_t *seconds_r);

#endif
