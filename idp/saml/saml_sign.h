/*
 * XML signatures of the SSO answers Sekisho sends: enveloped, exclusive canonical XML,
 * RSA-SHA256, the certificate in KeyInfo.  The key is parsed once per tenant; a signature
 * costs a canonicalisation, a digest and the RSA operation, nothing else.
 */
#ifndef SEKISHO_SAML_SIGN_H
#define SEKISHO_SAML_SIGN_H

#include <libxml/tree.h>

struct saml_signer;

/* The tenant's signing key and certificate (PEM), checked to be an RSA pair; NULL with *errstr. */
struct saml_signer *saml_signer_new(const char *key_pem, const char *cert_pem,
    const char **errstr);
void saml_signer_free(struct saml_signer *s);

/*
 * Sign a SAML Response built without signatures (response: an element tree that no
 * document owns, consumed here): its one Assertion and, with sign_response, the Response
 * around it.  Returns the signed Response as base64 for the POST binding (caller frees),
 * or NULL with *errstr.
 */
char *saml_sign_response(const struct saml_signer *s, xmlNode *response, int sign_response,
    const char **errstr);

#endif
