/*
 * Unit tests for admin/role.c: role names both ways, and the rights of each role (the
 * helpdesk helps people and never changes the tenant's configuration).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "admin_role.h"

static void
test_role_names(void **state)
{
	enum admin_role r = ADMIN_ROLE_USER;

	(void)state;
	assert_int_equal(admin_role_parse("admin", &r), 0);
	assert_int_equal(r, ADMIN_ROLE_ADMIN);
	assert_int_equal(admin_role_parse("helpdesk", &r), 0);
	assert_int_equal(r, ADMIN_ROLE_HELPDESK);
	assert_int_equal(admin_role_parse("user", &r), 0);
	assert_int_equal(r, ADMIN_ROLE_USER);
	assert_int_equal(admin_role_parse("Admin", &r), -1);
	assert_int_equal(admin_role_parse("root", &r), -1);
	assert_int_equal(admin_role_parse("", &r), -1);
	assert_int_equal(admin_role_parse(NULL, &r), -1);
	assert_string_equal(admin_role_name(ADMIN_ROLE_ADMIN), "admin");
	assert_string_equal(admin_role_name(ADMIN_ROLE_HELPDESK), "helpdesk");
	assert_string_equal(admin_role_name(0), "user");
	assert_string_equal(admin_role_name(77), "user");
}

static void
test_role_rights(void **state)
{
	(void)state;
	for (int w = ADMIN_RIGHT_CONSOLE; w <= ADMIN_RIGHT_MANAGE; w++) {
		assert_true(admin_role_allows(ADMIN_ROLE_ADMIN, (enum admin_right)w));
		assert_false(admin_role_allows(ADMIN_ROLE_USER, (enum admin_right)w));
		assert_false(admin_role_allows(77, (enum admin_right)w));
		assert_int_equal(admin_role_allows(ADMIN_ROLE_HELPDESK, (enum admin_right)w),
		    w != ADMIN_RIGHT_MANAGE);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_role_names),
		cmocka_unit_test(test_role_rights),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
