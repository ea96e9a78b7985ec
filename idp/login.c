/*
 * The login form (ID and password, CSRF token, backoff and lockout per user and per
 * address), the user's portal and the logout confirmation.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "audit.h"
#include "clock.h"
#include "encode.h"
#include "ipnet.h"
#include "log.h"
#include "login.h"
#include "logout.h"
#include "password.h"
#include "protocol.h"
#include "rules.h"
#include "session.h"
#include "step.h"
#include "tz.h"
#include "xmalloc.h"

#define USERNAME_MAX 128

char *
login_url(struct tenant_ctx *t, const char *pending)
{
	return pending ? xasprintf("%slogin?r=%s", t->path, pending) : xasprintf("%slogin", t->path);
}

/* A pending id is a base64url token; anything else is dropped rather than echoed. */
static const char *
pending_param(const char *r)
{
	if (r == NULL || strlen(r) != 43 || strspn(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789-_") != 43)
		return NULL;
	return r;
}

static char *
resume_url(struct tenant_ctx *t, const char *pending)
{
	return pending ? xasprintf("%sresume?r=%s", t->path, pending) :
	    xasprintf("%sportal", t->path);
}

static void
render_form(struct idp *idp, struct tenant_ctx *t, struct http_req *req, int status,
    const char *pending, const char *username, const char *errkey)
{
	const char *lang = page_lang(req);
	struct tmpl_vars *v = tmpl_vars_new();
	char *binding = session_pre_binding(t, req);
	char *csrf = session_csrf_token(t, "login", binding);
	char *action = xasprintf("%slogin", t->path), *reset = xasprintf("%sreset", t->path);

	tmpl_set(v, "title", page_msg(idp->pages, lang, "login_title"));
	tmpl_set(v, "action", action);
	tmpl_set(v, "csrf", csrf);
	tmpl_set(v, "r", pending);
	tmpl_set(v, "username", username);
	step_login_vars(idp, t, binding, v);
	page_allow_script(req);	/* the passkey button's webauthn.js, from this origin only */
	tmpl_set(v, "reset_url", reset);
	if (errkey)
		tmpl_set(v, "error", page_msg(idp->pages, lang, errkey));
	if (pending) {
		struct pending p;
		if (store_pending_get(idp->in.store, t->id, pending, &p) == 1) {
			const struct tenant_app *a = tenant_app_by_key(t, p.app);
			tmpl_set(v, "app_name", a ? a->display_name : NULL);
		}
		store_pending_clear(&p);
	}
	page_render(idp->pages, req, status, "login.html", v);
	tmpl_vars_free(v);
	free(binding);
	free(csrf);
	free(action);
	free(reset);
}

void
login_get(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	const char *pending = pending_param(form_get(http_query(req), "r"));
	struct sso_session ss;
	struct pending p;
	int have, force = 0;

	have = session_current(idp, t, req, &ss);
	if (have == 1 && pending && store_pending_get(idp->in.store, t->id, pending, &p) == 1) {
		force = p.force && (int64_t)ss.s.authn_instant < (int64_t)p.created;
		store_pending_clear(&p);
	}
	if (have == 1 && !force) {
		char *url = resume_url(t, pending);
		http_redirect(req, url);
		free(url);
		session_clear(&ss);
		return;
	}
	if (have == 1)
		session_clear(&ss);
	render_form(idp, t, req, 200, pending, NULL, NULL);
}

enum gate {
	GATE_OPEN,
	GATE_BACKOFF,
	GATE_LOCKED,
};

/* Seconds to wait after the last failure once a user has count failures: 1, 2, 4 ... 60. */
static int64_t
backoff_wait(const struct settings *s, uint64_t count)
{
	int64_t shift = (int64_t)count - s->login_user_backoff_after;

	if (shift < 0)
		return 0;
	return shift >= 6 ? 60 : (int64_t)1 << shift;
}

struct gate_arg {
	const struct settings *s;
	int64_t now;
};

/* Whether this attempt may be checked at all, from the failure counters before it. */
static int
check_gate(const struct failures *fu, const struct failures *fi, void *arg)
{
	const struct gate_arg *g = arg;
	const struct settings *s = g->s;

	if ((int64_t)fi->count >= s->login_ip_lockout_after &&
	    (int64_t)fi->last + s->login_lockout_time > g->now)
		return GATE_LOCKED;
	if ((int64_t)fu->count >= s->login_user_lockout_after &&
	    (int64_t)fu->last + s->login_lockout_time > g->now)
		return GATE_LOCKED;
	if ((int64_t)fu->count >= s->login_user_backoff_after &&
	    (int64_t)fu->last + backoff_wait(s, fu->count) > g->now)
		return GATE_BACKOFF;
	return GATE_OPEN;
}

/*
 * Reserve this attempt before the password is checked: the gate's decision and the
 * failure it counts in advance (refused attempts count too) are one write, so parallel
 * attempts cannot all pass on one reading.  The gate with the user's count after this
 * attempt, or -1.
 */
static int
reserve(struct idp *idp, struct tenant_ctx *t, const char *user, const char *ipkey,
    uint64_t *count_r)
{
	struct gate_arg g = { &idp->in.settings, clock_now() };
	struct failures f;
	int gate = store_failure_reserve(idp->in.store, t->id, user, ipkey, g.now,
	    g.s->login_failure_window, check_gate, &g, &f);

	*count_r = f.count;
	return gate;
}

int
login_gate(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *user,
    uint64_t *count_r)
{
	char ipkey[IPNET_KEY_LEN], retry[24];
	int gate;

	ipnet_counter_key(http_client_ip(req), ipkey);
	if ((gate = reserve(idp, t, user, ipkey, count_r)) <= GATE_OPEN)
		return gate < 0 ? -1 : LOGIN_GATE_OPEN;
	/* This attempt counted too, so the wait starts again from now. */
	snprintf(retry, sizeof(retry), "%lld", (long long)(gate == GATE_LOCKED ?
	    idp->in.settings.login_lockout_time : backoff_wait(&idp->in.settings, *count_r)));
	http_add_header(req, "Retry-After", retry);
	return gate == GATE_LOCKED ? LOGIN_GATE_LOCKED : LOGIN_GATE_BACKOFF;
}

void
login_gate_ok(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *user)
{
	char ipkey[IPNET_KEY_LEN];

	ipnet_counter_key(http_client_ip(req), ipkey);
	store_failure_success(idp->in.store, t->id, user, ipkey);
}

/* The audit record of a failed attempt, with the user's count that its reservation made. */
static void
audit_failure(struct idp *idp, struct tenant_ctx *t, const char *user, const char *ip,
    const char *reason, uint64_t n)
{
	char count[24];

	snprintf(count, sizeof(count), "%llu", (unsigned long long)n);
	audit_event(idp->in.store, t->id, "login.fail", "user", user, "ip", ip, "reason", reason,
	    "failures", count, NULL);
}

int
login_input_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > max)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* The name of the app a parked request is for (NULL: none, or a login to the portal). */
static const char *
pending_app(struct idp *idp, struct tenant_ctx *t, const char *pending)
{
	const struct tenant_app *a = NULL;
	struct pending p;

	if (pending && store_pending_get(idp->in.store, t->id, pending, &p) == 1) {
		a = tenant_app_by_key(t, p.app);
		store_pending_clear(&p);
	}
	return a ? a->name : NULL;
}

/*
 * A login the access rules refused: no session starts; a parked request is answered the
 * way its protocol answers a refusal (OIDC: access_denied to the client), else the page.
 */
void
login_refused(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *pending,
    const struct access_result *ar)
{
	const struct protocol *proto = NULL;
	struct pending p;
	int took = pending && store_pending_take(idp->in.store, t->id, pending, &p) == 1;

	if (took)
		proto = protocol_for_pending(p.kind);
	if (proto && proto->refused)
		proto->refused(idp, t, req, &p, ar->outcome == ACCESS_NO_MFA ?
		    "a second factor is required and none is enrolled" :
		    "access to this application is not allowed", ar->ref);
	else
		access_refuse_page(idp, req, ar);
	if (took)
		store_pending_clear(&p);
}

void
login_complete(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const struct user *u,
    const char *methods, const char *pending)
{
	struct sso_session ss, cur;
	char *url;
	int have = session_current(idp, t, req, &cur);

	if (have == 1 && !strcmp(cur.s.user, u->id)) {
		/* The same user again (the SP asked for ForceAuthn): keep the session. */
		store_session_reauth(idp->in.store, t->id, cur.hash, clock_now());
		for (const char *m = methods; *m; m += strspn(m, " ")) {
			char one[16];
			size_t n = strcspn(m, " ");
			snprintf(one, sizeof(one), "%.*s", (int)(n < 15 ? n : 15), m);
			if (strcmp(one, "pwd"))
				store_session_add_method(idp->in.store, t->id, cur.hash, one,
				    clock_now());
			m += n;
		}
		session_clear(&cur);
	} else {
		if (have == 1) {
			session_end(idp, t, req, cur.hash);
			session_clear(&cur);
		}
		if (session_start(idp, t, req, u, methods, &ss) < 0) {
			page_error(idp->pages, req, 503, "error_server", NULL);
			return;
		}
		session_clear(&ss);
	}
	audit_event(idp->in.store, t->id, "login.ok", "user", u->name, "ip", http_client_ip(req),
	    "method", methods, NULL);
	url = resume_url(t, pending);
	http_redirect(req, url);
	free(url);
}

/*
 * Password checked: the access rules may still refuse (no session is started then); a
 * second factor, an enrolment or a new password may come first (step.c); otherwise start
 * (or renew) the session and go on.
 */
static void
login_success(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const struct user *u,
    const char *pending)
{
	struct access_result ar;

	switch (access_check_user(idp, t, req, u, pending_app(idp, t, pending), &ar)) {
	case ACCESS_DENY:
	case ACCESS_NO_MFA:
		login_refused(idp, t, req, pending, &ar);
		return;
	case ACCESS_ERROR:
		page_error(idp->pages, req, 503, "error_server", NULL);
		return;
	case ACCESS_MFA:
		step_begin(idp, t, req, u, "pwd", pending, STEP_FACTOR);
		return;
	case ACCESS_ENROL:
		step_begin(idp, t, req, u, "pwd", pending, STEP_ENROL);
		return;
	default:
		break;
	}
	if (u->must_change)
		step_begin(idp, t, req, u, "pwd", pending, STEP_PASSWORD);
	else
		login_complete(idp, t, req, u, "pwd", pending);
}

/* The account the typed ID names: by name, then by e-mail address, as login_with allows. */
static int
find_account(struct idp *idp, struct tenant_ctx *t, const char *id, struct user *u)
{
	const struct settings *s = &idp->in.settings;
	int rc = 0;

	memset(u, 0, sizeof(*u));
	if (s->login_by_name && (rc = store_user_get(idp->in.store, t->id, id, u)) != 0)
		return rc;
	if (s->login_by_email && strchr(id, '@'))
		rc = store_user_get_by_email(idp->in.store, t->id, id, u);
	return rc;
}

void
login_post(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	const struct form *f = http_form(req);
	const char *typed = form_get(f, "username"), *pw = form_get(f, "password"), *user;
	const char *pending = pending_param(form_get(f, "r"));
	const char *ip = http_client_ip(req), *bind = http_cookie(req, SESSION_PRE_COOKIE);
	struct user u;
	uint64_t n;
	int rc, gate;

	if (!session_csrf_check(t, "login", bind, form_get(f, "csrf"))) {
		audit_event(idp->in.store, t->id, "login.fail", "ip", ip, "reason", "csrf", NULL);
		render_form(idp, t, req, 400, pending, NULL, "login_csrf");
		return;
	}
	if (!login_input_ok(typed, USERNAME_MAX) || !login_input_ok(pw, PASSWORD_MAX_LEN)) {
		audit_event(idp->in.store, t->id, "login.fail", "ip", ip, "reason", "bad_input", NULL);
		render_form(idp, t, req, 400, pending, NULL, "login_bad_input");
		return;
	}
	if ((rc = find_account(idp, t, typed, &u)) < 0) {
		page_error(idp->pages, req, 503, "error_server", NULL);
		return;
	}
	/* Failures count against the account, however its ID was typed. */
	user = rc == 1 ? u.name : typed;
	if ((gate = login_gate(idp, t, req, user, &n)) < 0) {
		page_error(idp->pages, req, 503, "error_server", NULL);
		store_user_clear(&u);
		return;
	}
	if (gate != LOGIN_GATE_OPEN) {
		audit_failure(idp, t, user, ip, gate == LOGIN_GATE_LOCKED ? "locked" : "backoff", n);
		render_form(idp, t, req, 429, pending, typed,
		    gate == LOGIN_GATE_LOCKED ? "login_locked" : "login_backoff");
		store_user_clear(&u);
		return;
	}
	if (rc == 0) {
		password_dummy_verify(&idp->pw, pw);
		audit_failure(idp, t, user, ip, "unknown_user", n);
	} else if (password_verify(u.pwhash ? u.pwhash : "", pw) != 1) {
		audit_failure(idp, t, user, ip, "bad_password", n);
	} else if (u.disabled) {
		audit_failure(idp, t, user, ip, "disabled", n);
	} else {
		login_gate_ok(idp, t, req, user);
		login_success(idp, t, req, &u, pending);
		store_user_clear(&u);
		return;
	}
	render_form(idp, t, req, 401, pending, typed, "login_failed");
	store_user_clear(&u);
}

/* More apps than this and the portal offers a search. */
#define PORTAL_SEARCH_AFTER 12
#define PORTAL_QUERY_MAX 128

struct portal_count {
	size_t reachable, shown;
};

/* Whether app a matches the search q (NULL: every app). */
static int
portal_match(const struct tenant_app *a, const char *q)
{
	return q == NULL || strcasestr(a->display_name, q) ||
	    (a->description && strcasestr(a->description, q));
}

static void
portal_tile(struct tenant_ctx *t, const struct tenant_app *a, const char *url,
    struct tmpl_vars *v)
{
	struct tmpl_vars *item = tmpl_add_item(v, "apps");

	tmpl_set(item, "name", a->display_name);
	if (a->description)
		tmpl_set(item, "description", a->description);
	if (a->has_icon) {
		char *icon = xasprintf("%sportal/icon/%s", t->path, a->name);
		tmpl_set(item, "icon", icon);
		free(icon);
	}
	tmpl_set(item, "url", url);
}

/*
 * The apps the session's user may reach, with their protocol's link, as the portal lists
 * them: those matching q as tiles; how many there are and how many are shown.
 */
static void
portal_apps(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct sso_session *ss, const char *q, struct tmpl_vars *v, struct portal_count *c)
{
	unsigned char *reach = xcalloc(t->napps + 1, 1);

	/* Unreadable groups: no app is listed (reach stays all zero), none wrongly. */
	(void)access_reachable(idp, t, req, ss, reach);
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < t->napps; i++) {
		const struct tenant_app *a = &t->apps[i];
		const struct protocol *p = protocol_find(a->type);
		char *url = NULL;
		if (!reach[i] || (url = p && p->launch_url ? p->launch_url(t, a) : NULL) == NULL)
			continue;
		c->reachable++;
		if (portal_match(a, q)) {
			portal_tile(t, a, url, v);
			c->shown++;
		}
		free(url);
	}
	free(reach);
}

static char *
session_binding(const struct sso_session *ss)
{
	char hex[65];

	hex_encode(ss->hash, sizeof(ss->hash), hex);
	return xstrdup(hex);
}

/* When the session's login was, in the tenant's time zone. */
static void
portal_since(struct idp *idp, struct tenant_ctx *t, const struct sso_session *ss,
    struct tmpl_vars *v)
{
	struct tenant tn;
	char when[TZ_TIME_LEN];
	int rc = store_tenant_get(idp->in.store, t->id, &tn);

	tz_format(rc == 1 && tn.timezone ? tn.timezone : RULE_DEFAULT_TIMEZONE,
	    (int64_t)ss->s.authn_instant, when);
	tmpl_set(v, "since", when);
	if (rc == 1)
		store_tenant_clear(&tn);
}

/* The search box (when there are many apps) and what the search found. */
static void
portal_search(struct tenant_ctx *t, const char *q, const struct portal_count *c,
    struct tmpl_vars *v)
{
	char *url = xasprintf("%sportal", t->path);

	if (c->reachable > PORTAL_SEARCH_AFTER)
		tmpl_set(v, "search", "1");
	tmpl_set(v, "portal_url", url);
	tmpl_set(v, "q", q);
	if (q && c->shown == 0 && c->reachable)
		tmpl_set(v, "no_match", "1");
	free(url);
}

void
portal_get(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	struct sso_session ss;
	struct tmpl_vars *v;
	struct portal_count c;
	const char *lang = page_lang(req), *q = form_get(http_query(req), "q");
	char *binding, *csrf, *logout, *certs, *account;

	if (session_current(idp, t, req, &ss) != 1) {
		char *url = login_url(t, NULL);
		http_redirect(req, url);
		free(url);
		return;
	}
	if (q && !login_input_ok(q, PORTAL_QUERY_MAX))
		q = NULL;	/* empty, too long or control characters: every app */
	v = tmpl_vars_new();
	portal_apps(idp, t, req, &ss, q, v, &c);
	portal_search(t, q, &c, v);
	portal_since(idp, t, &ss, v);
	binding = session_binding(&ss);
	csrf = session_csrf_token(t, "logout", binding);
	logout = xasprintf("%slogout", t->path);
	certs = xasprintf("%scerts", t->path);
	account = xasprintf("%saccount", t->path);
	tmpl_set(v, "title", page_msg(idp->pages, lang, "portal_title"));
	tmpl_set(v, "username", ss.user.name);
	tmpl_set(v, "display_name", ss.user.display_name ? ss.user.display_name : ss.user.name);
	tmpl_set(v, "csrf", csrf);
	tmpl_set(v, "logout_url", logout);
	tmpl_set(v, "certs_url", certs);
	tmpl_set(v, "account_url", account);
	tmpl_set(v, "wide", "1");
	page_render(idp->pages, req, 200, "portal.html", v);
	tmpl_vars_free(v);
	free(binding);
	free(csrf);
	free(logout);
	free(certs);
	free(account);
	session_clear(&ss);
}

void
portal_icon(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *app)
{
	struct sso_session ss;
	struct app a;
	int have = session_current(idp, t, req, &ss), rc = 0;

	if (have == 1 && (rc = store_app_get(idp->in.store, t->id, app, &a)) == 1 && a.icon_len &&
	    a.icon_type) {
		/* An SVG opened on its own must not run anything in the tenant's origin. */
		http_set_csp(req, "default-src 'none'; style-src 'unsafe-inline'; sandbox");
		http_add_header(req, "Cache-Control", "private, max-age=300");
		http_body_copy(req, a.icon_type, a.icon, a.icon_len);
	} else {
		page_error(idp->pages, req, have < 0 || rc < 0 ? 503 : 404, have < 0 || rc < 0 ?
		    "error_server" : "error_not_found", NULL);
	}
	if (rc == 1)
		store_app_clear(&a);
	if (have == 1)
		session_clear(&ss);
}

void
logout_page(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	struct sso_session ss;
	const char *lang = page_lang(req);
	struct tmpl_vars *v;
	char *binding, *csrf, *url;
	int have = session_current(idp, t, req, &ss);

	if (have != 1) {
		v = tmpl_vars_new();
		url = login_url(t, NULL);
		tmpl_set(v, "title", page_msg(idp->pages, lang, "logged_out_title"));
		tmpl_set(v, "login_url", url);
		page_render(idp->pages, req, 200, "logged_out.html", v);
		tmpl_vars_free(v);
		free(url);
		return;
	}
	binding = session_binding(&ss);
	if (!strcmp(http_method(req), "POST")) {
		if (session_csrf_check(t, "logout", binding, form_get(http_form(req), "csrf"))) {
			free(binding);
			logout_session(idp, t, req, &ss, NULL);
			session_clear(&ss);
			return;
		}
		audit_event(idp->in.store, t->id, "logout.fail", "user", ss.user.name, "ip",
		    http_client_ip(req), "reason", "csrf", NULL);
	}
	v = tmpl_vars_new();
	csrf = session_csrf_token(t, "logout", binding);
	url = xasprintf("%slogout", t->path);
	tmpl_set(v, "title", page_msg(idp->pages, lang, "logout_title"));
	tmpl_set(v, "csrf", csrf);
	tmpl_set(v, "logout_url", url);
	page_render(idp->pages, req, 200, "logout.html", v);
	tmpl_vars_free(v);
	free(csrf);
	free(url);
	free(binding);
	session_clear(&ss);
}
