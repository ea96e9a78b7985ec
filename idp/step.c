/*
 * The steps between a good password and a session (a second factor, an enrolment the
 * rules allow, a new password that must be set), kept for the browser under a cookie
 * whose hash keys a short-lived record; the same factor page steps a session up.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "audit.h"
#include "clock.h"
#include "crypto.h"
#include "encode.h"
#include "factor.h"
#include "form.h"
#include "log.h"
#include "login.h"
#include "passkey.h"
#include "password.h"
#include "pwquality.h"
#include "qrsvg.h"
#include "session.h"
#include "step.h"
#include "xmalloc.h"

#define CODE_MAX 40

static const char *const next_names[] = { "factor", "enrol", "password" };

/* Who is proving something: a login under way (step cookie) or a session stepping up. */
struct subject {
	int stepup;		/* 1: an existing session (ss) */
	unsigned char hash[32];	/* the step cookie's or the session's */
	char bind[65];		/* hash in hex: what CSRF tokens and challenges bind to */
	struct user u;
	struct sso_session ss;
	char *methods;		/* proven so far */
	char *r;		/* the parked request, or NULL */
	char *next;		/* the page the step is at */
};

static void
subject_clear(struct subject *s)
{
	if (s->stepup)
		session_clear(&s->ss);
	else
		store_user_clear(&s->u);
	free(s->methods);
	free(s->r);
	free(s->next);
	explicit_bzero(s->hash, sizeof(s->hash));
}

/* The value of key in "key=value" lines (new), or NULL. */
static char *
data_get(const char *data, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = data; p && *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != 0)) {
		if (!strncmp(p, key, n) && p[n] == '=')
			return xstrndup(p + n + 1, strcspn(p + n + 1, "\n"));
	}
	return NULL;
}

static int
step_put(struct idp *idp, struct tenant_ctx *t, const unsigned char hash[32],
    const char *user_id, const char *methods, const char *r, const char *next)
{
	char *data = xasprintf("methods=%s\nnext=%s\nr=%s", methods, next, r ? r : "");
	struct challenge c = { "step", (char *)user_id, data, (uint64_t)clock_now(),
		(uint64_t)(clock_now() + STEP_LIFETIME) };
	int rc = store_challenge_put(idp->in.store, t->id, hash, &c);

	free(data);
	return rc;
}

static void
go(struct tenant_ctx *t, struct http_req *req, const char *page, const char *r)
{
	char *url = r && *r ? xasprintf("%s%s?r=%s", t->path, page, r) :
	    xasprintf("%s%s", t->path, page);

	http_redirect(req, url);
	free(url);
}

void
step_begin(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const struct user *u,
    const char *methods, const char *pending, enum step_next next)
{
	char *cookie = crypto_random_token(32), *page;
	unsigned char hash[32];

	crypto_sha256(cookie, strlen(cookie), hash);
	if (step_put(idp, t, hash, u->id, methods, pending, next_names[next]) < 0) {
		page_error(idp->pages, req, 503, "error_server", NULL);
	} else {
		http_set_cookie(req, STEP_COOKIE, cookie, t->path, HTTP_COOKIE_SESSION);
		page = xasprintf("login/%s", next_names[next]);
		go(t, req, page, pending);
		free(page);
	}
	freezero_str(cookie);
}

/* A login under way in this browser: 1 (s filled), 0 none, -1. */
static int
subject_step(struct idp *idp, struct tenant_ctx *t, struct http_req *req, struct subject *s)
{
	const char *cookie = http_cookie(req, STEP_COOKIE);
	struct challenge c;
	int rc;

	if (cookie == NULL || strlen(cookie) != 43)
		return 0;
	crypto_sha256(cookie, strlen(cookie), s->hash);
	if ((rc = store_challenge_get(idp->in.store, t->id, s->hash, clock_now(), &c)) != 1)
		return rc;
	if (strcmp(c.kind, "step") || c.user == NULL ||
	    (rc = store_user_get_by_id(idp->in.store, t->id, c.user, &s->u)) != 1 ||
	    s->u.disabled) {
		store_challenge_clear(&c);
		return rc < 0 ? -1 : 0;
	}
	s->methods = data_get(c.data, "methods");
	s->next = data_get(c.data, "next");
	s->r = data_get(c.data, "r");
	if (s->r && *s->r == '\0') {
		free(s->r);	/* a login to the portal */
		s->r = NULL;
	}
	store_challenge_clear(&c);
	return 1;
}

/*
 * Who this request is for: a login under way, else a session stepping up (r from the
 * request).  1, 0 (nobody: the caller sends the browser to sign in), -1.
 */
static int
subject_get(struct idp *idp, struct tenant_ctx *t, struct http_req *req, struct subject *s)
{
	const struct form *f = strcmp(http_method(req), "POST") ? http_query(req) : http_form(req);
	const char *r = form_get(f, "r");
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = subject_step(idp, t, req, s)) == 0) {
		if ((rc = session_current(idp, t, req, &s->ss)) != 1)
			return rc;
		s->stepup = 1;
		memcpy(s->hash, s->ss.hash, sizeof(s->hash));
		s->methods = xstrdup(s->ss.s.methods ? s->ss.s.methods : "");
		s->r = r && strlen(r) == 43 && strspn(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
		    "nopqrstuvwxyz0123456789-_") == 43 ? xstrdup(r) : NULL;
	}
	if (rc == 1)
		hex_encode(s->hash, sizeof(s->hash), s->bind);
	else
		subject_clear(s);
	return rc;
}

static const struct user *
subject_user(const struct subject *s)
{
	return s->stepup ? &s->ss.user : &s->u;
}

/* The subject for page (a login under way must be at that step): 1, or answered. */
static int
subject_for(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *page,
    struct subject *s)
{
	int rc = subject_get(idp, t, req, s);

	if (rc == 1 && !s->stepup && strcmp(s->next ? s->next : "", page)) {
		subject_clear(s);
		rc = 0;
	}
	if (rc < 0)
		page_error(idp->pages, req, 503, "error_server", NULL);
	else if (rc == 0)
		go(t, req, "login", form_get(http_query(req), "r"));
	return rc == 1;
}

/*
 * The subject proved method: a session steps up; a login goes on to a new password when
 * one must be set, else its session starts.
 */
static void
proven(struct idp *idp, struct tenant_ctx *t, struct http_req *req, struct subject *s,
    const char *method, int uv)
{
	char *m = session_methods_add(s->methods, method), *m2 = NULL;
	const struct user *u = subject_user(s);

	if (uv)
		m = (m2 = m, session_methods_add(m2, "user"));
	free(m2);
	audit_event(idp->in.store, t->id, "login.factor.ok", "user", u->name, "ip",
	    http_client_ip(req), "method", method, "stage", s->stepup ? "step-up" : "login", NULL);
	if (s->stepup) {
		store_session_add_method(idp->in.store, t->id, s->hash, method, clock_now());
		if (uv)
			store_session_add_method(idp->in.store, t->id, s->hash, "user", clock_now());
		go(t, req, s->r ? "resume" : "portal", s->r);
	} else if (u->must_change) {
		if (step_put(idp, t, s->hash, u->id, m, s->r, "password") < 0)
			page_error(idp->pages, req, 503, "error_server", NULL);
		else
			go(t, req, "login/password", s->r);
	} else {
		struct challenge c;
		if (store_challenge_take(idp->in.store, t->id, s->hash, clock_now(), &c) == 1)
			store_challenge_clear(&c);
		http_set_cookie(req, STEP_COOKIE, "", t->path, -1);
		login_complete(idp, t, req, u, m, s->r);
	}
	free(m);
}

/* ---- the second-factor page ---- */

struct user_factors {
	int totp, recovery, webauthn;
	struct buf creds;	/* credential ids, comma-separated */
};

static void
count_factor(const void *rec, void *arg)
{
	const struct factor *f = rec;
	struct user_factors *uf = arg;

	if (f->kind == FACTOR_TOTP && !f->pending)
		uf->totp++;
	else if (f->kind == FACTOR_RECOVERY && f->counter != (1u << FACTOR_RECOVERY_CODES) - 1)
		uf->recovery++;
	else if (f->kind == FACTOR_WEBAUTHN && f->cred_id) {
		buf_printf(&uf->creds, "%s%s", uf->webauthn++ ? "," : "", f->cred_id);
	}
}

/* The passkey button's values, when the user has passkeys. */
static void
passkey_vars(struct idp *idp, struct tenant_ctx *t, const struct subject *s,
    struct user_factors *uf, struct tmpl_vars *v)
{
	char *challenge, *rp;

	if (!uf->webauthn || (rp = passkey_rp_id(idp)) == NULL)
		return;
	challenge = passkey_challenge_new(t, "factor", s->bind);
	buf_putc(&uf->creds, '\0');
	tmpl_set(v, "passkey_challenge", challenge);
	tmpl_set(v, "passkey_rp", rp);
	tmpl_set(v, "passkey_allow", uf->creds.data);
	free(challenge);
	free(rp);
}

static void
factor_form(struct idp *idp, struct tenant_ctx *t, struct http_req *req, struct subject *s,
    int status, const char *errkey)
{
	const char *lang = page_lang(req);
	struct tmpl_vars *v = tmpl_vars_new();
	struct user_factors uf = { 0 };
	char *csrf = session_csrf_token(t, "factor", s->bind);
	char *action = xasprintf("%slogin/factor", t->path);

	buf_init(&uf.creds, 0);
	(void)store_factor_list(idp->in.store, t->id, subject_user(s)->id, count_factor, &uf);
	tmpl_set(v, "title", page_msg(idp->pages, lang, "factor_title"));
	tmpl_set(v, "action", action);
	tmpl_set(v, "csrf", csrf);
	tmpl_set(v, "r", s->r);
	if (uf.totp || uf.recovery)
		tmpl_set(v, "has_code", "1");
	passkey_vars(idp, t, s, &uf, v);
	if (uf.webauthn)
		page_allow_script(req);	/* webauthn.js, from this origin only */
	if (errkey)
		tmpl_set(v, "error", page_msg(idp->pages, lang, errkey));
	http_add_header(req, "Cache-Control", "no-store");
	page_render(idp->pages, req, status, "factor.html", v);
	tmpl_vars_free(v);
	buf_free(&uf.creds);
	free(csrf);
	free(action);
}

/* A recovery code was used: audited, and the user told by mail when that is possible. */
static void
recovery_used(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct user *u, int left)
{
	struct mail_msg m;

	log_info("tenant %s: user %s used a recovery code (%d left)", t->id, u->name, left);
	if (u->email == NULL || idp->in.settings.smtp_relay == NULL)
		return;
	factor_mail_recovery_used(t->id, u->name, left, http_client_ip(req), u->email, &m);
	if (mail_queue(&m) == -1)
		log_warn("tenant %s: the recovery-code mail to %s could not be queued", t->id,
		    u->name);
	factor_mail_clear(&m);
}

/* A typed code: TOTP (6 digits) or a recovery code.  1 good ("otp"), 0 not, -1. */
static int
check_code(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const struct user *u,
    const char *code)
{
	struct audit_entry ae;
	int left = 0, rc;

	if (strlen(code) == 6 && strspn(code, "0123456789") == 6)
		return factor_totp_check(&idp->in, t->id, u->id, NULL, code, clock_now(), NULL,
		    NULL);
	audit_entry_make(&ae, "factor.recovery.used", "user", u->name, "ip",
	    http_client_ip(req), NULL);
	rc = factor_recovery_use(&idp->in, t->id, u->id, code, clock_now(), &ae, &left);
	if (rc == 1) {
		audit_entry_log(&ae, t->id);
		recovery_used(idp, t, req, u, left);
	}
	return rc;
}

/* A code without spaces, or NULL when it is not something a person could have typed. */
static char *
typed_code(const char *in)
{
	char *out, *o;

	if (in == NULL || strlen(in) > CODE_MAX)
		return NULL;
	o = out = xmalloc(strlen(in) + 1);
	for (; *in; in++)
		if (*in != ' ' && *in != '\t')
			*o++ = *in;
	*o = '\0';
	if (*out == '\0' || strspn(out, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-") != strlen(out)) {
		free(out);
		return NULL;
	}
	return out;
}

static void
factor_failed(struct idp *idp, struct tenant_ctx *t, struct http_req *req, struct subject *s,
    const char *method, const char *reason, uint64_t n)
{
	char count[24];

	snprintf(count, sizeof(count), "%llu", (unsigned long long)n);
	audit_event(idp->in.store, t->id, "login.factor.fail", "user", subject_user(s)->name,
	    "ip", http_client_ip(req), "method", method, "reason", reason, "failures", count,
	    NULL);
}

/* The proof the form carries: "hwk" (a passkey) or "otp"; 1 good, 0 not, -1. */
static int
factor_proof(struct idp *idp, struct tenant_ctx *t, struct http_req *req, struct subject *s,
    const char **method, int *uv, const char **why)
{
	const struct form *f = http_form(req);
	struct passkey_answer a;
	struct factor fa;
	char *code;
	int rc;

	*uv = 0;
	if (passkey_answer_from(f, &a)) {
		*method = "hwk";
		rc = passkey_verify(idp, t, &a, "factor", s->bind, subject_user(s)->id, 0, &fa,
		    uv, why);
		if (rc == 1)
			store_factor_clear(&fa);
		return rc;
	}
	*method = "otp";
	*why = "bad_code";
	if ((code = typed_code(form_get(f, "otp"))) == NULL)
		return 0;
	rc = check_code(idp, t, req, subject_user(s), code);
	freezero_str(code);
	return rc;
}

static void
factor_post(struct idp *idp, struct tenant_ctx *t, struct http_req *req, struct subject *s)
{
	const char *method = "otp", *why = NULL, *name = subject_user(s)->name;
	uint64_t n = 0;
	int gate, uv = 0, rc;

	if (!session_csrf_check(t, "factor", s->bind, form_get(http_form(req), "csrf"))) {
		factor_failed(idp, t, req, s, method, "csrf", 0);
		factor_form(idp, t, req, s, 400, "login_csrf");
		return;
	}
	if ((gate = login_gate(idp, t, req, name, &n)) < 0) {
		page_error(idp->pages, req, 503, "error_server", NULL);
		return;
	}
	if (gate != LOGIN_GATE_OPEN) {
		factor_failed(idp, t, req, s, method, gate == LOGIN_GATE_LOCKED ? "locked" :
		    "backoff", n);
		factor_form(idp, t, req, s, 429, gate == LOGIN_GATE_LOCKED ? "login_locked" :
		    "login_backoff");
		return;
	}
	if ((rc = factor_proof(idp, t, req, s, &method, &uv, &why)) == 1) {
		login_gate_ok(idp, t, req, name);
		proven(idp, t, req, s, method, uv);
	} else if (rc < 0) {
		page_error(idp->pages, req, 503, "error_server", NULL);
	} else {
		factor_failed(idp, t, req, s, method, why ? why : "bad_code", n);
		factor_form(idp, t, req, s, 401, "factor_failed");
	}
}

void
step_factor(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	struct subject s;

	if (!subject_for(idp, t, req, "factor", &s))
		return;
	if (!strcmp(http_method(req), "POST"))
		factor_post(idp, t, req, &s);
	else
		factor_form(idp, t, req, &s, 200, NULL);
	subject_clear(&s);
}

/* ---- enrolment at login (a rule with --enroll) ---- */

/* The user's pending TOTP factor made for this page, or a new one: its id (new). */
static void
find_pending(const void *rec, void *arg)
{
	const struct factor *f = rec;
	char **id = arg;

	if (f->kind == FACTOR_TOTP && f->pending && *id == NULL)
		*id = xstrdup(f->id);
}

static void
enrol_form(struct idp *idp, struct tenant_ctx *t, struct http_req *req, struct subject *s,
    int status, const char *errkey)
{
	const char *lang = page_lang(req), *err = NULL;
	const struct user *u = subject_user(s);
	struct tmpl_vars *v;
	char *id = NULL, *uri = NULL, *secret = NULL, *svg, *csrf, *action;

	(void)store_factor_list(idp->in.store, t->id, u->id, find_pending, &id);
	if (id)
		uri = factor_totp_uri(&idp->in, t->id, u, id, &secret);
	if (uri == NULL) {
		free(id);
		id = NULL;
		if (factor_totp_create(&idp->in, t->id, u, "TOTP", 1, NULL, &id, &uri, &secret,
		    &err) == -1) {
			log_error("tenant %s: cannot make a TOTP seed: %s", t->id, err);
			page_error(idp->pages, req, 503, "error_server", NULL);
			return;
		}
	}
	v = tmpl_vars_new();
	svg = qr_svg(uri, page_msg(idp->pages, lang, "enrol_qr_label"));
	csrf = session_csrf_token(t, "enrol", s->bind);
	action = xasprintf("%slogin/enrol", t->path);
	tmpl_set(v, "title", page_msg(idp->pages, lang, "enrol_title"));
	tmpl_set_markup(v, "qr", svg);
	tmpl_set(v, "secret", secret);
	tmpl_set(v, "id", id);
	tmpl_set(v, "csrf", csrf);
	tmpl_set(v, "action", action);
	tmpl_set(v, "r", s->r);
	if (errkey)
		tmpl_set(v, "error", page_msg(idp->pages, lang, errkey));
	http_add_header(req, "Cache-Control", "no-store");
	page_render(idp->pages, req, status, "enrol.html", v);
	tmpl_vars_free(v);
	free(svg);
	free(csrf);
	free(action);
	free(id);
	freezero_str(uri);
	freezero_str(secret);
}

static void
enrol_post(struct idp *idp, struct tenant_ctx *t, struct http_req *req, struct subject *s)
{
	const struct form *f = http_form(req);
	const char *id = form_get(f, "id");
	const struct user *u = subject_user(s);
	struct audit_entry ae;
	char *code = typed_code(form_get(f, "otp"));
	uint64_t n = 0;
	int gate, rc = 0;

	if (!session_csrf_check(t, "enrol", s->bind, form_get(f, "csrf"))) {
		enrol_form(idp, t, req, s, 400, "login_csrf");
		free(code);
		return;
	}
	if ((gate = login_gate(idp, t, req, u->name, &n)) != LOGIN_GATE_OPEN) {
		factor_failed(idp, t, req, s, "otp", gate < 0 ? "error" : "locked", n);
		enrol_form(idp, t, req, s, gate < 0 ? 503 : 429, "login_locked");
		free(code);
		return;
	}
	audit_entry_make(&ae, "account.factor.add", "user", u->name, "ip", http_client_ip(req),
	    "kind", "totp", "stage", "login", NULL);
	if (code && id && strlen(id) <= 32)
		rc = factor_totp_check(&idp->in, t->id, u->id, id, code, clock_now(), &ae, NULL);
	if (rc == 1) {
		audit_entry_log(&ae, t->id);
		login_gate_ok(idp, t, req, u->name);
		proven(idp, t, req, s, "otp", 0);
	} else {
		factor_failed(idp, t, req, s, "otp", "bad_code", n);
		enrol_form(idp, t, req, s, rc < 0 ? 503 : 401, "factor_failed");
	}
	freezero_str(code);
}

void
step_enrol(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	struct subject s;

	if (!subject_for(idp, t, req, "enrol", &s))
		return;
	if (!strcmp(http_method(req), "POST"))
		enrol_post(idp, t, req, &s);
	else
		enrol_form(idp, t, req, &s, 200, NULL);
	subject_clear(&s);
}

/* ---- a new password before the first session ---- */

static void
password_form(struct idp *idp, struct tenant_ctx *t, struct http_req *req, struct subject *s,
    int status, const char *errkey)
{
	const char *lang = page_lang(req);
	struct tmpl_vars *v = tmpl_vars_new();
	char *csrf = session_csrf_token(t, "newpw", s->bind);
	char *action = xasprintf("%slogin/password", t->path);

	tmpl_set(v, "title", page_msg(idp->pages, lang, "newpw_title"));
	tmpl_set(v, "csrf", csrf);
	tmpl_set(v, "action", action);
	tmpl_set(v, "r", s->r);
	tmpl_set(v, "username", subject_user(s)->name);
	if (errkey)
		tmpl_set(v, "error", page_msg(idp->pages, lang, errkey));
	http_add_header(req, "Cache-Control", "no-store");
	page_render(idp->pages, req, status, "newpw.html", v);
	tmpl_vars_free(v);
	free(csrf);
	free(action);
}

/* The tenant's password policy for u: NULL when pw passes, else a message key. */
static const char *
policy_refuses(struct idp *idp, struct tenant_ctx *t, const struct user *u, const char *pw,
    const char *pw2)
{
	struct tenant tr;
	uint64_t min = PWQUALITY_DEFAULT_MIN;
	const char *why = NULL;

	if (pw == NULL || pw2 == NULL || strcmp(pw, pw2))
		return "pw_mismatch";
	if (strlen(pw) > PASSWORD_MAX_LEN)
		return "pw_too_long";
	if (store_tenant_get(idp->in.store, t->id, &tr) == 1) {
		if (tr.pw_min_len)
			min = tr.pw_min_len;
		store_tenant_clear(&tr);
	}
	if (pwquality_check(pw, (size_t)min, u->name, u->email,
	    idp->in.settings.cracklib_dict, &why) == -1)
		return why;
	if (u->pwhash && password_verify(u->pwhash, pw) == 1)
		return "pw_same";
	return NULL;
}

static void
password_post(struct idp *idp, struct tenant_ctx *t, struct http_req *req, struct subject *s)
{
	const struct form *f = http_form(req);
	const char *pw = form_get(f, "password"), *why, *err;
	struct audit_entry ae;
	char *hash;

	if (!session_csrf_check(t, "newpw", s->bind, form_get(f, "csrf"))) {
		password_form(idp, t, req, s, 400, "login_csrf");
		return;
	}
	if ((why = policy_refuses(idp, t, &s->u, pw, form_get(f, "password2"))) != NULL) {
		password_form(idp, t, req, s, 400, why);
		return;
	}
	if ((hash = password_hash(&idp->pw, pw, &err)) == NULL) {
		page_error(idp->pages, req, 503, "error_server", NULL);
		return;
	}
	audit_entry_make(&ae, "account.password.change", "user", s->u.name, "ip",
	    http_client_ip(req), "reason", "must_change", NULL);
	if (store_user_new_password(idp->in.store, t->id, s->u.id, hash, clock_now(), NULL,
	    &ae) != 1) {
		page_error(idp->pages, req, 503, "error_server", NULL);
	} else {
		audit_entry_log(&ae, t->id);
		s->u.must_change = 0;
		proven(idp, t, req, s, "pwd", 0);
	}
	freezero_str(hash);
}

void
step_password(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	struct subject s;

	if (!subject_for(idp, t, req, "password", &s))
		return;
	if (s.stepup)
		go(t, req, "account", NULL);
	else if (!strcmp(http_method(req), "POST"))
		password_post(idp, t, req, &s);
	else
		password_form(idp, t, req, &s, 200, NULL);
	subject_clear(&s);
}

/* ---- passwordless sign-in with a passkey ---- */

static void
passkey_failed(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *user,
    const char *why)
{
	audit_event(idp->in.store, t->id, "login.passkey.fail", "user", user, "ip",
	    http_client_ip(req), "reason", why, NULL);
	http_add_header(req, "Cache-Control", "no-store");
	page_error(idp->pages, req, 401, "passkey_failed", NULL);
}

/* A verified passkey of u: the rules decide, then the session. */
static void
passkey_login(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const struct user *u,
    const char *pending)
{
	struct access_result ar;
	struct pending p;
	const char *app = NULL;

	if (pending && store_pending_get(idp->in.store, t->id, pending, &p) == 1) {
		const struct tenant_app *a = tenant_app_by_key(t, p.app);
		app = a ? a->name : NULL;
		store_pending_clear(&p);
	}
	switch (access_check_login(idp, t, req, u, app, "hwk user mfa", &ar)) {
	case ACCESS_DENY:
	case ACCESS_NO_MFA:
		login_refused(idp, t, req, pending, &ar);
		break;
	case ACCESS_ERROR:
		page_error(idp->pages, req, 503, "error_server", NULL);
		break;
	default:
		audit_event(idp->in.store, t->id, "login.passkey.ok", "user", u->name, "ip",
		    http_client_ip(req), NULL);
		login_complete(idp, t, req, u, "hwk user mfa", pending);
	}
}

/*
 * The user a passwordless assertion signs in: the credential's owner, whom the user
 * handle must name as well (WebAuthn 7.2 step 6).  1 (u filled), 0 (*why), -1.
 */
static int
owner(struct idp *idp, struct tenant_ctx *t, const struct passkey_answer *a,
    const struct factor *fa, struct user *u, const char **why)
{
	size_t n = 0;
	unsigned char *handle = a->user_handle && *a->user_handle ? b64url_decode(a->user_handle,
	    strlen(a->user_handle), 64, &n) : NULL;
	int rc, same = handle && n == strlen(fa->user) && !memcmp(handle, fa->user, n);

	free(handle);
	if (!same) {
		*why = "user handle";
		return 0;
	}
	if ((rc = store_user_get_by_id(idp->in.store, t->id, fa->user, u)) == 1 && u->disabled) {
		*why = "disabled";
		return 0;
	}
	*why = "unknown user";
	return rc;
}

/* The pre-login cookie's hash in hex: what the login page's challenge binds to. */
static int
pre_bind(struct http_req *req, char out[65])
{
	const char *pre = http_cookie(req, SESSION_PRE_COOKIE);
	unsigned char h[32];

	if (pre == NULL || strlen(pre) != 43)
		return 0;
	crypto_sha256(pre, strlen(pre), h);
	hex_encode(h, sizeof(h), out);
	return 1;
}

void
step_passkey(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	const struct form *f = http_form(req);
	const char *why = "malformed", *r = form_get(f, "r");
	struct passkey_answer a;
	struct factor fa;
	struct user u = { 0 };
	char bind[65];
	int uv = 0, rc = 0;

	if (!pre_bind(req, bind) || !session_csrf_check(t, "login",
	    http_cookie(req, SESSION_PRE_COOKIE), form_get(f, "csrf")))
		why = "csrf";
	else if (passkey_answer_from(f, &a) &&
	    (rc = passkey_verify(idp, t, &a, "login", bind, NULL, 1, &fa, &uv, &why)) == 1) {
		rc = owner(idp, t, &a, &fa, &u, &why);
		store_factor_clear(&fa);
	}
	if (rc < 0)
		page_error(idp->pages, req, 503, "error_server", NULL);
	else if (rc == 1 && uv)
		passkey_login(idp, t, req, &u, r && strlen(r) == 43 ? r : NULL);
	else
		passkey_failed(idp, t, req, u.name, rc == 1 && !uv ? "user verification" : why);
	store_user_clear(&u);
}

/* The login page's passkey button: a challenge bound to this browser's pre-login cookie. */
void
step_login_vars(struct idp *idp, struct tenant_ctx *t, const char *pre, struct tmpl_vars *v)
{
	unsigned char h[32];
	char bind[65], *challenge, *rp = passkey_rp_id(idp);

	/* An address is no RP ID (WebAuthn needs a domain): no button that cannot work. */
	if (rp == NULL || pre == NULL || strspn(rp, "0123456789.") == strlen(rp) ||
	    strchr(rp, ':')) {
		free(rp);
		return;
	}
	crypto_sha256(pre, strlen(pre), h);
	hex_encode(h, sizeof(h), bind);
	challenge = passkey_challenge_new(t, "login", bind);
	tmpl_set(v, "passkey_challenge", challenge);
	tmpl_set(v, "passkey_rp", rp);
	free(challenge);
	free(rp);
}
