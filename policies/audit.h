/*
 * Security events: one key=value log line and one record in the tenant's hash-chained
 * audit trail, written together so the two never disagree.
 */
#ifndef SEKISHO_AUDIT_H
#define SEKISHO_AUDIT_H

#include <stdarg.h>

struct store;

/* An event to record together with the change it is about (one transaction). */
struct audit_entry {
	const char *event;
	char fields[1536];	/* key=value pairs as in the log line */
};

/* Pairs of key, value ending with NULL; NULL values are skipped.  Never pass secrets. */
void audit_event(struct store *st, const char *tenant, const char *event, ...)
	__attribute__((sentinel));
/* Build an entry (nothing is written or logged yet); pairs as for audit_event. */
void audit_entry_make(struct audit_entry *e, const char *event, ...) __attribute__((sentinel));
/* The log line of an entry whose record committed. */
void audit_entry_log(const struct audit_entry *e, const char *tenant);

/* Retention of audit records: 13 months, as the service specification requires. */
#define AUDIT_RETENTION_SECONDS (396LL * 86400)

#endif
