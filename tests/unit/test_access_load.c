/*
 * Unit tests for policies/access_load.c on a real LMDB store: the rule set it builds has
 * the tenant's zone and default, the rules in the store's order, the assignments and the
 * device-required shorthand, so decisions come out as the store's records say.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "access_load.h"
#include "rules.h"
#include "store.h"
#include "xmalloc.h"

#include "store_fixture.h"

#define NOON_JST 1775444400	/* 2026-04-06T12:00:00+09:00, a Monday (03:00 UTC) */
#define LATER (NOON_JST + 3600)

static void
add_rule(struct fx *fx, const char *name, const char *effect, const char *groups,
    const char *apps, const char *not_from, const char *hours)
{
	struct rule_rec r = { .name = (char *)name, .effect = (char *)effect,
		.group_names = (char *)groups, .app_names = (char *)apps,
		.not_from = (char *)not_from, .hours = (char *)hours };
	char err[STORE_ERR_MAX] = "";

	if (store_rule_add(fx->st, T, &r, NULL, NULL, err) != 0)
		print_error("rule %s: %s\n", name, err);
	assert_string_equal(err, "");
}

static void
add_objects(struct fx *fx)
{
	struct tenant t = { .id = T, .name = T, .created = T0 };
	const char *err = NULL;

	assert_int_equal(store_tenant_add(fx->st, &t, &err), 0);
	add_user(fx, T, "alice", NULL);
	add_user(fx, T, "bob", NULL);
	assert_int_equal(store_group_add(fx->st, T, "staff", NULL, &err), 0);
	assert_int_equal(store_member_add(fx->st, T, "staff", "alice", NULL, &err), 0);
	for (const char *const *n = (const char *const[]){ "crm", "wiki", NULL }; *n; n++) {
		char *entity = xasprintf("https://%s/sp", *n);
		struct app a = { .name = (char *)*n, .type = "saml", .entity_id = entity };

		assert_int_equal(store_app_add(fx->st, T, &a, NULL, &err), 0);
		free(entity);
	}
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

struct request {
	const char *user;
	const char *app;
	const char *ip;
	int64_t now;
	int deny;
	const char *rule;
	unsigned requires;
};

static void
check(struct fx *fx, const struct ruleset *rs, const struct request *rq)
{
	char *user = user_id(fx, T, rq->user), *app = rq->app ? app_id(fx, rq->app) : NULL;
	char **groups = NULL;
	struct rule_query q = { .user = user, .app = app, .ip = rq->ip, .now = rq->now };
	struct rule_decision d;

	assert_int_equal(store_user_group_ids(fx->st, T, user, &groups), 0);
	q.groups = groups;
	ruleset_evaluate(rs, &q, &d);
	if (d.deny != rq->deny || strcmp(d.rule, rq->rule) || d.requires != rq->requires)
		print_error("%s %s %s: deny %d rule %s requires %u\n", rq->user,
		    rq->app ? rq->app : "-", rq->ip, d.deny, d.rule, d.requires);
	assert_int_equal(d.deny, rq->deny);
	assert_string_equal(d.rule, rq->rule);
	assert_int_equal(d.requires, rq->requires);
	store_strv_free(groups);
	free(user);
	free(app);
}

static void
test_access_load_decides_as_stored(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	struct ruleset *rs;
	static const struct request cases[] = {
		{ "alice", "crm", "192.0.2.1", LATER, 1, "office", 0 },
		{ "alice", "crm", "10.0.0.1", LATER, 0, "staff", 0 },
		{ "bob", "crm", "10.0.0.1", LATER, 1, "default", RULE_NEEDS_DEVICE },
		{ "bob", "wiki", "10.0.0.1", LATER, 1, "not-assigned", 0 },
		{ "alice", "wiki", "10.0.0.1", LATER, 0, "staff", 0 },
		/* 03:00-04:00 in UTC, the tenant's zone: noon in Tokyo is 03:00 there. */
		{ "alice", NULL, "10.0.0.1", NOON_JST, 1, "early", 0 },
		{ "alice", NULL, "10.0.0.1", LATER, 0, "staff", 0 },
	};

	assert_null(access_load(fx->st, T, &err));
	assert_string_equal(err, "no such tenant");
	add_objects(fx);
	add_rule(fx, "office", "deny", NULL, "crm", "10.0.0.0/8", NULL);
	add_rule(fx, "early", "deny", NULL, NULL, NULL, "03:00-04:00");
	add_rule(fx, "staff", "allow", "staff", NULL, NULL, NULL);
	assert_int_equal(store_assign(fx->st, T, "wiki", "group", "staff", 1, NULL, &err), 1);
	set_policy(fx, "user", "bob", "on");
	assert_int_equal(store_tenant_set(fx->st, T, "UTC", "deny", NULL, &err), 1);
	rs = access_load(fx->st, T, &err);
	assert_non_null(rs);
	for (size_t i = 0; i < NELEM(cases); i++)
		check(fx, rs, &cases[i]);
	assert_int_equal(ruleset_app_assigned(rs, "nosuch"), 0);
	ruleset_free(rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_access_load_decides_as_stored, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
