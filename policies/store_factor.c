/*
 * Second factors of users in the store: TOTP seeds, WebAuthn credentials and recovery
 * code sets, keyed "tenant USER-ID FACTOR-ID" ("factors"), with an index from each WebAuthn
 * credential id (hashed) to its user and factor ("factors_by_credential") that keeps a
 * credential registered once per tenant.  Every check that guards a use (a TOTP step only
 * once, a recovery code only once, a signature counter that must move) is made in the
 * write transaction that records the use.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "crypto.h"
#include "encode.h"
#include "store_int.h"
#include "xmalloc.h"

#define F(tag, type, st, m) { tag, type, offsetof(struct st, m), 0 }
#define FB(tag, st, m, l) { tag, REC_BYTES, offsetof(struct st, m), offsetof(struct st, l) }

static const struct rec_field factor_fields[] = {
	F(1, REC_STR, factor, id),
	F(2, REC_STR, factor, user),
	F(3, REC_U64, factor, kind),
	F(4, REC_STR, factor, label),
	F(5, REC_U64, factor, created),
	F(6, REC_U64, factor, last_used),
	FB(7, factor, secret, secret_len),
	F(8, REC_U64, factor, counter),
	F(9, REC_STR, factor, cred_id),
	F(10, REC_U64, factor, alg),	/* int64_t stored as its two's complement */
	F(11, REC_U64, factor, pending),
	F(12, REC_U64, factor, flags),
	REC_END
};

#define FACTORS_MAX 20
/* Pending TOTP enrolments kept per user: reloading the enrolment page never fills the cap. */
#define PENDING_MAX 3
#define LABEL_MAX 64		/* characters */
#define ID_MAX 64

void
store_factor_clear(struct factor *f)
{
	rec_clear(factor_fields, f);
}

static void
factor_key(struct store_key *k, const char *tenant, const char *user, const char *id)
{
	skey_init(k, tenant);
	skey_add(k, user);
	if (id)
		skey_add(k, id);
	else
		skey_prefix(k);
}

/* Credential ids are up to 1023 bytes (WebAuthn): the index holds their hash. */
static void
cred_key(struct store_key *k, const char *tenant, const char *cred_id)
{
	skey_init(k, tenant);
	skey_add_hash(k, cred_id, strlen(cred_id));
}

/* A label: at most LABEL_MAX UTF-8 characters, none of them a control character. */
static int
label_ok(const char *s)
{
	size_t chars = 0;

	if (s == NULL)
		return 1;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return 0;
		chars += (*p & 0xc0) != 0x80;
	}
	return chars <= LABEL_MAX;
}

static int
id_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= ID_MAX && strspn(s, "0123456789abcdef") == n;
}

static const char *
input_error(const struct factor *f)
{
	if (f->user == NULL || strlen(f->user) > ID_MAX)
		return "no such user";
	if (f->id && !id_ok(f->id))
		return "invalid factor id";
	if (!label_ok(f->label))
		return "label longer than 64 characters or with control characters";
	switch (f->kind) {
	case FACTOR_TOTP:
		return f->secret_len ? NULL : "no TOTP secret";
	case FACTOR_WEBAUTHN:
		return f->cred_id && *f->cred_id && f->secret_len ? NULL :
		    "no credential id or public key";
	case FACTOR_RECOVERY:
		return f->secret_len == 32 * FACTOR_RECOVERY_CODES ? NULL :
		    "a recovery set holds 10 hashes";
	}
	return "unknown factor kind";
}

static char *
new_factor_id(void)
{
	unsigned char raw[8];
	char *id = xmalloc(2 * sizeof(raw) + 1);

	crypto_random(raw, sizeof(raw));
	hex_encode(raw, sizeof(raw), id);
	return id;
}

/* ---- the factors of one user, read whole ---- */

struct flist {
	struct factor *v;
	size_t n;
};

static int
flist_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct flist *l = arg;
	struct factor f = { 0 };

	if (rec_decode(factor_fields, &f, val, vlen) == -1 || f.id == NULL) {
		store_factor_clear(&f);
		return 0;	/* unreadable: neither counts nor is used */
	}
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = f;
	return 0;
}

static void
flist_free(struct flist *l)
{
	for (size_t i = 0; i < l->n; i++)
		store_factor_clear(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
flist_load(struct store_txn *t, const char *tenant, const char *user, struct flist *l)
{
	struct store_key k;

	memset(l, 0, sizeof(*l));
	factor_key(&k, tenant, user, NULL);
	if (stx_iter(t, DB_FACTORS, &k, flist_cb, l) < 0) {
		flist_free(l);
		return -1;
	}
	return 0;
}

/* Delete a factor (and its credential's index entry) of the list; it stays listed. */
static int
factor_del(struct store_txn *t, const char *tenant, const struct factor *f)
{
	struct store_key k;

	factor_key(&k, tenant, f->user, f->id);
	if (stx_del(t, DB_FACTORS, &k) < 0)
		return -1;
	if (f->cred_id == NULL)
		return 0;
	cred_key(&k, tenant, f->cred_id);
	return stx_del(t, DB_FACTORS_CRED, &k) < 0 ? -1 : 0;
}

static int
factor_put(struct store_txn *t, const char *tenant, const struct factor *f, int flags)
{
	struct store_key k;

	factor_key(&k, tenant, f->user, f->id);
	return stx_put_rec(t, DB_FACTORS, &k, factor_fields, f, flags);
}

/* ---- operations ---- */

struct factor_op {
	const char *tenant, *user, *id;
	const struct factor *in;
	struct factor *out;
	const char *label, *cred_id;
	const unsigned char *hash;
	uint64_t value;		/* a TOTP step or a signature counter */
	int64_t now;
	const struct audit_entry *ae;
	struct audit_entry full;
	const char *err;
	char *new_id;
	int n;
	store_each_fn cb;
	void *arg;
};

/* The audit entry of a change to f, naming it (its id, kind and label), extra appended. */
static int
audit_factor(struct store_txn *t, struct factor_op *op, const struct factor *f,
    const char *extra)
{
	struct audit_entry ae;

	if (op->ae == NULL)
		return 0;
	ae = *op->ae;
	audit_entry_add(&ae, "factor_id", f->id);
	audit_entry_add(&ae, "kind", store_factor_kind_name(f->kind));
	audit_entry_add(&ae, "label", f->label);
	return stx_audit_entry(t, op->tenant, &ae, extra, &op->full);
}

/*
 * Make room for f among the user's factors l: a recovery set replaces the previous one,
 * a pending TOTP the oldest pending ones beyond PENDING_MAX - 1; then the cap.  What was
 * replaced is named in extra.
 */
static int
make_room(struct store_txn *t, struct factor_op *op, const struct factor *f,
    struct flist *l, char *extra, size_t len)
{
	size_t kept = l->n, pending = 0;

	for (size_t i = l->n; i-- > 0;) {
		const struct factor *o = &l->v[i];
		int replace = f->kind == FACTOR_RECOVERY && o->kind == FACTOR_RECOVERY;

		if (f->kind == FACTOR_TOTP && f->pending && o->kind == FACTOR_TOTP && o->pending)
			replace = ++pending >= PENDING_MAX;
		if (!replace)
			continue;
		if (factor_del(t, op->tenant, o) < 0)
			return -1;
		snprintf(extra + strlen(extra), len - strlen(extra), "%sreplaced=%s",
		    *extra ? " " : "", o->id);
		kept--;
	}
	if (kept >= FACTORS_MAX) {
		op->err = "too many factors";
		return -1;
	}
	return 0;
}

/* Oldest first: make_room walks from the newest and drops the oldest pending ones. */
static int
by_created(const void *a, const void *b)
{
	const struct factor *x = a, *y = b;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->id, y->id);
}

static int
cred_index(struct store_txn *t, struct factor_op *op, const struct factor *f)
{
	struct store_key k;
	struct buf b;
	int rc;

	if (f->kind != FACTOR_WEBAUTHN)
		return 0;
	buf_init(&b, 0);
	buf_append(&b, f->user, strlen(f->user) + 1);	/* "USER-ID\0FACTOR-ID" */
	buf_puts(&b, f->id);
	cred_key(&k, op->tenant, f->cred_id);
	rc = stx_put(t, DB_FACTORS_CRED, &k, b.data, b.len, STX_NOOVERWRITE);
	buf_free(&b);
	if (rc == 1)
		op->err = "credential already registered";
	return rc == 0 ? 0 : -1;
}

static int
add_tx(struct store_txn *t, void *arg)
{
	struct factor_op *op = arg;
	struct factor f = *op->in;
	struct flist l = { 0 };
	struct user u;
	char extra[128] = "";
	int rc;

	f.id = op->new_id;
	if ((rc = stx_user_by_id(t, op->tenant, f.user, &u)) == 0)
		op->err = "no such user";
	store_user_clear(&u);
	if (rc != 1 || flist_load(t, op->tenant, f.user, &l) < 0)
		return -1;
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(*l.v), by_created);
	rc = make_room(t, op, &f, &l, extra, sizeof(extra)) < 0 || cred_index(t, op, &f) < 0 ?
	    -1 : factor_put(t, op->tenant, &f, STX_NOOVERWRITE);
	if (rc == 1)
		op->err = "factor id exists";
	if (rc == 0)
		rc = audit_factor(t, op, &f, extra);
	flist_free(&l);
	return rc == 0 ? 0 : -1;
}

int
store_factor_add(struct store *st, const char *tenant, const struct factor *f,
    const struct audit_entry *ae, char **id_r, const char **errstr)
{
	struct factor_op op = { .tenant = tenant, .in = f, .ae = ae,
		.err = "cannot store the factor" };
	int rc;

	if (id_r)
		*id_r = NULL;
	if ((*errstr = input_error(f)) != NULL)
		return -1;
	op.new_id = f->id ? xstrdup(f->id) : new_factor_id();
	rc = store_run(st, 1, add_tx, &op);
	if (rc < 0) {
		*errstr = rc == STORE_FULL ? "database full" : op.err;
		free(op.new_id);
		return -1;
	}
	audit_entry_done(&op.full, tenant);
	if (id_r)
		*id_r = op.new_id;
	else
		free(op.new_id);
	return 0;
}

static int
get_tx(struct store_txn *t, void *arg)
{
	struct factor_op *op = arg;
	struct store_key k;

	store_factor_clear(op->out);
	factor_key(&k, op->tenant, op->user, op->id);
	return stx_get_rec(t, DB_FACTORS, &k, factor_fields, op->out);
}

int
store_factor_get(struct store *st, const char *tenant, const char *user_id, const char *id,
    struct factor *f_r)
{
	struct factor_op op = { .tenant = tenant, .user = user_id, .id = id, .out = f_r };

	memset(f_r, 0, sizeof(*f_r));
	return store_run(st, 0, get_tx, &op);
}

static int
by_cred_tx(struct store_txn *t, void *arg)
{
	struct factor_op *op = arg;
	struct store_key k;
	const void *v;
	size_t len, ulen;
	char *user;
	int rc;

	cred_key(&k, op->tenant, op->cred_id);
	if ((rc = stx_get(t, DB_FACTORS_CRED, &k, &v, &len)) != 1)
		return rc;
	user = xmemdup(v, len + 1);
	user[len] = '\0';
	if ((ulen = strlen(user)) >= len) {
		free(user);
		return -1;
	}
	op->user = user;
	op->id = user + ulen + 1;
	rc = get_tx(t, op);
	free(user);
	if (rc == 1 && (op->out->cred_id == NULL || strcmp(op->out->cred_id, op->cred_id))) {
		store_factor_clear(op->out);
		rc = 0;		/* another credential with the same hash: not this one */
	}
	return rc;
}

int
store_factor_by_cred(struct store *st, const char *tenant, const char *cred_id,
    struct factor *f_r)
{
	struct factor_op op = { .tenant = tenant, .cred_id = cred_id, .out = f_r };

	memset(f_r, 0, sizeof(*f_r));
	if (cred_id == NULL || *cred_id == '\0')
		return 0;
	return store_run(st, 0, by_cred_tx, &op);
}

int
store_factor_list(struct store *st, const char *tenant, const char *user_id,
    store_each_fn cb, void *arg)
{
	struct store_key k;

	factor_key(&k, tenant, user_id, NULL);
	return store_each(st, DB_FACTORS, &k, factor_fields, sizeof(struct factor), cb, arg);
}

static int
count_tx(struct store_txn *t, void *arg)
{
	struct factor_op *op = arg;
	struct flist l;

	if (flist_load(t, op->tenant, op->user, &l) < 0)
		return -1;
	op->n = 0;
	for (size_t i = 0; i < l.n; i++)
		op->n += (l.v[i].kind == FACTOR_TOTP && !l.v[i].pending) ||
		    l.v[i].kind == FACTOR_WEBAUTHN;
	flist_free(&l);
	return 0;
}

int
store_factor_count(struct store *st, const char *tenant, const char *user_id, int *n_r)
{
	struct factor_op op = { .tenant = tenant, .user = user_id };
	int rc = store_run(st, 0, count_tx, &op);

	*n_r = rc < 0 ? 0 : op.n;
	return rc < 0 ? -1 : 0;
}

/*
 * The factor op->id of op->user changed by change() (which returns what the operation
 * returns: 1 written, 0 refused, 2 written and refused, -1), written back with the audit
 * entry when it wants one.
 */
static int
factor_modify(struct store_txn *t, struct factor_op *op,
    int (*change)(struct factor_op *, struct factor *, int *audit))
{
	struct factor f = { 0 };
	struct store_key k;
	int rc, audit = 0;

	factor_key(&k, op->tenant, op->user, op->id);
	if ((rc = stx_get_rec(t, DB_FACTORS, &k, factor_fields, &f)) == 1)
		rc = change(op, &f, &audit);
	if (rc > 0 && factor_put(t, op->tenant, &f, 0) != 0)
		rc = -1;
	if (rc > 0 && audit && audit_factor(t, op, &f, NULL) < 0)
		rc = -1;
	store_factor_clear(&f);
	return rc;
}

static int
run_modify(struct store *st, struct factor_op *op, store_txn_fn fn)
{
	int rc = store_run(st, 1, fn, op);

	if (rc > 0)
		audit_entry_done(&op->full, op->tenant);
	return rc < 0 ? -1 : rc;
}

static int
remove_tx(struct store_txn *t, void *arg)
{
	struct factor_op *op = arg;
	struct factor f = { 0 };
	struct store_key k;
	int rc;

	factor_key(&k, op->tenant, op->user, op->id);
	if ((rc = stx_get_rec(t, DB_FACTORS, &k, factor_fields, &f)) == 1)
		rc = factor_del(t, op->tenant, &f) < 0 ||
		    audit_factor(t, op, &f, NULL) < 0 ? -1 : 1;
	store_factor_clear(&f);
	return rc;
}

int
store_factor_remove(struct store *st, const char *tenant, const char *user_id,
    const char *id, const struct audit_entry *ae)
{
	struct factor_op op = { .tenant = tenant, .user = user_id, .id = id, .ae = ae };

	return run_modify(st, &op, remove_tx);
}

static int
relabel(struct factor_op *op, struct factor *f, int *audit)
{
	free(f->label);
	f->label = op->label && *op->label ? xstrdup(op->label) : NULL;
	*audit = 1;
	return 1;
}

static int
label_tx(struct store_txn *t, void *arg)
{
	return factor_modify(t, arg, relabel);
}

int
store_factor_label(struct store *st, const char *tenant, const char *user_id,
    const char *id, const char *label, const struct audit_entry *ae)
{
	struct factor_op op = { .tenant = tenant, .user = user_id, .id = id, .label = label,
		.ae = ae };

	if (!label_ok(label))
		return -1;
	return run_modify(st, &op, label_tx);
}

/* A step once, and never one older than the last accepted: a code cannot be replayed. */
static int
totp_step(struct factor_op *op, struct factor *f, int *audit)
{
	if (f->kind != FACTOR_TOTP || op->value <= f->counter)
		return 0;
	f->counter = op->value;
	f->pending = 0;
	f->last_used = (uint64_t)op->now;
	*audit = 1;
	return 1;
}

static int
totp_tx(struct store_txn *t, void *arg)
{
	return factor_modify(t, arg, totp_step);
}

int
store_totp_accept(struct store *st, const char *tenant, const char *user_id, const char *id,
    uint64_t step, int64_t now, const struct audit_entry *ae)
{
	struct factor_op op = { .tenant = tenant, .user = user_id, .id = id, .value = step,
		.now = now, .ae = ae };

	return run_modify(st, &op, totp_tx);
}

static int
counter_step(struct factor_op *op, struct factor *f, int *audit)
{
	if (f->kind != FACTOR_WEBAUTHN)
		return 0;
	/*
	 * Both 0: an authenticator without a counter.  Once it has counted, it must move
	 * forward: a 0 then is a clone signal too (WebAuthn 7.2 step 21).
	 */
	if (f->counter && op->value <= f->counter) {
		f->flags |= FACTOR_F_COUNTER_REGRESSED;
		return 2;
	}
	if (op->value > f->counter)
		f->counter = op->value;
	f->last_used = (uint64_t)op->now;
	return 1;
}

static int
counter_tx(struct store_txn *t, void *arg)
{
	return factor_modify(t, arg, counter_step);
}

int
store_webauthn_counter(struct store *st, const char *tenant, const char *user_id,
    const char *id, uint64_t counter, int64_t now)
{
	struct factor_op op = { .tenant = tenant, .user = user_id, .id = id, .value = counter,
		.now = now };

	return run_modify(st, &op, counter_tx);
}

/* The unused code of the set whose hash matches: its index, or -1. */
static int
recovery_find(const struct factor *f, const unsigned char hash[32])
{
	int found = -1;

	if (f->secret_len != 32 * FACTOR_RECOVERY_CODES)
		return -1;
	for (int i = 0; i < FACTOR_RECOVERY_CODES; i++)
		if (crypto_eq(f->secret + 32 * i, hash, 32) && !(f->counter & (1u << i)))
			found = i;
	return found;
}

static int
recovery_tx(struct store_txn *t, void *arg)
{
	struct factor_op *op = arg;
	struct flist l;
	char extra[32];
	int rc = 0, i;

	if (flist_load(t, op->tenant, op->user, &l) < 0)
		return -1;
	for (size_t j = 0; rc == 0 && j < l.n; j++) {
		struct factor *f = &l.v[j];
		if (f->kind != FACTOR_RECOVERY || (i = recovery_find(f, op->hash)) < 0)
			continue;
		f->counter |= 1u << i;
		f->last_used = (uint64_t)op->now;
		op->n = FACTOR_RECOVERY_CODES - __builtin_popcountll(f->counter &
		    ((1u << FACTOR_RECOVERY_CODES) - 1));
		snprintf(extra, sizeof(extra), "left=%d", op->n);
		rc = factor_put(t, op->tenant, f, 0) != 0 ||
		    audit_factor(t, op, f, extra) < 0 ? -1 : 1;
	}
	flist_free(&l);
	return rc;
}

int
store_recovery_use(struct store *st, const char *tenant, const char *user_id,
    const unsigned char hash[32], int64_t now, const struct audit_entry *ae, int *left_r)
{
	struct factor_op op = { .tenant = tenant, .user = user_id, .hash = hash, .now = now,
		.ae = ae };
	int rc = run_modify(st, &op, recovery_tx);

	if (left_r)
		*left_r = rc == 1 ? op.n : 0;
	return rc;
}

/* ---- what goes with the user ---- */

struct drop {
	struct store_txn *t;
	const char *tenant;
	int n;
};

static int
drop_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct drop *d = arg;
	struct factor f = { 0 };
	struct store_key k;
	int rc = 2;

	if (rec_decode(factor_fields, &f, val, vlen) == 0 && f.cred_id) {
		cred_key(&k, d->tenant, f.cred_id);
		rc = stx_del(d->t, DB_FACTORS_CRED, &k) < 0 ? -1 : 2;
	}
	store_factor_clear(&f);
	d->n += rc == 2;
	return rc;
}

int
stx_user_factors_drop(struct store_txn *t, const char *tenant, const char *user_id)
{
	struct drop d = { t, tenant, 0 };
	struct store_key k;

	factor_key(&k, tenant, user_id, NULL);
	return stx_iter_del(t, DB_FACTORS, &k, drop_cb, &d) < 0 ? -1 : d.n;
}

const char *
store_factor_kind_name(uint64_t kind)
{
	switch (kind) {
	case FACTOR_TOTP:
		return "totp";
	case FACTOR_WEBAUTHN:
		return "webauthn";
	case FACTOR_RECOVERY:
		return "recovery";
	}
	return "unknown";
}
