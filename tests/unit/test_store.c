/*
 * Unit tests for the store (policies/store.c, store_app.c) on a real LMDB environment in
 * a temporary directory: schema, tenants, keys and apps, with duplicates refused
 * atomically; map growth, a full map (STORE_FULL, reads still work, nothing corrupt),
 * stale reader slots and backups.  Users and groups are in test_store_user.c.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "buf.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

#include "store_fixture.h"

/* ---- basics ---- */

static void
test_store_valid_name(void **state)
{
	static const struct {
		const char *s;
		size_t max;
		int ok;
	} cases[] = {
		{ "alice", 128, 1 },
		{ "a.b_c-d+e@f", 128, 1 },
		{ "A9", 128, 1 },
		{ "", 128, 0 },
		{ "a b", 128, 0 },
		{ "a/b", 128, 0 },
		{ "a\nb", 128, 0 },
		{ "\xe9\x96\xa2", 128, 0 },
		{ "a:b", 128, 0 },
		{ "abc", 3, 1 },
		{ "abcd", 3, 0 },
	};

	for (size_t i = 0; i < NELEM(cases); i++)
		assert_int_equal(store_valid_name(cases[i].s, cases[i].max), cases[i].ok);
}

static void
test_store_reopen_keeps_data(void **state)
{
	struct fx *fx = *state;
	struct user u;

	add_user(fx, T, "alice", "alice@example.org");
	fx_reopen(fx);
	assert_int_equal(store_user_get(fx->st, T, "alice", &u), 1);
	assert_string_equal(u.email, "alice@example.org");
	store_user_clear(&u);
}

static void
test_store_schema_version_checked(void **state)
{
	struct fx *fx = *state;
	char *path = xasprintf("%s/data", fx->dir);
	MDB_val k = { 6, "schema" }, v = { 1, "9" };
	const char *err = NULL;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	store_close(fx->st);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	assert_int_equal(mdb_env_open(env, path, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	free(path);
	fx->st = store_open(fx->dir, &fx->ss, &err);
	assert_null(fx->st);
	assert_string_equal(err, "database has an unknown schema version (written by a newer "
	    "Sekisho?)");
	/* teardown closes a NULL store */
}

/* ---- tenants and keys ---- */

static void
tenant_cb(const void *rec, void *arg)
{
	const struct tenant *t = rec;
	struct buf *b = arg;

	buf_printf(b, "%s;", t->id);
}

static void
test_store_tenants(void **state)
{
	struct fx *fx = *state;
	struct tenant t = { .id = "acme", .name = "ACME Corp", .created = T0,
		.secret = (unsigned char *)"sealed\0secret", .secret_len = 13 };
	struct tenant got;
	const char *err = NULL;
	uint64_t g0, g1;
	struct buf list;

	assert_int_equal(store_tenant_generation(fx->st, "acme", &g0), 0);
	assert_int_equal(g0, 0);
	assert_int_equal(store_tenant_add(fx->st, &t, &err), 0);
	assert_int_equal(store_tenant_add(fx->st, &t, &err), -1);
	assert_string_equal(err, "tenant already exists");
	t.id = "acme2";
	assert_int_equal(store_tenant_add(fx->st, &t, &err), 0);
	assert_int_equal(store_tenant_get(fx->st, "acme", &got), 1);
	assert_string_equal(got.name, "ACME Corp");
	assert_int_equal(got.secret_len, 13);
	assert_memory_equal(got.secret, "sealed\0secret", 13);
	store_tenant_clear(&got);
	assert_int_equal(store_tenant_get(fx->st, "acm", &got), 0);
	assert_int_equal(store_tenant_get(fx->st, "", &got), 0);
	assert_int_equal(store_tenant_generation(fx->st, "acme", &g1), 0);
	assert_true(g1 > g0);
	buf_init(&list, 0);
	assert_int_equal(store_tenant_list(fx->st, tenant_cb, &list), 0);
	assert_string_equal(list.data, "acme;acme2;");
	buf_free(&list);
}

static void
key_cb(const void *rec, void *arg)
{
	const struct keyrec *k = rec;
	struct buf *b = arg;

	buf_printf(b, "%s/%s/%llu;", k->kid, k->alg, (unsigned long long)k->state);
}

static void
test_store_keys(void **state)
{
	struct fx *fx = *state;
	struct keyrec k = { .kid = "k1", .use = "saml", .alg = "RS256", .created = T0,
		.state = STORE_KEY_ACTIVE, .sealed_key = (unsigned char *)"xx", .sealed_key_len = 2,
		.cert_pem = "-----BEGIN CERTIFICATE-----" };
	const char *err = NULL;
	uint64_t g0, g1;
	struct buf list;

	assert_int_equal(store_tenant_generation(fx->st, T, &g0), 0);
	assert_int_equal(store_key_add(fx->st, T, &k, &err), 0);
	assert_int_equal(store_key_add(fx->st, T, &k, &err), -1);	/* same kid */
	k.kid = "k2";
	k.state = STORE_KEY_NEXT;
	assert_int_equal(store_key_add(fx->st, T, &k, &err), 0);
	k.kid = "o1";
	k.use = "oidc";
	assert_int_equal(store_key_add(fx->st, T, &k, &err), 0);
	assert_int_equal(store_tenant_generation(fx->st, T, &g1), 0);
	assert_int_equal(g1, g0 + 3);
	buf_init(&list, 0);
	assert_int_equal(store_key_list(fx->st, T, "saml", key_cb, &list), 0);
	assert_string_equal(list.data, "k1/RS256/1;k2/RS256/2;");
	buf_reset(&list);
	assert_int_equal(store_key_list(fx->st, "other", "saml", key_cb, &list), 0);
	assert_int_equal(list.len, 0);
	buf_free(&list);
}

/* ---- apps ---- */

static void
test_store_apps(void **state)
{
	struct fx *fx = *state;
	struct app a = { .name = "wiki", .type = "saml", .entity_id = "https://wiki.example.org/sp",
		.metadata = "<md/>", .nameid_format = "persistent", .created = T0,
		.sign_response = 1 };
	struct app got;
	const char *err = NULL;
	uint64_t g0, g1;

	assert_int_equal(store_tenant_generation(fx->st, T, &g0), 0);
	assert_int_equal(store_app_add(fx->st, T, &a, NULL, &err), 0);
	assert_int_equal(store_tenant_generation(fx->st, T, &g1), 0);
	assert_true(g1 > g0);
	assert_int_equal(store_app_get(fx->st, T, "wiki", &got), 1);
	assert_string_equal(got.entity_id, "https://wiki.example.org/sp");
	assert_string_equal(got.nameid_format, "persistent");
	assert_int_equal(got.sign_response, 1);
	store_app_clear(&got);
	assert_int_equal(store_app_get_by_entity(fx->st, T, "https://wiki.example.org/sp", &got), 1);
	assert_string_equal(got.name, "wiki");
	store_app_clear(&got);
	/* Entity IDs are exact: no case folding, no trailing-slash games. */
	assert_int_equal(store_app_get_by_entity(fx->st, T, "https://wiki.example.org/sp/", &got), 0);
	assert_int_equal(store_app_get_by_entity(fx->st, T, "HTTPS://wiki.example.org/sp", &got), 0);
	assert_int_equal(store_app_get_by_entity(fx->st, "other", "https://wiki.example.org/sp",
	    &got), 0);
	assert_int_equal(store_app_get(fx->st, T, "Wiki", &got), 0);
}

static void
test_store_app_duplicates(void **state)
{
	struct fx *fx = *state;
	struct app a = { .name = "wiki", .type = "saml", .entity_id = "https://e1" };
	struct app got;
	const char *err = NULL;

	assert_int_equal(store_app_add(fx->st, T, &a, NULL, &err), 0);
	a.entity_id = "https://e2";
	assert_int_equal(store_app_add(fx->st, T, &a, NULL, &err), -1);
	assert_string_equal(err, "an app with this name already exists");
	assert_int_equal(store_app_get_by_entity(fx->st, T, "https://e2", &got), 0);
	a.name = "wiki2";
	a.entity_id = "https://e1";
	assert_int_equal(store_app_add(fx->st, T, &a, NULL, &err), -1);
	assert_string_equal(err, "another app has this entity ID");
	/* The refused app was not stored under its name either. */
	assert_int_equal(store_app_get(fx->st, T, "wiki2", &got), 0);
	assert_int_equal(raw_count(fx, "apps"), 1);
	assert_int_equal(raw_count(fx, "apps_by_entity"), 1);
	/* An app without an entity ID. */
	a.name = "oidc-app";
	a.entity_id = NULL;
	assert_int_equal(store_app_add(fx->st, T, &a, NULL, &err), 0);
	assert_int_equal(store_app_get(fx->st, T, "oidc-app", &got), 1);
	assert_null(got.entity_id);
	store_app_clear(&got);
}

static void
app_cb(const void *rec, void *arg)
{
	const struct app *a = rec;
	buf_printf(arg, "%s;", a->name);
}

static void
test_store_app_remove(void **state)
{
	struct fx *fx = *state;
	struct app a = { .name = "wiki", .type = "saml", .entity_id = "https://e1" };
	struct app got;
	const char *err = NULL;
	struct buf b;

	assert_int_equal(store_app_add(fx->st, T, &a, NULL, &err), 0);
	a.name = "crm";
	a.entity_id = "https://e2";
	assert_int_equal(store_app_add(fx->st, T, &a, NULL, &err), 0);
	assert_int_equal(store_app_remove(fx->st, T, "wiki", NULL), 1);
	assert_int_equal(store_app_remove(fx->st, T, "wiki", NULL), 0);
	assert_int_equal(store_app_get_by_entity(fx->st, T, "https://e1", &got), 0);
	assert_int_equal(raw_count(fx, "apps_by_entity"), 1);
	buf_init(&b, 0);
	assert_int_equal(store_app_list(fx->st, T, app_cb, &b), 0);
	assert_string_equal(b.data, "crm;");
	buf_free(&b);
	/* The entity ID is free for a new app. */
	a.name = "wiki-new";
	a.entity_id = "https://e1";
	assert_int_equal(store_app_add(fx->st, T, &a, NULL, &err), 0);
	assert_int_equal(store_app_get_by_entity(fx->st, T, "https://e1", &got), 1);
	assert_string_equal(got.name, "wiki-new");
	store_app_clear(&got);
}

/* ---- capacity ---- */

static int
setup_map_8m(void **state)
{
	log_set_sink(quiet_sink, NULL);
	*state = fx_new(1 << 20, 8 << 20);
	return 0;
}

static int
setup_map_1m(void **state)
{
	log_set_sink(quiet_sink, NULL);
	*state = fx_new(1 << 20, 1 << 20);
	return 0;
}

static void
test_store_map_grows(void **state)
{
	struct fx *fx = *state;
	char *big = xmalloc(64 * 1024 + 1);
	struct pending p = { .kind = "k", .app = "a", .state = big, .expires = T0 };
	char id[32];
	int i, rc = 0;

	memset(big, 'x', 64 * 1024);
	big[64 * 1024] = '\0';
	/* 3 MiB in a map that starts at 1 MiB: it grows. */
	for (i = 0; i < 48; i++) {
		snprintf(id, sizeof(id), "p%d", i);
		if ((rc = store_pending_put(fx->st, T, id, &p)) != 0)
			break;
	}
	assert_int_equal(rc, 0);
	/* Up to its maximum, then STORE_FULL. */
	for (; i < 1000; i++) {
		snprintf(id, sizeof(id), "p%d", i);
		if ((rc = store_pending_put(fx->st, T, id, &p)) != 0)
			break;
	}
	assert_int_equal(rc, STORE_FULL);
	assert_true(i >= 90 && i < 128);
	free(big);
}

static void
test_store_map_full(void **state)
{
	struct fx *fx = *state;
	char *big = xmalloc(64 * 1024 + 1);
	struct pending p = { .kind = "k", .app = "a", .state = big, .expires = T0 };
	struct pending got;
	struct user u = { .id = "u", .name = "late", .display_name = big };
	const char *err = NULL;
	char id[32];
	int n, rc = 0;

	memset(big, 'y', 64 * 1024);
	big[64 * 1024] = '\0';
	add_user(fx, T, "alice", "alice@example.org");
	for (n = 0; n < 100; n++) {
		snprintf(id, sizeof(id), "p%d", n);
		if ((rc = store_pending_put(fx->st, T, id, &p)) != 0)
			break;
	}
	assert_int_equal(rc, STORE_FULL);
	assert_true(n >= 5);
	/* Other writes report the full database too, with a clear reason. */
	assert_int_equal(store_user_add(fx->st, T, &u, NULL, &err), -1);
	assert_string_equal(err, "database full");
	/* Reads still work, and what was acknowledged is all there. */
	assert_int_equal(store_user_get(fx->st, T, "alice", &u), 1);
	store_user_clear(&u);
	assert_int_equal(store_pending_get(fx->st, T, "p0", &got), 1);
	assert_int_equal(strlen(got.state), 64 * 1024);
	store_pending_clear(&got);
	snprintf(id, sizeof(id), "p%d", n);
	assert_int_equal(store_pending_get(fx->st, T, id, &got), 0);
	/*
	 * Deleting makes room again (LMDB reuses freed pages only once no snapshot needs them,
	 * so free a few records, then store a small one).
	 */
	for (int i = 0; i < 3; i++) {
		snprintf(id, sizeof(id), "p%d", i);
		assert_int_equal(store_pending_take(fx->st, T, id, &got), 1);
		store_pending_clear(&got);
	}
	p.state = "small";
	assert_int_equal(store_pending_put(fx->st, T, "again", &p), 0);
	/* After a restart, not corrupt: every record that was acknowledged reads back. */
	fx_reopen(fx);
	assert_int_equal(raw_count(fx, "pending"), (size_t)n - 3 + 1);
	for (int i = 3; i < n; i++) {
		snprintf(id, sizeof(id), "p%d", i);
		assert_int_equal(store_pending_get(fx->st, T, id, &got), 1);
		assert_int_equal(strlen(got.state), 64 * 1024);
		store_pending_clear(&got);
	}
	assert_int_equal(store_user_get(fx->st, T, "alice", &u), 1);
	store_user_clear(&u);
	free(big);
}

/* ---- stale readers ---- */

static void
hold_txn_cb(const void *rec, void *arg)
{
	int fd = *(int *)arg;

	/* Inside a read transaction: say so, then wait to be killed. */
	if (write(fd, "r", 1) != 1)
		_exit(2);
	for (;;)
		pause();
}

static void
test_store_reader_check(void **state)
{
	struct fx *fx = *state;
	int fds[2], status;
	char c;
	pid_t pid;

	add_user(fx, T, "alice", NULL);
	assert_int_equal(store_reader_check(fx->st), 0);
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const char *err;
		struct store *st = store_open(fx->dir, &fx->ss, &err);

		close(fds[0]);
		if (st)
			store_user_list(st, T, hold_txn_cb, &fds[1]);
		_exit(1);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &c, 1), 1);
	close(fds[0]);
	/* kill -9 while it holds a reader slot. */
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* The dead process's slot is found and cleared, once. */
	assert_int_equal(store_reader_check(fx->st), 1);
	assert_int_equal(store_reader_check(fx->st), 0);
	/* And the store carries on. */
	add_user(fx, T, "bob", NULL);
}

/* ---- backup ---- */

static void
test_store_backup(void **state)
{
	struct fx *fx = *state;
	struct fx copy = { .ss = fx->ss };
	const char *err = NULL;
	struct user u;

	add_user(fx, T, "alice", "alice@example.org");
	if ((size_t)snprintf(copy.dir, sizeof(copy.dir), "%s/b", fx->dir) >= sizeof(copy.dir))
		fail_msg("path too long");
	{
		char *data = xasprintf("%s/data", copy.dir);

		assert_int_equal(mkdir(copy.dir, 0700), 0);
		assert_int_equal(store_backup(fx->st, data, &err), 0);
		/* The target must be new. */
		assert_int_equal(store_backup(fx->st, data, &err), -1);
		assert_non_null(err);
		free(data);
	}
	copy.st = store_open(copy.dir, &copy.ss, &err);
	assert_non_null(copy.st);
	assert_int_equal(store_user_get_by_email(copy.st, T, "ALICE@example.org", &u), 1);
	assert_string_equal(u.name, "alice");
	store_user_clear(&u);
	store_close(copy.st);
}

/* When a tenant is closed: suspended wins; a trial ends at its second, not before. */
static void
test_store_tenant_closed(void **state)
{
	static const struct {
		uint64_t suspended, trial_until;
		int64_t now;
		const char *want;
	} cases[] = {
		{ 0, 0, T0, NULL },
		{ T0, 0, T0, "suspended" },
		{ T0, T0 + 10, T0, "suspended" },
		{ 0, T0 + 10, T0 + 9, NULL },
		{ 0, T0 + 10, T0 + 10, "trial_ended" },
		{ 0, T0 + 10, T0 + 11, "trial_ended" },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		const char *got = store_tenant_closed(cases[i].suspended, cases[i].trial_until,
		    cases[i].now);
		if (cases[i].want == NULL)
			assert_null(got);
		else
			assert_string_equal(got, cases[i].want);
	}
}

int
main(void)
{
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_valid_name),
		cmocka_unit_test(test_store_tenant_closed),
		TEST(test_store_reopen_keeps_data),
		TEST(test_store_schema_version_checked),
		TEST(test_store_tenants),
		TEST(test_store_keys),
		TEST(test_store_apps),
		TEST(test_store_app_duplicates),
		TEST(test_store_app_remove),
		cmocka_unit_test_setup_teardown(test_store_map_grows, setup_map_8m, teardown),
		cmocka_unit_test_setup_teardown(test_store_map_full, setup_map_1m, teardown),
		TEST(test_store_reader_check),
		TEST(test_store_backup),
	};
#undef TEST

	return cmocka_run_group_tests(tests, NULL, NULL);
}
