/*
 * Store operations on SSO sessions, the SPs that joined them, pending logins, Single
 * Logout state, replay caches and failure counters, and their expiry.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "log.h"
#include "store_int.h"
#include "xmalloc.h"

#define F(tag, type, st, m) { tag, type, offsetof(struct st, m), 0 }

const struct rec_field store_session_fields[] = {
	F(1, REC_STR, session, user),
	F(2, REC_STR, session, methods),
	F(3, REC_U64, session, created),
	F(4, REC_U64, session, last_seen),
	F(5, REC_U64, session, authn_instant),
	F(6, REC_U64, session, expires),
	F(7, REC_STR, session, device),
	F(8, REC_U64, session, device_at),
	F(9, REC_STR, session, ip),
	F(10, REC_STR, session, agent),
	F(11, REC_U64, session, mfa_at),
	REC_END
};

static const struct rec_field sp_fields[] = {
	F(1, REC_STR, session_sp, entity_id),
	F(2, REC_STR, session_sp, state),
	F(3, REC_U64, session_sp, when),
	REC_END
};

static const struct rec_field pending_fields[] = {
	F(1, REC_STR, pending, kind),
	F(2, REC_STR, pending, app),
	F(3, REC_STR, pending, state),
	F(4, REC_STR, pending, relay_state),
	F(5, REC_U64, pending, expires),
	F(6, REC_U64, pending, created),
	F(7, REC_U64, pending, force),
	REC_END
};

static const struct rec_field logout_fields[] = {
	F(1, REC_STR, logout_state, origin),
	F(2, REC_STR, logout_state, state),
	F(3, REC_STR, logout_state, remaining),
	F(4, REC_STR, logout_state, current),
	F(5, REC_STR, logout_state, relay_state),
	F(6, REC_STR, logout_state, user),
	F(7, REC_U64, logout_state, expires),
	F(8, REC_STR, logout_state, current_state),
	F(9, REC_U64, logout_state, partial),
	F(10, REC_STR, logout_state, return_to),
	REC_END
};

static const struct rec_field failure_fields[] = {
	F(1, REC_U64, failures, count),
	F(2, REC_U64, failures, first),
	F(3, REC_U64, failures, last),
	REC_END
};

void
store_session_clear(struct session *s)
{
	rec_clear(store_session_fields, s);
}

void
store_session_sp_clear(struct session_sp *sp)
{
	rec_clear(sp_fields, sp);
}

void
store_pending_clear(struct pending *p)
{
	rec_clear(pending_fields, p);
}

void
store_logout_clear(struct logout_state *l)
{
	rec_clear(logout_fields, l);
}

static void
session_key(struct store_key *k, const char *tenant, const unsigned char hash[32])
{
	skey_init(k, tenant);
	skey_add_bytes(k, "", 1);
	skey_add_bytes(k, hash, 32);
}

static void
user_session_key(struct store_key *k, const char *tenant, const char *user,
    const unsigned char hash[32])
{
	skey_init(k, tenant);
	skey_add(k, user);
	skey_add_bytes(k, "", 1);
	skey_add_bytes(k, hash, 32);
}

struct session_op {
	const char *tenant;
	const unsigned char *hash;
	const struct session *in;
	struct session *out;
	const char *request_id;
	int64_t replay_until;
	const struct session_sp *sp;
	const struct audit_entry *audit;
	const char *code;
	const struct oidc_code *oc;
	int64_t now;
	const char *err;
	int reauth;
	const char *device;
	const char *method;
	const char *user;
	store_each_fn cb;
	void *arg;
	struct store_txn *t;
	struct audit_entry full;
};

static int
session_add_tx(struct store_txn *t, void *arg)
{
	struct session_op *op = arg;
	struct store_key k, uk;

	session_key(&k, op->tenant, op->hash);
	user_session_key(&uk, op->tenant, op->in->user, op->hash);
	if (stx_put_rec(t, DB_SESSIONS, &k, store_session_fields, op->in, STX_NOOVERWRITE) != 0)
		return -1;
	return stx_put(t, DB_USER_SESSIONS, &uk, "", 0, 0) == 0 ? 0 : -1;
}

#define AGENT_MAX 200

int
store_session_add(struct store *st, const char *tenant, const unsigned char id_hash[32],
    const struct session *s)
{
	struct session copy = *s;
	struct session_op op = { .tenant = tenant, .hash = id_hash, .in = &copy };
	size_t n;
	int rc;

	if (s->agent && (n = strlen(s->agent)) > AGENT_MAX) {
		/* Cut at a character's start, so what is kept stays valid UTF-8. */
		for (n = AGENT_MAX; n > 0 && ((unsigned char)s->agent[n] & 0xc0) == 0x80; n--)
			;
		copy.agent = xstrndup(s->agent, n);
	}
	rc = store_run(st, 1, session_add_tx, &op);
	if (copy.agent != s->agent)
		free(copy.agent);
	return rc;
}

static int
session_get_tx(struct store_txn *t, void *arg)
{
	struct session_op *op = arg;
	struct store_key k;

	session_key(&k, op->tenant, op->hash);
	store_session_clear(op->out);
	return stx_get_rec(t, DB_SESSIONS, &k, store_session_fields, op->out);
}

int
store_session_get(struct store *st, const char *tenant, const unsigned char id_hash[32],
    struct session *s_r)
{
	struct session_op op = { .tenant = tenant, .hash = id_hash, .out = s_r };

	memset(s_r, 0, sizeof(*s_r));
	return store_run(st, 0, session_get_tx, &op);
}

/* m joins the space-separated methods unless one of them already. */
static void
method_join(char **methods, const char *m)
{
	size_t n = strlen(m);
	char *joined;

	for (const char *p = *methods ? *methods : ""; *p; p += strspn(p, " ")) {
		size_t len = strcspn(p, " ");
		if (len == n && !strncmp(p, m, n))
			return;
		p += len;
	}
	joined = *methods && **methods ? xasprintf("%s %s", *methods, m) : xstrdup(m);
	free(*methods);
	*methods = joined;
}

static int
touch_auth(struct store_txn *t, const struct store_key *k, int64_t now, int reauth,
    const char *device)
{
	struct session s = { 0 };
	int rc;

	if ((rc = stx_get_rec(t, DB_SESSIONS, k, store_session_fields, &s)) != 1)
		return rc;
	s.last_seen = (uint64_t)now;
	if (reauth)
		s.authn_instant = (uint64_t)now;
	if (device) {
		free(s.device);
		s.device = xstrdup(device);
		s.device_at = (uint64_t)now;
		if (s.methods)
			method_join(&s.methods, "x509");
	}
	rc = stx_put_rec(t, DB_SESSIONS, k, store_session_fields, &s, 0);
	store_session_clear(&s);
	return rc == 0 ? 1 : -1;
}

static int
touch(struct store_txn *t, const struct store_key *k, int64_t now)
{
	return touch_auth(t, k, now, 0, NULL);
}

static int
session_touch_tx(struct store_txn *t, void *arg)
{
	struct session_op *op = arg;
	struct store_key k;

	session_key(&k, op->tenant, op->hash);
	return touch_auth(t, &k, op->now, op->reauth, op->device);
}

int
store_session_reauth(struct store *st, const char *tenant, const unsigned char id_hash[32],
    int64_t now)
{
	struct session_op op = { .tenant = tenant, .hash = id_hash, .now = now, .reauth = 1 };

	return store_run(st, 1, session_touch_tx, &op);
}

int
store_session_set_device(struct store *st, const char *tenant, const unsigned char id_hash[32],
    const char *serial, int64_t now)
{
	struct session_op op = { .tenant = tenant, .hash = id_hash, .now = now, .device = serial };

	return store_run(st, 1, session_touch_tx, &op);
}

int
store_session_touch(struct store *st, const char *tenant, const unsigned char id_hash[32],
    int64_t now)
{
	struct session_op op = { .tenant = tenant, .hash = id_hash, .now = now };

	return store_run(st, 1, session_touch_tx, &op);
}

static int
add_method_tx(struct store_txn *t, void *arg)
{
	struct session_op *op = arg;
	struct session s = { 0 };
	struct store_key k;
	int rc;

	session_key(&k, op->tenant, op->hash);
	if ((rc = stx_get_rec(t, DB_SESSIONS, &k, store_session_fields, &s)) != 1)
		return rc;
	method_join(&s.methods, op->method);
	method_join(&s.methods, "mfa");
	s.mfa_at = s.authn_instant = s.last_seen = (uint64_t)op->now;
	rc = stx_put_rec(t, DB_SESSIONS, &k, store_session_fields, &s, 0);
	store_session_clear(&s);
	return rc == 0 ? 1 : -1;
}

int
store_session_add_method(struct store *st, const char *tenant,
    const unsigned char id_hash[32], const char *method, int64_t now)
{
	struct session_op op = { .tenant = tenant, .hash = id_hash, .method = method,
		.now = now };
	size_t n = method ? strlen(method) : 0;

	if (n == 0 || n > 16 || strspn(method, "abcdefghijklmnopqrstuvwxyz0123456789") != n)
		return -1;
	return store_run(st, 1, add_method_tx, &op);
}

/* An entry "tenant USER HASH" of the user's index: its session to the callback. */
static int
list_user_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct session_op *op = arg;
	struct session_info si;
	struct store_key k;
	int rc;

	if (klen < 32)
		return 0;
	memset(&si, 0, sizeof(si));
	memcpy(si.hash, (const unsigned char *)key + klen - 32, 32);
	session_key(&k, op->tenant, si.hash);
	if ((rc = stx_get_rec(op->t, DB_SESSIONS, &k, store_session_fields, &si.s)) == 1)
		op->cb(&si, op->arg);
	store_session_clear(&si.s);
	return rc < 0 ? -1 : 0;
}

static int
list_user_tx(struct store_txn *t, void *arg)
{
	struct session_op *op = arg;
	struct store_key k;

	op->t = t;
	skey_init(&k, op->tenant);
	skey_add(&k, op->user);
	skey_prefix(&k);
	return stx_iter(t, DB_USER_SESSIONS, &k, list_user_cb, op);
}

int
store_session_list_user(struct store *st, const char *tenant, const char *user_id,
    store_each_fn cb, void *arg)
{
	struct session_op op = { .tenant = tenant, .user = user_id, .cb = cb, .arg = arg };

	return store_run(st, 0, list_user_tx, &op);
}

static int
end_user_tx(struct store_txn *t, void *arg)
{
	struct session_op *op = arg;
	struct session s = { 0 };
	struct store_key k;
	int rc;

	session_key(&k, op->tenant, op->hash);
	if ((rc = stx_get_rec(t, DB_SESSIONS, &k, store_session_fields, &s)) == 1 &&
	    (s.user == NULL || strcmp(s.user, op->user)))
		rc = 0;		/* another user's session: as if there were none */
	if (rc == 1)
		rc = stx_session_delete(t, op->tenant, s.user, op->hash) < 0 ||
		    stx_revoke_session_grants(t, op->tenant, op->hash) < 0 ||
		    stx_audit_entry(t, op->tenant, op->audit, NULL, &op->full) < 0 ? -1 : 1;
	store_session_clear(&s);
	return rc;
}

int
store_session_end_user(struct store *st, const char *tenant, const char *user_id,
    const unsigned char id_hash[32], const struct audit_entry *ae)
{
	struct session_op op = { .tenant = tenant, .user = user_id, .hash = id_hash,
		.audit = ae };
	int rc = store_run(st, 1, end_user_tx, &op);

	if (rc == 1)
		audit_entry_done(&op.full, tenant);
	return rc < 0 ? -1 : rc;
}

static int
del_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	return 2;
}

int
stx_session_delete(struct store_txn *t, const char *tenant, const char *user,
    const unsigned char hash[32])
{
	struct store_key k;
	int rc;

	session_key(&k, tenant, hash);
	if ((rc = stx_del(t, DB_SESSIONS, &k)) < 0)
		return -1;
	skey_prefix(&k);
	if (stx_iter_del(t, DB_SESSION_SPS, &k, del_cb, NULL) < 0)
		return -1;
	if (user) {
		user_session_key(&k, tenant, user, hash);
		if (stx_del(t, DB_USER_SESSIONS, &k) < 0)
			return -1;
	}
	return rc;
}

static int
session_delete_tx(struct store_txn *t, void *arg)
{
	struct session_op *op = arg;
	struct store_key k;
	struct session s = { 0 };
	int rc;

	session_key(&k, op->tenant, op->hash);
	if ((rc = stx_get_rec(t, DB_SESSIONS, &k, store_session_fields, &s)) != 1)
		return rc;
	rc = stx_session_delete(t, op->tenant, s.user, op->hash);
	store_session_clear(&s);
	return rc;
}

int
store_session_delete(struct store *st, const char *tenant, const unsigned char id_hash[32])
{
	struct session_op op = { .tenant = tenant, .hash = id_hash };

	return store_run(st, 1, session_delete_tx, &op);
}

static int
replay_put(struct store_txn *t, const char *tenant, const char *kind, const char *id,
    int64_t until)
{
	struct store_key k;
	struct buf b;
	int rc;

	skey_init(&k, tenant);
	skey_add(&k, kind);
	skey_add_hash(&k, id, strlen(id));
	rec_begin(&b, REC_VERSION);
	rec_put_u64(&b, 1, (uint64_t)until);
	rc = stx_put(t, DB_REPLAY, &k, b.data, b.len, STX_NOOVERWRITE);
	buf_free(&b);
	return rc;
}

static int
session_sso_tx(struct store_txn *t, void *arg)
{
	struct session_op *op = arg;
	struct store_key k;
	int rc;

	session_key(&k, op->tenant, op->hash);
	if ((rc = touch(t, &k, op->now)) != 1) {
		op->err = rc == 0 ? "session ended" : op->err;
		return -1;
	}
	if (op->request_id) {
		rc = replay_put(t, op->tenant, "saml", op->request_id, op->replay_until);
		if (rc != 0) {
			op->err = rc == 1 ? "replayed request" : op->err;
			return -1;
		}
	}
	skey_add_hash(&k, op->sp->entity_id, strlen(op->sp->entity_id));
	if (stx_put_rec(t, DB_SESSION_SPS, &k, sp_fields, op->sp, 0) != 0)
		return -1;
	if (op->code && stx_code_put(t, op->tenant, op->code, op->oc) != 0)
		return -1;
	if (op->audit && stx_audit_append(t, op->tenant, op->now, op->audit->event,
	    op->audit->fields) != 0)
		return -1;
	return 0;
}

int
store_session_authorize(struct store *st, const char *tenant, const unsigned char id_hash[32],
    const struct session_sp *sp, const char *code, const struct oidc_code *c, int64_t now,
    const struct audit_entry *audit, const char **errstr)
{
	struct session_op op = { .tenant = tenant, .hash = id_hash, .sp = sp, .now = now,
		.audit = audit, .code = code, .oc = c, .err = "storage error" };
	int rc = store_run(st, 1, session_sso_tx, &op);

	if (rc < 0)
		*errstr = rc == STORE_FULL ? "database full" : op.err;
	return rc < 0 ? rc : 0;
}

int
store_session_sso(struct store *st, const char *tenant, const unsigned char id_hash[32],
    const char *request_id, int64_t replay_until, const struct session_sp *sp, int64_t now,
    const struct audit_entry *audit, const char **errstr)
{
	struct session_op op = { .tenant = tenant, .hash = id_hash, .request_id = request_id,
		.replay_until = replay_until, .sp = sp, .now = now, .audit = audit,
		.err = "storage error" };
	int rc = store_run(st, 1, session_sso_tx, &op);

	if (rc < 0)
		*errstr = rc == STORE_FULL ? "database full" : op.err;
	return rc < 0 ? rc : 0;
}

int
store_session_sps(struct store *st, const char *tenant, const unsigned char id_hash[32],
    store_each_fn cb, void *arg)
{
	struct store_key k;

	session_key(&k, tenant, id_hash);
	skey_prefix(&k);
	return store_each(st, DB_SESSION_SPS, &k, sp_fields, sizeof(struct session_sp), cb, arg);
}

/* ---- replay cache ---- */

struct replay_op {
	const char *tenant, *kind, *id;
	int64_t until;
};

static int
replay_tx(struct store_txn *t, void *arg)
{
	struct replay_op *op = arg;

	return replay_put(t, op->tenant, op->kind, op->id, op->until);
}

static int
replay_seen_tx(struct store_txn *t, void *arg)
{
	struct replay_op *op = arg;
	struct store_key k;
	const void *v;
	size_t len;

	skey_init(&k, op->tenant);
	skey_add(&k, op->kind);
	skey_add_hash(&k, op->id, strlen(op->id));
	return stx_get(t, DB_REPLAY, &k, &v, &len);
}

int
store_replay_seen(struct store *st, const char *tenant, const char *kind, const char *id)
{
	struct replay_op op = { tenant, kind, id, 0 };

	return store_run(st, 0, replay_seen_tx, &op);
}

int
store_replay_check(struct store *st, const char *tenant, const char *kind, const char *id,
    int64_t until)
{
	struct replay_op op = { tenant, kind, id, until };

	return store_run(st, 1, replay_tx, &op);
}

/* ---- pending logins and logout states: records keyed by a random id's hash ---- */

struct idrec_op {
	enum store_db db;
	const struct rec_field *fields;
	const char *tenant, *id;
	const void *in;
	void *out;
	int take;
};

static void
idrec_key(struct store_key *k, const struct idrec_op *op)
{
	skey_init(k, op->tenant);
	skey_add_hash(k, op->id, strlen(op->id));
}

static int
idrec_put_tx(struct store_txn *t, void *arg)
{
	struct idrec_op *op = arg;
	struct store_key k;

	idrec_key(&k, op);
	return stx_put_rec(t, op->db, &k, op->fields, op->in, 0);
}

static int
idrec_get_tx(struct store_txn *t, void *arg)
{
	struct idrec_op *op = arg;
	struct store_key k;
	int rc;

	idrec_key(&k, op);
	rec_clear(op->fields, op->out);
	rc = stx_get_rec(t, op->db, &k, op->fields, op->out);
	if (rc == 1 && op->take && stx_del(t, op->db, &k) < 0)
		return -1;
	return rc;
}

static int
idrec_run(struct store *st, struct idrec_op *op, store_txn_fn fn, int rw)
{
	return store_run(st, rw, fn, op);
}

int
store_pending_put(struct store *st, const char *tenant, const char *id, const struct pending *p)
{
	struct idrec_op op = { DB_PENDING, pending_fields, tenant, id, p, NULL, 0 };

	return idrec_run(st, &op, idrec_put_tx, 1);
}

int
store_pending_get(struct store *st, const char *tenant, const char *id, struct pending *p_r)
{
	struct idrec_op op = { DB_PENDING, pending_fields, tenant, id, NULL, p_r, 0 };

	memset(p_r, 0, sizeof(*p_r));
	return idrec_run(st, &op, idrec_get_tx, 0);
}

int
store_pending_take(struct store *st, const char *tenant, const char *id, struct pending *p_r)
{
	struct idrec_op op = { DB_PENDING, pending_fields, tenant, id, NULL, p_r, 1 };

	memset(p_r, 0, sizeof(*p_r));
	return idrec_run(st, &op, idrec_get_tx, 1);
}

int
store_logout_put(struct store *st, const char *tenant, const char *id,
    const struct logout_state *l)
{
	struct idrec_op op = { DB_LOGOUT, logout_fields, tenant, id, l, NULL, 0 };

	return idrec_run(st, &op, idrec_put_tx, 1);
}

int
store_logout_get(struct store *st, const char *tenant, const char *id, struct logout_state *l_r)
{
	struct idrec_op op = { DB_LOGOUT, logout_fields, tenant, id, NULL, l_r, 0 };

	memset(l_r, 0, sizeof(*l_r));
	return idrec_run(st, &op, idrec_get_tx, 0);
}

static int
idrec_del_tx(struct store_txn *t, void *arg)
{
	struct idrec_op *op = arg;
	struct store_key k;

	idrec_key(&k, op);
	return stx_del(t, op->db, &k);
}

int
store_logout_delete(struct store *st, const char *tenant, const char *id)
{
	struct idrec_op op = { DB_LOGOUT, logout_fields, tenant, id, NULL, NULL, 0 };

	return idrec_run(st, &op, idrec_del_tx, 1);
}

/* ---- failure counters ---- */

struct failure_op {
	const char *tenant, *scope, *key;
	int64_t now, window;
	struct failures *out;
};

/* User names count without regard to case, as they log in. */
static void
failure_key(struct store_key *k, const struct failure_op *op)
{
	char folded[256];
	size_t i;

	for (i = 0; op->key[i] && i < sizeof(folded) - 1; i++)
		folded[i] = (op->key[i] >= 'A' && op->key[i] <= 'Z' && !strcmp(op->scope, "user")) ?
		    (char)(op->key[i] + 32) : op->key[i];
	folded[i] = '\0';
	skey_init(k, op->tenant);
	skey_add(k, op->scope);
	skey_add_hash(k, folded, i);
}

/* Count one failure under k: a count older than window starts again.  The new state. */
static int
failure_count(struct store_txn *t, const struct store_key *k, int64_t now, int64_t window,
    struct failures *out)
{
	struct failures f = { 0 };

	if (stx_get_rec(t, DB_FAILURES, k, failure_fields, &f) < 0)
		return -1;
	if (f.count == 0 || (int64_t)f.first + window < now) {
		f.count = 0;
		f.first = (uint64_t)now;
	}
	f.count++;
	f.last = (uint64_t)now;
	if (out)
		*out = f;
	return stx_put_rec(t, DB_FAILURES, k, failure_fields, &f, 0);
}

static int
failure_add_tx(struct store_txn *t, void *arg)
{
	struct failure_op *op = arg;
	struct store_key k;

	failure_key(&k, op);
	return failure_count(t, &k, op->now, op->window, op->out);
}

int
store_failure_add(struct store *st, const char *tenant, const char *scope, const char *key,
    int64_t now, int64_t window, struct failures *f_r)
{
	struct failure_op op = { tenant, scope, key, now, window, f_r };

	memset(f_r, 0, sizeof(*f_r));
	return store_run(st, 1, failure_add_tx, &op);
}

struct reserve_op {
	struct failure_op user, ip;
	int (*gate)(const struct failures *user, const struct failures *ip, void *arg);
	void *arg;
};

static int
reserve_tx(struct store_txn *t, void *arg)
{
	struct reserve_op *op = arg;
	struct failures fu = { 0 }, fi = { 0 };
	struct store_key ku, ki;
	int gate;

	failure_key(&ku, &op->user);
	failure_key(&ki, &op->ip);
	if (stx_get_rec(t, DB_FAILURES, &ku, failure_fields, &fu) < 0 ||
	    stx_get_rec(t, DB_FAILURES, &ki, failure_fields, &fi) < 0)
		return -1;
	gate = op->gate(&fu, &fi, op->arg);
	if (failure_count(t, &ki, op->ip.now, op->ip.window, NULL) == -1 ||
	    failure_count(t, &ku, op->user.now, op->user.window, op->user.out) == -1)
		return -1;
	return gate;
}

int
store_failure_reserve(struct store *st, const char *tenant, const char *user, const char *ip,
    int64_t now, int64_t window,
    int (*gate)(const struct failures *user, const struct failures *ip, void *arg), void *arg,
    struct failures *user_r)
{
	struct reserve_op op = { { tenant, "user", user, now, window, user_r },
		{ tenant, "ip", ip, now, window, NULL }, gate, arg };

	memset(user_r, 0, sizeof(*user_r));
	return store_run(st, 1, reserve_tx, &op);
}

static int
success_tx(struct store_txn *t, void *arg)
{
	struct failure_op *op = arg;	/* [0] the user, [1] the address */
	struct failures f = { 0 };
	struct store_key k;
	int rc;

	failure_key(&k, &op[0]);
	if (stx_del(t, DB_FAILURES, &k) < 0)
		return -1;
	failure_key(&k, &op[1]);
	if ((rc = stx_get_rec(t, DB_FAILURES, &k, failure_fields, &f)) <= 0 || f.count == 0)
		return rc;
	f.count--;
	return stx_put_rec(t, DB_FAILURES, &k, failure_fields, &f, 0);
}

int
store_failure_success(struct store *st, const char *tenant, const char *user, const char *ip)
{
	struct failure_op op[2] = { { tenant, "user", user, 0, 0, NULL },
		{ tenant, "ip", ip, 0, 0, NULL } };

	return store_run(st, 1, success_tx, op);
}

static int
failure_get_tx(struct store_txn *t, void *arg)
{
	struct failure_op *op = arg;
	struct store_key k;

	failure_key(&k, op);
	memset(op->out, 0, sizeof(*op->out));
	return stx_get_rec(t, DB_FAILURES, &k, failure_fields, op->out);
}

int
store_failure_get(struct store *st, const char *tenant, const char *scope, const char *key,
    struct failures *f_r)
{
	struct failure_op op = { tenant, scope, key, 0, 0, f_r };

	return store_run(st, 0, failure_get_tx, &op);
}

static int
failure_clear_tx(struct store_txn *t, void *arg)
{
	struct failure_op *op = arg;
	struct store_key k;

	failure_key(&k, op);
	return stx_del(t, DB_FAILURES, &k);
}

int
store_failure_clear(struct store *st, const char *tenant, const char *scope, const char *key)
{
	struct failure_op op = { tenant, scope, key, 0, 0, NULL };

	return store_run(st, 1, failure_clear_tx, &op);
}

/* ---- expiry ---- */

struct expire_op {
	struct store_txn *t;
	int64_t now, idle;
	size_t n;
};

static int
expire_session_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct expire_op *op = arg;
	struct session s = { 0 };
	struct store_key k;
	const char *tenant = key;
	size_t tlen = strnlen(tenant, klen);
	int expired;

	if (tlen + 1 + 32 != klen || rec_decode(store_session_fields, &s, val, vlen) == -1)
		return 0;
	expired = (int64_t)s.expires < op->now || (int64_t)s.last_seen + op->idle < op->now;
	if (expired) {
		/* SPs and the user index go with it; the cursor deletes the session itself. */
		session_key(&k, tenant, (const unsigned char *)key + tlen + 1);
		skey_prefix(&k);
		if (stx_iter_del(op->t, DB_SESSION_SPS, &k, del_cb, NULL) < 0)
			expired = -1;
		user_session_key(&k, tenant, s.user, (const unsigned char *)key + tlen + 1);
		if (expired == 1 && stx_del(op->t, DB_USER_SESSIONS, &k) < 0)
			expired = -1;
		op->n++;
	}
	store_session_clear(&s);
	return expired < 0 ? -1 : expired ? 2 : 0;
}

/* Records whose first u64 field (tag 1) or a field with tag t is an expiry time. */
static int
expire_field(const void *val, size_t vlen, uint8_t want, int64_t *t_r)
{
	struct rec_reader r;
	const unsigned char *v;
	size_t len;
	uint8_t tag;
	uint64_t u;

	if (rec_open(&r, val, vlen) == -1)
		return -1;
	while (rec_next(&r, &tag, &v, &len) == 1)
		if (tag == want && rec_u64(v, len, &u) == 0) {
			*t_r = (int64_t)u;
			return 0;
		}
	return -1;
}

struct expire_tag {
	struct expire_op *op;
	uint8_t tag;
	int64_t grace;
};

static int
expire_tag_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct expire_tag *et = arg;
	int64_t t;

	if (expire_field(val, vlen, et->tag, &t) == -1 || t + et->grace < et->op->now) {
		et->op->n++;
		return 2;
	}
	return 0;
}

/* Index entries "tenant ... \0 family" whose grant has expired away. */
static int
dangling_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct expire_op *op = arg;
	const char *k = key, *last = memrchr(k, '\0', klen);
	struct store_key fk;
	const void *v;
	size_t len;
	int rc;

	if (last == NULL)
		return 2;
	skey_init(&fk, k);
	skey_add_bytes(&fk, last, (size_t)(k + klen - last));
	if ((rc = stx_get(op->t, DB_OIDC_FAMILIES, &fk, &v, &len)) < 0)
		return -1;
	return rc == 0 ? 2 : 0;
}

static int
expire_tx(struct store_txn *t, void *arg)
{
	struct expire_op *op = arg;
	struct store_key all = { .len = 0 };
	struct expire_tag pend = { op, 5, 0 }, lo = { op, 7, 0 }, rep = { op, 1, 0 };
	struct expire_tag fail = { op, 3, 86400 };
	/* OIDC records by their expiry fields (see store_oidc.c); a day's grace keeps used
	   codes and old refresh tokens around to detect their replay until then. */
	struct expire_tag code = { op, 12, 86400 }, refresh = { op, 3, 86400 };
	struct expire_tag access = { op, 5, 0 }, family = { op, 10, 86400 };
	int challenges;

	op->t = t;
	op->n = 0;
	if (stx_iter_del(t, DB_SESSIONS, &all, expire_session_cb, op) < 0 ||
	    stx_iter_del(t, DB_PENDING, &all, expire_tag_cb, &pend) < 0 ||
	    stx_iter_del(t, DB_LOGOUT, &all, expire_tag_cb, &lo) < 0 ||
	    stx_iter_del(t, DB_REPLAY, &all, expire_tag_cb, &rep) < 0 ||
	    stx_iter_del(t, DB_FAILURES, &all, expire_tag_cb, &fail) < 0 ||
	    stx_iter_del(t, DB_OIDC_CODES, &all, expire_tag_cb, &code) < 0 ||
	    stx_iter_del(t, DB_OIDC_REFRESH, &all, expire_tag_cb, &refresh) < 0 ||
	    stx_iter_del(t, DB_OIDC_ACCESS, &all, expire_tag_cb, &access) < 0 ||
	    stx_iter_del(t, DB_OIDC_FAMILIES, &all, expire_tag_cb, &family) < 0 ||
	    stx_iter_del(t, DB_OIDC_BY_SESSION, &all, dangling_cb, op) < 0 ||
	    stx_iter_del(t, DB_OIDC_BY_USER, &all, dangling_cb, op) < 0 ||
	    (challenges = stx_challenges_expire(t, op->now)) < 0)
		return -1;
	return (int)op->n + challenges;
}

int
store_expire(struct store *st, int64_t now, int64_t session_idle)
{
	struct expire_op op = { .now = now, .idle = session_idle };

	return store_run(st, 1, expire_tx, &op);
}

int
stx_failure_drop(struct store_txn *t, const char *tenant, const char *scope, const char *key)
{
	struct failure_op op = { tenant, scope, key, 0, 0, NULL };
	struct store_key k;

	failure_key(&k, &op);
	return stx_del(t, DB_FAILURES, &k);
}

/* ---- what goes with a user or an app ---- */

struct end_sessions {
	struct store_txn *t;
	const char *tenant;
	const unsigned char *keep;
	size_t prefix_len;
	int n;
};

static int
end_sessions_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct end_sessions *es = arg;
	const unsigned char *hash = (const unsigned char *)key + es->prefix_len;

	if (klen != es->prefix_len + 32 || (es->keep && !memcmp(hash, es->keep, 32)))
		return 0;
	if (stx_session_delete(es->t, es->tenant, NULL, hash) < 0)
		return -1;
	es->n++;
	return 2;
}

int
stx_end_user_sessions(struct store_txn *t, const char *tenant, const char *user_id)
{
	return stx_end_user_sessions_except(t, tenant, user_id, NULL);
}

int
stx_end_user_sessions_except(struct store_txn *t, const char *tenant, const char *user_id,
    const unsigned char *keep)
{
	struct end_sessions es = { .t = t, .tenant = tenant, .keep = keep };
	struct store_key k;

	skey_init(&k, tenant);
	skey_add(&k, user_id);
	skey_prefix(&k);
	es.prefix_len = k.len;
	return stx_iter_del(t, DB_USER_SESSIONS, &k, end_sessions_cb, &es) < 0 ? -1 : es.n;
}

struct sps_drop {
	const char *entity_id;
	int n;
};

/* An app's part of a session (key: tenant, session hash, hash of the entity ID). */
static int
sps_drop_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct sps_drop *d = arg;
	struct session_sp sp = { 0 };
	int match;

	if (rec_decode(sp_fields, &sp, val, vlen) == -1)
		return 0;
	match = sp.entity_id && !strcmp(sp.entity_id, d->entity_id);
	store_session_sp_clear(&sp);
	d->n += match;
	return match ? 2 : 0;
}

int
stx_session_sps_drop(struct store_txn *t, const char *tenant, const char *entity_id)
{
	struct sps_drop d = { entity_id, 0 };
	struct store_key k;

	skey_init(&k, tenant);
	skey_prefix(&k);
	return stx_iter_del(t, DB_SESSION_SPS, &k, sps_drop_cb, &d) < 0 ? -1 : d.n;
}

/* Every SSO session of the tenant with its OIDC grants (a suspension): how many, or -1. */
static int
end_all_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct end_sessions *es = arg;
	const unsigned char *hash = (const unsigned char *)key + klen - 32;

	(void)val, (void)vlen;
	if (klen < es->prefix_len + 32)
		return 0;
	if (stx_session_delete(es->t, es->tenant, NULL, hash) < 0 ||
	    stx_revoke_session_grants(es->t, es->tenant, hash) < 0)
		return -1;
	es->n++;
	return 2;
}

int
stx_end_tenant_sessions(struct store_txn *t, const char *tenant)
{
	struct end_sessions es = { .t = t, .tenant = tenant };
	struct store_key k;

	skey_init(&k, tenant);
	skey_prefix(&k);
	es.prefix_len = k.len;
	return stx_iter_del(t, DB_USER_SESSIONS, &k, end_all_cb, &es) < 0 ? -1 : es.n;
}
