"""An earlier commit of Sekisho, built from the repository's history, for upgrade tests.

build(commit) builds its sekishod and sekisho once per machine (cached by commit under
$TMPDIR); PrevServer runs a test server's commands and daemon with those binaries until
the test switches to this version's.  have_history(commit) says whether the checkout has
that commit (a copy of the tree without .git has none).  main() runs an upgrade scenario:
from a directory populated by that commit when the history is there, and always from the
committed fixture database it wrote (SEKISHO_MAKE_FIXTURE=1 writes it again).
"""
import os
import shutil
import subprocess
import tempfile

import sekisho_test as st

# A SAML app for the directories to hold.
SP_METADATA = """<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
 entityID="https://crm.example.org/sp">
<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
 Location="https://crm.example.org/acs" index="0" isDefault="true"/>
</md:SPSSODescriptor></md:EntityDescriptor>"""


def have_history(commit):
    r = subprocess.run(["git", "-C", st.SRCDIR, "cat-file", "-e", commit + "^{commit}"],
                       capture_output=True)
    return r.returncode == 0


def build(commit):
    """sekishod and sekisho of commit, built once per machine (cached by commit)."""
    cache = os.path.join(tempfile.gettempdir(), "sekisho-prev-%s" % commit)
    bins = (os.path.join(cache, "idp", "sekishod"), os.path.join(cache, "cli", "sekisho"))
    if all(os.access(b, os.X_OK) for b in bins):
        return bins
    work = cache + ".tmp.%d" % os.getpid()
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    archive = subprocess.run(["git", "-C", st.SRCDIR, "archive", commit], capture_output=True,
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


def copy_data(srv, fixture_dir):
    """Write a compacted copy of srv's database (no keys: they are in master.key) into
    fixture_dir/data.mdb."""
    os.makedirs(fixture_dir, exist_ok=True)
    out = tempfile.mkdtemp(prefix="sekisho-fixture-")
    try:
        subprocess.run(["mdb_copy", "-c", os.path.join(srv.dir, "data"), out], check=True)
        shutil.copy(os.path.join(out, "data.mdb"), os.path.join(fixture_dir, "data.mdb"))
    finally:
        shutil.rmtree(out, ignore_errors=True)


def use_fixture(srv, fixture_dir):
    """Replace srv's (stopped) database with the committed one in fixture_dir."""
    data = os.path.join(srv.dir, "data")
    shutil.rmtree(data)
    os.makedirs(data)
    shutil.copy(os.path.join(fixture_dir, "data.mdb"), os.path.join(data, "data.mdb"))


def upgrades(srv, tenant=None):
    """The fields of the tenant's store.upgrade audit records."""
    return [f for e, f in srv.audit(tenant=tenant) if e == "store.upgrade"]


def refused_by_prev(t, srv):
    """Once upgraded, the previous version refuses the directory."""
    srv.stop()
    r = srv.prev_cli("user", "list", check=False)
    t.ok(r.returncode != 0 and "unknown schema version" in r.stderr,
         "the previous version refuses the upgraded directory", r.stdout + r.stderr)


class Scenario:
    """An upgrade from commit prev (schema n): populate(srv, tmp) fills a directory with
    the previous version's commands, alice logging in with password; check_store(t, srv,
    label) reads it with this version's; records: how many store.upgrade records that
    makes in the default tenant; extra(t, srv): more checks once the server has stopped."""

    def __init__(self, prev, schema, populate, check_store, password, records, extra=None):
        self.prev, self.schema, self.populate = prev, schema, populate
        self.check_store, self.password, self.records = check_store, password, records
        self.extra = extra
        self.fixture = os.path.join(st.SRCDIR, "tests", "e2e", "fixtures",
                                    "schema%d" % schema)

    def from_history(self, t):
        srv = PrevServer(build(self.prev), start=False)
        tmp = tempfile.mkdtemp(prefix="sekisho-upgrade-")
        try:
            self.populate(srv, tmp)
            srv.prev_start()
            b = st.Browser(verify=srv.ca)
            r = b.submit_login(b.get(srv.base() + "/login"), "alice", self.password)
            t.ok(r.status_code == 200 and "alice" in r.text, "previous version: alice logs in")
            srv.stop()
            srv.start()     # this version: the upgrade runs as the worker opens the store
            r = b.get(srv.base() + "/portal")
            t.ok(r.status_code == 200 and "alice" in r.text and "/login" not in r.url,
                 "a session made by the previous version is still valid", r.url)
            self.check_store(t, srv, "built from history")
            srv.restart()
            t.eq(len([1 for e, _ in srv.audit() if e == "store.upgrade"]), self.records,
                 "a second start does not upgrade again")
            if self.extra:
                self.extra(t, srv)
        finally:
            srv.close()
            shutil.rmtree(tmp, ignore_errors=True)

    def from_fixture(self, t):
        srv = st.Server(start=False)
        try:
            use_fixture(srv, self.fixture)
            self.check_store(t, srv, "fixture")
        finally:
            srv.close()

    def make_fixture(self):
        """The fixture database, written by prev (its keys are not kept)."""
        srv = PrevServer(build(self.prev), start=False)
        tmp = tempfile.mkdtemp(prefix="sekisho-fixture-")
        try:
            self.populate(srv, tmp)
            copy_data(srv, self.fixture)
        finally:
            srv.close()
            shutil.rmtree(tmp, ignore_errors=True)

    def main(self):
        if os.environ.get("SEKISHO_MAKE_FIXTURE") == "1":
            self.make_fixture()
            return
        t = st.Tap()
        if have_history(self.prev):
            t.run("upgrade from the previous commit", self.from_history, t)
        t.run("upgrade of the committed schema-%d database" % self.schema, self.from_fixture, t)
        t.done()
