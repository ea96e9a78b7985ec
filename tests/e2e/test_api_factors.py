#!/usr/bin/python3
"""Users' second factors and password-reset links through the admin API (issue 11), against
the running server, through the functions `sekisho user otp|factors|factor|reset-password`
use.

sekishod runs under libfaketime with a clock that stands still (set from a file, moved by
the test): each API call is a second after the previous one (one call per second per key),
and TOTP codes are computed here (RFC 6238, hmac) for the server's time.

- POST users/alice/factors/totp answers 201 with the id and the otpauth URI once
  (Cache-Control: no-store); the codes of its seed are what the login's factor page
  accepts; the listing (API and `user factors`) shows the factor without a seed.
- A bad label is 400 naming label and adds nothing; an unknown user, another tenant's user
  (and this tenant's user seen with another tenant's key) are 404; a read key gets 403.
- DELETE of a malformed id, an unknown id or another user's factor is 404 and removes
  nothing; DELETE of alice's factor is 204 with the factor as "before", and the login no
  longer asks for a code.
- POST users/bob/reset-password {"delivery": "link"} answers the link once (no-store); it
  sets a new password once and only once.  "mail" without a relay or without an address is
  409 naming delivery and makes no link (an older link still works); with an SMTP sink the
  link is mailed and works; a relay that does not answer is 500 and no mail.
- No seed, URI, code, link or token in the log, the audit trail or the api.call records.
"""
import base64
import hashlib
import hmac
import os
import re
import struct
import threading
import time
import urllib.parse

import email
import email.policy

from aiosmtpd.controller import Controller

import api_common as ac
import mfa_common as mc
import sekisho_test as st

t = st.Tap()
PW = {"alice": "Api-Factors-Alice-57!", "bob": "Api-Factors-Bob-83!",
      "olga": "Api-Factors-Olga-19!"}
NEW_PW = "Api-Factors-Renewed-64!"
LINK_RE = r"https://127\.0\.0\.1:%d/t/default/reset\?token=([A-Za-z0-9_-]{43})"
SECRETS = []


def totp(secret, at):
    """RFC 6238: the 6-digit SHA-1 code of base32 secret for the 30 s step of time at."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", at // 30), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


class Clock:
    """sekishod's clock, standing still at self.now (UTC), in the middle of a TOTP step."""

    def __init__(self, path):
        self.path = path
        self.env = dict(st.faketime_env(path), TZ="UTC")
        self.set((int(time.time()) // 30) * 30 - 15)

    def set(self, now):
        self.now = now
        with open(self.path, "w") as f:
            f.write(time.strftime("%Y-%m-%d %H:%M:%S\n", time.gmtime(now)))

    def tick(self, seconds=1):
        self.set(self.now + seconds)


class Sink:
    """An SMTP server keeping what it receives (aiosmtpd handler)."""

    def __init__(self):
        self.msgs = []
        self.cv = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.cv:
            self.msgs.append((list(envelope.rcpt_tos), msg.get_body().get_content()))
            self.cv.notify_all()
        return "250 OK"


class Env:
    def __init__(self):
        self.srv = st.Server(start=False)
        self.clock = Clock(os.path.join(self.srv.tmp, "clock"))
        self.srv.env = self.clock.env
        self.srv.start()
        srv = self.srv
        srv.add_user("alice", PW["alice"], email="alice@example.jp")
        srv.add_user("bob", PW["bob"])
        srv.cli("tenant", "add", "other")
        srv.add_user("olga", PW["olga"], tenant="other")
        self.writer = ac.make_key(srv, None, "writer", "read,write")
        self.reader = ac.make_key(srv, None, "reader", "read")
        self.outsider = ac.make_key(srv, "other", "outsider", "read,write")
        SECRETS.extend([self.writer, self.reader, self.outsider])
        self.api = ac.ApiClient(srv, "default", [self.writer])
        self.other = ac.ApiClient(srv, "other", [self.outsider])

    def call(self, method, path, key=None, client=None, **kw):
        """One call a second (server time) after the previous one; the writer by default."""
        self.clock.tick()
        return (client or self.api).call(method, path, key=key or self.writer, **kw)

    def factors(self, user="alice"):
        return self.srv.cli("user", "factors", user).stdout


def login(e, user, password):
    """(browser, the page after the password)."""
    b = st.Browser(verify=e.srv.ca)
    return b, b.submit_login(b.get(e.srv.base() + "/login"), user, password)


def on_portal(e, r):
    return r.status_code == 200 and r.url == e.srv.base() + "/portal"


def unchanged(e, what, state, before):
    t.eq(state(), before, "%s changes nothing" % what)


def totp_add(e):
    r = e.call("POST", "users/alice/factors/totp", json={"label": "YubiKey 5"}, expect=201)
    uri = r.body["otpauth_uri"]
    secret = mc.otp_secret(uri)
    SECRETS.extend([uri, secret, urllib.parse.quote(secret)])
    t.eq(r.headers.get("Cache-Control"), "no-store", "the URI's answer: Cache-Control no-store")
    t.ok(r.headers.get("Location", "").endswith("/api/v1/users/alice/factors/" +
                                                 r.body["id"]), "Location names the factor",
         r.headers.get("Location"))
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(uri).query))
    t.eq((urllib.parse.unquote(urllib.parse.urlsplit(uri).path), q.get("issuer")),
         ("/Sekisho default:alice", "Sekisho default"), "an otpauth URI for alice")
    fid = r.body["id"]
    r = e.call("GET", "users/alice/factors")
    t.eq([(f["id"], f["kind"], f["label"], f["pending"], f["last_used"]) for f in
          r.body["items"]], [(fid, "totp", "YubiKey 5", False, None)],
         "GET factors lists it: totp, its label, active, never used")
    t.ok(secret not in r.text and "otpauth" not in r.text, "the listing has no seed")
    t.ok(re.match(r"^%s totp YubiKey 5 created=\S+ last_used=never$" % fid, e.factors()),
         "`sekisho user factors` shows the factor added through the API", e.factors())
    return fid, secret


def totp_login(e, secret):
    b, r = login(e, "alice", PW["alice"])
    t.ok(r.status_code == 200 and mc.factor_form(r) is not None,
         "alice's password is answered with the factor page", "%d %s" % (r.status_code, r.url))
    wrong = "%06d" % ((int(totp(secret, e.clock.now)) + 500000) % 1000000)
    r = mc.submit_factor(b, r, wrong)
    t.ok(r.status_code == 401 and not on_portal(e, r), "a wrong code is refused",
         r.status_code)
    r = mc.submit_factor(b, r, totp(secret, e.clock.now))
    t.ok(on_portal(e, r), "the code of the API's seed (computed here) lets alice in",
         "%d %s" % (r.status_code, r.url))
    r = e.call("GET", "users/alice/factors")
    t.ok(r.body["items"][0]["last_used"] is not None, "the factor is now used (last_used)",
         r.body)
    e.clock.tick(30)


def totp_refusals(e):
    state = lambda: (e.factors("alice"), e.factors("bob"),  # noqa: E731
                     len(e.srv.audit_find("admin.user.otp_add")))
    before = state()
    for label in ("x" * 65, "a\tb", ""):
        r = e.call("POST", "users/alice/factors/totp", json={"label": label}, expect=400,
                   raw=True)
        t.eq(r.body.get("field"), "label", "label %r: 400 naming label" % label)
    r = e.call("POST", "users/alice/factors/totp", json={"colour": "red"}, expect=400,
               raw=True)
    t.eq(r.body.get("error"), "invalid_request", "an unknown member: 400")
    r = e.call("POST", "users/nobody/factors/totp", json={}, expect=404)
    t.eq(r.body["error"], "not_found", "an unknown user: 404")
    e.call("POST", "users/olga/factors/totp", json={}, expect=404)
    t.ok(True, "another tenant's user: 404")
    r = e.call("POST", "users/alice/factors/totp", json={}, key=e.reader, expect=403)
    t.eq(r.body["error"], "forbidden", "a read key cannot add a factor: 403")
    e.call("GET", "users/alice/factors", key=e.outsider, client=e.other, expect=404)
    t.ok(True, "another tenant's key sees no alice: 404")
    unchanged(e, "the refused additions", state, before)
    e.call("GET", "users/alice/factors", key=e.reader)
    t.ok(True, "a read key can list factors")


def factor_remove(e, fid, secret):
    other_fid = e.call("POST", "users/bob/factors/totp", json={"label": "bob's"},
                       expect=201).body
    SECRETS.append(mc.otp_secret(other_fid["otpauth_uri"]))
    state = lambda: (e.factors("alice"), e.factors("bob"),  # noqa: E731
                     len(e.srv.audit_find("admin.user.factor_remove")))
    before = state()
    unknown = "0123456789abcdef" if fid != "0123456789abcdef" else "fedcba9876543210"
    for path, what in (("users/alice/factors/xyz", "a malformed id"),
                       ("users/alice/factors/%s0" % fid, "a 17-digit id"),
                       ("users/alice/factors/" + unknown, "an unknown id"),
                       ("users/bob/factors/" + fid, "alice's factor as bob's"),
                       ("users/nobody/factors/" + fid, "an unknown user's")):
        r = e.call("DELETE", path, expect=404)
        t.eq(r.body["error"], "not_found", "DELETE of %s: 404" % what)
    e.call("DELETE", "users/alice/factors/" + fid, key=e.reader, expect=403)
    e.call("DELETE", "users/alice/factors/" + fid, key=e.outsider, client=e.other, expect=404)
    unchanged(e, "the refused removals (a read key: 403; another tenant's key: 404)", state,
              before)
    r = e.call("GET", "users/alice/factors/" + fid)
    t.eq((r.body["id"], r.body["label"]), (fid, "YubiKey 5"), "GET one factor")
    e.call("DELETE", "users/alice/factors/" + fid, expect=204)
    t.eq(e.factors("alice"), "", "DELETE: alice has no factor left")
    t.ok(e.factors("bob").startswith(other_fid["id"] + " totp"), "bob's factor stays")
    e.srv.cli("user", "factor", "remove", "bob", other_fid["id"])
    recs = e.srv.audit_find("api.call", "method=DELETE", "status=204")
    t.ok(len(recs) == 1 and fid in recs[0] and "YubiKey" in recs[0] and
         "secret" not in recs[0], "the api.call record has the factor as before, no secret",
         recs)
    e.srv.audit_has(t, "admin.user.factor_remove", "user=alice", "factor=" + fid,
                    "actor=apikey:writer")
    e.call("GET", "users/alice/factors/" + fid, expect=404)
    b, r = login(e, "alice", PW["alice"])
    t.ok(on_portal(e, r) and mc.factor_form(r) is None,
         "after the removal the login asks for no code", "%d %s" % (r.status_code, r.url))
    e.srv.cli("user", "otp", "add", "alice", "--label", "cli")
    r = e.call("GET", "users/alice/factors")
    t.eq([f["label"] for f in r.body["items"]], ["cli"],
         "a factor added with `sekisho user otp add` is in the API's listing")


def link_token(e, link):
    m = re.fullmatch(LINK_RE % e.srv.port, link or "")
    if m:
        SECRETS.append(m.group(1))
    return m and m.group(1)


def set_password(e, link, password):
    """Open link and set password: (status of the page, status of the POST, text)."""
    b = st.Browser(verify=e.srv.ca)
    r = b.get(link)
    if r.status_code != 200:
        return r.status_code, None, r.text
    f = [f for f in st.parse_forms(r.text) if f["action"].endswith("/reset")][0]
    r2 = b.post(urllib.parse.urljoin(r.url, f["action"]),
                dict(f["fields"], password=password, password2=password))
    return r.status_code, r2.status_code, r2.text


def reset_link(e):
    audits = lambda: len(e.srv.audit_find("admin.user.reset_password"))  # noqa: E731
    n = audits()
    for body, status, field in (({}, 400, "delivery"), ({"delivery": "sms"}, 400, "delivery"),
                                ({"delivery": "link", "to": "x"}, 400, None)):
        r = e.call("POST", "users/bob/reset-password", json=body, expect=status, raw=True)
        t.ok(field is None or r.body.get("field") == field,
             "reset-password %s: %d naming %s" % (body, status, field), r.body)
    e.call("POST", "users/bob/reset-password", json={"delivery": "link"}, key=e.reader,
           expect=403)
    e.call("POST", "users/olga/reset-password", json={"delivery": "link"}, expect=404)
    e.call("POST", "users/bob/reset-password", json={"delivery": "link"}, key=e.outsider,
           client=e.other, expect=404)
    t.eq(audits(), n, "refused reset requests (bad delivery, read key 403, another tenant's "
         "user 404) make no link")
    r = e.call("POST", "users/bob/reset-password", json={"delivery": "link"})
    link = r.body.get("link")
    t.ok(link_token(e, link), "delivery link: 200 with the link", r.body)
    t.eq(r.headers.get("Cache-Control"), "no-store", "the link's answer: no-store")
    r = e.call("POST", "users/bob/reset-password", json={"delivery": "mail"}, expect=409)
    t.eq((r.body["error"], r.body.get("field")), ("conflict", "delivery"),
         "delivery mail without a relay: 409 naming delivery")
    t.ok("smtp_relay" in r.body["detail"], "the detail says why", r.body)
    got = set_password(e, link, NEW_PW)
    t.ok(got[:2] == (200, 200) and "Your password was set" in got[2],
         "the link (not voided by the refused mail request) sets a new password", got[:2])
    _, r = login(e, "bob", NEW_PW)
    t.ok(on_portal(e, r), "bob signs in with the new password")
    _, r = login(e, "bob", PW["bob"])
    t.ok(not on_portal(e, r), "not with the old one")
    t.eq(set_password(e, link, "Api-Factors-Third-91!")[0], 400,
         "the link works once: a second use is 400")
    e.srv.audit_has(t, "admin.user.reset_password", "user=bob", "via=link",
                    "actor=apikey:writer")


def reset_mail(e):
    sink = Sink()
    ctl = Controller(sink, hostname="127.0.0.1", port=st.free_port())
    ctl.start()
    try:
        with open(os.path.join(e.srv.dir, "sekishod.conf"), "a") as f:
            f.write("smtp_relay 127.0.0.1:%d\nsmtp_from sso@example.jp\nsmtp_tls none\n"
                    % ctl.port)
        e.srv.restart()
        r = e.call("POST", "users/alice/reset-password", json={"delivery": "mail"})
        t.eq(r.body, {"mailed_to": "alice@example.jp"}, "delivery mail: 200, mailed to alice")
        t.ok("link" not in r.body, "no link in the answer")
        with sink.cv:
            sink.cv.wait_for(lambda: sink.msgs, 30)
        links = re.findall(LINK_RE.replace("([A-Za-z0-9_-]{43})", "[A-Za-z0-9_-]{43}")
                           % e.srv.port, sink.msgs[0][1]) if sink.msgs else []
        t.ok(len(sink.msgs) == 1 and sink.msgs[0][0] == ["alice@example.jp"] and
             len(links) == 1, "one mail to alice with the link", sink.msgs)
        if links:
            link_token(e, links[0])
            got = set_password(e, links[0], NEW_PW)
            t.ok(got[:2] == (200, 200), "the mailed link sets alice's password", got[:2])
        e.srv.audit_has(t, "admin.user.reset_password", "user=alice", "via=mail")
        n = len(sink.msgs)
        r = e.call("POST", "users/bob/reset-password", json={"delivery": "mail"}, expect=409)
        t.ok(r.body.get("field") == "delivery" and "e-mail address" in r.body["detail"],
             "delivery mail for bob (no address): 409 naming delivery", r.body)
        t.eq(len(sink.msgs), n, "and no mail")
    finally:
        ctl.stop()
    r = e.call("POST", "users/alice/reset-password", json={"delivery": "link"})
    old = r.body["link"]
    link_token(e, old)
    n = len(e.srv.audit_find("admin.user.reset_password"))
    r = e.call("POST", "users/alice/reset-password", json={"delivery": "mail"}, expect=500)
    t.ok("not sent" in r.body["detail"], "a relay that does not answer: 500, not sent",
         r.body)
    t.eq(len(e.srv.audit_find("admin.user.reset_password")), n,
         "and no admin.user.reset_password record")
    t.eq(set_password(e, old, "Api-Factors-Fourth-28!")[0], 400,
         "the failed mail voided the user's links (the older one no longer works)")


def no_leaks(e):
    text = "\n".join("%s %s" % r for r in e.srv.audit() + e.srv.audit(tenant="other"))
    t.ok(len(SECRETS) >= 8, "secrets were collected (%d)" % len(SECRETS))
    t.eq(st.grep_secret_leaks(text, SECRETS), [], "no key, seed, URI or token in the audit "
         "trail (api.call records included)")
    t.eq(st.grep_secret_leaks(e.srv.log(), SECRETS), [], "none in the log")
    t.ok(e.srv.audit_find("admin.user.otp_add", 'label="YubiKey 5"', "actor=apikey:writer"),
         "admin.user.otp_add has the label and the key")
    calls = e.srv.audit_find("api.call", "method=POST", "status=201")
    t.ok(calls and all("otpauth" not in c for c in calls),
         "the api.call records of the additions have no URI", calls)


def main():
    e = Env()
    try:
        fid, secret = totp_add(e)
        t.run("TOTP login", totp_login, e, secret)
        t.run("TOTP refusals", totp_refusals, e)
        t.run("factor remove", factor_remove, e, fid, secret)
        t.run("reset link", reset_link, e)
        t.run("reset mail", reset_mail, e)
        t.run("no leaks", no_leaks, e)
    finally:
        e.srv.close()
    t.done()


main()
