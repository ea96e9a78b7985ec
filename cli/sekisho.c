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

#include "ca.h"
#include "casvc.h"
#include "cli.h"
#include "clock.h"
#include "crypto.h"
#include "instance.h"
#include "log.h"
#include "password.h"
#include "store.h"
#include "xmalloc.h"

void
usage(void)
{
	fputs("usage: sekisho init --dir DIR --url https://HOST[:PORT]\n"
	    "       sekisho --dir DIR [--tenant T] COMMAND ...\n"
	    "commands:\n"
	    "  tenant add T [--name NAME] [--ca-key p256|rsa3072] | tenant list\n"
	    "  tenant ca T [--ca-key p256|rsa3072]   (a device CA for a tenant without one)\n"
	    "  user add NAME [--email E] [--name DISPLAY] [--password-stdin]\n"
	    "  user list | user disable NAME | user enable NAME | user remove NAME\n"
	    "  user passwd NAME --password-stdin\n"
	    "  user import FILE [--password-stdin]   (lines: NAME TAB EMAIL TAB DISPLAY NAME)\n"
	    "  group add G | group remove G | group list\n"
	    "  group add-member G USER | group remove-member G USER | group members USER\n"
	    "  app add-saml NAME --metadata FILE [--nameid persistent|transient|email]\n"
	    "                    [--sign-response]\n"
	    "  app add-oidc NAME --redirect-uri URI [--redirect-uri URI]... [--public]\n"
	    "                    [--auth client_secret_basic|client_secret_post|private_key_jwt]\n"
	    "                    [--jwks FILE] [--post-logout-redirect-uri URI]...\n"
	    "                    [--id-token-alg RS256|ES256] [--access-token jwt|opaque]\n"
	    "                    [--backchannel-logout-uri URI] [--grant GRANT[,GRANT...]]\n"
	    "  app list | app remove NAME\n"
	    "  key list [--use saml|oidc|ca] | key rotate [--use saml|oidc]\n"
	    "  cert issue USER --label LABEL --out FILE.p12 --password-stdin [--legacy]\n"
	    "  cert issue USER --label LABEL --csr FILE.csr --out FILE.pem\n"
	    "  cert list [USER] [--expiring-within DURATION] | cert show SERIAL\n"
	    "  cert revoke SERIAL [--reason REASON] | cert crl --out FILE | cert ca --out FILE\n"
	    "  policy set [--user U | --group G | --app A | --tenant] device-required on|off|inherit\n"
	    "  policy list\n"
	    "  audit [--since DURATION] | audit verify\n"
	    "  backup PATH\n", stderr);
	exit(2);
}

int
fail(const char *fmt, ...)
{
	va_list ap;

	fputs("sekisho: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* The value after option name in the command's arguments, or NULL. */
const char *
opt(struct cli *c, const char *name)
{
	for (int i = 0; i < c->argc - 1; i++)
		if (!strcmp(c->argv[i], name))
			return c->argv[i + 1];
	return NULL;
}

/* Every value given for a repeatable option, newline-joined (new string), or NULL. */
char *
opt_all(struct cli *c, const char *name)
{
	struct buf b;

	buf_init(&b, 0);
	for (int i = 0; i < c->argc - 1; i++)
		if (!strcmp(c->argv[i], name))
			buf_printf(&b, "%s%s", b.len ? "\n" : "", c->argv[++i]);
	return b.len ? buf_steal(&b, NULL) : (buf_free(&b), NULL);
}

int
flag(struct cli *c, const char *name)
{
	for (int i = 0; i < c->argc; i++)
		if (!strcmp(c->argv[i], name))
			return 1;
	return 0;
}

/* Reject options the command does not know, so a typo never passes silently. */
int
check_opts(struct cli *c, const char *const *with_value, const char *const *flags)
{
	for (int i = 2; i < c->argc; i++) {
		int ok = 0;
		if (strncmp(c->argv[i], "--", 2) != 0)
			continue;
		for (const char *const *o = with_value; o && *o && !ok; o++)
			if (!strcmp(c->argv[i], *o)) {
				ok = 1;
				i++;
				if (i >= c->argc)
					return fail("%s needs a value", *o);
			}
		for (const char *const *o = flags; o && *o && !ok; o++)
			ok = !strcmp(c->argv[i], *o);
		if (!ok)
			return fail("unknown option %s", c->argv[i]);
	}
	return 0;
}

/* The n-th positional argument after the command words (0-based), or NULL. */
const char *
arg(struct cli *c, int n, const char *const *with_value)
{
	int seen = 0;

	for (int i = 2; i < c->argc; i++) {
		int takes = 0;
		for (const char *const *o = with_value; o && *o; o++)
			if (!strcmp(c->argv[i], *o))
				takes = 1;
		if (takes) {
			i++;
			continue;
		}
		if (!strncmp(c->argv[i], "--", 2))
			continue;
		if (seen++ == n)
			return c->argv[i];
	}
	return NULL;
}

char *
read_password(void)
{
	char buf[PASSWORD_MAX_LEN + 2];
	size_t n;

	if (fgets(buf, sizeof(buf), stdin) == NULL)
		return NULL;
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (n > PASSWORD_MAX_LEN) {
		explicit_bzero(buf, sizeof(buf));
		return NULL;
	}
	if (n && buf[n - 1] == '\r')
		buf[--n] = '\0';
	{
		char *p = xstrdup(buf);
		explicit_bzero(buf, sizeof(buf));
		return p;
	}
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

static char *
hash_from_stdin(struct cli *c, const char **errstr)
{
	struct password_params pp = pw_params(c);
	char *pw = read_password(), *h;

	if (pw == NULL) {
		*errstr = "no password on standard input";
		return NULL;
	}
	if (password_check_policy(pw, errstr) == -1) {
		freezero_str(pw);
		return NULL;
	}
	h = password_hash(&pp, pw, errstr);
	freezero_str(pw);
	return h;
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
print_tenant(const void *rec, void *arg)
{
	const struct tenant *t = rec;
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

static int
cmd_tenant(struct cli *c)
{
	static const char *const v[] = { "--name", "--ca-key", NULL };
	const char *sub = c->argc > 1 ? c->argv[1] : "", *id, *err, *kt = opt(c, "--ca-key");

	if (check_opts(c, v, NULL))
		return 1;
	if (!strcmp(sub, "list"))
		return store_tenant_list(c->in.store, print_tenant, NULL) < 0;
	if ((strcmp(sub, "add") && strcmp(sub, "ca")) || (id = arg(c, 0, v)) == NULL)
		usage();
	if (kt && strcmp(kt, "p256") && strcmp(kt, "rsa3072"))
		return fail("--ca-key must be p256 or rsa3072");
	if (!strcmp(sub, "ca"))
		return create_ca(c, id, kt);
	if (tenant_create(&c->in, id, opt(c, "--name") ? opt(c, "--name") : id, &err) == -1)
		return fail("tenant %s: %s", id, err);
	printf("tenant %s added\n", id);
	return create_ca(c, id, kt);
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
print_user(const void *rec, void *arg)
{
	const struct user *u = rec;
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

static int
user_add(struct cli *c, const char *const *v)
{
	const char *name = arg(c, 0, v), *email = opt(c, "--email"), *err;
	struct user u = { 0 };
	char id[33];
	unsigned char raw[16];
	int rc;

	if (name == NULL)
		usage();
	if (!store_valid_name(name, STORE_NAME_MAX))
		return fail("user name must be 1-128 characters of a-z A-Z 0-9 . _ @ + -");
	if (email && !valid_email(email))
		return fail("%s is not an email address", email);
	if (opt(c, "--name") && strlen(opt(c, "--name")) > 256)
		return fail("display name longer than 256 bytes");
	if (flag(c, "--password-stdin") && (u.pwhash = hash_from_stdin(c, &err)) == NULL)
		return fail("%s", err);
	crypto_random(raw, sizeof(raw));
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(id + 2 * i, 3, "%02x", raw[i]);
	u.id = id;
	u.name = (char *)name;
	u.email = (char *)email;
	u.display_name = (char *)opt(c, "--name");
	u.created = u.pw_changed = (uint64_t)clock_now();
	rc = store_user_add(c->in.store, c->tenant, &u, NULL, &err);
	free(u.pwhash);
	if (rc == -1)
		return fail("user %s: %s", name, err);
	printf("user %s added\n", name);
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

/* Parse and check every line first: a bad file changes nothing. */
static struct import_line *
read_import(struct cli *c, const char *path, size_t *n_r)
{
	struct import_line *l = NULL;
	char line[2048];
	size_t n = 0;
	int lineno = 0, bad = 0;
	FILE *fp = fopen(path, "r");

	if (fp == NULL) {
		fail("%s: %s", path, strerror(errno));
		return NULL;
	}
	while (fgets(line, sizeof(line), fp)) {
		char *f[3] = { NULL, NULL, NULL }, *p = line, *nl = strchr(line, '\n');
		struct user u;
		int k = 0;
		lineno++;
		if (nl == NULL && !feof(fp)) {
			bad = fail("%s:%d: line too long", path, lineno);
			break;
		}
		if (nl)
			*nl = '\0';
		if (*line == '\0' || *line == '#')
			continue;
		for (f[k++] = p; k < 3 && (p = strchr(p, '\t')) != NULL; f[k++] = ++p)
			p[0] = '\0';
		if (p && strchr(p, '\t'))
			bad = fail("%s:%d: more than three fields", path, lineno);
		else if (!store_valid_name(f[0], STORE_NAME_MAX))
			bad = fail("%s:%d: bad user name", path, lineno);
		else if (f[1] && *f[1] && !valid_email(f[1]))
			bad = fail("%s:%d: bad email address", path, lineno);
		else if (f[2] && strlen(f[2]) > 256)
			bad = fail("%s:%d: display name longer than 256 bytes", path, lineno);
		else if (store_user_get(c->in.store, c->tenant, f[0], &u) != 0)
			bad = fail("%s:%d: user %s already exists", path, lineno, f[0]);
		else
			for (size_t i = 0; i < n && !bad; i++)
				if (!strcmp(l[i].name, f[0]))
					bad = fail("%s:%d: user %s repeated", path, lineno, f[0]);
		store_user_clear(&u);
		if (bad)
			break;
		l = xreallocarray(l, n + 1, sizeof(*l));
		l[n].name = xstrdup(f[0]);
		l[n].email = f[1] && *f[1] ? xstrdup(f[1]) : NULL;
		l[n].display = f[2] && *f[2] ? xstrdup(f[2]) : NULL;
		l[n].lineno = lineno;
		n++;
	}
	fclose(fp);
	if (bad) {
		free_lines(l, n);
		return NULL;
	}
	*n_r = n;
	return l ? l : xcalloc(1, sizeof(*l));
}

static int
user_import(struct cli *c, const char *path)
{
	struct password_params pp = pw_params(c);
	struct import_line *l;
	char *pw = NULL;
	const char *err;
	size_t n, done = 0;

	if ((l = read_import(c, path, &n)) == NULL)
		return 1;
	if (flag(c, "--password-stdin")) {
		if ((pw = read_password()) == NULL || password_check_policy(pw, &err) == -1) {
			free_lines(l, n);
			freezero_str(pw);
			return fail("%s", pw ? err : "no password on standard input");
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct user u = { 0 };
		unsigned char raw[16];
		char id[33];
		crypto_random(raw, sizeof(raw));
		for (size_t j = 0; j < sizeof(raw); j++)
			snprintf(id + 2 * j, 3, "%02x", raw[j]);
		u.id = id;
		u.name = l[i].name;
		u.email = l[i].email;
		u.display_name = l[i].display;
		u.created = u.pw_changed = (uint64_t)clock_now();
		if (pw && (u.pwhash = password_hash(&pp, pw, &err)) == NULL)
			break;
		if (store_user_add(c->in.store, c->tenant, &u, NULL, &err) == -1) {
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
	return done == n ? 0 : 1;
}

static int
cmd_user(struct cli *c)
{
	static const char *const v[] = { "--email", "--name", NULL };
	static const char *const f[] = { "--password-stdin", NULL };
	const char *sub = c->argc > 1 ? c->argv[1] : "", *name = arg(c, 0, v), *err;
	int rc;

	if (check_opts(c, v, f) || !tenant_exists(c))
		return 1;
	if (!strcmp(sub, "add"))
		return user_add(c, v);
	if (!strcmp(sub, "list"))
		return store_user_list(c->in.store, c->tenant, print_user, NULL) < 0;
	if (name == NULL)
		usage();
	if (!strcmp(sub, "import"))
		return user_import(c, name);
	if (!strcmp(sub, "disable") || !strcmp(sub, "enable")) {
		rc = store_user_set_disabled(c->in.store, c->tenant, name, !strcmp(sub, "disable"),
		    NULL);
	} else if (!strcmp(sub, "passwd")) {
		char *h;
		if (!flag(c, "--password-stdin"))
			return fail("passwd needs --password-stdin");
		if ((h = hash_from_stdin(c, &err)) == NULL)
			return fail("%s", err);
		rc = store_user_set_password(c->in.store, c->tenant, name, h, clock_now(), NULL);
		free(h);
	} else if (!strcmp(sub, "remove")) {
		rc = store_user_remove(c->in.store, c->tenant, name, NULL);
		if (rc == 1)
			refresh_crl(c);	/* the user's certificates were revoked with it */
	} else {
		usage();
	}
	if (rc != 1)
		return fail("user %s: %s", name, rc == 0 ? "no such user" : "storage error");
	printf("user %s %s\n", name, !strcmp(sub, "disable") ? "disabled" :
	    !strcmp(sub, "enable") ? "enabled" : !strcmp(sub, "passwd") ? "password changed" :
	    "removed");
	return 0;
}

/* ---- groups ---- */

static void
print_group(const void *rec, void *arg)
{
	const struct grouprec *g = rec;

	printf("%s\n", g->name);
}

static int
cmd_group(struct cli *c)
{
	const char *sub = c->argc > 1 ? c->argv[1] : "", *g = arg(c, 0, NULL), *u = arg(c, 1, NULL);
	const char *err;
	int rc;

	if (check_opts(c, NULL, NULL) || !tenant_exists(c))
		return 1;
	if (!strcmp(sub, "list"))
		return store_group_list(c->in.store, c->tenant, print_group, NULL) < 0;
	if (g == NULL)
		usage();
	if (!strcmp(sub, "members")) {
		char **names;
		if ((rc = store_group_members(c->in.store, c->tenant, g, &names)) != 1) {
			store_strv_free(names);
			return fail("group %s: %s", g, rc == 0 ? "no such group" : "storage error");
		}
		for (char **p = names; *p; p++)
			printf("%s\n", *p);
		store_strv_free(names);
		return 0;
	}
	if (!strcmp(sub, "add")) {
		if (!store_valid_name(g, STORE_NAME_MAX))
			return fail("group name must be 1-128 characters of a-z A-Z 0-9 . _ @ + -");
		if (store_group_add(c->in.store, c->tenant, g, NULL, &err) == -1)
			return fail("group %s: %s", g, err);
		printf("group %s added\n", g);
		return 0;
	}
	if (!strcmp(sub, "remove")) {
		if ((rc = store_group_remove(c->in.store, c->tenant, g, NULL)) != 1)
			return fail("group %s: %s", g, rc == 0 ? "no such group" : "storage error");
		printf("group %s removed\n", g);
		return 0;
	}
	if (u == NULL)
		usage();
	if (!strcmp(sub, "add-member")) {
		if (store_member_add(c->in.store, c->tenant, g, u, NULL, &err) == -1)
			return fail("group %s: %s", g, err);
		printf("user %s added to group %s\n", u, g);
		return 0;
	}
	if (!strcmp(sub, "remove-member")) {
		if ((rc = store_member_remove(c->in.store, c->tenant, g, u, NULL)) != 1)
			return fail("group %s: %s", g, rc == 0 ? "not a member" : "storage error");
		printf("user %s removed from group %s\n", u, g);
		return 0;
	}
	usage();
}

/* ---- keys ---- */

static void
print_key(const void *rec, void *arg)
{
	const struct keyrec *k = rec;
	static const char *const states[] = { "?", "active", "next", "retired" };
	char created[21], until[21] = "-";

	clock_iso8601((int64_t)k->created, created);
	if (k->until)
		clock_iso8601((int64_t)k->until, until);
	printf("%s\t%s\t%s\t%s\t%s\t%s\n", k->use, k->kid, k->alg,
	    k->state <= 3 ? states[k->state] : "?", created, until);
}

static int
cmd_key(struct cli *c)
{
	static const char *const v[] = { "--use", NULL };
	const char *sub = c->argc > 1 ? c->argv[1] : "", *use = opt(c, "--use"), *err;

	if (check_opts(c, v, NULL) || !tenant_exists(c))
		return 1;
	if (!strcmp(sub, "list")) {
		if (use == NULL || !strcmp(use, "saml"))
			store_key_list(c->in.store, c->tenant, "saml", print_key, NULL);
		if (use == NULL || !strcmp(use, "oidc"))
			store_key_list(c->in.store, c->tenant, "oidc", print_key, NULL);
		return 0;
	}
	if (strcmp(sub, "rotate"))
		usage();
	use = use ? use : "oidc";
	if (tenant_rotate_keys(&c->in, c->tenant, use, &err) == -1)
		return fail("key rotate: %s", err);
	printf("%s keys of tenant %s rotated\n", use, c->tenant);
	return 0;
}

/* ---- audit, backup ---- */

static void
print_audit(const struct audit_rec *r, void *arg)
{
	char t[21];

	clock_iso8601((int64_t)r->time, t);
	printf("%llu\t%s\t%s\t%s\n", (unsigned long long)r->seq, t, r->event,
	    r->fields ? r->fields : "");
}

static int
cmd_audit(struct cli *c)
{
	static const char *const v[] = { "--since", NULL };
	const char *since = opt(c, "--since"), *err;
	int64_t d = 0;
	uint64_t bad;

	if (check_opts(c, v, NULL) || !tenant_exists(c))
		return 1;
	if (c->argc > 1 && !strcmp(c->argv[1], "verify")) {
		if (store_audit_verify(c->in.store, c->tenant, &bad, &err) == -1)
			return fail("audit trail of %s: %s (record %llu)", c->tenant, err,
			    (unsigned long long)bad);
		printf("audit trail of %s intact\n", c->tenant);
		return 0;
	}
	if (since && clock_parse_duration(since, &d) == -1)
		return fail("--since takes a duration such as 30m, 8h or 7d");
	return store_audit_list(c->in.store, c->tenant, since ? clock_now() - d : 0, print_audit,
	    NULL) < 0;
}

static int
cmd_backup(struct cli *c)
{
	const char *path, *err;

	if (c->argc != 2)
		usage();
	path = c->argv[1];
	if (store_backup(c->in.store, path, &err) == -1)
		return fail("backup to %s: %s", path, err);
	printf("backup written to %s\n", path);
	return 0;
}

static int
cmd_init(const char *dir, const char *url)
{
	struct cli c = { .dir = dir, .tenant = "default" };
	struct buf err;
	int rc;

	if (dir == NULL || url == NULL)
		usage();
	buf_init(&err, 0);
	if (instance_init(dir, url, &err) == -1) {
		fprintf(stderr, "sekisho: %s", err.data ? err.data : "init failed\n");
		buf_free(&err);
		return 1;
	}
	buf_free(&err);
	printf("initialised %s for %s (tenant default)\n", dir, url);
	buf_init(&err, 0);
	c.ca = instance_spawn_ca(dir, &err);
	if (c.ca == NULL) {
		fprintf(stderr, "sekisho: %s", err.data);
		buf_free(&err);
		return 1;
	}
	buf_free(&err);
	rc = create_ca(&c, "default", NULL);
	if (ca_client_close(c.ca) != 0)
		rc = 1;
	return rc;
}

int
main(int argc, char **argv)
{
	struct cli c = { .tenant = "default" };
	char *rest[MAX_ARGS];
	const char *url = NULL;
	struct buf err;
	int n = 0, rc;

	log_init("sekisho", 0, LOG_LEVEL_WARN);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			c.dir = argv[++i];
		else if (!strcmp(argv[i], "--tenant") && n > 0 && !strcmp(rest[0], "policy") &&
		    (i + 1 == argc || !strcmp(argv[i + 1], "device-required")))
			rest[n++] = "--tenant-wide";	/* policy set --tenant: the scope */
		else if (!strcmp(argv[i], "--tenant") && i + 1 < argc)
			c.tenant = argv[++i];
		else if (!strcmp(argv[i], "--url") && i + 1 < argc)
			url = argv[++i];
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			usage();
		else if (n < MAX_ARGS)
			rest[n++] = argv[i];
		else
			usage();
	}
	if (n == 0)
		usage();
	if (!strcmp(rest[0], "init"))
		return n == 1 ? cmd_init(c.dir, url) : (usage(), 2);
	if (c.dir == NULL)
		return fail("--dir DIR is required");
	if (!store_valid_name(c.tenant, 63))
		return fail("bad tenant id");
	buf_init(&err, 0);
	/* Commands that use the CA start the ca process first: it opens its own store. */
	if (!strcmp(rest[0], "cert") || (!strcmp(rest[0], "tenant") && n > 1 &&
	    (!strcmp(rest[1], "add") || !strcmp(rest[1], "ca"))) || (!strcmp(rest[0], "user") &&
	    n > 1 && !strcmp(rest[1], "remove"))) {
		if ((c.ca = instance_spawn_ca(c.dir, &err)) == NULL) {
			fprintf(stderr, "sekisho: %s", err.data);
			buf_free(&err);
			return 1;
		}
	}
	if (instance_open(&c.in, c.dir, &err) == -1) {
		ca_client_close(c.ca);
		fprintf(stderr, "sekisho: %s", err.data);
		buf_free(&err);
		return 1;
	}
	buf_free(&err);
	c.argc = n;
	c.argv = rest;
	if (!strcmp(rest[0], "tenant"))
		rc = cmd_tenant(&c);
	else if (!strcmp(rest[0], "user"))
		rc = cmd_user(&c);
	else if (!strcmp(rest[0], "group"))
		rc = cmd_group(&c);
	else if (!strcmp(rest[0], "app"))
		rc = cmd_app(&c);
	else if (!strcmp(rest[0], "key"))
		rc = cmd_key(&c);
	else if (!strcmp(rest[0], "audit"))
		rc = cmd_audit(&c);
	else if (!strcmp(rest[0], "backup"))
		rc = cmd_backup(&c);
	else if (!strcmp(rest[0], "cert"))
		rc = cmd_cert(&c);
	else if (!strcmp(rest[0], "policy"))
		rc = cmd_policy(&c);
	else
		usage();
	instance_close(&c.in);
	if (ca_client_close(c.ca) > 0 && rc == 0)
		rc = 1;
	return rc;
}
