/*
 * The app catalog: one template per SaaS app (connectors/templates/NAME.tmpl, built into
 * the binaries, and optionally a catalog_dir adding or overriding some), read and checked
 * at load, then instantiated with the admin's parameters into what admin_app_add_saml or
 * admin_app_add_oidc takes.  docs/sekisho-templates.5 describes the format.
 */
#ifndef SEKISHO_CATALOG_H
#define SEKISHO_CATALOG_H

#include <regex.h>
#include <stddef.h>

#include "buf.h"

#define CATALOG_MAX_PARAMS 8
#define CATALOG_MAX_URLS 4	/* ACS URLs, redirect URIs, post-logout URIs */
#define CATALOG_MAX_ATTRS 16
#define CATALOG_MAX_PASTE 16
#define CATALOG_MAX_VALUE 512	/* a parameter's value, in bytes */

struct catalog_param {
	char *name;
	char *pattern;		/* POSIX ERE; a value must match all of it */
	char *example;
	char *description;
	int optional;
	regex_t re;
};

/* A user field sent to the app under the vendor's name (RequestedAttribute). */
struct catalog_attr {
	char *source;		/* "email", "displayName", "groups", "uid" */
	char *name;		/* the vendor's attribute name */
	char *format;		/* NameFormat URI */
};

/* A value the admin pastes into the app, and the vendor's name for the field. */
struct catalog_paste {
	char *key;		/* "sso_url", "certificate", "client_id" ... */
	char *label;		/* or NULL */
};

struct catalog_tmpl {
	char *file;		/* where it was read from (messages) */
	char *name, *display_name, *description, *protocol, *setup_url, *icon;
	struct catalog_param params[CATALOG_MAX_PARAMS];
	size_t nparams;
	/* SAML: URL patterns with {param} placeholders */
	char *entity_id, *slo, *nameid;
	char *acs[CATALOG_MAX_URLS];
	size_t nacs;
	int sign_response;
	struct catalog_attr attrs[CATALOG_MAX_ATTRS];
	size_t nattrs;
	/* OpenID Connect */
	char *redirect[CATALOG_MAX_URLS], *logout[CATALOG_MAX_URLS];
	size_t nredirect, nlogout;
	char *grants, *auth;
	struct catalog_paste paste[CATALOG_MAX_PASTE];
	size_t npaste;
	char *notes, *verified, *unverified;	/* lines, or NULL */
};

struct catalog;

/*
 * The built-in templates, then every *.tmpl of dir (NULL: none), which add templates or
 * replace built-in ones of the same name.  A new catalog, or NULL after "FILE:LINE:
 * message" lines in err: one broken template refuses the whole catalog.
 */
struct catalog *catalog_load(const char *dir, struct buf *err);
void catalog_free(struct catalog *cat);
/* Templates in name order (borrowed); NULL past the end. */
const struct catalog_tmpl *catalog_at(const struct catalog *cat, size_t i);
const struct catalog_tmpl *catalog_find(const struct catalog *cat, const char *name);

/* Parse one template's text (file names it in messages): a new template, or NULL. */
struct catalog_tmpl *catalog_parse(const char *file, const char *text, struct buf *err);
void catalog_tmpl_free(struct catalog_tmpl *t);

/* A template instantiated: its patterns filled in, SAML metadata made from them. */
struct catalog_app {
	char *entity_id, *slo, *nameid;
	char *acs[CATALOG_MAX_URLS];
	size_t nacs;
	char *metadata;		/* SP metadata XML (SAML) */
	char *redirect[CATALOG_MAX_URLS], *logout[CATALOG_MAX_URLS];
	size_t nredirect, nlogout;
};

/*
 * Fill t in with the n parameters names[i] = values[i]: every required one present,
 * none unknown or twice, each matching its pattern.  0, or -1 with *param_r (the
 * parameter at fault, or NULL) and a message in err.  Release out with catalog_app_clear.
 */
int catalog_instantiate(const struct catalog_tmpl *t, const char *const *names,
    const char *const *values, size_t n, struct catalog_app *out, const char **param_r,
    struct buf *err);
void catalog_app_clear(struct catalog_app *a);

#endif
