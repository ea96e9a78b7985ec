/*
 * Facts about the whole installation kept in the operator's keyspace of the meta
 * database: when the last verified backup finished (written by the backup job, read by
 * /metrics so an alert can fire when backups stop).
 */
#include "config.h"

#include <stddef.h>

#include "store_int.h"

struct backup_last {
	uint64_t when;
};

static const struct rec_field backup_last_fields[] = {
	{ 1, REC_U64, offsetof(struct backup_last, when), 0 },
	REC_END
};

static void
backup_last_key(struct store_key *k)
{
	skey_init(k, STORE_OPERATOR);
	skey_add(k, "backup.last");
}

static int
set_tx(struct store_txn *t, void *arg)
{
	struct store_key k;

	backup_last_key(&k);
	return stx_put_rec(t, DB_META, &k, backup_last_fields, arg, 0);
}

int
store_backup_last_set(struct store *st, int64_t when)
{
	struct backup_last b = { .when = when > 0 ? (uint64_t)when : 0 };

	return store_run(st, 1, set_tx, &b);
}

static int
get_tx(struct store_txn *t, void *arg)
{
	struct store_key k;

	backup_last_key(&k);
	return stx_get_rec(t, DB_META, &k, backup_last_fields, arg) < 0 ? -1 : 0;
}

int
store_backup_last_get(struct store *st, int64_t *when_r)
{
	struct backup_last b = { 0 };

	if (store_run(st, 0, get_tx, &b) == -1)
		return -1;
	*when_r = (int64_t)b.when;
	return 0;
}
