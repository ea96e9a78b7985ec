#!/usr/bin/python3
"""End to end: device-restricted login with certificates from `sekisho cert issue`.

One sekishod with its device-check listener, apache2 + mod_auth_mellon (app "crm") and
apache2 + mod_auth_openidc (app "mail") as the apps, both set to device-required.  The
device is curl: the PKCS#12 file from `sekisho cert issue` is converted with
`openssl pkcs12`, and every request to the device-check listener is made by curl with
that certificate and key (or with none, another user's, a revoked one, an expired one, one
not yet valid, or one from a foreign CA with the same subject and serial).  Everything else a browser does
is done by the scripted browser of sekisho_test.

Covered: the login through both apps with what they receive (AuthnContextClassRef,
deviceSerial, acr, amr, device_serial); every refusal (page in English and Japanese,
audit record, the app never reached); revocation effective on the same TLS connection
and on a resumed TLS session; the proxy header trusted only from configured addresses;
one use per device-check link; policy precedence (tenant, group, user, app); OIDC
prompt=none; the user's /certs page; the listeners' certificate requests.
"""
import os
import re
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.parse

import requests

import sekisho_test
from sekisho_test import Browser, Server, Tap
from peers.device import P12_PASSWORD, DeviceBrowser, issue, run, saml_response
from peers.mellon import MellonSP, parse_env as mellon_env
from peers.openidc import OidcRP, parse_env as oidc_env

PASSWORDS = {"alice": "alice-secret-pw-1", "bob": "bob-secret-pw-22", "carol": "carol-pw-333",
             "dave": "dave-pw-4444", "erin": "erin-pw-55555"}
TLSCLIENT = "urn:oasis:names:tc:SAML:2.0:ac:classes:TLSClient"
PASSWORD_AC = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"


class Scenario:
    def __init__(self, t, srv, tmp, dport):
        self.t = t
        self.srv = srv
        self.tmp = tmp
        self.dport = dport
        self.device_url = "https://127.0.0.1:%d" % dport
        self.certs = {}     # name -> (cert.pem, key.pem)
        self.serials = {}   # name -> serial

    # ---- devices ----

    def issue(self, name, user, label, extra=(), env=None):
        """Issue a PKCS#12 for user and convert it with openssl into cert and key files."""
        self.certs[name], self.serials[name] = issue(self.srv, self.tmp, name, user, label,
                                                     extra, env)
        return self.serials[name]

    def foreign(self):
        """A certificate from a foreign CA with the same subject names and serial as
        alice's: it must not pass for hers."""
        ca_pem = os.path.join(self.tmp, "real-ca.pem")
        self.srv.cli("cert", "ca", "--out", ca_pem)
        subj = run(["openssl", "x509", "-in", ca_pem, "-noout", "-subject", "-nameopt",
                    "compat"]).stdout.strip().split("=", 1)[1].strip()
        asubj = run(["openssl", "x509", "-in", self.certs["alice"][0], "-noout", "-subject",
                     "-nameopt", "compat"]).stdout.strip().split("=", 1)[1].strip()
        fk = os.path.join(self.tmp, "foreign-ca.key")
        fc = os.path.join(self.tmp, "foreign-ca.pem")
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", fk, "-out", fc, "-days", "3650", "-subj", subj,
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
             "keyUsage=critical,keyCertSign,cRLSign"])
        key = os.path.join(self.tmp, "foreign.key")
        csr = os.path.join(self.tmp, "foreign.csr")
        crt = os.path.join(self.tmp, "foreign.crt")
        ext = os.path.join(self.tmp, "foreign.ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                    "extendedKeyUsage=clientAuth\n")
        run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", key, "-out", csr, "-subj", asubj])
        r = run(["openssl", "x509", "-req", "-in", csr, "-CA", fc, "-CAkey", fk,
                 "-set_serial", "0x" + self.serials["alice"], "-days", "365",
                 "-extfile", ext, "-out", crt])
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        self.certs["foreign"] = (crt, key)
        same = run(["openssl", "x509", "-in", crt, "-noout", "-subject", "-serial", "-issuer"])
        real = run(["openssl", "x509", "-in", self.certs["alice"][0], "-noout", "-subject",
                    "-serial", "-issuer"])
        self.t.eq(same.stdout, real.stdout,
                  "the foreign certificate has alice's subject, serial and issuer name")

    # ---- browsing ----

    def browser(self, device=None, lang=None, **kw):
        cert = self.certs.get(device) if device else None
        return DeviceBrowser(self.srv, self.device_url, cert=cert, lang=lang, **kw)

    def login_to(self, b, url, user):
        r = b.get(url)
        if b.login_form(r) is not None:
            r = b.submit_login(r, user, PASSWORDS[user])
        return r

    def went_to_device(self, b, start=0):
        return [h for h in b.history[start:] if h.url.startswith(self.device_url)]


def setup_server():
    dport = sekisho_test.free_port()
    srv = Server(["device_listen 127.0.0.1:%d" % dport,
                  "device_proxy_header X-Client-Cert",
                  "device_proxy_from 127.0.0.2"])
    for name, pw in PASSWORDS.items():
        srv.add_user(name, pw, email=name + "@example.com", display=name.title())
    srv.cli("group", "add", "staff")
    srv.cli("group", "add-member", "staff", "dave")
    return srv, dport


def part_listeners(s):
    t = s.t
    r = run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % s.dport, "-CAfile",
             s.srv.ca], input="")
    t.ok("Acceptable client certificate CA names" in r.stdout and
         "Sekisho device CA default" in r.stdout,
         "the device listener asks for a client certificate of the tenant CA", r.stdout[-1500:])
    r = run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % s.srv.port, "-CAfile",
             s.srv.ca], input="")
    t.ok("No client certificate CA names sent" in r.stdout,
         "the main listener never asks for a client certificate", r.stdout[-1500:])
    r = requests.get(s.device_url + "/t/default/login", verify=s.srv.ca, timeout=10)
    t.eq(r.status_code, 404, "the device listener serves nothing but the device check")
    r = requests.get(s.device_url + "/t/nosuch/device?c=" + "A" * 43, verify=s.srv.ca,
                     timeout=10)
    t.eq(r.status_code, 404, "device check of an unknown tenant: 404")
    r = requests.get(s.device_url + "/t/default/device?c=" + "A" * 43, verify=s.srv.ca,
                     timeout=10)
    t.eq(r.status_code, 400, "a device-check link that was never issued: 400")


def part_without_policy(s, crm):
    """No policy yet: a password login reaches the app without any device check."""
    t = s.t
    b = s.browser()
    r = s.login_to(b, crm.protected, "alice")
    env = mellon_env(r.text)
    t.eq(env.get("REMOTE_USER") is not None and r.status_code, 200,
         "without a policy alice reaches crm with her password only")
    t.eq(s.went_to_device(b), [], "nobody is sent to the device check without a policy")
    t.ok(PASSWORD_AC in saml_response(b, crm.url) and "deviceSerial" not in env,
         "the assertion says PasswordProtectedTransport and has no deviceSerial")


def part_device_login(s, crm, mail):
    t = s.t
    b = s.browser("alice")
    r = s.login_to(b, crm.protected, "alice")
    env = mellon_env(r.text)
    t.eq(len(s.went_to_device(b)), 1, "crm (device-required): alice is sent to the device "
         "check once")
    t.ok(r.status_code == 200 and env.get("MELLON_deviceSerial") == s.serials["alice"],
         "crm: alice logged in with her device; deviceSerial released", r.text[:800])
    resp = saml_response(b, crm.url)
    t.ok("<saml:AuthnContextClassRef>%s</saml:AuthnContextClassRef>" % TLSCLIENT in resp,
         "crm: AuthnContextClassRef says TLSClient", resp[:400])
    shown = [h for h in b.history if h.url.startswith(s.srv.base() + "/device?r=")]
    posts = [h for h in b.history if getattr(h, "request", None) is not None and
             h.request.method == "POST" and h.url == s.srv.base() + "/device"]
    t.ok(len(shown) == 1 and shown[0].status_code == 200 and "laptop" in shown[0].text and
         s.serials["alice"] in shown[0].text and len(posts) == 1,
         "crm: back on the main listener, alice saw her device on continue and posted it once")
    # SSO to the OIDC app: the session already has its device.
    start = len(b.history)
    r = b.get(mail.protected)
    env = oidc_env(r.text)
    t.eq(s.went_to_device(b, start), [], "mail: no second device check in the same session")
    t.eq(env.get("OIDC_CLAIM_acr"), "urn:sekisho:acr:device", "mail: acr says device")
    t.eq(env.get("OIDC_CLAIM_amr"), "pwd,swk,mfa", "mail: amr pwd, swk, mfa")
    t.eq(env.get("OIDC_CLAIM_device_serial"), s.serials["alice"], "mail: device_serial claim")
    show = s.srv.cli("cert", "show", s.serials["alice"]).stdout
    t.ok(re.search(r"^last_used=\d{4}-", show, re.M), "the certificate's last use is recorded",
         show)
    s.srv.audit_has(t, "device.check", "user=alice", "serial=" + s.serials["alice"], "via=tls")
    # The OIDC app first, in a fresh session.
    b2 = s.browser("alice")
    r = s.login_to(b2, mail.protected, "alice")
    env = oidc_env(r.text)
    t.ok(len(s.went_to_device(b2)) == 1 and env.get("OIDC_CLAIM_device_serial") ==
         s.serials["alice"], "mail first: device check, then the claims", r.text[:600])
    return b


def refused(s, device, user, reason, app, lang=None, **kw):
    """Log user in to app presenting device; the check must refuse with reason."""
    t = s.t
    b = s.browser(device, lang=lang, **kw)
    r = s.login_to(b, app.protected, user)
    ok = r.status_code == 403 and r.url.startswith(s.device_url) and \
        ("<code>%s</code>" % reason) in r.text
    t.ok(ok, "%s presenting %s: refused (%s)" % (user, device or "no certificate", reason),
         "%s %s %s" % (r.status_code, r.url, r.text[:600]))
    t.ok(not any(h.url.startswith(app.url + "/protected/env") and h.status_code == 200
                 for h in b.history), "%s never reached the app" % user)
    s.srv.audit_has(t, "device.check.fail", "user=" + user, "reason=" + reason)
    return r


def part_refusals(s, crm, mail):
    t = s.t
    r = refused(s, None, "alice", "no_cert", crm)
    t.ok("did not present a device certificate" in r.text and "close every browser window"
         in r.text, "the refusal says what happened and what to do (English)")
    r = refused(s, None, "alice", "no_cert", mail, lang="ja")
    t.ok("端末証明書が提示されませんでした" in r.text, "the refusal page in Japanese")
    r = refused(s, "bob", "alice", "other_user", crm)
    t.ok("belongs to another user" in r.text, "another user's certificate: the page says so")
    refused(s, "alice", "bob", "other_user", mail)
    refused(s, "alice-revoked", "alice", "revoked", crm)
    refused(s, "alice-expired", "alice", "invalid", crm)
    refused(s, "alice-future", "alice", "invalid", mail)
    refused(s, "foreign", "alice", "invalid", mail)


def part_link_once(s, crm):
    """A device-check link works once, and only hands the login back: marking the session
    is the main listener's, after "continue"."""
    t = s.t
    b = s.browser("alice", stop_at=(s.device_url,))
    r = s.login_to(b, crm.protected, "alice")
    link = urllib.parse.urljoin(r.url, r.headers.get("Location", ""))
    t.ok(link.startswith(s.device_url + "/t/default/device?c="), "stopped at the device link",
         link)
    first = b._req("GET", link)
    second = b._req("GET", link)
    t.ok(first.status_code == 303 and first.headers.get("Location", "").startswith(
        s.srv.base() + "/device?r="), "the link passes once and hands the login back to the "
        "main listener", "%s %s" % (first.status_code, first.headers))
    t.eq(second.status_code, 400, "the same link a second time: refused")


def device_link(s, app, user):
    """A fresh device-check link for user at app (logged in by a new browser), and the
    Cookie header that browser sends with it."""
    b = s.browser(None, stop_at=(s.device_url,))
    r = s.login_to(b, app.protected, user)
    link = urllib.parse.urljoin(r.url, r.headers.get("Location", ""))
    return link, b.cookie_header(link)


def part_revocation_live(s, crm):
    """Revocation takes effect on the next request: on the same TLS connection and on a
    resumed TLS session."""
    t = s.t
    serial = s.issue("alice-live", "alice", "live test")
    ctx = ssl.create_default_context(cafile=s.srv.ca)
    ctx.load_cert_chain(*s.certs["alice-live"])
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2     # session reuse that Python can see

    def get(sock, link_cookie):
        link, cookie = link_cookie
        path = link[len(s.device_url):]
        sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept-Language: en\r\n"
                      "Cookie: %s\r\n\r\n" % (path, s.dport, cookie)).encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        n = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
        while len(body) < n:
            body += sock.recv(65536)
        return int(head.split()[1]), body.decode(errors="replace")

    raw = socket.create_connection(("127.0.0.1", s.dport), timeout=10)
    conn = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    status, _ = get(conn, device_link(s, crm, "alice"))
    t.eq(status, 303, "a live TLS connection with alice's new certificate passes")
    session = conn.session
    link2, link3 = device_link(s, crm, "alice"), device_link(s, crm, "alice")
    s.srv.cli("cert", "revoke", serial.lower(), "--reason", "keyCompromise")
    status, body = get(conn, link2)
    t.ok(status == 403 and "<code>revoked</code>" in body,
         "after the revocation the same TLS connection is refused", "%s %s" % (status, body[:300]))
    conn.close()
    raw = socket.create_connection(("127.0.0.1", s.dport), timeout=10)
    conn = ctx.wrap_socket(raw, server_hostname="127.0.0.1", session=session)
    resumed = conn.session_reused
    status, body = get(conn, link3)
    conn.close()
    # GnuTLS under libmicrohttpd keeps no session cache and sends no tickets, so the old
    # session is not resumed: every connection presents its certificate again.  Either
    # way the answer must be a refusal.
    t.ok(status == 403 and "<code>revoked</code>" in body,
         "a new connection offering the old TLS session is refused too (session resumed: %s)"
         % ("yes" if resumed else "no, the listener does not resume sessions"),
         "%s %s" % (status, body[:300]))


def part_proxy(s, crm):
    """The certificate in a proxy header counts only from device_proxy_from (127.0.0.2)."""
    t = s.t
    with open(s.certs["alice"][0]) as f:
        pem = f.read()
    escaped = urllib.parse.quote(pem, safe="")
    b = s.browser(None, src="127.0.0.2", headers={"X-Client-Cert": escaped})
    r = s.login_to(b, crm.protected, "alice")
    t.ok(r.status_code == 200 and mellon_env(r.text).get("MELLON_deviceSerial") ==
         s.serials["alice"], "alice's certificate in the header from the trusted proxy passes",
         "%s %s" % (r.status_code, r.text[:400]))
    s.srv.audit_has(t, "device.check", "user=alice", "via=proxy")
    r = refused(s, None, "alice", "no_cert", crm, headers={"X-Client-Cert": escaped})
    t.ok(r.status_code == 403, "the same header from an address not in device_proxy_from is "
         "ignored")
    with open(s.certs["bob"][0]) as f:
        bob = urllib.parse.quote(f.read(), safe="")
    refused(s, None, "alice", "other_user", crm, src="127.0.0.2",
            headers={"X-Client-Cert": bob})
    # From the proxy, a TLS client certificate is not what counts: only the header.
    refused(s, "alice", "alice", "no_cert", crm, src="127.0.0.2")


def needs_device(s, app_url, user):
    b = s.browser(None, stop_at=(s.device_url,))
    r = s.login_to(b, app_url, user)
    loc = r.headers.get("Location", "") if r.status_code in (302, 303) else ""
    return loc.startswith(s.device_url)


def part_policies(s, crm, mail, free):
    """Precedence: app on always; else user, then groups, then tenant."""
    t = s.t
    t.ok(not needs_device(s, free.protected, "carol"), "free app, no tenant policy: no device")
    s.srv.cli("policy", "set", "--tenant", "device-required", "on")
    t.ok(needs_device(s, free.protected, "carol"), "tenant on: every app needs a device")
    s.srv.cli("policy", "set", "--user", "carol", "device-required", "off")
    t.ok(not needs_device(s, free.protected, "carol"), "user off exempts carol from the "
         "tenant policy")
    t.ok(needs_device(s, crm.protected, "carol"), "but not from an app that is on")
    s.srv.cli("policy", "set", "--tenant", "device-required", "inherit")
    t.ok(not needs_device(s, free.protected, "dave"), "tenant back to inherit: no device")
    s.srv.cli("policy", "set", "--group", "staff", "device-required", "on")
    t.ok(needs_device(s, free.protected, "dave"), "group staff on: dave (member) needs one")
    t.ok(not needs_device(s, free.protected, "erin"), "erin (no group) does not")
    s.srv.cli("policy", "set", "--user", "dave", "device-required", "off")
    t.ok(not needs_device(s, free.protected, "dave"), "user off wins over the group")
    lst = s.srv.cli("policy", "list").stdout
    t.ok("group:staff\tdevice_required\ton" in lst and "user:dave\tdevice_required\toff" in lst
         and "tenant" not in lst, "policy list shows the settings", lst)
    for args in (["--user", "nobody"], ["--group", "nogroup"], ["--app", "noapp"]):
        r = s.srv.cli("policy", "set", *args, "device-required", "on", check=False)
        t.ok(r.returncode != 0 and "no such" in r.stderr, "policy for an unknown %s refused"
             % args[0][2:], r.stderr)
    r = s.srv.cli("policy", "set", "--tenant", "device-required", "maybe", check=False)
    t.ok(r.returncode != 0, "a bad policy value is refused")
    t.eq(s.srv.cli("policy", "list").stdout, lst, "refused policy commands changed nothing")
    s.srv.cli("policy", "set", "--group", "staff", "device-required", "inherit")
    s.srv.cli("policy", "set", "--user", "dave", "device-required", "inherit")
    s.srv.cli("policy", "set", "--user", "carol", "device-required", "inherit")


def part_prompt_none(s, mail):
    """OIDC prompt=none when a device check is due: interaction_required, no redirect to
    the device listener."""
    t = s.t
    b = s.browser(None)
    s.login_to(b, s.srv.base() + "/portal", "erin")
    q = urllib.parse.urlencode({
        "response_type": "code", "client_id": mail.client_id, "redirect_uri": mail.redirect_uri,
        "scope": "openid", "state": "st1", "nonce": "n1", "prompt": "none",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256"})
    r = b._req("GET", s.srv.base() + "/oidc/authorize?" + q)
    loc = urllib.parse.urlsplit(r.headers.get("Location", ""))
    got = dict(urllib.parse.parse_qsl(loc.query))
    t.ok(r.status_code in (302, 303) and got.get("error") == "interaction_required" and
         got.get("state") == "st1" and loc.geturl().startswith(mail.redirect_uri),
         "prompt=none with a device check due: interaction_required", r.headers)


def part_certs_page(s):
    t = s.t
    b = s.browser(None)
    r = s.login_to(b, s.srv.base() + "/certs", "alice")
    t.ok(r.url.split("?")[0].endswith("/certs") and "Your devices" in r.text,
         "after the login, back to the devices page", r.url)
    t.ok('href="/t/default/certs"' in b.get(s.srv.base() + "/portal").text,
         "the portal links to the devices page")
    r = b.get(s.srv.base() + "/certs")
    t.ok(r.status_code == 200 and "Your devices" in r.text and "laptop" in r.text and
         s.serials["alice"] in r.text, "alice's /certs page lists her devices", r.text[:600])
    t.ok(re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC\+09:00", r.text) is not None and
         not re.search(r"\d\d:\d\d:\d\dZ", r.text),
         "dates in the tenant's time zone (Asia/Tokyo by default), not ISO UTC")
    t.ok("revoked" in r.text and "expired" in r.text and "active" in r.text,
         "the page shows each certificate's status")
    t.ok(s.serials["bob"] not in r.text, "bob's certificate is not on alice's page")
    t.eq(r.headers.get("Cache-Control"), "no-store", "the page is not cached")
    b = s.browser(None, lang="ja")
    s.login_to(b, s.srv.base() + "/certs", "bob")
    r = b.get(s.srv.base() + "/certs")
    t.ok(r.status_code == 200 and "あなたの端末" in r.text and s.serials["bob"] in r.text and
         s.serials["alice"] not in r.text, "bob's page, in Japanese, shows only his", r.text[:400])
    r = requests.get(s.srv.base() + "/certs", verify=s.srv.ca, allow_redirects=False,
                     timeout=10)
    t.ok(r.status_code in (302, 303) and "/login" in r.headers.get("Location", ""),
         "without a session /certs sends to the login page")


def part_new_tenant(s):
    """A tenant added while sekishod runs: within seconds the device listener asks for
    certificates of its CA too, without a restart."""
    t = s.t
    s.srv.cli("tenant", "add", "acme", "--name", "Acme")
    names = ""
    for _ in range(40):
        r = run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % s.dport, "-CAfile",
                 s.srv.ca], input="")
        names = r.stdout
        if "Sekisho device CA acme" in names:
            break
        time.sleep(0.5)
    t.ok("Sekisho device CA acme" in names and "Sekisho device CA default" in names,
         "a new tenant's CA is requested by the running device listener", names[-800:])


def part_no_listener(t):
    """Without device_listen a login that needs a device gets a page that says so."""
    srv = Server()
    try:
        srv.add_user("alice", PASSWORDS["alice"])
        out = srv.cli("app", "add-oidc", "cb", "--redirect-uri", "http://127.0.0.1:9/cb",
                      "--public").stdout
        client = re.search(r"^client_id=(\S+)$", out, re.M).group(1)
        srv.cli("policy", "set", "--tenant", "device-required", "on")
        b = Browser(verify=srv.ca, stop_at=("http://127.0.0.1:9/",))
        q = urllib.parse.urlencode({
            "response_type": "code", "client_id": client, "redirect_uri": "http://127.0.0.1:9/cb",
            "scope": "openid", "state": "s", "code_challenge_method": "S256",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"})
        r = b.get(srv.base() + "/oidc/authorize?" + q)
        r = b.submit_login(r, "alice", PASSWORDS["alice"])
        t.ok(r.status_code == 403 and "<code>unavailable</code>" in r.text and
             "device check is not set up" in r.text,
             "no device listener: the login is refused with a page naming the cause",
             "%s %s" % (r.status_code, r.text[:500]))
        srv.audit_has(t, "device.check.fail", "user=alice", "reason=unavailable")
    finally:
        srv.close()


def part_no_secrets(s):
    leaks = sekisho_test.grep_secret_leaks(s.srv.log() + "\n".join(
        "%s %s" % r for r in s.srv.audit()), list(PASSWORDS.values()) + [P12_PASSWORD])
    s.t.eq(leaks, [], "no password in the log or the audit trail")


def main():
    t = Tap()
    srv, dport = setup_server()
    tmp = tempfile.mkdtemp(prefix="sekisho-devices-")
    crm = mail = free = None
    try:
        s = Scenario(t, srv, tmp, dport)
        crm = MellonSP(srv, "crm")
        mail = OidcRP(srv, "mail")
        free = MellonSP(srv, "wiki")
        s.issue("alice", "alice", "laptop")
        s.issue("bob", "bob", "bob desk")
        s.issue("alice-revoked", "alice", "old phone")
        srv.cli("cert", "revoke", s.serials["alice-revoked"])
        # Issued six years ago (faketime): expired today, its slot already free.
        s.issue("alice-expired", "alice", "retired", env=sekisho_test.faketime(["-f", "-2200d"]))
        # Issued "ten days from now" (faketime): not yet valid today.
        s.issue("alice-future", "alice", "next week", env=sekisho_test.faketime(["-f", "+10d"]))
        s.foreign()
        t.run("listeners", part_listeners, s)
        t.run("without policy", part_without_policy, s, crm)
        srv.cli("policy", "set", "--app", "crm", "device-required", "on")
        srv.cli("policy", "set", "--app", "mail", "device-required", "on")
        t.run("device login", part_device_login, s, crm, mail)
        t.run("refusals", part_refusals, s, crm, mail)
        t.run("link once", part_link_once, s, crm)
        t.run("proxy header", part_proxy, s, crm)
        t.run("policies", part_policies, s, crm, mail, free)
        t.run("prompt=none", part_prompt_none, s, mail)
        t.run("certs page", part_certs_page, s)
        t.run("revocation on live connections", part_revocation_live, s, crm)
        t.run("new tenant", part_new_tenant, s)
        t.run("no device listener", part_no_listener, t)
        part_no_secrets(s)
    finally:
        for p in (crm, mail, free):
            if p:
                p.close()
        srv.close()
        if os.environ.get("SEKISHO_KEEP") != "1":
            subprocess.run(["rm", "-rf", tmp])
    t.done()


if __name__ == "__main__":
    main()
