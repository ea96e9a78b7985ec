/*
 * Certificate authority operations with OpenSSL's EVP and X509 APIs.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "crypto.h"
#include "encode.h"
#include "xmalloc.h"

struct ca {
	EVP_PKEY *key;
	X509 *cert;
	const EVP_MD *md;
};

static const char *const reasons[] = { "unspecified", "keyCompromise", "cACompromise",
	"affiliationChanged", "superseded", "cessationOfOperation", "certificateHold", NULL,
	"removeFromCRL", "privilegeWithdrawn", "aACompromise" };

int
ca_reason_code(const char *name)
{
	for (int i = 0; i < (int)(sizeof(reasons) / sizeof(reasons[0])); i++)
		if (reasons[i] && !strcmp(name, reasons[i]) && i != 2 && i != 6 && i != 8 && i != 10)
			return i;
	return -1;
}

const char *
ca_reason_name(int code)
{
	if (code < 0 || code >= (int)(sizeof(reasons) / sizeof(reasons[0])) || !reasons[code])
		return "unspecified";
	return reasons[code];
}

int
ca_serial_normalise(const char *in, char out[48])
{
	size_t n = 0;

	for (; *in; in++) {
		if (*in == ':')
			continue;
		if (!isxdigit((unsigned char)*in) || n >= 46)
			return -1;
		out[n++] = (char)toupper((unsigned char)*in);
	}
	if (n == 0)
		return -1;
	out[n] = '\0';
	if (n % 2) {		/* as openssl prints it: whole bytes */
		memmove(out + 1, out, n + 1);
		out[0] = '0';
	}
	return 0;
}

static char *
bio_string(BIO *b)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);

	return xstrndup(data, (size_t)n);
}

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* A random positive serial of 128 bits (RFC 5280: at most 20 octets, non-negative). */
static int
random_serial(X509 *x)
{
	unsigned char raw[16];
	BIGNUM *bn;
	int ok;

	crypto_random(raw, sizeof(raw));
	raw[0] &= 0x7f;
	raw[0] |= 0x40;		/* positive, always 32 hex digits: 126 random bits */
	bn = BN_bin2bn(raw, sizeof(raw), NULL);
	ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -1;
}

static const EVP_MD *
digest_for(EVP_PKEY *key)
{
	return EVP_PKEY_get_bits(key) > 2048 && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA ?
	    EVP_sha384() : EVP_sha256();
}

int
ca_create(enum pki_keytype type, const char *tenant, const char *org, char **key_pem_r,
    char **cert_pem_r, const char **errstr)
{
	char *key_pem = pki_generate_key(type), *cn = xasprintf("Sekisho device CA %s", tenant);
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	X509_NAME *name;
	BIO *b = NULL;
	int rc = -1;

	*errstr = "cannot create the CA";
	if (key_pem == NULL || (b = BIO_new_mem_buf(key_pem, -1)) == NULL ||
	    (key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL)
		goto done;
	BIO_free(b);
	b = NULL;
	if ((x = X509_new()) == NULL || !X509_set_version(x, 2) || random_serial(x) == -1 ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -CA_BACKDATE) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), 20 * 365 + 5, 0, NULL))
		goto done;
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)org, -1,
	    -1, 0) || !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) || !X509_set_issuer_name(x, name) ||
	    !X509_set_pubkey(x, key))
		goto done;
	if (add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") == -1 ||
	    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") == -1 ||
	    add_ext(x, x, NID_subject_key_identifier, "hash") == -1 ||
	    add_ext(x, x, NID_authority_key_identifier, "keyid:always") == -1 ||
	    !X509_sign(x, key, digest_for(key)))
		goto done;
	if ((b = BIO_new(BIO_s_mem())) == NULL || !PEM_write_bio_X509(b, x))
		goto done;
	*cert_pem_r = bio_string(b);
	*key_pem_r = key_pem;
	key_pem = NULL;
	rc = 0;
done:
	freezero_str(key_pem);
	free(cn);
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

struct ca *
ca_load(const char *key_pem, const char *cert_pem, const char **errstr)
{
	struct ca *ca = xcalloc(1, sizeof(*ca));
	BIO *b = BIO_new_mem_buf(key_pem, -1), *c = BIO_new_mem_buf(cert_pem, -1);

	ca->key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	ca->cert = c ? PEM_read_bio_X509(c, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	BIO_free(c);
	if (ca->key == NULL || ca->cert == NULL || X509_check_private_key(ca->cert, ca->key) != 1) {
		*errstr = "CA key and certificate do not load or do not match";
		ca_free(ca);
		return NULL;
	}
	ca->md = digest_for(ca->key);
	return ca;
}

void
ca_free(struct ca *ca)
{
	if (ca == NULL)
		return;
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	free(ca);
}

void
ca_issued_clear(struct ca_issued *c)
{
	free(c->der);
	free(c->pem);
	memset(c, 0, sizeof(*c));
}

/* The same date and time CA_CERT_YEARS later; 29 February gives 28 February. */
static int64_t
years_later(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	tm.tm_year += CA_CERT_YEARS;
	if (tm.tm_mon == 1 && tm.tm_mday == 29)
		tm.tm_mday = 28;
	return (int64_t)timegm(&tm);
}

/* A certificate must not outlive its CA: it would stop chaining before it expires. */
static int
outlives_ca(const struct ca *ca, int64_t not_after)
{
	ASN1_TIME *end = ASN1_TIME_set(NULL, (time_t)not_after);
	int cmp = end ? ASN1_TIME_compare(end, X509_get0_notAfter(ca->cert)) : 1;

	ASN1_TIME_free(end);
	return cmp > 0 || cmp == -2;	/* -2: cannot compare */
}

static int
set_time(ASN1_TIME *field, int64_t t)
{
	/* ASN1_TIME_set picks UTCTime before 2050 and GeneralizedTime after (RFC 5280). */
	return ASN1_TIME_set(field, (time_t)t) != NULL ? 0 : -1;
}

/*
 * The certificate's subject key.  X509_set_pubkey encodes the key and decodes the result
 * again (with OpenSSL 3, half of an issuance): a key on a named EC curve is written as it
 * is encoded, the curve's OID and the point.  Nothing reads the key back from x here.
 */
static int
set_pubkey(X509 *x, EVP_PKEY *pub)
{
	unsigned char *point = NULL;
	char group[32];
	size_t n = 0;
	int nid = NID_undef;

	if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC && EVP_PKEY_get_utf8_string_param(pub,
	    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL))
		nid = OBJ_sn2nid(group);
	if (nid == NID_undef || (n = EVP_PKEY_get1_encoded_public_key(pub, &point)) == 0)
		return X509_set_pubkey(x, pub) ? 0 : -1;
	if (!X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
	    V_ASN1_OBJECT, OBJ_nid2obj(nid), point, (int)n)) {
		OPENSSL_free(point);
		return -1;
	}
	return 0;
}

int
ca_issue(struct ca *ca, EVP_PKEY *pub, const char *tenant, const char *user,
    const char *label, int64_t now, struct ca_issued *out, const char **errstr)
{
	unsigned char md[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned int mdlen;
	X509 *x = NULL;
	X509_NAME *name;
	BIO *pem = NULL;
	BIGNUM *bn = NULL;
	char *hex = NULL;
	int n, rc = -1;

	memset(out, 0, sizeof(*out));
	*errstr = "cannot issue the certificate";
	if (pub == NULL) {
		*errstr = "no public key";
		goto done;
	}
	out->not_before = now - CA_BACKDATE;
	out->not_after = years_later(now);
	if (outlives_ca(ca, out->not_after)) {
		*errstr = "the tenant's device CA expires before a certificate issued now would; "
		    "no certificate was issued";
		goto done;
	}
	if ((x = X509_new()) == NULL || !X509_set_version(x, 2) || random_serial(x) == -1 ||
	    set_time(X509_getm_notBefore(x), out->not_before) == -1 ||
	    set_time(X509_getm_notAfter(x), out->not_after) == -1 ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) || set_pubkey(x, pub) == -1)
		goto done;
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)tenant,
	    -1, -1, 0) || !X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_UTF8,
	    (const unsigned char *)label, -1, -1, 0) || !X509_NAME_add_entry_by_txt(name, "CN",
	    MBSTRING_UTF8, (const unsigned char *)user, -1, -1, 0))
		goto done;
	if (add_ext(x, ca->cert, NID_basic_constraints, "critical,CA:FALSE") == -1 ||
	    add_ext(x, ca->cert, NID_key_usage, "critical,digitalSignature") == -1 ||
	    add_ext(x, ca->cert, NID_ext_key_usage, "clientAuth") == -1 ||
	    add_ext(x, ca->cert, NID_subject_key_identifier, "hash") == -1 ||
	    add_ext(x, ca->cert, NID_authority_key_identifier, "keyid:always") == -1 ||
	    !X509_sign(x, ca->key, ca->md))
		goto done;
	if ((n = i2d_X509(x, &der)) <= 0 || !X509_digest(x, EVP_sha256(), md, &mdlen))
		goto done;
	if ((bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(x), NULL)) == NULL ||
	    (hex = BN_bn2hex(bn)) == NULL || ca_serial_normalise(hex, out->serial) == -1)
		goto done;
	hex_encode(md, mdlen, out->fingerprint);
	out->der = xmemdup(der, (size_t)n);
	out->der_len = (size_t)n;
	if ((pem = BIO_new(BIO_s_mem())) == NULL || !PEM_write_bio_X509(pem, x))
		goto done;
	out->pem = bio_string(pem);
	rc = 0;
done:
	OPENSSL_free(der);
	OPENSSL_free(hex);
	BN_free(bn);
	BIO_free(pem);
	X509_free(x);
	if (rc == -1)
		ca_issued_clear(out);
	return rc;
}

EVP_PKEY *
ca_csr_public_key(const char *csr_pem, size_t len, const char **errstr)
{
	BIO *b = BIO_new_mem_buf(csr_pem, (int)len);
	X509_REQ *req = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
	EVP_PKEY *pub = NULL;
	char group[32];
	size_t glen;
	int type, ok = 0;

	BIO_free(b);
	if (req == NULL) {
		*errstr = "not a PEM certificate request";
		goto done;
	}
	if ((pub = X509_REQ_get_pubkey(req)) == NULL || X509_REQ_verify(req, pub) != 1) {
		*errstr = "the request's signature does not verify (no proof of possession)";
		goto done;
	}
	type = EVP_PKEY_get_base_id(pub);
	if (type == EVP_PKEY_RSA) {
		if (EVP_PKEY_get_bits(pub) < 2048) {
			*errstr = "RSA keys must have at least 2048 bits";
			goto done;
		}
	} else if (type == EVP_PKEY_EC) {
		int explicit = 0;
		/*
		 * A named curve only.  OpenSSL names explicit parameters that match a known
		 * curve, so their encoding is checked as well.
		 */
		if (!EVP_PKEY_get_int_param(pub, OSSL_PKEY_PARAM_EC_DECODED_FROM_EXPLICIT_PARAMS,
		    &explicit) || explicit) {
			*errstr = "EC keys with explicit curve parameters are refused";
			goto done;
		}
		if (!EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, group,
		    sizeof(group), &glen) || (strcmp(group, "prime256v1") &&
		    strcmp(group, "secp384r1"))) {
			*errstr = "EC keys must be on the named curve P-256 or P-384";
			goto done;
		}
	} else {
		*errstr = "the key must be RSA (2048 bits or more) or EC P-256/P-384";
		goto done;
	}
	ok = 1;
done:
	X509_REQ_free(req);
	if (!ok) {
		EVP_PKEY_free(pub);
		pub = NULL;
	}
	return pub;
}

EVP_PKEY *
ca_device_key(const char **errstr)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	if (k == NULL)
		*errstr = "device key generation failed";
	return k;
}

unsigned char *
ca_pkcs12(EVP_PKEY *key, const char *cert_pem, const char *ca_pem, const char *password,
    const char *friendly, int legacy, size_t *len_r, const char **errstr)
{
	BIO *cb = BIO_new_mem_buf(cert_pem, -1), *ab = BIO_new_mem_buf(ca_pem, -1);
	X509 *cert = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	X509 *ca = ab ? PEM_read_bio_X509(ab, NULL, NULL, NULL) : NULL;
	STACK_OF(X509) *chain = sk_X509_new_null();
	PKCS12 *p12 = NULL;
	unsigned char *der = NULL, *out = NULL;
	int n;

	*errstr = "cannot build the PKCS#12 file";
	if (key == NULL || cert == NULL || ca == NULL || chain == NULL || !sk_X509_push(chain, ca))
		goto done;
	ca = NULL;	/* owned by chain */
	/* Defaults: PBES2 AES-256-CBC, PBKDF2, HMAC-SHA256 MAC.  Legacy: 3DES and SHA-1. */
	p12 = PKCS12_create_ex(password, friendly, key, cert, chain,
	    legacy ? NID_pbe_WithSHA1And3_Key_TripleDES_CBC : 0,
	    legacy ? NID_pbe_WithSHA1And3_Key_TripleDES_CBC : 0, 0, 0, 0, NULL, NULL);
	if (p12 && legacy && !PKCS12_set_mac(p12, password, -1, NULL, 0, 2048, EVP_sha1())) {
		PKCS12_free(p12);
		p12 = NULL;
	}
	if (p12 == NULL || (n = i2d_PKCS12(p12, &der)) <= 0)
		goto done;
	out = xmemdup(der, (size_t)n);
	*len_r = (size_t)n;
done:
	OPENSSL_free(der);
	PKCS12_free(p12);
	sk_X509_pop_free(chain, X509_free);
	X509_free(ca);
	X509_free(cert);
	BIO_free(cb);
	BIO_free(ab);
	return out;
}

/* authorityKeyIdentifier of the CRL = the CA's subjectKeyIdentifier. */
static int
add_crl_aki(X509_CRL *crl, struct ca *ca)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, ca->cert, NULL, NULL, crl, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier,
	    "keyid:always")) == NULL)
		return -1;
	ok = X509_CRL_add_ext(crl, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

unsigned char *
ca_crl(struct ca *ca, const struct ca_revoked *revoked, size_t n, int64_t now,
    int64_t next_update, uint64_t crl_number, size_t *len_r, const char **errstr)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = NULL;
	ASN1_INTEGER *num = NULL;
	unsigned char *der = NULL, *out = NULL;
	int len, ok = 0;

	*errstr = "cannot build the CRL";
	if (crl == NULL || !X509_CRL_set_version(crl, 1) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) ||
	    (t = ASN1_TIME_set(NULL, (time_t)now)) == NULL || !X509_CRL_set1_lastUpdate(crl, t) ||
	    !ASN1_TIME_set(t, (time_t)next_update) || !X509_CRL_set1_nextUpdate(crl, t))
		goto done;
	for (size_t i = 0; i < n; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		BIGNUM *bn = NULL;
		ASN1_INTEGER *serial = NULL;
		ASN1_ENUMERATED *reason = ASN1_ENUMERATED_new();
		ASN1_TIME *when = ASN1_TIME_set(NULL, (time_t)revoked[i].when);
		int good = r && reason && when && BN_hex2bn(&bn, revoked[i].serial) &&
		    (serial = BN_to_ASN1_INTEGER(bn, NULL)) && X509_REVOKED_set_serialNumber(r, serial) &&
		    X509_REVOKED_set_revocationDate(r, when) &&
		    /* RFC 5280 5.3.1: no reasonCode entry for unspecified. */
		    (revoked[i].reason == 0 || (ASN1_ENUMERATED_set(reason, revoked[i].reason) &&
		    X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, reason, 0, 0))) &&
		    X509_CRL_add0_revoked(crl, r);
		BN_free(bn);
		ASN1_INTEGER_free(serial);
		ASN1_ENUMERATED_free(reason);
		ASN1_TIME_free(when);
		if (!good) {
			X509_REVOKED_free(r);
			goto done;
		}
	}
	if ((num = ASN1_INTEGER_new()) == NULL || !ASN1_INTEGER_set_uint64(num, crl_number) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) ||
	    add_crl_aki(crl, ca) == -1 || !X509_CRL_sort(crl) || !X509_CRL_sign(crl, ca->key, ca->md))
		goto done;
	if ((len = i2d_X509_CRL(crl, &der)) <= 0)
		goto done;
	out = xmemdup(der, (size_t)len);
	*len_r = (size_t)len;
	ok = 1;
done:
	OPENSSL_free(der);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return ok ? out : NULL;
}
