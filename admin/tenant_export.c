/*
 * `tenant export`: everything a tenant owns that may leave the service, as one JSON
 * document of the format in docs/sekisho-export.5 — never a password hash, factor seed,
 * sealed key, client secret or API key.  Each part is read with the store's listing
 * functions (a read transaction each) and the audit trail in batches.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin_audit.h"
#include "admin_role.h"
#include "admin_tenantio.h"
#include "clock.h"
#include "encode.h"
#include "pki.h"
#include "xmalloc.h"

#define AUDIT_BATCH 500

static json_t *
when(uint64_t t)
{
	char iso[21];

	if (t == 0)
		return json_null();
	clock_iso8601((int64_t)t, iso);
	return json_string(iso);
}

/* Lines separated by sep ("\n", ",", " ") as an array of the non-empty ones. */
static json_t *
split(const char *s, const char *sep)
{
	json_t *a = json_array();
	size_t n;

	for (; s && *s; s += n + (s[n] != '\0')) {
		n = strcspn(s, sep);
		if (n)
			json_array_append_new(a, json_stringn(s, n));
	}
	return a;
}

static json_t *
image(const unsigned char *p, size_t len, const char *type)
{
	char *b64;
	json_t *o;

	if (p == NULL || len == 0)
		return json_null();
	b64 = b64_encode(p, len);
	o = json_pack("{s:s?, s:s}", "type", type, "data", b64);
	free(b64);
	return o;
}

/* "key=value" lines as an object. */
static json_t *
attributes(const char *s)
{
	json_t *o = json_object();
	json_t *lines = split(s, "\n");
	size_t i;
	json_t *v;

	json_array_foreach(lines, i, v) {
		const char *kv = json_string_value(v), *eq = strchr(kv, '=');
		if (eq) {
			char *k = xstrndup(kv, (size_t)(eq - kv));
			json_object_set_new(o, k, json_string(eq + 1));
			free(k);
		}
	}
	json_decref(lines);
	return o;
}

static json_t *
tenant_json(const struct tenant *t)
{
	return json_pack("{s:s, s:s?, s:o, s:s?, s:s?, s:I, s:{s:s?, s:s?, s:s?, s:o}, "
	    "s:{s:b, s:I, s:I, s:o, s:o}}",
	    "id", t->id, "name", t->name, "created", when(t->created),
	    "timezone", t->timezone, "default_effect", t->default_effect,
	    "password_min_length", (json_int_t)t->pw_min_len,
	    "branding", "display_name", t->display_name, "color", t->color,
	    "help_url", t->help_url, "logo", image(t->logo, t->logo_len, t->logo_type),
	    "licence", "licensed", (int)t->licensed, "seats", (json_int_t)t->seats,
	    "device_seats", (json_int_t)t->device_seats, "trial_until", when(t->trial_until),
	    "suspended", when(t->suspended));
}

struct ex {
	struct admin *a;
	json_t *arr;
};

static void
user_cb(const void *rec, void *arg)
{
	const struct user *u = rec;
	struct ex *x = arg;
	char **groups = NULL;
	json_t *g = json_array();

	if (store_user_groups(x->a->in->store, x->a->tenant, u->id, &groups) == 0)
		for (size_t i = 0; groups[i]; i++)
			json_array_append_new(g, json_string(groups[i]));
	store_strv_free(groups);
	json_array_append_new(x->arr, json_pack("{s:s, s:s, s:s?, s:s?, s:b, s:o, s:o, s:o, "
	    "s:b, s:b, s:s, s:b, s:o}",
	    "id", u->id, "name", u->name, "email", u->email, "display_name", u->display_name,
	    "disabled", (int)u->disabled, "created", when(u->created),
	    "password_changed", when(u->pw_changed), "attributes", attributes(u->attrs),
	    "break_glass", (int)u->break_glass, "must_change_password", (int)u->must_change,
	    "role", admin_role_name(u->role), "operator", (int)u->operator, "groups", g));
}

static void
group_cb(const void *rec, void *arg)
{
	const struct grouprec *g = rec;
	struct ex *x = arg;
	char **names = NULL;
	json_t *m = json_array();

	if (store_group_members(x->a->in->store, x->a->tenant, g->name, &names) == 1)
		for (size_t i = 0; names[i]; i++)
			json_array_append_new(m, json_string(names[i]));
	store_strv_free(names);
	json_array_append_new(x->arr, json_pack("{s:s, s:s, s:o, s:o}", "id", g->id,
	    "name", g->name, "created", when(g->created), "members", m));
}

static json_t *
app_protocol(const struct app *p)
{
	if (p->type && !strcmp(p->type, "saml"))
		return json_pack("{s:s?, s:s?, s:s?, s:b}", "entity_id", p->entity_id,
		    "metadata", p->metadata, "nameid_format", p->nameid_format,
		    "sign_response", (int)p->sign_response);
	return json_pack("{s:s?, s:s?, s:o, s:o, s:s?, s:s?, s:s?, s:s?, s:s?, s:o}",
	    "client_id", p->entity_id, "auth_method", p->auth_method,
	    "redirect_uris", split(p->redirect_uris, "\n"),
	    "post_logout_redirect_uris", split(p->logout_uris, "\n"), "jwks", p->jwks,
	    "assertion_alg", p->assertion_alg, "id_token_alg", p->id_token_alg,
	    "access_token_format", p->access_token_format,
	    "backchannel_logout_uri", p->backchannel_uri,
	    "grant_types", split(p->grant_types, ","));
}

static void
app_cb(const void *rec, void *arg)
{
	const struct app *p = rec;
	struct ex *x = arg;

	json_array_append_new(x->arr, json_pack("{s:s, s:s, s:s, s:o, s:o, s:{s:s?, s:s?, "
	    "s:o, s:s?}}",
	    "id", p->id, "name", p->name, "type", p->type, "created", when(p->created),
	    p->type && !strcmp(p->type, "saml") ? "saml" : "oidc", app_protocol(p),
	    "portal", "display_name", p->display_name, "description", p->description,
	    "icon", image(p->icon, p->icon_len, p->icon_type),
	    "initiate_login_uri", p->initiate_login_uri));
}

static void
assign_cb(const void *rec, void *arg)
{
	const struct assignment *s = rec;
	struct ex *x = arg;

	json_array_append_new(x->arr, json_pack("{s:s?, s:s?, s:s?}", "app", s->app_name,
	    "kind", s->kind, "name", s->name));
}

static void
rule_cb(const void *rec, void *arg)
{
	const struct rule_rec *r = rec;
	struct ex *x = arg;

	json_array_append_new(x->arr, json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:s?, "
	    "s:s?, s:b, s:b}",
	    "name", r->name, "effect", r->effect, "users", split(r->user_names, "\n"),
	    "groups", split(r->group_names, "\n"), "apps", split(r->app_names, "\n"),
	    "from", split(r->from, " "), "not_from", split(r->not_from, " "),
	    "days", r->days, "hours", r->hours, "report_only", (int)r->report_only,
	    "mfa_enroll", (int)r->mfa_enroll));
}

static void
policy_cb(const void *rec, void *arg)
{
	const struct policy *p = rec;
	struct ex *x = arg;

	json_array_append_new(x->arr, json_pack("{s:s, s:s?, s:s, s:s}", "kind", p->kind,
	    "name", p->kind && strcmp(p->kind, "tenant") ? p->name : NULL, "key", p->key,
	    "value", p->value));
}

static void
cert_cb(const void *rec, void *arg)
{
	const struct devcert *c = rec;
	struct ex *x = arg;
	char *pem = pki_der_cert_pem(c->der, c->der_len);

	json_array_append_new(x->arr, json_pack("{s:s, s:s?, s:s?, s:s?, s:o, s:o, s:o, s:o, "
	    "s:o, s:I, s:s?}",
	    "serial", c->serial, "user", c->user, "label", c->label,
	    "fingerprint", c->fingerprint, "issued", when(c->issued),
	    "not_before", when(c->not_before), "not_after", when(c->not_after),
	    "revoked", when(c->revoked ? c->revoked_at : 0), "last_used", when(c->last_used),
	    "reason", (json_int_t)c->reason, "pem", pem));
	free(pem);
}

static void
audit_cb(const struct audit_rec *r, const struct audit_fields *kv, void *arg)
{
	struct ex *x = arg;

	json_array_append_new(x->arr, admin_audit_json(r, kv));
}

/* The audit trail, oldest first, in batches. */
static int
audit_part(struct admin *a, json_t *arr)
{
	struct audit_filter f = { 0 };
	struct ex x = { a, arr };
	uint64_t after = 0;
	int got;

	admin_audit_prepare(a, &f);
	while ((got = admin_audit_batch(a, &f, after, AUDIT_BATCH, audit_cb, &x, &after)) > 0)
		;
	admin_audit_filter_free(&f);
	return got;
}

/* Objects compared by the string members keys (a NULL-terminated list), in order. */
static int
member_cmp(const void *a, const void *b, void *keys)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;

	for (const char *const *k = keys; *k; k++) {
		const char *p = json_string_value(json_object_get(x, *k));
		const char *q = json_string_value(json_object_get(y, *k));
		int d = strcmp(p ? p : "", q ? q : "");
		if (d)
			return d;
	}
	return 0;
}

/*
 * Sort arr's objects by the members keys: parts the store keeps in the order of random
 * ids (assignments, settings) would else come in another order after an import.
 */
static void
sort_members(json_t *arr, const char *const *keys)
{
	size_t n = json_array_size(arr);
	json_t **v = xcalloc(n ? n : 1, sizeof(*v));

	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort_r(v, n, sizeof(*v), member_cmp, (void *)keys);
	json_array_clear(arr);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, v[i]);
	free(v);
}

/* Every listed part of the document: 0, or -1 (storage). */
static int
parts(struct admin *a, json_t *doc)
{
	static const struct {
		const char *name;
		int (*list)(struct store *, const char *, store_each_fn, void *);
		store_each_fn fn;
	} p[] = { { "users", store_user_list, user_cb }, { "groups", store_group_list, group_cb },
		{ "apps", store_app_list, app_cb }, { "rules", store_rule_list, rule_cb },
		{ "settings", store_policy_list, policy_cb } };
	struct ex x = { a, NULL };

	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		json_object_set_new(doc, p[i].name, x.arr = json_array());
		if (p[i].list(a->in->store, a->tenant, p[i].fn, &x) < 0)
			return -1;
	}
	static const char *const by_target[] = { "app", "kind", "name", NULL };
	static const char *const by_scope[] = { "kind", "name", "key", NULL };

	sort_members(json_object_get(doc, "settings"), by_scope);
	json_object_set_new(doc, "assignments", x.arr = json_array());
	if (store_assignments(a->in->store, a->tenant, NULL, assign_cb, &x) < 0)
		return -1;
	sort_members(x.arr, by_target);
	json_object_set_new(doc, "certificates", x.arr = json_array());
	if (store_cert_list(a->in->store, a->tenant, NULL, cert_cb, &x) < 0)
		return -1;
	json_object_set_new(doc, "audit", x.arr = json_array());
	return audit_part(a, x.arr);
}

json_t *
admin_tenant_export(struct admin *a, const char *id)
{
	struct tenant t = { 0 };
	json_t *doc;
	int rc = store_tenant_get(a->in->store, id, &t);

	if (rc != 1) {
		store_tenant_clear(&t);
		admin_fail(a, rc == 0 ? ADMIN_NOT_FOUND : ADMIN_FAILED, NULL, "tenant %s: %s", id,
		    rc == 0 ? "no such tenant" : "storage error");
		return NULL;
	}
	a->tenant = id;
	doc = json_pack("{s:s, s:i, s:o, s:o}", "format", ADMIN_EXPORT_FORMAT,
	    "version", ADMIN_EXPORT_VERSION, "exported", when((uint64_t)clock_now()),
	    "tenant", tenant_json(&t));
	store_tenant_clear(&t);
	if (parts(a, doc) < 0) {
		json_decref(doc);
		admin_fail(a, ADMIN_FAILED, NULL, "tenant %s: storage error", id);
		return NULL;
	}
	admin_ok(a);
	return doc;
}
