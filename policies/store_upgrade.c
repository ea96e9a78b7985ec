/*
 * Upgrades of databases written by earlier versions, run by store_open in one write
 * transaction with an audit record per tenant and step.  Schema 1 to 2: users, groups and
 * apps get (or keep) an immutable id and everything that referred to them by name refers
 * to the id; references to objects that no longer exist (a policy of a removed user, say)
 * are dropped and named in the audit record.  Schema 2 to 3 (access rules): each tenant
 * record gets its time zone and default effect written out; device-required settings stay.
 * Schema 3 to 4 (second factors): nothing to rewrite, the new fields of users, sessions,
 * tenants and rules read as unset; the record says what the tenant holds.  Schema 4 to 5
 * (API keys): the same, with new databases that start empty.  Schema 5 to 6 (console
 * roles, branding, initiate_login_uri): new fields only, which read as unset (every user a
 * plain user, no branding); the record says how many users and apps the tenant holds.
 * Schema 6 to 7 (licences, operator accounts): new fields only; every tenant stays
 * unlicensed (no limit) and every user a billed user; the record says so with the use.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "rules.h"
#include "store_int.h"
#include "xmalloc.h"

/* A copy of every entry under a prefix, so the database can change under the walk. */
struct kv {
	char *k, *v;
	size_t klen, vlen;
};

struct kvs {
	struct kv *v;
	size_t n;
};

static int
copy_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct kvs *l = arg;

	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n].k = xmemdup(key, klen + 1);
	l->v[l->n].k[klen] = '\0';
	l->v[l->n].klen = klen;
	l->v[l->n].v = xmemdup(val, vlen + 1);
	l->v[l->n].v[vlen] = '\0';
	l->v[l->n].vlen = vlen;
	l->n++;
	return 0;
}

static void
kvs_free(struct kvs *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].k);
		free(l->v[i].v);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Every entry of tenant in db, removed from it: the caller writes back what stays. */
static int
take_all(struct store_txn *t, enum store_db db, const char *tenant, struct kvs *l)
{
	struct store_key k;

	memset(l, 0, sizeof(*l));
	skey_init(&k, tenant);
	skey_prefix(&k);
	if (stx_iter(t, db, &k, copy_cb, l) < 0)
		return -1;
	for (size_t i = 0; i < l->n; i++) {
		struct store_key ek = { .len = 0 };
		skey_add_bytes(&ek, l->v[i].k, l->v[i].klen);
		if (stx_del(t, db, &ek) < 0)
			return -1;
	}
	return 0;
}

/* The NUL-separated parts of a key after the tenant: part i (0-based), or NULL. */
static const char *
key_part(const struct kv *e, size_t tlen, int i, size_t *len_r)
{
	const char *p = e->k + tlen + 1, *end = e->k + e->klen;

	for (; i > 0 && p < end; i--)
		p += strnlen(p, (size_t)(end - p)) + 1;
	if (p >= end)
		return NULL;
	*len_r = strnlen(p, (size_t)(end - p));
	return p;
}

/* name -> id, sorted by name once built (map_sort) for bsearch. */
struct pair {
	char *name, *id;
};

struct map {
	struct pair *v;
	size_t n;
};

static void
map_add(struct map *m, const char *name, const char *id)
{
	m->v = xreallocarray(m->v, m->n + 1, sizeof(*m->v));
	m->v[m->n].name = xstrdup(name);
	m->v[m->n++].id = xstrdup(id);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct pair *)a)->name, ((const struct pair *)b)->name);
}

static void
map_sort(struct map *m)
{
	if (m->n > 1)		/* qsort's base must not be NULL, even for none */
		qsort(m->v, m->n, sizeof(*m->v), by_name);
}

static const char *
map_get(const struct map *m, const char *name)
{
	struct pair key = { (char *)name, NULL }, *hit;

	if (name == NULL || m->n == 0)
		return NULL;
	hit = bsearch(&key, m->v, m->n, sizeof(*m->v), by_name);
	return hit ? hit->id : NULL;
}

static void
map_free(struct map *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].name);
		free(m->v[i].id);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}

struct up {
	struct store_txn *t;
	const char *tenant;
	size_t tlen;
	struct map users, groups, apps;
	struct buf dropped;	/* policies whose object is gone */
	int nmembers, npolicies, nsessions, ngrants, ncerts;
	const char *err;
};

static int
put_index(struct up *u, enum store_db db, const char *value, const char *id)
{
	struct store_key k;
	int rc;

	skey_init(&k, u->tenant);
	skey_add_folded(&k, value);
	rc = stx_put(u->t, db, &k, id, strlen(id), db == DB_USERS_NAME ? STX_NOOVERWRITE : 0);
	if (rc == 1)
		u->err = "two users have names that differ only in case; remove or rename one "
		    "with the previous version, then start this one";
	return rc == 0 ? 0 : -1;
}

static int
user_one(struct up *u, const struct kv *e)
{
	struct user r = { 0 };
	struct store_key k;
	char *id;
	int rc;

	if (rec_decode(store_user_fields, &r, e->v, e->vlen) == -1 || r.name == NULL) {
		store_user_clear(&r);
		return 0;	/* unreadable: nothing can refer to it by a name we know */
	}
	if (r.id == NULL)
		r.id = store_new_id();
	id = r.id;
	map_add(&u->users, r.name, id);
	skey_init(&k, u->tenant);
	skey_add(&k, id);
	rc = stx_put_rec(u->t, DB_USERS, &k, store_user_fields, &r, 0) == 0 &&
	    put_index(u, DB_USERS_NAME, r.name, id) == 0 &&
	    (r.email == NULL || put_index(u, DB_USERS_EMAIL, r.email, id) == 0) ? 0 : -1;
	store_user_clear(&r);
	return rc;
}

static int
up_users(struct up *u)
{
	struct kvs l;
	int rc = take_all(u->t, DB_USERS, u->tenant, &l);

	for (size_t i = 0; rc == 0 && i < l.n; i++)
		rc = user_one(u, &l.v[i]);
	kvs_free(&l);
	map_sort(&u->users);
	return rc;
}

static int
up_groups(struct up *u)
{
	struct kvs l;
	int rc = take_all(u->t, DB_GROUPS, u->tenant, &l);

	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		struct grouprec g = { store_new_id(), l.v[i].k + u->tlen + 1, (uint64_t)clock_now() };
		struct store_key k;
		map_add(&u->groups, g.name, g.id);
		skey_init(&k, u->tenant);
		skey_add(&k, g.id);
		rc = stx_put_rec(u->t, DB_GROUPS, &k, store_group_fields, &g, 0);
		skey_init(&k, u->tenant);
		skey_add(&k, g.name);
		if (rc == 0)
			rc = stx_put(u->t, DB_GROUPS_NAME, &k, g.id, strlen(g.id), 0);
		free(g.id);
	}
	kvs_free(&l);
	map_sort(&u->groups);
	return rc;
}

/* "u USER GROUP" entries name both sides; each becomes the pair of id entries. */
static int
member_one(struct up *u, const struct kv *e)
{
	size_t n1, n2, n3;
	const char *side = key_part(e, u->tlen, 0, &n1), *un = key_part(e, u->tlen, 1, &n2);
	const char *gn = key_part(e, u->tlen, 2, &n3), *uid, *gid;
	struct store_key k;

	if (side == NULL || un == NULL || gn == NULL || strcmp(side, "u"))
		return 0;
	if ((uid = map_get(&u->users, un)) == NULL || (gid = map_get(&u->groups, gn)) == NULL)
		return 0;	/* a membership of something gone goes too */
	skey_init(&k, u->tenant);
	skey_add(&k, "u");
	skey_add(&k, uid);
	skey_add(&k, gid);
	if (stx_put(u->t, DB_MEMBERS, &k, "", 0, 0) != 0)
		return -1;
	skey_init(&k, u->tenant);
	skey_add(&k, "g");
	skey_add(&k, gid);
	skey_add(&k, uid);
	u->nmembers++;
	return stx_put(u->t, DB_MEMBERS, &k, "", 0, 0) == 0 ? 0 : -1;
}

static int
up_members(struct up *u)
{
	struct kvs l;
	int rc = take_all(u->t, DB_MEMBERS, u->tenant, &l);

	for (size_t i = 0; rc == 0 && i < l.n; i++)
		rc = member_one(u, &l.v[i]);
	kvs_free(&l);
	return rc;
}

static int
up_apps(struct up *u)
{
	struct kvs l;
	int rc = take_all(u->t, DB_APPS, u->tenant, &l);

	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		struct app a = { 0 };
		struct store_key k = { .len = 0 };
		if (rec_decode(store_app_fields, &a, l.v[i].v, l.v[i].vlen) == -1 || !a.name)
			rc = -1;
		if (rc == 0 && a.id == NULL)
			a.id = store_new_id();
		if (rc == 0)
			map_add(&u->apps, a.name, a.id);
		skey_add_bytes(&k, l.v[i].k, l.v[i].klen);
		if (rc == 0)
			rc = stx_put_rec(u->t, DB_APPS, &k, store_app_fields, &a, 0);
		store_app_clear(&a);
	}
	kvs_free(&l);
	map_sort(&u->apps);
	return rc;
}

/* "tenant", "user:NAME", "group:NAME", "app:NAME": kind and target id, or 0 when gone. */
static int
scope_target(struct up *u, const char *scope, const char **kind, const char **id)
{
	const struct {
		const char *prefix, *kind;
		const struct map *m;
	} kinds[] = { { "user:", "user", &u->users }, { "group:", "group", &u->groups },
		{ "app:", "app", &u->apps } };

	if (!strcmp(scope, "tenant")) {
		*kind = "tenant", *id = "";
		return 1;
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strncmp(scope, kinds[i].prefix, strlen(kinds[i].prefix))) {
			*kind = kinds[i].kind;
			*id = map_get(kinds[i].m, scope + strlen(kinds[i].prefix));
			return *id != NULL;
		}
	return 0;
}

static int
policy_one(struct up *u, const struct kv *e)
{
	size_t n1, n2;
	const char *scope = key_part(e, u->tlen, 0, &n1), *key = key_part(e, u->tlen, 1, &n2);
	const char *kind, *id;
	struct policy p = { 0 };
	struct store_key k;

	if (scope == NULL || key == NULL)
		return 0;
	if (!scope_target(u, scope, &kind, &id)) {
		buf_printf(&u->dropped, "%s%s/%s=%s", u->dropped.len ? "," : "", scope, key, e->v);
		return 0;
	}
	p.kind = (char *)kind, p.target = (char *)id, p.key = (char *)key, p.value = e->v;
	skey_init(&k, u->tenant);
	skey_add(&k, kind);
	skey_add(&k, id);
	skey_add(&k, key);
	u->npolicies++;
	return stx_put_rec(u->t, DB_POLICIES, &k, store_policy_fields, &p, 0) == 0 ? 0 : -1;
}

static int
up_policies(struct up *u)
{
	struct kvs l;
	int rc = take_all(u->t, DB_POLICIES, u->tenant, &l);

	for (size_t i = 0; rc == 0 && i < l.n; i++)
		rc = policy_one(u, &l.v[i]);
	kvs_free(&l);
	return rc;
}

/*
 * A record whose user field (at offset off) held a name: now the id.  A record of a user
 * that is gone goes (gone: 1), except grants, which are revoked and kept.
 */
static int
rekey_user(struct up *u, enum store_db db, const struct rec_field *f, size_t size, size_t off,
    size_t revoked_off, const struct kv *e)
{
	char *rec = xcalloc(1, size), **user = (char **)(void *)(rec + off);
	const char *id;
	struct store_key k = { .len = 0 };
	int rc = 0;

	skey_add_bytes(&k, e->k, e->klen);
	if (rec_decode(f, rec, e->v, e->vlen) == 0) {
		if (*user && (id = map_get(&u->users, *user)) != NULL) {
			free(*user);
			*user = xstrdup(id);
		} else if (*user && revoked_off) {
			*(uint64_t *)(void *)(rec + revoked_off) = 1;
		} else if (*user) {
			rc = 1;
		}
		if (rc == 0 && stx_put_rec(u->t, db, &k, f, rec, 0) != 0)
			rc = -1;
	}
	rec_clear(f, rec);
	free(rec);
	return rc;
}

static int
up_records(struct up *u, enum store_db db, const struct rec_field *f, size_t size, size_t off,
    size_t revoked_off)
{
	struct kvs l;
	int rc = take_all(u->t, db, u->tenant, &l), r;

	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		if ((r = rekey_user(u, db, f, size, off, revoked_off, &l.v[i])) < 0)
			rc = -1;
		if (r == 1 && db == DB_SESSIONS)	/* its SPs go with it */
			rc = stx_session_delete(u->t, u->tenant, NULL,
			    (const unsigned char *)l.v[i].k + u->tlen + 1) < 0 ? -1 : 0;
		if (db == DB_SESSIONS)
			u->nsessions += r == 0;
		else
			u->ngrants += r == 0;
	}
	kvs_free(&l);
	return rc;
}

/* Index entries "tenant NAME rest..." become "tenant ID rest..." (name gone: entry gone). */
static int
up_index(struct up *u, enum store_db db)
{
	struct kvs l;
	int rc = take_all(u->t, db, u->tenant, &l);

	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		size_t n;
		const char *name = key_part(&l.v[i], u->tlen, 0, &n), *id;
		struct store_key k;
		if (name == NULL || (id = map_get(&u->users, name)) == NULL)
			continue;
		skey_init(&k, u->tenant);
		skey_add(&k, id);
		skey_add_bytes(&k, name + n, l.v[i].klen - (size_t)(name + n - l.v[i].k));
		rc = stx_put(u->t, db, &k, l.v[i].v, l.v[i].vlen, 0) == 0 ? 0 : -1;
	}
	kvs_free(&l);
	return rc;
}

/* Certificates are indexed by their user id (each record has had it since schema 1). */
static int
up_certs(struct up *u)
{
	struct kvs l;
	int rc = take_all(u->t, DB_CERTS_BY_USER, u->tenant, &l);

	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		size_t n1, n2;
		const char *name = key_part(&l.v[i], u->tlen, 0, &n1);
		const char *serial = key_part(&l.v[i], u->tlen, 1, &n2);
		struct devcert c = { 0 };
		struct store_key k;
		if (name == NULL || serial == NULL)
			continue;
		skey_init(&k, u->tenant);
		skey_add(&k, serial);
		if (stx_get_rec(u->t, DB_CERTS, &k, store_cert_fields, &c) == 1 && c.user_id) {
			skey_init(&k, u->tenant);
			skey_add(&k, c.user_id);
			skey_add(&k, serial);
			rc = stx_put(u->t, DB_CERTS_BY_USER, &k, "", 0, 0) == 0 ? 0 : -1;
			u->ncerts++;
		}
		store_devcert_clear(&c);
	}
	kvs_free(&l);
	return rc;
}

static int
up_tenant(struct up *u)
{
	char *fields;
	int rc;

	rc = up_users(u) || up_groups(u) || up_members(u) || up_apps(u) || up_policies(u) ||
	    up_records(u, DB_SESSIONS, store_session_fields, sizeof(struct session),
	    offsetof(struct session, user), 0) || up_index(u, DB_USER_SESSIONS) ||
	    up_records(u, DB_OIDC_CODES, store_code_fields, sizeof(struct oidc_code),
	    offsetof(struct oidc_code, user), 0) ||
	    up_records(u, DB_OIDC_FAMILIES, store_family_fields, sizeof(struct oidc_family),
	    offsetof(struct oidc_family, user), offsetof(struct oidc_family, revoked)) ||
	    up_records(u, DB_OIDC_ACCESS, store_access_fields, sizeof(struct oidc_access),
	    offsetof(struct oidc_access, user), 0) || up_index(u, DB_OIDC_BY_USER) ||
	    up_certs(u);
	if (rc)
		return -1;
	fields = xasprintf("from=1 to=2 users=%zu groups=%zu memberships=%d apps=%zu "
	    "policies=%d sessions=%d grants=%d certs=%d policies_dropped=%s", u->users.n,
	    u->groups.n, u->nmembers, u->apps.n, u->npolicies, u->nsessions, u->ngrants,
	    u->ncerts, u->dropped.len ? u->dropped.data : "none");
	if (strlen(fields) > 1400)	/* the record stays readable; the log has no limit */
		memcpy(fields + 1396, "...", 4);
	rc = stx_audit_append(u->t, u->tenant, clock_now(), "store.upgrade", fields);
	free(fields);
	return rc;
}

struct tenants {
	char **id;
	size_t n;
};

static int
tenant_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct tenants *ts = arg;

	ts->id = xreallocarray(ts->id, ts->n + 1, sizeof(char *));
	ts->id[ts->n++] = xstrndup((const char *)key + 1, klen - 1);
	return 0;
}

/* ---- schema 2 to 3 ---- */

static int
count_device_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct policy p = { 0 };

	if (rec_decode(store_policy_fields, &p, val, vlen) == 0 && p.key &&
	    !strcmp(p.key, "device_required"))
		(*(int *)arg)++;
	store_policy_clear(&p);
	return 0;
}

/* What applied until now, written out: a later default cannot change a tenant's rules. */
static int
up3_tenant(struct store_txn *t, const char *tenant)
{
	struct tenant r = { 0 };
	struct store_key k;
	char *fields;
	int rc, device = 0;

	skey_init(&k, "");
	skey_add(&k, tenant);
	if (stx_get_rec(t, DB_TENANTS, &k, store_tenant_fields, &r) != 1)
		return -1;
	if (r.timezone == NULL)
		r.timezone = xstrdup(RULE_DEFAULT_TIMEZONE);
	if (r.default_effect == NULL)
		r.default_effect = xstrdup("allow");
	rc = stx_put_rec(t, DB_TENANTS, &k, store_tenant_fields, &r, 0);
	skey_init(&k, tenant);
	skey_prefix(&k);
	if (rc == 0)
		rc = stx_iter(t, DB_POLICIES, &k, count_device_cb, &device);
	fields = xasprintf("from=2 to=3 timezone=%s default=%s device_required=%d",
	    r.timezone, r.default_effect, device);
	if (rc == 0)
		rc = stx_audit_append(t, tenant, clock_now(), "store.upgrade", fields);
	free(fields);
	store_tenant_clear(&r);
	return rc == 0 ? 0 : -1;
}

/* ---- schema 3 to 4 ---- */

static int
count_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static int
count_in(struct store_txn *t, enum store_db db, const char *tenant, int *n_r)
{
	struct store_key k;

	*n_r = 0;
	skey_init(&k, tenant);
	skey_prefix(&k);
	return stx_iter(t, db, &k, count_cb, n_r);
}

static int
up4_tenant(struct store_txn *t, const char *tenant)
{
	int users, sessions, rules, rc;
	char *fields;

	if (count_in(t, DB_USERS, tenant, &users) < 0 ||
	    count_in(t, DB_SESSIONS, tenant, &sessions) < 0 ||
	    count_in(t, DB_RULES, tenant, &rules) < 0)
		return -1;
	fields = xasprintf("from=3 to=4 users=%d sessions=%d rules=%d", users, sessions, rules);
	rc = stx_audit_append(t, tenant, clock_now(), "store.upgrade", fields);
	free(fields);
	return rc == 0 ? 0 : -1;
}

/* ---- schema 4 to 5 ---- */

static int
up5_tenant(struct store_txn *t, const char *tenant)
{
	int users, groups, apps, rc;
	char *fields;

	if (count_in(t, DB_USERS, tenant, &users) < 0 ||
	    count_in(t, DB_GROUPS, tenant, &groups) < 0 ||
	    count_in(t, DB_APPS, tenant, &apps) < 0)
		return -1;
	fields = xasprintf("from=4 to=5 users=%d groups=%d apps=%d", users, groups, apps);
	rc = stx_audit_append(t, tenant, clock_now(), "store.upgrade", fields);
	free(fields);
	return rc == 0 ? 0 : -1;
}

/* ---- schema 5 to 6 ---- */

static int
up6_tenant(struct store_txn *t, const char *tenant)
{
	int users, apps, rc;
	char *fields;

	if (count_in(t, DB_USERS, tenant, &users) < 0 || count_in(t, DB_APPS, tenant, &apps) < 0)
		return -1;
	fields = xasprintf("from=5 to=6 users=%d apps=%d roles=user", users, apps);
	rc = stx_audit_append(t, tenant, clock_now(), "store.upgrade", fields);
	free(fields);
	return rc == 0 ? 0 : -1;
}

/* ---- schema 6 to 7 ---- */

static int
up7_tenant(struct store_txn *t, const char *tenant)
{
	struct store_usage u;
	char *fields;
	int rc;

	if (stx_usage(t, tenant, clock_now(), &u) < 0)
		return -1;
	fields = xasprintf("from=6 to=7 licence=unlicensed seats=unlimited users=%llu "
	    "cert_holders=%llu", (unsigned long long)u.users,
	    (unsigned long long)u.cert_holders);
	rc = stx_audit_append(t, tenant, clock_now(), "store.upgrade", fields);
	free(fields);
	return rc == 0 ? 0 : -1;
}

/* Schema 1 to 2 for one tenant. */
static int
up2_tenant(struct store_txn *t, const char *tenant, const char **errstr)
{
	struct up u = { .t = t, .tenant = tenant, .tlen = strlen(tenant) };
	int rc;

	buf_init(&u.dropped, 0);
	if ((rc = up_tenant(&u)) < 0 && u.err)
		*errstr = u.err;
	map_free(&u.users);
	map_free(&u.groups);
	map_free(&u.apps);
	buf_free(&u.dropped);
	return rc;
}

int
stx_upgrade(struct store_txn *t, int from, const char **errstr)
{
	struct tenants ts = { 0 };
	struct store_key k;
	int rc = 0;

	*errstr = "cannot upgrade the database";
	if (from < 1 || from > 6) {
		*errstr = "database has an unknown schema version";
		return -1;
	}
	skey_init(&k, "");
	skey_prefix(&k);
	if (stx_iter(t, DB_TENANTS, &k, tenant_cb, &ts) < 0)
		rc = -1;
	for (size_t i = 0; i < ts.n; i++) {
		if (rc == 0 && from == 1)
			rc = up2_tenant(t, ts.id[i], errstr);
		if (rc == 0 && from <= 2)
			rc = up3_tenant(t, ts.id[i]);
		if (rc == 0 && from <= 3)
			rc = up4_tenant(t, ts.id[i]);
		if (rc == 0 && from <= 4)
			rc = up5_tenant(t, ts.id[i]);
		if (rc == 0 && from <= 5)
			rc = up6_tenant(t, ts.id[i]);
		if (rc == 0)
			rc = up7_tenant(t, ts.id[i]);
		free(ts.id[i]);
	}
	free(ts.id);
	return rc;
}
