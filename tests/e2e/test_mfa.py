#!/usr/bin/python3
"""End to end: second factors at login (issue 10), against apache2 + mod_auth_mellon (apps
"hr", and "strict", which asks for the REFEDS MFA class in its AuthnRequests) and apache2
+ mod_auth_openidc ("wiki"), Debian's and unmodified, and an OIDC client played by the test
("step").  TOTP codes come from oathtool, never from Sekisho; sekishod's clock stands still
(libfaketime), so no check depends on how fast the machine is.

Covered: `sekisho user otp add` prints one otpauth line; a user with TOTP gets no session
from the password alone (login/factor, no session cookie, the portal sends back to login);
with the code the assertion says https://refeds.org/profile/mfa (a password-only user still
gets PasswordProtectedTransport) and the ID token amr pwd otp mfa and acr REFEDS MFA; a code
is accepted once (a second login in the same step with the same code is refused, an older
step too; of five browsers posting one code at once exactly one gets in); a session that
proved MFA carries it to the next apps by SSO; recovery codes made on the account page work
once each, for their own user only, and are audited; wrong codes count toward the user's
lockout (429 with Retry-After, then the right code and the password are refused too until
the lockout time has passed); the step between password and code ends after 10 minutes;
acr_values and RequestedAuthnContext asking for MFA step an existing password-only session
up (prompt=none and IsPassive get an error instead; a user without a factor is never claimed
to have MFA); a part 5 `mfa` rule sends a user with TOTP to the factor page, refuses a user
without a factor (403, access.mfa_missing) and, with --enroll, enrols TOTP at login; no
secret or code in Sekisho's log or audit trail.
"""
import concurrent.futures
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time
import urllib.parse

import access_common as ac
import mfa_common as mc
from sekisho_test import Server, Tap
from peers.device import saml_response
from peers.mellon import MellonSP, parse_env as mellon_env
from peers.openidc import OidcRP, parse_env as oidc_env

# name: whether `user otp add` gives the user a TOTP token at the start
USERS = {"alice": True, "bob": False, "rita": True, "rhea": True, "stan": False, "sam": False,
         "tina": True, "paul": False, "eve": False, "lou": True, "rex": True}
RACERS = 5              # browsers posting one code at once (fewer than the lockout)
LOCKOUT_AFTER = 5
LOCKOUT_TIME = 60


class Scenario:
    def __init__(self, t, srv, clock, pw):
        self.t = t
        self.srv = srv
        self.clock = clock
        self.pw = pw
        self.base = srv.base()
        self.otp = {}           # user: TOTP secret
        self.secrets = set(pw.values())
        self.hr = self.wiki = self.strict = self.client = None

    def audit_has(self, event, *fields):
        return self.srv.audit_has(self.t, event, *fields)

    def browser(self, stop_at=()):
        return ac.browser(self.srv, stop_at=stop_at)

    def add_otp(self, user, label="token"):
        out, secret = mc.otp_add(self.srv, user, label)
        self.otp[user] = secret
        self.secrets.add(secret)
        return out

    def code(self, user):
        return self.clock.next_code(user, self.otp[user])

    # ---- the steps of a login ----

    def password(self, b, url, user):
        """b opens url (an app's protected page or Sekisho's login page) and gives user's
        password on Sekisho's login form: (answer, history index before, the form's r)."""
        start = len(b.history)
        r = b.get(url)
        form = b.login_form(r)
        if form is None:
            raise RuntimeError("%s: no login form at %s (%d)\n%s" % (user, r.url, r.status_code,
                                                                   r.text[:500]))
        pending = form["fields"].get("r", "")
        return b.submit_login(r, user, self.pw[user]), start, pending

    def factor_asked(self, b, r, start, pending, what):
        """Checks: the password was answered with a redirect to login/factor?r=PENDING (the
        app's request kept), no session started, the factor page has the otp form."""
        t = self.t
        status, loc = mc.password_answer(b, start, self.base)
        if pending:
            want = self.base + "/login/factor?r=" + pending
            good = status == 303 and loc == want
        else:
            want = self.base + "/login/factor"
            good = status == 303 and (loc == want or loc.startswith(want + "?r="))
        t.ok(good, "%s: the password is answered 303 to %s" % (what, want),
             "%s %s" % (status, loc))
        t.ok(ac.session_cookie(b) is None and b.s.cookies.get(mc.STEP_COOKIE),
             "%s: after the password alone no session cookie, a step cookie" % what,
             sorted(c.name for c in b.s.cookies))
        form = mc.factor_form(r)
        return t.ok(r.status_code == 200 and r.url == loc and form is not None and
                    "password" not in form["fields"] and
                    (not pending or form["fields"].get("r") == pending),
                    "%s: the factor page has the form with otp, csrf and r" % what,
                    "%d %s\n%s" % (r.status_code, r.url, r.text[:800]))

    def at_app(self, app, r):
        """app's protected page (a dict of its variables), or None."""
        if r.status_code != 200 or r.url != app.protected:
            return None
        env = (mellon_env if isinstance(app, MellonSP) else oidc_env)(r.text)
        return env if env.get("REMOTE_USER") else None

    def no_factor_page(self, b, start):
        return not ac.sent_to(b, start, self.base + "/login/factor")

    def saml_class(self, b, app, want, what):
        """b's last assertion to app says want (the browser's first login to app)."""
        xml = saml_response(b, app.url)
        got = mc.class_refs(xml) if xml else None
        return self.t.eq(got, [want], "%s: the assertion's AuthnContextClassRef is %s"
                         % (what, want))


def part_provision(s):
    t, srv = s.t, s.srv
    for user, has in USERS.items():
        if not has:
            continue
        out = s.add_otp(user)
        if user == "alice":
            t.ok(re.fullmatch(r"otpauth://totp/[^\s?]+\?\S*secret=[A-Z2-7]+\S*\n", out) and
                 "issuer=" in out, "user otp add alice --label token: one otpauth://totp/ "
                 "line with the secret and the issuer", out)
    s.audit_has("admin.user.otp_add", "user=alice")
    r = srv.cli("user", "factors", "alice", check=False)
    t.ok(r.returncode == 0 and re.search(r"^\S+ totp token created=\S+", r.stdout, re.M) and
         "pending" not in r.stdout, "user factors alice: the token, active", r.stdout + r.stderr)


def part_mellon(s):
    """alice (TOTP) through mod_auth_mellon."""
    t, hr = s.t, s.hr
    b = s.browser()
    r = b._req("GET", s.base + "/login/factor")
    t.ok(r.status_code == 303 and urllib.parse.urljoin(r.url, r.headers.get("Location", ""))
         == s.base + "/login", "login/factor with neither a step cookie nor a session: "
         "303 to login", "%d %s" % (r.status_code, r.headers.get("Location")))
    r, start, pending = s.password(b, hr.protected, "alice")
    t.ok(pending, "hr: the login page carries the parked SAML request (r)")
    s.factor_asked(b, r, start, pending, "hr alice")
    # Without the factor there is no session: the portal sends back to the login page.
    p = b._req("GET", s.base + "/portal")
    t.ok(p.status_code == 303 and urllib.parse.urljoin(p.url, p.headers.get("Location", ""))
         == s.base + "/login", "hr alice: before the code the portal redirects to login",
         "%d %s" % (p.status_code, p.headers.get("Location")))
    r = mc.submit_factor(b, r, s.code("alice"))
    env = s.at_app(hr, r)
    t.ok(env and env["REMOTE_USER"], "hr alice: with the TOTP code mellon lets her in",
         "%d %s\n%s\n%s" % (r.status_code, r.url, r.text[:600], hr.error_log()[-1000:]))
    t.ok(ac.posted_to(b, start, hr.url + "/mellon/postResponse"),
         "hr alice: the SAMLResponse was posted to mellon's ACS")
    s.saml_class(b, hr, mc.MFA, "hr alice")
    t.ok(ac.session_cookie(b) and not b.s.cookies.get(mc.STEP_COOKIE),
         "hr alice: a session now, the step cookie gone", sorted(c.name for c in b.s.cookies))
    s.audit_has("login.factor.ok", "user=alice", "method=otp")
    # SSO with this session: the MFA it proved reaches the next apps without a code.
    start = len(b.history)
    r = b.get(s.strict.protected)
    t.ok(s.at_app(s.strict, r) and s.no_factor_page(b, start),
         "SSO alice: strict (asks for MFA) lets her in without another code",
         "%d %s\n%s" % (r.status_code, r.url, r.text[:300]))
    s.saml_class(b, s.strict, mc.MFA, "SSO alice: strict")
    start = len(b.history)
    env = s.at_app(s.wiki, b.get(s.wiki.protected)) or {}
    t.ok(set(env.get("OIDC_CLAIM_amr", "").split(",")) == {"pwd", "otp", "mfa"} and
         env.get("OIDC_CLAIM_acr") == mc.MFA and s.no_factor_page(b, start),
         "SSO alice: wiki gets amr pwd otp mfa and acr REFEDS MFA, no code asked", env)
    out = s.srv.cli("user", "factors", "alice", check=False).stdout
    t.ok(re.search(r"^\S+ totp token created=\S+ last_used=\d{4}-", out, re.M),
         "user factors alice: the token's last use is recorded", out)


def part_openidc(s):
    t, wiki = s.t, s.wiki
    b = s.browser()
    r, start, pending = s.password(b, wiki.protected, "alice")
    s.factor_asked(b, r, start, pending, "wiki alice")
    r = mc.submit_factor(b, r, s.code("alice"))
    env = s.at_app(wiki, r) or {}
    t.ok(env, "wiki alice: with the TOTP code mod_auth_openidc lets her in",
         "%d %s\n%s\n%s" % (r.status_code, r.url, r.text[:600], wiki.error_log()[-1000:]))
    amr = env.get("OIDC_CLAIM_amr", "")
    t.ok(set(amr.split(",")) == {"pwd", "otp", "mfa"}, "wiki alice: amr is pwd, otp, mfa", amr)
    t.eq(env.get("OIDC_CLAIM_acr"), mc.MFA, "wiki alice: acr is the REFEDS MFA profile")
    claims = mc.jwt_claims(env.get("OIDC_id_token", "")) if env else {}
    t.ok(sorted(claims.get("amr", [])) == ["mfa", "otp", "pwd"] and claims.get("acr") == mc.MFA,
         "wiki alice: the serialized ID token says the same", claims)
    s.secrets.update(v for k, v in env.items() if k in ("OIDC_access_token", "OIDC_id_token"))


def part_password_only(s):
    """bob has no factor: the password is enough, and what the apps are told is what it was
    before second factors."""
    t, hr, wiki = s.t, s.hr, s.wiki
    b = s.browser()
    r, start, _ = s.password(b, hr.protected, "bob")
    t.ok(s.at_app(hr, r) and s.no_factor_page(b, start),
         "hr bob (no factor): in with the password, no factor page",
         "%d %s\n%s" % (r.status_code, r.url, r.text[:400]))
    s.saml_class(b, hr, mc.PASSWORD_CLASS, "hr bob")
    b = s.browser()
    r, start, _ = s.password(b, wiki.protected, "bob")
    env = s.at_app(wiki, r) or {}
    t.ok(env and s.no_factor_page(b, start) and env.get("OIDC_CLAIM_amr") == "pwd" and
         env.get("OIDC_CLAIM_acr") == mc.OIDC_ACR_PASSWORD,
         "wiki bob (no factor): amr pwd, acr %s, no factor page" % mc.OIDC_ACR_PASSWORD,
         "%d %s\n%s" % (r.status_code, r.url, r.text[:600]))
    c = s.client
    b = s.browser(stop_at=(c.redirect_uri,))
    r, start, _ = s.password(b, c.authorize_url(), "bob")
    ans = c.answer(b, start)
    claims = c.redeem(ans) if "code" in ans else {}
    t.ok(claims.get("amr") == ["pwd"] and claims.get("acr") == mc.OIDC_ACR_PASSWORD,
         "step client, bob: the ID token has amr [pwd] and acr %s" % mc.OIDC_ACR_PASSWORD,
         "%r\n%r" % (ans, claims))
    # The client asks for MFA, which bob cannot give: an error for the client or the
    # password's acr, never a claim of MFA and never a page he cannot get past.
    start = len(b.history)
    r = b.get(c.authorize_url(acr_values=mc.MFA))
    ans = c.answer(b, start)
    claims = c.redeem(ans) if "code" in ans else {}
    t.ok((ans.get("error") == "access_denied" and "code" not in ans) or
         (claims.get("acr") == mc.OIDC_ACR_PASSWORD and "mfa" not in claims.get("amr", [])),
         "step client, bob (no factor) with acr_values MFA: access_denied to the client or "
         "acr password; no MFA claimed, no factor page", "%r\n%r\n%d %s" % (
             ans, claims, r.status_code, r.url))
    t.ok(s.no_factor_page(b, start), "step client, bob with acr_values MFA: no factor page")


def portal_in(s, b, r):
    return r.status_code == 200 and r.url == s.base + "/portal" and ac.session_cookie(b)


def part_replay(s):
    """rita's code, used once, is refused in a second login within the same step."""
    t, clock = s.t, s.clock
    clock.sync()
    code = clock.use("rita", s.otp["rita"], 0)
    b = s.browser()
    r, start, _ = s.password(b, s.base + "/login", "rita")
    s.factor_asked(b, r, start, None, "replay: rita's first login")
    r = mc.submit_factor(b, r, code)
    t.ok(portal_in(s, b, r), "replay: the code lets rita in the first time",
         "%d %s" % (r.status_code, r.url))
    mc.logout(s.srv, b)
    p = b._req("GET", s.base + "/portal")
    t.ok(p.status_code == 303, "replay: rita signed out (the portal sends her to login)",
         p.status_code)
    b = s.browser()
    r, start, _ = s.password(b, s.base + "/login", "rita")
    s.factor_asked(b, r, start, None, "replay: rita's second login")
    r = mc.submit_factor(b, r, code)
    t.ok(r.status_code == 401 and mc.factor_form(r) and ac.session_cookie(b) is None,
         "replay: the same code in the same step is refused (401, the form again, no "
         "session)", "%d %s\n%s" % (r.status_code, r.url, r.text[:400]))
    s.audit_has("login.factor.fail", "user=rita")
    r = mc.submit_factor(b, r, clock.code(s.otp["rita"], -1))
    t.ok(r.status_code == 401 and ac.session_cookie(b) is None,
         "replay: the previous step's code (within the skew) is refused after a later one "
         "was used", "%d %s" % (r.status_code, r.url))
    r = mc.submit_factor(b, r, clock.use("rita", s.otp["rita"], 1))
    t.ok(portal_in(s, b, r), "replay: the next step's code lets rita in",
         "%d %s\n%s" % (r.status_code, r.url, r.text[:400]))


def part_replay_race(s):
    """RACERS browsers at rex's factor page post the same code at once: one gets in."""
    t = s.t
    pages = []
    for _ in range(RACERS):
        b = s.browser()
        r, _, _ = s.password(b, s.base + "/login", "rex")
        pages.append((b, r))
    code = s.code("rex")
    with concurrent.futures.ThreadPoolExecutor(RACERS) as ex:
        got = list(ex.map(lambda br: mc.submit_factor(br[0], br[1], code), pages))
    ins = [i for i, r in enumerate(got) if portal_in(s, pages[i][0], r)]
    t.ok(len(ins) == 1 and all(r.status_code in (401, 429) for i, r in enumerate(got)
                               if i not in ins),
         "race: %d browsers post one code at once: exactly one gets in, the others are refused"
         % RACERS, [(r.status_code, r.url) for r in got])


def part_recovery(s):
    t, srv = s.t, s.srv
    b = s.browser()
    r, start, _ = s.password(b, s.base + "/login", "rhea")
    r = mc.submit_factor(b, r, s.code("rhea"))
    t.ok(portal_in(s, b, r), "recovery: rhea signs in with her TOTP code")
    page = b.get(s.base + "/account")
    form = mc.form_posting_to(page.text, "account/recovery")
    if not t.ok(page.status_code == 200 and form and "csrf" in form["fields"],
                "recovery: the account page has a form posting to account/recovery",
                "%d %s\n%s" % (page.status_code, page.url, page.text[:800])):
        return
    r = b.post(urllib.parse.urljoin(page.url, form["action"]), form["fields"])
    codes = mc.recovery_codes(r.text)
    t.ok(r.status_code == 200 and len(codes) == 10 and len(set(codes)) == 10 and
         all(re.fullmatch(r"[a-z2-7]{4}(-[a-z2-7]{4}){3}", c, re.I) for c in codes),
         "recovery: ten distinct codes xxxx-xxxx-xxxx-xxxx shown in ol#recovery-codes",
         "%d %r\n%s" % (r.status_code, codes, r.text[:600]))
    if len(codes) < 2:
        return
    s.secrets.update(codes)
    s.audit_has("account.recovery.new", "user=rhea")
    # A code at the factor page, in a new browser.
    b = s.browser()
    r, start, _ = s.password(b, s.base + "/login", "rhea")
    s.factor_asked(b, r, start, None, "recovery: rhea")
    r = mc.submit_factor(b, r, codes[0])
    t.ok(portal_in(s, b, r), "recovery: a recovery code at login/factor lets rhea in",
         "%d %s\n%s" % (r.status_code, r.url, r.text[:400]))
    s.audit_has("factor.recovery.used", "user=rhea")
    # The same code again.
    b = s.browser()
    r, start, _ = s.password(b, s.base + "/login", "rhea")
    r = mc.submit_factor(b, r, codes[0])
    t.ok(r.status_code == 401 and mc.factor_form(r) and ac.session_cookie(b) is None,
         "recovery: the same code a second time is refused (401, the form again, no session)",
         "%d %s\n%s" % (r.status_code, r.url, r.text[:400]))
    # Another, typed in lower case without hyphens, through an OIDC client: amr says otp.
    b = s.browser(stop_at=(s.client.redirect_uri,))
    r, start, _ = s.password(b, s.client.authorize_url(), "rhea")
    r = mc.submit_factor(b, r, codes[1].replace("-", "").lower())
    ans = s.client.answer(b, start)
    claims = s.client.redeem(ans) if "code" in ans else {}
    t.ok(set(claims.get("amr", [])) >= {"pwd", "otp", "mfa"} and claims.get("acr") == mc.MFA,
         "recovery: another code (lower case, no hyphens) works; the ID token has amr pwd "
         "otp mfa and acr REFEDS MFA", "%r\n%r" % (ans, claims))
    # A code of rhea's is nobody else's: alice cannot use it.
    b = s.browser()
    r, start, _ = s.password(b, s.base + "/login", "alice")
    r = mc.submit_factor(b, r, codes[2])
    t.ok(r.status_code == 401 and ac.session_cookie(b) is None,
         "recovery: alice cannot use one of rhea's codes (401, no session)",
         "%d %s" % (r.status_code, r.url))
    out = srv.cli("user", "factors", "rhea", check=False).stdout
    t.ok(re.search(r"^\S+ recovery .*left=8", out, re.M),
         "recovery: user factors rhea shows 8 recovery codes left", out)


def part_step_up_oidc(s):
    """stan signed in with his password before he had a factor; an RP that asks for MFA
    (acr_values) makes him give a code, unless it said prompt=none."""
    t, c = s.t, s.client
    b = s.browser(stop_at=(c.redirect_uri,))
    r, _, _ = s.password(b, s.base + "/login", "stan")
    t.ok(portal_in(s, b, r), "step-up: stan (no factor yet) signs in with his password")
    s.add_otp("stan")
    start = len(b.history)
    r = b.get(c.authorize_url(acr_values=mc.MFA, prompt="none"))
    ans = c.answer(b, start)
    t.ok(ans.get("error") in ("interaction_required", "login_required") and
         "code" not in ans and ans.get("state") and s.no_factor_page(b, start),
         "step-up: acr_values MFA with prompt=none: interaction_required (no step-up page, "
         "no code)", "%r\n%d %s" % (ans, r.status_code, r.url))
    start = len(b.history)
    r = b.get(c.authorize_url(acr_values=mc.MFA))
    form = mc.factor_form(r)
    t.ok(r.status_code == 200 and r.url.startswith(s.base + "/login/factor?r=") and form and
         "password" not in form["fields"] and not c.answer(b, start),
         "step-up: acr_values MFA on a password session: the factor page, no password asked",
         "%d %s\n%s" % (r.status_code, r.url, r.text[:600]))
    if form is None:
        return
    r = mc.submit_factor(b, r, s.code("stan"))
    ans = c.answer(b, start)
    claims = c.redeem(ans) if "code" in ans else {}
    t.ok(set(claims.get("amr", [])) >= {"pwd", "otp", "mfa"} and claims.get("acr") == mc.MFA,
         "step-up: after the code the ID token has amr pwd otp mfa, acr REFEDS MFA",
         "%r\n%r" % (ans, claims))
    # The session has the factor now: no second step-up.
    start = len(b.history)
    b.get(c.authorize_url(acr_values=mc.MFA, prompt="none"))
    ans = c.answer(b, start)
    claims = c.redeem(ans) if "code" in ans else {}
    t.ok(claims.get("acr") == mc.MFA and s.no_factor_page(b, start),
         "step-up: the stepped-up session answers acr_values MFA with prompt=none at once",
         "%r\n%r" % (ans, claims))


def part_step_up_saml(s):
    """sam, signed in with a password before his factor, goes to "strict", whose mellon asks
    for the REFEDS MFA class (RequestedAuthnContext, Comparison exact)."""
    t, strict = s.t, s.strict
    b = s.browser()
    r, _, _ = s.password(b, s.base + "/login", "sam")
    t.ok(portal_in(s, b, r), "saml step-up: sam (no factor yet) signs in with his password")
    s.add_otp("sam")
    # IsPassive (mellon's login endpoint asks for it): no step-up page, NoPassive.
    start = len(b.history)
    b.get("%s/mellon/login?ReturnTo=%s&IsPassive=true" % (
        strict.url, urllib.parse.quote(strict.public, safe="")))
    reqs = mc.saml_requests(b, start, s.base + "/saml/sso")
    xml = saml_response(b, strict.url)
    got = (mc.status_codes(xml), mc.class_refs(xml)) if xml else None
    t.ok(reqs and re.search(r'IsPassive="(true|1)"', reqs[-1]) and s.no_factor_page(b, start)
         and got and got[0][-1] == "urn:oasis:names:tc:SAML:2.0:status:NoPassive" and
         not got[1], "saml step-up: IsPassive with RequestedAuthnContext MFA is answered "
         "NoPassive, no assertion, no factor page", "%r\n%s" % (got, reqs[-1][:500] if reqs
                                                               else "no AuthnRequest"))
    s.audit_has("saml.sso.deny", "reason=mfa_required")
    start = len(b.history)
    r = b.get(strict.protected)
    reqs = mc.saml_requests(b, start, s.base + "/saml/sso")
    t.ok(reqs and re.search(r'<(samlp:)?RequestedAuthnContext[^>]*Comparison="exact"', reqs[-1])
         and mc.MFA in reqs[-1], "saml step-up: mellon's AuthnRequest has RequestedAuthnContext "
         "exact REFEDS MFA", reqs[-1][:800] if reqs else "no AuthnRequest")
    form = mc.factor_form(r)
    t.ok(r.status_code == 200 and r.url.startswith(s.base + "/login/factor?r=") and form and
         "password" not in form["fields"],
         "saml step-up: the factor page, no password asked",
         "%d %s\n%s" % (r.status_code, r.url, r.text[:600]))
    if form is None:
        return
    r = mc.submit_factor(b, r, s.code("sam"))
    t.ok(s.at_app(strict, r), "saml step-up: mellon (which checks the class) lets sam in",
         "%d %s\n%s\n%s" % (r.status_code, r.url, r.text[:400], strict.error_log()[-1000:]))
    s.saml_class(b, strict, mc.MFA, "saml step-up")


def part_no_factor_strict(s):
    """bob has no factor: an SP that asks for exactly the REFEDS MFA class gets no
    assertion of another class (mellon would refuse it anyway), and no session."""
    t, strict = s.t, s.strict
    b = s.browser()
    r, start, _ = s.password(b, strict.protected, "bob")
    xml = saml_response(b, strict.url)
    refs = mc.class_refs(xml) if xml else []
    t.ok(refs in ([], [mc.MFA]) and not s.at_app(strict, r) and
         not s.at_app(strict, b._req("GET", strict.protected)),
         "strict, bob (no factor): no assertion other than REFEDS MFA, mellon has no session",
         "%r\n%d %s\n%s" % (refs, r.status_code, r.url, r.text[:500]))


def part_rule(s):
    """A part 5 mfa rule on hr for tina (TOTP) and paul (none)."""
    t, srv, hr = s.t, s.srv, s.hr
    srv.cli("policy", "add", "hr-mfa", "--effect", "mfa", "--app", "hr", "--user", "tina",
            "--user", "paul")
    # paul has no factor and the rule has no --enroll: refused.
    b = s.browser()
    r, start, _ = s.password(b, hr.protected, "paul")
    ref = ac.refusal_ref(r)
    t.ok(ref and ac.is_mfa_page(r) and ac.session_cookie(b) is None and
         not ac.posted_to(b, start, hr.url) and s.no_factor_page(b, start),
         "rule: paul (no factor) gets the 403 page saying a second factor is needed; no "
         "session, nothing posted to hr", "%d %s\n%s" % (r.status_code, r.url, r.text[:600]))
    if ref:
        s.audit_has("access.mfa_missing", "user=paul", "app=hr", "ref=" + ref)
    b = s.browser()
    r, start, pending = s.password(b, hr.protected, "tina")
    s.factor_asked(b, r, start, pending, "rule: tina (TOTP)")
    r = mc.submit_factor(b, r, s.code("tina"))
    t.ok(s.at_app(hr, r), "rule: with her code tina reaches hr", "%d %s" % (r.status_code, r.url))
    s.saml_class(b, hr, mc.MFA, "rule: tina")
    srv.cli("policy", "remove", "hr-mfa")


def part_rule_enrol(s):
    """An mfa rule with --enroll on hr for eve (no factor): TOTP enrolment at login."""
    t, srv, hr = s.t, s.srv, s.hr
    srv.cli("policy", "add", "hr-enrol", "--effect", "mfa", "--enroll", "--app", "hr",
            "--user", "eve")
    b = s.browser()
    r, start, pending = s.password(b, hr.protected, "eve")
    status, loc = mc.password_answer(b, start, s.base)
    t.ok(status == 303 and loc == s.base + "/login/enrol?r=" + pending,
         "rule --enroll: eve's password is answered 303 to login/enrol?r=PENDING",
         "%s %s" % (status, loc))
    secret = mc.page_secret(r.text)
    form = mc.factor_form(r)
    t.ok(r.status_code == 200 and re.search(r"<svg[\s>]", r.text) and secret and form and
         ac.session_cookie(b) is None,
         "rule --enroll: the enrolment page shows a QR code (svg), the secret and the otp form; "
         "no session yet", "%d %s\n%s" % (r.status_code, r.url, r.text[:800]))
    if not (secret and form):
        return
    s.otp["eve"] = secret
    s.secrets.add(secret)
    extra = {"label": "phone"} if "label" in form["fields"] else {}
    r = mc.submit_factor(b, r, s.code("eve"), **extra)
    t.ok(s.at_app(hr, r) and ac.session_cookie(b),
         "rule --enroll: the oathtool code confirms it, the login and the SSO complete",
         "%d %s\n%s" % (r.status_code, r.url, r.text[:600]))
    s.saml_class(b, hr, mc.MFA, "rule --enroll: eve")
    out = srv.cli("user", "factors", "eve", check=False).stdout
    t.ok(re.search(r"^\S+ totp ", out, re.M) and "pending" not in out,
         "rule --enroll: user factors eve lists the confirmed TOTP factor", out)
    srv.cli("policy", "remove", "hr-enrol")


def part_lockout(s):
    """Wrong codes count toward lou's lockout; the clock then moves past it."""
    t, clock = s.t, s.clock
    clock.sync()
    secret = s.otp["lou"]
    b = s.browser()
    r, start, _ = s.password(b, s.base + "/login", "lou")
    s.factor_asked(b, r, start, None, "lockout: lou")
    codes = []
    for _ in range(LOCKOUT_AFTER):
        r = mc.submit_factor(b, r, clock.wrong_code(secret))
        codes.append(r.status_code)
        if mc.factor_form(r) is None:
            break
    t.eq(codes, [401] * LOCKOUT_AFTER, "lockout: %d wrong codes, 401 each" % LOCKOUT_AFTER)
    s.audit_has("login.factor.fail", "user=lou")
    r = mc.submit_factor(b, r, clock.use("lou", secret, 0)) if mc.factor_form(r) else r
    retry = r.headers.get("Retry-After", "")
    t.ok(r.status_code == 429 and ac.session_cookie(b) is None,
         "lockout: then the right code is refused (429), no session",
         "%d %s\n%s" % (r.status_code, r.url, r.text[:300]))
    t.ok(retry.isdigit() and 0 < int(retry) <= LOCKOUT_TIME,
         "lockout: Retry-After says when (login_lockout_time %ds)" % LOCKOUT_TIME, retry)
    s.audit_has("login.factor.fail", "user=lou", "reason=locked")
    b2 = s.browser()
    r2 = ac.portal_login(s.srv, b2, "lou", s.pw["lou"])
    t.ok(r2.status_code == 429 and ac.session_cookie(b2) is None,
         "lockout: the password is refused too while locked (the same counter)",
         "%d %s" % (r2.status_code, r2.url))
    clock.advance(LOCKOUT_TIME + STEP_PAST)
    b = s.browser()
    r, start, _ = s.password(b, s.base + "/login", "lou")
    r = mc.submit_factor(b, r, s.code("lou"))
    t.ok(portal_in(s, b, r), "lockout: after login_lockout_time password and code work again",
         "%d %s\n%s" % (r.status_code, r.url, r.text[:300]))
    # The step between password and code lasts 10 minutes (the clock need not stay near
    # the real time any more: no peer is asked after this).
    b = s.browser()
    r, start, _ = s.password(b, s.base + "/login", "lou")
    clock.advance(STEP_LIFETIME + 1)
    r = mc.submit_factor(b, r, s.code("lou"))
    t.ok(b.login_form(r) is not None and r.url.split("?")[0] == s.base + "/login" and
         ac.session_cookie(b) is None,
         "lockout: a code sent more than 10 minutes after the password goes back to the "
         "login page, no session", "%d %s" % (r.status_code, r.url))


STEP_PAST = mc.STEP     # past the lockout by one TOTP step
STEP_LIFETIME = 600     # the step record between password and factor (ISSUE10 contract)


def part_no_secrets(s):
    t, srv = s.t, s.srv
    log = srv.log()
    audit = srv.cli("audit").stdout
    leaks = [x for x in s.secrets if x and (x in log or x in audit)]
    t.eq(leaks, [], "no password, TOTP secret, recovery code or token in the log or the audit")
    codes = [c for c in s.clock.issued
             if re.search(r"(?<![0-9])%s(?![0-9])" % c, log + audit)]
    t.eq(codes, [], "none of the %d TOTP codes typed in the log or the audit"
         % len(s.clock.issued))


def setup(t, tmp, peers):
    clock = mc.Clock(os.path.join(tmp, "clock"))
    srv = Server(["login_user_backoff_after %d" % LOCKOUT_AFTER,
                  "login_user_lockout_after %d" % LOCKOUT_AFTER,
                  "login_lockout_time %ds" % LOCKOUT_TIME], env=clock.env())
    peers.append(srv)
    pw = {}
    for name in USERS:
        pw[name] = secrets.token_urlsafe(12)
        srv.add_user(name, pw[name], email=name + "@example.com", display=name.capitalize())
    s = Scenario(t, srv, clock, pw)
    s.hr = MellonSP(srv, "hr")
    peers.append(s.hr)
    s.strict = MellonSP(srv, "strict", extra=(
        'MellonAuthnContextClassRef "%s"' % mc.MFA,
        "MellonAuthnContextComparisonType exact"))
    peers.append(s.strict)
    s.wiki = OidcRP(srv, "wiki")
    peers.append(s.wiki)
    s.client = mc.Client(srv, "step")
    return s


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t = Tap()
    began = time.time()
    tmp = tempfile.mkdtemp(prefix="sekisho-mfa-")
    os.chmod(tmp, 0o755)
    peers = []
    try:
        s = setup(t, tmp, peers)
        t.run("provision", part_provision, s)
        t.run("mellon", part_mellon, s)
        t.run("openidc", part_openidc, s)
        t.run("password only", part_password_only, s)
        t.run("replay", part_replay, s)
        t.run("replay race", part_replay_race, s)
        t.run("recovery codes", part_recovery, s)
        t.run("step-up (OIDC)", part_step_up_oidc, s)
        t.run("step-up (SAML)", part_step_up_saml, s)
        t.run("no factor at strict", part_no_factor_strict, s)
        t.run("mfa rule", part_rule, s)
        t.run("mfa rule --enroll", part_rule_enrol, s)
        t.run("lockout", part_lockout, s)
        t.run("no secrets", part_no_secrets, s)
    except Exception as e:
        t.ok(False, "set-up", "%s\n%s" % (e, peers[0].log()[-3000:] if peers else ""))
    finally:
        for p in reversed(peers):
            p.close()
        if os.environ.get("SEKISHO_KEEP") != "1":
            shutil.rmtree(tmp, ignore_errors=True)
    print("# mfa scenario took %.1f s" % (time.time() - began))
    t.done()


if __name__ == "__main__":
    main()
