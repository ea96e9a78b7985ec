/*
 * What the account pages share (account*.c only): the signed-in request they all start
 * from, its CSRF token, dates in the tenant's time zone, and the way a form ends.
 */
#ifndef SEKISHO_ACCOUNT_INT_H
#define SEKISHO_ACCOUNT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "idp.h"
#include "session.h"
#include "tz.h"

#define ACCOUNT_TIME_LEN TZ_TIME_LEN

/* One request of a signed-in user to an account page. */
struct account_req {
	struct idp *idp;
	struct tenant_ctx *t;
	struct http_req *req;
	struct sso_session ss;
	struct tenant tn;	/* the tenant's record: time zone, password policy */
	const char *lang;
	char binding[65];	/* the session hash in hex: what the CSRF tokens are bound to */
};

/*
 * Load the session and the tenant into a: 1 ready; 0 when the request has been answered
 * (not signed in: to the login page; storage error: 503).  Close a 1 with account_close.
 */
int account_open(struct account_req *a, struct idp *idp, struct tenant_ctx *t,
    struct http_req *req);
void account_close(struct account_req *a);
/* The form's csrf field is valid for this session: 1; else 0 with a 400 page answered. */
int account_csrf_ok(struct account_req *a);
/* A CSRF token for the account forms (caller frees). */
char *account_csrf(const struct account_req *a);
/* t as local time in the tenant's zone: "YYYY-MM-DD HH:MM UTC+HH:MM". */
void account_time(const struct account_req *a, int64_t t, char out[ACCOUNT_TIME_LEN]);
/* Render name with v and the values every account page has (no-store, wide layout). */
void account_render(struct account_req *a, int status, const char *name, struct tmpl_vars *v);
/* An error page with message key msg and a link back to the account page. */
void account_error(struct account_req *a, int status, const char *msg);
/* Done: back to the account page, which shows message key msg (one of account_notices). */
void account_done(struct account_req *a, const char *msg);
/* The user's and the address's fields for an audit entry of event. */
void account_audit_entry(const struct account_req *a, struct audit_entry *ae,
    const char *event);
/* 1 when s is 1..max bytes without control characters (form input). */
/* 1 when s is a usable factor label: 1..FACTOR_LABEL_MAX characters, no control ones. */
int account_label_ok(const char *s);
/* 1 when the session proved something (password or second factor) in the last 5 minutes. */
int account_recent_auth(const struct account_req *a);

/* The pages: the overview (with an error on the password form, or NULL). */
void account_overview(struct account_req *a, int status, const char *pw_error);
void account_password(struct account_req *a);
void account_reauth(struct account_req *a);
void account_reauth_page(struct account_req *a, int status, const char *error);
void account_session_end(struct account_req *a);
void account_totp_get(struct account_req *a);
void account_totp_post(struct account_req *a);
void account_recovery(struct account_req *a);
void account_factor_rename(struct account_req *a);
void account_factor_remove(struct account_req *a);
void account_passkey_get(struct account_req *a);
void account_passkey_post(struct account_req *a);

#endif
