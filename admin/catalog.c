/*
 * Apps from catalog templates: the template is filled in with the admin's parameters,
 * the app added through admin_app_add_saml or admin_app_add_oidc (so the metadata and
 * URIs pass the same checks as any other app), the portal shows the template's name,
 * description and icon, and the answer lists what the admin pastes into the app.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_app.h"
#include "admin_catalog.h"
#include "pki.h"
#include "store.h"
#include "xmalloc.h"

/* The first active SAML signing certificate of the tenant. */
static void
active_cert(const void *rec, void *arg)
{
	const struct keyrec *k = rec;
	char **pem = arg;

	if (*pem == NULL && k->state == STORE_KEY_ACTIVE && k->cert_pem)
		*pem = xstrdup(k->cert_pem);
}

static char *
saml_cert(struct admin *a, int fingerprint)
{
	char *pem = NULL, fp[96];

	if (store_key_list(a->in->store, a->tenant, "saml", active_cert, &pem) < 0 || !pem)
		return xstrdup("");
	if (!fingerprint)
		return pem;
	if (pki_cert_fingerprint(pem, fp) == -1)
		fp[0] = '\0';
	free(pem);
	return xstrdup(fp);
}

char *
admin_paste_value(struct admin *a, const char *k)
{
	static const struct {
		const char *key, *path;
	} urls[] = {
		{ "idp_entity_id", "/saml/metadata" }, { "metadata_url", "/saml/metadata" },
		{ "sso_url", "/saml/sso" }, { "slo_url", "/saml/slo" }, { "issuer", "" },
		{ "discovery_url", "/.well-known/openid-configuration" },
	};

	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		if (!strcmp(k, urls[i].key))
			return xasprintf("%s/t/%s%s", a->in->settings.url, a->tenant, urls[i].path);
	if (!strcmp(k, "certificate") || !strcmp(k, "certificate_sha256"))
		return saml_cert(a, !strcmp(k, "certificate_sha256"));
	return NULL;
}

static void
fill_paste(struct admin *a, const struct catalog_tmpl *t, const char *client_id,
    char **secret, struct admin_catalog_added *out)
{
	for (size_t i = 0; i < t->npaste; i++) {
		struct admin_paste *p = &out->paste[out->npaste];
		const char *k = t->paste[i].key;
		p->key = k;
		p->label = t->paste[i].label;
		if (!strcmp(k, "client_id"))
			p->value = xstrdup(client_id ? client_id : "");
		else if (!strcmp(k, "client_secret")) {
			p->value = *secret ? *secret : xstrdup("");
			*secret = NULL;
		} else
			p->value = admin_paste_value(a, k);
		if (p->value)
			out->npaste++;
	}
}

static int
add_saml(struct admin *a, const struct catalog_tmpl *t, const char *name,
    const struct catalog_app *app)
{
	struct admin_saml_app in = {
		.name = name,
		.metadata = app->metadata,
		.metadata_len = strlen(app->metadata),
		.nameid = app->nameid,
		.sign_response = t->sign_response,
	};

	return admin_app_add_saml(a, &in);
}

static int
add_oidc(struct admin *a, const struct catalog_tmpl *t, const char *name,
    const struct catalog_app *app, char **client_id, char **secret)
{
	struct admin_oidc_app in = {
		.name = name,
		.redirect_uris = (const char *const *)app->redirect,
		.n_redirect = app->nredirect,
		.logout_uris = (const char *const *)app->logout,
		.n_logout = app->nlogout,
		.public_client = t->auth && !strcmp(t->auth, "none"),
		.auth = t->auth && strcmp(t->auth, "none") ? t->auth : NULL,
		.grants = t->grants,
	};

	return admin_app_add_oidc(a, &in, client_id, secret);
}

/* What the portal shows: the template's names and icon.  -1 removes the app again. */
static int
set_display(struct admin *a, const struct catalog_tmpl *t, const char *name)
{
	struct app_display d = {
		.display_name = t->display_name,
		.description = t->description,
		.icon = (const unsigned char *)t->icon,
		.icon_len = t->icon ? strlen(t->icon) : 0,
		.icon_type = t->icon ? "image/svg+xml" : NULL,
	};
	struct admin keep;

	if (admin_app_set_display(a, name, &d) == 0)
		return 0;
	keep = *a;
	admin_app_remove(a, name);
	*a = keep;
	return -1;
}

int
admin_app_add_template(struct admin *a, const struct catalog *cat, const char *tmpl,
    const char *name, const char *const *names, const char *const *values, size_t n,
    struct admin_catalog_added *out)
{
	const struct catalog_tmpl *t = catalog_find(cat, tmpl ? tmpl : "");
	char *client_id = NULL, *secret = NULL;
	struct catalog_app app;
	const char *param;
	struct buf err;
	int rc;

	memset(out, 0, sizeof(*out));
	admin_ok(a);
	if (t == NULL)
		return admin_fail(a, ADMIN_NOT_FOUND, "template", "no template %s in the catalog "
		    "(sekisho app catalog lists them)", tmpl ? tmpl : "");
	buf_init(&err, 0);
	rc = catalog_instantiate(t, names, values, n, &app, &param, &err);
	if (rc == -1) {
		/* the API's member: parameters.NAME of the parameter at fault */
		snprintf(a->field_buf, sizeof(a->field_buf), "parameters%s%.64s", param ? "." : "",
		    param ? param : "");
		admin_fail(a, ADMIN_INVALID, a->field_buf, "template %s: %s", t->name, err.data);
	}
	buf_free(&err);
	if (rc == -1)
		return -1;
	if (!strcmp(t->protocol, "saml"))
		rc = add_saml(a, t, name, &app);
	else
		rc = add_oidc(a, t, name, &app, &client_id, &secret);
	if (rc == 0)
		rc = set_display(a, t, name);
	if (rc == 0) {
		out->entity_id = client_id ? xstrdup(client_id) : xstrdup(app.entity_id);
		fill_paste(a, t, client_id, &secret, out);
	}
	catalog_app_clear(&app);
	free(client_id);
	freezero_str(secret);
	return rc;
}

void
admin_catalog_added_clear(struct admin_catalog_added *out)
{
	for (size_t i = 0; i < out->npaste; i++)
		freezero_str(out->paste[i].value);
	free(out->entity_id);
	memset(out, 0, sizeof(*out));
}
