/*
 * What the console's pages share (idp/console/ only): the signed-in request with the
 * admin layer's context acting as console:NAME from the client's address, its CSRF
 * token, the rights of the user's role, and the ways a page ends.
 */
#ifndef SEKISHO_CONSOLE_INT_H
#define SEKISHO_CONSOLE_INT_H

#include "admin.h"
#include "admin_role.h"
#include "idp.h"
#include "page.h"
#include "session.h"
#include "tz.h"

/* One request of a signed-in user with a console right. */
struct console_req {
	struct idp *idp;
	struct tenant_ctx *t;
	struct http_req *req;
	struct sso_session ss;
	const char *lang;
	char binding[65];	/* the session hash in hex: what the CSRF tokens are bound to */
	char actor[STORE_NAME_MAX + 16];	/* "console:NAME" for the audit records */
	struct admin adm;	/* acts as actor from the client's address */
	char zone[64];		/* the tenant's time zone: pages show times with tz_format */
};

/* 1 when the user's role has right. */
int console_may(const struct console_req *c, enum admin_right right);
/* A form field (NULL when absent). */
const char *console_field(const struct console_req *c, const char *name);
/* A query parameter (NULL when absent). */
const char *console_param(const struct console_req *c, const char *name);
/*
 * The user or group the request names (name= of the form, or of the query for a GET);
 * NULL when it is not a valid name.
 */
const char *console_name(const struct console_req *c);
/* The console's URL of page ("users", "user?name=a" ...): a new string. */
char *console_url(const struct console_req *c, const char *page);
/* The console's URL of page for the user or group called name ("user?name=a"): new. */
char *console_named(const struct console_req *c, const char *page, const char *name);
/* Render name with v and what every console page has (CSRF, navigation, no-store). */
void console_render(struct console_req *c, int status, const char *name,
    struct tmpl_vars *v);
/* An error page with these texts and a link back to back (a console page, or NULL). */
void console_message(struct console_req *c, int status, const char *title,
    const char *message, const char *back);
/* An error page with message key msg and a link back to back (a console page, or NULL). */
void console_error(struct console_req *c, int status, const char *msg, const char *back);
/* The HTTP status for the admin_* call that failed (400 invalid, 409 conflict ...). */
int console_failed_status(const struct console_req *c);
/* An admin_* call failed: its status and message, with a link back to back. */
void console_failed(struct console_req *c, const char *back);
/* The label (message key msg) of the input the admin layer calls field. */
struct console_label {
	const char *field;
	const char *msg;
};
/* console_failed, its message led by the label of the input at fault (labels end NULL). */
void console_failed_field(struct console_req *c, const char *back,
    const struct console_label *labels);
/* Done: to page (a console page) with notice key msg (one of console_notices). */
void console_done(struct console_req *c, const char *page, const char *msg);
/* Done: to page ("user", "group") of the one called name, with notice msg. */
void console_done_at(struct console_req *c, const char *page, const char *name,
    const char *msg);
/* The notice of ?done= when it is one of ours (a message), else NULL. */
const char *console_notice(struct console_req *c);
/* page=N of a list: 1 when absent or not a number. */
size_t console_page_no(const struct console_req *c);

/* The dashboard's values into v when the user may read the audit trail (console_dash.c). */
void console_dashboard(struct console_req *c, struct tmpl_vars *v);

/* The pages (console_users.c, console_user.c, console_groups.c). */
void console_users_get(struct console_req *c);
void console_user_add(struct console_req *c);
void console_user_get(struct console_req *c);
void console_user_edit(struct console_req *c);
void console_user_disable(struct console_req *c);
void console_user_delete(struct console_req *c);
void console_user_unlock(struct console_req *c);
void console_user_reset(struct console_req *c);
void console_user_factor_remove(struct console_req *c);
void console_user_cert_revoke(struct console_req *c);
void console_user_session_end(struct console_req *c);
void console_groups_get(struct console_req *c);
void console_group_add(struct console_req *c);
void console_group_get(struct console_req *c);
void console_group_rename(struct console_req *c);
void console_group_delete(struct console_req *c);
void console_member_add(struct console_req *c);
void console_member_remove(struct console_req *c);
/* Access rules and the simulator (console_rules.c). */
void console_rules_get(struct console_req *c);
void console_rule_add(struct console_req *c);
void console_rules_test(struct console_req *c);
void console_rule_get(struct console_req *c);
void console_rule_edit(struct console_req *c);
void console_rule_move(struct console_req *c);
void console_rule_delete(struct console_req *c);
/* API keys (console_keys.c). */
void console_keys_get(struct console_req *c);
void console_key_add(struct console_req *c);
void console_key_suspend(struct console_req *c);
void console_key_delete(struct console_req *c);
/* The audit trail (console_audit.c). */
void console_audit_get(struct console_req *c);
void console_audit_verify(struct console_req *c);
void console_audit_export(struct console_req *c);
/* The monthly reports kept for the tenant, and their files (console_reports.c). */
void console_reports_get(struct console_req *c);
void console_reports_file(struct console_req *c);
/* Device certificates (console_certs.c). */
void console_certs_get(struct console_req *c);
void console_cert_issue(struct console_req *c);
void console_cert_revoke(struct console_req *c);
/* The tenant's settings and branding (console_settings.c). */
void console_settings_get(struct console_req *c);
void console_settings_save(struct console_req *c);
/* The logo: a file of a multipart body (console_logo_upload), or removed. */
extern const struct http_upload console_logo_upload;
void console_logo_save(struct console_req *c);
void console_logo_remove(struct console_req *c);

/* Apps (console_apps.c, console_catalog.c, console_app.c). */
void console_apps_get(struct console_req *c);
void console_apps_new_get(struct console_req *c);
void console_app_add_saml(struct console_req *c);
void console_app_add_oidc(struct console_req *c);
void console_catalog_get(struct console_req *c);
void console_template_get(struct console_req *c);
void console_template_add(struct console_req *c);
void console_app_get(struct console_req *c);
void console_app_edit(struct console_req *c);
void console_app_assign(struct console_req *c);
void console_app_unassign(struct console_req *c);
void console_app_delete(struct console_req *c);
/* An app's icon: a file of a multipart body (console_icon_upload), or removed. */
extern const struct http_upload console_icon_upload;
void console_app_icon_save(struct console_req *c);
void console_app_icon_remove(struct console_req *c);
/*
 * The page of the app called name with v (a notice, a client secret shown this once);
 * the tenant's values to paste into the app unless have_paste (v has them already).
 */
void console_app_page(struct console_req *c, const char *name, int status,
    struct tmpl_vars *v, int have_paste);
/* An item of v's list "paste": value under label (NULL: our name for key). */
void console_paste_item(struct console_req *c, struct tmpl_vars *v, const char *key,
    const char *label, const char *value);

#endif
