/*
 * The account pages' dispatch and what they share: every page needs a signed-in user,
 * every form a CSRF token bound to the session, every date the tenant's time zone.  The
 * pages themselves are in account_page.c, account_password.c, account_factor.c and
 * account_passkey.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "account_int.h"
#include "encode.h"
#include "factor.h"
#include "login.h"
#include "proof.h"
#include "resume.h"
#include "pwquality.h"
#include "tz.h"
#include "xmalloc.h"

#define DEFAULT_ZONE "Asia/Tokyo"

struct account_action {
	const char *path;
	void (*get)(struct account_req *a);
	void (*post)(struct account_req *a);
};

static void
overview_get(struct account_req *a)
{
	account_overview(a, 200, NULL);
}

static const struct account_action actions[] = {
	{ "", overview_get, NULL },
	{ "/password", NULL, account_password },
	{ "/reauth", NULL, account_reauth },
	{ "/totp", account_totp_get, account_totp_post },
	{ "/passkey", account_passkey_get, account_passkey_post },
	{ "/recovery", NULL, account_recovery },
	{ "/factor/rename", NULL, account_factor_rename },
	{ "/factor/remove", NULL, account_factor_remove },
	{ "/session/end", NULL, account_session_end },
	{ NULL, NULL, NULL },
};

static void
wrong_method(struct idp *idp, struct http_req *req, const struct account_action *act)
{
	http_add_header(req, "Allow", act->get && act->post ? "GET, HEAD, POST" :
	    act->get ? "GET, HEAD" : "POST");
	page_error(idp->pages, req, 405, "error_method", NULL);
}

void
account_route(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *rest)
{
	const struct account_action *act;
	int post = !strcmp(http_method(req), "POST");
	struct account_req a;

	for (act = actions; act->path && strcmp(act->path, rest); act++)
		;
	if (act->path == NULL) {
		page_error(idp->pages, req, 404, "error_not_found", NULL);
		return;
	}
	if (!(post ? act->post : act->get)) {
		wrong_method(idp, req, act);
		return;
	}
	if (account_open(&a, idp, t, req) != 1)
		return;
	if (!post)
		act->get(&a);
	else if (account_csrf_ok(&a))
		act->post(&a);
	account_close(&a);
}

int
account_open(struct account_req *a, struct idp *idp, struct tenant_ctx *t,
    struct http_req *req)
{
	int have, rc = 0;

	memset(a, 0, sizeof(*a));
	a->idp = idp;
	a->t = t;
	a->req = req;
	a->lang = page_lang(req);
	have = session_current(idp, t, req, &a->ss);
	if (have == 1 && (rc = store_tenant_get(idp->in.store, t->id, &a->tn)) == 1) {
		hex_encode(a->ss.hash, sizeof(a->ss.hash), a->binding);
		return 1;
	}
	if (have == 0) {
		resume_park_page(idp, t, req, "account");
	} else {
		page_error(idp->pages, req, 503, "error_server", NULL);
	}
	if (have == 1)
		session_clear(&a->ss);
	if (rc == 1)
		store_tenant_clear(&a->tn);
	return 0;
}

void
account_close(struct account_req *a)
{
	session_clear(&a->ss);
	store_tenant_clear(&a->tn);
	explicit_bzero(a->binding, sizeof(a->binding));
}

int
account_csrf_ok(struct account_req *a)
{
	if (session_csrf_check(a->t, "account", a->binding, form_get(http_form(a->req), "csrf")))
		return 1;
	audit_event(a->idp->in.store, a->t->id, "account.reject", "user", a->ss.user.name, "ip",
	    http_client_ip(a->req), "path", http_path(a->req), "reason", "csrf", NULL);
	account_error(a, 400, "acct_csrf");
	return 0;
}

char *
account_csrf(const struct account_req *a)
{
	return session_csrf_token(a->t, "account", a->binding);
}

void
account_time(const struct account_req *a, int64_t t, char out[ACCOUNT_TIME_LEN])
{
	tz_format(a->tn.timezone ? a->tn.timezone : DEFAULT_ZONE, t, out);
}

static void
common_values(struct account_req *a, struct tmpl_vars *v)
{
	char *csrf = account_csrf(a), *url = xasprintf("%saccount", a->t->path);

	tmpl_set(v, "csrf", csrf);
	tmpl_set(v, "account_url", url);
	tmpl_set(v, "wide", "1");
	tmpl_set(v, "username", a->ss.user.name);
	http_add_header(a->req, "Cache-Control", "no-store");
	free(csrf);
	free(url);
}

void
account_render(struct account_req *a, int status, const char *name, struct tmpl_vars *v)
{
	common_values(a, v);
	page_render(a->idp->pages, a->req, status, name, v);
}

void
account_error(struct account_req *a, int status, const char *msg)
{
	struct tmpl_vars *v = tmpl_vars_new();
	char *back = xasprintf("%saccount", a->t->path);

	tmpl_set(v, "title", page_msg(a->idp->pages, a->lang, "error_title"));
	tmpl_set(v, "message", page_msg(a->idp->pages, a->lang, msg));
	tmpl_set(v, "back_url", back);
	account_render(a, status, "error.html", v);
	tmpl_vars_free(v);
	free(back);
}

void
account_done(struct account_req *a, const char *msg)
{
	char *url = xasprintf("%saccount?done=%s", a->t->path, msg);

	http_redirect(a->req, url);
	free(url);
}

void
account_audit_entry(const struct account_req *a, struct audit_entry *ae, const char *event)
{
	audit_entry_make(ae, event, "user", a->ss.user.name, "ip", http_client_ip(a->req), NULL);
}

int
account_label_ok(const char *s)
{
	long n = s ? pwquality_chars(s) : -1;

	return n >= 1 && n <= FACTOR_LABEL_MAX && login_input_ok(s, (size_t)n * 4);
}

int
account_recent_auth(const struct account_req *a)
{
	return proof_recent(&a->ss.s);
}
