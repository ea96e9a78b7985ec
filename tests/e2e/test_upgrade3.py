#!/usr/bin/python3
"""A directory written with schema 2 opens with this version (schema 3, access rules).

Schema 3 adds access rules and app assignments.  The last commit of main with schema 2
(PREV) is built from the repository's history (tests/e2e/prev_version.py), a directory is
populated with it (users, groups, SAML and OIDC apps, device-required settings of the
tenant, a group, a user and an app, a second tenant, a live SSO session), and this version
opens it: the upgrade runs once, with one store.upgrade record per tenant that says the
time zone and default effect now written into the tenant (and then one for the step to
schema 4); every device-required setting
is still listed by `sekisho policy list`; the session still holds.  The previous version
then refuses the directory: it would ignore deny rules (fail-open).

Without the history (a copy of the tree without .git), the checks that need no private
key run against tests/e2e/fixtures/schema2/data.mdb, written by PREV without its master
key (SEKISHO_MAKE_FIXTURE=1 writes it again).
"""
import os

import prev_version as pv

PREV = "0ffaeda"    # last commit of main with schema 2
PASSWORD = "correct horse battery"
DEVICE = ["app:crm\tdevice_required\ton", "group:exempt\tdevice_required\toff",
          "tenant\tdevice_required\ton", "user:alice\tdevice_required\toff"]


def populate(srv, tmp):
    """What a schema-2 directory holds."""
    c = srv.prev_cli
    for name in ("alice", "bob"):
        c("user", "add", name, "--password-stdin", input=PASSWORD + "\n")
    c("group", "add", "staff")
    c("group", "add", "exempt")
    c("group", "add-member", "staff", "alice")
    c("group", "add-member", "exempt", "bob")
    md = os.path.join(tmp, "crm.xml")
    with open(md, "w") as f:
        f.write(pv.SP_METADATA)
    c("app", "add-saml", "crm", "--metadata", md)
    c("app", "add-oidc", "wiki", "--redirect-uri", "https://wiki.example.org/cb")
    c("policy", "set", "--tenant", "device-required", "on")
    c("policy", "set", "--group", "exempt", "device-required", "off")
    c("policy", "set", "--user", "alice", "device-required", "off")
    c("policy", "set", "--app", "crm", "device-required", "on")
    c("tenant", "add", "branch")
    c("user", "add", "carol", "--password-stdin", input=PASSWORD + "\n", tenant="branch")
    c("policy", "set", "--user", "carol", "device-required", "on", tenant="branch")


def device_lines(srv, tenant=None):
    out = srv.cli("policy", "list", tenant=tenant).stdout
    return sorted(line for line in out.splitlines() if "\tdevice_required\t" in line)


def settings_line(srv, tenant=None):
    return srv.cli("policy", "list", tenant=tenant).stdout.split("\n", 1)[0]


def check_store(t, srv, label):
    """What the upgrade keeps and records, read with this version's command line."""
    users = srv.cli("user", "list").stdout
    t.ok("alice\t" in users and "bob\t" in users, "%s: users kept" % label, users)
    t.eq(srv.cli("group", "members", "staff").stdout, "alice\n",
         "%s: memberships kept" % label)
    t.eq(device_lines(srv), DEVICE, "%s: every device-required setting is listed" % label)
    for tenant in (None, "branch"):
        t.eq(settings_line(srv, tenant), "default=allow timezone=Asia/Tokyo",
             "%s: policy list shows %s's default and zone" % (label, tenant or "default"))
    t.eq(device_lines(srv, "branch"), ["user:carol\tdevice_required\ton"],
         "%s: the other tenant's setting is listed" % label)
    t.eq(pv.upgrades(srv)[:1],
         ["from=2 to=3 timezone=Asia/Tokyo default=allow device_required=4"],
         "%s: one upgrade record, with the zone and default written out" % label)
    t.eq(pv.upgrades(srv, "branch")[:1],
         ["from=2 to=3 timezone=Asia/Tokyo default=allow device_required=1"],
         "%s: one upgrade record in the other tenant" % label)
    for tenant in (None, "branch"):
        t.eq([f[:12] for f in pv.upgrades(srv, tenant)],
             ["from=2 to=3 ", "from=3 to=4 ", "from=4 to=5 ", "from=5 to=6 ",
              "from=6 to=7 "],
             "%s: then the steps to schema 4, 5 and 6, once in %s" % (label, tenant or "default"))
    r = srv.cli("audit", "verify", check=False)
    t.ok(r.returncode == 0, "%s: audit chain intact" % label, r.stderr)


pv.Scenario(PREV, 2, populate, check_store, PASSWORD, 5, pv.refused_by_prev).main()
