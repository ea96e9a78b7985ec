/*
 * sekishod: reads the configuration and keys, binds the listener, then runs the network
 * worker in a child process that drops privileges before opening the database, and
 * restarts it if it dies.
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "http.h"
#include "idp.h"
#include "instance.h"
#include "log.h"
#include "oidc.h"
#include "pki.h"
#include "saml.h"
#include "xmalloc.h"

static volatile sig_atomic_t got_term, got_hup;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: sekishod --dir DIR [-n] [-f] [-d]\n"
	    "  -n  check the configuration and exit\n"
	    "  -f  stay in the foreground and log to stderr\n"
	    "  -d  log at debug level\n");
	exit(2);
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

/* host and port of "host:port" or "[v6]:port" (new strings). */
static int
split_listen(const char *s, char **host, char **port)
{
	const char *colon;

	if (*s == '[') {
		const char *rb = strchr(s, ']');
		if (rb == NULL || rb[1] != ':')
			return -1;
		*host = xstrndup(s + 1, (size_t)(rb - s - 1));
		*port = xstrdup(rb + 2);
		return 0;
	}
	if ((colon = strrchr(s, ':')) == NULL)
		return -1;
	*host = xstrndup(s, (size_t)(colon - s));
	*port = xstrdup(colon + 1);
	return 0;
}

static int
bind_listener(const char *listen_on)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char *host = NULL, *port = NULL;
	int fd = -1, one = 1, rc;

	if (split_listen(listen_on, &host, &port) == -1) {
		log_error("listen: expected host:port, not \"%s\"", listen_on);
		goto done;
	}
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		log_error("listen %s: %s", listen_on, gai_strerror(rc));
		goto done;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) == -1 || listen(fd, 512) == -1) {
		log_error("listen %s: %s", listen_on, strerror(errno));
		if (fd != -1)
			close(fd);
		fd = -1;
	}
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

static int
worker(struct instance *in, int fd, char *key, char *cert)
{
	struct http_settings hs = { 0 };
	struct http_server *srv;
	struct idp idp;
	struct buf err;
	const char *errstr;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int64_t next = 0;

	if (drop_privileges(in->settings.user) == -1)
		return 1;
	if (saml_global_init() == -1) {
		log_error("lasso initialisation failed");
		return 1;
	}
	buf_init(&err, 0);
	if (idp_init(&idp, in, &err) == -1) {
		log_error("%s", err.data ? err.data : "start-up failed");
		buf_free(&err);
		return 1;
	}
	buf_free(&err);
	hs.listen_fd = fd;
	hs.threads = idp.in.settings.threads ? (int)idp.in.settings.threads :
	    (int)(ncpu > 0 ? ncpu : 1);
	hs.max_connections = idp.in.settings.max_connections;
	hs.max_connections_per_ip = idp.in.settings.max_connections_per_ip;
	hs.connection_timeout = idp.in.settings.connection_timeout;
	hs.connection_memory = idp.in.settings.connection_memory;
	hs.max_body = idp.in.settings.max_body;
	hs.tls_key_pem = idp.in.settings.tls ? key : NULL;
	hs.tls_cert_pem = idp.in.settings.tls ? cert : NULL;
	hs.hsts = 1;
	if (backchannel_start() == -1) {
		log_error("cannot start the back-channel logout sender");
		idp_free(&idp);
		return 1;
	}
	if ((srv = http_start(&hs, idp_handle, &idp, &errstr)) == NULL) {
		log_error("%s", errstr);
		backchannel_stop();
		idp_free(&idp);
		return 1;
	}
	log_info("serving %s with %d threads", idp.in.settings.url, hs.threads);
	while (!got_term && !got_hup) {
		if (clock_mono_ms() >= next) {
			idp_housekeeping(&idp);
			next = clock_mono_ms() + 60000;
		}
		usleep(200000);
	}
	log_info("worker stopping");
	http_stop(srv);
	backchannel_stop();
	idp_free(&idp);
	saml_global_shutdown();
	return 0;
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

/* Run workers until told to stop; restart one that dies, re-read the config on SIGHUP. */
static int
supervise(const char *dir, struct instance *in, int fd, char *key, char *cert)
{
	int backoff = 0;

	for (;;) {
		int64_t started = clock_mono_ms();
		int status = 0;
		pid_t pid, w;

		fflush(NULL);	/* the child exits through exit(): nothing buffered twice */
		pid = fork();

		if (pid == -1) {
			log_error("fork: %s", strerror(errno));
			return 1;
		}
		if (pid == 0)
			exit(worker(in, fd, key, cert));	/* exit(): leak checkers run */
		while ((w = waitpid(pid, &status, 0)) == -1 && errno == EINTR) {
			if (got_term || got_hup)
				kill(pid, SIGTERM);
		}
		if (got_term)
			return 0;
		if (got_hup) {
			struct buf err;
			struct instance fresh;
			got_hup = 0;
			buf_init(&err, 0);
			if (instance_load(&fresh, dir, &err) == 0) {
				instance_close(in);
				*in = fresh;
				log_info("configuration reloaded");
			} else {
				log_error("reload failed, keeping the old configuration:\n%s", err.data);
			}
			buf_free(&err);
			continue;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == 1 && clock_mono_ms() - started < 2000) {
			log_error("worker failed to start");
			return 1;	/* a start-up error: restarting will not help */
		}
		/* A worker that served a while comes back at once; a crash loop backs off. */
		if (clock_mono_ms() - started >= 2000)
			backoff = 0;
		log_error("worker exited (%s %d); restarting in %d s",
		    WIFSIGNALED(status) ? "signal" : "status",
		    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), backoff);
		if (backoff)
			sleep((unsigned int)backoff);
		backoff = backoff == 0 ? 1 : backoff < 30 ? backoff * 2 : 30;
		if (got_term)
			return 0;
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dir = NULL;
	int check = 0, fg = 0, debug = 0, ch, fd, rc;
	struct instance in;
	struct sigaction sa;
	struct buf err;
	char *key = NULL, *cert = NULL;

	while ((ch = getopt_long(argc, argv, "nfdh", opts, NULL)) != -1) {
		switch (ch) {
		case 'D': dir = optarg; break;
		case 'n': check = 1; break;
		case 'f': fg = 1; break;
		case 'd': debug = 1; break;
		default: usage();
		}
	}
	if (dir == NULL || optind != argc)
		usage();
	log_init("sekishod", 0, debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	buf_init(&err, 0);
	if (check) {
		rc = instance_check(dir, &err);
		fputs(rc == 0 ? "configuration OK\n" : err.data, rc == 0 ? stdout : stderr);
		buf_free(&err);
		return rc == 0 ? 0 : 1;
	}
	if (instance_load(&in, dir, &err) == -1) {
		fputs(err.data, stderr);
		buf_free(&err);
		return 1;
	}
	buf_free(&err);
	if (!debug && in.settings.log_level)
		log_set_level((enum log_level)log_level_parse(in.settings.log_level));
	if (load_tls(&in, &key, &cert) == -1 ||
	    (fd = bind_listener(in.settings.listen ? in.settings.listen : "127.0.0.1:8443")) == -1)
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
	rc = supervise(dir, &in, fd, key, cert);
	freezero_str(key);
	free(cert);
	instance_close(&in);
	return rc;
}
