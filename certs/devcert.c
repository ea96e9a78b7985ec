/*
 * Device certificate verification with an OpenSSL X509_STORE holding one tenant CA.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "devcert.h"
#include "encode.h"
#include "xmalloc.h"

struct devcert_ca {
	X509 *cert;
};

struct devcert_ca *
devcert_ca_new(const char *ca_pem, const char **errstr)
{
	BIO *b = BIO_new_mem_buf(ca_pem, -1);
	struct devcert_ca *ca = xcalloc(1, sizeof(*ca));

	ca->cert = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (ca->cert == NULL) {
		*errstr = "CA certificate does not parse";
		free(ca);
		return NULL;
	}
	return ca;
}

void
devcert_ca_free(struct devcert_ca *ca)
{
	if (ca == NULL)
		return;
	X509_free(ca->cert);
	free(ca);
}

static const char *
why(int err)
{
	switch (err) {
	case X509_V_ERR_CERT_HAS_EXPIRED: return "certificate expired";
	case X509_V_ERR_CERT_NOT_YET_VALID: return "certificate not yet valid";
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		return "certificate not issued by this tenant's CA";
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		return "certificate signature does not verify with this tenant's CA";
	case X509_V_ERR_INVALID_PURPOSE: return "certificate not for client authentication";
	default: return "certificate does not verify";
	}
}

int
devcert_verify(const struct devcert_ca *ca, const unsigned char *der, size_t len, int64_t now,
    char fingerprint_r[65], char serial_r[48], const char **errstr)
{
	const unsigned char *p = der;
	X509 *x = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *param;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	BIGNUM *bn = NULL;
	char *hex = NULL;
	int rc = -1;

	*errstr = "certificate does not parse";
	if (len == 0 || len > DEVCERT_MAX_DER || (x = d2i_X509(NULL, &p, (long)len)) == NULL ||
	    p != der + len)
		goto done;
	if ((store = X509_STORE_new()) == NULL || !X509_STORE_add_cert(store, ca->cert) ||
	    (ctx = X509_STORE_CTX_new()) == NULL || !X509_STORE_CTX_init(ctx, store, x, NULL))
		goto done;
	param = X509_STORE_CTX_get0_param(ctx);
	/* Our clock (tests inject it), the client purpose (EKU clientAuth), a chain of two. */
	X509_VERIFY_PARAM_set_time(param, (time_t)now);
	X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_CLIENT);
	X509_VERIFY_PARAM_set_depth(param, 1);
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
	if (X509_verify_cert(ctx) != 1) {
		*errstr = why(X509_STORE_CTX_get_error(ctx));
		goto done;
	}
	/* keyUsage, when present, must allow signatures (the TLS handshake signs). */
	if ((X509_get_extension_flags(x) & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE)) {
		*errstr = "certificate key usage excludes digital signatures";
		goto done;
	}
	if ((X509_get_extension_flags(x) & EXFLAG_CA)) {
		*errstr = "a CA certificate is not a device certificate";
		goto done;
	}
	if (!X509_digest(x, EVP_sha256(), md, &mdlen) ||
	    (bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(x), NULL)) == NULL ||
	    (hex = BN_bn2hex(bn)) == NULL || ca_serial_normalise(hex, serial_r) == -1)
		goto done;
	hex_encode(md, mdlen, fingerprint_r);
	rc = 0;
done:
	OPENSSL_free(hex);
	BN_free(bn);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(x);
	return rc;
}

unsigned char *
devcert_pem_to_der(const char *pem, size_t *len_r)
{
	char *plain = strchr(pem, '%') ? url_decode(pem, strlen(pem), 0, NULL) : xstrdup(pem);
	BIO *b = plain ? BIO_new_mem_buf(plain, -1) : NULL;
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL, *out = NULL;
	int n;

	if (x && (n = i2d_X509(x, &der)) > 0 && n <= DEVCERT_MAX_DER) {
		out = xmemdup(der, (size_t)n);
		*len_r = (size_t)n;
	}
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(b);
	free(plain);
	return out;
}
