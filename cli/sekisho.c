/*
 * sekisho: the administration command line.  Its commands and output are a contract with
 * operators' scripts and the end-to-end tests: errors go to stderr with a non-zero exit,
 * success prints what was done.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca.h"
#include "casvc.h"
#include "cli.h"
#include "clock.h"
#include "crypto.h"
#include "instance.h"
#include "log.h"
#include "password.h"
#include "store.h"
#include "url.h"
#include "xmalloc.h"

int
fail(const char *fmt, ...)
{
	va_list ap;

	fputs("sekisho: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

static struct password_params
pw_params(struct cli *c)
{
	struct password_params pp = {
		(uint32_t)c->in.settings.argon2_t_cost,
		(uint32_t)(c->in.settings.argon2_m_cost / 1024),
		(uint32_t)c->in.settings.argon2_parallelism,
	};
	return pp;
}

/*
 * The password a user command takes (see prompt_password), checked against the policy.
 * 0 with *pw_r (NULL when none was asked for), or an exit status after a message.
 */
static int
user_password(struct cli *c, int required, const char *what, char **pw_r)
{
	const char *err;
	int rc = prompt_password(c, required, what, pw_r);

	if (rc == 0 && *pw_r && password_check_policy(*pw_r, &err) == -1) {
		freezero_str(*pw_r);
		*pw_r = NULL;
		return fail("%s", err);
	}
	return rc;
}

/* As user_password, hashed for the store (new string in *hash_r). */
static int
user_password_hash(struct cli *c, int required, const char *what, char **hash_r)
{
	struct password_params pp = pw_params(c);
	const char *err;
	char *pw;
	int rc = user_password(c, required, what, &pw);

	*hash_r = NULL;
	if (rc != 0 || pw == NULL)
		return rc;
	*hash_r = password_hash(&pp, pw, &err);
	freezero_str(pw);
	return *hash_r ? 0 : fail("%s", err);
}

int
tenant_exists(struct cli *c)
{
	struct tenant t;
	int rc = store_tenant_get(c->in.store, c->tenant, &t);

	store_tenant_clear(&t);
	if (rc != 1) {
		fail("tenant %s: %s", c->tenant, rc == 0 ? "no such tenant" : "storage error");
		return 0;
	}
	return 1;
}

char *
slurp(const char *path, size_t max, size_t *len_r, const char **errstr)
{
	FILE *fp = fopen(path, "r");
	char *data;

	if (fp == NULL) {
		*errstr = strerror(errno);
		return NULL;
	}
	data = xmalloc(max + 2);
	*len_r = fread(data, 1, max + 1, fp);
	fclose(fp);
	if (*len_r > max) {
		free(data);
		*errstr = "file too large";
		return NULL;
	}
	data[*len_r] = '\0';
	if (strlen(data) != *len_r) {
		free(data);
		*errstr = "file contains NUL bytes";
		return NULL;
	}
	return data;
}

/* ---- tenant ---- */

static void
print_tenant(const struct tenant *t, void *arg)
{
	printf("%s\t%s\n", t->id, t->name ? t->name : "");
}

/* Ask the ca process for a CA for tenant; 0 or 1 (message printed). */
static int
create_ca(struct cli *c, const char *tenant, const char *keytype)
{
	struct ca_request rq = { .op = CA_OP_CREATE, .tenant = (char *)tenant,
		.keytype = (char *)keytype };
	struct ca_reply rp;
	char fp[96];

	if (c->ca == NULL || ca_client_call(c->ca, &rq, &rp) == -1)
		return fail("tenant %s: the ca process is not answering", tenant);
	if (!rp.ok) {
		fail("tenant %s: %s", tenant, rp.error ? rp.error : "CA creation failed");
		ca_reply_clear(&rp);
		return 1;
	}
	if (pki_cert_fingerprint(rp.cert_pem, fp) == 0)
		printf("device CA of tenant %s created (%s), SHA-256 fingerprint %s\n", tenant,
		    keytype ? keytype : "p256", fp);
	ca_reply_clear(&rp);
	return 0;
}

int
cmd_tenant_add(struct cli *c)
{
	const char *id = arg(c, 0), *name = opt(c, "--name"), *err;

	if (tenant_create(&c->in, id, name ? name : id, &err) == -1)
		return fail("tenant %s: %s", id, err);
	printf("tenant %s added\n", id);
	return create_ca(c, id, opt(c, "--ca-key"));
}

int
cmd_tenant_ca(struct cli *c)
{
	return create_ca(c, arg(c, 0), opt(c, "--ca-key"));
}

int
cmd_tenant_list(struct cli *c)
{
	return store_tenant_list(c->in.store, print_tenant, NULL) < 0;
}

/* ---- users ---- */

/* Have the CRL rebuilt after revocations (quietly: a tenant may have no CA). */
static void
refresh_crl(struct cli *c)
{
	struct ca_request rq = { .op = CA_OP_CRL, .tenant = (char *)c->tenant };
	struct ca_reply rp;

	if (c->ca && ca_client_call(c->ca, &rq, &rp) == 0)
		ca_reply_clear(&rp);
}

static void
print_user(const struct user *u, void *arg)
{
	printf("%s\t%s\t%s\t%s\n", u->name, u->email ? u->email : "-",
	    u->display_name ? u->display_name : "-", u->disabled ? "disabled" : "enabled");
}

static int
valid_email(const char *e)
{
	const char *at = strchr(e, '@');

	return at && at != e && at[1] && !strchr(at + 1, '@') && strlen(e) <= 254 &&
	    strcspn(e, " \t\r\n<>\"") == strlen(e);
}

/* A new immutable user id: 128 random bits in hex. */
static void
new_user_id(char id[33])
{
	unsigned char raw[16];

	crypto_random(raw, sizeof(raw));
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(id + 2 * i, 3, "%02x", raw[i]);
}

int
cmd_user_add(struct cli *c)
{
	const char *name = arg(c, 0), *email = opt(c, "--email"), *err;
	struct user u = { 0 };
	char id[33], *what;
	int rc;

	if (!store_valid_name(name, STORE_NAME_MAX))
		return fail("user name must be 1-128 characters of a-z A-Z 0-9 . _ @ + -");
	if (email && !valid_email(email))
		return fail("%s is not an email address", email);
	if (opt(c, "--name") && strlen(opt(c, "--name")) > 256)
		return fail("display name longer than 256 bytes");
	what = xasprintf("Password for %s", name);
	rc = user_password_hash(c, 0, what, &u.pwhash);
	free(what);
	if (rc != 0)
		return rc;
	new_user_id(id);
	u.id = id;
	u.name = (char *)name;
	u.email = (char *)email;
	u.display_name = (char *)opt(c, "--name");
	u.created = u.pw_changed = (uint64_t)clock_now();
	rc = store_user_add(c->in.store, c->tenant, &u, &err);
	if (rc == -1) {
		free(u.pwhash);
		return fail("user %s: %s", name, err);
	}
	printf("user %s added%s\n", name, u.pwhash ? "" :
	    " (without a password: set one with sekisho user passwd)");
	free(u.pwhash);
	return 0;
}

struct import_line {
	char *name, *email, *display;
	int lineno;
};

static void
free_lines(struct import_line *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].name);
		free(l[i].email);
		free(l[i].display);
	}
	free(l);
}

/* Check the fields f of one import line against the store and the lines before it. */
static int
check_import_line(struct cli *c, const char *where, char *const f[3], const char *extra,
    const struct import_line *l, size_t n)
{
	struct user u = { 0 };
	int bad = 0;

	if (extra)
		return fail("%s: more than three fields", where);
	if (!store_valid_name(f[0], STORE_NAME_MAX))
		return fail("%s: bad user name", where);
	if (f[1] && *f[1] && !valid_email(f[1]))
		return fail("%s: bad email address", where);
	if (f[2] && strlen(f[2]) > 256)
		return fail("%s: display name longer than 256 bytes", where);
	if (store_user_get(c->in.store, c->tenant, f[0], &u) != 0)
		bad = fail("%s: user %s already exists", where, f[0]);
	store_user_clear(&u);
	for (size_t i = 0; i < n && !bad; i++)
		if (!strcmp(l[i].name, f[0]))
			bad = fail("%s: user %s repeated", where, f[0]);
	return bad;
}

/* Parse and check every line first: a bad file changes nothing. */
static struct import_line *
read_import(struct cli *c, const char *path, size_t *n_r)
{
	struct import_line *l = NULL;
	char line[2048], where[1100];
	size_t n = 0;
	int lineno = 0, bad = 0;
	FILE *fp = fopen(path, "r");

	if (fp == NULL) {
		fail("%s: %s", path, strerror(errno));
		return NULL;
	}
	while (!bad && fgets(line, sizeof(line), fp)) {
		char *f[3] = { NULL, NULL, NULL }, *p = line, *nl = strchr(line, '\n');
		int k = 0;
		snprintf(where, sizeof(where), "%.1000s:%d", path, ++lineno);
		if (nl == NULL && !feof(fp)) {
			bad = fail("%s: line too long", where);
			break;
		}
		if (nl)
			*nl = '\0';
		if (*line == '\0' || *line == '#')
			continue;
		for (f[k++] = p; k < 3 && (p = strchr(p, '\t')) != NULL; f[k++] = ++p)
			p[0] = '\0';
		if ((bad = check_import_line(c, where, f, p ? strchr(p, '\t') : NULL, l, n)))
			break;
		l = xreallocarray(l, n + 1, sizeof(*l));
		l[n].name = xstrdup(f[0]);
		l[n].email = f[1] && *f[1] ? xstrdup(f[1]) : NULL;
		l[n].display = f[2] && *f[2] ? xstrdup(f[2]) : NULL;
		l[n++].lineno = lineno;
	}
	fclose(fp);
	if (bad) {
		free_lines(l, n);
		return NULL;
	}
	*n_r = n;
	return l ? l : xcalloc(1, sizeof(*l));
}

int
cmd_user_import(struct cli *c)
{
	struct password_params pp = pw_params(c);
	const char *path = arg(c, 0), *err;
	struct import_line *l;
	char *pw = NULL;
	size_t n, done = 0;
	int rc;

	if ((l = read_import(c, path, &n)) == NULL)
		return EXIT_FAIL;
	if ((rc = user_password(c, 0, "Password for the imported users", &pw)) != 0) {
		free_lines(l, n);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		struct user u = { 0 };
		char id[33];
		new_user_id(id);
		u.id = id;
		u.name = l[i].name;
		u.email = l[i].email;
		u.display_name = l[i].display;
		u.created = u.pw_changed = (uint64_t)clock_now();
		if (pw && (u.pwhash = password_hash(&pp, pw, &err)) == NULL)
			break;
		if (store_user_add(c->in.store, c->tenant, &u, &err) == -1) {
			fail("%s:%d: user %s: %s", path, l[i].lineno, u.name, err);
			free(u.pwhash);
			break;
		}
		free(u.pwhash);
		done++;
	}
	freezero_str(pw);
	free_lines(l, n);
	printf("%zu users imported\n", done);
	return done == n ? 0 : EXIT_FAIL;
}

int
cmd_user_list(struct cli *c)
{
	return store_user_list(c->in.store, c->tenant, print_user, NULL) < 0;
}

/* The message for the result rc of a store call on user name (1 done). */
static int
user_done(const char *name, int rc, const char *what)
{
	if (rc != 1)
		return fail("user %s: %s", name, rc == 0 ? "no such user" : "storage error");
	printf("user %s %s\n", name, what);
	return 0;
}

/* user enable and user disable. */
int
cmd_user_enable(struct cli *c)
{
	int off = !strcmp(c->spec->sub, "disable");

	return user_done(arg(c, 0), store_user_set_disabled(c->in.store, c->tenant, arg(c, 0),
	    off), off ? "disabled" : "enabled");
}

int
cmd_user_passwd(struct cli *c)
{
	const char *name = arg(c, 0);
	struct user u;
	char *h, *what;
	int rc;

	/* Ask only for a user who exists. */
	rc = store_user_get(c->in.store, c->tenant, name, &u);
	store_user_clear(&u);
	if (rc != 1)
		return user_done(name, rc, NULL);
	what = xasprintf("New password for %s", name);
	rc = user_password_hash(c, 1, what, &h);
	free(what);
	if (rc != 0)
		return rc;
	rc = store_user_set_password(c->in.store, c->tenant, name, h, clock_now());
	free(h);
	return user_done(name, rc, "password changed");
}

int
cmd_user_remove(struct cli *c)
{
	int rc = store_user_remove(c->in.store, c->tenant, arg(c, 0));

	if (rc == 1)
		refresh_crl(c);	/* the user's certificates were revoked with it */
	return user_done(arg(c, 0), rc, "removed");
}

/* ---- groups ---- */

static void
print_line(const char *s, void *arg)
{
	printf("%s\n", s);
}

int
cmd_group_list(struct cli *c)
{
	return store_group_list(c->in.store, c->tenant, print_line, NULL) < 0;
}

/* group members USER: the groups of a user. */
int
cmd_group_members(struct cli *c)
{
	char **groups;

	if (store_user_groups(c->in.store, c->tenant, arg(c, 0), &groups) < 0)
		return fail("storage error");
	for (char **p = groups; *p; p++)
		printf("%s\n", *p);
	store_strv_free(groups);
	return 0;
}

int
cmd_group_add(struct cli *c)
{
	const char *g = arg(c, 0), *err;

	if (!store_valid_name(g, STORE_NAME_MAX))
		return fail("group name must be 1-128 characters of a-z A-Z 0-9 . _ @ + -");
	if (store_group_add(c->in.store, c->tenant, g, &err) == -1)
		return fail("group %s: %s", g, err);
	printf("group %s added\n", g);
	return 0;
}

int
cmd_group_remove(struct cli *c)
{
	const char *g = arg(c, 0);
	int rc;

	if ((rc = store_group_remove(c->in.store, c->tenant, g)) != 1)
		return fail("group %s: %s", g, rc == 0 ? "no such group" : "storage error");
	printf("group %s removed\n", g);
	return 0;
}

/* group add-member G USER and group remove-member G USER. */
int
cmd_group_member(struct cli *c)
{
	const char *g = arg(c, 0), *u = arg(c, 1), *err;
	int rc;

	if (!strcmp(c->spec->sub, "add-member")) {
		if (store_member_add(c->in.store, c->tenant, g, u, &err) == -1)
			return fail("group %s: %s", g, err);
		printf("user %s added to group %s\n", u, g);
		return 0;
	}
	if ((rc = store_member_remove(c->in.store, c->tenant, g, u)) != 1)
		return fail("group %s: %s", g, rc == 0 ? "not a member" : "storage error");
	printf("user %s removed from group %s\n", u, g);
	return 0;
}

/* ---- keys ---- */

static void
print_key(const struct keyrec *k, void *arg)
{
	static const char *const states[] = { "?", "active", "next", "retired" };
	char created[21], until[21] = "-";

	clock_iso8601((int64_t)k->created, created);
	if (k->until)
		clock_iso8601((int64_t)k->until, until);
	printf("%s\t%s\t%s\t%s\t%s\t%s\n", k->use, k->kid, k->alg,
	    k->state <= 3 ? states[k->state] : "?", created, until);
}

/* key list [--use saml|oidc|ca]: the signing keys, and the device CA's key. */
int
cmd_key_list(struct cli *c)
{
	static const char *const uses[] = { "saml", "oidc", "ca" };
	const char *use = opt(c, "--use");

	for (size_t i = 0; i < 3; i++)
		if ((use == NULL || !strcmp(use, uses[i])) &&
		    store_key_list(c->in.store, c->tenant, uses[i], print_key, NULL) < 0)
			return fail("storage error");
	return 0;
}

int
cmd_key_rotate(struct cli *c)
{
	const char *use = opt(c, "--use") ? opt(c, "--use") : "oidc", *err;

	if (tenant_rotate_keys(&c->in, c->tenant, use, &err) == -1)
		return fail("key rotate: %s", err);
	printf("%s keys of tenant %s rotated\n", use, c->tenant);
	return 0;
}

/* ---- backup, init ---- */

int
cmd_backup(struct cli *c)
{
	const char *path = arg(c, 0), *err;

	if (store_backup(c->in.store, path, &err) == -1)
		return fail("backup to %s: %s", path, err);
	printf("backup written to %s\n", path);
	return 0;
}

int
cmd_init(struct cli *c)
{
	const char *url = opt(c, "--url"), *listen = opt(c, "--listen"), *err;
	struct cli ca = { .dir = c->dir, .tenant = "default" };
	char *host, *port;
	struct buf e;
	int rc;

	if (c->dir == NULL)
		return usage_fail(c, "init needs --dir DIR");
	if (listen && url_split_listen(listen, &host, &port, &err) == -1)
		return usage_fail(c, "--listen %s: %s", listen, err);
	if (listen) {
		free(host);
		free(port);
	}
	buf_init(&e, 0);
	if (instance_init(c->dir, url, listen, &e) == -1) {
		fprintf(stderr, "sekisho: %s", e.data ? e.data : "init failed\n");
		buf_free(&e);
		return EXIT_FAIL;
	}
	buf_free(&e);
	printf("initialised %s for %s (tenant default)\n", c->dir, url);
	buf_init(&e, 0);
	if ((ca.ca = instance_spawn_ca(c->dir, &e)) == NULL) {
		fprintf(stderr, "sekisho: %s", e.data);
		buf_free(&e);
		return EXIT_FAIL;
	}
	buf_free(&e);
	rc = create_ca(&ca, "default", NULL);
	if (ca_client_close(ca.ca) != 0)
		rc = EXIT_FAIL;
	return rc;
}

/* Whether dir is a Sekisho directory; a message saying how to make one if not. */
static int
dir_ok(const char *dir)
{
	char *conf = xasprintf("%s/sekishod.conf", dir);
	int ok = access(conf, F_OK) == 0;

	if (!ok && errno == ENOENT)
		fail("%s has no sekishod.conf; run \"sekisho init --dir %s --url https://HOST\" "
		    "first", dir, dir);
	else if (!ok)
		fail("%s: %s", conf, strerror(errno));
	free(conf);
	return ok;
}

/* Open DIR (the ca process first, for commands that need it: it opens its own store). */
static int
open_dir(struct cli *c)
{
	struct buf err;

	buf_init(&err, 0);
	if ((c->spec->flags & CMD_CA) && (c->ca = instance_spawn_ca(c->dir, &err)) == NULL) {
		fprintf(stderr, "sekisho: %s", err.data);
		buf_free(&err);
		return -1;
	}
	if (instance_open(&c->in, c->dir, &err) == -1) {
		ca_client_close(c->ca);
		fprintf(stderr, "sekisho: %s", err.data);
		buf_free(&err);
		return -1;
	}
	buf_free(&err);
	return 0;
}

int
main(int argc, char **argv)
{
	struct cli c = { .tenant = "default" };
	int rc;

	log_init("sekisho", 0, LOG_LEVEL_WARN);
	if ((rc = args_parse(argc, argv, &c)) != -1)
		return rc;
	if (c.spec->flags & CMD_NO_DIR)
		return c.spec->run(&c);
	if (c.dir == NULL)
		return usage_fail(&c, "--dir DIR is required");
	if (!store_valid_name(c.tenant, 63))
		return usage_fail(&c, "bad tenant id %s", c.tenant);
	if (!dir_ok(c.dir) || open_dir(&c) == -1)
		return EXIT_FAIL;
	if ((c.spec->flags & CMD_ANY_TENANT) || tenant_exists(&c))
		rc = c.spec->run(&c);
	else
		rc = EXIT_FAIL;
	instance_close(&c.in);
	if (ca_client_close(c.ca) > 0 && rc == 0)
		rc = EXIT_FAIL;
	return rc;
}
