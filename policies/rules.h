/*
 * Access rules: who may reach which app, from where, when, and with which proof.  A rule
 * set is built once per tenant configuration generation (from the store's rules, app
 * assignments and the device-required shorthand settings), then shared read-only by every
 * request thread; evaluation reads no store and no clock (the caller passes both in).
 */
#ifndef SEKISHO_RULES_H
#define SEKISHO_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct rule_rec;

#define RULE_NEEDS_DEVICE 1u
#define RULE_NEEDS_MFA 2u
#define RULE_DENIED 4u		/* glass_skipped: a deny rule or the default deny */

#define RULE_DEFAULT_TIMEZONE "Asia/Tokyo"
#define RULE_REPORTS_MAX 8
#define RULE_ERR_MAX 256

/*
 * Check a rule as given by an administrator (effect, CIDR lists, days, hours; not the
 * names of users, groups and apps, which the store resolves).  0, or -1 with a message in
 * err that names the bad part ("--hours 25:00-18:00: hour 25 is out of range").
 */
int rule_validate(const struct rule_rec *r, char err[RULE_ERR_MAX]);
/*
 * rule_validate, then r's from, not_from and days rewritten in the form the store keeps:
 * networks "10.0.0.0/8 192.0.2.1/32" (a bare address gets /32 or /128), days "mon,...,sun"
 * in that order, each once.  0, or -1 with err (r unchanged).
 */
int rule_canonical(struct rule_rec *r, char err[RULE_ERR_MAX]);
/*
 * The canonical text of a rule's conditions and effect, as audit records and `policy
 * list` show it: "effect=deny users=alice groups=staff apps=crm from=10.0.0.0/8
 * not-from=... days=mon,tue hours=09:00-18:00 report-only" ("enroll" before report-only
 * for an mfa rule that lets a user enrol; names when the record has them, else ids;
 * empty conditions left out).
 */
void rule_format(const struct rule_rec *r, struct buf *out);

struct ruleset;

/*
 * An empty set for a tenant: timezone (NULL: RULE_DEFAULT_TIMEZONE) and what happens when
 * no rule decides (deny 1, allow 0).  NULL with *errstr when the time zone is unknown.
 */
struct ruleset *ruleset_new(const char *timezone, int default_deny, const char **errstr);
void ruleset_free(struct ruleset *rs);
/* Append a stored rule (in the store's order); its ids are what evaluation compares. */
int ruleset_add(struct ruleset *rs, const struct rule_rec *r, char err[RULE_ERR_MAX]);
/* The app with this id is assigned to the user or group (kind "user"/"group") with id. */
void ruleset_assign(struct ruleset *rs, const char *app, const char *kind, const char *target);
/*
 * A device-required shorthand setting (`policy set`): kind "tenant" (target ""), "user",
 * "group" or "app" with its id, on or off.  Together they act as one device rule named
 * "device-required", evaluated before the ordered rules, with the precedence they always
 * had: app on; else the user's own; else any group's (on wins); else the tenant's.
 */
void ruleset_shorthand(struct ruleset *rs, const char *kind, const char *target, int on);
/* 1 when some shorthand setting or some rule names a group (only then are groups read). */
int ruleset_uses_groups(const struct ruleset *rs);
/* 1 when the app with this id has assignments (only those assigned may reach it). */
int ruleset_app_assigned(const struct ruleset *rs, const char *app);

struct rule_query {
	const char *user;	/* the user's id */
	char *const *groups;	/* ids of the user's groups, NULL-terminated; NULL: none */
	const char *app;	/* the app's id; NULL: no app (a login to the portal) */
	const char *ip;		/* the client's numeric address */
	int64_t now;		/* seconds since the epoch, UTC */
	int break_glass;	/* the user is a break-glass account */
};

struct rule_report {
	const char *rule;	/* a report-only rule that matched */
	const char *effect;	/* what it would have done: "allow", "deny", "device", "mfa" */
};

struct rule_decision {
	int deny;		/* 1: refused */
	const char *rule;	/* the deciding rule; "default", or "not-assigned" */
	unsigned requires;	/* RULE_NEEDS_* still to prove */
	const char *device_rule;	/* the rule that asked for a device, or NULL */
	const char *mfa_rule;		/* the rule that asked for a second factor, or NULL */
	int mfa_enroll;		/* every mfa rule that applied lets a user with none enrol */
	struct rule_report reports[RULE_REPORTS_MAX];
	size_t nreports;	/* report-only rules that matched (at most RULE_REPORTS_MAX kept) */
	const char *glass_rule;	/* break-glass: the first rule (or "default") it passed */
	unsigned glass_skipped;	/* break-glass: what it would have required or refused */
};

/*
 * Decide for q.  The pointers in d are borrowed from rs.  A user not assigned to an app
 * that has assignments is refused ("not-assigned"); then the shorthand device rule; then
 * the rules in order: allow ends evaluation, deny refuses, device and mfa add what they
 * require and evaluation goes on; report-only rules are noted and change nothing; no
 * deciding rule: the tenant's default.  A break-glass account is refused by no deny rule
 * or default and required to prove nothing; what it passed is noted in glass_*.
 */
void ruleset_evaluate(const struct ruleset *rs, const struct rule_query *q,
    struct rule_decision *d);
/* Words for a person: each rule with whether it matched and, if not, which condition. */
void ruleset_explain(const struct ruleset *rs, const struct rule_query *q, struct buf *out);

#endif
