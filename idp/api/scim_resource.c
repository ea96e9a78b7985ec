/*
 * What SCIM's Users and Groups do alike: one resource read, replaced, patched (PATCH
 * applies to the representation, then writes as PUT) or deleted, each write checked
 * against If-Match and audited before and after; and lists filtered and paged, with the
 * costly attribute (a user's groups, a group's members) looked up only where needed.
 */
#include "config.h"

#include <string.h>

#include "scim.h"

/* 1 with *rep_r, or 0/-1 after answering 404/500. */
static int
load(struct api_call *c, const struct scim_kind *k, const char *id, int heavy, json_t **rep_r)
{
	int rc = k->get(c, id, heavy, rep_r);

	if (rc == 0)
		scim_errorf(c, 404, NULL, "no %s %.64s", k->type, id);
	else if (rc < 0)
		scim_errorf(c, 500, NULL, "storage error");
	return rc;
}

void
scim_answer(struct api_call *c, const struct scim_kind *k, int status, const char *id,
    json_t *before)
{
	json_t *rep;

	if (load(c, k, id, 1, &rep) != 1) {
		json_decref(before);
		return;
	}
	api_audit_change(c, before, json_deep_copy(rep));
	scim_send(c, status, rep);
}

static void
remove_one(struct api_call *c, const struct scim_kind *k, json_t *cur)
{
	if (k->remove(c, cur) < 0) {
		json_decref(cur);
		scim_admin_error(c);
		return;
	}
	api_audit_change(c, cur, NULL);
	scim_reply(c, 204, NULL);
}

static void
one(struct api_call *c, const struct scim_kind *k, const char *method, const char *id)
{
	int get = strcmp(method, "GET") == 0;
	json_t *cur, *want;
	struct scim_err e;

	if (load(c, k, id, !get || scim_returned(c, k->heavy), &cur) != 1)
		return;
	if (get) {
		scim_send(c, 200, cur);
	} else if (scim_if_match(c, cur) < 0) {
		json_decref(cur);
	} else if (strcmp(method, "DELETE") == 0) {
		remove_one(c, k, cur);
	} else if (strcmp(method, "PUT") == 0) {
		k->update(c, id, cur, c->body);
	} else if (scim_patch_apply((want = json_deep_copy(cur)), c->body, &e) < 0) {
		json_decref(want);
		json_decref(cur);
		scim_error(c, &e);
	} else {
		k->update(c, id, cur, want);
		json_decref(want);
	}
}

/* Offer resource id to the list; its costly attribute is looked up only when needed. */
static void
offer(struct api_call *c, const struct scim_kind *k, struct scim_list *l, const char *id,
    int heavy)
{
	json_t *rep;

	if (k->get(c, id, heavy, &rep) != 1)
		return;	/* removed meanwhile */
	if (!scim_list_take(l, rep)) {
		json_decref(rep);
		return;
	}
	if (!heavy && scim_returned(c, k->heavy)) {
		json_decref(rep);
		if (k->get(c, id, 1, &rep) != 1)
			return;
	}
	scim_list_add(c, l, rep);
}

static void
list(struct api_call *c, const struct scim_kind *k)
{
	struct scim_list l;
	json_t *ids, *x;
	size_t i;

	if (scim_list_init(c, &l) < 0)
		return;
	ids = json_array();
	/* Entra and Okta look one up by its name before creating it: no scan for that */
	if (k->ids(c, scim_filter_eq(l.filter, k->key), ids) < 0) {
		json_decref(ids);
		scim_list_free(&l);
		scim_errorf(c, 500, NULL, "storage error");
		return;
	}
	json_array_foreach(ids, i, x)
		offer(c, k, &l, json_string_value(x), scim_filter_uses(l.filter, k->heavy));
	json_decref(ids);
	scim_list_reply(c, &l);
}

void
scim_resource(struct api_call *c, const struct scim_kind *k, const char *method,
    const char *id)
{
	if (id)
		one(c, k, method, id);
	else if (strcmp(method, "GET") == 0)
		list(c, k);
	else
		k->create(c);
}
