/*
 * Password reset by e-mail: the request form answers the same whether the address is
 * known or not (and whether a mail went out or a rate limit held it back); the link's
 * token is single use, checked without being consumed until the new password is set,
 * and setting it ends every session of the user.  Tokens never reach a log line.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "account_int.h"
#include "audit.h"
#include "clock.h"
#include "crypto.h"
#include "factor.h"
#include "ipnet.h"
#include "log.h"
#include "login.h"
#include "mail.h"
#include "password.h"
#include "pwquality.h"
#include "session.h"
#include "xmalloc.h"

#define EMAIL_MAX 254
#define TOKEN_MAX 128
#define IP_WINDOW 900		/* 5 requests per address per 15 minutes */
#define IP_LIMIT 5
#define USER_WINDOW 3600	/* 3 mails per account per hour */
#define USER_LIMIT 3

struct reset_req {
	struct idp *idp;
	struct tenant_ctx *t;
	struct http_req *req;
	const char *lang;
};

static void
render(struct reset_req *r, int status, const char *mode, const char *token,
    const char *error)
{
	struct tmpl_vars *v = tmpl_vars_new();
	char *binding = session_pre_binding(r->t, r->req);
	char *csrf = session_csrf_token(r->t, "reset", binding);
	char *action = xasprintf("%sreset", r->t->path), *login = login_url(r->t, NULL);

	tmpl_set(v, "title", page_msg(r->idp->pages, r->lang, "reset_title"));
	tmpl_set(v, mode, "1");
	tmpl_set(v, "csrf", csrf);
	tmpl_set(v, "action", action);
	tmpl_set(v, "login_url", login);
	tmpl_set(v, "token", token);
	if (error)
		tmpl_set(v, "error", page_msg(r->idp->pages, r->lang, error));
	http_add_header(r->req, "Cache-Control", "no-store");
	page_render(r->idp->pages, r->req, status, "reset.html", v);
	tmpl_vars_free(v);
	free(binding);
	free(csrf);
	free(action);
	free(login);
}

static void
invalid_link(struct reset_req *r)
{
	http_add_header(r->req, "Cache-Control", "no-store");
	page_error(r->idp->pages, r->req, 400, "reset_link_invalid", "reset_link_hint");
}

static int
text_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > max)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* ---- asking for a link ---- */

/* Mail a new link to u; nothing is said to the browser either way. */
static void
send_link(struct reset_req *r, const struct user *u)
{
	struct mail_msg m;
	char *token = NULL, *link;

	if (factor_reset_issue(&r->idp->in, r->t->id, u->id, &token) < 0)
		return;
	link = factor_reset_link(&r->idp->in, r->t->id, token);
	factor_mail_reset(r->t->id, link, u->email, &m);
	if (mail_queue(&m) < 0)
		log_warn("%s: tenant %s: the reset mail could not be queued", __func__, r->t->id);
	factor_mail_clear(&m);
	freezero_str(link);
	freezero_str(token);
}

/*
 * What happens to a request for address email from ipkey: "sent", "unknown",
 * "disabled", "no_email", "limit_ip", "limit_user" or "error" (for the audit record only).
 */
static const char *
handle_request(struct reset_req *r, const char *email, const char *ipkey, struct user *u)
{
	struct store *st = r->idp->in.store;
	int64_t now = clock_now();
	int known = store_user_get_by_email(st, r->t->id, email, u), rc;

	if (known < 0)
		return "error";
	/* The user is looked up first only so that the audit record names them. */
	if ((rc = store_rate_hit(st, r->t->id, "reset-ip", ipkey, now, IP_WINDOW, IP_LIMIT)) != 1)
		return rc < 0 ? "error" : "limit_ip";
	if (known == 0)
		return "unknown";
	if (u->disabled)
		return "disabled";
	if (u->email == NULL || *u->email == '\0')
		return "no_email";
	if ((rc = store_rate_hit(st, r->t->id, "reset-user", u->id, now, USER_WINDOW,
	    USER_LIMIT)) != 1)
		return rc < 0 ? "error" : "limit_user";
	send_link(r, u);
	return "sent";
}

static void
request_link(struct reset_req *r)
{
	const char *email = form_get(http_form(r->req), "email"), *ip = http_client_ip(r->req);
	char ipkey[IPNET_KEY_LEN];
	const char *outcome;
	struct user u = { 0 };

	if (!text_ok(email, EMAIL_MAX) || strchr(email, '@') == NULL) {
		render(r, 400, "ask", NULL, "reset_email_bad");
		return;
	}
	ipnet_counter_key(ip, ipkey);
	outcome = handle_request(r, email, ipkey, &u);
	audit_event(r->idp->in.store, r->t->id, "account.reset.request", "ip", ip, "user",
	    u.name, "result", outcome, NULL);
	store_user_clear(&u);
	render(r, 200, "sent", NULL, NULL);
}

/* ---- following the link ---- */

/* The user a valid, unused token is for (not consumed): 1 with *u_r, 0 not valid, -1. */
static int
token_user(struct reset_req *r, const char *token, struct user *u_r)
{
	unsigned char h[CRYPTO_SHA256_LEN];
	struct challenge c;
	int rc;

	memset(u_r, 0, sizeof(*u_r));
	if (!text_ok(token, TOKEN_MAX))
		return 0;
	factor_reset_hash(token, h);
	if ((rc = store_challenge_get(r->idp->in.store, r->t->id, h, clock_now(), &c)) != 1)
		return rc;
	if (c.kind && !strcmp(c.kind, "reset") && c.user)
		rc = store_user_get_by_id(r->idp->in.store, r->t->id, c.user, u_r);
	else
		rc = 0;
	store_challenge_clear(&c);
	if (rc == 1 && u_r->disabled) {
		store_user_clear(u_r);
		memset(u_r, 0, sizeof(*u_r));
		rc = 0;
	}
	return rc;
}

static void
show_token_form(struct reset_req *r, const char *token)
{
	struct user u;
	int rc = token_user(r, token, &u);

	if (rc == 1)
		render(r, 200, "choose", token, NULL);
	else if (rc == 0)
		invalid_link(r);
	else
		page_error(r->idp->pages, r->req, 503, "error_server", NULL);
	store_user_clear(&u);
}

/* The new password's problem as a message key, or NULL. */
static const char *
password_problem(struct reset_req *r, const struct user *u, const char *pw, const char *pw2)
{
	struct tenant tn;
	const char *why = NULL;
	size_t min = PWQUALITY_DEFAULT_MIN;

	if (!login_input_ok(pw, PASSWORD_MAX_LEN))
		return "pw_not_valid";
	if (pw2 == NULL || strcmp(pw, pw2))
		return "pw_mismatch";
	if (store_tenant_get(r->idp->in.store, r->t->id, &tn) == 1) {
		if (tn.pw_min_len)
			min = (size_t)tn.pw_min_len;
		store_tenant_clear(&tn);
	}
	if (pwquality_check(pw, min, u->name, u->email, r->idp->in.settings.cracklib_dict,
	    &why) < 0)
		return why;
	return NULL;
}

/* Consume the token and set the password: 1 done, 0 the token was gone, -1. */
static int
set_password(struct reset_req *r, const char *token, const struct user *u, const char *pw)
{
	struct audit_entry ae;
	char *user_id = NULL, *hash;
	const char *err;
	int rc = factor_reset_take(&r->idp->in, r->t->id, token, clock_now(), &user_id);

	if (rc == 1 && strcmp(user_id, u->id))
		rc = 0;
	free(user_id);
	if (rc != 1)
		return rc;
	if ((hash = password_hash(&r->idp->pw, pw, &err)) == NULL)
		return -1;
	audit_entry_make(&ae, "account.password.reset", "user", u->name, "ip",
	    http_client_ip(r->req), NULL);
	rc = store_user_new_password(r->idp->in.store, r->t->id, u->id, hash, clock_now(),
	    NULL, &ae);
	freezero_str(hash);
	if (rc == 1)
		store_failure_clear(r->idp->in.store, r->t->id, "user", u->name);
	return rc == 1 ? 1 : -1;
}

static void
choose_password(struct reset_req *r)
{
	const struct form *f = http_form(r->req);
	const char *token = form_get(f, "token"), *why;
	struct user u;
	int rc = token_user(r, token, &u);

	if (rc == 1 && (why = password_problem(r, &u, form_get(f, "password"),
	    form_get(f, "password2"))) != NULL) {
		render(r, 400, "choose", token, why);
	} else if (rc == 1 && (rc = set_password(r, token, &u, form_get(f, "password"))) == 1) {
		render(r, 200, "done", NULL, NULL);
	} else if (rc == 0) {
		invalid_link(r);
	} else {
		page_error(r->idp->pages, r->req, 503, "error_server", NULL);
	}
	store_user_clear(&u);
}

void
reset_page(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	struct reset_req r = { idp, t, req, page_lang(req) };
	int post = !strcmp(http_method(req), "POST");
	const char *token = form_get(post ? http_form(req) : http_query(req), "token");

	if (!post) {
		if (token)
			show_token_form(&r, token);
		else
			render(&r, 200, "ask", NULL, NULL);
	} else if (!session_csrf_check(t, "reset", http_cookie(req, SESSION_PRE_COOKIE),
	    form_get(http_form(req), "csrf"))) {
		audit_event(idp->in.store, t->id, "account.reset.reject", "ip",
		    http_client_ip(req), "reason", "csrf", NULL);
		page_error(idp->pages, req, 400, "reset_csrf", NULL);
	} else if (token) {
		choose_password(&r);
	} else {
		request_link(&r);
	}
}
