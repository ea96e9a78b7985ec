#!/usr/bin/python3
"""End to end: privilege separation between sekishod's worker and its ca process.

Needs root (CI runs the tests as root): it makes a group and two system users for the
scenario and removes them at the end.
  user      `user W` only: ca.key stays root's (0600); the worker runs as W and, with its
            own credentials, cannot open ca.key; the ca process still unseals a CA key
            (it re-signs a stale CRL at start, as root-only ca.key demands that it read
            the key before dropping privileges); both children are not dumpable.
  refusals  sekishod -n and the start refuse a ca.key that W owns or may read.
  ca_user   `ca_user C`: the ca process runs as C (ca.key may be C's), the worker as W;
            the worker still gets certificates issued (admin API) by asking the ca process
            over their socketpair.
  no root   sekishod started by an unprivileged user (no uid change): the children
            still make themselves non-dumpable.
"""
import datetime
import os
import pwd
import re
import secrets
import signal
import subprocess
import sys
import time

import requests

import sekisho_test
from api_common import ApiClient, make_key
from sekisho_test import Server, Tap


def run(cmd, **kw):
    kw.setdefault("timeout", 120)
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def creds(pid):
    """(uids, gids, groups) of a process from /proc/PID/status."""
    with open("/proc/%d/status" % pid) as f:
        st = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    return ([int(x) for x in st["Uid"].split()], [int(x) for x in st["Gid"].split()],
            [int(x) for x in st.get("Groups", "").split()])


def as_process(pid, code, *args):
    """Run python code (with args) as the ids and groups of process pid."""
    uids, gids, groups = creds(pid)
    cmd = ["setpriv", "--reuid=%d" % uids[1], "--regid=%d" % gids[1]]
    cmd += ["--groups=" + ",".join(map(str, groups))] if groups else ["--clear-groups"]
    return run(cmd + [sys.executable, "-c", code] + list(args), cwd="/")


OPEN = """
import sys
try:
    open(sys.argv[1], "rb").read()
    print("opened")
except PermissionError:
    print("denied")
"""


def can_open(pid, path):
    """"opened" or "denied": path opened with the credentials of process pid."""
    r = as_process(pid, OPEN, path)
    return r.stdout.strip() or r.stderr.strip()


def status_uid(pid):
    return creds(pid)[0]


class Users:
    """A group and two system users made for the scenario (removed by close())."""

    def __init__(self):
        tag = secrets.token_hex(3)
        self.group = "sekt-" + tag
        self.worker = "sekt-w-" + tag
        self.ca = "sekt-ca-" + tag
        self.made = []
        self._do(["groupadd", "-r", self.group], ("groupdel", self.group))
        for name in (self.worker, self.ca):
            self._do(["useradd", "-r", "-M", "-N", "-g", self.group, "-d", "/nonexistent",
                      "-s", "/usr/sbin/nologin", name], ("userdel", name))
        self.uid = pwd.getpwnam(self.worker).pw_uid
        self.ca_uid = pwd.getpwnam(self.ca).pw_uid
        self.gid = pwd.getpwnam(self.worker).pw_gid

    def _do(self, cmd, undo):
        r = run(cmd)
        if r.returncode != 0:
            raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr))
        self.made.append(undo)

    def close(self):
        for undo in reversed(self.made):
            run(list(undo))


def share(srv, users):
    """The directory as the man page wants it for user (and ca_user): DIR/data theirs
    (group-writable for both), the keys root's, DIR traversable by the group."""
    os.chmod(srv.tmp, 0o711)
    os.chown(srv.dir, 0, users.gid)
    os.chmod(srv.dir, 0o750)
    data = os.path.join(srv.dir, "data")
    os.chown(data, users.uid, users.gid)
    os.chmod(data, 0o770)
    for f in os.listdir(data):
        os.chown(os.path.join(data, f), users.uid, users.gid)
        os.chmod(os.path.join(data, f), 0o660)


def stale_crl_tenant(srv, tenant):
    """A tenant whose CA and CRL were made 60 days ago (faketime): its CRL is stale, so the
    server's ca process re-signs it at start, which needs the unsealed CA key."""
    r = run(sekisho_test.faketime(["-f", "-60d"]) + [sekisho_test.SEKISHO, "--dir", srv.dir,
                                                     "tenant", "add", tenant])
    if r.returncode != 0:
        raise RuntimeError("tenant add %s: %s" % (tenant, r.stderr))
    ca = os.path.join(srv.tmp, tenant + "-ca.pem")
    srv.cli("cert", "ca", "--out", ca, tenant=tenant)
    return ca


def crl_resigned(srv, tenant, ca):
    """Wait for the CRL served for tenant to be one signed today by its CA: (ok, detail)."""
    path = os.path.join(srv.tmp, tenant + ".crl")
    detail = "no CRL"
    end = time.time() + 60
    while time.time() < end:
        r = requests.get(srv.base(tenant) + "/certs/crl", verify=srv.ca, timeout=10)
        if r.status_code == 200:
            with open(path, "wb") as f:
                f.write(r.content)
            v = run(["openssl", "crl", "-inform", "DER", "-in", path, "-CAfile", ca,
                     "-noout", "-lastupdate"])
            m = re.search(r"lastUpdate=(.*GMT)", v.stdout)
            detail = v.stdout + v.stderr
            if m and "verify OK" in v.stdout + v.stderr:
                last = datetime.datetime.strptime(m.group(1), "%b %d %H:%M:%S %Y %Z")
                if abs((datetime.datetime.utcnow() - last).days) < 1:
                    return True, detail
        time.sleep(0.2)
    return False, detail + "\n" + srv.log()[-2000:]


def check_n(srv):
    return run([sekisho_test.SEKISHOD, "--dir", srv.dir, "-n"])


def start_refused(srv):
    """sekishod -f on srv: (exited with status 1 by itself, output)."""
    p = subprocess.Popen([sekisho_test.SEKISHOD, "--dir", srv.dir, "-f"], text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=20)
        return p.returncode == 1, out
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGTERM)
        out, _ = p.communicate()
        return False, "still running after 20 s:\n" + out


def not_dumpable(t, srv, what, pid):
    """Another process with pid's own credentials cannot read its memory maps or
    environment (a dumpable process of the same uid can)."""
    env = "/proc/%d/environ" % pid
    t.eq(can_open(pid, env), "denied", "%s: a process with its uid cannot read %s (not "
         "dumpable)" % (what, env))
    t.eq(os.stat(env).st_uid, 0, "%s: its /proc files belong to root (not dumpable)" % what)


def part_user(t, users):
    srv = Server(extra_config=["user " + users.worker], start=False)
    try:
        ca = stale_crl_tenant(srv, "crlt")
        share(srv, users)
        cakey = os.path.join(srv.dir, "ca.key")
        st = os.stat(cakey)
        t.ok(st.st_uid == 0 and st.st_mode & 0o777 == 0o600, "ca.key is root's, mode 600")
        r = check_n(srv)
        t.ok(r.returncode == 0 and "configuration OK" in r.stdout,
             "sekishod -n: root's ca.key with user set is OK", r.stdout + r.stderr)
        srv.start()
        w, c = srv.worker_pid(), srv.ca_pid()
        t.ok(w and c, "worker and ca process run", srv.children())
        t.eq(status_uid(w), [users.uid] * 4, "the worker runs as user (all four uids)")
        t.eq(status_uid(c), [users.uid] * 4, "without ca_user the ca process runs as user")
        t.eq(can_open(w, cakey), "denied", "with the worker's credentials ca.key cannot be "
             "opened")
        t.eq(can_open(w, os.path.join(srv.dir, "master.key")), "denied",
             "nor master.key (the worker got the master key from the parent)")
        ok, detail = crl_resigned(srv, "crlt", ca)
        t.ok(ok, "the server's ca process unsealed the CA key: it re-signed the stale CRL",
             detail)
        not_dumpable(t, srv, "worker", w)
        not_dumpable(t, srv, "ca process", c)
        # The operator's command line, as root, still issues with the root-only ca.key.
        srv.add_user("alice", "alice-password-1")
        r = srv.cli("cert", "issue", "alice", "--label", "laptop", "--out",
                    os.path.join(srv.tmp, "a.p12"), "--password-stdin",
                    input="p12-password-for-tests\n", check=False)
        t.ok(r.returncode == 0, "sekisho cert issue as root works with root's ca.key",
             r.stderr)
    finally:
        srv.close()


def part_refusals(t, users):
    """ca.key readable or changeable by user: -n and the start refuse, naming the file."""
    srv = Server(extra_config=["user " + users.worker], start=False)
    try:
        share(srv, users)
        refusals(t, srv, users, os.path.join(srv.dir, "ca.key"))
    finally:
        srv.close()


def refusals(t, srv, users, cakey):
    cases = [("owned by user", users.uid, 0, 0o600),
             ("readable by user's group", 0, users.gid, 0o640),
             ("readable by others", 0, 0, 0o604)]
    for name, uid, gid, mode in cases:
        os.chown(cakey, uid, gid)
        os.chmod(cakey, mode)
        r = check_n(srv)
        t.ok(r.returncode == 1 and "ca.key" in r.stderr and "configuration OK" not in r.stdout,
             "sekishod -n: ca.key %s is an error" % name, r.stdout + r.stderr)
        refused, out = start_refused(srv)
        t.ok(refused and "ca.key" in out, "sekishod refuses to start with ca.key %s" % name,
             out[-1500:])


def api_issue(t, srv, what):
    """An issuance through the admin API: the worker asks the ca process."""
    srv.add_user("dora", "dora-password-1")
    csr = os.path.join(srv.tmp, "dora.csr")
    r = run(["openssl", "req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-keyout", csr + ".key", "-out", csr, "-subj",
             "/CN=dora"])
    with open(csr) as f:
        body = {"user": "dora", "label": "api", "csr": f.read()}
    api = ApiClient(srv, "default", [make_key(srv, "default", "certs", "read,certs")])
    r = api.request("POST", "certificates", json=body)
    t.ok(r.status_code == 201 and "BEGIN CERTIFICATE" in r.json().get("certificate", ""),
         "%s: the worker has a certificate issued by asking the ca process" % what,
         "%d %s" % (r.status_code, r.text[:300]))


def part_ca_user(t, users):
    srv = Server(extra_config=["user " + users.worker, "ca_user " + users.ca], start=False)
    try:
        ca = stale_crl_tenant(srv, "crlt")
        share(srv, users)
        cakey = os.path.join(srv.dir, "ca.key")
        os.chown(cakey, users.ca_uid, users.gid)
        r = check_n(srv)
        t.ok(r.returncode == 0, "sekishod -n: ca.key owned by ca_user (600) is OK",
             r.stdout + r.stderr)
        srv.start()
        w, c = srv.worker_pid(), srv.ca_pid()
        t.eq(status_uid(c), [users.ca_uid] * 4, "with ca_user the ca process runs as ca_user")
        t.eq(status_uid(w), [users.uid] * 4, "and the worker as user")
        t.eq(can_open(w, cakey), "denied", "the worker cannot open ca_user's ca.key")
        ok, detail = crl_resigned(srv, "crlt", ca)
        t.ok(ok, "the ca process as ca_user re-signed the stale CRL", detail)
        api_issue(t, srv, "ca_user")
        not_dumpable(t, srv, "ca process (ca_user)", c)
    finally:
        srv.close()
    bad = Server(extra_config=["ca_user " + users.ca], start=False)
    try:
        r = check_n(bad)
        t.ok(r.returncode == 1 and "ca_user" in r.stderr, "ca_user without user is an error",
             r.stdout + r.stderr)
    finally:
        bad.close()


def part_unprivileged(t, users):
    """sekishod started as an unprivileged user without `user`: no uid change resets the
    children's dumpable flag, so they must clear it themselves, or any process of that
    uid could read their memory (the ca process holds the CA keys)."""
    srv = Server(start=False, prefix=["setpriv", "--reuid=%d" % users.uid,
                                      "--regid=%d" % users.gid, "--clear-groups"])
    try:
        os.chmod(srv.tmp, 0o711)
        for root, dirs, files in os.walk(srv.dir):
            for name in [root] + [os.path.join(root, f) for f in dirs + files]:
                os.chown(name, users.uid, users.gid)
        srv.start()
        for what, pid in (("worker", srv.worker_pid()), ("ca process", srv.ca_pid())):
            t.eq(status_uid(pid), [users.uid] * 4, "sekishod run by a user: the %s runs as "
                 "that user" % what)
            not_dumpable(t, srv, what + " of sekishod run by a user", pid)
    finally:
        srv.close()


def main():
    t = Tap()
    if os.geteuid() != 0:
        t.ok(False, "test_privsep must run as root (it creates users and starts sekishod "
             "dropping privileges); CI runs the tests as root")
        t.done()
    users = None
    try:
        users = Users()
        t.run("user only", part_user, t, users)
        t.run("refusals", part_refusals, t, users)
        t.run("ca_user", part_ca_user, t, users)
        t.run("sekishod run by a user", part_unprivileged, t, users)
    except Exception as e:
        t.ok(False, "set-up", e)
    finally:
        if users:
            users.close()
    t.done()


if __name__ == "__main__":
    main()
