/*
 * The end of a tenant's life on this Sekisho: its export to a versioned JSON document
 * (docs/sekisho-export.5) for the customer or another Sekisho, the import of such a
 * document as a new tenant, and its erasure (every record and key, recorded in the
 * operator's audit trail).  The command line and the operator API call these.
 */
#ifndef SEKISHO_ADMIN_TENANTIO_H
#define SEKISHO_ADMIN_TENANTIO_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "admin.h"

/* The version of the export format written; import reads this one only. */
#define ADMIN_EXPORT_FORMAT "sekisho-tenant-export"
#define ADMIN_EXPORT_VERSION 1

/*
 * Erase tenant id when confirm repeats it: every record of the tenant in one transaction,
 * audited as operator.tenant.erase in the operator's trail.  0 with *records_r (how many
 * records went), or -1 after admin_fail (404 no such tenant, 400 confirm differs).
 */
int admin_tenant_erase(struct admin *a, const char *id, const char *confirm,
    uint64_t *records_r);

/*
 * Tenant id as an export document (docs/sekisho-export.5): settings, branding, licence,
 * users without secrets, groups with members, apps without client secrets, assignments,
 * rules and settings, certificates' public parts, the audit trail.  New, or NULL after
 * admin_fail (404, 500).  Sets a->tenant to id.
 */
json_t *admin_tenant_export(struct admin *a, const char *id);

/* Called for each OIDC client an import made: its new client_id and secret (or NULL). */
typedef void (*admin_import_client_fn)(const char *app, const char *client_id,
    const char *secret, void *arg);
/*
 * Make the export document doc a new tenant (id as, or the document's own id): new keys
 * and device CA (a->ca must be a ca process), then settings, users (without passwords:
 * each sets one through a reset link), groups, apps, assignments, rules and settings,
 * each checked as the admin_* functions check them; the certificates and the audit
 * trail of the document are not imported.  All or nothing: after a failure the tenant
 * is erased again.  0, or -1 after admin_fail (409 the tenant exists, 400 the document).
 * Sets a->tenant to the new tenant's id.
 */
int admin_tenant_import(struct admin *a, json_t *doc, const char *as,
    admin_import_client_fn client, void *arg);

#endif
