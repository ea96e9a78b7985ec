/*
 * Short-lived states in the store: challenges (second-factor steps, WebAuthn challenges,
 * TOTP enrolments, reset tokens) keyed "tenant SHA-256" by the hash of a value only the
 * browser or the link holds, with an index "tenant USER-ID KIND SHA-256" so a user's
 * challenges of a kind can be voided; and rate-limit counters with fixed windows.
 * Expired ones are never returned and are purged by store_expire.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "xmalloc.h"

#define F(tag, type, st, m) { tag, type, offsetof(struct st, m), 0 }

static const struct rec_field challenge_fields[] = {
	F(1, REC_STR, challenge, kind),
	F(2, REC_STR, challenge, user),
	F(3, REC_STR, challenge, data),
	F(4, REC_U64, challenge, created),
	F(5, REC_U64, challenge, expires),
	REC_END
};

struct rate {
	uint64_t count;
	uint64_t first;		/* the window's start */
	uint64_t until;		/* its end */
};

static const struct rec_field rate_fields[] = {
	F(1, REC_U64, rate, count),
	F(2, REC_U64, rate, first),
	F(3, REC_U64, rate, until),
	REC_END
};

void
store_challenge_clear(struct challenge *c)
{
	rec_clear(challenge_fields, c);
}

static void
challenge_key(struct store_key *k, const char *tenant, const unsigned char hash[32])
{
	skey_init(k, tenant);
	skey_add_bytes(k, "", 1);
	skey_add_bytes(k, hash, 32);
}

/* "tenant USER KIND HASH"; kind NULL: the prefix of all the user's, hash NULL: of a kind. */
static void
user_key(struct store_key *k, const char *tenant, const char *user, const char *kind,
    const unsigned char *hash)
{
	skey_init(k, tenant);
	skey_add(k, user);
	if (kind)
		skey_add(k, kind);
	skey_add_bytes(k, "", 1);
	if (kind && hash)
		skey_add_bytes(k, hash, 32);
}

struct challenge_op {
	const char *tenant, *kind, *user;
	const unsigned char *hash;
	const struct challenge *in;
	struct challenge *out;
	int64_t now;
};

/* The challenge under k and its index entry go. */
static int
challenge_del(struct store_txn *t, const char *tenant, const unsigned char hash[32],
    const struct challenge *c)
{
	struct store_key k;

	challenge_key(&k, tenant, hash);
	if (stx_del(t, DB_CHALLENGES, &k) < 0)
		return -1;
	if (c->user == NULL || c->kind == NULL)
		return 0;
	user_key(&k, tenant, c->user, c->kind, hash);
	return stx_del(t, DB_CHALLENGES_USER, &k) < 0 ? -1 : 0;
}

static int
put_tx(struct store_txn *t, void *arg)
{
	struct challenge_op *op = arg;
	struct challenge old = { 0 };
	struct store_key k;
	int rc;

	challenge_key(&k, op->tenant, op->hash);
	if ((rc = stx_get_rec(t, DB_CHALLENGES, &k, challenge_fields, &old)) == 1)
		rc = challenge_del(t, op->tenant, op->hash, &old);
	store_challenge_clear(&old);
	if (rc < 0 || stx_put_rec(t, DB_CHALLENGES, &k, challenge_fields, op->in, 0) != 0)
		return -1;
	if (op->in->user == NULL)
		return 0;
	user_key(&k, op->tenant, op->in->user, op->in->kind, op->hash);
	return stx_put(t, DB_CHALLENGES_USER, &k, "", 0, 0) == 0 ? 0 : -1;
}

int
store_challenge_put(struct store *st, const char *tenant, const unsigned char hash[32],
    const struct challenge *c)
{
	struct challenge_op op = { .tenant = tenant, .hash = hash, .in = c };

	if (c->kind == NULL || *c->kind == '\0')
		return -1;
	return store_run(st, 1, put_tx, &op) < 0 ? -1 : 0;
}

/* Found and not expired: 1; an expired one is taken too when taking. */
static int
get_tx(struct store_txn *t, void *arg, int take)
{
	struct challenge_op *op = arg;
	struct store_key k;
	int rc;

	store_challenge_clear(op->out);
	challenge_key(&k, op->tenant, op->hash);
	if ((rc = stx_get_rec(t, DB_CHALLENGES, &k, challenge_fields, op->out)) != 1)
		return rc;
	if ((int64_t)op->out->expires <= op->now)
		rc = 0;
	if (take && challenge_del(t, op->tenant, op->hash, op->out) < 0)
		rc = -1;
	if (rc != 1)
		store_challenge_clear(op->out);
	return rc;
}

static int
read_tx(struct store_txn *t, void *arg)
{
	return get_tx(t, arg, 0);
}

static int
take_tx(struct store_txn *t, void *arg)
{
	return get_tx(t, arg, 1);
}

int
store_challenge_get(struct store *st, const char *tenant, const unsigned char hash[32],
    int64_t now, struct challenge *c_r)
{
	struct challenge_op op = { .tenant = tenant, .hash = hash, .out = c_r, .now = now };

	memset(c_r, 0, sizeof(*c_r));
	return store_run(st, 0, read_tx, &op);
}

int
store_challenge_take(struct store *st, const char *tenant, const unsigned char hash[32],
    int64_t now, struct challenge *c_r)
{
	struct challenge_op op = { .tenant = tenant, .hash = hash, .out = c_r, .now = now };

	memset(c_r, 0, sizeof(*c_r));
	return store_run(st, 1, take_tx, &op);
}

struct drop {
	struct store_txn *t;
	const char *tenant;
	int n;
};

/* An index entry "tenant USER KIND HASH": its challenge goes with it. */
static int
drop_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct drop *d = arg;
	struct store_key k;

	if (klen < 32)
		return 2;
	challenge_key(&k, d->tenant, (const unsigned char *)key + klen - 32);
	if (stx_del(d->t, DB_CHALLENGES, &k) < 0)
		return -1;
	d->n++;
	return 2;
}

static int
drop_user(struct store_txn *t, const char *tenant, const char *user, const char *kind)
{
	struct drop d = { t, tenant, 0 };
	struct store_key k;

	user_key(&k, tenant, user, kind, NULL);
	return stx_iter_del(t, DB_CHALLENGES_USER, &k, drop_cb, &d) < 0 ? -1 : d.n;
}

static int
drop_tx(struct store_txn *t, void *arg)
{
	struct challenge_op *op = arg;

	return drop_user(t, op->tenant, op->user, op->kind) < 0 ? -1 : 0;
}

int
store_challenge_drop_user(struct store *st, const char *tenant, const char *kind,
    const char *user_id)
{
	struct challenge_op op = { .tenant = tenant, .kind = kind, .user = user_id };

	if (kind == NULL || user_id == NULL)
		return -1;
	return store_run(st, 1, drop_tx, &op) < 0 ? -1 : 0;
}

int
stx_user_challenges_drop(struct store_txn *t, const char *tenant, const char *user_id)
{
	return drop_user(t, tenant, user_id, NULL);
}

/* ---- rate limits ---- */

struct rate_op {
	const char *tenant, *scope, *key;
	int64_t now, window;
	uint64_t limit;
};

static int
rate_tx(struct store_txn *t, void *arg)
{
	struct rate_op *op = arg;
	struct rate r = { 0 };
	struct store_key k;

	skey_init(&k, op->tenant);
	skey_add(&k, op->scope);
	skey_add_hash(&k, op->key, strlen(op->key));
	if (stx_get_rec(t, DB_RATE, &k, rate_fields, &r) < 0)
		return -1;
	if (r.count == 0 || op->now >= (int64_t)r.until || op->now < (int64_t)r.first) {
		r.count = 0;
		r.first = (uint64_t)op->now;
		r.until = (uint64_t)(op->now + op->window);
	}
	r.count++;
	if (stx_put_rec(t, DB_RATE, &k, rate_fields, &r, 0) != 0)
		return -1;
	return r.count <= op->limit;
}

int
store_rate_hit(struct store *st, const char *tenant, const char *scope, const char *key,
    int64_t now, int64_t window, uint64_t limit)
{
	struct rate_op op = { tenant, scope, key, now, window, limit };
	int rc;

	if (scope == NULL || key == NULL || window <= 0)
		return -1;
	rc = store_run(st, 1, rate_tx, &op);
	return rc < 0 ? -1 : rc;
}

/* ---- expiry ---- */

struct expire {
	struct store_txn *t;
	int64_t now;
	int n;
};

static int
expire_challenge_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct expire *e = arg;
	struct challenge c = { 0 };
	const char *tenant = key;
	size_t tlen = strnlen(tenant, klen);
	struct store_key k;
	int rc = 0;

	if (tlen + 1 + 32 != klen || rec_decode(challenge_fields, &c, val, vlen) == -1)
		return 2;	/* unreadable: nobody can use it */
	if ((int64_t)c.expires < e->now) {
		rc = 2;
		if (c.user && c.kind) {
			user_key(&k, tenant, c.user, c.kind, (const unsigned char *)key + tlen + 1);
			rc = stx_del(e->t, DB_CHALLENGES_USER, &k) < 0 ? -1 : 2;
		}
	}
	store_challenge_clear(&c);
	e->n += rc == 2;
	return rc;
}

static int
expire_rate_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct expire *e = arg;
	struct rate r = { 0 };

	if (rec_decode(rate_fields, &r, val, vlen) == -1 || (int64_t)r.until < e->now) {
		e->n++;
		return 2;
	}
	return 0;
}

int
stx_challenges_expire(struct store_txn *t, int64_t now)
{
	struct expire e = { t, now, 0 };
	struct store_key all = { .len = 0 };

	if (stx_iter_del(t, DB_CHALLENGES, &all, expire_challenge_cb, &e) < 0 ||
	    stx_iter_del(t, DB_RATE, &all, expire_rate_cb, &e) < 0)
		return -1;
	return e.n;
}
