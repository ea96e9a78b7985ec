/*
 * Between the two halves of the access rules: rules_text.c reads and writes the conditions
 * as administrators give them, rules.c evaluates them.
 */
#ifndef SEKISHO_RULES_INT_H
#define SEKISHO_RULES_INT_H

#include "buf.h"
#include "rules.h"

enum rule_effect { RULE_ALLOW, RULE_DENY, RULE_DEVICE, RULE_MFA };

extern const char *const rule_effect_names[4];

/* The effect called s, or -1. */
int rule_parse_effect(const char *s);
/* "mon,tue" into a mask with bit 1 << wday (0 Sunday); 0, or -1 with err. */
int rule_parse_days(const char *s, unsigned *mask_r, char err[RULE_ERR_MAX]);
/* The days of mask, "mon,...,sun" in that order, into out. */
void rule_days_text(unsigned mask, struct buf *out);
/* "HH:MM-HH:MM" into minutes (end may be 1440); 0, or -1 with err. */
int rule_parse_hours(const char *s, int *start_r, int *end_r, char err[RULE_ERR_MAX]);
/*
 * A list of networks for the option opt ("--from"), separated by spaces or commas; the
 * canonical form ("10.0.0.0/8 192.0.2.1/32") into canon when not NULL.  0, or -1 with err.
 */
int rule_parse_nets(const char *opt, const char *s, struct buf *canon, char err[RULE_ERR_MAX]);
/* A condition given: not NULL and not empty. */
int rule_given(const char *s);

#endif
