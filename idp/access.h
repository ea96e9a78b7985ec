/*
 * Access decisions at login and at every SSO: the tenant's rule set (policies/rules.h)
 * applied to the user, the app, the client's address and the time, with what it requires
 * set against what the session has proven; refusals get a reference code that is in the
 * audit record and on the page the person sees.
 */
#ifndef SEKISHO_ACCESS_H
#define SEKISHO_ACCESS_H

#include "idp.h"
#include "session.h"

enum access_outcome {
	ACCESS_PASS,		/* go on */
	ACCESS_DEVICE,		/* a device certificate must be checked first */
	ACCESS_DENY,		/* refused by a rule, the tenant's default or assignment */
	ACCESS_NO_MFA,		/* a second factor is required and none is enrolled */
	ACCESS_MFA,		/* a second factor must be proven first (the factor page) */
	ACCESS_ENROL,		/* a second factor must be enrolled first (a rule allows it) */
	ACCESS_ERROR,		/* the store failed: 503 */
};

#define ACCESS_REF_LEN 10	/* "XXXX-XXXX" and NUL */

struct access_result {
	enum access_outcome outcome;
	const char *serial;	/* the session's checked device certificate, still valid */
	const char *rule;	/* what decided a refusal (borrowed from the tenant context) */
	char ref[ACCESS_REF_LEN];	/* a refusal's reference code */
};

/*
 * Decide whether the user of the session ss may reach the app called app (NULL: a login
 * to the portal) now, from the request's client address, at stage ("login" or "sso"),
 * and write the audit records the decision calls for (refusal, report-only rules,
 * break-glass).  Returns r->outcome.
 */
enum access_outcome access_check(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct sso_session *ss, const char *app, const char *stage, struct access_result *r);
/* The same when the app asked for a second factor itself (acr_values, RequestedAuthnContext). */
enum access_outcome access_check_mfa(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct sso_session *ss, const char *app, int want_mfa, struct access_result *r);
/*
 * The same for a user who has just proven the password and has no session yet: a user
 * with a second factor enrolled is always asked for it (ACCESS_MFA).
 */
enum access_outcome access_check_user(struct idp *idp, struct tenant_ctx *t,
    struct http_req *req, const struct user *u, const char *app, struct access_result *r);
/* The same for a user who has just proven methods (a passkey sign-in: "hwk user mfa"). */
enum access_outcome access_check_login(struct idp *idp, struct tenant_ctx *t,
    struct http_req *req, const struct user *u, const char *app, const char *methods,
    struct access_result *r);
/*
 * For the portal's list: reach[i] 1 when the session's user may reach t->apps[i] now (not
 * refused; a device or second factor may still be asked for), else 0.  Nothing is
 * audited.  0, or -1 when the user's groups cannot be read.
 */
int access_reachable(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct sso_session *ss, unsigned char *reach);
/* The refusal page (403, ja/en, with the reference code) for a DENY or NO_MFA result. */
void access_refuse_page(struct idp *idp, struct http_req *req, const struct access_result *r);

#endif
