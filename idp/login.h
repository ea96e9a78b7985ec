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
/*
 * Reserve an attempt of user (a name) from the request's address before a secret other
 * than the login form's is checked (account pages), under the same backoff and lockout:
 * 0 go on, 1 refused (*retry_r seconds for Retry-After), -1 storage error.  *count_r is
 * the user's failure count with this attempt, which counts as a failure until
 * store_failure_success gives it back.
 */
int login_gate(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *user,
    uint64_t *count_r, int64_t *retry_r);
/* The path to send a user to for logging in, continuing pending (may be NULL). */
char *login_url(struct tenant_ctx *t, const char *pending);

#endif
