/*
 * The running IdP: start-up, per-tenant contexts (keys, apps, each protocol's part, device
 * CA, access rules) built from the store and rebuilt when the tenant's generation changes, and
 * housekeeping.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access_load.h"
#include "audit.h"
#include "brand.h"
#include "clock.h"
#include "device.h"
#include "admin_report.h"
#include "idp.h"
#include "log.h"
#include "natcmp.h"
#include "protocol.h"
#include "rules.h"
#include "xmalloc.h"

int
idp_init(struct idp *idp, struct instance *in, struct buf *err)
{
	const char *errstr;

	memset(idp, 0, sizeof(*idp));
	pthread_mutex_init(&idp->lock, NULL);
	pthread_mutex_init(&idp->ca_lock, NULL);
	pthread_mutex_init(&idp->api_lock, NULL);
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
	if (idp->in.settings.trusted_proxies &&
	    ipnet_parse(idp->in.settings.trusted_proxies, &idp->trusted, &errstr) == -1) {
		buf_printf(err, "trusted_proxies: %s\n", errstr);
		pages_free(idp->pages);
		instance_close(&idp->in);
		return -1;
	}
	if (ipnet_parse(idp->in.settings.metrics_from, &idp->metrics_from, &errstr) == -1) {
		buf_printf(err, "metrics_from: %s\n", errstr);
		pages_free(idp->pages);
		instance_close(&idp->in);
		return -1;
	}
	idp->pw.t_cost = (uint32_t)idp->in.settings.argon2_t_cost;
	idp->pw.m_cost = (uint32_t)(idp->in.settings.argon2_m_cost / 1024);
	idp->pw.parallelism = (uint32_t)idp->in.settings.argon2_parallelism;
	if ((idp->catalog = catalog_load(idp->in.settings.catalog_dir, err)) == NULL) {
		idp_free(idp);
		return -1;
	}
	return 0;
}

static void
tenant_ctx_free(struct tenant_ctx *t)
{
	if (t == NULL)
		return;
	for (const struct protocol *const *p = protocols; *p; p++)
		(*p)->tenant_free(t);
	device_tenant_free(t);
	ruleset_free(t->rules);
	brand_free(t->brand);
	for (size_t i = 0; i < t->napps; i++) {
		free(t->apps[i].display_name);
		free(t->apps[i].description);
		free(t->apps[i].name);
		free(t->apps[i].id);
		free(t->apps[i].type);
		free(t->apps[i].key);
	}
	free(t->apps);
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
	catalog_free(idp->catalog);
	instance_close(&idp->in);
	pthread_mutex_destroy(&idp->lock);
	pthread_mutex_destroy(&idp->ca_lock);
	pthread_mutex_destroy(&idp->api_lock);
}

const struct tenant_app *
tenant_app_by_key(const struct tenant_ctx *t, const char *key)
{
	for (size_t i = 0; key && i < t->napps; i++)
		if (t->apps[i].key && !strcmp(t->apps[i].key, key))
			return &t->apps[i];
	return NULL;
}

const struct tenant_app *
tenant_app_by_name(const struct tenant_ctx *t, const char *name)
{
	for (size_t i = 0; name && i < t->napps; i++)
		if (!strcmp(t->apps[i].name, name))
			return &t->apps[i];
	return NULL;
}

static void
add_app(const void *rec, void *arg)
{
	const struct app *a = rec;
	struct tenant_ctx *t = arg;
	struct tenant_app *ta;

	if (a->type == NULL || protocol_find(a->type) == NULL)
		return;
	t->apps = xreallocarray(t->apps, t->napps + 1, sizeof(*t->apps));
	ta = &t->apps[t->napps++];
	ta->name = xstrdup(a->name);
	ta->id = a->id ? xstrdup(a->id) : NULL;
	ta->type = xstrdup(a->type);
	ta->key = a->entity_id ? xstrdup(a->entity_id) : NULL;
	ta->display_name = xstrdup(a->display_name && *a->display_name ? a->display_name :
	    a->name);
	ta->description = a->description && *a->description ? xstrdup(a->description) : NULL;
	ta->has_icon = a->icon_len > 0;
}

/* The portal's order: display names as people read them ("第2号" before "第10号"). */
static int
app_order(const void *a, const void *b)
{
	const struct tenant_app *x = a, *y = b;
	int d = natcmp(x->display_name, y->display_name);

	return d ? d : strcmp(x->name, y->name);
}

/* Every protocol's part, then the device CA and the access rules: 0 or -1 (logged). */
static int
tenant_load(struct idp *idp, struct tenant_ctx *t)
{
	const char *errstr;

	if (store_app_list(idp->in.store, t->id, add_app, t) < 0)
		return -1;
	if (t->napps > 1)	/* qsort(NULL, 0, ...) is undefined: a tenant without apps */
		qsort(t->apps, t->napps, sizeof(*t->apps), app_order);
	for (const struct protocol *const *p = protocols; *p; p++)
		if ((*p)->tenant_load(idp, t) == -1) {
			log_error("tenant %s: %s configuration does not load", t->id, (*p)->name);
			return -1;
		}
	if (device_tenant_load(idp, t) == -1) {
		log_error("tenant %s: device CA does not load", t->id);
		return -1;
	}
	if ((t->rules = access_load(idp->in.store, t->id, &errstr)) == NULL) {
		log_error("tenant %s: access rules do not load: %s", t->id, errstr);
		return -1;
	}
	return 0;
}

static struct tenant_ctx *
tenant_build(struct idp *idp, const char *id, uint64_t gen)
{
	struct tenant_ctx *t = xcalloc(1, sizeof(*t));
	struct tenant tr;
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
	t->brand = brand_load(&tr, t->path);
	t->suspended = tr.suspended;
	t->trial_until = tr.trial_until;
	ok = tenant_load(idp, t) == 0;
done:
	store_tenant_clear(&tr);
	if (!ok) {
		tenant_ctx_free(t);
		return NULL;
	}
	log_info("tenant %s: configuration generation %llu loaded (%zu apps)", id,
	    (unsigned long long)gen, t->napps);
	return t;
}

/*
 * Let go of the loaded context of a tenant that is gone (erased): its unsealed keys are
 * freed once the requests still using it end, not kept until the next restart.
 */
static void
tenant_forget(struct idp *idp, const char *id)
{
	struct tenant_ctx *t = NULL, **pp;

	pthread_mutex_lock(&idp->lock);
	for (pp = &idp->tenants; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->id, id)) {
			t = *pp;
			*pp = t->next;
			break;
		}
	pthread_mutex_unlock(&idp->lock);
	if (t) {
		log_info("tenant %s: gone, its configuration unloaded", id);
		idp_tenant_release(idp, t);
	}
}

struct tenant_ctx *
idp_tenant(struct idp *idp, const char *id)
{
	struct tenant_ctx *t, **pp, *fresh;
	uint64_t gen;

	if (!store_valid_name(id, 63) || store_tenant_generation(idp->in.store, id, &gen) == -1)
		return NULL;
	if (gen == 0) {
		tenant_forget(idp, id);
		return NULL;
	}
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

/*
 * Each tenant's report of the previous month once it has ended (admin_report_due); after
 * a failure (report_dir not writable ...) the next try is an hour later, not a minute.
 */
static void
reports_due(struct idp *idp, char **ids)
{
	static int64_t next_try;
	const struct settings *s = &idp->in.settings;

	if (clock_now() < next_try)
		return;
	for (char **id = ids; *id; id++) {
		struct admin a = { .in = &idp->in, .tenant = *id, .actor = "sekishod" };
		if (admin_report_due(&a, s->report_dir, s->report_lang) == -1) {
			log_error("tenant %s: monthly report: %s", *id, a.msg);
			next_try = clock_now() + 3600;
		}
	}
}

/* Forget the loaded tenants that are not among ids (the tenants that exist). */
static void
tenants_sweep(struct idp *idp, char **ids)
{
	char *gone[64];
	size_t n = 0;

	pthread_mutex_lock(&idp->lock);
	for (struct tenant_ctx *t = idp->tenants; t && n < 64; t = t->next) {
		char **id = ids;
		while (*id && strcmp(*id, t->id))
			id++;
		if (*id == NULL)
			gone[n++] = xstrdup(t->id);
	}
	pthread_mutex_unlock(&idp->lock);
	for (size_t i = 0; i < n; i++) {
		tenant_forget(idp, gone[i]);
		free(gone[i]);
	}
}

void
idp_housekeeping(struct idp *idp)
{
	int64_t before = clock_now() - idp->in.settings.audit_retention;
	char **ids;
	int n;

	store_reader_check(idp->in.store);
	n = store_expire(idp->in.store, clock_now(), idp->in.settings.session_idle_timeout);
	if (n > 0)
		log_debug("expired %d records", n);
	if (store_tenant_ids(idp->in.store, &ids) == -1)
		return;
	for (char **id = ids; *id; id++)
		if (store_audit_prune(idp->in.store, *id, before) > 0)
			log_info("tenant %s: audit records before the retention period pruned", *id);
	reports_due(idp, ids);
	tenants_sweep(idp, ids);
	store_strv_free(ids);
}

const char *
idp_tenant_closed(const struct tenant_ctx *t, int64_t now)
{
	return store_tenant_closed(t->suspended, t->trial_until, now);
}
