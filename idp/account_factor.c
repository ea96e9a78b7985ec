/*
 * Managing second factors on the account page: enrolling an authenticator app (QR code
 * and secret, confirmed by one code), new recovery codes shown once, renaming and
 * removing; the last TOTP or passkey goes only after a recent proof of the password.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "account_int.h"
#include "clock.h"
#include "factor.h"
#include "qrsvg.h"
#include "xmalloc.h"

/* An enrolment not confirmed within this is void (the store keeps a few pending ones). */
#define ENROL_LIFETIME 3600
#define FACTOR_ID_LEN 16

static int
code_ok(const char *code)
{
	return code && strlen(code) == 6 && strspn(code, "0123456789") == 6;
}

static int
factor_id_ok(const char *id)
{
	return id && strlen(id) == FACTOR_ID_LEN &&
	    strspn(id, "0123456789abcdef") == FACTOR_ID_LEN;
}

/* ---- TOTP enrolment ---- */

static void
totp_page(struct account_req *a, int status, const char *id, const char *svg,
    const char *secret, const char *error)
{
	struct tmpl_vars *v = tmpl_vars_new();
	char *url = xasprintf("%saccount/totp", a->t->path);

	tmpl_set(v, "title", page_msg(a->idp->pages, a->lang, "totp_title"));
	tmpl_set(v, "totp_url", url);
	tmpl_set(v, "id", id);
	tmpl_set(v, "secret", secret);
	tmpl_set(v, "label", page_msg(a->idp->pages, a->lang, "totp_default_label"));
	if (error)
		tmpl_set(v, "error", page_msg(a->idp->pages, a->lang, error));
	if (svg)
		tmpl_set_markup(v, "qr", svg);
	account_render(a, status, "account_totp.html", v);
	tmpl_vars_free(v);
	free(url);
}

void
account_totp_get(struct account_req *a)
{
	const char *label = page_msg(a->idp->pages, a->lang, "totp_default_label"), *err;
	char *id = NULL, *uri = NULL, *secret = NULL, *svg = NULL;
	struct audit_entry ae;

	account_audit_entry(a, &ae, "account.factor.enrol");
	if (factor_totp_create(&a->idp->in, a->t->id, &a->ss.user, label, 1, &ae, &id, &uri,
	    &secret, &err) < 0 || (svg = qr_svg(uri, page_msg(a->idp->pages, a->lang,
	    "totp_qr_label"))) == NULL) {
		account_error(a, 503, "error_server");
	} else {
		totp_page(a, 200, id, svg, secret, NULL);
	}
	free(id);
	freezero_str(uri);
	freezero_str(secret);
	freezero_str(svg);
}

/* The enrolment page again (a wrong code or name), with the same QR code and key. */
static void
totp_again(struct account_req *a, int status, const char *id, const char *error)
{
	char *secret = NULL, *svg = NULL;
	char *uri = factor_totp_uri(&a->idp->in, a->t->id, &a->ss.user, id, &secret);

	if (uri)
		svg = qr_svg(uri, page_msg(a->idp->pages, a->lang, "totp_qr_label"));
	totp_page(a, status, id, svg, secret, error);
	freezero_str(uri);
	freezero_str(secret);
	freezero_str(svg);
}

/* 1 when id is an enrolment of this user still open, else 0 (answered). */
static int
open_enrolment(struct account_req *a, const char *id)
{
	struct factor f;
	int rc = factor_id_ok(id) ? store_factor_get(a->idp->in.store, a->t->id,
	    a->ss.user.id, id, &f) : 0, open;

	if (rc < 0) {
		account_error(a, 503, "error_server");
		return 0;
	}
	open = rc == 1 && f.kind == FACTOR_TOTP && f.pending &&
	    (int64_t)f.created >= clock_now() - ENROL_LIFETIME;
	if (rc == 1)
		store_factor_clear(&f);
	if (!open)
		account_error(a, 400, "totp_enrol_expired");
	return open;
}

void
account_totp_post(struct account_req *a)
{
	const struct form *f = http_form(a->req);
	const char *id = form_get(f, "id"), *label = form_get(f, "label"),
	    *code = form_get(f, "otp");
	struct audit_entry ae;
	int rc;

	if (!open_enrolment(a, id))
		return;
	if (label && *label && !account_label_ok(label)) {
		totp_again(a, 400, id, "factor_label_bad");
		return;
	}
	/* Named first, so that the record of the confirmation carries the name. */
	if (label && *label && store_factor_label(a->idp->in.store, a->t->id, a->ss.user.id,
	    id, label, NULL) < 0) {
		account_error(a, 503, "error_server");
		return;
	}
	account_audit_entry(a, &ae, "account.factor.add");
	rc = code_ok(code) ? factor_totp_check(&a->idp->in, a->t->id, a->ss.user.id, id, code,
	    clock_now(), &ae, NULL) : 0;
	if (rc == 0) {
		totp_again(a, 401, id, "totp_code_wrong");
		return;
	}
	if (rc == 1)
		account_done(a, "acct_done_factor_added");
	else
		account_error(a, 503, "error_server");
}

/* ---- recovery codes ---- */

void
account_recovery(struct account_req *a)
{
	char codes[FACTOR_RECOVERY_CODES][RECOVERY_CODE_LEN + 1];
	struct tmpl_vars *v;
	struct audit_entry ae;
	const char *err;

	account_audit_entry(a, &ae, "account.recovery.new");
	if (factor_recovery_new(&a->idp->in, a->t->id, a->ss.user.id, codes, &ae, &err) < 0) {
		account_error(a, 503, "error_server");
		return;
	}
	v = tmpl_vars_new();
	tmpl_set(v, "title", page_msg(a->idp->pages, a->lang, "recovery_title"));
	for (size_t i = 0; i < FACTOR_RECOVERY_CODES; i++)
		tmpl_set(tmpl_add_item(v, "codes"), "code", codes[i]);
	account_render(a, 200, "account_recovery.html", v);
	tmpl_vars_free(v);
	explicit_bzero(codes, sizeof(codes));
}

/* ---- rename and remove ---- */

void
account_factor_rename(struct account_req *a)
{
	const struct form *f = http_form(a->req);
	const char *id = form_get(f, "id"), *label = form_get(f, "label");
	struct audit_entry ae;
	int rc;

	if (!factor_id_ok(id) || !account_label_ok(label)) {
		account_error(a, 400, "factor_label_bad");
		return;
	}
	account_audit_entry(a, &ae, "account.factor.rename");
	rc = store_factor_label(a->idp->in.store, a->t->id, a->ss.user.id, id, label, &ae);
	if (rc == 1)
		account_done(a, "acct_done_factor_renamed");
	else
		account_error(a, rc < 0 ? 503 : 404, rc < 0 ? "error_server" : "factor_none");
}

/*
 * Whether removing f leaves the user without a TOTP or passkey: 1 yes, 0 no, -1.
 * Recovery codes and unconfirmed enrolments are never the last factor.
 */
static int
last_strong_factor(struct account_req *a, const struct factor *f)
{
	int n = 0;

	if ((f->kind != FACTOR_TOTP && f->kind != FACTOR_WEBAUTHN) || f->pending)
		return 0;
	if (store_factor_count(a->idp->in.store, a->t->id, a->ss.user.id, &n) < 0)
		return -1;
	return n <= 1;
}

void
account_factor_remove(struct account_req *a)
{
	const char *id = form_get(http_form(a->req), "id");
	struct audit_entry ae;
	struct factor f;
	int rc = factor_id_ok(id) ? store_factor_get(a->idp->in.store, a->t->id,
	    a->ss.user.id, id, &f) : 0, last;

	if (rc != 1) {
		account_error(a, rc < 0 ? 503 : 404, rc < 0 ? "error_server" : "factor_none");
		return;
	}
	last = last_strong_factor(a, &f);
	store_factor_clear(&f);
	if (last < 0) {
		account_error(a, 503, "error_server");
		return;
	}
	if (last && !account_recent_auth(a)) {
		account_reauth_page(a, 403, "reauth_needed");
		return;
	}
	account_audit_entry(a, &ae, "account.factor.remove");
	rc = store_factor_remove(a->idp->in.store, a->t->id, a->ss.user.id, id, &ae);
	if (rc == 1)
		account_done(a, "acct_done_factor_removed");
	else
		account_error(a, rc < 0 ? 503 : 404, rc < 0 ? "error_server" : "factor_none");
}
