/*
 * sekisho app: SAML service providers and OpenID Connect clients of a tenant, who is
 * assigned to them, and how the portal shows them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_app.h"
#include "cli.h"
#include "icon.h"
#include "spmeta.h"
#include "store.h"
#include "xmalloc.h"

static void
print_app(const void *rec, void *arg)
{
	const struct app *a = rec;
	printf("%s\t%s\t%s\t%s\n", a->name, a->type, a->entity_id ? a->entity_id : "-",
	    a->nameid_format ? a->nameid_format : "-");
}

/*
 * "sekisho: " and c->adm's message, after what the field at fault is on this command
 * line: a file or an option (map: field, prefix pairs, NULL-terminated).
 */
static int
adm_fail(struct cli *c, const char *const *map)
{
	for (; c->adm.status == ADMIN_INVALID && c->adm.field && map[0]; map += 2)
		if (map[1] && !strcmp(map[0], c->adm.field))
			return fail("%s: %s", map[1], c->adm.msg);
	return fail("%s", c->adm.msg);
}

int
cmd_app_add_saml(struct cli *c)
{
	const char *name = arg(c, 0), *file = opt(c, "--metadata"), *err;
	const char *map[] = { "metadata", file, NULL };
	struct admin_saml_app in = { 0 };
	struct spmeta m;
	char *xml;
	size_t len;

	if ((xml = slurp(file, SPMETA_MAX_SIZE, &len, &err)) == NULL)
		return fail("%s: %s", file, err);
	in.name = name;
	in.metadata = xml;
	in.metadata_len = len;
	in.nameid = opt(c, "--nameid") ? opt(c, "--nameid") : "persistent";
	in.sign_response = flag(c, "--sign-response");
	if (admin_app_add_saml(&c->adm, &in) == -1) {
		free(xml);
		return adm_fail(c, map);
	}
	/* Read again only for what to tell: the admin layer checked and stored it. */
	if (spmeta_parse(xml, len, &m, &err) == 0) {
		printf("app %s added (SAML SP %s, NameID %s%s%s)\n", name, m.entity_id, in.nameid,
		    m.has_slo ? "" : ", no Single Logout endpoint",
		    m.authn_requests_signed ? ", signed requests required" : "");
		spmeta_clear(&m);
	}
	free(xml);
	return 0;
}

/* The client's JWKS file, which only private_key_jwt takes; 0, or an exit status. */
static int
read_jwks(struct cli *c, const char *auth, char **jwks_r)
{
	const char *file = opt(c, "--jwks"), *err = NULL;
	size_t len;

	*jwks_r = NULL;
	if (strcmp(auth, "private_key_jwt"))
		return file ? fail("--jwks is for private_key_jwt") : 0;
	if (file == NULL || (*jwks_r = slurp(file, 65536, &len, &err)) == NULL)
		return fail("private_key_jwt needs --jwks FILE%s%s", file ? ": " : "",
		    file ? err : "");
	return 0;
}

/* Every value of a repeatable option, in order (a new array of borrowed strings). */
static const char **
opt_values(const struct cli *c, const char *name, size_t *n_r)
{
	const char **v = xcalloc((size_t)c->nopts + 1, sizeof(*v));
	size_t n = 0;

	for (int i = 0; i < c->nopts; i++)
		if (!strcmp(c->opts[i].name, name) && c->opts[i].value)
			v[n++] = c->opts[i].value;
	*n_r = n;
	return v;
}

int
cmd_app_add_oidc(struct cli *c)
{
	const char *map[] = { "jwks", opt(c, "--jwks"), "grant_types", "--grant",
		"initiate_login_uri", "--initiate-login-uri", NULL };
	struct admin_oidc_app in = { 0 };
	char *jwks = NULL, *client_id = NULL, *secret = NULL;
	const char *auth;
	int rc = 1;

	if (flag(c, "--public") && opt(c, "--auth"))
		return usage_fail(c, "--public and --auth exclude each other");
	auth = flag(c, "--public") ? "none" : opt(c, "--auth") ? opt(c, "--auth") :
	    "client_secret_basic";
	if ((rc = read_jwks(c, auth, &jwks)) != 0)
		return rc;
	in.name = arg(c, 0);
	in.redirect_uris = opt_values(c, "--redirect-uri", &in.n_redirect);
	in.logout_uris = opt_values(c, "--post-logout-redirect-uri", &in.n_logout);
	in.public_client = flag(c, "--public");
	in.auth = opt(c, "--auth");
	in.jwks = jwks;
	in.id_token_alg = opt(c, "--id-token-alg");
	in.access_token = opt(c, "--access-token");
	in.backchannel_uri = opt(c, "--backchannel-logout-uri");
	in.grants = opt(c, "--grant");
	in.initiate_login_uri = opt(c, "--initiate-login-uri");
	if ((rc = admin_app_add_oidc(&c->adm, &in, &client_id, &secret)) == -1) {
		rc = adm_fail(c, map);
		goto done;
	}
	printf("app %s added (OIDC client, %s)\nclient_id=%s\n", in.name, auth, client_id);
	if (secret)
		printf("client_secret=%s\n", secret);
done:
	free((void *)in.redirect_uris);
	free((void *)in.logout_uris);
	free(jwks);
	free(client_id);
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

	if (admin_app_remove(&c->adm, name) == -1)
		return fail("%s", c->adm.msg);
	printf("app %s removed\n", name);
	return 0;
}

/* ---- who may reach an app ---- */

/* app unassign --removed: the assignments whose user or group is gone. */
static int
unassign_removed(struct cli *c, const char *app)
{
	int removed;

	if (admin_app_prune_assignments(&c->adm, app, &removed) == -1)
		return fail("%s", c->adm.msg);
	printf("app %s: %s\n", app, removed ? "assignments of removed users and groups "
	    "unassigned" : "no assignment of a removed user or group");
	return 0;
}

/* app assign and app unassign. */
int
cmd_app_assign(struct cli *c)
{
	const char *app = arg(c, 0), *u = opt(c, "--user"), *g = opt(c, "--group");
	const char *kind = u ? "user" : "group", *name = u ? u : g;
	int on = !strcmp(c->spec->sub, "assign"), changed;

	if (!on && flag(c, "--removed") && u == NULL && g == NULL)
		return unassign_removed(c, app);
	if ((u != NULL) == (g != NULL) || (!on && flag(c, "--removed")))
		return usage_fail(c, "app %s needs one of --user U or --group G%s", c->spec->sub,
		    on ? "" : " or --removed");
	if (admin_app_assign_changed(&c->adm, app, kind, name, on, &changed) == -1)
		return fail("%s", c->adm.msg);
	if (on)
		printf("app %s %sassigned to %s:%s\n", app, changed ? "" : "already ", kind, name);
	else if (changed)
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

/* The icon file into d (data owned by *data_r); 0, or an exit status after a message. */
static int
load_icon(const char *path, struct app_display *d, char **data_r)
{
	const char *err;
	size_t len;
	char *data = slurp_binary(path, ICON_MAX, &len, &err);

	if (data == NULL)
		return fail("--icon %s: %s", path, strcmp(err, "file too large") ? err :
		    "larger than 64 KiB");
	d->icon = (const unsigned char *)data;
	d->icon_len = len;
	*data_r = data;
	return 0;
}

/* What the options of app set ask for, into d; 0, or an exit status after a message. */
static int
display_options(struct cli *c, struct app_display *d, char **icon_r)
{
	const char *icon = opt(c, "--icon");

	memset(d, 0, sizeof(*d));
	d->display_name = opt(c, "--display-name");
	d->description = opt(c, "--description");
	d->initiate_login_uri = flag(c, "--no-initiate-login-uri") ? "" :
	    opt(c, "--initiate-login-uri");
	if (!d->display_name && !d->description && !icon && !flag(c, "--no-icon") &&
	    !d->initiate_login_uri)
		return usage_fail(c, "app set needs --display-name, --description, --icon, "
		    "--no-icon, --initiate-login-uri or --no-initiate-login-uri");
	if (icon && flag(c, "--no-icon"))
		return usage_fail(c, "--icon and --no-icon exclude each other");
	if (opt(c, "--initiate-login-uri") && flag(c, "--no-initiate-login-uri"))
		return usage_fail(c, "--initiate-login-uri and --no-initiate-login-uri exclude "
		    "each other");
	if (flag(c, "--no-icon"))
		d->icon = (const unsigned char *)"";	/* icon_len 0: cleared */
	return icon ? load_icon(icon, d, icon_r) : 0;
}

int
cmd_app_set(struct cli *c)
{
	const char *name = arg(c, 0);
	char *icon = NULL, *icon_opt = xasprintf("--icon %s", opt(c, "--icon") ?
	    opt(c, "--icon") : "");
	const char *map[] = { "display_name", "--display-name", "description", "--description",
		"icon", icon_opt, "initiate_login_uri", "--initiate-login-uri", NULL };
	struct app_display d;
	int rc;

	if ((rc = display_options(c, &d, &icon)) == 0) {
		if (admin_app_set_display(&c->adm, name, &d) == 0)
			printf("app %s updated\n", name);
		else
			rc = adm_fail(c, map);
	}
	free(icon);
	free(icon_opt);
	return rc;
}
