/*
 * Unit tests for admin/report.c on a real store with a fixed clock: the month's days are
 * the tenant's local days (New York's March has its summer-time change on the 8th), the
 * records just outside the month are left out, refusals, apps and API calls are counted
 * by name, every key of the store is listed, months are checked, and the previous month
 * is the tenant's local one.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admin_report.h"
#include "clock.h"
#include "store_fixture.h"

#define NY_MAR01 1772341200	/* 2026-03-01T05:00:00Z: local midnight (EST) */
#define NY_MAR08 1772946000	/* 2026-03-08T05:00:00Z: local midnight, still EST */
#define NY_MAR09 1773028800	/* 2026-03-09T04:00:00Z: local midnight, EDT */
#define NY_APR01 1775016000	/* 2026-04-01T04:00:00Z */
#define NY_MAY01 1777608000	/* 2026-05-01T04:00:00Z */
#define NY "ny"

static struct instance in;

static struct admin
adm(struct fx *fx, const char *tenant)
{
	struct admin a = { .in = &in, .tenant = tenant, .actor = "tester" };

	in.store = fx->st;
	return a;
}

static void
rec(struct fx *fx, int64_t t, const char *event, const char *fields)
{
	assert_int_equal(store_audit_append(fx->st, NY, t, event, fields), 0);
}

static int
setup_report(void **state)
{
	struct tenant t = { .id = NY, .name = NY, .created = T0, .timezone = "America/New_York" };
	struct apikey k = { .id = "0123456789abcdef", .name = "idle", .created = T0 };
	const char *err = NULL;
	struct fx *fx;

	setup(state);
	fx = *state;
	assert_int_equal(store_tenant_add(fx->st, &t, &err), 0);
	assert_int_equal(store_apikey_add(fx->st, NY, &k, NULL, &err), 0);
	rec(fx, NY_MAR01 - 1, "login.ok", "user=feb");
	rec(fx, NY_MAR01, "login.ok", "user=alice");
	rec(fx, NY_MAR09 - 1, "login.ok", "user=ALICE");
	rec(fx, NY_MAR09, "login.ok", "user=bob");
	rec(fx, NY_MAR09 + 60, "login.fail", "user=bob reason=bad_password");
	rec(fx, NY_MAR09 + 61, "login.fail", "user=bob reason=bad_password");
	rec(fx, NY_MAR09 + 62, "access.deny", "user=bob app=crm rule=r1");
	rec(fx, NY_MAR09 + 63, "saml.sso", "user=bob sp=https://crm/ app=crm");
	rec(fx, NY_MAR09 + 64, "saml.sso", "user=bob sp=https://crm/ app=crm");
	rec(fx, NY_MAR09 + 65, "oidc.authorize", "user=bob client=c1 app=wiki");
	rec(fx, NY_MAR09 + 66, "api.call", "key=hr method=GET path=/x status=200");
	rec(fx, NY_MAR09 + 67, "cert.issue", "user=bob serial=01");
	rec(fx, NY_APR01 - 1, "cert.revoke", "serial=01");
	rec(fx, NY_APR01, "login.ok", "user=april");
	clock_set_fixed(NY_MAY01);
	return 0;
}

static int
teardown_report(void **state)
{
	clock_set_fixed(0);
	return teardown(state);
}

static void
test_report_days_dst(void **state)
{
	struct admin a = adm(*state, NY);
	struct admin_report r;

	assert_int_equal(admin_report(&a, "2026-03", &r), 0);
	assert_string_equal(r.timezone, "America/New_York");
	assert_int_equal(r.n_days, 31);
	assert_int_equal(r.start, NY_MAR01);
	assert_int_equal(r.end, NY_APR01);
	assert_string_equal(r.next_month, "2026-04");
	assert_string_equal(r.days[7].date, "2026-03-08");
	assert_int_equal(r.days[7].start, NY_MAR08);
	assert_int_equal(r.days[8].start, NY_MAR09);
	assert_int_equal(r.days[0].logins, 1);
	assert_int_equal(r.days[7].logins, 1);
	assert_int_equal(r.days[8].logins, 1);
	assert_int_equal(r.days[8].refusals, 3);
	assert_int_equal(r.days[8].issued, 1);
	assert_int_equal(r.days[30].revoked, 1);
	assert_int_equal(r.logins, 3);
	assert_int_equal(r.active_users, 2);	/* alice in any case, bob */
	admin_report_clear(&r);
}

static void
test_report_counts(void **state)
{
	struct admin a = adm(*state, NY);
	struct admin_report r;

	assert_int_equal(admin_report(&a, "2026-03", &r), 0);
	assert_int_equal(r.n_reasons, 2);
	assert_string_equal(r.reasons[0].name, "login.fail");
	assert_string_equal(r.reasons[0].detail, "bad_password");
	assert_int_equal(r.reasons[0].count, 2);
	assert_string_equal(r.reasons[1].name, "access.deny");
	assert_null(r.reasons[1].detail);
	assert_int_equal(r.n_apps, 2);
	assert_string_equal(r.apps[0].name, "crm");
	assert_string_equal(r.apps[0].detail, "saml");
	assert_int_equal(r.apps[0].count, 2);
	assert_string_equal(r.apps[1].name, "wiki");
	assert_string_equal(r.apps[1].detail, "oidc");
	assert_int_equal(r.n_keys, 2);		/* hr from the trail, idle from the store */
	assert_string_equal(r.keys[0].name, "hr");
	assert_int_equal(r.keys[0].count, 1);
	assert_string_equal(r.keys[1].name, "idle");
	assert_int_equal(r.keys[1].count, 0);
	assert_int_equal(r.api_calls, 1);
	assert_int_equal(r.licensed, 0);
	admin_report_clear(&r);
}

static void
test_report_refused(void **state)
{
	struct admin a = adm(*state, NY);
	struct admin_report r;

	for (const char *const *m = (const char *const[]){ "2026-13", "2026-00", "1999-12",
	    "2026-3", "2026/03", "20260-3", "", NULL }; *m; m++) {
		assert_int_equal(admin_report(&a, *m, &r), -1);
		assert_int_equal(a.status, ADMIN_INVALID);
		assert_string_equal(a.field, "month");
	}
	assert_int_equal(admin_report(&a, "2026-06", &r), -1);	/* not started */
	assert_string_equal(a.field, "month");
	a = adm(*state, "nosuch");
	assert_int_equal(admin_report(&a, "2026-03", &r), -1);
	assert_int_equal(a.status, ADMIN_NOT_FOUND);
}

static void
test_report_prev_month(void **state)
{
	static const struct {
		const char *zone;
		int64_t t;
		const char *want;
	} cases[] = {
		{ "Asia/Tokyo", 1796051100, "2026-11" },	/* 2026-12-01 00:05 in Tokyo */
		{ "UTC", 1796051100, "2026-10" },		/* 2026-11-30 15:05 UTC */
		{ "Asia/Tokyo", 1798730000, "2026-12" },	/* 2027-01-01 00:13 in Tokyo */
		{ "America/New_York", NY_MAR01, "2026-02" },
		{ "America/New_York", NY_MAR01 - 1, "2026-01" },
	};
	char out[8];

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		admin_report_prev_month(cases[i].zone, cases[i].t, out);
		assert_string_equal(out, cases[i].want);
	}
	assert_int_equal(admin_report_month_valid("2026-11"), 0);
	assert_int_equal(admin_report_month_valid("2026-11x"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_days_dst),
		cmocka_unit_test(test_report_counts),
		cmocka_unit_test(test_report_refused),
		cmocka_unit_test(test_report_prev_month),
	};

	return cmocka_run_group_tests(tests, setup_report, teardown_report);
}
