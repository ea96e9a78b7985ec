/*
 * Fuzz target: inbound SAML messages through the pre-check lasso never bypasses
 * (idp/saml/saml_check.c): the HTTP-POST and HTTP-Redirect decoders, then the hardened
 * parse and checks.  The first byte picks the way in: raw XML (so the fuzzer can work on
 * the structure directly), a POST value (base64) or a Redirect value (base64 of DEFLATE).
 * Properties: what passes has an expected root, an ID, an Issuer and a Destination that
 * is ours (required when signed).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "log.h"
#include "saml_check.h"

#define NOW 1709210096			/* 2024-02-29T12:34:56Z */
#define SKEW (50 * 366 * 86400LL)	/* wide: seeds made today must pass the clock check */
#define DEST "https://idp.example.org/t/default/saml/sso"
#define EXPECT "AuthnRequest|LogoutRequest|LogoutResponse"
#define MAX_MESSAGE (256 * 1024)	/* saml_max_message's default */

static void
quiet(enum log_level level, const char *line, void *arg)
{
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_sink(quiet, NULL);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct saml_msg m;
	const char *err = NULL;
	char *in, *xml;
	size_t len = 0;

	if (size == 0)
		return 0;
	in = fuzz_str(data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		xml = in;
		len = size - 1;
		in = NULL;
		break;
	case 1:
		xml = saml_check_decode_post(in, MAX_MESSAGE, &len, &err);
		break;
	default:
		xml = saml_check_decode_redirect(in, MAX_MESSAGE, &len, &err);
		break;
	}
	free(in);
	if (xml == NULL) {
		FUZZ_ASSERT(err != NULL);
		fuzz_verdict(err);
		return 0;
	}
	FUZZ_ASSERT(len <= MAX_MESSAGE || data[0] % 3 == 0);
	if (saml_check_message(&m, xml, len, EXPECT, DEST, NOW, SKEW, &err) == 0) {
		FUZZ_ASSERT(m.root && strstr(EXPECT, m.root) && m.id && *m.id && m.issuer);
		FUZZ_ASSERT(m.destination == NULL || strcmp(m.destination, DEST) == 0);
		FUZZ_ASSERT(!m.signed_xml || m.destination != NULL);
		err = NULL;
	} else {
		FUZZ_ASSERT(err != NULL);
	}
	fuzz_verdict(err);
	saml_check_clear(&m);
	return 0;
}
