/*
 * The running identity provider: its directory, pages and the per-tenant contexts built
 * from the store (rebuilt when the tenant's configuration generation changes, so changes
 * made with the sekisho command take effect without a restart).
 */
#ifndef SEKISHO_IDP_H
#define SEKISHO_IDP_H

#include <pthread.h>
#include <stdint.h>

#include "catalog.h"
#include "http.h"
#include "instance.h"
#include "ipnet.h"
#include "page.h"
#include "password.h"

struct saml_tenant;
struct oidc_tenant;
struct devcert_ca;
struct ruleset;
struct ca_client;

#define TENANT_MAX 63

/* An app of the tenant, whatever its protocol. */
struct tenant_app {
	char *name;
	char *id;		/* immutable (policies refer to it) */
	char *type;		/* the protocol ("saml", "oidc") */
	char *key;		/* what the protocol knows it by: entity ID, client_id */
	char *display_name;	/* what the portal shows: the app's display name, or its name */
	char *description;
	int has_icon;
};

struct tenant_ctx {
	struct tenant_ctx *next;
	int refs;
	char *id;
	char *base;		/* https://host/t/ID: issuer and prefix of every URL */
	char *path;		/* /t/ID/ (cookie path) */
	uint64_t generation;
	unsigned char nameid_key[32];
	unsigned char csrf_key[32];
	struct tenant_app *apps;
	size_t napps;
	/* each protocol's part (protocol.h) */
	struct saml_tenant *saml;
	struct oidc_tenant *oidc;
	char *ca_pem;		/* the device CA certificate, or NULL */
	struct devcert_ca *devca;
	struct ruleset *rules;	/* access rules, assignments, device-required settings */
	struct tenant_brand *brand;	/* what the pages show of the company, or NULL */
	uint64_t suspended;	/* the operator suspended the tenant (time), or 0 */
	uint64_t trial_until;	/* its trial ends then (s since the epoch), or 0 */
};

struct idp {
	struct instance in;
	struct pages *pages;
	struct password_params pw;
	pthread_mutex_t lock;
	struct tenant_ctx *tenants;
	struct ipnet_list proxy_from;	/* may send device_proxy_header */
	struct ipnet_list trusted;	/* trusted_proxies: may name the client */
	struct ipnet_list metrics_from;	/* may read /metrics */
	struct ca_client *ca;		/* the daemon's ca process (certificates over the API) */
	pthread_mutex_t ca_lock;	/* one request at a time on ca */
	pthread_mutex_t api_lock;	/* admin API writes, one at a time (If-Match) */
	struct catalog *catalog;	/* app templates (connectors/catalog.h) */
};

/* Take over a loaded instance (store opened here), load pages.  0 or -1 with err. */
int idp_init(struct idp *idp, struct instance *in, struct buf *err);
void idp_free(struct idp *idp);
/* The current context of tenant id (a reference the caller releases), or NULL if unknown. */
struct tenant_ctx *idp_tenant(struct idp *idp, const char *id);
void idp_tenant_release(struct idp *idp, struct tenant_ctx *t);
/*
 * Why the tenant serves nothing at time now: "suspended" (by the operator), "trial_ended"
 * (its trial ran out), or NULL when it is open.
 */
const char *idp_tenant_closed(const struct tenant_ctx *t, int64_t now);
/* The tenant's app known to its protocol as key, or called name; NULL if none. */
const struct tenant_app *tenant_app_by_key(const struct tenant_ctx *t, const char *key);
const struct tenant_app *tenant_app_by_name(const struct tenant_ctx *t, const char *name);
/* The request handler given to http_start. */
void idp_handle(struct http_req *req, void *arg);
/* Periodic housekeeping: expiry, audit retention, stale readers, monthly reports. */
void idp_housekeeping(struct idp *idp);

#endif
