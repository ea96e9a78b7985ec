/*
 * Endpoints that take tokens back: userinfo (bearer access token, never from the URL),
 * introspection (RFC 7662) and revocation (RFC 7009), both for the client's own tokens.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "clock.h"
#include "oidc.h"
#include "oidc_client_auth.h"
#include "oidc_token.h"
#include "xmalloc.h"

#define TOKEN_MAX 8192

/* The live access token record for token (JWT or opaque); 1, 0 or -1. */
static int
access_lookup(struct idp *idp, struct tenant_ctx *t, const char *token, struct oidc_access *a)
{
	const char *err;
	json_t *claims;
	int rc;

	memset(a, 0, sizeof(*a));
	if (strlen(token) > TOKEN_MAX)
		return 0;
	if (strchr(token, '.') == NULL)
		return store_access_get(idp->in.store, t->id, token, clock_now(), a);
	claims = jose_verify_own(t->oidc->published, t->oidc->npublished, token, &err);
	if (claims == NULL || strcmp(json_string_value(json_object_get(claims, "iss")) ?: "",
	    t->base)) {
		json_decref(claims);
		return 0;
	}
	rc = store_access_get(idp->in.store, t->id,
	    json_string_value(json_object_get(claims, "jti")) ?: "", clock_now(), a);
	json_decref(claims);
	return rc;
}

static void
bearer_error(struct http_req *req, const char *error)
{
	char *h = xasprintf("Bearer error=\"%s\"", error);

	http_add_header(req, "WWW-Authenticate", h);
	free(h);
	oidc_error(req, 401, error, NULL);
}

void
oidc_userinfo(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	const char *hdr = http_header(req, "Authorization");
	const char *token = NULL;
	struct oidc_access a;
	struct user u;
	json_t *claims;

	if (form_get(http_query(req), "access_token")) {
		/* Tokens never travel in URLs (RFC 6750 5.3 and our logs). */
		oidc_error(req, 400, "invalid_request", "access token in the URL");
		return;
	}
	if (hdr && !strncasecmp(hdr, "Bearer ", 7))
		token = hdr + 7;
	else if (!strcmp(http_method(req), "POST"))
		token = form_get(http_form(req), "access_token");
	if (token == NULL) {
		bearer_error(req, "invalid_request");
		return;
	}
	if (access_lookup(idp, t, token, &a) != 1 || a.user == NULL) {
		store_access_clear(&a);
		bearer_error(req, "invalid_token");
		return;
	}
	if (store_user_get_by_id(idp->in.store, t->id, a.user, &u) != 1 || u.disabled) {
		store_access_clear(&a);
		store_user_clear(&u);
		bearer_error(req, "invalid_token");
		return;
	}
	claims = json_pack("{s:s}", "sub", u.id);
	oidc_user_claims(idp, t, claims, a.scope, &u);
	oidc_json(req, 200, claims);
	store_access_clear(&a);
	store_user_clear(&u);
}

void
oidc_introspect(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	const struct form *f = http_form(req);
	const char *token = form_get(f, "token");
	const struct oidc_client *c;
	struct oidc_access a;
	struct oidc_family fam;
	char *family = NULL, *sub = NULL;
	uint64_t exp = 0;
	json_t *body;

	if (strcmp(http_method(req), "POST") || oidc_client_auth(idp, t, req, f, &c) == -1) {
		if (strcmp(http_method(req), "POST"))
			oidc_error(req, 405, "invalid_request", "POST only");
		return;
	}
	if (token == NULL) {
		oidc_error(req, 400, "invalid_request", "token missing");
		return;
	}
	/* Inactive unless it is live and this client's own (RFC 7662 2.2). */
	body = json_pack("{s:b}", "active", 0);
	if (access_lookup(idp, t, token, &a) == 1 && !strcmp(a.client_id, c->client_id)) {
		struct user u = { 0 };
		if (a.user && store_user_get_by_id(idp->in.store, t->id, a.user, &u) != 1)
			store_user_clear(&u);
		sub = xstrdup(a.user ? (u.id ? u.id : "") : c->client_id);
		json_decref(body);
		body = json_pack("{s:b, s:s, s:s, s:s, s:I, s:s, s:s}", "active", 1, "scope",
		    a.scope ? a.scope : "", "client_id", c->client_id, "token_type", "Bearer",
		    "exp", (json_int_t)a.expires, "iss", t->base, "sub", sub);
		if (u.name)
			json_object_set_new(body, "username", json_string(u.name));
		store_user_clear(&u);
	} else if (store_refresh_family(idp->in.store, t->id, token, &family, &exp) == 1 &&
	    store_family_get(idp->in.store, t->id, family, &fam) == 1) {
		if (!fam.revoked && (int64_t)exp >= clock_now() &&
		    !strcmp(fam.client_id, c->client_id)) {
			json_decref(body);
			body = json_pack("{s:b, s:s, s:s, s:s, s:I, s:s}", "active", 1, "scope",
			    fam.scope, "client_id", c->client_id, "token_type", "refresh_token",
			    "exp", (json_int_t)exp, "iss", t->base);
		}
		store_family_clear(&fam);
	}
	oidc_json(req, 200, body);
	store_access_clear(&a);
	free(family);
	free(sub);
}

void
oidc_revoke(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	const struct form *f = http_form(req);
	const char *token = form_get(f, "token");
	const struct oidc_client *c;
	struct oidc_access a = { 0 };
	struct oidc_family fam;
	char *family = NULL;
	uint64_t exp;

	if (strcmp(http_method(req), "POST")) {
		oidc_error(req, 405, "invalid_request", "POST only");
		return;
	}
	if (oidc_client_auth(idp, t, req, f, &c) == -1)
		return;
	if (token == NULL || strlen(token) > TOKEN_MAX) {
		oidc_error(req, 400, "invalid_request", "token missing");
		return;
	}
	/* A refresh token takes its whole grant with it (RFC 7009 2.1). */
	if (store_refresh_family(idp->in.store, t->id, token, &family, &exp) == 1 &&
	    store_family_get(idp->in.store, t->id, family, &fam) == 1) {
		if (!strcmp(fam.client_id, c->client_id) &&
		    store_family_revoke(idp->in.store, t->id, family) == 1)
			audit_event(idp->in.store, t->id, "oidc.revoke", "client", c->client_id,
			    "grant", family, NULL);
		store_family_clear(&fam);
	} else if (access_lookup(idp, t, token, &a) == 1 && !strcmp(a.client_id, c->client_id)) {
		const char *key = token;
		json_t *claims = NULL;
		const char *err;
		if (strchr(token, '.') && (claims = jose_verify_own(t->oidc->published,
		    t->oidc->npublished, token, &err)))
			key = json_string_value(json_object_get(claims, "jti")) ?: token;
		if (store_access_revoke(idp->in.store, t->id, key) == 1)
			audit_event(idp->in.store, t->id, "oidc.revoke", "client", c->client_id,
			    "token", "access", NULL);
		json_decref(claims);
	}
	store_access_clear(&a);
	free(family);
	/* Unknown tokens too: RFC 7009 answers 200 so a client learns nothing. */
	http_add_header(req, "Cache-Control", "no-store");
	http_body_copy(req, "application/json", "{}", 2);
}
