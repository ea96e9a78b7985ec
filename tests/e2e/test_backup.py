#!/usr/bin/python3
"""The daily backup and sekisho restore, under write load.

sekishod runs with backup_time two hours ahead of its clock (libfaketime, TZ=UTC) and
backup_keep 2.  A thread adds users with the command line (another process writing the
same store) the whole time; the users it saw acknowledged are noted, then the clock moves
past backup_time: the server makes, verifies and names one generation, writes LAST and
audits backup.ok.  Two more days make two more generations; only the newest two stay.
restore refuses while the server runs, refuses a damaged copy and a copy whose audit
trail was altered, and a directory with another master key; into a copy of the directory
(its key files, no data) it restores the backup made under load, a server starts on it, every user
acknowledged before the backup started is there and every audit chain verifies.
"""
import datetime
import os
import shutil
import threading

import requests

import console_common as cc
import sekisho_test as st

PASSWORD = "correct horse battery"


class Writer(threading.Thread):
    """Adds users w0000, w0001 ... until stopped; acked: the names whose add returned 0."""

    def __init__(self, srv):
        super().__init__(daemon=True)
        self.srv, self.acked, self.failed = srv, [], []
        self.stop = threading.Event()

    def run(self):
        i = 0
        while not self.stop.is_set():
            name = "w%04d" % i
            r = self.srv.cli("user", "add", name, "--password-stdin",
                             input=PASSWORD + "\n", check=False)
            (self.acked if r.returncode == 0 else self.failed).append(name)
            i += 1


def generations(bdir):
    return sorted(n for n in os.listdir(bdir) if len(n) == 16 and n.endswith("Z"))


def read_last(bdir):
    try:
        with open(os.path.join(bdir, "LAST")) as f:
            return f.read().split()
    except OSError:
        return None


def users_in(srv):
    r = srv.cli("user", "list")
    return {ln.split()[0] for ln in r.stdout.splitlines() if ln.strip()}


def key_copy(srv, tmp, name):
    """A directory with srv's configuration and key files but no data."""
    d = os.path.join(tmp, name)
    os.makedirs(d)
    for f in ("sekishod.conf", "master.key", "ca.key"):
        shutil.copy2(os.path.join(srv.dir, f), d)
    shutil.copytree(os.path.join(srv.dir, "tls"), os.path.join(d, "tls"))
    return d


def restore(frm, d):
    return st.subprocess.run([st.SEKISHO, "--dir", d, "restore", frm], capture_output=True,
                             text=True, timeout=120)


def tamper(src, dst, old, new):
    """A copy of the generation src with the bytes old replaced by new (same length)."""
    os.makedirs(dst)
    with open(os.path.join(src, "data.mdb"), "rb") as f:
        data = f.read()
    with open(os.path.join(dst, "data.mdb"), "wb") as f:
        f.write(data.replace(old, new))
    return data.count(old)


def main():
    tap = st.Tap()
    tmp = st.tempfile.mkdtemp(prefix="sekisho-backup-")
    clock_file = os.path.join(tmp, "clock")
    env = st.faketime_env(clock_file)
    env["TZ"] = "UTC"
    clock = cc.Clock(clock_file)
    bdir = os.path.join(tmp, "backups")
    at = (datetime.datetime.utcnow() + datetime.timedelta(hours=2)).replace(second=0,
                                                                          microsecond=0)
    srv = st.Server(["backup_time %s" % at.strftime("%H:%M"), "backup_dir " + bdir,
                     "backup_keep 2"], env=env)
    try:
        tap.ok(not os.path.exists(bdir) or not generations(bdir),
               "no backup at start before backup_time")
        w = Writer(srv)
        w.start()
        st.wait_until(lambda: len(w.acked) >= 15, "15 acknowledged writes")
        before = list(w.acked)       # every one of these finished before the clock moves
        clock.forward(int((at - datetime.datetime.utcnow()).total_seconds()) + 30)
        last = st.wait_until(lambda: read_last(bdir), "the first backup (LAST)")
        n_at_backup = len(w.acked)
        st.wait_until(lambda: len(w.acked) >= n_at_backup + 5, "writes after the backup")
        w.stop.set()
        w.join()
        gens = generations(bdir)
        tap.eq(len(gens), 1, "one generation after backup_time")
        tap.eq(last[1] if last else None, gens[0] if gens else None, "LAST names it")
        tap.ok(not [n for n in os.listdir(bdir) if n.endswith(".tmp")], "no temporary left")
        m = requests.get(srv.url + "/metrics", verify=srv.ca, timeout=30).text
        tap.ok(last is not None and
               ("sekisho_backup_last_timestamp_seconds %s\n" % last[0]) in m,
               "/metrics reports the backup LAST names", [x for x in m.splitlines()
                                                         if "backup" in x])
        tap.ok("event=backup.ok tenant=~operator" in srv.log() and
               ("name=" + gens[0]) in srv.log(), "backup.ok audited and logged")
        tap.eq(w.failed, [], "every write while the backup ran succeeded")
        gen = os.path.join(bdir, gens[0])
        tap.eq(oct(os.stat(gen).st_mode & 0o777), "0o700", "generation directory 0700")
        tap.ok(not os.path.exists(os.path.join(gen, "master.key")) and
               not os.path.exists(os.path.join(gen, "ca.key")), "no key file in it")

        first = os.path.join(tmp, "first")     # the one made under load, before pruning
        shutil.copytree(gen, first)
        for day in (1, 2):
            clock.forward(86400)
            st.wait_until(lambda: read_last(bdir) and read_last(bdir)[1] not in gens,
                     "the backup of day %d" % day)
            gens = sorted(set(gens) | {read_last(bdir)[1]})
        now = generations(bdir)
        tap.eq(len(now), 2, "backup_keep 2: two generations after three backups")
        tap.ok(gen not in [os.path.join(bdir, g) for g in now] and not os.path.exists(gen),
               "the oldest one removed")
        gen = os.path.join(bdir, now[0])

        r = restore(gen, srv.dir)
        tap.ok(r.returncode != 0 and "in use" in r.stderr, "restore refused while the "
               "server runs", r.stderr)
        tap.ok(os.path.exists(os.path.join(srv.dir, "data", "data.mdb")) and not
               [n for n in os.listdir(srv.dir) if n.startswith("data.")],
               "nothing changed in the live directory")

        fresh = key_copy(srv, tmp, "fresh")
        bad = os.path.join(tmp, "damaged")
        os.makedirs(bad)
        with open(os.path.join(bad, "data.mdb"), "wb") as f:
            f.write(b"\0" * 8192)
        r = restore(bad, fresh)
        tap.ok(r.returncode != 0 and "not a Sekisho database" in r.stderr,
               "a damaged copy is refused", r.stderr)
        altered = os.path.join(tmp, "altered")
        cnt = tamper(gen, altered, b"user=w0003", b"user=w9993")
        r = restore(altered, fresh)
        tap.ok(cnt > 0 and r.returncode != 0 and "audit trail of default does not verify"
               in r.stderr, "a copy with an altered audit record is refused", r.stderr)
        other = st.Server(start=False)
        r = restore(gen, other.dir)
        tap.ok(r.returncode != 0 and "master key" in r.stderr,
               "a directory with another master key is refused", r.stderr)
        tap.ok(not os.path.exists(os.path.join(fresh, "data")), "refusals left nothing")
        other.close()

        r = restore(first, fresh)
        tap.ok(r.returncode == 0, "restore into a stopped directory", r.stderr)
        srv.stop()
        srv2 = st.Server(start=False)
        shutil.rmtree(srv2.dir)
        shutil.move(fresh, srv2.dir)
        srv2.port, srv2.url = srv.port, srv.url
        srv2.start()
        got = users_in(srv2)
        missing = [n for n in before if n not in got]
        tap.eq(missing, [], "every user acknowledged before the backup is restored "
               "(%d of them)" % len(before))
        tap.eq(sorted(n for n in got if n not in w.acked), [],
               "nothing but acknowledged writes in it")
        tap.ok(len([n for n in got if n in w.acked]) < len(w.acked),
               "the writes after the backup are not in it")
        r = srv2.cli("audit", "verify", check=False)
        tap.ok(r.returncode == 0 and "intact" in r.stdout, "audit chain verifies", r.stderr)
        srv2.close()
    finally:
        srv.close()
        shutil.rmtree(tmp, ignore_errors=True)
    tap.done()


if __name__ == "__main__":
    main()
