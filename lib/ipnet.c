/*
 * IP networks with inet_pton, and the key under which an address's failures count.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ipnet.h"

/* addr of a numeric address; a v4-mapped v6 address counts as v4.  0 or -1. */
static int
parse_addr(const char *s, int *family, unsigned char addr[16])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) != 1)
		return -1;
	*family = AF_INET6;
	if (memcmp(addr, mapped, 12) == 0) {
		memmove(addr, addr + 12, 4);
		*family = AF_INET;
	}
	return 0;
}

int
ipnet_parse(const char *s, struct ipnet_list *l, const char **errstr)
{
	memset(l, 0, sizeof(*l));
	while (*s) {
		char item[64], *slash, *end;
		size_t n = strcspn(s, " ,\t");
		struct ipnet *net;
		unsigned int max;

		if (n == 0) {
			s++;
			continue;
		}
		if (n >= sizeof(item)) {
			*errstr = "address too long";
			return -1;
		}
		if (l->n == IPNET_MAX) {
			*errstr = "too many addresses (at most 64)";
			return -1;
		}
		memcpy(item, s, n);
		item[n] = '\0';
		s += n;
		net = &l->nets[l->n];
		if ((slash = strchr(item, '/')) != NULL)
			*slash = '\0';
		if (parse_addr(item, &net->family, net->addr) == -1) {
			*errstr = "not an IP address or network";
			return -1;
		}
		max = net->family == AF_INET ? 32 : 128;
		net->prefix = max;
		if (slash) {
			unsigned long p = strtoul(slash + 1, &end, 10);
			if (slash[1] < '0' || slash[1] > '9' || *end || p > max) {
				*errstr = "bad prefix length";
				return -1;
			}
			net->prefix = (unsigned int)p;
		}
		l->n++;
	}
	return 0;
}

static int
in_net(const struct ipnet *net, const unsigned char *a)
{
	unsigned int bytes = net->prefix / 8, bits = net->prefix % 8;

	if (memcmp(net->addr, a, bytes) != 0)
		return 0;
	if (bits == 0)
		return 1;
	return ((net->addr[bytes] ^ a[bytes]) & (0xff << (8 - bits)) & 0xff) == 0;
}

int
ipnet_match(const struct ipnet_list *l, const char *ip)
{
	unsigned char a[16];
	int family;

	if (ip == NULL || parse_addr(ip, &family, a) == -1)
		return 0;
	for (size_t i = 0; i < l->n; i++)
		if (l->nets[i].family == family && in_net(&l->nets[i], a))
			return 1;
	return 0;
}

void
ipnet_counter_key(const char *ip, char out[IPNET_KEY_LEN])
{
	char net[INET6_ADDRSTRLEN];
	unsigned char a[16];
	int family;

	if (ip == NULL || parse_addr(ip, &family, a) == -1) {
		snprintf(out, IPNET_KEY_LEN, "%s", ip ? ip : "");
		return;
	}
	if (family == AF_INET) {
		inet_ntop(AF_INET, a, out, IPNET_KEY_LEN);
		return;
	}
	memset(a + 8, 0, 8);
	inet_ntop(AF_INET6, a, net, sizeof(net));
	snprintf(out, IPNET_KEY_LEN, "%s/64", net);
}
