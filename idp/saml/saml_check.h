/*
 * Checks on inbound SAML protocol messages before lasso sees them: decoding under caps
 * (base64, DEFLATE), a hardened parse (no DTD, entities, comments, CDATA), limits on depth
 * and node count, unique IDs, the XML signature profile (one enveloped signature of the
 * root, allowed algorithms) and the header fields (Version, IssueInstant, Destination).
 */
#ifndef SEKISHO_SAML_CHECK_H
#define SEKISHO_SAML_CHECK_H

#include <stddef.h>
#include <stdint.h>

#define SAML_CHECK_MAX_DEPTH 32
#define SAML_CHECK_MAX_NODES 4000

struct saml_msg {
	char *root;		/* local name of the root element */
	char *id;
	char *issuer;
	char *destination;	/* NULL when absent */
	char *in_response_to;	/* responses */
	int64_t issue_instant;
	int signed_xml;		/* carries an enveloped ds:Signature */
	char *xml;		/* the decoded message */
	size_t xml_len;
};

/* Decode a base64 HTTP-POST value (max decoded bytes).  NULL on error. */
char *saml_check_decode_post(const char *b64, size_t max, size_t *len_r, const char **errstr);
/* Decode an HTTP-Redirect value: base64, then raw DEFLATE inflated under max bytes. */
char *saml_check_decode_redirect(const char *b64, size_t max, size_t *len_r, const char **errstr);

/*
 * Parse and check xml (which the caller gives up to m->xml).  expect: accepted root
 * names separated by '|'.  now/skew bound IssueInstant; destination, when not NULL, must
 * equal the Destination attribute if one is present (and one must be present when the
 * message is signed).  0, or -1 with *errstr.
 */
int saml_check_message(struct saml_msg *m, char *xml, size_t len, const char *expect,
    const char *destination, int64_t now, int64_t skew, const char **errstr);
void saml_check_clear(struct saml_msg *m);

/* 1 when a SigAlg URI (Redirect binding) or SignatureMethod is acceptable. */
int saml_check_sigalg(const char *uri);

#endif
