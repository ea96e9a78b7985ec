/*
 * Checking and splitting the public base URL.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "url.h"
#include "xmalloc.h"

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
	    "0123456789.-:") != strlen(host) || *port == '\0' ||
	    strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 || atol(port) > 65535 ||
	    atol(port) == 0) {
		free(host);
		free(port);
		return -1;
	}
	*host_r = host;
	*port_r = port;
	return 0;
}
