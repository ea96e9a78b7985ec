/*
 * Users, groups and memberships of a tenant: the checks and the store writes the sekisho
 * command line, the admin API and the SCIM server share.  Names follow store_valid_name;
 * every function returns 0, or -1 after admin_fail (a->status, a->field, a->msg).
 */
#ifndef SEKISHO_ADMIN_USER_H
#define SEKISHO_ADMIN_USER_H

#include "admin.h"
#include "store.h"

struct admin_user_in {
	const char *name;
	const char *email;		/* or NULL */
	const char *display_name;	/* or NULL */
	const char *password;		/* plaintext, checked against the policy; NULL: none,
					 * the first sign-in must set one (must_change) */
	const char *attrs;		/* "key=value" lines, or NULL */
	int disabled;
	int operator;			/* the service operator's account: not billed, at most
					 * STORE_OPERATORS_MAX per tenant */
};
/* Add a user; its new immutable id in *id_r when id_r is not NULL (caller frees). */
int admin_user_add(struct admin *a, const struct admin_user_in *in, char **id_r);
/* The same, with the audit record saying how it came ("import", "scim"; NULL: as above). */
int admin_user_add_via(struct admin *a, const struct admin_user_in *in, const char *via,
    char **id_r);
/*
 * in's name, e-mail, display name and attributes checked without the store and without
 * the password (the command line checks them before it asks for one).
 */
int admin_user_check(struct admin *a, const struct admin_user_in *in);
/*
 * The n users of an import (user import, POST users/import) checked as one: each as
 * admin_user_check does, and no name or e-mail address already taken or given twice
 * (without regard to case).  0, or -1 after admin_fail (ADMIN_INVALID, field "name",
 * "email" or "display_name") with the index of the first user at fault in *at_r.
 */
int admin_user_import_check(struct admin *a, const struct admin_user_in *in, size_t n,
    size_t *at_r);
/*
 * The same checks, then all n users added (with their attributes, disabled or not) with
 * password (NULL: none, the first sign-in sets one) in one store transaction: all of
 * them or none.  Audited per user as
 * admin.user.add with via=import.  0, or -1 after admin_fail (*at_r as above).
 */
int admin_user_import(struct admin *a, const struct admin_user_in *in, size_t n,
    const char *password, size_t *at_r);
/*
 * A console role's name ("user", "helpdesk", "admin") into *role_r: 0, or -1 after
 * admin_fail (field "role").  What user set and PATCH users give admin_user_update.
 */
int admin_user_role(struct admin *a, const char *name, uint64_t *role_r);
/* user set: NULL members of ch stay, "" clears (see struct user_change). */
int admin_user_update(struct admin *a, const char *name, const struct user_change *ch);
int admin_user_rename(struct admin *a, const char *name, const char *new_name);
/* Disabling ends the user's sessions and OIDC grants at once. */
int admin_user_set_disabled(struct admin *a, const char *name, int disabled);
int admin_user_set_password(struct admin *a, const char *name, const char *password);
int admin_user_unlock(struct admin *a, const char *name);
int admin_user_remove(struct admin *a, const char *name);
/*
 * attrs ("key=value" lines, may be NULL) with key set to value, or removed when value is
 * NULL: a new string.  Keys and values are checked as `user set --attr` checks them;
 * NULL after admin_fail (field "attributes") when either is not acceptable.
 */
char *admin_attrs_set(struct admin *a, const char *attrs, const char *key, const char *value);
/* The value of key in attrs (new string), or NULL. */
char *admin_attrs_get(const char *attrs, const char *key);

int admin_group_add(struct admin *a, const char *name, char **id_r);
int admin_group_rename(struct admin *a, const char *name, const char *new_name);
int admin_group_remove(struct admin *a, const char *name);
int admin_member_add(struct admin *a, const char *group, const char *user);
/* Removing a user who is not a member is not an error. */
int admin_member_remove(struct admin *a, const char *group, const char *user);

#endif
