/*
 * Unit tests for lib/ipnet.c: lists of addresses and networks (v4, v6, v4-mapped v6 taken as
 * v4), what the parser refuses and why, and matches on the edges of a prefix (/0, /32, /128,
 * first and last address, prefixes that end inside a byte), and the key an address's
 * failures count under (an IPv6 /64).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ipnet.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
test_ipnet_parse_lists(void **state)
{
	static const struct {
		const char *in;
		size_t n;
		int family0;
		unsigned int prefix0;
	} cases[] = {
		{ "192.0.2.7", 1, AF_INET, 32 },
		{ "10.0.0.0/8", 1, AF_INET, 8 },
		{ "10.0.0.0/8, 192.168.1.0/24 2001:db8::/32", 3, AF_INET, 8 },
		{ "2001:db8::1", 1, AF_INET6, 128 },
		{ "::/0", 1, AF_INET6, 0 },
		{ "0.0.0.0/0", 1, AF_INET, 0 },
		/* A v4-mapped v6 address is kept as the v4 address it stands for. */
		{ "::ffff:127.0.0.1", 1, AF_INET, 32 },
		{ "::ffff:10.0.0.0/8", 1, AF_INET, 8 },
		/* Separators may repeat: empty items are skipped, not refused. */
		{ "  10.0.0.1 ,, 10.0.0.2\t,", 2, AF_INET, 32 },
		{ ",", 0, 0, 0 },
		{ "", 0, 0, 0 },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct ipnet_list l;
		const char *err = NULL;

		if (ipnet_parse(cases[i].in, &l, &err) != 0)
			fail_msg("\"%s\": %s", cases[i].in, err);
		assert_int_equal(l.n, cases[i].n);
		if (l.n == 0)
			continue;
		assert_int_equal(l.nets[0].family, cases[i].family0);
		assert_int_equal(l.nets[0].prefix, cases[i].prefix0);
	}
}

static void
test_ipnet_parse_mapped_address_bytes(void **state)
{
	static const unsigned char want[4] = { 127, 0, 0, 1 };
	struct ipnet_list l;
	const char *err = NULL;

	assert_int_equal(ipnet_parse("::ffff:127.0.0.1", &l, &err), 0);
	assert_int_equal(l.nets[0].family, AF_INET);
	assert_memory_equal(l.nets[0].addr, want, 4);
}

static void
test_ipnet_parse_refusals(void **state)
{
	static const struct {
		const char *in, *err;
	} cases[] = {
		{ "10.0.0.0/33", "bad prefix length" },
		{ "2001:db8::/129", "bad prefix length" },
		{ "10.0.0.0/", "bad prefix length" },
		{ "10.0.0.0/-1", "bad prefix length" },
		{ "10.0.0.0/+8", "bad prefix length" },
		{ "10.0.0.0/8x", "bad prefix length" },
		{ "10.0.0.0/8/8", "bad prefix length" },
		{ "10.0.0.0/99999999999999999999999", "bad prefix length" },
		/* Mapped addresses are v4: their prefix counts in v4 bits. */
		{ "::ffff:127.0.0.1/33", "bad prefix length" },
		/* A space ends an item: "/ 8" leaves an empty prefix. */
		{ "10.0.0.0/ 8", "bad prefix length" },
		{ "garbage", "not an IP address or network" },
		{ "10.0.0.256", "not an IP address or network" },
		{ "1.2.3", "not an IP address or network" },
		{ "/8", "not an IP address or network" },
		{ "2001:db8:::1", "not an IP address or network" },
		{ "fe80::1%eth0", "not an IP address or network" },
		{ "10.0.0.1 garbage", "not an IP address or network" },
		{ "10.0.0.1;10.0.0.2", "not an IP address or network" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct ipnet_list l;
		const char *err = NULL;

		if (ipnet_parse(cases[i].in, &l, &err) != -1)
			fail_msg("\"%s\" accepted", cases[i].in);
		assert_non_null(err);
		if (strcmp(err, cases[i].err) != 0)
			fail_msg("\"%s\": \"%s\", expected \"%s\"", cases[i].in, err, cases[i].err);
	}
}

static void
test_ipnet_parse_long_item(void **state)
{
	char item[80];
	struct ipnet_list l;
	const char *err = NULL;

	/* 63 bytes fit the item buffer (and are not an address); 64 do not. */
	memset(item, '1', 63);
	item[63] = '\0';
	assert_int_equal(ipnet_parse(item, &l, &err), -1);
	assert_string_equal(err, "not an IP address or network");
	memset(item, '1', 64);
	item[64] = '\0';
	err = NULL;
	assert_int_equal(ipnet_parse(item, &l, &err), -1);
	assert_string_equal(err, "address too long");
	/* The longest v6 network as text still fits. */
	err = NULL;
	assert_int_equal(ipnet_parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128", &l,
	    &err), 0);
	assert_int_equal(l.nets[0].family, AF_INET6);
	assert_int_equal(l.nets[0].prefix, 128);
}

static void
test_ipnet_parse_too_many(void **state)
{
	char s[IPNET_MAX * 16 + 32];
	size_t off = 0;
	struct ipnet_list l;
	const char *err = NULL;

	for (int i = 0; i < IPNET_MAX; i++)
		off += (size_t)snprintf(s + off, sizeof(s) - off, "10.0.%d.1 ", i);
	assert_int_equal(ipnet_parse(s, &l, &err), 0);
	assert_int_equal(l.n, IPNET_MAX);
	snprintf(s + off, sizeof(s) - off, "10.1.0.1");
	assert_int_equal(ipnet_parse(s, &l, &err), -1);
	assert_string_equal(err, "too many addresses (at most 64)");
}

static void
test_ipnet_match_edges(void **state)
{
	static const struct {
		const char *list, *ip;
		int want;
	} cases[] = {
		/* /8: first and last address in, neighbours out. */
		{ "10.0.0.0/8", "10.0.0.0", 1 },
		{ "10.0.0.0/8", "10.255.255.255", 1 },
		{ "10.0.0.0/8", "9.255.255.255", 0 },
		{ "10.0.0.0/8", "11.0.0.0", 0 },
		/* A prefix that ends inside a byte. */
		{ "192.168.1.128/25", "192.168.1.128", 1 },
		{ "192.168.1.128/25", "192.168.1.255", 1 },
		{ "192.168.1.128/25", "192.168.1.127", 0 },
		{ "192.168.2.0/23", "192.168.3.255", 1 },
		{ "192.168.2.0/23", "192.168.4.0", 0 },
		{ "192.168.2.0/23", "192.168.1.255", 0 },
		/* /32 and a bare address: exactly one. */
		{ "192.0.2.7/32", "192.0.2.7", 1 },
		{ "192.0.2.7", "192.0.2.7", 1 },
		{ "192.0.2.7", "192.0.2.6", 0 },
		{ "192.0.2.7", "192.0.2.8", 0 },
		/* /0: every address of its family, none of the other. */
		{ "0.0.0.0/0", "0.0.0.0", 1 },
		{ "0.0.0.0/0", "255.255.255.255", 1 },
		{ "0.0.0.0/0", "::1", 0 },
		{ "::/0", "::", 1 },
		{ "::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1 },
		{ "::/0", "10.0.0.1", 0 },
		/* A mapped address is v4, so ::/0 does not cover it but 0.0.0.0/0 does. */
		{ "::/0", "::ffff:10.0.0.1", 0 },
		{ "0.0.0.0/0", "::ffff:10.0.0.1", 1 },
		/* v6. */
		{ "2001:db8::/32", "2001:db8::", 1 },
		{ "2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 1 },
		{ "2001:db8::/32", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
		{ "2001:db8::/32", "2001:db9::", 0 },
		{ "2001:db8::/33", "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff", 1 },
		{ "2001:db8::/33", "2001:db8:8000::", 0 },
		{ "::1/128", "::1", 1 },
		{ "::1", "::1", 1 },
		{ "::1/128", "::2", 0 },
		{ "::1/128", "::", 0 },
		{ "2001:DB8::1", "2001:db8::1", 1 },
		/* v4-mapped v6 clients match v4 networks, in either spelling. */
		{ "127.0.0.0/8", "::ffff:127.0.0.1", 1 },
		{ "127.0.0.0/8", "::FFFF:127.0.0.1", 1 },
		{ "127.0.0.0/8", "::ffff:7f00:1", 1 },
		{ "127.0.0.0/8", "::ffff:128.0.0.1", 0 },
		/* The deprecated v4-compatible form is not mapped. */
		{ "127.0.0.0/8", "::127.0.0.1", 0 },
		/* A mapped address in the list matches the plain v4 client. */
		{ "::ffff:127.0.0.1", "127.0.0.1", 1 },
		{ "::ffff:127.0.0.1", "127.0.0.2", 0 },
		/* Host bits in the list are ignored: only the prefix counts. */
		{ "10.1.2.3/8", "10.9.9.9", 1 },
		/* Several networks: any one is enough. */
		{ "192.0.2.1 2001:db8::/32, 10.0.0.0/8", "10.1.1.1", 1 },
		{ "192.0.2.1 2001:db8::/32, 10.0.0.0/8", "2001:db8::5", 1 },
		{ "192.0.2.1 2001:db8::/32, 10.0.0.0/8", "192.0.2.2", 0 },
		/* Not numeric addresses: never a match. */
		{ "0.0.0.0/0", "", 0 },
		{ "0.0.0.0/0", "localhost", 0 },
		{ "0.0.0.0/0", " 10.0.0.1", 0 },
		{ "0.0.0.0/0", "10.0.0.1/8", 0 },
		{ "::/0", "fe80::1%eth0", 0 },
		/* An empty list matches nothing. */
		{ "", "10.0.0.1", 0 },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct ipnet_list l;
		const char *err = NULL;

		if (ipnet_parse(cases[i].list, &l, &err) != 0)
			fail_msg("\"%s\": %s", cases[i].list, err);
		if (ipnet_match(&l, cases[i].ip) != cases[i].want)
			fail_msg("\"%s\" in \"%s\": expected %d", cases[i].ip, cases[i].list,
			    cases[i].want);
	}
}

static void
test_ipnet_match_null(void **state)
{
	struct ipnet_list l;
	const char *err = NULL;

	assert_int_equal(ipnet_parse("0.0.0.0/0 ::/0", &l, &err), 0);
	assert_int_equal(ipnet_match(&l, NULL), 0);
}

/* Failures count per IPv4 address and per IPv6 /64: two hosts of one /64 share a key. */
static void
test_ipnet_counter_key(void **state)
{
	static const struct {
		const char *ip, *key;
	} cases[] = {
		{ "192.0.2.7", "192.0.2.7" },
		{ "::ffff:192.0.2.7", "192.0.2.7" },
		{ "2001:db8:1:2::a", "2001:db8:1:2::/64" },
		{ "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64" },
		{ "2001:0DB8:0001:0002:0:0:0:1", "2001:db8:1:2::/64" },
		{ "2001:db8:1:3::a", "2001:db8:1:3::/64" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff::/64" },
		{ "::1", "::/64" },
		{ "fe80::1%lo", "fe80::1%lo" },		/* not numeric for inet_pton: itself */
		{ "unknown", "unknown" },
		{ "", "" },
	};
	char key[IPNET_KEY_LEN];

	for (size_t i = 0; i < NELEM(cases); i++) {
		ipnet_counter_key(cases[i].ip, key);
		assert_string_equal(key, cases[i].key);
	}
	ipnet_counter_key(NULL, key);
	assert_string_equal(key, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipnet_parse_lists),
		cmocka_unit_test(test_ipnet_parse_mapped_address_bytes),
		cmocka_unit_test(test_ipnet_parse_refusals),
		cmocka_unit_test(test_ipnet_parse_long_item),
		cmocka_unit_test(test_ipnet_parse_too_many),
		cmocka_unit_test(test_ipnet_match_edges),
		cmocka_unit_test(test_ipnet_match_null),
		cmocka_unit_test(test_ipnet_counter_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
