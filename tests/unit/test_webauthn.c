/*
 * Unit tests for lib/webauthn.c: a software authenticator in the test (OpenSSL keys,
 * libcbor for COSE keys and attestation objects) registers with attestation "none" (what
 * browsers send when asked for none) and "packed" self attestation, then signs
 * assertions; each way a ceremony can be wrong is refused with its own reason.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cbor.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "crypto.h"
#include "encode.h"
#include "webauthn.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define RP "idp.example.jp"
#define ORIGIN "https://idp.example.jp"
#define UP 0x01
#define UV 0x04
#define BE 0x08
#define AT 0x40

static const unsigned char challenge[WEBAUTHN_CHALLENGE_LEN] = "0123456789abcdef0123456789abcde";
static const unsigned char cred_id[16] = "credential-id-16";

/* The software authenticator's key and its COSE alg. */
struct key {
	EVP_PKEY *pkey;
	int alg;
};

/* How one ceremony deviates from a good one; zeroes mean "as it should be". */
struct tweak {
	const char *type, *origin, *cd_extra, *rp_hash_of, *fmt;
	int wrong_challenge, bad_sig, require_uv, cose_alg;
	int flags;		/* 0: UP|UV */
	size_t truncate_ad;	/* cut authenticator data to this many bytes */
	const char *want;	/* NULL: accepted */
};

static struct key
key_new(int alg)
{
	struct key k = { NULL, alg };

	if (alg == -7)
		k.pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (alg == -8)
		k.pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else
		k.pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	assert_non_null(k.pkey);
	return k;
}

static cbor_item_t *
bn_bytes(EVP_PKEY *p, const char *param, size_t pad)
{
	BIGNUM *bn = NULL;
	unsigned char buf[512];
	int n;

	assert_int_equal(EVP_PKEY_get_bn_param(p, param, &bn), 1);
	n = pad ? BN_bn2binpad(bn, buf, (int)pad) : BN_bn2bin(bn, buf);
	BN_free(bn);
	return cbor_build_bytestring(buf, (size_t)n);
}

static void
map_add(cbor_item_t *m, cbor_item_t *k, cbor_item_t *v)
{
	assert_true(cbor_map_add(m, (struct cbor_pair){ .key = cbor_move(k),
	    .value = cbor_move(v) }));
}

/* CTAP2's canonical CBOR: the shortest integer encoding (libfido2 insists on it). */
static cbor_item_t *
cbor_int(int v)
{
	int n = v < 0 ? -1 - v : v;

	if (n < 256)
		return v < 0 ? cbor_build_negint8((uint8_t)n) : cbor_build_uint8((uint8_t)n);
	return v < 0 ? cbor_build_negint16((uint16_t)n) : cbor_build_uint16((uint16_t)n);
}

/* The credential public key as a COSE_Key, with alg_field as its alg. */
static cbor_item_t *
cose_key(const struct key *k, int alg_field)
{
	cbor_item_t *m = cbor_new_definite_map(5);
	unsigned char raw[32];
	size_t rawlen = sizeof(raw);

	if (k->alg == -7) {
		map_add(m, cbor_int(1), cbor_int(2));
		map_add(m, cbor_int(3), cbor_int(alg_field));
		map_add(m, cbor_int(-1), cbor_int(1));
		map_add(m, cbor_int(-2), bn_bytes(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32));
		map_add(m, cbor_int(-3), bn_bytes(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 32));
	} else if (k->alg == -8) {
		assert_int_equal(EVP_PKEY_get_raw_public_key(k->pkey, raw, &rawlen), 1);
		map_add(m, cbor_int(1), cbor_int(1));
		map_add(m, cbor_int(3), cbor_int(alg_field));
		map_add(m, cbor_int(-1), cbor_int(6));
		map_add(m, cbor_int(-2), cbor_build_bytestring(raw, rawlen));
	} else {
		map_add(m, cbor_int(1), cbor_int(3));
		map_add(m, cbor_int(3), cbor_int(alg_field));
		map_add(m, cbor_int(-1), bn_bytes(k->pkey, OSSL_PKEY_PARAM_RSA_N, 0));
		map_add(m, cbor_int(-2), bn_bytes(k->pkey, OSSL_PKEY_PARAM_RSA_E, 0));
	}
	return m;
}

/* Authenticator data; with attested credential data when k is set. */
static unsigned char *
authdata(const struct tweak *t, const struct key *k, uint32_t counter, size_t *len_r)
{
	unsigned char *ad = calloc(1, 1024), *cose = NULL;
	size_t n = 37, cap, cose_len = 0;
	const char *rp = t->rp_hash_of ? t->rp_hash_of : RP;

	crypto_sha256(rp, strlen(rp), ad);
	ad[32] = (unsigned char)(t->flags ? t->flags : UP | UV) | (k ? AT : 0);
	ad[33] = (unsigned char)(counter >> 24);
	ad[34] = (unsigned char)(counter >> 16);
	ad[35] = (unsigned char)(counter >> 8);
	ad[36] = (unsigned char)counter;
	if (k) {
		cbor_item_t *c = cose_key(k, t->cose_alg ? t->cose_alg : k->alg);

		cose_len = cbor_serialize_alloc(c, &cose, &cap);
		cbor_decref(&c);
		n += 16;	/* AAGUID: zero, as browsers send with attestation "none" */
		ad[n++] = 0;
		ad[n++] = sizeof(cred_id);
		memcpy(ad + n, cred_id, sizeof(cred_id));
		n += sizeof(cred_id);
		memcpy(ad + n, cose, cose_len);
		n += cose_len;
		free(cose);
	}
	*len_r = t->truncate_ad ? t->truncate_ad : n;
	return ad;
}

/* base64url clientDataJSON as a browser writes it. */
static char *
client_data(const struct tweak *t, const char *type)
{
	unsigned char ch[sizeof(challenge)];
	char *chs, json[1024], *out;

	memcpy(ch, challenge, sizeof(ch));
	if (t->wrong_challenge)
		ch[0] ^= 1;
	chs = b64url_encode(ch, sizeof(ch));
	snprintf(json, sizeof(json), "{\"type\":\"%s\",\"challenge\":\"%s\",\"origin\":\"%s\"%s}",
	    t->type ? t->type : type, chs, t->origin ? t->origin : ORIGIN,
	    t->cd_extra ? t->cd_extra : ",\"crossOrigin\":false");
	out = b64url_encode(json, strlen(json));
	free(chs);
	return out;
}

/* Signature over authData || SHA-256(clientDataJSON), as authenticators make it. */
static unsigned char *
sign(const struct key *k, const unsigned char *ad, size_t ad_len, const char *cd_b64u,
    int bad, size_t *len_r)
{
	size_t cd_len;
	unsigned char *cd = b64url_decode(cd_b64u, strlen(cd_b64u), 4096, &cd_len);
	unsigned char *msg = malloc(ad_len + 32), *sig = malloc(512);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	memcpy(msg, ad, ad_len);
	crypto_sha256(cd, cd_len, msg + ad_len);
	*len_r = 512;
	assert_int_equal(EVP_DigestSignInit_ex(ctx, NULL, k->alg == -8 ? NULL : "SHA256", NULL,
	    NULL, k->pkey, NULL), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, len_r, msg, ad_len + 32), 1);
	if (bad)
		sig[*len_r / 2] ^= 1;
	EVP_MD_CTX_free(ctx);
	free(msg);
	free(cd);
	return sig;
}

static char *
attestation_object(const struct tweak *t, const struct key *k, const unsigned char *ad,
    size_t ad_len, const char *cd)
{
	const char *fmt = t->fmt ? t->fmt : "none";
	cbor_item_t *m = cbor_new_definite_map(3), *stmt = cbor_new_definite_map(2);
	unsigned char *out = NULL;
	size_t cap, len;
	char *s;

	if (strcmp(fmt, "packed") == 0) {
		size_t sig_len;
		unsigned char *sig = sign(k, ad, ad_len, cd, t->bad_sig, &sig_len);

		map_add(stmt, cbor_build_string("alg"), cbor_int(k->alg));
		map_add(stmt, cbor_build_string("sig"), cbor_build_bytestring(sig, sig_len));
		free(sig);
	}
	map_add(m, cbor_build_string("fmt"), cbor_build_string(fmt));
	map_add(m, cbor_build_string("attStmt"), stmt);
	map_add(m, cbor_build_string("authData"), cbor_build_bytestring(ad, ad_len));
	len = cbor_serialize_alloc(m, &out, &cap);
	cbor_decref(&m);
	s = b64url_encode(out, len);
	free(out);
	return s;
}

static struct webauthn_expect
expect(int require_uv)
{
	struct webauthn_expect e = { RP, ORIGIN, challenge, sizeof(challenge), require_uv };

	return e;
}

/* Register k as t says; the result and *c_r as webauthn_register left them. */
static int
do_register(const struct key *k, const struct tweak *t, struct webauthn_cred *c_r,
    const char **errstr)
{
	struct webauthn_expect e = expect(t->require_uv);
	size_t ad_len;
	unsigned char *ad = authdata(t, k, 7, &ad_len);
	char *cd = client_data(t, "webauthn.create");
	char *ao = attestation_object(t, k, ad, ad_len, cd);
	int rc = webauthn_register(&e, cd, ao, c_r, errstr);

	free(ao);
	free(cd);
	free(ad);
	return rc;
}

static int
do_assert(const struct key *k, const struct webauthn_cred *c, const struct tweak *t,
    uint32_t counter, uint32_t *counter_r, int *uv_r, const char **errstr)
{
	struct webauthn_expect e = expect(t->require_uv);
	size_t ad_len, sig_len;
	unsigned char *ad = authdata(t, NULL, counter, &ad_len);
	char *cd = client_data(t, "webauthn.get");
	unsigned char *sig = sign(k, ad, ad_len, cd, t->bad_sig, &sig_len);
	char *ad_s = b64url_encode(ad, ad_len), *sig_s = b64url_encode(sig, sig_len);
	int rc = webauthn_assert(&e, cd, ad_s, sig_s, c->pubkey, c->pubkey_len, c->alg,
	    counter_r, uv_r, errstr);

	free(ad_s);
	free(sig_s);
	free(sig);
	free(cd);
	free(ad);
	return rc;
}

static void
test_webauthn_round_trip(void **state)
{
	static const int algs[] = { -7, -8, -257 };
	static const char *fmts[] = { "none", "packed" };

	(void)state;
	for (size_t i = 0; i < NELEM(algs); i++) {
		struct key k = key_new(algs[i]);

		for (size_t f = 0; f < NELEM(fmts); f++) {
			struct tweak t = { .fmt = fmts[f], .require_uv = 1, .flags = UP | UV | BE };
			struct webauthn_cred c;
			const char *err = "unset";
			uint32_t counter = 0;
			int uv = 0;
			char *id = b64url_encode(cred_id, sizeof(cred_id));

			assert_int_equal(do_register(&k, &t, &c, &err), 0);
			assert_null(err);
			assert_string_equal(c.cred_id, id);
			assert_int_equal(c.alg, algs[i]);
			assert_int_equal(c.counter, 7);
			assert_true(c.uv);
			assert_true(c.backup_eligible);
			assert_int_equal(do_assert(&k, &c, &t, 8, &counter, &uv, &err), 0);
			assert_null(err);
			assert_int_equal(counter, 8);
			assert_true(uv);
			/* Without UV, accepted when it is not required, and reported. */
			t.flags = UP;
			t.require_uv = 0;
			assert_int_equal(do_assert(&k, &c, &t, 0, &counter, &uv, &err), 0);
			assert_int_equal(counter, 0);
			assert_false(uv);
			webauthn_cred_clear(&c);
			free(id);
		}
		EVP_PKEY_free(k.pkey);
	}
}

static void
check_register(const struct key *k, const struct tweak *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct webauthn_cred c;
		const char *err = "unset";
		int rc = do_register(k, &cases[i], &c, &err);

		if (rc != -1 || err == NULL || strcmp(err, cases[i].want) != 0)
			print_error("register case %zu: rc %d err %s\n", i, rc, err ? err : "-");
		assert_int_equal(rc, -1);
		assert_string_equal(err, cases[i].want);
		assert_null(c.cred_id);
		assert_null(c.pubkey);
	}
}

static void
test_webauthn_register_refused(void **state)
{
	static const struct tweak cases[] = {
		{ .type = "webauthn.get", .want = "type" },
		{ .wrong_challenge = 1, .want = "challenge" },
		{ .origin = "https://evil.example.jp", .want = "origin" },
		{ .origin = "https://idp.example.jp:8443", .want = "origin" },
		{ .origin = "http://idp.example.jp", .want = "origin" },
		{ .cd_extra = ",\"crossOrigin\":true", .want = "origin" },
		{ .cd_extra = ",\"crossOrigin\":\"no\"", .want = "malformed" },
		{ .cd_extra = ",\"type\":\"webauthn.create\"", .want = "malformed" },
		{ .rp_hash_of = "example.jp", .want = "rp id" },
		{ .flags = UV, .want = "user presence" },
		{ .flags = UP, .require_uv = 1, .want = "user verification" },
		{ .fmt = "packed", .bad_sig = 1, .want = "attestation" },
		{ .fmt = "android-safetynet", .want = "attestation" },
		{ .cose_alg = -35, .want = "unsupported algorithm" },
		{ .truncate_ad = 36, .want = "malformed" },
		{ .truncate_ad = 60, .want = "malformed" },
		{ .truncate_ad = 37 + 16 + 2 + 16 + 20, .want = "malformed" },
	};
	struct key k = key_new(-7);

	(void)state;
	check_register(&k, cases, NELEM(cases));
	EVP_PKEY_free(k.pkey);
}

static void
test_webauthn_assert_refused(void **state)
{
	static const struct tweak cases[] = {
		{ .type = "webauthn.create", .want = "type" },
		{ .wrong_challenge = 1, .want = "challenge" },
		{ .origin = "https://idp.example.jp.evil", .want = "origin" },
		{ .cd_extra = ",\"crossOrigin\":true", .want = "origin" },
		{ .rp_hash_of = "evil.example", .want = "rp id" },
		{ .flags = UV, .want = "user presence" },
		{ .flags = UP, .require_uv = 1, .want = "user verification" },
		{ .bad_sig = 1, .want = "signature" },
		{ .truncate_ad = 36, .want = "malformed" },
	};
	struct key k = key_new(-7), other = key_new(-7);
	struct tweak good = { 0 };
	struct webauthn_cred c;
	const char *err;
	uint32_t counter;
	int uv;

	(void)state;
	assert_int_equal(do_register(&k, &good, &c, &err), 0);
	for (size_t i = 0; i < NELEM(cases); i++) {
		err = "unset";
		assert_int_equal(do_assert(&k, &c, &cases[i], 1, &counter, &uv, &err), -1);
		if (err == NULL || strcmp(err, cases[i].want) != 0)
			print_error("assert case %zu: %s\n", i, err ? err : "-");
		assert_string_equal(err, cases[i].want);
	}
	/* Signed by another key; and the stored key claimed to be of another algorithm. */
	assert_int_equal(do_assert(&other, &c, &good, 1, &counter, &uv, &err), -1);
	assert_string_equal(err, "signature");
	c.alg = -8;
	assert_int_equal(do_assert(&k, &c, &good, 1, &counter, &uv, &err), -1);
	c.alg = -35;
	assert_int_equal(do_assert(&k, &c, &good, 1, &counter, &uv, &err), -1);
	assert_string_equal(err, "unsupported algorithm");
	webauthn_cred_clear(&c);
	EVP_PKEY_free(k.pkey);
	EVP_PKEY_free(other.pkey);
}

static void
test_webauthn_bad_encoding(void **state)
{
	struct webauthn_expect e = expect(0);
	struct tweak good = { 0 };
	struct webauthn_cred c;
	char *cd = client_data(&good, "webauthn.create"), *big = malloc(WEBAUTHN_INPUT_MAX + 2);
	const char *err;
	uint32_t counter;
	int uv;

	(void)state;
	memset(big, 'A', WEBAUTHN_INPUT_MAX + 1);
	big[WEBAUTHN_INPUT_MAX + 1] = '\0';
	assert_int_equal(webauthn_register(&e, cd, big, &c, &err), -1);
	assert_string_equal(err, "malformed");
	assert_int_equal(webauthn_register(&e, big, "oWNmbXRkbm9uZQ", &c, &err), -1);
	assert_string_equal(err, "malformed");
	assert_int_equal(webauthn_register(&e, cd, "not base64!", &c, &err), -1);
	assert_string_equal(err, "malformed");
	assert_int_equal(webauthn_register(&e, cd, "oWNmbXRkbm9uZQ", &c, &err), -1); /* {fmt:none} */
	assert_string_equal(err, "malformed");
	assert_int_equal(webauthn_register(&e, cd, NULL, &c, &err), -1);
	assert_string_equal(err, "malformed");
	assert_int_equal(webauthn_register(&e, "e30", "oA", &c, &err), -1);	/* {} and {} */
	assert_string_equal(err, "malformed");
	assert_int_equal(webauthn_assert(&e, cd, big, "AA", (const unsigned char *)"x", 1, -7,
	    &counter, &uv, &err), -1);
	assert_string_equal(err, "malformed");
	free(big);
	free(cd);
}

static void
test_webauthn_client_challenge(void **state)
{
	struct tweak good = { 0 };
	char *cd = client_data(&good, "webauthn.get");
	unsigned char buf[64];

	(void)state;
	assert_int_equal(webauthn_client_challenge(cd, buf, sizeof(buf)), sizeof(challenge));
	assert_memory_equal(buf, challenge, sizeof(challenge));
	assert_int_equal(webauthn_client_challenge(cd, buf, 16), -1);
	assert_int_equal(webauthn_client_challenge("e30", buf, sizeof(buf)), -1);
	assert_int_equal(webauthn_client_challenge("!!", buf, sizeof(buf)), -1);
	free(cd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_webauthn_round_trip),
		cmocka_unit_test(test_webauthn_register_refused),
		cmocka_unit_test(test_webauthn_assert_refused),
		cmocka_unit_test(test_webauthn_bad_encoding),
		cmocka_unit_test(test_webauthn_client_challenge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
