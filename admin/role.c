/*
 * The console's roles and their rights (admin_role.h): the one table that says what a
 * helpdesk user may do, asked by the console's pages and by its handlers.
 */
#include "config.h"

#include <string.h>

#include "admin_role.h"

static const char *const names[] = {
	[ADMIN_ROLE_USER] = "user",
	[ADMIN_ROLE_HELPDESK] = "helpdesk",
	[ADMIN_ROLE_ADMIN] = "admin",
};

#define NROLES (sizeof(names) / sizeof(names[0]))

/* The helpdesk's rights: people's access, never the tenant's configuration. */
static const unsigned helpdesk = 1u << ADMIN_RIGHT_CONSOLE | 1u << ADMIN_RIGHT_VIEW_USERS |
    1u << ADMIN_RIGHT_RESET_PASSWORD | 1u << ADMIN_RIGHT_UNLOCK |
    1u << ADMIN_RIGHT_REMOVE_FACTOR | 1u << ADMIN_RIGHT_REVOKE_CERT |
    1u << ADMIN_RIGHT_READ_AUDIT;

int
admin_role_parse(const char *s, enum admin_role *r)
{
	for (size_t i = 0; i < NROLES; i++)
		if (s && !strcmp(s, names[i])) {
			*r = (enum admin_role)i;
			return 0;
		}
	return -1;
}

const char *
admin_role_name(uint64_t role)
{
	return role < NROLES ? names[role] : "user";
}

int
admin_role_allows(uint64_t role, enum admin_right what)
{
	if (role == ADMIN_ROLE_ADMIN)
		return 1;
	if (role == ADMIN_ROLE_HELPDESK)
		return (helpdesk >> what) & 1u;
	return 0;
}
