/*
 * A tenant's rule set as the store holds it: time zone and default, the ordered rules,
 * the app assignments and the device-required shorthand settings.  The server builds one
 * whenever the tenant's configuration generation moves; `sekisho policy test` builds the
 * same, so the two decide alike.
 */
#ifndef SEKISHO_ACCESS_LOAD_H
#define SEKISHO_ACCESS_LOAD_H

struct store;

/*
 * The rule set of tenant (caller owns it: ruleset_free), or NULL with *errstr: no such
 * tenant, a storage error, a time zone this build does not know, or a stored rule that
 * no longer checks (logged with its name and why).
 */
struct ruleset *access_load(struct store *st, const char *tenant, const char **errstr);

#endif
