/*
 * The admin API's view of a user's second factors and password-reset links (see
 * openapi/factors.json), through admin/factor.c as `sekisho user otp|factors|factor|
 * reset-password` do.  A seed's URI and a reset link are in their answer only (no-store),
 * never in the call's audit record.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "admin_factor.h"
#include "api.h"
#include "store.h"
#include "xmalloc.h"

#define LABEL_MAX 1024	/* bytes; the admin layer allows 64 characters */

/* A factor as the listing shows it: never its secret. */
static json_t *
factor_rep(const struct factor *f)
{
	json_t *left = f->kind == FACTOR_RECOVERY ?
	    json_integer(admin_factor_codes_left(f)) : json_null();

	return json_pack("{s:s, s:s, s:s?, s:o, s:o, s:b, s:o, s:b}", "id", f->id,
	    "kind", store_factor_kind_name(f->kind), "label", f->label && *f->label ?
	    f->label : NULL, "created", api_time(f->created), "last_used", api_time(f->last_used),
	    "pending", f->kind == FACTOR_TOTP && f->pending, "recovery_codes_left", left,
	    "counter_regressed", (f->flags & FACTOR_F_COUNTER_REGRESSED) != 0);
}

/* The factor id of the user in the path as GET shows it, or NULL after answering. */
static json_t *
current(struct api_call *c, const char *id)
{
	struct factor f;
	json_t *rep;

	if (admin_factor_get(&c->adm, c->params[0], id, &f) == -1) {
		api_admin_error(c);
		return NULL;
	}
	rep = factor_rep(&f);
	store_factor_clear(&f);
	return rep;
}

/* A secret goes out in this answer only: no cache may keep it. */
static void
no_store(struct api_call *c)
{
	http_add_header(c->req, "Cache-Control", "no-store");
}

static void
list_cb(const void *rec, void *arg)
{
	const struct factor *f = rec;

	api_page_add(arg, f->id, factor_rep(f));
}

static void
factors_list(struct api_call *c)
{
	struct api_page pg;

	if (api_page_init(c, &pg) < 0)
		return;
	if (admin_factor_list(&c->adm, c->params[0], list_cb, &pg) == -1) {
		api_page_free(&pg);
		api_admin_error(c);
		return;
	}
	api_page_reply(c, &pg);
}

static void
factors_get(struct api_call *c)
{
	json_t *rep = current(c, c->params[1]);

	if (rep == NULL)
		return;
	api_set_etag(c, rep);
	api_reply(c, 200, rep);
}

static void
totp_add(struct api_call *c)
{
	static const char *const allowed[] = { "label", NULL };
	const char *label;
	char *id, *uri, *loc;
	json_t *rep;

	if (api_only_fields(c, allowed) < 0 ||
	    api_get_str(c, "label", 0, LABEL_MAX, &label) < 0)
		return;
	if (admin_otp_add(&c->adm, c->params[0], label, &id, &uri) == -1) {
		api_admin_error(c);
		return;
	}
	if ((rep = current(c, id)) != NULL) {
		api_audit_change(c, NULL, rep);
		loc = xasprintf("users/%s/factors/%s", c->params[0], id);
		no_store(c);
		api_created(c, loc, json_pack("{s:s, s:s}", "id", id, "otpauth_uri", uri));
		free(loc);
	}
	freezero_str(uri);
	free(id);
}

static void
factors_delete(struct api_call *c)
{
	json_t *before = current(c, c->params[1]);

	if (before == NULL)
		return;
	api_deleted(c, before, admin_factor_remove(&c->adm, c->params[0], c->params[1]));
}

/* "delivery": "link" or "mail": 0, or -1 after answering 400. */
static int
body_delivery(struct api_call *c, enum admin_reset_via *via_r)
{
	const char *d;

	if (api_get_str(c, "delivery", 1, 16, &d) < 0)
		return -1;
	if (strcmp(d, "link") == 0 || strcmp(d, "mail") == 0) {
		*via_r = d[0] == 'l' ? ADMIN_RESET_LINK : ADMIN_RESET_MAIL;
		return 0;
	}
	api_error(c, 400, "invalid_request", "delivery", "delivery is \"link\" or \"mail\"");
	return -1;
}

static void
reset_password(struct api_call *c)
{
	static const char *const allowed[] = { "delivery", NULL };
	enum admin_reset_via via;
	struct admin_reset r;

	if (api_only_fields(c, allowed) < 0 || body_delivery(c, &via) < 0)
		return;
	if (admin_reset_password(&c->adm, c->params[0], via, &r) == -1) {
		api_admin_error(c);
		return;
	}
	no_store(c);
	if (via == ADMIN_RESET_LINK)
		api_reply(c, 200, json_pack("{s:s}", "link", r.link));
	else
		api_reply(c, 200, json_pack("{s:s}", "mailed_to", r.to));
	admin_reset_clear(&r);
}

const struct api_route api_factor_routes[] = {
	{ "GET", "users/{name}/factors", APIKEY_SCOPE_READ, factors_list },
	{ "POST", "users/{name}/factors/totp", APIKEY_SCOPE_WRITE, totp_add },
	{ "GET", "users/{name}/factors/{id}", APIKEY_SCOPE_READ, factors_get },
	{ "DELETE", "users/{name}/factors/{id}", APIKEY_SCOPE_WRITE, factors_delete },
	{ "POST", "users/{name}/reset-password", APIKEY_SCOPE_WRITE, reset_password },
	{ NULL, NULL, 0, NULL }
};
