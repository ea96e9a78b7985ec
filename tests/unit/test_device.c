/*
 * Unit tests for the device decisions: the precedence of the device-required shorthand
 * settings as the rule set applies them (app on, then user, then groups with on winning,
 * then tenant), which certificate recorded in a session still counts (device_checked, on a
 * real store with certificates issued by a real tenant CA at chosen times), and the
 * binding of a device check to the browser that began it.
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

#include "ca.h"
#include "clock.h"
#include "crypto.h"
#include "device.h"
#include "encode.h"
#include "pki_fixture.h"
#include "rules.h"
#include "store.h"
#include "xmalloc.h"

#include "store_fixture.h"

/* ---- device_required: a table of settings, a user, groups and an app ---- */

#include "device_cases.h"

static struct tenant_app crm_app = { "crm", "crm", "oidc", "crm-client", "crm", NULL, 0 };

/*
 * A tenant with these settings: "tenant=on" or "KIND:ID=on|off" (policies name users,
 * groups and apps by their immutable ids; here the ids are short words), and one app,
 * crm, whose id is "crm".
 */
static void
tenant_pols(struct tenant_ctx *t, const char *const *pols)
{
	const char *err;

	memset(t, 0, sizeof(*t));
	t->id = T;
	t->apps = &crm_app;
	t->napps = 1;
	assert_non_null(t->rules = ruleset_new(NULL, 0, &err));
	for (size_t i = 0; i < MAXPOL && pols[i]; i++) {
		const char *p = pols[i], *eq = strchr(p, '='), *colon = strchr(p, ':');
		char *kind, *target;
		if (colon == NULL || colon > eq)
			colon = eq;
		kind = xstrndup(p, (size_t)(colon - p));
		target = colon < eq ? xstrndup(colon + 1, (size_t)(eq - colon - 1)) : xstrdup("");
		ruleset_shorthand(t->rules, kind, target, !strcmp(eq + 1, "on"));
		free(kind);
		free(target);
	}
}

static void
tenant_pols_free(struct tenant_ctx *t)
{
	ruleset_free(t->rules);
}

/* Whether the rule set asks user (in groups) for a device for app. */
static int
device_required(const struct tenant_ctx *t, const char *user, char *const *groups,
    const char *app)
{
	struct rule_query q = { .user = user, .groups = groups, .app = app, .ip = "192.0.2.1",
		.now = 1900000000 };
	struct rule_decision d;

	ruleset_evaluate(t->rules, &q, &d);
	assert_int_equal(d.deny, 0);
	return (d.requires & RULE_NEEDS_DEVICE) != 0;
}

static void
test_device_required_precedence(void **state)
{
	int failed = 0;

	for (size_t i = 0; i < NELEM(req_cases); i++) {
		const struct req_case *c = &req_cases[i];
		struct tenant_ctx t;
		int got;

		tenant_pols(&t, c->pols);
		got = device_required(&t, c->user, (char *const *)c->groups, c->app);
		if (got != c->want) {
			print_error("%s: got %d, want %d\n", c->name, got, c->want);
			failed++;
		}
		tenant_pols_free(&t);
	}
	assert_int_equal(failed, 0);
}

static void
test_device_required_no_groups(void **state)
{
	const char *pols[] = { "group:staff=on", NULL };
	struct tenant_ctx t;

	/* A user whose groups were not read (NULL) is in none. */
	tenant_pols(&t, pols);
	assert_int_equal(device_required(&t, "alice", NULL, "crm"), 0);
	tenant_pols_free(&t);
}

/* ---- device_checked: the certificate a session recorded ---- */

#define YEAR (365 * 86400)

static struct {
	char *ca_key, *ca_cert;
	EVP_PKEY *dev;		/* the device's key */
	struct ca *ca;
	int64_t t0;		/* when the certificates are issued */
} g;

static int
group_setup(void **state)
{
	const char *err = NULL;

	assert_int_equal(ca_create(PKI_P256, T, "Acme K.K.", &g.ca_key, &g.ca_cert, &err), 0);
	assert_non_null(g.ca = ca_load(g.ca_key, g.ca_cert, &err));
	assert_non_null(g.dev = ca_device_key(&err));
	/* ca_create's CA is valid 20 years from now. */
	g.t0 = utc(2030, 6, 1, 12, 0, 0);
	return 0;
}

static int
group_teardown(void **state)
{
	ca_free(g.ca);
	freezero_str(g.ca_key);
	EVP_PKEY_free(g.dev);
	free(g.ca_cert);
	clock_set_fixed(0);
	return 0;
}

/* Issue a certificate to user (whose immutable id is user_id) at g.t0 and record it. */
static void
issue(struct fx *fx, const char *user, const char *user_id, struct ca_issued *is)
{
	const char *err = NULL;
	struct devcert c = { 0 };

	if (ca_issue(g.ca, g.dev, T, user, "laptop", g.t0, is, &err) != 0)
		fail_msg("ca_issue: %s", err);
	c.serial = is->serial;
	c.user = (char *)user;
	c.user_id = (char *)user_id;
	c.label = "laptop";
	c.fingerprint = is->fingerprint;
	c.issued = (uint64_t)g.t0;
	c.not_before = (uint64_t)is->not_before;
	c.not_after = (uint64_t)is->not_after;
	c.der = is->der;
	c.der_len = is->der_len;
	if (store_cert_add(fx->st, T, &c, g.t0, STORE_CERT_CAP, NULL, &err) != 0)
		fail_msg("store_cert_add: %s", err);
}

/* A session of user (name, id) that recorded the certificate serial (or none). */
static void
session_of(struct sso_session *ss, const char *name, const char *id, const char *serial)
{
	memset(ss, 0, sizeof(*ss));
	ss->user.name = (char *)name;
	ss->user.id = (char *)id;
	ss->s.user = (char *)name;
	ss->s.device = (char *)serial;
}

/*
 * The serial device_checked finds still valid in ss at now, or NULL; with needed, whether
 * the rule set asks the session's user for a device for app "crm" (groups from the store).
 */
static const char *
evaluate_at(struct fx *fx, struct tenant_ctx *t, const struct sso_session *ss, int64_t now,
    int *needed)
{
	struct idp idp = { 0 };
	const char *serial;
	char **groups = NULL;

	idp.in.store = fx->st;
	clock_set_fixed(now);
	assert_int_equal(device_checked(&idp, t, ss, &serial), 0);
	clock_set_fixed(0);
	if (needed) {
		if (ruleset_uses_groups(t->rules))
			assert_true(store_user_group_ids(fx->st, T, ss->user.id, &groups) >= 0);
		*needed = device_required(t, ss->user.id, groups, "crm");
		store_strv_free(groups);
	}
	return serial;
}

struct eval_fx {
	struct fx *fx;
	struct tenant_ctx t;
	struct ca_issued alice, bob;
};

static void
eval_setup(struct eval_fx *e, struct fx *fx)
{
	const char *pols[] = { "app:crm=on", NULL };

	memset(e, 0, sizeof(*e));
	e->fx = fx;
	add_user_with_id(fx, T, "alice", "alice");
	add_user_with_id(fx, T, "bob", "bob");
	issue(fx, "alice", "alice", &e->alice);
	issue(fx, "bob", "bob", &e->bob);
	tenant_pols(&e->t, pols);
}

static void
eval_free(struct eval_fx *e)
{
	ca_issued_clear(&e->alice);
	ca_issued_clear(&e->bob);
	tenant_pols_free(&e->t);
}

static void
test_device_evaluate_valid(void **state)
{
	struct eval_fx e;
	struct sso_session ss;
	int needed = 0;
	const char *got;

	eval_setup(&e, *state);
	session_of(&ss, "alice", "alice", e.alice.serial);
	got = evaluate_at(e.fx, &e.t, &ss, g.t0 + 3600, &needed);
	assert_non_null(got);
	assert_string_equal(got, e.alice.serial);
	assert_int_equal(needed, 1);
	/* Its first and last valid seconds. */
	assert_non_null(evaluate_at(e.fx, &e.t, &ss, e.alice.not_before, NULL));
	assert_non_null(evaluate_at(e.fx, &e.t, &ss, e.alice.not_after - 1, NULL));
	/* No certificate in the session, or one the store never heard of. */
	session_of(&ss, "alice", "alice", NULL);
	assert_null(evaluate_at(e.fx, &e.t, &ss, g.t0 + 3600, NULL));
	session_of(&ss, "alice", "alice", "0123456789ABCDEF");
	assert_null(evaluate_at(e.fx, &e.t, &ss, g.t0 + 3600, NULL));
	eval_free(&e);
}

static void
test_device_evaluate_time(void **state)
{
	struct eval_fx e;
	struct sso_session ss;

	eval_setup(&e, *state);
	session_of(&ss, "alice", "alice", e.alice.serial);
	assert_null(evaluate_at(e.fx, &e.t, &ss, e.alice.not_before - 1, NULL));
	assert_null(evaluate_at(e.fx, &e.t, &ss, e.alice.not_after, NULL));
	assert_null(evaluate_at(e.fx, &e.t, &ss, e.alice.not_after + 5 * YEAR, NULL));
	eval_free(&e);
}

static void
test_device_evaluate_revoked(void **state)
{
	struct eval_fx e;
	struct sso_session ss;

	eval_setup(&e, *state);
	session_of(&ss, "alice", "alice", e.alice.serial);
	assert_int_equal(store_cert_revoke(e.fx->st, T, e.alice.serial, 1, g.t0 + 60, NULL, NULL),
	    1);
	assert_null(evaluate_at(e.fx, &e.t, &ss, g.t0 + 3600, NULL));
	eval_free(&e);
}

static void
test_device_evaluate_other_user(void **state)
{
	struct eval_fx e;
	struct sso_session ss;

	eval_setup(&e, *state);
	/* Bob's certificate recorded in alice's session. */
	session_of(&ss, "alice", "alice", e.bob.serial);
	assert_null(evaluate_at(e.fx, &e.t, &ss, g.t0 + 3600, NULL));
	/* A new alice (another immutable id) does not inherit the old one's certificate. */
	session_of(&ss, "alice", "alice-2", e.alice.serial);
	assert_null(evaluate_at(e.fx, &e.t, &ss, g.t0 + 3600, NULL));
	/* The owner is the immutable id: the name alone does not make it hers. */
	session_of(&ss, "alice", NULL, e.alice.serial);
	assert_null(evaluate_at(e.fx, &e.t, &ss, g.t0 + 3600, NULL));
	eval_free(&e);
}

static void
test_device_evaluate_groups(void **state)
{
	struct fx *fx = *state;
	const char *pols[] = { NULL, NULL };
	struct tenant_ctx t;
	struct sso_session ss;
	struct grouprec staff;
	const char *err = NULL;
	char *pol;
	int needed = -1;

	add_user_with_id(fx, T, "alice", "alice");
	add_user_with_id(fx, T, "bob", "bob");
	assert_int_equal(store_group_add(fx->st, T, "staff", NULL, &err), 0);
	assert_int_equal(store_member_add(fx->st, T, "staff", "alice", NULL, &err), 0);
	/* The policy names the group's id, as the store keeps it. */
	assert_int_equal(store_group_get(fx->st, T, "staff", &staff), 1);
	pols[0] = pol = xasprintf("group:%s=on", staff.id);
	store_group_clear(&staff);
	tenant_pols(&t, pols);
	free(pol);
	/* The groups come from the store when some group has a setting. */
	session_of(&ss, "alice", "alice", NULL);
	evaluate_at(fx, &t, &ss, g.t0, &needed);
	assert_int_equal(needed, 1);
	session_of(&ss, "bob", "bob", NULL);
	evaluate_at(fx, &t, &ss, g.t0, &needed);
	assert_int_equal(needed, 0);
	tenant_pols_free(&t);
}

/* ---- the binding of a check to the browser that began it ---- */

#define NOW 1900000000
#define COOKIE "b1nd1ngC00k1e-0123456789abcdefghijklmnopqrs"	/* base64url, 43 */
#define SESSION_HEX "5e55105e55105e55105e55105e55105e55105e55105e55105e55105e55105e55"

/* A pending record of kind whose binding is the hash of cookie. */
static char *
state_for(const char *cookie, const char *tail)
{
	unsigned char h[32];
	char hex[65];

	crypto_sha256(cookie, strlen(cookie), h);
	hex_encode(h, sizeof(h), hex);
	return xasprintf("%s %s%s", SESSION_HEX, hex, tail);
}

static void
pending_of(struct pending *p, const char *kind, char *state, int64_t expires)
{
	memset(p, 0, sizeof(*p));
	p->kind = (char *)kind;
	p->app = "parked-request-id";
	p->relay_state = "alice";
	p->state = state;
	p->created = NOW - 10;
	p->expires = (uint64_t)expires;
}

static void
test_device_binding_link(void **state)
{
	struct pending p;
	struct device_ref ref;
	char *st = state_for(COOKIE, "");

	pending_of(&p, DEVICE_KIND_LINK, st, NOW + 300);
	assert_int_equal(device_binding_check(&p, DEVICE_KIND_LINK, COOKIE, NOW, &ref), 1);
	assert_string_equal(ref.session, SESSION_HEX);
	assert_string_equal(ref.serial, "");
	/* Until its last second, not after. */
	assert_int_equal(device_binding_check(&p, DEVICE_KIND_LINK, COOKIE, NOW + 300, &ref), 1);
	assert_int_equal(device_binding_check(&p, DEVICE_KIND_LINK, COOKIE, NOW + 301, &ref), 0);
	/* Not the step asked for. */
	assert_int_equal(device_binding_check(&p, DEVICE_KIND_VERIFIED, COOKIE, NOW, &ref), 0);
	p.kind = "saml-redirect";
	assert_int_equal(device_binding_check(&p, DEVICE_KIND_LINK, COOKIE, NOW, &ref), 0);
	free(st);
}

static void
test_device_binding_other_browser(void **state)
{
	struct pending p;
	struct device_ref ref;
	char *st = state_for(COOKIE, "");
	char other[] = COOKIE;

	pending_of(&p, DEVICE_KIND_LINK, st, NOW + 300);
	other[5] = other[5] == 'A' ? 'B' : 'A';
	assert_int_equal(device_binding_check(&p, DEVICE_KIND_LINK, other, NOW, &ref), -1);
	assert_int_equal(device_binding_check(&p, DEVICE_KIND_LINK, NULL, NOW, &ref), -1);
	assert_int_equal(device_binding_check(&p, DEVICE_KIND_LINK, "", NOW, &ref), -1);
	/* Not base64url, too short, too long: never hashed and compared. */
	assert_int_equal(device_binding_check(&p, DEVICE_KIND_LINK, COOKIE ";x", NOW, &ref), -1);
	assert_int_equal(device_binding_check(&p, DEVICE_KIND_LINK, "abc", NOW, &ref), -1);
	free(st);
	/* The hash of the cookie is what is kept, not the cookie. */
	st = xasprintf("%s %064d", SESSION_HEX, 0);
	pending_of(&p, DEVICE_KIND_LINK, st, NOW + 300);
	assert_int_equal(device_binding_check(&p, DEVICE_KIND_LINK, COOKIE, NOW, &ref), -1);
	free(st);
}

static void
test_device_binding_verified(void **state)
{
	struct pending p;
	struct device_ref ref;
	char *st = state_for(COOKIE, " 4F3A9C tls"), *bare = state_for(COOKIE, "");

	pending_of(&p, DEVICE_KIND_VERIFIED, st, NOW + 60);
	assert_int_equal(device_binding_check(&p, DEVICE_KIND_VERIFIED, COOKIE, NOW, &ref), 1);
	assert_string_equal(ref.serial, "4F3A9C");
	assert_string_equal(ref.via, "tls");
	assert_int_equal(device_binding_check(&p, DEVICE_KIND_VERIFIED, COOKIE, NOW + 61, &ref),
	    0);
	/* A verified step must name its certificate; a link must not. */
	pending_of(&p, DEVICE_KIND_VERIFIED, bare, NOW + 60);
	assert_int_equal(device_binding_check(&p, DEVICE_KIND_VERIFIED, COOKIE, NOW, &ref), 0);
	pending_of(&p, DEVICE_KIND_LINK, st, NOW + 60);
	assert_int_equal(device_binding_check(&p, DEVICE_KIND_LINK, COOKIE, NOW, &ref), 0);
	free(st);
	free(bare);
}

static void
test_device_binding_malformed(void **state)
{
	static const char *bad[] = {
		NULL, "", "garbage", SESSION_HEX,
		SESSION_HEX " " SESSION_HEX " extra",
		SESSION_HEX " " SESSION_HEX "\n",
		"5E55" SESSION_HEX " " SESSION_HEX,
	};
	struct pending p;
	struct device_ref ref;
	char *st = state_for(COOKIE, "");

	for (size_t i = 0; i < NELEM(bad); i++) {
		pending_of(&p, DEVICE_KIND_LINK, (char *)bad[i], NOW + 60);
		if (device_binding_check(&p, DEVICE_KIND_LINK, COOKIE, NOW, &ref) != 0)
			fail_msg("state %zu accepted", i);
	}
	/* A record without its parked request or user is no check. */
	pending_of(&p, DEVICE_KIND_LINK, st, NOW + 60);
	p.app = NULL;
	assert_int_equal(device_binding_check(&p, DEVICE_KIND_LINK, COOKIE, NOW, &ref), 0);
	pending_of(&p, DEVICE_KIND_LINK, st, NOW + 60);
	p.relay_state = NULL;
	assert_int_equal(device_binding_check(&p, DEVICE_KIND_LINK, COOKIE, NOW, &ref), 0);
	pending_of(&p, NULL, st, NOW + 60);
	assert_int_equal(device_binding_check(&p, DEVICE_KIND_LINK, COOKIE, NOW, &ref), 0);
	free(st);
}

int
main(void)
{
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_required_precedence),
		cmocka_unit_test(test_device_required_no_groups),
		TEST(test_device_evaluate_valid),
		TEST(test_device_evaluate_time),
		TEST(test_device_evaluate_revoked),
		TEST(test_device_evaluate_other_user),
		TEST(test_device_evaluate_groups),
		cmocka_unit_test(test_device_binding_link),
		cmocka_unit_test(test_device_binding_other_browser),
		cmocka_unit_test(test_device_binding_verified),
		cmocka_unit_test(test_device_binding_malformed),
	};
#undef TEST

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
