/*
 * The dashboard's numbers (admin_stats.h).  The audit trail is read newest first in
 * batches and the walk stops at the first record before the 30-day edge, so the cost
 * follows the last 30 days, not the 13 months kept.  Day and month edges are computed
 * once as UTC instants of the tenant's local midnights; records are then bucketed by
 * comparison, without a time-zone look-up per record.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin_audit.h"
#include "admin_stats.h"
#include "admin_tenant.h"
#include "apikey.h"
#include "clock.h"
#include "strmap.h"
#include "tz.h"
#include "xmalloc.h"

#define BATCH 500		/* audit records read per transaction */
#define DAY 86400

static const char *const refusal_events[] = {
	"login.fail", "login.factor.fail", "login.passkey.fail", "access.deny",
	"access.mfa_missing", "device.check.fail", NULL
};

int
admin_stats_refusal(const char *event, const char *reason)
{
	for (const char *const *e = refusal_events; *e; e++)
		if (!strcmp(*e, event))
			return 1;
	/* an SP refused for a person; a passive request answered NoPassive refused nobody */
	return !strcmp(event, "saml.sso.deny") && reason && !strcmp(reason, "no_email");
}

/* ---- local calendar edges ---- */

static int
utc_offset(const char *zone, int64_t t)
{
	struct tz_local l;

	return tz_local(zone, t, &l) == 0 ? l.offset : 0;
}

/*
 * The UTC instant of local time local (seconds since the epoch as if the zone were UTC):
 * the offset is looked up at the instant itself, so a DST change the day before counts.
 */
static int64_t
local_to_utc(const char *zone, int64_t local)
{
	int64_t t = local - utc_offset(zone, local);

	return local - utc_offset(zone, t);
}

int64_t
admin_stats_local_to_utc(const char *zone, int64_t local)
{
	return local_to_utc(zone, local);
}

static void
fill_days(struct admin_stats *s)
{
	int64_t today = (s->now + utc_offset(s->timezone, s->now)) / DAY;

	for (int i = 0; i < ADMIN_STATS_DAYS; i++) {
		int64_t d = today - (ADMIN_STATS_DAYS - 1) + i;
		time_t midnight = (time_t)(d * DAY);
		struct tm tm;

		gmtime_r(&midnight, &tm);
		strftime(s->days[i].date, sizeof(s->days[i].date), "%Y-%m-%d", &tm);
		s->days[i].start = local_to_utc(s->timezone, d * DAY);
	}
}

/* The UTC instants at which this month and the next 12 start, local time. */
static void
fill_months(struct admin_stats *s, int64_t edges[ADMIN_STATS_MONTHS + 1])
{
	time_t local = (time_t)(s->now + utc_offset(s->timezone, s->now));
	struct tm tm;

	gmtime_r(&local, &tm);
	for (int i = 0; i <= ADMIN_STATS_MONTHS; i++) {
		struct tm m = { .tm_year = tm.tm_year, .tm_mon = tm.tm_mon + i, .tm_mday = 1 };
		time_t first = timegm(&m);	/* normalises the month past December */

		edges[i] = local_to_utc(s->timezone, (int64_t)first);
		if (i < ADMIN_STATS_MONTHS)
			strftime(s->months[i].month, sizeof(s->months[i].month), "%Y-%m", &m);
	}
}

/* ---- the audit trail ---- */

struct walk {
	struct admin_stats *s;
	int64_t end;		/* the start of tomorrow */
	struct strmap *users;	/* lower-case names with a login */
	struct strmap *reasons;	/* "event TAB reason" -> an entry of list */
	struct admin_stats_reason *list[ADMIN_STATS_REASONS];
	size_t n;
	int done;		/* a record before the first day was seen */
};

/* The day of t (0 .. ADMIN_STATS_DAYS - 1), or -1 outside the 30 days. */
static int
day_of(const struct walk *w, int64_t t)
{
	if (t >= w->end)
		return -1;
	for (int i = ADMIN_STATS_DAYS - 1; i >= 0; i--)
		if (t >= w->s->days[i].start)
			return i;
	return -1;
}

void
admin_stats_note_user(struct strmap *users, const char *name)
{
	char *lower;

	if (name == NULL || *name == '\0')
		return;
	lower = xstrdup(name);
	for (char *p = lower; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	strmap_slot(users, lower);
	free(lower);
}

/* Count one refusal; past ADMIN_STATS_REASONS - 1 distinct ones, new ones are "other". */
static void
note_reason(struct walk *w, const char *event, const char *reason)
{
	char *key = xasprintf("%s\t%s", event, reason ? reason : "");
	struct admin_stats_reason *r = strmap_get(w->reasons, key);

	if (r == NULL && w->n >= ADMIN_STATS_REASONS - 1 && strcmp(event, "other")) {
		free(key);
		note_reason(w, "other", NULL);
		return;
	}
	if (r == NULL) {
		r = w->list[w->n++] = xcalloc(1, sizeof(*r));
		r->event = xstrdup(event);
		r->reason = reason ? xstrdup(reason) : NULL;
		*strmap_slot(w->reasons, key) = r;
	}
	free(key);
	r->count++;
}

static void
walk_rec(const struct audit_rec *r, const struct audit_fields *kv, void *arg)
{
	struct walk *w = arg;
	int d = day_of(w, (int64_t)r->time);

	w->s->records++;
	if ((int64_t)r->time < w->s->days[0].start)
		w->done = 1;
	if (d < 0)
		return;
	if (!strcmp(r->event, "login.ok")) {
		w->s->days[d].logins++;
		w->s->logins++;
		admin_stats_note_user(w->users, audit_fields_get(kv, "user"));
	} else if (admin_stats_refusal(r->event, audit_fields_get(kv, "reason"))) {
		w->s->days[d].refusals++;
		w->s->refusals++;
		note_reason(w, r->event, audit_fields_get(kv, "reason"));
	}
}

/* Most frequent first, then by event and reason. */
static int
reason_cmp(const void *x, const void *y)
{
	const struct admin_stats_reason *a = x, *b = y;
	int c;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	if ((c = strcmp(a->event, b->event)) != 0)
		return c;
	return strcmp(a->reason ? a->reason : "", b->reason ? b->reason : "");
}

/* Records from the newest back to the first day's midnight: 0, or -1 after admin_fail. */
static int
read_trail(struct admin *a, struct admin_stats *s)
{
	struct walk w = { .s = s, .users = strmap_new(), .reasons = strmap_new() };
	struct audit_filter f = { 0 };
	uint64_t before = 0;
	int n;

	w.end = local_to_utc(s->timezone, (s->now + utc_offset(s->timezone, s->now)) / DAY * DAY +
	    DAY);
	while ((n = admin_audit_batch_before(a, &f, before, BATCH, walk_rec, &w, &before)) > 0 &&
	    !w.done)
		;
	s->active_users = strmap_count(w.users);
	strmap_free(w.users, NULL);
	strmap_free(w.reasons, NULL);
	s->reasons = xcalloc(w.n + 1, sizeof(*s->reasons));
	for (size_t i = 0; i < w.n; i++) {
		s->reasons[i] = *w.list[i];
		free(w.list[i]);
	}
	s->n_reasons = w.n;
	qsort(s->reasons, s->n_reasons, sizeof(*s->reasons), reason_cmp);
	return n < 0 ? -1 : 0;
}

/* ---- the store ---- */

struct certs {
	struct admin_stats *s;
	int64_t edges[ADMIN_STATS_MONTHS + 1];
};

static void
cert_rec(const void *rec, void *arg)
{
	const struct devcert *c = rec;
	struct certs *cs = arg;
	int64_t end = (int64_t)c->not_after;

	if (c->revoked || end < cs->s->now)
		return;
	for (int i = 0; i < ADMIN_STATS_MONTHS; i++)
		if (end >= cs->edges[i] && end < cs->edges[i + 1])
			cs->s->months[i].expiring++;
}

struct keys {
	struct admin_stats *s;
	size_t cap;
};

static void
key_rec(const void *rec, void *arg)
{
	const struct apikey *k = rec;
	struct keys *ks = arg;
	struct admin_stats *s = ks->s;
	uint64_t calls = apikey_calls_this_month(k, s->now);
	struct admin_stats_key *out;

	if (calls * 100 < (uint64_t)APIKEY_PER_MONTH * ADMIN_STATS_KEY_PERCENT)
		return;
	if (s->n_keys == ks->cap) {
		ks->cap = ks->cap ? ks->cap * 2 : 8;
		s->keys = xreallocarray(s->keys, ks->cap, sizeof(*s->keys));
	}
	out = &s->keys[s->n_keys++];
	out->name = xstrdup(k->name);
	out->calls = calls;
	out->quota = APIKEY_PER_MONTH;
	out->state = apikey_state(k, s->now);
}

static int
read_store(struct admin *a, struct admin_stats *s)
{
	struct certs cs = { .s = s };
	struct keys ks = { .s = s };

	fill_months(s, cs.edges);
	if (store_cert_list(a->in->store, a->tenant, NULL, cert_rec, &cs) < 0 ||
	    store_apikey_list(a->in->store, a->tenant, key_rec, &ks) < 0)
		return admin_fail(a, ADMIN_FAILED, NULL, "storage error");
	return 0;
}

/* ---- the whole ---- */

int
admin_stats(struct admin *a, struct admin_stats *s_r)
{
	struct admin_tenant t;

	memset(s_r, 0, sizeof(*s_r));
	if (admin_tenant_get(a, a->tenant, &t) == -1)
		return -1;
	s_r->timezone = t.timezone;
	t.timezone = NULL;
	admin_tenant_clear(&t);
	s_r->now = clock_now();
	fill_days(s_r);
	if (read_trail(a, s_r) == -1 || read_store(a, s_r) == -1) {
		admin_stats_clear(s_r);
		return -1;
	}
	admin_ok(a);
	return 0;
}

void
admin_stats_clear(struct admin_stats *s)
{
	for (size_t i = 0; i < s->n_reasons; i++) {
		free(s->reasons[i].event);
		free(s->reasons[i].reason);
	}
	for (size_t i = 0; i < s->n_keys; i++)
		free(s->keys[i].name);
	free(s->reasons);
	free(s->keys);
	free(s->timezone);
	memset(s, 0, sizeof(*s));
}
