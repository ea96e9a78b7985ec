/*
 * Unit tests for idp/api/scim_filter.c: RFC 7644's filter grammar (operators, and/or/not,
 * precedence, parentheses, value filters, URN-qualified paths), caseExact per attribute,
 * the filters Entra ID and Okta send, and the errors bad filters and paths get.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scim_filter.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char user_json[] =
    "{\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\","
    " \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"],"
    " \"id\": \"3f2a9c\", \"externalId\": \"Ext-42\", \"userName\": \"Alice@Contoso.com\","
    " \"displayName\": \"Alice Liddell\","
    " \"name\": {\"givenName\": \"Alice\", \"familyName\": \"Liddell\"},"
    " \"emails\": [{\"value\": \"alice@contoso.com\", \"type\": \"work\", \"primary\": true},"
    "   {\"value\": \"al@home.example\", \"type\": \"home\"}],"
    " \"active\": true, \"title\": null,"
    " \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":"
    "   {\"employeeNumber\": \"701984\", \"department\": \"Tour Operations\"},"
    " \"meta\": {\"resourceType\": \"User\", \"created\": \"2026-01-23T04:56:22Z\","
    "   \"lastModified\": \"2026-05-13T04:42:34Z\", \"version\": \"W/\\\"a330\\\"\"},"
    " \"groups\": [{\"value\": \"g1\", \"display\": \"Sales\"}]}";

struct match_case {
	const char *filter;
	int match;
};

static void
check_matches(const struct match_case *cases, size_t n)
{
	json_t *user = json_loads(user_json, 0, NULL);
	struct scim_err e;

	assert_non_null(user);
	for (size_t i = 0; i < n; i++) {
		struct scim_filter *f = scim_filter_parse(cases[i].filter, &e);

		if (!f)
			print_error("%s: %s\n", cases[i].filter, e.detail);
		assert_non_null(f);
		if (scim_filter_match(f, user, NULL) != cases[i].match)
			print_error("%s: expected %d\n", cases[i].filter, cases[i].match);
		assert_int_equal(scim_filter_match(f, user, NULL), cases[i].match);
		scim_filter_free(f);
	}
	json_decref(user);
}

static void
test_scim_filter_operators(void **state)
{
	static const struct match_case cases[] = {
		{ "userName eq \"alice@contoso.com\"", 1 },	/* userName: caseExact false */
		{ "userName eq \"bob@contoso.com\"", 0 },
		{ "userName ne \"bob@contoso.com\"", 1 },
		{ "userName ne \"ALICE@contoso.com\"", 0 },
		{ "userName co \"contoso\"", 1 },
		{ "userName co \"CONTOSO\"", 1 },
		{ "userName co \"fabrikam\"", 0 },
		{ "userName sw \"ali\"", 1 },
		{ "userName sw \"lice\"", 0 },
		{ "userName ew \".COM\"", 1 },
		{ "userName ew \"alice\"", 0 },
		{ "userName pr", 1 },
		{ "title pr", 0 },
		{ "nickName pr", 0 },
		{ "userName gt \"a\"", 1 },
		{ "userName lt \"a\"", 0 },
		{ "userName ge \"alice@contoso.com\"", 1 },
		{ "userName le \"alice@contoso.com\"", 1 },
		{ "active eq true", 1 },
		{ "active eq false", 0 },
		{ "active ne false", 1 },
		{ "title eq null", 1 },
		{ "userName eq null", 0 },
		{ "meta.lastModified gt \"2026-05-01T00:00:00Z\"", 1 },
		{ "meta.lastModified lt \"2026-05-01T00:00:00Z\"", 0 },
		{ "meta.created ge \"2026-01-23T04:56:22Z\"", 1 },
		{ "meta.resourceType eq \"user\"", 1 },
	};

	(void)state;
	check_matches(cases, NELEM(cases));
}

static void
test_scim_filter_case_exact(void **state)
{
	static const struct match_case cases[] = {
		{ "externalId eq \"Ext-42\"", 1 },	/* caseExact true */
		{ "externalId eq \"ext-42\"", 0 },
		{ "externalId sw \"EXT\"", 0 },
		{ "id eq \"3f2a9c\"", 1 },
		{ "id eq \"3F2A9C\"", 0 },
		{ "displayName eq \"alice liddell\"", 1 },	/* caseExact false */
		{ "name.familyName eq \"LIDDELL\"", 1 },
		{ "groups[value eq \"G1\"]", 0 },		/* groups.value: caseExact */
		{ "groups[value eq \"g1\"]", 1 },
		/* attribute names and operators ignore case */
		{ "USERNAME EQ \"alice@contoso.com\"", 1 },
		{ "Name.GivenName Eq \"Alice\"", 1 },
		{ "ExternalID eq \"Ext-42\"", 1 },
	};

	(void)state;
	check_matches(cases, NELEM(cases));
}

static void
test_scim_filter_logic(void **state)
{
	static const struct match_case cases[] = {
		{ "userName eq \"alice@contoso.com\" and active eq true", 1 },
		{ "userName eq \"alice@contoso.com\" and active eq false", 0 },
		{ "userName eq \"bob\" or active eq true", 1 },
		{ "userName eq \"bob\" or active eq false", 0 },
		{ "not (userName eq \"bob\")", 1 },
		{ "not(userName eq \"alice@contoso.com\")", 0 },
		/* and binds tighter than or */
		{ "userName eq \"bob\" and active eq true or displayName co \"Alice\"", 1 },
		{ "displayName co \"Alice\" or userName eq \"bob\" and active eq false", 1 },
		{ "(displayName co \"Alice\" or userName eq \"bob\") and active eq false", 0 },
		{ "userName eq \"bob\" or (active eq true and not (title pr))", 1 },
		{ "((((userName pr))))", 1 },
		/* RFC 7644 3.4.2.2 examples */
		{ "title pr and userType eq \"Employee\"", 0 },
		{ "userType eq \"Employee\" and (emails co \"example.com\" or emails.value co "
		  "\"example.org\")", 0 },
		{ "userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co "
		  "\"example.org\")", 1 },
		{ "emails[type eq \"work\" and value co \"@contoso.com\"] or ims[type eq \"xmpp\" "
		  "and value co \"@foo.com\"]", 1 },
	};

	(void)state;
	check_matches(cases, NELEM(cases));
}

static void
test_scim_filter_multi_valued(void **state)
{
	static const struct match_case cases[] = {
		{ "emails co \"contoso.com\"", 1 },	/* a complex value stands for its value */
		{ "emails eq \"al@home.example\"", 1 },
		{ "emails.value eq \"ALICE@contoso.com\"", 1 },
		{ "emails.type eq \"home\"", 1 },
		{ "emails.type eq \"other\"", 0 },
		{ "emails[type eq \"work\"]", 1 },
		{ "emails[type eq \"other\"]", 0 },
		{ "emails[type eq \"work\"].value eq \"alice@contoso.com\"", 1 },
		{ "emails[type eq \"home\"].value eq \"alice@contoso.com\"", 0 },
		{ "emails[primary eq true].value ew \"contoso.com\"", 1 },
		{ "emails[not (type eq \"work\")].value sw \"al@\"", 1 },
		{ "emails pr", 1 },
		{ "phoneNumbers pr", 0 },
	};

	(void)state;
	check_matches(cases, NELEM(cases));
}

static void
test_scim_filter_urn_paths(void **state)
{
	static const struct match_case cases[] = {
		{ "urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"Alice\"", 1 },
		{ "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "
		  "\"701984\"", 1 },
		{ "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:department co "
		  "\"tour\"", 1 },
		{ "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "
		  "\"Sales\"", 0 },
		{ "employeeNumber eq \"701984\"", 0 },	/* not a core attribute */
		{ "urn:example:other:2.0:User:department pr", 0 },
	};

	(void)state;
	check_matches(cases, NELEM(cases));
}

/* The filters Entra ID's provisioning service and Okta send. */
static void
test_scim_filter_clients(void **state)
{
	static const struct match_case cases[] = {
		{ "userName eq \"Alice@Contoso.com\"", 1 },		/* Entra, Okta */
		{ "externalId eq \"Ext-42\"", 1 },			/* Entra */
		{ "displayName eq \"Sales\"", 0 },			/* Entra (groups) */
		{ "userName eq \"a\\\"b\"", 0 },			/* JSON escapes */
		{ "displayName eq \"Alice\\u0020Liddell\"", 1 },
		{ "userName   eq   \"alice@contoso.com\"", 1 },	/* extra spaces */
	};

	(void)state;
	check_matches(cases, NELEM(cases));
}

static void
test_scim_filter_errors(void **state)
{
	static const char *const bad[] = {
		"", "userName", "userName eq", "userName eq alice", "userName xx \"a\"",
		"userName eq \"a", "userName eq \"a\" and", "userName eq \"a\" or or",
		"(userName pr", "userName pr)", "not userName pr", "emails[type eq \"work\"",
		"emails[type eq \"work\"]]", "active gt true", "userName co 3",
		"active sw false", "userName eq \"a\" garbage", "1userName pr",
		"name.given-Name.x pr", "urn:ietf:params:scim:schemas:core:2.0:User pr",
		"userName eq \"a\"and active pr", "userName eq 'a'", "emails[type pr]x eq \"a\"",
	};
	struct scim_err e;
	char deep[200];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		struct scim_filter *f = scim_filter_parse(bad[i], &e);

		if (f)
			print_error("accepted: %s\n", bad[i]);
		assert_null(f);
		assert_int_equal(e.status, 400);
		assert_string_equal(e.type, "invalidFilter");
		assert_true(e.detail[0] != '\0');
	}
	/* nesting is bounded */
	memset(deep, '(', 100);
	memcpy(deep + 100, "userName pr", 12);
	assert_null(scim_filter_parse(deep, &e));
	assert_string_equal(e.type, "invalidFilter");
}

static void
test_scim_filter_eq_lookup(void **state)
{
	struct scim_err e;
	struct scim_filter *f = scim_filter_parse("USERNAME eq \"x@y\"", &e);

	(void)state;
	assert_string_equal(scim_filter_eq(f, "userName"), "x@y");
	assert_null(scim_filter_eq(f, "displayName"));
	assert_true(scim_filter_uses(f, "username"));
	scim_filter_free(f);
	f = scim_filter_parse("userName eq \"x\" and active eq true", &e);
	assert_null(scim_filter_eq(f, "userName"));
	assert_true(scim_filter_uses(f, "active"));
	assert_false(scim_filter_uses(f, "members"));
	scim_filter_free(f);
	f = scim_filter_parse("members[value eq \"u1\"]", &e);
	assert_true(scim_filter_uses(f, "members"));
	scim_filter_free(f);
}

static void
test_scim_path_parse(void **state)
{
	struct scim_path p;
	struct scim_err e;
	static const char *const bad[] = {
		"", "emails[", "emails[type eq \"work\"", "emails[type eq]", "emails]",
		"members[value eq \"x\"] x", "name.", ".name", "urn:ietf:params:scim:schemas:core:2.0:User",
		"na me", "emails.value[type eq \"work\"]",
	};

	(void)state;
	assert_int_equal(scim_path_parse("name.givenName", &p, &e), 0);
	assert_string_equal(p.attr, "name");
	assert_string_equal(p.sub, "givenName");
	assert_null(p.urn);
	assert_null(p.vf);
	scim_path_clear(&p);
	assert_int_equal(scim_path_parse("emails[type eq \"work\"].value", &p, &e), 0);
	assert_string_equal(p.attr, "emails");
	assert_string_equal(p.sub, "value");
	assert_non_null(p.vf);
	scim_path_clear(&p);
	assert_int_equal(scim_path_parse(
	    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", &p, &e), 0);
	assert_string_equal(p.urn, SCIM_URN_ENTERPRISE);
	assert_string_equal(p.attr, "manager");
	assert_string_equal(p.sub, "value");
	scim_path_clear(&p);
	assert_int_equal(scim_path_parse(SCIM_URN_ENTERPRISE, &p, &e), 0);
	assert_string_equal(p.urn, SCIM_URN_ENTERPRISE);
	assert_null(p.attr);
	scim_path_clear(&p);
	assert_int_equal(scim_path_parse("urn:ietf:params:scim:schemas:core:2.0:Group:displayName",
	    &p, &e), 0);
	assert_null(p.urn);
	assert_string_equal(p.attr, "displayName");
	scim_path_clear(&p);
	for (size_t i = 0; i < NELEM(bad); i++) {
		if (scim_path_parse(bad[i], &p, &e) == 0)
			print_error("accepted: %s\n", bad[i]);
		assert_int_equal(scim_path_parse(bad[i], &p, &e), -1);
		assert_string_equal(e.type, "invalidPath");
		assert_null(p.attr);
	}
}

/* A value filter is matched against one value of its attribute, with that attribute's caseExact. */
static void
test_scim_filter_value_context(void **state)
{
	struct scim_err e;
	json_t *member = json_pack("{s:s, s:s}", "value", "AbC", "display", "bob");
	struct scim_filter *f = scim_filter_parse("value eq \"abc\"", &e);

	(void)state;
	assert_int_equal(scim_filter_match(f, member, "members"), 0);
	assert_int_equal(scim_filter_match(f, member, "emails"), 1);
	scim_filter_free(f);
	json_decref(member);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scim_filter_operators),
		cmocka_unit_test(test_scim_filter_case_exact),
		cmocka_unit_test(test_scim_filter_logic),
		cmocka_unit_test(test_scim_filter_multi_valued),
		cmocka_unit_test(test_scim_filter_urn_paths),
		cmocka_unit_test(test_scim_filter_clients),
		cmocka_unit_test(test_scim_filter_errors),
		cmocka_unit_test(test_scim_filter_eq_lookup),
		cmocka_unit_test(test_scim_path_parse),
		cmocka_unit_test(test_scim_filter_value_context),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
