/*
 * Fuzz target: certificate requests (certs/ca.c ca_csr_public_key: PEM, proof of
 * possession, key type and size, named curves only).  An input that is not PEM is taken
 * as DER and wrapped, so the fuzzer can change the ASN.1 directly.  Property: an accepted
 * request yields a public key that encodes as a SubjectPublicKeyInfo.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"
#include "ca.h"
#include "encode.h"
#include "fuzz.h"

static char *
pem_of_der(const uint8_t *data, size_t size)
{
	char *b64 = b64_encode(data, size);
	size_t n = strlen(b64);
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, "-----BEGIN CERTIFICATE REQUEST-----\n");
	for (size_t i = 0; i < n; i += 64) {
		buf_append(&b, b64 + i, n - i < 64 ? n - i : 64);
		buf_putc(&b, '\n');
	}
	buf_puts(&b, "-----END CERTIFICATE REQUEST-----\n");
	free(b64);
	return buf_steal(&b, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *err = NULL;
	EVP_PKEY *pub;
	char *pem;

	if (size >= 5 && memcmp(data, "-----", 5) == 0)
		pem = fuzz_str(data, size);
	else
		pem = pem_of_der(data, size);
	pub = ca_csr_public_key(pem, strlen(pem), &err);
	fuzz_verdict(pub ? NULL : err);
	if (pub) {
		FUZZ_ASSERT(i2d_PUBKEY(pub, NULL) > 0);
		EVP_PKEY_free(pub);
	} else {
		FUZZ_ASSERT(err != NULL);
	}
	free(pem);
	return 0;
}
