/*
 * Ending an SSO session: the session goes, and every protocol whose apps joined it is told
 * (back channel first, then the one that takes the browser through its apps); the browser
 * ends where the request asked or on our page.
 */
#ifndef SEKISHO_LOGOUT_H
#define SEKISHO_LOGOUT_H

#include "audit.h"
#include "idp.h"
#include "protocol.h"
#include "session.h"

/* End ss and log out of its apps; answers req.  origin may be NULL. */
void logout_session(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    struct sso_session *ss, struct logout_origin *origin);
/*
 * End another session (hash) of user u, as the account page does: its apps hear what can
 * be told without its browser (back channel).  1 ended, 0 no such session of u, -1.
 */
int logout_other(struct idp *idp, struct tenant_ctx *t, const struct user *u,
    const unsigned char hash[32], const struct audit_entry *ae);
/* The audit record of a finished logout (partial: some app did not confirm). */
void logout_audit_end(struct idp *idp, struct tenant_ctx *t, const char *user,
    const char *origin, int partial);
/* Finish a logout that no app answers: audit, then to return_to or our page. */
void logout_finish(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const char *user, const char *return_to, int partial);

#endif
