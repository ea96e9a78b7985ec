/*
 * Device certificates in the console: the list (a user's, or those expiring within a
 * time) in pages by serial as the API's list pages, revoke, the CA certificate and CRL
 * links, and issuing one for a user as a PKCS#12 file (label, password) sent once as a
 * download, through admin_cert_*.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_cert.h"
#include "casvc.h"
#include "clock.h"
#include "console_int.h"
#include "encode.h"
#include "http.h"
#include "xmalloc.h"

#define PAGE_SIZE 50		/* certificates one page shows */
#define SERIAL_MAX 64		/* hex digits of a serial the cursor may name */

struct row {
	char *serial, *owner, *label;
	const char *status;
	int64_t not_after;
};

/* The page: the PAGE_SIZE + 1 smallest serials after the cursor, in order. */
struct listing {
	const char *after;	/* the cursor: the last serial of the page before, or NULL */
	int64_t now;
	size_t n;
	struct row rows[PAGE_SIZE + 1];
};

static void
row_free(struct row *r)
{
	free(r->serial);
	free(r->owner);
	free(r->label);
}

static void
cert_row(const void *rec, void *arg)
{
	const struct devcert *d = rec;
	struct listing *l = arg;
	size_t i;

	if ((l->after && strcmp(d->serial, l->after) <= 0) || (l->n == PAGE_SIZE + 1 &&
	    strcmp(d->serial, l->rows[PAGE_SIZE].serial) >= 0))
		return;
	if (l->n == PAGE_SIZE + 1)
		row_free(&l->rows[--l->n]);
	for (i = l->n; i > 0 && strcmp(l->rows[i - 1].serial, d->serial) > 0; i--)
		l->rows[i] = l->rows[i - 1];
	l->rows[i] = (struct row){ xstrdup(d->serial), xstrdup(d->user), xstrdup(d->label),
		admin_cert_status_name(d, l->now), (int64_t)d->not_after };
	l->n++;
}

/* ?user=&within=&after=SERIAL: the same filters, the page after serial. */
static void
next_link(struct console_req *c, struct tmpl_vars *v, const char *serial)
{
	const char *names[] = { "user", "within" };
	char *base = console_url(c, "certs"), *url;
	struct buf b;

	buf_init(&b, 0);
	buf_printf(&b, "%s?", base);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *p = console_param(c, names[i]);
		if (p && *p) {
			char *enc = url_encode(p);
			buf_printf(&b, "%s=%s&", names[i], enc);
			free(enc);
		}
	}
	buf_printf(&b, "after=%s", serial);
	url = buf_steal(&b, NULL);
	tmpl_set(v, "next_url", url);
	free(url);
	free(base);
}

/* The page's rows into v, and the link to the next page when there is one. */
static void
show_rows(struct console_req *c, struct tmpl_vars *v, struct listing *l)
{
	char when[TZ_TIME_LEN];

	for (size_t i = 0; i < l->n && i < PAGE_SIZE; i++) {
		struct tmpl_vars *item = tmpl_add_item(v, "certs");
		tmpl_set(item, "serial", l->rows[i].serial);
		tmpl_set(item, "owner", l->rows[i].owner);
		tmpl_set(item, "label", l->rows[i].label);
		tmpl_set(item, "status", l->rows[i].status);
		tmpl_set(item, "active", !strcmp(l->rows[i].status, "active") ? "1" : NULL);
		tz_format(c->zone, l->rows[i].not_after, when);
		tmpl_set(item, "not_after", when);
	}
	if (l->n > PAGE_SIZE)
		next_link(c, v, l->rows[PAGE_SIZE - 1].serial);
}

/* The query's filters into f and cursor into l: 0, or -1 after admin_fail. */
static int
read_filter(struct console_req *c, struct admin_cert_filter *f, struct listing *l)
{
	const char *user = console_param(c, "user"), *within = console_param(c, "within");
	const char *after = console_param(c, "after");

	if (after && (!*after || strlen(after) > SERIAL_MAX ||
	    strspn(after, "0123456789ABCDEF") != strlen(after)))
		return admin_fail(&c->adm, ADMIN_INVALID, "after", "after takes the serial "
		    "the page before ended with");
	l->after = after;
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
	struct listing *l = xcalloc(1, sizeof(*l));
	struct admin_cert_filter f;
	char *ca = xasprintf("%scerts/ca.pem", c->t->path);
	char *crl = xasprintf("%scerts/crl", c->t->path);
	int status = 200;

	tmpl_set(v, "title", page_msg(c->idp->pages, c->lang, "console_certs"));
	tmpl_set(v, "f_user", console_param(c, "user"));
	tmpl_set(v, "f_within", console_param(c, "within"));
	tmpl_set(v, "ca_url", ca);
	tmpl_set(v, "crl_url", crl);
	l->now = clock_now();
	if (read_filter(c, &f, l) < 0 || admin_cert_list(&c->adm, &f, cert_row, l) < 0) {
		status = c->adm.status == ADMIN_NOT_FOUND ? 404 : c->adm.status == ADMIN_INVALID ?
		    400 : 503;
		tmpl_set(v, "error", c->adm.msg);
	} else {
		show_rows(c, v, l);
		tmpl_set(v, "listed", "1");
	}
	console_render(c, status, "console_certs.html", v);
	tmpl_vars_free(v);
	for (size_t i = 0; i < l->n; i++)
		row_free(&l->rows[i]);
	free(l);
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
