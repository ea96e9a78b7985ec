/*
 * Device-restricted login and device certificate pages.  A device check is tied to the
 * browser that began it by a one-time cookie: the device listener checks the certificate
 * (and the cookie, where it reaches that host name), the main listener requires the cookie
 * again and marks the session only on a POST from its "continue" page.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "clock.h"
#include "crypto.h"
#include "device.h"
#include "devcert.h"
#include "encode.h"
#include "html.h"
#include "ipnet.h"
#include "log.h"
#include "resume.h"
#include "login.h"
#include "routes.h"
#include "rules.h"
#include "tz.h"
#include "url.h"
#include "xmalloc.h"

#define DEVICE_TOKEN_BYTES 32

/* ---- the tenant's device CA ---- */

int
device_tenant_load(struct idp *idp, struct tenant_ctx *t)
{
	const char *errstr;
	int rc;

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
	free(t->ca_pem);
	devcert_ca_free(t->devca);
}

/* Why the stored certificate c does not serve user u at now ("revoked" ...), or NULL. */
static const char *
cert_refusal(const struct devcert *c, const struct user *u, int64_t now)
{
	if (c->revoked)
		return "revoked";
	if ((int64_t)c->not_before > now || (int64_t)c->not_after <= now)
		return "invalid";
	/* The owner is the user's immutable id, not a name (a new user may have the name). */
	if (u->disabled || c->user_id == NULL || u->id == NULL || strcmp(c->user_id, u->id))
		return "other_user";
	return NULL;
}

int
device_checked(struct idp *idp, struct tenant_ctx *t, const struct sso_session *ss,
    const char **serial_r)
{
	struct devcert c;
	int rc;

	*serial_r = NULL;
	if (ss->s.device == NULL)
		return 0;
	if ((rc = store_cert_get(idp->in.store, t->id, ss->s.device, &c)) < 0)
		return -1;
	if (rc == 1 && cert_refusal(&c, &ss->user, clock_now()) == NULL)
		*serial_r = ss->s.device;
	store_devcert_clear(&c);
	return 0;
}

/* ---- the binding to the browser that began the check ---- */

static void
hash_hex(const char *s, char out[65])
{
	unsigned char h[CRYPTO_SHA256_LEN];

	crypto_sha256(s, strlen(s), h);
	hex_encode(h, sizeof(h), out);
}

/* A device-check token or binding cookie is base64url; anything else is not looked up. */
static int
token_ok(const char *c)
{
	size_t n = c ? strlen(c) : 0;

	return n >= 40 && n <= 64 && strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") == n;
}

/* "SESSION BINDING", and " SERIAL VIA" once verified (new string). */
static char *
ref_pack(const struct device_ref *r)
{
	if (r->serial[0])
		return xasprintf("%s %s %s %s", r->session, r->binding, r->serial, r->via);
	return xasprintf("%s %s", r->session, r->binding);
}

static int
ref_parse(const char *s, int verified, struct device_ref *r)
{
	int n = -1;

	memset(r, 0, sizeof(*r));
	if (s == NULL)
		return -1;
	if (verified)
		sscanf(s, "%64[0-9a-f] %64[0-9a-f] %47[0-9A-F] %7[a-z]%n", r->session, r->binding,
		    r->serial, r->via, &n);
	else
		sscanf(s, "%64[0-9a-f] %64[0-9a-f]%n", r->session, r->binding, &n);
	if (n < 0 || s[n] != '\0' || strlen(r->session) != 64 || strlen(r->binding) != 64)
		return -1;
	return 0;
}

int
device_binding_check(const struct pending *p, const char *kind, const char *cookie,
    int64_t now, struct device_ref *ref_r)
{
	char h[65];

	if (p->kind == NULL || strcmp(p->kind, kind) || (int64_t)p->expires < now ||
	    p->app == NULL || p->relay_state == NULL ||
	    ref_parse(p->state, !strcmp(kind, DEVICE_KIND_VERIFIED), ref_r) == -1)
		return 0;
	if (!token_ok(cookie))
		return -1;
	hash_hex(cookie, h);
	return crypto_streq(h, ref_r->binding) ? 1 : -1;
}

/*
 * 1 when the binding cookie reaches the device listener too: cookies belong to a host name,
 * whatever the port.  On another host name only the main listener can check it.
 */
static int
cookie_reaches_device(const struct settings *s)
{
	char *h1 = NULL, *p1 = NULL, *h2 = NULL, *p2 = NULL;
	int same = url_https_authority(s->url, &h1, &p1) == 0 &&
	    url_https_authority(s->device_url, &h2, &p2) == 0 && !strcasecmp(h1, h2);

	free(h1);
	free(p1);
	free(h2);
	free(p2);
	return same;
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
	struct device_ref ref = { 0 };
	char *token, *binding, *url;
	int64_t now = clock_now();

	if (s->device_url == NULL || t->devca == NULL) {
		refuse(idp, t, req, 403, t->devca ? "unavailable" : "no_ca", ss->user.name, NULL);
		return;
	}
	/* A new binding per check: the link alone, without this browser's cookie, is not enough. */
	binding = crypto_random_token(DEVICE_TOKEN_BYTES);
	token = crypto_random_token(DEVICE_TOKEN_BYTES);
	hex_encode(ss->hash, sizeof(ss->hash), ref.session);
	hash_hex(binding, ref.binding);
	p.kind = DEVICE_KIND_LINK;
	p.app = (char *)pending;
	p.state = ref_pack(&ref);
	p.relay_state = ss->user.name;
	p.created = (uint64_t)now;
	p.expires = (uint64_t)(now + s->device_check_lifetime);
	if (store_pending_put(idp->in.store, t->id, token, &p) < 0) {
		page_error(idp->pages, req, 503, "error_server", NULL);
	} else {
		http_set_cookie(req, DEVICE_COOKIE, binding, t->path, s->device_check_lifetime);
		url = xasprintf("%s/t/%s/device?c=%s", s->device_url, t->id, token);
		http_redirect(req, url);
		free(url);
	}
	free(p.state);
	freezero_str(binding);
	freezero_str(token);
}

/* ---- the device-check listener ---- */

/* The presented certificate: from a trusted proxy's header, else from the TLS session. */
static unsigned char *
presented_cert(struct idp *idp, struct http_req *req, size_t *len_r, int *from_proxy)
{
	const struct settings *s = &idp->in.settings;
	const unsigned char *der;

	*from_proxy = 0;
	if (s->device_proxy_header && ipnet_match(&idp->proxy_from, http_peer_ip(req))) {
		const char *h = http_header(req, s->device_proxy_header);
		*from_proxy = 1;
		return h && *h ? devcert_pem_to_der(h, len_r) : NULL;
	}
	if ((der = http_peer_cert(req, len_r)) == NULL || *len_r > DEVCERT_MAX_DER)
		return NULL;
	return xmemdup(der, *len_r);
}

/*
 * The presented certificate, verified against the tenant CA and found in the store as an
 * active certificate of user: 1 with c_r and via; 0 when a refusal has been answered.
 */
static int
check_cert(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *user,
    struct devcert *c_r, char via[8])
{
	struct user u = { 0 };
	unsigned char *der;
	char fp[65], serial[48];
	const char *errstr, *why = NULL;
	size_t len = 0;
	int rc = 0, proxied;

	if ((der = presented_cert(idp, req, &len, &proxied)) == NULL) {
		refuse(idp, t, req, 403, "no_cert", user, NULL);
		return 0;
	}
	snprintf(via, 8, "%s", proxied ? "proxy" : "tls");
	if (t->devca == NULL || devcert_verify(t->devca, der, len, clock_now(), fp, serial,
	    &errstr) == -1) {
		log_info("tenant %s: device certificate of %s refused: %s", t->id, user,
		    t->devca ? errstr : "no CA");
		refuse(idp, t, req, 403, "invalid", user, NULL);
		goto done;
	}
	/* The owner comes from the store, by fingerprint: never from names in the certificate. */
	if ((rc = store_cert_by_fingerprint(idp->in.store, t->id, fp, c_r)) != 1) {
		if (rc < 0)
			page_error(idp->pages, req, 503, "error_server", NULL);
		else
			refuse(idp, t, req, 403, "invalid", user, serial);
		rc = 0;
		goto done;
	}
	if (c_r->revoked)
		why = "revoked";
	else if (store_user_get(idp->in.store, t->id, user, &u) != 1)
		why = "other_user";
	else
		why = cert_refusal(c_r, &u, clock_now());
	if (why)
		refuse(idp, t, req, 403, why, user, c_r->serial);
	rc = why == NULL;
done:
	free(der);
	store_user_clear(&u);
	return rc;
}

/*
 * Record the verified certificate against the check under a new one-time reference, sent
 * only to the browser that presented the certificate: the main listener then requires the
 * binding cookie before it marks anything.
 */
static void
hand_back(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const struct pending *p,
    struct device_ref *ref)
{
	struct pending v = *p;
	char *token = crypto_random_token(DEVICE_TOKEN_BYTES), *url;
	int64_t now = clock_now();

	v.kind = DEVICE_KIND_VERIFIED;
	v.state = ref_pack(ref);
	v.created = (uint64_t)now;
	v.expires = (uint64_t)(now + idp->in.settings.device_check_lifetime);
	if (store_pending_put(idp->in.store, t->id, token, &v) < 0) {
		page_error(idp->pages, req, 503, "error_server", NULL);
	} else {
		url = xasprintf("%s/device?r=%s", t->base, token);
		http_redirect(req, url);
		free(url);
	}
	free(v.state);
	freezero_str(token);
}

/* The session that asked must still be there, and still this user's. */
static int
session_alive(struct idp *idp, struct tenant_ctx *t, const struct pending *p,
    const struct device_ref *ref)
{
	struct session sess = { 0 };
	struct user u = { 0 };
	unsigned char hash[32];
	size_t hlen;
	int ok;

	if (hex_decode(ref->session, strlen(ref->session), hash, sizeof(hash), &hlen) == -1 ||
	    hlen != sizeof(hash))
		return 0;
	/* Sessions name their user by id; the check was started for the user of that name. */
	ok = store_user_get(idp->in.store, t->id, p->relay_state, &u) == 1 &&
	    store_session_get(idp->in.store, t->id, hash, &sess) == 1 &&
	    !strcmp(sess.user, u.id) && (int64_t)sess.expires >= clock_now();
	store_session_clear(&sess);
	store_user_clear(&u);
	return ok;
}

static void
device_check(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	const char *token = form_get(http_query(req), "c");
	const char *cookie = http_cookie(req, DEVICE_COOKIE);
	struct pending p = { 0 };
	struct devcert c = { 0 };
	struct device_ref ref;
	int rc;

	if (!token_ok(token) || store_pending_take(idp->in.store, t->id, token, &p) != 1) {
		page_error(idp->pages, req, 400, "error_expired", NULL);
		return;
	}
	rc = device_binding_check(&p, DEVICE_KIND_LINK, cookie, clock_now(), &ref);
	if (rc == 0) {
		page_error(idp->pages, req, 400, "error_expired", NULL);
	} else if (rc == -1 && (cookie || cookie_reaches_device(&idp->in.settings))) {
		/* Another browser opened the link (or the starting one lost its cookie). */
		refuse(idp, t, req, 403, "binding", p.relay_state, NULL);
	} else if (check_cert(idp, t, req, p.relay_state, &c, ref.via) == 1) {
		if (!session_alive(idp, t, &p, &ref)) {
			page_error(idp->pages, req, 400, "error_session", NULL);
		} else {
			snprintf(ref.serial, sizeof(ref.serial), "%s", c.serial);
			hand_back(idp, t, req, &p, &ref);
		}
	}
	store_pending_clear(&p);
	store_devcert_clear(&c);
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

/* ---- back on the main listener: "continue", then the POST that marks the session ---- */

/*
 * The verified check r, read (take 0) or taken once (take 1): 1; 0 when it is not one
 * (a parked protocol request under that id stays untouched); -1 on storage errors.
 */
static int
verified_get(struct idp *idp, struct tenant_ctx *t, const char *r, int take,
    struct pending *p_r)
{
	int rc;

	memset(p_r, 0, sizeof(*p_r));
	if (!token_ok(r) || (rc = store_pending_get(idp->in.store, t->id, r, p_r)) == 0)
		return 0;
	if (rc < 0 || p_r->kind == NULL || strcmp(p_r->kind, DEVICE_KIND_VERIFIED)) {
		store_pending_clear(p_r);
		return rc < 0 ? -1 : 0;
	}
	if (!take)
		return 1;
	store_pending_clear(p_r);
	return store_pending_take(idp->in.store, t->id, r, p_r);
}

/* The page for a step that cannot go on: rc < 0 a storage error, else msg. */
static void
step_error(struct idp *idp, struct http_req *req, int rc, const char *msg)
{
	page_error(idp->pages, req, rc < 0 ? 503 : 400, rc < 0 ? "error_server" : msg, NULL);
}

/*
 * The verified check r (taken once when take) and its binding: 1 to this browser, -1 to
 * another (p_r and ref_r filled either way); 0 when an error page has been answered.
 */
static int
verified_step(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *r,
    int take, const char *cookie, struct pending *p_r, struct device_ref *ref_r)
{
	int rc = verified_get(idp, t, r, take, p_r);

	if (rc != 1) {
		step_error(idp, req, rc, "error_expired");
		return 0;
	}
	if ((rc = device_binding_check(p_r, DEVICE_KIND_VERIFIED, cookie, clock_now(),
	    ref_r)) == 0) {
		step_error(idp, req, 0, "error_expired");
		store_pending_clear(p_r);
	}
	return rc;
}

/* Delete the verified check r: whatever went wrong, nobody finishes it afterwards. */
static void
spend(struct idp *idp, struct tenant_ctx *t, const char *r)
{
	struct pending p;

	if (store_pending_take(idp->in.store, t->id, r, &p) == 1)
		store_pending_clear(&p);
}

/* This browser's current session is the one that began the check: 1, 0 no, -1 error. */
static int
same_session(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct pending *p, const struct device_ref *ref, struct sso_session *ss_r)
{
	char hex[65];
	int rc = session_current(idp, t, req, ss_r);

	if (rc != 1)
		return rc;
	hex_encode(ss_r->hash, sizeof(ss_r->hash), hex);
	if (crypto_streq(hex, ref->session) && !strcmp(ss_r->user.name, p->relay_state))
		return 1;
	session_clear(ss_r);
	return 0;
}

static void
continue_page(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *r,
    const struct pending *p, const struct device_ref *ref, const char *cookie)
{
	const char *lang = page_lang(req);
	struct tmpl_vars *v = tmpl_vars_new();
	struct devcert c = { 0 };
	char *action = xasprintf("%sdevice", t->path);
	char *csrf = session_csrf_token(t, "device", cookie);

	if (store_cert_get(idp->in.store, t->id, ref->serial, &c) == 1)
		tmpl_set(v, "label", c.label);
	tmpl_set(v, "title", page_msg(idp->pages, lang, "device_title"));
	tmpl_set(v, "serial", ref->serial);
	tmpl_set(v, "username", p->relay_state);
	tmpl_set(v, "action", action);
	tmpl_set(v, "r", r);
	tmpl_set(v, "csrf", csrf);
	page_render(idp->pages, req, 200, "device_continue.html", v);
	tmpl_vars_free(v);
	store_devcert_clear(&c);
	free(action);
	free(csrf);
}

/*
 * GET: "continue" for the browser that began the check.  Any other browser spends the
 * reference and gets the refusal, so the check cannot be finished anywhere afterwards.
 */
static void
device_continue_get(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	const char *r = form_get(http_query(req), "r");
	const char *cookie = http_cookie(req, DEVICE_COOKIE);
	struct pending p;
	struct device_ref ref;
	struct sso_session ss;
	int rc = verified_step(idp, t, req, r, 0, cookie, &p, &ref);

	if (rc == 0)
		return;
	if (rc == -1) {
		spend(idp, t, r);
		refuse(idp, t, req, 403, "binding", p.relay_state, ref.serial);
	} else if ((rc = same_session(idp, t, req, &p, &ref, &ss)) != 1) {
		spend(idp, t, r);
		step_error(idp, req, rc, "error_session");
	} else {
		continue_page(idp, t, req, r, &p, &ref, cookie);
		session_clear(&ss);
	}
	store_pending_clear(&p);
}

/* The certificate still serves the session's user: the session is device-verified. */
static void
mark_session(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct pending *p, const struct device_ref *ref, const struct sso_session *ss)
{
	struct devcert c = { 0 };
	int64_t now = clock_now();
	const char *why = NULL;
	char *url;
	int rc = store_cert_get(idp->in.store, t->id, ref->serial, &c);

	if (rc == 0 || (rc == 1 && (why = cert_refusal(&c, &ss->user, now)) != NULL)) {
		refuse(idp, t, req, 403, why ? why : "invalid", p->relay_state, ref->serial);
	} else if (rc < 0 ||
	    store_session_set_device(idp->in.store, t->id, ss->hash, c.serial, now) != 1) {
		page_error(idp->pages, req, 503, "error_server", NULL);
	} else {
		store_cert_touch(idp->in.store, t->id, c.serial, now);
		audit_event(idp->in.store, t->id, "device.check", "user", c.user, "serial",
		    c.serial, "label", c.label, "ip", http_client_ip(req), "via", ref->via, NULL);
		http_set_cookie(req, DEVICE_COOKIE, "", t->path, -1);
		url = xasprintf("%s/resume?r=%s", t->base, p->app);
		http_redirect(req, url);
		free(url);
	}
	store_devcert_clear(&c);
}

/* The POST from "continue": bound to the cookie twice (record and CSRF token), then marked. */
static void
device_finish(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	const struct form *f = http_form(req);
	const char *cookie = http_cookie(req, DEVICE_COOKIE);
	struct pending p;
	struct device_ref ref;
	struct sso_session ss = { 0 };
	int rc = verified_step(idp, t, req, form_get(f, "r"), 1, cookie, &p, &ref);

	if (rc == 0)
		return;
	if (rc == -1 || !session_csrf_check(t, "device", cookie, form_get(f, "csrf"))) {
		log_info("tenant %s: device check of %s: %s", t->id, p.relay_state, rc == -1 ?
		    "binding cookie missing or another browser's" : "CSRF token refused");
		refuse(idp, t, req, 403, "binding", p.relay_state, ref.serial);
	} else if ((rc = same_session(idp, t, req, &p, &ref, &ss)) != 1) {
		step_error(idp, req, rc, "error_session");
	} else {
		mark_session(idp, t, req, &p, &ref, &ss);
		session_clear(&ss);
	}
	store_pending_clear(&p);
}

void
device_continue(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	http_add_header(req, "Cache-Control", "no-store");
	if (!strcmp(http_method(req), "POST"))
		device_finish(idp, t, req);
	else
		device_continue_get(idp, t, req);
}

/* ---- pages on the main listener ---- */

struct cert_rows {
	struct tmpl_vars *v;
	const char *lang;
	const struct pages *pages;
	const char *zone;	/* the tenant's time zone, for the dates people read */
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
	char issued[TZ_TIME_LEN], expires[TZ_TIME_LEN], used[TZ_TIME_LEN];
	const char *status = c->revoked ? "certs_revoked" :
	    (int64_t)c->not_after <= cr->now ? "certs_expired" : "certs_active";

	tz_format(cr->zone, (int64_t)c->issued, issued);
	tz_format(cr->zone, (int64_t)c->not_after, expires);
	tmpl_set(item, "label", c->label);
	tmpl_set(item, "serial", c->serial);
	tmpl_set(item, "issued", issued);
	tmpl_set(item, "expires", expires);
	if (c->last_used) {
		tz_format(cr->zone, (int64_t)c->last_used, used);
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
	struct cert_rows cr = { .pages = idp->pages, .zone = RULE_DEFAULT_TIMEZONE,
		.now = clock_now() };
	struct tenant tn = { 0 };
	int have = session_current(idp, t, req, &ss);

	if (have != 1) {
		if (have == 0)
			resume_park_page(idp, t, req, "certs");
		else
			page_error(idp->pages, req, 503, "error_server", NULL);
		return;
	}
	cr.lang = page_lang(req);
	cr.v = tmpl_vars_new();
	if (store_tenant_get(idp->in.store, t->id, &tn) == 1 && tn.timezone)
		cr.zone = tn.timezone;
	if (device_checked(idp, t, &ss, &cr.current) == -1)
		cr.current = NULL;
	if (store_cert_list(idp->in.store, t->id, ss.user.id, cert_row, &cr) < 0) {
		page_error(idp->pages, req, 503, "error_server", NULL);
	} else {
		char *portal = xasprintf("%sportal", t->path);
		tmpl_set(cr.v, "title", page_msg(idp->pages, cr.lang, "certs_title"));
		tmpl_set(cr.v, "wide", "1");	/* six columns: a 28rem card squeezes them */
		tmpl_set(cr.v, "username", ss.user.name);
		tmpl_set(cr.v, "portal_url", portal);
		http_add_header(req, "Cache-Control", "no-store");
		page_render(idp->pages, req, 200, "certs.html", cr.v);
		free(portal);
	}
	tmpl_vars_free(cr.v);
	store_tenant_clear(&tn);
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
