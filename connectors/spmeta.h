/*
 * What Sekisho reads from a SAML service provider's metadata itself (lasso reads the
 * rest): the entity ID, endpoints it must have, and the attributes it asks for.
 */
#ifndef SEKISHO_SPMETA_H
#define SEKISHO_SPMETA_H

#include <stddef.h>

#define SPMETA_MAX_SIZE (512 * 1024)
#define SPMETA_MAX_REQUESTED 32
#define SPMETA_MAX_CERTS 4
#define SPMETA_MAX_ENDPOINTS 64

struct spmeta_attr {
	char *name;
	char *name_format;
	char *friendly_name;
};

/* An endpoint Sekisho may send a browser or a message to. */
struct spmeta_endpoint {
	const char *element;	/* "AssertionConsumerService", "SingleLogoutService", ... */
	char *location;		/* its Location, or its ResponseLocation */
};

struct spmeta {
	char *entity_id;
	int authn_requests_signed;
	int has_signing_key;
	int has_slo;
	size_t nacs;
	struct spmeta_attr requested[SPMETA_MAX_REQUESTED];
	size_t nrequested;
	char *signing_certs[SPMETA_MAX_CERTS];	/* base64 DER, whitespace removed */
	size_t ncerts;
	/* Every Location and ResponseLocation of the SPSSODescriptor's endpoints. */
	struct spmeta_endpoint endpoints[SPMETA_MAX_ENDPOINTS];
	size_t nendpoints;
};

/*
 * Parse metadata (an EntityDescriptor with one SPSSODescriptor; at most
 * SPMETA_MAX_ENDPOINTS endpoint locations, so every one can be checked).  0 or -1 with
 * *errstr.
 */
int spmeta_parse(const char *xml, size_t len, struct spmeta *m, const char **errstr);
void spmeta_clear(struct spmeta *m);

#endif
