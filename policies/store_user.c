/*
 * Store operations on users.  A user record is keyed by its immutable id; its name (unique
 * without regard to ASCII case) and e-mail address are indexes to the id.  Removing a user
 * removes or revokes everything that refers to it in the same transaction.
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

const struct rec_field store_user_fields[] = {
	F(1, REC_STR, user, id),
	F(2, REC_STR, user, name),
	F(3, REC_STR, user, email),
	F(4, REC_STR, user, display_name),
	F(5, REC_STR, user, pwhash),
	F(6, REC_U64, user, disabled),
	F(7, REC_U64, user, created),
	F(8, REC_U64, user, pw_changed),
	F(9, REC_STR, user, attrs),
	F(10, REC_U64, user, break_glass),
	F(11, REC_U64, user, must_change),
	F(12, REC_U64, user, role),
	F(13, REC_U64, user, operator),
	REC_END
};

#define CRL_REASON_CESSATION 5

void
store_user_clear(struct user *u)
{
	rec_clear(store_user_fields, u);
}

void
skey_add_folded(struct store_key *k, const char *s)
{
	char lower[256];
	size_t i;

	for (i = 0; s[i] && i < sizeof(lower) - 1; i++)
		lower[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
	lower[i] = '\0';
	if (s[i]) {	/* longer than any valid name or address: never found */
		k->overflow = 1;
		return;
	}
	skey_add(k, lower);
}

static void
index_key(struct store_key *k, const char *tenant, const char *value)
{
	skey_init(k, tenant);
	skey_add_folded(k, value);
}

int
stx_user_by_id(struct store_txn *t, const char *tenant, const char *id, struct user *u_r)
{
	struct store_key k;

	memset(u_r, 0, sizeof(*u_r));
	skey_of(&k, tenant, id);
	return stx_get_rec(t, DB_USERS, &k, store_user_fields, u_r);
}

/* The user an index (DB_USERS_NAME or DB_USERS_EMAIL) points to: 1/0/-1. */
static int
by_index(struct store_txn *t, enum store_db db, const char *tenant, const char *value,
    struct user *u_r)
{
	struct store_key k;
	const void *v;
	size_t len;
	char *id;
	int rc;

	memset(u_r, 0, sizeof(*u_r));
	index_key(&k, tenant, value);
	if (k.overflow)		/* longer than any name or address */
		return 0;
	if ((rc = stx_get(t, db, &k, &v, &len)) != 1)
		return rc;
	id = xstrndup(v, len);
	rc = stx_user_by_id(t, tenant, id, u_r);
	free(id);
	return rc;
}

int
stx_user_get(struct store_txn *t, const char *tenant, const char *name, struct user *u_r)
{
	return by_index(t, DB_USERS_NAME, tenant, name, u_r);
}

static int
put_index(struct store_txn *t, enum store_db db, const char *tenant, const char *value,
    const char *id)
{
	struct store_key k;

	index_key(&k, tenant, value);
	return stx_put(t, db, &k, id, strlen(id), STX_NOOVERWRITE);
}

static int
del_index(struct store_txn *t, enum store_db db, const char *tenant, const char *value)
{
	struct store_key k;

	index_key(&k, tenant, value);
	return stx_del(t, db, &k) < 0 ? -1 : 0;
}

struct user_op {
	const char *tenant;
	const char *name;
	const char *new_name;
	const struct user *in;
	struct user *out;
	enum store_db index;
	int disabled;
	const char *pwhash;
	int64_t now;
	int by_id;			/* name is the user's id */
	int chosen;			/* the user chose the password: must_change clears */
	int counted;			/* the licence was checked for the whole import */
	const unsigned char *keep;	/* the session that stays, or NULL */
	const struct user_change *change;
	const struct audit_entry *ae;
	struct audit_entry full;
	const char *err;
};

/* What adding u takes of the licence: an operator account, or a seat when active. */
static int
licence_allows(struct store_txn *t, const char *tenant, const struct user *u,
    const char **err)
{
	if (u->operator)
		return stx_operator_check(t, tenant, err);
	return stx_seat_check(t, tenant, !u->disabled, err);
}

static int
user_add_tx(struct store_txn *t, void *arg)
{
	struct user_op *op = arg;
	struct store_key k;
	int rc;

	if (!op->counted && licence_allows(t, op->tenant, op->in, &op->err) < 0)
		return -1;
	if ((rc = put_index(t, DB_USERS_NAME, op->tenant, op->in->name, op->in->id)) != 0) {
		op->err = rc == 1 ? "user already exists" : op->err;
		return -1;
	}
	if (op->in->email &&
	    (rc = put_index(t, DB_USERS_EMAIL, op->tenant, op->in->email, op->in->id)) != 0) {
		op->err = rc == 1 ? "another user has this email address" : op->err;
		return -1;
	}
	skey_of(&k, op->tenant, op->in->id);
	if (stx_put_rec(t, DB_USERS, &k, store_user_fields, op->in, STX_NOOVERWRITE) != 0)
		return -1;
	return stx_audit_entry(t, op->tenant, op->ae, NULL, &op->full);
}

/* Names and addresses longer than anything an index can hold are refused up front. */
static const char *
user_input_error(const struct user *u)
{
	if (!store_valid_name(u->name, STORE_NAME_MAX))
		return "invalid user name";
	if (u->email && strlen(u->email) > 254)
		return "email address longer than 254 bytes";
	return NULL;
}

int
store_user_add(struct store *st, const char *tenant, const struct user *u,
    const struct audit_entry *ae, const char **errstr)
{
	struct user copy = *u;
	struct user_op op = { .tenant = tenant, .in = &copy, .ae = ae,
		.err = "cannot store the user" };
	char *id = u->id ? NULL : store_new_id();
	int rc;

	if ((*errstr = user_input_error(u)) != NULL) {
		free(id);
		return -1;
	}
	if (id)
		copy.id = id;
	rc = store_run(st, 1, user_add_tx, &op);
	free(id);
	if (rc < 0)
		*errstr = rc == STORE_FULL ? "database full" : op.err;
	else
		audit_entry_done(&op.full, tenant);
	return rc < 0 ? -1 : 0;
}

struct many_op {
	struct user_op one;
	const struct user *u;
	const struct audit_entry *ae;
	struct audit_entry *full;
	size_t n, at;
};

static int
user_add_many_tx(struct store_txn *t, void *arg)
{
	struct many_op *op = arg;
	uint64_t active = 0;

	/* One count for the whole import: all of it fits in the licence or none is added. */
	for (size_t i = 0; i < op->n; i++)
		active += !op->u[i].disabled && !op->u[i].operator;
	op->at = 0;
	if (stx_seat_check(t, op->one.tenant, active, &op->one.err) < 0)
		return -1;
	op->one.counted = 1;
	for (op->at = 0; op->at < op->n; op->at++) {
		op->one.in = &op->u[op->at];
		op->one.ae = &op->ae[op->at];
		if (user_add_tx(t, &op->one) < 0)
			return -1;
		op->full[op->at] = op->one.full;
	}
	return 0;
}

int
store_user_add_many(struct store *st, const char *tenant, const struct user *u,
    const struct audit_entry *ae, size_t n, size_t *at_r, const char **errstr)
{
	struct many_op op = { .one = { .tenant = tenant, .err = "cannot store the user" },
		.u = u, .ae = ae, .n = n };
	int rc;

	*at_r = 0;
	for (size_t i = 0; i < n; i++) {
		*errstr = u[i].id ? user_input_error(&u[i]) : "a user without an id";
		if (*errstr) {
			*at_r = i;
			return -1;
		}
	}
	op.full = xcalloc(n ? n : 1, sizeof(*op.full));
	rc = store_run(st, 1, user_add_many_tx, &op);
	if (rc < 0) {
		*errstr = rc == STORE_FULL ? "database full" : op.one.err;
		*at_r = op.at < n ? op.at : 0;
	}
	for (size_t i = 0; rc >= 0 && i < n; i++)
		audit_entry_done(&op.full[i], tenant);
	free(op.full);
	return rc < 0 ? -1 : 0;
}

static int
user_get_tx(struct store_txn *t, void *arg)
{
	struct user_op *op = arg;

	store_user_clear(op->out);
	if (op->index == DB_USERS)
		return stx_user_by_id(t, op->tenant, op->name, op->out);
	return by_index(t, op->index, op->tenant, op->name, op->out);
}

static int
user_get(struct store *st, const char *tenant, enum store_db index, const char *value,
    size_t max, struct user *u_r)
{
	struct user_op op = { .tenant = tenant, .name = value, .out = u_r, .index = index };

	memset(u_r, 0, sizeof(*u_r));
	if (value == NULL || strlen(value) > max)
		return 0;
	return store_run(st, 0, user_get_tx, &op);
}

int
store_user_get(struct store *st, const char *tenant, const char *name, struct user *u_r)
{
	return user_get(st, tenant, DB_USERS_NAME, name, STORE_NAME_MAX, u_r);
}

int
store_user_get_by_email(struct store *st, const char *tenant, const char *email,
    struct user *u_r)
{
	return user_get(st, tenant, DB_USERS_EMAIL, email, 254, u_r);
}

int
store_user_get_by_id(struct store *st, const char *tenant, const char *id, struct user *u_r)
{
	return user_get(st, tenant, DB_USERS, id, 64, u_r);
}

/* The user called op->name (or with that id), changed by change(), written back; 1/0/-1. */
static int
user_modify(struct store_txn *t, struct user_op *op, int (*change)(struct store_txn *,
    struct user_op *, struct user *), const char *extra)
{
	struct store_key k;
	struct user u;
	int rc;

	rc = op->by_id ? stx_user_by_id(t, op->tenant, op->name, &u) :
	    stx_user_get(t, op->tenant, op->name, &u);
	if (rc != 1) {
		store_user_clear(&u);
		return rc;
	}
	skey_of(&k, op->tenant, u.id);
	rc = change(t, op, &u);
	if (rc == 0)
		rc = stx_put_rec(t, DB_USERS, &k, store_user_fields, &u, 0);
	if (rc == 0)
		rc = stx_audit_entry(t, op->tenant, op->ae, extra, &op->full);
	store_user_clear(&u);
	return rc == 0 ? 1 : -1;
}

/*
 * Disabled, re-enabled or a new password: sessions and OIDC grants end (except the
 * session keep and its grants when not NULL: the one that changed the password).
 */
static int
end_access(struct store_txn *t, const char *tenant, const char *id,
    const unsigned char *keep)
{
	return stx_end_user_sessions_except(t, tenant, id, keep) < 0 ||
	    stx_revoke_user_grants_except(t, tenant, id, keep) < 0 ? -1 : 0;
}

static int
set_disabled(struct store_txn *t, struct user_op *op, struct user *u)
{
	if (!op->disabled && u->disabled && !u->operator &&
	    stx_seat_check(t, op->tenant, 1, &op->err) < 0)
		return -1;
	u->disabled = (uint64_t)op->disabled;
	return end_access(t, op->tenant, u->id, NULL);
}

static int
set_password(struct store_txn *t, struct user_op *op, struct user *u)
{
	free(u->pwhash);
	u->pwhash = xstrdup(op->pwhash);
	u->pw_changed = (uint64_t)op->now;
	if (op->chosen)
		u->must_change = 0;
	return end_access(t, op->tenant, u->id, op->keep);
}

static int
disabled_tx(struct store_txn *t, void *arg)
{
	return user_modify(t, arg, set_disabled, NULL);
}

static int
password_tx(struct store_txn *t, void *arg)
{
	return user_modify(t, arg, set_password, NULL);
}

static int
run_modify(struct store *st, struct user_op *op, store_txn_fn fn)
{
	int rc = store_run(st, 1, fn, op);

	if (rc == 1)
		audit_entry_done(&op->full, op->tenant);
	return rc;
}

int
store_user_set_disabled(struct store *st, const char *tenant, const char *name, int disabled,
    const struct audit_entry *ae)
{
	struct user_op op = { .tenant = tenant, .name = name, .disabled = disabled, .ae = ae };

	return run_modify(st, &op, disabled_tx);
}

int
store_user_set_disabled_err(struct store *st, const char *tenant, const char *name,
    int disabled, const struct audit_entry *ae, const char **errstr)
{
	struct user_op op = { .tenant = tenant, .name = name, .disabled = disabled, .ae = ae,
		.err = "cannot store the user" };
	int rc = run_modify(st, &op, disabled_tx);

	if (rc < 0)
		*errstr = rc == STORE_FULL ? "database full" : op.err;
	return rc < 0 ? -1 : rc;
}

int
store_user_set_password(struct store *st, const char *tenant, const char *name,
    const char *pwhash, int64_t now, const struct audit_entry *ae)
{
	struct user_op op = { .tenant = tenant, .name = name, .pwhash = pwhash, .now = now,
		.ae = ae };

	return run_modify(st, &op, password_tx);
}

int
store_user_new_password(struct store *st, const char *tenant, const char *user_id,
    const char *pwhash, int64_t now, const unsigned char *keep, const struct audit_entry *ae)
{
	struct user_op op = { .tenant = tenant, .name = user_id, .pwhash = pwhash, .now = now,
		.by_id = 1, .chosen = 1, .keep = keep, .ae = ae };

	if (user_id == NULL || pwhash == NULL)
		return -1;
	return run_modify(st, &op, password_tx);
}

/* A new e-mail address moves its index entry; another user's address is refused. */
static int
change_email(struct store_txn *t, struct user_op *op, struct user *u, const char *email)
{
	int rc;

	if (u->email && del_index(t, DB_USERS_EMAIL, op->tenant, u->email) < 0)
		return -1;
	free(u->email);
	u->email = *email ? xstrdup(email) : NULL;
	if (u->email == NULL)
		return 0;
	if ((rc = put_index(t, DB_USERS_EMAIL, op->tenant, u->email, u->id)) == 1)
		op->err = "another user has this email address";
	return rc == 0 ? 0 : -1;
}

static void
replace_str(char **field, const char *value)
{
	free(*field);
	*field = *value ? xstrdup(value) : NULL;
}

/* An operator account is not counted: at most STORE_OPERATORS_MAX; back, it takes a seat. */
static int
set_operator(struct store_txn *t, struct user_op *op, struct user *u, uint64_t on)
{
	if (on && !u->operator && stx_operator_check(t, op->tenant, &op->err) < 0)
		return -1;
	if (!on && u->operator && !u->disabled && stx_seat_check(t, op->tenant, 1, &op->err) < 0)
		return -1;
	u->operator = on != 0;
	return 0;
}

static int
apply_change(struct store_txn *t, struct user_op *op, struct user *u)
{
	const struct user_change *ch = op->change;

	if (ch->email && change_email(t, op, u, ch->email) < 0)
		return -1;
	if (ch->display_name)
		replace_str(&u->display_name, ch->display_name);
	if (ch->attrs)
		replace_str(&u->attrs, ch->attrs);
	if (ch->must_change)
		u->must_change = !strcmp(ch->must_change, "on");
	if (ch->role)
		u->role = *ch->role;
	if (ch->operator && set_operator(t, op, u, *ch->operator) < 0)
		return -1;
	if (ch->break_glass == NULL)
		return 0;
	/* Whom rules apply to changed: running servers reload (the rule set's generation). */
	u->break_glass = !strcmp(ch->break_glass, "on");
	return stx_bump_generation(t, op->tenant);
}

static int
update_tx(struct store_txn *t, void *arg)
{
	return user_modify(t, arg, apply_change, NULL);
}

int
store_user_update(struct store *st, const char *tenant, const char *name,
    const struct user_change *ch, const struct audit_entry *ae, const char **errstr)
{
	struct user_op op = { .tenant = tenant, .name = name, .change = ch, .ae = ae,
		.err = "cannot store the user" };
	int rc;

	if (ch->email && strlen(ch->email) > 254) {
		*errstr = "email address longer than 254 bytes";
		return -1;
	}
	if (ch->break_glass && strcmp(ch->break_glass, "on") && strcmp(ch->break_glass, "off")) {
		*errstr = "break-glass is on or off";
		return -1;
	}
	if (ch->must_change && strcmp(ch->must_change, "on") && strcmp(ch->must_change, "off")) {
		*errstr = "must-change-password is on or off";
		return -1;
	}
	rc = run_modify(st, &op, update_tx);
	if (rc < 0)
		*errstr = rc == STORE_FULL ? "database full" : op.err;
	return rc < 0 ? -1 : rc;
}

/*
 * A new name moves the name index (a change of case only is a rename too); everything
 * else refers to the id.  The failure counter of the old name goes with it.
 */
static int
set_name(struct store_txn *t, struct user_op *op, struct user *u)
{
	int rc;

	if (del_index(t, DB_USERS_NAME, op->tenant, u->name) < 0 ||
	    stx_failure_drop(t, op->tenant, "user", u->name) < 0)
		return -1;
	if ((rc = put_index(t, DB_USERS_NAME, op->tenant, op->new_name, u->id)) != 0) {
		op->err = rc == 1 ? "user already exists" : op->err;
		return -1;
	}
	free(u->name);
	u->name = xstrdup(op->new_name);
	return stx_bump_generation(t, op->tenant);
}

static int
rename_tx(struct store_txn *t, void *arg)
{
	return user_modify(t, arg, set_name, NULL);
}

int
store_user_rename(struct store *st, const char *tenant, const char *name,
    const char *new_name, const struct audit_entry *ae, const char **errstr)
{
	struct user_op op = { .tenant = tenant, .name = name, .new_name = new_name, .ae = ae,
		.err = "cannot store the user" };
	int rc;

	if (new_name == NULL || !store_valid_name(new_name, STORE_NAME_MAX)) {
		*errstr = "invalid user name";
		return -1;
	}
	if (name == NULL || strlen(name) > STORE_NAME_MAX)
		return 0;
	rc = run_modify(st, &op, rename_tx);
	if (rc < 0)
		*errstr = rc == STORE_FULL ? "database full" : op.err;
	return rc < 0 ? -1 : rc;
}

/* Everything that refers to the user goes or is revoked; *extra says how much. */
static int
remove_refs(struct store_txn *t, const char *tenant, const struct user *u, char *extra,
    size_t len)
{
	int sess, grants, certs, groups, pols, assigned, factors, challenges;

	if ((sess = stx_end_user_sessions(t, tenant, u->id)) < 0 ||
	    (grants = stx_revoke_user_grants(t, tenant, u->id)) < 0 ||
	    (certs = stx_revoke_user_certs(t, tenant, u->id, CRL_REASON_CESSATION,
	    clock_now())) < 0 ||
	    (groups = stx_user_memberships_drop(t, tenant, u->id)) < 0 ||
	    (pols = stx_target_policies_drop(t, tenant, "user", u->id)) < 0 ||
	    (assigned = stx_assignments_drop(t, tenant, "user", u->id)) < 0 ||
	    (factors = stx_user_factors_drop(t, tenant, u->id)) < 0 ||
	    (challenges = stx_user_challenges_drop(t, tenant, u->id)) < 0 ||
	    stx_failure_drop(t, tenant, "user", u->name) < 0)
		return -1;
	snprintf(extra, len, "user_id=%s sessions=%d grants=%d certs_revoked=%d memberships=%d "
	    "policies=%d assignments=%d factors=%d challenges=%d", u->id, sess, grants, certs,
	    groups, pols, assigned, factors, challenges);
	return 0;
}

static int
user_remove_tx(struct store_txn *t, void *arg)
{
	struct user_op *op = arg;
	struct store_key k;
	struct user u;
	char extra[256];
	int rc;

	if ((rc = stx_user_get(t, op->tenant, op->name, &u)) != 1)
		return rc;
	skey_of(&k, op->tenant, u.id);
	rc = del_index(t, DB_USERS_NAME, op->tenant, u.name) < 0 ||
	    (u.email && del_index(t, DB_USERS_EMAIL, op->tenant, u.email) < 0) ||
	    stx_del(t, DB_USERS, &k) < 0 || remove_refs(t, op->tenant, &u, extra,
	    sizeof(extra)) < 0 || stx_audit_entry(t, op->tenant, op->ae, extra, &op->full) < 0;
	store_user_clear(&u);
	return rc ? -1 : 1;
}

int
store_user_remove(struct store *st, const char *tenant, const char *name,
    const struct audit_entry *ae)
{
	struct user_op op = { .tenant = tenant, .name = name, .ae = ae };

	return run_modify(st, &op, user_remove_tx);
}

/* In the order of their names. */
int
store_user_list(struct store *st, const char *tenant, store_each_fn cb, void *arg)
{
	return store_each_by(st, tenant, DB_USERS_NAME, DB_USERS, store_user_fields,
	    sizeof(struct user), cb, arg);
}
