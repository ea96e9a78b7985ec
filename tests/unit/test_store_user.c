/*
 * Unit tests for the store's users and groups (policies/store_user.c, store_group.c) on a
 * real LMDB environment: duplicates refused atomically, the licence's seats counted in the
 * transaction, cascades on removal checked in the raw databases, what a re-added user,
 * group or app inherits (nothing), the policies that name them, and the audit in the commit.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "audit.h"
#include "store.h"
#include "xmalloc.h"

#include "store_fixture.h"

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

int
main(void)
{
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
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
	};
#undef TEST

	return cmocka_run_group_tests(tests, NULL, NULL);
}
