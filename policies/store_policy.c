/*
 * Store operations on policy settings: the tenant's, and those of one user, group or app,
 * which refer to its immutable id (so a new object with the same name inherits none) and
 * go with it when it is removed.  Every change moves the tenant's configuration
 * generation: running servers reload their policies on the next request.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "store_int.h"
#include "xmalloc.h"

#define F(tag, type, st, m) { tag, type, offsetof(struct st, m), 0 }

const struct rec_field store_policy_fields[] = {
	F(1, REC_STR, policy, kind),
	F(2, REC_STR, policy, target),
	F(3, REC_STR, policy, key),
	F(4, REC_STR, policy, value),
	REC_END
};

void
store_policy_clear(struct policy *p)
{
	rec_clear(store_policy_fields, p);
	free(p->name);
	p->name = NULL;
}

/* "tenant kind target [key]"; key NULL: the prefix of every key of that target. */
static void
policy_key(struct store_key *k, const char *tenant, const char *kind, const char *target,
    const char *key)
{
	skey_init(k, tenant);
	skey_add(k, kind);
	skey_add(k, target);
	if (key)
		skey_add(k, key);
	else
		skey_prefix(k);
}

/* The id of kind's object called name (new string): 1, 0 when there is none, -1. */
static int
target_of(struct store_txn *t, const char *tenant, const char *kind, const char *name,
    char **id_r)
{
	struct grouprec g;
	struct user u;
	struct app a;
	int rc = -1;

	*id_r = NULL;
	if (!strcmp(kind, "user")) {
		if ((rc = stx_user_get(t, tenant, name, &u)) == 1)
			*id_r = xstrdup(u.id);
		store_user_clear(&u);
	} else if (!strcmp(kind, "group")) {
		if ((rc = stx_group_get(t, tenant, name, &g)) == 1)
			*id_r = xstrdup(g.id);
		store_group_clear(&g);
	} else if (!strcmp(kind, "app")) {
		if ((rc = stx_app_get(t, tenant, name, &a)) == 1)
			*id_r = a.id ? xstrdup(a.id) : NULL;
		store_app_clear(&a);
	}
	return rc == 1 && *id_r == NULL ? -1 : rc;
}

struct policy_op {
	const char *tenant;
	const struct policy_change *ch;	/* setting: the changes, in order */
	size_t n;
	struct audit_entry *full;	/* and their records as written */
	size_t bad;			/* the change that failed */
	struct store_txn *t;		/* listing */
	store_each_fn cb;
	void *arg;
	const char *err;
};

static int
put_policy(struct store_txn *t, const char *tenant, const struct policy_change *c,
    const char *target)
{
	struct policy p = { (char *)c->kind, (char *)target, NULL, (char *)c->key,
		(char *)c->value };
	struct store_key k;

	policy_key(&k, tenant, c->kind, target, c->key);
	if (c->value == NULL)
		return stx_del(t, DB_POLICIES, &k) < 0 ? -1 : 0;
	return stx_put_rec(t, DB_POLICIES, &k, store_policy_fields, &p, 0);
}

/* One change of the transaction with its audit record; 0 or -1 with op->err. */
static int
policy_set_one(struct store_txn *t, struct policy_op *op, size_t i)
{
	const struct policy_change *c = &op->ch[i];
	char *id = NULL;
	int rc = 1;

	op->bad = i;
	if (strcmp(c->kind, "tenant") && (c->name == NULL ||
	    (rc = target_of(t, op->tenant, c->kind, c->name, &id)) != 1)) {
		op->err = c->name == NULL ? "no user, group or app named" : rc == 0 ?
		    (!strcmp(c->kind, "user") ? "no such user" : !strcmp(c->kind, "group") ?
		    "no such group" : "no such app") : op->err;
		return -1;
	}
	rc = put_policy(t, op->tenant, c, id ? id : "");
	free(id);
	return rc == 0 ? stx_audit_entry(t, op->tenant, c->ae, NULL, &op->full[i]) : -1;
}

static int
policy_set_tx(struct store_txn *t, void *arg)
{
	struct policy_op *op = arg;

	for (size_t i = 0; i < op->n; i++)
		if (policy_set_one(t, op, i) == -1)
			return -1;
	return stx_bump_generation(t, op->tenant);
}

int
store_policy_set_all(struct store *st, const char *tenant, const struct policy_change *ch,
    size_t n, size_t *bad_r, const char **errstr)
{
	struct policy_op op = { .tenant = tenant, .ch = ch, .n = n,
		.full = xcalloc(n ? n : 1, sizeof(*op.full)), .err = "cannot store the policy" };
	int rc = store_run(st, 1, policy_set_tx, &op);

	if (rc < 0) {
		*errstr = rc == STORE_FULL ? "database full" : op.err;
		if (bad_r)
			*bad_r = op.bad;
	} else {
		for (size_t i = 0; i < n; i++)
			audit_entry_done(&op.full[i], tenant);
	}
	free(op.full);
	return rc < 0 ? -1 : 0;
}

int
store_policy_set(struct store *st, const char *tenant, const char *kind, const char *name,
    const char *key, const char *value, const struct audit_entry *ae, const char **errstr)
{
	struct policy_change c = { kind, name, key, value, ae };

	return store_policy_set_all(st, tenant, &c, 1, NULL, errstr);
}

/* The current name of a policy's target; NULL when it is gone (never the case after v2). */
static char *
name_of(struct store_txn *t, const char *tenant, const struct policy *p)
{
	char *name = NULL;
	struct grouprec g;
	struct user u;

	if (!strcmp(p->kind, "user") && stx_user_by_id(t, tenant, p->target, &u) == 1)
		name = xstrdup(u.name);
	else if (!strcmp(p->kind, "group") && stx_group_by_id(t, tenant, p->target, &g) == 1)
		name = xstrdup(g.name);
	else if (!strcmp(p->kind, "app"))
		name = stx_app_name(t, tenant, p->target);
	if (!strcmp(p->kind, "user"))
		store_user_clear(&u);
	if (!strcmp(p->kind, "group"))
		store_group_clear(&g);
	return name;
}

static int
list_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct policy_op *op = arg;
	struct policy p = { 0 };

	if (rec_decode(store_policy_fields, &p, val, vlen) == -1)
		return -1;
	if (p.kind && p.target && p.key && p.value) {
		p.name = strcmp(p.kind, "tenant") ? name_of(op->t, op->tenant, &p) : NULL;
		op->cb(&p, op->arg);
	}
	store_policy_clear(&p);
	return 0;
}

static int
list_tx(struct store_txn *t, void *arg)
{
	struct policy_op *op = arg;
	struct store_key k;

	op->t = t;
	skey_init(&k, op->tenant);
	skey_prefix(&k);
	return stx_iter(t, DB_POLICIES, &k, list_cb, op);
}

int
store_policy_list(struct store *st, const char *tenant, store_each_fn cb, void *arg)
{
	struct policy_op op = { .tenant = tenant, .cb = cb, .arg = arg };

	return store_run(st, 0, list_tx, &op);
}

static int
count_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	(*(int *)arg)++;
	return 2;
}

int
stx_target_policies_drop(struct store_txn *t, const char *tenant, const char *kind,
    const char *target)
{
	struct store_key k;
	int n = 0;

	policy_key(&k, tenant, kind, target, NULL);
	if (stx_iter_del(t, DB_POLICIES, &k, count_cb, &n) < 0)
		return -1;
	return n && stx_bump_generation(t, tenant) < 0 ? -1 : n;
}
