/*
 * Unit tests for lib/pwquality.c: length in characters rather than bytes, strict UTF-8,
 * the user's name and e-mail refused inside a password, cracklib's dictionary (Debian's
 * default one), and a dictionary that cannot be read refusing rather than passing.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pwquality.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct pw_case {
	const char *pw;
	size_t min;
	const char *why;	/* NULL: accepted */
};

static void
check(const struct pw_case *cases, size_t n, const char *user, const char *email,
    const char *dict)
{
	for (size_t i = 0; i < n; i++) {
		const char *why = "unset";
		int rc = pwquality_check(cases[i].pw, cases[i].min, user, email, dict, &why);

		if (rc != (cases[i].why ? -1 : 0))
			print_error("case %zu: rc %d why %s\n", i, rc, why ? why : "-");
		assert_int_equal(rc, cases[i].why ? -1 : 0);
		if (cases[i].why)
			assert_string_equal(why, cases[i].why);
		else
			assert_null(why);
	}
}

static void
test_pwquality_chars(void **state)
{
	static const struct { const char *s; long n; } cases[] = {
		{ "", 0 }, { "abc", 3 }, { "日本語", 3 }, { "caf\xc3\xa9", 4 },
		{ "\xf0\x9f\x94\x91key", 4 }, { "\xf4\x8f\xbf\xbf", 1 },
		{ "\xff", -1 }, { "\xc0\xaf", -1 }, { "\xc1\xbf", -1 }, { "\xe0\x80\xaf", -1 },
		{ "\xed\xa0\x80", -1 }, { "\xf4\x90\x80\x80", -1 }, { "\xf5\x80\x80\x80", -1 },
		{ "\xe6\x97", -1 }, { "ab\x80", -1 }, { "\xe6\x97\xa5\xe6", -1 },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++)
		assert_int_equal(pwquality_chars(cases[i].s), cases[i].n);
}

static void
test_pwquality_length_in_characters(void **state)
{
	static const struct pw_case cases[] = {
		{ "日本語の合言葉を使う", 10, NULL },		/* 10 characters, 30 bytes */
		{ "日本語の合言葉を使", 10, "pw_too_short" },	/* 9 characters, 27 bytes */
		{ "Qz7!vR2#mK", 10, NULL },
		{ "Qz7!vR2#m", 10, "pw_too_short" },
		{ "", 1, "pw_too_short" },
	};

	(void)state;
	check(cases, NELEM(cases), "taro", "taro@example.jp", NULL);
}

static void
test_pwquality_not_utf8(void **state)
{
	static const struct pw_case cases[] = {
		{ "Qz7!vR2#mK\xff", 10, "pw_not_utf8" },
		{ "Qz7!vR2#mK\xc0\xaf", 10, "pw_not_utf8" },
		{ "Qz7!vR2#mK\xed\xa0\x80", 10, "pw_not_utf8" },
		{ "\xe6\x97\xa5\xe6\x9c", 1, "pw_not_utf8" },
	};
	const char *why;

	(void)state;
	check(cases, NELEM(cases), "taro", NULL, NULL);
	assert_int_equal(pwquality_check(NULL, 1, NULL, NULL, NULL, &why), -1);
}

static void
test_pwquality_like_name(void **state)
{
	static const struct pw_case cases[] = {
		{ "Taro.Yamada", 8, "pw_like_name" },
		{ "my-TARO.YAMADA-2024!", 8, "pw_like_name" },
		{ "Hanako-Q7!x#v", 8, "pw_like_name" },		/* the e-mail's local part */
		{ "hanako@example.jp", 8, "pw_like_name" },
		{ "Qz7!vR2#mKexample.jp", 8, NULL },		/* the domain alone is fine */
		{ "Qz7!vR2#mK-taro", 8, NULL },			/* a part of the name is fine */
	};
	static const struct pw_case short_name[] = {
		{ "jo", 1, "pw_like_name" },
		{ "Qz7!jo2#mK", 8, NULL },			/* two letters inside: allowed */
	};

	(void)state;
	check(cases, NELEM(cases), "taro.yamada", "hanako@example.jp", NULL);
	check(short_name, NELEM(short_name), "jo", NULL, NULL);
}

static void
test_pwquality_dictionary(void **state)
{
	static const struct pw_case cases[] = {
		{ "password123", 8, "pw_dictionary" },
		{ "abcdefghijkl", 8, "pw_dictionary" },
		{ "aaaaaaaaaaaa", 8, "pw_dictionary" },
		{ "Qz7!vR2#mK", 8, NULL },
	};
	static const struct pw_case missing[] = {
		{ "Qz7!vR2#mK", 8, "pw_dictionary" },
	};

	(void)state;
	check(cases, NELEM(cases), "taro", NULL, NULL);
	check(missing, NELEM(missing), "taro", NULL, "/nonexistent/cracklib_dict");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pwquality_chars),
		cmocka_unit_test(test_pwquality_length_in_characters),
		cmocka_unit_test(test_pwquality_not_utf8),
		cmocka_unit_test(test_pwquality_like_name),
		cmocka_unit_test(test_pwquality_dictionary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
