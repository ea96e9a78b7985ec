#!/usr/bin/python3
"""A directory written with schema 2 opens with this version (schema 3, access rules).

Schema 3 adds access rules and app assignments.  The last commit of main with schema 2
(PREV) is built from the repository's history (tests/e2e/prev_version.py), a directory is
populated with it (users, groups, SAML and OIDC apps, device-required settings of the
tenant, a group, a user and an app, a second tenant, a live SSO session), and this version
opens it: the upgrade runs once, with one store.upgrade record per tenant that says the
time zone and default effect now written into the tenant; every device-required setting
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


def upgrades(srv, tenant=None):
    return [f for e, f in srv.audit(tenant=tenant) if e == "store.upgrade"]


def check_store(t, srv, label):
    """What the upgrade keeps and records, read with this version's command line."""
    users = srv.cli("user", "list").stdout
    t.ok("alice\t" in users and "bob\t" in users, "%s: users kept" % label, users)
    t.eq(srv.cli("group", "members", "staff").stdout, "alice\n",
         "%s: memberships kept" % label)
    t.eq(device_lines(srv), DEVICE, "%s: every device-required setting is listed" % label)
    t.eq(device_lines(srv, "branch"), ["user:carol\tdevice_required\ton"],
         "%s: the other tenant's setting is listed" % label)
    t.eq(upgrades(srv), ["from=2 to=3 timezone=Asia/Tokyo default=allow device_required=4"],
         "%s: one upgrade record, with the zone and default written out" % label)
    t.eq(upgrades(srv, "branch"),
         ["from=2 to=3 timezone=Asia/Tokyo default=allow device_required=1"],
         "%s: one upgrade record in the other tenant" % label)
    r = srv.cli("audit", "verify", check=False)
    t.ok(r.returncode == 0, "%s: audit chain intact" % label, r.stderr)


def refused_by_prev(t, srv):
    srv.stop()
    r = srv.prev_cli("user", "list", check=False)
    t.ok(r.returncode != 0 and "unknown schema version" in r.stderr,
         "the previous version refuses the upgraded directory", r.stdout + r.stderr)


pv.Scenario(PREV, 2, populate, check_store, PASSWORD, 1, refused_by_prev).main()
