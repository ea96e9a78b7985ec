/*
 * Who may do what in a tenant's admin console: a user's role (user, helpdesk, admin,
 * stored with the user) and the rights each role has.  The console's pages and its
 * handlers both ask admin_role_allows, so a page that is not shown is also refused.
 */
#ifndef SEKISHO_ADMIN_ROLE_H
#define SEKISHO_ADMIN_ROLE_H

#include <stdint.h>

/* Stored in struct user's role; 0 (a record written before roles) is a plain user. */
enum admin_role {
	ADMIN_ROLE_USER = 0,	/* the portal and their own account only */
	ADMIN_ROLE_HELPDESK = 1,	/* helps people: views users, resets, unlocks */
	ADMIN_ROLE_ADMIN = 2,	/* everything in the tenant */
};

/* What the console can be asked to do. */
enum admin_right {
	ADMIN_RIGHT_CONSOLE,		/* open the console at all */
	ADMIN_RIGHT_VIEW_USERS,		/* users, their groups, factors, devices, sessions */
	ADMIN_RIGHT_RESET_PASSWORD,	/* reset links, new passwords */
	ADMIN_RIGHT_UNLOCK,		/* unlock after failed logins */
	ADMIN_RIGHT_REMOVE_FACTOR,	/* remove a second factor */
	ADMIN_RIGHT_REVOKE_CERT,	/* revoke a device certificate */
	ADMIN_RIGHT_READ_AUDIT,		/* the audit trail, its export and verify */
	ADMIN_RIGHT_MANAGE,		/* anything else: users, groups, apps, rules, certificates,
					 * keys, settings, branding */
};

/* "user", "helpdesk", "admin" into *r: 0, or -1 for anything else. */
int admin_role_parse(const char *s, enum admin_role *r);
/* The role's name ("user" for an unknown value). */
const char *admin_role_name(uint64_t role);
/* 1 when role may do what, else 0 (an unknown stored value may do nothing). */
int admin_role_allows(uint64_t role, enum admin_right what);

#endif
