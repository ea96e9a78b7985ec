/*
 * Cookie request headers (RFC 6265 section 5.4): "name=value" pairs separated by ';'.
 * A cookie counts only when its name comes exactly once in the request, so a cookie
 * planted for a parent domain or a longer path cannot stand beside ours unnoticed.
 */
#ifndef SEKISHO_COOKIE_H
#define SEKISHO_COOKIE_H

#include <stddef.h>

#define COOKIE_MAX_PAIRS 64

struct cookie_pair {
	char *name;
	char *value;		/* NULL when the pair held control characters */
};

struct cookie_jar {
	struct cookie_pair c[COOKIE_MAX_PAIRS];
	size_t n;
	int overflow;		/* more pairs than COOKIE_MAX_PAIRS: no cookie is trusted */
};

/*
 * Add the pairs of one Cookie header value s[0..len) to jar (zeroed before first use).
 * Blanks around names and values are dropped; a pair without '=' is ignored.
 */
void cookie_parse(struct cookie_jar *jar, const char *s, size_t len);
/* The value of the cookie called name (borrowed), or NULL when absent, sent more than
 * once, unusable, or when the jar overflowed. */
const char *cookie_get(const struct cookie_jar *jar, const char *name);
/* Wipe and free what jar holds (session cookies are secrets); the jar is empty again. */
void cookie_free(struct cookie_jar *jar);

#endif
