/*
 * Fuzz target: Cookie headers (lib/cookie.c).  Input lines are separate Cookie headers of
 * one request.  Properties: a value returned is the only pair of its name and holds no
 * control characters; freeing empties the jar.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cookie.h"
#include "fuzz.h"

static const char *const names[] = { "sekisho_sid", "sekisho_pre", "sekisho_lang", "", "a" };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cookie_jar jar;
	const char *p = (const char *)data, *end = p + size;

	memset(&jar, 0, sizeof(jar));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;

		cookie_parse(&jar, p, (size_t)(le - p));
		p = nl ? nl + 1 : end;
	}
	FUZZ_ASSERT(jar.n <= COOKIE_MAX_PAIRS);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = cookie_get(&jar, names[i]);
		size_t hits = 0;

		if (v == NULL)
			continue;
		FUZZ_ASSERT(!jar.overflow);
		for (size_t j = 0; j < jar.n; j++)
			hits += strcmp(jar.c[j].name, names[i]) == 0;
		FUZZ_ASSERT(hits == 1);
		for (const char *c = v; *c; c++)
			FUZZ_ASSERT((unsigned char)*c >= 0x20 && *c != 0x7f);
	}
	cookie_free(&jar);
	FUZZ_ASSERT(jar.n == 0 && !jar.overflow);
	return 0;
}
