/*
 * Unit tests for the store (policies/store.c, store_user.c, store_app.c) on a real LMDB
 * environment in a temporary directory: schema, tenants, keys, users, groups and apps, with
 * duplicates refused atomically and cascades checked in the raw databases; map growth, a full
 * map (STORE_FULL, reads still work, nothing corrupt), stale reader slots and backups.
 */
#include "config.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "buf.h"
#include "crypto.h"
#include "log.h"
#include "audit.h"
#include "store.h"
#include "xmalloc.h"

#include "store_fixture.h"

/* ---- basics ---- */

static void
test_store_valid_name(void **state)
{
	static const struct {
		const char *s;
		size_t max;
		int ok;
	} cases[] = {
		{ "alice", 128, 1 },
		{ "a.b_c-d+e@f", 128, 1 },
		{ "A9", 128, 1 },
		{ "", 128, 0 },
		{ "a b", 128, 0 },
		{ "a/b", 128, 0 },
		{ "a\nb", 128, 0 },
		{ "\xe9\x96\xa2", 128, 0 },
		{ "a:b", 128, 0 },
		{ "abc", 3, 1 },
		{ "abcd", 3, 0 },
	};

	for (size_t i = 0; i < NELEM(cases); i++)
		assert_int_equal(store_valid_name(cases[i].s, cases[i].max), cases[i].ok);
}

static void
test_store_reopen_keeps_data(void **state)
{
	struct fx *fx = *state;
	struct user u;

	add_user(fx, T, "alice", "alice@example.org");
	fx_reopen(fx);
	assert_int_equal(store_user_get(fx->st, T, "alice", &u), 1);
	assert_string_equal(u.email, "alice@example.org");
	store_user_clear(&u);
}

static void
test_store_schema_version_checked(void **state)
{
	struct fx *fx = *state;
	char *path = xasprintf("%s/data", fx->dir);
	MDB_val k = { 6, "schema" }, v = { 1, "9" };
	const char *err = NULL;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	store_close(fx->st);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	assert_int_equal(mdb_env_open(env, path, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	free(path);
	fx->st = store_open(fx->dir, &fx->ss, &err);
	assert_null(fx->st);
	assert_string_equal(err, "database has an unknown schema version (written by a newer "
	    "Sekisho?)");
	/* teardown closes a NULL store */
}

/* ---- tenants and keys ---- */

static void
tenant_cb(const void *rec, void *arg)
{
	const struct tenant *t = rec;
	struct buf *b = arg;

	buf_printf(b, "%s;", t->id);
}

static void
test_store_tenants(void **state)
{
	struct fx *fx = *state;
	struct tenant t = { .id = "acme", .name = "ACME Corp", .created = T0,
		.secret = (unsigned char *)"sealed\0secret", .secret_len = 13 };
	struct tenant got;
	const char *err = NULL;
	uint64_t g0, g1;
	struct buf list;

	assert_int_equal(store_tenant_generation(fx->st, "acme", &g0), 0);
	assert_int_equal(g0, 0);
	assert_int_equal(store_tenant_add(fx->st, &t, &err), 0);
	assert_int_equal(store_tenant_add(fx->st, &t, &err), -1);
	assert_string_equal(err, "tenant already exists");
	t.id = "acme2";
	assert_int_equal(store_tenant_add(fx->st, &t, &err), 0);
	assert_int_equal(store_tenant_get(fx->st, "acme", &got), 1);
	assert_string_equal(got.name, "ACME Corp");
	assert_int_equal(got.secret_len, 13);
	assert_memory_equal(got.secret, "sealed\0secret", 13);
	store_tenant_clear(&got);
	assert_int_equal(store_tenant_get(fx->st, "acm", &got), 0);
	assert_int_equal(store_tenant_get(fx->st, "", &got), 0);
	assert_int_equal(store_tenant_generation(fx->st, "acme", &g1), 0);
	assert_true(g1 > g0);
	buf_init(&list, 0);
	assert_int_equal(store_tenant_list(fx->st, tenant_cb, &list), 0);
	assert_string_equal(list.data, "acme;acme2;");
	buf_free(&list);
}

static void
key_cb(const void *rec, void *arg)
{
	const struct keyrec *k = rec;
	struct buf *b = arg;

	buf_printf(b, "%s/%s/%llu;", k->kid, k->alg, (unsigned long long)k->state);
}

static void
test_store_keys(void **state)
{
	struct fx *fx = *state;
	struct keyrec k = { .kid = "k1", .use = "saml", .alg = "RS256", .created = T0,
		.state = STORE_KEY_ACTIVE, .sealed_key = (unsigned char *)"xx", .sealed_key_len = 2,
		.cert_pem = "-----BEGIN CERTIFICATE-----" };
	const char *err = NULL;
	uint64_t g0, g1;
	struct buf list;

	assert_int_equal(store_tenant_generation(fx->st, T, &g0), 0);
	assert_int_equal(store_key_add(fx->st, T, &k, &err), 0);
	assert_int_equal(store_key_add(fx->st, T, &k, &err), -1);	/* same kid */
	k.kid = "k2";
	k.state = STORE_KEY_NEXT;
	assert_int_equal(store_key_add(fx->st, T, &k, &err), 0);
	k.kid = "o1";
	k.use = "oidc";
	assert_int_equal(store_key_add(fx->st, T, &k, &err), 0);
	assert_int_equal(store_tenant_generation(fx->st, T, &g1), 0);
	assert_int_equal(g1, g0 + 3);
	buf_init(&list, 0);
	assert_int_equal(store_key_list(fx->st, T, "saml", key_cb, &list), 0);
	assert_string_equal(list.data, "k1/RS256/1;k2/RS256/2;");
	buf_reset(&list);
	assert_int_equal(store_key_list(fx->st, "other", "saml", key_cb, &list), 0);
	assert_int_equal(list.len, 0);
	buf_free(&list);
}

/* ---- users ---- */

static void
test_store_users(void **state)
{
	struct fx *fx = *state;
	struct user u;

	add_user(fx, T, "alice", "Alice@Example.ORG");
	add_user(fx, T, "bob", NULL);
	assert_int_equal(store_user_get(fx->st, T, "alice", &u), 1);
	assert_string_equal(u.name, "alice");
	assert_string_equal(u.display_name, "Someone");
	assert_int_equal(u.disabled, 0);
	assert_true(u.created == T0);
	store_user_clear(&u);
	/* Names are found without regard to case, and kept as written. */
	assert_int_equal(store_user_get(fx->st, T, "ALICE", &u), 1);
	assert_string_equal(u.name, "alice");
	store_user_clear(&u);
	assert_int_equal(store_user_get(fx->st, T, "alic", &u), 0);
	assert_int_equal(store_user_get(fx->st, "other", "alice", &u), 0);	/* per tenant */
	assert_int_equal(store_user_get(fx->st, T, "bob", &u), 1);
	assert_null(u.email);
	store_user_clear(&u);
}

static void
test_store_user_by_email_case_insensitive(void **state)
{
	static const char *const forms[] = { "alice@example.org", "ALICE@EXAMPLE.ORG",
		"Alice@Example.ORG", "aLiCe@eXaMpLe.OrG" };
	struct fx *fx = *state;
	struct user u;

	add_user(fx, T, "alice", "Alice@Example.ORG");
	for (size_t i = 0; i < NELEM(forms); i++) {
		assert_int_equal(store_user_get_by_email(fx->st, T, forms[i], &u), 1);
		assert_string_equal(u.name, "alice");
		/* The address is kept as given. */
		assert_string_equal(u.email, "Alice@Example.ORG");
		store_user_clear(&u);
	}
	assert_int_equal(store_user_get_by_email(fx->st, T, "alice@example.or", &u), 0);
	assert_int_equal(store_user_get_by_email(fx->st, T, "alice@example.org ", &u), 0);
	assert_int_equal(store_user_get_by_email(fx->st, "other", "alice@example.org", &u), 0);
}

static void
test_store_user_duplicates(void **state)
{
	struct fx *fx = *state;
	struct user u = { .id = "x", .name = "alice", .email = "new@example.org" };
	const char *err = NULL;

	add_user(fx, T, "alice", "alice@example.org");
	/* Same name, new email: refused, and the new email is not left in the index. */
	assert_int_equal(store_user_add(fx->st, T, &u, NULL, &err), -1);
	assert_string_equal(err, "user already exists");
	assert_int_equal(store_user_get_by_email(fx->st, T, "new@example.org", &u), 0);
	/* Same email in another case, new name: refused, the new user does not exist. */
	u.name = "alice2";
	u.email = "ALICE@example.org";
	assert_int_equal(store_user_add(fx->st, T, &u, NULL, &err), -1);
	assert_string_equal(err, "another user has this email address");
	assert_int_equal(store_user_get(fx->st, T, "alice2", &u), 0);
	/* Another tenant is another namespace. */
	add_user(fx, "other", "alice", "alice@example.org");
	assert_int_equal(raw_count(fx, "users"), 2);
	assert_int_equal(raw_count(fx, "users_by_email"), 2);
}

/* store_user_add_many: all the users, each with its audit record, or none of them. */
static void
test_store_user_add_many(void **state)
{
	struct fx *fx = *state;
	struct user u[3] = { { .id = "i1", .name = "ann", .email = "ann@example.org" },
		{ .id = "i2", .name = "ben" },
		{ .id = "i3", .name = "cy", .email = "ANN@example.org" } };
	struct audit_entry ae[3];
	const char *err = NULL;
	size_t at = 9;
	char *text;

	for (int i = 0; i < 3; i++)
		audit_entry_make(&ae[i], "admin.user.add", "user", u[i].name, NULL);
	/* The third repeats the first's address: nobody is added, and it is named. */
	assert_int_equal(store_user_add_many(fx->st, T, u, ae, 3, &at, &err), -1);
	assert_int_equal(at, 2);
	assert_string_equal(err, "another user has this email address");
	assert_int_equal(raw_count(fx, "users"), 0);
	assert_int_equal(raw_count(fx, "users_by_email"), 0);
	u[2].email = "cy@example.org";
	assert_int_equal(store_user_add_many(fx->st, T, u, ae, 3, &at, &err), 0);
	assert_int_equal(raw_count(fx, "users"), 3);
	text = fx_audit_text(fx, T);
	assert_non_null(strstr(text, "user=ann"));
	assert_non_null(strstr(text, "user=cy"));
	free(text);
	/* An existing name later in the list: the ones before it are not added either. */
	u[0].id = "i4";
	u[0].name = "dee";
	u[0].email = NULL;
	u[1].id = "i5";
	u[1].name = "BEN";
	assert_int_equal(store_user_add_many(fx->st, T, u, ae, 2, &at, &err), -1);
	assert_int_equal(at, 1);
	assert_string_equal(err, "user already exists");
	assert_int_equal(raw_count(fx, "users"), 3);
}

/* A licensed tenant of n seats (the store takes any number; admin/licence.c checks them). */
static void
licence(struct fx *fx, uint64_t seats, int force, int want)
{
	struct tenant lic = { .licensed = 1, .seats = seats };
	struct store_usage use;
	const char *err = NULL;

	assert_int_equal(store_tenant_licence(fx->st, T, &lic, force, T0, NULL, &use, &err), want);
	if (want == -1)
		assert_ptr_equal(err, store_err_below_use);
}

/*
 * Seats count active users that are not operators, in the write transaction of the change:
 * add, import (all or none), enable, operator flag off; operators at most 2.
 */
static void
test_store_licence_seats(void **state)
{
	struct fx *fx = *state;
	struct tenant t = { .id = T, .name = "Acme", .created = T0 };
	struct user u[2] = { { .id = "i1", .name = "ann" }, { .id = "i2", .name = "ben" } };
	struct user op = { .id = "o1", .name = "op1", .operator = 1 };
	struct audit_entry ae[2] = { { 0 } };
	struct store_usage use;
	uint64_t off = 0;
	struct user_change ch = { .operator = &off };
	const char *err = NULL;
	size_t at;

	assert_int_equal(store_tenant_add(fx->st, &t, &err), 0);
	add_user(fx, T, "alice", NULL);
	licence(fx, 2, 0, 1);
	/* An import of two into the one free seat: none added. */
	assert_int_equal(store_user_add_many(fx->st, T, u, ae, 2, &at, &err), -1);
	assert_ptr_equal(err, store_err_seats);
	assert_int_equal(raw_count(fx, "users"), 1);
	assert_int_equal(store_user_add(fx->st, T, &u[0], NULL, &err), 0);
	assert_int_equal(store_user_add(fx->st, T, &u[1], NULL, &err), -1);
	assert_ptr_equal(err, store_err_seats);
	/* A disabled user takes no seat, and re-enabling needs one. */
	u[1].disabled = 1;
	assert_int_equal(store_user_add(fx->st, T, &u[1], NULL, &err), 0);
	assert_int_equal(store_user_set_disabled_err(fx->st, T, "ben", 0, NULL, &err), -1);
	assert_ptr_equal(err, store_err_seats);
	/* Operators are not counted, at most STORE_OPERATORS_MAX. */
	assert_int_equal(store_user_add(fx->st, T, &op, NULL, &err), 0);
	op.id = "o2";
	op.name = "op2";
	assert_int_equal(store_user_add(fx->st, T, &op, NULL, &err), 0);
	op.id = "o3";
	op.name = "op3";
	assert_int_equal(store_user_add(fx->st, T, &op, NULL, &err), -1);
	assert_ptr_equal(err, store_err_operators);
	assert_int_equal(store_user_update(fx->st, T, "op1", &ch, NULL, &err), -1);
	assert_ptr_equal(err, store_err_seats);
	assert_int_equal(store_usage(fx->st, T, T0, &use), 0);
	assert_int_equal(use.users, 2);
	assert_int_equal(use.operators, 2);
	assert_int_equal(use.disabled, 1);
	/* Below the use: refused, or set with force (nothing removed, nothing new). */
	licence(fx, 1, 0, -1);
	licence(fx, 1, 1, 1);
	assert_int_equal(raw_count(fx, "users"), 5);
	assert_int_equal(store_user_set_disabled(fx->st, T, "ann", 1, NULL), 1);
	assert_int_equal(store_user_set_disabled_err(fx->st, T, "ann", 0, NULL, &err), -1);
	/* Another tenant, unlicensed, has no limit. */
	add_user(fx, "other", "a1", NULL);
	add_user(fx, "other", "a2", NULL);
	add_user(fx, "other", "a3", NULL);
}

static void
test_store_user_disable_enable(void **state)
{
	struct fx *fx = *state;
	struct user u;

	add_user(fx, T, "alice", NULL);
	assert_int_equal(store_user_set_disabled(fx->st, T, "alice", 1, NULL), 1);
	assert_int_equal(store_user_get(fx->st, T, "alice", &u), 1);
	assert_int_equal(u.disabled, 1);
	/* Everything else is kept. */
	assert_string_equal(u.pwhash, "$argon2id$x");
	store_user_clear(&u);
	assert_int_equal(store_user_set_disabled(fx->st, T, "alice", 0, NULL), 1);
	assert_int_equal(store_user_get(fx->st, T, "alice", &u), 1);
	assert_int_equal(u.disabled, 0);
	store_user_clear(&u);
	assert_int_equal(store_user_set_disabled(fx->st, T, "nobody", 1, NULL), 0);
}

static void
test_store_user_set_password(void **state)
{
	struct fx *fx = *state;
	struct user u;

	add_user(fx, T, "alice", NULL);
	add_session(fx, "cookie-a", "alice", T0, T0 + 3600);
	assert_int_equal(store_user_set_password(fx->st, T, "alice", "$argon2id$new", T0 + 5, NULL), 1);
	assert_int_equal(store_user_get(fx->st, T, "alice", &u), 1);
	assert_string_equal(u.pwhash, "$argon2id$new");
	assert_true(u.pw_changed == T0 + 5);
	store_user_clear(&u);
	/* A new password ends the user's sessions. */
	assert_int_equal(session_exists(fx, "cookie-a"), 0);
	assert_int_equal(store_user_set_password(fx->st, T, "nobody", "$x", T0, NULL), 0);
}

static void
test_store_user_remove(void **state)
{
	struct fx *fx = *state;
	struct user u;
	const char *err = NULL;

	add_user(fx, T, "alice", "alice@example.org");
	add_user(fx, T, "bob", "bob@example.org");
	assert_int_equal(store_user_remove(fx->st, T, "alice", NULL), 1);
	assert_int_equal(store_user_remove(fx->st, T, "alice", NULL), 0);
	assert_int_equal(store_user_get(fx->st, T, "alice", &u), 0);
	assert_int_equal(store_user_get_by_email(fx->st, T, "alice@example.org", &u), 0);
	assert_int_equal(raw_count(fx, "users_by_email"), 1);
	/* The address is free again. */
	u = (struct user){ .id = "c", .name = "carol", .email = "Alice@example.org" };
	assert_int_equal(store_user_add(fx->st, T, &u, NULL, &err), 0);
	assert_int_equal(store_user_get_by_email(fx->st, T, "alice@example.org", &u), 1);
	assert_string_equal(u.name, "carol");
	store_user_clear(&u);
}

static void
user_cb(const void *rec, void *arg)
{
	const struct user *u = rec;
	struct buf *b = arg;

	buf_printf(b, "%s;", u->name);
}

static void
test_store_user_list_per_tenant(void **state)
{
	struct fx *fx = *state;
	struct buf b;

	add_user(fx, "t", "x1", NULL);
	add_user(fx, "t", "x2", NULL);
	add_user(fx, "t1", "y1", NULL);	/* "t1" starts with "t": must not be listed */
	add_user(fx, "s", "z1", NULL);
	buf_init(&b, 0);
	assert_int_equal(store_user_list(fx->st, "t", user_cb, &b), 0);
	assert_string_equal(b.data, "x1;x2;");
	buf_reset(&b);
	assert_int_equal(store_user_list(fx->st, "t1", user_cb, &b), 0);
	assert_string_equal(b.data, "y1;");
	buf_free(&b);
}

static void
test_store_user_long_identifiers(void **state)
{
	struct fx *fx = *state;
	char name[700], email[400];
	struct user u = { .id = "x", .name = name, .email = NULL };
	const char *err = NULL;

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	/* Too long for an LMDB key: a clean error, not a crash. */
	assert_int_equal(store_user_add(fx->st, T, &u, NULL, &err), -1);
	assert_non_null(err);
	assert_int_equal(store_user_get(fx->st, T, name, &u), 0);
	name[STORE_NAME_MAX + 1] = '\0';
	assert_int_equal(store_user_get(fx->st, T, name, &u), 0);
	memset(email, 'e', sizeof(email) - 1);
	email[sizeof(email) - 1] = '\0';
	assert_int_equal(store_user_get_by_email(fx->st, T, email, &u), 0);
}

/* ---- groups ---- */

static char *
groups_of(struct fx *fx, const char *user)
{
	char *id = user_id(fx, T, user);
	struct buf b;
	char **g;

	assert_int_equal(store_user_groups(fx->st, T, id ? id : "none", &g), 0);
	free(id);
	buf_init(&b, 0);
	for (char **p = g; *p; p++)
		buf_printf(&b, "%s;", *p);
	store_strv_free(g);
	return buf_steal(&b, NULL);
}

static void
group_cb(const void *rec, void *arg)
{
	const struct grouprec *g = rec;

	buf_printf(arg, "%s;", g->name);
}

static void
test_store_groups_and_members(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	struct buf b;
	char *s;

	add_user(fx, T, "alice", NULL);
	add_user(fx, T, "bob", NULL);
	assert_int_equal(store_group_add(fx->st, T, "staff", NULL, &err), 0);
	assert_int_equal(store_group_add(fx->st, T, "admins", NULL, &err), 0);
	assert_int_equal(store_group_add(fx->st, T, "zeta", NULL, &err), 0);
	assert_int_equal(store_group_add(fx->st, T, "staff", NULL, &err), -1);
	assert_string_equal(err, "group already exists");
	buf_init(&b, 0);
	assert_int_equal(store_group_list(fx->st, T, group_cb, &b), 0);
	assert_string_equal(b.data, "admins;staff;zeta;");
	buf_free(&b);

	assert_int_equal(store_member_add(fx->st, T, "zeta", "alice", NULL, &err), 0);
	assert_int_equal(store_member_add(fx->st, T, "staff", "alice", NULL, &err), 0);
	assert_int_equal(store_member_add(fx->st, T, "admins", "alice", NULL, &err), 0);
	/* Adding a member twice is harmless. */
	assert_int_equal(store_member_add(fx->st, T, "staff", "alice", NULL, &err), 0);
	assert_int_equal(store_member_add(fx->st, T, "staff", "bob", NULL, &err), 0);
	assert_int_equal(store_member_add(fx->st, T, "nogroup", "alice", NULL, &err), -1);
	assert_string_equal(err, "no such group");
	assert_int_equal(store_member_add(fx->st, T, "staff", "nobody", NULL, &err), -1);
	assert_string_equal(err, "no such user");

	s = groups_of(fx, "alice");
	assert_string_equal(s, "admins;staff;zeta;");	/* sorted */
	free(s);
	s = groups_of(fx, "nobody");
	assert_string_equal(s, "");
	free(s);

	assert_int_equal(store_member_remove(fx->st, T, "zeta", "alice", NULL), 1);
	assert_int_equal(store_member_remove(fx->st, T, "zeta", "alice", NULL), 0);
	s = groups_of(fx, "alice");
	assert_string_equal(s, "admins;staff;");
	free(s);
	/* 3 memberships, two keys each. */
	assert_int_equal(raw_count(fx, "members"), 6);
}

static void
test_store_group_remove_cascades(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	char *s;

	add_user(fx, T, "alice", NULL);
	add_user(fx, T, "bob", NULL);
	store_group_add(fx->st, T, "staff", NULL, &err);
	store_group_add(fx->st, T, "staff2", NULL, &err);	/* shares a prefix with "staff" */
	assert_int_equal(store_member_add(fx->st, T, "staff", "alice", NULL, &err), 0);
	assert_int_equal(store_member_add(fx->st, T, "staff", "bob", NULL, &err), 0);
	assert_int_equal(store_member_add(fx->st, T, "staff2", "bob", NULL, &err), 0);
	assert_int_equal(store_group_remove(fx->st, T, "staff", NULL), 1);
	assert_int_equal(store_group_remove(fx->st, T, "staff", NULL), 0);
	s = groups_of(fx, "alice");
	assert_string_equal(s, "");
	free(s);
	s = groups_of(fx, "bob");
	assert_string_equal(s, "staff2;");
	free(s);
	assert_int_equal(raw_count(fx, "members"), 2);
	/* A group of the same name starts empty. */
	assert_int_equal(store_group_add(fx->st, T, "staff", NULL, &err), 0);
	s = groups_of(fx, "alice");
	assert_string_equal(s, "");
	free(s);
}

static void
test_store_user_remove_cascades(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	char *s;

	add_user(fx, T, "alice", NULL);
	add_user(fx, T, "alice2", NULL);	/* shares a prefix with "alice" */
	store_group_add(fx->st, T, "staff", NULL, &err);
	store_group_add(fx->st, T, "admins", NULL, &err);
	store_member_add(fx->st, T, "staff", "alice", NULL, &err);
	store_member_add(fx->st, T, "admins", "alice", NULL, &err);
	store_member_add(fx->st, T, "staff", "alice2", NULL, &err);
	add_session(fx, "c1", "alice", T0, T0 + 3600);
	add_session(fx, "c2", "alice2", T0, T0 + 3600);
	assert_int_equal(store_user_remove(fx->st, T, "alice", NULL), 1);
	/* Memberships and sessions go in both directions, nothing of alice2's. */
	assert_int_equal(raw_count(fx, "members"), 2);
	assert_int_equal(session_exists(fx, "c1"), 0);
	assert_int_equal(session_exists(fx, "c2"), 1);
	assert_int_equal(raw_count(fx, "user_sessions"), 1);
	/* Re-created, alice is in no group. */
	add_user(fx, T, "alice", NULL);
	s = groups_of(fx, "alice");
	assert_string_equal(s, "");
	free(s);
	s = groups_of(fx, "alice2");
	assert_string_equal(s, "staff;");
	free(s);
}


/* ---- identifiers that are never reused (a removed object's things never pass on) ---- */

static void
policy_cb(const void *rec, void *arg)
{
	const struct policy *p = rec;

	buf_printf(arg, "%s:%s=%s;", p->kind, p->name ? p->name : "?", p->value);
}

static char *
policies(struct fx *fx)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(store_policy_list(fx->st, T, policy_cb, &b), 0);
	return buf_steal(&b, NULL);
}

static void
test_store_user_readded_inherits_nothing(void **state)
{
	struct fx *fx = *state;
	char *s, *old_id, *new_id;
	const char *err = NULL;

	add_user(fx, T, "carol", NULL);
	store_group_add(fx->st, T, "staff", NULL, &err);
	store_member_add(fx->st, T, "staff", "carol", NULL, &err);
	set_policy(fx, "user", "carol", "off");
	add_session(fx, "c1", "carol", T0, T0 + 3600);
	old_id = user_id(fx, T, "carol");
	s = policies(fx);
	assert_string_equal(s, "user:carol=off;");
	free(s);
	assert_int_equal(store_user_remove(fx->st, T, "carol", NULL), 1);
	add_user(fx, T, "carol", NULL);
	new_id = user_id(fx, T, "carol");
	assert_string_not_equal(old_id, new_id);
	/* No exemption, no group, no session of the old carol. */
	s = policies(fx);
	assert_string_equal(s, "");
	free(s);
	s = groups_of(fx, "carol");
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(session_exists(fx, "c1"), 0);
	assert_int_equal(raw_count(fx, "policies"), 0);
	free(old_id);
	free(new_id);
}

static void
test_store_group_readded_inherits_nothing(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	char **names;
	char *s;

	add_user(fx, T, "alice", NULL);
	store_group_add(fx->st, T, "exempt", NULL, &err);
	store_member_add(fx->st, T, "exempt", "alice", NULL, &err);
	set_policy(fx, "group", "exempt", "off");
	assert_int_equal(store_group_remove(fx->st, T, "exempt", NULL), 1);
	store_group_add(fx->st, T, "exempt", NULL, &err);
	s = policies(fx);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(store_group_members(fx->st, T, "exempt", &names), 1);
	assert_null(names[0]);
	store_strv_free(names);
}

static void
test_store_app_readded_inherits_nothing(void **state)
{
	struct fx *fx = *state;
	struct app a = { .name = "crm", .type = "saml", .entity_id = "https://crm/sp" };
	const char *err = NULL;
	char *s;

	assert_int_equal(store_app_add(fx->st, T, &a, NULL, &err), 0);
	set_policy(fx, "app", "crm", "on");
	s = policies(fx);
	assert_string_equal(s, "app:crm=on;");
	free(s);
	assert_int_equal(store_app_remove(fx->st, T, "crm", NULL), 1);
	assert_int_equal(store_app_add(fx->st, T, &a, NULL, &err), 0);
	s = policies(fx);
	assert_string_equal(s, "");
	free(s);
}

static void
test_store_policy_needs_its_object(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	char *s;

	assert_int_equal(store_policy_set(fx->st, T, "user", "nobody", "device_required", "on",
	    NULL, &err), -1);
	assert_string_equal(err, "no such user");
	assert_int_equal(store_policy_set(fx->st, T, "group", "none", "device_required", "on",
	    NULL, &err), -1);
	assert_string_equal(err, "no such group");
	assert_int_equal(store_policy_set(fx->st, T, "app", "none", "device_required", "on",
	    NULL, &err), -1);
	assert_string_equal(err, "no such app");
	set_policy(fx, "tenant", NULL, "on");
	add_user(fx, T, "Dave", NULL);
	set_policy(fx, "user", "dave", "off");	/* any case: the same user */
	s = policies(fx);
	assert_string_equal(s, "tenant:?=on;user:Dave=off;");
	free(s);
	set_policy(fx, "user", "DAVE", NULL);
	s = policies(fx);
	assert_string_equal(s, "tenant:?=on;");
	free(s);
}

/* Several settings in one commit: all, or (one names nobody) none, and the one at fault. */
static void
test_store_policy_set_all(void **state)
{
	struct fx *fx = *state;
	struct audit_entry ae[3];
	struct policy_change ch[3] = {
		{ "tenant", NULL, "device_required", "on", &ae[0] },
		{ "user", "alice", "device_required", "off", &ae[1] },
		{ "user", "nobody", "device_required", "on", &ae[2] },
	};
	const char *err = NULL;
	size_t bad = 99;
	char *s;

	for (int i = 0; i < 3; i++)
		audit_entry_make(&ae[i], "admin.policy.set", "n", i == 0 ? "0" : "1", NULL);
	add_user(fx, T, "alice", NULL);
	assert_int_equal(store_policy_set_all(fx->st, T, ch, 3, &bad, &err), -1);
	assert_string_equal(err, "no such user");
	assert_int_equal(bad, 2);
	s = policies(fx);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(store_policy_set_all(fx->st, T, ch, 2, &bad, &err), 0);
	s = policies(fx);
	assert_string_equal(s, "tenant:?=on;user:alice=off;");
	free(s);
}

static void
test_store_policy_set_list(void **state)
{
	struct fx *fx = *state;
	struct app a = { .name = "crm", .type = "saml", .entity_id = "https://crm/sp" };
	const char *err = NULL;
	uint64_t g0 = 0, g1 = 0;
	char *s;

	add_user(fx, T, "alice", NULL);
	store_group_add(fx->st, T, "staff", NULL, &err);
	assert_int_equal(store_app_add(fx->st, T, &a, NULL, &err), 0);
	assert_int_equal(store_tenant_generation(fx->st, T, &g0), 0);
	set_policy(fx, "tenant", NULL, "on");
	set_policy(fx, "group", "staff", "on");
	set_policy(fx, "user", "alice", "on");
	set_policy(fx, "app", "crm", "on");
	/* A change is seen by the running daemon through the tenant's generation. */
	assert_int_equal(store_tenant_generation(fx->st, T, &g1), 0);
	assert_true(g1 > g0);
	set_policy(fx, "user", "alice", "off");
	assert_int_equal(store_policy_set(fx->st, "other", "tenant", NULL, "device_required", "on",
	    NULL, &err), 0);
	s = policies(fx);
	assert_string_equal(s, "app:crm=on;group:staff=on;tenant:?=on;user:alice=off;");
	free(s);
	/* NULL removes; removing what is not set is fine; an empty value is a value. */
	set_policy(fx, "group", "staff", NULL);
	set_policy(fx, "group", "staff", NULL);
	set_policy(fx, "app", "crm", "");
	s = policies(fx);
	assert_string_equal(s, "app:crm=;tenant:?=on;user:alice=off;");
	free(s);
}

static void
test_store_user_names_case_insensitive(void **state)
{
	struct fx *fx = *state;
	struct user u = { .name = "ALICE" };
	const char *err = NULL;

	add_user(fx, T, "Alice", NULL);
	assert_int_equal(store_user_add(fx->st, T, &u, NULL, &err), -1);
	assert_string_equal(err, "user already exists");
	assert_int_equal(store_user_remove(fx->st, T, "aLiCe", NULL), 1);
	assert_int_equal(store_user_get(fx->st, T, "alice", &u), 0);
}

static void
test_store_user_update(void **state)
{
	struct fx *fx = *state;
	struct user_change ch = { .email = "new@example.org", .display_name = "New Name",
		.attrs = "dept=sales\n" };
	const char *err = NULL;
	struct user u;
	char *id = NULL;

	add_user(fx, T, "alice", "old@example.org");
	add_user(fx, T, "bob", "bob@example.org");
	id = user_id(fx, T, "alice");
	assert_int_equal(store_user_update(fx->st, T, "alice", &ch, NULL, &err), 1);
	assert_int_equal(store_user_get_by_email(fx->st, T, "NEW@example.org", &u), 1);
	assert_string_equal(u.id, id);	/* the same user: NameIDs and devices stay */
	assert_string_equal(u.display_name, "New Name");
	assert_string_equal(u.attrs, "dept=sales\n");
	store_user_clear(&u);
	assert_int_equal(store_user_get_by_email(fx->st, T, "old@example.org", &u), 0);
	/* Another user's address: refused, nothing changed. */
	ch = (struct user_change){ .email = "bob@example.org", .display_name = "Other" };
	assert_int_equal(store_user_update(fx->st, T, "alice", &ch, NULL, &err), -1);
	assert_string_equal(err, "another user has this email address");
	assert_int_equal(store_user_get(fx->st, T, "alice", &u), 1);
	assert_string_equal(u.email, "new@example.org");
	assert_string_equal(u.display_name, "New Name");
	store_user_clear(&u);
	/* "" clears. */
	ch = (struct user_change){ .email = "" };
	assert_int_equal(store_user_update(fx->st, T, "alice", &ch, NULL, &err), 1);
	assert_int_equal(store_user_get(fx->st, T, "alice", &u), 1);
	assert_null(u.email);
	store_user_clear(&u);
	assert_int_equal(store_user_update(fx->st, T, "nobody", &ch, NULL, &err), 0);
	free(id);
}

static void
test_store_group_members(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	char **names;

	add_user(fx, T, "zed", NULL);
	add_user(fx, T, "amy", NULL);
	store_group_add(fx->st, T, "staff", NULL, &err);
	store_member_add(fx->st, T, "staff", "ZED", NULL, &err);
	store_member_add(fx->st, T, "staff", "amy", NULL, &err);
	assert_int_equal(store_group_members(fx->st, T, "staff", &names), 1);
	assert_string_equal(names[0], "amy");
	assert_string_equal(names[1], "zed");
	assert_null(names[2]);
	store_strv_free(names);
	assert_int_equal(store_group_members(fx->st, T, "none", &names), 0);
	store_strv_free(names);
}

static void
audit_cb(const struct audit_rec *r, void *arg)
{
	buf_printf(arg, "%s %s\n", r->event, r->fields);
}

static void
test_store_removal_audited_in_commit(void **state)
{
	struct fx *fx = *state;
	struct audit_entry ae;
	const char *err = NULL;
	struct buf b;

	add_user(fx, T, "carol", NULL);
	store_group_add(fx->st, T, "staff", NULL, &err);
	store_member_add(fx->st, T, "staff", "carol", NULL, &err);
	set_policy(fx, "user", "carol", "off");
	add_session(fx, "c1", "carol", T0, T0 + 3600);
	audit_entry_make(&ae, "admin.user.remove", "actor", "root", "user", "carol", NULL);
	assert_int_equal(store_user_remove(fx->st, T, "carol", &ae), 1);
	buf_init(&b, 0);
	assert_int_equal(store_audit_list(fx->st, T, 0, audit_cb, &b), 0);
	assert_non_null(strstr(b.data, "admin.user.remove actor=root user=carol user_id="));
	assert_non_null(strstr(b.data, "sessions=1 grants=0 certs_revoked=0 memberships=1 "
	    "policies=1"));
	buf_free(&b);
}

/* ---- apps ---- */

static void
test_store_apps(void **state)
{
	struct fx *fx = *state;
	struct app a = { .name = "wiki", .type = "saml", .entity_id = "https://wiki.example.org/sp",
		.metadata = "<md/>", .nameid_format = "persistent", .created = T0,
		.sign_response = 1 };
	struct app got;
	const char *err = NULL;
	uint64_t g0, g1;

	assert_int_equal(store_tenant_generation(fx->st, T, &g0), 0);
	assert_int_equal(store_app_add(fx->st, T, &a, NULL, &err), 0);
	assert_int_equal(store_tenant_generation(fx->st, T, &g1), 0);
	assert_true(g1 > g0);
	assert_int_equal(store_app_get(fx->st, T, "wiki", &got), 1);
	assert_string_equal(got.entity_id, "https://wiki.example.org/sp");
	assert_string_equal(got.nameid_format, "persistent");
	assert_int_equal(got.sign_response, 1);
	store_app_clear(&got);
	assert_int_equal(store_app_get_by_entity(fx->st, T, "https://wiki.example.org/sp", &got), 1);
	assert_string_equal(got.name, "wiki");
	store_app_clear(&got);
	/* Entity IDs are exact: no case folding, no trailing-slash games. */
	assert_int_equal(store_app_get_by_entity(fx->st, T, "https://wiki.example.org/sp/", &got), 0);
	assert_int_equal(store_app_get_by_entity(fx->st, T, "HTTPS://wiki.example.org/sp", &got), 0);
	assert_int_equal(store_app_get_by_entity(fx->st, "other", "https://wiki.example.org/sp",
	    &got), 0);
	assert_int_equal(store_app_get(fx->st, T, "Wiki", &got), 0);
}

static void
test_store_app_duplicates(void **state)
{
	struct fx *fx = *state;
	struct app a = { .name = "wiki", .type = "saml", .entity_id = "https://e1" };
	struct app got;
	const char *err = NULL;

	assert_int_equal(store_app_add(fx->st, T, &a, NULL, &err), 0);
	a.entity_id = "https://e2";
	assert_int_equal(store_app_add(fx->st, T, &a, NULL, &err), -1);
	assert_string_equal(err, "an app with this name already exists");
	assert_int_equal(store_app_get_by_entity(fx->st, T, "https://e2", &got), 0);
	a.name = "wiki2";
	a.entity_id = "https://e1";
	assert_int_equal(store_app_add(fx->st, T, &a, NULL, &err), -1);
	assert_string_equal(err, "another app has this entity ID");
	/* The refused app was not stored under its name either. */
	assert_int_equal(store_app_get(fx->st, T, "wiki2", &got), 0);
	assert_int_equal(raw_count(fx, "apps"), 1);
	assert_int_equal(raw_count(fx, "apps_by_entity"), 1);
	/* An app without an entity ID. */
	a.name = "oidc-app";
	a.entity_id = NULL;
	assert_int_equal(store_app_add(fx->st, T, &a, NULL, &err), 0);
	assert_int_equal(store_app_get(fx->st, T, "oidc-app", &got), 1);
	assert_null(got.entity_id);
	store_app_clear(&got);
}

static void
app_cb(const void *rec, void *arg)
{
	const struct app *a = rec;
	buf_printf(arg, "%s;", a->name);
}

static void
test_store_app_remove(void **state)
{
	struct fx *fx = *state;
	struct app a = { .name = "wiki", .type = "saml", .entity_id = "https://e1" };
	struct app got;
	const char *err = NULL;
	struct buf b;

	assert_int_equal(store_app_add(fx->st, T, &a, NULL, &err), 0);
	a.name = "crm";
	a.entity_id = "https://e2";
	assert_int_equal(store_app_add(fx->st, T, &a, NULL, &err), 0);
	assert_int_equal(store_app_remove(fx->st, T, "wiki", NULL), 1);
	assert_int_equal(store_app_remove(fx->st, T, "wiki", NULL), 0);
	assert_int_equal(store_app_get_by_entity(fx->st, T, "https://e1", &got), 0);
	assert_int_equal(raw_count(fx, "apps_by_entity"), 1);
	buf_init(&b, 0);
	assert_int_equal(store_app_list(fx->st, T, app_cb, &b), 0);
	assert_string_equal(b.data, "crm;");
	buf_free(&b);
	/* The entity ID is free for a new app. */
	a.name = "wiki-new";
	a.entity_id = "https://e1";
	assert_int_equal(store_app_add(fx->st, T, &a, NULL, &err), 0);
	assert_int_equal(store_app_get_by_entity(fx->st, T, "https://e1", &got), 1);
	assert_string_equal(got.name, "wiki-new");
	store_app_clear(&got);
}

/* ---- capacity ---- */

static int
setup_map_8m(void **state)
{
	log_set_sink(quiet_sink, NULL);
	*state = fx_new(1 << 20, 8 << 20);
	return 0;
}

static int
setup_map_1m(void **state)
{
	log_set_sink(quiet_sink, NULL);
	*state = fx_new(1 << 20, 1 << 20);
	return 0;
}

static void
test_store_map_grows(void **state)
{
	struct fx *fx = *state;
	char *big = xmalloc(64 * 1024 + 1);
	struct pending p = { .kind = "k", .app = "a", .state = big, .expires = T0 };
	char id[32];
	int i, rc = 0;

	memset(big, 'x', 64 * 1024);
	big[64 * 1024] = '\0';
	/* 3 MiB in a map that starts at 1 MiB: it grows. */
	for (i = 0; i < 48; i++) {
		snprintf(id, sizeof(id), "p%d", i);
		if ((rc = store_pending_put(fx->st, T, id, &p)) != 0)
			break;
	}
	assert_int_equal(rc, 0);
	/* Up to its maximum, then STORE_FULL. */
	for (; i < 1000; i++) {
		snprintf(id, sizeof(id), "p%d", i);
		if ((rc = store_pending_put(fx->st, T, id, &p)) != 0)
			break;
	}
	assert_int_equal(rc, STORE_FULL);
	assert_true(i >= 90 && i < 128);
	free(big);
}

static void
test_store_map_full(void **state)
{
	struct fx *fx = *state;
	char *big = xmalloc(64 * 1024 + 1);
	struct pending p = { .kind = "k", .app = "a", .state = big, .expires = T0 };
	struct pending got;
	struct user u = { .id = "u", .name = "late", .display_name = big };
	const char *err = NULL;
	char id[32];
	int n, rc = 0;

	memset(big, 'y', 64 * 1024);
	big[64 * 1024] = '\0';
	add_user(fx, T, "alice", "alice@example.org");
	for (n = 0; n < 100; n++) {
		snprintf(id, sizeof(id), "p%d", n);
		if ((rc = store_pending_put(fx->st, T, id, &p)) != 0)
			break;
	}
	assert_int_equal(rc, STORE_FULL);
	assert_true(n >= 5);
	/* Other writes report the full database too, with a clear reason. */
	assert_int_equal(store_user_add(fx->st, T, &u, NULL, &err), -1);
	assert_string_equal(err, "database full");
	/* Reads still work, and what was acknowledged is all there. */
	assert_int_equal(store_user_get(fx->st, T, "alice", &u), 1);
	store_user_clear(&u);
	assert_int_equal(store_pending_get(fx->st, T, "p0", &got), 1);
	assert_int_equal(strlen(got.state), 64 * 1024);
	store_pending_clear(&got);
	snprintf(id, sizeof(id), "p%d", n);
	assert_int_equal(store_pending_get(fx->st, T, id, &got), 0);
	/*
	 * Deleting makes room again (LMDB reuses freed pages only once no snapshot needs them,
	 * so free a few records, then store a small one).
	 */
	for (int i = 0; i < 3; i++) {
		snprintf(id, sizeof(id), "p%d", i);
		assert_int_equal(store_pending_take(fx->st, T, id, &got), 1);
		store_pending_clear(&got);
	}
	p.state = "small";
	assert_int_equal(store_pending_put(fx->st, T, "again", &p), 0);
	/* After a restart, not corrupt: every record that was acknowledged reads back. */
	fx_reopen(fx);
	assert_int_equal(raw_count(fx, "pending"), (size_t)n - 3 + 1);
	for (int i = 3; i < n; i++) {
		snprintf(id, sizeof(id), "p%d", i);
		assert_int_equal(store_pending_get(fx->st, T, id, &got), 1);
		assert_int_equal(strlen(got.state), 64 * 1024);
		store_pending_clear(&got);
	}
	assert_int_equal(store_user_get(fx->st, T, "alice", &u), 1);
	store_user_clear(&u);
	free(big);
}

/* ---- stale readers ---- */

static void
hold_txn_cb(const void *rec, void *arg)
{
	int fd = *(int *)arg;

	/* Inside a read transaction: say so, then wait to be killed. */
	if (write(fd, "r", 1) != 1)
		_exit(2);
	for (;;)
		pause();
}

static void
test_store_reader_check(void **state)
{
	struct fx *fx = *state;
	int fds[2], status;
	char c;
	pid_t pid;

	add_user(fx, T, "alice", NULL);
	assert_int_equal(store_reader_check(fx->st), 0);
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const char *err;
		struct store *st = store_open(fx->dir, &fx->ss, &err);

		close(fds[0]);
		if (st)
			store_user_list(st, T, hold_txn_cb, &fds[1]);
		_exit(1);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &c, 1), 1);
	close(fds[0]);
	/* kill -9 while it holds a reader slot. */
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* The dead process's slot is found and cleared, once. */
	assert_int_equal(store_reader_check(fx->st), 1);
	assert_int_equal(store_reader_check(fx->st), 0);
	/* And the store carries on. */
	add_user(fx, T, "bob", NULL);
}

/* ---- backup ---- */

static void
test_store_backup(void **state)
{
	struct fx *fx = *state;
	struct fx copy = { .ss = fx->ss };
	const char *err = NULL;
	struct user u;

	add_user(fx, T, "alice", "alice@example.org");
	if ((size_t)snprintf(copy.dir, sizeof(copy.dir), "%s/b", fx->dir) >= sizeof(copy.dir))
		fail_msg("path too long");
	{
		char *data = xasprintf("%s/data", copy.dir);

		assert_int_equal(mkdir(copy.dir, 0700), 0);
		assert_int_equal(store_backup(fx->st, data, &err), 0);
		/* The target must be new. */
		assert_int_equal(store_backup(fx->st, data, &err), -1);
		assert_non_null(err);
		free(data);
	}
	copy.st = store_open(copy.dir, &copy.ss, &err);
	assert_non_null(copy.st);
	assert_int_equal(store_user_get_by_email(copy.st, T, "ALICE@example.org", &u), 1);
	assert_string_equal(u.name, "alice");
	store_user_clear(&u);
	store_close(copy.st);
}

int
main(void)
{
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_valid_name),
		TEST(test_store_reopen_keeps_data),
		TEST(test_store_schema_version_checked),
		TEST(test_store_tenants),
		TEST(test_store_keys),
		TEST(test_store_users),
		TEST(test_store_user_by_email_case_insensitive),
		TEST(test_store_user_duplicates),
		TEST(test_store_user_add_many),
		TEST(test_store_licence_seats),
		TEST(test_store_user_disable_enable),
		TEST(test_store_user_set_password),
		TEST(test_store_user_remove),
		TEST(test_store_user_list_per_tenant),
		TEST(test_store_user_long_identifiers),
		TEST(test_store_groups_and_members),
		TEST(test_store_group_remove_cascades),
		TEST(test_store_user_remove_cascades),
		TEST(test_store_user_readded_inherits_nothing),
		TEST(test_store_group_readded_inherits_nothing),
		TEST(test_store_app_readded_inherits_nothing),
		TEST(test_store_policy_needs_its_object),
		TEST(test_store_policy_set_all),
		TEST(test_store_policy_set_list),
		TEST(test_store_user_names_case_insensitive),
		TEST(test_store_user_update),
		TEST(test_store_group_members),
		TEST(test_store_removal_audited_in_commit),
		TEST(test_store_apps),
		TEST(test_store_app_duplicates),
		TEST(test_store_app_remove),
		cmocka_unit_test_setup_teardown(test_store_map_grows, setup_map_8m, teardown),
		cmocka_unit_test_setup_teardown(test_store_map_full, setup_map_1m, teardown),
		TEST(test_store_reader_check),
		TEST(test_store_backup),
	};
#undef TEST

	return cmocka_run_group_tests(tests, NULL, NULL);
}
