/*
 * Pre-validation of SAML messages with libxml2 (hardened flags) and zlib.  lasso and
 * xmlsec verify signatures; this file makes sure that what they verify is the only thing
 * we act on, and that hostile input is refused cheaply.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <zlib.h>

#include "clock.h"
#include "encode.h"
#include "log.h"
#include "saml_check.h"
#include "xmlprolog.h"
#include "xmalloc.h"

#define NS_SAMLP "urn:oasis:names:tc:SAML:2.0:protocol"
#define NS_SAML "urn:oasis:names:tc:SAML:2.0:assertion"
#define NS_DS "http://www.w3.org/2000/09/xmldsig#"

static const char *const good_sigalgs[] = {
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
	NULL
};

static const char *const good_digests[] = {
	"http://www.w3.org/2001/04/xmlenc#sha256",
	"http://www.w3.org/2001/04/xmldsig-more#sha384",
	"http://www.w3.org/2001/04/xmlenc#sha512",
	NULL
};

static const char *const good_c14n[] = {
	"http://www.w3.org/2001/10/xml-exc-c14n#",
	NULL
};

static const char *const good_transforms[] = {
	"http://www.w3.org/2000/09/xmldsig#enveloped-signature",
	"http://www.w3.org/2001/10/xml-exc-c14n#",
	NULL
};

static int
in_list(const char *s, const char *const *list)
{
	for (; s && *list; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

int
saml_check_sigalg(const char *uri)
{
	return in_list(uri, good_sigalgs);
}

char *
saml_check_decode_post(const char *b64, size_t max, size_t *len_r, const char **errstr)
{
	char *xml = (char *)b64_decode(b64, strlen(b64), 1, max, len_r);

	if (xml == NULL)
		*errstr = "message is not base64 or too large";
	return xml;
}

char *
saml_check_decode_redirect(const char *b64, size_t max, size_t *len_r, const char **errstr)
{
	unsigned char *raw;
	size_t rawlen;
	z_stream z;
	char *out;
	int rc;

	if ((raw = b64_decode(b64, strlen(b64), 0, max, &rawlen)) == NULL) {
		*errstr = "message is not base64 or too large";
		return NULL;
	}
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, -15) != Z_OK)
		fatal("inflateInit2 failed");
	out = xmalloc(max + 1);
	z.next_in = raw;
	z.avail_in = (uInt)rawlen;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)max;
	rc = inflate(&z, Z_FINISH);
	*len_r = z.total_out;
	if (rc == Z_STREAM_END && z.avail_in != 0) {
		*errstr = "data after the end of the DEFLATE stream";
		inflateEnd(&z);
		free(raw);
		free(out);
		return NULL;
	}
	inflateEnd(&z);
	free(raw);
	if (rc != Z_STREAM_END) {
		*errstr = rc == Z_BUF_ERROR && *len_r == max ?
		    "message inflates beyond the size limit" : "message is not valid DEFLATE data";
		free(out);
		return NULL;
	}
	out[*len_r] = '\0';
	return out;
}

void
saml_check_clear(struct saml_msg *m)
{
	xmlFree(m->root);
	xmlFree(m->id);
	xmlFree(m->issuer);
	xmlFree(m->destination);
	xmlFree(m->in_response_to);
	free(m->xml);
	memset(m, 0, sizeof(*m));
}

static int
is_el(const xmlNode *n, const char *ns, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	    !strcmp((const char *)n->ns->href, ns) && !strcmp((const char *)n->name, name);
}

struct walk {
	size_t nodes;
	char **ids;
	size_t nids;
	int signatures;
	const char *err;
};

/* Count nodes, bound depth, refuse node types that have no place in SAML, collect IDs. */
static int
walk(xmlNode *n, int depth, struct walk *w)
{
	for (; n; n = n->next) {
		if (++w->nodes > SAML_CHECK_MAX_NODES) {
			w->err = "message has too many nodes";
			return -1;
		}
		switch (n->type) {
		case XML_ELEMENT_NODE:
			break;
		case XML_TEXT_NODE:
			continue;
		case XML_COMMENT_NODE:
			w->err = "message contains a comment";
			return -1;
		case XML_CDATA_SECTION_NODE:
			w->err = "message contains CDATA";
			return -1;
		case XML_ENTITY_REF_NODE:
		case XML_ENTITY_NODE:
			w->err = "message contains an entity reference";
			return -1;
		default:
			w->err = "message contains a processing instruction or unknown node";
			return -1;
		}
		if (depth > SAML_CHECK_MAX_DEPTH) {
			w->err = "message nested too deeply";
			return -1;
		}
		if (is_el(n, NS_DS, "Signature"))
			w->signatures++;
		for (xmlAttr *a = n->properties; a; a = a->next) {
			xmlChar *v;
			if (strcmp((const char *)a->name, "ID") && strcmp((const char *)a->name, "Id"))
				continue;
			v = xmlNodeGetContent((xmlNode *)a);
			for (size_t i = 0; v && i < w->nids; i++)
				if (!strcmp(w->ids[i], (const char *)v)) {
					xmlFree(v);
					w->err = "duplicate ID attribute";
					return -1;
				}
			w->ids = xreallocarray(w->ids, w->nids + 1, sizeof(char *));
			w->ids[w->nids++] = (char *)v;
		}
		if (walk(n->children, depth + 1, w) == -1)
			return -1;
	}
	return 0;
}

static xmlNode *
child(xmlNode *parent, const char *ns, const char *name)
{
	for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next)
		if (is_el(c, ns, name))
			return c;
	return NULL;
}

static size_t
count_children(xmlNode *parent, const char *ns, const char *name)
{
	size_t n = 0;

	for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next)
		if (is_el(c, ns, name))
			n++;
	return n;
}

static int
attr_in(xmlNode *n, const char *attr, const char *const *list)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)attr);
	int ok = in_list((const char *)v, list);

	xmlFree(v);
	return ok;
}

/* One enveloped signature over the root: SignedInfo with exactly one Reference to #ID. */
static int
check_signature(xmlNode *root, const char *id, const char **errstr)
{
	xmlNode *sig = child(root, NS_DS, "Signature"), *si, *ref, *tr;
	xmlChar *uri;
	int ok;

	*errstr = "signature does not follow the SAML profile";
	if (count_children(root, NS_DS, "Signature") != 1)
		return -1;
	if ((si = child(sig, NS_DS, "SignedInfo")) == NULL ||
	    count_children(si, NS_DS, "Reference") != 1)
		return -1;
	if (!attr_in(child(si, NS_DS, "CanonicalizationMethod"), "Algorithm", good_c14n)) {
		*errstr = "canonicalization method not allowed";
		return -1;
	}
	if (!attr_in(child(si, NS_DS, "SignatureMethod"), "Algorithm", good_sigalgs)) {
		*errstr = "signature algorithm not allowed";
		return -1;
	}
	ref = child(si, NS_DS, "Reference");
	uri = xmlGetProp(ref, (const xmlChar *)"URI");
	ok = uri && uri[0] == '#' && id && !strcmp((const char *)uri + 1, id);
	xmlFree(uri);
	if (!ok) {
		*errstr = "signature does not reference the message";
		return -1;
	}
	if (!attr_in(child(ref, NS_DS, "DigestMethod"), "Algorithm", good_digests)) {
		*errstr = "digest algorithm not allowed";
		return -1;
	}
	for (tr = child(child(ref, NS_DS, "Transforms"), NS_DS, "Transform"); tr; tr = tr->next)
		if (tr->type == XML_ELEMENT_NODE && !attr_in(tr, "Algorithm", good_transforms)) {
			*errstr = "signature transform not allowed";
			return -1;
		}
	return 0;
}

static int
root_expected(const xmlNode *root, const char *expect)
{
	size_t n = strlen((const char *)root->name);
	const char *p = expect;

	while (*p) {
		size_t len = strcspn(p, "|");
		if (len == n && !memcmp(p, root->name, n))
			return 1;
		p += len + (p[len] == '|');
	}
	return 0;
}

static int
check_header(struct saml_msg *m, xmlNode *root, const char *destination, int64_t now,
    int64_t skew, const char **errstr)
{
	xmlChar *version = xmlGetProp(root, (const xmlChar *)"Version");
	xmlChar *instant = xmlGetProp(root, (const xmlChar *)"IssueInstant");
	xmlNode *issuer = child(root, NS_SAML, "Issuer");
	int64_t t;
	int rc = -1;

	m->id = (char *)xmlGetProp(root, (const xmlChar *)"ID");
	m->destination = (char *)xmlGetProp(root, (const xmlChar *)"Destination");
	m->in_response_to = (char *)xmlGetProp(root, (const xmlChar *)"InResponseTo");
	if (version == NULL || strcmp((const char *)version, "2.0")) {
		*errstr = "Version is not 2.0";
		goto done;
	}
	if (m->id == NULL || *m->id == '\0' || strlen(m->id) > 256) {
		*errstr = "missing or oversized ID";
		goto done;
	}
	if (instant == NULL || clock_parse_iso8601((const char *)instant, &t) == -1) {
		*errstr = "missing or malformed IssueInstant";
		goto done;
	}
	if (t < now - skew || t > now + skew) {
		*errstr = "IssueInstant outside the allowed clock skew";
		goto done;
	}
	m->issue_instant = t;
	if (issuer == NULL || issuer->children == NULL || issuer->children->next ||
	    issuer->children->type != XML_TEXT_NODE) {
		*errstr = "missing or malformed Issuer";
		goto done;
	}
	m->issuer = (char *)xmlNodeGetContent(issuer);
	if (destination && m->destination && strcmp(m->destination, destination)) {
		*errstr = "wrong Destination";
		goto done;
	}
	if (destination && m->signed_xml && m->destination == NULL) {
		*errstr = "signed message without Destination";
		goto done;
	}
	rc = 0;
done:
	xmlFree(version);
	xmlFree(instant);
	return rc;
}

/*
 * What the prolog check refuses, in this check's words.  No byte-order mark is accepted,
 * not even UTF-8's: SAML messages travel base64-encoded and no peer needs one.
 */
static const char *const prolog_refusals[] = {
	[XML_PROLOG_BOM] = "message starts with a byte-order mark",
	[XML_PROLOG_NUL] = "message contains a NUL byte",
	[XML_PROLOG_DECL] = "malformed XML declaration",
	[XML_PROLOG_ENCODING] = "declared encoding is not UTF-8",
};

/* What must hold before the bytes are parsed at all; 0 or -1 with *errstr. */
static int
check_bytes(const char *xml, size_t len, const char **errstr)
{
	enum xml_prolog p = xml_prolog_check(xml, len, 0);

	if (p != XML_PROLOG_OK) {
		*errstr = prolog_refusals[p];
		return -1;
	}
	/* ASCII-compatible encodings only: UTF-16/32 carry NULs, EBCDIC does not start with '<'. */
	if (len == 0 || xml[0] != '<') {
		*errstr = "message does not start with '<'";
		return -1;
	}
	/* A DOCTYPE is refused before parsing: no DTD work at all. */
	if (strstr(xml, "<!DOCTYPE") || strstr(xml, "<!ENTITY")) {
		*errstr = "message contains a DTD";
		return -1;
	}
	return 0;
}

int
saml_check_message(struct saml_msg *m, char *xml, size_t len, const char *expect,
    const char *destination, int64_t now, int64_t skew, const char **errstr)
{
	struct walk w = { 0 };
	xmlDoc *doc = NULL;
	xmlNode *root;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	m->xml = xml;
	m->xml_len = len;
	if (check_bytes(xml, len, errstr) == -1)
		return -1;
	doc = xmlReadMemory(xml, (int)len, "saml.xml", "UTF-8",
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL) {
		*errstr = "message is not well-formed XML";
		return -1;
	}
	if (doc->intSubset || doc->extSubset) {
		*errstr = "message contains a DTD";
		goto done;
	}
	root = xmlDocGetRootElement(doc);
	if (root == NULL || root->next || root->prev) {
		*errstr = "message must have exactly one root element";
		goto done;
	}
	if (walk(doc->children, 0, &w) == -1) {
		*errstr = w.err;
		goto done;
	}
	if (!root->ns || strcmp((const char *)root->ns->href, NS_SAMLP) || !root_expected(root, expect)) {
		*errstr = "unexpected message type";
		goto done;
	}
	m->root = (char *)xmlStrdup(root->name);
	m->signed_xml = w.signatures > 0;
	if (w.signatures > 1) {
		*errstr = "message carries more than one signature";
		goto done;
	}
	if (check_header(m, root, destination, now, skew, errstr) == -1)
		goto done;
	if (w.signatures && check_signature(root, m->id, errstr) == -1)
		goto done;
	rc = 0;
done:
	for (size_t i = 0; i < w.nids; i++)
		xmlFree(w.ids[i]);
	free(w.ids);
	xmlFreeDoc(doc);
	return rc;
}
