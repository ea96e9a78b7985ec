/*
 * The pages of a person at the IdP: the login form (ID and password, backoff and lockout),
 * the portal of the user's apps, and the logout confirmation.
 */
#ifndef SEKISHO_LOGIN_H
#define SEKISHO_LOGIN_H

#include "idp.h"

void login_get(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
void login_post(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
void portal_get(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
/* /portal/icon/APP: the app's icon, to signed-in users, in a response that runs nothing. */
void portal_icon(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *app);
void logout_page(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
enum { LOGIN_GATE_OPEN, LOGIN_GATE_BACKOFF, LOGIN_GATE_LOCKED };
/*
 * Reserve an attempt to prove something for the user called user (password, second
 * factor, current password) from the request's address, counted as a failure in advance
 * (the same counters and limits as the login form): LOGIN_GATE_OPEN, or BACKOFF/LOCKED
 * with Retry-After set on req, or -1; *count_r is the user's failure count with it.
 */
int login_gate(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *user,
    uint64_t *count_r);
/* The attempt succeeded: the user's failures end. */
void login_gate_ok(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *user);
/*
 * The user proved methods: start (or, for the same user, renew) the session, audit
 * login.ok and go on to the parked request pending (NULL: the portal).
 */
void login_complete(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct user *u, const char *methods, const char *pending);
/* A login the access rules refused (r from access.h): the protocol's answer or the page. */
struct access_result;
void login_refused(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const char *pending, const struct access_result *ar);
/* 1 when s is 1..max bytes without control characters (a typed name or password). */
int login_input_ok(const char *s, size_t max);
/* The path to send a user to for logging in, continuing pending (may be NULL). */
char *login_url(struct tenant_ctx *t, const char *pending);

#endif
