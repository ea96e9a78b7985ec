/*
 * Unit tests for lib/encode.c: base64 (standard, url), hex and percent-encoding, table-driven.
 * The decoders must accept only canonical input of their alphabet and honour their caps.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "encode.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
test_encode_b64_round_trip(void **state)
{
	static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
		"Zm9vYmFy" };

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		char *e = b64_encode(in[i], strlen(in[i]));
		size_t n;
		unsigned char *d;

		assert_int_equal(strlen(e) + 1, b64_encoded_size(strlen(in[i])));
		assert_string_equal(e, out[i]);
		d = b64_decode(e, strlen(e), 0, 1024, &n);
		assert_non_null(d);
		assert_int_equal(n, strlen(in[i]));
		assert_memory_equal(d, in[i], n);
		assert_int_equal(d[n], '\0');
		free(d);
		free(e);
	}
}

static void
test_encode_b64_binary_round_trip(void **state)
{
	unsigned char all[256], *d;
	char *e;
	size_t n;

	for (size_t i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)i;
	for (size_t len = 0; len <= sizeof(all); len += 37) {
		e = b64_encode(all, len);
		d = b64_decode(e, strlen(e), 0, len, &n);
		assert_non_null(d);
		assert_int_equal(n, len);
		assert_memory_equal(d, all, len);
		free(d);
		free(e);
		e = b64url_encode(all, len);
		assert_null(strpbrk(e, "+/="));
		d = b64url_decode(e, strlen(e), len, &n);
		assert_non_null(d);
		assert_int_equal(n, len);
		assert_memory_equal(d, all, len);
		free(d);
		free(e);
	}
}

static void
test_encode_b64_rejects_malformed(void **state)
{
	static const char *const bad[] = { "Zg=", "Zg===", "Z", "Zm9v!", "Zg==Zg==", "Zh==",
		"=Zg=", "Zg", "Zm8", "Zm9=", "Zm-v", "Zm_v", "Zm9v\n", "Z g==", "====", "Zm9vY===",
		"Zm8=Zm8=" };
	size_t n;

	for (size_t i = 0; i < NELEM(bad); i++)
		assert_null(b64_decode(bad[i], strlen(bad[i]), 0, 1024, &n));
}

static void
test_encode_b64_whitespace_only_when_asked(void **state)
{
	static const char wrapped[] = "Zm9v\r\nYmFy\n\tZm9v YmFy";
	unsigned char *d;
	size_t n;

	assert_null(b64_decode(wrapped, strlen(wrapped), 0, 1024, &n));
	d = b64_decode(wrapped, strlen(wrapped), 1, 1024, &n);
	assert_non_null(d);
	assert_int_equal(n, 12);
	assert_memory_equal(d, "foobarfoobar", 12);
	free(d);
	/* Whitespace does not make data after padding acceptable. */
	assert_null(b64_decode("Zg==\nZg==", 9, 1, 1024, &n));
	/* Other control characters are not whitespace. */
	assert_null(b64_decode("Zm9v\vYmFy", 9, 1, 1024, &n));
}

static void
test_encode_b64_embedded_nul(void **state)
{
	size_t n;

	/* The decoder works on a length, so a NUL inside is a bad character, not an end. */
	assert_null(b64_decode("Zm9v\0YmFy", 9, 0, 1024, &n));
	assert_null(b64url_decode("Zm9v\0YmFy", 8, 1024, &n));
}

static void
test_encode_b64_cap(void **state)
{
	unsigned char *d;
	size_t n;

	assert_null(b64_decode("Zm9vYmFy", 8, 0, 5, &n));
	d = b64_decode("Zm9vYmFy", 8, 0, 6, &n);
	assert_non_null(d);
	free(d);
	assert_null(b64_decode("Zm9vYg==", 8, 0, 3, &n));
	d = b64_decode("Zm9vYg==", 8, 0, 4, &n);
	assert_non_null(d);
	free(d);
	assert_null(b64url_decode("Zm9vYg", 6, 3, &n));
	d = b64url_decode("Zm9vYg", 6, 4, &n);
	assert_non_null(d);
	free(d);
	assert_null(b64_decode("Zg==", 4, 0, 0, &n));
}

static void
test_encode_b64url_rejects_malformed(void **state)
{
	static const char *const bad[] = { "Zg==", "Zg=", "Z", "Zh", "Zm+v", "Zm/v", "Zm9v Zm9v",
		"Zm9vY" };
	size_t n;

	for (size_t i = 0; i < NELEM(bad); i++)
		assert_null(b64url_decode(bad[i], strlen(bad[i]), 1024, &n));
}

static void
test_encode_b64url_alphabet(void **state)
{
	static const unsigned char in[] = { 0xfb, 0xff, 0xbf };
	unsigned char *d;
	char *e;
	size_t n;

	e = b64url_encode(in, sizeof(in));
	assert_string_equal(e, "-_-_");
	free(e);
	e = b64_encode(in, sizeof(in));
	assert_string_equal(e, "+/+/");
	free(e);
	d = b64url_decode("-_-_", 4, 16, &n);
	assert_non_null(d);
	assert_int_equal(n, 3);
	assert_memory_equal(d, in, 3);
	free(d);
	e = b64url_encode("f", 1);
	assert_string_equal(e, "Zg");
	free(e);
}

static void
test_encode_hex(void **state)
{
	static const unsigned char in[] = { 0x00, 0x7f, 0x80, 0xab, 0xff };
	unsigned char out[8];
	char s[2 * sizeof(in) + 1];
	size_t n;

	hex_encode(in, sizeof(in), s);
	assert_string_equal(s, "007f80abff");
	assert_int_equal(hex_decode("007F80ABff", 10, out, sizeof(out), &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(out, in, 5);
	assert_int_equal(hex_decode("", 0, out, sizeof(out), &n), 0);
	assert_int_equal(n, 0);
}

static void
test_encode_hex_rejects_malformed(void **state)
{
	static const char *const bad[] = { "0", "abc", "zz", "0g", "g0", " 00", "0x00", "-1" };
	unsigned char out[8];
	size_t n;

	for (size_t i = 0; i < NELEM(bad); i++)
		assert_int_equal(hex_decode(bad[i], strlen(bad[i]), out, sizeof(out), &n), -1);
	/* Output space is a cap: 5 bytes do not fit in 4. */
	assert_int_equal(hex_decode("0011223344", 10, out, 4, &n), -1);
	assert_int_equal(hex_decode("00112233", 8, out, 4, &n), 0);
}

static void
test_encode_url_decode(void **state)
{
	static const struct {
		const char *in;
		int plus;
		const char *out;	/* NULL: must be refused */
	} cases[] = {
		{ "a%20b+c", 1, "a b c" },
		{ "a%20b+c", 0, "a b+c" },
		{ "%2B", 1, "+" },
		{ "%2b%2F", 1, "+/" },
		{ "", 1, "" },
		{ "%C3%A9", 1, "\xc3\xa9" },
		{ "%zz", 1, NULL },
		{ "%2", 1, NULL },
		{ "%", 1, NULL },
		{ "a%", 1, NULL },
		{ "%%41", 1, NULL },
		{ "%00", 1, NULL },
		{ "%g1", 1, NULL },
		{ "%1g", 1, NULL },
	};
	size_t n;

	for (size_t i = 0; i < NELEM(cases); i++) {
		char *s = url_decode(cases[i].in, strlen(cases[i].in), cases[i].plus, &n);
		if (cases[i].out == NULL) {
			assert_null(s);
			continue;
		}
		assert_non_null(s);
		assert_string_equal(s, cases[i].out);
		assert_int_equal(n, strlen(cases[i].out));
		free(s);
	}
	/* A raw NUL byte inside the length is refused too. */
	assert_null(url_decode("a\0b", 3, 1, &n));
	/* len_r is optional. */
	{
		char *s = url_decode("x", 1, 1, NULL);
		assert_string_equal(s, "x");
		free(s);
	}
}

static void
test_encode_url_encode(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "" },
		{ "AZaz09-._~", "AZaz09-._~" },
		{ "a b", "a%20b" },
		{ "a+b&c=d/e?f#g", "a%2Bb%26c%3Dd%2Fe%3Ff%23g" },
		{ "\xc3\xa9", "%C3%A9" },
		{ "%", "%25" },
		{ "\n\x7f", "%0A%7F" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		char *e = url_encode(cases[i].in);
		char *d;
		size_t n;

		assert_string_equal(e, cases[i].out);
		d = url_decode(e, strlen(e), 0, &n);
		assert_non_null(d);
		assert_string_equal(d, cases[i].in);
		free(d);
		free(e);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_b64_round_trip),
		cmocka_unit_test(test_encode_b64_binary_round_trip),
		cmocka_unit_test(test_encode_b64_rejects_malformed),
		cmocka_unit_test(test_encode_b64_whitespace_only_when_asked),
		cmocka_unit_test(test_encode_b64_embedded_nul),
		cmocka_unit_test(test_encode_b64_cap),
		cmocka_unit_test(test_encode_b64url_rejects_malformed),
		cmocka_unit_test(test_encode_b64url_alphabet),
		cmocka_unit_test(test_encode_hex),
		cmocka_unit_test(test_encode_hex_rejects_malformed),
		cmocka_unit_test(test_encode_url_decode),
		cmocka_unit_test(test_encode_url_encode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
