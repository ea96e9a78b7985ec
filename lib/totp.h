/*
 * Time-based one-time passwords (RFC 6238: HMAC-SHA-1, 30-second steps, 6 digits, the
 * profile authenticator apps expect) on liboath, and the otpauth:// URI that enrols them.
 */
#ifndef SEKISHO_TOTP_H
#define SEKISHO_TOTP_H

#include <stddef.h>
#include <stdint.h>

#define TOTP_SECRET_LEN 20	/* 160-bit seeds, as RFC 4226 recommends */
#define TOTP_STEP 30
#define TOTP_DIGITS 6

/* Call once before threads start (liboath's global init); 0 or -1. */
int totp_init(void);
/*
 * Check code (exactly 6 ASCII digits; spaces are not accepted here) against secret at
 * time now, allowing one step of skew either way.  1 with the matching time step in
 * *step_r (now / 30 + offset), 0 when it matches no step in the window, -1 on misuse.
 */
int totp_verify(const unsigned char *secret, size_t len, int64_t now, const char *code,
    uint64_t *step_r);
/* The code for time now (tests and tools), into out[TOTP_DIGITS + 1]; 0 or -1. */
int totp_code(const unsigned char *secret, size_t len, int64_t now, char out[TOTP_DIGITS + 1]);
/* RFC 4648 base32 without padding (caller frees). */
char *totp_base32(const unsigned char *secret, size_t len);
/*
 * otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
 * with issuer and account percent-encoded (caller frees).
 */
char *totp_uri(const char *issuer, const char *account, const unsigned char *secret, size_t len);

#endif
