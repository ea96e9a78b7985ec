/*
 * Unit tests for access rules in the store (policies/store_rule.c) on a real LMDB
 * environment: order and renumbering on add, move and remove; names resolved to ids (and
 * back, "?removed" once an object is gone); refusals that change nothing; the generation
 * and the audit records with the rule's text before and after.
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

/* Add a rule with a name and an effect, optionally before another; the result. */
static int
add(struct fx *fx, const char *name, const char *effect, const char *before, char *err)
{
	struct rule_rec r = { .name = (char *)name, .effect = (char *)effect };

	return store_rule_add(fx->st, T, &r, before, NULL, err);
}

static void
add_ok(struct fx *fx, const char *name, const char *before)
{
	char err[STORE_ERR_MAX] = "";

	if (add(fx, name, "allow", before, err) != 0)
		print_error("add %s: %s\n", name, err);
	assert_string_equal(err, "");
}

static void
order_cb(const void *rec, void *arg)
{
	const struct rule_rec *r = rec;

	buf_printf(arg, "%llu:%s ", (unsigned long long)r->pos, r->name);
}

/* "1:a 2:b " as listed. */
static char *
order(struct fx *fx)
{
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, "");
	assert_int_equal(store_rule_list(fx->st, T, order_cb, &b), 0);
	return buf_steal(&b, NULL);
}

static void
assert_order(struct fx *fx, const char *want)
{
	char *got = order(fx);

	assert_string_equal(got, want);
	free(got);
}

/* The one rule called name as listed (a copy the caller clears). */
struct find {
	const char *name;
	struct rule_rec r;
	int found;
};

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void
find_cb(const void *rec, void *arg)
{
	const struct rule_rec *r = rec;
	struct find *f = arg;

	if (strcmp(r->name, f->name))
		return;
	f->found = 1;
	f->r.name = xstrdup(r->name);
	f->r.users = dup_or_null(r->users);
	f->r.groups = dup_or_null(r->groups);
	f->r.apps = dup_or_null(r->apps);
	f->r.user_names = dup_or_null(r->user_names);
	f->r.group_names = dup_or_null(r->group_names);
	f->r.app_names = dup_or_null(r->app_names);
	f->r.from = dup_or_null(r->from);
	f->r.days = dup_or_null(r->days);
	f->r.pos = r->pos;
}

static void
get_rule(struct fx *fx, const char *name, struct rule_rec *r_r)
{
	struct find f = { .name = name };

	assert_int_equal(store_rule_list(fx->st, T, find_cb, &f), 0);
	assert_true(f.found);
	*r_r = f.r;
}

static void
add_objects(struct fx *fx)
{
	struct app a = { .name = "crm", .type = "saml", .entity_id = "https://crm/sp" };
	const char *err = NULL;

	add_user(fx, T, "alice", NULL);
	add_user(fx, T, "bob", NULL);
	assert_int_equal(store_group_add(fx->st, T, "staff", NULL, &err), 0);
	assert_int_equal(store_app_add(fx->st, T, &a, NULL, &err), 0);
}

static char *
group_id(struct fx *fx, const char *name)
{
	struct grouprec g;
	char *id;

	assert_int_equal(store_group_get(fx->st, T, name, &g), 1);
	id = xstrdup(g.id);
	store_group_clear(&g);
	return id;
}

static char *
app_id(struct fx *fx, const char *name)
{
	struct app a;
	char *id;

	assert_int_equal(store_app_get(fx->st, T, name, &a), 1);
	id = xstrdup(a.id);
	store_app_clear(&a);
	return id;
}

/* ---- order ---- */

static void
test_store_rule_order(void **state)
{
	struct fx *fx = *state;

	assert_order(fx, "");
	add_ok(fx, "a", NULL);
	add_ok(fx, "b", NULL);
	add_ok(fx, "c", "a");
	assert_order(fx, "1:c 2:a 3:b ");
	add_ok(fx, "d", "b");
	assert_order(fx, "1:c 2:a 3:d 4:b ");
	fx_reopen(fx);
	assert_order(fx, "1:c 2:a 3:d 4:b ");
}

static void
test_store_rule_move(void **state)
{
	struct fx *fx = *state;
	char err[STORE_ERR_MAX] = "";

	add_ok(fx, "a", NULL);
	add_ok(fx, "b", NULL);
	add_ok(fx, "c", NULL);
	add_ok(fx, "d", NULL);
	assert_int_equal(store_rule_move(fx->st, T, "d", "b", NULL, err), 1);
	assert_order(fx, "1:a 2:d 3:b 4:c ");
	assert_int_equal(store_rule_move(fx->st, T, "a", "c", NULL, err), 1);
	assert_order(fx, "1:d 2:b 3:a 4:c ");
	assert_int_equal(store_rule_move(fx->st, T, "b", NULL, NULL, err), 1);
	assert_order(fx, "1:d 2:a 3:c 4:b ");
	assert_int_equal(store_rule_move(fx->st, T, "c", "d", NULL, err), 1);
	assert_order(fx, "1:c 2:d 3:a 4:b ");
	assert_string_equal(err, "");
}

static void
test_store_rule_replace(void **state)
{
	struct fx *fx = *state;
	struct rule_rec r = { .name = "b", .effect = "deny", .group_names = "staff",
		.from = "10.1.2.3" }, got;
	char err[STORE_ERR_MAX] = "", *staff;

	add_objects(fx);
	add_ok(fx, "a", NULL);
	add_ok(fx, "b", NULL);
	add_ok(fx, "c", NULL);
	assert_int_equal(store_rule_replace(fx->st, T, &r, NULL, err), 1);
	assert_order(fx, "1:a 2:b 3:c ");
	get_rule(fx, "b", &got);
	staff = group_id(fx, "staff");
	assert_string_equal(got.groups, staff);
	assert_string_equal(got.group_names, "staff");
	assert_string_equal(got.from, "10.1.2.3/32");	/* canonical */
	store_rule_clear(&got);
	free(staff);
	/* an unknown group: refused, the rule as it was */
	r.group_names = "nosuch";
	r.from = NULL;
	assert_int_equal(store_rule_replace(fx->st, T, &r, NULL, err), -1);
	assert_string_equal(err, "no such group nosuch");
	get_rule(fx, "b", &got);
	assert_string_equal(got.group_names, "staff");
	assert_string_equal(got.from, "10.1.2.3/32");
	store_rule_clear(&got);
	r.name = "nosuch";
	r.group_names = NULL;
	assert_int_equal(store_rule_replace(fx->st, T, &r, NULL, err), 0);
}

static void
test_store_rule_move_refused(void **state)
{
	struct fx *fx = *state;
	char err[STORE_ERR_MAX] = "";
	uint64_t gen;

	add_ok(fx, "a", NULL);
	add_ok(fx, "b", NULL);
	gen = fx_generation(fx, T);
	assert_int_equal(store_rule_move(fx->st, T, "zz", "a", NULL, err), 0);
	assert_int_equal(store_rule_move(fx->st, T, "b", "zz", NULL, err), -1);
	assert_string_equal(err, "no rule called zz to put it before");
	assert_int_equal(store_rule_move(fx->st, T, "b", "b", NULL, err), -1);
	assert_string_equal(err, "a rule cannot be put before itself");
	assert_order(fx, "1:a 2:b ");
	assert_int_equal(fx_generation(fx, T), gen);
}

static void
test_store_rule_remove(void **state)
{
	struct fx *fx = *state;
	char err[STORE_ERR_MAX] = "";

	add_ok(fx, "a", NULL);
	add_ok(fx, "b", NULL);
	add_ok(fx, "c", NULL);
	assert_int_equal(store_rule_remove(fx->st, T, "a", NULL, err), 1);
	assert_order(fx, "1:b 2:c ");
	assert_int_equal(store_rule_remove(fx->st, T, "a", NULL, err), 0);
	add_ok(fx, "a", "c");
	assert_order(fx, "1:b 2:a 3:c ");
	assert_int_equal(store_rule_remove(fx->st, T, "c", NULL, err), 1);
	assert_int_equal(store_rule_remove(fx->st, T, "b", NULL, err), 1);
	assert_int_equal(store_rule_remove(fx->st, T, "a", NULL, err), 1);
	assert_order(fx, "");
	assert_int_equal(raw_count(fx, "rules"), 0);
}

static void
test_store_rule_per_tenant(void **state)
{
	struct fx *fx = *state;
	struct rule_rec r = { .name = "a", .effect = "deny" };
	char err[STORE_ERR_MAX] = "";

	add_ok(fx, "a", NULL);
	assert_int_equal(store_rule_add(fx->st, "other", &r, NULL, NULL, err), 0);
	assert_order(fx, "1:a ");
	assert_int_equal(store_rule_remove(fx->st, "other", "a", NULL, err), 1);
	assert_order(fx, "1:a ");
}

/* ---- what a rule holds ---- */

static void
test_store_rule_names_to_ids(void **state)
{
	struct fx *fx = *state;
	struct rule_rec in = { .name = "r", .effect = "deny", .user_names = "ALICE\nbob",
		.group_names = "staff", .app_names = "crm", .from = "10.0.0.1 10.0.0.0/8",
		.days = "tue,mon,tue", .hours = "22:00-06:00" }, r;
	char *alice, *bob, *staff, *crm, *ids, err[STORE_ERR_MAX] = "";

	add_objects(fx);
	assert_int_equal(store_rule_add(fx->st, T, &in, NULL, NULL, err), 0);
	get_rule(fx, "r", &r);
	alice = user_id(fx, T, "alice");
	bob = user_id(fx, T, "bob");
	staff = group_id(fx, "staff");
	crm = app_id(fx, "crm");
	ids = xasprintf("%s\n%s", alice, bob);
	assert_string_equal(r.users, ids);
	assert_string_equal(r.groups, staff);
	assert_string_equal(r.apps, crm);
	/* names as stored, whatever case was typed; conditions in canonical form */
	assert_string_equal(r.user_names, "alice\nbob");
	assert_string_equal(r.group_names, "staff");
	assert_string_equal(r.app_names, "crm");
	assert_string_equal(r.from, "10.0.0.1/32 10.0.0.0/8");
	assert_string_equal(r.days, "mon,tue");
	store_rule_clear(&r);
	free(alice), free(bob), free(staff), free(crm), free(ids);
}

static void
test_store_rule_refused(void **state)
{
	struct fx *fx = *state;
	static const struct {
		struct rule_rec r;
		const char *before, *err;
	} cases[] = {
		{ { .name = "x", .effect = "deny", .user_names = "alice\nnobody" }, NULL,
		  "no such user nobody" },
		{ { .name = "x", .effect = "deny", .group_names = "ghosts" }, NULL,
		  "no such group ghosts" },
		{ { .name = "x", .effect = "deny", .app_names = "erp" }, NULL, "no such app erp" },
		{ { .name = "a", .effect = "allow" }, NULL, "a rule called a exists" },
		{ { .name = "x", .effect = "allow" }, "zz", "no rule called zz to put it before" },
		{ { .name = "x", .effect = "allow", .from = "10.1.2.3/8" }, NULL,
		  "--from 10.1.2.3/8: host bits set, did you mean 10.0.0.0/8?" },
		{ { .name = "x", .effect = "allow", .hours = "25:00-18:00" }, NULL,
		  "--hours 25:00-18:00: hour 25 is out of range" },
		{ { .name = "x", .effect = "allow", .days = "mon,fun" }, NULL,
		  "--days mon,fun: unknown day \"fun\"" },
		{ { .name = "x", .effect = "maybe" }, NULL,
		  "--effect maybe: not one of allow, deny, device, mfa" },
		{ { .name = "default", .effect = "allow" }, NULL,
		  "rule name \"default\" is reserved" },
	};
	char err[STORE_ERR_MAX];
	uint64_t gen;

	add_objects(fx);
	add_ok(fx, "a", NULL);
	gen = fx_generation(fx, T);
	for (size_t i = 0; i < NELEM(cases); i++) {
		err[0] = '\0';
		assert_int_equal(store_rule_add(fx->st, T, &cases[i].r, cases[i].before, NULL,
		    err), -1);
		assert_string_equal(err, cases[i].err);
	}
	assert_order(fx, "1:a ");
	assert_int_equal(fx_generation(fx, T), gen);
}

/* A name longer than any key can hold is unknown like any other. */
static void
test_store_rule_long_name(void **state)
{
	struct fx *fx = *state;
	char name[600], want[700], err[STORE_ERR_MAX] = "";
	struct rule_rec r = { .name = "x", .effect = "deny", .group_names = name };

	memset(name, 'g', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(want, sizeof(want), "no such group %s", name);
	want[STORE_ERR_MAX - 1] = '\0';	/* err holds what fits */
	assert_int_equal(store_rule_add(fx->st, T, &r, NULL, NULL, err), -1);
	assert_string_equal(err, want);
}

static void
test_store_rule_generation(void **state)
{
	struct fx *fx = *state;
	char err[STORE_ERR_MAX] = "";
	uint64_t gen = fx_generation(fx, T);

	add_ok(fx, "a", NULL);
	assert_true(fx_generation(fx, T) > gen);
	gen = fx_generation(fx, T);
	add_ok(fx, "b", NULL);
	assert_true(fx_generation(fx, T) > gen);
	gen = fx_generation(fx, T);
	assert_int_equal(store_rule_move(fx->st, T, "b", "a", NULL, err), 1);
	assert_true(fx_generation(fx, T) > gen);
	gen = fx_generation(fx, T);
	assert_int_equal(store_rule_remove(fx->st, T, "a", NULL, err), 1);
	assert_true(fx_generation(fx, T) > gen);
	gen = fx_generation(fx, T);
	assert_int_equal(store_rule_remove(fx->st, T, "a", NULL, err), 0);
	assert_int_equal(fx_generation(fx, T), gen);
}

/* Removed users, groups and apps: the rule keeps their ids, which nobody has any more. */
static void
test_store_rule_keeps_removed_ids(void **state)
{
	struct fx *fx = *state;
	struct rule_rec in = { .name = "r", .effect = "deny", .user_names = "alice\nbob",
		.group_names = "staff", .app_names = "crm" }, r;
	char *alice = NULL, *staff, *crm, err[STORE_ERR_MAX] = "";

	add_objects(fx);
	alice = user_id(fx, T, "alice");
	staff = group_id(fx, "staff");
	crm = app_id(fx, "crm");
	assert_int_equal(store_rule_add(fx->st, T, &in, NULL, NULL, err), 0);
	assert_int_equal(store_user_remove(fx->st, T, "alice", NULL), 1);
	assert_int_equal(store_group_remove(fx->st, T, "staff", NULL), 1);
	assert_int_equal(store_app_remove(fx->st, T, "crm", NULL), 1);
	add_user(fx, T, "alice", NULL);		/* a new alice is not the one in the rule */
	get_rule(fx, "r", &r);
	assert_non_null(strstr(r.users, alice));
	assert_string_equal(r.groups, staff);
	assert_string_equal(r.apps, crm);
	assert_string_equal(r.user_names, "?removed\nbob");
	assert_string_equal(r.group_names, "?removed");
	assert_string_equal(r.app_names, "?removed");
	store_rule_clear(&r);
	free(alice), free(staff), free(crm);
}

/* ---- audit ---- */

static void
test_store_rule_audit(void **state)
{
	struct fx *fx = *state;
	struct rule_rec in = { .name = "r", .effect = "deny", .user_names = "alice",
		.from = "10.0.0.0/8", .report_only = 1 };
	struct audit_entry ae;
	char err[STORE_ERR_MAX] = "", *text;

	add_objects(fx);
	add_ok(fx, "a", NULL);
	audit_entry_make(&ae, "admin.policy.add", "actor", "root", "rule", "r", NULL);
	assert_int_equal(store_rule_add(fx->st, T, &in, "a", &ae, err), 0);
	audit_entry_make(&ae, "admin.policy.move", "actor", "root", "rule", "r", NULL);
	assert_int_equal(store_rule_move(fx->st, T, "r", NULL, &ae, err), 1);
	audit_entry_make(&ae, "admin.policy.remove", "actor", "root", "rule", "r", NULL);
	assert_int_equal(store_rule_remove(fx->st, T, "r", &ae, err), 1);
	text = fx_audit_text(fx, T);
	assert_non_null(strstr(text, "admin.policy.add actor=root rule=r after=\"effect=deny "
	    "users=alice from=10.0.0.0/8 report-only\"\n"));
	assert_non_null(strstr(text, "admin.policy.move actor=root rule=r position_before=1 "
	    "position_after=2 before=\"effect=deny users=alice from=10.0.0.0/8 report-only\" "
	    "after=\"effect=deny users=alice from=10.0.0.0/8 report-only\"\n"));
	assert_non_null(strstr(text, "admin.policy.remove actor=root rule=r before=\"effect=deny "
	    "users=alice from=10.0.0.0/8 report-only\"\n"));
	free(text);
}

/* A refused change writes no audit record. */
static void
test_store_rule_refused_not_audited(void **state)
{
	struct fx *fx = *state;
	struct rule_rec in = { .name = "r", .effect = "deny", .user_names = "nobody" };
	struct audit_entry ae;
	char err[STORE_ERR_MAX] = "", *text;

	audit_entry_make(&ae, "admin.policy.add", "rule", "r", NULL);
	assert_int_equal(store_rule_add(fx->st, T, &in, NULL, &ae, err), -1);
	text = fx_audit_text(fx, T);
	assert_null(strstr(text, "admin.policy.add"));
	free(text);
}

/* Many rules: positions stay 1..n after moves in both directions. */
static void
test_store_rule_many(void **state)
{
	struct fx *fx = *state;
	char name[16], prev[16], err[STORE_ERR_MAX] = "", *got;
	struct buf want;

	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "r%02d", i);
		add_ok(fx, name, i ? prev : NULL);	/* each goes first: r49 ... r00 */
		memcpy(prev, name, sizeof(prev));
	}
	assert_int_equal(store_rule_move(fx->st, T, "r00", "r49", NULL, err), 1);
	buf_init(&want, 0);
	buf_puts(&want, "1:r00 ");
	for (int i = 49, pos = 2; i >= 1; i--, pos++)
		buf_printf(&want, "%d:r%02d ", pos, i);
	got = order(fx);
	assert_string_equal(got, want.data);
	free(got);
	buf_free(&want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		TEST(test_store_rule_order),
		TEST(test_store_rule_move),
		TEST(test_store_rule_move_refused),
		TEST(test_store_rule_replace),
		TEST(test_store_rule_remove),
		TEST(test_store_rule_per_tenant),
		TEST(test_store_rule_names_to_ids),
		TEST(test_store_rule_refused),
		TEST(test_store_rule_long_name),
		TEST(test_store_rule_generation),
		TEST(test_store_rule_keeps_removed_ids),
		TEST(test_store_rule_audit),
		TEST(test_store_rule_refused_not_audited),
		TEST(test_store_rule_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
