/*
 * The handlers behind each path of a tenant (/t/TENANT/...), and the dispatcher.
 */
#ifndef SEKISHO_ROUTES_H
#define SEKISHO_ROUTES_H

#include "idp.h"
#include "saml.h"
#include "saml_check.h"
#include "session.h"

/* routes.c: what every listener answers alike (/healthz, /static/): 1 when answered. */
int route_common(struct idp *idp, struct http_req *req);
/*
 * The tenant of a /t/TENANT[/...] path (a reference the caller releases) and in *rest what
 * follows the id ("" or "/..."); NULL when there is none, after answering 404.
 */
struct tenant_ctx *route_tenant(struct idp *idp, struct http_req *req, const char **rest);

/* login.c: the login form, the portal and the logout page */
void login_get(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
void login_post(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
void portal_get(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
void logout_page(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
/* The path to send a user to for logging in, continuing pending (may be NULL). */
char *login_url(struct tenant_ctx *t, const char *pending);

/* sso.c: SAML single sign-on */
void sso_endpoint(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
void sso_resume(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
void sso_init(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *app);
void sso_metadata(struct idp *idp, struct tenant_ctx *t, struct http_req *req);

/* One inbound SAML message, decoded and checked, with what lasso must be given. */
struct inbound {
	enum saml_binding binding;
	const char *msg;		/* Redirect: the query without Signature and SigAlg
					   (verified here); POST: the base64 message */
	char *owned;			/* msg when allocated here */
	const char *relay_state;
	int signed_msg;
	const struct tenant_sp *sp;	/* the Issuer, a registered SP */
	struct saml_msg m;
};
void sso_inbound_clear(struct inbound *in);

/*
 * Decode and check the message named field (SAMLRequest or SAMLResponse) from either
 * binding, from a registered SP.  HTTP-Redirect signatures are verified here; signed_req
 * says a Redirect message must be signed (besides AuthnRequests of SPs whose metadata
 * says so).  now is the time the message counts as received.  0 or -1 with *errstr.
 */
int sso_inbound(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *field,
    const char *expect, const char *endpoint, int64_t now, int signed_req, struct inbound *in,
    const char **errstr);
/* Answer in the browser: a redirect or an auto-submitted form. */
void sso_send(struct idp *idp, struct http_req *req, const struct saml_answer *ans,
    const char *relay_state);

/* slo.c: SAML single logout, and logout started here */
void slo_endpoint(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
/*
 * End ss and log out of every SP and OIDC client that joined it; answers the request.
 * return_to (may be NULL): where the browser goes at the end instead of our page.
 */
void slo_start(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    struct sso_session *ss, const char *return_to);

#endif
