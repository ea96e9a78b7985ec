"""The console's re-auth keeps the form: a dangerous action (delete a user, issue a
certificate) posted when the last proof is older than 5 minutes (the server runs under
libfaketime, the test moves its clock) answers the re-auth page carrying the post's fields
as hidden inputs, posting to the same action; with the password (or, for a user with a
TOTP factor, a code computed here from the otpauth seed) the change goes through in that
round trip, audited console.reauth then the change naming the admin.  A wrong proof is
401 with the fields still carried and nothing changed; a replayed code is refused; the
re-auth post is checked like any post (CSRF token, the target it names).  The proof is in
no log or audit record.  The standalone /admin/reauth still works.  The certificates page
lists in pages, the next one after the last serial shown.
"""
import base64
import hashlib
import hmac
import os
import re
import struct
import subprocess
import tempfile
import time
import urllib.parse

import console_common as cc
import mfa_common as mc
import sekisho_test as st
from console_common import Clock, console, form, submit

t = st.Tap()
PW = "Console-Passw0rd-2024!"
P12_PW = "p12-Passw0rd-long"
CODES = []      # every code typed here, to look for in the log and audit trail


def exists(srv, name):
    return srv.cli("user", "show", name, check=False).returncode == 0


def totp(secret, at):
    """RFC 6238: the 6-digit SHA-1 code of base32 secret for the 30 s step of time at."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)
    CODES.append(code)
    return code


def server_now(clock):
    return time.time() + clock.offset


def stale(b, srv, clock, name):
    """Move past the 5 minutes and ask to delete name: the re-auth page."""
    clock.forward(600)
    return submit(b, b.get(console(srv, "user") + "?name=" + name), "/user/delete", {})


def last_index(recs, event, *fields):
    hits = [i for i, (e, f) in enumerate(recs) if e == event and all(
        re.search(r"(^|\s)%s(\s|$)" % re.escape(kv), f) for kv in fields)]
    return hits[-1] if hits else -1


def reauth_then(srv, t, who, method, target):
    """The audit trail has console.reauth by who, then the removal of target by who."""
    recs = srv.audit()
    a = last_index(recs, "console.reauth", "user=" + who, "method=" + method)
    b = last_index(recs, "admin.user.remove", "user=" + target, "actor=console:" + who)
    t.ok(0 <= a < b, "audit: console.reauth %s (%s), then the removal of %s naming the admin"
         % (who, method, target), "\n".join("%s %s" % r for r in recs[-8:]))


def part_password(srv, boss, clock):
    r = stale(boss, srv, clock, "taro")
    f = form(r, "/admin/user/delete")
    t.ok(r.status_code == 403 and f["fields"].get("name") == "taro" and
         f["fields"].get("csrf") and "reauth_password" in f["fields"] and
         "back" not in f["fields"],
         "delete with a stale proof: the re-auth page posts to the delete with name=taro, "
         "a token and the password input", "%d %r" % (r.status_code, f))
    t.ok("reauth_code" not in f["fields"], "no code input for a user without TOTP")
    t.eq(r.headers.get("Cache-Control"), "no-store", "the page is not stored")
    t.ok(exists(srv, "taro"), "taro is still there")
    r2 = submit(boss, r, "/user/delete", {"reauth_password": "wrong-password"})
    f2 = form(r2, "/admin/user/delete")
    t.ok(r2.status_code == 401 and f2["fields"].get("name") == "taro" and
         'role="alert"' in r2.text, "a wrong password: 401, the page again with name=taro",
         r2.status_code)
    t.ok(exists(srv, "taro"), "taro is still there")
    srv.audit_has(t, "login.fail", "user=boss", "reason=bad_password", "page=console")
    r3 = submit(boss, r2, "/user/delete", {"reauth_password": PW})
    t.ok(r3.status_code == 200 and "The user was deleted" in r3.text,
         "the right password: the delete runs in the same round trip", r3.status_code)
    t.ok(not exists(srv, "taro"), "taro is gone")
    reauth_then(srv, t, "boss", "password", "taro")


def part_pkcs12(srv, boss, clock):
    clock.forward(600)
    r = submit(boss, boss.get(console(srv, "certs")), "/certs/issue",
               {"user": "jiro", "label": "laptop", "password": P12_PW})
    f = form(r, "/admin/certs/issue")
    t.ok(r.status_code == 403 and f["fields"].get("user") == "jiro" and
         f["fields"].get("label") == "laptop" and f["fields"].get("password") == P12_PW and
         r.headers.get("Cache-Control") == "no-store",
         "issue with a stale proof: the re-auth page carries user, label and the PKCS#12 "
         "password, not stored", "%d %r" % (r.status_code, r.headers))
    r2 = submit(boss, r, "/certs/issue", {"reauth_password": PW})
    t.ok(r2.status_code == 200 and r2.headers.get("Content-Type") == "application/x-pkcs12",
         "the password: the PKCS#12 file in the same round trip", r2.status_code)
    from cryptography.hazmat.primitives.serialization import pkcs12
    key, cert, _ = pkcs12.load_key_and_certificates(r2.content, P12_PW.encode())
    t.ok(key is not None and cert is not None, "it opens with the carried password")
    srv.audit_has(t, "cert.issue", "user=jiro", "actor=console:boss")


def part_post_checks(srv, boss, clock):
    r = stale(boss, srv, clock, "jiro")
    n = len(srv.audit_find("console.reauth"))
    r2 = submit(boss, r, "/user/delete", {"reauth_password": PW}, drop=("csrf",))
    t.eq(r2.status_code, 400, "the re-auth post without the CSRF token: refused (400)")
    t.ok(exists(srv, "jiro") and len(srv.audit_find("console.reauth")) == n,
         "nothing changed, no re-auth recorded")
    srv.audit_has(t, "console.reject", "user=boss", "reason=csrf")
    r3 = submit(boss, r, "/user/delete", {"reauth_password": PW, "name": "hanako"})
    t.ok(r3.status_code == 200 and not exists(srv, "hanako") and exists(srv, "jiro"),
         "a hidden field changed to another user: a post for that user, checked as any",
         r3.status_code)


def part_totp(srv, tb1, tb2, secret, clock):
    r = stale(tb1, srv, clock, "ken")
    f = form(r, "/admin/user/delete")
    t.ok(r.status_code == 403 and "reauth_code" in f["fields"] and
         "reauth_password" in f["fields"], "a user with TOTP: the code input too",
         r.status_code)
    good = totp(secret, server_now(clock))
    wrong = "%06d" % ((int(good) + 500000) % 1000000)
    CODES.append(wrong)
    r2 = submit(tb1, r, "/user/delete", {"reauth_code": wrong})
    t.ok(r2.status_code == 401 and form(r2, "/admin/user/delete")["fields"].get("name") ==
         "ken" and exists(srv, "ken"), "a wrong code: 401, the fields carried, ken stays",
         r2.status_code)
    r3 = submit(tb1, r2, "/user/delete", {"reauth_code": good})
    t.ok(r3.status_code == 200 and "The user was deleted" in r3.text and
         not exists(srv, "ken"), "the code: ken is deleted in the same round trip",
         r3.status_code)
    reauth_then(srv, t, "tboss", "otp", "ken")
    r = submit(tb2, tb2.get(console(srv, "user") + "?name=ichiro"), "/user/delete", {})
    r2 = submit(tb2, r, "/user/delete", {"reauth_code": good})
    t.ok(r2.status_code == 401 and exists(srv, "ichiro"),
         "the same code again (another stale session of tboss): refused, ichiro stays",
         r2.status_code)
    srv.audit_has(t, "login.factor.fail", "user=tboss", "method=otp", "page=console")
    nxt = totp(secret, server_now(clock) + 30)
    r3 = submit(tb2, r2, "/user/delete", {"reauth_code": nxt})
    t.ok(r3.status_code == 200 and not exists(srv, "ichiro"), "the next step's code: done",
         r3.status_code)
    r = stale(tb2, srv, clock, "mari")
    r2 = submit(tb2, r, "/user/delete", {"reauth_password": PW, "reauth_code": ""})
    t.ok(r2.status_code == 200 and not exists(srv, "mari"),
         "a user with TOTP may use the password (empty code input)", r2.status_code)


def part_standalone(srv, boss, clock):
    clock.forward(600)
    r = boss.get(console(srv, "reauth") + "?back=user&name=boss")
    f = form(r, "/admin/reauth")
    t.ok(r.status_code == 200 and f["fields"].get("back") == "user" and
         "password" in f["fields"], "GET /admin/reauth: the standalone form", r.status_code)
    r2 = submit(boss, r, "/admin/reauth", {"password": "wrong-password"})
    t.eq(r2.status_code, 401, "a wrong password: 401")
    r2 = submit(boss, r, "/admin/reauth", {"password": PW})
    t.ok(r2.status_code == 200 and "password was confirmed" in r2.text and
         "/admin/user?name=boss" in r2.url, "the password: back to the page it names", r2.url)
    r3 = submit(boss, boss.get(console(srv, "user") + "?name=yuki"), "/user/delete", {})
    t.ok(r3.status_code == 200 and not exists(srv, "yuki"),
         "then a delete runs without asking", r3.status_code)


def part_secrets(srv):
    text = srv.log() + "\n".join("%s %s" % r for r in srv.audit())
    leaks = [s for s in (PW, "wrong-password", P12_PW) if s in text]
    leaks += [c for c in CODES if re.search(r"(?<![0-9A-Za-z])%s(?![0-9A-Za-z])" % c, text)]
    t.ok(not leaks and "reauth_password" not in text and "reauth_code" not in text,
         "no password, code or re-auth input in the log or the audit trail", leaks)


def serials(r):
    return re.findall(r'data-serial="([0-9A-F]+)"', r.text)


def part_cert_pages(srv, tmp):
    key = os.path.join(tmp, "dev.key")
    csr = os.path.join(tmp, "dev.csr")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
                    "-subj", "/CN=device"], check=True, capture_output=True)
    for u in range(6):
        srv.add_user("dev%d" % u, PW)
        for i in range(9):
            srv.cli("cert", "issue", "dev%d" % u, "--label", "d%d" % i, "--csr", csr,
                    "--out", os.path.join(tmp, "dev%d-%d.pem" % (u, i)))
    all_serials = set(re.findall(r"\b([0-9A-F]{16,})\b",
                                 srv.cli("cert", "list").stdout.upper()))
    boss = cc.login(srv, "boss", PW)
    r = boss.get(console(srv, "certs"))
    first = serials(r)
    t.ok(r.status_code == 200 and len(first) == 50 and first == sorted(first) and
         'rel="next"' in r.text, "%d certificates: the first page shows 50, by serial, and "
         "links the next" % len(all_serials), len(first))
    nxt = re.search(r'href="([^"]+)" rel="next"', r.text).group(1).replace("&amp;", "&")
    r = boss.get(urllib.parse.urljoin(r.url, nxt))
    second = serials(r)
    t.ok(r.status_code == 200 and second and 'rel="next"' not in r.text and
         min(second) > max(first), "the second page: the rest, after the first", len(second))
    t.eq(set(first) | set(second), all_serials, "the two pages show every certificate once")
    r = boss.get(console(srv, "certs") + "?user=dev1")
    t.ok(len(serials(r)) == 9 and 'rel="next"' not in r.text, "a user's: 9, one page",
         len(serials(r)))
    r = boss.get(console(srv, "certs") + "?after=not-a-serial")
    t.eq(r.status_code, 400, "a cursor that is no serial: 400")


def main():
    tmp = tempfile.mkdtemp(prefix="sekisho-creauth-")
    clock = Clock(os.path.join(tmp, "clock"))
    srv = st.Server(env=st.faketime_env(clock.path))
    try:
        for name, role in (("boss", "admin"), ("tboss", "admin"), ("taro", None),
                           ("jiro", None), ("hanako", None), ("ken", None),
                           ("ichiro", None), ("mari", None), ("yuki", None)):
            srv.add_user(name, PW)
            if role:
                srv.cli("user", "set", name, "--role", role)
        boss = cc.login(srv, "boss", PW)
        tb1, tb2 = cc.login(srv, "tboss", PW), cc.login(srv, "tboss", PW)
        _, secret = mc.otp_add(srv, "tboss")
        t.run("re-auth with the password", part_password, srv, boss, clock)
        t.run("the PKCS#12 password carried", part_pkcs12, srv, boss, clock)
        t.run("the re-auth post is a post", part_post_checks, srv, boss, clock)
        t.run("re-auth with a TOTP code", part_totp, srv, tb1, tb2, secret, clock)
        t.run("standalone re-auth", part_standalone, srv, boss, clock)
        t.run("no proof in logs", part_secrets, srv)
        t.run("certificate pages", part_cert_pages, srv, tmp)
    finally:
        srv.close()
    t.done()


if __name__ == "__main__":
    main()
