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
		store_user_groups(idp->in.store, t->id, u->name, &groups);
		for (char **g = groups; g && *g; g++)
			json_array_append_new(a, json_string(*g));
		store_strv_free(groups);
		json_object_set_new(claims, "groups", a);
	}
}

/* The minted tokens of one answer. */
struct minted {
	char *access;
	char *id_token;
	char *refresh;
};

static void
minted_clear(struct minted *m)
{
	freezero_str(m->access);
	freezero_str(m->id_token);
	freezero_str(m->refresh);
	memset(m, 0, sizeof(*m));
}

/* An access token: a JWT (RFC 9068) or a random string, recorded for revocation. */
static char *
mint_access(struct idp *idp, struct tenant_ctx *t, const struct oidc_client *c,
    const struct grant_info *g, int64_t now)
{
	const struct settings *s = &idp->in.settings;
	struct oidc_access rec = { 0 };
	char *jti = crypto_random_token(24), *tok = NULL;
	const char *key = jti;

	rec.family = (char *)g->family;
	rec.client_id = (char *)c->client_id;
	rec.user = (char *)g->user_name;
	rec.scope = (char *)g->scope;
	rec.expires = (uint64_t)(now + s->oidc_access_token_lifetime);
	if (c->opaque_access) {
		tok = crypto_random_token(32);
		key = tok;
	} else {
		json_t *cl = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "iss", t->base,
		    "sub", g->sub, "aud", c->client_id, "client_id", c->client_id,
		    "iat", (json_int_t)now, "exp", (json_int_t)rec.expires, "jti", jti,
		    "scope", g->scope);
		if (g->auth_time) {
			json_object_set_new(cl, "auth_time", json_integer((json_int_t)g->auth_time));
			json_object_set_new(cl, "acr", json_string(g->acr));
			json_object_set_new(cl, "amr", amr_array(g->amr));
		}
		tok = jose_sign(oidc_signing_key(t->oidc, "RS256"), "at+jwt", cl);
		json_decref(cl);
	}
	if (tok == NULL || store_access_put(idp->in.store, t->id, key, &rec) < 0) {
		freezero_str(tok);
		tok = NULL;
	}
	free(jti);
	return tok;
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
	oidc_user_claims(idp, t, cl, g->scope, u);
	tok = jose_sign(oidc_signing_key(t->oidc, c->id_token_alg), "JWT", cl);
	json_decref(cl);
	return tok;
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

/* The user behind a grant, if still allowed in. */
static int
grant_user(struct idp *idp, struct tenant_ctx *t, const char *name, struct user *u)
{
	int rc = store_user_get(idp->in.store, t->id, name, u);

	if (rc == 1 && u->disabled) {
		store_user_clear(u);
		return 0;
	}
	return rc;
}

/* Mint and send: access token, ID token (openid) and refresh token (family given). */
static void
issue(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const struct oidc_client *c,
    const struct grant_info *g, const char *nonce, const char *event)
{
	const struct settings *s = &idp->in.settings;
	struct minted m = { 0 };
	struct user u;
	int64_t now = clock_now();

	if (grant_user(idp, t, g->user_name, &u) != 1) {
		oidc_error(req, 400, "invalid_grant", "the user can no longer sign in");
		return;
	}
	if (g->family && (m.refresh = crypto_random_token(32)) != NULL &&
	    store_refresh_issue(idp->in.store, t->id, g->family, m.refresh,
	    now + s->oidc_refresh_token_lifetime) != 1) {
		oidc_error(req, 400, "invalid_grant", "the grant was revoked");
		goto done;
	}
	m.access = mint_access(idp, t, c, g, now);
	if (has_scope(g->scope, "openid"))
		m.id_token = mint_id_token(idp, t, c, g, &u, nonce, now);
	if (m.access == NULL || (has_scope(g->scope, "openid") && m.id_token == NULL)) {
		oidc_error(req, 500, "server_error", NULL);
		goto done;
	}
	audit_event(idp->in.store, t->id, event, "user", u.name, "client", c->client_id,
	    "grant", g->family, NULL);
	send_tokens(req, &m, g->scope, s->oidc_access_token_lifetime);
done:
	minted_clear(&m);
	store_user_clear(&u);
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
grant_code(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct oidc_client *c, const struct form *f)
{
	const char *code = form_get(f, "code"), *verifier = form_get(f, "code_verifier");
	struct oidc_redeem r = { 0 };
	struct oidc_code oc;
	struct grant_info g = { 0 };
	char *challenge = NULL, *family = NULL, *sub = NULL;
	int rc;

	if (code == NULL || strlen(code) > 128) {
		oidc_error(req, 400, "invalid_request", "code missing");
		return;
	}
	if (verifier && (challenge = s256(verifier)) == NULL) {
		oidc_error(req, 400, "invalid_grant", "malformed code_verifier");
		return;
	}
	if (c->grant_refresh)
		family = crypto_random_token(16);
	r.client_id = c->client_id;
	r.redirect_uri = form_get(f, "redirect_uri");
	r.challenge = challenge;
	r.family_id = family;
	r.family_expires = clock_now() + idp->in.settings.oidc_refresh_token_lifetime;
	rc = store_code_redeem(idp->in.store, t->id, code, clock_now(), &r, &oc);
	if (rc != 1) {
		audit_event(idp->in.store, t->id, rc == 2 ? "oidc.code.reuse" : "oidc.token.reject",
		    "client", c->client_id, "ip", http_client_ip(req), "reason", rc == 2 ?
		    "code used twice: grant revoked" : rc == 3 ? "client, redirect_uri or PKCE "
		    "mismatch" : "unknown or expired code", NULL);
		oidc_error(req, rc < 0 ? 500 : 400, rc < 0 ? "server_error" : "invalid_grant", NULL);
		goto done;
	}
	g = (struct grant_info){ .family = family, .user_name = oc.user, .scope = oc.scope,
		.sid = oc.sid, .amr = oc.amr, .acr = oc.acr, .auth_time = oc.auth_time };
	sub = oidc_subject(idp, t, oc.user);
	g.sub = sub;
	if (sub == NULL)
		oidc_error(req, 400, "invalid_grant", "the user can no longer sign in");
	else
		issue(idp, t, req, c, &g, oc.nonce, "oidc.token");
	store_code_clear(&oc);
done:
	free(challenge);
	free(family);
	free(sub);
}

static void
grant_refresh(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct oidc_client *c, const struct form *f)
{
	const char *old = form_get(f, "refresh_token"), *scope = form_get(f, "scope");
	const struct settings *s = &idp->in.settings;
	char *fresh = crypto_random_token(32), *family = NULL, *sub = NULL;
	struct oidc_family fam;
	struct grant_info g;
	struct minted m = { 0 };
	struct user u;
	int64_t now = clock_now();
	int rc;

	if (old == NULL || strlen(old) > 128) {
		oidc_error(req, 400, "invalid_request", "refresh_token missing");
		goto done;
	}
	rc = store_refresh_rotate(idp->in.store, t->id, c->client_id, old, fresh, now,
	    now + s->oidc_refresh_token_lifetime, &family, &fam);
	if (rc != 1) {
		if (rc == 2)
			audit_event(idp->in.store, t->id, "oidc.refresh.reuse", "client",
			    c->client_id, "user", fam.user, "ip", http_client_ip(req), "grant", family,
			    NULL);
		oidc_error(req, rc < 0 ? 500 : 400, rc < 0 ? "server_error" : "invalid_grant", NULL);
		goto done;
	}
	/* A narrower scope may be asked for, never a wider one. */
	for (const char *p = scope; p && *p; p += strspn(p, " ")) {
		size_t len = strcspn(p, " ");
		char *one = xstrndup(p, len);
		int ok = has_scope(fam.scope, one);
		free(one);
		if (!ok) {
			oidc_error(req, 400, "invalid_scope", NULL);
			goto done;
		}
		p += len;
	}
	if ((sub = oidc_subject(idp, t, fam.user)) == NULL || grant_user(idp, t, fam.user, &u) != 1) {
		oidc_error(req, 400, "invalid_grant", "the user can no longer sign in");
		goto done;
	}
	store_user_clear(&u);
	g = (struct grant_info){ .family = family, .user_name = fam.user, .sub = sub,
		.scope = scope ? scope : fam.scope, .sid = fam.sid, .amr = fam.amr, .acr = fam.acr,
		.auth_time = fam.auth_time };
	m.refresh = fresh;
	fresh = NULL;
	m.access = mint_access(idp, t, c, &g, now);
	if (has_scope(g.scope, "openid") && grant_user(idp, t, fam.user, &u) == 1) {
		m.id_token = mint_id_token(idp, t, c, &g, &u, NULL, now);
		store_user_clear(&u);
	}
	if (m.access == NULL) {
		oidc_error(req, 500, "server_error", NULL);
		goto done;
	}
	audit_event(idp->in.store, t->id, "oidc.refresh", "user", fam.user, "client",
	    c->client_id, "grant", family, NULL);
	send_tokens(req, &m, g.scope, s->oidc_access_token_lifetime);
done:
	minted_clear(&m);
	freezero_str(fresh);
	free(family);
	free(sub);
	if (old && strlen(old) <= 128)
		store_family_clear(&fam);
}

static void
grant_client_credentials(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct oidc_client *c, const struct form *f)
{
	struct grant_info g = { .sub = c->client_id, .scope = "" };
	struct minted m = { 0 };
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
	if ((m.access = mint_access(idp, t, c, &g, clock_now())) == NULL) {
		oidc_error(req, 500, "server_error", NULL);
		return;
	}
	audit_event(idp->in.store, t->id, "oidc.client_credentials", "client", c->client_id,
	    NULL);
	send_tokens(req, &m, g.scope, idp->in.settings.oidc_access_token_lifetime);
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
