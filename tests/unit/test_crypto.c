/*
 * Unit tests for lib/crypto.c: SHA-256 and HMAC known answers, constant-time comparisons,
 * the injectable random source, and AES-256-GCM sealing (round trip; any changed byte,
 * truncation, wrong key or wrong associated data opens to NULL).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto.h"
#include "encode.h"
#include "xmalloc.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const unsigned char key[CRYPTO_SEAL_KEY_LEN] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
	0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
	0x1e, 0x1f,
};

static unsigned char counter;

/* A deterministic "random" source: 0, 1, 2, ... */
static void
counting_random(void *p, size_t n)
{
	unsigned char *u = p;

	for (size_t i = 0; i < n; i++)
		u[i] = counter++;
}

static void
test_crypto_sha256_known_answers(void **state)
{
	static const struct {
		const char *in, *hex;
	} cases[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		unsigned char h[CRYPTO_SHA256_LEN];
		char hex[2 * CRYPTO_SHA256_LEN + 1];

		crypto_sha256(cases[i].in, strlen(cases[i].in), h);
		hex_encode(h, sizeof(h), hex);
		assert_string_equal(hex, cases[i].hex);
	}
}

static void
test_crypto_hmac_known_answer(void **state)
{
	/* RFC 4231, test case 2. */
	unsigned char h[CRYPTO_SHA256_LEN];
	char hex[2 * CRYPTO_SHA256_LEN + 1];
	static const char msg[] = "what do ya want for nothing?";

	crypto_hmac_sha256("Jefe", 4, msg, strlen(msg), h);
	hex_encode(h, sizeof(h), hex);
	assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void
test_crypto_eq(void **state)
{
	assert_true(crypto_eq("abcd", "abcd", 4));
	assert_false(crypto_eq("abcd", "abce", 4));
	assert_false(crypto_eq("Abcd", "abcd", 4));
	assert_true(crypto_eq("x", "y", 0));
}

static void
test_crypto_streq(void **state)
{
	static const struct {
		const char *a, *b;
		int eq;
	} cases[] = {
		{ "", "", 1 },
		{ "secret", "secret", 1 },
		{ "secret", "Secret", 0 },
		{ "secret", "secret ", 0 },
		{ "secret", "secre", 0 },
		{ "secret", "", 0 },
		{ "", "secret", 0 },
		{ "a", "b", 0 },
	};

	for (size_t i = 0; i < NELEM(cases); i++)
		assert_int_equal(crypto_streq(cases[i].a, cases[i].b), cases[i].eq);
}

static void
test_crypto_random_hook(void **state)
{
	unsigned char a[8], b[8];
	char *tok;

	counter = 0;
	crypto_set_random(counting_random);
	crypto_random(a, sizeof(a));
	for (size_t i = 0; i < sizeof(a); i++)
		assert_int_equal(a[i], i);
	tok = crypto_random_token(3);	/* bytes 8, 9, 10 */
	assert_string_equal(tok, "CAkK");
	free(tok);
	crypto_set_random(NULL);
	/* The real source: two draws differ (64 bits), and tokens have the right length. */
	crypto_random(a, sizeof(a));
	crypto_random(b, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
	tok = crypto_random_token(32);
	assert_int_equal(strlen(tok), 43);
	free(tok);
}

static void
test_crypto_seal_round_trip(void **state)
{
	static const char *const plain[] = { "", "x", "a secret key in PEM form",
		"0123456789abcdef0123456789abcdef0123456789abcdef" };

	for (size_t i = 0; i < NELEM(plain); i++) {
		size_t n = strlen(plain[i]), slen, olen;
		unsigned char *sealed, *opened;

		sealed = crypto_seal(key, "tenant/key1", 11, plain[i], n, &slen);
		assert_int_equal(slen, n + CRYPTO_SEAL_OVERHEAD);
		assert_int_equal(sealed[0], 1);
		if (n >= 4)	/* the plaintext does not appear in the sealed form */
			assert_null(memmem(sealed, slen, plain[i], n));
		opened = crypto_open(key, "tenant/key1", 11, sealed, slen, &olen);
		assert_non_null(opened);
		assert_int_equal(olen, n);
		assert_memory_equal(opened, plain[i], n);
		assert_int_equal(opened[n], '\0');
		freezero(opened, olen);
		free(sealed);
	}
}

static void
test_crypto_seal_nonce_fresh(void **state)
{
	size_t l1, l2;
	unsigned char *s1 = crypto_seal(key, NULL, 0, "same", 4, &l1);
	unsigned char *s2 = crypto_seal(key, NULL, 0, "same", 4, &l2);

	assert_int_equal(l1, l2);
	assert_memory_not_equal(s1 + 1, s2 + 1, 12);
	assert_memory_not_equal(s1, s2, l1);
	free(s1);
	free(s2);
}

static void
test_crypto_open_tampered(void **state)
{
	static const char msg[] = "the tenant secret";
	size_t slen, olen;
	unsigned char *sealed = crypto_seal(key, "aad", 3, msg, strlen(msg), &slen);

	/* Every bit position of every byte: version, nonce, ciphertext and tag. */
	for (size_t i = 0; i < slen; i++)
		for (int bit = 0; bit < 8; bit++) {
			unsigned char *copy = xmemdup(sealed, slen), *o;

			copy[i] ^= (unsigned char)(1 << bit);
			o = crypto_open(key, "aad", 3, copy, slen, &olen);
			if (o != NULL)
				print_error("opened with byte %zu bit %d flipped\n", i, bit);
			assert_null(o);
			free(copy);
		}
	/* Truncated, extended. */
	for (size_t n = 0; n < slen; n++)
		assert_null(crypto_open(key, "aad", 3, sealed, n, &olen));
	{
		unsigned char *longer = xmalloc(slen + 1);

		memcpy(longer, sealed, slen);
		longer[slen] = 0;
		assert_null(crypto_open(key, "aad", 3, longer, slen + 1, &olen));
		free(longer);
	}
	free(sealed);
}

static void
test_crypto_open_wrong_context(void **state)
{
	unsigned char other[CRYPTO_SEAL_KEY_LEN];
	size_t slen, olen;
	unsigned char *sealed = crypto_seal(key, "tenant-a/users/alice", 20, "pw", 2, &slen);
	unsigned char *o;

	/* Moved to another record: different associated data. */
	assert_null(crypto_open(key, "tenant-a/users/mallory", 22, sealed, slen, &olen));
	assert_null(crypto_open(key, "tenant-a/users/alic", 19, sealed, slen, &olen));
	assert_null(crypto_open(key, NULL, 0, sealed, slen, &olen));
	/* Another key. */
	memcpy(other, key, sizeof(other));
	other[31] ^= 1;
	assert_null(crypto_open(other, "tenant-a/users/alice", 20, sealed, slen, &olen));
	o = crypto_open(key, "tenant-a/users/alice", 20, sealed, slen, &olen);
	assert_non_null(o);
	freezero(o, olen);
	free(sealed);

	/* Sealed without AAD, opened with some. */
	sealed = crypto_seal(key, NULL, 0, "pw", 2, &slen);
	assert_null(crypto_open(key, "x", 1, sealed, slen, &olen));
	o = crypto_open(key, NULL, 0, sealed, slen, &olen);
	assert_non_null(o);
	freezero(o, olen);
	free(sealed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crypto_sha256_known_answers),
		cmocka_unit_test(test_crypto_hmac_known_answer),
		cmocka_unit_test(test_crypto_eq),
		cmocka_unit_test(test_crypto_streq),
		cmocka_unit_test(test_crypto_random_hook),
		cmocka_unit_test(test_crypto_seal_round_trip),
		cmocka_unit_test(test_crypto_seal_nonce_fresh),
		cmocka_unit_test(test_crypto_open_tampered),
		cmocka_unit_test(test_crypto_open_wrong_context),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
