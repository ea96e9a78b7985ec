/*
 * Self-signed certificates and PEM helpers.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "crypto.h"
#include "encode.h"
#include "pki.h"
#include "xmalloc.h"

static EVP_PKEY *
make_key(enum pki_keytype type)
{
	switch (type) {
	case PKI_RSA2048: return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	case PKI_RSA3072: return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	case PKI_P256: return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	}
	return NULL;
}

static char *bio_string(BIO *bio);

char *
pki_generate_key(enum pki_keytype type)
{
	EVP_PKEY *key = make_key(type);
	BIO *b = BIO_new(BIO_s_mem());
	char *pem = NULL;

	if (key && b && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL))
		pem = bio_string(b);
	BIO_free(b);
	EVP_PKEY_free(key);
	return pem;
}

static char *
bio_string(BIO *bio)
{
	char *data;
	long n = BIO_get_mem_data(bio, &data);

	return xstrndup(data, (size_t)n);
}

static int
add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

int
pki_self_signed(enum pki_keytype type, const char *cn, const char *san, int days,
    char **key_pem_r, char **cert_pem_r, const char **errstr)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	X509_NAME *name;
	BIO *kb = NULL, *cb = NULL;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	char *altname = NULL;
	unsigned char ipbuf[16];
	int rc = -1;

	*errstr = "cannot create certificate";
	if ((key = make_key(type)) == NULL) {
		*errstr = "key generation failed";
		goto done;
	}
	if ((x = X509_new()) == NULL || !X509_set_version(x, 2))
		goto done;
	crypto_random(serial, sizeof(serial));
	serial[0] &= 0x7f;
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		goto done;
	if (!X509_gmtime_adj(X509_getm_notBefore(x), -300) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL))
		goto done;
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
	    -1, 0) || !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, key))
		goto done;
	if (add_ext(x, NID_basic_constraints, "critical,CA:FALSE") == -1 ||
	    add_ext(x, NID_subject_key_identifier, "hash") == -1)
		goto done;
	if (san) {
		int ip = inet_pton(AF_INET, san, ipbuf) == 1 || inet_pton(AF_INET6, san, ipbuf) == 1;
		altname = xasprintf("%s:%s", ip ? "IP" : "DNS", san);
		if (add_ext(x, NID_subject_alt_name, altname) == -1 ||
		    add_ext(x, NID_ext_key_usage, "serverAuth") == -1)
			goto done;
	}
	if (!X509_sign(x, key, EVP_sha256()))
		goto done;
	if ((kb = BIO_new(BIO_s_mem())) == NULL || (cb = BIO_new(BIO_s_mem())) == NULL)
		goto done;
	if (!PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_X509(cb, x))
		goto done;
	*key_pem_r = bio_string(kb);
	*cert_pem_r = bio_string(cb);
	rc = 0;
done:
	free(altname);
	BN_free(bn);
	BIO_free(kb);
	BIO_free(cb);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

static X509 *
read_cert(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x;

	if (bio == NULL)
		return NULL;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return x;
}

int
pki_cert_fingerprint(const char *cert_pem, char out[96])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n;
	X509 *x;

	if ((x = read_cert(cert_pem)) == NULL)
		return -1;
	if (!X509_digest(x, EVP_sha256(), md, &n)) {
		X509_free(x);
		return -1;
	}
	X509_free(x);
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + 3 * i, 4, "%02X%s", md[i], i + 1 < n ? ":" : "");
	return 0;
}

char *
pki_cert_base64(const char *cert_pem)
{
	unsigned char *der = NULL;
	char *s;
	int n;
	X509 *x;

	if ((x = read_cert(cert_pem)) == NULL)
		return NULL;
	n = i2d_X509(x, &der);
	X509_free(x);
	if (n <= 0)
		return NULL;
	s = b64_encode(der, (size_t)n);
	OPENSSL_free(der);
	return s;
}

int
pki_check_pair(const char *key_pem, const char *cert_pem, const char **errstr)
{
	BIO *bio;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	int rc = -1;

	if ((x = read_cert(cert_pem)) == NULL) {
		*errstr = "certificate does not parse";
		goto done;
	}
	if ((bio = BIO_new_mem_buf(key_pem, -1)) == NULL)
		goto done;
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (key == NULL) {
		*errstr = "private key does not parse";
		goto done;
	}
	if (X509_check_private_key(x, key) != 1) {
		*errstr = "private key does not match certificate";
		goto done;
	}
	rc = 0;
done:
	EVP_PKEY_free(key);
	X509_free(x);
	return rc;
}

char *
pki_der_cert_pem(const unsigned char *der, size_t len)
{
	char *b64 = b64_encode(der, len);
	size_t n = strlen(b64);
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, "-----BEGIN CERTIFICATE-----\n");
	for (size_t i = 0; i < n; i += 64) {
		buf_append(&b, b64 + i, n - i < 64 ? n - i : 64);
		buf_putc(&b, '\n');
	}
	buf_puts(&b, "-----END CERTIFICATE-----\n");
	free(b64);
	return buf_steal(&b, NULL);
}
