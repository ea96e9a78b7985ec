/*
 * Adding an app from a catalog template (connectors/catalog.h): the command line's
 * `app add --template` and the API's POST catalog/{template}/apps share it.  The answer
 * is what the admin pastes into the app, in the template's order.
 */
#ifndef SEKISHO_ADMIN_CATALOG_H
#define SEKISHO_ADMIN_CATALOG_H

#include <stddef.h>

#include "admin.h"
#include "catalog.h"

struct admin_paste {
	const char *key;	/* "sso_url", "certificate", "client_secret" ... */
	const char *label;	/* the vendor's name for the field, or NULL */
	char *value;
};

struct admin_catalog_added {
	struct admin_paste paste[CATALOG_MAX_PASTE];
	size_t npaste;
	char *entity_id;	/* the SP's entity ID, or the OIDC client_id */
};

/*
 * Add app name from template tmpl of cat with the n parameters names[i] = values[i]:
 * 0 with *out filled (release with admin_catalog_added_clear, which wipes the client
 * secret), or -1 after admin_fail with nothing added (field "template", "name",
 * "parameters").
 */
int admin_app_add_template(struct admin *a, const struct catalog *cat, const char *tmpl,
    const char *name, const char *const *names, const char *const *values, size_t n,
    struct admin_catalog_added *out);
void admin_catalog_added_clear(struct admin_catalog_added *out);
/*
 * The value of paste key k ("sso_url", "metadata_url", "certificate", "issuer" ...) for
 * a's tenant: a new string, or NULL for a key it does not know (client_id and
 * client_secret are the app's, not the tenant's).
 */
char *admin_paste_value(struct admin *a, const char *k);

#endif
