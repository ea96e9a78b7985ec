/*
 * Store operations on tenants (with their time zone and default effect for access rules,
 * their password policy and their branding) and their signing keys (SAML, OIDC and device
 * CA keys, sealed with the master key by the caller).
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "log.h"
#include "pwquality.h"
#include "rules.h"
#include "store_int.h"
#include "xmalloc.h"

#define F(tag, type, st, m) { tag, type, offsetof(struct st, m), 0 }
#define FB(tag, st, m, l) { tag, REC_BYTES, offsetof(struct st, m), offsetof(struct st, l) }

const struct rec_field store_tenant_fields[] = {
	F(1, REC_STR, tenant, id),
	F(2, REC_STR, tenant, name),
	F(3, REC_U64, tenant, created),
	FB(4, tenant, secret, secret_len),
	F(5, REC_STR, tenant, timezone),
	F(6, REC_STR, tenant, default_effect),
	F(7, REC_U64, tenant, pw_min_len),
	F(8, REC_STR, tenant, display_name),
	FB(9, tenant, logo, logo_len),
	F(10, REC_STR, tenant, logo_type),
	F(11, REC_STR, tenant, color),
	F(12, REC_STR, tenant, help_url),
	F(13, REC_U64, tenant, licensed),
	F(14, REC_U64, tenant, seats),
	F(15, REC_U64, tenant, device_seats),
	F(16, REC_U64, tenant, trial_until),
	F(17, REC_U64, tenant, suspended),
	REC_END
};

static const struct rec_field keyrec_fields[] = {
	F(1, REC_STR, keyrec, kid),
	F(2, REC_STR, keyrec, use),
	F(3, REC_STR, keyrec, alg),
	F(4, REC_U64, keyrec, created),
	F(5, REC_U64, keyrec, state),
	FB(6, keyrec, sealed_key, sealed_key_len),
	F(7, REC_STR, keyrec, cert_pem),
	F(8, REC_U64, keyrec, until),
	REC_END
};

void
store_tenant_clear(struct tenant *t)
{
	rec_clear(store_tenant_fields, t);
}

void
store_keyrec_clear(struct keyrec *k)
{
	rec_clear(keyrec_fields, k);
}

/* ---- tenants ---- */

struct tenant_op {
	const char *id;
	uint64_t pw_min;	/* store_tenant_set_pw_min: the new minimum */
	unsigned clear;		/* STORE_BRAND_* members to clear */
	int settings;		/* the rules' settings or the password policy change */
	const struct tenant *in;
	struct tenant *out;
	uint64_t gen;
	const char *err;
	const struct audit_entry *ae;
	struct audit_entry full;
};

static int
tenant_add_tx(struct store_txn *t, void *arg)
{
	struct tenant_op *op = arg;
	struct store_key k;
	int rc;

	skey_init(&k, "");
	skey_add(&k, op->in->id);
	rc = stx_put_rec(t, DB_TENANTS, &k, store_tenant_fields, op->in, STX_NOOVERWRITE);
	if (rc == 1)
		op->err = "tenant already exists";
	if (rc != 0)
		return -1;
	return stx_bump_generation(t, op->in->id);
}

int
store_tenant_add(struct store *st, const struct tenant *t, const char **errstr)
{
	struct tenant_op op = { .in = t, .err = "cannot store the tenant" };
	int rc = store_run(st, 1, tenant_add_tx, &op);

	if (rc < 0)
		*errstr = rc == STORE_FULL ? "database full" : op.err;
	return rc < 0 ? -1 : 0;
}

static int
tenant_get_tx(struct store_txn *t, void *arg)
{
	struct tenant_op *op = arg;
	struct store_key k;

	skey_init(&k, "");
	skey_add(&k, op->id);
	store_tenant_clear(op->out);
	return stx_get_rec(t, DB_TENANTS, &k, store_tenant_fields, op->out);
}

int
store_tenant_get(struct store *st, const char *id, struct tenant *t_r)
{
	struct tenant_op op = { .id = id, .out = t_r };

	memset(t_r, 0, sizeof(*t_r));
	return store_run(st, 0, tenant_get_tx, &op);
}

int
store_tenant_list(struct store *st, store_each_fn cb, void *arg)
{
	struct store_key k;

	skey_init(&k, "");
	skey_prefix(&k);
	return store_each(st, DB_TENANTS, &k, store_tenant_fields, sizeof(struct tenant), cb, arg);
}

struct id_list {
	char **ids;
	size_t n;
};

static void
tenant_id_cb(const void *rec, void *arg)
{
	const struct tenant *t = rec;
	struct id_list *l = arg;

	l->ids = xreallocarray(l->ids, l->n + 2, sizeof(char *));
	l->ids[l->n++] = xstrdup(t->id);
	l->ids[l->n] = NULL;
}

int
store_tenant_ids(struct store *st, char ***ids_r)
{
	struct id_list l = { .ids = xcalloc(1, sizeof(char *)) };

	*ids_r = NULL;
	if (store_tenant_list(st, tenant_id_cb, &l) < 0) {
		store_strv_free(l.ids);
		return -1;
	}
	*ids_r = l.ids;
	return 0;
}

/* "timezone=Z default=E" as the tenant has them now (unset: what applies). */
static void
tenant_text(const struct tenant *t, char *out, size_t len)
{
	snprintf(out, len, "timezone=%s default=%s",
	    t->timezone ? t->timezone : RULE_DEFAULT_TIMEZONE,
	    t->default_effect ? t->default_effect : "allow");
}

static void
replace(char **field, const char *value)
{
	if (value == NULL)
		return;
	free(*field);
	*field = xstrdup(value);
}

/* The password policy as it applies ("pw_min_len=N"). */
static void
pw_text(const struct tenant *t, char *out, size_t len)
{
	snprintf(out, len, "pw_min_len=%llu",
	    (unsigned long long)(t->pw_min_len ? t->pw_min_len : PWQUALITY_DEFAULT_MIN));
}

/*
 * The settings a change touches as they apply: the time zone and default effect, the
 * password policy, or both ("timezone=Z default=E pw_min_len=N").
 */
static void
set_text(const struct tenant_op *op, const struct tenant *t, char *out, size_t len)
{
	int rules = op->pw_min == 0 || op->in->timezone || op->in->default_effect;
	size_t n;

	out[0] = '\0';
	if (rules)
		tenant_text(t, out, len);
	n = strlen(out);
	if (op->pw_min && n + 1 < len) {
		if (n)
			out[n++] = ' ';
		pw_text(t, out + n, len - n);
	}
}

static void apply_brand(struct tenant *t, const struct tenant *in, unsigned clear);

static void
apply_set(struct tenant_op *op)
{
	if (op->pw_min)
		op->out->pw_min_len = op->pw_min;
	replace(&op->out->timezone, op->in->timezone);
	replace(&op->out->default_effect, op->in->default_effect);
	apply_brand(op->out, op->in, op->clear);
}

static int
tenant_set_tx(struct store_txn *t, void *arg)
{
	struct tenant_op *op = arg;
	struct audit_entry ae;
	char before[200], after[200];
	struct store_key k;
	int rc;

	skey_init(&k, "");
	skey_add(&k, op->id);
	store_tenant_clear(op->out);	/* the callback may run again (the map grew) */
	if ((rc = stx_get_rec(t, DB_TENANTS, &k, store_tenant_fields, op->out)) != 1)
		return rc;
	set_text(op, op->out, before, sizeof(before));
	apply_set(op);
	set_text(op, op->out, after, sizeof(after));
	if (stx_put_rec(t, DB_TENANTS, &k, store_tenant_fields, op->out, 0) != 0)
		return -1;
	if (op->ae) {
		ae = *op->ae;
		if (op->settings) {
			audit_entry_add(&ae, "before", before);
			audit_entry_add(&ae, "after", after);
		}
	}
	if (stx_audit_entry(t, op->id, op->ae ? &ae : NULL, NULL, &op->full) < 0)
		return -1;
	return stx_bump_generation(t, op->id) == 0 ? 1 : -1;
}

static int
tenant_set_run(struct store *st, struct tenant_op *op, int (*tx)(struct store_txn *, void *),
    const char **errstr)
{
	struct tenant cur = { 0 };
	int rc;

	op->out = &cur;
	rc = store_run(st, 1, tx, op);
	store_tenant_clear(&cur);
	if (rc < 0)
		*errstr = rc == STORE_FULL ? "database full" : "cannot store the tenant";
	else if (rc == 1)
		audit_entry_done(&op->full, op->id);
	return rc < 0 ? -1 : rc;
}

int
store_tenant_change(struct store *st, const char *id, const struct tenant *in,
    uint64_t pw_min_len, unsigned clear, const struct audit_entry *ae, const char **errstr)
{
	struct tenant_op op = { .id = id, .in = in, .pw_min = pw_min_len, .clear = clear,
		.ae = ae, .settings = in->timezone || in->default_effect || pw_min_len };

	if (pw_min_len > 128) {
		*errstr = "the minimum password length is 1 to 128";
		return -1;
	}
	if (in->logo && (in->logo_len == 0 || in->logo_type == NULL)) {
		*errstr = "a logo needs its bytes and its type";
		return -1;
	}
	return tenant_set_run(st, &op, tenant_set_tx, errstr);
}

int
store_tenant_update(struct store *st, const char *id, const char *timezone,
    const char *default_effect, uint64_t pw_min_len, const struct audit_entry *ae,
    const char **errstr)
{
	struct tenant in = { .timezone = (char *)timezone,
		.default_effect = (char *)default_effect };

	return store_tenant_change(st, id, &in, pw_min_len, 0, ae, errstr);
}

int
store_tenant_set(struct store *st, const char *id, const char *timezone,
    const char *default_effect, const struct audit_entry *ae, const char **errstr)
{
	return store_tenant_update(st, id, timezone, default_effect, 0, ae, errstr);
}

int
store_tenant_set_pw_min(struct store *st, const char *id, uint64_t min_len,
    const struct audit_entry *ae, const char **errstr)
{
	if (min_len < 1) {
		*errstr = "the minimum password length is 1 to 128";
		return -1;
	}
	return store_tenant_update(st, id, NULL, NULL, min_len, ae, errstr);
}

/* ---- branding ---- */

static void
brand_str(char **field, const char *value, unsigned clear)
{
	if (!clear) {
		replace(field, value);
		return;
	}
	free(*field);
	*field = NULL;
}

static void
apply_brand(struct tenant *t, const struct tenant *in, unsigned clear)
{
	brand_str(&t->display_name, in->display_name, clear & STORE_BRAND_NAME);
	brand_str(&t->color, in->color, clear & STORE_BRAND_COLOR);
	brand_str(&t->help_url, in->help_url, clear & STORE_BRAND_HELP);
	if (in->logo == NULL && !(clear & STORE_BRAND_LOGO))
		return;
	free(t->logo);
	free(t->logo_type);
	t->logo = NULL, t->logo_type = NULL, t->logo_len = 0;
	if (clear & STORE_BRAND_LOGO)
		return;
	t->logo = xmemdup(in->logo, in->logo_len);
	t->logo_len = in->logo_len;
	t->logo_type = xstrdup(in->logo_type);
}

static int
generation_tx(struct store_txn *t, void *arg)
{
	struct tenant_op *op = arg;
	struct store_key k;
	const void *v;
	size_t len;
	int rc;

	skey_init(&k, op->id);
	skey_add(&k, "generation");
	op->gen = 0;
	rc = stx_get(t, DB_META, &k, &v, &len);
	if (rc == 1 && rec_u64(v, len, &op->gen) == -1)
		return -1;
	return rc;
}

int
store_tenant_generation(struct store *st, const char *id, uint64_t *gen_r)
{
	struct tenant_op op = { .id = id };
	int rc = store_run(st, 0, generation_tx, &op);

	*gen_r = op.gen;
	return rc < 0 ? -1 : 0;
}

/* ---- suspension ---- */

const char *
store_tenant_closed(uint64_t suspended, uint64_t trial_until, int64_t now)
{
	if (suspended)
		return "suspended";
	if (trial_until && now >= (int64_t)trial_until)
		return "trial_ended";
	return NULL;
}

struct suspend_op {
	const char *id;
	uint64_t when;
	const struct audit_entry *ae;
	struct audit_entry full;
	int ended;
};

static int
suspend_tx(struct store_txn *t, void *arg)
{
	struct suspend_op *op = arg;
	struct tenant cur = { 0 };
	struct store_key k;
	char extra[40];
	int rc;

	skey_init(&k, "");
	skey_add(&k, op->id);
	if ((rc = stx_get_rec(t, DB_TENANTS, &k, store_tenant_fields, &cur)) != 1)
		return rc;
	cur.suspended = op->when;
	rc = stx_put_rec(t, DB_TENANTS, &k, store_tenant_fields, &cur, 0);
	store_tenant_clear(&cur);
	if (rc != 0)
		return -1;
	op->ended = op->when ? stx_end_tenant_sessions(t, op->id) : 0;
	snprintf(extra, sizeof(extra), "sessions_ended=%d", op->ended);
	if (op->ended < 0 || stx_audit_entry(t, op->id, op->ae, extra, &op->full) < 0)
		return -1;
	/* the daemon reloads the tenant's context, which carries the suspension */
	return stx_bump_generation(t, op->id) == 0 ? 1 : -1;
}

int
store_tenant_suspend(struct store *st, const char *id, uint64_t when,
    const struct audit_entry *ae, int *ended_r, const char **errstr)
{
	struct suspend_op op = { .id = id, .when = when, .ae = ae };
	int rc = store_run(st, 1, suspend_tx, &op);

	if (rc < 0)
		*errstr = rc == STORE_FULL ? "database full" : "cannot store the tenant";
	else if (rc == 1)
		audit_entry_done(&op.full, id);
	if (ended_r)
		*ended_r = rc == 1 ? op.ended : 0;
	return rc < 0 ? -1 : rc;
}

/* ---- signing keys ---- */

struct key_op {
	const char *tenant;
	const char *use;
	const struct keyrec *in;
};

static int
key_add_tx(struct store_txn *t, void *arg)
{
	struct key_op *op = arg;
	struct store_key k;

	skey_init(&k, op->tenant);
	skey_add(&k, op->in->use);
	skey_add(&k, op->in->kid);
	if (stx_put_rec(t, DB_KEYS, &k, keyrec_fields, op->in, STX_NOOVERWRITE) != 0)
		return -1;
	return stx_bump_generation(t, op->tenant);
}

int
store_key_add(struct store *st, const char *tenant, const struct keyrec *k, const char **errstr)
{
	struct key_op op = { .tenant = tenant, .in = k };

	if (store_run(st, 1, key_add_tx, &op) < 0) {
		*errstr = "cannot store the key";
		return -1;
	}
	return 0;
}

int
store_key_list(struct store *st, const char *tenant, const char *use, store_each_fn cb,
    void *arg)
{
	struct store_key k;

	skey_init(&k, tenant);
	skey_add(&k, use);
	skey_prefix(&k);
	return store_each(st, DB_KEYS, &k, keyrec_fields, sizeof(struct keyrec), cb, arg);
}

struct rotate_op {
	const char *tenant, *use;
	const struct keyrec *fresh;
	size_t nfresh;
	int64_t now, until;
	struct store_txn *t;
	int n;
	int promote;		/* a NEXT key exists: rotate, not only publish */
};

static int
count_next_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct rotate_op *op = arg;
	struct keyrec k = { 0 };

	if (rec_decode(keyrec_fields, &k, val, vlen) == -1)
		return -1;
	if (k.state == STORE_KEY_NEXT)
		op->promote = 1;
	store_keyrec_clear(&k);
	return 0;
}

static int
rotate_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct rotate_op *op = arg;
	struct keyrec k = { 0 };
	struct store_key sk;
	int rc = 0;

	if (rec_decode(keyrec_fields, &k, val, vlen) == -1)
		return -1;
	if (k.state == STORE_KEY_RETIRED && (int64_t)k.until < op->now) {
		rc = 2;		/* its tokens have all expired */
	} else if (op->promote && (k.state == STORE_KEY_ACTIVE || k.state == STORE_KEY_NEXT)) {
		if (k.state == STORE_KEY_ACTIVE) {
			k.state = STORE_KEY_RETIRED;
			k.until = (uint64_t)op->until;
		} else {
			k.state = STORE_KEY_ACTIVE;
		}
		skey_init(&sk, op->tenant);
		skey_add(&sk, k.use);
		skey_add(&sk, k.kid);
		rc = stx_put_rec(op->t, DB_KEYS, &sk, keyrec_fields, &k, 0) == 0 ? 0 : -1;
	}
	if (rc >= 0)
		op->n++;
	store_keyrec_clear(&k);
	return rc;
}

static int
rotate_tx(struct store_txn *t, void *arg)
{
	struct rotate_op *op = arg;
	struct store_key k;

	op->t = t;
	op->n = 0;
	skey_init(&k, op->tenant);
	skey_add(&k, op->use);
	skey_prefix(&k);
	op->promote = 0;
	if (stx_iter(t, DB_KEYS, &k, count_next_cb, op) < 0 ||
	    stx_iter_del(t, DB_KEYS, &k, rotate_cb, op) < 0)
		return -1;
	for (size_t i = 0; i < op->nfresh; i++) {
		skey_init(&k, op->tenant);
		skey_add(&k, op->fresh[i].use);
		skey_add(&k, op->fresh[i].kid);
		if (stx_put_rec(t, DB_KEYS, &k, keyrec_fields, &op->fresh[i], STX_NOOVERWRITE) != 0)
			return -1;
	}
	return stx_bump_generation(t, op->tenant) == 0 ? op->n : -1;
}

int
store_key_rotate(struct store *st, const char *tenant, const char *use,
    const struct keyrec *fresh, size_t nfresh, int64_t now, int64_t retire_until)
{
	struct rotate_op op = { .tenant = tenant, .use = use, .fresh = fresh, .nfresh = nfresh,
		.now = now, .until = retire_until };

	return store_run(st, 1, rotate_tx, &op);
}
