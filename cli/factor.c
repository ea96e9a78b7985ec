/*
 * sekisho user otp, factors, factor remove and reset-password: an administrator's view
 * of a user's second factors (a hardware token's seed goes out once, as an otpauth URI)
 * and password-reset links, printed or mailed.  Every change is audited without the
 * secret or the token.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cli.h"
#include "clock.h"
#include "factor.h"
#include "mail.h"
#include "store.h"
#include "xmalloc.h"

/* The user called name into u; 0, or an exit status after a message. */
static int
get_user(struct cli *c, const char *name, struct user *u)
{
	int rc = store_user_get(c->in.store, c->tenant, name, u);

	if (rc == 1)
		return 0;
	store_user_clear(u);
	return fail("user %s: %s", name, rc == 0 ? "no such user" : "storage error");
}

/* "user otp add NAME" and "user factor remove NAME ID": the word after the subcommand. */
static int
check_word(struct cli *c, const char *want)
{
	if (strcmp(arg(c, 0), want) == 0)
		return 0;
	return usage_fail(c, "unknown command \"user %s %s\" (known: user %s %s)", c->spec->sub,
	    arg(c, 0), c->spec->sub, want);
}

/* user otp add NAME [--label L]: one line, the otpauth URI a token or an app takes. */
int
cmd_user_otp(struct cli *c)
{
	const char *name = arg(c, 1), *label = opt(c, "--label"), *err;
	struct audit_entry ae;
	struct user u;
	char *uri;
	int rc;

	if ((rc = check_word(c, "add")) != 0 || (rc = get_user(c, name, &u)) != 0)
		return rc;
	if (label == NULL)
		label = "TOTP";
	cli_audit(&ae, "admin.user.otp_add", "user", u.name, "label", label, NULL);
	rc = factor_totp_create(&c->in, c->tenant, &u, label, 0, &ae, NULL, &uri, NULL, &err);
	store_user_clear(&u);
	if (rc == -1)
		return fail("user %s: %s", name, err);
	printf("%s\n", uri);
	freezero_str(uri);
	return 0;
}

/* ---- listing ---- */

/* Recovery codes not used yet: the clear bits of the counter. */
static int
codes_left(uint64_t used)
{
	int n = 0;

	for (int i = 0; i < FACTOR_RECOVERY_CODES; i++)
		n += (used & (1ULL << i)) == 0;
	return n;
}

static void
print_factor(const void *rec, void *arg)
{
	const struct factor *f = rec;
	char created[21], used[21] = "never";

	clock_iso8601((int64_t)f->created, created);
	if (f->last_used)
		clock_iso8601((int64_t)f->last_used, used);
	printf("%s %s %s created=%s last_used=%s", f->id, store_factor_kind_name(f->kind),
	    f->label && *f->label ? f->label : "-", created, used);
	if (f->kind == FACTOR_TOTP && f->pending)
		printf(" pending");
	if (f->kind == FACTOR_RECOVERY)
		printf(" left=%d", codes_left(f->counter));
	if (f->flags & FACTOR_F_COUNTER_REGRESSED)
		printf(" counter-regressed");
	putchar('\n');
}

/* user factors NAME: one line per factor, pending ones included. */
int
cmd_user_factors(struct cli *c)
{
	struct user u;
	int rc;

	if ((rc = get_user(c, arg(c, 0), &u)) != 0)
		return rc;
	rc = store_factor_list(c->in.store, c->tenant, u.id, print_factor, NULL);
	store_user_clear(&u);
	return rc < 0 ? fail("storage error") : 0;
}

/* A factor id as the store makes them: 16 hex digits. */
static int
factor_id_ok(const char *id)
{
	return strlen(id) == 16 && strspn(id, "0123456789abcdefABCDEF") == 16;
}

/* user factor remove NAME ID. */
int
cmd_user_factor(struct cli *c)
{
	const char *name = arg(c, 1), *id = arg(c, 2);
	struct audit_entry ae;
	struct user u;
	int rc;

	if ((rc = check_word(c, "remove")) != 0)
		return rc;
	if (!factor_id_ok(id))
		return fail("factor id \"%s\": not 16 hex digits (see sekisho user factors %s)",
		    id, name);
	if ((rc = get_user(c, name, &u)) != 0)
		return rc;
	cli_audit(&ae, "admin.user.factor_remove", "user", u.name, "factor", id, NULL);
	rc = store_factor_remove(c->in.store, c->tenant, u.id, id, &ae);
	store_user_clear(&u);
	if (rc != 1)
		return fail("user %s: %s", name, rc == 0 ? "no such factor" : "storage error");
	printf("factor %s of user %s removed\n", id, name);
	return 0;
}

/* ---- reset links ---- */

/* Mail link to u; 0, or an exit status after a message. */
static int
mail_link(struct cli *c, const struct user *u, const char *link)
{
	struct mail_conf mc;
	struct mail_msg m;
	const char *err;
	int rc;

	factor_mail_conf(&c->in, &mc);
	factor_mail_reset(c->tenant, link, u->email, &m);
	rc = mail_send(&mc, &m, &err);
	factor_mail_clear(&m);
	if (rc == -1)
		return fail("user %s: the mail to %s was not sent: %s", u->name, u->email, err);
	printf("reset link for user %s mailed to %s\n", u->name, u->email);
	return 0;
}

/* 0 when a link can reach the user; else an exit status after a message saying why
 * (checked before a new token voids older ones). */
static int
cannot_deliver(struct cli *c, const struct user *u)
{
	if (flag(c, "--print-link"))
		return 0;
	if (c->in.settings.smtp_relay == NULL)
		return fail("no mail relay (smtp_relay) configured; use --print-link");
	if (u->email == NULL || *u->email == '\0')
		return fail("user %s has no e-mail address; use --print-link", u->name);
	return 0;
}

/* user reset-password NAME [--print-link]: a new single-use link, older ones void. */
int
cmd_user_reset_password(struct cli *c)
{
	int print = flag(c, "--print-link"), rc;
	char *token = NULL, *link;
	struct user u;

	if ((rc = get_user(c, arg(c, 0), &u)) != 0)
		return rc;
	if ((rc = cannot_deliver(c, &u)) != 0 ||
	    factor_reset_issue(&c->in, c->tenant, u.id, &token) == -1) {
		store_user_clear(&u);
		return rc ? rc : fail("user %s: storage error", arg(c, 0));
	}
	link = factor_reset_link(&c->in, c->tenant, token);
	freezero_str(token);
	if (print)
		printf("%s\n", link);
	else if ((rc = mail_link(c, &u, link)) != 0)	/* an unsent link must not work */
		store_challenge_drop_user(c->in.store, c->tenant, "reset", u.id);
	if (rc == 0)
		cli_audit_event(c, c->tenant, "admin.user.reset_password", "user", u.name, "via",
		    print ? "link" : "mail", NULL);
	freezero_str(link);
	store_user_clear(&u);
	return rc;
}
