/*
 * Unit tests for admin/user.c and admin/group.c on a real store: every refused input
 * fails with the kind of failure and the field the API answers with, and leaves the store
 * as it was; the attribute lines stay sorted; renames keep the id.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admin_user.h"
#include "store_fixture.h"
#include "xmalloc.h"

static struct instance in;

static struct admin
adm(struct fx *fx)
{
	struct admin a = { .in = &in, .tenant = T, .actor = "tester" };

	in.store = fx->st;
	in.settings.argon2_t_cost = 1;
	in.settings.argon2_m_cost = 64 * 1024;
	in.settings.argon2_parallelism = 1;
	return a;
}

/* rc is -1 with status and field (NULL: none). */
static void
failed(const struct admin *a, int rc, enum admin_status status, const char *field)
{
	assert_int_equal(rc, -1);
	assert_int_equal(a->status, status);
	if (field == NULL)
		assert_null(a->field);
	else
		assert_string_equal(a->field, field);
	assert_true(a->msg[0] != '\0');
}

static int
user_count(struct fx *fx)
{
	int n = 0;
	struct user u;

	for (const char *const *p = (const char *const[]){ "ann", "bob", "Ann2", "x", NULL };
	    *p; p++) {
		n += store_user_get(fx->st, T, *p, &u) == 1;
		store_user_clear(&u);
	}
	return n;
}

static void
test_attrs(void **state)
{
	struct admin a = adm(*state);
	char *s, *t, long_v[1100];

	s = admin_attrs_set(&a, NULL, "site", "Osaka");
	t = admin_attrs_set(&a, s, "dept", "sales");
	free(s);
	s = admin_attrs_set(&a, t, "site", "Kobe");
	free(t);
	assert_string_equal(s, "dept=sales\nsite=Kobe\n");
	t = admin_attrs_get(s, "dept");
	assert_string_equal(t, "sales");
	free(t);
	assert_null(admin_attrs_get(s, "dep"));
	assert_null(admin_attrs_get(s, "sales"));
	t = admin_attrs_set(&a, s, "dept", NULL);
	free(s);
	s = admin_attrs_set(&a, t, "site", "");
	free(t);
	assert_string_equal(s, "");
	for (const char *const *k = (const char *const[]){ "", "a=b", "a b", "a\nb",
	    "k1234567890123456789012345678901234567890123456789012345678901234", NULL }; *k; k++) {
		assert_null(admin_attrs_set(&a, s, *k, "v"));
		assert_int_equal(a.status, ADMIN_INVALID);
		assert_string_equal(a.field, "attributes");
	}
	memset(long_v, 'v', sizeof(long_v) - 1);
	long_v[sizeof(long_v) - 1] = '\0';
	assert_null(admin_attrs_set(&a, s, "k", long_v));
	assert_null(admin_attrs_set(&a, s, "k", "a\tb"));
	free(s);
}

static void
test_user_add(void **state)
{
	struct fx *fx = *state;
	struct admin a = adm(fx);
	struct admin_user_in ok = { .name = "ann", .email = "ann@example.com",
		.display_name = "Ann", .attrs = "site=Osaka\ndept=sales\n" };
	struct admin_user_in bad[] = {
		{ .name = "bad name" }, { .name = "" }, { .name = NULL },
		{ .name = "x", .email = "not-an-email" }, { .name = "x", .email = "" },
		{ .name = "x", .attrs = "noequals" }, { .name = "x", .attrs = "bad key=v" },
		{ .name = "x", .password = "short" },
	};
	const char *fields[] = { "name", "name", "name", "email", "email", "attributes",
		"attributes", "password" };
	char display[300], *id = NULL;
	struct user u;

	for (size_t i = 0; i < NELEM(bad); i++)
		failed(&a, admin_user_add(&a, &bad[i], NULL), ADMIN_INVALID, fields[i]);
	memset(display, 'd', sizeof(display) - 1);
	display[sizeof(display) - 1] = '\0';
	failed(&a, admin_user_add(&a, &(struct admin_user_in){ .name = "x",
	    .display_name = display }, NULL), ADMIN_INVALID, "display_name");
	assert_int_equal(user_count(fx), 0);

	assert_int_equal(admin_user_add(&a, &ok, &id), 0);
	assert_int_equal(store_user_get(fx->st, T, "ANN", &u), 1);
	assert_string_equal(u.id, id);
	assert_string_equal(u.attrs, "dept=sales\nsite=Osaka\n");
	assert_null(u.pwhash);
	assert_true(u.must_change);
	store_user_clear(&u);
	free(id);
	failed(&a, admin_user_add(&a, &(struct admin_user_in){ .name = "Ann" }, NULL),
	    ADMIN_CONFLICT, "name");
	failed(&a, admin_user_add(&a, &(struct admin_user_in){ .name = "bob",
	    .email = "ann@example.com" }, NULL), ADMIN_CONFLICT, "email");
	assert_int_equal(admin_user_add(&a, &(struct admin_user_in){ .name = "bob",
	    .password = "a good long password" }, NULL), 0);
	assert_int_equal(store_user_get(fx->st, T, "bob", &u), 1);
	assert_non_null(u.pwhash);
	assert_false(u.must_change);
	store_user_clear(&u);
	assert_int_equal(user_count(fx), 2);
}

static void
test_user_change(void **state)
{
	struct fx *fx = *state;
	struct admin a = adm(fx);
	struct user_change bg = { .break_glass = "maybe" }, mail = { .email = "x@" };
	struct user_change clear = { .email = "", .attrs = "" };
	struct user before, u;

	assert_int_equal(store_user_get(fx->st, T, "ann", &before), 1);
	failed(&a, admin_user_update(&a, "ann", &bg), ADMIN_INVALID, "break_glass");
	failed(&a, admin_user_update(&a, "ann", &mail), ADMIN_INVALID, "email");
	failed(&a, admin_user_update(&a, "nobody", &clear), ADMIN_NOT_FOUND, NULL);
	failed(&a, admin_user_set_password(&a, "ann", "short"), ADMIN_INVALID, "password");
	failed(&a, admin_user_set_password(&a, "nobody", "a good long password"),
	    ADMIN_NOT_FOUND, NULL);
	assert_int_equal(store_user_get(fx->st, T, "ann", &u), 1);
	assert_string_equal(u.email, before.email);
	assert_null(u.pwhash);
	store_user_clear(&u);
	assert_int_equal(admin_user_update(&a, "ann", &clear), 0);
	assert_int_equal(store_user_get(fx->st, T, "ann", &u), 1);
	assert_null(u.email);
	assert_true(u.attrs == NULL || *u.attrs == '\0');
	store_user_clear(&u);

	failed(&a, admin_user_rename(&a, "ann", "bad name"), ADMIN_INVALID, "name");
	failed(&a, admin_user_rename(&a, "ann", "BOB"), ADMIN_CONFLICT, "name");
	failed(&a, admin_user_rename(&a, "nobody", "x"), ADMIN_NOT_FOUND, NULL);
	assert_int_equal(admin_user_rename(&a, "ann", "Ann2"), 0);
	assert_int_equal(store_user_get(fx->st, T, "ann2", &u), 1);
	assert_string_equal(u.id, before.id);
	assert_string_equal(u.name, "Ann2");
	store_user_clear(&u);
	store_user_clear(&before);

	assert_int_equal(admin_user_set_disabled(&a, "ann2", 1), 0);
	failed(&a, admin_user_set_disabled(&a, "nobody", 1), ADMIN_NOT_FOUND, NULL);
	assert_int_equal(admin_user_unlock(&a, "ann2"), 0);
	failed(&a, admin_user_unlock(&a, "nobody"), ADMIN_NOT_FOUND, NULL);
}

static void
test_groups(void **state)
{
	struct fx *fx = *state;
	struct admin a = adm(fx);
	struct grouprec g;
	char **names, *id = NULL;

	failed(&a, admin_group_add(&a, "bad name", NULL), ADMIN_INVALID, "name");
	assert_int_equal(admin_group_add(&a, "staff", &id), 0);
	assert_int_equal(store_group_get(fx->st, T, "staff", &g), 1);
	assert_string_equal(g.id, id);
	store_group_clear(&g);
	failed(&a, admin_group_add(&a, "staff", NULL), ADMIN_CONFLICT, "name");
	failed(&a, admin_member_add(&a, "staff", "ghost"), ADMIN_INVALID, "user");
	failed(&a, admin_member_add(&a, "ghost", "bob"), ADMIN_NOT_FOUND, NULL);
	assert_int_equal(admin_member_add(&a, "staff", "bob"), 0);
	assert_int_equal(admin_member_add(&a, "staff", "BOB"), 0);
	assert_int_equal(store_group_members(fx->st, T, "staff", &names), 1);
	assert_string_equal(names[0], "bob");
	assert_null(names[1]);
	store_strv_free(names);

	assert_int_equal(admin_group_add(&a, "crew", NULL), 0);
	failed(&a, admin_group_rename(&a, "staff", "crew"), ADMIN_CONFLICT, "name");
	failed(&a, admin_group_rename(&a, "ghost", "x"), ADMIN_NOT_FOUND, NULL);
	assert_int_equal(admin_group_rename(&a, "staff", "team"), 0);
	assert_int_equal(store_group_get(fx->st, T, "team", &g), 1);
	assert_string_equal(g.id, id);
	store_group_clear(&g);
	free(id);

	assert_int_equal(admin_member_remove(&a, "team", "ann2"), 0);	/* not a member */
	failed(&a, admin_member_remove(&a, "ghost", "bob"), ADMIN_NOT_FOUND, NULL);
	assert_int_equal(admin_member_remove(&a, "team", "bob"), 0);
	assert_int_equal(store_group_members(fx->st, T, "team", &names), 1);
	assert_null(names[0]);
	store_strv_free(names);
	assert_int_equal(admin_group_remove(&a, "team"), 0);
	failed(&a, admin_group_remove(&a, "team"), ADMIN_NOT_FOUND, NULL);
	assert_int_equal(admin_user_remove(&a, "bob"), 0);
	failed(&a, admin_user_remove(&a, "bob"), ADMIN_NOT_FOUND, NULL);
}

int
main(void)
{
	/* One store for the group: each test builds on the users of the one before. */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attrs),
		cmocka_unit_test(test_user_add),
		cmocka_unit_test(test_user_change),
		cmocka_unit_test(test_groups),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
