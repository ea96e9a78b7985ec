/*
 * Store operations on tenants, signing keys, users and groups.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "store_int.h"
#include "xmalloc.h"

#define F(tag, type, st, m) { tag, type, offsetof(struct st, m), 0 }
#define FB(tag, st, m, l) { tag, REC_BYTES, offsetof(struct st, m), offsetof(struct st, l) }

static const struct rec_field tenant_fields[] = {
	F(1, REC_STR, tenant, id),
	F(2, REC_STR, tenant, name),
	F(3, REC_U64, tenant, created),
	FB(4, tenant, secret, secret_len),
	REC_END
};

static const struct rec_field keyrec_fields[] = {
	F(1, REC_STR, keyrec, kid),
	F(2, REC_STR, keyrec, use),
	F(3, REC_STR, keyrec, alg),
	F(4, REC_U64, keyrec, created),
	F(5, REC_U64, keyrec, state),
	FB(6, keyrec, sealed_key, sealed_key_len),
	F(7, REC_STR, keyrec, cert_pem),
	F(8, REC_U64, keyrec, until),
	REC_END
};

static const struct rec_field user_fields[] = {
	F(1, REC_STR, user, id),
	F(2, REC_STR, user, name),
	F(3, REC_STR, user, email),
	F(4, REC_STR, user, display_name),
	F(5, REC_STR, user, pwhash),
	F(6, REC_U64, user, disabled),
	F(7, REC_U64, user, created),
	F(8, REC_U64, user, pw_changed),
	REC_END
};

void
store_tenant_clear(struct tenant *t)
{
	rec_clear(tenant_fields, t);
}

void
store_keyrec_clear(struct keyrec *k)
{
	rec_clear(keyrec_fields, k);
}

void
store_user_clear(struct user *u)
{
	rec_clear(user_fields, u);
}

/* Emails are matched without regard to ASCII case. */
static void
email_key(struct store_key *k, const char *tenant, const char *email)
{
	char lower[256];
	size_t i;

	for (i = 0; email[i] && i < sizeof(lower) - 1; i++)
		lower[i] = (email[i] >= 'A' && email[i] <= 'Z') ? (char)(email[i] + 32) : email[i];
	lower[i] = '\0';
	skey_init(k, tenant);
	skey_add(k, lower);
}

/* ---- tenants ---- */

struct tenant_op {
	const char *id;
	const struct tenant *in;
	struct tenant *out;
	void (*cb)(const struct tenant *, void *);
	void *arg;
	uint64_t gen;
	const char *err;
};

static int
tenant_add_tx(struct store_txn *t, void *arg)
{
	struct tenant_op *op = arg;
	struct store_key k;
	int rc;

	skey_init(&k, "");
	skey_add(&k, op->in->id);
	rc = stx_put_rec(t, DB_TENANTS, &k, tenant_fields, op->in, STX_NOOVERWRITE);
	if (rc == 1)
		op->err = "tenant already exists";
	if (rc != 0)
		return -1;
	return stx_bump_generation(t, op->in->id);
}

int
store_tenant_add(struct store *st, const struct tenant *t, const char **errstr)
{
	struct tenant_op op = { .in = t, .err = "cannot store the tenant" };
	int rc = store_run(st, 1, tenant_add_tx, &op);

	if (rc < 0)
		*errstr = rc == STORE_FULL ? "database full" : op.err;
	return rc < 0 ? -1 : 0;
}

static int
tenant_get_tx(struct store_txn *t, void *arg)
{
	struct tenant_op *op = arg;
	struct store_key k;

	skey_init(&k, "");
	skey_add(&k, op->id);
	store_tenant_clear(op->out);
	return stx_get_rec(t, DB_TENANTS, &k, tenant_fields, op->out);
}

int
store_tenant_get(struct store *st, const char *id, struct tenant *t_r)
{
	struct tenant_op op = { .id = id, .out = t_r };

	memset(t_r, 0, sizeof(*t_r));
	return store_run(st, 0, tenant_get_tx, &op);
}

static int
tenant_list_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct tenant_op *op = arg;
	struct tenant t = { 0 };

	if (rec_decode(tenant_fields, &t, val, vlen) == -1)
		return -1;
	op->cb(&t, op->arg);
	store_tenant_clear(&t);
	return 0;
}

static int
tenant_list_tx(struct store_txn *t, void *arg)
{
	struct store_key k;

	skey_init(&k, "");
	skey_prefix(&k);
	return stx_iter(t, DB_TENANTS, &k, tenant_list_cb, arg);
}

int
store_tenant_list(struct store *st, void (*cb)(const struct tenant *t, void *arg), void *arg)
{
	struct tenant_op op = { .cb = cb, .arg = arg };

	return store_run(st, 0, tenant_list_tx, &op);
}

struct id_list {
	char **ids;
	size_t n;
};

static void
tenant_id_cb(const struct tenant *t, void *arg)
{
	struct id_list *l = arg;

	l->ids = xreallocarray(l->ids, l->n + 2, sizeof(char *));
	l->ids[l->n++] = xstrdup(t->id);
	l->ids[l->n] = NULL;
}

int
store_tenant_ids(struct store *st, char ***ids_r)
{
	struct id_list l = { .ids = xcalloc(1, sizeof(char *)) };

	if (store_tenant_list(st, tenant_id_cb, &l) < 0) {
		store_strv_free(l.ids);
		*ids_r = NULL;
		return -1;
	}
	*ids_r = l.ids;
	return 0;
}

static int
generation_tx(struct store_txn *t, void *arg)
{
	struct tenant_op *op = arg;
	struct store_key k;
	const void *v;
	size_t len;
	int rc;

	skey_init(&k, op->id);
	skey_add(&k, "generation");
	op->gen = 0;
	rc = stx_get(t, DB_META, &k, &v, &len);
	if (rc == 1 && rec_u64(v, len, &op->gen) == -1)
		return -1;
	return rc;
}

int
store_tenant_generation(struct store *st, const char *id, uint64_t *gen_r)
{
	struct tenant_op op = { .id = id };
	int rc = store_run(st, 0, generation_tx, &op);

	*gen_r = op.gen;
	return rc < 0 ? -1 : 0;
}

/* ---- signing keys ---- */

struct key_op {
	const char *tenant;
	const char *use;
	const struct keyrec *in;
	void (*cb)(const struct keyrec *, void *);
	void *arg;
};

static int
key_add_tx(struct store_txn *t, void *arg)
{
	struct key_op *op = arg;
	struct store_key k;

	skey_init(&k, op->tenant);
	skey_add(&k, op->in->use);
	skey_add(&k, op->in->kid);
	if (stx_put_rec(t, DB_KEYS, &k, keyrec_fields, op->in, STX_NOOVERWRITE) != 0)
		return -1;
	return stx_bump_generation(t, op->tenant);
}

int
store_key_add(struct store *st, const char *tenant, const struct keyrec *k, const char **errstr)
{
	struct key_op op = { .tenant = tenant, .in = k };

	if (store_run(st, 1, key_add_tx, &op) < 0) {
		*errstr = "cannot store the key";
		return -1;
	}
	return 0;
}

static int
key_list_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct key_op *op = arg;
	struct keyrec k = { 0 };

	if (rec_decode(keyrec_fields, &k, val, vlen) == -1)
		return -1;
	op->cb(&k, op->arg);
	store_keyrec_clear(&k);
	return 0;
}

static int
key_list_tx(struct store_txn *t, void *arg)
{
	struct key_op *op = arg;
	struct store_key k;

	skey_init(&k, op->tenant);
	skey_add(&k, op->use);
	skey_prefix(&k);
	return stx_iter(t, DB_KEYS, &k, key_list_cb, op);
}

int
store_key_list(struct store *st, const char *tenant, const char *use,
    void (*cb)(const struct keyrec *k, void *arg), void *arg)
{
	struct key_op op = { .tenant = tenant, .use = use, .cb = cb, .arg = arg };

	return store_run(st, 0, key_list_tx, &op);
}

struct rotate_op {
	const char *tenant, *use;
	const struct keyrec *fresh;
	size_t nfresh;
	int64_t now, until;
	struct store_txn *t;
	int n;
	int promote;		/* a NEXT key exists: rotate, not only publish */
};

static int
count_next_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct rotate_op *op = arg;
	struct keyrec k = { 0 };

	if (rec_decode(keyrec_fields, &k, val, vlen) == -1)
		return -1;
	if (k.state == STORE_KEY_NEXT)
		op->promote = 1;
	store_keyrec_clear(&k);
	return 0;
}

static int
rotate_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct rotate_op *op = arg;
	struct keyrec k = { 0 };
	struct store_key sk;
	int rc = 0;

	if (rec_decode(keyrec_fields, &k, val, vlen) == -1)
		return -1;
	if (k.state == STORE_KEY_RETIRED && (int64_t)k.until < op->now) {
		rc = 2;		/* its tokens have all expired */
	} else if (op->promote && (k.state == STORE_KEY_ACTIVE || k.state == STORE_KEY_NEXT)) {
		if (k.state == STORE_KEY_ACTIVE) {
			k.state = STORE_KEY_RETIRED;
			k.until = (uint64_t)op->until;
		} else {
			k.state = STORE_KEY_ACTIVE;
		}
		skey_init(&sk, op->tenant);
		skey_add(&sk, k.use);
		skey_add(&sk, k.kid);
		rc = stx_put_rec(op->t, DB_KEYS, &sk, keyrec_fields, &k, 0) == 0 ? 0 : -1;
	}
	if (rc >= 0)
		op->n++;
	store_keyrec_clear(&k);
	return rc;
}

static int
rotate_tx(struct store_txn *t, void *arg)
{
	struct rotate_op *op = arg;
	struct store_key k;

	op->t = t;
	op->n = 0;
	skey_init(&k, op->tenant);
	skey_add(&k, op->use);
	skey_prefix(&k);
	op->promote = 0;
	if (stx_iter(t, DB_KEYS, &k, count_next_cb, op) < 0 ||
	    stx_iter_del(t, DB_KEYS, &k, rotate_cb, op) < 0)
		return -1;
	for (size_t i = 0; i < op->nfresh; i++) {
		skey_init(&k, op->tenant);
		skey_add(&k, op->fresh[i].use);
		skey_add(&k, op->fresh[i].kid);
		if (stx_put_rec(t, DB_KEYS, &k, keyrec_fields, &op->fresh[i], STX_NOOVERWRITE) != 0)
			return -1;
	}
	return stx_bump_generation(t, op->tenant) == 0 ? op->n : -1;
}

int
store_key_rotate(struct store *st, const char *tenant, const char *use,
    const struct keyrec *fresh, size_t nfresh, int64_t now, int64_t retire_until)
{
	struct rotate_op op = { .tenant = tenant, .use = use, .fresh = fresh, .nfresh = nfresh,
		.now = now, .until = retire_until };

	return store_run(st, 1, rotate_tx, &op);
}

/* ---- users ---- */

struct user_op {
	const char *tenant;
	const char *name;
	const struct user *in;
	struct user *out;
	int disabled;
	const char *pwhash;
	int64_t now;
	void (*cb)(const struct user *, void *);
	void *arg;
	const char *err;
};

static int
user_add_tx(struct store_txn *t, void *arg)
{
	struct user_op *op = arg;
	struct store_key k, ek;
	int rc;

	skey_init(&k, op->tenant);
	skey_add(&k, op->in->name);
	if (op->in->email) {
		email_key(&ek, op->tenant, op->in->email);
		rc = stx_put(t, DB_USERS_EMAIL, &ek, op->in->name, strlen(op->in->name),
		    STX_NOOVERWRITE);
		if (rc == 1)
			op->err = "another user has this email address";
		if (rc != 0)
			return -1;
	}
	rc = stx_put_rec(t, DB_USERS, &k, user_fields, op->in, STX_NOOVERWRITE);
	if (rc == 1)
		op->err = "user already exists";
	return rc == 0 ? 0 : -1;
}

int
store_user_add(struct store *st, const char *tenant, const struct user *u, const char **errstr)
{
	struct user_op op = { .tenant = tenant, .in = u, .err = "cannot store the user" };
	int rc;

	if (!store_valid_name(u->name, STORE_NAME_MAX)) {
		*errstr = "invalid user name";
		return -1;
	}
	if (u->email && strlen(u->email) > 254) {
		*errstr = "email address longer than 254 bytes";
		return -1;
	}
	rc = store_run(st, 1, user_add_tx, &op);

	if (rc < 0)
		*errstr = rc == STORE_FULL ? "database full" : op.err;
	return rc < 0 ? -1 : 0;
}

static int
user_get_tx(struct store_txn *t, void *arg)
{
	struct user_op *op = arg;
	struct store_key k;

	skey_init(&k, op->tenant);
	skey_add(&k, op->name);
	store_user_clear(op->out);
	return stx_get_rec(t, DB_USERS, &k, user_fields, op->out);
}

int
store_user_get(struct store *st, const char *tenant, const char *name, struct user *u_r)
{
	struct user_op op = { .tenant = tenant, .name = name, .out = u_r };

	memset(u_r, 0, sizeof(*u_r));
	if (strlen(name) > STORE_NAME_MAX)
		return 0;
	return store_run(st, 0, user_get_tx, &op);
}

static int
user_get_email_tx(struct store_txn *t, void *arg)
{
	struct user_op *op = arg;
	struct store_key k, ek;
	const void *v;
	size_t len;
	int rc;

	email_key(&ek, op->tenant, op->name);
	store_user_clear(op->out);
	if ((rc = stx_get(t, DB_USERS_EMAIL, &ek, &v, &len)) != 1)
		return rc;
	skey_init(&k, op->tenant);
	skey_add_bytes(&k, "", 1);
	skey_add_bytes(&k, v, len);
	return stx_get_rec(t, DB_USERS, &k, user_fields, op->out);
}

int
store_user_get_by_email(struct store *st, const char *tenant, const char *email,
    struct user *u_r)
{
	struct user_op op = { .tenant = tenant, .name = email, .out = u_r };

	memset(u_r, 0, sizeof(*u_r));
	if (strlen(email) > 254)
		return 0;
	return store_run(st, 0, user_get_email_tx, &op);
}

/* Drop every session of a user (and the SPs that joined them). */
static int end_sessions_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg);

struct end_sessions {
	struct store_txn *t;
	const char *tenant;
	size_t prefix_len;
	int err;
};

static int
end_sessions_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct end_sessions *es = arg;

	if (klen != es->prefix_len + 32)
		return 0;
	if (stx_session_delete(es->t, es->tenant, NULL,
	    (const unsigned char *)key + es->prefix_len) < 0)
		return -1;
	return 2;
}

int
stx_end_user_sessions(struct store_txn *t, const char *tenant, const char *user)
{
	struct store_key k;
	struct end_sessions es = { .t = t, .tenant = tenant };

	skey_init(&k, tenant);
	skey_add(&k, user);
	skey_prefix(&k);
	es.prefix_len = k.len;
	return stx_iter_del(t, DB_USER_SESSIONS, &k, end_sessions_cb, &es);
}

static int
user_update_tx(struct store_txn *t, void *arg)
{
	struct user_op *op = arg;
	struct store_key k;
	struct user u = { 0 };
	int rc;

	skey_init(&k, op->tenant);
	skey_add(&k, op->name);
	if ((rc = stx_get_rec(t, DB_USERS, &k, user_fields, &u)) != 1)
		return rc;
	if (op->pwhash) {
		free(u.pwhash);
		u.pwhash = xstrdup(op->pwhash);
		u.pw_changed = (uint64_t)op->now;
	} else {
		u.disabled = (uint64_t)op->disabled;
	}
	rc = stx_put_rec(t, DB_USERS, &k, user_fields, &u, 0);
	store_user_clear(&u);
	/* Disabled, re-enabled or new password: sessions and OIDC grants end. */
	if (rc != 0 || stx_end_user_sessions(t, op->tenant, op->name) == -1 ||
	    stx_revoke_user_grants(t, op->tenant, op->name) < 0)
		return -1;
	return 1;
}

int
store_user_set_disabled(struct store *st, const char *tenant, const char *name, int disabled)
{
	struct user_op op = { .tenant = tenant, .name = name, .disabled = disabled };

	return store_run(st, 1, user_update_tx, &op);
}

int
store_user_set_password(struct store *st, const char *tenant, const char *name,
    const char *pwhash, int64_t now)
{
	struct user_op op = { .tenant = tenant, .name = name, .pwhash = pwhash, .now = now };

	return store_run(st, 1, user_update_tx, &op);
}

struct prefix_del {
	size_t skip;
	const char *match;	/* the user whose memberships go */
};

static int del_membership_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg);

int
stx_user_get(struct store_txn *t, const char *tenant, const char *name, struct user *u_r)
{
	struct store_key k;

	memset(u_r, 0, sizeof(*u_r));
	skey_init(&k, tenant);
	skey_add(&k, name);
	return stx_get_rec(t, DB_USERS, &k, user_fields, u_r);
}

static int
user_remove_tx(struct store_txn *t, void *arg)
{
	struct user_op *op = arg;
	struct store_key k, ek;
	struct user u = { 0 };
	int rc;

	skey_init(&k, op->tenant);
	skey_add(&k, op->name);
	if ((rc = stx_get_rec(t, DB_USERS, &k, user_fields, &u)) != 1)
		return rc;
	if (u.email) {
		email_key(&ek, op->tenant, u.email);
		if (stx_del(t, DB_USERS_EMAIL, &ek) < 0)
			rc = -1;
	}
	store_user_clear(&u);
	if (rc < 0 || stx_del(t, DB_USERS, &k) < 0 || stx_end_user_sessions(t, op->tenant, op->name) < 0 ||
	    stx_revoke_user_grants(t, op->tenant, op->name) < 0)
		return -1;
	/* Devices of a removed user are revoked (cessationOfOperation), never inherited. */
	if (stx_revoke_user_certs(t, op->tenant, op->name, 5, clock_now()) < 0)
		return -1;
	/* memberships: keys "tenant\0u\0user\0group" and "tenant\0g\0group\0user" */
	skey_init(&k, op->tenant);
	skey_add(&k, "u");
	skey_add(&k, op->name);
	skey_prefix(&k);
	{
		struct prefix_del pd = { .skip = k.len, .match = op->name };
		void *targ[2] = { t, &pd };
		if (stx_iter_del(t, DB_MEMBERS, &k, del_membership_cb, targ) < 0)
			return -1;
	}
	return 1;
}

static int
del_membership_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	void **targ = arg;
	struct store_txn *t = targ[0];
	struct prefix_del *pd = targ[1];
	struct store_key k;
	const char *tenant = key;
	char *group = xstrndup((const char *)key + pd->skip, klen - pd->skip);
	int rc;

	skey_init(&k, tenant);
	skey_add(&k, "g");
	skey_add(&k, group);
	skey_add(&k, pd->match);
	rc = stx_del(t, DB_MEMBERS, &k);
	free(group);
	return rc < 0 ? -1 : 2;
}

int
store_user_remove(struct store *st, const char *tenant, const char *name)
{
	struct user_op op = { .tenant = tenant, .name = name };

	return store_run(st, 1, user_remove_tx, &op);
}

static int
user_list_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct user_op *op = arg;
	struct user u = { 0 };

	if (rec_decode(user_fields, &u, val, vlen) == -1)
		return -1;
	op->cb(&u, op->arg);
	store_user_clear(&u);
	return 0;
}

static int
user_list_tx(struct store_txn *t, void *arg)
{
	struct user_op *op = arg;
	struct store_key k;

	skey_init(&k, op->tenant);
	skey_prefix(&k);
	return stx_iter(t, DB_USERS, &k, user_list_cb, op);
}

int
store_user_list(struct store *st, const char *tenant,
    void (*cb)(const struct user *u, void *arg), void *arg)
{
	struct user_op op = { .tenant = tenant, .cb = cb, .arg = arg };

	return store_run(st, 0, user_list_tx, &op);
}

/* ---- groups ---- */

struct group_op {
	const char *tenant;
	const char *group;
	const char *user;
	void (*cb)(const char *, void *);
	void *arg;
	char **list;
	size_t n;
	size_t skip;
	const char *err;
};

static int
group_add_tx(struct store_txn *t, void *arg)
{
	struct group_op *op = arg;
	struct store_key k;
	int rc;

	skey_init(&k, op->tenant);
	skey_add(&k, op->group);
	rc = stx_put(t, DB_GROUPS, &k, "", 0, STX_NOOVERWRITE);
	if (rc == 1)
		op->err = "group already exists";
	return rc == 0 ? 0 : -1;
}

int
store_group_add(struct store *st, const char *tenant, const char *group, const char **errstr)
{
	struct group_op op = { .tenant = tenant, .group = group, .err = "cannot store the group" };

	if (store_run(st, 1, group_add_tx, &op) < 0) {
		*errstr = op.err;
		return -1;
	}
	return 0;
}

static int
group_exists_tx(struct store_txn *t, void *arg)
{
	struct group_op *op = arg;
	struct store_key k;
	const void *v;
	size_t len;

	skey_init(&k, op->tenant);
	skey_add(&k, op->group);
	return stx_get(t, DB_GROUPS, &k, &v, &len);
}

int
store_group_exists(struct store *st, const char *tenant, const char *group)
{
	struct group_op op = { .tenant = tenant, .group = group };

	return store_run(st, 0, group_exists_tx, &op);
}

static int
group_member_cleanup_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct group_op *op = arg;
	struct store_txn *t = (struct store_txn *)op->list;
	struct store_key k;
	char *user = xstrndup((const char *)key + op->skip, klen - op->skip);
	int rc;

	skey_init(&k, op->tenant);
	skey_add(&k, "u");
	skey_add(&k, user);
	skey_add(&k, op->group);
	rc = stx_del(t, DB_MEMBERS, &k);
	free(user);
	return rc < 0 ? -1 : 2;
}

static int
group_remove_tx(struct store_txn *t, void *arg)
{
	struct group_op *op = arg;
	struct store_key k;
	int rc;

	skey_init(&k, op->tenant);
	skey_add(&k, op->group);
	if ((rc = stx_del(t, DB_GROUPS, &k)) != 1)
		return rc;
	skey_init(&k, op->tenant);
	skey_add(&k, "g");
	skey_add(&k, op->group);
	skey_prefix(&k);
	op->skip = k.len;
	op->list = (char **)t;
	if (stx_iter_del(t, DB_MEMBERS, &k, group_member_cleanup_cb, op) < 0)
		return -1;
	op->list = NULL;
	return stx_bump_generation(t, op->tenant) == 0 ? 1 : -1;
}

int
store_group_remove(struct store *st, const char *tenant, const char *group)
{
	struct group_op op = { .tenant = tenant, .group = group };

	return store_run(st, 1, group_remove_tx, &op);
}

static int
name_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct group_op *op = arg;
	char *name = xstrndup((const char *)key + op->skip, klen - op->skip);

	if (op->cb) {
		op->cb(name, op->arg);
		free(name);
		return 0;
	}
	op->list = xreallocarray(op->list, op->n + 2, sizeof(char *));
	op->list[op->n++] = name;
	op->list[op->n] = NULL;
	return 0;
}

static int
group_list_tx(struct store_txn *t, void *arg)
{
	struct group_op *op = arg;
	struct store_key k;

	skey_init(&k, op->tenant);
	skey_prefix(&k);
	op->skip = k.len;
	return stx_iter(t, DB_GROUPS, &k, name_cb, op);
}

int
store_group_list(struct store *st, const char *tenant,
    void (*cb)(const char *group, void *arg), void *arg)
{
	struct group_op op = { .tenant = tenant, .cb = cb, .arg = arg };

	return store_run(st, 0, group_list_tx, &op);
}

static int
member_tx(struct store_txn *t, void *arg, int add)
{
	struct group_op *op = arg;
	struct store_key k, uk, gk;
	const void *v;
	size_t len;
	int rc;

	skey_init(&gk, op->tenant);
	skey_add(&gk, op->group);
	skey_init(&k, op->tenant);
	skey_add(&k, op->user);
	if (add) {
		if ((rc = stx_get(t, DB_GROUPS, &gk, &v, &len)) != 1) {
			op->err = rc == 0 ? "no such group" : op->err;
			return -1;
		}
		if ((rc = stx_get(t, DB_USERS, &k, &v, &len)) != 1) {
			op->err = rc == 0 ? "no such user" : op->err;
			return -1;
		}
	}
	skey_init(&uk, op->tenant);
	skey_add(&uk, "u");
	skey_add(&uk, op->user);
	skey_add(&uk, op->group);
	skey_init(&gk, op->tenant);
	skey_add(&gk, "g");
	skey_add(&gk, op->group);
	skey_add(&gk, op->user);
	if (add)
		return stx_put(t, DB_MEMBERS, &uk, "", 0, 0) == 0 &&
		    stx_put(t, DB_MEMBERS, &gk, "", 0, 0) == 0 ? 0 : -1;
	if ((rc = stx_del(t, DB_MEMBERS, &uk)) < 0 || stx_del(t, DB_MEMBERS, &gk) < 0)
		return -1;
	return rc;
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
    const char **errstr)
{
	struct group_op op = { .tenant = tenant, .group = group, .user = user,
		.err = "cannot store the membership" };

	if (store_run(st, 1, member_add_tx, &op) < 0) {
		*errstr = op.err;
		return -1;
	}
	return 0;
}

int
store_member_remove(struct store *st, const char *tenant, const char *group, const char *user)
{
	struct group_op op = { .tenant = tenant, .group = group, .user = user };

	return store_run(st, 1, member_remove_tx, &op);
}

static int
user_groups_tx(struct store_txn *t, void *arg)
{
	struct group_op *op = arg;
	struct store_key k;

	store_strv_free(op->list);
	op->list = NULL;
	op->n = 0;
	skey_init(&k, op->tenant);
	skey_add(&k, "u");
	skey_add(&k, op->user);
	skey_prefix(&k);
	op->skip = k.len;
	return stx_iter(t, DB_MEMBERS, &k, name_cb, op);
}

int
store_user_groups(struct store *st, const char *tenant, const char *user, char ***groups_r)
{
	struct group_op op = { .tenant = tenant, .user = user };

	if (store_run(st, 0, user_groups_tx, &op) < 0) {
		store_strv_free(op.list);
		*groups_r = NULL;
		return -1;
	}
	if (op.list == NULL)
		op.list = xcalloc(1, sizeof(char *));
	*groups_r = op.list;
	return 0;
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
