/*
 * Unit tests for policies/store_cert.c on a real LMDB environment in a temporary directory:
 * device-certificate records (by serial, by fingerprint, per user), the cap of active
 * certificates per user (revoked and expired ones free a slot), revocation, the use
 * timestamp written at most once a minute, CRLs that never go back, counters and policies.
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
#include "clock.h"
#include "crypto.h"
#include "encode.h"
#include "store.h"
#include "xmalloc.h"

#include "store_fixture.h"

#define YEAR (365 * 86400)
#define RACE_THREADS 8

/* A certificate record and the storage its pointers borrow. */
struct crec {
	struct devcert c;
	char serial[48];
	char fp[65];
	unsigned char der[16];
};

/* Serial "4" + n in 31 hex digits; fingerprint the SHA-256 of the serial. */
static void
crec_init(struct crec *r, unsigned int n, const char *user, int64_t issued, int64_t not_after)
{
	unsigned char h[32];

	memset(r, 0, sizeof(*r));
	snprintf(r->serial, sizeof(r->serial), "4%031X", n);
	crypto_sha256(r->serial, strlen(r->serial), h);
	hex_encode(h, sizeof(h), r->fp);
	for (size_t i = 0; i < sizeof(r->der); i++)
		r->der[i] = (unsigned char)(n + i);
	r->c.serial = r->serial;
	r->c.user = (char *)user;
	r->c.user_id = (char *)user;	/* add_named gives the name as id */
	r->c.label = "Alice laptop";
	r->c.fingerprint = r->fp;
	r->c.issued = (uint64_t)issued;
	r->c.not_before = (uint64_t)(issued - 300);
	r->c.not_after = (uint64_t)not_after;
	r->c.der = r->der;
	r->c.der_len = sizeof(r->der);
}

static int
add_at(struct fx *fx, const struct crec *r, int64_t now, const char **err)
{
	*err = NULL;
	return store_cert_add(fx->st, T, &r->c, now, STORE_CERT_CAP, NULL, err);
}

/* Add certificate n of user, issued at T0 and valid 5 years; it must be stored. */
static void
add_ok(struct fx *fx, struct crec *r, unsigned int n, const char *user)
{
	const char *err = NULL;

	crec_init(r, n, user, T0, T0 + 5 * YEAR);
	if (add_at(fx, r, T0, &err) != 0)
		fail_msg("add %u: %s", n, err);
}

static uint64_t
revocations(struct fx *fx)
{
	uint64_t gen = 99;

	assert_int_equal(store_cert_revocations(fx->st, T, &gen), 0);
	return gen;
}

static struct devcert
get(struct fx *fx, const char *serial)
{
	struct devcert c;

	assert_int_equal(store_cert_get(fx->st, T, serial, &c), 1);
	return c;
}

/* A user whose id is its name, so certificate records can name it directly. */
static void
add_named(struct fx *fx, const char *tenant, const char *name)
{
	struct user u = { .id = (char *)name, .name = (char *)name, .pwhash = "$argon2id$x",
		.created = T0 };
	const char *err = NULL;

	assert_int_equal(store_user_add(fx->st, tenant, &u, NULL, &err), 0);
}

/* ---- list callbacks ---- */

struct seen {
	char serials[16][48];
	size_t n;
};

static void
seen_cb(const void *rec, void *arg)
{
	const struct devcert *c = rec;
	struct seen *s = arg;

	assert_true(s->n < 16);
	snprintf(s->serials[s->n++], 48, "%s", c->serial);
}

static int
seen_has(const struct seen *s, const char *serial)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->serials[i], serial))
			return 1;
	return 0;
}

/* ---- records ---- */

static void
test_store_cert_add_get(void **state)
{
	struct fx *fx = *state;
	struct crec r;
	struct devcert c;
	struct audit_entry ae;
	const char *err = NULL;
	char upper[65];

	add_named(fx, T, "alice");
	crec_init(&r, 1, "alice", T0, T0 + 5 * YEAR);
	audit_entry_make(&ae, "cert.issue", "user", "alice", "serial", r.serial, NULL);
	assert_int_equal(store_cert_add(fx->st, T, &r.c, T0, STORE_CERT_CAP, &ae, &err), 0);
	assert_int_equal(raw_count(fx, "audit"), 1);
	assert_int_equal(raw_count(fx, "certs"), 1);
	assert_int_equal(raw_count(fx, "certs_by_user"), 1);
	assert_int_equal(raw_count(fx, "certs_by_fingerprint"), 1);

	assert_int_equal(store_cert_get(fx->st, T, r.serial, &c), 1);
	assert_string_equal(c.serial, r.serial);
	assert_string_equal(c.user, "alice");
	assert_string_equal(c.user_id, "alice");
	assert_string_equal(c.label, "Alice laptop");
	assert_string_equal(c.fingerprint, r.fp);
	assert_int_equal(c.issued, T0);
	assert_int_equal(c.not_before, T0 - 300);
	assert_int_equal(c.not_after, T0 + 5 * YEAR);
	assert_int_equal(c.revoked, 0);
	assert_int_equal(c.last_used, 0);
	assert_int_equal(c.der_len, sizeof(r.der));
	assert_memory_equal(c.der, r.der, sizeof(r.der));
	store_devcert_clear(&c);

	/* By fingerprint, in either case. */
	assert_int_equal(store_cert_by_fingerprint(fx->st, T, r.fp, &c), 1);
	assert_string_equal(c.serial, r.serial);
	store_devcert_clear(&c);
	for (size_t i = 0; i <= sizeof(upper) - 1; i++)
		upper[i] = (char)(r.fp[i] >= 'a' && r.fp[i] <= 'f' ? r.fp[i] - 32 : r.fp[i]);
	assert_int_equal(store_cert_by_fingerprint(fx->st, T, upper, &c), 1);
	assert_string_equal(c.serial, r.serial);
	store_devcert_clear(&c);
}

static void
test_store_cert_lookups_not_found(void **state)
{
	struct fx *fx = *state;
	struct crec r, other;
	struct devcert c;
	char longserial[80];
	static const char *const bad_fp[] = { "", "xyz", "00",
		"0000000000000000000000000000000000000000000000000000000000000000",
		"000000000000000000000000000000000000000000000000000000000000000",
		"00000000000000000000000000000000000000000000000000000000000000000000",
	};

	add_named(fx, T, "alice");
	add_ok(fx, &r, 1, "alice");
	crec_init(&other, 2, "alice", T0, T0 + YEAR);
	assert_int_equal(store_cert_get(fx->st, T, other.serial, &c), 0);
	store_devcert_clear(&c);
	assert_int_equal(store_cert_get(fx->st, "other-tenant", r.serial, &c), 0);
	store_devcert_clear(&c);
	assert_int_equal(store_cert_by_fingerprint(fx->st, "other-tenant", r.fp, &c), 0);
	store_devcert_clear(&c);
	assert_int_equal(store_cert_by_fingerprint(fx->st, T, other.fp, &c), 0);
	store_devcert_clear(&c);
	for (size_t i = 0; i < NELEM(bad_fp); i++) {
		assert_int_equal(store_cert_by_fingerprint(fx->st, T, bad_fp[i], &c), 0);
		store_devcert_clear(&c);
	}
	memset(longserial, 'A', 65);
	longserial[65] = '\0';
	assert_int_equal(store_cert_get(fx->st, T, longserial, &c), 0);
	store_devcert_clear(&c);
	/* A serial is not a key prefix of a longer one. */
	longserial[0] = '\0';
	snprintf(longserial, sizeof(longserial), "%.31s", r.serial);
	assert_int_equal(store_cert_get(fx->st, T, longserial, &c), 0);
	store_devcert_clear(&c);
}

static void
test_store_cert_add_refused(void **state)
{
	struct fx *fx = *state;
	struct crec r, dup, same_fp, bad;
	struct devcert c;
	struct audit_entry ae;
	const char *err = NULL;

	add_named(fx, T, "alice");
	add_ok(fx, &r, 1, "alice");

	/* No such user (in this tenant). */
	crec_init(&bad, 2, "nobody", T0, T0 + YEAR);
	assert_int_equal(add_at(fx, &bad, T0, &err), -1);
	assert_string_equal(err, "no such user");
	crec_init(&bad, 2, "alice", T0, T0 + YEAR);
	assert_int_equal(store_cert_add(fx->st, "other-tenant", &bad.c, T0, STORE_CERT_CAP, NULL,
	    &err), -1);
	assert_string_equal(err, "no such user");
	/* Another immutable id than the user's: the user was replaced meanwhile. */
	bad.c.user_id = "alice-before";
	assert_int_equal(add_at(fx, &bad, T0, &err), -1);
	assert_non_null(strstr(err, "the user changed"));
	bad.c.user_id = NULL;
	assert_int_equal(add_at(fx, &bad, T0, &err), -1);
	assert_non_null(strstr(err, "the user changed"));
	/* A fingerprint that is not 64 hex digits. */
	crec_init(&bad, 2, "alice", T0, T0 + YEAR);
	bad.c.fingerprint = "not hex";
	assert_int_equal(add_at(fx, &bad, T0, &err), -1);
	assert_non_null(err);
	assert_int_equal(store_cert_get(fx->st, T, bad.serial, &c), 0);
	store_devcert_clear(&c);

	/* The same serial again: refused, and the first record stays as it was. */
	crec_init(&dup, 1, "alice", T0 + 10, T0 + YEAR);
	dup.c.label = "impostor";
	audit_entry_make(&ae, "cert.issue", "serial", dup.serial, NULL);
	assert_int_equal(store_cert_add(fx->st, T, &dup.c, T0, STORE_CERT_CAP, &ae, &err), -1);
	c = get(fx, r.serial);
	assert_string_equal(c.label, "Alice laptop");
	assert_int_equal(c.issued, T0);
	store_devcert_clear(&c);

	/* The same fingerprint under a new serial: refused as a whole, nothing half-written. */
	crec_init(&same_fp, 3, "alice", T0, T0 + YEAR);
	memcpy(same_fp.fp, r.fp, sizeof(r.fp));
	assert_int_equal(store_cert_add(fx->st, T, &same_fp.c, T0, STORE_CERT_CAP, &ae, &err),
	    -1);
	assert_int_equal(store_cert_get(fx->st, T, same_fp.serial, &c), 0);
	store_devcert_clear(&c);
	assert_int_equal(store_cert_by_fingerprint(fx->st, T, r.fp, &c), 1);
	assert_string_equal(c.serial, r.serial);
	store_devcert_clear(&c);
	assert_int_equal(store_cert_active(fx->st, T, "alice", T0), 1);
	assert_int_equal(raw_count(fx, "certs"), 1);
	assert_int_equal(raw_count(fx, "certs_by_user"), 1);
	assert_int_equal(raw_count(fx, "certs_by_fingerprint"), 1);
	assert_int_equal(raw_count(fx, "audit"), 0);
}

/* ---- the cap ---- */

static void
test_store_cert_cap(void **state)
{
	struct fx *fx = *state;
	struct crec r[STORE_CERT_CAP + 3];
	const char *err = NULL;

	assert_int_equal(STORE_CERT_CAP, 10);
	add_named(fx, T, "alice");
	add_named(fx, T, "alice2");
	for (unsigned int i = 0; i < STORE_CERT_CAP; i++)
		add_ok(fx, &r[i], i, "alice");
	assert_int_equal(store_cert_active(fx->st, T, "alice", T0), STORE_CERT_CAP);
	/* The 11th is refused with "limit" in the reason (casvc.c looks for it). */
	crec_init(&r[10], 10, "alice", T0, T0 + 5 * YEAR);
	assert_int_equal(add_at(fx, &r[10], T0, &err), -1);
	assert_non_null(strstr(err, "limit"));
	assert_int_equal(store_cert_active(fx->st, T, "alice", T0), STORE_CERT_CAP);
	assert_int_equal(raw_count(fx, "certs"), STORE_CERT_CAP);
	/* Per user: "alice2" (alice's name and more) has its own count. */
	assert_int_equal(store_cert_active(fx->st, T, "alice2", T0), 0);
	add_ok(fx, &r[12], 12, "alice2");
	assert_int_equal(store_cert_active(fx->st, T, "alice", T0), STORE_CERT_CAP);
	/* A revoked certificate frees its slot, once. */
	assert_int_equal(store_cert_revoke(fx->st, T, r[0].serial, 1, T0 + 1, NULL, NULL), 1);
	assert_int_equal(store_cert_active(fx->st, T, "alice", T0 + 1), STORE_CERT_CAP - 1);
	assert_int_equal(add_at(fx, &r[10], T0 + 1, &err), 0);
	crec_init(&r[11], 11, "alice", T0, T0 + 5 * YEAR);
	assert_int_equal(add_at(fx, &r[11], T0 + 1, &err), -1);
	assert_non_null(strstr(err, "limit"));
	assert_int_equal(store_cert_revoke(fx->st, T, r[0].serial, 1, T0 + 2, NULL, NULL), 2);
	assert_int_equal(add_at(fx, &r[11], T0 + 2, &err), -1);
	/* A smaller cap given by the caller applies. */
	assert_int_equal(store_cert_add(fx->st, T, &r[11].c, T0, 1, NULL, &err), -1);
	assert_non_null(strstr(err, "limit"));
}

static void
test_store_cert_cap_expired(void **state)
{
	struct fx *fx = *state;
	struct crec r[STORE_CERT_CAP + 1];
	const int64_t end = T0 + 100;
	const char *err = NULL;

	add_named(fx, T, "alice");
	for (unsigned int i = 0; i < STORE_CERT_CAP - 1; i++)
		add_ok(fx, &r[i], i, "alice");
	/* One that ends at T0 + 100. */
	crec_init(&r[9], 9, "alice", T0, end);
	assert_int_equal(add_at(fx, &r[9], T0, &err), 0);
	crec_init(&r[10], 10, "alice", T0, T0 + 5 * YEAR);
	/* Active while not_after > now: at end - 1 it still counts, at end it has expired. */
	assert_int_equal(store_cert_active(fx->st, T, "alice", end - 1), STORE_CERT_CAP);
	assert_int_equal(add_at(fx, &r[10], end - 1, &err), -1);
	assert_non_null(strstr(err, "limit"));
	assert_int_equal(store_cert_active(fx->st, T, "alice", end), STORE_CERT_CAP - 1);
	assert_int_equal(add_at(fx, &r[10], end, &err), 0);
	assert_int_equal(store_cert_active(fx->st, T, "alice", end), STORE_CERT_CAP);
	/* Expired records stay listed. */
	assert_int_equal(raw_count(fx, "certs"), STORE_CERT_CAP + 1);
	/* Unknown users have none. */
	assert_int_equal(store_cert_active(fx->st, T, "nobody", T0), 0);
}

struct race_arg {
	struct store *st;
	pthread_barrier_t *go;
	struct crec r;
	int rc;
};

static void *
add_thread(void *p)
{
	struct race_arg *a = p;
	const char *err = NULL;

	pthread_barrier_wait(a->go);
	a->rc = store_cert_add(a->st, T, &a->r.c, T0, STORE_CERT_CAP, NULL, &err);
	return NULL;
}

static void
test_store_cert_cap_concurrent(void **state)
{
	struct fx *fx = *state;
	struct crec r[STORE_CERT_CAP - 1];
	struct race_arg args[RACE_THREADS];
	pthread_t th[RACE_THREADS];
	pthread_barrier_t go;
	int won = 0;

	add_named(fx, T, "alice");
	for (unsigned int i = 0; i < STORE_CERT_CAP - 1; i++)
		add_ok(fx, &r[i], i, "alice");
	/* One slot left and several issuances at once: exactly one gets it. */
	pthread_barrier_init(&go, NULL, RACE_THREADS);
	for (int i = 0; i < RACE_THREADS; i++) {
		args[i].st = fx->st;
		args[i].go = &go;
		args[i].rc = 1;
		crec_init(&args[i].r, 100 + (unsigned int)i, "alice", T0, T0 + 5 * YEAR);
		assert_int_equal(pthread_create(&th[i], NULL, add_thread, &args[i]), 0);
	}
	for (int i = 0; i < RACE_THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	for (int i = 0; i < RACE_THREADS; i++) {
		assert_true(args[i].rc == 0 || args[i].rc == -1);
		won += args[i].rc == 0;
	}
	assert_int_equal(won, 1);
	assert_int_equal(store_cert_active(fx->st, T, "alice", T0), STORE_CERT_CAP);
	assert_int_equal(raw_count(fx, "certs"), STORE_CERT_CAP);
}

/* ---- revocation ---- */

static void
test_store_cert_revoke(void **state)
{
	struct fx *fx = *state;
	struct crec a, b, unknown;
	struct audit_entry ae;
	struct devcert c;
	char *user = NULL;
	char longserial[80];

	add_named(fx, T, "alice");
	add_named(fx, T, "bob");
	add_ok(fx, &a, 1, "alice");
	add_ok(fx, &b, 2, "bob");
	add_session(fx, "sso-alice", "alice", T0, T0 + 86400);
	add_session(fx, "sso-bob", "bob", T0, T0 + 86400);
	assert_int_equal(revocations(fx), 0);

	audit_entry_make(&ae, "cert.revoke", "serial", a.serial, NULL);
	assert_int_equal(store_cert_revoke(fx->st, T, a.serial, 1, T0 + 50, &ae, &user), 1);
	assert_string_equal(user, "alice");
	free(user);
	user = NULL;
	c = get(fx, a.serial);
	assert_int_equal(c.revoked, 1);
	assert_int_equal(c.revoked_at, T0 + 50);
	assert_int_equal(c.reason, 1);
	store_devcert_clear(&c);
	assert_int_equal(revocations(fx), 1);
	/* The owner's sessions end with it; others' do not. */
	assert_int_equal(session_exists(fx, "sso-alice"), 0);
	assert_int_equal(session_exists(fx, "sso-bob"), 1);
	/* Bob's certificate is untouched. */
	c = get(fx, b.serial);
	assert_int_equal(c.revoked, 0);
	store_devcert_clear(&c);

	/* Twice: 2, and the first time, reason and counter stay. */
	assert_int_equal(store_cert_revoke(fx->st, T, a.serial, 4, T0 + 99, &ae, &user), 2);
	assert_null(user);
	c = get(fx, a.serial);
	assert_int_equal(c.revoked_at, T0 + 50);
	assert_int_equal(c.reason, 1);
	store_devcert_clear(&c);
	assert_int_equal(revocations(fx), 1);
	assert_int_equal(raw_count(fx, "audit"), 1);

	/* Unknown, too long, another tenant's: 0. */
	crec_init(&unknown, 9, "alice", T0, T0 + YEAR);
	assert_int_equal(store_cert_revoke(fx->st, T, unknown.serial, 1, T0, NULL, &user), 0);
	assert_null(user);
	memset(longserial, 'A', 65);
	longserial[65] = '\0';
	assert_int_equal(store_cert_revoke(fx->st, T, longserial, 1, T0, NULL, NULL), 0);
	assert_int_equal(store_cert_revoke(fx->st, "other-tenant", b.serial, 1, T0, NULL, NULL), 0);
	assert_int_equal(revocations(fx), 1);

	/* Without user_r. */
	assert_int_equal(store_cert_revoke(fx->st, T, b.serial, 9, T0 + 60, NULL, NULL), 1);
	assert_int_equal(revocations(fx), 2);
	assert_int_equal(session_exists(fx, "sso-bob"), 0);
}

static void
test_store_cert_user_removed(void **state)
{
	struct fx *fx = *state;
	struct crec a, b, again;
	struct user u = { .id = "alice-2", .name = "alice", .display_name = "Alice",
		.pwhash = "$argon2id$x", .created = T0 };
	struct devcert c;
	const char *err = NULL;

	add_named(fx, T, "alice");
	add_ok(fx, &a, 1, "alice");
	add_ok(fx, &b, 2, "alice");
	assert_int_equal(store_cert_revoke(fx->st, T, b.serial, 1, T0 + 5, NULL, NULL), 1);
	clock_set_fixed(T0 + 1000);
	assert_int_equal(store_user_remove(fx->st, T, "alice", NULL), 1);
	clock_set_fixed(0);
	/* Revoked as cessationOfOperation; one revoked before keeps its reason and time. */
	c = get(fx, a.serial);
	assert_int_equal(c.revoked, 1);
	assert_int_equal(c.reason, 5);
	assert_int_equal(c.revoked_at, T0 + 1000);
	store_devcert_clear(&c);
	c = get(fx, b.serial);
	assert_int_equal(c.reason, 1);
	assert_int_equal(c.revoked_at, T0 + 5);
	store_devcert_clear(&c);
	assert_int_equal(revocations(fx), 2);
	assert_int_equal(store_cert_active(fx->st, T, "alice", T0), 0);

	/* A new alice is another person: the old id is refused, the new one counts from 0. */
	assert_int_equal(store_user_add(fx->st, T, &u, NULL, &err), 0);
	crec_init(&again, 3, "alice", T0, T0 + YEAR);
	assert_int_equal(add_at(fx, &again, T0, &err), -1);
	assert_non_null(strstr(err, "the user changed"));
	again.c.user_id = "alice-2";
	assert_int_equal(add_at(fx, &again, T0, &err), 0);
	/* Counted against the new user's id; the old id holds only revoked ones. */
	assert_int_equal(store_cert_active(fx->st, T, "alice-2", T0), 1);
	assert_int_equal(store_cert_active(fx->st, T, "alice", T0), 0);
}

/* ---- lists ---- */

static void
test_store_cert_list(void **state)
{
	struct fx *fx = *state;
	struct crec a1, a2, b, c2, x;
	struct seen s = { .n = 0 };
	const char *err = NULL;

	add_named(fx, T, "alice");
	add_named(fx, T, "alice2");
	add_named(fx, T, "bob");
	add_named(fx, "other-tenant", "alice");
	add_ok(fx, &a1, 1, "alice");
	add_ok(fx, &a2, 2, "alice");
	add_ok(fx, &b, 3, "bob");
	add_ok(fx, &c2, 4, "alice2");
	crec_init(&x, 5, "alice", T0, T0 + YEAR);
	assert_int_equal(store_cert_add(fx->st, "other-tenant", &x.c, T0, STORE_CERT_CAP, NULL,
	    &err), 0);
	assert_int_equal(store_cert_revoke(fx->st, T, a2.serial, 4, T0, NULL, NULL), 1);

	/* One user's, revoked ones included, not "alice2"'s, not another tenant's. */
	assert_int_equal(store_cert_list(fx->st, T, "alice", seen_cb, &s), 0);
	assert_int_equal(s.n, 2);
	assert_true(seen_has(&s, a1.serial));
	assert_true(seen_has(&s, a2.serial));
	/* The whole tenant's. */
	s.n = 0;
	assert_int_equal(store_cert_list(fx->st, T, NULL, seen_cb, &s), 0);
	assert_int_equal(s.n, 4);
	assert_false(seen_has(&s, x.serial));
	s.n = 0;
	assert_int_equal(store_cert_list(fx->st, "other-tenant", NULL, seen_cb, &s), 0);
	assert_int_equal(s.n, 1);
	assert_true(seen_has(&s, x.serial));
	s.n = 0;
	assert_int_equal(store_cert_list(fx->st, T, "nobody", seen_cb, &s), 0);
	assert_int_equal(s.n, 0);
}

/*
 * store_cert_list gives certificates oldest first, though the indexes are keyed by serial
 * (random): serials here run against the issue order.
 */
static void
test_store_cert_list_oldest_first(void **state)
{
	struct fx *fx = *state;
	struct crec r[3];
	/* Serials in descending order, issued in ascending order. */
	static const unsigned int serials[3] = { 0xc00, 0xb00, 0xa00 };
	struct seen s = { .n = 0 };

	add_named(fx, T, "alice");
	for (size_t i = 0; i < 3; i++) {
		const char *err = NULL;
		crec_init(&r[i], serials[i], "alice", T0 + (int64_t)i * 86400, T0 + 5 * YEAR);
		assert_int_equal(add_at(fx, &r[i], T0 + (int64_t)i * 86400, &err), 0);
	}
	assert_int_equal(store_cert_list(fx->st, T, "alice", seen_cb, &s), 0);
	assert_int_equal(s.n, 3);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(s.serials[i], r[i].serial);
	s.n = 0;
	assert_int_equal(store_cert_list(fx->st, T, NULL, seen_cb, &s), 0);
	assert_int_equal(s.n, 3);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(s.serials[i], r[i].serial);
}

/* ---- use ---- */

static uint64_t
last_used(struct fx *fx, const char *serial)
{
	struct devcert c = get(fx, serial);
	uint64_t v = c.last_used;

	store_devcert_clear(&c);
	return v;
}

static void
test_store_cert_touch(void **state)
{
	struct fx *fx = *state;
	struct crec r, unknown;

	add_named(fx, T, "alice");
	add_ok(fx, &r, 1, "alice");
	assert_int_equal(store_cert_touch(fx->st, T, r.serial, T0 + 1000), 1);
	assert_int_equal(last_used(fx, r.serial), T0 + 1000);
	/* At most once a minute is written. */
	assert_int_equal(store_cert_touch(fx->st, T, r.serial, T0 + 1059), 1);
	assert_int_equal(last_used(fx, r.serial), T0 + 1000);
	assert_int_equal(store_cert_touch(fx->st, T, r.serial, T0 + 1060), 1);
	assert_int_equal(last_used(fx, r.serial), T0 + 1060);
	/* A clock that went back does not move it back. */
	assert_int_equal(store_cert_touch(fx->st, T, r.serial, T0 + 500), 1);
	assert_int_equal(last_used(fx, r.serial), T0 + 1060);
	/* Nothing else changes. */
	{
		struct devcert c = get(fx, r.serial);
		assert_string_equal(c.user, "alice");
		assert_string_equal(c.fingerprint, r.fp);
		assert_int_equal(c.revoked, 0);
		assert_int_equal(c.der_len, sizeof(r.der));
		store_devcert_clear(&c);
	}
	crec_init(&unknown, 2, "alice", T0, T0 + YEAR);
	assert_int_equal(store_cert_touch(fx->st, T, unknown.serial, T0 + 2000), 0);
	assert_int_equal(store_cert_touch(fx->st, "other-tenant", r.serial, T0 + 2000), 0);
	assert_int_equal(raw_count(fx, "certs"), 1);
}

/* ---- CRLs and counters ---- */

static void
put_crl(struct fx *fx, const char *tenant, uint64_t number, uint64_t rev_gen, const char *der)
{
	struct crlrec r = { .number = number, .this_update = T0 + number,
		.next_update = T0 + number + 86400, .der = (unsigned char *)der,
		.der_len = strlen(der), .rev_gen = rev_gen };

	assert_int_equal(store_crl_put(fx->st, tenant, &r), 0);
}

/* The stored CRL's number and DER (as a string). */
static void
check_crl(struct fx *fx, uint64_t number, uint64_t rev_gen, const char *der)
{
	struct crlrec r;

	assert_int_equal(store_crl_get(fx->st, T, &r), 1);
	assert_int_equal(r.number, number);
	assert_int_equal(r.rev_gen, rev_gen);
	assert_int_equal(r.this_update, T0 + number);
	assert_int_equal(r.next_update, T0 + number + 86400);
	assert_int_equal(r.der_len, strlen(der));
	assert_memory_equal(r.der, der, r.der_len);
	store_crlrec_clear(&r);
}

static void
test_store_cert_crl(void **state)
{
	struct fx *fx = *state;
	struct crlrec r;

	assert_int_equal(store_crl_get(fx->st, T, &r), 0);
	store_crlrec_clear(&r);
	put_crl(fx, T, 1, 0, "crl-1");
	check_crl(fx, 1, 0, "crl-1");
	put_crl(fx, T, 2, 1, "crl-2");
	check_crl(fx, 2, 1, "crl-2");
	/* Two builders racing: one with an older number or fewer revocations does not win. */
	put_crl(fx, T, 1, 1, "older number");
	check_crl(fx, 2, 1, "crl-2");
	put_crl(fx, T, 3, 0, "older revocations");
	check_crl(fx, 2, 1, "crl-2");
	/* The same number and generation may be written again. */
	put_crl(fx, T, 2, 1, "crl-2 again");
	check_crl(fx, 2, 1, "crl-2 again");
	put_crl(fx, T, 3, 2, "crl-3");
	check_crl(fx, 3, 2, "crl-3");
	/* Per tenant. */
	assert_int_equal(store_crl_get(fx->st, "other-tenant", &r), 0);
	store_crlrec_clear(&r);
	put_crl(fx, "other-tenant", 1, 0, "other");
	check_crl(fx, 3, 2, "crl-3");
}

static void
test_store_cert_counters(void **state)
{
	struct fx *fx = *state;
	struct crec r;
	uint64_t n = 0;

	/* CRL numbers count up from 1, per tenant, on every call. */
	for (uint64_t i = 1; i <= 3; i++) {
		assert_int_equal(store_crl_next_number(fx->st, T, &n), 0);
		assert_int_equal(n, i);
	}
	assert_int_equal(store_crl_next_number(fx->st, "other-tenant", &n), 0);
	assert_int_equal(n, 1);
	/* Reading the revocation counter does not move it; revoking does. */
	assert_int_equal(revocations(fx), 0);
	assert_int_equal(revocations(fx), 0);
	add_named(fx, T, "alice");
	add_ok(fx, &r, 1, "alice");
	assert_int_equal(store_cert_revoke(fx->st, T, r.serial, 1, T0, NULL, NULL), 1);
	assert_int_equal(revocations(fx), 1);
	assert_int_equal(store_cert_revocations(fx->st, "other-tenant", &n), 0);
	assert_int_equal(n, 0);
	/* The counters survive a reopen. */
	fx_reopen(fx);
	assert_int_equal(revocations(fx), 1);
	assert_int_equal(store_crl_next_number(fx->st, T, &n), 0);
	assert_int_equal(n, 4);
}

int
main(void)
{
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		TEST(test_store_cert_add_get),
		TEST(test_store_cert_lookups_not_found),
		TEST(test_store_cert_add_refused),
		TEST(test_store_cert_cap),
		TEST(test_store_cert_cap_expired),
		TEST(test_store_cert_cap_concurrent),
		TEST(test_store_cert_revoke),
		TEST(test_store_cert_user_removed),
		TEST(test_store_cert_list),
		TEST(test_store_cert_list_oldest_first),
		TEST(test_store_cert_touch),
		TEST(test_store_cert_crl),
		TEST(test_store_cert_counters),
	};
#undef TEST

	return cmocka_run_group_tests(tests, NULL, NULL);
}
