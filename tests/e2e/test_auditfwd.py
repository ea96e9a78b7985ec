#!/usr/bin/python3
"""Audit forwarding to a file (JSON lines) and to syslog, with a socket the test owns.

sekishod runs with audit_file, audit_syslog yes, facility local3 and audit_syslog_socket
pointing at a datagram socket bound here.  Records written by the command line (another
process) and by the server (a failed login) arrive in both, each once and in order: the
file's seq list per tenant equals the trail's (`sekisho audit --json`) from where
forwarding began; a new tenant's trail arrives from its first record; no password is in
either.  After the file is renamed and sekishod gets SIGHUP, new records go to a new file
and none is lost or repeated across the two.  Records written while the server is stopped
arrive after it starts again.
"""
import json
import os
import signal
import socket

import requests

import sekisho_test as st

PASSWORD = "correct horse battery"


def wait(cond, what):
    return st.wait_until(cond, what, timeout=30)


def healthy(srv):
    try:
        return requests.get(srv.url + "/healthz", verify=srv.ca, timeout=5).ok
    except requests.RequestException:   # the old worker may drop it (reloads: part F)
        return False


def lines(path):
    try:
        with open(path) as f:
            return [json.loads(ln) for ln in f if ln.strip()]
    except FileNotFoundError:
        return []


def trail(srv, tenant=None):
    out = srv.cli("audit", "--json", tenant=tenant).stdout
    return [json.loads(ln) for ln in out.splitlines() if ln.strip()]


def seqs(recs, tenant):
    return [r["seq"] for r in recs if r.get("tenant", tenant) == tenant]


def drain(sock):
    msgs = []
    while True:
        try:
            msgs.append(sock.recv(65536).decode())
        except BlockingIOError:
            return msgs


def main():
    tap = st.Tap()
    tmp = st.tempfile.mkdtemp(prefix="sekisho-auditfwd-")
    sock_path = os.path.join(tmp, "syslog.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.setblocking(False)
    afile = os.path.join(tmp, "audit.jsonl")
    srv = st.Server(["audit_file " + afile, "audit_syslog yes",
                     "audit_syslog_facility local3", "audit_syslog_socket " + sock_path])
    try:
        start = trail(srv)[-1]["seq"] if trail(srv) else 0
        srv.add_user("alice", PASSWORD)
        b = st.Browser(verify=srv.ca)
        b.submit_login(b.get(srv.base() + "/login"), "alice", "wrong password")
        srv.cli("user", "disable", "alice")
        want = [r["seq"] for r in trail(srv) if r["seq"] > start]
        got = wait(lambda: (lambda g: g if len(g) >= len(want) else None)(
            seqs(lines(afile), "default")), "the records in audit_file")
        tap.eq(got, want, "audit_file: every record of the trail since the start, once, in "
               "order (%d)" % len(want))
        recs = [r for r in lines(afile) if r["tenant"] == "default"]
        events = [r["event"] for r in recs]
        tap.ok("login.fail" in events and any(".user." in e for e in events),
               "records of the server and of the command line", events)
        by_seq = {r["seq"]: r for r in trail(srv)}
        tap.ok(all(by_seq[r["seq"]]["event"] == r["event"] and
                   by_seq[r["seq"]]["time"] == r["time"] for r in recs),
               "each line is the record (seq, time, event) as sekisho audit --json has it")
        fail = [r for r in recs if r["event"] == "login.fail"]
        tap.ok(fail and fail[0].get("user") == "alice" and fail[0].get("ip") == "127.0.0.1",
               "fields are members of the object", fail)
        msgs = wait(lambda: (lambda m: m if len(m) >= len(want) else None)(drain(sock)),
                        "syslog messages")
        tap.eq(len(msgs), len(want), "one syslog message per record")
        tap.ok(all(m.startswith("<158>") for m in msgs), "facility local3, severity info "
               "(PRI 158)", msgs[:2])
        tap.ok(any("event=login.fail tenant=default" in m and "user=alice" in m for m in msgs),
               "the message holds the record's fields", msgs)
        with open(afile) as f:
            text = f.read()
        tap.eq(st.grep_secret_leaks(text + "".join(msgs), [PASSWORD, "wrong password"]), [],
               "no password forwarded")
        tap.eq(oct(os.stat(afile).st_mode & 0o777), "0o600", "audit_file made 0600")

        srv.cli("tenant", "add", "acme")
        srv.add_user("carol", PASSWORD, tenant="acme")
        acme = [r["seq"] for r in trail(srv, "acme")]
        got = wait(lambda: (lambda g: g if len(g) >= len(acme) else None)(
            seqs(lines(afile), "acme")), "the new tenant's records")
        tap.eq(got, acme, "a new tenant's trail from its first record")

        os.rename(afile, afile + ".1")
        os.kill(srv.proc.pid, signal.SIGHUP)
        wait(lambda: "configuration reloaded" in srv.log(), "the reload")
        wait(lambda: healthy(srv), "serving")
        srv.add_user("bob", PASSWORD)
        wait(lambda: lines(afile), "a new audit_file after SIGHUP")
        old, new = lines(afile + ".1"), lines(afile)
        all_default = [r["seq"] for r in trail(srv) if r["seq"] > start]
        wait(lambda: len(seqs(lines(afile), "default")) + len(seqs(old, "default")) >=
                 len(all_default), "bob's records")
        new = lines(afile)
        tap.eq(seqs(old, "default") + seqs(new, "default"), all_default,
               "after rotation and SIGHUP: nothing lost, nothing twice, in two files")
        tap.ok(any(".user." in r["event"] for r in new), "new records in the new file")

        srv.stop()
        srv.add_user("dave", PASSWORD)
        srv.start()
        all_default = [r["seq"] for r in trail(srv) if r["seq"] > start]
        got = wait(lambda: (lambda g: g if len(g) >= len(all_default) else None)(
            seqs(lines(afile + ".1") + lines(afile), "default")), "records of the pause")
        tap.eq(got, all_default, "records written while the server was stopped arrive after "
               "its start")
    finally:
        srv.close()
        sock.close()
    tap.done()


if __name__ == "__main__":
    main()
