/*
 * Unit tests for the admin API's dispatch (idp/api/api.c) and its OpenAPI document
 * (api_doc.c): path patterns match exactly one way, the document assembles from its
 * fragments, every route is documented with an operation that names its security, and
 * every documented operation has a route — so the document cannot drift from the code.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "api.h"
#include "api_int.h"

static void
test_match(void **state)
{
	char p[API_PARAMS_MAX][API_SEGMENT_MAX + 1];

	(void)state;
	assert_true(api_match("users", "users", p));
	assert_false(api_match("users", "users/", p));
	assert_false(api_match("users", "user", p));
	assert_false(api_match("users/{name}", "users", p));
	assert_false(api_match("users/{name}", "users/", p));
	assert_true(api_match("users/{name}", "users/alice", p));
	assert_string_equal(p[0], "alice");
	assert_false(api_match("users/{name}", "users/alice/password", p));
	assert_true(api_match("groups/{g}/members/{u}", "groups/staff/members/bob", p));
	assert_string_equal(p[0], "staff");
	assert_string_equal(p[1], "bob");
	assert_false(api_match("groups/{g}/members/{u}", "groups/staff/members/", p));
	assert_false(api_match("groups/{g}/members/{u}", "groups//members/bob", p));
	assert_false(api_match("", "users", p));
}

static void
lower(const char *s, char *out, size_t n)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < n; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	out[i] = '\0';
}

/* Every route of tables has a documented operation with an operationId, responses, security. */
static void
check_documented(const json_t *doc, const struct api_route *const *tables)
{
	const json_t *paths;
	char path[300], m[16];

	assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
	paths = json_object_get(doc, "paths");
	for (const struct api_route *const *t = tables; *t; t++) {
		for (const struct api_route *r = *t; r->method; r++) {
			json_t *op;
			snprintf(path, sizeof(path), "/%s", r->pattern);
			lower(r->method, m, sizeof(m));
			op = json_object_get(json_object_get(paths, path), m);
			if (op == NULL)
				fail_msg("%s %s has no operation in the document", r->method, path);
			if (!json_is_string(json_object_get(op, "operationId")) ||
			    !json_is_object(json_object_get(op, "responses")) ||
			    !json_is_array(json_object_get(op, "security")))
				fail_msg("%s %s: operationId, responses and security are needed",
				    r->method, path);
			assert_true(r->scope != 0);
			assert_non_null(r->fn);
		}
	}
}

static void
test_routes_documented(void **state)
{
	const char *err = NULL;
	json_t *doc = api_doc_build(&err);

	(void)state;
	if (doc == NULL)
		fail_msg("document: %s", err);
	check_documented(doc, api_tables());
	json_decref(doc);
}

static int
has_route(const struct api_route *const *tables, const char *method, const char *path)
{
	for (const struct api_route *const *t = tables; *t; t++)
		for (const struct api_route *r = *t; r->method; r++)
			if (!strcasecmp(r->method, method) && !strcmp(r->pattern, path + 1))
				return 1;
	return 0;
}

/* Every documented operation has a route of tables. */
static void
check_routed(const json_t *doc, const struct api_route *const *tables)
{
	static const char *const methods[] = { "get", "post", "put", "patch", "delete", "head",
		"options", "trace", NULL };
	const char *path;
	json_t *item;

	json_object_foreach((json_t *)json_object_get(doc, "paths"), path, item) {
		for (const char *const *m = methods; *m; m++)
			if (json_object_get(item, *m) && !has_route(tables, *m, path))
				fail_msg("%s %s is documented but has no route", *m, path);
	}
}

static void
test_document_routed(void **state)
{
	const char *err = NULL;
	json_t *doc = api_doc_build(&err);

	(void)state;
	assert_non_null(doc);
	check_routed(doc, api_tables());
	json_decref(doc);
}

/* The operator API (api_operator.c) against its own document, and neither leaks into the other. */
static void
test_operator_documented(void **state)
{
	const json_t *doc = api_operator_openapi();
	const char *err = NULL;
	json_t *tenant_doc = api_doc_build(&err);

	(void)state;
	assert_non_null(doc);
	check_documented(doc, api_operator_tables());
	check_routed(doc, api_operator_tables());
	assert_null(json_object_get(json_object_get(tenant_doc, "paths"), "/tenants"));
	assert_null(json_object_get(json_object_get(doc, "paths"), "/users"));
	json_decref(tenant_doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_routes_documented),
		cmocka_unit_test(test_document_routed),
		cmocka_unit_test(test_operator_documented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
