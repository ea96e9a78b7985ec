/*
 * Passkeys (WebAuthn) as the relying party sees them: challenges, the tenant's RP ID and
 * origin, and checking an assertion against a registered credential, counter included.
 */
#ifndef SEKISHO_PASSKEY_H
#define SEKISHO_PASSKEY_H

#include "idp.h"
#include "store.h"

/*
 * A challenge without a store write per page shown: 8 bytes of issue time, 8 random
 * bytes and 16 of an HMAC (the tenant's CSRF key) over purpose, bind and those; valid
 * 5 minutes, single use through the replay cache when answered.  base64url (caller frees).
 */
char *passkey_challenge_new(struct tenant_ctx *t, const char *purpose, const char *bind);
/*
 * 1 when client_data (base64url clientDataJSON) carries a challenge of ours for purpose
 * and bind, not expired and not answered before (it is now used up; copied to
 * challenge); 0 when not; -1 on storage errors.
 */
int passkey_challenge_take(struct idp *idp, struct tenant_ctx *t, const char *client_data,
    const char *purpose, const char *bind, unsigned char challenge[32]);
/* The RP ID (the host of url; caller frees), or NULL. */
char *passkey_rp_id(const struct idp *idp);

/* What a browser sent for an assertion (the form fields of webauthn.js). */
struct passkey_answer {
	const char *credential_id;
	const char *client_data;
	const char *authenticator_data;
	const char *signature;
	const char *user_handle;
};
/* 1 when the fields are all there and within size. */
int passkey_answer_from(const struct form *f, struct passkey_answer *a);
/*
 * Check an assertion for purpose/bind: the challenge, the credential (of user_id, or of
 * anyone in the tenant when user_id is NULL; its factor in *f_r, cleared by the caller),
 * the signature with user verification when require_uv, and the counter (a regression is
 * audited as factor.webauthn.counter and refused).  1 good (*uv_r), 0 refused (*why a
 * short reason for the audit), -1 storage error.
 */
int passkey_verify(struct idp *idp, struct tenant_ctx *t, const struct passkey_answer *a,
    const char *purpose, const char *bind, const char *user_id, int require_uv,
    struct factor *f_r, int *uv_r, const char **why);

#endif
