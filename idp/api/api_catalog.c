/*
 * The admin API's catalog routes (see api.h): GET catalog (the templates), GET
 * catalog/{template} (its parameters, URL patterns and notes), and POST
 * catalog/{template}/apps, which adds an app from it as `sekisho app add --template`
 * does (admin_app_add_template) and answers with what to paste into the app.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "admin_catalog.h"
#include "api.h"
#include "catalog.h"
#include "xmalloc.h"

#define PARAMS_MAX 32

static json_t *
str_array(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* A text of lines as an array of strings. */
static json_t *
lines(const char *text)
{
	json_t *a = json_array();

	while (text && *text) {
		size_t n = strcspn(text, "\n");
		json_array_append_new(a, json_stringn(text, n));
		text += n + (text[n] == '\n');
	}
	return a;
}

static json_t *
opt_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *
summary(const struct catalog_tmpl *t)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "name", t->name, "protocol", t->protocol,
	    "display_name", t->display_name, "description", t->description);
}

static json_t *
params_rep(const struct catalog_tmpl *t)
{
	json_t *a = json_array();

	for (size_t i = 0; i < t->nparams; i++) {
		const struct catalog_param *p = &t->params[i];
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:b}", "name", p->name,
		    "pattern", p->pattern, "description", p->description, "example", p->example,
		    "required", !p->optional));
	}
	return a;
}

static json_t *
saml_rep(const struct catalog_tmpl *t)
{
	json_t *attrs = json_array();

	for (size_t i = 0; i < t->nattrs; i++)
		json_array_append_new(attrs, json_pack("{s:s, s:s, s:s}", "source",
		    t->attrs[i].source, "name", t->attrs[i].name, "name_format",
		    t->attrs[i].format));
	return json_pack("{s:s, s:o, s:o, s:s, s:b, s:o}", "entity_id", t->entity_id, "acs",
	    str_array(t->acs, t->nacs), "slo", opt_str(t->slo), "nameid", t->nameid,
	    "sign_response", t->sign_response, "attributes", attrs);
}

static json_t *
oidc_rep(const struct catalog_tmpl *t)
{
	return json_pack("{s:o, s:o, s:o, s:o}", "redirect_uris",
	    str_array(t->redirect, t->nredirect), "post_logout_redirect_uris",
	    str_array(t->logout, t->nlogout), "grants", opt_str(t->grants), "auth",
	    opt_str(t->auth));
}

static json_t *
template_rep(const struct catalog_tmpl *t)
{
	json_t *j = summary(t), *paste = json_array();

	for (size_t i = 0; i < t->npaste; i++)
		json_array_append_new(paste, json_pack("{s:s, s:o}", "key", t->paste[i].key,
		    "label", opt_str(t->paste[i].label)));
	json_object_set_new(j, "setup_url", json_string(t->setup_url));
	json_object_set_new(j, "icon", opt_str(t->icon));
	json_object_set_new(j, "parameters", params_rep(t));
	json_object_set_new(j, strcmp(t->protocol, "saml") ? "oidc" : "saml",
	    strcmp(t->protocol, "saml") ? oidc_rep(t) : saml_rep(t));
	json_object_set_new(j, "paste", paste);
	json_object_set_new(j, "notes", lines(t->notes));
	json_object_set_new(j, "verified", lines(t->verified));
	json_object_set_new(j, "unverified", lines(t->unverified));
	return j;
}

static void
catalog_list(struct api_call *c)
{
	const struct catalog_tmpl *t;
	struct api_page pg;

	if (api_page_init(c, &pg) == -1)
		return;
	for (size_t i = 0; (t = catalog_at(c->idp->catalog, i)) != NULL; i++)
		api_page_add(&pg, t->name, summary(t));
	api_page_reply(c, &pg);
}

static void
catalog_get(struct api_call *c)
{
	const struct catalog_tmpl *t = catalog_find(c->idp->catalog, c->params[0]);
	json_t *rep;

	if (t == NULL) {
		api_not_found(c, "template");
		return;
	}
	rep = template_rep(t);
	api_set_etag(c, rep);
	api_reply(c, 200, rep);
}

/* The "parameters" object's members (borrowed from the body); -1 after answering 400. */
static int
body_params(struct api_call *c, const char **names, const char **values, size_t *n)
{
	json_t *obj = json_object_get(c->body, "parameters"), *v;
	const char *k;

	*n = 0;
	if (obj == NULL || json_is_null(obj))
		return 0;
	if (!json_is_object(obj) || json_object_size(obj) > PARAMS_MAX) {
		api_error(c, 400, "invalid_request", "parameters", "parameters must be an object "
		    "of at most %d strings", PARAMS_MAX);
		return -1;
	}
	json_object_foreach(obj, k, v) {
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
			char field[80];
			snprintf(field, sizeof(field), "parameters.%.64s", k);
			api_error(c, 400, "invalid_request", field, "parameter %.64s must be "
			    "a string", k);
			return -1;
		}
		names[*n] = k;
		values[(*n)++] = json_string_value(v);
	}
	return 0;
}

static json_t *
paste_rep(const struct admin_catalog_added *r)
{
	json_t *j = json_object();

	for (size_t i = 0; i < r->npaste; i++)
		json_object_set_new(j, r->paste[i].key, json_string(r->paste[i].value));
	return j;
}

static void
catalog_add(struct api_call *c)
{
	static const char *const allowed[] = { "name", "parameters", NULL };
	const struct catalog_tmpl *t = catalog_find(c->idp->catalog, c->params[0]);
	const char *name, *names[PARAMS_MAX], *values[PARAMS_MAX];
	struct admin_catalog_added r;
	json_t *app;
	char *loc;
	size_t n;

	if (t == NULL) {
		api_not_found(c, "template");
		return;
	}
	if (api_only_fields(c, allowed) == -1 || api_get_str(c, "name", 1, 64, &name) == -1 ||
	    body_params(c, names, values, &n) == -1)
		return;
	if (admin_app_add_template(&c->adm, c->idp->catalog, t->name, name, names, values, n,
	    &r) == -1) {
		api_admin_error(c);
		return;
	}
	app = json_pack("{s:s, s:s, s:s, s:s}", "name", name, "protocol", t->protocol,
	    "template", t->name, strcmp(t->protocol, "saml") ? "client_id" : "entity_id",
	    r.entity_id);
	api_audit_change(c, NULL, json_deep_copy(app));
	loc = xasprintf("apps/%s", name);
	api_created(c, loc, json_pack("{s:o, s:o}", "app", app, "paste", paste_rep(&r)));
	free(loc);
	admin_catalog_added_clear(&r);
}

const struct api_route api_catalog_routes[] = {
	{ "GET", "catalog", APIKEY_SCOPE_READ, catalog_list },
	{ "GET", "catalog/{template}", APIKEY_SCOPE_READ, catalog_get },
	{ "POST", "catalog/{template}/apps", APIKEY_SCOPE_WRITE, catalog_add },
	{ NULL, NULL, 0, NULL }
};
