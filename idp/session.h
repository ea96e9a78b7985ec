/*
 * SSO sessions in the browser: a random 256-bit cookie whose SHA-256 keys the record, idle
 * and absolute timeouts, and CSRF tokens bound to the session or to a pre-login cookie.
 */
#ifndef SEKISHO_SESSION_H
#define SEKISHO_SESSION_H

#include "idp.h"
#include "store.h"

#define SESSION_COOKIE "sekisho_sid"
#define SESSION_PRE_COOKIE "sekisho_pre"

struct sso_session {
	unsigned char hash[32];
	struct session s;
	struct user user;
};

/*
 * The request's valid session (user loaded, enabled), 1; 0 when there is none (an invalid
 * or expired cookie is removed); -1 on storage errors.
 */
int session_current(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    struct sso_session *ss);
/* Start a session for user after authentication; sets the cookie.  0 or -1. */
int session_start(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct user *u, const char *methods, struct sso_session *ss_r);
/* End the session and clear the cookie. */
void session_end(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const unsigned char hash[32]);
/* Free and wipe what ss holds; NULL is allowed. */
void session_clear(struct sso_session *ss);

/* 1 when the space-separated methods include m. */
int session_methods_has(const char *methods, const char *m);
/*
 * methods with m added, and "mfa" when two kinds of proof are in (something known: pwd;
 * held: otp, hwk, x509; being: user): a new string.
 */
char *session_methods_add(const char *methods, const char *m);

/* The pre-login binding value (sets the cookie when absent); borrowed or new. */
char *session_pre_binding(struct tenant_ctx *t, struct http_req *req);
/* A CSRF token for purpose bound to binding (caller frees). */
char *session_csrf_token(struct tenant_ctx *t, const char *purpose, const char *binding);
/*
 * 1 when token is valid for purpose and binding, not from the future and not older than
 * an hour (10 minutes for "login", a sign-in form).
 */
int session_csrf_check(struct tenant_ctx *t, const char *purpose, const char *binding,
    const char *token);

#endif
