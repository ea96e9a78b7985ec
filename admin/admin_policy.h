/*
 * Access rules and the device-required settings of a tenant, shared by `sekisho policy`
 * and the admin API (policies/rules, policies/settings, policies/test): the checks, the
 * store writes with their audit records, and the simulator that tells what the rules
 * decide for one request.
 */
#ifndef SEKISHO_ADMIN_POLICY_H
#define SEKISHO_ADMIN_POLICY_H

#include "admin.h"
#include "rules.h"
#include "store.h"

/*
 * Add r (name, effect, *_names newline-separated, from and not_from space-separated, days,
 * hours, report_only, mfa_enroll; not changed) before the rule called before (NULL: at the
 * end), audited as admin.policy.add.  0, or -1 after admin_fail: the field is the API's
 * member ("effect", "from", "hours", "groups", "before" ...).
 */
int admin_policy_add(struct admin *a, const struct rule_rec *r, const char *before);
/* Replace the conditions and effect of the rule r->name (admin.policy.replace). */
int admin_policy_replace(struct admin *a, const struct rule_rec *r);
/* Remove the rule called name (admin.policy.remove). */
int admin_policy_remove(struct admin *a, const char *name);
/* Move it before the rule called before, NULL: to the end (admin.policy.move). */
int admin_policy_move(struct admin *a, const char *name, const char *before);
/* The rule called name (names filled; store_rule_clear) and its 1-based position in pos_r. */
int admin_policy_get(struct admin *a, const char *name, struct rule_rec *r, int *pos_r);
/* The 1-based position of the rule called name, 0 when there is none. */
int admin_policy_position(struct admin *a, const char *name);

/*
 * The device-required setting of the tenant (kind "tenant", name NULL) or of the user,
 * group or app called name: "on", "off", or NULL to inherit (admin.policy.set).
 */
int admin_policy_set(struct admin *a, const char *kind, const char *name, const char *value);
/* One setting of admin_policy_set_all: admin_policy_set's arguments. */
struct admin_setting {
	const char *kind, *name, *value;
};
/* Every setting in one commit, each with its audit record, or none. */
int admin_policy_set_all(struct admin *a, const struct admin_setting *set, size_t n);

/* One request for the simulator (`policy test`, POST policies/test). */
struct admin_policy_query {
	const char *user;	/* its name */
	const char *app;	/* its name, or NULL: a login to the portal */
	const char *ip;		/* numeric */
	const char *at;		/* ISO 8601 with a zone, or NULL: now */
	unsigned proven;	/* RULE_NEEDS_* the request has proven */
};

/* What the rules decide for it. */
struct admin_policy_verdict {
	struct ruleset *rs;	/* the pointers in d are borrowed from it */
	struct rule_decision d;
	unsigned missing;	/* d.requires not proven */
	char *explain;		/* each rule, whether it matched, and if not why (lines) */
};

/*
 * Build the tenant's rules as the server does and decide for q (v cleared with
 * admin_policy_verdict_free whatever the result).  0, or -1 after admin_fail ("user",
 * "app", "ip", "time").
 */
int admin_policy_test(struct admin *a, const struct admin_policy_query *q,
    struct admin_policy_verdict *v);
void admin_policy_verdict_free(struct admin_policy_verdict *v);
/* "device,mfa" for RULE_NEEDS_* bits (static string). */
const char *admin_policy_needs(unsigned needs);

#endif
