/*
 * sekisho user otp, factors, factor remove and reset-password: an administrator's view
 * of a user's second factors (a hardware token's seed goes out once, as an otpauth URI)
 * and password-reset links, printed or mailed.  The rules and audit records are
 * admin/factor.c's, which the admin API shares.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_factor.h"
#include "cli.h"
#include "clock.h"
#include "store.h"
#include "xmalloc.h"

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
	char *uri;
	int rc;

	if ((rc = check_word(c, "add")) != 0)
		return rc;
	if (admin_otp_add(&c->adm, arg(c, 1), opt(c, "--label"), NULL, &uri) == -1)
		return fail("%s", c->adm.msg);
	printf("%s\n", uri);
	freezero_str(uri);
	return 0;
}

/* ---- listing ---- */

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
		printf(" left=%d", admin_factor_codes_left(f));
	if (f->flags & FACTOR_F_COUNTER_REGRESSED)
		printf(" counter-regressed");
	putchar('\n');
}

/* user factors NAME: one line per factor, pending ones included. */
int
cmd_user_factors(struct cli *c)
{
	if (admin_factor_list(&c->adm, arg(c, 0), print_factor, NULL) == -1)
		return fail("%s", c->adm.msg);
	return 0;
}

/* user factor remove NAME ID. */
int
cmd_user_factor(struct cli *c)
{
	const char *name = arg(c, 1), *id = arg(c, 2);
	int rc;

	if ((rc = check_word(c, "remove")) != 0)
		return rc;
	if (admin_factor_remove(&c->adm, name, id) == -1)
		return fail("%s", c->adm.msg);
	printf("factor %s of user %s removed\n", id, name);
	return 0;
}

/* ---- reset links ---- */

/* user reset-password NAME [--print-link]: a new single-use link, older ones void. */
int
cmd_user_reset_password(struct cli *c)
{
	int print = flag(c, "--print-link");
	struct admin_reset r;

	if (admin_reset_password(&c->adm, arg(c, 0), print ? ADMIN_RESET_LINK :
	    ADMIN_RESET_MAIL, &r) == -1) {
		/* the admin layer names the API's member; here the way out is an option */
		if (c->adm.field && strcmp(c->adm.field, "delivery") == 0)
			return fail("%s; use --print-link", c->adm.msg);
		return fail("%s", c->adm.msg);
	}
	if (print)
		printf("%s\n", r.link);
	else
		printf("reset link for user %s mailed to %s\n", r.user, r.to);
	admin_reset_clear(&r);
	return 0;
}
