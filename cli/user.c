/*
 * sekisho user and sekisho group: accounts and their passwords, attributes and lockouts,
 * groups and memberships.  The rules and the writes are admin/user.c's and admin/group.c's
 * (shared with the admin API); here are the command lines, the prompts and the output.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin_role.h"
#include "admin_user.h"
#include "cli.h"
#include "clock.h"
#include "password.h"
#include "store.h"
#include "xmalloc.h"

/*
 * The password a user command takes (see prompt_password), checked against the policy
 * before anything is done with it.  0 with *pw_r (NULL when none was asked for), or an
 * exit status after a message.
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

/* ---- users ---- */

static void
print_user(const void *rec, void *arg)
{
	const struct user *u = rec;
	printf("%s\t%s\t%s\t%s\n", u->name, u->email ? u->email : "-",
	    u->display_name ? u->display_name : "-", u->disabled ? "disabled" : "enabled");
}

int
cmd_user_add(struct cli *c)
{
	struct admin_user_in in = { .name = arg(c, 0), .email = opt(c, "--email"),
		.display_name = opt(c, "--name"), .operator = flag(c, "--operator") };
	char *pw, *what;
	int rc, with_pw;

	if (admin_user_check(&c->adm, &in) == -1)
		return fail("%s", c->adm.msg);
	what = xasprintf("Password for %s", in.name);
	rc = prompt_password(c, 0, what, &pw);
	free(what);
	if (rc != 0)
		return rc;
	in.password = pw;
	with_pw = pw != NULL;
	rc = admin_user_add(&c->adm, &in, NULL);
	freezero_str(pw);
	if (rc == -1)
		return fail("%s", c->adm.msg);
	printf("user %s added%s%s\n", in.name, in.operator ? " (an operator account, not "
	    "counted against the licence)" : "", with_pw ? "" : " (without a password: set one "
	    "with sekisho user passwd, or send a link with sekisho user reset-password)");
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

/* Split the fields of one line into l; 0, or an exit status after a message. */
static int
parse_import_line(const char *where, char *line, struct import_line *l)
{
	char *f[3] = { NULL, NULL, NULL }, *p = line;
	int k = 0;

	for (f[k++] = p; k < 3 && (p = strchr(p, '\t')) != NULL; f[k++] = ++p)
		p[0] = '\0';
	if (p && strchr(p, '\t'))
		return fail("%s: more than three fields", where);
	l->name = xstrdup(f[0]);
	l->email = f[1] && *f[1] ? xstrdup(f[1]) : NULL;
	l->display = f[2] && *f[2] ? xstrdup(f[2]) : NULL;
	return 0;
}

/* Parse every line of the file (the checks are the admin layer's). */
static struct import_line *
read_import(const char *path, size_t *n_r)
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
		char *nl = strchr(line, '\n');
		snprintf(where, sizeof(where), "%.1000s:%d", path, ++lineno);
		if (nl == NULL && !feof(fp)) {
			bad = fail("%s: line too long", where);
			break;
		}
		if (nl)
			*nl = '\0';
		if (*line == '\0' || *line == '#')
			continue;
		l = xreallocarray(l, n + 1, sizeof(*l));
		if ((bad = parse_import_line(where, line, &l[n])) == 0)
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

/* The admin layer's refusal, after the file's line of the user at fault. */
static int
import_fail(struct cli *c, const char *path, const struct import_line *l, size_t at)
{
	return fail("%s:%d: %s", path, l[at].lineno, c->adm.msg);
}

int
cmd_user_import(struct cli *c)
{
	const char *path = arg(c, 0);
	struct admin_user_in *in;
	struct import_line *l;
	char *pw = NULL;
	size_t n, at;
	int rc = EXIT_FAIL;

	if ((l = read_import(path, &n)) == NULL)
		return EXIT_FAIL;
	in = xcalloc(n ? n : 1, sizeof(*in));
	for (size_t i = 0; i < n; i++) {
		in[i].name = l[i].name;
		in[i].email = l[i].email;
		in[i].display_name = l[i].display;
	}
	/* A bad file fails before the password is asked for. */
	if (admin_user_import_check(&c->adm, in, n, &at) == -1)
		import_fail(c, path, l, at);
	else if ((rc = user_password(c, 0, "Password for the imported users", &pw)) == 0 &&
	    (rc = admin_user_import(&c->adm, in, n, pw, &at)) == -1)
		rc = import_fail(c, path, l, at);
	else if (rc == 0)
		printf("%zu users imported\n", n);
	freezero_str(pw);
	free(in);
	free_lines(l, n);
	return rc;
}

int
cmd_user_list(struct cli *c)
{
	return store_user_list(c->in.store, c->tenant, print_user, NULL) < 0;
}

/* What an admin_* call on kind name did (rc 0: what), or its failure. */
static int
admin_done(struct cli *c, const char *kind, const char *name, int rc, const char *what)
{
	if (rc == -1)
		return fail("%s", c->adm.msg);
	printf("%s %s %s\n", kind, name, what);
	return 0;
}

/* The message for the result rc of a store lookup of user name (1 found). */
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

	return admin_done(c, "user", arg(c, 0), admin_user_set_disabled(&c->adm, arg(c, 0), off),
	    off ? "disabled" : "enabled");
}

int
cmd_user_passwd(struct cli *c)
{
	const char *name = arg(c, 0);
	struct user u;
	char *pw, *what;
	int rc;

	/* Ask only for a user who exists. */
	rc = store_user_get(c->in.store, c->tenant, name, &u);
	store_user_clear(&u);
	if (rc != 1)
		return user_done(name, rc, NULL);
	what = xasprintf("New password for %s", name);
	rc = prompt_password(c, 1, what, &pw);
	free(what);
	if (rc != 0)
		return rc;
	rc = admin_user_set_password(&c->adm, name, pw);
	freezero_str(pw);
	return admin_done(c, "user", name, rc, "password changed");
}

int
cmd_user_remove(struct cli *c)
{
	return admin_done(c, "user", arg(c, 0), admin_user_remove(&c->adm, arg(c, 0)),
	    "removed");
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
	return admin_done(c, "group", arg(c, 0), admin_group_add(&c->adm, arg(c, 0), NULL),
	    "added");
}

int
cmd_group_remove(struct cli *c)
{
	return admin_done(c, "group", arg(c, 0), admin_group_remove(&c->adm, arg(c, 0)),
	    "removed");
}

/* 1 when user is a member of group g (0 also when there is no such group), or -1. */
static int
is_member(struct cli *c, const char *g, const char *user)
{
	char **names;
	int rc = store_group_members(c->in.store, c->tenant, g, &names);

	if (rc == 1) {
		rc = 0;
		for (char **p = names; *p && !rc; p++)
			rc = !strcasecmp(*p, user);
	}
	store_strv_free(names);
	return rc;
}

/* group add-member G USER and group remove-member G USER. */
int
cmd_group_member(struct cli *c)
{
	const char *g = arg(c, 0), *u = arg(c, 1);
	int add = !strcmp(c->spec->sub, "add-member"), rc;

	if (!add && (rc = is_member(c, g, u)) != 1)
		return fail("group %s: %s", g, rc == 0 ? "not a member" : "storage error");
	rc = add ? admin_member_add(&c->adm, g, u) : admin_member_remove(&c->adm, g, u);
	if (rc == -1)
		return fail("%s", c->adm.msg);
	printf("user %s %s group %s\n", u, add ? "added to" : "removed from", g);
	return 0;
}

/* ---- user set, user show, user unlock ---- */

/* The user's attributes with every --attr KEY=VALUE applied (new string), or NULL. */
static char *
new_attrs(struct cli *c, const char *current)
{
	char *all = opt_all(c, "--attr"), *attrs = xstrdup(current ? current : ""), *next;

	for (char *p = all; p && *p && attrs; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != 0)) {
		size_t n = strcspn(p, "\n"), kl = strcspn(p, "=");
		char *key = xstrndup(p, kl), *value = xstrndup(p + kl + (kl < n), kl < n ?
		    n - kl - 1 : 0);
		next = kl < n ? admin_attrs_set(&c->adm, attrs, key, value) : NULL;
		if (next == NULL)
			fail("--attr takes KEY=VALUE (KEY: 1-64 of A-Z a-z 0-9 _ . -; VALUE: up to "
			    "1024 bytes without control characters; empty removes KEY)");
		free(key);
		free(value);
		free(attrs);
		attrs = next;
	}
	free(all);
	return attrs;
}

int
cmd_user_set(struct cli *c)
{
	const char *name = arg(c, 0), *email = opt(c, "--email"), *display = opt(c, "--name");
	struct user_change ch = { .email = email, .display_name = display,
		.break_glass = opt(c, "--break-glass"),
		.must_change = opt(c, "--must-change-password") };
	struct user u;
	char *attrs = NULL;
	uint64_t role, on = 1, off = 0;
	int rc;

	if (!email && !display && !flag(c, "--attr") && !ch.break_glass && !ch.must_change &&
	    !opt(c, "--role") && !flag(c, "--operator") && !flag(c, "--no-operator"))
		return usage_fail(c, "user set needs --email, --name, --attr, --break-glass, "
		    "--must-change-password, --role, --operator or --no-operator");
	if (flag(c, "--operator") && flag(c, "--no-operator"))
		return usage_fail(c, "--operator and --no-operator exclude each other");
	ch.operator = flag(c, "--operator") ? &on : flag(c, "--no-operator") ? &off : NULL;
	if (opt(c, "--role") && admin_user_role(&c->adm, opt(c, "--role"), &role) == -1)
		return fail("--role %s: %s", opt(c, "--role"), c->adm.msg);
	ch.role = opt(c, "--role") ? &role : NULL;
	/* A missing user is reported by admin_user_update, after the checks of the values. */
	if ((rc = store_user_get(c->in.store, c->tenant, name, &u)) == 1 && flag(c, "--attr"))
		rc = (ch.attrs = attrs = new_attrs(c, u.attrs)) ? 1 : -2;
	store_user_clear(&u);
	if (rc < 0) {
		free(attrs);
		return rc == -2 ? EXIT_FAIL : user_done(name, rc, NULL);
	}
	rc = admin_user_update(&c->adm, name, &ch);
	free(attrs);
	return admin_done(c, "user", name, rc, "changed");
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
	printf("role=%s\n", admin_role_name(u.role));
	if (u.operator)
		printf("operator=on\n");
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
	return admin_done(c, "user", arg(c, 0), admin_user_unlock(&c->adm, arg(c, 0)),
	    "unlocked");
}
