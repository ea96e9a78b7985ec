/*
 * Key pairs and self-signed certificates made with OpenSSL's EVP API, as PEM strings:
 * the SAML signing certificate of a tenant and the server's first TLS certificate.
 */
#ifndef SEKISHO_PKI_H
#define SEKISHO_PKI_H

#include <stdint.h>

enum pki_keytype {
	PKI_RSA2048,
	PKI_RSA3072,
	PKI_P256,
};

/*
 * Make a key and a self-signed certificate for cn, valid from now - 5 minutes for days;
 * san (optional) becomes an IP or DNS subjectAltName.  Returns 0 with new PEM strings
 * (caller frees; the key with freezero_str), or -1 with *errstr.
 */
int pki_self_signed(enum pki_keytype type, const char *cn, const char *san, int days,
    char **key_pem_r, char **cert_pem_r, const char **errstr);
/* A new private key as PEM (caller frees with freezero_str), or NULL. */
char *pki_generate_key(enum pki_keytype type);
/* SHA-256 fingerprint of a PEM certificate as "AB:CD:..." (96 bytes incl. NUL); 0 or -1. */
int pki_cert_fingerprint(const char *cert_pem, char out[96]);
/* The certificate's base64 DER body without PEM armour (caller frees), for metadata. */
char *pki_cert_base64(const char *cert_pem);
/* A certificate's DER as PEM (new string). */
char *pki_der_cert_pem(const unsigned char *der, size_t len);
/* 0 when key_pem and cert_pem form a pair and parse; -1 with *errstr. */
int pki_check_pair(const char *key_pem, const char *cert_pem, const char **errstr);

#endif
