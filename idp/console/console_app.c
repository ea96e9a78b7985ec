/*
 * One app in the console: what the portal shows of it (display name, description, an
 * OIDC client's initiate login URI), what to paste into the app, who is assigned to it
 * (add, remove) and its deletion, each through admin_app.h as the API does.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "admin_app.h"
#include "admin_catalog.h"
#include "console_int.h"
#include "icon.h"
#include "xmalloc.h"

static const char *const icon_fields[] = { "csrf", "name", NULL };
const struct http_upload console_icon_upload = { icon_fields, "icon", ICON_MAX, 1024 };

/* The inputs of the page, for messages that name the one at fault. */
static const struct console_label labels[] = {
	{ "display_name", "console_app_display_name" },
	{ "description", "console_app_description" },
	{ "initiate_login_uri", "console_app_initiate" },
	{ "icon", "console_app_icon" },
	{ NULL, NULL },
};

/* The tenant's values an app of this protocol is set up with, in the order shown. */
static const char *const saml_keys[] = { "metadata_url", "idp_entity_id", "sso_url",
	"slo_url", "certificate", NULL };
static const char *const oidc_keys[] = { "issuer", "discovery_url", NULL };

void
console_paste_item(struct console_req *c, struct tmpl_vars *v, const char *key,
    const char *label, const char *value)
{
	struct tmpl_vars *item = tmpl_add_item(v, "paste");
	char *msg = xasprintf("console_paste_%s", key);
	const char *known = page_msg(c->idp->pages, c->lang, msg);

	tmpl_set(item, "key", key);
	/* page_msg answers the key itself for a key it does not know. */
	tmpl_set(item, "label", label ? label : strcmp(known, msg) ? known : key);
	tmpl_set(item, "value", value);
	tmpl_set(item, "pre", !strcmp(key, "certificate") ? "1" : NULL);
	tmpl_set(item, "once", !strcmp(key, "client_secret") ? "1" : NULL);
	free(msg);
}

static void
paste_values(struct console_req *c, struct tmpl_vars *v, const struct app *a, int oidc)
{
	for (const char *const *k = oidc ? oidc_keys : saml_keys; *k; k++) {
		char *val = admin_paste_value(&c->adm, *k);
		if (val && *val)
			console_paste_item(c, v, *k, NULL, val);
		free(val);
	}
	if (oidc)
		console_paste_item(c, v, "client_id", NULL, a->entity_id);
}

static void
assignment_row(const void *rec, void *arg)
{
	const struct assignment *as = rec;
	struct tmpl_vars *item = tmpl_add_item(arg, "assigned");
	int gone = as->name == NULL || !strcmp(as->name, "?removed");

	tmpl_set(item, "kind", as->kind);
	tmpl_set(item, "is_group", !strcmp(as->kind, "group") ? "1" : NULL);
	tmpl_set(item, "who", gone ? NULL : as->name);
}

static void
app_vars(struct console_req *c, struct tmpl_vars *v, const struct app *a, int oidc)
{
	tmpl_set(v, "title", a->display_name ? a->display_name : a->name);
	tmpl_set(v, "name", a->name);
	tmpl_set(v, "oidc", oidc ? "1" : NULL);
	tmpl_set(v, "protocol", oidc ? "OpenID Connect" : "SAML 2.0");
	tmpl_set(v, "entity_id", a->entity_id);
	tmpl_set(v, "display_name", a->display_name);
	tmpl_set(v, "description", a->description);
	tmpl_set(v, "initiate_login_uri", a->initiate_login_uri);
	tmpl_set(v, "auth_method", a->auth_method);
	tmpl_set(v, "redirect_uris", a->redirect_uris);
	tmpl_set(v, "nameid_format", a->nameid_format);
	tmpl_set(v, "has_icon", a->icon_len ? "1" : NULL);
}

void
console_app_page(struct console_req *c, const char *name, int status, struct tmpl_vars *v,
    int have_paste)
{
	struct app a;
	int rc = name ? store_app_get(c->idp->in.store, c->t->id, name, &a) : 0, oidc;

	if (rc == 1 && store_assignments(c->idp->in.store, c->t->id, name, assignment_row,
	    v) < 0)
		rc = -1;
	if (rc != 1) {
		if (rc == 1)
			store_app_clear(&a);
		console_error(c, rc < 0 ? 503 : 404, rc < 0 ? "error_server" : "console_no_app",
		    "apps");
		return;
	}
	oidc = a.type && !strcmp(a.type, "oidc");
	app_vars(c, v, &a, oidc);
	if (!have_paste)
		paste_values(c, v, &a, oidc);
	console_render(c, status, "console_app.html", v);
	store_app_clear(&a);
}

void
console_app_get(struct console_req *c)
{
	struct tmpl_vars *v = tmpl_vars_new();

	console_app_page(c, console_name(c), 200, v, 0);
	tmpl_vars_free(v);
}

/* Fail for a form without an app name: -1. */
static int
no_app(struct console_req *c)
{
	return admin_fail(&c->adm, ADMIN_NOT_FOUND, "name", "no such app");
}

/* The texts of the form; "" clears one, an absent field stays as it is. */
void
console_app_edit(struct console_req *c)
{
	const char *name = console_name(c);
	struct app_display d = { .display_name = console_field(c, "display_name"),
		.description = console_field(c, "description"),
		.initiate_login_uri = console_field(c, "initiate_login_uri") };

	if ((name == NULL ? no_app(c) : admin_app_set_display(&c->adm, name, &d)) < 0)
		console_failed_field(c, "apps", labels);
	else
		console_done_at(c, "app", name, "console_done_app_saved");
}

static void
assign(struct console_req *c, int on)
{
	const char *name = console_name(c), *kind = console_field(c, "kind"),
	    *who = console_field(c, "who");

	if ((name == NULL ? no_app(c) : admin_app_assign(&c->adm, name, kind, who, on)) < 0)
		console_failed(c, "apps");
	else
		console_done_at(c, "app", name, on ? "console_done_app_assigned" :
		    "console_done_app_unassigned");
}

void
console_app_assign(struct console_req *c)
{
	assign(c, 1);
}

void
console_app_unassign(struct console_req *c)
{
	assign(c, 0);
}

void
console_app_delete(struct console_req *c)
{
	const char *name = console_name(c);

	if ((name == NULL ? no_app(c) : admin_app_remove(&c->adm, name)) < 0)
		console_failed(c, "apps");
	else
		console_done(c, "apps", "console_done_app_deleted");
}

/* Set (len > 0) or remove the icon as PUT and DELETE apps/{name}/icon do. */
static void
icon_write(struct console_req *c, const unsigned char *icon, size_t len, const char *type)
{
	const char *name = console_name(c);
	struct app_display d = { .icon = icon, .icon_len = len, .icon_type = type };

	if ((name == NULL ? no_app(c) : admin_app_set_display(&c->adm, name, &d)) < 0)
		console_failed_field(c, "apps", labels);
	else
		console_done_at(c, "app", name, len ? "console_done_icon_saved" :
		    "console_done_icon_removed");
}

void
console_app_icon_save(struct console_req *c)
{
	const struct http_file *f = http_file(c->req);
	const char *ct = f ? f->content_type : NULL;

	/* The declared type counts when it is an image type: the bytes must then agree. */
	if (ct && strcmp(ct, "image/png") && strcmp(ct, "image/svg+xml"))
		ct = NULL;
	if (f == NULL)
		console_error(c, 400, "console_upload_no_file", "apps");
	else
		icon_write(c, f->data, f->len, ct);
}

void
console_app_icon_remove(struct console_req *c)
{
	icon_write(c, (const unsigned char *)"", 0, NULL);
}
