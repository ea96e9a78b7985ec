/*
 * Unit tests for idp/api/scim_patch.c: add, replace and remove with and without a path,
 * with value filters, on extensions; the request shapes Entra ID and Okta send (the
 * examples of their provisioning guides) and RFC 7644 3.5.2's; and the errors.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scim_patch.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define OPS(x) "{\"schemas\": [\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"]," \
	" \"Operations\": [" x "]}"

/* A resource, the patch, and the resource after it (JSON, compared as values). */
struct patch_case {
	const char *name;
	const char *before, *patch, *after;
};

/* The patch fails with this scimType and leaves nothing half-written in a copy. */
struct error_case {
	const char *name;
	const char *before, *patch, *type;
};

static json_t *
load(const char *s)
{
	json_error_t je;
	json_t *v = json_loads(s, 0, &je);

	if (!v)
		print_error("bad test JSON: %s: %s\n", je.text, s);
	assert_non_null(v);
	return v;
}

static void
check_patches(const struct patch_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_t *res = load(cases[i].before), *patch = load(cases[i].patch);
		json_t *want = load(cases[i].after);
		struct scim_err e = { 0 };
		int rc = scim_patch_apply(res, patch, &e);

		if (rc != 0)
			print_error("%s: %s %s\n", cases[i].name, e.type, e.detail);
		assert_int_equal(rc, 0);
		if (!json_equal(res, want)) {
			char *got = json_dumps(res, JSON_SORT_KEYS);

			print_error("%s: got %s\n", cases[i].name, got);
			free(got);
		}
		assert_true(json_equal(res, want));
		json_decref(res);
		json_decref(patch);
		json_decref(want);
	}
}

static void
check_errors(const struct error_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_t *res = load(cases[i].before), *patch = load(cases[i].patch);
		struct scim_err e = { 0 };

		if (scim_patch_apply(res, patch, &e) == 0)
			print_error("%s: accepted\n", cases[i].name);
		else if (strcmp(e.type, cases[i].type) != 0)
			print_error("%s: %s %s\n", cases[i].name, e.type, e.detail);
		assert_int_equal(e.status, 400);
		assert_non_null(e.type);
		assert_string_equal(e.type, cases[i].type);
		assert_true(e.detail[0] != '\0');
		json_decref(res);
		json_decref(patch);
	}
}

#define USER "{\"id\": \"u1\", \"userName\": \"alice\", \"active\": true," \
	" \"name\": {\"givenName\": \"Alice\", \"familyName\": \"Liddell\"}," \
	" \"emails\": [{\"value\": \"alice@contoso.com\", \"type\": \"work\", \"primary\": true}]}"

/* Microsoft Entra ID's provisioning service (its SCIM guide's requests). */
static void
test_scim_patch_entra(void **state)
{
	static const struct patch_case cases[] = {
		{ "replace active with a string",
		  USER,
		  OPS("{\"op\": \"Replace\", \"path\": \"active\", \"value\": \"False\"}"),
		  "{\"id\": \"u1\", \"userName\": \"alice\", \"active\": \"False\","
		  " \"name\": {\"givenName\": \"Alice\", \"familyName\": \"Liddell\"},"
		  " \"emails\": [{\"value\": \"alice@contoso.com\", \"type\": \"work\","
		  " \"primary\": true}]}" },
		{ "replace without a path, map value",
		  USER,
		  OPS("{\"op\": \"Replace\", \"value\": {\"active\": false}}"),
		  "{\"id\": \"u1\", \"userName\": \"alice\", \"active\": false,"
		  " \"name\": {\"givenName\": \"Alice\", \"familyName\": \"Liddell\"},"
		  " \"emails\": [{\"value\": \"alice@contoso.com\", \"type\": \"work\","
		  " \"primary\": true}]}" },
		{ "replace filtered e-mail and family name",
		  USER,
		  OPS("{\"op\": \"Replace\", \"path\": \"emails[type eq \\\"work\\\"].value\","
		      " \"value\": \"updatedEmail@contoso.com\"},"
		      "{\"op\": \"Replace\", \"path\": \"name.familyName\","
		      " \"value\": \"updatedFamilyName\"}"),
		  "{\"id\": \"u1\", \"userName\": \"alice\", \"active\": true,"
		  " \"name\": {\"givenName\": \"Alice\", \"familyName\": \"updatedFamilyName\"},"
		  " \"emails\": [{\"value\": \"updatedEmail@contoso.com\", \"type\": \"work\","
		  " \"primary\": true}]}" },
		{ "replace userName",
		  "{\"id\": \"u1\", \"userName\": \"alice\"}",
		  OPS("{\"op\": \"Replace\", \"path\": \"userName\", \"value\": \"5b50642d@contoso.com\"}"),
		  "{\"id\": \"u1\", \"userName\": \"5b50642d@contoso.com\"}" },
		{ "add an attribute the user lacks, by filter",
		  "{\"id\": \"u1\", \"userName\": \"alice\"}",
		  OPS("{\"op\": \"Add\", \"path\": \"emails[type eq \\\"work\\\"].value\","
		      " \"value\": \"alice@contoso.com\"}"),
		  "{\"id\": \"u1\", \"userName\": \"alice\","
		  " \"emails\": [{\"type\": \"work\", \"value\": \"alice@contoso.com\"}]}" },
		{ "map with extension paths as keys",
		  "{\"id\": \"u1\", \"userName\": \"alice\"}",
		  OPS("{\"op\": \"Add\", \"value\": {"
		      "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber\":"
		      " \"701984\", \"name.givenName\": \"Barbara\", \"displayName\": \"Babs\"}}"),
		  "{\"id\": \"u1\", \"userName\": \"alice\", \"displayName\": \"Babs\","
		  " \"name\": {\"givenName\": \"Barbara\"},"
		  " \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":"
		  " {\"employeeNumber\": \"701984\"}}" },
		{ "extension path",
		  "{\"id\": \"u1\", \"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\"]}",
		  OPS("{\"op\": \"Replace\", \"path\": "
		      "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department\","
		      " \"value\": \"Sales\"}"),
		  "{\"id\": \"u1\", \"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\","
		  " \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"],"
		  " \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":"
		  " {\"department\": \"Sales\"}}" },
		{ "add members",
		  "{\"id\": \"g1\", \"displayName\": \"Sales\", \"members\": []}",
		  OPS("{\"op\": \"Add\", \"path\": \"members\", \"value\": [{\"value\": \"u1\"}]}"),
		  "{\"id\": \"g1\", \"displayName\": \"Sales\", \"members\": [{\"value\": \"u1\"}]}" },
		{ "remove a member by filter",
		  "{\"id\": \"g1\", \"members\": [{\"value\": \"u1\"}, {\"value\": \"u2\"}]}",
		  OPS("{\"op\": \"Remove\", \"path\": \"members[value eq \\\"u1\\\"]\"}"),
		  "{\"id\": \"g1\", \"members\": [{\"value\": \"u2\"}]}" },
		{ "rename a group",
		  "{\"id\": \"g1\", \"displayName\": \"Sales\"}",
		  OPS("{\"op\": \"Replace\", \"path\": \"displayName\", \"value\": \"1879db59\"}"),
		  "{\"id\": \"g1\", \"displayName\": \"1879db59\"}" },
		{ "remove a member nobody has: nothing to do",
		  "{\"id\": \"g1\", \"members\": [{\"value\": \"u2\"}]}",
		  OPS("{\"op\": \"Remove\", \"path\": \"members[value eq \\\"u1\\\"]\"}"),
		  "{\"id\": \"g1\", \"members\": [{\"value\": \"u2\"}]}" },
	};

	(void)state;
	check_patches(cases, NELEM(cases));
}

/* Okta's SCIM 2.0 guide. */
static void
test_scim_patch_okta(void **state)
{
	static const struct patch_case cases[] = {
		{ "deactivate",
		  USER,
		  OPS("{\"op\": \"replace\", \"value\": {\"active\": false}}"),
		  "{\"id\": \"u1\", \"userName\": \"alice\", \"active\": false,"
		  " \"name\": {\"givenName\": \"Alice\", \"familyName\": \"Liddell\"},"
		  " \"emails\": [{\"value\": \"alice@contoso.com\", \"type\": \"work\","
		  " \"primary\": true}]}" },
		{ "group rename repeating the id",
		  "{\"id\": \"abf4dd94\", \"displayName\": \"Test SCIMv2\"}",
		  OPS("{\"op\": \"replace\", \"value\": {\"id\": \"abf4dd94\","
		      " \"displayName\": \"Test SCIMv2 renamed\"}}"),
		  "{\"id\": \"abf4dd94\", \"displayName\": \"Test SCIMv2 renamed\"}" },
		{ "add members with display, twice the same",
		  "{\"id\": \"g1\", \"members\": [{\"value\": \"u0\", \"display\": \"x\"}]}",
		  OPS("{\"op\": \"add\", \"path\": \"members\", \"value\": ["
		      "{\"value\": \"u1\", \"display\": \"a@x\"}, {\"value\": \"u0\", \"display\": \"x\"}]}"),
		  "{\"id\": \"g1\", \"members\": [{\"value\": \"u0\", \"display\": \"x\"},"
		  " {\"value\": \"u1\", \"display\": \"a@x\"}]}" },
		{ "remove members with a value list",
		  "{\"id\": \"g1\", \"members\": [{\"value\": \"u0\"}, {\"value\": \"u1\"}]}",
		  OPS("{\"op\": \"remove\", \"path\": \"members\", \"value\": [{\"value\": \"u0\"}]}"),
		  "{\"id\": \"g1\", \"members\": [{\"value\": \"u1\"}]}" },
		{ "replace all members",
		  "{\"id\": \"g1\", \"members\": [{\"value\": \"u0\"}, {\"value\": \"u1\"}]}",
		  OPS("{\"op\": \"replace\", \"path\": \"members\", \"value\": [{\"value\": \"u2\"}]}"),
		  "{\"id\": \"g1\", \"members\": [{\"value\": \"u2\"}]}" },
	};

	(void)state;
	check_patches(cases, NELEM(cases));
}

/* RFC 7644 3.5.2's examples and rules. */
static void
test_scim_patch_rfc(void **state)
{
	static const struct patch_case cases[] = {
		{ "add without path: multi-valued appends, single replaces",
		  "{\"emails\": [{\"value\": \"a@x\", \"type\": \"work\"}], \"nickName\": \"A\"}",
		  OPS("{\"op\": \"add\", \"value\": {\"emails\": [{\"value\": \"babs@jensen.org\","
		      " \"type\": \"home\"}], \"nickName\": \"Babs\"}}"),
		  "{\"emails\": [{\"value\": \"a@x\", \"type\": \"work\"}, {\"value\":"
		  " \"babs@jensen.org\", \"type\": \"home\"}], \"nickName\": \"Babs\"}" },
		{ "remove all members",
		  "{\"members\": [{\"value\": \"u1\"}], \"displayName\": \"G\"}",
		  OPS("{\"op\": \"remove\", \"path\": \"members\"}"),
		  "{\"displayName\": \"G\"}" },
		{ "remove a sub-attribute of selected values",
		  "{\"emails\": [{\"value\": \"a@x\", \"type\": \"work\", \"display\": \"A\"},"
		  " {\"value\": \"b@x\", \"type\": \"home\", \"display\": \"B\"}]}",
		  OPS("{\"op\": \"remove\", \"path\": \"emails[type eq \\\"work\\\"].display\"}"),
		  "{\"emails\": [{\"value\": \"a@x\", \"type\": \"work\"},"
		  " {\"value\": \"b@x\", \"type\": \"home\", \"display\": \"B\"}]}" },
		{ "replace selected values whole",
		  "{\"emails\": [{\"value\": \"a@x\", \"type\": \"work\", \"primary\": true}]}",
		  OPS("{\"op\": \"replace\", \"path\": \"emails[type eq \\\"work\\\"]\","
		      " \"value\": {\"value\": \"new@x\", \"type\": \"work\"}}"),
		  "{\"emails\": [{\"value\": \"new@x\", \"type\": \"work\"}]}" },
		{ "replace a complex attribute merges its sub-attributes",
		  "{\"name\": {\"givenName\": \"A\", \"familyName\": \"B\"}}",
		  OPS("{\"op\": \"replace\", \"path\": \"name\", \"value\": {\"familyName\": \"C\"}}"),
		  "{\"name\": {\"givenName\": \"A\", \"familyName\": \"C\"}}" },
		{ "attribute names ignore case and keep the resource's spelling",
		  "{\"displayName\": \"x\"}",
		  OPS("{\"op\": \"replace\", \"path\": \"DISPLAYNAME\", \"value\": \"y\"}"),
		  "{\"displayName\": \"y\"}" },
		{ "remove an extension attribute, then the extension",
		  "{\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":"
		  " {\"department\": \"S\", \"employeeNumber\": \"1\"}, \"x\": 1}",
		  OPS("{\"op\": \"remove\", \"path\": "
		      "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department\"}"),
		  "{\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":"
		  " {\"employeeNumber\": \"1\"}, \"x\": 1}" },
		{ "remove the extension",
		  "{\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\": {}, \"x\": 1}",
		  OPS("{\"op\": \"remove\", \"path\": "
		      "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"}"),
		  "{\"x\": 1}" },
		{ "extension as a map key",
		  "{\"x\": 1}",
		  OPS("{\"op\": \"add\", \"value\": {"
		      "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":"
		      " {\"department\": \"D\"}}}"),
		  "{\"x\": 1, \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":"
		  " {\"department\": \"D\"}}" },
		{ "operations apply in order",
		  "{\"displayName\": \"a\"}",
		  OPS("{\"op\": \"replace\", \"path\": \"displayName\", \"value\": \"b\"},"
		      "{\"op\": \"remove\", \"path\": \"displayName\"},"
		      "{\"op\": \"add\", \"path\": \"displayName\", \"value\": \"c\"}"),
		  "{\"displayName\": \"c\"}" },
		{ "remove something absent",
		  "{\"displayName\": \"a\"}",
		  OPS("{\"op\": \"remove\", \"path\": \"nickName\"}"),
		  "{\"displayName\": \"a\"}" },
	};

	(void)state;
	check_patches(cases, NELEM(cases));
}

static void
test_scim_patch_errors(void **state)
{
	static const struct error_case cases[] = {
		{ "not a PatchOp", USER,
		  "{\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
		  " \"Operations\": [{\"op\": \"add\", \"path\": \"nickName\", \"value\": \"x\"}]}",
		  "invalidSyntax" },
		{ "no operations", USER, OPS(""), "invalidSyntax" },
		{ "operations not an array", USER,
		  "{\"Operations\": {\"op\": \"add\"}}", "invalidSyntax" },
		{ "unknown op", USER, OPS("{\"op\": \"move\", \"path\": \"userName\"}"),
		  "invalidSyntax" },
		{ "op missing", USER, OPS("{\"path\": \"userName\", \"value\": \"x\"}"),
		  "invalidSyntax" },
		{ "operation not an object", USER, OPS("\"add\""), "invalidSyntax" },
		{ "bad path", USER, OPS("{\"op\": \"add\", \"path\": \"emails[type eq\","
		  " \"value\": \"x\"}"), "invalidPath" },
		{ "path not a string", USER, OPS("{\"op\": \"add\", \"path\": 3, \"value\": \"x\"}"),
		  "invalidPath" },
		{ "remove without path", USER, OPS("{\"op\": \"remove\"}"), "noTarget" },
		{ "map value not an object", USER, OPS("{\"op\": \"replace\", \"value\": \"x\"}"),
		  "invalidValue" },
		{ "add without value", USER, OPS("{\"op\": \"add\", \"path\": \"nickName\"}"),
		  "invalidSyntax" },
		{ "replace a filter that selects nothing and cannot make one", USER,
		  OPS("{\"op\": \"replace\", \"path\": \"emails[value co \\\"x\\\"].type\","
		      " \"value\": \"home\"}"), "noTarget" },
		{ "change the id", USER,
		  OPS("{\"op\": \"replace\", \"path\": \"id\", \"value\": \"u2\"}"), "mutability" },
		{ "change the id in a map", USER,
		  OPS("{\"op\": \"replace\", \"value\": {\"id\": \"u2\"}}"), "mutability" },
		{ "remove meta", USER, OPS("{\"op\": \"remove\", \"path\": \"meta\"}"), "mutability" },
		{ "add groups", USER,
		  OPS("{\"op\": \"add\", \"path\": \"groups\", \"value\": [{\"value\": \"g\"}]}"),
		  "mutability" },
		{ "filter on a single-valued attribute", USER,
		  OPS("{\"op\": \"replace\", \"path\": \"userName[value eq \\\"x\\\"]\","
		      " \"value\": {}}"), "invalidPath" },
		{ "sub-attribute of a string", USER,
		  OPS("{\"op\": \"replace\", \"path\": \"userName.x\", \"value\": \"y\"}"),
		  "invalidPath" },
		{ "selected value replaced by a string", USER,
		  OPS("{\"op\": \"replace\", \"path\": \"emails[type eq \\\"work\\\"]\","
		      " \"value\": \"x\"}"), "invalidValue" },
		{ "bad path as a map key", USER,
		  OPS("{\"op\": \"add\", \"value\": {\"na me\": \"x\"}}"), "invalidPath" },
	};

	(void)state;
	check_errors(cases, NELEM(cases));
}

static void
test_scim_patch_too_many(void **state)
{
	json_t *res = load(USER), *ops = json_array(), *patch;
	struct scim_err e = { 0 };

	(void)state;
	for (int i = 0; i <= SCIM_PATCH_OPS_MAX; i++)
		json_array_append_new(ops, json_pack("{s:s, s:s, s:s}", "op", "add", "path",
		    "nickName", "value", "x"));
	patch = json_pack("{s:o}", "Operations", ops);
	assert_int_equal(scim_patch_apply(res, patch, &e), -1);
	assert_string_equal(e.type, "tooMany");
	json_decref(patch);
	json_decref(res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scim_patch_entra),
		cmocka_unit_test(test_scim_patch_okta),
		cmocka_unit_test(test_scim_patch_rfc),
		cmocka_unit_test(test_scim_patch_errors),
		cmocka_unit_test(test_scim_patch_too_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
