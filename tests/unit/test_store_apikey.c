/*
 * Unit tests for policies/store_apikey.c on a real LMDB environment: keys added, found by
 * name in any case and by id, listed by name, suspended and removed; and
 * store_apikey_hit's limits: a wrong hash counts nothing, 1 call per second (20 threads
 * at the same instant: exactly one allowed), 5000 per UTC month with the first refusal
 * reported once, a new month counting from 0, a clock stepped back that resets nothing,
 * counters kept across a reopen, expired and suspended keys refused.
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

#define KEY_ID "0123456789abcdef"
/* 2024-03-10T00:00:00Z and the start of April 2024, in ms */
#define MARCH_MS 1710028800000LL
#define APRIL_MS 1711929600000LL
#define MARCH ((uint64_t)2024 * 12 + 2)

static void
key_hash(unsigned char h[32])
{
	hash_of("sks_" KEY_ID "_secret", h);
}

static void
add_key_full(struct fx *fx, const char *name, const char *id, uint64_t expires,
    uint64_t suspended)
{
	struct apikey k = { .id = (char *)id, .name = (char *)name,
		.scopes = APIKEY_SCOPE_READ | APIKEY_SCOPE_WRITE, .created = T0,
		.expires = expires, .suspended = suspended, .created_by = "root" };
	const char *err = NULL;

	key_hash(k.hash);
	if (store_apikey_add(fx->st, T, &k, NULL, &err) != 0)
		fail_msg("add %s: %s", name, err);
}

static void
add_key(struct fx *fx)
{
	add_key_full(fx, "hr-sync", KEY_ID, 0, 0);
}

/* One call at now_ms with the right hash; the verdict. */
static enum apikey_verdict
hit(struct fx *fx, int64_t now_ms, struct apikey_hit *r)
{
	unsigned char h[32];
	struct apikey_hit own;
	enum apikey_verdict v;

	key_hash(h);
	if (r == NULL)
		r = &own;
	assert_int_equal(store_apikey_hit(fx->st, T, KEY_ID, h, now_ms, r), 0);
	v = r->verdict;
	if (r == &own)
		store_apikey_hit_clear(r);
	return v;
}

static void
get_key(struct fx *fx, struct apikey *k)
{
	assert_int_equal(store_apikey_get_by_id(fx->st, T, KEY_ID, k), 1);
}

/* ---- records ---- */

static void
name_cb(const void *rec, void *arg)
{
	const struct apikey *k = rec;

	buf_printf(arg, "%s:%s ", k->name, k->id);
}

static void
test_apikey_add_get_list_remove(void **state)
{
	struct fx *fx = *state;
	unsigned char h[32];
	const char *err = NULL;
	struct apikey k, dup;
	struct buf b;

	add_key(fx);
	add_key_full(fx, "backup", "fedcba9876543210", 0, 0);
	assert_int_equal(store_apikey_get(fx->st, T, "HR-Sync", &k), 1);
	assert_string_equal(k.id, KEY_ID);
	assert_string_equal(k.name, "hr-sync");
	assert_string_equal(k.created_by, "root");
	assert_int_equal(k.scopes, APIKEY_SCOPE_READ | APIKEY_SCOPE_WRITE);
	key_hash(h);
	assert_memory_equal(k.hash, h, 32);
	/* the same name in another case, or the same id, is refused */
	dup = k;
	dup.name = "HR-SYNC";
	dup.id = "1111111111111111";
	assert_int_equal(store_apikey_add(fx->st, T, &dup, NULL, &err), -1);
	assert_string_equal(err, "an API key with this name exists");
	dup.name = "other";
	dup.id = KEY_ID;
	assert_int_equal(store_apikey_add(fx->st, T, &dup, NULL, &err), -1);
	dup.name = "bad name";
	assert_int_equal(store_apikey_add(fx->st, T, &dup, NULL, &err), -1);
	store_apikey_clear(&k);
	assert_int_equal(store_apikey_get(fx->st, "other", "hr-sync", &k), 0);
	assert_int_equal(store_apikey_get_by_id(fx->st, "other", KEY_ID, &k), 0);
	buf_init(&b, 0);
	assert_int_equal(store_apikey_list(fx->st, T, name_cb, &b), 0);
	assert_string_equal(b.data, "backup:fedcba9876543210 hr-sync:" KEY_ID " ");
	buf_free(&b);
	assert_int_equal(store_apikey_set_suspended(fx->st, T, "hr-sync", 1, NULL), 1);
	get_key(fx, &k);
	assert_int_equal(k.suspended, 1);
	store_apikey_clear(&k);
	assert_int_equal(store_apikey_set_suspended(fx->st, T, "nobody", 1, NULL), 0);
	assert_int_equal(store_apikey_remove(fx->st, T, "HR-SYNC", NULL), 1);
	assert_int_equal(store_apikey_remove(fx->st, T, "hr-sync", NULL), 0);
	assert_int_equal(store_apikey_get_by_id(fx->st, T, KEY_ID, &k), 0);
	assert_int_equal(raw_count(fx, "apikeys"), 1);
	assert_int_equal(raw_count(fx, "apikeys_by_name"), 1);
}

/* ---- hits ---- */

static void
test_apikey_wrong_hash_counts_nothing(void **state)
{
	struct fx *fx = *state;
	unsigned char h[32];
	struct apikey_hit r;
	struct apikey k;

	add_key(fx);
	hash_of("sks_" KEY_ID "_wrong", h);
	assert_int_equal(store_apikey_hit(fx->st, T, KEY_ID, h, MARCH_MS, &r), 0);
	assert_int_equal(r.verdict, APIKEY_UNKNOWN);
	assert_null(r.name);
	store_apikey_hit_clear(&r);
	assert_int_equal(store_apikey_hit(fx->st, T, "ffffffffffffffff", h, MARCH_MS, &r), 0);
	assert_int_equal(r.verdict, APIKEY_UNKNOWN);
	key_hash(h);
	assert_int_equal(store_apikey_hit(fx->st, "other", KEY_ID, h, MARCH_MS, &r), 0);
	assert_int_equal(r.verdict, APIKEY_UNKNOWN);
	get_key(fx, &k);
	assert_int_equal(k.month_calls, 0);
	assert_int_equal(k.total_calls, 0);
	assert_int_equal(k.last_ms, 0);
	store_apikey_clear(&k);
	/* so the real key's next call is not held back by the wrong one */
	assert_int_equal(hit(fx, MARCH_MS, NULL), APIKEY_OK);
}

static void
test_apikey_one_per_second(void **state)
{
	struct fx *fx = *state;
	struct apikey_hit r;
	struct apikey k;

	add_key(fx);
	assert_int_equal(hit(fx, MARCH_MS, &r), APIKEY_OK);
	assert_string_equal(r.name, "hr-sync");
	assert_int_equal(r.scopes, APIKEY_SCOPE_READ | APIKEY_SCOPE_WRITE);
	assert_int_equal(r.remaining, APIKEY_PER_MONTH - 1);
	assert_int_equal(r.reset_s, (APRIL_MS - MARCH_MS) / 1000);
	store_apikey_hit_clear(&r);
	assert_int_equal(hit(fx, MARCH_MS + 999, &r), APIKEY_SECOND);
	assert_int_equal(r.retry_after_ms, 1);
	assert_int_equal(r.remaining, APIKEY_PER_MONTH - 1);
	store_apikey_hit_clear(&r);
	assert_int_equal(hit(fx, MARCH_MS + 1000, NULL), APIKEY_OK);
	/* a call before the last one counts as a new second */
	assert_int_equal(hit(fx, MARCH_MS - 5000, NULL), APIKEY_OK);
	get_key(fx, &k);
	assert_int_equal(k.month_calls, 3);
	assert_int_equal(k.total_calls, 3);
	assert_int_equal(k.last_ms, MARCH_MS - 5000);
	store_apikey_clear(&k);
}

#define THREADS 20

struct hit_arg {
	struct store *st;
	pthread_barrier_t *go;
	struct apikey_hit r;
	int rc;
};

static void *
hit_thread(void *p)
{
	struct hit_arg *a = p;
	unsigned char h[32];

	key_hash(h);
	pthread_barrier_wait(a->go);
	a->rc = store_apikey_hit(a->st, T, KEY_ID, h, MARCH_MS, &a->r);
	return NULL;
}

static void
test_apikey_burst_one_allowed(void **state)
{
	struct fx *fx = *state;
	struct hit_arg args[THREADS];
	pthread_t th[THREADS];
	pthread_barrier_t go;
	int ok = 0, second = 0;
	struct apikey k;

	add_key(fx);
	pthread_barrier_init(&go, NULL, THREADS);
	for (int i = 0; i < THREADS; i++) {
		args[i] = (struct hit_arg){ .st = fx->st, .go = &go };
		assert_int_equal(pthread_create(&th[i], NULL, hit_thread, &args[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(args[i].rc, 0);
		ok += args[i].r.verdict == APIKEY_OK;
		second += args[i].r.verdict == APIKEY_SECOND && args[i].r.retry_after_ms == 1000;
		store_apikey_hit_clear(&args[i].r);
	}
	assert_int_equal(ok, 1);
	assert_int_equal(second, THREADS - 1);
	get_key(fx, &k);
	assert_int_equal(k.month_calls, 1);
	store_apikey_clear(&k);
}

/* The month's calls, one a second from the 10th of March. */
static void
use_month(struct fx *fx, int n)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(hit(fx, MARCH_MS + (int64_t)i * 1000, NULL), APIKEY_OK);
}

static void
test_apikey_month(void **state)
{
	struct fx *fx = *state;
	int64_t now = MARCH_MS + (int64_t)APIKEY_PER_MONTH * 1000;
	struct apikey_hit r;
	struct apikey k;

	add_key(fx);
	use_month(fx, APIKEY_PER_MONTH);
	assert_int_equal(hit(fx, now, &r), APIKEY_MONTH);
	assert_int_equal(r.exhausted_now, 1);
	assert_int_equal(r.remaining, 0);
	assert_int_equal(r.retry_after_ms, APRIL_MS - now);
	store_apikey_hit_clear(&r);
	assert_int_equal(hit(fx, now + 1000, &r), APIKEY_MONTH);
	assert_int_equal(r.exhausted_now, 0);
	assert_int_equal(r.retry_after_ms, APRIL_MS - now - 1000);
	store_apikey_hit_clear(&r);
	get_key(fx, &k);
	assert_int_equal(k.month_calls, APIKEY_PER_MONTH);
	assert_int_equal(k.quota_month, MARCH);
	assert_int_equal(k.total_calls, APIKEY_PER_MONTH);
	store_apikey_clear(&k);
	/* the last millisecond of March, then April counts from 0 */
	assert_int_equal(hit(fx, APRIL_MS - 1, NULL), APIKEY_MONTH);
	assert_int_equal(hit(fx, APRIL_MS, &r), APIKEY_OK);
	assert_int_equal(r.remaining, APIKEY_PER_MONTH - 1);
	store_apikey_hit_clear(&r);
	get_key(fx, &k);
	assert_int_equal(k.month_calls, 1);
	assert_int_equal(k.total_calls, APIKEY_PER_MONTH + 1);
	store_apikey_clear(&k);
}

/* A clock stepped back into March after April began: April's count goes on. */
static void
test_apikey_clock_back(void **state)
{
	struct fx *fx = *state;
	struct apikey k;

	add_key(fx);
	assert_int_equal(hit(fx, APRIL_MS + 5000, NULL), APIKEY_OK);
	assert_int_equal(hit(fx, MARCH_MS, NULL), APIKEY_OK);
	assert_int_equal(hit(fx, MARCH_MS + 1000, NULL), APIKEY_OK);
	get_key(fx, &k);
	assert_int_equal(k.month, MARCH + 1);
	assert_int_equal(k.month_calls, 3);
	store_apikey_clear(&k);
}

/* An exhausted month stays exhausted when the clock steps back into the month before. */
static void
test_apikey_clock_back_keeps_quota(void **state)
{
	struct fx *fx = *state;
	struct apikey_hit r;

	add_key(fx);
	use_month(fx, APIKEY_PER_MONTH);
	assert_int_equal(hit(fx, APRIL_MS - 1, NULL), APIKEY_MONTH);
	assert_int_equal(hit(fx, MARCH_MS - 40LL * 86400 * 1000, &r), APIKEY_MONTH);
	assert_int_equal(r.exhausted_now, 0);
	store_apikey_hit_clear(&r);
}

static void
test_apikey_restart_keeps_counts(void **state)
{
	struct fx *fx = *state;
	struct apikey_hit r;

	add_key(fx);
	use_month(fx, 3);
	fx_reopen(fx);
	assert_int_equal(hit(fx, MARCH_MS + 2500, &r), APIKEY_SECOND);
	store_apikey_hit_clear(&r);
	assert_int_equal(hit(fx, MARCH_MS + 3000, &r), APIKEY_OK);
	assert_int_equal(r.remaining, APIKEY_PER_MONTH - 4);
	store_apikey_hit_clear(&r);
}

static void
test_apikey_expired_suspended(void **state)
{
	struct fx *fx = *state;
	unsigned char h[32];
	struct apikey_hit r;
	struct apikey k;

	add_key_full(fx, "old", KEY_ID, (uint64_t)(MARCH_MS / 1000), 0);
	assert_int_equal(hit(fx, MARCH_MS - 1000, NULL), APIKEY_OK);
	assert_int_equal(hit(fx, MARCH_MS, &r), APIKEY_EXPIRED);
	assert_string_equal(r.name, "old");
	store_apikey_hit_clear(&r);
	assert_int_equal(store_apikey_remove(fx->st, T, "old", NULL), 1);
	add_key_full(fx, "off", KEY_ID, 0, 1);
	assert_int_equal(hit(fx, MARCH_MS, NULL), APIKEY_SUSPENDED);
	assert_int_equal(store_apikey_set_suspended(fx->st, T, "off", 0, NULL), 1);
	assert_int_equal(hit(fx, MARCH_MS, NULL), APIKEY_OK);
	get_key(fx, &k);
	assert_int_equal(k.month_calls, 1);
	store_apikey_clear(&k);
	key_hash(h);
	assert_int_equal(store_apikey_hit(fx->st, T, "not-an-id", h, MARCH_MS, &r), 0);
	assert_int_equal(r.verdict, APIKEY_UNKNOWN);
}

/* ---- renames ---- */

static void
test_rename_user_group(void **state)
{
	struct fx *fx = *state;
	const char *err = NULL;
	struct grouprec g;
	struct user u;
	char *id, **members;

	add_user(fx, T, "alice", NULL);
	add_user(fx, T, "bob", NULL);
	id = user_id(fx, T, "alice");
	assert_int_equal(store_user_rename(fx->st, T, "alice", "BOB", NULL, &err), -1);
	assert_string_equal(err, "user already exists");
	assert_int_equal(store_user_rename(fx->st, T, "alice", "a b", NULL, &err), -1);
	assert_int_equal(store_user_rename(fx->st, T, "nobody", "x", NULL, &err), 0);
	assert_int_equal(store_user_rename(fx->st, T, "ALICE", "Alice2", NULL, &err), 1);
	assert_int_equal(store_user_get(fx->st, T, "alice", &u), 0);
	assert_int_equal(store_user_get(fx->st, T, "alice2", &u), 1);
	assert_string_equal(u.id, id);
	assert_string_equal(u.name, "Alice2");
	store_user_clear(&u);
	free(id);
	assert_int_equal(store_group_add(fx->st, T, "staff", NULL, &err), 0);
	assert_int_equal(store_group_add(fx->st, T, "ops", NULL, &err), 0);
	assert_int_equal(store_member_add(fx->st, T, "staff", "bob", NULL, &err), 0);
	assert_int_equal(store_group_rename(fx->st, T, "staff", "ops", NULL, &err), -1);
	assert_string_equal(err, "group already exists");
	assert_int_equal(store_group_rename(fx->st, T, "nope", "x", NULL, &err), 0);
	assert_int_equal(store_group_rename(fx->st, T, "staff", "team", NULL, &err), 1);
	assert_int_equal(store_group_get(fx->st, T, "staff", &g), 0);
	assert_int_equal(store_group_get(fx->st, T, "team", &g), 1);
	id = xstrdup(g.id);
	store_group_clear(&g);
	assert_int_equal(store_group_get_by_id(fx->st, T, id, &g), 1);
	assert_string_equal(g.name, "team");
	store_group_clear(&g);
	assert_int_equal(store_group_get_by_id(fx->st, "other", id, &g), 0);
	free(id);
	assert_int_equal(store_group_members(fx->st, T, "team", &members), 1);
	assert_string_equal(members[0], "bob");
	assert_null(members[1]);
	store_strv_free(members);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		TEST(test_apikey_add_get_list_remove),
		TEST(test_apikey_wrong_hash_counts_nothing),
		TEST(test_apikey_one_per_second),
		TEST(test_apikey_burst_one_allowed),
		TEST(test_apikey_month),
		TEST(test_apikey_clock_back),
		TEST(test_apikey_clock_back_keeps_quota),
		TEST(test_apikey_restart_keeps_counts),
		TEST(test_apikey_expired_suspended),
		TEST(test_rename_user_group),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
