/*
 * Unit tests for admin/apikey.c: the key string's form (apikey_parse), scopes and
 * durations as people write them, and apikey_create on a real store: the printed key
 * parses to the stored id and hash, a creator cannot grant more than its own scopes, the
 * audit record names the key and never holds it; the states people see.
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

#include "admin.h"
#include "apikey.h"
#include "audit.h"
#include "crypto.h"
#include "store.h"
#include "xmalloc.h"

#include "store_fixture.h"

#define GOOD "sks_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-"

static void
test_apikey_parse(void **state)
{
	char id[APIKEY_ID_LEN + 1];
	unsigned char h[32], want[32];
	static const char *const bad[] = {
		"",
		"sks_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",	/* short */
		"sks_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-A",
		"skx_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-",
		"sks_0123456789ABCDEF_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-",
		"sks_0123456789abcdef-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-",
		"sks_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"sks_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+/",
	};

	assert_int_equal(apikey_parse(GOOD, id, h), 0);
	assert_string_equal(id, "0123456789abcdef");
	crypto_sha256(GOOD, strlen(GOOD), want);
	assert_memory_equal(h, want, 32);
	for (size_t i = 0; i < NELEM(bad); i++)
		if (apikey_parse(bad[i], id, h) != -1)
			fail_msg("accepted %s", bad[i]);
	assert_int_equal(apikey_parse(NULL, id, h), -1);
}

static void
test_apikey_scopes(void **state)
{
	const char *err = NULL;
	uint64_t s;
	char *str;

	assert_int_equal(apikey_scopes_parse("read", &s, &err), 0);
	assert_int_equal(s, APIKEY_SCOPE_READ);
	assert_int_equal(apikey_scopes_parse("scim,read,write,certs", &s, &err), 0);
	assert_int_equal(s, APIKEY_SCOPE_ALL);
	str = apikey_scopes_str(s);
	assert_string_equal(str, "read,write,certs,scim");
	free(str);
	str = apikey_scopes_str(0);
	assert_string_equal(str, "");
	free(str);
	assert_int_equal(apikey_scopes_parse("read,admin", &s, &err), -1);
	assert_non_null(strstr(err, "\"admin\""));
	assert_int_equal(apikey_scopes_parse("read,", &s, &err), -1);
	assert_int_equal(apikey_scopes_parse("", &s, &err), -1);
	assert_int_equal(apikey_scopes_parse(NULL, &s, &err), -1);
	assert_int_equal(apikey_scopes_parse("Read", &s, &err), -1);
	assert_int_equal(apikey_scopes_parse("read write", &s, &err), -1);
}

static void
test_apikey_duration(void **state)
{
	static const char *const bad[] = {
		"", "d", "90", "0d", "0m", "59s", "1y", "-1d", "3651d", "87601h", "1.5d", " 1d",
		"1d ", "99999999d",
	};
	int64_t s;

	assert_int_equal(apikey_duration_parse("90d", &s), 0);
	assert_int_equal(s, 90 * 86400);
	assert_int_equal(apikey_duration_parse("12h", &s), 0);
	assert_int_equal(s, 12 * 3600);
	assert_int_equal(apikey_duration_parse("1m", &s), 0);
	assert_int_equal(s, 60);
	assert_int_equal(apikey_duration_parse("3650d", &s), 0);
	assert_int_equal(s, 3650LL * 86400);
	for (size_t i = 0; i < NELEM(bad); i++)
		if (apikey_duration_parse(bad[i], &s) != -1)
			fail_msg("accepted %s", bad[i]);
	assert_int_equal(apikey_duration_parse(NULL, &s), -1);
}

static void
admin_of(struct fx *fx, struct instance *in, struct admin *a)
{
	memset(in, 0, sizeof(*in));
	in->store = fx->st;
	memset(a, 0, sizeof(*a));
	a->in = in;
	a->tenant = T;
	a->actor = "apikey:root-key";
}

static void
test_apikey_create(void **state)
{
	struct fx *fx = *state;
	struct apikey_in ki = { .name = "hr-sync", .scopes = APIKEY_SCOPE_READ,
		.expires_in = 86400, .trial = 1, .max_scopes = APIKEY_SCOPE_READ |
		APIKEY_SCOPE_WRITE };
	char id[APIKEY_ID_LEN + 1], *key, *kid, *text;
	unsigned char h[32];
	struct instance in;
	struct admin a;
	struct apikey k;

	admin_of(fx, &in, &a);
	assert_int_equal(apikey_create(&a, &ki, &key, &kid), 0);
	assert_int_equal(strlen(key), APIKEY_STR_MAX);
	assert_int_equal(apikey_parse(key, id, h), 0);
	assert_string_equal(id, kid);
	assert_int_equal(store_apikey_get(fx->st, T, "hr-sync", &k), 1);
	assert_string_equal(k.id, id);
	assert_memory_equal(k.hash, h, 32);
	assert_int_equal(k.scopes, APIKEY_SCOPE_READ);
	assert_int_equal(k.trial, 1);
	assert_int_equal(k.expires, k.created + 86400);
	assert_string_equal(k.created_by, "apikey:root-key");
	assert_string_equal(apikey_state(&k, (int64_t)k.created), "active");
	assert_string_equal(apikey_state(&k, (int64_t)k.expires), "expired");
	k.quota_month = store_apikey_month((int64_t)k.created * 1000);
	assert_string_equal(apikey_state(&k, (int64_t)k.created), "quota");
	k.suspended = 1;
	assert_string_equal(apikey_state(&k, (int64_t)k.expires), "suspended");
	store_apikey_clear(&k);
	text = fx_audit_text(fx, T);
	assert_non_null(strstr(text, "admin.apikey.create name=hr-sync id="));
	assert_non_null(strstr(text, "scopes=read "));
	assert_non_null(strstr(text, "trial=yes actor=apikey:root-key"));
	assert_null(strstr(text, key + 21));	/* the secret part */
	free(text);
	freezero_str(key);
	free(kid);
}

static void
test_apikey_create_refused(void **state)
{
	struct fx *fx = *state;
	struct apikey_in ki = { .name = "k", .scopes = APIKEY_SCOPE_READ | APIKEY_SCOPE_CERTS,
		.max_scopes = APIKEY_SCOPE_READ | APIKEY_SCOPE_WRITE };
	struct instance in;
	struct admin a;
	char *key;

	admin_of(fx, &in, &a);
	assert_int_equal(apikey_create(&a, &ki, &key, NULL), -1);
	assert_int_equal(a.status, ADMIN_FORBIDDEN);
	assert_string_equal(a.field, "scopes");
	assert_null(key);
	ki.scopes = 0;
	assert_int_equal(apikey_create(&a, &ki, &key, NULL), -1);
	assert_int_equal(a.status, ADMIN_INVALID);
	assert_string_equal(a.field, "scopes");
	ki.scopes = APIKEY_SCOPE_READ;
	ki.name = "no spaces";
	assert_int_equal(apikey_create(&a, &ki, &key, NULL), -1);
	assert_string_equal(a.field, "name");
	ki.name = "k";
	ki.expires_in = 59;
	assert_int_equal(apikey_create(&a, &ki, &key, NULL), -1);
	assert_string_equal(a.field, "expires_in");
	ki.expires_in = 0;
	assert_int_equal(apikey_create(&a, &ki, &key, NULL), 0);
	freezero_str(key);
	assert_int_equal(apikey_create(&a, &ki, &key, NULL), -1);
	assert_int_equal(a.status, ADMIN_CONFLICT);
	assert_string_equal(a.msg, "API key k exists");
	assert_int_equal(apikey_set_suspended(&a, "nope", 1), -1);
	assert_int_equal(a.status, ADMIN_NOT_FOUND);
	assert_int_equal(apikey_delete(&a, "nope"), -1);
	assert_int_equal(a.status, ADMIN_NOT_FOUND);
	assert_int_equal(apikey_set_suspended(&a, "K", 1), 0);
	assert_int_equal(apikey_delete(&a, "k"), 0);
	assert_int_equal(raw_count(fx, "apikeys"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apikey_parse),
		cmocka_unit_test(test_apikey_scopes),
		cmocka_unit_test(test_apikey_duration),
		cmocka_unit_test_setup_teardown(test_apikey_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apikey_create_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
