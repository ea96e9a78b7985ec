#!/usr/bin/python3
"""Tenant isolation: everything tenant alpha holds, tried against tenant beta, gets nothing.

Alpha's credentials: a browser session cookie, an OIDC code, access token, refresh token
and ID token (a real authorization-code flow with PKCE at alpha), an API key with every
scope (also its SCIM token), a device certificate of alpha's CA; and the operator's key.

Tried against beta:
- every path and method of beta's admin API, walked from its OpenAPI document with ids
  of beta's real objects, with each credential as the bearer (and the cookie);
- every SCIM route and method with beta's real user and group ids;
- the portal, login, account, devices and console pages with alpha's cookie;
- OIDC authorize (with alpha's cookie), token (alpha's code and refresh token), userinfo,
  introspect, revoke (alpha's tokens), logout (alpha's ID token); SAML SSO, SLO and
  IdP-initiated SSO with alpha's cookie; the device listener with alpha's certificate;
- alpha's own API with beta's ids (404: alpha has no such objects).
Each answer is a refusal that holds none of beta's names, e-mail addresses, ids or
client ids; afterwards beta's objects (users, groups, apps, keys, certificates, rules,
settings) are exactly as before, beta's audit trail gained only refusals, and alpha's
session and refresh token still work (nothing of alpha was revoked through beta).
"""
import base64
import json
import os
import re
import secrets
import subprocess
import tempfile
import time
import urllib.parse

import requests

import access_common as acc
import api_common as ac
import sekisho_test as st
from peers.device import issue

t = st.Tap()
PW = "isolation-Pass-5523"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"   # RFC 7636's, for PKCE_CHALLENGE
REDIRECT = "http://127.0.0.1:9/cb"
METHODS = ("get", "post", "put", "patch", "delete")


class World:
    pass


def cli_kv(out, key):
    return re.search(r"^%s=(\S+)$" % key, out, re.M).group(1)


def make_tenant(srv, w, tid, user, tmp):
    srv.cli("tenant", "add", tid)
    srv.add_user(user, PW, email="%s@%s.example" % (user, tid), tenant=tid)
    srv.cli("group", "add", tid + "-staff", tenant=tid)
    srv.cli("group", "add-member", tid + "-staff", user, tenant=tid)
    out = srv.cli("app", "add-oidc", tid + "-app", "--redirect-uri", REDIRECT, "--public",
                  tenant=tid).stdout
    key = ac.make_key(srv, tid, tid + "-key", "read,write,certs,scim")
    (cert, serial) = issue(srv, tmp, tid + "-dev", user, "laptop", extra=("--tenant", tid))
    return {"user": user, "client_id": cli_kv(out, "client_id"), "key": key,
            "cert": cert, "serial": serial, "group": tid + "-staff", "app": tid + "-app"}


def oidc_flow(srv, b, tid, client_id):
    """A code flow at tid in browser b (logged in): the token response and a fresh code."""
    def code():
        q = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
             "scope": "openid", "state": "s1", "nonce": "n1",
             "code_challenge": acc.PKCE_CHALLENGE, "code_challenge_method": "S256"}
        st0 = len(b.history)
        b.stop_at = (REDIRECT,)
        b.get(srv.base(tid) + "/oidc/authorize?" + urllib.parse.urlencode(q))
        got = acc.oidc_answers(b, st0, REDIRECT)
        if not got or "code" not in got[-1]:
            raise RuntimeError("no code at %s: %r" % (tid, got))
        return got[-1]["code"]
    r = requests.post(srv.base(tid) + "/oidc/token", data={
        "grant_type": "authorization_code", "code": code(), "redirect_uri": REDIRECT,
        "client_id": client_id, "code_verifier": VERIFIER}, verify=srv.ca, timeout=30)
    if r.status_code != 200:
        raise RuntimeError("token at %s: %d %s" % (tid, r.status_code, r.text))
    return r.json(), code()


def markers(w):
    """Strings that would show something of beta."""
    b = w.beta
    return [b["user"], "beta.example", b["client_id"], b["group"], b["app"], b["serial"],
            w.beta_user_id, w.beta_group_id, "beta-key"]


def leaked(w, text, sent=""):
    """Beta's strings in text, but for those the request itself carried (an error may
    name the id it did not find)."""
    return [m for m in markers(w) if m and m in text and m not in sent]


def check_answer(w, r, what, ok_status=(401, 403, 404, 429)):
    sent = urllib.parse.unquote(r.request.url)
    bad = leaked(w, r.text, sent)
    t.ok(r.status_code in ok_status and not bad, "%s: refused, nothing of beta" % what,
         "%d %s %s" % (r.status_code, bad, r.text[:200]))


# ---- beta's state ----

def dump(srv):
    """Everything the command line lists of beta, and its settings."""
    out = []
    for args in (("user", "list"), ("group", "list"), ("app", "list"), ("apikey", "list"),
                 ("cert", "list"), ("policy", "list"), ("factor", "list", "bert"),
                 ("group", "members", "beta-staff")):
        r = srv.cli(*args, tenant="beta", check=False)
        # keys' call counters and last use move with every call beta's own key makes
        out.append(re.sub(r"calls=\d+/", "calls=N/", r.stdout))
    out.append(srv.cli("tenant", "list").stdout)
    return out


def beta_ids(srv, w):
    h = {"Authorization": "Bearer " + w.beta["key"]}
    r = requests.get(srv.base("beta") + "/scim/v2/Users", headers=h, verify=srv.ca, timeout=30)
    w.beta_user_id = r.json()["Resources"][0]["id"]
    time.sleep(1.1)     # one call per second per key: waiting is pacing, not a timing check
    # the unfiltered list once freed an uninitialised record and killed the worker
    r = requests.get(srv.base("beta") + "/scim/v2/Groups", headers=h, verify=srv.ca,
                     timeout=30)
    t.eq(r.status_code, 200, "beta's SCIM Groups list (no filter) answers")
    w.beta_group_id = r.json()["Resources"][0]["id"]


# ---- the walk of the admin API ----

PARAMS = {"users": "user", "members": "user", "groups": "group", "apps": "app",
          "apikeys": "key", "certificates": "serial", "assignments": "user"}


def fill(w, template):
    """The path template with beta's ids in its {...} segments."""
    segs = template.strip("/").split("/")
    out = []
    for i, s in enumerate(segs):
        if s.startswith("{"):
            prev = segs[i - 1] if i else ""
            kind = PARAMS.get(prev, "user")
            out.append({"user": w.beta["user"], "group": w.beta["group"],
                        "app": w.beta["app"], "key": "beta-key",
                        "serial": w.beta["serial"]}[kind])
        else:
            out.append(s)
    return "/".join(out)


def part_api(srv, w):
    doc = ac.openapi(srv, "beta")
    creds = {"alpha's API key": "Bearer " + w.alpha["key"],
             "alpha's access token": "Bearer " + w.tokens["access_token"],
             "alpha's ID token": "Bearer " + w.tokens["id_token"],
             "the operator's key": "Bearer " + w.op_key}
    n = 0
    for template, item in sorted(doc["paths"].items()):
        path = fill(w, template)
        for m in METHODS:
            if m not in item:
                continue
            n += 1
            for what, auth in creds.items():
                r = requests.request(m.upper(), srv.base("beta") + "/api/v1/" + path,
                                     headers={"Authorization": auth,
                                              "Content-Type": "application/json"},
                                     data="{}" if m in ("post", "put", "patch") else None,
                                     verify=srv.ca, timeout=30)
                check_answer(w, r, "%s %s with %s" % (m.upper(), template, what),
                             (401, 429))
            r = requests.request(m.upper(), srv.base("beta") + "/api/v1/" + path,
                                 cookies={"sekisho_sid": w.cookie}, verify=srv.ca, timeout=30)
            check_answer(w, r, "%s %s with alpha's cookie" % (m.upper(), template), (401,))
    t.ok(n > 40, "the walk covered beta's whole API (%d operations)" % n)


def part_api_own(srv, w):
    """Alpha's key at alpha's API with beta's ids: 404, never beta's objects."""
    c = ac.ApiClient(srv, "alpha", [w.alpha["key"]])
    doc = ac.openapi(srv, "alpha")
    for template, item in sorted(doc["paths"].items()):
        if "{" not in template or "get" not in item:
            continue
        r = c.request("GET", fill(w, template))
        check_answer(w, r, "alpha's GET %s with beta's ids" % template, (404,))


# ---- SCIM ----

def part_scim(srv, w):
    routes = [("GET", "Users"), ("POST", "Users"), ("GET", "Users/" + w.beta_user_id),
              ("PUT", "Users/" + w.beta_user_id), ("PATCH", "Users/" + w.beta_user_id),
              ("DELETE", "Users/" + w.beta_user_id), ("GET", "Groups"), ("POST", "Groups"),
              ("GET", "Groups/" + w.beta_group_id), ("PUT", "Groups/" + w.beta_group_id),
              ("PATCH", "Groups/" + w.beta_group_id), ("DELETE", "Groups/" + w.beta_group_id),
              ("GET", "ServiceProviderConfig"), ("GET", "ResourceTypes"), ("GET", "Schemas"),
              ("GET", "Users?filter=" + urllib.parse.quote('userName eq "bert"'))]
    for m, p in routes:
        for what, tok in (("alpha's SCIM token", w.alpha["key"]),
                          ("alpha's access token", w.tokens["access_token"])):
            r = requests.request(m, srv.base("beta") + "/scim/v2/" + p, verify=srv.ca,
                                 headers={"Authorization": "Bearer " + tok,
                                          "Content-Type": "application/scim+json"},
                                 data="{}" if m in ("POST", "PUT", "PATCH") else None,
                                 timeout=30)
            check_answer(w, r, "SCIM %s %s with %s" % (m, p.split("?")[0], what), (401, 429))


# ---- pages ----

PAGES = ["", "portal", "account", "account/password", "account/factors", "account/passkeys",
         "certs", "admin", "admin/users", "admin/users/bert", "admin/groups",
         "admin/groups/beta-staff", "admin/apps", "admin/apps/beta-app", "admin/rules",
         "admin/audit", "admin/keys", "admin/settings", "admin/certs", "admin/catalog",
         "admin/stats", "resume", "device", "logout"]


def part_pages(srv, w):
    for p in PAGES:
        b = acc.browser(srv)
        b.s.cookies.set("sekisho_sid", w.cookie, path="/t/beta/")
        r = b.get(srv.base("beta") + "/" + p)
        ok = (r.status_code == 200 and b.login_form(r) is not None) or \
            r.status_code in (400, 403, 404, 405) or (r.status_code == 200 and p == "logout")
        bad = leaked(w, r.text, p)
        t.ok(ok and not bad, "page /%s with alpha's cookie: nothing of beta" % p,
             "%d %s" % (r.status_code, bad))


# ---- protocols ----

def part_oidc(srv, w):
    base = srv.base("beta") + "/oidc/"
    b = acc.browser(srv, stop_at=(REDIRECT,))
    b.s.cookies.set("sekisho_sid", w.cookie, path="/t/beta/")
    q = {"response_type": "code", "client_id": w.beta["client_id"], "redirect_uri": REDIRECT,
         "scope": "openid", "state": "s", "nonce": "n", "code_challenge": acc.PKCE_CHALLENGE,
         "code_challenge_method": "S256"}
    start = len(b.history)
    r = b.get(base + "authorize?" + urllib.parse.urlencode(q))
    t.ok(b.login_form(r) is not None and not acc.oidc_answers(b, start, REDIRECT),
         "authorize at beta with alpha's cookie: beta's login page, no code")
    tries = {
        "token with alpha's code (alpha's client)": ("token", {
            "grant_type": "authorization_code", "code": w.code, "redirect_uri": REDIRECT,
            "client_id": w.alpha["client_id"], "code_verifier": VERIFIER}),
        "token with alpha's code (beta's client)": ("token", {
            "grant_type": "authorization_code", "code": w.code, "redirect_uri": REDIRECT,
            "client_id": w.beta["client_id"], "code_verifier": VERIFIER}),
        "token with alpha's refresh token": ("token", {
            "grant_type": "refresh_token", "refresh_token": w.tokens["refresh_token"],
            "client_id": w.alpha["client_id"]}),
        "token with alpha's refresh token (beta's client)": ("token", {
            "grant_type": "refresh_token", "refresh_token": w.tokens["refresh_token"],
            "client_id": w.beta["client_id"]}),
    }
    for what, (ep, data) in tries.items():
        r = requests.post(base + ep, data=data, verify=srv.ca, timeout=30)
        t.ok(r.status_code in (400, 401) and "access_token" not in r.text and
             not leaked(w, r.text), what + ": refused", "%d %s" % (r.status_code, r.text))
    for m in ("GET", "POST"):
        r = requests.request(m, base + "userinfo", verify=srv.ca, timeout=30,
                             headers={"Authorization": "Bearer " + w.tokens["access_token"]})
        check_answer(w, r, "userinfo %s at beta with alpha's access token" % m, (401,))
    for tok in ("access_token", "refresh_token"):
        r = requests.post(base + "introspect", data={"token": w.tokens[tok],
                                                     "client_id": w.beta["client_id"]},
                          verify=srv.ca, timeout=30)
        t.ok(r.status_code in (400, 401) or (r.status_code == 200 and
                                             r.json().get("active") is False),
             "introspect at beta of alpha's %s: nothing" % tok, r.text)
        r = requests.post(base + "revoke", data={"token": w.tokens[tok],
                                                 "client_id": w.beta["client_id"]},
                          verify=srv.ca, timeout=30)
        t.ok(r.status_code in (200, 400, 401) and not leaked(w, r.text),
             "revoke at beta of alpha's %s: answered, nothing of beta" % tok)
    b = acc.browser(srv)
    b.s.cookies.set("sekisho_sid", w.cookie, path="/t/beta/")
    r = b.get(base + "logout?" + urllib.parse.urlencode({"id_token_hint": w.tokens["id_token"]}))
    t.ok(not leaked(w, r.text), "logout at beta with alpha's ID token: nothing of beta")


def part_saml(srv, w):
    for p in ("saml/sso", "saml/slo", "saml/init/beta-app", "saml/metadata"):
        b = acc.browser(srv)
        b.s.cookies.set("sekisho_sid", w.cookie, path="/t/beta/")
        r = b.get(srv.base("beta") + "/" + p)
        t.ok("SAMLResponse" not in r.text and not leaked(w, r.text, p),
             "%s at beta with alpha's cookie: no assertion, nothing of beta" % p, r.status_code)


def part_device(srv, w):
    cert, key = w.alpha["cert"]
    for p in ("certs", "device", "portal", "admin/certs"):
        r = subprocess.run(["curl", "-sS", "--cacert", srv.ca, "--cert", cert, "--key", key,
                            "-o", "-", "-w", "\n%{http_code}",
                            "https://127.0.0.1:%d/t/beta/%s" % (w.dport, p)],
                           capture_output=True, text=True, timeout=60)
        body, _, code = r.stdout.rpartition("\n")
        t.ok(code != "200" or "<form" in body and "password" in body,
             "alpha's certificate at beta's device listener /%s: no access" % p, code)
        t.ok(not leaked(w, body), "alpha's certificate at /%s: nothing of beta" % p)


# ---- afterwards ----

REFUSALS = re.compile(r"reject|fail|denied|invalid|refuse")


def part_after(srv, w):
    t.eq(dump(srv), w.before, "beta's objects and settings are as before")
    recs = srv.audit(tenant="beta")[w.audit_len:]
    bad = [e for e, f in recs if not REFUSALS.search(e)]
    t.ok(recs and not bad, "beta's trail gained only refusals (%d records)" % len(recs),
         sorted(set(bad)))
    r = requests.post(srv.base("alpha") + "/oidc/token", data={
        "grant_type": "refresh_token", "refresh_token": w.tokens["refresh_token"],
        "client_id": w.alpha["client_id"]}, verify=srv.ca, timeout=30)
    t.eq(r.status_code, 200, "alpha's refresh token still works at alpha")
    r = w.alpha_browser.get(srv.base("alpha") + "/portal")
    t.ok(r.status_code == 200 and w.alpha_browser.login_form(r) is None,
         "alpha's session still works at alpha")
    h = {"Authorization": "Bearer " + w.beta["key"]}
    r = requests.get(srv.base("beta") + "/api/v1/users", headers=h, verify=srv.ca, timeout=30)
    t.eq(r.status_code, 200, "beta's own key still works")


def main():
    dport = st.free_port()
    srv = st.Server(["device_listen 127.0.0.1:%d" % dport])
    tmp = tempfile.mkdtemp(prefix="isolation-")
    w = World()
    w.dport = dport
    try:
        w.alpha = make_tenant(srv, w, "alpha", "ann", tmp)
        w.beta = make_tenant(srv, w, "beta", "bert", tmp)
        w.op_key = cli_kv(srv.cli("operator", "apikey", "create", "ops", "--scope",
                                  "read,write").stdout, "api_key")
        b = acc.browser(srv)
        r = b.submit_login(b.get(srv.base("alpha") + "/login"), "ann", PW)
        t.eq(r.url, srv.base("alpha") + "/portal", "ann logs in at alpha")
        w.alpha_browser = b
        w.cookie = b.s.cookies.get("sekisho_sid")
        w.tokens, w.code = oidc_flow(srv, b, "alpha", w.alpha["client_id"])
        beta_ids(srv, w)
        w.before = dump(srv)
        w.audit_len = len(srv.audit(tenant="beta"))
        t.run("beta's admin API", part_api, srv, w)
        t.run("alpha's API with beta's ids", part_api_own, srv, w)
        t.run("beta's SCIM", part_scim, srv, w)
        t.run("beta's pages", part_pages, srv, w)
        t.run("beta's OIDC", part_oidc, srv, w)
        t.run("beta's SAML", part_saml, srv, w)
        t.run("beta's device listener", part_device, srv, w)
        t.run("afterwards", part_after, srv, w)
    finally:
        srv.close()
    t.done()


if __name__ == "__main__":
    main()
