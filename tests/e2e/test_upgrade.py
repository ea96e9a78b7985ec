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
import shutil
import subprocess
import tempfile

import sekisho_test as st

PREV = "98da112"    # last commit of main with schema 1
FIXTURE = os.path.join(st.SRCDIR, "tests", "e2e", "fixtures", "schema1")
PASSWORD = "correct horse battery"
SP_METADATA = """<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
 entityID="https://crm.example.org/sp">
<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
 Location="https://crm.example.org/acs" index="0" isDefault="true"/>
</md:SPSSODescriptor></md:EntityDescriptor>"""


def have_history():
    r = subprocess.run(["git", "-C", st.SRCDIR, "cat-file", "-e", PREV + "^{commit}"],
                       capture_output=True)
    return r.returncode == 0


def build_prev():
    """sekishod and sekisho of PREV, built once per machine (cached by commit)."""
    cache = os.path.join(tempfile.gettempdir(), "sekisho-prev-%s" % PREV)
    bins = (os.path.join(cache, "idp", "sekishod"), os.path.join(cache, "cli", "sekisho"))
    if all(os.access(b, os.X_OK) for b in bins):
        return bins
    work = cache + ".tmp"
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    archive = subprocess.run(["git", "-C", st.SRCDIR, "archive", PREV], capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", work], input=archive, check=True)
    for cmd in (["./autogen.sh"], ["./configure"], ["make", "-j%d" % (os.cpu_count() or 1),
                                                   "idp/sekishod", "cli/sekisho"]):
        subprocess.run(cmd, cwd=work, check=True, capture_output=True)
    shutil.rmtree(cache, ignore_errors=True)
    os.rename(work, cache)
    return bins


class PrevServer(st.Server):
    """A Server run with the previous version's binaries."""

    def __init__(self, bins, **kw):
        self.bins = bins
        with self.using_prev():
            super().__init__(**kw)

    def using_prev(self):
        bins = self.bins

        class Swap:
            def __enter__(self):
                self.saved = (st.SEKISHOD, st.SEKISHO)
                st.SEKISHOD, st.SEKISHO = bins

            def __exit__(self, *exc):
                st.SEKISHOD, st.SEKISHO = self.saved
        return Swap()

    def prev_cli(self, *args, **kw):
        with self.using_prev():
            return self.cli(*args, **kw)

    def prev_start(self):
        with self.using_prev():
            self.start()


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
        f.write(SP_METADATA)
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
    pols = sorted(srv.cli("policy", "list").stdout.splitlines())
    t.eq(pols, ["app:crm\tdevice_required\ton", "group:exempt\tdevice_required\toff",
                "tenant\tdevice_required\ton", "user:alice\tdevice_required\toff"],
         "%s: policies kept under their objects; the removed user's is gone" % label)
    certs = srv.cli("cert", "list", "alice").stdout
    t.ok("laptop" in certs and "active" in certs, "%s: the device certificate is alice's"
         % label, certs)
    recs = [f for e, f in srv.audit() if e == "store.upgrade"]
    t.eq(len(recs), 1, "%s: the upgrade is audited once" % label)
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


def from_history(t):
    bins = build_prev()
    tmp = tempfile.mkdtemp(prefix="sekisho-upgrade-")
    srv = PrevServer(bins, start=False)
    try:
        populate(srv, tmp)
        srv.prev_start()
        b = st.Browser(verify=srv.ca)
        r = b.submit_login(b.get(srv.base() + "/login"), "alice", PASSWORD)
        t.ok(r.status_code == 200 and "alice" in r.text, "previous version: alice logs in")
        srv.stop()
        srv.start()     # this version: the upgrade runs as the worker opens the store
        r = b.get(srv.base() + "/portal")
        t.ok(r.status_code == 200 and "alice" in r.text and "/login" not in r.url,
             "a session made by the previous version is still valid", r.url)
        b2 = st.Browser(verify=srv.ca)
        r = b2.submit_login(b2.get(srv.base() + "/login"), "ALICE", PASSWORD)
        t.ok(r.status_code == 200 and "portal" in r.url, "alice logs in (any case)", r.url)
        check_store(t, srv, "built from history")
        srv.restart()
        t.eq(len([1 for e, _ in srv.audit() if e == "store.upgrade"]), 1,
             "a second start does not upgrade again")
    finally:
        srv.close()
        shutil.rmtree(tmp, ignore_errors=True)


def from_fixture(t):
    srv = st.Server(start=False)
    try:
        data = os.path.join(srv.dir, "data")
        shutil.rmtree(data)
        os.makedirs(data)
        shutil.copy(os.path.join(FIXTURE, "data.mdb"), os.path.join(data, "data.mdb"))
        check_store(t, srv, "fixture")
    finally:
        srv.close()


def make_fixture():
    """SEKISHO_MAKE_FIXTURE=1: write the schema-1 fixture with PREV (keys are not kept)."""
    bins = build_prev()
    tmp = tempfile.mkdtemp(prefix="sekisho-fixture-")
    srv = PrevServer(bins, start=False)
    try:
        populate(srv, tmp)
        os.makedirs(FIXTURE, exist_ok=True)
        out = os.path.join(tmp, "copy")
        os.makedirs(out)
        subprocess.run(["mdb_copy", "-c", os.path.join(srv.dir, "data"), out], check=True)
        shutil.copy(os.path.join(out, "data.mdb"), os.path.join(FIXTURE, "data.mdb"))
    finally:
        srv.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if os.environ.get("SEKISHO_MAKE_FIXTURE") == "1":
        make_fixture()
        return
    t = st.Tap()
    if have_history():
        t.run("upgrade from the previous commit", from_history, t)
    t.run("upgrade of the committed schema-1 database", from_fixture, t)
    t.done()


main()
