"""What the access-control scenarios (test_access_*.py) share: reading Sekisho's refusal
pages and OIDC error redirects, `sekisho policy test` output, browsers that come through a
proxy (X-Forwarded-For, Forwarded) or from another source address, the portal's app list,
and the outcome of a login as one word to compare with what `policy test` predicts.

Outcomes: "in" (the app, or the portal, was reached), "refused" (403 page with a reference
code, or an OIDC access_denied redirect), "mfa" (the refusal page that says no second
factor is enrolled), "device" (sent to the device check).
"""
import html.parser
import http.client
import re
import secrets
import ssl
import urllib.parse

import requests

from sekisho_test import Browser

REF = re.compile(r'<code id="ref">([0-9A-F]{4}-[0-9A-F]{4})</code>')
SESSION_COOKIE = "sekisho_sid"
PKCE_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def query(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def refusal_ref(r):
    """The reference code of Sekisho's 403 refusal page r, or None."""
    if r.status_code != 403:
        return None
    m = REF.search(r.text)
    return m.group(1) if m else None


def is_mfa_page(r):
    """The refusal that says no second factor is enrolled (English page)."""
    return refusal_ref(r) is not None and "second factor" in r.text.lower()


def sent_to(b, start, prefix):
    """The requests browser b made since history index start whose URL begins with prefix."""
    return [h for h in b.history[start:] if h.url.startswith(prefix)]


def posted_to(b, start, prefix):
    """The POSTs (an assertion on its way) b made since start to URLs beginning with prefix."""
    return [h for h in b.history[start:] if h.url.startswith(prefix) and
            getattr(h, "request", None) is not None and h.request.method == "POST"]


def oidc_answers(b, start, redirect_uri):
    """The authorization responses (query dicts) Sekisho sent b to redirect_uri with since
    start, whether or not b followed them."""
    out = []
    for h in b.history[start:]:
        loc = h.headers.get("Location", "") if h.status_code in (302, 303) else ""
        if loc.startswith(redirect_uri + "?"):
            q = query(loc)
            if "code" in q or "error" in q:
                out.append(q)
    return out


def authorize_url(server, client_id, redirect_uri, state=None, prompt=None, tenant="default"):
    q = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
         "scope": "openid", "state": state or secrets.token_urlsafe(8),
         "nonce": secrets.token_urlsafe(8), "code_challenge": PKCE_CHALLENGE,
         "code_challenge_method": "S256"}
    if prompt:
        q["prompt"] = prompt
    return server.base(tenant) + "/oidc/authorize?" + urllib.parse.urlencode(q)


def add_stub_client(server, name, redirect_uri):
    """An OIDC public client whose redirect_uri nothing listens behind: its client_id."""
    out = server.cli("app", "add-oidc", name, "--redirect-uri", redirect_uri,
                     "--public").stdout
    return re.search(r"^client_id=(\S+)$", out, re.M).group(1)


class _SourceAdapter(requests.adapters.HTTPAdapter):
    """Connections from a chosen local address (127.0.0.2: another peer for sekishod)."""

    def __init__(self, source, **kw):
        self.source = source
        super().__init__(**kw)

    def init_poolmanager(self, *args, **kw):
        kw["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kw)


def browser(server, ip=None, header="xff", source=None, lang="en", stop_at=()):
    """A browser (see come_through)."""
    return come_through(Browser(verify=server.ca, lang=lang, stop_at=stop_at), ip, header,
                        source)


def come_through(b, ip=None, header="xff", source=None):
    """Browser b as seen by Sekisho: ip, the client address a proxy in front of Sekisho
    forwards, in X-Forwarded-For (header "xff") or Forwarded ("fwd"); source, the local
    address b connects from."""
    # mod_auth_openidc answers 401 instead of redirecting unless the client wants HTML.
    b.s.headers["Accept"] = "text/html"
    if ip and header == "xff":
        b.s.headers["X-Forwarded-For"] = ip
    elif ip and header == "fwd":
        b.s.headers["Forwarded"] = "for=" + ('"[%s]"' % ip if ":" in ip else ip)
    if source:
        b.s.mount("https://", _SourceAdapter(source))
    return b


def session_cookie(b):
    return b.s.cookies.get(SESSION_COOKIE)


def drop_app_sessions(b):
    """Forget every cookie but Sekisho's: the apps' own sessions end in this browser, the
    next visit to an app asks Sekisho again (SSO with the existing Sekisho session)."""
    for c in list(b.s.cookies):
        if not c.name.startswith("sekisho"):
            b.s.cookies.clear(c.domain, c.path, c.name)


def login_page(b, r):
    return b.login_form(r) is not None


def portal_login(server, b, user, password):
    """Log in at Sekisho's own login page (no app): the final answer."""
    r = b.get(server.base() + "/login")
    return b.submit_login(r, user, password)


def login_with_lines(server, user, password, lines):
    """A login at Sekisho's own page whose POST carries the header lines (name, value) as
    given, a name repeated as a proxy that adds its own line does (requests would merge
    them): (status, Location, page)."""
    b = Browser(verify=server.ca)
    r = b.get(server.base() + "/login")
    form = b.login_form(r)
    body = urllib.parse.urlencode(dict(form["fields"], username=user, password=password))
    c = http.client.HTTPSConnection("127.0.0.1", server.port, timeout=30,
                                    context=ssl.create_default_context(cafile=server.ca))
    try:
        c.putrequest("POST", urllib.parse.urlsplit(urllib.parse.urljoin(r.url,
                                                                         form["action"])).path)
        c.putheader("Content-Type", "application/x-www-form-urlencoded")
        c.putheader("Content-Length", str(len(body)))
        c.putheader("Cookie", "; ".join("%s=%s" % (k.name, k.value) for k in b.s.cookies))
        for name, value in lines:
            c.putheader(name, value)
        c.endheaders(body.encode())
        resp = c.getresponse()
        return resp.status, resp.getheader("Location") or "", resp.read().decode(
            "utf-8", "replace")
    finally:
        c.close()


def at_portal(server, r):
    return r.status_code == 200 and r.url == server.base() + "/portal" and \
        refusal_ref(r) is None


def classify(server, b, r, start=0, reached=None, redirect_uri=None, device_url=None):
    """The outcome of the login or SSO that ended in answer r.  reached(r): the app's own
    page; redirect_uri: an OIDC client's (access_denied counts as refused)."""
    if device_url and r.status_code in (302, 303) and \
            r.headers.get("Location", "").startswith(device_url):
        return "device"
    if refusal_ref(r):
        return "mfa" if is_mfa_page(r) else "refused"
    if redirect_uri:
        got = oidc_answers(b, start, redirect_uri)
        if got and got[-1].get("error") == "access_denied":
            return "refused"
        if got and got[-1].get("error"):
            return "oidc error " + got[-1]["error"]
        if got and "code" in got[-1] and (reached is None or reached(r)):
            return "in"
    if reached is not None and reached(r):
        return "in"
    if reached is None and at_portal(server, r):
        return "in"
    if login_page(b, r):
        return "login page (%d)" % r.status_code
    return "other: %d %s" % (r.status_code, r.url)


def policy_test(server, user, app=None, ip="127.0.0.1", at=None, device=False, mfa=False,
                tenant=None):
    """`sekisho policy test`: a dict of its key=value lines (requires, missing and report
    as lists), "explain" (the words below), "rc", "stderr"."""
    args = ["policy", "test", "--user", user, "--ip", ip]
    if app:
        args += ["--app", app]
    if at:
        args += ["--at", at]
    if device:
        args.append("--device")
    if mfa:
        args.append("--mfa")
    r = server.cli(*args, check=False, tenant=tenant)
    head, _, explain = r.stdout.partition("\n\n")
    out = {"rc": r.returncode, "stderr": r.stderr, "explain": explain, "report": [],
           "stdout": r.stdout}
    for line in head.splitlines():
        k, sep, v = line.partition("=")
        if not sep:
            continue
        if k in ("requires", "missing"):
            out[k] = [x for x in v.split(",") if x]
        elif k == "report":
            out["report"].append(v)
        else:
            out[k] = v
    return out


def predicted(pt):
    """What a real request does, by the contract, given `policy test` output."""
    if pt.get("decision") == "deny":
        return "refused"
    if pt.get("decision") != "allow":
        return "no decision: %r" % pt.get("stdout")
    if "mfa" in pt.get("missing", []):
        return "mfa"
    if "device" in pt.get("missing", []):
        return "device"
    return "in"


class _Anchors(html.parser.HTMLParser):
    """(href, text) of every link on a page."""

    def __init__(self):
        super().__init__()
        self.links = []
        self._cur = None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._cur = [dict(attrs).get("href", ""), ""]

    def handle_data(self, data):
        if self._cur is not None:
            self._cur[1] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._cur is not None:
            self.links.append((self._cur[0], self._cur[1].strip()))
            self._cur = None


def links(text):
    p = _Anchors()
    p.feed(text)
    return p.links
