/*
 * The running IdP: start-up, per-tenant contexts (keys, SAML server, SP settings) built
 * from the store and rebuilt when the tenant's generation changes, and housekeeping.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "clock.h"
#include "device.h"
#include "idp.h"
#include "log.h"
#include "oidc.h"
#include "pki.h"
#include "saml.h"
#include "spmeta.h"
#include "xmalloc.h"

int
idp_init(struct idp *idp, struct instance *in, struct buf *err)
{
	const char *errstr;

	memset(idp, 0, sizeof(*idp));
	pthread_mutex_init(&idp->lock, NULL);
	idp->in = *in;
	memset(in, 0, sizeof(*in));
	if (idp->in.store == NULL && instance_open_store(&idp->in, err) == -1) {
		instance_close(&idp->in);
		return -1;
	}
	if ((idp->pages = pages_load(idp->in.settings.templates_dir, &errstr)) == NULL) {
		buf_printf(err, "pages: %s\n", errstr);
		instance_close(&idp->in);
		return -1;
	}
	if (idp->in.settings.device_proxy_from &&
	    ipnet_parse(idp->in.settings.device_proxy_from, &idp->proxy_from, &errstr) == -1) {
		buf_printf(err, "device_proxy_from: %s\n", errstr);
		pages_free(idp->pages);
		instance_close(&idp->in);
		return -1;
	}
	idp->pw.t_cost = (uint32_t)idp->in.settings.argon2_t_cost;
	idp->pw.m_cost = (uint32_t)(idp->in.settings.argon2_m_cost / 1024);
	idp->pw.parallelism = (uint32_t)idp->in.settings.argon2_parallelism;
	return 0;
}

static void
tenant_ctx_free(struct tenant_ctx *t)
{
	if (t == NULL)
		return;
	saml_idp_free(t->saml);
	oidc_tenant_free(t->oidc);
	device_tenant_free(t);
	for (size_t i = 0; i < t->nsps; i++) {
		free(t->sps[i].app);
		free(t->sps[i].entity_id);
		free(t->sps[i].nameid_format);
		attrmap_clear(t->sps[i].attrs, t->sps[i].nattrs);
		saml_keys_free(t->sps[i].keys);
	}
	free(t->sps);
	free(t->saml_metadata);
	free(t->id);
	free(t->base);
	free(t->path);
	explicit_bzero(t->nameid_key, sizeof(t->nameid_key));
	explicit_bzero(t->csrf_key, sizeof(t->csrf_key));
	free(t);
}

void
idp_free(struct idp *idp)
{
	struct tenant_ctx *t, *next;

	for (t = idp->tenants; t; t = next) {
		next = t->next;
		tenant_ctx_free(t);
	}
	pages_free(idp->pages);
	instance_close(&idp->in);
	pthread_mutex_destroy(&idp->lock);
}

const struct tenant_sp *
tenant_sp_find(const struct tenant_ctx *t, const char *entity_id)
{
	for (size_t i = 0; entity_id && i < t->nsps; i++)
		if (!strcmp(t->sps[i].entity_id, entity_id))
			return &t->sps[i];
	return NULL;
}

/* Collected while listing the store, then handed to lasso. */
struct build {
	struct idp *idp;
	struct tenant_ctx *t;
	struct saml_sp_def *defs;
	char **metadata;
	size_t n;
	char *key_pem;
	char *cert_pem;
	struct tmpl_vars *vars;
};

static void
add_key(const struct keyrec *k, void *arg)
{
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
		return "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
	if (fmt && !strcmp(fmt, "email"))
		return "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
	return "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
}

static void
add_app(const struct app *a, void *arg)
{
	struct build *b = arg;
	struct tenant_sp *sp;
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
	b->t->sps = xreallocarray(b->t->sps, b->n + 1, sizeof(*b->t->sps));
	b->metadata[b->n] = xstrdup(a->metadata);
	sp = &b->t->sps[b->n];
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
	b->t->nsps = b->n;
	spmeta_clear(&m);
}

static struct tenant_ctx *
tenant_build(struct idp *idp, const char *id, uint64_t gen)
{
	struct tenant_ctx *t = xcalloc(1, sizeof(*t));
	struct build b = { .idp = idp, .t = t };
	struct tenant tr;
	struct buf md;
	const char *errstr;
	char *entity = NULL;
	int ok = 0;

	if (store_tenant_get(idp->in.store, id, &tr) != 1)
		goto done;
	t->refs = 1;
	t->id = xstrdup(id);
	t->base = xasprintf("%s/t/%s", idp->in.settings.url, id);
	t->path = xasprintf("/t/%s/", id);
	t->generation = gen;
	if (tenant_derive_key(&idp->in, &tr, "saml-nameid", t->nameid_key) == -1 ||
	    tenant_derive_key(&idp->in, &tr, "csrf", t->csrf_key) == -1)
		goto done;
	b.vars = tmpl_vars_new();
	if (store_key_list(idp->in.store, id, "saml", add_key, &b) < 0 || b.key_pem == NULL) {
		log_error("tenant %s: no usable SAML signing key", id);
		goto done;
	}
	entity = xasprintf("%s/saml/metadata", t->base);
	tmpl_set(b.vars, "entity_id", entity);
	tmpl_set(b.vars, "sso_url", "");
	{
		char *sso = xasprintf("%s/saml/sso", t->base), *slo = xasprintf("%s/saml/slo", t->base);
		tmpl_set(b.vars, "sso_url", sso);
		tmpl_set(b.vars, "slo_url", slo);
		free(sso);
		free(slo);
	}
	if (page_render_text(idp->pages, "idp-metadata.xml", b.vars, &md) == -1)
		goto done;
	t->saml_metadata = buf_steal(&md, NULL);
	if (store_app_list(idp->in.store, id, add_app, &b) < 0)
		goto done;
	t->saml = saml_idp_new(t->saml_metadata, b.key_pem, b.cert_pem, b.defs, b.n, &errstr);
	if (t->saml == NULL) {
		log_error("tenant %s: %s", id, errstr);
		goto done;
	}
	if ((t->oidc = oidc_tenant_new(idp, t)) == NULL) {
		log_error("tenant %s: OIDC configuration does not load", id);
		goto done;
	}
	if (device_tenant_load(idp, t) == -1) {
		log_error("tenant %s: device policies or CA do not load", id);
		goto done;
	}
	ok = 1;
done:
	store_tenant_clear(&tr);
	for (size_t i = 0; i < b.n; i++)
		free(b.metadata[i]);
	free(b.metadata);
	free(b.defs);
	freezero_str(b.key_pem);
	free(b.cert_pem);
	free(entity);
	tmpl_vars_free(b.vars);
	if (!ok) {
		tenant_ctx_free(t);
		return NULL;
	}
	log_info("tenant %s: configuration generation %llu loaded (%zu SAML apps, %zu OIDC "
	    "clients)", id, (unsigned long long)gen, t->nsps, t->oidc->nclients);
	return t;
}

struct tenant_ctx *
idp_tenant(struct idp *idp, const char *id)
{
	struct tenant_ctx *t, **pp, *fresh;
	uint64_t gen;

	if (!store_valid_name(id, 63) || store_tenant_generation(idp->in.store, id, &gen) == -1 ||
	    gen == 0)
		return NULL;
	pthread_mutex_lock(&idp->lock);
	for (t = idp->tenants; t; t = t->next)
		if (!strcmp(t->id, id) && t->generation == gen) {
			t->refs++;
			pthread_mutex_unlock(&idp->lock);
			return t;
		}
	pthread_mutex_unlock(&idp->lock);
	/* Built outside the lock: two threads may both build; the second copy is dropped. */
	if ((fresh = tenant_build(idp, id, gen)) == NULL)
		return NULL;
	pthread_mutex_lock(&idp->lock);
	for (pp = &idp->tenants; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->id, id))
			break;
	if (*pp && (*pp)->generation >= gen) {
		t = *pp;
		t->refs++;
		pthread_mutex_unlock(&idp->lock);
		tenant_ctx_free(fresh);
		return t;
	}
	if (*pp) {	/* replace the old context; it goes when its last user lets go */
		t = *pp;
		fresh->next = t->next;
		*pp = fresh;
		if (--t->refs == 0)
			tenant_ctx_free(t);
	} else {
		fresh->next = idp->tenants;
		idp->tenants = fresh;
	}
	fresh->refs++;
	pthread_mutex_unlock(&idp->lock);
	return fresh;
}

void
idp_tenant_release(struct idp *idp, struct tenant_ctx *t)
{
	int last;

	if (t == NULL)
		return;
	pthread_mutex_lock(&idp->lock);
	last = --t->refs == 0;
	pthread_mutex_unlock(&idp->lock);
	if (last)
		tenant_ctx_free(t);
}

static void
prune_tenant(const struct tenant *t, void *arg)
{
	struct idp *idp = arg;
	int64_t before = clock_now() - idp->in.settings.audit_retention;
	int n = store_audit_prune(idp->in.store, t->id, before);

	if (n > 0)
		log_info("tenant %s: audit records before the retention period pruned", t->id);
}

void
idp_housekeeping(struct idp *idp)
{
	int n;

	store_reader_check(idp->in.store);
	n = store_expire(idp->in.store, clock_now(), idp->in.settings.session_idle_timeout);
	if (n > 0)
		log_debug("expired %d records", n);
	store_tenant_list(idp->in.store, prune_tenant, idp);
}
