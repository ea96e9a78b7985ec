/*
 * Small cryptographic helpers over OpenSSL's EVP API: randomness (injectable for tests),
 * SHA-256, HMAC-SHA256, constant-time comparison and sealing secrets at rest (AES-256-GCM).
 */
#ifndef SEKISHO_CRYPTO_H
#define SEKISHO_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_SEAL_KEY_LEN 32
/* Sealed = version(1) + nonce(12) + ciphertext + tag(16). */
#define CRYPTO_SEAL_OVERHEAD (1 + 12 + 16)

/* Fill p with n random bytes; aborts if the system has no randomness. */
void crypto_random(void *p, size_t n);
/* Tests: replace the random source (NULL restores OpenSSL's). */
void crypto_set_random(void (*fn)(void *p, size_t n));
/* A random token of n bytes, base64url-encoded (caller frees). */
char *crypto_random_token(size_t n);

void crypto_sha256(const void *p, size_t n, unsigned char out[CRYPTO_SHA256_LEN]);
void crypto_hmac_sha256(const void *key, size_t keylen, const void *p, size_t n,
    unsigned char out[CRYPTO_SHA256_LEN]);
/* 1 when equal, in time independent of the contents. */
int crypto_eq(const void *a, const void *b, size_t n);
/* Constant-time comparison of two strings of possibly different lengths. */
int crypto_streq(const char *a, const char *b);

/*
 * AES-256-GCM with the record's own identity as associated data, so a sealed value
 * cannot be moved to another record.  seal returns a new buffer of n + OVERHEAD bytes;
 * open returns a new buffer (wiped by the caller with freezero) or NULL if tampered.
 */
unsigned char *crypto_seal(const unsigned char key[CRYPTO_SEAL_KEY_LEN], const void *aad,
    size_t aadlen, const void *p, size_t n, size_t *len_r);
unsigned char *crypto_open(const unsigned char key[CRYPTO_SEAL_KEY_LEN], const void *aad,
    size_t aadlen, const void *p, size_t n, size_t *len_r);

#endif
