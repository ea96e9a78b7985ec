/*
 * Store operations for OpenID Connect: authorization codes (one use; a second use revokes
 * what the first produced), grants ("families") with rotating refresh tokens (a replayed
 * token revokes the grant), access tokens, and revocation by session and by user.  Every
 * token and code is keyed by its hash: the store never holds one that could be used.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "store_int.h"
#include "xmalloc.h"

#define F(tag, type, st, m) { tag, type, offsetof(struct st, m), 0 }
#define FB(tag, st, m, l) { tag, REC_BYTES, offsetof(struct st, m), offsetof(struct st, l) }

const struct rec_field store_code_fields[] = {
	F(1, REC_STR, oidc_code, client_id),
	F(2, REC_STR, oidc_code, redirect_uri),
	F(3, REC_STR, oidc_code, user),
	F(4, REC_STR, oidc_code, scope),
	F(5, REC_STR, oidc_code, nonce),
	F(6, REC_STR, oidc_code, challenge),
	F(7, REC_STR, oidc_code, amr),
	F(8, REC_STR, oidc_code, acr),
	F(9, REC_STR, oidc_code, sid),
	FB(10, oidc_code, session, session_len),
	F(11, REC_U64, oidc_code, auth_time),
	F(12, REC_U64, oidc_code, expires),
	F(13, REC_U64, oidc_code, used),
	F(14, REC_STR, oidc_code, family),
	F(15, REC_STR, oidc_code, device),
	REC_END
};

const struct rec_field store_family_fields[] = {
	F(1, REC_STR, oidc_family, client_id),
	F(2, REC_STR, oidc_family, user),
	F(3, REC_STR, oidc_family, scope),
	F(4, REC_STR, oidc_family, sid),
	F(5, REC_STR, oidc_family, amr),
	F(6, REC_STR, oidc_family, acr),
	FB(7, oidc_family, session, session_len),
	F(8, REC_U64, oidc_family, auth_time),
	F(9, REC_U64, oidc_family, created),
	F(10, REC_U64, oidc_family, expires),
	F(11, REC_U64, oidc_family, gen),
	F(12, REC_U64, oidc_family, revoked),
	F(13, REC_STR, oidc_family, device),
	REC_END
};

/* A refresh token: its grant, its generation, its end. */
struct refresh_rec {
	char *family;
	uint64_t gen;
	uint64_t expires;
};

static const struct rec_field refresh_fields[] = {
	F(1, REC_STR, refresh_rec, family),
	F(2, REC_U64, refresh_rec, gen),
	F(3, REC_U64, refresh_rec, expires),
	REC_END
};

const struct rec_field store_access_fields[] = {
	F(1, REC_STR, oidc_access, family),
	F(2, REC_STR, oidc_access, client_id),
	F(3, REC_STR, oidc_access, user),
	F(4, REC_STR, oidc_access, scope),
	F(5, REC_U64, oidc_access, expires),
	F(6, REC_U64, oidc_access, revoked),
	REC_END
};

void
store_code_clear(struct oidc_code *c)
{
	rec_clear(store_code_fields, c);
}

void
store_family_clear(struct oidc_family *f)
{
	rec_clear(store_family_fields, f);
}

void
store_access_clear(struct oidc_access *a)
{
	rec_clear(store_access_fields, a);
}

static void
hashed_key(struct store_key *k, const char *tenant, const char *secret)
{
	skey_init(k, tenant);
	skey_add_hash(k, secret, strlen(secret));
}

static void
family_key(struct store_key *k, const char *tenant, const char *family)
{
	skey_init(k, tenant);
	skey_add(k, family);
}

/* ---- grants ---- */

static int
family_put_indexed(struct store_txn *t, const char *tenant, const char *id,
    const struct oidc_family *f)
{
	struct store_key k;

	family_key(&k, tenant, id);
	if (stx_put_rec(t, DB_OIDC_FAMILIES, &k, store_family_fields, f, STX_NOOVERWRITE) != 0)
		return -1;
	if (f->session_len == 32) {
		skey_init(&k, tenant);
		skey_add_bytes(&k, "", 1);
		skey_add_bytes(&k, f->session, 32);
		skey_add(&k, id);
		if (stx_put(t, DB_OIDC_BY_SESSION, &k, "", 0, 0) != 0)
			return -1;
	}
	if (f->user) {
		skey_init(&k, tenant);
		skey_add(&k, f->user);
		skey_add(&k, id);
		if (stx_put(t, DB_OIDC_BY_USER, &k, "", 0, 0) != 0)
			return -1;
	}
	return 0;
}

/* Revoke the grant id unless it belongs to the session keep (then 2): 1/0/-1. */
static int
revoke_unless(struct store_txn *t, const char *tenant, const char *id,
    const unsigned char *keep)
{
	struct store_key k;
	struct oidc_family f = { 0 };
	int rc;

	family_key(&k, tenant, id);
	if ((rc = stx_get_rec(t, DB_OIDC_FAMILIES, &k, store_family_fields, &f)) != 1)
		return rc;
	if (keep && f.session_len == 32 && !memcmp(f.session, keep, 32)) {
		store_family_clear(&f);
		return 2;
	}
	f.revoked = 1;
	rc = stx_put_rec(t, DB_OIDC_FAMILIES, &k, store_family_fields, &f, 0);
	store_family_clear(&f);
	return rc == 0 ? 1 : -1;
}

static int
revoke_tx_one(struct store_txn *t, const char *tenant, const char *id)
{
	return revoke_unless(t, tenant, id, NULL);
}

struct code_op {
	const char *tenant, *code;
	const struct oidc_code *in;
	const struct oidc_redeem *r;
	const struct oidc_issue *iss;
	struct oidc_code *out;
	int64_t now;
};

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

int
stx_code_put(struct store_txn *t, const char *tenant, const char *code,
    const struct oidc_code *c)
{
	struct store_key k;

	hashed_key(&k, tenant, code);
	return stx_put_rec(t, DB_OIDC_CODES, &k, store_code_fields, c, STX_NOOVERWRITE) == 0 ? 0 : -1;
}

static int
code_put_tx(struct store_txn *t, void *arg)
{
	struct code_op *op = arg;

	return stx_code_put(t, op->tenant, op->code, op->in);
}

static int
code_get_tx(struct store_txn *t, void *arg)
{
	struct code_op *op = arg;
	struct store_key k;

	hashed_key(&k, op->tenant, op->code);
	store_code_clear(op->out);
	return stx_get_rec(t, DB_OIDC_CODES, &k, store_code_fields, op->out);
}

int
store_code_get(struct store *st, const char *tenant, const char *code, struct oidc_code *c_r)
{
	struct code_op op = { .tenant = tenant, .code = code, .out = c_r };

	memset(c_r, 0, sizeof(*c_r));
	return store_run(st, 0, code_get_tx, &op);
}

/* The access token record, the refresh token (of family at generation gen) and the audit. */
static int
record_issue(struct store_txn *t, const char *tenant, const char *family, uint64_t gen,
    const struct oidc_issue *iss, int64_t now)
{
	struct store_key k;

	if (iss == NULL)
		return 0;
	if (iss->refresh_token && family) {
		struct refresh_rec r = { (char *)family, gen, (uint64_t)iss->refresh_expires };
		hashed_key(&k, tenant, iss->refresh_token);
		if (stx_put_rec(t, DB_OIDC_REFRESH, &k, refresh_fields, &r, STX_NOOVERWRITE) != 0)
			return -1;
	}
	if (iss->access_key) {
		hashed_key(&k, tenant, iss->access_key);
		if (stx_put_rec(t, DB_OIDC_ACCESS, &k, store_access_fields, iss->access,
		    STX_NOOVERWRITE) != 0)
			return -1;
	}
	if (iss->audit && stx_audit_append(t, tenant, now, iss->audit->event,
	    iss->audit->fields) != 0)
		return -1;
	return 0;
}

int
store_code_put(struct store *st, const char *tenant, const char *code, const struct oidc_code *c)
{
	struct code_op op = { .tenant = tenant, .code = code, .in = c };

	return store_run(st, 1, code_put_tx, &op) < 0 ? -1 : 0;
}

static int
code_redeem_tx(struct store_txn *t, void *arg)
{
	struct code_op *op = arg;
	struct store_key k;
	int rc;

	hashed_key(&k, op->tenant, op->code);
	store_code_clear(op->out);
	if ((rc = stx_get_rec(t, DB_OIDC_CODES, &k, store_code_fields, op->out)) != 1)
		return rc;
	if (op->out->used) {
		/* A second redemption: what the first obtained is revoked too. */
		if (op->out->family && revoke_tx_one(t, op->tenant, op->out->family) < 0)
			return -1;
		return 2;
	}
	if ((int64_t)op->out->expires < op->now)
		return 0;
	/* The SSO session it came from must still be there: logout and a new password end
	   it, and a code issued before must not outlive that. */
	if (op->out->session_len == 32) {
		struct store_key sk;
		const void *v;
		size_t len;
		int have;
		skey_init(&sk, op->tenant);
		skey_add_bytes(&sk, "", 1);
		skey_add_bytes(&sk, op->out->session, 32);
		if ((have = stx_get(t, DB_SESSIONS, &sk, &v, &len)) != 1)
			return have < 0 ? -1 : 4;
	}
	if (!same(op->out->client_id, op->r->client_id) ||
	    !same(op->out->redirect_uri, op->r->redirect_uri) ||
	    !same(op->out->challenge, op->r->challenge))
		return 3;
	op->out->used = 1;
	free(op->out->family);
	op->out->family = op->r->family_id ? xstrdup(op->r->family_id) : NULL;
	if (stx_put_rec(t, DB_OIDC_CODES, &k, store_code_fields, op->out, 0) != 0)
		return -1;
	if (op->r->family_id) {
		const struct oidc_code *c = op->out;
		struct oidc_family f = { .client_id = c->client_id, .user = c->user,
			.scope = c->scope, .sid = c->sid, .amr = c->amr, .acr = c->acr,
			.device = c->device, .session = c->session, .session_len = c->session_len,
			.auth_time = c->auth_time, .created = (uint64_t)op->now,
			.expires = (uint64_t)op->r->family_expires,
			.gen = op->iss && op->iss->refresh_token ? 1 : 0 };
		if (family_put_indexed(t, op->tenant, op->r->family_id, &f) != 0)
			return -1;
	}
	return record_issue(t, op->tenant, op->r->family_id, 1, op->iss, op->now) == 0 ? 1 : -1;
}

int
store_code_redeem(struct store *st, const char *tenant, const char *code, int64_t now,
    const struct oidc_redeem *r, const struct oidc_issue *iss, struct oidc_code *c_r)
{
	struct code_op op = { .tenant = tenant, .code = code, .r = r, .iss = iss, .out = c_r,
		.now = now };

	memset(c_r, 0, sizeof(*c_r));
	return store_run(st, 1, code_redeem_tx, &op);
}

/* ---- refresh tokens ---- */

struct refresh_op {
	const char *tenant, *family_id, *token, *old_token, *client_id;
	const struct oidc_issue *iss;
	int64_t now, expires;
	char **family_r;
	struct oidc_family *out;
};

static int
refresh_issue_tx(struct store_txn *t, void *arg)
{
	struct refresh_op *op = arg;
	struct store_key fk, k;
	struct oidc_family f = { 0 };
	struct refresh_rec r = { 0 };
	int rc;

	family_key(&fk, op->tenant, op->family_id);
	if ((rc = stx_get_rec(t, DB_OIDC_FAMILIES, &fk, store_family_fields, &f)) != 1)
		return rc;
	if (f.revoked) {
		store_family_clear(&f);
		return 0;
	}
	f.gen++;
	r.family = (char *)op->family_id;
	r.gen = f.gen;
	r.expires = (uint64_t)op->expires;
	hashed_key(&k, op->tenant, op->token);
	rc = stx_put_rec(t, DB_OIDC_FAMILIES, &fk, store_family_fields, &f, 0) == 0 &&
	    stx_put_rec(t, DB_OIDC_REFRESH, &k, refresh_fields, &r, STX_NOOVERWRITE) == 0 ? 1 : -1;
	store_family_clear(&f);
	return rc;
}

int
store_refresh_issue(struct store *st, const char *tenant, const char *family_id,
    const char *token, int64_t expires)
{
	struct refresh_op op = { .tenant = tenant, .family_id = family_id, .token = token,
		.expires = expires };

	return store_run(st, 1, refresh_issue_tx, &op);
}

static int
refresh_rotate_tx(struct store_txn *t, void *arg)
{
	struct refresh_op *op = arg;
	struct store_key k, fk;
	struct refresh_rec r = { 0 };
	int rc;

	store_family_clear(op->out);
	free(*op->family_r);
	*op->family_r = NULL;
	hashed_key(&k, op->tenant, op->old_token);
	if ((rc = stx_get_rec(t, DB_OIDC_REFRESH, &k, refresh_fields, &r)) != 1)
		return rc;
	family_key(&fk, op->tenant, r.family);
	*op->family_r = xstrdup(r.family);
	if ((rc = stx_get_rec(t, DB_OIDC_FAMILIES, &fk, store_family_fields, op->out)) != 1)
		goto done;
	if (op->out->revoked || !same(op->out->client_id, op->client_id)) {
		rc = 0;
		goto done;
	}
	/* Replay before expiry: an expired old token must still reveal the copy. */
	if (r.gen != op->out->gen) {
		/* An older token of the grant came back: someone else has a copy. */
		op->out->revoked = 1;
		rc = stx_put_rec(t, DB_OIDC_FAMILIES, &fk, store_family_fields, op->out, 0) == 0 ? 2 : -1;
		goto done;
	}
	if ((int64_t)r.expires < op->now || (int64_t)op->out->expires < op->now) {
		rc = 0;
		goto done;
	}
	op->out->gen++;
	r.gen = op->out->gen;
	r.expires = (uint64_t)(op->expires < (int64_t)op->out->expires ? op->expires :
	    (int64_t)op->out->expires);
	hashed_key(&k, op->tenant, op->token);
	rc = stx_put_rec(t, DB_OIDC_FAMILIES, &fk, store_family_fields, op->out, 0) == 0 &&
	    stx_put_rec(t, DB_OIDC_REFRESH, &k, refresh_fields, &r, STX_NOOVERWRITE) == 0 &&
	    record_issue(t, op->tenant, NULL, 0, op->iss, op->now) == 0 ? 1 : -1;
done:
	rec_clear(refresh_fields, &r);
	return rc;
}

int
store_refresh_rotate(struct store *st, const char *tenant, const char *client_id,
    const char *old_token, const char *new_token, int64_t now, int64_t expires,
    const struct oidc_issue *iss, char **family_r, struct oidc_family *f_r)
{
	struct refresh_op op = { .tenant = tenant, .client_id = client_id, .old_token = old_token,
		.token = new_token, .iss = iss, .now = now, .expires = expires,
		.family_r = family_r, .out = f_r };

	*family_r = NULL;
	memset(f_r, 0, sizeof(*f_r));
	return store_run(st, 1, refresh_rotate_tx, &op);
}

static int
refresh_family_tx(struct store_txn *t, void *arg)
{
	struct refresh_op *op = arg;
	struct store_key k;
	struct refresh_rec r = { 0 };
	int rc;

	hashed_key(&k, op->tenant, op->token);
	if ((rc = stx_get_rec(t, DB_OIDC_REFRESH, &k, refresh_fields, &r)) == 1) {
		*op->family_r = xstrdup(r.family);
		op->expires = (int64_t)r.expires;
	}
	rec_clear(refresh_fields, &r);
	return rc;
}

int
store_refresh_family(struct store *st, const char *tenant, const char *token, char **family_r,
    uint64_t *expires_r)
{
	struct refresh_op op = { .tenant = tenant, .token = token, .family_r = family_r };
	int rc;

	*family_r = NULL;
	rc = store_run(st, 0, refresh_family_tx, &op);
	*expires_r = (uint64_t)op.expires;
	return rc;
}

static int
family_get_tx(struct store_txn *t, void *arg)
{
	struct refresh_op *op = arg;
	struct store_key k;

	family_key(&k, op->tenant, op->family_id);
	store_family_clear(op->out);
	return stx_get_rec(t, DB_OIDC_FAMILIES, &k, store_family_fields, op->out);
}

int
store_family_get(struct store *st, const char *tenant, const char *family_id,
    struct oidc_family *f_r)
{
	struct refresh_op op = { .tenant = tenant, .family_id = family_id, .out = f_r };

	memset(f_r, 0, sizeof(*f_r));
	return store_run(st, 0, family_get_tx, &op);
}

static int
family_revoke_tx(struct store_txn *t, void *arg)
{
	struct refresh_op *op = arg;

	return revoke_tx_one(t, op->tenant, op->family_id);
}

int
store_family_revoke(struct store *st, const char *tenant, const char *family_id)
{
	struct refresh_op op = { .tenant = tenant, .family_id = family_id };

	return store_run(st, 1, family_revoke_tx, &op);
}

/* ---- revocation by session and by user ---- */

struct revoke_all {
	struct store_txn *t;
	const char *tenant;
	const unsigned char *keep;
	size_t skip;
	int n;
};

static int
revoke_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct revoke_all *ra = arg;
	char *id = xstrndup((const char *)key + ra->skip, klen - ra->skip);
	int rc = revoke_unless(ra->t, ra->tenant, id, ra->keep);

	free(id);
	if (rc < 0)
		return -1;
	if (rc == 2)
		return 0;	/* kept */
	ra->n += rc;
	return 2;	/* the index entry goes: the grant is dead */
}

struct revoke_op {
	const char *tenant, *user;
	const unsigned char *session, *keep;
	int n;
};

static int
revoke_index_tx(struct store_txn *t, void *arg)
{
	struct revoke_op *op = arg;
	struct revoke_all ra = { .t = t, .tenant = op->tenant, .keep = op->keep };
	struct store_key k;
	enum store_db db = op->user ? DB_OIDC_BY_USER : DB_OIDC_BY_SESSION;

	skey_init(&k, op->tenant);
	if (op->user) {
		skey_add(&k, op->user);
	} else {
		skey_add_bytes(&k, "", 1);
		skey_add_bytes(&k, op->session, 32);
	}
	skey_prefix(&k);
	ra.skip = k.len;
	if (stx_iter_del(t, db, &k, revoke_cb, &ra) < 0)
		return -1;
	return ra.n;
}

int
store_revoke_session_grants(struct store *st, const char *tenant,
    const unsigned char session[32])
{
	struct revoke_op op = { .tenant = tenant, .session = session };

	return store_run(st, 1, revoke_index_tx, &op);
}

int
store_revoke_user_grants(struct store *st, const char *tenant, const char *user)
{
	struct revoke_op op = { .tenant = tenant, .user = user };

	return store_run(st, 1, revoke_index_tx, &op);
}

int
stx_revoke_user_grants(struct store_txn *t, const char *tenant, const char *user)
{
	return stx_revoke_user_grants_except(t, tenant, user, NULL);
}

int
stx_revoke_user_grants_except(struct store_txn *t, const char *tenant, const char *user,
    const unsigned char *keep)
{
	struct revoke_op op = { .tenant = tenant, .user = user, .keep = keep };

	return revoke_index_tx(t, &op);
}

int
stx_revoke_session_grants(struct store_txn *t, const char *tenant,
    const unsigned char session[32])
{
	struct revoke_op op = { .tenant = tenant, .session = session };

	return revoke_index_tx(t, &op);
}

/* ---- access tokens ---- */

struct access_op {
	const char *tenant, *key;
	const struct audit_entry *audit;
	const struct oidc_access *in;
	struct oidc_access *out;
	int64_t now;
};

static int
access_put_tx(struct store_txn *t, void *arg)
{
	struct access_op *op = arg;
	struct oidc_issue iss = { .access_key = op->key, .access = op->in, .audit = op->audit };

	return record_issue(t, op->tenant, NULL, 0, &iss, op->now);
}

int
store_access_put(struct store *st, const char *tenant, const char *key,
    const struct oidc_access *a, const struct audit_entry *audit)
{
	struct access_op op = { .tenant = tenant, .key = key, .in = a, .audit = audit,
		.now = clock_now() };

	return store_run(st, 1, access_put_tx, &op) < 0 ? -1 : 0;
}

static int
access_get_tx(struct store_txn *t, void *arg)
{
	struct access_op *op = arg;
	struct store_key k;
	struct oidc_family f = { 0 };
	int rc;

	hashed_key(&k, op->tenant, op->key);
	store_access_clear(op->out);
	if ((rc = stx_get_rec(t, DB_OIDC_ACCESS, &k, store_access_fields, op->out)) != 1)
		return rc;
	if (op->out->revoked || (int64_t)op->out->expires < op->now)
		return 0;
	if (op->out->family == NULL)
		return 1;
	family_key(&k, op->tenant, op->out->family);
	if ((rc = stx_get_rec(t, DB_OIDC_FAMILIES, &k, store_family_fields, &f)) < 0)
		return -1;
	rc = rc == 1 && !f.revoked;
	store_family_clear(&f);
	return rc;
}

int
store_access_get(struct store *st, const char *tenant, const char *key, int64_t now,
    struct oidc_access *a_r)
{
	struct access_op op = { .tenant = tenant, .key = key, .out = a_r, .now = now };

	memset(a_r, 0, sizeof(*a_r));
	return store_run(st, 0, access_get_tx, &op);
}

static int
access_revoke_tx(struct store_txn *t, void *arg)
{
	struct access_op *op = arg;
	struct store_key k;
	struct oidc_access a = { 0 };
	int rc;

	hashed_key(&k, op->tenant, op->key);
	if ((rc = stx_get_rec(t, DB_OIDC_ACCESS, &k, store_access_fields, &a)) != 1)
		return rc;
	a.revoked = 1;
	rc = stx_put_rec(t, DB_OIDC_ACCESS, &k, store_access_fields, &a, 0) == 0 ? 1 : -1;
	store_access_clear(&a);
	return rc;
}

int
store_access_revoke(struct store *st, const char *tenant, const char *key)
{
	struct access_op op = { .tenant = tenant, .key = key };

	return store_run(st, 1, access_revoke_tx, &op);
}

/* ---- what goes with a removed client ---- */

struct client_drop {
	struct store_txn *t;
	const char *client_id;
	const struct rec_field *fields;
	size_t size;
	size_t client_off;	/* where the record's client_id is */
	int n;
};

/* Revoke a grant in place (the cursor is on it). */
static int
revoke_in_place(struct store_txn *t, const void *key, size_t klen, struct oidc_family *f)
{
	struct store_key k = { .len = 0 };

	if (f->revoked)
		return 0;
	f->revoked = 1;
	skey_add_bytes(&k, key, klen);
	return stx_put_rec(t, DB_OIDC_FAMILIES, &k, store_family_fields, f, 0) == 0 ? 1 : -1;
}

/* Codes and access tokens of the client go (2); its grants are revoked and kept. */
static int
client_drop_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct client_drop *d = arg;
	char *rec = xcalloc(1, d->size), *client;
	int rc = 0;

	if (rec_decode(d->fields, rec, val, vlen) == 0 &&
	    (client = *(char **)(rec + d->client_off)) && !strcmp(client, d->client_id)) {
		rc = d->fields == store_family_fields ?
		    revoke_in_place(d->t, key, klen, (struct oidc_family *)(void *)rec) : 2;
		d->n += rc > 0;
		rc = rc == 1 ? 0 : rc;
	}
	rec_clear(d->fields, rec);
	free(rec);
	return rc;
}

int
stx_client_grants_drop(struct store_txn *t, const char *tenant, const char *client_id)
{
	struct client_drop codes = { t, client_id, store_code_fields, sizeof(struct oidc_code),
		offsetof(struct oidc_code, client_id), 0 };
	struct client_drop fams = { t, client_id, store_family_fields, sizeof(struct oidc_family),
		offsetof(struct oidc_family, client_id), 0 };
	struct client_drop acc = { t, client_id, store_access_fields, sizeof(struct oidc_access),
		offsetof(struct oidc_access, client_id), 0 };
	struct store_key k;

	skey_init(&k, tenant);
	skey_prefix(&k);
	if (stx_iter_del(t, DB_OIDC_CODES, &k, client_drop_cb, &codes) < 0 ||
	    stx_iter(t, DB_OIDC_FAMILIES, &k, client_drop_cb, &fams) < 0 ||
	    stx_iter_del(t, DB_OIDC_ACCESS, &k, client_drop_cb, &acc) < 0)
		return -1;
	return codes.n + fams.n + acc.n;
}
