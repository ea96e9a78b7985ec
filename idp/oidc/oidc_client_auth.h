/*
 * Client authentication for the OIDC endpoints that clients call directly.
 */
#ifndef SEKISHO_OIDC_CLIENT_AUTH_H
#define SEKISHO_OIDC_CLIENT_AUTH_H

#include "oidc.h"

/* 0 with the authenticated client (public clients by client_id), or -1 answered (401). */
int oidc_client_auth(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct form *f, const struct oidc_client **c_r);

#endif
