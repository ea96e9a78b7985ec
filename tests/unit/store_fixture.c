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
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "buf.h"
#include "crypto.h"
#include "log.h"
#include "store.h"
#include "store_fixture.h"
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

void
hash_of(const char *s, unsigned char h[32])
{
	crypto_sha256(s, strlen(s), h);
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

