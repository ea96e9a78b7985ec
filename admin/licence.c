/*
 * A tenant's licence and its use (admin_licence.h): the values a change may take (seats
 * from 20, device seats in blocks of 10), the change in one audited commit that the store
 * refuses when it falls below the use unless forced, and the sentence for a refusal.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_licence.h"
#include "audit.h"
#include "clock.h"
#include "instance.h"

#define DAY 86400

static void
trial_date(uint64_t until, char out[11])
{
	char iso[21];

	out[0] = '\0';
	if (until == 0)
		return;
	clock_iso8601((int64_t)until - DAY, iso);
	memcpy(out, iso, 10);
	out[10] = '\0';
}

int
admin_licence_get(struct admin *a, const char *id, struct admin_licence *l_r)
{
	struct tenant t;
	int rc = store_tenant_get(a->in->store, id, &t);

	memset(l_r, 0, sizeof(*l_r));
	if (rc == 1) {
		l_r->licensed = t.licensed;
		l_r->seats = t.seats;
		l_r->device_seats = t.device_seats;
		l_r->trial_until = t.trial_until;
		trial_date(t.trial_until, l_r->trial_date);
	}
	store_tenant_clear(&t);
	if (rc == 0)
		return admin_fail(a, ADMIN_NOT_FOUND, NULL, "tenant %s: no such tenant", id);
	if (rc < 0 || store_usage(a->in->store, id, clock_now(), &l_r->use) < 0)
		return admin_fail(a, ADMIN_FAILED, NULL, "tenant %s: storage error", id);
	return 0;
}

/* YYYY-MM-DD, a real day: the trial ends as it ends (UTC) into *until_r. */
static int
parse_day(struct admin *a, const char *s, uint64_t *until_r)
{
	char iso[32], back[21];
	int64_t t;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return admin_fail(a, ADMIN_INVALID, "trial_until", "trial end must be YYYY-MM-DD");
	snprintf(iso, sizeof(iso), "%sT00:00:00Z", s);
	/* A day that does not exist (02-30) comes back as another one. */
	if (clock_parse_iso8601(iso, &t) == -1 || (clock_iso8601(t, back), strncmp(back, s, 10)))
		return admin_fail(a, ADMIN_INVALID, "trial_until", "trial end %s is not a day", s);
	*until_r = (uint64_t)(t + DAY);
	return 0;
}

static int
check_numbers(struct admin *a, const struct tenant *n)
{
	if (n->seats < ADMIN_SEATS_MIN || n->seats > ADMIN_SEATS_MAX)
		return admin_fail(a, ADMIN_INVALID, "seats", "seats must be a number from %d to %d "
		    "(licences are sold from %d IDs)", ADMIN_SEATS_MIN, ADMIN_SEATS_MAX,
		    ADMIN_SEATS_MIN);
	if (n->device_seats % ADMIN_DEVICE_BLOCK || n->device_seats > n->seats)
		return admin_fail(a, ADMIN_INVALID, "device_seats", "device seats must be a "
		    "multiple of %d from 0 to the seats (%llu)", ADMIN_DEVICE_BLOCK,
		    (unsigned long long)n->seats);
	return 0;
}

/* The licence s makes of the current one cur, checked, into *n. */
static int
new_licence(struct admin *a, const struct admin_licence *cur,
    const struct admin_licence_set *s, struct tenant *n)
{
	int other = s->seats_given || s->device_given || s->trial_until || s->no_trial;

	memset(n, 0, sizeof(*n));
	if (s->unlicensed && (other || s->force))
		return admin_fail(a, ADMIN_INVALID, "licensed",
		    "an unlicensed tenant has no seats, device seats or trial");
	if (s->unlicensed)
		return 0;
	if (!other)
		return admin_fail(a, ADMIN_INVALID, NULL, "nothing to set");
	if (s->trial_until && s->no_trial)
		return admin_fail(a, ADMIN_INVALID, "trial_until", "a trial either ends or not");
	if (!cur->licensed && !s->seats_given)
		return admin_fail(a, ADMIN_INVALID, "seats", "the tenant is unlicensed: a licence "
		    "needs its seats");
	n->licensed = 1;
	n->seats = s->seats_given ? (uint64_t)(s->seats < 0 ? 0 : s->seats) : cur->seats;
	n->device_seats = s->device_given ? (uint64_t)(s->device_seats < 0 ? 1 : s->device_seats)
	    : cur->device_seats;
	n->trial_until = s->no_trial ? 0 : cur->trial_until;
	if (s->trial_until && parse_day(a, s->trial_until, &n->trial_until) == -1)
		return -1;
	return check_numbers(a, n);
}

int
admin_licence_check(struct admin *a, const struct admin_licence_set *s)
{
	struct admin_licence none = { 0 };
	struct tenant n;

	return new_licence(a, &none, s, &n);
}

static int
below_fail(struct admin *a, const struct tenant *n, const struct store_usage *u)
{
	if (u->users > n->seats)
		return admin_fail(a, ADMIN_LIMIT, "seats", "the licence would have %llu seats and "
		    "%llu are in use (--force sets it, then no more can be used)",
		    (unsigned long long)n->seats, (unsigned long long)u->users);
	return admin_fail(a, ADMIN_LIMIT, "device_seats", "the licence would have %llu device "
	    "seats and %llu are in use (--force sets it, then no more can be used)",
	    (unsigned long long)n->device_seats, (unsigned long long)u->cert_holders);
}

int
admin_tenant_licence_set(struct admin *a, const char *id, const struct admin_licence_set *s)
{
	struct admin_licence cur;
	struct store_usage use;
	struct audit_entry ae;
	struct tenant n;
	char seats[24], dev[24], trial[11];
	const char *err = "storage error";
	int rc;

	if (admin_licence_get(a, id, &cur) == -1 || new_licence(a, &cur, s, &n) == -1)
		return -1;
	snprintf(seats, sizeof(seats), "%llu", (unsigned long long)n.seats);
	snprintf(dev, sizeof(dev), "%llu", (unsigned long long)n.device_seats);
	trial_date(n.trial_until, trial);
	admin_audit(a, &ae, "admin.tenant.licence", "tenant", id, "licensed",
	    n.licensed ? "yes" : "no", "seats", n.licensed ? seats : NULL, "device_seats",
	    n.licensed ? dev : NULL, "trial_until", *trial ? trial : NULL, "force",
	    s->force ? "yes" : NULL, NULL);
	rc = store_tenant_licence(a->in->store, id, &n, s->force, clock_now(), &ae, &use, &err);
	if (rc == -1 && err == store_err_below_use)
		return below_fail(a, &n, &use);
	if (rc == 0)
		return admin_fail(a, ADMIN_NOT_FOUND, NULL, "tenant %s: no such tenant", id);
	if (rc < 0)
		return admin_fail(a, ADMIN_FAILED, NULL, "tenant %s: %s", id, err);
	return 0;
}

int
admin_licence_refused(struct admin *a, const char *err)
{
	char msg[sizeof(a->msg)];
	const char *field = err == store_err_operators ? "operator" :
	    err == store_err_device_seats ? "device_seats" : "seats";

	if (!store_licence_refusal(a->in->store, a->tenant, err, clock_now(), msg, sizeof(msg)))
		return 0;
	return admin_fail(a, ADMIN_LIMIT, field, "%s", msg);
}
