/*
 * Private to the store module (policies/store*.c): transactions and keys in Sekisho's own
 * terms, so only store.c sees LMDB.  Nothing outside policies/ includes this header.
 */
#ifndef SEKISHO_STORE_INT_H
#define SEKISHO_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "rec.h"
#include "store.h"

enum store_db {
	DB_META,
	DB_TENANTS,
	DB_KEYS,
	DB_USERS,
	DB_USERS_EMAIL,
	DB_USER_SESSIONS,
	DB_GROUPS,
	DB_MEMBERS,
	DB_APPS,
	DB_APPS_ENTITY,
	DB_SESSIONS,
	DB_SESSION_SPS,
	DB_PENDING,
	DB_REPLAY,
	DB_LOGOUT,
	DB_FAILURES,
	DB_AUDIT,
	DB_OIDC_CODES,
	DB_OIDC_FAMILIES,
	DB_OIDC_REFRESH,
	DB_OIDC_ACCESS,
	DB_OIDC_BY_SESSION,
	DB_OIDC_BY_USER,
	DB_CERTS,
	DB_CERTS_BY_USER,
	DB_CERTS_BY_FP,
	DB_CRL,
	DB_POLICIES,
	DB_USERS_NAME,
	DB_GROUPS_NAME,
	DB_RULES,
	DB_ASSIGN,
	DB_FACTORS,
	DB_FACTORS_CRED,
	DB_CHALLENGES,
	DB_CHALLENGES_USER,
	DB_RATE,
	DB_APIKEYS,
	DB_APIKEYS_NAME,
	DB__COUNT
};

#define STORE_KEY_MAX 511

/* A key: tenant, then NUL-separated parts.  Long identifiers are added hashed. */
struct store_key {
	unsigned char b[STORE_KEY_MAX];
	size_t len;
	int overflow;
};

void skey_init(struct store_key *k, const char *tenant);
void skey_add(struct store_key *k, const char *part);
void skey_add_bytes(struct store_key *k, const void *p, size_t n);
/* Adds the SHA-256 of p (for SAML IDs, entity IDs, jti, cookie values...). */
void skey_add_hash(struct store_key *k, const void *p, size_t n);
/* The key "tenant part": most records of a tenant keyed by one name or id. */
void skey_of(struct store_key *k, const char *tenant, const char *part);
/* Ends the key with the separator so it is a prefix for all keys below it. */
void skey_prefix(struct store_key *k);

struct store_txn;

/*
 * The callback's result is returned; < 0 aborts, >= 0 commits (write transactions).  A
 * write callback may run on another request's thread (the one committing the batch it is
 * in) and more than once (again after the map grew): it touches only arg and t.
 */
typedef int (*store_txn_fn)(struct store_txn *t, void *arg);
int store_run(struct store *st, int rw, store_txn_fn fn, void *arg);

/* Borrowed value valid until the transaction ends: 1 found, 0 not found, -1 error. */
int stx_get(struct store_txn *t, enum store_db db, const struct store_key *k, const void **v_r,
    size_t *len_r);
#define STX_NOOVERWRITE 1
/* 0 stored, 1 exists (with STX_NOOVERWRITE), -1 error. */
int stx_put(struct store_txn *t, enum store_db db, const struct store_key *k, const void *v,
    size_t len, int flags);
/* 1 deleted, 0 not found, -1 error. */
int stx_del(struct store_txn *t, enum store_db db, const struct store_key *k);

/* Iteration over keys starting with prefix; fn returns 0 to go on, 1 to stop, -1 on error. */
typedef int (*stx_iter_fn)(const void *key, size_t klen, const void *val, size_t vlen, void *arg);
int stx_iter(struct store_txn *t, enum store_db db, const struct store_key *prefix,
    stx_iter_fn fn, void *arg);
/* Like stx_iter, beginning at the first key at or after start (a key below prefix). */
int stx_iter_from(struct store_txn *t, enum store_db db, const struct store_key *prefix,
    const struct store_key *start, stx_iter_fn fn, void *arg);
/* Backwards: from the last key before start (a key below prefix) down to the first. */
int stx_iter_before(struct store_txn *t, enum store_db db, const struct store_key *prefix,
    const struct store_key *start, stx_iter_fn fn, void *arg);
/* Like stx_iter but the callback may ask for deletion of the current entry by returning 2. */
int stx_iter_del(struct store_txn *t, enum store_db db, const struct store_key *prefix,
    stx_iter_fn fn, void *arg);

/* Encode obj with fields and put it; decode a found value.  Same returns as put/get. */
int stx_put_rec(struct store_txn *t, enum store_db db, const struct store_key *k,
    const struct rec_field *fields, const void *obj, int flags);
int stx_get_rec(struct store_txn *t, enum store_db db, const struct store_key *k,
    const struct rec_field *fields, void *obj);

/*
 * Decode every record under prefix into a zeroed struct of size bytes described by fields,
 * and hand it to fn (store.h's generic list); store_each does it in a read transaction.
 */
int stx_each(struct store_txn *t, enum store_db db, const struct store_key *prefix,
    const struct rec_field *fields, size_t size, store_each_fn fn, void *arg);
int store_each(struct store *st, enum store_db db, const struct store_key *prefix,
    const struct rec_field *fields, size_t size, store_each_fn fn, void *arg);

/*
 * The same in the order of an index: each entry under prefix in index holds an id, whose
 * record (key: tenant, id) in target is decoded and handed to fn.
 */
int stx_each_via(struct store_txn *t, enum store_db index, const struct store_key *prefix,
    enum store_db target, const char *tenant, const struct rec_field *fields, size_t size,
    store_each_fn fn, void *arg);

/* Every record of tenant in target, in the order of the index (a read transaction). */
int store_each_by(struct store *st, const char *tenant, enum store_db index, enum store_db target,
    const struct rec_field *fields, size_t size, store_each_fn fn, void *arg);

/* A big-endian 64-bit number in DB_META at k: 1 found (0 when absent or not one), -1. */
int stx_meta_u64(struct store_txn *t, const struct store_key *k, uint64_t *v_r);
int stx_meta_put_u64(struct store_txn *t, const struct store_key *k, uint64_t v);

/* Bump the tenant's configuration generation (apps, keys, tenant settings changed). */
int stx_bump_generation(struct store_txn *t, const char *tenant);
/*
 * The highest generation an erased tenant had (store_erase.c): a tenant made again with
 * its id starts above it, so no server takes the new tenant for the one it has loaded.
 */
uint64_t stx_generation_floor(struct store_txn *t);

/* Adds s folded to lower case (ASCII): names and e-mail addresses in indexes. */
void skey_add_folded(struct store_key *k, const char *s);

/* End every SSO session of the user with this id; how many, or -1 (store_session.c). */
int stx_end_user_sessions(struct store_txn *t, const char *tenant, const char *user_id);
/* The same except the session keep (NULL: none kept). */
int stx_end_user_sessions_except(struct store_txn *t, const char *tenant, const char *user_id,
    const unsigned char *keep);

/* A user by name (without regard to case) or by id inside a transaction: 1/0/-1. */
int stx_user_get(struct store_txn *t, const char *tenant, const char *name, struct user *u_r);
int stx_user_by_id(struct store_txn *t, const char *tenant, const char *id, struct user *u_r);
/* A group by name or by id (store_group.c), an app by name (store_app.c): 1/0/-1. */
int stx_group_get(struct store_txn *t, const char *tenant, const char *name, struct grouprec *g_r);
int stx_group_by_id(struct store_txn *t, const char *tenant, const char *id, struct grouprec *g_r);
int stx_app_get(struct store_txn *t, const char *tenant, const char *name, struct app *a_r);
/* The name of the app with this id (new string), or NULL. */
char *stx_app_name(struct store_txn *t, const char *tenant, const char *id);
/*
 * The user, group or app (kind) called name (store_assign.c): 1 with its id and, when
 * name_r is not NULL, its name as stored (new strings), 0 none, -1.
 */
int stx_object_id(struct store_txn *t, const char *tenant, const char *kind, const char *name,
    char **id_r, char **name_r);
/* The current name of kind's object with this id (new string), or NULL when gone. */
char *stx_object_name(struct store_txn *t, const char *tenant, const char *kind,
    const char *id);

/*
 * What goes when an object is removed, inside its removal's transaction; each returns how
 * many it removed or revoked, or -1.  Certificates of a user (store_cert.c), OIDC grants
 * of a user (store_oidc.c), memberships of a user (store_group.c), policies of a user,
 * group or app (store_policy.c), app assignments of a user, group or app
 * (store_assign.c), everything of an OIDC client (codes, grants, access tokens:
 * store_oidc.c), an app's part of every SSO session and a failure counter
 * (store_session.c).
 */
int stx_revoke_user_certs(struct store_txn *t, const char *tenant, const char *user_id,
    int reason, int64_t now);
int stx_revoke_user_grants(struct store_txn *t, const char *tenant, const char *user_id);
/*
 * The OIDC grants of the user except those of the session keep (NULL: all), and those of
 * one session (store_oidc.c): how many revoked, or -1.
 */
int stx_revoke_user_grants_except(struct store_txn *t, const char *tenant, const char *user_id,
    const unsigned char *keep);
int stx_revoke_session_grants(struct store_txn *t, const char *tenant,
    const unsigned char session[32]);
int stx_user_memberships_drop(struct store_txn *t, const char *tenant, const char *user_id);
int stx_target_policies_drop(struct store_txn *t, const char *tenant, const char *kind,
    const char *target);
/*
 * The app assignments of a user, group or app (kind) with this id (store_assign.c); an
 * app's last assignment stays when its user or group goes, so the app stays closed.
 */
int stx_assignments_drop(struct store_txn *t, const char *tenant, const char *kind,
    const char *id);
int stx_client_grants_drop(struct store_txn *t, const char *tenant, const char *client_id);
int stx_session_sps_drop(struct store_txn *t, const char *tenant, const char *entity_id);
int stx_failure_drop(struct store_txn *t, const char *tenant, const char *scope,
    const char *key);
/*
 * A user's second factors with their credentials' index entries (store_factor.c) and
 * challenges (store_challenge.c).
 */
int stx_user_factors_drop(struct store_txn *t, const char *tenant, const char *user_id);
int stx_user_challenges_drop(struct store_txn *t, const char *tenant, const char *user_id);
/* Purge expired challenges and rate windows (store_challenge.c): how many, or -1. */
int stx_challenges_expire(struct store_txn *t, int64_t now);

/* Store an authorization code inside a write transaction (store_oidc.c). */
int stx_code_put(struct store_txn *t, const char *tenant, const char *code,
    const struct oidc_code *c);

struct audit_entry;
/*
 * Inside a write transaction: append ae (nothing when NULL) with extra "key=value ..."
 * text (what the change removed, say) as one record; *full_r keeps the whole entry for
 * audit_entry_done once the transaction has committed (audit.c).
 */
int stx_audit_entry(struct store_txn *t, const char *tenant, const struct audit_entry *ae,
    const char *extra, struct audit_entry *full_r);
/* Log an entry filled by stx_audit_entry (nothing when it was empty). */
void audit_entry_done(const struct audit_entry *full, const char *tenant);

/* Append an audit record inside a write transaction (audit.c). */
int stx_audit_append(struct store_txn *t, const char *tenant, int64_t now, const char *event,
    const char *fields);

/* Delete a session and its SPs; with user set, also its entry in the user's index. */
int stx_session_delete(struct store_txn *t, const char *tenant, const char *user,
    const unsigned char hash[32]);

/*
 * The licence inside a write transaction (store_licence.c): the use of tenant's licence;
 * 0 when more users may become active (seats), when one more operator account may be
 * made, when one more user may hold an active certificate (device seats); else -1 with
 * *err one of the store_err_* strings (or -1 on a storage error).  Unlicensed: no limit
 * but STORE_OPERATORS_MAX.
 */
int stx_usage(struct store_txn *t, const char *tenant, int64_t now, struct store_usage *u_r);
int stx_seat_check(struct store_txn *t, const char *tenant, uint64_t more, const char **err);
int stx_operator_check(struct store_txn *t, const char *tenant, const char **err);
int stx_device_seat_check(struct store_txn *t, const char *tenant, int64_t now,
    const char **err);
/* How many users hold an active certificate at now (store_cert.c): 0, or -1. */
int stx_cert_holders(struct store_txn *t, const char *tenant, int64_t now, uint64_t *n_r);

/* Record layouts, for the upgrade of older databases (store_upgrade.c). */
extern const struct rec_field store_tenant_fields[];
extern const struct rec_field store_user_fields[];
extern const struct rec_field store_group_fields[];
extern const struct rec_field store_app_fields[];
extern const struct rec_field store_policy_fields[];
extern const struct rec_field store_session_fields[];
extern const struct rec_field store_code_fields[];
extern const struct rec_field store_family_fields[];
extern const struct rec_field store_access_fields[];
extern const struct rec_field store_cert_fields[];

/*
 * Bring a database written by an earlier version up to this one, in one write
 * transaction with an audit record per tenant (store_upgrade.c): 0, or -1 with *errstr.
 */
int stx_upgrade(struct store_txn *t, int from, const char **errstr);

#define REC_VERSION 1

#endif
