/*
 * `tenant import`: an export document (docs/sekisho-export.5) made into a new tenant of
 * this Sekisho, through the same admin_* functions the command line and the API use, so
 * every value is checked as if an admin had typed it.  The tenant gets its own new keys
 * and CA; whatever fails part-way, the tenant is erased again: all or nothing.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "admin_app.h"
#include "admin_policy.h"
#include "admin_role.h"
#include "admin_tenant.h"
#include "admin_tenantio.h"
#include "admin_user.h"
#include "buf.h"
#include "casvc.h"
#include "clock.h"
#include "encode.h"
#include "icon.h"
#include "log.h"
#include "xmalloc.h"

struct imp {
	struct admin *a;
	json_t *doc;
	admin_import_client_fn client;
	void *arg;
	const char *bad;	/* the member that is not of its type */
};

/* Member k of o as a string; NULL when absent or null, and when of another type (noted). */
static const char *
jstr(struct imp *m, json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (v && !json_is_string(v) && !json_is_null(v))
		m->bad = k;
	return json_string_value(v);
}

static int
jbool(json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

/* The strings of array member k joined with sep (new; NULL when empty or absent). */
static char *
joined(json_t *o, const char *k, char sep)
{
	json_t *arr = json_object_get(o, k), *v;
	struct buf b;
	size_t i;

	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return NULL;
	buf_init(&b, 0);
	json_array_foreach(arr, i, v) {
		if (i)
			buf_putc(&b, sep);
		buf_puts(&b, json_is_string(v) ? json_string_value(v) : "");
	}
	return buf_steal(&b, NULL);
}

/* Each element of array member k of the document, to fn; stops at the first failure. */
static int
each(struct imp *m, json_t *o, const char *k, int (*fn)(struct imp *, json_t *))
{
	json_t *arr = json_object_get(o, k), *v;
	size_t i;

	if (arr && !json_is_array(arr))
		return admin_fail(m->a, ADMIN_INVALID, k, "%s: not an array", k);
	json_array_foreach(arr, i, v) {
		if (!json_is_object(v))
			return admin_fail(m->a, ADMIN_INVALID, k, "%s[%zu]: not an object", k, i);
		if (fn(m, v) == -1)
			return -1;
		if (m->bad)
			return admin_fail(m->a, ADMIN_INVALID, k, "%s[%zu].%s: wrong type", k, i,
			    m->bad);
	}
	return 0;
}

/* A base64 image {type, data} as bytes (new), or NULL. */
static unsigned char *
image(json_t *o, size_t *len_r)
{
	const char *d = json_string_value(json_object_get(o, "data"));

	*len_r = 0;
	return d ? b64_decode(d, strlen(d), 0, ICON_MAX, len_r) : NULL;
}

static int
tenant_settings(struct imp *m, json_t *t)
{
	json_t *brand = json_object_get(t, "branding");
	json_int_t pw = json_integer_value(json_object_get(t, "password_min_length"));
	struct admin_tenant_set s = { .timezone = jstr(m, t, "timezone"),
		.default_effect = jstr(m, t, "default_effect"), .pw_min_given = pw != 0,
		.password_min_length = pw, .display_name = jstr(m, brand, "display_name"),
		.color = jstr(m, brand, "color"), .help_url = jstr(m, brand, "help_url") };
	unsigned char *logo = image(json_object_get(brand, "logo"), &s.logo_len);
	int rc = 0;

	s.logo = logo;
	if (m->bad)
		rc = admin_fail(m->a, ADMIN_INVALID, "tenant", "tenant.%s: wrong type", m->bad);
	else if (s.timezone || s.default_effect || s.pw_min_given || s.display_name ||
	    s.color || s.help_url || s.logo)
		rc = admin_tenant_set(m->a, m->a->tenant, &s);
	free(logo);
	return rc;
}

/* What admin_user_import does not take: console role, break-glass. */
static int
user_extra(struct imp *m, json_t *u)
{
	const char *role = jstr(m, u, "role"), *name = jstr(m, u, "name");
	struct user_change ch = { .break_glass = jbool(u, "break_glass") ? "on" : NULL };
	uint64_t r;

	if (role && strcmp(role, "user")) {
		if (admin_user_role(m->a, role, &r) == -1)
			return -1;
		ch.role = &r;
	}
	if (ch.role == NULL && ch.break_glass == NULL)
		return 0;
	return admin_user_update(m->a, name, &ch);
}

/* "key=value" lines of the object member attributes (new), or NULL. */
static char *
attr_lines(json_t *u)
{
	json_t *o = json_object_get(u, "attributes"), *v;
	const char *k;
	struct buf b;

	if (!json_is_object(o) || json_object_size(o) == 0)
		return NULL;
	buf_init(&b, 0);
	json_object_foreach(o, k, v)
		buf_printf(&b, "%s%s=%s", b.len ? "\n" : "", k,
		    json_is_string(v) ? json_string_value(v) : "");
	return buf_steal(&b, NULL);
}

static int
users(struct imp *m)
{
	json_t *arr = json_object_get(m->doc, "users"), *u;
	size_t n = json_array_size(arr), i, at = 0;
	struct admin_user_in *in = xcalloc(n + 1, sizeof(*in));
	int rc = 0;

	json_array_foreach(arr, i, u) {
		in[i] = (struct admin_user_in){ .name = jstr(m, u, "name"),
			.email = jstr(m, u, "email"), .display_name = jstr(m, u, "display_name"),
			.attrs = attr_lines(u), .disabled = jbool(u, "disabled") };
		if (in[i].name == NULL)
			m->bad = "name";
	}
	if (m->bad)
		rc = admin_fail(m->a, ADMIN_INVALID, "users", "users: a user's %s is missing or "
		    "of the wrong type", m->bad);
	else if (n && admin_user_import(m->a, in, n, NULL, &at) == -1)
		rc = -1;
	for (i = 0; i < n; i++)
		free((char *)in[i].attrs);
	free(in);
	return rc == 0 ? each(m, m->doc, "users", user_extra) : rc;
}

static int
group(struct imp *m, json_t *g)
{
	const char *name = jstr(m, g, "name");
	json_t *members = json_object_get(g, "members"), *v;
	size_t i;

	if (admin_group_add(m->a, name ? name : "", NULL) == -1)
		return -1;
	json_array_foreach(members, i, v)
		if (admin_member_add(m->a, name, json_is_string(v) ? json_string_value(v) : "") == -1)
			return -1;
	return 0;
}

static int
saml_app(struct imp *m, const char *name, json_t *s)
{
	const char *md = jstr(m, s, "metadata");
	struct admin_saml_app in = { .name = name, .metadata = md ? md : "",
		.metadata_len = md ? strlen(md) : 0, .nameid = jstr(m, s, "nameid_format"),
		.sign_response = jbool(s, "sign_response") };

	return admin_app_add_saml(m->a, &in);
}

/* The strings of array member k (borrowed, in a new array of *n_r). */
static const char **
strings(json_t *o, const char *k, size_t *n_r)
{
	json_t *arr = json_object_get(o, k), *v;
	const char **s = xcalloc(json_array_size(arr) + 1, sizeof(*s));
	size_t i;

	*n_r = 0;
	json_array_foreach(arr, i, v)
		if (json_is_string(v))
			s[(*n_r)++] = json_string_value(v);
	return s;
}

static int
oidc_app(struct imp *m, const char *name, json_t *o, const char *login_uri)
{
	const char *auth = jstr(m, o, "auth_method");
	char *grants = joined(o, "grant_types", ','), *cid = NULL, *secret = NULL;
	struct admin_oidc_app in = { .name = name, .public_client = auth && !strcmp(auth, "none"),
		.jwks = jstr(m, o, "jwks"), .id_token_alg = jstr(m, o, "id_token_alg"),
		.access_token = jstr(m, o, "access_token_format"),
		.backchannel_uri = jstr(m, o, "backchannel_logout_uri"), .grants = grants,
		.initiate_login_uri = login_uri };
	const char **redirect = strings(o, "redirect_uris", &in.n_redirect);
	const char **logout = strings(o, "post_logout_redirect_uris", &in.n_logout);
	int rc;

	in.auth = in.public_client ? NULL : auth;
	in.redirect_uris = redirect;
	in.logout_uris = logout;
	rc = admin_app_add_oidc(m->a, &in, &cid, &secret);
	if (rc == 0 && m->client)
		m->client(name, cid, secret, m->arg);
	if (secret)
		freezero_str(secret);
	free(cid);
	free(grants);
	free(redirect);
	free(logout);
	return rc;
}

static int
portal(struct imp *m, const char *name, json_t *p)
{
	json_t *icon = json_object_get(p, "icon");
	struct app_display d = { .display_name = jstr(m, p, "display_name"),
		.description = jstr(m, p, "description"),
		.icon_type = jstr(m, icon, "type") };
	unsigned char *bytes = image(icon, &d.icon_len);
	int rc = 0;

	d.icon = d.icon_len ? bytes : NULL;
	if (d.display_name || d.description || d.icon)
		rc = admin_app_set_display(m->a, name, &d);
	free(bytes);
	return rc;
}

static int
app(struct imp *m, json_t *p)
{
	const char *name = jstr(m, p, "name"), *type = jstr(m, p, "type");
	json_t *portal_o = json_object_get(p, "portal");
	int rc;

	if (name == NULL || type == NULL || (strcmp(type, "saml") && strcmp(type, "oidc")))
		return admin_fail(m->a, ADMIN_INVALID, "apps", "apps: %s: type must be saml or "
		    "oidc", name ? name : "an app without a name");
	if (!strcmp(type, "saml"))
		rc = saml_app(m, name, json_object_get(p, "saml"));
	else
		rc = oidc_app(m, name, json_object_get(p, "oidc"),
		    jstr(m, portal_o, "initiate_login_uri"));
	return rc == 0 ? portal(m, name, portal_o) : rc;
}

static int
assignment(struct imp *m, json_t *s)
{
	const char *app = jstr(m, s, "app"), *kind = jstr(m, s, "kind"), *name = jstr(m, s, "name");

	if (app == NULL || kind == NULL || name == NULL)
		return 0;	/* one whose user or group was gone: nothing to assign */
	return admin_app_assign(m->a, app, kind, name, 1);
}

static int
rule(struct imp *m, json_t *o)
{
	struct rule_rec r = { .name = (char *)jstr(m, o, "name"),
		.effect = (char *)jstr(m, o, "effect"), .user_names = joined(o, "users", '\n'),
		.group_names = joined(o, "groups", '\n'), .app_names = joined(o, "apps", '\n'),
		.from = joined(o, "from", ' '), .not_from = joined(o, "not_from", ' '),
		.days = (char *)jstr(m, o, "days"), .hours = (char *)jstr(m, o, "hours"),
		.report_only = (uint64_t)jbool(o, "report_only"),
		.mfa_enroll = (uint64_t)jbool(o, "mfa_enroll"), .created = (uint64_t)clock_now() };
	int rc = admin_policy_add(m->a, &r, NULL);

	free(r.user_names);
	free(r.group_names);
	free(r.app_names);
	free(r.from);
	free(r.not_from);
	return rc;
}

static int
setting(struct imp *m, json_t *s)
{
	const char *kind = jstr(m, s, "kind"), *key = jstr(m, s, "key");

	if (kind == NULL || key == NULL || strcmp(key, "device_required"))
		return admin_fail(m->a, ADMIN_INVALID, "settings", "settings: unknown key %s",
		    key ? key : "(none)");
	return admin_policy_set(m->a, kind, strcmp(kind, "tenant") ? jstr(m, s, "name") : NULL,
	    jstr(m, s, "value"));
}

/* The tenant's new device CA from the ca process. */
static int
new_ca(struct imp *m)
{
	struct ca_request rq = { .op = CA_OP_CREATE, .tenant = (char *)m->a->tenant };
	struct ca_reply rp;
	int rc = admin_ca_call(m->a, &rq, &rp);

	if (rc == -1)
		return -1;
	if (!rp.ok)
		rc = admin_fail(m->a, ADMIN_FAILED, NULL, "tenant %s: %s", m->a->tenant,
		    rp.error ? rp.error : "CA creation failed");
	ca_reply_clear(&rp);
	return rc;
}

/* Everything of the document into the new tenant, in the order things refer to others. */
static int
fill(struct imp *m)
{
	static int (*const by_kind[])(struct imp *, json_t *) = { group, app, assignment, rule,
		setting };
	static const char *const kinds[] = { "groups", "apps", "assignments", "rules",
		"settings" };

	if (new_ca(m) == -1 || tenant_settings(m, json_object_get(m->doc, "tenant")) == -1 ||
	    users(m) == -1)
		return -1;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (each(m, m->doc, kinds[i], by_kind[i]) == -1)
			return -1;
	return 0;
}

/* The document's format, version and tenant id (as, or its own): the id, or NULL. */
static const char *
check_doc(struct admin *a, json_t *doc, const char *as)
{
	json_t *t = json_object_get(doc, "tenant");
	const char *fmt = json_string_value(json_object_get(doc, "format"));
	const char *id = as ? as : json_string_value(json_object_get(t, "id"));
	struct tenant cur;
	int rc;

	if (fmt == NULL || strcmp(fmt, ADMIN_EXPORT_FORMAT) || !json_is_object(t)) {
		admin_fail(a, ADMIN_INVALID, "format", "not a Sekisho tenant export");
		return NULL;
	}
	if (json_integer_value(json_object_get(doc, "version")) != ADMIN_EXPORT_VERSION) {
		admin_fail(a, ADMIN_INVALID, "version", "export version %lld is not %d (this "
		    "Sekisho reads that one only)",
		    (long long)json_integer_value(json_object_get(doc, "version")),
		    ADMIN_EXPORT_VERSION);
		return NULL;
	}
	if (id == NULL || !store_valid_name(id, 63)) {
		admin_fail(a, ADMIN_INVALID, "id", "tenant id must be 1-63 characters of "
		    "a-z A-Z 0-9 . _ @ + -");
		return NULL;
	}
	rc = store_tenant_get(a->in->store, id, &cur);
	store_tenant_clear(&cur);
	if (rc != 0) {
		admin_fail(a, rc == 1 ? ADMIN_CONFLICT : ADMIN_FAILED, "id", "tenant %s %s", id,
		    rc == 1 ? "exists (import makes a new tenant; use --as)" : "storage error");
		return NULL;
	}
	return id;
}

int
admin_tenant_import(struct admin *a, json_t *doc, const char *as,
    admin_import_client_fn client, void *arg)
{
	struct imp m = { .a = a, .doc = doc, .client = client, .arg = arg };
	const char *id = check_doc(a, doc, as), *err = NULL, *name;

	if (id == NULL)
		return -1;
	name = json_string_value(json_object_get(json_object_get(doc, "tenant"), "name"));
	a->tenant = id;
	if (tenant_create(a->in, id, name ? name : id, &err) == -1)
		return admin_fail(a, ADMIN_FAILED, NULL, "tenant %s: %s", id, err);
	if (fill(&m) == 0) {
		admin_audit_event(a, "admin.tenant.import", "tenant", id, "from",
		    json_string_value(json_object_get(json_object_get(doc, "tenant"), "id")),
		    NULL);
		admin_ok(a);
		return 0;
	}
	/* Nothing of a failed import stays (not even the operator's record of an erasure). */
	if (store_tenant_erase(a->in->store, id, NULL, NULL, &err) != 1)
		log_error("tenant %s: the failed import could not be undone: %s", id, err);
	return -1;
}
