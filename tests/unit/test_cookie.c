/*
 * Unit tests for lib/cookie.c: Cookie header pairs, blanks, and the rule that a cookie
 * counts only when its name comes exactly once (also across several headers), with
 * control characters and too many pairs failing closed.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cookie.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *
get1(const char *header, const char *name, struct cookie_jar *jar)
{
	memset(jar, 0, sizeof(*jar));
	cookie_parse(jar, header, strlen(header));
	return cookie_get(jar, name);
}

static void
test_cookie_pairs(void **state)
{
	static const struct {
		const char *header, *name, *want;
	} cases[] = {
		{ "sekisho_sid=abc", "sekisho_sid", "abc" },
		{ "a=1; sekisho_sid=abc; b=2", "sekisho_sid", "abc" },
		{ "a=1;sekisho_sid=abc;b=2", "sekisho_sid", "abc" },
		{ "  sekisho_sid \t=\t abc  ; b=2", "sekisho_sid", "abc" },
		{ "sekisho_sid=", "sekisho_sid", "" },
		{ "sekisho_sid=a=b", "sekisho_sid", "a=b" },
		{ "sekisho_sid=\"abc\"", "sekisho_sid", "\"abc\"" },	/* kept as sent */
		{ "lang=ja; sekisho_lang=en", "sekisho_lang", "en" },
		{ "=x; y", "", "x" },
		{ "", "a", NULL },
		{ ";;;", "a", NULL },
		{ "a", "a", NULL },			/* no '=': not a pair */
		{ "A=1", "a", NULL },			/* names are case-sensitive */
		{ "sekisho_sid_x=1", "sekisho_sid", NULL },
		{ "xsekisho_sid=1", "sekisho_sid", NULL },
	};
	struct cookie_jar jar;

	for (size_t i = 0; i < NELEM(cases); i++) {
		const char *v = get1(cases[i].header, cases[i].name, &jar);

		if (cases[i].want == NULL)
			assert_null(v);
		else
			assert_string_equal(v, cases[i].want);
		cookie_free(&jar);
	}
}

static void
test_cookie_twice_is_none(void **state)
{
	static const char *const headers[] = {
		"sid=a; sid=b", "sid=a; sid=a", "sid=a; x=1; sid=", " sid=a;sid=b ", "sid; sid=a; sid=b",
	};
	struct cookie_jar jar;

	for (size_t i = 0; i < NELEM(headers); i++) {
		assert_null(get1(headers[i], "sid", &jar));
		cookie_free(&jar);
	}
	/* The second of two Cookie headers counts too. */
	memset(&jar, 0, sizeof(jar));
	cookie_parse(&jar, "sid=a; x=1", 10);
	assert_string_equal(cookie_get(&jar, "sid"), "a");
	cookie_parse(&jar, "sid=b", 5);
	assert_null(cookie_get(&jar, "sid"));
	assert_string_equal(cookie_get(&jar, "x"), "1");
	cookie_free(&jar);
}

static void
test_cookie_control_characters(void **state)
{
	static const char in[] = "sid=ab\0cd; t=x\001y; u=ok";
	struct cookie_jar jar;

	memset(&jar, 0, sizeof(jar));
	cookie_parse(&jar, in, sizeof(in) - 1);
	assert_null(cookie_get(&jar, "sid"));	/* would read as "ab" */
	assert_null(cookie_get(&jar, "t"));
	assert_string_equal(cookie_get(&jar, "u"), "ok");
	cookie_free(&jar);
	/* A name cut short by a NUL still counts: a duplicate, never a hidden one. */
	memset(&jar, 0, sizeof(jar));
	cookie_parse(&jar, "sid\0x=1; sid=2", 14);
	assert_null(cookie_get(&jar, "sid"));
	cookie_free(&jar);
}

static void
test_cookie_too_many_pairs(void **state)
{
	struct cookie_jar jar;
	char h[COOKIE_MAX_PAIRS * 8 + 32];
	size_t n = 0;

	memset(&jar, 0, sizeof(jar));
	n += (size_t)snprintf(h + n, sizeof(h) - n, "sid=a");
	for (int i = 1; i < COOKIE_MAX_PAIRS; i++)
		n += (size_t)snprintf(h + n, sizeof(h) - n, "; c%d=1", i);
	cookie_parse(&jar, h, n);
	assert_int_equal(jar.n, COOKIE_MAX_PAIRS);
	assert_string_equal(cookie_get(&jar, "sid"), "a");
	/* One more pair, which could be a second sid: nothing is trusted any more. */
	cookie_parse(&jar, "sid=b", 5);
	assert_int_equal(jar.overflow, 1);
	assert_null(cookie_get(&jar, "sid"));
	assert_null(cookie_get(&jar, "c1"));
	cookie_free(&jar);
	assert_int_equal(jar.n, 0);
	assert_int_equal(jar.overflow, 0);
	cookie_free(&jar);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cookie_pairs),
		cmocka_unit_test(test_cookie_twice_is_none),
		cmocka_unit_test(test_cookie_control_characters),
		cmocka_unit_test(test_cookie_too_many_pairs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
