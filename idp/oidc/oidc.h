/*
 * OpenID Connect provider: per-tenant configuration (keys, clients, discovery), the
 * endpoints, and back-channel logout.  Protocol errors become responses in oidc_reply.c
 * only.
 */
#ifndef SEKISHO_OIDC_H
#define SEKISHO_OIDC_H

#include <jansson.h>

#include "idp.h"
#include "jose.h"
#include "protocol.h"
#include "store.h"

#define OIDC_ACR_PASSWORD "urn:sekisho:acr:password"
/* Password and a device certificate of the user. */
#define OIDC_ACR_DEVICE "urn:sekisho:acr:device"
/* Two factors were used (the REFEDS MFA profile, also what SAML apps are told). */
#define OIDC_ACR_MFA "https://refeds.org/profile/mfa"

struct oidc_client {
	char *app;
	char *client_id;
	char *secret_hash;		/* hex SHA-256, client_secret_* only */
	char *auth_method;
	char **redirect_uris;
	size_t nredirect;
	char **logout_uris;
	size_t nlogout;
	struct jose_jwks *jwks;		/* private_key_jwt */
	char *assertion_alg;
	char *id_token_alg;
	int opaque_access;		/* access tokens are random strings, not JWTs */
	char *backchannel_uri;
	char *initiate_login_uri;	/* OIDC Core 4: where a login the portal starts begins */
	int grant_code, grant_refresh, grant_client_credentials;
};

struct oidc_tenant {
	struct jose_key *sign[2];	/* ACTIVE RS256, ES256 */
	struct jose_key **published;	/* every key in the JWKS (also used to verify ours) */
	size_t npublished;
	char *jwks_json;
	char *discovery_json;
	struct oidc_client *clients;
	size_t nclients;
};

struct keyrec;

/* Build from the tenant's keys and apps (keys: the "oidc" keyrecs, unsealed PEMs). */
struct oidc_tenant *oidc_tenant_new(struct idp *idp, struct tenant_ctx *t);
void oidc_tenant_free(struct oidc_tenant *o);
const struct oidc_client *oidc_client_find(const struct oidc_tenant *o, const char *client_id);
/* The signing key for alg ("RS256" or "ES256"). */
const struct jose_key *oidc_signing_key(const struct oidc_tenant *o, const char *alg);
/*
 * OpenID Connect Core 4 (initiating login from a third party): the client's login
 * initiation endpoint initiate with iss (which OP) and target_link_uri (where to go after;
 * left out when NULL) added to the query it may already have, without a fragment.  A new
 * string.
 */
char *oidc_initiation_url(const char *initiate, const char *iss, const char *target);
/* The "sid" an SSO session has towards relying parties (not the cookie, not its hash). */
char *oidc_sid(struct tenant_ctx *t, const unsigned char session_hash[32]);

/* endpoints */
void oidc_discovery(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
void oidc_jwks(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
void oidc_authorize(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
/* A parked authorization whose user the access rules refused at login: access_denied. */
void oidc_refused(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct pending *p, const char *why, const char *ref);
/* Continue an authorization parked while the user logged in. */
void oidc_resume(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct pending *p);
void oidc_token(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
void oidc_userinfo(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
void oidc_introspect(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
void oidc_revoke(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
void oidc_logout(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
/* protocol ended hook: the session's grants are revoked, its clients told (back channel). */
void oidc_session_ended(struct idp *idp, struct tenant_ctx *t, const struct sso_session *ss,
    const struct logout_apps *apps);

/* oidc_reply.c: JSON answers and OAuth errors */
void oidc_json(struct http_req *req, int status, json_t *body);
void oidc_error(struct http_req *req, int status, const char *error, const char *description);

/* backchannel.c: logout notifications, sent by a background thread */
int backchannel_start(void);
void backchannel_stop(void);
/* Queue a POST of logout_token=token to url; never blocks on the network. */
void backchannel_send(const char *url, const char *token, int64_t timeout);

#endif
