/*
 * Unit tests for lib/totp.c: RFC 6238's SHA-1 vectors (the low six digits of its
 * eight-digit codes), the one-step window and the step it reports, code syntax, base32
 * (RFC 4648 vectors) and the otpauth URI.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "totp.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const unsigned char rfc_secret[] = "12345678901234567890";
#define RFC_LEN 20

static void
test_totp_rfc6238_vectors(void **state)
{
	static const struct { int64_t t; const char *code; } cases[] = {
		{ 59, "287082" },		/* 94287082 */
		{ 1111111109, "081804" },	/* 07081804 */
		{ 1111111111, "050471" },	/* 14050471 */
		{ 1234567890, "005924" },	/* 89005924 */
		{ 2000000000, "279037" },	/* 69279037 */
		{ 20000000000, "353130" },	/* 65353130 */
	};
	char out[TOTP_DIGITS + 1];
	uint64_t step;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		assert_int_equal(totp_code(rfc_secret, RFC_LEN, cases[i].t, out), 0);
		assert_string_equal(out, cases[i].code);
		assert_int_equal(totp_verify(rfc_secret, RFC_LEN, cases[i].t, cases[i].code,
		    &step), 1);
		assert_true(step == (uint64_t)cases[i].t / TOTP_STEP);
	}
}

static void
test_totp_window(void **state)
{
	const int64_t now = 1111111111, base = now / TOTP_STEP;
	static const struct { int off; int ok; } cases[] = {
		{ -2, 0 }, { -1, 1 }, { 0, 1 }, { 1, 1 }, { 2, 0 },
	};
	char code[TOTP_DIGITS + 1], cur[TOTP_DIGITS + 1];
	uint64_t step;

	(void)state;
	assert_int_equal(totp_code(rfc_secret, RFC_LEN, now, cur), 0);
	for (size_t i = 0; i < NELEM(cases); i++) {
		int64_t t = now + cases[i].off * TOTP_STEP;

		assert_int_equal(totp_code(rfc_secret, RFC_LEN, t, code), 0);
		step = 0;
		assert_int_equal(totp_verify(rfc_secret, RFC_LEN, now, code, &step),
		    cases[i].ok);
		if (cases[i].ok)
			assert_true(step == (uint64_t)(base + cases[i].off));
		else
			assert_true(step == 0);
	}
	/* Another secret's code for the same time is refused. */
	assert_int_equal(totp_verify((const unsigned char *)"another-secret-20byte", RFC_LEN,
	    now, cur, &step), 0);
}

static void
test_totp_code_syntax(void **state)
{
	static const char *bad[] = {
		"", "05047", "0504711", "05047a", "050 471", " 050471", "050471 ", "+50471",
		"０５０４７１", "050471\n",
	};
	uint64_t step;

	(void)state;
	for (size_t i = 0; i < NELEM(bad); i++)
		assert_int_equal(totp_verify(rfc_secret, RFC_LEN, 1111111111, bad[i], &step), 0);
	assert_int_equal(totp_verify(rfc_secret, RFC_LEN, 1111111111, NULL, &step), -1);
	assert_int_equal(totp_verify(NULL, 0, 1111111111, "050471", &step), -1);
	assert_int_equal(totp_verify(rfc_secret, 0, 1111111111, "050471", &step), -1);
}

static void
test_totp_base32(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "", "" }, { "f", "MY" }, { "fo", "MZXQ" }, { "foo", "MZXW6" },
		{ "foob", "MZXW6YQ" }, { "fooba", "MZXW6YTB" }, { "foobar", "MZXW6YTBOI" },
		{ "12345678901234567890", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		char *s = totp_base32((const unsigned char *)cases[i].in, strlen(cases[i].in));

		assert_string_equal(s, cases[i].out);
		free(s);
	}
}

static void
test_totp_uri(void **state)
{
	char *uri = totp_uri("Sekisho example", "taro@example.jp", rfc_secret, RFC_LEN);

	(void)state;
	assert_string_equal(uri, "otpauth://totp/Sekisho%20example:taro%40example.jp"
	    "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Sekisho%20example"
	    "&algorithm=SHA1&digits=6&period=30");
	free(uri);
	uri = totp_uri("a:b&c", "太郎", rfc_secret, RFC_LEN);
	assert_string_equal(uri, "otpauth://totp/a%3Ab%26c:%E5%A4%AA%E9%83%8E"
	    "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=a%3Ab%26c"
	    "&algorithm=SHA1&digits=6&period=30");
	free(uri);
}

static int
setup(void **state)
{
	(void)state;
	return totp_init();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_totp_rfc6238_vectors),
		cmocka_unit_test(test_totp_window),
		cmocka_unit_test(test_totp_code_syntax),
		cmocka_unit_test(test_totp_base32),
		cmocka_unit_test(test_totp_uri),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
