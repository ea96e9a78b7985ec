#!/usr/bin/python3
"""End to end: a device check belongs to the browser that began the login.

The attack: someone who knows alice's password (browser A) logs in, stops at the redirect to
the device check and sends that link to alice; alice's enrolled device (browser B: curl with
her real certificate from `sekisho cert issue`, none of A's cookies) opens it and goes as far
as it can.  A must not end up with a device-verified session: mod_auth_mellon must not see a
TLSClient AuthnContextClassRef or deviceSerial, mod_auth_openidc no acr device, amr swk or
device_serial; B sees a refusal (English or Japanese) and the audit trail has it.

Tried in each configuration sekishod.conf(5) allows: the device listener on its own port of
the same host name (the binding cookie reaches it: it refuses B itself), the certificate
forwarded by a proxy in device_proxy_header, and the device listener on its own host name
(localhost against 127.0.0.1: the cookie cannot reach it, so the main listener refuses B
after the return trip).  Also: the honest flow on its own host name through mod_auth_mellon;
no GET marks a session, only the POST of "continue"; a binding cookie replayed from a
finished check, another browser's check or CSRF token, another session, a replayed POST, a
spent reference, an ended session and an expired link or "continue" (sekishod's clock moved
by libfaketime) are refused; a parked request's id at /device is refused and left alone.
"""
import os
import subprocess
import tempfile
import urllib.parse

import sekisho_test
from sekisho_test import Server, Tap
from peers.device import DeviceBrowser, continue_form, issue, run, saml_response
from peers.mellon import MellonSP, parse_env as mellon_env
from peers.openidc import OidcRP, parse_env as oidc_env

PASSWORD = "alice-secret-pw-1"
TLSCLIENT = "urn:oasis:names:tc:SAML:2.0:ac:classes:TLSClient"
STUB = "http://127.0.0.1:9/cb"      # an OIDC redirect URI nobody listens on
LIFETIME = 60                       # device_check_lifetime of the second server


class Setup:
    """One sekishod, the URL of its device listener and alice's device certificate."""

    def __init__(self, t, srv, device_url, tmp, device_ca=None, clock=None):
        self.t = t
        self.srv = srv
        self.device_url = device_url
        self.device_ca = device_ca
        self.clock_file = clock
        self.tmp = tmp
        self.cert, self.serial = issue(srv, tmp, "alice-%d" % srv.port, "alice", "laptop")

    def browser(self, device=False, **kw):
        return DeviceBrowser(self.srv, self.device_url, cert=self.cert if device else None,
                             ca=self.device_ca, **kw)

    def login(self, b, url):
        r = b.get(url)
        if b.login_form(r) is not None:
            r = b.submit_login(r, "alice", PASSWORD)
        return r

    def link(self, r):
        return urllib.parse.urljoin(r.url, r.headers.get("Location", ""))

    def verified(self, b):
        """Whether b's session is device-verified: /certs marks the certificate checked in
        this session."""
        r = b._req("GET", self.srv.base() + "/certs")
        return r.status_code == 200 and 'class="current"' in r.text

    def audit_count(self, event):
        return len([f for e, f in self.srv.audit() if e == event])

    def set_clock(self, seconds):
        """sekishod's clock: this many seconds ahead of the real one."""
        with open(self.clock_file, "w") as f:
            f.write("%+d\n" % seconds)


# ---- the attack ----

def attack(s, app, victim):
    """A logs in to app with alice's password and stops at the device link; the victim
    browser opens it and follows wherever it is sent.  (A, the victim's last page)."""
    a = s.browser(stop_at=(s.device_url,))
    r = s.login(a, app.protected)
    link = s.link(r)
    s.t.ok(link.startswith(s.device_url + "/t/default/device?c="),
           "attacker A, with alice's password, stops at the device-check link", link)
    return a, victim.get(link)


def refused_binding(s, r, where, what, lang="en"):
    t = s.t
    t.ok(r.status_code == 403 and r.url.startswith(where) and "<code>binding</code>" in r.text,
         "%s: refused by the %s listener (binding)" % (what, "device" if where ==
                                                          s.device_url else "main"),
         "%s %s %s" % (r.status_code, r.url, r.text[:500]))
    text = "別のブラウザーで開始された" if lang == "ja" else "started in another browser"
    t.ok(text in r.text and ("パスワードを変更" if lang == "ja" else "change your password")
         in r.text, "%s: the page says why and what to do (%s)" % (what, lang))


def a_not_verified_saml(s, a, crm, what):
    """A goes on to crm: it is sent to the device check again, never gets a device
    assertion."""
    t = s.t
    t.ok(not s.verified(a), "%s: A's session is not device-verified" % what)
    r = a.get(crm.protected)
    env = mellon_env(r.text) if r.status_code == 200 else {}
    t.ok(r.status_code in (302, 303) and r.headers.get("Location", "").startswith(
        s.device_url), "%s: A going on to crm is sent to the device check again" % what,
        "%s %s" % (r.status_code, r.text[:300]))
    t.ok("MELLON_deviceSerial" not in env and TLSCLIENT not in saml_response(a, crm.url),
         "%s: crm never gets a TLSClient assertion or deviceSerial for A" % what, env)


def part_attack_same_host(s, crm, mail):
    t = s.t
    before = s.audit_count("device.check")
    victim = s.browser(device=True, cookies=False)
    a, r = attack(s, crm, victim)
    refused_binding(s, r, s.device_url, "alice's device opening A's link (SAML)")
    t.ok(not any(h.url.startswith(s.srv.url) for h in victim.history[1:]),
         "alice's device never reached the main listener")
    s.srv.audit_has(t, "device.check.fail", "user=alice", "reason=binding")
    a_not_verified_saml(s, a, crm, "SAML")
    # The same through mod_auth_openidc, alice's device asking in Japanese.
    victim = s.browser(device=True, cookies=False, lang="ja")
    a, r = attack(s, mail, victim)
    refused_binding(s, r, s.device_url, "alice's device opening A's link (OIDC)", "ja")
    t.ok(not s.verified(a), "OIDC: A's session is not device-verified")
    r = a.get(mail.protected)
    env = oidc_env(r.text) if r.status_code == 200 else {}
    t.ok(r.status_code in (302, 303) and r.headers.get("Location", "").startswith(
        s.device_url) and env.get("OIDC_CLAIM_acr") is None,
        "OIDC: A going on to mail is sent to the device check again", r.text[:300])
    t.ok(env.get("OIDC_CLAIM_acr") != "urn:sekisho:acr:device" and "swk" not in
         env.get("OIDC_CLAIM_amr", "") and "OIDC_CLAIM_device_serial" not in env,
         "OIDC: mail never gets acr device, amr swk or device_serial for A", env)
    t.eq(s.audit_count("device.check"), before, "no device check passed in the attacks")


def part_attack_proxy(s, crm):
    """Alice's device behind the proxy that forwards its certificate: refused the same."""
    with open(s.cert[0]) as f:
        pem = urllib.parse.quote(f.read(), safe="")
    victim = s.browser(cookies=False, src="127.0.0.2", headers={"X-Client-Cert": pem})
    a, r = attack(s, crm, victim)
    refused_binding(s, r, s.device_url, "alice's device through the proxy")
    a_not_verified_saml(s, a, crm, "proxy")


def part_attack_other_host(s, crm):
    t = s.t
    victim = s.browser(device=True, cookies=False)
    a, r = attack(s, crm, victim)
    t.ok(any(h.url.startswith(s.device_url) and h.status_code == 303 for h in victim.history),
         "own host name: the device listener checks the certificate and sends it back")
    refused_binding(s, r, s.srv.url, "own host name: alice's device back on the main listener")
    s.srv.audit_has(t, "device.check.fail", "user=alice", "serial=" + s.serial,
                    "reason=binding")
    # Had the reference leaked, even A (its cookie, its session) could not use it now.
    back = [h.url for h in victim.history if h.url.startswith(s.srv.base() + "/device?r=")]
    r = a._req("GET", back[0]) if back else None
    t.ok(r is not None and r.status_code == 400 and continue_form(r) is None,
         "own host name: the reference alice's device brought back is spent",
         r and "%s %s" % (r.status_code, r.text[:300]))
    a_not_verified_saml(s, a, crm, "own host name")


# ---- the honest flow, and what it must not accept ----

def part_honest_other_host(s, crm):
    t = s.t
    b = s.browser(device=True)
    r = s.login(b, crm.protected)
    env = mellon_env(r.text)
    t.ok(r.status_code == 200 and env.get("MELLON_deviceSerial") == s.serial and
         TLSCLIENT in saml_response(b, crm.url),
         "own host name: alice with her device reaches crm, TLSClient and deviceSerial",
         "%s %s" % (r.status_code, r.text[:500]))
    posts = [h for h in b.history if getattr(h, "request", None) is not None and
             h.request.method == "POST" and h.url == s.srv.base() + "/device"]
    t.eq(len(posts), 1, "own host name: the session was marked by one POST of continue")
    s.srv.audit_has(t, "device.check", "user=alice", "serial=" + s.serial, "via=tls")


def part_get_never_marks(s, crm):
    t = s.t
    b = s.browser(device=True, auto_continue=False, lang="ja")
    r = s.login(b, crm.protected)
    form = continue_form(r)
    t.ok(form is not None and r.url.startswith(s.srv.base() + "/device?r=") and "続ける" in
         r.text and "laptop" in r.text and s.serial in r.text,
         "the honest browser is back on the main listener, at continue (in Japanese)",
         r.text[:300])
    t.ok(not s.verified(b), "after every GET of the check the session is not device-verified")
    t.ok('<script' not in r.text and "unsafe-inline" not in r.headers.get(
        "Content-Security-Policy", "x") and "form-action 'self'" in r.headers.get(
        "Content-Security-Policy", ""), "continue is a plain form, the CSP unchanged")
    if form is None:
        return
    b.get(s.srv.base() + "/device?" + urllib.parse.urlencode(form["fields"]))
    t.ok(not s.verified(b), "continue's fields sent as a GET mark nothing")
    r = b.post(urllib.parse.urljoin(r.url, form["action"]), form["fields"])
    t.ok(r.status_code == 200 and mellon_env(r.text).get("MELLON_deviceSerial") == s.serial
         and s.verified(b), "the POST of continue marks the session and the login goes on",
         r.text[:300])


def logout(b, srv):
    r = b.get(srv.base() + "/logout")
    forms = [f for f in sekisho_test.parse_forms(r.text) if "csrf" in f["fields"]]
    return b.post(urllib.parse.urljoin(r.url, forms[0]["action"]), forms[0]["fields"])


def part_state_changes(s, crm):
    """What changed between the steps counts: a revoked certificate, an ended session."""
    t = s.t
    cert, serial = issue(s.srv, s.tmp, "alice-revoked-%d" % s.srv.port, "alice", "old phone")
    b = DeviceBrowser(s.srv, s.device_url, cert=cert, auto_continue=False)
    r = s.login(b, crm.protected)
    form = continue_form(r)
    s.srv.cli("cert", "revoke", serial)
    if form is None:
        t.ok(False, "at continue with the certificate to revoke", r.text[:300])
    else:
        before = s.audit_count("device.check")
        r = b.post(urllib.parse.urljoin(r.url, form["action"]), form["fields"])
        # The revocation ended alice's sessions: the one that began the check is gone.
        t.ok(r.status_code == 400 and "session has ended" in r.text and not s.verified(b) and
             s.audit_count("device.check") == before, "a certificate revoked before continue "
             "is posted: nothing is marked", "%s %s" % (r.status_code, r.text[:300]))
    b = s.browser(device=True, stop_at=(s.device_url,))
    link = s.link(s.login(b, crm.protected))
    logout(b, s.srv)
    r = b.get(link)
    t.ok(r.status_code == 400 and r.url.startswith(s.device_url) and
         "session has ended" in r.text, "a device link whose session has ended: refused by "
         "the device listener", "%s %s %s" % (r.status_code, r.url, r.text[:300]))


def binding_cookie(b):
    return [c for c in b.s.cookies if c.name == "sekisho_dev"]


def set_binding(b, value):
    for c in binding_cookie(b):
        b.s.cookies.clear(c.domain, c.path, c.name)
    b.s.cookies.set("sekisho_dev", value, domain="127.0.0.1", path="/t/default/")


def part_replay(s, crm):
    t = s.t
    # A finished check: its binding cookie and the POST that finished it.
    b = s.browser(device=True, auto_continue=False)
    r = s.login(b, crm.protected)
    form = continue_form(r)
    old = binding_cookie(b)[0].value if binding_cookie(b) else "x" * 43
    if form is None:
        t.ok(False, "a finished check to replay", r.text[:300])
        return
    r = b.post(urllib.parse.urljoin(r.url, form["action"]), form["fields"])
    t.ok(r.status_code == 200 and s.verified(b), "the finished check")
    t.eq(binding_cookie(b), [], "the binding cookie is cleared when the check is done")
    set_binding(b, old)
    r = b._req("POST", s.srv.base() + "/device", data=form["fields"])
    t.eq(r.status_code, 400, "the same POST again, with the same cookie: expired, nothing")
    # Its cookie replayed into a new check, with alice's device and another session.
    a = s.browser(device=True, stop_at=(s.device_url,))
    link = s.link(s.login(a, crm.protected))
    set_binding(a, old)
    r = a.get(link)
    refused_binding(s, r, s.device_url, "a binding cookie replayed from a finished check")
    t.ok(not s.verified(a), "the replayed binding marked nothing")
    # Another browser's check, posted with this browser's own binding and CSRF token.
    x = s.browser(device=True, auto_continue=False)
    y = s.browser(device=True, auto_continue=False)
    fx, fy = continue_form(s.login(x, crm.protected)), continue_form(s.login(y, crm.protected))
    if fx is None or fy is None:
        t.ok(False, "two browsers at continue")
        return
    r = y.post(s.srv.base() + "/device", dict(fy["fields"], r=fx["fields"]["r"]))
    refused_binding(s, r, s.srv.url, "browser Y finishing browser X's check")
    t.ok(not s.verified(x) and not s.verified(y), "neither session is marked by it")
    r = y.post(s.srv.base() + "/device", dict(fy["fields"], csrf=fx["fields"]["csrf"]))
    refused_binding(s, r, s.srv.url, "Y's own check with X's CSRF token")
    t.ok(not s.verified(y), "Y is not marked by a CSRF token of another binding")
    # The right binding, but another session than the one that began the check: neither
    # the continue page nor its POST.
    for method in ("GET", "POST"):
        z = s.browser(device=True, auto_continue=False)
        rz = s.login(z, crm.protected)
        fz = continue_form(rz)
        w = s.browser()
        s.login(w, s.srv.base() + "/portal")
        sid = [c for c in w.s.cookies if c.name == "sekisho_sid"]
        if fz is None or not sid:
            t.ok(False, "a browser at continue and another session")
            return
        for c in [c for c in z.s.cookies if c.name == "sekisho_sid"]:
            z.s.cookies.clear(c.domain, c.path, c.name)
        z.s.cookies.set_cookie(sid[0])
        if method == "GET":
            r = z.get(rz.url)
        else:
            r = z.post(s.srv.base() + "/device", fz["fields"])
        t.ok(r.status_code == 400 and continue_form(r) is None and not s.verified(z) and
             not s.verified(w), "a check finishes only in the session that began it (%s)"
             % method, r.status_code)


def part_parked_ids(s, crm):
    """/device on the main listener takes only device checks: a parked request's id given
    there is refused and left alone, and the login it belongs to goes on."""
    t = s.t
    b = s.browser(device=True, stop_at=(s.srv.base() + "/login",))
    r = b.get(crm.protected)
    loc = r.headers.get("Location", "")
    parked = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query).get("r", [""])[0]
    t.ok(parked, "a parked SSO request waits for the login", loc)
    g = b._req("GET", s.srv.base() + "/device?r=" + parked)
    p = b._req("POST", s.srv.base() + "/device", data={"r": parked, "csrf": "x"})
    t.ok(g.status_code == 400 and p.status_code == 400,
         "its id at /device: refused (GET and POST)", "%s %s" % (g.status_code, p.status_code))
    b.stop_at = ()
    r = b.get(urllib.parse.urljoin(r.url, loc))
    r = b.submit_login(r, "alice", PASSWORD)
    t.ok(r.status_code == 200 and mellon_env(r.text).get("MELLON_deviceSerial") == s.serial,
         "the parked request still resumes after the login and the device check",
         "%s %s" % (r.status_code, r.text[:300]))


def part_expired(s, stub_id):
    """sekishod's clock moves on (libfaketime); device_check_lifetime is 60s."""
    t = s.t
    q = urllib.parse.urlencode({
        "response_type": "code", "client_id": stub_id, "redirect_uri": STUB,
        "scope": "openid", "state": "s1", "code_challenge_method": "S256",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"})
    authorize = s.srv.base() + "/oidc/authorize?" + q
    b = s.browser(device=True, auto_continue=False, stop_at=(STUB, s.device_url))
    s.set_clock(0)
    link = s.link(s.login(b, authorize))
    s.set_clock(LIFETIME + 30)
    r = b.get(link)
    t.ok(r.status_code == 400 and r.url.startswith(s.device_url),
         "a device link older than device_check_lifetime: refused", r.status_code)
    link = s.link(b.get(authorize))
    r = b.get(link)
    form = continue_form(r)
    t.ok(form is not None, "a new check within its lifetime reaches continue", r.text[:300])
    s.set_clock(2 * LIFETIME + 60)
    if form:
        r = b.post(urllib.parse.urljoin(r.url, form["action"]), form["fields"])
        t.eq(r.status_code, 400, "continue posted after its lifetime: refused")
    t.ok(not s.verified(b), "an expired check marks nothing")
    r = b.get(s.link(b.get(authorize)))
    form = continue_form(r)
    if form:
        r = b.post(urllib.parse.urljoin(r.url, form["action"]), form["fields"])
    t.ok(r.status_code in (302, 303) and r.headers.get("Location", "").startswith(STUB + "?code=")
         and s.verified(b), "in time, the same browser finishes its check", r.status_code)


# ---- set-up ----

def localhost_cert(tmp):
    key, crt = os.path.join(tmp, "localhost.key"), os.path.join(tmp, "localhost.crt")
    r = run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt, "-days", "30",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"])
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    return key, crt


def start(t, tmp, extra, device_url, env=None, device_ca=None, clock=None):
    srv = Server(extra, env=env)
    srv.add_user("alice", PASSWORD, email="alice@example.com", display="Alice")
    return Setup(t, srv, device_url, tmp, device_ca, clock)


def same_host(t, tmp, peers):
    dport = sekisho_test.free_port()
    s = start(t, tmp, ["device_listen 127.0.0.1:%d" % dport, "device_proxy_header X-Client-Cert",
                       "device_proxy_from 127.0.0.2"], "https://127.0.0.1:%d" % dport)
    peers.append(s.srv)
    crm = MellonSP(s.srv, "crm")
    peers.append(crm)
    mail = OidcRP(s.srv, "mail")
    peers.append(mail)
    s.srv.cli("policy", "set", "--app", "crm", "device-required", "on")
    s.srv.cli("policy", "set", "--app", "mail", "device-required", "on")
    t.run("attack, own port", part_attack_same_host, s, crm, mail)
    t.run("attack through the proxy", part_attack_proxy, s, crm)
    t.run("GETs never mark", part_get_never_marks, s, crm)
    t.run("replays", part_replay, s, crm)
    t.run("changes between the steps", part_state_changes, s, crm)
    t.run("parked ids", part_parked_ids, s, crm)


def other_host(t, tmp, peers):
    dport = sekisho_test.free_port()
    key, crt = localhost_cert(tmp)
    clock = os.path.join(tmp, "clock")
    s = start(t, tmp, ["device_listen 127.0.0.1:%d" % dport,
                       "device_url https://localhost:%d" % dport, "device_tls_cert " + crt,
                       "device_tls_key " + key, "device_check_lifetime %ds" % LIFETIME],
              "https://localhost:%d" % dport, env=sekisho_test.faketime_env(clock), device_ca=crt,
              clock=clock)
    peers.append(s.srv)
    crm = MellonSP(s.srv, "crm")
    peers.append(crm)
    out = s.srv.cli("app", "add-oidc", "stub", "--redirect-uri", STUB, "--public").stdout
    stub_id = [line.split("=", 1)[1] for line in out.splitlines()
               if line.startswith("client_id=")][0]
    s.srv.cli("policy", "set", "--tenant", "device-required", "on")
    t.run("honest, own host name", part_honest_other_host, s, crm)
    t.run("attack, own host name", part_attack_other_host, s, crm)
    t.run("expiry", part_expired, s, stub_id)


def main():
    t = Tap()
    tmp = tempfile.mkdtemp(prefix="sekisho-devbind-")
    peers = []
    try:
        t.run("same host name", same_host, t, tmp, peers)
        t.run("own host name", other_host, t, tmp, peers)
        for p in peers:
            if isinstance(p, Server):
                leaks = sekisho_test.grep_secret_leaks(p.log(), [PASSWORD])
                t.eq(leaks, [], "no password in the log")
    finally:
        for p in reversed(peers):
            p.close()
        if os.environ.get("SEKISHO_KEEP") != "1":
            subprocess.run(["rm", "-rf", tmp])
    t.done()


if __name__ == "__main__":
    main()
