/*
 * The client's address behind trusted reverse proxies: the TCP peer, or, when the peer is
 * a trusted proxy, the rightmost address of X-Forwarded-For / Forwarded (RFC 7239) that is
 * not itself a trusted proxy.  Headers from any other peer are ignored.
 */
#ifndef SEKISHO_FORWARDED_H
#define SEKISHO_FORWARDED_H

#include <stddef.h>

#include "ipnet.h"

#define FORWARDED_IP_MAX 46	/* INET6_ADDRSTRLEN */
#define FORWARDED_HEADER_MAX 4096	/* longer headers (all lines joined) are refused */

/*
 * Write the client's numeric address into out.  peer: the TCP peer's numeric address;
 * xff: X-Forwarded-For or NULL; fwd: Forwarded or NULL (Forwarded wins when both are
 * there); trusted: the proxies (NULL or empty: none).  Entries may carry a port
 * ("192.0.2.1:4711", "[2001:db8::1]:4711"); Forwarded's for= may be quoted; "unknown" and
 * obfuscated identifiers count as untrusted addresses that do not parse.  A header longer
 * than FORWARDED_HEADER_MAX is -1 (a client's padding must not hide its entry).  Returns 1 when
 * the address came from a header, 0 when it is the peer (peer untrusted, or no header),
 * -1 when the entry that counts does not parse (only a misbehaving proxy writes that: the
 * caller refuses the request rather than guess; out then holds the peer).  Entries left
 * of the one that counts are the client's to write and are never read.
 */
int forwarded_client(const char *peer, const char *xff, const char *fwd,
    const struct ipnet_list *trusted, char out[FORWARDED_IP_MAX]);

#endif
