/*
 * Unit tests for policies/store_oidc.c on a real LMDB environment in a temporary directory:
 * authorization codes (one use; a second use revokes the grant), rotating refresh tokens
 * (a replay revokes the grant), access tokens, revocation by session and by user, expiry
 * with a day's grace, and concurrent redemptions and rotations (exactly one winner).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <cmocka.h>

#include "audit.h"
#include "store.h"
#include "xmalloc.h"

#include "store_fixture.h"

#define CLIENT "client-1"
#define REDIR "https://rp.example/cb"
#define CHAL "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
#define DAY 86400

/* ---- helpers ---- */

/* A code for user, made in the SSO session cookie (NULL: none), valid until expires. */
static void
put_code_in(struct fx *fx, const char *tenant, const char *code, const char *user,
    const char *cookie, const char *challenge, int64_t expires)
{
	unsigned char h[32];
	struct oidc_code c = { .client_id = CLIENT, .redirect_uri = REDIR, .user = (char *)user,
		.scope = "openid profile", .nonce = "n-0S6", .challenge = (char *)challenge,
		.amr = "pwd", .acr = "1", .sid = "sid-1", .auth_time = T0,
		.expires = (uint64_t)expires };

	if (cookie) {
		struct session ss = { .user = (char *)user, .methods = "pwd", .created = T0,
			.last_seen = T0, .authn_instant = T0, .expires = T0 + 86400 };
		struct session cur;
		hash_of(cookie, h);
		c.session = h;
		c.session_len = sizeof(h);
		/* Codes come from a live SSO session, as in production. */
		if (store_session_get(fx->st, tenant, h, &cur) == 0)
			assert_int_equal(store_session_add(fx->st, tenant, h, &ss), 0);
		store_session_clear(&cur);
	}
	assert_int_equal(store_code_put(fx->st, tenant, code, &c), 0);
}

static void
put_code(struct fx *fx, const char *code, const char *user, const char *cookie, int64_t expires)
{
	put_code_in(fx, T, code, user, cookie, CHAL, expires);
}

/* Redeem as the right client would, creating family (NULL: none) valid until fexp. */
static int
redeem_in(struct fx *fx, const char *tenant, const char *code, int64_t now, const char *family,
    int64_t fexp, const struct oidc_issue *iss)
{
	struct oidc_redeem r = { .client_id = CLIENT, .redirect_uri = REDIR, .challenge = CHAL,
		.family_id = family, .family_expires = fexp };
	struct oidc_code c;
	int rc = store_code_redeem(fx->st, tenant, code, now, &r, iss, &c);

	store_code_clear(&c);
	return rc;
}

static int
redeem(struct fx *fx, const char *code, int64_t now, const char *family)
{
	return redeem_in(fx, T, code, now, family, now + 30 * DAY, NULL);
}

/* A grant for user in the SSO session cookie, made through a code as in production. */
static void
grant_in(struct fx *fx, const char *tenant, const char *family, const char *user,
    const char *cookie, int64_t fexp)
{
	char *code = xasprintf("code-for-%s", family);

	put_code_in(fx, tenant, code, user, cookie, CHAL, T0 + 600);
	assert_int_equal(redeem_in(fx, tenant, code, T0, family, fexp, NULL), 1);
	free(code);
}

static void
grant(struct fx *fx, const char *family, const char *user, const char *cookie)
{
	grant_in(fx, T, family, user, cookie, T0 + 30 * DAY);
}

/* The grant's revoked flag (it must exist). */
static int
revoked_in(struct fx *fx, const char *tenant, const char *family)
{
	struct oidc_family f;
	int r;

	assert_int_equal(store_family_get(fx->st, tenant, family, &f), 1);
	r = (int)f.revoked;
	store_family_clear(&f);
	return r;
}

static int
revoked(struct fx *fx, const char *family)
{
	return revoked_in(fx, T, family);
}

static uint64_t
generation(struct fx *fx, const char *family)
{
	struct oidc_family f;
	uint64_t g;

	assert_int_equal(store_family_get(fx->st, T, family, &f), 1);
	g = f.gen;
	store_family_clear(&f);
	return g;
}

static int
rotate(struct fx *fx, const char *client, const char *old, const char *new, int64_t now)
{
	struct oidc_family f;
	char *family;
	int rc = store_refresh_rotate(fx->st, T, client, old, new, now, now + 30 * DAY, NULL,
	    &family, &f);

	free(family);
	store_family_clear(&f);
	return rc;
}

/* 1 when token is a stored refresh token of family. */
static int
refresh_of(struct fx *fx, const char *token, const char *family)
{
	char *fam;
	uint64_t exp;
	int rc = store_refresh_family(fx->st, T, token, &fam, &exp);

	if (rc == 1)
		rc = strcmp(fam, family) == 0;
	free(fam);
	return rc;
}

static int
access_live(struct fx *fx, const char *key, int64_t now)
{
	struct oidc_access a;
	int rc = store_access_get(fx->st, T, key, now, &a);

	store_access_clear(&a);
	return rc;
}

static void
count_audit(const struct audit_rec *r, void *arg)
{
	(*(int *)arg)++;
}

static int
audit_count(struct fx *fx)
{
	int n = 0;

	assert_int_equal(store_audit_list(fx->st, T, 0, count_audit, &n), 0);
	return n;
}

/* ---- authorization codes ---- */

static void
test_store_oidc_code_redeem_once(void **state)
{
	struct fx *fx = *state;
	struct oidc_redeem r = { .client_id = CLIENT, .redirect_uri = REDIR, .challenge = CHAL,
		.family_id = "fam-1", .family_expires = T0 + 30 * DAY };
	struct oidc_code c;
	struct oidc_family f;
	unsigned char h[32];

	put_code(fx, "code-1", "alice", "sso-1", T0 + 600);
	/* Reading the code does not use it. */
	assert_int_equal(store_code_get(fx->st, T, "code-1", &c), 1);
	assert_string_equal(c.user, "alice");
	assert_int_equal(c.used, 0);
	store_code_clear(&c);
	assert_int_equal(store_code_get(fx->st, T, "code-2", &c), 0);
	assert_int_equal(store_code_get(fx->st, "other", "code-1", &c), 0);

	assert_int_equal(store_code_redeem(fx->st, T, "code-1", T0 + 10, &r, NULL, &c), 1);
	assert_string_equal(c.client_id, CLIENT);
	assert_string_equal(c.redirect_uri, REDIR);
	assert_string_equal(c.user, "alice");
	assert_string_equal(c.scope, "openid profile");
	assert_string_equal(c.nonce, "n-0S6");
	assert_string_equal(c.sid, "sid-1");
	assert_string_equal(c.family, "fam-1");
	assert_int_equal(c.used, 1);
	store_code_clear(&c);
	assert_int_equal(store_code_get(fx->st, T, "code-1", &c), 1);
	assert_int_equal(c.used, 1);
	assert_string_equal(c.family, "fam-1");
	store_code_clear(&c);

	/* The grant carries what the code stood for. */
	hash_of("sso-1", h);
	assert_int_equal(store_family_get(fx->st, T, "fam-1", &f), 1);
	assert_string_equal(f.client_id, CLIENT);
	assert_string_equal(f.user, "alice");
	assert_string_equal(f.scope, "openid profile");
	assert_string_equal(f.sid, "sid-1");
	assert_string_equal(f.amr, "pwd");
	assert_string_equal(f.acr, "1");
	assert_int_equal(f.session_len, 32);
	assert_memory_equal(f.session, h, 32);
	assert_int_equal(f.auth_time, T0);
	assert_int_equal(f.created, T0 + 10);
	assert_int_equal(f.expires, T0 + 30 * DAY);
	assert_int_equal(f.gen, 0);
	assert_int_equal(f.revoked, 0);
	store_family_clear(&f);

	/* A second redemption revokes the grant of the first; so does a third. */
	assert_int_equal(store_code_redeem(fx->st, T, "code-1", T0 + 20, &r, NULL, &c), 2);
	store_code_clear(&c);
	assert_int_equal(revoked(fx, "fam-1"), 1);
	assert_int_equal(redeem(fx, "code-1", T0 + 30, "fam-other"), 2);
	assert_int_equal(store_family_get(fx->st, T, "fam-other", &f), 0);
	/* Even after the code expired, a replay is a replay. */
	assert_int_equal(redeem(fx, "code-1", T0 + 601, "fam-other"), 2);
}

/* A code redeemed without creating a grant (no refresh tokens) is still used once. */
static void
test_store_oidc_code_redeem_without_grant(void **state)
{
	struct fx *fx = *state;

	put_code(fx, "code-1", "alice", NULL, T0 + 600);
	assert_int_equal(redeem(fx, "code-1", T0, NULL), 1);
	assert_int_equal(redeem(fx, "code-1", T0, NULL), 2);
	assert_int_equal(redeem(fx, "code-1", T0, "fam-late"), 2);
	assert_int_equal(raw_count(fx, "oidc_families"), 0);
	assert_int_equal(raw_count(fx, "oidc_by_session"), 0);
}

/* Client, redirect_uri and PKCE must match; a mismatch leaves the code usable. */
/* A code whose SSO session has ended (logout, new password) redeems to nothing. */
static void
test_store_oidc_code_session_ended(void **state)
{
	struct fx *fx = *state;
	struct oidc_redeem r = { CLIENT, REDIR, CHAL, "fam-x", T0 + 3600 };
	struct oidc_code c;
	unsigned char h[32];

	put_code(fx, "code-s", "alice", "sso-gone", T0 + 600);
	hash_of("sso-gone", h);
	assert_int_equal(store_session_delete(fx->st, T, h), 1);
	assert_int_equal(store_code_redeem(fx->st, T, "code-s", T0 + 5, &r, NULL, &c), 4);
	store_code_clear(&c);
	assert_int_equal(raw_count(fx, "oidc_families"), 0);
}

static void
test_store_oidc_code_mismatch(void **state)
{
	struct fx *fx = *state;
	static const struct {
		const char *client_id, *redirect_uri, *challenge;
	} cases[] = {
		{ "client-2", REDIR, CHAL },
		{ NULL, REDIR, CHAL },
		{ "client-", REDIR, CHAL },
		{ CLIENT, REDIR "/", CHAL },
		{ CLIENT, "https://RP.example/cb", CHAL },
		{ CLIENT, NULL, CHAL },
		{ CLIENT, REDIR, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN" },
		{ CLIENT, REDIR, NULL },
		{ CLIENT, REDIR, "" },
	};
	struct oidc_code c;
	struct oidc_family f;

	put_code(fx, "code-1", "alice", "sso-1", T0 + 600);
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct oidc_redeem r = { .client_id = cases[i].client_id,
			.redirect_uri = cases[i].redirect_uri, .challenge = cases[i].challenge,
			.family_id = "fam-1", .family_expires = T0 + DAY };

		if (store_code_redeem(fx->st, T, "code-1", T0, &r, NULL, &c) != 3)
			fail_msg("case %zu not refused with 3", i);
		store_code_clear(&c);
	}
	assert_int_equal(store_code_get(fx->st, T, "code-1", &c), 1);
	assert_int_equal(c.used, 0);
	store_code_clear(&c);
	assert_int_equal(store_family_get(fx->st, T, "fam-1", &f), 0);
	assert_int_equal(redeem(fx, "code-1", T0, "fam-1"), 1);
	assert_int_equal(revoked(fx, "fam-1"), 0);

	/* A code issued without PKCE refuses a verifier it never saw, and accepts none. */
	put_code_in(fx, T, "code-2", "alice", NULL, NULL, T0 + 600);
	assert_int_equal(redeem(fx, "code-2", T0, NULL), 3);
	{
		struct oidc_redeem r = { .client_id = CLIENT, .redirect_uri = REDIR };

		assert_int_equal(store_code_redeem(fx->st, T, "code-2", T0, &r, NULL, &c), 1);
		store_code_clear(&c);
	}
}

static void
test_store_oidc_code_expiry(void **state)
{
	struct fx *fx = *state;
	struct oidc_code c;

	put_code(fx, "code-1", "alice", NULL, T0 + 600);
	put_code(fx, "code-2", "alice", NULL, T0 + 600);
	/* One second late: refused, and not used up. */
	assert_int_equal(redeem(fx, "code-1", T0 + 601, "fam-1"), 0);
	assert_int_equal(store_code_get(fx->st, T, "code-1", &c), 1);
	assert_int_equal(c.used, 0);
	store_code_clear(&c);
	assert_int_equal(raw_count(fx, "oidc_families"), 0);
	/* At the expiry second itself the code still works. */
	assert_int_equal(redeem(fx, "code-2", T0 + 600, "fam-2"), 1);
	/* Unknown codes, and codes of another tenant. */
	assert_int_equal(redeem(fx, "code-3", T0, "fam-3"), 0);
	assert_int_equal(redeem_in(fx, "other", "code-1", T0, "fam-3", T0 + DAY, NULL), 0);
	assert_int_equal(raw_count(fx, "oidc_families"), 1);
}

/* What a token answer records (refresh token, access token, audit) commits with the redemption. */
static void
test_store_oidc_code_redeem_records_issue(void **state)
{
	struct fx *fx = *state;
	struct oidc_access at = { .family = "fam-1", .client_id = CLIENT, .user = "alice",
		.scope = "openid", .expires = T0 + 3600 };
	struct audit_entry ae;
	struct oidc_issue iss = { .refresh_token = "rt-1", .refresh_expires = T0 + DAY,
		.access_key = "at-1", .access = &at, .audit = &ae };
	struct oidc_code c;
	struct oidc_family f;
	char *fam;
	uint64_t exp;

	audit_entry_make(&ae, "oidc.token", "client", CLIENT, "user", "alice", NULL);
	put_code(fx, "code-1", "alice", "sso-1", T0 + 600);
	put_code(fx, "code-2", "alice", "sso-1", T0 + 600);
	assert_int_equal(redeem_in(fx, T, "code-1", T0, "fam-1", T0 + 30 * DAY, &iss), 1);
	assert_int_equal(generation(fx, "fam-1"), 1);
	assert_int_equal(store_refresh_family(fx->st, T, "rt-1", &fam, &exp), 1);
	assert_string_equal(fam, "fam-1");
	assert_int_equal(exp, T0 + DAY);
	free(fam);
	assert_int_equal(access_live(fx, "at-1", T0), 1);
	assert_int_equal(audit_count(fx), 1);
	/* The refresh token recorded is the live one of the grant. */
	assert_int_equal(rotate(fx, CLIENT, "rt-1", "rt-2", T0 + 1), 1);

	/* A refused redemption records nothing. */
	at.family = "fam-x";
	iss = (struct oidc_issue){ .refresh_token = "rt-x", .refresh_expires = T0 + DAY,
		.access_key = "at-x", .access = &at, .audit = &ae };
	{
		struct oidc_redeem r = { .client_id = "client-2", .redirect_uri = REDIR,
			.challenge = CHAL, .family_id = "fam-x", .family_expires = T0 + DAY };

		assert_int_equal(store_code_redeem(fx->st, T, "code-2", T0, &r, &iss, &c), 3);
		store_code_clear(&c);
	}
	assert_int_equal(redeem_in(fx, T, "code-1", T0, "fam-x", T0 + DAY, &iss), 2);
	assert_int_equal(access_live(fx, "at-x", T0), 0);
	assert_int_equal(refresh_of(fx, "rt-x", "fam-x"), 0);
	assert_int_equal(audit_count(fx), 1);

	/* One that fails half-way (the access key exists) leaves the code usable and no grant. */
	iss.access_key = "at-1";
	assert_int_equal(redeem_in(fx, T, "code-2", T0, "fam-x", T0 + DAY, &iss), -1);
	assert_int_equal(store_code_get(fx->st, T, "code-2", &c), 1);
	assert_int_equal(c.used, 0);
	store_code_clear(&c);
	assert_int_equal(store_family_get(fx->st, T, "fam-x", &f), 0);
	assert_int_equal(refresh_of(fx, "rt-x", "fam-x"), 0);
	assert_int_equal(audit_count(fx), 1);
	iss.access_key = "at-x";
	assert_int_equal(redeem_in(fx, T, "code-2", T0, "fam-x", T0 + DAY, &iss), 1);
	assert_int_equal(access_live(fx, "at-x", T0), 1);
	assert_int_equal(refresh_of(fx, "rt-x", "fam-x"), 1);
	assert_int_equal(audit_count(fx), 2);
	/* The replay of code-1 above revoked fam-1, and its access token with it. */
	assert_int_equal(access_live(fx, "at-1", T0), 0);
}

/* ---- refresh tokens ---- */

static void
test_store_oidc_refresh_rotation(void **state)
{
	struct fx *fx = *state;
	struct oidc_family f;
	char *family;

	grant(fx, "fam-1", "alice", "sso-1");
	assert_int_equal(store_refresh_issue(fx->st, T, "fam-1", "rt-1", T0 + DAY), 1);
	assert_int_equal(generation(fx, "fam-1"), 1);
	assert_int_equal(store_refresh_rotate(fx->st, T, CLIENT, "rt-1", "rt-2", T0 + 10,
	    T0 + 2 * DAY, NULL, &family, &f), 1);
	assert_string_equal(family, "fam-1");
	assert_int_equal(f.gen, 2);
	assert_string_equal(f.user, "alice");
	assert_string_equal(f.client_id, CLIENT);
	assert_int_equal(f.revoked, 0);
	free(family);
	store_family_clear(&f);
	assert_int_equal(generation(fx, "fam-1"), 2);
	assert_int_equal(refresh_of(fx, "rt-2", "fam-1"), 1);
	assert_int_equal(rotate(fx, CLIENT, "rt-2", "rt-3", T0 + 20), 1);
	assert_int_equal(generation(fx, "fam-1"), 3);

	/* rt-1 comes back: a copy exists somewhere, the whole grant goes. */
	assert_int_equal(rotate(fx, CLIENT, "rt-1", "rt-4", T0 + 30), 2);
	assert_int_equal(revoked(fx, "fam-1"), 1);
	assert_int_equal(refresh_of(fx, "rt-4", "fam-1"), 0);
	/* Even the newest token is now refused, and so is a second replay. */
	assert_int_equal(rotate(fx, CLIENT, "rt-3", "rt-5", T0 + 40), 0);
	assert_int_equal(rotate(fx, CLIENT, "rt-2", "rt-6", T0 + 40), 0);
	assert_int_equal(refresh_of(fx, "rt-5", "fam-1"), 0);
	/* Unknown tokens. */
	assert_int_equal(rotate(fx, CLIENT, "rt-none", "rt-7", T0), 0);
	assert_int_equal(store_refresh_family(fx->st, T, "rt-none", &family, &(uint64_t){ 0 }), 0);
	assert_null(family);
}

/* Another client cannot rotate the token, nor spend it: nothing changes. */
static void
test_store_oidc_refresh_other_client(void **state)
{
	struct fx *fx = *state;

	grant(fx, "fam-1", "alice", "sso-1");
	assert_int_equal(store_refresh_issue(fx->st, T, "fam-1", "rt-1", T0 + DAY), 1);
	assert_int_equal(rotate(fx, "client-2", "rt-1", "rt-2", T0 + 10), 0);
	assert_int_equal(rotate(fx, NULL, "rt-1", "rt-2", T0 + 10), 0);
	assert_int_equal(generation(fx, "fam-1"), 1);
	assert_int_equal(revoked(fx, "fam-1"), 0);
	assert_int_equal(refresh_of(fx, "rt-2", "fam-1"), 0);
	assert_int_equal(rotate(fx, CLIENT, "rt-1", "rt-2", T0 + 20), 1);
}

/* Expired tokens and grants refuse rotation; a new token never outlives its grant. */
static void
test_store_oidc_refresh_expiry(void **state)
{
	struct fx *fx = *state;
	char *family;
	uint64_t exp;

	grant_in(fx, T, "fam-1", "alice", "sso-1", T0 + 1000);
	assert_int_equal(store_refresh_issue(fx->st, T, "fam-1", "rt-1", T0 + 100), 1);
	/* The token's own end. */
	assert_int_equal(rotate(fx, CLIENT, "rt-1", "rt-2", T0 + 101), 0);
	assert_int_equal(generation(fx, "fam-1"), 1);
	/* Asked for 30 days, it gets the grant's end. */
	assert_int_equal(rotate(fx, CLIENT, "rt-1", "rt-2", T0 + 100), 1);
	assert_int_equal(store_refresh_family(fx->st, T, "rt-2", &family, &exp), 1);
	assert_string_equal(family, "fam-1");
	assert_int_equal(exp, T0 + 1000);
	free(family);
	/* The grant's end. */
	assert_int_equal(rotate(fx, CLIENT, "rt-2", "rt-3", T0 + 1001), 0);
	assert_int_equal(revoked(fx, "fam-1"), 0);
	assert_int_equal(generation(fx, "fam-1"), 2);
}

/*
 * A replaced token that comes back after its own end, within the day store_expire keeps it
 * for ("to detect their replay"), is still a replay: the grant must go.
 * Regression test (fixed in policies/store_oidc.c, refresh_rotate_tx): the expiry test comes before the
 * generation test, so such a replay answers 0 and the grant stays live.
 */
static void
test_store_oidc_refresh_replay_after_expiry(void **state)
{
	struct fx *fx = *state;

	grant(fx, "fam-1", "alice", "sso-1");
	assert_int_equal(store_refresh_issue(fx->st, T, "fam-1", "rt-1", T0 + 100), 1);
	assert_int_equal(rotate(fx, CLIENT, "rt-1", "rt-2", T0 + 50), 1);
	assert_int_equal(rotate(fx, CLIENT, "rt-1", "rt-3", T0 + 101), 2);
	assert_int_equal(revoked(fx, "fam-1"), 1);
	assert_int_equal(rotate(fx, CLIENT, "rt-2", "rt-4", T0 + 102), 0);
}

static void
test_store_oidc_refresh_issue_revoked(void **state)
{
	struct fx *fx = *state;

	grant(fx, "fam-1", "alice", "sso-1");
	assert_int_equal(store_family_revoke(fx->st, T, "fam-1"), 1);
	assert_int_equal(store_refresh_issue(fx->st, T, "fam-1", "rt-1", T0 + DAY), 0);
	assert_int_equal(refresh_of(fx, "rt-1", "fam-1"), 0);
	assert_int_equal(store_refresh_issue(fx->st, T, "fam-none", "rt-2", T0 + DAY), 0);
	assert_int_equal(store_family_revoke(fx->st, T, "fam-none"), 0);
	assert_int_equal(store_family_revoke(fx->st, "other", "fam-1"), 0);
	assert_int_equal(raw_count(fx, "oidc_refresh"), 0);
}

/* ---- revocation by session and by user ---- */

static void
test_store_oidc_revoke_session_grants(void **state)
{
	struct fx *fx = *state;
	static const struct {
		const char *family, *user, *cookie;
		int revoked;
	} grants[] = {
		{ "g1", "alice", "sso-1", 1 },
		{ "g2", "alice", "sso-1", 1 },
		{ "g3", "alice", "sso-2", 0 },
		{ "g4", "bob", "sso-3", 0 },
		{ "g5", "alice", NULL, 0 },
	};
	unsigned char h[32], none[32];

	for (size_t i = 0; i < NELEM(grants); i++)
		grant(fx, grants[i].family, grants[i].user, grants[i].cookie);
	grant_in(fx, "other", "g1", "alice", "sso-1", T0 + DAY);
	hash_of("sso-1", h);
	hash_of("sso-none", none);
	assert_int_equal(store_revoke_session_grants(fx->st, T, h), 2);
	for (size_t i = 0; i < NELEM(grants); i++)
		if (revoked(fx, grants[i].family) != grants[i].revoked)
			fail_msg("%s", grants[i].family);
	assert_int_equal(revoked_in(fx, "other", "g1"), 0);
	assert_int_equal(store_revoke_session_grants(fx->st, T, h), 0);
	assert_int_equal(store_revoke_session_grants(fx->st, T, none), 0);
	/* The session's index entries went with them. */
	assert_int_equal(raw_count(fx, "oidc_by_session"), 3);
}

static void
test_store_oidc_revoke_user_grants(void **state)
{
	struct fx *fx = *state;
	static const struct {
		const char *family, *user;
		int revoked;
	} grants[] = {
		{ "g1", "alice", 1 },
		{ "g2", "alice", 1 },
		{ "g3", "alice2", 0 },
		{ "g4", "alic", 0 },
		{ "g5", "bob", 0 },
	};

	for (size_t i = 0; i < NELEM(grants); i++)
		grant(fx, grants[i].family, grants[i].user, NULL);
	grant_in(fx, "other", "g1", "alice", NULL, T0 + DAY);
	assert_int_equal(store_revoke_user_grants(fx->st, T, "alice"), 2);
	for (size_t i = 0; i < NELEM(grants); i++)
		if (revoked(fx, grants[i].family) != grants[i].revoked)
			fail_msg("%s", grants[i].family);
	assert_int_equal(revoked_in(fx, "other", "g1"), 0);
	assert_int_equal(store_revoke_user_grants(fx->st, T, "alice"), 0);
	assert_int_equal(store_revoke_user_grants(fx->st, T, "nobody"), 0);
	assert_int_equal(raw_count(fx, "oidc_by_user"), 4);
}

/* A new password, disabling or re-enabling a user ends the user's grants. */
static void
test_store_oidc_user_changes_revoke_grants(void **state)
{
	struct fx *fx = *state;
	struct oidc_access at = { .family = "a1", .client_id = CLIENT, .expires = T0 + 3600 };
	char *alice, *bob;

	add_user(fx, T, "alice", "alice@example.com");
	add_user(fx, T, "bob", "bob@example.com");
	/* Grants refer to the user's id. */
	alice = user_id(fx, T, "alice");
	bob = user_id(fx, T, "bob");
	at.user = alice;
	grant(fx, "a1", alice, "sso-1");
	grant(fx, "a2", alice, NULL);
	grant(fx, "b1", bob, "sso-2");
	assert_int_equal(store_access_put(fx->st, T, "at-a1", &at, NULL), 0);
	assert_int_equal(access_live(fx, "at-a1", T0), 1);

	assert_int_equal(store_user_set_password(fx->st, T, "alice", "$argon2id$y", T0 + 5, NULL),
	    1);
	assert_int_equal(revoked(fx, "a1"), 1);
	assert_int_equal(revoked(fx, "a2"), 1);
	assert_int_equal(revoked(fx, "b1"), 0);
	assert_int_equal(access_live(fx, "at-a1", T0), 0);

	assert_int_equal(store_user_set_disabled(fx->st, T, "bob", 1, NULL), 1);
	assert_int_equal(revoked(fx, "b1"), 1);

	/* A grant made after the change lives, until the next change. */
	grant(fx, "a3", alice, NULL);
	assert_int_equal(revoked(fx, "a3"), 0);
	assert_int_equal(store_user_set_disabled(fx->st, T, "alice", 0, NULL), 1);
	assert_int_equal(revoked(fx, "a3"), 1);
	assert_int_equal(store_user_set_password(fx->st, T, "nobody", "$argon2id$y", T0, NULL), 0);
	/* Removing the user: a new user of the same name gets none of its grants. */
	grant(fx, "a4", alice, NULL);
	assert_int_equal(store_user_remove(fx->st, T, "alice", NULL), 1);
	assert_int_equal(revoked(fx, "a4"), 1);
	free(alice);
	free(bob);
}

/* ---- access tokens ---- */

static void
test_store_oidc_access_tokens(void **state)
{
	struct fx *fx = *state;
	struct oidc_access cc = { .client_id = CLIENT, .scope = "api", .expires = T0 + 3600 };
	struct oidc_access bound = { .family = "fam-1", .client_id = CLIENT, .user = "alice",
		.scope = "openid", .expires = T0 + 3600 };
	struct oidc_access ghost = { .family = "fam-ghost", .client_id = CLIENT,
		.expires = T0 + 3600 };
	struct oidc_access a;
	struct audit_entry ae;

	grant(fx, "fam-1", "alice", "sso-1");
	audit_entry_make(&ae, "oidc.token", "client", CLIENT, NULL);
	assert_int_equal(store_access_put(fx->st, T, "at-cc", &cc, &ae), 0);
	assert_int_equal(audit_count(fx), 1);
	assert_int_equal(store_access_put(fx->st, T, "at-1", &bound, NULL), 0);
	assert_int_equal(store_access_put(fx->st, T, "at-ghost", &ghost, NULL), 0);
	assert_int_equal(audit_count(fx), 1);
	/* The same key twice is refused. */
	assert_int_equal(store_access_put(fx->st, T, "at-1", &cc, NULL), -1);

	/* Client credentials: no grant; live until its expiry second. */
	assert_int_equal(store_access_get(fx->st, T, "at-cc", T0, &a), 1);
	assert_null(a.family);
	assert_null(a.user);
	assert_string_equal(a.client_id, CLIENT);
	assert_string_equal(a.scope, "api");
	assert_int_equal(a.expires, T0 + 3600);
	store_access_clear(&a);
	assert_int_equal(access_live(fx, "at-cc", T0 + 3600), 1);
	assert_int_equal(access_live(fx, "at-cc", T0 + 3601), 0);
	assert_int_equal(access_live(fx, "at-none", T0), 0);
	assert_int_equal(store_access_get(fx->st, "other", "at-cc", T0, &a), 0);
	store_access_clear(&a);

	/* Revoked itself. */
	assert_int_equal(store_access_revoke(fx->st, T, "at-cc"), 1);
	assert_int_equal(access_live(fx, "at-cc", T0), 0);
	assert_int_equal(store_access_revoke(fx->st, T, "at-none"), 0);

	/* Bound to a grant: dies with it; bound to a grant that does not exist: never live. */
	assert_int_equal(store_access_get(fx->st, T, "at-1", T0, &a), 1);
	assert_string_equal(a.family, "fam-1");
	assert_string_equal(a.user, "alice");
	store_access_clear(&a);
	assert_int_equal(store_family_revoke(fx->st, T, "fam-1"), 1);
	assert_int_equal(access_live(fx, "at-1", T0), 0);
	assert_int_equal(access_live(fx, "at-ghost", T0), 0);
}

/* A refresh token replay also kills the access tokens of the grant. */
static void
test_store_oidc_replay_kills_access(void **state)
{
	struct fx *fx = *state;
	struct oidc_access at = { .family = "fam-1", .client_id = CLIENT, .user = "alice",
		.expires = T0 + 3600 };
	struct oidc_issue iss = { .access_key = "at-2", .access = &at };
	struct oidc_family f;
	char *family;

	grant(fx, "fam-1", "alice", "sso-1");
	assert_int_equal(store_refresh_issue(fx->st, T, "fam-1", "rt-1", T0 + DAY), 1);
	assert_int_equal(store_access_put(fx->st, T, "at-1", &at, NULL), 0);
	/* The rotation records its access token in the same transaction. */
	assert_int_equal(store_refresh_rotate(fx->st, T, CLIENT, "rt-1", "rt-2", T0, T0 + DAY,
	    &iss, &family, &f), 1);
	free(family);
	store_family_clear(&f);
	assert_int_equal(access_live(fx, "at-2", T0), 1);
	assert_int_equal(rotate(fx, CLIENT, "rt-1", "rt-3", T0 + 1), 2);
	assert_int_equal(access_live(fx, "at-1", T0 + 1), 0);
	assert_int_equal(access_live(fx, "at-2", T0 + 1), 0);
}

/* ---- expiry ---- */

static void
test_store_oidc_expire(void **state)
{
	struct fx *fx = *state;
	const int64_t now = T0 + 100000;
	struct oidc_access at = { .client_id = CLIENT };
	struct oidc_code c;
	struct oidc_family f;

	/* Codes a day past their end go; those within the day stay to catch replays. */
	put_code(fx, "c-old", "alice", NULL, now - DAY - 1);
	put_code(fx, "c-grace", "alice", NULL, now - DAY);
	/* Grants likewise, each with a session and a user index entry. */
	put_code(fx, "c-f-old", "alice", "sso-1", now + 600);
	put_code(fx, "c-f-grace", "bob", "sso-2", now + 600);
	put_code(fx, "c-f-live", "carol", "sso-3", now + 600);
	assert_int_equal(redeem_in(fx, T, "c-f-old", T0, "f-old", now - DAY - 1, NULL), 1);
	assert_int_equal(redeem_in(fx, T, "c-f-grace", T0, "f-grace", now - DAY, NULL), 1);
	assert_int_equal(redeem_in(fx, T, "c-f-live", T0, "f-live", now + 3600, NULL), 1);
	/* Refresh tokens likewise. */
	assert_int_equal(store_refresh_issue(fx->st, T, "f-live", "r-old", now - DAY - 1), 1);
	assert_int_equal(store_refresh_issue(fx->st, T, "f-live", "r-grace", now - DAY), 1);
	assert_int_equal(store_refresh_issue(fx->st, T, "f-live", "r-live", now + 60), 1);
	/* Access tokens at once. */
	at.expires = now - 1;
	assert_int_equal(store_access_put(fx->st, T, "a-old", &at, NULL), 0);
	at.expires = now;
	assert_int_equal(store_access_put(fx->st, T, "a-edge", &at, NULL), 0);
	assert_int_equal(raw_count(fx, "oidc_by_session"), 3);
	assert_int_equal(raw_count(fx, "oidc_by_user"), 3);

	/* c-old, f-old, r-old, a-old, and the three SSO sessions the codes came from (idle
	   since T0). */
	assert_int_equal(store_expire(fx->st, now, 600), 7);
	assert_int_equal(store_code_get(fx->st, T, "c-old", &c), 0);
	assert_int_equal(store_code_get(fx->st, T, "c-grace", &c), 1);
	store_code_clear(&c);
	assert_int_equal(store_family_get(fx->st, T, "f-old", &f), 0);
	assert_int_equal(store_family_get(fx->st, T, "f-grace", &f), 1);
	store_family_clear(&f);
	assert_int_equal(refresh_of(fx, "r-old", "f-live"), 0);
	assert_int_equal(refresh_of(fx, "r-grace", "f-live"), 1);
	assert_int_equal(refresh_of(fx, "r-live", "f-live"), 1);
	assert_int_equal(access_live(fx, "a-edge", now), 1);
	assert_int_equal(raw_count(fx, "oidc_codes"), 4);
	assert_int_equal(raw_count(fx, "oidc_families"), 2);
	assert_int_equal(raw_count(fx, "oidc_refresh"), 2);
	assert_int_equal(raw_count(fx, "oidc_access"), 1);
	/* The expired grant's index entries went too; the others stay. */
	assert_int_equal(raw_count(fx, "oidc_by_session"), 2);
	assert_int_equal(raw_count(fx, "oidc_by_user"), 2);
	{
		unsigned char h[32];

		hash_of("sso-2", h);
		assert_int_equal(store_revoke_session_grants(fx->st, T, h), 1);
		assert_int_equal(store_revoke_user_grants(fx->st, T, "carol"), 1);
	}
	/* Nothing is left to expire. */
	assert_int_equal(store_expire(fx->st, now, 600), 0);
}

/* ---- concurrency ---- */

#define RACE_THREADS 20

struct race_arg {
	struct store *st;
	pthread_barrier_t *go;
	int i;
	int rc;
};

static void *
redeem_thread(void *p)
{
	struct race_arg *a = p;
	struct oidc_redeem r = { .client_id = CLIENT, .redirect_uri = REDIR, .challenge = CHAL,
		.family_id = "fam-race", .family_expires = T0 + DAY };
	struct oidc_code c;

	pthread_barrier_wait(a->go);
	a->rc = store_code_redeem(a->st, T, "code-race", T0 + 1, &r, NULL, &c);
	store_code_clear(&c);
	return NULL;
}

static void *
rotate_thread(void *p)
{
	struct race_arg *a = p;
	struct oidc_family f;
	char *family, new[32];

	snprintf(new, sizeof(new), "rt-new-%d", a->i);
	pthread_barrier_wait(a->go);
	a->rc = store_refresh_rotate(a->st, T, CLIENT, "rt-race", new, T0 + 1, T0 + DAY, NULL,
	    &family, &f);
	free(family);
	store_family_clear(&f);
	return NULL;
}

/* Start RACE_THREADS copies of fn together; counts[rc] of their results (rc 0..3). */
static void
race(struct fx *fx, void *(*fn)(void *), int counts[4])
{
	struct race_arg args[RACE_THREADS];
	pthread_t th[RACE_THREADS];
	pthread_barrier_t go;

	memset(counts, 0, 4 * sizeof(int));
	pthread_barrier_init(&go, NULL, RACE_THREADS);
	for (int i = 0; i < RACE_THREADS; i++) {
		args[i] = (struct race_arg){ .st = fx->st, .go = &go, .i = i, .rc = -1 };
		assert_int_equal(pthread_create(&th[i], NULL, fn, &args[i]), 0);
	}
	for (int i = 0; i < RACE_THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	for (int i = 0; i < RACE_THREADS; i++) {
		assert_true(args[i].rc >= 0 && args[i].rc <= 3);
		counts[args[i].rc]++;
	}
}

static void
test_store_oidc_code_redeem_concurrent(void **state)
{
	struct fx *fx = *state;
	int n[4];

	put_code(fx, "code-race", "alice", "sso-1", T0 + 600);
	race(fx, redeem_thread, n);
	assert_int_equal(n[1], 1);
	assert_int_equal(n[2], RACE_THREADS - 1);
	/* The losers were replays: the winner's grant is revoked. */
	assert_int_equal(revoked(fx, "fam-race"), 1);
	assert_int_equal(raw_count(fx, "oidc_families"), 1);
}

static void
test_store_oidc_refresh_rotate_concurrent(void **state)
{
	struct fx *fx = *state;
	int n[4], winners = 0;

	grant(fx, "fam-1", "alice", "sso-1");
	assert_int_equal(store_refresh_issue(fx->st, T, "fam-1", "rt-race", T0 + DAY), 1);
	race(fx, rotate_thread, n);
	/* One rotates; the next is a replay and revokes the grant; the rest find it revoked. */
	assert_int_equal(n[1], 1);
	assert_int_equal(n[2], 1);
	assert_int_equal(n[0], RACE_THREADS - 2);
	assert_int_equal(revoked(fx, "fam-1"), 1);
	assert_int_equal(generation(fx, "fam-1"), 2);
	for (int i = 0; i < RACE_THREADS; i++) {
		char new[32];

		snprintf(new, sizeof(new), "rt-new-%d", i);
		if (refresh_of(fx, new, "fam-1") == 1) {
			winners++;
			assert_int_equal(rotate(fx, CLIENT, new, "rt-after", T0 + 2), 0);
		}
	}
	assert_int_equal(winners, 1);
}

int
main(void)
{
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		TEST(test_store_oidc_code_redeem_once),
		TEST(test_store_oidc_code_redeem_without_grant),
		TEST(test_store_oidc_code_session_ended),
		TEST(test_store_oidc_code_mismatch),
		TEST(test_store_oidc_code_expiry),
		TEST(test_store_oidc_code_redeem_records_issue),
		TEST(test_store_oidc_refresh_rotation),
		TEST(test_store_oidc_refresh_other_client),
		TEST(test_store_oidc_refresh_expiry),
		TEST(test_store_oidc_refresh_replay_after_expiry),
		TEST(test_store_oidc_refresh_issue_revoked),
		TEST(test_store_oidc_revoke_session_grants),
		TEST(test_store_oidc_revoke_user_grants),
		TEST(test_store_oidc_user_changes_revoke_grants),
		TEST(test_store_oidc_access_tokens),
		TEST(test_store_oidc_replay_kills_access),
		TEST(test_store_oidc_expire),
		TEST(test_store_oidc_code_redeem_concurrent),
		TEST(test_store_oidc_refresh_rotate_concurrent),
	};
#undef TEST

	return cmocka_run_group_tests(tests, NULL, NULL);
}
