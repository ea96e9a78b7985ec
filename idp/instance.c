/*
 * Opening and creating a Sekisho directory; tenant creation with its secret and keys.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "casvc.h"
#include "clock.h"
#include "crypto.h"
#include "encode.h"
#include "instance.h"
#include "log.h"
#include "protocol.h"
#include "pki.h"
#include "url.h"
#include "xmalloc.h"

static int
read_master(struct instance *in, struct buf *err)
{
	char *path = xasprintf("%s/master.key", in->dir);
	struct stat sb;
	ssize_t n;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		buf_printf(err, "%s: %s\n", path, strerror(errno));
		goto done;
	}
	if (fstat(fd, &sb) == -1 || (sb.st_mode & 077)) {
		buf_printf(err, "%s: must not be readable by group or others (chmod 600)\n", path);
		goto done;
	}
	n = read(fd, in->master, sizeof(in->master));
	if (n != (ssize_t)sizeof(in->master)) {
		buf_printf(err, "%s: not a master key (expected %zu bytes)\n", path,
		    sizeof(in->master));
		goto done;
	}
	rc = 0;
done:
	if (fd != -1)
		close(fd);
	free(path);
	return rc;
}

int
instance_load(struct instance *in, const char *dir, struct buf *err)
{
	memset(in, 0, sizeof(*in));
	in->dir = xstrdup(dir);
	if (settings_load(dir, &in->settings, err) == -1 || read_master(in, err) == -1) {
		instance_close(in);
		return -1;
	}
	return 0;
}

int
instance_open_store(struct instance *in, struct buf *err)
{
	struct store_settings ss;
	const char *errstr;

	ss.map_size = in->settings.map_size;
	ss.map_size_max = in->settings.map_size_max;
	if ((in->store = store_open(in->dir, &ss, &errstr)) == NULL) {
		buf_printf(err, "%s/data: %s\n", in->dir, errstr);
		return -1;
	}
	return 0;
}

int
instance_open(struct instance *in, const char *dir, struct buf *err)
{
	if (instance_load(in, dir, err) == -1)
		return -1;
	if (instance_open_store(in, err) == -1) {
		instance_close(in);
		return -1;
	}
	return 0;
}

void
instance_close(struct instance *in)
{
	store_close(in->store);
	settings_free(&in->settings);
	explicit_bzero(in->master, sizeof(in->master));
	free(in->dir);
	memset(in, 0, sizeof(*in));
}

static int
write_file(const char *path, const void *p, size_t n, mode_t mode, struct buf *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	ssize_t w;

	if (fd == -1) {
		buf_printf(err, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	w = write(fd, p, n);
	if (w != (ssize_t)n || fsync(fd) == -1) {
		buf_printf(err, "%s: write failed\n", path);
		close(fd);
		return -1;
	}
	return close(fd);
}

/*
 * The listen setting for url: a public name need not resolve on the server itself (a
 * load balancer or NAT may own it), so listen on every address at its port; a loopback
 * URL is for a test or a local proxy and stays on loopback.
 */
static char *
default_listen(const char *host, const char *port)
{
	if (!url_host_is_loopback(host))
		return xasprintf("*:%s", port);
	return xasprintf("%s%s%s:%s", strchr(host, ':') ? "[" : "", host,
	    strchr(host, ':') ? "]" : "", port);
}

int
instance_init(const char *dir, const char *url, const char *listen, struct buf *err)
{
	unsigned char master[CRYPTO_SEAL_KEY_LEN];
	struct instance in;
	char *path = NULL, *conf = NULL, *host = NULL, *port = NULL, *lst;
	const char *errstr;
	int rc = -1;

	if (url_https_authority(url, &host, &port) == -1) {
		buf_printf(err, "--url must be https://HOST[:PORT] without a path\n");
		return -1;
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		buf_printf(err, "%s: %s\n", dir, strerror(errno));
		goto done;
	}
	path = xasprintf("%s/sekishod.conf", dir);
	if (access(path, F_OK) == 0) {
		buf_printf(err, "%s already exists: %s is initialised\n", path, dir);
		goto done;
	}
	lst = listen ? xstrdup(listen) : default_listen(host, port);
	conf = xasprintf("# sekishod configuration; see sekishod.conf(5).\n"
	    "url %s\n"
	    "listen %s\n", url, lst);
	free(lst);
	free(path);
	path = xasprintf("%s/master.key", dir);
	crypto_random(master, sizeof(master));
	if (write_file(path, master, sizeof(master), 0600, err) == -1)
		goto done;
	/* The CA keys' own sealing key: only the ca process reads it. */
	free(path);
	path = xasprintf("%s/ca.key", dir);
	crypto_random(master, sizeof(master));
	if (write_file(path, master, sizeof(master), 0600, err) == -1)
		goto done;
	free(path);
	path = xasprintf("%s/sekishod.conf", dir);
	if (write_file(path, conf, strlen(conf), 0644, err) == -1)
		goto done;
	if (instance_open(&in, dir, err) == -1)
		goto done;
	if (tenant_create(&in, "default", "Default", &errstr) == -1) {
		buf_printf(err, "tenant default: %s\n", errstr);
		instance_close(&in);
		goto done;
	}
	instance_close(&in);
	rc = 0;
done:
	explicit_bzero(master, sizeof(master));
	free(path);
	free(conf);
	free(host);
	free(port);
	return rc;
}

static char *
aad(const char *kind, const char *tenant, const char *a, const char *b)
{
	return xasprintf("%s:%s:%s:%s", kind, tenant, a ? a : "", b ? b : "");
}

void
instance_seal_key(struct instance *in, const char *tenant, struct keyrec *k,
    const char *key_pem)
{
	char *ad = aad("key", tenant, k->use, k->kid);

	k->sealed_key = crypto_seal(in->master, ad, strlen(ad), key_pem, strlen(key_pem),
	    &k->sealed_key_len);
	free(ad);
}

#define KEYS_MAX 8

int
tenant_create(struct instance *in, const char *id, const char *name, const char **errstr)
{
	unsigned char secret[32];
	struct tenant t = { 0 };
	struct keyrec keys[KEYS_MAX];
	size_t n = 0;
	char *ad = NULL;
	int rc = -1, made;

	memset(keys, 0, sizeof(keys));
	if (!store_valid_name(id, 63)) {
		*errstr = "tenant id must be 1-63 characters of a-z A-Z 0-9 . _ @ + -";
		return -1;
	}
	crypto_random(secret, sizeof(secret));
	ad = aad("tenant", id, NULL, NULL);
	t.id = (char *)id;
	t.name = (char *)name;
	t.created = (uint64_t)clock_now();
	t.secret = crypto_seal(in->master, ad, strlen(ad), secret, sizeof(secret), &t.secret_len);
	/* Each protocol's first signing keys. */
	for (const struct protocol *const *p = protocols; *p; p++) {
		if ((made = (*p)->make_keys(in, id, 1, keys + n, KEYS_MAX - n, errstr)) < 0)
			goto done;
		n += (size_t)made;
	}
	if (store_tenant_add(in->store, &t, errstr) == -1)
		goto done;
	for (size_t i = 0; i < n; i++)
		if (store_key_add(in->store, id, &keys[i], errstr) == -1)
			goto done;
	rc = 0;
done:
	explicit_bzero(secret, sizeof(secret));
	free(t.secret);
	for (size_t i = 0; i < KEYS_MAX; i++)
		store_keyrec_clear(&keys[i]);
	free(ad);
	return rc;
}

int
tenant_rotate_keys(struct instance *in, const char *tenant, const char *use,
    const char **errstr)
{
	const struct protocol *p = protocol_find(use);
	struct keyrec keys[KEYS_MAX];
	int64_t now = clock_now();
	int rc = -1, n;

	memset(keys, 0, sizeof(keys));
	if (p == NULL) {
		*errstr = "key use must be saml or oidc";
		return -1;
	}
	if ((n = p->make_keys(in, tenant, 0, keys, KEYS_MAX, errstr)) < 0)
		goto done;
	if (store_key_rotate(in->store, tenant, use, keys, (size_t)n, now,
	    now + in->settings.oidc_key_retire_after) < 0) {
		*errstr = "cannot store the keys";
		goto done;
	}
	rc = 0;
done:
	for (size_t i = 0; i < KEYS_MAX; i++)
		store_keyrec_clear(&keys[i]);
	return rc;
}

int
tenant_derive_key(struct instance *in, const struct tenant *t, const char *purpose,
    unsigned char out[32])
{
	char *ad = aad("tenant", t->id, NULL, NULL);
	unsigned char *secret;
	size_t len;

	secret = crypto_open(in->master, ad, strlen(ad), t->secret, t->secret_len, &len);
	free(ad);
	if (secret == NULL || len != 32) {
		log_error("tenant %s: secret does not open with this master key", t->id);
		if (secret)
			freezero(secret, len);
		return -1;
	}
	crypto_hmac_sha256(secret, len, purpose, strlen(purpose), out);
	freezero(secret, len);
	return 0;
}

char *
instance_unseal_key(struct instance *in, const char *tenant, const struct keyrec *k)
{
	char *ad = aad("key", tenant, k->use, k->kid);
	unsigned char *pem;
	size_t len;

	pem = crypto_open(in->master, ad, strlen(ad), k->sealed_key, k->sealed_key_len, &len);
	free(ad);
	if (pem == NULL)
		log_error("tenant %s: key %s does not open with this master key", tenant, k->kid);
	return (char *)pem;
}

/*
 * DIR/ca.key must be out of the worker's reach: a regular file without group or other
 * bits, not owned by user (the worker's uid could chmod it).  A key the worker could read
 * would unseal the tenants' CA keys it finds in the store; one it could replace would seal
 * the next CA with a key it chose.  root or ca_user own it.
 */
static int
ca_key_safe(const char *path, const struct stat *sb, const struct settings *s,
    struct buf *err)
{
	const struct passwd *pw = s->user ? getpwnam(s->user) : NULL;

	if (!S_ISREG(sb->st_mode)) {
		buf_printf(err, "%s: not a regular file\n", path);
		return -1;
	}
	if (sb->st_mode & 077) {
		buf_printf(err, "%s: must not be readable or writable by group or others "
		    "(chmod 600)\n", path);
		return -1;
	}
	if (pw && pw->pw_uid != 0 && sb->st_uid == pw->pw_uid) {
		buf_printf(err, "%s: owned by %s, the user the network worker runs as, who could "
		    "read it (chown root, or the ca_user)\n", path, s->user);
		return -1;
	}
	return 0;
}

int
instance_check_ca_key(const char *dir, const struct settings *s, struct buf *err)
{
	char *path = xasprintf("%s/ca.key", dir);
	struct stat sb;
	int rc = 0;

	if (lstat(path, &sb) == 0) {
		rc = ca_key_safe(path, &sb, s, err);
	} else if (errno != ENOENT) {	/* absent: the ca process makes it on first start */
		buf_printf(err, "%s: %s\n", path, strerror(errno));
		rc = -1;
	}
	free(path);
	return rc;
}

/* DIR/ca.key, made on first use in directories created before device certificates. */
int
instance_ca_key(const struct instance *in, unsigned char key[CRYPTO_SEAL_KEY_LEN],
    struct buf *err)
{
	char *path = xasprintf("%s/ca.key", in->dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK), rc = -1;
	struct stat sb;
	ssize_t n;

	if (fd == -1 && errno == ENOENT) {
		crypto_random(key, CRYPTO_SEAL_KEY_LEN);
		rc = write_file(path, key, CRYPTO_SEAL_KEY_LEN, 0600, err);
		free(path);
		return rc;
	}
	if (fd == -1) {
		buf_printf(err, "%s: %s%s\n", path, strerror(errno), errno == EACCES ?
		    " (commands that use the CA run as root or as the owner of ca.key)" : "");
		free(path);
		return -1;
	}
	if (fstat(fd, &sb) == -1 || ca_key_safe(path, &sb, &in->settings, err) == -1)
		goto done;
	n = read(fd, key, CRYPTO_SEAL_KEY_LEN);
	if (n == CRYPTO_SEAL_KEY_LEN)
		rc = 0;
	else
		buf_printf(err, "%s: not a CA sealing key (expected %d bytes)\n", path,
		    CRYPTO_SEAL_KEY_LEN);
done:
	if (rc == -1)
		explicit_bzero(key, CRYPTO_SEAL_KEY_LEN);
	close(fd);
	free(path);
	return rc;
}

int
instance_ca_main(struct instance *in, const unsigned char key[CRYPTO_SEAL_KEY_LEN], int fd,
    int refresh, volatile sig_atomic_t *stop)
{
	struct casvc_conf conf = { 0 };

	conf.st = in->store;
	conf.key = key;
	conf.crl_validity = in->settings.crl_validity;
	conf.refresh_every = refresh ? 60 : 0;
	return casvc_serve(fd, &conf, stop);
}

struct ca_client *
instance_spawn_ca(const char *dir, struct buf *err)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		buf_printf(err, "socketpair: %s\n", strerror(errno));
		return NULL;
	}
	fflush(NULL);
	if ((pid = fork()) == -1) {
		buf_printf(err, "fork: %s\n", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	if (pid == 0) {
		struct instance in;
		struct buf e;
		int rc = 1;

		unsigned char key[CRYPTO_SEAL_KEY_LEN];

		close(sv[0]);
		buf_init(&e, 0);
		/* Not dumpable: another process of the operator's uid cannot read the CA keys. */
		prctl(PR_SET_DUMPABLE, 0);
		if (instance_open(&in, dir, &e) == 0) {
			explicit_bzero(in.master, sizeof(in.master));	/* a ca needs none */
			if (instance_ca_key(&in, key, &e) == 0)
				rc = instance_ca_main(&in, key, sv[1], 0, NULL) == 0 ? 0 : 1;
			explicit_bzero(key, sizeof(key));
			instance_close(&in);
		}
		if (e.len)
			fprintf(stderr, "sekisho (ca): %s", e.data);
		buf_free(&e);
		close(sv[1]);
		exit(rc);	/* exit(): leak checkers run */
	}
	close(sv[1]);
	return ca_client_new(sv[0], pid);
}

static void
ca_pem_cb(const void *rec, void *arg)
{
	const struct keyrec *k = rec;
	char **pem = arg;

	if (*pem == NULL && k->state == STORE_KEY_ACTIVE && k->cert_pem)
		*pem = xstrdup(k->cert_pem);
}

int
tenant_ca_pem(struct instance *in, const char *tenant, char **pem_r)
{
	*pem_r = NULL;
	if (store_key_list(in->store, tenant, "ca", ca_pem_cb, pem_r) < 0)
		return -1;
	return *pem_r ? 1 : 0;
}
