/*
 * The tenant's audit trail for `sekisho audit` and the admin API (GET audit, audit/export,
 * audit/verify): one filter (event, user, app, time), read in batches so a long trail is
 * never held in memory at once, the record's forms (tab, CSV, JSON), and the chain check.
 */
#ifndef SEKISHO_ADMIN_AUDIT_H
#define SEKISHO_ADMIN_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "admin.h"
#include "audit.h"
#include "buf.h"
#include "store.h"

/* The filters of one query; all must match (NULL or 0: any). */
struct audit_filter {
	const char *event;	/* exact, or a prefix when it ends in '*' */
	const char *user;	/* the field user, without regard to case */
	const char *app;	/* the field app, or sp or client holding the app's entity ID */
	int64_t since;		/* records at or after this time */
	int64_t until;		/* records before this time */
	char *app_entity;	/* set by admin_audit_prepare */
	int bad;		/* records whose fields did not parse (counted by queries) */
};

/* WHEN: a duration back from now (30m, 8h, 7d), a time (ISO 8601, Z) or a date; 0 or -1. */
int admin_audit_when(const char *s, int64_t *t_r);
/* Ready f for queries (looks up the app's entity ID); release with admin_audit_filter_free. */
void admin_audit_prepare(struct admin *a, struct audit_filter *f);
void admin_audit_filter_free(struct audit_filter *f);

/* A record that passed the filter, with its fields split (empty when they did not parse). */
typedef void (*admin_audit_fn)(const struct audit_rec *r, const struct audit_fields *kv,
    void *arg);
/*
 * One batch: at most max records (oldest first) after sequence number after are read in
 * one transaction; those passing f go to fn.  *last_r is the sequence number of the last
 * one read (the next batch's after).  The number read (0 at the end), or -1 after
 * admin_fail.
 */
int admin_audit_batch(struct admin *a, struct audit_filter *f, uint64_t after, size_t max,
    admin_audit_fn fn, void *arg, uint64_t *last_r);
/* The same newest first: records below sequence number before (0: from the newest). */
int admin_audit_batch_before(struct admin *a, struct audit_filter *f, uint64_t before,
    size_t max, admin_audit_fn fn, void *arg, uint64_t *last_r);

/* seq TAB time TAB event TAB fields NL, as `sekisho audit` prints it. */
void admin_audit_tab(const struct audit_rec *r, struct buf *out);
/* seq,time,event,fields CRLF (RFC 4180 quoting; fields as key=value text). */
void admin_audit_csv(const struct audit_rec *r, struct buf *out);
/* The header line of admin_audit_csv. */
#define ADMIN_AUDIT_CSV_HEADER "seq,time,event,fields\r\n"
/* {"seq", "time", "event", each field as a string member} (`sekisho audit --json`); new. */
json_t *admin_audit_json_flat(const struct audit_rec *r, const struct audit_fields *kv);
/* {"seq", "time", "event", "fields": {key: value}} (the admin API's form); new. */
json_t *admin_audit_json(const struct audit_rec *r, const struct audit_fields *kv);

/*
 * An export of the records passing f (prepared; the export takes its app_entity and
 * copies the rest) as JSON lines or, csv, as CSV with its header, read as the client
 * takes the bytes: admin_audit_export_read and _free are an http_stream_fn and its
 * free_fn.  a is copied (the export outlives the call) without actor and address.
 */
struct admin_audit_export;
struct admin_audit_export *admin_audit_export_new(const struct admin *a,
    const struct audit_filter *f, int csv);
/* At most max bytes of the export into buf: how many, 0 at the end, -1 on failure. */
long admin_audit_export_read(void *arg, char *buf, size_t max);
void admin_audit_export_free(void *arg);

/*
 * Check the hash chain.  0 intact with the number of records in *count_r, or -1 after
 * admin_fail ("audit trail of T: chain broken ... (record N)") with the first bad
 * sequence number in *bad_seq_r.
 */
int admin_audit_verify(struct admin *a, uint64_t *count_r, uint64_t *bad_seq_r);

#endif
