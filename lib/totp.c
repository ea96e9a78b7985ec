/*
 * TOTP codes on liboath (RFC 6238 with the authenticator apps' profile) and the
 * otpauth:// URI an app scans to enrol.  Codes are compared in constant time over the
 * whole window, so timing does not say which step matched.
 */
#include "config.h"

#include <liboath/oath.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "encode.h"
#include "log.h"
#include "totp.h"
#include "xmalloc.h"

int
totp_init(void)
{
	int rc = oath_init();

	if (rc != OATH_OK) {
		log_error("oath_init: %s", oath_strerror(rc));
		return -1;
	}
	return 0;
}

/* The code of time step t (not seconds) into out. */
static int
step_code(const unsigned char *secret, size_t len, uint64_t t, char out[TOTP_DIGITS + 1])
{
	int rc;

	/* liboath takes seconds: the start of step t, with a step size of TOTP_STEP. */
	rc = oath_totp_generate((const char *)secret, len, (time_t)(t * TOTP_STEP), TOTP_STEP,
	    OATH_TOTP_DEFAULT_START_TIME, TOTP_DIGITS, out);
	if (rc != OATH_OK) {
		log_error("oath_totp_generate: %s", oath_strerror(rc));
		return -1;
	}
	return 0;
}

static int
code_ok(const char *code)
{
	size_t i;

	for (i = 0; code[i] != '\0'; i++)
		if (code[i] < '0' || code[i] > '9' || i >= TOTP_DIGITS)
			return 0;
	return i == TOTP_DIGITS;
}

int
totp_verify(const unsigned char *secret, size_t len, int64_t now, const char *code,
    uint64_t *step_r)
{
	char want[TOTP_DIGITS + 1];
	uint64_t base, found = 0;
	int match = 0;

	if (secret == NULL || len == 0 || code == NULL || now < TOTP_STEP)
		return -1;
	if (!code_ok(code))
		return 0;
	base = (uint64_t)now / TOTP_STEP;
	for (uint64_t t = base - 1; t <= base + 1; t++) {
		if (step_code(secret, len, t, want) == -1)
			return -1;
		if (crypto_eq(want, code, TOTP_DIGITS) && !match) {
			match = 1;
			found = t;
		}
	}
	explicit_bzero(want, sizeof(want));
	if (match && step_r)
		*step_r = found;
	return match;
}

int
totp_code(const unsigned char *secret, size_t len, int64_t now, char out[TOTP_DIGITS + 1])
{
	if (secret == NULL || len == 0 || now < 0)
		return -1;
	return step_code(secret, len, (uint64_t)now / TOTP_STEP, out);
}

char *
totp_base32(const unsigned char *secret, size_t len)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	char *out = xmalloc((len * 8 + 4) / 5 + 1);
	size_t o = 0;
	unsigned int acc = 0, bits = 0;

	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8 | secret[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = alpha[(acc >> bits) & 31];
		}
	}
	if (bits > 0)
		out[o++] = alpha[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return out;
}

char *
totp_uri(const char *issuer, const char *account, const unsigned char *secret, size_t len)
{
	char *iss = url_encode(issuer), *acct = url_encode(account);
	char *b32 = totp_base32(secret, len);
	char *uri;

	uri = xasprintf("otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=%d"
	    "&period=%d", iss, acct, b32, iss, TOTP_DIGITS, TOTP_STEP);
	freezero_str(b32);
	free(iss);
	free(acct);
	return uri;
}
