/*
 * Unit tests for policies/store_session.c on a real LMDB environment in a temporary directory:
 * SSO sessions and the SPs that join them, replay detection, pending logins (taken once),
 * logout states, failure counters (attempts reserved before they are checked) and expiry
 * with injected times, and concurrent writers (no lost counts, exactly one winner for one
 * request id, a limit of 10 holding against 64 parallel attempts).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "buf.h"
#include "crypto.h"
#include "log.h"
#include "audit.h"
#include "store.h"
#include "xmalloc.h"

#include "store_fixture.h"

static void
count_cb(const void *rec, void *arg)
{
	(*(int *)arg)++;
}

static int
session_sp_count(struct fx *fx, const char *cookie)
{
	unsigned char h[32];
	int n = 0;

	hash_of(cookie, h);
	assert_int_equal(store_session_sps(fx->st, T, h, count_cb, &n), 0);
	return n;
}

/* ---- sessions ---- */

static void
test_store_session_lifecycle(void **state)
{
	struct fx *fx = *state;
	struct session s;
	unsigned char h[32], other[32];

	add_session(fx, "cookie", "alice", T0, T0 + 3600);
	hash_of("cookie", h);
	hash_of("other", other);
	assert_int_equal(store_session_get(fx->st, T, h, &s), 1);
	assert_string_equal(s.user, "alice");
	assert_string_equal(s.methods, "pwd");
	assert_true(s.expires == T0 + 3600);
	store_session_clear(&s);
	assert_int_equal(store_session_get(fx->st, T, other, &s), 0);
	assert_int_equal(store_session_get(fx->st, "other", h, &s), 0);
	/* The same id twice is refused. */
	{
		struct session dup = { .user = "mallory" };

		assert_true(store_session_add(fx->st, T, h, &dup) < 0);
	}
	assert_int_equal(store_session_touch(fx->st, T, h, T0 + 10), 1);
	assert_int_equal(store_session_get(fx->st, T, h, &s), 1);
	assert_true(s.last_seen == T0 + 10);
	assert_true(s.authn_instant == T0);
	assert_string_equal(s.user, "alice");
	store_session_clear(&s);
	assert_int_equal(store_session_reauth(fx->st, T, h, T0 + 20), 1);
	assert_int_equal(store_session_get(fx->st, T, h, &s), 1);
	assert_true(s.last_seen == T0 + 20);
	assert_true(s.authn_instant == T0 + 20);
	store_session_clear(&s);
	assert_int_equal(store_session_touch(fx->st, T, other, T0), 0);
	assert_int_equal(store_session_reauth(fx->st, T, other, T0), 0);
	assert_int_equal(store_session_delete(fx->st, T, h), 1);
	assert_int_equal(store_session_delete(fx->st, T, h), 0);
	assert_int_equal(store_session_get(fx->st, T, h, &s), 0);
	assert_int_equal(raw_count(fx, "user_sessions"), 0);
}

static void
count_audit(const struct audit_rec *r, void *arg)
{
	(*(int *)arg)++;
}

/* The SSO's audit record commits with the SSO, or not at all. */
static void
test_store_session_sso_audit_same_transaction(void **state)
{
	struct fx *fx = *state;
	struct session_sp sp = { .entity_id = "https://sp1", .state = "dump1", .when = T0 };
	struct audit_entry ae;
	unsigned char h[32];
	const char *err = NULL;
	int n = 0;

	add_session(fx, "cookie", "alice", T0, T0 + 3600);
	hash_of("cookie", h);
	audit_entry_make(&ae, "saml.sso", "user", "alice", "sp", "https://sp1", NULL);
	assert_int_equal(store_session_sso(fx->st, T, h, "_a1", T0 + 600, &sp, T0 + 5, &ae, &err),
	    0);
	assert_int_equal(store_audit_list(fx->st, T, 0, count_audit, &n), 0);
	assert_int_equal(n, 1);
	/* A replay fails: no second record. */
	assert_int_equal(store_session_sso(fx->st, T, h, "_a1", T0 + 600, &sp, T0 + 6, &ae, &err),
	    -1);
	n = 0;
	assert_int_equal(store_audit_list(fx->st, T, 0, count_audit, &n), 0);
	assert_int_equal(n, 1);
}

static void
test_store_session_sso(void **state)
{
	struct fx *fx = *state;
	struct session_sp sp = { .entity_id = "https://sp1", .state = "dump1", .when = T0 };
	struct session s;
	unsigned char h[32];
	const char *err = NULL;

	add_session(fx, "cookie", "alice", T0, T0 + 3600);
	hash_of("cookie", h);
	assert_int_equal(store_session_sso(fx->st, T, h, "_req1", T0 + 600, &sp, T0 + 5, NULL, &err), 0);
	assert_int_equal(session_sp_count(fx, "cookie"), 1);
	assert_int_equal(store_session_get(fx->st, T, h, &s), 1);
	assert_true(s.last_seen == T0 + 5);
	store_session_clear(&s);
	/* The same request again: replay, and nothing changes. */
	sp.entity_id = "https://sp2";
	assert_int_equal(store_session_sso(fx->st, T, h, "_req1", T0 + 600, &sp, T0 + 9, NULL, &err), -1);
	assert_string_equal(err, "replayed request");
	assert_int_equal(session_sp_count(fx, "cookie"), 1);
	assert_int_equal(store_session_get(fx->st, T, h, &s), 1);
	assert_true(s.last_seen == T0 + 5);
	store_session_clear(&s);
	/* The replay cache knows the id. */
	assert_int_equal(store_replay_seen(fx->st, T, "saml", "_req1"), 1);
	/* Another request, another SP; the same SP again replaces its entry. */
	assert_int_equal(store_session_sso(fx->st, T, h, "_req2", T0 + 600, &sp, T0 + 9, NULL, &err), 0);
	assert_int_equal(store_session_sso(fx->st, T, h, "_req3", T0 + 600, &sp, T0 + 9, NULL, &err), 0);
	assert_int_equal(session_sp_count(fx, "cookie"), 2);
	/* IdP-initiated: no request id, no replay check. */
	assert_int_equal(store_session_sso(fx->st, T, h, NULL, 0, &sp, T0 + 9, NULL, &err), 0);
	assert_int_equal(store_session_sso(fx->st, T, h, NULL, 0, &sp, T0 + 9, NULL, &err), 0);
}

static void
test_store_session_sso_ended(void **state)
{
	struct fx *fx = *state;
	struct session_sp sp = { .entity_id = "https://sp1", .state = "dump", .when = T0 };
	unsigned char h[32];
	const char *err = NULL;

	add_session(fx, "cookie", "alice", T0, T0 + 3600);
	hash_of("cookie", h);
	assert_int_equal(store_session_sso(fx->st, T, h, "_r1", T0 + 600, &sp, T0, NULL, &err), 0);
	assert_int_equal(store_session_delete(fx->st, T, h), 1);
	assert_int_equal(session_sp_count(fx, "cookie"), 0);
	assert_int_equal(store_session_sso(fx->st, T, h, "_r2", T0 + 600, &sp, T0, NULL, &err), -1);
	assert_string_equal(err, "session ended");
	/* The request id of a failed SSO was not consumed. */
	assert_int_equal(store_replay_seen(fx->st, T, "saml", "_r2"), 0);
	assert_int_equal(raw_count(fx, "session_sps"), 0);
}

static void
test_store_session_disable_ends_sessions(void **state)
{
	struct fx *fx = *state;
	struct session_sp sp = { .entity_id = "https://sp1", .state = "dump", .when = T0 };
	unsigned char h[32];
	const char *err = NULL;

	add_user(fx, T, "alice", NULL);
	add_user(fx, T, "alice2", NULL);
	add_session(fx, "a1", "alice", T0, T0 + 3600);
	add_session(fx, "a2", "alice", T0, T0 + 3600);
	add_session(fx, "b1", "alice2", T0, T0 + 3600);
	hash_of("a1", h);
	assert_int_equal(store_session_sso(fx->st, T, h, "_r", T0 + 600, &sp, T0, NULL, &err), 0);
	assert_int_equal(store_user_set_disabled(fx->st, T, "alice", 1, NULL), 1);
	assert_int_equal(session_exists(fx, "a1"), 0);
	assert_int_equal(session_exists(fx, "a2"), 0);
	assert_int_equal(session_exists(fx, "b1"), 1);
	assert_int_equal(session_sp_count(fx, "a1"), 0);
	assert_int_equal(store_session_sso(fx->st, T, h, "_r9", T0 + 600, &sp, T0, NULL, &err), -1);
	assert_string_equal(err, "session ended");
	assert_int_equal(raw_count(fx, "user_sessions"), 1);
	assert_int_equal(raw_count(fx, "session_sps"), 0);
	assert_int_equal(raw_count(fx, "sessions"), 1);
}

/* ---- replay cache ---- */

static void
test_store_session_replay(void **state)
{
	struct fx *fx = *state;
	char long_id[2000];

	assert_int_equal(store_replay_seen(fx->st, T, "saml", "_id1"), 0);
	assert_int_equal(store_replay_check(fx->st, T, "saml", "_id1", T0 + 60), 0);
	assert_int_equal(store_replay_check(fx->st, T, "saml", "_id1", T0 + 60), 1);
	assert_int_equal(store_replay_seen(fx->st, T, "saml", "_id1"), 1);
	/* Kinds and tenants are separate caches. */
	assert_int_equal(store_replay_check(fx->st, T, "jti", "_id1", T0 + 60), 0);
	assert_int_equal(store_replay_check(fx->st, "other", "saml", "_id1", T0 + 60), 0);
	/* Ids far longer than an LMDB key are hashed. */
	memset(long_id, 'i', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	assert_int_equal(store_replay_check(fx->st, T, "saml", long_id, T0 + 60), 0);
	assert_int_equal(store_replay_check(fx->st, T, "saml", long_id, T0 + 60), 1);
	long_id[1000] = 'j';
	assert_int_equal(store_replay_seen(fx->st, T, "saml", long_id), 0);
}

/* ---- pending logins and logout states ---- */

static void
test_store_session_pending(void **state)
{
	struct fx *fx = *state;
	struct pending p = { .kind = "saml-post", .app = "https://sp1", .state = "PHNhbWw+",
		.relay_state = "rs", .created = T0, .expires = T0 + 900, .force = 1 };
	struct pending got;

	assert_int_equal(store_pending_put(fx->st, T, "pid1", &p), 0);
	assert_int_equal(store_pending_get(fx->st, T, "pid1", &got), 1);
	assert_string_equal(got.kind, "saml-post");
	assert_string_equal(got.state, "PHNhbWw+");
	assert_string_equal(got.relay_state, "rs");
	assert_true(got.expires == T0 + 900);
	assert_int_equal(got.force, 1);
	store_pending_clear(&got);
	/* get does not consume; take does, once. */
	assert_int_equal(store_pending_get(fx->st, T, "pid1", &got), 1);
	store_pending_clear(&got);
	assert_int_equal(store_pending_take(fx->st, T, "pid1", &got), 1);
	assert_string_equal(got.app, "https://sp1");
	store_pending_clear(&got);
	assert_int_equal(store_pending_take(fx->st, T, "pid1", &got), 0);
	assert_null(got.kind);
	assert_int_equal(store_pending_get(fx->st, T, "pid1", &got), 0);
	assert_int_equal(store_pending_get(fx->st, "other", "pid1", &got), 0);
	/* NULL fields stay NULL; a second put replaces. */
	p.relay_state = NULL;
	assert_int_equal(store_pending_put(fx->st, T, "pid2", &p), 0);
	p.state = "second";
	assert_int_equal(store_pending_put(fx->st, T, "pid2", &p), 0);
	assert_int_equal(store_pending_get(fx->st, T, "pid2", &got), 1);
	assert_null(got.relay_state);
	assert_string_equal(got.state, "second");
	store_pending_clear(&got);
}

static void
test_store_session_logout_states(void **state)
{
	struct fx *fx = *state;
	struct logout_state l = { .origin = "https://sp1", .state = "s", .remaining = "a\tb\n",
		.current = "https://sp2", .current_state = "cs", .relay_state = "r", .user = "alice",
		.partial = 1, .expires = T0 + 300 };
	struct logout_state got;

	assert_int_equal(store_logout_put(fx->st, T, "lid", &l), 0);
	assert_int_equal(store_logout_get(fx->st, T, "lid", &got), 1);
	assert_string_equal(got.origin, "https://sp1");
	assert_string_equal(got.remaining, "a\tb\n");
	assert_string_equal(got.current_state, "cs");
	assert_string_equal(got.user, "alice");
	assert_int_equal(got.partial, 1);
	assert_true(got.expires == T0 + 300);
	store_logout_clear(&got);
	/* IdP-initiated: no origin. */
	l.origin = NULL;
	assert_int_equal(store_logout_put(fx->st, T, "lid", &l), 0);
	assert_int_equal(store_logout_get(fx->st, T, "lid", &got), 1);
	assert_null(got.origin);
	store_logout_clear(&got);
	assert_int_equal(store_logout_delete(fx->st, T, "lid"), 1);
	assert_int_equal(store_logout_delete(fx->st, T, "lid"), 0);
	assert_int_equal(store_logout_get(fx->st, T, "lid", &got), 0);
}

/* ---- failure counters ---- */

static void
test_store_session_failures(void **state)
{
	struct fx *fx = *state;
	struct failures f;

	assert_int_equal(store_failure_get(fx->st, T, "user", "alice", &f), 0);
	assert_int_equal(f.count, 0);
	assert_int_equal(store_failure_add(fx->st, T, "user", "alice", 1000, 60, &f), 0);
	assert_int_equal(f.count, 1);
	assert_int_equal(f.first, 1000);
	assert_int_equal(store_failure_add(fx->st, T, "user", "alice", 1030, 60, &f), 0);
	assert_int_equal(f.count, 2);
	/* At first + window the window still holds; one second later it starts again. */
	assert_int_equal(store_failure_add(fx->st, T, "user", "alice", 1060, 60, &f), 0);
	assert_int_equal(f.count, 3);
	assert_int_equal(f.first, 1000);
	assert_int_equal(f.last, 1060);
	assert_int_equal(store_failure_add(fx->st, T, "user", "alice", 1061, 60, &f), 0);
	assert_int_equal(f.count, 1);
	assert_int_equal(f.first, 1061);
	assert_int_equal(store_failure_get(fx->st, T, "user", "alice", &f), 1);
	assert_int_equal(f.count, 1);
	/* Scopes, keys and tenants are separate counters. */
	assert_int_equal(store_failure_add(fx->st, T, "ip", "alice", 1061, 60, &f), 0);
	assert_int_equal(f.count, 1);
	assert_int_equal(store_failure_add(fx->st, T, "user", "alice2", 1061, 60, &f), 0);
	assert_int_equal(f.count, 1);
	assert_int_equal(store_failure_add(fx->st, "other", "user", "alice", 1061, 60, &f), 0);
	assert_int_equal(f.count, 1);
	assert_int_equal(store_failure_clear(fx->st, T, "user", "alice"), 1);
	assert_int_equal(store_failure_clear(fx->st, T, "user", "alice"), 0);
	assert_int_equal(store_failure_get(fx->st, T, "user", "alice", &f), 0);
	assert_int_equal(f.count, 0);
}

/* A gate that opens while the user has fewer than limit failures, recording what it saw. */
struct seen {
	uint64_t limit;
	struct failures user, ip;
};

static int
gate_below(const struct failures *user, const struct failures *ip, void *arg)
{
	struct seen *s = arg;

	s->user = *user;
	s->ip = *ip;
	return user->count < s->limit ? 0 : 2;
}

static void
test_store_session_failure_reserve(void **state)
{
	struct fx *fx = *state;
	struct seen s = { .limit = 2 };
	struct failures f;

	/* The gate sees the counters before the attempt; both count it, whatever it says. */
	assert_int_equal(store_failure_reserve(fx->st, T, "alice", "192.0.2.7", 1000, 60,
	    gate_below, &s, &f), 0);
	assert_int_equal(s.user.count, 0);
	assert_int_equal(s.ip.count, 0);
	assert_int_equal(f.count, 1);
	assert_int_equal(store_failure_reserve(fx->st, T, "alice", "192.0.2.7", 1010, 60,
	    gate_below, &s, &f), 0);
	assert_int_equal(s.user.count, 1);
	assert_int_equal(s.user.last, 1000);
	assert_int_equal(s.ip.count, 1);
	assert_int_equal(store_failure_reserve(fx->st, T, "alice", "192.0.2.7", 1020, 60,
	    gate_below, &s, &f), 2);
	assert_int_equal(s.user.count, 2);
	assert_int_equal(f.count, 3);
	assert_int_equal(f.last, 1020);
	assert_int_equal(store_failure_get(fx->st, T, "ip", "192.0.2.7", &f), 1);
	assert_int_equal(f.count, 3);
	/* The window applies as for store_failure_add. */
	assert_int_equal(store_failure_reserve(fx->st, T, "alice", "192.0.2.7", 1061, 60,
	    gate_below, &s, &f), 2);
	assert_int_equal(f.count, 1);
	assert_int_equal(f.first, 1061);
	/* A success ends the user's count and gives the address its attempt back. */
	assert_int_equal(store_failure_add(fx->st, T, "user", "alice", 1062, 60, &f), 0);
	assert_int_equal(store_failure_reserve(fx->st, T, "alice", "192.0.2.7", 1063, 60,
	    gate_below, &s, &f), 2);
	assert_int_equal(store_failure_success(fx->st, T, "alice", "192.0.2.7"), 0);
	assert_int_equal(store_failure_get(fx->st, T, "user", "alice", &f), 0);
	assert_int_equal(store_failure_get(fx->st, T, "ip", "192.0.2.7", &f), 1);
	assert_int_equal(f.count, 1);
	/* Nothing to give back: no counter goes below zero or appears. */
	assert_int_equal(store_failure_success(fx->st, T, "bob", "192.0.2.8"), 0);
	assert_int_equal(store_failure_get(fx->st, T, "ip", "192.0.2.8", &f), 0);
}

/* ---- expiry ---- */

static void
test_store_session_expire(void **state)
{
	struct fx *fx = *state;
	const int64_t now = T0 + 10000, idle = 600;
	struct pending p = { .kind = "saml-post", .app = "a", .state = "s" };
	struct logout_state l = { .user = "alice" };
	struct session_sp sp = { .entity_id = "https://sp", .state = "x", .when = T0 };
	struct failures f;
	unsigned char h[32];
	const char *err = NULL;

	/* Sessions: expired by lifetime, expired by idleness, live, exactly at the limits. */
	add_session(fx, "dead-lifetime", "alice", now - 10, now - 1);
	add_session(fx, "dead-idle", "alice", now - idle - 1, now + 3600);
	add_session(fx, "live", "alice", now - 5, now + 3600);
	add_session(fx, "edge", "bob", now - idle, now);
	hash_of("dead-idle", h);
	assert_int_equal(store_session_sso(fx->st, T, h, "_x", now + 100, &sp, now - idle - 1,
	    NULL, &err), 0);
	/* Pending logins and logout states by their expiry. */
	p.expires = now - 1;
	store_pending_put(fx->st, T, "p-old", &p);
	p.expires = now;
	store_pending_put(fx->st, T, "p-edge", &p);
	p.expires = now + 60;
	store_pending_put(fx->st, T, "p-new", &p);
	l.expires = now - 1;
	store_logout_put(fx->st, T, "l-old", &l);
	l.expires = now + 1;
	store_logout_put(fx->st, T, "l-new", &l);
	/* Replay entries by their "until". */
	store_replay_check(fx->st, T, "saml", "r-old", now - 1);
	store_replay_check(fx->st, T, "saml", "r-new", now + 1);
	/* Failure counters a day after their last failure. */
	store_failure_add(fx->st, T, "user", "f-old", now - 86401, 60, &f);
	store_failure_add(fx->st, T, "user", "f-new", now - 86400, 60, &f);

	/* 2 sessions + 1 pending + 1 logout + 1 replay + 1 failure counter. */
	assert_int_equal(store_expire(fx->st, now, idle), 6);
	assert_int_equal(session_exists(fx, "dead-lifetime"), 0);
	assert_int_equal(session_exists(fx, "dead-idle"), 0);
	assert_int_equal(session_exists(fx, "live"), 1);
	assert_int_equal(session_exists(fx, "edge"), 1);
	{
		struct pending got;

		assert_int_equal(store_pending_get(fx->st, T, "p-old", &got), 0);
		assert_int_equal(store_pending_get(fx->st, T, "p-edge", &got), 1);
		store_pending_clear(&got);
		assert_int_equal(store_pending_get(fx->st, T, "p-new", &got), 1);
		store_pending_clear(&got);
	}
	{
		struct logout_state got;

		assert_int_equal(store_logout_get(fx->st, T, "l-old", &got), 0);
		assert_int_equal(store_logout_get(fx->st, T, "l-new", &got), 1);
		store_logout_clear(&got);
	}
	assert_int_equal(store_replay_seen(fx->st, T, "saml", "r-old"), 0);
	assert_int_equal(store_replay_seen(fx->st, T, "saml", "r-new"), 1);
	/* "_x" was recorded by the SSO with until = now + 100. */
	assert_int_equal(store_replay_seen(fx->st, T, "saml", "_x"), 1);
	assert_int_equal(store_failure_get(fx->st, T, "user", "f-old", &f), 0);
	assert_int_equal(store_failure_get(fx->st, T, "user", "f-new", &f), 1);
	/* An expired session takes its SPs and its user-index entry along. */
	assert_int_equal(raw_count(fx, "session_sps"), 0);
	assert_int_equal(raw_count(fx, "user_sessions"), 2);
	/* Nothing is left to expire. */
	assert_int_equal(store_expire(fx->st, now, idle), 0);
}

/* ---- concurrency ---- */

#define RESERVE_THREADS 64
#define RESERVE_LIMIT 10

struct reserve_arg {
	struct store *st;
	pthread_barrier_t *go;
	int gate;
	uint64_t count;
};

static int
gate_limit(const struct failures *user, const struct failures *ip, void *arg)
{
	return user->count < RESERVE_LIMIT ? 0 : 2;
}

static void *
reserve_thread(void *p)
{
	struct reserve_arg *a = p;
	struct failures f;

	pthread_barrier_wait(a->go);
	a->gate = store_failure_reserve(a->st, T, "alice", "192.0.2.7", T0, 3600, gate_limit,
	    NULL, &f);
	a->count = f.count;
	return NULL;
}

/* 64 parallel attempts against a limit of 10: exactly 10 are let through. */
static void
test_store_session_failure_reserve_concurrent(void **state)
{
	struct fx *fx = *state;
	struct reserve_arg args[RESERVE_THREADS];
	pthread_t th[RESERVE_THREADS];
	pthread_barrier_t go;
	int open = 0;

	pthread_barrier_init(&go, NULL, RESERVE_THREADS);
	for (int i = 0; i < RESERVE_THREADS; i++) {
		args[i] = (struct reserve_arg){ .st = fx->st, .go = &go };
		assert_int_equal(pthread_create(&th[i], NULL, reserve_thread, &args[i]), 0);
	}
	for (int i = 0; i < RESERVE_THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	for (int i = 0; i < RESERVE_THREADS; i++) {
		assert_true(args[i].gate == 0 || args[i].gate == 2);
		assert_int_equal(args[i].gate == 0, args[i].count <= RESERVE_LIMIT);
		open += args[i].gate == 0;
	}
	assert_int_equal(open, RESERVE_LIMIT);
}

#define FAIL_THREADS 8
#define FAIL_PER_THREAD 100

struct fail_arg {
	struct store *st;
	pthread_barrier_t *go;
	uint64_t seen[FAIL_PER_THREAD];
	int errors;
};

static void *
fail_thread(void *p)
{
	struct fail_arg *a = p;

	pthread_barrier_wait(a->go);
	for (int i = 0; i < FAIL_PER_THREAD; i++) {
		struct failures f;

		if (store_failure_add(a->st, T, "user", "alice", T0, 3600, &f) != 0)
			a->errors++;
		a->seen[i] = f.count;
	}
	return NULL;
}

static void
test_store_session_failure_add_concurrent(void **state)
{
	struct fx *fx = *state;
	struct fail_arg args[FAIL_THREADS];
	pthread_t th[FAIL_THREADS];
	pthread_barrier_t go;
	unsigned char hit[FAIL_THREADS * FAIL_PER_THREAD + 1] = { 0 };
	struct failures f;

	pthread_barrier_init(&go, NULL, FAIL_THREADS);
	for (int i = 0; i < FAIL_THREADS; i++) {
		args[i] = (struct fail_arg){ .st = fx->st, .go = &go };
		assert_int_equal(pthread_create(&th[i], NULL, fail_thread, &args[i]), 0);
	}
	for (int i = 0; i < FAIL_THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	assert_int_equal(store_failure_get(fx->st, T, "user", "alice", &f), 1);
	assert_int_equal(f.count, FAIL_THREADS * FAIL_PER_THREAD);
	/* Each add saw a distinct count: no two read the same old value. */
	for (int i = 0; i < FAIL_THREADS; i++) {
		assert_int_equal(args[i].errors, 0);
		for (int j = 0; j < FAIL_PER_THREAD; j++) {
			uint64_t c = args[i].seen[j];

			assert_true(c >= 1 && c <= FAIL_THREADS * FAIL_PER_THREAD);
			assert_int_equal(hit[c], 0);
			hit[c] = 1;
		}
	}
}

#define SSO_THREADS 20

struct sso_arg {
	struct store *st;
	pthread_barrier_t *go;
	int rc;
	const char *err;
};

static void *
sso_thread(void *p)
{
	struct sso_arg *a = p;
	struct session_sp sp = { .entity_id = "https://sp1", .state = "dump", .when = T0 };
	unsigned char h[32];

	hash_of("cookie", h);
	pthread_barrier_wait(a->go);
	a->rc = store_session_sso(a->st, T, h, "_the-one-request", T0 + 600, &sp, T0 + 1, NULL,
	    &a->err);
	return NULL;
}

static void
test_store_session_sso_concurrent_replay(void **state)
{
	struct fx *fx = *state;
	struct sso_arg args[SSO_THREADS];
	pthread_t th[SSO_THREADS];
	pthread_barrier_t go;
	int ok = 0, replayed = 0;

	add_session(fx, "cookie", "alice", T0, T0 + 3600);
	pthread_barrier_init(&go, NULL, SSO_THREADS);
	for (int i = 0; i < SSO_THREADS; i++) {
		args[i] = (struct sso_arg){ .st = fx->st, .go = &go };
		assert_int_equal(pthread_create(&th[i], NULL, sso_thread, &args[i]), 0);
	}
	for (int i = 0; i < SSO_THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	for (int i = 0; i < SSO_THREADS; i++) {
		if (args[i].rc == 0)
			ok++;
		else if (args[i].err && !strcmp(args[i].err, "replayed request"))
			replayed++;
	}
	assert_int_equal(ok, 1);
	assert_int_equal(replayed, SSO_THREADS - 1);
	assert_int_equal(session_sp_count(fx, "cookie"), 1);
}

/*
 * Suspending a tenant ends every SSO session of it and none of another tenant's, in the
 * commit that records the suspension (with the count) and moves the generation; resuming
 * ends nothing; an unknown tenant is 0.
 */
static void
test_store_session_tenant_suspend(void **state)
{
	struct fx *fx = *state;
	struct tenant t = { .id = T, .name = T, .created = T0 }, got;
	struct session other = { .user = "u1", .methods = "pwd", .created = T0,
		.last_seen = T0, .authn_instant = T0, .expires = T0 + 3600 };
	struct audit_entry ae;
	const char *err = NULL;
	unsigned char h[32];
	uint64_t gen;
	char *audit;
	int ended = -1;

	assert_int_equal(store_tenant_add(fx->st, &t, &err), 0);
	add_user(fx, T, "alice", NULL);
	add_user(fx, T, "bob", NULL);
	add_session(fx, "c1", "alice", T0, T0 + 3600);
	add_session(fx, "c2", "alice", T0, T0 + 3600);
	add_session(fx, "c3", "bob", T0, T0 + 3600);
	hash_of("c4", h);
	assert_int_equal(store_session_add(fx->st, "other", h, &other), 0);
	gen = fx_generation(fx, T);
	audit_entry_make(&ae, "operator.tenant.suspend", "tenant", T, NULL);
	assert_int_equal(store_tenant_suspend(fx->st, T, T0 + 5, &ae, &ended, &err), 1);
	assert_int_equal(ended, 3);
	assert_int_equal(session_exists(fx, "c1") + session_exists(fx, "c2") +
	    session_exists(fx, "c3"), 0);
	assert_int_equal(store_session_get(fx->st, "other", h, &other), 1);
	store_session_clear(&other);
	assert_int_equal(store_tenant_get(fx->st, T, &got), 1);
	assert_int_equal(got.suspended, T0 + 5);
	store_tenant_clear(&got);
	assert_true(fx_generation(fx, T) > gen);
	audit = fx_audit_text(fx, T);
	assert_non_null(strstr(audit, "operator.tenant.suspend tenant=" T " sessions_ended=3"));
	free(audit);
	assert_int_equal(store_tenant_suspend(fx->st, T, 0, NULL, &ended, &err), 1);
	assert_int_equal(ended, 0);
	assert_int_equal(store_tenant_get(fx->st, T, &got), 1);
	assert_int_equal(got.suspended, 0);
	store_tenant_clear(&got);
	assert_int_equal(store_tenant_suspend(fx->st, "nosuch", T0, NULL, &ended, &err), 0);
}

int
main(void)
{
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		TEST(test_store_session_lifecycle),
		TEST(test_store_session_sso_audit_same_transaction),
		TEST(test_store_session_sso),
		TEST(test_store_session_sso_ended),
		TEST(test_store_session_disable_ends_sessions),
		TEST(test_store_session_replay),
		TEST(test_store_session_pending),
		TEST(test_store_session_logout_states),
		TEST(test_store_session_failures),
		TEST(test_store_session_failure_reserve),
		TEST(test_store_session_expire),
		TEST(test_store_session_failure_add_concurrent),
		TEST(test_store_session_failure_reserve_concurrent),
		TEST(test_store_session_sso_concurrent_replay),
		TEST(test_store_session_tenant_suspend),
	};
#undef TEST

	return cmocka_run_group_tests(tests, NULL, NULL);
}
