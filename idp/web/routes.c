/*
 * Request dispatch: /healthz, /static/, and /t/TENANT/... to the core's pages and to the
 * routes each protocol registers.  Errors that no handler owns (unknown tenant or path,
 * wrong method, input that does not parse) are answered here: pages for browsers, the
 * protocol's JSON for routes that programs call.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "api.h"
#include "audit.h"
#include "brand.h"
#include "clock.h"
#include "console.h"
#include "device.h"
#include "idp.h"
#include "log.h"
#include "login.h"
#include "metrics_page.h"
#include "protocol.h"
#include "resume.h"
#include "routes.h"
#include "step.h"
#include "xmalloc.h"


static int
is_get(struct http_req *req)
{
	return !strcmp(http_method(req), "GET") || !strcmp(http_method(req), "HEAD");
}

static int
is_post(struct http_req *req)
{
	return !strcmp(http_method(req), "POST");
}

/* The protocol route for rest ("saml/sso", "saml/init/APP" ...), or NULL. */
static const struct protocol_route *
protocol_route(const char *rest, const struct protocol **proto_r)
{
	for (const struct protocol *const *p = protocols; *p; p++) {
		for (const struct protocol_route *r = (*p)->routes; r && r->path; r++) {
			size_t n = strlen(r->path);
			int prefix = r->path[n - 1] == '/';
			if (prefix ? strncmp(rest, r->path, n) || !rest[n] || strchr(rest + n, '/') :
			    strcmp(rest, r->path))
				continue;
			*proto_r = *p;
			return r;
		}
	}
	return NULL;
}

static void
allow(struct http_req *req, int methods)
{
	http_add_header(req, "Allow", methods == PROTOCOL_POST ? "POST" :
	    methods == PROTOCOL_GET ? "GET, HEAD" : "GET, HEAD, POST");
}

static void
run_protocol_route(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct protocol *p, const struct protocol_route *r)
{
	int m = is_post(req) ? PROTOCOL_POST : PROTOCOL_GET;
	const char *why = http_input_error(req);

	if (why) {
		audit_event(idp->in.store, t->id, r->reject_event ? r->reject_event :
		    "request.reject", "path", http_path(req), "ip", http_client_ip(req), "reason",
		    why, NULL);
		if (r->json)
			p->json_error(req, 400, why);
		else
			page_error(idp->pages, req, 400, "error_bad_request", NULL);
	} else if (!(r->methods & m)) {
		allow(req, r->methods);
		if (r->json)
			p->json_error(req, 405, r->methods == PROTOCOL_POST ? "POST only" :
			    "method not allowed");
		else
			page_error(idp->pages, req, 405, "error_method", NULL);
	} else {
		r->fn(idp, t, req);
	}
}

static void
to_portal(struct tenant_ctx *t, struct http_req *req)
{
	char *url = xasprintf("%sportal", t->path);

	http_redirect(req, url);
	free(url);
}

/* login/factor, login/enrol, login/password, login/passkey: 0 when rest is none. */
static int
step_route(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *rest)
{
	if (!strcmp(rest, "factor"))
		step_factor(idp, t, req);
	else if (!strcmp(rest, "enrol"))
		step_enrol(idp, t, req);
	else if (!strcmp(rest, "password"))
		step_password(idp, t, req);
	else if (!strcmp(rest, "passkey") && is_post(req))
		step_passkey(idp, t, req);
	else if (!strcmp(rest, "passkey")) {
		allow(req, PROTOCOL_POST);
		page_error(idp->pages, req, 405, "error_method", NULL);
	} else
		return 0;
	return 1;
}

/* The core's own pages; 0 when rest is none of them. */
static int
core_route(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *rest)
{
	if (!strcmp(rest, "") || !strcmp(rest, "portal")) {
		if (!is_get(req))
			goto method;
		if (*rest)
			portal_get(idp, t, req);
		else
			to_portal(t, req);
	} else if (!strncmp(rest, "portal/icon/", 12)) {
		if (!is_get(req))
			goto method;
		portal_icon(idp, t, req, rest + 12);
	} else if (!strcmp(rest, "login")) {
		if (is_get(req))
			login_get(idp, t, req);
		else
			login_post(idp, t, req);
	} else if (!strncmp(rest, "login/", 6)) {
		return step_route(idp, t, req, rest + 6);
	} else if (!strcmp(rest, "logout")) {
		logout_page(idp, t, req);
	} else if (!strcmp(rest, "resume")) {
		if (!is_get(req))
			goto method;
		resume_endpoint(idp, t, req);
	} else if (!strcmp(rest, "device")) {
		device_continue(idp, t, req);
	} else if (!strcmp(rest, "certs") || !strncmp(rest, "certs/", 6)) {
		certs_route(idp, t, req, rest + 5);
	} else if (!strcmp(rest, "account") || !strncmp(rest, "account/", 8)) {
		account_route(idp, t, req, rest + 7);
	} else if (!strcmp(rest, "admin") || !strncmp(rest, "admin/", 6)) {
		console_route(idp, t, req, rest + 5);
	} else if (!strcmp(rest, "reset")) {
		reset_page(idp, t, req);
	} else if (!strcmp(rest, "brand.css") || !strcmp(rest, "logo")) {
		if (!is_get(req))
			goto method;
		(*rest == 'b' ? brand_css : brand_logo)(idp, t, req);
	} else {
		return 0;
	}
	return 1;
method:
	allow(req, PROTOCOL_GET);
	page_error(idp->pages, req, 405, "error_method", NULL);
	return 1;
}

/* The admin API and the SCIM server (programs, JSON): 0 when rest is under neither. */
static int
program_route(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *rest)
{
	if (!strcmp(rest, "api/v1") || !strncmp(rest, "api/v1/", 7))
		api_route(idp, t, req, rest[6] ? rest + 7 : "");
	else if (!strcmp(rest, "scim/v2") || !strncmp(rest, "scim/v2/", 8))
		scim_route(idp, t, req, rest[7] ? rest + 8 : "");
	else
		return 0;
	return 1;
}

static void
tenant_route(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *rest)
{
	const struct protocol *p = NULL;
	const struct protocol_route *r = protocol_route(rest, &p);

	if (program_route(idp, t, req, rest)) {
		return;
	} else if (!is_get(req) && !is_post(req)) {
		page_error(idp->pages, req, 405, "error_method", NULL);
	} else if (r) {
		run_protocol_route(idp, t, req, p, r);
	} else if (http_input_error(req)) {
		audit_event(idp->in.store, t->id, "request.reject", "path", http_path(req), "ip",
		    http_client_ip(req), "reason", http_input_error(req), NULL);
		page_error(idp->pages, req, 400, "error_bad_request", NULL);
	} else if (!core_route(idp, t, req, rest)) {
		page_error(idp->pages, req, 404, "error_not_found", NULL);
	}
}

/*
 * The root and unknown tenants: how to reach one's company's sign-in page, which never
 * names a tenant (the list of organisations served here is nobody's business).
 */
static void
help_page(struct idp *idp, struct http_req *req, int unknown)
{
	struct tmpl_vars *v = tmpl_vars_new();
	const char *lang = page_lang(req);

	tmpl_set(v, "title", page_msg(idp->pages, lang, unknown ? "error_unknown_tenant" :
	    "portal_home_title"));
	if (unknown)
		tmpl_set(v, "unknown", "1");
	page_render(idp->pages, req, unknown ? 404 : 200, "welcome.html", v);
	tmpl_vars_free(v);
}

/*
 * "ok", then whether the kernel's clock is synchronised: assertions, tokens and
 * certificates carry times, so a monitor should see a clock that drifts.  The status
 * stays 200: the service answers, and a load balancer must not drop every node at once.
 */
static void
healthz(struct http_req *req)
{
	int synced = 0;
	int64_t maxerr = 0;
	char *body;

	if (clock_sync_status(&synced, &maxerr) == -1)
		body = xasprintf("ok\nclock_synchronised unknown\n");
	else
		body = xasprintf("ok\nclock_synchronised %s\nclock_maxerror_us %lld\n",
		    synced ? "yes" : "no", (long long)maxerr);
	http_body_take(req, "text/plain; charset=utf-8", body, strlen(body));
}

int
route_common(struct idp *idp, struct http_req *req)
{
	const char *path = http_path(req);

	if (!strcmp(path, "/healthz")) {
		healthz(req);
		return 1;
	}
	/* with a metrics_listen of its own, /metrics is answered there only */
	if (!strcmp(path, "/metrics") && is_get(req) && !idp->in.settings.metrics_listen) {
		metrics_page(idp, req);
		return 1;
	}
	if (!strncmp(path, "/static/", 8)) {
		page_static(idp->pages, req, path + 8);
		return 1;
	}
	if (!strcmp(path, "/") && is_get(req)) {
		help_page(idp, req, 0);
		return 1;
	}
	return 0;
}

struct tenant_ctx *
route_tenant(struct idp *idp, struct http_req *req, const char **rest)
{
	const char *path = http_path(req), *slash;
	struct tenant_ctx *t;
	char tenant[TENANT_MAX + 1];
	size_t tlen;

	if (strncmp(path, "/t/", 3) != 0) {
		page_error(idp->pages, req, 404, "error_not_found", NULL);
		return NULL;
	}
	slash = strchr(path + 3, '/');
	tlen = slash ? (size_t)(slash - path - 3) : strlen(path + 3);
	if (tlen == 0 || tlen > TENANT_MAX) {
		help_page(idp, req, 1);
		return NULL;
	}
	memcpy(tenant, path + 3, tlen);
	tenant[tlen] = '\0';
	if ((t = idp_tenant(idp, tenant)) == NULL) {
		help_page(idp, req, 1);
		return NULL;
	}
	*rest = slash ? slash : "";
	if (t->brand)		/* every page of the tenant shows the company */
		page_set_brand(req, &t->brand->page);
	return t;
}

void
idp_handle(struct http_req *req, void *arg)
{
	struct idp *idp = arg;
	const char *path = http_path(req), *rest;
	struct tenant_ctx *t;

	if (route_common(idp, req))
		return;
	/* PUT, PATCH and DELETE reach only the admin API and SCIM (tenant_route). */
	if (!is_get(req) && !is_post(req) && strncmp(path, "/t/", 3) != 0) {
		page_error(idp->pages, req, 405, "error_method", NULL);
		return;
	}
	if (http_input_error(req) && strncmp(path, "/t/", 3) != 0) {
		log_info("bad request from %s: %s", http_client_ip(req), http_input_error(req));
		page_error(idp->pages, req, 400, "error_bad_request", NULL);
		return;
	}
	if ((t = route_tenant(idp, req, &rest)) == NULL)
		return;
	if (*rest == '\0') {
		to_portal(t, req);
	} else {
		tenant_route(idp, t, req, rest + 1);
	}
	idp_tenant_release(idp, t);
}
