/*
 * Enveloped XML signatures (exclusive c14n, RSA-SHA256) of our SSO answers, on libxml2 and
 * OpenSSL EVP.  lasso signs through xmlsec, which per message copies the key, turns the
 * RSA key into big numbers twice (to see that it is private and to write KeyValue) and
 * writes a KeyInfo we had to replace; here only canonicalisation, digest and RSA remain.
 */
#include "config.h"

#include <string.h>

#include <libxml/c14n.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "encode.h"
#include "pki.h"
#include "saml_sign.h"
#include "xmalloc.h"

#define DSIG_NS "http://www.w3.org/2000/09/xmldsig#"
#define SAML_NS "urn:oasis:names:tc:SAML:2.0:assertion"
#define EXC_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"
#define RSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define ENVELOPED DSIG_NS "enveloped-signature"
#define SHA256_URI "http://www.w3.org/2001/04/xmlenc#sha256"

struct saml_signer {
	EVP_PKEY *key;
	EVP_MD *sha256;		/* fetched once: an implicit fetch per message costs */
	EVP_PKEY_CTX *rsa;	/* RSA PKCS#1 v1.5 with SHA-256, set up once, copied per use */
	char *cert_b64;		/* the certificate's DER in base64, for KeyInfo */
};

/* Setting up a signature context fetches algorithms under locks: done once, then copied. */
static EVP_PKEY_CTX *
rsa_sha256(EVP_PKEY *key, EVP_MD *sha256)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);

	if (c == NULL || EVP_PKEY_sign_init(c) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(c, sha256) != 1) {
		EVP_PKEY_CTX_free(c);
		return NULL;
	}
	return c;
}

struct saml_signer *
saml_signer_new(const char *key_pem, const char *cert_pem, const char **errstr)
{
	struct saml_signer *s = xcalloc(1, sizeof(*s));
	BIO *b;

	if (pki_check_pair(key_pem, cert_pem, errstr) == -1)
		goto fail;
	b = BIO_new_mem_buf(key_pem, -1);
	s->key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	s->cert_b64 = pki_cert_base64(cert_pem);
	if (s->key && EVP_PKEY_get_base_id(s->key) == EVP_PKEY_RSA && s->sha256 && s->cert_b64 &&
	    (s->rsa = rsa_sha256(s->key, s->sha256)) != NULL)
		return s;
	*errstr = "the SAML signing key is not an RSA key";
fail:
	saml_signer_free(s);
	return NULL;
}

void
saml_signer_free(struct saml_signer *s)
{
	if (s == NULL)
		return;
	EVP_PKEY_CTX_free(s->rsa);
	EVP_PKEY_free(s->key);
	EVP_MD_free(s->sha256);
	free(s->cert_b64);
	free(s);
}

/* The canonical form goes straight into a digest or a signature context. */
static int
md_write(void *ctx, const char *buf, int len)
{
	return EVP_DigestUpdate(ctx, buf, (size_t)len) == 1 ? len : -1;
}

/*
 * The node set is the subtree of apex (a namespace node counts by its element), as an
 * XPointer "#ID" reference selects it; the enveloped-signature transform has nothing
 * to remove because the Signature is added after the digest.
 */
static int
in_subtree(void *apex, xmlNode *node, xmlNode *parent)
{
	const xmlNode *n = node == NULL || node->type == XML_NAMESPACE_DECL ? parent : node;

	for (; n; n = n->parent)
		if (n == apex)
			return 1;
	return 0;
}

/* Exclusive canonical XML without comments of apex's subtree, into md. */
static int
c14n_into(xmlDoc *doc, xmlNode *apex, EVP_MD_CTX *md)
{
	xmlOutputBuffer *out = xmlOutputBufferCreateIO(md_write, NULL, md, NULL);
	int rc;

	if (out == NULL)
		return -1;
	rc = xmlC14NExecute(doc, in_subtree, apex, XML_C14N_EXCLUSIVE_1_0, NULL, 0, out);
	if (xmlOutputBufferClose(out) < 0)
		rc = -1;
	return rc < 0 ? -1 : 0;
}

static xmlNode *
add(xmlNode *parent, xmlNs *ns, const char *name, const char *alg)
{
	xmlNode *n = parent ? xmlNewChild(parent, ns, BAD_CAST name, NULL) : NULL;

	if (n && alg && xmlNewProp(n, BAD_CAST "Algorithm", BAD_CAST alg) == NULL)
		return NULL;
	return n;
}

/* <Signature> with the SignedInfo for a reference to id with digest; NULL on failure. */
static xmlNode *
signature_node(const char *id, const char *digest, xmlNode **signed_info)
{
	xmlNode *sig = xmlNewNode(NULL, BAD_CAST "Signature"), *ref, *tr;
	xmlNs *ns = sig ? xmlNewNs(sig, BAD_CAST DSIG_NS, NULL) : NULL;
	char *uri = xasprintf("#%s", id);

	xmlSetNs(sig, ns);
	*signed_info = add(sig, ns, "SignedInfo", NULL);
	add(*signed_info, ns, "CanonicalizationMethod", EXC_C14N);
	add(*signed_info, ns, "SignatureMethod", RSA_SHA256);
	ref = add(*signed_info, ns, "Reference", NULL);
	if (ref == NULL || xmlNewProp(ref, BAD_CAST "URI", BAD_CAST uri) == NULL)
		ref = NULL;
	tr = add(ref, ns, "Transforms", NULL);
	add(tr, ns, "Transform", ENVELOPED);
	if (add(tr, ns, "Transform", EXC_C14N) == NULL || add(ref, ns, "DigestMethod",
	    SHA256_URI) == NULL || xmlNewTextChild(ref, ns, BAD_CAST "DigestValue",
	    BAD_CAST digest) == NULL) {
		xmlFreeNode(sig);
		sig = NULL;
	}
	free(uri);
	return sig;
}

/* SignatureValue and KeyInfo after SignedInfo, in the order the schema has them. */
static int
finish_signature(const struct saml_signer *s, xmlNode *sig, const unsigned char *value,
    size_t len)
{
	char *b64 = b64_encode(value, len);
	xmlNs *ns = sig->ns;
	xmlNode *x509;
	int ok;

	ok = xmlNewTextChild(sig, ns, BAD_CAST "SignatureValue", BAD_CAST b64) != NULL;
	x509 = add(add(sig, ns, "KeyInfo", NULL), ns, "X509Data", NULL);
	ok = ok && x509 && xmlNewTextChild(x509, ns, BAD_CAST "X509Certificate",
	    BAD_CAST s->cert_b64) != NULL;
	free(b64);
	return ok ? 0 : -1;
}

/* The first child element, when it is a saml:Issuer: the signature goes right after it. */
static xmlNode *
issuer_of(xmlNode *el)
{
	xmlNode *c = el->children;

	while (c && c->type != XML_ELEMENT_NODE)
		c = c->next;
	if (c && c->ns && xmlStrEqual(c->name, BAD_CAST "Issuer") &&
	    xmlStrEqual(c->ns->href, BAD_CAST SAML_NS))
		return c;
	return NULL;
}

/* RSA-SHA256 over the canonical SignedInfo; the signature in *sig_r (caller frees). */
static int
sign_signed_info(const struct saml_signer *s, xmlDoc *doc, xmlNode *si, EVP_MD_CTX *ctx,
    unsigned char **sig_r, size_t *len_r)
{
	EVP_PKEY_CTX *rsa = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	int rc = -1;

	*sig_r = NULL;
	if (EVP_DigestInit_ex(ctx, s->sha256, NULL) != 1 || c14n_into(doc, si, ctx) == -1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || (rsa = EVP_PKEY_CTX_dup(s->rsa)) == NULL ||
	    EVP_PKEY_sign(rsa, NULL, len_r, md, mdlen) != 1)
		goto done;
	*sig_r = xmalloc(*len_r);
	rc = EVP_PKEY_sign(rsa, *sig_r, len_r, md, mdlen) == 1 ? 0 : -1;
done:
	EVP_PKEY_CTX_free(rsa);
	return rc;
}

/* An enveloped signature of el (which has an ID and a saml:Issuer first) in place. */
static int
sign_element(const struct saml_signer *s, xmlDoc *doc, xmlNode *el)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	xmlChar *id = xmlGetProp(el, BAD_CAST "ID");
	xmlNode *issuer = issuer_of(el), *sig = NULL, *si;
	unsigned char md[EVP_MAX_MD_SIZE], *value = NULL;
	unsigned int mdlen;
	char *digest = NULL;
	size_t len;
	int rc = -1;

	if (ctx == NULL || id == NULL || issuer == NULL || EVP_DigestInit_ex(ctx, s->sha256,
	    NULL) != 1 || c14n_into(doc, el, ctx) == -1 || EVP_DigestFinal_ex(ctx, md,
	    &mdlen) != 1)
		goto done;
	digest = b64_encode(md, mdlen);
	if ((sig = signature_node((const char *)id, digest, &si)) == NULL)
		goto done;
	xmlAddNextSibling(issuer, sig);
	if (sign_signed_info(s, doc, si, ctx, &value, &len) == 0)
		rc = finish_signature(s, sig, value, len);
done:
	EVP_MD_CTX_free(ctx);
	xmlFree(id);
	free(digest);
	free(value);
	return rc;
}

/* The one saml:Assertion child of the Response, still unsigned; NULL otherwise. */
static xmlNode *
unsigned_assertion(xmlNode *response)
{
	xmlNode *found = NULL;

	for (xmlNode *c = response->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || c->ns == NULL ||
		    !xmlStrEqual(c->ns->href, BAD_CAST SAML_NS) ||
		    !xmlStrEqual(c->name, BAD_CAST "Assertion"))
			continue;
		if (found)
			return NULL;
		found = c;
	}
	for (xmlNode *c = found ? found->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && c->ns &&
		    xmlStrEqual(c->ns->href, BAD_CAST DSIG_NS))
			return NULL;	/* signed already: it would carry two signatures */
	return found;
}

static char *
to_base64(xmlDoc *doc, xmlNode *root)
{
	xmlBuffer *buf = xmlBufferCreate();
	xmlOutputBuffer *out = buf ? xmlOutputBufferCreateBuffer(buf, NULL) : NULL;
	char *b64 = NULL;

	if (out) {
		xmlNodeDumpOutput(out, doc, root, 0, 0, NULL);
		if (xmlOutputBufferClose(out) >= 0)
			b64 = b64_encode(xmlBufferContent(buf), (size_t)xmlBufferLength(buf));
	}
	xmlBufferFree(buf);
	return b64;
}

char *
saml_sign_response(const struct saml_signer *s, xmlNode *response, int sign_response,
    const char **errstr)
{
	xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNode *assertion;
	char *b64 = NULL;

	*errstr = "cannot sign the response";
	if (doc == NULL) {
		xmlFreeNode(response);
		return NULL;
	}
	xmlDocSetRootElement(doc, response);
	if ((assertion = unsigned_assertion(response)) == NULL)
		*errstr = "the response has no single unsigned assertion";
	else if (sign_element(s, doc, assertion) == 0 &&
	    (!sign_response || sign_element(s, doc, response) == 0))
		b64 = to_base64(doc, response);
	xmlFreeDoc(doc);
	return b64;
}
