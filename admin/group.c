/*
 * Groups of a tenant and their members: the name rule and the store writes with their
 * audit records, shared by the sekisho command line, the admin API and the SCIM server.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "admin_user.h"
#include "audit.h"
#include "store.h"
#include "xmalloc.h"

static int
bad_name(struct admin *a)
{
	return admin_fail(a, ADMIN_INVALID, "name",
	    "group name must be 1-128 characters of a-z A-Z 0-9 . _ @ + -");
}

/* The failure for the result rc (0 or -1) of a store call on group name. */
static int
lookup_fail(struct admin *a, const char *name, int rc)
{
	if (rc == 0)
		return admin_fail(a, ADMIN_NOT_FOUND, NULL, "group %s: no such group", name);
	return admin_fail(a, ADMIN_FAILED, NULL, "group %s: storage error", name);
}

/* The failure for the store's message err about group name. */
static int
store_fail(struct admin *a, const char *name, const char *err)
{
	if (strstr(err, "exist") || strstr(err, "taken"))
		return admin_fail(a, ADMIN_CONFLICT, "name", "group %s: %s", name, err);
	if (strstr(err, "invalid") || strstr(err, "not valid"))
		return admin_fail(a, ADMIN_INVALID, "name", "group %s: %s", name, err);
	return admin_fail(a, ADMIN_FAILED, NULL, "group %s: %s", name, err);
}

int
admin_group_add(struct admin *a, const char *name, char **id_r)
{
	struct audit_entry ae;
	struct grouprec g;
	const char *err;

	if (name == NULL || !store_valid_name(name, STORE_NAME_MAX))
		return bad_name(a);
	admin_audit(a, &ae, "admin.group.add", "group", name, NULL);
	if (store_group_add(a->in->store, a->tenant, name, &ae, &err) == -1)
		return store_fail(a, name, err);
	if (id_r) {
		*id_r = NULL;
		if (store_group_get(a->in->store, a->tenant, name, &g) == 1)
			*id_r = xstrdup(g.id);
		store_group_clear(&g);
	}
	return 0;
}

int
admin_group_rename(struct admin *a, const char *name, const char *new_name)
{
	struct audit_entry ae;
	const char *err = "storage error";
	int rc;

	if (new_name == NULL || !store_valid_name(new_name, STORE_NAME_MAX))
		return bad_name(a);
	admin_audit(a, &ae, "admin.group.rename", "group", name, "new_name", new_name, NULL);
	rc = store_group_rename(a->in->store, a->tenant, name, new_name, &ae, &err);
	if (rc == -1)
		return store_fail(a, new_name, err);
	return rc == 1 ? 0 : lookup_fail(a, name, rc);
}

int
admin_group_remove(struct admin *a, const char *name)
{
	struct audit_entry ae;
	int rc;

	admin_audit(a, &ae, "admin.group.remove", "group", name, NULL);
	rc = store_group_remove(a->in->store, a->tenant, name, &ae);
	return rc == 1 ? 0 : lookup_fail(a, name, rc);
}

/* Adding a member twice is not an error (the membership is there). */
int
admin_member_add(struct admin *a, const char *group, const char *user)
{
	struct audit_entry ae;
	const char *err;

	admin_audit(a, &ae, "admin.group.add_member", "group", group, "user", user, NULL);
	if (store_member_add(a->in->store, a->tenant, group, user, &ae, &err) == 0)
		return 0;
	if (!strcmp(err, "no such group"))
		return admin_fail(a, ADMIN_NOT_FOUND, NULL, "group %s: %s", group, err);
	/* The user is what the caller asks to put in: a wrong value, not a wrong path. */
	if (!strcmp(err, "no such user"))
		return admin_fail(a, ADMIN_INVALID, "user", "group %s: %s", group, err);
	return admin_fail(a, ADMIN_FAILED, NULL, "group %s: %s", group, err);
}

int
admin_member_remove(struct admin *a, const char *group, const char *user)
{
	struct audit_entry ae;
	struct grouprec g;
	int rc;

	admin_audit(a, &ae, "admin.group.remove_member", "group", group, "user", user, NULL);
	if ((rc = store_member_remove(a->in->store, a->tenant, group, user, &ae)) == 0) {
		/* Not a member is no error; no such group is. */
		rc = store_group_get(a->in->store, a->tenant, group, &g);
		store_group_clear(&g);
	}
	return rc == 1 ? 0 : lookup_fail(a, group, rc);
}
