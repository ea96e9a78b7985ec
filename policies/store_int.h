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
/* Like stx_iter but the callback may ask for deletion of the current entry by returning 2. */
int stx_iter_del(struct store_txn *t, enum store_db db, const struct store_key *prefix,
    stx_iter_fn fn, void *arg);

/* Encode obj with fields and put it; decode a found value.  Same returns as put/get. */
int stx_put_rec(struct store_txn *t, enum store_db db, const struct store_key *k,
    const struct rec_field *fields, const void *obj, int flags);
int stx_get_rec(struct store_txn *t, enum store_db db, const struct store_key *k,
    const struct rec_field *fields, void *obj);

/* Bump the tenant's configuration generation (apps, keys, tenant settings changed). */
int stx_bump_generation(struct store_txn *t, const char *tenant);

/* End every SSO session of a user inside a write transaction (store_user.c). */
int stx_end_user_sessions(struct store_txn *t, const char *tenant, const char *user);

/* Look a user up by name inside a transaction (store_user.c): 1/0/-1. */
int stx_user_get(struct store_txn *t, const char *tenant, const char *name, struct user *u_r);

/* Revoke every certificate of a user (store_cert.c): how many, or -1. */
int stx_revoke_user_certs(struct store_txn *t, const char *tenant, const char *user, int reason,
    int64_t now);

/* Revoke every OIDC grant of a user inside a write transaction (store_oidc.c). */
int stx_revoke_user_grants(struct store_txn *t, const char *tenant, const char *user);

/* Store an authorization code inside a write transaction (store_oidc.c). */
int stx_code_put(struct store_txn *t, const char *tenant, const char *code,
    const struct oidc_code *c);

/* Append an audit record inside a write transaction (audit.c). */
int stx_audit_append(struct store_txn *t, const char *tenant, int64_t now, const char *event,
    const char *fields);

/* Delete a session and its SPs; with user set, also its entry in the user's index. */
int stx_session_delete(struct store_txn *t, const char *tenant, const char *user,
    const unsigned char hash[32]);

#define REC_VERSION 1

#endif
