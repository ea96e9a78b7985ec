/*
 * SCIM PATCH on a resource's JSON: add merges (appends to multi-valued attributes,
 * skipping values already there), replace overwrites (merging sub-attributes of a complex
 * value), remove deletes, each at the resource, an attribute, a sub-attribute, or the
 * values a filter selects.  What the result means is the resource module's business.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scim_patch.h"
#include "xmalloc.h"

enum pop { P_ADD, P_REPLACE, P_REMOVE };

static const char *const read_only[] = { "id", "meta", "groups", NULL };

static int apply(json_t *res, enum pop op, const struct scim_path *p, json_t *value,
    struct scim_err *e);

static void
set_attr(json_t *o, const char *name, json_t *v)
{
	const char *k = scim_key(o, name);
	char *key = xstrdup(k ? k : name);

	json_object_set(o, key, v);
	free(key);
}

static void
del_attr(json_t *o, const char *name)
{
	const char *k = scim_key(o, name);
	char *key;

	if (!k)
		return;
	key = xstrdup(k);
	json_object_del(o, key);
	free(key);
}

static void
merge(json_t *dst, const json_t *src)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)src, k, v)
		set_attr(dst, k, v);
}

/* Two values of a multi-valued attribute that stand for the same thing ("value" of both). */
static int
same_value(const json_t *a, const json_t *b)
{
	const json_t *va = scim_get(a, "value"), *vb = scim_get(b, "value");

	if (json_is_string(va) && json_is_string(vb))
		return strcmp(json_string_value(va), json_string_value(vb)) == 0;
	return json_equal((json_t *)a, (json_t *)b);
}

static int
has_value(const json_t *arr, const json_t *v)
{
	size_t i;
	json_t *x;

	json_array_foreach(arr, i, x)
		if (same_value(x, v))
			return 1;
	return 0;
}

/* A value or an array of values, as an array (new reference). */
static json_t *
as_array(json_t *v)
{
	json_t *a;

	if (json_is_array(v))
		return json_incref(v);
	a = json_array();
	if (v && !json_is_null(v))
		json_array_append(a, v);
	return a;
}

/* The object holding p's attribute: the resource, or its extension's (made when create). */
static json_t *
container(json_t *res, const struct scim_path *p, int create)
{
	json_t *c = p->urn ? scim_get(res, p->urn) : res, *schemas;

	if (json_is_object(c) || !p->urn || !create)
		return json_is_object(c) ? c : NULL;
	c = json_object();
	set_attr(res, p->urn, c);
	json_decref(c);
	schemas = scim_get(res, "schemas");
	if (json_is_array(schemas))
		json_array_append_new(schemas, json_string(p->urn));
	return c;
}

/* Whole attribute: attr. */
static int
apply_whole(json_t *c, enum pop op, const struct scim_path *p, json_t *value)
{
	json_t *cur = scim_get(c, p->attr), *vals, *x, *keep;
	size_t i;

	if (op == P_REMOVE && value && json_is_array(cur)) {
		vals = as_array(value);
		keep = json_array();
		json_array_foreach(cur, i, x)
			if (!has_value(vals, x))
				json_array_append(keep, x);
		set_attr(c, p->attr, keep);
		json_decref(keep);
		json_decref(vals);
	} else if (op == P_REMOVE) {
		del_attr(c, p->attr);
	} else if (op == P_ADD && json_is_array(cur)) {
		vals = as_array(value);
		json_array_foreach(vals, i, x)
			if (!has_value(cur, x))
				json_array_append(cur, x);
		json_decref(vals);
	} else if (json_is_object(cur) && json_is_object(value)) {
		merge(cur, value);
	} else {
		set_attr(c, p->attr, value);
	}
	return 0;
}

/* Sub-attribute of a complex attribute (of each value when it is multi-valued): name.givenName. */
static int
apply_sub(json_t *c, enum pop op, const struct scim_path *p, json_t *value, struct scim_err *e)
{
	json_t *cur = scim_get(c, p->attr), *x;
	size_t i;

	if ((!cur || json_is_null(cur)) && op != P_REMOVE) {
		cur = json_object();
		set_attr(c, p->attr, cur);
		json_decref(cur);
	}
	if (json_is_array(cur)) {
		json_array_foreach(cur, i, x)
			if (json_is_object(x))
				op == P_REMOVE ? del_attr(x, p->sub) : set_attr(x, p->sub, value);
		return 0;
	}
	if (!json_is_object(cur)) {
		if (op == P_REMOVE)
			return 0;
		return scim_fail(e, 400, "invalidPath", "%s has no sub-attributes", p->attr);
	}
	op == P_REMOVE ? del_attr(cur, p->sub) : set_attr(cur, p->sub, value);
	return 0;
}

/* Change one selected value x (add merges, replace overwrites, at the sub-attribute if any). */
static void
change_value(json_t *arr, size_t i, enum pop op, const struct scim_path *p, json_t *value)
{
	json_t *x = json_array_get(arr, i);

	if (p->sub)
		set_attr(x, p->sub, value);
	else if (op == P_ADD)
		merge(x, value);
	else
		json_array_set(arr, i, value);
}

/* Values a filter selects: emails[type eq "work"].value, members[value eq "ID"]. */
static int
apply_filtered(json_t *c, enum pop op, const struct scim_path *p, json_t *value,
    struct scim_err *e)
{
	json_t *cur = scim_get(c, p->attr), *x;
	size_t i, n = 0;

	if (cur && !json_is_array(cur) && !json_is_null(cur))
		return scim_fail(e, 400, "invalidPath", "%s is not multi-valued", p->attr);
	if (!p->sub && op != P_REMOVE && !json_is_object(value))
		return scim_fail(e, 400, "invalidValue", "a value of %s is an object", p->attr);
	for (i = 0; json_is_array(cur) && i < json_array_size(cur); i++) {
		x = json_array_get(cur, i);
		if (!json_is_object(x) || !scim_filter_match(p->vf, x, p->attr))
			continue;
		n++;
		if (op != P_REMOVE)
			change_value(cur, i, op, p, value);
		else if (p->sub)
			del_attr(x, p->sub);
		else
			json_array_remove(cur, i--);
	}
	if (n > 0 || op == P_REMOVE)
		return 0;
	/* none yet: Entra adds emails[type eq "work"].value to a user without one */
	x = json_object();
	if (scim_filter_template(p->vf, x) < 0) {
		json_decref(x);
		return scim_fail(e, 400, "noTarget", "no value of %s matches the filter", p->attr);
	}
	p->sub ? set_attr(x, p->sub, value) : merge(x, value);
	if (!json_is_array(cur)) {
		cur = json_array();
		set_attr(c, p->attr, cur);
		json_decref(cur);
	}
	json_array_append_new(cur, x);
	return 0;
}

/* id, meta and groups: only a value they have already (Okta repeats the id). */
static int
check_read_only(json_t *res, enum pop op, const struct scim_path *p, json_t *value,
    struct scim_err *e)
{
	for (size_t i = 0; read_only[i]; i++) {
		if (p->urn || strcasecmp(p->attr, read_only[i]) != 0)
			continue;
		if (op != P_REMOVE && !p->vf && !p->sub &&
		    json_equal(value, scim_get(res, p->attr)))
			return 1;
		return scim_fail(e, 400, "mutability", "%s is read-only", read_only[i]);
	}
	return 0;
}

/* An extension's URN alone: each of its attributes (the whole extension for remove). */
static int
apply_extension(json_t *res, enum pop op, const struct scim_path *p, json_t *value,
    struct scim_err *e)
{
	struct scim_path sp = { .urn = p->urn };
	const char *k;
	json_t *v;

	if (op == P_REMOVE) {
		del_attr(res, p->urn);
		return 0;
	}
	if (!json_is_object(value))
		return scim_fail(e, 400, "invalidValue", "the value of %s is an object", p->urn);
	json_object_foreach(value, k, v) {
		sp.attr = (char *)k;
		if (apply(res, op, &sp, v, e) < 0)
			return -1;
	}
	return 0;
}

static int
apply(json_t *res, enum pop op, const struct scim_path *p, json_t *value, struct scim_err *e)
{
	json_t *c;
	int ro;

	if (!p->attr)
		return apply_extension(res, op, p, value, e);
	if ((ro = check_read_only(res, op, p, value, e)) != 0)
		return ro < 0 ? -1 : 0;
	if (op != P_REMOVE && !value)
		return scim_fail(e, 400, "invalidSyntax", "%s needs a value",
		    op == P_ADD ? "add" : "replace");
	if (!(c = container(res, p, op != P_REMOVE)))
		return 0;
	if (p->vf)
		return apply_filtered(c, op, p, value, e);
	if (p->sub)
		return apply_sub(c, op, p, value, e);
	return apply_whole(c, op, p, value);
}

static int
apply_path(json_t *res, enum pop op, const char *path, json_t *value, struct scim_err *e)
{
	struct scim_path p;
	int rc;

	if (scim_path_parse(path, &p, e) < 0)
		return -1;
	rc = apply(res, op, &p, value, e);
	scim_path_clear(&p);
	return rc;
}

/* No path: value is a map of attributes (or of paths, or an extension's URN) to values. */
static int
apply_map(json_t *res, enum pop op, json_t *value, struct scim_err *e)
{
	const char *k;
	json_t *v;

	if (op == P_REMOVE)
		return scim_fail(e, 400, "noTarget", "remove needs a path");
	if (!json_is_object(value))
		return scim_fail(e, 400, "invalidValue", "an operation without a path has an "
		    "object of attributes as its value");
	json_object_foreach(value, k, v) {
		if (strcasecmp(k, "schemas") == 0)
			continue;
		if (apply_path(res, op, k, v, e) < 0)
			return -1;
	}
	return 0;
}

static int
parse_op(const json_t *o, enum pop *op_r, struct scim_err *e)
{
	static const char *const names[] = { "add", "replace", "remove", NULL };
	const char *s = json_string_value(scim_get(o, "op"));

	for (size_t i = 0; s && names[i]; i++) {
		if (strcasecmp(s, names[i]) == 0) {
			*op_r = (enum pop)i;
			return 0;
		}
	}
	return scim_fail(e, 400, "invalidSyntax", "op is add, replace or remove");
}

static int
apply_one(json_t *res, const json_t *o, struct scim_err *e)
{
	json_t *path = scim_get(o, "path");
	enum pop op = P_ADD;

	if (!json_is_object(o))
		return scim_fail(e, 400, "invalidSyntax", "an operation is an object");
	if (parse_op(o, &op, e) < 0)
		return -1;
	if (path && !json_is_null(path) && !json_is_string(path))
		return scim_fail(e, 400, "invalidPath", "path is a string");
	if (!json_is_string(path) || json_string_length(path) == 0)
		return apply_map(res, op, scim_get(o, "value"), e);
	return apply_path(res, op, json_string_value(path), scim_get(o, "value"), e);
}

static int
is_patch_op(const json_t *schemas)
{
	size_t i;
	json_t *x;

	if (!schemas)
		return 1;	/* RFC 7644 wants it; nothing is lost by not insisting */
	json_array_foreach(schemas, i, x)
		if (json_is_string(x) && strcasecmp(json_string_value(x), SCIM_URN_PATCHOP) == 0)
			return 1;
	return 0;
}

int
scim_patch_apply(json_t *res, const json_t *body, struct scim_err *e)
{
	json_t *ops = scim_get(body, "Operations"), *o;
	size_t i;

	if (!json_is_object(body) || !is_patch_op(scim_get(body, "schemas")))
		return scim_fail(e, 400, "invalidSyntax", "not a PatchOp message (schemas)");
	if (!json_is_array(ops) || json_array_size(ops) == 0)
		return scim_fail(e, 400, "invalidSyntax", "Operations is a non-empty array");
	if (json_array_size(ops) > SCIM_PATCH_OPS_MAX)
		return scim_fail(e, 400, "tooMany", "more than %d operations",
		    SCIM_PATCH_OPS_MAX);
	json_array_foreach(ops, i, o) {
		if (apply_one(res, o, e) < 0) {
			size_t n = strlen(e->detail);

			snprintf(e->detail + n, sizeof(e->detail) - n, " (operation %zu)", i + 1);
			return -1;
		}
	}
	return 0;
}
