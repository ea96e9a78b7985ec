#!/usr/bin/python3
"""A directory written with schema 3 opens with this version (schema 4, second factors).

Schema 4 adds second factors, challenges and rate limits, and new fields of users,
sessions, tenants and rules.  The last commit of main with schema 3 (PREV) is built from
the repository's history (tests/e2e/prev_version.py), a directory is populated with it
(users, a group, apps with an assignment, access rules, a tenant's time zone, a second
tenant with its own user and rule, a live SSO session), and this version opens it: the
upgrade runs once, with one store.upgrade record per tenant; users, memberships, rules and
settings read as before; the session still holds.  The previous version then refuses the
directory: it would let a user with a second factor in with the password alone.

Without the history, the checks run against tests/e2e/fixtures/schema3/data.mdb, written
by PREV (SEKISHO_MAKE_FIXTURE=1 writes it again).
"""
import os
import re

import prev_version as pv

PREV = "8311f56"    # last commit of main with schema 3 (the one before part 6's interfaces)
PASSWORD = "correct horse battery"
RULES = ["1\tno-bob\teffect=deny users=bob",
         "2\tcrm-mfa\teffect=mfa apps=crm",
         "3\tstaff-device\teffect=device groups=staff days=mon,fri hours=22:00-06:00 "
         "report-only"]


def populate(srv, tmp):
    """What a schema-3 directory holds."""
    c = srv.prev_cli
    for name in ("alice", "bob"):
        c("user", "add", name, "--password-stdin", input=PASSWORD + "\n")
    c("group", "add", "staff")
    c("group", "add-member", "staff", "alice")
    md = os.path.join(tmp, "crm.xml")
    with open(md, "w") as f:
        f.write(pv.SP_METADATA)
    c("app", "add-saml", "crm", "--metadata", md)
    c("app", "add-oidc", "wiki", "--redirect-uri", "https://wiki.example.org/cb")
    c("app", "assign", "wiki", "--group", "staff")
    c("policy", "add", "no-bob", "--effect", "deny", "--user", "bob")
    c("policy", "add", "crm-mfa", "--effect", "mfa", "--app", "crm")
    c("policy", "add", "staff-device", "--effect", "device", "--group", "staff", "--days",
      "fri,mon", "--hours", "22:00-06:00", "--report-only")
    c("tenant", "set", "default", "--timezone", "UTC")
    c("tenant", "add", "branch")
    c("user", "add", "carol", "--password-stdin", input=PASSWORD + "\n", tenant="branch")
    c("policy", "add", "carol-out", "--effect", "deny", "--user", "carol", tenant="branch")


def rule_lines(srv, tenant=None):
    out = srv.cli("policy", "list", tenant=tenant).stdout
    return [line for line in out.splitlines() if line[:1].isdigit()]


def check_store(t, srv, label):
    """What the upgrade keeps and records, read with this version's command line."""
    users = srv.cli("user", "list").stdout
    t.ok("alice\t" in users and "bob\t" in users, "%s: users kept" % label, users)
    t.eq(srv.cli("group", "members", "staff").stdout, "alice\n",
         "%s: memberships kept" % label)
    t.eq(rule_lines(srv), RULES, "%s: the rules kept, in order" % label)
    t.eq(srv.cli("policy", "list").stdout.split("\n", 1)[0],
         "default=allow timezone=UTC", "%s: the tenant's zone kept" % label)
    t.eq(rule_lines(srv, "branch"), ["1\tcarol-out\teffect=deny users=carol"],
         "%s: the other tenant's rule kept" % label)
    recs = pv.upgrades(srv)
    t.ok(len(recs) == 4 and
         re.fullmatch(r"from=3 to=4 users=2 sessions=[01] rules=3", recs[0]) is not None and
         recs[1] == "from=4 to=5 users=2 groups=1 apps=2" and
         recs[2] == "from=5 to=6 users=2 apps=2 roles=user" and
         recs[3] == "from=6 to=7 licence=unlicensed seats=unlimited users=2 cert_holders=0",
         "%s: one upgrade record per step, with what the tenant holds" % label, recs)
    t.eq(pv.upgrades(srv, "branch"), ["from=3 to=4 users=1 sessions=0 rules=1",
                                      "from=4 to=5 users=1 groups=0 apps=0",
                                      "from=5 to=6 users=1 apps=0 roles=user",
                                      "from=6 to=7 licence=unlicensed seats=unlimited users=1 cert_holders=0"],
         "%s: one upgrade record per step in the other tenant" % label)
    r = srv.cli("audit", "verify", check=False)
    t.ok(r.returncode == 0, "%s: audit chain intact" % label, r.stderr)


pv.Scenario(PREV, 3, populate, check_store, PASSWORD, 4, pv.refused_by_prev).main()
