/*
 * The daemon's counters for /metrics (Prometheus text format): events counted as the
 * audit trail records them, request latency histograms per area of the site.  One worker
 * process serves every request on a thread pool: the counters are process memory, kept
 * with atomics (histograms) and a mutex (labelled counters).
 */
#ifndef SEKISHO_METRICS_H
#define SEKISHO_METRICS_H

#include <stdint.h>

#include "buf.h"

/* At most this many labelled series; further label sets are counted as tenant="other". */
#define METRICS_SERIES_MAX 2000

/* The audit observer (audit_set_observer): counts logins, refusals, SSO and events. */
void metrics_audit(const char *tenant, const char *event, const char *fields);
/* One request to path answered after us microseconds. */
void metrics_request(const char *path, int64_t us);
/* A request began (+1) or completed (-1). */
void metrics_inflight(int delta);
/* The counters and histograms, in the text format, appended to out. */
void metrics_render_counters(struct buf *out);
/* Forget every count (tests). */
void metrics_reset(void);

/* A label value escaped for the text format (\\, \", \n) appended to out. */
void metrics_label(struct buf *out, const char *value);

#endif
