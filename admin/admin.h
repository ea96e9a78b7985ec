/*
 * Tenant administration shared by the sekisho command line and the admin API (and the
 * SCIM server): who acts, how an operation reports what went wrong (which input, and
 * what kind of failure, so the API can answer 400/404/409), and the audit records of
 * changes.  One rule, one implementation: the CLI and the API call the same admin_*
 * functions (admin_user.h, admin_app.h, apikey.h ...).
 */
#ifndef SEKISHO_ADMIN_H
#define SEKISHO_ADMIN_H

#include <pthread.h>

#include "instance.h"

enum admin_status {
	ADMIN_OK = 0,
	ADMIN_INVALID,		/* the input is wrong (400; field names it) */
	ADMIN_NOT_FOUND,	/* no such object in this tenant (404) */
	ADMIN_CONFLICT,		/* exists already, or in use (409) */
	ADMIN_LIMIT,		/* a limit refuses it: certificate cap, licence (409) */
	ADMIN_FORBIDDEN,	/* the caller may not do this (403: scope, never another tenant) */
	ADMIN_FAILED,		/* storage or CA failure (500) */
};

struct ca_client;
struct ca_request;
struct ca_reply;
struct audit_entry;

struct admin {
	struct instance *in;	/* settings, store, master key */
	const char *tenant;
	struct ca_client *ca;	/* a ca process, or NULL (then certificate operations fail) */
	pthread_mutex_t *ca_lock;	/* serialises calls on ca when threads share it, or NULL */
	/* who acts, for the audit records (NULL members are left out) */
	const char *actor;	/* the operating-system user, or "apikey:NAME" */
	const char *sudo_user;	/* the user who ran sudo (command line) */
	const char *ip;		/* the API caller's address */
	/* the last failure */
	enum admin_status status;
	const char *field;	/* the input at fault ("email", "name"), or NULL */
	char field_buf[80];	/* a field made for the failure ("parameters.subdomain") */
	char msg[320];		/* for a person: "user alice exists" */
};

/* Record a failure in a (status, field, message); returns -1. */
int admin_fail(struct admin *a, enum admin_status status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Clear the last failure. */
void admin_ok(struct admin *a);
/*
 * An audit entry for a change made by a (pairs of key, value as for audit_entry_make, NULL
 * values skipped), with actor, sudo_user and ip appended.  The store writes it with the
 * change; admin_audit_event writes one on its own.
 */
void admin_audit(const struct admin *a, struct audit_entry *ae, const char *event, ...)
    __attribute__((sentinel));
void admin_audit_event(const struct admin *a, const char *event, ...) __attribute__((sentinel));
/* A request to the ca process with a's actor filled in: 0, or -1 after admin_fail. */
int admin_ca_call(struct admin *a, struct ca_request *rq, struct ca_reply *rp);
/* 1 when e looks like an e-mail address we accept (local@domain, at most 254 bytes). */
int admin_valid_email(const char *e);

#endif
