#!/usr/bin/python3
"""A directory written with schema 6 opens with this version (schema 7: licences, operator
accounts).

Schema 7 adds fields only: a tenant's licence (licensed, seats, device seats, trial end,
suspended) and a user's operator flag.  Nothing is rewritten; every tenant stays
unlicensed, so no limit applies to what it already holds, and every user stays a billed
user.  The last commit of main with schema 6 (PREV, the one before the licence members were
added) is built from the repository's history (tests/e2e/prev_version.py), a directory is
populated with it (users, a group, a SAML and an OIDC app, an API key, a device
certificate, a second tenant with its own user), and this version opens it: the upgrade
runs once, with one store.upgrade record per tenant saying it stays unlicensed; the tenant
shows as unlicensed with its use; more users than a licence's minimum can still be added;
the tenant takes a licence and an operator account.  The previous version then refuses the
directory.

Without the history, the checks run against tests/e2e/fixtures/schema6/data.mdb, written
by PREV (SEKISHO_MAKE_FIXTURE=1 writes it again).
"""
import os

import prev_version as pv
import sekisho_test as st

PREV = "e72329b"    # main with schema 6, before part 9's licence members
PASSWORD = "correct horse battery"


def populate(srv, tmp):
    """What a schema-6 directory holds."""
    c = srv.prev_cli
    for name in ("alice", "bob"):
        c("user", "add", name, "--password-stdin", input=PASSWORD + "\n")
    c("user", "set", "alice", "--role", "admin")
    c("group", "add", "staff")
    c("group", "add-member", "staff", "alice")
    md = os.path.join(tmp, "crm.xml")
    with open(md, "w") as f:
        f.write(pv.SP_METADATA)
    c("app", "add-saml", "crm", "--metadata", md)
    c("app", "add-oidc", "wiki", "--redirect-uri", "https://wiki.example.org/cb")
    c("apikey", "create", "hr-sync", "--scope", "read")
    c("cert", "issue", "bob", "--label", "laptop", "--out", os.path.join(tmp, "bob.p12"),
      "--password-stdin", input="pkcs12 password\n")
    c("tenant", "add", "branch")
    c("user", "add", "carol", "--password-stdin", input=PASSWORD + "\n", tenant="branch")


def check_store(t, srv, label):
    """What the upgrade keeps and records, and the licence, with this version's CLI."""
    users = srv.cli("user", "list").stdout
    t.ok("alice\t" in users and "bob\t" in users, "%s: users kept" % label, users)
    t.eq(pv.upgrades(srv), ["from=6 to=7 licence=unlicensed seats=unlimited users=2 "
                            "cert_holders=1"],
         "%s: one upgrade record, the tenant unlicensed with its use" % label)
    t.eq(pv.upgrades(srv, "branch"), ["from=6 to=7 licence=unlicensed seats=unlimited "
                                      "users=1 cert_holders=0"],
         "%s: one upgrade record in the other tenant" % label)
    show = srv.cli("tenant", "show", "default").stdout
    t.ok("licence=unlicensed users=2 operators=0 cert_holders=1" in show,
         "%s: tenant show: unlicensed, with the use" % label, show)
    t.ok("role=admin\n" in srv.cli("user", "show", "alice").stdout and
         "operator=" not in srv.cli("user", "show", "alice").stdout,
         "%s: roles kept, nobody an operator" % label)
    added = [srv.cli("user", "add", "new%d" % i, check=False).returncode for i in range(25)]
    t.eq(added, [0] * 25, "%s: an unlicensed tenant takes 25 more users" % label)
    r = srv.cli("tenant", "set", "default", "--seats", "20", check=False)
    t.ok(r.returncode != 0 and "would have 20 seats and 27 are in use" in r.stderr,
         "%s: a licence below the use is refused" % label, r.stderr)
    r = srv.cli("tenant", "set", "default", "--seats", "30", "--device-seats", "10")
    t.ok("seats=27/30 device_seats=1/10" in r.stdout, "%s: the tenant takes a licence" % label,
         r.stdout)
    r = srv.cli("user", "set", "bob", "--operator", check=False)
    t.ok(r.returncode == 0, "%s: a user becomes an operator account" % label, r.stderr)
    r = srv.cli("audit", "verify", check=False)
    t.ok(r.returncode == 0, "%s: audit chain intact" % label, r.stderr)


def login_then_refused(t, srv):
    """alice logs in anew on the upgraded directory; then the previous version refuses it."""
    b = st.Browser(verify=srv.ca)
    r = b.submit_login(b.get(srv.base() + "/login"), "alice", PASSWORD)
    t.ok(r.status_code == 200 and "alice" in r.text and "/login" not in r.url,
         "alice logs in on the upgraded directory", r.url)
    pv.refused_by_prev(t, srv)


pv.Scenario(PREV, 6, populate, check_store, PASSWORD, 1, login_then_refused).main()
