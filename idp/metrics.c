/*
 * Counters behind /metrics (metrics.h).  Labelled counters live in a small table under a
 * mutex: the label values come from the audit record (tenant, reason, app), so the table
 * is capped and a flood of new names lands in one "other" series instead of memory.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_stats.h"
#include "audit.h"
#include "metrics.h"
#include "xmalloc.h"

enum family { F_LOGINS, F_REFUSALS, F_SSO, F_EVENTS, F__COUNT };

static const struct {
	const char *name, *help;
} families[F__COUNT] = {
	{ "sekisho_logins_total", "Successful logins (password or passkey)." },
	{ "sekisho_refusals_total", "Refused logins and accesses, by audit event and reason." },
	{ "sekisho_sso_total", "Single sign-ons answered, by protocol and app." },
	{ "sekisho_audit_events_total", "Audit records written, by event." },
};

struct series {
	enum family fam;
	char *labels;		/* rendered: tenant="a",reason="b" */
	uint64_t count;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct series *table;
static size_t n_series, cap_series;

/* Request areas: fixed, so a histogram is an array of atomics. */
static const char *const areas[] = { "page", "saml", "oidc", "api", "scim", "static",
	"internal" };
#define N_AREAS (sizeof(areas) / sizeof(areas[0]))
static const int64_t bounds_us[] = { 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000 };
#define N_BOUNDS (sizeof(bounds_us) / sizeof(bounds_us[0]))

static uint64_t hist[N_AREAS][N_BOUNDS + 1];	/* per bucket, not cumulative; last: +Inf */
static uint64_t hist_sum_us[N_AREAS];
static int64_t inflight;

void
metrics_label(struct buf *out, const char *value)
{
	for (const char *p = value ? value : ""; *p; p++) {
		if (*p == '\\' || *p == '"')
			buf_printf(out, "\\%c", *p);
		else if (*p == '\n')
			buf_append(out, "\\n", 2);
		else
			buf_append(out, p, 1);
	}
}

/* Add n to the series of fam with labels (rendered); the caller holds the lock. */
static void
bump_locked(enum family fam, const char *labels)
{
	for (size_t i = 0; i < n_series; i++)
		if (table[i].fam == fam && !strcmp(table[i].labels, labels)) {
			table[i].count++;
			return;
		}
	/* the last F__COUNT slots are kept for each family's "other" */
	if (n_series >= METRICS_SERIES_MAX - F__COUNT && strcmp(labels, "tenant=\"other\"")) {
		bump_locked(fam, "tenant=\"other\"");
		return;
	}
	if (n_series == cap_series) {
		cap_series = cap_series ? cap_series * 2 : 64;
		table = xreallocarray(table, cap_series, sizeof(*table));
	}
	table[n_series].fam = fam;
	table[n_series].labels = xstrdup(labels);
	table[n_series].count = 1;
	n_series++;
}

/* Pairs of label name and value ending with NULL. */
static void __attribute__((sentinel))
bump(enum family fam, ...)
{
	struct buf b;
	const char *k;
	va_list ap;

	buf_init(&b, 0);
	va_start(ap, fam);
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);
		buf_printf(&b, "%s%s=\"", b.len ? "," : "", k);
		metrics_label(&b, v);
		buf_append(&b, "\"", 1);
	}
	va_end(ap);
	pthread_mutex_lock(&lock);
	bump_locked(fam, b.data ? b.data : "");
	pthread_mutex_unlock(&lock);
	buf_free(&b);
}

void
metrics_audit(const char *tenant, const char *event, const char *fields)
{
	struct audit_fields f = { 0 };
	const char *reason, *app;

	if (audit_fields_parse(fields ? fields : "", &f) == -1)
		memset(&f, 0, sizeof(f));
	reason = audit_fields_get(&f, "reason");
	bump(F_EVENTS, "event", event, NULL);
	if (!strcmp(event, "login.ok") || !strcmp(event, "login.passkey.ok"))
		bump(F_LOGINS, "tenant", tenant, NULL);
	else if (admin_stats_refusal(event, reason))
		bump(F_REFUSALS, "tenant", tenant, "event", event, "reason", reason ? reason : "",
		    NULL);
	else if (!strcmp(event, "saml.sso") && (app = audit_fields_get(&f, "app")) != NULL)
		bump(F_SSO, "tenant", tenant, "protocol", "saml", "app", app, NULL);
	else if (!strcmp(event, "oidc.token") && (app = audit_fields_get(&f, "client")) != NULL)
		bump(F_SSO, "tenant", tenant, "protocol", "oidc", "app", app, NULL);
	audit_fields_clear(&f);
}

/* The area of a path: /t/T/saml/... is "saml", /static/ "static" ... */
static size_t
area_of(const char *path)
{
	static const char *const under[] = { "saml/", "oidc/", "api/", "scim/" };
	const char *rest;

	if (!strncmp(path, "/static/", 8))
		return 5;
	if (!strcmp(path, "/healthz") || !strcmp(path, "/metrics"))
		return 6;
	if (strncmp(path, "/t/", 3) || (rest = strchr(path + 3, '/')) == NULL)
		return 0;
	if (!strncmp(rest + 1, ".well-known/", 12))
		return 2;
	for (size_t i = 0; i < 4; i++)
		if (!strncmp(rest + 1, under[i], strlen(under[i])))
			return i + 1;
	return 0;
}

void
metrics_request(const char *path, int64_t us)
{
	size_t a = area_of(path ? path : ""), b = 0;

	if (us < 0)
		us = 0;
	while (b < N_BOUNDS && us > bounds_us[b])
		b++;
	__atomic_add_fetch(&hist[a][b], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&hist_sum_us[a], (uint64_t)us, __ATOMIC_RELAXED);
}

void
metrics_inflight(int delta)
{
	__atomic_add_fetch(&inflight, delta, __ATOMIC_RELAXED);
}

static void
render_histograms(struct buf *out)
{
	const char *name = "sekisho_http_request_duration_seconds";

	buf_printf(out, "# HELP %s Time to answer a request, by area of the site.\n"
	    "# TYPE %s histogram\n", name, name);
	for (size_t a = 0; a < N_AREAS; a++) {
		uint64_t cum = 0;
		for (size_t b = 0; b <= N_BOUNDS; b++) {
			cum += __atomic_load_n(&hist[a][b], __ATOMIC_RELAXED);
			if (b < N_BOUNDS)
				buf_printf(out, "%s_bucket{area=\"%s\",le=\"%g\"} %llu\n", name,
				    areas[a], (double)bounds_us[b] / 1e6, (unsigned long long)cum);
			else
				buf_printf(out, "%s_bucket{area=\"%s\",le=\"+Inf\"} %llu\n", name,
				    areas[a], (unsigned long long)cum);
		}
		buf_printf(out, "%s_sum{area=\"%s\"} %.6f\n%s_count{area=\"%s\"} %llu\n", name,
		    areas[a], (double)__atomic_load_n(&hist_sum_us[a], __ATOMIC_RELAXED) / 1e6,
		    name, areas[a], (unsigned long long)cum);
	}
}

void
metrics_render_counters(struct buf *out)
{
	pthread_mutex_lock(&lock);
	for (int f = 0; f < F__COUNT; f++) {
		buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", families[f].name,
		    families[f].help, families[f].name);
		for (size_t i = 0; i < n_series; i++)
			if (table[i].fam == (enum family)f)
				buf_printf(out, "%s{%s} %llu\n", families[f].name, table[i].labels,
				    (unsigned long long)table[i].count);
	}
	pthread_mutex_unlock(&lock);
	buf_printf(out, "# HELP sekisho_http_requests_in_flight Requests begun and not yet "
	    "answered.\n# TYPE sekisho_http_requests_in_flight gauge\n"
	    "sekisho_http_requests_in_flight %lld\n",
	    (long long)__atomic_load_n(&inflight, __ATOMIC_RELAXED));
	render_histograms(out);
}

void
metrics_reset(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < n_series; i++)
		free(table[i].labels);
	free(table);
	table = NULL;
	n_series = cap_series = 0;
	pthread_mutex_unlock(&lock);
	memset(hist, 0, sizeof(hist));
	memset(hist_sum_us, 0, sizeof(hist_sum_us));
}
