/*
 * Apps of a tenant (SAML service providers, OpenID Connect clients), their assignments
 * and what the portal shows of them: the checks and store writes the sekisho command
 * line, the admin API and the app catalog share.  0, or -1 after admin_fail.
 */
#ifndef SEKISHO_ADMIN_APP_H
#define SEKISHO_ADMIN_APP_H

#include <stddef.h>

#include "admin.h"
#include "store.h"

struct admin_saml_app {
	const char *name;
	const char *metadata;		/* the SP's metadata XML */
	size_t metadata_len;
	const char *nameid;		/* "persistent", "transient", "email"; NULL: persistent */
	int sign_response;
	const char *attrmap;		/* attribute mapping lines (catalog), or NULL: default */
};
int admin_app_add_saml(struct admin *a, const struct admin_saml_app *in);

struct admin_oidc_app {
	const char *name;
	const char *const *redirect_uris;
	size_t n_redirect;
	int public_client;		/* no secret: PKCE */
	const char *auth;		/* token endpoint auth method, or NULL: default */
	const char *jwks;		/* private_key_jwt: the client's JWKS JSON, or NULL */
	const char *const *logout_uris;
	size_t n_logout;
	const char *id_token_alg;	/* NULL: default */
	const char *access_token;	/* "jwt" | "opaque"; NULL: default */
	const char *backchannel_uri;
	const char *grants;		/* comma-separated, or NULL: default */
	const char *initiate_login_uri;	/* https: where the portal starts a login, or NULL */
};
/*
 * Add an OIDC client.  *client_id_r and (when it has one) *secret_r are new strings: the
 * secret is shown once and only its hash is kept (caller wipes and frees it).
 */
int admin_app_add_oidc(struct admin *a, const struct admin_oidc_app *in, char **client_id_r,
    char **secret_r);
int admin_app_remove(struct admin *a, const char *name);
/* kind "user" or "group"; on 1 assigns, 0 unassigns (not assigned is not an error). */
int admin_app_assign(struct admin *a, const char *app, const char *kind, const char *name,
    int on);
/* The same, telling the command line whether it changed anything (1) or was so (0). */
int admin_app_assign_changed(struct admin *a, const char *app, const char *kind,
    const char *name, int on, int *changed_r);
/*
 * app unassign --removed: the assignments of the app whose user or group no longer
 * exists go; how many in *removed_r.
 */
int admin_app_prune_assignments(struct admin *a, const char *app, int *removed_r);
/*
 * What the portal shows.  An icon's type is found from its bytes; when d->icon_type is
 * set (the type its sender declared) the bytes must be of that type.  An
 * initiate_login_uri (https; "" removes it) is for OIDC clients only.
 */
int admin_app_set_display(struct admin *a, const char *name, const struct app_display *d);

#endif
