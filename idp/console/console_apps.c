/*
 * The console's apps: the list (display name, protocol, how many assignments), and the
 * forms that add a SAML app from its pasted metadata or an OpenID Connect client, through
 * admin_app_add_saml and admin_app_add_oidc as the API's POST apps does.  A client's
 * secret is shown on the page that answers the form, that once.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_app.h"
#include "console_int.h"
#include "xmalloc.h"

/* How many assignments each app has (by name), counted before the apps are listed. */
struct counts {
	char **names;
	size_t *n;
	size_t len;
};

static void
count_one(const void *rec, void *arg)
{
	const struct assignment *as = rec;
	struct counts *k = arg;
	size_t i;

	if (as->app_name == NULL)
		return;
	for (i = 0; i < k->len && strcmp(k->names[i], as->app_name); i++)
		;
	if (i == k->len) {
		k->names = xreallocarray(k->names, k->len + 1, sizeof(*k->names));
		k->n = xreallocarray(k->n, k->len + 1, sizeof(*k->n));
		k->names[i] = xstrdup(as->app_name);
		k->n[k->len++] = 0;
	}
	k->n[i]++;
}

static void
counts_free(struct counts *k)
{
	for (size_t i = 0; i < k->len; i++)
		free(k->names[i]);
	free(k->names);
	free(k->n);
}

struct listing {
	struct console_req *c;
	struct tmpl_vars *v;
	struct counts k;
};

static void
app_row(const void *rec, void *arg)
{
	const struct app *a = rec;
	struct listing *l = arg;
	struct tmpl_vars *item = tmpl_add_item(l->v, "apps");
	char *named = console_named(l->c, "app", a->name), *url = console_url(l->c, named);
	char n[24];
	size_t i;

	for (i = 0; i < l->k.len && strcmp(l->k.names[i], a->name); i++)
		;
	snprintf(n, sizeof(n), "%zu", i < l->k.len ? l->k.n[i] : 0);
	tmpl_set(item, "url", url);
	tmpl_set(item, "name", a->name);
	tmpl_set(item, "display_name", a->display_name ? a->display_name : a->name);
	tmpl_set(item, "protocol", a->type && !strcmp(a->type, "oidc") ? "OpenID Connect" :
	    "SAML 2.0");
	tmpl_set(item, "assigned", n);
	free(named);
	free(url);
}

void
console_apps_get(struct console_req *c)
{
	struct listing l = { .c = c, .v = tmpl_vars_new() };
	int rc = store_assignments(c->idp->in.store, c->t->id, NULL, count_one, &l.k);

	if (rc < 0 || store_app_list(c->idp->in.store, c->t->id, app_row, &l) < 0) {
		counts_free(&l.k);
		tmpl_vars_free(l.v);
		console_error(c, 503, "error_server", "");
		return;
	}
	tmpl_set(l.v, "title", page_msg(c->idp->pages, c->lang, "console_apps"));
	console_render(c, 200, "console_apps.html", l.v);
	counts_free(&l.k);
	tmpl_vars_free(l.v);
}

/* The forms that add an app (the fields of a refused one kept in v). */
static void
new_page(struct console_req *c, int status, struct tmpl_vars *v)
{
	tmpl_set(v, "title", page_msg(c->idp->pages, c->lang, "console_app_add"));
	console_render(c, status, "console_app_new.html", v);
}

void
console_apps_new_get(struct console_req *c)
{
	struct tmpl_vars *v = tmpl_vars_new();

	new_page(c, 200, v);
	tmpl_vars_free(v);
}

/* The form again with the admin layer's refusal and what was typed. */
static void
refused(struct console_req *c, const char *form, const char *const *fields)
{
	struct tmpl_vars *v = tmpl_vars_new();
	char key[64];

	snprintf(key, sizeof(key), "%s_error", form);
	tmpl_set(v, key, c->adm.msg[0] ? c->adm.msg : page_msg(c->idp->pages, c->lang,
	    "error_server"));
	for (; *fields; fields++) {
		snprintf(key, sizeof(key), "%s_%s", form, *fields);
		tmpl_set(v, key, console_field(c, *fields));
	}
	new_page(c, console_failed_status(c), v);
	tmpl_vars_free(v);
}

void
console_app_add_saml(struct console_req *c)
{
	static const char *const fields[] = { "name", "metadata", "nameid", NULL };
	const char *md = console_field(c, "metadata"), *nameid = console_field(c, "nameid");
	struct admin_saml_app in = { .name = console_field(c, "name"), .metadata = md,
		.metadata_len = md ? strlen(md) : 0, .nameid = nameid && *nameid ? nameid : NULL,
		.sign_response = console_field(c, "sign_response") != NULL };

	if (in.name == NULL || admin_app_add_saml(&c->adm, &in) < 0) {
		if (in.name == NULL)
			admin_fail(&c->adm, ADMIN_INVALID, "name", "an app needs a name");
		refused(c, "saml", fields);
		return;
	}
	console_done_at(c, "app", in.name, "console_done_app_added");
}

/* The non-empty lines of text (CRLF or LF) as a new array of new strings. */
static char **
lines_of(const char *text, size_t *n_r)
{
	char **v = xcalloc(1, sizeof(*v));

	*n_r = 0;
	for (const char *p = text ? text : ""; *p; ) {
		size_t n = strcspn(p, "\r\n");
		if (n) {
			v = xreallocarray(v, *n_r + 2, sizeof(*v));
			v[(*n_r)++] = xstrndup(p, n);
			v[*n_r] = NULL;
		}
		p += n;
		p += strspn(p, "\r\n");
	}
	return v;
}

/* The page of the client just added, with its secret (when it has one) this once. */
static void
oidc_added(struct console_req *c, const char *name, const char *secret)
{
	struct tmpl_vars *v = tmpl_vars_new();

	tmpl_set(v, "client_secret", secret);
	tmpl_set(v, "notice", page_msg(c->idp->pages, c->lang, "console_done_app_added"));
	console_app_page(c, name, 200, v, 0);
	tmpl_vars_free(v);
}

void
console_app_add_oidc(struct console_req *c)
{
	static const char *const fields[] = { "name", "redirect_uris", "logout_uris", "auth",
		NULL };
	const char *auth = console_field(c, "auth");
	struct admin_oidc_app in = { .name = console_field(c, "name"),
		.public_client = auth && !strcmp(auth, "none"),
		.auth = auth && *auth && strcmp(auth, "none") ? auth : NULL };
	char **redirect = lines_of(console_field(c, "redirect_uris"), &in.n_redirect);
	char **logout = lines_of(console_field(c, "logout_uris"), &in.n_logout);
	char *client_id = NULL, *secret = NULL;

	in.redirect_uris = (const char *const *)redirect;
	in.logout_uris = (const char *const *)logout;
	if (in.name == NULL || admin_app_add_oidc(&c->adm, &in, &client_id, &secret) < 0) {
		if (in.name == NULL)
			admin_fail(&c->adm, ADMIN_INVALID, "name", "an app needs a name");
		refused(c, "oidc", fields);
	} else {
		oidc_added(c, in.name, secret);
	}
	store_strv_free(redirect);
	store_strv_free(logout);
	free(client_id);
	freezero_str(secret);
}
