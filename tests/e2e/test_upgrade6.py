#!/usr/bin/python3
"""A directory written with schema 5 opens with this version (schema 6: console roles,
branding, initiate_login_uri).

Schema 6 adds fields only: a user's console role, a tenant's display name, logo, accent
colour and help URL, an OIDC client's initiate_login_uri.  Nothing is rewritten; what was
there reads as unset (every user a plain user, no branding).  The last commit of main with
schema 5 (PREV) is built from the repository's history (tests/e2e/prev_version.py), a
directory is populated with it (users, a group, a SAML and an OIDC app, an API key, a second
tenant with its own user), and this version opens it: the upgrade runs once, with one
store.upgrade record per tenant; users read as plain users and take a role; the tenant
takes its branding and the OIDC client its initiate_login_uri; the API key still lists;
alice logs in again.  The previous version then refuses the directory.

Without the history, the checks run against tests/e2e/fixtures/schema5/data.mdb, written
by PREV (SEKISHO_MAKE_FIXTURE=1 writes it again).
"""
import os

import prev_version as pv
import sekisho_test as st

PREV = "d480aa0"    # main with schema 5, before part 8's schema change
PASSWORD = "correct horse battery"


def populate(srv, tmp):
    """What a schema-5 directory holds."""
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
    c("apikey", "create", "hr-sync", "--scope", "read")
    c("tenant", "add", "branch")
    c("user", "add", "carol", "--password-stdin", input=PASSWORD + "\n", tenant="branch")


def check_store(t, srv, label):
    """What the upgrade keeps and records, and the new fields, with this version's CLI."""
    users = srv.cli("user", "list").stdout
    t.ok("alice\t" in users and "bob\t" in users, "%s: users kept" % label, users)
    t.eq(srv.cli("group", "members", "staff").stdout, "alice\n",
         "%s: memberships kept" % label)
    t.eq(pv.upgrades(srv), ["from=5 to=6 users=2 apps=2 roles=user",
                            "from=6 to=7 licence=unlicensed seats=unlimited users=2 cert_holders=0"],
         "%s: one upgrade record, with what the tenant holds" % label)
    t.eq(pv.upgrades(srv, "branch"), ["from=5 to=6 users=1 apps=0 roles=user",
                                      "from=6 to=7 licence=unlicensed seats=unlimited users=1 cert_holders=0"],
         "%s: one upgrade record in the other tenant" % label)
    t.ok("role=user\n" in srv.cli("user", "show", "alice").stdout,
         "%s: a user written before roles is a plain user" % label)
    srv.cli("user", "set", "alice", "--role", "admin")
    t.ok("role=admin\n" in srv.cli("user", "show", "alice").stdout,
         "%s: and takes a role" % label)
    r = srv.cli("tenant", "set", "default", "--display-name", "株式会社アクメ",
                "--color", "#075", check=False)
    t.ok(r.returncode == 0 and "display_name=株式会社アクメ" in r.stdout and
         "color=#007755" in r.stdout, "%s: the tenant takes its branding" % label,
         r.stdout + r.stderr)
    r = srv.cli("app", "set", "wiki", "--initiate-login-uri", "https://wiki.example.org/login",
                check=False)
    t.ok(r.returncode == 0, "%s: the OIDC client takes an initiate_login_uri" % label,
         r.stderr)
    t.ok(srv.cli("apikey", "list").stdout.startswith("hr-sync\tread\tactive\t"),
         "%s: the API key kept" % label)
    r = srv.cli("audit", "verify", check=False)
    t.ok(r.returncode == 0, "%s: audit chain intact" % label, r.stderr)


def login_then_refused(t, srv):
    """alice logs in anew on the upgraded directory; then the previous version refuses it."""
    b = st.Browser(verify=srv.ca)
    r = b.submit_login(b.get(srv.base() + "/login"), "alice", PASSWORD)
    t.ok(r.status_code == 200 and "alice" in r.text and "/login" not in r.url,
         "alice logs in on the upgraded directory", r.url)
    t.ok("株式会社アクメ" in r.text, "and the portal shows the company")
    pv.refused_by_prev(t, srv)


pv.Scenario(PREV, 5, populate, check_store, PASSWORD, 2, login_then_refused).main()
