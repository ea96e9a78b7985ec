/*
 * The SAML part of a tenant context (t->saml): the lasso server with our key and the SPs'
 * metadata, our published metadata, and what each SP needs at run time.  Built with the
 * tenant context by saml_conf.c, which also registers SAML with the core (protocol.h).
 */
#ifndef SEKISHO_SAML_CONF_H
#define SEKISHO_SAML_CONF_H

#include <stddef.h>

#include "attrmap.h"
#include "idp.h"
#include "saml_redirect.h"

/* What the IdP knows about one SAML SP at run time. */
struct saml_sp {
	char *app;		/* app name */
	char *entity_id;
	char *nameid_format;	/* URI */
	struct attrmap_entry attrs[ATTRMAP_MAX];
	size_t nattrs;
	struct saml_keys *keys;		/* signing keys from its metadata */
	int authn_requests_signed;	/* its metadata says AuthnRequestsSigned="true" */
};

struct saml_tenant {
	struct saml_idp *idp;	/* lasso, shared read-only by the threads */
	char *metadata;		/* our IdP metadata as published */
	struct saml_sp *sps;
	size_t nsps;
};

/* The SP of a tenant by entity ID, or NULL. */
const struct saml_sp *saml_sp_find(const struct tenant_ctx *t, const char *entity_id);

#endif
