/*
 * Proving again who you are while signed in: the password behind the login form's
 * lockout, and whether the session's last proof is recent enough for a dangerous change.
 * The account pages and the admin console both ask here, so the rule is kept once.
 */
#ifndef SEKISHO_PROOF_H
#define SEKISHO_PROOF_H

#include "idp.h"
#include "store.h"

#define PROOF_RECENT 300	/* seconds: what a dangerous change calls a recent proof */

enum proof {
	PROOF_OK,
	PROOF_WRONG,	/* not the password (counted, audited as login.fail) */
	PROOF_LOCKED,	/* the lockout holds: nothing was checked */
	PROOF_FAILED,	/* storage error */
};

/* Check u's password pw; page names the form in the audit record ("account"). */
enum proof proof_password(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct user *u, const char *pw, const char *page);
/*
 * Check u's TOTP code (6 digits; spaces allowed) as the login's factor page does: behind
 * the same lockout, a replayed or older code refused, a failure counted and audited as
 * login.factor.fail.
 */
enum proof proof_code(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct user *u, const char *code, const char *page);
/* 1 when u has an active TOTP factor (a code can prove it), 0 not, -1 storage error. */
int proof_has_totp(struct idp *idp, struct tenant_ctx *t, const struct user *u);
/* 1 when s proved something (password or second factor) in the last PROOF_RECENT seconds. */
int proof_recent(const struct session *s);

#endif
