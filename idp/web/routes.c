/*
 * Request dispatch: /healthz, /static/, and /t/TENANT/... to the handlers.  Errors that
 * no handler owns (unknown tenant or path, wrong method) become pages here.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "device.h"
#include "idp.h"
#include "log.h"
#include "oidc.h"
#include "routes.h"
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

static void
oidc_route(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *ep)
{
	static const struct {
		const char *name;
		void (*fn)(struct idp *, struct tenant_ctx *, struct http_req *);
		int post_only;
	} eps[] = {
		{ "authorize", oidc_authorize, 0 }, { "token", oidc_token, 1 },
		{ "userinfo", oidc_userinfo, 0 }, { "jwks", oidc_jwks, 0 },
		{ "introspect", oidc_introspect, 1 }, { "revoke", oidc_revoke, 1 },
		{ "logout", oidc_logout, 0 },
	};

	for (size_t i = 0; i < sizeof(eps) / sizeof(eps[0]); i++) {
		if (strcmp(ep, eps[i].name))
			continue;
		if (eps[i].post_only && !is_post(req)) {
			http_add_header(req, "Allow", "POST");
			oidc_error(req, 405, "invalid_request", "POST only");
		} else {
			eps[i].fn(idp, t, req);
		}
		return;
	}
	page_error(idp->pages, req, 404, "error_not_found", NULL);
}

static void
tenant_route(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *rest)
{
	if (http_input_error(req)) {
		const char *event = !strcmp(rest, "saml/sso") ? "saml.sso.reject" :
		    !strcmp(rest, "saml/slo") ? "saml.slo.reject" : "request.reject";
		audit_event(idp->in.store, t->id, event, "path", http_path(req), "ip",
		    http_client_ip(req), "reason", http_input_error(req), NULL);
		/* Endpoints that clients call directly answer in JSON (RFC 6749 5.2). */
		if (!strcmp(rest, "oidc/token") || !strcmp(rest, "oidc/introspect") ||
		    !strcmp(rest, "oidc/revoke") || !strcmp(rest, "oidc/userinfo"))
			oidc_error(req, 400, "invalid_request", http_input_error(req));
		else
			page_error(idp->pages, req, 400, "error_bad_request", NULL);
		return;
	}
	if (!strcmp(rest, "") || !strcmp(rest, "portal")) {
		if (!is_get(req))
			goto method;
		if (!strcmp(rest, "")) {
			char *url = xasprintf("%sportal", t->path);
			http_redirect(req, url);
			free(url);
			return;
		}
		portal_get(idp, t, req);
	} else if (!strcmp(rest, "login")) {
		if (is_get(req))
			login_get(idp, t, req);
		else
			login_post(idp, t, req);
	} else if (!strcmp(rest, "logout")) {
		logout_page(idp, t, req);
	} else if (!strcmp(rest, "saml/metadata")) {
		if (!is_get(req))
			goto method;
		sso_metadata(idp, t, req);
	} else if (!strcmp(rest, "saml/sso")) {
		sso_endpoint(idp, t, req);
	} else if (!strcmp(rest, "saml/slo")) {
		slo_endpoint(idp, t, req);
	} else if (!strcmp(rest, "resume")) {
		if (!is_get(req))
			goto method;
		sso_resume(idp, t, req);
	} else if (!strcmp(rest, ".well-known/openid-configuration")) {
		if (!is_get(req))
			goto method;
		oidc_discovery(idp, t, req);
	} else if (!strcmp(rest, "certs") || !strncmp(rest, "certs/", 6)) {
		certs_route(idp, t, req, rest + 5);
	} else if (!strncmp(rest, "oidc/", 5)) {
		oidc_route(idp, t, req, rest + 5);
	} else if (!strncmp(rest, "saml/init/", 10) && strchr(rest + 10, '/') == NULL &&
	    rest[10]) {
		if (!is_get(req))
			goto method;
		sso_init(idp, t, req, rest + 10);
	} else {
		page_error(idp->pages, req, 404, "error_not_found", NULL);
	}
	return;
method:
	http_add_header(req, "Allow", "GET, HEAD");
	page_error(idp->pages, req, 405, "error_method", NULL);
}

int
route_common(struct idp *idp, struct http_req *req)
{
	const char *path = http_path(req);

	if (!strcmp(path, "/healthz")) {
		http_body_copy(req, "text/plain; charset=utf-8", "ok\n", 3);
		return 1;
	}
	if (!strncmp(path, "/static/", 8)) {
		page_static(idp->pages, req, path + 8);
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
		page_error(idp->pages, req, 404, "error_unknown_tenant", NULL);
		return NULL;
	}
	memcpy(tenant, path + 3, tlen);
	tenant[tlen] = '\0';
	if ((t = idp_tenant(idp, tenant)) == NULL) {
		page_error(idp->pages, req, 404, "error_unknown_tenant", NULL);
		return NULL;
	}
	*rest = slash ? slash : "";
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
	if (!is_get(req) && !is_post(req)) {
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
		char *url = xasprintf("%sportal", t->path);
		http_redirect(req, url);
		free(url);
	} else {
		tenant_route(idp, t, req, rest + 1);
	}
	idp_tenant_release(idp, t);
}
