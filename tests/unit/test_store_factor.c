/*
 * Unit tests for policies/store_factor.c and store_challenge.c on a real LMDB environment:
 * second factors (the cap, one registration per credential, TOTP steps and recovery codes
 * used once, WebAuthn counters that must move), challenges taken once and never returned
 * after their expiry, rate-limit windows, what goes when a user is removed, and 64
 * parallel acceptances of one TOTP step of which exactly one wins.  Also part 6's fields
 * elsewhere in the store: session methods, a user's sessions listed and ended one by one,
 * a new password that keeps one session, must_change, the password policy, --enroll.
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
#include "buf.h"
#include "store.h"
#include "xmalloc.h"

#include "store_fixture.h"

static unsigned char seed[20] = "0123456789abcdefghij";
static unsigned char pubkey[65] = { 4, 1, 2, 3 };

/* Alice with an id chosen here, so that records can name it. */
#define ALICE "a11ce000000000000000000000000000"

static void
add_alice(struct fx *fx)
{
	add_user_with_id(fx, T, "alice", ALICE);
}

/* A TOTP factor of alice (pending or not): its id (a new string). */
static char *
add_totp(struct fx *fx, const char *label, int pending)
{
	struct factor f = { .user = ALICE, .kind = FACTOR_TOTP, .label = (char *)label,
		.created = T0, .secret = seed, .secret_len = sizeof(seed),
		.pending = (uint64_t)pending };
	const char *err = NULL;
	char *id = NULL;

	assert_int_equal(store_factor_add(fx->st, T, &f, NULL, &id, &err), 0);
	assert_non_null(id);
	return id;
}

static int
add_webauthn(struct fx *fx, const char *cred, uint64_t counter, char **id_r, const char **err)
{
	struct factor f = { .user = ALICE, .kind = FACTOR_WEBAUTHN, .label = "key",
		.created = T0, .secret = pubkey, .secret_len = sizeof(pubkey),
		.counter = counter, .cred_id = (char *)cred, .alg = -7, .flags = FACTOR_F_UV };

	return store_factor_add(fx->st, T, &f, NULL, id_r, err);
}

/* The recovery set of codes "code0".."code9" of alice. */
static void
add_recovery(struct fx *fx, const char *prefix)
{
	unsigned char hashes[32 * FACTOR_RECOVERY_CODES];
	struct factor f = { .user = ALICE, .kind = FACTOR_RECOVERY, .created = T0,
		.secret = hashes, .secret_len = sizeof(hashes) };
	const char *err = NULL;
	char code[32];

	for (int i = 0; i < FACTOR_RECOVERY_CODES; i++) {
		snprintf(code, sizeof(code), "%s%d", prefix, i);
		hash_of(code, hashes + 32 * i);
	}
	assert_int_equal(store_factor_add(fx->st, T, &f, NULL, NULL, &err), 0);
}

struct seen {
	int n;
	struct buf ids;
};

static void
list_cb(const void *rec, void *arg)
{
	const struct factor *f = rec;
	struct seen *s = arg;

	s->n++;
	buf_printf(&s->ids, "%s:%s:%s ", f->id, f->label ? f->label : "-",
	    f->pending ? "pending" : "on");
}

/* "ID:LABEL:STATE ..." of alice's factors in list order (a new string), *n_r how many. */
static char *
listing(struct fx *fx, int *n_r)
{
	struct seen s = { 0 };

	buf_init(&s.ids, 0);
	buf_puts(&s.ids, "");
	assert_int_equal(store_factor_list(fx->st, T, ALICE, list_cb, &s), 0);
	if (n_r)
		*n_r = s.n;
	return buf_steal(&s.ids, NULL);
}

static int
count(struct fx *fx)
{
	int n = -1;

	assert_int_equal(store_factor_count(fx->st, T, ALICE, &n), 0);
	return n;
}

/* ---- factors ---- */

static void
test_store_factor_add_list_remove_label(void **state)
{
	struct fx *fx = *state;
	struct audit_entry ae;
	struct factor f;
	char *a, *b, *text, *audit;
	int n;

	add_alice(fx);
	a = add_totp(fx, "phone", 0);
	b = add_totp(fx, "tablet", 1);
	assert_int_equal(strlen(a), 16);
	assert_int_equal(count(fx), 1);		/* the pending one does not count */
	text = listing(fx, &n);
	assert_int_equal(n, 2);
	assert_non_null(strstr(text, "phone:on"));
	assert_non_null(strstr(text, "tablet:pending"));
	/* In id order. */
	assert_true(strstr(text, strcmp(a, b) < 0 ? a : b) == text);
	free(text);
	assert_int_equal(store_factor_get(fx->st, T, ALICE, a, &f), 1);
	assert_int_equal(f.kind, FACTOR_TOTP);
	assert_int_equal(f.secret_len, sizeof(seed));
	assert_memory_equal(f.secret, seed, sizeof(seed));
	assert_string_equal(f.user, ALICE);
	store_factor_clear(&f);
	assert_int_equal(store_factor_get(fx->st, T, "someone", a, &f), 0);
	assert_int_equal(store_factor_get(fx->st, "other", ALICE, a, &f), 0);

	audit_entry_make(&ae, "account.factor.rename", "user", "alice", NULL);
	assert_int_equal(store_factor_label(fx->st, T, ALICE, a, "work phone", &ae), 1);
	assert_int_equal(store_factor_label(fx->st, T, ALICE, "0000000000000000", "x", &ae), 0);
	assert_int_equal(store_factor_label(fx->st, T, ALICE, a,
	    "an over-long label: more than sixty-four characters is too many for a list", &ae),
	    -1);
	assert_int_equal(store_factor_label(fx->st, T, ALICE, a, "two\nlines", &ae), -1);
	/* 64 characters of three bytes each are fine. */
	{
		char ja[64 * 3 + 1] = "";

		for (int i = 0; i < 64; i++)
			memcpy(ja + 3 * i, "\xe9\x8d\xb5", 3);
		ja[64 * 3] = '\0';
		assert_int_equal(store_factor_label(fx->st, T, ALICE, b, ja, NULL), 1);
	}
	assert_int_equal(store_factor_get(fx->st, T, ALICE, a, &f), 1);
	assert_string_equal(f.label, "work phone");
	store_factor_clear(&f);

	audit_entry_make(&ae, "account.factor.remove", "user", "alice", NULL);
	assert_int_equal(store_factor_remove(fx->st, T, ALICE, a, &ae), 1);
	assert_int_equal(store_factor_remove(fx->st, T, ALICE, a, &ae), 0);
	assert_int_equal(count(fx), 0);
	audit = fx_audit_text(fx, T);
	assert_non_null(strstr(audit, "account.factor.rename user=alice factor_id="));
	assert_non_null(strstr(audit, "label=\"work phone\""));
	assert_non_null(strstr(audit, "account.factor.remove user=alice factor_id="));
	assert_non_null(strstr(audit, "kind=totp"));
	free(audit);
	free(a);
	free(b);
}

static void
test_store_factor_add_refused(void **state)
{
	struct fx *fx = *state;
	struct factor f = { .user = ALICE, .kind = FACTOR_TOTP, .created = T0 };
	const char *err = NULL;

	/* No such user. */
	f.secret = seed;
	f.secret_len = sizeof(seed);
	assert_int_equal(store_factor_add(fx->st, T, &f, NULL, NULL, &err), -1);
	assert_string_equal(err, "no such user");
	add_alice(fx);
	f.secret_len = 0;
	assert_int_equal(store_factor_add(fx->st, T, &f, NULL, NULL, &err), -1);
	f.secret_len = sizeof(seed);
	f.kind = 9;
	assert_int_equal(store_factor_add(fx->st, T, &f, NULL, NULL, &err), -1);
	f.kind = FACTOR_RECOVERY;	/* not 10 hashes */
	assert_int_equal(store_factor_add(fx->st, T, &f, NULL, NULL, &err), -1);
	f.kind = FACTOR_TOTP;
	f.id = "../x";
	assert_int_equal(store_factor_add(fx->st, T, &f, NULL, NULL, &err), -1);
	f.id = "00000000000000aa";
	assert_int_equal(store_factor_add(fx->st, T, &f, NULL, NULL, &err), 0);
	assert_int_equal(store_factor_add(fx->st, T, &f, NULL, NULL, &err), -1);
	assert_string_equal(err, "factor id exists");
	assert_int_equal(count(fx), 1);
}

static void
test_store_factor_cap(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	char cred[32], *id;
	int n;

	add_alice(fx);
	for (int i = 0; i < 19; i++) {
		snprintf(cred, sizeof(cred), "cred-%d", i);
		assert_int_equal(add_webauthn(fx, cred, 0, NULL, &err), 0);
	}
	add_recovery(fx, "code");
	assert_int_equal(count(fx), 19);
	/* The 21st is refused, whatever its kind. */
	assert_int_equal(add_webauthn(fx, "cred-x", 0, NULL, &err), -1);
	assert_string_equal(err, "too many factors");
	{
		struct factor f = { .user = ALICE, .kind = FACTOR_TOTP, .secret = seed,
			.secret_len = sizeof(seed) };
		assert_int_equal(store_factor_add(fx->st, T, &f, NULL, NULL, &err), -1);
		assert_string_equal(err, "too many factors");
	}
	/* A new recovery set replaces the old one: no more. */
	add_recovery(fx, "new");
	free(listing(fx, &n));
	assert_int_equal(n, 20);
	assert_int_equal(store_factor_by_cred(fx->st, T, "cred-x", &(struct factor){ 0 }), 0);
	/* One removed: room for one. */
	{
		struct factor f;

		assert_int_equal(store_factor_by_cred(fx->st, T, "cred-3", &f), 1);
		id = xstrdup(f.id);
		store_factor_clear(&f);
	}
	assert_int_equal(store_factor_remove(fx->st, T, ALICE, id, NULL), 1);
	assert_int_equal(add_webauthn(fx, "cred-x", 0, NULL, &err), 0);
	free(id);
}

/* Reloading the enrolment page does not fill the cap: older pending ones make room. */
static void
test_store_factor_pending_replaced(void **state)
{
	struct fx *fx = *state;
	char *ids[30], *text;
	int n;

	add_alice(fx);
	for (int i = 0; i < 30; i++)
		ids[i] = add_totp(fx, "again", 1);
	text = listing(fx, &n);
	assert_int_equal(n, 3);
	assert_non_null(strstr(text, ids[29]));
	free(text);
	for (int i = 0; i < 30; i++)
		free(ids[i]);
}

static void
test_store_factor_duplicate_cred(void **state)
{
	struct fx *fx = *state;
	struct factor f;
	const char *err = NULL;
	char *id = NULL, *other = NULL;
	char long_cred[1400];

	add_alice(fx);
	add_user(fx, T, "bob", NULL);
	assert_int_equal(add_webauthn(fx, "cred-1", 5, &id, &err), 0);
	assert_int_equal(add_webauthn(fx, "cred-1", 0, NULL, &err), -1);
	assert_string_equal(err, "credential already registered");
	{
		/* Another user of the tenant cannot register it either. */
		char *bob = user_id(fx, T, "bob");
		struct factor g = { .user = bob, .kind = FACTOR_WEBAUTHN, .secret = pubkey,
			.secret_len = sizeof(pubkey), .cred_id = "cred-1" };

		assert_int_equal(store_factor_add(fx->st, T, &g, NULL, NULL, &err), -1);
		assert_string_equal(err, "credential already registered");
		free(bob);
	}
	assert_int_equal(store_factor_by_cred(fx->st, T, "cred-1", &f), 1);
	assert_string_equal(f.id, id);
	assert_string_equal(f.user, ALICE);
	assert_int_equal(f.alg, -7);
	assert_int_equal(f.flags, FACTOR_F_UV);
	store_factor_clear(&f);
	assert_int_equal(store_factor_by_cred(fx->st, "other", "cred-1", &f), 0);
	/* Credential ids up to WebAuthn's 1023 bytes (base64url) are indexed. */
	memset(long_cred, 'A', sizeof(long_cred) - 1);
	long_cred[sizeof(long_cred) - 1] = '\0';
	assert_int_equal(add_webauthn(fx, long_cred, 0, &other, &err), 0);
	assert_int_equal(store_factor_by_cred(fx->st, T, long_cred, &f), 1);
	assert_string_equal(f.id, other);
	store_factor_clear(&f);
	/* Removed: registered again. */
	assert_int_equal(store_factor_remove(fx->st, T, ALICE, id, NULL), 1);
	assert_int_equal(store_factor_by_cred(fx->st, T, "cred-1", &f), 0);
	assert_int_equal(add_webauthn(fx, "cred-1", 0, NULL, &err), 0);
	free(id);
	free(other);
}

static void
test_store_factor_totp_replay(void **state)
{
	struct fx *fx = *state;
	struct audit_entry ae;
	struct factor f;
	char *id, *audit;

	add_alice(fx);
	id = add_totp(fx, "phone", 1);
	audit_entry_make(&ae, "login.factor.ok", "user", "alice", NULL);
	assert_int_equal(store_totp_accept(fx->st, T, ALICE, id, 1000, T0, &ae), 1);
	assert_int_equal(store_factor_get(fx->st, T, ALICE, id, &f), 1);
	assert_int_equal(f.counter, 1000);
	assert_int_equal(f.pending, 0);		/* confirmed */
	assert_int_equal(f.last_used, T0);
	store_factor_clear(&f);
	/* The same step again, and an older one: refused, nothing written. */
	assert_int_equal(store_totp_accept(fx->st, T, ALICE, id, 1000, T0 + 1, &ae), 0);
	assert_int_equal(store_totp_accept(fx->st, T, ALICE, id, 999, T0 + 2, &ae), 0);
	assert_int_equal(store_totp_accept(fx->st, T, ALICE, id, 1001, T0 + 30, NULL), 1);
	assert_int_equal(store_factor_get(fx->st, T, ALICE, id, &f), 1);
	assert_int_equal(f.counter, 1001);
	assert_int_equal(f.last_used, T0 + 30);
	store_factor_clear(&f);
	/* Unknown factor, or not a TOTP one. */
	assert_int_equal(store_totp_accept(fx->st, T, ALICE, "00000000000000aa", 2000, T0, NULL),
	    0);
	assert_int_equal(store_totp_accept(fx->st, T, "nobody", id, 2000, T0, NULL), 0);
	audit = fx_audit_text(fx, T);
	assert_non_null(strstr(audit, "login.factor.ok"));
	assert_null(strstr(strstr(audit, "login.factor.ok") + 1, "login.factor.ok"));
	free(audit);
	free(id);
}

static void
test_store_factor_recovery(void **state)
{
	struct fx *fx = *state;
	unsigned char h[32];
	struct audit_entry ae;
	struct factor f;
	char *text;
	int left = -1;

	add_alice(fx);
	add_recovery(fx, "code");
	assert_int_equal(count(fx), 0);		/* recovery codes do not count */
	hash_of("code3", h);
	audit_entry_make(&ae, "factor.recovery.used", "user", "alice", NULL);
	assert_int_equal(store_recovery_use(fx->st, T, ALICE, h, T0, &ae, &left), 1);
	assert_int_equal(left, 9);
	assert_int_equal(store_recovery_use(fx->st, T, ALICE, h, T0 + 1, &ae, &left), 0);
	hash_of("code9", h);
	assert_int_equal(store_recovery_use(fx->st, T, ALICE, h, T0 + 2, &ae, &left), 1);
	assert_int_equal(left, 8);
	hash_of("nope", h);
	assert_int_equal(store_recovery_use(fx->st, T, ALICE, h, T0 + 3, &ae, &left), 0);
	hash_of("code0", h);
	assert_int_equal(store_recovery_use(fx->st, T, "nobody", h, T0, &ae, &left), 0);
	{
		char *l = listing(fx, NULL), *id = xstrndup(l, 16);

		assert_int_equal(store_factor_get(fx->st, T, ALICE, id, &f), 1);
		assert_int_equal(f.counter, (1u << 3) | (1u << 9));
		assert_int_equal(f.last_used, T0 + 2);
		store_factor_clear(&f);
		free(id);
		free(l);
	}
	text = fx_audit_text(fx, T);
	assert_non_null(strstr(text, "factor.recovery.used user=alice"));
	assert_non_null(strstr(text, "left=8"));
	free(text);
	/* A new set: the old codes are gone, the new ones all unused. */
	add_recovery(fx, "new");
	hash_of("code0", h);
	assert_int_equal(store_recovery_use(fx->st, T, ALICE, h, T0, NULL, &left), 0);
	hash_of("new3", h);
	assert_int_equal(store_recovery_use(fx->st, T, ALICE, h, T0, NULL, &left), 1);
	assert_int_equal(left, 9);
}

static void
test_store_factor_webauthn_counter(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	struct factor f;
	char *id = NULL, *none = NULL;

	add_alice(fx);
	assert_int_equal(add_webauthn(fx, "cred-1", 5, &id, &err), 0);
	assert_int_equal(store_webauthn_counter(fx->st, T, ALICE, id, 6, T0), 1);
	assert_int_equal(store_factor_get(fx->st, T, ALICE, id, &f), 1);
	assert_int_equal(f.counter, 6);
	assert_int_equal(f.last_used, T0);
	assert_int_equal(f.flags & FACTOR_F_COUNTER_REGRESSED, 0);
	store_factor_clear(&f);
	/* The same value again, or lower: a cloned authenticator. */
	assert_int_equal(store_webauthn_counter(fx->st, T, ALICE, id, 6, T0 + 1), 2);
	assert_int_equal(store_factor_get(fx->st, T, ALICE, id, &f), 1);
	assert_int_equal(f.counter, 6);
	assert_int_equal(f.last_used, T0);
	assert_int_equal(f.flags, FACTOR_F_UV | FACTOR_F_COUNTER_REGRESSED);
	store_factor_clear(&f);
	assert_int_equal(store_webauthn_counter(fx->st, T, ALICE, id, 2, T0 + 2), 2);
	/* Once it has counted, a 0 is a clone signal too (WebAuthn 7.2 step 21). */
	assert_int_equal(store_webauthn_counter(fx->st, T, ALICE, id, 0, T0 + 3), 2);
	assert_int_equal(store_webauthn_counter(fx->st, T, ALICE, "00000000000000aa", 9, T0), 0);
	/* Authenticators without a counter send 0 every time. */
	assert_int_equal(add_webauthn(fx, "cred-2", 0, &none, &err), 0);
	assert_int_equal(store_webauthn_counter(fx->st, T, ALICE, none, 0, T0 + 5), 1);
	assert_int_equal(store_webauthn_counter(fx->st, T, ALICE, none, 0, T0 + 6), 1);
	assert_int_equal(store_factor_get(fx->st, T, ALICE, none, &f), 1);
	assert_int_equal(f.flags & FACTOR_F_COUNTER_REGRESSED, 0);
	assert_int_equal(f.last_used, T0 + 6);
	store_factor_clear(&f);
	free(id);
	free(none);
}

/* ---- challenges and rate limits ---- */

static void
put_challenge(struct fx *fx, const char *value, const char *kind, const char *user,
    int64_t expires)
{
	struct challenge c = { .kind = (char *)kind, .user = (char *)user,
		.data = "purpose=login\nbind=00", .created = T0, .expires = (uint64_t)expires };
	unsigned char h[32];

	hash_of(value, h);
	assert_int_equal(store_challenge_put(fx->st, T, h, &c), 0);
}

static int
challenge_there(struct fx *fx, const char *value, int64_t now)
{
	struct challenge c;
	unsigned char h[32];
	int rc;

	hash_of(value, h);
	rc = store_challenge_get(fx->st, T, h, now, &c);
	store_challenge_clear(&c);
	return rc;
}

static void
test_store_challenge_take_once(void **state)
{
	struct fx *fx = *state;
	struct challenge c;
	unsigned char h[32];

	put_challenge(fx, "c1", "webauthn", NULL, T0 + 300);
	hash_of("c1", h);
	assert_int_equal(store_challenge_get(fx->st, T, h, T0, &c), 1);
	assert_string_equal(c.kind, "webauthn");
	assert_null(c.user);
	assert_string_equal(c.data, "purpose=login\nbind=00");
	store_challenge_clear(&c);
	assert_int_equal(store_challenge_get(fx->st, "other", h, T0, &c), 0);
	assert_int_equal(store_challenge_take(fx->st, T, h, T0 + 10, &c), 1);
	assert_true(c.expires == T0 + 300);
	store_challenge_clear(&c);
	assert_int_equal(store_challenge_take(fx->st, T, h, T0 + 11, &c), 0);
	assert_null(c.kind);
	assert_int_equal(challenge_there(fx, "c1", T0), 0);
	assert_int_equal(store_challenge_put(fx->st, T, h, &(struct challenge){ 0 }), -1);
}

static void
test_store_challenge_expired(void **state)
{
	struct fx *fx = *state;
	struct challenge c;
	unsigned char h[32];

	put_challenge(fx, "c1", "step", ALICE, T0 + 600);
	put_challenge(fx, "c2", "step", ALICE, T0 + 6000);
	assert_int_equal(challenge_there(fx, "c1", T0 + 599), 1);
	assert_int_equal(challenge_there(fx, "c1", T0 + 600), 0);
	hash_of("c1", h);
	assert_int_equal(store_challenge_take(fx->st, T, h, T0 + 601, &c), 0);
	assert_null(c.kind);
	/* Taking an expired one removes it; store_expire purges the others and the index. */
	put_challenge(fx, "c3", "step", ALICE, T0 + 600);
	assert_true(store_expire(fx->st, T0 + 700, 3600) >= 1);
	assert_int_equal(challenge_there(fx, "c3", T0), 0);
	assert_int_equal(challenge_there(fx, "c2", T0), 1);
	assert_int_equal(raw_count(fx, "challenges"), 1);
	assert_int_equal(raw_count(fx, "challenges_by_user"), 1);
}

static void
test_store_challenge_drop_user(void **state)
{
	struct fx *fx = *state;

	put_challenge(fx, "r1", "reset", ALICE, T0 + 1800);
	put_challenge(fx, "r2", "reset", ALICE, T0 + 1800);
	put_challenge(fx, "s1", "step", ALICE, T0 + 600);
	put_challenge(fx, "b1", "reset", "b0b00000000000000000000000000000", T0 + 1800);
	put_challenge(fx, "w1", "webauthn", NULL, T0 + 300);
	assert_int_equal(store_challenge_drop_user(fx->st, T, "reset", ALICE), 0);
	assert_int_equal(challenge_there(fx, "r1", T0), 0);
	assert_int_equal(challenge_there(fx, "r2", T0), 0);
	assert_int_equal(challenge_there(fx, "s1", T0), 1);
	assert_int_equal(challenge_there(fx, "b1", T0), 1);
	assert_int_equal(challenge_there(fx, "w1", T0), 1);
	/* Overwritten by another user's: the index follows. */
	put_challenge(fx, "s1", "step", "b0b00000000000000000000000000000", T0 + 600);
	assert_int_equal(store_challenge_drop_user(fx->st, T, "step", ALICE), 0);
	assert_int_equal(challenge_there(fx, "s1", T0), 1);
	assert_int_equal(raw_count(fx, "challenges_by_user"), 2);
}

static void
test_store_rate_hit(void **state)
{
	struct fx *fx = *state;

	for (int i = 0; i < 5; i++)
		assert_int_equal(store_rate_hit(fx->st, T, "reset-ip", "192.0.2.1", T0 + i, 900, 5),
		    1);
	assert_int_equal(store_rate_hit(fx->st, T, "reset-ip", "192.0.2.1", T0 + 10, 900, 5), 0);
	assert_int_equal(store_rate_hit(fx->st, T, "reset-ip", "192.0.2.1", T0 + 899, 900, 5), 0);
	/* Other keys, scopes and tenants count apart. */
	assert_int_equal(store_rate_hit(fx->st, T, "reset-ip", "192.0.2.2", T0 + 10, 900, 5), 1);
	assert_int_equal(store_rate_hit(fx->st, T, "reset-user", "192.0.2.1", T0 + 10, 900, 5),
	    1);
	assert_int_equal(store_rate_hit(fx->st, "other", "reset-ip", "192.0.2.1", T0 + 10, 900,
	    5), 1);
	/* The next window starts afresh. */
	assert_int_equal(store_rate_hit(fx->st, T, "reset-ip", "192.0.2.1", T0 + 900, 900, 5), 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(store_rate_hit(fx->st, T, "reset-ip", "192.0.2.1", T0 + 901, 900,
		    5), 1);
	assert_int_equal(store_rate_hit(fx->st, T, "reset-ip", "192.0.2.1", T0 + 902, 900, 5), 0);
	assert_int_equal(store_rate_hit(fx->st, T, "reset-ip", "x", T0, 0, 5), -1);
	/* Windows that ended are purged. */
	assert_int_equal(raw_count(fx, "rate_limits"), 4);
	assert_true(store_expire(fx->st, T0 + 1000, 3600) >= 3);
	assert_int_equal(raw_count(fx, "rate_limits"), 1);
}

/* ---- the user goes ---- */

static void
test_store_factor_user_remove(void **state)
{
	struct fx *fx = *state;
	struct factor f;
	const char *err = NULL;
	char *totp, *audit;

	add_alice(fx);
	totp = add_totp(fx, "phone", 0);
	assert_int_equal(add_webauthn(fx, "cred-1", 0, NULL, &err), 0);
	add_recovery(fx, "code");
	put_challenge(fx, "r1", "reset", ALICE, T0 + 1800);
	put_challenge(fx, "s1", "step", ALICE, T0 + 600);
	put_challenge(fx, "w1", "webauthn", NULL, T0 + 300);
	assert_int_equal(store_user_remove(fx->st, T, "alice",
	    &(struct audit_entry){ .event = "admin.user.remove" }), 1);
	assert_int_equal(store_factor_get(fx->st, T, ALICE, totp, &f), 0);
	assert_int_equal(store_factor_by_cred(fx->st, T, "cred-1", &f), 0);
	assert_int_equal(challenge_there(fx, "r1", T0), 0);
	assert_int_equal(challenge_there(fx, "s1", T0), 0);
	assert_int_equal(challenge_there(fx, "w1", T0), 1);
	assert_int_equal(raw_count(fx, "factors"), 0);
	assert_int_equal(raw_count(fx, "factors_by_credential"), 0);
	assert_int_equal(raw_count(fx, "challenges_by_user"), 0);
	audit = fx_audit_text(fx, T);
	assert_non_null(strstr(audit, "factors=3 challenges=2"));
	free(audit);
	/* A new alice with the same id inherits nothing. */
	add_alice(fx);
	assert_int_equal(count(fx), 0);
	assert_int_equal(add_webauthn(fx, "cred-1", 0, NULL, &err), 0);
	free(totp);
}

/* ---- sessions, passwords and the new fields ---- */

/* A session of alice from cookie, and an OIDC grant family made in it. */
static void
alice_session(struct fx *fx, const char *cookie, const char *family)
{
	struct oidc_code c = { .client_id = "wiki", .redirect_uri = "https://wiki/cb",
		.user = ALICE, .scope = "openid", .amr = "pwd", .auth_time = T0,
		.expires = T0 + 600 };
	struct oidc_redeem r = { .client_id = "wiki", .redirect_uri = "https://wiki/cb",
		.family_id = family, .family_expires = T0 + 86400 };
	struct oidc_code out;
	unsigned char h[32];
	char *code = xasprintf("code-%s", cookie);

	add_session(fx, cookie, "alice", T0, T0 + 3600);
	hash_of(cookie, h);
	c.session = h;
	c.session_len = 32;
	assert_int_equal(store_code_put(fx->st, T, code, &c), 0);
	assert_int_equal(store_code_redeem(fx->st, T, code, T0, &r, NULL, &out), 1);
	store_code_clear(&out);
	free(code);
}

static int
grant_revoked(struct fx *fx, const char *family)
{
	struct oidc_family f;
	int r;

	assert_int_equal(store_family_get(fx->st, T, family, &f), 1);
	r = (int)f.revoked;
	store_family_clear(&f);
	return r;
}

static void
test_store_session_fields_and_methods(void **state)
{
	struct fx *fx = *state;
	struct session s = { .user = ALICE, .methods = "pwd", .created = T0, .last_seen = T0,
		.authn_instant = T0, .expires = T0 + 3600, .ip = "192.0.2.1" };
	char agent[300];
	unsigned char h[32];
	struct session got;

	/* An over-long User-Agent is cut to 200 bytes, not in a character. */
	memset(agent, 'a', sizeof(agent));
	memcpy(agent + 198, "\xe3\x81\x82", 3);
	agent[sizeof(agent) - 1] = '\0';
	s.agent = agent;
	hash_of("cookie", h);
	assert_int_equal(store_session_add(fx->st, T, h, &s), 0);
	assert_int_equal(store_session_get(fx->st, T, h, &got), 1);
	assert_string_equal(got.ip, "192.0.2.1");
	assert_int_equal(strlen(got.agent), 198);
	assert_int_equal(got.mfa_at, 0);
	store_session_clear(&got);

	assert_int_equal(store_session_add_method(fx->st, T, h, "otp", T0 + 60), 1);
	assert_int_equal(store_session_get(fx->st, T, h, &got), 1);
	assert_string_equal(got.methods, "pwd otp mfa");
	assert_int_equal(got.mfa_at, T0 + 60);
	assert_int_equal(got.authn_instant, T0 + 60);
	assert_int_equal(got.last_seen, T0 + 60);
	store_session_clear(&got);
	/* Again, and another one: each method once. */
	assert_int_equal(store_session_add_method(fx->st, T, h, "otp", T0 + 70), 1);
	assert_int_equal(store_session_add_method(fx->st, T, h, "hwk", T0 + 80), 1);
	assert_int_equal(store_session_get(fx->st, T, h, &got), 1);
	assert_string_equal(got.methods, "pwd otp mfa hwk");
	assert_int_equal(got.mfa_at, T0 + 80);
	store_session_clear(&got);
	assert_int_equal(store_session_add_method(fx->st, T, h, "o p", T0), -1);
	assert_int_equal(store_session_add_method(fx->st, T, h, "", T0), -1);
	hash_of("other", h);
	assert_int_equal(store_session_add_method(fx->st, T, h, "otp", T0), 0);
}

struct listed {
	int n;
	unsigned char hash[4][32];
	char user[4][40];
};

static void
session_list_cb(const void *rec, void *arg)
{
	const struct session_info *si = rec;
	struct listed *l = arg;

	if (l->n < 4) {
		memcpy(l->hash[l->n], si->hash, 32);
		snprintf(l->user[l->n], sizeof(l->user[0]), "%s", si->s.user);
	}
	l->n++;
}

static void
test_store_session_list_and_end_user(void **state)
{
	struct fx *fx = *state;
	struct listed l = { 0 };
	unsigned char h1[32], h2[32], hb[32];
	char *bob, *audit;
	struct audit_entry ae;

	add_alice(fx);
	add_user(fx, T, "bob", NULL);
	bob = user_id(fx, T, "bob");
	alice_session(fx, "c1", "fam1");
	alice_session(fx, "c2", "fam2");
	add_session(fx, "cb", "bob", T0, T0 + 3600);
	hash_of("c1", h1);
	hash_of("c2", h2);
	hash_of("cb", hb);
	assert_int_equal(store_session_list_user(fx->st, T, ALICE, session_list_cb, &l), 0);
	assert_int_equal(l.n, 2);
	assert_true(!memcmp(l.hash[0], h1, 32) || !memcmp(l.hash[1], h1, 32));
	assert_true(!memcmp(l.hash[0], h2, 32) || !memcmp(l.hash[1], h2, 32));
	assert_string_equal(l.user[0], ALICE);

	/* Bob's session cannot be ended as alice's. */
	audit_entry_make(&ae, "account.session.end", "user", "alice", NULL);
	assert_int_equal(store_session_end_user(fx->st, T, ALICE, hb, &ae), 0);
	assert_int_equal(session_exists(fx, "cb"), 1);
	assert_int_equal(store_session_end_user(fx->st, T, bob, h1, &ae), 0);
	assert_int_equal(session_exists(fx, "c1"), 1);
	assert_int_equal(store_session_end_user(fx->st, T, ALICE, h1, &ae), 1);
	assert_int_equal(session_exists(fx, "c1"), 0);
	assert_int_equal(session_exists(fx, "c2"), 1);
	assert_int_equal(grant_revoked(fx, "fam1"), 1);
	assert_int_equal(grant_revoked(fx, "fam2"), 0);
	assert_int_equal(store_session_end_user(fx->st, T, ALICE, h1, &ae), 0);
	l.n = 0;
	assert_int_equal(store_session_list_user(fx->st, T, ALICE, session_list_cb, &l), 0);
	assert_int_equal(l.n, 1);
	audit = fx_audit_text(fx, T);
	assert_non_null(strstr(audit, "account.session.end user=alice"));
	assert_null(strstr(strstr(audit, "account.session.end") + 1, "account.session.end"));
	free(audit);
	free(bob);
}

static void
test_store_user_new_password(void **state)
{
	struct fx *fx = *state;
	struct user_change ch = { .must_change = "on" };
	struct audit_entry ae;
	const char *err = NULL;
	unsigned char keep[32];
	struct user u;

	add_alice(fx);
	assert_int_equal(store_user_update(fx->st, T, "alice", &ch, NULL, &err), 1);
	assert_int_equal(store_user_get(fx->st, T, "alice", &u), 1);
	assert_int_equal(u.must_change, 1);
	store_user_clear(&u);
	alice_session(fx, "c1", "fam1");
	alice_session(fx, "c2", "fam2");
	alice_session(fx, "c3", "fam3");
	hash_of("c2", keep);
	audit_entry_make(&ae, "account.password.change", "user", "alice", NULL);
	assert_int_equal(store_user_new_password(fx->st, T, ALICE, "$argon2id$new", T0 + 5, keep,
	    &ae), 1);
	assert_int_equal(store_user_get(fx->st, T, "alice", &u), 1);
	assert_int_equal(u.must_change, 0);
	assert_string_equal(u.pwhash, "$argon2id$new");
	assert_int_equal(u.pw_changed, T0 + 5);
	store_user_clear(&u);
	assert_int_equal(session_exists(fx, "c1"), 0);
	assert_int_equal(session_exists(fx, "c2"), 1);
	assert_int_equal(session_exists(fx, "c3"), 0);
	assert_int_equal(grant_revoked(fx, "fam1"), 1);
	assert_int_equal(grant_revoked(fx, "fam2"), 0);
	assert_int_equal(grant_revoked(fx, "fam3"), 1);
	/* Without keep (a reset): every session and grant ends. */
	assert_int_equal(store_user_new_password(fx->st, T, ALICE, "$argon2id$3", T0 + 6, NULL,
	    NULL), 1);
	assert_int_equal(session_exists(fx, "c2"), 0);
	assert_int_equal(grant_revoked(fx, "fam2"), 1);
	assert_int_equal(raw_count(fx, "user_sessions"), 0);
	assert_int_equal(store_user_new_password(fx->st, T, "nobody", "$x", T0, NULL, NULL), 0);
	{
		char *audit = fx_audit_text(fx, T);
		assert_non_null(strstr(audit, "account.password.change user=alice"));
		free(audit);
	}
}

static void
test_store_user_must_change(void **state)
{
	struct fx *fx = *state;
	struct user_change ch = { .must_change = "on" };
	struct user nu = { .name = "carol", .pwhash = "$x", .must_change = 1 };
	const char *err = NULL;
	struct user u;

	add_alice(fx);
	assert_int_equal(store_user_get(fx->st, T, "alice", &u), 1);
	assert_int_equal(u.must_change, 0);
	store_user_clear(&u);
	assert_int_equal(store_user_update(fx->st, T, "alice", &ch, NULL, &err), 1);
	assert_int_equal(store_user_get(fx->st, T, "alice", &u), 1);
	assert_int_equal(u.must_change, 1);
	store_user_clear(&u);
	/* An admin's password leaves it; "off" clears it. */
	assert_int_equal(store_user_set_password(fx->st, T, "alice", "$y", T0, NULL), 1);
	assert_int_equal(store_user_get(fx->st, T, "alice", &u), 1);
	assert_int_equal(u.must_change, 1);
	store_user_clear(&u);
	ch.must_change = "off";
	assert_int_equal(store_user_update(fx->st, T, "alice", &ch, NULL, &err), 1);
	assert_int_equal(store_user_get(fx->st, T, "alice", &u), 1);
	assert_int_equal(u.must_change, 0);
	store_user_clear(&u);
	ch.must_change = "yes";
	assert_int_equal(store_user_update(fx->st, T, "alice", &ch, NULL, &err), -1);
	assert_string_equal(err, "must-change-password is on or off");
	assert_int_equal(store_user_add(fx->st, T, &nu, NULL, &err), 0);
	assert_int_equal(store_user_get(fx->st, T, "carol", &u), 1);
	assert_int_equal(u.must_change, 1);
	store_user_clear(&u);
}

static void
test_store_tenant_pw_min(void **state)
{
	struct fx *fx = *state;
	struct tenant t = { .id = T, .name = "Acme", .created = T0 };
	struct audit_entry ae;
	const char *err = NULL;
	uint64_t gen;
	char *audit;

	assert_int_equal(store_tenant_add(fx->st, &t, &err), 0);
	assert_int_equal(store_tenant_get(fx->st, T, &t), 1);
	assert_int_equal(t.pw_min_len, 0);
	store_tenant_clear(&t);
	gen = fx_generation(fx, T);
	audit_entry_make(&ae, "admin.tenant.set", NULL);
	assert_int_equal(store_tenant_set_pw_min(fx->st, T, 14, &ae, &err), 1);
	assert_true(fx_generation(fx, T) > gen);
	assert_int_equal(store_tenant_get(fx->st, T, &t), 1);
	assert_int_equal(t.pw_min_len, 14);
	assert_string_equal(t.timezone ? t.timezone : "unset", "unset");
	store_tenant_clear(&t);
	assert_int_equal(store_tenant_set_pw_min(fx->st, T, 0, &ae, &err), -1);
	assert_int_equal(store_tenant_set_pw_min(fx->st, T, 129, &ae, &err), -1);
	assert_int_equal(store_tenant_set_pw_min(fx->st, "nope", 12, &ae, &err), 0);
	/* The time zone and default stay as they were. */
	assert_int_equal(store_tenant_set(fx->st, T, "UTC", NULL, NULL, &err), 1);
	assert_int_equal(store_tenant_get(fx->st, T, &t), 1);
	assert_int_equal(t.pw_min_len, 14);
	assert_string_equal(t.timezone, "UTC");
	store_tenant_clear(&t);
	audit = fx_audit_text(fx, T);
	assert_non_null(strstr(audit, "admin.tenant.set before=\"pw_min_len=10\" "
	    "after=\"pw_min_len=14\""));
	free(audit);
}

static void
rule_cb(const void *rec, void *arg)
{
	const struct rule_rec *r = rec;

	*(uint64_t *)arg = r->mfa_enroll;
}

static void
test_store_rule_mfa_enroll(void **state)
{
	struct fx *fx = *state;
	struct rule_rec r = { .name = "mfa-all", .effect = "mfa", .mfa_enroll = 1 };
	char err[STORE_ERR_MAX];
	uint64_t enroll = 0;

	assert_int_equal(store_rule_add(fx->st, T, &r, NULL, NULL, err), 0);
	assert_int_equal(store_rule_list(fx->st, T, rule_cb, &enroll), 0);
	assert_int_equal(enroll, 1);
	r.name = "deny-enroll";
	r.effect = "deny";
	assert_int_equal(store_rule_add(fx->st, T, &r, NULL, NULL, err), -1);
	assert_string_equal(err, "--enroll: only for rules whose effect is mfa");
}

/* ---- schema 3 to 4 ---- */

static void
test_store_upgrade_3_to_4(void **state)
{
	struct fx *fx = *state;
	struct tenant t = { .id = T, .name = "Acme", .created = T0 };
	struct rule_rec r = { .name = "office", .effect = "deny", .not_from = "10.0.0.0/8" };
	char err[STORE_ERR_MAX], *text;
	const char *e = NULL;
	struct session s;
	struct user u;
	unsigned char h[32];

	assert_int_equal(store_tenant_add(fx->st, &t, &e), 0);
	add_alice(fx);
	add_session(fx, "cookie", "alice", T0, T0 + 3600);
	assert_int_equal(store_rule_add(fx->st, T, &r, NULL, NULL, err), 0);
	fx_set_schema(fx, "3");
	fx_reopen(fx);
	assert_int_equal(fx_schema(fx), '7');
	text = fx_audit_text(fx, T);
	assert_string_equal(text, "store.upgrade from=3 to=4 users=1 sessions=1 rules=1\n"
	    "store.upgrade from=4 to=5 users=1 groups=0 apps=0\n"
	    "store.upgrade from=5 to=6 users=1 apps=0 roles=user\n"
	    "store.upgrade from=6 to=7 licence=unlicensed seats=unlimited users=1 "
	    "cert_holders=0\n");
	free(text);
	/* What was there reads with the new fields unset. */
	assert_int_equal(store_user_get(fx->st, T, "alice", &u), 1);
	assert_int_equal(u.must_change, 0);
	store_user_clear(&u);
	hash_of("cookie", h);
	assert_int_equal(store_session_get(fx->st, T, h, &s), 1);
	assert_null(s.ip);
	assert_int_equal(s.mfa_at, 0);
	store_session_clear(&s);
	assert_int_equal(store_tenant_get(fx->st, T, &t), 1);
	assert_int_equal(t.pw_min_len, 0);
	store_tenant_clear(&t);
	assert_int_equal(count(fx), 0);
	fx_reopen(fx);		/* once */
	text = fx_audit_text(fx, T);
	assert_null(strstr(strstr(strstr(strstr(strstr(text, "store.upgrade") + 1,
	    "store.upgrade") + 1, "store.upgrade") + 1, "store.upgrade") + 1, "store.upgrade"));
	free(text);
}

/* ---- 64 requests with the same code at once ---- */

#define TOTP_THREADS 64

struct totp_arg {
	struct store *st;
	const char *id;
	pthread_barrier_t *go;
	int rc;
};

static void *
totp_thread(void *p)
{
	struct totp_arg *a = p;

	pthread_barrier_wait(a->go);
	a->rc = store_totp_accept(a->st, T, ALICE, a->id, 56666666, T0, NULL);
	return NULL;
}

static void
test_store_factor_totp_concurrent(void **state)
{
	struct fx *fx = *state;
	struct totp_arg args[TOTP_THREADS];
	pthread_t th[TOTP_THREADS];
	pthread_barrier_t go;
	int accepted = 0, refused = 0;
	char *id;

	add_alice(fx);
	id = add_totp(fx, "phone", 0);
	pthread_barrier_init(&go, NULL, TOTP_THREADS);
	for (int i = 0; i < TOTP_THREADS; i++) {
		args[i] = (struct totp_arg){ .st = fx->st, .id = id, .go = &go };
		assert_int_equal(pthread_create(&th[i], NULL, totp_thread, &args[i]), 0);
	}
	for (int i = 0; i < TOTP_THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	for (int i = 0; i < TOTP_THREADS; i++) {
		accepted += args[i].rc == 1;
		refused += args[i].rc == 0;
	}
	assert_int_equal(accepted, 1);
	assert_int_equal(refused, TOTP_THREADS - 1);
	free(id);
}

int
main(void)
{
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		TEST(test_store_factor_add_list_remove_label),
		TEST(test_store_factor_add_refused),
		TEST(test_store_factor_cap),
		TEST(test_store_factor_pending_replaced),
		TEST(test_store_factor_duplicate_cred),
		TEST(test_store_factor_totp_replay),
		TEST(test_store_factor_recovery),
		TEST(test_store_factor_webauthn_counter),
		TEST(test_store_challenge_take_once),
		TEST(test_store_challenge_expired),
		TEST(test_store_challenge_drop_user),
		TEST(test_store_rate_hit),
		TEST(test_store_factor_user_remove),
		TEST(test_store_session_fields_and_methods),
		TEST(test_store_session_list_and_end_user),
		TEST(test_store_user_new_password),
		TEST(test_store_user_must_change),
		TEST(test_store_tenant_pw_min),
		TEST(test_store_rule_mfa_enroll),
		TEST(test_store_upgrade_3_to_4),
		TEST(test_store_factor_totp_concurrent),
	};
#undef TEST

	return cmocka_run_group_tests(tests, NULL, NULL);
}
