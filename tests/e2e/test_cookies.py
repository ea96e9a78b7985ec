#!/usr/bin/python3
"""End to end: a session cookie counts only when the request names it exactly once, in
whichever of its Cookie headers.  A user logs in; the portal is then asked for with the
session cookie alone, next to a second sekisho_sid (in the same or another Cookie
header), and after another header (libmicrohttpd, which parsed cookies before, read only
the first Cookie header of a request)."""
import socket
import ssl

from sekisho_test import Browser, Server, Tap

PASSWORD = "correct horse battery staple"


def portal_status(srv, *cookie_headers):
    """The status of GET /t/default/portal with these Cookie header values, sent raw."""
    ctx = ssl.create_default_context(cafile=srv.ca)
    head = "GET /t/default/portal HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % srv.port
    head += "".join("Cookie: %s\r\n" % c for c in cookie_headers)
    head += "Connection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(head.encode())
            line = tls.recv(4096).split(b"\r\n", 1)[0].decode("ascii", "replace")
    return int(line.split()[1])


def main():
    t = Tap()
    srv = Server()
    try:
        srv.add_user("hanako", PASSWORD)
        b = Browser(verify=srv.ca)
        r = b.submit_login(b.get(srv.base() + "/login"), "hanako", PASSWORD)
        t.eq(r.status_code, 200, "logged in")
        sid = b.s.cookies.get("sekisho_sid")
        t.ok(sid, "a session cookie was set")
        other = "A" * 43
        t.eq(portal_status(srv, "sekisho_sid=" + sid), 200, "the session cookie alone: portal")
        t.eq(portal_status(srv, "sekisho_sid=%s; sekisho_sid=%s" % (sid, other)), 303,
             "two sekisho_sid in one header: no session")
        t.eq(portal_status(srv, "sekisho_sid=" + sid, "sekisho_sid=" + other), 303,
             "a second sekisho_sid in a second Cookie header: no session")
        t.eq(portal_status(srv, "sekisho_sid=" + other, "sekisho_sid=" + sid), 303,
             "the valid one second: no session either")
        t.eq(portal_status(srv, "lang=ja", "a=1; sekisho_sid=" + sid), 200,
             "the session cookie in the second Cookie header counts")
        t.eq(portal_status(srv, "sekisho_sid=" + sid), 200,
             "the session survived the ambiguous requests")
    finally:
        srv.close()
    t.done()


main()
