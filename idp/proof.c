/*
 * A signed-in person proves the password or a TOTP code again (proof.h): the login
 * form's lockout gate applies, a failure counts toward it and is audited, a success gives
 * the reserved attempt back.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "factor.h"
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

/* The code without spaces in out (7 bytes): 1 when that is six digits. */
static int
six_digits(const char *code, char out[7])
{
	size_t n = 0;

	for (; *code; code++) {
		if (*code == ' ' || *code == '\t')
			continue;
		if (*code < '0' || *code > '9' || n == 6)
			return 0;
		out[n++] = *code;
	}
	out[n] = '\0';
	return n == 6;
}

enum proof
proof_code(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const struct user *u,
    const char *code, const char *page)
{
	char digits[7] = "";
	uint64_t n = 0;
	int gate = login_gate(idp, t, req, u->name, &n), rc = 0;
	char count[24];

	if (gate < 0)
		return PROOF_FAILED;
	snprintf(count, sizeof(count), "%llu", (unsigned long long)n);
	if (gate == LOGIN_GATE_OPEN && six_digits(code, digits))
		rc = factor_totp_check(&idp->in, t->id, u->id, NULL, digits, clock_now(), NULL,
		    NULL);
	explicit_bzero(digits, sizeof(digits));
	if (rc == 1) {
		login_gate_ok(idp, t, req, u->name);
		return PROOF_OK;
	}
	if (rc < 0)
		return PROOF_FAILED;
	audit_event(idp->in.store, t->id, "login.factor.fail", "user", u->name, "ip",
	    http_client_ip(req), "method", "otp", "reason", gate ? "locked" : "bad_code",
	    "page", page, "failures", count, NULL);
	return gate ? PROOF_LOCKED : PROOF_WRONG;
}

static void
count_totp(const void *rec, void *arg)
{
	const struct factor *f = rec;

	if (f->kind == FACTOR_TOTP && !f->pending)
		(*(int *)arg)++;
}

int
proof_has_totp(struct idp *idp, struct tenant_ctx *t, const struct user *u)
{
	int n = 0;

	if (store_factor_list(idp->in.store, t->id, u->id, count_totp, &n) < 0)
		return -1;
	return n > 0;
}

int
proof_recent(const struct session *s)
{
	uint64_t last = s->authn_instant > s->mfa_at ? s->authn_instant : s->mfa_at;

	return clock_now() - (int64_t)last <= PROOF_RECENT;
}
