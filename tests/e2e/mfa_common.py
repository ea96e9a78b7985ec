"""What the second-factor scenarios share: an injected clock that stands still, TOTP codes
from oathtool (an independent implementation of RFC 6238, never from Sekisho), the pages of
a login with a second factor (login/factor, login/enrol), the assertion's
AuthnContextClassRef, and an OIDC client played by the test (authorization request with
acr_values and prompt, code redemption, ID token verified with python3-jwcrypto).

The clock: sekishod runs under libfaketime reading its time from a file; the time written
there stands still (a code stays valid however slow the machine is).  It is set in the
middle of a 30 s step near the real time, so that the real peers (mellon, mod_auth_openidc,
which check times against the real clock) accept what Sekisho signs.
"""
import base64
import hashlib
import html
import json
import re
import secrets
import subprocess
import time
import urllib.parse
import zlib

import requests
from jwcrypto import jwk, jwt
from lxml import etree

import sekisho_test

STEP = 30
MFA = "https://refeds.org/profile/mfa"
PASSWORD_CLASS = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
OIDC_ACR_PASSWORD = "urn:sekisho:acr:password"
SESSION_COOKIE = "sekisho_sid"
STEP_COOKIE = "sekisho_step"


def oathtool(secret, at):
    """The TOTP code (SHA-1, 30 s, 6 digits) of base32 secret at time at (seconds)."""
    r = subprocess.run(["oathtool", "--totp", "-b", "-N", "@%d" % at, secret],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0 or not re.fullmatch(r"\d{6}\n", r.stdout):
        raise RuntimeError("oathtool failed: %s%s" % (r.stdout, r.stderr))
    return r.stdout.strip()


class Clock:
    """sekishod's clock, standing still at self.t; per user, the last TOTP step used (a code
    is accepted once, and no older one after it)."""

    def __init__(self, path):
        self.path = path
        self.t = None
        self.used = {}
        self.issued = set()     # every code made here, to look for in logs

    def env(self):
        """sekishod's environment: libfaketime reading self.path, TZ=UTC (the file's time
        is UTC)."""
        env = dict(sekisho_test.faketime_env(self.path), TZ="UTC")
        self.sync()
        return env

    def set(self, t):
        self.t = int(t)
        with open(self.path, "w") as f:
            f.write(time.strftime("%Y-%m-%d %H:%M:%S\n", time.gmtime(self.t)))

    def sync(self):
        """Stand the clock in the middle of the step before the real one (15 to 45 s behind
        the real time), never backwards."""
        t = (int(time.time()) // STEP) * STEP - STEP // 2
        if self.t is None or t > self.t:
            self.set(t)

    def advance(self, seconds):
        self.set(self.t + seconds)

    @property
    def step(self):
        return self.t // STEP

    def code(self, secret, offset=0):
        """The code of the step offset steps from the clock's (not recorded as used)."""
        return self._code(secret, self.step + offset)

    def _code(self, secret, step):
        c = oathtool(secret, step * STEP + STEP // 2)
        self.issued.add(c)
        return c

    def next_code(self, user, secret):
        """A code Sekisho must accept for user now: the earliest step within its ±1 step
        window after the last one user used (the window moves with the real time)."""
        self.sync()
        step = max(self.used.get(user, -1) + 1, self.step - 1)
        if step > self.step + 1:
            self.advance((step - self.step - 1) * STEP)
        self.used[user] = step
        return self._code(secret, step)

    def use(self, user, secret, offset):
        """The code of the step offset steps from the clock's, recorded as used by user
        (when Sekisho accepts it, no earlier step works for user any more)."""
        self.used[user] = max(self.used.get(user, -1), self.step + offset)
        return self.code(secret, offset)

    def wrong_code(self, secret):
        """Six digits that are none of the codes of the window (steps -1..+1)."""
        good = {self.code(secret, o) for o in (-1, 0, 1)}
        c = int(self.code(secret))
        while "%06d" % c in good:
            c = (c + 137921) % 1000000
        self.issued.add("%06d" % c)
        return "%06d" % c


def otp_secret(uri):
    """The base32 secret of an otpauth://totp/ URI."""
    u = urllib.parse.urlsplit(uri)
    if u.scheme != "otpauth" or u.netloc != "totp":
        raise RuntimeError("not an otpauth://totp/ URI: %r" % uri)
    q = dict(urllib.parse.parse_qsl(u.query))
    if not re.fullmatch(r"[A-Z2-7]+=*", q.get("secret", "")):
        raise RuntimeError("no base32 secret in %r" % uri)
    return q["secret"].rstrip("=")


def otp_add(server, user, label=None):
    """`sekisho user otp add USER [--label L]`: (its output, the secret)."""
    args = ["user", "otp", "add", user] + (["--label", label] if label else [])
    out = server.cli(*args).stdout
    lines = out.splitlines()
    if len(lines) != 1:
        raise RuntimeError("user otp add printed %d lines: %r" % (len(lines), out))
    return out, otp_secret(lines[0])


# ---- pages ----

def factor_form(r):
    """The form with the input otp (a TOTP or recovery code) on page r, or None."""
    for f in sekisho_test.parse_forms(r.text):
        if f["method"] == "post" and "otp" in f["fields"] and "csrf" in f["fields"]:
            return f
    return None


def submit_factor(b, r, code, **extra):
    """Post code in page r's factor form (field otp); follows what comes back."""
    f = factor_form(r)
    if f is None:
        raise RuntimeError("no factor form on %s (%d): %s" % (r.url, r.status_code,
                                                              r.text[:600]))
    data = dict(f["fields"], otp=code, **extra)
    return b.post(urllib.parse.urljoin(r.url, f["action"]), data)


def password_answer(b, start, base):
    """The answer to the password POST b made to base/login since start: (status,
    absolute Location or "")."""
    for h in b.history[start:]:
        req = getattr(h, "request", None)
        if req is not None and req.method == "POST" and \
                h.url.split("?")[0] == base + "/login":
            loc = h.headers.get("Location", "")
            return h.status_code, urllib.parse.urljoin(h.url, loc) if loc else ""
    return None, ""


def page_secret(text):
    """The TOTP secret shown on an enrolment page (<code id="totp-secret">)."""
    m = re.search(r'<code id="totp-secret">([^<]*)</code>', text)
    if not m:
        return None
    return re.sub(r"\s", "", html.unescape(m.group(1))).upper().rstrip("=")


def recovery_codes(text):
    """The codes of <ol id="recovery-codes"><li>CODE...</ol>."""
    m = re.search(r'<ol id="recovery-codes">(.*?)</ol>', text, re.S)
    if not m:
        return []
    return [html.unescape(re.sub(r"<[^>]*>", "", c)).strip()
            for c in re.findall(r"<li[^>]*>(.*?)(?=<li|$)", m.group(1), re.S)]


def form_posting_to(text, url_end):
    """The POST form on a page whose action ends with url_end, or None."""
    for f in sekisho_test.parse_forms(text):
        if f["method"] == "post" and f["action"].split("?")[0].endswith(url_end):
            return f
    return None


def logout(server, b):
    """Sign out at Sekisho's own logout page: the final answer."""
    r = b.get(server.base() + "/logout")
    forms = [f for f in sekisho_test.parse_forms(r.text)
             if f["method"] == "post" and "csrf" in f["fields"]]
    if not forms:
        raise RuntimeError("no logout form: %d %s" % (r.status_code, r.text[:300]))
    return b.post(urllib.parse.urljoin(r.url, forms[0]["action"]), forms[0]["fields"])


# ---- SAML ----

def class_refs(xml):
    """The AuthnContextClassRef values of the assertion(s) in a SAML Response (XML text)."""
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    return [e.text for e in root.iter("{urn:oasis:names:tc:SAML:2.0:assertion}"
                                      "AuthnContextClassRef")]


def status_codes(xml):
    """The StatusCode values (top level first) of a SAML Response (XML text)."""
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    return [e.get("Value") for e in root.iter("{urn:oasis:names:tc:SAML:2.0:protocol}"
                                              "StatusCode")]


def saml_requests(b, start, sso_prefix):
    """The AuthnRequests (XML text) b carried to Sekisho by redirect since start."""
    out = []
    for h in b.history[start:]:
        if h.url.startswith(sso_prefix):
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(h.url).query)
            if "SAMLRequest" in q:
                out.append(zlib.decompress(base64.b64decode(q["SAMLRequest"][0]),
                                           -15).decode())
    return out


def jwt_claims(token):
    """The claims of a compact JWS, not verified (mod_auth_openidc verified it)."""
    try:
        part = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError):
        return {}


# ---- an OIDC client played by the test ----

class Client:
    """A public OIDC client (PKCE) registered with `sekisho app add-oidc`; nothing listens
    at its redirect URI: the browser stops there and the test redeems the code."""

    def __init__(self, server, name):
        self.server = server
        self.name = name
        self.redirect_uri = "http://127.0.0.1:9/%s/cb" % name
        out = server.cli("app", "add-oidc", name, "--redirect-uri", self.redirect_uri,
                         "--public").stdout
        self.id = re.search(r"^client_id=(\S+)$", out, re.M).group(1)
        disc = requests.get(server.base() + "/.well-known/openid-configuration",
                            verify=server.ca, timeout=30).json()
        self.ep = disc
        self.keys = jwk.JWKSet.from_json(requests.get(disc["jwks_uri"], verify=server.ca,
                                                      timeout=30).text)
        self.pending = {}

    def authorize_url(self, **extra):
        """An authorization request (code, PKCE S256); extra: acr_values, prompt..."""
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        state = secrets.token_urlsafe(8)
        q = {"response_type": "code", "client_id": self.id, "redirect_uri": self.redirect_uri,
             "scope": "openid", "state": state, "nonce": secrets.token_urlsafe(8),
             "code_challenge": challenge, "code_challenge_method": "S256"}
        q.update(extra)
        self.pending[state] = verifier, q["nonce"]
        return self.ep["authorization_endpoint"] + "?" + urllib.parse.urlencode(q)

    def answer(self, b, start):
        """The last authorization response (query dict) b was sent to since start."""
        got = []
        for h in b.history[start:]:
            loc = h.headers.get("Location", "") if h.status_code in (302, 303) else ""
            if loc.startswith(self.redirect_uri + "?"):
                got.append(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query)))
        return got[-1] if got else {}

    def redeem(self, ans):
        """Redeem the code of answer ans: the ID token's claims, verified (signature,
        issuer, audience, nonce)."""
        verifier, nonce = self.pending[ans["state"]]
        r = requests.post(self.ep["token_endpoint"], data={
            "grant_type": "authorization_code", "code": ans["code"],
            "redirect_uri": self.redirect_uri, "client_id": self.id,
            "code_verifier": verifier}, verify=self.server.ca, timeout=30)
        if r.status_code != 200:
            raise RuntimeError("token endpoint: %d %s" % (r.status_code, r.text[:300]))
        tok = jwt.JWT(jwt=r.json()["id_token"], key=self.keys)
        claims = json.loads(tok.claims)
        if claims.get("iss") != self.server.base() or claims.get("aud") not in (
                self.id, [self.id]) or claims.get("nonce") != nonce:
            raise RuntimeError("ID token for someone else: %r" % claims)
        return claims
