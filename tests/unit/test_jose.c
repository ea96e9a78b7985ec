/*
 * Unit tests for idp/jose.c with keys made at test time: key loading rules (RSA >= 2048,
 * P-256 only), RFC 7638 thumbprints as kid, sign/verify round trips, public JWKs, client
 * JWKS parsing, and the refusals of jose_verify for tokens forged here with OpenSSL EVP
 * (alg confusion, "none", keys in the header, bad ECDSA signatures, tampering, sizes).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "crypto.h"
#include "encode.h"
#include "jose.h"
#include "jose_fixture.h"
#include "pki_fixture.h"
#include "xmalloc.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define H_ES "{\"alg\":\"ES256\"}"
#define H_RS "{\"alg\":\"RS256\"}"
#define H_HS "{\"alg\":\"HS256\"}"
#define EC_JWKS "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}]}"

/* Keys made once for the whole group (RSA key generation is slow under valgrind). */
static struct {
	EVP_PKEY *rsa, *rsa1024, *rsa512, *ec, *ec_b, *ec384;
	char *rsa_pem, *rsa_pub_pem, *rsa_cert_pem, *rsa1024_pem, *ec_pem, *ec_pub_pem;
	char *ec_b_pem, *ec384_pem;
} K;

/* ---- helpers (the others are in jose_fixture.c) ---- */

/* A self-signed certificate for pkey, as SAML keys come. */
static char *
pem_cert(EVP_PKEY *pkey)
{
	X509 *x = X509_new();
	BIO *bio = BIO_new(BIO_s_mem());

	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"jose test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	assert_int_equal(X509_set_pubkey(x, pkey), 1);
	assert_true(X509_sign(x, pkey, EVP_sha256()) > 0);
	assert_int_equal(PEM_write_bio_X509(bio, x), 1);
	X509_free(x);
	return bio_str(bio);
}

/* RFC 7638: SHA-256 of the required members in lexicographic order, no whitespace. */
static char *
thumbprint(EVP_PKEY *pkey)
{
	unsigned char h[32];
	unsigned int hlen = sizeof(h);
	char *a, *b, *canon, *out;

	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA) {
		a = rsa_member(pkey, OSSL_PKEY_PARAM_RSA_N);
		b = rsa_member(pkey, OSSL_PKEY_PARAM_RSA_E);
		canon = xasprintf("{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", b, a);
	} else {
		ec_members(pkey, &a, &b);
		canon = xasprintf("{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
		    a, b);
	}
	assert_int_equal(EVP_Digest(canon, strlen(canon), h, &hlen, EVP_sha256(), NULL), 1);
	out = b64url_encode(h, hlen);
	free(a);
	free(b);
	free(canon);
	return out;
}

static int
group_setup(void **state)
{
	K.rsa = EVP_RSA_gen(2048);
	K.rsa1024 = EVP_RSA_gen(1024);
	K.rsa512 = EVP_RSA_gen(512);
	K.ec = EVP_EC_gen("P-256");
	K.ec_b = EVP_EC_gen("P-256");
	K.ec384 = EVP_EC_gen("P-384");
	if (!K.rsa || !K.rsa1024 || !K.rsa512 || !K.ec || !K.ec_b || !K.ec384)
		return -1;
	K.rsa_pem = pem_private(K.rsa);
	K.rsa_pub_pem = pem_public(K.rsa);
	K.rsa_cert_pem = pem_cert(K.rsa);
	K.rsa1024_pem = pem_private(K.rsa1024);
	K.ec_pem = pem_private(K.ec);
	K.ec_pub_pem = pem_public(K.ec);
	K.ec_b_pem = pem_private(K.ec_b);
	K.ec384_pem = pem_private(K.ec384);
	return 0;
}

static int
group_teardown(void **state)
{
	EVP_PKEY_free(K.rsa);
	EVP_PKEY_free(K.rsa1024);
	EVP_PKEY_free(K.rsa512);
	EVP_PKEY_free(K.ec);
	EVP_PKEY_free(K.ec_b);
	EVP_PKEY_free(K.ec384);
	free(K.rsa_pem);
	free(K.rsa_pub_pem);
	free(K.rsa_cert_pem);
	free(K.rsa1024_pem);
	free(K.ec_pem);
	free(K.ec_pub_pem);
	free(K.ec_b_pem);
	free(K.ec384_pem);
	return 0;
}

/* ---- keys ---- */

static void
test_jose_key_loading(void **state)
{
	const struct {
		const char *name;
		const char *const *pem;
		const char *alg;
		int public, ok;
	} cases[] = {
		{ "RSA 2048 for RS256", (const char *const *)&K.rsa_pem, "RS256", 0, 1 },
		{ "RSA 1024 for RS256", (const char *const *)&K.rsa1024_pem, "RS256", 0, 0 },
		{ "P-256 for ES256", (const char *const *)&K.ec_pem, "ES256", 0, 1 },
		{ "P-384 for ES256", (const char *const *)&K.ec384_pem, "ES256", 0, 0 },
		{ "RSA for ES256", (const char *const *)&K.rsa_pem, "ES256", 0, 0 },
		{ "P-256 for RS256", (const char *const *)&K.ec_pem, "RS256", 0, 0 },
		{ "RSA for HS256", (const char *const *)&K.rsa_pem, "HS256", 0, 0 },
		{ "RSA for none", (const char *const *)&K.rsa_pem, "none", 0, 0 },
		{ "public PEM as private", (const char *const *)&K.rsa_pub_pem, "RS256", 0, 0 },
		{ "RSA public key", (const char *const *)&K.rsa_pub_pem, "RS256", 1, 1 },
		{ "RSA certificate", (const char *const *)&K.rsa_cert_pem, "RS256", 1, 1 },
		{ "P-256 public key", (const char *const *)&K.ec_pub_pem, "ES256", 1, 1 },
		{ "P-256 public key for RS256", (const char *const *)&K.ec_pub_pem, "RS256", 1, 0 },
	};
	static const char *const garbage[] = { "", "not a key",
		/* A PEM frame around 3 bytes: no key at all. */
		"-----BEGIN " "PRIVATE KEY-----\nAAAA\n-----END " "PRIVATE KEY-----\n" };

	for (size_t i = 0; i < NELEM(cases); i++) {
		const char *err = NULL;
		struct jose_key *k = cases[i].public ?
		    jose_key_public_from_pem(*cases[i].pem, cases[i].alg, &err) :
		    jose_key_from_pem(*cases[i].pem, cases[i].alg, &err);

		if ((k != NULL) != cases[i].ok)
			fail_msg("%s: %s", cases[i].name, k ? "accepted" : err);
		if (k) {
			assert_string_equal(jose_key_alg(k), cases[i].alg);
			assert_int_equal(strlen(jose_key_kid(k)), 43);
		} else {
			assert_non_null(err);
		}
		jose_key_free(k);
	}
	for (size_t i = 0; i < NELEM(garbage); i++) {
		const char *err = NULL;

		assert_null(jose_key_from_pem(garbage[i], "RS256", &err));
		assert_non_null(err);
		err = NULL;
		assert_null(jose_key_public_from_pem(garbage[i], "ES256", &err));
		assert_non_null(err);
	}
	jose_key_free(NULL);
}

/* kid is the RFC 7638 thumbprint, the same from the private key, public key or certificate. */
static void
test_jose_kid_is_thumbprint(void **state)
{
	const struct {
		EVP_PKEY **pkey;
		char **priv, **pub;
		const char *alg;
	} cases[] = {
		{ &K.rsa, &K.rsa_pem, &K.rsa_pub_pem, "RS256" },
		{ &K.rsa, &K.rsa_pem, &K.rsa_cert_pem, "RS256" },
		{ &K.ec, &K.ec_pem, &K.ec_pub_pem, "ES256" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		const char *err = NULL;
		struct jose_key *k = jose_key_from_pem(*cases[i].priv, cases[i].alg, &err);
		struct jose_key *p = jose_key_public_from_pem(*cases[i].pub, cases[i].alg, &err);
		char *want = thumbprint(*cases[i].pkey);

		assert_non_null(k);
		assert_non_null(p);
		assert_string_equal(jose_key_kid(k), want);
		assert_string_equal(jose_key_kid(p), want);
		free(want);
		jose_key_free(k);
		jose_key_free(p);
	}
}

/* RFC 7638 section 3.1: the example RSA key and its published thumbprint. */
static const char rfc7638_n[] =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tS"
    "oc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65"
    "YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyr"
    "dkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJz"
    "KnqDKgw";
#define RFC7638_THUMBPRINT "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

/* The example key as a PEM public key, built from n and e with OpenSSL. */
static char *
rfc7638_pem(void)
{
	size_t nlen;
	unsigned char *n = b64url_decode(rfc7638_n, strlen(rfc7638_n), 1024, &nlen);
	BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_new();
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	OSSL_PARAM *params;
	EVP_PKEY *pkey = NULL;
	char *pem;

	assert_non_null(n);
	assert_int_equal(BN_set_word(be, 65537), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be), 1);
	params = OSSL_PARAM_BLD_to_param(bld);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
	pem = pem_public(pkey);
	EVP_PKEY_free(pkey);
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	free(n);
	return pem;
}

static void
test_jose_kid_rfc7638_vector(void **state)
{
	char *pem = rfc7638_pem();
	const char *err = NULL;
	struct jose_key *k = jose_key_public_from_pem(pem, "RS256", &err);
	json_t *jwk;

	assert_non_null(k);
	assert_string_equal(jose_key_kid(k), RFC7638_THUMBPRINT);
	/* Our JWK carries the RFC's n and e unchanged. */
	jwk = jose_key_public_jwk(k);
	assert_string_equal(json_string_value(json_object_get(jwk, "n")), rfc7638_n);
	assert_string_equal(json_string_value(json_object_get(jwk, "e")), "AQAB");
	assert_string_equal(json_string_value(json_object_get(jwk, "kid")), RFC7638_THUMBPRINT);
	json_decref(jwk);
	jose_key_free(k);
	free(pem);
}

/*
 * Through a JWKS: a JWK's own kid is kept, else the thumbprint is its kid.  Seen from
 * outside by which kid in a token header finds the key (an RSA key made here, since
 * the example's private key is not published).
 */
static void
test_jose_kid_jwks(void **state)
{
	char *tp = thumbprint(K.rsa);
	const struct {
		const char *extra, *kid;
		int ok;
	} cases[] = {
		{ "", tp, 1 },
		{ "", "2011-04-29", 0 },
		{ ",\"kid\":\"2011-04-29\"", "2011-04-29", 1 },
		{ ",\"kid\":\"2011-04-29\"", tp, 0 },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		char *jwk = jwk_json(K.rsa, cases[i].extra);
		struct jose_jwks *s = jwks_of(jwk, NULL);
		char *hdr = xasprintf("{\"alg\":\"RS256\",\"kid\":\"%s\"}", cases[i].kid);
		char *tok = make_jws(hdr, "{}", K.rsa, SIG_GOOD);
		const char *err = NULL;
		json_t *c = jose_verify(s, "RS256", tok, &err);

		if ((c != NULL) != cases[i].ok)
			fail_msg("case %zu: %s", i, c ? "accepted" : err);
		json_decref(c);
		free(tok);
		free(hdr);
		jose_jwks_free(s);
		free(jwk);
	}
	/* The RFC's example JWK itself parses, with or without its kid. */
	for (int withkid = 0; withkid < 2; withkid++) {
		char *json = xasprintf("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\","
		    "\"alg\":\"RS256\"%s}]}", rfc7638_n, withkid ? ",\"kid\":\"2011-04-29\"" : "");
		const char *err = NULL;
		struct jose_jwks *s = jose_jwks_parse(json, &err);

		assert_non_null(s);
		assert_string_equal(jose_jwks_alg(s), "RS256");
		jose_jwks_free(s);
		free(json);
	}
	free(tp);
}

/* ---- signing ---- */

static void
test_jose_sign_verify_round_trip(void **state)
{
	const struct {
		char **pem;
		const char *alg;
		size_t siglen;
	} cases[] = {
		{ &K.rsa_pem, "RS256", 256 },
		{ &K.ec_pem, "ES256", 64 },
	};
	const char *err = NULL;
	struct jose_key *both[2];

	both[0] = jose_key_from_pem(K.rsa_pem, "RS256", &err);
	both[1] = jose_key_from_pem(K.ec_pem, "ES256", &err);
	assert_non_null(both[0]);
	assert_non_null(both[1]);
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct jose_key *k = jose_key_from_pem(*cases[i].pem, cases[i].alg, &err);
		json_t *claims = json_pack("{s:s, s:i, s:[s, s]}", "sub", "alice",
		    "exp", 1700000000, "aud", "a", "b"), *got, *hdr, *jwk;
		char *tok = jose_sign(k, "at+jwt", claims), *jwks;
		const char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
		unsigned char *raw;
		size_t len;
		struct jose_jwks *s;

		assert_non_null(tok);
		/* Three segments; the header says alg, kid and typ. */
		assert_ptr_equal(strchr(d1 + 1, '.'), d2);
		raw = b64url_decode(tok, (size_t)(d1 - tok), 4096, &len);
		hdr = json_loadb((const char *)raw, len, 0, NULL);
		free(raw);
		assert_string_equal(json_string_value(json_object_get(hdr, "alg")), cases[i].alg);
		assert_string_equal(json_string_value(json_object_get(hdr, "kid")),
		    jose_key_kid(k));
		assert_string_equal(json_string_value(json_object_get(hdr, "typ")), "at+jwt");
		json_decref(hdr);
		/* ES256 is the 64-byte r || s of JOSE (86 characters), not DER. */
		raw = b64url_decode(d2 + 1, strlen(d2 + 1), 4096, &len);
		assert_non_null(raw);
		assert_int_equal(len, cases[i].siglen);
		assert_int_equal(strlen(d2 + 1), (cases[i].siglen * 4 + 2) / 3);
		free(raw);
		/* Our own keys verify it, alone or among others. */
		got = jose_verify_own(&k, 1, tok, &err);
		assert_non_null(got);
		assert_true(json_equal(got, claims));
		json_decref(got);
		got = jose_verify_own(both, 2, tok, &err);
		assert_non_null(got);
		json_decref(got);
		/* So does a client holding our published JWK. */
		jwk = jose_key_public_jwk(k);
		jwks = json_dumps(jwk, JSON_COMPACT);
		s = jwks_of(jwks, NULL);
		assert_string_equal(jose_jwks_alg(s), cases[i].alg);
		got = jose_verify(s, cases[i].alg, tok, &err);
		assert_non_null(got);
		assert_true(json_equal(got, claims));
		json_decref(got);
		jose_jwks_free(s);
		free(jwks);
		json_decref(jwk);
		json_decref(claims);
		free(tok);
		jose_key_free(k);
	}
	jose_key_free(both[0]);
	jose_key_free(both[1]);
}

/* Two ES256 signatures of the same claims differ (random k) and both verify. */
static void
test_jose_sign_es256_randomized(void **state)
{
	const char *err = NULL;
	struct jose_key *k = jose_key_from_pem(K.ec_pem, "ES256", &err);
	json_t *claims = json_pack("{s:s}", "sub", "alice"), *got;
	char *a = jose_sign(k, "JWT", claims), *b = jose_sign(k, "JWT", claims);

	assert_string_not_equal(a, b);
	got = jose_verify_own(&k, 1, a, &err);
	assert_non_null(got);
	json_decref(got);
	got = jose_verify_own(&k, 1, b, &err);
	assert_non_null(got);
	json_decref(got);
	free(a);
	free(b);
	json_decref(claims);
	jose_key_free(k);
}

static void
test_jose_public_jwk(void **state)
{
	static const char *const private_members[] = { "d", "p", "q", "dp", "dq", "qi", "oth",
		"k" };
	const struct {
		char **pem;
		EVP_PKEY **pkey;
		const char *alg;
		const char *members[8];
	} cases[] = {
		{ &K.rsa_pem, &K.rsa, "RS256", { "kty", "n", "e", "kid", "use", "alg" } },
		{ &K.ec_pem, &K.ec, "ES256", { "kty", "crv", "x", "y", "kid", "use", "alg" } },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		const char *err = NULL;
		struct jose_key *k = jose_key_from_pem(*cases[i].pem, cases[i].alg, &err);
		json_t *jwk = jose_key_public_jwk(k), *want;
		char *expect = jwk_json(*cases[i].pkey, "");
		size_t n = 0;

		assert_non_null(jwk);
		for (; n < NELEM(cases[i].members) && cases[i].members[n]; n++)
			assert_non_null(json_object_get(jwk, cases[i].members[n]));
		assert_int_equal(json_object_size(jwk), n);
		for (size_t j = 0; j < NELEM(private_members); j++)
			assert_null(json_object_get(jwk, private_members[j]));
		assert_string_equal(json_string_value(json_object_get(jwk, "use")), "sig");
		assert_string_equal(json_string_value(json_object_get(jwk, "alg")), cases[i].alg);
		assert_string_equal(json_string_value(json_object_get(jwk, "kid")),
		    jose_key_kid(k));
		/* The key material is the key's own (computed here without jose.c). */
		want = json_loads(expect, 0, NULL);
		assert_non_null(want);
		json_object_set_new(want, "kid", json_string(jose_key_kid(k)));
		json_object_set_new(want, "use", json_string("sig"));
		json_object_set_new(want, "alg", json_string(cases[i].alg));
		assert_true(json_equal(jwk, want));
		json_decref(want);
		free(expect);
		json_decref(jwk);
		jose_key_free(k);
	}
}

/* ---- clients' JWKS ---- */

static void
test_jose_jwks_parse_refusals(void **state)
{
	char *rsa = jwk_json(K.rsa, ""), *ec = jwk_json(K.ec, "");
	char *rsa_d = jwk_json(K.rsa, ",\"d\":\"AQAB\"");
	char *ec_d = jwk_json(K.ec, ",\"d\":\"AQAB\"");
	char *rsa512 = jwk_json(K.rsa512, ""), *rsa1024 = jwk_json(K.rsa1024, "");
	char *p384 = jwk_json(K.ec384, "");
	char *ec_enc = jwk_json(K.ec, ",\"use\":\"enc\"");
	char *dup_kty = jwk_json(K.rsa, ",\"kty\":\"RSA\"");
	char *x31, *y_off, *many = xstrdup("{\"keys\":[");
	char *cases[24];
	size_t n = 0;

	/* A P-256 point with a 31-byte x, and a point that is not on the curve. */
	{
		unsigned char b[32];
		char *b31, *b32;

		memset(b, 0x11, sizeof(b));
		b31 = b64url_encode(b, 31);
		b32 = b64url_encode(b, 32);
		x31 = xasprintf(EC_JWKS, b31, b32);
		y_off = xasprintf(EC_JWKS, b32, b32);
		free(b31);
		free(b32);
	}
	for (int i = 0; i < 17; i++) {
		char *m = xasprintf("%s%s%s", many, i ? "," : "", ec);

		free(many);
		many = m;
	}
	{
		char *m = xasprintf("%s]}", many);

		free(many);
		many = m;
	}
	cases[n++] = xstrdup("");
	cases[n++] = xstrdup("not json");
	cases[n++] = xstrdup("[]");
	cases[n++] = xstrdup("{}");
	cases[n++] = xstrdup("{\"keys\":[]}");
	cases[n++] = xstrdup("{\"keys\":{}}");
	cases[n++] = xstrdup("{\"keys\":[1]}");
	cases[n++] = many;
	cases[n++] = xasprintf("{\"keys\":[%s]}", rsa_d);
	cases[n++] = xasprintf("{\"keys\":[%s]}", ec_d);
	cases[n++] = xasprintf("{\"keys\":[%s,%s]}", ec, rsa_d);
	cases[n++] = xasprintf("{\"keys\":[%s]}", rsa512);
	cases[n++] = xasprintf("{\"keys\":[%s]}", rsa1024);
	cases[n++] = xstrdup("{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}");
	cases[n++] = xstrdup("{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}");
	cases[n++] = xstrdup("{\"keys\":[{\"n\":\"AQAB\",\"e\":\"AQAB\"}]}");
	cases[n++] = xasprintf("{\"keys\":[%s]}", p384);
	cases[n++] = x31;
	cases[n++] = y_off;
	cases[n++] = xasprintf("{\"keys\":[%s]}", ec_enc);
	cases[n++] = xasprintf("{\"keys\":[%s],\"keys\":[%s]}", ec, ec);
	cases[n++] = xasprintf("{\"keys\":[%s]}", dup_kty);
	assert_true(n <= NELEM(cases));
	for (size_t i = 0; i < n; i++) {
		const char *err = NULL;
		struct jose_jwks *s = jose_jwks_parse(cases[i], &err);

		if (s != NULL)
			fail_msg("case %zu accepted: %.120s", i, cases[i]);
		assert_non_null(err);
		free(cases[i]);
	}
	free(rsa);
	free(ec);
	free(rsa_d);
	free(ec_d);
	free(rsa512);
	free(rsa1024);
	free(p384);
	free(ec_enc);
	free(dup_kty);
}

/*
 * An RSA key with e = 1 verifies anything: the "signature" is the padded digest itself.
 * Regression test (fixed in idp/jose.c, pkey_from_jwk/wrap): the exponent is not checked, so such a JWK is
 * accepted and a token forged without any private key verifies.
 */
static void
test_jose_jwks_rsa_exponent_one(void **state)
{
	static const unsigned char digest_info[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
		0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
	char *n = rsa_member(K.rsa, OSSL_PKEY_PARAM_RSA_N), *h64 = b64s("{\"alg\":\"RS256\"}");
	char *c64 = b64s("{\"sub\":\"admin\"}"), *input = xasprintf("%s.%s", h64, c64), *s64, *tok;
	char *json = xasprintf("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQ\"}]}", n);
	unsigned char em[256];
	const char *err = NULL;
	struct jose_jwks *s = jose_jwks_parse(json, &err);
	json_t *c = NULL;

	/* EMSA-PKCS1-v1_5: 00 01 FF.. 00 DigestInfo SHA-256(input); with e = 1 that is s. */
	memset(em, 0xff, sizeof(em));
	em[0] = 0;
	em[1] = 1;
	em[sizeof(em) - 32 - sizeof(digest_info) - 1] = 0;
	memcpy(em + sizeof(em) - 32 - sizeof(digest_info), digest_info, sizeof(digest_info));
	crypto_sha256(input, strlen(input), em + sizeof(em) - 32);
	s64 = b64url_encode(em, sizeof(em));
	tok = xasprintf("%s.%s", input, s64);
	if (s)
		c = jose_verify(s, "RS256", tok, &err);
	json_decref(c);
	jose_jwks_free(s);
	free(n);
	free(h64);
	free(c64);
	free(input);
	free(s64);
	free(tok);
	free(json);
	if (c != NULL)
		fail_msg("a token forged for e = 1 verified");
	assert_null(s);
}

/* What is accepted: 16 keys, "enc" keys skipped beside a signing key, and jose_jwks_alg. */
static void
test_jose_jwks_parse_accepts(void **state)
{
	char *rsa = jwk_json(K.rsa, ""), *ec = jwk_json(K.ec, ""), *ec_b = jwk_json(K.ec_b, "");
	char *ec_sig = jwk_json(K.ec, ",\"use\":\"sig\",\"alg\":\"ES256\",\"kid\":\"k1\"");
	char *ec_enc = jwk_json(K.ec_b, ",\"use\":\"enc\"");
	char *sixteen = xstrdup("{\"keys\":[");
	const struct {
		const char *a, *b;
		const char *alg;
	} cases[] = {
		{ rsa, NULL, "RS256" },
		{ ec, NULL, "ES256" },
		{ ec, ec_b, "ES256" },
		{ ec_sig, ec_enc, "ES256" },
		{ rsa, ec, NULL },
		{ ec, rsa, NULL },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct jose_jwks *s = jwks_of(cases[i].a, cases[i].b);

		if (cases[i].alg)
			assert_string_equal(jose_jwks_alg(s), cases[i].alg);
		else
			assert_null(jose_jwks_alg(s));
		jose_jwks_free(s);
	}
	for (int i = 0; i < 16; i++) {
		char *m = xasprintf("%s%s%s", sixteen, i ? "," : "", ec);

		free(sixteen);
		sixteen = m;
	}
	{
		char *m = xasprintf("%s]}", sixteen);
		const char *err = NULL;
		struct jose_jwks *s = jose_jwks_parse(m, &err);

		assert_non_null(s);
		jose_jwks_free(s);
		free(m);
		free(sixteen);
	}
	jose_jwks_free(NULL);
	free(rsa);
	free(ec);
	free(ec_b);
	free(ec_sig);
	free(ec_enc);
}

/* ---- verification ---- */

static void
test_jose_verify_refusals(void **state)
{
	enum { RSA, EC, EC_B, NONE };
	EVP_PKEY *signer[] = { K.rsa, K.ec, K.ec_b, NULL };
	static const struct {
		const char *name, *pinned, *hdr, *claims;
		int key;
		enum sig how;
		int ok;
	} cases[] = {
		{ "ES256 control", "ES256", H_ES, "{\"sub\":\"a\"}", EC, SIG_GOOD, 1 },
		{ "RS256 control", "RS256", H_RS, "{\"sub\":\"a\"}", RSA, SIG_GOOD, 1 },
		{ "typ and unknown header members", "ES256",
		    "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"x\":1}", "{}", EC, SIG_GOOD, 1 },
		{ "no alg pinned (mixed set)", NULL, H_ES, "{}", EC, SIG_GOOD, 0 },
		{ "ES256 token, RS256 pinned", "RS256", H_ES, "{}", EC, SIG_GOOD, 0 },
		{ "RS256 token, ES256 pinned", "ES256", H_RS, "{}", RSA, SIG_GOOD, 0 },
		{ "alg missing", "ES256", "{\"typ\":\"JWT\"}", "{}", EC, SIG_GOOD, 0 },
		{ "alg not a string", "ES256", "{\"alg\":[\"ES256\"]}", "{}", EC, SIG_GOOD, 0 },
		{ "alg case", "ES256", "{\"alg\":\"es256\"}", "{}", EC, SIG_GOOD, 0 },
		{ "none", "ES256", "{\"alg\":\"none\"}", "{}", NONE, SIG_EMPTY, 0 },
		{ "None", "ES256", "{\"alg\":\"None\"}", "{}", NONE, SIG_EMPTY, 0 },
		{ "NONE", "RS256", "{\"alg\":\"NONE\"}", "{}", NONE, SIG_EMPTY, 0 },
		{ "none pinned", "none", "{\"alg\":\"none\"}", "{}", NONE, SIG_EMPTY, 0 },
		{ "none pinned, signed", "none", "{\"alg\":\"none\"}", "{}", EC, SIG_GOOD, 0 },
		{ "empty signature", "ES256", H_ES, "{}", EC, SIG_EMPTY, 0 },
		{ "empty RS256 signature", "RS256", H_RS, "{}", RSA, SIG_EMPTY, 0 },
		{ "HS256 with the public key", "RS256", H_HS, "{}", RSA, SIG_HMAC, 0 },
		{ "HS256 pinned", "HS256", H_HS, "{}", RSA, SIG_HMAC, 0 },
		{ "header jwk", "ES256", "{\"alg\":\"ES256\",\"jwk\":{\"kty\":\"EC\"}}", "{}", EC,
		    SIG_GOOD, 0 },
		{ "header jku", "ES256", "{\"alg\":\"ES256\",\"jku\":\"https://evil/jwks\"}", "{}",
		    EC, SIG_GOOD, 0 },
		{ "header x5u", "ES256", "{\"alg\":\"ES256\",\"x5u\":\"https://evil/c\"}", "{}", EC,
		    SIG_GOOD, 0 },
		{ "header x5c", "ES256", "{\"alg\":\"ES256\",\"x5c\":[\"MII\"]}", "{}", EC,
		    SIG_GOOD, 0 },
		{ "header crit", "ES256", "{\"alg\":\"ES256\",\"crit\":[\"exp\"],\"exp\":1}", "{}",
		    EC, SIG_GOOD, 0 },
		{ "header jwk null", "ES256", "{\"alg\":\"ES256\",\"jwk\":null}", "{}", EC,
		    SIG_GOOD, 0 },
		{ "ES256 65 bytes", "ES256", H_ES, "{}", EC, SIG_PLUS1, 0 },
		{ "ES256 66 bytes", "ES256", H_ES, "{}", EC, SIG_PLUS2, 0 },
		{ "ES256 63 bytes", "ES256", H_ES, "{}", EC, SIG_SHORT, 0 },
		{ "ES256 r = 0", "ES256", H_ES, "{}", EC, SIG_R0, 0 },
		{ "ES256 s = 0", "ES256", H_ES, "{}", EC, SIG_S0, 0 },
		{ "ES256 r = s = 0", "ES256", H_ES, "{}", EC, SIG_RS0, 0 },
		{ "ES256 as DER", "ES256", H_ES, "{}", EC, SIG_DER, 0 },
		{ "ES256 bit flipped", "ES256", H_ES, "{}", EC, SIG_FLIP, 0 },
		{ "RS256 bit flipped", "RS256", H_RS, "{}", RSA, SIG_FLIP, 0 },
		{ "RS256 truncated", "RS256", H_RS, "{}", RSA, SIG_SHORT, 0 },
		{ "key not in the set", "ES256", H_ES, "{}", EC_B, SIG_GOOD, 0 },
		{ "claims an array", "ES256", H_ES, "[1,2]", EC, SIG_GOOD, 0 },
		{ "claims a string", "ES256", H_ES, "\"sub\"", EC, SIG_GOOD, 0 },
		{ "claims a number", "ES256", H_ES, "42", EC, SIG_GOOD, 0 },
		{ "claims null", "ES256", H_ES, "null", EC, SIG_GOOD, 0 },
		{ "claims not JSON", "ES256", H_ES, "{\"sub\":", EC, SIG_GOOD, 0 },
		{ "claims empty", "ES256", H_ES, "", EC, SIG_GOOD, 0 },
		{ "claims duplicate member", "ES256", H_ES,
		    "{\"sub\":\"a\",\"sub\":\"admin\"}", EC, SIG_GOOD, 0 },
		{ "header duplicate alg", "ES256", "{\"alg\":\"none\",\"alg\":\"ES256\"}", "{}", EC,
		    SIG_GOOD, 0 },
		{ "header an array", "ES256", "[\"ES256\"]", "{}", EC, SIG_GOOD, 0 },
		{ "header not JSON", "ES256", "alg=ES256", "{}", EC, SIG_GOOD, 0 },
	};
	char *rsa = jwk_json(K.rsa, ""), *ec = jwk_json(K.ec, "");
	struct jose_jwks *s = jwks_of(ec, rsa);

	for (size_t i = 0; i < NELEM(cases); i++) {
		char *tok = make_jws(cases[i].hdr, cases[i].claims, signer[cases[i].key],
		    cases[i].how);
		const char *err = NULL;
		json_t *c = jose_verify(s, cases[i].pinned, tok, &err);

		if ((c != NULL) != cases[i].ok)
			fail_msg("%s: %s", cases[i].name, c ? "accepted" : err);
		if (c == NULL)
			assert_non_null(err);
		json_decref(c);
		free(tok);
	}
	jose_jwks_free(s);
	free(rsa);
	free(ec);
}

/* Tokens changed after signing, and the wrong number of segments. */
static void
test_jose_verify_tampering(void **state)
{
	char *ec = jwk_json(K.ec, ""), *good = make_jws("{\"alg\":\"ES256\"}",
	    "{\"sub\":\"alice\"}", K.ec, SIG_GOOD);
	char *h64 = b64s("{\"alg\":\"ES256\"}"), *c64 = b64s("{\"sub\":\"alice\"}");
	char *c64_admin = b64s("{\"sub\":\"admin\"}");
	char *h64_typ = b64s("{\"alg\":\"ES256\",\"typ\":\"JWT\"}");
	const char *sig = strrchr(good, '.') + 1;
	struct jose_jwks *s = jwks_of(ec, NULL);
	char *cases[] = {
		xasprintf("%s.%s.%s", h64, c64_admin, sig),	/* payload changed */
		xasprintf("%s.%s.%s", h64_typ, c64, sig),	/* header changed */
		xasprintf("%s.%s", h64, c64),			/* 2 segments */
		xasprintf("%s.%s.%s.%s", h64, c64, sig, sig),	/* 4 segments */
		xasprintf("%s.%s.%s.", h64, c64, sig),		/* 4, the last empty */
		xasprintf("%s", h64),				/* 1 segment */
		xasprintf(".%s.%s", c64, sig),			/* empty header */
		xasprintf("%s..%s", h64, sig),			/* empty claims */
		xasprintf("%s.%s.%s=", h64, c64, sig),		/* padded signature */
		xasprintf("%s.%s.%s", h64, c64, "!!!!"),	/* signature not base64url */
		xasprintf("%s.%s.%s", h64, c64, "AA"),		/* 1-byte signature */
		xasprintf(" %s", good),				/* leading space */
		xstrdup(""),
		xstrdup(".."),
	};
	json_t *c;
	const char *err = NULL;

	c = jose_verify(s, "ES256", good, &err);
	assert_non_null(c);
	json_decref(c);
	for (size_t i = 0; i < NELEM(cases); i++) {
		err = NULL;
		c = jose_verify(s, "ES256", cases[i], &err);
		if (c != NULL)
			fail_msg("case %zu accepted: %s", i, cases[i]);
		assert_non_null(err);
		free(cases[i]);
	}
	jose_jwks_free(s);
	free(ec);
	free(good);
	free(h64);
	free(c64);
	free(c64_admin);
	free(h64_typ);
}

/* A token is at most 16 KiB, signature and all. */
static void
test_jose_verify_size_limit(void **state)
{
	char *ec = jwk_json(K.ec, "");
	struct jose_jwks *s = jwks_of(ec, NULL);
	const char *err = NULL;
	size_t below = 0, above = 0;
	struct jose_key *k = jose_key_from_pem(K.ec_pem, "ES256", &err);

	for (size_t pad = 12100; pad < 12300 && (!below || !above); pad++) {
		char *claims = xcalloc(1, pad + 16), *tok;
		json_t *c;

		memcpy(claims, "{\"p\":\"", 6);
		memset(claims + 6, 'x', pad);
		memcpy(claims + 6 + pad, "\"}", 2);
		tok = make_jws("{\"alg\":\"ES256\"}", claims, K.ec, SIG_GOOD);
		if (strlen(tok) <= 16384 && strlen(tok) > below) {
			c = jose_verify(s, "ES256", tok, &err);
			if (c == NULL)
				fail_msg("%zu bytes refused: %s", strlen(tok), err);
			json_decref(c);
			c = jose_verify_own(&k, 1, tok, &err);
			assert_non_null(c);
			json_decref(c);
			below = strlen(tok);
		} else if (strlen(tok) > 16384 && !above) {
			err = NULL;
			assert_null(jose_verify(s, "ES256", tok, &err));
			assert_non_null(err);
			err = NULL;
			assert_null(jose_verify_own(&k, 1, tok, &err));
			assert_non_null(err);
			above = strlen(tok);
		}
		free(tok);
		free(claims);
	}
	/* Base64url lengths skip 4n+1: the closest are 16383 and 16385. */
	assert_true(below >= 16383);
	assert_true(above > 16384 && above <= 16386);
	jose_key_free(k);
	jose_jwks_free(s);
	free(ec);
}

/* kid chooses the key; without kid any key of the pinned alg may verify. */
static void
test_jose_verify_kid(void **state)
{
	char *a = jwk_json(K.ec, ",\"kid\":\"a\""), *b = jwk_json(K.ec_b, ",\"kid\":\"b\"");
	char *a_plain = jwk_json(K.ec, ""), *tp_a = thumbprint(K.ec);
	char *hdr_tp = xasprintf("{\"alg\":\"ES256\",\"kid\":\"%s\"}", tp_a);
	EVP_PKEY *c_key = EVP_EC_gen("P-256");
	const struct {
		const char *name;
		int named;	/* the set with kids "a" and "b", else A alone with no kid */
		const char *hdr;
		EVP_PKEY *signer;
		int ok;
	} cases[] = {
		{ "kid b, signed by B", 1, "{\"alg\":\"ES256\",\"kid\":\"b\"}", K.ec_b, 1 },
		{ "kid a, signed by A", 1, "{\"alg\":\"ES256\",\"kid\":\"a\"}", K.ec, 1 },
		{ "kid a, signed by B", 1, "{\"alg\":\"ES256\",\"kid\":\"a\"}", K.ec_b, 0 },
		{ "kid matching no key", 1, "{\"alg\":\"ES256\",\"kid\":\"c\"}", K.ec, 0 },
		{ "kid empty", 1, "{\"alg\":\"ES256\",\"kid\":\"\"}", K.ec, 0 },
		{ "no kid, signed by A", 1, "{\"alg\":\"ES256\"}", K.ec, 1 },
		{ "no kid, signed by B", 1, "{\"alg\":\"ES256\"}", K.ec_b, 1 },
		{ "no kid, signed by an outsider", 1, "{\"alg\":\"ES256\"}", c_key, 0 },
		{ "kid as the thumbprint, JWK without kid", 0, hdr_tp, K.ec, 1 },
		{ "kid as a name, JWK without kid", 0, "{\"alg\":\"ES256\",\"kid\":\"a\"}", K.ec,
		    0 },
	};
	struct jose_jwks *named = jwks_of(a, b), *plain = jwks_of(a_plain, NULL);

	assert_non_null(c_key);
	for (size_t i = 0; i < NELEM(cases); i++) {
		char *tok = make_jws(cases[i].hdr, "{\"sub\":\"x\"}", cases[i].signer, SIG_GOOD);
		const char *err = NULL;
		json_t *c = jose_verify(cases[i].named ? named : plain, "ES256", tok, &err);

		if ((c != NULL) != cases[i].ok)
			fail_msg("%s: %s", cases[i].name, c ? "accepted" : err);
		json_decref(c);
		free(tok);
	}
	jose_jwks_free(named);
	jose_jwks_free(plain);
	EVP_PKEY_free(c_key);
	free(a);
	free(b);
	free(a_plain);
	free(tp_a);
	free(hdr_tp);
}

/* Our own keys: only their algs, only their signatures; every refusal says why. */
static void
test_jose_verify_own_refusals(void **state)
{
	const char *err = NULL;
	struct jose_key *keys[2];
	struct {
		const char *name;
		char *tok;
	} cases[] = {
		{ "none", make_jws("{\"alg\":\"none\"}", "{}", NULL, SIG_EMPTY) },
		{ "HS256 with our public key", make_jws(H_HS, "{}", K.rsa, SIG_HMAC) },
		{ "another P-256 key", make_jws("{\"alg\":\"ES256\"}", "{}", K.ec_b, SIG_GOOD) },
		{ "ES256 r = s = 0", make_jws("{\"alg\":\"ES256\"}", "{}", K.ec, SIG_RS0) },
		{ "header jwk", make_jws("{\"alg\":\"RS256\",\"jwk\":{}}", "{}", K.rsa, SIG_GOOD) },
		{ "no alg", make_jws("{}", "{}", K.rsa, SIG_GOOD) },
		{ "no dot", xstrdup("eyJhbGciOiJSUzI1NiJ9") },
		{ "header not JSON", xstrdup("bm9uZQ.e30.AA") },
	};

	const char *accepted = NULL, *silent = NULL;

	keys[0] = jose_key_from_pem(K.rsa_pem, "RS256", &err);
	keys[1] = jose_key_from_pem(K.ec_pem, "ES256", &err);
	for (size_t i = 0; i < NELEM(cases); i++) {
		json_t *c;

		/*
		 * Regression test (fixed in idp/jose.c, jose_verify_own): a header whose alg none of our keys has
		 * ("none", "HS256") returns NULL without setting *errstr.
		 */
		err = NULL;
		c = jose_verify_own(keys, 2, cases[i].tok, &err);
		if (c != NULL && accepted == NULL)
			accepted = cases[i].name;
		if (c == NULL && err == NULL && silent == NULL)
			silent = cases[i].name;
		json_decref(c);
		free(cases[i].tok);
	}
	jose_key_free(keys[0]);
	jose_key_free(keys[1]);
	if (accepted)
		fail_msg("%s: accepted", accepted);
	if (silent)
		fail_msg("%s: refused without a reason", silent);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jose_key_loading),
		cmocka_unit_test(test_jose_kid_is_thumbprint),
		cmocka_unit_test(test_jose_kid_rfc7638_vector),
		cmocka_unit_test(test_jose_kid_jwks),
		cmocka_unit_test(test_jose_sign_verify_round_trip),
		cmocka_unit_test(test_jose_sign_es256_randomized),
		cmocka_unit_test(test_jose_public_jwk),
		cmocka_unit_test(test_jose_jwks_parse_refusals),
		cmocka_unit_test(test_jose_jwks_parse_accepts),
		cmocka_unit_test(test_jose_jwks_rsa_exponent_one),
		cmocka_unit_test(test_jose_verify_refusals),
		cmocka_unit_test(test_jose_verify_tampering),
		cmocka_unit_test(test_jose_verify_size_limit),
		cmocka_unit_test(test_jose_verify_kid),
		cmocka_unit_test(test_jose_verify_own_refusals),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
