/*
 * Security events: one key=value log line and one record in the tenant's hash-chained
 * audit trail, written together so the two never disagree.
 */
#ifndef SEKISHO_AUDIT_H
#define SEKISHO_AUDIT_H

#include <stdarg.h>
#include <stddef.h>

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
void audit_entry_makev(struct audit_entry *e, const char *event, va_list ap);
/* One more key=value at the end of an entry's fields (nothing when value is NULL). */
void audit_entry_add(struct audit_entry *e, const char *key, const char *value);
/* The log line of an entry whose record committed. */
void audit_entry_log(const struct audit_entry *e, const char *tenant);
/*
 * fn sees every record's tenant, event and fields as its log line is written (the
 * daemon's counters for /metrics); set once at start, before threads run.  NULL: none.
 */
typedef void (*audit_observer_fn)(const char *tenant, const char *event, const char *fields);
void audit_set_observer(audit_observer_fn fn);

/* The key=value fields of a record, split and unquoted. */
struct audit_fields {
	size_t n;
	char **keys;
	char **values;
};
/*
 * Split the fields of a record ("key=value ..." with values quoted and escaped as the log
 * line has them) into f_r (caller clears it).  A quoted value cut short by the record's
 * size cap ends where the text ends.  0, or -1 (f_r empty) when the text is not of that form.
 */
int audit_fields_parse(const char *fields, struct audit_fields *f_r);
/* The value of the last field named key (borrowed), or NULL. */
const char *audit_fields_get(const struct audit_fields *f, const char *key);
void audit_fields_clear(struct audit_fields *f);

/* Retention of audit records: 13 months, as the service specification requires. */
#define AUDIT_RETENTION_SECONDS (396LL * 86400)

#endif
