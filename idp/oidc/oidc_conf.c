/*
 * The OpenID Connect configuration of a tenant, built with the tenant context: signing
 * keys and the published JWKS, registered clients, and the discovery document (which
 * advertises only what is implemented).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "crypto.h"
#include "encode.h"
#include "log.h"
#include "oidc.h"
#include "xmalloc.h"

struct keys_build {
	struct idp *idp;
	struct tenant_ctx *t;
	struct oidc_tenant *o;
};

static void
add_key(const void *rec, void *arg)
{
	const struct keyrec *k = rec;
	struct keys_build *b = arg;
	struct oidc_tenant *o = b->o;
	char *pem = instance_unseal_key(&b->idp->in, b->t->id, k);
	struct jose_key *jk;
	const char *err;
	int slot;

	if (pem == NULL)
		return;
	if (k->state == STORE_KEY_RETIRED && (int64_t)k->until < clock_now()) {
		freezero_str(pem);
		return;
	}
	jk = jose_key_from_pem(pem, k->alg, &err);
	freezero_str(pem);
	if (jk == NULL) {
		log_error("tenant %s: OIDC key %s: %s", b->t->id, k->kid, err);
		return;
	}
	slot = !strcmp(k->alg, "ES256");
	if (k->state == STORE_KEY_ACTIVE && o->sign[slot] == NULL)
		o->sign[slot] = jk;
	o->published = xreallocarray(o->published, o->npublished + 1, sizeof(*o->published));
	o->published[o->npublished++] = jk;
}

static char **
split_lines(const char *s, size_t *n_r)
{
	char **v = NULL;
	size_t n = 0;

	while (s && *s) {
		size_t len = strcspn(s, "\n");
		if (len) {
			v = xreallocarray(v, n + 1, sizeof(char *));
			v[n++] = xstrndup(s, len);
		}
		s += len + (s[len] == '\n');
	}
	*n_r = n;
	return v;
}

static int
has_grant(const char *list, const char *g)
{
	size_t n = strlen(g);

	for (const char *p = list; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		if (strcspn(p, ",") == n && !strncmp(p, g, n))
			return 1;
	}
	return 0;
}

static void
add_client(const void *rec, void *arg)
{
	const struct app *a = rec;
	struct keys_build *b = arg;
	struct oidc_tenant *o = b->o;
	struct oidc_client *c;
	const char *err;

	if (a->type == NULL || strcmp(a->type, "oidc") || a->entity_id == NULL)
		return;
	o->clients = xreallocarray(o->clients, o->nclients + 1, sizeof(*o->clients));
	c = &o->clients[o->nclients];
	memset(c, 0, sizeof(*c));
	c->app = xstrdup(a->name);
	c->client_id = xstrdup(a->entity_id);
	c->secret_hash = a->secret_hash ? xstrdup(a->secret_hash) : NULL;
	c->auth_method = xstrdup(a->auth_method ? a->auth_method : "client_secret_basic");
	c->redirect_uris = split_lines(a->redirect_uris, &c->nredirect);
	c->logout_uris = split_lines(a->logout_uris, &c->nlogout);
	c->assertion_alg = a->assertion_alg ? xstrdup(a->assertion_alg) : NULL;
	c->id_token_alg = xstrdup(a->id_token_alg ? a->id_token_alg : "RS256");
	c->opaque_access = a->access_token_format && !strcmp(a->access_token_format, "opaque");
	c->backchannel_uri = a->backchannel_uri ? xstrdup(a->backchannel_uri) : NULL;
	c->initiate_login_uri = a->initiate_login_uri ? xstrdup(a->initiate_login_uri) : NULL;
	c->grant_code = has_grant(a->grant_types, "authorization_code");
	c->grant_refresh = has_grant(a->grant_types, "refresh_token");
	c->grant_client_credentials = has_grant(a->grant_types, "client_credentials");
	if (a->jwks && (c->jwks = jose_jwks_parse(a->jwks, &err)) == NULL)
		log_error("tenant %s client %s: JWKS: %s", b->t->id, a->name, err);
	o->nclients++;
}

static char *
build_jwks(const struct oidc_tenant *o)
{
	json_t *keys = json_array(), *doc;
	char *s;

	for (size_t i = 0; i < o->npublished; i++)
		json_array_append_new(keys, jose_key_public_jwk(o->published[i]));
	doc = json_pack("{s:o}", "keys", keys);
	s = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return s;
}

static char *
build_discovery(const struct tenant_ctx *t)
{
	char *ep[8];
	static const char *const names[] = { "authorize", "token", "userinfo", "jwks",
		"logout", "introspect", "revoke", NULL };
	json_t *doc;
	char *s;

	for (size_t i = 0; names[i]; i++)
		ep[i] = xasprintf("%s/oidc/%s", t->base, names[i]);
	doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
	    " s:[s], s:[s,s], s:[s,s,s], s:[s], s:[s,s], s:[s,s,s,s], s:[s,s], s:[s],"
	    " s:[s,s,s,s], s:[s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s], s:[s,s], s:[s,s,s],"
	    " s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:[s,s,s], s:[s,s,s]}",
	    "issuer", t->base,
	    "authorization_endpoint", ep[0], "token_endpoint", ep[1], "userinfo_endpoint", ep[2],
	    "jwks_uri", ep[3], "end_session_endpoint", ep[4], "introspection_endpoint", ep[5],
	    "revocation_endpoint", ep[6],
	    "response_types_supported", "code",
	    "response_modes_supported", "query", "form_post",
	    "grant_types_supported", "authorization_code", "refresh_token", "client_credentials",
	    "subject_types_supported", "public",
	    "id_token_signing_alg_values_supported", "RS256", "ES256",
	    "token_endpoint_auth_methods_supported", "client_secret_basic", "client_secret_post",
	    "private_key_jwt", "none",
	    "token_endpoint_auth_signing_alg_values_supported", "RS256", "ES256",
	    "code_challenge_methods_supported", "S256",
	    "scopes_supported", "openid", "profile", "email", "groups",
	    "claims_supported", "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr",
	    "amr", "sid", "name", "preferred_username", "email", "email_verified", "groups", "azp",
	    "device_serial",
	    "prompt_values_supported", "none", "login",
	    "acr_values_supported", OIDC_ACR_PASSWORD, OIDC_ACR_DEVICE, OIDC_ACR_MFA,
	    "authorization_response_iss_parameter_supported", 1,
	    "backchannel_logout_supported", 1, "backchannel_logout_session_supported", 1,
	    "request_parameter_supported", 0, "request_uri_parameter_supported", 0,
	    "claims_parameter_supported", 0, "frontchannel_logout_supported", 0,
	    "introspection_endpoint_auth_methods_supported", "client_secret_basic",
	    "client_secret_post", "private_key_jwt",
	    "revocation_endpoint_auth_methods_supported", "client_secret_basic",
	    "client_secret_post", "private_key_jwt");
	s = json_dumps(doc, JSON_COMPACT | JSON_INDENT(1));
	json_decref(doc);
	for (size_t i = 0; names[i]; i++)
		free(ep[i]);
	return s;
}

struct oidc_tenant *
oidc_tenant_new(struct idp *idp, struct tenant_ctx *t)
{
	struct oidc_tenant *o = xcalloc(1, sizeof(*o));
	struct keys_build b = { idp, t, o };

	if (store_key_list(idp->in.store, t->id, "oidc", add_key, &b) < 0 ||
	    store_app_list(idp->in.store, t->id, add_client, &b) < 0) {
		oidc_tenant_free(o);
		return NULL;
	}
	if (o->sign[0] == NULL || o->sign[1] == NULL)
		log_warn("tenant %s: no active OIDC signing key for %s (sekisho key rotate)", t->id,
		    o->sign[0] ? "ES256" : "RS256");
	o->jwks_json = build_jwks(o);
	o->discovery_json = build_discovery(t);
	return o;
}

static void
free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
oidc_tenant_free(struct oidc_tenant *o)
{
	if (o == NULL)
		return;
	for (size_t i = 0; i < o->npublished; i++)
		jose_key_free(o->published[i]);
	free(o->published);
	for (size_t i = 0; i < o->nclients; i++) {
		struct oidc_client *c = &o->clients[i];
		free(c->app);
		free(c->client_id);
		free(c->secret_hash);
		free(c->auth_method);
		free_strv(c->redirect_uris, c->nredirect);
		free_strv(c->logout_uris, c->nlogout);
		jose_jwks_free(c->jwks);
		free(c->assertion_alg);
		free(c->id_token_alg);
		free(c->backchannel_uri);
		free(c->initiate_login_uri);
	}
	free(o->clients);
	free(o->jwks_json);
	free(o->discovery_json);
	free(o);
}

const struct oidc_client *
oidc_client_find(const struct oidc_tenant *o, const char *client_id)
{
	for (size_t i = 0; client_id && o && i < o->nclients; i++)
		if (!strcmp(o->clients[i].client_id, client_id))
			return &o->clients[i];
	return NULL;
}

const struct jose_key *
oidc_signing_key(const struct oidc_tenant *o, const char *alg)
{
	return o->sign[alg && !strcmp(alg, "ES256")];
}

char *
oidc_sid(struct tenant_ctx *t, const unsigned char session_hash[32])
{
	unsigned char mac[CRYPTO_SHA256_LEN], msg[36] = "sid:";

	memcpy(msg + 4, session_hash, 32);
	crypto_hmac_sha256(t->nameid_key, sizeof(t->nameid_key), msg, sizeof(msg), mac);
	return b64url_encode(mac, 16);
}

void
oidc_discovery(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	http_add_header(req, "Cache-Control", "public, max-age=3600");
	http_add_header(req, "Access-Control-Allow-Origin", "*");
	http_body_copy(req, "application/json", t->oidc->discovery_json,
	    strlen(t->oidc->discovery_json));
}

void
oidc_jwks(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	http_add_header(req, "Cache-Control", "public, max-age=600");
	http_add_header(req, "Access-Control-Allow-Origin", "*");
	http_body_copy(req, "application/jwk-set+json", t->oidc->jwks_json,
	    strlen(t->oidc->jwks_json));
}
