#!/usr/bin/python3
"""End to end: Sekisho as the OpenID Provider of apache2 + mod_auth_openidc (Debian's,
unmodified), with a mod_auth_mellon SAML SP beside it.

Three mod_auth_openidc RPs and one mellon SP on 127.0.0.1 against one sekishod:
  rp1     client_secret_basic, RS256, back-channel logout URI registered
  rp2     private_key_jwt with an RSA key made by this test
  rp3     ES256 ID tokens (pinned in the module), back-channel logout URI registered
  saml    mod_auth_mellon, for SSO and logout across protocols
Covered: code flow with PKCE through Sekisho's login page and the claims the app sees,
SSO to a second RP and to the same RP in a fresh RP session, refresh through the RP with
rotation (the old refresh token replayed by the test is refused and revokes the grant),
RP-initiated logout, back-channel logout after a logout at Sekisho, SSO and logout across
SAML and OIDC, private_key_jwt, ES256, an independent check of the ID tokens with
python3-jwcrypto, and no secret of any of it in Sekisho's log.
"""
import base64
import json
import re
import secrets
import signal
import sys
import time
import urllib.parse

import requests
from jwcrypto import jwk, jws, jwt

import sekisho_test
from sekisho_test import Browser, Server, Tap
from peers.mellon import MellonSP, parse_env as mellon_env
from peers.openidc import OidcRP, parse_env

USERS = {
    # name: (e-mail, display name, groups)
    "alice": ("alice@example.com", "Alice Example", ["admins", "staff"]),
    "bob": ("bob@example.com", "Bob Example", ["staff"]),
    "carol": ("carol@example.com", "Carol Example", ["staff"]),
    "dave": ("dave@example.com", "Dave Example", []),
}
SUB = re.compile(r"^[0-9a-f]{32}$")
BACKCHANNEL_WAIT = 15       # seconds: delivery is queued, Sekisho's timeout is 5 s


def query(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def sent_to(b, start, prefix):
    """The requests browser b made since history index start whose URL begins with prefix."""
    return [h for h in b.history[start:] if h.url.startswith(prefix)]


def jwt_part(token, i):
    """Header (0) or claims (1) of a compact JWS, not verified."""
    part = token.split(".")[i]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class Scenario:
    """The parts of the scenario; main() runs them in order."""

    def __init__(self, tap, server, rps, sp, users):
        self.t = tap
        self.server = server
        self.rp1, self.rp2, self.rp3 = rps
        self.sp = sp
        self.users = users
        self.issuer = server.base()
        self.browsers = []
        # Every secret this test handled, looked for in Sekisho's log at the end.
        self.secrets = set(users.values())
        for rp in rps:
            self.secrets.add(rp.client_secret)
        # Filled by the parts: what later parts build on.
        self.alice = None           # alice's browser, logged in at rp1, rp2 and rp3
        self.alice_env = {}         # rp1's page for alice
        self.id_tokens = []         # (rp, serialized ID token, nonce of its request)

    def browser(self):
        b = Browser(verify=self.server.ca)
        # Without it mod_auth_openidc answers 401 instead of redirecting to the OP.
        b.s.headers["Accept"] = "text/html"
        self.browsers.append(b)
        return b

    def is_login_page(self, b, r):
        return r.url.startswith(self.issuer + "/login") and b.login_form(r) is not None

    def asked_to_log_in(self, b, start):
        return bool(sent_to(b, start, self.issuer + "/login"))

    def page(self, rp, r, what):
        """rp's protected page in answer r as a dict of its variables (a check)."""
        ok = self.t.ok(r.status_code == 200 and r.url == rp.protected and
                       "OIDC_CLAIM_sub=" in r.text,
                       "%s: lands on %s's protected page" % (what, rp.app),
                       "%d %s\n%s\n%s" % (r.status_code, r.url, r.text[:600],
                                          rp.error_log()[-1500:]))
        env = parse_env(r.text) if ok else {}
        self.secrets.update(v for k, v in env.items()
                            if k in ("OIDC_access_token", "OIDC_id_token"))
        return env

    def authorize_request(self, b, start, rp):
        """The query of the last authorization request b sent for rp since start."""
        reqs = [query(h.url) for h in sent_to(b, start, self.issuer + "/oidc/authorize?")]
        reqs = [q for q in reqs if q.get("client_id") == rp.client_id]
        return reqs[-1] if reqs else {}

    def authorization_response(self, b, start, rp):
        """The query of the last authorization response b carried to rp since start."""
        got = [query(h.url) for h in sent_to(b, start, rp.redirect_uri + "?")]
        got = [q for q in got if "code" in q or "error" in q]
        for q in got:
            self.secrets.add(q.get("code"))
        return got[-1] if got else {}

    def rp_session_ended(self, b, rp):
        """True when b's cookies no longer open rp's protected page: the module sends the
        browser to Sekisho instead (not followed)."""
        r = b._req("GET", rp.protected)
        return r.status_code in (302, 303) and r.headers.get("Location", "").startswith(
            self.issuer + "/oidc/authorize?")

    def wait_rp_session_ended(self, b, rp):
        """Back-channel delivery is asynchronous: poll for a while."""
        end = time.time() + BACKCHANNEL_WAIT
        while time.time() < end:
            if self.rp_session_ended(b, rp):
                return True
            time.sleep(0.2)
        return False

    def info(self, b, rp, refresh=False):
        """The RP's info hook for b's session (tokens recorded as handled)."""
        r = b._req("GET", rp.info_url(refresh))
        if r.status_code != 200:
            raise RuntimeError("%s info hook: %d %s\n%s" % (rp.app, r.status_code, r.text[:300],
                                                            rp.error_log()[-1500:]))
        info = r.json()
        self.secrets.update(str(info.get(k)) for k in ("access_token", "refresh_token")
                            if info.get(k))
        return info

    def logout_at_sekisho(self, b, what):
        """Sekisho's own logout: its confirmation form, posted.  Returns (answer, history
        index before the POST) or (None, None)."""
        r = b.get(self.issuer + "/logout")
        forms = [f for f in sekisho_test.parse_forms(r.text)
                 if f["method"] == "post" and "csrf" in f["fields"]]
        if not self.t.ok(forms, "%s: Sekisho's /logout shows a confirmation form" % what,
                         "%d %s" % (r.status_code, r.text[:300])):
            return None, None
        start = len(b.history)
        r = b.post(urllib.parse.urljoin(r.url, forms[0]["action"]), forms[0]["fields"])
        return r, start

    def audit_has(self, event, *fields):
        return self.server.audit_has(self.t, event, *fields)

    # 1
    def login(self):
        t, rp1 = self.t, self.rp1
        b = self.alice = self.browser()
        r = b.get(rp1.protected)
        t.ok(self.is_login_page(b, r), "rp1: protected page sends the browser to Sekisho's "
             "login form", "%d %s\n%s" % (r.status_code, r.url, rp1.error_log()[-1500:]))
        q = self.authorize_request(b, 0, rp1)
        t.ok(q.get("response_type") == "code" and q.get("code_challenge_method") == "S256" and
             len(q.get("code_challenge", "")) == 43 and q.get("nonce") and
             q.get("scope") == "openid email profile groups",
             "rp1: the module asks for a code with PKCE S256, a nonce and the four scopes", q)
        r = b.submit_login(r, "alice", self.users["alice"])
        env = self.alice_env = self.page(rp1, r, "rp1 alice")
        resp = self.authorization_response(b, 0, rp1)
        t.ok(resp.get("code") and resp.get("iss") == self.issuer,
             "rp1: the authorization response carries a code and iss (RFC 9207)",
             {k: v for k, v in resp.items() if k != "code"})
        email, name, groups = USERS["alice"]
        t.ok(SUB.match(env.get("OIDC_CLAIM_sub", "")), "rp1: sub is a user id (32 hex digits)",
             env.get("OIDC_CLAIM_sub"))
        t.eq(env.get("REMOTE_USER"), env.get("OIDC_CLAIM_sub"), "rp1: REMOTE_USER is sub")
        t.eq(env.get("OIDC_CLAIM_email"), email, "rp1: email claim")
        t.eq(env.get("OIDC_CLAIM_name"), name, "rp1: name claim")
        t.eq(env.get("OIDC_CLAIM_preferred_username"), "alice", "rp1: preferred_username")
        # The module joins array claims with ",".
        t.eq(sorted(env.get("OIDC_CLAIM_groups", "").split(",")), groups, "rp1: groups claim")
        t.eq(env.get("OIDC_CLAIM_nonce"), q.get("nonce"),
             "rp1: the ID token carries the request's nonce")
        t.ok(env.get("OIDC_CLAIM_sid"), "rp1: the ID token carries sid")
        if env.get("OIDC_id_token"):
            self.id_tokens.append((rp1, env["OIDC_id_token"], q.get("nonce")))
        self.audit_has("oidc.authorize", "user=alice", "client=" + rp1.client_id)
        self.audit_has("oidc.token", "user=alice", "client=" + rp1.client_id)

        # Another user: other claims, another sub.
        b = self.browser()
        r = b.submit_login(b.get(rp1.protected), "dave", self.users["dave"])
        denv = self.page(rp1, r, "rp1 dave")
        t.ok(SUB.match(denv.get("OIDC_CLAIM_sub", "")) and
             denv.get("OIDC_CLAIM_sub") != env.get("OIDC_CLAIM_sub") and
             denv.get("OIDC_CLAIM_email") == USERS["dave"][0],
             "rp1: another user gets another sub and their own e-mail",
             {k: v for k, v in denv.items() if k.startswith("OIDC_CLAIM_")})

    # 2 and 7: SSO, to rp2 (private_key_jwt) and to rp1 again in a fresh RP session.
    def sso(self):
        t, b, rp1, rp2 = self.t, self.alice, self.rp1, self.rp2
        sub = self.alice_env.get("OIDC_CLAIM_sub")
        start = len(b.history)
        r = b.get(rp2.protected)
        env = self.page(rp2, r, "rp2 after rp1 (SSO)")
        t.ok(not self.asked_to_log_in(b, start), "rp2: reached without the login form")
        t.ok(sent_to(b, start, self.issuer + "/oidc/authorize?"),
             "rp2: it went through Sekisho's authorization endpoint")
        t.eq(env.get("OIDC_CLAIM_sub"), sub, "rp2: the same sub as at rp1")
        t.eq(env.get("OIDC_CLAIM_email"), USERS["alice"][0], "rp2: alice's e-mail")
        t.eq(env.get("OIDC_CLAIM_sid"), self.alice_env.get("OIDC_CLAIM_sid"),
             "rp2: the same Sekisho session (sid) as at rp1")

        # The same RP, its session cookie dropped: a new RP session, still no login form.
        b.s.cookies.clear(domain="127.0.0.1", path="/", name=rp1.cookie)
        start = len(b.history)
        r = b.get(rp1.protected)
        env = self.page(rp1, r, "rp1 in a fresh RP session (SSO)")
        t.ok(sent_to(b, start, self.issuer + "/oidc/authorize?") and
             not self.asked_to_log_in(b, start),
             "rp1: a fresh RP session is made through Sekisho without the login form")
        t.eq(env.get("OIDC_CLAIM_sub"), sub, "rp1: the same sub in the new RP session")

    # 7
    def private_key_jwt(self):
        t, rp2 = self.t, self.rp2
        self.audit_has("oidc.token", "user=alice", "client=" + rp2.client_id)
        fails = [f for e, f in self.server.audit() if e == "oidc.client_auth.fail"]
        t.ok(not fails, "rp2: no client authentication failed on the way", fails)
        # The module signs with the key registered in Sekisho (same kid, same modulus).
        keys = requests.get(rp2.redirect_uri + "?jwks=1", timeout=30).json().get("keys", [])
        with open(rp2.jwks_file) as f:
            registered = json.load(f)["keys"][0]
        t.ok([k for k in keys if k.get("kid") == rp2.kid and k.get("n") == registered["n"]],
             "rp2: the module publishes the registered key under the registered kid", keys)
        # The same client without its assertion gets nothing.
        r = requests.post(self.issuer + "/oidc/token", timeout=30, verify=self.server.ca,
                          data={"grant_type": "refresh_token", "client_id": rp2.client_id,
                                "refresh_token": "x" * 43})
        t.ok(r.status_code == 401 and r.json().get("error") == "invalid_client",
             "rp2: the token endpoint refuses it without a client assertion",
             "%d %s" % (r.status_code, r.text[:200]))

    # 8
    def es256(self):
        t, b, rp3 = self.t, self.alice, self.rp3
        start = len(b.history)
        r = b.get(rp3.protected)
        env = self.page(rp3, r, "rp3 (ES256) after rp1 (SSO)")
        t.ok(not self.asked_to_log_in(b, start), "rp3: reached without the login form")
        token = env.get("OIDC_id_token", "")
        t.eq(jwt_part(token, 0).get("alg") if token else None, "ES256",
             "rp3: the ID token the module accepted is signed ES256")
        t.eq(env.get("OIDC_CLAIM_preferred_username"), "alice", "rp3: alice's claims")
        if token:
            self.id_tokens.append((rp3, token, self.authorize_request(b, start, rp3).get("nonce")))
        self.audit_has("oidc.token", "user=alice", "client=" + rp3.client_id)

    # 9
    def verify_id_tokens(self):
        t = self.t
        r = requests.get(self.issuer + "/oidc/jwks", verify=self.server.ca, timeout=30)
        keys = r.json().get("keys", [])
        t.ok(r.status_code == 200 and keys, "jwks: Sekisho publishes its keys",
             "%d %s" % (r.status_code, r.text[:200]))
        for i, k in enumerate(keys):
            t.eq(k.get("kid"), jwk.JWK(**k).thumbprint(),
                 "jwks: kid of key %d (%s) is its RFC 7638 thumbprint" % (i, k.get("kty")))
        t.ok(len(self.id_tokens) == 2, "jwcrypto: ID tokens of rp1 and rp3 to check",
             [rp.app for rp, _, _ in self.id_tokens])
        for rp, token, nonce in self.id_tokens:
            header = jwt_part(token, 0)
            match = [k for k in keys if k.get("kid") == header.get("kid")]
            if not t.ok(match, "jwcrypto %s: the ID token's kid is in the JWKS" % rp.app,
                        header):
                continue
            key = jwk.JWK(**match[0])
            try:
                claims = json.loads(jwt.JWT(jwt=token, key=key, algs=[header["alg"]]).claims)
            except Exception as e:
                t.ok(False, "jwcrypto %s: signature verifies (%s)" % (rp.app, header["alg"]), e)
                continue
            t.ok(True, "jwcrypto %s: signature verifies (%s)" % (rp.app, header["alg"]))
            now = time.time()
            t.eq(claims.get("iss"), self.issuer, "jwcrypto %s: iss" % rp.app)
            aud = claims.get("aud")
            t.ok(aud == rp.client_id or (isinstance(aud, list) and rp.client_id in aud),
                 "jwcrypto %s: aud is its client_id" % rp.app, aud)
            t.ok(isinstance(claims.get("exp"), int) and now < claims["exp"] < now + 86400 and
                 claims.get("iat", now + 1) <= now + 5,
                 "jwcrypto %s: exp in the future, iat not" % rp.app, claims)
            t.ok(nonce and claims.get("nonce") == nonce,
                 "jwcrypto %s: nonce is the one the module sent" % rp.app, claims.get("nonce"))
            t.eq(claims.get("sid"), self.alice_env.get("OIDC_CLAIM_sid"),
                 "jwcrypto %s: sid is the session's" % rp.app)
            # A changed byte must fail, or the checks above proved nothing.
            head, body, sig = token.split(".")
            forged = jwt_part(token, 1)
            forged["email"] = "mallory@example.com"
            body = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
            try:
                jws.JWS().deserialize(".".join((head, body, sig)), key=key)
                refused = False
            except jws.InvalidJWSSignature:
                refused = True
            t.ok(refused, "jwcrypto %s: a changed claim breaks the signature" % rp.app)

    # 3
    def refresh(self):
        t, b, rp1 = self.t, self.alice, self.rp1
        before = self.info(b, rp1)
        after = self.info(b, rp1, refresh=True)
        t.ok(after.get("access_token") and after["access_token"] != before.get("access_token"),
             "refresh: the module got a new access token through Sekisho")
        t.ok(after.get("refresh_token") and
             after["refresh_token"] != before.get("refresh_token"),
             "refresh: the refresh token rotated")
        self.audit_has("oidc.refresh", "user=alice", "client=" + rp1.client_id)
        r = b.get(rp1.protected)
        env = self.page(rp1, r, "refresh: rp1 after the refresh")
        t.eq(env.get("OIDC_access_token"), after.get("access_token"),
             "refresh: the app sees the new access token")

        # The old refresh token, replayed by someone holding the client's credentials.
        r = self.token_request(rp1, before.get("refresh_token", ""))
        t.ok(r.status_code == 400 and r.json().get("error") == "invalid_grant",
             "refresh: the old refresh token is refused", "%d %s" % (r.status_code, r.text))
        t.ok("no-store" in r.headers.get("Cache-Control", ""),
             "refresh: token endpoint answers with Cache-Control: no-store",
             r.headers.get("Cache-Control"))
        self.audit_has("oidc.refresh.reuse", "user=alice", "client=" + rp1.client_id)
        # That replay revoked the grant: the RP can no longer refresh.  (Asked before the
        # test touches the RP's token itself, which would rotate it if it were alive.)
        r = b._req("GET", rp1.redirect_uri + "?" + urllib.parse.urlencode(
            {"refresh": rp1.protected, "access_token": after.get("access_token", "")}))
        t.ok(r.status_code == 302 and "error_code=refresh_failed" in r.headers.get(
             "Location", ""), "refresh: after the replay a refresh through the RP fails",
             "%d %s\n%s" % (r.status_code, r.headers.get("Location"), rp1.error_log()[-800:]))
        again = self.info(b, rp1, refresh=True)
        t.eq(again.get("access_token"), after.get("access_token"),
             "refresh: the info hook's refresh leaves the access token unchanged")
        r = self.token_request(rp1, after.get("refresh_token", ""))
        t.ok(r.status_code == 400 and r.json().get("error") == "invalid_grant",
             "refresh: the RP's newest refresh token is refused when sent directly",
             "%d %s" % (r.status_code, r.text))

    def token_request(self, rp, refresh_token):
        """A refresh grant at Sekisho with rp's client_secret_basic credentials."""
        cred = "%s:%s" % (urllib.parse.quote(rp.client_id, safe=""),
                          urllib.parse.quote(rp.client_secret, safe=""))
        return requests.post(self.issuer + "/oidc/token", timeout=30, verify=self.server.ca,
                             headers={"Authorization": "Basic " +
                                      base64.b64encode(cred.encode()).decode()},
                             data={"grant_type": "refresh_token",
                                   "refresh_token": refresh_token})

    # 4
    def rp_initiated_logout(self):
        t, b, rp1 = self.t, self.alice, self.rp1
        start = len(b.history)
        r = b.get(rp1.logout_url())
        t.ok(r.status_code == 200 and r.url == rp1.logged_out and "logged out of rp1" in r.text,
             "rp logout: lands on rp1's post-logout page",
             "%d %s\n%s\n%s" % (r.status_code, r.url, r.text[:300], rp1.error_log()[-1500:]))
        ends = sent_to(b, start, self.issuer + "/oidc/logout?")
        q = query(ends[0].url) if ends else {}
        t.ok(q.get("id_token_hint") and q.get("post_logout_redirect_uri") == rp1.logged_out,
             "rp logout: the module sent id_token_hint and post_logout_redirect_uri to "
             "Sekisho's end_session_endpoint", sorted(q))
        self.secrets.add(q.get("id_token_hint"))
        t.ok(not sent_to(b, start, self.issuer + "/logout"),
             "rp logout: no confirmation page (the hint names the session)")
        r = b.get(self.issuer + "/portal")
        t.ok(self.is_login_page(b, r), "rp logout: the Sekisho session has ended (portal asks "
             "for a login)", "%d %s" % (r.status_code, r.url))
        t.ok(self.rp_session_ended(b, rp1), "rp logout: rp1's session has ended")
        self.audit_has("oidc.logout", "user=alice", "client=" + rp1.client_id)

    # 5
    def backchannel_logout(self):
        t, rp1, rp3 = self.t, self.rp1, self.rp3
        b = self.browser()
        r = b.submit_login(b.get(rp1.protected), "bob", self.users["bob"])
        self.page(rp1, r, "back-channel: bob at rp1")
        self.page(rp3, b.get(rp3.protected), "back-channel: bob at rp3 (ES256)")
        # A bystander at the same RP: only the session that ended may go.
        other = self.browser()
        r = other.submit_login(other.get(rp1.protected), "dave", self.users["dave"])
        self.page(rp1, r, "back-channel: dave at rp1")
        t.ok(not self.rp_session_ended(b, rp1), "back-channel: bob's rp1 session is live")
        r, start = self.logout_at_sekisho(b, "back-channel")
        if r is None:
            return
        t.ok(r.status_code == 200 and "Signed out" in r.text,
             "back-channel: Sekisho signs bob out", "%d %s" % (r.status_code, r.url))
        t.ok(not sent_to(b, start, rp1.url) and not sent_to(b, start, rp3.url),
             "back-channel: the browser never went to rp1 or rp3",
             [h.url for h in b.history[start:]])
        t.ok(self.wait_rp_session_ended(b, rp1),
             "back-channel: bob's rp1 session has ended", rp1.error_log()[-1500:])
        # The logout token is signed like the client's ID tokens (Back-Channel Logout 1.0
        # 2.4: same keys); a module pinned to ES256 refuses any other.
        t.ok(self.wait_rp_session_ended(b, rp3),
             "back-channel: bob's rp3 (ES256) session has ended",
             rp3.error_log()[-600:] + self.server.log()[-600:])
        t.ok(not self.rp_session_ended(other, rp1),
             "back-channel: dave's rp1 session is untouched")
        t.ok("back-channel logout delivered to " + rp1.backchannel_uri in self.server.log(),
             "back-channel: Sekisho logged the delivery")
        self.audit_has("logout", "user=bob")

    # 6
    def cross_protocol(self):
        t, rp1, sp = self.t, self.rp1, self.sp
        b = self.browser()
        r = b.get(sp.protected)
        t.ok(self.is_login_page(b, r), "cross: the SAML SP sends the browser to Sekisho's "
             "login form", "%d %s" % (r.status_code, r.url))
        r = b.submit_login(r, "carol", self.users["carol"])
        senv = mellon_env(r.text)
        t.ok(r.status_code == 200 and r.url == sp.protected and
             senv.get("MELLON_email") == USERS["carol"][0],
             "cross: carol logged in at the SAML SP",
             "%d %s\n%s" % (r.status_code, r.url, sp.error_log()[-1200:]))
        start = len(b.history)
        r = b.get(rp1.protected)
        env = self.page(rp1, r, "cross: rp1 after the SAML SP")
        t.ok(not self.asked_to_log_in(b, start), "cross: rp1 reached without the login form")
        t.eq(env.get("OIDC_CLAIM_email"), USERS["carol"][0], "cross: rp1 sees carol")
        r, start = self.logout_at_sekisho(b, "cross")
        if r is None:
            return
        t.ok(r.status_code == 200 and "Signed out" in r.text and "did not confirm" not in r.text,
             "cross: logout at Sekisho ends on its signed-out page, the SP confirmed",
             "%d %s\n%s" % (r.status_code, r.url, sp.error_log()[-1200:]))
        t.ok(sent_to(b, start, sp.url + "/mellon/logout?SAMLRequest="),
             "cross: Sekisho sent the SAML SP a LogoutRequest through the browser")
        r2 = b._req("GET", sp.protected)
        t.ok(r2.status_code in (302, 303) and "/mellon/login" in r2.headers.get("Location", ""),
             "cross: the SAML SP's session has ended", r2.status_code)
        t.ok(not sent_to(b, start, rp1.url), "cross: the browser never went to rp1")
        t.ok(self.wait_rp_session_ended(b, rp1), "cross: rp1's session has ended (back-channel)",
             rp1.error_log()[-1500:])
        r = b.get(self.issuer + "/portal")
        t.ok(self.is_login_page(b, r), "cross: the Sekisho session has ended")
        self.audit_has("logout", "user=carol", "partial=no")

    def no_leaks(self):
        for b in self.browsers:
            for h in b.history:
                if h.url.startswith(tuple(rp.redirect_uri + "?" for rp in
                                          (self.rp1, self.rp2, self.rp3))):
                    self.secrets.add(query(h.url).get("code"))
        handled = sorted(s for s in self.secrets if s and len(s) >= 8)
        text = self.server.log() + "\n".join("%s %s" % r for r in self.server.audit())
        leaked = sekisho_test.grep_secret_leaks(text, handled)
        self.t.ok(len(handled) >= 20 and not leaked,
                  "no password, client secret, code or token (%d handled) in Sekisho's log or "
                  "audit" % len(handled), [s[:12] + "..." for s in leaked] or len(handled))


def main():
    # Turn the runner's SIGTERM (timeout) into an exit, so the finally below stops apache.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t = Tap()
    began = time.time()
    server = None
    peers = []
    try:
        server = Server()
        users = {}
        for name, (email, display, _) in USERS.items():
            users[name] = secrets.token_urlsafe(12)
            server.add_user(name, users[name], email=email, display=display)
        for g in ("staff", "admins"):
            server.cli("group", "add", g)
        for name, (_, _, groups) in USERS.items():
            for g in groups:
                server.cli("group", "add-member", g, name)
        rp1 = OidcRP(server, "rp1", backchannel=True)
        rp2 = OidcRP(server, "rp2", auth="private_key_jwt")
        # Pinned as a careful deployment would: the module then refuses any other alg.
        rp3 = OidcRP(server, "rp3", id_token_alg="ES256", backchannel=True,
                     extra=["OIDCIDTokenSignedResponseAlg ES256"])
        peers += [rp1, rp2, rp3]
        peers.append(MellonSP(server, "saml"))
        s = Scenario(t, server, (rp1, rp2, rp3), peers[3], users)
        t.run("login at rp1", s.login)
        t.run("SSO", s.sso)
        t.run("private_key_jwt", s.private_key_jwt)
        t.run("ES256", s.es256)
        t.run("ID tokens checked with jwcrypto", s.verify_id_tokens)
        t.run("refresh", s.refresh)
        t.run("RP-initiated logout", s.rp_initiated_logout)
        t.run("back-channel logout", s.backchannel_logout)
        t.run("SAML and OIDC", s.cross_protocol)
        t.run("no secrets in the log", s.no_leaks)
    except Exception as e:
        t.ok(False, "set-up", "%s\n%s" % (e, server.log()[-3000:] if server else ""))
    finally:
        for p in peers:
            p.close()
        if server:
            server.close()
    print("# openidc scenario took %.1f s" % (time.time() - began))
    t.done()


if __name__ == "__main__":
    main()
