/*
 * The admin API's device certificates: list (filters by user, status and expiry), one
 * certificate with its PEM, issue from a CSR or as a PKCS#12 file returned once, revoke,
 * the CRL, and the device CA's certificate.  Everything goes through admin_cert.h (the
 * CA's certificate admin_tenant.h), as the command line does; issuing and revoking reach
 * the daemon's ca process, which holds the keys and the cap.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "admin_cert.h"
#include "admin_tenant.h"
#include "api.h"
#include "buf.h"
#include "ca.h"
#include "casvc.h"
#include "clock.h"
#include "encode.h"
#include "form.h"
#include "http.h"
#include "pki.h"
#include "xmalloc.h"

/* A certificate as GET shows it (and as its ETag and the audit record see it). */
static json_t *
cert_json(const struct devcert *d, int64_t now)
{
	json_t *o = json_object();

	json_object_set_new(o, "serial", json_string(d->serial));
	json_object_set_new(o, "user", json_string(d->user ? d->user : ""));
	json_object_set_new(o, "label", json_string(d->label ? d->label : ""));
	json_object_set_new(o, "fingerprint", json_string(d->fingerprint ? d->fingerprint : ""));
	json_object_set_new(o, "issued", api_time(d->issued));
	json_object_set_new(o, "not_before", api_time(d->not_before));
	json_object_set_new(o, "not_after", api_time(d->not_after));
	json_object_set_new(o, "status", json_string(admin_cert_status_name(d, now)));
	json_object_set_new(o, "revoked_at", api_time(d->revoked ? d->revoked_at : 0));
	json_object_set_new(o, "revocation_reason", d->revoked ?
	    json_string(ca_reason_name((int)d->reason)) : json_null());
	json_object_set_new(o, "last_used", api_time(d->last_used));
	return o;
}

/* The certificate serial as JSON (with its PEM when pem is set), or NULL after answering. */
static json_t *
cert_get(struct api_call *c, const char *serial, int pem)
{
	struct devcert d;
	json_t *o;

	if (admin_cert_get(&c->adm, serial, &d) == -1) {
		if (c->adm.status == ADMIN_NOT_FOUND)
			api_not_found(c, "certificate");
		else
			api_admin_error(c);
		return NULL;
	}
	o = cert_json(&d, clock_now());
	if (pem && d.der) {
		char *p = pki_der_cert_pem(d.der, d.der_len);
		json_object_set_new(o, "certificate", json_string(p));
		free(p);
	}
	store_devcert_clear(&d);
	return o;
}

/* ---- GET certificates ---- */

struct found {
	char *serial;
	json_t *item;
};

struct found_list {
	struct found *v;
	size_t n;
	int64_t now;
};

static void
collect(const void *rec, void *arg)
{
	const struct devcert *d = rec;
	struct found_list *l = arg;

	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n].serial = xstrdup(d->serial);
	l->v[l->n].item = cert_json(d, l->now);
	l->n++;
}

static int
by_serial(const void *a, const void *b)
{
	return strcmp(((const struct found *)a)->serial, ((const struct found *)b)->serial);
}

/* The query's filters in f: 0, or -1 after answering 400. */
static int
list_filter(struct api_call *c, struct admin_cert_filter *f)
{
	const char *status = form_get(c->query, "status");
	const char *within = form_get(c->query, "expiring_within");

	f->user = form_get(c->query, "user");
	f->now = clock_now();
	if (status && (f->status = admin_cert_status_parse(status)) == ADMIN_CERT_ANY) {
		api_error(c, 400, "invalid_request", "status",
		    "status is active, revoked or expired");
		return -1;
	}
	if (within && (clock_parse_duration(within, &f->within) == -1 || f->within <= 0)) {
		api_error(c, 400, "invalid_request", "expiring_within",
		    "expiring_within takes a duration such as 30d");
		return -1;
	}
	return 0;
}

static void
certs_list(struct api_call *c)
{
	struct admin_cert_filter f = { 0 };
	struct found_list l = { 0 };
	struct api_page pg;

	if (list_filter(c, &f) == -1)
		return;
	l.now = f.now;
	if (admin_cert_list(&c->adm, &f, collect, &l) == -1)
		api_admin_error(c);
	else if (api_page_init(c, &pg) == 0) {
		if (l.n > 0)
			qsort(l.v, l.n, sizeof(*l.v), by_serial);
		for (size_t i = 0; i < l.n; i++) {
			api_page_add(&pg, l.v[i].serial, l.v[i].item);
			l.v[i].item = NULL;
		}
		api_page_reply(c, &pg);
	}
	for (size_t i = 0; i < l.n; i++) {
		free(l.v[i].serial);
		json_decref(l.v[i].item);
	}
	free(l.v);
}

/* ---- GET certificates/{serial} ---- */

static void
cert_show(struct api_call *c)
{
	json_t *o = cert_get(c, c->params[0], 1);

	if (o == NULL)
		return;
	api_set_etag(c, o);
	api_reply(c, 200, o);
}

/* ---- POST certificates ---- */

/* A PEM member (lines: api_get_str refuses the newlines), or NULL when absent. */
static int
get_pem(struct api_call *c, const char *field, size_t max, const char **out)
{
	json_t *v = c->body ? json_object_get(c->body, field) : NULL;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		api_error(c, 400, "invalid_request", field, "%s must be a PEM text of at most %zu "
		    "bytes", field, max);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

/* The body of an issue request in rq: 0, or -1 after answering 400. */
static int
issue_body(struct api_call *c, struct admin_cert_req *rq)
{
	static const char *const allowed[] = { "user", "label", "csr", "format", "password",
		"legacy", NULL };
	const char *format = NULL;
	int p12;

	if (api_only_fields(c, allowed) == -1 ||
	    api_get_str(c, "user", 1, 128, &rq->user) == -1 ||
	    api_get_str(c, "label", 1, 256, &rq->label) == -1 ||
	    api_get_str(c, "format", 0, 16, &format) == -1 ||
	    get_pem(c, "csr", 65536, &rq->csr) == -1 ||
	    api_get_str(c, "password", 0, 256, &rq->password) == -1 ||
	    api_get_bool(c, "legacy", 0, &rq->legacy) == -1)
		return -1;
	if (format && strcmp(format, "pem") && strcmp(format, "pkcs12")) {
		api_error(c, 400, "invalid_request", "format", "format is pem or pkcs12");
		return -1;
	}
	p12 = format && !strcmp(format, "pkcs12");
	if (p12 ? rq->csr != NULL : rq->csr == NULL) {
		api_error(c, 400, "invalid_request", "csr", p12 ? "a PKCS#12 file brings its own "
		    "key: no csr" : "csr (a PEM certificate request) is required, or format "
		    "pkcs12 with a password");
		return -1;
	}
	if (!p12 && (rq->password || json_object_get(c->body, "legacy"))) {
		api_error(c, 400, "invalid_request", rq->password ? "password" : "legacy",
		    "password and legacy are for format pkcs12");
		return -1;
	}
	return 0;
}

static void
cert_issue(struct api_call *c)
{
	struct admin_cert_req rq = { 0 };
	struct ca_reply rp;
	char *loc;
	json_t *o;
	int rc;

	if (issue_body(c, &rq) == -1)
		return;
	rc = admin_cert_issue(&c->adm, &rq, &rp);
	/* The password is in the parsed body until the call ends: wipe it now. */
	if (rq.password)
		explicit_bzero((char *)rq.password, strlen(rq.password));
	if (rc == -1) {
		api_admin_error(c);
		return;
	}
	if ((o = cert_get(c, rp.serial, 0)) != NULL) {
		api_audit_change(c, NULL, json_deep_copy(o));
		json_object_set_new(o, "certificate", json_string(rp.cert_pem));
		if (rp.p12) {
			char *b64 = b64_encode(rp.p12, rp.p12_len);
			json_object_set_new(o, "pkcs12", json_string_nocheck(b64));
			freezero_str(b64);
		}
		loc = xasprintf("certificates/%s", rp.serial);
		api_created(c, loc, o);
		free(loc);
	}
	if (rp.p12)
		explicit_bzero(rp.p12, rp.p12_len);
	ca_reply_clear(&rp);
}

/* ---- POST certificates/{serial}/revoke ---- */

/*
 * Revoking a revoked certificate answers 200 with it as it is (the first revocation's
 * time and reason stand): a retry after a lost answer is not an error.
 */
static void
cert_revoke(struct api_call *c)
{
	static const char *const allowed[] = { "reason", NULL };
	const char *reason = NULL;
	struct ca_reply rp;
	json_t *before;
	int rc;

	if (api_only_fields(c, allowed) == -1 ||
	    api_get_str(c, "reason", 0, 64, &reason) == -1)
		return;
	if ((before = cert_get(c, c->params[0], 0)) == NULL)
		return;
	/* 1 revoked now, 2 already revoked: both answer the certificate as it is */
	if ((rc = admin_cert_revoke(&c->adm, c->params[0], reason, &rp)) != -1)
		ca_reply_clear(&rp);
	api_updated(c, before, rc < 0 ? -1 : 0, rc < 0 ? NULL : cert_get(c, c->params[0], 0));
}

/* ---- GET certificates/crl ---- */

struct crl_body {
	unsigned char *der;
	size_t len, off;
};

static long
crl_more(void *arg, char *buf, size_t max)
{
	struct crl_body *b = arg;
	size_t n = b->len - b->off < max ? b->len - b->off : max;

	memcpy(buf, b->der + b->off, n);
	b->off += n;
	return (long)n;
}

static void
crl_free(void *arg)
{
	struct crl_body *b = arg;

	free(b->der);
	free(b);
}

static void
cert_crl(struct api_call *c)
{
	struct ca_reply rp;
	struct crl_body *b;

	if (admin_cert_crl(&c->adm, &rp) == -1) {
		api_admin_error(c);
		return;
	}
	b = xcalloc(1, sizeof(*b));
	b->der = rp.crl;
	b->len = rp.crl_len;
	rp.crl = NULL;
	ca_reply_clear(&rp);
	api_stream(c, 200, "application/pkix-crl", crl_more, b, crl_free);
}

/* ---- GET certificates/ca ---- */

/* The device CA's certificate as `sekisho cert ca` writes it: PEM, not JSON. */
static void
cert_ca(struct api_call *c)
{
	char *pem;

	if (admin_tenant_ca_pem(&c->adm, &pem) == -1) {
		api_admin_error(c);
		return;
	}
	c->answered = 1;
	http_status(c->req, 200);
	http_body_take(c->req, "application/x-pem-file", pem, strlen(pem));
}

const struct api_route api_cert_routes[] = {
	{ "GET", "certificates", APIKEY_SCOPE_READ, certs_list },
	{ "POST", "certificates", APIKEY_SCOPE_CERTS, cert_issue },
	{ "GET", "certificates/ca", APIKEY_SCOPE_READ, cert_ca },
	{ "GET", "certificates/crl", APIKEY_SCOPE_READ, cert_crl },
	{ "GET", "certificates/{serial}", APIKEY_SCOPE_READ, cert_show },
	{ "POST", "certificates/{serial}/revoke", APIKEY_SCOPE_CERTS, cert_revoke },
	{ NULL, NULL, 0, NULL }
};
