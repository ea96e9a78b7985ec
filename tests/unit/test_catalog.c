/*
 * Unit tests for the app catalog (connectors/catalog*.c): every built-in template loads
 * and instantiates with its examples into metadata the SAML checks accept; broken
 * templates are refused with FILE:LINE and what is wrong; parameters are checked by name;
 * a catalog_dir adds and overrides templates, and one broken file refuses it.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "catalog.h"
#include "saml.h"
#include "spmeta.h"
#include "xmalloc.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A small valid template; the broken ones below are it with one line changed. */
#define HEAD "name t1\ndisplay_name T one\ndescription test\nprotocol saml\n" \
	"setup_url https://example.com/help\n"
#define PARAM "param sub\n\tpattern [a-z]+\n\texample acme\n\tdescription the subdomain\n"
#define BODY "entity_id https://{sub}.example.com\nacs https://{sub}.example.com/acs\n" \
	"nameid email\npaste sso_url Login URL\nverified all of it\n"

static void
test_catalog_builtin_instantiate(void **state)
{
	struct buf err;
	struct catalog *cat;
	const struct catalog_tmpl *t;
	size_t n = 0;

	(void)state;
	buf_init(&err, 0);
	cat = catalog_load(NULL, &err);
	assert_non_null(cat);
	assert_int_equal(saml_global_init(), 0);
	for (; (t = catalog_at(cat, n)) != NULL; n++) {
		const char *names[CATALOG_MAX_PARAMS], *vals[CATALOG_MAX_PARAMS], *param, *why;
		struct catalog_app a;
		struct spmeta m;
		for (size_t i = 0; i < t->nparams; i++) {
			names[i] = t->params[i].name;
			vals[i] = t->params[i].example;
		}
		if (catalog_instantiate(t, names, vals, t->nparams, &a, &param, &err) == -1)
			fail_msg("%s: %s", t->name, err.data);
		if (!strcmp(t->protocol, "saml")) {
			if (spmeta_parse(a.metadata, strlen(a.metadata), &m, &why) == -1 ||
			    saml_sp_metadata_check(a.metadata, &why) == -1)
				fail_msg("%s: %s\n%s", t->name, why, a.metadata);
			assert_string_equal(m.entity_id, a.entity_id);
			assert_int_equal(m.nacs, a.nacs);
			assert_int_equal(m.nrequested, t->nattrs);
			assert_int_equal(m.has_slo, a.slo != NULL);
			spmeta_clear(&m);
		} else
			assert_true(a.nredirect >= 1);
		catalog_app_clear(&a);
	}
	assert_true(n >= 26);
	assert_non_null(catalog_find(cat, "google-workspace"));
	assert_null(catalog_find(cat, "nosuch"));
	catalog_free(cat);
	buf_free(&err);
}

static const struct {
	const char *text;
	const char *want;	/* the start of the message */
} broken[] = {
	{ HEAD PARAM BODY "colour blue\n", "t1.tmpl:15: unknown key \"colour\"" },
	{ "name t1\ndisplay_name T\nprotocol saml\nsetup_url https://example.com/\n" PARAM BODY,
	    "t1.tmpl:13: missing required key \"description\"" },
	{ HEAD "entity_id https://{sub}.example.com\n",
	    "t1.tmpl:6: entity_id: parameter {sub} is not declared" },
	{ HEAD "param sub\n\tpattern [a-z\n\texample a\n\tdescription d\n",
	    "t1.tmpl:7: param sub: bad regular expression [a-z" },
	{ HEAD PARAM "entity_id x\nacs http://{sub}.example.com/acs\n",
	    "t1.tmpl:11: acs: with the examples, http://acme.example.com/acs is not an acceptable "
	    "URL" },
	{ HEAD PARAM "acs https://{sub.example.com/\n", "t1.tmpl:10: acs: unbalanced {" },
	{ HEAD "param sub\n\tpattern [0-9]+\n\texample acme\n\tdescription d\n" BODY,
	    "t1.tmpl:6: param sub: the example acme does not match its pattern" },
	{ HEAD "param sub\n\tpattern [a-z]+\n" BODY,
	    "t1.tmpl:6: param sub needs pattern, example and description" },
	{ HEAD PARAM BODY "redirect_uri https://x.example.com/cb\n",
	    "t1.tmpl:15: redirect_uri is a oidc key (this template is saml)" },
	{ "name t1\nacs https://x.example.com/\n", "t1.tmpl:2: protocol must come before acs" },
	{ HEAD PARAM BODY "paste client_secret\n", "t1.tmpl:15: paste client_secret: not a "
	    "value Sekisho gives for saml apps" },
	{ HEAD PARAM "entity_id a\nacs https://a.example.com/\nnameid unspecified\n",
	    "t1.tmpl:12: nameid must be persistent, transient or email" },
	{ HEAD PARAM BODY "attribute email username\n",
	    "t1.tmpl:15: attribute username: Sekisho sends another field under that name" },
	{ HEAD PARAM BODY "name t1\n", "t1.tmpl:15: name given twice" },
	{ "name t2\n", "t1.tmpl:1: name t2 does not match the file name (t2.tmpl)" },
	{ HEAD PARAM BODY "\tpattern x\n", "t1.tmpl:15: an indented line belongs to a param" },
	{ HEAD PARAM BODY "icon <svg xmlns=\"http://www.w3.org/2000/svg\"><script/></svg>\n",
	    "t1.tmpl:15: icon: SVG has a script element" },
	{ HEAD "param sub\n\tpattern [a-z]+\n\texample acme\n\tdescription d\n\toptional\n"
	    "entity_id https://{sub}.example.com\n",
	    "t1.tmpl:11: entity_id: parameter {sub} is optional but this value is required" },
	{ HEAD PARAM "entity_id https://{sub}.example.com\nacs https://{sub}.example.com/\n"
	    "nameid email\nverified v\n", "t1.tmpl:13: missing required key \"paste\"" },
};

static void
test_catalog_broken_refused_with_line(void **state)
{
	struct buf err;
	struct catalog_tmpl *t;

	(void)state;
	buf_init(&err, 0);
	t = catalog_parse("dir/t1.tmpl", HEAD PARAM BODY, &err);
	if (t == NULL)
		fail_msg("the valid template: %s", err.data);
	catalog_tmpl_free(t);
	for (size_t i = 0; i < NELEM(broken); i++) {
		buf_reset(&err);
		t = catalog_parse("dir/t1.tmpl", broken[i].text, &err);
		assert_null(t);
		if (err.data == NULL || strncmp(err.data, "dir/", 4) ||
		    strncmp(err.data + 4, broken[i].want, strlen(broken[i].want)))
			fail_msg("case %zu: got %s, want dir/%s", i, err.data, broken[i].want);
	}
	buf_free(&err);
}

/* Instantiate the HEAD PARAM BODY template with the given parameters (*param_r copied). */
static int
inst(const char *const *names, const char *const *vals, size_t n, char **param_r,
    struct buf *err, struct catalog_app *a)
{
	const char *param;
	struct catalog_tmpl *t = catalog_parse("t1.tmpl", HEAD PARAM BODY
	    "param region\n\tpattern jp|us\n\texample jp\n\tdescription r\n\toptional\n"
	    "slo https://{sub}.{region}.example.com/slo\n", err);
	int rc;

	assert_non_null(t);
	buf_reset(err);
	rc = catalog_instantiate(t, names, vals, n, a, &param, err);
	*param_r = param ? xstrdup(param) : NULL;
	catalog_tmpl_free(t);
	return rc;
}

static void
test_catalog_parameters_checked(void **state)
{
	static const struct {
		const char *names[2], *vals[2];
		size_t n;
		const char *param, *msg;
	} cases[] = {
		{ { NULL }, { NULL }, 0, "sub", "missing parameter sub (the subdomain, for "
		    "example acme)" },
		{ { "sub", "colour" }, { "acme", "x" }, 2, "colour", "unknown parameter colour "
		    "(template t1 takes: sub region)" },
		{ { "sub" }, { "ACME" }, 1, "sub", "parameter sub: ACME does not match [a-z]+" },
		{ { "sub" }, { "a\"b" }, 1, "sub", "parameter sub: no white space" },
		{ { "sub", "sub" }, { "a", "b" }, 2, "sub", "parameter sub given twice" },
		{ { "sub", "region" }, { "acme", "eu" }, 2, "region", "parameter region: eu" },
	};
	struct catalog_app a;
	char *param;
	struct buf err;

	(void)state;
	buf_init(&err, 0);
	for (size_t i = 0; i < NELEM(cases); i++) {
		assert_int_equal(inst(cases[i].names, cases[i].vals, cases[i].n, &param, &err, &a),
		    -1);
		assert_non_null(param);
		assert_string_equal(param, cases[i].param);
		if (strncmp(err.data, cases[i].msg, strlen(cases[i].msg)))
			fail_msg("case %zu: %s", i, err.data);
		free(param);
	}
	/* Without the optional region, no SLO; with it, the SLO URL has it. */
	assert_int_equal(inst((const char *[]){ "sub" }, (const char *[]){ "acme" }, 1, &param,
	    &err, &a), 0);
	assert_null(param);
	assert_string_equal(a.entity_id, "https://acme.example.com");
	assert_string_equal(a.acs[0], "https://acme.example.com/acs");
	assert_null(a.slo);
	assert_null(strstr(a.metadata, "SingleLogoutService"));
	catalog_app_clear(&a);
	assert_int_equal(inst((const char *[]){ "region", "sub" }, (const char *[]){ "us", "b" },
	    2, &param, &err, &a), 0);
	assert_string_equal(a.slo, "https://b.us.example.com/slo");
	assert_non_null(strstr(a.metadata, "emailAddress"));
	catalog_app_clear(&a);
	buf_free(&err);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	free(path);
}

static void
test_catalog_dir_adds_overrides_refuses(void **state)
{
	char dir[] = "/tmp/test_catalog.XXXXXX";
	struct catalog *cat;
	struct buf err;
	char *path;

	(void)state;
	buf_init(&err, 0);
	assert_non_null(mkdtemp(dir));
	write_file(dir, "t1.tmpl", HEAD PARAM BODY);
	write_file(dir, "zoom.tmpl", "name zoom\ndisplay_name Our Zoom\ndescription d\n"
	    "protocol saml\nsetup_url https://example.com/\nentity_id zoom\n"
	    "acs https://zoom.example.com/acs\nnameid email\npaste sso_url\nunverified all\n");
	write_file(dir, "README", "not a template\n");
	cat = catalog_load(dir, &err);
	if (cat == NULL)
		fail_msg("%s", err.data);
	assert_non_null(catalog_find(cat, "t1"));
	assert_string_equal(catalog_find(cat, "zoom")->display_name, "Our Zoom");
	assert_non_null(catalog_find(cat, "slack"));
	catalog_free(cat);
	write_file(dir, "t2.tmpl", "name t2\nprotocol ftp\n");
	assert_null(catalog_load(dir, &err));
	path = xasprintf("%s/t2.tmpl:2: protocol must be saml or oidc\n", dir);
	assert_non_null(strstr(err.data, path));
	free(path);
	for (const char *const *f = (const char *[]){ "t1.tmpl", "t2.tmpl", "zoom.tmpl",
	    "README", NULL }; *f; f++) {
		path = xasprintf("%s/%s", dir, *f);
		unlink(path);
		free(path);
	}
	rmdir(dir);
	buf_free(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_catalog_builtin_instantiate),
		cmocka_unit_test(test_catalog_broken_refused_with_line),
		cmocka_unit_test(test_catalog_parameters_checked),
		cmocka_unit_test(test_catalog_dir_adds_overrides_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
