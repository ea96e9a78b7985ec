/*
 * Device-restricted login: the device_required policy of tenant, groups, user and app; the
 * device check on its own listener (a client certificate verified against the tenant CA
 * and looked up by fingerprint in the store); and the pages about device certificates.
 */
#ifndef SEKISHO_DEVICE_H
#define SEKISHO_DEVICE_H

#include "idp.h"
#include "session.h"

/* The tenant's device CA and policies, loaded with its context.  0 or -1. */
int device_tenant_load(struct idp *idp, struct tenant_ctx *t);
void device_tenant_free(struct tenant_ctx *t);

/*
 * Whether the user with id user (member of the groups with these ids, a NULL-terminated
 * list) needs an enrolled device for the app with id app (NULL: none): app "on" always
 * does; otherwise the user's own setting, then any of its groups ("on" wins over "off"),
 * then the tenant's.
 */
int device_required(const struct tenant_ctx *t, const char *user, char *const *groups,
    const char *app);

struct device_result {
	int needed;		/* the policy asks for a device */
	const char *serial;	/* the session's checked certificate, still valid; or NULL */
};
/* Evaluate for a session and app (NULL for no app).  0, or -1 on storage errors. */
int device_evaluate(struct idp *idp, struct tenant_ctx *t, const struct sso_session *ss,
    const char *app, struct device_result *r);

/*
 * Send the browser to the device check for the parked request pending (resumed at
 * /resume?r=pending once the device passes), or show why that cannot happen.
 */
void device_send(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct sso_session *ss, const char *pending);

/* The handler of the device-check listener. */
void device_handle(struct http_req *req, void *arg);
/* Every tenant's CA certificate, concatenated (new string; NULL when there is none). */
char *device_trust_pem(struct idp *idp);

/* /t/T/certs (the user's devices), /t/T/certs/ca.pem and /t/T/certs/crl. */
void certs_route(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *rest);

#endif
