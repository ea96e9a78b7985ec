/*
 * Users of a tenant: the rules their names, e-mail addresses, display names, passwords and
 * extra attributes follow, and the store writes with their audit records.  The sekisho
 * command line, the admin API and the SCIM server all change users through here.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin_licence.h"
#include "admin_role.h"
#include "admin_user.h"
#include "audit.h"
#include "buf.h"
#include "casvc.h"
#include "clock.h"
#include "password.h"
#include "store.h"
#include "xmalloc.h"

#define DISPLAY_MAX 256		/* bytes of a display name */
#define ATTRS_MAX 8192		/* bytes of all extra attributes together */
#define ATTR_KEY_MAX 64
#define ATTR_VALUE_MAX 1024

/* The failure for a store error err about user name (a conflict or a storage failure). */
static int
store_fail(struct admin *a, const char *what, const char *name, const char *err)
{
	if (admin_licence_refused(a, err) == -1)
		return -1;
	if (strstr(err, "email"))
		return admin_fail(a, ADMIN_CONFLICT, "email", "%s %s: %s", what, name, err);
	if (strstr(err, "exist") || strstr(err, "taken"))
		return admin_fail(a, ADMIN_CONFLICT, "name", "%s %s: %s", what, name, err);
	if (strstr(err, "invalid") || strstr(err, "not valid"))
		return admin_fail(a, ADMIN_INVALID, "name", "%s %s: %s", what, name, err);
	return admin_fail(a, ADMIN_FAILED, NULL, "%s %s: %s", what, name, err);
}

/* The failure for the result rc (0 or -1) of a store call on user name. */
static int
lookup_fail(struct admin *a, const char *name, int rc)
{
	if (rc == 0)
		return admin_fail(a, ADMIN_NOT_FOUND, NULL, "user %s: no such user", name);
	return admin_fail(a, ADMIN_FAILED, NULL, "user %s: storage error", name);
}

static int
check_email(struct admin *a, const char *email)
{
	if (email && *email && !admin_valid_email(email))
		return admin_fail(a, ADMIN_INVALID, "email", "%s is not an email address", email);
	return 0;
}

static int
check_display(struct admin *a, const char *display)
{
	if (display && strlen(display) > DISPLAY_MAX)
		return admin_fail(a, ADMIN_INVALID, "display_name",
		    "display name longer than %d bytes", DISPLAY_MAX);
	return 0;
}

/* "on", "off" or NULL. */
static int
check_switch(struct admin *a, const char *field, const char *v)
{
	if (v && strcmp(v, "on") && strcmp(v, "off"))
		return admin_fail(a, ADMIN_INVALID, field, "%s is on or off", field);
	return 0;
}

/* ---- extra attributes: "key=value" lines, sorted by key ---- */

/* A key: 1-64 of [A-Za-z0-9_.-]. */
static int
attr_key_ok(const char *k, size_t n)
{
	return n >= 1 && n <= ATTR_KEY_MAX && strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_.-") >= n;
}

/* A value: up to 1024 bytes without control characters. */
static int
attr_value_ok(const char *v)
{
	if (strlen(v) > ATTR_VALUE_MAX)
		return 0;
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return 0;
	return 1;
}

/* The length of the line at p and the start of the next one. */
static const char *
next_line(const char *p, size_t *n_r)
{
	*n_r = strcspn(p, "\n");
	return p + *n_r + (p[*n_r] != '\0');
}

/* attrs with key (klen bytes) set to value, or removed when value is "": a new string. */
static char *
attrs_put(const char *attrs, const char *key, size_t klen, const char *value)
{
	struct buf b;
	const char *p = attrs ? attrs : "", *next;
	size_t n;
	int done = 0;

	buf_init(&b, 0);
	for (; *p; p = next) {
		size_t kl = strcspn(p, "=\n");
		int cmp = strncmp(p, key, kl < klen ? kl : klen);
		next = next_line(p, &n);
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

char *
admin_attrs_set(struct admin *a, const char *attrs, const char *key, const char *value)
{
	if (!attr_key_ok(key, strlen(key))) {
		admin_fail(a, ADMIN_INVALID, "attributes", "attribute name %.64s: 1-%d of A-Z a-z "
		    "0-9 _ . -", key, ATTR_KEY_MAX);
		return NULL;
	}
	if (value && !attr_value_ok(value)) {
		admin_fail(a, ADMIN_INVALID, "attributes", "attribute %s: the value must be up to "
		    "%d bytes without control characters", key, ATTR_VALUE_MAX);
		return NULL;
	}
	return attrs_put(attrs, key, strlen(key), value ? value : "");
}

char *
admin_attrs_get(const char *attrs, const char *key)
{
	size_t klen = strlen(key), n;

	for (const char *p = attrs ? attrs : "", *next; *p; p = next) {
		next = next_line(p, &n);
		if (n > klen && p[klen] == '=' && !strncmp(p, key, klen))
			return xstrndup(p + klen + 1, n - klen - 1);
	}
	return NULL;
}

/* attrs ("key=value" lines from outside) checked and sorted (new string), or NULL. */
static char *
attrs_normal(struct admin *a, const char *attrs)
{
	char *out = xstrdup(""), *next, *key, *value;
	size_t n;

	for (const char *p = attrs, *nl; *p && out; p = nl) {
		nl = next_line(p, &n);
		if (n == 0)
			continue;
		if (memchr(p, '=', n) == NULL) {
			admin_fail(a, ADMIN_INVALID, "attributes", "attributes are KEY=VALUE lines");
			free(out);
			return NULL;
		}
		key = xstrndup(p, strcspn(p, "="));
		value = xstrndup(p + strlen(key) + 1, n - strlen(key) - 1);
		next = admin_attrs_set(a, out, key, value);
		free(key);
		free(value);
		free(out);
		out = next;
	}
	return out;
}

static int
check_attrs_len(struct admin *a, const char *attrs)
{
	if (attrs && strlen(attrs) > ATTRS_MAX)
		return admin_fail(a, ADMIN_INVALID, "attributes",
		    "attributes longer than %d bytes together", ATTRS_MAX);
	return 0;
}

/* ---- adding ---- */

int
admin_user_check(struct admin *a, const struct admin_user_in *in)
{
	char *attrs;
	int rc;

	if (in->name == NULL || !store_valid_name(in->name, STORE_NAME_MAX))
		return admin_fail(a, ADMIN_INVALID, "name",
		    "user name must be 1-128 characters of a-z A-Z 0-9 . _ @ + -");
	if (in->email && !admin_valid_email(in->email))
		return admin_fail(a, ADMIN_INVALID, "email", "%s is not an email address",
		    in->email);
	if (check_display(a, in->display_name) == -1)
		return -1;
	if (in->attrs == NULL)
		return 0;
	if ((attrs = attrs_normal(a, in->attrs)) == NULL)
		return -1;
	rc = check_attrs_len(a, attrs);
	free(attrs);
	return rc;
}

/* password checked against the policy and hashed (new string), or NULL after admin_fail. */
static char *
hash_password(struct admin *a, const char *password)
{
	const struct settings *s = &a->in->settings;
	struct password_params pp = { (uint32_t)s->argon2_t_cost,
		(uint32_t)(s->argon2_m_cost / 1024), (uint32_t)s->argon2_parallelism };
	const char *err;
	char *h;

	if (password_check_policy(password, &err) == -1) {
		admin_fail(a, ADMIN_INVALID, "password", "%s", err);
		return NULL;
	}
	if ((h = password_hash(&pp, password, &err)) == NULL)
		admin_fail(a, ADMIN_INVALID, "password", "%s", err);
	return h;
}

int
admin_user_add_via(struct admin *a, const struct admin_user_in *in, const char *via,
    char **id_r)
{
	struct audit_entry ae;
	struct user u = { 0 };
	const char *err;
	int rc = -1;

	if (admin_user_check(a, in) == -1)
		return -1;
	if (in->password && (u.pwhash = hash_password(a, in->password)) == NULL)
		return -1;
	u.id = store_new_id();
	u.name = (char *)in->name;
	u.email = (char *)in->email;
	u.display_name = in->display_name && *in->display_name ? (char *)in->display_name : NULL;
	u.attrs = in->attrs ? attrs_normal(a, in->attrs) : NULL;
	u.disabled = in->disabled != 0;
	u.operator = in->operator != 0;
	u.created = u.pw_changed = (uint64_t)clock_now();
	/* Whoever first signs in (after a reset link) chooses the password. */
	u.must_change = u.pwhash == NULL;
	admin_audit(a, &ae, "admin.user.add", "user", u.name, "email", u.email, "must_change",
	    u.must_change && !via ? "on" : NULL, "disabled", u.disabled ? "on" : NULL, "via", via,
	    "operator", u.operator ? "on" : NULL, NULL);
	if (store_user_add(a->in->store, a->tenant, &u, &ae, &err) == -1)
		store_fail(a, "user", in->name, err);
	else
		rc = 0;
	if (rc == 0 && id_r)
		*id_r = u.id;
	else
		free(u.id);
	freezero_str(u.pwhash);
	free(u.attrs);
	return rc;
}

int
admin_user_add(struct admin *a, const struct admin_user_in *in, char **id_r)
{
	return admin_user_add_via(a, in, NULL, id_r);
}

/* ---- importing ---- */

/* "name" or "email" when in[i] has one given by a user before it (case aside), or NULL. */
static const char *
repeated(const struct admin_user_in *in, size_t i)
{
	for (size_t j = 0; j < i; j++) {
		if (!strcasecmp(in[j].name, in[i].name))
			return "name";
		if (in[i].email && in[j].email && !strcasecmp(in[j].email, in[i].email))
			return "email";
	}
	return NULL;
}

/* admin_user_check's refusal of an import's user, saying first what is bad. */
static int
check_fail(struct admin *a)
{
	const char *field = a->field ? a->field : "";
	char msg[sizeof(a->msg)];

	snprintf(msg, sizeof(msg), "%s", a->msg);
	return admin_fail(a, a->status, a->field, "%s%s", !strcmp(field, "name") ?
	    "bad user name: " : !strcmp(field, "email") ? "bad email address: " : "", msg);
}

/* User in[i] of an import against the store and the users before it. */
static int
import_one_ok(struct admin *a, const struct admin_user_in *in, size_t i)
{
	const char *field;
	struct user u;
	int rc;

	if (admin_user_check(a, &in[i]) == -1)
		return check_fail(a);
	if ((field = repeated(in, i)) != NULL)
		return admin_fail(a, ADMIN_INVALID, field, "%s %s repeated", *field == 'n' ?
		    "user" : "email address", *field == 'n' ? in[i].name : in[i].email);
	rc = store_user_get(a->in->store, a->tenant, in[i].name, &u);
	store_user_clear(&u);
	if (rc != 0)
		return rc == 1 ? admin_fail(a, ADMIN_INVALID, "name", "user %s already exists",
		    in[i].name) : lookup_fail(a, in[i].name, rc);
	if (in[i].email == NULL)
		return 0;
	rc = store_user_get_by_email(a->in->store, a->tenant, in[i].email, &u);
	store_user_clear(&u);
	if (rc == 1)
		return admin_fail(a, ADMIN_INVALID, "email", "user %s: another user has the email "
		    "address %s", in[i].name, in[i].email);
	return rc == 0 ? 0 : lookup_fail(a, in[i].name, rc);
}

int
admin_user_import_check(struct admin *a, const struct admin_user_in *in, size_t n,
    size_t *at_r)
{
	admin_ok(a);
	for (*at_r = 0; *at_r < n; ++*at_r)
		if (import_one_ok(a, in, *at_r) == -1)
			return -1;
	*at_r = 0;
	return 0;
}

/* The store record of in with the hash h (borrowed members but the new id and attrs). */
static void
import_record(struct admin *a, const struct admin_user_in *in, char *h, uint64_t now,
    struct user *u)
{
	memset(u, 0, sizeof(*u));
	u->id = store_new_id();
	u->attrs = in->attrs ? attrs_normal(a, in->attrs) : NULL;	/* checked already */
	u->disabled = in->disabled != 0;
	u->name = (char *)in->name;
	u->email = (char *)in->email;
	u->display_name = in->display_name && *in->display_name ? (char *)in->display_name :
	    NULL;
	u->pwhash = h;
	u->created = u->pw_changed = now;
	u->must_change = h == NULL;
}

int
admin_user_import(struct admin *a, const struct admin_user_in *in, size_t n,
    const char *password, size_t *at_r)
{
	struct audit_entry *ae;
	struct user *u;
	const char *err;
	char *h = NULL;
	int rc = 0;

	if (admin_user_import_check(a, in, n, at_r) == -1)
		return -1;
	/* One hash for all: they share the password anyway, and 1,000 Argon2 runs would hold
	 * the caller for minutes. */
	if (password && (h = hash_password(a, password)) == NULL)
		return -1;
	u = xcalloc(n ? n : 1, sizeof(*u));
	ae = xcalloc(n ? n : 1, sizeof(*ae));
	for (size_t i = 0; i < n; i++) {
		import_record(a, &in[i], h, (uint64_t)clock_now(), &u[i]);
		admin_audit(a, &ae[i], "admin.user.add", "user", u[i].name, "email", u[i].email,
		    "via", "import", NULL);
	}
	if (n && store_user_add_many(a->in->store, a->tenant, u, ae, n, at_r, &err) == -1)
		rc = store_fail(a, "user", in[*at_r].name, err);
	for (size_t i = 0; i < n; i++) {
		free(u[i].id);
		free(u[i].attrs);
	}
	free(u);
	free(ae);
	freezero_str(h);
	return rc;
}

/* ---- changing ---- */

int
admin_user_role(struct admin *a, const char *name, uint64_t *role_r)
{
	enum admin_role r;

	if (name == NULL || admin_role_parse(name, &r) == -1)
		return admin_fail(a, ADMIN_INVALID, "role", "role must be user, helpdesk or admin");
	*role_r = (uint64_t)r;
	return 0;
}

int
admin_user_update(struct admin *a, const char *name, const struct user_change *ch)
{
	struct user_change c = *ch;
	struct audit_entry ae;
	const char *err;
	char *attrs = NULL;
	int rc;

	if (check_email(a, ch->email) == -1 || check_display(a, ch->display_name) == -1 ||
	    check_switch(a, "break_glass", ch->break_glass) == -1 ||
	    check_switch(a, "must_change_password", ch->must_change) == -1)
		return -1;
	if (ch->attrs && ((c.attrs = attrs = attrs_normal(a, ch->attrs)) == NULL ||
	    check_attrs_len(a, attrs) == -1)) {
		free(attrs);
		return -1;
	}
	admin_audit(a, &ae, "admin.user.set", "user", name, "email", ch->email, "name",
	    ch->display_name, "attrs", ch->attrs ? "changed" : NULL, "break_glass",
	    ch->break_glass, "must_change", ch->must_change, "role",
	    ch->role ? admin_role_name(*ch->role) : NULL, "operator",
	    ch->operator ? (*ch->operator ? "on" : "off") : NULL, NULL);
	rc = store_user_update(a->in->store, a->tenant, name, &c, &ae, &err);
	free(attrs);
	if (rc == -1)
		return store_fail(a, "user", name, err);
	return rc == 1 ? 0 : lookup_fail(a, name, rc);
}

int
admin_user_rename(struct admin *a, const char *name, const char *new_name)
{
	struct audit_entry ae;
	const char *err = "storage error";
	int rc;

	if (new_name == NULL || !store_valid_name(new_name, STORE_NAME_MAX))
		return admin_fail(a, ADMIN_INVALID, "name",
		    "user name must be 1-128 characters of a-z A-Z 0-9 . _ @ + -");
	admin_audit(a, &ae, "admin.user.rename", "user", name, "new_name", new_name, NULL);
	rc = store_user_rename(a->in->store, a->tenant, name, new_name, &ae, &err);
	if (rc == -1)
		return store_fail(a, "user", new_name, err);
	return rc == 1 ? 0 : lookup_fail(a, name, rc);
}

int
admin_user_set_disabled(struct admin *a, const char *name, int disabled)
{
	struct audit_entry ae;
	const char *err = "storage error";
	int rc;

	admin_audit(a, &ae, disabled ? "admin.user.disable" : "admin.user.enable", "user", name,
	    NULL);
	rc = store_user_set_disabled_err(a->in->store, a->tenant, name, disabled, &ae, &err);
	if (rc == -1 && admin_licence_refused(a, err) == -1)
		return -1;
	return rc == 1 ? 0 : lookup_fail(a, name, rc);
}

int
admin_user_set_password(struct admin *a, const char *name, const char *password)
{
	struct audit_entry ae;
	struct user u;
	char *h;
	int rc = store_user_get(a->in->store, a->tenant, name, &u);

	store_user_clear(&u);
	if (rc != 1)
		return lookup_fail(a, name, rc);
	if (password == NULL)
		return admin_fail(a, ADMIN_INVALID, "password", "a password is required");
	if ((h = hash_password(a, password)) == NULL)
		return -1;
	admin_audit(a, &ae, "admin.user.passwd", "user", name, NULL);
	rc = store_user_set_password(a->in->store, a->tenant, name, h, clock_now(), &ae);
	freezero_str(h);
	return rc == 1 ? 0 : lookup_fail(a, name, rc);
}

/* Its failure count starts again: backoff and lockout end. */
int
admin_user_unlock(struct admin *a, const char *name)
{
	struct failures f;
	struct user u;
	int rc = store_user_get(a->in->store, a->tenant, name, &u), locked;

	if (rc == 1) {
		locked = store_failure_get(a->in->store, a->tenant, "user", u.name, &f) == 1 &&
		    f.count > 0;
		rc = store_failure_clear(a->in->store, a->tenant, "user", u.name) < 0 ? -1 : 1;
		if (rc == 1)
			admin_audit_event(a, "admin.user.unlock", "user", u.name, "failures",
			    locked ? "cleared" : "none", NULL);
	}
	store_user_clear(&u);
	return rc == 1 ? 0 : lookup_fail(a, name, rc);
}

/* Have the CRL rebuilt after revocations (quietly: a tenant may have no CA). */
static void
refresh_crl(struct admin *a)
{
	struct ca_request rq = { .op = CA_OP_CRL, .tenant = (char *)a->tenant };
	struct ca_reply rp;

	if (a->ca && admin_ca_call(a, &rq, &rp) == 0)
		ca_reply_clear(&rp);
	admin_ok(a);
}

int
admin_user_remove(struct admin *a, const char *name)
{
	struct audit_entry ae;
	int rc;

	admin_audit(a, &ae, "admin.user.remove", "user", name, NULL);
	rc = store_user_remove(a->in->store, a->tenant, name, &ae);
	if (rc == 1)
		refresh_crl(a);	/* the user's certificates were revoked with it */
	return rc == 1 ? 0 : lookup_fail(a, name, rc);
}
