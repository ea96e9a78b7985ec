/*
 * Unit tests for lib/natcmp.c: numbers by value in ASCII and full-width digits, leading
 * zeros, case, prefixes, and a total order (sorting a list gives what people expect).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "natcmp.h"

static int
sign(int x)
{
	return x < 0 ? -1 : x > 0;
}

static void
test_natcmp_numbers(void **state)
{
	(void)state;
	assert_true(natcmp("業務ツール第2号", "業務ツール第10号") < 0);
	assert_true(natcmp("tool9", "tool10") < 0);
	assert_true(natcmp("tool10", "tool9") > 0);
	assert_true(natcmp("第２号", "第１０号") < 0);	/* full-width digits */
	assert_true(natcmp("第２号", "第10号") < 0);
	assert_true(natcmp("a007", "a7") != 0 && sign(natcmp("a007", "a7")) ==
	    -sign(natcmp("a7", "a007")));
	assert_true(natcmp("a007", "a8") < 0);
	assert_true(natcmp("a0", "a00") != 0);
	assert_true(natcmp("v1.10", "v1.9") > 0);
	assert_true(natcmp("x99999999999999999999", "x100000000000000000000") < 0);
}

static void
test_natcmp_text(void **state)
{
	(void)state;
	assert_int_equal(natcmp("", ""), 0);
	assert_int_equal(natcmp("Wiki", "Wiki"), 0);
	assert_true(natcmp("", "a") < 0);
	assert_true(natcmp("abc", "ab") > 0);
	assert_true(natcmp("apple", "Banana") < 0);	/* case ignored */
	assert_true(natcmp("Wiki", "wiki") != 0);	/* but a total order */
	assert_true(natcmp("経費精算", "勤怠管理") != 0);
}

static int
cmp(const void *a, const void *b)
{
	return natcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_natcmp_sort(void **state)
{
	const char *v[] = { "tool10", "Tool2", "tool1", "tool02", "業務ツール第10号",
		"業務ツール第2号", "wiki" };
	const char *want[] = { "tool1", "Tool2", "tool02", "tool10", "wiki",
		"業務ツール第2号", "業務ツール第10号" };

	(void)state;
	qsort(v, 7, sizeof(v[0]), cmp);
	for (size_t i = 0; i < 7; i++)
		assert_string_equal(v[i], want[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_natcmp_numbers),
		cmocka_unit_test(test_natcmp_text),
		cmocka_unit_test(test_natcmp_sort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
