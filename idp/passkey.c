/*
 * Passkeys (WebAuthn) at the relying party: stateless challenges bound to a purpose and a
 * browser, the tenant's RP ID, and assertions checked against a registered credential
 * (lib/webauthn.c does the cryptography), with the signature counter kept honest.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "crypto.h"
#include "encode.h"
#include "form.h"
#include "passkey.h"
#include "url.h"
#include "webauthn.h"
#include "xmalloc.h"

#define CHALLENGE_LIFETIME 300
#define NONCE_LEN 8	/* random: every page shown gets its own challenge */
#define MAC_LEN 16

/* The MAC over purpose, bind and the challenge's time and nonce (its first 16 bytes). */
static void
challenge_mac(const struct tenant_ctx *t, const char *purpose, const char *bind,
    const unsigned char head[8 + NONCE_LEN], unsigned char out[MAC_LEN])
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	char hex[2 * (8 + NONCE_LEN) + 1];
	char *msg;

	hex_encode(head, 8 + NONCE_LEN, hex);
	msg = xasprintf("webauthn\n%s\n%s\n%s", purpose, bind ? bind : "", hex);
	crypto_hmac_sha256(t->csrf_key, sizeof(t->csrf_key), msg, strlen(msg), mac);
	memcpy(out, mac, MAC_LEN);
	free(msg);
}

char *
passkey_challenge_new(struct tenant_ctx *t, const char *purpose, const char *bind)
{
	unsigned char c[WEBAUTHN_CHALLENGE_LEN];
	uint64_t now = (uint64_t)clock_now();

	for (int i = 0; i < 8; i++)
		c[i] = (unsigned char)(now >> (56 - 8 * i));
	crypto_random(c + 8, NONCE_LEN);
	challenge_mac(t, purpose, bind, c, c + 8 + NONCE_LEN);
	return b64url_encode(c, sizeof(c));
}

/* 1 when c is ours for purpose and bind and not older than its lifetime. */
static int
challenge_ours(const struct tenant_ctx *t, const unsigned char c[WEBAUTHN_CHALLENGE_LEN],
    const char *purpose, const char *bind)
{
	unsigned char mac[MAC_LEN];
	uint64_t when = 0;
	int64_t now = clock_now();

	for (int i = 0; i < 8; i++)
		when = when << 8 | c[i];
	challenge_mac(t, purpose, bind, c, mac);
	if (!crypto_eq(mac, c + 8 + NONCE_LEN, MAC_LEN))
		return 0;
	return (int64_t)when <= now + 5 && (int64_t)when + CHALLENGE_LIFETIME >= now;
}

int
passkey_challenge_take(struct idp *idp, struct tenant_ctx *t, const char *client_data,
    const char *purpose, const char *bind, unsigned char challenge[32])
{
	char hex[2 * WEBAUTHN_CHALLENGE_LEN + 1];
	int rc;

	if (webauthn_client_challenge(client_data, challenge, WEBAUTHN_CHALLENGE_LEN) !=
	    WEBAUTHN_CHALLENGE_LEN || !challenge_ours(t, challenge, purpose, bind))
		return 0;
	hex_encode(challenge, WEBAUTHN_CHALLENGE_LEN, hex);
	rc = store_replay_check(idp->in.store, t->id, "webauthn", hex,
	    clock_now() + CHALLENGE_LIFETIME + 10);
	return rc < 0 ? -1 : rc == 0;
}

char *
passkey_rp_id(const struct idp *idp)
{
	char *host = NULL, *port = NULL;

	if (url_https_authority(idp->in.settings.url, &host, &port) == -1)
		return NULL;
	free(port);
	return host;
}

static const char *
field(const struct form *f, const char *name)
{
	const char *v = form_get(f, name);

	return v && *v && strlen(v) <= WEBAUTHN_INPUT_MAX ? v : NULL;
}

int
passkey_answer_from(const struct form *f, struct passkey_answer *a)
{
	memset(a, 0, sizeof(*a));
	a->credential_id = field(f, "credential_id");
	a->client_data = field(f, "client_data");
	a->authenticator_data = field(f, "authenticator_data");
	a->signature = field(f, "signature");
	a->user_handle = form_get(f, "user_handle");
	return a->credential_id && a->client_data && a->authenticator_data && a->signature;
}

/* The counter after a good signature: a regression is refused and audited. */
static int
check_counter(struct idp *idp, struct tenant_ctx *t, const struct factor *f, uint32_t counter,
    const char **why)
{
	char was[24], now[24];
	int rc = store_webauthn_counter(idp->in.store, t->id, f->user, f->id, counter,
	    clock_now());

	if (rc != 2)
		return rc == 1 ? 1 : rc == 0 ? (*why = "no such credential", 0) : -1;
	snprintf(was, sizeof(was), "%llu", (unsigned long long)f->counter);
	snprintf(now, sizeof(now), "%lu", (unsigned long)counter);
	audit_event(idp->in.store, t->id, "factor.webauthn.counter", "user_id", f->user,
	    "factor", f->id, "stored", was, "received", now, NULL);
	*why = "signature counter went backwards (a cloned authenticator?)";
	return 0;
}

/* The credential the answer names, of user_id when given: 1/0/-1. */
static int
find_credential(struct idp *idp, struct tenant_ctx *t, const char *cred_id,
    const char *user_id, struct factor *f_r)
{
	int rc = store_factor_by_cred(idp->in.store, t->id, cred_id, f_r);

	if (rc == 1 && user_id && strcmp(f_r->user, user_id)) {
		store_factor_clear(f_r);
		return 0;
	}
	return rc;
}

int
passkey_verify(struct idp *idp, struct tenant_ctx *t, const struct passkey_answer *a,
    const char *purpose, const char *bind, const char *user_id, int require_uv,
    struct factor *f_r, int *uv_r, const char **why)
{
	unsigned char c[WEBAUTHN_CHALLENGE_LEN];
	char *rp = passkey_rp_id(idp);
	struct webauthn_expect e = { rp, idp->in.settings.url, c, sizeof(c), require_uv };
	uint32_t counter = 0;
	int rc = 0;

	memset(f_r, 0, sizeof(*f_r));
	*why = "challenge";
	if (rp == NULL || (rc = passkey_challenge_take(idp, t, a->client_data, purpose,
	    bind, c)) != 1)
		goto out;
	*why = "unknown credential";
	if ((rc = find_credential(idp, t, a->credential_id, user_id, f_r)) != 1)
		goto out;
	if (webauthn_assert(&e, a->client_data, a->authenticator_data, a->signature, f_r->secret,
	    f_r->secret_len, (int)f_r->alg, &counter, uv_r, why) == -1) {
		rc = 0;
		goto out;
	}
	rc = check_counter(idp, t, f_r, counter, why);
out:
	free(rp);
	if (rc != 1)
		store_factor_clear(f_r);
	return rc;
}
