/*
 * The account overview: profile as the administrator set it, the password form, the
 * second factors, the sessions (each can be ended) and the user's last sign-ins and
 * refusals from the audit trail, dates in the tenant's time zone.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "account_int.h"
#include "clock.h"
#include "encode.h"
#include "factor.h"
#include "logout.h"
#include "pwquality.h"
#include "xmalloc.h"

#define HISTORY_MAX 20
#define HISTORY_DAYS 90		/* how far back the audit trail is read for the list */

/* The notices ?done= may name; anything else shows nothing. */
static const char *const notices[] = {
	"acct_done_password", "acct_done_factor_added", "acct_done_factor_removed",
	"acct_done_factor_renamed", "acct_done_session_ended", "acct_done_reauth", NULL,
};

static const char *
notice(const char *key)
{
	for (size_t i = 0; key && notices[i]; i++)
		if (!strcmp(key, notices[i]))
			return notices[i];
	return NULL;
}

struct rows {
	struct account_req *a;
	struct tmpl_vars *v;
};

static const char *
kind_key(uint64_t kind)
{
	return kind == FACTOR_TOTP ? "acct_kind_totp" : kind == FACTOR_WEBAUTHN ?
	    "acct_kind_webauthn" : "acct_kind_recovery";
}

static int
recovery_left(uint64_t used)
{
	int n = FACTOR_RECOVERY_CODES;

	for (int i = 0; i < FACTOR_RECOVERY_CODES; i++)
		n -= (int)(used >> i & 1);
	return n;
}

static void
factor_row(const void *rec, void *arg)
{
	const struct factor *f = rec;
	struct rows *r = arg;
	struct tmpl_vars *item;
	char when[ACCOUNT_TIME_LEN], left[16];

	if (f->pending)
		return;		/* an enrolment not confirmed (yet): nothing to manage */
	item = tmpl_add_item(r->v, "factors");
	tmpl_set(item, "id", f->id);
	tmpl_set(item, "kind", page_msg(r->a->idp->pages, r->a->lang, kind_key(f->kind)));
	tmpl_set(item, "label", f->label);
	account_time(r->a, (int64_t)f->created, when);
	tmpl_set(item, "created", when);
	if (f->last_used)
		account_time(r->a, (int64_t)f->last_used, when);
	tmpl_set(item, "last_used", f->last_used ? when :
	    page_msg(r->a->idp->pages, r->a->lang, "certs_never"));
	if (f->kind == FACTOR_RECOVERY) {
		snprintf(left, sizeof(left), "%d", recovery_left(f->counter));
		tmpl_set(item, "left", left);
	}
}

static void
session_row(const void *rec, void *arg)
{
	const struct session_info *si = rec;
	struct rows *r = arg;
	struct tmpl_vars *item = tmpl_add_item(r->v, "sessions");
	char hex[65], when[ACCOUNT_TIME_LEN];

	hex_encode(si->hash, sizeof(si->hash), hex);
	tmpl_set(item, "hash", hex);
	if (!memcmp(si->hash, r->a->ss.hash, sizeof(si->hash)))
		tmpl_set(item, "current", "1");
	tmpl_set(item, "ip", si->s.ip ? si->s.ip : "-");
	tmpl_set(item, "agent", si->s.agent ? si->s.agent : "-");
	account_time(r->a, (int64_t)si->s.created, when);
	tmpl_set(item, "started", when);
	account_time(r->a, (int64_t)si->s.last_seen, when);
	tmpl_set(item, "last_seen", when);
}

/* ---- the last sign-ins and refusals ---- */

static const struct {
	const char *event;
	const char *key;
} history_events[] = {
	{ "login.ok", "hist_login_ok" },
	{ "login.fail", "hist_login_fail" },
	{ "access.deny", "hist_access_deny" },
	{ "access.mfa_missing", "hist_access_mfa_missing" },
	{ "login.factor.ok", "hist_factor_ok" },
	{ "login.factor.fail", "hist_factor_fail" },
	{ "login.passkey.ok", "hist_passkey_ok" },
	{ "login.passkey.fail", "hist_passkey_fail" },
};

struct hist_entry {
	int64_t time;
	char *event;
	char *ip;
	char *detail;
};

struct history {
	const char *user;
	struct hist_entry e[HISTORY_MAX];
	size_t n;		/* entries seen; e is a ring of the last HISTORY_MAX */
};

static int
history_event(const char *event)
{
	for (size_t i = 0; i < sizeof(history_events) / sizeof(history_events[0]); i++)
		if (!strcmp(event, history_events[i].event))
			return 1;
	return !strncmp(event, "login.factor.", 13) || !strncmp(event, "login.passkey.", 14);
}

static void
hist_clear(struct hist_entry *e)
{
	free(e->event);
	free(e->ip);
	free(e->detail);
	memset(e, 0, sizeof(*e));
}

static void
history_cb(const struct audit_rec *r, void *arg)
{
	struct history *h = arg;
	struct audit_fields f;
	const char *user, *detail;
	struct hist_entry *e;

	if (!history_event(r->event) || audit_fields_parse(r->fields, &f) < 0)
		return;
	user = audit_fields_get(&f, "user");
	if (user && !strcasecmp(user, h->user)) {
		e = &h->e[h->n++ % HISTORY_MAX];
		hist_clear(e);
		e->time = (int64_t)r->time;
		e->event = xstrdup(r->event);
		e->ip = xstrdup(audit_fields_get(&f, "ip") ? audit_fields_get(&f, "ip") : "-");
		if ((detail = audit_fields_get(&f, "reason")) ||
		    (detail = audit_fields_get(&f, "app")) ||
		    (detail = audit_fields_get(&f, "method")))
			e->detail = xstrdup(detail);
	}
	audit_fields_clear(&f);
}

static const char *
history_label(struct account_req *a, const char *event)
{
	for (size_t i = 0; i < sizeof(history_events) / sizeof(history_events[0]); i++)
		if (!strcmp(event, history_events[i].event))
			return page_msg(a->idp->pages, a->lang, history_events[i].key);
	return event;
}

/* Newest first. */
static void
history_rows(struct account_req *a, struct tmpl_vars *v)
{
	struct history h = { .user = a->ss.user.name };
	size_t count;
	char when[ACCOUNT_TIME_LEN];

	store_audit_list(a->idp->in.store, a->t->id, clock_now() - HISTORY_DAYS * 86400,
	    history_cb, &h);
	count = h.n < HISTORY_MAX ? h.n : HISTORY_MAX;
	for (size_t i = 0; i < count; i++) {
		struct hist_entry *e = &h.e[(h.n - 1 - i) % HISTORY_MAX];
		struct tmpl_vars *item = tmpl_add_item(v, "history");
		account_time(a, e->time, when);
		tmpl_set(item, "when", when);
		tmpl_set(item, "what", history_label(a, e->event));
		tmpl_set(item, "event", e->event);
		tmpl_set(item, "ip", e->ip);
		tmpl_set(item, "detail", e->detail);
	}
	for (size_t i = 0; i < count; i++)
		hist_clear(&h.e[i]);
}

/* ---- the page ---- */

static void
profile(struct account_req *a, struct tmpl_vars *v)
{
	const struct user *u = &a->ss.user;
	char min[24];

	tmpl_set(v, "title", page_msg(a->idp->pages, a->lang, "acct_title"));
	tmpl_set(v, "display_name", u->display_name && *u->display_name ? u->display_name :
	    u->name);
	tmpl_set(v, "email", u->email);
	snprintf(min, sizeof(min), "%llu", (unsigned long long)(a->tn.pw_min_len ?
	    a->tn.pw_min_len : PWQUALITY_DEFAULT_MIN));
	tmpl_set(v, "pw_min", min);
}

static void
links(struct account_req *a, struct tmpl_vars *v)
{
	static const char *const names[][2] = {
		{ "certs_url", "certs" }, { "portal_url", "portal" },
		{ "password_url", "account/password" }, { "totp_url", "account/totp" },
		{ "passkey_url", "account/passkey" }, { "recovery_url", "account/recovery" },
		{ "rename_url", "account/factor/rename" }, { "remove_url", "account/factor/remove" },
		{ "session_end_url", "account/session/end" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *url = xasprintf("%s%s", a->t->path, names[i][1]);
		tmpl_set(v, names[i][0], url);
		free(url);
	}
}

void
account_overview(struct account_req *a, int status, const char *pw_error)
{
	struct tmpl_vars *v = tmpl_vars_new();
	struct rows r = { a, v };
	const char *done = notice(form_get(http_query(a->req), "done"));

	profile(a, v);
	links(a, v);
	if (done && !pw_error)
		tmpl_set(v, "notice", page_msg(a->idp->pages, a->lang, done));
	if (pw_error)
		tmpl_set(v, "pw_error", page_msg(a->idp->pages, a->lang, pw_error));
	if (store_factor_list(a->idp->in.store, a->t->id, a->ss.user.id, factor_row, &r) < 0 ||
	    store_session_list_user(a->idp->in.store, a->t->id, a->ss.user.id, session_row,
	    &r) < 0) {
		tmpl_vars_free(v);
		account_error(a, 503, "error_server");
		return;
	}
	history_rows(a, v);
	account_render(a, status, "account.html", v);
	tmpl_vars_free(v);
}

/* ---- ending a session ---- */

void
account_session_end(struct account_req *a)
{
	const char *id = form_get(http_form(a->req), "id");
	unsigned char hash[32];
	struct audit_entry ae;
	size_t n;
	int rc;

	if (id == NULL || strlen(id) != 64 || hex_decode(id, 64, hash, sizeof(hash), &n) < 0) {
		account_error(a, 400, "acct_bad_input");
		return;
	}
	if (!memcmp(hash, a->ss.hash, sizeof(hash))) {
		/* This browser's own session: a full logout, apps included. */
		logout_session(a->idp, a->t, a->req, &a->ss, NULL);
		return;
	}
	account_audit_entry(a, &ae, "account.session.end");
	rc = logout_other(a->idp, a->t, &a->ss.user, hash, &ae);
	if (rc == 1)
		account_done(a, "acct_done_session_ended");
	else
		account_error(a, rc < 0 ? 503 : 404, rc < 0 ? "error_server" : "acct_no_session");
}
