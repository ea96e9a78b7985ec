/*
 * Request dispatch: the paths every listener answers, the tenant of a /t/TENANT/ path, and
 * the handlers behind each path of a tenant: the core's pages and each protocol's routes.
 */
#ifndef SEKISHO_ROUTES_H
#define SEKISHO_ROUTES_H

#include "idp.h"

/* What every listener answers alike (/healthz, /static/): 1 when answered. */
int route_common(struct idp *idp, struct http_req *req);
/*
 * The tenant of a /t/TENANT[/...] path (a reference the caller releases) and in *rest what
 * follows the id ("" or "/..."); NULL when there is none, after answering 404.
 */
struct tenant_ctx *route_tenant(struct idp *idp, struct http_req *req, const char **rest);

#endif
