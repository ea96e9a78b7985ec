/*
 * Access rules as text: checking what an administrator gave (each message names the option
 * and the bad part), the canonical form the store keeps, and the one-line form that audit
 * records and `policy list` show.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "ipnet.h"
#include "rules_int.h"
#include "store.h"
#include "xmalloc.h"

const char *const rule_effect_names[4] = { "allow", "deny", "device", "mfa" };

/* By wday (0 Sunday); canonical text lists them from Monday. */
static const char *const day_names[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

/* Names that `policy test` and audit records print in place of a rule's. */
static const char *const reserved_names[] = { "default", "not-assigned", "device-required" };

int
rule_given(const char *s)
{
	return s != NULL && *s != '\0';
}

int
rule_parse_effect(const char *s)
{
	for (int i = 0; s && i < 4; i++)
		if (strcmp(s, rule_effect_names[i]) == 0)
			return i;
	return -1;
}

/* ---- days ---- */

static int
day_index(const char *s, size_t n)
{
	for (int i = 0; i < 7; i++)
		if (n == 3 && strncasecmp(s, day_names[i], 3) == 0)
			return i;
	return -1;
}

int
rule_parse_days(const char *s, unsigned *mask_r, char err[RULE_ERR_MAX])
{
	const char *p = s;

	*mask_r = 0;
	for (;;) {
		size_t n = strcspn(p, ",");
		int d = day_index(p, n);

		if (d == -1) {
			snprintf(err, RULE_ERR_MAX, "--days %s: unknown day \"%.*s\"", s, (int)n, p);
			return -1;
		}
		*mask_r |= 1u << d;
		if (p[n] == '\0')
			return 0;
		p += n + 1;
	}
}

void
rule_days_text(unsigned mask, struct buf *out)
{
	const char *sep = "";

	for (int i = 1; i <= 7; i++) {
		if (mask & (1u << (i % 7))) {
			buf_printf(out, "%s%s", sep, day_names[i % 7]);
			sep = ",";
		}
	}
}

/* ---- hours ---- */

static int
hm_shape(const char *s)
{
	return isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) && s[2] == ':' &&
	    isdigit((unsigned char)s[3]) && isdigit((unsigned char)s[4]);
}

/* The minutes of "HH:MM" at p (its shape checked); 0, or -1 with err naming it. */
static int
parse_hm(const char *s, const char *p, int *m_r, char err[RULE_ERR_MAX])
{
	int h = (p[0] - '0') * 10 + (p[1] - '0'), m = (p[3] - '0') * 10 + (p[4] - '0');

	if (h > 24 || (h == 24 && m != 0)) {
		snprintf(err, RULE_ERR_MAX, "--hours %s: hour %d is out of range", s, h);
		return -1;
	}
	if (m > 59) {
		snprintf(err, RULE_ERR_MAX, "--hours %s: minute %d is out of range", s, m);
		return -1;
	}
	*m_r = h * 60 + m;
	return 0;
}

int
rule_parse_hours(const char *s, int *start_r, int *end_r, char err[RULE_ERR_MAX])
{
	if (strlen(s) != 11 || !hm_shape(s) || s[5] != '-' || !hm_shape(s + 6)) {
		snprintf(err, RULE_ERR_MAX, "--hours %s: not HH:MM-HH:MM", s);
		return -1;
	}
	if (parse_hm(s, s, start_r, err) == -1 || parse_hm(s, s + 6, end_r, err) == -1)
		return -1;
	if (*start_r == 24 * 60) {
		snprintf(err, RULE_ERR_MAX, "--hours %s: 24:00 can only end a range", s);
		return -1;
	}
	if (*start_r == *end_r) {
		snprintf(err, RULE_ERR_MAX,
		    "--hours %s: start and end are the same (00:00-24:00 is the whole day)", s);
		return -1;
	}
	return 0;
}

/* ---- networks ---- */

/* The address of item (before any '/') into a; its family, -1 if it is none, -2 for a
 * v4-mapped IPv6 address (ipnet reads it as IPv4: its prefix would not mean what it says). */
static int
net_addr(const char *item, size_t n, unsigned char a[16])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char s[INET6_ADDRSTRLEN];

	if (n >= sizeof(s))
		return -1;
	memcpy(s, item, n);
	s[n] = '\0';
	if (inet_pton(AF_INET, s, a) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, a) != 1)
		return -1;
	return memcmp(a, mapped, 12) == 0 ? -2 : AF_INET6;
}

/* The prefix length after the '/' at slash (NULL: the whole address) into *p_r; 0, or
 * -1 with err. */
static int
net_prefix(const char *opt, const char *item, const char *slash, int max, int *p_r,
    char err[RULE_ERR_MAX])
{
	const char *d = slash ? slash + 1 : NULL;

	*p_r = max;
	if (d == NULL)
		return 0;
	if (*d == '\0' || strspn(d, "0123456789") != strlen(d)) {
		snprintf(err, RULE_ERR_MAX, "%s %s: bad prefix length", opt, item);
		return -1;
	}
	if (strlen(d) > 3 || (*p_r = (int)strtol(d, NULL, 10)) > max) {
		snprintf(err, RULE_ERR_MAX, "%s %s: prefix length %s is out of range (0-%d)", opt,
		    item, d, max);
		return -1;
	}
	return 0;
}

/* One network; its canonical form appended to canon when not NULL.  0 or -1 with err. */
static int
parse_net(const char *opt, const char *item, struct buf *canon, char err[RULE_ERR_MAX])
{
	const char *slash = strchr(item, '/');
	unsigned char a[16], m[16];
	char text[INET6_ADDRSTRLEN];
	int family = net_addr(item, slash ? (size_t)(slash - item) : strlen(item), a), prefix;

	if (family < 0) {
		snprintf(err, RULE_ERR_MAX, "%s %s: %s", opt, item, family == -1 ?
		    "not an address" : "write an IPv4 network as IPv4");
		return -1;
	}
	if (net_prefix(opt, item, slash, family == AF_INET ? 32 : 128, &prefix, err) == -1)
		return -1;
	memset(m, 0, sizeof(m));
	memcpy(m, a, (size_t)prefix / 8);
	if (prefix % 8)
		m[prefix / 8] = a[prefix / 8] & (unsigned char)(0xff << (8 - prefix % 8));
	inet_ntop(family, m, text, sizeof(text));
	if (memcmp(a, m, family == AF_INET ? 4 : 16) != 0) {
		snprintf(err, RULE_ERR_MAX, "%s %s: host bits set, did you mean %s/%d?", opt, item,
		    text, prefix);
		return -1;
	}
	if (canon)
		buf_printf(canon, "%s%s/%d", canon->len ? " " : "", text, prefix);
	return 0;
}

int
rule_parse_nets(const char *opt, const char *s, struct buf *canon, char err[RULE_ERR_MAX])
{
	char item[128];
	size_t count = 0;

	for (s += strspn(s, " ,\t"); *s; s += strspn(s, " ,\t")) {
		size_t n = strcspn(s, " ,\t");

		if (++count > IPNET_MAX) {
			snprintf(err, RULE_ERR_MAX, "%s: at most %d networks in one rule", opt,
			    IPNET_MAX);
			return -1;
		}
		snprintf(item, sizeof(item), "%.*s", (int)n, s);
		if (parse_net(opt, item, canon, err) == -1)
			return -1;
		s += n;
	}
	return 0;
}

/* ---- the whole rule ---- */

static int
check_name(const char *name, char err[RULE_ERR_MAX])
{
	if (name == NULL || !store_valid_name(name, STORE_NAME_MAX)) {
		snprintf(err, RULE_ERR_MAX, "rule name \"%s\": use 1 to %d letters, digits or "
		    ". _ @ + -", name ? name : "", STORE_NAME_MAX);
		return -1;
	}
	for (size_t i = 0; i < sizeof(reserved_names) / sizeof(reserved_names[0]); i++) {
		if (strcmp(name, reserved_names[i]) == 0) {
			snprintf(err, RULE_ERR_MAX, "rule name \"%s\" is reserved", name);
			return -1;
		}
	}
	return 0;
}

int
rule_validate(const struct rule_rec *r, char err[RULE_ERR_MAX])
{
	unsigned days;
	int start, end;

	if (check_name(r->name, err) == -1)
		return -1;
	if (rule_parse_effect(r->effect) == -1) {
		snprintf(err, RULE_ERR_MAX, "--effect %s: not one of allow, deny, device, mfa",
		    r->effect ? r->effect : "");
		return -1;
	}
	if (r->mfa_enroll && rule_parse_effect(r->effect) != RULE_MFA) {
		snprintf(err, RULE_ERR_MAX, "--enroll: only for rules whose effect is mfa");
		return -1;
	}
	if (rule_given(r->from) && rule_parse_nets("--from", r->from, NULL, err) == -1)
		return -1;
	if (rule_given(r->not_from) && rule_parse_nets("--not-from", r->not_from, NULL, err) == -1)
		return -1;
	if (rule_given(r->days) && rule_parse_days(r->days, &days, err) == -1)
		return -1;
	if (rule_given(r->hours) && rule_parse_hours(r->hours, &start, &end, err) == -1)
		return -1;
	return 0;
}

/* *field replaced by its canonical form made by parse (which fills b). */
static void
replace(char **field, struct buf *b)
{
	free(*field);
	*field = b->len ? buf_steal(b, NULL) : NULL;
	buf_reset(b);
}

int
rule_canonical(struct rule_rec *r, char err[RULE_ERR_MAX])
{
	struct buf b;
	unsigned days;

	if (rule_validate(r, err) == -1)
		return -1;
	buf_init(&b, 0);
	if (rule_given(r->from) && rule_parse_nets("--from", r->from, &b, err) == 0)
		replace(&r->from, &b);
	if (rule_given(r->not_from) && rule_parse_nets("--not-from", r->not_from, &b, err) == 0)
		replace(&r->not_from, &b);
	if (rule_given(r->days) && rule_parse_days(r->days, &days, err) == 0) {
		rule_days_text(days, &b);
		replace(&r->days, &b);
	}
	buf_free(&b);
	return 0;
}

/* " key=a,b,c" from a list separated by any of seps (empty items left out); nothing for
 * an empty list. */
static void
put_list(struct buf *out, const char *key, const char *list, const char *seps)
{
	const char *sep = "";

	if (!rule_given(list) || list[strspn(list, seps)] == '\0')
		return;
	buf_printf(out, " %s=", key);
	for (list += strspn(list, seps); *list; list += strspn(list, seps)) {
		size_t n = strcspn(list, seps);

		buf_printf(out, "%s%.*s", sep, (int)n, list);
		sep = ",";
		list += n;
	}
}

void
rule_format(const struct rule_rec *r, struct buf *out)
{
	buf_printf(out, "effect=%s", r->effect ? r->effect : "?");
	put_list(out, "users", rule_given(r->user_names) ? r->user_names : r->users, "\n");
	put_list(out, "groups", rule_given(r->group_names) ? r->group_names : r->groups, "\n");
	put_list(out, "apps", rule_given(r->app_names) ? r->app_names : r->apps, "\n");
	put_list(out, "from", r->from, " ,\t");
	put_list(out, "not-from", r->not_from, " ,\t");
	put_list(out, "days", r->days, ",");
	if (rule_given(r->hours))
		buf_printf(out, " hours=%s", r->hours);
	if (r->mfa_enroll)
		buf_puts(out, " enroll");
	if (r->report_only)
		buf_puts(out, " report-only");
}
