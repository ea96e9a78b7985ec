/*
 * Unit tests for lib/url.c: the public base URL, the rule every app URI follows (OIDC
 * redirect and logout URIs and SAML endpoints share it, with the same message), loopback
 * hosts, and listen addresses.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "url.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* An input, and the host and port it splits into (NULL: refused). */
struct split_case {
	const char *in, *host, *port;
};

static void
check_splits(const struct split_case *cases, size_t n,
    int (*split)(const char *, char **, char **))
{
	for (size_t i = 0; i < n; i++) {
		char *host = NULL, *port = NULL;
		int rc = split(cases[i].in, &host, &port);

		if (rc != (cases[i].host ? 0 : -1))
			print_error("%s: %d\n", cases[i].in, rc);
		assert_int_equal(rc, cases[i].host ? 0 : -1);
		if (cases[i].host) {
			assert_string_equal(host, cases[i].host);
			assert_string_equal(port, cases[i].port);
		}
		free(host);
		free(port);
	}
}

static void
test_url_https_authority(void **state)
{
	static const struct split_case cases[] = {
		{ "https://idp.example.co.jp", "idp.example.co.jp", "443" },
		{ "https://idp.example.co.jp/", "idp.example.co.jp", "443" },
		{ "https://127.0.0.1:8443", "127.0.0.1", "8443" },
		{ "https://[::1]:65535", "::1", "65535" },
		{ "https://[2001:db8::1]", "2001:db8::1", "443" },
		{ "http://idp.example", NULL, NULL },
		{ "https://", NULL, NULL },
		{ "https://idp.example/path", NULL, NULL },
		{ "https://user@idp.example", NULL, NULL },
		{ "https://idp.example:0", NULL, NULL },
		{ "https://idp.example:65536", NULL, NULL },
		{ "https://idp.example:", NULL, NULL },
		{ "https://idp.example:44a", NULL, NULL },
		{ "https://[::1", NULL, NULL },
		{ "https://idp_example", NULL, NULL },
	};

	check_splits(cases, NELEM(cases), url_https_authority);
}

static void
test_url_app_uri(void **state)
{
	static const struct {
		const char *uri;
		int ok;
	} cases[] = {
		{ "https://rp.example/cb", 1 },
		{ "https://rp.example:8443/cb?x=1", 1 },
		{ "https://sp.example.com/saml/acs", 1 },
		{ "http://127.0.0.1/cb", 1 },
		{ "http://127.0.0.1:8080/cb", 1 },
		{ "http://[::1]:8080/cb", 1 },
		{ "http://localhost", 1 },
		{ "http://localhost:3000/cb", 1 },
		/* http to anything but loopback: the case the SAML check was missing. */
		{ "http://sp.example.com/saml/acs", 0 },
		{ "http://rp.example/cb", 0 },
		{ "http://127.0.0.1.rp.example/cb", 0 },
		{ "http://localhost.rp.example/cb", 0 },
		{ "http://127.0.0.1@rp.example/cb", 0 },
		{ "https://localhost@rp.example/cb", 0 },
		{ "https://rp.example/cb#frag", 0 },
		{ "https://rp.example/c b", 0 },
		{ "https://rp.example/cb\r\n", 0 },
		{ "https:///cb", 0 },
		{ "https://", 0 },
		{ "ftp://rp.example/cb", 0 },
		{ "/relative/cb", 0 },
		{ "javascript:alert(1)", 0 },
		{ "", 0 },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		const char *err = NULL;
		int rc = url_check_app_uri(cases[i].uri, &err);

		if (rc != (cases[i].ok ? 0 : -1))
			print_error("%s: %d\n", cases[i].uri, rc);
		assert_int_equal(rc, cases[i].ok ? 0 : -1);
		if (!cases[i].ok)
			assert_string_equal(err, "must be https (http only for 127.0.0.1, [::1] or "
			    "localhost), absolute, without fragment or user info");
	}
}

static void
test_url_app_uri_length(void **state)
{
	char uri[2100];
	const char *err;

	memset(uri, 'a', sizeof(uri));
	memcpy(uri, "https://rp.example/", 19);
	uri[2048] = '\0';
	assert_int_equal(url_check_app_uri(uri, &err), 0);
	uri[2048] = 'a';
	uri[2049] = '\0';
	assert_int_equal(url_check_app_uri(uri, &err), -1);
}

static void
test_url_loopback(void **state)
{
	static const char *const yes[] = { "127.0.0.1", "127.1.2.3", "::1", "localhost",
		"LOCALHOST" };
	static const char *const no[] = { "128.0.0.1", "127.example.com", "::2", "0.0.0.0",
		"idp.example.co.jp", "localhost.example", "" };

	for (size_t i = 0; i < NELEM(yes); i++)
		assert_true(url_host_is_loopback(yes[i]));
	for (size_t i = 0; i < NELEM(no); i++)
		assert_false(url_host_is_loopback(no[i]));
}

static int
split_listen(const char *in, char **host_r, char **port_r)
{
	const char *err = NULL;
	int rc = url_split_listen(in, host_r, port_r, &err);

	assert_true(rc == 0 || (err && *err));
	return rc;
}

static void
test_url_split_listen(void **state)
{
	static const struct split_case cases[] = {
		{ "0.0.0.0:443", "0.0.0.0", "443" },
		{ "*:443", "*", "443" },
		{ "[::]:8443", "::", "8443" },
		{ "[::1]:1", "::1", "1" },
		{ "idp.example.co.jp:443", "idp.example.co.jp", "443" },
		{ "localhost:65535", "localhost", "65535" },
		{ "idp.example.co.jp", NULL, NULL },
		{ ":443", NULL, NULL },
		{ "[]:443", NULL, NULL },
		{ "::1:443", NULL, NULL },
		{ "[::1]443", NULL, NULL },
		{ "host:0", NULL, NULL },
		{ "host:65536", NULL, NULL },
		{ "host:https", NULL, NULL },
		{ "host:", NULL, NULL },
		{ "a b:443", NULL, NULL },
		{ "", NULL, NULL },
	};

	check_splits(cases, NELEM(cases), split_listen);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_https_authority),
		cmocka_unit_test(test_url_app_uri),
		cmocka_unit_test(test_url_app_uri_length),
		cmocka_unit_test(test_url_loopback),
		cmocka_unit_test(test_url_split_listen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
