/*
 * JWS (compact) with OpenSSL EVP: RS256 (RSASSA-PKCS1-v1_5 SHA-256) and ES256 (ECDSA P-256
 * SHA-256, JOSE r||s form); JWKs for our public keys and from clients' JWKS.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto.h"
#include "encode.h"
#include "jose.h"
#include "log.h"
#include "xmalloc.h"

#define JOSE_MAX_KEYS 16
#define JOSE_MAX_TOKEN 16384

#define JOSE_KID_MAX 128

struct jose_key {
	EVP_PKEY *pkey;
	int ec;
	char alg[8];
	char kid[JOSE_KID_MAX];
};

struct jose_jwks {
	struct jose_key *k[JOSE_MAX_KEYS];
	size_t n;
};

static char *
bn_b64url(const EVP_PKEY *pkey, const char *name, size_t pad)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	char *s = NULL;
	int n;

	if (!EVP_PKEY_get_bn_param(pkey, name, &bn))
		return NULL;
	n = BN_num_bytes(bn);
	if (pad && (size_t)n < pad)
		n = (int)pad;
	if (n <= (int)sizeof(buf) && BN_bn2binpad(bn, buf, n) == n)
		s = b64url_encode(buf, (size_t)n);
	BN_free(bn);
	return s;
}

/* The public JWK members in lexicographic order (RFC 7638), without kid/use/alg. */
static json_t *
public_members(const struct jose_key *k)
{
	char *a, *b;
	json_t *j;

	if (k->ec) {
		a = bn_b64url(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32);
		b = bn_b64url(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
		j = a && b ? json_pack("{s:s, s:s, s:s, s:s}", "crv", "P-256", "kty", "EC", "x", a,
		    "y", b) : NULL;
	} else {
		a = bn_b64url(k->pkey, OSSL_PKEY_PARAM_RSA_E, 0);
		b = bn_b64url(k->pkey, OSSL_PKEY_PARAM_RSA_N, 0);
		j = a && b ? json_pack("{s:s, s:s, s:s}", "e", a, "kty", "RSA", "n", b) : NULL;
	}
	free(a);
	free(b);
	return j;
}

/* kid = base64url(SHA-256 of the canonical public JWK), RFC 7638. */
static int
set_thumbprint(struct jose_key *k)
{
	json_t *j = public_members(k);
	unsigned char h[CRYPTO_SHA256_LEN];
	char *s, *b64;

	if (j == NULL)
		return -1;
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	if (s == NULL)
		return -1;
	crypto_sha256(s, strlen(s), h);
	free(s);
	b64 = b64url_encode(h, sizeof(h));
	snprintf(k->kid, sizeof(k->kid), "%s", b64);
	free(b64);
	return 0;
}

static int
rsa_exponent_ok(const EVP_PKEY *pkey)
{
	BIGNUM *e = NULL;
	int ok;

	if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e))
		return 0;
	ok = BN_is_odd(e) && BN_num_bits(e) >= 2 && BN_num_bits(e) <= 32;
	BN_free(e);
	return ok;
}

/* Check that pkey suits alg; fill the key. */
static struct jose_key *
wrap(EVP_PKEY *pkey, const char *alg, const char **errstr)
{
	struct jose_key *k;
	char group[32];
	size_t glen;

	if (pkey == NULL) {
		*errstr = "key does not parse";
		return NULL;
	}
	if (!strcmp(alg, "RS256")) {
		if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA || EVP_PKEY_get_bits(pkey) < 2048) {
			*errstr = "RS256 needs an RSA key of at least 2048 bits";
			EVP_PKEY_free(pkey);
			return NULL;
		}
		/* e = 1 (or any even e) would let anyone "sign": only odd e >= 3. */
		if (!rsa_exponent_ok(pkey)) {
			*errstr = "RSA public exponent must be odd and at least 3";
			EVP_PKEY_free(pkey);
			return NULL;
		}
	} else if (!strcmp(alg, "ES256")) {
		if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC ||
		    !EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
		    sizeof(group), &glen) || strcmp(group, "prime256v1")) {
			*errstr = "ES256 needs a P-256 key";
			EVP_PKEY_free(pkey);
			return NULL;
		}
	} else {
		*errstr = "unsupported algorithm";
		EVP_PKEY_free(pkey);
		return NULL;
	}
	k = xcalloc(1, sizeof(*k));
	k->pkey = pkey;
	k->ec = !strcmp(alg, "ES256");
	snprintf(k->alg, sizeof(k->alg), "%s", alg);
	if (set_thumbprint(k) == -1) {
		*errstr = "cannot compute the key thumbprint";
		jose_key_free(k);
		return NULL;
	}
	return k;
}

struct jose_key *
jose_key_from_pem(const char *pem, const char *alg, const char **errstr)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;

	BIO_free(bio);
	return wrap(pkey, alg, errstr);
}

struct jose_key *
jose_key_public_from_pem(const char *pem, const char *alg, const char **errstr)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *pkey = NULL;
	X509 *x;

	if (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		pkey = X509_get_pubkey(x);
		X509_free(x);
	} else if (bio) {
		BIO_reset(bio);
		pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	}
	BIO_free(bio);
	return wrap(pkey, alg, errstr);
}

void
jose_key_free(struct jose_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

const char *
jose_key_kid(const struct jose_key *k)
{
	return k->kid;
}

const char *
jose_key_alg(const struct jose_key *k)
{
	return k->alg;
}

json_t *
jose_key_public_jwk(const struct jose_key *k)
{
	json_t *j = public_members(k);

	if (j) {
		json_object_set_new(j, "kid", json_string(k->kid));
		json_object_set_new(j, "use", json_string("sig"));
		json_object_set_new(j, "alg", json_string(k->alg));
	}
	return j;
}

/* ECDSA: DER from OpenSSL <-> the fixed 64-byte r||s of JOSE. */
static int
der_to_raw(const unsigned char *der, size_t derlen, unsigned char raw[64])
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
	const BIGNUM *r, *s;
	int ok;

	if (sig == NULL)
		return -1;
	ECDSA_SIG_get0(sig, &r, &s);
	ok = BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(s, raw + 32, 32) == 32;
	ECDSA_SIG_free(sig);
	return ok ? 0 : -1;
}

static unsigned char *
raw_to_der(const unsigned char *raw, size_t len, size_t *derlen)
{
	ECDSA_SIG *sig;
	BIGNUM *r, *s;
	unsigned char *der = NULL;
	int n;

	if (len != 64)
		return NULL;
	r = BN_bin2bn(raw, 32, NULL);
	s = BN_bin2bn(raw + 32, 32, NULL);
	/* r = 0 or s = 0 is never a valid signature (CVE-2022-21449 class). */
	if (r == NULL || s == NULL || BN_is_zero(r) || BN_is_zero(s) || (sig = ECDSA_SIG_new()) == NULL) {
		BN_free(r);
		BN_free(s);
		return NULL;
	}
	ECDSA_SIG_set0(sig, r, s);
	n = i2d_ECDSA_SIG(sig, &der);
	ECDSA_SIG_free(sig);
	if (n <= 0)
		return NULL;
	*derlen = (size_t)n;
	return der;
}

char *
jose_sign(const struct jose_key *k, const char *typ, json_t *claims)
{
	json_t *hdr = json_pack("{s:s, s:s, s:s}", "alg", k->alg, "kid", k->kid, "typ", typ);
	char *h = json_dumps(hdr, JSON_COMPACT), *c = json_dumps(claims, JSON_COMPACT);
	char *h64 = h ? b64url_encode(h, strlen(h)) : NULL;
	char *c64 = c ? b64url_encode(c, strlen(c)) : NULL, *input = NULL, *out = NULL, *s64;
	unsigned char sig[512], raw[64];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	json_decref(hdr);
	if (ctx == NULL || h64 == NULL || c64 == NULL)
		goto done;
	input = xasprintf("%s.%s", h64, c64);
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)input, strlen(input)) != 1)
		goto done;
	if (k->ec) {
		if (der_to_raw(sig, siglen, raw) == -1)
			goto done;
		s64 = b64url_encode(raw, sizeof(raw));
	} else {
		s64 = b64url_encode(sig, siglen);
	}
	out = xasprintf("%s.%s", input, s64);
	free(s64);
done:
	EVP_MD_CTX_free(ctx);
	free(h);
	free(c);
	free(h64);
	free(c64);
	free(input);
	if (out == NULL)
		log_error("JWS signing with %s failed", k->alg);
	return out;
}

/* ---- JWKS of clients ---- */

static BIGNUM *
member_bn(json_t *jwk, const char *name, size_t want)
{
	const char *v = json_string_value(json_object_get(jwk, name));
	unsigned char *raw;
	size_t len;
	BIGNUM *bn;

	if (v == NULL || (raw = b64url_decode(v, strlen(v), 1024, &len)) == NULL)
		return NULL;
	bn = (want && len != want) ? NULL : BN_bin2bn(raw, (int)len, NULL);
	free(raw);
	return bn;
}

static EVP_PKEY *
pkey_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY *pkey = NULL;

	if (ctx && params && EVP_PKEY_fromdata_init(ctx) == 1)
		EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/* An RSA or P-256 public key from a JWK; private members are refused. */
static EVP_PKEY *
pkey_from_jwk(json_t *jwk, const char **alg_r)
{
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *a = NULL, *b = NULL;
	EVP_PKEY *pkey = NULL;

	if (bld == NULL || kty == NULL || json_object_get(jwk, "d"))
		goto done;
	if (!strcmp(kty, "RSA")) {
		a = member_bn(jwk, "n", 0);
		b = member_bn(jwk, "e", 0);
		if (a && b && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, a) &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, b))
			pkey = pkey_from_params("RSA", bld);
		*alg_r = "RS256";
	} else if (!strcmp(kty, "EC") &&
	    !strcmp(json_string_value(json_object_get(jwk, "crv")) ?: "", "P-256")) {
		unsigned char pub[65] = { 4 };
		a = member_bn(jwk, "x", 32);
		b = member_bn(jwk, "y", 32);
		if (a && b && BN_bn2binpad(a, pub + 1, 32) == 32 && BN_bn2binpad(b, pub + 33, 32) == 32 &&
		    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) &&
		    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)))
			pkey = pkey_from_params("EC", bld);
		*alg_r = "ES256";
	}
done:
	BN_free(a);
	BN_free(b);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

struct jose_jwks *
jose_jwks_parse(const char *json, const char **errstr)
{
	json_error_t jerr;
	json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr), *keys, *jwk;
	struct jose_jwks *s = NULL;
	size_t i;

	keys = json_object_get(root, "keys");
	if (!json_is_array(keys) || json_array_size(keys) == 0 ||
	    json_array_size(keys) > JOSE_MAX_KEYS) {
		*errstr = "JWKS must be an object with 1 to 16 keys";
		goto done;
	}
	s = xcalloc(1, sizeof(*s));
	json_array_foreach(keys, i, jwk) {
		const char *alg = NULL, *kid = json_string_value(json_object_get(jwk, "kid"));
		const char *use = json_string_value(json_object_get(jwk, "use"));
		EVP_PKEY *pkey;
		struct jose_key *k;
		if (use && strcmp(use, "sig"))
			continue;
		if (kid && (*kid == '\0' || strlen(kid) >= JOSE_KID_MAX)) {
			*errstr = "a JWKS kid is empty or longer than 127 bytes";
			jose_jwks_free(s);
			s = NULL;
			goto done;
		}
		if ((pkey = pkey_from_jwk(jwk, &alg)) == NULL || (k = wrap(pkey, alg, errstr)) == NULL) {
			*errstr = "a JWKS key is not a usable RSA (2048+, odd e) or P-256 public key";
			jose_jwks_free(s);
			s = NULL;
			goto done;
		}
		if (kid)
			snprintf(k->kid, sizeof(k->kid), "%s", kid);
		s->k[s->n++] = k;
	}
	if (s->n == 0) {
		*errstr = "JWKS has no signing key";
		jose_jwks_free(s);
		s = NULL;
	}
done:
	json_decref(root);
	return s;
}

void
jose_jwks_free(struct jose_jwks *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		jose_key_free(s->k[i]);
	free(s);
}

const char *
jose_jwks_alg(const struct jose_jwks *s)
{
	for (size_t i = 1; i < s->n; i++)
		if (strcmp(s->k[i]->alg, s->k[0]->alg))
			return NULL;
	return s->n ? s->k[0]->alg : NULL;
}

static int
verify_sig(const struct jose_key *k, const char *input, size_t inlen, const unsigned char *sig,
    size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *der = NULL;
	size_t derlen = 0;
	int ok = 0;

	if (ctx == NULL)
		fatal("EVP_MD_CTX_new failed");
	if (k->ec && (der = raw_to_der(sig, siglen, &derlen)) == NULL)
		goto done;
	ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
	    EVP_DigestVerify(ctx, k->ec ? der : sig, k->ec ? derlen : siglen,
	    (const unsigned char *)input, inlen) == 1;
done:
	OPENSSL_free(der);
	EVP_MD_CTX_free(ctx);
	return ok;
}

static json_t *
decode_part(const char *p, size_t len)
{
	unsigned char *raw;
	size_t n;
	json_error_t jerr;
	json_t *j;

	if ((raw = b64url_decode(p, len, JOSE_MAX_TOKEN, &n)) == NULL)
		return NULL;
	j = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, &jerr);
	free(raw);
	return json_is_object(j) ? j : (json_decref(j), NULL);
}

/* Split and check the header; the claims if the signature verifies with a key in keys. */
static json_t *
verify_with(struct jose_key *const *keys, size_t nkeys, const char *alg, const char *compact,
    const char **errstr)
{
	const char *d1, *d2, *kid;
	json_t *hdr = NULL, *claims = NULL;
	unsigned char *sig = NULL;
	size_t siglen, len = strlen(compact);
	int ok = 0;

	*errstr = "malformed JWT";
	if (len > JOSE_MAX_TOKEN || (d1 = strchr(compact, '.')) == NULL ||
	    (d2 = strchr(d1 + 1, '.')) == NULL || strchr(d2 + 1, '.'))
		return NULL;
	if ((hdr = decode_part(compact, (size_t)(d1 - compact))) == NULL)
		goto done;
	/* The algorithm is ours to decide, never the token's: none, HS256... never pass. */
	if (alg == NULL || strcmp(json_string_value(json_object_get(hdr, "alg")) ?: "", alg)) {
		*errstr = "JWT algorithm not the one registered";
		goto done;
	}
	if (json_object_get(hdr, "jwk") || json_object_get(hdr, "jku") ||
	    json_object_get(hdr, "x5u") || json_object_get(hdr, "x5c") ||
	    json_object_get(hdr, "crit")) {
		*errstr = "JWT header brings its own key or critical extensions";
		goto done;
	}
	if ((sig = b64url_decode(d2 + 1, strlen(d2 + 1), 1024, &siglen)) == NULL || siglen == 0) {
		*errstr = "JWT signature missing or malformed";
		goto done;
	}
	kid = json_string_value(json_object_get(hdr, "kid"));
	*errstr = "JWT signature does not verify";
	for (size_t i = 0; i < nkeys && !ok; i++) {
		if (strcmp(keys[i]->alg, alg) || (kid && strcmp(keys[i]->kid, kid)))
			continue;
		ok = verify_sig(keys[i], compact, (size_t)(d2 - compact), sig, siglen);
	}
	if (ok && (claims = decode_part(d1 + 1, (size_t)(d2 - d1 - 1))) == NULL)
		*errstr = "JWT claims are not a JSON object";
done:
	json_decref(hdr);
	free(sig);
	return ok ? claims : NULL;
}

json_t *
jose_verify(const struct jose_jwks *keys, const char *alg, const char *compact,
    const char **errstr)
{
	return verify_with(keys->k, keys->n, alg, compact, errstr);
}

json_t *
jose_verify_own(struct jose_key *const *keys, size_t n, const char *compact, const char **errstr)
{
	const char *d1 = strchr(compact, '.');
	json_t *hdr = d1 ? decode_part(compact, (size_t)(d1 - compact)) : NULL, *claims = NULL;
	const char *alg = json_string_value(json_object_get(hdr, "alg"));

	*errstr = "JWT algorithm is none of our keys'";
	/* Our own keys each have one alg: accept only those. */
	for (size_t i = 0; alg && i < n; i++)
		if (!strcmp(keys[i]->alg, alg)) {
			claims = verify_with(keys, n, keys[i]->alg, compact, errstr);
			break;
		}
	if (claims == NULL && alg == NULL)
		*errstr = "malformed JWT";
	json_decref(hdr);
	return claims;
}
