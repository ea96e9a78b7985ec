"""Group commit: under concurrent load the worker's write transactions share durable
commits, so a burst of SAML SSOs or OIDC client_credentials grants costs fewer syncs
(fdatasync/fsync calls, counted with strace on the worker) than it has answers; a synced
commit of its own per answer costs one (and a synchronous write of the meta page).  A
behaviour check, not a timing: every answer is still a 200 whose record is stored.  And
the worker's housekeeping, which writes per tenant, still prunes the audit trail."""
import concurrent.futures
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time

import requests

import sekisho_test as st

sys.path.insert(0, st.PEERS)
import oidcforge as of  # noqa: E402
import samlforge as sf  # noqa: E402

t = st.Tap()
CLIENTS = 32	# concurrent clients, each on its own connection
EACH = 6	# answers each client asks for


class Syncs:
    """strace counting the sync calls of every thread of the worker while it runs."""

    def __init__(self, pid, tmp):
        self.out = os.path.join(tmp, "strace-%d.txt" % time.monotonic_ns())
        threads = len(os.listdir("/proc/%d/task" % pid))
        self.p = subprocess.Popen(["strace", "-f", "-c", "-e", "trace=fdatasync,fsync",
                                   "-p", str(pid), "-o", self.out],
                                  stderr=subprocess.PIPE, text=True)
        # "Process N attached with M threads", or one "attached" line per thread.
        attached = 0
        while attached < threads:
            line = self.p.stderr.readline()
            if not line:
                raise RuntimeError("strace ended before it attached")
            m = re.search(r" attached with (\d+) threads", line)
            attached += int(m.group(1)) if m else " attached" in line

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        self.p.communicate(timeout=60)
        with open(self.out) as f:
            table = f.read()
        calls = sum(int(m.group(1)) for m in
                    re.finditer(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?f(?:data)?sync$",
                                table, re.M))
        return calls, table


def burst(one):
    """CLIENTS clients at once, EACH answers each; the results of one(session, n)."""
    def client(c):
        s = requests.Session()
        s.trust_env = False
        return [one(s, c * EACH + i) for i in range(EACH)]

    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as ex:
        return [r for rs in ex.map(client, range(CLIENTS)) for r in rs]


def measure(srv, tmp, name, one):
    """Answers and syncs of a burst; the check that syncs are fewer than answers."""
    syncs = Syncs(srv.worker_pid(), tmp)
    try:
        results = burst(one)
    finally:
        calls, table = syncs.stop()
    answered = sum(1 for r in results if r)
    t.eq(answered, CLIENTS * EACH, "%s: every request of the burst was answered" % name)
    t.ok(0 < calls < answered,
         "%s: %d answers cost %d sync calls (%.2f per answer; a commit each costs 1)"
         % (name, answered, calls, calls / max(answered, 1)), table)
    return results


def saml(srv, tmp):
    acs = "http://127.0.0.1:9/acs"
    entity = "http://127.0.0.1/commit-sp"
    md = os.path.join(tmp, "sp.xml")
    with open(md, "w") as f:
        f.write(sf.sp_metadata(entity, [acs], "http://127.0.0.1:9/slo"))
    srv.cli("app", "add-saml", "commit", "--metadata", md)
    b = st.Browser(verify=srv.ca)
    b.submit_login(b.get(srv.base() + "/login"), "carol", "carol-password-1")
    cookies = b.s.cookies

    def sso(s, n):
        s.cookies.update(cookies)
        rid = "_commit%06d_%s" % (n, os.urandom(4).hex())
        xml = sf.authn_request(entity, srv.base() + "/saml/sso", id=rid)
        r = s.post(srv.base() + "/saml/sso", data={"SAMLRequest": sf.post_value(xml)},
                   verify=srv.ca, timeout=60, allow_redirects=False)
        return rid if r.status_code == 200 and 'id="sekisho-post"' in r.text else None

    rids = measure(srv, tmp, "SAML SSO", sso)
    recorded = set(re.findall(r"request=(_commit\S+)",
                              "\n".join(f for e, f in srv.audit() if e == "saml.sso")))
    t.ok(all(r in recorded for r in rids if r),
         "every answered SSO of the burst is recorded in the database")


def client_credentials(srv, tmp):
    out = srv.cli("app", "add-oidc", "commit-cc", "--grant", "client_credentials").stdout
    cid, secret = of.parse_registration(out)
    auth = {"Authorization": of.basic(cid, secret)}
    url = srv.base() + "/oidc/token"

    def grant(s, n):
        r = s.post(url, data={"grant_type": "client_credentials"}, headers=auth,
                   verify=srv.ca, timeout=60)
        return r.status_code == 200 and "access_token" in r.json()

    measure(srv, tmp, "OIDC client_credentials", grant)


def housekeeping_prunes():
    """Housekeeping prunes each tenant's audit trail: a write per tenant, made after the
    tenants are listed (a write from inside the listing's read transaction is refused)."""
    srv = st.Server()
    wrapper = os.environ.get("SEKISHO_WRAPPER")
    try:
        srv.add_user("dave", "dave-password-1")
        b = st.Browser(verify=srv.ca)
        b.submit_login(b.get(srv.base() + "/login"), "dave", "dave-password-1")
        t.ok([f for e, f in srv.audit() if e == "login.ok"], "a login is audited")
        # 400 days on, the worker starts with everything past the 13-month retention.
        srv.stop()
        os.environ["SEKISHO_WRAPPER"] = shlex.join(st.faketime(["-f", "+400d"]) +
                                                   shlex.split(wrapper or ""))
        try:
            srv.start()
        finally:
            os.environ.pop("SEKISHO_WRAPPER")
            if wrapper is not None:
                os.environ["SEKISHO_WRAPPER"] = wrapper
        deadline = time.time() + 30
        while time.time() < deadline and "retention period pruned" not in srv.log():
            time.sleep(0.1)
        t.ok("tenant default: audit records before the retention period pruned" in srv.log(),
             "the worker's housekeeping pruned the audit trail at start", srv.log()[-2000:])
        t.eq([f for e, f in srv.audit() if e == "login.ok"], [],
             "the record older than the 13-month retention is gone")
        r = srv.cli("audit", "verify", check=False)
        t.ok(r.returncode == 0, "the pruned chain verifies", r.stdout + r.stderr)
    finally:
        srv.close()


def main():
    tmp = tempfile.mkdtemp(prefix="sekisho-commit-")
    # More HTTP threads than cores: while one thread syncs, the others queue behind it.
    srv = st.Server(extra_config=["threads 16", "max_connections_per_ip 256"])
    try:
        srv.add_user("carol", "carol-password-1", email="carol@example.com")
        saml(srv, tmp)
        client_credentials(srv, tmp)
        r = srv.cli("audit", "verify", check=False)
        t.ok(r.returncode == 0, "the audit chain is intact after the bursts", r.stdout + r.stderr)
    except BaseException:
        for line in srv.log().splitlines()[-40:]:
            print("# " + line)
        raise
    finally:
        srv.close()
    housekeeping_prunes()
    t.done()


main()
