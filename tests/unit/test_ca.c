/*
 * Unit tests for certs/ca.c, checked with OpenSSL's own parsers: the CA (P-256, RSA-3072),
 * issued certificates (serial, names, extensions, dates to the second, UTCTime/GeneralizedTime),
 * CSR rules, PKCS#12 algorithms, CRL content and signature, reason codes, serial spelling.
 * Every key is made at run time.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "crypto.h"
#include "encode.h"
#include "pki.h"
#include "pki_fixture.h"
#include "xmalloc.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define TENANT "acme"
#define ORG "Acme K.K."
#define PW "correct horse battery"

/* The CAs of the whole group: made once, RSA keys being slow. */
struct cas {
	char *p256_key, *p256_cert;
	struct ca *p256;
	char *rsa_key, *rsa_cert;
	struct ca *rsa;
	char *long_key, *long_cert;	/* valid to 2090, for issue dates near 2050 */
	struct ca *lng;
	EVP_PKEY *dev;		/* a device key pair */
};

static struct cas g;

/* ---- helpers ---- */

static X509 *
x509_pem(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);

	BIO_free(b);
	assert_non_null(x);
	return x;
}

static char *
pubkey_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());

	assert_int_equal(PEM_write_bio_PUBKEY(b, k), 1);
	return bio_str(b);
}

/* A CA certificate made here, valid from 2020 to 2090 (ca_create's are 20 years from now). */
static void
make_long_ca(char **key_r, char **cert_r)
{
	char *k = pki_generate_key(PKI_P256);
	EVP_PKEY *key = key_pem(k);
	X509 *x = X509_new();
	X509_NAME *name = X509_get_subject_name(x);

	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)utc(2020, 1, 1, 0, 0, 0)));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)utc(2090, 1, 1, 0, 0, 0)));
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
	    (const unsigned char *)ORG, -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"long-lived test CA", -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
	add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	add_ext(x, x, NID_subject_key_identifier, "hash");
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	*key_r = k;
	*cert_r = cert_pem(x);
	X509_free(x);
	EVP_PKEY_free(key);
}

static int
group_setup(void **state)
{
	const char *err = NULL;

	assert_int_equal(ca_create(PKI_P256, TENANT, ORG, &g.p256_key, &g.p256_cert, &err), 0);
	assert_non_null(g.p256 = ca_load(g.p256_key, g.p256_cert, &err));
	assert_int_equal(ca_create(PKI_RSA3072, TENANT, ORG, &g.rsa_key, &g.rsa_cert, &err), 0);
	assert_non_null(g.rsa = ca_load(g.rsa_key, g.rsa_cert, &err));
	make_long_ca(&g.long_key, &g.long_cert);
	assert_non_null(g.lng = ca_load(g.long_key, g.long_cert, &err));
	assert_non_null(g.dev = ca_device_key(&err));
	return 0;
}

static int
group_teardown(void **state)
{
	ca_free(g.p256);
	ca_free(g.rsa);
	ca_free(g.lng);
	freezero_str(g.p256_key);
	freezero_str(g.rsa_key);
	freezero_str(g.long_key);
	EVP_PKEY_free(g.dev);
	free(g.p256_cert);
	free(g.rsa_cert);
	free(g.long_cert);
	return 0;
}

/* Issue to alice's laptop at now from ca; the certificate must come out. */
static X509 *
issue(struct ca *ca, EVP_PKEY *pub, int64_t now, struct ca_issued *is)
{
	const char *err = NULL;

	if (ca_issue(ca, pub, TENANT, "alice", "Alice laptop", now, is, &err) != 0)
		fail_msg("ca_issue: %s", err);
	return x509_der(is->der, is->der_len);
}

static void
name_entry(X509_NAME *n, int nid, char *out, size_t size)
{
	assert_true(X509_NAME_get_text_by_NID(n, nid, out, (int)size) > 0);
}

static int
ext_critical(X509 *x, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	assert_true(i >= 0);
	return X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

static time_t
asn1_time_t(const ASN1_TIME *t)
{
	struct tm tm;

	assert_int_equal(ASN1_TIME_to_tm(t, &tm), 1);
	return timegm(&tm);
}

static const char *
asn1_text(const ASN1_TIME *t)
{
	return (const char *)ASN1_STRING_get0_data(t);
}

/* A CSR for pub, signed by signer (md NULL for Ed25519), with extensions when exts. */
static char *
make_csr(EVP_PKEY *pub, EVP_PKEY *signer, const EVP_MD *md, STACK_OF(X509_EXTENSION) *exts)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = X509_REQ_get_subject_name(req);
	BIO *b = BIO_new(BIO_s_mem());

	assert_int_equal(X509_REQ_set_version(req, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
	    (const unsigned char *)"Other Org", -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"device", -1, -1, 0), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, pub), 1);
	if (exts)
		assert_int_equal(X509_REQ_add_extensions(req, exts), 1);
	assert_true(X509_REQ_sign(req, signer, md) > 0);
	assert_int_equal(PEM_write_bio_X509_REQ(b, req), 1);
	X509_REQ_free(req);
	return bio_str(b);
}

/* The DER of a PEM CSR and back, to tamper with its bytes. */
static unsigned char *
csr_der(const char *pem, size_t *len_r)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509_REQ *req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
	unsigned char *der = NULL;
	int n;

	assert_non_null(req);
	assert_true((n = i2d_X509_REQ(req, &der)) > 0);
	*len_r = (size_t)n;
	X509_REQ_free(req);
	BIO_free(b);
	return der;
}

static char *
csr_pem_of(const unsigned char *der, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());

	assert_true(PEM_write_bio(b, "CERTIFICATE REQUEST", "", der, (long)len) > 0);
	return bio_str(b);
}

static EVP_PKEY *
explicit_p256(void)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	OSSL_PARAM params[] = {
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0),
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING,
		    OSSL_PKEY_EC_ENCODING_EXPLICIT, 0),
		OSSL_PARAM_END
	};
	EVP_PKEY *k = NULL;

	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_params(ctx, params), 1);
	assert_int_equal(EVP_PKEY_generate(ctx, &k), 1);
	EVP_PKEY_CTX_free(ctx);
	return k;
}

static unsigned char fill_byte;

static void
fill_random(void *p, size_t n)
{
	memset(p, fill_byte, n);
}

/* ---- the CA ---- */

static void
check_ca_cert(const char *key_pem_s, const char *cert_pem_s, int key_type, int bits, int sig_nid)
{
	X509 *x = x509_pem(cert_pem_s);
	EVP_PKEY *key = key_pem(key_pem_s);
	BASIC_CONSTRAINTS *bc;
	char buf[128];
	int crit = -1;

	assert_int_equal(EVP_PKEY_get_base_id(key), key_type);
	assert_int_equal(EVP_PKEY_get_bits(key), bits);
	assert_int_equal(X509_check_private_key(x, key), 1);
	assert_int_equal(X509_verify(x, key), 1);
	assert_int_equal(X509_get_signature_nid(x), sig_nid);
	assert_int_equal(X509_get_version(x), 2);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);
	name_entry(X509_get_subject_name(x), NID_organizationName, buf, sizeof(buf));
	assert_string_equal(buf, ORG);
	name_entry(X509_get_subject_name(x), NID_commonName, buf, sizeof(buf));
	assert_string_equal(buf, "Sekisho device CA " TENANT);
	assert_non_null(bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL));
	assert_int_equal(crit, 1);
	assert_true(bc->ca);
	assert_int_equal(ASN1_INTEGER_get(bc->pathlen), 0);
	BASIC_CONSTRAINTS_free(bc);
	assert_int_equal(ext_critical(x, NID_key_usage), 1);
	assert_int_equal(X509_get_key_usage(x), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
	    X509_get0_subject_key_id(x)), 0);
	/* 20 years and 5 leap days after now - 5 minutes (two reads of the clock: 1 s slack). */
	{
		int days, secs;
		assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
		    X509_get0_notAfter(x)), 1);
		assert_int_equal(days, 20 * 365 + 5);
		assert_true(secs >= CA_BACKDATE && secs <= CA_BACKDATE + 1);
	}
	X509_free(x);
	EVP_PKEY_free(key);
}

static void
test_ca_create_p256(void **state)
{
	check_ca_cert(g.p256_key, g.p256_cert, EVP_PKEY_EC, 256, NID_ecdsa_with_SHA256);
}

static void
test_ca_create_rsa3072(void **state)
{
	struct ca_issued is;
	X509 *x, *cax = x509_pem(g.rsa_cert);

	/* RSA above 2048 bits signs with SHA-384, its own certificate and what it issues. */
	check_ca_cert(g.rsa_key, g.rsa_cert, EVP_PKEY_RSA, 3072, NID_sha384WithRSAEncryption);
	x = issue(g.rsa, g.dev, utc(2030, 1, 1, 0, 0, 0), &is);
	assert_int_equal(X509_get_signature_nid(x), NID_sha384WithRSAEncryption);
	assert_int_equal(X509_verify(x, X509_get0_pubkey(cax)), 1);
	X509_free(x);
	X509_free(cax);
	ca_issued_clear(&is);
}

static void
test_ca_create_unique(void **state)
{
	char *k = NULL, *c = NULL;
	const char *err = NULL;
	X509 *a = x509_pem(g.p256_cert), *b;

	/* A second CA of the same tenant has its own key and serial. */
	assert_int_equal(ca_create(PKI_P256, TENANT, ORG, &k, &c, &err), 0);
	b = x509_pem(c);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(a),
	    X509_get0_serialNumber(b)), 0);
	assert_int_not_equal(EVP_PKEY_eq(X509_get0_pubkey(a), X509_get0_pubkey(b)), 1);
	X509_free(a);
	X509_free(b);
	freezero_str(k);
	free(c);
}

static void
test_ca_load(void **state)
{
	struct ca *ca;
	const char *err = NULL;

	assert_non_null(ca = ca_load(g.p256_key, g.p256_cert, &err));
	ca_free(ca);
	/* Key and certificate of different CAs. */
	assert_null(ca_load(g.rsa_key, g.p256_cert, &err));
	assert_non_null(err);
	err = NULL;
	assert_null(ca_load("garbage", g.p256_cert, &err));
	assert_non_null(err);
	err = NULL;
	assert_null(ca_load(g.p256_key, "garbage", &err));
	assert_non_null(err);
	ca_free(NULL);
}

/* ---- issuing ---- */

static void
test_ca_issue_content(void **state)
{
	struct ca_issued is;
	X509 *x = issue(g.p256, g.dev, utc(2030, 6, 1, 12, 0, 0), &is);
	X509 *cax = x509_pem(g.p256_cert);
	X509 *fromp = x509_pem(is.pem);
	EVP_PKEY *dev = g.dev;
	EXTENDED_KEY_USAGE *eku;
	BASIC_CONSTRAINTS *bc;
	unsigned char md[32];
	char buf[128], fp[65];
	int crit = -1;

	assert_int_equal(X509_get_version(x), 2);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(cax)), 0);
	assert_int_equal(X509_verify(x, X509_get0_pubkey(cax)), 1);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), dev), 1);
	/* Subject O=tenant, OU=label, CN=user, nothing else. */
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 3);
	name_entry(X509_get_subject_name(x), NID_organizationName, buf, sizeof(buf));
	assert_string_equal(buf, TENANT);
	name_entry(X509_get_subject_name(x), NID_organizationalUnitName, buf, sizeof(buf));
	assert_string_equal(buf, "Alice laptop");
	name_entry(X509_get_subject_name(x), NID_commonName, buf, sizeof(buf));
	assert_string_equal(buf, "alice");
	/* Exactly five extensions. */
	assert_int_equal(X509_get_ext_count(x), 5);
	assert_int_equal(ext_critical(x, NID_key_usage), 1);
	assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	assert_non_null(eku = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL));
	assert_int_equal(crit, 0);
	assert_int_equal(sk_ASN1_OBJECT_num(eku), 1);
	assert_int_equal(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)), NID_client_auth);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	assert_non_null(bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL));
	assert_int_equal(crit, 1);
	assert_false(bc->ca);
	assert_null(bc->pathlen);
	BASIC_CONSTRAINTS_free(bc);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
	    X509_get0_subject_key_id(cax)), 0);
	assert_int_not_equal(ASN1_OCTET_STRING_cmp(X509_get0_subject_key_id(x),
	    X509_get0_subject_key_id(cax)), 0);
	/* The PEM is the same certificate; the fingerprint is the SHA-256 of the DER. */
	assert_int_equal(X509_cmp(x, fromp), 0);
	crypto_sha256(is.der, is.der_len, md);
	hex_encode(md, sizeof(md), fp);
	assert_string_equal(is.fingerprint, fp);
	X509_free(x);
	X509_free(cax);
	X509_free(fromp);
	ca_issued_clear(&is);
}

static void
check_serial(X509 *x, const char *serial)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = BN_bn2hex(bn);

	/* Positive, 16 bytes with the top bit clear (no sign byte), printed as 32 hex digits. */
	assert_false(BN_is_negative(bn));
	assert_int_equal(BN_num_bytes(bn), 16);
	assert_int_equal(BN_num_bits(bn), 127);
	assert_int_equal(strlen(serial), 32);
	assert_string_equal(hex, serial);
	assert_true(serial[0] >= '4' && serial[0] <= '7');
	OPENSSL_free(hex);
	BN_free(bn);
}

static void
test_ca_issue_serial_random(void **state)
{
	struct ca_issued a, b;
	X509 *xa = issue(g.p256, g.dev, utc(2030, 1, 1, 0, 0, 0), &a);
	X509 *xb = issue(g.p256, g.dev, utc(2030, 1, 1, 0, 0, 0), &b);

	check_serial(xa, a.serial);
	check_serial(xb, b.serial);
	assert_string_not_equal(a.serial, b.serial);
	assert_string_not_equal(a.fingerprint, b.fingerprint);
	X509_free(xa);
	X509_free(xb);
	ca_issued_clear(&a);
	ca_issued_clear(&b);
}

static void
test_ca_issue_serial_top_bits(void **state)
{
	static const struct {
		unsigned char fill;
		const char *serial;
	} cases[] = {
		/* The top bit is cleared and the next one set: always 16 bytes, never negative. */
		{ 0xff, "7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF" },
		{ 0x00, "40000000000000000000000000000000" },
		{ 0x80, "40808080808080808080808080808080" },
		{ 0x3c, "7C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct ca_issued is;
		X509 *x;

		fill_byte = cases[i].fill;
		crypto_set_random(fill_random);
		x = issue(g.p256, g.dev, utc(2030, 1, 1, 0, 0, 0), &is);
		crypto_set_random(NULL);
		assert_string_equal(is.serial, cases[i].serial);
		check_serial(x, is.serial);
		X509_free(x);
		ca_issued_clear(&is);
	}
}

static void
test_ca_issue_dates(void **state)
{
	const struct {
		int64_t now, not_after;
		const char *nb_text, *na_text;
	} cases[] = {
		{ utc(2030, 6, 15, 12, 34, 56), utc(2035, 6, 15, 12, 34, 56), "300615122956Z",
		    "350615123456Z" },
		/*
		 * 29 February gives 28 February five years later, at the issue's time of day
		 * (the comment above years_later() in ca.c says 23:59:59; the code keeps the time).
		 */
		{ utc(2028, 2, 29, 10, 0, 0), utc(2033, 2, 28, 10, 0, 0), "280229095500Z",
		    "330228100000Z" },
		/* 28 February before a leap year stays 28 February. */
		{ utc(2031, 2, 28, 0, 5, 0), utc(2036, 2, 28, 0, 5, 0), "310228000000Z",
		    "360228000500Z" },
		{ utc(2032, 12, 31, 23, 59, 59), utc(2037, 12, 31, 23, 59, 59), "321231235459Z",
		    "371231235959Z" },
		/* The backdate may cross midnight and a leap day. */
		{ utc(2028, 3, 1, 0, 2, 0), utc(2033, 3, 1, 0, 2, 0), "280229235700Z",
		    "330301000200Z" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		int64_t now = cases[i].now, na = cases[i].not_after;
		struct ca_issued is;
		X509 *x = issue(g.p256, g.dev, now, &is);

		assert_int_equal(is.not_before, now - CA_BACKDATE);
		assert_int_equal(is.not_after, na);
		assert_int_equal(asn1_time_t(X509_get0_notBefore(x)), now - CA_BACKDATE);
		assert_int_equal(asn1_time_t(X509_get0_notAfter(x)), na);
		assert_int_equal(ASN1_STRING_type(X509_get0_notBefore(x)), V_ASN1_UTCTIME);
		assert_int_equal(ASN1_STRING_type(X509_get0_notAfter(x)), V_ASN1_UTCTIME);
		assert_string_equal(asn1_text(X509_get0_notBefore(x)), cases[i].nb_text);
		assert_string_equal(asn1_text(X509_get0_notAfter(x)), cases[i].na_text);
		X509_free(x);
		ca_issued_clear(&is);
	}
}

static void
test_ca_issue_generalized_time(void **state)
{
	static const struct {
		int y, mo, d, h, mi, s;
		int nb_type, na_type;
		const char *na_text;
	} cases[] = {
		/* RFC 5280: UTCTime through 2049, GeneralizedTime from 2050. */
		{ 2046, 3, 1, 8, 0, 0, V_ASN1_UTCTIME, V_ASN1_GENERALIZEDTIME, "20510301080000Z" },
		{ 2044, 12, 31, 23, 59, 59, V_ASN1_UTCTIME, V_ASN1_UTCTIME, "491231235959Z" },
		{ 2045, 1, 1, 0, 0, 0, V_ASN1_UTCTIME, V_ASN1_GENERALIZEDTIME, "20500101000000Z" },
		{ 2048, 2, 29, 0, 0, 0, V_ASN1_UTCTIME, V_ASN1_GENERALIZEDTIME, "20530228000000Z" },
		{ 2050, 1, 1, 0, 5, 0, V_ASN1_GENERALIZEDTIME, V_ASN1_GENERALIZEDTIME,
		    "20550101000500Z" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		int64_t now = utc(cases[i].y, cases[i].mo, cases[i].d, cases[i].h, cases[i].mi,
		    cases[i].s);
		struct ca_issued is;
		X509 *x = issue(g.lng, g.dev, now, &is);
		unsigned char *der = NULL;
		X509 *again;
		int n;

		assert_int_equal(ASN1_STRING_type(X509_get0_notBefore(x)), cases[i].nb_type);
		assert_int_equal(ASN1_STRING_type(X509_get0_notAfter(x)), cases[i].na_type);
		assert_string_equal(asn1_text(X509_get0_notAfter(x)), cases[i].na_text);
		assert_int_equal(asn1_time_t(X509_get0_notAfter(x)), is.not_after);
		assert_int_equal(asn1_time_t(X509_get0_notBefore(x)), now - CA_BACKDATE);
		/* The DER reads back to the same instant. */
		assert_true((n = i2d_X509(x, &der)) > 0);
		again = x509_der(der, (size_t)n);
		assert_int_equal(asn1_time_t(X509_get0_notAfter(again)), is.not_after);
		OPENSSL_free(der);
		X509_free(again);
		X509_free(x);
		ca_issued_clear(&is);
	}
}

static void
test_ca_issue_not_past_ca(void **state)
{
	X509 *cax = x509_pem(g.p256_cert);
	time_t end = asn1_time_t(X509_get0_notAfter(cax));
	struct tm tm;
	int64_t last;
	struct ca_issued is;
	const char *err = NULL;
	X509 *x;

	/* The last issue time whose notAfter (5 calendar years on) is the CA's own. */
	gmtime_r(&end, &tm);
	assert_false(tm.tm_mon == 1 && tm.tm_mday == 29);
	tm.tm_year -= CA_CERT_YEARS;
	last = (int64_t)timegm(&tm);
	x = issue(g.p256, g.dev, last, &is);
	assert_int_equal(is.not_after, (int64_t)end);
	X509_free(x);
	ca_issued_clear(&is);
	assert_int_equal(ca_issue(g.p256, g.dev, TENANT, "alice", "Alice laptop", last + 1,
	    &is, &err), -1);
	assert_non_null(strstr(err, "expires before"));
	assert_null(is.der);
	assert_null(is.pem);
	X509_free(cax);
}

static void
test_ca_issue_no_key(void **state)
{
	struct ca_issued is;
	const char *err = NULL;

	assert_int_equal(ca_issue(g.p256, NULL, TENANT, "alice", "l", utc(2030, 1, 1, 0, 0, 0),
	    &is, &err), -1);
	assert_string_equal(err, "no public key");
	assert_null(is.der);
	assert_null(is.pem);
}

/* ---- CSRs ---- */

static void
test_ca_csr_accepted(void **state)
{
	EVP_PKEY *keys[] = { EVP_EC_gen("P-256"), EVP_EC_gen("P-384"), EVP_RSA_gen(2048) };

	for (size_t i = 0; i < NELEM(keys); i++) {
		char *csr, *got, *want;
		const char *err = NULL;
		struct ca_issued is;
		EVP_PKEY *pub;
		X509 *x;

		assert_non_null(keys[i]);
		csr = make_csr(keys[i], keys[i], EVP_sha256(), NULL);
		want = pubkey_pem(keys[i]);
		if ((pub = ca_csr_public_key(csr, strlen(csr), &err)) == NULL)
			fail_msg("key %zu: %s", i, err);
		got = pubkey_pem(pub);
		assert_string_equal(got, want);
		/* The certificate carries that key (P-256 and P-384 written directly, RSA not). */
		x = issue(g.p256, pub, utc(2030, 1, 1, 0, 0, 0), &is);
		assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), keys[i]), 1);
		free(got);
		got = pubkey_pem(X509_get0_pubkey(x));
		assert_string_equal(got, want);
		X509_free(x);
		ca_issued_clear(&is);
		free(csr);
		free(got);
		free(want);
		EVP_PKEY_free(pub);
		EVP_PKEY_free(keys[i]);
	}
}

static void
test_ca_csr_refused(void **state)
{
	EVP_PKEY *p256 = EVP_EC_gen("P-256"), *other = EVP_EC_gen("P-256");
	EVP_PKEY *rsa1024 = EVP_RSA_gen(1024), *p521 = EVP_EC_gen("P-521");
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), *expl = explicit_p256();
	char *good = make_csr(p256, p256, EVP_sha256(), NULL);
	unsigned char *der, *spki = NULL;
	size_t len;
	struct {
		char *csr;
		size_t len;
		const char *err;
	} cases[10];
	size_t n = 0;

	memset(cases, 0, sizeof(cases));
	assert_non_null(rsa1024);
	assert_non_null(p521);
	assert_non_null(ed);
	/* The explicit key really is encoded with its parameters (a named P-256 SPKI: 91). */
	assert_true(i2d_PUBKEY(expl, &spki) > 200);
	OPENSSL_free(spki);
	cases[n].csr = xstrdup("garbage");
	cases[n++].err = "not a PEM certificate request";
	cases[n].csr = xstrdup(g.p256_cert);
	cases[n++].err = "not a PEM certificate request";
	/* Only len bytes count: half a CSR is no CSR. */
	cases[n].csr = xstrdup(good);
	cases[n].len = strlen(good) / 2;
	cases[n++].err = "not a PEM certificate request";
	/* Signed by another key than the one it asks for: no proof of possession. */
	cases[n].csr = make_csr(p256, other, EVP_sha256(), NULL);
	cases[n++].err = "the request's signature does not verify (no proof of possession)";
	/* The subject changed after signing. */
	der = csr_der(good, &len);
	{
		unsigned char *p = memmem(der, len, "device", 6);
		assert_non_null(p);
		p[5] = 'f';
	}
	cases[n].csr = csr_pem_of(der, len);
	cases[n++].err = "the request's signature does not verify (no proof of possession)";
	/* The signature's last byte changed. */
	der[len - 1] ^= 0x01;
	cases[n].csr = csr_pem_of(der, len);
	cases[n++].err = "the request's signature does not verify (no proof of possession)";
	OPENSSL_free(der);
	cases[n].csr = make_csr(rsa1024, rsa1024, EVP_sha256(), NULL);
	cases[n++].err = "RSA keys must have at least 2048 bits";
	cases[n].csr = make_csr(expl, expl, EVP_sha256(), NULL);
	cases[n++].err = "EC keys with explicit curve parameters are refused";
	cases[n].csr = make_csr(p521, p521, EVP_sha512(), NULL);
	cases[n++].err = "EC keys must be on the named curve P-256 or P-384";
	cases[n].csr = make_csr(ed, ed, NULL, NULL);
	cases[n++].err = "the key must be RSA (2048 bits or more) or EC P-256/P-384";
	assert_true(n <= NELEM(cases));

	for (size_t i = 0; i < n; i++) {
		const char *err = NULL;
		size_t l = cases[i].len ? cases[i].len : strlen(cases[i].csr);
		EVP_PKEY *pub = ca_csr_public_key(cases[i].csr, l, &err);

		if (pub != NULL)
			fail_msg("case %zu accepted", i);
		assert_non_null(err);
		if (strcmp(err, cases[i].err) != 0)
			fail_msg("case %zu: \"%s\", expected \"%s\"", i, err, cases[i].err);
		free(cases[i].csr);
	}
	free(good);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(other);
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(p521);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(expl);
}

static void
test_ca_csr_extensions_ignored(void **state)
{
	static const struct {
		int nid;
		const char *value;
	} asked[] = {
		{ NID_basic_constraints, "critical,CA:TRUE" },
		{ NID_subject_alt_name, "DNS:idp.example.co.jp" },
		{ NID_ext_key_usage, "serverAuth,codeSigning" },
		{ NID_key_usage, "critical,keyCertSign,cRLSign" },
	};
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	EVP_PKEY *k = EVP_EC_gen("P-256");
	EXTENDED_KEY_USAGE *eku;
	BASIC_CONSTRAINTS *bc;
	struct ca_issued is;
	const char *err = NULL;
	char *csr, buf[64];
	EVP_PKEY *pub;
	X509 *x;

	for (size_t i = 0; i < NELEM(asked); i++) {
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, asked[i].nid, asked[i].value);
		assert_non_null(e);
		assert_true(sk_X509_EXTENSION_push(exts, e) > 0);
	}
	csr = make_csr(k, k, EVP_sha256(), exts);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	assert_non_null(pub = ca_csr_public_key(csr, strlen(csr), &err));
	x = issue(g.p256, pub, utc(2030, 1, 1, 0, 0, 0), &is);
	/* What the CA decides, nothing the request asked for. */
	assert_int_equal(X509_get_ext_count(x), 5);
	assert_int_equal(X509_get_ext_by_NID(x, NID_subject_alt_name, -1), -1);
	assert_non_null(bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL));
	assert_false(bc->ca);
	BASIC_CONSTRAINTS_free(bc);
	assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	assert_non_null(eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL));
	assert_int_equal(sk_ASN1_OBJECT_num(eku), 1);
	assert_int_equal(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)), NID_client_auth);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	/* Nor the request's subject. */
	name_entry(X509_get_subject_name(x), NID_organizationName, buf, sizeof(buf));
	assert_string_equal(buf, TENANT);
	name_entry(X509_get_subject_name(x), NID_commonName, buf, sizeof(buf));
	assert_string_equal(buf, "alice");
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), k), 1);
	X509_free(x);
	ca_issued_clear(&is);
	free(csr);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(k);
}

/* ---- PKCS#12 ---- */

/* The algorithm of a PBE: for PBES2 its cipher (and PBKDF2 with HMAC-SHA256 checked). */
static int
pbe_nid(const X509_ALGOR *alg)
{
	const ASN1_OBJECT *obj;
	const void *pval;
	int ptype, nid;
	PBE2PARAM *p2;
	PBKDF2PARAM *kdf;

	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	if (OBJ_obj2nid(obj) != NID_pbes2)
		return OBJ_obj2nid(obj);
	assert_int_equal(ptype, V_ASN1_SEQUENCE);
	assert_non_null(p2 = ASN1_item_unpack(pval, ASN1_ITEM_rptr(PBE2PARAM)));
	assert_int_equal(OBJ_obj2nid(p2->keyfunc->algorithm), NID_id_pbkdf2);
	assert_non_null(kdf = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM),
	    p2->keyfunc->parameter));
	assert_non_null(kdf->prf);
	assert_int_equal(OBJ_obj2nid(kdf->prf->algorithm), NID_hmacWithSHA256);
	nid = OBJ_obj2nid(p2->encryption->algorithm);
	PBKDF2PARAM_free(kdf);
	PBE2PARAM_free(p2);
	return nid;
}

/* The MAC digest, and the algorithms protecting the certificates and the key. */
static void
p12_algorithms(PKCS12 *p12, int *mac_r, int *certs_r, int *key_r)
{
	const X509_ALGOR *macalg;
	const ASN1_OBJECT *obj;
	STACK_OF(PKCS7) *safes = PKCS12_unpack_authsafes(p12);

	*certs_r = *key_r = 0;
	PKCS12_get0_mac(NULL, &macalg, NULL, NULL, p12);
	X509_ALGOR_get0(&obj, NULL, NULL, macalg);
	*mac_r = OBJ_obj2nid(obj);
	assert_non_null(safes);
	for (int i = 0; i < sk_PKCS7_num(safes); i++) {
		PKCS7 *p7 = sk_PKCS7_value(safes, i);
		STACK_OF(PKCS12_SAFEBAG) *bags;

		if (OBJ_obj2nid(p7->type) == NID_pkcs7_encrypted) {
			*certs_r = pbe_nid(p7->d.encrypted->enc_data->algorithm);
			continue;
		}
		assert_int_equal(OBJ_obj2nid(p7->type), NID_pkcs7_data);
		assert_non_null(bags = PKCS12_unpack_p7data(p7));
		for (int j = 0; j < sk_PKCS12_SAFEBAG_num(bags); j++) {
			const PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, j);
			const X509_ALGOR *alg;
			/* Never an unencrypted key. */
			assert_int_not_equal(PKCS12_SAFEBAG_get_nid(bag), NID_keyBag);
			if (PKCS12_SAFEBAG_get_nid(bag) != NID_pkcs8ShroudedKeyBag)
				continue;
			X509_SIG_get0(PKCS12_SAFEBAG_get0_pkcs8(bag), &alg, NULL);
			*key_r = pbe_nid(alg);
		}
		sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	}
	sk_PKCS7_pop_free(safes, PKCS7_free);
}

static void
check_p12(int legacy, int want_mac, int want_cipher)
{
	struct ca_issued is;
	X509 *x = issue(g.p256, g.dev, utc(2030, 1, 1, 0, 0, 0), &is);
	X509 *cax = x509_pem(g.p256_cert), *cert = NULL;
	EVP_PKEY *dev = g.dev, *pkey = NULL;
	STACK_OF(X509) *chain = NULL;
	const char *err = NULL;
	const unsigned char *p;
	unsigned char *der;
	PKCS12 *p12;
	size_t len = 0;
	int mac, certs, key, alen = 0;
	const unsigned char *alias;

	der = ca_pkcs12(g.dev, is.pem, g.p256_cert, PW, "Alice laptop", legacy, &len, &err);
	assert_non_null(der);
	p = der;
	assert_non_null(p12 = d2i_PKCS12(NULL, &p, (long)len));
	assert_ptr_equal(p, der + len);
	assert_int_equal(PKCS12_verify_mac(p12, PW, -1), 1);
	assert_int_equal(PKCS12_verify_mac(p12, PW "x", -1), 0);
	p12_algorithms(p12, &mac, &certs, &key);
	assert_int_equal(mac, want_mac);
	assert_int_equal(certs, want_cipher);
	assert_int_equal(key, want_cipher);
	/* The wrong password opens nothing. */
	assert_int_equal(PKCS12_parse(p12, "wrong password", &pkey, &cert, &chain), 0);
	assert_null(pkey);
	assert_null(cert);
	/* The right one gives the device key, its certificate and the CA. */
	assert_int_equal(PKCS12_parse(p12, PW, &pkey, &cert, &chain), 1);
	assert_int_equal(EVP_PKEY_eq(pkey, dev), 1);
	assert_int_equal(X509_cmp(cert, x), 0);
	assert_int_equal(sk_X509_num(chain), 1);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 0), cax), 0);
	alias = X509_alias_get0(cert, &alen);
	assert_non_null(alias);
	assert_int_equal(alen, strlen("Alice laptop"));
	assert_memory_equal(alias, "Alice laptop", (size_t)alen);
	EVP_PKEY_free(pkey);
	X509_free(cert);
	sk_X509_pop_free(chain, X509_free);
	PKCS12_free(p12);
	free(der);
	X509_free(cax);
	X509_free(x);
	ca_issued_clear(&is);
}

static void
test_ca_pkcs12_default(void **state)
{
	check_p12(0, NID_sha256, NID_aes_256_cbc);
}

static void
test_ca_pkcs12_legacy(void **state)
{
	check_p12(1, NID_sha1, NID_pbe_WithSHA1And3_Key_TripleDES_CBC);
}

static void
test_ca_pkcs12_refused(void **state)
{
	struct ca_issued is;
	X509 *x = issue(g.p256, g.dev, utc(2030, 1, 1, 0, 0, 0), &is);
	const char *err = NULL;
	EVP_PKEY *k;
	size_t len = 0;

	/* A key that is not the certificate's. */
	assert_non_null(k = ca_device_key(&err));
	assert_null(ca_pkcs12(k, is.pem, g.p256_cert, PW, "l", 0, &len, &err));
	assert_non_null(err);
	assert_null(ca_pkcs12(NULL, is.pem, g.p256_cert, PW, "l", 0, &len, &err));
	assert_null(ca_pkcs12(g.dev, "garbage", g.p256_cert, PW, "l", 0, &len, &err));
	assert_null(ca_pkcs12(g.dev, is.pem, "garbage", PW, "l", 0, &len, &err));
	EVP_PKEY_free(k);
	X509_free(x);
	ca_issued_clear(&is);
}

static void
test_ca_device_key(void **state)
{
	const char *err = NULL;
	EVP_PKEY *key;
	BIGNUM *priv = NULL;
	char group[32];
	size_t glen;

	assert_non_null(key = ca_device_key(&err));
	assert_int_equal(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
	assert_int_equal(EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
	    sizeof(group), &glen), 1);
	assert_string_equal(group, "prime256v1");
	/* A key pair (the PKCS#12 file needs the private key), and a new one each time. */
	assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &priv), 1);
	assert_int_not_equal(EVP_PKEY_eq(key, g.dev), 1);
	BN_clear_free(priv);
	EVP_PKEY_free(key);
}

/* ---- CRLs ---- */

static X509_CRL *
crl_der(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);

	assert_non_null(crl);
	assert_ptr_equal(p, der + len);
	return crl;
}

/* The entry of serial (hex) in crl, or NULL. */
static X509_REVOKED *
crl_entry(X509_CRL *crl, const char *hex)
{
	BIGNUM *bn = NULL;
	ASN1_INTEGER *serial;
	X509_REVOKED *r = NULL;

	assert_true(BN_hex2bn(&bn, hex) > 0);
	serial = BN_to_ASN1_INTEGER(bn, NULL);
	if (X509_CRL_get0_by_serial(crl, &r, serial) != 1)
		r = NULL;
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return r;
}

static int
entry_reason(X509_REVOKED *r)
{
	int crit = -1;
	ASN1_ENUMERATED *e = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit, NULL);
	long v;

	if (e == NULL)
		return -1;
	assert_int_equal(crit, 0);
	v = ASN1_ENUMERATED_get(e);
	ASN1_ENUMERATED_free(e);
	return (int)v;
}

static void
test_ca_crl_content(void **state)
{
	int64_t now = utc(2030, 4, 1, 9, 0, 0), next = now + 7 * 86400;
	struct ca_issued is;
	X509 *x = issue(g.p256, g.dev, now, &is);
	const struct ca_revoked revoked[] = {
		{ is.serial, now - 3600, 1 },
		{ "7A0000000000000000000000000000FF", now - 7200, 4 },
		{ "40FFEE", now - 60, 5 },
		{ "0ABC", now - 1, 9 },
		{ "5555", now - 2, 0 },
	};
	X509 *cax = x509_pem(g.p256_cert), *other = x509_pem(g.rsa_cert);
	const char *err = NULL;
	unsigned char *der;
	ASN1_INTEGER *num;
	X509_CRL *crl;
	size_t len = 0;
	uint64_t n = 0;

	der = ca_crl(g.p256, revoked, NELEM(revoked), now, next, 42, &len, &err);
	assert_non_null(der);
	crl = crl_der(der, len);
	assert_int_equal(X509_CRL_get_version(crl), 1);
	assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(cax)), 0);
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(cax)), 1);
	assert_int_not_equal(X509_CRL_verify(crl, X509_get0_pubkey(other)), 1);
	assert_int_equal(asn1_time_t(X509_CRL_get0_lastUpdate(crl)), now);
	assert_int_equal(asn1_time_t(X509_CRL_get0_nextUpdate(crl)), next);
	assert_non_null(num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL));
	assert_int_equal(ASN1_INTEGER_get_uint64(&n, num), 1);
	assert_int_equal(n, 42);
	ASN1_INTEGER_free(num);
	{
		AUTHORITY_KEYID *aki = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier,
		    NULL, NULL);
		assert_non_null(aki);
		assert_int_equal(ASN1_OCTET_STRING_cmp(aki->keyid,
		    X509_get0_subject_key_id(cax)), 0);
		AUTHORITY_KEYID_free(aki);
	}
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), NELEM(revoked));
	for (size_t i = 0; i < NELEM(revoked); i++) {
		X509_REVOKED *r = crl_entry(crl, revoked[i].serial);
		if (r == NULL)
			fail_msg("serial %s not in the CRL", revoked[i].serial);
		/* RFC 5280 5.3.1: for unspecified the extension is left out. */
		if (revoked[i].reason == 0)
			assert_int_equal(entry_reason(r), -1);
		else
			assert_int_equal(entry_reason(r), revoked[i].reason);
		assert_int_equal(asn1_time_t(X509_REVOKED_get0_revocationDate(r)),
		    revoked[i].when);
	}
	/* The issued certificate's serial as the CRL holds it is the one that was revoked. */
	assert_int_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(x),
	    X509_REVOKED_get0_serialNumber(crl_entry(crl, is.serial))), 0);
	assert_null(crl_entry(crl, "7A0000000000000000000000000000FE"));
	X509_CRL_free(crl);
	free(der);
	X509_free(x);
	X509_free(cax);
	X509_free(other);
	ca_issued_clear(&is);
}

static void
test_ca_crl_empty_and_numbers(void **state)
{
	static const uint64_t numbers[] = { 1, 255, 256, UINT64_C(1) << 63,
		UINT64_MAX };
	int64_t now = utc(2030, 4, 1, 9, 0, 0);

	for (size_t i = 0; i < NELEM(numbers); i++) {
		const char *err = NULL;
		size_t len = 0;
		unsigned char *der = ca_crl(g.rsa, NULL, 0, now, now + 86400, numbers[i], &len,
		    &err);
		X509 *cax = x509_pem(g.rsa_cert);
		ASN1_INTEGER *num;
		X509_CRL *crl;
		uint64_t n = 0;

		assert_non_null(der);
		crl = crl_der(der, len);
		assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(cax)), 1);
		assert_int_equal(X509_CRL_get_signature_nid(crl), NID_sha384WithRSAEncryption);
		/* No entries: OpenSSL leaves the list out (NULL, so "-1" entries). */
		assert_true(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) <= 0);
		assert_non_null(num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL));
		assert_int_equal(ASN1_INTEGER_get_uint64(&n, num), 1);
		assert_true(n == numbers[i]);
		ASN1_INTEGER_free(num);
		X509_CRL_free(crl);
		X509_free(cax);
		free(der);
	}
}

static void
test_ca_crl_bad_serial(void **state)
{
	const struct ca_revoked revoked[] = { { "not hex", 0, 1 } };
	const char *err = NULL;
	size_t len = 0;

	assert_null(ca_crl(g.p256, revoked, 1, utc(2030, 1, 1, 0, 0, 0), utc(2030, 1, 2, 0, 0,
	    0), 1, &len, &err));
	assert_non_null(err);
}

/* ---- reasons and serials ---- */

static void
test_ca_reason_codes(void **state)
{
	static const struct {
		const char *name;
		int code;
	} good[] = {
		{ "unspecified", 0 }, { "keyCompromise", 1 }, { "affiliationChanged", 3 },
		{ "superseded", 4 }, { "cessationOfOperation", 5 }, { "privilegeWithdrawn", 9 },
	};
	/* CA compromise, holds and attribute authorities are not for device certificates. */
	static const char *const refused[] = { "cACompromise", "certificateHold",
		"removeFromCRL", "aACompromise", "KeyCompromise", "keycompromise", "", "1",
		"keyCompromise ", "bogus" };

	for (size_t i = 0; i < NELEM(good); i++) {
		assert_int_equal(ca_reason_code(good[i].name), good[i].code);
		assert_string_equal(ca_reason_name(good[i].code), good[i].name);
		assert_int_equal(ca_reason_code(ca_reason_name(good[i].code)), good[i].code);
	}
	for (size_t i = 0; i < NELEM(refused); i++)
		if (ca_reason_code(refused[i]) != -1)
			fail_msg("\"%s\" accepted", refused[i]);
	/* Codes without a name print as unspecified. */
	assert_string_equal(ca_reason_name(-1), "unspecified");
	assert_string_equal(ca_reason_name(7), "unspecified");
	assert_string_equal(ca_reason_name(11), "unspecified");
	assert_string_equal(ca_reason_name(1000), "unspecified");
	/* Names of codes that cannot be chosen still print (old records). */
	assert_string_equal(ca_reason_name(2), "cACompromise");
	assert_string_equal(ca_reason_name(6), "certificateHold");
}

static void
test_ca_serial_normalise(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "4f3a9c", "4F3A9C" },
		{ "4F3A9C", "4F3A9C" },
		{ "4f:3A:9c", "4F3A9C" },
		{ "4F:3A:9C:", "4F3A9C" },
		{ ":4F", "4F" },
		/* Odd lengths get a leading zero: whole bytes, as openssl prints them. */
		{ "abc", "0ABC" },
		{ "a", "0A" },
		{ "0", "00" },
		{ "7fffffffffffffffffffffffffffffff", "7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF" },
		/* At most 46 digits; colons do not count. */
		{ "0123456789abcdef0123456789abcdef0123456789ab",
		    "0123456789ABCDEF0123456789ABCDEF0123456789AB" },
		{ "0123456789abcdef0123456789abcdef0123456789abc",
		    "00123456789ABCDEF0123456789ABCDEF0123456789ABC" },
		{ "0123456789abcdef0123456789abcdef0123456789abcd",
		    "0123456789ABCDEF0123456789ABCDEF0123456789ABCD" },
		{ "01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd",
		    "0123456789ABCDEF0123456789ABCDEF0123456789ABCD" },
	};
	static const char *const refused[] = {
		"", ":", ":::", "4G", "0x4F", " 4F", "4F ", "4F-3A", "4f\n", "-4F", "é",
		"0123456789abcdef0123456789abcdef0123456789abcde",
		"0123456789abcdef0123456789abcdef0123456789abcdef",
		"01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:e",
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		char out[48];

		if (ca_serial_normalise(cases[i].in, out) != 0)
			fail_msg("\"%s\" refused", cases[i].in);
		assert_string_equal(out, cases[i].out);
	}
	for (size_t i = 0; i < NELEM(refused); i++) {
		char out[48];

		if (ca_serial_normalise(refused[i], out) != -1)
			fail_msg("\"%s\" accepted", refused[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ca_create_p256),
		cmocka_unit_test(test_ca_create_rsa3072),
		cmocka_unit_test(test_ca_create_unique),
		cmocka_unit_test(test_ca_load),
		cmocka_unit_test(test_ca_issue_content),
		cmocka_unit_test(test_ca_issue_serial_random),
		cmocka_unit_test(test_ca_issue_serial_top_bits),
		cmocka_unit_test(test_ca_issue_dates),
		cmocka_unit_test(test_ca_issue_generalized_time),
		cmocka_unit_test(test_ca_issue_not_past_ca),
		cmocka_unit_test(test_ca_issue_no_key),
		cmocka_unit_test(test_ca_csr_accepted),
		cmocka_unit_test(test_ca_csr_refused),
		cmocka_unit_test(test_ca_csr_extensions_ignored),
		cmocka_unit_test(test_ca_pkcs12_default),
		cmocka_unit_test(test_ca_pkcs12_legacy),
		cmocka_unit_test(test_ca_pkcs12_refused),
		cmocka_unit_test(test_ca_device_key),
		cmocka_unit_test(test_ca_crl_content),
		cmocka_unit_test(test_ca_crl_empty_and_numbers),
		cmocka_unit_test(test_ca_crl_bad_serial),
		cmocka_unit_test(test_ca_reason_codes),
		cmocka_unit_test(test_ca_serial_normalise),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
