"""Hostile OAuth 2.0 / OpenID Connect input against sekishod: the "OIDC / OAuth 2.0"
section of SECURITY-TESTS.md, with "tokens never in URLs or logs".

A scripted relying party (peers/oidcforge.py) runs the authorization code flow and then
breaks it: redirect_uri and post_logout_redirect_uri games, PKCE downgrades, code reuse
and races, forged client assertions, refresh token replay and races, client secrets
with and without the URL-encoding RFC 6749 asks for, tokens in URLs, parameters that
would make the provider fetch something.  No client server runs: nothing listens at the
registered redirect URIs, so an authorization answer is read from the Location header
(or the form_post page) and never followed.

A refusal is the right OAuth error (at the token endpoint: JSON with no-store; at the
authorization endpoint: an error page, status 400 and no Location, until the
redirect_uri is known to be registered, then a redirect to it with error, state and iss),
an audit record where Sekisho writes one (checked together at the end), and no change:
the good paths around the attacks keep working.
"""
import base64
import json
import os
import re
import sys
import threading
import time
import urllib.parse

import requests
from jwcrypto import jwk, jwt

import sekisho_test as st

sys.path.insert(0, st.PEERS)
import oidcforge as of  # noqa: E402

t = st.Tap()
RACERS = 20             # concurrent redemptions / refreshes of one code / token
ROUNDS = 10             # races run, each with a new code / token
WEIRD_STATE = "st 1+&=%;/?#\u00e9\"<>'"     # must come back byte for byte


class Client:
    def __init__(self, name, client_id, secret, method, redirect_uris, logout_uris, key):
        self.name, self.id, self.secret, self.method = name, client_id, secret, method
        self.redirect_uris, self.logout_uris, self.key = redirect_uris, logout_uris, key

    @property
    def redirect_uri(self):
        return self.redirect_uris[0] if self.redirect_uris else None


class Op:
    """sekishod with the users and clients the cases need.

    Clients (nothing listens behind their URIs, all under self.rp):
      web       client_secret_basic, two redirect URIs, code + refresh, JWT access tokens
      post      client_secret_post
      public    no secret: PKCE required
      codeonly  client_secret_basic, authorization_code only (its grants have no refresh)
      opaque    client_secret_basic, opaque access tokens
      jwt_rsa, jwt_rsa2, jwt_ec   private_key_jwt (RSA, another RSA, P-256), client_credentials
    Users: alice (most cases), bob (password change), carol (disable), dave (logout)."""

    USERS = ("alice", "bob", "carol", "dave")

    def __init__(self):
        # More worker threads than the default make the races below real races.
        self.srv = st.Server(extra_config=["threads 8"])
        self.iss = self.srv.base()
        self.ep = {n: "%s/oidc/%s" % (self.iss, n) for n in
                   ("authorize", "token", "userinfo", "jwks", "introspect", "revoke", "logout")}
        self.rp_port = st.free_port()
        self.rp = "http://127.0.0.1:%d" % self.rp_port
        self.secrets = []           # everything that must never reach the log
        self.token_responses = []   # every token endpoint answer, for Cache-Control
        self.browsers = []          # their histories, for Referrer-Policy
        self.login_time = {}        # user: when a browser last logged in
        self.listener = of.Listener()
        for name in self.USERS:
            self.srv.add_user(name, self.password(name), email=name + "@example.org",
                              display=name.title())
            self.secrets.append(self.password(name))
        rp = self.rp
        self.web = self.register("web", "client_secret_basic",
                                 [rp + "/app/cb", rp + "/app/cb2"], [rp + "/bye"])
        self.post = self.register("post", "client_secret_post", [rp + "/post/cb"],
                                  [rp + "/post/bye"])
        self.public = self.register("public", "none", [rp + "/public/cb"])
        self.codeonly = self.register("codeonly", "client_secret_basic", [rp + "/codeonly/cb"],
                                      grant="authorization_code")
        self.opaque = self.register("opaque", "client_secret_basic", [rp + "/opaque/cb"],
                                    extra=["--access-token", "opaque"])
        self.jwt_rsa = self.register("jwt-rsa", "private_key_jwt", key=of.Key("RSA"),
                                     grant="client_credentials")
        self.jwt_rsa2 = self.register("jwt-rsa2", "private_key_jwt", key=of.Key("RSA"),
                                      grant="client_credentials")
        self.jwt_ec = self.register("jwt-ec", "private_key_jwt", key=of.Key("EC"),
                                    grant="client_credentials")
        self.jwks = jwk.JWKSet.from_json(requests.get(self.ep["jwks"], verify=self.srv.ca).text)
        self.audit_seen = len(self.srv.audit())

    def register(self, name, method, redirect_uris=(), logout_uris=(), grant=None, key=None,
                 extra=()):
        args = ["app", "add-oidc", name]
        for u in redirect_uris:
            args += ["--redirect-uri", u]
        for u in logout_uris:
            args += ["--post-logout-redirect-uri", u]
        if method == "none":
            args.append("--public")
        else:
            args += ["--auth", method]
        if key:
            path = os.path.join(self.srv.tmp, name + ".jwks")
            with open(path, "w") as f:
                f.write(of.jwks(key))
            args += ["--jwks", path]
        if grant:
            args += ["--grant", grant]
        client_id, secret = of.parse_registration(self.srv.cli(*args, *extra).stdout)
        if secret:
            self.secrets.append(secret)
        return Client(name, client_id, secret, method, list(redirect_uris), list(logout_uris),
                      key)

    @staticmethod
    def password(user):
        return user + "-password-1"

    def browser(self, user=None):
        """A browser that stops at redirects to the clients; logged in as user if given."""
        b = st.Browser(verify=self.srv.ca, lang="en", stop_at=(self.rp + "/",))
        self.browsers.append(b)
        if user:
            self.login_time[user] = time.time()
            r = b.submit_login(b.get(self.iss + "/login"), user, self.password(user))
            if r.status_code != 200 or b.login_form(r):
                raise RuntimeError("login as %s failed: %d" % (user, r.status_code))
        return b

    def new_audit(self):
        """Audit records written since the last call."""
        recs = self.srv.audit()
        new = recs[self.audit_seen:]
        self.audit_seen = len(recs)
        return new


# ---- requests ----

def send(op, method, url, **kw):
    """One request, redirects not followed.  The audit cursor moves first, so the records
    a refusal is judged by are its own."""
    op.new_audit()
    kw.setdefault("timeout", 30)
    return requests.request(method, url, verify=op.srv.ca, allow_redirects=False, **kw)


def credentials(op, client, form, headers, how=None):
    """Add client authentication to a token request.  how overrides the client's method;
    "raw" adds nothing (the caller's form carries whatever it carries)."""
    how = how or client.method
    if how == "client_secret_basic":
        headers["Authorization"] = of.basic(client.id, client.secret)
    elif how == "client_secret_post":
        form.update(client_id=client.id, client_secret=client.secret)
    elif how == "private_key_jwt":
        a = assertion(op, client)
        form.update(of.assertion_form(a, client.id))
    elif how == "none":
        form["client_id"] = client.id


def assertion(op, client):
    a = of.signed(client.key, of.assertion_claims(client.id, op.ep["token"]))
    op.secrets.append(a)
    return a


def post_token(op, form, headers=None, endpoint="token"):
    r = send(op, "POST", op.ep[endpoint], data=form, headers=headers or {})
    if endpoint == "token":
        op.token_responses.append(r)
        try:
            body = r.json()
        except ValueError:
            body = {}
        op.secrets += [body[k] for k in ("access_token", "refresh_token", "id_token")
                       if isinstance(body.get(k), str)]
    return r


def token(op, client, how=None, endpoint="token", **form):
    headers = {}
    credentials(op, client, form, headers, how)
    return post_token(op, form, headers, endpoint)


def redeem(op, client, code, verifier=None, redirect_uri=None, **kw):
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": redirect_uri or client.redirect_uri}
    if verifier:
        form["code_verifier"] = verifier
    form.update(kw)
    return token(op, client, **{k: v for k, v in form.items() if v is not None})


def refresh(op, client, refresh_token, **kw):
    return token(op, client, grant_type="refresh_token", refresh_token=refresh_token, **kw)


def userinfo(op, access_token):
    return send(op, "GET", op.ep["userinfo"], headers={"Authorization": "Bearer " + access_token})


def introspect(op, client, tok):
    r = token(op, client, endpoint="introspect", token=tok)
    return r.json().get("active") if r.status_code == 200 else "HTTP %d" % r.status_code


def authz_url(op, client, **params):
    """The authorization URL; params override the defaults (None drops one)."""
    q = {"client_id": client.id, "redirect_uri": client.redirect_uri, "response_type": "code",
         "scope": "openid profile email offline_access", "state": "s-" + of.b64url(os.urandom(6)),
         "nonce": "n-" + of.b64url(os.urandom(6))}
    q.update(params)
    return op.ep["authorize"] + "?" + urllib.parse.urlencode(
        [(k, v) for k, v in q.items() if v is not None])


def at_client(op, r):
    """The parameters of a redirect to a client, or None when r is something else."""
    loc = r.headers.get("Location", "")
    if r.status_code not in (302, 303) or not loc.startswith(op.rp + "/"):
        return None
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query,
                                       keep_blank_values=True))


def get_code(op, b, client, pkce=True, **params):
    """A code from a logged-in browser; (code, verifier or None, answer parameters)."""
    verifier = None
    if pkce:
        verifier, challenge = of.pkce_pair()
        op.secrets.append(verifier)
        params.setdefault("code_challenge", challenge)
        params.setdefault("code_challenge_method", "S256")
    r = b.get(authz_url(op, client, **params))
    ans = at_client(op, r)
    if not ans or "code" not in ans:
        raise RuntimeError("no code: %s" % describe(r))
    op.secrets.append(ans["code"])
    return ans["code"], verifier, ans


def get_tokens(op, b, client, **params):
    code, verifier, _ = get_code(op, b, client, **params)
    r = redeem(op, client, code, verifier)
    if r.status_code != 200:
        raise RuntimeError("redemption failed: %d %s" % (r.status_code, r.text))
    return r.json()


def error_message(r):
    m = re.search(r'<p class="error"[^>]*>(.*?)</p>', r.text, re.S)
    return m.group(1) if m else None


def describe(r):
    body = r.text
    if r.headers.get("Content-Type") == "application/json":
        # Tokens are shortened: enough to recognise one, not to use it.
        body = re.sub(r'("\w*token\w*":"[^"]{8})[^"]*"', r'\1..."', body)
    return "HTTP %d; Location %r; error page %r; body %r" % (
        r.status_code, r.headers.get("Location"), error_message(r), body[:300])


# ---- judging ----

REFUSALS = []   # (case, events one of which the audit must show, the records it wrote)


def audited(op, name, events):
    REFUSALS.append((name, events, op.new_audit()))


def page_refused(op, name, r, events=("oidc.authorize.reject",)):
    """r must be an error page: 400, no redirect, no auto-POST form."""
    problems = []
    if r.status_code != 400:
        problems.append("status %d" % r.status_code)
    if r.headers.get("Location"):
        problems.append("redirect to %s" % r.headers["Location"])
    if 'id="sekisho-post"' in r.text:
        problems.append("auto-POST form")
    if error_message(r) is None:
        problems.append("no error page")
    if events:
        audited(op, name, events)
    return t.ok(not problems, name + ": error page", "; ".join(problems) + "\n" + describe(r))


def redirect_refused(op, name, r, client, error, state):
    """r must send the client its error at its registered redirect_uri, with state and iss."""
    ans = at_client(op, r)
    loc = r.headers.get("Location", "")
    ok = (ans is not None and loc.split("?")[0] == client.redirect_uri and
          ans.get("error") == error
          and ans.get("state") == state and ans.get("iss") == op.iss and "code" not in ans)
    audited(op, name, ("oidc.authorize.reject",))
    return t.ok(ok, "%s: %s at the redirect_uri with state and iss" % (name, error),
                describe(r) + "\nparameters %r" % ans)


def json_error(r):
    try:
        return r.json().get("error")
    except ValueError:
        return None


def token_refused(op, name, r, error="invalid_grant", status=400, events=None):
    ok = r.status_code == status and json_error(r) == error
    if events:
        audited(op, name, events)
    return t.ok(ok, "%s: %d %s" % (name, status, error), describe(r))


def client_refused(op, name, r):
    ok = (r.status_code == 401 and json_error(r) == "invalid_client" and
          "WWW-Authenticate" in r.headers)
    audited(op, name, ("oidc.client_auth.fail",))
    return t.ok(ok, name + ": 401 invalid_client", describe(r) + "\nWWW-Authenticate %r" %
                r.headers.get("WWW-Authenticate"))


def works(name, r):
    return t.ok(r.status_code == 200, name, describe(r))


# ---- the cases ----

def registration(op, alice):
    """Non-https redirect URIs are refused at registration (loopback excepted), and a
    refused registration leaves nothing behind."""
    def listed(name):
        return any(line.split("\t")[0] == name
                   for line in op.srv.cli("app", "list").stdout.splitlines())

    bad = [("plain http", "http://rp.example/cb"),
           ("http to a name starting with localhost", "http://localhost.rp.example/cb"),
           ("http to a name starting with 127.0.0.1", "http://127.0.0.1.rp.example/cb"),
           ("http to a name starting with [::1]", "http://[::1].rp.example/cb"),
           ("user info before a loopback host", "http://127.0.0.1@rp.example/cb"),
           ("user info before the host", "https://localhost@rp.example/cb"),
           ("fragment", "https://rp.example/cb#x"),
           ("javascript", "javascript:alert(1)"),
           ("another scheme", "ftp://rp.example/cb"),
           ("scheme-relative", "//rp.example/cb"),
           ("relative", "/cb"),
           ("empty host", "https:///cb"),
           ("white space", "https://rp.example/c b")]
    for i, (what, uri) in enumerate(bad):
        name = "bad-redirect-%d" % i
        r = op.srv.cli("app", "add-oidc", name, "--redirect-uri", uri, check=False)
        t.ok(r.returncode != 0 and not listed(name),
             "registration refuses redirect URI (%s) %s" % (what, uri), r.stdout + r.stderr)
    r = op.srv.cli("app", "add-oidc", "bad-mixed", "--redirect-uri", op.rp + "/ok",
                   "--redirect-uri", "http://rp.example/cb", check=False)
    t.ok(r.returncode != 0 and not listed("bad-mixed"),
         "one bad redirect URI among good ones refuses the registration", r.stdout + r.stderr)
    r = op.srv.cli("app", "add-oidc", "bad-logout", "--redirect-uri", op.rp + "/ok",
                   "--post-logout-redirect-uri", "http://rp.example/bye", check=False)
    t.ok(r.returncode != 0 and not listed("bad-logout"),
         "registration refuses a plain http post_logout_redirect_uri", r.stdout + r.stderr)
    # private_key_jwt: one algorithm per client, public keys only, strong enough.
    private = of.Key("RSA")
    for i, (what, doc) in enumerate((("RSA and EC keys mixed (no single algorithm)",
                       of.jwks(of.Key("RSA"), of.Key("EC"))),
                      ("a private key", json.dumps({"keys": [dict(
                          private.jwk.export_private(as_dict=True), use="sig")]})),
                      ("RSA-1024", of.jwks(of.Key("RSA", size=1024))),
                      ("RSA exponent 1 (signatures forgeable)", json.dumps({"keys": [dict(
                          private.public_jwk(), e="AQ")]})),
                      ("EC P-384", of.jwks(of.Key("EC", crv="P-384"))),
                      ("no keys", json.dumps({"keys": []})))):
        name = "bad-jwks-%d" % i
        path = os.path.join(op.srv.tmp, name + ".jwks")
        with open(path, "w") as f:
            f.write(doc)
        r = op.srv.cli("app", "add-oidc", name, "--auth", "private_key_jwt", "--jwks", path,
                       "--grant", "client_credentials", check=False)
        t.ok(r.returncode != 0 and not listed(name),
             "registration refuses a JWKS with " + what, r.stdout + r.stderr)
    for i, uri in enumerate(("http://127.0.0.1:8123/cb", "http://[::1]:8123/cb",
                             "http://localhost:8123/cb", "https://rp.example/cb?x=1")):
        name = "good-redirect-%d" % i
        r = op.srv.cli("app", "add-oidc", name, "--redirect-uri", uri, check=False)
        t.ok(r.returncode == 0 and listed(name), "registration accepts " + uri,
             r.stdout + r.stderr)
        op.secrets.append(of.parse_registration(r.stdout)[1])


def redirect_uri_games(op, alice):
    """Anything but a byte-exact registered redirect_uri is an error page, never a
    redirect, even for a logged-in user (who would otherwise get a code)."""
    good = op.web.redirect_uri
    host = "127.0.0.1:%d" % op.rp_port
    variants = [
        ("path case", "http://%s/APP/cb" % host),
        ("scheme case", "HTTP://%s/app/cb" % host),
        ("suffix", good + "x"),
        ("extra segment", good + "/x"),
        ("added query", good + "?next=/"),
        ("empty query", good + "?"),
        ("fragment", good + "#x"),
        ("@ in the path", good + "@rp.example"),
        ("user info", "http://%s@rp.example/app/cb" % host),
        ("user info before the host", "http://rp.example@%s/app/cb" % host),
        ("%2e%2e", "http://%s/app/%%2e%%2e/app/cb" % host),
        ("%2e", "http://%s/app/%%2e/cb" % host),
        ("encoded slash", "http://%s/app%%2Fcb" % host),
        ("..;/", "http://%s/x/..;/app/cb" % host),
        ("dot segments", "http://%s/x/../app/cb" % host),
        ("trailing slash", good + "/"),
        ("other port", "http://127.0.0.1:%d/app/cb" % (op.rp_port + 1)),
        ("https for http", "https://%s/app/cb" % host),
        ("localhost for 127.0.0.1", "http://localhost:%d/app/cb" % op.rp_port),
        ("trailing dot in the host", "http://127.0.0.1.:%d/app/cb" % op.rp_port),
        ("trailing space", good + " "),
        ("another client's URI", op.post.redirect_uri),
        ("empty", ""),
    ]
    for what, uri in variants:
        r = send(op, "GET", authz_url(op, op.web, redirect_uri=uri),
                 cookies=alice.s.cookies)
        page_refused(op, "redirect_uri %s (%r)" % (what, uri), r)
    r = send(op, "GET", authz_url(op, op.web, redirect_uri=None), cookies=alice.s.cookies)
    page_refused(op, "redirect_uri missing", r)
    # A registered URI with a trailing NUL does not even parse.
    r = send(op, "GET", authz_url(op, op.web).replace(
        urllib.parse.quote(good, safe=""), urllib.parse.quote(good, safe="") + "%00"),
        cookies=alice.s.cookies)
    page_refused(op, "redirect_uri with an encoded NUL", r, ("request.reject",))
    base = authz_url(op, op.web, redirect_uri=None)
    for what, pair in (("twice the registered one", (good, good)),
                       ("registered then foreign", (good, "https://rp.example/cb")),
                       ("foreign then registered", ("https://rp.example/cb", good))):
        q = "".join("&redirect_uri=" + urllib.parse.quote(u, safe="") for u in pair)
        r = send(op, "GET", base + q, cookies=alice.s.cookies)
        page_refused(op, "duplicated redirect_uri (%s)" % what, r, ("request.reject",))
    # Errors the client would otherwise hear about stay pages while the URI is wrong.
    r = send(op, "GET", authz_url(op, op.web, redirect_uri=good + "/x", response_type="token"),
             cookies=alice.s.cookies)
    page_refused(op, "bad redirect_uri and bad response_type", r)
    r = send(op, "GET", authz_url(op, op.web, redirect_uri=good + "/x",
                                  response_mode="form_post"), cookies=alice.s.cookies)
    page_refused(op, "bad redirect_uri with response_mode=form_post", r)
    r = send(op, "GET", authz_url(op, op.web, client_id="no-such-client"),
             cookies=alice.s.cookies)
    page_refused(op, "unknown client_id", r)
    r = send(op, "GET", authz_url(op, op.web, client_id=None), cookies=alice.s.cookies)
    page_refused(op, "client_id missing", r)
    # The same URI games through POST.
    r = send(op, "POST", op.ep["authorize"], cookies=alice.s.cookies,
             data={"client_id": op.web.id, "redirect_uri": good + "/", "response_type": "code",
                   "scope": "openid", "state": "x"})
    page_refused(op, "redirect_uri trailing slash (POST)", r)
    # The second registered URI works and gets the code.
    code, _, ans = get_code(op, alice, op.web, redirect_uri=op.web.redirect_uris[1])
    t.ok(ans.get("iss") == op.iss, "the second registered redirect_uri gets a code")


def logout_uri_games(op, alice):
    """post_logout_redirect_uri: byte-exact for the client named by client_id or the
    id_token_hint; anything else is an error page and ends no session."""
    good = op.web.logout_uris[0]
    hint = get_tokens(op, alice, op.web)["id_token"]
    host = "127.0.0.1:%d" % op.rp_port
    variants = [("path case", "http://%s/BYE" % host), ("suffix", good + "x"),
                ("added query", good + "?x=1"), ("fragment", good + "#x"),
                ("@ in the path", good + "@rp.example"),
                ("user info", "http://%s@rp.example/bye" % host),
                ("%2e", "http://%s/x/%%2e%%2e/bye" % host), ("..;/", "http://%s/x/..;/bye" % host),
                ("trailing slash", good + "/"),
                ("other port", "http://127.0.0.1:%d/bye" % (op.rp_port + 1)),
                ("https for http", "https://%s/bye" % host),
                ("the client's redirect_uri", op.web.redirect_uri),
                ("another client's URI", op.post.logout_uris[0]), ("empty", "")]
    for what, uri in variants:
        for with_hint in (False, True):
            q = {"client_id": op.web.id, "post_logout_redirect_uri": uri, "state": "l1"}
            if with_hint:
                q["id_token_hint"] = hint
            r = send(op, "GET", op.ep["logout"] + "?" + urllib.parse.urlencode(q),
                     cookies=alice.s.cookies)
            page_refused(op, "post_logout_redirect_uri %s%s (%r)" % (
                what, " with id_token_hint" if with_hint else "", uri), r,
                ("oidc.logout.reject",))
    q = urllib.parse.urlencode({"client_id": op.web.id, "state": "l1"})
    for what, pair in (("twice the registered one", (good, good)),
                       ("registered then foreign", (good, "https://rp.example/bye"))):
        r = send(op, "GET", op.ep["logout"] + "?" + q + "".join(
            "&post_logout_redirect_uri=" + urllib.parse.quote(u, safe="") for u in pair),
            cookies=alice.s.cookies)
        page_refused(op, "duplicated post_logout_redirect_uri (%s)" % what, r,
                     ("request.reject",))
    cases = [("without client_id or hint", {"post_logout_redirect_uri": good}),
             ("hint of web, URI and client_id of post",
              {"id_token_hint": hint, "client_id": op.post.id,
               "post_logout_redirect_uri": op.post.logout_uris[0]}),
             ("hint of web, URI of post", {"id_token_hint": hint,
                                           "post_logout_redirect_uri": op.post.logout_uris[0]}),
             ("unsigned id_token_hint (alg none)",
              {"id_token_hint": of.unsigned(of.unverified_claims(hint)),
               "post_logout_redirect_uri": good}),
             ("id_token_hint signed by someone else",
              {"id_token_hint": of.signed(of.Key("RSA"), of.unverified_claims(hint)),
               "post_logout_redirect_uri": good})]
    for what, q in cases:
        r = send(op, "GET", op.ep["logout"] + "?" + urllib.parse.urlencode(q),
                 cookies=alice.s.cookies)
        page_refused(op, "logout " + what, r, ("oidc.logout.reject",))
    code, _, _ = get_code(op, alice, op.web)
    t.ok(code, "alice's session survived every refused logout")
    # Without a session the registered URI is honoured, with state.
    r = send(op, "GET", op.ep["logout"] + "?" + urllib.parse.urlencode(
        {"client_id": op.web.id, "post_logout_redirect_uri": good, "state": WEIRD_STATE}))
    ans = at_client(op, r)
    t.ok(ans is not None and r.headers["Location"].split("?")[0] == good and
         ans.get("state") == WEIRD_STATE,
         "the registered post_logout_redirect_uri is used, with state byte for byte",
         describe(r))


def authorization_answers(op, alice):
    """state byte for byte, iss in every answer (success and error, query and form_post),
    nonce in the ID token, prompt=none never a login page."""
    code, verifier, ans = get_code(op, alice, op.web, state=WEIRD_STATE, nonce=WEIRD_STATE)
    t.ok(ans.get("state") == WEIRD_STATE, "state echoed byte for byte", repr(ans))
    t.ok(ans.get("iss") == op.iss, "iss in the successful answer", repr(ans))
    r = redeem(op, op.web, code, verifier)
    works("the code redeems", r)
    tok = r.json()
    idt = jwt.JWT(jwt=tok["id_token"], key=op.jwks,
                  check_claims={"iss": op.iss, "aud": op.web.id, "exp": None})
    t.eq(json.loads(idt.claims).get("nonce"), WEIRD_STATE, "nonce copied into the ID token")
    anon = op.browser()
    errors = [("prompt=none without a session", {"prompt": "none"}, "login_required", anon),
              ("unknown prompt", {"prompt": "none sideways"}, "invalid_request", alice),
              ("prompt none with login", {"prompt": "none login"}, "invalid_request", alice),
              ("response_type token", {"response_type": "token"}, "unsupported_response_type",
               alice),
              ("response_type missing", {"response_type": None}, "unsupported_response_type",
               alice),
              ("response_type code id_token", {"response_type": "code id_token"},
               "unsupported_response_type", alice),
              ("unknown scope only", {"scope": "admin"}, "invalid_scope", alice),
              ("bad response_mode", {"response_mode": "fragment"}, "invalid_request", alice),
              ("bad max_age", {"max_age": "-1"}, "invalid_request", alice)]
    for what, params, error, b in errors:
        r = send(op, "GET", authz_url(op, op.web, state=WEIRD_STATE, **params),
                 cookies=b.s.cookies)
        redirect_refused(op, what, r, op.web, error, WEIRD_STATE)
    # prompt=none, also by POST, never shows a login page.
    r = send(op, "POST", op.ep["authorize"], data=dict(urllib.parse.parse_qsl(
        urllib.parse.urlsplit(authz_url(op, op.web, prompt="none", state="p")).query)))
    redirect_refused(op, "prompt=none by POST without a session", r, op.web, "login_required",
                     "p")
    t.ok(anon.login_form(anon.get(authz_url(op, op.web, prompt="none"))) is None,
         "prompt=none followed by a browser ends without a login page")
    code, _, ans = get_code(op, alice, op.web, prompt="none")
    t.ok(code and ans.get("iss") == op.iss, "prompt=none with a session answers with a code")
    # max_age=0 asks for a login newer than the request; with prompt=none that is an error.
    time.sleep(max(0.0, op.login_time["alice"] + 1.1 - time.time()))
    r = send(op, "GET", authz_url(op, op.web, prompt="none", max_age="0", state="ma"),
             cookies=alice.s.cookies)
    redirect_refused(op, "prompt=none with max_age=0 on an older session", r, op.web,
                     "login_required", "ma")
    code, _, _ = get_code(op, alice, op.web, prompt="none", max_age="3600")
    t.ok(code, "prompt=none with max_age=3600 on that session answers with a code")
    # form_post: the same parameters in the auto-POST form, to the registered URI only.
    verifier, challenge = of.pkce_pair()
    r = send(op, "GET", authz_url(op, op.web, response_mode="form_post", state=WEIRD_STATE,
                                  code_challenge=challenge, code_challenge_method="S256"),
             cookies=alice.s.cookies)
    form = [f for f in st.parse_forms(r.text) if f["id"] == "sekisho-post"]
    fields = form[0]["fields"] if form else {}
    op.secrets.append(fields.get("code"))
    t.ok(form and form[0]["action"] == op.web.redirect_uri and fields.get("code") and
         fields.get("state") == WEIRD_STATE and fields.get("iss") == op.iss,
         "form_post: code, state and iss posted to the redirect_uri", describe(r))
    t.ok("\"<>'" not in r.text, "form_post: state is HTML-escaped in the page")
    r = send(op, "GET", authz_url(op, op.web, response_mode="form_post", prompt="none",
                                  state=WEIRD_STATE), cookies=anon.s.cookies)
    form = [f for f in st.parse_forms(r.text) if f["id"] == "sekisho-post"]
    fields = form[0]["fields"] if form else {}
    t.ok(form and form[0]["action"] == op.web.redirect_uri and
         fields.get("error") == "login_required" and fields.get("state") == WEIRD_STATE and
         fields.get("iss") == op.iss, "form_post error: error, state and iss", describe(r))
    audited(op, "form_post prompt=none without a session", ("oidc.authorize.reject",))


def pkce(op, alice):
    """S256 only; plain or a missing method refused; public clients must use PKCE; the
    verifier must match, be well-formed, and not come without a challenge."""
    verifier, challenge = of.pkce_pair()
    for what, client, params in (
            ("plain method", op.public, {"code_challenge": verifier,
                                         "code_challenge_method": "plain"}),
            ("plain method (confidential client)", op.web,
             {"code_challenge": verifier, "code_challenge_method": "plain"}),
            ("lower-case s256", op.public, {"code_challenge": challenge,
                                            "code_challenge_method": "s256"}),
            ("challenge without a method", op.public, {"code_challenge": challenge}),
            ("method without a challenge", op.public, {"code_challenge_method": "S256"}),
            ("challenge of 42 characters", op.public,
             {"code_challenge": challenge[:42], "code_challenge_method": "S256"}),
            ("padded challenge", op.public,
             {"code_challenge": challenge + "=", "code_challenge_method": "S256"}),
            ("public client without a challenge", op.public, {})):
        r = send(op, "GET", authz_url(op, client, state="pk", **params), cookies=alice.s.cookies)
        redirect_refused(op, "PKCE " + what, r, client, "invalid_request", "pk")

    # A code issued without a challenge refuses a verifier (and stays usable).
    code, _, _ = get_code(op, alice, op.web, pkce=False)
    token_refused(op, "code_verifier without a challenge", redeem(op, op.web, code, verifier),
                  events=("oidc.token.reject",))
    works("that code still redeems without a verifier", redeem(op, op.web, code))

    code, verifier, _ = get_code(op, alice, op.public)
    other, _ = of.pkce_pair()
    token_refused(op, "wrong code_verifier", redeem(op, op.public, code, other),
                  events=("oidc.token.reject",))
    token_refused(op, "code_verifier missing (public client)", redeem(op, op.public, code),
                  events=("oidc.token.reject",))
    r = redeem(op, op.public, code, verifier)
    works("the right code_verifier works after the refusals", r)
    t.ok("refresh_token" in r.json() and "id_token" in r.json(), "public client gets its tokens",
         r.text)

    # A verifier that hashes to the challenge but breaks RFC 7636 4.1 is refused anyway.
    for what, bad in (("42 characters", "a" * 42), ("129 characters", "a" * 129),
                      ("a '+' in it", "+" * 43), ("a space in it", "a" * 42 + " "),
                      ("a '=' in it", "a" * 42 + "="), ("non-ASCII", "\u00e9" * 43)):
        code, _, _ = get_code(op, alice, op.public, code_challenge=of.s256(bad))
        r = redeem(op, op.public, code, bad)
        t.ok(r.status_code == 400 and json_error(r) in ("invalid_grant", "invalid_request"),
             "code_verifier with %s: refused" % what, describe(r))


def code_reuse(op, alice):
    """The second redemption fails and takes what the first produced with it."""
    for client in (op.web, op.opaque, op.codeonly):
        code, verifier, _ = get_code(op, alice, client)
        first = redeem(op, client, code, verifier)
        works("%s: first redemption" % client.name, first)
        tok = first.json()
        works("%s: its access token works before the reuse" % client.name,
              userinfo(op, tok["access_token"]))
        token_refused(op, "%s: second redemption" % client.name,
                      redeem(op, client, code, verifier), events=("oidc.code.reuse",))
        r = userinfo(op, tok["access_token"])
        t.ok(r.status_code == 401, "%s: after the reuse, the first access token is dead at "
             "userinfo" % client.name, describe(r))
        t.eq(introspect(op, client, tok["access_token"]), False,
             "%s: after the reuse, introspection says the access token is inactive" %
             client.name)
        if "refresh_token" in tok:
            token_refused(op, "%s: after the reuse, the first refresh token" % client.name,
                          refresh(op, client, tok["refresh_token"]))
            t.eq(introspect(op, client, tok["refresh_token"]), False,
                 "%s: after the reuse, introspection says the refresh token is inactive" %
                 client.name)
    token_refused(op, "a made-up code", redeem(op, op.web, of.b64url(os.urandom(32))),
                  events=("oidc.token.reject",))
    # A duplicated parameter is refused before anything is looked at (the code survives).
    code, verifier, _ = get_code(op, alice, op.web)
    body = urllib.parse.urlencode({"grant_type": "authorization_code", "code": code,
                                   "redirect_uri": op.web.redirect_uri,
                                   "code_verifier": verifier})
    for what, extra in (("code", "&code=" + code), ("redirect_uri", "&redirect_uri=" +
                        urllib.parse.quote("https://rp.example/cb", safe="")),
                        ("grant_type", "&grant_type=client_credentials")):
        r = post_token(op, body + extra, {"Authorization": of.basic(op.web.id, op.web.secret),
                                          "Content-Type": "application/x-www-form-urlencoded"})
        t.ok(r.status_code == 400 and (json_error(r) == "invalid_request" or error_message(r)),
             "token request with a duplicated %s: 400" % what, describe(r))
        audited(op, "token request with a duplicated " + what, ("request.reject",))
    works("the code redeems after those", redeem(op, op.web, code, verifier))


def race(n, fn):
    """fn() from n threads released together; the responses."""
    barrier = threading.Barrier(n)
    out = [None] * n

    def run(i):
        barrier.wait()
        try:
            out[i] = fn()
        except requests.RequestException as e:
            out[i] = e
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return out


def statuses(responses):
    """A summary such as {'200': 1, '400 invalid_grant (the grant was revoked)': 19}."""
    out = {}
    for r in responses:
        if isinstance(r, Exception):
            key = repr(r)
        else:
            body = r.json() if r.headers.get("Content-Type") == "application/json" else {}
            key = " ".join(str(x) for x in (r.status_code, body.get("error"),
                                             body.get("error_description") and
                                             "(%s)" % body["error_description"]) if x)
        out[key] = out.get(key, 0) + 1
    return out


def code_race(op, alice):
    """RACERS redemptions of one fresh code at once, ROUNDS times: exactly one 200 each
    time (a lost race can be rare, hence the rounds)."""
    auth = {"Authorization": of.basic(op.web.id, op.web.secret)}
    bad = []
    for i in range(ROUNDS):
        code, verifier, _ = get_code(op, alice, op.web)
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": op.web.redirect_uri, "code_verifier": verifier}
        out = race(RACERS, lambda: requests.post(op.ep["token"], data=form, headers=auth,
                                                 verify=op.srv.ca, timeout=60))
        wins = [r for r in out if getattr(r, "status_code", None) == 200]
        if len(wins) != 1 or not all(getattr(r, "status_code", None) in (200, 400)
                                     for r in out):
            bad.append("round %d: %r" % (i + 1, statuses(out)))
        for r in wins:
            op.secrets += [v for k, v in r.json().items() if k.endswith("token")]
            if userinfo(op, r.json()["access_token"]).status_code != 401:
                bad.append("round %d: the winner's access token outlived the reuse" % (i + 1))
    t.ok(not bad, "%d concurrent redemptions of one code, %d times: exactly one 200, the "
         "others 400, the winner's tokens revoked by the reuse" % (RACERS, ROUNDS),
         "\n".join(bad))
    op.new_audit()


def code_binding(op, alice):
    """A code belongs to its client and its redirect_uri; a refusal leaves it usable."""
    code, verifier, _ = get_code(op, alice, op.web)
    token_refused(op, "web's code redeemed by post", redeem(
        op, op.post, code, verifier, redirect_uri=op.web.redirect_uri),
        events=("oidc.token.reject",))
    client_refused(op, "web's code with web's client_id and no authentication",
                   post_token(op, {"grant_type": "authorization_code", "code": code,
                                   "redirect_uri": op.web.redirect_uri,
                                   "code_verifier": verifier, "client_id": op.web.id}))
    token_refused(op, "web's code with its other registered redirect_uri",
                  redeem(op, op.web, code, verifier, redirect_uri=op.web.redirect_uris[1]),
                  events=("oidc.token.reject",))
    token_refused(op, "web's code without redirect_uri", token(
        op, op.web, grant_type="authorization_code", code=code, code_verifier=verifier),
        events=("oidc.token.reject",))
    token_refused(op, "web's code with a trailing slash on redirect_uri",
                  redeem(op, op.web, code, verifier, redirect_uri=op.web.redirect_uri + "/"),
                  events=("oidc.token.reject",))
    works("after those refusals the code still works for web at its redirect_uri",
          redeem(op, op.web, code, verifier))
    code, verifier, _ = get_code(op, alice, op.web, redirect_uri=op.web.redirect_uris[1])
    token_refused(op, "a code issued for redirect_uri 2 redeemed with redirect_uri 1",
                  redeem(op, op.web, code, verifier), events=("oidc.token.reject",))
    works("and with redirect_uri 2 it works",
          redeem(op, op.web, code, verifier, redirect_uri=op.web.redirect_uris[1]))


def client_assertions(op, alice):
    """private_key_jwt: the algorithm is the client's, the key from its registered JWKS,
    the claims exact, the jti used once; anything else 401 invalid_client."""
    aud = op.ep["token"]
    other = "https://rp.example/token"     # another server's token endpoint
    attacker_rsa, attacker_ec = of.Key("RSA"), of.Key("EC")

    def try_it(client, a, with_id=True):
        """a as client's assertion, with or without client_id."""
        op.secrets.append(a)
        return token(op, client, how="raw", grant_type="client_credentials",
                     **of.assertion_form(a, client.id if with_id else None))

    def claims(client, **kw):
        return of.assertion_claims(client.id, aud, **kw)

    for client, attacker in ((op.jwt_rsa, attacker_rsa), (op.jwt_ec, attacker_ec)):
        n = client.name
        key = client.key
        works(n + ": a correct assertion works", try_it(client, of.signed(key, claims(client))))
        works(n + ": a correct assertion without client_id works",
              try_it(client, of.signed(key, claims(client)), with_id=False))
        works(n + ": aud = issuer works",
              try_it(client, of.signed(key, claims(client, aud=op.iss))))
        works(n + ": aud as an array of the issuer and the token endpoint works",
              try_it(client, of.signed(key, claims(client, aud=[op.iss, aud]))))
        works(n + ": aud as an array of the token endpoint alone works",
              try_it(client, of.signed(key, claims(client, aud=[aud]))))
        legit = of.signed(key, claims(client))
        c = claims(client)
        forged = [
            ("alg none", of.unsigned(claims(client), "none")),
            ("alg None", of.unsigned(claims(client), "None")),
            ("alg NONE", of.unsigned(claims(client), "NONE")),
            ("alg none with a signature by the client's key", of.compact(
                {"alg": "none"}, c, key.sign(of.signing_input({"alg": "none"}, c)))),
            ("empty signature", of.with_signature(legit, b"")),
            ("signature of another token", of.with_signature(
                of.signed(key, claims(client)), of.signed(key, claims(client)).encode())),
            ("no alg", of.compact({"kid": key.kid}, claims(client), b"sig")),
            ("HS256 keyed with the public key PEM", of.hs256(key.public_pem(), claims(client))),
            ("HS256 keyed with the public key DER", of.hs256(key.public_der(), claims(client))),
            ("HS256 keyed with the public JWK", of.hs256(
                json.dumps(key.public_jwk()).encode(), claims(client))),
            ("signed by another key", of.signed(attacker, claims(client))),
            ("signed by another key with the client's kid",
             of.signed(attacker, claims(client), kid=key.kid)),
            ("jwk header with the attacker's key",
             of.signed(attacker, claims(client), jwk=attacker.public_jwk(), kid=attacker.kid)),
            ("jku header pointing at a listener",
             of.signed(attacker, claims(client), jku=op.listener.url + "/jwks.json")),
            ("x5u header pointing at a listener",
             of.signed(attacker, claims(client), x5u=op.listener.url + "/cert.pem")),
            ("x5c header with the attacker's certificate",
             of.signed(attacker, claims(client),
                       x5c=[base64.b64encode(attacker.self_signed_der()).decode()])),
            ("jwk header with the client's own key, signed by it",
             of.signed(key, claims(client), jwk=key.public_jwk())),
            ("crit header with an unknown extension, signed by the client",
             of.signed(key, claims(client), crit=["sekisho-x"], **{"sekisho-x": 1})),
            ("wrong aud", of.signed(key, claims(client, aud=other))),
            ("aud = userinfo endpoint", of.signed(key, claims(client, aud=op.ep["userinfo"]))),
            ("aud = issuer with a trailing slash",
             of.signed(key, claims(client, aud=op.iss + "/"))),
            ("aud missing", of.signed(key, claims(client, aud=None))),
            # An assertion also addressed to another server is refused: that server holds
            # a copy it could present here first (oidc_client_auth.c, aud_ok).
            ("aud an array of only another server",
             of.signed(key, claims(client, aud=[other]))),
            ("aud an array of the token endpoint and another server",
             of.signed(key, claims(client, aud=[aud, other]))),
            ("aud an array of another server and the issuer",
             of.signed(key, claims(client, aud=[other, op.iss]))),
            ("aud an empty array", of.signed(key, claims(client, aud=[]))),
            ("aud an array of the token endpoint and a number",
             of.signed(key, claims(client, aud=[aud, 1]))),
            ("aud an array holding an array of the token endpoint",
             of.signed(key, claims(client, aud=[[aud]]))),
            ("aud a number", of.signed(key, claims(client, aud=1))),
            ("iss of another client", of.signed(key, claims(client, iss=op.jwt_rsa2.id))),
            ("sub of another client", of.signed(key, claims(client, sub=op.jwt_rsa2.id))),
            ("iss missing", of.signed(key, claims(client, iss=None))),
            ("expired", of.signed(key, claims(client, exp=int(time.time()) - 300))),
            ("exp missing", of.signed(key, claims(client, exp=None))),
            ("exp as a string", of.signed(key, claims(client, exp=str(int(time.time()) + 60)))),
            ("exp 15 minutes ahead (> 10 min)", of.signed(key, claims(client, lifetime=900))),
            ("exp a year ahead", of.signed(key, claims(client, lifetime=365 * 86400))),
            ("iat 10 minutes ahead", of.signed(key, claims(client,
                                                           iat=int(time.time()) + 600))),
            ("nbf 10 minutes ahead", of.signed(key, claims(client,
                                                           nbf=int(time.time()) + 600))),
            ("jti missing", of.signed(key, claims(client, jti=None))),
            ("jti empty", of.signed(key, claims(client, jti=""))),
        ]
        if key.ec:
            zero = of.with_signature(of.signed(key, claims(client)), b"\0" * 64)
            order = of.P256_ORDER.to_bytes(32, "big")
            body = of.signed(key, claims(client)).rsplit(".", 1)[0]
            forged += [
                ("ES256 r = s = 0", zero),
                ("ES256 r = s = 0 with alg in lower case",
                 of.with_signature(of.signed(key, claims(client), alg="es256"), b"\0" * 64)),
                ("ES256 r = s = n", of.with_signature(legit, order + order)),
                ("ES256 signature in DER", body + "." + of.b64url(key.sign_der(body.encode()))),
                ("ES256 signature with a byte more",
                 body + "." + of.b64url(key.sign(body.encode()) + b"\0")),
                ("RS256 by an RSA key (alg pinned to ES256)", of.signed(attacker_rsa,
                                                                       claims(client)))]
        else:
            body = of.signed(key, claims(client), alg="PS256").rsplit(".", 1)[0]
            forged += [
                ("PS256 by the client's own key (alg pinned to RS256)",
                 body + "." + of.b64url(key.sign_pss(body.encode()))),
                ("ES256 by an EC key (alg pinned to RS256)", of.signed(attacker_ec,
                                                                      claims(client)))]
        for what, a in forged:
            client_refused(op, "%s: assertion with %s" % (n, what), try_it(client, a))
        client_refused(op, n + ": assertion with alg none and no client_id",
                       try_it(client, of.unsigned(claims(client)), with_id=False))

        once = of.signed(key, claims(client))
        works(n + ": an assertion works once", try_it(client, once))
        client_refused(op, n + ": the same assertion again (jti replayed)", try_it(client, once))
        again = of.signed(key, claims(client, jti=of.unverified_claims(once)["jti"],
                                      exp=int(time.time()) + 200))
        client_refused(op, n + ": a new assertion with a used jti", try_it(client, again))
        works(n + ": a correct assertion still works after all that",
              try_it(client, of.signed(key, claims(client))))

    # Client A's assertion is no good for client B (same algorithm, both RSA).
    a_key, b = op.jwt_rsa.key, op.jwt_rsa2
    client_refused(op, "jwt-rsa's assertion sent with client_id jwt-rsa2",
                   try_it(b, of.signed(a_key, claims(op.jwt_rsa))))
    client_refused(op, "an assertion for jwt-rsa2 signed with jwt-rsa's key",
                   try_it(b, of.signed(a_key, claims(b))))
    client_refused(op, "an assertion for jwt-rsa2 signed with jwt-rsa's key, no client_id",
                   try_it(b, of.signed(a_key, claims(b)), with_id=False))
    client_refused(op, "iss jwt-rsa, sub jwt-rsa2, no client_id",
                   try_it(b, of.signed(a_key, claims(op.jwt_rsa, sub=b.id)), with_id=False))
    client_refused(op, "a valid assertion sent for a client_secret_basic client",
                   try_it(op.web, of.signed(a_key, claims(op.web))))
    r = token(op, op.jwt_rsa, how="raw", grant_type="client_credentials",
              client_assertion_type="urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
              client_assertion=of.signed(a_key, claims(op.jwt_rsa)), client_id=op.jwt_rsa.id)
    client_refused(op, "a client_assertion_type other than jwt-bearer", r)
    time.sleep(0.3)
    t.eq(op.listener.hits, 0, "no connection to the jku/x5u listener")


def client_secrets(op, alice):
    """client_secret_basic is base64(urlencode(id) ":" urlencode(secret)) (RFC 6749 2.3.1):
    Sekisho decodes.  Its secrets are base64url, which form-encoding leaves as they are, so
    clients that send them raw (curl -u, many SDKs) work too; percent-encoded characters
    still decode.  Clients use their own method."""
    c1 = op.register("basic-0", "client_secret_basic", grant="client_credentials")
    cc = {"grant_type": "client_credentials"}

    def basic(client, value):
        return post_token(op, dict(cc), {"Authorization": value})

    s = c1.secret
    t.ok(re.fullmatch(r"[A-Za-z0-9_-]{43}", s), "the secret is 43 characters of base64url", s)
    every = "".join("%%%02X" % b for b in s.encode())
    works("secret sent raw in Basic: authenticates", basic(c1, of.basic(c1.id, s, encode=False)))
    works("secret form-encoded in Basic (no change): authenticates", basic(c1, of.basic(c1.id, s)))
    works("every character percent-encoded: authenticates (form-decoded)",
          basic(c1, of.basic(c1.id, every, encode=False)))
    works("percent-encoded with lower-case hex: authenticates",
          basic(c1, of.basic(c1.id, every.lower(), encode=False)))
    client_refused(op, "a '+' for a character (decodes to a space): refused",
                   basic(c1, of.basic(c1.id, s[:5] + "+" + s[6:], encode=False)))
    client_refused(op, "secret double-encoded: refused", basic(c1, of.basic(
        c1.id, urllib.parse.quote(every, safe=""), encode=False)))
    wrong = s[:10] + ("B" if s[10] == "A" else "A") + s[11:]
    client_refused(op, "wrong secret (one character changed)", basic(c1, of.basic(c1.id, wrong)))
    client_refused(op, "secret with a character more", basic(c1, of.basic(c1.id, s + "A")))
    client_refused(op, "empty secret", basic(c1, of.basic(c1.id, "")))
    client_refused(op, "another client's secret", basic(c1, of.basic(c1.id, op.web.secret)))
    client_refused(op, "Basic without a colon", basic(c1, "Basic " + base64.b64encode(
        c1.id.encode()).decode()))
    client_refused(op, "Basic id differing from the body client_id", post_token(
        op, dict(cc, client_id=op.web.id), {"Authorization": of.basic(c1.id, s)}))

    # Each client authenticates the way it was registered, and one way at a time.
    client_refused(op, "client_secret_basic client using client_secret_post",
                   token(op, op.web, how="client_secret_post", **cc))
    client_refused(op, "client_secret_post client using client_secret_basic",
                   token(op, op.post, how="client_secret_basic", **cc))
    client_refused(op, "client_secret_basic client with no authentication",
                   token(op, op.web, how="none", **cc))
    client_refused(op, "private_key_jwt client using client_secret_post",
                   post_token(op, dict(cc, client_id=op.jwt_rsa.id, client_secret=s)))
    client_refused(op, "public client sending a client_secret",
                   post_token(op, dict(cc, client_id=op.public.id, client_secret=s)))
    client_refused(op, "unknown client_id", post_token(op, dict(cc, client_id="nobody")))
    r = post_token(op, dict(cc, client_id=op.web.id, client_secret=op.web.secret),
                   {"Authorization": of.basic(op.web.id, op.web.secret)})
    token_refused(op, "Basic and client_secret together", r, "invalid_request")
    r = post_token(op, dict(cc, **of.assertion_form(assertion(op, op.jwt_rsa), op.jwt_rsa.id)),
                   {"Authorization": of.basic(op.web.id, op.web.secret)})
    token_refused(op, "Basic and a client assertion together", r, "invalid_request")
    r = post_token(op, dict(cc, client_secret=op.web.secret,
                            **of.assertion_form(assertion(op, op.jwt_rsa), op.jwt_rsa.id)))
    token_refused(op, "client_secret and a client assertion together", r, "invalid_request")
    op.srv.audit_has(t, "oidc.client_auth.fail", 'reason="more than one client authentication"')
    # client_credentials: only for clients registered for it, never for public ones.
    token_refused(op, "client_credentials for a client not registered for it",
                  token(op, op.web, grant_type="client_credentials"), "unauthorized_client")
    token_refused(op, "client_credentials for a public client",
                  token(op, op.public, grant_type="client_credentials"), "unauthorized_client")
    token_refused(op, "client_credentials asking for openid",
                  token(op, c1, grant_type="client_credentials", scope="openid"),
                  "invalid_scope")
    r = token(op, c1, grant_type="client_credentials")
    t.ok(r.status_code == 200 and userinfo(op, r.json()["access_token"]).status_code == 401,
         "a client_credentials access token is no good at userinfo (no user)", describe(r))


def tokens_not_in_urls(op, alice):
    tok = get_tokens(op, alice, op.web)
    at = tok["access_token"]
    works("userinfo with the access token in the Authorization header", userinfo(op, at))
    r = send(op, "GET", op.ep["userinfo"] + "?" + urllib.parse.urlencode({"access_token": at}))
    t.ok(r.status_code in (400, 401) and "sub" not in r.text,
         "userinfo refuses the access token in the query string", describe(r))
    r = send(op, "POST", op.ep["userinfo"] + "?" + urllib.parse.urlencode({"access_token": at}))
    t.ok(r.status_code in (400, 401) and "sub" not in r.text,
         "userinfo refuses the access token in the query string of a POST", describe(r))
    r = send(op, "GET", op.ep["userinfo"] + "?" + urllib.parse.urlencode({"access_token": at}),
             headers={"Authorization": "Bearer " + at})
    t.ok(r.status_code in (400, 401), "userinfo refuses a token in the query even with the header",
         describe(r))
    r = userinfo(op, tok["refresh_token"])
    t.ok(r.status_code == 401, "userinfo refuses a refresh token as an access token", describe(r))
    r = userinfo(op, tok["id_token"])
    t.ok(r.status_code == 401, "userinfo refuses an ID token as an access token", describe(r))
    # Access tokens are ours only: forgeries built from a real one's claims are refused.
    claims = of.unverified_claims(at)
    server_key = next(k for k in op.jwks if k.get("kty") == "RSA")
    for what, forged in (("alg none", of.unsigned(claims)),
                         ("HS256 keyed with our public key", of.hs256(
                             server_key.export_to_pem(), claims)),
                         ("signed by another key", of.signed(of.Key("RSA"), claims)),
                         ("our signature on other claims", of.with_signature(
                             of.compact({"alg": "RS256"}, dict(claims, sub="admin")),
                             base64.urlsafe_b64decode(at.split(".")[2] + "==")))):
        r = userinfo(op, forged)
        t.ok(r.status_code == 401, "userinfo refuses an access token with %s" % what,
             describe(r))
        t.eq(introspect(op, op.web, forged), False,
             "introspection says an access token with %s is inactive" % what)
    # Referrer-Policy on the pages that carry or lead to a code.
    anon = op.browser()
    pages = [("login page", anon.get(authz_url(op, op.web))),
             ("redirect carrying a code", send(op, "GET", authz_url(op, op.web),
                                               cookies=alice.s.cookies)),
             ("error page", send(op, "GET", authz_url(op, op.web, redirect_uri="x"))),
             ("logout page", alice.get(op.iss + "/logout"))]
    for what, r in pages:
        t.eq(r.headers.get("Referrer-Policy"), "no-referrer", "Referrer-Policy on the " + what)
        ans = at_client(op, r)
        if ans and "code" in ans:
            op.secrets.append(ans["code"])


def others_tokens(op, alice):
    """Introspection and revocation only for the client's own tokens."""
    tok = get_tokens(op, alice, op.web)
    t.eq(introspect(op, op.post, tok["access_token"]), False,
         "post introspecting web's access token: inactive")
    t.eq(introspect(op, op.post, tok["refresh_token"]), False,
         "post introspecting web's refresh token: inactive")
    t.eq(introspect(op, op.web, tok["access_token"]), True,
         "web introspecting its own access token: active")
    for endpoint in ("introspect", "revoke"):
        r = post_token(op, {"token": tok["access_token"]}, endpoint=endpoint)
        client_refused(op, endpoint + " without client authentication", r)
    r = token(op, op.post, endpoint="revoke", token=tok["refresh_token"])
    t.ok(r.status_code == 200, "post revoking web's refresh token: 200 (RFC 7009)", describe(r))
    r = refresh(op, op.web, tok["refresh_token"])
    works("web's refresh token survived post's revocation", r)
    new = r.json()
    r = token(op, op.web, endpoint="revoke", token=new["refresh_token"])
    token_refused(op, "web's own revocation ends its grant",
                  refresh(op, op.web, new["refresh_token"]))
    t.ok(userinfo(op, new["access_token"]).status_code == 401,
         "and the grant's access token with it")


def refresh_tokens(op, alice):
    """Rotation on every use; an old token coming back revokes the grant; refusals that
    are not replays change nothing."""
    tok = get_tokens(op, alice, op.web)
    chain = [tok["refresh_token"]]
    for i in range(3):
        r = refresh(op, op.web, chain[-1])
        works("refresh %d" % (i + 1), r)
        chain.append(r.json().get("refresh_token"))
    t.ok(len(set(chain)) == len(chain) and None not in chain,
         "every refresh returns a new refresh token")
    newest_access = r.json()["access_token"]
    token_refused(op, "replaying the first refresh token", refresh(op, op.web, chain[0]),
                  events=("oidc.refresh.reuse",))
    token_refused(op, "after the replay the newest refresh token is dead",
                  refresh(op, op.web, chain[-1]))
    t.ok(userinfo(op, newest_access).status_code == 401,
         "after the replay the newest access token is dead")

    token_refused(op, "a made-up refresh token", refresh(op, op.web, of.b64url(os.urandom(32))))
    # Each refusal below must leave the refresh token usable: check right after each.
    rt = get_tokens(op, alice, op.web)["refresh_token"]
    for what, attempt, error in (
            ("web's refresh token used by post", lambda: refresh(op, op.post, rt),
             "invalid_grant"),
            ("asking for a wider scope", lambda: refresh(op, op.web, rt,
                                                         scope="openid profile groups"),
             "invalid_scope")):
        token_refused(op, what, attempt(), error)
        r = refresh(op, op.web, rt)
        works("the refresh token still works after: " + what, r)
        if r.status_code != 200:   # the grant is gone: carry on with a new one
            rt = get_tokens(op, alice, op.web)["refresh_token"]
        else:
            rt = r.json()["refresh_token"]
    r = refresh(op, op.web, rt, scope="openid")
    works("asking for a narrower scope works", r)
    t.eq(r.json().get("scope"), "openid", "the narrower scope is granted")


def refresh_race(op, alice):
    """RACERS refreshes with one token at once, ROUNDS times: exactly one 200 each time."""
    auth = {"Authorization": of.basic(op.web.id, op.web.secret)}
    bad = []
    for i in range(ROUNDS):
        form = {"grant_type": "refresh_token",
                "refresh_token": get_tokens(op, alice, op.web)["refresh_token"]}
        out = race(RACERS, lambda: requests.post(op.ep["token"], data=form, headers=auth,
                                                 verify=op.srv.ca, timeout=60))
        wins = [r for r in out if getattr(r, "status_code", None) == 200]
        if len(wins) != 1 or not all(getattr(r, "status_code", None) in (200, 400)
                                     for r in out):
            bad.append("round %d: %r" % (i + 1, statuses(out)))
        for r in wins:
            op.secrets += [v for k, v in r.json().items() if k.endswith("token")]
    t.ok(not bad, "%d concurrent refreshes with one token, %d times: exactly one 200, the "
         "others 400" % (RACERS, ROUNDS), "\n".join(bad))
    op.new_audit()


def restart(op, alice):
    """Refresh grants and used jtis are in LMDB: a restart forgets neither."""
    tok = get_tokens(op, alice, op.web)
    replayed = get_tokens(op, alice, op.web)
    r = refresh(op, op.web, replayed["refresh_token"])
    works("a refresh before the restart", r)
    once = of.signed(op.jwt_rsa.key, of.assertion_claims(op.jwt_rsa.id, op.ep["token"]))
    op.secrets.append(once)
    works("an assertion used before the restart", token(
        op, op.jwt_rsa, how="raw", grant_type="client_credentials",
        **of.assertion_form(once, op.jwt_rsa.id)))
    op.srv.restart()
    works("the access token works after the restart", userinfo(op, tok["access_token"]))
    works("the refresh token works after the restart", refresh(op, op.web, tok["refresh_token"]))
    token_refused(op, "a rotated-out refresh token replayed after the restart",
                  refresh(op, op.web, replayed["refresh_token"]), events=("oidc.refresh.reuse",))
    client_refused(op, "jwt-rsa: an assertion used before the restart, again after it",
                   token(op, op.jwt_rsa, how="raw", grant_type="client_credentials",
                         **of.assertion_form(once, op.jwt_rsa.id)))
    code, _, _ = get_code(op, alice, op.web)
    t.ok(code, "alice's SSO session survived the restart")


def logout_form(op, b):
    """Sekisho's own logout: its page, then its form posted."""
    page = b.get(op.iss + "/logout")
    form = [f for f in st.parse_forms(page.text) if "csrf" in f["fields"]]
    if not form:
        raise RuntimeError("no logout form: %s" % describe(page))
    return b.post(urllib.parse.urljoin(page.url, form[0]["action"]), form[0]["fields"])


def rp_logout(op, b, id_token):
    """RP-initiated logout with the session's ID token as hint."""
    r = b.get(op.ep["logout"] + "?" + urllib.parse.urlencode(
        {"id_token_hint": id_token, "post_logout_redirect_uri": op.web.logout_uris[0],
         "state": "bye"}))
    if not r.headers.get("Location", "").startswith(op.web.logout_uris[0]):
        raise RuntimeError("no redirect to the post_logout_redirect_uri: %s" % describe(r))
    return r


def refresh_dies(op, alice):
    """A grant ends with its session at logout (Sekisho's form or RP-initiated), and with
    the user's password or account.  A code handed out before, redeemed after, must not
    bring a live grant back either."""
    ends = [("dave", "Sekisho's logout form", lambda b, tok: logout_form(op, b)),
            ("dave", "RP-initiated logout", lambda b, tok: rp_logout(op, b, tok["id_token"])),
            ("bob", "`sekisho user passwd`", lambda b, tok: op.srv.cli(
                "user", "passwd", "bob", "--password-stdin", input="bob-new-password-2\n")),
            ("carol", "`sekisho user disable`", lambda b, tok: op.srv.cli(
                "user", "disable", "carol"))]
    op.secrets.append("bob-new-password-2")
    for user, what, end in ends:
        b = op.browser(user)
        tok = get_tokens(op, b, op.web)
        r = refresh(op, op.web, tok["refresh_token"])
        works("%s: the refresh token works before %s" % (user, what), r)
        tok = dict(tok, **r.json())
        # A grant without refresh token (codeonly) must end too.
        codeonly_at = get_tokens(op, b, op.codeonly)["access_token"]
        code, verifier, _ = get_code(op, b, op.web)
        end(b, tok)
        token_refused(op, "%s: the refresh token after %s" % (user, what),
                      refresh(op, op.web, tok["refresh_token"]))
        t.ok(userinfo(op, tok["access_token"]).status_code == 401,
             "%s: the access token after %s is dead" % (user, what))
        r = userinfo(op, codeonly_at)
        t.ok(r.status_code == 401, "%s: codeonly's access token after %s is dead" % (user, what),
             describe(r))
        r = redeem(op, op.web, code, verifier)
        late = r.json() if r.status_code == 200 else {}
        alive = [k for k, ok in (
            ("refresh token", "refresh_token" in late and
             refresh(op, op.web, late["refresh_token"]).status_code == 200),
            ("access token", "access_token" in late and
             userinfo(op, late["access_token"]).status_code == 200)) if ok]
        t.ok(not alive, "%s: a code from before %s yields no live tokens after it" %
             (user, what), "redemption: %s\nstill alive: %s" % (describe(r), alive))
        if "logout" in what:
            t.ok(b.login_form(b.get(authz_url(op, op.web))) is not None,
                 "%s: after %s the browser is asked to log in again" % (user, what))


def no_outbound_fetch(op, alice):
    """request_uri and request are refused without being fetched or read."""
    before = op.listener.hits
    r = send(op, "GET", authz_url(op, op.web, state="ru",
                                  request_uri=op.listener.url + "/request.jwt"),
             cookies=alice.s.cookies)
    redirect_refused(op, "request_uri", r, op.web, "request_uri_not_supported", "ru")
    evil = {"iss": op.web.id, "aud": op.iss, "client_id": op.web.id,
            "redirect_uri": "https://rp.example/cb", "response_type": "code", "scope": "openid"}
    for what, req in (("unsigned", of.unsigned(evil)),
                      ("with a jku to the listener",
                       of.signed(of.Key("EC"), evil, jku=op.listener.url + "/jwks"))):
        r = send(op, "GET", authz_url(op, op.web, state="rq", request=req),
                 cookies=alice.s.cookies)
        redirect_refused(op, "request object " + what, r, op.web, "request_not_supported", "rq")
    time.sleep(0.3)
    t.eq(op.listener.hits - before, 0, "nothing connected to the listener")


def closing(op, alice):
    missing = ["%s (wanted %s)" % (name, " or ".join(events)) for name, events, recs in REFUSALS
               if not any(e in events for e, _ in recs)]
    t.ok(not missing, "each of %d refusals left an audit record" % len(REFUSALS),
         "\n".join(missing))
    works("a normal flow still works at the end", redeem(op, op.web, *get_code(
        op, alice, op.web)[:2]))
    bad_cc = [r for r in op.token_responses if r.headers.get("Cache-Control") != "no-store"]
    t.ok(op.token_responses and not bad_cc,
         "all %d token endpoint answers carry Cache-Control: no-store" % len(op.token_responses),
         "\n".join(describe(r) for r in bad_cc[:5]))
    pages = [r for b in op.browsers for r in b.history
             if r.url.startswith(op.srv.url) and not r.url.startswith(op.srv.url + "/static/")]
    bad_rp = [r.url for r in pages if r.headers.get("Referrer-Policy") != "no-referrer"]
    t.ok(pages and not bad_rp, "all %d pages the browsers saw carry Referrer-Policy: no-referrer"
         % len(pages), "\n".join(bad_rp[:5]))
    died = [line for line in op.srv.log().splitlines() if "worker exited" in line]
    t.ok(not died, "the worker never died", "\n".join(died))
    text = op.srv.log() + op.srv.cli("audit").stdout
    seen = sorted(set(s for s in op.secrets if s))
    leaks = st.grep_secret_leaks(text, seen)
    t.ok(not leaks, "none of %d tokens, codes, verifiers, assertions, secrets and passwords "
         "appears in the log or the audit trail" % len(seen),
         "\n".join(s[:60] for s in leaks))


def main():
    op = Op()
    try:
        alice = op.browser("alice")
        cases = [("registration", registration), ("redirect_uri games", redirect_uri_games),
                 ("post_logout_redirect_uri games", logout_uri_games),
                 ("authorization answers", authorization_answers), ("PKCE", pkce),
                 ("code reuse", code_reuse), ("code race", code_race),
                 ("code binding", code_binding), ("client assertions", client_assertions),
                 ("client secrets", client_secrets), ("tokens not in URLs", tokens_not_in_urls),
                 ("others' tokens", others_tokens), ("refresh tokens", refresh_tokens),
                 ("refresh race", refresh_race), ("restart", restart),
                 ("refresh dies", refresh_dies), ("no outbound fetch", no_outbound_fetch),
                 ("closing checks", closing)]
        for name, fn in cases:
            start = time.monotonic()
            t.run(name, fn, op, alice)
            print("# %s: %.1f s" % (name, time.monotonic() - start), flush=True)
    finally:
        if t.failed:
            print("# last server log lines:")
            for line in op.srv.log().splitlines()[-15:]:
                print("#   " + line)
        op.listener.close()
        op.srv.close()
    t.done()


main()
