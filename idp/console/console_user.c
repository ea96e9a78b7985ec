/*
 * One user in the console: the profile with its edit form, groups, second factors,
 * device certificates and sessions, and the changes made from that page (disable, delete,
 * unlock, reset link shown once, factor removal, revocation, sign-out).  Each change is
 * the admin layer's (admin_user.h, admin_factor.h, admin_cert.h), acting as console:NAME.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_cert.h"
#include "admin_factor.h"
#include "admin_user.h"
#include "audit.h"
#include "casvc.h"
#include "clock.h"
#include "console_int.h"
#include "encode.h"
#include "logout.h"
#include "xmalloc.h"

/* The user named by the form (POST) or the query (GET); NULL when it is not a name. */
/* 1 when the acting user may act on u: never on a role above their own. */
static int
may_act_on(const struct console_req *c, const struct user *u)
{
	return u->role <= c->ss.user.role;
}

/*
 * The user the form names, when the acting user may act on them (a helpdesk user may
 * not reset, unlock or revoke for an admin and so take the account over); else NULL
 * with the request answered (404, 403).
 */
static const char *
target(struct console_req *c)
{
	const char *name = console_name(c);
	struct user u;
	int rc = name ? store_user_get(c->idp->in.store, c->t->id, name, &u) : 0, ok;

	if (rc != 1) {
		console_error(c, rc < 0 ? 503 : 404, rc < 0 ? "error_server" : "console_no_user",
		    "users");
		return NULL;
	}
	ok = may_act_on(c, &u);
	store_user_clear(&u);
	if (!ok) {
		audit_event(c->idp->in.store, c->t->id, "console.reject", "user", c->ss.user.name,
		    "ip", http_client_ip(c->req), "path", http_path(c->req), "reason", "rank",
		    "target", name, NULL);
		console_error(c, 403, "console_outranked", "users");
		return NULL;
	}
	return name;
}

/* What the rows of the user's lists are added to, and the zone their times are in. */
struct rows {
	struct tmpl_vars *v;
	const char *zone;
};

static void
factor_row(const void *rec, void *arg)
{
	const struct factor *f = rec;
	const struct rows *r = arg;
	struct tmpl_vars *item = tmpl_add_item(r->v, "factors");
	char when[TZ_TIME_LEN];

	tmpl_set(item, "id", f->id);
	tmpl_set(item, "kind", store_factor_kind_name(f->kind));
	tmpl_set(item, "label", f->label);
	tz_format(r->zone, (int64_t)f->created, when);
	tmpl_set(item, "created", when);
}

static void
cert_row(const void *rec, void *arg)
{
	const struct devcert *d = rec;
	const struct rows *r = arg;
	struct tmpl_vars *item = tmpl_add_item(r->v, "certs");
	const char *status = admin_cert_status_name(d, clock_now());
	char when[TZ_TIME_LEN];

	tmpl_set(item, "serial", d->serial);
	tmpl_set(item, "label", d->label);
	tmpl_set(item, "status", status);
	tmpl_set(item, "active", !strcmp(status, "active") ? "1" : NULL);
	tz_format(r->zone, (int64_t)d->not_after, when);
	tmpl_set(item, "not_after", when);
}

static void
session_row(const void *rec, void *arg)
{
	const struct session_info *si = rec;
	const struct rows *r = arg;
	struct tmpl_vars *item = tmpl_add_item(r->v, "sessions");
	char hex[65], when[TZ_TIME_LEN];

	hex_encode(si->hash, sizeof(si->hash), hex);
	tmpl_set(item, "hash", hex);
	tmpl_set(item, "ip", si->s.ip ? si->s.ip : "-");
	tmpl_set(item, "agent", si->s.agent ? si->s.agent : "-");
	tz_format(r->zone, (int64_t)si->s.created, when);
	tmpl_set(item, "started", when);
}

static void
profile(struct tmpl_vars *v, const struct user *u)
{
	tmpl_set(v, "name", u->name);
	tmpl_set(v, "email", u->email);
	tmpl_set(v, "display_name", u->display_name);
	tmpl_set(v, "attrs", u->attrs);
	tmpl_set(v, "role_name", admin_role_name(u->role));
	tmpl_set(v, "disabled", u->disabled ? "1" : NULL);
}

static void
group_rows(struct console_req *c, struct tmpl_vars *v, const struct user *u)
{
	char **groups = NULL;

	if (store_user_groups(c->idp->in.store, c->t->id, u->id, &groups) < 0)
		return;
	for (char **g = groups; g && *g; g++) {
		char *named = console_named(c, "group", *g), *url = console_url(c, named);
		struct tmpl_vars *item = tmpl_add_item(v, "groups");

		tmpl_set(item, "group", *g);
		tmpl_set(item, "group_url", url);
		free(named);
		free(url);
	}
	store_strv_free(groups);
}

/* The lists of the page: 0, or -1 after a storage error. */
static int
lists(struct console_req *c, struct tmpl_vars *v, const struct user *u)
{
	struct admin_cert_filter f = { .user = u->name, .status = ADMIN_CERT_ANY,
		.now = clock_now() };
	struct rows r = { v, c->zone };

	group_rows(c, v, u);
	if (admin_factor_list(&c->adm, u->name, factor_row, &r) < 0 ||
	    admin_cert_list(&c->adm, &f, cert_row, &r) < 0)
		return -1;
	return store_session_list_user(c->idp->in.store, c->t->id, u->id, session_row, &r);
}

/* The user's page with v's extra values (a reset link): status 200. */
static void
user_page(struct console_req *c, const char *name, struct tmpl_vars *v)
{
	struct user u;
	int rc = store_user_get(c->idp->in.store, c->t->id, name, &u);

	if (rc != 1) {
		console_error(c, rc < 0 ? 503 : 404, rc < 0 ? "error_server" : "console_no_user",
		    "users");
		return;
	}
	profile(v, &u);
	tmpl_set(v, "title", u.name);
	tmpl_set(v, "outranked", may_act_on(c, &u) ? NULL : "1");
	if (lists(c, v, &u) < 0)
		console_error(c, 503, "error_server", "users");
	else
		console_render(c, 200, "console_user.html", v);
	store_user_clear(&u);
}

void
console_user_get(struct console_req *c)
{
	const char *name = console_name(c);
	struct tmpl_vars *v;

	if (name == NULL) {
		console_error(c, 404, "console_no_user", "users");
		return;
	}
	v = tmpl_vars_new();
	user_page(c, name, v);
	tmpl_vars_free(v);
}

/* A textarea's lines without the CRs browsers send: a new string. */
static char *
lines(const char *s)
{
	char *out = xstrdup(s), *w = out;

	for (const char *p = s; *p; p++)
		if (*p != '\r')
			*w++ = *p;
	*w = '\0';
	return out;
}

void
console_user_edit(struct console_req *c)
{
	const char *name = console_name(c), *attrs = console_field(c, "attrs");
	struct user_change ch = { .email = console_field(c, "email"),
		.display_name = console_field(c, "display_name") };
	char *a = attrs ? lines(attrs) : NULL;
	int rc;

	ch.attrs = a;
	rc = name ? admin_user_update(&c->adm, name, &ch) : -1;
	free(a);
	if (rc < 0) {
		if (name == NULL)
			admin_fail(&c->adm, ADMIN_NOT_FOUND, "name", "no such user");
		console_failed(c, "users");
		return;
	}
	console_done_at(c, "user", name, "console_done_user_saved");
}

/* Run fn(a, name) for the form's user; the user's page with msg, or the failure. */
static void
change(struct console_req *c, int (*fn)(struct admin *, const char *), const char *msg)
{
	const char *name = target(c);

	if (name == NULL)
		return;
	if (fn(&c->adm, name) < 0)
		console_failed(c, "users");
	else
		console_done_at(c, "user", name, msg);
}

void
console_user_disable(struct console_req *c)
{
	const char *name = console_name(c), *off = console_field(c, "disabled");
	int disable = off == NULL || strcmp(off, "off");

	if (name == NULL || admin_user_set_disabled(&c->adm, name, disable) < 0) {
		if (name == NULL)
			admin_fail(&c->adm, ADMIN_NOT_FOUND, "name", "no such user");
		console_failed(c, "users");
		return;
	}
	console_done_at(c, "user", name, disable ? "console_done_user_disabled" :
	    "console_done_user_enabled");
}

void
console_user_delete(struct console_req *c)
{
	const char *name = console_name(c);

	if (name == NULL)
		admin_fail(&c->adm, ADMIN_NOT_FOUND, "name", "no such user");
	if (name == NULL || admin_user_remove(&c->adm, name) < 0)
		console_failed(c, "users");
	else
		console_done(c, "users", "console_done_user_deleted");
}

void
console_user_unlock(struct console_req *c)
{
	change(c, admin_user_unlock, "console_done_user_unlocked");
}

/* The reset link is shown on the user's page this once (it is not kept anywhere). */
void
console_user_reset(struct console_req *c)
{
	const char *name = target(c);
	struct admin_reset r = { 0 };
	struct tmpl_vars *v;

	if (name == NULL)
		return;
	if (admin_reset_password(&c->adm, name, ADMIN_RESET_LINK, &r) < 0) {
		console_failed(c, "users");
		return;
	}
	v = tmpl_vars_new();
	tmpl_set(v, "reset_link", r.link);
	user_page(c, name, v);
	tmpl_vars_free(v);
	admin_reset_clear(&r);
}

void
console_user_factor_remove(struct console_req *c)
{
	const char *name = target(c), *id = console_field(c, "id");

	if (name == NULL)
		return;
	if (admin_factor_remove(&c->adm, name, id ? id : "") < 0)
		console_failed(c, "users");
	else
		console_done_at(c, "user", name, "console_done_factor_removed");
}

/* Only a certificate of the user named in the form is revoked from that user's page. */
void
console_user_cert_revoke(struct console_req *c)
{
	const char *name, *serial = console_field(c, "serial");
	struct ca_reply rp;
	struct devcert d;
	int mine, rc;

	if ((name = target(c)) == NULL)
		return;
	if (serial == NULL || admin_cert_get(&c->adm, serial, &d) < 0) {
		console_error(c, 404, "console_no_cert", "users");
		return;
	}
	mine = d.user && !strcasecmp(d.user, name);
	store_devcert_clear(&d);
	if (!mine) {
		console_error(c, 404, "console_no_cert", "users");
		return;
	}
	if ((rc = admin_cert_revoke(&c->adm, serial, NULL, &rp)) < 0) {
		console_failed(c, "users");
		return;
	}
	ca_reply_clear(&rp);
	console_done_at(c, "user", name, "console_done_cert_revoked");
}

static int
end_session(struct console_req *c, const char *name, const unsigned char hash[32])
{
	struct audit_entry ae;
	struct user u;
	int rc = store_user_get(c->idp->in.store, c->t->id, name, &u);

	if (rc != 1)
		return rc;
	admin_audit(&c->adm, &ae, "admin.user.session_end", "user", u.name, NULL);
	rc = logout_other(c->idp, c->t, &u, hash, &ae);
	store_user_clear(&u);
	return rc;
}

void
console_user_session_end(struct console_req *c)
{
	const char *name = console_name(c), *id = console_field(c, "id");
	unsigned char hash[32];
	size_t n;
	int rc = -2;

	if (name && id && strlen(id) == 64 && hex_decode(id, 64, hash, sizeof(hash), &n) == 0)
		rc = end_session(c, name, hash);
	if (rc == 1)
		console_done_at(c, "user", name, "console_done_session_ended");
	else
		console_error(c, rc == -1 ? 503 : 404, rc == -1 ? "error_server" :
		    "console_no_session", "users");
}
