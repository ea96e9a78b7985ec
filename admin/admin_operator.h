/*
 * The service operator's scope: what the operator does to whole tenants (create, suspend
 * and resume, delete a trial's API keys, list the monthly reports) for `sekisho tenant
 * suspend|resume` and the operator API at /operator/api/v1/.  Each action is audited in
 * the operator's own trail (tenant STORE_OPERATOR) and in the tenant's.
 */
#ifndef SEKISHO_ADMIN_OPERATOR_H
#define SEKISHO_ADMIN_OPERATOR_H

#include "admin.h"

/*
 * a acts as the operator: a->tenant is ignored, the operator's trail is STORE_OPERATOR's.
 * Each returns 0, or -1 after admin_fail (404 for an unknown tenant).
 */

/* A new tenant id called name (NULL: id) with its signing keys and device CA (keytype NULL: p256). */
int admin_operator_tenant_add(struct admin *a, const char *id, const char *name,
    const char *keytype);
/*
 * Suspend tenant id (every SSO session of it ends: how many in *ended_r) or resume it.
 * Suspending a suspended tenant, or resuming an open one, is a conflict (409).
 */
int admin_operator_suspend(struct admin *a, const char *id, int suspend, int *ended_r);
/* Delete every trial API key of tenant id: how many in *n_r. */
int admin_operator_trial_keys_delete(struct admin *a, const char *id, int *n_r);
/*
 * The monthly reports of tenant id as they lie in the report directory (DIR/reports/ID/
 * YYYY-MM/FILE): cb(month, file, arg) for each file, months in order.
 */
int admin_operator_reports(struct admin *a, const char *id,
    void (*cb)(const char *month, const char *file, void *arg), void *arg);
/* An audit record in the operator's trail about tenant id (pairs of key, value; NULL ends). */
void admin_operator_audit(const struct admin *a, const char *event, const char *id, ...)
    __attribute__((sentinel));

#endif
