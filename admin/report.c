/*
 * The monthly report's numbers (admin_report.h).  The month's audit records are read
 * oldest first in batches (the filter's since/until are the month's local edges, as
 * admin/stats.c computes them) and bucketed by comparison with the days' midnights; the
 * licence, accounts, certificates and API keys are read from the store as they stand.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin_audit.h"
#include "admin_report.h"
#include "admin_stats.h"
#include "clock.h"
#include "rules.h"
#include "store.h"
#include "strmap.h"
#include "tz.h"
#include "xmalloc.h"

#define BATCH 500		/* audit records read per transaction */

int
admin_report_month_valid(const char *s)
{
	if (strlen(s) != 7 || s[4] != '-')
		return -1;
	for (int i = 0; i < 7; i++)
		if (i != 4 && !isdigit((unsigned char)s[i]))
			return -1;
	if (strtol(s, NULL, 10) < 2000)
		return -1;
	return (s[5] == '0' && s[6] >= '1') || (s[5] == '1' && s[6] <= '2') ? 0 : -1;
}

/* ---- counting names ---- */

struct tally {
	struct strmap *map;		/* "name TAB detail" -> index + 1 */
	struct admin_report_count *list;
	size_t n, cap, max;		/* max 0: no cap */
};

static void
tally_add(struct tally *t, const char *name, const char *detail, uint64_t by)
{
	char *key = xasprintf("%s\t%s", name, detail ? detail : "");
	void **slot;

	if (strmap_get(t->map, key) == NULL && t->max && t->n >= t->max - 1 &&
	    strcmp(name, "other")) {
		free(key);
		tally_add(t, "other", NULL, by);
		return;
	}
	slot = strmap_slot(t->map, key);
	free(key);
	if (*slot == NULL) {
		if (t->n == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 16;
			t->list = xreallocarray(t->list, t->cap, sizeof(*t->list));
		}
		t->list[t->n] = (struct admin_report_count){ xstrdup(name),
			detail ? xstrdup(detail) : NULL, 0 };
		*slot = (void *)(uintptr_t)++t->n;
	}
	t->list[(uintptr_t)*slot - 1].count += by;
}

/* Most frequent first, then by name and detail. */
static int
count_cmp(const void *x, const void *y)
{
	const struct admin_report_count *a = x, *b = y;
	int c;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	if ((c = strcmp(a->name, b->name)) != 0)
		return c;
	return strcmp(a->detail ? a->detail : "", b->detail ? b->detail : "");
}

static void
tally_done(struct tally *t, struct admin_report_count **list_r, size_t *n_r)
{
	strmap_free(t->map, NULL);
	*list_r = t->list ? t->list : xcalloc(1, sizeof(**list_r));
	*n_r = t->n;
	qsort(*list_r, *n_r, sizeof(**list_r), count_cmp);
}

/* ---- the audit trail ---- */

struct walk {
	struct admin_report *r;
	struct strmap *users;		/* lower-case names with a login */
	struct tally reasons, apps, keys;
};

static int
day_of(const struct admin_report *r, int64_t t)
{
	if (t < r->start || t >= r->end)
		return -1;
	for (int i = (int)r->n_days - 1; i >= 0; i--)
		if (t >= r->days[i].start)
			return i;
	return -1;
}

/* The app of an SSO record: its app field, else what the protocol knows it by. */
static void
note_sso(struct walk *w, const char *proto, const struct audit_fields *kv, const char *by)
{
	const char *app = audit_fields_get(kv, "app");

	if (app == NULL || *app == '\0')
		app = audit_fields_get(kv, by);
	tally_add(&w->apps, app && *app ? app : "-", proto, 1);
}

static void
walk_rec(const struct audit_rec *rec, const struct audit_fields *kv, void *arg)
{
	struct walk *w = arg;
	struct admin_report_day *d;
	const char *reason = audit_fields_get(kv, "reason"), *key;
	int i = day_of(w->r, (int64_t)rec->time);

	if (i < 0)
		return;
	d = &w->r->days[i];
	if (!strcmp(rec->event, "login.ok")) {
		d->logins++;
		admin_stats_note_user(w->users, audit_fields_get(kv, "user"));
	} else if (admin_stats_refusal(rec->event, reason)) {
		d->refusals++;
		tally_add(&w->reasons, rec->event, reason, 1);
	} else if (!strcmp(rec->event, "saml.sso")) {
		note_sso(w, "saml", kv, "sp");
	} else if (!strcmp(rec->event, "oidc.authorize")) {
		note_sso(w, "oidc", kv, "client");
	} else if (!strcmp(rec->event, "cert.issue")) {
		d->issued++;
	} else if (!strcmp(rec->event, "cert.revoke")) {
		d->revoked++;
	} else if (!strcmp(rec->event, "api.call") && (key = audit_fields_get(kv, "key"))) {
		tally_add(&w->keys, key, NULL, 1);
		w->r->api_calls++;
	}
}

static int
read_trail(struct admin *a, struct walk *w)
{
	struct audit_filter f = { .since = w->r->start, .until = w->r->end };
	uint64_t after = 0;
	int n;

	while ((n = admin_audit_batch(a, &f, after, BATCH, walk_rec, w, &after)) > 0)
		;
	for (size_t i = 0; i < w->r->n_days; i++) {
		w->r->logins += w->r->days[i].logins;
		w->r->refusals += w->r->days[i].refusals;
		w->r->issued += w->r->days[i].issued;
		w->r->revoked += w->r->days[i].revoked;
	}
	w->r->active_users = strmap_count(w->users);
	return n < 0 ? -1 : 0;
}

/* ---- the store ---- */

static void
user_rec(const void *rec, void *arg)
{
	const struct user *u = rec;
	struct admin_report *r = arg;

	if (u->operator)
		r->operators++;
	else if (!u->disabled)
		r->accounts++;
}

struct certs {
	struct admin_report *r;
	int64_t next_end;		/* the end of next_month */
	struct strmap *holders;
};

static void
cert_rec(const void *rec, void *arg)
{
	const struct devcert *c = rec;
	struct certs *cs = arg;
	int64_t end = (int64_t)c->not_after;

	if (c->revoked || end < cs->r->made)
		return;
	if (c->user_id)
		strmap_slot(cs->holders, c->user_id);
	if (end >= cs->r->end && end < cs->next_end)
		cs->r->expiring++;
}

static void
key_rec(const void *rec, void *arg)
{
	tally_add(arg, ((const struct apikey *)rec)->name, NULL, 0);
}

static int
read_store(struct admin *a, struct admin_report *r, struct tally *keys, int64_t next_end)
{
	struct certs cs = { r, next_end, strmap_new() };
	int rc = 0;

	if (store_user_list(a->in->store, a->tenant, user_rec, r) < 0 ||
	    store_cert_list(a->in->store, a->tenant, NULL, cert_rec, &cs) < 0 ||
	    store_apikey_list(a->in->store, a->tenant, key_rec, keys) < 0)
		rc = admin_fail(a, ADMIN_FAILED, NULL, "storage error");
	r->cert_holders = strmap_count(cs.holders);
	strmap_free(cs.holders, NULL);
	return rc;
}

/* ---- the calendar ---- */

/* The UTC instant of local midnight of year, month (0-based, normalised), day in zone. */
static int64_t
midnight(const char *zone, int year, int mon, int day, struct tm *tm_r)
{
	struct tm m = { .tm_year = year - 1900, .tm_mon = mon, .tm_mday = day };
	time_t local = timegm(&m);

	if (tm_r)
		gmtime_r(&local, tm_r);
	return admin_stats_local_to_utc(zone, (int64_t)local);
}

/* The days of month and its edges; -1 when it has not started yet. */
static int
fill_days(struct admin_report *r, const char *month, int64_t *next_end_r)
{
	int year = (int)strtol(month, NULL, 10), mon = (int)strtol(month + 5, NULL, 10) - 1;
	struct tm tm;

	r->start = midnight(r->timezone, year, mon, 1, NULL);
	r->end = midnight(r->timezone, year, mon + 1, 1, &tm);
	strftime(r->next_month, sizeof(r->next_month), "%Y-%m", &tm);
	*next_end_r = midnight(r->timezone, year, mon + 2, 1, NULL);
	if (r->start > r->made)
		return -1;
	for (int d = 0; d < ADMIN_REPORT_DAYS_MAX; d++) {
		int64_t t = midnight(r->timezone, year, mon, d + 1, &tm);
		if (t >= r->end)
			break;
		r->days[d].start = t;
		strftime(r->days[d].date, sizeof(r->days[d].date), "%Y-%m-%d", &tm);
		r->n_days++;
	}
	snprintf(r->month, sizeof(r->month), "%s", month);
	return 0;
}

void
admin_report_prev_month(const char *zone, int64_t t, char out[8])
{
	struct tz_local l;
	time_t local;
	struct tm tm;

	local = (time_t)(t + (tz_local(zone, t, &l) == 0 ? l.offset : 0));
	gmtime_r(&local, &tm);
	tm = (struct tm){ .tm_year = tm.tm_year, .tm_mon = tm.tm_mon - 1, .tm_mday = 1 };
	local = timegm(&tm);
	gmtime_r(&local, &tm);
	strftime(out, 8, "%Y-%m", &tm);
}

/* ---- the whole ---- */

/* The tenant's zone and licence into r. */
static int
read_tenant(struct admin *a, struct admin_report *r)
{
	struct tenant t;
	int rc = store_tenant_get(a->in->store, a->tenant, &t);

	if (rc != 1)
		return admin_fail(a, rc == 0 ? ADMIN_NOT_FOUND : ADMIN_FAILED, NULL, "tenant %s: %s",
		    a->tenant, rc == 0 ? "no such tenant" : "storage error");
	r->tenant = xstrdup(a->tenant);
	r->timezone = xstrdup(t.timezone ? t.timezone : RULE_DEFAULT_TIMEZONE);
	r->licensed = t.licensed;
	r->seats = t.seats;
	r->device_seats = t.device_seats;
	store_tenant_clear(&t);
	return 0;
}

int
admin_report(struct admin *a, const char *month, struct admin_report *r_r)
{
	struct walk w = { r_r, strmap_new(), { strmap_new(), NULL, 0, 0, ADMIN_REPORT_REASONS },
		{ strmap_new(), NULL, 0, 0, 0 }, { strmap_new(), NULL, 0, 0, 0 } };
	int64_t next_end;
	int rc = -1;

	memset(r_r, 0, sizeof(*r_r));
	r_r->made = clock_now();
	r_r->quota = APIKEY_PER_MONTH;
	if (admin_report_month_valid(month) == -1)
		admin_fail(a, ADMIN_INVALID, "month", "%s is not a month (YYYY-MM)", month);
	else if (read_tenant(a, r_r) == -1)
		;
	else if (fill_days(r_r, month, &next_end) == -1)
		admin_fail(a, ADMIN_INVALID, "month", "%s has not started yet", month);
	else if (read_trail(a, &w) == 0 && read_store(a, r_r, &w.keys, next_end) == 0)
		rc = 0;
	strmap_free(w.users, NULL);
	tally_done(&w.reasons, &r_r->reasons, &r_r->n_reasons);
	tally_done(&w.apps, &r_r->apps, &r_r->n_apps);
	tally_done(&w.keys, &r_r->keys, &r_r->n_keys);
	if (rc == -1)
		admin_report_clear(r_r);
	else
		admin_ok(a);
	return rc;
}

static void
counts_free(struct admin_report_count *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].name);
		free(list[i].detail);
	}
	free(list);
}

void
admin_report_clear(struct admin_report *r)
{
	counts_free(r->reasons, r->n_reasons);
	counts_free(r->apps, r->n_apps);
	counts_free(r->keys, r->n_keys);
	free(r->tenant);
	free(r->timezone);
	memset(r, 0, sizeof(*r));
}
