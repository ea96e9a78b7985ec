/*
 * Cookie header parsing, ours rather than libmicrohttpd's so that every Cookie header
 * counts towards the exactly-once rule and the parser can be unit-tested and fuzzed.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cookie.h"
#include "xmalloc.h"

static void
trim(const char **b, const char **e)
{
	while (*b < *e && (**b == ' ' || **b == '\t'))
		(*b)++;
	while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

/* A NUL inside would make the value read shorter than it was sent. */
static int
printable(const char *s, const char *e)
{
	for (; s < e; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

void
cookie_parse(struct cookie_jar *jar, const char *s, size_t len)
{
	const char *p = s, *end = s + len;

	while (p < end && !jar->overflow) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *pe = semi ? semi : end;
		const char *eq = memchr(p, '=', (size_t)(pe - p));
		const char *nb = p, *ne = eq, *vb, *ve = pe;
		struct cookie_pair *c;

		p = semi ? semi + 1 : end;
		if (eq == NULL)
			continue;
		vb = eq + 1;
		if (jar->n == COOKIE_MAX_PAIRS) {
			jar->overflow = 1;
			break;
		}
		trim(&nb, &ne);
		trim(&vb, &ve);
		c = &jar->c[jar->n++];
		/* A name with a NUL reads as its prefix: at worst a duplicate, never a miss. */
		c->name = xstrndup(nb, (size_t)(ne - nb));
		c->value = printable(vb, ve) ? xstrndup(vb, (size_t)(ve - vb)) : NULL;
	}
}

const char *
cookie_get(const struct cookie_jar *jar, const char *name)
{
	const char *v = NULL;
	size_t hits = 0;

	if (jar->overflow)
		return NULL;
	for (size_t i = 0; i < jar->n; i++)
		if (strcmp(jar->c[i].name, name) == 0) {
			v = jar->c[i].value;
			hits++;
		}
	return hits == 1 ? v : NULL;
}

void
cookie_free(struct cookie_jar *jar)
{
	for (size_t i = 0; i < jar->n; i++) {
		free(jar->c[i].name);
		freezero_str(jar->c[i].value);
	}
	memset(jar, 0, sizeof(*jar));
}
