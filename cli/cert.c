/*
 * sekisho cert and sekisho policy: device certificates through the ca process, and the
 * device-required policy flags.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca.h"
#include "casvc.h"
#include "cli.h"
#include "clock.h"
#include "store.h"
#include "xmalloc.h"

/* A file written whole or not at all: a temporary file beside it, renamed at the end. */
struct outfile {
	char *path;
	char *tmp;
	int fd;
};

static int
out_open(struct outfile *o, const char *path)
{
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
	if (rc == 0 && rename(o->tmp, o->path) == -1)
		rc = -1;
	if (rc == -1) {
		fail("%s: %s", o->path, strerror(errno));
		unlink(o->tmp);
	}
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

static const char *
cert_status(const struct devcert *d, int64_t now)
{
	return d->revoked ? "revoked" : (int64_t)d->not_after <= now ? "expired" : "active";
}

struct cert_print {
	int64_t now;
	int64_t until;		/* --expiring-within: active ones expiring before this */
	int count;
};

static void
print_cert(const void *rec, void *arg)
{
	const struct devcert *d = rec;
	struct cert_print *cp = arg;
	char issued[21], expires[21], used[21] = "-";

	if (cp->until && (d->revoked || (int64_t)d->not_after <= cp->now ||
	    (int64_t)d->not_after > cp->until))
		return;
	clock_iso8601((int64_t)d->issued, issued);
	clock_iso8601((int64_t)d->not_after, expires);
	if (d->last_used)
		clock_iso8601((int64_t)d->last_used, used);
	printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d->serial, d->user, d->label,
	    cert_status(d, cp->now), issued, expires, used);
	cp->count++;
}

static int
cert_issue(struct cli *c, const char *const *v)
{
	const char *user = arg(c, 0, v), *label = opt(c, "--label"), *out = opt(c, "--out");
	const char *csr_path = opt(c, "--csr"), *err;
	struct ca_request rq = { .op = CA_OP_ISSUE };
	struct ca_reply rp = { 0 };
	struct outfile of;
	char *csr = NULL, *pw = NULL, expires[21];
	size_t len;
	int rc = 1;

	if (user == NULL || label == NULL || out == NULL)
		return fail("cert issue needs USER, --label and --out");
	if (ca_check_label(label, &err) == -1)
		return fail("%s", err);
	if (csr_path) {
		if (flag(c, "--password-stdin") || flag(c, "--legacy"))
			return fail("--csr returns a certificate only: no --password-stdin or "
			    "--legacy");
		if ((csr = slurp(csr_path, 65536, &len, &err)) == NULL)
			return fail("%s: %s", csr_path, err);
	} else {
		if (!flag(c, "--password-stdin"))
			return fail("a PKCS#12 file needs --password-stdin (or give --csr)");
		if ((pw = read_password()) == NULL || ca_check_password(pw, &err) == -1) {
			freezero_str(pw);
			return fail("%s", pw ? err : "no password on standard input");
		}
	}
	if (out_open(&of, out) == -1)
		goto done;
	rq.tenant = (char *)c->tenant;
	rq.user = (char *)user;
	rq.label = (char *)label;
	rq.csr = csr;
	rq.password = pw;
	rq.legacy = flag(c, "--legacy");
	if (c->ca == NULL || ca_client_call(c->ca, &rq, &rp) == -1) {
		out_abort(&of);
		fail("the ca process is not answering");
		goto done;
	}
	if (!rp.ok) {
		out_abort(&of);
		fail("cert issue %s: %s", user, rp.error ? rp.error : "refused");
		rc = rp.limit ? 3 : 1;
		goto done;
	}
	if ((csr ? out_commit(&of, rp.cert_pem, strlen(rp.cert_pem), 0644) :
	    out_commit(&of, rp.p12, rp.p12_len, 0600)) == -1) {
		fprintf(stderr, "sekisho: certificate %s was issued but not written; revoke it "
		    "with: sekisho cert revoke %s\n", rp.serial, rp.serial);
		goto done;
	}
	clock_iso8601((int64_t)rp.not_after, expires);
	printf("certificate %s issued to %s (%s), valid until %s, written to %s\n", rp.serial,
	    user, label, expires, out);
	printf("serial=%s\nsha256=%s\n", rp.serial, rp.fingerprint);
	rc = 0;
done:
	freezero_str(pw);
	free(csr);
	ca_reply_clear(&rp);
	return rc;
}

/* The certificates of user (by its id; NULL: all). */
static int
list_certs(struct cli *c, const char *user, struct cert_print *cp)
{
	struct user u = { 0 };
	int rc;

	if (user && store_user_get(c->in.store, c->tenant, user, &u) != 1) {
		store_user_clear(&u);
		return fail("user %s: no such user", user);
	}
	rc = store_cert_list(c->in.store, c->tenant, u.id, print_cert, cp) < 0;
	store_user_clear(&u);
	return rc;
}

int
cmd_cert(struct cli *c)
{
	static const char *const v[] = { "--label", "--out", "--csr", "--reason",
		"--expiring-within", NULL };
	static const char *const f[] = { "--password-stdin", "--legacy", NULL };
	const char *sub = c->argc > 1 ? c->argv[1] : "", *a0 = arg(c, 0, v);
	struct cert_print cp = { .now = clock_now() };
	struct ca_request rq = { 0 };
	struct ca_reply rp = { 0 };
	struct outfile of;
	char serial[48];
	int rc = 1;

	if (check_opts(c, v, f) || !tenant_exists(c))
		return 1;
	if (!strcmp(sub, "issue"))
		return cert_issue(c, v);
	if (!strcmp(sub, "list")) {
		const char *within = opt(c, "--expiring-within");
		int64_t d;
		if (within) {
			if (clock_parse_duration(within, &d) == -1 || d <= 0)
				return fail("--expiring-within takes a duration such as 30d");
			cp.until = cp.now + d;
		}
		return list_certs(c, a0, &cp);
	}
	if (!strcmp(sub, "show")) {
		struct devcert d;
		char t[4][21];
		if (a0 == NULL || ca_serial_normalise(a0, serial) == -1)
			return fail("cert show takes a serial (hex, as openssl x509 -serial prints it)");
		if (store_cert_get(c->in.store, c->tenant, serial, &d) != 1)
			return fail("certificate %s: no such certificate", serial);
		clock_iso8601((int64_t)d.issued, t[0]);
		clock_iso8601((int64_t)d.not_before, t[1]);
		clock_iso8601((int64_t)d.not_after, t[2]);
		snprintf(t[3], sizeof(t[3]), "-");
		if (d.last_used)
			clock_iso8601((int64_t)d.last_used, t[3]);
		printf("serial=%s\nuser=%s\nlabel=%s\nstatus=%s\nsha256=%s\nissued=%s\n"
		    "not_before=%s\nnot_after=%s\nlast_used=%s\n", d.serial, d.user, d.label,
		    cert_status(&d, cp.now), d.fingerprint, t[0], t[1], t[2], t[3]);
		if (d.revoked) {
			clock_iso8601((int64_t)d.revoked_at, t[0]);
			printf("revoked=%s\nreason=%s\n", t[0], ca_reason_name((int)d.reason));
		}
		store_devcert_clear(&d);
		return 0;
	}
	rq.tenant = (char *)c->tenant;
	if (!strcmp(sub, "revoke")) {
		const char *reason = opt(c, "--reason");
		int code = reason ? ca_reason_code(reason) : 0;
		if (a0 == NULL || ca_serial_normalise(a0, serial) == -1)
			return fail("cert revoke takes a serial (hex, as openssl x509 -serial prints "
			    "it)");
		if (code < 0)
			return fail("--reason must be one of unspecified, keyCompromise, "
			    "affiliationChanged, superseded, cessationOfOperation, "
			    "privilegeWithdrawn");
		rq.op = CA_OP_REVOKE;
		rq.serial = serial;
		rq.reason = (uint64_t)code;
	} else if (!strcmp(sub, "crl") || !strcmp(sub, "ca")) {
		if (opt(c, "--out") == NULL)
			return fail("cert %s needs --out FILE", sub);
		if (!strcmp(sub, "ca")) {
			char *pem = NULL;
			/* The CA certificate is public: read from the store, no ca process. */
			if (tenant_ca_pem(&c->in, c->tenant, &pem) != 1)
				return fail("tenant %s has no device CA", c->tenant);
			if (out_open(&of, opt(c, "--out")) == 0 &&
			    out_commit(&of, pem, strlen(pem), 0644) == 0) {
				printf("CA certificate of tenant %s written to %s\n", c->tenant,
				    opt(c, "--out"));
				rc = 0;
			}
			free(pem);
			return rc;
		}
		rq.op = CA_OP_CRL;
	} else {
		usage();
	}
	if (rq.op == CA_OP_CRL && out_open(&of, opt(c, "--out")) == -1)
		return 1;
	if (c->ca == NULL || ca_client_call(c->ca, &rq, &rp) == -1) {
		fail("the ca process is not answering");
		if (rq.op == CA_OP_CRL)
			out_abort(&of);
		return 1;
	}
	if (!rp.ok) {
		fail("cert %s: %s", sub, rp.error ? rp.error : "failed");
		if (rq.op == CA_OP_CRL)
			out_abort(&of);
	} else if (rq.op == CA_OP_REVOKE) {
		printf(rp.status == 2 ? "certificate %s was already revoked\n" :
		    "certificate %s of %s revoked (%s); CRL %llu published\n", rp.serial,
		    rp.user ? rp.user : "?", ca_reason_name((int)rq.reason),
		    (unsigned long long)rp.crl_number);
		rc = 0;
	} else if (out_commit(&of, rp.crl, rp.crl_len, 0644) == 0) {
		printf("CRL %llu of tenant %s written to %s\n", (unsigned long long)rp.crl_number,
		    c->tenant, opt(c, "--out"));
		rc = 0;
	}
	ca_reply_clear(&rp);
	return rc;
}

/* ---- policies ---- */

static void
print_policy(const void *rec, void *arg)
{
	const struct policy *p = rec;

	if (!strcmp(p->kind, "tenant"))
		printf("tenant\t%s\t%s\n", p->key, p->value);
	else
		printf("%s:%s\t%s\t%s\n", p->kind, p->name ? p->name : "?", p->key, p->value);
}

int
cmd_policy(struct cli *c)
{
	static const char *const v[] = { "--user", "--group", "--app", NULL };
	static const char *const f[] = { "--tenant-wide", NULL };
	const char *sub = c->argc > 1 ? c->argv[1] : "", *key, *val, *err;
	const char *u = opt(c, "--user"), *g = opt(c, "--group"), *a = opt(c, "--app");
	const char *kind = u ? "user" : g ? "group" : a ? "app" : "tenant", *name = u ? u : g ? g : a;
	int n = (u != NULL) + (g != NULL) + (a != NULL) + flag(c, "--tenant-wide");

	if (check_opts(c, v, f) || !tenant_exists(c))
		return 1;
	if (!strcmp(sub, "list"))
		return store_policy_list(c->in.store, c->tenant, print_policy, NULL) < 0;
	if (strcmp(sub, "set") || (key = arg(c, 0, v)) == NULL || (val = arg(c, 1, v)) == NULL ||
	    arg(c, 2, v) != NULL)
		usage();
	if (n != 1)
		return fail("policy set needs exactly one of --user U, --group G, --app A, --tenant");
	if (strcmp(key, "device-required"))
		return fail("unknown policy %s (known: device-required)", key);
	if (strcmp(val, "on") && strcmp(val, "off") && strcmp(val, "inherit"))
		return fail("device-required takes on, off or inherit");
	if (store_policy_set(c->in.store, c->tenant, kind, name, "device_required",
	    strcmp(val, "inherit") ? val : NULL, NULL, &err) == -1)
		return fail("%s%s%s", name ? name : "", name ? ": " : "", err);
	if (name)
		printf("policy device-required of %s:%s set to %s\n", kind, name, val);
	else
		printf("policy device-required of tenant set to %s\n", val);
	return 0;
}
