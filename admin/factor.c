/*
 * Second factors and password resets of a tenant's users as an administrator handles
 * them: the user looked up, a factor id checked, a hardware token's seed made (its URI
 * goes back once), a factor removed, a reset link made and handed back or mailed.  The
 * command line and the admin API both come through here.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "admin_factor.h"
#include "audit.h"
#include "factor.h"
#include "mail.h"
#include "store.h"
#include "xmalloc.h"

/* The user called name into u: 0, or -1 after admin_fail (u cleared). */
static int
get_user(struct admin *a, const char *name, struct user *u)
{
	int rc = store_user_get(a->in->store, a->tenant, name, u);

	if (rc == 1)
		return 0;
	store_user_clear(u);
	if (rc == 0)
		return admin_fail(a, ADMIN_NOT_FOUND, NULL, "user %s: no such user", name);
	return admin_fail(a, ADMIN_FAILED, NULL, "user %s: storage error", name);
}

int
admin_factor_list(struct admin *a, const char *name, store_each_fn cb, void *arg)
{
	struct user u;
	int rc;

	if (get_user(a, name, &u) == -1)
		return -1;
	rc = store_factor_list(a->in->store, a->tenant, u.id, cb, arg);
	store_user_clear(&u);
	if (rc < 0)
		return admin_fail(a, ADMIN_FAILED, NULL, "storage error");
	return 0;
}

/* A factor id as the store makes them: 16 hex digits. */
static int
factor_id_ok(const char *id)
{
	return strlen(id) == 16 && strspn(id, "0123456789abcdefABCDEF") == 16;
}

/* The id checked, then the user into u: 0, or -1 after admin_fail. */
static int
factor_owner(struct admin *a, const char *name, const char *id, struct user *u)
{
	/* a malformed id names no factor: not found, as an unknown one */
	if (!factor_id_ok(id))
		return admin_fail(a, ADMIN_NOT_FOUND, "id", "factor id \"%s\": not 16 hex digits "
		    "(see sekisho user factors %s)", id, name);
	return get_user(a, name, u);
}

int
admin_factor_get(struct admin *a, const char *name, const char *id, struct factor *f_r)
{
	struct user u;
	int rc;

	memset(f_r, 0, sizeof(*f_r));
	if (factor_owner(a, name, id, &u) == -1)
		return -1;
	rc = store_factor_get(a->in->store, a->tenant, u.id, id, f_r);
	store_user_clear(&u);
	if (rc == 1)
		return 0;
	store_factor_clear(f_r);
	if (rc == 0)
		return admin_fail(a, ADMIN_NOT_FOUND, "id", "user %s: no such factor", name);
	return admin_fail(a, ADMIN_FAILED, NULL, "user %s: storage error", name);
}

int
admin_factor_codes_left(const struct factor *f)
{
	int n = 0;

	for (int i = 0; i < FACTOR_RECOVERY_CODES; i++)
		n += (f->counter & (1ULL << i)) == 0;
	return n;
}

int
admin_otp_add(struct admin *a, const char *name, const char *label, char **id_r,
    char **uri_r)
{
	struct audit_entry ae;
	const char *err;
	struct user u;
	int rc;

	*uri_r = NULL;
	if (get_user(a, name, &u) == -1)
		return -1;
	if (label == NULL)
		label = "TOTP";
	admin_audit(a, &ae, "admin.user.otp_add", "user", u.name, "label", label, NULL);
	rc = factor_totp_create(a->in, a->tenant, &u, label, 0, &ae, id_r, uri_r, NULL, &err);
	store_user_clear(&u);
	if (rc == 0)
		return 0;
	if (strstr(err, "label"))
		return admin_fail(a, ADMIN_INVALID, "label", "user %s: %s", name, err);
	if (strstr(err, "too many"))
		return admin_fail(a, ADMIN_LIMIT, NULL, "user %s: %s", name, err);
	return admin_fail(a, ADMIN_FAILED, NULL, "user %s: %s", name, err);
}

int
admin_factor_remove(struct admin *a, const char *name, const char *id)
{
	struct audit_entry ae;
	struct user u;
	int rc;

	if (factor_owner(a, name, id, &u) == -1)
		return -1;
	admin_audit(a, &ae, "admin.user.factor_remove", "user", u.name, "factor", id, NULL);
	rc = store_factor_remove(a->in->store, a->tenant, u.id, id, &ae);
	store_user_clear(&u);
	if (rc == 1)
		return 0;
	if (rc == 0)
		return admin_fail(a, ADMIN_NOT_FOUND, "id", "user %s: no such factor", name);
	return admin_fail(a, ADMIN_FAILED, NULL, "user %s: storage error", name);
}

/* ---- reset links ---- */

/* Whether a link can reach u by via; checked before a new token voids older ones. */
static int
can_deliver(struct admin *a, const struct user *u, enum admin_reset_via via)
{
	if (via == ADMIN_RESET_LINK)
		return 0;
	if (a->in->settings.smtp_relay == NULL)
		return admin_fail(a, ADMIN_CONFLICT, "delivery",
		    "no mail relay (smtp_relay) configured");
	if (u->email == NULL || *u->email == '\0')
		return admin_fail(a, ADMIN_CONFLICT, "delivery", "user %s has no e-mail address",
		    u->name);
	return 0;
}

/* Mail link to u now; 0, or -1 after admin_fail. */
static int
mail_link(struct admin *a, const struct user *u, const char *link)
{
	struct mail_conf mc;
	struct mail_msg m;
	const char *err;
	int rc;

	factor_mail_conf(a->in, &mc);
	factor_mail_reset(a->tenant, link, u->email, &m);
	rc = mail_send(&mc, &m, &err);
	factor_mail_clear(&m);
	if (rc == -1)
		return admin_fail(a, ADMIN_FAILED, NULL, "user %s: the mail to %s was not sent: %s",
		    u->name, u->email, err);
	return 0;
}

/* A new link for u delivered by via: 0 (*link_r set for a link), or -1 after admin_fail. */
static int
issue_link(struct admin *a, const struct user *u, enum admin_reset_via via, char **link_r)
{
	char *token = NULL, *link;
	int rc = 0;

	if (factor_reset_issue(a->in, a->tenant, u->id, &token) == -1)
		return admin_fail(a, ADMIN_FAILED, NULL, "user %s: storage error", u->name);
	link = factor_reset_link(a->in, a->tenant, token);
	freezero_str(token);
	if (via == ADMIN_RESET_LINK) {
		*link_r = link;
		return 0;
	}
	if (mail_link(a, u, link) == -1) {	/* an unsent link must not work */
		store_challenge_drop_user(a->in->store, a->tenant, "reset", u->id);
		rc = -1;
	}
	freezero_str(link);
	return rc;
}

int
admin_reset_password(struct admin *a, const char *name, enum admin_reset_via via,
    struct admin_reset *r)
{
	struct user u;
	int rc;

	memset(r, 0, sizeof(*r));
	if (get_user(a, name, &u) == -1)
		return -1;
	rc = can_deliver(a, &u, via);
	if (rc == 0)
		rc = issue_link(a, &u, via, &r->link);
	if (rc == 0) {
		admin_audit_event(a, "admin.user.reset_password", "user", u.name, "via",
		    via == ADMIN_RESET_LINK ? "link" : "mail", NULL);
		r->user = xstrdup(u.name);
		if (via == ADMIN_RESET_MAIL)
			r->to = xstrdup(u.email);
	}
	store_user_clear(&u);
	return rc;
}

void
admin_reset_clear(struct admin_reset *r)
{
	free(r->user);
	freezero_str(r->link);
	free(r->to);
	memset(r, 0, sizeof(*r));
}
