/*
 * Unit tests for lib/form.c: query-string and form-body parsing.  Ambiguous input (a name
 * given twice, also when only its encoding differs), bad escapes, NUL bytes and more than
 * FORM_MAX_FIELDS fields are refused; raw values point into the input as received.
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

#include "buf.h"
#include "form.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
test_form_parse_basic(void **state)
{
	static const struct {
		const char *in;
		size_t n;
		const char *name[3], *value[3];
	} cases[] = {
		{ "", 0, { NULL }, { NULL } },
		{ "a=1", 1, { "a" }, { "1" } },
		{ "a=1&b=2", 2, { "a", "b" }, { "1", "2" } },
		{ "a=b=c", 1, { "a" }, { "b=c" } },
		{ "a", 1, { "a" }, { "" } },
		{ "a=", 1, { "a" }, { "" } },
		{ "=x", 1, { "" }, { "x" } },
		{ "xy=a+b%20c", 1, { "xy" }, { "a b c" } },
		{ "SAMLRequest=abc%2B%2F%3D&RelayState=r%26s", 2, { "SAMLRequest", "RelayState" },
		    { "abc+/=", "r&s" } },
		{ "k=%E9%96%A2%E6%89%80", 1, { "k" }, { "\xe9\x96\xa2\xe6\x89\x80" } },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct form fm;
		const char *err = NULL;

		assert_int_equal(form_parse(&fm, cases[i].in, strlen(cases[i].in), &err), 0);
		assert_null(err);
		assert_int_equal(fm.n, cases[i].n);
		for (size_t j = 0; j < cases[i].n; j++) {
			assert_string_equal(fm.f[j].name, cases[i].name[j]);
			assert_string_equal(fm.f[j].value, cases[i].value[j]);
			assert_string_equal(form_get(&fm, cases[i].name[j]), cases[i].value[j]);
		}
		form_free(&fm);
		assert_int_equal(fm.n, 0);
	}
}

static void
test_form_empty_pairs_skipped(void **state)
{
	static const char *const in[] = { "a=1&&b=2", "&a=1&b=2", "a=1&b=2&", "&&&a=1&&&b=2&&&" };

	for (size_t i = 0; i < NELEM(in); i++) {
		struct form fm;
		const char *err;

		assert_int_equal(form_parse(&fm, in[i], strlen(in[i]), &err), 0);
		assert_int_equal(fm.n, 2);
		assert_string_equal(form_get(&fm, "a"), "1");
		assert_string_equal(form_get(&fm, "b"), "2");
		form_free(&fm);
	}
	{
		struct form fm;
		const char *err;

		assert_int_equal(form_parse(&fm, "&&&", 3, &err), 0);
		assert_int_equal(fm.n, 0);
		form_free(&fm);
	}
}

static void
test_form_duplicate_refused(void **state)
{
	static const char *const in[] = {
		"a=1&a=2",
		"a=1&a=1",
		"a=1&b=2&a=3",
		"a&a",
		"=1&=2",
		"SAMLRequest=x&RelayState=y&SAMLRequest=z",
	};

	for (size_t i = 0; i < NELEM(in); i++) {
		struct form fm;
		const char *err = NULL;

		assert_int_equal(form_parse(&fm, in[i], strlen(in[i]), &err), -1);
		assert_string_equal(err, "duplicated parameter");
		form_free(&fm);
	}
}

static void
test_form_bad_escapes_refused(void **state)
{
	static const char *const in[] = {
		"a=%zz", "a=%2", "a=%", "a=%00", "a=1&b=%G0", "a=x%",
	};

	for (size_t i = 0; i < NELEM(in); i++) {
		struct form fm;
		const char *err = NULL;

		assert_int_equal(form_parse(&fm, in[i], strlen(in[i]), &err), -1);
		assert_string_equal(err, "malformed parameter encoding");
		form_free(&fm);
	}
}

/* A name has one spelling: percent-encoded or '+' names are refused outright. */
static void
test_form_encoded_names_refused(void **state)
{
	static const char *const in[] = {
		"a=1&%61=2", "a+b=1&a%20b=2", "SAML%52equest=x", "%=1", "a%2=1", "a%00=1", "x+y=1",
		"RelayState=r&Sig%41lg=x",
	};

	for (size_t i = 0; i < NELEM(in); i++) {
		struct form fm;
		const char *err = NULL;

		assert_int_equal(form_parse(&fm, in[i], strlen(in[i]), &err), -1);
		assert_string_equal(err, "encoded parameter name");
		form_free(&fm);
	}
}

static void
test_form_raw_nul_refused(void **state)
{
	struct form fm;
	const char *err = NULL;

	assert_int_equal(form_parse(&fm, "a=1\0&b=2", 8, &err), -1);
	assert_non_null(err);
	form_free(&fm);
	assert_int_equal(form_parse(&fm, "a\0b=1", 5, &err), -1);
	form_free(&fm);
}

static void
test_form_too_many_fields(void **state)
{
	struct buf b;
	struct form fm;
	const char *err = NULL;

	buf_init(&b, 0);
	for (int i = 0; i < FORM_MAX_FIELDS; i++)
		buf_printf(&b, "%sk%d=v%d", i ? "&" : "", i, i);
	assert_int_equal(form_parse(&fm, b.data, b.len, &err), 0);
	assert_int_equal(fm.n, FORM_MAX_FIELDS);
	assert_string_equal(form_get(&fm, "k63"), "v63");
	form_free(&fm);

	/* Empty pairs do not count towards the limit. */
	buf_puts(&b, "&&&&");
	assert_int_equal(form_parse(&fm, b.data, b.len, &err), 0);
	form_free(&fm);

	buf_puts(&b, "&one=more");
	assert_int_equal(form_parse(&fm, b.data, b.len, &err), -1);
	assert_string_equal(err, "too many parameters");
	/* What was parsed before the error is released by form_free (valgrind checks). */
	form_free(&fm);
	buf_free(&b);
}

static void
test_form_raw_values(void **state)
{
	static const char in[] = "SAMLRequest=a%2Bb+c&Signature=&flag&RelayState=%7E";
	const struct form_field *f;
	struct form fm;
	const char *err;

	assert_int_equal(form_parse(&fm, in, strlen(in), &err), 0);
	f = form_get_field(&fm, "SAMLRequest");
	assert_non_null(f);
	assert_string_equal(f->value, "a+b c");
	assert_ptr_equal(f->raw, in + strlen("SAMLRequest="));
	assert_int_equal(f->rawlen, strlen("a%2Bb+c"));
	assert_memory_equal(f->raw, "a%2Bb+c", f->rawlen);

	f = form_get_field(&fm, "Signature");
	assert_non_null(f);
	assert_string_equal(f->value, "");
	assert_int_equal(f->rawlen, 0);
	assert_ptr_equal(f->raw, strstr(in, "&flag"));

	f = form_get_field(&fm, "flag");
	assert_non_null(f);
	assert_string_equal(f->value, "");
	assert_int_equal(f->rawlen, 0);

	f = form_get_field(&fm, "RelayState");
	assert_non_null(f);
	assert_string_equal(f->value, "~");
	assert_memory_equal(f->raw, "%7E", 3);
	assert_int_equal(f->rawlen, 3);
	assert_ptr_equal(f->raw + f->rawlen, in + strlen(in));
	form_free(&fm);
}

static void
test_form_lookup_exact(void **state)
{
	struct form fm;
	const char *err;

	assert_int_equal(form_parse(&fm, "Name=1&name2=2", 14, &err), 0);
	assert_null(form_get(&fm, "name"));
	assert_null(form_get(&fm, "Nam"));
	assert_null(form_get(&fm, "Name "));
	assert_null(form_get_field(&fm, "missing"));
	assert_string_equal(form_get(&fm, "Name"), "1");
	form_free(&fm);
}

static void
test_form_length_bounds_input(void **state)
{
	/* Only s[0..len) is parsed: bytes past len are not part of the form. */
	static const char in[] = "a=1&b=2";
	struct form fm;
	const char *err;

	assert_int_equal(form_parse(&fm, in, 3, &err), 0);
	assert_int_equal(fm.n, 1);
	assert_string_equal(form_get(&fm, "a"), "1");
	assert_null(form_get(&fm, "b"));
	form_free(&fm);
	assert_int_equal(form_parse(&fm, in, 2, &err), 0);
	assert_string_equal(form_get(&fm, "a"), "");
	form_free(&fm);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_form_parse_basic),
		cmocka_unit_test(test_form_empty_pairs_skipped),
		cmocka_unit_test(test_form_duplicate_refused),
		cmocka_unit_test(test_form_bad_escapes_refused),
		cmocka_unit_test(test_form_encoded_names_refused),
		cmocka_unit_test(test_form_raw_nul_refused),
		cmocka_unit_test(test_form_too_many_fields),
		cmocka_unit_test(test_form_raw_values),
		cmocka_unit_test(test_form_lookup_exact),
		cmocka_unit_test(test_form_length_bounds_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
