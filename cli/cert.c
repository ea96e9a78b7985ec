/*
 * sekisho cert: device certificates through the ca process.  The checks and the calls
 * are the admin layer's (admin/cert.c); this reads and writes the files and prints.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin_cert.h"
#include "admin_tenant.h"
#include "ca.h"
#include "casvc.h"
#include "cli.h"
#include "clock.h"
#include "store.h"
#include "xmalloc.h"

/*
 * A file written whole or not at all: a temporary file beside it, renamed over the path
 * at the end when replace is set, otherwise linked to it, which fails if something
 * appeared there meanwhile (so a race never overwrites a file either).
 */
struct outfile {
	char *path;
	char *tmp;
	int fd;
	int replace;
};

static int
out_open(struct outfile *o, const char *path, int replace)
{
	o->replace = replace;
	o->path = xstrdup(path);
	o->tmp = xasprintf("%s.tmpXXXXXX", path);
	if ((o->fd = mkstemp(o->tmp)) == -1) {
		fail("%s: %s", path, strerror(errno));
		free(o->path);
		free(o->tmp);
		return -1;
	}
	return 0;
}

static int
out_commit(struct outfile *o, const void *p, size_t n, mode_t mode)
{
	const char *q = p;
	int rc = 0;

	while (n > 0 && rc == 0) {
		ssize_t w = write(o->fd, q, n);
		if (w <= 0)
			rc = -1;
		else
			q += w, n -= (size_t)w;
	}
	if (rc == 0 && (fchmod(o->fd, mode) == -1 || fsync(o->fd) == -1))
		rc = -1;
	if (close(o->fd) == -1)
		rc = -1;
	if (rc == 0 && o->replace && rename(o->tmp, o->path) == -1)
		rc = -1;
	if (rc == 0 && !o->replace && link(o->tmp, o->path) == -1)
		rc = -1;
	if (rc == -1)
		fail("%s: %s", o->path, strerror(errno));
	if (rc == -1 || !o->replace)
		unlink(o->tmp);
	free(o->path);
	free(o->tmp);
	return rc;
}

static void
out_abort(struct outfile *o)
{
	close(o->fd);
	unlink(o->tmp);
	free(o->path);
	free(o->tmp);
}

static void
print_cert(const void *rec, void *arg)
{
	const struct devcert *d = rec;
	const int64_t *now = arg;
	char issued[21], expires[21], used[21] = "-";

	clock_iso8601((int64_t)d->issued, issued);
	clock_iso8601((int64_t)d->not_after, expires);
	if (d->last_used)
		clock_iso8601((int64_t)d->last_used, used);
	printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d->serial, d->user, d->label,
	    admin_cert_status_name(d, *now), issued, expires, used);
}

/*
 * Refuse an --out that exists unless --force, before anything is issued: a certificate
 * whose file is lost still counts against the user's cap.
 */
static int
out_free(const struct cli *c, const char *out)
{
	struct stat sb;

	if (flag(c, "--force") || lstat(out, &sb) == -1)
		return 1;
	fail("%s exists; nothing was issued (give --force to replace it)", out);
	return 0;
}

/* The request's key material: a CSR, or the PKCS#12 password; 0 or an exit status. */
static int
issue_input(struct cli *c, char **csr_r, char **pw_r)
{
	const char *csr_path = opt(c, "--csr"), *err;
	size_t len;
	int rc;

	*csr_r = *pw_r = NULL;
	if (csr_path) {
		if (flag(c, "--password-stdin") || flag(c, "--legacy"))
			return usage_fail(c, "--csr returns a certificate only: no --password-stdin "
			    "or --legacy");
		if ((*csr_r = slurp(csr_path, 65536, &len, &err)) == NULL)
			return fail("%s: %s", csr_path, err);
		return 0;
	}
	if ((rc = prompt_password(c, 1, "PKCS#12 password", pw_r)) != 0)
		return rc;
	if (admin_cert_check_password(&c->adm, *pw_r) == -1) {
		freezero_str(*pw_r);
		*pw_r = NULL;
		return fail("%s", c->adm.msg);
	}
	return 0;
}

/* Write what the ca process issued to --out; 0 or an exit status. */
static int
issue_write(const struct cli *c, struct outfile *of, const struct ca_reply *rp, int csr)
{
	char expires[21];

	if ((csr ? out_commit(of, rp->cert_pem, strlen(rp->cert_pem), 0644) :
	    out_commit(of, rp->p12, rp->p12_len, 0600)) == -1) {
		fprintf(stderr, "sekisho: certificate %s was issued but not written; revoke it "
		    "with: sekisho cert revoke %s\n", rp->serial, rp->serial);
		return EXIT_FAIL;
	}
	clock_iso8601((int64_t)rp->not_after, expires);
	printf("certificate %s issued to %s (%s), valid until %s, written to %s\n", rp->serial,
	    arg(c, 0), opt(c, "--label"), expires, opt(c, "--out"));
	printf("serial=%s\nsha256=%s\n", rp->serial, rp->fingerprint);
	return 0;
}

int
cmd_cert_issue(struct cli *c)
{
	const char *user = arg(c, 0), *label = opt(c, "--label"), *out = opt(c, "--out");
	struct admin_cert_req rq = { .user = user, .label = label };
	struct ca_reply rp = { 0 };
	struct outfile of;
	char *csr = NULL, *pw = NULL;
	int rc;

	if (admin_cert_check_label(&c->adm, label) == -1)
		return fail("%s", c->adm.msg);
	if (!out_free(c, out))
		return EXIT_FAIL;
	if ((rc = issue_input(c, &csr, &pw)) != 0)
		return rc;
	rc = EXIT_FAIL;
	if (out_open(&of, out, flag(c, "--force")) == -1)
		goto done;
	rq.csr = csr;
	rq.password = pw;
	rq.legacy = flag(c, "--legacy");
	if (admin_cert_issue(&c->adm, &rq, &rp) == -1) {
		out_abort(&of);
		fail("%s", c->adm.msg);
		rc = c->adm.status == ADMIN_LIMIT ? EXIT_LIMIT : EXIT_FAIL;
	} else {
		rc = issue_write(c, &of, &rp, csr != NULL);
	}
done:
	freezero_str(pw);
	free(csr);
	ca_reply_clear(&rp);
	return rc;
}

int
cmd_cert_list(struct cli *c)
{
	const char *within = opt(c, "--expiring-within");
	struct admin_cert_filter f = { .user = arg(c, 0), .now = clock_now() };

	if (within && (clock_parse_duration(within, &f.within) == -1 || f.within <= 0))
		return usage_fail(c, "--expiring-within takes a duration such as 30d");
	if (admin_cert_list(&c->adm, &f, print_cert, &f.now) == -1)
		return c->adm.status == ADMIN_NOT_FOUND ? fail("%s", c->adm.msg) : EXIT_FAIL;
	return 0;
}

int
cmd_cert_show(struct cli *c)
{
	struct devcert d;
	char serial[48], t[4][21];

	if (ca_serial_normalise(arg(c, 0), serial) == -1)
		return fail("cert show takes a serial (hex, as openssl x509 -serial prints it)");
	if (admin_cert_get(&c->adm, serial, &d) == -1)
		return fail("%s", c->adm.msg);
	clock_iso8601((int64_t)d.issued, t[0]);
	clock_iso8601((int64_t)d.not_before, t[1]);
	clock_iso8601((int64_t)d.not_after, t[2]);
	snprintf(t[3], sizeof(t[3]), "-");
	if (d.last_used)
		clock_iso8601((int64_t)d.last_used, t[3]);
	printf("serial=%s\nuser=%s\nlabel=%s\nstatus=%s\nsha256=%s\nissued=%s\n"
	    "not_before=%s\nnot_after=%s\nlast_used=%s\n", d.serial, d.user, d.label,
	    admin_cert_status_name(&d, clock_now()), d.fingerprint, t[0], t[1], t[2], t[3]);
	if (d.revoked) {
		clock_iso8601((int64_t)d.revoked_at, t[0]);
		printf("revoked=%s\nreason=%s\n", t[0], ca_reason_name((int)d.reason));
	}
	store_devcert_clear(&d);
	return 0;
}

int
cmd_cert_revoke(struct cli *c)
{
	const char *reason = opt(c, "--reason");
	struct ca_reply rp;
	char serial[48];
	int rc;

	if (ca_serial_normalise(arg(c, 0), serial) == -1)
		return fail("cert revoke takes a serial (hex, as openssl x509 -serial prints it)");
	if ((rc = admin_cert_revoke(&c->adm, serial, reason, &rp)) == -1)
		return fail("%s", c->adm.msg);
	printf(rc == 2 ? "certificate %s was already revoked\n" :
	    "certificate %s of %s revoked (%s); CRL %llu published\n", rp.serial,
	    rp.user ? rp.user : "?", reason ? reason : "unspecified",
	    (unsigned long long)rp.crl_number);
	ca_reply_clear(&rp);
	return 0;
}

int
cmd_cert_crl(struct cli *c)
{
	struct ca_reply rp;
	struct outfile of;
	int rc = 0;

	if (out_open(&of, opt(c, "--out"), 1) == -1)
		return EXIT_FAIL;
	if (admin_cert_crl(&c->adm, &rp) == -1) {
		out_abort(&of);
		return fail("%s", c->adm.msg);
	}
	if (out_commit(&of, rp.crl, rp.crl_len, 0644) == 0)
		printf("CRL %llu of tenant %s written to %s\n", (unsigned long long)rp.crl_number,
		    c->tenant, opt(c, "--out"));
	else
		rc = EXIT_FAIL;
	ca_reply_clear(&rp);
	return rc;
}

/* The CA certificate is public: read from the store, no ca process. */
int
cmd_cert_ca(struct cli *c)
{
	struct outfile of;
	char *pem = NULL;
	int rc = EXIT_FAIL;

	if (admin_tenant_ca_pem(&c->adm, &pem) == -1)
		return fail("%s", c->adm.msg);
	if (out_open(&of, opt(c, "--out"), 1) == 0 &&
	    out_commit(&of, pem, strlen(pem), 0644) == 0) {
		printf("CA certificate of tenant %s written to %s\n", c->tenant, opt(c, "--out"));
		rc = 0;
	}
	free(pem);
	return rc;
}
