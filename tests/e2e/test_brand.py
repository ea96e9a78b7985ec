#!/usr/bin/python3
"""A tenant's branding (display name, logo, accent colour, help URL) and users' console
roles, set through the command line and the admin API and seen on the pages.

- `tenant set --display-name --logo --color --help-url`: the login page (before anyone
  signs in) and the portal show the company instead of the product's name, the logo from
  /t/T/logo (an SVG under a sandboxing CSP), the help link, and link /t/T/brand.css, which
  carries the colour (as #rrggbb), answers 304 to its ETag and has no inline style to
  need; the page's CSP still has no unsafe-inline.  Another tenant shows none of it.
- Any colour is accepted: the stylesheet puts white text on a dark accent and black text
  on a light one (the issue's #0a5), at least 4.5:1 either way.
- Bad values (an empty or control-character name, a 129-character name, a malformed
  colour, an http:
  or javascript: help URL, an SVG logo with a script): refused naming the option or the
  member, and nothing changes (GET tenant and the page as before, no record).
- PATCH tenant and PUT/DELETE tenant/logo do the same; null clears.
- `user set --role` and PATCH users {"role"} set the role (`user show`, GET users), audited
  as admin.user.set role=; an unknown role is refused and changes nothing.
- An OIDC client's initiate_login_uri through the CLI and the API (https, or http to a
  loopback host only).
"""
import re
import struct
import zlib

import api_common
from api_common import ApiClient
from sekisho_test import Browser, Server, Tap

t = Tap()
PASSWORD = "correct horse battery"
ACME = "株式会社アクメ"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7"/></svg>'
BAD_SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def png(w=16, h=16):
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IEND", b""))


def login_page(srv, tenant="default"):
    b = Browser(verify=srv.ca)
    return b, b.get(srv.base(tenant) + "/login")


def header(html):
    m = re.search(r'<header class="top">(.*?)</header>', html, re.S)
    return m.group(1) if m else ""


def write(tmp, name, data):
    import os
    p = os.path.join(tmp, name)
    with open(p, "wb") as f:
        f.write(data)
    return p


def tenant_sets(srv):
    return srv.audit_find("admin.tenant.set")


def cli_branding(srv, tmp):
    logo = write(tmp, "logo.svg", SVG)
    r = srv.cli("tenant", "set", "default", "--display-name", ACME, "--logo", logo,
                "--color", "#075", "--help-url", "mailto:help@acme.example")
    t.eq(r.stdout, "tenant default display_name=%s logo=image/svg+xml color=#007755 "
         "help_url=mailto:help@acme.example\n" % ACME, "tenant set prints the branding")
    rec = tenant_sets(srv)[-1]
    t.ok("color=#007755" in rec and "image/svg+xml %d bytes" % len(SVG) in rec,
         "audited as admin.tenant.set with the colour and the logo", rec)
    b, r = login_page(srv)
    h = header(r.text)
    t.ok(ACME in h and "Sekisho" not in h, "the login page shows the company, not the product",
         h)
    t.ok("<title>" in r.text and ("- %s</title>" % ACME) in r.text, "and in its title")
    m = re.search(r'<img class="logo" src="(/t/default/logo\?v=[0-9a-f]{16})"', h)
    t.ok(m is not None, "the header has the logo", h)
    t.ok('href="mailto:help@acme.example"' in h, "and the help link", h)
    css = re.search(r'<link rel="stylesheet" href="(/t/default/brand\.css\?v=[0-9a-f]{16})">',
                    r.text)
    t.ok(css is not None, "the page links the tenant's stylesheet")
    csp = r.headers.get("Content-Security-Policy", "")
    t.ok("unsafe-inline" not in csp and "style=" not in r.text,
         "no inline style and no unsafe-inline in the page's CSP", csp)
    if m:
        lg = b.get(srv.url + m.group(1))
        t.ok(lg.status_code == 200 and lg.content == SVG and
             lg.headers.get("Content-Type") == "image/svg+xml", "/t/T/logo serves the SVG")
        t.ok("sandbox" in lg.headers.get("Content-Security-Policy", ""),
             "under a sandboxing CSP")
    if css:
        c = b.get(srv.url + css.group(1))
        t.ok(c.status_code == 200 and "background: #007755; color: #ffffff" in c.text and
             c.headers.get("Content-Type", "").startswith("text/css"),
             "brand.css carries the colour, with white text on it", c.text)
        etag = c.headers.get("ETag")
        c2 = b.get(srv.url + css.group(1), headers={"If-None-Match": etag or "x"})
        t.eq(c2.status_code, 304, "brand.css answers 304 to its ETag")
    o = login_page(srv, "other")[1]
    t.ok(ACME not in o.text and "brand.css" not in o.text and "Sekisho" in header(o.text),
         "another tenant shows none of it")


REFUSED = [
    (["--display-name", ""], "--display-name", "1 to 128 characters"),
    (["--display-name", "a\x01b"], "--display-name", "control character"),
    (["--display-name", "あ" * 129], "--display-name", "1 to 128 characters"),
    (["--color", "green"], "--color", "#rgb or #rrggbb"),
    (["--help-url", "http://help.example"], "--help-url", "https"),
    (["--help-url", "javascript:alert(1)"], "--help-url", "https"),
]


def cli_refusals(srv, tmp):
    before, n = srv.cli("tenant", "set", "default", "--display-name", ACME).stdout, \
        len(tenant_sets(srv))
    page = header(login_page(srv)[1].text)
    for args, opt, why in REFUSED:
        r = srv.cli("tenant", "set", "default", "--timezone", "UTC", *args, check=False)
        t.ok(r.returncode == 1 and r.stderr.startswith("sekisho: " + opt) and why in r.stderr,
             "refused: %s %r" % (opt, args[1][:20]), r.stderr)
    r = srv.cli("tenant", "set", "default", "--logo", write(tmp, "bad.svg", BAD_SVG),
                check=False)
    t.ok(r.returncode == 1 and "--logo" in r.stderr and "script" in r.stderr,
         "an SVG logo with a script is refused", r.stderr)
    r = srv.cli("tenant", "set", "default", "--color", "#075", "--no-color", check=False)
    t.eq(r.returncode, 2, "--color and --no-color exclude each other")
    t.eq(len(tenant_sets(srv)), n, "no refusal is recorded")
    t.eq(srv.cli("policy", "list").stdout.split("\n", 1)[0], "default=allow timezone=Asia/Tokyo",
         "a refusal next to a good setting changes nothing")
    t.eq(header(login_page(srv)[1].text), page, "the page is as before")
    r = srv.cli("tenant", "set", "default", "--display-name", ACME)
    t.eq(r.stdout, before, "the branding is as before")


def light_accent(srv):
    """The issue's own example, #0a5, is too light for white text: black text goes on it."""
    r = srv.cli("tenant", "set", "default", "--color", "#0a5")
    t.ok("color=#00aa55" in r.stdout, "--color '#0a5' is accepted as #00aa55", r.stdout)
    b, page = login_page(srv)
    css = re.search(r'href="(/t/default/brand\.css\?v=[0-9a-f]{16})"', page.text)
    c = b.get(srv.url + css.group(1)) if css else None
    t.ok(c is not None and "background: #00aa55; color: #000000" in c.text,
         "brand.css puts black text on it", c.text if c is not None else "no brand.css link")
    srv.cli("tenant", "set", "default", "--color", "#075")


def mixed_change(srv, api):
    """Settings and branding in one change are one commit with one audit record (they were
    two), and a refused branding value leaves the settings unchanged too."""
    n = len(tenant_sets(srv))
    srv.cli("tenant", "set", "default", "--timezone", "Asia/Tokyo", "--display-name", "アクメ")
    recs = tenant_sets(srv)[n:]
    t.ok(len(recs) == 1 and "timezone=Asia/Tokyo" in recs[0] and "display_name=アクメ" in recs[0],
         "tenant set with --timezone and --display-name: one admin.tenant.set record with both",
         recs)
    n = len(tenant_sets(srv))
    api.call("PATCH", "tenant", json={"default_effect": "deny", "color": "#123456"})
    recs = tenant_sets(srv)[n:]
    t.ok(len(recs) == 1, "PATCH of a setting and a colour (200): one record",
         recs)
    srv.cli("tenant", "set", "default", "--default", "allow", "--no-display-name")


def api_branding(srv, api):
    r = api.call("GET", "tenant")
    t.ok(r.body["display_name"] == ACME and r.body["color"] == "#007755" and
         r.body["has_logo"] is True, "GET tenant shows the branding", r.body)
    r = api.call("PATCH", "tenant", json={"display_name": "Acme Corp", "color": "#123",
                                         "help_url": None})
    t.ok(r.body["display_name"] == "Acme Corp" and r.body["color"] == "#112233" and
         r.body["help_url"] is None, "PATCH sets the name and colour and clears the help URL",
         r.body)
    h = header(login_page(srv)[1].text)
    t.ok("Acme Corp" in h and "mailto:" not in h, "the login page follows", h)
    n = len(tenant_sets(srv))
    for body, field in (({"color": "green"}, "color"), ({"display_name": ""}, "display_name"),
                        ({"help_url": "ftp://x"}, "help_url"),
                        ({"timezone": "UTC", "color": "#eeef"}, "color")):
        r = api.call("PATCH", "tenant", json=body, expect=400, raw=True)
        t.eq(r.body.get("field"), field, "PATCH %s refused naming %s" % (body, field))
    t.eq(len(tenant_sets(srv)), n, "nothing recorded")
    t.eq(api.call("GET", "tenant").body["timezone"], "Asia/Tokyo", "nothing changed")
    good = png()
    r = api.call("PUT", "tenant/logo", data=good, content_type="image/png")
    t.eq(r.body["has_logo"], True, "PUT tenant/logo sets a PNG")
    g = api.call("GET", "tenant/logo")
    t.ok(g.content == good and g.headers.get("Content-Type") == "image/png",
         "GET tenant/logo answers it")
    r = api.call("PUT", "tenant/logo", data=BAD_SVG, content_type="image/svg+xml",
                 expect=400)
    t.eq(r.body.get("field"), "logo", "an SVG with a script: 400 naming logo")
    t.eq(api.call("GET", "tenant/logo").content, good, "the logo is as before")
    b, p = login_page(srv)
    m = re.search(r'src="(/t/default/logo\?v=[0-9a-f]{16})"', p.text)
    t.ok(m is not None and b.get(srv.url + m.group(1)).content == good,
         "the page shows the logo set through the API")
    api.call("DELETE", "tenant/logo")
    api.call("GET", "tenant/logo", expect=404)
    t.ok('class="logo"' not in login_page(srv)[1].text, "DELETE removes it from the page")
    r = api.call("PATCH", "tenant", json={"display_name": None, "color": None})
    t.ok(r.body["display_name"] is None and r.body["color"] is None, "null clears")
    p = login_page(srv)[1].text
    t.ok("brand.css" not in p and "Sekisho" in header(p),
         "without branding the page is the product's again")


def roles(srv, api):
    srv.add_user("alice", PASSWORD)
    t.ok("role=user\n" in srv.cli("user", "show", "alice").stdout, "a new user is a user")
    srv.cli("user", "set", "alice", "--role", "helpdesk")
    t.ok("role=helpdesk\n" in srv.cli("user", "show", "alice").stdout,
         "user set --role helpdesk")
    t.ok(srv.audit_find("admin.user.set", "user=alice", "role=helpdesk"),
         "audited with role=")
    r = srv.cli("user", "set", "alice", "--role", "root", check=False)
    t.eq(r.returncode, 2, "an unknown role is a usage error")
    t.eq(api.call("GET", "users/alice").body["role"], "helpdesk", "GET users shows the role")
    r = api.call("PATCH", "users/alice", json={"role": "admin"})
    t.eq(r.body["role"], "admin", "PATCH users sets it")
    r = api.call("PATCH", "users/alice", json={"role": "owner", "display_name": "A"},
                 expect=400, raw=True)
    t.eq(r.body.get("field"), "role", "an unknown role: 400 naming role")
    u = api.call("GET", "users/alice").body
    t.ok(u["role"] == "admin" and u["display_name"] is None, "and nothing changed", u)


def initiate_login(srv, api):
    r = srv.cli("app", "add-oidc", "wiki", "--redirect-uri", "https://wiki.example.org/cb",
                "--initiate-login-uri", "http://wiki.example.org/login", check=False)
    t.ok(r.returncode == 1 and "--initiate-login-uri" in r.stderr and "http" in r.stderr,
         "an http initiate_login_uri to another host than loopback is refused", r.stderr)
    srv.cli("app", "add-oidc", "wiki", "--redirect-uri", "https://wiki.example.org/cb",
            "--initiate-login-uri", "https://wiki.example.org/login")
    t.eq(api.call("GET", "apps/wiki").body["initiate_login_uri"],
         "https://wiki.example.org/login", "add-oidc --initiate-login-uri")
    r = api.call("PATCH", "apps/wiki", json={"initiate_login_uri": "https://wiki.example.org/sso"})
    t.eq(r.body["initiate_login_uri"], "https://wiki.example.org/sso", "PATCH sets it")
    srv.cli("app", "set", "wiki", "--no-initiate-login-uri")
    t.eq(api.call("GET", "apps/wiki").body["initiate_login_uri"], None,
         "app set --no-initiate-login-uri removes it")


def main():
    import shutil
    import tempfile
    tmp = tempfile.mkdtemp(prefix="sekisho-brand-")
    srv = Server(start=False)
    try:
        srv.cli("tenant", "add", "other")
        keys = api_common.make_keys(srv, "default", "rw", 4, "read,write")
        srv.start()
        api = ApiClient(srv, "default", keys)
        t.run("branding through the command line", cli_branding, srv, tmp)
        t.run("bad values through the command line", cli_refusals, srv, tmp)
        t.run("a light accent gets black text", light_accent, srv)
        t.run("branding through the API", api_branding, srv, api)
        t.run("settings and branding in one commit", mixed_change, srv, api)
        t.run("roles", roles, srv, api)
        t.run("initiate_login_uri", initiate_login, srv, api)
    finally:
        srv.close()
        shutil.rmtree(tmp, ignore_errors=True)
    t.done()


main()
