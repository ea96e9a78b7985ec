"""The account page and password reset, as a person uses them.

A signed-in user changes the password (wrong current one refused and counted toward the
lockout, too short in characters, a dictionary word, then a good one that ends the other
sessions and keeps this one), ends another session, makes recovery codes (shown once),
enrols an authenticator app (codes from oathtool, an independent TOTP implementation),
renames and removes factors (the last one only after a recent password proof: the server
runs under libfaketime so the test moves its clock past the 5 minutes).

Password reset goes through an SMTP sink (aiosmtpd) started here: the mail carries a link
that works once; an unknown address gets the same page and no mail; the per-address and
per-account limits hold mails back; a link of one tenant does nothing in another; the token
is in no log line and no audit record.  Missing CSRF tokens are refused.  Last, Chromium
(Playwright) shows the account page in Japanese on a 390-pixel-wide phone without
horizontal scrolling.
"""
import base64
import email
import email.policy
import hashlib
import http.server
import os
import re
import subprocess
import tempfile
import threading
import time
import urllib.parse

from aiosmtpd.controller import Controller

import sekisho_test as st

t = st.Tap()
PW = "Hanako-Passw0rd-2024!"
NEW_PW = "Kiri-Sakura-7391!"
RECOVERY_RE = re.compile(r"^[a-z2-7]{4}(-[a-z2-7]{4}){3}$")
LINK_RE = re.compile(r"https://\S+/t/([^/\s]+)/reset\?token=([A-Za-z0-9_-]+)")


class Sink:
    """An SMTP server that keeps what it receives (aiosmtpd handler)."""

    def __init__(self):
        self.msgs = []
        self.cv = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.cv:
            self.msgs.append((list(envelope.rcpt_tos), msg.get_body().get_content()))
            self.cv.notify_all()
        return "250 OK"

    def wait(self, n, timeout=30):
        """Wait until n messages arrived; the messages."""
        with self.cv:
            self.cv.wait_for(lambda: len(self.msgs) >= n, timeout)
            return list(self.msgs)


class Clock:
    """sekishod's clock through libfaketime: an offset from the real time."""

    def __init__(self, path):
        self.path = path
        self.offset = 0

    def forward(self, seconds):
        self.offset += seconds
        with open(self.path, "w") as f:
            f.write("%+d\n" % self.offset)

    def now(self):
        return int(time.time()) + self.offset


class BackChannel(http.server.BaseHTTPRequestHandler):
    """An OIDC client's back-channel logout URI: keeps the logout tokens it is sent."""
    tokens = []
    cv = threading.Condition()

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        body = urllib.parse.parse_qs(self.rfile.read(n).decode())
        with BackChannel.cv:
            BackChannel.tokens.extend(body.get("logout_token", []))
            BackChannel.cv.notify_all()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def oidc_client(srv):
    """A public OIDC client with a back-channel logout URI served here: (client_id,
    redirect_uri)."""
    bc = http.server.HTTPServer(("127.0.0.1", 0), BackChannel)
    threading.Thread(target=bc.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % bc.server_port
    out = srv.cli("app", "add-oidc", "crm", "--redirect-uri", base + "/cb", "--public",
                  "--backchannel-logout-uri", base + "/bc").stdout
    return re.search(r"^client_id=(\S+)$", out, re.M).group(1), base + "/cb"


def authorize(b, srv, client_id, cb):
    """An OIDC authorization in browser b's session: the redirect to cb."""
    verifier = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()) \
        .rstrip(b"=").decode()
    q = {"response_type": "code", "client_id": client_id, "redirect_uri": cb,
         "scope": "openid", "state": "s1", "nonce": "n1", "code_challenge": challenge,
         "code_challenge_method": "S256"}
    b.stop_at = (cb,)
    return b.get(srv.base() + "/oidc/authorize?" + urllib.parse.urlencode(q))


def form(r, action_end, **match):
    """The form on page r whose action ends with action_end (and whose fields match)."""
    for f in st.parse_forms(r.text):
        if f["action"].endswith(action_end) and all(
                f["fields"].get(k) == v for k, v in match.items()):
            return f
    raise RuntimeError("no form %s %r on %s (%d): %s" % (action_end, match, r.url,
                                                         r.status_code, r.text[:800]))


def submit(b, r, action_end, fields, match=None):
    f = form(r, action_end, **(match or {}))
    data = dict(f["fields"])
    data.update(fields)
    return b.post(urllib.parse.urljoin(r.url, f["action"]), data)


def login(srv, user, password, tenant="default"):
    b = st.Browser(verify=srv.ca)
    r = b.submit_login(b.get(srv.base(tenant) + "/login"), user, password)
    return b, r


def account(b, srv):
    return b.get(srv.base() + "/account")


def on_login_page(r):
    return r.status_code == 200 and urllib.parse.urlsplit(r.url).path.endswith("/login")


def factors(srv, user):
    return srv.cli("user", "factors", user).stdout


def session_rows(r):
    return re.findall(r'<tr data-session="([0-9a-f]{64})"( data-current)?', r.text)


def part_password(srv, c):
    b, r = login(srv, "hanako", PW)
    b0 = st.Browser(verify=srv.ca)
    r0 = b0.get(srv.base() + "/account")
    t.ok(on_login_page(r0), "account page without a session: the login page", r0.url)
    r0 = b0.submit_login(r0, "hanako", PW)
    t.ok(r0.status_code == 200 and r0.url.split("?")[0].endswith("/account"),
         "after the login, back to the account page", r0.url)
    r = account(b, srv)
    t.ok(r.status_code == 200 and "山田 花子" in r.text and "hanako@example.jp" in r.text,
         "account page: the profile as the admin set it", r.text[:500])
    t.eq(r.headers.get("Cache-Control"), "no-store", "account page: not stored by caches")
    t.ok('data-event="login.ok"' in r.text, "account page: the sign-in is in the history")
    t.ok("UTC+09:00" in r.text and "Z<" not in r.text,
         "times in the tenant's zone (Asia/Tokyo by default), not raw UTC")
    srv.cli("tenant", "set", "default", "--timezone", "Asia/Kolkata")
    t.ok("UTC+05:30" in account(b, srv).text, "times follow the tenant's zone (Asia/Kolkata)")
    f = form(r, "/account/password")
    data = {"current": PW, "password": NEW_PW, "password2": NEW_PW}
    r2 = b.post(srv.base() + "/account/password", data)
    t.eq(r2.status_code, 400, "password change without a CSRF token: 400")
    r2 = b.post(srv.base() + "/account/password", dict(data, csrf=f["fields"]["csrf"] + "x"))
    t.eq(r2.status_code, 400, "password change with a wrong CSRF token: 400")
    srv.audit_has(t, "account.reject", "user=hanako", "reason=csrf")

    r2 = submit(b, r, "/account/password", dict(data, current="not-my-password"))
    t.ok(r2.status_code == 401 and "current password is not correct" in r2.text,
         "wrong current password: 401 with the reason", r2.status_code)
    srv.audit_has(t, "login.fail", "user=hanako", "reason=bad_password", "page=account",
                  "failures=1")
    srv.cli("tenant", "set", "default", "--password-min-length", "12")
    short = "あいうえおかきくけこさ"   # 11 characters, 33 bytes
    r2 = submit(b, r, "/account/password", {"current": PW, "password": short,
                                            "password2": short})
    t.ok(r2.status_code == 400 and "too short" in r2.text and
         "Minimum length (characters): 12" in r2.text,
         "33 bytes but 11 characters against a minimum of 12: refused as too short",
         r2.status_code)
    r2 = submit(b, r, "/account/password", {"current": PW, "password": "International1",
                                            "password2": "International1"})
    t.ok(r2.status_code == 400 and "too easy to guess" in r2.text,
         "a dictionary word: refused by cracklib, the page says why", r2.status_code)
    r2 = submit(b, r, "/account/password", {"current": PW, "password": NEW_PW,
                                            "password2": NEW_PW + "x"})
    t.ok(r2.status_code == 400 and "not the same" in r2.text, "two different new passwords")
    bj, _ = login(srv, "hanako", PW)
    rj = b.get(srv.base() + "/account?lang=ja")
    t.ok("パスワードの変更" in rj.text and "アカウント設定" in rj.text,
         "the account page in Japanese")
    rj = submit(b, rj, "/account/password", {"current": PW, "password": "International1",
                                             "password2": "International1"})
    t.ok(rj.status_code == 400 and "推測されやすすぎます" in rj.text,
         "the dictionary refusal in Japanese")
    b.get(srv.base() + "/account?lang=en")

    other, _ = login(srv, "hanako", PW)
    t.ok(account(other, srv).status_code == 200, "a second session of the same user")
    r2 = submit(b, account(b, srv), "/account/password", data)
    t.ok(r2.status_code == 200 and "done=acct_done_password" in r2.url and
         "Your password was changed" in r2.text, "a good new password is accepted", r2.url)
    srv.audit_has(t, "account.password.change", "user=hanako")
    t.ok(account(b, srv).status_code == 200 and not on_login_page(account(b, srv)),
         "the session that changed the password goes on")
    t.ok(on_login_page(account(other, srv)), "the other session ended with the change")
    t.ok(on_login_page(account(bj, srv)), "every other session ended with the change")
    _, r3 = login(srv, "hanako", PW)
    t.ok(r3.status_code == 401, "the old password no longer signs in", r3.status_code)
    return b


def part_sessions(srv, b):
    other, _ = login(srv, "hanako", NEW_PW)
    client_id, cb = oidc_client(srv)
    r = authorize(other, srv, client_id, cb)
    t.ok(r.status_code == 303 and r.headers.get("Location", "").startswith(cb + "?code="),
         "the other session signs in to an OIDC client", r.headers.get("Location"))
    r = account(b, srv)
    rows = session_rows(r)
    t.ok(len(rows) == 2 and sum(1 for _, cur in rows if cur) == 1,
         "sessions: two listed, one marked as this browser", rows)
    theirs = [h for h, cur in rows if not cur]
    r2 = submit(b, r, "/account/session/end", {}, {"id": theirs[0]} if theirs else None)
    t.ok(r2.status_code == 200 and "session was signed out" in r2.text,
         "ending the other session", r2.status_code)
    t.ok(on_login_page(account(other, srv)), "the other browser is signed out")
    with BackChannel.cv:
        BackChannel.cv.wait_for(lambda: BackChannel.tokens, 30)
    t.eq(len(BackChannel.tokens), 1, "the OIDC client of the ended session got a back-channel "
         "logout token")
    t.eq(len(session_rows(account(b, srv))), 1, "one session left")
    srv.audit_has(t, "account.session.end", "user=hanako")
    r2 = b.post(srv.base() + "/account/session/end", {"id": "00" * 32,
                                                      "csrf": form(r, "/account/password")
                                                      ["fields"]["csrf"]})
    t.eq(r2.status_code, 404, "ending a session that is not the user's: 404")


def part_recovery(srv, b):
    r = submit(b, account(b, srv), "/account/recovery", {})
    codes = re.findall(r"<li>([^<]*)</li>", r.text.split('id="recovery-codes"', 1)[-1])
    t.ok(r.status_code == 200 and len(codes) == 10 and all(RECOVERY_RE.match(x) for x in codes)
         and len(set(codes)) == 10, "ten recovery codes xxxx-xxxx-xxxx-xxxx", codes)
    page = account(b, srv).text
    t.ok(not any(x in page for x in codes), "the codes are shown once (not on the account page)")
    t.ok(re.search(r"recovery .*left=10", factors(srv, "hanako")),
         "sekisho user factors: the recovery set with 10 left", factors(srv, "hanako"))
    recs = srv.cli("audit").stdout
    t.ok("account.recovery.new" in recs and not any(x in recs for x in codes) and
         not any(x in srv.log() for x in codes), "audited, and no code in the audit or log")
    r2 = b.post(srv.base() + "/account/recovery", {})
    t.eq(r2.status_code, 400, "new recovery codes without a CSRF token: 400")
    return codes


def oathtool(secret, at):
    return subprocess.run(["oathtool", "--totp", "-b", secret, "--now", "@%d" % at],
                          capture_output=True, text=True, check=True).stdout.strip()


def part_totp(srv, b, clock):
    r = b.get(srv.base() + "/account/totp")
    m = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', r.text)
    t.ok(r.status_code == 200 and "<svg" in r.text and m, "TOTP enrolment: a QR code as "
         "inline SVG and the secret as text", r.text[:300])
    secret = m.group(1) if m else "A" * 32
    t.ok(secret not in srv.log(), "the secret is in no log line")
    good = oathtool(secret, clock.now())
    wrong = "%06d" % ((int(good) + 500000) % 1000000)
    r2 = submit(b, r, "/account/totp", {"otp": wrong, "label": "My phone"})
    t.ok(r2.status_code == 401 and "code is not correct" in r2.text, "a wrong code: 401",
         r2.status_code)
    t.ok("<svg" in r2.text and '<code id="totp-secret">%s</code>' % secret in r2.text,
         "the page shows the same QR code and key again")
    t.ok(re.search(r"totp .*pending", factors(srv, "hanako")),
         "the factor stays pending", factors(srv, "hanako"))
    r2 = submit(b, r, "/account/totp", {"otp": oathtool(secret, clock.now()),
                                        "label": "My phone"})
    t.ok(r2.status_code == 200 and "factor was added" in r2.text,
         "the code from oathtool confirms the enrolment", r2.status_code)
    line = [x for x in factors(srv, "hanako").splitlines() if " totp " in x]
    t.ok(len(line) == 1 and "pending" not in line[0] and "My phone" in line[0],
         "sekisho user factors: the TOTP factor confirmed, with its name", line)
    srv.audit_has(t, "account.factor.add", "user=hanako", "kind=totp")
    r3 = submit(b, r, "/account/totp", {"otp": oathtool(secret, clock.now()),
                                        "label": "Again"})
    t.eq(r3.status_code, 400, "the enrolment form cannot confirm twice")
    return line[0].split()[0] if line else None


def part_factors(srv, b, totp_id, clock):
    r = account(b, srv)
    t.ok(totp_id and 'data-factor-id="%s"' % totp_id in r.text,
         "the factors table lists the TOTP factor")
    r2 = submit(b, r, "/account/factor/rename", {"label": "Work phone"}, {"id": totp_id})
    t.ok(r2.status_code == 200 and "Work phone" in account(b, srv).text,
         "rename a factor", r2.status_code)
    srv.audit_has(t, "account.factor.rename", "user=hanako")
    r2 = submit(b, r, "/account/factor/rename", {"label": "x" * 65}, {"id": totp_id})
    t.eq(r2.status_code, 400, "a name of 65 characters is refused")
    rec = re.search(r"^(\S+) recovery ", factors(srv, "hanako"), re.M)
    clock.forward(400)
    r = account(b, srv)
    r2 = submit(b, r, "/account/factor/remove", {}, {"id": rec.group(1) if rec else ""})
    t.ok(r2.status_code == 200 and "recovery" not in factors(srv, "hanako"),
         "recovery codes are removed without a fresh sign-in", r2.status_code)
    r2 = submit(b, r, "/account/factor/remove", {}, {"id": totp_id})
    t.ok(r2.status_code == 403 and form(r2, "/account/reauth") and
         " totp " in factors(srv, "hanako"),
         "the last TOTP factor, 400 s after sign-in: the page asks for the password, "
         "nothing removed", r2.status_code)
    r3 = submit(b, r2, "/account/reauth", {"password": "wrong-password"})
    t.eq(r3.status_code, 401, "re-authentication with a wrong password: 401")
    r3 = submit(b, r2, "/account/reauth", {"password": NEW_PW})
    t.ok(r3.status_code == 200 and "confirmed" in r3.text, "re-authentication",
         r3.status_code)
    r4 = submit(b, r3, "/account/factor/remove", {}, {"id": totp_id})
    t.ok(r4.status_code == 200 and " totp " not in factors(srv, "hanako"),
         "after it the last TOTP factor is removed", r4.status_code)
    srv.audit_has(t, "account.factor.remove", "user=hanako", "kind=totp")


def part_lockout(srv):
    srv.add_user("taro", "Taro-Passw0rd-2024!")
    b, _ = login(srv, "taro", "Taro-Passw0rd-2024!")
    codes = []
    for _ in range(3):
        codes.append(submit(b, account(b, srv), "/account/password",
                            {"current": "wrong", "password": NEW_PW,
                             "password2": NEW_PW}).status_code)
    r = submit(b, account(b, srv), "/account/password", {"current": "Taro-Passw0rd-2024!",
                                                         "password": NEW_PW,
                                                         "password2": NEW_PW})
    t.ok(codes == [401] * 3 and r.status_code == 429 and r.headers.get("Retry-After"),
         "three wrong current passwords lock the account: 429 with Retry-After",
         (codes, r.status_code))
    _, r = login(srv, "taro", "Taro-Passw0rd-2024!")
    t.eq(r.status_code, 429, "the login form is locked for that user too")


# ---- password reset ----

def ask_reset(srv, address, tenant="default", b=None):
    b = b or st.Browser(verify=srv.ca)
    r = b.get(srv.base(tenant) + "/reset")
    return submit(b, r, "/reset", {"email": address})


def mail_link(msg):
    m = LINK_RE.search(msg[1])
    return (m.group(1), m.group(2)) if m else (None, None)


def part_reset(srv, sink, clock, tokens):
    srv.add_user("jiro", "Jiro-Passw0rd-2024!", email="jiro@example.jp")
    srv.add_user("saburo", "Saburo-Passw0rd-2024!", email="saburo@example.jp")
    srv.add_user("shiro", "Shiro-Passw0rd-2024!", email="shiro@example.jp")
    clock.forward(1000)     # a fresh rate window for the address
    jb, _ = login(srv, "jiro", "Jiro-Passw0rd-2024!")
    r_unknown = ask_reset(srv, "nobody@example.jp")
    r_known = ask_reset(srv, "jiro@example.jp")
    body = lambda r: re.sub(r'name="csrf" value="[^"]*"', "", r.text)
    t.ok(r_unknown.status_code == r_known.status_code == 200 and
         body(r_unknown) == body(r_known) and "If an account with that address exists" in
         r_known.text, "unknown and known address: the same page, 200")
    msgs = sink.wait(1)
    t.ok(len(msgs) == 1 and msgs[0][0] == ["jiro@example.jp"],
         "one mail, to the known address only", [m[0] for m in msgs])
    tenant, token = mail_link(msgs[0]) if msgs else (None, None)
    tokens.append(token)
    t.ok(tenant == "default" and token, "the mail carries the reset link")
    b = st.Browser(verify=srv.ca)
    link = srv.base() + "/reset?token=" + str(token)
    r = b.get(link)
    t.ok(r.status_code == 200 and form(r, "/reset", token=token),
         "the link shows the new-password form with the token")
    t.ok(b.get(link).status_code == 200, "showing the form does not use the link up")
    r2 = submit(b, r, "/reset", {"password": "short1", "password2": "short1"})
    t.ok(r2.status_code == 400 and "too short" in r2.text, "a too short password: 400")
    r2 = b.post(srv.base() + "/reset", {"token": token, "password": NEW_PW,
                                        "password2": NEW_PW})
    t.eq(r2.status_code, 400, "setting the password without a CSRF token: 400")
    r2 = submit(b, r, "/reset", {"password": "Tsubame-Kaeru-5521", "password2":
                                 "Tsubame-Kaeru-5521"})
    t.ok(r2.status_code == 200 and "Your password was set" in r2.text,
         "the link sets the new password", r2.status_code)
    srv.audit_has(t, "account.password.reset", "user=jiro")
    t.ok(on_login_page(account(jb, srv)), "the reset ended the user's session")
    _, r3 = login(srv, "jiro", "Tsubame-Kaeru-5521")
    t.ok(not on_login_page(r3) and r3.status_code == 200, "the new password signs in")
    r4 = b.get(link)
    t.eq(r4.status_code, 400, "the link works once: a second use is a 400")
    r4 = b.post(srv.base() + "/reset", dict(form(r, "/reset", token=token)["fields"],
                                            password="Another-Pass-9876",
                                            password2="Another-Pass-9876"))
    t.eq(r4.status_code, 400, "posting the used token again: 400")

    # A token of tenant default does nothing in tenant other.
    srv.cli("tenant", "add", "other")
    ask_reset(srv, "jiro@example.jp")
    msgs = sink.wait(2)
    _, token2 = mail_link(msgs[-1]) if len(msgs) == 2 else (None, None)
    tokens.append(token2)
    ob = st.Browser(verify=srv.ca)
    r = ob.get(srv.base("other") + "/reset?token=" + str(token2))
    t.eq(r.status_code, 400, "tenant default's link on tenant other: 400")
    r = ob.post(srv.base("other") + "/reset", dict(form(ob.get(srv.base("other") + "/reset"),
                                                        "/reset")["fields"], token=token2,
                                                   password="Other-Tenant-4455",
                                                   password2="Other-Tenant-4455"))
    t.eq(r.status_code, 400, "posting it to tenant other: 400")
    t.eq(b.get(srv.base() + "/reset?token=" + str(token2)).status_code, 200,
         "the link still works in its own tenant")

    # Per account: 3 mails an hour (jiro had 2; one more goes, the next does not).
    ask_reset(srv, "jiro@example.jp")
    ask_reset(srv, "jiro@example.jp")
    clock.forward(1000)     # the address's window again, the account's not
    ask_reset(srv, "saburo@example.jp")
    msgs = sink.wait(4)
    got = [m[0][0] for m in msgs[2:]]
    t.eq(got, ["jiro@example.jp", "saburo@example.jp"],
         "per account: the fourth request within an hour sends no mail")
    tokens.extend(mail_link(m)[1] for m in msgs[2:])

    # Per address: 5 in 15 minutes (saburo's was the first).
    for i in range(4):
        ask_reset(srv, "nobody%d@example.jp" % i)
    r = ask_reset(srv, "shiro@example.jp")
    t.eq(r.status_code, 200, "over the address's limit: the same page")
    clock.forward(1000)
    ask_reset(srv, "saburo@example.jp")
    msgs = sink.wait(5)
    t.eq([m[0][0] for m in msgs[4:]], ["saburo@example.jp"],
         "per address: the sixth request within 15 minutes sends no mail")
    tokens.extend(mail_link(m)[1] for m in msgs[4:])
    srv.audit_has(t, "account.reset.request", "user=shiro", "result=limit_ip")

    r = st.Browser(verify=srv.ca).post(srv.base() + "/reset", {"email": "jiro@example.jp"})
    t.eq(r.status_code, 400, "a reset request without a CSRF token: 400")
    r = st.Browser(verify=srv.ca).get(srv.base() + "/reset?token=" + "A" * 43)
    t.eq(r.status_code, 400, "a token never issued: 400")


def part_no_token_leak(srv, tokens):
    tokens = [x for x in tokens if x]
    t.ok(len(tokens) >= 4, "tokens were collected from the mails", tokens)
    t.eq(st.grep_secret_leaks(srv.log(), tokens), [], "no reset token in the server log")
    audit = srv.cli("audit").stdout + srv.cli("audit", tenant="other").stdout
    t.eq(st.grep_secret_leaks(audit, tokens), [], "no reset token in the audit trail")
    hashes = [hashlib.sha256(x.encode()).hexdigest() for x in tokens]
    t.eq(st.grep_secret_leaks(srv.log() + audit, [NEW_PW, PW, "Tsubame-Kaeru-5521"] + hashes),
         [], "no password or token hash in the log or the audit trail")


# ---- a phone ----

def part_phone(srv, b):
    submit(b, account(b, srv), "/account/recovery", {})
    tmp = tempfile.mkdtemp(prefix="sekisho-phone-")
    cfg = {"spki": st.spki_hash(srv.ca), "base": srv.base(), "user": "hanako",
           "password": NEW_PW}
    st.browser_script(t, "account_phone.mjs", cfg, tmp)


def main():
    sink = Sink()
    port = st.free_port()
    ctl = Controller(sink, hostname="127.0.0.1", port=port)
    ctl.start()
    tmp = tempfile.mkdtemp(prefix="sekisho-account-")
    clock = Clock(os.path.join(tmp, "clock"))
    env = st.faketime_env(clock.path)
    srv = st.Server(["smtp_relay 127.0.0.1:%d" % port, "smtp_from sekisho@example.jp",
                     "smtp_tls none", "login_user_lockout_after 3"], env=env)
    tokens = []
    try:
        srv.add_user("hanako", PW, email="hanako@example.jp", display="山田 花子")
        b = t.run("password change", part_password, srv, clock)
        if b:
            t.run("sessions", part_sessions, srv, b)
            t.run("recovery codes", part_recovery, srv, b)
            totp_id = t.run("TOTP enrolment", part_totp, srv, b, clock)
            t.run("rename and remove", part_factors, srv, b, totp_id, clock)
        t.run("lockout", part_lockout, srv)
        t.run("password reset", part_reset, srv, sink, clock, tokens)
        t.run("no token in logs", part_no_token_leak, srv, tokens)
        if b:
            b2, _ = login(srv, "hanako", NEW_PW)
            t.run("phone", part_phone, srv, b2)
            mine = [h for h, cur in session_rows(account(b2, srv)) if cur]
            r = submit(b2, account(b2, srv), "/account/session/end", {},
                       {"id": mine[0]} if mine else None)
            t.ok("Signed out" in r.text and on_login_page(account(b2, srv)),
                 "signing out this browser's own session from the list logs out",
                 r.text[:300])
    finally:
        srv.close()
        ctl.stop()
    t.done()


if __name__ == "__main__":
    main()
