/*
 * HTTP-Redirect binding signatures, verified here with OpenSSL over the query bytes
 * exactly as received (SAML bindings 3.4.4.1) with the SP's keys from its metadata.
 * lasso is then given the message without Signature and SigAlg: it parses queries
 * differently (';' separates too, the last duplicate wins) and leaks on every query
 * signature it checks, so it never judges one.
 */
#ifndef SEKISHO_SAML_REDIRECT_H
#define SEKISHO_SAML_REDIRECT_H

#include <stddef.h>

#include "form.h"

struct saml_keys;

/* Public keys from base64 DER certificates; NULL entries and bad certificates are skipped. */
struct saml_keys *saml_keys_new(char *const *certs_b64, size_t n);
void saml_keys_free(struct saml_keys *k);
size_t saml_keys_count(const struct saml_keys *k);

/*
 * Verify the Signature of query q (parsed from raw, which must contain no ';') carrying
 * field (SAMLRequest or SAMLResponse).  1 valid with one of keys, 0 unsigned, -1 invalid
 * or not allowed, with *errstr.
 */
int saml_redirect_verify(const struct saml_keys *keys, const struct form *q, const char *field,
    const char **errstr);
/* "field=<raw>[&RelayState=<raw>]", a new string: the query handed to lasso. */
char *saml_redirect_unsigned(const struct form *q, const char *field);

#endif
