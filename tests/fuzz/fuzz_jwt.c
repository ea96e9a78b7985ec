/*
 * Fuzz target: client authentication at the token endpoint (idp/oidc/oidc_client_auth.c
 * oidc_client_check): JWT client assertions (RFC 7523) with idp/oidc/jose.c's
 * verification behind them, Basic and form secrets, public clients; and access tokens
 * checked against our own keys.  Fixture: a store in a temporary directory and a tenant
 * with clients fz-es (private_key_jwt, ES256), fz-rs (private_key_jwt, RS256), fz-basic,
 * fz-post (secret "s3cret" each way) and fz-public; keys are made at start-up.  The
 * first byte picks the input's meaning:
 *   0  a token-endpoint form body (client_assertion=...&client_id=...)
 *   1  claims (JSON) that the fixture signs as fz-es, sent with client_id=fz-es
 *   2  the same without client_id (the client is found by "sub")
 *   3  a compact JWS checked as one of our own access tokens
 *   4  an Authorization header value, a newline, then a form body
 * Properties: the client accepted is the one the request named, with the method it was
 * registered for; an accepted assertion has iss = sub = "fz-es", names us alone as aud, an
 * exp inside the accepted window, no iat or nbf in the future, and a jti.
 */
#include "config.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "clock.h"
#include "crypto.h"
#include "encode.h"
#include "form.h"
#include "fuzz.h"
#include "jose.h"
#include "log.h"
#include "oidc.h"
#include "oidc_client_auth.h"
#include "pki.h"
#include "store.h"

#define NOW 1767225600		/* 2026-01-01T00:00:00Z, the fixed clock */
#define MAX_LIFETIME 600	/* oidc_assertion_max_lifetime's default */
#define TYPE "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
#define ISSUER "https://idp.example.org/t/default"
#define TOKEN_ENDPOINT ISSUER "/oidc/token"
#define SECRET "s3cret"

static struct idp idp;
static struct tenant_ctx tenant;
static struct oidc_tenant oidc;
static struct oidc_client clients[5];
static struct jose_key *own[2];		/* RS256, ES256: ours, and the clients' private keys */

static void
quiet(enum log_level level, const char *line, void *arg)
{
}

static int
rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}


static struct jose_key *
new_key(enum pki_keytype type, const char *alg)
{
	char *pem = pki_generate_key(type);
	const char *err = NULL;
	struct jose_key *k = pem ? jose_key_from_pem(pem, alg, &err) : NULL;

	if (k == NULL)
		fuzz_fail("key generation", __FILE__, __LINE__);
	freezero_str(pem);
	return k;
}

/* A client with method; its JWKS holds k's public key, its secret is SECRET. */
static void
add_client(struct oidc_client *c, const char *id, const char *method, struct jose_key *k)
{
	json_t *jwks = json_pack("{s:[o]}", "keys", jose_key_public_jwk(k));
	char *text = json_dumps(jwks, JSON_COMPACT);
	unsigned char h[CRYPTO_SHA256_LEN];
	const char *err = NULL;

	c->client_id = xstrdup(id);
	c->app = xstrdup(id);
	c->auth_method = xstrdup(method);
	if ((c->jwks = jose_jwks_parse(text, &err)) == NULL)
		fuzz_fail("client JWKS", __FILE__, __LINE__);
	crypto_sha256(SECRET, strlen(SECRET), h);
	c->secret_hash = xmalloc(2 * sizeof(h) + 1);
	hex_encode(h, sizeof(h), c->secret_hash);
	free(text);
	json_decref(jwks);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct store_settings ss = { 1 << 20, 256 << 20 };
	char dir[256];
	const char *err = NULL;

	log_set_sink(quiet, NULL);
	clock_set_fixed(NOW);
	snprintf(dir, sizeof(dir), "%s/sekisho-fuzz-jwt.XXXXXX", fuzz_tmpdir());
	if (mkdtemp(dir) == NULL || (idp.in.store = store_open(dir, &ss, &err)) == NULL)
		fuzz_fail("store", __FILE__, __LINE__);
	/* LMDB keeps its files open: gone from the directory, nothing is left after a crash. */
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	idp.in.settings.oidc_assertion_max_lifetime = MAX_LIFETIME;
	own[0] = new_key(PKI_RSA2048, "RS256");
	own[1] = new_key(PKI_P256, "ES256");
	add_client(&clients[0], "fz-es", "private_key_jwt", own[1]);
	add_client(&clients[1], "fz-rs", "private_key_jwt", own[0]);
	add_client(&clients[2], "fz-basic", "client_secret_basic", own[1]);
	add_client(&clients[3], "fz-post", "client_secret_post", own[1]);
	add_client(&clients[4], "fz-public", "none", own[1]);
	oidc.clients = clients;
	oidc.nclients = 5;
	tenant.id = "default";
	tenant.base = ISSUER;
	tenant.oidc = &oidc;
	return 0;
}

/*
 * What oidc_client_auth lets through to the decision: one method at a time.  Returns
 * the method the request uses, or NULL for a request refused before deciding.
 */
static const char *
method_of(const char *hdr, const struct form *f)
{
	int assertion = form_get(f, "client_assertion") || form_get(f, "client_assertion_type");
	int secret = form_get(f, "client_secret") != NULL;

	if ((hdr != NULL) + secret + assertion > 1)
		return NULL;
	return hdr ? "client_secret_basic" : secret ? "client_secret_post" :
	    assertion ? "private_key_jwt" : "none";
}

/* An accepted client was named (or found by an assertion's sub) and uses its method. */
static void
accepted(const char *hdr, const struct form *f, const char *method,
    const struct oidc_client *c)
{
	const char *id = form_get(f, "client_id");

	FUZZ_ASSERT(c != NULL && strcmp(c->auth_method, method) == 0);
	FUZZ_ASSERT(id == NULL || strcmp(id, c->client_id) == 0);
	FUZZ_ASSERT(hdr || id || c == &clients[0] || c == &clients[1]);
}

/* Decide an Authorization header (or NULL) and a form body: NULL, or why refused. */
static const char *
check(const char *hdr, const char *body, size_t len, const struct oidc_client **c_r)
{
	struct form f;
	const char *why = NULL, *client, *method;

	*c_r = NULL;
	if (form_parse(&f, body, len, &why) == 0) {
		if ((method = method_of(hdr, &f)) == NULL)
			why = "more than one client authentication";
		else if (oidc_client_check(&idp, &tenant, hdr, &f, c_r, &client, &why) == 0)
			accepted(hdr, &f, method, *c_r);
	}
	form_free(&f);
	fuzz_verdict(why);
	return why;
}

static int
is_us(json_t *v)
{
	return json_is_string(v) && (strcmp(json_string_value(v), TOKEN_ENDPOINT) == 0 ||
	    strcmp(json_string_value(v), ISSUER) == 0);
}

/* aud names this server alone: our token endpoint or issuer, or an array of only those. */
static int
aud_is_us_alone(json_t *aud)
{
	size_t i;
	json_t *v;

	if (!json_is_array(aud))
		return is_us(aud);
	json_array_foreach(aud, i, v)
		if (!is_us(v))
			return 0;
	return json_array_size(aud) > 0;
}

/* iat and nbf, when present, are integers not after now (with the skew allowed). */
static int
not_future(json_t *claims, const char *name)
{
	json_t *v = json_object_get(claims, name);

	return v == NULL || (json_is_integer(v) && json_integer_value(v) <= NOW + 60);
}

/* Sign claims as fz-es and present them; the verdict must follow the claims. */
static void
signed_claims(const char *s, size_t n, int with_id)
{
	json_error_t je;
	json_t *claims = json_loadb(s, n, JSON_REJECT_DUPLICATES, &je), *exp;
	const struct oidc_client *c;
	char *jwt, *body;

	if (claims == NULL)
		return;
	if ((jwt = jose_sign(own[1], "JWT", claims)) != NULL) {
		body = xasprintf("client_assertion_type=%s&client_assertion=%s%s", TYPE, jwt,
		    with_id ? "&client_id=fz-es" : "");
		if (check(NULL, body, strlen(body), &c) == NULL) {
			exp = json_object_get(claims, "exp");
			FUZZ_ASSERT(c == &clients[0]);
			FUZZ_ASSERT(!strcmp(json_string_value(json_object_get(claims, "iss")) ?: "", "fz-es"));
			FUZZ_ASSERT(!strcmp(json_string_value(json_object_get(claims, "sub")) ?: "", "fz-es"));
			FUZZ_ASSERT(json_is_integer(exp) && json_integer_value(exp) >= NOW - 60 &&
			    json_integer_value(exp) <= NOW + MAX_LIFETIME);
			FUZZ_ASSERT(aud_is_us_alone(json_object_get(claims, "aud")));
			FUZZ_ASSERT(not_future(claims, "iat") && not_future(claims, "nbf"));
			FUZZ_ASSERT(json_string_length(json_object_get(claims, "jti")) > 0);
		}
		free(body);
		free(jwt);
	}
	json_decref(claims);
}

/* An Authorization header value, a newline, a form body. */
static void
header_and_form(const char *s, size_t n)
{
	const char *nl = memchr(s, '\n', n);
	const struct oidc_client *c;
	char *hdr;

	if (nl == NULL)
		return;
	hdr = xstrndup(s, (size_t)(nl - s));
	if (check(hdr, nl + 1, n - (size_t)(nl + 1 - s), &c) == NULL)
		FUZZ_ASSERT(c == &clients[2]);
	free(hdr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct oidc_client *c;
	const char *why;
	char *s;
	json_t *j;

	if (size == 0)
		return 0;
	s = fuzz_str(data + 1, size - 1);
	switch (data[0] % 5) {
	case 0:
		check(NULL, s, size - 1, &c);
		break;
	case 1:
	case 2:
		signed_claims(s, size - 1, data[0] % 5 == 1);
		break;
	case 3:
		if ((j = jose_verify_own(own, 2, s, &why)) != NULL)
			json_decref(j);
		fuzz_verdict(j ? NULL : why);
		break;
	default:
		header_and_form(s, size - 1);
		break;
	}
	free(s);
	return 0;
}
