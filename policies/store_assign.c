/*
 * App assignments: which users and groups may reach an app that has any.  Each is kept in
 * its own database ("assignments") in both directions, "tenant a APP-ID KIND TARGET-ID"
 * (the record, listed per app) and "tenant t KIND TARGET-ID APP-ID", so removing a user,
 * group or app finds its assignments without a scan.  Names are resolved when written.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "store_int.h"
#include "xmalloc.h"

#define F(tag, type, st, m) { tag, type, offsetof(struct st, m), 0 }

static const struct rec_field assign_fields[] = {
	F(1, REC_STR, assignment, app),
	F(2, REC_STR, assignment, kind),
	F(3, REC_STR, assignment, target),
	REC_END
};

void
store_assignment_clear(struct assignment *a)
{
	rec_clear(assign_fields, a);
	free(a->app_name);
	free(a->name);
	a->app_name = a->name = NULL;
}

/* "tenant a APP KIND TARGET"; kind NULL: the prefix of every assignment of the app. */
static void
by_app_key(struct store_key *k, const char *tenant, const char *app, const char *kind,
    const char *target)
{
	skey_init(k, tenant);
	skey_add(k, "a");
	if (app)
		skey_add(k, app);
	if (kind) {
		skey_add(k, kind);
		skey_add(k, target);
	} else {
		skey_prefix(k);
	}
}

/* "tenant t KIND TARGET APP"; app NULL: the prefix of every assignment of the target. */
static void
by_target_key(struct store_key *k, const char *tenant, const char *kind, const char *target,
    const char *app)
{
	skey_init(k, tenant);
	skey_add(k, "t");
	skey_add(k, kind);
	skey_add(k, target);
	if (app)
		skey_add(k, app);
	else
		skey_prefix(k);
}

int
stx_object_id(struct store_txn *t, const char *tenant, const char *kind, const char *name,
    char **id_r, char **name_r)
{
	struct grouprec g = { 0 };
	struct user u = { 0 };
	struct app a = { 0 };
	const char *id = NULL, *stored = NULL;
	int rc = 0;

	if (!strcmp(kind, "user") && (rc = stx_user_get(t, tenant, name, &u)) == 1) {
		id = u.id;
		stored = u.name;
	} else if (!strcmp(kind, "group") && (rc = stx_group_get(t, tenant, name, &g)) == 1) {
		id = g.id;
		stored = g.name;
	} else if (!strcmp(kind, "app") && (rc = stx_app_get(t, tenant, name, &a)) == 1) {
		id = a.id;
		stored = a.name;
	}
	*id_r = id ? xstrdup(id) : NULL;
	if (name_r)
		*name_r = id ? xstrdup(stored) : NULL;
	store_user_clear(&u);
	store_group_clear(&g);
	store_app_clear(&a);
	return rc == 1 && id == NULL ? -1 : rc;
}

char *
stx_object_name(struct store_txn *t, const char *tenant, const char *kind, const char *id)
{
	struct grouprec g = { 0 };
	struct user u = { 0 };
	char *name = NULL;

	if (!strcmp(kind, "user") && stx_user_by_id(t, tenant, id, &u) == 1)
		name = xstrdup(u.name);
	else if (!strcmp(kind, "group") && stx_group_by_id(t, tenant, id, &g) == 1)
		name = xstrdup(g.name);
	else if (!strcmp(kind, "app"))
		name = stx_app_name(t, tenant, id);
	store_user_clear(&u);
	store_group_clear(&g);
	return name;
}

struct assign_op {
	const char *tenant, *app, *kind, *name;
	int on;
	const struct audit_entry *ae;
	struct audit_entry full;
	const char *err;
	struct store_txn *t;
	store_each_fn cb;
	void *arg;
	char *app_id, *app_name;	/* listing: the app of the entries now walked */
};

/* The ids of the app and of the target, new strings in *app_r and *target_r: 1, 0, -1. */
static int
resolve(struct store_txn *t, struct assign_op *op, char **app_r, char **target_r)
{
	int rc;

	*target_r = NULL;
	if ((rc = stx_object_id(t, op->tenant, "app", op->app, app_r, NULL)) != 1) {
		op->err = rc == 0 ? "no such app" : op->err;
		return rc;
	}
	if ((rc = stx_object_id(t, op->tenant, op->kind, op->name, target_r, NULL)) != 1)
		op->err = rc == 0 ? (!strcmp(op->kind, "user") ? "no such user" :
		    "no such group") : op->err;
	return rc;
}

/* Both entries of an assignment written (on) or deleted: 1 changed, 0 already so, -1. */
static int
write_pair(struct store_txn *t, struct assign_op *op, const char *app, const char *target)
{
	struct assignment a = { (char *)app, (char *)op->kind, (char *)target, NULL, NULL };
	struct store_key ka, kt;
	int rc;

	by_app_key(&ka, op->tenant, app, op->kind, target);
	by_target_key(&kt, op->tenant, op->kind, target, app);
	if (op->on) {
		if ((rc = stx_put_rec(t, DB_ASSIGN, &ka, assign_fields, &a, STX_NOOVERWRITE)) != 0)
			return rc == 1 ? 0 : -1;
		return stx_put(t, DB_ASSIGN, &kt, "", 0, 0) == 0 ? 1 : -1;
	}
	if ((rc = stx_del(t, DB_ASSIGN, &ka)) != 1)
		return rc;
	return stx_del(t, DB_ASSIGN, &kt) < 0 ? -1 : 1;
}

static int
assign_tx(struct store_txn *t, void *arg)
{
	struct assign_op *op = arg;
	char *app, *target;
	int rc;

	if ((rc = resolve(t, op, &app, &target)) == 1)
		rc = write_pair(t, op, app, target);
	else
		rc = -1;	/* an unknown name is an error, not "already so" */
	if (rc == 1 && (stx_audit_entry(t, op->tenant, op->ae, NULL, &op->full) < 0 ||
	    stx_bump_generation(t, op->tenant) < 0))
		rc = -1;
	free(app);
	free(target);
	return rc;
}

/* An entry of the app whose user or group is gone: both entries go. */
static int
removed_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct assign_op *op = arg;
	struct assignment a = { 0 };
	struct store_key k;
	char *name = NULL;
	int rc = 0;

	if (rec_decode(assign_fields, &a, val, vlen) == 0 && a.kind && a.target &&
	    (name = stx_object_name(op->t, op->tenant, a.kind, a.target)) == NULL) {
		by_target_key(&k, op->tenant, a.kind, a.target, a.app);
		rc = stx_del(op->t, DB_ASSIGN, &k) < 0 ? -1 : 2;
		op->on++;	/* counts what went */
	}
	free(name);
	store_assignment_clear(&a);
	return rc;
}

static int
removed_tx(struct store_txn *t, void *arg)
{
	struct assign_op *op = arg;
	struct store_key k;
	char *app;
	int rc;

	op->t = t;
	op->on = 0;
	if ((rc = stx_object_id(t, op->tenant, "app", op->app, &app, NULL)) != 1) {
		op->err = rc == 0 ? "no such app" : op->err;
		return -1;
	}
	by_app_key(&k, op->tenant, app, NULL, NULL);
	free(app);
	if (stx_iter_del(t, DB_ASSIGN, &k, removed_cb, op) < 0)
		return -1;
	if (op->on && (stx_audit_entry(t, op->tenant, op->ae, NULL, &op->full) < 0 ||
	    stx_bump_generation(t, op->tenant) < 0))
		return -1;
	return op->on;
}

int
store_assign(struct store *st, const char *tenant, const char *app, const char *kind,
    const char *name, int on, const struct audit_entry *ae, const char **errstr)
{
	struct assign_op op = { .tenant = tenant, .app = app, .kind = kind, .name = name,
		.on = on, .ae = ae, .err = "cannot store the assignment" };
	int rc;

	if (!strcmp(kind, "removed") && on) {
		*errstr = "an app is assigned to a user or a group";
		return -1;
	}
	if (strcmp(kind, "user") && strcmp(kind, "group") && strcmp(kind, "removed")) {
		*errstr = "an app is assigned to a user or a group";
		return -1;
	}
	rc = store_run(st, 1, strcmp(kind, "removed") ? assign_tx : removed_tx, &op);
	if (rc < 0)
		*errstr = rc == STORE_FULL ? "database full" : op.err;
	else if (rc >= 1)
		audit_entry_done(&op.full, tenant);
	return rc < 0 ? -1 : rc;
}

/* Entries come grouped by app: its name is looked up once per app. */
static void
name_app(struct assign_op *op, struct assignment *a)
{
	if (op->app_id == NULL || strcmp(op->app_id, a->app)) {
		free(op->app_id);
		free(op->app_name);
		op->app_id = xstrdup(a->app);
		op->app_name = stx_app_name(op->t, op->tenant, a->app);
	}
	a->app_name = xstrdup(op->app_name ? op->app_name : "?removed");
}

static int
list_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct assign_op *op = arg;
	struct assignment a = { 0 };

	if (rec_decode(assign_fields, &a, val, vlen) == -1)
		return -1;
	if (a.app && a.kind && a.target) {
		name_app(op, &a);
		a.name = stx_object_name(op->t, op->tenant, a.kind, a.target);
		if (a.name == NULL)
			a.name = xstrdup("?removed");
		op->cb(&a, op->arg);
	}
	store_assignment_clear(&a);
	return 0;
}

static int
list_tx(struct store_txn *t, void *arg)
{
	struct assign_op *op = arg;
	struct store_key k;
	struct app a;
	int rc;

	op->t = t;
	if (op->app == NULL) {
		by_app_key(&k, op->tenant, NULL, NULL, NULL);
		return stx_iter(t, DB_ASSIGN, &k, list_cb, op);
	}
	if ((rc = stx_app_get(t, op->tenant, op->app, &a)) == 1 && a.id) {
		by_app_key(&k, op->tenant, a.id, NULL, NULL);
		rc = stx_iter(t, DB_ASSIGN, &k, list_cb, op);
	}
	store_app_clear(&a);
	return rc < 0 ? -1 : 0;
}

int
store_assignments(struct store *st, const char *tenant, const char *app, store_each_fn cb,
    void *arg)
{
	struct assign_op op = { .tenant = tenant, .app = app, .cb = cb, .arg = arg };
	int rc = store_run(st, 0, list_tx, &op);

	free(op.app_id);
	free(op.app_name);
	return rc;
}

/* ---- removal of a user, group or app ---- */

struct drop {
	struct store_txn *t;
	const char *tenant, *kind, *id;
	size_t plen;		/* the length of the prefix walked */
	int n;
	int kept;		/* last assignments of their app, kept to keep it closed */
};

static int
count_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	return ++*(int *)arg > 1;	/* two are enough to know */
}

/* How many assignments the app with this id has (at most 2 counted), or -1. */
static int
app_assignments(struct store_txn *t, const char *tenant, const char *app)
{
	struct store_key k;
	int n = 0;

	by_app_key(&k, tenant, app, NULL, NULL);
	return stx_iter(t, DB_ASSIGN, &k, count_cb, &n) < 0 ? -1 : n;
}

/*
 * A by-target entry: its by-app twin goes too ("tenant t KIND TARGET APP") — unless it is
 * the app's last assignment: an app restricted on purpose does not open to the whole
 * tenant because its one group or user went; it stays assigned to the removed id (listed
 * "?removed"), which nobody has, until `app unassign APP --removed`.
 */
static int
drop_target_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct drop *d = arg;
	char *app = xstrndup((const char *)key + d->plen, klen - d->plen);
	struct store_key k;
	int n = app_assignments(d->t, d->tenant, app);

	by_app_key(&k, d->tenant, app, d->kind, d->id);
	free(app);
	if (n < 0)
		return -1;
	if (n < 2) {
		d->kept++;
		return 0;
	}
	d->n++;
	return stx_del(d->t, DB_ASSIGN, &k) < 0 ? -1 : 2;
}

/* A by-app entry: its by-target twin goes too (the record names both). */
static int
drop_app_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct drop *d = arg;
	struct assignment a = { 0 };
	struct store_key k;
	int rc = 2;

	if (rec_decode(assign_fields, &a, val, vlen) == 0 && a.kind && a.target) {
		by_target_key(&k, d->tenant, a.kind, a.target, d->id);
		rc = stx_del(d->t, DB_ASSIGN, &k) < 0 ? -1 : 2;
	}
	store_assignment_clear(&a);
	d->n++;
	return rc;
}

int
stx_assignments_drop(struct store_txn *t, const char *tenant, const char *kind, const char *id)
{
	struct drop d = { t, tenant, kind, id, 0, 0, 0 };
	struct store_key k;
	int rc;

	if (!strcmp(kind, "app")) {
		by_app_key(&k, tenant, id, NULL, NULL);
		rc = stx_iter_del(t, DB_ASSIGN, &k, drop_app_cb, &d);
	} else {
		by_target_key(&k, tenant, kind, id, NULL);
		d.plen = k.len;
		rc = stx_iter_del(t, DB_ASSIGN, &k, drop_target_cb, &d);
	}
	if (rc < 0)
		return -1;
	return d.n && stx_bump_generation(t, tenant) < 0 ? -1 : d.n;
}
