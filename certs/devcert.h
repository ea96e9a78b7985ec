/*
 * Verifying the certificate a device presents: it must chain to the tenant's CA (and only
 * that CA), be inside its validity at the given time, and allow clientAuth.  Revocation and
 * the owner come from the store afterwards, by the fingerprint returned here, never from
 * names inside the certificate.
 */
#ifndef SEKISHO_DEVCERT_H
#define SEKISHO_DEVCERT_H

#include <stddef.h>
#include <stdint.h>

#define DEVCERT_MAX_DER 16384

struct devcert_ca;

/* The trust anchor for one tenant (its CA certificate, PEM); NULL with *errstr. */
struct devcert_ca *devcert_ca_new(const char *ca_pem, const char **errstr);
void devcert_ca_free(struct devcert_ca *ca);

/*
 * 0 when der (a DER certificate, at most DEVCERT_MAX_DER bytes) is valid at now for
 * client authentication under ca; fingerprint_r is its hex SHA-256 and serial_r its
 * serial as "openssl x509 -serial" prints it.  -1 with *errstr (a reason fit for logs).
 */
int devcert_verify(const struct devcert_ca *ca, const unsigned char *der, size_t len,
    int64_t now, char fingerprint_r[65], char serial_r[48], const char **errstr);
/* The DER of a PEM certificate (or of a URL-encoded PEM, as proxies forward it). */
unsigned char *devcert_pem_to_der(const char *pem, size_t *len_r);

#endif
