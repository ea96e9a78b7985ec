/*
 * A tenant's settings, branding and signing keys for the sekisho command line (`tenant
 * set`, `key list`, `key rotate`, `cert ca`) and the admin API (tenant, tenant/logo,
 * signing-keys, certificates/ca): the checks on the values, the settings as they apply
 * (defaults filled in), one commit for all the settings of a change, and key rotation.
 */
#ifndef SEKISHO_ADMIN_TENANT_H
#define SEKISHO_ADMIN_TENANT_H

#include <stdint.h>

#include "admin.h"
#include "store.h"

/* A tenant's settings as they apply: unset ones show their defaults. */
struct admin_tenant {
	char *id;
	char *name;
	char *timezone;		/* IANA id of the rules' days and hours */
	char *default_effect;	/* "allow" or "deny" when no rule decides */
	uint64_t password_min_length;	/* characters */
	/* branding, NULL (logo_len 0) when unset */
	char *display_name;
	char *color;		/* "#rrggbb" */
	char *help_url;
	char *logo_type;	/* "image/png", "image/svg+xml" */
	size_t logo_len;
};

/* Tenant id's settings in t_r (clear with admin_tenant_clear): 0, or -1 after admin_fail (404). */
int admin_tenant_get(struct admin *a, const char *id, struct admin_tenant *t_r);
void admin_tenant_clear(struct admin_tenant *t);

/* A change of settings; what is not given stays. */
struct admin_tenant_set {
	const char *timezone;		/* an IANA zone, or NULL */
	const char *default_effect;	/* "allow" or "deny", or NULL */
	int pw_min_given;		/* password_min_length is to be set */
	int64_t password_min_length;	/* 1..128 */
	/* branding: NULL stays; the members whose STORE_BRAND_* bit is in clear go */
	const char *display_name;	/* 1..128 characters without control characters */
	const unsigned char *logo;	/* logo_len bytes of PNG or SVG, as app icons */
	size_t logo_len;
	const char *color;		/* "#rgb" or "#rrggbb" that white text is readable on */
	const char *help_url;		/* https: or mailto: */
	unsigned clear;
};

/*
 * Check every value of s (field "timezone", "default_effect", "password_min_length",
 * "display_name", "logo", "color", "help_url"), then change them all in one commit,
 * audited as one admin.tenant.set: 0, or -1 after admin_fail (nothing changed).  A colour
 * is stored as "#rrggbb".
 */
int admin_tenant_set(struct admin *a, const char *id, const struct admin_tenant_set *s);

/* "active", "next" or "retired": a signing key's state (enum store_key_state). */
const char *admin_key_state_name(uint64_t state);

/*
 * The signing keys of a->tenant of use ("saml", "oidc", "ca"; NULL: all three, in that
 * order) to cb (struct keyrec; never open its sealed key): 0, or -1 after admin_fail.
 */
int admin_key_list(struct admin *a, const char *use, store_each_fn cb, void *arg);

/*
 * Rotate the signing keys of use ("saml" or "oidc", field "use") of a->tenant as
 * store_key_rotate says, audited as admin.key.rotate: 0, or -1 after admin_fail.  The
 * running daemon sees the change at its next request (the tenant's generation moved).
 */
int admin_key_rotate(struct admin *a, const char *use);

/* The tenant's device CA certificate (PEM, new string): 0, or -1 after admin_fail (404). */
int admin_tenant_ca_pem(struct admin *a, char **pem_r);

#endif
