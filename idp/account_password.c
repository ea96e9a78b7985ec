/*
 * Proving the password again on the account pages: to change it (the new one checked
 * against the tenant's policy and cracklib) and to re-authenticate before removing the
 * last second factor.  Wrong passwords count toward the same lockout as the login form.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "account_int.h"
#include "clock.h"
#include "ipnet.h"
#include "login.h"
#include "password.h"
#include "proof.h"
#include "pwquality.h"
#include "xmalloc.h"

static int
text_ok(const char *s)
{
	return login_input_ok(s, PASSWORD_MAX_LEN);
}

/*
 * Check the user's password pw (proof.c): PROOF_OK or PROOF_WRONG (401 is the caller's
 * page); a lockout or a storage error is answered here.
 */
static enum proof
prove_password(struct account_req *a, const char *pw)
{
	enum proof p = proof_password(a->idp, a->t, a->req, &a->ss.user, pw, "account");

	if (p == PROOF_LOCKED)
		account_error(a, 429, "login_locked");
	else if (p == PROOF_FAILED)
		account_error(a, 503, "error_server");
	return p;
}

/* The new password's problem as a message key, or NULL when it may be used. */
static const char *
new_password_problem(struct account_req *a, const char *pw, const char *pw2)
{
	const char *why = NULL;
	size_t min = a->tn.pw_min_len ? (size_t)a->tn.pw_min_len : PWQUALITY_DEFAULT_MIN;

	if (!text_ok(pw))
		return "pw_not_valid";
	if (pw2 == NULL || strcmp(pw, pw2))
		return "pw_mismatch";
	if (pwquality_check(pw, min, a->ss.user.name, a->ss.user.email,
	    a->idp->in.settings.cracklib_dict, &why) < 0)
		return why;
	return NULL;
}

void
account_password(struct account_req *a)
{
	const struct form *f = http_form(a->req);
	const char *cur = form_get(f, "current"), *pw = form_get(f, "password"), *why;
	struct audit_entry ae;
	char *hash;
	int rc;

	if (!text_ok(cur)) {
		account_overview(a, 400, "pw_current_missing");
		return;
	}
	if ((why = new_password_problem(a, pw, form_get(f, "password2"))) != NULL) {
		account_overview(a, 400, why);
		return;
	}
	switch (prove_password(a, cur)) {
	case PROOF_WRONG:
		account_overview(a, 401, "pw_current_wrong");
		return;
	case PROOF_OK:
		break;
	default:
		return;
	}
	if ((hash = password_hash(&a->idp->pw, pw, &why)) == NULL) {
		account_overview(a, 400, "pw_not_valid");
		return;
	}
	account_audit_entry(a, &ae, "account.password.change");
	rc = store_user_new_password(a->idp->in.store, a->t->id, a->ss.user.id, hash,
	    clock_now(), a->ss.hash, &ae);
	freezero_str(hash);
	if (rc == 1)
		account_done(a, "acct_done_password");
	else
		account_error(a, 503, "error_server");
}

/* ---- re-authentication ---- */

void
account_reauth_page(struct account_req *a, int status, const char *error)
{
	struct tmpl_vars *v = tmpl_vars_new();
	char *url = xasprintf("%saccount/reauth", a->t->path);

	tmpl_set(v, "title", page_msg(a->idp->pages, a->lang, "reauth_title"));
	tmpl_set(v, "reauth_url", url);
	if (error)
		tmpl_set(v, "error", page_msg(a->idp->pages, a->lang, error));
	account_render(a, status, "account_reauth.html", v);
	tmpl_vars_free(v);
	free(url);
}

void
account_reauth(struct account_req *a)
{
	const char *pw = form_get(http_form(a->req), "password");

	if (!text_ok(pw)) {
		account_reauth_page(a, 400, "pw_current_missing");
		return;
	}
	switch (prove_password(a, pw)) {
	case PROOF_WRONG:
		account_reauth_page(a, 401, "pw_current_wrong");
		return;
	case PROOF_OK:
		break;
	default:
		return;
	}
	if (store_session_reauth(a->idp->in.store, a->t->id, a->ss.hash, clock_now()) < 0) {
		account_error(a, 503, "error_server");
		return;
	}
	audit_event(a->idp->in.store, a->t->id, "account.reauth", "user", a->ss.user.name, "ip",
	    http_client_ip(a->req), NULL);
	account_done(a, "acct_done_reauth");
}
