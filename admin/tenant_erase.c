/*
 * `tenant erase`: the rules before a tenant's records go (the id repeated as a
 * confirmation, never the operator's own keyspace); the store erases everything in one
 * transaction and writes the operator's audit record with it.
 */
#include "config.h"

#include <string.h>

#include "admin_report.h"
#include "admin_tenantio.h"
#include "audit.h"
#include "instance.h"
#include "log.h"
#include "store.h"

int
admin_tenant_erase(struct admin *a, const char *id, const char *confirm, uint64_t *records_r)
{
	struct audit_entry ae;
	const char *err = NULL;
	int rc;

	*records_r = 0;
	if (confirm == NULL || strcmp(id, confirm))
		return admin_fail(a, ADMIN_INVALID, "confirm",
		    "tenant %s: --confirm must repeat the tenant id", id);
	admin_audit(a, &ae, "operator.tenant.erase", "tenant", id, NULL);
	rc = store_tenant_erase(a->in->store, id, &ae, records_r, &err);
	if (rc == 0)
		return admin_fail(a, ADMIN_NOT_FOUND, NULL, "tenant %s: no such tenant", id);
	if (rc < 0)
		return admin_fail(a, ADMIN_FAILED, NULL, "tenant %s: %s", id, err);
	/* its monthly reports are its data too; the records are gone whatever happens here */
	if (admin_report_remove_tenant(a, a->in->settings.report_dir, id) < 0)
		log_warn("tenant %s: erased, but its reports under %s: %s", id,
		    a->in->settings.report_dir, a->msg);
	admin_ok(a);
	return 0;
}
