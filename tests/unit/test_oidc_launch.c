/*
 * Unit tests for the portal's OIDC launch (idp/oidc/oidc_proto.c): the login initiation
 * URL of OpenID Connect Core 4, with iss and target_link_uri encoded and added to the
 * query the client's initiate_login_uri may already have.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "oidc.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
test_oidc_launch_initiation_table(void **state)
{
	static const struct {
		const char *initiate, *iss, *target, *want;
	} cases[] = {
		{ "https://rp.example/login", "https://idp.example/t/acme", "https://rp.example/",
		    "https://rp.example/login?iss=https%3A%2F%2Fidp.example%2Ft%2Facme"
		    "&target_link_uri=https%3A%2F%2Frp.example%2F" },
		/* the client's own query stays, ours follows it */
		{ "https://rp.example/sso?from=portal&x=a%20b", "https://i/t/a", NULL,
		    "https://rp.example/sso?from=portal&x=a%20b&iss=https%3A%2F%2Fi%2Ft%2Fa" },
		{ "https://rp.example/sso?", "https://i/t/a", NULL,
		    "https://rp.example/sso?iss=https%3A%2F%2Fi%2Ft%2Fa" },
		{ "https://rp.example/sso?a=1&", "https://i/t/a", NULL,
		    "https://rp.example/sso?a=1&iss=https%3A%2F%2Fi%2Ft%2Fa" },
		/* a fragment is not sent: it would hide iss from the client */
		{ "https://rp.example/sso#top", "https://i/t/a", NULL,
		    "https://rp.example/sso?iss=https%3A%2F%2Fi%2Ft%2Fa" },
		{ "https://rp.example/sso?a=1#x?y", "https://i/t/a", NULL,
		    "https://rp.example/sso?a=1&iss=https%3A%2F%2Fi%2Ft%2Fa" },
		/* markup and separators in a target are encoded, not passed on */
		{ "https://rp.example/l", "https://i/t/a", "https://rp.example/?a=1&b=<x>#f",
		    "https://rp.example/l?iss=https%3A%2F%2Fi%2Ft%2Fa"
		    "&target_link_uri=https%3A%2F%2Frp.example%2F%3Fa%3D1%26b%3D%3Cx%3E%23f" },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		char *got = oidc_initiation_url(cases[i].initiate, cases[i].iss, cases[i].target);
		assert_string_equal(got, cases[i].want);
		free(got);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oidc_launch_initiation_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
