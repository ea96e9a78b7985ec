/*
 * certbench: the C half of bench/certs, built by that script against a build directory's
 * convenience libraries.  Never a test: it prints figures, one "key=value" line each.
 *
 *   certbench issue DIR TENANT csr|p12 CLIENTS SECONDS FIRST_USER USERS_PER_CLIENT [CSR...]
 *	CLIENTS processes, each with its own ca process (instance_spawn_ca, as the sekisho
 *	command starts one), issue certificates with CA_OP_ISSUE for SECONDS; client k issues
 *	10 (the cap) to each of the users u<FIRST_USER + k * USERS_PER_CLIENT + j>, j counting
 *	up; the CSRs (PEM files) are used in turn.  One warm-up issuance per client first.
 *	With CERTBENCH_CLIENT_CPU=N each client moves to CPU N once its ca process is
 *	started, so the ca processes keep the CPUs certbench was started on.
 *   certbench check DIR TENANT CERT.pem ITERATIONS
 *	The device check of one certificate: devcert_verify, store_cert_by_fingerprint and
 *	store_cert_touch, each alone and together, in microseconds per call.
 *   certbench size DIR
 *	Bytes per certificate in LMDB: the record's value length in the "certs" database and
 *	the pages of "certs", "certs_by_user" and "certs_by_fingerprint" per certificate.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <inttypes.h>
#include <lmdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "casvc.h"
#include "clock.h"
#include "devcert.h"
#include "instance.h"
#include "log.h"
#include "store.h"

#define P12_PASSWORD "bench-p12-password"

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		goto done;
	p = calloc(1, (size_t)n + 1);
	if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		p = NULL;
	}
done:
	if (f)
		fclose(f);
	if (p == NULL) {
		fprintf(stderr, "certbench: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return p;
}

/* ---- issuance ---- */

struct issuer {
	struct ca_client *ca;
	const char *tenant;
	int p12;
	char **csrs;
	int ncsrs;
	long first_user, users, n;
};

/*
 * One issuance to the next user (10 each): 0, 1 when the client has no user left, or -1
 * with the reason on stderr.
 */
static int
issue_one(struct issuer *is)
{
	struct ca_request rq = { .op = CA_OP_ISSUE };
	struct ca_reply rp = { 0 };
	char user[32];
	long u = is->n / STORE_CERT_CAP;
	int rc = -1;

	if (u >= is->users)
		return 1;
	snprintf(user, sizeof(user), "u%06ld", is->first_user + u);
	rq.tenant = (char *)is->tenant;
	rq.user = user;
	rq.label = "bench";
	if (is->p12)
		rq.password = P12_PASSWORD;
	else
		rq.csr = is->csrs[is->n % is->ncsrs];
	if (ca_client_call(is->ca, &rq, &rp) == -1)
		fprintf(stderr, "certbench: the ca process is not answering\n");
	else if (!rp.ok)
		fprintf(stderr, "certbench: issue to %s: %s\n", user, rp.error ? rp.error : "refused");
	else if (is->p12 ? rp.p12 == NULL || rp.p12_len == 0 : rp.cert_pem == NULL)
		fprintf(stderr, "certbench: issue to %s: empty answer\n", user);
	else
		rc = 0;
	ca_reply_clear(&rp);
	if (rc == 0)
		is->n++;
	return rc;
}

static void
write_all(int fd, const void *p, size_t n)
{
	const char *q = p;

	while (n > 0) {
		ssize_t w = write(fd, q, n);
		if (w <= 0 && errno != EINTR)
			exit(1);
		if (w > 0)
			q += w, n -= (size_t)w;
	}
}

struct result {
	long n;
	double seconds;
	int failed;
	int exhausted;		/* ran out of users before the time was up */
	double ca_user, ca_sys;	/* CPU seconds of the ca process, warm-up included */
};

/* The client leaves the core its ca process runs on (bench/run: server and load apart). */
static void
client_cpu(void)
{
	const char *s = getenv("CERTBENCH_CLIENT_CPU");
	cpu_set_t set;

	if (s == NULL || *s == '\0')
		return;
	CPU_ZERO(&set);
	CPU_SET((int)strtol(s, NULL, 10), &set);
	if (sched_setaffinity(0, sizeof(set), &set) == -1)
		perror("certbench: sched_setaffinity");
}

static void
issue_client(struct issuer *is, const char *dir, double seconds, int ready_fd, int go_fd,
    int out_fd)
{
	struct result r = { 0 };
	struct buf err;
	char c;
	double t0, t1;

	buf_init(&err, 0);
	if ((is->ca = instance_spawn_ca(dir, &err)) == NULL) {
		fprintf(stderr, "certbench: %s", err.data ? err.data : "no ca process\n");
		r.failed = 1;
	}
	buf_free(&err);
	client_cpu();
	/* Warm-up: the ca process opens the store and loads the tenant's CA. */
	if (!r.failed && issue_one(is) != 0)
		r.failed = 1;
	write_all(ready_fd, "r", 1);
	while (read(go_fd, &c, 1) == -1 && errno == EINTR)
		;
	t0 = t1 = mono();
	if (!r.failed) {
		long start = is->n;
		int rc = 0;
		while (rc == 0 && (t1 = mono()) - t0 < seconds)
			rc = issue_one(is);
		r.failed = rc == -1;
		r.exhausted = rc == 1;
		if (rc != 0)
			t1 = mono();
		r.n = is->n - start;
	}
	r.seconds = t1 - t0;
	if (is->ca && ca_client_close(is->ca) != 0)
		r.failed = 1;
	{
		struct rusage ru;	/* the ca process, now waited for, is our only child */
		if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
			r.ca_user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
			r.ca_sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	}
	write_all(out_fd, &r, sizeof(r));
}

static int
cmd_issue(int argc, char **argv)
{
	struct issuer is = { 0 };
	int clients, ready[2], go[2], out[2], failed = 0, exhausted = 0;
	double seconds, rate = 0, longest = 0, ca_user = 0, ca_sys = 0;
	long total = 0, calls = 0;
	const char *dir;

	if (argc < 9)
		return 2;
	dir = argv[2];
	is.tenant = argv[3];
	is.p12 = !strcmp(argv[4], "p12");
	clients = (int)strtol(argv[5], NULL, 10);
	seconds = strtod(argv[6], NULL);
	is.users = strtol(argv[8], NULL, 10);
	is.ncsrs = argc - 9;
	if (!is.p12 && is.ncsrs == 0)
		return 2;
	is.csrs = calloc((size_t)is.ncsrs + 1, sizeof(char *));
	for (int i = 0; i < is.ncsrs; i++)
		is.csrs[i] = slurp(argv[9 + i]);
	if (pipe(ready) || pipe(go) || pipe(out)) {
		perror("pipe");
		return 1;
	}
	for (int k = 0; k < clients; k++) {
		pid_t pid;

		fflush(NULL);
		if ((pid = fork()) == -1) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			close(ready[0]);
			close(go[1]);
			close(out[0]);
			is.first_user = strtol(argv[7], NULL, 10) + k * is.users;
			issue_client(&is, dir, seconds, ready[1], go[0], out[1]);
			_exit(0);
		}
	}
	close(ready[1]);
	close(go[0]);
	close(out[1]);
	for (int k = 0; k < clients; k++) {
		char c;
		if (read(ready[0], &c, 1) != 1)
			failed = 1;
	}
	close(go[1]);		/* every client starts now */
	for (int k = 0; k < clients; k++) {
		struct result r;
		if (read(out[0], &r, sizeof(r)) != (ssize_t)sizeof(r)) {
			failed = 1;
			continue;
		}
		failed |= r.failed;
		exhausted |= r.exhausted;
		total += r.n;
		calls += r.n + 1;
		ca_user += r.ca_user;
		ca_sys += r.ca_sys;
		rate += r.seconds > 0 ? (double)r.n / r.seconds : 0;
		if (r.seconds > longest)
			longest = r.seconds;
	}
	while (wait(NULL) > 0 || errno == EINTR)
		;
	if (calls == 0)
		calls = 1;
	printf("issued=%ld seconds=%.2f rate=%.1f ca_user_us=%.0f ca_sys_us=%.0f failed=%d "
	    "exhausted=%d\n", total, longest, rate, ca_user / (double)calls * 1e6,
	    ca_sys / (double)calls * 1e6, failed, exhausted);
	return failed;
}

/* ---- the device check ---- */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

enum { C_VERIFY = 1, C_LOOKUP = 2, C_TOUCH = 4, C_TOUCH_WRITE = 8 };

/* Mean, median and 99th percentile in microseconds of iters runs of the parts in what. */
static int
check_run(const char *name, int what, struct instance *in, const char *tenant,
    const struct devcert_ca *ca, const unsigned char *der, size_t len, const char *fp_in,
    const char *serial_in, long iters, int64_t *now)
{
	double *t = calloc((size_t)iters, sizeof(double)), sum = 0;
	char fp[65], serial[48];
	const char *errstr;

	for (long i = 0; i < iters; i++) {
		struct devcert c;
		double t0 = mono();

		if (what & C_VERIFY && devcert_verify(ca, der, len, clock_now(), fp, serial,
		    &errstr) == -1) {
			fprintf(stderr, "certbench: devcert_verify: %s\n", errstr);
			return -1;
		}
		if (what & C_LOOKUP) {
			if (store_cert_by_fingerprint(in->store, tenant, fp_in, &c) != 1 ||
			    c.revoked || strcmp(c.serial, serial_in)) {
				fprintf(stderr, "certbench: store_cert_by_fingerprint failed\n");
				return -1;
			}
			store_devcert_clear(&c);
		}
		/* A use is written at most once a minute: a new minute each time writes. */
		if (what & (C_TOUCH | C_TOUCH_WRITE) && store_cert_touch(in->store, tenant,
		    serial_in, (what & C_TOUCH_WRITE) ? (*now += 61) : *now) != 1) {
			fprintf(stderr, "certbench: store_cert_touch failed\n");
			return -1;
		}
		t[i] = (mono() - t0) * 1e6;
		sum += t[i];
	}
	qsort(t, (size_t)iters, sizeof(double), cmp_double);
	printf("check=%s iterations=%ld mean_us=%.1f p50_us=%.1f p99_us=%.1f\n", name, iters,
	    sum / (double)iters, t[iters / 2], t[(size_t)((double)iters * 0.99)]);
	free(t);
	return 0;
}

static int
cmd_check(int argc, char **argv)
{
	struct instance in;
	struct devcert_ca *ca;
	struct buf err;
	const char *tenant, *errstr;
	char *pem, *ca_pem = NULL, fp[65], serial[48];
	unsigned char *der;
	size_t len;
	long iters;
	int64_t now, write_now;
	int rc = 0;

	if (argc != 6)
		return 2;
	tenant = argv[3];
	iters = strtol(argv[5], NULL, 10);
	if (iters < 1)
		return 2;
	pem = slurp(argv[4]);
	buf_init(&err, 0);
	if (instance_open(&in, argv[2], &err) == -1) {
		fprintf(stderr, "certbench: %s", err.data ? err.data : "cannot open\n");
		return 1;
	}
	buf_free(&err);
	if (tenant_ca_pem(&in, tenant, &ca_pem) != 1 ||
	    (ca = devcert_ca_new(ca_pem, &errstr)) == NULL) {
		fprintf(stderr, "certbench: tenant %s has no usable device CA\n", tenant);
		return 1;
	}
	if ((der = devcert_pem_to_der(pem, &len)) == NULL ||
	    devcert_verify(ca, der, len, clock_now(), fp, serial, &errstr) == -1) {
		fprintf(stderr, "certbench: %s: not a valid device certificate\n", argv[4]);
		return 1;
	}
	now = clock_now();
	/* The "touch, written" runs move last_used ahead; the others stay in one minute. */
	write_now = now + 120;
	store_cert_touch(in.store, tenant, serial, now);
	rc |= check_run("verify", C_VERIFY, &in, tenant, ca, der, len, fp, serial, iters, &now);
	rc |= check_run("lookup", C_LOOKUP, &in, tenant, ca, der, len, fp, serial, iters, &now);
	rc |= check_run("touch_unwritten", C_TOUCH, &in, tenant, ca, der, len, fp, serial, iters,
	    &now);
	rc |= check_run("touch_written", C_TOUCH_WRITE, &in, tenant, ca, der, len, fp, serial,
	    iters / 10 ? iters / 10 : 1, &write_now);
	now = write_now;
	rc |= check_run("all_unwritten", C_VERIFY | C_LOOKUP | C_TOUCH, &in, tenant, ca, der, len,
	    fp, serial, iters, &now);
	rc |= check_run("all_written", C_VERIFY | C_LOOKUP | C_TOUCH_WRITE, &in, tenant, ca, der,
	    len, fp, serial, iters / 10 ? iters / 10 : 1, &write_now);
	printf("der_bytes=%zu\n", len);
	devcert_ca_free(ca);
	free(der);
	free(ca_pem);
	free(pem);
	instance_close(&in);
	return rc ? 1 : 0;
}

/* ---- size in LMDB ---- */

static int
cmd_size(int argc, char **argv)
{
	static const char *const dbs[] = { "certs", "certs_by_user", "certs_by_fingerprint" };
	char *path;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	int rc;

	if (argc != 3)
		return 2;
	if (asprintf(&path, "%s/data", argv[2]) == -1)
		return 1;
	if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 64)) ||
	    (rc = mdb_env_open(env, path, MDB_RDONLY, 0600)) ||
	    (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))) {
		fprintf(stderr, "certbench: %s: %s\n", path, mdb_strerror(rc));
		return 1;
	}
	for (size_t d = 0; d < sizeof(dbs) / sizeof(dbs[0]); d++) {
		MDB_stat s;
		MDB_cursor *cur;
		MDB_val k, v;
		/* Per tenant (the key up to its first NUL): entries, key bytes, value bytes. */
		struct { char t[64]; size_t n, kb, vb; } per[8];
		size_t nt = 0;

		if ((rc = mdb_dbi_open(txn, dbs[d], 0, &dbi)) || (rc = mdb_stat(txn, dbi, &s)) ||
		    (rc = mdb_cursor_open(txn, dbi, &cur))) {
			fprintf(stderr, "certbench: %s: %s\n", dbs[d], mdb_strerror(rc));
			return 1;
		}
		printf("db=%s entries=%zu page_size=%u depth=%u branch_pages=%zu leaf_pages=%zu "
		    "overflow_pages=%zu bytes_per_entry=%.0f\n", dbs[d], s.ms_entries, s.ms_psize,
		    s.ms_depth, s.ms_branch_pages, s.ms_leaf_pages, s.ms_overflow_pages,
		    s.ms_entries ? (double)(s.ms_branch_pages + s.ms_leaf_pages +
		    s.ms_overflow_pages) * s.ms_psize / (double)s.ms_entries : 0.0);
		while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
			size_t tl = strnlen(k.mv_data, k.mv_size), i;
			for (i = 0; i < nt; i++)
				if (strlen(per[i].t) == tl && !memcmp(per[i].t, k.mv_data, tl))
					break;
			if (i == nt) {
				if (nt == 8 || tl >= sizeof(per[i].t))
					continue;
				memcpy(per[nt].t, k.mv_data, tl);
				per[nt].t[tl] = 0;
				per[nt].n = per[nt].kb = per[nt].vb = 0;
				nt++;
			}
			per[i].n++;
			per[i].kb += k.mv_size;
			per[i].vb += v.mv_size;
		}
		for (size_t i = 0; i < nt; i++)
			printf("db=%s tenant=%s entries=%zu key_bytes=%.0f value_bytes=%.0f\n", dbs[d],
			    per[i].t, per[i].n, (double)per[i].kb / (double)per[i].n,
			    (double)per[i].vb / (double)per[i].n);
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	free(path);
	return 0;
}

int
main(int argc, char **argv)
{
	int rc = 2;

	log_init("certbench", 0, LOG_LEVEL_WARN);
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && !strcmp(argv[1], "issue"))
		rc = cmd_issue(argc, argv);
	else if (argc > 1 && !strcmp(argv[1], "check"))
		rc = cmd_check(argc, argv);
	else if (argc > 1 && !strcmp(argv[1], "size"))
		rc = cmd_size(argc, argv);
	if (rc == 2)
		fputs("usage: certbench issue DIR TENANT csr|p12 CLIENTS SECONDS FIRST_USER "
		    "USERS_PER_CLIENT [CSR...]\n"
		    "       certbench check DIR TENANT CERT.pem ITERATIONS\n"
		    "       certbench size DIR\n", stderr);
	return rc;
}
