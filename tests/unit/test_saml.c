/*
 * Unit tests for idp/saml.c on a real lasso: after saml_global_init() every lasso type a
 * worker thread may meet is registered (threads never race lasso's unlocked lazy type
 * registration, which crashed a fresh worker); the SP lasso resolves must be the Issuer
 * the pre-check read; a LogoutResponse must answer the LogoutRequest that was sent.
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lasso/lasso.h>
#include <zlib.h>

#include "clock.h"
#include "encode.h"
#include "pki.h"
#include "saml.h"
#include "saml_check.h"
#include "xmalloc.h"

#define NTHREADS 8

/* Types lasso_init() leaves for their first use (LassoKey crashed the worker). */
static void
test_saml_types_registered(void **state)
{
	static const char *const names[] = { "LassoKey", "LassoServer", "LassoLogin",
		"LassoLogout", "LassoSaml2Assertion", "LassoSamlp2Response",
		"LassoSamlp2LogoutRequest", "LassoSaml2NameID" };

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (g_type_from_name(names[i]) == 0)
			fail_msg("%s is not registered after saml_global_init()", names[i]);
}

static void *
make_objects(void *arg)
{
	GObject *o = g_object_new(g_type_from_name("LassoKey"), NULL);

	(void)arg;
	if (o)
		g_object_unref(o);
	return o;
}

/* Threads creating lasso objects at once after start-up: every one gets its object. */
static void
test_saml_threads_create_objects(void **state)
{
	pthread_t t[NTHREADS];
	void *r;

	(void)state;
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, make_objects, NULL), 0);
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(t[i], &r), 0);
		assert_non_null(r);
	}
}

/* ---- an IdP with two SPs, A and B, and messages from them ---- */

#define IDP_URL "https://idp.example.org/t/acme/saml"
#define SP_A "https://sp-a.example.org/sp"
#define SP_B "https://sp-b.example.org/sp"
#define MD_NS "xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" " \
	"xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\""
#define REDIRECT "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
#define POST "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
#define SUCCESS "urn:oasis:names:tc:SAML:2.0:status:Success"

/* Made by the first test that needs it: the type tests must run before lasso is used. */
static struct saml_idp *idp;

static char *
key_descriptor(const char *cert_pem)
{
	char *b64 = pki_cert_base64(cert_pem), *out;

	assert_non_null(b64);
	out = xasprintf("<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data>"
	    "<ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
	    "</md:KeyDescriptor>", b64);
	free(b64);
	return out;
}

static char *
sp_metadata(const char *entity, const char *cert_pem)
{
	char *kd = key_descriptor(cert_pem), *md;

	md = xasprintf("<md:EntityDescriptor " MD_NS " entityID=\"%s\"><md:SPSSODescriptor "
	    "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">%s"
	    "<md:SingleLogoutService Binding=\"" REDIRECT "\" Location=\"%s/slo\"/>"
	    "<md:AssertionConsumerService Binding=\"" POST "\" Location=\"%s/acs\" index=\"0\" "
	    "isDefault=\"true\"/></md:SPSSODescriptor></md:EntityDescriptor>", entity, kd,
	    entity, entity);
	free(kd);
	return md;
}

static struct saml_idp *
make_idp(void)
{
	char *key, *cert, *sp_key, *sp_cert, *kd, *md, *mda, *mdb;
	struct saml_sp_def defs[2];
	struct saml_idp *i;
	const char *err;

	assert_int_equal(pki_self_signed(PKI_RSA2048, "idp", NULL, 30, &key, &cert, &err), 0);
	assert_int_equal(pki_self_signed(PKI_RSA2048, "sp", NULL, 30, &sp_key, &sp_cert, &err),
	    0);
	kd = key_descriptor(cert);
	md = xasprintf("<md:EntityDescriptor " MD_NS " entityID=\"" IDP_URL "/metadata\">"
	    "<md:IDPSSODescriptor WantAuthnRequestsSigned=\"false\" "
	    "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">%s"
	    "<md:SingleLogoutService Binding=\"" REDIRECT "\" Location=\"" IDP_URL "/slo\"/>"
	    "<md:SingleSignOnService Binding=\"" REDIRECT "\" Location=\"" IDP_URL "/sso\"/>"
	    "</md:IDPSSODescriptor></md:EntityDescriptor>", kd);
	mda = sp_metadata(SP_A, sp_cert);
	mdb = sp_metadata(SP_B, sp_cert);
	defs[0] = (struct saml_sp_def){ SP_A, mda, 0 };
	defs[1] = (struct saml_sp_def){ SP_B, mdb, 0 };
	i = saml_idp_new(md, key, cert, defs, 2, &err);
	assert_non_null(i);
	freezero_str(key);
	freezero_str(sp_key);
	free(cert);
	free(sp_cert);
	free(kd);
	free(md);
	free(mda);
	free(mdb);
	return i;
}

static void
use_idp(void)
{
	if (idp == NULL)
		idp = make_idp();
}

/* "field=..." as the HTTP-Redirect binding carries xml (no query signature: lasso is not
   asked to judge those). */
static char *
redirect_msg(const char *field, const char *xml)
{
	unsigned char out[8192];
	char *b64, *enc, *q;
	z_stream z;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)xml;
	z.avail_in = (uInt)strlen(xml);
	z.next_out = out;
	z.avail_out = sizeof(out);
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	b64 = b64_encode(out, z.total_out);
	deflateEnd(&z);
	enc = url_encode(b64);
	q = xasprintf("%s=%s", field, enc);
	free(b64);
	free(enc);
	return q;
}

/* The start tag's attributes and the Issuer every test message shares. */
static char *
header(const char *root, const char *id, const char *dest)
{
	char now[21];

	clock_iso8601(clock_now(), now);
	return xasprintf("<samlp:%s xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
	    "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"%s\" Version=\"2.0\" "
	    "IssueInstant=\"%s\" Destination=\"" IDP_URL "/%s\"", root, id, now, dest);
}

static char *
authn_request(const char *issuer)
{
	char *h = header("AuthnRequest", "_req1", "sso"), *q, *xml;

	xml = xasprintf("%s ProtocolBinding=\"" POST "\"><saml:Issuer>%s</saml:Issuer>"
	    "</samlp:AuthnRequest>", h, issuer);
	q = redirect_msg("SAMLRequest", xml);
	free(h);
	free(xml);
	return q;
}

/* in_response_to NULL: no InResponseTo attribute. */
static char *
logout_response(const char *issuer, const char *in_response_to)
{
	char *h = header("LogoutResponse", "_resp1", "slo"), *irt, *q, *xml;

	irt = in_response_to ? xasprintf(" InResponseTo=\"%s\"", in_response_to) : xstrdup("");
	xml = xasprintf("%s%s><saml:Issuer>%s</saml:Issuer><samlp:Status><samlp:StatusCode "
	    "Value=\"" SUCCESS "\"/></samlp:Status></samlp:LogoutResponse>", h, irt, issuer);
	q = redirect_msg("SAMLResponse", xml);
	free(h);
	free(irt);
	free(xml);
	return q;
}

/* lasso resolves the SP from the message; the caller says which Issuer it checked. */
static void
test_saml_login_issuer_must_match(void **state)
{
	static const char *const others[] = { SP_B, NULL, "", SP_A "/" };
	char *q = authn_request(SP_A);
	struct saml_request_info info;
	struct saml_login *login;
	enum saml_err err;
	const char *errstr;

	(void)state;
	use_idp();
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		errstr = NULL;
		assert_int_equal(saml_login_process(idp, SAML_BINDING_REDIRECT, q, 0, others[i],
		    &login, &info, &err, &errstr), -1);
		assert_null(login);
		assert_int_equal(err, SAML_ERR_REQUEST);
		assert_string_equal(errstr, "lasso read another SP than the checked Issuer");
		saml_request_info_clear(&info);
	}
	assert_int_equal(saml_login_process(idp, SAML_BINDING_REDIRECT, q, 0, SP_A, &login, &info,
	    &err, &errstr), 0);
	assert_string_equal(info.sp, SP_A);
	saml_login_free(login);
	saml_request_info_clear(&info);
	free(q);
}

static void
test_saml_slo_request_issuer_must_match(void **state)
{
	char *h = header("LogoutRequest", "_lr1", "slo"), *xml, *q, *origin;
	struct saml_answer ans;
	const char *errstr;

	(void)state;
	use_idp();
	xml = xasprintf("%s><saml:Issuer>" SP_A "</saml:Issuer><saml:NameID>alice@example.org"
	    "</saml:NameID></samlp:LogoutRequest>", h);
	q = redirect_msg("SAMLRequest", xml);
	assert_int_equal(saml_slo_request(idp, SAML_BINDING_REDIRECT, q, SP_B, NULL, &origin,
	    &ans, &errstr), -1);
	assert_string_equal(errstr, "lasso read another SP than the checked Issuer");
	assert_null(ans.url);
	/* The same message with the Issuer checked: answered (no session here to end). */
	assert_int_equal(saml_slo_request(idp, SAML_BINDING_REDIRECT, q, SP_A, NULL, &origin,
	    &ans, &errstr), 0);
	assert_non_null(ans.url);
	saml_answer_clear(&ans);
	free(q);
	free(xml);
	free(h);
}

/* A login of alice at sp, then the LogoutRequest we send it: *pending and its ID. */
static void
start_logout(const char *sp, char **pending, char **id)
{
	struct saml_subject subj = { SAML_NAMEID_EMAIL, "alice@example.org", NULL, 0,
		SAML_AC_PASSWORD, clock_now(), clock_now(), 300 };
	struct saml_request_info info;
	struct saml_answer ans, lo;
	struct saml_login *login;
	enum saml_err err;
	const char *errstr, *p;
	char *q = authn_request(sp), *xml, *b64;
	size_t len;

	assert_int_equal(saml_login_process(idp, SAML_BINDING_REDIRECT, q, 0, sp, &login, &info,
	    &err, &errstr), 0);
	assert_int_equal(saml_login_respond(idp, login, &subj, &ans, &errstr), 0);
	assert_int_equal(saml_slo_init(idp, sp, ans.sp_state, "relay", &lo, pending, &errstr), 0);
	/* What the SP receives: the query's SAMLRequest, inflated. */
	assert_non_null(p = strstr(lo.url, "SAMLRequest="));
	b64 = url_decode(p + 12, strcspn(p + 12, "&"), 0, &len);
	xml = saml_check_decode_redirect(b64, 65536, &len, &errstr);
	assert_non_null(xml);
	assert_non_null(p = strstr(xml, " ID=\""));
	*id = xstrndup(p + 5, strcspn(p + 5, "\""));
	free(xml);
	free(b64);
	free(q);
	saml_answer_clear(&lo);
	saml_answer_clear(&ans);
	saml_login_free(login);
	saml_request_info_clear(&info);
}

static int
slo_response(const char *pending, const char *issuer, const char *irt, const char *checked_issuer,
    const char *checked_irt, const char **errstr)
{
	char *q = logout_response(issuer, irt);
	int rc;

	*errstr = NULL;
	rc = saml_slo_response(idp, pending, SAML_BINDING_REDIRECT, q, checked_issuer, checked_irt,
	    errstr);
	free(q);
	return rc;
}

/* A LogoutResponse counts only as the answer to the LogoutRequest this logout sent. */
static void
test_saml_slo_response_in_response_to(void **state)
{
	const char *wrong = "does not answer the LogoutRequest sent";
	const char *errstr;
	char *pending, *id, *other_pending, *other_id;

	(void)state;
	use_idp();
	start_logout(SP_A, &pending, &id);
	start_logout(SP_A, &other_pending, &other_id);
	assert_string_not_equal(id, other_id);
	assert_int_equal(slo_response(pending, SP_A, id, SP_A, id, &errstr), 1);
	/* The answer to another logout of the same SP (the replay), no InResponseTo, junk. */
	assert_int_equal(slo_response(pending, SP_A, other_id, SP_A, other_id, &errstr), -1);
	assert_non_null(strstr(errstr, wrong));
	assert_int_equal(slo_response(pending, SP_A, NULL, SP_A, NULL, &errstr), -1);
	assert_non_null(strstr(errstr, wrong));
	assert_int_equal(slo_response(pending, SP_A, "_x", SP_A, "_x", &errstr), -1);
	assert_non_null(strstr(errstr, wrong));
	/* What lasso read and what the check read must both be the ID sent. */
	assert_int_equal(slo_response(pending, SP_A, id, SP_A, other_id, &errstr), -1);
	assert_non_null(strstr(errstr, wrong));
	assert_int_equal(slo_response(pending, SP_A, id, SP_A, NULL, &errstr), -1);
	assert_int_equal(slo_response(pending, SP_A, other_id, SP_A, id, &errstr), -1);
	/* The right ID from another SP, or checked as another SP's. */
	assert_int_equal(slo_response(pending, SP_A, id, SP_B, id, &errstr), -1);
	assert_string_equal(errstr, "lasso read another SP than the checked Issuer");
	/* The state is not used up by a refusal: the real answer still counts. */
	assert_int_equal(slo_response(pending, SP_A, id, SP_A, id, &errstr), 1);
	assert_int_equal(slo_response(other_pending, SP_A, other_id, SP_A, other_id, &errstr), 1);
	free(pending);
	free(id);
	free(other_pending);
	free(other_id);
}

static int
setup(void **state)
{
	(void)state;
	return saml_global_init() == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	saml_idp_free(idp);
	saml_global_shutdown();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_saml_types_registered),
		cmocka_unit_test(test_saml_threads_create_objects),
		cmocka_unit_test(test_saml_login_issuer_must_match),
		cmocka_unit_test(test_saml_slo_request_issuer_must_match),
		cmocka_unit_test(test_saml_slo_response_in_response_to),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
