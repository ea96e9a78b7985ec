/*
 * JOSE helpers shared by the unit tests that forge tokens: PEM and JWK forms of keys made
 * at test time, and compact JWS signed (or spoiled) with OpenSSL directly, so every byte
 * of a forgery is the test's.  Failures end the test through cmocka's assertions.
 */
#ifndef SEKISHO_JOSE_FIXTURE_H
#define SEKISHO_JOSE_FIXTURE_H

#include <openssl/evp.h>

#include "jose.h"

/* How a test signature is made or spoiled. */
enum sig {
	SIG_GOOD,	/* signed by the key */
	SIG_EMPTY,	/* no signature at all */
	SIG_PLUS1,	/* ES256: one byte too many */
	SIG_PLUS2,	/* ES256: two bytes too many */
	SIG_SHORT,	/* one byte short (ES256: 63 bytes) */
	SIG_R0,		/* ES256: r = 0 */
	SIG_S0,		/* ES256: s = 0 */
	SIG_RS0,	/* ES256: r = s = 0 (CVE-2022-21449) */
	SIG_DER,	/* ES256 as ASN.1 DER */
	SIG_FLIP,	/* one bit changed */
	SIG_HMAC,	/* HMAC-SHA256 keyed with pkey's public key PEM (key confusion) */
};

char *pem_private(EVP_PKEY *pkey);
char *pem_public(EVP_PKEY *pkey);
/* base64url of a string. */
char *b64s(const char *s);
/* An RSA parameter (OSSL_PKEY_PARAM_RSA_N, _E) as base64url. */
char *rsa_member(EVP_PKEY *pkey, const char *name);
/* x and y of an EC key, base64url. */
void ec_members(EVP_PKEY *pkey, char **x_r, char **y_r);
/* The public JWK of pkey as JSON, with extra members (",\"kid\":\"a\"") appended. */
char *jwk_json(EVP_PKEY *pkey, const char *extra);
/* header.claims.signature from JSON texts, signed by pkey and spoiled as asked. */
char *make_jws(const char *hdr, const char *claims, EVP_PKEY *pkey, enum sig how);
/* A parsed JWKS of one or two JWKs (jwk2 may be NULL); fails the test if refused. */
struct jose_jwks *jwks_of(const char *jwk1, const char *jwk2);

#endif
