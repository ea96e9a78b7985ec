/*
 * Unit tests for the store's other access-control records on a real LMDB environment:
 * app assignments (policies/store_assign.c) and what removing a user, group or app does
 * to them, the tenant's time zone and default effect, break-glass users, what the portal
 * shows of an app, and the upgrade of a schema 2 database (store_upgrade.c).
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

#include "audit.h"
#include "buf.h"
#include "store.h"
#include "xmalloc.h"

#include "store_fixture.h"

/* ---- helpers ---- */

static void
add_app(struct fx *fx, const char *name)
{
	char *entity = xasprintf("https://%s/sp", name);
	struct app a = { .name = (char *)name, .type = "saml", .entity_id = entity };
	const char *err = NULL;

	assert_int_equal(store_app_add(fx->st, T, &a, NULL, &err), 0);
	free(entity);
}

static void
add_objects(struct fx *fx)
{
	const char *err = NULL;

	add_user(fx, T, "alice", NULL);
	add_user(fx, T, "bob", NULL);
	assert_int_equal(store_group_add(fx->st, T, "staff", NULL, &err), 0);
	add_app(fx, "crm");
	add_app(fx, "wiki");
}

static int
assign(struct fx *fx, const char *app, const char *kind, const char *name, int on)
{
	const char *err = NULL;
	int rc = store_assign(fx->st, T, app, kind, name, on, NULL, &err);

	if (rc < 0)
		print_error("assign %s %s:%s: %s\n", app, kind, name, err);
	return rc;
}

static void
assignment_cb(const void *rec, void *arg)
{
	const struct assignment *a = rec;

	buf_printf(arg, "%s>%s:%s ", a->app_name, a->kind, a->name);
}

/* "crm>user:alice crm>group:staff " (by app id, then kind and target id: sorted here). */
static char *
assignments(struct fx *fx, const char *app)
{
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, "");
	assert_int_equal(store_assignments(fx->st, T, app, assignment_cb, &b), 0);
	return buf_steal(&b, NULL);
}

static void
assert_assigned(struct fx *fx, const char *app, const char *want)
{
	char *got = assignments(fx, app);

	assert_string_equal(got, want);
	free(got);
}

/* ---- assignments ---- */

static void
test_store_assign_by_names(void **state)
{
	struct fx *fx = *state;

	add_objects(fx);
	assert_assigned(fx, "crm", "");
	assert_int_equal(assign(fx, "crm", "user", "ALICE", 1), 1);
	assert_int_equal(assign(fx, "crm", "user", "alice", 1), 0);	/* already */
	assert_int_equal(assign(fx, "crm", "group", "staff", 1), 1);
	assert_int_equal(assign(fx, "wiki", "user", "bob", 1), 1);
	assert_assigned(fx, "wiki", "wiki>user:bob ");
	assert_int_equal(assign(fx, "crm", "group", "staff", 0), 1);
	assert_int_equal(assign(fx, "crm", "group", "staff", 0), 0);	/* was not */
	assert_assigned(fx, "crm", "crm>user:alice ");
	assert_int_equal(assign(fx, "crm", "group", "staff", 1), 1);
	fx_reopen(fx);
	{
		char *all = assignments(fx, NULL);
		assert_non_null(strstr(all, "crm>user:alice "));
		assert_non_null(strstr(all, "crm>group:staff "));
		assert_non_null(strstr(all, "wiki>user:bob "));
		assert_int_equal(strlen(all), strlen("crm>user:alice crm>group:staff "
		    "wiki>user:bob "));
		free(all);
	}
	assert_assigned(fx, "nosuch", "");
}

static void
copy_cb(const void *rec, void *arg)
{
	const struct assignment *a = rec;
	struct assignment *got = arg;

	got->kind = xstrdup(a->kind);
	got->target = xstrdup(a->target);
}

static void
test_store_assign_stores_ids(void **state)
{
	struct fx *fx = *state;
	struct assignment got = { 0 };
	char *alice;

	add_objects(fx);
	assert_int_equal(assign(fx, "crm", "user", "alice", 1), 1);
	alice = user_id(fx, T, "alice");
	assert_int_equal(store_assignments(fx->st, T, "crm", copy_cb, &got), 0);
	assert_string_equal(got.target, alice);
	assert_string_equal(got.kind, "user");
	store_assignment_clear(&got);
	free(alice);
}

static void
test_store_assign_refused(void **state)
{
	struct fx *fx = *state;
	static const struct {
		const char *app, *kind, *name, *err;
	} cases[] = {
		{ "erp", "user", "alice", "no such app" },
		{ "crm", "user", "nobody", "no such user" },
		{ "crm", "group", "ghosts", "no such group" },
		{ "crm", "app", "wiki", "an app is assigned to a user or a group" },
	};
	const char *err;
	uint64_t gen;

	add_objects(fx);
	gen = fx_generation(fx, T);
	for (size_t i = 0; i < NELEM(cases); i++) {
		for (int on = 0; on <= 1; on++) {
			err = NULL;
			assert_int_equal(store_assign(fx->st, T, cases[i].app, cases[i].kind,
			    cases[i].name, on, NULL, &err), -1);
			assert_string_equal(err, cases[i].err);
		}
	}
	assert_int_equal(fx_generation(fx, T), gen);
	assert_int_equal(raw_count(fx, "assignments"), 0);
}

static void
test_store_assign_generation_and_audit(void **state)
{
	struct fx *fx = *state;
	struct audit_entry ae;
	const char *err = NULL;
	uint64_t gen;
	char *text;

	add_objects(fx);
	gen = fx_generation(fx, T);
	audit_entry_make(&ae, "admin.app.assign", "app", "crm", "user", "alice", NULL);
	assert_int_equal(store_assign(fx->st, T, "crm", "user", "alice", 1, &ae, &err), 1);
	assert_true(fx_generation(fx, T) > gen);
	gen = fx_generation(fx, T);
	assert_int_equal(store_assign(fx->st, T, "crm", "user", "alice", 1, &ae, &err), 0);
	assert_int_equal(fx_generation(fx, T), gen);
	audit_entry_make(&ae, "admin.app.unassign", "app", "crm", "user", "alice", NULL);
	assert_int_equal(store_assign(fx->st, T, "crm", "user", "alice", 0, &ae, &err), 1);
	assert_true(fx_generation(fx, T) > gen);
	text = fx_audit_text(fx, T);
	assert_string_equal(text, "admin.app.assign app=crm user=alice\n"
	    "admin.app.unassign app=crm user=alice\n");
	free(text);
}

/* Removing a user, group or app removes its assignments (both entries) and says so. */
static void
test_store_assign_removed_with_objects(void **state)
{
	struct fx *fx = *state;
	struct audit_entry ae;
	const char *text_err = NULL;
	char *text;

	add_objects(fx);
	assert_int_equal(assign(fx, "crm", "user", "alice", 1), 1);
	assert_int_equal(assign(fx, "wiki", "user", "alice", 1), 1);
	assert_int_equal(assign(fx, "crm", "group", "staff", 1), 1);
	assert_int_equal(assign(fx, "wiki", "group", "staff", 1), 1);
	assert_int_equal(assign(fx, "wiki", "user", "bob", 1), 1);
	assert_int_equal(raw_count(fx, "assignments"), 10);
	audit_entry_make(&ae, "admin.user.remove", "user", "alice", NULL);
	assert_int_equal(store_user_remove(fx->st, T, "alice", &ae), 1);
	assert_assigned(fx, "crm", "crm>group:staff ");
	audit_entry_make(&ae, "admin.group.remove", "group", "staff", NULL);
	assert_int_equal(store_group_remove(fx->st, T, "staff", &ae), 1);
	/* crm's last assignment outlives its group: the app stays closed to everybody. */
	assert_assigned(fx, "crm", "crm>group:?removed ");
	assert_assigned(fx, "wiki", "wiki>user:bob ");
	assert_int_equal(raw_count(fx, "assignments"), 4);
	audit_entry_make(&ae, "admin.app.remove", "app", "wiki", NULL);
	assert_int_equal(store_app_remove(fx->st, T, "wiki", &ae), 1);
	assert_int_equal(raw_count(fx, "assignments"), 2);
	text = fx_audit_text(fx, T);
	/* alice */
	assert_non_null(strstr(text, "policies=0 assignments=2 factors=0 challenges=0\n"));
	/* staff: one dropped (wiki), one kept (crm) */
	assert_non_null(strstr(text, "memberships=0 policies=0 assignments=1\n"));
	assert_non_null(strstr(text, "policies=0 assignments=1 grants=0"));	/* wiki */
	free(text);
	/* a new alice (another id) is not assigned */
	add_user(fx, T, "alice", NULL);
	assert_assigned(fx, NULL, "crm>group:?removed ");
	/* unassign --removed opens crm again; a second time there is nothing to do */
	assert_int_equal(store_assign(fx->st, T, "crm", "removed", NULL, 0, NULL, &text_err), 1);
	assert_assigned(fx, NULL, "");
	assert_int_equal(raw_count(fx, "assignments"), 0);
	assert_int_equal(store_assign(fx->st, T, "crm", "removed", NULL, 0, NULL, &text_err), 0);
}

/* ---- tenant settings ---- */

static void
test_store_tenant_set(void **state)
{
	struct fx *fx = *state;
	struct audit_entry ae;
	const char *err = NULL;
	struct tenant t;
	uint64_t gen;
	char *text;

	fx_add_tenant(fx, T);
	assert_int_equal(store_tenant_get(fx->st, T, &t), 1);
	assert_null(t.timezone);
	assert_null(t.default_effect);
	store_tenant_clear(&t);
	gen = fx_generation(fx, T);
	audit_entry_make(&ae, "admin.tenant.set", "tenant", T, NULL);
	assert_int_equal(store_tenant_set(fx->st, T, "Europe/Paris", NULL, &ae, &err), 1);
	assert_true(fx_generation(fx, T) > gen);
	assert_int_equal(store_tenant_set(fx->st, T, NULL, "deny", &ae, &err), 1);
	assert_int_equal(store_tenant_get(fx->st, T, &t), 1);
	assert_string_equal(t.timezone, "Europe/Paris");
	assert_string_equal(t.default_effect, "deny");
	assert_string_equal(t.id, T);
	store_tenant_clear(&t);
	assert_int_equal(store_tenant_set(fx->st, "nosuch", "UTC", NULL, &ae, &err), 0);
	text = fx_audit_text(fx, T);
	assert_string_equal(text, "admin.tenant.set tenant=acme "
	    "before=\"timezone=Asia/Tokyo default=allow\" "
	    "after=\"timezone=Europe/Paris default=allow\"\n"
	    "admin.tenant.set tenant=acme "
	    "before=\"timezone=Europe/Paris default=allow\" "
	    "after=\"timezone=Europe/Paris default=deny\"\n");
	free(text);
}

/* ---- users: break-glass ---- */

static uint64_t
break_glass(struct fx *fx, const char *name)
{
	struct user u;
	uint64_t v;

	assert_int_equal(store_user_get(fx->st, T, name, &u), 1);
	v = u.break_glass;
	assert_string_equal(u.display_name, "Someone");	/* other fields stay */
	store_user_clear(&u);
	return v;
}

/* Every setting of one change lands in one commit with one record, or none does. */
static void
test_store_tenant_update(void **state)
{
	struct fx *fx = *state;
	struct audit_entry ae;
	const char *err = NULL;
	struct tenant t;
	char *text;

	fx_add_tenant(fx, T);
	audit_entry_make(&ae, "admin.tenant.set", "tenant", T, NULL);
	assert_int_equal(store_tenant_update(fx->st, T, "UTC", "deny", 129, &ae, &err), -1);
	assert_int_equal(store_tenant_update(fx->st, T, "UTC", "deny", 12, &ae, &err), 1);
	assert_int_equal(store_tenant_get(fx->st, T, &t), 1);
	assert_string_equal(t.timezone, "UTC");
	assert_string_equal(t.default_effect, "deny");
	assert_int_equal(t.pw_min_len, 12);
	store_tenant_clear(&t);
	assert_int_equal(store_tenant_update(fx->st, "nosuch", "UTC", NULL, 12, &ae, &err), 0);
	text = fx_audit_text(fx, T);
	assert_string_equal(text, "admin.tenant.set tenant=acme "
	    "before=\"timezone=Asia/Tokyo default=allow pw_min_len=10\" "
	    "after=\"timezone=UTC default=deny pw_min_len=12\"\n");
	free(text);
}

static void
test_store_user_break_glass(void **state)
{
	struct fx *fx = *state;
	struct user_change on = { .break_glass = "on" }, off = { .break_glass = "off" };
	struct user_change bad = { .break_glass = "yes" };
	const char *err = NULL;
	uint64_t gen;

	add_user(fx, T, "alice", NULL);
	assert_int_equal(break_glass(fx, "alice"), 0);
	gen = fx_generation(fx, T);
	assert_int_equal(store_user_update(fx->st, T, "alice", &on, NULL, &err), 1);
	assert_int_equal(break_glass(fx, "alice"), 1);
	assert_true(fx_generation(fx, T) > gen);
	assert_int_equal(store_user_update(fx->st, T, "alice", &bad, NULL, &err), -1);
	assert_string_equal(err, "break-glass is on or off");
	assert_int_equal(break_glass(fx, "alice"), 1);
	assert_int_equal(store_user_update(fx->st, T, "alice", &off, NULL, &err), 1);
	assert_int_equal(break_glass(fx, "alice"), 0);
	assert_int_equal(store_user_update(fx->st, T, "nobody", &on, NULL, &err), 0);
}

/* ---- apps: what the portal shows ---- */

static void
test_store_app_display(void **state)
{
	struct fx *fx = *state;
	static const unsigned char png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0 };
	struct app_display set = { .display_name = "勤怠管理", .description = "Time sheets",
		.icon = png, .icon_len = sizeof(png), .icon_type = "image/png" };
	struct app_display name_only = { .display_name = "Kintai" };
	struct app_display clear = { .description = "", .icon = png, .icon_len = 0 };
	const char *err = NULL;
	struct app a;
	uint64_t gen;

	add_app(fx, "crm");
	assert_int_equal(store_app_get(fx->st, T, "crm", &a), 1);
	assert_null(a.display_name);
	assert_null(a.icon);
	store_app_clear(&a);
	gen = fx_generation(fx, T);
	assert_int_equal(store_app_set_display(fx->st, T, "crm", &set, NULL, &err), 1);
	assert_true(fx_generation(fx, T) > gen);
	assert_int_equal(store_app_set_display(fx->st, T, "crm", &name_only, NULL, &err), 1);
	assert_int_equal(store_app_get(fx->st, T, "crm", &a), 1);
	assert_string_equal(a.display_name, "Kintai");
	assert_string_equal(a.description, "Time sheets");
	assert_int_equal(a.icon_len, sizeof(png));
	assert_memory_equal(a.icon, png, sizeof(png));
	assert_string_equal(a.icon_type, "image/png");
	assert_string_equal(a.entity_id, "https://crm/sp");
	store_app_clear(&a);
	assert_int_equal(store_app_set_display(fx->st, T, "crm", &clear, NULL, &err), 1);
	assert_int_equal(store_app_get(fx->st, T, "crm", &a), 1);
	assert_string_equal(a.display_name, "Kintai");
	assert_null(a.description);
	assert_null(a.icon);
	assert_int_equal(a.icon_len, 0);
	assert_null(a.icon_type);
	store_app_clear(&a);
	assert_int_equal(store_app_set_display(fx->st, T, "erp", &set, NULL, &err), 0);
}

/* ---- upgrade from schema 2 ---- */

static void
policy_cb(const void *rec, void *arg)
{
	const struct policy *p = rec;

	buf_printf(arg, "%s:%s=%s ", p->kind, p->name ? p->name : "", p->value);
}

static void
test_store_upgrade_2_to_3(void **state)
{
	struct fx *fx = *state;
	struct tenant t;
	struct buf b;
	char *text;

	fx_add_tenant(fx, T);
	fx_add_tenant(fx, "other");
	add_objects(fx);
	set_policy(fx, "tenant", NULL, "on");
	set_policy(fx, "user", "alice", "off");
	set_policy(fx, "group", "staff", "off");
	set_policy(fx, "app", "crm", "on");
	fx_set_schema(fx, "2");
	fx_reopen(fx);
	assert_int_equal(fx_schema(fx), '7');
	assert_int_equal(store_tenant_get(fx->st, T, &t), 1);
	assert_string_equal(t.timezone, "Asia/Tokyo");
	assert_string_equal(t.default_effect, "allow");
	store_tenant_clear(&t);
	text = fx_audit_text(fx, T);
	assert_string_equal(text, "store.upgrade from=2 to=3 timezone=Asia/Tokyo default=allow "
	    "device_required=4\nstore.upgrade from=3 to=4 users=2 sessions=0 rules=0\n"
	    "store.upgrade from=4 to=5 users=2 groups=1 apps=2\n"
	    "store.upgrade from=5 to=6 users=2 apps=2 roles=user\n"
	    "store.upgrade from=6 to=7 licence=unlicensed seats=unlimited users=2 "
	    "cert_holders=0\n");
	free(text);
	text = fx_audit_text(fx, "other");
	assert_string_equal(text, "store.upgrade from=2 to=3 timezone=Asia/Tokyo default=allow "
	    "device_required=0\nstore.upgrade from=3 to=4 users=0 sessions=0 rules=0\n"
	    "store.upgrade from=4 to=5 users=0 groups=0 apps=0\n"
	    "store.upgrade from=5 to=6 users=0 apps=0 roles=user\n"
	    "store.upgrade from=6 to=7 licence=unlicensed seats=unlimited users=0 "
	    "cert_holders=0\n");
	free(text);
	buf_init(&b, 0);
	assert_int_equal(store_policy_list(fx->st, T, policy_cb, &b), 0);
	assert_string_equal(b.data, "app:crm=on group:staff=off tenant:=on user:alice=off ");
	buf_free(&b);
	fx_reopen(fx);		/* once per step */
	text = fx_audit_text(fx, T);
	assert_null(strstr(strstr(strstr(strstr(strstr(strstr(text, "store.upgrade") + 1,
	    "store.upgrade") + 1, "store.upgrade") + 1, "store.upgrade") + 1, "store.upgrade") + 1,
	    "store.upgrade"));
	free(text);
}

/* A tenant's own settings survive the upgrade; only what was unset is written out. */
static void
test_store_upgrade_keeps_settings(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	struct tenant t;

	fx_add_tenant(fx, T);
	assert_int_equal(store_tenant_set(fx->st, T, NULL, "deny", NULL, &err), 1);
	fx_set_schema(fx, "2");
	fx_reopen(fx);
	assert_int_equal(store_tenant_get(fx->st, T, &t), 1);
	assert_string_equal(t.timezone, "Asia/Tokyo");
	assert_string_equal(t.default_effect, "deny");
	store_tenant_clear(&t);
}

/* From schema 1 every step runs in the one transaction, each audited. */
static void
test_store_upgrade_1_to_3(void **state)
{
	struct fx *fx = *state;
	char *text;

	fx_add_tenant(fx, T);
	fx_set_schema(fx, "1");
	fx_reopen(fx);
	assert_int_equal(fx_schema(fx), '7');
	text = fx_audit_text(fx, T);
	assert_non_null(strstr(text, "store.upgrade from=1 to=2 "));
	assert_non_null(strstr(text, "\nstore.upgrade from=2 to=3 timezone=Asia/Tokyo "
	    "default=allow device_required=0\n"));
	assert_non_null(strstr(text, "\nstore.upgrade from=3 to=4 "));
	assert_non_null(strstr(text, "\nstore.upgrade from=4 to=5 "));
	assert_non_null(strstr(text, "\nstore.upgrade from=5 to=6 "));
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		TEST(test_store_assign_by_names),
		TEST(test_store_assign_stores_ids),
		TEST(test_store_assign_refused),
		TEST(test_store_assign_generation_and_audit),
		TEST(test_store_assign_removed_with_objects),
		TEST(test_store_tenant_set),
		TEST(test_store_tenant_update),
		TEST(test_store_user_break_glass),
		TEST(test_store_app_display),
		TEST(test_store_upgrade_2_to_3),
		TEST(test_store_upgrade_keeps_settings),
		TEST(test_store_upgrade_1_to_3),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
