"""Storage under faults: the worker killed with SIGKILL at random moments while SSOs are
being written (the supervisor restarts it), then every acknowledged SSO must be in the
database, the audit chain intact and the server serving; a full map must refuse writes
cleanly while reads keep working, and a larger map must keep all data; a worker that
cannot start after a crash never takes the listener down."""
import concurrent.futures
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import sekisho_test as st

sys.path.insert(0, st.PEERS)
import samlforge as sf  # noqa: E402

t = st.Tap()
ROUNDS = 12


def worker_pid(srv):
    return srv.worker_pid()


def register_sp(srv, tmp):
    """An SP that does not sign its requests; Sekisho's answers are read, not posted."""
    acs = "http://127.0.0.1:9/acs"
    entity = "http://127.0.0.1/storage-sp"
    md = os.path.join(tmp, "sp.xml")
    with open(md, "w") as f:
        f.write(sf.sp_metadata(entity, [acs], "http://127.0.0.1:9/slo"))
    srv.cli("app", "add-saml", "storage", "--metadata", md)
    return entity, acs


def sso_once(srv, browser, entity, n):
    """One SP-initiated SSO over POST; the request ID if Sekisho answered it, else None."""
    rid = "_crash%06d_%s" % (n, os.urandom(4).hex())
    xml = sf.authn_request(entity, srv.base() + "/saml/sso", id=rid)
    try:
        r = browser.s.post(srv.base() + "/saml/sso", data={"SAMLRequest": sf.post_value(xml)},
                           verify=srv.ca, timeout=10, allow_redirects=False)
    except Exception:
        return None
    return rid if r.status_code == 200 and 'id="sekisho-post"' in r.text else None


def crash_rounds(srv, entity):
    b = st.Browser(verify=srv.ca)
    b.submit_login(b.get(srv.base() + "/login"), "carol", "carol-password-1")
    acked = []
    lock = threading.Lock()
    counter = iter(range(10 ** 6))
    stop = threading.Event()

    def load():
        while not stop.is_set():
            with lock:
                n = next(counter)
            rid = sso_once(srv, b, entity, n)
            if rid:
                with lock:
                    acked.append(rid)

    kills = 0
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        futs = [ex.submit(load) for _ in range(4)]
        for _ in range(ROUNDS):
            # Past 2 s a worker counts as having served: it is restarted at once.
            time.sleep(random.uniform(2.1, 2.8))
            pid = worker_pid(srv)
            if pid:
                os.kill(pid, signal.SIGKILL)
                kills += 1
            # The supervisor starts a new worker within a second or two.
            deadline = time.time() + 15
            while time.time() < deadline and worker_pid(srv) in (None, pid):
                time.sleep(0.05)
        stop.set()
        for f in futs:
            f.result()
    t.eq(kills, ROUNDS, "worker killed with SIGKILL %d times under SSO load" % ROUNDS)
    t.ok(len(acked) > ROUNDS * 5, "%d SSOs were answered across the kills" % len(acked))
    return acked


def main():
    tmp = tempfile.mkdtemp(prefix="sekisho-storage-")
    srv = st.Server()
    try:
        srv.add_user("carol", "carol-password-1", email="carol@example.com")
        entity, _ = register_sp(srv, tmp)
        acked = crash_rounds(srv, entity)
        recorded = set(re.findall(r"request=(_crash\S+)",
                                  "\n".join(f for e, f in srv.audit() if e == "saml.sso")))
        lost = [r for r in acked if r not in recorded]
        t.ok(not lost, "every answered SSO is in the database after the crashes (%d)"
             % len(acked), "lost: %r" % lost[:10])
        r = srv.cli("audit", "verify", check=False)
        t.ok(r.returncode == 0, "the audit chain is intact after the crashes", r.stdout + r.stderr)
        restarts = srv.log().count("worker exited")
        # The only deaths are the kills: a worker that crashed by itself (a fresh worker
        # meeting its first requests from many threads at once) is a bug.
        other = [line for line in srv.log().splitlines() if " error: " in line and
                 "supervise: worker exited (signal 9)" not in line]
        t.eq(other, [], "no worker crashed or failed by itself during the kills")
        t.ok(restarts >= ROUNDS, "the supervisor restarted the worker each time (%d)" % restarts)
        b = st.Browser(verify=srv.ca)
        r = b.submit_login(b.get(srv.base() + "/login"), "carol", "carol-password-1")
        t.ok(r.status_code == 200 and "portal" in r.url, "the server serves logins afterwards")
        if acked:
            # A request answered before a crash stays answered: its ID is remembered.
            xml = sf.authn_request(entity, srv.base() + "/saml/sso", id=acked[0])
            r = b.s.post(srv.base() + "/saml/sso", data={"SAMLRequest": sf.post_value(xml)},
                         verify=srv.ca, timeout=10, allow_redirects=False)
            t.ok(r.status_code == 400 and 'id="sekisho-post"' not in r.text,
                 "a request answered before the crashes is refused as a replay")
        worker_cannot_start(srv)
    except BaseException:
        # What the server said is the clue: it goes with the failure into the TAP output.
        for line in srv.log().splitlines()[-40:]:
            print("# " + line)
        raise
    finally:
        srv.close()
    full_map(tmp)
    t.done()


def worker_cannot_start(srv):
    """A worker that crashes and then cannot start (its database unreachable for a while):
    the supervisor keeps the listener and retries with a back-off; the service comes back
    when the database does, with no restart by an operator."""
    data = os.path.join(srv.dir, "data")
    os.rename(data, data + ".away")
    with open(data, "w") as f:
        f.write("not a directory\n")
    try:
        os.kill(worker_pid(srv), signal.SIGKILL)
        deadline = time.time() + 30
        while time.time() < deadline and srv.log().count("worker exited (status 1)") < 2:
            time.sleep(0.1)
        t.ok(srv.log().count("worker exited (status 1)") >= 2 and srv.proc.poll() is None,
             "a worker that cannot open the database is retried; the supervisor stays up")
        t.ok("failed to start" not in srv.log(), "it is not taken for a configuration error")
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5):
            pass
        t.ok(True, "the listening socket still accepts connections meanwhile")
    finally:
        os.unlink(data)
        os.rename(data + ".away", data)
    deadline = time.time() + 30
    ok = False
    while time.time() < deadline and not ok:
        b = st.Browser(verify=srv.ca)
        try:
            r = b.submit_login(b.get(srv.base() + "/login", timeout=5), "carol",
                               "carol-password-1")
            ok = r.status_code == 200 and "portal" in r.url
        except Exception:
            time.sleep(0.5)
    t.ok(ok, "once the database is back, logins work again without an operator")


def full_map(tmp):
    """map_size = map_size_max = 1 MiB: users until the map is full."""
    srv = st.Server(extra_config=["map_size 1m", "map_size_max 1m"])
    try:
        srv.add_user("dora", "dora-password-1", email="dora@example.com")
        path = os.path.join(tmp, "users.tsv")
        full = None
        for batch in range(40):
            with open(path, "w") as f:
                for i in range(200):
                    f.write("u%03d%03d\tu%03d%03d@example.com\t%s\n" % (batch, i, batch, i,
                                                                       "x" * 200))
            r = srv.cli("user", "import", path, check=False)
            if r.returncode != 0:
                full = r
                break
        t.ok(full is not None and "database full" in full.stderr,
             "the CLI says the database is full", full and full.stderr[-300:])
        # Then the last small records, until not even one user fits.
        for i in range(2000):
            if srv.cli("user", "add", "z%04d" % i, check=False).returncode != 0:
                break
        b = st.Browser(verify=srv.ca)
        r = b.get(srv.base() + "/login")
        t.ok(r.status_code == 200 and b.login_form(r) is not None,
             "reads still work with a full map (login page)")
        # Each login writes a session: some pages may still be free, so log in until one
        # is refused; that refusal must be clean.
        refused = None
        for _ in range(3000):
            b = st.Browser(verify=srv.ca)
            r = b.submit_login(b.get(srv.base() + "/login"), "dora", "dora-password-1")
            if r.status_code != 200:
                refused = (r, b)
                break
        t.ok(refused is not None and refused[0].status_code in (503, 507) and
             "sekisho_sid" not in refused[1].s.cookies,
             "a login that needs a write is refused cleanly (%s), no session"
             % (refused and refused[0].status_code))
        # No certificate leaves the ca process unless its record committed.
        p12 = os.path.join(tmp, "full.p12")
        r = srv.cli("cert", "issue", "dora", "--label", "laptop", "--out", p12,
                    "--password-stdin", input="p12-password-full\n", check=False)
        t.ok(r.returncode != 0 and not os.path.exists(p12) and
             srv.cli("cert", "list", "dora").stdout == "",
             "a full map: cert issue fails, writes no file, records nothing",
             r.stdout + r.stderr)
        users_before = srv.cli("user", "list").stdout.count("\n")
        srv.stop()
        with open(os.path.join(srv.dir, "sekishod.conf"), "a") as f:
            f.write("map_size_max 64m\n")
        srv.start()
        t.eq(srv.cli("user", "list").stdout.count("\n"), users_before,
             "after a restart with a larger map every user is still there")
        b = st.Browser(verify=srv.ca)
        r = b.submit_login(b.get(srv.base() + "/login"), "dora", "dora-password-1")
        t.ok(r.status_code == 200 and "portal" in r.url, "and logins work again")
        r = srv.cli("cert", "issue", "dora", "--label", "laptop", "--out", p12,
                    "--password-stdin", input="p12-password-full\n", check=False)
        t.ok(r.returncode == 0 and os.path.exists(p12) and
             srv.cli("cert", "list", "dora").stdout.count("\tactive\t") == 1,
             "and so does cert issue", r.stdout + r.stderr)
    finally:
        srv.close()


main()
