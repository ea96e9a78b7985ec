/*
 * The console's dashboard, on its home page for those who may read the audit trail:
 * logins and refusals per day for 30 days and certificates expiring per month as SVG
 * charts drawn on the server (svgchart.h), each with its numbers in a table for screen
 * readers, refusals by reason, active users and API keys near their monthly quota, all
 * from admin_stats (the numbers GET stats answers); the seats in use against the licence.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "admin_licence.h"
#include "admin_stats.h"
#include "console_int.h"
#include "svgchart.h"
#include "xmalloc.h"

static void
set_u64(struct tmpl_vars *v, const char *name, uint64_t n)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRIu64, n);
	tmpl_set(v, name, s);
}

static const char *
msg(const struct console_req *c, const char *key)
{
	return page_msg(c->idp->pages, c->lang, key);
}

/* The chart as markup under name (the chart is Sekisho's own SVG, labels escaped). */
static void
set_chart(struct tmpl_vars *v, const char *name, const struct svgchart *ch)
{
	char *svg = svgchart_bars(ch);

	if (svg)
		tmpl_set_markup(v, name, svg);
	free(svg);
}

/* Logins and refusals per day, stacked, and the same numbers as a table. */
static void
days(struct console_req *c, struct tmpl_vars *v, const struct admin_stats *s)
{
	uint64_t ok[ADMIN_STATS_DAYS], no[ADMIN_STATS_DAYS];
	const char *labels[ADMIN_STATS_DAYS];
	struct svgchart_series series[2] = { { msg(c, "dash_logins"), ok },
		{ msg(c, "dash_refusals"), no } };
	struct svgchart ch = { "dash-days", msg(c, "dash_days_title"), NULL, ADMIN_STATS_DAYS,
		labels, 7, 2, series };
	char *desc = xasprintf("%s %" PRIu64 ", %s %" PRIu64, msg(c, "dash_logins"), s->logins,
	    msg(c, "dash_refusals"), s->refusals);

	for (size_t i = 0; i < ADMIN_STATS_DAYS; i++) {
		struct tmpl_vars *it = tmpl_add_item(v, "dash_day_rows");
		ok[i] = s->days[i].logins;
		no[i] = s->days[i].refusals;
		labels[i] = s->days[i].date + 5;	/* MM-DD */
		tmpl_set(it, "day", s->days[i].date);
		set_u64(it, "day_logins", ok[i]);
		set_u64(it, "day_refusals", no[i]);
	}
	ch.desc = desc;
	set_chart(v, "dash_days_chart", &ch);
	free(desc);
}

/* Certificates expiring per month for 12 months, chart and table. */
static void
months(struct console_req *c, struct tmpl_vars *v, const struct admin_stats *s)
{
	uint64_t n[ADMIN_STATS_MONTHS], total = 0;
	const char *labels[ADMIN_STATS_MONTHS];
	struct svgchart_series series = { msg(c, "dash_expiring"), n };
	struct svgchart ch = { "dash-months", msg(c, "dash_months_title"), NULL,
		ADMIN_STATS_MONTHS, labels, 2, 1, &series };
	char *desc;

	for (size_t i = 0; i < ADMIN_STATS_MONTHS; i++) {
		struct tmpl_vars *it = tmpl_add_item(v, "dash_month_rows");
		n[i] = s->months[i].expiring;
		total += n[i];
		labels[i] = s->months[i].month;
		tmpl_set(it, "month", s->months[i].month);
		set_u64(it, "month_expiring", n[i]);
	}
	desc = xasprintf("%s %" PRIu64, msg(c, "dash_expiring"), total);
	ch.desc = desc;
	set_chart(v, "dash_months_chart", &ch);
	free(desc);
}

/* Refusals by event and reason, and the keys near their quota. */
static void
lists(struct tmpl_vars *v, const struct admin_stats *s)
{
	for (size_t i = 0; i < s->n_reasons; i++) {
		struct tmpl_vars *it = tmpl_add_item(v, "dash_reasons");
		tmpl_set(it, "event", s->reasons[i].event);
		tmpl_set(it, "reason", s->reasons[i].reason ? s->reasons[i].reason : "-");
		set_u64(it, "reason_count", s->reasons[i].count);
	}
	for (size_t i = 0; i < s->n_keys; i++) {
		struct tmpl_vars *it = tmpl_add_item(v, "dash_keys");
		tmpl_set(it, "key", s->keys[i].name);
		set_u64(it, "key_calls", s->keys[i].calls);
		set_u64(it, "key_quota", s->keys[i].quota);
		set_u64(it, "key_percent", s->keys[i].quota ? s->keys[i].calls * 100 /
		    s->keys[i].quota : 0);
		tmpl_set(it, "key_state", s->keys[i].state);
	}
}

/* Seats in use against the licence (the operator sets it; no limit when unlicensed). */
static void
licence(struct console_req *c, struct tmpl_vars *v)
{
	struct admin_licence l;

	if (admin_licence_get(&c->adm, c->adm.tenant, &l) == -1)
		return;
	set_u64(v, "licence_in_use", l.use.users);
	if (!l.licensed)
		return;
	set_u64(v, "licence_seats", l.seats);
	set_u64(v, "licence_holders", l.use.cert_holders);
	set_u64(v, "licence_device_seats", l.device_seats);
}

void
console_dashboard(struct console_req *c, struct tmpl_vars *v)
{
	struct admin_stats s;

	if (!console_may(c, ADMIN_RIGHT_READ_AUDIT))
		return;
	if (admin_stats(&c->adm, &s) == -1) {
		tmpl_set(v, "dash_failed", c->adm.msg);
		return;
	}
	tmpl_set(v, "dash", "1");
	tmpl_set(v, "dash_timezone", s.timezone);
	set_u64(v, "dash_logins_total", s.logins);
	set_u64(v, "dash_refusals_total", s.refusals);
	set_u64(v, "dash_active_users", s.active_users);
	licence(c, v);
	days(c, v, &s);
	months(c, v, &s);
	lists(v, &s);
	tmpl_set(v, "dash_no_keys", s.n_keys ? NULL : "1");
	tmpl_set(v, "dash_no_reasons", s.n_reasons ? NULL : "1");
	admin_stats_clear(&s);
}
