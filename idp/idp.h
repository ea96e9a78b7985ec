/*
 * The running identity provider: its directory, pages and the per-tenant contexts built
 * from the store (rebuilt when the tenant's configuration generation changes, so changes
 * made with the sekisho command take effect without a restart).
 */
#ifndef SEKISHO_IDP_H
#define SEKISHO_IDP_H

#include <pthread.h>
#include <stdint.h>

#include "attrmap.h"
#include "http.h"
#include "instance.h"
#include "ipnet.h"
#include "page.h"
#include "password.h"
#include "saml_redirect.h"

struct saml_idp;
struct oidc_tenant;
struct devcert_ca;

#define TENANT_MAX 63

/* One device_required setting: scope "tenant", "group:G", "user:U" or "app:A". */
struct tenant_policy {
	char *scope;
	int on;
};

/* What the IdP knows about one SAML SP at run time. */
struct tenant_sp {
	char *app;		/* app name */
	char *entity_id;
	char *nameid_format;	/* URI */
	struct attrmap_entry attrs[ATTRMAP_MAX];
	size_t nattrs;
	struct saml_keys *keys;		/* signing keys from its metadata */
	int authn_requests_signed;	/* its metadata says AuthnRequestsSigned="true" */
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
	struct saml_idp *saml;
	char *saml_metadata;	/* our IdP metadata as published */
	struct tenant_sp *sps;
	size_t nsps;
	struct oidc_tenant *oidc;
	char *ca_pem;		/* the device CA certificate, or NULL */
	struct devcert_ca *devca;
	struct tenant_policy *pols;
	size_t npols;
};

struct idp {
	struct instance in;
	struct pages *pages;
	struct password_params pw;
	pthread_mutex_t lock;
	struct tenant_ctx *tenants;
	struct ipnet_list proxy_from;	/* may send device_proxy_header */
};

/* Take over a loaded instance (store opened here), load pages.  0 or -1 with err. */
int idp_init(struct idp *idp, struct instance *in, struct buf *err);
void idp_free(struct idp *idp);
/* The current context of tenant id (a reference the caller releases), or NULL if unknown. */
struct tenant_ctx *idp_tenant(struct idp *idp, const char *id);
void idp_tenant_release(struct idp *idp, struct tenant_ctx *t);
/* The SP of a tenant by entity ID, or NULL. */
const struct tenant_sp *tenant_sp_find(const struct tenant_ctx *t, const char *entity_id);
/* The request handler given to http_start. */
void idp_handle(struct http_req *req, void *arg);
/* Periodic housekeeping: expiry, audit retention, stale readers. */
void idp_housekeeping(struct idp *idp);

#endif
