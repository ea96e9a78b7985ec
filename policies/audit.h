/*
 * Security events: one key=value log line and one record in the tenant's hash-chained
 * audit trail, written together so the two never disagree.
 */
#ifndef SEKISHO_AUDIT_H
#define SEKISHO_AUDIT_H

struct store;

/* Pairs of key, value ending with NULL; NULL values are skipped.  Never pass secrets. */
void audit_event(struct store *st, const char *tenant, const char *event, ...)
	__attribute__((sentinel));

/* Retention of audit records: 13 months, as the service specification requires. */
#define AUDIT_RETENTION_SECONDS (396LL * 86400)

#endif
