/*
 * SCIM Groups: a tenant's groups as RFC 7643 Group resources (id = the group's immutable
 * id, displayName = its name, members = its users by their ids).  PUT and PATCH end in
 * the same writes: a rename, then the members added and removed.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin_user.h"
#include "http.h"
#include "scim.h"
#include "xmalloc.h"

#define MEMBERS_MAX 100000	/* members in one request */

static struct store *
store_of(const struct api_call *c)
{
	return c->idp->in.store;
}

/* ---- representation ---- */

static void
add_members(const struct api_call *c, json_t *rep, const char *group)
{
	char **names = NULL;
	json_t *members = json_array();
	struct user u;

	if (store_group_members(store_of(c), c->t->id, group, &names) >= 0) {
		for (size_t i = 0; names && names[i]; i++) {
			char *loc;

			if (store_user_get(store_of(c), c->t->id, names[i], &u) != 1)
				continue;
			loc = scim_location(c, "Users", u.id);
			json_array_append_new(members, json_pack("{s:s, s:s, s:s, s:s}", "value",
			    u.id, "$ref", loc, "display", u.name, "type", "User"));
			free(loc);
			store_user_clear(&u);
		}
	}
	store_strv_free(names);
	json_object_set_new(rep, "members", members);
}

/* The Group g as SCIM shows it (members when with_members), meta included. */
static json_t *
group_rep(const struct api_call *c, const struct grouprec *g, int with_members)
{
	json_t *rep = json_pack("{s:[s], s:s, s:s}", "schemas", SCIM_URN_GROUP, "id", g->id,
	    "displayName", g->name);

	if (with_members)
		add_members(c, rep, g->name);
	scim_meta(c, rep, "Group", "Groups", g->id, g->created, g->created, with_members);
	return rep;
}

/* ---- what a representation asks for ---- */

/*
 * The users members names, by their ids, as a sorted JSON array of names: 0, or -1 with
 * e (400 invalidValue naming the first id that is no user of the tenant).
 */
static int
member_names(const struct api_call *c, const json_t *members, json_t **names_r,
    struct scim_err *e)
{
	json_t *x, *names = json_array(), *one = NULL;
	struct user u;
	const char *id;
	size_t i;

	*names_r = NULL;
	if (json_is_object(members))	/* a single value where a list belongs */
		members = one = json_pack("[O]", members);
	if (members && !json_is_null(members) && !json_is_array(members))
		goto bad_list;
	if (json_array_size(members) > MEMBERS_MAX)
		goto bad_list;
	json_array_foreach(members, i, x) {
		id = json_string_value(scim_get(x, "value"));
		if (!id) {
			scim_fail(e, 400, "invalidValue", "each of members has a value (a User's id)");
			goto fail;
		}
		if (store_user_get_by_id(store_of(c), c->t->id, id, &u) != 1) {
			scim_fail(e, 400, "invalidValue", "members: no User %.64s", id);
			goto fail;
		}
		json_array_append_new(names, json_string(u.name));
		store_user_clear(&u);
	}
	json_decref(one);
	*names_r = names;
	return 0;
bad_list:
	scim_fail(e, 400, "invalidValue", "members is a list of at most %d", MEMBERS_MAX);
fail:
	json_decref(one);
	json_decref(names);
	return -1;
}

/* displayName and the members' names from a Group representation. */
static int
parse_group(const struct api_call *c, const json_t *rep, const char **name_r,
    json_t **members_r, struct scim_err *e)
{
	*members_r = NULL;
	if (!json_is_object(rep))
		return scim_fail(e, 400, "invalidSyntax", "a Group is a JSON object");
	if (scim_str(rep, "displayName", name_r, e) < 0)
		return -1;
	if (!*name_r)
		return scim_fail(e, 400, "invalidValue", "displayName is required");
	if (!store_valid_name(*name_r, STORE_NAME_MAX))
		return scim_fail(e, 400, "invalidValue", "displayName %.64s is not a valid group "
		    "name: 1-128 characters of A-Z a-z 0-9 . _ @ + -", *name_r);
	return member_names(c, scim_get(rep, "members"), members_r, e);
}

static int
has_name(const json_t *names, const char *name)
{
	size_t i;
	json_t *x;

	json_array_foreach(names, i, x)
		if (strcasecmp(json_string_value(x), name) == 0)
			return 1;
	return 0;
}

/* Add the users in want that have is lacks (or with remove, take out those of have not in want). */
static int
sync_members(struct api_call *c, const char *group, const json_t *have, const json_t *want,
    int remove)
{
	const json_t *from = remove ? have : want, *other = remove ? want : have;
	size_t i;
	json_t *x;

	json_array_foreach(from, i, x) {
		const char *user = json_string_value(x);

		if (has_name(other, user))
			continue;
		if ((remove ? admin_member_remove(&c->adm, group, user) :
		    admin_member_add(&c->adm, group, user)) < 0)
			return -1;
	}
	return 0;
}

/* ---- the handlers ---- */

static int
get_group(const struct api_call *c, const char *id, int heavy, json_t **rep_r)
{
	struct grouprec g;
	int rc = store_group_get_by_id(store_of(c), c->t->id, id, &g);

	if (rc == 1)
		*rep_r = group_rep(c, &g, heavy);
	store_group_clear(&g);
	return rc;
}

static void
collect_id(const void *rec, void *arg)
{
	json_array_append_new(arg, json_string(((const struct grouprec *)rec)->id));
}

static int
group_ids(const struct api_call *c, const char *name, json_t *ids)
{
	struct grouprec g = { 0 };	/* cleared below also when no name was looked up */
	int rc;

	rc = name ? store_group_get(store_of(c), c->t->id, name, &g) : 0;
	if (rc == 1)
		json_array_append_new(ids, json_string(g.id));
	store_group_clear(&g);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	/* group names keep their case in the store, a filter's displayName does not */
	return store_group_list(store_of(c), c->t->id, collect_id, ids) < 0 ? -1 : 0;
}

static int
remove_group(struct api_call *c, const json_t *cur)
{
	return admin_group_remove(&c->adm, json_string_value(scim_get(cur, "displayName")));
}

static void
create_group(struct api_call *c)
{
	const char *name;
	json_t *members = NULL, *none = json_array();
	struct scim_err e;
	char *id = NULL;

	if (parse_group(c, c->body, &name, &members, &e) < 0)
		scim_error(c, &e);
	else if (admin_group_add(&c->adm, name, &id) < 0 ||
	    sync_members(c, name, none, members, 0) < 0)
		scim_admin_error(c);
	else
		scim_answer(c, &scim_group_kind, 201, id, NULL);
	free(id);
	json_decref(members);
	json_decref(none);
}

/* The names of g's members now, as a JSON array. */
static json_t *
current_members(struct api_call *c, const char *group)
{
	char **names = NULL;
	json_t *a = json_array();

	if (store_group_members(store_of(c), c->t->id, group, &names) >= 0)
		for (size_t i = 0; names && names[i]; i++)
			json_array_append_new(a, json_string(names[i]));
	store_strv_free(names);
	return a;
}

static int
check_rename(struct api_call *c, const struct grouprec *g, const char *name)
{
	struct grouprec o;
	int taken = 0;

	if (strcasecmp(name, g->name) != 0 &&
	    store_group_get(store_of(c), c->t->id, name, &o) == 1) {
		taken = strcmp(o.id, g->id) != 0;
		store_group_clear(&o);
	}
	if (taken)
		scim_errorf(c, 409, "uniqueness", "displayName %s is taken", name);
	return taken ? -1 : 0;
}

/* The writes that make g what want says (checked first). */
static int
write_group(struct api_call *c, const struct grouprec *g, const json_t *want)
{
	const char *name;
	json_t *members = NULL, *have = NULL;
	struct scim_err e;
	int rc = -1;

	if (parse_group(c, want, &name, &members, &e) < 0) {
		scim_error(c, &e);
		return -1;
	}
	if (check_rename(c, g, name) < 0)
		goto done;
	if (strcmp(name, g->name) != 0 && admin_group_rename(&c->adm, g->name, name) < 0)
		goto fail;
	have = current_members(c, name);
	if (sync_members(c, name, have, members, 0) < 0 ||
	    sync_members(c, name, have, members, 1) < 0)
		goto fail;
	rc = 0;
	goto done;
fail:
	scim_admin_error(c);
done:
	json_decref(members);
	json_decref(have);
	return rc;
}

/* Make group id what want says (PUT's body, or the representation after PATCH). */
static void
update_group(struct api_call *c, const char *id, json_t *before, const json_t *want)
{
	struct grouprec g;
	int rc = store_group_get_by_id(store_of(c), c->t->id, id, &g);

	if (rc != 1)
		scim_errorf(c, rc == 0 ? 404 : 500, NULL, "no Group %.64s", id);
	else if (write_group(c, &g, want) == 0)
		scim_answer(c, &scim_group_kind, 200, id, json_incref(before));
	json_decref(before);
	store_group_clear(&g);
}

const struct scim_kind scim_group_kind = {
	"Groups", "Group", "displayName", "members",
	get_group, group_ids, create_group, update_group, remove_group
};
