/*
 * Adding an app from the catalog in the console: the templates, a form made from a
 * template's parameters (name, description, example), the admin layer's refusal beside
 * the parameter it names, and on success what to paste into the app (the vendor's labels;
 * a client secret this once), through admin_app_add_template as the API does.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_catalog.h"
#include "console_int.h"
#include "encode.h"
#include "xmalloc.h"

static void
template_row(struct console_req *c, struct tmpl_vars *v, const struct catalog_tmpl *t)
{
	struct tmpl_vars *item = tmpl_add_item(v, "templates");
	char *enc = url_encode(t->name), *page = xasprintf("catalog/template?template=%s", enc);
	char *url = console_url(c, page);

	tmpl_set(item, "url", url);
	tmpl_set(item, "template", t->name);
	tmpl_set(item, "display_name", t->display_name);
	tmpl_set(item, "description", t->description);
	tmpl_set(item, "protocol", strcmp(t->protocol, "saml") ? "OpenID Connect" :
	    "SAML 2.0");
	free(enc);
	free(page);
	free(url);
}

void
console_catalog_get(struct console_req *c)
{
	struct tmpl_vars *v = tmpl_vars_new();
	const struct catalog_tmpl *t;

	for (size_t i = 0; (t = catalog_at(c->idp->catalog, i)) != NULL; i++)
		template_row(c, v, t);
	tmpl_set(v, "title", page_msg(c->idp->pages, c->lang, "console_catalog"));
	console_render(c, 200, "console_catalog.html", v);
	tmpl_vars_free(v);
}

/* "parameter NAME" (or "parameter NAME:") in the refusal: the field it is about. */
static int
named_in(const char *msg, const char *param)
{
	size_t n = strlen(param);

	for (const char *p = msg; (p = strstr(p, param)) != NULL; p += n)
		if (p - msg >= 10 && !strncmp(p - 10, "parameter ", 10) &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == ':'))
			return 1;
	return 0;
}

/* The template's form, with the values and the refusal of a form that was sent. */
static void
template_page(struct console_req *c, int status, const struct catalog_tmpl *t,
    const char *error)
{
	struct tmpl_vars *v = tmpl_vars_new();

	for (size_t i = 0; i < t->nparams; i++) {
		const struct catalog_param *p = &t->params[i];
		struct tmpl_vars *item = tmpl_add_item(v, "params");
		char *field = xasprintf("p_%s", p->name);
		tmpl_set(item, "field", field);
		tmpl_set(item, "param", p->name);
		tmpl_set(item, "param_description", p->description);
		tmpl_set(item, "example", p->example);
		tmpl_set(item, "optional", p->optional ? "1" : NULL);
		tmpl_set(item, "value", error ? console_field(c, field) : NULL);
		tmpl_set(item, "invalid", error && named_in(error, p->name) ? "1" : NULL);
		free(field);
	}
	tmpl_set(v, "title", t->display_name);
	tmpl_set(v, "template", t->name);
	tmpl_set(v, "description", t->description);
	tmpl_set(v, "setup_url", t->setup_url);
	tmpl_set(v, "error", error);
	tmpl_set(v, "app_name", error ? console_field(c, "name") : t->name);
	console_render(c, status, "console_template.html", v);
	tmpl_vars_free(v);
}

static const struct catalog_tmpl *
find_template(struct console_req *c, const char *name)
{
	const struct catalog_tmpl *t = name ? catalog_find(c->idp->catalog, name) : NULL;

	if (t == NULL)
		console_error(c, 404, "console_no_template", "catalog");
	return t;
}

void
console_template_get(struct console_req *c)
{
	const struct catalog_tmpl *t = find_template(c, console_param(c, "template"));

	if (t != NULL)
		template_page(c, 200, t, NULL);
}

/* The app's page with what the admin layer says to paste, under the vendor's labels. */
static void
added_page(struct console_req *c, const char *name, const struct admin_catalog_added *r)
{
	struct tmpl_vars *v = tmpl_vars_new();

	for (size_t i = 0; i < r->npaste; i++)
		console_paste_item(c, v, r->paste[i].key, r->paste[i].label, r->paste[i].value);
	tmpl_set(v, "notice", page_msg(c->idp->pages, c->lang, "console_done_app_added"));
	console_app_page(c, name, 200, v, 1);
	tmpl_vars_free(v);
}

void
console_template_add(struct console_req *c)
{
	const struct catalog_tmpl *t = find_template(c, console_field(c, "template"));
	const char *name = console_field(c, "name"), *names[CATALOG_MAX_PARAMS],
	    *values[CATALOG_MAX_PARAMS];
	struct admin_catalog_added r;
	size_t n = 0;

	if (t == NULL)
		return;
	/* An empty field is a parameter not given: an optional one is left out. */
	for (size_t i = 0; i < t->nparams; i++) {
		char *field = xasprintf("p_%s", t->params[i].name);
		const char *val = console_field(c, field);
		if (val && *val) {
			names[n] = t->params[i].name;
			values[n++] = val;
		}
		free(field);
	}
	if (name == NULL || admin_app_add_template(&c->adm, c->idp->catalog, t->name, name,
	    names, values, n, &r) < 0) {
		if (name == NULL)
			admin_fail(&c->adm, ADMIN_INVALID, "name", "an app needs a name");
		template_page(c, console_failed_status(c), t, c->adm.msg);
		return;
	}
	added_page(c, name, &r);
	admin_catalog_added_clear(&r);
}
