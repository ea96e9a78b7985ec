/*
 * sekisho user and sekisho group: accounts and their passwords, attributes and lockouts,
 * groups and memberships.  Every change is one store transaction with its audit record,
 * which names the operating-system user who made it.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "casvc.h"
#include "cli.h"
#include "clock.h"
#include "crypto.h"
#include "password.h"
#include "store.h"
#include "xmalloc.h"

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

int
cmd_user_add(struct cli *c)
{
	const char *name = arg(c, 0), *email = opt(c, "--email"), *err;
	struct audit_entry ae;
	struct user u = { 0 };
	char *what;
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
	u.name = (char *)name;
	u.email = (char *)email;
	u.display_name = (char *)opt(c, "--name");
	u.created = u.pw_changed = (uint64_t)clock_now();
	/* Whoever first signs in (after a reset link) chooses the password. */
	u.must_change = u.pwhash == NULL;
	cli_audit(&ae, "admin.user.add", "user", name, "email", email, "must_change",
	    u.must_change ? "on" : NULL, NULL);
	rc = store_user_add(c->in.store, c->tenant, &u, &ae, &err);
	if (rc == -1) {
		free(u.pwhash);
		return fail("user %s: %s", name, err);
	}
	printf("user %s added%s\n", name, u.pwhash ? "" : " (without a password: set one with "
	    "sekisho user passwd, or send a link with sekisho user reset-password)");
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
		struct audit_entry ae;
		struct user u = { 0 };
		u.name = l[i].name;
		u.email = l[i].email;
		u.display_name = l[i].display;
		u.created = u.pw_changed = (uint64_t)clock_now();
		u.must_change = pw == NULL;
		if (pw && (u.pwhash = password_hash(&pp, pw, &err)) == NULL)
			break;
		cli_audit(&ae, "admin.user.add", "user", u.name, "email", u.email, "via", "import",
		    NULL);
		if (store_user_add(c->in.store, c->tenant, &u, &ae, &err) == -1) {
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
	struct audit_entry ae;

	cli_audit(&ae, off ? "admin.user.disable" : "admin.user.enable", "user", arg(c, 0), NULL);
	return user_done(arg(c, 0), store_user_set_disabled(c->in.store, c->tenant, arg(c, 0),
	    off, &ae), off ? "disabled" : "enabled");
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
	{
		struct audit_entry ae;
		cli_audit(&ae, "admin.user.passwd", "user", name, NULL);
		rc = store_user_set_password(c->in.store, c->tenant, name, h, clock_now(), &ae);
	}
	free(h);
	return user_done(name, rc, "password changed");
}

int
cmd_user_remove(struct cli *c)
{
	struct audit_entry ae;
	int rc;

	cli_audit(&ae, "admin.user.remove", "user", arg(c, 0), NULL);
	rc = store_user_remove(c->in.store, c->tenant, arg(c, 0), &ae);
	if (rc == 1)
		refresh_crl(c);	/* the user's certificates were revoked with it */
	return user_done(arg(c, 0), rc, "removed");
}

/* ---- groups ---- */

static void
print_group(const void *rec, void *arg)
{
	const struct grouprec *g = rec;

	printf("%s\n", g->name);
}

int
cmd_group_list(struct cli *c)
{
	return store_group_list(c->in.store, c->tenant, print_group, NULL) < 0;
}

/* group members G: the group's members, by name. */
int
cmd_group_members(struct cli *c)
{
	const char *g = arg(c, 0);
	char **names;
	int rc = store_group_members(c->in.store, c->tenant, g, &names);

	if (rc != 1) {
		store_strv_free(names);
		return fail("group %s: %s", g, rc == 0 ? "no such group" : "storage error");
	}
	for (char **p = names; *p; p++)
		printf("%s\n", *p);
	store_strv_free(names);
	return 0;
}

int
cmd_group_add(struct cli *c)
{
	const char *g = arg(c, 0), *err;
	struct audit_entry ae;

	if (!store_valid_name(g, STORE_NAME_MAX))
		return fail("group name must be 1-128 characters of a-z A-Z 0-9 . _ @ + -");
	cli_audit(&ae, "admin.group.add", "group", g, NULL);
	if (store_group_add(c->in.store, c->tenant, g, &ae, &err) == -1)
		return fail("group %s: %s", g, err);
	printf("group %s added\n", g);
	return 0;
}

int
cmd_group_remove(struct cli *c)
{
	const char *g = arg(c, 0);
	struct audit_entry ae;
	int rc;

	cli_audit(&ae, "admin.group.remove", "group", g, NULL);
	if ((rc = store_group_remove(c->in.store, c->tenant, g, &ae)) != 1)
		return fail("group %s: %s", g, rc == 0 ? "no such group" : "storage error");
	printf("group %s removed\n", g);
	return 0;
}

/* group add-member G USER and group remove-member G USER. */
int
cmd_group_member(struct cli *c)
{
	const char *g = arg(c, 0), *u = arg(c, 1), *err;
	int add = !strcmp(c->spec->sub, "add-member"), rc;
	struct audit_entry ae;

	cli_audit(&ae, add ? "admin.group.add_member" : "admin.group.remove_member", "group", g,
	    "user", u, NULL);
	if (add) {
		if (store_member_add(c->in.store, c->tenant, g, u, &ae, &err) == -1)
			return fail("group %s: %s", g, err);
		printf("user %s added to group %s\n", u, g);
		return 0;
	}
	if ((rc = store_member_remove(c->in.store, c->tenant, g, u, &ae)) != 1)
		return fail("group %s: %s", g, rc == 0 ? "not a member" : "storage error");
	printf("user %s removed from group %s\n", u, g);
	return 0;
}

/* ---- user set, user show, user unlock ---- */

#define ATTRS_MAX 8192

/* A key of an extra attribute: 1-64 of [A-Za-z0-9_.-]. */
static int
attr_key_ok(const char *k, size_t n)
{
	return n >= 1 && n <= 64 && strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-") >= n;
}

static int
attr_value_ok(const char *v)
{
	if (strlen(v) > 1024)
		return 0;
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return 0;
	return 1;
}

/* attrs ("key=value" lines) with key set to value (removed when value is ""), sorted. */
static char *
attr_set(const char *attrs, const char *key, size_t klen, const char *value)
{
	struct buf b;
	int done = 0;

	buf_init(&b, 0);
	for (const char *p = attrs ? attrs : ""; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != 0)) {
		size_t n = strcspn(p, "\n"), kl = strcspn(p, "=");
		int cmp = strncmp(p, key, kl < klen ? kl : klen);
		if (cmp == 0)
			cmp = kl < klen ? -1 : kl > klen ? 1 : 0;
		if (cmp >= 0 && !done && *value)
			buf_printf(&b, "%.*s=%s\n", (int)klen, key, value);
		done |= cmp >= 0;
		if (cmp != 0)
			buf_printf(&b, "%.*s\n", (int)n, p);
	}
	if (!done && *value)
		buf_printf(&b, "%.*s=%s\n", (int)klen, key, value);
	return buf_steal(&b, NULL);
}

/* The user's attributes with every --attr KEY=VALUE applied (new string), or NULL. */
static char *
new_attrs(struct cli *c, const char *current)
{
	char *all = opt_all(c, "--attr"), *attrs = xstrdup(current ? current : ""), *next;

	for (char *p = all; p && *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != 0)) {
		size_t n = strcspn(p, "\n"), kl = strcspn(p, "=");
		char *value = xstrndup(p + kl + (kl < n), kl < n ? n - kl - 1 : 0);
		if (kl >= n || !attr_key_ok(p, kl) || !attr_value_ok(value)) {
			fail("--attr takes KEY=VALUE (KEY: 1-64 of A-Z a-z 0-9 _ . -; VALUE: up to "
			    "1024 bytes without control characters; empty removes KEY)");
			free(value);
			free(attrs);
			attrs = NULL;
			break;
		}
		next = attr_set(attrs, p, kl, value);
		free(attrs);
		free(value);
		attrs = next;
	}
	free(all);
	if (attrs && strlen(attrs) > ATTRS_MAX) {
		fail("attributes longer than %d bytes together", ATTRS_MAX);
		free(attrs);
		attrs = NULL;
	}
	return attrs;
}

int
cmd_user_set(struct cli *c)
{
	const char *name = arg(c, 0), *email = opt(c, "--email"), *display = opt(c, "--name");
	struct user_change ch = { .email = email, .display_name = display,
		.break_glass = opt(c, "--break-glass"),
		.must_change = opt(c, "--must-change-password") };
	struct audit_entry ae;
	struct user u;
	char *attrs = NULL;
	const char *err;
	int rc;

	if (!email && !display && !flag(c, "--attr") && !ch.break_glass && !ch.must_change)
		return usage_fail(c, "user set needs --email, --name, --attr, --break-glass or "
		    "--must-change-password");
	if (email && *email && !valid_email(email))
		return fail("%s is not an email address", email);
	if (display && strlen(display) > 256)
		return fail("display name longer than 256 bytes");
	if ((rc = store_user_get(c->in.store, c->tenant, name, &u)) == 1 && flag(c, "--attr"))
		rc = (ch.attrs = attrs = new_attrs(c, u.attrs)) ? 1 : -2;
	store_user_clear(&u);
	if (rc != 1) {
		free(attrs);
		return rc == -2 ? EXIT_FAIL : user_done(name, rc, NULL);
	}
	cli_audit(&ae, "admin.user.set", "user", name, "email", email, "name", display,
	    "attrs", attrs ? "changed" : NULL, "break_glass", ch.break_glass, "must_change",
	    ch.must_change, NULL);
	rc = store_user_update(c->in.store, c->tenant, name, &ch, &ae, &err);
	free(attrs);
	if (rc == -1)
		return fail("user %s: %s", name, err);
	return user_done(name, rc, "changed");
}

int
cmd_user_show(struct cli *c)
{
	const char *name = arg(c, 0);
	char when[2][21], **groups = NULL;
	struct failures f;
	struct user u;
	int rc = store_user_get(c->in.store, c->tenant, name, &u);

	if (rc != 1) {
		store_user_clear(&u);
		return user_done(name, rc, NULL);
	}
	clock_iso8601((int64_t)u.created, when[0]);
	clock_iso8601((int64_t)u.pw_changed, when[1]);
	printf("name=%s\nid=%s\nemail=%s\ndisplay_name=%s\nstatus=%s\npassword=%s\n"
	    "created=%s\npassword_changed=%s\n", u.name, u.id, u.email ? u.email : "",
	    u.display_name ? u.display_name : "", u.disabled ? "disabled" : "enabled",
	    u.pwhash ? "set" : "none", when[0], when[1]);
	if (u.break_glass)
		printf("break_glass=on\n");
	if (u.must_change)
		printf("must_change_password=on\n");
	if (store_failure_get(c->in.store, c->tenant, "user", u.name, &f) == 1)
		printf("failures=%llu\n", (unsigned long long)f.count);
	if (store_user_groups(c->in.store, c->tenant, u.id, &groups) == 0)
		for (char **g = groups; *g; g++)
			printf("group=%s\n", *g);
	store_strv_free(groups);
	for (const char *p = u.attrs ? u.attrs : ""; *p; p += strcspn(p, "\n") + 1)
		printf("attr.%.*s\n", (int)strcspn(p, "\n"), p);
	store_user_clear(&u);
	return 0;
}

/* user unlock NAME: its failure count starts again (backoff and lockout end). */
int
cmd_user_unlock(struct cli *c)
{
	const char *name = arg(c, 0);
	struct failures f;
	struct user u;
	int rc = store_user_get(c->in.store, c->tenant, name, &u), locked;

	if (rc == 1) {
		locked = store_failure_get(c->in.store, c->tenant, "user", u.name, &f) == 1 &&
		    f.count > 0;
		rc = store_failure_clear(c->in.store, c->tenant, "user", u.name) < 0 ? -1 : 1;
		if (rc == 1)
			cli_audit_event(c, c->tenant, "admin.user.unlock", "user", u.name, "failures",
			    locked ? "cleared" : "none", NULL);
	}
	store_user_clear(&u);
	return user_done(name, rc, "unlocked");
}
