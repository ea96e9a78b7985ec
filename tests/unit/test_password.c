/*
 * Unit tests for lib/password.c: argon2id hashing with tiny parameters (t=1, m=64 KiB) so
 * the tests stay fast; verification (match, mismatch, malformed hash), the password policy
 * and the rehash decision when parameters are raised.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "password.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct password_params tiny = { .t_cost = 1, .m_cost = 64, .parallelism = 1 };

static void
test_password_hash_verify(void **state)
{
	static const char *const pw[] = { "correct horse battery", "\xe9\x96\xa2\xe6\x89\x80pass",
		"" };

	for (size_t i = 0; i < NELEM(pw); i++) {
		const char *err = NULL;
		char *h = password_hash(&tiny, pw[i], &err);

		assert_non_null(h);
		assert_null(err);
		assert_int_equal(strncmp(h, "$argon2id$v=19$m=64,t=1,p=1$", 28), 0);
		/* The password itself never appears in the hash. */
		if (*pw[i])
			assert_null(strstr(h, pw[i]));
		assert_int_equal(password_verify(h, pw[i]), 1);
		free(h);
	}
}

static void
test_password_wrong_password(void **state)
{
	const char *err;
	char *h = password_hash(&tiny, "correct horse", &err);

	assert_non_null(h);
	assert_int_equal(password_verify(h, "correct hors"), 0);
	assert_int_equal(password_verify(h, "correct horse "), 0);
	assert_int_equal(password_verify(h, "Correct horse"), 0);
	assert_int_equal(password_verify(h, ""), 0);
	free(h);
}

static void
test_password_salted(void **state)
{
	const char *err;
	char *a = password_hash(&tiny, "same password", &err);
	char *b = password_hash(&tiny, "same password", &err);

	assert_string_not_equal(a, b);
	assert_int_equal(password_verify(a, "same password"), 1);
	assert_int_equal(password_verify(b, "same password"), 1);
	free(a);
	free(b);
}

static void
test_password_malformed_hash(void **state)
{
	static const char *const bad[] = {
		"",
		"plaintext",
		"$2b$12$abcdefghijklmnopqrstuuN8iYpQnG/1JxbmY8ZL4mVEfQSvJ2yVu",	/* bcrypt */
		"$argon2i$v=19$m=64,t=1,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A",
		"$argon2id$",
		"$argon2id$v=19$m=64,t=1,p=1$",
		"$argon2id$v=19$m=64,t=1,p=1$!!!!$!!!!",
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ",
		"$argon2id$v=19$m=x,t=1,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A",
		"$ARGON2ID$v=19$m=64,t=1,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A",
	};

	for (size_t i = 0; i < NELEM(bad); i++) {
		int rc = password_verify(bad[i], "password");

		if (rc != -1)
			print_error("\"%s\": %d\n", bad[i], rc);
		assert_int_equal(rc, -1);
	}
}

static void
test_password_too_long(void **state)
{
	char pw[PASSWORD_MAX_LEN + 2];
	const char *err = NULL;
	char *h;

	memset(pw, 'a', sizeof(pw));
	pw[PASSWORD_MAX_LEN] = '\0';
	h = password_hash(&tiny, pw, &err);
	assert_non_null(h);
	assert_int_equal(password_verify(h, pw), 1);
	/* One byte more: refused by hash, never a match in verify. */
	pw[PASSWORD_MAX_LEN] = 'a';
	pw[PASSWORD_MAX_LEN + 1] = '\0';
	assert_int_equal(password_verify(h, pw), 0);
	free(h);
	assert_null(password_hash(&tiny, pw, &err));
	assert_non_null(err);
	assert_non_null(strstr(err, "too long"));
}

static void
test_password_bad_params(void **state)
{
	static const struct password_params bad = { .t_cost = 1, .m_cost = 1, .parallelism = 1 };
	const char *err = NULL;

	/* argon2 refuses memory below 8 KiB per lane: an error, not a crash or a weak hash. */
	assert_null(password_hash(&bad, "password", &err));
	assert_non_null(err);
}

static void
test_password_policy(void **state)
{
	static const struct {
		const char *pw;
		int rc;
		const char *err;
	} cases[] = {
		{ "", -1, "too short" },
		{ "1234567", -1, "too short" },
		{ "12345678", 0, NULL },
		{ "pass word with spaces", 0, NULL },
		/* Three characters in 9 bytes of UTF-8: characters count, not bytes. */
		{ "\xe9\x96\xa2\xe6\x89\x80\xe9\x96\xa2", -1, "too short" },
		{ "tab\there12", -1, "control characters" },
		{ "newline\n12", -1, "control characters" },
		{ "escape\x1b[0m", -1, "control characters" },
		{ "delete\x7f" "123", -1, "control characters" },
		{ "\x01" "2345678", -1, "control characters" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		const char *err = NULL;

		assert_int_equal(password_check_policy(cases[i].pw, &err), cases[i].rc);
		if (cases[i].err)
			assert_non_null(strstr(err, cases[i].err));
	}
}

/* n copies of a 3-byte character (U+95A2), NUL-terminated, in out. */
static const char *
kanji(char *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		memcpy(out + 3 * i, "\xe9\x96\xa2", 3);
	out[3 * n] = '\0';
	return out;
}

static void
test_password_policy_counts_characters(void **state)
{
	char pw[3 * PASSWORD_MIN_LEN + 1];
	const char *err = NULL;

	/* PASSWORD_MIN_LEN characters pass; one fewer fails although it has 3x the bytes. */
	assert_int_equal(password_check_policy(kanji(pw, PASSWORD_MIN_LEN), &err), 0);
	assert_int_equal(password_check_policy(kanji(pw, PASSWORD_MIN_LEN - 1), &err), -1);
	assert_non_null(strstr(err, "too short"));
	assert_true(strlen(pw) >= PASSWORD_MIN_LEN);
	/* Mixed: 7 ASCII and 1 four-byte character (U+1F511) make 8 characters. */
	assert_int_equal(password_check_policy("abcdefg\xf0\x9f\x94\x91", &err), 0);
	assert_int_equal(password_check_policy("abcdef\xf0\x9f\x94\x91", &err), -1);
}

static void
test_password_policy_invalid_utf8(void **state)
{
	static const char *const bad[] = {
		"password\xff",			/* never in UTF-8 */
		"password\xe9\x96",		/* truncated */
		"password\xe9\x96x",		/* continuation missing */
		"password\x80",			/* lone continuation byte */
		"password\xc0\xaf",		/* overlong '/' */
		"password\xe0\x80\xaf",	/* overlong '/' */
		"password\xed\xa0\x80",	/* surrogate U+D800 */
		"password\xf4\x90\x80\x80",	/* U+110000 */
		"\xe9\x96\xa2\xe6\x89\x80\xe9\x96\xa2\xe6\x89\x80\xe9\x96\xa2\xe6\x89\x80\xe9\x96\xa2\xe6\x89",
	};

	for (size_t i = 0; i < NELEM(bad); i++) {
		const char *err = NULL;

		assert_int_equal(password_check_policy(bad[i], &err), -1);
		assert_non_null(strstr(err, "UTF-8"));
	}
}

static void
test_password_policy_c1_controls(void **state)
{
	const char *err = NULL;

	/* U+0085 (NEL) and U+009B (CSI) are control characters in their UTF-8 form too. */
	assert_int_equal(password_check_policy("password\xc2\x85", &err), -1);
	assert_int_equal(password_check_policy("pass\xc2\x9b" "0mword", &err), -1);
	assert_int_equal(password_check_policy("passw\xc3\xb6rd", &err), 0);
}

static void
test_password_policy_length_bounds(void **state)
{
	char pw[PASSWORD_MAX_LEN + 2];
	const char *err = NULL;

	memset(pw, 'b', sizeof(pw));
	pw[PASSWORD_MAX_LEN] = '\0';
	assert_int_equal(password_check_policy(pw, &err), 0);
	pw[PASSWORD_MAX_LEN] = 'b';
	pw[PASSWORD_MAX_LEN + 1] = '\0';
	assert_int_equal(password_check_policy(pw, &err), -1);
	assert_non_null(strstr(err, "too long"));
}

static void
test_password_needs_rehash(void **state)
{
	static const struct {
		uint32_t t, m;
		int want;
	} cases[] = {
		{ 1, 64, 0 },
		{ 1, 32, 0 },	/* weaker wanted parameters do not force a rehash */
		{ 1, 128, 1 },
		{ 2, 64, 1 },
		{ 3, 19456, 1 },
	};
	const char *err;
	char *h = password_hash(&tiny, "password", &err);

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct password_params pp = { .t_cost = cases[i].t, .m_cost = cases[i].m,
			.parallelism = 1 };
		assert_int_equal(password_needs_rehash(h, &pp), cases[i].want);
	}
	free(h);
	/* Anything unparsable is worth rehashing (on the next successful login). */
	assert_int_equal(password_needs_rehash("", &tiny), 1);
	assert_int_equal(password_needs_rehash("$argon2i$v=19$m=64,t=1,p=1$x$y", &tiny), 1);
}

static void
test_password_dummy_verify(void **state)
{
	/* Must not crash or leak per call; the one dummy hash is made once and kept. */
	password_dummy_verify(&tiny, "whatever");
	password_dummy_verify(&tiny, "whatever else");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password_hash_verify),
		cmocka_unit_test(test_password_wrong_password),
		cmocka_unit_test(test_password_salted),
		cmocka_unit_test(test_password_malformed_hash),
		cmocka_unit_test(test_password_too_long),
		cmocka_unit_test(test_password_bad_params),
		cmocka_unit_test(test_password_policy),
		cmocka_unit_test(test_password_policy_counts_characters),
		cmocka_unit_test(test_password_policy_invalid_utf8),
		cmocka_unit_test(test_password_policy_c1_controls),
		cmocka_unit_test(test_password_policy_length_bounds),
		cmocka_unit_test(test_password_needs_rehash),
		cmocka_unit_test(test_password_dummy_verify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
