/*
 * Device certificates of a tenant for the sekisho command line and the admin API: the
 * checks on a request, issuing and revoking through the ca process (which holds the CA
 * keys and enforces the cap of STORE_CERT_CAP active certificates per user ID as the
 * record commits), the CRL, and listing with the filters both offer.
 */
#ifndef SEKISHO_ADMIN_CERT_H
#define SEKISHO_ADMIN_CERT_H

#include <stdint.h>

#include "admin.h"
#include "store.h"

struct ca_reply;

struct admin_cert_req {
	const char *user;
	const char *label;
	const char *csr;	/* a PEM request; NULL: a new key, in a PKCS#12 file */
	const char *password;	/* the PKCS#12 file's (never stored or logged) */
	int legacy;		/* PKCS#12 with 3DES and a SHA-1 MAC, for old importers */
};

/* The checks of one input ("label", "password"): 0, or -1 after admin_fail (400). */
int admin_cert_check_label(struct admin *a, const char *label);
int admin_cert_check_password(struct admin *a, const char *password);

/*
 * Issue a certificate: the request's checks, the user (404) and the CSR, then the ca
 * process.  0 with rp (serial, fingerprint, validity, cert_pem, and p12 without a CSR;
 * clear it with ca_reply_clear), or -1 after admin_fail: ADMIN_LIMIT for the cap.
 */
int admin_cert_issue(struct admin *a, const struct admin_cert_req *rq, struct ca_reply *rp);

/*
 * Revoke serial (hex, either case, colons allowed) for reason (a CRLReason name; NULL:
 * unspecified); the CRL is rebuilt at once.  1 revoked now, 2 it was revoked already
 * (rp->user is the owner, rp->crl_number the CRL), or -1 after admin_fail.
 */
int admin_cert_revoke(struct admin *a, const char *serial, const char *reason,
    struct ca_reply *rp);

/* The tenant's current CRL in rp (crl, crl_len, crl_number): 0, or -1 after admin_fail. */
int admin_cert_crl(struct admin *a, struct ca_reply *rp);

/* One certificate (clear with store_devcert_clear): 0, or -1 after admin_fail (404). */
int admin_cert_get(struct admin *a, const char *serial, struct devcert *d);

enum admin_cert_status {
	ADMIN_CERT_ANY = 0,
	ADMIN_CERT_ACTIVE,
	ADMIN_CERT_REVOKED,
	ADMIN_CERT_EXPIRED,
};

/* "active", "revoked" or "expired" at now. */
const char *admin_cert_status_name(const struct devcert *d, int64_t now);
/* The status of a name (ADMIN_CERT_ANY: not one), for a filter. */
enum admin_cert_status admin_cert_status_parse(const char *name);

struct admin_cert_filter {
	const char *user;		/* the certificates of this user (by name), or NULL */
	enum admin_cert_status status;
	int64_t now;
	int64_t within;		/* > 0: active ones whose notAfter is at most this far from now */
};

/*
 * The certificates that pass f, to cb (struct devcert), oldest first: 0, or -1 after
 * admin_fail (an unknown user is 404).
 */
int admin_cert_list(struct admin *a, const struct admin_cert_filter *f, store_each_fn cb,
    void *arg);

#endif
