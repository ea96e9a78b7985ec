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
/* The path to send a user to for logging in, continuing pending (may be NULL). */
char *login_url(struct tenant_ctx *t, const char *pending);

#endif
