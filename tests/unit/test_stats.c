/*
 * Unit tests for admin/stats.c on a real store with a fixed clock: logins and refusals
 * land on the tenant's local days (midnight in Tokyo is 15:00 UTC; New York's move with
 * summer time), active users are counted without regard to case, the walk of the trail
 * stops at the 30-day edge, certificates fall in local months, and keys at 80 % of their
 * quota are listed.
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

#include "admin_stats.h"
#include "clock.h"
#include "crypto.h"
#include "encode.h"
#include "store_fixture.h"
#include "xmalloc.h"

#define NOW 1796299200		/* 2026-12-03T12:00:00Z, 21:00 in Tokyo */
#define TOKYO_DEC02 1796223600	/* 2026-12-02T15:00:00Z: local midnight of Dec 3 */
#define TOKYO_NOV04 1793718000	/* 2026-11-03T15:00:00Z: local midnight of Nov 4, day 0 */
#define TOKYO_TOMORROW 1796310000	/* 2026-12-03T15:00:00Z */
#define TOKYO_JAN 1798729200	/* 2026-12-31T15:00:00Z: January 2027 in Tokyo */
#define TOKYO_DEC27 1827586800	/* 2027-11-30T15:00:00Z: December 2027 in Tokyo */
#define OLD_RECORDS 2000

static struct instance in;

static struct admin
adm(struct fx *fx, const char *tenant)
{
	struct admin a = { .in = &in, .tenant = tenant, .actor = "tester" };

	in.store = fx->st;
	return a;
}

static void
add_tenant(struct fx *fx, const char *id, const char *zone)
{
	struct tenant t = { .id = (char *)id, .name = (char *)id, .created = T0,
		.timezone = (char *)zone };
	const char *err = NULL;

	assert_int_equal(store_tenant_add(fx->st, &t, &err), 0);
}

static void
rec(struct fx *fx, const char *tenant, int64_t t, const char *event, const char *fields)
{
	assert_int_equal(store_audit_append(fx->st, tenant, t, event, fields), 0);
}

/* The same records in both tenants: logins on both sides of the local midnights. */
static void
add_trail(struct fx *fx, const char *tenant)
{
	for (int i = 0; i < OLD_RECORDS; i++)
		rec(fx, tenant, TOKYO_NOV04 - 40 * 86400 + i, "login.ok", "user=old");
	rec(fx, tenant, TOKYO_NOV04 - 1, "login.ok", "user=carol ip=192.0.2.1");
	rec(fx, tenant, TOKYO_NOV04 - 1, "login.fail", "user=carol reason=bad_password");
	rec(fx, tenant, TOKYO_NOV04, "login.ok", "user=bob ip=192.0.2.1");
	rec(fx, tenant, TOKYO_NOV04 + 5 * 86400, "access.deny", "user=bob app=crm rule=r1");
	rec(fx, tenant, TOKYO_NOV04 + 7 * 86400, "saml.sso.deny",
	    "user=dave sp=https://crm/ reason=no_email");
	rec(fx, tenant, TOKYO_NOV04 + 7 * 86400, "saml.sso.deny",
	    "sp=https://crm/ reason=no_passive");
	rec(fx, tenant, TOKYO_NOV04 + 10 * 86400, "login.fail", "user=x reason=unknown_user");
	rec(fx, tenant, TOKYO_NOV04 + 10 * 86400, "saml.sso", "user=bob sp=https://crm/");
	rec(fx, tenant, TOKYO_DEC02 - 1, "login.ok", "user=alice ip=192.0.2.1");
	rec(fx, tenant, TOKYO_DEC02, "login.ok", "user=ALICE ip=192.0.2.1");
	rec(fx, tenant, TOKYO_DEC02 + 60, "login.fail", "user=alice reason=bad_password");
	rec(fx, tenant, TOKYO_DEC02 + 61, "login.fail", "user=alice reason=bad_password");
	rec(fx, tenant, TOKYO_DEC02 + 62, "login.factor.fail", "user=alice reason=bad_code");
	rec(fx, tenant, TOKYO_TOMORROW, "login.ok", "user=future");
}

static int
setup_stats(void **state)
{
	struct fx *fx;

	setup(state);
	fx = *state;
	add_tenant(fx, T, "Asia/Tokyo");
	add_tenant(fx, "utc", "UTC");
	add_trail(fx, T);
	add_trail(fx, "utc");
	clock_set_fixed(NOW);
	return 0;
}

static int
teardown_stats(void **state)
{
	clock_set_fixed(0);
	return teardown(state);
}

static void
test_stats_days_tokyo(void **state)
{
	struct admin a = adm(*state, T);
	struct admin_stats s;

	assert_int_equal(admin_stats(&a, &s), 0);
	assert_string_equal(s.timezone, "Asia/Tokyo");
	assert_int_equal(s.now, NOW);
	assert_string_equal(s.days[0].date, "2026-11-04");
	assert_int_equal(s.days[0].start, TOKYO_NOV04);
	assert_string_equal(s.days[29].date, "2026-12-03");
	assert_int_equal(s.days[29].start, TOKYO_DEC02);
	/* bob at the first local midnight; carol a second before it is not counted */
	assert_int_equal(s.days[0].logins, 1);
	assert_int_equal(s.days[0].refusals, 0);
	assert_int_equal(s.days[5].refusals, 1);
	assert_int_equal(s.days[10].refusals, 1);
	assert_int_equal(s.days[10].logins, 0);
	/* 23:59:59 and 00:00:00 local: two days */
	assert_int_equal(s.days[28].logins, 1);
	assert_int_equal(s.days[29].logins, 1);
	assert_int_equal(s.days[29].refusals, 3);
	assert_int_equal(s.logins, 3);
	assert_int_equal(s.refusals, 6);
	/* alice and ALICE are one user; future and old are outside the 30 days */
	assert_int_equal(s.active_users, 2);
	admin_stats_clear(&s);
}

static void
test_stats_days_utc(void **state)
{
	struct admin a = adm(*state, "utc");
	struct admin_stats s;

	assert_int_equal(admin_stats(&a, &s), 0);
	assert_string_equal(s.days[29].date, "2026-12-03");
	assert_int_equal(s.days[29].start, TOKYO_DEC02 + 9 * 3600);
	/* 14:59:59Z and 15:00:00Z are both on Dec 2 in UTC; "future" is today at 15:00 */
	assert_int_equal(s.days[28].logins, 2);
	assert_int_equal(s.days[29].logins, 1);
	assert_int_equal(s.days[28].refusals, 3);
	/* day 0 starts at Nov 4 00:00Z: bob (Nov 3 15:00Z) and carol are before it */
	assert_int_equal(s.days[0].logins, 0);
	assert_int_equal(s.logins, 3);
	assert_int_equal(s.active_users, 2);	/* alice, future */
	admin_stats_clear(&s);
}

/* New York's days across the start of summer time (March 14, 2027): 23 hours long. */
static void
test_stats_days_dst(void **state)
{
	struct fx *fx = *state;
	struct admin a = adm(fx, "ny");
	struct admin_stats s;

	add_tenant(fx, "ny", "America/New_York");
	clock_set_fixed(1805544000);	/* 2027-03-20T12:00:00Z */
	assert_int_equal(admin_stats(&a, &s), 0);
	clock_set_fixed(NOW);
	assert_string_equal(s.days[0].date, "2027-02-19");
	assert_int_equal(s.days[0].start, 1803013200);	/* 05:00Z: EST */
	assert_string_equal(s.days[23].date, "2027-03-14");
	assert_int_equal(s.days[23].start, 1805000400);	/* 05:00Z */
	assert_string_equal(s.days[24].date, "2027-03-15");
	assert_int_equal(s.days[24].start, 1805083200);	/* 04:00Z: EDT */
	assert_int_equal(s.days[29].start, 1805515200);
	assert_string_equal(s.months[0].month, "2027-03");
	admin_stats_clear(&s);
}

static void
test_stats_reasons(void **state)
{
	struct admin a = adm(*state, T);
	struct admin_stats s;

	assert_int_equal(admin_stats(&a, &s), 0);
	assert_int_equal(s.n_reasons, 5);
	assert_string_equal(s.reasons[0].event, "login.fail");
	assert_string_equal(s.reasons[0].reason, "bad_password");
	assert_int_equal(s.reasons[0].count, 2);
	/* then by event and reason */
	assert_string_equal(s.reasons[1].event, "access.deny");
	assert_null(s.reasons[1].reason);
	assert_string_equal(s.reasons[2].event, "login.factor.fail");
	assert_string_equal(s.reasons[2].reason, "bad_code");
	assert_string_equal(s.reasons[3].reason, "unknown_user");
	assert_int_equal(s.reasons[3].count, 1);
	/* an app refused for a person (no e-mail for its NameID) is one; a passive probe is not */
	assert_int_equal(s.days[7].refusals, 1);
	assert_string_equal(s.reasons[4].event, "saml.sso.deny");
	assert_string_equal(s.reasons[4].reason, "no_email");
	admin_stats_clear(&s);
	assert_true(admin_stats_refusal("access.mfa_missing", NULL));
	assert_false(admin_stats_refusal("login.ok", NULL));
	assert_false(admin_stats_refusal("login.fail2", "bad_password"));
	assert_true(admin_stats_refusal("saml.sso.deny", "no_email"));
	assert_false(admin_stats_refusal("saml.sso.deny", "no_passive"));
	assert_false(admin_stats_refusal("saml.sso.deny", NULL));
}

/* Forty distinct reasons: 31 kept, the rest counted as "other". */
static void
test_stats_reasons_capped(void **state)
{
	struct fx *fx = *state;
	struct admin a = adm(fx, "many");
	struct admin_stats s;
	uint64_t other = 0, sum = 0;

	add_tenant(fx, "many", "Asia/Tokyo");
	for (int i = 0; i < 40; i++) {
		char f[32];

		snprintf(f, sizeof(f), "reason=r%02d", i);
		rec(fx, "many", NOW - 100 + i, "login.fail", f);
	}
	assert_int_equal(admin_stats(&a, &s), 0);
	assert_int_equal(s.n_reasons, ADMIN_STATS_REASONS);
	for (size_t i = 0; i < s.n_reasons; i++) {
		sum += s.reasons[i].count;
		if (!strcmp(s.reasons[i].event, "other"))
			other = s.reasons[i].count;
	}
	assert_int_equal(sum, 40);
	assert_int_equal(other, 40 - (ADMIN_STATS_REASONS - 1));
	assert_string_equal(s.reasons[0].event, "other");
	admin_stats_clear(&s);
}

/* The walk reads the 30 days and at most one batch before them, not the whole trail. */
static void
test_stats_stops_at_edge(void **state)
{
	struct admin a = adm(*state, T);
	struct admin_stats s;

	assert_int_equal(admin_stats(&a, &s), 0);
	assert_true(s.records > 12);
	assert_true(s.records <= 12 + 500);
	admin_stats_clear(&s);
}

static void
add_cert(struct fx *fx, int n, int64_t not_after)
{
	struct devcert c = { 0 };
	char serial[48], fp[65];
	unsigned char h[32], der[8] = { 0x30 };
	const char *err = NULL;

	snprintf(serial, sizeof(serial), "5%031X", n);
	crypto_sha256(serial, strlen(serial), h);
	hex_encode(h, sizeof(h), fp);
	c.serial = serial;
	c.user = "alice";
	c.user_id = "alice";
	c.label = "laptop";
	c.fingerprint = fp;
	c.issued = NOW - 86400;
	c.not_before = NOW - 86400;
	c.not_after = (uint64_t)not_after;
	c.der = der;
	c.der_len = sizeof(der);
	assert_int_equal(store_cert_add(fx->st, T, &c, NOW - 86400, STORE_CERT_CAP, NULL, &err), 0);
}

static void
test_stats_certs_by_month(void **state)
{
	struct fx *fx = *state;
	struct admin a = adm(fx, T);
	struct admin_stats s;
	char serial[48];

	add_user_with_id(fx, T, "alice", "alice");
	add_cert(fx, 1, TOKYO_JAN - 1);		/* Dec 31 23:59:59 local */
	add_cert(fx, 2, TOKYO_JAN);		/* Jan 1 00:00 local */
	add_cert(fx, 3, TOKYO_DEC27 - 1);	/* Nov 2027: the twelfth month */
	add_cert(fx, 4, TOKYO_DEC27);		/* Dec 2027: past the twelve */
	add_cert(fx, 5, TOKYO_JAN + 40 * 86400);	/* February, revoked below */
	add_cert(fx, 6, NOW - 1);		/* expired this month */
	snprintf(serial, sizeof(serial), "5%031X", 5);
	assert_int_equal(store_cert_revoke(fx->st, T, serial, 0, NOW, NULL, NULL), 1);
	assert_int_equal(admin_stats(&a, &s), 0);
	assert_string_equal(s.months[0].month, "2026-12");
	assert_string_equal(s.months[1].month, "2027-01");
	assert_string_equal(s.months[11].month, "2027-11");
	assert_int_equal(s.months[0].expiring, 1);
	assert_int_equal(s.months[1].expiring, 1);
	assert_int_equal(s.months[2].expiring, 0);
	assert_int_equal(s.months[11].expiring, 1);
	admin_stats_clear(&s);
}

static void
add_key(struct fx *fx, const char *name, uint64_t month, uint64_t calls, uint64_t quota_month)
{
	struct apikey k = { .name = (char *)name, .scopes = APIKEY_SCOPE_READ, .created = NOW,
		.month = month, .month_calls = calls, .quota_month = quota_month };
	char id[17];
	const char *err = NULL;

	snprintf(id, sizeof(id), "%016x", (unsigned int)calls);
	k.id = id;
	assert_int_equal(store_apikey_add(fx->st, T, &k, NULL, &err), 0);
}

static void
test_stats_keys_near_quota(void **state)
{
	struct fx *fx = *state;
	struct admin a = adm(fx, T);
	struct admin_stats s;
	uint64_t m = store_apikey_month((int64_t)NOW * 1000);

	add_key(fx, "below", m, 3999, 0);
	add_key(fx, "at80", m, 4000, 0);
	add_key(fx, "full", m, 5000, m);
	add_key(fx, "lastmonth", m - 1, 4500, 0);
	assert_int_equal(admin_stats(&a, &s), 0);
	assert_int_equal(s.n_keys, 2);
	assert_string_equal(s.keys[0].name, "at80");
	assert_int_equal(s.keys[0].calls, 4000);
	assert_int_equal(s.keys[0].quota, APIKEY_PER_MONTH);
	assert_string_equal(s.keys[0].state, "active");
	assert_string_equal(s.keys[1].name, "full");
	assert_string_equal(s.keys[1].state, "quota");
	admin_stats_clear(&s);
}

static void
test_stats_unknown_tenant(void **state)
{
	struct admin a = adm(*state, "nosuch");
	struct admin_stats s;

	assert_int_equal(admin_stats(&a, &s), -1);
	assert_int_equal(a.status, ADMIN_NOT_FOUND);
	assert_null(s.reasons);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats_days_tokyo),
		cmocka_unit_test(test_stats_days_utc),
		cmocka_unit_test(test_stats_days_dst),
		cmocka_unit_test(test_stats_reasons),
		cmocka_unit_test(test_stats_reasons_capped),
		cmocka_unit_test(test_stats_stops_at_edge),
		cmocka_unit_test(test_stats_certs_by_month),
		cmocka_unit_test(test_stats_keys_near_quota),
		cmocka_unit_test(test_stats_unknown_tenant),
	};

	return cmocka_run_group_tests(tests, setup_stats, teardown_stats);
}
