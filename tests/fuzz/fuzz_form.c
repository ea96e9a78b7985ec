/*
 * Fuzz target: query strings and form bodies (lib/form.c) and the decoders behind them and
 * behind Authorization headers and JWTs (lib/encode.c).  The first byte picks the parser.
 * Properties: a parsed form holds no duplicate names; a base64 or base64url decoder that
 * accepts an input accepts only its canonical encoding.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "form.h"
#include "fuzz.h"
#include "xmalloc.h"

static void
fuzz_form(const char *s, size_t n)
{
	struct form fm;
	const char *err = NULL;

	if (form_parse(&fm, s, n, &err) == 0) {
		FUZZ_ASSERT(fm.n <= FORM_MAX_FIELDS);
		for (size_t i = 0; i < fm.n; i++) {
			FUZZ_ASSERT(form_get_field(&fm, fm.f[i].name) == &fm.f[i]);
			FUZZ_ASSERT(fm.f[i].raw >= s && fm.f[i].raw + fm.f[i].rawlen <= s + n);
		}
		(void)form_get(&fm, "SAMLRequest");
	} else {
		FUZZ_ASSERT(err != NULL);
	}
	form_free(&fm);
}

static void
fuzz_url(const char *s, size_t n, int plus)
{
	size_t len = 0;
	char *v = url_decode(s, n, plus, &len);

	if (v) {
		FUZZ_ASSERT(len <= n && strlen(v) == len);
		free(v);
	}
}

static void
fuzz_b64(const char *s, size_t n, int url, int ws)
{
	size_t len = 0;
	unsigned char *v = url ? b64url_decode(s, n, 4096, &len) : b64_decode(s, n, ws, 4096, &len);
	char *again;

	if (v == NULL)
		return;
	FUZZ_ASSERT(len <= 4096);
	if (!ws) {
		again = url ? b64url_encode(v, len) : b64_encode(v, len);
		FUZZ_ASSERT(strlen(again) == n && memcmp(again, s, n) == 0);
		free(again);
	}
	free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size == 0)
		return 0;
	s = fuzz_str(data + 1, size - 1);
	switch (data[0] % 6) {
	case 0: fuzz_form(s, size - 1); break;
	case 1: fuzz_url(s, size - 1, 0); break;
	case 2: fuzz_url(s, size - 1, 1); break;
	case 3: fuzz_b64(s, size - 1, 0, 0); break;
	case 4: fuzz_b64(s, size - 1, 0, 1); break;
	default: fuzz_b64(s, size - 1, 1, 0); break;
	}
	free(s);
	return 0;
}
