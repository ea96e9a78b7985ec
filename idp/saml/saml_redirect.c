/*
 * Verification of HTTP-Redirect binding signatures with OpenSSL.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"
#include "encode.h"
#include "log.h"
#include "saml_check.h"
#include "saml_redirect.h"
#include "xmalloc.h"

#define MAX_KEYS 4

struct saml_keys {
	EVP_PKEY *k[MAX_KEYS];
	size_t n;
};

struct saml_keys *
saml_keys_new(char *const *certs_b64, size_t n)
{
	struct saml_keys *keys = xcalloc(1, sizeof(*keys));

	for (size_t i = 0; i < n && keys->n < MAX_KEYS; i++) {
		unsigned char *der;
		const unsigned char *p;
		size_t len;
		X509 *x;

		if (certs_b64[i] == NULL ||
		    (der = b64_decode(certs_b64[i], strlen(certs_b64[i]), 1, 65536, &len)) == NULL)
			continue;
		p = der;
		if ((x = d2i_X509(NULL, &p, (long)len)) != NULL) {
			if ((keys->k[keys->n] = X509_get_pubkey(x)) != NULL)
				keys->n++;
			X509_free(x);
		}
		free(der);
	}
	return keys;
}

void
saml_keys_free(struct saml_keys *k)
{
	if (k == NULL)
		return;
	for (size_t i = 0; i < k->n; i++)
		EVP_PKEY_free(k->k[i]);
	free(k);
}

size_t
saml_keys_count(const struct saml_keys *k)
{
	return k ? k->n : 0;
}

static const EVP_MD *
digest_of(const char *sigalg, int *ec_r)
{
	static const struct {
		const char *suffix;
		int ec;
		const EVP_MD *(*md)(void);
	} algs[] = {
		{ "#rsa-sha256", 0, EVP_sha256 }, { "#rsa-sha384", 0, EVP_sha384 },
		{ "#rsa-sha512", 0, EVP_sha512 }, { "#ecdsa-sha256", 1, EVP_sha256 },
		{ "#ecdsa-sha384", 1, EVP_sha384 }, { "#ecdsa-sha512", 1, EVP_sha512 },
	};
	const char *hash = strrchr(sigalg, '#');

	if (!saml_check_sigalg(sigalg) || hash == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (!strcmp(hash, algs[i].suffix)) {
			*ec_r = algs[i].ec;
			return algs[i].md();
		}
	return NULL;
}

static int
verify_with(EVP_PKEY *key, const EVP_MD *md, int ec, const struct buf *data,
    const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (ctx == NULL)
		fatal("EVP_MD_CTX_new failed");
	if ((EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) != ec) {
		EVP_MD_CTX_free(ctx);
		return 0;
	}
	ok = EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)data->data, data->len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* The signed octets: field, RelayState (if any) and SigAlg, raw, in that order. */
static void
signed_octets(const struct form *q, const char *field, struct buf *b)
{
	const struct form_field *msg = form_get_field(q, field);
	const struct form_field *rs = form_get_field(q, "RelayState");
	const struct form_field *alg = form_get_field(q, "SigAlg");

	buf_init(b, 0);
	buf_printf(b, "%s=%.*s", field, (int)msg->rawlen, msg->raw);
	if (rs)
		buf_printf(b, "&RelayState=%.*s", (int)rs->rawlen, rs->raw);
	buf_printf(b, "&SigAlg=%.*s", (int)alg->rawlen, alg->raw);
}

int
saml_redirect_verify(const struct saml_keys *keys, const struct form *q, const char *field,
    const char **errstr)
{
	const char *sig64 = form_get(q, "Signature"), *sigalg = form_get(q, "SigAlg");
	const EVP_MD *md;
	unsigned char *sig;
	struct buf data;
	size_t siglen;
	int ec = 0, ok = 0;

	if (sig64 == NULL && sigalg == NULL)
		return 0;
	if (sig64 == NULL || sigalg == NULL || form_get_field(q, field) == NULL) {
		*errstr = "Signature and SigAlg must come together";
		return -1;
	}
	if ((md = digest_of(sigalg, &ec)) == NULL) {
		*errstr = "signature algorithm not allowed";
		return -1;
	}
	if ((sig = b64_decode(sig64, strlen(sig64), 0, 1024, &siglen)) == NULL) {
		*errstr = "Signature is not base64";
		return -1;
	}
	signed_octets(q, field, &data);
	for (size_t i = 0; keys && i < keys->n && !ok; i++)
		ok = verify_with(keys->k[i], md, ec, &data, sig, siglen);
	buf_free(&data);
	free(sig);
	if (!ok) {
		*errstr = keys && keys->n ? "signature does not verify with the SP's metadata keys" :
		    "the SP's metadata has no signing key";
		return -1;
	}
	return 1;
}

char *
saml_redirect_unsigned(const struct form *q, const char *field)
{
	const struct form_field *msg = form_get_field(q, field);
	const struct form_field *rs = form_get_field(q, "RelayState");

	if (rs)
		return xasprintf("%s=%.*s&RelayState=%.*s", field, (int)msg->rawlen, msg->raw,
		    (int)rs->rawlen, rs->raw);
	return xasprintf("%s=%.*s", field, (int)msg->rawlen, msg->raw);
}
