/*
 * Unit tests for idp/backup.c's schedule: the latest backup_time slot at or before a time
 * in the server's local time zone (TZ set here), and when a backup is due after the last.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "backup.h"
#include "clock.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int64_t
at(const char *iso)
{
	int64_t t;

	assert_int_equal(clock_parse_iso8601_offset(iso, &t), 0);
	return t;
}

static void
test_backup_slot(void **state)
{
	static const struct {
		const char *tz, *hhmm, *now, *slot;
	} cases[] = {
		{ "UTC", "03:30", "2026-11-05T03:30:00Z", "2026-11-05T03:30:00Z" },
		{ "UTC", "03:30", "2026-11-05T03:29:59Z", "2026-11-04T03:30:00Z" },
		{ "UTC", "00:00", "2026-03-01T00:00:00Z", "2026-03-01T00:00:00Z" },
		{ "UTC", "23:59", "2026-03-01T00:00:00Z", "2026-02-28T23:59:00Z" },
		{ "Asia/Tokyo", "03:00", "2026-11-05T03:00:00+09:00", "2026-11-04T18:00:00Z" },
		{ "Asia/Tokyo", "03:00", "2026-11-05T02:00:00+09:00", "2026-11-03T18:00:00Z" },
		/* 02:30 does not exist on 8 March 2026 in New York: the slot is when it passes. */
		{ "America/New_York", "02:30", "2026-03-08T12:00:00-04:00", "2026-03-08T07:30:00Z" },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		setenv("TZ", cases[i].tz, 1);
		tzset();
		assert_int_equal(backup_slot(cases[i].hhmm, at(cases[i].now)), at(cases[i].slot));
	}
	unsetenv("TZ");
	tzset();
}

static void
test_backup_due(void **state)
{
	struct settings s = { .backup_time = "03:30" };
	int64_t slot = at("2026-11-05T03:30:00Z");

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	assert_int_equal(backup_due(&s, slot - 1, slot), 1);
	assert_int_equal(backup_due(&s, slot - 1, slot - 1), 0);	/* not yet */
	assert_int_equal(backup_due(&s, slot + 5, slot + 86399), 0);	/* made today */
	assert_int_equal(backup_due(&s, slot + 5, slot + 86400), 1);	/* the next day */
	assert_int_equal(backup_due(&s, slot - 3 * 86400, slot + 60), 1);	/* missed ones: once */
	s.backup_time = NULL;
	assert_int_equal(backup_due(&s, 0, slot), 0);
	unsetenv("TZ");
	tzset();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backup_slot),
		cmocka_unit_test(test_backup_due),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
