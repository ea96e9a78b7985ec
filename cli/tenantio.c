/*
 * sekisho tenant export, import and erase: a tenant leaving this Sekisho (admin/
 * admin_tenantio.h has the rules; docs/sekisho-export.5 the file format).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "admin_tenantio.h"
#include "cli.h"

int
cmd_tenant_erase(struct cli *c)
{
	const char *id = arg(c, 0);
	uint64_t n;

	c->adm.tenant = id;
	if (admin_tenant_erase(&c->adm, id, opt(c, "--confirm"), &n) == -1)
		return fail("%s", c->adm.msg);
	printf("tenant %s erased (%" PRIu64 " records), recorded in the operator's audit trail\n",
	    id, n);
	return 0;
}
