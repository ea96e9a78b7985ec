/*
 * Client authentication at the token, introspection and revocation endpoints:
 * client_secret_basic (id and secret URL-decoded after base64, RFC 6749 2.3.1),
 * client_secret_post, private_key_jwt (RFC 7523: algorithm pinned per client, keys from
 * its registered JWKS only, aud, exp, one use per jti also across restarts) and public
 * clients.  A client must use the method it was registered with.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "clock.h"
#include "crypto.h"
#include "encode.h"
#include "log.h"
#include "oidc.h"
#include "oidc_client_auth.h"
#include "xmalloc.h"

#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define SECRET_MAX 512
#define CLOCK_SKEW 60

/* Refused: who claimed to be calling (borrowed, may be NULL) and why (static). */
static int
fail(const char **client_r, const char **why_r, const char *client, const char *why)
{
	*client_r = client;
	*why_r = why;
	return -1;
}

static int
secret_ok(const struct oidc_client *c, const char *secret)
{
	unsigned char h[CRYPTO_SHA256_LEN];
	char hex[65];

	if (c->secret_hash == NULL || secret == NULL || strlen(secret) > SECRET_MAX)
		return 0;
	crypto_sha256(secret, strlen(secret), h);
	hex_encode(h, sizeof(h), hex);
	return crypto_streq(hex, c->secret_hash);
}

/* Authorization: Basic base64(urlencode(id) ":" urlencode(secret)). */
static int
basic(const char *hdr, char **id_r, char **secret_r)
{
	unsigned char *raw;
	size_t n;
	char *colon;
	int rc = -1;

	*id_r = *secret_r = NULL;
	if (strncasecmp(hdr, "Basic ", 6) != 0)
		return -1;
	if ((raw = b64_decode(hdr + 6, strlen(hdr + 6), 0, 2048, &n)) == NULL)
		return -1;
	if ((colon = memchr(raw, ':', n)) != NULL && memchr(raw, '\0', n) == NULL) {
		*id_r = url_decode((char *)raw, (size_t)(colon - (char *)raw), 1, NULL);
		*secret_r = url_decode(colon + 1, n - (size_t)(colon + 1 - (char *)raw), 1, NULL);
		rc = *id_r && *secret_r ? 0 : -1;
	}
	freezero(raw, n);
	if (rc == -1) {
		free(*id_r);
		freezero_str(*secret_r);
		*id_r = *secret_r = NULL;
	}
	return rc;
}

static int
aud_is_us(json_t *v, const char *token_endpoint, const char *issuer)
{
	return json_is_string(v) && (!strcmp(json_string_value(v), token_endpoint) ||
	    !strcmp(json_string_value(v), issuer));
}

/*
 * aud must name this server (RFC 7523 3, OIDC Core 9): our token endpoint or issuer, as a
 * string or as an array that names nobody else.  An assertion also addressed to another
 * server is refused: that server holds a copy it could present here first (the audience
 * problem draft-ietf-oauth-rfc7523bis fixes by allowing only the issuer, as a string).
 */
static int
aud_ok(json_t *aud, const char *token_endpoint, const char *issuer)
{
	size_t i;
	json_t *v;

	if (json_is_string(aud))
		return aud_is_us(aud, token_endpoint, issuer);
	if (!json_is_array(aud) || json_array_size(aud) == 0)
		return 0;
	json_array_foreach(aud, i, v)
		if (!aud_is_us(v, token_endpoint, issuer))
			return 0;
	return 1;
}

/* The client assertion's claims: iss = sub = client, aud, exp, iat/nbf, jti once. */
static const char *
check_claims(struct idp *idp, struct tenant_ctx *t, const struct oidc_client *c, json_t *cl)
{
	const char *iss = json_string_value(json_object_get(cl, "iss"));
	const char *sub = json_string_value(json_object_get(cl, "sub"));
	const char *jti = json_string_value(json_object_get(cl, "jti"));
	json_t *exp = json_object_get(cl, "exp"), *iat = json_object_get(cl, "iat");
	json_t *nbf = json_object_get(cl, "nbf");
	char *token_ep = xasprintf("%s/oidc/token", t->base), *key;
	int64_t now = clock_now(), e;
	const char *why = NULL;
	int rc;

	if (!iss || !sub || strcmp(iss, c->client_id) || strcmp(sub, c->client_id))
		why = "iss and sub must be the client_id";
	else if (!aud_ok(json_object_get(cl, "aud"), token_ep, t->base))
		why = "aud does not name this server alone";
	else if (!json_is_integer(exp) || (e = json_integer_value(exp)) < now - CLOCK_SKEW)
		why = "assertion expired or without exp";
	else if (e > now + idp->in.settings.oidc_assertion_max_lifetime)
		why = "assertion valid for too long";
	else if ((iat && (!json_is_integer(iat) || json_integer_value(iat) > now + CLOCK_SKEW)) ||
	    (nbf && (!json_is_integer(nbf) || json_integer_value(nbf) > now + CLOCK_SKEW)))
		why = "assertion not yet valid";
	else if (jti == NULL || *jti == '\0' || strlen(jti) > 256)
		why = "assertion without a usable jti";
	free(token_ep);
	if (why)
		return why;
	key = xasprintf("%s|%s", c->client_id, jti);
	rc = store_replay_check(idp->in.store, t->id, "jti", key, e + CLOCK_SKEW);
	free(key);
	return rc == 0 ? NULL : rc == 1 ? "jti replayed" : "storage error";
}

static int
assertion(struct idp *idp, struct tenant_ctx *t, const struct form *f,
    const struct oidc_client **c_r, const char **client_r, const char **why_r)
{
	const char *jwt = form_get(f, "client_assertion"), *id = form_get(f, "client_id");
	const char *why;
	const struct oidc_client *c;
	json_t *claims;

	if (strcmp(form_get(f, "client_assertion_type"), ASSERTION_TYPE) || jwt == NULL)
		return fail(client_r, why_r, id, "unsupported client_assertion_type");
	if (id == NULL) {
		/* Which client: its sub, read before verifying, used only to pick its keys. */
		const char *dot = strchr(jwt, '.'), *dot2 = dot ? strchr(dot + 1, '.') : NULL;
		unsigned char *raw;
		size_t n;
		json_error_t je;
		json_t *j = NULL;
		if (dot2 && (raw = b64url_decode(dot + 1, (size_t)(dot2 - dot - 1), 16384, &n))) {
			j = json_loadb((char *)raw, n, JSON_REJECT_DUPLICATES, &je);
			free(raw);
		}
		c = oidc_client_find(t->oidc, json_string_value(json_object_get(j, "sub")));
		json_decref(j);
	} else {
		c = oidc_client_find(t->oidc, id);
	}
	if (c == NULL)
		return fail(client_r, why_r, id, "unknown client");
	if (strcmp(c->auth_method, "private_key_jwt") || c->jwks == NULL)
		return fail(client_r, why_r, c->client_id,
		    "client not registered for private_key_jwt");
	claims = jose_verify(c->jwks, c->assertion_alg ? c->assertion_alg : jose_jwks_alg(c->jwks),
	    jwt, &why);
	if (claims == NULL)
		return fail(client_r, why_r, c->client_id, why);
	why = check_claims(idp, t, c, claims);
	json_decref(claims);
	if (why)
		return fail(client_r, why_r, c->client_id, why);
	*c_r = c;
	return 0;
}

int
oidc_client_check(struct idp *idp, struct tenant_ctx *t, const char *hdr, const struct form *f,
    const struct oidc_client **c_r, const char **client_r, const char **why_r)
{
	const char *id = form_get(f, "client_id"), *post_secret = form_get(f, "client_secret");
	const struct oidc_client *c;
	char *bid, *bsecret;
	int ok;

	*c_r = NULL;
	*client_r = *why_r = NULL;
	if (form_get(f, "client_assertion_type"))
		return assertion(idp, t, f, c_r, client_r, why_r);
	if (hdr) {
		if (basic(hdr, &bid, &bsecret) == -1)
			return fail(client_r, why_r, NULL, "malformed Basic credentials");
		c = oidc_client_find(t->oidc, bid);
		ok = c && !strcmp(c->auth_method, "client_secret_basic") && secret_ok(c, bsecret) &&
		    (id == NULL || !strcmp(id, bid));
		free(bid);
		freezero_str(bsecret);
		if (!ok)
			return fail(client_r, why_r, c ? c->client_id : NULL,
			    "bad client credentials");
		*c_r = c;
		return 0;
	}
	c = oidc_client_find(t->oidc, id);
	if (c == NULL)
		return fail(client_r, why_r, id, "unknown client");
	if (post_secret) {
		if (strcmp(c->auth_method, "client_secret_post") || !secret_ok(c, post_secret))
			return fail(client_r, why_r, c->client_id, "bad client credentials");
	} else if (strcmp(c->auth_method, "none")) {
		return fail(client_r, why_r, c->client_id, "client authentication required");
	}
	*c_r = c;
	return 0;
}

int
oidc_client_auth(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct form *f, const struct oidc_client **c_r)
{
	const char *hdr = http_header(req, "Authorization"), *client, *why;

	*c_r = NULL;
	if ((hdr != NULL) + (form_get(f, "client_secret") != NULL) +
	    (form_get(f, "client_assertion") != NULL ||
	    form_get(f, "client_assertion_type") != NULL) > 1) {
		audit_event(idp->in.store, t->id, "oidc.client_auth.fail", "client",
		    form_get(f, "client_id"), "ip", http_client_ip(req), "reason",
		    "more than one client authentication", NULL);
		oidc_error(req, 400, "invalid_request", "more than one client authentication");
		return -1;
	}
	if (oidc_client_check(idp, t, hdr, f, c_r, &client, &why) == 0)
		return 0;
	audit_event(idp->in.store, t->id, "oidc.client_auth.fail", "client", client, "ip",
	    http_client_ip(req), "reason", why, NULL);
	oidc_error(req, 401, "invalid_client", NULL);
	return -1;
}
