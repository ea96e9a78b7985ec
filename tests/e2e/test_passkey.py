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
signature by another key, a user handle that is not the credential's owner or none, and
signature counters that go backwards (lower, then 0): each refused with a 4xx, no session
and an audit record.  A second user registers a passkey made here on the account page
(refused for another origin or another user's credential id) and cannot use it as the
first user's second factor.
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
    """The OIDC client's redirect URI: redeems each code at once (a code is no good once its
    session has ended, and the browser signs out next) and keeps the id_token's claims, or
    what went wrong, in seen."""
    seen = []
    oidc = None

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/cb":    # not the browser's /favicon.ico
            try:
                Callback.seen.append(Callback.oidc.claims(dict(urllib.parse.parse_qsl(
                    url.query))))
            except Exception as e:   # reported by the check that reads seen
                Callback.seen.append(e)
        body = b"<html><body>callback</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass   # the browser moved on before the page arrived

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


def after_browser(srv):
    """What the server recorded of the browser's passkey: CLI, audit, amr/acr."""
    r = srv.cli("user", "factors", USER, check=False)
    t.ok(re.search(r"^\S+ webauthn Laptop key created=\S+ last_used=\S+", r.stdout, re.M),
         "sekisho user factors lists the webauthn factor with its label", r.stdout + r.stderr)
    srv.audit_has(t, "account.factor.add", "user=" + USER)
    srv.audit_has(t, "login.factor.ok", "user=" + USER)
    srv.audit_has(t, "login.passkey.ok", "user=" + USER)
    t.eq(len(Callback.seen), 2, "both OIDC authorizations reached the client")
    names = ["password + passkey", "passwordless"]
    for what, claims in zip(names, Callback.seen):
        if not t.ok(isinstance(claims, dict), "%s: the code is redeemed" % what, claims):
            continue
        amr = claims.get("amr", [])
        if what == "passwordless":
            t.eq(sorted(amr), ["hwk", "mfa", "user"], "passwordless: amr is hwk user mfa")
        else:
            t.ok({"pwd", "hwk", "mfa"} <= set(amr), "password + passkey: amr has pwd, hwk, mfa",
                 amr)
        t.eq(claims.get("acr"), MFA, "%s: acr is the REFEDS MFA profile" % what)


def cbor(v):
    """CBOR (RFC 8949) of ints, bytes, text and maps: enough for an attestation object."""
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for extra, size in ((24, 1), (25, 2), (26, 4)):
            if n < 1 << (8 * size):
                return bytes([major << 5 | extra]) + n.to_bytes(size, "big")
        raise ValueError(n)
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, str):
        return head(3, len(v.encode())) + v.encode()
    return head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())


def client_data(typ, challenge, origin):
    return json.dumps({"type": typ, "challenge": challenge, "origin": origin,
                       "crossOrigin": False}, separators=(",", ":")).encode()


class Key:
    """A credential to sign with: the virtual authenticator's (from_browser) or one made
    here (an authenticator of the test's own).  counter: the last signature counter used."""

    def __init__(self, key, cred_id, user_handle, counter):
        self.key, self.cred_id, self.user_handle = key, b64u(cred_id), user_handle
        self.counter = counter

    @classmethod
    def from_browser(cls, cred):
        key = serialization.load_der_private_key(base64.b64decode(cred["privateKey"]), None)
        return cls(key, base64.b64decode(cred["credentialId"]),
                   b64u(base64.b64decode(cred["userHandle"])), cred["signCount"])

    def next(self):
        self.counter += 1
        return self.counter

    def assertion(self, challenge, origin, counter=None, rp=RP, flags=0x05,
                  typ="webauthn.get", key=None, user_handle=None):
        """Form fields of an assertion; flags 0x05 = user present + user verified;
        counter: the next one unless given."""
        counter = self.next() if counter is None else counter
        cd = client_data(typ, challenge, origin)
        ad = sha256(rp.encode()) + bytes([flags]) + counter.to_bytes(4, "big")
        sig = (key or self.key).sign(ad + sha256(cd), ec.ECDSA(hashes.SHA256()))
        return {"credential_id": self.cred_id, "client_data": b64u(cd),
                "authenticator_data": b64u(ad), "signature": b64u(sig),
                "user_handle": user_handle or self.user_handle}

    def registration(self, challenge, origin, rp=RP, cred_id=None):
        """Form fields of a registration, attestation "none"; flags UP UV AT."""
        pub = self.key.public_key().public_numbers()
        cose = {1: 2, 3: -7, -1: 1, -2: pub.x.to_bytes(32, "big"),
                -3: pub.y.to_bytes(32, "big")}
        cid = unb64u(cred_id or self.cred_id)
        ad = (sha256(rp.encode()) + bytes([0x45]) + self.counter.to_bytes(4, "big") +
              bytes(16) + len(cid).to_bytes(2, "big") + cid + cbor(cose))
        cd = client_data("webauthn.create", challenge, origin)
        return {"credential_id": b64u(cid), "client_data": b64u(cd),
                "attestation_object": b64u(cbor({"fmt": "none", "attStmt": {},
                                                  "authData": ad}))}


def new_session(srv):
    s = requests.Session()
    s.trust_env = False
    s.verify = srv.ca
    s.headers["Accept-Language"] = "en"
    return s


def password_login(srv, s, user, password):
    """Sign in with the password at the login page; the page it ends at."""
    r = s.get(srv.base() + "/login", timeout=30)
    form = next(f for f in st.parse_forms(r.text) if "password" in f["fields"])
    data = dict(form["fields"], username=user, password=password)
    return s.post(urllib.parse.urljoin(r.url, form["action"]), data=data, timeout=30)


class Attempt:
    """One browser at a page with a passkey button (kind get or create): its cookies, the
    button's form and challenge.  Default: a new browser at the login page."""

    def __init__(self, srv, s=None, path="/login", kind="get"):
        self.srv = srv
        self.s = s or new_session(srv)
        r = self.s.get(srv.base() + path, timeout=30)
        self.button = passkey_button(r.text, kind)
        if self.button is None:
            raise RuntimeError("no %s passkey button at %s: %s" % (kind, r.url, r.text[:800]))
        self.challenge = self.button["data-challenge"]
        self.form = next(f for f in st.parse_forms(r.text)
                         if f["id"] == self.button.get("data-form"))
        self.action = urllib.parse.urljoin(r.url, self.form["action"])
        self.jar = self.s.cookies.copy()

    def post(self, fields, replay=False):
        """Post the passkey form; replay: with the cookies the page left (again)."""
        if replay:
            self.s.cookies = self.jar.copy()
        data = dict(self.form["fields"])
        data.update(fields)
        return self.s.post(self.action, data=data, allow_redirects=False, timeout=30)


def session_set(r):
    return re.search(r"sekisho_sid=[^;\s]", r.headers.get("Set-Cookie", "")) is not None


def works(srv, name, r, a, display=DISPLAY):
    ok = t.ok(r.status_code in (302, 303) and session_set(r) and
              r.headers.get("Location", "").endswith("/portal"),
              "%s: signed in, sent to the portal" % name,
              "%d %s\n%s" % (r.status_code, r.headers.get("Location"), "\n".join(
                  "%s %s" % x for x in srv.audit()[-3:])))
    if ok:
        p = a.s.get(srv.base() + "/portal", timeout=30)
        t.ok(display in p.text, "%s: the portal shows %s" % (name, display))
    return ok


def refused(srv, name, r, a, before, events=("login.passkey.fail",)):
    """A refusal: 4xx, no session cookie, the portal still asks to sign in, audited."""
    t.ok(400 <= r.status_code < 500 and not session_set(r),
         "%s: refused with %d and no session" % (name, r.status_code),
         "%s %s" % (r.headers, r.text[:600]))
    p = a.s.get(srv.base() + "/portal", timeout=30, allow_redirects=True)
    t.ok('name="password"' in p.text and "signed in as" not in p.text.lower(),
         "%s: the browser is not signed in" % name, p.text[:400])
    recs = srv.audit()[before:]
    for ev in events:
        t.ok(any(e == ev for e, _ in recs), "%s: audit %s" % (name, ev),
             "\n".join("%s %s" % r for r in recs) or "(no new audit records)")
    return recs


def audit_len(srv):
    return len(srv.audit())


class Crafted:
    """Assertions and registrations made here, each wrong in one way only (a fresh
    challenge, a rising counter, everything else as a real authenticator sends it)."""

    def __init__(self, srv, key):
        self.srv, self.key, self.origin = srv, key, srv.url
        self.challenges = []

    def attack(self, name, make, events=("login.passkey.fail",), a=None):
        a = a or Attempt(self.srv)
        self.challenges.append(a.challenge)
        before = audit_len(self.srv)
        r = a.post(make(a))
        return refused(self.srv, name, r, a, before, events)

    def passwordless(self):
        """1-4, 6-9 at login/passkey.  False when the correct one does not work."""
        key, origin = self.key, self.origin
        s = new_session(self.srv)
        seen = [Attempt(self.srv, s).challenge for _ in range(3)]
        t.eq(len(set(seen)), 3, "(0) three loads of the login page in a row get three "
             "different challenges")
        a = Attempt(self.srv)
        self.challenges.append(a.challenge)
        self.good = good = key.assertion(a.challenge, origin)
        if not works(self.srv, "(1) a correct crafted assertion", a.post(good), a):
            return False   # the refusals below would prove nothing
        self.signed_in_at = key.counter

        before = audit_len(self.srv)
        r = a.post(good, replay=True)
        recs = refused(self.srv, "(3) the same assertion again (replayed challenge)", r, a,
                       before)
        t.ok(not any(e == "factor.webauthn.counter" for e, _ in recs),
             "(3) the replay is refused for its challenge, before any counter check",
             "\n".join("%s %s" % x for x in recs))

        self.attack("(2) clientDataJSON with another origin", lambda a: key.assertion(
            a.challenge, "https://evil.example"))
        self.attack("(2b) the origin on another port", lambda a: key.assertion(
            a.challenge, "https://%s:%d" % (RP, st.free_port())))
        self.attack("(2c) the origin over http", lambda a: key.assertion(
            a.challenge, origin.replace("https:", "http:")))
        self.attack("(4) a challenge the server never issued", lambda a: key.assertion(
            b64u(secrets.token_bytes(32)), origin))
        self.attack("(4b) a challenge issued to another browser", lambda a: key.assertion(
            Attempt(self.srv).challenge, origin))
        self.attack("(4c) type webauthn.create in an assertion", lambda a: key.assertion(
            a.challenge, origin, typ="webauthn.create"))
        self.attack("(6) user verification flag cleared (passwordless needs it)",
                    lambda a: key.assertion(a.challenge, origin, flags=0x01))
        self.attack("(6b) user presence flag cleared", lambda a: key.assertion(
            a.challenge, origin, flags=0x04))
        self.attack("(7) authenticator data for another RP ID", lambda a: key.assertion(
            a.challenge, origin, rp="evil.example"))
        other = ec.generate_private_key(ec.SECP256R1())
        self.attack("(8) signed by another key", lambda a: key.assertion(
            a.challenge, origin, key=other))
        self.attack("(9) a user handle that is not the credential's owner",
                    lambda a: key.assertion(a.challenge, origin,
                                            user_handle=b64u(secrets.token_bytes(16))))
        self.attack("(9b) no user handle (passwordless needs it, WebAuthn 7.2 step 6)",
                    lambda a: dict(key.assertion(a.challenge, origin), user_handle=""))
        return True

    def register(self, user, password, display):
        """A second user registers a passkey made here on the account page (first with a
        wrong origin, then another user's credential id, then right): its Key or None."""
        s = new_session(self.srv)
        r = password_login(self.srv, s, user, password)
        t.ok(display in r.text, "%s signs in with the password" % user, r.text[:400])
        a = Attempt(self.srv, s, "/account/passkey", "create")
        btn = a.button
        t.eq(btn.get("data-rp"), RP, "the create button's RP ID is the host of url")
        mine = Key(ec.generate_private_key(ec.SECP256R1()), secrets.token_bytes(32),
                   btn.get("data-user-id"), 0)
        r = a.post(dict(mine.registration(a.challenge, "https://evil.example"), label="evil"))
        t.ok(400 <= r.status_code < 500, "(R1) a registration for another origin is refused",
             "%d %s" % (r.status_code, r.text[:400]))
        a = Attempt(self.srv, s, "/account/passkey", "create")
        r = a.post(dict(mine.registration(a.challenge, self.origin, cred_id=self.key.cred_id),
                        label="stolen"))
        t.ok(400 <= r.status_code < 500,
             "(R2) a registration of a credential id registered to someone else is refused",
             "%d %s" % (r.status_code, r.text[:400]))
        a = Attempt(self.srv, s, "/account/passkey", "create")
        r = a.post(dict(mine.registration(a.challenge, self.origin), label="Own key"))
        t.ok(r.status_code < 400, "(R3) a correct crafted registration is accepted",
             "%d %s" % (r.status_code, r.text[:400]))
        out = self.srv.cli("user", "factors", user, check=False).stdout
        webauthn = re.findall(r"^\S+ webauthn (.*?) created=", out, re.M)
        t.eq(webauthn, ["Own key"], "%s has exactly the one correct passkey" % user)
        return mine if webauthn == ["Own key"] else None

    def second_factor(self, other):
        """At login/factor after hanako's password: ken's passkey refused, hers works."""
        s = new_session(self.srv)
        r = password_login(self.srv, s, USER, PASSWORD)
        path = urllib.parse.urlsplit(r.url)
        factor = "%s?%s" % (path.path[len("/t/default"):], path.query)
        if not t.ok(path.path.endswith("/login/factor"), "the password leads to login/factor",
                    r.url):
            return
        self.attack("(F1) another user's passkey as hanako's second factor",
                    lambda a: other.assertion(a.challenge, self.origin),
                    events=("login.factor.fail",), a=Attempt(self.srv, s, factor))
        a = Attempt(self.srv, s, factor)
        works(self.srv, "(F2) her own passkey, crafted, as the second factor",
              a.post(self.key.assertion(a.challenge, self.origin)), a)

    def counters(self):
        """5: counters that go backwards are refused and flagged."""
        key, origin = self.key, self.origin
        self.attack("(5) a signature counter lower than the stored one", lambda a: key.assertion(
            a.challenge, origin, counter=self.signed_in_at - 1),
            events=("login.passkey.fail", "factor.webauthn.counter"))
        self.attack("(5b) a counter of 0 after counting (clone signal, WebAuthn 7.2 step 21)",
                    lambda a: key.assertion(a.challenge, origin, counter=0),
                    events=("login.passkey.fail", "factor.webauthn.counter"))

    def no_leaks(self):
        text = self.srv.log() + self.srv.cli("audit").stdout
        leaked = st.grep_secret_leaks(text, self.challenges + [self.good["signature"],
                                                                self.good["client_data"]])
        t.ok(not leaked, "no challenge, signature or clientDataJSON in the log or audit",
             leaked)


def crafted(srv, key):
    c = Crafted(srv, key)
    if not c.passwordless():
        return
    srv.add_user("ken", "ken-password-1", display="Ken Sato")
    ken = c.register("ken", "ken-password-1", "Ken Sato")
    if ken is not None:
        a = Attempt(srv)
        works(srv, "(R4) ken signs in without a password with the crafted passkey",
              a.post(ken.assertion(a.challenge, srv.url)), a, "Ken Sato")
        c.second_factor(ken)
    c.counters()
    c.no_leaks()


srv = localhost_server()
cb_srv = http.server.HTTPServer(("127.0.0.1", 0), Callback)
threading.Thread(target=cb_srv.serve_forever, daemon=True).start()
cb = "http://127.0.0.1:%d/cb" % cb_srv.server_port
try:
    tmp = tempfile.mkdtemp(prefix="sekisho-passkey-")
    srv.add_user(USER, PASSWORD, email="hanako@example.jp", display=DISPLAY)
    oidc = Callback.oidc = Oidc(srv, cb)
    creds = run_browser(srv, oidc, cb, tmp)
    t.run("what the server recorded of the browser's passkey", after_browser, srv)
    if t.ok(len(creds) == 1 and "privateKey" in creds[0],
            "the virtual authenticator's key is at hand for crafting", creds):
        t.run("the crafted assertions", crafted, srv, Key.from_browser(creds[0]))
    t.ok(PASSWORD not in srv.log(), "the password never reaches the log")
finally:
    cb_srv.shutdown()
    srv.close()
t.done()
