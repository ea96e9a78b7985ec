/*
 * sekishod: reads the configuration and keys, binds the listener, then runs the network
 * worker in a child process that drops privileges before opening the database, and the
 * ca process (the CA keys) it asks to issue and revoke; restarts them if they die.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "audit.h"
#include "auditfwd.h"
#include "backup.h"
#include "clock.h"
#include "conf.h"
#include "device.h"
#include "factor.h"
#include "casvc.h"
#include "http.h"
#include "idp.h"
#include "instance.h"
#include "ipc.h"
#include "log.h"
#include "mail.h"
#include "metrics.h"
#include "metrics_page.h"
#include "pki.h"
#include "protocol.h"
#include "totp.h"
#include "url.h"
#include "xmalloc.h"

#define DEFAULT_LISTEN "127.0.0.1:8443"

static volatile sig_atomic_t got_term, got_hup;

/*
 * Tell systemd (Type=notify, NotifyAccess=all: the worker says READY when it serves)
 * how the service is; nothing without NOTIFY_SOCKET or without libsystemd.
 */
static void
notify(const char *state)
{
#ifdef HAVE_SYSTEMD
	sd_notify(0, state);
#else
	(void)state;
#endif
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

/* The usage on fp, then exit with status (0 for --help, 2 for a usage error). */
static __attribute__((noreturn)) void
usage(FILE *fp, int status)
{
	fprintf(fp, "usage: sekishod --dir DIR [-n] [-f] [-d]\n"
	    "       sekishod --help | --version\n"
	    "  -n  check the configuration and what the start needs, and exit\n"
	    "  -f  stay in the foreground and log to stderr\n"
	    "  -d  log at debug level\n");
	exit(status);
}

static char *
read_file(const char *path, size_t max)
{
	FILE *fp = fopen(path, "r");
	char *data;
	size_t n;

	if (fp == NULL)
		return NULL;
	data = xmalloc(max + 1);
	n = fread(data, 1, max, fp);
	fclose(fp);
	data[n] = '\0';
	return data;
}

static int
write_new(const char *path, const char *data, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	size_t n = strlen(data);

	if (fd == -1)
		return -1;
	if (write(fd, data, n) != (ssize_t)n || fsync(fd) == -1) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* The addresses of a listen setting's host and port ("*": the wildcard addresses). */
static int
resolve_listen(const char *host, const char *port, struct addrinfo **res_r)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };

	if (!strcmp(host, "*")) {
		hints.ai_flags |= AI_PASSIVE;
		return getaddrinfo(NULL, port, &hints, res_r);
	}
	return getaddrinfo(host, port, &hints, res_r);
}

/* A listening socket on ai (dual: an IPv6 socket that takes IPv4 too); -1 with errno. */
static int
listen_on(const struct addrinfo *ai, int dual)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	int one = 1, zero = 0, e;

	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
	    (!dual || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) == 0) &&
	    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 512) == 0)
		return fd;
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/*
 * Bind "host:port", "[v6]:port" or "*:port".  "*" is every address: one IPv6 socket that
 * also takes IPv4, or an IPv4 one on a host without IPv6.
 */
static int
bind_listener(const char *addr)
{
	struct addrinfo *res = NULL;
	char *host = NULL, *port = NULL;
	const char *e;
	int fd = -1, any, rc;

	if (url_split_listen(addr, &host, &port, &e) == -1) {
		log_error("listen %s: %s", addr, e);
		return -1;
	}
	if ((rc = resolve_listen(host, port, &res)) != 0) {
		log_error("listen %s: %s", addr, gai_strerror(rc));
		goto done;
	}
	any = !strcmp(host, "*");
	for (int pass = 0; pass < 2 && fd == -1; pass++)
		for (struct addrinfo *ai = res; ai && fd == -1; ai = ai->ai_next)
			if (!any ? pass == 0 : ai->ai_family == (pass ? AF_INET : AF_INET6))
				fd = listen_on(ai, any && ai->ai_family == AF_INET6);
	if (fd == -1)
		log_error("listen %s: %s", addr, strerror(errno));
done:
	if (res)
		freeaddrinfo(res);
	free(host);
	free(port);
	return fd;
}

/* The host of the public URL, for the first certificate's subjectAltName. */
static char *
url_host(const char *url)
{
	const char *h = url + 8;
	size_t n;

	if (*h == '[') {
		n = strcspn(h + 1, "]");
		return xstrndup(h + 1, n);
	}
	n = strcspn(h, ":/");
	return xstrndup(h, n);
}

/* Read the TLS key and certificate, making a self-signed pair on first start. */
static int
load_tls(struct instance *in, char **key, char **cert)
{
	const struct settings *s = &in->settings;
	char *def_key = xasprintf("%s/tls/server.key", in->dir);
	char *dir = xasprintf("%s/tls", in->dir), *host = NULL;
	const char *err;
	char fp[96];
	int rc = -1;

	*key = read_file(s->tls_key, 65536);
	*cert = read_file(s->tls_cert, 262144);
	if (*key && *cert) {
		rc = 0;
		goto check;
	}
	if (*key || *cert || strcmp(s->tls_key, def_key)) {
		log_error("TLS: cannot read %s and %s", s->tls_key, s->tls_cert);
		goto done;
	}
	host = url_host(s->url);
	if (pki_self_signed(PKI_P256, host, host, 825, key, cert, &err) == -1) {
		log_error("TLS: %s", err);
		goto done;
	}
	if ((mkdir(dir, 0700) == -1 && errno != EEXIST) || write_new(s->tls_key, *key, 0600) ||
	    write_new(s->tls_cert, *cert, 0644)) {
		log_error("TLS: cannot write %s: %s", dir, strerror(errno));
		goto done;
	}
	pki_cert_fingerprint(*cert, fp);
	printf("sekishod: generated a self-signed TLS certificate for %s\n"
	    "sekishod: SHA-256 fingerprint %s\n", host, fp);
	fflush(stdout);
	rc = 0;
check:
	if (pki_check_pair(*key, *cert, &err) == -1) {
		log_error("TLS: %s", err);
		rc = -1;
	}
done:
	free(def_key);
	free(dir);
	free(host);
	return rc;
}

static int
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	if (user == NULL) {
		log_warn("running as root: set \"user\" in sekishod.conf to drop privileges");
		return 0;
	}
	if ((pw = getpwnam(user)) == NULL) {
		log_error("user %s: no such user", user);
		return -1;
	}
	if (setgroups(1, &pw->pw_gid) == -1 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid)) {
		log_error("dropping privileges to %s: %s", user, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- sekishod -n: what the start will need ---- */

/* "file:line" of key in the configuration, or "file" when the default is in effect. */
static void
where(char *out, size_t size, const char *conf, const char *key)
{
	int line = conf_key_line(conf, key);

	if (line)
		snprintf(out, size, "%s:%d", conf, line);
	else
		snprintf(out, size, "%s", conf);
}

/* NULL when an address of res belongs to this host (bound on port 0: no privilege needed). */
static const char *
local_address(const struct addrinfo *res)
{
	const char *e = "no address";

	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		struct sockaddr_storage ss;
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1 || ai->ai_addrlen > sizeof(ss)) {
			e = strerror(errno);
			if (fd != -1)
				close(fd);
			continue;
		}
		memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
		if (ss.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&ss)->sin6_port = 0;
		else
			((struct sockaddr_in *)&ss)->sin_port = 0;
		if (bind(fd, (struct sockaddr *)&ss, ai->ai_addrlen) == 0) {
			close(fd);
			return NULL;
		}
		e = strerror(errno);
		close(fd);
	}
	return e;
}

/* The listen address parses, resolves here and (unless "*") is one of this host's. */
static int
check_listen(const char *conf, const char *key, const char *value, struct buf *err)
{
	struct addrinfo *res = NULL;
	char *host = NULL, *port = NULL, at[1100];
	const char *e;
	int rc = -1, g;

	where(at, sizeof(at), conf, key);
	if (url_split_listen(value, &host, &port, &e) == -1)
		buf_printf(err, "%s: %s %s: %s\n", at, key, value, e);
	else if ((g = resolve_listen(host, port, &res)) != 0)
		buf_printf(err, "%s: %s %s: %s does not resolve on this host (%s); use an address "
		    "or * for every address\n", at, key, value, host, gai_strerror(g));
	else if (strcmp(host, "*") && (e = local_address(res)) != NULL)
		buf_printf(err, "%s: %s %s: not an address of this host (%s)\n", at, key, value, e);
	else
		rc = 0;
	if (res)
		freeaddrinfo(res);
	free(host);
	free(port);
	return rc;
}

/* 0 when the database in data can be opened for writing (or made); otherwise an errno. */
static int
data_writable(const char *data)
{
	static const char *const files[] = { "data.mdb", "lock.mdb" };
	struct stat sb;

	if (stat(data, &sb) == -1) {
		char *parent = xstrndup(data, (size_t)(strrchr(data, '/') - data));
		int rc = errno != ENOENT ? errno : access(parent, W_OK | X_OK) == 0 ? 0 : errno;
		free(parent);
		return rc;
	}
	if (access(data, W_OK | X_OK) == -1)
		return errno;
	for (size_t i = 0; i < 2; i++) {
		char *f = xasprintf("%s/%s", data, files[i]);
		int rc = access(f, F_OK) == 0 && access(f, R_OK | W_OK) == -1 ? errno : 0;
		free(f);
		if (rc)
			return rc;
	}
	return 0;
}

/* data_writable as user (in a child that drops to it, as the worker will); an errno. */
static int
data_writable_as(const char *user, const char *data)
{
	int status;
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) == -1)
		return errno;
	if (pid == 0)
		_exit(drop_privileges(user) == -1 ? EPERM : data_writable(data));
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
}

/* The worker, as user, can write DIR/data. */
static int
check_data(const struct instance *in, const char *conf, struct buf *err)
{
	const char *user = in->settings.user;
	char *data = xasprintf("%s/data", in->dir), at[1100];
	int rc;

	where(at, sizeof(at), conf, "user");
	if (user && geteuid() == 0 && getpwnam(user) == NULL) {
		buf_printf(err, "%s: user %s: no such user\n", at, user);
		free(data);
		return -1;
	}
	rc = user && geteuid() == 0 ? data_writable_as(user, data) : data_writable(data);
	if (rc != 0 && user && geteuid() == 0)
		buf_printf(err, "%s: user %s cannot write %s (%s); the worker opens the database "
		    "as that user: chown -R %s %s\n", at, user, data, strerror(rc), user, data);
	else if (rc != 0)
		buf_printf(err, "%s: cannot write it (%s)\n", data, strerror(rc));
	free(data);
	return rc == 0 ? 0 : -1;
}

/* sekishod -n: the configuration and master key load, and what the start needs is there. */
/* The app catalog with catalog_dir's templates: a broken one is reported as FILE:LINE. */
static int
check_catalog(const struct instance *in, struct buf *err)
{
	struct catalog *cat = catalog_load(in->settings.catalog_dir, err);

	catalog_free(cat);
	return cat ? 0 : -1;
}

static int
check_start(const char *dir, struct buf *err)
{
	struct instance in;
	char *conf = xasprintf("%s/sekishod.conf", dir);
	int rc = -1;

	if (instance_load(&in, dir, err) == 0) {
		rc = check_listen(conf, "listen", in.settings.listen ? in.settings.listen :
		    DEFAULT_LISTEN, err);
		if (in.settings.device_listen &&
		    check_listen(conf, "device_listen", in.settings.device_listen, err) == -1)
			rc = -1;
		if (in.settings.metrics_listen &&
		    check_listen(conf, "metrics_listen", in.settings.metrics_listen, err) == -1)
			rc = -1;
		if (check_data(&in, conf, err) == -1)
			rc = -1;
		if (instance_check_ca_key(dir, &in.settings, err) == -1)
			rc = -1;
		if (check_catalog(&in, err) == -1)
			rc = -1;
		instance_close(&in);
	}
	free(conf);
	return rc;
}

/*
 * Drop privileges to user, then make the process non-dumpable (the uid change resets
 * it to fs.suid_dumpable, and without one it stays dumpable): no core file with keys in
 * it, and no other process of the same uid may ptrace it or read /proc/PID/mem.
 */
static int
become(const char *user)
{
	if (drop_privileges(user) == -1)
		return -1;
	if (prctl(PR_SET_DUMPABLE, 0) == -1) {
		log_error("prctl(PR_SET_DUMPABLE): %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* What the parent prepares for its children: bound sockets and TLS material. */
struct listeners {
	int fd;			/* the main listener */
	int dfd;		/* the device-check listener, or -1 */
	int mfd;		/* the metrics_listen listener, or -1 */
	char *key, *cert;
	char *dkey, *dcert;	/* the device listener's (may be the main ones) */
	/* set for each child by spawn_missing */
	int chan;		/* its end of the worker's channel to the ca process, or -1 */
	int ctl;		/* the worker: where a restarted ca process's channel arrives */
	int drop[2];		/* the parent's descriptors the child closes at once, or -1 */
};

/* The device-check server, asking for certificates of the CAs in trust (may be NULL). */
static struct http_server *
start_device(struct idp *idp, const struct http_settings *main_hs, int fd,
    const struct listeners *l, const char *trust)
{
	struct http_settings hs = *main_hs;
	struct http_server *srv;
	const char *errstr;

	hs.listen_fd = fd;
	hs.threads = main_hs->threads > 1 ? (main_hs->threads + 1) / 2 : 1;
	hs.tls_key_pem = idp->in.settings.device_tls ? l->dkey : NULL;
	hs.tls_cert_pem = idp->in.settings.device_tls ? l->dcert : NULL;
	hs.tls_trust_pem = idp->in.settings.device_tls ? trust : NULL;
	if ((srv = http_start(&hs, device_handle, idp, &errstr)) == NULL)
		log_error("device listener: %s", errstr);
	return srv;
}

/* TOTP's library, and the mail sender thread when a relay is configured. */
static int
start_mail(struct idp *idp)
{
	struct mail_conf mc;
	const char *errstr;

	if (totp_init() == -1) {
		log_error("liboath: cannot initialise");
		return -1;
	}
	if (idp->in.settings.smtp_relay == NULL)
		return 0;
	factor_mail_conf(&idp->in, &mc);
	if (mail_start(&mc, &errstr) == -1) {
		log_error("mail: %s", errstr);
		return -1;
	}
	return 0;
}

/* A ca process was restarted: its channel replaces the dead one (no call runs meanwhile). */
static void
ca_relink(struct idp *idp, int ctl)
{
	int fd = ctl == -1 ? -2 : ipc_recv_fd(ctl);

	if (fd < 0)
		return;
	pthread_mutex_lock(&idp->ca_lock);
	ca_client_set_fd(idp->ca, fd);
	pthread_mutex_unlock(&idp->ca_lock);
	log_info("connected to the restarted ca process");
}

/*
 * SIGTERM or SIGHUP: stop accepting (the parent keeps the listeners, so new connections
 * wait for the next worker), answer the requests in flight for at most timeout_s, then stop.
 */
static void
drain_and_stop(struct http_server *srv[3], int64_t timeout_s)
{
	int n = 0, left = 0;

	for (size_t i = 0; i < 3; i++)
		n += http_inflight(srv[i]);
	log_info("worker stopping: finishing %d request(s) in flight", n);
	for (size_t i = 0; i < 3; i++)
		http_drain(srv[i], 0);
	for (size_t i = 0; i < 3; i++)
		left += http_drain(srv[i], timeout_s * 1000);
	if (left)
		log_warn("worker stopping: %d request(s) cut short after %lld s", left,
		    (long long)timeout_s);
	for (size_t i = 0; i < 3; i++)
		http_stop(srv[i]);
}

/* The metrics_listen server (/metrics only, TLS as the main listener), or NULL. */
static struct http_server *
start_metrics(struct idp *idp, const struct http_settings *main_hs, int fd)
{
	struct http_settings hs = *main_hs;
	struct http_server *srv;
	const char *errstr;

	if (fd == -1)
		return NULL;
	hs.listen_fd = fd;
	hs.threads = 1;
	if ((srv = http_start(&hs, metrics_handle, idp, &errstr)) == NULL)
		log_error("metrics listener: %s", errstr);
	return srv;
}

static int
worker(struct instance *in, const struct listeners *l)
{
	struct http_settings hs = { 0 };
	struct http_server *srv, *dsrv = NULL, *msrv = NULL;
	struct idp idp;
	struct buf err;
	const char *errstr;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int64_t next = 0, next_trust = 0, backup_retry = 0, last_backup, next_fwd = 0;
	struct auditfwd *fwd;
	char *trust = NULL;
	int rc = 0;

	if (become(in->settings.user) == -1)
		return 1;
	if (protocols_global_init() == -1)
		return 1;
	buf_init(&err, 0);
	if (idp_init(&idp, in, &err) == -1) {
		log_error("%s", err.data ? err.data : "start-up failed");
		buf_free(&err);
		protocols_global_shutdown();
		return 1;
	}
	buf_free(&err);
	audit_set_observer(metrics_audit);
	hs.listen_fd = l->fd;
	hs.threads = idp.in.settings.threads ? (int)idp.in.settings.threads :
	    (int)(ncpu > 0 ? ncpu : 1);
	hs.max_connections = idp.in.settings.max_connections;
	hs.max_connections_per_ip = idp.in.settings.max_connections_per_ip;
	hs.connection_timeout = idp.in.settings.connection_timeout;
	hs.connection_memory = idp.in.settings.connection_memory;
	hs.max_body = idp.in.settings.max_body;
	hs.tls_key_pem = idp.in.settings.tls ? l->key : NULL;
	hs.tls_cert_pem = idp.in.settings.tls ? l->cert : NULL;
	hs.hsts = 1;
	hs.trusted_proxies = &idp.trusted;
	if (protocols_start() == -1 || start_mail(&idp) == -1) {
		protocols_stop();
		idp_free(&idp);
		return 1;
	}
	/* The worker asks, the ca process holds the keys and checks the cap (not our child). */
	idp.ca = ca_client_new(l->chan, 0);
	if ((srv = http_start(&hs, idp_handle, &idp, &errstr)) == NULL) {
		log_error("%s", errstr);
		ca_client_close(idp.ca);
		mail_stop();
		protocols_stop();
		idp_free(&idp);
		return 1;
	}
	if (l->dfd != -1) {
		trust = device_trust_pem(&idp);
		if ((dsrv = start_device(&idp, &hs, l->dfd, l, trust)) == NULL)
			rc = 1;
		next_trust = clock_mono_ms() + 5000;
	}
	if (l->mfd != -1 && (msrv = start_metrics(&idp, &hs, l->mfd)) == NULL)
		rc = 1;
	log_info("serving %s with %d threads%s%s", idp.in.settings.url, hs.threads,
	    dsrv ? ", device check at " : "", dsrv ? idp.in.settings.device_url : "");
	fwd = auditfwd_open(&idp.in.settings);	/* opened anew on SIGHUP: log rotation */
	/* Without a generation yet the first backup waits for backup_time, not the start. */
	if ((last_backup = backup_last(&idp.in.settings)) == 0)
		last_backup = clock_now();
	if (rc == 0)
		notify("READY=1\nSTATUS=serving");
	while (!got_term && !got_hup && rc == 0) {
		if (clock_mono_ms() >= next) {
			idp_housekeeping(&idp);
			next = clock_mono_ms() + 60000;
		}
		if (fwd && clock_mono_ms() >= next_fwd) {
			auditfwd_run(fwd, idp.in.store);
			next_fwd = clock_mono_ms() + 1000;
		}
		/* Here, not in a thread: requests are served meanwhile, housekeeping can wait. */
		if (backup_due(&idp.in.settings, last_backup, clock_now()) &&
		    clock_mono_ms() >= backup_retry) {
			if (backup_run(&idp.in, clock_now()) == 0)
				last_backup = clock_now();
			else
				backup_retry = clock_mono_ms() + 3600 * 1000;	/* and log once an hour */
		}
		/* A new tenant CA: the device listener starts asking for its certificates too. */
		if (dsrv && clock_mono_ms() >= next_trust) {
			char *now = device_trust_pem(&idp);
			if ((now == NULL) != (trust == NULL) || (now && strcmp(now, trust))) {
				int dfd = http_stop_keep_socket(dsrv);
				dsrv = dfd == -1 ? NULL : start_device(&idp, &hs, dfd, l, now);
				if (dsrv == NULL)
					rc = 1;
				else
					log_info("device listener: trusted CAs changed");
				free(trust);
				trust = now;
			} else {
				free(now);
			}
			next_trust = clock_mono_ms() + 5000;
		}
		ca_relink(&idp, l->ctl);
		usleep(200000);
	}
	log_info("worker stopping");
	drain_and_stop((struct http_server *[3]){ srv, dsrv, msrv },
	    idp.in.settings.connection_timeout);
	auditfwd_run(fwd, idp.in.store);	/* what came in the last second and the drain */
	auditfwd_close(fwd);
	ca_client_close(idp.ca);
	idp.ca = NULL;
	free(trust);
	mail_stop();
	protocols_stop();
	idp_free(&idp);
	protocols_global_shutdown();
	return rc;
}

/*
 * The ca process of the daemon: keeps every tenant's CRL fresh and answers the worker's
 * requests (issue, revoke, CRL) on its channel; holds the CA keys.  It reads ca.key
 * before it drops privileges (to ca_user, else user), so ca.key stays root's and the
 * worker's uid cannot open it.  When the worker dies it keeps refreshing until the
 * supervisor, starting a new worker, ends it and starts a new one on a new channel.
 */
static int
ca_process(struct instance *in, const struct listeners *l)
{
	unsigned char key[CRYPTO_SEAL_KEY_LEN];
	const char *as = in->settings.ca_user ? in->settings.ca_user : in->settings.user;
	struct buf err;
	int rc = 1;

	prctl(PR_SET_NAME, "sekishod-ca");	/* tells it from the worker in ps */
	close(l->fd);
	if (l->dfd != -1)
		close(l->dfd);
	if (l->mfd != -1)
		close(l->mfd);
	explicit_bzero(in->master, sizeof(in->master));	/* CA keys are sealed with ca.key */
	buf_init(&err, 0);
	if (instance_ca_key(in, key, &err) == 0 && become(as) == 0 &&
	    instance_open_store(in, &err) == 0 && instance_ca_main(in, key, l->chan, 1, &got_term) == 0)
		rc = 0;
	else
		log_error("ca: %s", err.data ? err.data : "failed");
	explicit_bzero(key, sizeof(key));
	buf_free(&err);
	return rc;
}

static void
daemonize(void)
{
	int fd;

	if (fork() != 0)
		_exit(0);
	setsid();
	if (fork() != 0)
		_exit(0);
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

static pid_t
spawn(int (*fn)(struct instance *, const struct listeners *), struct instance *in,
    const struct listeners *l)
{
	pid_t pid;

	fflush(NULL);	/* the child exits through exit(): nothing buffered twice */
	if ((pid = fork()) == -1)
		log_error("fork: %s", strerror(errno));
	else if (pid == 0) {
		for (size_t i = 0; i < 2; i++)
			if (l->drop[i] != -1)
				close(l->drop[i]);
		exit(fn(in, l));	/* exit(): leak checkers run */
	}
	return pid;
}

/*
 * Send SIGTERM to the children that run and wait for them, one after the other: the
 * worker first, so the requests it finishes can still reach the ca process.
 */
static void
stop_children(pid_t *pids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
		while (pids[i] > 0 && waitpid(pids[i], NULL, 0) == -1 && errno == EINTR)
			;
		pids[i] = 0;
	}
}

static void
close_fd(int *fd)
{
	if (*fd != -1)
		close(*fd);
	*fd = -1;
}

/*
 * Start the children that do not run (pids[0] the worker, pids[1] the ca process): the
 * ca process first, on a new channel whose other end goes to the worker, inherited by a
 * worker started now or passed over *ctl to the running one.  A new worker gets a new
 * control socket (*ctl: the parent's end).  ran as in supervise.  0, or -1 when a start
 * failed.
 */
static int
spawn_missing(pid_t pids[2], int64_t started[2], int ran[2], struct instance *in,
    const struct listeners *l, int *ctl)
{
	struct listeners cl = *l;
	int chan[2] = { -1, -1 }, wctl[2] = { -1, -1 }, rc = -1;

	/* A new worker needs a channel: the ca process that served the old one goes too. */
	if (pids[0] == 0 && pids[1] != 0) {
		if (clock_mono_ms() - started[1] >= 2000)
			ran[1] = 1;	/* it served: a failing successor is a crash loop */
		stop_children(&pids[1], 1);
	}
	if (pids[1] == 0) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, chan) == -1) {
			log_error("socketpair: %s", strerror(errno));
			goto done;
		}
		cl.chan = chan[1];
		cl.ctl = -1;
		cl.drop[0] = chan[0];
		cl.drop[1] = *ctl;
		started[1] = clock_mono_ms();
		if ((pids[1] = spawn(ca_process, in, &cl)) == -1)
			goto done;
		close_fd(&chan[1]);
		/* A worker dying meanwhile is restarted with a ca process of its own. */
		if (pids[0] != 0 && ipc_send_fd(*ctl, chan[0]) == -1)
			log_info("the worker did not take its channel to the ca process");
	}
	if (pids[0] == 0) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, wctl) == -1) {
			log_error("socketpair: %s", strerror(errno));
			goto done;
		}
		cl.chan = chan[0];
		cl.ctl = wctl[1];
		cl.drop[0] = wctl[0];
		cl.drop[1] = *ctl;
		started[0] = clock_mono_ms();
		if ((pids[0] = spawn(worker, in, &cl)) == -1)
			goto done;
		close_fd(ctl);
		*ctl = wctl[0];
		wctl[0] = -1;
	}
	rc = 0;
done:
	for (size_t i = 0; i < 2; i++) {
		close_fd(&chan[i]);
		close_fd(&wctl[i]);
		if (pids[i] == -1)
			pids[i] = 0;
	}
	return rc;
}

/* The configuration and master key, and a ca.key that user (the worker) cannot read. */
static int
load_checked(struct instance *in, const char *dir, struct buf *err)
{
	if (instance_load(in, dir, err) == -1)
		return -1;
	if (instance_check_ca_key(dir, &in->settings, err) == -1) {
		instance_close(in);
		return -1;
	}
	return 0;
}

static int
differ(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b));
}

/*
 * The first setting that a reload cannot apply and that changed, or NULL: the parent
 * bound the listeners and read the TLS files at start, and keeps them across workers.
 */
static const char *
fixed_changed(const struct settings *old, const struct settings *new)
{
	if (differ(old->listen, new->listen))
		return "listen";
	if (differ(old->device_listen, new->device_listen))
		return "device_listen";
	if (differ(old->metrics_listen, new->metrics_listen))
		return "metrics_listen";
	if (old->tls != new->tls || old->device_tls != new->device_tls)
		return old->tls != new->tls ? "tls" : "device_tls";
	if (differ(old->tls_cert, new->tls_cert) || differ(old->tls_key, new->tls_key))
		return differ(old->tls_cert, new->tls_cert) ? "tls_cert" : "tls_key";
	if (differ(old->device_tls_cert, new->device_tls_cert) ||
	    differ(old->device_tls_key, new->device_tls_key))
		return "device_tls_cert";
	return NULL;
}

/*
 * SIGHUP: the new configuration replaces *in (1), unless it is broken or changes a fixed
 * key (0: the children go on serving with the old one).
 */
static int
reload(const char *dir, struct instance *in)
{
	struct instance fresh;
	struct buf err;
	const char *key;
	int rc = 0;

	buf_init(&err, 0);
	if (load_checked(&fresh, dir, &err) == -1) {
		log_error("reload failed, keeping the old configuration:\n%s", err.data);
	} else if ((key = fixed_changed(&in->settings, &fresh.settings)) != NULL) {
		log_error("reload refused, keeping the old configuration: %s cannot change "
		    "while sekishod runs (restart it)", key);
		instance_close(&fresh);
	} else {
		instance_close(in);
		*in = fresh;
		log_info("configuration reloaded");
		rc = 1;
	}
	buf_free(&err);
	return rc;
}

/*
 * Run the worker and the ca process until told to stop; restart one that dies (a crash
 * loop backs off), re-read the configuration on SIGHUP.
 */
static int
supervise(const char *dir, struct instance *in, const struct listeners *l)
{
	static const char *const names[2] = { "worker", "ca process" };
	pid_t pids[2] = { 0, 0 };
	int64_t started[2] = { 0, 0 };
	int backoff[2] = { 0, 0 };
	int ran[2] = { 0, 0 };	/* a child of this kind has served since start or reload */
	int ctl = -1;		/* passes the worker a restarted ca process's channel */

	for (;;) {
		int status = 0;
		pid_t w;
		size_t i;

		if (spawn_missing(pids, started, ran, in, l, &ctl) == -1) {
			stop_children(pids, 2);
			close_fd(&ctl);
			return 1;
		}
		while ((w = waitpid(-1, &status, 0)) == -1 && errno == EINTR) {
			if (got_term || got_hup)
				break;
		}
		if (got_term) {
			notify("STOPPING=1");
			stop_children(pids, 2);
			close_fd(&ctl);
			return 0;
		}
		if (got_hup) {
			got_hup = 0;
			notify("RELOADING=1");
			if (reload(dir, in) == 0) {
				notify("READY=1\nSTATUS=serving (reload refused)");
			} else {
				/* the worker finishes its requests; new ones wait in the backlog */
				stop_children(pids, 2);
				close_fd(&ctl);
				ran[0] = ran[1] = 0;
			}
			continue;
		}
		if (w == -1)
			continue;
		for (i = 0; i < 2 && pids[i] != w; i++)
			;
		if (i == 2)
			continue;
		pids[i] = 0;
		if (clock_mono_ms() - started[i] >= 2000)
			ran[i] = 1;
		/*
		 * A first start that fails is a configuration or start-up error: restarting will
		 * not help.  Once a child has served, an early exit is a crash loop: back off and
		 * keep the listeners, never take the service down.
		 */
		if (!ran[i] && WIFEXITED(status) && WEXITSTATUS(status) == 1) {
			log_error("%s failed to start", names[i]);
			stop_children(pids, 2);
			close_fd(&ctl);
			return 1;
		}
		/* A child that ran a while comes back at once; a crash loop backs off. */
		if (clock_mono_ms() - started[i] >= 2000)
			backoff[i] = 0;
		log_error("%s exited (%s %d); restarting in %d s", names[i],
		    WIFSIGNALED(status) ? "signal" : "status",
		    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), backoff[i]);
		if (backoff[i])
			sleep((unsigned int)backoff[i]);
		backoff[i] = backoff[i] == 0 ? 1 : backoff[i] < 30 ? backoff[i] * 2 : 30;
		if (got_term) {
			notify("STOPPING=1");
			stop_children(pids, 2);
			close_fd(&ctl);
			return 0;
		}
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dir = NULL;
	int check = 0, fg = 0, debug = 0, ch, rc;
	struct listeners l = { .fd = -1, .dfd = -1, .mfd = -1, .chan = -1, .ctl = -1,
		.drop = { -1, -1 } };
	struct instance in;
	struct sigaction sa;
	struct buf err;

	while ((ch = getopt_long(argc, argv, "nfdh", opts, NULL)) != -1) {
		switch (ch) {
		case 'D': dir = optarg; break;
		case 'n': check = 1; break;
		case 'f': fg = 1; break;
		case 'd': debug = 1; break;
		case 'h': usage(stdout, 0);
		case 'V': printf("sekishod %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr, 2);
		}
	}
	if (dir == NULL || optind != argc)
		usage(stderr, 2);
	log_init("sekishod", 0, debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	buf_init(&err, 0);
	if (check) {
		rc = check_start(dir, &err);
		fputs(rc == 0 ? "configuration OK\n" : err.data, rc == 0 ? stdout : stderr);
		buf_free(&err);
		return rc == 0 ? 0 : 1;
	}
	if (load_checked(&in, dir, &err) == -1) {
		fputs(err.data, stderr);
		buf_free(&err);
		return 1;
	}
	buf_free(&err);
	if (!debug && in.settings.log_level)
		log_set_level((enum log_level)log_level_parse(in.settings.log_level));
	if (load_tls(&in, &l.key, &l.cert) == -1 ||
	    (l.fd = bind_listener(in.settings.listen ? in.settings.listen : DEFAULT_LISTEN)) == -1)
		return 1;
	l.dkey = l.key;
	l.dcert = l.cert;
	if (in.settings.device_tls_cert) {
		const char *e;
		l.dkey = read_file(in.settings.device_tls_key, 65536);
		l.dcert = read_file(in.settings.device_tls_cert, 262144);
		if (l.dkey == NULL || l.dcert == NULL ||
		    pki_check_pair(l.dkey, l.dcert, &e) == -1) {
			log_error("device TLS: cannot use %s and %s", in.settings.device_tls_key,
			    in.settings.device_tls_cert);
			return 1;
		}
	}
	if (in.settings.device_listen && (l.dfd = bind_listener(in.settings.device_listen)) == -1)
		return 1;
	if (in.settings.metrics_listen && (l.mfd = bind_listener(in.settings.metrics_listen)) == -1)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!fg) {
		daemonize();
		log_init("sekishod", 1, log_get_level());
	}
	rc = supervise(dir, &in, &l);
	if (l.dkey != l.key)
		freezero_str(l.dkey);
	if (l.dcert != l.cert)
		free(l.dcert);
	freezero_str(l.key);
	free(l.cert);
	instance_close(&in);
	return rc;
}
