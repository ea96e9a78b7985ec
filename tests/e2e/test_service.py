#!/usr/bin/python3
"""sekishod as a service: the systemd unit, sd_notify, SIGHUP and SIGTERM.

- docs/sekishod.service passes `systemd-analyze verify` (ExecStart pointed at the built
  sekishod, the man pages on MANPATH); the same unit with a missing binary does not (the
  check can fail).  It is Type=notify with NoNewPrivileges and ProtectSystem=strict.
- With NOTIFY_SOCKET naming a datagram socket the test owns, sekishod sends READY=1 once
  it serves; RELOADING=1 then READY=1 on SIGHUP; STOPPING=1 on SIGTERM.
- SIGHUP with a changed metrics_from: applied live (/metrics 403 afterwards), and a
  request in flight during the reload (headers and half its body sent before the signal,
  the rest after the worker said it is finishing it) gets its whole answer.
- SIGHUP with a changed listen: refused with a log line naming the key, the old
  configuration keeps serving on the old port.
- SIGTERM: a request in flight is answered in full before sekishod exits (status 0).
"""
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

import requests

import sekisho_test as st
from sekisho_test import Server, Tap

t = Tap()
SRCDIR = os.environ.get("SEKISHO_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def part_unit(tmp):
    unit = os.path.join(SRCDIR, "docs", "sekishod.service")
    with open(unit) as f:
        text = f.read()
    for line in ("Type=notify", "NotifyAccess=all", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "ExecReload=/bin/kill -HUP $MAINPID"):
        t.ok(re.search(r"^%s$" % re.escape(line), text, re.M), "the unit has " + line)
    # The unit's Documentation= pages are ours; systemd-analyze would ask man(1), which a
    # minimal machine does not have, so they are checked here and --man=no is given.
    pages = re.findall(r"man:([a-z.]+)\((\d)\)", text)
    t.ok(pages and all(os.path.exists(os.path.join(SRCDIR, "docs", "%s.%s" % p))
                       for p in pages), "the unit's manual pages are in docs/", pages)
    env = dict(os.environ)

    def verify(exe):
        path = os.path.join(tmp, "sekishod.service")
        with open(path, "w") as f:
            f.write(text.replace("/usr/sbin/sekishod", exe))
        return subprocess.run(["systemd-analyze", "verify", "--man=no", path], env=env,
                              capture_output=True, text=True, timeout=120)
    r = verify(os.path.abspath(st.SEKISHOD))
    t.eq((r.returncode, r.stdout + r.stderr), (0, ""), "systemd-analyze verify passes")
    r = verify(os.path.join(tmp, "no-such-sekishod"))
    t.ok(r.returncode != 0, "verify fails when ExecStart names no program", r.stderr)


class Notify:
    """The datagram socket sekishod's sd_notify writes to."""

    def __init__(self, tmp):
        self.path = os.path.join(tmp, "notify")
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(self.path)
        self.s.settimeout(60)

    def until(self, word):
        """The messages received up to the first that has the line word (None: none)."""
        got = []
        try:
            while True:
                msg = self.s.recv(4096).decode()
                got.append(msg)
                if word in msg.split("\n"):
                    return got
        except socket.timeout:
            return None


def wait_log(srv, pattern, since):
    end = time.time() + 60
    while time.time() < end:
        m = re.search(pattern, srv.log()[since:])
        if m:
            return m
        if srv.proc.poll() is not None:
            return None
        time.sleep(0.05)
    return None


class SlowPost:
    """A POST whose body comes in two halves: the request is in flight in between."""

    def __init__(self, srv):
        body = b"username=nobody&password=" + b"x" * 2000
        ctx = ssl.create_default_context(cafile=srv.ca)
        ctx.check_hostname = False
        self.s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", srv.port), timeout=60))
        head = ("POST /t/default/login HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                "Content-Length: %d\r\n\r\n" % (srv.port, len(body))).encode()
        self.rest = body[1000:]
        self.s.sendall(head + body[:1000])

    def finish(self):
        """(status, body length, Content-Length) of the answer, after the rest is sent."""
        self.s.sendall(self.rest)
        data = b""
        while True:
            try:
                chunk = self.s.recv(65536)
            except (ConnectionError, ssl.SSLError):
                break
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            m = re.search(rb"\r\nContent-Length: (\d+)", head, re.I)
            if sep and m and len(body) >= int(m.group(1)):
                break
        self.s.close()
        head, _, body = data.partition(b"\r\n\r\n")
        status = re.match(rb"HTTP/1\.1 (\d+)", head)
        m = re.search(rb"\r\nContent-Length: (\d+)", head, re.I)
        return (int(status.group(1)) if status else None, len(body),
                int(m.group(1)) if m else None)


def in_flight(srv, n):
    """Wait until /metrics (a scrape from 127.0.0.1, itself in flight) counts n requests
    in flight besides itself: the slow request reached the worker.  False: never."""
    end = time.time() + 60
    while time.time() < end:
        r = requests.get(srv.url + "/metrics", verify=srv.ca, timeout=30)
        m = re.search(r"^sekisho_http_requests_in_flight (\d+)$", r.text, re.M)
        if m and int(m.group(1)) - 1 >= n:
            return True
        time.sleep(0.05)
    return False


def set_conf(srv, key, value):
    path = os.path.join(srv.dir, "sekishod.conf")
    with open(path) as f:
        lines = [ln for ln in f.read().splitlines() if not ln.startswith(key + " ")]
    with open(path, "w") as f:
        f.write("\n".join(lines + ["%s %s" % (key, value)]) + "\n")


def metrics_status(srv):
    return requests.get(srv.url + "/metrics", verify=srv.ca, timeout=30).status_code


def complete(t_name, answer):
    status, got, want = answer
    t.ok(status is not None and want is not None and got == want,
         t_name, "status %r, %r of %r body bytes" % answer)


def part_notify_and_signals(tmp):
    note = Notify(tmp)
    srv = Server(env=dict(os.environ, NOTIFY_SOCKET=note.path))
    try:
        t.ok(note.until("READY=1"), "READY=1 once it serves")
        t.eq(metrics_status(srv), 200, "/metrics from 127.0.0.1 before the reload")

        slow = SlowPost(srv)
        t.ok(in_flight(srv, 1), "/metrics counts the slow request in flight")
        set_conf(srv, "metrics_from", "127.0.0.2")
        since = len(srv.log())
        os.kill(srv.proc.pid, signal.SIGHUP)
        t.ok(note.until("RELOADING=1"), "RELOADING=1 on SIGHUP")
        t.ok(wait_log(srv, r"worker stopping: finishing [1-9]", since),
             "the worker finishes the request in flight", srv.log()[since:])
        complete("the request in flight during the reload gets its whole answer",
                 slow.finish())
        t.ok(note.until("READY=1"), "READY=1 after the reload")
        t.ok("configuration reloaded" in srv.log()[since:], "the reload is logged")
        t.eq(metrics_status(srv), 403, "metrics_from changed live: /metrics 403")

        set_conf(srv, "listen", "127.0.0.1:%d" % st.free_port())
        set_conf(srv, "metrics_from", "127.0.0.1 127.0.0.2")
        since = len(srv.log())
        os.kill(srv.proc.pid, signal.SIGHUP)
        msgs = note.until("READY=1")
        t.ok(msgs and any("RELOADING=1" in m for m in msgs), "RELOADING=1, READY=1 again")
        t.ok(wait_log(srv, r"reload refused, keeping the old configuration: listen cannot "
                      r"change", since), "a listen change is refused with a log line",
             srv.log()[since:])
        t.eq(metrics_status(srv), 403, "the old configuration serves on the old port")

        set_conf(srv, "listen", "127.0.0.1:%d" % srv.port)
        os.kill(srv.proc.pid, signal.SIGHUP)
        t.ok(note.until("READY=1"), "READY=1 after a reload back to the old port")
        slow = SlowPost(srv)
        t.ok(in_flight(srv, 1), "/metrics counts the slow request in flight")
        since = len(srv.log())
        os.kill(srv.proc.pid, signal.SIGTERM)
        t.ok(note.until("STOPPING=1"), "STOPPING=1 on SIGTERM")
        t.ok(wait_log(srv, r"worker stopping: finishing [1-9]", since),
             "SIGTERM: the worker finishes the request in flight", srv.log()[since:])
        complete("SIGTERM: the request in flight gets its whole answer", slow.finish())
        t.eq(srv.proc.wait(timeout=60), 0, "sekishod exits 0")
    finally:
        srv.close()


def main():
    tmp = tempfile.mkdtemp(prefix="sekisho-service-")
    try:
        t.run("unit", part_unit, tmp)
        t.run("notify and signals", part_notify_and_signals, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    main()
