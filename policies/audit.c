/*
 * The audit trail: append-only records per tenant, each holding the SHA-256 of the one
 * before, so a removed or altered record breaks the chain.  Pruning keeps an anchor.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "crypto.h"
#include "log.h"
#include "store_int.h"
#include "xmalloc.h"

#define F(tag, type, st, m) { tag, type, offsetof(struct st, m), 0 }

static const struct rec_field audit_fields[] = {
	F(1, REC_U64, audit_rec, seq),
	F(2, REC_U64, audit_rec, time),
	F(3, REC_STR, audit_rec, event),
	F(4, REC_STR, audit_rec, fields),
	{ 5, REC_BYTES, offsetof(struct audit_rec, prev), offsetof(struct audit_rec, prev_len) },
	REC_END
};

/* The head (last seq and hash) and the anchor (hash before the oldest kept record). */
struct chain_point {
	uint64_t seq;
	unsigned char *hash;
	size_t hash_len;
};

static const struct rec_field point_fields[] = {
	F(1, REC_U64, chain_point, seq),
	{ 2, REC_BYTES, offsetof(struct chain_point, hash), offsetof(struct chain_point, hash_len) },
	REC_END
};

void
store_audit_clear(struct audit_rec *r)
{
	rec_clear(audit_fields, r);
}

static void
seq_key(struct store_key *k, const char *tenant, uint64_t seq)
{
	unsigned char be[8];

	for (int i = 0; i < 8; i++)
		be[i] = (unsigned char)(seq >> (56 - 8 * i));
	skey_init(k, tenant);
	skey_add_bytes(k, "", 1);
	skey_add_bytes(k, be, 8);
}

static void
record_hash(const void *enc, size_t len, unsigned char out[32])
{
	crypto_sha256(enc, len, out);
}

struct audit_op {
	const char *tenant;
	int64_t now, before;
	const char *event, *fields;
	void (*cb)(const struct audit_rec *, void *);
	void *arg;
	uint64_t bad_seq;
	const char *err;
	struct store_txn *t;
	unsigned char prev[32];
	int have_prev;
	struct chain_point last_pruned;
};

static int
get_point(struct store_txn *t, const char *tenant, const char *name, struct chain_point *p)
{
	struct store_key k;

	skey_init(&k, tenant);
	skey_add(&k, name);
	return stx_get_rec(t, DB_META, &k, point_fields, p);
}

static int
put_point(struct store_txn *t, const char *tenant, const char *name, const struct chain_point *p)
{
	struct store_key k;

	skey_init(&k, tenant);
	skey_add(&k, name);
	return stx_put_rec(t, DB_META, &k, point_fields, p, 0);
}

static int
append_tx(struct store_txn *t, void *arg)
{
	struct audit_op *op = arg;

	return stx_audit_append(t, op->tenant, op->now, op->event, op->fields);
}

int
stx_audit_append(struct store_txn *t, const char *tenant, int64_t now, const char *event,
    const char *fields)
{
	struct audit_op one = { .tenant = tenant, .now = now, .event = event, .fields = fields };
	struct audit_op *op = &one;
	struct chain_point head = { 0 };
	unsigned char zero[32] = { 0 }, h[32];
	struct audit_rec r = { 0 };
	struct store_key k;
	struct buf enc;
	int rc;

	if (get_point(t, op->tenant, "audit_head", &head) < 0)
		return -1;
	r.seq = head.seq + 1;
	r.time = (uint64_t)op->now;
	r.event = (char *)op->event;
	r.fields = (char *)op->fields;
	r.prev = head.hash_len == 32 ? head.hash : zero;
	r.prev_len = 32;
	rec_encode(audit_fields, REC_VERSION, &r, &enc);
	record_hash(enc.data, enc.len, h);
	seq_key(&k, op->tenant, r.seq);
	rc = stx_put(t, DB_AUDIT, &k, enc.data, enc.len, STX_NOOVERWRITE);
	buf_free(&enc);
	rec_clear(point_fields, &head);
	if (rc != 0)
		return -1;
	head.seq = r.seq;
	head.hash = h;
	head.hash_len = 32;
	return put_point(t, op->tenant, "audit_head", &head);
}

int
store_audit_append(struct store *st, const char *tenant, int64_t now, const char *event,
    const char *fields)
{
	struct audit_op op = { .tenant = tenant, .now = now, .event = event, .fields = fields };

	return store_run(st, 1, append_tx, &op) < 0 ? -1 : 0;
}

static int
list_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct audit_op *op = arg;
	struct audit_rec r = { 0 };

	if (rec_decode(audit_fields, &r, val, vlen) == -1)
		return -1;
	if ((int64_t)r.time >= op->now)
		op->cb(&r, op->arg);
	store_audit_clear(&r);
	return 0;
}

static int
list_tx(struct store_txn *t, void *arg)
{
	struct audit_op *op = arg;
	struct store_key k;

	skey_init(&k, op->tenant);
	skey_prefix(&k);
	return stx_iter(t, DB_AUDIT, &k, list_cb, op);
}

int
store_audit_list(struct store *st, const char *tenant, int64_t since,
    void (*cb)(const struct audit_rec *r, void *arg), void *arg)
{
	struct audit_op op = { .tenant = tenant, .now = since, .cb = cb, .arg = arg };

	return store_run(st, 0, list_tx, &op);
}

struct range_op {
	const char *tenant;
	uint64_t after;		/* oldest first: records above after */
	uint64_t before;	/* newest first (when not 0): records below before */
	size_t max, seen;
	void (*cb)(const struct audit_rec *, void *);
	void *arg;
};

static int
range_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct range_op *op = arg;
	struct audit_rec r = { 0 };

	if (rec_decode(audit_fields, &r, val, vlen) == -1)
		return -1;
	if (op->before ? r.seq < op->before : r.seq > op->after) {
		op->cb(&r, op->arg);
		op->seen++;
	}
	store_audit_clear(&r);
	return op->seen < op->max ? 0 : 1;
}

static int
range_tx(struct store_txn *t, void *arg)
{
	struct range_op *op = arg;
	struct store_key prefix, start;

	skey_init(&prefix, op->tenant);
	skey_prefix(&prefix);
	op->seen = 0;
	if (op->before) {
		seq_key(&start, op->tenant, op->before);
		return stx_iter_before(t, DB_AUDIT, &prefix, &start, range_cb, op);
	}
	seq_key(&start, op->tenant, op->after + 1);
	return stx_iter_from(t, DB_AUDIT, &prefix, &start, range_cb, op);
}

int
store_audit_range(struct store *st, const char *tenant, uint64_t after, size_t max,
    void (*cb)(const struct audit_rec *r, void *arg), void *arg)
{
	struct range_op op = { .tenant = tenant, .after = after, .max = max ? max : 1,
		.cb = cb, .arg = arg };

	if (after == UINT64_MAX)
		return 0;
	return store_run(st, 0, range_tx, &op) < 0 ? -1 : (int)op.seen;
}

int
store_audit_range_before(struct store *st, const char *tenant, uint64_t before, size_t max,
    void (*cb)(const struct audit_rec *r, void *arg), void *arg)
{
	struct range_op op = { .tenant = tenant, .before = before ? before : UINT64_MAX,
		.max = max ? max : 1, .cb = cb, .arg = arg };

	if (before == 1)
		return 0;
	return store_run(st, 0, range_tx, &op) < 0 ? -1 : (int)op.seen;
}

static int
verify_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct audit_op *op = arg;
	struct audit_rec r = { 0 };

	if (rec_decode(audit_fields, &r, val, vlen) == -1) {
		op->err = "record does not decode";
		return 1;
	}
	if (r.prev_len != 32 || (op->have_prev && !crypto_eq(r.prev, op->prev, 32))) {
		op->bad_seq = r.seq;
		op->err = "chain broken: record does not hold the hash of its predecessor";
		store_audit_clear(&r);
		return 1;
	}
	store_audit_clear(&r);
	record_hash(val, vlen, op->prev);
	op->have_prev = 1;
	return 0;
}

static int
verify_tx(struct store_txn *t, void *arg)
{
	struct audit_op *op = arg;
	struct chain_point anchor = { 0 }, head = { 0 };
	struct store_key k;
	int rc;

	op->err = NULL;
	memset(op->prev, 0, 32);
	op->have_prev = 1;	/* the first record follows the anchor, or zeros */
	if ((rc = get_point(t, op->tenant, "audit_anchor", &anchor)) < 0 ||
	    get_point(t, op->tenant, "audit_head", &head) < 0)
		return -1;
	if (rc == 1 && anchor.hash_len == 32)
		memcpy(op->prev, anchor.hash, 32);
	rec_clear(point_fields, &anchor);
	skey_init(&k, op->tenant);
	skey_prefix(&k);
	if (stx_iter(t, DB_AUDIT, &k, verify_cb, op) < 0)
		return -1;
	if (op->err == NULL && head.hash_len == 32 && !crypto_eq(head.hash, op->prev, 32)) {
		op->err = "chain broken: the newest records are missing";
		op->bad_seq = head.seq;
	}
	rec_clear(point_fields, &head);
	return op->err ? -1 : 0;
}

int
store_audit_verify(struct store *st, const char *tenant, uint64_t *bad_seq_r,
    const char **errstr)
{
	struct audit_op op = { .tenant = tenant };
	int rc = store_run(st, 0, verify_tx, &op);

	*bad_seq_r = op.bad_seq;
	if (rc < 0)
		*errstr = op.err ? op.err : "storage error";
	return rc < 0 ? -1 : 0;
}

/* ---- positions of readers that follow the trail (audit forwarding) ---- */

struct mark_op {
	const char *tenant, *name;
	uint64_t seq;
	int found;
};

static void
mark_key(struct store_key *k, const char *tenant, const char *name)
{
	skey_init(k, tenant);
	skey_add(k, "audit_mark");
	skey_add(k, name);
}

static int
head_tx(struct store_txn *t, void *arg)
{
	struct mark_op *op = arg;
	struct chain_point head = { 0 };
	int rc = get_point(t, op->tenant, "audit_head", &head);

	op->seq = rc == 1 ? head.seq : 0;
	rec_clear(point_fields, &head);
	return rc < 0 ? -1 : 0;
}

int
store_audit_head(struct store *st, const char *tenant, uint64_t *seq_r)
{
	struct mark_op op = { .tenant = tenant };
	int rc = store_run(st, 0, head_tx, &op);

	*seq_r = op.seq;
	return rc < 0 ? -1 : 0;
}

static int
mark_get_tx(struct store_txn *t, void *arg)
{
	struct mark_op *op = arg;
	struct store_key k;
	const unsigned char *v;
	const void *vp;
	size_t len;
	int rc;

	mark_key(&k, op->tenant, op->name);
	if ((rc = stx_get(t, DB_META, &k, &vp, &len)) != 1)
		return rc;
	if (len != 8)
		return -1;
	v = vp;
	op->seq = 0;
	for (int i = 0; i < 8; i++)
		op->seq = op->seq << 8 | v[i];
	op->found = 1;
	return 0;
}

int
store_audit_mark_get(struct store *st, const char *tenant, const char *name, uint64_t *seq_r)
{
	struct mark_op op = { .tenant = tenant, .name = name };
	int rc = store_run(st, 0, mark_get_tx, &op);

	*seq_r = op.seq;
	return rc < 0 ? -1 : op.found;
}

static int
mark_set_tx(struct store_txn *t, void *arg)
{
	struct mark_op *op = arg;
	unsigned char be[8];
	struct store_key k;

	for (int i = 0; i < 8; i++)
		be[i] = (unsigned char)(op->seq >> (56 - 8 * i));
	mark_key(&k, op->tenant, op->name);
	return stx_put(t, DB_META, &k, be, 8, 0);
}

int
store_audit_mark_set(struct store *st, const char *tenant, const char *name, uint64_t seq)
{
	struct mark_op op = { .tenant = tenant, .name = name, .seq = seq };

	return store_run(st, 1, mark_set_tx, &op) < 0 ? -1 : 0;
}

static int
prune_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct audit_op *op = arg;
	struct audit_rec r = { 0 };
	int old;

	if (rec_decode(audit_fields, &r, val, vlen) == -1)
		return -1;
	old = (int64_t)r.time < op->before;
	if (old) {
		record_hash(val, vlen, op->prev);
		op->have_prev = 1;
		op->last_pruned.seq = r.seq;
	}
	store_audit_clear(&r);
	return old ? 2 : 1;	/* records are in time order: stop at the first one kept */
}

static int
prune_tx(struct store_txn *t, void *arg)
{
	struct audit_op *op = arg;
	struct store_key k;
	struct chain_point anchor;

	op->have_prev = 0;
	skey_init(&k, op->tenant);
	skey_prefix(&k);
	if (stx_iter_del(t, DB_AUDIT, &k, prune_cb, op) < 0)
		return -1;
	if (!op->have_prev)
		return 0;
	anchor.seq = op->last_pruned.seq;
	anchor.hash = op->prev;
	anchor.hash_len = 32;
	return put_point(t, op->tenant, "audit_anchor", &anchor) == 0 ? 1 : -1;
}

int
store_audit_prune(struct store *st, const char *tenant, int64_t before)
{
	struct audit_op op = { .tenant = tenant, .before = before };

	return store_run(st, 1, prune_tx, &op);
}

static void
make_fields(struct audit_entry *e, const char *event, va_list ap)
{
	size_t n = 0;
	const char *k, *v;

	e->event = event;
	e->fields[0] = '\0';
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (v == NULL || n + 2 >= sizeof(e->fields))
			continue;
		if (n)
			e->fields[n++] = ' ';
		n += log_kv(e->fields + n, sizeof(e->fields) - n, k, v);
	}
}

void
audit_entry_make(struct audit_entry *e, const char *event, ...)
{
	va_list ap;

	va_start(ap, event);
	make_fields(e, event, ap);
	va_end(ap);
}

void
audit_entry_makev(struct audit_entry *e, const char *event, va_list ap)
{
	make_fields(e, event, ap);
}

void
audit_entry_add(struct audit_entry *e, const char *key, const char *value)
{
	size_t n = strlen(e->fields);

	if (value == NULL || n + 2 >= sizeof(e->fields))
		return;
	if (n)
		e->fields[n++] = ' ';
	log_kv(e->fields + n, sizeof(e->fields) - n, key, value);
}

static audit_observer_fn observer;

void
audit_set_observer(audit_observer_fn fn)
{
	observer = fn;
}

void
audit_entry_log(const struct audit_entry *e, const char *tenant)
{
	log_msg(LOG_LEVEL_INFO, NULL, "audit event=%s tenant=%s %s", e->event, tenant, e->fields);
	if (observer)
		observer(tenant, e->event, e->fields);
}

void
audit_event(struct store *st, const char *tenant, const char *event, ...)
{
	struct audit_entry e;
	va_list ap;

	va_start(ap, event);
	make_fields(&e, event, ap);
	va_end(ap);
	audit_entry_log(&e, tenant);
	if (st && store_audit_append(st, tenant, clock_now(), event, e.fields) == -1)
		log_error("audit record for %s could not be stored", event);
}

int
stx_audit_entry(struct store_txn *t, const char *tenant, const struct audit_entry *ae,
    const char *extra, struct audit_entry *full_r)
{
	size_t n;

	memset(full_r, 0, sizeof(*full_r));
	if (ae == NULL)
		return 0;
	*full_r = *ae;
	n = strlen(full_r->fields);
	if (extra && *extra)
		snprintf(full_r->fields + n, sizeof(full_r->fields) - n, "%s%s", n ? " " : "",
		    extra);
	return stx_audit_append(t, tenant, clock_now(), full_r->event, full_r->fields);
}

void
audit_entry_done(const struct audit_entry *full, const char *tenant)
{
	if (full->event)
		audit_entry_log(full, tenant);
}

/* The value at *p (advanced past it): quoted with backslash escapes, or up to a space. */
static char *
parse_value(const char **p)
{
	const char *s = *p;
	char *v, *o;

	if (*s != '"') {
		size_t n = strcspn(s, " ");
		*p = s + n;
		return xstrndup(s, n);
	}
	o = v = xmalloc(strlen(s));
	for (s++; *s && *s != '"'; s++) {
		if (*s == '\\' && s[1])
			s++;
		*o++ = *s;
	}
	*o = '\0';
	*p = *s == '"' ? s + 1 : s;
	return v;
}

int
audit_fields_parse(const char *fields, struct audit_fields *f_r)
{
	const char *p = fields;

	memset(f_r, 0, sizeof(*f_r));
	while (*p) {
		size_t klen = strcspn(p, "= \"");
		if (klen == 0 || p[klen] != '=')
			goto bad;
		f_r->keys = xreallocarray(f_r->keys, f_r->n + 1, sizeof(char *));
		f_r->values = xreallocarray(f_r->values, f_r->n + 1, sizeof(char *));
		f_r->keys[f_r->n] = xstrndup(p, klen);
		p += klen + 1;
		f_r->values[f_r->n++] = parse_value(&p);
		if (*p && *p++ != ' ')
			goto bad;
	}
	return 0;
bad:
	audit_fields_clear(f_r);
	return -1;
}

const char *
audit_fields_get(const struct audit_fields *f, const char *key)
{
	for (size_t i = f->n; i > 0; i--)
		if (!strcmp(f->keys[i - 1], key))
			return f->values[i - 1];
	return NULL;
}

void
audit_fields_clear(struct audit_fields *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->keys[i]);
		free(f->values[i]);
	}
	free(f->keys);
	free(f->values);
	memset(f, 0, sizeof(*f));
}
