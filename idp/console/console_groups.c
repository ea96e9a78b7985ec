/*
 * Groups in the console: the list with the form that adds one, and a group's page with
 * its members (add, remove), rename and delete, through admin_group_* and admin_member_*.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "admin_user.h"
#include "console_int.h"
#include "xmalloc.h"

/* An item of list with name and the URL of page ("user", "group") for it. */
static void
named_item(struct console_req *c, struct tmpl_vars *v, const char *list, const char *page,
    const char *name)
{
	struct tmpl_vars *item = tmpl_add_item(v, list);
	char *named = console_named(c, page, name), *url = console_url(c, named);

	tmpl_set(item, "item_name", name);
	tmpl_set(item, "item_url", url);
	free(named);
	free(url);
}

struct listing {
	struct console_req *c;
	struct tmpl_vars *v;
};

static void
group_row(const void *rec, void *arg)
{
	const struct grouprec *g = rec;
	struct listing *l = arg;

	named_item(l->c, l->v, "groups", "group", g->name);
}

void
console_groups_get(struct console_req *c)
{
	struct listing l = { c, tmpl_vars_new() };

	if (store_group_list(c->idp->in.store, c->t->id, group_row, &l) < 0) {
		tmpl_vars_free(l.v);
		console_error(c, 503, "error_server", "");
		return;
	}
	tmpl_set(l.v, "title", page_msg(c->idp->pages, c->lang, "console_groups"));
	console_render(c, 200, "console_groups.html", l.v);
	tmpl_vars_free(l.v);
}

void
console_group_add(struct console_req *c)
{
	const char *name = console_field(c, "name");

	if (name == NULL || admin_group_add(&c->adm, name, NULL) < 0) {
		if (name == NULL)
			admin_fail(&c->adm, ADMIN_INVALID, "name", "a group needs a name");
		console_failed(c, "groups");
		return;
	}
	console_done_at(c, "group", name, "console_done_group_added");
}

void
console_group_get(struct console_req *c)
{
	const char *name = console_name(c);
	char **members = NULL;
	struct tmpl_vars *v;
	int rc = name ? store_group_members(c->idp->in.store, c->t->id, name, &members) : 0;

	if (rc != 1) {
		store_strv_free(members);
		console_error(c, rc < 0 ? 503 : 404, rc < 0 ? "error_server" : "console_no_group",
		    "groups");
		return;
	}
	v = tmpl_vars_new();
	for (char **m = members; *m; m++)
		named_item(c, v, "members", "user", *m);
	tmpl_set(v, "title", name);
	tmpl_set(v, "name", name);
	console_render(c, 200, "console_group.html", v);
	tmpl_vars_free(v);
	store_strv_free(members);
}

/* Fail for a form without a group name: -1. */
static int
no_group(struct console_req *c)
{
	return admin_fail(&c->adm, ADMIN_NOT_FOUND, "name", "no such group");
}

void
console_group_rename(struct console_req *c)
{
	const char *name = console_name(c), *to = console_field(c, "new_name");

	if ((name == NULL ? no_group(c) : admin_group_rename(&c->adm, name, to ? to : "")) < 0)
		console_failed(c, "groups");
	else
		console_done_at(c, "group", to, "console_done_group_renamed");
}

void
console_group_delete(struct console_req *c)
{
	const char *name = console_name(c);

	if ((name == NULL ? no_group(c) : admin_group_remove(&c->adm, name)) < 0)
		console_failed(c, "groups");
	else
		console_done(c, "groups", "console_done_group_deleted");
}

/* fn(a, group, user) with the form's group and user; the group's page with msg. */
static void
member(struct console_req *c, int (*fn)(struct admin *, const char *, const char *),
    const char *msg)
{
	const char *name = console_name(c), *user = console_field(c, "user");

	if ((name == NULL ? no_group(c) : fn(&c->adm, name, user ? user : "")) < 0)
		console_failed(c, "groups");
	else
		console_done_at(c, "group", name, msg);
}

void
console_member_add(struct console_req *c)
{
	member(c, admin_member_add, "console_done_member_added");
}

void
console_member_remove(struct console_req *c)
{
	member(c, admin_member_remove, "console_done_member_removed");
}
