/*
 * Unit tests for lib/forwarded.c: which address counts as the client's behind trusted
 * proxies.  One table: headers from an untrusted peer change nothing, chains of trusted
 * proxies are skipped from the right, what a client wrote left of the entry that counts is
 * never read, an entry that counts and does not parse gives -1 and the peer, X-Forwarded-For
 * and Forwarded (quoted for=, ports, IPv6 brackets, "unknown"), IPv4-mapped IPv6 peers.
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

#include "forwarded.h"
#include "xmalloc.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Proxies: the loopback one, an internal /8 and an IPv6 /48. */
#define TRUSTED "127.0.0.1/32 10.0.0.0/8 2001:db8:1::/48"

struct fwd_case {
	const char *name;
	const char *peer, *xff, *fwd;
	int want;
	const char *out;
};

static const struct fwd_case cases[] = {
	{ "no header", "127.0.0.1", NULL, NULL, 0, "127.0.0.1" },
	{ "blank header", "127.0.0.1", " \t", NULL, 0, "127.0.0.1" },
	{ "spoofed header, untrusted peer", "192.0.2.9", "10.1.2.3", NULL, 0, "192.0.2.9" },
	{ "spoofed Forwarded, untrusted peer", "192.0.2.9", NULL, "for=10.1.2.3", 0,
	    "192.0.2.9" },
	{ "garbage, untrusted peer", "192.0.2.9", "not an address", "for=unknown", 0,
	    "192.0.2.9" },
	{ "one proxy", "127.0.0.1", "198.51.100.7", NULL, 1, "198.51.100.7" },
	{ "white space", "127.0.0.1", "  198.51.100.7\t", NULL, 1, "198.51.100.7" },
	{ "chain of trusted proxies", "127.0.0.1", "198.51.100.7, 10.0.0.2, 10.9.9.9", NULL, 1,
	    "198.51.100.7" },
	{ "the client's own entries are not read", "127.0.0.1",
	    "203.0.113.1, 198.51.100.7, 10.0.0.2", NULL, 1, "198.51.100.7" },
	{ "garbage left of the entry that counts", "127.0.0.1",
	    "\"x, ;;[, unknown,, 198.51.100.7", NULL, 1, "198.51.100.7" },
	{ "a trusted address written by the client", "127.0.0.1",
	    "10.0.0.1, 198.51.100.7", NULL, 1, "198.51.100.7" },
	{ "all trusted: the leftmost", "127.0.0.1", "10.0.0.5, 10.0.0.2", NULL, 1, "10.0.0.5" },
	{ "unknown where it counts", "127.0.0.1", "198.51.100.7, unknown", NULL, -1,
	    "127.0.0.1" },
	{ "garbage where it counts", "127.0.0.1", "198.51.100.7, 10.0.0.300", NULL, -1,
	    "127.0.0.1" },
	{ "empty entry where it counts", "127.0.0.1", "198.51.100.7, ", NULL, -1, "127.0.0.1" },
	{ "empty entry left of trusted ones", "127.0.0.1", ", 10.0.0.2", NULL, -1, "127.0.0.1" },
	{ "a host name", "127.0.0.1", "client.example", NULL, -1, "127.0.0.1" },
	{ "IPv4 with a port", "127.0.0.1", "198.51.100.7:4711", NULL, 1, "198.51.100.7" },
	{ "IPv4 with a bad port", "127.0.0.1", "198.51.100.7:47a", NULL, -1, "127.0.0.1" },
	{ "bare IPv6", "127.0.0.1", "2001:DB8:2::7", NULL, 1, "2001:db8:2::7" },
	{ "bracketed IPv6 with a port", "127.0.0.1", "[2001:db8:2::7]:443", NULL, 1,
	    "2001:db8:2::7" },
	{ "bracketed IPv6 without a port", "127.0.0.1", "[2001:db8:2::7]", NULL, 1,
	    "2001:db8:2::7" },
	{ "bracket not closed", "127.0.0.1", "[2001:db8:2::7", NULL, -1, "127.0.0.1" },
	{ "trusted IPv6 proxy skipped", "127.0.0.1", "198.51.100.7, 2001:db8:1::5", NULL, 1,
	    "198.51.100.7" },
	{ "IPv6 peer in the trusted /48", "2001:db8:1::9", "198.51.100.7", NULL, 1,
	    "198.51.100.7" },
	{ "IPv4-mapped IPv6 peer, trusted", "::ffff:127.0.0.1", "198.51.100.7", NULL, 1,
	    "198.51.100.7" },
	{ "IPv4-mapped IPv6 peer, untrusted", "::ffff:192.0.2.9", "198.51.100.7", NULL, 0,
	    "::ffff:192.0.2.9" },
	{ "IPv4-mapped entry, trusted", "127.0.0.1", "198.51.100.7, ::ffff:10.0.0.2", NULL, 1,
	    "198.51.100.7" },
	{ "Forwarded", "127.0.0.1", NULL, "for=198.51.100.7", 1, "198.51.100.7" },
	{ "Forwarded wins over X-Forwarded-For", "127.0.0.1", "203.0.113.1", "for=198.51.100.7",
	    1, "198.51.100.7" },
	{ "blank Forwarded: X-Forwarded-For", "127.0.0.1", "203.0.113.1", " ", 1, "203.0.113.1" },
	{ "Forwarded, other parameters", "127.0.0.1", NULL,
	    "by=10.0.0.1;For=198.51.100.7;proto=https", 1, "198.51.100.7" },
	{ "Forwarded, quoted IPv6 with a port", "127.0.0.1", NULL,
	    "for=\"[2001:db8:2::7]:4711\"", 1, "2001:db8:2::7" },
	{ "Forwarded, quoted IPv4", "127.0.0.1", NULL, "for=\"198.51.100.7\"", 1,
	    "198.51.100.7" },
	{ "Forwarded, escapes in the quoted string", "127.0.0.1", NULL,
	    "for=\"198.51.100\\.7\"", 1, "198.51.100.7" },
	{ "Forwarded chain", "127.0.0.1", NULL,
	    "for=203.0.113.1, for=\"198.51.100.7:80\";proto=http, for=10.0.0.2", 1,
	    "198.51.100.7" },
	{ "Forwarded, client's quote stays on its side", "127.0.0.1", NULL,
	    "for=\"x, for=198.51.100.7", 1, "198.51.100.7" },
	{ "Forwarded, comma inside quotes", "127.0.0.1", NULL,
	    "for=198.51.100.7;ext=\"a,b\", for=10.0.0.2", 1, "198.51.100.7" },
	{ "Forwarded, unknown where it counts", "127.0.0.1", NULL,
	    "for=198.51.100.7, for=unknown", -1, "127.0.0.1" },
	{ "Forwarded, obfuscated where it counts", "127.0.0.1", NULL, "for=_hidden", -1,
	    "127.0.0.1" },
	{ "Forwarded, obfuscated port", "127.0.0.1", NULL, "for=\"198.51.100.7:_p1\"", 1,
	    "198.51.100.7" },
	{ "Forwarded, no for=", "127.0.0.1", NULL, "proto=https;by=10.0.0.1", -1, "127.0.0.1" },
	{ "Forwarded, unquoted IPv6 brackets", "127.0.0.1", NULL, "for=[2001:db8:2::7]", 1,
	    "2001:db8:2::7" },
	{ "Forwarded, quote not closed where it counts", "127.0.0.1", NULL,
	    "for=\"198.51.100.7", -1, "127.0.0.1" },
};

static void
test_forwarded_table(void **state)
{
	struct ipnet_list trusted;
	const char *err = NULL;
	int failed = 0;

	assert_int_equal(ipnet_parse(TRUSTED, &trusted, &err), 0);
	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct fwd_case *c = &cases[i];
		char out[FORWARDED_IP_MAX];
		int rc = forwarded_client(c->peer, c->xff, c->fwd, &trusted, out);

		if (rc != c->want || strcmp(out, c->out) != 0) {
			print_error("%s: got %d %s, want %d %s\n", c->name, rc, out, c->want, c->out);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

static void
test_forwarded_no_trusted_proxies(void **state)
{
	struct ipnet_list none;
	char out[FORWARDED_IP_MAX];

	memset(&none, 0, sizeof(none));
	assert_int_equal(forwarded_client("127.0.0.1", "198.51.100.7", NULL, NULL, out), 0);
	assert_string_equal(out, "127.0.0.1");
	assert_int_equal(forwarded_client("127.0.0.1", NULL, "for=198.51.100.7", &none, out), 0);
	assert_string_equal(out, "127.0.0.1");
}

/*
 * A header over FORWARDED_HEADER_MAX is refused (-1): read as the peer's address, a
 * client's padding would make the proxy's own address the client.
 */
static void
test_forwarded_long_header(void **state)
{
	struct ipnet_list trusted;
	const char *err = NULL;
	char out[FORWARDED_IP_MAX], *h;
	size_t n = FORWARDED_HEADER_MAX + 1, tail = strlen(", 198.51.100.7");

	assert_int_equal(ipnet_parse(TRUSTED, &trusted, &err), 0);
	h = xmalloc(n + 1);
	memset(h, ' ', n - tail);
	memcpy(h + n - tail, ", 198.51.100.7", tail + 1);
	assert_int_equal(forwarded_client("127.0.0.1", h, NULL, &trusted, out), -1);
	assert_string_equal(out, "127.0.0.1");
	/* One byte shorter it is read. */
	assert_int_equal(forwarded_client("127.0.0.1", h + 1, NULL, &trusted, out), 1);
	assert_string_equal(out, "198.51.100.7");
	free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forwarded_table),
		cmocka_unit_test(test_forwarded_no_trusted_proxies),
		cmocka_unit_test(test_forwarded_long_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
