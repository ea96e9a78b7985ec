/*
 * policybench: access-rule decisions in process (policies/rules.c), built by bench/run
 * against a build directory's libraries as certbench is.  Never a test: it prints figures,
 * one "key=value" line.
 *
 *   policybench [DECISIONS [SEED]]
 *	A tenant of 100,000 users in 1,000 groups (each user in 1 to 3), 50 apps (10 of them
 *	assigned to groups), device-required shorthand settings, and 1,000 rules: mostly
 *	group-scoped allow/deny/device/mfa, some naming users, some naming neither (app or
 *	network rules for everyone), some with from/not-from lists, days or hours, a few
 *	report-only.  Then DECISIONS (default 200,000) decisions for random users, apps,
 *	addresses and instants of a week, each timed alone: p50, p99, mean and decisions/s.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "rules.h"
#include "store.h"

#define NUSERS 100000
#define NGROUPS 1000
#define NAPPS 50
#define NRULES 1000
#define WEEK_START 1717340400LL		/* a Monday 00:00 in Asia/Tokyo */

static char group_ids[NGROUPS][8], app_ids[NAPPS][8];
static char *user_groups[NUSERS][4];	/* NULL-terminated */
static uint64_t rng_state;

static uint32_t
rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

static double
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void
make_directory(void)
{
	for (int i = 0; i < NGROUPS; i++)
		snprintf(group_ids[i], sizeof(group_ids[i]), "g%04d", i);
	for (int i = 0; i < NAPPS; i++)
		snprintf(app_ids[i], sizeof(app_ids[i]), "a%02d", i);
	for (int u = 0; u < NUSERS; u++) {
		int n = 1 + (int)rnd(3), k = 0;

		while (k < n) {
			char *g = group_ids[rnd(NGROUPS)];
			int dup = 0;

			for (int j = 0; j < k; j++)
				dup |= user_groups[u][j] == g;
			if (!dup)
				user_groups[u][k++] = g;
		}
	}
}

/* count distinct picks from ids (stride bytes apart) into b, newline-separated. */
static void
pick_ids(struct buf *b, const char *ids, size_t stride, uint32_t nids, int count)
{
	for (int i = 0; i < count; i++)
		buf_printf(b, "%s%s", i ? "\n" : "", ids + stride * rnd(nids));
}

static char *
pick_users(int count)
{
	struct buf b;

	buf_init(&b, 0);
	for (int i = 0; i < count; i++)
		buf_printf(&b, "%su%06u", i ? "\n" : "", rnd(NUSERS));
	return buf_steal(&b, NULL);
}

/* Office networks, whole or one site of them, and a partner's. */
static char *
pick_nets(int count)
{
	struct buf b;

	buf_init(&b, 0);
	for (int i = 0; i < count; i++) {
		const char *sep = i ? " " : "";

		switch (rnd(6)) {
		case 0:
			buf_printf(&b, "%s10.0.0.0/8", sep);
			break;
		case 1:
			buf_printf(&b, "%s10.%u.0.0/16", sep, rnd(256));
			break;
		case 2:
			buf_printf(&b, "%s192.168.0.0/16", sep);
			break;
		case 3:
			buf_printf(&b, "%s192.168.%u.0/24", sep, rnd(256));
			break;
		case 4:
			buf_printf(&b, "%s2001:db8:%x::/48", sep, rnd(65536));
			break;
		default:
			buf_printf(&b, "%s203.0.113.0/24", sep);
		}
	}
	return buf_steal(&b, NULL);
}

/* Rules for everyone are mostly about one app: mfa or a device for it, or a deny. */
static const char *
pick_effect(int everyone)
{
	uint32_t e = rnd(100);

	if (everyone)
		return e < 10 ? "allow" : e < 40 ? "deny" : e < 60 ? "device" : "mfa";
	return e < 35 ? "allow" : e < 45 ? "deny" : e < 70 ? "device" : "mfa";
}

/* Who a rule names: 85% groups, 5% users, 10% neither (then always some apps).  1 when
 * it names neither. */
static int
pick_subjects(struct rule_rec *r)
{
	uint32_t kind = rnd(100);
	struct buf b;

	buf_init(&b, 0);
	if (kind < 85) {
		pick_ids(&b, group_ids[0], sizeof(group_ids[0]), NGROUPS, 1 + (int)rnd(3));
		r->groups = buf_steal(&b, NULL);
	} else if (kind < 90) {
		r->users = pick_users(1 + (int)rnd(10));
	}
	if (kind >= 90 || rnd(100) < 40) {
		pick_ids(&b, app_ids[0], sizeof(app_ids[0]), NAPPS, 1 + (int)rnd(3));
		r->apps = buf_steal(&b, NULL);
	}
	buf_free(&b);
	return kind >= 90;
}

static void
make_rule(struct rule_rec *r, int i)
{
	char name[16];

	memset(r, 0, sizeof(*r));
	snprintf(name, sizeof(name), "rule%04d", i);
	r->name = strdup(name);
	r->effect = strdup(pick_effect(pick_subjects(r)));
	if (rnd(100) < 15)
		r->from = pick_nets(1 + (int)rnd(4));
	/* A deny for everyone is about where they come from. */
	if (rnd(100) < 15 || (r->apps && !r->groups && !r->users && !strcmp(r->effect, "deny")))
		r->not_from = pick_nets(1 + (int)rnd(4));
	if (rnd(100) < 10)
		r->days = strdup(rnd(2) ? "mon,tue,wed,thu,fri" : "sat,sun");
	if (rnd(100) < 10)
		r->hours = strdup(rnd(2) ? "09:00-18:00" : "22:00-06:00");
	r->report_only = rnd(100) < 3;
}

static void
free_rule(struct rule_rec *r)
{
	char *fields[] = { r->name, r->effect, r->users, r->groups, r->apps, r->from,
	    r->not_from, r->days, r->hours };

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		free(fields[i]);
}

static void
add_settings(struct ruleset *rs)
{
	char user[16];

	for (int a = 0; a < 10; a++)
		for (int k = 5 + (int)rnd(16); k > 0; k--)
			ruleset_assign(rs, app_ids[a], "group", group_ids[rnd(NGROUPS)]);
	ruleset_shorthand(rs, "tenant", "", 0);
	for (int i = 0; i < 20; i++)
		ruleset_shorthand(rs, "group", group_ids[rnd(NGROUPS)], 1);
	ruleset_shorthand(rs, "app", app_ids[11], 1);
	ruleset_shorthand(rs, "app", app_ids[12], 1);
	for (int i = 0; i < 50; i++) {
		snprintf(user, sizeof(user), "u%06u", rnd(NUSERS));
		ruleset_shorthand(rs, "user", user, 0);
	}
}

static struct ruleset *
make_ruleset(void)
{
	const char *errstr = NULL;
	char err[RULE_ERR_MAX];
	struct ruleset *rs = ruleset_new("Asia/Tokyo", 0, &errstr);

	if (rs == NULL) {
		fprintf(stderr, "policybench: %s\n", errstr);
		exit(1);
	}
	for (int i = 0; i < NRULES; i++) {
		struct rule_rec r;

		make_rule(&r, i);
		if (ruleset_add(rs, &r, err) == -1) {
			fprintf(stderr, "policybench: %s\n", err);
			exit(1);
		}
		free_rule(&r);
	}
	add_settings(rs);
	return rs;
}

struct query {
	struct rule_query q;
	char ip[48];
	char user[8];
};

static void
make_query(struct query *x)
{
	uint32_t u = rnd(NUSERS), a = rnd(100), ip = rnd(100);

	snprintf(x->user, sizeof(x->user), "u%06u", u);
	if (ip < 40)
		snprintf(x->ip, sizeof(x->ip), "10.%u.%u.%u", rnd(256), rnd(256), 1 + rnd(254));
	else if (ip < 60)
		snprintf(x->ip, sizeof(x->ip), "192.168.%u.%u", rnd(256), 1 + rnd(254));
	else if (ip < 90)
		snprintf(x->ip, sizeof(x->ip), "203.0.%u.%u", rnd(256), 1 + rnd(254));
	else
		snprintf(x->ip, sizeof(x->ip), "2001:db8:%x::%x", rnd(65536), 1 + rnd(65535));
	x->q.user = x->user;
	x->q.groups = user_groups[u];
	x->q.app = a < 10 ? NULL : app_ids[a % NAPPS];
	x->q.ip = x->ip;
	x->q.now = WEEK_START + rnd(7 * 86400);
	x->q.break_glass = 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000, denied = 0, required = 0;
	size_t by_default = 0, unassigned = 0;
	struct query *qs;
	struct ruleset *rs;
	double *lat, t0, build_ms, total = 0, timed;

	rng_state = argc > 2 ? strtoull(argv[2], NULL, 10) : 88172645463325252ULL;
	if (n == 0 || (qs = calloc(n, sizeof(*qs))) == NULL || !(lat = calloc(n, sizeof(*lat))))
		return 1;
	make_directory();
	t0 = mono_us();
	rs = make_ruleset();
	build_ms = (mono_us() - t0) / 1e3;
	for (size_t i = 0; i < n; i++)
		make_query(&qs[i]);
	for (size_t i = 0; i < n && i < 20000; i++) {	/* warm-up: caches, the zone */
		struct rule_decision d;

		ruleset_evaluate(rs, &qs[i].q, &d);
	}
	for (size_t i = 0; i < n; i++) {
		struct rule_decision d;

		t0 = mono_us();
		ruleset_evaluate(rs, &qs[i].q, &d);
		lat[i] = mono_us() - t0;
		denied += d.deny;
		required += d.requires != 0;
		by_default += strcmp(d.rule, "default") == 0;
		unassigned += strcmp(d.rule, "not-assigned") == 0;
	}
	/* The rate without the clock reads around each decision. */
	t0 = mono_us();
	for (size_t i = 0; i < n; i++) {
		struct rule_decision d;

		ruleset_evaluate(rs, &qs[i].q, &d);
	}
	total = mono_us() - t0;
	qsort(lat, n, sizeof(*lat), cmp_double);
	timed = 0;
	for (size_t i = 0; i < n; i++)
		timed += lat[i];
	printf("rules=%d users=%d groups=%d decisions=%zu p50_us=%.2f p99_us=%.2f mean_us=%.2f "
	    "rate=%.0f build_ms=%.1f denied_pct=%.1f requires_pct=%.1f default_pct=%.1f "
	    "not_assigned_pct=%.1f\n", NRULES, NUSERS,
	    NGROUPS, n, lat[n / 2], lat[n * 99 / 100], timed / (double)n, (double)n / total * 1e6,
	    build_ms, 100.0 * (double)denied / (double)n, 100.0 * (double)required / (double)n,
	    100.0 * (double)by_default / (double)n, 100.0 * (double)unassigned / (double)n);
	ruleset_free(rs);
	free(qs);
	free(lat);
	return 0;
}
