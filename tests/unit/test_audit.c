/*
 * Unit tests for the audit trail (policies/audit.c): append, list, chain verification, and
 * tampering done with LMDB directly on the closed environment (an edited, deleted or lost
 * record breaks the chain); pruning keeps what is left verifiable; audit_event writes the
 * log line and the record together.
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
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "audit.h"
#include "buf.h"
#include "clock.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

#define T "acme"

struct fx {
	char dir[256];
	struct store *st;
	struct store_settings ss;
	struct buf log;		/* captured log lines, one per line */
};

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
capture_sink(enum log_level level, const char *line, void *arg)
{
	struct buf *b = arg;

	buf_printf(b, "%s\n", line);
}

static int
setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	struct fx *fx = xcalloc(1, sizeof(*fx));
	const char *err = NULL;

	snprintf(fx->dir, sizeof(fx->dir), "%s/sekisho-audit.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	buf_init(&fx->log, 0);
	log_set_sink(capture_sink, &fx->log);
	fx->ss.map_size = 1 << 20;
	fx->ss.map_size_max = 16 << 20;
	if ((fx->st = store_open(fx->dir, &fx->ss, &err)) == NULL)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	store_close(fx->st);
	nftw(fx->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	log_set_sink(NULL, NULL);
	buf_free(&fx->log);
	clock_set_fixed(0);
	free(fx);
	return 0;
}

/* ---- direct LMDB access, with the store closed ---- */

struct raw {
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
};

static void
raw_open(struct fx *fx, struct raw *r)
{
	char *path = xasprintf("%s/data", fx->dir);

	store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(mdb_env_create(&r->env), 0);
	assert_int_equal(mdb_env_set_maxdbs(r->env, 64), 0);
	assert_int_equal(mdb_env_open(r->env, path, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(r->env, NULL, 0, &r->txn), 0);
	assert_int_equal(mdb_dbi_open(r->txn, "audit", 0, &r->dbi), 0);
	free(path);
}

static void
raw_close(struct fx *fx, struct raw *r)
{
	const char *err = NULL;

	assert_int_equal(mdb_txn_commit(r->txn), 0);
	mdb_env_close(r->env);
	fx->st = store_open(fx->dir, &fx->ss, &err);
	assert_non_null(fx->st);
}

/* The key of record seq: tenant, NUL, 8-byte big-endian sequence number. */
static size_t
seq_key(const char *tenant, uint64_t seq, unsigned char *k)
{
	size_t n = strlen(tenant) + 1;

	memcpy(k, tenant, n);
	for (int i = 0; i < 8; i++)
		k[n + i] = (unsigned char)(seq >> (56 - 8 * i));
	return n + 8;
}

/* Replace the bytes from with to (same length) inside record seq. */
static void
raw_edit(struct fx *fx, uint64_t seq, const char *from, const char *to)
{
	unsigned char kb[64], *copy, *at;
	MDB_val k, v;
	struct raw r;

	raw_open(fx, &r);
	k.mv_size = seq_key(T, seq, kb);
	k.mv_data = kb;
	assert_int_equal(mdb_get(r.txn, r.dbi, &k, &v), 0);
	copy = xmemdup(v.mv_data, v.mv_size);
	at = memmem(copy, v.mv_size, from, strlen(from));
	assert_non_null(at);
	memcpy(at, to, strlen(to));
	v.mv_data = copy;
	assert_int_equal(mdb_put(r.txn, r.dbi, &k, &v, 0), 0);
	free(copy);
	raw_close(fx, &r);
}

static void
raw_delete(struct fx *fx, uint64_t seq)
{
	unsigned char kb[64];
	MDB_val k;
	struct raw r;

	raw_open(fx, &r);
	k.mv_size = seq_key(T, seq, kb);
	k.mv_data = kb;
	assert_int_equal(mdb_del(r.txn, r.dbi, &k, NULL), 0);
	raw_close(fx, &r);
}

/* ---- helpers ---- */

static void
append_n(struct fx *fx, const char *tenant, int n, int64_t t0, int64_t step)
{
	for (int i = 0; i < n; i++) {
		char fields[64];

		snprintf(fields, sizeof(fields), "user=user%d ip=192.0.2.%d", i, i);
		assert_int_equal(store_audit_append(fx->st, tenant, t0 + i * step, "login.ok",
		    fields), 0);
	}
}

static void
list_cb(const struct audit_rec *r, void *arg)
{
	buf_printf(arg, "%llu@%llu:%s[%s]%s;", (unsigned long long)r->seq,
	    (unsigned long long)r->time, r->event, r->fields,
	    r->prev_len == 32 ? "" : "(no prev)");
}

static char *
listing(struct fx *fx, const char *tenant, int64_t since)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(store_audit_list(fx->st, tenant, since, list_cb, &b), 0);
	return buf_steal(&b, NULL);
}

static int
verify(struct fx *fx, const char *tenant, uint64_t *bad_r, const char **err_r)
{
	*bad_r = 0;
	*err_r = NULL;
	return store_audit_verify(fx->st, tenant, bad_r, err_r);
}

/* ---- tests ---- */

static void
test_audit_append_list(void **state)
{
	struct fx *fx = *state;
	char *s;

	append_n(fx, T, 3, 1000, 10);
	s = listing(fx, T, 0);
	assert_string_equal(s, "1@1000:login.ok[user=user0 ip=192.0.2.0];"
	    "2@1010:login.ok[user=user1 ip=192.0.2.1];3@1020:login.ok[user=user2 ip=192.0.2.2];");
	free(s);
	/* since is inclusive. */
	s = listing(fx, T, 1010);
	assert_string_equal(s, "2@1010:login.ok[user=user1 ip=192.0.2.1];"
	    "3@1020:login.ok[user=user2 ip=192.0.2.2];");
	free(s);
	s = listing(fx, T, 1021);
	assert_string_equal(s, "");
	free(s);
}

static void
range_cb(const struct audit_rec *r, void *arg)
{
	buf_printf(arg, "%llu;", (unsigned long long)r->seq);
}

/* The head and the named marks of forwarders: per tenant, apart from the records. */
static void
test_audit_head_mark(void **state)
{
	struct fx *fx = *state;
	uint64_t seq = 99;

	assert_int_equal(store_audit_head(fx->st, T, &seq), 0);
	assert_int_equal(seq, 0);
	assert_int_equal(store_audit_mark_get(fx->st, T, "forward", &seq), 0);
	assert_int_equal(seq, 0);
	append_n(fx, T, 3, 1000, 1);
	append_n(fx, "t1", 1, 1000, 1);
	assert_int_equal(store_audit_head(fx->st, T, &seq), 0);
	assert_int_equal(seq, 3);
	assert_int_equal(store_audit_mark_set(fx->st, T, "forward", 0x0102030405060708ULL), 0);
	assert_int_equal(store_audit_mark_get(fx->st, T, "forward", &seq), 1);
	assert_int_equal(seq, 0x0102030405060708ULL);
	assert_int_equal(store_audit_mark_get(fx->st, "t1", "forward", &seq), 0);
	assert_int_equal(store_audit_mark_get(fx->st, T, "other", &seq), 0);
	assert_int_equal(store_audit_mark_set(fx->st, T, "forward", 2), 0);
	assert_int_equal(store_audit_mark_get(fx->st, T, "forward", &seq), 1);
	assert_int_equal(seq, 2);
	assert_int_equal(store_audit_verify(fx->st, T, &seq, &(const char *){ NULL }), 0);
}

/* Batches of at most max after a sequence number, and only the tenant's. */
static void
test_audit_range(void **state)
{
	struct fx *fx = *state;
	struct buf b;

	append_n(fx, T, 5, 1000, 1);
	append_n(fx, "t1", 3, 1000, 1);	/* a tenant id that extends another */
	buf_init(&b, 0);
	buf_puts(&b, "");
	assert_int_equal(store_audit_range(fx->st, T, 0, 2, range_cb, &b), 2);
	assert_int_equal(store_audit_range(fx->st, T, 2, 2, range_cb, &b), 2);
	assert_int_equal(store_audit_range(fx->st, T, 4, 2, range_cb, &b), 1);
	assert_int_equal(store_audit_range(fx->st, T, 5, 2, range_cb, &b), 0);
	assert_int_equal(store_audit_range(fx->st, T, UINT64_MAX, 2, range_cb, &b), 0);
	assert_string_equal(b.data, "1;2;3;4;5;");
	buf_reset(&b);
	buf_puts(&b, "");
	assert_int_equal(store_audit_range(fx->st, "t1", 1, 10, range_cb, &b), 2);
	assert_int_equal(store_audit_range(fx->st, "nobody", 0, 10, range_cb, &b), 0);
	assert_string_equal(b.data, "2;3;");
	buf_free(&b);
}

/* Newest first: batches below a sequence number, only the tenant's, whatever sorts around it. */
static void
test_audit_range_before(void **state)
{
	struct fx *fx = *state;
	struct buf b;

	append_n(fx, "a", 2, 1000, 1);	/* a tenant that sorts before */
	append_n(fx, T, 5, 1000, 1);
	append_n(fx, "t1", 3, 1000, 1);	/* and one that extends T's id */
	buf_init(&b, 0);
	buf_puts(&b, "");
	assert_int_equal(store_audit_range_before(fx->st, T, 0, 2, range_cb, &b), 2);
	assert_int_equal(store_audit_range_before(fx->st, T, 4, 2, range_cb, &b), 2);
	assert_int_equal(store_audit_range_before(fx->st, T, 2, 2, range_cb, &b), 1);
	assert_int_equal(store_audit_range_before(fx->st, T, 1, 2, range_cb, &b), 0);
	assert_string_equal(b.data, "5;4;3;2;1;");
	buf_reset(&b);
	buf_puts(&b, "");
	assert_int_equal(store_audit_range_before(fx->st, T, 99, 10, range_cb, &b), 5);
	assert_int_equal(store_audit_range_before(fx->st, "t1", 0, 10, range_cb, &b), 3);
	assert_int_equal(store_audit_range_before(fx->st, "a", 0, 10, range_cb, &b), 2);
	assert_int_equal(store_audit_range_before(fx->st, "nobody", 0, 10, range_cb, &b), 0);
	assert_int_equal(store_audit_range_before(fx->st, "0", 0, 10, range_cb, &b), 0);
	assert_string_equal(b.data, "5;4;3;2;1;3;2;1;2;1;");
	buf_free(&b);
}

static void
test_audit_verify_intact(void **state)
{
	struct fx *fx = *state;
	uint64_t bad;
	const char *err;

	/* An empty trail verifies. */
	assert_int_equal(verify(fx, T, &bad, &err), 0);
	append_n(fx, T, 10, 1000, 1);
	assert_int_equal(verify(fx, T, &bad, &err), 0);
	/* Survives a restart. */
	store_close(fx->st);
	fx->st = store_open(fx->dir, &fx->ss, &err);
	assert_non_null(fx->st);
	assert_int_equal(verify(fx, T, &bad, &err), 0);
	append_n(fx, T, 2, 2000, 1);
	assert_int_equal(verify(fx, T, &bad, &err), 0);
}

static void
test_audit_tenants_separate(void **state)
{
	struct fx *fx = *state;
	uint64_t bad;
	const char *err;
	char *s;

	append_n(fx, "t", 2, 1000, 1);
	append_n(fx, "t1", 3, 1000, 1);	/* a tenant id that extends another */
	append_n(fx, "t", 1, 1005, 1);
	s = listing(fx, "t", 0);
	assert_non_null(strstr(s, "3@1005"));
	assert_null(strstr(s, "4@"));
	free(s);
	s = listing(fx, "t1", 0);
	assert_non_null(strstr(s, "3@1002"));
	free(s);
	assert_int_equal(verify(fx, "t", &bad, &err), 0);
	assert_int_equal(verify(fx, "t1", &bad, &err), 0);
	assert_int_equal(verify(fx, "nobody", &bad, &err), 0);
}

static void
test_audit_tamper_middle(void **state)
{
	struct fx *fx = *state;
	uint64_t bad;
	const char *err;

	append_n(fx, T, 5, 1000, 1);
	raw_edit(fx, 3, "user=user2", "user=eve!!");
	assert_int_equal(verify(fx, T, &bad, &err), -1);
	assert_non_null(err);
	/* The break is found at the altered record or at the first one that links to it. */
	assert_true(bad == 3 || bad == 4);
}

static void
test_audit_tamper_each_record(void **state)
{
	struct fx *fx = *state;
	uint64_t bad;
	const char *err;

	append_n(fx, T, 4, 1000, 1);
	/* Alter the event name of each record in turn, then put it back. */
	for (uint64_t seq = 1; seq <= 4; seq++) {
		raw_edit(fx, seq, "login.ok", "login.OK");
		assert_int_equal(verify(fx, T, &bad, &err), -1);
		assert_true(bad == seq || bad == seq + 1);
		raw_edit(fx, seq, "login.OK", "login.ok");
		assert_int_equal(verify(fx, T, &bad, &err), 0);
	}
}

static void
test_audit_tamper_time(void **state)
{
	struct fx *fx = *state;
	uint64_t bad;
	const char *err;
	unsigned char be[8], be2[8];
	uint64_t t = 1000 + 2;

	/* Backdating a record (its u64 time field) is caught as well. */
	append_n(fx, T, 4, 1000, 1);
	for (int i = 0; i < 8; i++) {
		be[i] = (unsigned char)(t >> (56 - 8 * i));
		be2[i] = (unsigned char)((t - 1000) >> (56 - 8 * i));
	}
	/* The 8 bytes contain NULs, so raw_edit (strings) does not fit: edit here. */
	{
		unsigned char kb[64], *copy, *at;
		MDB_val k, v;
		struct raw r;

		raw_open(fx, &r);
		k.mv_size = seq_key(T, 3, kb);
		k.mv_data = kb;
		assert_int_equal(mdb_get(r.txn, r.dbi, &k, &v), 0);
		copy = xmemdup(v.mv_data, v.mv_size);
		assert_non_null(at = memmem(copy, v.mv_size, be, 8));
		memcpy(at, be2, 8);
		v.mv_data = copy;
		assert_int_equal(mdb_put(r.txn, r.dbi, &k, &v, 0), 0);
		free(copy);
		raw_close(fx, &r);
	}
	assert_int_equal(verify(fx, T, &bad, &err), -1);
}

static void
test_audit_tamper_last(void **state)
{
	struct fx *fx = *state;
	uint64_t bad;
	const char *err;

	append_n(fx, T, 3, 1000, 1);
	raw_edit(fx, 3, "user=user2", "user=zzzzz");
	assert_int_equal(verify(fx, T, &bad, &err), -1);
	assert_int_equal(bad, 3);
}

static void
test_audit_deleted_records(void **state)
{
	struct fx *fx = *state;
	uint64_t bad;
	const char *err;

	append_n(fx, T, 5, 1000, 1);
	raw_delete(fx, 3);
	assert_int_equal(verify(fx, T, &bad, &err), -1);
	assert_int_equal(bad, 4);
}

static void
test_audit_deleted_first(void **state)
{
	struct fx *fx = *state;
	uint64_t bad;
	const char *err;

	append_n(fx, T, 3, 1000, 1);
	raw_delete(fx, 1);
	assert_int_equal(verify(fx, T, &bad, &err), -1);
	assert_int_equal(bad, 2);
}

static void
test_audit_deleted_newest(void **state)
{
	struct fx *fx = *state;
	uint64_t bad;
	const char *err;

	append_n(fx, T, 3, 1000, 1);
	raw_delete(fx, 3);
	assert_int_equal(verify(fx, T, &bad, &err), -1);
	assert_string_equal(err, "chain broken: the newest records are missing");
	assert_int_equal(bad, 3);
}

static void
test_audit_prune(void **state)
{
	struct fx *fx = *state;
	uint64_t bad;
	const char *err;
	char *s;

	append_n(fx, T, 5, 100, 100);	/* times 100 .. 500 */
	assert_int_equal(store_audit_prune(fx->st, T, 300), 1);
	s = listing(fx, T, 0);
	assert_int_equal(strncmp(s, "3@300:", 6), 0);
	assert_non_null(strstr(s, "5@500:"));
	assert_null(strstr(s, "2@200"));
	free(s);
	assert_int_equal(verify(fx, T, &bad, &err), 0);
	/* Nothing older left: a second prune is a no-op. */
	assert_int_equal(store_audit_prune(fx->st, T, 300), 0);
	assert_int_equal(verify(fx, T, &bad, &err), 0);
	/* Appending continues the sequence and the chain. */
	append_n(fx, T, 2, 600, 1);
	s = listing(fx, T, 600);
	assert_int_equal(strncmp(s, "6@600:", 6), 0);
	free(s);
	assert_int_equal(verify(fx, T, &bad, &err), 0);
	/* A second prune moves the anchor. */
	assert_int_equal(store_audit_prune(fx->st, T, 450), 1);
	assert_int_equal(verify(fx, T, &bad, &err), 0);
}

static void
test_audit_prune_then_tamper(void **state)
{
	struct fx *fx = *state;
	uint64_t bad;
	const char *err;

	append_n(fx, T, 5, 100, 100);
	assert_int_equal(store_audit_prune(fx->st, T, 300), 1);
	/* Removing the oldest kept record is noticed against the anchor. */
	raw_delete(fx, 3);
	assert_int_equal(verify(fx, T, &bad, &err), -1);
	assert_int_equal(bad, 4);
}

static void
test_audit_prune_all(void **state)
{
	struct fx *fx = *state;
	uint64_t bad;
	const char *err;
	char *s;

	append_n(fx, T, 3, 100, 1);
	assert_int_equal(store_audit_prune(fx->st, T, 1000), 1);
	s = listing(fx, T, 0);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(verify(fx, T, &bad, &err), 0);
	append_n(fx, T, 1, 2000, 1);
	s = listing(fx, T, 0);
	assert_int_equal(strncmp(s, "4@2000:", 7), 0);
	free(s);
	assert_int_equal(verify(fx, T, &bad, &err), 0);
}

static void
test_audit_event(void **state)
{
	struct fx *fx = *state;
	char *s;

	clock_set_fixed(1709210096);
	audit_event(fx->st, T, "login.fail", "user", "bob smith", "ip", "192.0.2.1", "app", NULL,
	    "reason", "bad\npassword", NULL);
	clock_set_fixed(0);
	/* One log line, with the values quoted and the newline neutralised. */
	assert_string_equal(fx->log.data, "audit event=login.fail tenant=acme "
	    "user=\"bob smith\" ip=192.0.2.1 reason=\"bad?password\"\n");
	/* And the same in the trail. */
	s = listing(fx, T, 0);
	assert_string_equal(s, "1@1709210096:login.fail"
	    "[user=\"bob smith\" ip=192.0.2.1 reason=\"bad?password\"];");
	free(s);
}

static void
test_audit_event_without_store(void **state)
{
	struct fx *fx = *state;
	char *s;

	audit_event(NULL, T, "startup", "version", "1", NULL);
	assert_string_equal(fx->log.data, "audit event=startup tenant=acme version=1\n");
	s = listing(fx, T, 0);
	assert_string_equal(s, "");
	free(s);
}

static void
test_audit_fields_roundtrip(void **state)
{
	static const char *const values[] = { "bob", "bob smith", "say \"hi\"", "back\\slash",
		"a=b", "", "\xe9\x96\xa2\xe6\x89\x80", "trailing\\", "x y=\"z\" \\" };
	struct audit_entry e;
	struct audit_fields f;

	/* Whatever audit_entry_make writes, audit_fields_parse reads back. */
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		audit_entry_make(&e, "x.y", "user", values[i], "ip", "192.0.2.1", "app", NULL,
		    "reason", values[i], NULL);
		assert_int_equal(audit_fields_parse(e.fields, &f), 0);
		assert_int_equal(f.n, 3);
		assert_string_equal(f.keys[0], "user");
		assert_string_equal(f.values[0], values[i]);
		assert_string_equal(audit_fields_get(&f, "ip"), "192.0.2.1");
		assert_string_equal(audit_fields_get(&f, "reason"), values[i]);
		assert_null(audit_fields_get(&f, "app"));
		assert_null(audit_fields_get(&f, "use"));
		audit_fields_clear(&f);
	}
}

static void
test_audit_fields_parse_cases(void **state)
{
	static const struct {
		const char *in;
		int rc;
		size_t n;
		const char *key, *value;	/* of the last field */
	} cases[] = {
		{ "", 0, 0, NULL, NULL },
		{ "user=alice", 0, 1, "user", "alice" },
		{ "user=alice ip=::1", 0, 2, "ip", "::1" },
		{ "reason=\"bad?password\"", 0, 1, "reason", "bad?password" },
		{ "a=\"\"", 0, 1, "a", "" },
		{ "a=", 0, 1, "a", "" },
		/* A quoted value cut by the 1536-byte cap ends with the text. */
		{ "user=bob reason=\"cut sh", 0, 2, "reason", "cut sh" },
		{ "user=x user=y", 0, 2, "user", "y" },
		{ "user", -1, 0, NULL, NULL },
		{ "=alice", -1, 0, NULL, NULL },
		{ "user=alice  ip=x", -1, 0, NULL, NULL },
		{ " user=alice", -1, 0, NULL, NULL },
		{ "user=\"a\"b", -1, 0, NULL, NULL },
		{ "us\"er=a", -1, 0, NULL, NULL },
		{ "user=alice junk", -1, 0, NULL, NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct audit_fields f;
		int rc = audit_fields_parse(cases[i].in, &f);

		if (rc != cases[i].rc)
			print_error("[%s]: %d\n", cases[i].in, rc);
		assert_int_equal(rc, cases[i].rc);
		assert_int_equal(f.n, cases[i].n);
		if (cases[i].key) {
			assert_string_equal(f.keys[f.n - 1], cases[i].key);
			assert_string_equal(f.values[f.n - 1], cases[i].value);
			assert_string_equal(audit_fields_get(&f, cases[i].key), cases[i].value);
		}
		audit_fields_clear(&f);
	}
}

static void
test_audit_retention(void **state)
{
	/* 13 months, as the service specification requires: at least 395 days. */
	assert_true(AUDIT_RETENTION_SECONDS >= 395LL * 86400);
	assert_true(AUDIT_RETENTION_SECONDS <= 400LL * 86400);
}

int
main(void)
{
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		TEST(test_audit_append_list),
		TEST(test_audit_verify_intact),
		TEST(test_audit_tenants_separate),
		TEST(test_audit_tamper_middle),
		TEST(test_audit_tamper_each_record),
		TEST(test_audit_tamper_time),
		TEST(test_audit_tamper_last),
		TEST(test_audit_deleted_records),
		TEST(test_audit_deleted_first),
		TEST(test_audit_deleted_newest),
		TEST(test_audit_prune),
		TEST(test_audit_prune_then_tamper),
		TEST(test_audit_prune_all),
		TEST(test_audit_range),
		TEST(test_audit_head_mark),
		TEST(test_audit_range_before),
		TEST(test_audit_event),
		TEST(test_audit_event_without_store),
		cmocka_unit_test(test_audit_fields_roundtrip),
		cmocka_unit_test(test_audit_fields_parse_cases),
		cmocka_unit_test(test_audit_retention),
	};
#undef TEST

	return cmocka_run_group_tests(tests, NULL, NULL);
}
