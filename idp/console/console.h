/*
 * The tenant's admin console (/t/TENANT/admin): server-rendered pages for the people a
 * user's role (admin/admin_role.h) lets manage the tenant.  Changes go through admin_*.
 */
#ifndef SEKISHO_CONSOLE_H
#define SEKISHO_CONSOLE_H

#include "idp.h"

/* admin and admin/...: rest is what follows "admin" ("" or "/users" ...). */
void console_route(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const char *rest);

#endif
