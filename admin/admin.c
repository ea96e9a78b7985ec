/*
 * What every admin operation shares: recording a failure for the caller (a message for
 * a person, the input at fault and its kind for the API), the actor fields of audit
 * records, and calls to the ca process.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "audit.h"
#include "casvc.h"
#include "clock.h"
#include "log.h"
#include "store.h"

int
admin_fail(struct admin *a, enum admin_status status, const char *field, const char *fmt, ...)
{
	va_list ap;

	a->status = status;
	a->field = field;
	va_start(ap, fmt);
	vsnprintf(a->msg, sizeof(a->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void
admin_ok(struct admin *a)
{
	a->status = ADMIN_OK;
	a->field = NULL;
	a->msg[0] = '\0';
}

static void
add_actor(const struct admin *a, struct audit_entry *ae)
{
	audit_entry_add(ae, "actor", a->actor);
	audit_entry_add(ae, "sudo_user", a->sudo_user);
	audit_entry_add(ae, "ip", a->ip);
}

void
admin_audit(const struct admin *a, struct audit_entry *ae, const char *event, ...)
{
	va_list ap;

	va_start(ap, event);
	audit_entry_makev(ae, event, ap);
	va_end(ap);
	add_actor(a, ae);
}

void
admin_audit_event(const struct admin *a, const char *event, ...)
{
	struct audit_entry ae;
	va_list ap;

	va_start(ap, event);
	audit_entry_makev(&ae, event, ap);
	va_end(ap);
	add_actor(a, &ae);
	audit_entry_log(&ae, a->tenant);
	if (store_audit_append(a->in->store, a->tenant, clock_now(), ae.event, ae.fields) == -1)
		log_error("the audit record of %s could not be stored", event);
}

int
admin_ca_call(struct admin *a, struct ca_request *rq, struct ca_reply *rp)
{
	int rc;

	if (a->ca == NULL)
		return admin_fail(a, ADMIN_FAILED, NULL, "no ca process to issue or revoke with");
	rq->actor = (char *)a->actor;
	rq->sudo_user = (char *)a->sudo_user;
	rq->ip = (char *)a->ip;
	if (a->ca_lock)
		pthread_mutex_lock(a->ca_lock);
	rc = ca_client_call(a->ca, rq, rp);
	if (a->ca_lock)
		pthread_mutex_unlock(a->ca_lock);
	rq->actor = rq->sudo_user = rq->ip = NULL;
	if (rc == -1)
		return admin_fail(a, ADMIN_FAILED, NULL, "the ca process did not answer");
	return 0;
}

int
admin_valid_email(const char *e)
{
	const char *at = strchr(e, '@');

	return at && at != e && at[1] && !strchr(at + 1, '@') && strlen(e) <= 254 &&
	    strcspn(e, " \t\r\n<>\"") == strlen(e);
}
