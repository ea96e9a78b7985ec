/*
 * base64, base64url, hex and percent-encoding, strict in what they accept.
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "encode.h"
#include "xmalloc.h"

static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
b64_encoded_size(size_t n)
{
	return (n + 2) / 3 * 4 + 1;
}

static char *
encode(const unsigned char *p, size_t n, const char *alpha, int pad)
{
	char *out = xmalloc(b64_encoded_size(n));
	size_t o = 0, i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		out[o++] = alpha[v >> 6 & 63];
		out[o++] = alpha[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		if (i + 1 < n)
			out[o++] = alpha[v >> 6 & 63];
		else if (pad)
			out[o++] = '=';
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

char *
b64_encode(const void *p, size_t n)
{
	return encode(p, n, b64_std, 1);
}

char *
b64url_encode(const void *p, size_t n)
{
	return encode(p, n, b64_url, 0);
}

/* Value of each byte in the standard (0) and url-safe (1) alphabets; -1 elsewhere. */
static signed char b64_table[2][256];

static void
init_tables(void)
{
	for (int u = 0; u < 2; u++) {
		const char *alpha = u ? b64_url : b64_std;
		memset(b64_table[u], -1, sizeof(b64_table[u]));
		for (int i = 0; i < 64; i++)
			b64_table[u][(unsigned char)alpha[i]] = (signed char)i;
	}
}

static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* Core decoder over an alphabet-only string (no padding, no whitespace). */
static unsigned char *
decode(const char *s, size_t len, int url, size_t max, size_t *len_r)
{
	unsigned char *out;
	size_t o = 0, outlen;
	uint32_t acc = 0;
	int bits = 0;

	if (len % 4 == 1)
		return NULL;
	outlen = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
	if (outlen > max)
		return NULL;
	out = xmalloc(outlen + 1);
	pthread_once(&tables_once, init_tables);
	for (size_t i = 0; i < len; i++) {
		int v = b64_table[url][(unsigned char)s[i]];
		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	/* Non-canonical trailing bits are refused: one encoding per value. */
	if (bits && (acc & ((1u << bits) - 1))) {
		free(out);
		return NULL;
	}
	out[o] = '\0';
	*len_r = o;
	return out;
}

unsigned char *
b64_decode(const char *s, size_t len, int ws, size_t max, size_t *len_r)
{
	char *clean = xmalloc(len + 1);
	unsigned char *out;
	size_t n = 0, pad = 0;

	/* One pass to drop whitespace and padding (checked), then the strict decoder. */
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (ws && (c == ' ' || c == '\t' || c == '\r' || c == '\n'))
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad) {	/* data after padding */
			free(clean);
			return NULL;
		}
		clean[n++] = c;
	}
	if (pad > 2 || (n + pad) % 4 != 0 || (pad && n % 4 == 0)) {
		free(clean);
		return NULL;
	}
	out = decode(clean, n, 0, max, len_r);
	free(clean);
	return out;
}

unsigned char *
b64url_decode(const char *s, size_t len, size_t max, size_t *len_r)
{
	return decode(s, len, 1, max, len_r);
}

void
hex_encode(const void *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	const unsigned char *u = p;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[u[i] >> 4];
		out[2 * i + 1] = hx[u[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
hex_decode(const char *s, size_t len, unsigned char *out, size_t outsize, size_t *len_r)
{
	if (len % 2 || len / 2 > outsize)
		return -1;
	for (size_t i = 0; i < len; i += 2) {
		int h = hexval(s[i]), l = hexval(s[i + 1]);
		if (h < 0 || l < 0)
			return -1;
		out[i / 2] = (unsigned char)(h << 4 | l);
	}
	*len_r = len / 2;
	return 0;
}

char *
url_decode(const char *s, size_t len, int plus, size_t *len_r)
{
	char *out = xmalloc(len + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '%') {
			int h, l;
			if (len - i < 3)
				goto bad;
			h = hexval(s[i + 1]);
			l = hexval(s[i + 2]);
			if (h < 0 || l < 0)
				goto bad;
			c = (char)(h << 4 | l);
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		if (c == '\0')
			goto bad;
		out[o++] = c;
	}
	out[o] = '\0';
	if (len_r)
		*len_r = o;
	return out;
bad:
	free(out);
	return NULL;
}

char *
url_encode(const char *s)
{
	static const char hx[] = "0123456789ABCDEF";
	struct buf b;

	buf_init(&b, 0);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			buf_putc(&b, (char)*p);
		} else {
			char e[3] = { '%', hx[*p >> 4], hx[*p & 15] };
			buf_append(&b, e, 3);
		}
	}
	return buf_steal(&b, NULL);
}
