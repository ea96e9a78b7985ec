#!/usr/bin/python3
"""A directory written by the previous version of Sekisho opens with this one.

Schema 1 (up to the commit pinned in PREV) referred to users, groups and apps by name;
schema 2 refers to them by immutable ids.  The previous commit of main is built from the
repository's history (cached by commit under $TMPDIR), a directory is populated with it
(users, groups and memberships, SAML and OIDC apps, device-required policies including one
left behind by a removed user, a live SSO session, a device certificate), and this
version then opens it: the upgrade runs once, in one transaction, and is audited; every
user, membership, policy, session and certificate is still there, under its id; the
orphaned policy is dropped and named in the audit record.

Where the history is not available (a copy of the tree without .git, as the README's
fresh-machine check makes), the same checks that need no private key run against
tests/e2e/fixtures/schema1/data.mdb, a database written by that commit whose master key
was thrown away: users, groups, policies, certificates and the audit record.
"""
import os
import subprocess

import prev_version as pv
import sekisho_test as st

PREV = "98da112"    # last commit of main with schema 1
PASSWORD = "correct horse battery"


def populate(srv, tmp):
    """What a schema-1 directory holds; returns a logged-in browser of alice."""
    c = srv.prev_cli
    for name, email in (("alice", "alice@example.org"), ("bob", "bob@example.org"),
                        ("carol", None)):
        args = ["user", "add", name, "--password-stdin"] + (["--email", email] if email else [])
        c(*args, input=PASSWORD + "\n")
    c("group", "add", "staff")
    c("group", "add", "exempt")
    c("group", "add-member", "staff", "alice")
    c("group", "add-member", "staff", "bob")
    c("group", "add-member", "exempt", "bob")
    md = os.path.join(tmp, "crm.xml")
    with open(md, "w") as f:
        f.write(pv.SP_METADATA)
    c("app", "add-saml", "crm", "--metadata", md)
    c("app", "add-oidc", "wiki", "--redirect-uri", "https://wiki.example.org/cb")
    c("policy", "set", "--tenant", "device-required", "on")
    c("policy", "set", "--group", "exempt", "device-required", "off")
    c("policy", "set", "--app", "crm", "device-required", "on")
    c("policy", "set", "--user", "alice", "device-required", "off")
    # The defect the upgrade must not carry over: carol's exemption outlives her.
    c("policy", "set", "--user", "carol", "device-required", "off")
    c("user", "remove", "carol")
    csr = os.path.join(tmp, "dev.csr")
    key = os.path.join(tmp, "dev.key")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-subj", "/CN=x",
                    "-out", csr], check=True, capture_output=True)
    c("cert", "issue", "alice", "--label", "laptop", "--csr", csr, "--out",
      os.path.join(tmp, "dev.pem"))


def check_store(t, srv, label):
    """What survives the upgrade, read with this version's command line."""
    users = srv.cli("user", "list").stdout
    t.ok("alice\t" in users and "bob\t" in users and "carol" not in users,
         "%s: users kept" % label, users)
    t.eq(srv.cli("group", "members", "staff").stdout, "alice\nbob\n",
         "%s: memberships kept, listed by name" % label)
    t.eq(srv.cli("group", "members", "exempt").stdout, "bob\n",
         "%s: the other group's memberships kept" % label)
    pols = sorted(line for line in srv.cli("policy", "list").stdout.splitlines()
                  if "\tdevice_required\t" in line)
    t.eq(pols, ["app:crm\tdevice_required\ton", "group:exempt\tdevice_required\toff",
                "tenant\tdevice_required\ton", "user:alice\tdevice_required\toff"],
         "%s: policies kept under their objects; the removed user's is gone" % label)
    certs = srv.cli("cert", "list", "alice").stdout
    t.ok("laptop" in certs and "active" in certs, "%s: the device certificate is alice's"
         % label, certs)
    recs = [f for e, f in srv.audit() if e == "store.upgrade"]
    t.eq(len(recs), 6, "%s: the upgrade is audited once per step (1 to 2, 2 to 3, 3 to 4, "
         "4 to 5, 5 to 6, 6 to 7)" % label)
    t.ok(len(recs) == 6 and recs[1].startswith("from=2 to=3 ") and
         recs[2].startswith("from=3 to=4 ") and recs[3].startswith("from=4 to=5 ") and
         recs[4].startswith("from=5 to=6 ") and recs[5].startswith("from=6 to=7 "),
         "%s: the steps to schema 3, 4, 5, 6 and 7 follow in the same upgrade" % label, recs)
    fields = recs[0] if recs else ""
    t.ok("from=1 to=2" in fields and "users=2" in fields and "groups=2" in fields and
         "memberships=3" in fields and "policies=4" in fields, "%s: audit counts" % label,
         fields)
    t.ok("policies_dropped=user:carol/device_required=off" in fields,
         "%s: the dropped policy is named in the audit record" % label, fields)
    r = srv.cli("audit", "verify", check=False)
    t.ok(r.returncode == 0, "%s: audit chain intact" % label, r.stderr)
    srv.add_user("carol", PASSWORD)
    t.ok("carol" not in srv.cli("policy", "list").stdout,
         "%s: a new carol inherits no exemption" % label)


def any_case(t, srv):
    b = st.Browser(verify=srv.ca)
    r = b.submit_login(b.get(srv.base() + "/login"), "ALICE", PASSWORD)
    t.ok(r.status_code == 200 and "portal" in r.url, "alice logs in (any case)", r.url)


pv.Scenario(PREV, 1, populate, check_store, PASSWORD, 6, any_case).main()
