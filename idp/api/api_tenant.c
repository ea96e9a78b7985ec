/*
 * The admin API's tenant settings (tenant: time zone and default effect of the access
 * rules, the password policy's minimum length, the branding; tenant/logo) and signing
 * keys (signing-keys, and signing-keys/rotate), through admin/tenant.c as `sekisho tenant
 * set` and `sekisho key` do.  A key's private part is never shown.  GET also shows the
 * licence and its use (admin/licence.c), which only the service operator changes.
 */
#include "config.h"

#include <string.h>

#include "admin_licence.h"
#include "admin_tenant.h"
#include "api.h"
#include "form.h"
#include "http.h"
#include "store.h"

/* ---- tenant ---- */

/* The caller's tenant as GET shows it, or NULL after answering. */
static json_t *
tenant_current(struct api_call *c)
{
	struct admin_tenant t;
	json_t *rep;

	if (admin_tenant_get(&c->adm, c->adm.tenant, &t) == -1) {
		api_admin_error(c);
		return NULL;
	}
	rep = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s?, s:s?, s:s?, s:b}", "id", t.id,
	    "name", t.name, "timezone", t.timezone, "default_effect", t.default_effect,
	    "password_min_length", (json_int_t)t.password_min_length, "display_name",
	    t.display_name, "color", t.color, "help_url", t.help_url, "has_logo",
	    t.logo_len > 0);
	admin_tenant_clear(&t);
	return rep;
}

/* The licence and its use, read only: a tenant does not set its own licence. */
static json_t *
licence_json(struct api_call *c)
{
	struct admin_licence l;
	int on;

	if (admin_licence_get(&c->adm, c->adm.tenant, &l) == -1)
		return json_null();
	on = l.licensed != 0;
	return json_pack("{s:b, s:o, s:I, s:o, s:I, s:I, s:i, s:o, s:b}", "licensed", on,
	    "seats", on ? json_integer((json_int_t)l.seats) : json_null(), "seats_in_use",
	    (json_int_t)l.use.users, "device_seats", on ?
	    json_integer((json_int_t)l.device_seats) : json_null(), "device_seats_in_use",
	    (json_int_t)l.use.cert_holders, "operators", (json_int_t)l.use.operators,
	    "operators_max", STORE_OPERATORS_MAX, "trial_until",
	    *l.trial_date ? json_string(l.trial_date) : json_null(), "over",
	    on && (l.use.users > l.seats || l.use.cert_holders > l.device_seats));
}

static void
tenant_get(struct api_call *c)
{
	json_t *rep = tenant_current(c);

	if (rep == NULL)
		return;
	/* The use changes with every user: the ETag covers what PATCH changes only. */
	api_set_etag(c, rep);
	json_object_set_new(rep, "licence", licence_json(c));
	api_reply(c, 200, rep);
}

/* A branding member: a string sets it, null clears it (bit into s->clear). */
static int
brand_member(struct api_call *c, struct admin_tenant_set *s, const char *field,
    unsigned bit, const char **out)
{
	json_t *v = c->body ? json_object_get(c->body, field) : NULL;

	if (v && json_is_null(v)) {
		s->clear |= bit;
		return 0;
	}
	/* admin/tenant.c says what is wrong with a value; here only its kind and size */
	return api_get_str(c, field, 0, 1024, out);
}

/* The body of a PATCH in s: 0, or -1 after answering 400. */
static int
tenant_body(struct api_call *c, struct admin_tenant_set *s)
{
	static const char *const allowed[] = { "timezone", "default_effect",
		"password_min_length", "display_name", "color", "help_url", NULL };
	json_t *n = c->body ? json_object_get(c->body, "password_min_length") : NULL;

	if (api_only_fields(c, allowed) == -1 ||
	    api_get_str(c, "timezone", 0, 64, &s->timezone) == -1 ||
	    api_get_str(c, "default_effect", 0, 16, &s->default_effect) == -1 ||
	    brand_member(c, s, "display_name", STORE_BRAND_NAME, &s->display_name) == -1 ||
	    brand_member(c, s, "color", STORE_BRAND_COLOR, &s->color) == -1 ||
	    brand_member(c, s, "help_url", STORE_BRAND_HELP, &s->help_url) == -1)
		return -1;
	if (n && !json_is_integer(n)) {
		api_error(c, 400, "invalid_request", "password_min_length",
		    "password_min_length is a number from 1 to 128");
		return -1;
	}
	s->pw_min_given = n != NULL;
	s->password_min_length = n ? (int64_t)json_integer_value(n) : 0;
	return 0;
}

/* Every member of one PATCH is checked before any is set, and all land in one commit. */
static void
tenant_patch(struct api_call *c)
{
	struct admin_tenant_set s = { 0 };
	json_t *before;
	int rc;

	if (tenant_body(c, &s) == -1 || (before = tenant_current(c)) == NULL)
		return;
	if (api_if_match(c, before) == -1) {
		json_decref(before);
		return;
	}
	rc = s.timezone || s.default_effect || s.pw_min_given || s.display_name || s.color ||
	    s.help_url || s.clear ? admin_tenant_set(&c->adm, c->adm.tenant, &s) : 0;
	api_updated(c, before, rc, rc == 0 ? tenant_current(c) : NULL);
}

/* ---- the logo ---- */

/* GET tenant/logo: the image with its type. */
static void
logo_get(struct api_call *c)
{
	struct tenant t;
	int rc = store_tenant_get(c->adm.in->store, c->adm.tenant, &t);

	if (rc == 1 && t.logo_len && t.logo_type) {
		c->answered = 1;
		/* An SVG opened on its own must not run anything in the tenant's origin. */
		http_set_csp(c->req, "default-src 'none'; style-src 'unsafe-inline'; sandbox");
		http_status(c->req, 200);
		http_body_copy(c->req, t.logo_type, t.logo, t.logo_len);
	} else if (rc == -1) {
		api_error(c, 500, "internal", NULL, "storage error");
	} else {
		api_not_found(c, "logo");
	}
	store_tenant_clear(&t);
}

/* Set (logo_len > 0) or clear the logo, answering the tenant. */
static void
logo_write(struct api_call *c, const unsigned char *logo, size_t len)
{
	struct admin_tenant_set s = { .logo = len ? logo : NULL, .logo_len = len,
		.clear = len ? 0 : STORE_BRAND_LOGO };
	json_t *before = tenant_current(c);
	int rc;

	if (before == NULL)
		return;
	if (api_if_match(c, before) == -1) {
		json_decref(before);
		return;
	}
	rc = admin_tenant_set(&c->adm, c->adm.tenant, &s);
	api_updated(c, before, rc, rc == 0 ? tenant_current(c) : NULL);
}

static void
logo_put(struct api_call *c)
{
	const struct buf *b = http_body(c->req);
	const char *ct = http_header(c->req, "Content-Type");

	if (c->body || (b->len && !api_content_type_is(ct, "image/png") &&
	    !api_content_type_is(ct, "image/svg+xml"))) {
		api_error(c, 415, "unsupported_media_type", NULL, "the body is the image, as "
		    "image/png or image/svg+xml");
		return;
	}
	if (b->len == 0) {
		api_error(c, 400, "invalid_request", "logo", "the body is the image (DELETE "
		    "removes the logo)");
		return;
	}
	logo_write(c, (const unsigned char *)b->data, b->len);
}

static void
logo_delete(struct api_call *c)
{
	logo_write(c, NULL, 0);
}

/* ---- signing keys ---- */

static void
key_item(const void *rec, void *arg)
{
	const struct keyrec *k = rec;

	json_array_append_new(arg, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "kid", k->kid,
	    "use", k->use, "alg", k->alg ? k->alg : "", "state", admin_key_state_name(k->state),
	    "created", api_time(k->created), "until", api_time(k->until)));
}

/* The keys of use (NULL: all) as an array, or NULL after answering. */
static json_t *
keys_current(struct api_call *c, const char *use)
{
	json_t *items = json_array();

	if (admin_key_list(&c->adm, use, key_item, items) == -1) {
		json_decref(items);
		api_admin_error(c);
		return NULL;
	}
	return items;
}

static void
keys_list(struct api_call *c)
{
	json_t *items = keys_current(c, form_get(c->query, "use"));

	if (items)
		api_reply(c, 200, json_pack("{s:o}", "items", items));
}

static void
keys_rotate(struct api_call *c)
{
	static const char *const allowed[] = { "use", NULL };
	const char *use;
	json_t *before, *after;

	if (api_only_fields(c, allowed) == -1 || api_get_str(c, "use", 1, 16, &use) == -1)
		return;
	/* For the record only: admin_key_rotate judges use (a "ca" lists but is refused). */
	before = json_array();
	if (admin_key_list(&c->adm, use, key_item, before) == -1) {
		json_decref(before);
		before = NULL;
	}
	if (admin_key_rotate(&c->adm, use) == -1) {
		json_decref(before);
		api_admin_error(c);
		return;
	}
	if ((after = keys_current(c, use)) == NULL) {
		json_decref(before);
		return;
	}
	api_audit_change(c, before, json_deep_copy(after));
	api_reply(c, 200, json_pack("{s:o}", "items", after));
}

const struct api_route api_tenant_routes[] = {
	{ "GET", "tenant", APIKEY_SCOPE_READ, tenant_get },
	{ "PATCH", "tenant", APIKEY_SCOPE_WRITE, tenant_patch },
	{ "GET", "tenant/logo", APIKEY_SCOPE_READ, logo_get },
	{ "PUT", "tenant/logo", APIKEY_SCOPE_WRITE, logo_put },
	{ "DELETE", "tenant/logo", APIKEY_SCOPE_WRITE, logo_delete },
	{ "GET", "signing-keys", APIKEY_SCOPE_READ, keys_list },
	{ "POST", "signing-keys/rotate", APIKEY_SCOPE_WRITE, keys_rotate },
	{ NULL, NULL, 0, NULL }
};
