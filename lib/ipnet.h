/*
 * Lists of IP addresses and networks ("192.0.2.7 10.0.0.0/8 2001:db8::/32"), whether an
 * address belongs to one of them, and what an address's failures are counted under.
 */
#ifndef SEKISHO_IPNET_H
#define SEKISHO_IPNET_H

#include <stddef.h>

#define IPNET_MAX 64

struct ipnet {
	int family;			/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned int prefix;
};

struct ipnet_list {
	struct ipnet nets[IPNET_MAX];
	size_t n;
};

/* Parse a list separated by spaces or commas; 0, or -1 with *errstr. */
int ipnet_parse(const char *s, struct ipnet_list *l, const char **errstr);
/* 1 when the numeric address ip (v4, v6 or v4-mapped v6) is in l, else 0. */
int ipnet_match(const struct ipnet_list *l, const char *ip);

#define IPNET_KEY_LEN 50	/* an IPv6 address and "/64" */
/*
 * The key under which failures from the numeric address ip are counted: an IPv4 (or
 * v4-mapped) address itself; for IPv6 its /64, "2001:db8:1:2::/64", since one host or
 * subscriber usually has a whole /64 to pick addresses from.  ip when it does not parse.
 */
void ipnet_counter_key(const char *ip, char out[IPNET_KEY_LEN]);

#endif
