/*
 * A tenant's licence (the seats of active users, the device seats of users holding an
 * active certificate, a trial's end) and its use, for `sekisho tenant add|set|show|list`,
 * the admin API's tenant (read only) and the operator API.  The store counts and refuses
 * inside its write transactions (store_licence.c); this is where values are checked.
 */
#ifndef SEKISHO_ADMIN_LICENCE_H
#define SEKISHO_ADMIN_LICENCE_H

#include <stdint.h>

#include "admin.h"
#include "store.h"

#define ADMIN_SEATS_MIN 20		/* SSO licences are sold from 20 IDs */
#define ADMIN_SEATS_MAX 1000000
#define ADMIN_DEVICE_BLOCK 10		/* the device option comes in blocks of 10 IDs */

struct admin_licence {
	uint64_t licensed;	/* 0: no limit (self-hosted, or made before licences) */
	uint64_t seats;
	uint64_t device_seats;
	uint64_t trial_until;	/* the trial's end (s since the epoch, exclusive), or 0 */
	char trial_date[11];	/* its last day, YYYY-MM-DD (UTC), or "" */
	struct store_usage use;
};

/* Tenant id's licence and use now: 0, or -1 after admin_fail (404). */
int admin_licence_get(struct admin *a, const char *id, struct admin_licence *l_r);

/* A change of licence; what is not given stays. */
struct admin_licence_set {
	int unlicensed;			/* no limit any more (nothing else may be given) */
	int seats_given;
	int64_t seats;			/* ADMIN_SEATS_MIN..ADMIN_SEATS_MAX */
	int device_given;
	int64_t device_seats;		/* a multiple of 10, at most seats; 0: no device option */
	const char *trial_until;	/* YYYY-MM-DD: the trial's last day (UTC), or NULL */
	int no_trial;			/* the trial ends: a paid licence */
	int force;			/* below the use: set anyway, nothing new allowed */
};

/*
 * Check s (fields "seats", "device_seats", "trial_until"), then set tenant id's licence in
 * one commit audited as admin.tenant.licence with the use: 0, or -1 after admin_fail
 * (ADMIN_LIMIT when it is below the use and not force, naming both).  An unlicensed
 * tenant needs seats given to become licensed.
 */
int admin_tenant_licence_set(struct admin *a, const char *id, const struct admin_licence_set *s);

/* The checks of s as for a tenant that has no licence yet (tenant add): 0, or -1. */
int admin_licence_check(struct admin *a, const struct admin_licence_set *s);

/*
 * When err (a store's *errstr) is a refusal of the licence: admin_fail with ADMIN_LIMIT,
 * the field ("seats", "device_seats", "operator") and a sentence naming the limit, and -1;
 * else 0 (nothing recorded).
 */
int admin_licence_refused(struct admin *a, const char *err);

#endif
