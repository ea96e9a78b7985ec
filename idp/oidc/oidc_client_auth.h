/*
 * Client authentication for the OIDC endpoints that clients call directly.
 */
#ifndef SEKISHO_OIDC_CLIENT_AUTH_H
#define SEKISHO_OIDC_CLIENT_AUTH_H

#include "oidc.h"

/*
 * The decision without HTTP (unit tests): hdr is the Authorization header or NULL, and
 * the caller has made sure only one method is used.  0 with the authenticated client; -1
 * with *why_r (static) and *client_r (the client_id claimed, borrowed, or NULL) for the
 * audit record.
 */
int oidc_client_check(struct idp *idp, struct tenant_ctx *t, const char *hdr,
    const struct form *f, const struct oidc_client **c_r, const char **client_r,
    const char **why_r);
/* 0 with the authenticated client (public clients by client_id), or -1 answered (401). */
int oidc_client_auth(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct form *f, const struct oidc_client **c_r);

#endif
