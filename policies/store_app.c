/*
 * Store operations on apps (SAML service providers and OIDC clients).  An app is found by
 * name or by its protocol identifier (entity ID, client_id), both unique per tenant, and
 * has an immutable id that policies refer to.  Removing an app removes what refers to it.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "store_int.h"
#include "xmalloc.h"

#define F(tag, type, st, m) { tag, type, offsetof(struct st, m), 0 }
#define FB(tag, st, m, l) { tag, REC_BYTES, offsetof(struct st, m), offsetof(struct st, l) }

const struct rec_field store_app_fields[] = {
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
	F(18, REC_STR, app, id),
	F(19, REC_STR, app, display_name),
	F(20, REC_STR, app, description),
	FB(21, app, icon, icon_len),
	F(22, REC_STR, app, icon_type),
	F(23, REC_STR, app, initiate_login_uri),
	REC_END
};

void
store_app_clear(struct app *a)
{
	rec_clear(store_app_fields, a);
}

struct app_op {
	const char *tenant, *name, *entity_id;
	const struct app *in;
	struct app *out;
	const struct audit_entry *ae;
	struct audit_entry full;
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
	rc = stx_put_rec(t, DB_APPS, &k, store_app_fields, op->in, STX_NOOVERWRITE);
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
	if (stx_audit_entry(t, op->tenant, op->ae, NULL, &op->full) < 0)
		return -1;
	return stx_bump_generation(t, op->tenant);
}

int
store_app_add(struct store *st, const char *tenant, const struct app *a,
    const struct audit_entry *ae, const char **errstr)
{
	struct app copy = *a;
	struct app_op op = { .tenant = tenant, .in = &copy, .ae = ae,
		.err = "cannot store the app" };
	char *id = a->id ? NULL : store_new_id();
	int rc;

	if (id)
		copy.id = id;
	rc = store_run(st, 1, app_add_tx, &op);
	free(id);
	if (rc < 0)
		*errstr = rc == STORE_FULL ? "database full" : op.err;
	else
		audit_entry_done(&op.full, tenant);
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
	rc = stx_get_rec(t, DB_APPS, &k, store_app_fields, op->out);
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

int
stx_app_get(struct store_txn *t, const char *tenant, const char *name, struct app *a_r)
{
	struct store_key k;

	memset(a_r, 0, sizeof(*a_r));
	if (strlen(name) > STORE_NAME_MAX)
		return 0;
	skey_init(&k, tenant);
	skey_add(&k, name);
	return stx_get_rec(t, DB_APPS, &k, store_app_fields, a_r);
}

struct find_id {
	const char *id;
	char *name;
};

static int
find_id_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct find_id *f = arg;
	struct app a = { 0 };

	if (rec_decode(store_app_fields, &a, val, vlen) == -1)
		return -1;
	if (a.id && !strcmp(a.id, f->id))
		f->name = xstrdup(a.name);
	store_app_clear(&a);
	return f->name ? 1 : 0;
}

char *
stx_app_name(struct store_txn *t, const char *tenant, const char *id)
{
	struct find_id f = { id, NULL };
	struct store_key k;

	skey_init(&k, tenant);
	skey_prefix(&k);
	(void)stx_iter(t, DB_APPS, &k, find_id_cb, &f);
	return f.name;
}

/* What refers to the app goes with it; *extra says how much. */
static int
remove_refs(struct store_txn *t, const char *tenant, const struct app *a, char *extra,
    size_t len)
{
	int pols = 0, grants = 0, sessions = 0, assigned = 0;

	if ((a->id && (pols = stx_target_policies_drop(t, tenant, "app", a->id)) < 0) ||
	    (a->id && (assigned = stx_assignments_drop(t, tenant, "app", a->id)) < 0) ||
	    (a->entity_id && (grants = stx_client_grants_drop(t, tenant, a->entity_id)) < 0) ||
	    (a->entity_id && (sessions = stx_session_sps_drop(t, tenant, a->entity_id)) < 0))
		return -1;
	snprintf(extra, len, "app_id=%s policies=%d assignments=%d grants=%d sessions=%d",
	    a->id ? a->id : "-", pols, assigned, grants, sessions);
	return 0;
}

static int
app_remove_tx(struct store_txn *t, void *arg)
{
	struct app_op *op = arg;
	struct store_key k, ek;
	struct app a;
	char extra[200];
	int rc;

	if ((rc = stx_app_get(t, op->tenant, op->name, &a)) != 1)
		return rc;
	skey_init(&k, op->tenant);
	skey_add(&k, op->name);
	if (a.entity_id) {
		entity_key(&ek, op->tenant, a.entity_id);
		if (stx_del(t, DB_APPS_ENTITY, &ek) < 0)
			rc = -1;
	}
	if (rc < 0 || stx_del(t, DB_APPS, &k) < 0 ||
	    remove_refs(t, op->tenant, &a, extra, sizeof(extra)) < 0 ||
	    stx_audit_entry(t, op->tenant, op->ae, extra, &op->full) < 0 ||
	    stx_bump_generation(t, op->tenant) < 0)
		rc = -1;
	store_app_clear(&a);
	return rc;
}

int
store_app_remove(struct store *st, const char *tenant, const char *name,
    const struct audit_entry *ae)
{
	struct app_op op = { .tenant = tenant, .name = name, .ae = ae };
	int rc = store_run(st, 1, app_remove_tx, &op);

	if (rc == 1)
		audit_entry_done(&op.full, tenant);
	return rc;
}

static void
replace_str(char **field, const char *value)
{
	if (value == NULL)
		return;
	free(*field);
	*field = *value ? xstrdup(value) : NULL;
}

/* The icon as given (checked by the caller), or none when d->icon_len is 0. */
static void
replace_icon(struct app *a, const struct app_display *d)
{
	if (d->icon == NULL)
		return;
	free(a->icon);
	free(a->icon_type);
	a->icon = d->icon_len ? xmemdup(d->icon, d->icon_len) : NULL;
	a->icon_len = d->icon_len;
	a->icon_type = d->icon_len && d->icon_type ? xstrdup(d->icon_type) : NULL;
}

struct display_op {
	const char *tenant, *name;
	const struct app_display *d;
	const struct audit_entry *ae;
	struct audit_entry full;
};

static int
display_tx(struct store_txn *t, void *arg)
{
	struct display_op *op = arg;
	struct store_key k;
	struct app a;
	int rc;

	if ((rc = stx_app_get(t, op->tenant, op->name, &a)) != 1)
		return rc;
	replace_str(&a.display_name, op->d->display_name);
	replace_str(&a.description, op->d->description);
	replace_str(&a.initiate_login_uri, op->d->initiate_login_uri);
	replace_icon(&a, op->d);
	skey_init(&k, op->tenant);
	skey_add(&k, op->name);
	rc = stx_put_rec(t, DB_APPS, &k, store_app_fields, &a, 0) != 0 ||
	    stx_audit_entry(t, op->tenant, op->ae, NULL, &op->full) < 0 ||
	    stx_bump_generation(t, op->tenant) < 0 ? -1 : 1;
	store_app_clear(&a);
	return rc;
}

int
store_app_set_display(struct store *st, const char *tenant, const char *name,
    const struct app_display *d, const struct audit_entry *ae, const char **errstr)
{
	struct display_op op = { .tenant = tenant, .name = name, .d = d, .ae = ae };
	int rc = store_run(st, 1, display_tx, &op);

	if (rc < 0)
		*errstr = rc == STORE_FULL ? "database full" : "cannot store the app";
	else if (rc == 1)
		audit_entry_done(&op.full, tenant);
	return rc < 0 ? -1 : rc;
}

int
store_app_list(struct store *st, const char *tenant, store_each_fn cb, void *arg)
{
	struct store_key k;

	skey_init(&k, tenant);
	skey_prefix(&k);
	return store_each(st, DB_APPS, &k, store_app_fields, sizeof(struct app), cb, arg);
}
