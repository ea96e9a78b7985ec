/*
 * The admin console's dispatch and what its pages share: a signed-in user whose role has
 * the console right (else the login page, or a 403 page), a right checked per action
 * before anything runs, a CSRF token bound to the session for every change, and a
 * recent proof of the password for the dangerous ones (else the re-auth form, which
 * carries the post back to its action).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "console.h"
#include "console_int.h"
#include "encode.h"
#include "login.h"
#include "password.h"
#include "proof.h"
#include "resume.h"
#include "rules.h"
#include "xmalloc.h"

/* The re-auth form's inputs: never carried, logged or audited. */
#define REAUTH_PASSWORD "reauth_password"
#define REAUTH_CODE "reauth_code"

struct console_action {
	const char *path;
	enum admin_right right;
	void (*get)(struct console_req *c);
	void (*post)(struct console_req *c);
	const char *back;	/* recent: the page (with ?name=) the re-auth returns to */
};

static void home_get(struct console_req *c);
static void reauth_get(struct console_req *c);
static void reauth_post(struct console_req *c);

static const struct console_action actions[] = {
	{ "", ADMIN_RIGHT_CONSOLE, home_get, NULL, NULL },
	{ "/reauth", ADMIN_RIGHT_CONSOLE, reauth_get, reauth_post, NULL },
	{ "/users", ADMIN_RIGHT_VIEW_USERS, console_users_get, NULL, NULL },
	{ "/users/add", ADMIN_RIGHT_MANAGE, NULL, console_user_add, NULL },
	{ "/user", ADMIN_RIGHT_VIEW_USERS, console_user_get, NULL, NULL },
	{ "/user/edit", ADMIN_RIGHT_MANAGE, NULL, console_user_edit, NULL },
	{ "/user/disable", ADMIN_RIGHT_MANAGE, NULL, console_user_disable, NULL },
	{ "/user/delete", ADMIN_RIGHT_MANAGE, NULL, console_user_delete, "user" },
	{ "/user/unlock", ADMIN_RIGHT_UNLOCK, NULL, console_user_unlock, NULL },
	{ "/user/reset", ADMIN_RIGHT_RESET_PASSWORD, NULL, console_user_reset, NULL },
	{ "/user/factor/remove", ADMIN_RIGHT_REMOVE_FACTOR, NULL, console_user_factor_remove,
	    NULL },
	{ "/user/cert/revoke", ADMIN_RIGHT_REVOKE_CERT, NULL, console_user_cert_revoke, "user" },
	{ "/user/session/end", ADMIN_RIGHT_MANAGE, NULL, console_user_session_end, NULL },
	{ "/groups", ADMIN_RIGHT_VIEW_USERS, console_groups_get, NULL, NULL },
	{ "/groups/add", ADMIN_RIGHT_MANAGE, NULL, console_group_add, NULL },
	{ "/group", ADMIN_RIGHT_VIEW_USERS, console_group_get, NULL, NULL },
	{ "/group/rename", ADMIN_RIGHT_MANAGE, NULL, console_group_rename, NULL },
	{ "/group/delete", ADMIN_RIGHT_MANAGE, NULL, console_group_delete, "group" },
	{ "/group/member/add", ADMIN_RIGHT_MANAGE, NULL, console_member_add, NULL },
	{ "/group/member/remove", ADMIN_RIGHT_MANAGE, NULL, console_member_remove, NULL },
	{ "/apps", ADMIN_RIGHT_MANAGE, console_apps_get, NULL, NULL },
	{ "/apps/new", ADMIN_RIGHT_MANAGE, console_apps_new_get, NULL, NULL },
	{ "/apps/saml", ADMIN_RIGHT_MANAGE, NULL, console_app_add_saml, NULL },
	{ "/apps/oidc", ADMIN_RIGHT_MANAGE, NULL, console_app_add_oidc, NULL },
	{ "/catalog", ADMIN_RIGHT_MANAGE, console_catalog_get, NULL, NULL },
	{ "/catalog/template", ADMIN_RIGHT_MANAGE, console_template_get, NULL, NULL },
	{ "/catalog/add", ADMIN_RIGHT_MANAGE, NULL, console_template_add, NULL },
	{ "/app", ADMIN_RIGHT_MANAGE, console_app_get, NULL, NULL },
	{ "/app/edit", ADMIN_RIGHT_MANAGE, NULL, console_app_edit, NULL },
	{ "/app/assign", ADMIN_RIGHT_MANAGE, NULL, console_app_assign, NULL },
	{ "/app/unassign", ADMIN_RIGHT_MANAGE, NULL, console_app_unassign, NULL },
	{ "/app/delete", ADMIN_RIGHT_MANAGE, NULL, console_app_delete, "app" },
	{ "/rules", ADMIN_RIGHT_MANAGE, console_rules_get, NULL, NULL },
	{ "/rules/add", ADMIN_RIGHT_MANAGE, NULL, console_rule_add, "rules" },
	{ "/rules/test", ADMIN_RIGHT_MANAGE, console_rules_test, NULL, NULL },
	{ "/rule", ADMIN_RIGHT_MANAGE, console_rule_get, NULL, NULL },
	{ "/rule/edit", ADMIN_RIGHT_MANAGE, NULL, console_rule_edit, "rule" },
	{ "/rule/move", ADMIN_RIGHT_MANAGE, NULL, console_rule_move, "rules" },
	{ "/rule/delete", ADMIN_RIGHT_MANAGE, NULL, console_rule_delete, "rule" },
	{ "/keys", ADMIN_RIGHT_MANAGE, console_keys_get, NULL, NULL },
	{ "/keys/add", ADMIN_RIGHT_MANAGE, NULL, console_key_add, "keys" },
	{ "/key/suspend", ADMIN_RIGHT_MANAGE, NULL, console_key_suspend, NULL },
	{ "/key/delete", ADMIN_RIGHT_MANAGE, NULL, console_key_delete, NULL },
	{ "/audit", ADMIN_RIGHT_READ_AUDIT, console_audit_get, NULL, NULL },
	{ "/audit/export", ADMIN_RIGHT_READ_AUDIT, console_audit_export, NULL, NULL },
	{ "/audit/verify", ADMIN_RIGHT_READ_AUDIT, console_audit_verify, NULL, NULL },
	{ "/reports", ADMIN_RIGHT_READ_AUDIT, console_reports_get, NULL, NULL },
	{ "/reports/file", ADMIN_RIGHT_READ_AUDIT, console_reports_file, NULL, NULL },
	{ "/certs", ADMIN_RIGHT_VIEW_USERS, console_certs_get, NULL, NULL },
	{ "/certs/issue", ADMIN_RIGHT_MANAGE, NULL, console_cert_issue, "certs" },
	{ "/cert/revoke", ADMIN_RIGHT_REVOKE_CERT, NULL, console_cert_revoke, "certs" },
	{ "/settings", ADMIN_RIGHT_MANAGE, console_settings_get, NULL, NULL },
	{ "/settings/save", ADMIN_RIGHT_MANAGE, NULL, console_settings_save, NULL },
	{ "/settings/logo", ADMIN_RIGHT_MANAGE, NULL, console_logo_save, NULL },
	{ "/settings/logo/remove", ADMIN_RIGHT_MANAGE, NULL, console_logo_remove, NULL },
	{ "/app/icon", ADMIN_RIGHT_MANAGE, NULL, console_app_icon_save, NULL },
	{ "/app/icon/remove", ADMIN_RIGHT_MANAGE, NULL, console_app_icon_remove, NULL },
	{ NULL, 0, NULL, NULL, NULL },
};

/* The actions whose post takes a file: only they read a multipart/form-data body. */
static const struct {
	const char *path;
	const struct http_upload *upload;
} uploads[] = {
	{ "/settings/logo", &console_logo_upload },
	{ "/app/icon", &console_icon_upload },
	{ NULL, NULL },
};

/* The notices a change may end with (?done=): anything else is not shown. */
static const char *const notices[] = {
	"console_done_user_added", "console_done_user_saved", "console_done_user_disabled",
	"console_done_user_enabled", "console_done_user_deleted", "console_done_user_unlocked",
	"console_done_factor_removed", "console_done_cert_revoked", "console_done_session_ended",
	"console_done_group_added", "console_done_group_renamed", "console_done_group_deleted",
	"console_done_member_added", "console_done_member_removed", "console_done_reauth",
	"console_done_app_added", "console_done_app_saved", "console_done_app_assigned",
	"console_done_app_unassigned", "console_done_app_deleted",
	"console_done_rule_added", "console_done_rule_saved", "console_done_rule_moved",
	"console_done_rule_deleted",
	"console_done_key_suspended", "console_done_key_resumed", "console_done_key_deleted",
	"console_done_settings_saved",
	"console_done_logo_saved", "console_done_logo_removed", "console_done_icon_saved",
	"console_done_icon_removed",
	NULL,
};

/* The tenant's time zone into c->zone (Asia/Tokyo when it has none). */
static void
console_zone(struct console_req *c)
{
	struct tenant tn;
	int rc = store_tenant_get(c->idp->in.store, c->t->id, &tn);

	snprintf(c->zone, sizeof(c->zone), "%s", rc == 1 && tn.timezone && strlen(tn.timezone) <
	    sizeof(c->zone) ? tn.timezone : RULE_DEFAULT_TIMEZONE);
	if (rc == 1)
		store_tenant_clear(&tn);
}

/* Load the session into c: 1 ready; 0 when the request has been answered. */
static int
console_open(struct console_req *c, struct idp *idp, struct tenant_ctx *t,
    struct http_req *req)
{
	int have;

	memset(c, 0, sizeof(*c));
	c->idp = idp;
	c->t = t;
	c->req = req;
	c->lang = page_lang(req);
	if ((have = session_current(idp, t, req, &c->ss)) == 1) {
		hex_encode(c->ss.hash, sizeof(c->ss.hash), c->binding);
		snprintf(c->actor, sizeof(c->actor), "console:%s", c->ss.user.name);
		c->adm = (struct admin){ .in = &idp->in, .tenant = t->id, .ca = idp->ca,
			.ca_lock = &idp->ca_lock, .actor = c->actor, .ip = http_client_ip(req) };
		console_zone(c);
		return 1;
	}
	if (have == 0) {
		resume_park_page(idp, t, req, "admin");
	} else {
		page_error(idp->pages, req, 503, "error_server", NULL);
	}
	return 0;
}

static void
console_close(struct console_req *c)
{
	session_clear(&c->ss);
	explicit_bzero(c->binding, sizeof(c->binding));
}

static void
reject(struct console_req *c, const char *reason)
{
	audit_event(c->idp->in.store, c->t->id, "console.reject", "user", c->ss.user.name,
	    "ip", http_client_ip(c->req), "path", http_path(c->req), "reason", reason, NULL);
}

static int
csrf_ok(struct console_req *c)
{
	if (session_csrf_check(c->t, "console", c->binding, console_field(c, "csrf")))
		return 1;
	reject(c, "csrf");
	console_error(c, 400, "console_csrf", "");
	return 0;
}

/*
 * The multipart body of an action that takes a file, into the form (the CSRF token is
 * one of its fields): 1 parsed, or no file taken; 0 refused with a page saying why.
 */
static int
upload_ok(struct console_req *c, const struct console_action *act)
{
	const char *err;
	char *msg;
	size_t i;

	for (i = 0; uploads[i].path && strcmp(uploads[i].path, act->path); i++)
		;
	if (uploads[i].path == NULL ||
	    http_upload_parse(c->req, uploads[i].upload, &err) == 0)
		return 1;
	reject(c, "upload");
	msg = xasprintf("%s (%s)", page_msg(c->idp->pages, c->lang, "console_upload_bad"), err);
	console_message(c, 400, page_msg(c->idp->pages, c->lang, "error_title"), msg, "");
	free(msg);
	return 0;
}

/* The re-auth form, returning to back?name=NAME. */
static void
reauth_page(struct console_req *c, int status, const char *back, const char *error)
{
	struct tmpl_vars *v = tmpl_vars_new();
	char *url = console_url(c, "reauth");
	tmpl_set(v, "title", page_msg(c->idp->pages, c->lang, "console_reauth_title"));
	tmpl_set(v, "reauth_url", url);
	tmpl_set(v, "back", back);
	tmpl_set(v, "name", console_name(c));
	if (error)
		tmpl_set(v, "error", page_msg(c->idp->pages, c->lang, error));
	console_render(c, status, "console_reauth.html", v);
	tmpl_vars_free(v);
	free(url);
}

/* The fields of a post the re-auth form carries: not the token, not the proof. */
static int
carried(const char *name)
{
	return strcmp(name, "csrf") && strcmp(name, REAUTH_PASSWORD) &&
	    strcmp(name, REAUTH_CODE);
}

/*
 * The re-auth form for act's post with a stale proof: it posts the same fields to the
 * same action with a fresh token and the proof, so the change goes through after it.
 */
static void
reauth_carry_page(struct console_req *c, const struct console_action *act, int status,
    const char *error)
{
	const struct form *f = http_form(c->req);
	struct tmpl_vars *v = tmpl_vars_new(), *item;
	char *url = console_url(c, act->path + 1);

	tmpl_set(v, "title", page_msg(c->idp->pages, c->lang, "console_reauth_title"));
	tmpl_set(v, "reauth_url", url);
	tmpl_set(v, "carry", "1");
	tmpl_set(v, "has_totp", proof_has_totp(c->idp, c->t, &c->ss.user) == 1 ? "1" : NULL);
	for (size_t i = 0; i < f->n; i++) {
		if (!carried(f->f[i].name))
			continue;
		item = tmpl_add_item(v, "fields");
		tmpl_set(item, "field", f->f[i].name);
		tmpl_set(item, "field_value", f->f[i].value);
	}
	if (error)
		tmpl_set(v, "error", page_msg(c->idp->pages, c->lang, error));
	console_render(c, status, "console_reauth.html", v);
	tmpl_vars_free(v);
	free(url);
}

/* back when some action of the table returns there after the re-auth, else "". */
static const char *
valid_back(const char *back)
{
	for (const struct console_action *act = actions; back && act->path; act++)
		if (act->back && !strcmp(act->back, back))
			return act->back;
	return "";
}

static void
reauth_back(struct console_req *c)
{
	const char *back = valid_back(console_field(c, "back")), *name = console_name(c);

	if (*back && name)
		console_done_at(c, back, name, "console_done_reauth");
	else
		console_done(c, back, "console_done_reauth");
}

/*
 * Check the proof (a TOTP code when one was typed, else the password) and refresh the
 * session's: 0 (audited console.reauth); 400 or 401 with *error the message to show; -1
 * when the request was answered (lockout, storage).
 */
static int
reauth_check(struct console_req *c, const char *pw, const char *code, const char **error)
{
	int by_code = code && *code;
	enum proof p;

	*error = by_code ? "console_reauth_wrong" : "pw_current_wrong";
	if (!by_code && !login_input_ok(pw, PASSWORD_MAX_LEN)) {
		*error = "pw_current_missing";
		return 400;
	}
	if (by_code)
		p = proof_code(c->idp, c->t, c->req, &c->ss.user, code, "console");
	else
		p = proof_password(c->idp, c->t, c->req, &c->ss.user, pw, "console");
	if (p == PROOF_WRONG)
		return 401;
	if (p != PROOF_OK || store_session_reauth(c->idp->in.store, c->t->id, c->ss.hash,
	    clock_now()) < 0) {
		console_error(c, p == PROOF_LOCKED ? 429 : 503, p == PROOF_LOCKED ?
		    "login_locked" : "error_server", "");
		return -1;
	}
	audit_event(c->idp->in.store, c->t->id, "console.reauth", "user", c->ss.user.name, "ip",
	    http_client_ip(c->req), "method", by_code ? "otp" : "password", NULL);
	return 0;
}

static void
reauth_get(struct console_req *c)
{
	reauth_page(c, 200, valid_back(console_param(c, "back")), NULL);
}

static void
reauth_post(struct console_req *c)
{
	const char *back = valid_back(console_field(c, "back")), *error;
	int rc = reauth_check(c, console_field(c, "password"), NULL, &error);

	if (rc > 0)
		reauth_page(c, rc, back, error);
	else if (rc == 0)
		reauth_back(c);
}

/* act's post with a stale proof and the re-auth form's proof: the proof, then act. */
static void
reauth_then(struct console_req *c, const struct console_action *act)
{
	const char *error;
	int rc = reauth_check(c, console_field(c, REAUTH_PASSWORD),
	    console_field(c, REAUTH_CODE), &error);

	if (rc > 0)
		reauth_carry_page(c, act, rc, error);
	else if (rc == 0)
		act->post(c);
}

static void
home_get(struct console_req *c)
{
	struct tmpl_vars *v = tmpl_vars_new();

	tmpl_set(v, "title", page_msg(c->idp->pages, c->lang, "console_title"));
	console_dashboard(c, v);
	console_render(c, 200, "console.html", v);
	tmpl_vars_free(v);
}

static void
wrong_method(struct idp *idp, struct http_req *req, const struct console_action *act)
{
	http_add_header(req, "Allow", act->get ? "GET, HEAD" : "POST");
	page_error(idp->pages, req, 405, "error_method", NULL);
}

/* Run act for c: its right, the CSRF token of a change, a recent proof when it asks. */
static void
run(struct console_req *c, const struct console_action *act, int post)
{
	if (!console_may(c, ADMIN_RIGHT_CONSOLE) || !console_may(c, act->right)) {
		reject(c, "role");
		console_error(c, 403, "console_forbidden", console_may(c, ADMIN_RIGHT_CONSOLE) ?
		    "" : NULL);
	} else if (!post) {
		act->get(c);
	} else if (!upload_ok(c, act)) {
		return;
	} else if (!csrf_ok(c)) {
		return;
	} else if (act->back && !proof_recent(&c->ss.s)) {
		if (console_field(c, REAUTH_PASSWORD) || console_field(c, REAUTH_CODE))
			reauth_then(c, act);
		else
			reauth_carry_page(c, act, 403, "console_reauth_needed");
	} else {
		act->post(c);
	}
}

void
console_route(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *rest)
{
	const struct console_action *act;
	int post = !strcmp(http_method(req), "POST");
	struct console_req c;

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
	if (console_open(&c, idp, t, req) != 1)
		return;
	run(&c, act, post);
	console_close(&c);
}

/* ---- what the pages share ---- */

int
console_may(const struct console_req *c, enum admin_right right)
{
	return admin_role_allows(c->ss.user.role, right);
}

const char *
console_field(const struct console_req *c, const char *name)
{
	return form_get(http_form(c->req), name);
}

const char *
console_param(const struct console_req *c, const char *name)
{
	return form_get(http_query(c->req), name);
}

const char *
console_name(const struct console_req *c)
{
	const char *n = strcmp(http_method(c->req), "POST") ? console_param(c, "name") :
	    console_field(c, "name");

	return n && store_valid_name(n, STORE_NAME_MAX) ? n : NULL;
}

char *
console_url(const struct console_req *c, const char *page)
{
	return xasprintf("%sadmin%s%s", c->t->path, *page ? "/" : "", page);
}

char *
console_named(const struct console_req *c, const char *page, const char *name)
{
	char *enc = url_encode(name), *url = xasprintf("%s?name=%s", page, enc);

	free(enc);
	return url;
}

static void
set_url(struct console_req *c, struct tmpl_vars *v, const char *name, const char *page)
{
	char *url = console_url(c, page);

	tmpl_set(v, name, url);
	free(url);
}

/* The rights the pages show actions for. */
static void
set_rights(struct console_req *c, struct tmpl_vars *v)
{
	static const struct {
		const char *name;
		enum admin_right right;
	} rights[] = {
		{ "may_manage", ADMIN_RIGHT_MANAGE }, { "may_view_users", ADMIN_RIGHT_VIEW_USERS },
		{ "may_unlock", ADMIN_RIGHT_UNLOCK }, { "may_reset", ADMIN_RIGHT_RESET_PASSWORD },
		{ "may_remove_factor", ADMIN_RIGHT_REMOVE_FACTOR },
		{ "may_revoke", ADMIN_RIGHT_REVOKE_CERT },
		{ "may_read_audit", ADMIN_RIGHT_READ_AUDIT },
	};

	for (size_t i = 0; i < sizeof(rights) / sizeof(rights[0]); i++)
		tmpl_set(v, rights[i].name, console_may(c, rights[i].right) ? "1" : NULL);
}

/* The nav's current section (aria-current) for the page's template. */
static void
set_nav(struct tmpl_vars *v, const char *name)
{
	static const struct {
		const char *prefix, *nav;
	} sections[] = {
		{ "console_user", "nav_users" }, { "console_group", "nav_groups" },
		{ "console_app", "nav_apps" }, { "console_catalog", "nav_apps" },
		{ "console_template", "nav_apps" }, { "console_rule", "nav_rules" },
		{ "console_sim", "nav_rules" }, { "console_keys", "nav_keys" },
		{ "console_audit", "nav_audit" }, { "console_certs", "nav_certs" },
		{ "console_settings", "nav_settings" }, { "console.html", "nav_home" },
		{ "console_reports", "nav_reports" },
	};

	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (!strncmp(name, sections[i].prefix, strlen(sections[i].prefix))) {
			tmpl_set(v, sections[i].nav, "1");
			return;
		}
}

void
console_render(struct console_req *c, int status, const char *name, struct tmpl_vars *v)
{
	char *csrf = session_csrf_token(c->t, "console", c->binding);

	tmpl_set(v, "csrf", csrf);
	set_url(c, v, "console_url", "");
	set_url(c, v, "users_url", "users");
	set_url(c, v, "groups_url", "groups");
	set_url(c, v, "apps_url", "apps");
	set_url(c, v, "rules_url", "rules");
	set_url(c, v, "keys_url", "keys");
	set_url(c, v, "audit_url", "audit");
	set_url(c, v, "certs_url", "certs");
	set_url(c, v, "settings_url", "settings");
	set_url(c, v, "reports_url", "reports");
	tmpl_set(v, "wide", "1");
	tmpl_set(v, "username", c->ss.user.name);
	tmpl_set(v, "role", admin_role_name(c->ss.user.role));
	tmpl_set(v, "notice", console_notice(c));
	set_rights(c, v);
	set_nav(v, name);
	http_add_header(c->req, "Cache-Control", "no-store");
	page_render(c->idp->pages, c->req, status, name, v);
	free(csrf);
}

void
console_message(struct console_req *c, int status, const char *title, const char *message,
    const char *back)
{
	struct tmpl_vars *v = tmpl_vars_new();
	char *url = back ? console_url(c, back) : NULL;

	tmpl_set(v, "title", title);
	tmpl_set(v, "message", message);
	tmpl_set(v, "back_url", url);
	console_render(c, status, "error.html", v);
	tmpl_vars_free(v);
	free(url);
}

void
console_error(struct console_req *c, int status, const char *msg, const char *back)
{
	console_message(c, status, page_msg(c->idp->pages, c->lang, "error_title"),
	    page_msg(c->idp->pages, c->lang, msg), back);
}

int
console_failed_status(const struct console_req *c)
{
	static const int status[] = { [ADMIN_OK] = 500, [ADMIN_INVALID] = 400,
		[ADMIN_NOT_FOUND] = 404, [ADMIN_CONFLICT] = 409, [ADMIN_LIMIT] = 409,
		[ADMIN_FORBIDDEN] = 403, [ADMIN_FAILED] = 500 };

	return status[c->adm.status];
}

void
console_failed(struct console_req *c, const char *back)
{
	console_failed_field(c, back, NULL);
}

/* The label's message key of the input the admin layer named, or NULL. */
static const char *
label_of(const struct console_req *c, const struct console_label *labels)
{
	for (; labels && labels->field && c->adm.field; labels++)
		if (!strcmp(labels->field, c->adm.field))
			return labels->msg;
	return NULL;
}

void
console_failed_field(struct console_req *c, const char *back,
    const struct console_label *labels)
{
	const char *label = label_of(c, labels), *m = c->adm.msg;
	size_t n = label ? strlen(c->adm.field) : 0;
	char *msg;

	/* "logo: SVG has a script element" under the label "Logo" loses its own prefix. */
	if (label && !strncmp(m, c->adm.field, n) && !strncmp(m + n, ": ", 2))
		m += n + 2;
	msg = !*m ? xstrdup(page_msg(c->idp->pages, c->lang, "error_server")) : label ?
	    xasprintf("%s: %s", page_msg(c->idp->pages, c->lang, label), m) : xstrdup(m);

	console_message(c, console_failed_status(c), page_msg(c->idp->pages, c->lang,
	    "console_refused"), msg, back);
	free(msg);
}

void
console_done(struct console_req *c, const char *page, const char *msg)
{
	char *url = console_url(c, page);
	char *to = xasprintf("%s%sdone=%s", url, strchr(page, '?') ? "&" : "?", msg);

	http_redirect(c->req, to);
	free(url);
	free(to);
}

void
console_done_at(struct console_req *c, const char *page, const char *name, const char *msg)
{
	char *named = console_named(c, page, name);

	console_done(c, named, msg);
	free(named);
}

const char *
console_notice(struct console_req *c)
{
	const char *done = console_param(c, "done");

	for (size_t i = 0; done && notices[i]; i++)
		if (!strcmp(done, notices[i]))
			return page_msg(c->idp->pages, c->lang, done);
	return NULL;
}

size_t
console_page_no(const struct console_req *c)
{
	const char *p = console_param(c, "page");
	char *end;
	unsigned long n = p ? strtoul(p, &end, 10) : 0;

	return p && *p && !*end && n >= 1 && n <= 100000 ? (size_t)n : 1;
}
