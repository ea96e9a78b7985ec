#!/usr/bin/python3
"""End to end: the pages a person meets around signing in.

- GET / and an unknown tenant: a page that says how to reach one's company's sign-in page
  (200 and 404), in English and Japanese, never naming a tenant.
- The login page names the app that asked, under its display name.
- The portal: tiles with display name, description and the protocol's link (OIDC: the
  site of the first redirect URI, or initiate_login_uri with iss and target_link_uri as
  OpenID Connect Core 4 says); the account page and devices one click away; the time of
  the login in the tenant's time zone; a search box (GET, filtered on the server) once a
  user has more than 12 apps.
- An unsigned LogoutRequest: from an SP whose metadata has no signing key, a "sign out of
  all apps?" page whose form (CSRF token bound to the session) runs the normal logout;
  from an SP with a signing key, refused; neither ends a session by itself.
- A real RP (apache2 + mod_auth_openidc) from its tile: its site, and with
  initiate_login_uri its third-party initiated login (logged in at Sekisho, on to
  target_link_uri).  initiate_login_uri is set with `sekisho app set APP
  --initiate-login-uri URI` (the RP's is http to the loopback host, as its redirect URI).
"""
import datetime
import os
import re
import sys
import tempfile
import urllib.parse
import zoneinfo

import access_common as ac
import sekisho_test as st
from sekisho_test import Server, Tap, parse_forms

sys.path.insert(0, st.PEERS)
import samlforge as sf  # noqa: E402
from peers.openidc import OidcRP  # noqa: E402

t = Tap()
PW = "portal-Pass-2931"
HELP_EN = "its address ends in /t/"
HELP_JA = "会社のログインページ"


def anchors(r):
    """{link text: absolute URL} of page r."""
    return {text.strip(): urllib.parse.urljoin(r.url, href) for href, text in ac.links(r.text)}


def portal_login(srv, user="alice", lang="en", stop_at=()):
    b = ac.browser(srv, lang=lang, stop_at=stop_at)
    r = ac.portal_login(srv, b, user, PW)
    if not ac.at_portal(srv, r):
        raise RuntimeError("%s did not reach the portal: %d %s" % (user, r.status_code,
                                                                   r.text[:300]))
    return b, r


def tiles(r):
    """{display name: link} of the app tiles on portal page r."""
    m = re.search(r'<ul class="apps tiles">(.*?)</ul>', r.text, re.S)
    if not m:
        return {}
    return {text.strip(): urllib.parse.urljoin(r.url, href)
            for href, text in ac.links(m.group(1))}


def part_help(srv):
    srv.cli("tenant", "add", "acme-hidden")
    b = ac.browser(srv)
    r = b.get(srv.url + "/")
    t.ok(r.status_code == 200 and HELP_EN in r.text and "/t/" in r.text,
         "GET /: a page that says how to reach one's sign-in page",
         "%d %s" % (r.status_code, r.text[:400]))
    t.ok("text/html" in r.headers.get("Content-Type", "") and
         "unsafe-inline" not in r.headers.get("Content-Security-Policy", "x") and
         "frame-ancestors 'none'" in r.headers.get("Content-Security-Policy", ""),
         "GET /: HTML under the strict CSP", str(r.headers))
    for path in ("/t/nosuch-co/", "/t/nosuch-co/portal", "/t/nosuch-co/login", "/t/"):
        r = b.get(srv.url + path)
        t.ok(r.status_code == 404 and HELP_EN in r.text and
             "no sign-in page at this address" in r.text,
             "unknown tenant %s: 404 with the help" % path,
             "%d %s" % (r.status_code, r.text[:400]))
    for path in ("/", "/t/nosuch-co/"):
        r = b.get(srv.url + path)
        t.ok("acme-hidden" not in r.text and "/t/default" not in r.text,
             "%s names no tenant" % path, r.text)
    r = ac.browser(srv, lang="ja").get(srv.url + "/t/nosuch-co/")
    t.ok(r.status_code == 404 and HELP_JA in r.text and 'lang="ja"' in r.text,
         "unknown tenant: the help in Japanese", r.text[:400])
    r = ac.browser(srv, lang="ja").get(srv.url + "/")
    t.ok(r.status_code == 200 and HELP_JA in r.text, "GET /: the help in Japanese",
         r.text[:400])
    r = b.get(srv.url + "/nothing-here")
    t.eq(r.status_code, 404, "other paths outside /t/ stay 404")


def part_login_names_app(srv):
    cid = ac.add_stub_client(srv, "expense", "https://expense.example.net/cb")
    srv.cli("app", "set", "expense", "--display-name", "経費精算")
    b = ac.browser(srv, stop_at=("https://expense.example.net",))
    r = b.get(ac.authorize_url(srv, cid, "https://expense.example.net/cb"))
    m = re.search(r'<p class="for-app">(.*?)</p>', r.text, re.S)
    t.ok(b.login_form(r) and m and "経費精算" in m.group(1) and "expense" not in m.group(1),
         "login page started by an app: the app's display name, not its internal name",
         m.group(0) if m else r.text[:600])
    r = ac.browser(srv).get(srv.base() + "/login")
    t.ok('class="for-app"' not in r.text, "login page of the portal: no app named")


def part_portal(srv):
    srv.cli("app", "set", "expense", "--description", "交通費と出張の精算")
    ac.add_stub_client(srv, "wiki", "https://wiki.example.net:8443/oauth/cb?x=1")
    srv.cli("app", "set", "wiki", "--display-name", "社内Wiki")
    b, r = portal_login(srv)
    tl = tiles(r)
    t.eq(tl.get("経費精算"), "https://expense.example.net/",
         "OIDC tile without initiate_login_uri: the site of its first redirect URI")
    t.eq(tl.get("社内Wiki"), "https://wiki.example.net:8443/",
         "OIDC tile: the site keeps the port and drops path and query")
    t.ok(re.search(r'<span class="app-desc">交通費と出張の精算</span>', r.text),
         "a tile shows the app's description")
    t.ok('type="search"' not in r.text, "two apps: no search box")
    links = anchors(r)
    acct = [u for x, u in links.items() if u == srv.base() + "/account"]
    devs = [u for x, u in links.items() if u == srv.base() + "/certs"]
    t.ok(acct and devs, "portal: links to the account page and the devices", links)
    if acct:
        r2 = b.get(acct[0])
        t.ok(r2.status_code == 200 and r2.url == srv.base() + "/account",
             "the account page is one click away", "%d %s" % (r2.status_code, r2.url))
    if devs:
        r2 = b.get(devs[0])
        t.ok(r2.status_code == 200 and r2.url == srv.base() + "/certs",
             "the devices page is one click away", "%d %s" % (r2.status_code, r2.url))

    check_since(srv, "Asia/Tokyo")
    srv.cli("tenant", "set", "default", "--timezone", "America/Los_Angeles")
    check_since(srv, "America/Los_Angeles")
    check_initiate(srv)


def check_since(srv, zone):
    """The portal says when the user logged in, in the tenant's time zone."""
    before = datetime.datetime.now(datetime.timezone.utc)
    _, r = portal_login(srv)
    after = datetime.datetime.now(datetime.timezone.utc)
    z = zoneinfo.ZoneInfo(zone)

    def shown(d):
        loc = d.astimezone(z)
        off = int(loc.utcoffset().total_seconds())
        sign, off = ("-", -off) if off < 0 else ("+", off)
        return "%s UTC%s%02d:%02d" % (loc.strftime("%Y-%m-%d %H:%M"), sign, off // 3600,
                                      off % 3600 // 60)
    m = re.search(r"<time>([^<]*)</time>", r.text)
    t.ok(m and m.group(1) in (shown(before), shown(after)),
         "portal: the login time in the tenant's zone (%s)" % zone,
         "%s, want %s" % (m.group(1) if m else None, shown(before)))


def check_initiate(srv):
    """initiate_login_uri (set with part A's `app set --initiate-login-uri`)."""
    uri = "https://wiki.example.net/login/start?from=portal"
    set_initiate(srv, "wiki", uri)
    _, r = portal_login(srv)
    got = tiles(r).get("社内Wiki", "")
    u = urllib.parse.urlsplit(got)
    q = urllib.parse.parse_qs(u.query)
    t.ok(got.startswith("https://wiki.example.net/login/start?from=portal&") and
         q.get("iss") == [srv.base()] and
         q.get("target_link_uri") == ["https://wiki.example.net:8443/"] and
         q.get("from") == ["portal"],
         "OIDC tile with initiate_login_uri: iss and target_link_uri added (OIDC Core 4)",
         got)
    srv.cli("app", "set", "wiki", "--no-initiate-login-uri")
    _, r = portal_login(srv)
    t.eq(tiles(r).get("社内Wiki"), "https://wiki.example.net:8443/",
         "initiate_login_uri cleared: the first redirect URI's site again")


def set_initiate(srv, app, uri):
    r = srv.cli("app", "set", app, "--initiate-login-uri", uri)
    t.ok(("app %s updated" % app) in r.stdout, "app set --initiate-login-uri %s" % uri,
         r.stdout)


def part_rp(srv):
    """A real relying party (mod_auth_openidc) started from its tile."""
    rp = OidcRP(srv, "team")
    try:
        srv.cli("app", "set", "team", "--display-name", "チーム")
        b, r = portal_login(srv)
        t.eq(tiles(r).get("チーム"), rp.url + "/",
             "mod_auth_openidc tile without initiate_login_uri: its site")
        r = b.get(tiles(r).get("チーム", rp.url + "/"))
        t.ok(r.status_code == 200 and "public page" in r.text, "the tile reaches its site",
             "%d %s" % (r.status_code, r.url))
        # mod_auth_openidc takes third-party initiated logins at its redirect URI.
        set_initiate(srv, "team", rp.redirect_uri)
        b, r = portal_login(srv)
        start = len(b.history)
        r = b.get(tiles(r).get("チーム", rp.url + "/"))
        asked = [h for h in b.history[start:] if h.url.startswith(srv.base() + "/oidc/authorize")]
        t.ok(r.status_code == 200 and r.url == rp.url + "/" and asked,
             "tile with initiate_login_uri: mod_auth_openidc logs in at Sekisho and goes on "
             "to target_link_uri", "%d %s" % (r.status_code, r.url))
        r = b.get(rp.protected)
        t.ok(r.status_code == 200 and "OIDC_CLAIM_sub=" in r.text,
             "and alice is signed in at the RP", r.text[:400])
    finally:
        rp.close()


def part_search(srv):
    for i in range(12):
        ac.add_stub_client(srv, "tool%02d" % i, "https://tool%02d.example.net/cb" % i)
        srv.cli("app", "set", "tool%02d" % i, "--display-name", "Tool %02d" % i,
                "--description", "Helps with %s" % ("invoices" if i % 4 == 0 else "other"))
    b, r = portal_login(srv)
    forms = [f for f in parse_forms(r.text) if "q" in f["fields"]]
    t.ok(len(tiles(r)) == 14 and forms and re.search(r'<label for="q">', r.text),
         "14 apps: every tile and a labelled search box", "%d tiles" % len(tiles(r)))
    action = urllib.parse.urljoin(r.url, forms[0]["action"]) if forms else srv.base() + "/portal"
    r = b.get(action + "?q=TOOL%200")
    t.eq(sorted(tiles(r)), ["Tool %02d" % i for i in range(10)],
         "search on the server, case-insensitive, in display names")
    r = b.get(action + "?q=INVOICES")
    t.eq(sorted(tiles(r)), ["Tool 00", "Tool 04", "Tool 08"], "search in descriptions")
    r = b.get(action + "?q=" + urllib.parse.quote("精算"))
    t.eq(sorted(tiles(r)), ["経費精算"], "search in Japanese")
    r = b.get(action + "?q=" + urllib.parse.quote('<b>"none"'))
    t.ok(not tiles(r) and "No application matches" in r.text and
         'value="&lt;b&gt;&quot;none&quot;"' in r.text and "<b>" not in r.text,
         "no match: said so, the query shown escaped", r.text[-900:])
    r = b.get(action + "?q=")
    t.eq(len(tiles(r)), 14, "an empty search shows every app")
    # Tiles in the order people read names: numbers by value, whatever the app's own name.
    srv.cli("app", "set", "tool11", "--display-name", "Tool 9")
    srv.cli("app", "set", "tool00", "--display-name", "業務ツール第10号")
    srv.cli("app", "set", "tool01", "--display-name", "業務ツール第2号")
    names = list(tiles(b.get(action + "?q=")))
    want = sorted(names, key=lambda n: [int(x) if x.isdigit() else x
                                        for x in re.split(r"(\d+)", n)])
    t.ok(names[names.index("Tool 09") + 1:names.index("Tool 09") + 3] == ["Tool 9", "Tool 10"]
         and names.index("業務ツール第2号") < names.index("業務ツール第10号"),
         "tiles sorted by display name, numbers by value (Tool 9 before Tool 10, 第2号 before "
         "第10号)", names)
    t.eq(names, want, "the whole portal in that order")


def part_slo(srv, tmp):
    k = sf.Keypair(tmp, "signer")
    for name, cert in (("nokey", None), ("signer", k.cert_b64)):
        md = os.path.join(tmp, name + ".xml")
        with open(md, "w") as f:
            f.write(sf.sp_metadata("https://%s.example.org/sp" % name,
                                   ["https://%s.example.org/acs" % name],
                                   "https://%s.example.org/slo" % name, cert_b64=cert))
        srv.cli("app", "add-saml", name, "--metadata", md)
    srv.cli("app", "set", "nokey", "--display-name", "旅費システム")
    slo = srv.base() + "/saml/slo"
    sps = ("https://nokey.example.org", "https://signer.example.org")

    def join(b, sp):
        """sp joins b's session (IdP-initiated SSO; its ACS is not there): the
        LogoutRequest it would send, with the NameID and SessionIndex it got."""
        r = b.follow(b._req("GET", srv.base() + "/saml/init/" + sp), autopost=False)
        form = [f for f in parse_forms(r.text) if "SAMLResponse" in f["fields"]]
        if not t.ok(form and form[0]["action"] == "https://%s.example.org/acs" % sp,
                    "%s got an assertion: it is part of the session" % sp, r.text[:300]):
            return sf.logout_request("https://%s.example.org/sp" % sp, slo, "x")
        resp = sf.parse_b64(form[0]["fields"]["SAMLResponse"])
        nid = resp.find(".//saml:Subject/saml:NameID", sf.NS)
        index = resp.find(".//saml:AuthnStatement", sf.NS).get("SessionIndex")
        return sf.logout_request("https://%s.example.org/sp" % sp, slo, nid.text,
                                 nid.get("Format"), index,
                                 sp_name_qualifier=nid.get("SPNameQualifier"))

    def send(b, binding, xml):
        if binding == "Redirect":
            return b.get(slo + "?" + sf.redirect_query(xml))
        return b.follow(b._req("POST", slo, data={"SAMLRequest": sf.post_value(xml)}),
                        autopost=False)

    def alive(b):
        return ac.at_portal(srv, b.get(srv.base() + "/portal"))

    def asks_nokey(r):
        """The normal logout's LogoutRequest to nokey, by either binding."""
        return r.headers.get("Location", "").startswith(
            "https://nokey.example.org/slo?SAMLRequest=") or any(
            f["action"] == "https://nokey.example.org/slo" for f in parse_forms(r.text))

    for binding in ("Redirect", "POST"):
        b, _ = portal_login(srv, stop_at=sps)
        xml = join(b, "nokey")
        n = len(srv.audit())
        r = send(b, binding, xml)
        forms = [f for f in parse_forms(r.text) if "csrf" in f["fields"]]
        t.ok(r.status_code == 200 and "Sign out of all applications?" in r.text and
             "旅費システム" in r.text and forms and
             urllib.parse.urljoin(r.url, forms[0]["action"]) == srv.base() + "/logout",
             "unsigned LogoutRequest (%s) from an SP without a key: the confirmation page"
             % binding, "%d %s" % (r.status_code, r.text[:600]))
        t.ok(alive(b), "%s: the page alone ends nothing" % binding)
        t.ok(srv.audit_find("saml.slo.confirm", "sp=https://nokey.example.org/sp",
                            recs=srv.audit()[n:]),
             "%s: audited saml.slo.confirm" % binding)
        if not forms:
            continue
        f = forms[0]
        r = b.post(srv.base() + "/logout", {"csrf": "x" + f["fields"]["csrf"][1:]})
        t.ok(alive(b), "%s: a wrong CSRF token ends nothing" % binding)
        other, _ = portal_login(srv)
        r = other.post(srv.base() + "/logout", dict(f["fields"]))
        t.ok(alive(other) and alive(b),
             "%s: the token does not work for another session" % binding)
        r = b.post(srv.base() + "/logout", dict(f["fields"]))
        t.ok(asks_nokey(r) and not alive(b),
             "%s: confirmed, the normal logout runs and asks nokey in turn" % binding,
             "%d %s %s" % (r.status_code, r.headers.get("Location"), r.text[:300]))

    for binding in ("Redirect", "POST"):
        b, _ = portal_login(srv, stop_at=sps)
        xml = join(b, "signer")
        n = len(srv.audit())
        r = send(b, binding, xml)
        t.ok(r.status_code == 400 and "Sign out of all applications?" not in r.text and
             srv.audit_find("saml.slo.reject", "sp=https://signer.example.org/sp",
                            recs=srv.audit()[n:]),
             "unsigned LogoutRequest (%s) from an SP with a signing key: refused" % binding,
             "%d %s" % (r.status_code, r.text[:400]))
        t.ok(alive(b), "%s from the signing SP: the session survives" % binding)

    b = ac.browser(srv, stop_at=sps)
    r = send(b, "Redirect", sf.logout_request("https://nokey.example.org/sp", slo, "x"))
    t.ok(r.status_code == 200 and "Sign out of all applications?" not in r.text and
         "signed out" in r.text.lower(),
         "without a session: the signed-out page, no question", r.text[:400])


def main():
    srv = Server()
    tmp = tempfile.mkdtemp(prefix="portal-")
    try:
        srv.add_user("alice", PW, email="alice@example.org", display="Alice Example")
        t.run("help", part_help, srv)
        t.run("login names the app", part_login_names_app, srv)
        t.run("portal", part_portal, srv)
        t.run("search", part_search, srv)
        t.run("slo", part_slo, srv, tmp)
        t.run("relying party", part_rp, srv)
    finally:
        srv.close()
    t.done()


if __name__ == "__main__":
    main()
