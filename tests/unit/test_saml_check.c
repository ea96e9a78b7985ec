/*
 * Unit tests for idp/saml_check.c: decoding under caps (base64; raw DEFLATE made here with
 * zlib, including a deflate bomb) and the checks on crafted AuthnRequests: DTDs, comments,
 * CDATA, PIs, duplicate IDs, roots, Version, IssueInstant skew, Destination, the signature
 * profile (count, place, reference, algorithms, transforms), one prolog case per verdict
 * (the byte-order mark and encoding tables are in test_xmlprolog.c), depth and node caps.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "buf.h"
#include "encode.h"
#include "saml_check.h"
#include "xmalloc.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define NOW 1709210096		/* 2024-02-29T12:34:56Z */
#define SKEW 180
#define DEST "https://idp.example.org/t/acme/saml/sso"

#define RSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define RSA_SHA1 "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
#define SHA256 "http://www.w3.org/2001/04/xmlenc#sha256"
#define SHA1 "http://www.w3.org/2000/09/xmldsig#sha1"
#define ENVELOPED "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
#define EXC_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"

/* The parts of a test AuthnRequest; NULL attributes are left out. */
struct req {
	const char *root;	/* element name with prefix */
	const char *ns;		/* namespace of the samlp prefix */
	const char *id, *version, *instant, *dest;
	const char *issuer;	/* inner XML of saml:Issuer; NULL: no Issuer */
	const char *body;	/* more children of the root */
};

static const struct req base = {
	.root = "samlp:AuthnRequest",
	.ns = "urn:oasis:names:tc:SAML:2.0:protocol",
	.id = "_a1b2c3",
	.version = "2.0",
	.instant = "2024-02-29T12:34:56Z",
	.dest = DEST,
	.issuer = "https://sp.example.org/sp",
	.body = "<samlp:NameIDPolicy AllowCreate=\"true\"/>",
};

static char *
build(const struct req *r)
{
	struct buf b;

	buf_init(&b, 0);
	buf_printf(&b, "<%s xmlns:samlp=\"%s\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\"",
	    r->root, r->ns);
	if (r->id)
		buf_printf(&b, " ID=\"%s\"", r->id);
	if (r->version)
		buf_printf(&b, " Version=\"%s\"", r->version);
	if (r->instant)
		buf_printf(&b, " IssueInstant=\"%s\"", r->instant);
	if (r->dest)
		buf_printf(&b, " Destination=\"%s\"", r->dest);
	buf_puts(&b, " AssertionConsumerServiceURL=\"https://sp.example.org/acs\">");
	if (r->issuer)
		buf_printf(&b, "<saml:Issuer>%s</saml:Issuer>", r->issuer);
	buf_printf(&b, "%s</%s>", r->body ? r->body : "", r->root);
	return buf_steal(&b, NULL);
}

/* An enveloped ds:Signature (values are placeholders: the profile check runs first). */
static char *
signature(const char *uri, const char *sigalg, const char *digest, const char *transforms,
    int refs)
{
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo>"
	    "<ds:CanonicalizationMethod Algorithm=\"" EXC_C14N "\"/>");
	if (sigalg)
		buf_printf(&b, "<ds:SignatureMethod Algorithm=\"%s\"/>", sigalg);
	for (int i = 0; i < refs; i++) {
		if (uri)
			buf_printf(&b, "<ds:Reference URI=\"%s\">", uri);
		else
			buf_puts(&b, "<ds:Reference>");
		buf_printf(&b, "<ds:Transforms>%s</ds:Transforms>"
		    "<ds:DigestMethod Algorithm=\"%s\"/><ds:DigestValue>AAAA</ds:DigestValue>"
		    "</ds:Reference>", transforms, digest);
	}
	buf_puts(&b, "</ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>");
	return buf_steal(&b, NULL);
}

#define GOOD_TRANSFORMS \
	"<ds:Transform Algorithm=\"" ENVELOPED "\"/><ds:Transform Algorithm=\"" EXC_C14N "\"/>"

static char *
good_signature(void)
{
	return signature("#_a1b2c3", RSA_SHA256, SHA256, GOOD_TRANSFORMS, 1);
}

/* saml_check_message on a copy of xml (it takes ownership); m must be cleared by the caller. */
static int
check_len(const char *xml, size_t len, const char *expect, const char *dest, struct saml_msg *m,
    const char **err)
{
	char *copy = xmalloc(len + 1);

	memcpy(copy, xml, len);
	copy[len] = '\0';
	*err = NULL;
	return saml_check_message(m, copy, len, expect, dest, NOW, SKEW, err);
}

static int
check(const char *xml, const char *dest, struct saml_msg *m, const char **err)
{
	return check_len(xml, strlen(xml), "AuthnRequest", dest, m, err);
}

static void
expect_refused(const char *xml, const char *want)
{
	struct saml_msg m;
	const char *err;
	int rc = check(xml, DEST, &m, &err);

	if (rc != -1 || (want && (err == NULL || strcmp(err, want))))
		print_error("%s\n -> rc %d, \"%s\", want \"%s\"\n", xml, rc, err ? err : "",
		    want ? want : "(any)");
	saml_check_clear(&m);
	assert_int_equal(rc, -1);
	assert_non_null(err);
	if (want)
		assert_string_equal(err, want);
}

static void
expect_accepted(const char *xml)
{
	struct saml_msg m;
	const char *err;
	int rc = check(xml, DEST, &m, &err);

	if (rc != 0)
		print_error("%s\n -> refused: %s\n", xml, err ? err : "");
	saml_check_clear(&m);
	assert_int_equal(rc, 0);
}

static void
refuse_req(const struct req *r, const char *want)
{
	char *xml = build(r);

	expect_refused(xml, want);
	free(xml);
}

static void
accept_req(const struct req *r)
{
	char *xml = build(r);

	expect_accepted(xml);
	free(xml);
}

/* ---- decoding ---- */

/* Raw DEFLATE (no zlib header), as the HTTP-Redirect binding uses, then base64. */
static char *
deflate_b64(const void *p, size_t n)
{
	z_stream z;
	size_t cap = compressBound(n) + 64;
	unsigned char *out = xmalloc(cap);
	char *b64;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)p;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	b64 = b64_encode(out, z.total_out);
	deflateEnd(&z);
	free(out);
	return b64;
}

static void
test_saml_check_decode_post(void **state)
{
	static const char xml[] = "<samlp:AuthnRequest/>";
	char *b64 = b64_encode(xml, strlen(xml));
	const char *err = NULL;
	size_t len;
	char *out;
	struct buf wrapped;

	out = saml_check_decode_post(b64, 1024, &len, &err);
	assert_non_null(out);
	assert_int_equal(len, strlen(xml));
	assert_string_equal(out, xml);
	free(out);
	/* Line-wrapped base64 (as some SPs send it) is accepted. */
	buf_init(&wrapped, 0);
	for (size_t i = 0; b64[i]; i++) {
		buf_putc(&wrapped, b64[i]);
		if (i % 8 == 7)
			buf_puts(&wrapped, "\r\n");
	}
	out = saml_check_decode_post(wrapped.data, 1024, &len, &err);
	assert_non_null(out);
	assert_string_equal(out, xml);
	free(out);
	buf_free(&wrapped);
	/* The cap is on decoded bytes. */
	assert_null(saml_check_decode_post(b64, strlen(xml) - 1, &len, &err));
	assert_string_equal(err, "message is not base64 or too large");
	out = saml_check_decode_post(b64, strlen(xml), &len, &err);
	assert_non_null(out);
	free(out);
	free(b64);
}

static void
test_saml_check_decode_post_bad_base64(void **state)
{
	static const char *const bad[] = { "PHNhbWxwOkF1dGhu!", "PHNh bWxw=", "PH", "====", "P",
		"PHNhbWxw%3D", "PHNh-bWxw" };

	for (size_t i = 0; i < NELEM(bad); i++) {
		const char *err = NULL;
		size_t len;

		assert_null(saml_check_decode_post(bad[i], 1024, &len, &err));
		assert_string_equal(err, "message is not base64 or too large");
	}
}

static void
test_saml_check_decode_redirect(void **state)
{
	char *xml = build(&base);
	char *b64 = deflate_b64(xml, strlen(xml));
	const char *err = NULL;
	size_t len;
	char *out;

	out = saml_check_decode_redirect(b64, 4096, &len, &err);
	assert_non_null(out);
	assert_int_equal(len, strlen(xml));
	assert_string_equal(out, xml);
	free(out);
	/* Inflated size exactly at the cap is fine, one byte more is not. */
	out = saml_check_decode_redirect(b64, strlen(xml), &len, &err);
	assert_non_null(out);
	free(out);
	assert_null(saml_check_decode_redirect(b64, strlen(xml) - 1, &len, &err));
	assert_string_equal(err, "message inflates beyond the size limit");
	free(b64);
	free(xml);
}

static void
test_saml_check_inflate_bomb(void **state)
{
	const size_t cap = 256 * 1024;	/* the documented inflate cap */
	const size_t sizes[] = { 1024 * 1024, 16 * 1024 * 1024 };
	const char *err;
	size_t len;

	for (size_t i = 0; i < NELEM(sizes); i++) {
		char *plain = xmalloc(sizes[i]), *b64;

		memset(plain, 'A', sizes[i]);
		b64 = deflate_b64(plain, sizes[i]);
		free(plain);
		/* 1 MiB deflates to about 1 KB: small enough to pass every input cap. */
		if (i == 0)
			assert_true(strlen(b64) < 1500);
		err = NULL;
		len = 0;
		assert_null(saml_check_decode_redirect(b64, cap, &len, &err));
		assert_string_equal(err, "message inflates beyond the size limit");
		/* Inflation stopped at the cap. */
		assert_int_equal(len, cap);
		free(b64);
	}
}

static void
test_saml_check_decode_redirect_bad_input(void **state)
{
	static const unsigned char zlib_wrapped[] = { 0x78, 0x9c, 0xcb, 0x48, 0xcd, 0xc9, 0xc9,
		0x07, 0x00, 0x06, 0x2c, 0x02, 0x15 };	/* zlib("hello"): not raw DEFLATE */
	static const unsigned char garbage[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	char *xml = build(&base), *b64, *trunc;
	const char *err = NULL;
	size_t len, rawlen;
	unsigned char *raw;

	/* Not base64: also the url-safe alphabet and unpadded input. */
	assert_null(saml_check_decode_redirect("fZLNbo!", 4096, &len, &err));
	assert_string_equal(err, "message is not base64 or too large");
	assert_null(saml_check_decode_redirect("fZLN-bo_", 4096, &len, &err));
	assert_null(saml_check_decode_redirect("fZL", 4096, &len, &err));
	/* Whitespace is not allowed in the (already URL-decoded) Redirect value. */
	assert_null(saml_check_decode_redirect("fZLN\nbo==", 4096, &len, &err));

	b64 = b64_encode(zlib_wrapped, sizeof(zlib_wrapped));
	assert_null(saml_check_decode_redirect(b64, 4096, &len, &err));
	assert_string_equal(err, "message is not valid DEFLATE data");
	free(b64);
	b64 = b64_encode(garbage, sizeof(garbage));
	assert_null(saml_check_decode_redirect(b64, 4096, &len, &err));
	assert_string_equal(err, "message is not valid DEFLATE data");
	free(b64);
	assert_null(saml_check_decode_redirect("", 4096, &len, &err));
	assert_string_equal(err, "message is not valid DEFLATE data");

	/* A truncated stream. */
	b64 = deflate_b64(xml, strlen(xml));
	raw = b64_decode(b64, strlen(b64), 0, 4096, &rawlen);
	trunc = b64_encode(raw, rawlen / 2);
	assert_null(saml_check_decode_redirect(trunc, 4096, &len, &err));
	assert_string_equal(err, "message is not valid DEFLATE data");
	free(trunc);
	free(raw);
	free(b64);
	free(xml);
}

/*
 * Regression test (fixed in idp/saml_check.c, saml_check_decode_redirect): bytes after the end of the DEFLATE
 * stream are ignored (inflate returns Z_STREAM_END with avail_in > 0 and that is accepted),
 * so one message has many encodings.  Strict decoders elsewhere refuse such input.
 */
static void
test_saml_check_decode_redirect_trailing_data(void **state)
{
	char *xml = build(&base), *b64, *padded;
	const char *err = NULL;
	size_t len, rawlen;
	unsigned char *raw;
	char *out;

	b64 = deflate_b64(xml, strlen(xml));
	raw = b64_decode(b64, strlen(b64), 0, 4096, &rawlen);
	raw = xreallocarray(raw, rawlen + 16, 1);
	memcpy(raw + rawlen, "trailing-garbage", 16);
	padded = b64_encode(raw, rawlen + 16);
	out = saml_check_decode_redirect(padded, 4096, &len, &err);
	free(out);
	free(padded);
	free(raw);
	free(b64);
	free(xml);
	assert_null(out);
}

/* ---- message checks ---- */

static void
test_saml_check_valid_minimal(void **state)
{
	char *xml = build(&base);
	struct saml_msg m;
	const char *err;

	assert_int_equal(check(xml, DEST, &m, &err), 0);
	assert_string_equal(m.root, "AuthnRequest");
	assert_string_equal(m.id, "_a1b2c3");
	assert_string_equal(m.issuer, "https://sp.example.org/sp");
	assert_string_equal(m.destination, DEST);
	assert_null(m.in_response_to);
	assert_true(m.issue_instant == NOW);
	assert_int_equal(m.signed_xml, 0);
	assert_int_equal(m.xml_len, strlen(xml));
	assert_string_equal(m.xml, xml);
	saml_check_clear(&m);
	assert_null(m.xml);
	free(xml);
}

static void
test_saml_check_valid_signed(void **state)
{
	struct req r = base;
	char *sig = good_signature(), *body = xasprintf("%s%s", sig, base.body), *xml;
	struct saml_msg m;
	const char *err;

	r.body = body;
	xml = build(&r);
	assert_int_equal(check(xml, DEST, &m, &err), 0);
	assert_int_equal(m.signed_xml, 1);
	saml_check_clear(&m);
	free(xml);
	free(body);
	free(sig);
}

static void
test_saml_check_expected_roots(void **state)
{
	struct req r = base;
	struct saml_msg m;
	const char *err;
	char *xml;

	r.root = "samlp:LogoutRequest";
	r.body = "<saml:NameID>alice</saml:NameID>";
	xml = build(&r);
	assert_int_equal(check_len(xml, strlen(xml), "AuthnRequest|LogoutRequest", DEST, &m,
	    &err), 0);
	assert_string_equal(m.root, "LogoutRequest");
	saml_check_clear(&m);
	assert_int_equal(check_len(xml, strlen(xml), "LogoutResponse|LogoutRequest", DEST, &m,
	    &err), 0);
	saml_check_clear(&m);
	assert_int_equal(check_len(xml, strlen(xml), "AuthnRequest", DEST, &m, &err), -1);
	assert_string_equal(err, "unexpected message type");
	saml_check_clear(&m);
	/* Names in the list match whole, not as prefixes or substrings. */
	assert_int_equal(check_len(xml, strlen(xml), "Logout|Request", DEST, &m, &err), -1);
	saml_check_clear(&m);
	assert_int_equal(check_len(xml, strlen(xml), "LogoutRequestX", DEST, &m, &err), -1);
	saml_check_clear(&m);
	free(xml);
}

static void
test_saml_check_wrong_root(void **state)
{
	static const struct {
		const char *root, *ns;
	} cases[] = {
		{ "samlp:Response", "urn:oasis:names:tc:SAML:2.0:protocol" },
		{ "samlp:AuthnRequest", "urn:oasis:names:tc:SAML:2.0:assertion" },
		{ "samlp:AuthnRequest", "urn:oasis:names:tc:SAML:1.0:protocol" },
		{ "samlp:authnrequest", "urn:oasis:names:tc:SAML:2.0:protocol" },
		{ "samlp:AuthnRequest", "urn:oasis:names:tc:SAML:2.0:protocol " },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct req r = base;

		r.root = cases[i].root;
		r.ns = cases[i].ns;
		refuse_req(&r, "unexpected message type");
	}
	/* No namespace at all. */
	expect_refused("<AuthnRequest ID=\"_x\" Version=\"2.0\" "
	    "IssueInstant=\"2024-02-29T12:34:56Z\">"
	    "<Issuer>x</Issuer></AuthnRequest>", "unexpected message type");
}

static void
test_saml_check_dtd_refused(void **state)
{
	static const char *const cases[] = {
		"<!DOCTYPE samlp:AuthnRequest [<!ENTITY x \"y\">]><samlp:AuthnRequest/>",
		"<?xml version=\"1.0\"?><!DOCTYPE a SYSTEM \"http://attacker.example/a.dtd\"><a/>",
		"<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 "
		    "\"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]><lolz>&lol2;</lolz>",
		"<a><!ENTITY x \"y\"></a>",
	};

	for (size_t i = 0; i < NELEM(cases); i++)
		expect_refused(cases[i], "message contains a DTD");
}

static void
test_saml_check_node_types_refused(void **state)
{
	static const struct {
		const char *issuer, *body, *err;
	} cases[] = {
		{ "a@x.org<!---->.evil.org", NULL, "message contains a comment" },
		{ "https://sp.example.org/sp", "<!-- hidden -->", "message contains a comment" },
		{ "<![CDATA[https://sp.example.org/sp]]>", NULL, "message contains CDATA" },
		{ "https://sp.example<![CDATA[]]>.org/sp", NULL, "message contains CDATA" },
		{ "https://sp.example.org/sp", "<?evil data?>",
		    "message contains a processing instruction or unknown node" },
		{ "https://sp.example.org/sp<?pi?>", NULL,
		    "message contains a processing instruction or unknown node" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct req r = base;

		r.issuer = cases[i].issuer;
		if (cases[i].body)
			r.body = cases[i].body;
		refuse_req(&r, cases[i].err);
	}
}

static void
test_saml_check_outside_root_refused(void **state)
{
	char *xml = build(&base), *t;

	/* A comment, PI or second element next to the root. */
	t = xasprintf("<!-- x -->%s", xml);
	expect_refused(t, "message must have exactly one root element");
	free(t);
	t = xasprintf("%s<!-- x -->", xml);
	expect_refused(t, "message must have exactly one root element");
	free(t);
	t = xasprintf("<?xml version=\"1.0\"?><?pi x?>%s", xml);
	expect_refused(t, "message must have exactly one root element");
	free(t);
	/* Multiple roots and trailing data are not even well-formed. */
	t = xasprintf("%s%s", xml, xml);
	expect_refused(t, "message is not well-formed XML");
	free(t);
	t = xasprintf("%sgarbage", xml);
	expect_refused(t, "message is not well-formed XML");
	free(t);
	t = xasprintf("%s<x/>", xml);
	expect_refused(t, "message is not well-formed XML");
	free(t);
	/* Truncated. */
	t = xstrndup(xml, strlen(xml) - 1);
	expect_refused(t, "message is not well-formed XML");
	free(t);
	/* An XML declaration and trailing whitespace are fine. */
	t = xasprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n%s\n", xml);
	expect_accepted(t);
	free(t);
	free(xml);
}

static void
test_saml_check_duplicate_ids(void **state)
{
	static const char *const bodies[] = {
		/* the signed element's ID again, deeper: the XSW precondition */
		"<samlp:Extensions><samlp:AuthnRequest ID=\"_a1b2c3\"/></samlp:Extensions>",
		"<samlp:Extensions><x ID=\"_other\"/><y ID=\"_other\"/></samlp:Extensions>",
		"<samlp:Extensions><x Id=\"_a1b2c3\"/></samlp:Extensions>",
		"<samlp:Extensions xmlns:e=\"urn:e\"><x e:ID=\"_a1b2c3\"/></samlp:Extensions>",
	};

	for (size_t i = 0; i < NELEM(bodies); i++) {
		struct req r = base;

		r.body = bodies[i];
		refuse_req(&r, "duplicate ID attribute");
	}
	{
		struct req r = base;

		/* Distinct IDs are fine. */
		r.body = "<samlp:Extensions><x ID=\"_one\"/><y Id=\"_two\"/></samlp:Extensions>";
		accept_req(&r);
	}
	/* One element with ID twice is not well-formed XML. */
	expect_refused("<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
	    "ID=\"_a\" ID=\"_b\"/>", "message is not well-formed XML");
}

static void
test_saml_check_id(void **state)
{
	struct req r = base;
	char id[300];

	r.id = NULL;
	refuse_req(&r, "missing or oversized ID");
	r.id = "";
	refuse_req(&r, "missing or oversized ID");
	memset(id, 'a', sizeof(id));
	id[0] = '_';
	id[256] = '\0';
	r.id = id;
	accept_req(&r);
	id[256] = 'a';
	id[257] = '\0';
	refuse_req(&r, "missing or oversized ID");
}

static void
test_saml_check_version(void **state)
{
	static const char *const bad[] = { NULL, "1.1", "2", "2.00", "2.0 ", "", "3.0" };

	for (size_t i = 0; i < NELEM(bad); i++) {
		struct req r = base;

		r.version = bad[i];
		refuse_req(&r, "Version is not 2.0");
	}
}

static void
test_saml_check_issue_instant(void **state)
{
	static const struct {
		const char *instant;
		const char *err;	/* NULL: accepted */
	} cases[] = {
		{ "2024-02-29T12:34:56Z", NULL },
		{ "2024-02-29T12:34:56.999Z", NULL },
		{ "2024-02-29T12:31:56Z", NULL },	/* now - skew */
		{ "2024-02-29T12:37:56Z", NULL },	/* now + skew */
		{ "2024-02-29T12:31:55Z", "IssueInstant outside the allowed clock skew" },
		{ "2024-02-29T12:37:57Z", "IssueInstant outside the allowed clock skew" },
		{ "2024-02-28T12:34:56Z", "IssueInstant outside the allowed clock skew" },
		{ "2034-02-28T12:34:56Z", "IssueInstant outside the allowed clock skew" },
		{ "1970-01-01T00:00:00Z", "IssueInstant outside the allowed clock skew" },
		{ NULL, "missing or malformed IssueInstant" },
		{ "", "missing or malformed IssueInstant" },
		{ "2024-02-29T12:34:56", "missing or malformed IssueInstant" },
		{ "2024-02-29T12:34:56+00:00", "missing or malformed IssueInstant" },
		{ "2024-02-29 12:34:56Z", "missing or malformed IssueInstant" },
		{ "1709210096", "missing or malformed IssueInstant" },
		{ "2024-02-29T25:34:56Z", "missing or malformed IssueInstant" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct req r = base;

		r.instant = cases[i].instant;
		if (cases[i].err)
			refuse_req(&r, cases[i].err);
		else
			accept_req(&r);
	}
}

static void
test_saml_check_issuer(void **state)
{
	struct req r = base;
	struct saml_msg m;
	const char *err;
	char *xml;

	r.issuer = NULL;
	refuse_req(&r, "missing or malformed Issuer");
	r.issuer = "";
	refuse_req(&r, "missing or malformed Issuer");
	r.issuer = "<x>https://sp.example.org/sp</x>";
	refuse_req(&r, "missing or malformed Issuer");
	r.issuer = "https://sp<x/>.example.org/sp";
	refuse_req(&r, "missing or malformed Issuer");
	/* Character and predefined entity references are text. */
	r.issuer = "https://sp.example.org/sp?a=1&amp;b=&#x32;";
	xml = build(&r);
	assert_int_equal(check(xml, DEST, &m, &err), 0);
	assert_string_equal(m.issuer, "https://sp.example.org/sp?a=1&b=2");
	saml_check_clear(&m);
	free(xml);
}

static void
test_saml_check_destination(void **state)
{
	static const char *const wrong[] = {
		"https://idp.example.org/t/other/saml/sso",
		"https://idp.example.org/t/acme/saml/sso/",
		"https://IDP.example.org/t/acme/saml/sso",
		"http://idp.example.org/t/acme/saml/sso",
		"https://idp.example.org:443/t/acme/saml/sso",
		"https://idp.example.org/t/acme/saml/sso?x",
		"",
	};
	struct req r = base;
	struct saml_msg m;
	const char *err;
	char *xml;

	for (size_t i = 0; i < NELEM(wrong); i++) {
		r.dest = wrong[i];
		refuse_req(&r, "wrong Destination");
	}
	/* Unsigned without Destination: allowed. */
	r.dest = NULL;
	accept_req(&r);
	/* Without an endpoint to compare, any Destination passes. */
	r.dest = wrong[0];
	xml = build(&r);
	assert_int_equal(check(xml, NULL, &m, &err), 0);
	saml_check_clear(&m);
	free(xml);
}

static void
test_saml_check_signed_without_destination(void **state)
{
	struct req r = base;
	char *sig = good_signature(), *body = xasprintf("%s%s", sig, base.body);

	r.body = body;
	r.dest = NULL;
	refuse_req(&r, "signed message without Destination");
	r.dest = "https://elsewhere.example.org/sso";
	refuse_req(&r, "wrong Destination");
	free(body);
	free(sig);
}

static void
test_saml_check_signature_profile(void **state)
{
	static const struct {
		const char *uri, *sigalg, *digest, *transforms;
		int refs;
		const char *err;
	} cases[] = {
		{ "#_a1b2c3", RSA_SHA256, SHA256, GOOD_TRANSFORMS, 1, NULL },
		{ "#_a1b2c3", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
		    "http://www.w3.org/2001/04/xmlenc#sha512", "", 1, NULL },
		{ "#_a1b2c3", RSA_SHA256, SHA256, GOOD_TRANSFORMS, 2,
		    "signature does not follow the SAML profile" },
		{ "#_a1b2c3", RSA_SHA256, SHA256, GOOD_TRANSFORMS, 0,
		    "signature does not follow the SAML profile" },
		{ "", RSA_SHA256, SHA256, GOOD_TRANSFORMS, 1,
		    "signature does not reference the message" },
		{ NULL, RSA_SHA256, SHA256, GOOD_TRANSFORMS, 1,
		    "signature does not reference the message" },
		{ "_a1b2c3", RSA_SHA256, SHA256, GOOD_TRANSFORMS, 1,
		    "signature does not reference the message" },
		{ "#_a1b2c", RSA_SHA256, SHA256, GOOD_TRANSFORMS, 1,
		    "signature does not reference the message" },
		{ "#_a1b2c3x", RSA_SHA256, SHA256, GOOD_TRANSFORMS, 1,
		    "signature does not reference the message" },
		{ "#xpointer(/)", RSA_SHA256, SHA256, GOOD_TRANSFORMS, 1,
		    "signature does not reference the message" },
		{ "#_a1b2c3", RSA_SHA1, SHA256, GOOD_TRANSFORMS, 1,
		    "signature algorithm not allowed" },
		{ "#_a1b2c3", "http://www.w3.org/2000/09/xmldsig#dsa-sha1", SHA256, GOOD_TRANSFORMS,
		    1, "signature algorithm not allowed" },
		{ "#_a1b2c3", "http://www.w3.org/2001/04/xmldsig-more#rsa-md5", SHA256,
		    GOOD_TRANSFORMS, 1, "signature algorithm not allowed" },
		{ "#_a1b2c3", "http://www.w3.org/2000/09/xmldsig#hmac-sha1", SHA256, GOOD_TRANSFORMS,
		    1, "signature algorithm not allowed" },
		{ "#_a1b2c3", NULL, SHA256, GOOD_TRANSFORMS, 1, "signature algorithm not allowed" },
		{ "#_a1b2c3", RSA_SHA256, SHA1, GOOD_TRANSFORMS, 1, "digest algorithm not allowed" },
		{ "#_a1b2c3", RSA_SHA256, "http://www.w3.org/2001/04/xmldsig-more#md5",
		    GOOD_TRANSFORMS, 1, "digest algorithm not allowed" },
		{ "#_a1b2c3", RSA_SHA256, "", GOOD_TRANSFORMS, 1, "digest algorithm not allowed" },
		{ "#_a1b2c3", RSA_SHA256, SHA256,
		    "<ds:Transform Algorithm=\"" ENVELOPED "\"/>"
		    "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\">"
		    "<ds:XPath>not(ancestor-or-self::x)</ds:XPath></ds:Transform>", 1,
		    "signature transform not allowed" },
		{ "#_a1b2c3", RSA_SHA256, SHA256,
		    "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xslt-19991116\"/>", 1,
		    "signature transform not allowed" },
		{ "#_a1b2c3", RSA_SHA256, SHA256,
		    "<ds:Transform Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"/>",
		    1, "signature transform not allowed" },
		{ "#_a1b2c3", RSA_SHA256, SHA256, "<ds:Transform/>", 1,
		    "signature transform not allowed" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct req r = base;
		char *sig = signature(cases[i].uri, cases[i].sigalg, cases[i].digest,
		    cases[i].transforms, cases[i].refs);
		char *body = xasprintf("%s%s", sig, base.body);

		r.body = body;
		if (cases[i].err)
			refuse_req(&r, cases[i].err);
		else
			accept_req(&r);
		free(body);
		free(sig);
	}
}

static void
test_saml_check_signature_count_and_place(void **state)
{
	char *sig = good_signature(), *body;
	struct req r = base;

	/* Two signatures on the root. */
	body = xasprintf("%s%s%s", sig, sig, base.body);
	r.body = body;
	refuse_req(&r, "message carries more than one signature");
	free(body);
	/* One on the root and one deeper. */
	body = xasprintf("%s<samlp:Extensions>%s</samlp:Extensions>", sig, sig);
	r.body = body;
	refuse_req(&r, "message carries more than one signature");
	free(body);
	/* The only signature is not a child of the root. */
	body = xasprintf("<samlp:Extensions>%s</samlp:Extensions>", sig);
	r.body = body;
	refuse_req(&r, "signature does not follow the SAML profile");
	free(body);
	/* A ds:Signature inside the Issuer. */
	r.body = base.body;
	body = xasprintf("https://sp.example.org/sp%s", sig);
	r.issuer = body;
	refuse_req(&r, "missing or malformed Issuer");
	free(body);
	free(sig);
}

static void
test_saml_check_signature_wrapping(void **state)
{
	/*
	 * XSW: the signed original moves into Extensions and an evil root takes its place,
	 * keeping the signature that still references the original's ID.
	 */
	char *sig = good_signature(), *body;
	struct req r = base;

	body = xasprintf("%s<samlp:Extensions><samlp:AuthnRequest ID=\"_a1b2c3\" Version=\"2.0\">"
	    "</samlp:AuthnRequest></samlp:Extensions>", sig);
	r.id = "_evil";
	r.body = body;
	refuse_req(&r, NULL);
	free(body);
	/* Without the duplicate: the reference does not point at the root. */
	body = xasprintf("%s<samlp:Extensions><samlp:AuthnRequest ID=\"_orig\"/></samlp:Extensions>",
	    sig);
	r.body = body;
	refuse_req(&r, NULL);
	free(body);
	free(sig);
}

static void
test_saml_check_nul_and_encodings(void **state)
{
	char *xml = build(&base), *u16;
	size_t n = strlen(xml);
	struct saml_msg m;
	const char *err;

	/* A NUL byte inside the message. */
	{
		char *t = xstrdup(xml);

		t[20] = '\0';
		assert_int_equal(check_len(t, n, "AuthnRequest", DEST, &m, &err), -1);
		assert_string_equal(err, "message contains a NUL byte");
		saml_check_clear(&m);
		free(t);
	}
	/* UTF-16LE with and without a BOM, and UTF-16BE. */
	u16 = xcalloc(2 * n + 2, 1);
	for (int variant = 0; variant < 3; variant++) {
		size_t off = variant == 0 ? 2 : 0;

		memset(u16, 0, 2 * n + 2);
		if (variant == 0) {
			u16[0] = (char)0xff;
			u16[1] = (char)0xfe;
		}
		for (size_t i = 0; i < n; i++)
			u16[off + 2 * i + (variant == 2)] = xml[i];
		assert_int_equal(check_len(u16, 2 * n + off, "AuthnRequest", DEST, &m, &err), -1);
		saml_check_clear(&m);
	}
	free(u16);
	/* Leading whitespace: not starting with '<'. */
	{
		char *t = xasprintf(" %s", xml);

		expect_refused(t, "message does not start with '<'");
		free(t);
	}
	expect_refused("", "message does not start with '<'");
	free(xml);
}

static void
test_saml_check_utf7_doctype(void **state)
{
	/* "<!DOCTYPE" hidden by UTF-7: refused, whether or not libxml2 can read UTF-7. */
	static const char xml[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-7\"?>"
	    "+ADwAIQ-DOCTYPE samlp:AuthnRequest +AFsAPAAh-ENTITY x +ACI-y+ACIAPgBd-+AD4-"
	    "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
	    "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_a\" Version=\"2.0\" "
	    "IssueInstant=\"2024-02-29T12:34:56Z\"><saml:Issuer>x</saml:Issuer>"
	    "</samlp:AuthnRequest>";

	expect_refused(xml, NULL);
}

/*
 * The prolog check (lib/xmlprolog.c, tested on its own in test_xmlprolog.c) in this
 * check's words, one case a verdict; no byte-order mark is accepted, not even UTF-8's.
 */
static void
test_saml_check_prolog(void **state)
{
	static const struct {
		const char *prolog, *err;
	} cases[] = {
		{ "\xef\xbb\xbf", "message starts with a byte-order mark" },
		{ "+/v8", "message starts with a byte-order mark" },
		{ "<?xml version=\"1.0\" encoding=\"UTF-7\"?>", "declared encoding is not UTF-8" },
		{ "<?xml version=\"1.0\" encoding=UTF-7?>", "malformed XML declaration" },
		{ "<?XML version=\"1.0\" encoding=\"UTF-7\"?>", "malformed XML declaration" },
		{ "<?xml version='1.0' encoding='utf-8' standalone='yes'?>", NULL },
	};
	char *xml = build(&base);

	for (size_t i = 0; i < NELEM(cases); i++) {
		char *t = xasprintf("%s%s", cases[i].prolog, xml);

		if (cases[i].err)
			expect_refused(t, cases[i].err);
		else
			expect_accepted(t);
		free(t);
	}
	free(xml);
}

/*
 * The attack the declaration check stops: read as UTF-8 (this check), the Issuer is an
 * SP that need not sign; read as UTF-7 (lasso), an attribute value closes early and the
 * Issuer is another SP, the first one hidden in Extensions.
 */
static void
test_saml_check_utf7_hidden_issuer(void **state)
{
	static const char xml[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-7\"?>"
	    "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
	    "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_a\" Version=\"2.0\" "
	    "IssueInstant=\"2024-02-29T12:34:56Z\" ProviderName=\"+ACIAPgA8-saml:Issuer+AD4-"
	    "https://signed.example.org/sp+ADw-/saml:Issuer+AD4APA-samlp:Extensions+AD4APA-x "
	    "y+AD0AIg-\"><saml:Issuer>https://open.example.org/sp</saml:Issuer>"
	    "+ADw-/x+AD4APA-/samlp:Extensions+AD4-</samlp:AuthnRequest>";

	expect_refused(xml, "declared encoding is not UTF-8");
}

static void
test_saml_check_depth_limit(void **state)
{
	/* The root is depth 0: elements down to depth 32 pass, depth 33 does not. */
	for (int extra = 30; extra <= 33; extra++) {
		struct req r = base;
		struct buf b;

		buf_init(&b, 0);
		/* Extensions is depth 1; add levels below it until the deepest is 1 + extra. */
		buf_puts(&b, "<samlp:Extensions>");
		for (int i = 0; i < extra; i++)
			buf_puts(&b, "<x>");
		for (int i = 0; i < extra; i++)
			buf_puts(&b, "</x>");
		buf_puts(&b, "</samlp:Extensions>");
		r.body = b.data;
		if (1 + extra <= SAML_CHECK_MAX_DEPTH)
			accept_req(&r);
		else
			refuse_req(&r, "message nested too deeply");
		buf_free(&b);
	}
	{
		/* Far deeper than libxml2 would ever need to recurse for us. */
		struct req r = base;
		struct buf b;

		buf_init(&b, 0);
		for (int i = 0; i < 200; i++)
			buf_puts(&b, "<x>");
		for (int i = 0; i < 200; i++)
			buf_puts(&b, "</x>");
		r.body = b.data;
		refuse_req(&r, "message nested too deeply");
		buf_free(&b);
	}
}

static void
test_saml_check_node_limit(void **state)
{
	/*
	 * Nodes counted: the root, Issuer and its text, Extensions, then each <x/>.
	 * Find the largest count that passes by construction, then add one more.
	 */
	const size_t fixed = 4;
	size_t counts[] = { SAML_CHECK_MAX_NODES - fixed, SAML_CHECK_MAX_NODES - fixed + 1,
		SAML_CHECK_MAX_NODES * 5 };

	for (size_t k = 0; k < NELEM(counts); k++) {
		struct req r = base;
		struct buf b;

		buf_init(&b, 0);
		buf_puts(&b, "<samlp:Extensions>");
		for (size_t i = 0; i < counts[k]; i++)
			buf_puts(&b, "<x/>");
		buf_puts(&b, "</samlp:Extensions>");
		r.body = b.data;
		if (k == 0)
			accept_req(&r);
		else
			refuse_req(&r, "message has too many nodes");
		buf_free(&b);
	}
	{
		/* Text nodes count too. */
		struct req r = base;
		struct buf b;

		buf_init(&b, 0);
		for (size_t i = 0; i < SAML_CHECK_MAX_NODES; i++)
			buf_puts(&b, "<x/> ");
		r.body = b.data;
		refuse_req(&r, "message has too many nodes");
		buf_free(&b);
	}
}

static void
test_saml_check_not_xml(void **state)
{
	static const char *const bad[] = { "<", "<a", "<a>", "</a>", "<a></b>", "<a b=c/>",
		"<a b=\"1\" b=\"2\"/>", "<a>&undefined;</a>", "<1a/>" };

	for (size_t i = 0; i < NELEM(bad); i++)
		expect_refused(bad[i], "message is not well-formed XML");
}

static void
test_saml_check_sigalg(void **state)
{
	static const struct {
		const char *uri;
		int ok;
	} cases[] = {
		{ "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", 1 },
		{ "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", 1 },
		{ "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", 1 },
		{ "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", 1 },
		{ "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", 1 },
		{ "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512", 1 },
		{ "http://www.w3.org/2000/09/xmldsig#rsa-sha1", 0 },
		{ "http://www.w3.org/2000/09/xmldsig#dsa-sha1", 0 },
		{ "http://www.w3.org/2001/04/xmldsig-more#rsa-md5", 0 },
		{ "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1", 0 },
		{ "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256", 0 },
		{ "http://www.w3.org/2000/09/xmldsig#hmac-sha1", 0 },
		{ "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256 ", 0 },
		{ " http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", 0 },
		{ "HTTP://WWW.W3.ORG/2001/04/XMLDSIG-MORE#RSA-SHA256", 0 },
		{ "http://www.w3.org/2001/04/xmldsig-more#rsa-sha25", 0 },
		{ "rsa-sha256", 0 },
		{ "", 0 },
		{ NULL, 0 },
	};

	for (size_t i = 0; i < NELEM(cases); i++)
		assert_int_equal(saml_check_sigalg(cases[i].uri), cases[i].ok);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_saml_check_decode_post),
		cmocka_unit_test(test_saml_check_decode_post_bad_base64),
		cmocka_unit_test(test_saml_check_decode_redirect),
		cmocka_unit_test(test_saml_check_inflate_bomb),
		cmocka_unit_test(test_saml_check_decode_redirect_bad_input),
		cmocka_unit_test(test_saml_check_decode_redirect_trailing_data),
		cmocka_unit_test(test_saml_check_valid_minimal),
		cmocka_unit_test(test_saml_check_valid_signed),
		cmocka_unit_test(test_saml_check_expected_roots),
		cmocka_unit_test(test_saml_check_wrong_root),
		cmocka_unit_test(test_saml_check_dtd_refused),
		cmocka_unit_test(test_saml_check_node_types_refused),
		cmocka_unit_test(test_saml_check_outside_root_refused),
		cmocka_unit_test(test_saml_check_duplicate_ids),
		cmocka_unit_test(test_saml_check_id),
		cmocka_unit_test(test_saml_check_version),
		cmocka_unit_test(test_saml_check_issue_instant),
		cmocka_unit_test(test_saml_check_issuer),
		cmocka_unit_test(test_saml_check_destination),
		cmocka_unit_test(test_saml_check_signed_without_destination),
		cmocka_unit_test(test_saml_check_signature_profile),
		cmocka_unit_test(test_saml_check_signature_count_and_place),
		cmocka_unit_test(test_saml_check_signature_wrapping),
		cmocka_unit_test(test_saml_check_nul_and_encodings),
		cmocka_unit_test(test_saml_check_utf7_doctype),
		cmocka_unit_test(test_saml_check_prolog),
		cmocka_unit_test(test_saml_check_utf7_hidden_issuer),
		cmocka_unit_test(test_saml_check_depth_limit),
		cmocka_unit_test(test_saml_check_node_limit),
		cmocka_unit_test(test_saml_check_not_xml),
		cmocka_unit_test(test_saml_check_sigalg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
