/*
 * Store operations on apps (SAML service providers now, OIDC clients later).  An app is
 * found by name or by its protocol identifier; both are unique per tenant.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "xmalloc.h"

#define F(tag, type, st, m) { tag, type, offsetof(struct st, m), 0 }

static const struct rec_field app_fields[] = {
	F(1, REC_STR, app, name),
	F(2, REC_STR, app, type),
	F(3, REC_STR, app, entity_id),
	F(4, REC_STR, app, metadata),
	F(5, REC_STR, app, nameid_format),
	F(6, REC_U64, app, created),
	F(7, REC_U64, app, sign_response),
	F(8, REC_STR, app, secret_hash),
	F(9, REC_STR, app, auth_method),
	F(10, REC_STR, app, redirect_uris),
	F(11, REC_STR, app, logout_uris),
	F(12, REC_STR, app, jwks),
	F(13, REC_STR, app, assertion_alg),
	F(14, REC_STR, app, id_token_alg),
	F(15, REC_STR, app, access_token_format),
	F(16, REC_STR, app, backchannel_uri),
	F(17, REC_STR, app, grant_types),
	REC_END
};

void
store_app_clear(struct app *a)
{
	rec_clear(app_fields, a);
}

struct app_op {
	const char *tenant, *name, *entity_id;
	const struct app *in;
	struct app *out;
	void (*cb)(const struct app *, void *);
	void *arg;
	const char *err;
};

static void
entity_key(struct store_key *k, const char *tenant, const char *entity_id)
{
	skey_init(k, tenant);
	skey_add_hash(k, entity_id, strlen(entity_id));
}

static int
app_add_tx(struct store_txn *t, void *arg)
{
	struct app_op *op = arg;
	struct store_key k, ek;
	int rc;

	skey_init(&k, op->tenant);
	skey_add(&k, op->in->name);
	rc = stx_put_rec(t, DB_APPS, &k, app_fields, op->in, STX_NOOVERWRITE);
	if (rc == 1)
		op->err = "an app with this name already exists";
	if (rc != 0)
		return -1;
	if (op->in->entity_id) {
		entity_key(&ek, op->tenant, op->in->entity_id);
		rc = stx_put(t, DB_APPS_ENTITY, &ek, op->in->name, strlen(op->in->name),
		    STX_NOOVERWRITE);
		if (rc == 1)
			op->err = "another app has this entity ID";
		if (rc != 0)
			return -1;
	}
	return stx_bump_generation(t, op->tenant);
}

int
store_app_add(struct store *st, const char *tenant, const struct app *a, const char **errstr)
{
	struct app_op op = { .tenant = tenant, .in = a, .err = "cannot store the app" };
	int rc = store_run(st, 1, app_add_tx, &op);

	if (rc < 0)
		*errstr = rc == STORE_FULL ? "database full" : op.err;
	return rc < 0 ? -1 : 0;
}

static int
app_get_tx(struct store_txn *t, void *arg)
{
	struct app_op *op = arg;
	struct store_key k;
	const void *v;
	size_t len;
	int rc;

	store_app_clear(op->out);
	skey_init(&k, op->tenant);
	if (op->entity_id) {
		struct store_key ek;
		entity_key(&ek, op->tenant, op->entity_id);
		if ((rc = stx_get(t, DB_APPS_ENTITY, &ek, &v, &len)) != 1)
			return rc;
		skey_add_bytes(&k, "", 1);
		skey_add_bytes(&k, v, len);
	} else {
		skey_add(&k, op->name);
	}
	rc = stx_get_rec(t, DB_APPS, &k, app_fields, op->out);
	/* The index is keyed by a hash: confirm the exact identifier. */
	if (rc == 1 && op->entity_id &&
	    (op->out->entity_id == NULL || strcmp(op->out->entity_id, op->entity_id) != 0)) {
		store_app_clear(op->out);
		return 0;
	}
	return rc;
}

int
store_app_get(struct store *st, const char *tenant, const char *name, struct app *a_r)
{
	struct app_op op = { .tenant = tenant, .name = name, .out = a_r };

	memset(a_r, 0, sizeof(*a_r));
	if (strlen(name) > STORE_NAME_MAX)
		return 0;
	return store_run(st, 0, app_get_tx, &op);
}

int
store_app_get_by_entity(struct store *st, const char *tenant, const char *entity_id,
    struct app *a_r)
{
	struct app_op op = { .tenant = tenant, .entity_id = entity_id, .out = a_r };

	memset(a_r, 0, sizeof(*a_r));
	return store_run(st, 0, app_get_tx, &op);
}

static int
app_remove_tx(struct store_txn *t, void *arg)
{
	struct app_op *op = arg;
	struct store_key k, ek;
	struct app a = { 0 };
	int rc;

	skey_init(&k, op->tenant);
	skey_add(&k, op->name);
	if ((rc = stx_get_rec(t, DB_APPS, &k, app_fields, &a)) != 1)
		return rc;
	if (a.entity_id) {
		entity_key(&ek, op->tenant, a.entity_id);
		if (stx_del(t, DB_APPS_ENTITY, &ek) < 0)
			rc = -1;
	}
	store_app_clear(&a);
	if (rc < 0 || stx_del(t, DB_APPS, &k) < 0 || stx_bump_generation(t, op->tenant) < 0)
		return -1;
	return 1;
}

int
store_app_remove(struct store *st, const char *tenant, const char *name)
{
	struct app_op op = { .tenant = tenant, .name = name };

	return store_run(st, 1, app_remove_tx, &op);
}

static int
app_list_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct app_op *op = arg;
	struct app a = { 0 };

	if (rec_decode(app_fields, &a, val, vlen) == -1)
		return -1;
	op->cb(&a, op->arg);
	store_app_clear(&a);
	return 0;
}

static int
app_list_tx(struct store_txn *t, void *arg)
{
	struct app_op *op = arg;
	struct store_key k;

	skey_init(&k, op->tenant);
	skey_prefix(&k);
	return stx_iter(t, DB_APPS, &k, app_list_cb, op);
}

int
store_app_list(struct store *st, const char *tenant,
    void (*cb)(const struct app *a, void *arg), void *arg)
{
	struct app_op op = { .tenant = tenant, .cb = cb, .arg = arg };

	return store_run(st, 0, app_list_tx, &op);
}
