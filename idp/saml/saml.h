/*
 * SAML 2.0 identity provider operations on lasso, in Sekisho's own terms: no lasso or GLib
 * type leaves saml.c.  Messages reaching these functions have passed saml_check first.
 * Protocol state that must outlive a request (a parked login, an SP's part of a session,
 * a logout in progress) is handed out as opaque strings for the store.
 */
#ifndef SEKISHO_SAML_H
#define SEKISHO_SAML_H

#include <stddef.h>
#include <stdint.h>

enum saml_binding {
	SAML_BINDING_REDIRECT,
	SAML_BINDING_POST,
};

#define SAML_NAMEID_PERSISTENT "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
#define SAML_NAMEID_TRANSIENT "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
#define SAML_NAMEID_EMAIL "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
#define SAML_AC_PASSWORD "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
/* Two factors were used (REFEDS MFA profile). */
#define SAML_AC_MFA "https://refeds.org/profile/mfa"

struct saml_idp;
struct saml_login;

/* Error classes, so callers can pick the page and the audit reason. */
enum saml_err {
	SAML_ERR_NONE,
	SAML_ERR_UNKNOWN_SP,
	SAML_ERR_SIGNATURE,	/* missing, invalid or not allowed */
	SAML_ERR_ACS,		/* endpoint not in the SP's metadata */
	SAML_ERR_REQUEST,	/* anything else wrong with the message */
	SAML_ERR_INTERNAL,
};

/* Before any thread starts: lasso_init, flags, log handlers (once; later calls do nothing). */
int saml_global_init(void);
void saml_global_shutdown(void);

struct saml_sp_def {
	const char *entity_id;
	const char *metadata;
	int sign_response;	/* sign the Response as well as the Assertion */
};

/* A tenant's IdP: our metadata, key and certificate, and its SPs.  Shared read-only. */
struct saml_idp *saml_idp_new(const char *metadata, const char *key_pem, const char *cert_pem,
    const struct saml_sp_def *sps, size_t nsps, const char **errstr);
void saml_idp_free(struct saml_idp *idp);
/* 1 when entity_id is a loaded SP. */
int saml_idp_has_sp(const struct saml_idp *idp, const char *entity_id);
/* Check SP metadata as lasso would load it; 0 or -1 with *errstr. */
int saml_sp_metadata_check(const char *metadata, const char **errstr);

struct saml_request_info {
	char *sp;		/* Issuer */
	char *request_id;	/* NULL for IdP-initiated */
	int force_authn;
	int is_passive;
	int want_mfa;		/* RequestedAuthnContext asks for SAML_AC_MFA */
};

/*
 * Process an AuthnRequest: for HTTP-Redirect the query whose signature the caller has
 * verified and removed (saml_redirect.h); for HTTP-POST the base64 SAMLRequest, where
 * signed_msg says it carried a signature, which must then verify even if the SP's
 * metadata does not ask for signed requests.  The same holds for the logout functions.
 * issuer is the Issuer saml_check read: the SP lasso resolves must be that one.
 * 0 with a login to answer; -1 with *err and *errstr.
 */
int saml_login_process(struct saml_idp *idp, enum saml_binding binding, const char *msg,
    int signed_msg, const char *issuer, struct saml_login **login_r,
    struct saml_request_info *info_r, enum saml_err *err, const char **errstr);
/* IdP-initiated: a login for sp as if it had asked, to be answered at its default ACS. */
int saml_login_idp_initiated(struct saml_idp *idp, const char *sp, struct saml_login **login_r,
    struct saml_request_info *info_r, enum saml_err *err, const char **errstr);
void saml_request_info_clear(struct saml_request_info *info);

struct saml_attr {
	const char *name;
	const char *name_format;
	const char *friendly_name;	/* may be NULL */
	const char *const *values;
	size_t nvalues;
};

struct saml_subject {
	const char *nameid_format;
	const char *nameid;
	const struct saml_attr *attrs;
	size_t nattrs;
	const char *authn_context;
	int64_t authn_instant;
	int64_t now;
	int64_t lifetime;	/* seconds the assertion is valid */
};

/* What to send to the browser: a redirect to url, or a POST of field=body to url. */
struct saml_answer {
	char *url;
	char *field;		/* "SAMLResponse" / "SAMLRequest"; NULL for a redirect */
	char *body;
	char *sp_state;		/* the SP's part of the SSO session (for logout) */
};
void saml_answer_clear(struct saml_answer *a);

/* Build the signed Response with an Assertion for subject. */
int saml_login_respond(struct saml_idp *idp, struct saml_login *login,
    const struct saml_subject *subject, struct saml_answer *ans, const char **errstr);
/* Build an error Response: RequestDenied, or NoPassive when no_passive is set. */
int saml_login_deny(struct saml_login *login, int no_passive, struct saml_answer *ans,
    const char **errstr);
void saml_login_free(struct saml_login *login);

/*
 * Single Logout.  A LogoutRequest from an SP (issuer: as saml_check read it) is checked
 * against that SP's own part of the session (sp_state; NULL when there is none).  1: it
 * names the session's principal, log out and keep *origin_state for the final answer;
 * 0: refused, *ans is the error answer to send back; -1: cannot be answered at all.
 */
int saml_slo_request(struct saml_idp *idp, enum saml_binding binding, const char *msg,
    const char *issuer, const char *sp_state, char **origin_state, struct saml_answer *ans,
    const char **errstr);
/* A LogoutRequest to sp for its part of the session; *pending keeps what the answer needs. */
int saml_slo_init(struct saml_idp *idp, const char *sp, const char *sp_state, const char *relay,
    struct saml_answer *ans, char **pending, const char **errstr);
/*
 * An SP's LogoutResponse to the LogoutRequest that pending sent; issuer and
 * in_response_to as saml_check read them.  1 success, 0 the SP reported failure, -1
 * invalid (also when it answers another request or comes from another SP).
 */
int saml_slo_response(struct saml_idp *idp, const char *pending, enum saml_binding binding,
    const char *msg, const char *issuer, const char *in_response_to, const char **errstr);
/* The LogoutResponse to the SP that started, Success or PartialLogout. */
int saml_slo_answer(struct saml_idp *idp, const char *origin_state, int partial,
    struct saml_answer *ans, const char **errstr);

#endif
