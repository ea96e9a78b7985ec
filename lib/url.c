/*
 * Checking and splitting URLs and listen addresses.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "url.h"
#include "xmalloc.h"

/* A port number of 1-65535 in decimal, n bytes at p. */
static int
port_ok(const char *p, size_t n)
{
	long v = 0;

	if (n == 0 || n > 5)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (p[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

int
url_https_authority(const char *url, char **host_r, char **port_r)
{
	const char *h = url + 8, *end, *colon;
	char *host, *port;

	if (strncmp(url, "https://", 8) != 0 || *h == '\0')
		return -1;
	end = h + strcspn(h, "/?#@");
	if (*end && strcmp(end, "/") != 0)
		return -1;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));
		if (rb == NULL || (rb[1] != ':' && rb + 1 != end))
			return -1;
		host = xstrndup(h + 1, (size_t)(rb - h - 1));
		colon = rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		host = xstrndup(h, (size_t)((colon ? colon : end) - h));
	}
	port = colon ? xstrndup(colon + 1, (size_t)(end - colon - 1)) : xstrdup("443");
	if (*host == '\0' || strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-:") != strlen(host) || !port_ok(port, strlen(port))) {
		free(host);
		free(port);
		return -1;
	}
	*host_r = host;
	*port_r = port;
	return 0;
}

/* host (n bytes) is name, followed by a port or the end of the authority. */
static int
host_is(const char *h, size_t n, const char *name)
{
	size_t len = strlen(name);

	return n >= len && !strncmp(h, name, len) && (n == len || h[len] == ':');
}

int
url_check_app_uri(const char *u, const char **errstr)
{
	const char *h, *end;
	int https = !strncmp(u, "https://", 8);
	size_t n;

	*errstr = "must be https (http only for 127.0.0.1, [::1] or localhost), absolute, "
	    "without fragment or user info";
	if (strlen(u) > 2048 || strchr(u, '#') || strpbrk(u, " \t\r\n\\<>\"") ||
	    (!https && strncmp(u, "http://", 7)))
		return -1;
	h = u + (https ? 8 : 7);
	end = h + strcspn(h, "/?");
	n = (size_t)(end - h);
	if (n == 0 || memchr(h, '@', n))
		return -1;
	if (https || host_is(h, n, "127.0.0.1") || host_is(h, n, "[::1]") ||
	    host_is(h, n, "localhost"))
		return 0;
	return -1;
}

int
url_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return !strcasecmp(host, "localhost");
}

int
url_split_listen(const char *s, char **host_r, char **port_r, const char **errstr)
{
	const char *colon, *host = s;
	size_t hlen;

	*errstr = "expected HOST:PORT, [IPv6]:PORT or *:PORT (every address)";
	if (*s == '[') {
		const char *rb = strchr(s, ']');
		if (rb == NULL || rb[1] != ':' || rb == s + 1)
			return -1;
		host = s + 1;
		hlen = (size_t)(rb - host);
		colon = rb + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL || colon == s || memchr(s, ':',
		    (size_t)(colon - s)))
			return -1;
		hlen = (size_t)(colon - s);
	}
	if (memchr(host, ' ', hlen) || memchr(host, '\t', hlen) || memchr(host, '/', hlen))
		return -1;
	if (!port_ok(colon + 1, strlen(colon + 1))) {
		*errstr = "the port must be a number from 1 to 65535";
		return -1;
	}
	*host_r = xstrndup(host, hlen);
	*port_r = xstrdup(colon + 1);
	return 0;
}
