/*
 * Parking a protocol request while the user logs in, and handing it back at /resume: the
 * login (and a forced re-authentication) must have happened, and the parked request is
 * taken once, whoever comes first.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "crypto.h"
#include "device.h"
#include "login.h"
#include "protocol.h"
#include "resume.h"
#include "xmalloc.h"

void
resume_park(struct idp *idp, struct tenant_ctx *t, struct http_req *req, struct pending *p,
    const struct sso_session *device_ss)
{
	char *id = crypto_random_token(32), *url;

	p->expires = p->created + (uint64_t)idp->in.settings.pending_login_lifetime;
	if (store_pending_put(idp->in.store, t->id, id, p) < 0) {
		page_error(idp->pages, req, 503, "error_server", NULL);
	} else if (device_ss) {
		device_send(idp, t, req, device_ss, id);
	} else {
		url = login_url(t, id);
		http_redirect(req, url);
		free(url);
	}
	free(id);
}

/* The pages a login may come back to; a parked name is one of these or nothing. */
#define PAGE_KIND "page"
static const char *const back_pages[] = { "admin", "account", "certs", NULL };

static int
back_page_ok(const char *page)
{
	for (const char *const *p = back_pages; page && *p; p++)
		if (!strcmp(*p, page))
			return 1;
	return 0;
}

void
resume_park_page(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const char *page)
{
	struct pending p = { .kind = PAGE_KIND, .state = (char *)page,
		.created = (uint64_t)clock_now() };
	char *url;

	if (back_page_ok(page)) {
		resume_park(idp, t, req, &p, NULL);
		return;
	}
	url = login_url(t, NULL);
	http_redirect(req, url);
	free(url);
}

/* A parked page: back to it (its name was checked when parked, and is again). */
static void
resume_page(struct tenant_ctx *t, struct http_req *req, const struct pending *p)
{
	char *url = xasprintf("%s%s", t->path, back_page_ok(p->state) ? p->state : "portal");

	http_redirect(req, url);
	free(url);
}

void
resume_park_mfa(struct idp *idp, struct tenant_ctx *t, struct http_req *req, struct pending *p,
    int enrol)
{
	char *id = crypto_random_token(32), *url;

	p->expires = p->created + (uint64_t)idp->in.settings.pending_login_lifetime;
	if (store_pending_put(idp->in.store, t->id, id, p) < 0) {
		page_error(idp->pages, req, 503, "error_server", NULL);
	} else {
		url = xasprintf("%slogin/%s?r=%s", t->path, enrol ? "enrol" : "factor", id);
		http_redirect(req, url);
		free(url);
	}
	free(id);
}

/* 1 when the request may go on: a session, logged in after the request when it forced. */
static int
logged_in(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const struct pending *p)
{
	struct sso_session ss;
	int have = session_current(idp, t, req, &ss);
	int ok = have == 1 && !(p->force && (int64_t)ss.s.authn_instant < (int64_t)p->created);

	if (have == 1)
		session_clear(&ss);
	return ok;
}

void
resume_endpoint(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	const char *r = form_get(http_query(req), "r");
	const struct protocol *proto;
	struct pending p;
	int ok;

	if (r == NULL || store_pending_get(idp->in.store, t->id, r, &p) != 1 ||
	    (int64_t)p.expires < clock_now()) {
		if (r)
			store_pending_clear(&p);
		page_error(idp->pages, req, 400, "error_expired", NULL);
		return;
	}
	ok = logged_in(idp, t, req, &p);
	store_pending_clear(&p);
	if (!ok) {
		char *url = login_url(t, r);
		http_redirect(req, url);
		free(url);
		return;
	}
	/* One use: whoever takes it first continues; a second tab gets the expiry page. */
	if (store_pending_take(idp->in.store, t->id, r, &p) != 1) {
		page_error(idp->pages, req, 400, "error_expired", NULL);
	} else if (p.kind && !strcmp(p.kind, PAGE_KIND)) {
		resume_page(t, req, &p);
	} else if ((proto = protocol_for_pending(p.kind)) == NULL) {
		page_error(idp->pages, req, 400, "error_expired", NULL);
	} else {
		proto->resume(idp, t, req, &p);
	}
	store_pending_clear(&p);
}
