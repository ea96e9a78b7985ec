/*
 * The token endpoint: authorization_code (PKCE S256, one use: a second redemption revokes
 * the grant), refresh_token (rotated on every use; a replayed token revokes the grant)
 * and client_credentials.  ID tokens RS256 or ES256 per client; access tokens JWT
 * (RFC 9068) or opaque per client.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "crypto.h"
#include "encode.h"
#include "log.h"
#include "oidc.h"
#include "oidc_client_auth.h"
#include "oidc_token.h"
#include "xmalloc.h"

static int
has_scope(const char *scope, const char *want)
{
	size_t n = strlen(want);

	for (const char *p = scope; p && *p; p += strspn(p, " ")) {
		size_t len = strcspn(p, " ");
		if (len == n && !strncmp(p, want, n))
			return 1;
		p += len;
	}
	return 0;
}

static json_t *
amr_array(const char *amr)
{
	json_t *a = json_array();

	for (const char *p = amr; p && *p; p += strspn(p, " ")) {
		size_t len = strcspn(p, " ");
		char *v = xstrndup(p, len);
		json_array_append_new(a, json_string(v));
		free(v);
		p += len;
	}
	return a;
}

void
oidc_user_claims(struct idp *idp, struct tenant_ctx *t, json_t *claims, const char *scope,
    const struct user *u)
{
	if (has_scope(scope, "profile")) {
		json_object_set_new(claims, "name",
		    json_string(u->display_name ? u->display_name : u->name));
		json_object_set_new(claims, "preferred_username", json_string(u->name));
	}
	if (has_scope(scope, "email") && u->email) {
		json_object_set_new(claims, "email", json_string(u->email));
		/* Addresses are set by administrators, not claimed by users. */
		json_object_set_new(claims, "email_verified", json_true());
	}
	if (has_scope(scope, "groups")) {
		char **groups = NULL;
		json_t *a = json_array();
		store_user_groups(idp->in.store, t->id, u->id, &groups);
		for (char **g = groups; g && *g; g++)
			json_array_append_new(a, json_string(*g));
		store_strv_free(groups);
		json_object_set_new(claims, "groups", a);
	}
}

/* The tokens of one answer, minted before the commit that records them. */
struct minted {
	char *access;
	char *access_key;	/* what the store keys the access token by: jti or the token */
	struct oidc_access rec;
	char *id_token;
	char *refresh;
};

static void
minted_clear(struct minted *m)
{
	if (m->access_key != m->access)
		free(m->access_key);
	freezero_str(m->access);
	freezero_str(m->id_token);
	freezero_str(m->refresh);
	memset(m, 0, sizeof(*m));
}

/* An access token: a JWT (RFC 9068) or a random string; its record goes with the commit. */
static int
mint_access(struct tenant_ctx *t, const struct settings *s, const struct oidc_client *c,
    const struct grant_info *g, int64_t now, struct minted *m)
{
	m->rec.family = (char *)g->family;
	m->rec.client_id = (char *)c->client_id;
	m->rec.user = (char *)g->user_id;
	m->rec.scope = (char *)g->scope;
	m->rec.expires = (uint64_t)(now + s->oidc_access_token_lifetime);
	if (c->opaque_access) {
		m->access = m->access_key = crypto_random_token(32);
		return 0;
	}
	m->access_key = crypto_random_token(24);
	json_t *cl = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "iss", t->base,
	    "sub", g->sub, "aud", c->client_id, "client_id", c->client_id,
	    "iat", (json_int_t)now, "exp", (json_int_t)m->rec.expires, "jti", m->access_key,
	    "scope", g->scope);
	if (g->auth_time) {
		json_object_set_new(cl, "auth_time", json_integer((json_int_t)g->auth_time));
		json_object_set_new(cl, "acr", json_string(g->acr));
		json_object_set_new(cl, "amr", amr_array(g->amr));
	}
	m->access = jose_sign(oidc_signing_key(t->oidc, c->id_token_alg), "at+jwt", cl);
	json_decref(cl);
	return m->access ? 0 : -1;
}

static char *
mint_id_token(struct idp *idp, struct tenant_ctx *t, const struct oidc_client *c,
    const struct grant_info *g, const struct user *u, const char *nonce, int64_t now)
{
	json_t *cl = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:o}", "iss", t->base,
	    "sub", g->sub, "aud", c->client_id, "iat", (json_int_t)now,
	    "exp", (json_int_t)(now + idp->in.settings.oidc_id_token_lifetime),
	    "auth_time", (json_int_t)g->auth_time, "acr", g->acr, "amr", amr_array(g->amr));
	char *tok;

	if (nonce)
		json_object_set_new(cl, "nonce", json_string(nonce));
	if (g->sid)
		json_object_set_new(cl, "sid", json_string(g->sid));
	if (g->device)
		json_object_set_new(cl, "device_serial", json_string(g->device));
	oidc_user_claims(idp, t, cl, g->scope, u);
	tok = jose_sign(oidc_signing_key(t->oidc, c->id_token_alg), "JWT", cl);
	json_decref(cl);
	return tok;
}

/* Everything for a user grant: access token, ID token (openid), refresh token (family). */
static int
mint(struct idp *idp, struct tenant_ctx *t, const struct oidc_client *c,
    const struct grant_info *g, const struct user *u, const char *nonce, int64_t now,
    struct minted *m)
{
	if (mint_access(t, &idp->in.settings, c, g, now, m) == -1)
		return -1;
	if (has_scope(g->scope, "openid") &&
	    (m->id_token = mint_id_token(idp, t, c, g, u, nonce, now)) == NULL)
		return -1;
	if (g->family && c->grant_refresh)
		m->refresh = crypto_random_token(32);
	return 0;
}

static void
send_tokens(struct http_req *req, const struct minted *m, const char *scope, int64_t lifetime)
{
	json_t *body = json_pack("{s:s, s:s, s:I, s:s}", "access_token", m->access,
	    "token_type", "Bearer", "expires_in", (json_int_t)lifetime, "scope", scope);

	if (m->id_token)
		json_object_set_new(body, "id_token", json_string(m->id_token));
	if (m->refresh)
		json_object_set_new(body, "refresh_token", json_string(m->refresh));
	oidc_json(req, 200, body);
}

/* The user behind a grant, if still allowed in: 1, 0, -1. */
static int
grant_user(struct idp *idp, struct tenant_ctx *t, const char *id, struct user *u)
{
	int rc = id ? store_user_get_by_id(idp->in.store, t->id, id, u) : 0;

	if (rc == 1 && u->disabled) {
		store_user_clear(u);
		return 0;
	}
	return rc;
}

/* S256(code_verifier), after checking its form (RFC 7636 4.1). */
static char *
s256(const char *verifier)
{
	unsigned char h[CRYPTO_SHA256_LEN];
	size_t n = strlen(verifier);

	if (n < 43 || n > 128 || strspn(verifier, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
	    "tuvwxyz0123456789-._~") != n)
		return NULL;
	crypto_sha256(verifier, n, h);
	return b64url_encode(h, sizeof(h));
}

static void
code_refused(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct oidc_client *c, int rc)
{
	audit_event(idp->in.store, t->id, rc == 2 ? "oidc.code.reuse" : "oidc.token.reject",
	    "client", c->client_id, "ip", http_client_ip(req), "reason", rc == 2 ?
	    "code used twice: grant revoked" : rc == 3 ? "client, redirect_uri or PKCE mismatch" :
	    rc == 4 ? "the session or the user ended" : "unknown or expired code", NULL);
	oidc_error(req, rc < 0 ? 500 : 400, rc < 0 ? "server_error" : "invalid_grant", NULL);
}

static void
grant_code(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct oidc_client *c, const struct form *f)
{
	const struct settings *s = &idp->in.settings;
	const char *code = form_get(f, "code"), *verifier = form_get(f, "code_verifier");
	struct oidc_redeem r = { 0 };
	struct oidc_issue iss = { 0 };
	struct oidc_code oc, peek;
	struct grant_info g;
	struct minted m = { 0 };
	struct audit_entry ae;
	struct user u = { 0 };
	char *challenge = NULL, *family = NULL, *sub = NULL;
	int64_t now = clock_now();
	int rc;

	memset(&oc, 0, sizeof(oc));
	if (code == NULL || strlen(code) > 128) {
		oidc_error(req, 400, "invalid_request", "code missing");
		return;
	}
	if (verifier && (challenge = s256(verifier)) == NULL) {
		oidc_error(req, 400, "invalid_grant", "malformed code_verifier");
		return;
	}
	r = (struct oidc_redeem){ c->client_id, form_get(f, "redirect_uri"), challenge, NULL, 0 };
	/* Tokens are minted from the code's record first, then recorded with its redemption. */
	if ((rc = store_code_get(idp->in.store, t->id, code, &peek)) != 1 || peek.used) {
		rc = rc < 0 ? -1 : store_code_redeem(idp->in.store, t->id, code, now, &r, NULL, &oc);
		code_refused(idp, t, req, c, rc == 1 ? 0 : rc);
		goto done;
	}
	if (grant_user(idp, t, peek.user, &u) != 1 || (sub = xstrdup(u.id)) == NULL) {
		code_refused(idp, t, req, c, 4);
		goto done;
	}
	/* Always a grant, also without refresh tokens: reuse, logout and password changes
	   revoke access tokens through it. */
	family = crypto_random_token(16);
	g = (struct grant_info){ .family = family, .user_id = peek.user, .sub = sub,
		.scope = peek.scope, .sid = peek.sid, .amr = peek.amr, .acr = peek.acr,
		.device = peek.device, .auth_time = peek.auth_time };
	if (mint(idp, t, c, &g, &u, peek.nonce, now, &m) == -1) {
		oidc_error(req, 500, "server_error", NULL);
		goto done;
	}
	r.family_id = family;
	r.family_expires = now + s->oidc_refresh_token_lifetime;
	audit_entry_make(&ae, "oidc.token", "user", u.name, "client", c->client_id, "grant",
	    family, NULL);
	iss = (struct oidc_issue){ m.refresh, r.family_expires, m.access_key, &m.rec, &ae };
	if ((rc = store_code_redeem(idp->in.store, t->id, code, now, &r, &iss, &oc)) != 1) {
		code_refused(idp, t, req, c, rc);
		goto done;
	}
	audit_entry_log(&ae, t->id);
	send_tokens(req, &m, g.scope, s->oidc_access_token_lifetime);
done:
	store_code_clear(&peek);
	store_code_clear(&oc);
	store_user_clear(&u);
	minted_clear(&m);
	free(challenge);
	free(family);
	free(sub);
}

/* A narrower scope may be asked for, never a wider one. */
static int
scope_within(const char *want, const char *granted)
{
	for (const char *p = want; p && *p; p += strspn(p, " ")) {
		size_t len = strcspn(p, " ");
		char *one = xstrndup(p, len);
		int ok = has_scope(granted, one);
		free(one);
		if (!ok)
			return 0;
		p += len;
	}
	return 1;
}

static void
grant_refresh(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct oidc_client *c, const struct form *f)
{
	const char *old = form_get(f, "refresh_token"), *scope = form_get(f, "scope");
	const struct settings *s = &idp->in.settings;
	struct oidc_family peek = { 0 }, fam = { 0 };
	struct oidc_issue iss;
	struct grant_info g;
	struct minted m = { 0 };
	struct audit_entry ae;
	struct user u = { 0 };
	char *family = NULL, *family2 = NULL;
	uint64_t exp;
	int64_t now = clock_now();
	int rc;

	if (old == NULL || strlen(old) > 128) {
		oidc_error(req, 400, "invalid_request", "refresh_token missing");
		return;
	}
	if (store_refresh_family(idp->in.store, t->id, old, &family, &exp) != 1 ||
	    store_family_get(idp->in.store, t->id, family, &peek) != 1) {
		oidc_error(req, 400, "invalid_grant", NULL);
		goto done;
	}
	if (scope && !scope_within(scope, peek.scope)) {
		oidc_error(req, 400, "invalid_scope", NULL);
		goto done;
	}
	if (grant_user(idp, t, peek.user, &u) != 1) {
		oidc_error(req, 400, "invalid_grant", "the user can no longer sign in");
		goto done;
	}
	g = (struct grant_info){ .family = family, .user_id = peek.user, .sub = u.id,
		.scope = scope ? scope : peek.scope, .sid = peek.sid, .amr = peek.amr,
		.acr = peek.acr, .device = peek.device, .auth_time = peek.auth_time };
	if (mint(idp, t, c, &g, &u, NULL, now, &m) == -1) {
		oidc_error(req, 500, "server_error", NULL);
		goto done;
	}
	audit_entry_make(&ae, "oidc.refresh", "user", u.name, "client", c->client_id, "grant",
	    family, NULL);
	iss = (struct oidc_issue){ NULL, 0, m.access_key, &m.rec, &ae };
	rc = store_refresh_rotate(idp->in.store, t->id, c->client_id, old, m.refresh, now,
	    now + s->oidc_refresh_token_lifetime, &iss, &family2, &fam);
	if (rc != 1) {
		if (rc == 2)
			audit_event(idp->in.store, t->id, "oidc.refresh.reuse", "client",
			    c->client_id, "user", u.name, "ip", http_client_ip(req), "grant", family2,
			    NULL);
		oidc_error(req, rc < 0 ? 500 : 400, rc < 0 ? "server_error" : "invalid_grant", NULL);
		goto done;
	}
	audit_entry_log(&ae, t->id);
	send_tokens(req, &m, g.scope, s->oidc_access_token_lifetime);
done:
	minted_clear(&m);
	store_family_clear(&peek);
	store_family_clear(&fam);
	store_user_clear(&u);
	free(family);
	free(family2);
}

static void
grant_client_credentials(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct oidc_client *c, const struct form *f)
{
	struct grant_info g = { .sub = c->client_id, .scope = "" };
	struct minted m = { 0 };
	struct audit_entry ae;
	const char *scope = form_get(f, "scope");

	if (!c->grant_client_credentials || !strcmp(c->auth_method, "none")) {
		oidc_error(req, 400, "unauthorized_client", NULL);
		return;
	}
	if (scope && (has_scope(scope, "openid") || strlen(scope) > 256)) {
		oidc_error(req, 400, "invalid_scope", "no user, no openid");
		return;
	}
	g.scope = scope ? scope : "";
	audit_entry_make(&ae, "oidc.client_credentials", "client", c->client_id, NULL);
	if (mint_access(t, &idp->in.settings, c, &g, clock_now(), &m) == -1 ||
	    store_access_put(idp->in.store, t->id, m.access_key, &m.rec, &ae) < 0) {
		oidc_error(req, 500, "server_error", NULL);
	} else {
		audit_entry_log(&ae, t->id);
		send_tokens(req, &m, g.scope, idp->in.settings.oidc_access_token_lifetime);
	}
	minted_clear(&m);
}

void
oidc_token(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	const struct form *f = http_form(req);
	const char *grant = form_get(f, "grant_type");
	const struct oidc_client *c;

	if (strcmp(http_method(req), "POST")) {
		oidc_error(req, 405, "invalid_request", "POST only");
		return;
	}
	if (oidc_client_auth(idp, t, req, f, &c) == -1)
		return;
	if (grant && !strcmp(grant, "authorization_code") && c->grant_code)
		grant_code(idp, t, req, c, f);
	else if (grant && !strcmp(grant, "refresh_token") && c->grant_refresh)
		grant_refresh(idp, t, req, c, f);
	else if (grant && !strcmp(grant, "client_credentials"))
		grant_client_credentials(idp, t, req, c, f);
	else
		oidc_error(req, 400, grant ? "unauthorized_client" : "invalid_request",
		    grant ? NULL : "grant_type missing");
}
