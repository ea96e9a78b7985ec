/*
 * Unit tests for policies/store_erase.c on a real LMDB environment: a tenant's erasure
 * takes every record under its prefix and no record of a tenant whose id merely begins
 * with it, is recorded in the operator's audit trail, refuses an unknown tenant without
 * writing, and a tenant made again with the id starts above the erased generation.
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
#include "store.h"

#include "store_fixture.h"

#define OTHER T "x"	/* "acmex": its keys begin with "acme" too */

/* Two tenants with users, a group and a session each. */
static void
two_tenants(struct fx *fx)
{
	const char *err = NULL;

	fx_add_tenant(fx, T);
	fx_add_tenant(fx, OTHER);
	add_user(fx, T, "alice", "alice@acme.example");
	add_user(fx, OTHER, "alice", "alice@acmex.example");
	assert_int_equal(store_group_add(fx->st, T, "staff", NULL, &err), 0);
	assert_int_equal(store_group_add(fx->st, OTHER, "staff", NULL, &err), 0);
	add_session(fx, "cookie-1", "alice", T0, T0 + 3600);
}

static void
test_store_erase_its_prefix_only(void **state)
{
	struct fx *fx = *state;
	struct audit_entry ae;
	struct user u = { 0 };
	const char *err = NULL;
	uint64_t n = 0;
	char *text;

	two_tenants(fx);
	audit_entry_make(&ae, "operator.tenant.erase", "tenant", T, NULL);
	assert_int_equal(store_tenant_erase(fx->st, T, &ae, &n, &err), 1);
	assert_true(n >= 6);	/* tenant, user + 2 indexes, group + index, ... */
	assert_int_equal(store_user_get(fx->st, T, "alice", &u), 0);
	assert_int_equal(store_user_get(fx->st, OTHER, "alice", &u), 1);
	store_user_clear(&u);
	assert_int_equal(raw_count(fx, "users"), 1);
	assert_int_equal(raw_count(fx, "groups"), 1);
	assert_int_equal(raw_count(fx, "tenants"), 1);
	assert_int_equal(fx_generation(fx, T), 0);
	text = fx_audit_text(fx, STORE_OPERATOR);
	assert_non_null(strstr(text, "operator.tenant.erase tenant=acme records="));
	free(text);
	text = fx_audit_text(fx, T);
	assert_string_equal(text, "");
	free(text);
}

static void
test_store_erase_unknown(void **state)
{
	struct fx *fx = *state;
	struct audit_entry ae;
	const char *err = NULL;
	uint64_t n = 9;
	char *text;

	fx_add_tenant(fx, OTHER);
	audit_entry_make(&ae, "operator.tenant.erase", "tenant", T, NULL);
	assert_int_equal(store_tenant_erase(fx->st, T, &ae, &n, &err), 0);
	assert_string_equal(err, "no such tenant");
	assert_int_equal(n, 0);
	assert_int_equal(store_tenant_erase(fx->st, STORE_OPERATOR, &ae, &n, &err), 0);
	text = fx_audit_text(fx, STORE_OPERATOR);
	assert_string_equal(text, "");
	free(text);
	assert_int_equal(raw_count(fx, "tenants"), 1);
}

static void
test_store_erase_generation_floor(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	uint64_t old;

	two_tenants(fx);
	assert_int_equal(store_tenant_set(fx->st, T, "Europe/Paris", NULL, NULL, &err), 1);
	assert_int_equal(store_tenant_set(fx->st, T, "Asia/Tokyo", NULL, NULL, &err), 1);
	old = fx_generation(fx, T);
	assert_true(old >= 2);
	assert_int_equal(store_tenant_erase(fx->st, T, NULL, NULL, &err), 1);
	fx_add_tenant(fx, T);
	assert_true(fx_generation(fx, T) > old);
	/* every new tenant starts above the floor: none can be taken for the erased one */
	fx_add_tenant(fx, "fresh");
	assert_true(fx_generation(fx, "fresh") > old);
	assert_int_equal(fx_generation(fx, OTHER), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		TEST(test_store_erase_its_prefix_only),
		TEST(test_store_erase_unknown),
		TEST(test_store_erase_generation_floor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
