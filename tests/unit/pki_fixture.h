/*
 * OpenSSL helpers shared by the certificate unit tests (test_ca, test_devcert); failures
 * end the test through cmocka's assertions.
 */
#ifndef SEKISHO_PKI_FIXTURE_H
#define SEKISHO_PKI_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/* A UTC calendar time as seconds since the epoch. */
int64_t utc(int y, int mo, int d, int h, int mi, int s);
/* The contents of a memory BIO as a new string; frees the BIO. */
char *bio_str(BIO *b);
/* A private key from PEM. */
EVP_PKEY *key_pem(const char *pem);
/* A certificate from DER. */
X509 *x509_der(const unsigned char *der, size_t len);
/* A certificate as PEM. */
char *cert_pem(X509 *x);
/* Add an extension from its openssl config text (issuer NULL: x itself). */
void add_ext(X509 *x, X509 *issuer, int nid, const char *value);

#endif
