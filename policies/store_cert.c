/*
 * Store operations on device certificates (by serial, by user id, by fingerprint), the cap
 * of active certificates per user enforced inside the inserting transaction, revocation
 * (which ends the user's sessions and grants), and CRLs.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "encode.h"
#include "store_int.h"
#include "xmalloc.h"

#define F(tag, type, st, m) { tag, type, offsetof(struct st, m), 0 }
#define FB(tag, st, m, l) { tag, REC_BYTES, offsetof(struct st, m), offsetof(struct st, l) }

const struct rec_field store_cert_fields[] = {
	F(1, REC_STR, devcert, serial),
	F(2, REC_STR, devcert, user),
	F(3, REC_STR, devcert, label),
	F(4, REC_STR, devcert, fingerprint),
	F(5, REC_U64, devcert, issued),
	F(6, REC_U64, devcert, not_before),
	F(7, REC_U64, devcert, not_after),
	F(8, REC_U64, devcert, revoked),
	F(9, REC_U64, devcert, revoked_at),
	F(10, REC_U64, devcert, reason),
	FB(11, devcert, der, der_len),
	F(12, REC_U64, devcert, last_used),
	F(13, REC_STR, devcert, user_id),
	REC_END
};

static const struct rec_field crl_fields[] = {
	F(1, REC_U64, crlrec, number),
	F(2, REC_U64, crlrec, this_update),
	F(3, REC_U64, crlrec, next_update),
	FB(4, crlrec, der, der_len),
	F(5, REC_U64, crlrec, rev_gen),
	REC_END
};

void
store_devcert_clear(struct devcert *c)
{
	rec_clear(store_cert_fields, c);
}

void
store_crlrec_clear(struct crlrec *r)
{
	rec_clear(crl_fields, r);
}

static void
serial_key(struct store_key *k, const char *tenant, const char *serial)
{
	skey_init(k, tenant);
	skey_add(k, serial);
}

static void
user_key(struct store_key *k, const char *tenant, const char *user, const char *serial)
{
	skey_init(k, tenant);
	skey_add(k, user);
	if (serial)
		skey_add(k, serial);
	else
		skey_prefix(k);
}

static int
fp_key(struct store_key *k, const char *tenant, const char *fp_hex)
{
	unsigned char raw[32];
	size_t n;

	if (hex_decode(fp_hex, strlen(fp_hex), raw, sizeof(raw), &n) == -1 || n != 32)
		return -1;
	skey_init(k, tenant);
	skey_add_bytes(k, "", 1);
	skey_add_bytes(k, raw, 32);
	return 0;
}

struct cert_op {
	const char *tenant, *serial, *user, *fp;
	const struct devcert *in;
	struct devcert *out;
	int64_t now;
	int cap, reason, active;
	size_t skip;
	struct store_txn *t;
	const char *err;
	const struct audit_entry *audit;
	char **serials;
	size_t nserials;
	struct devcert *list;	/* store_cert_list: collected, then sorted */
	size_t nlist;
};

/* A per-tenant counter in DB_CRL ("crl_number", "rev_gen"): read, and bumped when bump. */
static int
counter(struct store_txn *t, const char *tenant, const char *name, int bump, uint64_t *v_r)
{
	struct store_key k;
	unsigned char b[8];
	const void *v;
	size_t len;
	int rc;

	skey_init(&k, tenant);
	skey_add(&k, name);
	*v_r = 0;
	if ((rc = stx_get(t, DB_CRL, &k, &v, &len)) < 0 ||
	    (rc == 1 && rec_u64(v, len, v_r) == -1))
		return -1;
	if (!bump)
		return 0;
	++*v_r;
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(*v_r >> (56 - 8 * i));
	return stx_put(t, DB_CRL, &k, b, 8, 0);
}

/* The certificate a user-index entry (key: user prefix + serial) points to: 1, 0 or -1. */
static int
indexed_cert(const struct cert_op *op, const void *key, size_t klen, struct devcert *c)
{
	char *serial = xstrndup((const char *)key + op->skip, klen - op->skip);
	struct store_key k;

	serial_key(&k, op->tenant, serial);
	free(serial);
	return stx_get_rec(op->t, DB_CERTS, &k, store_cert_fields, c);
}

/* Count the user's certificates that still count: not revoked, not expired. */
static int
count_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct cert_op *op = arg;
	struct devcert c = { 0 };
	int rc = indexed_cert(op, key, klen, &c);

	if (rc == 1 && !c.revoked && (int64_t)c.not_after > op->now)
		op->active++;
	store_devcert_clear(&c);
	return rc < 0 ? -1 : 0;
}

static int
cert_add_tx(struct store_txn *t, void *arg)
{
	struct cert_op *op = arg;
	struct store_key k;
	struct user u = { 0 };
	int rc;

	/* The user it was made for must still be there: the same id, not one of the same name. */
	rc = op->in->user_id ? stx_user_by_id(t, op->tenant, op->in->user_id, &u) : 0;
	store_user_clear(&u);
	if (rc == 0) {
		rc = op->in->user ? stx_user_get(t, op->tenant, op->in->user, &u) : 0;
		store_user_clear(&u);
		op->err = rc == 1 ? "the user changed while the certificate was made; try again" :
		    "no such user";
		return -1;
	}
	if (rc < 0)
		return -1;
	op->t = t;
	op->active = 0;
	user_key(&k, op->tenant, op->in->user_id, NULL);
	op->skip = k.len;
	if (stx_iter(t, DB_CERTS_BY_USER, &k, count_cb, op) < 0)
		return -1;
	if (op->active >= op->cap) {
		op->err = "device certificate limit reached (active certificates per user)";
		return -1;
	}
	/* A user's first active certificate takes a device seat of the licence. */
	if (op->active == 0 && stx_device_seat_check(t, op->tenant, op->now, &op->err) < 0)
		return -1;
	serial_key(&k, op->tenant, op->in->serial);
	if (stx_put_rec(t, DB_CERTS, &k, store_cert_fields, op->in, STX_NOOVERWRITE) != 0)
		return -1;
	user_key(&k, op->tenant, op->in->user_id, op->in->serial);
	if (stx_put(t, DB_CERTS_BY_USER, &k, "", 0, 0) != 0 ||
	    fp_key(&k, op->tenant, op->in->fingerprint) == -1 ||
	    stx_put(t, DB_CERTS_BY_FP, &k, op->in->serial, strlen(op->in->serial),
	    STX_NOOVERWRITE) != 0)
		return -1;
	if (op->audit && stx_audit_append(t, op->tenant, op->now, op->audit->event,
	    op->audit->fields) < 0)
		return -1;
	return 0;
}

int
store_cert_add(struct store *st, const char *tenant, const struct devcert *c, int64_t now,
    int cap, const struct audit_entry *ae, const char **errstr)
{
	struct cert_op op = { .tenant = tenant, .in = c, .now = now, .cap = cap, .audit = ae,
		.err = "cannot store the certificate" };
	int rc = store_run(st, 1, cert_add_tx, &op);

	if (rc < 0)
		*errstr = rc == STORE_FULL ? "database full" : op.err;
	return rc < 0 ? -1 : 0;
}

/* Counts distinct users (the index is in user order) with an active certificate. */
static int
holder_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct cert_op *op = arg;
	const char *user = (const char *)key + op->skip;
	size_t ulen = strnlen(user, klen - op->skip);
	int before = op->active;

	if (op->user && strlen(op->user) == ulen && !memcmp(op->user, user, ulen))
		return 0;	/* counted already */
	op->skip += ulen + 1;
	if (count_cb(key, klen, val, vlen, op) < 0)
		return -1;
	op->skip -= ulen + 1;
	if (op->active > before) {
		free((char *)op->user);
		op->user = xstrndup(user, ulen);
	}
	return 0;
}

int
stx_cert_holders(struct store_txn *t, const char *tenant, int64_t now, uint64_t *n_r)
{
	struct cert_op op = { .tenant = tenant, .now = now, .t = t };
	struct store_key k;
	int rc;

	skey_init(&k, tenant);
	skey_prefix(&k);
	op.skip = k.len;
	rc = stx_iter(t, DB_CERTS_BY_USER, &k, holder_cb, &op);
	free((char *)op.user);
	*n_r = (uint64_t)op.active;
	return rc < 0 ? -1 : 0;
}

static int
cert_active_tx(struct store_txn *t, void *arg)
{
	struct cert_op *op = arg;
	struct store_key k;

	op->t = t;
	op->active = 0;
	user_key(&k, op->tenant, op->user, NULL);
	op->skip = k.len;
	return stx_iter(t, DB_CERTS_BY_USER, &k, count_cb, op);
}

int
store_cert_active(struct store *st, const char *tenant, const char *user_id, int64_t now)
{
	struct cert_op op = { .tenant = tenant, .user = user_id, .now = now };

	return store_run(st, 0, cert_active_tx, &op) < 0 ? -1 : op.active;
}

static int
cert_get_tx(struct store_txn *t, void *arg)
{
	struct cert_op *op = arg;
	struct store_key k;
	const void *v;
	size_t len;
	int rc;

	store_devcert_clear(op->out);
	if (op->fp) {
		if (fp_key(&k, op->tenant, op->fp) == -1)
			return 0;
		if ((rc = stx_get(t, DB_CERTS_BY_FP, &k, &v, &len)) != 1)
			return rc;
		skey_init(&k, op->tenant);
		skey_add_bytes(&k, "", 1);
		skey_add_bytes(&k, v, len);
	} else {
		serial_key(&k, op->tenant, op->serial);
	}
	return stx_get_rec(t, DB_CERTS, &k, store_cert_fields, op->out);
}

int
store_cert_get(struct store *st, const char *tenant, const char *serial, struct devcert *c_r)
{
	struct cert_op op = { .tenant = tenant, .serial = serial, .out = c_r };

	memset(c_r, 0, sizeof(*c_r));
	if (strlen(serial) > 64)
		return 0;
	return store_run(st, 0, cert_get_tx, &op);
}

int
store_cert_by_fingerprint(struct store *st, const char *tenant, const char *fingerprint,
    struct devcert *c_r)
{
	struct cert_op op = { .tenant = tenant, .fp = fingerprint, .out = c_r };

	memset(c_r, 0, sizeof(*c_r));
	return store_run(st, 0, cert_get_tx, &op);
}

static void
list_add(struct cert_op *op, struct devcert *c)
{
	op->list = xreallocarray(op->list, op->nlist + 1, sizeof(*op->list));
	op->list[op->nlist++] = *c;
	memset(c, 0, sizeof(*c));
}

static void
list_clear(struct cert_op *op)
{
	for (size_t i = 0; i < op->nlist; i++)
		store_devcert_clear(&op->list[i]);
	free(op->list);
	op->list = NULL;
	op->nlist = 0;
}

static int
list_user_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct cert_op *op = arg;
	struct devcert c = { 0 };
	int rc = indexed_cert(op, key, klen, &c);

	if (rc == 1)
		list_add(op, &c);
	store_devcert_clear(&c);
	return rc < 0 ? -1 : 0;
}

static int
list_all_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct cert_op *op = arg;
	struct devcert c = { 0 };

	if (rec_decode(store_cert_fields, &c, val, vlen) == -1)
		return -1;
	list_add(op, &c);
	return 0;
}

static int
cert_list_tx(struct store_txn *t, void *arg)
{
	struct cert_op *op = arg;
	struct store_key k;

	list_clear(op);		/* a retried transaction starts over */
	op->t = t;
	if (op->user) {
		user_key(&k, op->tenant, op->user, NULL);
		op->skip = k.len;
		return stx_iter(t, DB_CERTS_BY_USER, &k, list_user_cb, op);
	}
	skey_init(&k, op->tenant);
	skey_prefix(&k);
	return stx_iter(t, DB_CERTS, &k, list_all_cb, op);
}

/* Oldest first; the serial breaks ties so the order is stable. */
static int
by_issued(const void *a, const void *b)
{
	const struct devcert *x = a, *y = b;

	if (x->issued != y->issued)
		return x->issued < y->issued ? -1 : 1;
	return strcmp(x->serial, y->serial);
}

int
store_cert_list(struct store *st, const char *tenant, const char *user_id, store_each_fn cb,
    void *arg)
{
	struct cert_op op = { .tenant = tenant, .user = user_id };
	int rc = store_run(st, 0, cert_list_tx, &op);

	if (rc == 0 && op.nlist > 0) {
		qsort(op.list, op.nlist, sizeof(*op.list), by_issued);
		for (size_t i = 0; i < op.nlist; i++)
			cb(&op.list[i], arg);
	}
	list_clear(&op);
	return rc;
}

/* Revoke one certificate record; 1 done, 2 already revoked, 0 unknown, -1 error. */
static int
revoke_one(struct store_txn *t, const char *tenant, const char *serial, int reason, int64_t now,
    struct devcert *owner_r)
{
	struct store_key k;
	struct devcert c = { 0 };
	uint64_t gen;
	int rc;

	serial_key(&k, tenant, serial);
	if ((rc = stx_get_rec(t, DB_CERTS, &k, store_cert_fields, &c)) != 1)
		return rc;
	if (c.revoked) {
		store_devcert_clear(&c);
		return 2;
	}
	c.revoked = 1;
	c.revoked_at = (uint64_t)now;
	c.reason = (uint64_t)reason;
	rc = stx_put_rec(t, DB_CERTS, &k, store_cert_fields, &c, 0);
	if (rc == 0)
		rc = counter(t, tenant, "rev_gen", 1, &gen);
	if (rc == 0 && owner_r) {
		owner_r->user = c.user, c.user = NULL;
		owner_r->user_id = c.user_id, c.user_id = NULL;
	}
	store_devcert_clear(&c);
	return rc == 0 ? 1 : -1;
}

static int
cert_revoke_tx(struct store_txn *t, void *arg)
{
	struct cert_op *op = arg;
	struct devcert owner = { 0 };
	int rc = revoke_one(t, op->tenant, op->serial, op->reason, op->now, &owner);

	/* A device gone bad takes the user's sessions and grants with it. */
	if (rc == 1 && owner.user_id && (stx_end_user_sessions(t, op->tenant, owner.user_id) < 0 ||
	    stx_revoke_user_grants(t, op->tenant, owner.user_id) < 0))
		rc = -1;
	if (rc == 1 && op->audit && stx_audit_append(t, op->tenant, op->now, op->audit->event,
	    op->audit->fields) < 0)
		rc = -1;
	if (rc == 1 && op->out)
		op->out->user = owner.user, owner.user = NULL;
	store_devcert_clear(&owner);
	return rc;
}

int
store_cert_revoke(struct store *st, const char *tenant, const char *serial, int reason,
    int64_t now, const struct audit_entry *ae, char **user_r)
{
	struct devcert c = { 0 };
	struct cert_op op = { .tenant = tenant, .serial = serial, .reason = reason, .now = now,
		.audit = ae, .out = &c };
	int rc;

	if (strlen(serial) > 64)
		return 0;
	rc = store_run(st, 1, cert_revoke_tx, &op);
	if (user_r)
		*user_r = c.user, c.user = NULL;
	free(c.user);
	return rc;
}

static int
collect_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct cert_op *op = arg;

	op->serials = xreallocarray(op->serials, op->nserials + 1, sizeof(char *));
	op->serials[op->nserials++] = xstrndup((const char *)key + op->skip, klen - op->skip);
	return 0;
}

int
stx_revoke_user_certs(struct store_txn *t, const char *tenant, const char *user_id, int reason,
    int64_t now)
{
	struct cert_op op = { .tenant = tenant };
	struct store_key k;
	int rc, n = 0;

	user_key(&k, tenant, user_id, NULL);
	op.skip = k.len;
	rc = stx_iter(t, DB_CERTS_BY_USER, &k, collect_cb, &op) < 0 ? -1 : 0;
	for (size_t i = 0; i < op.nserials; i++) {
		int r = rc == 0 ? revoke_one(t, tenant, op.serials[i], reason, now, NULL) : 0;
		if (r < 0)
			rc = -1;
		else if (r == 1)
			n++;
		free(op.serials[i]);
	}
	free(op.serials);
	return rc < 0 ? -1 : n;
}

static int
cert_touch_tx(struct store_txn *t, void *arg)
{
	struct cert_op *op = arg;
	struct store_key k;
	struct devcert c = { 0 };
	int rc;

	serial_key(&k, op->tenant, op->serial);
	if ((rc = stx_get_rec(t, DB_CERTS, &k, store_cert_fields, &c)) != 1)
		return rc;
	rc = 1;
	if ((int64_t)c.last_used + 60 <= op->now) {
		c.last_used = (uint64_t)op->now;
		rc = stx_put_rec(t, DB_CERTS, &k, store_cert_fields, &c, 0) == 0 ? 1 : -1;
	}
	store_devcert_clear(&c);
	return rc;
}

int
store_cert_touch(struct store *st, const char *tenant, const char *serial, int64_t now)
{
	struct cert_op op = { .tenant = tenant, .serial = serial, .now = now };

	return store_run(st, 1, cert_touch_tx, &op);
}

/* ---- CRLs ---- */

struct crl_op {
	const char *tenant;
	const struct crlrec *in;
	struct crlrec *out;
};

static int
crl_put_tx(struct store_txn *t, void *arg)
{
	struct crl_op *op = arg;
	struct store_key k;

	struct crlrec cur = { 0 };
	int rc;

	skey_init(&k, op->tenant);
	skey_add(&k, "crl");
	/* Two builders racing: the one that saw fewer revocations does not win. */
	if ((rc = stx_get_rec(t, DB_CRL, &k, crl_fields, &cur)) < 0)
		return -1;
	rc = rc == 1 && (cur.rev_gen > op->in->rev_gen || cur.number > op->in->number);
	store_crlrec_clear(&cur);
	if (rc)
		return 0;
	return stx_put_rec(t, DB_CRL, &k, crl_fields, op->in, 0);
}

int
store_crl_put(struct store *st, const char *tenant, const struct crlrec *r)
{
	struct crl_op op = { .tenant = tenant, .in = r };

	return store_run(st, 1, crl_put_tx, &op) < 0 ? -1 : 0;
}

static int
crl_get_tx(struct store_txn *t, void *arg)
{
	struct crl_op *op = arg;
	struct store_key k;

	skey_init(&k, op->tenant);
	skey_add(&k, "crl");
	store_crlrec_clear(op->out);
	return stx_get_rec(t, DB_CRL, &k, crl_fields, op->out);
}

int
store_crl_get(struct store *st, const char *tenant, struct crlrec *r_r)
{
	struct crl_op op = { .tenant = tenant, .out = r_r };

	memset(r_r, 0, sizeof(*r_r));
	return store_run(st, 0, crl_get_tx, &op);
}

struct counter_op {
	const char *tenant, *name;
	int bump;
	uint64_t n;
};

static int
counter_tx(struct store_txn *t, void *arg)
{
	struct counter_op *op = arg;

	return counter(t, op->tenant, op->name, op->bump, &op->n);
}

static int
counter_run(struct store *st, const char *tenant, const char *name, int bump, uint64_t *n_r)
{
	struct counter_op op = { .tenant = tenant, .name = name, .bump = bump };
	int rc = store_run(st, bump, counter_tx, &op);

	*n_r = op.n;
	return rc < 0 ? -1 : 0;
}

int
store_crl_next_number(struct store *st, const char *tenant, uint64_t *n_r)
{
	return counter_run(st, tenant, "crl_number", 1, n_r);
}

int
store_cert_revocations(struct store *st, const char *tenant, uint64_t *gen_r)
{
	return counter_run(st, tenant, "rev_gen", 0, gen_r);
}
