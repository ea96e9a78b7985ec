#!/usr/bin/python3
"""End to end: access rules (issue 9) — from where, when, with what proof — against the
running server, apache2 + mod_auth_mellon (apps "crm" and "wiki") and apache2 +
mod_auth_openidc (app "mail"), Debian's and unmodified.

Two sekishod instances:
  net    with a device-check listener; trusted_proxies changed between restarts: a deny
         rule --not-from 10.0.0.0/8 against the TCP peer, X-Forwarded-For and Forwarded
         from a trusted proxy (appended to, or as a line of its own after the client's),
         the same headers spoofed from an untrusted peer, and the rule applied again at
         the next SSO of a session; then a table of cases where
         `sekisho policy test` must predict what a real login does (users in and out of
         groups, assigned and open apps, from/not-from through the proxy, IPv6, device
         and mfa rules, report-only, break-glass, default deny, removed users and groups)
  clock  on a clock injected with libfaketime: day and hour rules in Asia/Tokyo across
         local midnight and the Sunday/Monday boundary, instants given in UTC that fall on
         either side in Tokyo; the table's cases with days and hours (`policy test --at`
         the server's faked time, logins at an OIDC client with nothing behind its
         redirect_uri, since real peers check assertion times against the real clock)
"""
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time

import access_common as ac
import sekisho_test
from sekisho_test import Server, Tap
from peers.device import DeviceBrowser, issue
from peers.mellon import MellonSP, parse_env as mellon_env
from peers.openidc import OidcRP

NET_USERS = {"alice": ["staff"], "bob": ["staff", "contractors"], "carol": [],
             "dave": ["staff"], "erin": ["staff", "temps"], "frank": [], "gina": []}
CLOCK_USERS = {"tim": [], "gina": ["finance"], "alice": ["finance"], "carol": []}
PAY = "http://127.0.0.1:9/pay"
OPEN = "http://127.0.0.1:9/open"


def set_conf(srv, key, value):
    """Set key in sekishod.conf (value None: remove it) and restart the server."""
    path = os.path.join(srv.dir, "sekishod.conf")
    with open(path) as f:
        lines = [line for line in f if line.split(None, 1)[:1] != [key]]
    if value is not None:
        lines.append("%s %s\n" % (key, value))
    with open(path, "w") as f:
        f.writelines(lines)
    srv.restart()


class Net:
    """The "net" server and its apps."""

    def __init__(self, t, srv, pw, dport, tmp):
        self.t = t
        self.srv = srv
        self.pw = pw
        self.device_url = "https://127.0.0.1:%d" % dport
        self.tmp = tmp
        self.crm = self.wiki = self.mail = None
        self.cert = None

    def reached(self, app):
        if app is self.mail:
            return lambda r: r.status_code == 200 and r.url == app.protected and \
                "OIDC_CLAIM_sub=" in r.text
        return lambda r: r.status_code == 200 and r.url == app.protected and \
            bool(mellon_env(r.text).get("REMOTE_USER"))

    def app(self, name):
        return {"crm": self.crm, "wiki": self.wiki, "mail": self.mail}.get(name)

    def login(self, user, app=None, ip=None, header="xff", source=None, device=False, b=None):
        """A login of user at app (None: the portal): (browser, answer, outcome)."""
        if b is None and device:
            b = ac.come_through(DeviceBrowser(self.srv, self.device_url, cert=self.cert,
                                              lang="en"), ip, header, source)
        elif b is None:
            b = ac.browser(self.srv, ip=ip, header=header, source=source,
                           stop_at=(self.device_url,))
        start = len(b.history)
        peer = self.app(app)
        if peer is None:
            r = ac.portal_login(self.srv, b, user, self.pw[user])
            return b, r, ac.classify(self.srv, b, r, start, device_url=self.device_url)
        r = b.get(peer.protected)
        if ac.login_page(b, r):
            r = b.submit_login(r, user, self.pw[user])
        return b, r, ac.classify(self.srv, b, r, start, reached=self.reached(peer),
                                 redirect_uri=getattr(peer, "redirect_uri", None),
                                 device_url=self.device_url)


def deny_audited(t, srv, r, what, *fields):
    """r is a refusal whose reference code is in an access.deny record with fields."""
    ref = ac.refusal_ref(r)
    if t.ok(ref, "%s: refused with a reference code" % what,
            "%d %s\n%s" % (r.status_code, r.url, r.text[:400])):
        srv.audit_has(t, "access.deny", "ref=" + ref, *fields)


def part_client_address(n):
    t, srv = n.t, n.srv
    srv.cli("policy", "add", "office-net", "--effect", "deny", "--not-from", "10.0.0.0/8")

    # No trusted_proxies: the TCP peer counts, whatever the headers say.
    b, r, got = n.login("alice")
    t.eq(got, "refused", "deny --not-from 10.0.0.0/8: a login from 127.0.0.1 is refused")
    t.ok(ac.session_cookie(b) is None and ac.login_page(b, b.get(srv.base() + "/portal")),
         "the refused login made no session: the portal asks for a login")
    deny_audited(t, srv, r, "from 127.0.0.1", "user=alice", "ip=127.0.0.1", "rule=office-net",
                 "stage=login")
    for header in ("xff", "fwd"):
        _, r, got = n.login("alice", ip="10.1.2.3", header=header)
        what = "no trusted proxy: %s 10.1.2.3 from 127.0.0.1" % (
            "X-Forwarded-For" if header == "xff" else "Forwarded: for=")
        t.eq(got, "refused", what + " changes nothing")
        deny_audited(t, srv, r, what, "ip=127.0.0.1")
    pt = ac.policy_test(srv, "alice", ip="127.0.0.1")
    t.ok(pt.get("decision") == "deny" and pt.get("rule") == "office-net",
         "policy test from 127.0.0.1: deny by office-net", pt["stdout"] + pt["stderr"])
    pt = ac.policy_test(srv, "alice", ip="10.1.2.3")
    t.ok(pt.get("decision") == "allow" and pt.get("rule") == "default",
         "policy test from 10.1.2.3: allow by default", pt["stdout"] + pt["stderr"])

    set_conf(srv, "trusted_proxies", "127.0.0.1/32")
    cases = [
        # (what, headers, outcome, address the server must have used)
        ("X-Forwarded-For: 10.1.2.3", {"X-Forwarded-For": "10.1.2.3"}, "in", None),
        ("Forwarded: for=10.1.2.3", {"Forwarded": "for=10.1.2.3"}, "in", None),
        ('Forwarded: for="10.1.2.3:4711";proto=https',
         {"Forwarded": 'for="10.1.2.3:4711";proto=https'}, "in", None),
        ("no header", {}, "refused", "127.0.0.1"),
        ("X-Forwarded-For: 10.1.2.3, 192.0.2.9 (the rightmost untrusted counts)",
         {"X-Forwarded-For": "10.1.2.3, 192.0.2.9"}, "refused", "192.0.2.9"),
        ("X-Forwarded-For: 192.0.2.9, 10.1.2.3 (what the client wrote is not read)",
         {"X-Forwarded-For": "192.0.2.9, 10.1.2.3"}, "in", None),
        ("X-Forwarded-For: 10.1.2.3, 127.0.0.1 (a trusted proxy is skipped)",
         {"X-Forwarded-For": "10.1.2.3, 127.0.0.1"}, "in", None),
        ("Forwarded: for=10.1.2.3 wins over X-Forwarded-For: 192.0.2.9",
         {"Forwarded": "for=10.1.2.3", "X-Forwarded-For": "192.0.2.9"}, "in", None),
        ('Forwarded: for="[2001:db8::1]"', {"Forwarded": 'for="[2001:db8::1]"'}, "refused",
         "2001:db8::1"),
        ("X-Forwarded-For: ::ffff:10.1.2.3 (IPv4-mapped)",
         {"X-Forwarded-For": "::ffff:10.1.2.3"}, "in", None),
        ("X-Forwarded-For: 10.1.2.3:4711 (with a port)",
         {"X-Forwarded-For": "10.1.2.3:4711"}, "in", None),
    ]
    for what, headers, want, ip in cases:
        b = ac.browser(srv)
        b.s.headers.update(headers)
        r = ac.portal_login(srv, b, "alice", n.pw["alice"])
        got = ac.classify(srv, b, r)
        t.eq(got, want, "trusted_proxies 127.0.0.1/32: %s: %s" % (what, want))
        if want == "refused" and ip:
            deny_audited(t, srv, r, "trusted proxy, " + what, "ip=" + ip)
    # A proxy may add its own header line instead of appending to the client's: the lines
    # are one list in order (RFC 9110 5.3), so the proxy's line is the rightmost.
    for name, client, proxy in (("X-Forwarded-For", "10.1.2.3", "192.0.2.9"),
                                ("Forwarded", "for=10.1.2.3", "for=192.0.2.9")):
        status, loc, page = ac.login_with_lines(srv, "alice", n.pw["alice"],
                                                [(name, client), (name, proxy)])
        ref = ac.REF.search(page)
        t.ok(status == 403 and ref, "trusted proxy adding its own %s line (%s) after the "
             "client's (%s): the proxy's line counts, refused" % (name, proxy, client),
             "%d %s" % (status, loc))
        if ref:
            srv.audit_has(t, "access.deny", "ref=" + ref.group(1), "ip=192.0.2.9")
    b = ac.browser(srv)
    b.s.headers["X-Forwarded-For"] = "not-an-address"
    r = b.get(srv.base() + "/login")
    t.ok(r.status_code == 400 and not ac.at_portal(srv, r),
         "trusted proxy sending an X-Forwarded-For that does not parse: refused (400)",
         "%d %s" % (r.status_code, r.url))

    # The rule holds at every SSO, with the address of that request.
    b, r, got = n.login("alice", "wiki", ip="10.1.2.3")
    t.eq(got, "in", "through the proxy from 10.1.2.3: alice logs in at wiki (mellon)")
    del b.s.headers["X-Forwarded-For"]
    ac.drop_app_sessions(b)
    start = len(b.history)
    r = b.get(n.wiki.protected)
    t.ok(not ac.login_page(b, r) and ac.classify(srv, b, r, start) == "refused" and
         not ac.posted_to(b, start, n.wiki.url),
         "the next SSO of that session from 127.0.0.1: refused, no assertion posted",
         "%d %s" % (r.status_code, r.url))
    deny_audited(t, srv, r, "SSO from 127.0.0.1", "user=alice", "stage=sso", "ip=127.0.0.1")
    b.s.headers["X-Forwarded-For"] = "10.1.2.3"
    ac.drop_app_sessions(b)
    start = len(b.history)
    r = b.get(n.wiki.protected)
    t.ok(not ac.login_page(b, r) and n.reached(n.wiki)(r),
         "from 10.1.2.3 again: the same session reaches wiki without a password",
         "%d %s" % (r.status_code, r.url))

    # trusted_proxies names another address: 127.0.0.1 is an untrusted peer now.
    set_conf(srv, "trusted_proxies", "127.0.0.2/32")
    _, r, got = n.login("alice", ip="10.1.2.3")
    t.eq(got, "refused", "trusted_proxies 127.0.0.2/32: X-Forwarded-For: 10.1.2.3 spoofed "
         "from 127.0.0.1 changes nothing")
    deny_audited(t, srv, r, "spoofed from 127.0.0.1", "ip=127.0.0.1")
    _, r, got = n.login("alice", ip="10.1.2.3", header="fwd")
    t.eq(got, "refused", "trusted_proxies 127.0.0.2/32: Forwarded: for=10.1.2.3 spoofed from "
         "127.0.0.1 changes nothing")
    _, r, got = n.login("alice", ip="10.1.2.3", source="127.0.0.2")
    t.eq(got, "in", "trusted_proxies 127.0.0.2/32: the same header from 127.0.0.2 counts")
    _, r, got = n.login("alice", source="127.0.0.2")
    t.eq(got, "refused", "from 127.0.0.2 without a header: its own address counts")
    deny_audited(t, srv, r, "from 127.0.0.2", "ip=127.0.0.2")

    srv.cli("policy", "remove", "office-net")
    set_conf(srv, "trusted_proxies", "127.0.0.1/32")


NET_RULES = [
    ["contractors-net", "--effect", "deny", "--group", "contractors", "--not-from",
     "10.0.0.0/8"],
    ["mail-mfa", "--effect", "mfa", "--app", "mail", "--app", "wiki", "--group",
     "contractors"],
    ["crm-device", "--effect", "device", "--app", "crm", "--not-from", "10.0.0.0/8"],
    ["wiki-watch", "--effect", "deny", "--app", "wiki", "--report-only"],
    ["mail-watch", "--effect", "device", "--app", "mail", "--report-only"],
    ["old-frank", "--effect", "deny", "--user", "frank"],
    ["temps-out", "--effect", "deny", "--group", "temps"],
    ["v6-block", "--effect", "deny", "--from", "2001:db8::/32"],
    ["dave-out", "--effect", "deny", "--user", "dave"],
    ["carol-wiki", "--effect", "deny", "--user", "carol", "--app", "wiki"],
    ["office", "--effect", "allow", "--from", "10.0.0.0/8"],
]
NET_ORDER = ["kiosk", "contractors-net", "mail-mfa", "crm-device", "wiki-watch", "mail-watch",
             "old-frank", "temps-out", "office", "v6-block", "dave-out", "carol-wiki"]


def setup_net_rules(n):
    t, srv = n.t, n.srv
    srv.cli("app", "assign", "crm", "--group", "staff")
    srv.cli("user", "set", "dave", "--break-glass", "on")
    answers = [srv.cli("policy", "add", *args).stdout.strip() for args in NET_RULES]
    t.eq([answers[0], answers[-1]], ["policy contractors-net added at position 1",
                                     "policy office added at position %d" % len(NET_RULES)],
         "policy add: each rule at the end of the list")
    r = srv.cli("policy", "add", "kiosk", "--effect", "allow", "--user", "carol", "--app",
                "wiki", "--from", "192.0.2.0/24", "--before", "contractors-net")
    t.eq(r.stdout.strip(), "policy kiosk added at position 1", "policy add --before: first")
    r = srv.cli("policy", "move", "office", "--before", "v6-block")
    t.eq(r.stdout.strip(), "policy office moved to position 9", "policy move: its answer")
    s = srv.cli("audit").stdout
    t.ok("admin.policy.move" in s, "policy move: audited")
    # Removed and made again: the rule keeps the old id and matches nobody.
    srv.cli("user", "remove", "frank")
    srv.add_user("frank", n.pw["frank"])
    srv.cli("group", "remove", "temps")
    lst = srv.cli("policy", "list").stdout
    rows = [line.split("\t") for line in lst.splitlines()[1:] if line[:1].isdigit()]
    t.eq([row[1] for row in rows], NET_ORDER, "policy list: the rules in their order", )
    t.ok(re.search(r"^\d+\told-frank\t.*\?removed", lst, re.M) and
         re.search(r"^\d+\ttemps-out\t.*\?removed", lst, re.M),
         "policy list: rules naming a removed user or group say ?removed", lst)
    t.ok(re.search(r"^\d+\tcrm-device\t.*not-from=10\.0\.0\.0/8", lst, re.M) and
         re.search(r"^\d+\tv6-block\t.*from=2001:db8::/32", lst, re.M),
         "policy list: canonical CIDRs", lst)


# (user, app, client address, header, expected outcome, expected rule, extra checks)
NET_CASES = [
    ("alice", "crm", "127.0.0.1", None, "device", "default", {}),
    ("alice", "crm", "10.1.2.3", "xff", "in", "office", {}),
    ("alice", "crm", "127.0.0.1", None, "in", "default", {"device": True}),
    ("bob", "crm", "127.0.0.1", None, "refused", "contractors-net", {}),
    ("bob", "crm", "10.1.2.3", "xff", "in", "office", {}),
    ("bob", "mail", "10.1.2.3", "xff", "mfa", "office", {}),
    ("bob", "mail", "127.0.0.1", None, "refused", "contractors-net", {}),
    ("bob", "wiki", "127.0.0.1", None, "refused", "contractors-net", {"report": []}),
    ("bob", "wiki", "10.1.2.3", "xff", "mfa", "office", {"report": ["wiki-watch:deny"]}),
    ("carol", "crm", "127.0.0.1", None, "refused", "not-assigned", {}),
    ("carol", "crm", "10.1.2.3", "xff", "refused", "not-assigned", {}),
    ("carol", "wiki", "192.0.2.5", "xff", "in", "kiosk", {"report": []}),
    ("carol", "wiki", "127.0.0.1", None, "refused", "carol-wiki",
     {"report": ["wiki-watch:deny"]}),
    ("carol", "mail", "127.0.0.1", None, "in", "default", {"report": ["mail-watch:device"]}),
    ("carol", None, "127.0.0.1", None, "in", "default", {}),
    ("alice", "wiki", "127.0.0.1", None, "in", "default", {"report": ["wiki-watch:deny"]}),
    ("alice", "mail", "2001:db8::1", "xff", "refused", "v6-block", {}),
    ("alice", "mail", "2001:db9::1", "fwd", "in", "default", {}),
    ("alice", None, "2001:db8::5", "fwd", "refused", "v6-block", {}),
    ("alice", "crm", "2001:db8::1", "fwd", "refused", "v6-block", {}),
    ("dave", "crm", "127.0.0.1", None, "in", "default", {"glass": True}),
    ("dave", "wiki", "127.0.0.1", None, "in", "default",
     {"glass": True, "report": ["wiki-watch:deny"]}),
    ("frank", None, "127.0.0.1", None, "in", "default", {}),
    ("frank", "crm", "127.0.0.1", None, "refused", "not-assigned", {}),
    ("erin", "crm", "127.0.0.1", None, "device", "default", {}),
    ("erin", "mail", "127.0.0.1", None, "in", "default", {}),
    ("gina", "wiki", "10.1.2.3", "xff", "in", "office", {"report": ["wiki-watch:deny"]}),
]
# The same server with `tenant set default --default deny`.
NET_DENY_CASES = [
    ("gina", None, "127.0.0.1", None, "refused", "default", {}),
    ("gina", None, "10.1.2.3", "xff", "in", "office", {}),
    ("dave", "wiki", "127.0.0.1", None, "in", None, {"glass": True}),
    ("carol", "mail", "127.0.0.1", None, "refused", "default", {}),
    ("alice", "crm", "10.1.2.3", "xff", "in", "office", {}),
]


OIDC_APPS = ("mail", "pay", "open")


def compare(t, pt, got, case, label):
    """One table check: policy test, the real login and the contract agree."""
    user, app, ip, header, want, rule, extra = case
    pred = ac.predicted(pt)
    problems = []
    if pred != want:
        problems.append("policy test predicts %s, the contract says %s" % (pred, want))
    if want == "mfa" and app in OIDC_APPS and got == "refused":
        pass        # the contract allows access_denied for an OIDC client
    elif got != want:
        problems.append("the real login was %s, the contract says %s" % (got, want))
    if rule and pt.get("rule") != rule:
        problems.append("policy test rule=%s, want %s" % (pt.get("rule"), rule))
    if "report" in extra and sorted(pt["report"]) != sorted(extra["report"]):
        problems.append("report lines %s, want %s" % (pt["report"], extra["report"]))
    if extra.get("glass") and not pt.get("break_glass"):
        problems.append("no break_glass= line")
    if not extra.get("glass") and pt.get("break_glass"):
        problems.append("a break_glass= line for a normal user")
    t.ok(not problems, "table %s: %s at %s from %s%s%s: %s" % (
        label, user, app or "the portal", ip, " (%s)" % header if header else "",
        " with a device" if extra.get("device") else "", want),
        "\n".join(problems) + "\n" + pt["stdout"] + pt["stderr"])


def run_net_cases(n, cases, first):
    for i, case in enumerate(cases):
        user, app, ip, header, _, _, extra = case
        pt = ac.policy_test(n.srv, user, app, ip, device=extra.get("device", False))
        _, _, got = n.login(user, app, ip=ip if header else None, header=header or "xff",
                            device=extra.get("device", False))
        compare(n.t, pt, got, case, "%d" % (first + i))


def part_table_net(n):
    setup_net_rules(n)
    n.cert = issue(n.srv, n.tmp, "alice-laptop", "alice", "laptop")[0]
    run_net_cases(n, NET_CASES, 1)
    n.srv.audit_has(n.t, "access.mfa_missing", "user=bob")
    n.srv.audit_has(n.t, "policy.report", "rule=wiki-watch", "effect=deny", "user=gina")
    r = n.srv.cli("tenant", "set", "default", "--default", "deny")
    n.t.eq(r.stdout.strip(), "tenant default timezone=Asia/Tokyo default=deny",
           "tenant set --default deny: its answer")
    run_net_cases(n, NET_DENY_CASES, len(NET_CASES) + 1)
    n.srv.cli("tenant", "set", "default", "--default", "allow")
    # A removed user: no decision to compare, but neither part lets them in.
    n.srv.cli("user", "remove", "gina")
    pt = ac.policy_test(n.srv, "gina", "wiki", "10.1.2.3")
    n.t.ok(pt["rc"] == 1 and "gina" in pt["stderr"] and "no such user" in pt["stderr"],
           "policy test of a removed user: no such user", pt["stdout"] + pt["stderr"])
    _, r, got = n.login("gina", "wiki", ip="10.1.2.3")
    n.t.ok(got.startswith("login page"), "a removed user cannot log in", got)


class Clock:
    """The "clock" server, its stub OIDC apps and its injected clock."""

    def __init__(self, t, srv, pw, clock_file, pay, open_):
        self.t = t
        self.srv = srv
        self.pw = pw
        self.clock_file = clock_file
        self.pay = pay
        self.open = open_

    def set(self, when):
        """when: "2030-01-04T14:59:00Z" (the clock stands still there) or None (real)."""
        with open(self.clock_file, "w") as f:
            f.write(when.replace("T", " ").rstrip("Z") + "\n" if when else "+0\n")

    def login(self, user, app=None, ip=None, b=None):
        """A login at the portal or, app "pay"/"open", at that OIDC client."""
        b = b or ac.browser(self.srv, ip=ip, stop_at=(PAY, OPEN))
        start = len(b.history)
        if app is None:
            r = ac.portal_login(self.srv, b, user, self.pw[user])
            return b, r, ac.classify(self.srv, b, r, start)
        client, uri = {"pay": (self.pay, PAY), "open": (self.open, OPEN)}[app]
        r = b.get(ac.authorize_url(self.srv, client, uri))
        if ac.login_page(b, r):
            r = b.submit_login(r, user, self.pw[user])
        return b, r, ac.classify(self.srv, b, r, start, redirect_uri=uri)

    def at(self, when, want, what, user="tim", rule=None):
        """At instant when, policy test and a real login of user to the portal."""
        pt = ac.policy_test(self.srv, user, at=when)
        self.set(when)
        try:
            _, _, got = self.login(user)
        finally:
            self.set(None)
        problems = []
        if ac.predicted(pt) != want:
            problems.append("policy test predicts %s" % ac.predicted(pt))
        if got != want:
            problems.append("the real login was %s" % got)
        if rule and want == "refused" and pt.get("rule") != rule:
            problems.append("policy test rule=%s, want %s" % (pt.get("rule"), rule))
        self.t.ok(not problems, "%s: %s (%s): %s" % (what, when, rule or "", want),
                  "\n".join(problems) + "\n" + pt["stdout"] + pt["stderr"])


def part_days_hours(c):
    t, srv = c.t, c.srv
    # 2030-01-04 is a Friday; Tokyo is UTC+9 all year.
    srv.cli("policy", "add", "weekend", "--effect", "deny", "--user", "tim", "--days",
            "sun,sat,sat")
    lst = srv.cli("policy", "list").stdout
    t.ok(re.search(r"^\d+\tweekend\t.*days=sat,sun(\s|$)", lst, re.M),
         "days stored in week order, without duplicates (sun,sat,sat -> sat,sun)", lst)
    c.at("2030-01-04T14:59:00Z", "in", "weekend: Friday 23:59 in Tokyo")
    c.at("2030-01-04T15:00:00Z", "refused", "weekend: Saturday 00:00 in Tokyo (Friday in UTC)",
         rule="weekend")
    c.at("2030-01-06T14:59:00Z", "refused", "weekend: Sunday 23:59 in Tokyo", rule="weekend")
    c.at("2030-01-06T15:00:00Z", "in", "weekend: Monday 00:00 in Tokyo (Sunday in UTC)")
    for when, want in (("2030-01-06T23:59:00+09:00", "deny"),
                       ("2030-01-07T00:00:00+09:00", "allow")):
        pt = ac.policy_test(srv, "tim", at=when)
        t.eq(pt.get("decision"), want, "policy test --at with an offset: %s: %s" % (when, want))

    r = srv.cli("tenant", "set", "default", "--timezone", "UTC")
    t.eq(r.stdout.strip(), "tenant default timezone=UTC default=allow",
         "tenant set --timezone UTC: its answer")
    c.at("2030-01-06T15:00:00Z", "refused", "weekend in UTC: Sunday 15:00 UTC",
         rule="weekend")
    c.at("2030-01-04T15:00:00Z", "in", "weekend in UTC: Friday 15:00 UTC")
    srv.cli("tenant", "set", "default", "--timezone", "Asia/Tokyo")
    srv.cli("policy", "remove", "weekend")

    srv.cli("policy", "add", "night", "--effect", "deny", "--user", "tim", "--hours",
            "22:00-06:00")
    for when, want, tokyo in (("2030-01-08T12:59:00Z", "in", "Tuesday 21:59"),
                              ("2030-01-08T13:00:00Z", "refused", "Tuesday 22:00"),
                              ("2030-01-08T14:59:00Z", "refused", "Tuesday 23:59"),
                              ("2030-01-08T15:00:00Z", "refused", "Wednesday 00:00"),
                              ("2030-01-08T20:59:00Z", "refused", "Wednesday 05:59"),
                              ("2030-01-08T21:00:00Z", "in", "Wednesday 06:00")):
        c.at(when, want, "hours 22:00-06:00: %s in Tokyo" % tokyo, rule="night")
    srv.cli("policy", "remove", "night")

    # Days and hours across midnight: each minute is matched by its own day.
    srv.cli("policy", "add", "fri-night", "--effect", "deny", "--user", "tim", "--days", "fri",
            "--hours", "22:00-06:00")
    for when, want, tokyo in (("2030-01-11T13:30:00Z", "refused", "Friday 22:30"),
                              ("2030-01-11T16:00:00Z", "in", "Saturday 01:00"),
                              ("2030-01-10T16:00:00Z", "refused", "Friday 01:00"),
                              ("2030-01-10T14:00:00Z", "in", "Thursday 23:00")):
        c.at(when, want, "fri 22:00-06:00: %s in Tokyo" % tokyo, rule="fri-night")
    srv.cli("policy", "remove", "fri-night")

    # 00:00-24:00 is the whole day.
    srv.cli("policy", "add", "sunday", "--effect", "deny", "--user", "tim", "--days", "sun",
            "--hours", "00:00-24:00")
    for when, want, tokyo in (("2030-01-05T14:59:00Z", "in", "Saturday 23:59"),
                              ("2030-01-05T15:00:00Z", "refused", "Sunday 00:00"),
                              ("2030-01-06T14:59:00Z", "refused", "Sunday 23:59")):
        c.at(when, want, "sun 00:00-24:00: %s in Tokyo" % tokyo, rule="sunday")
    srv.cli("policy", "remove", "sunday")

    # The rule is evaluated again at the SSO: a session made on Friday night is refused an
    # app once Saturday has begun in Tokyo.
    srv.cli("policy", "add", "weekend", "--effect", "deny", "--user", "tim", "--days",
            "sat,sun")
    c.set("2030-01-04T14:59:00Z")
    try:
        b, _, got = c.login("tim")
        t.eq(got, "in", "Friday 23:59 in Tokyo: tim logs in")
        c.set("2030-01-04T15:00:30Z")
        b, r, got = c.login("tim", "open", b=b)
        t.ok(got == "refused" and not ac.login_page(b, r),
             "Saturday 00:00:30 in Tokyo: the same session's SSO is refused (access_denied)",
             got)
        c.srv.audit_has(t, "access.deny", "user=tim", "rule=weekend", "stage=sso")
    finally:
        c.set(None)
    srv.cli("policy", "remove", "weekend")


# (user, app, client address, header, expected, rule, extra) at an instant (UTC).
CLOCK_CASES = [
    ("2030-01-09T03:00:00Z", ("gina", "pay", "127.0.0.1", None, "in", "default", {})),
    ("2030-01-05T01:00:00Z", ("gina", "pay", "127.0.0.1", None, "refused", "pay-weekend", {})),
    ("2030-01-06T14:59:00Z", ("gina", "pay", "127.0.0.1", None, "refused", "pay-weekend", {})),
    ("2030-01-06T21:00:00Z", ("gina", "pay", "127.0.0.1", None, "in", "default", {})),
    ("2030-01-06T15:00:00Z", ("gina", "pay", "127.0.0.1", None, "refused", "pay-night", {})),
    ("2030-01-08T13:30:00Z", ("gina", "pay", "127.0.0.1", None, "refused", "pay-night", {})),
    ("2030-01-08T20:59:00Z", ("gina", "pay", "127.0.0.1", None, "refused", "pay-night", {})),
    ("2030-01-05T01:00:00Z", ("gina", "pay", "10.1.2.3", "xff", "refused", "pay-weekend", {})),
    ("2030-01-09T03:00:00Z", ("alice", "pay", "10.1.2.3", "xff", "in", "office", {})),
    ("2030-01-09T03:00:00Z", ("carol", "pay", "10.1.2.3", "xff", "refused", "not-assigned",
                              {})),
    ("2030-01-05T01:00:00Z", ("carol", None, "127.0.0.1", None, "in", "default", {})),
    ("2030-01-05T01:00:00Z", ("carol", "open", "127.0.0.1", None, "in", "default", {})),
]


def part_table_clock(c, first):
    srv = c.srv
    srv.cli("app", "assign", "pay", "--group", "finance")
    srv.cli("policy", "add", "pay-weekend", "--effect", "deny", "--app", "pay", "--days",
            "sat,sun")
    srv.cli("policy", "add", "pay-night", "--effect", "deny", "--app", "pay", "--hours",
            "22:00-06:00")
    srv.cli("policy", "add", "office", "--effect", "allow", "--from", "10.0.0.0/8")
    for i, (when, case) in enumerate(CLOCK_CASES):
        user, app, ip, header, _, _, _ = case
        pt = ac.policy_test(srv, user, app, ip, at=when)
        c.set(when)
        try:
            _, _, got = c.login(user, app, ip=ip if header else None)
        finally:
            c.set(None)
        compare(c.t, pt, got, case, "%d at %s" % (first + i, when))


def start_net(t, tmp, peers):
    dport = sekisho_test.free_port()
    srv = Server(["device_listen 127.0.0.1:%d" % dport])
    peers.append(srv)
    pw = {}
    for g in ("staff", "contractors", "temps"):
        srv.cli("group", "add", g)
    for name, groups in NET_USERS.items():
        pw[name] = secrets.token_urlsafe(12)
        srv.add_user(name, pw[name], email=name + "@example.com")
        for g in groups:
            srv.cli("group", "add-member", g, name)
    n = Net(t, srv, pw, dport, tmp)
    n.crm = MellonSP(srv, "crm")
    peers.append(n.crm)
    n.wiki = MellonSP(srv, "wiki")
    peers.append(n.wiki)
    n.mail = OidcRP(srv, "mail")
    peers.append(n.mail)
    return n


def start_clock(t, tmp, peers):
    clock_file = os.path.join(tmp, "clock")
    env = dict(sekisho_test.faketime_env(clock_file), TZ="UTC")
    srv = Server(["trusted_proxies 127.0.0.1/32"], env=env)
    peers.append(srv)
    pw = {}
    srv.cli("group", "add", "finance")
    for name, groups in CLOCK_USERS.items():
        pw[name] = secrets.token_urlsafe(12)
        srv.add_user(name, pw[name])
        for g in groups:
            srv.cli("group", "add-member", g, name)
    pay = ac.add_stub_client(srv, "pay", PAY)
    open_ = ac.add_stub_client(srv, "open", OPEN)
    return Clock(t, srv, pw, clock_file, pay, open_)


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t = Tap()
    began = time.time()
    tmp = tempfile.mkdtemp(prefix="sekisho-rules-")
    os.chmod(tmp, 0o755)
    peers = []
    servers = []
    try:
        n = start_net(t, tmp, peers)
        servers.append(n.srv)
        t.run("client address", part_client_address, n)
        t.run("policy test against real logins", part_table_net, n)
        c = start_clock(t, tmp, peers)
        servers.append(c.srv)
        t.run("days and hours", part_days_hours, c)
        t.run("policy test against logins on the injected clock", part_table_clock, c,
              len(NET_CASES) + len(NET_DENY_CASES) + 1)
        leaks = [p for x in (n, c) for p in x.pw.values() if p in x.srv.log()]
        t.eq(leaks, [], "no password in the servers' logs")
    except Exception as e:
        t.ok(False, "set-up", "%s\n%s" % (e, "\n".join(s.log()[-2000:] for s in servers)))
    finally:
        for p in reversed(peers):
            p.close()
        if os.environ.get("SEKISHO_KEEP") != "1":
            shutil.rmtree(tmp, ignore_errors=True)
    print("# access (rules) scenario took %.1f s" % (time.time() - began))
    t.done()


if __name__ == "__main__":
    main()
