/*
 * sekisho app: SAML service providers and OpenID Connect clients of a tenant, who is
 * assigned to them, and how the portal shows them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlstring.h>

#include "audit.h"
#include "cli.h"
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

static void
print_app(const void *rec, void *arg)
{
	const struct app *a = rec;
	printf("%s\t%s\t%s\t%s\n", a->name, a->type, a->entity_id ? a->entity_id : "-",
	    a->nameid_format ? a->nameid_format : "-");
}

/*
 * Every endpoint of the metadata follows the rule of OIDC redirect URIs (http only to a
 * loopback host), with the same words: a browser is sent there with an assertion.
 */
static int
endpoints_ok(const struct spmeta *m, const char *file)
{
	const char *err;

	for (size_t i = 0; i < m->nendpoints; i++)
		if (url_check_app_uri(m->endpoints[i].location, &err) == -1) {
			fail("%s: %s %s: %s", file, m->endpoints[i].element,
			    m->endpoints[i].location, err);
			return 0;
		}
	return 1;
}

int
cmd_app_add_saml(struct cli *c)
{
	const char *name = arg(c, 0), *file = opt(c, "--metadata"), *err;
	const char *nameid = opt(c, "--nameid") ? opt(c, "--nameid") : "persistent";
	struct audit_entry ae;
	struct spmeta m;
	struct app a = { 0 };
	char *xml;
	size_t len;
	int rc;

	if (!store_valid_name(name, 64))
		return fail("app name must be 1-64 characters of a-z A-Z 0-9 . _ @ + -");
	if ((xml = slurp(file, SPMETA_MAX_SIZE, &len, &err)) == NULL)
		return fail("%s: %s", file, err);
	if (saml_global_init() == -1)
		return fail("lasso initialisation failed");
	if (spmeta_parse(xml, len, &m, &err) == -1 || saml_sp_metadata_check(xml, &err) == -1) {
		free(xml);
		return fail("%s: %s", file, err);
	}
	if (!endpoints_ok(&m, file)) {
		spmeta_clear(&m);
		free(xml);
		return EXIT_FAIL;
	}
	a.name = (char *)name;
	a.type = "saml";
	a.entity_id = m.entity_id;
	a.metadata = xml;
	a.nameid_format = (char *)nameid;
	a.created = (uint64_t)clock_now();
	a.sign_response = flag(c, "--sign-response");
	cli_audit(&ae, "admin.app.add", "app", name, "type", "saml", "sp", m.entity_id, NULL);
	rc = store_app_add(c->in.store, c->tenant, &a, &ae, &err);
	if (rc == 0)
		printf("app %s added (SAML SP %s, NameID %s%s%s)\n", name, m.entity_id, nameid,
		    m.has_slo ? "" : ", no Single Logout endpoint",
		    m.authn_requests_signed ? ", signed requests required" : "");
	spmeta_clear(&m);
	free(xml);
	return rc == 0 ? 0 : fail("app %s: %s", name, err);
}

static int
uris_ok(const char *list, const char *what)
{
	char *copy = xstrdup(list ? list : ""), *p = copy;
	const char *err;
	int ok = 1;

	while (ok && *p) {
		size_t n = strcspn(p, "\n");
		char save = p[n];
		p[n] = '\0';
		if (url_check_app_uri(p, &err) == -1) {
			fail("%s %s: %s", what, p, err);
			ok = 0;
		}
		p += n + (save == '\n');
	}
	free(copy);
	return ok;
}

static int
oidc_settings_ok(struct cli *c, struct app *a)
{
	const char *auth = a->auth_method, *grants = a->grant_types;

	for (const char *p = grants; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		size_t n = strcspn(p, ",");
		if (!(n == 18 && !strncmp(p, "authorization_code", n)) &&
		    !(n == 13 && !strncmp(p, "refresh_token", n)) &&
		    !(n == 18 && !strncmp(p, "client_credentials", n)))
			return fail("--grant: authorization_code, refresh_token, client_credentials");
	}
	if (!strcmp(auth, "none") && strstr(grants, "client_credentials"))
		return fail("a public client cannot use client_credentials");
	if (strstr(grants, "authorization_code") && a->redirect_uris == NULL)
		return fail("--redirect-uri is required for the authorization code flow");
	if (!uris_ok(a->redirect_uris, "redirect URI") ||
	    !uris_ok(a->logout_uris, "post-logout redirect URI") ||
	    !uris_ok(a->backchannel_uri, "back-channel logout URI"))
		return 1;
	return 0;
}

int
cmd_app_add_oidc(struct cli *c)
{
	const char *name = arg(c, 0), *jwks_file = opt(c, "--jwks"), *err;
	struct audit_entry ae;
	struct app a = { 0 };
	char *secret = NULL, *jwks = NULL;
	size_t len;
	int rc = 1;

	if (!store_valid_name(name, 64))
		return fail("app name must be 1-64 characters of a-z A-Z 0-9 . _ @ + -");
	if (flag(c, "--public") && opt(c, "--auth"))
		return usage_fail(c, "--public and --auth exclude each other");
	a.name = (char *)name;
	a.type = "oidc";
	a.auth_method = (char *)(flag(c, "--public") ? "none" : opt(c, "--auth") ?
	    opt(c, "--auth") : "client_secret_basic");
	a.id_token_alg = (char *)(opt(c, "--id-token-alg") ? opt(c, "--id-token-alg") : "RS256");
	a.access_token_format = (char *)(opt(c, "--access-token") ? opt(c, "--access-token") :
	    "jwt");
	a.grant_types = (char *)(opt(c, "--grant") ? opt(c, "--grant") :
	    "authorization_code,refresh_token");
	a.redirect_uris = opt_all(c, "--redirect-uri");
	a.logout_uris = opt_all(c, "--post-logout-redirect-uri");
	a.backchannel_uri = (char *)opt(c, "--backchannel-logout-uri");
	if (oidc_settings_ok(c, &a))
		goto done;
	if (!strcmp(a.auth_method, "private_key_jwt")) {
		struct jose_jwks *keys;
		if (jwks_file == NULL || (jwks = slurp(jwks_file, 65536, &len, &err)) == NULL) {
			fail("private_key_jwt needs --jwks FILE%s%s", jwks_file ? ": " : "",
			    jwks_file ? err : "");
			goto done;
		}
		if ((keys = jose_jwks_parse(jwks, &err)) == NULL) {
			fail("%s: %s", jwks_file, err);
			goto done;
		}
		a.assertion_alg = (char *)jose_jwks_alg(keys);
		a.assertion_alg = a.assertion_alg ? xstrdup(a.assertion_alg) : NULL;
		jose_jwks_free(keys);
		if (a.assertion_alg == NULL) {
			fail("%s: keys of one type only (RSA or P-256), so one algorithm is pinned",
			    jwks_file);
			goto done;
		}
		a.jwks = jwks;
	} else if (jwks_file) {
		fail("--jwks is for private_key_jwt");
		goto done;
	}
	a.entity_id = crypto_random_token(16);
	if (!strcmp(a.auth_method, "client_secret_basic") ||
	    !strcmp(a.auth_method, "client_secret_post")) {
		unsigned char h[CRYPTO_SHA256_LEN];
		char hex[65];
		/*
		 * base64url without padding: the secret is pasted into tools that put it in
		 * HTTP Basic without form-encoding it first (curl -u, many SDKs), and Sekisho
		 * form-decodes it as RFC 6749 2.3.1 says; '+' would arrive as a space.
		 */
		secret = crypto_random_token(32);
		crypto_sha256(secret, strlen(secret), h);
		hex_encode(h, sizeof(h), hex);
		a.secret_hash = xstrdup(hex);
	}
	a.created = (uint64_t)clock_now();
	cli_audit(&ae, "admin.app.add", "app", name, "type", "oidc", "client", a.entity_id, NULL);
	if (store_app_add(c->in.store, c->tenant, &a, &ae, &err) == -1) {
		fail("app %s: %s", name, err);
		goto done;
	}
	printf("app %s added (OIDC client, %s)\nclient_id=%s\n", name, a.auth_method, a.entity_id);
	if (secret)
		printf("client_secret=%s\n", secret);
	rc = 0;
done:
	free(a.redirect_uris);
	free(a.logout_uris);
	free(a.entity_id);
	free(a.secret_hash);
	free(a.assertion_alg);
	free(jwks);
	freezero_str(secret);
	return rc;
}

int
cmd_app_list(struct cli *c)
{
	return store_app_list(c->in.store, c->tenant, print_app, NULL) < 0;
}

int
cmd_app_remove(struct cli *c)
{
	const char *name = arg(c, 0);
	struct audit_entry ae;
	int rc;

	cli_audit(&ae, "admin.app.remove", "app", name, NULL);
	if ((rc = store_app_remove(c->in.store, c->tenant, name, &ae)) != 1)
		return fail("app %s: %s", name, rc == 0 ? "no such app" : "storage error");
	printf("app %s removed\n", name);
	return 0;
}

/* ---- who may reach an app ---- */

/* A refusal of the store; "no such user" and "no such group" say whom. */
static int
assign_fail(const char *app, const char *kind, const char *name, const char *err)
{
	char unknown[32];

	snprintf(unknown, sizeof(unknown), "no such %s", kind);
	if (strcmp(err, unknown) == 0)
		return fail("app %s: %s %s", app, err, name);
	return fail("app %s: %s", app, err);
}

/* app unassign --removed: the assignments whose user or group is gone. */
static int
unassign_removed(struct cli *c, const char *app)
{
	struct audit_entry ae;
	const char *err;
	int rc;

	cli_audit(&ae, "admin.app.unassign", "app", app, "removed", "all", NULL);
	if ((rc = store_assign(c->in.store, c->tenant, app, "removed", NULL, 0, &ae, &err)) == -1)
		return fail("app %s: %s", app, err);
	printf("app %s: %s\n", app, rc ? "assignments of removed users and groups unassigned" :
	    "no assignment of a removed user or group");
	return 0;
}

/* app assign and app unassign. */
int
cmd_app_assign(struct cli *c)
{
	const char *app = arg(c, 0), *u = opt(c, "--user"), *g = opt(c, "--group"), *err;
	const char *kind = u ? "user" : "group", *name = u ? u : g;
	int on = !strcmp(c->spec->sub, "assign"), rc;
	struct audit_entry ae;

	if (!on && flag(c, "--removed") && u == NULL && g == NULL)
		return unassign_removed(c, app);
	if ((u != NULL) == (g != NULL) || (!on && flag(c, "--removed")))
		return usage_fail(c, "app %s needs one of --user U or --group G%s", c->spec->sub,
		    on ? "" : " or --removed");
	cli_audit(&ae, on ? "admin.app.assign" : "admin.app.unassign", "app", app, kind, name,
	    NULL);
	if ((rc = store_assign(c->in.store, c->tenant, app, kind, name, on, &ae, &err)) == -1)
		return assign_fail(app, kind, name, err);
	if (on)
		printf("app %s %sassigned to %s:%s\n", app, rc ? "" : "already ", kind, name);
	else if (rc)
		printf("app %s unassigned from %s:%s\n", app, kind, name);
	else
		printf("app %s was not assigned to %s:%s\n", app, kind, name);
	return 0;
}

/* ---- app show ---- */

static void
print_app_fields(const struct app *a)
{
	printf("name=%s\ntype=%s\nid=%s\n%s=%s\ndisplay_name=%s\ndescription=%s\n", a->name,
	    a->type, a->id, strcmp(a->type, "oidc") ? "entity_id" : "client_id",
	    a->entity_id ? a->entity_id : "", a->display_name ? a->display_name : "",
	    a->description ? a->description : "");
	if (a->icon_len)
		printf("icon=%s %zu bytes\n", a->icon_type ? a->icon_type : "?", a->icon_len);
	else
		printf("icon=\n");
}

/* The app's own device-required shorthand setting. */
static void
print_app_device(const void *rec, void *arg)
{
	const struct policy *p = rec;

	if (!strcmp(p->kind, "app") && !strcmp(p->target, arg) &&
	    !strcmp(p->key, "device_required"))
		printf("device_required=%s\n", p->value);
}

static void
print_assignment(const void *rec, void *arg)
{
	const struct assignment *a = rec;
	int *n = arg;

	printf("assigned=%s:%s\n", a->kind, a->name ? a->name : "?removed");
	++*n;
}

int
cmd_app_show(struct cli *c)
{
	const char *name = arg(c, 0);
	struct app a;
	int rc = store_app_get(c->in.store, c->tenant, name, &a), n = 0;

	if (rc != 1) {
		store_app_clear(&a);
		return fail("app %s: %s", name, rc == 0 ? "no such app" : "storage error");
	}
	print_app_fields(&a);
	if (store_policy_list(c->in.store, c->tenant, print_app_device, a.id) < 0 ||
	    store_assignments(c->in.store, c->tenant, name, print_assignment, &n) < 0)
		rc = -1;
	else if (n == 0)
		printf("assigned=everyone\n");
	store_app_clear(&a);
	return rc == 1 ? 0 : fail("storage error");
}

/* ---- app set: what the portal shows ---- */

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

/* The icon file into d (data owned by *data_r); 0, or an exit status after a message. */
static int
load_icon(const char *path, struct app_display *d, char **data_r)
{
	const char *err, *type;
	size_t len;
	char *data = slurp_binary(path, ICON_MAX, &len, &err);

	if (data == NULL)
		return fail("--icon %s: %s", path, strcmp(err, "file too large") ? err :
		    "larger than 64 KiB");
	if (icon_check(data, len, &type, &err) == -1) {
		free(data);
		return fail("--icon %s: %s", path, err);
	}
	d->icon = (const unsigned char *)data;
	d->icon_len = len;
	d->icon_type = type;
	*data_r = data;
	return 0;
}

/* What the options of app set ask for, into d; 0, or an exit status after a message. */
static int
display_options(struct cli *c, struct app_display *d, char **icon_r)
{
	const char *icon = opt(c, "--icon"), *why;

	memset(d, 0, sizeof(*d));
	d->display_name = opt(c, "--display-name");
	d->description = opt(c, "--description");
	if (!d->display_name && !d->description && !icon && !flag(c, "--no-icon"))
		return usage_fail(c, "app set needs --display-name, --description, --icon or "
		    "--no-icon");
	if (icon && flag(c, "--no-icon"))
		return usage_fail(c, "--icon and --no-icon exclude each other");
	if (d->display_name && (why = text_refusal(d->display_name, 256)) != NULL)
		return fail("--display-name: %s", why);
	if (d->description && (why = text_refusal(d->description, 1024)) != NULL)
		return fail("--description: %s", why);
	if (flag(c, "--no-icon"))
		d->icon = (const unsigned char *)"";	/* icon_len 0: cleared */
	return icon ? load_icon(icon, d, icon_r) : 0;
}

int
cmd_app_set(struct cli *c)
{
	const char *name = arg(c, 0), *err;
	struct app_display d;
	struct audit_entry ae;
	char *icon = NULL, what[64] = "removed";
	int rc;

	if ((rc = display_options(c, &d, &icon)) != 0)
		return rc;
	if (d.icon_len)
		snprintf(what, sizeof(what), "%s %zu bytes", d.icon_type, d.icon_len);
	cli_audit(&ae, "admin.app.set", "app", name, "display_name", d.display_name,
	    "description", d.description ? "changed" : NULL, "icon", d.icon ? what : NULL, NULL);
	rc = store_app_set_display(c->in.store, c->tenant, name, &d, &ae, &err);
	free(icon);
	if (rc != 1)
		return fail("app %s: %s", name, rc == 0 ? "no such app" : err);
	printf("app %s updated\n", name);
	return 0;
}
