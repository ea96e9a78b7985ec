/*
 * Access rules in the store: an ordered list per tenant in its own database ("rules"),
 * keyed "tenant NAME" with the position in the record, so a rule is found by name and
 * the list is sorted by position when read.  Adding, moving and removing renumber the
 * positions 1..n in the same transaction.  Users, groups and apps are stored by id.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "buf.h"
#include "clock.h"
#include "rules.h"
#include "store_int.h"
#include "xmalloc.h"

#define F(tag, type, st, m) { tag, type, offsetof(struct st, m), 0 }

static const struct rec_field rule_fields[] = {
	F(1, REC_STR, rule_rec, name),
	F(2, REC_STR, rule_rec, effect),
	F(3, REC_STR, rule_rec, users),
	F(4, REC_STR, rule_rec, groups),
	F(5, REC_STR, rule_rec, apps),
	F(6, REC_STR, rule_rec, from),
	F(7, REC_STR, rule_rec, not_from),
	F(8, REC_STR, rule_rec, days),
	F(9, REC_STR, rule_rec, hours),
	F(10, REC_U64, rule_rec, report_only),
	F(11, REC_U64, rule_rec, pos),
	F(12, REC_U64, rule_rec, created),
	F(13, REC_U64, rule_rec, mfa_enroll),
	REC_END
};

void
store_rule_clear(struct rule_rec *r)
{
	rec_clear(rule_fields, r);
	free(r->user_names);
	free(r->group_names);
	free(r->app_names);
	r->user_names = r->group_names = r->app_names = NULL;
}

/* ---- the tenant's rules, read whole and kept in order ---- */

struct rules {
	struct rule_rec *v;
	size_t n;
};

static int
load_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct rules *l = arg;
	struct rule_rec r = { 0 };

	if (rec_decode(rule_fields, &r, val, vlen) == -1 || r.name == NULL) {
		store_rule_clear(&r);
		return -1;
	}
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = r;
	return 0;
}

static int
by_pos(const void *a, const void *b)
{
	const struct rule_rec *x = a, *y = b;

	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void
rules_free(struct rules *l)
{
	for (size_t i = 0; i < l->n; i++)
		store_rule_clear(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
rules_load(struct store_txn *t, const char *tenant, struct rules *l)
{
	struct store_key k;

	memset(l, 0, sizeof(*l));
	skey_init(&k, tenant);
	skey_prefix(&k);
	if (stx_iter(t, DB_RULES, &k, load_cb, l) < 0) {
		rules_free(l);
		return -1;
	}
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), by_pos);
	return 0;
}

/* The index of the rule called name, or -1. */
static long
rules_find(const struct rules *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return (long)i;
	return -1;
}

static int
rule_put(struct store_txn *t, const char *tenant, const struct rule_rec *r)
{
	struct store_key k;

	skey_of(&k, tenant, r->name);
	return stx_put_rec(t, DB_RULES, &k, rule_fields, r, 0) == 0 ? 0 : -1;
}

/* Positions 1..n in the array's order; only the rules whose position moved are written. */
static int
renumber(struct store_txn *t, const char *tenant, struct rules *l)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].pos == i + 1)
			continue;
		l->v[i].pos = i + 1;
		if (rule_put(t, tenant, &l->v[i]) < 0)
			return -1;
	}
	return 0;
}

/* Move the rule at from to index to (elements between shift by one). */
static void
rules_move(struct rules *l, size_t from, size_t to)
{
	struct rule_rec r = l->v[from];

	if (from < to)
		memmove(&l->v[from], &l->v[from + 1], (to - from) * sizeof(*l->v));
	else
		memmove(&l->v[to + 1], &l->v[to], (from - to) * sizeof(*l->v));
	l->v[to] = r;
}

/* ---- names and ids ---- */

/* The ids of a tenant's apps with their names, read once per listing. */
struct app_names {
	char **id, **name;
	size_t n;
	int loaded;
};

static int
app_cb(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct app_names *m = arg;
	struct app a = { 0 };

	if (rec_decode(store_app_fields, &a, val, vlen) == 0 && a.id && a.name) {
		m->id = xreallocarray(m->id, m->n + 1, sizeof(char *));
		m->name = xreallocarray(m->name, m->n + 1, sizeof(char *));
		m->id[m->n] = xstrdup(a.id);
		m->name[m->n++] = xstrdup(a.name);
	}
	store_app_clear(&a);
	return 0;
}

static const char *
app_name(struct store_txn *t, const char *tenant, struct app_names *m, const char *id)
{
	struct store_key k;

	if (!m->loaded) {
		m->loaded = 1;
		skey_init(&k, tenant);
		skey_prefix(&k);
		(void)stx_iter(t, DB_APPS, &k, app_cb, m);
	}
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->id[i], id))
			return m->name[i];
	return NULL;
}

static void
app_names_free(struct app_names *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->id[i]);
		free(m->name[i]);
	}
	free(m->id);
	free(m->name);
	memset(m, 0, sizeof(*m));
}

/* The current name of kind's object with this id (new string), "?removed" when gone. */
static char *
lookup_id(struct store_txn *t, const char *tenant, const char *kind, const char *id,
    struct app_names *apps)
{
	const char *an;
	char *name;

	if (strcmp(kind, "app"))
		name = stx_object_name(t, tenant, kind, id);
	else
		name = (an = app_name(t, tenant, apps, id)) ? xstrdup(an) : NULL;
	return name ? name : xstrdup("?removed");
}

/*
 * The newline-separated names in list resolved: ids into *ids_r and the names as stored
 * into *names_r (NULL both for an empty list).  1, 0 with err naming the unknown one, -1.
 */
static int
resolve_list(struct store_txn *t, const char *tenant, const char *kind, const char *list,
    char **ids_r, char **names_r, char err[STORE_ERR_MAX])
{
	struct buf ids, names;
	char *item, *id, *name;
	int rc = 1;

	buf_init(&ids, 0);
	buf_init(&names, 0);
	for (const char *p = list ? list : ""; rc == 1 && *p; p += strspn(p, "\n")) {
		size_t n = strcspn(p, "\n");
		item = xstrndup(p, n);
		p += n;
		if ((rc = stx_object_id(t, tenant, kind, item, &id, &name)) == 0)
			snprintf(err, STORE_ERR_MAX, "no such %s %s", kind, item);
		if (rc == 1) {
			buf_printf(&ids, "%s%s", ids.len ? "\n" : "", id);
			buf_printf(&names, "%s%s", names.len ? "\n" : "", name);
		}
		free(item);
		free(id);
		free(name);
	}
	*ids_r = rc == 1 && ids.len ? buf_steal(&ids, NULL) : NULL;
	*names_r = rc == 1 && names.len ? buf_steal(&names, NULL) : NULL;
	buf_free(&ids);
	buf_free(&names);
	return rc;
}

/* The names of r's ids (newline-separated, "?removed" for those gone) into its *_names. */
static void
fill_names(struct store_txn *t, const char *tenant, struct rule_rec *r,
    struct app_names *apps)
{
	char *const ids[] = { r->users, r->groups, r->apps };
	char **const out[] = { &r->user_names, &r->group_names, &r->app_names };
	static const char *const kinds[] = { "user", "group", "app" };

	for (size_t i = 0; i < 3; i++) {
		struct buf b;
		buf_init(&b, 0);
		for (const char *p = ids[i] ? ids[i] : ""; *p; p += strspn(p, "\n")) {
			size_t n = strcspn(p, "\n");
			char *id = xstrndup(p, n), *name = lookup_id(t, tenant, kinds[i], id, apps);
			buf_printf(&b, "%s%s", b.len ? "\n" : "", name);
			free(id);
			free(name);
			p += n;
		}
		free(*out[i]);
		*out[i] = b.len ? buf_steal(&b, NULL) : NULL;
		buf_free(&b);
	}
}

/* ---- changes ---- */

struct rule_op {
	const char *tenant, *name, *before;
	const struct rule_rec *in;
	const struct audit_entry *ae;
	struct audit_entry full;
	char *err;
	store_each_fn cb;
	void *arg;
};

/* The audit entry with the rule's text before and after the change (NULL: none). */
static int
audit_change(struct store_txn *t, struct rule_op *op, const struct rule_rec *before,
    const struct rule_rec *after)
{
	struct audit_entry ae;
	struct buf b;

	if (op->ae == NULL)
		return stx_bump_generation(t, op->tenant);
	ae = *op->ae;
	buf_init(&b, 0);
	if (before) {
		rule_format(before, &b);
		audit_entry_add(&ae, "before", b.data);
		buf_reset(&b);
	}
	if (after) {
		rule_format(after, &b);
		audit_entry_add(&ae, "after", b.data);
	}
	buf_free(&b);
	if (stx_audit_entry(t, op->tenant, &ae, NULL, &op->full) < 0)
		return -1;
	return stx_bump_generation(t, op->tenant);
}

/* Where a rule goes: before the rule called before (NULL: at the end); -1 with err. */
static long
insert_at(const struct rules *l, const char *before, char err[STORE_ERR_MAX])
{
	long i;

	if (before == NULL)
		return (long)l->n;
	if ((i = rules_find(l, before)) < 0)
		snprintf(err, STORE_ERR_MAX, "no rule called %s to put it before", before);
	return i;
}

/* One condition's names resolved: its ids and names replaced.  1, 0 (err), -1. */
static int
resolve_one(struct store_txn *t, const char *tenant, const char *kind, char **ids_io,
    char **names_io, char err[STORE_ERR_MAX])
{
	char *ids, *names;
	int rc = resolve_list(t, tenant, kind, *names_io, &ids, &names, err);

	if (rc != 1)
		return rc;
	free(*ids_io);
	free(*names_io);
	*ids_io = ids;
	*names_io = names;
	return 1;
}

/* r with its names resolved to ids; 1, 0 (err says which name is unknown), -1. */
static int
resolve_rule(struct store_txn *t, const char *tenant, struct rule_rec *r,
    char err[STORE_ERR_MAX])
{
	int rc = resolve_one(t, tenant, "user", &r->users, &r->user_names, err);

	if (rc == 1)
		rc = resolve_one(t, tenant, "group", &r->groups, &r->group_names, err);
	if (rc == 1)
		rc = resolve_one(t, tenant, "app", &r->apps, &r->app_names, err);
	return rc;
}

/* A copy of the caller's rule that this transaction owns (the callback may run again). */
static void
rule_copy(const struct rule_rec *in, struct rule_rec *r)
{
	*r = *in;
	r->name = in->name ? xstrdup(in->name) : NULL;
	r->effect = in->effect ? xstrdup(in->effect) : NULL;
	r->from = in->from ? xstrdup(in->from) : NULL;
	r->not_from = in->not_from ? xstrdup(in->not_from) : NULL;
	r->days = in->days ? xstrdup(in->days) : NULL;
	r->hours = in->hours ? xstrdup(in->hours) : NULL;
	r->user_names = in->user_names ? xstrdup(in->user_names) : NULL;
	r->group_names = in->group_names ? xstrdup(in->group_names) : NULL;
	r->app_names = in->app_names ? xstrdup(in->app_names) : NULL;
	r->users = r->groups = r->apps = NULL;
	r->created = in->created ? in->created : (uint64_t)clock_now();
}

static int
add_tx(struct store_txn *t, void *arg)
{
	struct rule_op *op = arg;
	struct rules l = { 0 };
	struct rule_rec r;
	long at;
	int rc = -1;

	rule_copy(op->in, &r);
	if (rule_canonical(&r, op->err) < 0 || rules_load(t, op->tenant, &l) < 0)
		goto done;
	if (rules_find(&l, r.name) >= 0) {
		snprintf(op->err, STORE_ERR_MAX, "a rule called %s exists", r.name);
		goto done;
	}
	if ((at = insert_at(&l, op->before, op->err)) < 0 ||
	    resolve_rule(t, op->tenant, &r, op->err) != 1)
		goto done;
	l.v = xreallocarray(l.v, l.n + 1, sizeof(*l.v));
	l.v[l.n++] = r;
	memset(&r, 0, sizeof(r));	/* l owns it now */
	rules_move(&l, l.n - 1, (size_t)at);
	l.v[at].pos = 0;		/* written by renumber whatever its old value */
	if (renumber(t, op->tenant, &l) == 0)
		rc = audit_change(t, op, NULL, &l.v[at]);
done:
	store_rule_clear(&r);
	rules_free(&l);
	return rc < 0 ? -1 : 0;
}

/* A change always answers with a message: the store's own when it has none. */
static int
change_run(struct store *st, struct rule_op *op, store_txn_fn fn)
{
	int rc;

	op->err[0] = '\0';
	rc = store_run(st, 1, fn, op);
	if (rc < 0 && (rc == STORE_FULL || op->err[0] == '\0'))
		snprintf(op->err, STORE_ERR_MAX, "%s", rc == STORE_FULL ? "database full" :
		    "cannot store the rule");
	if (rc >= 0)
		audit_entry_done(&op->full, op->tenant);
	return rc < 0 ? -1 : rc;
}

int
store_rule_add(struct store *st, const char *tenant, const struct rule_rec *r,
    const char *before, const struct audit_entry *ae, char err[STORE_ERR_MAX])
{
	struct rule_op op = { .tenant = tenant, .in = r, .before = before, .ae = ae,
		.err = err };

	return change_run(st, &op, add_tx);
}

static int
remove_tx(struct store_txn *t, void *arg)
{
	struct rule_op *op = arg;
	struct app_names apps = { 0 };
	struct rules l;
	struct store_key k;
	long i;
	int rc = 0;

	if (rules_load(t, op->tenant, &l) < 0)
		return -1;
	if ((i = rules_find(&l, op->name)) >= 0) {
		fill_names(t, op->tenant, &l.v[i], &apps);
		skey_of(&k, op->tenant, op->name);
		rc = stx_del(t, DB_RULES, &k) < 0 ||
		    audit_change(t, op, &l.v[i], NULL) < 0 ? -1 : 1;
		rules_move(&l, (size_t)i, l.n - 1);
		store_rule_clear(&l.v[--l.n]);
		if (rc == 1 && renumber(t, op->tenant, &l) < 0)
			rc = -1;
	}
	app_names_free(&apps);
	rules_free(&l);
	return rc;
}

int
store_rule_remove(struct store *st, const char *tenant, const char *name,
    const struct audit_entry *ae, char err[STORE_ERR_MAX])
{
	struct rule_op op = { .tenant = tenant, .name = name, .ae = ae, .err = err };

	return change_run(st, &op, remove_tx);
}

static int
replace_tx(struct store_txn *t, void *arg)
{
	struct rule_op *op = arg;
	struct app_names apps = { 0 };
	struct rules l;
	struct rule_rec r;
	long i;
	int rc = -1;

	if (rules_load(t, op->tenant, &l) < 0)
		return -1;
	rule_copy(op->in, &r);
	if ((i = rules_find(&l, op->name)) < 0) {
		rc = 0;
	} else if (rule_canonical(&r, op->err) == 0 &&
	    resolve_rule(t, op->tenant, &r, op->err) == 1) {
		fill_names(t, op->tenant, &l.v[i], &apps);
		r.pos = l.v[i].pos;
		r.created = l.v[i].created;
		rc = rule_put(t, op->tenant, &r) < 0 ||
		    audit_change(t, op, &l.v[i], &r) < 0 ? -1 : 1;
	}
	store_rule_clear(&r);
	app_names_free(&apps);
	rules_free(&l);
	return rc;
}

int
store_rule_replace(struct store *st, const char *tenant, const struct rule_rec *r,
    const struct audit_entry *ae, char err[STORE_ERR_MAX])
{
	struct rule_op op = { .tenant = tenant, .name = r->name, .in = r, .ae = ae,
		.err = err };

	return change_run(st, &op, replace_tx);
}

/* The audit entry of a move: the rule (unchanged) and its positions before and after. */
static int
audit_move(struct store_txn *t, struct rule_op *op, struct rule_rec *r, long from, long to)
{
	struct audit_entry ae, *saved = (struct audit_entry *)op->ae;
	char pos[32];
	int rc;

	if (saved == NULL)
		return audit_change(t, op, r, r);
	ae = *saved;
	snprintf(pos, sizeof(pos), "%ld", from + 1);
	audit_entry_add(&ae, "position_before", pos);
	snprintf(pos, sizeof(pos), "%ld", to + 1);
	audit_entry_add(&ae, "position_after", pos);
	op->ae = &ae;
	rc = audit_change(t, op, r, r);
	op->ae = saved;
	return rc;
}

static int
move_tx(struct store_txn *t, void *arg)
{
	struct rule_op *op = arg;
	struct app_names apps = { 0 };
	struct rules l;
	long from, to;
	int rc = -1;

	if (rules_load(t, op->tenant, &l) < 0)
		return -1;
	if ((from = rules_find(&l, op->name)) < 0) {
		rc = 0;
	} else if (op->before && !strcmp(op->before, op->name)) {
		snprintf(op->err, STORE_ERR_MAX, "a rule cannot be put before itself");
	} else if ((to = insert_at(&l, op->before, op->err)) >= 0) {
		to -= to > from;	/* the index the other rule has once this one is out */
		rules_move(&l, (size_t)from, (size_t)to);
		fill_names(t, op->tenant, &l.v[to], &apps);
		rc = renumber(t, op->tenant, &l) < 0 ||
		    audit_move(t, op, &l.v[to], from, to) < 0 ? -1 : 1;
	}
	app_names_free(&apps);
	rules_free(&l);
	return rc;
}

int
store_rule_move(struct store *st, const char *tenant, const char *name, const char *before,
    const struct audit_entry *ae, char err[STORE_ERR_MAX])
{
	struct rule_op op = { .tenant = tenant, .name = name, .before = before, .ae = ae,
		.err = err };

	return change_run(st, &op, move_tx);
}

static int
list_tx(struct store_txn *t, void *arg)
{
	struct rule_op *op = arg;
	struct app_names apps = { 0 };
	struct rules l;

	if (rules_load(t, op->tenant, &l) < 0)
		return -1;
	for (size_t i = 0; i < l.n; i++) {
		fill_names(t, op->tenant, &l.v[i], &apps);
		op->cb(&l.v[i], op->arg);
	}
	app_names_free(&apps);
	rules_free(&l);
	return 0;
}

int
store_rule_list(struct store *st, const char *tenant, store_each_fn cb, void *arg)
{
	struct rule_op op = { .tenant = tenant, .cb = cb, .arg = arg };

	return store_run(st, 0, list_tx, &op);
}
