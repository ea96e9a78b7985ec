/*
 * Requests that wait for a login: a protocol parks what it needs to answer later, the user
 * logs in (and passes the device check when a policy asks), and /resume hands the request
 * back to the protocol that parked it, once.
 */
#ifndef SEKISHO_RESUME_H
#define SEKISHO_RESUME_H

#include "idp.h"
#include "session.h"

/*
 * Park p (kind, app, state ... filled by the protocol; created and expires set here from
 * p->created) and send the browser to the login form, or with device_ss set to the device
 * check of that session.  Answers req.
 */
void resume_park(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    struct pending *p, const struct sso_session *device_ss);
/*
 * The same for a session that must prove (ACCESS_MFA) or enrol (ACCESS_ENROL) a second
 * factor first: the browser goes to login/factor or login/enrol with the parked id.
 */
void resume_park_mfa(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    struct pending *p, int enrol);
/*
 * A signed-in page (page "admin", "account" or "certs") asked for without a session:
 * park its name and send the browser to the login form, so that /resume comes back to it
 * after the login.  Answers req.
 */
void resume_park_page(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const char *page);
/* GET /resume?r=ID: the parked request goes back to its protocol (or page), once. */
void resume_endpoint(struct idp *idp, struct tenant_ctx *t, struct http_req *req);

#endif
