#!/usr/bin/python3
"""End to end: file uploads in the console (multipart/form-data).

- The settings page uploads and removes the tenant's logo, an app's page its icon, each
  through the admin layer's functions (as PUT tenant/logo and PUT apps/{name}/icon do):
  GET /t/T/logo and the portal's icon route then give the bytes, the audit records name
  the admin (console:NAME).
- Refused with 400, a message naming the field, nothing changed and the server serving
  on: an SVG with a script, a file over 64 KiB, bytes that are neither PNG nor SVG, no
  file chosen, a second file, a part not expected, too many parts, a field too long, a
  missing boundary, a body cut short; a missing CSRF token; a helpdesk user (403).
- A multipart body anywhere else (settings/save) is no form: refused, nothing changed.
- The settings page's refusals name the input at fault (a bad time zone says "Time zone").
"""
import re

import console_common as cc
import sekisho_test as st

t = st.Tap()
PW = "Upload-Passw0rd-2026!"
def setup(srv):
    srv.add_user("boss", PW)
    srv.add_user("desk", PW)
    srv.add_user("carol", PW)
    srv.cli("user", "set", "boss", "--role", "admin")
    srv.cli("user", "set", "desk", "--role", "helpdesk")
    srv.cli("app", "add-oidc", "crm", "--redirect-uri", "https://crm.example.com/cb",
            "--public")


def upload(b, srv, page, form_id, fields=None, files=None, **kw):
    """POST the form form_id of console page with its hidden fields (and fields) and files."""
    r = b.get(cc.console(srv, page))
    f = [f for f in st.parse_forms(r.text) if f["id"] == form_id]
    if not f:
        raise RuntimeError("no form %s on %s: %s" % (form_id, page, r.text[:500]))
    data = dict(f[0]["fields"])
    data.pop("logo", None)
    data.pop("icon", None)
    data.update(fields or {})
    return b.post(srv.base() + "/admin/" + f[0]["action"].split("/admin/", 1)[1],
                  data, files=files, **kw)


def logo_now(srv):
    r = st.Browser(verify=srv.ca).get(srv.base() + "/logo")
    return r.status_code, r.content


def icon_now(b, srv):
    r = b.get(srv.base() + "/portal/icon/crm")
    return r.status_code, r.content


def logo_and_icon(srv):
    b = cc.login(srv, "boss", PW)
    page = b.get(cc.console(srv, "settings"))
    t.ok('enctype="multipart/form-data"' in page.text and 'type="file"' in page.text and
         'for="s-logo"' in page.text, "the settings page has a labelled logo upload form")
    image = cc.png()
    r = upload(b, srv, "settings", "logo-form", files={"logo": ("logo.png", image,
                                                                "image/png")})
    t.ok(r.status_code == 200 and "The logo was saved." in r.text,
         "upload a PNG logo: saved", r.text[-800:])
    t.eq(logo_now(srv), (200, image), "GET /t/T/logo gives the uploaded bytes")
    srv.audit_has(t, "admin.tenant.set", "actor=console:boss",
                  "logo=\"image/png %d bytes\"" % len(image))
    svg = (cc.SVG % "").encode()
    page = b.get(cc.console(srv, "app") + "?name=crm")
    t.ok('enctype="multipart/form-data"' in page.text and 'for="app-icon"' in page.text,
         "the app page has a labelled icon upload form")
    r = upload(b, srv, "app?name=crm", "icon-form",
               files={"icon": ("icon.svg", svg, "image/svg+xml")})
    t.ok(r.status_code == 200 and "The icon was saved." in r.text, "upload an SVG icon: saved",
         r.text[-800:])
    t.eq(icon_now(b, srv), (200, svg), "the portal's icon route gives the uploaded bytes")
    srv.audit_has(t, "admin.app.set", "actor=console:boss", "app=crm",
                  "icon=\"image/svg+xml %d bytes\"" % len(svg))
    return b


def removes(srv, b):
    r = upload(b, srv, "settings", "logo-remove-form")
    t.ok(r.status_code == 200 and "The logo was removed." in r.text, "remove the logo")
    t.eq(logo_now(srv)[0], 404, "then GET /t/T/logo is 404")
    r = upload(b, srv, "app?name=crm", "icon-remove-form")
    t.ok(r.status_code == 200 and "The icon was removed." in r.text, "remove the icon")
    t.eq(icon_now(b, srv)[0], 404, "then the icon route is 404")
    srv.audit_has(t, "admin.tenant.set", "actor=console:boss", "logo=removed")


def state(srv, b):
    return logo_now(srv), icon_now(b, srv), len(srv.audit_find("admin.tenant.set")), \
        len(srv.audit_find("admin.app.set"))


def refused(srv, b, what, r, words, before):
    t.ok(r.status_code == 400 and all(w in r.text for w in words),
         "%s: 400 saying %s" % (what, words), "%d %s" % (r.status_code,
                                                         re.sub(r"\s+", " ", r.text)[-600:]))
    t.eq(state(srv, b), before, "%s: nothing changed" % what)


def bad_files(srv, b):
    image = cc.png()
    upload(b, srv, "settings", "logo-form", files={"logo": ("l.png", image, "image/png")})
    upload(b, srv, "app?name=crm", "icon-form", files={"icon": ("i.png", image, "image/png")})
    before = state(srv, b)
    cases = [("an SVG with a script", (cc.SVG % "<script>alert(1)</script>").encode(),
              "SVG has a script element"),
             ("a file over 64 KiB", (cc.SVG % ("<!--%s-->" % ("x" * 70000))).encode(),
              "larger than 64 KiB"),
             ("text, not an image", b"hello", "not a PNG or SVG")]
    for what, data, words in cases:
        r = upload(b, srv, "settings", "logo-form",
                   files={"logo": ("f.svg", data, "image/svg+xml")})
        refused(srv, b, "logo: " + what, r, ["Logo:", words], before)
        t.ok("logo: logo:" not in r.text.lower(), "%s: the field is named once" % what)
        r = upload(b, srv, "app?name=crm", "icon-form",
                   files={"icon": ("f.svg", data, "application/octet-stream")})
        refused(srv, b, "icon: " + what, r, ["Icon:", words], before)
    r = upload(b, srv, "app?name=crm", "icon-form",
               files={"icon": ("f.png", (cc.SVG % "").encode(), "image/png")})
    refused(srv, b, "icon: an SVG declared as PNG", r, ["Icon:", "not image/png"], before)
    r = upload(b, srv, "settings", "logo-form", files={"logo": ("", b"",
                                                               "application/octet-stream")})
    refused(srv, b, "logo: no file chosen", r, ["Choose a PNG or SVG file"], before)
    return before


def raw_post(b, srv, path, body, ctype):
    return b.post(srv.base() + "/admin/" + path, body, headers={"Content-Type": ctype})


def part(name, value, filename=None, ctype=None):
    head = 'Content-Disposition: form-data; name="%s"' % name
    if filename is not None:
        head += '; filename="%s"' % filename
    if ctype:
        head += "\r\nContent-Type: " + ctype
    return ("--XyZ\r\n%s\r\n\r\n" % head).encode() + value + b"\r\n"


def bad_bodies(srv, b, before):
    csrf = cc.csrf_of(b, srv, "boss").encode()
    image = cc.png()
    ok = part("csrf", csrf) + part("logo", image, "l.png", "image/png") + b"--XyZ--\r\n"
    mp = "multipart/form-data; boundary=XyZ"
    cases = [
        ("a second file", part("csrf", csrf) + part("logo", image, "a.png", "image/png") +
         part("logo", image, "b.png", "image/png") + b"--XyZ--\r\n", mp, "second file"),
        ("a part not expected", part("csrf", csrf) + part("display_name", b"Evil") +
         part("logo", image, "l.png", "image/png") + b"--XyZ--\r\n", mp, "not expected"),
        ("a file under a text field's name", part("csrf", csrf, "c.txt", "text/plain") +
         b"--XyZ--\r\n", mp, "not expected"),
        ("too many parts", part("csrf", csrf) + part("logo", image, "l.png", "image/png") +
         part("csrf", csrf) + b"--XyZ--\r\n", mp, "more parts than expected"),
        ("a field twice", part("csrf", csrf) + part("csrf", csrf) + b"--XyZ--\r\n", mp,
         "sent twice"),
        ("a field too long", part("csrf", b"x" * 5000) + b"--XyZ--\r\n", mp,
         "longer than allowed"),
        ("no boundary", ok, "multipart/form-data", "no boundary"),
        ("a body cut short", ok[:len(ok) // 2], mp, "cut short"),
        ("no closing boundary", ok[:-len(b"--XyZ--\r\n")], mp, "cut short"),
        ("a body without parts", b"garbage\r\n", mp, "cut short"),
    ]
    for what, body, ctype, words in cases:
        r = raw_post(b, srv, "settings/logo", body, ctype)
        refused(srv, b, what, r, ["The upload could not be read", words], before)
    t.eq(len(srv.audit_find("console.reject", "reason=upload")), len(cases),
         "each unreadable upload is a console.reject record")
    r = raw_post(b, srv, "settings/logo", ok, mp)
    t.ok(r.status_code == 200 and "The logo was saved." in r.text,
         "the server serves on: the same body whole is saved")
    return state(srv, b)


def csrf_and_roles(srv, b, before):
    r = upload(b, srv, "settings", "logo-form", fields={"csrf": "forged"},
               files={"logo": ("l.svg", (cc.SVG % "").encode(), "image/svg+xml")})
    refused(srv, b, "a wrong CSRF token", r, [], before)
    body = part("logo", (cc.SVG % "").encode(), "l.svg", "image/svg+xml") + b"--XyZ--\r\n"
    r = raw_post(b, srv, "settings/logo", body, "multipart/form-data; boundary=XyZ")
    refused(srv, b, "no CSRF token", r, [], before)
    desk = cc.login(srv, "desk", PW)
    dcsrf = cc.csrf_of(desk, srv, "carol").encode()
    for path, name in (("settings/logo", "logo"), ("app/icon", "icon")):
        body = (part("csrf", dcsrf) + part("name", b"crm") +
                part(name, (cc.SVG % "").encode(), "l.svg", "image/svg+xml") + b"--XyZ--\r\n")
        r = raw_post(desk, srv, path, body, "multipart/form-data; boundary=XyZ")
        t.eq(r.status_code, 403, "a helpdesk user's upload to %s: 403" % path)
        t.eq(state(srv, b), before, "and nothing changed")


def multipart_elsewhere(srv, b, before):
    csrf = cc.csrf_of(b, srv, "boss").encode()
    body = part("csrf", csrf) + part("display_name", b"Evil Corp") + b"--XyZ--\r\n"
    r = raw_post(b, srv, "settings/save", body, "multipart/form-data; boundary=XyZ")
    t.eq(r.status_code, 400, "a multipart body to settings/save (takes no file): refused")
    t.ok("Evil Corp" not in b.get(cc.console(srv, "settings")).text,
         "and the display name is unchanged")
    t.eq(state(srv, b), before, "nothing else changed")


def settings_names_field(srv, b):
    r = cc.submit(b, b.get(cc.console(srv, "settings")), "/settings/save",
                  {"timezone": "Mars/Olympus_Mons"})
    t.ok(r.status_code == 400 and "unknown time zone" in r.text and "Time zone" in r.text,
         "a bad time zone: the message names the input (Time zone)",
         re.sub(r"\s+", " ", r.text)[-500:])
    r = cc.submit(b, b.get(cc.console(srv, "settings")), "/settings/save",
                  {"color": "green"})
    t.ok(r.status_code == 400 and "Accent colour" in r.text,
         "a bad colour: the message names the input (Accent colour)")
    r = cc.submit(b, b.get(cc.console(srv, "settings") + "?lang=ja"), "/settings/save",
                  {"help_url": "ftp://x"})
    t.ok(r.status_code == 400 and "ヘルプのリンク" in r.text and "help URL must be" in r.text,
         "in Japanese too: a bad help link names its input (ヘルプのリンク)",
         re.sub(r"\s+", " ", r.text)[-500:])


def japanese(srv, b):
    page = b.get(cc.console(srv, "settings") + "?lang=ja").text
    t.ok("ロゴをアップロード" in page and "画像ファイル" in page, "the logo form in Japanese")
    page = b.get(cc.console(srv, "app") + "?name=crm&lang=ja").text
    t.ok("アイコンをアップロード" in page, "the icon form in Japanese")


def main():
    srv = st.Server()
    try:
        setup(srv)
        b = t.run("upload a logo and an icon", logo_and_icon, srv)
        if b is not None:
            t.run("remove them", removes, srv, b)
            before = t.run("bad files", bad_files, srv, b)
            if before is not None:
                before = t.run("bad bodies", bad_bodies, srv, b, before)
            if before is not None:
                t.run("CSRF and roles", csrf_and_roles, srv, b, before)
                t.run("multipart elsewhere", multipart_elsewhere, srv, b, before)
            t.run("Japanese", japanese, srv, b)
        b2 = cc.login(srv, "boss", PW)
        t.run("settings errors name the field", settings_names_field, srv, b2)
    finally:
        srv.close()
    t.done()


if __name__ == "__main__":
    main()
