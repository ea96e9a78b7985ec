/*
 * Unit tests for idp/oidc/oidc_client_auth.c through oidc_client_check: client_secret_basic
 * (base64, then URL-decoding of id and secret, RFC 6749 2.3.1), client_secret_post, public
 * clients, and private_key_jwt assertions forged here with OpenSSL (alg pinning, keys in
 * the header, iss/sub/aud/exp/nbf/iat under the injected clock, jti once, also after the
 * store is reopened).  Keys are made at test time; the store is a fresh LMDB.
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
#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "clock.h"
#include "encode.h"
#include "form.h"
#include "idp.h"
#include "jose.h"
#include "oidc.h"
#include "oidc_client_auth.h"
#include "xmalloc.h"

#include "jose_fixture.h"
#include "store_fixture.h"

#define ISSUER "https://idp.example/t/" T
#define TOKEN_EP ISSUER "/oidc/token"
#define NOW T0
#define MAX_LIFETIME 600
#define SKEW 60
#define BAD_CREDS "bad client credentials"
#define BAD_CLAIMS "iss and sub must be the client_id"
#define BAD_AUD "aud does not name this server alone"
#define REPLAYED "jti replayed"

/* Secrets with every character that form encoding changes ('+', '%', ' ') or not. */
#define SECRET_B "s3+cr/t=:%20 x"
#define SECRET_P "p0st+/="

enum { C_BASIC, C_POST, C_PUBLIC, C_RS, C_ES, C_MIXED, C_BASIC_JWKS, C_LONG, C_MAX, NCLIENTS };

static struct {
	struct fx *fx;
	EVP_PKEY *rsa, *ec, *evil_rsa, *evil_ec;
	struct oidc_client *clients;	/* owned by t.oidc, freed with it */
	struct tenant_ctx t;
	struct idp idp;
	char *long_secret, *max_secret;
	int jti;
} F;

/* ---- fixture ---- */

/* What the registration stores: the hex SHA-256 of the secret (made here with EVP). */
static char *
secret_hash(const char *secret)
{
	unsigned char h[32];
	unsigned int n = sizeof(h);
	char *hex = xcalloc(1, 65);

	assert_int_equal(EVP_Digest(secret, strlen(secret), h, &n, EVP_sha256(), NULL), 1);
	hex_encode(h, n, hex);
	return hex;
}

static void
client(int i, const char *id, const char *method, const char *secret, struct jose_jwks *jwks,
    const char *alg)
{
	struct oidc_client *c = &F.clients[i];

	c->client_id = xstrdup(id);
	c->app = xstrdup(id);
	c->auth_method = xstrdup(method);
	c->secret_hash = secret ? secret_hash(secret) : NULL;
	c->jwks = jwks;
	c->assertion_alg = alg ? xstrdup(alg) : NULL;
}

static struct jose_jwks *
jwks_for(EVP_PKEY *a, EVP_PKEY *b)
{
	char *ja = jwk_json(a, ""), *jb = b ? jwk_json(b, "") : NULL;
	struct jose_jwks *s = jwks_of(ja, jb);

	free(ja);
	free(jb);
	return s;
}

static void
make_clients(void)
{
	F.long_secret = xcalloc(1, 514);
	memset(F.long_secret, 'L', 513);
	F.max_secret = xcalloc(1, 513);
	memset(F.max_secret, 'M', 512);
	client(C_BASIC, "basic+:1", "client_secret_basic", SECRET_B, NULL, NULL);
	client(C_POST, "post", "client_secret_post", SECRET_P, NULL, NULL);
	client(C_PUBLIC, "public", "none", NULL, NULL, NULL);
	client(C_RS, "rs", "private_key_jwt", NULL, jwks_for(F.rsa, NULL), NULL);
	client(C_ES, "es", "private_key_jwt", NULL, jwks_for(F.ec, NULL), NULL);
	client(C_MIXED, "mixed", "private_key_jwt", NULL, jwks_for(F.rsa, F.ec), "ES256");
	client(C_BASIC_JWKS, "basic-jwks", "client_secret_basic", "bj", jwks_for(F.rsa, NULL),
	    NULL);
	client(C_LONG, "long", "client_secret_basic", F.long_secret, NULL, NULL);
	client(C_MAX, "max", "client_secret_basic", F.max_secret, NULL, NULL);
}

static int
group_setup(void **state)
{
	setup(state);
	F.fx = *state;
	F.rsa = EVP_RSA_gen(2048);
	F.evil_rsa = EVP_RSA_gen(2048);
	F.ec = EVP_EC_gen("P-256");
	F.evil_ec = EVP_EC_gen("P-256");
	if (!F.rsa || !F.evil_rsa || !F.ec || !F.evil_ec)
		return -1;
	F.t.oidc = xcalloc(1, sizeof(*F.t.oidc));
	F.t.oidc->clients = F.clients = xcalloc(NCLIENTS, sizeof(*F.clients));
	F.t.oidc->nclients = NCLIENTS;
	make_clients();
	F.t.id = T;
	F.t.base = ISSUER;
	F.idp.in.store = F.fx->st;
	F.idp.in.settings.oidc_assertion_max_lifetime = MAX_LIFETIME;
	clock_set_fixed(NOW);
	return 0;
}

static int
group_teardown(void **state)
{
	oidc_tenant_free(F.t.oidc);
	free(F.long_secret);
	free(F.max_secret);
	EVP_PKEY_free(F.rsa);
	EVP_PKEY_free(F.evil_rsa);
	EVP_PKEY_free(F.ec);
	EVP_PKEY_free(F.evil_ec);
	clock_set_fixed(0);
	return teardown(state);
}

/* ---- requests ---- */

/*
 * oidc_client_check on an Authorization header (or NULL) and a form body: the client_id
 * authenticated, or NULL with *why_r and *claimed_r (valid until the next call).
 */
static const char *
check(const char *hdr, const char *body, const char **why_r, const char **claimed_r)
{
	static char claimed_copy[256];
	struct form f = { 0 };
	const struct oidc_client *c = (const void *)1;
	const char *err = NULL, *why = NULL, *claimed = NULL, *id = NULL;
	int rc;

	if (form_parse(&f, body, strlen(body), &err) == -1)
		fail_msg("test form %s: %s", body, err);
	rc = oidc_client_check(&F.idp, &F.t, hdr, &f, &c, &claimed, &why);
	if (rc == 0) {
		assert_non_null(c);
		assert_null(why);
		id = c->client_id;
	} else {
		assert_int_equal(rc, -1);
		assert_null(c);
		assert_non_null(why);
	}
	if (why_r)
		*why_r = why;
	if (claimed_r && claimed)
		snprintf(claimed_copy, sizeof(claimed_copy), "%s", claimed);
	if (claimed_r)
		*claimed_r = claimed ? claimed_copy : NULL;
	form_free(&f);
	return id;
}

/* Fail unless hdr + body authenticate want (NULL: are refused, for reason if given). */
static void
expect(const char *name, const char *hdr, const char *body, const char *want,
    const char *reason)
{
	const char *why, *got = check(hdr, body, &why, NULL);

	if (want && (got == NULL || strcmp(got, want)))
		fail_msg("%s: refused (%s)", name, why);
	if (want == NULL && got)
		fail_msg("%s: accepted as %s", name, got);
	if (want == NULL && reason && strcmp(why, reason))
		fail_msg("%s: refused because \"%s\", not \"%s\"", name, why, reason);
}

/* "Basic " + base64(id ":" secret), both as given (the caller encodes or not). */
static char *
basic(const char *id, const char *secret)
{
	char *raw = xasprintf("%s:%s", id, secret);
	char *b64 = b64_encode(raw, strlen(raw)), *h = xasprintf("Basic %s", b64);

	free(raw);
	free(b64);
	return h;
}

/* ---- client_secret_basic ---- */

static void
test_oidc_client_auth_basic(void **state)
{
	/* RFC 6749 2.3.1: id "basic+:1" and the secret form-encoded before base64. */
	const struct {
		const char *name, *id, *secret, *body, *want, *reason;
	} cases[] = {
		{ "encoded id and secret", "basic%2B%3A1", "s3%2Bcr%2Ft%3D%3A%2520+x", "",
		    "basic+:1", NULL },
		{ "lower-case hex", "basic%2b%3a1", "s3%2bcr%2ft%3d%3a%2520%20x", "", "basic+:1",
		    NULL },
		{ "'/' '=' ':' left raw in the secret", "basic%2B%3A1", "s3%2Bcr/t=:%2520+x", "",
		    "basic+:1", NULL },
		{ "with the same client_id in the form", "basic%2B%3A1",
		    "s3%2Bcr%2Ft%3D%3A%2520+x", "client_id=basic%2B%3A1", "basic+:1", NULL },
		{ "secret raw: '+' is a space, %20 a space", "basic%2B%3A1", SECRET_B, "", NULL,
		    BAD_CREDS },
		{ "secret double-encoded", "basic%2B%3A1", "s3%252Bcr%252Ft%253D%253A%252520%2520x",
		    "", NULL, BAD_CREDS },
		{ "id raw: its '+' is a space", "basic+%3A1", "s3%2Bcr%2Ft%3D%3A%2520+x", "", NULL,
		    BAD_CREDS },
		{ "with another client_id in the form", "basic%2B%3A1",
		    "s3%2Bcr%2Ft%3D%3A%2520+x", "client_id=post", NULL, BAD_CREDS },
		{ "wrong secret", "basic%2B%3A1", "s3%2Bcr%2Ft%3D%3A%2520+y", "", NULL, BAD_CREDS },
		{ "secret with a character more", "basic%2B%3A1", "s3%2Bcr%2Ft%3D%3A%2520+xx", "",
		    NULL, BAD_CREDS },
		{ "empty secret", "basic%2B%3A1", "", "", NULL, BAD_CREDS },
		{ "unknown client", "nobody", "x", "", NULL, BAD_CREDS },
		{ "bad escape in the secret", "basic%2B%3A1", "%zz", "", NULL,
		    "malformed Basic credentials" },
		{ "escaped NUL in the id", "basic%00", "x", "", NULL,
		    "malformed Basic credentials" },
		{ "a client_secret_post client", "post", "p0st%2B%2F%3D", "", NULL, BAD_CREDS },
		{ "a public client", "public", "", "", NULL, BAD_CREDS },
		{ "a private_key_jwt client", "rs", "", "", NULL, BAD_CREDS },
		{ "512-byte secret", "max", F.max_secret, "", "max", NULL },
		{ "513-byte secret (over the cap)", "long", F.long_secret, "", NULL, BAD_CREDS },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		char *h = basic(cases[i].id, cases[i].secret);
		expect(cases[i].name, h, cases[i].body, cases[i].want, cases[i].reason);
		free(h);
	}
}

/* Headers that are not Basic credentials at all. */
static void
test_oidc_client_auth_basic_malformed(void **state)
{
	char *b_colonless = xasprintf("Basic %s", "YmFzaWM=");	/* "basic" */
	char *b_nul = xasprintf("Basic %s", "cHVibGljAHg6eA==");	/* "public\0x:x" */
	char *big = xcalloc(1, 2100), *b_big, *raw_big, *b64_big;
	const char *hdrs[] = { "Basic !!!!", "Basic ", "Basic", "Bearer cHVibGljOg==",
		"Basic cHVibGljOg", "Basic cHVib GljOg==", b_colonless, b_nul, NULL };
	const char *why, *claimed;

	memset(big, 'a', 2099);
	raw_big = xasprintf("%s:x", big);
	b64_big = b64_encode(raw_big, strlen(raw_big));
	b_big = xasprintf("Basic %s", b64_big);
	hdrs[NELEM(hdrs) - 1] = b_big;
	for (size_t i = 0; i < NELEM(hdrs); i++) {
		if (check(hdrs[i], "", &why, &claimed))
			fail_msg("\"%.40s\": accepted", hdrs[i]);
		assert_string_equal(why, "malformed Basic credentials");
		assert_null(claimed);
	}
	/* The scheme is case-insensitive; "public:" is the public client without secret. */
	expect("lower-case scheme", "basic YmFzaWMlMkIlM0ExOnMzJTJCY3IlMkZ0JTNEJTNBJTI1MjAreA==",
	    "", "basic+:1", NULL);
	free(b_colonless);
	free(b_nul);
	free(big);
	free(raw_big);
	free(b64_big);
	free(b_big);
}

/* ---- client_secret_post, public clients, the method registered ---- */

static void
test_oidc_client_auth_post_and_none(void **state)
{
	static const struct {
		const char *name, *body, *want, *reason;
	} cases[] = {
		{ "post", "client_id=post&client_secret=p0st%2B%2F%3D", "post", NULL },
		{ "post, '+' unencoded (a space)", "client_id=post&client_secret=p0st+/=", NULL,
		    BAD_CREDS },
		{ "post, wrong secret", "client_id=post&client_secret=p0st", NULL, BAD_CREDS },
		{ "post without client_id", "client_secret=p0st%2B%2F%3D", NULL, "unknown client" },
		{ "post, unknown client", "client_id=x&client_secret=p0st%2B%2F%3D", NULL,
		    "unknown client" },
		{ "post for a client_secret_basic client",
		    "client_id=basic%2B%3A1&client_secret=s3%2Bcr%2Ft%3D%3A%2520+x", NULL,
		    BAD_CREDS },
		{ "post for a public client", "client_id=public&client_secret=", NULL, BAD_CREDS },
		{ "public client by client_id", "client_id=public", "public", NULL },
		{ "basic client by client_id alone", "client_id=basic%2B%3A1", NULL,
		    "client authentication required" },
		{ "post client by client_id alone", "client_id=post", NULL,
		    "client authentication required" },
		{ "private_key_jwt client by client_id alone", "client_id=rs", NULL,
		    "client authentication required" },
		{ "nothing", "", NULL, "unknown client" },
	};

	for (size_t i = 0; i < NELEM(cases); i++)
		expect(cases[i].name, NULL, cases[i].body, cases[i].want, cases[i].reason);
}

/* The client claimed goes to the audit record: the registered one, or what was sent. */
static void
test_oidc_client_auth_claimed(void **state)
{
	const char *why, *claimed;
	char *h = basic("post", "p0st%2B%2F%3D");

	assert_null(check(h, "", &why, &claimed));
	assert_string_equal(claimed, "post");
	free(h);
	h = basic("nobody", "x");
	assert_null(check(h, "", &why, &claimed));
	assert_null(claimed);
	free(h);
	assert_null(check(NULL, "client_id=nobody", &why, &claimed));
	assert_string_equal(claimed, "nobody");
}

/* ---- private_key_jwt ---- */

/*
 * Claims of a valid assertion for client id at NOW, changed by set (a JSON object merged
 * in) and without the member drop; a fresh jti unless set gives one.
 */
static char *
claims(const char *id, const char *set, const char *drop)
{
	json_error_t je;
	char jti[32], *s;
	json_t *c;

	snprintf(jti, sizeof(jti), "jti-%d", ++F.jti);
	c = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "iss", id, "sub", id, "aud", TOKEN_EP,
	    "iat", (json_int_t)NOW, "exp", (json_int_t)NOW + 60, "jti", jti);

	if (set) {
		json_t *o = json_loads(set, 0, &je);
		if (o == NULL)
			fail_msg("test claims %s: %s", set, je.text);
		assert_int_equal(json_object_update(c, o), 0);
		json_decref(o);
	}
	if (drop)
		json_object_del(c, drop);
	s = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	return s;
}

/* The form of an assertion (and client_id unless NULL). */
static char *
assertion_form(const char *jwt, const char *id)
{
	return id ? xasprintf("client_assertion_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3A"
	    "client-assertion-type%%3Ajwt-bearer&client_assertion=%s&client_id=%s", jwt, id) :
	    xasprintf("client_assertion_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3A"
	    "client-assertion-type%%3Ajwt-bearer&client_assertion=%s", jwt);
}

struct jwt_case {
	const char *name;
	int client;		/* whose assertion (client_id, and iss/sub unless set) */
	const char *hdr;	/* NULL: {"alg":<the client's>} */
	EVP_PKEY **key;
	enum sig how;
	const char *set, *drop;
	int ok;
	const char *reason;	/* NULL: any */
};

static void
run_jwt_cases(const struct jwt_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct jwt_case *k = &cases[i];
		const char *id = F.clients[k->client].client_id;
		const char *alg = k->client == C_RS ? "{\"alg\":\"RS256\"}" : "{\"alg\":\"ES256\"}";
		char *cl = claims(id, k->set, k->drop);
		char *jwt = make_jws(k->hdr ? k->hdr : alg, cl, k->key ? *k->key : NULL, k->how);
		char *body = assertion_form(jwt, id);

		expect(k->name, NULL, body, k->ok ? id : NULL, k->reason);
		free(cl);
		free(jwt);
		free(body);
	}
}

#define RS(name, hdr, key, how, set, drop, ok, reason) \
	{ name, C_RS, hdr, key, how, set, drop, ok, reason }
/* Claims changed in an assertion the RS256 client signs correctly. */
#define CLAIMS(name, set, drop, ok, reason) \
	RS(name, NULL, &F.rsa, SIG_GOOD, set, drop, ok, reason)

static void
test_oidc_client_auth_jwt_alg(void **state)
{
	const struct jwt_case cases[] = {
		CLAIMS("RS256 by the client's key", NULL, NULL, 1, NULL),
		{ "ES256 by the client's key", C_ES, NULL, &F.ec, SIG_GOOD, NULL, NULL, 1, NULL },
		{ "mixed JWKS pinned to ES256: ES256", C_MIXED, NULL, &F.ec, SIG_GOOD, NULL, NULL,
		    1, NULL },
		{ "mixed JWKS pinned to ES256: RS256 by its own RSA key", C_MIXED,
		    "{\"alg\":\"RS256\"}", &F.rsa, SIG_GOOD, NULL, NULL, 0, NULL },
		RS("none", "{\"alg\":\"none\"}", NULL, SIG_EMPTY, NULL, NULL, 0, NULL),
		RS("None", "{\"alg\":\"None\"}", NULL, SIG_EMPTY, NULL, NULL, 0, NULL),
		RS("none, signed by the client", "{\"alg\":\"none\"}", &F.rsa, SIG_GOOD, NULL, NULL,
		    0, NULL),
		RS("RS256 with an empty signature", NULL, &F.rsa, SIG_EMPTY, NULL, NULL, 0, NULL),
		RS("HS256 keyed with the client's public key", "{\"alg\":\"HS256\"}", &F.rsa,
		    SIG_HMAC, NULL, NULL, 0, NULL),
		RS("ES256 by another key (client pinned to RS256)", "{\"alg\":\"ES256\"}",
		    &F.evil_ec, SIG_GOOD, NULL, NULL, 0, NULL),
		{ "RS256 by another key (client pinned to ES256)", C_ES, "{\"alg\":\"RS256\"}",
		    &F.evil_rsa, SIG_GOOD, NULL, NULL, 0, NULL },
		RS("RS256 by another RSA key", NULL, &F.evil_rsa, SIG_GOOD, NULL, NULL, 0, NULL),
		RS("one bit flipped", NULL, &F.rsa, SIG_FLIP, NULL, NULL, 0, NULL),
		{ "ES256 r = s = 0", C_ES, NULL, &F.ec, SIG_RS0, NULL, NULL, 0, NULL },
	};

	run_jwt_cases(cases, NELEM(cases));
}

/* Keys in the header are never trusted: an attacker's key there verifies nothing. */
static void
test_oidc_client_auth_jwt_header_keys(void **state)
{
	char *evil = jwk_json(F.evil_rsa, ""), *own = jwk_json(F.rsa, "");
	char *h_evil = xasprintf("{\"alg\":\"RS256\",\"jwk\":%s}", evil);
	char *h_own = xasprintf("{\"alg\":\"RS256\",\"jwk\":%s}", own);
	const struct jwt_case cases[] = {
		RS("jwk of the signer (an attacker)", h_evil, &F.evil_rsa, SIG_GOOD, NULL, NULL, 0,
		    NULL),
		RS("jku to the attacker's keys", "{\"alg\":\"RS256\",\"jku\":\"https://evil/k\"}",
		    &F.evil_rsa, SIG_GOOD, NULL, NULL, 0, NULL),
		RS("x5u to the attacker's certificate",
		    "{\"alg\":\"RS256\",\"x5u\":\"https://evil/c\"}", &F.evil_rsa, SIG_GOOD, NULL,
		    NULL, 0, NULL),
		RS("x5c of the attacker", "{\"alg\":\"RS256\",\"x5c\":[\"MIIB\"]}", &F.evil_rsa,
		    SIG_GOOD, NULL, NULL, 0, NULL),
		/* Refused even when the client signs: a header bringing keys is not read. */
		RS("jwk of the client, signed by it", h_own, &F.rsa, SIG_GOOD, NULL, NULL, 0,
		    NULL),
	};

	run_jwt_cases(cases, NELEM(cases));
	free(evil);
	free(own);
	free(h_evil);
	free(h_own);
}

static void
test_oidc_client_auth_jwt_iss_sub(void **state)
{
	const struct jwt_case cases[] = {
		CLAIMS("iss of another client", "{\"iss\":\"es\"}", NULL, 0,
		    BAD_CLAIMS),
		CLAIMS("sub of another client", "{\"sub\":\"es\"}", NULL, 0,
		    BAD_CLAIMS),
		CLAIMS("iss and sub of another client",
		    "{\"iss\":\"es\",\"sub\":\"es\"}", NULL, 0, BAD_CLAIMS),
		CLAIMS("iss missing", NULL, "iss", 0, BAD_CLAIMS),
		CLAIMS("sub missing", NULL, "sub", 0, BAD_CLAIMS),
		CLAIMS("iss not a string", "{\"iss\":[\"rs\"]}", NULL, 0,
		    BAD_CLAIMS),
		CLAIMS("sub with a different case", "{\"sub\":\"RS\"}", NULL, 0,
		    BAD_CLAIMS),
	};

	run_jwt_cases(cases, NELEM(cases));
}

/* Without client_id the client is the sub, which must then also verify and match. */
static void
test_oidc_client_auth_jwt_no_client_id(void **state)
{
	char *cl = claims("rs", NULL, NULL), *cl_es = claims("rs", "{\"sub\":\"es\"}", NULL);
	char *cl_iss = claims("es", "{\"sub\":\"rs\"}", NULL);
	char *good = make_jws("{\"alg\":\"RS256\"}", cl, F.rsa, SIG_GOOD);
	char *other = make_jws("{\"alg\":\"RS256\"}", cl_es, F.rsa, SIG_GOOD);
	char *iss = make_jws("{\"alg\":\"RS256\"}", cl_iss, F.rsa, SIG_GOOD);
	char *b_good = assertion_form(good, NULL), *b_other = assertion_form(other, NULL);
	char *b_iss = assertion_form(iss, NULL), *b_es = assertion_form(good, "es");

	expect("sub picks the client", NULL, b_good, "rs", NULL);
	expect("sub of another client, signed by this one", NULL, b_other, NULL, NULL);
	expect("iss of another client", NULL, b_iss, NULL, BAD_CLAIMS);
	expect("client_id of another client", NULL, b_es, NULL, NULL);
	free(cl);
	free(cl_es);
	free(cl_iss);
	free(good);
	free(other);
	free(iss);
	free(b_good);
	free(b_other);
	free(b_iss);
	free(b_es);
}

/* aud names this server and nobody else: the token endpoint or the issuer. */
#define AUD(name, json, ok) CLAIMS(name, "{\"aud\":" json "}", NULL, ok, (ok) ? NULL : BAD_AUD)
#define OTHER "\"https://rp.example/token\""
#define Q(s) "\"" s "\""

static void
test_oidc_client_auth_jwt_aud(void **state)
{
	const struct jwt_case cases[] = {
		AUD("aud the token endpoint", Q(TOKEN_EP), 1),
		AUD("aud the issuer", Q(ISSUER), 1),
		AUD("aud [token endpoint]", "[" Q(TOKEN_EP) "]", 1),
		AUD("aud [issuer, token endpoint]", "[" Q(ISSUER) "," Q(TOKEN_EP) "]", 1),
		AUD("aud another server", OTHER, 0),
		AUD("aud our userinfo endpoint", Q(ISSUER "/oidc/userinfo"), 0),
		AUD("aud the issuer with a trailing slash", Q(ISSUER "/"), 0),
		AUD("aud the token endpoint in upper case",
		    Q("HTTPS://IDP.EXAMPLE/t/" T "/oidc/token"), 0),
		CLAIMS("aud missing", NULL, "aud", 0, BAD_AUD),
		AUD("aud null", "null", 0),
		AUD("aud empty", "\"\"", 0),
		AUD("aud [another server]", "[" OTHER "]", 0),
		AUD("aud [token endpoint, another server]", "[" Q(TOKEN_EP) "," OTHER "]", 0),
		AUD("aud [another server, issuer]", "[" OTHER "," Q(ISSUER) "]", 0),
		AUD("aud []", "[]", 0),
		AUD("aud [token endpoint, 1]", "[" Q(TOKEN_EP) ",1]", 0),
		AUD("aud [null]", "[null]", 0),
		AUD("aud [[token endpoint]]", "[[" Q(TOKEN_EP) "]]", 0),
		AUD("aud a number", "1", 0),
		AUD("aud true", "true", 0),
		AUD("aud an object", "{\"aud\":" Q(TOKEN_EP) "}", 0),
	};

	run_jwt_cases(cases, NELEM(cases));
}

/* exp, nbf and iat against the injected clock, with 60 s of skew either way. */
static void
test_oidc_client_auth_jwt_times(void **state)
{
	char *exp_past = xasprintf("{\"exp\":%lld}", (long long)NOW - SKEW);
	char *exp_expired = xasprintf("{\"exp\":%lld}", (long long)NOW - SKEW - 1);
	char *exp_max = xasprintf("{\"exp\":%lld}", (long long)NOW + MAX_LIFETIME);
	char *exp_long = xasprintf("{\"exp\":%lld}", (long long)NOW + MAX_LIFETIME + 1);
	char *exp_real = xasprintf("{\"exp\":%lld.5}", (long long)NOW + 60);
	char *exp_str = xasprintf("{\"exp\":\"%lld\"}", (long long)NOW + 60);
	char *iat_skew = xasprintf("{\"iat\":%lld}", (long long)NOW + SKEW);
	char *iat_future = xasprintf("{\"iat\":%lld}", (long long)NOW + SKEW + 1);
	char *nbf_skew = xasprintf("{\"nbf\":%lld}", (long long)NOW + SKEW);
	char *nbf_future = xasprintf("{\"nbf\":%lld}", (long long)NOW + SKEW + 1);
	char *iat_str = xasprintf("{\"iat\":\"%lld\"}", (long long)NOW);
	char *nbf_str = xasprintf("{\"nbf\":\"%lld\"}", (long long)NOW);
	const char *expired = "assertion expired or without exp";
	const char *early = "assertion not yet valid";
	const struct jwt_case cases[] = {
		CLAIMS("exp 60 s past (the skew)", exp_past, NULL, 1, NULL),
		CLAIMS("exp 61 s past", exp_expired, NULL, 0, expired),
		CLAIMS("exp missing", NULL, "exp", 0, expired),
		CLAIMS("exp a string", exp_str, NULL, 0, expired),
		CLAIMS("exp a fraction", exp_real, NULL, 0, expired),
		CLAIMS("exp at the longest lifetime", exp_max, NULL, 1, NULL),
		CLAIMS("exp a second later", exp_long, NULL, 0,
		    "assertion valid for too long"),
		CLAIMS("iat missing", NULL, "iat", 1, NULL),
		CLAIMS("iat 60 s ahead", iat_skew, NULL, 1, NULL),
		CLAIMS("iat 61 s ahead", iat_future, NULL, 0, early),
		CLAIMS("iat a string", iat_str, NULL, 0, early),
		CLAIMS("nbf 60 s ahead", nbf_skew, NULL, 1, NULL),
		CLAIMS("nbf 61 s ahead", nbf_future, NULL, 0, early),
		CLAIMS("nbf a string", nbf_str, NULL, 0, early),
	};
	char *later[] = { exp_past, exp_expired, exp_max, exp_long, exp_real, exp_str, iat_skew,
		iat_future, nbf_skew, nbf_future, iat_str, nbf_str };

	run_jwt_cases(cases, NELEM(cases));
	for (size_t i = 0; i < NELEM(later); i++)
		free(later[i]);
}

/* The same assertion judged as the clock moves: valid, then expired past the skew. */
static void
test_oidc_client_auth_jwt_clock(void **state)
{
	char *cl1 = claims("rs", NULL, NULL), *cl2 = claims("rs", NULL, NULL);
	char *j1 = make_jws("{\"alg\":\"RS256\"}", cl1, F.rsa, SIG_GOOD);
	char *j2 = make_jws("{\"alg\":\"RS256\"}", cl2, F.rsa, SIG_GOOD);
	char *b1 = assertion_form(j1, "rs"), *b2 = assertion_form(j2, "rs");

	/* exp is NOW + 60: fine until NOW + 120, refused a second later. */
	clock_set_fixed(NOW + 60 + SKEW);
	expect("at exp + skew", NULL, b1, "rs", NULL);
	clock_set_fixed(NOW + 60 + SKEW + 1);
	expect("a second after exp + skew", NULL, b2, NULL, "assertion expired or without exp");
	clock_set_fixed(NOW);
	free(cl1);
	free(cl2);
	free(j1);
	free(j2);
	free(b1);
	free(b2);
}

static void
test_oidc_client_auth_jwt_jti(void **state)
{
	char *long_jti = xcalloc(1, 300), *set256, *set257;

	memset(long_jti, 'j', 256);
	set256 = xasprintf("{\"jti\":\"%s\"}", long_jti);
	long_jti[256] = 'j';
	set257 = xasprintf("{\"jti\":\"%s\"}", long_jti);
	const struct jwt_case cases[] = {
		CLAIMS("jti missing", NULL, "jti", 0,
		    "assertion without a usable jti"),
		CLAIMS("jti empty", "{\"jti\":\"\"}", NULL, 0,
		    "assertion without a usable jti"),
		CLAIMS("jti a number", "{\"jti\":12345}", NULL, 0,
		    "assertion without a usable jti"),
		CLAIMS("jti 256 bytes", set256, NULL, 1, NULL),
		CLAIMS("jti 257 bytes", set257, NULL, 0,
		    "assertion without a usable jti"),
	};

	run_jwt_cases(cases, NELEM(cases));
	free(long_jti);
	free(set256);
	free(set257);
}

/* One use per jti and client, also after the store is closed and opened again. */
static void
test_oidc_client_auth_jwt_replay(void **state)
{
	char *cl = claims("rs", "{\"jti\":\"once\"}", NULL);
	char *cl2 = claims("rs", "{\"jti\":\"once\",\"exp\":1700000100}", NULL);
	char *cl_es = claims("es", "{\"jti\":\"once\"}", NULL);
	char *j = make_jws("{\"alg\":\"RS256\"}", cl, F.rsa, SIG_GOOD);
	char *j2 = make_jws("{\"alg\":\"RS256\"}", cl2, F.rsa, SIG_GOOD);
	char *j_es = make_jws("{\"alg\":\"ES256\"}", cl_es, F.ec, SIG_GOOD);
	char *b = assertion_form(j, "rs"), *b2 = assertion_form(j2, "rs");
	char *b_es = assertion_form(j_es, "es");

	expect("first use", NULL, b, "rs", NULL);
	expect("the same assertion again", NULL, b, NULL, REPLAYED);
	expect("a new assertion with the used jti", NULL, b2, NULL, REPLAYED);
	expect("the same jti from another client", NULL, b_es, "es", NULL);
	fx_reopen(F.fx);
	F.idp.in.store = F.fx->st;
	expect("again after the store is reopened", NULL, b, NULL, REPLAYED);
	free(cl);
	free(cl2);
	free(cl_es);
	free(j);
	free(j2);
	free(j_es);
	free(b);
	free(b2);
	free(b_es);
}

/* Only a private_key_jwt client with keys, only the jwt-bearer type. */
static void
test_oidc_client_auth_jwt_method(void **state)
{
	char *cl = claims("basic-jwks", NULL, NULL), *cl_rs = claims("rs", NULL, NULL);
	char *j = make_jws("{\"alg\":\"RS256\"}", cl, F.rsa, SIG_GOOD);
	char *j_rs = make_jws("{\"alg\":\"RS256\"}", cl_rs, F.rsa, SIG_GOOD);
	char *b = assertion_form(j, "basic-jwks");
	char *saml = xasprintf("client_assertion_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3A"
	    "client-assertion-type%%3Asaml2-bearer&client_assertion=%s&client_id=rs", j_rs);
	char *no_jwt = xstrdup("client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3A"
	    "client-assertion-type%3Ajwt-bearer&client_id=rs");

	expect("a client_secret_basic client with a JWKS", NULL, b, NULL,
	    "client not registered for private_key_jwt");
	expect("saml2-bearer type", NULL, saml, NULL, "unsupported client_assertion_type");
	expect("jwt-bearer type without an assertion", NULL, no_jwt, NULL,
	    "unsupported client_assertion_type");
	expect("unknown client", NULL, "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3A"
	    "client-assertion-type%3Ajwt-bearer&client_assertion=a.b.c&client_id=x", NULL,
	    "unknown client");
	free(cl);
	free(cl_rs);
	free(j);
	free(j_rs);
	free(b);
	free(saml);
	free(no_jwt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oidc_client_auth_basic),
		cmocka_unit_test(test_oidc_client_auth_basic_malformed),
		cmocka_unit_test(test_oidc_client_auth_post_and_none),
		cmocka_unit_test(test_oidc_client_auth_claimed),
		cmocka_unit_test(test_oidc_client_auth_jwt_alg),
		cmocka_unit_test(test_oidc_client_auth_jwt_header_keys),
		cmocka_unit_test(test_oidc_client_auth_jwt_iss_sub),
		cmocka_unit_test(test_oidc_client_auth_jwt_no_client_id),
		cmocka_unit_test(test_oidc_client_auth_jwt_aud),
		cmocka_unit_test(test_oidc_client_auth_jwt_times),
		cmocka_unit_test(test_oidc_client_auth_jwt_clock),
		cmocka_unit_test(test_oidc_client_auth_jwt_jti),
		cmocka_unit_test(test_oidc_client_auth_jwt_replay),
		cmocka_unit_test(test_oidc_client_auth_jwt_method),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
