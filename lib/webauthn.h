/*
 * WebAuthn Level 2 relying-party checks: clientDataJSON (jansson: type, challenge,
 * origin, no cross-origin) and libfido2 for authenticator data, attestation
 * (fido_cred_verify; "none" and self attestation accepted, the key is trusted on first
 * use) and assertion signatures (fido_assert_verify).  Inputs are base64url as the
 * browser's ArrayBuffers were encoded by the page's script.
 */
#ifndef SEKISHO_WEBAUTHN_H
#define SEKISHO_WEBAUTHN_H

#include <stddef.h>
#include <stdint.h>

#define WEBAUTHN_CHALLENGE_LEN 32
#define WEBAUTHN_INPUT_MAX 8192	/* bytes of any one base64url input */

struct webauthn_expect {
	const char *rp_id;	/* the tenant's host */
	const char *origin;	/* "https://host[:port]" */
	const unsigned char *challenge;
	size_t challenge_len;
	int require_uv;		/* user verification flag must be set */
};

struct webauthn_cred {
	char *cred_id;		/* base64url */
	unsigned char *pubkey;	/* libfido2's raw form for alg */
	size_t pubkey_len;
	int alg;		/* COSE: -7, -257, -8 */
	uint32_t counter;
	int uv;			/* user verified at registration */
	int backup_eligible;	/* BE flag (a synced passkey) */
};

/* The challenge in clientDataJSON (base64url), decoded into buf; its length or -1. */
long webauthn_client_challenge(const char *client_data_b64u, unsigned char *buf, size_t max);
/*
 * Registration: client_data (type "webauthn.create") and attestation_object checked
 * against e.  0 with *c_r filled (free with webauthn_cred_clear), or -1 with *errstr
 * naming what failed ("origin", "challenge", "type", "rp id", "user presence", "user
 * verification", "attestation", "unsupported algorithm", "malformed").
 */
int webauthn_register(const struct webauthn_expect *e, const char *client_data_b64u,
    const char *attestation_object_b64u, struct webauthn_cred *c_r, const char **errstr);
/*
 * Assertion (type "webauthn.get") by the credential with pubkey/alg: 0 with the
 * authenticator's counter in *counter_r and whether UV was set in *uv_r, or -1 *errstr.
 */
int webauthn_assert(const struct webauthn_expect *e, const char *client_data_b64u,
    const char *authenticator_data_b64u, const char *signature_b64u,
    const unsigned char *pubkey, size_t pubkey_len, int alg, uint32_t *counter_r, int *uv_r,
    const char **errstr);
void webauthn_cred_clear(struct webauthn_cred *c);

#endif
