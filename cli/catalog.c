/*
 * sekisho app catalog [TEMPLATE] and sekisho app add NAME --template T --set KEY=VALUE:
 * the app templates (the built-in ones and catalog_dir's), and adding an app from one,
 * which prints what the admin pastes into the app as "key: value" lines.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_catalog.h"
#include "catalog.h"
#include "cli.h"
#include "xmalloc.h"

/* The catalog of this directory, or NULL after the FILE:LINE messages. */
static struct catalog *
load(struct cli *c)
{
	struct buf err;
	struct catalog *cat;

	buf_init(&err, 0);
	if ((cat = catalog_load(c->in.settings.catalog_dir, &err)) == NULL)
		fprintf(stderr, "%s", err.data ? err.data : "the catalog did not load\n");
	buf_free(&err);
	return cat;
}

/* Each line of a multi-line text as "key: line". */
static void
print_lines(const char *key, const char *text)
{
	while (text && *text) {
		size_t n = strcspn(text, "\n");
		printf("%s: %.*s\n", key, (int)n, text);
		text += n + (text[n] == '\n');
	}
}

static void
print_list(const char *key, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%s: %s\n", key, v[i]);
}

static void
print_template(const struct catalog_tmpl *t)
{
	printf("name: %s\ndisplay_name: %s\ndescription: %s\nprotocol: %s\nsetup_url: %s\n",
	    t->name, t->display_name, t->description, t->protocol, t->setup_url);
	for (size_t i = 0; i < t->nparams; i++)
		printf("param: %s (%s) %s; pattern %s; example %s\n", t->params[i].name,
		    t->params[i].optional ? "optional" : "required", t->params[i].description,
		    t->params[i].pattern, t->params[i].example);
	if (t->entity_id)
		printf("entity_id: %s\n", t->entity_id);
	print_list("acs", t->acs, t->nacs);
	if (t->slo)
		printf("slo: %s\n", t->slo);
	if (t->nameid)
		printf("nameid: %s\n", t->nameid);
	for (size_t i = 0; i < t->nattrs; i++)
		printf("attribute: %s as %s (%s)\n", t->attrs[i].source, t->attrs[i].name,
		    t->attrs[i].format);
	print_list("redirect_uri", t->redirect, t->nredirect);
	print_list("post_logout_uri", t->logout, t->nlogout);
	for (size_t i = 0; i < t->npaste; i++)
		printf("paste: %s%s%s\n", t->paste[i].key, t->paste[i].label ? " into " : "",
		    t->paste[i].label ? t->paste[i].label : "");
	print_lines("note", t->notes);
	print_lines("verified", t->verified);
	print_lines("unverified", t->unverified);
}

int
cmd_app_catalog(struct cli *c)
{
	const struct catalog_tmpl *t;
	struct catalog *cat = load(c);
	int rc = 0;

	if (cat == NULL)
		return EXIT_FAIL;
	if (arg(c, 0) == NULL)
		for (size_t i = 0; (t = catalog_at(cat, i)) != NULL; i++)
			printf("%s\t%s\t%s\n", t->name, t->protocol, t->display_name);
	else if ((t = catalog_find(cat, arg(c, 0))) != NULL)
		print_template(t);
	else
		rc = fail("no template %s in the catalog", arg(c, 0));
	catalog_free(cat);
	return rc;
}

/* The --set KEY=VALUE options, split into names and values (new strings in *copies). */
static int
parameters(struct cli *c, const char **names, const char **values, size_t *n,
    char **copies)
{
	*n = 0;
	for (int i = 0; i < c->nopts; i++) {
		char *kv, *eq;
		if (strcmp(c->opts[i].name, "--set"))
			continue;
		kv = copies[*n] = xstrdup(c->opts[i].value);
		if ((eq = strchr(kv, '=')) == NULL || eq == kv) {
			(*n)++;
			return usage_fail(c, "--set %s: KEY=VALUE", kv);
		}
		*eq = '\0';
		names[*n] = kv;
		values[(*n)++] = eq + 1;
	}
	return 0;
}

static void
print_added(const char *name, const char *tmpl, const struct catalog_tmpl *t,
    const struct admin_catalog_added *r)
{
	printf("app %s added from template %s (%s %s)\n", name, tmpl,
	    strcmp(t->protocol, "saml") ? "OIDC client" : "SAML SP", r->entity_id);
	for (size_t i = 0; i < r->npaste; i++) {
		const char *v = r->paste[i].value;
		/* A PEM certificate is several lines: they follow the key on their own. */
		if (strchr(v, '\n'))
			printf("%s:\n%s%s", r->paste[i].key, v, v[strlen(v) - 1] == '\n' ? "" : "\n");
		else
			printf("%s: %s\n", r->paste[i].key, v);
	}
}

int
cmd_app_add_template(struct cli *c)
{
	const char *names[MAX_ARGS], *values[MAX_ARGS], *tmpl = opt(c, "--template");
	struct admin_catalog_added r = { .npaste = 0 };
	struct catalog *cat = NULL;
	char *copies[MAX_ARGS];
	size_t n;
	int rc;

	if ((rc = parameters(c, names, values, &n, copies)) == 0 && (cat = load(c)) == NULL)
		rc = EXIT_FAIL;
	if (rc == 0 && admin_app_add_template(&c->adm, cat, tmpl, arg(c, 0), names, values, n,
	    &r) == -1)
		rc = fail("%s", c->adm.msg);
	else if (rc == 0)
		print_added(arg(c, 0), tmpl, catalog_find(cat, tmpl), &r);
	admin_catalog_added_clear(&r);
	catalog_free(cat);
	for (size_t i = 0; i < n; i++)
		free(copies[i]);
	return rc;
}
