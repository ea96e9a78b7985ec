/*
 * Unit tests for policies/rules.c and rules_text.c: each condition alone and combined,
 * lists as ORs, the first allow or deny deciding, device and mfa accumulating, report-only,
 * the tenant default, break-glass, assignments, ids of removed objects, days and hours in
 * Asia/Tokyo across midnight and the week boundary (UTC instants), the device-required
 * shorthand with idp/device.c's cases, validation messages, the canonical and the one-line
 * forms, explanations, and the indexed evaluation against a scan of every rule.
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
#include "rules.h"
#include "store.h"
#include "xmalloc.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Instants in Asia/Tokyo (UTC+9), given as UTC seconds. */
#define SAT_2359 1717253940LL		/* 2024-06-01T14:59Z: Saturday 23:59 */
#define SUN_0030 (SAT_2359 + 31 * 60)
#define SUN_2200 1717333200LL		/* 2024-06-02T13:00Z */
#define SUN_2359 1717340340LL		/* 2024-06-02T14:59Z */
#define MON_0000 1717340400LL		/* 2024-06-02T15:00Z */
#define MON(h, m) (MON_0000 + ((h) * 60 + (m)) * 60LL)

struct spec {
	const char *name, *effect, *users, *groups, *apps, *from, *not_from, *days, *hours;
	int report_only;
};

static void
rec_of(const struct spec *s, struct rule_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->name = (char *)s->name;
	r->effect = (char *)s->effect;
	r->users = (char *)s->users;
	r->groups = (char *)s->groups;
	r->apps = (char *)s->apps;
	r->from = (char *)s->from;
	r->not_from = (char *)s->not_from;
	r->days = (char *)s->days;
	r->hours = (char *)s->hours;
	r->report_only = (uint64_t)s->report_only;
}

static void
add(struct ruleset *rs, const struct spec *s)
{
	char err[RULE_ERR_MAX] = "";
	struct rule_rec r;

	rec_of(s, &r);
	if (ruleset_add(rs, &r, err) != 0)
		fail_msg("rule %s: %s", s->name, err);
}

static struct ruleset *
set_of(const struct spec *specs, size_t n, int default_deny)
{
	const char *errstr = NULL;
	struct ruleset *rs = ruleset_new(NULL, default_deny, &errstr);

	assert_non_null(rs);
	for (size_t i = 0; i < n; i++)
		add(rs, &specs[i]);
	return rs;
}

struct query {
	const char *user;
	const char *groups[4];
	const char *app;
	const char *ip;
	int64_t now;
	int break_glass;
};

static void
decide(const struct ruleset *rs, const struct query *in, struct rule_decision *d)
{
	struct rule_query q = { in->user, (char *const *)in->groups, in->app, in->ip, in->now,
	    in->break_glass };

	ruleset_evaluate(rs, &q, d);
}

/* ---- each condition alone: a deny rule that matches or not (default allow) ---- */

struct cond_case {
	struct spec rule;
	struct query q;
	int deny;
};

/* user, groups, app, ip, now */
#define Q(user, ...) { user, __VA_ARGS__, 0 }
#define STAFF { "staff", NULL }
#define NOGROUPS { NULL }
#define NIGHTS { .name = "n", .effect = "deny", .hours = "22:00-06:00" }
#define WEEKEND_NIGHTS { .name = "wn", .effect = "deny", .days = "sat,sun", \
	.hours = "22:00-06:00" }
#define COMBINED { .name = "c", .effect = "deny", .groups = "staff", .apps = "crm", \
	.from = "10.0.0.0/8", .days = "mon", .hours = "09:00-18:00" }

static const struct cond_case cond_cases[] = {
	{ { .name = "u", .effect = "deny", .users = "alice" },
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", MON(12, 0)), 1 },
	{ { .name = "u", .effect = "deny", .users = "alice" },
	    Q("bob", NOGROUPS, "crm", "10.1.2.3", MON(12, 0)), 0 },
	{ { .name = "g", .effect = "deny", .groups = "staff" },
	    Q("alice", STAFF, "crm", "10.1.2.3", MON(12, 0)), 1 },
	{ { .name = "g", .effect = "deny", .groups = "staff" },
	    Q("alice", { "sales", NULL }, "crm", "10.1.2.3", MON(12, 0)), 0 },
	{ { .name = "g", .effect = "deny", .groups = "staff" },
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", MON(12, 0)), 0 },
	{ { .name = "a", .effect = "deny", .apps = "crm" },
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", MON(12, 0)), 1 },
	{ { .name = "a", .effect = "deny", .apps = "crm" },
	    Q("alice", NOGROUPS, "wiki", "10.1.2.3", MON(12, 0)), 0 },
	{ { .name = "a", .effect = "deny", .apps = "crm" },
	    Q("alice", NOGROUPS, NULL, "10.1.2.3", MON(12, 0)), 0 },
	{ { .name = "f", .effect = "deny", .from = "10.0.0.0/8" },
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", MON(12, 0)), 1 },
	{ { .name = "f", .effect = "deny", .from = "10.0.0.0/8" },
	    Q("alice", NOGROUPS, "crm", "::ffff:10.1.2.3", MON(12, 0)), 1 },
	{ { .name = "f", .effect = "deny", .from = "10.0.0.0/8" },
	    Q("alice", NOGROUPS, "crm", "192.0.2.1", MON(12, 0)), 0 },
	{ { .name = "f", .effect = "deny", .from = "10.0.0.0/8" },
	    Q("alice", NOGROUPS, "crm", "2001:db8::1", MON(12, 0)), 0 },
	{ { .name = "f6", .effect = "deny", .from = "2001:db8::/32" },
	    Q("alice", NOGROUPS, "crm", "2001:db8::5", MON(12, 0)), 1 },
	{ { .name = "f6", .effect = "deny", .from = "2001:db8::/32" },
	    Q("alice", NOGROUPS, "crm", "2001:db9::5", MON(12, 0)), 0 },
	{ { .name = "nf", .effect = "deny", .not_from = "10.0.0.0/8" },
	    Q("alice", NOGROUPS, "crm", "192.0.2.1", MON(12, 0)), 1 },
	{ { .name = "nf", .effect = "deny", .not_from = "10.0.0.0/8" },
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", MON(12, 0)), 0 },
	{ { .name = "nf", .effect = "deny", .not_from = "10.0.0.0/8" },
	    Q("alice", NOGROUPS, "crm", "not-an-address", MON(12, 0)), 1 },
	{ { .name = "d", .effect = "deny", .days = "sat,sun" },
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", SUN_2359), 1 },
	{ { .name = "d", .effect = "deny", .days = "sat,sun" },
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", MON_0000), 0 },
	{ { .name = "d", .effect = "deny", .days = "sat,sun" },
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", SAT_2359), 1 },
	{ { .name = "h", .effect = "deny", .hours = "09:00-18:00" },
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", MON(9, 0)), 1 },
	{ { .name = "h", .effect = "deny", .hours = "09:00-18:00" },
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", MON(17, 59)), 1 },
	{ { .name = "h", .effect = "deny", .hours = "09:00-18:00" },
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", MON(18, 0)), 0 },
	{ { .name = "h", .effect = "deny", .hours = "09:00-18:00" },
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", MON(8, 59)), 0 },
	/* 22:00-06:00 crosses midnight. */
	{ NIGHTS,
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", SUN_2200), 1 },
	{ NIGHTS,
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", SUN_2200 - 60), 0 },
	{ NIGHTS,
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", SUN_2359), 1 },
	{ NIGHTS,
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", MON_0000), 1 },
	{ NIGHTS,
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", MON(5, 59)), 1 },
	{ NIGHTS,
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", MON(6, 0)), 0 },
	{ NIGHTS,
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", MON(12, 0)), 0 },
	{ { .name = "all", .effect = "deny", .hours = "00:00-24:00" },
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", MON_0000), 1 },
	{ { .name = "all", .effect = "deny", .hours = "00:00-24:00" },
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", SUN_2359), 1 },
	/* Days and hours across midnight: the minute's own day counts (Monday 00:00 is not
	 * part of Sunday's night). */
	{ WEEKEND_NIGHTS,
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", SUN_2359), 1 },
	{ WEEKEND_NIGHTS,
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", MON_0000), 0 },
	{ WEEKEND_NIGHTS,
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", SAT_2359), 1 },
	{ WEEKEND_NIGHTS,
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", SUN_0030), 1 },
	{ WEEKEND_NIGHTS,
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", SUN_0030 + 6 * 3600), 0 },
	{ WEEKEND_NIGHTS,
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", SUN_0030 - 2 * 3600), 1 },
	{ WEEKEND_NIGHTS,
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", SAT_2359 - 86400), 0 },
	/* Conditions combined: every one must hold. */
	{ COMBINED,
	    Q("alice", STAFF, "crm", "10.1.2.3", MON(12, 0)), 1 },
	{ COMBINED,
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", MON(12, 0)), 0 },
	{ COMBINED,
	    Q("alice", STAFF, "wiki", "10.1.2.3", MON(12, 0)), 0 },
	{ COMBINED,
	    Q("alice", STAFF, "crm", "192.0.2.1", MON(12, 0)), 0 },
	{ COMBINED,
	    Q("alice", STAFF, "crm", "10.1.2.3", MON(12, 0) + 86400), 0 },
	{ COMBINED,
	    Q("alice", STAFF, "crm", "10.1.2.3", MON(19, 0)), 0 },
	{ { .name = "uc", .effect = "deny", .users = "alice", .groups = "staff" },
	    Q("alice", { "sales", NULL }, "crm", "10.1.2.3", MON(12, 0)), 0 },
	{ { .name = "uc", .effect = "deny", .users = "alice", .groups = "staff" },
	    Q("alice", { "sales", "staff", NULL }, "crm", "10.1.2.3", MON(12, 0)), 1 },
	/* Lists are ORs. */
	{ { .name = "l", .effect = "deny", .users = "alice\nbob" },
	    Q("bob", NOGROUPS, "crm", "10.1.2.3", MON(12, 0)), 1 },
	{ { .name = "l", .effect = "deny", .groups = "staff\nsales" },
	    Q("carol", { "ops", "sales", NULL }, "crm", "10.1.2.3", MON(12, 0)), 1 },
	{ { .name = "l", .effect = "deny", .apps = "crm\nwiki" },
	    Q("bob", NOGROUPS, "wiki", "10.1.2.3", MON(12, 0)), 1 },
	{ { .name = "l", .effect = "deny", .from = "192.0.2.0/24 10.0.0.0/8" },
	    Q("bob", NOGROUPS, "wiki", "10.1.2.3", MON(12, 0)), 1 },
	{ { .name = "l", .effect = "deny", .not_from = "192.0.2.0/24 10.0.0.0/8" },
	    Q("bob", NOGROUPS, "wiki", "10.1.2.3", MON(12, 0)), 0 },
	{ { .name = "l", .effect = "deny", .not_from = "192.0.2.0/24 10.0.0.0/8" },
	    Q("bob", NOGROUPS, "wiki", "198.51.100.1", MON(12, 0)), 1 },
	{ { .name = "l", .effect = "deny", .days = "mon,wed" },
	    Q("bob", NOGROUPS, "wiki", "10.1.2.3", MON(12, 0) + 2 * 86400), 1 },
	{ { .name = "l", .effect = "deny", .days = "mon,wed" },
	    Q("bob", NOGROUPS, "wiki", "10.1.2.3", MON(12, 0) + 86400), 0 },
	/* Ids of removed users, groups and apps stay in the rule and match nobody. */
	{ { .name = "r", .effect = "deny", .users = "u-removed" },
	    Q("alice", NOGROUPS, "crm", "10.1.2.3", MON(12, 0)), 0 },
	{ { .name = "r", .effect = "deny", .groups = "g-removed\nstaff" },
	    Q("alice", STAFF, "crm", "10.1.2.3", MON(12, 0)), 1 },
	{ { .name = "r", .effect = "deny", .apps = "a-removed" },
	    Q("alice", STAFF, "crm", "10.1.2.3", MON(12, 0)), 0 },
};

static void
test_rules_conditions(void **state)
{
	int failed = 0;

	for (size_t i = 0; i < NELEM(cond_cases); i++) {
		const struct cond_case *c = &cond_cases[i];
		struct ruleset *rs = set_of(&c->rule, 1, 0);
		struct rule_decision d;

		decide(rs, &c->q, &d);
		if (d.deny != c->deny || strcmp(d.rule, c->deny ? c->rule.name : "default")) {
			print_error("case %zu (%s, %s at %lld): got %d by %s\n", i, c->rule.name,
			    c->q.user, (long long)c->q.now, d.deny, d.rule);
			failed++;
		}
		ruleset_free(rs);
	}
	assert_int_equal(failed, 0);
}

/* ---- order, effects, report-only, default ---- */

static const struct query alice = { "alice", STAFF, "crm", "10.1.2.3", MON(12, 0), 0 };
static const struct query bob = { "bob", NOGROUPS, "crm", "10.1.2.3", MON(12, 0), 0 };

static void
test_rules_first_allow_or_deny_decides(void **state)
{
	static const struct spec specs[] = {
		{ .name = "allow-staff", .effect = "allow", .groups = "staff" },
		{ .name = "deny-all", .effect = "deny" },
		{ .name = "allow-all", .effect = "allow" },
	};
	struct ruleset *rs = set_of(specs, NELEM(specs), 0);
	struct rule_decision d;

	decide(rs, &alice, &d);
	assert_int_equal(d.deny, 0);
	assert_string_equal(d.rule, "allow-staff");
	decide(rs, &bob, &d);
	assert_int_equal(d.deny, 1);
	assert_string_equal(d.rule, "deny-all");
	ruleset_free(rs);
}

static void
test_rules_requirements_accumulate(void **state)
{
	static const struct spec specs[] = {
		{ .name = "dev-staff", .effect = "device", .groups = "staff" },
		{ .name = "mfa-crm", .effect = "mfa", .apps = "crm" },
		{ .name = "dev-again", .effect = "device" },
		{ .name = "allow-all", .effect = "allow" },
		{ .name = "mfa-late", .effect = "mfa" },
	};
	struct ruleset *rs = set_of(specs, NELEM(specs), 1);
	struct rule_decision d;
	struct query wiki = alice;

	decide(rs, &alice, &d);
	assert_int_equal(d.deny, 0);
	assert_string_equal(d.rule, "allow-all");
	assert_int_equal(d.requires, RULE_NEEDS_DEVICE | RULE_NEEDS_MFA);
	assert_string_equal(d.device_rule, "dev-staff");
	assert_string_equal(d.mfa_rule, "mfa-crm");
	/* After the allow nothing is added: mfa-late is never reached. */
	wiki.app = "wiki";
	decide(rs, &wiki, &d);
	assert_int_equal(d.requires, RULE_NEEDS_DEVICE);
	assert_null(d.mfa_rule);
	ruleset_free(rs);
}

static void
test_rules_report_only(void **state)
{
	struct spec specs[RULE_REPORTS_MAX + 3];
	char names[NELEM(specs)][16];
	struct ruleset *rs;
	struct rule_decision d;

	for (size_t i = 0; i < NELEM(specs); i++) {
		snprintf(names[i], sizeof(names[i]), "r%zu", i);
		specs[i] = (struct spec){ .name = names[i], .effect = i % 2 ? "mfa" : "deny",
		    .report_only = 1 };
	}
	rs = set_of(specs, NELEM(specs), 0);
	decide(rs, &alice, &d);
	assert_int_equal(d.deny, 0);
	assert_string_equal(d.rule, "default");
	assert_int_equal(d.requires, 0);
	assert_int_equal(d.nreports, RULE_REPORTS_MAX);
	assert_string_equal(d.reports[0].rule, "r0");
	assert_string_equal(d.reports[0].effect, "deny");
	assert_string_equal(d.reports[1].effect, "mfa");
	ruleset_free(rs);
}

static void
test_rules_default(void **state)
{
	struct ruleset *allow = set_of(NULL, 0, 0), *deny = set_of(NULL, 0, 1);
	struct rule_decision d;

	decide(allow, &alice, &d);
	assert_int_equal(d.deny, 0);
	assert_string_equal(d.rule, "default");
	decide(deny, &alice, &d);
	assert_int_equal(d.deny, 1);
	assert_string_equal(d.rule, "default");
	assert_null(d.glass_rule);
	ruleset_free(allow);
	ruleset_free(deny);
}

/* ---- break-glass ---- */

static void
test_rules_break_glass(void **state)
{
	static const struct spec specs[] = {
		{ .name = "dev-all", .effect = "device" },
		{ .name = "deny-all", .effect = "deny" },
		{ .name = "mfa-all", .effect = "mfa" },
	};
	struct ruleset *rs = set_of(specs, NELEM(specs), 1);
	struct query q = alice;
	struct rule_decision d;

	q.break_glass = 1;
	decide(rs, &q, &d);
	assert_int_equal(d.deny, 0);
	assert_string_equal(d.rule, "default");
	assert_int_equal(d.requires, 0);
	assert_null(d.device_rule);
	assert_null(d.mfa_rule);
	assert_string_equal(d.glass_rule, "dev-all");
	assert_int_equal(d.glass_skipped, RULE_NEEDS_DEVICE | RULE_DENIED | RULE_NEEDS_MFA);
	/* The same user without break-glass. */
	decide(rs, &alice, &d);
	assert_int_equal(d.deny, 1);
	assert_string_equal(d.rule, "deny-all");
	assert_int_equal(d.requires, RULE_NEEDS_DEVICE);
	assert_null(d.glass_rule);
	ruleset_free(rs);
}

static void
test_rules_break_glass_allow_and_default(void **state)
{
	static const struct spec specs[] = {
		{ .name = "deny-crm", .effect = "deny", .apps = "crm" },
		{ .name = "allow-staff", .effect = "allow", .groups = "staff" },
	};
	struct ruleset *rs = set_of(specs, NELEM(specs), 1);
	struct query q = alice;
	struct rule_decision d;

	q.break_glass = 1;
	decide(rs, &q, &d);
	assert_int_equal(d.deny, 0);
	assert_string_equal(d.rule, "allow-staff");
	assert_string_equal(d.glass_rule, "deny-crm");
	assert_int_equal(d.glass_skipped, RULE_DENIED);
	/* Only the default refuses: break-glass passes it. */
	q.app = "wiki";
	q.groups[0] = NULL;
	decide(rs, &q, &d);
	assert_int_equal(d.deny, 0);
	assert_string_equal(d.rule, "default");
	assert_string_equal(d.glass_rule, "default");
	assert_int_equal(d.glass_skipped, RULE_DENIED);
	ruleset_free(rs);
}

static void
test_rules_break_glass_assignment_applies(void **state)
{
	struct ruleset *rs = set_of(NULL, 0, 0);
	struct query q = bob;
	struct rule_decision d;

	ruleset_assign(rs, "crm", "group", "staff");
	ruleset_shorthand(rs, "tenant", "", 1);
	q.break_glass = 1;
	decide(rs, &q, &d);
	assert_int_equal(d.deny, 1);
	assert_string_equal(d.rule, "not-assigned");
	q.app = "wiki";
	decide(rs, &q, &d);
	assert_int_equal(d.deny, 0);
	assert_int_equal(d.requires, 0);
	assert_string_equal(d.glass_rule, "device-required");
	assert_int_equal(d.glass_skipped, RULE_NEEDS_DEVICE);
	ruleset_free(rs);
}

/* ---- assignments ---- */

static void
test_rules_not_assigned(void **state)
{
	static const struct spec specs[] = { { .name = "deny-all", .effect = "deny" } };
	struct ruleset *rs = set_of(NULL, 0, 0), *denying = set_of(specs, 1, 0);
	struct query dave = { "dave", NOGROUPS, "crm", "10.1.2.3", MON(12, 0), 0 };
	struct query portal = bob;
	struct rule_decision d;

	assert_int_equal(ruleset_app_assigned(rs, "crm"), 0);
	for (struct ruleset **p = (struct ruleset *[]){ rs, denying, NULL }; *p; p++) {
		ruleset_assign(*p, "crm", "group", "staff");
		ruleset_assign(*p, "crm", "user", "dave");
	}
	assert_int_equal(ruleset_app_assigned(rs, "crm"), 1);
	assert_int_equal(ruleset_app_assigned(rs, "wiki"), 0);
	assert_int_equal(ruleset_app_assigned(rs, NULL), 0);
	decide(rs, &alice, &d);
	assert_int_equal(d.deny, 0);
	decide(rs, &dave, &d);
	assert_int_equal(d.deny, 0);
	decide(rs, &bob, &d);
	assert_int_equal(d.deny, 1);
	assert_string_equal(d.rule, "not-assigned");
	/* Assignment comes before the rules. */
	decide(denying, &bob, &d);
	assert_string_equal(d.rule, "not-assigned");
	decide(denying, &dave, &d);
	assert_string_equal(d.rule, "deny-all");
	/* No app: a login to the portal is no use of the app. */
	portal.app = NULL;
	decide(rs, &portal, &d);
	assert_int_equal(d.deny, 0);
	ruleset_free(rs);
	ruleset_free(denying);
}

static void
test_rules_uses_groups(void **state)
{
	static const struct spec user_rule = { .name = "u", .effect = "deny", .users = "bob" };
	static const struct spec group_rule = { .name = "g", .effect = "deny", .groups = "x" };
	struct ruleset *rs = set_of(&user_rule, 1, 0);

	assert_int_equal(ruleset_uses_groups(rs), 0);
	ruleset_shorthand(rs, "user", "bob", 1);
	ruleset_assign(rs, "crm", "user", "bob");
	assert_int_equal(ruleset_uses_groups(rs), 0);
	add(rs, &group_rule);
	assert_int_equal(ruleset_uses_groups(rs), 1);
	ruleset_free(rs);
	rs = set_of(NULL, 0, 0);
	ruleset_shorthand(rs, "group", "staff", 0);
	assert_int_equal(ruleset_uses_groups(rs), 1);
	ruleset_free(rs);
	/* A group assignment is read from the user's groups as well. */
	rs = set_of(NULL, 0, 0);
	ruleset_assign(rs, "crm", "group", "staff");
	assert_int_equal(ruleset_uses_groups(rs), 1);
	ruleset_free(rs);
}

/* ---- the device-required shorthand: tests/unit/test_device.c's cases ---- */

#include "device_cases.h"

/* A rule set with these settings: "tenant=on" or "KIND:ID=on|off". */
static struct ruleset *
shorthand_set(const char *const *pols)
{
	struct ruleset *rs = set_of(NULL, 0, 0);

	for (size_t i = 0; i < MAXPOL && pols[i]; i++) {
		const char *p = pols[i], *eq = strchr(p, '='), *colon = strchr(p, ':');
		char *kind, *target;

		if (colon == NULL || colon > eq)
			colon = eq;
		kind = xstrndup(p, (size_t)(colon - p));
		target = colon < eq ? xstrndup(colon + 1, (size_t)(eq - colon - 1)) : xstrdup("");
		ruleset_shorthand(rs, kind, target, !strcmp(eq + 1, "on"));
		free(kind);
		free(target);
	}
	return rs;
}

static void
test_rules_shorthand_precedence(void **state)
{
	int failed = 0;

	for (size_t i = 0; i < NELEM(req_cases); i++) {
		const struct req_case *c = &req_cases[i];
		struct ruleset *rs = shorthand_set(c->pols);
		struct query q = { c->user, { c->groups[0], c->groups[1], c->groups[2], NULL },
		    c->app, "10.1.2.3", MON(12, 0), 0 };
		struct rule_decision d;
		int got;

		decide(rs, &q, &d);
		got = (d.requires & RULE_NEEDS_DEVICE) != 0;
		if (got != c->want || (got && strcmp(d.device_rule, "device-required"))) {
			print_error("%s: got %d, want %d\n", c->name, got, c->want);
			failed++;
		}
		ruleset_free(rs);
	}
	assert_int_equal(failed, 0);
}

static void
test_rules_shorthand_no_groups(void **state)
{
	const char *pols[] = { "group:staff=on", NULL };
	struct ruleset *rs = shorthand_set(pols);
	struct rule_query q = { "alice", NULL, "crm", "10.1.2.3", MON(12, 0), 0 };
	struct rule_decision d;

	/* A user whose groups were not read (NULL) is in none. */
	ruleset_evaluate(rs, &q, &d);
	assert_int_equal(d.requires, 0);
	ruleset_free(rs);
}

/* ---- validation, canonical form, one-line form ---- */

struct bad_case {
	struct spec rule;
	const char *err;
};

static const struct bad_case bad_cases[] = {
	{ { .name = "x", .effect = "deny", .from = "10.0.0.300/8" },
	    "--from 10.0.0.300/8: not an address" },
	{ { .name = "x", .effect = "deny", .from = "192.0.2.0/24 office" },
	    "--from office: not an address" },
	{ { .name = "x", .effect = "deny", .from = "10.1.2.3/8" },
	    "--from 10.1.2.3/8: host bits set, did you mean 10.0.0.0/8?" },
	{ { .name = "x", .effect = "deny", .not_from = "2001:db8::1/32" },
	    "--not-from 2001:db8::1/32: host bits set, did you mean 2001:db8::/32?" },
	{ { .name = "x", .effect = "deny", .from = "10.0.0.0/33" },
	    "--from 10.0.0.0/33: prefix length 33 is out of range (0-32)" },
	{ { .name = "x", .effect = "deny", .from = "10.0.0.0/" },
	    "--from 10.0.0.0/: bad prefix length" },
	{ { .name = "x", .effect = "deny", .from = "::ffff:10.0.0.0/104" },
	    "--from ::ffff:10.0.0.0/104: write an IPv4 network as IPv4" },
	{ { .name = "x", .effect = "deny", .hours = "25:00-18:00" },
	    "--hours 25:00-18:00: hour 25 is out of range" },
	{ { .name = "x", .effect = "deny", .hours = "09:00-24:30" },
	    "--hours 09:00-24:30: hour 24 is out of range" },
	{ { .name = "x", .effect = "deny", .hours = "09:60-18:00" },
	    "--hours 09:60-18:00: minute 60 is out of range" },
	{ { .name = "x", .effect = "deny", .hours = "9:00-18:00" },
	    "--hours 9:00-18:00: not HH:MM-HH:MM" },
	{ { .name = "x", .effect = "deny", .hours = "09:00" }, "--hours 09:00: not HH:MM-HH:MM" },
	{ { .name = "x", .effect = "deny", .hours = "09:00-09:00" },
	    "--hours 09:00-09:00: start and end are the same (00:00-24:00 is the whole day)" },
	{ { .name = "x", .effect = "deny", .hours = "24:00-06:00" },
	    "--hours 24:00-06:00: 24:00 can only end a range" },
	{ { .name = "x", .effect = "deny", .days = "mon,fun" }, "--days mon,fun: unknown day \"fun\"" },
	{ { .name = "x", .effect = "deny", .days = "mon,,tue" }, "--days mon,,tue: unknown day \"\"" },
	{ { .name = "x", .effect = "deny", .days = "monday" }, "--days monday: unknown day \"monday\"" },
	{ { .name = "x", .effect = "permit" }, "--effect permit: not one of allow, deny, device, mfa" },
	{ { .name = "x" }, "--effect : not one of allow, deny, device, mfa" },
	{ { .name = "a b", .effect = "deny" },
	    "rule name \"a b\": use 1 to 128 letters, digits or . _ @ + -" },
	{ { .name = "default", .effect = "deny" }, "rule name \"default\" is reserved" },
	{ { .name = "device-required", .effect = "deny" },
	    "rule name \"device-required\" is reserved" },
};

static void
test_rules_validation_messages(void **state)
{
	struct ruleset *rs = set_of(NULL, 0, 1);
	struct rule_decision d;
	int failed = 0;

	for (size_t i = 0; i < NELEM(bad_cases); i++) {
		char err[RULE_ERR_MAX] = "", err2[RULE_ERR_MAX] = "";
		struct rule_rec r;

		rec_of(&bad_cases[i].rule, &r);
		if (rule_validate(&r, err) != -1 || strcmp(err, bad_cases[i].err) != 0) {
			print_error("case %zu: got \"%s\", want \"%s\"\n", i, err, bad_cases[i].err);
			failed++;
		}
		/* The set refuses it the same way, and holds nothing of it. */
		if (ruleset_add(rs, &r, err2) != -1 || strcmp(err, err2) != 0)
			failed++;
	}
	assert_int_equal(failed, 0);
	decide(rs, &alice, &d);
	assert_string_equal(d.rule, "default");
	ruleset_free(rs);
}

static void
test_rules_validation_accepts(void **state)
{
	static const struct spec good[] = {
		{ .name = "a", .effect = "allow", .hours = "00:00-24:00" },
		{ .name = "b", .effect = "deny", .hours = "22:00-06:00", .days = "SAT,sun" },
		{ .name = "c", .effect = "device", .from = "10.0.0.1, 2001:db8::/32",
		    .not_from = "0.0.0.0/0" },
		{ .name = "d.e_f@g+h-i", .effect = "mfa", .hours = "18:00-24:00", .from = "" },
	};

	for (size_t i = 0; i < NELEM(good); i++) {
		char err[RULE_ERR_MAX] = "";
		struct rule_rec r;

		rec_of(&good[i], &r);
		if (rule_validate(&r, err) != 0)
			fail_msg("%s: %s", good[i].name, err);
	}
}

static void
test_rules_too_many_networks(void **state)
{
	struct buf b;
	char err[RULE_ERR_MAX] = "";
	struct rule_rec r;
	struct spec s = { .name = "x", .effect = "deny" };

	buf_init(&b, 0);
	for (int i = 0; i < 64; i++)
		buf_printf(&b, "10.0.%d.0/24 ", i);
	s.from = b.data;
	rec_of(&s, &r);
	assert_int_equal(rule_validate(&r, err), 0);
	buf_puts(&b, "192.0.2.0/24");
	s.not_from = b.data;
	s.from = NULL;
	rec_of(&s, &r);
	assert_int_equal(rule_validate(&r, err), -1);
	assert_string_equal(err, "--not-from: at most 64 networks in one rule");
	buf_free(&b);
}

static void
test_rules_canonical(void **state)
{
	char err[RULE_ERR_MAX] = "";
	struct rule_rec r;

	memset(&r, 0, sizeof(r));
	r.name = xstrdup("x");
	r.effect = xstrdup("deny");
	r.from = xstrdup("10.0.0.1, 2001:DB8::/32 192.168.0.0/16");
	r.not_from = xstrdup("2001:db8::1");
	r.days = xstrdup("sun,Mon,mon,wed");
	r.hours = xstrdup("22:00-06:00");
	assert_int_equal(rule_canonical(&r, err), 0);
	assert_string_equal(r.from, "10.0.0.1/32 2001:db8::/32 192.168.0.0/16");
	assert_string_equal(r.not_from, "2001:db8::1/128");
	assert_string_equal(r.days, "mon,wed,sun");
	assert_string_equal(r.hours, "22:00-06:00");
	/* A refused rule is left as it was. */
	free(r.hours);
	r.hours = xstrdup("22:00-22:00");
	free(r.days);
	r.days = xstrdup("sat");
	assert_int_equal(rule_canonical(&r, err), -1);
	assert_string_equal(r.days, "sat");
	for (char **p = (char *[]){ r.name, r.effect, r.from, r.not_from, r.days, r.hours, NULL };
	    *p; p++)
		free(*p);
}

static void
test_rules_format(void **state)
{
	static const struct spec full = { .name = "x", .effect = "deny",
	    .users = "u1\nu2", .groups = "g1", .apps = "a1", .from = "10.0.0.0/8 192.0.2.0/24",
	    .not_from = "10.1.0.0/16", .days = "mon,tue", .hours = "09:00-18:00",
	    .report_only = 1 };
	static const struct spec bare = { .name = "y", .effect = "allow", .users = "",
	    .from = "" };
	struct rule_rec r;
	struct buf b;

	buf_init(&b, 0);
	rec_of(&full, &r);
	rule_format(&r, &b);
	assert_string_equal(b.data, "effect=deny users=u1,u2 groups=g1 apps=a1 "
	    "from=10.0.0.0/8,192.0.2.0/24 not-from=10.1.0.0/16 days=mon,tue hours=09:00-18:00 "
	    "report-only");
	buf_reset(&b);
	/* Names when the record has them ("?removed" is what the store lists for an id
	 * nobody has any more). */
	r.user_names = (char *)"alice\n?removed";
	r.group_names = (char *)"staff";
	r.app_names = (char *)"crm";
	rule_format(&r, &b);
	assert_string_equal(b.data, "effect=deny users=alice,?removed groups=staff apps=crm "
	    "from=10.0.0.0/8,192.0.2.0/24 not-from=10.1.0.0/16 days=mon,tue hours=09:00-18:00 "
	    "report-only");
	buf_reset(&b);
	rec_of(&bare, &r);
	rule_format(&r, &b);
	assert_string_equal(b.data, "effect=allow");
	buf_free(&b);
}

static void
test_rules_unknown_zone(void **state)
{
	const char *errstr = NULL;

	assert_null(ruleset_new("Mars/Base", 0, &errstr));
	assert_string_equal(errstr, "unknown time zone");
	assert_null(ruleset_new("Etc/Unknown", 0, &errstr));
}

/* In New York the same instant is another day and hour than in Tokyo. */
static void
test_rules_zone_of_the_set(void **state)
{
	static const struct spec night = { .name = "n", .effect = "deny", .days = "sun",
	    .hours = "09:00-12:00" };
	const char *errstr = NULL;
	struct ruleset *ny = ruleset_new("America/New_York", 0, &errstr);
	struct ruleset *tokyo = set_of(&night, 1, 0);
	struct query q = alice;
	struct rule_decision d;

	add(ny, &night);
	q.now = MON_0000;	/* Sunday 11:00 in New York, Monday 00:00 in Tokyo */
	decide(ny, &q, &d);
	assert_int_equal(d.deny, 1);
	decide(tokyo, &q, &d);
	assert_int_equal(d.deny, 0);
	/* An instant out of range: no local time, so no day or hour rule matches. */
	q.now = INT64_MAX;
	decide(ny, &q, &d);
	assert_int_equal(d.deny, 0);
	ruleset_free(ny);
	ruleset_free(tokyo);
}

/* ---- explanations ---- */

static void
test_rules_explain(void **state)
{
	static const struct spec specs[] = {
		{ .name = "office", .effect = "deny", .not_from = "10.0.0.0/8" },
		{ .name = "weekend", .effect = "deny", .days = "sat,sun", .report_only = 1 },
		{ .name = "night", .effect = "deny", .hours = "22:00-06:00" },
		{ .name = "staff-mfa", .effect = "mfa", .groups = "staff" },
		{ .name = "allow-staff", .effect = "allow", .groups = "staff" },
		{ .name = "deny-all", .effect = "deny" },
	};
	static const char *want[] = {
		"local time: Sunday 23:59 in Asia/Tokyo (UTC+09:00)\n",
		"assignment: the app has none, every user may reach it\n",
		"device-required: no device required (no setting)\n",
		"rule 1 office (deny): no match: not-from: 10.1.2.3 is in 10.0.0.0/8\n",
		"rule 2 weekend (deny, report-only): matches: noted (report-only), changes nothing\n",
		"rule 3 night (deny): matches: would deny: skipped for the break-glass account\n",
		"rule 4 staff-mfa (mfa): matches: would require a second factor: skipped for "
		    "break-glass\n",
		"rule 5 allow-staff (allow): matches: allows; evaluation ends\n",
		"rule 6 deny-all (deny): not reached\n",
		"decision: allow by rule allow-staff\n",
	};
	struct ruleset *rs = set_of(specs, NELEM(specs), 0);
	struct rule_query q = { "alice", (char *const[]){ "staff", NULL }, "crm", "10.1.2.3",
	    SUN_2359, 1 };
	struct buf b;

	buf_init(&b, 0);
	ruleset_explain(rs, &q, &b);
	for (size_t i = 0; i < NELEM(want); i++)
		if (strstr(b.data, want[i]) == NULL)
			fail_msg("missing \"%s\" in:\n%s", want[i], b.data);
	buf_reset(&b);
	q.break_glass = 0;
	q.groups = NULL;
	q.now = MON(12, 0);
	ruleset_explain(rs, &q, &b);
	assert_non_null(strstr(b.data, "rule 3 night (deny): no match: hours: 12:00 is outside "
	    "22:00-06:00\n"));
	assert_non_null(strstr(b.data, "rule 4 staff-mfa (mfa): no match: groups: the user is "
	    "in none of them\n"));
	assert_non_null(strstr(b.data, "decision: deny by rule deny-all\n"));
	buf_free(&b);
	ruleset_free(rs);
}

/* ---- the index against a scan of every rule (explanations scan them all) ---- */

static uint32_t
next_rand(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void
random_spec(struct spec *s, char *buf, size_t cap, uint32_t *seed, size_t i)
{
	static const char *effects[] = { "allow", "deny", "device", "mfa" };
	static const char *users[] = { NULL, NULL, NULL, "u1", "u2\nu3", "u-removed" };
	static const char *groups[] = { NULL, NULL, "g1", "g2", "g3\ng4", "g5" };
	static const char *apps[] = { NULL, NULL, "crm", "wiki" };
	static const char *nets[] = { NULL, NULL, NULL, "10.0.0.0/8", "192.0.2.0/24 10.0.0.0/16" };
	static const char *days[] = { NULL, NULL, NULL, "sat,sun", "mon" };
	static const char *hours[] = { NULL, NULL, NULL, "22:00-06:00", "09:00-18:00" };

	snprintf(buf, cap, "r%zu", i);
	*s = (struct spec){ .name = buf, .effect = effects[next_rand(seed) % 4] };
	s->users = users[next_rand(seed) % NELEM(users)];
	s->groups = groups[next_rand(seed) % NELEM(groups)];
	s->apps = apps[next_rand(seed) % NELEM(apps)];
	s->from = nets[next_rand(seed) % NELEM(nets)];
	s->not_from = nets[next_rand(seed) % NELEM(nets)];
	s->days = days[next_rand(seed) % NELEM(days)];
	s->hours = hours[next_rand(seed) % NELEM(hours)];
	s->report_only = next_rand(seed) % 10 == 0;
}

static void
test_rules_index_matches_scan(void **state)
{
	static const char *users[] = { "u1", "u2", "u3", "u4" };
	static const char *ips[] = { "10.1.2.3", "10.0.9.9", "192.0.2.5", "198.51.100.1" };
	static const char *apps[] = { "crm", "wiki", NULL };
	struct ruleset *rs = set_of(NULL, 0, 1);
	char names[300][8];
	uint32_t seed = 9;
	struct buf b;

	for (size_t i = 0; i < NELEM(names); i++) {
		struct spec s;

		random_spec(&s, names[i], sizeof(names[i]), &seed, i);
		add(rs, &s);
	}
	buf_init(&b, 0);
	for (int i = 0; i < 2000; i++) {
		char *groups[3] = { NULL, NULL, NULL }, g1[4], g2[4], want[128];
		struct rule_query q = { users[next_rand(&seed) % 4], groups,
		    apps[next_rand(&seed) % 3], ips[next_rand(&seed) % 4],
		    MON_0000 + (int64_t)(next_rand(&seed) % (7 * 86400)), 0 };
		struct rule_decision d;

		snprintf(g1, sizeof(g1), "g%u", next_rand(&seed) % 6);
		snprintf(g2, sizeof(g2), "g%u", next_rand(&seed) % 6);
		groups[0] = next_rand(&seed) % 4 ? g1 : NULL;
		groups[1] = groups[0] && next_rand(&seed) % 2 ? g2 : NULL;
		ruleset_evaluate(rs, &q, &d);
		buf_reset(&b);
		ruleset_explain(rs, &q, &b);
		snprintf(want, sizeof(want), "decision: %s by %s%s", d.deny ? "deny" : "allow",
		    strcmp(d.rule, "default") ? "rule " : "", d.rule);
		if (strstr(b.data, want) == NULL)
			fail_msg("query %d: evaluate says \"%s\", explain:\n%s", i, want, b.data);
	}
	buf_free(&b);
	ruleset_free(rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_conditions),
		cmocka_unit_test(test_rules_first_allow_or_deny_decides),
		cmocka_unit_test(test_rules_requirements_accumulate),
		cmocka_unit_test(test_rules_report_only),
		cmocka_unit_test(test_rules_default),
		cmocka_unit_test(test_rules_break_glass),
		cmocka_unit_test(test_rules_break_glass_allow_and_default),
		cmocka_unit_test(test_rules_break_glass_assignment_applies),
		cmocka_unit_test(test_rules_not_assigned),
		cmocka_unit_test(test_rules_uses_groups),
		cmocka_unit_test(test_rules_shorthand_precedence),
		cmocka_unit_test(test_rules_shorthand_no_groups),
		cmocka_unit_test(test_rules_validation_messages),
		cmocka_unit_test(test_rules_validation_accepts),
		cmocka_unit_test(test_rules_too_many_networks),
		cmocka_unit_test(test_rules_canonical),
		cmocka_unit_test(test_rules_format),
		cmocka_unit_test(test_rules_unknown_zone),
		cmocka_unit_test(test_rules_zone_of_the_set),
		cmocka_unit_test(test_rules_explain),
		cmocka_unit_test(test_rules_index_matches_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
