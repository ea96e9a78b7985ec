/*
 * Unit tests for lib/html.c: escaping for HTML text and quoted attributes.  The five
 * characters that can end a text node or an attribute value are always replaced.
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
#include "html.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
test_html_escape_table(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "" },
		{ "plain text 123", "plain text 123" },
		{ "&", "&amp;" },
		{ "<", "&lt;" },
		{ ">", "&gt;" },
		{ "\"", "&quot;" },
		{ "'", "&#39;" },
		{ "<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" },
		{ "\" onmouseover=\"x", "&quot; onmouseover=&quot;x" },
		{ "' autofocus onfocus='x", "&#39; autofocus onfocus=&#39;x" },
		{ "&lt;", "&amp;lt;" },	/* already-escaped text is escaped again */
		{ "a&&b", "a&amp;&amp;b" },
		{ "\xe9\x96\xa2\xe6\x89\x80", "\xe9\x96\xa2\xe6\x89\x80" },
		{ "`=/", "`=/" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		char *s = html_escape_str(cases[i].in);
		struct buf b;

		assert_string_equal(s, cases[i].out);
		free(s);
		buf_init(&b, 0);
		buf_puts(&b, "pre:");
		assert_int_equal(html_escape(&b, cases[i].in), 0);
		assert_string_equal(b.data + 4, cases[i].out);
		buf_free(&b);
	}
}

static void
test_html_escape_no_specials_survive(void **state)
{
	char in[256];
	char *s;

	for (int i = 1; i < 256; i++)
		in[i - 1] = (char)i;
	in[255] = '\0';
	s = html_escape_str(in);
	assert_null(strchr(s, '<'));
	assert_null(strchr(s, '>'));
	assert_null(strchr(s, '"'));
	assert_null(strchr(s, '\''));
	/* Every '&' left starts one of our entities. */
	for (const char *p = strchr(s, '&'); p; p = strchr(p + 1, '&'))
		assert_true(!strncmp(p, "&amp;", 5) || !strncmp(p, "&lt;", 4) ||
		    !strncmp(p, "&gt;", 4) || !strncmp(p, "&quot;", 6) || !strncmp(p, "&#39;", 5));
	free(s);
}

static void
test_html_escape_capped(void **state)
{
	struct buf b;

	buf_init(&b, 8);
	assert_int_equal(html_escape(&b, "<<"), 0);	/* 8 bytes: fits exactly */
	assert_string_equal(b.data, "&lt;&lt;");
	assert_int_equal(html_escape(&b, "x"), -1);
	buf_free(&b);
	/* An entity is never cut in half at the cap. */
	buf_init(&b, 5);
	assert_int_equal(html_escape(&b, "a&"), -1);
	assert_string_equal(b.data, "a");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html_escape_table),
		cmocka_unit_test(test_html_escape_no_specials_survive),
		cmocka_unit_test(test_html_escape_capped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
