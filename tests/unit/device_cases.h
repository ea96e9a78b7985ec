/*
 * The device-required cases (settings of tenant, users, groups and apps; a user, groups and
 * an app; whether a device is required), shared by test_device.c (idp/device.c) and
 * test_rules.c (the shorthand rule of policies/rules.c), which must agree on every one.
 */
#ifndef SEKISHO_TEST_DEVICE_CASES_H
#define SEKISHO_TEST_DEVICE_CASES_H

#define MAXPOL 6

struct req_case {
	const char *name;
	const char *pols[MAXPOL];	/* "scope=on" or "scope=off" */
	const char *user;
	const char *groups[4];
	const char *app;		/* NULL: no app */
	int want;
};

static const struct req_case req_cases[] = {
	{ "no settings", { NULL }, "alice", { NULL }, "crm", 0 },
	{ "tenant on", { "tenant=on" }, "alice", { NULL }, "crm", 1 },
	{ "tenant off", { "tenant=off" }, "alice", { NULL }, "crm", 0 },
	{ "a setting for nobody here", { "user:bob=on" }, "alice", { "staff" }, "crm", 0 },
	{ "tenant on, user off", { "tenant=on", "user:alice=off" }, "alice", { NULL }, "crm", 0 },
	{ "app on beats user off", { "tenant=on", "user:alice=off", "app:crm=on" }, "alice",
	    { NULL }, "crm", 1 },
	{ "app on, no app asked", { "app:crm=on" }, "alice", { NULL }, NULL, 0 },
	{ "app on, another app", { "app:crm=on" }, "alice", { NULL }, "wiki", 0 },
	{ "app off exempts nobody", { "tenant=on", "app:crm=off" }, "alice", { NULL }, "crm", 1 },
	{ "group on, member", { "group:staff=on" }, "alice", { "staff" }, "crm", 1 },
	{ "group on, not a member", { "group:staff=on" }, "alice", { "sales" }, "crm", 0 },
	{ "group off beats tenant on", { "tenant=on", "group:staff=off" }, "alice", { "staff" },
	    "crm", 0 },
	{ "on wins among groups", { "group:a=on", "group:b=off" }, "alice", { "a", "b" }, "crm",
	    1 },
	{ "on wins among groups, other order", { "group:a=on", "group:b=off" }, "alice",
	    { "b", "a" }, "crm", 1 },
	{ "on wins among groups, settings reversed", { "group:b=off", "group:a=on" }, "alice",
	    { "b", "a" }, "crm", 1 },
	{ "user on beats group off", { "group:staff=off", "user:alice=on" }, "alice",
	    { "staff" }, NULL, 1 },
	{ "user off beats group on", { "group:staff=on", "user:alice=off" }, "alice",
	    { "staff" }, NULL, 0 },
	{ "names match whole", { "user:ali=on", "group:staf=on", "app:cr=on" }, "alice",
	    { "staff" }, "crm", 0 },
	{ "names match whole, longer", { "user:alice2=on", "group:staffs=on" }, "alice",
	    { "staff" }, "crm", 0 },
	{ "a user named like a group", { "group:alice=on" }, "alice", { NULL }, "crm", 0 },
	{ "an app named like a user", { "app:alice=on" }, "alice", { NULL }, "crm", 0 },
};

#endif
