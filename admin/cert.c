/*
 * Device certificates (admin_cert.h): what a request must satisfy before the ca process
 * sees it, and what its answers mean for the caller (the cap is ADMIN_LIMIT).  The ca
 * process checks everything again: it is the one that holds the keys.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "admin_cert.h"
#include "ca.h"
#include "casvc.h"

int
admin_cert_check_label(struct admin *a, const char *label)
{
	const char *err;

	if (ca_check_label(label, &err) == -1)
		return admin_fail(a, ADMIN_INVALID, "label", "%s", err);
	return 0;
}

int
admin_cert_check_password(struct admin *a, const char *password)
{
	const char *err;

	if (ca_check_password(password, &err) == -1)
		return admin_fail(a, ADMIN_INVALID, "password", "%s", err);
	return 0;
}

/* The user exists in the tenant and may get a certificate. */
static int
check_user(struct admin *a, const char *name)
{
	struct user u = { 0 };
	int rc, disabled;

	if (name == NULL || *name == '\0')
		return admin_fail(a, ADMIN_INVALID, "user", "cert issue: a user is required");
	rc = store_user_get(a->in->store, a->tenant, name, &u);
	disabled = rc == 1 && u.disabled;
	store_user_clear(&u);
	if (rc == -1)
		return admin_fail(a, ADMIN_FAILED, NULL, "cert issue %s: storage error", name);
	if (rc != 1)
		return admin_fail(a, ADMIN_NOT_FOUND, "user", "cert issue %s: no such user", name);
	if (disabled)
		return admin_fail(a, ADMIN_CONFLICT, "user", "cert issue %s: the user is disabled",
		    name);
	return 0;
}

/* The CSR parses, its signature holds and its key is one we sign (as the ca process checks). */
static int
check_csr(struct admin *a, const char *user, const char *csr)
{
	const char *err;
	EVP_PKEY *key = ca_csr_public_key(csr, strlen(csr), &err);

	if (key == NULL)
		return admin_fail(a, ADMIN_INVALID, "csr", "cert issue %s: %s", user, err);
	EVP_PKEY_free(key);
	return 0;
}

int
admin_cert_issue(struct admin *a, const struct admin_cert_req *in, struct ca_reply *rp)
{
	struct ca_request rq = { .op = CA_OP_ISSUE };

	memset(rp, 0, sizeof(*rp));
	if (admin_cert_check_label(a, in->label) == -1 ||
	    (in->csr == NULL && admin_cert_check_password(a, in->password) == -1) ||
	    check_user(a, in->user) == -1 || (in->csr && check_csr(a, in->user, in->csr) == -1))
		return -1;
	rq.tenant = (char *)a->tenant;
	rq.user = (char *)in->user;
	rq.label = (char *)in->label;
	rq.csr = (char *)in->csr;
	rq.password = in->csr ? NULL : (char *)in->password;
	rq.legacy = in->csr ? 0 : (uint64_t)!!in->legacy;
	if (admin_ca_call(a, &rq, rp) == -1)
		return -1;
	if (!rp->ok) {
		admin_fail(a, rp->limit ? ADMIN_LIMIT : ADMIN_FAILED, rp->limit ? "user" : NULL,
		    "cert issue %s: %s", in->user, rp->error ? rp->error : "refused");
		ca_reply_clear(rp);
		return -1;
	}
	return 0;
}

int
admin_cert_revoke(struct admin *a, const char *serial, const char *reason,
    struct ca_reply *rp)
{
	struct ca_request rq = { .op = CA_OP_REVOKE };
	struct devcert d = { 0 };
	char s[48];
	int code = reason ? ca_reason_code(reason) : 0, found;

	memset(rp, 0, sizeof(*rp));
	if (code < 0)
		return admin_fail(a, ADMIN_INVALID, "reason", "cert revoke: unknown revocation "
		    "reason %s (unspecified, keyCompromise, affiliationChanged, superseded, "
		    "cessationOfOperation or privilegeWithdrawn)", reason);
	found = serial && ca_serial_normalise(serial, s) == 0 &&
	    store_cert_get(a->in->store, a->tenant, s, &d) == 1;
	store_devcert_clear(&d);
	if (!found)
		return admin_fail(a, ADMIN_NOT_FOUND, "serial",
		    "cert revoke: no certificate with that serial");
	rq.tenant = (char *)a->tenant;
	rq.serial = s;
	rq.reason = (uint64_t)code;
	if (admin_ca_call(a, &rq, rp) == -1)
		return -1;
	if (!rp->ok) {
		admin_fail(a, ADMIN_FAILED, NULL, "cert revoke: %s",
		    rp->error ? rp->error : "failed");
		ca_reply_clear(rp);
		return -1;
	}
	return rp->status == 2 ? 2 : 1;
}

int
admin_cert_crl(struct admin *a, struct ca_reply *rp)
{
	struct ca_request rq = { .op = CA_OP_CRL };

	memset(rp, 0, sizeof(*rp));
	rq.tenant = (char *)a->tenant;
	if (admin_ca_call(a, &rq, rp) == -1)
		return -1;
	if (!rp->ok) {
		admin_fail(a, ADMIN_FAILED, NULL, "cert crl: %s", rp->error ? rp->error : "failed");
		ca_reply_clear(rp);
		return -1;
	}
	return 0;
}

int
admin_cert_get(struct admin *a, const char *serial, struct devcert *d)
{
	char s[48];
	int rc;

	memset(d, 0, sizeof(*d));
	if (serial == NULL || ca_serial_normalise(serial, s) == -1)
		return admin_fail(a, ADMIN_NOT_FOUND, "serial", "certificate %s: no such certificate",
		    serial ? serial : "");
	if ((rc = store_cert_get(a->in->store, a->tenant, s, d)) == 1)
		return 0;
	store_devcert_clear(d);
	if (rc == -1)
		return admin_fail(a, ADMIN_FAILED, NULL, "certificate %s: storage error", s);
	return admin_fail(a, ADMIN_NOT_FOUND, "serial", "certificate %s: no such certificate", s);
}

static const char *const status_names[] = { NULL, "active", "revoked", "expired" };

const char *
admin_cert_status_name(const struct devcert *d, int64_t now)
{
	return status_names[d->revoked ? ADMIN_CERT_REVOKED : (int64_t)d->not_after <= now ?
	    ADMIN_CERT_EXPIRED : ADMIN_CERT_ACTIVE];
}

enum admin_cert_status
admin_cert_status_parse(const char *name)
{
	for (int i = ADMIN_CERT_ACTIVE; i <= ADMIN_CERT_EXPIRED; i++)
		if (name && !strcmp(name, status_names[i]))
			return (enum admin_cert_status)i;
	return ADMIN_CERT_ANY;
}

struct list_ctx {
	const struct admin_cert_filter *f;
	store_each_fn cb;
	void *arg;
};

static void
list_cb(const void *rec, void *arg)
{
	const struct devcert *d = rec;
	struct list_ctx *l = arg;
	const struct admin_cert_filter *f = l->f;
	enum admin_cert_status st = admin_cert_status_parse(admin_cert_status_name(d, f->now));

	if (f->status != ADMIN_CERT_ANY && st != f->status)
		return;
	if (f->within > 0 && (st != ADMIN_CERT_ACTIVE ||
	    (int64_t)d->not_after > f->now + f->within))
		return;
	l->cb(rec, l->arg);
}

int
admin_cert_list(struct admin *a, const struct admin_cert_filter *f, store_each_fn cb,
    void *arg)
{
	struct list_ctx l = { .f = f, .cb = cb, .arg = arg };
	struct user u = { 0 };
	int rc;

	if (f->user && (rc = store_user_get(a->in->store, a->tenant, f->user, &u)) != 1) {
		store_user_clear(&u);
		if (rc == -1)
			return admin_fail(a, ADMIN_FAILED, NULL, "storage error");
		return admin_fail(a, ADMIN_NOT_FOUND, "user", "user %s: no such user", f->user);
	}
	rc = store_cert_list(a->in->store, a->tenant, u.id, list_cb, &l);
	store_user_clear(&u);
	if (rc < 0)
		return admin_fail(a, ADMIN_FAILED, NULL, "storage error");
	return 0;
}
