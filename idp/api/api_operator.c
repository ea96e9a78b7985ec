/*
 * The operator API at /operator/api/v1/: the service operator's view of every tenant
 * (list with usage, create, read, licence, suspend and resume, delete a trial's API keys, list
 * monthly reports).  It authenticates with the operator's keys (`sekisho operator apikey`,
 * stored under STORE_OPERATOR, the same limits as a tenant's keys) and audits in the
 * operator's trail.  It shows a tenant's licence and counts, never its users' secrets.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "admin_licence.h"
#include "admin_operator.h"
#include "api.h"
#include "api_int.h"
#include "apikey.h"
#include "clock.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

/* What the operator sees of a tenant (new), or NULL after answering. */
static json_t *
tenant_rep(struct api_call *c, const struct tenant *t)
{
	const char *closed = store_tenant_closed(t->suspended, t->trial_until, clock_now());
	struct admin_licence l;
	int on;

	if (admin_licence_get(&c->adm, t->id, &l) == -1) {
		api_admin_error(c);
		return NULL;
	}
	on = l.licensed != 0;
	return json_pack("{s:s, s:s, s:o, s:s, s:o, s:{s:b, s:o, s:o, s:o}, s:{s:I, s:I, s:I, "
	    "s:I}}", "id", t->id, "name", t->name ? t->name : t->id, "created",
	    api_time(t->created), "state", closed ? closed : "active", "suspended",
	    api_time(t->suspended), "licence", "licensed", on, "seats",
	    on ? json_integer((json_int_t)l.seats) : json_null(), "device_seats",
	    on ? json_integer((json_int_t)l.device_seats) : json_null(), "trial_until",
	    *l.trial_date ? json_string(l.trial_date) : json_null(), "usage", "users",
	    (json_int_t)l.use.users, "operators", (json_int_t)l.use.operators, "disabled",
	    (json_int_t)l.use.disabled, "cert_holders", (json_int_t)l.use.cert_holders);
}

/* Tenant id's representation (new), or NULL after answering (404 for an unknown id). */
static json_t *
tenant_read(struct api_call *c, const char *id)
{
	struct tenant t;
	json_t *rep = NULL;
	int rc = store_valid_name(id, 63) ? store_tenant_get(c->idp->in.store, id, &t) : 0;

	if (rc == 1)
		rep = tenant_rep(c, &t);
	if (rc >= 0)
		store_tenant_clear(&t);
	if (rc == 0)
		api_not_found(c, "tenant");
	else if (rc < 0)
		api_error(c, 500, "internal", NULL, "storage error");
	return rep;
}

static void
tenants_list(struct api_call *c)
{
	struct api_page pg;
	char **ids = NULL;
	json_t *rep;

	if (api_page_init(c, &pg) == -1)
		return;
	if (store_tenant_ids(c->idp->in.store, &ids) < 0) {
		api_page_free(&pg);
		api_error(c, 500, "internal", NULL, "storage error");
		return;
	}
	for (size_t i = 0; ids[i]; i++) {
		if ((rep = tenant_read(c, ids[i])) == NULL) {
			api_page_free(&pg);
			store_strv_free(ids);
			return;
		}
		api_page_add(&pg, ids[i], rep);
	}
	store_strv_free(ids);
	api_page_reply(c, &pg);
}

static void
tenant_get(struct api_call *c)
{
	json_t *rep = tenant_read(c, c->params[0]);

	if (rep) {
		api_set_etag(c, rep);
		api_reply(c, 200, rep);
	}
}

/* An integer member of the body into *v (given: whether it was there): 0, or -1 (400). */
static int
body_int(struct api_call *c, const char *field, int *given, int64_t *v)
{
	json_t *n = c->body ? json_object_get(c->body, field) : NULL;

	*given = n != NULL;
	if (n && !json_is_integer(n)) {
		api_error(c, 400, "invalid_request", field, "%s is a number", field);
		return -1;
	}
	*v = n ? (int64_t)json_integer_value(n) : 0;
	return 0;
}

/*
 * The licence members of the body (a null trial_until ends the trial; the caller
 * refuses members it does not take): 0, or -1 (400).
 */
static int
licence_members(struct api_call *c, struct admin_licence_set *s)
{
	json_t *trial = c->body ? json_object_get(c->body, "trial_until") : NULL;

	if (body_int(c, "seats", &s->seats_given, &s->seats) == -1 ||
	    body_int(c, "device_seats", &s->device_given, &s->device_seats) == -1 ||
	    api_get_bool(c, "unlicensed", 0, &s->unlicensed) == -1 ||
	    api_get_bool(c, "force", 0, &s->force) == -1)
		return -1;
	if (json_is_null(trial)) {
		s->no_trial = 1;
		return 0;
	}
	return api_get_str(c, "trial_until", 0, 10, &s->trial_until);
}

static int
licence_body(struct api_call *c, struct admin_licence_set *s)
{
	static const char *const allowed[] = { "seats", "device_seats", "trial_until",
		"unlicensed", "force", NULL };

	return api_only_fields(c, allowed) == -1 ? -1 : licence_members(c, s);
}

static void
tenant_post(struct api_call *c)
{
	static const char *const allowed[] = { "id", "name", "ca_key", "seats",
		"device_seats", "trial_until", NULL };
	struct admin_licence_set lic = { 0 };
	const char *id, *name, *ca_key;
	json_t *rep;
	char *loc;
	int licensed;

	if (api_only_fields(c, allowed) == -1 || api_get_str(c, "id", 1, 63, &id) == -1 ||
	    api_get_str(c, "name", 0, 128, &name) == -1 ||
	    api_get_str(c, "ca_key", 0, 16, &ca_key) == -1 || licence_members(c, &lic) == -1)
		return;
	/* without seats the tenant is unlicensed, as `tenant add` without --seats */
	licensed = lic.seats_given || lic.device_given || lic.trial_until || lic.no_trial;
	if ((licensed && admin_licence_check(&c->adm, &lic) == -1) ||
	    admin_operator_tenant_add(&c->adm, id, name, ca_key) == -1 ||
	    (licensed && admin_tenant_licence_set(&c->adm, id, &lic) == -1)) {
		api_admin_error(c);
		return;
	}
	if ((rep = tenant_read(c, id)) == NULL)
		return;
	api_audit_change(c, NULL, json_deep_copy(rep));
	loc = xasprintf("tenants/%s", id);
	api_created(c, loc, rep);
	free(loc);
}

static void
tenant_suspend(struct api_call *c, int on)
{
	json_t *before, *after;
	int ended;

	if ((before = tenant_read(c, c->params[0])) == NULL)
		return;
	if (admin_operator_suspend(&c->adm, c->params[0], on, &ended) == -1) {
		json_decref(before);
		api_admin_error(c);
		return;
	}
	after = tenant_read(c, c->params[0]);
	if (after)
		json_object_set_new(after, "sessions_ended", json_integer(ended));
	api_updated(c, before, 0, after);
}

static void
suspend_post(struct api_call *c)
{
	tenant_suspend(c, 1);
}

static void
resume_post(struct api_call *c)
{
	tenant_suspend(c, 0);
}

static void
licence_patch(struct api_call *c)
{
	struct admin_licence_set s = { 0 };
	json_t *before, *after = NULL;
	int rc;

	if ((before = tenant_read(c, c->params[0])) == NULL)
		return;
	if (licence_body(c, &s) == -1) {
		json_decref(before);
		return;
	}
	rc = admin_tenant_licence_set(&c->adm, c->params[0], &s);
	if (rc == 0) {
		admin_operator_audit(&c->adm, "operator.tenant.licence", c->params[0], "force",
		    s.force ? "yes" : NULL, NULL);
		after = tenant_read(c, c->params[0]);
	}
	api_updated(c, before, rc, after);
}

static void
trial_keys_delete(struct api_call *c)
{
	int n;

	if (admin_operator_trial_keys_delete(&c->adm, c->params[0], &n) == -1) {
		api_admin_error(c);
		return;
	}
	api_reply(c, 200, json_pack("{s:i}", "deleted", n));
}

static void
report_item(const char *month, const char *file, void *arg)
{
	json_array_append_new(arg, json_pack("{s:s, s:s}", "month", month, "file", file));
}

static void
reports_list(struct api_call *c)
{
	json_t *items = json_array();

	if (admin_operator_reports(&c->adm, c->params[0], report_item, items) == -1) {
		json_decref(items);
		api_admin_error(c);
		return;
	}
	api_reply(c, 200, json_pack("{s:o}", "items", items));
}

static const struct api_route operator_routes[] = {
	{ "GET", "tenants", APIKEY_SCOPE_READ, tenants_list },
	{ "POST", "tenants", APIKEY_SCOPE_WRITE, tenant_post },
	{ "GET", "tenants/{id}", APIKEY_SCOPE_READ, tenant_get },
	{ "PATCH", "tenants/{id}/licence", APIKEY_SCOPE_WRITE, licence_patch },
	{ "POST", "tenants/{id}/suspend", APIKEY_SCOPE_WRITE, suspend_post },
	{ "POST", "tenants/{id}/resume", APIKEY_SCOPE_WRITE, resume_post },
	{ "DELETE", "tenants/{id}/trial-keys", APIKEY_SCOPE_WRITE, trial_keys_delete },
	{ "GET", "tenants/{id}/reports", APIKEY_SCOPE_READ, reports_list },
	{ NULL, NULL, 0, NULL }
};

static const struct api_route *const tables[] = { operator_routes, NULL };

const struct api_route *const *
api_operator_tables(void)
{
	return tables;
}

static json_t *document;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
build_once(void)
{
	static const char *const none[] = { NULL };
	const char *err = NULL;

	if ((document = api_doc_assemble("operator.json", none, &err)) == NULL)
		log_error("the operator API's OpenAPI document cannot be built: %s", err);
}

const json_t *
api_operator_openapi(void)
{
	pthread_once(&once, build_once);
	return document;
}

void
api_operator_route(struct idp *idp, struct http_req *req, const char *rest)
{
	struct tenant_ctx op = { .id = STORE_OPERATOR, .path = "/operator/" };

	op.base = xasprintf("%s/operator", idp->in.settings.url);
	api_route_tables(idp, &op, req, rest, tables, api_operator_openapi());
	free(op.base);
}
