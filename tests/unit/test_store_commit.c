/*
 * Unit tests for group commit (policies/store.c, store_run): concurrent write transactions
 * share one durable commit, each in its own nested transaction, so a failure rolls back
 * alone, later ones see earlier ones' writes (one-time IDs, counters, the audit chain),
 * a full map is handled per request, and no owner returns before its commit; a write
 * from inside another transaction is refused.
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

#include "store.h"
#include "store_int.h"
#include "xmalloc.h"

#include "store_fixture.h"

#define MANY 64
#define BIG (3 << 20)	/* larger than the 1 MiB map the full-map tests start with */

struct worker {
	struct store *st;
	int i;
	int fail;	/* the index of the worker whose transaction fails on purpose, or -1 */
	int big;	/* the index of the worker that writes BIG bytes, or -1 */
	int rounds;	/* transactions per worker when running freely */
	const char *id;	/* the one-time ID replay_thread uses */
	int rc;
	int seen;	/* its write was visible to a read as soon as store_run returned */
};

static void
test_key(struct store_key *k, const char *name, int i)
{
	char n[32];

	snprintf(n, sizeof(n), "%s-%d", name, i);
	skey_init(k, T);
	skey_add(k, "commit-test");
	skey_add(k, n);
}

/* Read-modify-write of one shared counter: only atomic if each sees the ones before. */
static int
counter_bump(struct store_txn *t)
{
	struct store_key k;
	const void *v;
	size_t len;
	uint64_t n = 0;
	int rc;

	test_key(&k, "counter", 0);
	if ((rc = stx_get(t, DB_META, &k, &v, &len)) < 0)
		return -1;
	if (rc == 1 && len == sizeof(n))
		memcpy(&n, v, sizeof(n));
	n++;
	return stx_put(t, DB_META, &k, &n, sizeof(n), 0) == 0 ? 0 : -1;
}

static int
counter_tx(struct store_txn *t, void *arg)
{
	int *n = arg;
	const void *v;
	size_t len;
	struct store_key k;

	test_key(&k, "counter", 0);
	*n = 0;
	if (stx_get(t, DB_META, &k, &v, &len) == 1 && len == sizeof(uint64_t)) {
		uint64_t u;
		memcpy(&u, v, sizeof(u));
		*n = (int)u;
	}
	return 0;
}

static int
counter(struct fx *fx)
{
	int n;

	assert_int_equal(store_run(fx->st, 0, counter_tx, &n), 0);
	return n;
}

/* Bump the counter and leave a mark; worker fail does both and then fails. */
static int
bump_tx(struct store_txn *t, void *arg)
{
	struct worker *w = arg;
	struct store_key k;

	if (counter_bump(t) < 0)
		return -1;
	test_key(&k, "mark", w->i);
	if (w->i == w->big) {
		void *blob = xcalloc(1, BIG);
		int rc = stx_put(t, DB_META, &k, blob, BIG, 0);
		free(blob);
		if (rc != 0)
			return -1;
	} else if (stx_put(t, DB_META, &k, "x", 1, 0) != 0) {
		return -1;
	}
	return w->i == w->fail ? -5 : w->i;
}

/* 1 when worker i's mark is stored (its size in *len_r). */
static int
mark_get_tx(struct store_txn *t, void *arg)
{
	size_t *len = arg;
	const void *v;
	struct store_key k;

	test_key(&k, "mark", (int)*len);
	return stx_get(t, DB_META, &k, &v, len);
}

static int
mark_stored(struct store *st, int i, size_t *len_r)
{
	size_t len = (size_t)i;
	int rc = store_run(st, 0, mark_get_tx, &len);

	if (len_r)
		*len_r = len;
	return rc;
}

static void *
bump_thread(void *p)
{
	struct worker *w = p;

	w->rc = store_run(w->st, 1, bump_tx, w);
	w->seen = mark_stored(w->st, w->i, NULL) == 1;
	return NULL;
}

/*
 * Run n workers of fn at once; with one_commit, the committer is held until all n are
 * queued, so they all go into one batch.  The commits and writes they made.
 */
static void
run_workers(struct fx *fx, int n, void *(*fn)(void *), struct worker *w, int one_commit,
    struct store_commit_stats *made)
{
	struct store_commit_stats a, b;
	struct fx_hold *h = NULL;
	pthread_t th[MANY];

	assert_true(n <= MANY);
	store_commit_stats(fx->st, &a);
	if (one_commit)
		h = fx_hold_start(fx, (uint64_t)n);
	for (int i = 0; i < n; i++) {
		w[i].st = fx->st;
		w[i].i = i;
		w[i].rc = -99;
		assert_int_equal(pthread_create(&th[i], NULL, fn, &w[i]), 0);
	}
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	if (h)
		fx_hold_end(h);
	store_commit_stats(fx->st, &b);
	made->commits = b.commits - a.commits;
	made->writes = b.writes - a.writes;
	assert_int_equal(b.queued, 0);
}

static void
workers_init(struct worker *w, int n, int fail, int big)
{
	memset(w, 0, (size_t)n * sizeof(*w));
	for (int i = 0; i < n; i++) {
		w[i].fail = fail;
		w[i].big = big;
	}
}

/* ---- one commit for many ---- */

static void
test_store_commit_shares_one_commit(void **state)
{
	struct fx *fx = *state;
	struct worker w[16];
	struct store_commit_stats made;

	workers_init(w, 16, -1, -1);
	run_workers(fx, 16, bump_thread, w, 1, &made);
	assert_int_equal(made.commits, 1);
	assert_int_equal(made.writes, 16);
	/* Each saw all the ones before it: no increment is lost. */
	assert_int_equal(counter(fx), 16);
	for (int i = 0; i < 16; i++) {
		assert_int_equal(w[i].rc, i);	/* each owner gets its own result */
		assert_true(w[i].seen);		/* and only once its write committed */
	}
}

static void
test_store_commit_failure_rolls_back_alone(void **state)
{
	struct fx *fx = *state;
	struct worker w[9];
	struct store_commit_stats made;

	workers_init(w, 9, 4, -1);
	run_workers(fx, 9, bump_thread, w, 1, &made);
	assert_int_equal(made.commits, 1);
	assert_int_equal(made.writes, 8);
	/* Worker 4 bumped the counter and left its mark, then failed: neither stays. */
	assert_int_equal(w[4].rc, -5);
	assert_int_equal(mark_stored(fx->st, 4, NULL), 0);
	assert_int_equal(counter(fx), 8);
	for (int i = 0; i < 9; i++) {
		if (i == 4)
			continue;
		assert_int_equal(w[i].rc, i);
		assert_int_equal(mark_stored(fx->st, i, NULL), 1);
	}
}

/* ---- a full map, per request ---- */

static void
test_store_commit_map_full_grows(void **state)
{
	struct fx *fx;
	struct worker w[5];
	struct store_commit_stats made;
	size_t len;

	log_set_sink(quiet_sink, NULL);
	fx = fx_new(1 << 20, 64 << 20);

	workers_init(w, 5, -1, 2);
	run_workers(fx, 5, bump_thread, w, 1, &made);
	/* The others committed at once; worker 2's write was retried once the map had grown. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(w[i].rc, i);
	assert_int_equal(made.writes, 5);
	assert_int_equal(made.commits, 2);
	assert_int_equal(mark_stored(fx->st, 2, &len), 1);
	assert_int_equal(len, BIG);
	assert_int_equal(counter(fx), 5);
	*state = fx;
	teardown(state);
	*state = NULL;
}

static void
test_store_commit_map_full_alone(void **state)
{
	struct fx *fx;
	struct worker w[5];
	struct store_commit_stats made;

	log_set_sink(quiet_sink, NULL);
	fx = fx_new(1 << 20, 1 << 20);

	workers_init(w, 5, -1, 2);
	run_workers(fx, 5, bump_thread, w, 1, &made);
	/* The map cannot grow: worker 2 is told so; the others' writes are stored. */
	assert_int_equal(w[2].rc, STORE_FULL);
	assert_int_equal(mark_stored(fx->st, 2, NULL), 0);
	for (int i = 0; i < 5; i++)
		if (i != 2)
			assert_int_equal(w[i].rc, i);
	assert_int_equal(made.commits, 1);
	assert_int_equal(made.writes, 4);
	assert_int_equal(counter(fx), 4);
	*state = fx;
	teardown(state);
	*state = NULL;
}

/* ---- invariants across one batch ---- */

static void *
replay_thread(void *p)
{
	struct worker *w = p;

	w->rc = store_replay_check(w->st, T, "saml", w->id, T0 + 600);
	return NULL;
}

static void
test_store_commit_replay_once(void **state)
{
	struct fx *fx = *state;
	struct worker w[MANY];
	struct store_commit_stats made;

	for (int round = 0; round < 2; round++) {
		int first = 0, again = 0;

		workers_init(w, MANY, -1, -1);
		for (int i = 0; i < MANY; i++)	/* first all in one batch, then as they come */
			w[i].id = round == 0 ? "_id-held" : "_id-free";
		run_workers(fx, MANY, replay_thread, w, round == 0, &made);
		for (int i = 0; i < MANY; i++) {
			first += w[i].rc == 0;
			again += w[i].rc == 1;
		}
		assert_int_equal(first, 1);
		assert_int_equal(again, MANY - 1);
		if (round == 0)
			assert_int_equal(made.commits, 1);
	}
}

/* Append to the audit chain, then fail: the record must not stay or break the chain. */
static int
audit_fail_tx(struct store_txn *t, void *arg)
{
	return stx_audit_append(t, T, T0, "test.rolled-back", "i=bad") == 0 ? -1 : -2;
}

static void *
audit_thread(void *p)
{
	struct worker *w = p;
	char fields[32];

	if (w->i == w->fail) {
		w->rc = store_run(w->st, 1, audit_fail_tx, w);
		return NULL;
	}
	snprintf(fields, sizeof(fields), "i=%d", w->i);
	w->rc = store_audit_append(w->st, T, T0 + w->i, "test.event", fields);
	return NULL;
}

static void
count_rec(const struct audit_rec *r, void *arg)
{
	int *n = arg;

	assert_string_equal(r->event, "test.event");
	assert_int_equal(r->seq, (uint64_t)*n + 1);
	(*n)++;
}

static void
test_store_commit_audit_chain(void **state)
{
	struct fx *fx = *state;
	struct worker w[17];
	struct store_commit_stats made;
	const char *err = NULL;
	uint64_t bad = 0;
	int n = 0;

	workers_init(w, 17, 8, -1);
	run_workers(fx, 17, audit_thread, w, 1, &made);
	assert_int_equal(made.commits, 1);
	assert_int_equal(w[8].rc, -1);
	for (int i = 0; i < 17; i++)
		if (i != 8)
			assert_int_equal(w[i].rc, 0);
	/* Sixteen records, numbered without a gap, each holding its predecessor's hash. */
	assert_int_equal(store_audit_list(fx->st, T, 0, count_rec, &n), 0);
	assert_int_equal(n, 16);
	if (store_audit_verify(fx->st, T, &bad, &err) != 0)
		fail_msg("audit chain: %s at %llu", err, (unsigned long long)bad);
}

/* ---- as requests come: the committer's role passes on, nothing is lost ---- */

static void *
free_thread(void *p)
{
	struct worker *w = p;

	w->rc = 0;
	for (int r = 0; r < w->rounds; r++) {
		int n;

		if (store_run(w->st, 1, bump_tx, w) != w->i)
			w->rc = -1;
		if (store_run(w->st, 0, counter_tx, &n) != 0 || n < r + 1)
			w->rc = -1;
	}
	return NULL;
}

static void
test_store_commit_as_they_come(void **state)
{
	struct fx *fx = *state;
	struct worker w[32];
	struct store_commit_stats made;

	workers_init(w, 32, -1, -1);
	for (int i = 0; i < 32; i++)
		w[i].rounds = 25;
	run_workers(fx, 32, free_thread, w, 0, &made);
	for (int i = 0; i < 32; i++)
		assert_int_equal(w[i].rc, 0);
	assert_int_equal(counter(fx), 32 * 25);
	assert_int_equal(made.writes, 32 * 25);
	assert_true(made.commits >= 1 && made.commits <= made.writes);
	print_message("# %llu write transactions in %llu commits\n",
	    (unsigned long long)made.writes, (unsigned long long)made.commits);
}

/* ---- no write from inside another transaction ---- */

static int
write_inside_tx(struct store_txn *t, void *arg)
{
	struct worker *w = arg;

	w->rc = store_run(w->st, 1, bump_tx, w);
	return 0;
}

static int
write_inside_write_tx(struct store_txn *t, void *arg)
{
	write_inside_tx(t, arg);
	return counter_bump(t);
}

static void
test_store_commit_no_write_inside_txn(void **state)
{
	struct fx *fx = *state;
	struct tenant t = { .id = "acme", .name = "Acme", .created = T0,
		.secret = (unsigned char *)"sealed", .secret_len = 6 };
	struct worker w;
	const char *err = NULL;
	char **ids;

	/* Queued there, it could wait for a committer that waits for this read to end. */
	workers_init(&w, 1, -1, -1);
	w.st = fx->st;
	assert_int_equal(store_run(fx->st, 0, write_inside_tx, &w), 0);
	assert_int_equal(w.rc, -1);
	assert_int_equal(counter(fx), 0);
	assert_int_equal(store_run(fx->st, 1, bump_tx, &w), 0);
	assert_int_equal(counter(fx), 1);
	/* Inside a write it would wait for itself. */
	assert_int_equal(store_run(fx->st, 1, write_inside_write_tx, &w), 0);
	assert_int_equal(w.rc, -1);
	assert_int_equal(counter(fx), 2);
	/* What writes per tenant lists the tenants first. */
	assert_int_equal(store_tenant_ids(fx->st, &ids), 0);
	assert_null(ids[0]);
	store_strv_free(ids);
	assert_int_equal(store_tenant_add(fx->st, &t, &err), 0);
	t.id = "acme2";
	assert_int_equal(store_tenant_add(fx->st, &t, &err), 0);
	assert_int_equal(store_tenant_ids(fx->st, &ids), 0);
	assert_string_equal(ids[0], "acme");
	assert_string_equal(ids[1], "acme2");
	assert_null(ids[2]);
	store_strv_free(ids);
}

int
main(void)
{
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		TEST(test_store_commit_shares_one_commit),
		TEST(test_store_commit_failure_rolls_back_alone),
		cmocka_unit_test(test_store_commit_map_full_grows),
		cmocka_unit_test(test_store_commit_map_full_alone),
		TEST(test_store_commit_replay_once),
		TEST(test_store_commit_audit_chain),
		TEST(test_store_commit_as_they_come),
		TEST(test_store_commit_no_write_inside_txn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
