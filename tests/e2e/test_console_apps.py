#!/usr/bin/python3
"""The admin console's apps (/t/TENANT/admin/apps), as an admin uses them.

An admin adds an app from the catalog through the form made from the template's
parameters (a refused value is named beside its field, and nothing is added), sees what
to paste (the vendor's labels, the tenant's SSO URL and certificate), adds a SAML app from
pasted metadata (bad metadata refused, nothing added) and an OIDC client whose secret is
shown once and works at the token endpoint; edits the display name, assigns a user and a
group, removes one, and deletes an app after confirming the password (the server runs
under libfaketime, the test moves its clock).  A helpdesk user sees no apps link, and a
forged POST to each app action is refused by the server with nothing changed; a POST
without this session's CSRF token is refused.  The audit records name the admin
(console:NAME) and address, and the client secret is in no log or audit record.
"""
import os
import re
import tempfile
import urllib.parse

import requests

import console_common as cc
import sekisho_test as st
from console_common import Clock, console, has_form, submit
from peers import samlforge

t = st.Tap()
PW = "Console-Apps-Passw0rd-2024!"


def login(srv, user):
    return cc.login(srv, user, PW)


def csrf_of(b, srv):
    return cc.csrf_of(b, srv, "taro")


def apps(srv):
    return sorted(srv.cli("app", "list").stdout.split())


def show(srv, app):
    return srv.cli("app", "show", app).stdout


def pasted(r, key):
    m = re.search(r'<dd data-paste="%s">(?:<pre>|<code>)([^<]*)<' % key, r.text)
    return m and m.group(1).replace("&amp;", "&")


def part_catalog(srv, boss):
    r = boss.get(console(srv))
    t.ok('href="%s"' % urllib.parse.urlsplit(console(srv, "apps")).path in r.text,
         "the console's navigation links the apps")
    r = boss.get(console(srv, "catalog"))
    t.ok(r.status_code == 200 and 'data-template="cybozu-office"' in r.text,
         "the catalog lists the templates", r.status_code)
    url = re.search(r'<tr data-template="cybozu-office">\s*<td[^>]*><a href="([^"]+)"',
                    r.text).group(1).replace("&amp;", "&")
    page = boss.get(urllib.parse.urljoin(r.url, url))
    t.ok(page.status_code == 200 and 'name="p_subdomain"' in page.text and
         'for="p_subdomain"' in page.text and "the cybozu.com subdomain" in page.text and
         'placeholder="example"' in page.text,
         "the template's form: its parameter with a label, the description, the example",
         page.status_code)
    r = submit(boss, page, "/catalog/add", {"name": "office", "p_subdomain": "Bad_Sub"})
    t.ok(r.status_code == 400 and "parameter subdomain" in r.text and
         re.search(r'id="p_subdomain"[^>]*aria-invalid="true"', r.text) and
         'value="Bad_Sub"' in r.text,
         "a value that does not match: 400 naming the parameter, marked, kept", r.status_code)
    t.ok("office" not in apps(srv), "nothing was added")
    r = submit(boss, r, "/catalog/add", {"p_subdomain": "acme"})
    t.ok(r.status_code == 200 and "The app was added" in r.text and
         "Login URL (SSO endpoint URL of the Identity Provider" in r.text,
         "the app is added: its page with the vendor's labels", r.status_code)
    t.eq(pasted(r, "sso_url"), srv.base() + "/saml/sso", "the SSO URL to paste")
    cert = pasted(r, "certificate")
    t.ok(cert and "BEGIN CERTIFICATE" in cert, "the signing certificate to paste", cert)
    t.ok("entity_id=https://acme.cybozu.com\n" in show(srv, "office"),
         "the app is stored from the template", show(srv, "office"))
    srv.audit_has(t, "admin.app.add", "app=office", "actor=console:boss", "ip=127.0.0.1")
    r = boss.get(console(srv, "app") + "?name=office")
    t.ok(pasted(r, "metadata_url") == srv.base() + "/saml/metadata" and
         pasted(r, "sso_url") == srv.base() + "/saml/sso",
         "the app's page shows what to paste later too")
    page = boss.get(console(srv, "catalog/template") + "?template=generic-oidc")
    r = submit(boss, page, "/catalog/add", {"name": "portal-rp",
                                            "p_redirect_uri": "https://rp.example.com/cb"})
    secret = pasted(r, "client_secret")
    t.ok(r.status_code == 200 and secret and pasted(r, "client_id") and
         "Client secret (shown once)" in r.text and r.headers.get("Cache-Control") ==
         "no-store", "an OIDC template: client id and secret to paste, not stored",
         r.status_code)
    again = boss.get(console(srv, "app") + "?name=portal-rp").text
    t.ok(secret and secret not in again and pasted(r, "client_id") in again,
         "the template's client secret is shown once")
    t.ok(secret and secret not in srv.cli("audit").stdout and secret not in srv.log(),
         "and is in no audit record and not in the log")


def part_saml(srv, boss):
    page = boss.get(console(srv, "apps/new"))
    t.ok(page.status_code == 200 and 'for="saml-metadata"' in page.text, "the add page")
    http_acs = samlforge.sp_metadata("https://evil.example.com/sp",
                                     ["http://evil.example.com/acs"],
                                     "https://evil.example.com/slo")
    r = submit(boss, page, "/apps/saml", {"name": "hr", "metadata": http_acs},
               drop=("sign_response",))
    t.ok(r.status_code == 400 and "metadata" in r.text and 'id="saml-error"' in r.text and
         "evil.example.com/sp" in r.text, "metadata with an http ACS: 400 saying why, the "
         "XML kept", r.status_code)
    t.ok("hr" not in apps(srv), "nothing was added")
    md = samlforge.sp_metadata("https://hr.example.com/sp",
                               ["https://hr.example.com/acs"], "https://hr.example.com/slo")
    r = submit(boss, page, "/apps/saml", {"name": "hr", "metadata": md, "nameid": "email"},
               drop=("sign_response",))
    t.ok(r.status_code == 200 and "The app was added" in r.text and
         "https://hr.example.com/sp" in r.text and "/admin/app?name=hr" in r.url,
         "a SAML app from pasted metadata: PRG to its page with a notice", r.url)
    t.ok('<dd id="nameid">email</dd>' in boss.get(console(srv, "app") + "?name=hr").text,
         "stored with its NameID format")
    srv.audit_has(t, "admin.app.add", "app=hr", "type=saml", "actor=console:boss")


def part_oidc(srv, boss):
    page = boss.get(console(srv, "apps/new"))
    r = submit(boss, page, "/apps/oidc", {"name": "wiki",
                                          "redirect_uris": "http://wiki.example.com/cb"})
    t.ok(r.status_code == 400 and "redirect" in r.text and 'id="oidc-error"' in r.text,
         "an http redirect URI on a public host: 400 saying why", r.status_code)
    t.ok("wiki" not in apps(srv), "nothing was added")
    r = submit(boss, page, "/apps/oidc", {
        "name": "wiki", "auth": "client_secret_post",
        "redirect_uris": "https://wiki.example.com/cb\r\nhttps://wiki.example.com/cb2\r\n"})
    secret = re.search(r'<code id="secret-value">([^<]+)</code>', r.text)
    client_id = pasted(r, "client_id")
    t.ok(r.status_code == 200 and secret and client_id and
         r.headers.get("Cache-Control") == "no-store",
         "an OIDC client: its id and secret shown, the page not stored", r.status_code)
    again = boss.get(console(srv, "app") + "?name=wiki").text
    t.ok('<pre id="redirect-uris">https://wiki.example.com/cb\nhttps://wiki.example.com/cb2<'
         in again, "both redirect URIs stored, one a line")
    t.ok(secret and secret.group(1) not in again and client_id in again,
         "the secret is shown once; the client id stays")
    token = srv.base() + "/oidc/token"
    good = requests.post(token, verify=srv.ca, data={
        "grant_type": "authorization_code", "code": "no-such-code",
        "redirect_uri": "https://wiki.example.com/cb", "client_id": client_id,
        "client_secret": secret.group(1) if secret else ""})
    bad = requests.post(token, verify=srv.ca, data={
        "grant_type": "authorization_code", "code": "no-such-code",
        "redirect_uri": "https://wiki.example.com/cb", "client_id": client_id,
        "client_secret": "not-the-secret"})
    t.ok(good.json().get("error") == "invalid_grant" and
         bad.json().get("error") == "invalid_client",
         "the secret shown authenticates the client at the token endpoint",
         (good.text, bad.text))
    srv.audit_has(t, "admin.app.add", "app=wiki", "type=oidc", "actor=console:boss")
    if secret:
        audit = srv.cli("audit").stdout
        t.ok(secret.group(1) not in audit and secret.group(1) not in srv.log(),
             "the secret is in no audit record and not in the log")


def part_app_page(srv, boss):
    r = boss.get(console(srv, "apps"))
    t.ok(r.status_code == 200 and 'data-app="hr"' in r.text and 'data-app="wiki"' in r.text
         and "OpenID Connect" in r.text and "SAML 2.0" in r.text,
         "the apps list: names and protocols", r.status_code)
    r = boss.get(console(srv, "app") + "?name=hr")
    r = submit(boss, r, "/app/edit", {"display_name": "人事システム",
                                      "description": "給与と休暇"})
    t.ok(r.status_code == 200 and "The changes were saved" in r.text and
         "人事システム" in r.text, "edit the display name and description", r.status_code)
    srv.audit_has(t, "admin.app.set", "app=hr", "actor=console:boss")
    r = submit(boss, r, "/app/edit", {"display_name": "bad\u0007name"})
    t.ok(r.status_code == 400 and "control characters" in r.text,
         "a control character: 400 saying why", r.status_code)
    t.ok("bad" not in show(srv, "hr"), "unchanged")
    r = submit(boss, boss.get(console(srv, "app") + "?name=hr"), "/app/assign",
               {"kind": "user", "who": "taro"})
    t.ok(r.status_code == 200 and 'data-assigned="user:taro"' in r.text,
         "assign a user", r.status_code)
    r = submit(boss, r, "/app/assign", {"kind": "group", "who": "sales"})
    t.ok(r.status_code == 200 and 'data-assigned="group:sales"' in r.text,
         "assign a group", r.status_code)
    r = submit(boss, r, "/app/assign", {"kind": "user", "who": "nobody"})
    t.ok(r.status_code == 400 and "no such user" in r.text, "an unknown user: 400",
         r.status_code)
    srv.audit_has(t, "admin.app.assign", "app=hr", "user=taro", "actor=console:boss")
    r = boss.get(console(srv, "apps"))
    t.ok('<tr data-app="hr">' in r.text and re.search(
        r'<tr data-app="hr">.*?data-assigned="2"', r.text, re.S),
        "the list counts hr's two assignments")
    r = submit(boss, boss.get(console(srv, "app") + "?name=hr"), "/app/unassign", {},
               match={"who": "taro"})
    t.ok(r.status_code == 200 and 'data-assigned="user:taro"' not in r.text and
         'data-assigned="group:sales"' in r.text, "remove the user's assignment",
         r.status_code)
    t.ok(re.search(r"^assigned=group:sales$", show(srv, "hr"), re.M) and
         "user:taro" not in show(srv, "hr"), "stored", show(srv, "hr"))
    srv.audit_has(t, "admin.app.unassign", "app=hr", "user=taro", "actor=console:boss")
    r = boss.get(console(srv, "app") + "?name=hr&lang=ja")
    t.ok("利用できる人" in r.text and "アプリを削除" in r.text, "the app page in Japanese")
    boss.get(console(srv) + "?lang=en")


def part_helpdesk(srv):
    hd = login(srv, "helper")
    r = hd.get(console(srv))
    t.ok(r.status_code == 200 and "/admin/apps" not in r.text,
         "helpdesk: no apps link in the console")
    t.eq(hd.get(console(srv, "apps")).status_code, 403, "helpdesk: 403 for the apps list")
    csrf = csrf_of(hd, srv)
    md = samlforge.sp_metadata("https://hd.example.com/sp", ["https://hd.example.com/acs"],
                               "https://hd.example.com/slo")
    before = (apps(srv), show(srv, "hr"))
    forged = [("apps/saml", {"name": "hdsaml", "metadata": md}),
              ("apps/oidc", {"name": "hdoidc", "redirect_uris": "https://hd.example.com/"}),
              ("catalog/add", {"template": "cybozu-office", "name": "hdcat",
                               "p_subdomain": "hd"}),
              ("app/edit", {"name": "hr", "display_name": "pwned"}),
              ("app/assign", {"name": "hr", "kind": "user", "who": "helper"}),
              ("app/unassign", {"name": "hr", "kind": "group", "who": "sales"}),
              ("app/delete", {"name": "hr"})]
    for path, data in forged:
        r = hd.post(console(srv, path), dict(data, csrf=csrf))
        t.eq(r.status_code, 403, "helpdesk: forged POST %s refused (403)" % path)
    t.eq((apps(srv), show(srv, "hr")), before, "nothing changed")
    srv.audit_has(t, "console.reject", "user=helper", "reason=role")


def part_csrf(srv, boss):
    before = show(srv, "hr")
    r = boss.post(console(srv, "app/edit"), {"name": "hr", "display_name": "nocsrf"})
    t.eq(r.status_code, 400, "a POST without a CSRF token: 400")
    other = login(srv, "boss")
    r = boss.post(console(srv, "app/assign"), {"name": "hr", "kind": "user", "who": "boss",
                                               "csrf": csrf_of(other, srv)})
    t.eq(r.status_code, 400, "a POST with another session's CSRF token: 400")
    t.eq(show(srv, "hr"), before, "nothing changed")
    srv.audit_has(t, "console.reject", "user=boss", "reason=csrf")


def part_delete(srv, boss, clock):
    clock.forward(600)
    r = submit(boss, boss.get(console(srv, "app") + "?name=wiki"), "/app/delete", {})
    t.ok(r.status_code == 403 and has_form(r, "/admin/app/delete") and
         'name="reauth_password"' in r.text, "delete without a recent proof: the password form",
         r.status_code)
    t.ok("wiki" in apps(srv), "the app is still there")
    r3 = submit(boss, r, "/app/delete", {"reauth_password": PW})
    t.ok(r3.status_code == 200 and "The app was deleted" in r3.text and
         "/admin/apps" in r3.url, "the password: the delete runs, the list with a notice", r3.url)
    t.ok("wiki" not in apps(srv), "the app is gone")
    srv.audit_has(t, "admin.app.remove", "app=wiki", "actor=console:boss", "ip=127.0.0.1")


def main():
    tmp = tempfile.mkdtemp(prefix="sekisho-console-apps-")
    clock = Clock(os.path.join(tmp, "clock"))
    srv = st.Server(env=st.faketime_env(clock.path))
    try:
        for name, role in (("boss", "admin"), ("helper", "helpdesk"), ("taro", None)):
            srv.add_user(name, PW)
            if role:
                srv.cli("user", "set", name, "--role", role)
        srv.cli("group", "add", "sales")
        boss = login(srv, "boss")
        t.run("add from the catalog", part_catalog, srv, boss)
        t.run("add a SAML app from metadata", part_saml, srv, boss)
        t.run("add an OIDC client", part_oidc, srv, boss)
        t.run("an app's page: texts, assignments", part_app_page, srv, boss)
        t.run("helpdesk", part_helpdesk, srv)
        t.run("CSRF", part_csrf, srv, boss)
        t.run("delete with a recent proof", part_delete, srv, boss, clock)
    finally:
        srv.close()
    t.done()


if __name__ == "__main__":
    main()
