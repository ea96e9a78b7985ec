/*
 * The service operator's actions on whole tenants (admin_operator.h): creating one,
 * suspending and resuming it, deleting a trial's API keys and listing its monthly
 * reports.  The operator's trail (tenant STORE_OPERATOR) records each action; the
 * tenant's own trail records what happened to it.
 */
#include "config.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_operator.h"
#include "audit.h"
#include "casvc.h"
#include "clock.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

void
admin_operator_audit(const struct admin *a, const char *event, const char *id, ...)
{
	struct audit_entry ae;
	const char *k, *v;
	va_list ap;

	audit_entry_make(&ae, event, "tenant", id, NULL);
	va_start(ap, id);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		audit_entry_add(&ae, k, v);
	}
	va_end(ap);
	audit_entry_add(&ae, "actor", a->actor);
	audit_entry_add(&ae, "sudo_user", a->sudo_user);
	audit_entry_add(&ae, "ip", a->ip);
	audit_entry_log(&ae, STORE_OPERATOR);
	if (store_audit_append(a->in->store, STORE_OPERATOR, clock_now(), ae.event,
	    ae.fields) == -1)
		log_error("the operator's audit record of %s could not be stored", event);
}

/* The tenant as stored (cleared by the caller): 0, or -1 after admin_fail (404). */
static int
tenant_get(struct admin *a, const char *id, struct tenant *t_r)
{
	int rc = store_valid_name(id, 63) ? store_tenant_get(a->in->store, id, t_r) : 0;

	if (rc == 0)
		return admin_fail(a, ADMIN_NOT_FOUND, "tenant", "no tenant %s", id);
	if (rc < 0)
		return admin_fail(a, ADMIN_FAILED, NULL, "tenant %s: storage error", id);
	return 0;
}

static int
create_ca(struct admin *a, const char *id, const char *keytype)
{
	struct ca_request rq = { .op = CA_OP_CREATE, .tenant = (char *)id,
		.keytype = (char *)keytype };
	struct ca_reply rp;
	int rc = 0;

	if (admin_ca_call(a, &rq, &rp) == -1)
		return -1;
	if (!rp.ok)
		rc = admin_fail(a, ADMIN_FAILED, NULL, "tenant %s: %s", id,
		    rp.error ? rp.error : "the device CA could not be made");
	ca_reply_clear(&rp);
	return rc;
}

int
admin_operator_tenant_add(struct admin *a, const char *id, const char *name,
    const char *keytype)
{
	struct admin in_tenant = *a;
	struct tenant t = { 0 };
	const char *err = NULL;

	if (id == NULL || !store_valid_name(id, 63))
		return admin_fail(a, ADMIN_INVALID, "id", "a tenant id is 1 to 63 of A-Z a-z 0-9 "
		    ". _ @ + -");
	if (keytype && strcmp(keytype, "p256") && strcmp(keytype, "rsa3072"))
		return admin_fail(a, ADMIN_INVALID, "ca_key", "the CA key is p256 or rsa3072");
	if (store_tenant_get(a->in->store, id, &t) != 0) {
		store_tenant_clear(&t);
		return admin_fail(a, ADMIN_CONFLICT, "id", "tenant %s exists", id);
	}
	if (tenant_create(a->in, id, name ? name : id, &err) == -1)
		return admin_fail(a, err && strstr(err, "exists") ? ADMIN_CONFLICT : ADMIN_FAILED,
		    "id", "tenant %s: %s", id, err ? err : "storage error");
	in_tenant.tenant = id;
	admin_audit_event(&in_tenant, "admin.tenant.add", "tenant", id, "name", name, NULL);
	admin_operator_audit(a, "operator.tenant.add", id, "name", name, NULL);
	return create_ca(a, id, keytype);
}

int
admin_operator_suspend(struct admin *a, const char *id, int suspend, int *ended_r)
{
	const char *event = suspend ? "operator.tenant.suspend" : "operator.tenant.resume";
	struct audit_entry ae;
	struct tenant t;
	const char *err = NULL;
	char n[16];
	int rc, was;

	*ended_r = 0;
	if (tenant_get(a, id, &t) == -1)
		return -1;
	was = t.suspended != 0;
	store_tenant_clear(&t);
	if (was == (suspend != 0))
		return admin_fail(a, ADMIN_CONFLICT, "tenant", "tenant %s is %s", id,
		    was ? "suspended already" : "not suspended");
	admin_audit(a, &ae, event, "tenant", id, NULL);
	rc = store_tenant_suspend(a->in->store, id, suspend ? (uint64_t)clock_now() : 0, &ae,
	    ended_r, &err);
	if (rc == 0)
		return admin_fail(a, ADMIN_NOT_FOUND, "tenant", "no tenant %s", id);
	if (rc < 0)
		return admin_fail(a, ADMIN_FAILED, NULL, "tenant %s: %s", id, err);
	snprintf(n, sizeof(n), "%d", *ended_r);
	admin_operator_audit(a, event, id, "sessions_ended", n, NULL);
	return 0;
}

/* The names of a tenant's trial keys. */
static void
trial_cb(const void *rec, void *arg)
{
	const struct apikey *k = rec;
	char ***names = arg;
	size_t n = 0;

	if (!k->trial)
		return;
	while (*names && (*names)[n])
		n++;
	*names = xreallocarray(*names, n + 2, sizeof(char *));
	(*names)[n] = xstrdup(k->name);
	(*names)[n + 1] = NULL;
}

int
admin_operator_trial_keys_delete(struct admin *a, const char *id, int *n_r)
{
	struct audit_entry ae;
	struct tenant t;
	char **names = NULL, n[16];
	int rc = 0;

	*n_r = 0;
	if (tenant_get(a, id, &t) == -1)
		return -1;
	store_tenant_clear(&t);
	if (store_apikey_list(a->in->store, id, trial_cb, &names) < 0)
		return admin_fail(a, ADMIN_FAILED, NULL, "tenant %s: storage error", id);
	for (size_t i = 0; names && names[i] && rc == 0; i++) {
		admin_audit(a, &ae, "operator.apikey.delete", "name", names[i], "trial", "yes",
		    NULL);
		if (store_apikey_remove(a->in->store, id, names[i], &ae) < 0)
			rc = admin_fail(a, ADMIN_FAILED, NULL, "tenant %s: storage error", id);
		else
			(*n_r)++;
	}
	store_strv_free(names);
	snprintf(n, sizeof(n), "%d", *n_r);
	admin_operator_audit(a, "operator.apikey.delete_trial", id, "deleted", n, NULL);
	return rc;
}

/* "2026-11": a month's directory of reports. */
static int
is_month(const char *s)
{
	return strlen(s) == 7 && strspn(s, "0123456789") == 4 && s[4] == '-' &&
	    strspn(s + 5, "0123456789") == 2;
}

static int
name_order(const struct dirent **x, const struct dirent **y)
{
	return strcmp((*x)->d_name, (*y)->d_name);
}

/* Files of one month's directory, in order. */
static void
month_files(const char *dir, const char *month,
    void (*cb)(const char *month, const char *file, void *arg), void *arg)
{
	char *path = xasprintf("%s/%s", dir, month);
	struct dirent **ents = NULL;
	int n = scandir(path, &ents, NULL, name_order);

	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.' && ents[i]->d_type == DT_REG)
			cb(month, ents[i]->d_name, arg);
		free(ents[i]);
	}
	free(ents);
	free(path);
}

int
admin_operator_reports(struct admin *a, const char *id,
    void (*cb)(const char *month, const char *file, void *arg), void *arg)
{
	struct dirent **ents = NULL;
	struct tenant t;
	char *dir;
	int n;

	if (tenant_get(a, id, &t) == -1)
		return -1;
	store_tenant_clear(&t);
	dir = xasprintf("%s/%s", a->in->settings.report_dir, id);
	n = scandir(dir, &ents, NULL, name_order);
	for (int i = 0; i < n; i++) {
		if (is_month(ents[i]->d_name))
			month_files(dir, ents[i]->d_name, cb, arg);
		free(ents[i]);
	}
	free(ents);
	free(dir);
	return 0;
}
