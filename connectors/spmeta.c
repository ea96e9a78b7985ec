/*
 * SP metadata reading with libxml2 (network access and DTDs refused).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "spmeta.h"
#include "xmlprolog.h"
#include "xmalloc.h"

#define NS_MD "urn:oasis:names:tc:SAML:2.0:metadata"
#define PROTO "urn:oasis:names:tc:SAML:2.0:protocol"

static int
is_md(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	    !strcmp((const char *)n->ns->href, NS_MD) && !strcmp((const char *)n->name, name);
}

static char *
prop(xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	char *s = v ? xstrdup((const char *)v) : NULL;

	xmlFree(v);
	return s;
}

static void
read_acs_service(xmlNode *svc, struct spmeta *m)
{
	for (xmlNode *c = svc->children; c; c = c->next) {
		if (!is_md(c, "RequestedAttribute") || m->nrequested == SPMETA_MAX_REQUESTED)
			continue;
		struct spmeta_attr *a = &m->requested[m->nrequested];
		a->name = prop(c, "Name");
		a->name_format = prop(c, "NameFormat");
		a->friendly_name = prop(c, "FriendlyName");
		if (a->name)
			m->nrequested++;
		else {
			free(a->name_format);
			free(a->friendly_name);
		}
	}
}

static int
is_ds(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	    !strcmp((const char *)n->ns->href, "http://www.w3.org/2000/09/xmldsig#") &&
	    !strcmp((const char *)n->name, name);
}

/* KeyDescriptor/ds:KeyInfo/ds:X509Data/ds:X509Certificate, whitespace removed. */
static void
read_signing_certs(xmlNode *kd, struct spmeta *m)
{
	for (xmlNode *ki = kd->children; ki; ki = ki->next) {
		if (!is_ds(ki, "KeyInfo"))
			continue;
		for (xmlNode *xd = ki->children; xd; xd = xd->next) {
			if (!is_ds(xd, "X509Data"))
				continue;
			for (xmlNode *c = xd->children; c; c = c->next) {
				xmlChar *v;
				char *out, *o;
				if (!is_ds(c, "X509Certificate") || m->ncerts == SPMETA_MAX_CERTS)
					continue;
				v = xmlNodeGetContent(c);
				o = out = xmalloc(strlen((const char *)v) + 1);
				for (const xmlChar *p = v; *p; p++)
					if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
						*o++ = (char)*p;
				*o = '\0';
				xmlFree(v);
				m->signing_certs[m->ncerts++] = out;
			}
		}
	}
}

/* The endpoint elements of an SPSSODescriptor (SAML metadata 2.4.2, 2.4.4). */
static const char *
endpoint_element(const xmlNode *n)
{
	static const char *const names[] = { "AssertionConsumerService", "SingleLogoutService",
		"ArtifactResolutionService", "ManageNameIDService" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (is_md(n, names[i]))
			return names[i];
	return NULL;
}

/* Keep Location and ResponseLocation of an endpoint; -1 past the cap. */
static int
read_endpoint(xmlNode *c, const char *element, struct spmeta *m)
{
	static const char *const attrs[] = { "Location", "ResponseLocation" };

	for (size_t i = 0; i < 2; i++) {
		char *v = prop(c, attrs[i]);
		if (v == NULL)
			continue;
		if (m->nendpoints == SPMETA_MAX_ENDPOINTS) {
			free(v);
			return -1;
		}
		m->endpoints[m->nendpoints].element = element;
		m->endpoints[m->nendpoints++].location = v;
	}
	return 0;
}

static int
read_sp(xmlNode *sp, struct spmeta *m)
{
	char *v = prop(sp, "AuthnRequestsSigned"), *proto = prop(sp, "protocolSupportEnumeration");
	int ok = proto && strstr(proto, PROTO);

	m->authn_requests_signed = v && !strcmp(v, "true");
	free(v);
	free(proto);
	if (!ok)
		return -1;
	for (xmlNode *c = sp->children; c; c = c->next) {
		const char *element = endpoint_element(c);
		if (element && read_endpoint(c, element, m) == -1)
			return -2;
		if (is_md(c, "AssertionConsumerService"))
			m->nacs++;
		else if (is_md(c, "SingleLogoutService"))
			m->has_slo = 1;
		else if (is_md(c, "AttributeConsumingService") && m->nrequested == 0)
			read_acs_service(c, m);
		else if (is_md(c, "KeyDescriptor")) {
			char *use = prop(c, "use");
			if (use == NULL || !strcmp(use, "signing")) {
				m->has_signing_key = 1;
				read_signing_certs(c, m);
			}
			free(use);
		}
	}
	return 0;
}

/*
 * UTF-8 only (a UTF-8 byte-order mark is allowed: editors write one): lasso reads the
 * stored metadata again and follows its declared encoding, so under encoding="UTF-7" it
 * would find endpoints, keys or a DTD that this check never saw.
 */
static int
check_prolog(const char *xml, size_t len, const char **errstr)
{
	static const char *const refusals[] = {
		[XML_PROLOG_BOM] = "metadata starts with a byte-order mark other than UTF-8's",
		[XML_PROLOG_NUL] = "metadata contains a NUL byte (it must be UTF-8)",
		[XML_PROLOG_DECL] = "metadata has a malformed XML declaration",
		[XML_PROLOG_ENCODING] = "metadata declares an encoding other than UTF-8",
	};
	enum xml_prolog p = xml_prolog_check(xml, len, 1);

	if (p == XML_PROLOG_OK)
		return 0;
	*errstr = refusals[p];
	return -1;
}

int
spmeta_parse(const char *xml, size_t len, struct spmeta *m, const char **errstr)
{
	xmlDoc *doc;
	xmlNode *root, *sp = NULL;
	int rc = -1, r;

	memset(m, 0, sizeof(*m));
	if (len > SPMETA_MAX_SIZE) {
		*errstr = "metadata larger than 512 KiB";
		return -1;
	}
	if (check_prolog(xml, len, errstr) == -1)
		return -1;
	if (strstr(xml, "<!DOCTYPE") || strstr(xml, "<!ENTITY")) {
		*errstr = "metadata must not contain a DTD";
		return -1;
	}
	/* Read as UTF-8, as lasso will read what check_prolog let through. */
	doc = xmlReadMemory(xml, (int)len, "metadata.xml", "UTF-8",
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL) {
		*errstr = "metadata is not well-formed UTF-8 XML";
		return -1;
	}
	if (doc->intSubset || doc->extSubset) {
		*errstr = "metadata must not contain a DTD";
		goto done;
	}
	root = xmlDocGetRootElement(doc);
	if (root == NULL || !is_md(root, "EntityDescriptor")) {
		*errstr = "metadata root is not an md:EntityDescriptor (one SP per file)";
		goto done;
	}
	m->entity_id = prop(root, "entityID");
	if (m->entity_id == NULL || *m->entity_id == '\0' || strlen(m->entity_id) > 1024) {
		*errstr = "metadata has no usable entityID";
		goto done;
	}
	for (xmlNode *c = root->children; c; c = c->next)
		if (is_md(c, "SPSSODescriptor")) {
			if (sp) {
				*errstr = "metadata has more than one SPSSODescriptor";
				goto done;
			}
			sp = c;
		}
	if (sp == NULL || (r = read_sp(sp, m)) == -1) {
		*errstr = "metadata has no SAML 2.0 SPSSODescriptor";
		goto done;
	}
	if (r == -2) {
		*errstr = "metadata has more than 64 endpoint locations";
		goto done;
	}
	if (m->nacs == 0) {
		*errstr = "metadata has no AssertionConsumerService";
		goto done;
	}
	rc = 0;
done:
	xmlFreeDoc(doc);
	if (rc == -1)
		spmeta_clear(m);
	return rc;
}

void
spmeta_clear(struct spmeta *m)
{
	free(m->entity_id);
	for (size_t i = 0; i < m->nrequested; i++) {
		free(m->requested[i].name);
		free(m->requested[i].name_format);
		free(m->requested[i].friendly_name);
	}
	for (size_t i = 0; i < m->ncerts; i++)
		free(m->signing_certs[i]);
	for (size_t i = 0; i < m->nendpoints; i++)
		free(m->endpoints[i].location);
	memset(m, 0, sizeof(*m));
}
