/*
 * Apps of a tenant for the command line, the admin API and the catalog: the checks of a
 * SAML SP's metadata and of an OIDC client's settings, client ids and secrets, removal,
 * assignments, and what the portal shows.  Messages are for a person and name no file
 * or option (the command line puts those in front, by the field at fault).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlstring.h>

#include "admin_app.h"
#include "audit.h"
#include "clock.h"
#include "crypto.h"
#include "encode.h"
#include "icon.h"
#include "jose.h"
#include "saml.h"
#include "spmeta.h"
#include "store.h"
#include "url.h"
#include "xmalloc.h"

static int
name_ok(struct admin *a, const char *name)
{
	if (name == NULL || !store_valid_name(name, 64))
		return admin_fail(a, ADMIN_INVALID, "name",
		    "app name must be 1-64 characters of a-z A-Z 0-9 . _ @ + -");
	return 0;
}

/* A refusal of store_app_add: which input is at fault, and whether it is a conflict. */
static int
add_fail(struct admin *a, const char *name, const char *err)
{
	if (!strcmp(err, "an app with this name already exists"))
		return admin_fail(a, ADMIN_CONFLICT, "name", "app %s: %s", name, err);
	if (!strcmp(err, "another app has this entity ID"))
		return admin_fail(a, ADMIN_CONFLICT, "metadata", "app %s: %s", name, err);
	return admin_fail(a, ADMIN_FAILED, NULL, "app %s: %s", name, err);
}

/* ---- SAML service providers ---- */

/*
 * Every endpoint of the metadata follows the rule of OIDC redirect URIs (http only to a
 * loopback host), with the same words: a browser is sent there with an assertion.
 */
static int
endpoints_ok(struct admin *a, const struct spmeta *m)
{
	const char *err;

	for (size_t i = 0; i < m->nendpoints; i++)
		if (url_check_app_uri(m->endpoints[i].location, &err) == -1)
			return admin_fail(a, ADMIN_INVALID, "metadata", "%s %s: %s",
			    m->endpoints[i].element, m->endpoints[i].location, err);
	return 0;
}

static int
saml_input_ok(struct admin *a, const struct admin_saml_app *in)
{
	if (name_ok(a, in->name) == -1)
		return -1;
	/* The store keeps no mapping per app: an SP gets what attrmap_for_sp gives it. */
	if (in->attrmap != NULL)
		return admin_fail(a, ADMIN_INVALID, "attributes",
		    "per-app attribute mapping is not supported");
	if (in->nameid && strcmp(in->nameid, "persistent") && strcmp(in->nameid, "transient") &&
	    strcmp(in->nameid, "email"))
		return admin_fail(a, ADMIN_INVALID, "nameid_format",
		    "NameID format: persistent, transient or email");
	if (in->metadata == NULL || in->metadata_len == 0)
		return admin_fail(a, ADMIN_INVALID, "metadata", "the SP's metadata is required");
	if (in->metadata_len > SPMETA_MAX_SIZE)
		return admin_fail(a, ADMIN_INVALID, "metadata", "file too large");
	if (memchr(in->metadata, '\0', in->metadata_len) != NULL ||
	    in->metadata[in->metadata_len] != '\0')
		return admin_fail(a, ADMIN_INVALID, "metadata", "metadata holds a NUL byte");
	if (saml_global_init() == -1)
		return admin_fail(a, ADMIN_FAILED, NULL, "lasso initialisation failed");
	return 0;
}

int
admin_app_add_saml(struct admin *a, const struct admin_saml_app *in)
{
	const char *nameid = in->nameid ? in->nameid : "persistent", *err;
	struct audit_entry ae;
	struct spmeta m;
	struct app app = { 0 };
	int rc;

	admin_ok(a);
	if (saml_input_ok(a, in) == -1)
		return -1;
	if (spmeta_parse(in->metadata, in->metadata_len, &m, &err) == -1 ||
	    saml_sp_metadata_check(in->metadata, &err) == -1) {
		if (err == NULL)
			err = "metadata refused";
		return admin_fail(a, ADMIN_INVALID, "metadata", "%s", err);
	}
	if (endpoints_ok(a, &m) == -1) {
		spmeta_clear(&m);
		return -1;
	}
	app.name = (char *)in->name;
	app.type = "saml";
	app.entity_id = m.entity_id;
	app.metadata = (char *)in->metadata;
	app.nameid_format = (char *)nameid;
	app.created = (uint64_t)clock_now();
	app.sign_response = in->sign_response != 0;
	admin_audit(a, &ae, "admin.app.add", "app", in->name, "type", "saml", "sp", m.entity_id,
	    NULL);
	rc = store_app_add(a->in->store, a->tenant, &app, &ae, &err);
	spmeta_clear(&m);
	return rc == 0 ? 0 : add_fail(a, in->name, err);
}

/* ---- OpenID Connect clients ---- */

/* The URIs joined by newlines as the store keeps them (NULL for none), each checked. */
static int
uris_join(struct admin *a, const char *const *uris, size_t n, const char *field,
    const char *what, char **out)
{
	size_t len = 0;
	const char *err;

	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		if (url_check_app_uri(uris[i], &err) == -1)
			return admin_fail(a, ADMIN_INVALID, field, "%s %s: %s", what, uris[i], err);
		len += strlen(uris[i]) + 1;
	}
	if (n == 0)
		return 0;
	*out = xmalloc(len);
	len = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k = strlen(uris[i]);
		memcpy(*out + len, uris[i], k);
		len += k;
		(*out)[len++] = i + 1 < n ? '\n' : '\0';
	}
	return 0;
}

static int
one_of(const char *s, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (!strcmp(s, *allowed))
			return 1;
	return 0;
}

/* The methods and formats, with their defaults, into app. */
static int
oidc_choices(struct admin *a, const struct admin_oidc_app *in, struct app *app)
{
	static const char *const auths[] = { "client_secret_basic", "client_secret_post",
		"private_key_jwt", "none", NULL };
	static const char *const algs[] = { "RS256", "ES256", NULL };
	static const char *const formats[] = { "jwt", "opaque", NULL };

	if (in->public_client && in->auth && strcmp(in->auth, "none"))
		return admin_fail(a, ADMIN_INVALID, "token_endpoint_auth_method",
		    "a public client authenticates with none");
	app->auth_method = (char *)(in->public_client ? "none" : in->auth ? in->auth :
	    "client_secret_basic");
	app->id_token_alg = (char *)(in->id_token_alg ? in->id_token_alg : "RS256");
	app->access_token_format = (char *)(in->access_token ? in->access_token : "jwt");
	app->grant_types = (char *)(in->grants ? in->grants : "authorization_code,refresh_token");
	if (!one_of(app->auth_method, auths))
		return admin_fail(a, ADMIN_INVALID, "token_endpoint_auth_method",
		    "client_secret_basic, client_secret_post, private_key_jwt or none");
	if (!one_of(app->id_token_alg, algs))
		return admin_fail(a, ADMIN_INVALID, "id_token_alg", "RS256 or ES256");
	if (!one_of(app->access_token_format, formats))
		return admin_fail(a, ADMIN_INVALID, "access_token_format", "jwt or opaque");
	return 0;
}

static int
grants_ok(struct admin *a, const struct app *app, size_t n_redirect)
{
	const char *auth = app->auth_method, *grants = app->grant_types;

	if (*grants == '\0')
		return admin_fail(a, ADMIN_INVALID, "grant_types",
		    "authorization_code, refresh_token, client_credentials");
	for (const char *p = grants; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		size_t n = strcspn(p, ",");
		if (!(n == 18 && !strncmp(p, "authorization_code", n)) &&
		    !(n == 13 && !strncmp(p, "refresh_token", n)) &&
		    !(n == 18 && !strncmp(p, "client_credentials", n)))
			return admin_fail(a, ADMIN_INVALID, "grant_types",
			    "authorization_code, refresh_token, client_credentials");
	}
	if (!strcmp(auth, "none") && strstr(grants, "client_credentials"))
		return admin_fail(a, ADMIN_INVALID, "token_endpoint_auth_method",
		    "a public client cannot use client_credentials");
	if (strstr(grants, "authorization_code") && n_redirect == 0)
		return admin_fail(a, ADMIN_INVALID, "redirect_uris",
		    "a redirect URI is required for the authorization code flow");
	return 0;
}

static int
oidc_uris(struct admin *a, const struct admin_oidc_app *in, struct app *app)
{
	const char *back = in->backchannel_uri;

	if (uris_join(a, in->redirect_uris, in->n_redirect, "redirect_uris", "redirect URI",
	    &app->redirect_uris) == -1 ||
	    uris_join(a, in->logout_uris, in->n_logout, "post_logout_redirect_uris",
	    "post-logout redirect URI", &app->logout_uris) == -1 ||
	    uris_join(a, &back, back != NULL, "backchannel_logout_uri",
	    "back-channel logout URI", &app->backchannel_uri) == -1)
		return -1;
	return 0;
}

/*
 * OIDC Core 4: where a login started by a third party (the portal) goes.  https, or http
 * only to a loopback host, as redirect URIs (RFC 8252 7.3).
 */
static int
initiate_uri_ok(struct admin *a, const char *uri)
{
	const char *err;

	if (url_check_app_uri(uri, &err) == -1)
		return admin_fail(a, ADMIN_INVALID, "initiate_login_uri",
		    "initiate login URI %s: %s", uri, err);
	return 0;
}

/* private_key_jwt: the client's keys, all of one type, so that one algorithm is pinned. */
static int
oidc_jwks(struct admin *a, const struct admin_oidc_app *in, struct app *app)
{
	struct jose_jwks *keys;
	const char *err, *alg;

	if (strcmp(app->auth_method, "private_key_jwt")) {
		if (in->jwks)
			return admin_fail(a, ADMIN_INVALID, "jwks", "jwks is for private_key_jwt");
		return 0;
	}
	if (in->jwks == NULL)
		return admin_fail(a, ADMIN_INVALID, "jwks", "private_key_jwt needs the client's "
		    "public keys (JWKS)");
	if ((keys = jose_jwks_parse(in->jwks, &err)) == NULL)
		return admin_fail(a, ADMIN_INVALID, "jwks", "%s", err);
	alg = jose_jwks_alg(keys);
	app->assertion_alg = alg ? xstrdup(alg) : NULL;
	jose_jwks_free(keys);
	if (app->assertion_alg == NULL)
		return admin_fail(a, ADMIN_INVALID, "jwks",
		    "keys of one type only (RSA or P-256), so one algorithm is pinned");
	app->jwks = (char *)in->jwks;
	return 0;
}

/* A new client secret (returned) whose hash goes into app. */
static char *
new_secret(struct app *app)
{
	unsigned char h[CRYPTO_SHA256_LEN];
	char hex[65], *secret;

	/*
	 * base64url without padding: the secret is pasted into tools that put it in HTTP
	 * Basic without form-encoding it first (curl -u, many SDKs), and Sekisho form-decodes
	 * it as RFC 6749 2.3.1 says; '+' would arrive as a space.
	 */
	secret = crypto_random_token(32);
	crypto_sha256(secret, strlen(secret), h);
	hex_encode(h, sizeof(h), hex);
	app->secret_hash = xstrdup(hex);
	return secret;
}

static void
oidc_app_free(struct app *app)
{
	free(app->redirect_uris);
	free(app->logout_uris);
	free(app->backchannel_uri);
	free(app->entity_id);
	free(app->secret_hash);
	free(app->assertion_alg);
}

int
admin_app_add_oidc(struct admin *a, const struct admin_oidc_app *in, char **client_id_r,
    char **secret_r)
{
	struct audit_entry ae;
	struct app app = { 0 };
	const char *err;
	char *secret = NULL;
	int rc = -1;

	admin_ok(a);
	*client_id_r = *secret_r = NULL;
	if (name_ok(a, in->name) == -1 || oidc_choices(a, in, &app) == -1 ||
	    grants_ok(a, &app, in->n_redirect) == -1 || oidc_uris(a, in, &app) == -1 ||
	    oidc_jwks(a, in, &app) == -1 || (in->initiate_login_uri &&
	    initiate_uri_ok(a, in->initiate_login_uri) == -1))
		goto done;
	app.initiate_login_uri = (char *)in->initiate_login_uri;
	app.name = (char *)in->name;
	app.type = "oidc";
	app.entity_id = crypto_random_token(16);
	if (!strcmp(app.auth_method, "client_secret_basic") ||
	    !strcmp(app.auth_method, "client_secret_post"))
		secret = new_secret(&app);
	app.created = (uint64_t)clock_now();
	admin_audit(a, &ae, "admin.app.add", "app", in->name, "type", "oidc", "client",
	    app.entity_id, NULL);
	if (store_app_add(a->in->store, a->tenant, &app, &ae, &err) == -1) {
		add_fail(a, in->name, err);
		goto done;
	}
	*client_id_r = xstrdup(app.entity_id);
	*secret_r = secret;
	secret = NULL;
	rc = 0;
done:
	oidc_app_free(&app);
	freezero_str(secret);
	return rc;
}

int
admin_app_remove(struct admin *a, const char *name)
{
	struct audit_entry ae;
	int rc;

	admin_ok(a);
	admin_audit(a, &ae, "admin.app.remove", "app", name, NULL);
	if ((rc = store_app_remove(a->in->store, a->tenant, name, &ae)) != 1)
		return admin_fail(a, rc == 0 ? ADMIN_NOT_FOUND : ADMIN_FAILED, NULL, "app %s: %s",
		    name, rc == 0 ? "no such app" : "storage error");
	return 0;
}

/* ---- who may reach an app ---- */

/* A refusal of the store; "no such user" and "no such group" say whom. */
static int
assign_fail(struct admin *a, const char *app, const char *kind, const char *name,
    const char *err)
{
	char unknown[32];

	snprintf(unknown, sizeof(unknown), "no such %s", kind);
	if (strcmp(err, unknown) == 0)
		return admin_fail(a, ADMIN_INVALID, kind, "app %s: %s %s", app, err, name);
	if (strcmp(err, "no such app") == 0)
		return admin_fail(a, ADMIN_NOT_FOUND, NULL, "app %s: %s", app, err);
	return admin_fail(a, ADMIN_FAILED, NULL, "app %s: %s", app, err);
}

int
admin_app_assign_changed(struct admin *a, const char *app, const char *kind, const char *name,
    int on, int *changed_r)
{
	struct audit_entry ae;
	const char *err;
	int rc;

	admin_ok(a);
	if (kind == NULL || (strcmp(kind, "user") && strcmp(kind, "group")))
		return admin_fail(a, ADMIN_INVALID, "kind", "an app is assigned to a user or a "
		    "group");
	if (name == NULL || !store_valid_name(name, STORE_NAME_MAX))
		return admin_fail(a, ADMIN_INVALID, kind, "app %s: no such %s %s", app, kind,
		    name ? name : "");
	admin_audit(a, &ae, on ? "admin.app.assign" : "admin.app.unassign", "app", app, kind,
	    name, NULL);
	if ((rc = store_assign(a->in->store, a->tenant, app, kind, name, on, &ae, &err)) == -1)
		return assign_fail(a, app, kind, name, err);
	if (changed_r)
		*changed_r = rc;
	return 0;
}

int
admin_app_assign(struct admin *a, const char *app, const char *kind, const char *name, int on)
{
	return admin_app_assign_changed(a, app, kind, name, on, NULL);
}

int
admin_app_prune_assignments(struct admin *a, const char *app, int *removed_r)
{
	struct audit_entry ae;
	const char *err;
	int rc;

	admin_ok(a);
	admin_audit(a, &ae, "admin.app.unassign", "app", app, "removed", "all", NULL);
	if ((rc = store_assign(a->in->store, a->tenant, app, "removed", NULL, 0, &ae, &err)) == -1)
		return assign_fail(a, app, "removed", NULL, err);
	*removed_r = rc;
	return 0;
}

/* ---- what the portal shows ---- */

/* NULL when s is UTF-8 text of at most max bytes without control characters; else why. */
static const char *
text_refusal(const char *s, size_t max)
{
	if (strlen(s) > max)
		return "too long (display names 256 bytes at most, descriptions 1024)";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "control characters are not allowed";
	if (!xmlCheckUTF8((const xmlChar *)s))
		return "not UTF-8";
	return NULL;
}

/* The texts and the icon of in checked, into d (with the icon's type). */
static int
display_ok(struct admin *a, const struct app_display *in, struct app_display *d)
{
	const char *why, *err;

	*d = *in;
	if (d->display_name && (why = text_refusal(d->display_name, 256)) != NULL)
		return admin_fail(a, ADMIN_INVALID, "display_name", "%s", why);
	if (d->description && (why = text_refusal(d->description, 1024)) != NULL)
		return admin_fail(a, ADMIN_INVALID, "description", "%s", why);
	if (d->icon && d->icon_len) {
		if (d->icon_len > ICON_MAX)
			return admin_fail(a, ADMIN_INVALID, "icon", "larger than 64 KiB");
		if (icon_check(d->icon, d->icon_len, &d->icon_type, &err) == -1)
			return admin_fail(a, ADMIN_INVALID, "icon", "%s", err);
		if (in->icon_type && strcmp(in->icon_type, d->icon_type))
			return admin_fail(a, ADMIN_INVALID, "icon", "the image is %s, not %s",
			    d->icon_type, in->icon_type);
	}
	if (d->initiate_login_uri && *d->initiate_login_uri &&
	    initiate_uri_ok(a, d->initiate_login_uri) == -1)
		return -1;
	return 0;
}

/* An initiate_login_uri is set on OIDC clients only: 0, or -1 after admin_fail. */
static int
oidc_only(struct admin *a, const char *name)
{
	struct app app;
	int rc = store_app_get(a->in->store, a->tenant, name, &app), oidc;

	oidc = rc == 1 && app.type && !strcmp(app.type, "oidc");
	if (rc == 1)
		store_app_clear(&app);
	if (rc != 1)
		return admin_fail(a, rc == 0 ? ADMIN_NOT_FOUND : ADMIN_FAILED, NULL, "app %s: %s",
		    name, rc == 0 ? "no such app" : "storage error");
	if (!oidc)
		return admin_fail(a, ADMIN_INVALID, "initiate_login_uri",
		    "app %s is not an OpenID Connect client", name);
	return 0;
}

int
admin_app_set_display(struct admin *a, const char *name, const struct app_display *in)
{
	struct app_display d;
	struct audit_entry ae;
	char what[64] = "removed";
	const char *err;
	int rc;

	admin_ok(a);
	if (display_ok(a, in, &d) == -1 ||
	    (d.initiate_login_uri && *d.initiate_login_uri && oidc_only(a, name) == -1))
		return -1;
	if (d.icon_len)
		snprintf(what, sizeof(what), "%s %zu bytes", d.icon_type, d.icon_len);
	admin_audit(a, &ae, "admin.app.set", "app", name, "display_name", d.display_name,
	    "description", d.description ? "changed" : NULL, "icon", d.icon ? what : NULL,
	    "initiate_login_uri", d.initiate_login_uri && !*d.initiate_login_uri ? "removed" :
	    d.initiate_login_uri, NULL);
	rc = store_app_set_display(a->in->store, a->tenant, name, &d, &ae, &err);
	if (rc != 1)
		return admin_fail(a, rc == 0 ? ADMIN_NOT_FOUND : ADMIN_FAILED, NULL, "app %s: %s",
		    name, rc == 0 ? "no such app" : err);
	return 0;
}
