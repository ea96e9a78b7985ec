/*
 * The admin API's apps: SAML service providers from their metadata and OpenID Connect
 * clients (created through admin_app.h, as the command line does), their portal texts,
 * removal, and who is assigned to them.  Never shows a client secret's hash; the
 * metadata only at apps/{name}/metadata.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "admin_app.h"
#include "api.h"
#include "form.h"
#include "http.h"
#include "store.h"
#include "xmalloc.h"

/* A newline- or comma-separated store list as a JSON array of strings. */
static json_t *
split_array(const char *list, const char *sep)
{
	json_t *v = json_array();

	for (const char *p = list; p && *p; ) {
		size_t n = strcspn(p, sep);
		if (n)
			json_array_append_new(v, json_stringn(p, n));
		p += n + (p[n] != '\0');
	}
	return v;
}

static json_t *
str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static void
oidc_members(json_t *o, const struct app *a)
{
	json_object_set_new(o, "client_id", json_string(a->entity_id ? a->entity_id : ""));
	json_object_set_new(o, "token_endpoint_auth_method",
	    json_string(a->auth_method ? a->auth_method : ""));
	json_object_set_new(o, "public", json_boolean(a->auth_method &&
	    !strcmp(a->auth_method, "none")));
	json_object_set_new(o, "redirect_uris", split_array(a->redirect_uris, "\n"));
	json_object_set_new(o, "post_logout_redirect_uris", split_array(a->logout_uris, "\n"));
	json_object_set_new(o, "grant_types", split_array(a->grant_types, ","));
	json_object_set_new(o, "id_token_alg", json_string(a->id_token_alg ? a->id_token_alg :
	    "RS256"));
	json_object_set_new(o, "access_token_format", json_string(a->access_token_format ?
	    a->access_token_format : "jwt"));
	json_object_set_new(o, "backchannel_logout_uri", str_or_null(a->backchannel_uri));
	json_object_set_new(o, "has_jwks", json_boolean(a->jwks != NULL));
	json_object_set_new(o, "initiate_login_uri", str_or_null(a->initiate_login_uri));
}

/* The app as GET shows it (and as its ETag and the audit record see it). */
static json_t *
app_json(const struct app *a)
{
	json_t *o = json_object();
	int oidc = a->type && !strcmp(a->type, "oidc");

	json_object_set_new(o, "name", json_string(a->name));
	json_object_set_new(o, "id", json_string(a->id ? a->id : ""));
	json_object_set_new(o, "type", json_string(oidc ? "oidc" : "saml"));
	if (oidc)
		oidc_members(o, a);
	else {
		json_object_set_new(o, "entity_id", json_string(a->entity_id ? a->entity_id : ""));
		json_object_set_new(o, "nameid_format", json_string(a->nameid_format ?
		    a->nameid_format : "persistent"));
		json_object_set_new(o, "sign_response", json_boolean(a->sign_response != 0));
	}
	json_object_set_new(o, "display_name", str_or_null(a->display_name));
	json_object_set_new(o, "description", str_or_null(a->description));
	json_object_set_new(o, "has_icon", json_boolean(a->icon_len > 0));
	json_object_set_new(o, "created", api_time(a->created));
	return o;
}

/* The app called name as JSON, or NULL after answering 404 (or 500). */
static json_t *
app_get(struct api_call *c, const char *name)
{
	struct app a;
	json_t *o = NULL;
	int rc = store_app_get(c->adm.in->store, c->adm.tenant, name, &a);

	if (rc == 1)
		o = app_json(&a);
	else if (rc == 0)
		api_not_found(c, "app");
	else
		api_error(c, 500, "internal", NULL, "storage error");
	store_app_clear(&a);
	return o;
}

/* ---- GET apps ---- */

struct list_arg {
	json_t *items;
	const char *type;
};

static void
list_one(const void *rec, void *arg)
{
	const struct app *a = rec;
	struct list_arg *la = arg;

	if (la->type == NULL || (a->type && !strcmp(a->type, la->type)))
		json_array_append_new(la->items, app_json(a));
}

/* A page of items (each with its sort key in member key), answered; items is stolen. */
static void
page_of(struct api_call *c, json_t *items, const char *key)
{
	struct api_page pg;
	size_t i;
	json_t *o;

	if (api_page_init(c, &pg) == -1) {
		json_decref(items);
		return;
	}
	json_array_foreach(items, i, o) {
		char *k = xstrdup(json_string_value(json_object_get(o, key)));
		if (strcmp(key, "name"))
			json_object_del(o, key);
		api_page_add(&pg, k, json_incref(o));
		free(k);
	}
	json_decref(items);
	api_page_reply(c, &pg);
}

static void
apps_list(struct api_call *c)
{
	const char *type = form_get(c->query, "type");
	struct list_arg la = { json_array(), type };

	if (type && strcmp(type, "saml") && strcmp(type, "oidc")) {
		json_decref(la.items);
		api_error(c, 400, "invalid_request", "type", "type is saml or oidc");
		return;
	}
	if (store_app_list(c->adm.in->store, c->adm.tenant, list_one, &la) < 0) {
		json_decref(la.items);
		api_error(c, 500, "internal", NULL, "storage error");
		return;
	}
	page_of(c, la.items, "name");
}

/* ---- POST apps ---- */

/*
 * A member that is an array of strings (absent: none) as a new array of borrowed strings;
 * -1 after answering 400.
 */
static int
get_str_array(struct api_call *c, const char *field, const char ***v_r, size_t *n_r)
{
	json_t *a = json_object_get(c->body, field), *s;
	size_t i;

	*v_r = xcalloc(a && json_is_array(a) ? json_array_size(a) + 1 : 1, sizeof(**v_r));
	*n_r = 0;
	if (a == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a)) {
		api_error(c, 400, "invalid_request", field, "%s must be an array of strings", field);
		return -1;
	}
	json_array_foreach(a, i, s) {
		if (!json_is_string(s)) {
			api_error(c, 400, "invalid_request", field, "%s must be an array of strings",
			    field);
			return -1;
		}
		(*v_r)[(*n_r)++] = json_string_value(s);
	}
	return 0;
}

/* The answer to a creation: the app (as GET shows it) with what is shown only now. */
static void
created(struct api_call *c, const char *name, const char *secret)
{
	json_t *o = app_get(c, name);
	char *loc;

	if (o == NULL)
		return;
	api_audit_change(c, NULL, json_deep_copy(o));
	if (secret)
		json_object_set_new(o, "client_secret", json_string(secret));
	loc = xasprintf("apps/%s", name);
	api_created(c, loc, o);
	free(loc);
}

static void
create_saml(struct api_call *c, const char *name)
{
	static const char *const allowed[] = { "name", "type", "metadata", "nameid_format",
		"sign_response", NULL };
	json_t *md = json_object_get(c->body, "metadata");
	struct admin_saml_app in = { .name = name };

	if (api_only_fields(c, allowed) == -1 ||
	    api_get_str(c, "nameid_format", 0, 32, &in.nameid) == -1 ||
	    api_get_bool(c, "sign_response", 0, &in.sign_response) == -1)
		return;
	/* XML has line breaks, which api_get_str refuses: the admin layer checks it. */
	if (!json_is_string(md)) {
		api_error(c, 400, "invalid_request", "metadata", "metadata (the SP's metadata "
		    "XML) is required");
		return;
	}
	in.metadata = json_string_value(md);
	in.metadata_len = json_string_length(md);
	if (admin_app_add_saml(&c->adm, &in) == -1)
		api_admin_error(c);
	else
		created(c, name, NULL);
}

/* The OIDC members other than the lists and the JWKS, into in. */
static int
oidc_strings(struct api_call *c, struct admin_oidc_app *in)
{
	return api_get_bool(c, "public", 0, &in->public_client) == -1 ||
	    api_get_str(c, "token_endpoint_auth_method", 0, 32, &in->auth) == -1 ||
	    api_get_str(c, "id_token_alg", 0, 16, &in->id_token_alg) == -1 ||
	    api_get_str(c, "access_token_format", 0, 16, &in->access_token) == -1 ||
	    api_get_str(c, "backchannel_logout_uri", 0, 4096, &in->backchannel_uri) == -1 ||
	    api_get_str(c, "initiate_login_uri", 0, 4096, &in->initiate_login_uri) == -1 ? -1 : 0;
}

/* grant_types as the comma-separated list of the store (new), or NULL: the default. */
static int
oidc_grants(struct api_call *c, char **grants_r)
{
	json_t *g = json_object_get(c->body, "grant_types");
	const char **v;
	size_t n;

	*grants_r = NULL;
	if (get_str_array(c, "grant_types", &v, &n) == -1) {
		free(v);
		return -1;
	}
	if (g && !json_is_null(g)) {
		*grants_r = xstrdup("");
		for (size_t i = 0; i < n; i++) {
			char *t = xasprintf("%s%s%s", *grants_r, i ? "," : "", v[i]);
			free(*grants_r);
			*grants_r = t;
		}
	}
	free(v);
	return 0;
}

static void
create_oidc(struct api_call *c, const char *name)
{
	static const char *const allowed[] = { "name", "type", "redirect_uris", "public",
		"token_endpoint_auth_method", "jwks", "post_logout_redirect_uris", "id_token_alg",
		"access_token_format", "backchannel_logout_uri", "grant_types",
		"initiate_login_uri", NULL };
	struct admin_oidc_app in = { .name = name };
	json_t *jwks = json_object_get(c->body, "jwks");
	char *grants = NULL, *jwks_text = NULL, *client_id = NULL, *secret = NULL;

	if (api_only_fields(c, allowed) == -1 || oidc_strings(c, &in) == -1 ||
	    get_str_array(c, "redirect_uris", (const char ***)&in.redirect_uris,
	    &in.n_redirect) == -1 ||
	    get_str_array(c, "post_logout_redirect_uris", (const char ***)&in.logout_uris,
	    &in.n_logout) == -1 || oidc_grants(c, &grants) == -1)
		goto done;
	if (jwks && !json_is_null(jwks) && !json_is_object(jwks)) {
		api_error(c, 400, "invalid_request", "jwks", "jwks is a JWK Set (an object)");
		goto done;
	}
	if (jwks && json_is_object(jwks))
		jwks_text = json_dumps(jwks, JSON_COMPACT);
	in.jwks = jwks_text;
	in.grants = grants;
	if (admin_app_add_oidc(&c->adm, &in, &client_id, &secret) == -1)
		api_admin_error(c);
	else
		created(c, name, secret);
done:
	free((void *)in.redirect_uris);
	free((void *)in.logout_uris);
	free(grants);
	free(jwks_text);
	free(client_id);
	freezero_str(secret);
}

static void
app_create(struct api_call *c)
{
	const char *name, *type;

	if (api_get_str(c, "name", 1, STORE_NAME_MAX, &name) == -1 ||
	    api_get_str(c, "type", 1, 16, &type) == -1)
		return;
	if (!strcmp(type, "saml"))
		create_saml(c, name);
	else if (!strcmp(type, "oidc"))
		create_oidc(c, name);
	else
		api_error(c, 400, "invalid_request", "type", "type is saml or oidc");
}

/* ---- GET, PATCH, DELETE apps/{name} ---- */

static void
app_show(struct api_call *c)
{
	json_t *o = app_get(c, c->params[0]);

	if (o == NULL)
		return;
	api_set_etag(c, o);
	api_reply(c, 200, o);
}

/* A text member of PATCH: absent NULL (unchanged), null or "" cleared (""). */
static int
patch_text(struct api_call *c, const char *field, const char **out)
{
	json_t *v = json_object_get(c->body, field);

	*out = NULL;
	if (v && json_is_null(v)) {
		*out = "";
		return 0;
	}
	/* The admin layer says what is wrong with a text (too long, control characters). */
	if (v && !json_is_string(v)) {
		api_error(c, 400, "invalid_request", field, "%s is a string or null", field);
		return -1;
	}
	*out = v ? json_string_value(v) : NULL;
	return 0;
}

/*
 * What the portal shows of the app called name changed by d (when change is set), and the
 * answer: the app as it is now, audited against before (stolen).
 */
static void
display_apply(struct api_call *c, const char *name, json_t *before, const struct app_display *d,
    int change)
{
	int rc = change ? admin_app_set_display(&c->adm, name, d) : 0;

	api_updated(c, before, rc, rc == 0 ? app_get(c, name) : NULL);
}

static void
app_patch(struct api_call *c)
{
	static const char *const allowed[] = { "display_name", "description",
		"initiate_login_uri", NULL };
	const char *name = c->params[0];
	struct app_display d = { 0 };
	json_t *before = app_get(c, name);

	if (before == NULL)
		return;
	if (api_if_match(c, before) == -1 || api_only_fields(c, allowed) == -1 ||
	    patch_text(c, "display_name", &d.display_name) == -1 ||
	    patch_text(c, "description", &d.description) == -1 ||
	    patch_text(c, "initiate_login_uri", &d.initiate_login_uri) == -1) {
		json_decref(before);
		return;
	}
	display_apply(c, name, before, &d, d.display_name || d.description ||
	    d.initiate_login_uri);
}

static void
app_delete(struct api_call *c)
{
	json_t *before = app_get(c, c->params[0]);

	if (before == NULL)
		return;
	if (api_if_match(c, before) == -1) {
		json_decref(before);
		return;
	}
	api_deleted(c, before, admin_app_remove(&c->adm, c->params[0]));
}

/* GET apps/{name}/metadata: the SAML SP's metadata as registered. */
static void
app_metadata(struct api_call *c)
{
	struct app a;
	int rc = store_app_get(c->adm.in->store, c->adm.tenant, c->params[0], &a);

	if (rc == 1 && a.metadata && a.type && !strcmp(a.type, "saml"))
		api_reply(c, 200, json_pack("{s:s, s:s}", "entity_id", a.entity_id ?
		    a.entity_id : "", "metadata", a.metadata));
	else if (rc == -1)
		api_error(c, 500, "internal", NULL, "storage error");
	else
		api_not_found(c, rc == 1 ? "SAML metadata" : "app");
	store_app_clear(&a);
}

/* ---- assignments ---- */

/* {"kind", "name"} with its sort key (kind, then name; removed ones last) in "_key". */
static void
assignment_one(const void *rec, void *arg)
{
	const struct assignment *a = rec;
	int gone = a->name == NULL || !strcmp(a->name, "?removed");
	char *key = xasprintf("%s:%s", a->kind, gone ? "~" : a->name);

	/* '~' follows every character of a name. */
	json_array_append_new(arg, json_pack("{s:s, s:o, s:s}", "kind", a->kind,
	    "name", gone ? json_null() : json_string(a->name), "_key", key));
	free(key);
}

static void
assignments_list(struct api_call *c)
{
	json_t *app = app_get(c, c->params[0]), *items;

	if (app == NULL)
		return;
	json_decref(app);
	items = json_array();
	if (store_assignments(c->adm.in->store, c->adm.tenant, c->params[0], assignment_one,
	    items) < 0) {
		json_decref(items);
		api_error(c, 500, "internal", NULL, "storage error");
		return;
	}
	page_of(c, items, "_key");
}

/* PUT and DELETE apps/{name}/assignments/{users|groups}/{who}. */
static void
assignment_write(struct api_call *c, const char *kind, int on)
{
	json_t *a = json_pack("{s:s, s:s, s:s}", "app", c->params[0], "kind", kind, "name",
	    c->params[1]);
	int changed;

	if (admin_app_assign_changed(&c->adm, c->params[0], kind, c->params[1], on,
	    &changed) == -1) {
		json_decref(a);
		api_admin_error(c);
		return;
	}
	if (changed)
		api_audit_change(c, on ? NULL : json_incref(a), on ? json_incref(a) : NULL);
	json_decref(a);
	api_reply(c, 204, NULL);
}

static void
assign_user(struct api_call *c)
{
	assignment_write(c, "user", 1);
}

static void
unassign_user(struct api_call *c)
{
	assignment_write(c, "user", 0);
}

static void
assign_group(struct api_call *c)
{
	assignment_write(c, "group", 1);
}

static void
unassign_group(struct api_call *c)
{
	assignment_write(c, "group", 0);
}

/* POST apps/{name}/assignments/prune: app unassign APP --removed. */
static void
assignments_prune(struct api_call *c)
{
	int removed;

	if (api_only_fields(c, (const char *const[]){ NULL }) == -1)
		return;
	if (admin_app_prune_assignments(&c->adm, c->params[0], &removed) == -1) {
		api_admin_error(c);
		return;
	}
	if (removed)
		api_audit_change(c, json_pack("{s:s, s:i}", "app", c->params[0], "removed",
		    removed), NULL);
	api_reply(c, 200, json_pack("{s:i}", "removed", removed));
}

/* ---- the portal's icon ---- */

static const char *const icon_types[] = { "image/png", "image/svg+xml", NULL };

/* GET apps/{name}/icon: the image with its type. */
static void
icon_get(struct api_call *c)
{
	struct app a;
	int rc = store_app_get(c->adm.in->store, c->adm.tenant, c->params[0], &a);

	if (rc == 1 && a.icon_len && a.icon_type) {
		c->answered = 1;
		/* An SVG opened on its own must not run anything in the tenant's origin. */
		http_set_csp(c->req, "default-src 'none'; style-src 'unsafe-inline'; sandbox");
		http_status(c->req, 200);
		http_body_copy(c->req, a.icon_type, a.icon, a.icon_len);
	} else if (rc == -1) {
		api_error(c, 500, "internal", NULL, "storage error");
	} else {
		api_not_found(c, rc == 1 ? "icon" : "app");
	}
	store_app_clear(&a);
}

/* Set (PUT, the image as the body) or clear (DELETE) the icon, answering the app. */
static void
icon_write(struct api_call *c, const unsigned char *icon, size_t len, const char *type)
{
	const char *name = c->params[0];
	struct app_display d = { .icon = icon, .icon_len = len, .icon_type = type };
	json_t *before = app_get(c, name);

	if (before == NULL)
		return;
	if (api_if_match(c, before) == -1) {
		json_decref(before);
		return;
	}
	display_apply(c, name, before, &d, 1);
}

static void
icon_put(struct api_call *c)
{
	const struct buf *b = http_body(c->req);
	const char *ct = http_header(c->req, "Content-Type"), *type = NULL;

	for (const char *const *t = icon_types; *t && type == NULL; t++)
		if (api_content_type_is(ct, *t))
			type = *t;
	if (c->body || (type == NULL && b->len)) {
		api_error(c, 415, "unsupported_media_type", NULL, "the body is the image, as "
		    "image/png or image/svg+xml");
		return;
	}
	if (b->len == 0) {
		api_error(c, 400, "invalid_request", "icon", "the body is the image (DELETE "
		    "removes the icon)");
		return;
	}
	icon_write(c, (const unsigned char *)b->data, b->len, type);
}

static void
icon_delete(struct api_call *c)
{
	icon_write(c, (const unsigned char *)"", 0, NULL);
}

const struct api_raw_body api_raw_bodies[] = {
	{ "PUT", "apps/{name}/icon", icon_types },
	{ "PUT", "tenant/logo", icon_types },
	{ NULL, NULL, NULL }
};

#define R APIKEY_SCOPE_READ
#define W APIKEY_SCOPE_WRITE

const struct api_route api_app_routes[] = {
	{ "GET", "apps", R, apps_list },
	{ "POST", "apps", W, app_create },
	{ "GET", "apps/{name}", R, app_show },
	{ "PATCH", "apps/{name}", W, app_patch },
	{ "DELETE", "apps/{name}", W, app_delete },
	{ "GET", "apps/{name}/metadata", R, app_metadata },
	{ "GET", "apps/{name}/assignments", R, assignments_list },
	{ "PUT", "apps/{name}/assignments/users/{user}", W, assign_user },
	{ "DELETE", "apps/{name}/assignments/users/{user}", W, unassign_user },
	{ "PUT", "apps/{name}/assignments/groups/{group}", W, assign_group },
	{ "DELETE", "apps/{name}/assignments/groups/{group}", W, unassign_group },
	{ "POST", "apps/{name}/assignments/prune", W, assignments_prune },
	{ "GET", "apps/{name}/icon", R, icon_get },
	{ "PUT", "apps/{name}/icon", W, icon_put },
	{ "DELETE", "apps/{name}/icon", W, icon_delete },
	{ NULL, NULL, 0, NULL }
};
