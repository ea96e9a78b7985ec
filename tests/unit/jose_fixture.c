/*
 * JOSE helpers shared by the unit tests that forge tokens (test_jose, test_oidc_client_auth):
 * PEM and JWK forms of keys made at test time, and compact JWS built and spoiled with
 * OpenSSL directly (see jose_fixture.h).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "crypto.h"
#include "encode.h"
#include "jose.h"
#include "jose_fixture.h"
#include "pki_fixture.h"
#include "xmalloc.h"

char *
pem_private(EVP_PKEY *pkey)
{
	BIO *bio = BIO_new(BIO_s_mem());

	assert_int_equal(PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL), 1);
	return bio_str(bio);
}

char *
pem_public(EVP_PKEY *pkey)
{
	BIO *bio = BIO_new(BIO_s_mem());

	assert_int_equal(PEM_write_bio_PUBKEY(bio, pkey), 1);
	return bio_str(bio);
}

char *
b64s(const char *s)
{
	return b64url_encode(s, strlen(s));
}

char *
rsa_member(EVP_PKEY *pkey, const char *name)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int n;

	assert_int_equal(EVP_PKEY_get_bn_param(pkey, name, &bn), 1);
	n = BN_bn2bin(bn, buf);
	BN_free(bn);
	return b64url_encode(buf, (size_t)n);
}

/* x and y of an EC key from its uncompressed point 04 || x || y. */
void
ec_members(EVP_PKEY *pkey, char **x_r, char **y_r)
{
	unsigned char *pt = NULL;
	size_t n = EVP_PKEY_get1_encoded_public_key(pkey, &pt), half = (n - 1) / 2;

	assert_true(n == 65 || n == 97);
	assert_int_equal(pt[0], 4);
	*x_r = b64url_encode(pt + 1, half);
	*y_r = b64url_encode(pt + 1 + half, half);
	OPENSSL_free(pt);
}

/* The public JWK of pkey as JSON, with extra members (",\"kid\":\"a\"") appended. */
char *
jwk_json(EVP_PKEY *pkey, const char *extra)
{
	char *a, *b, *s;

	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA) {
		a = rsa_member(pkey, OSSL_PKEY_PARAM_RSA_N);
		b = rsa_member(pkey, OSSL_PKEY_PARAM_RSA_E);
		s = xasprintf("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"%s}", a, b, extra);
	} else {
		ec_members(pkey, &a, &b);
		s = xasprintf("{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"%s}",
		    EVP_PKEY_get_bits(pkey) == 256 ? "P-256" : "P-384", a, b, extra);
	}
	free(a);
	free(b);
	return s;
}

/* A JWS signature over input: RSASSA-PKCS1-v1_5, or ECDSA as JOSE's 64-byte r || s. */
static unsigned char *
sign_raw(EVP_PKEY *pkey, const char *input, size_t *len_r)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *sig;
	size_t len = 0;

	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey), 1);
	assert_int_equal(EVP_DigestSign(ctx, NULL, &len, (const unsigned char *)input,
	    strlen(input)), 1);
	sig = xmalloc(len);
	assert_int_equal(EVP_DigestSign(ctx, sig, &len, (const unsigned char *)input,
	    strlen(input)), 1);
	EVP_MD_CTX_free(ctx);
	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
		const unsigned char *p = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
		unsigned char *raw = xmalloc(64);

		assert_non_null(es);
		assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32), 32);
		assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32), 32);
		ECDSA_SIG_free(es);
		free(sig);
		sig = raw;
		len = 64;
	}
	*len_r = len;
	return sig;
}

/* The ASN.1 DER signature OpenSSL makes (what a careless signer might send). */
static unsigned char *
sign_der(EVP_PKEY *pkey, const char *input, size_t *len_r)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *sig = xmalloc(256);
	size_t len = 256;

	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &len, (const unsigned char *)input,
	    strlen(input)), 1);
	EVP_MD_CTX_free(ctx);
	*len_r = len;
	return sig;
}


/* header.claims.signature from JSON texts, signed by pkey and spoiled as asked. */
char *
make_jws(const char *hdr, const char *claims, EVP_PKEY *pkey, enum sig how)
{
	char *h64 = b64s(hdr), *c64 = b64s(claims);
	char *input = xasprintf("%s.%s", h64, c64), *s64, *out, *pub;
	unsigned char *sig = NULL;
	size_t len = 0;

	switch (how) {
	case SIG_EMPTY:
		break;
	case SIG_HMAC:
		sig = xmalloc(CRYPTO_SHA256_LEN);
		len = CRYPTO_SHA256_LEN;
		pub = pem_public(pkey);
		crypto_hmac_sha256(pub, strlen(pub), input, strlen(input), sig);
		free(pub);
		break;
	case SIG_DER:
		sig = sign_der(pkey, input, &len);
		break;
	default:
		sig = sign_raw(pkey, input, &len);
		break;
	}
	switch (how) {
	case SIG_PLUS1:
	case SIG_PLUS2:
		sig = xreallocarray(sig, len + 2, 1);
		sig[len++] = 0;
		if (how == SIG_PLUS2)
			sig[len++] = 0;
		break;
	case SIG_SHORT:
		len--;
		break;
	case SIG_R0:
	case SIG_RS0:
		memset(sig, 0, 32);
		if (how == SIG_RS0)
			memset(sig + 32, 0, 32);
		break;
	case SIG_S0:
		memset(sig + 32, 0, 32);
		break;
	case SIG_FLIP:
		sig[len / 2] ^= 0x01;
		break;
	default:
		break;
	}
	s64 = b64url_encode(sig ? sig : (const unsigned char *)"", len);
	out = xasprintf("%s.%s", input, s64);
	free(s64);
	free(sig);
	free(input);
	free(h64);
	free(c64);
	return out;
}

struct jose_jwks *
jwks_of(const char *jwk1, const char *jwk2)
{
	char *json = jwk2 ? xasprintf("{\"keys\":[%s,%s]}", jwk1, jwk2) :
	    xasprintf("{\"keys\":[%s]}", jwk1);
	const char *err = NULL;
	struct jose_jwks *s = jose_jwks_parse(json, &err);

	if (s == NULL)
		print_error("JWKS refused: %s\n", err);
	assert_non_null(s);
	free(json);
	return s;
}
