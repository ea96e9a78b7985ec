/*
 * JOSE for OpenID Connect: JWS compact signing with our keys (RS256, ES256), public JWKs
 * with RFC 7638 thumbprints as kid, and verification of JWTs that others sign (client
 * assertions) with the algorithm pinned by the caller.  OpenSSL EVP and jansson only.
 */
#ifndef SEKISHO_JOSE_H
#define SEKISHO_JOSE_H

#include <jansson.h>

struct jose_key;
struct jose_jwks;

/* A signing key from a PEM private key; alg "RS256" (RSA >= 2048) or "ES256" (P-256). */
struct jose_key *jose_key_from_pem(const char *pem, const char *alg, const char **errstr);
/* A verification-only key from a PEM certificate or public key. */
struct jose_key *jose_key_public_from_pem(const char *pem, const char *alg,
    const char **errstr);
void jose_key_free(struct jose_key *k);
const char *jose_key_kid(const struct jose_key *k);
const char *jose_key_alg(const struct jose_key *k);
/* {"kty",...,"kid","use":"sig","alg"}: a new reference. */
json_t *jose_key_public_jwk(const struct jose_key *k);

/* Sign claims as a compact JWS with header {alg, kid, typ}; a new string or NULL. */
char *jose_sign(const struct jose_key *k, const char *typ, json_t *claims);

/* A client's JWKS (public keys only); NULL with *errstr on anything unusable. */
struct jose_jwks *jose_jwks_parse(const char *json, const char **errstr);
void jose_jwks_free(struct jose_jwks *s);
/* The algorithm a JWKS' keys imply ("RS256" for RSA, "ES256" for P-256) or NULL if mixed. */
const char *jose_jwks_alg(const struct jose_jwks *s);

/*
 * Verify a compact JWS signed with exactly alg by one of keys (chosen by kid when given).
 * Headers that bring their own keys (jwk, jku, x5u, x5c) or "crit" are refused.  Returns
 * the claims (new reference) or NULL with *errstr.
 */
json_t *jose_verify(const struct jose_jwks *keys, const char *alg, const char *compact,
    const char **errstr);
/* The same against our own keys (access tokens we issued). */
json_t *jose_verify_own(struct jose_key *const *keys, size_t n, const char *compact,
    const char **errstr);

#endif
