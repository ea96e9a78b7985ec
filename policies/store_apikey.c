/*
 * API keys in the store: a record per key keyed "tenant ID" ("apikeys"), with an index
 * "tenant NAME" (folded to lower case) to the id ("apikeys_by_name").  The use counters
 * live in the record and store_apikey_hit checks and counts a call in one write
 * transaction, so concurrent calls, restarts and several processes agree on them.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "crypto.h"
#include "store_int.h"
#include "xmalloc.h"

#define F(tag, type, st, m) { tag, type, offsetof(struct st, m), 0 }
#define FB(tag, st, m, l) { tag, REC_BYTES, offsetof(struct st, m), offsetof(struct st, l) }

/* struct apikey as stored: its hash is a byte field. */
struct apikeyrec {
	char *id;
	char *name;
	unsigned char *hash;
	size_t hash_len;
	uint64_t scopes;
	uint64_t created;
	uint64_t expires;
	uint64_t trial;
	uint64_t suspended;
	char *created_by;
	uint64_t month;
	uint64_t month_calls;
	uint64_t last_ms;
	uint64_t quota_month;
	uint64_t total_calls;
};

static const struct rec_field apikeyrec_fields[] = {
	F(1, REC_STR, apikeyrec, id),
	F(2, REC_STR, apikeyrec, name),
	FB(3, apikeyrec, hash, hash_len),
	F(4, REC_U64, apikeyrec, scopes),
	F(5, REC_U64, apikeyrec, created),
	F(6, REC_U64, apikeyrec, expires),
	F(7, REC_U64, apikeyrec, trial),
	F(8, REC_U64, apikeyrec, suspended),
	F(9, REC_STR, apikeyrec, created_by),
	F(10, REC_U64, apikeyrec, month),
	F(11, REC_U64, apikeyrec, month_calls),
	F(12, REC_U64, apikeyrec, last_ms),
	F(13, REC_U64, apikeyrec, quota_month),
	F(14, REC_U64, apikeyrec, total_calls),
	REC_END
};

#define ID_MAX 64

static void
apikeyrec_clear(struct apikeyrec *r)
{
	rec_clear(apikeyrec_fields, r);
}

void
store_apikey_clear(struct apikey *k)
{
	free(k->id);
	free(k->name);
	free(k->created_by);
	explicit_bzero(k, sizeof(*k));
}

void
store_apikey_hit_clear(struct apikey_hit *r)
{
	free(r->name);
	memset(r, 0, sizeof(*r));
}

/* The public view of r; strings are borrowed from r. */
static void
rec_view(const struct apikeyrec *r, struct apikey *k)
{
	memset(k, 0, sizeof(*k));
	k->id = r->id;
	k->name = r->name;
	if (r->hash && r->hash_len == sizeof(k->hash))
		memcpy(k->hash, r->hash, sizeof(k->hash));
	k->scopes = r->scopes;
	k->created = r->created;
	k->expires = r->expires;
	k->trial = r->trial;
	k->suspended = r->suspended;
	k->created_by = r->created_by;
	k->month = r->month;
	k->month_calls = r->month_calls;
	k->last_ms = r->last_ms;
	k->quota_month = r->quota_month;
	k->total_calls = r->total_calls;
}

/* The stored form of k; strings and hash are borrowed from k. */
static void
key_view(const struct apikey *k, struct apikeyrec *r)
{
	memset(r, 0, sizeof(*r));
	r->id = k->id;
	r->name = k->name;
	r->hash = (unsigned char *)k->hash;
	r->hash_len = sizeof(k->hash);
	r->scopes = k->scopes;
	r->created = k->created;
	r->expires = k->expires;
	r->trial = k->trial;
	r->suspended = k->suspended;
	r->created_by = k->created_by;
	r->month = k->month;
	r->month_calls = k->month_calls;
	r->last_ms = k->last_ms;
	r->quota_month = k->quota_month;
	r->total_calls = k->total_calls;
}

/* A copy of r that owns its strings. */
static void
rec_copy(const struct apikeyrec *r, struct apikey *k)
{
	rec_view(r, k);
	k->id = r->id ? xstrdup(r->id) : NULL;
	k->name = r->name ? xstrdup(r->name) : NULL;
	k->created_by = r->created_by ? xstrdup(r->created_by) : NULL;
}

static void
name_key(struct store_key *k, const char *tenant, const char *name)
{
	skey_init(k, tenant);
	skey_add_folded(k, name);
}

static int
by_id(struct store_txn *t, const char *tenant, const char *id, struct apikeyrec *r)
{
	struct store_key k;

	memset(r, 0, sizeof(*r));
	if (strlen(id) > ID_MAX)
		return 0;
	skey_of(&k, tenant, id);
	return stx_get_rec(t, DB_APIKEYS, &k, apikeyrec_fields, r);
}

static int
by_name(struct store_txn *t, const char *tenant, const char *name, struct apikeyrec *r)
{
	struct store_key k;
	const void *v;
	size_t len;
	char *id;
	int rc;

	memset(r, 0, sizeof(*r));
	name_key(&k, tenant, name);
	if (k.overflow || strlen(name) > STORE_NAME_MAX)
		return 0;
	if ((rc = stx_get(t, DB_APIKEYS_NAME, &k, &v, &len)) != 1)
		return rc;
	id = xstrndup(v, len);
	rc = by_id(t, tenant, id, r);
	free(id);
	return rc;
}

struct key_op {
	const char *tenant, *name, *id;
	const struct apikey *in;
	struct apikey *out;
	int on;
	const struct audit_entry *ae;
	struct audit_entry full;
	const char *err;
};

static int
add_tx(struct store_txn *t, void *arg)
{
	struct key_op *op = arg;
	struct apikeyrec r;
	struct store_key k;
	int rc;

	name_key(&k, op->tenant, op->in->name);
	rc = stx_put(t, DB_APIKEYS_NAME, &k, op->in->id, strlen(op->in->id), STX_NOOVERWRITE);
	if (rc != 0) {
		op->err = rc == 1 ? "an API key with this name exists" : op->err;
		return -1;
	}
	key_view(op->in, &r);
	skey_of(&k, op->tenant, op->in->id);
	if ((rc = stx_put_rec(t, DB_APIKEYS, &k, apikeyrec_fields, &r, STX_NOOVERWRITE)) != 0) {
		op->err = rc == 1 ? "an API key with this id exists" : op->err;
		return -1;
	}
	return stx_audit_entry(t, op->tenant, op->ae, NULL, &op->full);
}

/* Ids are what a caller sends in the clear: 16 hex digits, nothing else. */
static int
id_ok(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n > ID_MAX)
		return 0;
	return strspn(id, "0123456789abcdef") == n;
}

int
store_apikey_add(struct store *st, const char *tenant, const struct apikey *k,
    const struct audit_entry *ae, const char **errstr)
{
	struct key_op op = { .tenant = tenant, .in = k, .ae = ae,
		.err = "cannot store the API key" };
	int rc;

	if (k->name == NULL || !store_valid_name(k->name, STORE_NAME_MAX)) {
		*errstr = "invalid API key name";
		return -1;
	}
	if (!id_ok(k->id)) {
		*errstr = "invalid API key id";
		return -1;
	}
	rc = store_run(st, 1, add_tx, &op);
	if (rc < 0) {
		*errstr = rc == STORE_FULL ? "database full" : op.err;
		return -1;
	}
	audit_entry_done(&op.full, tenant);
	return 0;
}

static int
get_tx(struct store_txn *t, void *arg)
{
	struct key_op *op = arg;
	struct apikeyrec r;
	int rc;

	store_apikey_clear(op->out);
	rc = op->id ? by_id(t, op->tenant, op->id, &r) : by_name(t, op->tenant, op->name, &r);
	if (rc == 1)
		rec_copy(&r, op->out);
	apikeyrec_clear(&r);
	return rc;
}

int
store_apikey_get(struct store *st, const char *tenant, const char *name, struct apikey *k_r)
{
	struct key_op op = { .tenant = tenant, .name = name, .out = k_r };

	memset(k_r, 0, sizeof(*k_r));
	if (name == NULL)
		return 0;
	return store_run(st, 0, get_tx, &op);
}

int
store_apikey_get_by_id(struct store *st, const char *tenant, const char *id,
    struct apikey *k_r)
{
	struct key_op op = { .tenant = tenant, .id = id, .out = k_r };

	memset(k_r, 0, sizeof(*k_r));
	if (id == NULL)
		return 0;
	return store_run(st, 0, get_tx, &op);
}

struct list_arg {
	store_each_fn cb;
	void *arg;
};

static void
list_cb(const void *rec, void *arg)
{
	struct list_arg *l = arg;
	struct apikey k;

	rec_view(rec, &k);
	l->cb(&k, l->arg);
	explicit_bzero(k.hash, sizeof(k.hash));
}

int
store_apikey_list(struct store *st, const char *tenant, store_each_fn cb, void *arg)
{
	struct list_arg l = { cb, arg };

	return store_each_by(st, tenant, DB_APIKEYS_NAME, DB_APIKEYS, apikeyrec_fields,
	    sizeof(struct apikeyrec), list_cb, &l);
}

static int
suspend_tx(struct store_txn *t, void *arg)
{
	struct key_op *op = arg;
	struct store_key k;
	struct apikeyrec r;
	int rc;

	if ((rc = by_name(t, op->tenant, op->name, &r)) == 1) {
		r.suspended = op->on != 0;
		skey_of(&k, op->tenant, r.id);
		if (stx_put_rec(t, DB_APIKEYS, &k, apikeyrec_fields, &r, 0) != 0 ||
		    stx_audit_entry(t, op->tenant, op->ae, NULL, &op->full) < 0)
			rc = -1;
	}
	apikeyrec_clear(&r);
	return rc;
}

int
store_apikey_set_suspended(struct store *st, const char *tenant, const char *name, int on,
    const struct audit_entry *ae)
{
	struct key_op op = { .tenant = tenant, .name = name, .on = on, .ae = ae };
	int rc;

	if (name == NULL)
		return 0;
	rc = store_run(st, 1, suspend_tx, &op);
	if (rc == 1)
		audit_entry_done(&op.full, tenant);
	return rc < 0 ? -1 : rc;
}

static int
remove_tx(struct store_txn *t, void *arg)
{
	struct key_op *op = arg;
	struct store_key k;
	struct apikeyrec r;
	char extra[100];
	int rc;

	if ((rc = by_name(t, op->tenant, op->name, &r)) == 1) {
		snprintf(extra, sizeof(extra), "apikey_id=%s", r.id);
		name_key(&k, op->tenant, r.name);
		rc = stx_del(t, DB_APIKEYS_NAME, &k) < 0;
		skey_of(&k, op->tenant, r.id);
		rc = rc || stx_del(t, DB_APIKEYS, &k) < 0 ||
		    stx_audit_entry(t, op->tenant, op->ae, extra, &op->full) < 0 ? -1 : 1;
	}
	apikeyrec_clear(&r);
	return rc;
}

int
store_apikey_remove(struct store *st, const char *tenant, const char *name,
    const struct audit_entry *ae)
{
	struct key_op op = { .tenant = tenant, .name = name, .ae = ae };
	int rc;

	if (name == NULL)
		return 0;
	rc = store_run(st, 1, remove_tx, &op);
	if (rc == 1)
		audit_entry_done(&op.full, tenant);
	return rc < 0 ? -1 : rc;
}

/* ---- counting calls ---- */

/* year * 12 + month - 1 */
uint64_t
store_apikey_month(int64_t now_ms)
{
	time_t s = (time_t)(now_ms / 1000);
	struct tm tm;

	if (gmtime_r(&s, &tm) == NULL)
		return 0;
	return (uint64_t)(tm.tm_year + 1900) * 12 + (uint64_t)tm.tm_mon;
}

/* The first millisecond after month m. */
static int64_t
month_end_ms(uint64_t m)
{
	struct tm tm = { 0 };

	m++;
	tm.tm_year = (int)(m / 12) - 1900;
	tm.tm_mon = (int)(m % 12);
	tm.tm_mday = 1;
	return (int64_t)timegm(&tm) * 1000;
}

struct hit_op {
	const char *tenant, *id;
	const unsigned char *hash;
	int64_t now_ms;
	struct apikey_hit *r;
};

/* The month and per-second limits on a found, usable key; 1 when r changed (write it). */
static int
limits(struct apikeyrec *k, int64_t now_ms, struct apikey_hit *h)
{
	uint64_t m = store_apikey_month(now_ms);
	int64_t since = now_ms - (int64_t)k->last_ms;

	if (m < k->month)	/* the clock stepped back: the month counted stays */
		m = k->month;
	if (m > k->month) {
		k->month = m;
		k->month_calls = 0;
	}
	h->reset_s = (month_end_ms(m) - now_ms + 999) / 1000;
	h->remaining = k->month_calls < APIKEY_PER_MONTH ? APIKEY_PER_MONTH - k->month_calls : 0;
	if (k->quota_month == m) {
		h->verdict = APIKEY_MONTH;
		h->retry_after_ms = month_end_ms(m) - now_ms;
		return 0;
	}
	if (k->last_ms && since >= 0 && since < 1000 / APIKEY_PER_SECOND) {
		h->verdict = APIKEY_SECOND;
		h->retry_after_ms = 1000 / APIKEY_PER_SECOND - since;
		return 0;
	}
	if (k->month_calls >= APIKEY_PER_MONTH) {
		h->verdict = APIKEY_MONTH;
		h->retry_after_ms = month_end_ms(m) - now_ms;
		h->exhausted_now = 1;
		k->quota_month = m;
		return 1;
	}
	k->month_calls++;
	k->total_calls++;
	k->last_ms = (uint64_t)now_ms;
	h->remaining = APIKEY_PER_MONTH - k->month_calls;
	h->verdict = APIKEY_OK;
	return 1;
}

static int
hit_tx(struct store_txn *t, void *arg)
{
	struct hit_op *op = arg;
	struct apikey_hit *h = op->r;
	struct store_key k;
	struct apikeyrec r;
	int rc;

	store_apikey_hit_clear(h);
	h->verdict = APIKEY_UNKNOWN;
	if ((rc = by_id(t, op->tenant, op->id, &r)) != 1 || r.hash_len != 32 ||
	    !crypto_eq(r.hash, op->hash, 32)) {
		apikeyrec_clear(&r);
		return rc < 0 ? -1 : 0;
	}
	h->name = xstrdup(r.name);
	h->scopes = r.scopes;
	rc = 0;
	if (r.suspended)
		h->verdict = APIKEY_SUSPENDED;
	else if (r.expires && op->now_ms / 1000 >= (int64_t)r.expires)
		h->verdict = APIKEY_EXPIRED;
	else if (limits(&r, op->now_ms, h)) {
		skey_of(&k, op->tenant, r.id);
		rc = stx_put_rec(t, DB_APIKEYS, &k, apikeyrec_fields, &r, 0) == 0 ? 0 : -1;
	}
	apikeyrec_clear(&r);
	return rc;
}

int
store_apikey_hit(struct store *st, const char *tenant, const char *id,
    const unsigned char hash[32], int64_t now_ms, struct apikey_hit *r)
{
	struct hit_op op = { tenant, id, hash, now_ms, r };

	memset(r, 0, sizeof(*r));
	r->verdict = APIKEY_UNKNOWN;
	if (id == NULL || !id_ok(id))
		return 0;
	if (store_run(st, 1, hit_tx, &op) < 0) {
		store_apikey_hit_clear(r);
		return -1;
	}
	return 0;
}
