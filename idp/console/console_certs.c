/*
 * Device certificates in the console: the list (a user's, or those expiring within a
 * time), revoke, the CA certificate and CRL links, and issuing one for a user as a
 * PKCS#12 file (label, password) sent once as a download, through admin_cert_*.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_cert.h"
#include "casvc.h"
#include "clock.h"
#include "console_int.h"
#include "http.h"
#include "xmalloc.h"

#define LIST_MAX 500		/* certificates one page shows */

struct listing {
	struct tmpl_vars *v;
	int64_t now;
	size_t n;
	const char *zone;
};

static void
cert_row(const void *rec, void *arg)
{
	const struct devcert *d = rec;
	struct listing *l = arg;
	struct tmpl_vars *item;
	const char *status = admin_cert_status_name(d, l->now);
	char when[TZ_TIME_LEN];

	if (l->n++ >= LIST_MAX) {
		tmpl_set(l->v, "truncated", "1");
		return;
	}
	item = tmpl_add_item(l->v, "certs");
	tmpl_set(item, "serial", d->serial);
	tmpl_set(item, "owner", d->user);
	tmpl_set(item, "label", d->label);
	tmpl_set(item, "status", status);
	tmpl_set(item, "active", !strcmp(status, "active") ? "1" : NULL);
	tz_format(l->zone, (int64_t)d->not_after, when);
	tmpl_set(item, "not_after", when);
}

/* The query's filters into f: 0, or -1 after admin_fail. */
static int
read_filter(struct console_req *c, struct admin_cert_filter *f)
{
	const char *user = console_param(c, "user"), *within = console_param(c, "within");

	memset(f, 0, sizeof(*f));
	f->now = clock_now();
	f->user = user && *user ? user : NULL;
	if (within && *within && (clock_parse_duration(within, &f->within) < 0 ||
	    f->within <= 0))
		return admin_fail(&c->adm, ADMIN_INVALID, "within", "within takes a duration "
		    "such as 30d");
	return 0;
}

void
console_certs_get(struct console_req *c)
{
	struct tmpl_vars *v = tmpl_vars_new();
	struct listing l = { v, clock_now(), 0, c->zone };
	struct admin_cert_filter f;
	char *ca = xasprintf("%scerts/ca.pem", c->t->path);
	char *crl = xasprintf("%scerts/crl", c->t->path);
	int status = 200;

	tmpl_set(v, "title", page_msg(c->idp->pages, c->lang, "console_certs"));
	tmpl_set(v, "f_user", console_param(c, "user"));
	tmpl_set(v, "f_within", console_param(c, "within"));
	tmpl_set(v, "ca_url", ca);
	tmpl_set(v, "crl_url", crl);
	if (read_filter(c, &f) < 0 || admin_cert_list(&c->adm, &f, cert_row, &l) < 0) {
		status = c->adm.status == ADMIN_NOT_FOUND ? 404 : c->adm.status == ADMIN_INVALID ?
		    400 : 503;
		tmpl_set(v, "error", c->adm.msg);
	} else {
		tmpl_set(v, "listed", "1");
	}
	console_render(c, status, "console_certs.html", v);
	tmpl_vars_free(v);
	free(ca);
	free(crl);
}

/* The file's name: the label's letters and digits (others as '-'), ".p12". */
static char *
p12_disposition(const char *user, const char *label)
{
	char *name = xasprintf("%s-%s", user, label);

	for (char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			*p = '-';
	char *d = xasprintf("attachment; filename=\"%.64s.p12\"", name);
	free(name);
	return d;
}

void
console_cert_issue(struct console_req *c)
{
	struct admin_cert_req rq = { .user = console_field(c, "user"),
		.label = console_field(c, "label"), .password = console_field(c, "password") };
	struct ca_reply rp;
	char *disp;

	if (rq.user == NULL || !*rq.user) {
		admin_fail(&c->adm, ADMIN_INVALID, "user", "a certificate needs a user");
		console_failed(c, "certs");
		return;
	}
	if (rq.label == NULL || rq.password == NULL || admin_cert_issue(&c->adm, &rq, &rp) < 0) {
		if (rq.label == NULL || rq.password == NULL)
			admin_fail(&c->adm, ADMIN_INVALID, rq.label ? "password" : "label",
			    "a certificate needs a label and a password");
		console_failed(c, "certs");
		return;
	}
	/* once: this answer only, never stored by a cache */
	disp = p12_disposition(rq.user, rq.label);
	http_add_header(c->req, "Cache-Control", "no-store");
	http_add_header(c->req, "Content-Disposition", disp);
	http_status(c->req, 200);
	http_body_copy(c->req, "application/x-pkcs12", rp.p12, rp.p12_len);
	explicit_bzero(rp.p12, rp.p12_len);
	ca_reply_clear(&rp);
	free(disp);
}

void
console_cert_revoke(struct console_req *c)
{
	const char *serial = console_field(c, "serial");
	struct ca_reply rp;

	if (serial == NULL || admin_cert_revoke(&c->adm, serial, NULL, &rp) < 0) {
		if (serial == NULL)
			admin_fail(&c->adm, ADMIN_NOT_FOUND, "serial", "no such certificate");
		console_failed(c, "certs");
		return;
	}
	ca_reply_clear(&rp);
	console_done(c, "certs", "console_done_cert_revoked");
}
