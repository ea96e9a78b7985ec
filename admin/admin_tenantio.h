/*
 * The end of a tenant's life on this Sekisho: its export to a versioned JSON document
 * (docs/sekisho-export.5) for the customer or another Sekisho, the import of such a
 * document as a new tenant, and its erasure (every record and key, recorded in the
 * operator's audit trail).  The command line and the operator API call these.
 */
#ifndef SEKISHO_ADMIN_TENANTIO_H
#define SEKISHO_ADMIN_TENANTIO_H

#include <stdint.h>

#include "admin.h"

/*
 * Erase tenant id when confirm repeats it: every record of the tenant in one transaction,
 * audited as operator.tenant.erase in the operator's trail.  0 with *records_r (how many
 * records went), or -1 after admin_fail (404 no such tenant, 400 confirm differs).
 */
int admin_tenant_erase(struct admin *a, const char *id, const char *confirm,
    uint64_t *records_r);

#endif
