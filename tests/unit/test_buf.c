/*
 * Unit tests for lib/buf.c: capped growable buffers.  An append that would pass the maximum
 * fails and leaves the buffer exactly as it was; data stays NUL-terminated.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void
test_buf_append_grows(void **state)
{
	struct buf b;
	char chunk[100];

	memset(chunk, 'x', sizeof(chunk));
	buf_init(&b, 0);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(buf_append(&b, chunk, sizeof(chunk)), 0);
	assert_int_equal(b.len, 10000);
	assert_true(b.cap > b.len);
	assert_int_equal(b.data[b.len], '\0');
	for (size_t i = 0; i < b.len; i++)
		assert_int_equal(b.data[i], 'x');
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void
test_buf_helpers(void **state)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "abc"), 0);
	assert_int_equal(buf_putc(&b, '-'), 0);
	assert_int_equal(buf_printf(&b, "%d:%s", 42, "z"), 0);
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_string_equal(b.data, "abc-42:z");
	assert_int_equal(b.len, 8);
	buf_free(&b);
}

static void
test_buf_cap_enforced(void **state)
{
	static const struct {
		size_t max, first, second;
		int ok;
	} cases[] = {
		{ 10, 10, 0, 1 },
		{ 10, 9, 1, 1 },
		{ 10, 10, 1, 0 },
		{ 10, 5, 6, 0 },
		{ 10, 0, 11, 0 },
		{ 1, 1, 0, 1 },
		{ 1, 0, 2, 0 },
		{ 300, 256, 44, 1 },
		{ 300, 256, 45, 0 },
		{ 300, 0, SIZE_MAX / 2, 0 },
		{ 300, 10, SIZE_MAX - 5, 0 },
	};
	char data[512];

	memset(data, 'a', sizeof(data));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b;
		char *before;
		size_t len, cap;

		buf_init(&b, cases[i].max);
		assert_int_equal(buf_append(&b, data, cases[i].first), 0);
		before = b.data ? strdup(b.data) : NULL;
		len = b.len;
		cap = b.cap;
		/* Lengths beyond sizeof(data) must be refused before anything is read. */
		assert_int_equal(buf_append(&b, data, cases[i].second), cases[i].ok ? 0 : -1);
		if (cases[i].ok) {
			assert_int_equal(b.len, cases[i].first + cases[i].second);
		} else {
			assert_int_equal(b.len, len);
			assert_int_equal(b.cap, cap);
			if (before)
				assert_string_equal(b.data, before);
		}
		assert_true(b.len <= cases[i].max);
		free(before);
		buf_free(&b);
	}
}

static void
test_buf_cap_unchanged_on_failure(void **state)
{
	struct buf b;

	buf_init(&b, 8);
	assert_int_equal(buf_puts(&b, "12345"), 0);
	assert_int_equal(buf_puts(&b, "6789"), -1);
	assert_string_equal(b.data, "12345");
	assert_int_equal(b.len, 5);
	assert_int_equal(buf_printf(&b, "%s", "abcd"), -1);
	assert_string_equal(b.data, "12345");
	assert_int_equal(b.len, 5);
	assert_int_equal(buf_printf(&b, "%d", 678), 0);
	assert_string_equal(b.data, "12345678");
	assert_int_equal(buf_putc(&b, '9'), -1);
	assert_string_equal(b.data, "12345678");
	assert_int_equal(b.len, 8);
	/* The allocation never exceeds max + 1 for the NUL. */
	assert_true(b.cap <= 9);
	buf_free(&b);
}

static void
test_buf_steal(void **state)
{
	struct buf b;
	size_t n = 99;
	char *s;

	buf_init(&b, 0);
	s = buf_steal(&b, &n);
	assert_string_equal(s, "");
	assert_int_equal(n, 0);
	free(s);

	buf_puts(&b, "hello");
	s = buf_steal(&b, &n);
	assert_string_equal(s, "hello");
	assert_int_equal(n, 5);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	free(s);
	/* The buffer is usable again after a steal. */
	buf_puts(&b, "again");
	s = buf_steal(&b, NULL);
	assert_string_equal(s, "again");
	free(s);
}

static void
test_buf_reset(void **state)
{
	struct buf b;

	buf_init(&b, 16);
	buf_puts(&b, "secret");
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	/* Reset wipes the old contents, not only the length. */
	assert_int_equal(memchr(b.data, 's', 6) == NULL, 1);
	/* The maximum still applies after a reset. */
	assert_int_equal(buf_puts(&b, "0123456789abcdef"), 0);
	assert_int_equal(buf_putc(&b, 'x'), -1);
	buf_free(&b);
	/* Reset and free of an empty buffer are safe. */
	buf_init(&b, 0);
	buf_reset(&b);
	buf_free(&b);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_append_grows),
		cmocka_unit_test(test_buf_helpers),
		cmocka_unit_test(test_buf_cap_enforced),
		cmocka_unit_test(test_buf_cap_unchanged_on_failure),
		cmocka_unit_test(test_buf_steal),
		cmocka_unit_test(test_buf_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
