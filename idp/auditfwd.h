/*
 * Audit forwarding for a SIEM: sekishod's worker follows every audit trail in the store
 * and passes each new record on, as a JSON line appended to audit_file and as a message
 * to the local syslog socket (audit_syslog).
 */
#ifndef SEKISHO_AUDITFWD_H
#define SEKISHO_AUDITFWD_H

#include "settings.h"

struct auditfwd;
struct store;

/* A forwarder for s (borrowed until auditfwd_close), or NULL when nothing is configured. */
struct auditfwd *auditfwd_open(const struct settings *s);
/* Pass on what was added to any trail since the last call (a file that failed is retried). */
void auditfwd_run(struct auditfwd *f, struct store *st);
/* Close (the file is opened again by the next auditfwd_open: log rotation). */
void auditfwd_close(struct auditfwd *f);

#endif
