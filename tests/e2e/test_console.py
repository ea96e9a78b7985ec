"""The admin console (/t/TENANT/admin): its frame, users and groups, as people use it.

Roles come from `sekisho user set NAME --role admin|helpdesk` (the command that stores a
user's role).  An admin creates a user and a group and adds the member through the forms;
a helpdesk user sees the users but gets 403 for group creation, and forged POSTs to
admin-only actions are refused by the server with nothing changed, as are a reset link
or an unlock for an admin (a role above theirs: that would take the admin's account); a plain user gets 403
for the console; without a session the console sends to the login page.  A POST without a
CSRF token or with another session's is refused.  Deleting a user when the last proof is
older than 5 minutes (the server runs under libfaketime, the test moves its clock) asks
for the password first, then deletes.  The audit records name the admin (console:NAME) and address.
The pages carry a CSP without unsafe-inline, frame-ancestors 'none', HSTS, no-store, and
speak Japanese.
"""
import os
import re
import tempfile
import urllib.parse

import console_common as cc
import sekisho_test as st
from console_common import Clock, console, has_form, submit

t = st.Tap()
PW = "Console-Passw0rd-2024!"


def login(srv, user):
    return cc.login(srv, user, PW)


def csrf_of(b, srv):
    return cc.csrf_of(b, srv, "plain")


def exists(srv, *args):
    return srv.cli(*args, check=False).returncode == 0


def members(srv, group):
    return srv.cli("group", "members", group, check=False).stdout.split()


def part_frame(srv):
    b = st.Browser(verify=srv.ca)
    r = b.get(console(srv))
    t.ok(r.status_code == 200 and urllib.parse.urlsplit(r.url).path.endswith("/login"),
         "console without a session: the login page", r.url)
    r = b.submit_login(r, "boss", PW)
    t.ok(r.status_code == 200 and urllib.parse.urlsplit(r.url).path.endswith("/admin") and
         "Admin console" in r.text, "after the login, back to the console", r.url)
    r = b.get(srv.base() + "/resume?r=" + "A" * 43)
    t.eq(r.status_code, 400, "a made-up parked id: the expiry page, no redirect")
    plain = login(srv, "plain")
    r = plain.get(console(srv))
    t.eq(r.status_code, 403, "a plain user: 403 for the console")
    t.eq(plain.get(console(srv, "users")).status_code, 403, "a plain user: 403 for users")
    srv.audit_has(t, "console.reject", "user=plain", "reason=role")
    boss = login(srv, "boss")
    r = boss.get(console(srv))
    t.ok(r.status_code == 200 and "Admin console" in r.text, "an admin: the console")
    csp = r.headers.get("Content-Security-Policy", "")
    t.ok(csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp,
         "CSP without unsafe-inline, frame-ancestors 'none'", csp)
    t.ok("Strict-Transport-Security" in r.headers, "HSTS", dict(r.headers))
    t.eq(r.headers.get("Cache-Control"), "no-store", "console pages are not stored")
    t.ok("<script" not in r.text and "style=" not in r.text, "no inline script or style")
    rj = boss.get(console(srv) + "?lang=ja")
    t.ok("管理コンソール" in rj.text and "ユーザー" in rj.text, "the console in Japanese")
    boss.get(console(srv) + "?lang=en")
    t.eq(boss.get(console(srv, "nothing")).status_code, 404, "an unknown console page: 404")
    return boss


def part_admin(srv, boss):
    r = boss.get(console(srv, "users"))
    t.ok(r.status_code == 200 and 'data-user="plain"' in r.text, "users list", r.status_code)
    r = submit(boss, r, "/users/add", {"name": "taro", "display_name": "山田 太郎",
                                        "email": "taro@example.jp"})
    t.ok(r.status_code == 200 and "The user was added" in r.text and "山田 太郎" in r.text,
         "an admin creates a user through the form: its page with a notice", r.status_code)
    t.ok("display_name=山田 太郎" in srv.cli("user", "show", "taro").stdout or
         "山田 太郎" in srv.cli("user", "show", "taro").stdout, "the user is stored")
    srv.audit_has(t, "admin.user.add", "user=taro", "actor=console:boss", "ip=127.0.0.1")
    r = submit(boss, boss.get(console(srv, "users")), "/users/add", {"name": "bad name!"})
    t.ok(r.status_code == 400 and "name" in r.text, "a bad name: 400 saying why",
         r.status_code)
    r = boss.get(console(srv, "users") + "?q=TARO")
    t.ok('data-user="taro"' in r.text and 'data-user="plain"' not in r.text,
         "search (without regard to case) finds only the match")
    r = submit(boss, boss.get(console(srv, "user") + "?name=taro"), "/user/edit",
               {"display_name": "山田 太郎 (営業)", "email": "taro2@example.jp",
                "attrs": "dept=営業\r\nfloor=3\r\n"})
    t.ok(r.status_code == 200 and "taro2@example.jp" in r.text, "edit the e-mail and name")
    show = srv.cli("user", "show", "taro").stdout
    t.ok("dept=営業" in show and "floor=3" in show and "\r" not in show,
         "and the attributes (a textarea's CRLF lines)", show)
    r = submit(boss, r, "/user/edit", {"attrs": "no equals sign"})
    t.ok(r.status_code == 400 and "KEY=VALUE" in r.text, "bad attributes: 400 saying why",
         r.status_code)
    srv.audit_has(t, "admin.user.set", "user=taro", "actor=console:boss")
    r = submit(boss, boss.get(console(srv, "groups")), "/groups/add", {"name": "sales"})
    t.ok(r.status_code == 200 and "The group was added" in r.text, "an admin adds a group")
    srv.audit_has(t, "admin.group.add", "group=sales", "actor=console:boss", "ip=127.0.0.1")
    r = submit(boss, r, "/group/member/add", {"user": "taro"})
    t.ok(r.status_code == 200 and 'data-member="taro"' in r.text, "and adds the member")
    t.eq(members(srv, "sales"), ["taro"], "the membership is stored")
    srv.audit_has(t, "admin.group.add_member", "group=sales", "user=taro",
                  "actor=console:boss")
    r = submit(boss, boss.get(console(srv, "user") + "?name=taro"), "/user/disable", {})
    t.ok("The user was disabled" in r.text and "Disabled" in r.text, "disable a user")
    r = submit(boss, r, "/user/disable", {})
    t.ok("The user was enabled" in r.text, "and enable again")
    r = submit(boss, r, "/user/reset", {})
    link = re.search(r'<code id="reset-url">([^<]+)</code>', r.text)
    t.ok(r.status_code == 200 and link and "/reset?token=" in link.group(1),
         "a reset link, shown on the page", r.status_code)
    again = boss.get(console(srv, "user") + "?name=taro").text
    t.ok(link and link.group(1) not in again, "the link is shown once")
    srv.audit_has(t, "admin.user.reset_password", "user=taro", "actor=console:boss")
    pages = [("users", "ユーザーの追加"), ("user?name=taro", "ユーザーを削除"),
             ("groups", "グループの追加"), ("group?name=sales", "メンバーに追加")]
    for page, text in pages:
        r = boss.get(console(srv, page) + ("&" if "?" in page else "?") + "lang=ja")
        t.ok(r.status_code == 200 and text in r.text, "%s in Japanese" % page, r.status_code)
    boss.get(console(srv) + "?lang=en")


def part_csrf(srv, boss):
    before = srv.cli("group", "list").stdout
    r = boss.post(console(srv, "groups/add"), {"name": "nocsrf"})
    t.eq(r.status_code, 400, "a POST without a CSRF token: 400")
    other = login(srv, "boss")
    r = boss.post(console(srv, "groups/add"), {"name": "nocsrf", "csrf": csrf_of(other, srv)})
    t.eq(r.status_code, 400, "a POST with another session's CSRF token: 400")
    acct = re.search(r'name="csrf" value="([^"]+)"', boss.get(srv.base() + "/account").text)
    r = boss.post(console(srv, "groups/add"), {"name": "nocsrf", "csrf": acct.group(1)})
    t.eq(r.status_code, 400, "a POST with this session's account-page token: 400")
    t.eq(srv.cli("group", "list").stdout, before, "nothing changed")
    srv.audit_has(t, "console.reject", "user=boss", "reason=csrf")


def part_helpdesk(srv):
    hd = login(srv, "helper")
    r = hd.get(console(srv, "users"))
    t.ok(r.status_code == 200 and 'data-user="taro"' in r.text, "helpdesk sees the users")
    t.ok(not has_form(r, "/users/add"), "helpdesk: no add-user form")
    r = hd.get(console(srv, "user") + "?name=taro")
    t.ok(has_form(r, "/user/unlock") and has_form(r, "/user/reset") and
         not has_form(r, "/user/delete") and not has_form(r, "/user/edit"),
         "helpdesk: unlock and reset offered, delete and edit not")
    t.ok(not has_form(hd.get(console(srv, "groups")), "/groups/add"),
         "helpdesk: no add-group form")
    csrf = csrf_of(hd, srv)
    forged = [("groups/add", {"name": "hdgroup"}),
              ("users/add", {"name": "hduser"}),
              ("user/edit", {"name": "taro", "email": "evil@example.jp"}),
              ("user/disable", {"name": "taro"}),
              ("user/delete", {"name": "taro"}),
              ("group/member/add", {"name": "sales", "user": "helper"}),
              ("group/delete", {"name": "sales"})]
    for path, data in forged:
        r = hd.post(console(srv, path), dict(data, csrf=csrf))
        t.eq(r.status_code, 403, "helpdesk: forged POST %s refused (403)" % path)
    t.ok(not exists(srv, "user", "show", "hduser") and "hdgroup" not in
         srv.cli("group", "list").stdout, "nothing was added")
    show = srv.cli("user", "show", "taro").stdout
    t.ok("evil@example.jp" not in show and "disabled" not in show.replace(
        "disabled=off", ""), "taro unchanged", show)
    t.eq(members(srv, "sales"), ["taro"], "sales unchanged")
    r = hd.get(console(srv, "user") + "?name=boss")
    t.ok(r.status_code == 200 and not has_form(r, "/user/reset") and
         not has_form(r, "/user/unlock"), "helpdesk: no reset or unlock offered for an admin")
    for path in ("user/reset", "user/unlock"):
        r = hd.post(console(srv, path), {"name": "boss", "csrf": csrf})
        t.ok(r.status_code == 403 and "reset?token=" not in r.text,
             "helpdesk: forged %s for an admin refused (403)" % path, r.status_code)
    t.ok(not srv.audit_find("admin.user.reset_password", "user=boss") and
         not srv.audit_find("admin.user.unlock", "user=boss"), "no reset link was made")
    srv.audit_has(t, "console.reject", "user=helper", "reason=rank", "target=boss")
    r = submit(hd, hd.get(console(srv, "user") + "?name=taro"), "/user/unlock", {})
    t.ok(r.status_code == 200 and "unlocked" in r.text, "helpdesk may unlock", r.status_code)
    srv.audit_has(t, "admin.user.unlock", "user=taro", "actor=console:helper")


def part_devices(srv, boss, tmp):
    """kenji's factor, certificate and session, handled from his page."""
    srv.add_user("kenji", PW)
    kenji = login(srv, "kenji")
    r = kenji.get(srv.base() + "/account")
    t.ok(r.status_code == 200 and "/account" in r.url, "kenji is signed in", r.url)
    srv.cli("user", "otp", "add", "kenji", "--label", "token")
    p12 = os.path.join(tmp, "kenji.p12")
    out = srv.cli("cert", "issue", "kenji", "--label", "laptop", "--out", p12,
                  "--password-stdin", input="P12-Passw0rd-2024!\n").stdout
    serial = re.search(r"^serial=([0-9A-F]+)$", out, re.M).group(1)
    hd = login(srv, "helper")
    page = hd.get(console(srv, "user") + "?name=kenji")
    fid = re.search(r'data-factor-id="([0-9a-f]+)"', page.text)
    t.ok(fid and 'data-serial="%s"' % serial in page.text and "data-session=" in page.text,
         "kenji's page: the factor, the certificate, the session", page.text[:300])
    r = submit(hd, page, "/user/factor/remove", {})
    t.ok(r.status_code == 200 and "second factor was removed" in r.text and
         "data-factor-id" not in r.text, "helpdesk removes the factor", r.status_code)
    srv.audit_has(t, "admin.user.factor_remove", "user=kenji", "actor=console:helper")
    kenji2 = login(srv, "kenji")
    page = boss.get(console(srv, "user") + "?name=kenji")
    t.eq(len(re.findall(r"data-session=", page.text)), 2, "kenji has two sessions")
    t.ok(not has_form(hd.get(console(srv, "user") + "?name=kenji"), "/user/session/end"),
         "helpdesk: no sign-out of sessions")
    r = submit(boss, page, "/user/session/end", {})
    t.ok(r.status_code == 200 and "session was signed out" in r.text, "an admin signs "
         "kenji's session out", r.status_code)
    out = [urllib.parse.urlsplit(b.get(srv.base() + "/account").url).path.endswith("/login")
           for b in (kenji, kenji2)]
    t.ok(sorted(out) == [False, True], "that session is signed out, the other goes on", out)
    srv.audit_has(t, "admin.user.session_end", "user=kenji", "actor=console:boss")
    r = submit(hd, hd.get(console(srv, "user") + "?name=kenji"), "/user/cert/revoke", {})
    t.ok(r.status_code == 200 and "certificate was revoked" in r.text,
         "helpdesk revokes the certificate (recent proof: just signed in)", r.status_code)
    t.ok("revoked" in srv.cli("cert", "show", serial).stdout, "the certificate is revoked")
    srv.audit_has(t, "cert.revoke", "serial=" + serial, "actor=console:helper",
                  "ip=127.0.0.1")
    r = hd.post(console(srv, "user/cert/revoke"), {"name": "plain", "serial": serial,
                                                    "csrf": csrf_of(hd, srv)})
    t.eq(r.status_code, 404, "a certificate through another user's page: 404")


def part_paging(srv, boss, tmp):
    path = os.path.join(tmp, "many.tsv")
    with open(path, "w") as f:
        for i in range(60):
            f.write("bulk%02d\tbulk%02d@example.jp\tバルク %d\n" % (i, i, i))
    srv.cli("user", "import", path)
    r = boss.get(console(srv, "users") + "?q=bulk")
    rows = re.findall(r'data-user="(bulk\d+)"', r.text)
    t.ok(len(rows) == 50 and 'rel="next"' in r.text and 'rel="prev"' not in r.text,
         "60 matches: the first page shows 50 and links the next", len(rows))
    nxt = re.search(r'href="([^"]+)" rel="next"', r.text).group(1).replace("&amp;", "&")
    r = boss.get(urllib.parse.urljoin(r.url, nxt))
    rows2 = re.findall(r'data-user="(bulk\d+)"', r.text)
    t.ok(len(rows2) == 10 and not set(rows) & set(rows2) and 'rel="prev"' in r.text,
         "the second page: the other 10", len(rows2))
    r = boss.get(console(srv, "users") + "?q=%E3%83%90%E3%83%AB%E3%82%AF%2059")
    t.ok(re.findall(r'data-user="(bulk\d+)"', r.text) == ["bulk59"],
         "search by a Japanese display name")


def part_reauth(srv, boss, clock):
    clock.forward(600)
    page = boss.get(console(srv, "user") + "?name=taro")
    r = submit(boss, page, "/user/delete", {})
    t.ok(r.status_code == 403 and has_form(r, "/admin/user/delete") and
         'name="reauth_password"' in r.text, "delete without a recent proof: the password form",
         r.status_code)
    t.ok(exists(srv, "user", "show", "taro"), "the user is still there")
    r2 = submit(boss, r, "/admin/user/delete", {"reauth_password": "wrong-password"})
    t.eq(r2.status_code, 401, "a wrong password: 401")
    r3 = submit(boss, r, "/admin/user/delete", {"reauth_password": PW})
    srv.audit_has(t, "console.reauth", "user=boss")
    t.ok(r3.status_code == 200 and "The user was deleted" in r3.text,
         "the right one: the delete runs", r3.status_code)
    t.ok(not exists(srv, "user", "show", "taro"), "the user is gone")
    srv.audit_has(t, "admin.user.remove", "user=taro", "actor=console:boss", "ip=127.0.0.1")
    r = submit(boss, boss.get(console(srv, "group") + "?name=sales"), "/group/delete", {})
    t.ok(r.status_code == 200 and "The group was deleted" in r.text,
         "group delete within the 5 minutes", r.status_code)


def main():
    tmp = tempfile.mkdtemp(prefix="sekisho-console-")
    clock = Clock(os.path.join(tmp, "clock"))
    srv = st.Server(env=st.faketime_env(clock.path))
    try:
        for name, role in (("boss", "admin"), ("helper", "helpdesk"), ("plain", None)):
            srv.add_user(name, PW)
            if role:
                srv.cli("user", "set", name, "--role", role)
        boss = t.run("frame and roles", part_frame, srv)
        if boss:
            t.run("an admin's users and groups", part_admin, srv, boss)
            t.run("CSRF", part_csrf, srv, boss)
            t.run("helpdesk", part_helpdesk, srv)
            t.run("factors, devices, sessions", part_devices, srv, boss, tmp)
            t.run("search and pages", part_paging, srv, boss, tmp)
            t.run("recent proof", part_reauth, srv, boss, clock)
    finally:
        srv.close()
    t.done()


if __name__ == "__main__":
    main()
