/*
 * The admin API's users, groups and memberships (see api.h and openapi/users.json): the
 * JSON shapes of these objects and the handlers, which check the request's form and leave
 * every rule and write to admin/user.c and admin/group.c.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin_role.h"
#include "admin_user.h"
#include "api.h"
#include "form.h"
#include "store.h"
#include "xmalloc.h"

#define STR_MAX 4096	/* longer strings are refused here; the admin layer's limits are lower */

/* ---- representations ---- */

static json_t *
attrs_json(const char *attrs)
{
	json_t *j = json_object();
	size_t n, k;

	for (const char *p = attrs ? attrs : ""; *p; p += n + (p[n] != '\0')) {
		n = strcspn(p, "\n");
		k = strcspn(p, "=");
		if (k < n) {
			char *key = xstrndup(p, k);
			json_object_set_new(j, key, json_stringn(p + k + 1, n - k - 1));
			free(key);
		}
	}
	return j;
}

/* A user as lists show it: everything but the groups. */
static json_t *
user_item(const struct user *u)
{
	return json_pack("{s:s, s:s, s:s?, s:s?, s:b, s:b, s:b, s:s, s:o, s:o, s:o}",
	    "id", u->id, "name", u->name, "email", u->email, "display_name", u->display_name,
	    "disabled", u->disabled != 0, "break_glass", u->break_glass != 0,
	    "must_change_password", u->must_change != 0, "role", admin_role_name(u->role),
	    "attributes", attrs_json(u->attrs),
	    "created", api_time(u->created), "password_changed", api_time(u->pw_changed));
}

static json_t *
user_rep(struct api_call *c, const struct user *u)
{
	json_t *j = user_item(u), *g = json_array();
	char **groups = NULL;

	if (store_user_groups(c->idp->in.store, c->t->id, u->id, &groups) == 0)
		for (char **p = groups; *p; p++)
			json_array_append_new(g, json_string(*p));
	store_strv_free(groups);
	json_object_set_new(j, "groups", g);
	return j;
}

/* The user called name as GET shows it (*u_r filled), or NULL after answering. */
static json_t *
user_load(struct api_call *c, const char *name, struct user *u_r)
{
	int rc = store_user_get(c->idp->in.store, c->t->id, name, u_r);

	if (rc == 1)
		return user_rep(c, u_r);
	store_user_clear(u_r);
	if (rc == 0)
		api_not_found(c, "user");
	else
		api_error(c, 500, "internal", NULL, "the user could not be read");
	return NULL;
}

/*
 * Answer a write with rep (stolen), the object after it, and its ETag: 201 with Location
 * kind/name when created, else 200; audited as the change from before (stolen).
 */
static void
answer(struct api_call *c, json_t *before, json_t *rep, const char *kind, const char *name,
    int created)
{
	char *where;

	api_audit_change(c, before, json_deep_copy(rep));
	api_set_etag(c, rep);
	if (!created) {
		api_reply(c, 200, rep);
		return;
	}
	where = xasprintf("%s/%s", kind, name);
	api_created(c, where, rep);
	free(where);
}

/* Answer a write with the user called name now (see answer). */
static void
user_answer(struct api_call *c, const char *name, json_t *before, int created)
{
	struct user u;
	json_t *rep = user_load(c, name, &u);

	if (rep == NULL)
		json_decref(before);
	else
		answer(c, before, rep, "users", u.name, created);
	store_user_clear(&u);
}

/* ---- request members ---- */

/* A string member where JSON null means "" (merge-patch: clear); NULL when absent. */
static int
get_clearable(struct api_call *c, const char *field, const char **out)
{
	json_t *v = json_object_get(c->body, field);

	if (v && json_is_null(v)) {
		*out = "";
		return 0;
	}
	return api_get_str(c, field, 0, STR_MAX, out);
}

/* 1 when v may be an attribute's value in a request (null only when removing). */
static int
attr_value_ok(const json_t *v, int removing)
{
	if (json_is_null(v))
		return removing;
	return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
}

/*
 * The member "attributes" (an object of strings; in a PATCH a null value removes its key)
 * applied to attrs: a new string in *out (NULL when absent), or -1 after answering.
 */
static int
get_attrs(struct api_call *c, const char *attrs, int removing, char **out)
{
	json_t *o = json_object_get(c->body, "attributes"), *v;
	const char *k;

	*out = NULL;
	if (o == NULL)
		return 0;
	if (!json_is_object(o)) {
		api_error(c, 400, "invalid_request", "attributes",
		    "attributes must be an object of strings");
		return -1;
	}
	*out = xstrdup(attrs ? attrs : "");
	json_object_foreach(o, k, v) {
		char *next = NULL;
		if (!attr_value_ok(v, removing))
			api_error(c, 400, "invalid_request", "attributes",
			    "attribute %.64s must be a string%s", k, removing ? " or null" : "");
		else if ((next = admin_attrs_set(&c->adm, *out, k, json_string_value(v))) == NULL)
			api_admin_error(c);
		free(*out);
		if ((*out = next) == NULL)
			return -1;
	}
	return 0;
}

/* ---- users ---- */

struct user_filter {
	struct api_page pg;
	const char *email, *q;
	int disabled;		/* -1: either */
};

static void
list_one(const void *rec, void *arg)
{
	const struct user *u = rec;
	struct user_filter *f = arg;

	if (f->pg.after && strcmp(u->name, f->pg.after) <= 0)
		return;
	if (f->email && (u->email == NULL || strcasecmp(u->email, f->email)))
		return;
	if (f->q && strncasecmp(u->name, f->q, strlen(f->q)))
		return;
	if (f->disabled >= 0 && (u->disabled != 0) != f->disabled)
		return;
	api_page_add(&f->pg, u->name, user_item(u));
}

static void
users_list(struct api_call *c)
{
	struct user_filter f = { .email = form_get(c->query, "email"),
		.q = form_get(c->query, "q"), .disabled = -1 };
	const char *d = form_get(c->query, "disabled");

	if (d && strcmp(d, "true") && strcmp(d, "false")) {
		api_error(c, 400, "invalid_request", "disabled", "disabled is true or false");
		return;
	}
	if (d)
		f.disabled = !strcmp(d, "true");
	if (api_page_init(c, &f.pg) == -1)
		return;
	if (store_user_list(c->idp->in.store, c->t->id, list_one, &f) < 0) {
		api_page_reply(c, &f.pg);	/* frees the page; the answer is replaced */
		api_error(c, 500, "internal", NULL, "the users could not be listed");
		return;
	}
	api_page_reply(c, &f.pg);
}

static void
users_create(struct api_call *c)
{
	static const char *const fields[] = { "name", "email", "display_name", "password",
		"attributes", "disabled", NULL };
	struct admin_user_in in = { 0 };
	char *attrs = NULL;

	if (api_only_fields(c, fields) == -1 ||
	    api_get_str(c, "name", 1, STORE_NAME_MAX, &in.name) == -1 ||
	    api_get_str(c, "email", 0, STR_MAX, &in.email) == -1 ||
	    api_get_str(c, "display_name", 0, STR_MAX, &in.display_name) == -1 ||
	    api_get_str(c, "password", 0, STR_MAX, &in.password) == -1 ||
	    api_get_bool(c, "disabled", 0, &in.disabled) == -1 ||
	    get_attrs(c, NULL, 0, &attrs) == -1)
		return;
	in.attrs = attrs;
	if (admin_user_add(&c->adm, &in, NULL) == -1)
		api_admin_error(c);
	else
		user_answer(c, in.name, NULL, 1);
	free(attrs);
}

/* ---- POST users/import ---- */

#define IMPORT_MAX 1000	/* users per call: one store transaction, one lock hold */

/* The failure at user i of an import (field "users[i].MEMBER"), answered. */
static void __attribute__((format(printf, 4, 5)))
import_error(struct api_call *c, size_t i, const char *member, const char *fmt, ...)
{
	char field[64], detail[256];
	va_list ap;

	snprintf(field, sizeof(field), "users[%zu]%s%.40s", i, member ? "." : "",
	    member ? member : "");
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	api_error(c, 400, "invalid_request", field, "%s", detail);
}

/* A string member of user i of an import (NULL when absent or null); -1 after answering. */
static int
import_str(struct api_call *c, json_t *o, size_t i, const char *member, const char **out)
{
	json_t *v = json_object_get(o, member);
	const char *p;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	p = json_is_string(v) ? json_string_value(v) : "";
	if (!json_is_string(v) || json_string_length(v) > STR_MAX ||
	    strlen(p) != json_string_length(v)) {
		import_error(c, i, member, "%s must be a string of at most 4096 bytes", member);
		return -1;
	}
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			import_error(c, i, member, "%s has control characters", member);
			return -1;
		}
	*out = json_string_value(v);
	return 0;
}

/* User i of the request ({"name", "email"?, "display_name"?}) into in; -1 after answering. */
static int
import_user(struct api_call *c, json_t *o, size_t i, struct admin_user_in *in)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o)) {
		import_error(c, i, NULL, "each user is an object with name, email and "
		    "display_name");
		return -1;
	}
	json_object_foreach(o, k, v)
		if (strcmp(k, "name") && strcmp(k, "email") && strcmp(k, "display_name")) {
			import_error(c, i, k, "unknown member %.100s", k);
			return -1;
		}
	if (import_str(c, o, i, "name", &in->name) == -1 ||
	    import_str(c, o, i, "email", &in->email) == -1 ||
	    import_str(c, o, i, "display_name", &in->display_name) == -1)
		return -1;
	if (in->name == NULL) {
		import_error(c, i, "name", "name is required");
		return -1;
	}
	return 0;
}

/* The admin layer's refusal of user at, named by its index. */
static void
import_refused(struct api_call *c, size_t at)
{
	char field[64];

	snprintf(field, sizeof(field), "users[%zu]%s%.40s", at, c->adm.field ? "." : "",
	    c->adm.field ? c->adm.field : "");
	if (c->adm.field == NULL || strcmp(c->adm.field, "password"))
		c->adm.field = field;
	api_admin_error(c);
}

static void
users_import(struct api_call *c)
{
	static const char *const fields[] = { "users", "password", NULL };
	json_t *list = json_object_get(c->body, "users");
	struct admin_user_in *in;
	const char *password;
	size_t n = json_array_size(list), at;

	if (api_only_fields(c, fields) == -1 ||
	    api_get_str(c, "password", 0, STR_MAX, &password) == -1)
		return;
	if (!json_is_array(list) || n == 0 || n > IMPORT_MAX) {
		api_error(c, 400, "invalid_request", "users", "users is an array of 1 to %d users",
		    IMPORT_MAX);
		return;
	}
	in = xcalloc(n, sizeof(*in));
	for (at = 0; at < n && import_user(c, json_array_get(list, at), at, &in[at]) == 0; )
		at++;
	if (at < n)
		goto done;	/* answered */
	if (admin_user_import(&c->adm, in, n, password, &at) == -1)
		import_refused(c, at);
	else {
		api_audit_change(c, NULL, json_pack("{s:I}", "imported", (json_int_t)n));
		api_reply(c, 200, json_pack("{s:I}", "imported", (json_int_t)n));
	}
done:
	free(in);
}

static void
user_get(struct api_call *c)
{
	struct user u;
	json_t *rep = user_load(c, c->params[0], &u);

	if (rep == NULL)
		return;
	store_user_clear(&u);
	api_set_etag(c, rep);
	api_reply(c, 200, rep);
}

/* "on"/"off" for the boolean member field, or NULL when absent; -1 after answering. */
static int
get_switch(struct api_call *c, const char *field, const char **out)
{
	int v;

	*out = NULL;
	if (api_get_bool(c, field, -1, &v) == -1)
		return -1;
	if (v >= 0)
		*out = v ? "on" : "off";
	return 0;
}

struct user_patch {
	struct user_change ch;
	const char *name;	/* new name, or NULL */
	int disabled;		/* -1: unchanged */
	char *attrs;
	const char *role_name;	/* or NULL */
	uint64_t role;
};

/* The members of a PATCH of the user u: 0, or -1 after answering 400. */
static int
patch_members(struct api_call *c, const struct user *u, struct user_patch *p)
{
	static const char *const fields[] = { "name", "email", "display_name", "disabled",
		"break_glass", "must_change_password", "attributes", "role", NULL };

	memset(p, 0, sizeof(*p));
	if (api_only_fields(c, fields) == -1)
		return -1;
	if (json_is_null(json_object_get(c->body, "name"))) {
		api_error(c, 400, "invalid_request", "name", "a user's name cannot be cleared");
		return -1;
	}
	if (api_get_str(c, "name", 0, STORE_NAME_MAX, &p->name) == -1 ||
	    get_clearable(c, "email", &p->ch.email) == -1 ||
	    get_clearable(c, "display_name", &p->ch.display_name) == -1 ||
	    api_get_bool(c, "disabled", -1, &p->disabled) == -1 ||
	    get_switch(c, "break_glass", &p->ch.break_glass) == -1 ||
	    get_switch(c, "must_change_password", &p->ch.must_change) == -1 ||
	    api_get_str(c, "role", 0, 16, &p->role_name) == -1 ||
	    get_attrs(c, u->attrs, 1, &p->attrs) == -1)
		return -1;
	p->ch.attrs = p->attrs;
	return 0;
}

/* The PATCH's members read and checked before the first write: a bad one changes nothing. */
static int
patch_read(struct api_call *c, const struct user *u, struct user_patch *p)
{
	struct admin_user_in in = { 0 };

	if (patch_members(c, u, p) == -1)
		return -1;
	in.name = p->name ? p->name : u->name;
	in.email = p->ch.email && *p->ch.email ? p->ch.email : NULL;
	in.display_name = p->ch.display_name;
	in.attrs = p->attrs;
	if (p->role_name && admin_user_role(&c->adm, p->role_name, &p->role) == 0)
		p->ch.role = &p->role;
	if ((p->role_name && p->ch.role == NULL) || admin_user_check(&c->adm, &in) == -1) {
		api_admin_error(c);
		free(p->attrs);
		p->attrs = NULL;
		return -1;
	}
	return 0;
}

/* 1 when the user called name is not u (the new name is another user's), else 0. */
static int
name_taken(struct api_call *c, const struct user *u, const char *name)
{
	struct user o;
	int rc = store_user_get(c->idp->in.store, c->t->id, name, &o);

	rc = rc == 1 && strcmp(o.id, u->id) != 0;
	store_user_clear(&o);
	return rc;
}

static int
patch_apply(struct api_call *c, const struct user *u, const struct user_patch *p)
{
	const struct user_change *ch = &p->ch;

	if (p->name && name_taken(c, u, p->name))
		return admin_fail(&c->adm, ADMIN_CONFLICT, "name", "user %s already exists",
		    p->name);
	if ((ch->email || ch->display_name || ch->attrs || ch->break_glass || ch->must_change ||
	    ch->role) &&
	    admin_user_update(&c->adm, u->name, ch) == -1)
		return -1;
	if (p->disabled >= 0 && p->disabled != (u->disabled != 0) &&
	    admin_user_set_disabled(&c->adm, u->name, p->disabled) == -1)
		return -1;
	if (p->name && strcmp(p->name, u->name) &&
	    admin_user_rename(&c->adm, u->name, p->name) == -1)
		return -1;
	return 0;
}

static void
user_patch(struct api_call *c)
{
	struct user_patch p;
	struct user u;
	json_t *before = user_load(c, c->params[0], &u);

	if (before == NULL)
		return;
	if (api_if_match(c, before) == 0 && patch_read(c, &u, &p) == 0) {
		if (patch_apply(c, &u, &p) == -1)
			api_admin_error(c);
		else
			user_answer(c, p.name ? p.name : u.name, json_incref(before), 0);
		free(p.attrs);
	}
	json_decref(before);
	store_user_clear(&u);
}

static void
user_delete(struct api_call *c)
{
	struct user u;
	json_t *before = user_load(c, c->params[0], &u);

	if (before == NULL)
		return;
	if (api_if_match(c, before) == 0)
		api_deleted(c, json_incref(before), admin_user_remove(&c->adm, u.name));
	json_decref(before);
	store_user_clear(&u);
}

/* PUT users/{name}/password and POST users/{name}/unlock: 204 after the change. */
static void
user_action(struct api_call *c, int password)
{
	static const char *const pw_fields[] = { "password", NULL }, *const none[] = { NULL };
	const char *pw = NULL;
	struct user u;
	json_t *before = user_load(c, c->params[0], &u), *after;
	int rc;

	if (before == NULL)
		return;
	if (api_only_fields(c, password ? pw_fields : none) == 0 &&
	    (!password || api_get_str(c, "password", 1, STR_MAX, &pw) == 0)) {
		rc = password ? admin_user_set_password(&c->adm, u.name, pw) :
		    admin_user_unlock(&c->adm, u.name);
		store_user_clear(&u);
		if (rc == -1) {
			api_admin_error(c);
		} else if ((after = user_load(c, c->params[0], &u)) != NULL) {
			api_audit_change(c, json_incref(before), after);
			api_reply(c, 204, NULL);
		}
	}
	json_decref(before);
	store_user_clear(&u);
}

static void
user_password(struct api_call *c)
{
	user_action(c, 1);
}

static void
user_unlock(struct api_call *c)
{
	user_action(c, 0);
}

/* ---- groups ---- */

static json_t *
group_item(const struct grouprec *g)
{
	return json_pack("{s:s, s:s, s:o}", "id", g->id, "name", g->name, "created",
	    api_time(g->created));
}

/* The group called name as GET shows it (*g_r filled), or NULL after answering. */
static json_t *
group_load(struct api_call *c, const char *name, struct grouprec *g_r)
{
	int rc = store_group_get(c->idp->in.store, c->t->id, name, g_r);
	char **names = NULL;
	size_t n = 0;
	json_t *j;

	if (rc != 1) {
		store_group_clear(g_r);
		if (rc == 0)
			api_not_found(c, "group");
		else
			api_error(c, 500, "internal", NULL, "the group could not be read");
		return NULL;
	}
	if (store_group_members(c->idp->in.store, c->t->id, g_r->name, &names) == 1)
		while (names[n])
			n++;
	store_strv_free(names);
	j = group_item(g_r);
	json_object_set_new(j, "member_count", json_integer((json_int_t)n));
	return j;
}

static void
group_answer(struct api_call *c, const char *name, json_t *before, int created)
{
	struct grouprec g;
	json_t *rep = group_load(c, name, &g);

	if (rep == NULL)
		json_decref(before);
	else
		answer(c, before, rep, "groups", g.name, created);
	store_group_clear(&g);
}

static void
group_list_one(const void *rec, void *arg)
{
	const struct grouprec *g = rec;
	struct api_page *pg = arg;

	if (pg->after == NULL || strcmp(g->name, pg->after) > 0)
		api_page_add(pg, g->name, group_item(g));
}

static void
groups_list(struct api_call *c)
{
	struct api_page pg;

	if (api_page_init(c, &pg) == -1)
		return;
	if (store_group_list(c->idp->in.store, c->t->id, group_list_one, &pg) < 0) {
		api_page_reply(c, &pg);
		api_error(c, 500, "internal", NULL, "the groups could not be listed");
		return;
	}
	api_page_reply(c, &pg);
}

static void
groups_create(struct api_call *c)
{
	static const char *const fields[] = { "name", NULL };
	const char *name;

	if (api_only_fields(c, fields) == -1 ||
	    api_get_str(c, "name", 1, STORE_NAME_MAX, &name) == -1)
		return;
	if (admin_group_add(&c->adm, name, NULL) == -1)
		api_admin_error(c);
	else
		group_answer(c, name, NULL, 1);
}

static void
group_get(struct api_call *c)
{
	struct grouprec g;
	json_t *rep = group_load(c, c->params[0], &g);

	if (rep == NULL)
		return;
	store_group_clear(&g);
	api_set_etag(c, rep);
	api_reply(c, 200, rep);
}

static void
group_patch(struct api_call *c)
{
	static const char *const fields[] = { "name", NULL };
	const char *name = NULL;
	struct grouprec g;
	json_t *before = group_load(c, c->params[0], &g);

	if (before == NULL)
		return;
	if (api_if_match(c, before) == 0 && api_only_fields(c, fields) == 0 &&
	    api_get_str(c, "name", 1, STORE_NAME_MAX, &name) == 0) {
		if (strcmp(name, g.name) && admin_group_rename(&c->adm, g.name, name) == -1)
			api_admin_error(c);
		else
			group_answer(c, name, json_incref(before), 0);
	}
	json_decref(before);
	store_group_clear(&g);
}

static void
group_delete(struct api_call *c)
{
	struct grouprec g;
	json_t *before = group_load(c, c->params[0], &g);

	if (before == NULL)
		return;
	if (api_if_match(c, before) == 0)
		api_deleted(c, json_incref(before), admin_group_remove(&c->adm, g.name));
	json_decref(before);
	store_group_clear(&g);
}

/* ---- members ---- */

static void
members_list(struct api_call *c)
{
	struct api_page pg;
	char **names = NULL;
	int rc = store_group_members(c->idp->in.store, c->t->id, c->params[0], &names);

	if (rc != 1) {
		store_strv_free(names);
		if (rc == 0)
			api_not_found(c, "group");
		else
			api_error(c, 500, "internal", NULL, "the members could not be listed");
		return;
	}
	if (api_page_init(c, &pg) == 0) {
		for (char **p = names; *p; p++)
			if (pg.after == NULL || strcmp(*p, pg.after) > 0)
				api_page_add(&pg, *p, json_string(*p));
		api_page_reply(c, &pg);
	}
	store_strv_free(names);
}

/* The membership as the audit record shows it. */
static json_t *
membership(const char *group, const char *user, int member)
{
	return json_pack("{s:s, s:s, s:b}", "group", group, "user", user, "member", member);
}

/* PUT and DELETE groups/{name}/members/{user}: 204 whether or not it was so already. */
static void
member_change(struct api_call *c, int add)
{
	static const char *const none[] = { NULL };
	const char *g = c->params[0], *u = c->params[1];

	if (api_only_fields(c, none) == -1)
		return;
	if ((add ? admin_member_add(&c->adm, g, u) : admin_member_remove(&c->adm, g, u)) == -1) {
		api_admin_error(c);
		return;
	}
	api_audit_change(c, membership(g, u, !add), membership(g, u, add));
	api_reply(c, 204, NULL);
}

static void
member_put(struct api_call *c)
{
	member_change(c, 1);
}

static void
member_delete(struct api_call *c)
{
	member_change(c, 0);
}

#define R APIKEY_SCOPE_READ
#define W APIKEY_SCOPE_WRITE

const struct api_route api_user_routes[] = {
	{ "GET", "users", R, users_list },
	{ "POST", "users", W, users_create },
	{ "POST", "users/import", W, users_import },
	{ "GET", "users/{name}", R, user_get },
	{ "PATCH", "users/{name}", W, user_patch },
	{ "DELETE", "users/{name}", W, user_delete },
	{ "PUT", "users/{name}/password", W, user_password },
	{ "POST", "users/{name}/unlock", W, user_unlock },
	{ "GET", "groups", R, groups_list },
	{ "POST", "groups", W, groups_create },
	{ "GET", "groups/{name}", R, group_get },
	{ "PATCH", "groups/{name}", W, group_patch },
	{ "DELETE", "groups/{name}", W, group_delete },
	{ "GET", "groups/{name}/members", R, members_list },
	{ "PUT", "groups/{name}/members/{user}", W, member_put },
	{ "DELETE", "groups/{name}/members/{user}", W, member_delete },
	{ NULL, NULL, 0, NULL }
};
