/*
 * Randomness, hashing, HMAC, constant-time comparison and AES-256-GCM sealing.
 */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "crypto.h"
#include "encode.h"
#include "log.h"
#include "xmalloc.h"

static void (*random_hook)(void *p, size_t n);

void
crypto_set_random(void (*fn)(void *p, size_t n))
{
	random_hook = fn;
}

void
crypto_random(void *p, size_t n)
{
	if (random_hook) {
		random_hook(p, n);
		return;
	}
	if (RAND_bytes(p, (int)n) != 1)
		fatal("RAND_bytes failed");
}

char *
crypto_random_token(size_t n)
{
	unsigned char raw[64];
	char *s;

	if (n > sizeof(raw))
		fatal("%s: token too long", __func__);
	crypto_random(raw, n);
	s = b64url_encode(raw, n);
	explicit_bzero(raw, sizeof(raw));
	return s;
}

void
crypto_sha256(const void *p, size_t n, unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int len = CRYPTO_SHA256_LEN;

	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1)
		fatal("EVP_Digest failed");
}

void
crypto_hmac_sha256(const void *key, size_t keylen, const void *p, size_t n,
    unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int len = CRYPTO_SHA256_LEN;

	if (HMAC(EVP_sha256(), key, (int)keylen, p, n, out, &len) == NULL)
		fatal("HMAC failed");
}

int
crypto_eq(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

int
crypto_streq(const char *a, const char *b)
{
	unsigned char ha[CRYPTO_SHA256_LEN], hb[CRYPTO_SHA256_LEN];

	/* Hash first so the comparison does not leak the length either. */
	crypto_sha256(a, strlen(a), ha);
	crypto_sha256(b, strlen(b), hb);
	return crypto_eq(ha, hb, sizeof(ha));
}

static int
gcm(int enc, const unsigned char *key, const unsigned char *nonce, const void *aad,
    size_t aadlen, const unsigned char *in, size_t n, unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len, ok = 0;

	if (ctx == NULL)
		fatal("EVP_CIPHER_CTX_new failed");
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce, enc) != 1)
		goto done;
	if (aadlen && EVP_CipherUpdate(ctx, NULL, &len, aad, (int)aadlen) != 1)
		goto done;
	if (n && EVP_CipherUpdate(ctx, out, &len, in, (int)n) != 1)
		goto done;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) != 1)
		goto done;
	if (EVP_CipherFinal_ex(ctx, out + n, &len) != 1)
		goto done;
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1)
		goto done;
	ok = 1;
done:
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

unsigned char *
crypto_seal(const unsigned char key[CRYPTO_SEAL_KEY_LEN], const void *aad, size_t aadlen,
    const void *p, size_t n, size_t *len_r)
{
	unsigned char *out = xmalloc(n + CRYPTO_SEAL_OVERHEAD);

	out[0] = 1;
	crypto_random(out + 1, 12);
	if (gcm(1, key, out + 1, aad, aadlen, p, n, out + 13, out + 13 + n) == -1)
		fatal("AES-256-GCM encryption failed");
	*len_r = n + CRYPTO_SEAL_OVERHEAD;
	return out;
}

unsigned char *
crypto_open(const unsigned char key[CRYPTO_SEAL_KEY_LEN], const void *aad, size_t aadlen,
    const void *p, size_t n, size_t *len_r)
{
	const unsigned char *in = p;
	unsigned char *out, tag[16];
	size_t clen;

	if (n < CRYPTO_SEAL_OVERHEAD || in[0] != 1)
		return NULL;
	clen = n - CRYPTO_SEAL_OVERHEAD;
	out = xmalloc(clen + 1);
	memcpy(tag, in + 13 + clen, 16);
	if (gcm(0, key, in + 1, aad, aadlen, in + 13, clen, out, tag) == -1) {
		freezero(out, clen + 1);
		return NULL;
	}
	out[clen] = '\0';
	*len_r = clen;
	return out;
}
