/*
 * Unit tests for idp/saml/saml_sign.c: the signatures it makes on an SSO Response verify
 * with xmlsec (an implementation that is not ours) against the tenant's certificate only,
 * are RSA-SHA256 over exclusive c14n, carry the certificate, and fail once a byte of the
 * signed content changes; a Response it cannot sign exactly once is refused.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmltree.h>
#include <xmlsec/crypto.h>

#include "encode.h"
#include "pki.h"
#include "saml.h"
#include "saml_sign.h"
#include "xmalloc.h"

#define SAMLP "urn:oasis:names:tc:SAML:2.0:protocol"
#define SAML "urn:oasis:names:tc:SAML:2.0:assertion"

/* A Response as lasso builds it before signing; %s: what goes inside the Assertion first. */
static const char RESPONSE[] =
    "<samlp:Response xmlns:samlp=\"" SAMLP "\" xmlns:saml=\"" SAML "\" ID=\"_resp1\" "
    "InResponseTo=\"_req1\" Version=\"2.0\" IssueInstant=\"2030-01-01T00:00:00Z\" "
    "Destination=\"https://sp.example/acs\"><saml:Issuer>https://idp.example/md"
    "</saml:Issuer><samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:"
    "status:Success\"/></samlp:Status>%s</samlp:Response>";
static const char ASSERTION[] =
    "<saml:Assertion Version=\"2.0\" ID=\"_assert1\" IssueInstant=\"2030-01-01T00:00:00Z\">"
    "<saml:Issuer>https://idp.example/md</saml:Issuer>%s<saml:Subject><saml:NameID>"
    "alice &amp; &lt;co&gt;</saml:NameID></saml:Subject><saml:AttributeStatement>"
    "<saml:Attribute Name=\"mail\"><saml:AttributeValue xmlns:xs=\"http://www.w3.org/2001/"
    "XMLSchema\">alice@example.org</saml:AttributeValue></saml:Attribute>"
    "</saml:AttributeStatement></saml:Assertion>";

struct keys {
	char *key, *cert, *other_key, *other_cert;
};

static struct keys k;

/* An element tree without a document, as lasso_node_get_xmlNode hands it out. */
static xmlNode *
response_with(const char *body)
{
	char *xml = xasprintf(RESPONSE, body);
	xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET);
	xmlNode *root;

	assert_non_null(doc);
	root = xmlDocCopyNode(xmlDocGetRootElement(doc), NULL, 1);
	xmlFreeDoc(doc);
	free(xml);
	return root;
}

/* A Response with one Assertion that has inside after its Issuer. */
static xmlNode *
response(const char *inside)
{
	char *assertion = xasprintf(ASSERTION, inside);
	xmlNode *r = response_with(assertion);

	free(assertion);
	return r;
}

static xmlDoc *
decode(const char *b64)
{
	size_t len;
	unsigned char *xml = b64_decode(b64, strlen(b64), 0, 1 << 20, &len);
	xmlDoc *doc;

	assert_non_null(xml);
	doc = xmlReadMemory((char *)xml, (int)len, NULL, NULL, XML_PARSE_NONET);
	free(xml);
	assert_non_null(doc);
	return doc;
}

static xmlNode *
child(xmlNode *parent, const char *name, const char *ns)
{
	return xmlSecFindChild(parent, BAD_CAST name, BAD_CAST ns);
}

/* xmlsec's verdict on the signature that is a child of el, with cert_pem as the only key. */
static int
verifies(xmlNode *el, const char *cert_pem)
{
	xmlNode *sig = child(el, "Signature", (const char *)xmlSecDSigNs);
	xmlSecDSigCtx *ctx = xmlSecDSigCtxCreate(NULL);
	int ok;

	assert_non_null(sig);
	assert_non_null(ctx);
	ctx->signKey = xmlSecCryptoAppKeyLoadMemory((const xmlSecByte *)cert_pem,
	    strlen(cert_pem), xmlSecKeyDataFormatCertPem, NULL, NULL, NULL);
	assert_non_null(ctx->signKey);
	ctx->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
	ok = xmlSecDSigCtxVerify(ctx, sig) == 0 && ctx->status == xmlSecDSigStatusSucceeded;
	xmlSecDSigCtxDestroy(ctx);
	return ok;
}

static void
add_ids(xmlDoc *doc)
{
	static const xmlChar *ids[] = { BAD_CAST "ID", NULL };

	xmlSecAddIDs(doc, xmlDocGetRootElement(doc), ids);
}

static char *
sign(const char *key, const char *cert, xmlNode *resp, int sign_response)
{
	const char *errstr = NULL;
	struct saml_signer *s = saml_signer_new(key, cert, &errstr);
	char *b64;

	assert_non_null(s);
	b64 = saml_sign_response(s, resp, sign_response, &errstr);
	saml_signer_free(s);
	return b64;
}

static void
test_saml_sign_assertion_verifies(void **state)
{
	char *b64 = sign(k.key, k.cert, response(""), 0);
	xmlDoc *doc;
	xmlNode *root, *assertion, *sig, *si;
	xmlChar *alg;

	(void)state;
	assert_non_null(b64);
	doc = decode(b64);
	add_ids(doc);
	root = xmlDocGetRootElement(doc);
	assertion = child(root, "Assertion", SAML);
	assert_true(verifies(assertion, k.cert));
	assert_false(verifies(assertion, k.other_cert));
	assert_null(child(root, "Signature", (const char *)xmlSecDSigNs));
	/* Right after the Issuer, RSA-SHA256, and KeyInfo holds our certificate. */
	sig = xmlSecGetNextElementNode(child(assertion, "Issuer", SAML)->next);
	assert_string_equal((const char *)sig->name, "Signature");
	si = child(sig, "SignedInfo", (const char *)xmlSecDSigNs);
	alg = xmlGetProp(child(si, "SignatureMethod", (const char *)xmlSecDSigNs),
	    BAD_CAST "Algorithm");
	assert_string_equal((char *)alg, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256");
	xmlFree(alg);
	assert_non_null(xmlSecFindNode(sig, BAD_CAST "X509Certificate", xmlSecDSigNs));
	assert_null(xmlSecFindNode(sig, BAD_CAST "KeyValue", xmlSecDSigNs));
	xmlFreeDoc(doc);
	free(b64);
}

static void
test_saml_sign_tampered_fails(void **state)
{
	char *b64 = sign(k.key, k.cert, response(""), 0);
	xmlDoc *doc = decode(b64);
	xmlNode *assertion = child(xmlDocGetRootElement(doc), "Assertion", SAML);

	(void)state;
	add_ids(doc);
	xmlNodeSetContent(xmlSecFindNode(assertion, BAD_CAST "NameID", BAD_CAST SAML),
	    BAD_CAST "mallory");
	assert_false(verifies(assertion, k.cert));
	xmlFreeDoc(doc);
	free(b64);
}

static void
test_saml_sign_response_too(void **state)
{
	char *b64 = sign(k.key, k.cert, response(""), 1);
	xmlDoc *doc = decode(b64);
	xmlNode *root = xmlDocGetRootElement(doc);

	(void)state;
	add_ids(doc);
	assert_true(verifies(root, k.cert));
	assert_true(verifies(child(root, "Assertion", SAML), k.cert));
	xmlFreeDoc(doc);
	free(b64);
}

/* Another tenant's key never signs: a signer is made from one key and certificate pair. */
static void
test_saml_sign_key_and_cert_must_match(void **state)
{
	const char *errstr = NULL;

	(void)state;
	assert_null(saml_signer_new(k.key, k.other_cert, &errstr));
	assert_non_null(errstr);
	assert_null(saml_signer_new("not a key", k.cert, &errstr));
}

static void
test_saml_sign_refuses_what_it_cannot_sign_once(void **state)
{
	const char *errstr = NULL;
	struct saml_signer *s = saml_signer_new(k.key, k.cert, &errstr);
	char *one = xasprintf(ASSERTION, "");
	char *both = xasprintf("%s%s", one, one);

	(void)state;
	/* No assertion; one signed already (should lasso sign it after all); two. */
	assert_null(saml_sign_response(s, response_with(""), 0, &errstr));
	assert_string_equal(errstr, "the response has no single unsigned assertion");
	assert_null(saml_sign_response(s, response("<ds:Signature xmlns:ds=\"http://www.w3.org/"
	    "2000/09/xmldsig#\"/>"), 0, &errstr));
	assert_null(saml_sign_response(s, response_with(both), 0, &errstr));
	free(both);
	free(one);
	saml_signer_free(s);
}

static int
setup(void **state)
{
	const char *errstr;

	(void)state;
	if (saml_global_init() != 0 ||
	    pki_self_signed(PKI_RSA2048, "idp", NULL, 1, &k.key, &k.cert, &errstr) != 0 ||
	    pki_self_signed(PKI_RSA2048, "other", NULL, 1, &k.other_key, &k.other_cert,
	    &errstr) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	freezero_str(k.key);
	freezero_str(k.other_key);
	free(k.cert);
	free(k.other_cert);
	saml_global_shutdown();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_saml_sign_assertion_verifies),
		cmocka_unit_test(test_saml_sign_tampered_fails),
		cmocka_unit_test(test_saml_sign_response_too),
		cmocka_unit_test(test_saml_sign_key_and_cert_must_match),
		cmocka_unit_test(test_saml_sign_refuses_what_it_cannot_sign_once),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
