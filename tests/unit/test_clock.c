/*
 * Unit tests for lib/clock.c: the injectable wall clock, xs:dateTime formatting and strict
 * parsing (UTC "Z" required, optional fraction, calendar checks), the same with a UTC offset
 * ("+09:00"), and configuration durations.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
test_clock_parse_iso8601_valid(void **state)
{
	static const struct {
		const char *s;
		int64_t t;
	} cases[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2024-02-29T12:34:56Z", 1709210096 },
		{ "2024-02-29T12:34:56.789Z", 1709210096 },
		{ "2024-02-29T12:34:56.0Z", 1709210096 },
		{ "2024-02-29T12:34:56.123456789012Z", 1709210096 },
		{ "2038-01-19T03:14:08Z", 2147483648LL },
		{ "2049-12-31T23:59:59Z", 2524607999LL },
		{ "2000-12-31T23:59:59Z", 978307199 },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		int64_t t = -1;

		if (clock_parse_iso8601(cases[i].s, &t) != 0)
			print_error("refused \"%s\"\n", cases[i].s);
		assert_int_equal(clock_parse_iso8601(cases[i].s, &t), 0);
		assert_true(t == cases[i].t);
	}
}

static void
test_clock_parse_iso8601_invalid(void **state)
{
	static const char *const bad[] = {
		"",
		"2024-02-29T12:34:56",		/* Z required */
		"2024-02-29T12:34:56z",
		"2024-02-29T12:34:56+00:00",
		"2024-02-29T12:34:56.Z",	/* fraction needs digits */
		"2024-02-29T12:34:56.5",
		"2024-02-29T12:34:56ZZ",
		"2024-02-29T12:34:56Z ",
		" 2024-02-29T12:34:56Z",
		"2024-02-29 12:34:56Z",
		"2024-2-29T12:34:56Z",
		"24-02-29T12:34:56Z",
		"2024-02-29T12:34Z",
		"2024/02/29T12:34:56Z",
		"2024-13-01T00:00:00Z",
		"2024-00-01T00:00:00Z",
		"2024-01-00T00:00:00Z",
		"2024-01-32T00:00:00Z",
		"2024-01-01T24:00:00Z",
		"2024-01-01T00:60:00Z",
		"2024-01-01T00:00:61Z",
		"2024-01-01T-1:00:00Z",
		"abcd-ef-ghTij:kl:mnZ",
		"2024-01-01T00:00:00.1.2Z",
		"2024-01-01T00:00:00,5Z",
	};

	for (size_t i = 0; i < NELEM(bad); i++) {
		int64_t t = 1234;
		int rc = clock_parse_iso8601(bad[i], &t);

		if (rc != -1)
			print_error("accepted \"%s\"\n", bad[i]);
		assert_int_equal(rc, -1);
		assert_int_equal(t, 1234);
	}
}

/*
 * Regression test (fixed in lib/clock.c, clock_parse_iso8601): days are only checked against 1..31, so dates that
 * do not exist are accepted and timegm() silently moves them into the next month
 * ("2023-02-30T00:00:00Z" parses as 2023-03-02).  xs:dateTime has no such dates.
 */
static void
test_clock_parse_iso8601_impossible_dates(void **state)
{
	static const char *const bad[] = {
		"2023-02-29T00:00:00Z",		/* not a leap year */
		"2024-02-30T00:00:00Z",
		"2023-02-31T00:00:00Z",
		"2024-04-31T00:00:00Z",
		"2100-02-29T00:00:00Z",		/* divisible by 100, not by 400 */
	};

	for (size_t i = 0; i < NELEM(bad); i++) {
		int64_t t;
		int rc = clock_parse_iso8601(bad[i], &t);

		if (rc != -1)
			print_error("accepted impossible date \"%s\"\n", bad[i]);
		assert_int_equal(rc, -1);
	}
}

/* Times as `policy test --at` takes them: Z or an offset, the result in UTC. */
static void
test_clock_parse_iso8601_offset(void **state)
{
	static const struct {
		const char *s;
		int rc;
		int64_t t;
	} cases[] = {
		{ "2024-02-29T12:34:56Z", 0, 1709210096 },
		{ "2024-02-29T21:34:56+09:00", 0, 1709210096 },
		{ "2024-02-29T21:34:56.5+09:00", 0, 1709210096 },
		{ "2024-02-29T07:34:56-05:00", 0, 1709210096 },
		{ "2024-02-29T18:04:56+05:30", 0, 1709210096 },
		{ "2024-02-29T12:34:56+00:00", 0, 1709210096 },
		{ "2024-02-29T12:34:56-00:00", 0, 1709210096 },
		/* Monday 00:30 in Tokyo is still Sunday in UTC. */
		{ "2024-03-04T00:30:00+09:00", 0, 1709479800 },
		{ "1970-01-01T09:00:00+09:00", 0, 0 },
		{ "2024-02-29T12:34:56", -1, 0 },
		{ "2024-02-29T12:34:56+09", -1, 0 },
		{ "2024-02-29T12:34:56+0900", -1, 0 },
		{ "2024-02-29T12:34:56+9:00", -1, 0 },
		{ "2024-02-29T12:34:56+24:00", -1, 0 },
		{ "2024-02-29T12:34:56+09:60", -1, 0 },
		{ "2024-02-29T12:34:56+09:00Z", -1, 0 },
		{ "2024-02-29T12:34:56+09:00 ", -1, 0 },
		{ "2024-02-29T12:34:56 +09:00", -1, 0 },
		{ "2024-02-29T12:34:56z", -1, 0 },
		{ "2024-02-30T12:34:56+09:00", -1, 0 },
		{ "2024-02-29T24:00:00+09:00", -1, 0 },
		{ "2024-02-29T12:34:56*09:00", -1, 0 },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		int64_t t = 1234;
		int rc = clock_parse_iso8601_offset(cases[i].s, &t);

		if (rc != cases[i].rc)
			print_error("\"%s\": rc %d\n", cases[i].s, rc);
		assert_int_equal(rc, cases[i].rc);
		assert_true(t == (rc == 0 ? cases[i].t : 1234));
	}
	/* The strict parser keeps refusing offsets. */
	{
		int64_t t;

		assert_int_equal(clock_parse_iso8601("2024-02-29T21:34:56+09:00", &t), -1);
	}
}

static void
test_clock_iso8601_round_trip(void **state)
{
	static const int64_t times[] = { 0, 1, 951782400 /* 2000-02-29 */, 1709210096,
		2147483647LL, 2147483648LL, 4102444799LL /* 2099-12-31T23:59:59 */ };

	for (size_t i = 0; i < NELEM(times); i++) {
		char s[21];
		int64_t t;

		clock_iso8601(times[i], s);
		assert_int_equal(strlen(s), 20);
		assert_int_equal(s[19], 'Z');
		assert_int_equal(clock_parse_iso8601(s, &t), 0);
		assert_true(t == times[i]);
	}
	{
		char s[21];

		clock_iso8601(1709210096, s);
		assert_string_equal(s, "2024-02-29T12:34:56Z");
	}
}

static void
test_clock_parse_duration(void **state)
{
	static const struct {
		const char *s;
		int rc;
		int64_t want;
	} cases[] = {
		{ "0", 0, 0 },
		{ "90", 0, 90 },
		{ "30s", 0, 30 },
		{ "15m", 0, 900 },
		{ "8h", 0, 28800 },
		{ "30d", 0, 2592000 },
		{ "007m", 0, 420 },
		{ "9223372036854775807", 0, INT64_MAX },
		{ "9223372036854775807s", 0, INT64_MAX },
		{ "9223372036854775808", -1, 0 },
		{ "153722867280912931m", -1, 0 },
		{ "", -1, 0 },
		{ "s", -1, 0 },
		{ "-1", -1, 0 },
		{ "+1", -1, 0 },
		{ " 1", -1, 0 },
		{ "1 ", -1, 0 },
		{ "1w", -1, 0 },
		{ "1ms", -1, 0 },
		{ "1H", -1, 0 },
		{ "1.5h", -1, 0 },
		{ "1h30m", -1, 0 },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		int64_t v = -7;
		int rc = clock_parse_duration(cases[i].s, &v);

		if (rc != cases[i].rc)
			print_error("duration \"%s\": rc %d\n", cases[i].s, rc);
		assert_int_equal(rc, cases[i].rc);
		if (rc == 0)
			assert_true(v == cases[i].want);
		else
			assert_int_equal(v, -7);
	}
}

static void
test_clock_set_fixed(void **state)
{
	int64_t real = clock_now();

	/* The real clock is after 2024 on any machine that runs these tests. */
	assert_true(real > 1704067200);
	clock_set_fixed(1000000000);
	assert_int_equal(clock_now(), 1000000000);
	assert_true(clock_now_us() == 1000000000LL * 1000000);
	clock_set_fixed(1000000001);
	assert_int_equal(clock_now(), 1000000001);
	clock_set_fixed(0);
	assert_true(clock_now() >= real);
	assert_true(clock_now_us() / 1000000 >= real);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock_parse_iso8601_valid),
		cmocka_unit_test(test_clock_parse_iso8601_invalid),
		cmocka_unit_test(test_clock_parse_iso8601_impossible_dates),
		cmocka_unit_test(test_clock_parse_iso8601_offset),
		cmocka_unit_test(test_clock_iso8601_round_trip),
		cmocka_unit_test(test_clock_parse_duration),
		cmocka_unit_test(test_clock_set_fixed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
