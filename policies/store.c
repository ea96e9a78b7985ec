/*
 * The LMDB backend of the store: environment, named databases, transactions with growth of
 * the map when it fills, group commit of concurrent write transactions, keys and record
 * helpers.  The only file that includes <lmdb.h>.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "crypto.h"
#include "encode.h"
#include "log.h"
#include "store_int.h"
#include "xmalloc.h"

struct commit_req;

struct store {
	MDB_env *env;
	MDB_dbi dbi[DB__COUNT];
	pthread_rwlock_t resize_lock;	/* writers of the map size exclude all transactions */
	size_t map_max;
	pthread_mutex_t q_lock;		/* the queue of write transactions, the counters */
	struct commit_req *q_head, **q_tail;
	int committing;			/* a thread is committing a batch */
	struct store_commit_stats stats;
};

struct store_txn {
	struct store *st;
	MDB_txn *txn;
	int err;	/* first LMDB error seen inside the transaction */
};

static const char *const db_names[DB__COUNT] = {
	[DB_META] = "meta",
	[DB_TENANTS] = "tenants",
	[DB_KEYS] = "keys",
	[DB_USERS] = "users",
	[DB_USERS_EMAIL] = "users_by_email",
	[DB_USER_SESSIONS] = "user_sessions",
	[DB_GROUPS] = "groups",
	[DB_MEMBERS] = "members",
	[DB_APPS] = "apps",
	[DB_APPS_ENTITY] = "apps_by_entity",
	[DB_SESSIONS] = "sessions",
	[DB_SESSION_SPS] = "session_sps",
	[DB_PENDING] = "pending",
	[DB_REPLAY] = "replay",
	[DB_LOGOUT] = "logout",
	[DB_FAILURES] = "failures",
	[DB_AUDIT] = "audit",
	[DB_OIDC_CODES] = "oidc_codes",
	[DB_OIDC_FAMILIES] = "oidc_families",
	[DB_OIDC_REFRESH] = "oidc_refresh",
	[DB_OIDC_ACCESS] = "oidc_access",
	[DB_OIDC_BY_SESSION] = "oidc_by_session",
	[DB_OIDC_BY_USER] = "oidc_by_user",
	[DB_CERTS] = "certs",
	[DB_CERTS_BY_USER] = "certs_by_user",
	[DB_CERTS_BY_FP] = "certs_by_fingerprint",
	[DB_CRL] = "crl",
	[DB_POLICIES] = "policies",
	[DB_USERS_NAME] = "users_by_name",
	[DB_GROUPS_NAME] = "groups_by_name",
	[DB_RULES] = "rules",
	[DB_ASSIGN] = "assignments",
	[DB_FACTORS] = "factors",
	[DB_FACTORS_CRED] = "factors_by_credential",
	[DB_CHALLENGES] = "challenges",
	[DB_CHALLENGES_USER] = "challenges_by_user",
	[DB_RATE] = "rate_limits",
	[DB_APIKEYS] = "apikeys",
	[DB_APIKEYS_NAME] = "apikeys_by_name",
};

/*
 * 2: users, groups and apps are referred to by immutable ids; 3: access rules and app
 * assignments; 4: second factors, challenges, rate limits; 5: API keys; 6: users' console
 * roles, tenants' branding, apps' initiate_login_uri; 7: tenants' licences and operator
 * accounts (store_upgrade.c).
 * A program must refuse a newer database: a version 2 one would ignore its deny rules and
 * let everyone in, a version 3 one would let users with a second factor in with a
 * password.
 */
#define SCHEMA_VERSION "7"
#define SCHEMA_VERSION_N 7

/*
 * The schema version of the database into *from (a new one is written as the current
 * one): 0, -1 with *errstr when it is newer than this program, or an LMDB error.
 */
static int
schema_version(struct store *st, MDB_txn *txn, int *from, const char **errstr)
{
	MDB_val k = { 6, "schema" }, v = { 1, SCHEMA_VERSION }, cur;
	int rc = mdb_get(txn, st->dbi[DB_META], &k, &cur);

	*from = SCHEMA_VERSION_N;
	if (rc == MDB_NOTFOUND)
		return mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
	if (rc)
		return rc;
	if (cur.mv_size != 1 || *(char *)cur.mv_data < '1' ||
	    *(char *)cur.mv_data > SCHEMA_VERSION[0]) {
		*errstr = "database has an unknown schema version (written by a newer Sekisho?)";
		return -1;
	}
	*from = *(char *)cur.mv_data - '0';
	return 0;
}

/* Run the upgrades in one write transaction, unless another process did meanwhile. */
static int
upgrade_tx(struct store_txn *t, void *arg)
{
	const char **errstr = arg;
	struct store_key k = { .len = 0 };
	const void *v;
	size_t len;
	int from;

	skey_add_bytes(&k, "schema", 6);
	if (stx_get(t, DB_META, &k, &v, &len) != 1 || len != 1)
		return -1;
	from = *(const char *)v - '0';
	if (from == SCHEMA_VERSION_N)
		return 0;
	log_info("upgrading the database from schema %d to %d", from, SCHEMA_VERSION_N);
	if (stx_upgrade(t, from, errstr) < 0)
		return -1;
	return stx_put(t, DB_META, &k, SCHEMA_VERSION, 1, 0) == 0 ? 0 : -1;
}

struct store *
store_open(const char *dir, const struct store_settings *ss, const char **errstr)
{
	struct store *st = xcalloc(1, sizeof(*st));
	char *path = xasprintf("%s/data", dir);
	MDB_txn *txn = NULL;
	int rc, from;

	*errstr = "cannot open the database";
	if (mkdir(path, 0700) == -1 && errno != EEXIST) {
		log_error("mkdir %s: %s", path, strerror(errno));
		goto fail;
	}
	st->map_max = (size_t)ss->map_size_max;
	pthread_rwlock_init(&st->resize_lock, NULL);
	pthread_mutex_init(&st->q_lock, NULL);
	st->q_tail = &st->q_head;
	if ((rc = mdb_env_create(&st->env)) || (rc = mdb_env_set_maxdbs(st->env, DB__COUNT + 4)) ||
	    (rc = mdb_env_set_maxreaders(st->env, 256)) ||
	    (rc = mdb_env_set_mapsize(st->env, (size_t)ss->map_size)) ||
	    (rc = mdb_env_open(st->env, path, MDB_NOTLS, 0600))) {
		log_error("%s: %s", path, mdb_strerror(rc));
		goto fail;
	}
	(void)store_reader_check(st);
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)))
		goto lmdb_fail;
	for (int i = 0; i < DB__COUNT; i++)
		if ((rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &st->dbi[i])))
			goto lmdb_fail;
	if ((rc = schema_version(st, txn, &from, errstr)) != 0) {
		mdb_txn_abort(txn);
		txn = NULL;
		if (rc == -1)
			goto fail;
		goto lmdb_fail;
	}
	if ((rc = mdb_txn_commit(txn))) {
		txn = NULL;
		goto lmdb_fail;
	}
	txn = NULL;
	if (from < SCHEMA_VERSION_N && store_run(st, 1, upgrade_tx, errstr) < 0)
		goto fail;
	free(path);
	return st;
lmdb_fail:
	log_error("%s: %s", path, mdb_strerror(rc));
	if (txn)
		mdb_txn_abort(txn);
fail:
	free(path);
	if (st->env)
		mdb_env_close(st->env);
	free(st);
	return NULL;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	mdb_env_close(st->env);
	pthread_rwlock_destroy(&st->resize_lock);
	pthread_mutex_destroy(&st->q_lock);
	free(st);
}

int
store_reader_check(struct store *st)
{
	int dead = 0;

	if (mdb_reader_check(st->env, &dead) == 0 && dead > 0)
		log_warn("cleared %d stale reader slot(s)", dead);
	return dead;
}

int
store_backup(struct store *st, const char *path, const char **errstr)
{
	int rc;

	if (mkdir(path, 0700) == -1) {
		*errstr = "cannot create the backup directory (it must not exist)";
		return -1;
	}
	if ((rc = mdb_env_copy2(st->env, path, MDB_CP_COMPACT))) {
		log_error("mdb_env_copy2 %s: %s", path, mdb_strerror(rc));
		*errstr = "backup failed";
		return -1;
	}
	return 0;
}

/* The named databases of a copy, read-only; a missing one means it is no Sekisho store. */
static int
copy_dbis(struct store *st, const char **errstr)
{
	MDB_val k = { 6, "schema" }, cur;
	MDB_txn *txn;
	int rc;

	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)))
		goto fail;
	for (int i = 0; i < DB__COUNT && rc == 0; i++)
		rc = mdb_dbi_open(txn, db_names[i], 0, &st->dbi[i]);
	if (rc == 0)
		rc = mdb_get(txn, st->dbi[DB_META], &k, &cur);
	if (rc != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if (cur.mv_size != 1 || *(char *)cur.mv_data < '1' ||
	    *(char *)cur.mv_data > SCHEMA_VERSION[0]) {
		mdb_txn_abort(txn);
		*errstr = "the copy has an unknown schema version (written by a newer Sekisho?)";
		return -1;
	}
	/* Committing keeps the handles open; an abort would close them. */
	if ((rc = mdb_txn_commit(txn)) == 0)
		return 0;
fail:
	log_error("mdb: %s", mdb_strerror(rc));
	*errstr = "not a Sekisho database (damaged, or not a backup)";
	return -1;
}

struct store *
store_open_copy(const char *path, const char **errstr)
{
	struct store *st = xcalloc(1, sizeof(*st));
	int rc;

	/* No lock file: a copy has no other user, and its directory may be read-only. */
	if ((rc = mdb_env_create(&st->env)) ||
	    (rc = mdb_env_set_maxdbs(st->env, DB__COUNT + 4)) ||
	    (rc = mdb_env_open(st->env, path, MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS, 0600))) {
		log_error("%s: %s", path, mdb_strerror(rc));
		*errstr = rc == ENOENT ? "no data.mdb there" :
		    "not a Sekisho database (damaged, or not a backup)";
		goto fail;
	}
	st->map_max = SIZE_MAX;
	pthread_rwlock_init(&st->resize_lock, NULL);
	pthread_mutex_init(&st->q_lock, NULL);
	st->q_tail = &st->q_head;
	if (copy_dbis(st, errstr) == 0)
		return st;
	store_close(st);
	return NULL;
fail:
	if (st->env)
		mdb_env_close(st->env);
	free(st);
	return NULL;
}

/*
 * Every process with the environment open holds a shared fcntl lock on the first byte of
 * lock.mdb (LMDB's way to tell the first opener); a write lock is granted only when none
 * does.  With hold, the lock is kept on *fd_r so no server starts meanwhile.
 */
int
store_in_use(const char *dir, int hold, int *fd_r, long *pid_r)
{
	char *path = xasprintf("%s/data/lock.mdb", dir);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
	int fd = open(path, O_RDWR | O_CLOEXEC);

	free(path);
	*fd_r = -1;
	*pid_r = 0;
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	if (fcntl(fd, F_GETLK, &fl) == -1) {
		close(fd);
		return -1;
	}
	if (fl.l_type != F_UNLCK) {
		*pid_r = (long)fl.l_pid;
		close(fd);
		return 1;
	}
	fl.l_type = F_WRLCK;
	if (hold && fcntl(fd, F_SETLK, &fl) == 0) {
		*fd_r = fd;
		return 0;
	}
	close(fd);
	return hold ? 1 : 0;
}

int
store_map_usage(struct store *st, int64_t *used_r, int64_t *size_r)
{
	MDB_envinfo info;
	MDB_stat ms;

	if (mdb_env_info(st->env, &info) || mdb_env_stat(st->env, &ms))
		return -1;
	*used_r = (int64_t)(info.me_last_pgno + 1) * ms.ms_psize;
	*size_r = (int64_t)info.me_mapsize;
	return 0;
}

/* Double the map (up to the maximum) while no transaction of this process is open. */
static int
grow(struct store *st)
{
	MDB_envinfo info;
	size_t next;
	int rc = -1;

	pthread_rwlock_wrlock(&st->resize_lock);
	mdb_env_info(st->env, &info);
	next = info.me_mapsize * 2;
	if (next > st->map_max)
		next = st->map_max;
	if (next > info.me_mapsize && mdb_env_set_mapsize(st->env, next) == 0) {
		log_info("database map grown to %zu MiB", next >> 20);
		rc = 0;
	} else {
		log_error("database is full (%zu MiB, map_size_max reached)", info.me_mapsize >> 20);
	}
	pthread_rwlock_unlock(&st->resize_lock);
	return rc;
}

static void
adopt_size(struct store *st)
{
	pthread_rwlock_wrlock(&st->resize_lock);
	mdb_env_set_mapsize(st->env, 0);
	pthread_rwlock_unlock(&st->resize_lock);
}

/*
 * Transactions this thread is inside.  A write queued from inside one would wait for
 * itself (a write: this thread commits it) or for a committer that waits, to grow the
 * map, for that read to end: it is refused.
 */
static _Thread_local int in_txn;

/* A read transaction: LMDB readers never wait for writers or each other. */
static int
run_read(struct store *st, store_txn_fn fn, void *arg)
{
	struct store_txn t = { .st = st };
	int rc, r;

	for (int attempt = 0; attempt < 8; attempt++) {
		pthread_rwlock_rdlock(&st->resize_lock);
		rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &t.txn);
		if (rc == MDB_MAP_RESIZED) {
			pthread_rwlock_unlock(&st->resize_lock);
			adopt_size(st);
			continue;
		}
		if (rc) {
			pthread_rwlock_unlock(&st->resize_lock);
			log_error("mdb_txn_begin: %s", mdb_strerror(rc));
			return -1;
		}
		t.err = 0;
		in_txn++;
		r = fn(&t, arg);
		in_txn--;
		mdb_txn_abort(t.txn);
		pthread_rwlock_unlock(&st->resize_lock);
		if (t.err)
			log_error("transaction failed: %s", mdb_strerror(t.err));
		return r;
	}
	log_error("transaction retried too often");
	return -1;
}

/*
 * Group commit.  A write transaction is queued as a request; the thread that finds no
 * committer at work becomes the committer: it takes every queued request, runs each in a
 * nested transaction of one LMDB write transaction (a request that fails rolls back
 * alone; later ones see the writes of earlier ones, so every check-and-write stays
 * atomic), commits that once — one sync for all — and only then wakes the owners with
 * their results.  Whoever queued meanwhile is woken to commit the next batch.  A batch of
 * one runs directly in the write transaction, as a lone writer always did.
 */
enum req_state {
	REQ_WAIT,	/* to run in the next round */
	REQ_RAN,	/* ran; its result stands if the round commits */
	REQ_FULL,	/* ran into a full map: to run again once the map has grown */
	REQ_DONE,	/* result final */
	REQ_ANY,	/* for settle(): every request not done */
};

struct commit_req {
	store_txn_fn fn;
	void *arg;
	int r;			/* fn's result, then the request's */
	enum req_state state;	/* the committer's alone */
	int done;		/* under q_lock: r is final, the owner may return */
	pthread_cond_t cv;
	struct commit_req *next;
};

/* Run one request inside the round's transaction, alone or in a nested transaction. */
static void
req_run(struct store *st, MDB_txn *parent, struct commit_req *req, int alone)
{
	struct store_txn t = { .st = st, .txn = parent };
	int rc;

	req->state = REQ_RAN;
	if (!alone && (rc = mdb_txn_begin(st->env, parent, 0, &t.txn))) {
		log_error("mdb_txn_begin (nested): %s", mdb_strerror(rc));
		req->r = -1;
		return;
	}
	req->r = req->fn(&t, req->arg);
	if (t.err) {
		/* LMDB failed the transaction: it cannot commit, whatever fn returned. */
		req->r = req->r < 0 ? req->r : -1;
		if (t.err == MDB_MAP_FULL)
			req->state = REQ_FULL;
		else
			log_error("transaction failed: %s", mdb_strerror(t.err));
	}
	if (alone)
		return;
	if (req->r < 0)
		mdb_txn_abort(t.txn);
	else if ((rc = mdb_txn_commit(t.txn))) {
		log_error("mdb_txn_commit (nested): %s", mdb_strerror(rc));
		req->r = -1;
	}
}

/* One round: every request still to run in one write transaction, committed once if any
 * of them wants to.  0, or the LMDB error of that transaction. */
static int
round_run(struct store *st, struct commit_req *batch, struct store_commit_stats *c)
{
	struct commit_req *req;
	MDB_txn *txn;
	uint64_t n = 0, ok = 0;
	int rc;

	for (req = batch; req; req = req->next)
		n += req->state == REQ_WAIT;
	pthread_rwlock_rdlock(&st->resize_lock);
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) == 0) {
		for (req = batch; req; req = req->next) {
			if (req->state != REQ_WAIT)
				continue;
			req_run(st, txn, req, n == 1);
			ok += req->state == REQ_RAN && req->r >= 0;
		}
		if (ok == 0)
			mdb_txn_abort(txn);
		else if ((rc = mdb_txn_commit(txn)) == 0) {
			c->commits++;
			c->writes += ok;
		}
	}
	pthread_rwlock_unlock(&st->resize_lock);
	return rc;
}

/* Move the requests in state from to state to; REQ_DONE gives them the result r. */
static void
settle(struct commit_req *batch, enum req_state from, enum req_state to, int r)
{
	for (struct commit_req *req = batch; req; req = req->next) {
		if (req->state == REQ_DONE || (from != REQ_ANY && req->state != from))
			continue;
		req->state = to;
		if (to == REQ_DONE)
			req->r = r;
	}
}

/* Commit rounds until every request of the batch has its result. */
static void
batch_run(struct store *st, struct commit_req *batch, struct store_commit_stats *c)
{
	for (int attempt = 0; attempt < 8; attempt++) {
		int rc = round_run(st, batch, c), full = 0;

		if (rc == MDB_MAP_RESIZED) {
			adopt_size(st);
			settle(batch, REQ_ANY, REQ_WAIT, 0);
			continue;
		}
		if (rc && rc != MDB_MAP_FULL) {
			log_error("transaction failed: %s", mdb_strerror(rc));
			settle(batch, REQ_ANY, REQ_DONE, -1);
			return;
		}
		/* A round that did not commit runs again in full; one that did is final. */
		for (struct commit_req *req = batch; req; req = req->next) {
			if (rc && req->state != REQ_DONE)
				req->state = REQ_FULL;
			else if (req->state == REQ_RAN)
				req->state = REQ_DONE;
			full += req->state == REQ_FULL;
		}
		if (!full)
			return;
		if (grow(st) == -1) {
			settle(batch, REQ_FULL, REQ_DONE, STORE_FULL);
			return;
		}
		settle(batch, REQ_FULL, REQ_WAIT, 0);
	}
	log_error("transaction retried too often");
	settle(batch, REQ_ANY, REQ_DONE, -1);
}

/* With q_lock held and no committer at work: commit everything queued, wake the owners,
 * and wake the first of those who queued meanwhile to commit the next batch. */
static void
lead(struct store *st)
{
	struct commit_req *batch = st->q_head, *req, *next;
	struct store_commit_stats c = { 0 };

	st->q_head = NULL;
	st->q_tail = &st->q_head;
	st->stats.queued = 0;
	st->committing = 1;
	pthread_mutex_unlock(&st->q_lock);
	in_txn++;
	batch_run(st, batch, &c);
	in_txn--;
	pthread_mutex_lock(&st->q_lock);
	st->committing = 0;
	st->stats.commits += c.commits;
	st->stats.writes += c.writes;
	for (req = batch; req; req = next) {
		next = req->next;	/* req belongs to its owner once done is set */
		req->done = 1;
		pthread_cond_signal(&req->cv);
	}
	if (st->q_head)
		pthread_cond_signal(&st->q_head->cv);
}

static int
run_write(struct store *st, store_txn_fn fn, void *arg)
{
	struct commit_req req = { .fn = fn, .arg = arg, .state = REQ_WAIT };

	if (in_txn) {
		log_error("%s: a write inside another transaction is refused", __func__);
		return -1;
	}
	pthread_cond_init(&req.cv, NULL);
	pthread_mutex_lock(&st->q_lock);
	*st->q_tail = &req;
	st->q_tail = &req.next;
	st->stats.queued++;
	while (!req.done) {
		if (st->committing)
			pthread_cond_wait(&req.cv, &st->q_lock);
		else
			lead(st);
	}
	pthread_mutex_unlock(&st->q_lock);
	pthread_cond_destroy(&req.cv);
	return req.r;
}

int
store_run(struct store *st, int rw, store_txn_fn fn, void *arg)
{
	return rw ? run_write(st, fn, arg) : run_read(st, fn, arg);
}

void
store_commit_stats(struct store *st, struct store_commit_stats *s_r)
{
	pthread_mutex_lock(&st->q_lock);
	*s_r = st->stats;
	pthread_mutex_unlock(&st->q_lock);
}

static int
fail(struct store_txn *t, int rc, const char *what)
{
	if (t->err == 0)
		t->err = rc;
	if (rc != MDB_MAP_FULL)
		log_error("%s: %s", what, mdb_strerror(rc));
	return -1;
}

int
stx_get(struct store_txn *t, enum store_db db, const struct store_key *k, const void **v_r,
    size_t *len_r)
{
	MDB_val key = { k->len, (void *)k->b }, val;
	int rc;

	if (k->overflow)
		return -1;
	rc = mdb_get(t->txn, t->st->dbi[db], &key, &val);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return fail(t, rc, "mdb_get");
	*v_r = val.mv_data;
	*len_r = val.mv_size;
	return 1;
}

int
stx_put(struct store_txn *t, enum store_db db, const struct store_key *k, const void *v,
    size_t len, int flags)
{
	MDB_val key = { k->len, (void *)k->b }, val = { len, (void *)v };
	int rc;

	if (k->overflow)
		return -1;
	rc = mdb_put(t->txn, t->st->dbi[db], &key, &val,
	    (flags & STX_NOOVERWRITE) ? MDB_NOOVERWRITE : 0);
	if (rc == MDB_KEYEXIST)
		return 1;
	if (rc)
		return fail(t, rc, "mdb_put");
	return 0;
}

int
stx_del(struct store_txn *t, enum store_db db, const struct store_key *k)
{
	MDB_val key = { k->len, (void *)k->b };
	int rc;

	if (k->overflow)
		return -1;
	rc = mdb_del(t->txn, t->st->dbi[db], &key, NULL);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return fail(t, rc, "mdb_del");
	return 1;
}

#define ITER_DELETE 1	/* the callback may return 2: delete this entry */
#define ITER_BACK 2	/* from the last key before start, in decreasing order */

/* The first entry of a walk: at or after start, or (ITER_BACK) the last one before it. */
static int
iter_first(MDB_cursor *cur, const struct store_key *start, int flags, MDB_val *key,
    MDB_val *val)
{
	int rc;

	key->mv_size = start->len;
	key->mv_data = (void *)start->b;
	if (!(flags & ITER_BACK))
		return mdb_cursor_get(cur, key, val, start->len ? MDB_SET_RANGE : MDB_FIRST);
	rc = mdb_cursor_get(cur, key, val, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		return mdb_cursor_get(cur, key, val, MDB_LAST);
	return rc ? rc : mdb_cursor_get(cur, key, val, MDB_PREV);
}

static int
iter(struct store_txn *t, enum store_db db, const struct store_key *prefix,
    const struct store_key *start, stx_iter_fn fn, void *arg, int flags)
{
	MDB_cursor *cur;
	MDB_val key, val;
	MDB_cursor_op next = flags & ITER_BACK ? MDB_PREV : MDB_NEXT;
	int rc, r = 0;

	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[db], &cur)))
		return fail(t, rc, "mdb_cursor_open");
	for (rc = iter_first(cur, start, flags, &key, &val); rc == 0;
	    rc = mdb_cursor_get(cur, &key, &val, next)) {
		if (key.mv_size < prefix->len || memcmp(key.mv_data, prefix->b, prefix->len))
			break;
		r = fn(key.mv_data, key.mv_size, val.mv_data, val.mv_size, arg);
		if (r == 2 && (flags & ITER_DELETE)) {
			if ((rc = mdb_cursor_del(cur, 0))) {
				mdb_cursor_close(cur);
				return fail(t, rc, "mdb_cursor_del");
			}
			r = 0;
		}
		if (r != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return fail(t, rc, "mdb_cursor_get");
	return r < 0 ? -1 : 0;
}

int
stx_iter(struct store_txn *t, enum store_db db, const struct store_key *prefix, stx_iter_fn fn,
    void *arg)
{
	return iter(t, db, prefix, prefix, fn, arg, 0);
}

int
stx_iter_from(struct store_txn *t, enum store_db db, const struct store_key *prefix,
    const struct store_key *start, stx_iter_fn fn, void *arg)
{
	return iter(t, db, prefix, start, fn, arg, 0);
}

int
stx_iter_before(struct store_txn *t, enum store_db db, const struct store_key *prefix,
    const struct store_key *start, stx_iter_fn fn, void *arg)
{
	return iter(t, db, prefix, start, fn, arg, ITER_BACK);
}

int
stx_iter_del(struct store_txn *t, enum store_db db, const struct store_key *prefix,
    stx_iter_fn fn, void *arg)
{
	return iter(t, db, prefix, prefix, fn, arg, ITER_DELETE);
}

int
stx_put_rec(struct store_txn *t, enum store_db db, const struct store_key *k,
    const struct rec_field *fields, const void *obj, int flags)
{
	struct buf b;
	int rc;

	rec_encode(fields, REC_VERSION, obj, &b);
	rc = stx_put(t, db, k, b.data, b.len, flags);
	buf_free(&b);
	return rc;
}

int
stx_get_rec(struct store_txn *t, enum store_db db, const struct store_key *k,
    const struct rec_field *fields, void *obj)
{
	const void *v;
	size_t len;
	int rc = stx_get(t, db, k, &v, &len);

	if (rc != 1)
		return rc;
	if (rec_decode(fields, obj, v, len) == -1) {
		log_error("corrupt record in %s", db_names[db]);
		return -1;
	}
	return 1;
}

struct each {
	const struct rec_field *fields;
	size_t size;
	store_each_fn fn;
	void *arg;
};

static int
each_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct each *e = arg;
	void *obj = xcalloc(1, e->size);
	int rc = rec_decode(e->fields, obj, val, vlen);

	if (rc == 0)
		e->fn(obj, e->arg);
	else
		log_error("corrupt record in a list");
	rec_clear(e->fields, obj);
	free(obj);
	return rc;
}

int
stx_each(struct store_txn *t, enum store_db db, const struct store_key *prefix,
    const struct rec_field *fields, size_t size, store_each_fn fn, void *arg)
{
	struct each e = { fields, size, fn, arg };

	return stx_iter(t, db, prefix, each_cb, &e);
}

struct each_op {
	enum store_db db;
	const struct store_key *prefix;
	struct each e;
};

static int
each_tx(struct store_txn *t, void *arg)
{
	struct each_op *op = arg;

	return stx_iter(t, op->db, op->prefix, each_cb, &op->e);
}

int
store_each(struct store *st, enum store_db db, const struct store_key *prefix,
    const struct rec_field *fields, size_t size, store_each_fn fn, void *arg)
{
	struct each_op op = { db, prefix, { fields, size, fn, arg } };

	return store_run(st, 0, each_tx, &op);
}

struct via {
	struct store_txn *t;
	enum store_db target;
	const char *tenant;
	struct each e;
};

static int
via_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct via *v = arg;
	struct store_key k;
	const void *rec;
	size_t len;
	int rc;

	skey_init(&k, v->tenant);
	skey_add_bytes(&k, "", 1);
	skey_add_bytes(&k, val, vlen);
	if ((rc = stx_get(v->t, v->target, &k, &rec, &len)) != 1)
		return rc;	/* an index entry without its record is skipped */
	return each_cb(k.b, k.len, rec, len, &v->e);
}

int
stx_each_via(struct store_txn *t, enum store_db index, const struct store_key *prefix,
    enum store_db target, const char *tenant, const struct rec_field *fields, size_t size,
    store_each_fn fn, void *arg)
{
	struct via v = { t, target, tenant, { fields, size, fn, arg } };

	return stx_iter(t, index, prefix, via_cb, &v);
}

struct via_op {
	enum store_db index, target;
	const char *tenant;
	struct each e;
};

static int
via_tx(struct store_txn *t, void *arg)
{
	struct via_op *op = arg;
	struct store_key k;

	skey_init(&k, op->tenant);
	skey_prefix(&k);
	return stx_each_via(t, op->index, &k, op->target, op->tenant, op->e.fields, op->e.size,
	    op->e.fn, op->e.arg);
}

int
store_each_by(struct store *st, const char *tenant, enum store_db index, enum store_db target,
    const struct rec_field *fields, size_t size, store_each_fn fn, void *arg)
{
	struct via_op op = { index, target, tenant, { fields, size, fn, arg } };

	return store_run(st, 0, via_tx, &op);
}

char *
store_new_id(void)
{
	unsigned char raw[16];
	char *id = xmalloc(2 * sizeof(raw) + 1);

	crypto_random(raw, sizeof(raw));
	hex_encode(raw, sizeof(raw), id);
	return id;
}

int
stx_meta_u64(struct store_txn *t, const struct store_key *k, uint64_t *v_r)
{
	const void *v;
	size_t len;
	int rc = stx_get(t, DB_META, k, &v, &len);

	*v_r = 0;
	if (rc != 1)
		return rc;
	return rec_u64(v, len, v_r) == 0 ? 1 : 0;
}

int
stx_meta_put_u64(struct store_txn *t, const struct store_key *k, uint64_t v)
{
	unsigned char be[8];

	for (int i = 0; i < 8; i++)
		be[i] = (unsigned char)(v >> (56 - 8 * i));
	return stx_put(t, DB_META, k, be, 8, 0) == 0 ? 0 : -1;
}

int
stx_bump_generation(struct store_txn *t, const char *tenant)
{
	struct store_key k;
	uint64_t gen;

	skey_init(&k, tenant);
	skey_add(&k, "generation");
	if (stx_meta_u64(t, &k, &gen) != 1)
		gen = stx_generation_floor(t);	/* a new tenant: above any erased one's */
	return stx_meta_put_u64(t, &k, gen + 1);
}

/* ---- keys ---- */

void
skey_init(struct store_key *k, const char *tenant)
{
	k->len = 0;
	k->overflow = 0;
	skey_add_bytes(k, tenant, strlen(tenant));
}

void
skey_add_bytes(struct store_key *k, const void *p, size_t n)
{
	if (k->overflow || n > STORE_KEY_MAX - k->len) {
		k->overflow = 1;
		return;
	}
	memcpy(k->b + k->len, p, n);
	k->len += n;
}

void
skey_add(struct store_key *k, const char *part)
{
	skey_add_bytes(k, "", 1);
	skey_add_bytes(k, part, strlen(part));
}

void
skey_add_hash(struct store_key *k, const void *p, size_t n)
{
	unsigned char h[CRYPTO_SHA256_LEN];

	crypto_sha256(p, n, h);
	skey_add_bytes(k, "", 1);
	skey_add_bytes(k, h, sizeof(h));
}

void
skey_of(struct store_key *k, const char *tenant, const char *part)
{
	skey_init(k, tenant);
	skey_add(k, part);
}

void
skey_prefix(struct store_key *k)
{
	skey_add_bytes(k, "", 1);
}

int
store_valid_name(const char *s, size_t max)
{
	size_t n = 0;

	for (; *s; s++, n++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '@' || c == '+' || c == '-'))
			return 0;
	}
	return n >= 1 && n <= max;
}
