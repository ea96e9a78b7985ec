/*
 * SAML single sign-on endpoints: SP-initiated (HTTP-Redirect and HTTP-POST), parking a
 * request while the user logs in, IdP-initiated, and the metadata.  Every refusal gets a
 * page, an audit record and changes nothing.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "audit.h"
#include "clock.h"
#include "crypto.h"
#include "device.h"
#include "encode.h"
#include "log.h"
#include "resume.h"
#include "sso.h"
#include "xmalloc.h"

#define RELAY_STATE_MAX 80


static void
reject(struct idp *idp, struct tenant_ctx *t, struct http_req *req, int status,
    const char *msgkey, const char *event, const char *sp, const char *reason)
{
	audit_event(idp->in.store, t->id, event, "sp", sp, "ip", http_client_ip(req), "reason",
	    reason, NULL);
	page_error(idp->pages, req, status, msgkey, "hint_contact_admin");
}

void
sso_inbound_clear(struct inbound *in)
{
	saml_check_clear(&in->m);
	free(in->owned);
	in->owned = NULL;
}

/* The Redirect binding: signature verified here, lasso gets the query without it. */
static int
redirect_inbound(struct tenant_ctx *t, struct http_req *req, const char *field,
    int signed_req, struct inbound *in, const char **errstr)
{
	const struct form *q = http_query(req);
	int rc;

	/* lasso splits queries at ';' too: a query must read one way only. */
	if (strchr(http_raw_query(req), ';')) {
		*errstr = "';' in a SAML query";
		return -1;
	}
	/*
	 * In this binding only the query signature counts.  An XML signature inside (which
	 * the binding forbids, but pysaml2 sends in logout answers) passed the profile check
	 * in saml_check and is otherwise ignored.
	 */
	if ((rc = saml_redirect_verify(in->sp->keys, q, field, errstr)) == -1)
		return -1;
	if (rc == 0 && (signed_req || (!strcmp(in->m.root, "AuthnRequest") &&
	    in->sp->authn_requests_signed))) {
		*errstr = "unsigned message from an SP that must sign it";
		return -1;
	}
	/* SAML bindings 3.4.5.2: a signed message names where it is sent (as for POST). */
	if (rc == 1 && in->m.destination == NULL) {
		*errstr = "signed message without Destination";
		return -1;
	}
	in->signed_msg = rc == 1;
	in->msg = in->owned = saml_redirect_unsigned(q, field);
	return 0;
}

int
sso_inbound(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *field,
    const char *expect, const char *endpoint, int64_t now, int signed_req, struct inbound *in,
    const char **errstr)
{
	const struct settings *s = &idp->in.settings;
	int post = !strcmp(http_method(req), "POST");
	const struct form *q = http_query(req), *src = post ? http_form(req) : q;
	const char *value = form_get(src, field);
	char *xml;
	size_t len;

	memset(in, 0, sizeof(*in));
	if (value == NULL) {
		*errstr = "no SAML message";
		return -1;
	}
	in->relay_state = form_get(src, "RelayState");
	if (in->relay_state && strlen(in->relay_state) > RELAY_STATE_MAX) {
		*errstr = "RelayState longer than 80 bytes";
		return -1;
	}
	in->binding = post ? SAML_BINDING_POST : SAML_BINDING_REDIRECT;
	if (post && (form_get(q, field) || form_get(q, "Signature"))) {
		*errstr = "SAML parameters in both query and body";
		return -1;
	}
	xml = post ? saml_check_decode_post(value, (size_t)s->saml_max_message, &len, errstr) :
	    saml_check_decode_redirect(value, (size_t)s->saml_max_message, &len, errstr);
	if (xml == NULL || saml_check_message(&in->m, xml, len, expect, endpoint, now,
	    s->saml_clock_skew, errstr) == -1)
		return -1;
	if ((in->sp = saml_sp_find(t, in->m.issuer)) == NULL) {
		*errstr = "unknown_sp";
		return -1;
	}
	if (!post)
		return redirect_inbound(t, req, field, signed_req, in, errstr);
	in->msg = value;
	in->signed_msg = in->m.signed_xml;
	return 0;
}

static const char *
err_page(enum saml_err e)
{
	switch (e) {
	case SAML_ERR_UNKNOWN_SP: return "error_unknown_app";
	case SAML_ERR_ACS: return "error_saml_acs";
	case SAML_ERR_INTERNAL: return "error_server";
	default: return "error_saml_request";
	}
}

void
sso_send(struct idp *idp, struct http_req *req, const struct saml_answer *ans,
    const char *relay_state)
{
	if (ans->field)
		page_post(idp->pages, req, ans->url, ans->field, ans->body, relay_state);
	else
		http_redirect(req, ans->url);
}

static char *
persistent_id(struct tenant_ctx *t, const struct user *u, const char *sp)
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	char *msg = xasprintf("%s%c%s", u->id, 0, sp);
	size_t n = strlen(u->id) + 1 + strlen(sp);

	crypto_hmac_sha256(t->nameid_key, sizeof(t->nameid_key), msg, n, mac);
	free(msg);
	return b64url_encode(mac, sizeof(mac));
}

/* Values of user attribute src, as a list. */
static size_t
attr_values(const struct user *u, char **groups, int src, const char **vals, size_t max)
{
	size_t n = 0;

	switch (src) {
	case ATTRMAP_EMAIL:
		if (u->email)
			vals[n++] = u->email;
		break;
	case ATTRMAP_DISPLAY_NAME:
		vals[n++] = u->display_name ? u->display_name : u->name;
		break;
	case ATTRMAP_USERNAME:
		vals[n++] = u->name;
		break;
	case ATTRMAP_GROUPS:
		for (char **g = groups; g && *g && n < max; g++)
			vals[n++] = *g;
		break;
	}
	return n;
}

#define MAX_VALUES 256

/* The user's attributes under the names this SP gets; values point into u and groups. */
static size_t
fill_attrs(const struct saml_sp *sp, const struct user *u, char **groups,
    struct saml_attr attrs[ATTRMAP_MAX], const char *vals[ATTRMAP_MAX][MAX_VALUES])
{
	size_t n = 0;

	for (size_t i = 0; i < sp->nattrs; i++) {
		attrs[n].name = sp->attrs[i].name;
		attrs[n].name_format = sp->attrs[i].name_format;
		attrs[n].friendly_name = sp->attrs[i].friendly_name;
		attrs[n].values = vals[n];
		attrs[n].nvalues = attr_values(u, groups, sp->attrs[i].source, vals[n], MAX_VALUES);
		if (attrs[n].nvalues)
			n++;
	}
	return n;
}

/* The NameID value for this SP's format, or NULL (no email for an email NameID). */
static char *
make_nameid(struct tenant_ctx *t, const struct saml_sp *sp, const struct user *u)
{
	if (!strcmp(sp->nameid_format, SAML_NAMEID_PERSISTENT))
		return persistent_id(t, u, sp->entity_id);
	if (!strcmp(sp->nameid_format, SAML_NAMEID_TRANSIENT))
		return crypto_random_token(32);
	return u->email ? xstrdup(u->email) : NULL;
}

/* Record the SSO (replay, SP joins the session); only then may the answer leave. */
static int
record_sso(struct idp *idp, struct tenant_ctx *t, struct http_req *req, struct sso_session *ss,
    const struct saml_sp *sp, const struct saml_request_info *info, char *sp_state,
    int64_t now)
{
	const struct settings *set = &idp->in.settings;
	struct session_sp rec = { (char *)sp->entity_id, sp_state, (uint64_t)now };
	struct audit_entry ae;
	const char *errstr;
	int rc;

	audit_entry_make(&ae, "saml.sso", "user", ss->user.name, "sp", info->sp, "app", sp->app,
	    "ip", http_client_ip(req), "request", info->request_id, NULL);
	rc = store_session_sso(idp->in.store, t->id, ss->hash, info->request_id,
	    now + set->saml_clock_skew + set->pending_login_lifetime, &rec, now, &ae, &errstr);
	if (rc == 0)
		audit_entry_log(&ae, t->id);

	if (rc == STORE_FULL)
		reject(idp, t, req, 507, "error_storage_full", "saml.sso.fail", info->sp,
		    "storage_full");
	else if (rc < 0 && !strcmp(errstr, "replayed request"))
		reject(idp, t, req, 400, "error_saml_replay", "saml.sso.reject", info->sp, "replay");
	else if (rc < 0)
		reject(idp, t, req, 503, "error_session", "saml.sso.fail", info->sp, errstr);
	return rc < 0 ? -1 : 0;
}

/* Build and send the Response for a user with a session, and record the SSO. */
static void
respond(struct idp *idp, struct tenant_ctx *t, struct http_req *req, struct sso_session *ss,
    struct saml_login *login, const struct saml_request_info *info, const char *relay_state,
    const char *device)
{
	const struct saml_sp *sp = saml_sp_find(t, info->sp);
	struct saml_attr attrs[ATTRMAP_MAX + 1];
	const char *vals[ATTRMAP_MAX + 1][MAX_VALUES];
	struct saml_subject subj = { 0 };
	struct saml_answer ans = { 0 };
	char **groups = NULL, *nameid;
	const char *errstr;
	int64_t now = clock_now();

	if (sp == NULL) {
		reject(idp, t, req, 400, "error_unknown_app", "saml.sso.reject", info->sp, "unknown_sp");
		return;
	}
	if ((nameid = make_nameid(t, sp, &ss->user)) == NULL) {
		audit_event(idp->in.store, t->id, "saml.sso.deny", "user", ss->user.name, "sp",
		    info->sp, "reason", "no_email", NULL);
		if (saml_login_deny(login, 0, &ans, &errstr) == 0)
			sso_send(idp, req, &ans, relay_state);
		else
			page_error(idp->pages, req, 500, "error_server", NULL);
		saml_answer_clear(&ans);
		return;
	}
	store_user_groups(idp->in.store, t->id, ss->user.id, &groups);
	subj.nameid_format = sp->nameid_format;
	subj.nameid = nameid;
	subj.attrs = attrs;
	subj.nattrs = fill_attrs(sp, &ss->user, groups, attrs, vals);
	subj.authn_context = session_methods_has(ss->s.methods, "mfa") ? SAML_AC_MFA :
	    SAML_AC_PASSWORD;
	if (device && !session_methods_has(ss->s.methods, "mfa")) {
		/* A device certificate was checked in this session: say so, and which. */
		subj.authn_context = idp->in.settings.saml_device_authn_context;
	}
	if (device) {
		vals[subj.nattrs][0] = device;
		attrs[subj.nattrs] = (struct saml_attr){ .name = "deviceSerial",
			.name_format = ATTRMAP_BASIC, .values = vals[subj.nattrs],
			.nvalues = 1 };
		subj.nattrs++;
	}
	subj.authn_instant = (int64_t)ss->s.authn_instant;
	subj.now = now;
	subj.lifetime = idp->in.settings.saml_assertion_lifetime;
	if (saml_login_respond(t->saml->idp, login, &subj, &ans, &errstr) == -1) {
		log_error("tenant %s sp %s: cannot build response: %s", t->id, info->sp, errstr);
		reject(idp, t, req, 500, "error_server", "saml.sso.fail", info->sp, "build_failed");
	} else if (record_sso(idp, t, req, ss, sp, info, ans.sp_state, now) == 0) {
		sso_send(idp, req, &ans, relay_state);
	}
	saml_answer_clear(&ans);
	store_strv_free(groups);
	freezero_str(nameid);
}

/*
 * Park the request and send the user to the login form; with ss, where outcome says: the
 * device check, or the second-factor page (ACCESS_MFA) or enrolment (ACCESS_ENROL).
 */
static void
park(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *kind,
    const char *sp, const char *state, const char *relay, int force, int64_t received,
    const struct sso_session *ss, enum access_outcome outcome)
{
	struct pending p = { 0 };

	p.kind = (char *)kind;
	p.app = (char *)sp;
	p.state = (char *)state;
	p.relay_state = (char *)relay;
	p.created = (uint64_t)received;
	p.force = (uint64_t)force;
	if (ss && (outcome == ACCESS_MFA || outcome == ACCESS_ENROL))
		resume_park_mfa(idp, t, req, &p, outcome == ACCESS_ENROL);
	else
		resume_park(idp, t, req, &p, ss);
}

/* IsPassive: the user would have to do something, so answer NoPassive. */
static void
deny_passive(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    struct saml_login *login, const struct saml_request_info *info, const char *relay_state,
    const char *reason)
{
	struct saml_answer ans = { 0 };
	const char *errstr;

	audit_event(idp->in.store, t->id, "saml.sso.deny", "sp", info->sp, "reason", reason,
	    NULL);
	if (saml_login_deny(login, 1, &ans, &errstr) == 0)
		sso_send(idp, req, &ans, relay_state);
	else
		page_error(idp->pages, req, 500, "error_server", NULL);
	saml_answer_clear(&ans);
}

/* An AuthnRequest of a user with a session: the access rules decide, then the answer. */
static void
with_session(struct idp *idp, struct tenant_ctx *t, struct http_req *req, struct inbound *in,
    struct saml_login *login, struct saml_request_info *info, int64_t received,
    struct sso_session *ss)
{
	const struct saml_sp *sp = saml_sp_find(t, info->sp);
	struct access_result ar = { .outcome = ACCESS_DENY };

	switch (sp ? access_check_mfa(idp, t, req, ss, sp->app, info->want_mfa, &ar) :
	    ACCESS_ERROR) {
	case ACCESS_PASS:
		respond(idp, t, req, ss, login, info, in->relay_state, ar.serial);
		break;
	case ACCESS_DEVICE:
	case ACCESS_MFA:
	case ACCESS_ENROL:
		if (info->is_passive)
			deny_passive(idp, t, req, login, info, in->relay_state,
			    ar.outcome == ACCESS_DEVICE ? "device_required" : "mfa_required");
		else
			park(idp, t, req, in->binding == SAML_BINDING_POST ? "saml-post" :
			    "saml-redirect", info->sp, in->msg, in->relay_state, info->force_authn,
			    received, ss, ar.outcome);
		break;
	case ACCESS_DENY:
	case ACCESS_NO_MFA:
		access_refuse_page(idp, req, &ar);
		break;
	default:
		page_error(idp->pages, req, 503, "error_server", NULL);
	}
}

/* Process a checked AuthnRequest (fresh, or resumed after login). */
static void
handle_authn(struct idp *idp, struct tenant_ctx *t, struct http_req *req, struct inbound *in,
    int64_t received)
{
	struct saml_login *login = NULL;
	struct saml_request_info info = { 0 };
	struct sso_session ss;
	enum saml_err err;
	const char *errstr;
	int have;

	if (saml_login_process(t->saml->idp, in->binding, in->msg, in->signed_msg, in->m.issuer,
	    &login, &info, &err, &errstr) == -1) {
		reject(idp, t, req, 400, err_page(err), "saml.sso.reject", in->m.issuer, errstr);
		saml_request_info_clear(&info);
		return;
	}
	if (store_replay_seen(idp->in.store, t->id, "saml", info.request_id) != 0) {
		reject(idp, t, req, 400, "error_saml_replay", "saml.sso.reject", info.sp, "replay");
		goto done;
	}
	have = session_current(idp, t, req, &ss);
	if (have == 1 && info.force_authn && (int64_t)ss.s.authn_instant < received) {
		session_clear(&ss);	/* the SP wants a fresh login */
		have = 0;
	}
	if (have == 1) {
		with_session(idp, t, req, in, login, &info, received, &ss);
		session_clear(&ss);
	} else if (have < 0) {
		page_error(idp->pages, req, 503, "error_server", NULL);
	} else if (info.is_passive) {
		deny_passive(idp, t, req, login, &info, in->relay_state, "no_passive");
	} else {
		/* No session (or it ended on the way back from the form): log in first. */
		park(idp, t, req, in->binding == SAML_BINDING_POST ? "saml-post" : "saml-redirect",
		    info.sp, in->msg, in->relay_state, info.force_authn, received, NULL,
		    ACCESS_PASS);
	}
done:
	saml_login_free(login);
	saml_request_info_clear(&info);
}

void
sso_endpoint(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	struct inbound in;
	const char *errstr;
	char *endpoint = xasprintf("%s/saml/sso", t->base);
	int64_t now = clock_now();

	if (sso_inbound(idp, t, req, "SAMLRequest", "AuthnRequest", endpoint, now, 0, &in,
	    &errstr) == -1)
		reject(idp, t, req, 400, strcmp(errstr, "unknown_sp") ? "error_saml_request" :
		    "error_unknown_app", "saml.sso.reject", in.m.issuer, errstr);
	else
		handle_authn(idp, t, req, &in, now);
	sso_inbound_clear(&in);
	free(endpoint);
}

/* IdP-initiated SSO for the SP entity, for a user who may still have to log in. */
static void
init_continue(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *entity,
    const char *relay)
{
	struct saml_login *login = NULL;
	struct saml_request_info info = { 0 };
	struct sso_session ss;
	struct access_result ar;
	const struct saml_sp *sp;
	enum saml_err err;
	const char *errstr;
	int have = session_current(idp, t, req, &ss);

	if (have < 0) {
		page_error(idp->pages, req, 503, "error_server", NULL);
		return;
	}
	if (have == 0) {
		park(idp, t, req, "saml-init", entity, "", relay, 0, clock_now(), NULL, ACCESS_PASS);
		return;
	}
	sp = saml_sp_find(t, entity);
	switch (sp ? access_check(idp, t, req, &ss, sp->app, "sso", &ar) : ACCESS_ERROR) {
	case ACCESS_PASS:
		if (saml_login_idp_initiated(t->saml->idp, entity, &login, &info, &err,
		    &errstr) == -1)
			reject(idp, t, req, 400, err_page(err), "saml.sso.reject", entity, errstr);
		else
			respond(idp, t, req, &ss, login, &info, relay, ar.serial);
		break;
	case ACCESS_DEVICE:
	case ACCESS_MFA:
	case ACCESS_ENROL:
		park(idp, t, req, "saml-init", entity, "", relay, 0, clock_now(), &ss, ar.outcome);
		break;
	case ACCESS_DENY:
	case ACCESS_NO_MFA:
		access_refuse_page(idp, req, &ar);
		break;
	default:
		page_error(idp->pages, req, 503, "error_server", NULL);
	}
	saml_login_free(login);
	saml_request_info_clear(&info);
	session_clear(&ss);
}

void
sso_init(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	const char *relay = form_get(http_query(req), "RelayState");
	const char *app = strrchr(http_path(req), '/') + 1;
	const struct saml_sp *sp = NULL;

	for (size_t i = 0; i < t->saml->nsps && sp == NULL; i++)
		if (!strcmp(t->saml->sps[i].app, app))
			sp = &t->saml->sps[i];
	if (sp == NULL) {
		page_error(idp->pages, req, 404, "error_unknown_app", NULL);
		return;
	}
	if (relay && strlen(relay) > RELAY_STATE_MAX) {
		reject(idp, t, req, 400, "error_bad_request", "saml.sso.reject", sp->entity_id,
		    "RelayState longer than 80 bytes");
		return;
	}
	init_continue(idp, t, req, sp->entity_id, relay);
}

void
sso_metadata(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	http_add_header(req, "Cache-Control", "public, max-age=3600");
	http_body_copy(req, "application/samlmetadata+xml", t->saml->metadata,
	    strlen(t->saml->metadata));
}

/*
 * A parked AuthnRequest, as stored on arrival: the base64 message (POST, whose signature
 * lasso checks again) or the query already verified and stripped of its signature.
 */
static void
resume_parked(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct pending *p)
{
	const struct settings *s = &idp->in.settings;
	struct inbound in = { 0 };
	const char *errstr = "parked request invalid";
	char *endpoint = xasprintf("%s/saml/sso", t->base), *xml = NULL;
	int post = !strcmp(p->kind, "saml-post");
	struct form q = { 0 };
	size_t len;

	in.binding = post ? SAML_BINDING_POST : SAML_BINDING_REDIRECT;
	in.msg = p->state;
	in.relay_state = p->relay_state;
	if (post)
		xml = saml_check_decode_post(p->state, (size_t)s->saml_max_message, &len, &errstr);
	else if (form_parse(&q, p->state, strlen(p->state), &errstr) == 0 &&
	    form_get(&q, "SAMLRequest"))
		xml = saml_check_decode_redirect(form_get(&q, "SAMLRequest"),
		    (size_t)s->saml_max_message, &len, &errstr);
	form_free(&q);
	if (xml == NULL || saml_check_message(&in.m, xml, len, "AuthnRequest", endpoint,
	    (int64_t)p->created, s->saml_clock_skew, &errstr) == -1 ||
	    (in.sp = saml_sp_find(t, in.m.issuer)) == NULL) {
		reject(idp, t, req, 400, "error_saml_request", "saml.sso.reject", p->app,
		    "parked request invalid");
	} else {
		in.signed_msg = in.m.signed_xml;
		handle_authn(idp, t, req, &in, (int64_t)p->created);
	}
	sso_inbound_clear(&in);
	free(endpoint);
}

/* After the login form: answer the parked request. */
void
sso_resume(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const struct pending *p)
{
	if (!strcmp(p->kind, "saml-init"))
		init_continue(idp, t, req, p->app, p->relay_state);
	else
		resume_parked(idp, t, req, p);
}
