/*
 * A signed-in person proves the password again (proof.h): the login form's lockout gate
 * applies, a failure counts toward it and is audited, a success gives the reserved
 * attempt back.
 */
#include "config.h"

#include <stdio.h>

#include "audit.h"
#include "clock.h"
#include "login.h"
#include "password.h"
#include "proof.h"

static void
audit_wrong(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *user,
    const char *reason, const char *page, uint64_t n)
{
	char count[24];

	snprintf(count, sizeof(count), "%llu", (unsigned long long)n);
	audit_event(idp->in.store, t->id, "login.fail", "user", user, "ip", http_client_ip(req),
	    "reason", reason, "page", page, "failures", count, NULL);
}

enum proof
proof_password(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct user *u, const char *pw, const char *page)
{
	uint64_t n = 0;
	int gate = login_gate(idp, t, req, u->name, &n);

	if (gate < 0)
		return PROOF_FAILED;
	if (gate > 0) {
		audit_wrong(idp, t, req, u->name, "locked", page, n);
		return PROOF_LOCKED;
	}
	if (password_verify(u->pwhash ? u->pwhash : "", pw) != 1) {
		audit_wrong(idp, t, req, u->name, "bad_password", page, n);
		return PROOF_WRONG;
	}
	login_gate_ok(idp, t, req, u->name);
	return PROOF_OK;
}

int
proof_recent(const struct session *s)
{
	uint64_t last = s->authn_instant > s->mfa_at ? s->authn_instant : s->mfa_at;

	return clock_now() - (int64_t)last <= PROOF_RECENT;
}
