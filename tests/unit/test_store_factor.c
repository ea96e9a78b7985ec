/*
 * Unit tests for policies/store_factor.c and store_challenge.c on a real LMDB environment:
 * second factors (the cap, one registration per credential, TOTP steps and recovery codes
 * used once, WebAuthn counters that must move), challenges taken once and never returned
 * after their expiry, rate-limit windows, what goes when a user is removed, and 64
 * parallel acceptances of one TOTP step of which exactly one wins.
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
		TEST(test_store_factor_totp_concurrent),
	};
#undef TEST

	return cmocka_run_group_tests(tests, NULL, NULL);
}
