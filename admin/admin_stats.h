/*
 * The numbers of the tenant's dashboard (the admin API's GET stats, the console's
 * charts): logins and refusals per day for 30 days, refusals by reason and active users
 * from the audit trail (newest first, stopping at the 30-day edge), certificates expiring
 * per month and API keys near their monthly quota from the store; days and months are
 * the tenant's time zone's.
 */
#ifndef SEKISHO_ADMIN_STATS_H
#define SEKISHO_ADMIN_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "admin.h"

#define ADMIN_STATS_DAYS 30
#define ADMIN_STATS_MONTHS 12
#define ADMIN_STATS_REASONS 32	/* distinct reasons kept; the rest count as "other" */
#define ADMIN_STATS_KEY_PERCENT 80	/* keys at or above this share of their month's quota */

struct admin_stats_day {
	char date[11];		/* local date "YYYY-MM-DD" */
	int64_t start;		/* its local midnight (UTC seconds) */
	uint64_t logins;	/* login.ok */
	uint64_t refusals;	/* the refusal events (admin_stats_refusal) */
};

struct admin_stats_reason {
	char *event;		/* "login.fail", "access.deny" ... */
	char *reason;		/* the record's reason field, or NULL */
	uint64_t count;
};

struct admin_stats_month {
	char month[8];		/* local month "YYYY-MM" */
	uint64_t expiring;	/* certificates neither revoked nor expired whose end is in it */
};

struct admin_stats_key {
	char *name;
	uint64_t calls;		/* allowed calls this month */
	uint64_t quota;		/* APIKEY_PER_MONTH */
	const char *state;	/* apikey_state: "active", "suspended", "expired", "quota" */
};

struct admin_stats {
	int64_t now;
	char *timezone;			/* the zone the days and months are in */
	struct admin_stats_day days[ADMIN_STATS_DAYS];	/* oldest first, the last is today */
	uint64_t logins, refusals;	/* over the 30 days */
	struct admin_stats_reason *reasons;	/* most frequent first */
	size_t n_reasons;
	uint64_t active_users;		/* distinct users (any case) with a login.ok in 30 days */
	struct admin_stats_month months[ADMIN_STATS_MONTHS];	/* this month first */
	struct admin_stats_key *keys;	/* near their quota, by name */
	size_t n_keys;
	uint64_t records;		/* audit records read */
};

/*
 * 1 when the record of event with reason (NULL: none) is one of the refusals counted
 * (login.fail, login.factor.fail, login.passkey.fail, access.deny, access.mfa_missing,
 * device.check.fail, and saml.sso.deny for no_email), else 0.
 */
int admin_stats_refusal(const char *event, const char *reason);
/*
 * The UTC instant of local, a local time in zone written as seconds since the epoch as if
 * the zone were UTC (timegm of the local calendar date): its midnight's instant.
 */
int64_t admin_stats_local_to_utc(const char *zone, int64_t local);
struct strmap;
/* Add name (NULL or empty: nothing) to users in lower case, to count people in any case. */
void admin_stats_note_user(struct strmap *users, const char *name);
/* The numbers at clock_now() into s_r (clear it with admin_stats_clear): 0, or -1 after admin_fail. */
int admin_stats(struct admin *a, struct admin_stats *s_r);
void admin_stats_clear(struct admin_stats *s);

#endif
