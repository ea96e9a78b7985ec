/*
 * GET /metrics: the counters (metrics.c) and gauges read from the store at scrape time
 * (LMDB map use, certificates active and expiring per tenant, API calls per key against
 * the monthly quota, the last backup's age, the clock's NTP state).  Only addresses in metrics_from may read it:
 * tenant names and usage are the operator's business.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "apikey.h"
#include "backup.h"
#include "clock.h"
#include "http.h"
#include "idp.h"
#include "log.h"
#include "metrics.h"
#include "metrics_page.h"
#include "store.h"

#define EXPIRING_SECONDS (30 * 86400LL)

struct cert_count {
	int64_t now;
	uint64_t active, expiring;
};

static void
cert_rec(const void *rec, void *arg)
{
	const struct devcert *c = rec;
	struct cert_count *cc = arg;

	if (c->revoked || (int64_t)c->not_after <= cc->now)
		return;
	cc->active++;
	if ((int64_t)c->not_after <= cc->now + EXPIRING_SECONDS)
		cc->expiring++;
}

struct key_walk {
	int64_t now;
	const char *tenant;
	struct buf *out;
};

static void
key_rec(const void *rec, void *arg)
{
	const struct apikey *k = rec;
	struct key_walk *kw = arg;

	buf_printf(kw->out, "sekisho_apikey_calls_month{tenant=\"");
	metrics_label(kw->out, kw->tenant);
	buf_printf(kw->out, "\",key=\"");
	metrics_label(kw->out, k->name);
	buf_printf(kw->out, "\"} %llu\n",
	    (unsigned long long)apikey_calls_this_month(k, kw->now));
}

static void
gauge_head(struct buf *out, const char *name, const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* One line per tenant of name with value. */
static void
tenant_line(struct buf *out, const char *name, const char *tenant, uint64_t value)
{
	buf_printf(out, "%s{tenant=\"", name);
	metrics_label(out, tenant);
	buf_printf(out, "\"} %llu\n", (unsigned long long)value);
}

static void
render_certs(struct store *st, char **ids, int64_t now, struct buf *out)
{
	struct buf exp;

	buf_init(&exp, 0);
	gauge_head(out, "sekisho_certificates_active",
	    "Device certificates neither revoked nor expired.");
	gauge_head(&exp, "sekisho_certificates_expiring",
	    "Active device certificates that expire within 30 days.");
	for (size_t i = 0; ids[i]; i++) {
		struct cert_count cc = { .now = now };
		if (store_cert_list(st, ids[i], NULL, cert_rec, &cc) < 0)
			continue;
		tenant_line(out, "sekisho_certificates_active", ids[i], cc.active);
		tenant_line(&exp, "sekisho_certificates_expiring", ids[i], cc.expiring);
	}
	if (exp.len)
		buf_append(out, exp.data, exp.len);
	buf_free(&exp);
}

static void
render_keys(struct store *st, char **ids, int64_t now, struct buf *out)
{
	gauge_head(out, "sekisho_apikey_quota_month", "Calls an API key may make per month.");
	buf_printf(out, "sekisho_apikey_quota_month %d\n", APIKEY_PER_MONTH);
	gauge_head(out, "sekisho_apikey_calls_month", "Calls an API key made this month.");
	for (size_t i = 0; ids[i]; i++) {
		struct key_walk kw = { .now = now, .tenant = ids[i], .out = out };
		store_apikey_list(st, ids[i], key_rec, &kw);
	}
}

/* The last verified backup, as the backup job recorded it in backup_dir/LAST. */
static void
render_backup(const struct settings *s, int64_t now, struct buf *out)
{
	int64_t last = backup_last(s);

	gauge_head(out, "sekisho_backup_last_timestamp_seconds",
	    "When the last verified backup finished (0: none yet).");
	buf_printf(out, "sekisho_backup_last_timestamp_seconds %lld\n", (long long)last);
	gauge_head(out, "sekisho_backup_age_seconds",
	    "Seconds since the last verified backup (-1: none yet).");
	buf_printf(out, "sekisho_backup_age_seconds %lld\n", last ? (long long)(now - last) : -1LL);
}

static void
render_store(struct store *st, int64_t now, struct buf *out)
{
	int64_t used, size;
	char **ids = NULL;

	if (store_map_usage(st, &used, &size) == 0) {
		gauge_head(out, "sekisho_lmdb_map_bytes", "Size of the LMDB map.");
		buf_printf(out, "sekisho_lmdb_map_bytes %lld\n", (long long)size);
		gauge_head(out, "sekisho_lmdb_used_bytes", "Bytes of the map in use.");
		buf_printf(out, "sekisho_lmdb_used_bytes %lld\n", (long long)used);
	}
	if (store_tenant_ids(st, &ids) == -1) {
		log_error("metrics: cannot list the tenants");
		return;
	}
	render_certs(st, ids, now, out);
	render_keys(st, ids, now, out);
	store_strv_free(ids);
}

static void
render_clock(struct buf *out)
{
	int synced;
	int64_t maxerr;

	if (clock_sync_status(&synced, &maxerr) == -1)
		return;
	gauge_head(out, "sekisho_clock_synchronised",
	    "1 when the kernel says the clock is synchronised (NTP).");
	buf_printf(out, "sekisho_clock_synchronised %d\n", synced);
	gauge_head(out, "sekisho_clock_maxerror_seconds", "The kernel's maximum clock error.");
	buf_printf(out, "sekisho_clock_maxerror_seconds %.6f\n", (double)maxerr / 1e6);
}

void
metrics_page(struct idp *idp, struct http_req *req)
{
	struct buf out;
	size_t len;
	char *text;

	if (!ipnet_match(&idp->metrics_from, http_client_ip(req))) {
		log_info("metrics: refused %s (not in metrics_from)", http_client_ip(req));
		http_status(req, 403);
		http_body_copy(req, "text/plain; charset=utf-8", "forbidden\n", 10);
		return;
	}
	buf_init(&out, 0);
	buf_printf(&out, "# HELP sekisho_build_info The running version.\n"
	    "# TYPE sekisho_build_info gauge\nsekisho_build_info{version=\"%s\"} 1\n",
	    PACKAGE_VERSION);
	metrics_render_counters(&out);
	render_clock(&out);
	render_store(idp->in.store, clock_now(), &out);
	render_backup(&idp->in.settings, clock_now(), &out);
	text = buf_steal(&out, &len);
	http_body_take(req, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

void
metrics_handle(struct http_req *req, void *arg)
{
	if (!strcmp(http_path(req), "/metrics") && !strcmp(http_method(req), "GET")) {
		metrics_page(arg, req);
		return;
	}
	http_status(req, 404);
	http_body_copy(req, "text/plain; charset=utf-8", "not found\n", 10);
}
