/*
 * OpenID Connect's registration with the core (protocol.h): its endpoints, its part of a
 * tenant context, its signing keys (RS256 and ES256, the next ones published before they
 * sign), parked authorizations, and back-channel logout.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "encode.h"
#include "log.h"
#include "oidc.h"
#include "pki.h"
#include "protocol.h"
#include "xmalloc.h"

static int
tenant_load(struct idp *idp, struct tenant_ctx *t)
{
	return (t->oidc = oidc_tenant_new(idp, t)) ? 0 : -1;
}

static void
tenant_free(struct tenant_ctx *t)
{
	oidc_tenant_free(t->oidc);
	t->oidc = NULL;
}

/* A signing key (RS256: RSA-2048, ES256: P-256); kid is its RFC 7638 thumbprint. */
static int
make_key(struct instance *in, const char *tenant, const char *alg, uint64_t state,
    struct keyrec *k, const char **errstr)
{
	char *pem = pki_generate_key(!strcmp(alg, "ES256") ? PKI_P256 : PKI_RSA2048);
	struct jose_key *jk = pem ? jose_key_from_pem(pem, alg, errstr) : NULL;

	if (jk == NULL) {
		if (pem == NULL)
			*errstr = "key generation failed";
		freezero_str(pem);
		return -1;
	}
	k->kid = xstrdup(jose_key_kid(jk));
	k->use = xstrdup("oidc");
	k->alg = xstrdup(alg);
	k->created = (uint64_t)clock_now();
	k->state = state;
	instance_seal_key(in, tenant, k, pem);
	jose_key_free(jk);
	freezero_str(pem);
	return 0;
}

/* Per algorithm: at creation a signing key and the next one published; later the next. */
static int
make_keys(struct instance *in, const char *tenant, int create, struct keyrec *out, size_t max,
    const char **errstr)
{
	static const char *const algs[] = { "RS256", "ES256" };
	size_t n = 0;

	if (max < (create ? 4 : 2)) {
		*errstr = "no room for keys";
		return -1;
	}
	for (size_t i = 0; i < 2; i++) {
		if (create && make_key(in, tenant, algs[i], STORE_KEY_ACTIVE, &out[n++], errstr))
			return -1;
		if (make_key(in, tenant, algs[i], STORE_KEY_NEXT, &out[n++], errstr) == -1)
			return -1;
	}
	return (int)n;
}

/* The site of uri (scheme://host[:port]/), a new string, or NULL. */
static char *
site_of(const char *uri)
{
	const char *host = strstr(uri, "://");

	if (host == NULL)
		return NULL;
	host += 3;
	return xasprintf("%.*s/", (int)(host - uri + strcspn(host, "/?#")), uri);
}

char *
oidc_initiation_url(const char *initiate, const char *iss, const char *target)
{
	/* A fragment would swallow what follows it: none is sent (RFC 3986 3.5). */
	int n = (int)strcspn(initiate, "#");
	const char *q = memchr(initiate, '?', (size_t)n);
	const char *sep = q == NULL ? "?" : n > 0 && strchr("?&", initiate[n - 1]) ? "" : "&";
	char *e_iss = url_encode(iss), *e_target = target ? url_encode(target) : NULL;
	char *url = xasprintf("%.*s%siss=%s%s%s", n, initiate, sep, e_iss,
	    e_target ? "&target_link_uri=" : "", e_target ? e_target : "");

	free(e_iss);
	free(e_target);
	return url;
}

/*
 * Where the portal sends a user to start an OIDC app: its initiate_login_uri when it has
 * one, else the site of its first redirect URI (the app's own front page, which begins
 * the code flow; the redirect URI itself only takes answers).  NULL for clients that
 * cannot log a user in (no code grant or no redirect URI), which the portal does not list.
 */
static char *
launch_url(const struct tenant_ctx *t, const struct tenant_app *a)
{
	for (size_t i = 0; t->oidc && i < t->oidc->nclients; i++) {
		const struct oidc_client *c = &t->oidc->clients[i];
		char *site, *url;
		if (strcmp(c->app, a->name) || !c->nredirect || !c->grant_code)
			continue;
		site = site_of(c->redirect_uris[0]);
		if (c->initiate_login_uri == NULL)
			return site;
		url = oidc_initiation_url(c->initiate_login_uri, t->base, site);
		free(site);
		return url;
	}
	return NULL;
}

static void
json_error(struct http_req *req, int status, const char *detail)
{
	oidc_error(req, status, "invalid_request", detail);
}

static const struct protocol_route routes[] = {
	{ ".well-known/openid-configuration", oidc_discovery, PROTOCOL_GET, 0, NULL },
	{ "oidc/authorize", oidc_authorize, PROTOCOL_GET | PROTOCOL_POST, 0, NULL },
	{ "oidc/token", oidc_token, PROTOCOL_POST, 1, NULL },
	{ "oidc/userinfo", oidc_userinfo, PROTOCOL_GET | PROTOCOL_POST, 1, NULL },
	{ "oidc/jwks", oidc_jwks, PROTOCOL_GET | PROTOCOL_POST, 0, NULL },
	{ "oidc/introspect", oidc_introspect, PROTOCOL_POST, 1, NULL },
	{ "oidc/revoke", oidc_revoke, PROTOCOL_POST, 1, NULL },
	{ "oidc/logout", oidc_logout, PROTOCOL_GET | PROTOCOL_POST, 0, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

const struct protocol oidc_protocol = {
	.name = "oidc",
	.start = backchannel_start,
	.stop = backchannel_stop,
	.routes = routes,
	.json_error = json_error,
	.tenant_load = tenant_load,
	.tenant_free = tenant_free,
	.make_keys = make_keys,
	.pending_prefix = "oidc",
	.resume = oidc_resume,
	.refused = oidc_refused,
	.launch_url = launch_url,
	.ended = oidc_session_ended,
};
