/*
 * Device-restricted login (whether a device is required is the rule set's decision,
 * idp/access.h): the device check on its own listener (a client certificate verified against the tenant CA
 * and looked up by fingerprint in the store), bound to the browser that began the login
 * and completed by a POST on the main listener; and the pages about device certificates.
 */
#ifndef SEKISHO_DEVICE_H
#define SEKISHO_DEVICE_H

#include "idp.h"
#include "session.h"

/* The tenant's device CA, loaded with its context.  0 or -1. */
int device_tenant_load(struct idp *idp, struct tenant_ctx *t);
void device_tenant_free(struct tenant_ctx *t);

/*
 * The session's checked device certificate (borrowed from ss) while it is still valid for
 * the session's user (not revoked, not expired, still that user's); NULL when none.
 * 0, or -1 on storage errors.
 */
int device_checked(struct idp *idp, struct tenant_ctx *t, const struct sso_session *ss,
    const char **serial_r);

/* The one-time cookie that ties a device check to the browser that began it. */
#define DEVICE_COOKIE "sekisho_dev"
/* The kinds of pending record of a device check: the link, then a verified certificate. */
#define DEVICE_KIND_LINK "device"
#define DEVICE_KIND_VERIFIED "device-ok"

/*
 * A device check in progress, as its pending records keep it (hex SHA-256 of the session
 * cookie and of the binding cookie; once the device listener has verified a certificate,
 * its serial and "tls" or "proxy").  Pending records of a device check: app is the parked
 * request, relay_state the user, state this.
 */
struct device_ref {
	char session[65];
	char binding[65];
	char serial[48];
	char via[8];
};

/*
 * Whether p is an unexpired record of kind (DEVICE_KIND_*) and cookie the binding cookie
 * of the browser that began the check: 1 (ref_r filled); 0 when p is no such record or has
 * expired; -1 when cookie is missing, malformed or another browser's.
 */
int device_binding_check(const struct pending *p, const char *kind, const char *cookie,
    int64_t now, struct device_ref *ref_r);

/*
 * Send the browser to the device check for the parked request pending (resumed at
 * /resume?r=pending once the device passes), or show why that cannot happen.
 */
void device_send(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct sso_session *ss, const char *pending);

/* The handler of the device-check listener. */
void device_handle(struct http_req *req, void *arg);
/*
 * /t/T/device on the main listener, where the device listener sends the browser back: GET
 * shows "continue" to the browser that began the check, its POST marks the session.
 */
void device_continue(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
/* Every tenant's CA certificate, concatenated (new string; NULL when there is none). */
char *device_trust_pem(struct idp *idp);

/* /t/T/certs (the user's devices), /t/T/certs/ca.pem and /t/T/certs/crl. */
void certs_route(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *rest);

#endif
