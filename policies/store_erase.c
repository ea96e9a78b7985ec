/*
 * The end of a tenant: every record under its key prefix in every database, and its
 * record in the tenants database, deleted in one write transaction with the erasure
 * recorded in the operator's audit trail (STORE_OPERATOR), so nothing half-erased is ever
 * seen and the record of the erasure outlives the tenant.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "store_int.h"

struct erase_op {
	const char *tenant;
	const struct audit_entry *ae;
	struct audit_entry full;
	uint64_t removed;
	const char *err;
};

static int
count_del_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	uint64_t *n = arg;

	(void)key, (void)klen, (void)val, (void)vlen;
	(*n)++;
	return 2;
}

/* DB_META "\0generation-floor": no tenant's prefix, so it outlives every tenant. */
static void
floor_key(struct store_key *k)
{
	skey_init(k, "");
	skey_add(k, "generation-floor");
}

uint64_t
stx_generation_floor(struct store_txn *t)
{
	struct store_key k;
	uint64_t n;

	floor_key(&k);
	(void)stx_meta_u64(t, &k, &n);
	return n;
}

/* Raise the floor to tenant's generation before its records go. */
static int
floor_raise(struct store_txn *t, const char *tenant)
{
	struct store_key k;
	uint64_t gen;

	skey_init(&k, tenant);
	skey_add(&k, "generation");
	if (stx_meta_u64(t, &k, &gen) < 0)
		return -1;
	if (gen <= stx_generation_floor(t))
		return 0;
	floor_key(&k);
	return stx_meta_put_u64(t, &k, gen);
}

static int
erase_tx(struct store_txn *t, void *arg)
{
	struct erase_op *op = arg;
	struct store_key k;
	char extra[64];
	int rc;

	skey_init(&k, "");
	skey_add(&k, op->tenant);
	if ((rc = stx_del(t, DB_TENANTS, &k)) != 1) {
		op->err = rc == 0 ? "no such tenant" : "cannot erase the tenant";
		return rc == 0 ? 0 : -1;
	}
	op->removed = 1;
	if (floor_raise(t, op->tenant) < 0)
		return -1;
	/* "T\0": the keys of T and none of a tenant whose id merely begins with T. */
	skey_init(&k, op->tenant);
	skey_prefix(&k);
	for (int db = 0; db < DB__COUNT; db++)
		if (stx_iter_del(t, (enum store_db)db, &k, count_del_cb, &op->removed) < 0)
			return -1;
	snprintf(extra, sizeof(extra), "records=%llu", (unsigned long long)op->removed);
	if (stx_audit_entry(t, STORE_OPERATOR, op->ae, extra, &op->full) < 0)
		return -1;
	return 1;
}

int
store_tenant_erase(struct store *st, const char *tenant, const struct audit_entry *ae,
    uint64_t *records_r, const char **errstr)
{
	struct erase_op op = { .tenant = tenant, .ae = ae, .err = "cannot erase the tenant" };
	int rc;

	if (!store_valid_name(tenant, STORE_NAME_MAX)) {
		*errstr = "no such tenant";
		return 0;
	}
	rc = store_run(st, 1, erase_tx, &op);
	if (rc < 0)
		*errstr = rc == STORE_FULL ? "database full" : op.err;
	else if (rc == 0)
		*errstr = op.err;
	else
		audit_entry_done(&op.full, STORE_OPERATOR);
	if (records_r)
		*records_r = rc == 1 ? op.removed : 0;
	return rc < 0 ? -1 : rc;
}
