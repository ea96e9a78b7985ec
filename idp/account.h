/*
 * The pages a signed-in person helps themselves with (/account: profile, password,
 * second factors, sessions, recent sign-ins) and the password reset by e-mail (/reset).
 */
#ifndef SEKISHO_ACCOUNT_H
#define SEKISHO_ACCOUNT_H

#include "idp.h"

/* account and account/...: rest is what follows "account" ("" or "/totp" ...). */
void account_route(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const char *rest);
/* reset: the request form, and with a token the new-password form (reset.c). */
void reset_page(struct idp *idp, struct tenant_ctx *t, struct http_req *req);

#endif
