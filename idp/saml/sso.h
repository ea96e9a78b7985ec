/*
 * The SAML endpoints (sso.c: single sign-on and metadata; slo.c: single logout) and what
 * they share: decoding and checking an inbound message, and answering in the browser.
 */
#ifndef SEKISHO_SSO_H
#define SEKISHO_SSO_H

#include "idp.h"
#include "protocol.h"
#include "saml.h"
#include "saml_check.h"
#include "saml_conf.h"

void sso_endpoint(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
/* /saml/init/APP: IdP-initiated SSO. */
void sso_init(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
void sso_metadata(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
/* Answer a request parked while the user logged in (protocol resume hook). */
void sso_resume(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct pending *p);

/* One inbound SAML message, decoded and checked, with what lasso must be given. */
struct inbound {
	enum saml_binding binding;
	const char *msg;		/* Redirect: the query without Signature and SigAlg
					   (verified here); POST: the base64 message */
	char *owned;			/* msg when allocated here */
	const char *relay_state;
	int signed_msg;
	const struct saml_sp *sp;	/* the Issuer, a registered SP */
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

/* slo.c: the SLO endpoint, and the SAML part of a logout the core started */
void slo_endpoint(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
/* protocol front_logout hook: ask each SP of the session in turn, answer a SAML origin. */
int slo_front(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct sso_session *ss, const struct logout_apps *apps,
    struct logout_origin *origin);

#endif
