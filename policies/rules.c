/*
 * Rule sets and their evaluation.  Rules are indexed by the users or groups they name, so
 * a decision looks only at the rules that can match this user (plus those that name
 * neither), in their order, through a bitmap of rule positions; the local time is computed
 * once, and only when one of those rules has days or hours.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipnet.h"
#include "rules_int.h"
#include "store.h"
#include "strmap.h"
#include "tz.h"
#include "xmalloc.h"

#define SHORTHAND_NAME "device-required"
#define BITMAP_STACK_WORDS 64	/* rule sets up to 4,096 rules need no allocation */

struct idlist {
	char **v;
	size_t n;
};

struct rule {
	char *name;
	int effect;		/* enum rule_effect */
	int report_only;
	int mfa_enroll;		/* effect mfa: a user with no factor may enrol at login */
	struct idlist users, groups, apps;
	struct ipnet_list *from, *not_from;	/* NULL: no condition */
	char *from_text, *not_from_text, *days_text, *hours_text;	/* for explanations */
	unsigned days;		/* 1 << wday; 0: every day */
	int start, end;		/* minutes of the day; start -1: at any time */
};

/* Positions of rules, ascending. */
struct poslist {
	uint32_t *v;
	size_t n, cap;
};

/* The users and groups an app is assigned to. */
struct assign {
	struct strmap *users, *groups;
};

struct ruleset {
	char *zone;
	int default_deny;
	struct rule *rules;
	size_t n, cap;
	struct strmap *by_user, *by_group;	/* id -> struct poslist */
	struct poslist general;			/* rules that name neither */
	struct strmap *assigned;		/* app id -> struct assign */
	struct strmap *sh_user, *sh_group, *sh_app;	/* id -> SH_ON or SH_OFF */
	int sh_tenant;				/* -1 not set, 0 off, 1 on */
	size_t nshorthand;
	int uses_groups;
};

/* Shorthand values in the maps (NULL: not set). */
static char sh_on, sh_off;
#define SH_ON ((void *)&sh_on)
#define SH_OFF ((void *)&sh_off)

/* ---- building ---- */

struct ruleset *
ruleset_new(const char *timezone, int default_deny, const char **errstr)
{
	struct ruleset *rs;

	if (timezone == NULL)
		timezone = RULE_DEFAULT_TIMEZONE;
	if (!tz_valid(timezone)) {
		*errstr = "unknown time zone";
		return NULL;
	}
	rs = xcalloc(1, sizeof(*rs));
	rs->zone = xstrdup(timezone);
	rs->default_deny = default_deny;
	rs->by_user = strmap_new();
	rs->by_group = strmap_new();
	rs->assigned = strmap_new();
	rs->sh_user = strmap_new();
	rs->sh_group = strmap_new();
	rs->sh_app = strmap_new();
	rs->sh_tenant = -1;
	return rs;
}

static void
idlist_free(struct idlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static void
rule_free(struct rule *r)
{
	free(r->name);
	idlist_free(&r->users);
	idlist_free(&r->groups);
	idlist_free(&r->apps);
	free(r->from);
	free(r->not_from);
	free(r->from_text);
	free(r->not_from_text);
	free(r->days_text);
	free(r->hours_text);
}

static void
poslist_free(void *p)
{
	struct poslist *l = p;

	if (l)
		free(l->v);
	free(l);
}

static void
assign_free(void *p)
{
	struct assign *a = p;

	strmap_free(a->users, NULL);
	strmap_free(a->groups, NULL);
	free(a);
}

void
ruleset_free(struct ruleset *rs)
{
	if (rs == NULL)
		return;
	for (size_t i = 0; i < rs->n; i++)
		rule_free(&rs->rules[i]);
	free(rs->rules);
	strmap_free(rs->by_user, poslist_free);
	strmap_free(rs->by_group, poslist_free);
	free(rs->general.v);
	strmap_free(rs->assigned, assign_free);
	strmap_free(rs->sh_user, NULL);
	strmap_free(rs->sh_group, NULL);
	strmap_free(rs->sh_app, NULL);
	free(rs->zone);
	free(rs);
}

/* The ids of a newline-separated list (empty lines left out). */
static void
idlist_parse(const char *s, struct idlist *l)
{
	memset(l, 0, sizeof(*l));
	for (; s && *s; s += *s == '\n') {
		size_t n = strcspn(s, "\n");

		if (n > 0) {
			l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
			l->v[l->n++] = xstrndup(s, n);
		}
		s += n;
	}
}

static int
idlist_has(const struct idlist *l, const char *id)
{
	for (size_t i = 0; id && i < l->n; i++)
		if (strcmp(l->v[i], id) == 0)
			return 1;
	return 0;
}

static void
poslist_add(struct poslist *l, uint32_t pos)
{
	if (l->n > 0 && l->v[l->n - 1] == pos)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 4;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = pos;
}

/* Under each id of ids in m, the rule at pos. */
static void
index_ids(struct strmap *m, const struct idlist *ids, uint32_t pos)
{
	for (size_t i = 0; i < ids->n; i++) {
		void **slot = strmap_slot(m, ids->v[i]);

		if (*slot == NULL)
			*slot = xcalloc(1, sizeof(struct poslist));
		poslist_add(*slot, pos);
	}
}

/* A rule can only match its users (when it names any), else its groups' members. */
static void
index_rule(struct ruleset *rs, const struct rule *r, uint32_t pos)
{
	if (r->users.n)
		index_ids(rs->by_user, &r->users, pos);
	else if (r->groups.n)
		index_ids(rs->by_group, &r->groups, pos);
	else
		poslist_add(&rs->general, pos);
}

/* A network condition: its list (NULL when not given) and its text for explanations. */
static struct ipnet_list *
nets_load(const char *s, char **text_r)
{
	struct ipnet_list *l;
	const char *errstr;

	*text_r = NULL;
	if (!rule_given(s))
		return NULL;
	l = xcalloc(1, sizeof(*l));
	/* rule_validate took the same text: ipnet_parse reads what it accepts. */
	if (ipnet_parse(s, l, &errstr) == -1)
		l->n = 0;
	*text_r = xstrdup(s);
	return l;
}

static void
times_load(struct rule *r, const struct rule_rec *rec, char err[RULE_ERR_MAX])
{
	struct buf b;

	r->start = -1;
	if (rule_given(rec->days) && rule_parse_days(rec->days, &r->days, err) == 0) {
		buf_init(&b, 0);
		rule_days_text(r->days, &b);
		r->days_text = buf_steal(&b, NULL);
	}
	if (rule_given(rec->hours) && rule_parse_hours(rec->hours, &r->start, &r->end, err) == 0)
		r->hours_text = xstrdup(rec->hours);
}

int
ruleset_add(struct ruleset *rs, const struct rule_rec *rec, char err[RULE_ERR_MAX])
{
	struct rule *r;

	if (rule_validate(rec, err) == -1)
		return -1;
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? 2 * rs->cap : 16;
		rs->rules = xreallocarray(rs->rules, rs->cap, sizeof(*rs->rules));
	}
	r = &rs->rules[rs->n];
	memset(r, 0, sizeof(*r));
	r->name = xstrdup(rec->name);
	r->effect = rule_parse_effect(rec->effect);
	r->report_only = rec->report_only != 0;
	r->mfa_enroll = rec->mfa_enroll != 0;
	idlist_parse(rec->users, &r->users);
	idlist_parse(rec->groups, &r->groups);
	idlist_parse(rec->apps, &r->apps);
	r->from = nets_load(rec->from, &r->from_text);
	r->not_from = nets_load(rec->not_from, &r->not_from_text);
	times_load(r, rec, err);
	rs->uses_groups |= r->groups.n > 0;
	index_rule(rs, r, (uint32_t)rs->n);
	rs->n++;
	return 0;
}

void
ruleset_assign(struct ruleset *rs, const char *app, const char *kind, const char *target)
{
	void **slot = strmap_slot(rs->assigned, app);
	struct assign *a = *slot;
	int group = strcmp(kind, "group") == 0;

	if (a == NULL) {
		a = *slot = xcalloc(1, sizeof(*a));
		a->users = strmap_new();
		a->groups = strmap_new();
	}
	*strmap_slot(group ? a->groups : a->users, target) = SH_ON;
	rs->uses_groups |= group;
}

/* The first setting of a kind and id counts, as it always did. */
void
ruleset_shorthand(struct ruleset *rs, const char *kind, const char *target, int on)
{
	struct strmap *m = NULL;
	void **slot;

	if (strcmp(kind, "tenant") == 0) {
		if (rs->sh_tenant == -1)
			rs->sh_tenant = on != 0;
		rs->nshorthand++;
		return;
	}
	if (strcmp(kind, "user") == 0)
		m = rs->sh_user;
	else if (strcmp(kind, "group") == 0)
		m = rs->sh_group;
	else if (strcmp(kind, "app") == 0)
		m = rs->sh_app;
	if (m == NULL || target == NULL)
		return;
	if (*(slot = strmap_slot(m, target)) == NULL)
		*slot = on ? SH_ON : SH_OFF;
	rs->nshorthand++;
	rs->uses_groups |= m == rs->sh_group;
}

int
ruleset_uses_groups(const struct ruleset *rs)
{
	return rs->uses_groups;
}

int
ruleset_app_assigned(const struct ruleset *rs, const char *app)
{
	return app != NULL && strmap_get(rs->assigned, app) != NULL;
}

/* ---- evaluation ---- */

struct eval {
	const struct ruleset *rs;
	const struct rule_query *q;
	struct rule_decision *d;
	struct buf *out;	/* explanations, or NULL */
	struct tz_local lt;
	int lt_state;		/* 0 not yet computed, 1 known, -1 unknown */
};

/* -1 not set, 0 off, 1 on */
static int
sh_get(const struct strmap *m, const char *id)
{
	void *v = id ? strmap_get(m, id) : NULL;

	return v == NULL ? -1 : v == SH_ON;
}

/*
 * The shorthand device rule, with the precedence idp/device.c's device_required had: app
 * on; else the user's own setting; else any group's (on wins); else the tenant's.  Which
 * setting decided into *why_r.
 */
static int
shorthand(const struct ruleset *rs, const struct rule_query *q, const char **why_r)
{
	int v, g = -1;

	*why_r = "no setting";
	if (rs->nshorthand == 0)
		return 0;
	*why_r = "the app's setting";
	if (q->app && sh_get(rs->sh_app, q->app) == 1)
		return 1;
	*why_r = "the user's setting";
	if ((v = sh_get(rs->sh_user, q->user)) != -1)
		return v;
	*why_r = "a group's setting";
	for (char *const *p = q->groups; p && *p; p++)
		if ((v = sh_get(rs->sh_group, *p)) != -1 && g != 1)
			g = v;
	if (g != -1)
		return g;
	*why_r = rs->sh_tenant == -1 ? "no setting" : "the tenant's setting";
	return rs->sh_tenant == 1;
}

static int
is_assigned(const struct ruleset *rs, const struct rule_query *q)
{
	const struct assign *a = q->app ? strmap_get(rs->assigned, q->app) : NULL;

	if (a == NULL)
		return 1;
	if (q->user && strmap_get(a->users, q->user))
		return 1;
	for (char *const *p = q->groups; p && *p; p++)
		if (strmap_get(a->groups, *p))
			return 1;
	return 0;
}

static void
glass(struct rule_decision *d, const char *rule, unsigned what)
{
	if (d->glass_rule == NULL)
		d->glass_rule = rule;
	d->glass_skipped |= what;
}

/* A device or mfa requirement from rule; a break-glass account is spared it. */
static void
require(struct eval *e, const char *rule, unsigned what)
{
	struct rule_decision *d = e->d;

	if (e->q->break_glass) {
		glass(d, rule, what);
		return;
	}
	d->requires |= what;
	if (what == RULE_NEEDS_DEVICE && d->device_rule == NULL)
		d->device_rule = rule;
	if (what == RULE_NEEDS_MFA && d->mfa_rule == NULL)
		d->mfa_rule = rule;
}

static int
local_time(struct eval *e)
{
	if (e->lt_state == 0)
		e->lt_state = tz_local(e->rs->zone, e->q->now, &e->lt) == 0 ? 1 : -1;
	return e->lt_state == 1;
}

static int
in_hours(const struct rule *r, int m)
{
	if (r->start < r->end)
		return m >= r->start && m < r->end;
	return m >= r->start || m < r->end;
}

static int
in_groups(const struct rule *r, char *const *groups)
{
	for (char *const *p = groups; p && *p; p++)
		if (idlist_has(&r->groups, *p))
			return 1;
	return 0;
}

/* The first condition of r that does not hold for the query ("from"), or NULL. */
static const char *
mismatch(struct eval *e, const struct rule *r)
{
	const struct rule_query *q = e->q;

	if (r->users.n && !idlist_has(&r->users, q->user))
		return "users";
	if (r->groups.n && !in_groups(r, q->groups))
		return "groups";
	if (r->apps.n && !idlist_has(&r->apps, q->app))
		return "apps";
	if (r->from && !ipnet_match(r->from, q->ip))
		return "from";
	if (r->not_from && ipnet_match(r->not_from, q->ip))
		return "not-from";
	if ((r->days || r->start != -1) && !local_time(e))
		return "time";
	if (r->days && !(r->days & (1u << e->lt.wday)))
		return "days";
	if (r->start != -1 && !in_hours(r, e->lt.minute))
		return "hours";
	return NULL;
}

/* r matched: 1 when it decides. */
static int
apply(struct eval *e, const struct rule *r)
{
	struct rule_decision *d = e->d;

	if (r->report_only) {
		if (d->nreports < RULE_REPORTS_MAX) {
			d->reports[d->nreports].rule = r->name;
			d->reports[d->nreports++].effect = rule_effect_names[r->effect];
		}
		return 0;
	}
	switch (r->effect) {
	case RULE_ALLOW:
		d->rule = r->name;
		return 1;
	case RULE_DENY:
		if (e->q->break_glass) {
			glass(d, r->name, RULE_DENIED);
			return 0;
		}
		d->deny = 1;
		d->rule = r->name;
		return 1;
	default:
		require(e, r->name, r->effect == RULE_DEVICE ? RULE_NEEDS_DEVICE : RULE_NEEDS_MFA);
		/* Enrolment at login only when every mfa rule that applies allows it. */
		if (r->effect == RULE_MFA && !e->q->break_glass)
			d->mfa_enroll = (d->mfa_rule == r->name || d->mfa_enroll) && r->mfa_enroll;
		return 0;
	}
}

static void
no_rule_decided(struct eval *e)
{
	e->d->rule = "default";
	if (!e->rs->default_deny)
		return;
	if (e->q->break_glass)
		glass(e->d, "default", RULE_DENIED);
	else
		e->d->deny = 1;
}

static void
mark(uint64_t *bits, const struct poslist *l)
{
	for (size_t i = 0; l && i < l->n; i++)
		bits[l->v[i] / 64] |= 1ULL << (l->v[i] % 64);
}

/* The rules that can match q: bit pos set in bits (every rule when explaining). */
static void
candidates(const struct eval *e, uint64_t *bits, size_t words)
{
	const struct ruleset *rs = e->rs;

	if (e->out) {
		memset(bits, 0xff, words * sizeof(*bits));
		return;
	}
	memset(bits, 0, words * sizeof(*bits));
	mark(bits, &rs->general);
	if (e->q->user)
		mark(bits, strmap_get(rs->by_user, e->q->user));
	for (char *const *p = e->q->groups; p && *p; p++)
		mark(bits, strmap_get(rs->by_group, *p));
}

static void explain_rule(struct eval *e, size_t pos, const char *failed, int decided);

/* The ordered rules: 1 when one decided. */
static int
run_rules(struct eval *e)
{
	uint64_t stack[BITMAP_STACK_WORDS], *bits = stack;
	size_t words = (e->rs->n + 63) / 64;
	int decided = 0;

	if (words > BITMAP_STACK_WORDS)
		bits = xcalloc(words, sizeof(*bits));
	candidates(e, bits, words);
	for (size_t w = 0; w < words && (!decided || e->out); w++) {
		for (uint64_t m = bits[w]; m && (!decided || e->out); m &= m - 1) {
			size_t pos = w * 64 + (size_t)__builtin_ctzll(m);
			const char *failed;

			if (pos >= e->rs->n)
				break;
			failed = decided ? NULL : mismatch(e, &e->rs->rules[pos]);
			if (e->out)
				explain_rule(e, pos, failed, decided);
			if (!decided && failed == NULL)
				decided = apply(e, &e->rs->rules[pos]);
		}
	}
	if (bits != stack)
		free(bits);
	return decided;
}

static void explain_start(struct eval *e, int assigned, int device, const char *why);
static void explain_end(struct eval *e);

static void
evaluate(struct eval *e)
{
	const char *why = NULL;
	int assigned = is_assigned(e->rs, e->q), device = 0;

	memset(e->d, 0, sizeof(*e->d));
	if (assigned)
		device = shorthand(e->rs, e->q, &why);
	if (e->out)
		explain_start(e, assigned, device, why);
	if (!assigned) {
		e->d->deny = 1;
		e->d->rule = "not-assigned";
	} else {
		if (device)
			require(e, SHORTHAND_NAME, RULE_NEEDS_DEVICE);
		if (!run_rules(e))
			no_rule_decided(e);
	}
	if (e->out)
		explain_end(e);
}

void
ruleset_evaluate(const struct ruleset *rs, const struct rule_query *q,
    struct rule_decision *d)
{
	struct eval e = { rs, q, d, NULL, { 0, 0, 0 }, 0 };

	evaluate(&e);
}

/* ---- explanations ---- */

static const char *const wday_names[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"
};

static void
explain_start(struct eval *e, int assigned, int device, const char *why)
{
	const struct rule_query *q = e->q;
	struct buf *out = e->out;

	if (local_time(e))
		buf_printf(out, "local time: %s %02d:%02d in %s (UTC%+03d:%02d)\n",
		    wday_names[e->lt.wday], e->lt.minute / 60, e->lt.minute % 60, e->rs->zone,
		    e->lt.offset / 3600, abs(e->lt.offset) / 60 % 60);
	if (q->break_glass)
		buf_puts(out, "break-glass account: no deny, device or mfa rule applies to it\n");
	if (q->app == NULL)
		buf_puts(out, "app: none (a login to the portal)\n");
	else if (!ruleset_app_assigned(e->rs, q->app))
		buf_puts(out, "assignment: the app has none, every user may reach it\n");
	else
		buf_printf(out, "assignment: the user is %s\n", assigned ? "assigned to the app" :
		    "not assigned to the app: refused");
	if (assigned)
		buf_printf(out, SHORTHAND_NAME ": %s (%s)\n", device ? "a device is required" :
		    "no device required", why);
}

/* Words for the condition that failed. */
static void
explain_failed(struct eval *e, const struct rule *r, const char *failed)
{
	const struct rule_query *q = e->q;
	struct buf *out = e->out;

	buf_printf(out, "no match: %s: ", failed);
	if (!strcmp(failed, "users"))
		buf_puts(out, "the user is not one of them");
	else if (!strcmp(failed, "groups"))
		buf_puts(out, "the user is in none of them");
	else if (!strcmp(failed, "apps"))
		buf_puts(out, q->app ? "the app is not one of them" : "no app (the portal)");
	else if (!strcmp(failed, "from"))
		buf_printf(out, "%s is in none of %s", q->ip ? q->ip : "?", r->from_text);
	else if (!strcmp(failed, "not-from"))
		buf_printf(out, "%s is in %s", q->ip ? q->ip : "?", r->not_from_text);
	else if (!strcmp(failed, "days"))
		buf_printf(out, "%s is not one of %s", wday_names[e->lt.wday], r->days_text);
	else if (!strcmp(failed, "hours"))
		buf_printf(out, "%02d:%02d is outside %s", e->lt.minute / 60, e->lt.minute % 60,
		    r->hours_text);
	else
		buf_puts(out, "the local time is unknown");
}

static const char *
matched_words(const struct eval *e, const struct rule *r)
{
	if (r->report_only)
		return "noted (report-only), changes nothing";
	switch (r->effect) {
	case RULE_ALLOW:
		return "allows; evaluation ends";
	case RULE_DENY:
		return e->q->break_glass ? "would deny: skipped for the break-glass account" :
		    "denies; evaluation ends";
	case RULE_DEVICE:
		return e->q->break_glass ? "would require a device: skipped for break-glass" :
		    "requires a device; evaluation goes on";
	default:
		return e->q->break_glass ? "would require a second factor: skipped for "
		    "break-glass" : "requires a second factor; evaluation goes on";
	}
}

static void
explain_rule(struct eval *e, size_t pos, const char *failed, int decided)
{
	const struct rule *r = &e->rs->rules[pos];

	buf_printf(e->out, "rule %zu %s (%s%s): ", pos + 1, r->name,
	    rule_effect_names[r->effect], r->report_only ? ", report-only" : "");
	if (decided)
		buf_puts(e->out, "not reached");
	else if (failed)
		explain_failed(e, r, failed);
	else
		buf_printf(e->out, "matches: %s", matched_words(e, r));
	buf_putc(e->out, '\n');
}

static void
explain_end(struct eval *e)
{
	const struct rule_decision *d = e->d;

	if (e->rs->n == 0)
		buf_puts(e->out, "no rules\n");
	buf_printf(e->out, "decision: %s by %s%s", d->deny ? "deny" : "allow",
	    strcmp(d->rule, "default") ? "rule " : "", d->rule);
	if (!strcmp(d->rule, "default"))
		buf_printf(e->out, " (the tenant's default: %s)", e->rs->default_deny ? "deny" :
		    "allow");
	if (!d->deny && d->requires)
		buf_printf(e->out, ", once proven: %s%s%s",
		    d->requires & RULE_NEEDS_DEVICE ? "a device" : "",
		    d->requires == (RULE_NEEDS_DEVICE | RULE_NEEDS_MFA) ? " and " : "",
		    d->requires & RULE_NEEDS_MFA ? "a second factor" : "");
	buf_putc(e->out, '\n');
}

void
ruleset_explain(const struct ruleset *rs, const struct rule_query *q, struct buf *out)
{
	struct rule_decision d;
	struct eval e = { rs, q, &d, out, { 0, 0, 0 }, 0 };

	evaluate(&e);
}
