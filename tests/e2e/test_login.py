#!/usr/bin/python3
"""End to end: the login page as a person and an attacker meet it.

Several sekishod instances on 127.0.0.1, each with the settings its part needs:
  main      default limits: languages, security headers and cookies, CSRF, wrong and
            unknown users, 50 parallel wrong passwords, oversized input
  backoff   default limits on a clock that stands still (faketime): the 4th attempt
  reserved  threads 32, lockout after 10: of 64 parallel wrong passwords exactly 10 are
            checked, as each attempt is counted before its password is
  ipv6      listen [::], login_ip_lockout_after 3: addresses of one /64 share a counter
            (root: adds addresses of a random test /64 to lo, removes them at the end)
  lockout   login_user_backoff_after 5, login_user_lockout_after 5, login_lockout_time 5s
  iplock    login_ip_lockout_after 5: the whole address is locked
  idle      session_idle_timeout 60 (the minimum): an active and an idle session
  lifetime  session_max_lifetime 60 (the minimum)
The two session servers start first and their sessions age while the other parts run; the
scenario then waits until 66 s have passed since those logins (about 70 s in all).
At the end no password, CSRF token or cookie value used may appear in any server log or
audit trail.
"""
import concurrent.futures
import http.client
import os
import re
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

import requests

import sekisho_test
from sekisho_test import Browser, Server, Tap

SESSION_COOKIE = "sekisho_sid"
PRE_COOKIE = "sekisho_pre"
WRONG_PASSWORD = "The user name or password is incorrect."
SESSION_WAIT = 66       # seconds after login when the 60 s session limits are checked


class Browsers:
    """Every Browser the scenario makes, so their cookies and CSRF tokens can be looked
    for in the logs at the end."""

    def __init__(self):
        self.all = []
        self.lock = threading.Lock()

    def new(self, server, lang=None):
        b = Browser(verify=server.ca, lang=lang)
        with self.lock:
            self.all.append(b)
        return b

    def issued_secrets(self):
        out = set()
        for b in self.all:
            for c in b.s.cookies:
                if c.name in (SESSION_COOKIE, PRE_COOKIE) and c.value:
                    out.add(c.value)
            for r in b.history:
                for v in r.raw.headers.getlist("Set-Cookie") if r.raw else []:
                    m = re.match(r"(%s|%s)=([^;]+)" % (SESSION_COOKIE, PRE_COOKIE), v)
                    if m:
                        out.add(m.group(2))
                if "text/html" in r.headers.get("Content-Type", ""):
                    for f in sekisho_test.parse_forms(r.text):
                        if f["fields"].get("csrf"):
                            out.add(f["fields"]["csrf"])
        return out


def status_before_body(server, path, length):
    """The status sekishod answers to a POST announcing a body of length bytes, as curl
    asks for large bodies: headers with Expect: 100-continue, then wait for the answer."""
    ctx = ssl.create_default_context(cafile=server.ca)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(("POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                         "Content-Type: application/x-www-form-urlencoded\r\n"
                         "Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % (
                             path, server.port, length)).encode())
            line = tls.recv(4096).split(b"\r\n", 1)[0].decode("ascii", "replace")
    m = re.match(r"HTTP/1\.[01] (\d{3})", line)
    return int(m.group(1)) if m else line


def set_cookies(r, name):
    return [v for v in r.raw.headers.getlist("Set-Cookie") if v.startswith(name + "=")]


def login_post(b, r, **fields):
    """POST the login form of page r with its fields replaced or removed (None)."""
    f = b.login_form(r)
    data = dict(f["fields"])
    for k, v in fields.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    return b._req("POST", urllib.parse.urljoin(r.url, f["action"]), data=data)


def v6_login(server, source, username, password):
    """A login from the IPv6 address source (to ::1): the status of the form's POST."""
    ctx = ssl.create_default_context(cafile=server.ca)
    ctx.check_hostname = False      # the certificate names 127.0.0.1

    def request(method, path, body=None, headers=None):
        c = http.client.HTTPSConnection("::1", server.port, source_address=(source, 0),
                                        context=ctx, timeout=30)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read().decode("utf-8", "replace")
        c.close()
        return r, data

    path = "/t/default/login"
    r, page = request("GET", path)
    pre = [v.split(";")[0] for v in r.headers.get_all("Set-Cookie") or []
           if v.startswith(PRE_COOKIE + "=")]
    form = [f for f in sekisho_test.parse_forms(page) if "csrf" in f["fields"]][0]
    data = dict(form["fields"], username=username, password=password)
    r, _ = request("POST", path, urllib.parse.urlencode(data), {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": pre[0]})
    return r.status


def has_session(b):
    return any(c.name == SESSION_COOKIE and c.value for c in b.s.cookies)


def portal_logged_in(b, server):
    r = b.get(server.base() + "/portal")
    return r.status_code == 200 and r.url == server.base() + "/portal"


def mask_page(text, username):
    """A login page with what legitimately differs between two answers taken out."""
    text = re.sub(r'name="csrf" value="[^"]*"', 'name="csrf" value=""', text)
    text = re.sub(r'data-challenge="[^"]*"', 'data-challenge=""', text)
    return text.replace('value="%s"' % username, 'value=""')


def audit_count(server, event, *fields):
    return len([f for e, f in server.audit() if e == event and all(
        re.search(r"(^|\s)%s(\s|$)" % re.escape(kv), f) for kv in fields)])


class Scenario:
    def __init__(self, tap):
        self.t = tap
        self.browsers = Browsers()
        self.passwords = {}
        self.servers = []

    def browser(self, server, lang=None):
        return self.browsers.new(server, lang)

    def server(self, *extra, prefix=(), start=True):
        s = Server(extra_config=list(extra), prefix=prefix, start=start)
        self.servers.append(s)
        return s

    def add_user(self, server, name):
        pw = secrets.token_urlsafe(15)
        self.passwords[(server.port, name)] = pw
        server.add_user(name, pw, email=name + "@example.com", display=name.capitalize())
        return pw

    def login(self, server, name, password=None, lang=None):
        """A fresh browser through the login form; (browser, final response)."""
        b = self.browser(server, lang)
        r = b.get(server.base() + "/login")
        pw = password if password is not None else self.passwords[(server.port, name)]
        return b, b.submit_login(r, name, pw)

    def wrong(self):
        pw = secrets.token_urlsafe(15)
        self.passwords[("wrong", pw)] = pw
        return pw

    # ---- session limits: started first, checked last ----

    def start_session_clocks(self):
        self.idle = self.server("session_idle_timeout 60")
        self.life = self.server("session_max_lifetime 60")
        for s in (self.idle, self.life):
            self.add_user(s, "sam")
        self.active, r1 = self.login(self.idle, "sam")
        self.resting, r2 = self.login(self.idle, "sam")
        self.lived, r3 = self.login(self.life, "sam")
        self.session_t0 = time.time()
        self.t.ok(all(r.status_code == 200 and r.url.endswith("/portal") for r in (r1, r2, r3)),
                  "session limits: three sessions started")
        # The active session is used every 10 s, like a person clicking around.
        self.active_seen = []
        self.stop_clicking = threading.Event()

        def click():
            while not self.stop_clicking.wait(10):
                self.active_seen.append((round(time.time() - self.session_t0),
                                         portal_logged_in(self.active, self.idle)))
        self.clicker = threading.Thread(target=click, daemon=True)
        self.clicker.start()

    def check_session_clocks(self):
        t = self.t
        name = "session_max_lifetime 60: alive before 60 s"
        if time.time() - self.session_t0 < 55:
            t.ok(portal_logged_in(self.lived, self.life), name)
        else:
            t.ok(True, name + " # SKIP the other parts took too long to tell")
        wait = self.session_t0 + SESSION_WAIT - time.time()
        if wait > 0:
            print("# waiting %.0f s for the 60 s session limits" % wait, flush=True)
            time.sleep(wait)
        self.stop_clicking.set()
        self.clicker.join()
        seen = list(self.active_seen)
        t.ok(seen and all(ok for _, ok in seen) and portal_logged_in(self.active, self.idle),
             "session_idle_timeout 60: a session used every 10 s is still alive after %d s"
             % SESSION_WAIT, "(seconds after login, logged in): %s" % seen)
        r = self.resting.get(self.idle.base() + "/portal")
        t.ok(r.url.startswith(self.idle.base() + "/login"),
             "session_idle_timeout 60: an unused session has ended after %d s" % SESSION_WAIT,
             "%d %s" % (r.status_code, r.url))
        r = self.lived.get(self.life.base() + "/portal")
        t.ok(r.url.startswith(self.life.base() + "/login"),
             "session_max_lifetime 60: the session has ended after %d s" % SESSION_WAIT,
             "%d %s" % (r.status_code, r.url))
        t.ok(not has_session(self.lived), "session_max_lifetime: the cookie was cleared")

    # ---- main server ----

    def languages(self, s):
        t, base = self.t, s.base()
        r = self.browser(s, "ja").get(base + "/login")
        t.ok(r.status_code == 200 and '<html lang="ja">' in r.text and "ログイン" in r.text and
             "パスワード" in r.text, "Accept-Language ja: the login page is in Japanese",
             r.text[:300])
        r = self.browser(s, "en-GB,en;q=0.8").get(base + "/login")
        t.ok('<html lang="en">' in r.text and "Sign in" in r.text and "ログイン" not in r.text,
             "Accept-Language en: the login page is in English")
        r = self.browser(s, "en;q=0.5, ja;q=0.9").get(base + "/login")
        t.ok('<html lang="ja">' in r.text, "Accept-Language: the higher q-value wins (ja)")
        r = self.browser(s, "fr, de").get(base + "/login")
        t.ok('<html lang="en">' in r.text, "Accept-Language without ja or en: English")
        b = self.browser(s, "ja")
        r = b.get(base + "/login")
        t.ok('href="/t/default/login?lang=en"' in r.text,
             "Japanese page links to the English one")
        r = b.get(base + "/login?lang=en")
        t.ok('<html lang="en">' in r.text and "Sign in" in r.text and
             set_cookies(r, "sekisho_lang"), "?lang=en switches to English and sets a cookie",
             r.headers.get("Set-Cookie"))
        r = b.get(base + "/login")
        t.ok('<html lang="en">' in r.text and "ログイン" not in r.text,
             "the choice sticks on the next page (Accept-Language still ja)")
        r = b.get(base + "/nowhere")
        t.ok(r.status_code == 404 and '<html lang="en">' in r.text,
             "the choice applies to error pages too")
        r = b.get(base + "/login?lang=ja")
        r = b.get(base + "/nowhere")
        t.ok('<html lang="ja">' in r.text and "ページが見つかりません" in r.text,
             "?lang=ja switches back; the 404 page in Japanese")
        r = self.browser(s).get(base + "/login?lang=xx")
        t.ok('<html lang="en">' in r.text and not set_cookies(r, "sekisho_lang"),
             "an unknown ?lang is ignored (no cookie)")

    def security_headers(self, s):
        t, base = self.t, s.base()
        user = "hedy"
        self.add_user(s, user)
        b = self.browser(s)
        login = first = b.get(base + "/login")
        pages = {
            "login page": login,
            "error 404": b.get(base + "/no/such/page"),
            "unknown tenant": b.get(s.url + "/t/nosuch/login"),
            "SAML metadata": b.get(base + "/saml/metadata"),
            "healthz": b.get(s.url + "/healthz"),
            "bad path (400)": b.get(s.url + "/t/default/a;b"),
            "wrong method (405)": b._req("DELETE", base + "/login"),
            "failed login (401)": login_post(b, login, username=user,
                                             password=self.wrong()),
        }
        login = b.get(base + "/login")
        ok = login_post(b, login, username=user, password=self.passwords[(s.port, user)])
        pages["login redirect (303)"] = ok
        pages["portal"] = b.get(base + "/portal")
        for name, r in pages.items():
            h = r.headers
            missing = []
            if not h.get("Strict-Transport-Security", "").startswith("max-age="):
                missing.append("Strict-Transport-Security")
            if "frame-ancestors 'none'" not in h.get("Content-Security-Policy", ""):
                missing.append("CSP frame-ancestors 'none'")
            if h.get("Referrer-Policy") != "no-referrer":
                missing.append("Referrer-Policy")
            if h.get("X-Content-Type-Options") != "nosniff":
                missing.append("X-Content-Type-Options")
            t.ok(not missing, "security headers on %s (%d)" % (name, r.status_code),
                 "missing: %s\n%s" % (missing, dict(h)))
        t.eq(pages["portal"].status_code, 200, "portal reached after the login")
        cookies = set_cookies(ok, SESSION_COOKIE)
        attrs = [a.strip() for a in cookies[0].split(";")[1:]] if cookies else []
        t.ok(ok.status_code == 303 and len(cookies) == 1 and
             {"Secure", "HttpOnly", "SameSite=Lax", "Path=/t/default/"} <= set(attrs),
             "session cookie: Secure, HttpOnly, SameSite=Lax, Path=/t/default/", cookies)
        t.ok(cookies and not [a for a in attrs if a.lower().startswith(("max-age", "expires",
                                                                      "domain"))],
             "session cookie: a browser-session cookie without Domain", cookies)
        pre = set_cookies(first, PRE_COOKIE)
        t.ok(pre and {"Secure", "HttpOnly", "SameSite=Lax", "Path=/t/default/"} <= set(
            a.strip() for a in pre[0].split(";")[1:]), "login binding cookie: same flags", pre)
        t.ok(ok.headers.get("Cache-Control") == "no-store" and
             login.headers.get("Cache-Control") == "no-store",
             "login page and answer: Cache-Control no-store")

    def csrf(self, s):
        t, base = self.t, s.base()
        user = "csrfuser"
        pw = self.add_user(s, user)
        before = audit_count(s, "login.fail", "reason=csrf")
        cases = {}
        b = self.browser(s)
        r = b.get(base + "/login")
        cases["without csrf"] = (b, login_post(b, r, username=user, password=pw, csrf=None))
        b = self.browser(s)
        r = b.get(base + "/login")
        tok = b.login_form(r)["fields"]["csrf"]
        forged = tok.split(".")[0] + "." + secrets.token_urlsafe(32)
        cases["with a wrong csrf"] = (b, login_post(b, r, username=user, password=pw,
                                                    csrf=forged))
        b = self.browser(s)
        r = b.get(base + "/login")
        other = self.browser(s)
        theirs = other.login_form(other.get(base + "/login"))["fields"]["csrf"]
        cases["with another browser's csrf"] = (b, login_post(b, r, username=user,
                                                              password=pw, csrf=theirs))
        b = self.browser(s)
        r = b.get(base + "/login")
        b.s.cookies.clear()
        cases["without the binding cookie"] = (b, login_post(b, r, username=user, password=pw))
        for name, (b, r) in cases.items():
            t.ok(r.status_code == 400 and not has_session(b) and
                 "The sign-in form expired" in r.text and not set_cookies(r, SESSION_COOKIE),
                 "CSRF: login %s is refused (400), no session" % name,
                 "%d %s" % (r.status_code, r.text[:300]))
        after = audit_count(s, "login.fail", "reason=csrf")
        t.eq(after - before, len(cases), "CSRF: one audit login.fail reason=csrf per refusal")
        b, r = self.login(s, user)
        t.ok(r.url == base + "/portal" and has_session(b),
             "CSRF: the same password with the form's own token works")

    def wrong_and_unknown(self, s):
        t, base = self.t, s.base()
        user = "wendy"
        self.add_user(s, user)
        answers = {}
        for who in (user, "nosuchuser"):
            b = self.browser(s)
            r = b.get(base + "/login")
            answers[who] = (b, login_post(b, r, username=who, password=self.wrong()))
        b, r = answers[user]
        t.ok(r.status_code == 401 and WRONG_PASSWORD in r.text and not has_session(b),
             "wrong password: 401 with the error message, no session",
             "%d %s" % (r.status_code, r.text[:300]))
        t.ok(b.login_form(r) is not None, "wrong password: the form is shown again")
        t.ok(audit_count(s, "login.fail", "user=" + user, "reason=bad_password") == 1,
             "wrong password: audit login.fail reason=bad_password")
        b2, r2 = answers["nosuchuser"]
        t.eq((r2.status_code, WRONG_PASSWORD in r2.text), (r.status_code, True),
             "unknown user: the same status and message as a wrong password")
        t.ok(mask_page(r.text, user) == mask_page(r2.text, "nosuchuser"),
             "unknown user: the same page, byte for byte (apart from token and name)")
        t.ok(audit_count(s, "login.fail", "user=nosuchuser", "reason=unknown_user") == 1,
             "unknown user: audit login.fail reason=unknown_user")

    def backoff(self):
        """Default login_user_backoff_after 3.  The server's clock stands still (faketime
        -f with an absolute time, no "@"), so the fourth attempt lands inside the 1 s
        backoff however slow the machine is."""
        now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        s = self.server(prefix=["env", "TZ=UTC"] + sekisho_test.faketime(["-f", now]))
        t, base = self.t, s.base()
        user = "bo"
        pw = self.add_user(s, user)
        b = self.browser(s)
        form = b.get(base + "/login")        # ready before the failures: the first
        codes = [self.login(s, user, self.wrong())[1].status_code for _ in range(3)]
        t.eq(codes, [401, 401, 401], "backoff: three wrong passwords, 401 each")
        r = login_post(b, form, username=user, password=pw)
        t.ok(r.status_code == 429 and r.headers.get("Retry-After") == "2" and
             "Wait a few seconds" in r.text and not has_session(b),
             "backoff: the 4th attempt is refused with 429 + Retry-After 2 (it counted: "
             "4 failures), right password or not", "%d %s %s" % (
                 r.status_code, r.headers.get("Retry-After"), r.text[:300]))
        t.ok(audit_count(s, "login.fail", "user=" + user, "reason=backoff") == 1,
             "backoff: audit login.fail reason=backoff")
        times = {line.split("\t")[1] for line in s.cli("audit").stdout.splitlines()
                 if "\tlogin.fail\t" in line and "user=%s" % user in line}
        t.eq(len(times), 1, "backoff: the server's clock stood still (one time on all four "
             "failures)")

    def parallel(self, s, n=50):
        t, base = self.t, s.base()
        user = "victim"
        self.add_user(s, user)

        def attempt(_):
            b = self.browser(s)
            r = b.get(base + "/login")
            return login_post(b, r, username=user, password=self.wrong()).status_code

        with concurrent.futures.ThreadPoolExecutor(n) as pool:
            codes = list(pool.map(attempt, range(n)))
        t.ok(all(c in (401, 429) for c in codes),
             "%d parallel wrong passwords: each refused (401 or 429)" % n, codes)
        fails = [f for e, f in s.audit() if e == "login.fail" and
                 re.search(r"(^|\s)user=%s(\s|$)" % user, f)]
        t.eq(len(fails), n, "%d parallel wrong passwords: exactly %d login.fail records" % (
            n, n))
        counts = sorted(int(m.group(1)) for f in fails
                        for m in [re.search(r"failures=(\d+)", f)] if m)
        t.eq(counts, list(range(1, n + 1)),
             "%d parallel wrong passwords: the failure counter went 1..%d, none lost" % (n, n))
        b, r = self.login(s, user)
        t.ok(r.status_code == 429 and not has_session(b),
             "after %d failures the right password is refused (locked)" % n,
             "%d" % r.status_code)

    def parallel_reserved(self, n=64, limit=10):
        """n parallel wrong passwords against threads 32 and a lockout after limit: each
        attempt is reserved before the password is checked, so exactly limit are checked
        (audit reason bad_password) and the rest are refused unchecked (reason locked)."""
        # argon2 costs near the defaults: checking a password takes long enough for the
        # attempts to overlap, as they do in production.
        s = self.server("threads 32", "login_user_lockout_after %d" % limit,
                        "login_user_backoff_after %d" % limit, "argon2_t_cost 2",
                        "argon2_m_cost 8m")
        t, base = self.t, s.base()
        user = "target"
        self.add_user(s, user)
        forms = []
        for _ in range(n):
            b = self.browser(s)
            forms.append((b, b.get(base + "/login")))
        go = threading.Barrier(n)

        def attempt(i):
            b, r = forms[i]
            go.wait()
            return login_post(b, r, username=user, password=self.wrong()).status_code

        with concurrent.futures.ThreadPoolExecutor(n) as pool:
            codes = list(pool.map(attempt, range(n)))
        reasons = [m.group(1) for e, f in s.audit() if e == "login.fail" and
                   re.search(r"(^|\s)user=%s(\s|$)" % user, f)
                   for m in [re.search(r"reason=(\S+)", f)] if m]
        checked = reasons.count("bad_password")
        t.eq(checked, limit, "%d parallel wrong passwords, lockout after %d: exactly %d reach "
             "password verification (audit reason bad_password)" % (n, limit, limit))
        t.eq(reasons.count("locked"), n - limit, "the other %d are refused before it "
             "(reason locked)" % (n - limit))
        t.eq(sorted(codes), [401] * limit + [429] * (n - limit),
             "%d answers 401 and %d answers 429" % (limit, n - limit))

    def ipv6_prefix(self):
        """IPv6 clients count by /64: two addresses of one /64 share the address counter.
        Needs root for addresses in a random test /64 on lo (removed at the end)."""
        t = self.t
        if os.geteuid() != 0:
            t.ok(False, "IPv6 /64 counting: must run as root (it adds test addresses to lo); "
                 "CI runs the tests as root")
            return
        net = "fd%02x:%x:%x:%x" % ((secrets.randbelow(0x100),) +
                                   tuple(secrets.randbelow(0x10000) for _ in range(3)))
        other = net.rsplit(":", 1)[0] + ":%x" % ((int(net.rsplit(":", 1)[1], 16) + 1) % 0x10000)
        addrs = [net + "::a", net + "::b", other + "::c"]
        added = []
        try:
            for a in addrs:
                r = subprocess.run(["ip", "-6", "addr", "add", a + "/128", "dev", "lo", "nodad"],
                                   capture_output=True, text=True)
                if r.returncode != 0:
                    raise RuntimeError("ip addr add %s: %s" % (a, r.stderr))
                added.append(a)
            self.ipv6_counting(addrs)
        finally:
            for a in added:
                subprocess.run(["ip", "-6", "addr", "del", a + "/128", "dev", "lo"],
                               capture_output=True)

    def ipv6_counting(self, addrs):
        t = self.t
        s = self.server("login_ip_lockout_after 3", start=False)
        conf = os.path.join(s.dir, "sekishod.conf")
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(re.sub(r"(?m)^listen .*$", "listen [::]:%d" % s.port, text))
        s.start()
        pw = self.add_user(s, "ivy6")
        pw2 = self.add_user(s, "vic6")
        codes = [v6_login(s, addrs[0], "stranger%d" % i, self.wrong()) for i in range(3)]
        t.eq(codes, [401] * 3, "IPv6: three wrong logins from %s" % addrs[0])
        t.eq(v6_login(s, addrs[1], "ivy6", pw), 429,
             "IPv6: another address of the same /64 (%s) is locked too" % addrs[1])
        self.audit_has(s, "login.fail", "user=ivy6", "ip=" + addrs[1], "reason=locked")
        t.eq(v6_login(s, addrs[2], "vic6", pw2), 303,
             "IPv6: an address of another /64 (%s) logs in" % addrs[2])

    def oversized(self, s):
        t, base = self.t, s.base()
        user = "olga"
        pw = self.add_user(s, user)
        b = self.browser(s)
        r = b.get(base + "/login")
        big_user = login_post(b, r, username="u" * 10240, password=pw)
        b = self.browser(s)
        r = b.get(base + "/login")
        big_pw = login_post(b, r, username=user, password=secrets.token_urlsafe(75000))
        for name, r in (("10 KB user name", big_user), ("100 KB password", big_pw)):
            t.ok(r.status_code in (400, 413) and ("not valid input" in r.text or
                                                  r.status_code == 413),
                 "oversized input: %s refused with a clear error (%d)" % (name,
                                                                         r.status_code),
                 r.text[:300])
        t.eq(status_before_body(s, "/t/default/login", 300 * 1024), 413,
             "body over max_body (256k) announced in Content-Length: 413 before the body")

        def chunks():
            for _ in range(300):
                yield b"p" * 1024
        try:
            r = requests.post(base + "/login", data=chunks(), verify=s.ca, timeout=30,
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
            status = r.status_code
        except requests.ConnectionError as e:
            status = "connection closed: %s" % e
        t.eq(status, 413, "body over max_body sent chunked: 413")
        b, r = self.login(s, user)
        t.ok(r.url == base + "/portal", "after oversized input the server serves others")

    # ---- lockout servers ----

    def user_lockout(self):
        """Backoff starts with the lockout here, so no step depends on a 1 s window."""
        s = self.server("login_user_backoff_after 5", "login_user_lockout_after 5",
                        "login_lockout_time 5s")
        t, base = self.t, s.base()
        pw = self.add_user(s, "lou")
        self.add_user(s, "other")
        codes = [self.login(s, "lou", self.wrong())[1].status_code for _ in range(5)]
        t.eq(codes, [401] * 5, "lockout: five wrong passwords, 401 each")
        b, r = self.login(s, "lou", pw)
        locked_at = time.time()
        t.ok(r.status_code == 429 and "Too many failed attempts. Wait a while" in r.text and
             not has_session(b), "lockout: after login_user_lockout_after failures the right "
             "password is refused (locked, 429)", "%d %s" % (r.status_code, r.text[:300]))
        retry = r.headers.get("Retry-After", "")
        t.ok(retry.isdigit() and 0 < int(retry) <= 5,
             "lockout: Retry-After says when to come back (login_lockout_time 5s)",
             "Retry-After: %r" % retry)
        self.audit_has(s, "login.fail", "user=lou", "reason=locked")
        b, r = self.login(s, "other")
        t.ok(r.url == base + "/portal", "lockout: another user is not affected",
             "%d %s" % (r.status_code, r.url))
        time.sleep(max(0.0, locked_at + 6 - time.time()))
        b, r = self.login(s, "lou", pw)
        t.ok(r.url == base + "/portal" and has_session(b),
             "lockout: after login_lockout_time the right password works again",
             "%d %s %s" % (r.status_code, r.url, r.text[:200]))

    def ip_lockout(self):
        s = self.server("login_ip_lockout_after 5")
        t = self.t
        self.add_user(s, "ivy")
        for i in range(5):
            self.login(s, "stranger%d" % i, self.wrong())
        b, r = self.login(s, "ivy")
        t.ok(r.status_code == 429 and not has_session(b),
             "address lockout: after 5 failures from 127.0.0.1 (5 user names) a valid "
             "user is refused too", "%d %s" % (r.status_code, r.url))
        self.audit_has(s, "login.fail", "user=ivy", "ip=127.0.0.1", "reason=locked")

    def audit_has(self, s, event, *fields):
        return self.t.ok(audit_count(s, event, *fields), "audit: %s %s" % (
            event, " ".join(fields)))

    def no_secrets_in_logs(self):
        secret = set(self.passwords.values()) | self.browsers.issued_secrets()
        leaks = []
        for s in self.servers:
            text = s.log() + s.cli("audit").stdout
            leaks += sekisho_test.grep_secret_leaks(text, sorted(secret))
        self.t.ok(len(secret) > 100 and not leaks,
                  "no password, CSRF token or cookie value (%d of them) in server logs or "
                  "audit trails" % len(secret), "leaked: %s" % leaks[:5])


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t = Tap()
    began = time.time()
    sc = Scenario(t)
    try:
        t.run("session limits (start)", sc.start_session_clocks)
        main_server = sc.server()
        t.run("languages", sc.languages, main_server)
        t.run("security headers", sc.security_headers, main_server)
        t.run("CSRF", sc.csrf, main_server)
        t.run("wrong password and unknown user", sc.wrong_and_unknown, main_server)
        t.run("backoff", sc.backoff)
        t.run("oversized input", sc.oversized, main_server)
        t.run("parallel wrong passwords", sc.parallel, main_server)
        t.run("parallel attempts reserved", sc.parallel_reserved)
        t.run("IPv6 /64", sc.ipv6_prefix)
        t.run("user lockout", sc.user_lockout)
        t.run("address lockout", sc.ip_lockout)
        t.run("session limits", sc.check_session_clocks)
        t.run("secrets in logs", sc.no_secrets_in_logs)
    except Exception as e:
        t.ok(False, "set-up", e)
    finally:
        if getattr(sc, "stop_clicking", None):
            sc.stop_clicking.set()
        for s in sc.servers:
            s.close()
    print("# login scenario took %.1f s" % (time.time() - began))
    t.done()


if __name__ == "__main__":
    main()
