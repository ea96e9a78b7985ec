/*
 * The console's user list (search by name, e-mail or display name; pages of 50) and the
 * form that adds a user (admin_user_add, as `sekisho user add` does).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_user.h"
#include "console_int.h"
#include "encode.h"
#include "xmalloc.h"

#define PAGE_SIZE 50

struct listing {
	struct console_req *c;
	struct tmpl_vars *v;
	const char *q;
	size_t matched, first;	/* users that match; the first one this page shows */
};

static int
matches(const struct user *u, const char *q)
{
	return !*q || strcasestr(u->name, q) || (u->email && strcasestr(u->email, q)) ||
	    (u->display_name && strcasestr(u->display_name, q));
}

static void
user_row(const void *rec, void *arg)
{
	const struct user *u = rec;
	struct listing *l = arg;
	struct tmpl_vars *item;
	char *named, *url;

	if (!matches(u, l->q) || l->matched++ < l->first || l->matched > l->first + PAGE_SIZE)
		return;
	item = tmpl_add_item(l->v, "users");
	named = console_named(l->c, "user", u->name);
	url = console_url(l->c, named);
	tmpl_set(item, "url", url);
	free(named);
	tmpl_set(item, "name", u->name);
	tmpl_set(item, "email", u->email);
	tmpl_set(item, "display_name", u->display_name);
	tmpl_set(item, "role_name", admin_role_name(u->role));
	tmpl_set(item, "disabled", u->disabled ? "1" : NULL);
	free(url);
}

/* Links to the pages before and after this one, keeping the search. */
static void
paging(struct listing *l, size_t page)
{
	char *q = url_encode(l->q), *url, n[24];

	if (page > 1) {
		url = xasprintf("?q=%s&page=%zu", q, page - 1);
		tmpl_set(l->v, "prev_url", url);
		free(url);
	}
	if (l->matched > l->first + PAGE_SIZE) {
		url = xasprintf("?q=%s&page=%zu", q, page + 1);
		tmpl_set(l->v, "next_url", url);
		free(url);
	}
	snprintf(n, sizeof(n), "%zu", l->matched);
	tmpl_set(l->v, "matched", n);
	free(q);
}

void
console_users_get(struct console_req *c)
{
	const char *q = console_param(c, "q");
	size_t page = console_page_no(c);
	struct listing l = { .c = c, .v = tmpl_vars_new(), .q = q && strlen(q) <= 256 ? q : "",
		.first = (page - 1) * PAGE_SIZE };

	if (store_user_list(c->idp->in.store, c->t->id, user_row, &l) < 0) {
		tmpl_vars_free(l.v);
		console_error(c, 503, "error_server", "");
		return;
	}
	tmpl_set(l.v, "title", page_msg(c->idp->pages, c->lang, "console_users"));
	tmpl_set(l.v, "q", l.q);
	paging(&l, page);
	console_render(c, 200, "console_users.html", l.v);
	tmpl_vars_free(l.v);
}

/* "" means not given. */
static const char *
given(const char *s)
{
	return s && *s ? s : NULL;
}

void
console_user_add(struct console_req *c)
{
	struct admin_user_in in = { .name = console_field(c, "name"),
		.email = given(console_field(c, "email")),
		.display_name = given(console_field(c, "display_name")),
		.password = given(console_field(c, "password")) };
	char *page;

	if (in.name == NULL || admin_user_add(&c->adm, &in, NULL) < 0) {
		if (in.name == NULL)
			admin_fail(&c->adm, ADMIN_INVALID, "name", "a user needs a name");
		console_failed(c, "users");
		return;
	}
	page = console_named(c, "user", in.name);
	console_done(c, page, "console_done_user_added");
	free(page);
}
