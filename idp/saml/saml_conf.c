/*
 * SAML's part of a tenant context (our signing key and metadata, the SPs from their
 * metadata, the lasso server), its signing keys, and its registration with the core: the
 * endpoints, parked requests, portal links and single logout.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "pki.h"
#include "protocol.h"
#include "spmeta.h"
#include "sso.h"
#include "xmalloc.h"

const struct saml_sp *
saml_sp_find(const struct tenant_ctx *t, const char *entity_id)
{
	for (size_t i = 0; t->saml && entity_id && i < t->saml->nsps; i++)
		if (!strcmp(t->saml->sps[i].entity_id, entity_id))
			return &t->saml->sps[i];
	return NULL;
}

/* Collected while listing the store, then handed to lasso. */
struct build {
	struct idp *idp;
	struct tenant_ctx *t;
	struct saml_tenant *s;
	struct saml_sp_def *defs;
	char **metadata;
	size_t n;
	char *key_pem;
	char *cert_pem;
	struct tmpl_vars *vars;
};

static void
add_key(const void *rec, void *arg)
{
	const struct keyrec *k = rec;
	struct build *b = arg;
	char *b64;

	if (k->state == STORE_KEY_ACTIVE && b->key_pem == NULL) {
		b->key_pem = instance_unseal_key(&b->idp->in, b->t->id, k);
		b->cert_pem = xstrdup(k->cert_pem);
	}
	/* Every published key goes into the metadata, so SPs can follow a rollover. */
	if ((b64 = pki_cert_base64(k->cert_pem)) != NULL) {
		tmpl_set(tmpl_add_item(b->vars, "certs"), "cert", b64);
		free(b64);
	}
}

static const char *
nameid_uri(const char *fmt)
{
	if (fmt && !strcmp(fmt, "transient"))
		return SAML_NAMEID_TRANSIENT;
	if (fmt && !strcmp(fmt, "email"))
		return SAML_NAMEID_EMAIL;
	return SAML_NAMEID_PERSISTENT;
}

static void
add_app(const void *rec, void *arg)
{
	const struct app *a = rec;
	struct build *b = arg;
	struct saml_sp *sp;
	struct spmeta m;
	const char *err;

	if (a->type == NULL || strcmp(a->type, "saml") || a->metadata == NULL)
		return;
	if (spmeta_parse(a->metadata, strlen(a->metadata), &m, &err) == -1) {
		log_error("tenant %s app %s: metadata: %s", b->t->id, a->name, err);
		return;
	}
	b->defs = xreallocarray(b->defs, b->n + 1, sizeof(*b->defs));
	b->metadata = xreallocarray(b->metadata, b->n + 1, sizeof(char *));
	b->s->sps = xreallocarray(b->s->sps, b->n + 1, sizeof(*b->s->sps));
	b->metadata[b->n] = xstrdup(a->metadata);
	sp = &b->s->sps[b->n];
	memset(sp, 0, sizeof(*sp));
	sp->app = xstrdup(a->name);
	sp->entity_id = xstrdup(a->entity_id);
	sp->nameid_format = xstrdup(nameid_uri(a->nameid_format));
	sp->nattrs = attrmap_for_sp(&m, sp->attrs);
	sp->keys = saml_keys_new(m.signing_certs, m.ncerts);
	sp->authn_requests_signed = m.authn_requests_signed;
	b->defs[b->n].entity_id = sp->entity_id;
	b->defs[b->n].metadata = b->metadata[b->n];
	b->defs[b->n].sign_response = a->sign_response != 0;
	b->n++;
	b->s->nsps = b->n;
	spmeta_clear(&m);
}

/* Our metadata from the template, with every published certificate. */
static int
render_metadata(struct build *b)
{
	struct tenant_ctx *t = b->t;
	char *entity = xasprintf("%s/saml/metadata", t->base);
	char *sso = xasprintf("%s/saml/sso", t->base), *slo = xasprintf("%s/saml/slo", t->base);
	struct buf md;
	int rc;

	tmpl_set(b->vars, "entity_id", entity);
	tmpl_set(b->vars, "sso_url", sso);
	tmpl_set(b->vars, "slo_url", slo);
	rc = page_render_text(b->idp->pages, "idp-metadata.xml", b->vars, &md);
	if (rc == 0)
		b->s->metadata = buf_steal(&md, NULL);
	free(entity);
	free(sso);
	free(slo);
	return rc;
}

static void
build_clear(struct build *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->metadata[i]);
	free(b->metadata);
	free(b->defs);
	freezero_str(b->key_pem);
	free(b->cert_pem);
	tmpl_vars_free(b->vars);
}

static int
tenant_load(struct idp *idp, struct tenant_ctx *t)
{
	struct build b = { .idp = idp, .t = t };
	const char *errstr;
	int rc = -1;

	t->saml = b.s = xcalloc(1, sizeof(*b.s));
	b.vars = tmpl_vars_new();
	if (store_key_list(idp->in.store, t->id, "saml", add_key, &b) < 0 || b.key_pem == NULL) {
		log_error("tenant %s: no usable SAML signing key", t->id);
		goto done;
	}
	if (render_metadata(&b) == -1 || store_app_list(idp->in.store, t->id, add_app, &b) < 0)
		goto done;
	b.s->idp = saml_idp_new(b.s->metadata, b.key_pem, b.cert_pem, b.defs, b.n, &errstr);
	if (b.s->idp == NULL) {
		log_error("tenant %s: %s", t->id, errstr);
		goto done;
	}
	rc = 0;
done:
	build_clear(&b);
	return rc;
}

static void
tenant_free(struct tenant_ctx *t)
{
	struct saml_tenant *s = t->saml;

	if (s == NULL)
		return;
	saml_idp_free(s->idp);
	for (size_t i = 0; i < s->nsps; i++) {
		free(s->sps[i].app);
		free(s->sps[i].entity_id);
		free(s->sps[i].nameid_format);
		attrmap_clear(s->sps[i].attrs, s->sps[i].nattrs);
		saml_keys_free(s->sps[i].keys);
	}
	free(s->sps);
	free(s->metadata);
	free(s);
	t->saml = NULL;
}

/* A signing key and its self-signed certificate (10 years); kid from the fingerprint. */
static int
make_key(struct instance *in, const char *tenant, uint64_t state, struct keyrec *k,
    const char **errstr)
{
	char *key_pem = NULL, *cert_pem = NULL, *cn = xasprintf("Sekisho SAML signing key, "
	    "tenant %s", tenant);
	char fp[96];
	int rc = -1;

	if (pki_self_signed(PKI_RSA2048, cn, NULL, 3650, &key_pem, &cert_pem, errstr) == -1 ||
	    pki_cert_fingerprint(cert_pem, fp) == -1)
		goto done;
	/* kid: the first 16 hex digits of the certificate fingerprint. */
	k->kid = xstrndup(fp, 23);
	for (char *p = k->kid; *p; p++)
		if (*p == ':')
			memmove(p, p + 1, strlen(p));
	k->use = xstrdup("saml");
	k->alg = xstrdup("RS256");
	k->created = (uint64_t)clock_now();
	k->state = state;
	k->cert_pem = cert_pem;
	cert_pem = NULL;
	instance_seal_key(in, tenant, k, key_pem);
	rc = 0;
done:
	freezero_str(key_pem);
	free(cert_pem);
	free(cn);
	return rc;
}

/* One key: signing at once when the tenant is created, published first on rotation. */
static int
make_keys(struct instance *in, const char *tenant, int create, struct keyrec *out, size_t max,
    const char **errstr)
{
	if (max < 1) {
		*errstr = "no room for keys";
		return -1;
	}
	return make_key(in, tenant, create ? STORE_KEY_ACTIVE : STORE_KEY_NEXT, out, errstr) ==
	    0 ? 1 : -1;
}

static char *
launch_url(const struct tenant_ctx *t, const struct tenant_app *a)
{
	return xasprintf("%ssaml/init/%s", t->path, a->name);
}

static const struct protocol_route routes[] = {
	{ "saml/metadata", sso_metadata, PROTOCOL_GET, 0, NULL },
	{ "saml/sso", sso_endpoint, PROTOCOL_GET | PROTOCOL_POST, 0, "saml.sso.reject" },
	{ "saml/slo", slo_endpoint, PROTOCOL_GET | PROTOCOL_POST, 0, "saml.slo.reject" },
	{ "saml/init/", sso_init, PROTOCOL_GET, 0, NULL },
	{ NULL, NULL, 0, 0, NULL },
};

const struct protocol saml_protocol = {
	.name = "saml",
	.global_init = saml_global_init,
	.global_shutdown = saml_global_shutdown,
	.routes = routes,
	.tenant_load = tenant_load,
	.tenant_free = tenant_free,
	.make_keys = make_keys,
	.pending_prefix = "saml-",
	.resume = sso_resume,
	.launch_url = launch_url,
	.front_logout = slo_front,
};
