/*
 * Unit tests for lib/tz.c: local day and minute in Asia/Tokyo across local midnight and the
 * Sunday/Monday boundary, America/New_York across both daylight-saving transitions, UTC and
 * instants before 1970, zone ids ICU does not know (it would read them as GMT), and threads
 * that switch zones while others use theirs; tz_format's text (offsets east and west,
 * half-hour, daylight-saving, unknown zones as UTC).
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tz.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define HM(h, m) ((h) * 60 + (m))

struct local_case {
	const char *zone;
	int64_t t;		/* UTC, as `date -u -d ... +%s` gives it */
	int wday, minute, offset;
};

static const struct local_case local_cases[] = {
	/* 2024-06-01T14:59Z: Saturday 23:59 in Tokyo, then Sunday 00:00. */
	{ "Asia/Tokyo", 1717253940, 6, HM(23, 59), 32400 },
	{ "Asia/Tokyo", 1717253940 + 60, 0, HM(0, 0), 32400 },
	/* 2024-06-02T14:59Z: Sunday 23:59, then Monday 00:00 (the week boundary). */
	{ "Asia/Tokyo", 1717340340, 0, HM(23, 59), 32400 },
	{ "Asia/Tokyo", 1717340400, 1, HM(0, 0), 32400 },
	{ "Asia/Tokyo", 1717333200, 0, HM(22, 0), 32400 },
	/* The same instants in New York (summer time): still Sunday morning. */
	{ "America/New_York", 1717340340, 0, HM(10, 59), -14400 },
	{ "America/New_York", 1717340400, 0, HM(11, 0), -14400 },
	/* 2024-03-10: 01:59 EST, then 03:00 EDT one minute later. */
	{ "America/New_York", 1710053940, 0, HM(1, 59), -18000 },
	{ "America/New_York", 1710054000, 0, HM(3, 0), -14400 },
	/* 2024-11-03: 01:59 EDT, then 01:00 EST (the hour repeats). */
	{ "America/New_York", 1730613540, 0, HM(1, 59), -14400 },
	{ "America/New_York", 1730613600, 0, HM(1, 0), -18000 },
	/* US/Eastern is a link to America/New_York. */
	{ "US/Eastern", 1710054000, 0, HM(3, 0), -14400 },
	{ "UTC", 0, 4, 0, 0 },
	{ "Etc/UTC", 1717340340, 0, HM(14, 59), 0 },
	/* Before 1970 the day and minute are floored, not truncated towards zero. */
	{ "UTC", -60, 3, HM(23, 59), 0 },
	{ "Asia/Tokyo", -32400 - 60, 3, HM(23, 59), 32400 },
};

static int
check_case(const struct local_case *c)
{
	struct tz_local l;

	memset(&l, 0xff, sizeof(l));
	if (tz_local(c->zone, c->t, &l) != 0) {
		print_error("%s %lld: failed\n", c->zone, (long long)c->t);
		return 1;
	}
	if (l.wday != c->wday || l.minute != c->minute || l.offset != c->offset) {
		print_error("%s %lld: got day %d minute %d offset %d, want %d %d %d\n", c->zone,
		    (long long)c->t, l.wday, l.minute, l.offset, c->wday, c->minute, c->offset);
		return 1;
	}
	return 0;
}

static void
test_tz_local_table(void **state)
{
	int failed = 0;

	for (size_t i = 0; i < NELEM(local_cases); i++)
		failed += check_case(&local_cases[i]);
	/* Again in reverse: five zones, more than a thread keeps calendars for. */
	for (size_t i = NELEM(local_cases); i-- > 0;)
		failed += check_case(&local_cases[i]);
	assert_int_equal(failed, 0);
}

static void
test_tz_unknown_zones(void **state)
{
	static const char *bad[] = {
		"Mars/Base", "Etc/Unknown", "", "asia/tokyo", "GMT+09:00", "Asia/Tokyo ",
		"Asia/T\xc3\xb6kyo",
		"Asia/Tokyo/Asia/Tokyo/Asia/Tokyo/Asia/Tokyo/Asia/Tokyo/Asia/Tokyo/Asia/Tokyo",
	};
	struct tz_local l;

	for (size_t i = 0; i < NELEM(bad); i++) {
		if (tz_valid(bad[i]))
			fail_msg("\"%s\" taken as a zone", bad[i]);
		if (tz_local(bad[i], 1717340340, &l) != -1)
			fail_msg("\"%s\": local time computed", bad[i]);
	}
	assert_int_equal(tz_valid(NULL), 0);
	assert_int_equal(tz_local(NULL, 0, &l), -1);
	/* An unknown zone after a known one does not reuse the known one's calendar. */
	assert_int_equal(tz_local("Asia/Tokyo", 0, &l), 0);
	assert_int_equal(tz_local("Mars/Base", 0, &l), -1);
	assert_int_equal(tz_local("Asia/Tokyo", 0, &l), 0);
	assert_int_equal(l.offset, 32400);
}

static void
test_tz_valid_zones(void **state)
{
	static const char *good[] = {
		"Asia/Tokyo", "America/New_York", "UTC", "Etc/UTC", "Europe/Berlin", "US/Eastern",
		"Japan",
	};

	for (size_t i = 0; i < NELEM(good); i++)
		if (!tz_valid(good[i]))
			fail_msg("\"%s\" refused", good[i]);
}

static void
test_tz_out_of_range(void **state)
{
	struct tz_local l;

	assert_int_equal(tz_local("UTC", INT64_MAX, &l), -1);
	assert_int_equal(tz_local("UTC", INT64_MIN, &l), -1);
	/* 9999-12-31T23:59:59Z is the last instant taken. */
	assert_int_equal(tz_local("UTC", 253402300799LL, &l), 0);
	assert_int_equal(l.minute, HM(23, 59));
}

/* What people read: local date and minute with the offset; unknown zones as UTC. */
static void
test_tz_format_table(void **state)
{
	static const struct {
		const char *zone;
		int64_t t;
		const char *want;
	} cases[] = {
		/* 2026-12-03T15:04:59Z */
		{ "Asia/Tokyo", 1796310299, "2026-12-04 00:04 UTC+09:00" },
		{ "America/Los_Angeles", 1796310299, "2026-12-03 07:04 UTC-08:00" },
		/* 2026-07-01T00:00:00Z: daylight-saving time in New York */
		{ "America/New_York", 1782864000, "2026-06-30 20:00 UTC-04:00" },
		{ "Asia/Kolkata", 1782864000, "2026-07-01 05:30 UTC+05:30" },
		{ "No/Such_Zone", 1782864000, "2026-07-01 00:00 UTC+00:00" },
		{ NULL, 0, "1970-01-01 00:00 UTC+00:00" },
	};
	char out[TZ_TIME_LEN];

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		tz_format(cases[i].zone, cases[i].t, out);
		assert_string_equal(out, cases[i].want);
	}
}

/* Each thread walks the table starting at its own row, so the zones interleave. */
static void *
thread_main(void *arg)
{
	size_t first = (size_t)(uintptr_t)arg;
	intptr_t failed = 0;

	for (int round = 0; round < 200; round++)
		for (size_t i = 0; i < NELEM(local_cases); i++)
			failed += check_case(&local_cases[(first + i) % NELEM(local_cases)]);
	return (void *)failed;
}

static void
test_tz_threads(void **state)
{
	pthread_t th[4];
	intptr_t failed = 0;

	for (size_t i = 0; i < NELEM(th); i++)
		assert_int_equal(pthread_create(&th[i], NULL, thread_main,
		    (void *)(uintptr_t)(i * 5)), 0);
	for (size_t i = 0; i < NELEM(th); i++) {
		void *rv;

		pthread_join(th[i], &rv);
		failed += (intptr_t)rv;
	}
	assert_int_equal(failed, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tz_local_table),
		cmocka_unit_test(test_tz_unknown_zones),
		cmocka_unit_test(test_tz_valid_zones),
		cmocka_unit_test(test_tz_out_of_range),
		cmocka_unit_test(test_tz_threads),
		cmocka_unit_test(test_tz_format_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
