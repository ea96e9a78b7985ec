/*
 * The SAML 2.0 IdP on lasso: the only file that includes lasso.  Signatures are RSA-SHA256
 * (lasso's default is SHA-1); by default only the Assertion is signed, one RSA signature
 * per login.  Facts about lasso 2.8.1 that shaped this file are in LIBRARY-NOTES.md.
 */
#include "config.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lasso/lasso.h>
#include <lasso/xml/misc_text_node.h>
#include <lasso/xml/saml-2.0/saml2_assertion.h>
#include <lasso/xml/saml-2.0/saml2_attribute.h>
#include <lasso/xml/saml-2.0/saml2_attribute_statement.h>
#include <lasso/xml/saml-2.0/saml2_attribute_value.h>
#include <lasso/xml/saml-2.0/saml2_name_id.h>
#include <lasso/xml/saml-2.0/saml2_strings.h>
#include <lasso/xml/saml-2.0/saml2_subject.h>
#include <lasso/xml/saml-2.0/samlp2_authn_request.h>
#include <lasso/xml/saml-2.0/samlp2_logout_request.h>
#include <lasso/xml/saml-2.0/samlp2_name_id_policy.h>
#include <lasso/xml/saml-2.0/samlp2_response.h>
#include <lasso/xml/saml-2.0/samlp2_status.h>
#include <lasso/xml/saml-2.0/samlp2_status_code.h>
#include <lasso/xml/saml-2.0/samlp2_status_response.h>

#include "clock.h"
#include "log.h"
#include "saml.h"
#include "saml_sign.h"
#include "xmalloc.h"

struct sp_conf {
	char *entity_id;
	int sign_response;
};

struct saml_idp {
	LassoServer *server;
	char *entity_id;
	struct saml_signer *signer;	/* SSO answers are signed with it, not by lasso */
	struct sp_conf *sps;
	size_t nsps;
};

struct saml_login {
	LassoLogin *l;
	const struct sp_conf *sp;
};

static void
lasso_log_handler(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer arg)
{
	/* lasso's messages may quote protocol content: debug level only. */
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
		log_debug("%s: %s", domain ? domain : "lasso", msg);
}

/* Call one exported lasso_*_get_type function by name. */
static int
call_get_type(const char *name)
{
	void *sym = dlsym(RTLD_DEFAULT, name);
	GType (*get_type)(void);

	if (sym == NULL)
		return 0;
	memcpy(&get_type, &sym, sizeof(get_type));	/* POSIX: object to function pointer */
	return get_type() != 0;
}

/* Call the lasso_*_get_type functions among the dynamic symbols of an ELF64 image. */
static int
call_get_types(const unsigned char *map, size_t size)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)map;
	const Elf64_Shdr *sh;
	int n = 0;

	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shoff > size || eh->e_shnum > (size - eh->e_shoff) / sizeof(Elf64_Shdr))
		return 0;
	sh = (const Elf64_Shdr *)(map + eh->e_shoff);
	for (size_t i = 0; i < eh->e_shnum; i++) {
		const Elf64_Shdr *str = &sh[sh[i].sh_link < eh->e_shnum ? sh[i].sh_link : 0];
		const Elf64_Sym *sym;
		const char *names;

		if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_offset > size ||
		    sh[i].sh_size > size - sh[i].sh_offset || str->sh_offset > size ||
		    str->sh_size > size - str->sh_offset)
			continue;
		sym = (const Elf64_Sym *)(map + sh[i].sh_offset);
		names = (const char *)map + str->sh_offset;
		for (size_t j = 0; j < sh[i].sh_size / sizeof(Elf64_Sym); j++) {
			const char *name = names + sym[j].st_name;
			size_t len;

			if (ELF64_ST_TYPE(sym[j].st_info) != STT_FUNC || sym[j].st_shndx == SHN_UNDEF ||
			    sym[j].st_name >= str->sh_size)
				continue;
			len = strnlen(name, str->sh_size - sym[j].st_name);
			if (len == str->sh_size - sym[j].st_name || len < 15 ||
			    strncmp(name, "lasso_", 6) != 0 || strcmp(name + len - 9, "_get_type") != 0)
				continue;
			n += call_get_type(name);
		}
	}
	return n;
}

/*
 * lasso registers a GObject type the first time it is used, without a lock ("if (!type)
 * type = g_type_register_static(...)").  Two threads meeting a type for the first time
 * both register it; the second gets no type ("cannot register existing type 'LassoKey'")
 * and the worker crashes.  lasso_init() registers most node types, not all: register
 * every type now, while the worker has one thread, by calling each lasso_*_get_type
 * function the library exports (read from its dynamic symbol table, so a newer lasso
 * with more types is covered too).  Returns how many were called, -1 if none.
 */
static int
register_lasso_types(void)
{
	void *anchor = dlsym(RTLD_DEFAULT, "lasso_init");
	Dl_info info;
	struct stat st;
	void *map;
	int fd, n = 0;

	if (anchor == NULL || !dladdr(anchor, &info) || info.dli_fname == NULL ||
	    (fd = open(info.dli_fname, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == 0 && st.st_size > 0 &&
	    (map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) != MAP_FAILED) {
		n = call_get_types(map, (size_t)st.st_size);
		munmap(map, (size_t)st.st_size);
	}
	close(fd);
	return n > 0 ? n : -1;
}

/*
 * Set once lasso is initialised: the admin layer asks again before it reads metadata,
 * also inside the daemon (API), where a second lasso_init would re-register xmlsec's
 * I/O callbacks under threads that are using them (and leak the first ones).
 */
static int initialised;

int
saml_global_init(void)
{
	static const char *const domains[] = { "Lasso", "lasso", "libxml2", "libxmlsec" };

	if (initialised)
		return 0;
	/* LASSO_FLAG=no-verify-signature would switch off every signature check. */
	unsetenv("LASSO_FLAG");
	/*
	 * xmlsec's keys manager would load the system trust store into every LassoServer
	 * (26 ms each with a 144-certificate bundle).  SAML peers are trusted through their
	 * metadata only, never through a public CA: give it no trust anchors at all.
	 */
	setenv("SSL_CERT_FILE", "/dev/null", 1);
	setenv("SSL_CERT_DIR", "/nonexistent", 1);
	if (lasso_init() != 0)
		return -1;
	if (register_lasso_types() == -1) {
		log_error("cannot register lasso's types before the threads start");
		return -1;
	}
	lasso_set_flag("verify-signature");
	/* Keep only NameID and SessionIndex per SP in sessions: no attributes at rest. */
	lasso_set_flag("thin-sessions");
	for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++)
		g_log_set_handler(domains[i], G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL |
		    G_LOG_FLAG_RECURSION, lasso_log_handler, NULL);
	initialised = 1;
	return 0;
}

void
saml_global_shutdown(void)
{
	lasso_shutdown();
	initialised = 0;
}

static char *
gdup(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

int
saml_sp_metadata_check(const char *metadata, const char **errstr)
{
	LassoProvider *p = lasso_provider_new_from_buffer(LASSO_PROVIDER_ROLE_SP, metadata, NULL,
	    NULL);

	if (p == NULL) {
		*errstr = "SP metadata is not valid SAML 2.0 metadata with an SPSSODescriptor and "
		    "an AssertionConsumerService";
		return -1;
	}
	g_object_unref(p);
	return 0;
}

/* A signing key with its certificate, the certificate passed to lasso as a file. */
static LassoKey *
key_with_cert(const char *key_pem, const char *cert_pem)
{
	const char *tmp = getenv("TMPDIR");
	char *path = xasprintf("%s/sekisho-cert-XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
	LassoKey *k = NULL;
	int fd = mkstemp(path);

	if (fd != -1 && write(fd, cert_pem, strlen(cert_pem)) == (ssize_t)strlen(cert_pem))
		k = lasso_key_new_for_signature_from_memory(key_pem, strlen(key_pem), NULL,
		    LASSO_SIGNATURE_METHOD_RSA_SHA256, path);
	if (fd != -1) {
		close(fd);
		unlink(path);
	}
	if (k == NULL)
		log_error("cannot make the signing key with its certificate");
	free(path);
	return k;
}

struct saml_idp *
saml_idp_new(const char *metadata, const char *key_pem, const char *cert_pem,
    const struct saml_sp_def *sps, size_t nsps, const char **errstr)
{
	struct saml_idp *idp = xcalloc(1, sizeof(*idp));
	LassoKey *key, *with_cert = NULL;

	idp->server = lasso_server_new_from_buffers(metadata, key_pem, NULL, cert_pem);
	if (idp->server == NULL || (idp->signer = saml_signer_new(key_pem, cert_pem,
	    errstr)) == NULL) {
		if (idp->server == NULL)
			*errstr = "lasso cannot load the IdP metadata, key or certificate";
		saml_idp_free(idp);
		return NULL;
	}
	idp->server->signature_method = LASSO_SIGNATURE_METHOD_RSA_SHA256;
	idp->entity_id = xstrdup(idp->server->parent.ProviderID);
	/*
	 * What lasso still signs (logout messages, error responses): one parsed key for all
	 * SPs, or lasso would parse the PEM per message.  The key carries no certificate
	 * because xmlsec copies the key three times per message and, with OpenSSL 3, copying
	 * a certificate costs a third of a login.  SPs whose whole Response is signed get a
	 * key with the certificate, which lasso reads from a file (given as text, xmlsec tries
	 * it as a file name first and leaks a BIO each time).
	 */
	key = lasso_key_new_for_signature_from_memory(key_pem, strlen(key_pem), NULL,
	    LASSO_SIGNATURE_METHOD_RSA_SHA256, NULL);
	for (size_t i = 0; i < nsps && with_cert == NULL; i++)
		if (sps[i].sign_response)
			with_cert = key_with_cert(key_pem, cert_pem);
	idp->sps = xcalloc(nsps ? nsps : 1, sizeof(*idp->sps));
	for (size_t i = 0; i < nsps; i++) {
		LassoProvider *p;
		int rc = lasso_server_add_provider_from_buffer(idp->server, LASSO_PROVIDER_ROLE_SP,
		    sps[i].metadata, NULL, NULL);
		if (rc != 0 || (p = lasso_server_get_provider(idp->server, sps[i].entity_id)) == NULL) {
			log_error("SP %s: lasso cannot load its metadata (%s); it is skipped",
			    sps[i].entity_id, rc ? lasso_strerror(rc) : "entity ID mismatch");
			continue;
		}
		if (sps[i].sign_response ? with_cert != NULL : key != NULL)
			lasso_provider_set_server_signing_key(p, sps[i].sign_response ? with_cert : key);
		idp->sps[idp->nsps].entity_id = xstrdup(sps[i].entity_id);
		idp->sps[idp->nsps].sign_response = sps[i].sign_response;
		idp->nsps++;
	}
	if (key)
		g_object_unref(key);
	if (with_cert)
		g_object_unref(with_cert);
	return idp;
}

void
saml_idp_free(struct saml_idp *idp)
{
	if (idp == NULL)
		return;
	if (idp->server)
		g_object_unref(idp->server);
	saml_signer_free(idp->signer);
	for (size_t i = 0; i < idp->nsps; i++)
		free(idp->sps[i].entity_id);
	free(idp->sps);
	free(idp->entity_id);
	free(idp);
}

static const struct sp_conf *
find_sp(const struct saml_idp *idp, const char *entity_id)
{
	for (size_t i = 0; entity_id && i < idp->nsps; i++)
		if (!strcmp(idp->sps[i].entity_id, entity_id))
			return &idp->sps[i];
	return NULL;
}

int
saml_idp_has_sp(const struct saml_idp *idp, const char *entity_id)
{
	return find_sp(idp, entity_id) != NULL;
}

/*
 * HTTP-Redirect signatures were verified by the caller (saml_redirect.c) and removed from
 * the query, so lasso must not judge them; POST signatures are lasso's to check.
 */
static void
set_verify_hint(LassoProfile *p, enum saml_binding binding)
{
	lasso_profile_set_signature_verify_hint(p, binding == SAML_BINDING_REDIRECT ?
	    LASSO_PROFILE_SIGNATURE_VERIFY_HINT_IGNORE : LASSO_PROFILE_SIGNATURE_VERIFY_HINT_MAYBE);
}

#define SP_MISMATCH "lasso read another SP than the checked Issuer"

/*
 * The SP lasso resolved from a message must be the Issuer saml_check read.  If the two
 * parsers ever read different messages again, what was checked for one SP (must it sign?
 * which keys?) would be acted on for another: fail closed.
 */
static int
same_sp(const char *checked, const char *resolved)
{
	return checked && resolved && !strcmp(checked, resolved);
}

static enum saml_err
classify(int rc)
{
	switch (rc) {
	case LASSO_SERVER_ERROR_PROVIDER_NOT_FOUND:
	case LASSO_PROFILE_ERROR_UNKNOWN_PROVIDER:
		return SAML_ERR_UNKNOWN_SP;
	case LASSO_PROFILE_ERROR_INVALID_PROTOCOLPROFILE:
	case LASSO_LOGIN_ERROR_NO_DEFAULT_ENDPOINT:
		return SAML_ERR_ACS;
	case LASSO_DS_ERROR_SIGNATURE_NOT_FOUND:
	case LASSO_DS_ERROR_INVALID_SIGNATURE:
	case LASSO_DS_ERROR_SIGNATURE_VERIFICATION_FAILED:
	case LASSO_DS_ERROR_INVALID_SIGALG:
	case LASSO_LOGIN_ERROR_INVALID_SIGNATURE:
	case LASSO_LOGIN_ERROR_UNSIGNED_AUTHN_REQUEST:
	case LASSO_PROFILE_ERROR_CANNOT_VERIFY_SIGNATURE:
		return SAML_ERR_SIGNATURE;
	default:
		return SAML_ERR_REQUEST;
	}
}

void
saml_request_info_clear(struct saml_request_info *info)
{
	free(info->sp);
	free(info->request_id);
	memset(info, 0, sizeof(*info));
}

/* RequestedAuthnContext naming the MFA class, unless it asks for at most that. */
static int
wants_mfa(const LassoSamlp2RequestedAuthnContext *rac)
{
	if (rac == NULL || (rac->Comparison && !strcmp(rac->Comparison, "maximum")))
		return 0;
	for (const GList *c = rac->AuthnContextClassRef; c; c = c->next)
		if (c->data && !strcmp((const char *)c->data, SAML_AC_MFA))
			return 1;
	return 0;
}

static void
fill_info(LassoLogin *l, struct saml_request_info *info)
{
	LassoSamlp2AuthnRequest *r = LASSO_SAMLP2_AUTHN_REQUEST(l->parent.request);

	info->sp = gdup(l->parent.remote_providerID);
	info->request_id = gdup(r->parent.ID);
	info->force_authn = r->ForceAuthn;
	info->is_passive = r->IsPassive;
	info->want_mfa = wants_mfa(r->RequestedAuthnContext);
}

int
saml_login_process(struct saml_idp *idp, enum saml_binding binding, const char *msg,
    int signed_msg, const char *issuer, struct saml_login **login_r,
    struct saml_request_info *info_r, enum saml_err *err, const char **errstr)
{
	LassoLogin *l = lasso_login_new(idp->server);
	const char *why = NULL;
	int rc;

	memset(info_r, 0, sizeof(*info_r));
	*login_r = NULL;
	set_verify_hint(LASSO_PROFILE(l), binding);
	rc = lasso_login_process_authn_request_msg(l, (char *)msg);
	if (rc == 0 && binding == SAML_BINDING_POST && signed_msg &&
	    l->parent.signature_status != 0)
		rc = l->parent.signature_status;	/* present, so it must verify */
	if (rc == 0 && l->protocolProfile != LASSO_LOGIN_PROTOCOL_PROFILE_BRWS_POST)
		rc = LASSO_PROFILE_ERROR_INVALID_PROTOCOLPROFILE;	/* answers go by POST only */
	if (rc == 0 && find_sp(idp, l->parent.remote_providerID) == NULL)
		rc = LASSO_SERVER_ERROR_PROVIDER_NOT_FOUND;
	if (rc == 0 && !same_sp(issuer, l->parent.remote_providerID))
		why = SP_MISMATCH;
	if (rc != 0 || why) {
		*err = why ? SAML_ERR_REQUEST : classify(rc);
		*errstr = why ? why : lasso_strerror(rc);
		if (l->parent.remote_providerID)
			info_r->sp = xstrdup(l->parent.remote_providerID);
		g_object_unref(l);
		return -1;
	}
	fill_info(l, info_r);
	*login_r = xcalloc(1, sizeof(**login_r));
	(*login_r)->l = l;
	(*login_r)->sp = find_sp(idp, info_r->sp);
	*err = SAML_ERR_NONE;
	return 0;
}

int
saml_login_idp_initiated(struct saml_idp *idp, const char *sp, struct saml_login **login_r,
    struct saml_request_info *info_r, enum saml_err *err, const char **errstr)
{
	LassoLogin *l;
	LassoSamlp2AuthnRequest *r;
	int rc;

	memset(info_r, 0, sizeof(*info_r));
	*login_r = NULL;
	if (find_sp(idp, sp) == NULL) {
		*err = SAML_ERR_UNKNOWN_SP;
		*errstr = "unknown service provider";
		return -1;
	}
	l = lasso_login_new(idp->server);
	rc = lasso_login_init_idp_initiated_authn_request(l, sp);
	if (rc == 0) {
		r = LASSO_SAMLP2_AUTHN_REQUEST(l->parent.request);
		g_free(r->ProtocolBinding);
		r->ProtocolBinding = g_strdup(LASSO_SAML2_METADATA_BINDING_POST);
		rc = lasso_login_process_authn_request_msg(l, NULL);
	}
	if (rc != 0) {
		*err = classify(rc);
		*errstr = lasso_strerror(rc);
		g_object_unref(l);
		return -1;
	}
	fill_info(l, info_r);
	free(info_r->request_id);
	info_r->request_id = NULL;
	*login_r = xcalloc(1, sizeof(**login_r));
	(*login_r)->l = l;
	(*login_r)->sp = find_sp(idp, sp);
	*err = SAML_ERR_NONE;
	return 0;
}

void
saml_login_free(struct saml_login *login)
{
	if (login == NULL)
		return;
	g_object_unref(login->l);
	free(login);
}

void
saml_answer_clear(struct saml_answer *a)
{
	free(a->url);
	free(a->field);
	free(a->body);
	free(a->sp_state);
	memset(a, 0, sizeof(*a));
}

static void
take_message(LassoProfile *p, const char *field, struct saml_answer *ans)
{
	ans->url = gdup(p->msg_url);
	if (p->msg_body) {
		ans->field = xstrdup(field);
		ans->body = xstrdup(p->msg_body);
	}
}

static void
add_attribute(LassoSaml2Assertion *a, const struct saml_attr *attr)
{
	LassoSaml2AttributeStatement *st;
	LassoSaml2Attribute *at;

	if (a->AttributeStatement) {
		st = a->AttributeStatement->data;
	} else {
		st = LASSO_SAML2_ATTRIBUTE_STATEMENT(lasso_saml2_attribute_statement_new());
		a->AttributeStatement = g_list_append(NULL, st);
	}
	at = LASSO_SAML2_ATTRIBUTE(lasso_saml2_attribute_new());
	at->Name = g_strdup(attr->name);
	at->NameFormat = g_strdup(attr->name_format);
	at->FriendlyName = g_strdup(attr->friendly_name);
	for (size_t i = 0; i < attr->nvalues; i++) {
		LassoSaml2AttributeValue *v =
		    LASSO_SAML2_ATTRIBUTE_VALUE(lasso_saml2_attribute_value_new());
		LassoMiscTextNode *t = lasso_misc_text_node_new_with_string(attr->values[i]);
		t->text_child = TRUE;
		v->any = g_list_append(v->any, t);
		at->AttributeValue = g_list_append(at->AttributeValue, v);
	}
	st->Attribute = g_list_append(st->Attribute, at);
}

static void
set_name_id(LassoLogin *l, LassoSaml2Assertion *a, const char *format, const char *value,
    const char *idp_entity)
{
	LassoSaml2NameID *nid = LASSO_SAML2_NAME_ID(lasso_saml2_name_id_new_with_string(
	    (char *)value));

	nid->Format = g_strdup(format);
	nid->NameQualifier = g_strdup(idp_entity);
	nid->SPNameQualifier = g_strdup(l->parent.remote_providerID);
	if (a->Subject->NameID)
		g_object_unref(a->Subject->NameID);
	a->Subject->NameID = nid;
}

/*
 * saml_sign signs the assertion, not lasso: lasso keeps a node's signature context under
 * this qdata key (xml/xml.c) and exports no way to drop it.  Should a later lasso sign
 * anyway, saml_sign_response refuses the assertion rather than sign it twice.
 */
static void
unsign(LassoSaml2Assertion *a)
{
	g_object_set_qdata(G_OBJECT(a), g_quark_from_static_string("lasso_custom_element"), NULL);
	a->sign_type = LASSO_SIGNATURE_TYPE_NONE;
	a->sign_method = LASSO_SIGNATURE_METHOD_NONE;
}

/*
 * lasso's part of the answer: the ACS (Destination, Recipient) and the SP's part of the
 * session.  lasso serialises the Response as it goes; with the assertion held aside that
 * is an empty one, thrown away, instead of a second copy of the whole answer.
 */
static int
build_unsigned(LassoLogin *l)
{
	LassoSamlp2Response *resp = LASSO_SAMLP2_RESPONSE(l->parent.response);
	GList *held = resp->Assertion;
	int rc;

	lasso_profile_set_signature_hint(LASSO_PROFILE(l), LASSO_PROFILE_SIGNATURE_HINT_FORBID);
	resp->Assertion = NULL;
	rc = lasso_login_build_authn_response_msg(l);
	resp->Assertion = held;
	return rc;
}

/* The Response as lasso built it, signed by saml_sign, for the POST binding. */
static int
sign_answer(struct saml_idp *idp, struct saml_login *login, struct saml_answer *ans,
    const char **errstr)
{
	LassoProfile *p = LASSO_PROFILE(login->l);
	xmlNode *x;

	if (p->msg_url == NULL || (x = lasso_node_get_xmlNode(p->response, FALSE)) == NULL) {
		*errstr = "lasso built no response";
		return -1;
	}
	if ((ans->body = saml_sign_response(idp->signer, x, login->sp->sign_response,
	    errstr)) == NULL)
		return -1;
	ans->url = xstrdup(p->msg_url);
	ans->field = xstrdup("SAMLResponse");
	return 0;
}

int
saml_login_respond(struct saml_idp *idp, struct saml_login *login,
    const struct saml_subject *subject, struct saml_answer *ans, const char **errstr)
{
	LassoLogin *l = login->l;
	LassoSamlp2AuthnRequest *r = LASSO_SAMLP2_AUTHN_REQUEST(l->parent.request);
	LassoSaml2Assertion *a;
	LassoSession *session;
	char inst[21], nb[21], noa[21];
	int rc;

	memset(ans, 0, sizeof(*ans));
	/* Our format, AllowCreate set: avoids lasso's "federation not found" (601). */
	if (r->NameIDPolicy == NULL)
		r->NameIDPolicy = LASSO_SAMLP2_NAME_ID_POLICY(lasso_samlp2_name_id_policy_new());
	g_free(r->NameIDPolicy->Format);
	r->NameIDPolicy->Format = g_strdup(subject->nameid_format);
	r->NameIDPolicy->AllowCreate = TRUE;
	if ((rc = lasso_login_validate_request_msg(l, TRUE, TRUE)) != 0)
		goto fail;
	clock_iso8601(subject->authn_instant, inst);
	clock_iso8601(subject->now - 60, nb);
	clock_iso8601(subject->now + subject->lifetime, noa);
	if ((rc = lasso_login_build_assertion(l, subject->authn_context, inst, NULL, nb, noa)) != 0)
		goto fail;
	a = LASSO_SAML2_ASSERTION(lasso_login_get_assertion(l));
	if (a == NULL || a->Subject == NULL) {
		*errstr = "lasso built no assertion";
		if (a)
			g_object_unref(a);
		return -1;
	}
	set_name_id(l, a, subject->nameid_format, subject->nameid, idp->entity_id);
	for (size_t i = 0; i < subject->nattrs; i++)
		add_attribute(a, &subject->attrs[i]);
	unsign(a);
	g_object_unref(a);
	if ((rc = build_unsigned(l)) != 0)
		goto fail;
	if (sign_answer(idp, login, ans, errstr) == -1) {
		saml_answer_clear(ans);
		return -1;
	}
	session = lasso_profile_get_session(LASSO_PROFILE(l));
	if (session) {
		char *d = lasso_session_dump(session);
		if (d && *d)
			ans->sp_state = xstrdup(d);
		g_free(d);
	}
	return 0;
fail:
	*errstr = lasso_strerror(rc);
	return -1;
}

/* Replace the second-level status code of a built-but-not-serialised response. */
static void
set_status(LassoNode *response, const char *top, const char *sub)
{
	LassoSamlp2StatusResponse *sr = LASSO_SAMLP2_STATUS_RESPONSE(response);
	LassoSamlp2StatusCode *code;

	if (sr->Status == NULL)
		sr->Status = LASSO_SAMLP2_STATUS(lasso_samlp2_status_new());
	if (sr->Status->StatusCode == NULL)
		sr->Status->StatusCode = LASSO_SAMLP2_STATUS_CODE(lasso_samlp2_status_code_new());
	code = sr->Status->StatusCode;
	g_free(code->Value);
	code->Value = g_strdup(top);
	if (code->StatusCode) {
		g_object_unref(code->StatusCode);
		code->StatusCode = NULL;
	}
	if (sub) {
		code->StatusCode = LASSO_SAMLP2_STATUS_CODE(lasso_samlp2_status_code_new());
		code->StatusCode->Value = g_strdup(sub);
	}
	if (sr->Status->StatusMessage) {
		g_free(sr->Status->StatusMessage);
		sr->Status->StatusMessage = NULL;
	}
}

int
saml_login_deny(struct saml_login *login, int no_passive, struct saml_answer *ans,
    const char **errstr)
{
	LassoLogin *l = login->l;
	int rc;

	memset(ans, 0, sizeof(*ans));
	(void)lasso_login_validate_request_msg(l, FALSE, TRUE);
	set_status(l->parent.response, LASSO_SAML2_STATUS_CODE_RESPONDER,
	    no_passive ? LASSO_SAML2_STATUS_CODE_NO_PASSIVE : LASSO_SAML2_STATUS_CODE_REQUEST_DENIED);
	if ((rc = lasso_login_build_authn_response_msg(l)) != 0) {
		*errstr = lasso_strerror(rc);
		return -1;
	}
	take_message(LASSO_PROFILE(l), "SAMLResponse", ans);
	return ans->url ? 0 : -1;
}

/* ---- Single Logout ---- */

static int
logout_answer(LassoLogout *lo, struct saml_answer *ans, const char **errstr)
{
	int rc = lasso_logout_build_response_msg(lo);

	if (rc != 0 || lo->parent.msg_url == NULL) {
		*errstr = rc ? lasso_strerror(rc) : "no logout endpoint for the SP";
		return -1;
	}
	take_message(LASSO_PROFILE(lo), "SAMLResponse", ans);
	return 0;
}

/* An SP that sent no SessionIndex means all of its sessions for that NameID. */
static void
default_session_index(LassoLogout *lo)
{
	LassoSamlp2LogoutRequest *req = LASSO_SAMLP2_LOGOUT_REQUEST(lo->parent.request);
	GList *have = lasso_samlp2_logout_request_get_session_indexes(req), *ours;

	if (have) {
		g_list_free_full(have, g_free);
		return;
	}
	ours = lasso_session_get_session_indexes(lo->parent.session, lo->parent.remote_providerID,
	    LASSO_NODE(req->NameID));
	if (ours)
		lasso_samlp2_logout_request_set_session_indexes(req, ours);
	g_list_free_full(ours, g_free);
}

int
saml_slo_request(struct saml_idp *idp, enum saml_binding binding, const char *msg,
    const char *issuer, const char *sp_state, char **origin_state, struct saml_answer *ans,
    const char **errstr)
{
	LassoLogout *lo = lasso_logout_new(idp->server);
	int rc, ret = -1;

	memset(ans, 0, sizeof(*ans));
	*origin_state = NULL;
	set_verify_hint(LASSO_PROFILE(lo), binding);
	rc = lasso_logout_process_request_msg(lo, (char *)msg);
	if (lo->parent.remote_providerID == NULL || !find_sp(idp, lo->parent.remote_providerID)) {
		*errstr = rc ? lasso_strerror(rc) : "unknown service provider";
		goto done;
	}
	if (!same_sp(issuer, lo->parent.remote_providerID)) {
		*errstr = SP_MISMATCH;	/* whom to answer is not clear: nobody */
		goto done;
	}
	if (rc != 0) {
		/* Never validate after a failed process: lasso would log the user out. */
		*errstr = lasso_strerror(rc);
		ret = logout_answer(lo, ans, errstr) == 0 ? 0 : -1;
		goto done;
	}
	if (sp_state == NULL) {
		/* No session here for this SP: nothing to end, and nobody else's to touch. */
		(void)lasso_logout_validate_request(lo);
		set_status(lo->parent.response, LASSO_SAML2_STATUS_CODE_SUCCESS, NULL);
		ret = logout_answer(lo, ans, errstr) == 0 ? 0 : -1;
		*errstr = "no session for this SP";
		goto done;
	}
	if ((rc = lasso_profile_set_session_from_dump(LASSO_PROFILE(lo), sp_state)) != 0) {
		*errstr = lasso_strerror(rc);
		goto done;
	}
	default_session_index(lo);
	if ((rc = lasso_logout_validate_request(lo)) != 0) {
		*errstr = lasso_strerror(rc);
		ret = logout_answer(lo, ans, errstr) == 0 ? 0 : -1;
		goto done;
	}
	{
		char *d = lasso_logout_dump(lo);
		*origin_state = gdup(d);
		g_free(d);
	}
	ret = *origin_state ? 1 : -1;
done:
	g_object_unref(lo);
	return ret;
}

int
saml_slo_init(struct saml_idp *idp, const char *sp, const char *sp_state, const char *relay,
    struct saml_answer *ans, char **pending, const char **errstr)
{
	LassoLogout *lo = lasso_logout_new(idp->server);
	char *d;
	int rc, ret = -1;

	memset(ans, 0, sizeof(*ans));
	*pending = NULL;
	if ((rc = lasso_profile_set_session_from_dump(LASSO_PROFILE(lo), sp_state)) != 0 ||
	    (rc = lasso_logout_init_request(lo, (char *)sp, LASSO_HTTP_METHOD_ANY)) != 0) {
		*errstr = lasso_strerror(rc);
		goto done;
	}
	g_free(lo->parent.msg_relayState);
	lo->parent.msg_relayState = g_strdup(relay);
	if ((rc = lasso_logout_build_request_msg(lo)) != 0) {
		*errstr = lasso_strerror(rc);
		goto done;
	}
	take_message(LASSO_PROFILE(lo), "SAMLRequest", ans);
	d = lasso_logout_dump(lo);
	*pending = gdup(d);
	g_free(d);
	ret = ans->url && *pending ? 0 : -1;
done:
	g_object_unref(lo);
	return ret;
}

/* The ID of the LogoutRequest a pending logout sent (kept in lasso's dump), or NULL. */
static char *
sent_request_id(LassoLogout *lo)
{
	LassoNode *r = lo->parent.request;

	return LASSO_IS_SAMLP2_REQUEST_ABSTRACT(r) ? gdup(LASSO_SAMLP2_REQUEST_ABSTRACT(r)->ID) :
	    NULL;
}

/*
 * The LogoutResponse lasso read answers the LogoutRequest we sent, and so does the one
 * saml_check read: a signed answer to another logout must not be replayed into this one.
 */
static int
answers(LassoLogout *lo, const char *sent, const char *checked)
{
	LassoNode *r = lo->parent.response;
	const char *irt = LASSO_IS_SAMLP2_STATUS_RESPONSE(r) ?
	    LASSO_SAMLP2_STATUS_RESPONSE(r)->InResponseTo : NULL;

	return sent && irt && checked && !strcmp(irt, sent) && !strcmp(checked, sent);
}

int
saml_slo_response(struct saml_idp *idp, const char *pending, enum saml_binding binding,
    const char *msg, const char *issuer, const char *in_response_to, const char **errstr)
{
	LassoLogout *lo = lasso_logout_new_from_dump(idp->server, pending);
	char *sent;
	int rc, ret;

	if (lo == NULL) {
		*errstr = "logout state does not load";
		return -1;
	}
	sent = sent_request_id(lo);
	set_verify_hint(LASSO_PROFILE(lo), binding);
	rc = lasso_logout_process_response_msg(lo, (char *)msg);
	ret = rc == 0 ? 1 : -1;
	if (rc != 0)
		*errstr = lasso_strerror(rc);
	if (rc == LASSO_PROFILE_ERROR_REQUEST_DENIED || rc == LASSO_LOGOUT_ERROR_PARTIAL_LOGOUT ||
	    rc == LASSO_LOGOUT_ERROR_UNKNOWN_PRINCIPAL)
		ret = 0;
	if (ret != -1 && !same_sp(issuer, lo->parent.remote_providerID)) {
		*errstr = SP_MISMATCH;
		ret = -1;
	} else if (ret != -1 && !answers(lo, sent, in_response_to)) {
		*errstr = "LogoutResponse does not answer the LogoutRequest sent";
		ret = -1;
	}
	free(sent);
	g_object_unref(lo);
	return ret;
}

int
saml_slo_answer(struct saml_idp *idp, const char *origin_state, int partial,
    struct saml_answer *ans, const char **errstr)
{
	LassoLogout *lo = lasso_logout_new_from_dump(idp->server, origin_state);
	int rc;

	memset(ans, 0, sizeof(*ans));
	if (lo == NULL) {
		*errstr = "logout state does not load";
		return -1;
	}
	set_status(lo->parent.response, LASSO_SAML2_STATUS_CODE_SUCCESS,
	    partial ? LASSO_SAML2_STATUS_CODE_PARTIAL_LOGOUT : NULL);
	rc = logout_answer(lo, ans, errstr);
	g_object_unref(lo);
	return rc;
}
