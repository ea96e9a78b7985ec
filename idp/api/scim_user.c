/*
 * SCIM Users: a tenant's users as RFC 7643 User resources (id = the user's immutable id,
 * userName = its name, emails = its e-mail, active = not disabled; externalId, name's
 * parts and the enterprise extension's employeeNumber and department as user attributes).
 * PATCH applies to the representation and then writes what changed, as PUT does.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin_user.h"
#include "http.h"
#include "scim.h"
#include "xmalloc.h"

/* The user attributes SCIM attributes are kept in. */
enum { A_EXTERNAL, A_GIVEN, A_FAMILY, A_EMPNO, A_DEPT, A_N };
static const char *const attr_keys[A_N] = {
	"externalId", "givenName", "familyName", "employeeNumber", "department"
};

/* What a User representation asks for (strings borrowed from its JSON). */
struct user_in {
	const char *user_name, *display, *email, *password;
	const char *attr[A_N];
	int active;		/* 1, 0, or -1 when not given */
};

static struct store *
store_of(const struct api_call *c)
{
	return c->idp->in.store;
}

/* ---- representation ---- */

static void
add_groups(const struct api_call *c, json_t *rep, const char *user_id)
{
	char **names = NULL, **ids = NULL;
	json_t *groups = json_array();

	if (store_user_groups(store_of(c), c->t->id, user_id, &names) >= 0 &&
	    store_user_group_ids(store_of(c), c->t->id, user_id, &ids) >= 0) {
		for (size_t i = 0; names && ids && names[i] && ids[i]; i++) {
			char *loc = scim_location(c, "Groups", ids[i]);

			json_array_append_new(groups, json_pack("{s:s, s:s, s:s}", "value",
			    ids[i], "$ref", loc, "display", names[i]));
			free(loc);
		}
	}
	store_strv_free(names);
	store_strv_free(ids);
	json_object_set_new(rep, "groups", groups);
}

/* Set name in o to the attribute key of u's attributes, when it has one. */
static int
set_from_attr(json_t *o, const char *name, const struct user *u, const char *key)
{
	char *v = admin_attrs_get(u->attrs, key);

	if (!v)
		return 0;
	json_object_set_new(o, name, json_string(v));
	free(v);
	return 1;
}

/* The User u as SCIM shows it (with its groups when with_groups), meta included. */
static json_t *
user_rep(const struct api_call *c, const struct user *u, int with_groups)
{
	json_t *rep = json_pack("{s:[s], s:s}", "schemas", SCIM_URN_USER, "id", u->id);
	json_t *name = json_object(), *ext = json_object();

	set_from_attr(rep, "externalId", u, attr_keys[A_EXTERNAL]);
	json_object_set_new(rep, "userName", json_string(u->name));
	set_from_attr(name, "givenName", u, attr_keys[A_GIVEN]);
	set_from_attr(name, "familyName", u, attr_keys[A_FAMILY]);
	if (json_object_size(name))
		json_object_set(rep, "name", name);
	if (u->display_name && *u->display_name)
		json_object_set_new(rep, "displayName", json_string(u->display_name));
	if (u->email && *u->email)
		json_object_set_new(rep, "emails", json_pack("[{s:s, s:s, s:b}]", "value",
		    u->email, "type", "work", "primary", 1));
	json_object_set_new(rep, "active", json_boolean(!u->disabled));
	if (with_groups)
		add_groups(c, rep, u->id);
	set_from_attr(ext, "employeeNumber", u, attr_keys[A_EMPNO]);
	set_from_attr(ext, "department", u, attr_keys[A_DEPT]);
	if (json_object_size(ext)) {
		json_array_append_new(json_object_get(rep, "schemas"),
		    json_string(SCIM_URN_ENTERPRISE));
		json_object_set(rep, SCIM_URN_ENTERPRISE, ext);
	}
	json_decref(name);
	json_decref(ext);
	scim_meta(c, rep, "User", "Users", u->id, u->created, u->pw_changed, with_groups);
	return rep;
}

/* ---- what a representation asks for ---- */

static int
parse_active(const json_t *rep, int *active_r, struct scim_err *e)
{
	json_t *v = scim_get(rep, "active");
	const char *s = json_string_value(v);

	*active_r = -1;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_boolean(v))
		*active_r = json_is_true(v);
	else if (s && strcasecmp(s, "true") == 0)	/* Entra sends "True" and "False" */
		*active_r = 1;
	else if (s && strcasecmp(s, "false") == 0)
		*active_r = 0;
	else
		return scim_fail(e, 400, "invalidValue", "active is true or false");
	return 0;
}

static int
is_true(const json_t *v)
{
	return json_is_true(v) || (json_is_string(v) &&
	    strcasecmp(json_string_value(v), "true") == 0);
}

/* The address to keep: the primary one, else the work one, else the first. */
static int
parse_email(const json_t *rep, const char **email_r, struct scim_err *e)
{
	json_t *emails = scim_get(rep, "emails"), *x, *work = NULL, *first = NULL;
	const char *s;
	size_t i;

	*email_r = NULL;
	if (!emails || json_is_null(emails))
		return 0;
	if (!json_is_array(emails))
		return scim_fail(e, 400, "invalidValue", "emails is a list");
	json_array_foreach(emails, i, x) {
		if (!json_is_object(x) || !json_is_string(scim_get(x, "value")))
			return scim_fail(e, 400, "invalidValue", "each of emails has a value");
		if (is_true(scim_get(x, "primary"))) {
			work = first = x;
			break;
		}
		s = json_string_value(scim_get(x, "type"));
		if (!work && s && strcasecmp(s, "work") == 0)
			work = x;
		if (!first)
			first = x;
	}
	s = json_string_value(scim_get(work ? work : first, "value"));
	if (s && *s && !admin_valid_email(s))
		return scim_fail(e, 400, "invalidValue", "emails: %.254s is not an e-mail address",
		    s);
	*email_r = s && *s ? s : NULL;
	return 0;
}

/* A complex attribute: an object, or absent. */
static int
complex_attr(const json_t *rep, const char *name, json_t **o_r, struct scim_err *e)
{
	*o_r = scim_get(rep, name);
	if (*o_r && !json_is_null(*o_r) && !json_is_object(*o_r))
		return scim_fail(e, 400, "invalidValue", "%s is an object", name);
	return 0;
}

static int
parse_user(const json_t *rep, struct user_in *in, struct scim_err *e)
{
	json_t *name, *ext;

	memset(in, 0, sizeof(*in));
	if (!json_is_object(rep))
		return scim_fail(e, 400, "invalidSyntax", "a User is a JSON object");
	if (scim_str(rep, "userName", &in->user_name, e) < 0 ||
	    scim_str(rep, "externalId", &in->attr[A_EXTERNAL], e) < 0 ||
	    scim_str(rep, "displayName", &in->display, e) < 0 ||
	    scim_str(rep, "password", &in->password, e) < 0 ||
	    complex_attr(rep, "name", &name, e) < 0 ||
	    scim_str(name, "givenName", &in->attr[A_GIVEN], e) < 0 ||
	    scim_str(name, "familyName", &in->attr[A_FAMILY], e) < 0 ||
	    complex_attr(rep, SCIM_URN_ENTERPRISE, &ext, e) < 0 ||
	    scim_str(ext, "employeeNumber", &in->attr[A_EMPNO], e) < 0 ||
	    scim_str(ext, "department", &in->attr[A_DEPT], e) < 0 ||
	    parse_active(rep, &in->active, e) < 0 || parse_email(rep, &in->email, e) < 0)
		return -1;
	if (!in->user_name)
		return scim_fail(e, 400, "invalidValue", "userName is required");
	if (!store_valid_name(in->user_name, STORE_NAME_MAX))
		return scim_fail(e, 400, "invalidValue", "userName %.64s is not a valid name: "
		    "1-128 characters of A-Z a-z 0-9 . _ @ + -", in->user_name);
	return 0;
}

/* cur's attributes with the SCIM ones as in asks (new string), or NULL after admin_fail. */
static char *
build_attrs(struct admin *a, const char *cur, const struct user_in *in)
{
	char *attrs = xstrdup(cur ? cur : ""), *next;

	for (size_t i = 0; i < A_N && attrs; i++) {
		const char *v = in->attr[i] && *in->attr[i] ? in->attr[i] : NULL;

		next = admin_attrs_set(a, attrs, attr_keys[i], v);
		free(attrs);
		attrs = next;
	}
	return attrs;
}

/* ---- the handlers ---- */

static int
get_user(const struct api_call *c, const char *id, int heavy, json_t **rep_r)
{
	struct user u;
	int rc = store_user_get_by_id(store_of(c), c->t->id, id, &u);

	if (rc == 1)
		*rep_r = user_rep(c, &u, heavy);
	store_user_clear(&u);
	return rc;
}

static void
collect_id(const void *rec, void *arg)
{
	json_array_append_new(arg, json_string(((const struct user *)rec)->id));
}

static int
user_ids(const struct api_call *c, const char *name, json_t *ids)
{
	struct user u;
	int rc;

	if (!name)
		return store_user_list(store_of(c), c->t->id, collect_id, ids) < 0 ? -1 : 0;
	if ((rc = store_user_get(store_of(c), c->t->id, name, &u)) == 1)
		json_array_append_new(ids, json_string(u.id));
	store_user_clear(&u);
	return rc < 0 ? -1 : 0;
}

static int
remove_user(struct api_call *c, const json_t *cur)
{
	return admin_user_remove(&c->adm, json_string_value(scim_get(cur, "userName")));
}

static void
create_user(struct api_call *c)
{
	struct admin_user_in ai = { 0 };
	struct user_in in;
	struct scim_err e;
	char *attrs, *id = NULL;

	if (parse_user(c->body, &in, &e) < 0) {
		scim_error(c, &e);
		return;
	}
	if (!(attrs = build_attrs(&c->adm, NULL, &in))) {
		scim_admin_error(c);
		return;
	}
	ai.name = in.user_name;
	ai.email = in.email;
	ai.display_name = in.display;
	ai.password = in.password;
	ai.attrs = attrs;
	ai.disabled = in.active == 0;
	if (admin_user_add_via(&c->adm, &ai, "scim", &id) < 0)
		scim_admin_error(c);
	else
		scim_answer(c, &scim_user_kind, 201, id, NULL);
	free(attrs);
	free(id);
}

static int
differs(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") != 0;
}

/* Refuse a userName or e-mail address another user has, before anything is written. */
static int
check_unique(struct api_call *c, const struct user *u, const struct user_in *in)
{
	struct user o;
	int taken = 0;

	if (strcasecmp(in->user_name, u->name) != 0 &&
	    store_user_get(store_of(c), c->t->id, in->user_name, &o) == 1) {
		taken = strcmp(o.id, u->id) != 0;
		store_user_clear(&o);
		if (taken) {
			scim_errorf(c, 409, "uniqueness", "userName %s is taken", in->user_name);
			return -1;
		}
	}
	if (in->email && (!u->email || strcasecmp(in->email, u->email) != 0) &&
	    store_user_get_by_email(store_of(c), c->t->id, in->email, &o) == 1) {
		taken = strcmp(o.id, u->id) != 0;
		store_user_clear(&o);
	}
	if (taken)
		scim_errorf(c, 409, "uniqueness", "another user has the e-mail address %s",
		    in->email);
	return taken ? -1 : 0;
}

/* The writes that make u what in asks (checked before: they fail only on storage errors). */
static int
write_user(struct api_call *c, const struct user *u, const struct user_in *in, const char *attrs)
{
	struct user_change ch = { 0 };

	if (differs(in->email, u->email))
		ch.email = in->email ? in->email : "";
	if (differs(in->display, u->display_name))
		ch.display_name = in->display ? in->display : "";
	if (differs(attrs, u->attrs))
		ch.attrs = attrs;
	if ((ch.email || ch.display_name || ch.attrs) &&
	    admin_user_update(&c->adm, u->name, &ch) < 0)
		return -1;
	if (strcmp(in->user_name, u->name) != 0 &&
	    admin_user_rename(&c->adm, u->name, in->user_name) < 0)
		return -1;
	/* disabling ends the user's sessions and refresh tokens (store_user_set_disabled) */
	if (in->active >= 0 && in->active == (u->disabled != 0) &&
	    admin_user_set_disabled(&c->adm, in->user_name, !in->active) < 0)
		return -1;
	return 0;
}

/* Make user id what want says (PUT's body, or the representation after PATCH). */
static void
update_user(struct api_call *c, const char *id, json_t *before, const json_t *want)
{
	struct user u;
	struct user_in in;
	struct scim_err e;
	char *attrs = NULL;
	int rc = store_user_get_by_id(store_of(c), c->t->id, id, &u);

	if (rc != 1) {
		scim_errorf(c, rc == 0 ? 404 : 500, NULL, "no User %.64s", id);
	} else if (parse_user(want, &in, &e) < 0) {
		scim_error(c, &e);
	} else if (in.password) {
		scim_errorf(c, 400, "mutability", "password is set on creation only "
		    "(changePassword is not supported)");
	} else if (!(attrs = build_attrs(&c->adm, u.attrs, &in))) {
		scim_admin_error(c);
	} else if (check_unique(c, &u, &in) == 0) {
		if (write_user(c, &u, &in, attrs) < 0)
			scim_admin_error(c);
		else
			scim_answer(c, &scim_user_kind, 200, id, json_incref(before));
	}
	json_decref(before);
	free(attrs);
	store_user_clear(&u);
}

const struct scim_kind scim_user_kind = {
	"Users", "User", "userName", "groups",
	get_user, user_ids, create_user, update_user, remove_user
};
