/*
 * Unit tests for lib/tmpl.c: the page template engine.  Every value and message is escaped,
 * sections (#, ^), lists (*) and partials (>) render as documented, nesting is bounded (also
 * through partials that include themselves), and syntax errors are errors, not output.
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
#include "tmpl.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *name, *text;
} partials[] = {
	{ "header", "<h1>{{title}}</h1>" },
	{ "self", "[{{>self}}]" },
	{ "item", "<li>{{name}}</li>" },
};

static int
partial_fn(const char *name, size_t nlen, const char **text_r, size_t *len_r, void *arg)
{
	int *calls = arg;

	if (calls)
		(*calls)++;
	for (size_t i = 0; i < NELEM(partials); i++)
		if (strlen(partials[i].name) == nlen && !memcmp(partials[i].name, name, nlen)) {
			*text_r = partials[i].text;
			*len_r = strlen(partials[i].text);
			return 0;
		}
	return -1;
}

/* Render text; returns 0/-1 and the output (caller frees) or the error. */
static int
render(const char *text, const struct tmpl_vars *v, const struct tmpl_msgs *msgs, char **out_r,
    const char **err_r)
{
	struct tmpl_env env = { .msgs = msgs, .partial = partial_fn, .arg = NULL };
	struct buf out;
	int rc;

	buf_init(&out, 1 << 20);
	*err_r = NULL;
	rc = tmpl_render(text, strlen(text), v, &env, &out, err_r);
	*out_r = buf_steal(&out, NULL);
	return rc;
}

static void
expect(const char *text, const struct tmpl_vars *v, const char *want)
{
	const char *err;
	char *out;
	int rc = render(text, v, NULL, &out, &err);

	if (rc != 0 || strcmp(out, want) != 0)
		print_error("template \"%s\": got \"%s\" (%s), want \"%s\"\n", text, out,
		    err ? err : "no error", want);
	assert_int_equal(rc, 0);
	assert_string_equal(out, want);
	free(out);
}

static void
expect_error(const char *text, const struct tmpl_vars *v, const char *want_err)
{
	const char *err;
	char *out;
	int rc = render(text, v, NULL, &out, &err);

	free(out);
	if (rc != -1)
		print_error("template \"%s\" should fail with \"%s\"\n", text, want_err);
	assert_int_equal(rc, -1);
	assert_non_null(err);
	assert_string_equal(err, want_err);
}

static void
test_tmpl_escapes_values(void **state)
{
	static const struct {
		const char *value, *want;
	} cases[] = {
		{ "plain", "plain" },
		{ "<script>", "&lt;script&gt;" },
		{ "a & b", "a &amp; b" },
		{ "\"quoted\"", "&quot;quoted&quot;" },
		{ "it's", "it&#39;s" },
		{ "&amp;", "&amp;amp;" },
		{ "{{name}}", "{{name}}" },	/* values are not templates */
		{ "\xe9\x96\xa2\xe6\x89\x80", "\xe9\x96\xa2\xe6\x89\x80" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct tmpl_vars *v = tmpl_vars_new();
		struct buf want;

		buf_init(&want, 0);
		buf_printf(&want, "[%s]", cases[i].want);
		tmpl_set(v, "name", cases[i].value);
		expect("[{{name}}]", v, want.data);
		buf_free(&want);
		tmpl_vars_free(v);
	}
}

static void
test_tmpl_substitution(void **state)
{
	struct tmpl_vars *v = tmpl_vars_new();

	tmpl_set(v, "a", "1");
	tmpl_set(v, "b", "<2>");
	tmpl_set(v, "a", "3");		/* replaces */
	tmpl_set(v, "c", NULL);		/* leaves unset */
	expect("x{{a}}y{{b}}z{{c}}{{missing}}", v, "x3y&lt;2&gt;z");
	expect("no tags at all", v, "no tags at all");
	expect("", v, "");
	expect("single { and } are text", v, "single { and } are text");
	tmpl_vars_free(v);
}

static void
test_tmpl_no_unescaped_form(void **state)
{
	struct tmpl_vars *v = tmpl_vars_new();
	const char *err;
	char *out;

	/* Mustache's {{{x}}} and {{&x}} are not raw output here. */
	tmpl_set(v, "x", "<b>");
	tmpl_set(v, "{x", "<b>");
	tmpl_set(v, "&x", "<b>");
	(void)render("{{{x}}} {{&x}}", v, NULL, &out, &err);
	assert_null(strstr(out, "<b>"));
	free(out);
	tmpl_vars_free(v);
}

static void
test_tmpl_markup(void **state)
{
	struct tmpl_vars *v = tmpl_vars_new();

	(void)state;
	/* Markup the code made shows as is only through {{&name}}; {{name}} still escapes. */
	tmpl_set_markup(v, "svg", "<svg/>");
	tmpl_set(v, "data", "<svg/>");
	expect("{{&svg}}|{{svg}}|{{&data}}", v, "<svg/>|&lt;svg/&gt;|&lt;svg/&gt;");
	/* Data set later under the same name loses the mark. */
	tmpl_set(v, "svg", "<i>");
	expect("{{&svg}}", v, "&lt;i&gt;");
	tmpl_vars_free(v);
}

static void
test_tmpl_sections(void **state)
{
	static const struct {
		const char *tmpl, *want;
	} cases[] = {
		{ "{{#on}}yes{{/on}}", "yes" },
		{ "{{#empty}}yes{{/empty}}", "" },
		{ "{{#unset}}yes{{/unset}}", "" },
		{ "{{^on}}no{{/on}}", "" },
		{ "{{^empty}}no{{/empty}}", "no" },
		{ "{{^unset}}no{{/unset}}", "no" },
		{ "{{#on}}[{{on}}]{{/on}}", "[1]" },
		{ "{{#on}}{{#on}}in{{/on}}out{{/on}}", "inout" },
		{ "{{#on}}a{{^on}}b{{/on}}c{{/on}}", "ac" },
		{ "{{#list}}has{{/list}}", "has" },
		{ "{{^list}}none{{/list}}", "" },
		{ "{{#unset}}{{_no_such_key}}{{/unset}}ok", "ok" },
		{ "a{{#on}}b{{/on}}c{{^on}}d{{/on}}e", "abce" },
	};
	struct tmpl_vars *v = tmpl_vars_new();

	tmpl_set(v, "on", "1");
	tmpl_set(v, "empty", "");
	tmpl_add_item(v, "list");
	for (size_t i = 0; i < NELEM(cases); i++)
		expect(cases[i].tmpl, v, cases[i].want);
	tmpl_vars_free(v);
}

static void
test_tmpl_lists(void **state)
{
	struct tmpl_vars *v = tmpl_vars_new(), *it;

	tmpl_set(v, "sep", ",");
	it = tmpl_add_item(v, "apps");
	tmpl_set(it, "name", "A&B");
	it = tmpl_add_item(v, "apps");
	tmpl_set(it, "name", "<C>");
	it = tmpl_add_item(v, "apps");
	tmpl_set(it, "name", "D");
	tmpl_set(it, "sep", ";");	/* an item's own name hides the parent's */
	/* Items see the names of the enclosing vars. */
	expect("{{*apps}}{{name}}{{sep}}{{/apps}}", v, "A&amp;B,&lt;C&gt;,D;");
	expect("{{*none}}x{{/none}}", v, "");
	expect("{{*apps}}{{#name}}n{{/name}}{{/apps}}", v, "nnn");
	expect("{{name}}", v, "");	/* item names do not leak out */
	tmpl_vars_free(v);
}

static void
test_tmpl_nested_lists(void **state)
{
	struct tmpl_vars *v = tmpl_vars_new(), *g, *u;

	g = tmpl_add_item(v, "groups");
	tmpl_set(g, "g", "admins");
	u = tmpl_add_item(g, "users");
	tmpl_set(u, "u", "alice");
	u = tmpl_add_item(g, "users");
	tmpl_set(u, "u", "bob");
	g = tmpl_add_item(v, "groups");
	tmpl_set(g, "g", "staff");
	expect("{{*groups}}{{g}}:{{*users}}{{u}}@{{g}} {{/users}};{{/groups}}", v,
	    "admins:alice@admins bob@admins ;staff:;");
	tmpl_vars_free(v);
}

static void
test_tmpl_partials(void **state)
{
	struct tmpl_vars *v = tmpl_vars_new(), *it;

	tmpl_set(v, "title", "T<1>");
	expect("{{>header}}body", v, "<h1>T&lt;1&gt;</h1>body");
	it = tmpl_add_item(v, "items");
	tmpl_set(it, "name", "x");
	expect("<ul>{{*items}}{{>item}}{{/items}}</ul>", v, "<ul><li>x</li></ul>");
	expect_error("{{>nope}}", v, "unknown partial");
	tmpl_vars_free(v);
}

static void
test_tmpl_partial_without_resolver(void **state)
{
	struct tmpl_env env = { 0 };
	struct buf out;
	const char *err = NULL;

	buf_init(&out, 0);
	assert_int_equal(tmpl_render("{{>header}}", 11, NULL, &env, &out, &err), -1);
	assert_string_equal(err, "unknown partial");
	buf_free(&out);
}

static void
test_tmpl_depth_limit(void **state)
{
	struct tmpl_vars *v = tmpl_vars_new();
	struct buf t;
	const char *err;
	char *out;

	tmpl_set(v, "a", "1");
	/* 8 nested sections render, 9 are refused. */
	for (int depth = 1; depth <= 12; depth++) {
		buf_init(&t, 0);
		for (int i = 0; i < depth; i++)
			buf_puts(&t, "{{#a}}");
		buf_puts(&t, "x");
		for (int i = 0; i < depth; i++)
			buf_puts(&t, "{{/a}}");
		if (depth <= 8) {
			expect(t.data, v, "x");
		} else {
			assert_int_equal(render(t.data, v, NULL, &out, &err), -1);
			assert_string_equal(err, "template sections nested too deeply");
			free(out);
		}
		buf_free(&t);
	}
	tmpl_vars_free(v);
}

static void
test_tmpl_recursive_partial_bounded(void **state)
{
	struct tmpl_env env = { .partial = partial_fn };
	struct buf out;
	const char *err = NULL;
	int calls = 0;

	env.arg = &calls;
	buf_init(&out, 0);
	assert_int_equal(tmpl_render("{{>self}}", 9, NULL, &env, &out, &err), -1);
	assert_string_equal(err, "template sections nested too deeply");
	assert_true(calls <= 10);
	buf_free(&out);
}

static void
test_tmpl_syntax_errors(void **state)
{
	static const struct {
		const char *tmpl, *err;
	} cases[] = {
		{ "abc {{name", "unterminated {{" },
		{ "{{", "unterminated {{" },
		{ "{{name}", "unterminated {{" },
		{ "{{#a}}x", "unclosed section" },
		{ "{{#a}}x{{/b}}", "unclosed section" },
		{ "{{#a}}{{#a}}x{{/a}}", "unclosed section" },
		{ "{{^a}}x", "unclosed section" },
		{ "{{*a}}x{{/A}}", "unclosed section" },
		{ "x{{/a}}", "unexpected {{/...}}" },
		{ "{{#a}}x{{/a}}{{/a}}", "unexpected {{/...}}" },
		{ "{{_missing}}", "unknown message key" },
	};
	struct tmpl_vars *v = tmpl_vars_new();

	tmpl_set(v, "a", "1");
	for (size_t i = 0; i < NELEM(cases); i++)
		expect_error(cases[i].tmpl, v, cases[i].err);
	tmpl_vars_free(v);
}

static void
test_tmpl_messages(void **state)
{
	static const char cat[] =
	    "# a comment\n"
	    "\n"
	    "login.title = Sign in\n"
	    "  login.warn\t=  <b>careful</b> & \"quoted\"  \r\n"
	    "empty =\n"
	    "eq = a = b\n"
	    "last=no newline";
	struct tmpl_msgs *m;
	const char *err = NULL;
	char *out;

	m = tmpl_msgs_parse(cat, strlen(cat), &err);
	assert_non_null(m);
	assert_string_equal(tmpl_msg(m, "login.title"), "Sign in");
	assert_string_equal(tmpl_msg(m, "login.warn"), "<b>careful</b> & \"quoted\"");
	assert_string_equal(tmpl_msg(m, "empty"), "");
	assert_string_equal(tmpl_msg(m, "eq"), "a = b");
	assert_string_equal(tmpl_msg(m, "last"), "no newline");
	assert_null(tmpl_msg(m, "login"));
	assert_null(tmpl_msg(m, "# a comment"));

	/* Messages are escaped like values. */
	assert_int_equal(render("{{_login.title}}: {{_login.warn}}", NULL, m, &out, &err), 0);
	assert_string_equal(out,
	    "Sign in: &lt;b&gt;careful&lt;/b&gt; &amp; &quot;quoted&quot;");
	free(out);
	assert_int_equal(render("{{_login.titl}}", NULL, m, &out, &err), -1);
	assert_string_equal(err, "unknown message key");
	free(out);
	tmpl_msgs_free(m);
}

static void
test_tmpl_messages_malformed(void **state)
{
	static const char *const bad[] = { "key without equals\n", "a = 1\nbroken\n" };

	for (size_t i = 0; i < NELEM(bad); i++) {
		const char *err = NULL;

		assert_null(tmpl_msgs_parse(bad[i], strlen(bad[i]), &err));
		assert_string_equal(err, "message line without '='");
	}
	tmpl_msgs_free(NULL);
	tmpl_vars_free(NULL);
}

static void
test_tmpl_output_cap(void **state)
{
	struct tmpl_vars *v = tmpl_vars_new();
	struct tmpl_env env = { 0 };
	struct buf out;
	const char *err = NULL;

	/* A capped output buffer never grows past its maximum, whatever the data. */
	tmpl_set(v, "x", "<<<<<<<<<<");
	buf_init(&out, 16);
	(void)tmpl_render("{{x}}{{x}}", 10, v, &env, &out, &err);
	assert_true(out.len <= 16);
	buf_free(&out);
	tmpl_vars_free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tmpl_escapes_values),
		cmocka_unit_test(test_tmpl_substitution),
		cmocka_unit_test(test_tmpl_no_unescaped_form),
		cmocka_unit_test(test_tmpl_markup),
		cmocka_unit_test(test_tmpl_sections),
		cmocka_unit_test(test_tmpl_lists),
		cmocka_unit_test(test_tmpl_nested_lists),
		cmocka_unit_test(test_tmpl_partials),
		cmocka_unit_test(test_tmpl_partial_without_resolver),
		cmocka_unit_test(test_tmpl_depth_limit),
		cmocka_unit_test(test_tmpl_recursive_partial_bounded),
		cmocka_unit_test(test_tmpl_syntax_errors),
		cmocka_unit_test(test_tmpl_messages),
		cmocka_unit_test(test_tmpl_messages_malformed),
		cmocka_unit_test(test_tmpl_output_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
