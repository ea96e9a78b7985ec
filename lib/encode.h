/*
 * Strict encoders and decoders: base64 (standard and url-safe), hex, percent-encoding.
 * Decoders reject anything that is not canonical input of their alphabet.
 */
#ifndef SEKISHO_ENCODE_H
#define SEKISHO_ENCODE_H

#include <stddef.h>

/* Encoded length + 1 for NUL. */
size_t b64_encoded_size(size_t n);
/* Standard alphabet with '=' padding; returns a new string (caller frees). */
char *b64_encode(const void *p, size_t n);
/* URL-safe alphabet, no padding (RFC 4648 §5); returns a new string. */
char *b64url_encode(const void *p, size_t n);
/*
 * Decode standard base64 (padding required; whitespace ignored when ws is set, as SAML
 * POST bodies may be wrapped).  Returns a new buffer (NUL-terminated, caller frees) or
 * NULL when the input is not base64 or would decode to more than max bytes.
 */
unsigned char *b64_decode(const char *s, size_t len, int ws, size_t max, size_t *len_r);
/* URL-safe, unpadded; NULL on error. */
unsigned char *b64url_decode(const char *s, size_t len, size_t max, size_t *len_r);

/* Lower-case hex into out (2n+1 bytes). */
void hex_encode(const void *p, size_t n, char *out);
/* Hex of either case; 0 or -1.  Writes exactly len/2 bytes. */
int hex_decode(const char *s, size_t len, unsigned char *out, size_t outsize, size_t *len_r);

/* Percent-decode (and '+' to space when plus is set); NULL on bad escapes or NUL bytes. */
char *url_decode(const char *s, size_t len, int plus, size_t *len_r);
/* Percent-encode everything except unreserved characters (RFC 3986). */
char *url_encode(const char *s);

#endif
