/*
 * The store fixture shared by the store unit tests (see store_fixture.h).
 */
#include "config.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "buf.h"
#include "crypto.h"
#include "log.h"
#include "store.h"
#include "store_fixture.h"
#include "store_int.h"
#include "xmalloc.h"

/* ---- fixture: a fresh store in its own directory ---- */

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
rm_tree(const char *dir)
{
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

void
quiet_sink(enum log_level level, const char *line, void *arg)
{
}

struct fx *
fx_new(int64_t map_size, int64_t map_size_max)
{
	const char *tmp = getenv("TMPDIR");
	struct fx *fx = xcalloc(1, sizeof(*fx));
	const char *err = NULL;

	snprintf(fx->dir, sizeof(fx->dir), "%s/sekisho-store.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(fx->dir));
	fx->ss.map_size = map_size;
	fx->ss.map_size_max = map_size_max;
	fx->st = store_open(fx->dir, &fx->ss, &err);
	assert_non_null(fx->st);
	return fx;
}

void
fx_reopen(struct fx *fx)
{
	const char *err = NULL;

	store_close(fx->st);
	fx->st = store_open(fx->dir, &fx->ss, &err);
	assert_non_null(fx->st);
}

int
setup(void **state)
{
	log_set_sink(quiet_sink, NULL);
	*state = fx_new(1 << 20, 64 << 20);
	return 0;
}

int
teardown(void **state)
{
	struct fx *fx = *state;

	store_close(fx->st);
	rm_tree(fx->dir);
	free(fx);
	log_set_sink(NULL, NULL);
	return 0;
}

/* Entries in one named database, read with LMDB directly while the store is closed. */
size_t
raw_count(struct fx *fx, const char *db)
{
	char *path = xasprintf("%s/data", fx->dir);
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_stat ms;

	store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	assert_int_equal(mdb_env_open(env, path, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	assert_int_equal(mdb_stat(txn, dbi, &ms), 0);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	free(path);
	fx_reopen(fx);
	return ms.ms_entries;
}

/* The meta database of the closed store, opened with LMDB directly. */
static void
raw_meta(struct fx *fx, unsigned flags, MDB_env **env, MDB_txn **txn, MDB_dbi *dbi)
{
	char *path = xasprintf("%s/data", fx->dir);

	store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(mdb_env_create(env), 0);
	assert_int_equal(mdb_env_set_maxdbs(*env, 64), 0);
	assert_int_equal(mdb_env_open(*env, path, flags, 0600), 0);
	assert_int_equal(mdb_txn_begin(*env, NULL, flags, txn), 0);
	assert_int_equal(mdb_dbi_open(*txn, "meta", 0, dbi), 0);
	free(path);
}

void
fx_set_schema(struct fx *fx, const char *version)
{
	MDB_val k = { 6, "schema" }, v = { strlen(version), (void *)version };
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	raw_meta(fx, 0, &env, &txn, &dbi);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

char
fx_schema(struct fx *fx)
{
	MDB_val k = { 6, "schema" }, v;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	char c;

	raw_meta(fx, MDB_RDONLY, &env, &txn, &dbi);
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	assert_int_equal(v.mv_size, 1);
	c = *(char *)v.mv_data;
	mdb_txn_abort(txn);
	mdb_env_close(env);
	fx_reopen(fx);
	return c;
}

void
hash_of(const char *s, unsigned char h[32])
{
	crypto_sha256(s, strlen(s), h);
}

void
fx_add_tenant(struct fx *fx, const char *id)
{
	struct tenant t = { .id = (char *)id, .name = (char *)id, .created = T0 };
	const char *err = NULL;

	assert_int_equal(store_tenant_add(fx->st, &t, &err), 0);
}

void
add_user(struct fx *fx, const char *tenant, const char *name, const char *email)
{
	struct user u = { .name = (char *)name, .email = (char *)email,
		.display_name = "Someone", .pwhash = "$argon2id$x", .created = T0 };
	const char *err = NULL;
	int rc = store_user_add(fx->st, tenant, &u, NULL, &err);

	if (rc != 0)
		print_error("add %s: %s\n", name, err);
	assert_int_equal(rc, 0);
}

void
add_user_with_id(struct fx *fx, const char *tenant, const char *name, const char *id)
{
	struct user u = { .id = (char *)id, .name = (char *)name, .pwhash = "$argon2id$x",
		.created = T0 };
	const char *err = NULL;

	assert_int_equal(store_user_add(fx->st, tenant, &u, NULL, &err), 0);
}

char *
user_id(struct fx *fx, const char *tenant, const char *name)
{
	struct user u;
	char *id = NULL;

	if (store_user_get(fx->st, tenant, name, &u) == 1)
		id = xstrdup(u.id);
	store_user_clear(&u);
	return id;
}

void
set_policy(struct fx *fx, const char *kind, const char *name, const char *value)
{
	const char *err = NULL;

	assert_int_equal(store_policy_set(fx->st, T, kind, name, "device_required", value, NULL,
	    &err), 0);
}

uint64_t
fx_generation(struct fx *fx, const char *tenant)
{
	uint64_t gen;

	assert_int_equal(store_tenant_generation(fx->st, tenant, &gen), 0);
	return gen;
}

static void
audit_line_cb(const struct audit_rec *r, void *arg)
{
	buf_printf(arg, "%s %s\n", r->event, r->fields);
}

char *
fx_audit_text(struct fx *fx, const char *tenant)
{
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, "");
	assert_int_equal(store_audit_list(fx->st, tenant, 0, audit_line_cb, &b), 0);
	return buf_steal(&b, NULL);
}

void
add_session(struct fx *fx, const char *cookie, const char *user, int64_t now, int64_t expires)
{
	char *id = user_id(fx, T, user);
	struct session s = { .user = id ? id : (char *)user, .methods = "pwd",
		.created = (uint64_t)now, .last_seen = (uint64_t)now,
		.authn_instant = (uint64_t)now, .expires = (uint64_t)expires };
	unsigned char h[32];

	hash_of(cookie, h);
	assert_int_equal(store_session_add(fx->st, T, h, &s), 0);
	free(id);
}

int
session_exists(struct fx *fx, const char *cookie)
{
	struct session s;
	unsigned char h[32];
	int rc;

	hash_of(cookie, h);
	rc = store_session_get(fx->st, T, h, &s);
	store_session_clear(&s);
	return rc;
}


/* ---- holding the committer so that concurrent writes share one commit ---- */

struct fx_hold {
	struct store *st;
	uint64_t n;
	pthread_t th;
	pthread_mutex_t m;
	pthread_cond_t cv;
	int held, gave_up;
};

static int
hold_tx(struct store_txn *t, void *arg)
{
	struct fx_hold *h = arg;
	struct store_commit_stats s;
	struct timespec pause = { 0, 1000000 };
	int polls = 0;

	pthread_mutex_lock(&h->m);
	h->held = 1;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->m);
	/* Polls for a condition, bounded so that a broken queue fails instead of hanging. */
	for (store_commit_stats(h->st, &s); s.queued < h->n; store_commit_stats(h->st, &s)) {
		if (++polls > 60000) {
			h->gave_up = 1;
			break;
		}
		nanosleep(&pause, NULL);
	}
	return -1;	/* nothing to commit: the holder adds no commit of its own */
}

static void *
hold_thread(void *arg)
{
	struct fx_hold *h = arg;

	(void)store_run(h->st, 1, hold_tx, h);
	return NULL;
}

struct fx_hold *
fx_hold_start(struct fx *fx, uint64_t n)
{
	struct fx_hold *h = xcalloc(1, sizeof(*h));

	h->st = fx->st;
	h->n = n;
	pthread_mutex_init(&h->m, NULL);
	pthread_cond_init(&h->cv, NULL);
	assert_int_equal(pthread_create(&h->th, NULL, hold_thread, h), 0);
	pthread_mutex_lock(&h->m);
	while (!h->held)
		pthread_cond_wait(&h->cv, &h->m);
	pthread_mutex_unlock(&h->m);
	return h;
}

void
fx_hold_end(struct fx_hold *h)
{
	pthread_join(h->th, NULL);
	assert_false(h->gave_up);
	pthread_mutex_destroy(&h->m);
	pthread_cond_destroy(&h->cv);
	free(h);
}
