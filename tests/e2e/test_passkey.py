"""Passkeys (WebAuthn) in a real browser, then forged in the test.

browser/passkey.mjs drives headless Chromium with the DevTools virtual authenticator
(CTAP2, internal, resident keys, user verification): a passkey registered on the account
page, used as the second factor after the password and for passwordless sign-in; each
sign-in goes through an OIDC authorization whose code is redeemed here to read amr/acr.
WebAuthn does not take an IP address as RP ID, so this server's url names localhost.

Then assertions crafted here with the virtual authenticator's own private key, posted to
login/passkey with a fresh login page's challenge, csrf and pre-login cookie: a correct one
signs in (so the crafting is right and the refusals below are about the one thing changed
in each), then a wrong origin, a replay, a challenge the server never issued, a challenge
of another browser, type webauthn.create, user verification cleared, a wrong RP ID hash, a
signature by another key, a user handle that is not the credential's owner, and signature
counters that go backwards (lower, then 0): each refused with a 4xx, no session and an
audit record.
"""
import base64
import hashlib
import html.parser
import http.server
import json
import os
import re
import secrets
import tempfile
import threading
import urllib.parse

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

import sekisho_test as st

RP = "localhost"
MFA = "https://refeds.org/profile/mfa"
USER, PASSWORD, DISPLAY = "hanako", "hanako-password-1", "Hanako Yamada"
t = st.Tap()


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def sha256(b):
    return hashlib.sha256(b).digest()


class Callback(http.server.BaseHTTPRequestHandler):
    """The OIDC client's redirect URI: records the query of each visit."""
    seen = []

    def do_GET(self):
        Callback.seen.append(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query)))
        body = b"<html><body>callback</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class _Buttons(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.buttons = []

    def handle_starttag(self, tag, attrs):
        if tag == "button":
            self.buttons.append(dict(attrs))


def passkey_button(text, kind="get"):
    p = _Buttons()
    p.feed(text)
    return next((b for b in p.buttons if b.get("data-webauthn") == kind), None)


def localhost_server():
    """A sekishod whose url is https://localhost:PORT, listening on 127.0.0.1."""
    srv = st.Server(start=False)
    conf = os.path.join(srv.dir, "sekishod.conf")
    with open(conf) as f:
        lines = [ln for ln in f.read().splitlines() if not ln.startswith(("url ", "listen "))]
    srv.url = "https://%s:%d" % (RP, srv.port)
    lines += ["url " + srv.url, "listen 127.0.0.1:%d" % srv.port]
    with open(conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    srv.start()
    return srv


class Oidc:
    """A public OIDC client with PKCE whose redirect URI is the Callback server."""

    def __init__(self, srv, cb):
        self.srv, self.cb = srv, cb
        out = srv.cli("app", "add-oidc", "passkeyapp", "--redirect-uri", cb, "--public").stdout
        self.client_id = re.search(r"^client_id=(\S+)$", out, re.M).group(1)
        self.verifiers = {}

    def authorize_url(self):
        state, verifier = secrets.token_urlsafe(8), secrets.token_urlsafe(32)
        self.verifiers[state] = verifier
        q = {"response_type": "code", "client_id": self.client_id, "redirect_uri": self.cb,
             "scope": "openid", "state": state, "nonce": secrets.token_urlsafe(8),
             "code_challenge": b64u(sha256(verifier.encode())),
             "code_challenge_method": "S256"}
        return self.srv.base() + "/oidc/authorize?" + urllib.parse.urlencode(q)

    def claims(self, answer):
        """The id_token claims for an authorization answer (query dict)."""
        r = requests.post(self.srv.base() + "/oidc/token", verify=self.srv.ca, timeout=30,
                          data={"grant_type": "authorization_code", "code": answer["code"],
                                "redirect_uri": self.cb, "client_id": self.client_id,
                                "code_verifier": self.verifiers[answer["state"]]})
        if r.status_code != 200:
            raise RuntimeError("token: %d %s" % (r.status_code, r.text))
        payload = r.json()["id_token"].split(".")[1]
        return json.loads(unb64u(payload))


def run_browser(srv, oidc, cb, tmp):
    """The browser scenario; its TAP lines become checks here.  The credentials it left."""
    out = os.path.join(tmp, "credentials.json")
    cfg = {"spki": st.spki_hash(srv.ca), "base": srv.base(), "origin": srv.url, "rp": RP,
           "tenant": "default", "user": USER, "password": PASSWORD, "display": DISPLAY,
           "label": "Laptop key", "redirect": cb,
           "authorize": [oidc.authorize_url(), oidc.authorize_url()], "out": out}
    st.browser_script(t, "passkey.mjs", cfg, tmp, prefix="browser: ", timeout=240)
    try:
        with open(out) as f:
            return json.load(f)
    except (OSError, ValueError):
        return []


def after_browser(srv, oidc):
    """What the server recorded of the browser's passkey: CLI, audit, amr/acr."""
    r = srv.cli("user", "factors", USER, check=False)
    t.ok(re.search(r"^\S+ webauthn Laptop key created=\S+ last_used=\S+", r.stdout, re.M),
         "sekisho user factors lists the webauthn factor with its label", r.stdout + r.stderr)
    srv.audit_has(t, "account.factor.add", "user=" + USER)
    srv.audit_has(t, "login.factor.ok", "user=" + USER)
    srv.audit_has(t, "login.passkey.ok", "user=" + USER)
    t.eq(len(Callback.seen), 2, "both OIDC authorizations reached the client")
    names = ["password + passkey", "passwordless"]
    for what, answer in zip(names, Callback.seen):
        claims = t.run("%s: the code is redeemed" % what, oidc.claims, answer)
        if claims is None:
            continue
        amr = claims.get("amr", [])
        if what == "passwordless":
            t.eq(sorted(amr), ["hwk", "mfa", "user"], "passwordless: amr is hwk user mfa")
        else:
            t.ok({"pwd", "hwk", "mfa"} <= set(amr), "password + passkey: amr has pwd, hwk, mfa",
                 amr)
        t.eq(claims.get("acr"), MFA, "%s: acr is the REFEDS MFA profile" % what)


class Key:
    """The virtual authenticator's credential, to sign assertions with."""

    def __init__(self, cred):
        self.key = serialization.load_der_private_key(base64.b64decode(cred["privateKey"]),
                                                      None)
        self.cred_id = b64u(base64.b64decode(cred["credentialId"]))
        self.user_handle = b64u(base64.b64decode(cred["userHandle"]))
        self.counter = cred["signCount"]

    def assertion(self, challenge, origin, counter, rp=RP, flags=0x05, typ="webauthn.get",
                  key=None, user_handle=None):
        """Form fields of an assertion; flags 0x05 = user present + user verified."""
        cd = json.dumps({"type": typ, "challenge": challenge, "origin": origin,
                         "crossOrigin": False}, separators=(",", ":")).encode()
        ad = sha256(rp.encode()) + bytes([flags]) + counter.to_bytes(4, "big")
        sig = (key or self.key).sign(ad + sha256(cd), ec.ECDSA(hashes.SHA256()))
        return {"credential_id": self.cred_id, "client_data": b64u(cd),
                "authenticator_data": b64u(ad), "signature": b64u(sig),
                "user_handle": user_handle or self.user_handle}


class Attempt:
    """One browser at the login page: its cookies, csrf and the passkey challenge."""

    def __init__(self, srv):
        self.srv = srv
        self.s = requests.Session()
        self.s.trust_env = False
        self.s.verify = srv.ca
        self.s.headers["Accept-Language"] = "en"
        r = self.s.get(srv.base() + "/login", timeout=30)
        btn = passkey_button(r.text)
        if btn is None:
            raise RuntimeError("no passkey button on the login page: %s" % r.text[:800])
        self.challenge = btn["data-challenge"]
        self.form = next(f for f in st.parse_forms(r.text) if f["id"] == btn.get("data-form"))
        self.action = urllib.parse.urljoin(r.url, self.form["action"])
        self.jar = self.s.cookies.copy()

    def post(self, fields, replay=False):
        """Post the passkey form; replay: with the cookies the login page left (again)."""
        if replay:
            self.s.cookies = self.jar.copy()
        data = dict(self.form["fields"])
        data.update(fields)
        return self.s.post(self.action, data=data, allow_redirects=False, timeout=30)


def session_set(r):
    return re.search(r"sekisho_sid=[^;\s]", r.headers.get("Set-Cookie", "")) is not None


def works(srv, name, r, a):
    ok = t.ok(r.status_code in (302, 303) and session_set(r) and
              r.headers.get("Location", "").endswith("/portal"),
              "%s: signed in, sent to the portal" % name,
              "%d %s %s" % (r.status_code, r.headers, r.text[:600]))
    if ok:
        p = a.s.get(srv.base() + "/portal", timeout=30)
        t.ok(DISPLAY in p.text, "%s: the portal shows the user" % name)
    return ok


def refused(srv, name, r, a, before, events=("login.passkey.fail",)):
    """A refusal: 4xx, no session cookie, the portal still asks to sign in, audited."""
    t.ok(400 <= r.status_code < 500 and not session_set(r),
         "%s: refused with %d and no session" % (name, r.status_code),
         "%s %s" % (r.headers, r.text[:600]))
    p = a.s.get(srv.base() + "/portal", timeout=30, allow_redirects=True)
    t.ok('name="password"' in p.text and DISPLAY not in p.text,
         "%s: the browser is not signed in" % name, p.text[:400])
    recs = srv.audit()[before:]
    for ev in events:
        t.ok(any(e == ev for e, _ in recs), "%s: audit %s" % (name, ev),
             "\n".join("%s %s" % r for r in recs) or "(no new audit records)")
    return recs


def crafted(srv, key):
    """Assertions made here, each wrong in one way only (fresh challenge, rising counter)."""
    origin = srv.url
    counter = key.counter

    def n():
        return len(srv.audit())

    def next_counter():
        nonlocal counter
        counter += 1
        return counter

    a = Attempt(srv)
    good = key.assertion(a.challenge, origin, next_counter())
    r = a.post(good)
    if not works(srv, "(1) a correct crafted assertion", r, a):
        return   # the refusals below would prove nothing
    signed_in_at = counter
    challenges = [a.challenge]

    before = n()
    r = a.post(good, replay=True)
    recs = refused(srv, "(3) the same assertion again (replayed challenge)", r, a, before)
    t.ok(not any(e == "factor.webauthn.counter" for e, _ in recs),
         "(3) the replay is refused for its challenge, before any counter check",
         "\n".join("%s %s" % x for x in recs))

    def attack(name, make, events=("login.passkey.fail",)):
        a = Attempt(srv)
        challenges.append(a.challenge)
        before = n()
        r = a.post(make(a))
        return refused(srv, name, r, a, before, events)

    attack("(2) clientDataJSON with another origin", lambda a: key.assertion(
        a.challenge, "https://evil.example", next_counter()))
    attack("(2b) the origin on another port", lambda a: key.assertion(
        a.challenge, "https://%s:%d" % (RP, st.free_port()), next_counter()))
    attack("(4) a challenge the server never issued", lambda a: key.assertion(
        b64u(secrets.token_bytes(32)), origin, next_counter()))
    attack("(4b) a challenge issued to another browser", lambda a: key.assertion(
        Attempt(srv).challenge, origin, next_counter()))
    attack("(4c) type webauthn.create in an assertion", lambda a: key.assertion(
        a.challenge, origin, next_counter(), typ="webauthn.create"))
    attack("(6) user verification flag cleared (passwordless needs it)", lambda a: key.assertion(
        a.challenge, origin, next_counter(), flags=0x01))
    attack("(7) authenticator data for another RP ID", lambda a: key.assertion(
        a.challenge, origin, next_counter(), rp="evil.example"))
    other = ec.generate_private_key(ec.SECP256R1())
    attack("(8) signed by another key", lambda a: key.assertion(
        a.challenge, origin, next_counter(), key=other))
    attack("(9) a user handle that is not the credential's owner", lambda a: key.assertion(
        a.challenge, origin, next_counter(), user_handle=b64u(secrets.token_bytes(16))))

    attack("(5) a signature counter lower than the stored one", lambda a: key.assertion(
        a.challenge, origin, signed_in_at - 1),
        events=("login.passkey.fail", "factor.webauthn.counter"))
    attack("(5b) a counter of 0 after counting (clone signal, WebAuthn 7.2 step 21)",
           lambda a: key.assertion(a.challenge, origin, 0),
           events=("login.passkey.fail", "factor.webauthn.counter"))

    text = srv.log() + srv.cli("audit").stdout
    leaked = st.grep_secret_leaks(text, challenges + [good["signature"], good["client_data"]])
    t.ok(not leaked, "no challenge, signature or clientDataJSON in the log or audit", leaked)


srv = localhost_server()
cb_srv = http.server.HTTPServer(("127.0.0.1", 0), Callback)
threading.Thread(target=cb_srv.serve_forever, daemon=True).start()
cb = "http://127.0.0.1:%d/cb" % cb_srv.server_port
try:
    tmp = tempfile.mkdtemp(prefix="sekisho-passkey-")
    srv.add_user(USER, PASSWORD, email="hanako@example.jp", display=DISPLAY)
    oidc = Oidc(srv, cb)
    creds = run_browser(srv, oidc, cb, tmp)
    t.run("what the server recorded of the browser's passkey", after_browser, srv, oidc)
    if t.ok(len(creds) == 1 and "privateKey" in creds[0],
            "the virtual authenticator's key is at hand for crafting", creds):
        t.run("the crafted assertions", crafted, srv, Key(creds[0]))
    t.ok(PASSWORD not in srv.log(), "the password never reaches the log")
finally:
    cb_srv.shutdown()
    srv.close()
t.done()
