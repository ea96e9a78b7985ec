/*
 * Device-restricted login and device certificate pages.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "crypto.h"
#include "device.h"
#include "devcert.h"
#include "encode.h"
#include "html.h"
#include "ipnet.h"
#include "log.h"
#include "login.h"
#include "routes.h"
#include "xmalloc.h"

#define DEVICE_TOKEN_BYTES 32

/* ---- policies ---- */

struct policy_load {
	struct tenant_ctx *t;
};

static void
policy_cb(const void *rec, void *arg)
{
	const struct policy *p = rec;
	struct tenant_ctx *t = arg;

	if (strcmp(p->key, "device_required"))
		return;
	t->pols = xreallocarray(t->pols, t->npols + 1, sizeof(*t->pols));
	t->pols[t->npols].kind = xstrdup(p->kind);
	t->pols[t->npols].target = xstrdup(p->target);
	t->pols[t->npols].on = !strcmp(p->value, "on");
	t->npols++;
}

int
device_tenant_load(struct idp *idp, struct tenant_ctx *t)
{
	const char *errstr;
	int rc;

	if (store_policy_list(idp->in.store, t->id, policy_cb, t) < 0)
		return -1;
	if ((rc = tenant_ca_pem(&idp->in, t->id, &t->ca_pem)) < 0)
		return -1;
	if (rc == 1 && (t->devca = devcert_ca_new(t->ca_pem, &errstr)) == NULL) {
		log_error("tenant %s: device CA: %s", t->id, errstr);
		return -1;
	}
	return 0;
}

void
device_tenant_free(struct tenant_ctx *t)
{
	for (size_t i = 0; i < t->npols; i++) {
		free(t->pols[i].kind);
		free(t->pols[i].target);
	}
	free(t->pols);
	free(t->ca_pem);
	devcert_ca_free(t->devca);
}

/* The setting of kind's object id (NULL: the tenant): -1 not set, 0 off, 1 on. */
static int
setting(const struct tenant_ctx *t, const char *kind, const char *id)
{
	for (size_t i = 0; i < t->npols; i++)
		if (!strcmp(t->pols[i].kind, kind) && !strcmp(t->pols[i].target, id ? id : ""))
			return t->pols[i].on;
	return -1;
}

int
device_required(const struct tenant_ctx *t, const char *user, char *const *groups,
    const char *app)
{
	int v, g = -1;

	if (t->npols == 0)
		return 0;
	if (app && setting(t, "app", app) == 1)
		return 1;
	if ((v = setting(t, "user", user)) != -1)
		return v;
	for (char *const *p = groups; p && *p; p++)
		if ((v = setting(t, "group", *p)) != -1 && g != 1)
			g = v;
	if (g != -1)
		return g;
	return setting(t, "tenant", NULL) == 1;
}

/* 1 when some group has a setting: only then are the user's groups read. */
static int
has_group_settings(const struct tenant_ctx *t)
{
	for (size_t i = 0; i < t->npols; i++)
		if (!strcmp(t->pols[i].kind, "group"))
			return 1;
	return 0;
}

int
device_evaluate(struct idp *idp, struct tenant_ctx *t, const struct sso_session *ss,
    const char *app, struct device_result *r)
{
	const struct tenant_app *a = app ? tenant_app_by_name(t, app) : NULL;
	char **groups = NULL;
	int64_t now = clock_now();

	memset(r, 0, sizeof(*r));
	if (has_group_settings(t) &&
	    store_user_group_ids(idp->in.store, t->id, ss->user.id, &groups) < 0)
		return -1;
	r->needed = device_required(t, ss->user.id, groups, a ? a->id : NULL);
	store_strv_free(groups);
	if (ss->s.device) {
		struct devcert c;
		int rc = store_cert_get(idp->in.store, t->id, ss->s.device, &c);
		if (rc < 0)
			return -1;
		/* Still the same user's, not revoked, not expired. */
		if (rc == 1 && !c.revoked && (int64_t)c.not_before <= now &&
		    (int64_t)c.not_after > now && c.user_id && ss->user.id &&
		    !strcmp(c.user_id, ss->user.id))
			r->serial = ss->s.device;
		store_devcert_clear(&c);
	}
	return 0;
}

/* ---- the way to the device check ---- */

/* The refusal page: what happened and what to do, in the user's language. */
static void
refuse(struct idp *idp, struct tenant_ctx *t, struct http_req *req, int status,
    const char *reason, const char *user, const char *serial)
{
	const char *lang = page_lang(req);
	struct tmpl_vars *v = tmpl_vars_new();
	char *msg = xasprintf("device_%s", reason), *hint = xasprintf("device_hint_%s", reason);
	char when[21];

	audit_event(idp->in.store, t->id, "device.check.fail", "user", user, "serial", serial,
	    "ip", http_client_ip(req), "reason", reason, NULL);
	clock_iso8601(clock_now(), when);
	tmpl_set(v, "title", page_msg(idp->pages, lang, "device_title"));
	tmpl_set(v, "message", page_msg(idp->pages, lang, msg));
	tmpl_set(v, "hint", page_msg(idp->pages, lang, hint));
	tmpl_set(v, "reason", reason);
	tmpl_set(v, "time", when);
	page_render(idp->pages, req, status, "device.html", v);
	tmpl_vars_free(v);
	free(msg);
	free(hint);
}

void
device_send(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct sso_session *ss, const char *pending)
{
	const struct settings *s = &idp->in.settings;
	struct pending p = { 0 };
	char hash[65], *token, *url;
	int64_t now = clock_now();

	if (s->device_url == NULL || t->devca == NULL) {
		refuse(idp, t, req, 403, t->devca ? "unavailable" : "no_ca", ss->user.name, NULL);
		return;
	}
	hex_encode(ss->hash, sizeof(ss->hash), hash);
	token = crypto_random_token(DEVICE_TOKEN_BYTES);
	p.kind = "device";
	p.app = (char *)pending;
	p.state = hash;
	p.relay_state = ss->user.name;
	p.created = (uint64_t)now;
	p.expires = (uint64_t)(now + s->device_check_lifetime);
	if (store_pending_put(idp->in.store, t->id, token, &p) < 0) {
		page_error(idp->pages, req, 503, "error_server", NULL);
		free(token);
		return;
	}
	url = xasprintf("%s/t/%s/device?c=%s", s->device_url, t->id, token);
	http_redirect(req, url);
	free(url);
	free(token);
}

/* ---- the device-check listener ---- */

/* The presented certificate: from a trusted proxy's header, else from the TLS session. */
static unsigned char *
presented_cert(struct idp *idp, struct http_req *req, size_t *len_r, int *from_proxy)
{
	const struct settings *s = &idp->in.settings;
	const unsigned char *der;

	*from_proxy = 0;
	if (s->device_proxy_header && ipnet_match(&idp->proxy_from, http_client_ip(req))) {
		const char *h = http_header(req, s->device_proxy_header);
		*from_proxy = 1;
		return h && *h ? devcert_pem_to_der(h, len_r) : NULL;
	}
	if ((der = http_peer_cert(req, len_r)) == NULL || *len_r > DEVCERT_MAX_DER)
		return NULL;
	return xmemdup(der, *len_r);
}

/* A device-check link is a base64url token; anything else is not looked up. */
static int
token_ok(const char *c)
{
	size_t n = c ? strlen(c) : 0;

	return n >= 40 && n <= 64 && strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") == n;
}

static void
device_check(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	const char *token = form_get(http_query(req), "c"), *errstr;
	struct pending p = { 0 };
	struct devcert c = { 0 };
	struct session sess = { 0 };
	struct user u = { 0 };
	unsigned char hash[32], *der = NULL;
	char fp[65], serial[48], *url;
	size_t len = 0, hlen;
	int64_t now = clock_now();
	int rc, proxied;

	if (!token_ok(token) || store_pending_take(idp->in.store, t->id, token, &p) != 1) {
		page_error(idp->pages, req, 400, "error_expired", NULL);
		return;
	}
	if (strcmp(p.kind, "device") || (int64_t)p.expires < now || p.app == NULL ||
	    p.state == NULL || p.relay_state == NULL ||
	    hex_decode(p.state, strlen(p.state), hash, sizeof(hash), &hlen) == -1 || hlen != 32) {
		page_error(idp->pages, req, 400, "error_expired", NULL);
		goto done;
	}
	if ((der = presented_cert(idp, req, &len, &proxied)) == NULL) {
		refuse(idp, t, req, 403, "no_cert", p.relay_state, NULL);
		goto done;
	}
	if (t->devca == NULL || devcert_verify(t->devca, der, len, now, fp, serial, &errstr) == -1) {
		log_info("tenant %s: device certificate of %s refused: %s", t->id, p.relay_state,
		    t->devca ? errstr : "no CA");
		refuse(idp, t, req, 403, "invalid", p.relay_state, NULL);
		goto done;
	}
	/* The owner comes from the store, by fingerprint: never from names in the certificate. */
	if ((rc = store_cert_by_fingerprint(idp->in.store, t->id, fp, &c)) != 1) {
		if (rc < 0)
			page_error(idp->pages, req, 503, "error_server", NULL);
		else
			refuse(idp, t, req, 403, "invalid", p.relay_state, serial);
		goto done;
	}
	if (c.revoked) {
		refuse(idp, t, req, 403, "revoked", p.relay_state, c.serial);
		goto done;
	}
	if (store_user_get(idp->in.store, t->id, p.relay_state, &u) != 1 || u.disabled ||
	    c.user_id == NULL || u.id == NULL || strcmp(c.user_id, u.id)) {
		refuse(idp, t, req, 403, "other_user", p.relay_state, c.serial);
		goto done;
	}
	/* The session that asked must still be there, and still this user's. */
	if (store_session_get(idp->in.store, t->id, hash, &sess) != 1 ||
	    strcmp(sess.user, u.id) || (int64_t)sess.expires < now) {
		page_error(idp->pages, req, 400, "error_session", NULL);
		goto done;
	}
	if (store_session_set_device(idp->in.store, t->id, hash, c.serial, now) != 1) {
		page_error(idp->pages, req, 503, "error_server", NULL);
		goto done;
	}
	store_cert_touch(idp->in.store, t->id, c.serial, now);
	audit_event(idp->in.store, t->id, "device.check", "user", c.user, "serial", c.serial,
	    "label", c.label, "ip", http_client_ip(req), "via", proxied ? "proxy" : "tls", NULL);
	url = xasprintf("%s/resume?r=%s", t->base, p.app);
	http_redirect(req, url);
	free(url);
done:
	free(der);
	store_pending_clear(&p);
	store_devcert_clear(&c);
	store_session_clear(&sess);
	store_user_clear(&u);
}

void
device_handle(struct http_req *req, void *arg)
{
	struct idp *idp = arg;
	struct tenant_ctx *t;
	const char *rest;

	if (route_common(idp, req) || (t = route_tenant(idp, req, &rest)) == NULL)
		return;
	if (strcmp(rest, "/device") != 0) {
		page_error(idp->pages, req, 404, "error_not_found", NULL);
	} else if (strcmp(http_method(req), "GET") && strcmp(http_method(req), "HEAD")) {
		http_add_header(req, "Allow", "GET, HEAD");
		page_error(idp->pages, req, 405, "error_method", NULL);
	} else if (http_input_error(req)) {
		page_error(idp->pages, req, 400, "error_bad_request", NULL);
	} else {
		http_add_header(req, "Cache-Control", "no-store");
		device_check(idp, t, req);
	}
	idp_tenant_release(idp, t);
}

struct trust {
	struct idp *idp;
	struct buf b;
};

static void
trust_cb(const void *rec, void *arg)
{
	const struct tenant *tr = rec;
	struct trust *tt = arg;
	char *pem;

	if (tenant_ca_pem(&tt->idp->in, tr->id, &pem) == 1)
		buf_puts(&tt->b, pem);
	free(pem);
}

char *
device_trust_pem(struct idp *idp)
{
	struct trust tt = { .idp = idp };

	buf_init(&tt.b, 0);
	if (store_tenant_list(idp->in.store, trust_cb, &tt) < 0 || tt.b.len == 0) {
		buf_free(&tt.b);
		return NULL;
	}
	return buf_steal(&tt.b, NULL);
}

/* ---- pages on the main listener ---- */

struct cert_rows {
	struct tmpl_vars *v;
	const char *lang;
	const struct pages *pages;
	int64_t now;
	const char *current;
	size_t n;
};

static void
cert_row(const void *rec, void *arg)
{
	const struct devcert *c = rec;
	struct cert_rows *cr = arg;
	struct tmpl_vars *item = tmpl_add_item(cr->v, "certs");
	char issued[21], expires[21], used[21];
	const char *status = c->revoked ? "certs_revoked" :
	    (int64_t)c->not_after <= cr->now ? "certs_expired" : "certs_active";

	clock_iso8601((int64_t)c->issued, issued);
	clock_iso8601((int64_t)c->not_after, expires);
	tmpl_set(item, "label", c->label);
	tmpl_set(item, "serial", c->serial);
	tmpl_set(item, "issued", issued);
	tmpl_set(item, "expires", expires);
	if (c->last_used) {
		clock_iso8601((int64_t)c->last_used, used);
		tmpl_set(item, "last_used", used);
	} else {
		tmpl_set(item, "last_used", page_msg(cr->pages, cr->lang, "certs_never"));
	}
	tmpl_set(item, "status", page_msg(cr->pages, cr->lang, status));
	if (cr->current && !strcmp(cr->current, c->serial))
		tmpl_set(item, "current", "1");
	cr->n++;
}

static void
certs_page(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	struct sso_session ss;
	struct cert_rows cr = { .pages = idp->pages, .now = clock_now() };
	struct device_result dr;
	int have = session_current(idp, t, req, &ss);

	if (have != 1) {
		char *url = have == 0 ? login_url(t, NULL) : NULL;
		if (url)
			http_redirect(req, url);
		else
			page_error(idp->pages, req, 503, "error_server", NULL);
		free(url);
		return;
	}
	cr.lang = page_lang(req);
	cr.v = tmpl_vars_new();
	if (device_evaluate(idp, t, &ss, NULL, &dr) == 0)
		cr.current = dr.serial;
	if (store_cert_list(idp->in.store, t->id, ss.user.id, cert_row, &cr) < 0) {
		page_error(idp->pages, req, 503, "error_server", NULL);
	} else {
		char *portal = xasprintf("%sportal", t->path);
		tmpl_set(cr.v, "title", page_msg(idp->pages, cr.lang, "certs_title"));
		tmpl_set(cr.v, "username", ss.user.name);
		tmpl_set(cr.v, "portal_url", portal);
		http_add_header(req, "Cache-Control", "no-store");
		page_render(idp->pages, req, 200, "certs.html", cr.v);
		free(portal);
	}
	tmpl_vars_free(cr.v);
	session_clear(&ss);
}

void
certs_route(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *rest)
{
	if (strcmp(http_method(req), "GET") && strcmp(http_method(req), "HEAD")) {
		http_add_header(req, "Allow", "GET, HEAD");
		page_error(idp->pages, req, 405, "error_method", NULL);
		return;
	}
	if (!strcmp(rest, "")) {
		certs_page(idp, t, req);
	} else if (!strcmp(rest, "/ca.pem") && t->ca_pem) {
		http_add_header(req, "Cache-Control", "public, max-age=3600");
		http_body_copy(req, "application/x-pem-file", t->ca_pem, strlen(t->ca_pem));
	} else if (!strcmp(rest, "/crl") && t->ca_pem) {
		struct crlrec r;
		int rc = store_crl_get(idp->in.store, t->id, &r);
		if (rc == 1 && r.der) {
			/* Cacheable until the next refresh at the latest. */
			char cc[64];
			int64_t left = (int64_t)r.next_update - clock_now();
			snprintf(cc, sizeof(cc), "public, max-age=%lld",
			    (long long)(left < 0 ? 0 : left < 300 ? left : 300));
			http_add_header(req, "Cache-Control", cc);
			http_body_copy(req, "application/pkix-crl", r.der, r.der_len);
		} else {
			page_error(idp->pages, req, rc < 0 ? 503 : 404, rc < 0 ? "error_server" :
			    "error_not_found", NULL);
		}
		store_crlrec_clear(&r);
	} else {
		page_error(idp->pages, req, 404, "error_not_found", NULL);
	}
}
