/*
 * A tenant's licence (seats, device seats, trial end) and its use, counted inside the
 * write transaction of every change that could take a seat (user add and import, enable,
 * operator flag off; a first active certificate) so that two changes at once cannot both
 * take the last one.  A tenant with licensed 0 has no limit (self-hosted, made before
 * schema 7).
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "store_int.h"

const char store_err_seats[] = "no seat of the licence is free";
const char store_err_device_seats[] = "no device seat of the licence is free";
const char store_err_operators[] = "the tenant has its most operator accounts";
const char store_err_below_use[] = "the licence would be below what is in use";

/* Only what the count needs of a user record (unknown tags are skipped). */
struct seat_user {
	uint64_t disabled;
	uint64_t operator;
};

static const struct rec_field seat_fields[] = {
	{ 6, REC_U64, offsetof(struct seat_user, disabled), 0 },
	{ 13, REC_U64, offsetof(struct seat_user, operator), 0 },
	REC_END
};

static int
user_count_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct store_usage *u = arg;
	struct seat_user s = { 0 };

	if (rec_decode(seat_fields, &s, val, vlen) == -1)
		return -1;
	if (s.operator)
		u->operators++;
	else if (s.disabled)
		u->disabled++;
	else
		u->users++;
	return 0;
}

/* The users' part of the use (cert_holders left 0). */
static int
user_usage(struct store_txn *t, const char *tenant, struct store_usage *u_r)
{
	struct store_key k;

	memset(u_r, 0, sizeof(*u_r));
	skey_init(&k, tenant);
	skey_prefix(&k);
	return stx_iter(t, DB_USERS, &k, user_count_cb, u_r) < 0 ? -1 : 0;
}

int
stx_usage(struct store_txn *t, const char *tenant, int64_t now, struct store_usage *u_r)
{
	if (user_usage(t, tenant, u_r) < 0)
		return -1;
	return stx_cert_holders(t, tenant, now, &u_r->cert_holders);
}

/* The tenant's record: 1, 0 (none), -1. */
static int
tenant_rec(struct store_txn *t, const char *tenant, struct tenant *t_r)
{
	struct store_key k;

	memset(t_r, 0, sizeof(*t_r));
	skey_init(&k, "");
	skey_add(&k, tenant);
	return stx_get_rec(t, DB_TENANTS, &k, store_tenant_fields, t_r);
}

/* The licence part of the tenant's record (0 members when it has none). */
static int
licence_of(struct store_txn *t, const char *tenant, struct tenant *lic_r)
{
	struct tenant rec;
	int rc = tenant_rec(t, tenant, &rec);

	memset(lic_r, 0, sizeof(*lic_r));
	lic_r->licensed = rec.licensed;
	lic_r->seats = rec.seats;
	lic_r->device_seats = rec.device_seats;
	store_tenant_clear(&rec);
	return rc < 0 ? -1 : 0;
}

int
stx_seat_check(struct store_txn *t, const char *tenant, uint64_t more, const char **err)
{
	struct store_usage u;
	struct tenant lic;

	if (licence_of(t, tenant, &lic) < 0)
		return -1;
	if (!lic.licensed || more == 0)
		return 0;
	if (user_usage(t, tenant, &u) < 0)
		return -1;
	if (u.users + more <= lic.seats)
		return 0;
	*err = store_err_seats;
	return -1;
}

int
stx_operator_check(struct store_txn *t, const char *tenant, const char **err)
{
	struct store_usage u;

	if (user_usage(t, tenant, &u) < 0)
		return -1;
	if (u.operators < STORE_OPERATORS_MAX)
		return 0;
	*err = store_err_operators;
	return -1;
}

int
stx_device_seat_check(struct store_txn *t, const char *tenant, int64_t now, const char **err)
{
	struct tenant lic;
	uint64_t holders;

	if (licence_of(t, tenant, &lic) < 0)
		return -1;
	if (!lic.licensed)
		return 0;
	if (stx_cert_holders(t, tenant, now, &holders) < 0)
		return -1;
	if (holders < lic.device_seats)
		return 0;
	*err = store_err_device_seats;
	return -1;
}

struct usage_op {
	const char *tenant;
	int64_t now;
	struct store_usage *use;
	const struct tenant *in;
	int force;
	const struct audit_entry *ae;
	struct audit_entry full;
	const char *err;
};

static int
usage_tx(struct store_txn *t, void *arg)
{
	struct usage_op *op = arg;

	return stx_usage(t, op->tenant, op->now, op->use);
}

int
store_usage(struct store *st, const char *tenant, int64_t now, struct store_usage *u_r)
{
	struct usage_op op = { .tenant = tenant, .now = now, .use = u_r };

	memset(u_r, 0, sizeof(*u_r));
	return store_run(st, 0, usage_tx, &op) < 0 ? -1 : 0;
}

/* 1 when the licence in is below what op->use counts (unlicensed is never). */
static int
below_use(const struct tenant *in, const struct store_usage *use)
{
	return in->licensed && (use->users > in->seats || use->cert_holders > in->device_seats);
}

static int
licence_tx(struct store_txn *t, void *arg)
{
	struct usage_op *op = arg;
	struct store_key k;
	struct tenant rec;
	char extra[96];
	int rc;

	if ((rc = tenant_rec(t, op->tenant, &rec)) != 1)
		goto done;
	if (stx_usage(t, op->tenant, op->now, op->use) < 0) {
		rc = -1;
		goto done;
	}
	if (below_use(op->in, op->use) && !op->force) {
		op->err = store_err_below_use;
		rc = -1;
		goto done;
	}
	rec.licensed = op->in->licensed;
	rec.seats = op->in->licensed ? op->in->seats : 0;
	rec.device_seats = op->in->licensed ? op->in->device_seats : 0;
	rec.trial_until = op->in->licensed ? op->in->trial_until : 0;
	skey_init(&k, "");
	skey_add(&k, op->tenant);
	snprintf(extra, sizeof(extra), "in_use=%llu holders=%llu%s",
	    (unsigned long long)op->use->users, (unsigned long long)op->use->cert_holders,
	    below_use(op->in, op->use) ? " over=yes" : "");
	if (stx_put_rec(t, DB_TENANTS, &k, store_tenant_fields, &rec, 0) != 0 ||
	    stx_audit_entry(t, op->tenant, op->ae, extra, &op->full) < 0)
		rc = -1;
done:
	store_tenant_clear(&rec);
	return rc;
}

int
store_tenant_licence(struct store *st, const char *id, const struct tenant *in, int force,
    int64_t now, const struct audit_entry *ae, struct store_usage *use_r, const char **errstr)
{
	struct usage_op op = { .tenant = id, .now = now, .use = use_r, .in = in, .force = force,
		.ae = ae, .err = "cannot store the licence" };
	int rc;

	memset(use_r, 0, sizeof(*use_r));
	rc = store_run(st, 1, licence_tx, &op);
	if (rc < 0)
		*errstr = rc == STORE_FULL ? "database full" : op.err;
	else if (rc == 1)
		audit_entry_done(&op.full, id);
	return rc;
}

/* The refusal text of a full licence, naming the limit and the use. */
static void
refusal_text(const struct tenant *lic, const struct store_usage *u, const char *err,
    char *buf, size_t len)
{
	if (err == store_err_operators)
		snprintf(buf, len, "a tenant has at most %d operator accounts and %llu exist",
		    STORE_OPERATORS_MAX, (unsigned long long)u->operators);
	else if (err == store_err_device_seats && lic->device_seats == 0)
		snprintf(buf, len, "the licence has no device-certificate option (0 device seats)");
	else if (err == store_err_device_seats)
		snprintf(buf, len, "the licence has %llu device seats and %llu are in use",
		    (unsigned long long)lic->device_seats, (unsigned long long)u->cert_holders);
	else
		snprintf(buf, len, "the licence has %llu seats and %llu are in use",
		    (unsigned long long)lic->seats, (unsigned long long)u->users);
}

int
store_licence_refusal(struct store *st, const char *tenant, const char *err, int64_t now,
    char *buf, size_t len)
{
	struct store_usage u;
	struct tenant t;

	if (err != store_err_seats && err != store_err_device_seats && err != store_err_operators)
		return 0;
	if (store_tenant_get(st, tenant, &t) < 0 || store_usage(st, tenant, now, &u) < 0) {
		store_tenant_clear(&t);
		snprintf(buf, len, "%s", err);
		return 1;
	}
	refusal_text(&t, &u, err, buf, len);
	store_tenant_clear(&t);
	return 1;
}

static int
device_full_tx(struct store_txn *t, void *arg)
{
	struct usage_op *op = arg;

	op->err = NULL;
	if (stx_device_seat_check(t, op->tenant, op->now, &op->err) == 0)
		return 0;
	return op->err ? 1 : -1;
}

int
store_device_seat_full(struct store *st, const char *tenant, int64_t now)
{
	struct usage_op op = { .tenant = tenant, .now = now };

	return store_run(st, 0, device_full_tx, &op);
}
