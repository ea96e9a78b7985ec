/*
 * Unit tests for connectors/spmeta.c: reading SAML SP metadata.  A valid SPSSODescriptor is
 * read (entity ID, ACS count, SLO, signing key, RequestedAttribute); no ACS, no or two
 * SPSSODescriptors, the wrong root, DTDs (also hidden by UTF-16 or UTF-7), encodings other
 * than UTF-8 and oversized input are refused.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "spmeta.h"
#include "xmalloc.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define MD_OPEN \
	"<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" " \
	"xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"https://sp.example.org/sp\">"
#define SP_OPEN \
	"<md:SPSSODescriptor AuthnRequestsSigned=\"true\" " \
	"protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">"
#define KEY \
	"<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>" \
	"MIIB</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
#define SLO \
	"<md:SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" " \
	"Location=\"https://sp.example.org/slo\"/>"
#define ACS(i) \
	"<md:AssertionConsumerService index=\"" #i "\" " \
	"Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" " \
	"Location=\"https://sp.example.org/acs\"/>"
#define ATTRS \
	"<md:AttributeConsumingService index=\"0\"><md:ServiceName xml:lang=\"en\">SP" \
	"</md:ServiceName>" \
	"<md:RequestedAttribute Name=\"urn:oid:0.9.2342.19200300.100.1.3\" FriendlyName=\"mail\" " \
	"NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:uri\" isRequired=\"true\"/>" \
	"<md:RequestedAttribute Name=\"displayName\"/>" \
	"<md:RequestedAttribute FriendlyName=\"no name: skipped\"/>" \
	"</md:AttributeConsumingService>"
#define SP_CLOSE "</md:SPSSODescriptor>"
#define MD_CLOSE "</md:EntityDescriptor>"

static const char valid[] = MD_OPEN SP_OPEN KEY SLO ACS(0) ACS(1) ATTRS SP_CLOSE MD_CLOSE;

static int
parse(const char *xml, struct spmeta *m, const char **err)
{
	*err = NULL;
	return spmeta_parse(xml, strlen(xml), m, err);
}

static void
test_spmeta_valid(void **state)
{
	struct spmeta m;
	const char *err;

	assert_int_equal(parse(valid, &m, &err), 0);
	assert_string_equal(m.entity_id, "https://sp.example.org/sp");
	assert_int_equal(m.authn_requests_signed, 1);
	assert_int_equal(m.has_signing_key, 1);
	assert_int_equal(m.has_slo, 1);
	assert_int_equal(m.nacs, 2);
	assert_int_equal(m.nrequested, 2);
	spmeta_clear(&m);
	assert_null(m.entity_id);
}

static void
test_spmeta_requested_attributes(void **state)
{
	struct spmeta m;
	const char *err;

	assert_int_equal(parse(valid, &m, &err), 0);
	assert_string_equal(m.requested[0].name, "urn:oid:0.9.2342.19200300.100.1.3");
	assert_string_equal(m.requested[0].friendly_name, "mail");
	assert_string_equal(m.requested[0].name_format,
	    "urn:oasis:names:tc:SAML:2.0:attrname-format:uri");
	assert_string_equal(m.requested[1].name, "displayName");
	assert_null(m.requested[1].friendly_name);
	assert_null(m.requested[1].name_format);
	spmeta_clear(&m);
}

static void
test_spmeta_minimal(void **state)
{
	static const char xml[] = MD_OPEN
	    "<md:SPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:1.1:protocol "
	    "urn:oasis:names:tc:SAML:2.0:protocol\">" ACS(0) SP_CLOSE MD_CLOSE;
	struct spmeta m;
	const char *err;

	assert_int_equal(parse(xml, &m, &err), 0);
	assert_int_equal(m.authn_requests_signed, 0);
	assert_int_equal(m.has_signing_key, 0);
	assert_int_equal(m.has_slo, 0);
	assert_int_equal(m.nacs, 1);
	assert_int_equal(m.nrequested, 0);
	spmeta_clear(&m);
}

static void
test_spmeta_key_use(void **state)
{
	static const struct {
		const char *key;
		int signing;
	} cases[] = {
		{ "<md:KeyDescriptor><ds:KeyInfo/></md:KeyDescriptor>", 1 },
		{ "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo/></md:KeyDescriptor>", 1 },
		{ "<md:KeyDescriptor use=\"encryption\"><ds:KeyInfo/></md:KeyDescriptor>", 0 },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct buf b;
		struct spmeta m;
		const char *err;

		buf_init(&b, 0);
		buf_printf(&b, "%s%s%s%s%s%s", MD_OPEN, SP_OPEN, cases[i].key, ACS(0), SP_CLOSE,
		    MD_CLOSE);
		assert_int_equal(parse(b.data, &m, &err), 0);
		assert_int_equal(m.has_signing_key, cases[i].signing);
		spmeta_clear(&m);
		buf_free(&b);
	}
}

static void
test_spmeta_refused(void **state)
{
	static const struct {
		const char *xml, *err;
	} cases[] = {
		{ MD_OPEN SP_OPEN KEY SLO SP_CLOSE MD_CLOSE,
		    "metadata has no AssertionConsumerService" },
		{ MD_OPEN MD_CLOSE, "metadata has no SAML 2.0 SPSSODescriptor" },
		{ MD_OPEN "<md:IDPSSODescriptor protocolSupportEnumeration="
		    "\"urn:oasis:names:tc:SAML:2.0:protocol\"/>" MD_CLOSE,
		    "metadata has no SAML 2.0 SPSSODescriptor" },
		{ MD_OPEN "<md:SPSSODescriptor protocolSupportEnumeration="
		    "\"urn:oasis:names:tc:SAML:1.1:protocol\">" ACS(0) SP_CLOSE MD_CLOSE,
		    "metadata has no SAML 2.0 SPSSODescriptor" },
		{ MD_OPEN "<md:SPSSODescriptor>" ACS(0) SP_CLOSE MD_CLOSE,
		    "metadata has no SAML 2.0 SPSSODescriptor" },
		{ MD_OPEN SP_OPEN ACS(0) SP_CLOSE SP_OPEN ACS(0) SP_CLOSE MD_CLOSE,
		    "metadata has more than one SPSSODescriptor" },
		/* the right local name in another namespace */
		{ MD_OPEN "<SPSSODescriptor xmlns=\"urn:example:other\" protocolSupportEnumeration="
		    "\"urn:oasis:names:tc:SAML:2.0:protocol\">" ACS(0) "</SPSSODescriptor>" MD_CLOSE,
		    "metadata has no SAML 2.0 SPSSODescriptor" },
		{ "<md:EntitiesDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\">"
		    "</md:EntitiesDescriptor>",
		    "metadata root is not an md:EntityDescriptor (one SP per file)" },
		{ "<EntityDescriptor entityID=\"x\"/>",
		    "metadata root is not an md:EntityDescriptor (one SP per file)" },
		{ "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\">"
		    SP_OPEN ACS(0) SP_CLOSE MD_CLOSE, "metadata has no usable entityID" },
		{ "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" "
		    "entityID=\"\">" SP_OPEN ACS(0) SP_CLOSE MD_CLOSE,
		    "metadata has no usable entityID" },
		{ "not xml at all", "metadata is not well-formed UTF-8 XML" },
		{ MD_OPEN SP_OPEN ACS(0) SP_CLOSE, "metadata is not well-formed UTF-8 XML" },
		{ "", "metadata is not well-formed UTF-8 XML" },
		{ "<?xml version=\"1.0\"?><!DOCTYPE md:EntityDescriptor [<!ENTITY e \"x\">]>"
		    MD_OPEN SP_OPEN ACS(0) SP_CLOSE MD_CLOSE, "metadata must not contain a DTD" },
		{ "<!DOCTYPE x SYSTEM \"http://attacker.example/x.dtd\">" MD_OPEN SP_OPEN ACS(0)
		    SP_CLOSE MD_CLOSE, "metadata must not contain a DTD" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct spmeta m;
		const char *err;

		if (parse(cases[i].xml, &m, &err) != -1)
			print_error("case %zu accepted\n", i);
		assert_int_equal(parse(cases[i].xml, &m, &err), -1);
		assert_string_equal(err, cases[i].err);
		/* Refused metadata leaves nothing allocated behind. */
		assert_null(m.entity_id);
		assert_int_equal(m.nrequested, 0);
	}
}

static void
test_spmeta_long_entity_id(void **state)
{
	struct buf b;
	struct spmeta m;
	const char *err;

	for (size_t len = 1024; len <= 1025; len++) {
		buf_init(&b, 0);
		buf_puts(&b, "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" "
		    "entityID=\"https://");
		for (size_t i = 8; i < len; i++)
			buf_putc(&b, 'a');
		buf_puts(&b, "\">" SP_OPEN ACS(0) SP_CLOSE MD_CLOSE);
		assert_int_equal(parse(b.data, &m, &err), len <= 1024 ? 0 : -1);
		spmeta_clear(&m);
		buf_free(&b);
	}
}

static void
test_spmeta_too_large(void **state)
{
	struct buf b;
	struct spmeta m;
	const char *err;

	/* Padding with whitespace keeps it well-formed: only the size is wrong. */
	buf_init(&b, 0);
	buf_puts(&b, MD_OPEN SP_OPEN ACS(0) SP_CLOSE);
	while (b.len < SPMETA_MAX_SIZE - strlen(MD_CLOSE))
		buf_putc(&b, ' ');
	buf_puts(&b, MD_CLOSE);
	assert_int_equal(b.len, SPMETA_MAX_SIZE);
	assert_int_equal(parse(b.data, &m, &err), 0);
	spmeta_clear(&m);
	buf_reset(&b);
	buf_puts(&b, MD_OPEN SP_OPEN ACS(0) SP_CLOSE);
	while (b.len < SPMETA_MAX_SIZE + 1 - strlen(MD_CLOSE))
		buf_putc(&b, ' ');
	buf_puts(&b, MD_CLOSE);
	assert_int_equal(parse(b.data, &m, &err), -1);
	assert_string_equal(err, "metadata larger than 512 KiB");
	buf_free(&b);
}

static void
test_spmeta_requested_cap(void **state)
{
	struct buf b;
	struct spmeta m;
	const char *err;

	buf_init(&b, 0);
	buf_puts(&b, MD_OPEN SP_OPEN ACS(0) "<md:AttributeConsumingService index=\"0\">");
	for (int i = 0; i < SPMETA_MAX_REQUESTED + 10; i++)
		buf_printf(&b, "<md:RequestedAttribute Name=\"a%d\" FriendlyName=\"f%d\"/>", i, i);
	buf_puts(&b, "</md:AttributeConsumingService>"
	    "<md:AttributeConsumingService index=\"1\">"
	    "<md:RequestedAttribute Name=\"second-service\"/>"
	    "</md:AttributeConsumingService>" SP_CLOSE MD_CLOSE);
	assert_int_equal(parse(b.data, &m, &err), 0);
	assert_int_equal(m.nrequested, SPMETA_MAX_REQUESTED);
	assert_string_equal(m.requested[SPMETA_MAX_REQUESTED - 1].name, "a31");
	for (size_t i = 0; i < m.nrequested; i++)
		assert_string_not_equal(m.requested[i].name, "second-service");
	spmeta_clear(&m);
	buf_free(&b);
}

static void
test_spmeta_endpoints(void **state)
{
	static const char xml[] = MD_OPEN SP_OPEN SLO
	    "<md:SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" "
	    "Location=\"https://sp.example.org/slo-post\" "
	    "ResponseLocation=\"http://sp.example.org/slo-response\"/>"
	    "<md:ManageNameIDService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:SOAP\" "
	    "Location=\"https://sp.example.org/mni\"/>"
	    "<md:AssertionConsumerService index=\"0\" "
	    "Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" "
	    "Location=\"http://sp.example.org/acs\"/>"
	    "<md:Extensions><md:AssertionConsumerService Location=\"http://not-an-endpoint\"/>"
	    "</md:Extensions>" SP_CLOSE MD_CLOSE;
	static const char *const want[][2] = {
		{ "SingleLogoutService", "https://sp.example.org/slo" },
		{ "SingleLogoutService", "https://sp.example.org/slo-post" },
		{ "SingleLogoutService", "http://sp.example.org/slo-response" },
		{ "ManageNameIDService", "https://sp.example.org/mni" },
		{ "AssertionConsumerService", "http://sp.example.org/acs" },
	};
	struct spmeta m;
	const char *err;

	/* Every location is there for the caller to check, whatever the scheme. */
	assert_int_equal(parse(xml, &m, &err), 0);
	assert_int_equal(m.nendpoints, NELEM(want));
	for (size_t i = 0; i < NELEM(want); i++) {
		assert_string_equal(m.endpoints[i].element, want[i][0]);
		assert_string_equal(m.endpoints[i].location, want[i][1]);
	}
	spmeta_clear(&m);
	assert_int_equal(m.nendpoints, 0);
}

static void
test_spmeta_endpoint_cap(void **state)
{
	struct buf b;
	struct spmeta m;
	const char *err;

	/* More endpoints than can be kept is refused: none escapes the caller's check. */
	for (int n = SPMETA_MAX_ENDPOINTS; n <= SPMETA_MAX_ENDPOINTS + 1; n++) {
		buf_init(&b, 0);
		buf_puts(&b, MD_OPEN SP_OPEN);
		for (int i = 0; i < n; i++)
			buf_printf(&b, "<md:AssertionConsumerService index=\"%d\" Binding=\"b\" "
			    "Location=\"https://sp.example.org/acs%d\"/>", i, i);
		buf_puts(&b, SP_CLOSE MD_CLOSE);
		assert_int_equal(parse(b.data, &m, &err), n == SPMETA_MAX_ENDPOINTS ? 0 : -1);
		if (n > SPMETA_MAX_ENDPOINTS)
			assert_non_null(strstr(err, "endpoint"));
		spmeta_clear(&m);
		buf_free(&b);
	}
}

/* UTF-16LE with a BOM, from ASCII text. */
static char *
utf16le(const char *s, size_t *len_r)
{
	size_t n = strlen(s);
	char *out = xcalloc(2 * n + 4, 1);

	out[0] = (char)0xff;
	out[1] = (char)0xfe;
	for (size_t i = 0; i < n; i++)
		out[2 + 2 * i] = s[i];
	*len_r = 2 * n + 2;
	return out;
}

/*
 * Regression test (fixed in connectors/spmeta.c, spmeta_parse): the DTD check is strstr() on the raw bytes.  The
 * same metadata encoded as UTF-16 (NULs stop strstr) or UTF-7 ("<!" written as "+ADwAIQ-")
 * hides "<!DOCTYPE"; libxml2 then parses the internal subset and the entity is expanded into
 * the entityID.  The parsed document should be checked too (doc->intSubset, as saml_check
 * does), or non-UTF-8 encodings refused.
 */
static void
test_spmeta_dtd_hidden_by_encoding_refused(void **state)
{
	static const char body[] =
	    "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"&e;\">"
	    SP_OPEN ACS(0) SP_CLOSE MD_CLOSE;
	static const char utf16[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-16\"?>"
	    "<!DOCTYPE md:EntityDescriptor [<!ENTITY e \"https://evil.example.org/sp\">]>";
	static const char utf7[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-7\"?>"
	    "+ADwAIQ-DOCTYPE md:EntityDescriptor +AFsAPAAh-ENTITY e "
	    "+ACI-https://evil.example.org/sp+ACIAPgBdAD4-";
	int accepted = 0;

	for (int variant = 0; variant < 2; variant++) {
		struct spmeta m;
		const char *err = NULL;
		size_t len;
		char *xml, *in;
		int rc;

		if (variant == 0) {
			char *ascii = xasprintf("%s%s", utf16, body);

			in = xml = utf16le(ascii, &len);
			free(ascii);
		} else {
			in = xml = xasprintf("%s%s", utf7, body);
			len = strlen(xml);
		}
		rc = spmeta_parse(in, len, &m, &err);
		if (rc == 0) {
			print_error("%s: accepted, entityID \"%s\"\n", variant ? "UTF-7" : "UTF-16",
			    m.entity_id);
			accepted++;
		}
		spmeta_clear(&m);
		free(xml);
	}
	assert_int_equal(accepted, 0);
}

/*
 * Regression test: lasso reads the stored metadata again and follows its declared
 * encoding, so endpoints hidden in UTF-7 ("+ADw-" is "<") passed this check (which reads
 * UTF-8) and reached lasso: an http:// ACS on a public host, refused in plain text,
 * registered anyway.  Only UTF-8 is read, with or without UTF-8's byte-order mark.
 */
static void
test_spmeta_encoding(void **state)
{
	static const char hidden_acs[] =
	    "+ADw-md:AssertionConsumerService index=+ACI-1+ACI- "
	    "Binding=+ACI-urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST+ACI- "
	    "Location=+ACI-http://evil.example.org/acs+ACI-/+AD4-";
	static const struct {
		const char *name, *prolog, *err;
	} cases[] = {
		{ "UTF-7 declared", "<?xml version=\"1.0\" encoding=\"UTF-7\"?>",
		    "metadata declares an encoding other than UTF-8" },
		{ "UTF-7 declared in single quotes", "<?xml version='1.0' encoding='utf-7'?>",
		    "metadata declares an encoding other than UTF-8" },
		{ "ISO-8859-1 declared", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>",
		    "metadata declares an encoding other than UTF-8" },
		{ "malformed declaration", "<?xml version=\"1.0\" encoding=UTF-7?>",
		    "metadata has a malformed XML declaration" },
		{ "UTF-7 byte-order mark", "+/v8", "metadata starts with a byte-order mark other "
		    "than UTF-8's" },
		{ "UTF-8 BOM, then UTF-7 declared", "\xef\xbb\xbf<?xml version=\"1.0\" "
		    "encoding=\"UTF-7\"?>", "metadata declares an encoding other than UTF-8" },
		{ "UTF-8 declared", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", NULL },
		{ "UTF-8 BOM and declaration", "\xef\xbb\xbf<?xml version=\"1.0\" "
		    "encoding=\"utf-8\" standalone=\"yes\"?>", NULL },
		{ "UTF-8 BOM alone", "\xef\xbb\xbf", NULL },
		{ "no declaration", "", NULL },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		char *xml = xasprintf("%s" MD_OPEN SP_OPEN "%s" ACS(0) SP_CLOSE MD_CLOSE,
		    cases[i].prolog, hidden_acs);
		struct spmeta m;
		const char *err;
		int rc = parse(xml, &m, &err);

		if (cases[i].err == NULL ? rc != 0 : rc == 0 || strcmp(err, cases[i].err))
			fail_msg("%s: rc %d, %s", cases[i].name, rc, rc ? err : "accepted");
		if (rc == 0)
			assert_int_equal(m.nacs, 1);
		spmeta_clear(&m);
		free(xml);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spmeta_valid),
		cmocka_unit_test(test_spmeta_encoding),
		cmocka_unit_test(test_spmeta_requested_attributes),
		cmocka_unit_test(test_spmeta_minimal),
		cmocka_unit_test(test_spmeta_key_use),
		cmocka_unit_test(test_spmeta_refused),
		cmocka_unit_test(test_spmeta_long_entity_id),
		cmocka_unit_test(test_spmeta_too_large),
		cmocka_unit_test(test_spmeta_requested_cap),
		cmocka_unit_test(test_spmeta_dtd_hidden_by_encoding_refused),
		cmocka_unit_test(test_spmeta_endpoints),
		cmocka_unit_test(test_spmeta_endpoint_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
