/*
 * The device certificate authority of a tenant, on OpenSSL EVP: creating the CA, issuing
 * client certificates (128-bit serial with 126 random bits, clientAuth, 5 years), PKCS#12 bundles, CSR
 * checks and CRLs.  Only the ca process and the sekisho command hold a CA private key.
 */
#ifndef SEKISHO_CA_H
#define SEKISHO_CA_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "pki.h"

#define CA_CERT_YEARS 5		/* device certificates: 5 years from the issue date */
#define CA_BACKDATE 300		/* notBefore this many seconds early, for clock skew */
#define CA_P12_PASSWORD_MIN 12
#define CA_P12_PASSWORD_MAX 50

struct ca;

/* A new CA: key (P-256 or RSA-3072) and self-signed certificate, valid 20 years. */
int ca_create(enum pki_keytype type, const char *tenant, const char *org, char **key_pem_r,
    char **cert_pem_r, const char **errstr);
/* A loaded CA (key and certificate); NULL with *errstr. */
struct ca *ca_load(const char *key_pem, const char *cert_pem, const char **errstr);
void ca_free(struct ca *ca);

struct ca_issued {
	char serial[48];	/* upper-case hex, as "openssl x509 -serial" prints it */
	char fingerprint[65];	/* hex SHA-256 of the DER */
	int64_t not_before;
	int64_t not_after;
	unsigned char *der;
	size_t der_len;
	char *pem;
};
void ca_issued_clear(struct ca_issued *c);

/*
 * Issue a client certificate for the public key of pub (a key from ca_csr_public_key or
 * ca_device_key, passed as it is: encoding it to PEM and back cost most of an issuance):
 * subject O=tenant, CN=user, OU=label; keyUsage digitalSignature (critical), EKU
 * clientAuth, AKI/SKI; valid from now - CA_BACKDATE to the same date CA_CERT_YEARS later
 * (29 February gives 28 February).  Refused when that is past the CA's own notAfter.
 * 0 or -1 with *errstr.
 */
int ca_issue(struct ca *ca, EVP_PKEY *pub, const char *tenant, const char *user,
    const char *label, int64_t now, struct ca_issued *out, const char **errstr);

/*
 * Check a CSR (PEM): its signature (proof of possession) and key: RSA >= 2048 bits or EC on
 * a named P-256/P-384 curve (explicit parameters refused).  Requested extensions are
 * ignored.  Returns the public key (caller frees with EVP_PKEY_free), or NULL with *errstr.
 */
EVP_PKEY *ca_csr_public_key(const char *csr_pem, size_t len, const char **errstr);

/* A new device key pair (P-256; caller frees with EVP_PKEY_free), or NULL with *errstr. */
EVP_PKEY *ca_device_key(const char **errstr);
/*
 * A PKCS#12 bundle of key, certificate and CA certificate under password: AES-256-CBC,
 * PBKDF2 and an HMAC-SHA256 MAC, or with legacy set 3DES and SHA-1 for old importers.
 */
unsigned char *ca_pkcs12(EVP_PKEY *key, const char *cert_pem, const char *ca_pem,
    const char *password, const char *friendly, int legacy, size_t *len_r,
    const char **errstr);

struct ca_revoked {
	const char *serial;	/* hex */
	int64_t when;
	int reason;		/* CRLReason code */
};
/* A CRL (DER) listing revoked, numbered crl_number, valid until next_update. */
unsigned char *ca_crl(struct ca *ca, const struct ca_revoked *revoked, size_t n, int64_t now,
    int64_t next_update, uint64_t crl_number, size_t *len_r, const char **errstr);
/* CRLReason code of a name (unspecified, keyCompromise, ...), or -1. */
int ca_reason_code(const char *name);
const char *ca_reason_name(int code);
/* Normalise a serial as users type it (either case, colons optional) into out; 0 or -1. */
int ca_serial_normalise(const char *in, char out[48]);

#endif
