/*
 * Unit tests for certs/devcert.c: a certificate issued by the tenant's CA verifies at the given
 * time; look-alikes from another CA with the same names and serial, certificates outside their
 * validity, without clientAuth or digitalSignature, CA certificates and garbage are refused.
 * Certificates the CA would never issue are made here with OpenSSL and signed by its key.
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

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "clock.h"
#include "devcert.h"
#include "encode.h"
#include "pki.h"
#include "pki_fixture.h"
#include "xmalloc.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define TENANT "acme"
#define ORG "Acme K.K."

/* Two CAs with the same subject name: the tenant's, and a look-alike. */
struct tca {
	char *key_pem, *cert_pem;
	EVP_PKEY *key;
	struct ca *ca;
	struct devcert_ca *dca;
};

static struct {
	struct tca own, other;
	EVP_PKEY *dev;		/* a device key pair */
	int64_t t;		/* the issue time of the certificates */
} g;

/* ---- helpers ---- */

static unsigned char *
der_of(X509 *x, size_t *len_r)
{
	unsigned char *der = NULL, *out;
	int n = i2d_X509(x, &der);

	assert_true(n > 0);
	out = xmemdup(der, (size_t)n);
	OPENSSL_free(der);
	*len_r = (size_t)n;
	return out;
}

static void
del_ext(X509 *x, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	assert_true(i >= 0);
	X509_EXTENSION_free(X509_delete_ext(x, i));
}

/* A CA valid 2020..2090 named like the tenant CA ca_create makes. */
static void
make_ca(struct tca *c)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_get_subject_name(x);
	const char *err = NULL;

	c->key_pem = pki_generate_key(PKI_P256);
	c->key = key_pem(c->key_pem);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)utc(2020, 1, 1, 0, 0, 0)));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)utc(2090, 1, 1, 0, 0, 0)));
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
	    (const unsigned char *)ORG, -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"Sekisho device CA " TENANT, -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	assert_int_equal(X509_set_pubkey(x, c->key), 1);
	add_ext(x, NULL, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
	add_ext(x, NULL, NID_key_usage, "critical,keyCertSign,cRLSign");
	add_ext(x, NULL, NID_subject_key_identifier, "hash");
	add_ext(x, NULL, NID_authority_key_identifier, "keyid:always");
	assert_true(X509_sign(x, c->key, EVP_sha256()) > 0);
	c->cert_pem = cert_pem(x);
	X509_free(x);
	assert_non_null(c->ca = ca_load(c->key_pem, c->cert_pem, &err));
	assert_non_null(c->dca = devcert_ca_new(c->cert_pem, &err));
}

static void
free_ca(struct tca *c)
{
	devcert_ca_free(c->dca);
	ca_free(c->ca);
	EVP_PKEY_free(c->key);
	freezero_str(c->key_pem);
	free(c->cert_pem);
}

static int
group_setup(void **state)
{
	const char *err = NULL;

	make_ca(&g.own);
	make_ca(&g.other);
	assert_non_null(g.dev = ca_device_key(&err));
	g.t = utc(2030, 6, 1, 12, 0, 0);
	return 0;
}

static int
group_teardown(void **state)
{
	free_ca(&g.own);
	free_ca(&g.other);
	EVP_PKEY_free(g.dev);
	return 0;
}

static void
issue(const struct tca *c, int64_t now, struct ca_issued *is)
{
	const char *err = NULL;

	if (ca_issue(c->ca, g.dev, TENANT, "alice", "Alice laptop", now, is, &err) != 0)
		fail_msg("ca_issue: %s", err);
}

/* 0 or -1 from devcert_verify under the tenant's CA; *errstr says why. */
static int
verify_at(const unsigned char *der, size_t len, int64_t now, const char **errstr)
{
	char fp[65], serial[48];

	*errstr = NULL;
	return devcert_verify(g.own.dca, der, len, now, fp, serial, errstr);
}

static void
refused(const unsigned char *der, size_t len, int64_t now, const char *why)
{
	const char *err = NULL;

	if (verify_at(der, len, now, &err) != -1)
		fail_msg("accepted, expected \"%s\"", why);
	assert_non_null(err);
	if (why && strcmp(err, why) != 0)
		fail_msg("\"%s\", expected \"%s\"", err, why);
}

/* A certificate the CA would not issue: the issued one changed by edit, then signed by key. */
static unsigned char *
variant(const struct ca_issued *is, void (*edit)(X509 *), EVP_PKEY *key, size_t *len_r)
{
	X509 *x = x509_der(is->der, is->der_len);
	unsigned char *der;

	if (edit)
		edit(x);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	der = der_of(x, len_r);
	X509_free(x);
	return der;
}

/* ---- what is accepted ---- */

static void
test_devcert_verify_accepts(void **state)
{
	struct ca_issued is;
	char fp[65], serial[48];
	const char *err = NULL;

	issue(&g.own, g.t, &is);
	if (devcert_verify(g.own.dca, is.der, is.der_len, g.t, fp, serial, &err) != 0)
		fail_msg("refused: %s", err);
	assert_string_equal(fp, is.fingerprint);
	assert_string_equal(serial, is.serial);
	ca_issued_clear(&is);
}

static void
test_devcert_verify_validity(void **state)
{
	struct ca_issued is;
	const char *err = NULL;

	issue(&g.own, g.t, &is);
	/* notBefore is the first valid second; notAfter is already past (OpenSSL's rule, and
	 * the store's too: a certificate counts as active while not_after > now). */
	assert_int_equal(verify_at(is.der, is.der_len, is.not_before, &err), 0);
	assert_int_equal(verify_at(is.der, is.der_len, is.not_after - 1, &err), 0);
	refused(is.der, is.der_len, is.not_before - 1, "certificate not yet valid");
	refused(is.der, is.der_len, is.not_after, "certificate expired");
	refused(is.der, is.der_len, is.not_after + 1, "certificate expired");
	refused(is.der, is.der_len, utc(2089, 1, 1, 0, 0, 0), "certificate expired");
	ca_issued_clear(&is);
}

static void
test_devcert_verify_production_ca(void **state)
{
	char *key = NULL, *cert = NULL, fp[65], serial[48];
	const char *err = NULL;
	struct devcert_ca *dca;
	struct ca_issued is;
	struct ca *ca;
	int64_t now;

	/* A CA as ca_create makes it (valid from the real clock on) under the strict checks. */
	assert_int_equal(ca_create(PKI_P256, TENANT, ORG, &key, &cert, &err), 0);
	now = clock_now();
	assert_non_null(ca = ca_load(key, cert, &err));
	assert_non_null(dca = devcert_ca_new(cert, &err));
	assert_int_equal(ca_issue(ca, g.dev, TENANT, "alice", "l", now, &is, &err), 0);
	if (devcert_verify(dca, is.der, is.der_len, now, fp, serial, &err) != 0)
		fail_msg("refused: %s", err);
	/* The look-alike CA's certificates do not verify under it. */
	{
		struct ca_issued o;
		issue(&g.other, now, &o);
		assert_int_equal(devcert_verify(dca, o.der, o.der_len, now, fp, serial, &err), -1);
		ca_issued_clear(&o);
	}
	ca_issued_clear(&is);
	devcert_ca_free(dca);
	ca_free(ca);
	freezero_str(key);
	free(cert);
}

/* ---- other CAs ---- */

static const ASN1_INTEGER *serial_to_copy;

static void
set_serial(X509 *x)
{
	assert_int_equal(X509_set_serialNumber(x, (ASN1_INTEGER *)serial_to_copy), 1);
}

static void
test_devcert_verify_foreign_ca(void **state)
{
	struct ca_issued own, other;
	X509 *xo, *xf;
	unsigned char *der;
	size_t len;

	issue(&g.own, g.t, &own);
	issue(&g.other, g.t, &other);
	xo = x509_der(own.der, own.der_len);
	/* The look-alike's certificate, given the same serial as the tenant's. */
	serial_to_copy = X509_get0_serialNumber(xo);
	der = variant(&other, set_serial, g.other.key, &len);
	xf = x509_der(der, len);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(xo), X509_get_subject_name(xf)), 0);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(xo), X509_get_issuer_name(xf)), 0);
	assert_int_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(xo),
	    X509_get0_serialNumber(xf)), 0);
	refused(der, len, g.t, "certificate not issued by this tenant's CA");
	free(der);
	/* As issued by the look-alike. */
	refused(other.der, other.der_len, g.t, "certificate not issued by this tenant's CA");
	/* The tenant's own certificate re-signed by the other key (AKI still the tenant's). */
	der = variant(&own, NULL, g.other.key, &len);
	refused(der, len, g.t, "certificate signature does not verify with this tenant's CA");
	free(der);
	/* Signed by the device key, names unchanged. */
	{
		der = variant(&own, NULL, g.dev, &len);
		refused(der, len, g.t, "certificate signature does not verify with this tenant's CA");
		free(der);
	}
	X509_free(xo);
	X509_free(xf);
	ca_issued_clear(&own);
	ca_issued_clear(&other);
}

static void
test_devcert_verify_ca_certs(void **state)
{
	const struct {
		const struct tca *ca;
		const char *why;
	} cases[] = {
		/* Its keyUsage (keyCertSign, cRLSign) does not allow client authentication. */
		{ &g.own, "certificate not for client authentication" },
		{ &g.other, "certificate not issued by this tenant's CA" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		size_t len = 0;
		unsigned char *der = devcert_pem_to_der(cases[i].ca->cert_pem, &len);

		assert_non_null(der);
		refused(der, len, g.t, cases[i].why);
		free(der);
	}
}

/* ---- purposes ---- */

static void
eku_server(X509 *x)
{
	del_ext(x, NID_ext_key_usage);
	add_ext(x, NULL, NID_ext_key_usage, "serverAuth");
}

static void
eku_server_client(X509 *x)
{
	del_ext(x, NID_ext_key_usage);
	add_ext(x, NULL, NID_ext_key_usage, "serverAuth,clientAuth");
}

static void
eku_code_email(X509 *x)
{
	del_ext(x, NID_ext_key_usage);
	add_ext(x, NULL, NID_ext_key_usage, "codeSigning,emailProtection");
}

static void
eku_none(X509 *x)
{
	del_ext(x, NID_ext_key_usage);
}

static void
ku_key_agreement(X509 *x)
{
	del_ext(x, NID_key_usage);
	add_ext(x, NULL, NID_key_usage, "critical,keyAgreement");
}

static void
ku_key_encipherment(X509 *x)
{
	del_ext(x, NID_key_usage);
	add_ext(x, NULL, NID_key_usage, "critical,keyEncipherment");
}

static void
ku_none(X509 *x)
{
	del_ext(x, NID_key_usage);
}

static void
basic_ca(X509 *x)
{
	del_ext(x, NID_basic_constraints);
	del_ext(x, NID_key_usage);
	add_ext(x, NULL, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(x, NULL, NID_key_usage, "critical,digitalSignature,keyCertSign");
}

static void
test_devcert_verify_purposes(void **state)
{
	static const struct {
		void (*edit)(X509 *);
		const char *why;	/* NULL: accepted */
	} cases[] = {
		{ NULL, NULL },
		{ eku_server, "certificate not for client authentication" },
		{ eku_code_email, "certificate not for client authentication" },
		{ eku_server_client, NULL },
		/* No EKU at all means any purpose (RFC 5280 4.2.1.12); the CA always sets one. */
		{ eku_none, NULL },
		/* The TLS handshake signs: keyAgreement alone is not enough. */
		{ ku_key_agreement, "certificate key usage excludes digital signatures" },
		{ ku_key_encipherment, "certificate not for client authentication" },
		{ ku_none, NULL },
		{ basic_ca, "a CA certificate is not a device certificate" },
	};
	struct ca_issued is;

	issue(&g.own, g.t, &is);
	for (size_t i = 0; i < NELEM(cases); i++) {
		size_t len;
		unsigned char *der = variant(&is, cases[i].edit, g.own.key, &len);
		const char *err = NULL;
		int rc = verify_at(der, len, g.t, &err);

		if (cases[i].why == NULL && rc != 0)
			fail_msg("case %zu refused: %s", i, err);
		if (cases[i].why && (rc != -1 || strcmp(err, cases[i].why) != 0))
			fail_msg("case %zu: rc %d \"%s\", expected \"%s\"", i, rc,
			    err ? err : "(none)", cases[i].why);
		free(der);
	}
	ca_issued_clear(&is);
}

/* ---- what does not parse ---- */

static void
big_comment(X509 *x)
{
	char *s = xmalloc(DEVCERT_MAX_DER + 2);

	memset(s, 'a', DEVCERT_MAX_DER + 1);
	s[DEVCERT_MAX_DER + 1] = '\0';
	add_ext(x, NULL, NID_netscape_comment, s);
	free(s);
}

static void
test_devcert_verify_garbage(void **state)
{
	static const unsigned char junk[] = { 0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x00 };
	struct ca_issued is;
	unsigned char *longer, *big;
	size_t len;

	issue(&g.own, g.t, &is);
	refused(junk, sizeof(junk), g.t, "certificate does not parse");
	refused((const unsigned char *)"garbage", 7, g.t, "certificate does not parse");
	refused(is.der, 0, g.t, "certificate does not parse");
	refused(is.der, is.der_len - 1, g.t, "certificate does not parse");
	refused(is.der, 10, g.t, "certificate does not parse");
	/* Trailing bytes after the certificate. */
	longer = xmalloc(is.der_len + 1);
	memcpy(longer, is.der, is.der_len);
	longer[is.der_len] = 0;
	refused(longer, is.der_len + 1, g.t, "certificate does not parse");
	free(longer);
	/* A PEM is not DER. */
	refused((const unsigned char *)is.pem, strlen(is.pem), g.t, "certificate does not parse");
	/* Too large, even though it would verify otherwise. */
	big = variant(&is, big_comment, g.own.key, &len);
	assert_true(len > DEVCERT_MAX_DER);
	refused(big, len, g.t, "certificate does not parse");
	free(big);
	ca_issued_clear(&is);
}

static void
test_devcert_ca_new(void **state)
{
	const char *err = NULL;

	assert_null(devcert_ca_new("garbage", &err));
	assert_non_null(err);
	err = NULL;
	assert_null(devcert_ca_new("", &err));
	assert_non_null(err);
	devcert_ca_free(NULL);
}

/* ---- PEM to DER ---- */

/* The PEM with only its line ends escaped, as some proxies forward it. */
static char *
escape_newlines(const char *pem)
{
	size_t n = 0;
	char *out = xmalloc(3 * strlen(pem) + 1);

	for (; *pem; pem++) {
		if (*pem == '\n') {
			memcpy(out + n, "%0A", 3);
			n += 3;
		} else {
			out[n++] = *pem;
		}
	}
	out[n] = '\0';
	return out;
}

static void
test_devcert_pem_to_der(void **state)
{
	struct ca_issued is;
	char *forms[3];
	unsigned char *der, *big;
	size_t len, blen;
	X509 *x;

	issue(&g.own, g.t, &is);
	forms[0] = xstrdup(is.pem);
	forms[1] = url_encode(is.pem);		/* nginx $ssl_client_escaped_cert */
	forms[2] = escape_newlines(is.pem);
	assert_non_null(strchr(forms[1], '%'));
	for (size_t i = 0; i < NELEM(forms); i++) {
		len = 0;
		der = devcert_pem_to_der(forms[i], &len);
		if (der == NULL)
			fail_msg("form %zu does not convert", i);
		assert_int_equal(len, is.der_len);
		assert_memory_equal(der, is.der, len);
		free(der);
		free(forms[i]);
	}
	assert_null(devcert_pem_to_der("", &len));
	assert_null(devcert_pem_to_der("garbage", &len));
	assert_null(devcert_pem_to_der("%zz", &len));
	assert_null(devcert_pem_to_der("-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n", &len));
	/* A bad escape spoils the whole PEM. */
	{
		char *bad = url_encode(is.pem);
		char *pct = strchr(bad, '%');
		pct[1] = 'z';
		assert_null(devcert_pem_to_der(bad, &len));
		free(bad);
	}
	/* Over DEVCERT_MAX_DER: refused here already. */
	big = variant(&is, big_comment, g.own.key, &blen);
	x = x509_der(big, blen);
	{
		char *pem = cert_pem(x);
		assert_null(devcert_pem_to_der(pem, &len));
		free(pem);
	}
	X509_free(x);
	free(big);
	ca_issued_clear(&is);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_devcert_verify_accepts),
		cmocka_unit_test(test_devcert_verify_validity),
		cmocka_unit_test(test_devcert_verify_production_ca),
		cmocka_unit_test(test_devcert_verify_foreign_ca),
		cmocka_unit_test(test_devcert_verify_ca_certs),
		cmocka_unit_test(test_devcert_verify_purposes),
		cmocka_unit_test(test_devcert_verify_garbage),
		cmocka_unit_test(test_devcert_ca_new),
		cmocka_unit_test(test_devcert_pem_to_der),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
