/*
 * Store operations on groups and memberships.  A group record is keyed by its immutable
 * id, its name is an index to it; memberships pair a user id with a group id in both
 * directions ("u" user group, "g" group user), so either side can be listed or removed.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "store_int.h"
#include "xmalloc.h"

#define F(tag, type, st, m) { tag, type, offsetof(struct st, m), 0 }

const struct rec_field store_group_fields[] = {
	F(1, REC_STR, grouprec, id),
	F(2, REC_STR, grouprec, name),
	F(3, REC_U64, grouprec, created),
	REC_END
};

void
store_group_clear(struct grouprec *g)
{
	rec_clear(store_group_fields, g);
}

/* "tenant u USER-ID GROUP-ID" or "tenant g GROUP-ID USER-ID"; b NULL: the prefix of a. */
static void
member_key(struct store_key *k, const char *tenant, const char *side, const char *a,
    const char *b)
{
	skey_init(k, tenant);
	skey_add(k, side);
	skey_add(k, a);
	if (b)
		skey_add(k, b);
	else
		skey_prefix(k);
}

int
stx_group_by_id(struct store_txn *t, const char *tenant, const char *id, struct grouprec *g_r)
{
	struct store_key k;

	memset(g_r, 0, sizeof(*g_r));
	skey_of(&k, tenant, id);
	return stx_get_rec(t, DB_GROUPS, &k, store_group_fields, g_r);
}

int
stx_group_get(struct store_txn *t, const char *tenant, const char *name, struct grouprec *g_r)
{
	struct store_key k;
	const void *v;
	size_t len;
	char *id;
	int rc;

	memset(g_r, 0, sizeof(*g_r));
	if (strlen(name) > STORE_NAME_MAX)
		return 0;
	skey_of(&k, tenant, name);
	if ((rc = stx_get(t, DB_GROUPS_NAME, &k, &v, &len)) != 1)
		return rc;
	id = xstrndup(v, len);
	rc = stx_group_by_id(t, tenant, id, g_r);
	free(id);
	return rc;
}

struct group_op {
	const char *tenant, *group, *user, *id, *new_name;
	const struct audit_entry *ae;
	struct audit_entry full;
	struct grouprec *out;
	const char *err;
};

static int
group_add_tx(struct store_txn *t, void *arg)
{
	struct group_op *op = arg;
	struct grouprec g = { (char *)op->id, (char *)op->group, (uint64_t)clock_now() };
	struct store_key k;
	int rc;

	skey_of(&k, op->tenant, op->group);
	if ((rc = stx_put(t, DB_GROUPS_NAME, &k, op->id, strlen(op->id), STX_NOOVERWRITE)) != 0) {
		op->err = rc == 1 ? "group already exists" : op->err;
		return -1;
	}
	skey_of(&k, op->tenant, op->id);
	if (stx_put_rec(t, DB_GROUPS, &k, store_group_fields, &g, STX_NOOVERWRITE) != 0)
		return -1;
	return stx_audit_entry(t, op->tenant, op->ae, NULL, &op->full);
}

int
store_group_add(struct store *st, const char *tenant, const char *group,
    const struct audit_entry *ae, const char **errstr)
{
	struct group_op op = { .tenant = tenant, .group = group, .ae = ae,
		.err = "cannot store the group" };
	char *id;
	int rc;

	if (!store_valid_name(group, STORE_NAME_MAX)) {
		*errstr = "invalid group name";
		return -1;
	}
	op.id = id = store_new_id();
	rc = store_run(st, 1, group_add_tx, &op);
	free(id);
	if (rc < 0)
		*errstr = rc == STORE_FULL ? "database full" : op.err;
	else
		audit_entry_done(&op.full, tenant);
	return rc < 0 ? -1 : 0;
}

struct drop {
	struct store_txn *t;
	const char *tenant;
	const char *mirror;	/* the other side's name ("u" or "g") */
	const char *self;	/* this side's id */
	size_t skip;
	int n;
};

/* Delete the mirror of each membership under the prefix; the cursor deletes this side. */
static int
drop_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct drop *d = arg;
	char *other = xstrndup((const char *)key + d->skip, klen - d->skip);
	struct store_key k;
	int rc;

	member_key(&k, d->tenant, d->mirror, other, d->self);
	rc = stx_del(d->t, DB_MEMBERS, &k);
	free(other);
	d->n++;
	return rc < 0 ? -1 : 2;
}

/* Every membership of side ("u": a user, "g": a group) id; how many, or -1. */
static int
drop_memberships(struct store_txn *t, const char *tenant, const char *side, const char *id)
{
	struct drop d = { t, tenant, !strcmp(side, "u") ? "g" : "u", id, 0, 0 };
	struct store_key k;

	member_key(&k, tenant, side, id, NULL);
	d.skip = k.len;
	return stx_iter_del(t, DB_MEMBERS, &k, drop_cb, &d) < 0 ? -1 : d.n;
}

int
stx_user_memberships_drop(struct store_txn *t, const char *tenant, const char *user_id)
{
	return drop_memberships(t, tenant, "u", user_id);
}

static int
group_remove_tx(struct store_txn *t, void *arg)
{
	struct group_op *op = arg;
	struct store_key k;
	struct grouprec g;
	char extra[200];
	int rc, members, pols, assigned;

	if ((rc = stx_group_get(t, op->tenant, op->group, &g)) != 1)
		return rc;
	skey_of(&k, op->tenant, g.name);
	rc = stx_del(t, DB_GROUPS_NAME, &k) < 0;
	skey_of(&k, op->tenant, g.id);
	rc = rc || stx_del(t, DB_GROUPS, &k) < 0 ||
	    (members = drop_memberships(t, op->tenant, "g", g.id)) < 0 ||
	    (pols = stx_target_policies_drop(t, op->tenant, "group", g.id)) < 0 ||
	    (assigned = stx_assignments_drop(t, op->tenant, "group", g.id)) < 0;
	if (!rc) {
		snprintf(extra, sizeof(extra), "group_id=%s memberships=%d policies=%d "
		    "assignments=%d", g.id, members, pols, assigned);
		rc = stx_audit_entry(t, op->tenant, op->ae, extra, &op->full) < 0 ||
		    stx_bump_generation(t, op->tenant) < 0;
	}
	store_group_clear(&g);
	return rc ? -1 : 1;
}

int
store_group_remove(struct store *st, const char *tenant, const char *group,
    const struct audit_entry *ae)
{
	struct group_op op = { .tenant = tenant, .group = group, .ae = ae };
	int rc = store_run(st, 1, group_remove_tx, &op);

	if (rc == 1)
		audit_entry_done(&op.full, tenant);
	return rc;
}

static int
group_get_tx(struct store_txn *t, void *arg)
{
	struct group_op *op = arg;

	store_group_clear(op->out);
	return stx_group_get(t, op->tenant, op->group, op->out);
}

int
store_group_get(struct store *st, const char *tenant, const char *group, struct grouprec *g_r)
{
	struct group_op op = { .tenant = tenant, .group = group, .out = g_r };

	memset(g_r, 0, sizeof(*g_r));
	return store_run(st, 0, group_get_tx, &op);
}

static int
group_by_id_tx(struct store_txn *t, void *arg)
{
	struct group_op *op = arg;

	store_group_clear(op->out);
	return stx_group_by_id(t, op->tenant, op->id, op->out);
}

int
store_group_get_by_id(struct store *st, const char *tenant, const char *id,
    struct grouprec *g_r)
{
	struct group_op op = { .tenant = tenant, .id = id, .out = g_r };

	memset(g_r, 0, sizeof(*g_r));
	if (id == NULL || strlen(id) > 64)
		return 0;
	return store_run(st, 0, group_by_id_tx, &op);
}

/* The name index moves to the new name; memberships and policies refer to the id. */
static int
group_rename_tx(struct store_txn *t, void *arg)
{
	struct group_op *op = arg;
	struct store_key k;
	struct grouprec g;
	int rc;

	if ((rc = stx_group_get(t, op->tenant, op->group, &g)) != 1)
		return rc;
	skey_of(&k, op->tenant, g.name);
	rc = stx_del(t, DB_GROUPS_NAME, &k) < 0 ? -1 : 0;
	skey_of(&k, op->tenant, op->new_name);
	if (rc == 0 && (rc = stx_put(t, DB_GROUPS_NAME, &k, g.id, strlen(g.id),
	    STX_NOOVERWRITE)) == 1)
		op->err = "group already exists";
	free(g.name);
	g.name = xstrdup(op->new_name);
	skey_of(&k, op->tenant, g.id);
	if (rc == 0)
		rc = stx_put_rec(t, DB_GROUPS, &k, store_group_fields, &g, 0);
	if (rc == 0)
		rc = stx_audit_entry(t, op->tenant, op->ae, NULL, &op->full) < 0 ||
		    stx_bump_generation(t, op->tenant) < 0;
	store_group_clear(&g);
	return rc == 0 ? 1 : -1;
}

int
store_group_rename(struct store *st, const char *tenant, const char *name,
    const char *new_name, const struct audit_entry *ae, const char **errstr)
{
	struct group_op op = { .tenant = tenant, .group = name, .new_name = new_name, .ae = ae,
		.err = "cannot store the group" };
	int rc;

	if (new_name == NULL || !store_valid_name(new_name, STORE_NAME_MAX)) {
		*errstr = "invalid group name";
		return -1;
	}
	if (name == NULL || strlen(name) > STORE_NAME_MAX)
		return 0;
	rc = store_run(st, 1, group_rename_tx, &op);
	if (rc < 0)
		*errstr = rc == STORE_FULL ? "database full" : op.err;
	else if (rc == 1)
		audit_entry_done(&op.full, tenant);
	return rc < 0 ? -1 : rc;
}

/* In the order of their names. */
int
store_group_list(struct store *st, const char *tenant, store_each_fn cb, void *arg)
{
	return store_each_by(st, tenant, DB_GROUPS_NAME, DB_GROUPS, store_group_fields,
	    sizeof(struct grouprec), cb, arg);
}

/* The group and the user of a membership change, both by name: 1 both exist, else 0/-1. */
static int
resolve(struct store_txn *t, struct group_op *op, struct grouprec *g, struct user *u)
{
	int rc;

	memset(u, 0, sizeof(*u));
	if ((rc = stx_group_get(t, op->tenant, op->group, g)) != 1) {
		op->err = rc == 0 ? "no such group" : op->err;
		return rc;
	}
	if ((rc = stx_user_get(t, op->tenant, op->user, u)) != 1)
		op->err = rc == 0 ? "no such user" : op->err;
	return rc;
}

static int
member_tx(struct store_txn *t, struct group_op *op, int add)
{
	struct store_key uk, gk;
	struct grouprec g;
	struct user u;
	int rc;

	if ((rc = resolve(t, op, &g, &u)) == 1) {
		member_key(&uk, op->tenant, "u", u.id, g.id);
		member_key(&gk, op->tenant, "g", g.id, u.id);
		if (add)
			rc = stx_put(t, DB_MEMBERS, &uk, "", 0, 0) == 0 &&
			    stx_put(t, DB_MEMBERS, &gk, "", 0, 0) == 0 ? 1 : -1;
		else if ((rc = stx_del(t, DB_MEMBERS, &uk)) >= 0 && stx_del(t, DB_MEMBERS, &gk) < 0)
			rc = -1;
	}
	if (rc == 1 && stx_audit_entry(t, op->tenant, op->ae, NULL, &op->full) < 0)
		rc = -1;
	store_group_clear(&g);
	store_user_clear(&u);
	return add && rc == 0 ? -1 : rc;
}

static int
member_add_tx(struct store_txn *t, void *arg)
{
	return member_tx(t, arg, 1);
}

static int
member_remove_tx(struct store_txn *t, void *arg)
{
	return member_tx(t, arg, 0);
}

int
store_member_add(struct store *st, const char *tenant, const char *group, const char *user,
    const struct audit_entry *ae, const char **errstr)
{
	struct group_op op = { .tenant = tenant, .group = group, .user = user, .ae = ae,
		.err = "cannot store the membership" };

	if (store_run(st, 1, member_add_tx, &op) < 0) {
		*errstr = op.err;
		return -1;
	}
	audit_entry_done(&op.full, tenant);
	return 0;
}

int
store_member_remove(struct store *st, const char *tenant, const char *group, const char *user,
    const struct audit_entry *ae)
{
	struct group_op op = { .tenant = tenant, .group = group, .user = user, .ae = ae };
	int rc = store_run(st, 1, member_remove_tx, &op);

	if (rc == 1)
		audit_entry_done(&op.full, tenant);
	return rc < 0 ? -1 : rc;
}

/* The other side of each membership under a prefix, by name: (name, id) pairs. */
struct pair {
	char *name;
	char *id;
};

struct collect {
	struct store_txn *t;
	const char *tenant;
	size_t skip;
	int users;		/* the other side is a user (a group's members), else a group */
	struct pair *v;
	size_t n;
};

static char *
other_name(struct collect *c, const char *id, int *rc)
{
	char *name = NULL;
	struct grouprec g;
	struct user u;

	if (c->users) {
		if ((*rc = stx_user_by_id(c->t, c->tenant, id, &u)) == 1)
			name = xstrdup(u.name);
		store_user_clear(&u);
	} else {
		if ((*rc = stx_group_by_id(c->t, c->tenant, id, &g)) == 1)
			name = xstrdup(g.name);
		store_group_clear(&g);
	}
	return name;
}

static int
collect_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct collect *c = arg;
	char *id = xstrndup((const char *)key + c->skip, klen - c->skip), *name;
	int rc = 0;

	if ((name = other_name(c, id, &rc)) == NULL) {
		free(id);
		return rc < 0 ? -1 : 0;
	}
	c->v = xreallocarray(c->v, c->n + 1, sizeof(*c->v));
	c->v[c->n].name = name;
	c->v[c->n++].id = id;
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct pair *)a)->name, ((const struct pair *)b)->name);
}

struct collect_op {
	const char *tenant, *side, *self;	/* self: a user id, or a group name */
	struct collect c;
};

static int
collect_tx(struct store_txn *t, void *arg)
{
	struct collect_op *op = arg;
	struct store_key k;
	struct grouprec g;
	int rc = 1;

	op->c.t = t;
	if (!strcmp(op->side, "g")) {	/* a group's members: the group by name first */
		if ((rc = stx_group_get(t, op->tenant, op->self, &g)) != 1)
			return rc;
		member_key(&k, op->tenant, "g", g.id, NULL);
		store_group_clear(&g);
	} else {
		member_key(&k, op->tenant, "u", op->self, NULL);
	}
	op->c.skip = k.len;
	return stx_iter(t, DB_MEMBERS, &k, collect_cb, &op->c) < 0 ? -1 : rc;
}

/* Names (want_ids 0) or ids of the other side, sorted by name, NULL-terminated. */
static int
collect(struct store *st, const char *tenant, const char *side, const char *self, int want_ids,
    char ***v_r)
{
	struct collect_op op = { tenant, side, self, { .tenant = tenant, .users = side[0] == 'g' } };
	char **v;
	int rc = store_run(st, 0, collect_tx, &op);

	if (op.c.n > 1)		/* qsort's base must not be NULL, even for none */
		qsort(op.c.v, op.c.n, sizeof(*op.c.v), by_name);
	v = xcalloc(op.c.n + 1, sizeof(char *));
	for (size_t i = 0; i < op.c.n; i++) {
		v[i] = want_ids ? op.c.v[i].id : op.c.v[i].name;
		free(want_ids ? op.c.v[i].name : op.c.v[i].id);
	}
	free(op.c.v);
	if (rc < 0) {
		store_strv_free(v);
		v = NULL;
	}
	*v_r = v;
	return rc;
}

int
store_group_members(struct store *st, const char *tenant, const char *group, char ***names_r)
{
	return collect(st, tenant, "g", group, 0, names_r);
}

int
store_user_groups(struct store *st, const char *tenant, const char *user_id, char ***groups_r)
{
	return collect(st, tenant, "u", user_id, 0, groups_r) < 0 ? -1 : 0;
}

int
store_user_group_ids(struct store *st, const char *tenant, const char *user_id, char ***ids_r)
{
	return collect(st, tenant, "u", user_id, 1, ids_r) < 0 ? -1 : 0;
}

void
store_strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}
