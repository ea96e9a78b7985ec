#!/usr/bin/python3
"""A directory written with schema 4 opens with this version (schema 5, API keys).

Schema 5 adds API keys (records by id, an index by name) and nothing else to rewrite.  The
last commit of main with schema 4 (PREV, the one before part 7's interfaces) is built from
the repository's history (tests/e2e/prev_version.py), a directory is populated with it
(users, a group, apps with an assignment, a rule, a second tenant with its own user), and
this version opens it: the upgrade runs once, with one store.upgrade record per tenant;
users, memberships and rules read as before; the session still holds and alice logs in
again; `sekisho apikey create` works on the upgraded directory.  The previous version then
refuses the directory.

Without the history, the checks run against tests/e2e/fixtures/schema4/data.mdb, written
by PREV (SEKISHO_MAKE_FIXTURE=1 writes it again).
"""
import os
import re

import prev_version as pv
import sekisho_test as st

PREV = "3d317dc"    # last commit of main with schema 4 (the one before part 7's interfaces)
PASSWORD = "correct horse battery"


def populate(srv, tmp):
    """What a schema-4 directory holds."""
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
    c("tenant", "add", "branch")
    c("user", "add", "carol", "--password-stdin", input=PASSWORD + "\n", tenant="branch")


def check_store(t, srv, label):
    """What the upgrade keeps and records, read with this version's command line."""
    users = srv.cli("user", "list").stdout
    t.ok("alice\t" in users and "bob\t" in users, "%s: users kept" % label, users)
    t.eq(srv.cli("group", "members", "staff").stdout, "alice\n",
         "%s: memberships kept" % label)
    rules = [line for line in srv.cli("policy", "list").stdout.splitlines()
             if line[:1].isdigit()]
    t.eq(rules, ["1\tno-bob\teffect=deny users=bob"], "%s: the rule kept" % label)
    t.eq(pv.upgrades(srv), ["from=4 to=5 users=2 groups=1 apps=2",
                            "from=5 to=6 users=2 apps=2 roles=user",
                            "from=6 to=7 licence=unlicensed seats=unlimited users=2 cert_holders=0"],
         "%s: one upgrade record per step, with what the tenant holds" % label)
    t.eq(pv.upgrades(srv, "branch"), ["from=4 to=5 users=1 groups=0 apps=0",
                                      "from=5 to=6 users=1 apps=0 roles=user",
                                      "from=6 to=7 licence=unlicensed seats=unlimited users=1 cert_holders=0"],
         "%s: one upgrade record per step in the other tenant" % label)
    r = srv.cli("apikey", "create", "hr-sync", "--scope", "read,write", check=False)
    t.ok(r.returncode == 0 and
         re.fullmatch(r"api_key=sks_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n", r.stdout) is not None,
         "%s: apikey create prints one key line" % label, r.stdout + r.stderr)
    t.ok(srv.cli("apikey", "list").stdout.startswith("hr-sync\tread,write\tactive\t"),
         "%s: the key is listed" % label)
    r = srv.cli("audit", "verify", check=False)
    t.ok(r.returncode == 0, "%s: audit chain intact" % label, r.stderr)


def login_then_refused(t, srv):
    """alice logs in anew on the upgraded directory; then the previous version refuses it."""
    b = st.Browser(verify=srv.ca)
    r = b.submit_login(b.get(srv.base() + "/login"), "alice", PASSWORD)
    t.ok(r.status_code == 200 and "alice" in r.text and "/login" not in r.url,
         "alice logs in on the upgraded directory", r.url)
    pv.refused_by_prev(t, srv)


pv.Scenario(PREV, 4, populate, check_store, PASSWORD, 3, login_then_refused).main()
