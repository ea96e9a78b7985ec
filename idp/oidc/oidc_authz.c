/*
 * The authorization endpoint: code flow only, PKCE S256, response_mode query or
 * form_post, iss in every answer (RFC 9207), prompt=none|login and max_age.  Until the
 * redirect_uri is known to be registered, errors are pages, never redirects.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "audit.h"
#include "clock.h"
#include "crypto.h"
#include "device.h"
#include "encode.h"
#include "log.h"
#include "oidc.h"
#include "resume.h"
#include "xmalloc.h"

#define STATE_MAX 1024
#define NONCE_MAX 512

struct authz {
	const struct oidc_client *c;
	const char *redirect_uri;
	const char *state;
	const char *nonce;
	const char *challenge;
	int form_post;
	int prompt_none;
	int prompt_login;
	int want_mfa;		/* acr_values names OIDC_ACR_MFA */
	int64_t max_age;	/* -1: not given */
	char scope[128];	/* the known scopes requested, space-separated */
};

static const char *const known_scopes[] = { "openid", "profile", "email", "groups", NULL };

/* Keep the scopes we know, in our order; unknown ones are ignored (RFC 6749 3.3). */
static void
filter_scope(const char *in, char out[128])
{
	out[0] = '\0';
	for (size_t i = 0; known_scopes[i]; i++) {
		size_t n = strlen(known_scopes[i]);
		for (const char *p = in; p && *p; ) {
			size_t len = strcspn(p, " ");
			if (len == n && !strncmp(p, known_scopes[i], n)) {
				if (out[0])
					strncat(out, " ", 127 - strlen(out));
				strncat(out, known_scopes[i], 127 - strlen(out));
				break;
			}
			p += len;
			p += strspn(p, " ");
		}
	}
}

/* Send params to the client's redirect_uri (query or form_post), with iss. */
static void
answer(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const struct authz *a,
    const char *const *names, const char *const *values, size_t n)
{
	const char *nn[8], *vv[8];
	size_t k = 0;
	struct buf url;

	for (size_t i = 0; i < n && k < 6; i++, k++) {
		nn[k] = names[i];
		vv[k] = values[i];
	}
	nn[k] = "state";
	vv[k++] = a->state;
	nn[k] = "iss";
	vv[k++] = t->base;
	if (a->form_post) {
		page_post_fields(idp->pages, req, a->redirect_uri, nn, vv, k);
		return;
	}
	buf_init(&url, 0);
	buf_puts(&url, a->redirect_uri);
	for (size_t i = 0; i < k; i++) {
		char *e;
		if (vv[i] == NULL)
			continue;
		e = url_encode(vv[i]);
		buf_printf(&url, "%c%s=%s", strchr(url.data, '?') ? '&' : '?', nn[i], e);
		free(e);
	}
	http_redirect(req, url.data);
	buf_free(&url);
}

static void
redirect_error(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct authz *a, const char *error, const char *description)
{
	const char *names[] = { "error", "error_description" };
	const char *values[] = { error, description };

	audit_event(idp->in.store, t->id, "oidc.authorize.reject", "client", a->c->client_id,
	    "ip", http_client_ip(req), "reason", error, NULL);
	answer(idp, t, req, a, names, values, 2);
}

/* A refusal by the access rules: access_denied to the client, with the reference code. */
static void
refused(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const struct authz *a,
    const struct access_result *ar, const char *why)
{
	char *desc = xasprintf("%s (reference %s)", why, ar->ref);

	redirect_error(idp, t, req, a, "access_denied", desc);
	free(desc);
}

static void
page_reject(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *client,
    const char *reason)
{
	audit_event(idp->in.store, t->id, "oidc.authorize.reject", "client", client, "ip",
	    http_client_ip(req), "reason", reason, NULL);
	page_error(idp->pages, req, 400, "error_oidc_request", "hint_contact_admin");
}

static int
registered(char *const *uris, size_t n, const char *uri)
{
	for (size_t i = 0; uri && i < n; i++)
		if (!strcmp(uris[i], uri))	/* byte for byte: no normalisation */
			return 1;
	return 0;
}

static int
b64url_chars(const char *s, size_t min, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	return n >= min && n <= max && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
	    "vwxyz0123456789-_") == n;
}

/* The request's parameters, checked; on error the answer is already made.  0 or -1. */
static int
parse(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const struct form *f,
    struct authz *a)
{
	const char *client = form_get(f, "client_id"), *v;

	memset(a, 0, sizeof(*a));
	a->max_age = -1;
	if ((a->c = oidc_client_find(t->oidc, client)) == NULL) {
		page_reject(idp, t, req, client, "unknown client");
		return -1;
	}
	a->redirect_uri = form_get(f, "redirect_uri");
	if (!registered(a->c->redirect_uris, a->c->nredirect, a->redirect_uri)) {
		page_reject(idp, t, req, client, "redirect_uri not registered");
		return -1;
	}
	/* From here on the client hears about errors at its registered redirect_uri. */
	a->state = form_get(f, "state");
	v = form_get(f, "response_mode");
	a->form_post = v && !strcmp(v, "form_post");
	if (a->state && strlen(a->state) > STATE_MAX) {
		a->state = NULL;
		redirect_error(idp, t, req, a, "invalid_request", "state too long");
		return -1;
	}
	if (v && strcmp(v, "query") && strcmp(v, "form_post")) {
		redirect_error(idp, t, req, a, "invalid_request", "unsupported response_mode");
		return -1;
	}
	if ((v = form_get(f, "response_type")) == NULL || strcmp(v, "code")) {
		redirect_error(idp, t, req, a, "unsupported_response_type", "only code");
		return -1;
	}
	if (!a->c->grant_code) {
		redirect_error(idp, t, req, a, "unauthorized_client", NULL);
		return -1;
	}
	if (form_get(f, "request")) {
		redirect_error(idp, t, req, a, "request_not_supported", NULL);
		return -1;
	}
	if (form_get(f, "request_uri")) {
		redirect_error(idp, t, req, a, "request_uri_not_supported", NULL);
		return -1;
	}
	filter_scope(form_get(f, "scope"), a->scope);
	if (a->scope[0] == '\0') {
		redirect_error(idp, t, req, a, "invalid_scope", NULL);
		return -1;
	}
	a->nonce = form_get(f, "nonce");
	if (a->nonce && strlen(a->nonce) > NONCE_MAX) {
		redirect_error(idp, t, req, a, "invalid_request", "nonce too long");
		return -1;
	}
	return 0;
}

/* acr_values (space-separated, in order of preference) naming the MFA profile. */
static int
acr_wants_mfa(const char *v)
{
	size_t n = strlen(OIDC_ACR_MFA);

	for (const char *p = v; p && *p; p += strspn(p, " ")) {
		size_t len = strcspn(p, " ");
		if (len == n && !strncmp(p, OIDC_ACR_MFA, n))
			return 1;
		p += len;
	}
	return 0;
}

/*
 * RFC 8176 amr from what the session proved: the device certificate (x509) is a
 * software-held key, "swk", and with the password makes "mfa" as it always did.
 */
static char *
amr_of(const char *methods, const char *device)
{
	char *out = xstrdup(""), *next;

	for (const char *p = methods ? methods : ""; *p; p += strspn(p, " ")) {
		size_t len = strcspn(p, " ");
		int x509 = len == 4 && !strncmp(p, "x509", 4);
		if (x509 && device == NULL) {
			p += len;	/* the certificate is no longer valid: not a proof now */
			continue;
		}
		next = xasprintf("%s%s%.*s", out, *out ? " " : "", x509 ? 3 : (int)len,
		    x509 ? "swk" : p);
		free(out);
		out = next;
		p += len;
	}
	if (device && !session_methods_has(out, "swk")) {
		next = session_methods_add(out, "swk");
		free(out);
		out = next;
	}
	if (device && !session_methods_has(out, "mfa")) {
		next = session_methods_add(out, "mfa");
		free(out);
		out = next;
	}
	return out;
}

/* PKCE, prompt and max_age.  0 or -1 (answered). */
static int
parse_more(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const struct form *f,
    struct authz *a)
{
	const char *method = form_get(f, "code_challenge_method"), *p = form_get(f, "prompt");
	const char *m = form_get(f, "max_age");

	a->challenge = form_get(f, "code_challenge");
	a->want_mfa = acr_wants_mfa(form_get(f, "acr_values"));
	if (a->challenge || method) {
		if (method == NULL || strcmp(method, "S256")) {
			redirect_error(idp, t, req, a, "invalid_request",
			    "code_challenge_method must be S256");
			return -1;
		}
		if (!b64url_chars(a->challenge, 43, 43)) {
			redirect_error(idp, t, req, a, "invalid_request", "malformed code_challenge");
			return -1;
		}
	} else if (!strcmp(a->c->auth_method, "none")) {
		redirect_error(idp, t, req, a, "invalid_request", "PKCE is required");
		return -1;
	}
	for (; p && *p; p += strspn(p, " ")) {
		size_t len = strcspn(p, " ");
		if (len == 4 && !strncmp(p, "none", 4))
			a->prompt_none = 1;
		else if (len == 5 && !strncmp(p, "login", 5))
			a->prompt_login = 1;
		else if (!(len == 7 && !strncmp(p, "consent", 7)) &&
		    !(len == 14 && !strncmp(p, "select_account", 14))) {
			redirect_error(idp, t, req, a, "invalid_request", "unknown prompt value");
			return -1;
		}
		p += len;
	}
	if (a->prompt_none && a->prompt_login) {
		redirect_error(idp, t, req, a, "invalid_request", "prompt=none with login");
		return -1;
	}
	if (m) {
		char *end;
		long long v = strtoll(m, &end, 10);
		if (*m == '\0' || *end || v < 0 || v > 100000000) {
			redirect_error(idp, t, req, a, "invalid_request", "bad max_age");
			return -1;
		}
		a->max_age = v;
	}
	return 0;
}

/* The parameters as a query string, to park while the user logs in. */
static char *
park_state(const struct form *f)
{
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = 0; i < f->n; i++) {
		char *n = url_encode(f->f[i].name), *v = url_encode(f->f[i].value);
		buf_printf(&b, "%s%s=%s", i ? "&" : "", n, v);
		free(n);
		free(v);
	}
	return buf_steal(&b, NULL);
}

static void
issue_code(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const struct authz *a,
    struct sso_session *ss, const char *device)
{
	const struct settings *s = &idp->in.settings;
	char *code = crypto_random_token(32), *sid = oidc_sid(t, ss->hash), *amr;
	struct oidc_code c = { 0 };
	struct session_sp rec = { (char *)a->c->client_id, NULL, (uint64_t)clock_now() };
	struct audit_entry ae;
	const char *names[] = { "code" }, *values[] = { code }, *err;
	int64_t now = clock_now();

	c.client_id = (char *)a->c->client_id;
	c.redirect_uri = (char *)a->redirect_uri;
	c.user = ss->user.id;
	c.scope = (char *)a->scope;
	c.nonce = (char *)a->nonce;
	c.challenge = (char *)a->challenge;
	c.amr = amr = amr_of(ss->s.methods, device);
	c.acr = OIDC_ACR_PASSWORD;
	if (device) {
		c.acr = OIDC_ACR_DEVICE;
		c.device = (char *)device;
	}
	if (session_methods_has(ss->s.methods, "otp") || session_methods_has(ss->s.methods, "hwk"))
		c.acr = OIDC_ACR_MFA;
	c.sid = sid;
	c.session = ss->hash;
	c.session_len = 32;
	c.auth_time = ss->s.authn_instant;
	c.expires = (uint64_t)(now + s->oidc_code_lifetime);
	audit_entry_make(&ae, "oidc.authorize", "user", ss->user.name, "client", a->c->client_id,
	    "app", a->c->app, "ip", http_client_ip(req), NULL);
	/* Code, the client joining the SSO session (logout reaches it) and audit: one commit. */
	if (store_session_authorize(idp->in.store, t->id, ss->hash, &rec, code, &c, now, &ae,
	    &err) < 0) {
		page_error(idp->pages, req, 503, "error_server", NULL);
	} else {
		audit_entry_log(&ae, t->id);
		answer(idp, t, req, a, names, values, 1);
	}
	freezero_str(code);
	free(sid);
	free(amr);
}

/* Park the request while the user logs in, or with ss goes through the device check. */
static void
park(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const struct authz *a,
    const struct form *f, int64_t received, const struct sso_session *ss,
    enum access_outcome outcome)
{
	struct pending p = { 0 };

	p.kind = "oidc";
	p.app = (char *)a->c->client_id;
	p.state = park_state(f);
	p.created = (uint64_t)received;
	p.force = a->prompt_login || a->max_age >= 0;
	if (ss && (outcome == ACCESS_MFA || outcome == ACCESS_ENROL))
		resume_park_mfa(idp, t, req, &p, outcome == ACCESS_ENROL);
	else
		resume_park(idp, t, req, &p, ss);
	free(p.state);
}

/* A request of a user with a session: the access rules decide, then the code. */
static void
with_session(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct authz *a, const struct form *f, int64_t received, struct sso_session *ss)
{
	struct access_result ar;

	switch (access_check_mfa(idp, t, req, ss, a->c->app, a->want_mfa, &ar)) {
	case ACCESS_PASS:
		issue_code(idp, t, req, a, ss, ar.serial);
		break;
	case ACCESS_DEVICE:
	case ACCESS_MFA:
	case ACCESS_ENROL:
		if (a->prompt_none)
			redirect_error(idp, t, req, a, "interaction_required",
			    ar.outcome == ACCESS_DEVICE ? "this application needs a device check" :
			    "this application needs a second factor");
		else
			park(idp, t, req, a, f, received, ss, ar.outcome);
		break;
	case ACCESS_DENY:
		refused(idp, t, req, a, &ar, "access to this application is not allowed");
		break;
	case ACCESS_NO_MFA:
		refused(idp, t, req, a, &ar, "a second factor is required and none is enrolled");
		break;
	default:
		page_error(idp->pages, req, 503, "error_server", NULL);
	}
}

static void
authorize(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const struct form *f,
    int64_t received, int resumed)
{
	struct authz a;
	struct sso_session ss;
	int have, fresh;

	if (parse(idp, t, req, f, &a) == -1 || parse_more(idp, t, req, f, &a) == -1)
		return;
	if ((have = session_current(idp, t, req, &ss)) < 0) {
		page_error(idp->pages, req, 503, "error_server", NULL);
		return;
	}
	/* A login forced by prompt=login or max_age must happen after the request came. */
	fresh = have == 1 && (int64_t)ss.s.authn_instant >= received;
	if (have == 1 && ((a.prompt_login && !fresh) || (a.max_age >= 0 &&
	    clock_now() - (int64_t)ss.s.authn_instant > a.max_age && !fresh))) {
		session_clear(&ss);
		have = 0;
	}
	if (have == 1) {
		with_session(idp, t, req, &a, f, received, &ss);
		session_clear(&ss);
	} else if (a.prompt_none || resumed) {
		redirect_error(idp, t, req, &a, "login_required", NULL);
	} else {
		park(idp, t, req, &a, f, received, NULL, ACCESS_PASS);
	}
}

void
oidc_authorize(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	int post = !strcmp(http_method(req), "POST");

	authorize(idp, t, req, post ? http_form(req) : http_query(req), clock_now(), 0);
}

void
oidc_refused(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct pending *p, const char *why, const char *ref)
{
	struct access_result ar = { .outcome = ACCESS_DENY };
	struct authz a;
	struct form f;
	const char *err;

	snprintf(ar.ref, sizeof(ar.ref), "%s", ref);
	if (form_parse(&f, p->state, strlen(p->state), &err) == -1)
		page_error(idp->pages, req, 400, "error_expired", NULL);
	else if (parse(idp, t, req, &f, &a) == 0)
		refused(idp, t, req, &a, &ar, why);
	form_free(&f);
}

void
oidc_resume(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct pending *p)
{
	struct form f;
	const char *err;

	if (form_parse(&f, p->state, strlen(p->state), &err) == -1)
		page_error(idp->pages, req, 400, "error_expired", NULL);
	else
		authorize(idp, t, req, &f, (int64_t)p->created, 1);
	form_free(&f);
}
