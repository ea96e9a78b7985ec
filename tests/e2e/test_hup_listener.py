#!/usr/bin/python3
"""After SIGHUP the server answers again, on the main and on the device listener.

On SIGHUP sekishod's parent reloads the configuration and starts a new worker on the same
listening sockets.  The old worker must not shut those sockets down when it stops (a
shutdown(2) acts on the socket shared with the parent, not on the worker's descriptor):
before the fix every connection after a reload was refused.  Twice, so a second reload
is covered too.
"""
import os
import signal
import time

import requests

import sekisho_test as st


def answers(url, ca, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        try:
            if requests.get(url, verify=ca, timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.2)
    return False


def main():
    tap = st.Tap()
    dport = st.free_port()
    srv = st.Server(["device_listen 127.0.0.1:%d" % dport])
    try:
        for n in (1, 2):
            mark = srv.log().count("configuration reloaded")
            os.kill(srv.proc.pid, signal.SIGHUP)
            end = time.time() + 20
            while srv.log().count("configuration reloaded") == mark and time.time() < end:
                time.sleep(0.1)
            tap.ok(answers(srv.url + "/healthz", srv.ca), "reload %d: the main listener "
                   "answers" % n)
            tap.ok(st.wait_port(dport), "reload %d: the device listener accepts" % n)
            tap.ok(srv.proc.poll() is None, "reload %d: sekishod runs" % n)
    finally:
        srv.close()
    tap.done()


if __name__ == "__main__":
    main()
