/*
 * The client's address from X-Forwarded-For or Forwarded, read from the right: each proxy
 * appends what it saw, so only the entries right of the first untrusted one were written
 * by proxies we trust.  Reading from the right also keeps a client's unbalanced quote or
 * stray comma on its own side of the header.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "forwarded.h"

#define OWS " \t"

/* A port: digits, or RFC 7239's obfuscated "_" 1*(ALPHA / DIGIT / "." / "_" / "-"). */
static int
valid_port(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (s[0] == '_') {
		for (size_t i = 1; i < n; i++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			    s[i]))
				return 0;
		return n > 1;
	}
	if (n > 5)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/*
 * The host of "IPv4", "IPv4:port", "[IPv6]", "[IPv6]:port" or a bare IPv6 address:
 * start, length, family and port in *port_r (NULL: none).  0, or -1 when malformed.
 */
static int
split_host(const char *s, size_t n, size_t *start_r, size_t *len_r, int *family_r,
    const char **port_r)
{
	const char *end = s + n, *colon = memchr(s, ':', n), *close;

	*port_r = NULL;
	*start_r = 0;
	*len_r = n;
	*family_r = AF_INET;
	if (n > 0 && s[0] == '[') {
		if ((close = memchr(s, ']', n)) == NULL)
			return -1;
		*start_r = 1;
		*len_r = (size_t)(close - s - 1);
		*family_r = AF_INET6;
		if (close + 1 < end && close[1] != ':')
			return -1;
		if (close + 1 < end)
			*port_r = close + 2;
	} else if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1)) == NULL) {
		*len_r = (size_t)(colon - s);
		*port_r = colon + 1;
	} else if (colon) {
		*family_r = AF_INET6;
	}
	return *port_r && !valid_port(*port_r, (size_t)(end - *port_r)) ? -1 : 0;
}

/* The numeric address of one entry (n bytes at s, unquoted) into out; 0 or -1. */
static int
entry_addr(const char *s, size_t n, char out[FORWARDED_IP_MAX])
{
	char host[FORWARDED_IP_MAX];
	unsigned char a[16];
	const char *port;
	size_t start, len;
	int family;

	if (split_host(s, n, &start, &len, &family, &port) == -1)
		return -1;
	if (len == 0 || len >= sizeof(host))
		return -1;
	memcpy(host, s + start, len);
	host[len] = '\0';
	if (inet_pton(family, host, a) != 1)
		return -1;
	return inet_ntop(family, a, out, FORWARDED_IP_MAX) ? 0 : -1;
}

/* s..end without the optional white space around it. */
static void
trim(const char **s, const char **end)
{
	while (*s < *end && **s && strchr(OWS, **s))
		(*s)++;
	while (*end > *s && (*end)[-1] && strchr(OWS, (*end)[-1]))
		(*end)--;
}

/* A quote at p that is not escaped by an odd run of backslashes before it. */
static int
real_quote(const char *h, const char *p)
{
	size_t n = 0;

	if (*p != '"')
		return 0;
	while (p - n > h && p[-1 - (ptrdiff_t)n] == '\\')
		n++;
	return n % 2 == 0;
}

/* The start of the last entry of h..end: after the last comma (outside quotes when
 * quotes is set, for Forwarded) or h. */
static const char *
last_entry(const char *h, const char *end, int quotes)
{
	int in_quote = 0;

	for (const char *p = end; p > h; p--) {
		if (quotes && real_quote(h, p - 1))
			in_quote = !in_quote;
		else if (p[-1] == ',' && !in_quote)
			return p;
	}
	return h;
}

/* A quoted-string's content (s..end includes the quotes) without its escapes. */
static int
unquote(const char *s, const char *end, char *out, size_t cap, size_t *len_r)
{
	size_t n = 0;

	if (end - s < 2 || s[0] != '"' || end[-1] != '"')
		return -1;
	for (s++, end--; s < end; s++) {
		if (*s == '\\' && s + 1 < end)
			s++;
		else if (*s == '"' || *s == '\\')
			return -1;
		if (n + 1 >= cap)
			return -1;
		out[n++] = *s;
	}
	*len_r = n;
	return 0;
}

/* The end of the parameter that starts at s: the next ';' outside quotes, or end. */
static const char *
pair_end(const char *s, const char *end)
{
	int in_quote = 0;

	for (; s < end; s++) {
		if (in_quote && *s == '\\' && s + 1 < end)
			s++;
		else if (*s == '"')
			in_quote = !in_quote;
		else if (*s == ';' && !in_quote)
			break;
	}
	return s;
}

/* The address of a Forwarded element's for= parameter; 0, or -1 when there is none or
 * it does not parse ("unknown", "_hidden"). */
static int
element_for(const char *s, const char *end, char out[FORWARDED_IP_MAX])
{
	char val[FORWARDED_IP_MAX + 16];
	const char *ps, *pe, *eq;
	size_t n;

	for (; s < end; s = pe < end ? pe + 1 : end) {
		ps = s;
		pe = pair_end(s, end);
		s = pe;
		trim(&ps, &s);
		eq = memchr(ps, '=', (size_t)(s - ps));
		if (eq == NULL || eq - ps != 3 || strncasecmp(ps, "for", 3) != 0)
			continue;
		if (eq[1] != '"')
			return entry_addr(eq + 1, (size_t)(s - eq - 1), out);
		if (unquote(eq + 1, s, val, sizeof(val), &n) == -1)
			return -1;
		return entry_addr(val, n, out);
	}
	return -1;
}

/*
 * Walk h (not blank) from the right: skip trusted proxies, stop at the first other entry.
 * 1 with its address, -1 when it does not parse; when every entry is a trusted proxy, the
 * leftmost is the client (a request from inside).
 */
static int
walk(const char *h, int fwd, const struct ipnet_list *trusted, char out[FORWARDED_IP_MAX])
{
	const char *end = h + strlen(h), *s, *ts, *te;
	char addr[FORWARDED_IP_MAX];
	int rc;

	for (;;) {
		s = last_entry(h, end, fwd);
		ts = s;
		te = end;
		trim(&ts, &te);
		rc = fwd ? element_for(ts, te, addr) : entry_addr(ts, (size_t)(te - ts), addr);
		if (rc == -1)
			return -1;
		memcpy(out, addr, sizeof(addr));
		if (!ipnet_match(trusted, addr) || s == h)
			return 1;
		end = s - 1;
	}
}

static int
blank(const char *s)
{
	return s == NULL || s[strspn(s, OWS)] == '\0';
}

int
forwarded_client(const char *peer, const char *xff, const char *fwd,
    const struct ipnet_list *trusted, char out[FORWARDED_IP_MAX])
{
	char peer_ip[FORWARDED_IP_MAX];
	const char *h = blank(fwd) ? xff : fwd;
	int rc;

	snprintf(peer_ip, sizeof(peer_ip), "%s", peer ? peer : "");
	memcpy(out, peer_ip, sizeof(peer_ip));
	if (trusted == NULL || trusted->n == 0 || !ipnet_match(trusted, peer_ip) || blank(h))
		return 0;
	/* Padding would otherwise push the client's entry out of reach: refuse, never guess. */
	if (strnlen(h, FORWARDED_HEADER_MAX + 1) > FORWARDED_HEADER_MAX)
		return -1;
	rc = walk(h, h == fwd, trusted, out);
	if (rc != 1)
		memcpy(out, peer_ip, sizeof(peer_ip));
	return rc;
}
