/*
 * Unit tests for lib/contrast.c: WCAG 2 ratios of known pairs, the text colour chosen on
 * any background (never below 4.5:1), and the colour syntax.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "contrast.h"

static void
test_contrast_known(void **state)
{
	(void)state;
	assert_float_equal(contrast_ratio(0, 0xffffff), 21.0, 0.001);
	assert_float_equal(contrast_ratio(0xffffff, 0xffffff), 1.0, 0.001);
	/* #777 on white is the well-known near miss; #00aa55 is the example */
	assert_float_equal(contrast_ratio(0x777777, 0xffffff), 4.48, 0.01);
	assert_float_equal(contrast_ratio(0x00aa55, 0xffffff), 3.05, 0.01);
	assert_float_equal(contrast_ratio(0xffffff, 0x00aa55), 3.05, 0.01);
}

static void
test_contrast_text_on_any(void **state)
{
	(void)state;
	assert_int_equal(contrast_text_on(0x00aa55), 0);
	assert_int_equal(contrast_text_on(0x007755), 0xffffff);
	assert_int_equal(contrast_text_on(0xffffff), 0);
	assert_int_equal(contrast_text_on(0), 0xffffff);
	for (unsigned r = 0; r < 256; r += 15)
		for (unsigned g = 0; g < 256; g += 15)
			for (unsigned b = 0; b < 256; b += 15) {
				unsigned bg = r << 16 | g << 8 | b;
				assert_true(contrast_ratio(bg, contrast_text_on(bg)) >= 4.5);
			}
}

static void
test_contrast_parse(void **state)
{
	unsigned rgb = 1;

	(void)state;
	assert_int_equal(contrast_parse("#0a5", &rgb), 0);
	assert_int_equal(rgb, 0x00aa55);
	assert_int_equal(contrast_parse("#A0B1C2", &rgb), 0);
	assert_int_equal(rgb, 0xa0b1c2);
	assert_int_equal(contrast_parse("green", &rgb), -1);
	assert_int_equal(contrast_parse("#12", &rgb), -1);
	assert_int_equal(contrast_parse("#12345g", &rgb), -1);
	assert_int_equal(contrast_parse("#1234567", &rgb), -1);
	assert_int_equal(contrast_parse("", &rgb), -1);
	assert_int_equal(contrast_parse(NULL, &rgb), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contrast_known),
		cmocka_unit_test(test_contrast_text_on_any),
		cmocka_unit_test(test_contrast_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
