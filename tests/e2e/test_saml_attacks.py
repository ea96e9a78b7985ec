"""Hostile SAML input against sekishod: the "SAML input" section of SECURITY-TESTS.md.

A hand-made SP (peers/samlforge.py) sends signed and unsigned AuthnRequests and
LogoutRequests, then breaks them: signature wrapping, profile violations, weak algorithms,
re-encoded Redirect queries, markup injection, entities, bombs, ACS URL games, stale and
replayed requests.  A refusal is a 4xx error page with no auto-POST form and no redirect,
an audit record (checked together at the end), and no change: the good paths around the
attacks keep working.  No SP server runs: Sekisho's answer page is read, never posted.
"""
import base64
import calendar
import datetime
import http.client
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import zlib

import requests
from lxml import etree

import sekisho_test as st

sys.path.insert(0, st.PEERS)
import samlforge as sf  # noqa: E402

t = st.Tap()
# Timing limits stretch under a wrapper such as valgrind.
SLOW = 20 if os.environ.get("SEKISHO_WRAPPER") else 1
QUICK = 0.5 * SLOW      # "well under a second"
BAD_INPUTS = 10000      # for the memory check
RSS_SLACK_KIB = 4096
HEAP_SLACK_KIB = 128

APP_SIGNED, APP_OPEN, APP_EVIL, APP_ODD = "signed", "open", "evil", "odd"


class Idp:
    """sekishod with the SPs and users the cases need.

    SPs (no server behind their URLs: nothing listens on sp_port):
      signed  AuthnRequestsSigned="true", emailAddress NameIDs, ACS index 0 and 1
      open    no AuthnRequestsSigned, persistent NameIDs
      evil    entity ID = signed's + ".evil", its own key (for markup injection)
      odd     ACS URL with the HTML metacharacters a URI may hold (for escaping)
    Users: alice (the browser most cases use), victor and mallory (logout cases; mallory's
    email extends victor's, for NameID comment tricks)."""

    def __init__(self):
        self.srv = st.Server()
        d = self.srv.tmp
        self.sso = self.srv.base() + "/saml/sso"
        self.slo = self.srv.base() + "/saml/slo"
        self.entity = self.srv.base() + "/saml/metadata"
        self.sp_port = st.free_port()
        sp = "http://127.0.0.1:%d" % self.sp_port
        self.slo_url = sp + "/slo"
        self.signed, self.acs, self.acs2 = sp + "/signed", sp + "/acs", sp + "/acs2"
        self.open, self.open_acs = sp + "/open", sp + "/open/acs"
        self.evil, self.evil_acs = self.signed + ".evil", sp + "/evil/acs"
        # Only what a URI may hold: '"', '<' and '>' are refused at registration.
        self.odd, self.odd_acs = sp + "/odd", sp + "/odd/acs?a=1&b='x'&amp;=1"
        self.k_signed = sf.Keypair(d, "signed-sp")
        self.k_open = sf.Keypair(d, "open-sp")
        self.k_evil = sf.Keypair(d, "evil-sp")
        self.k_attacker = sf.Keypair(d, "attacker")
        self._register(APP_SIGNED, self.signed, [self.acs, self.acs2], self.k_signed, True,
                       "email")
        self._register(APP_OPEN, self.open, [self.open_acs], self.k_open, None, None)
        self._register(APP_EVIL, self.evil, [self.evil_acs], self.k_evil, True, "email")
        self._register(APP_ODD, self.odd, [self.odd_acs], None, None, None)
        self.users = {"alice": "alice@example.org", "victor": "victor@example.org",
                      "mallory": "victor@example.org.evil.org"}
        for name, email in self.users.items():
            self.srv.add_user(name, self.password(name), email=email, display=name)
        self.audit_seen = len(self.srv.audit())

    def _register(self, app, entity, acs, key, signed, nameid):
        path = os.path.join(self.srv.tmp, app + ".xml")
        with open(path, "w") as f:
            f.write(sf.sp_metadata(entity, acs, self.slo_url, key.cert_b64 if key else None,
                                   signed))
        args = ["app", "add-saml", app, "--metadata", path]
        if nameid:
            args += ["--nameid", nameid]
        self.srv.cli(*args)

    @staticmethod
    def password(user):
        return user + "-password-1"

    def browser(self, user=None):
        """A browser, logged in as user when given."""
        b = st.Browser(verify=self.srv.ca, lang="en")
        if user:
            r = b.submit_login(b.get(self.srv.base() + "/login"), user, self.password(user))
            if r.status_code != 200 or b.login_form(r):
                raise RuntimeError("login as %s failed: %d" % (user, r.status_code))
        return b

    def new_audit(self):
        """Audit records written since the last call."""
        recs = self.srv.audit()
        new = recs[self.audit_seen:]
        self.audit_seen = len(recs)
        return new

    def worker_pid(self):
        return self.srv.worker_pid()


# ---- sending and judging ----

def send(idp, browser, method, url, **kw):
    """One request, redirects not followed.  The audit cursor moves first, so the records
    a refusal is judged by are its own."""
    idp.new_audit()
    b = browser or st.Browser(verify=idp.srv.ca, lang="en")
    kw.setdefault("timeout", 30)
    return b.s.request(method, url, verify=idp.srv.ca, allow_redirects=False, **kw)


def raw_request(idp, method, url, browser=None, headers=None, body=None):
    """One request through http.client, the URL exactly as given: requests would
    normalise percent-escapes (upper-case hex, unreserved characters decoded), which is
    precisely what some cases must not have done for them.  body: bytes or an iterable
    of chunks (sent chunked); None with a Content-Length header sends only the headers."""
    idp.new_audit()
    u = urllib.parse.urlsplit(url)
    hdrs = {"Accept-Language": "en", "User-Agent": st.Browser.UA}
    if browser is not None:
        hdrs["Cookie"] = "; ".join("%s=%s" % (c.name, c.value) for c in browser.s.cookies)
    hdrs.update(headers or {})
    conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=30,
                                       context=ssl.create_default_context(cafile=idp.srv.ca))
    start = time.monotonic()
    try:
        target = u.path + ("?" + u.query if u.query else "")
        conn.putrequest(method, target, skip_accept_encoding=True)
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders()
        try:
            for chunk in ([body] if isinstance(body, bytes) else body or []):
                conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk)
                          if hdrs.get("Transfer-Encoding") == "chunked" else chunk)
            if hdrs.get("Transfer-Encoding") == "chunked":
                conn.send(b"0\r\n\r\n")
        except OSError:
            pass    # the server may answer and close before the body is all sent
        raw = conn.getresponse()
        r = requests.Response()
        r.status_code = raw.status
        r.headers = requests.structures.CaseInsensitiveDict(raw.getheaders())
        r._content = raw.read()
    finally:
        conn.close()
    r.elapsed = datetime.timedelta(seconds=time.monotonic() - start)
    r.encoding = "utf-8"
    r.url = url
    return r


def get(idp, url, query, browser=None):
    return raw_request(idp, "GET", url + "?" + query, browser)


def post(idp, url, xml, relay=None, browser=None, field="SAMLRequest"):
    data = {field: sf.post_value(xml)}
    if relay is not None:
        data["RelayState"] = relay
    return send(idp, browser, "POST", url, data=data)


def autopost(r):
    for f in st.parse_forms(r.text):
        if f["id"] == "sekisho-post":
            return f
    return None


def error_message(r):
    m = re.search(r'<p class="error"[^>]*>(.*?)</p>', r.text, re.S)
    return m.group(1) if m else None


def describe(r):
    form = autopost(r)
    return "HTTP %d in %.3f s; error %r; auto-POST %r; Location %r; body %r" % (
        r.status_code, r.elapsed.total_seconds(), error_message(r),
        form and form["action"], r.headers.get("Location"),
        None if form or error_message(r) else r.text[:120])


REFUSALS = []   # (case, event the audit must show, the records it wrote)


def refused(idp, name, r, event="saml.sso.reject", audit=True, limit=None, page=True):
    """r must be a refusal: 4xx, an error page, no form, no redirect (and quick)."""
    problems = []
    if not 400 <= r.status_code < 500:
        problems.append("status %d" % r.status_code)
    if autopost(r):
        problems.append("auto-POST form to %s" % autopost(r)["action"])
    if r.headers.get("Location"):
        problems.append("redirect to %s" % r.headers["Location"])
    if page and error_message(r) is None:
        problems.append("no error page")
    if limit and r.elapsed.total_seconds() > limit:
        problems.append("took %.3f s" % r.elapsed.total_seconds())
    if audit:
        REFUSALS.append((name, event, idp.new_audit()))
    return t.ok(not problems, name + ": refused", "; ".join(problems) + "\n" + describe(r))


def accepted(name, r, acs):
    """r must be the auto-POST page to acs; returns its form."""
    form = autopost(r)
    ok = r.status_code == 200 and form is not None and form["action"] == acs
    t.ok(ok, name + ": answered at the ACS", describe(r))
    return form if ok else None


def authn(idp, sp=None, **kw):
    kw.setdefault("acs_url", idp.acs if sp in (None, idp.signed) else None)
    return sf.authn_request(sp or idp.signed, idp.sso, **kw)


def signed_authn(idp, key=None, sign_kw=None, **kw):
    return sf.sign(authn(idp, **kw), key or idp.k_signed, **(sign_kw or {}))


class Listener:
    """A TCP port that counts connections: proof that nothing was fetched."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.hits += 1
            c.close()

    def close(self):
        self.sock.close()


# ---- query-string surgery (raw bytes, no re-encoding unless asked) ----

def params(query):
    return sf.query_params(query)


def drop(query, name):
    return sf.join_params([p for p in params(query) if p[0] != name])


def replace(query, name, raw):
    return sf.join_params([(k, raw if k == name else v) for k, v in params(query)])


def duplicate(query, name):
    out = []
    for k, v in params(query):
        out.append((k, v))
        if k == name:
            out.append((k, v))
    return sf.join_params(out)


def raw_value(query, name):
    return dict(params(query))[name]


def behind_semicolon(outer_xml, signed):
    """A query whose SAMLRequest is outer_xml for a parser that splits at '&' only, while
    a parser that also splits at ';' (lasso's) finds the signed query's message, SigAlg
    and Signature as well."""
    p = dict(params(signed))
    return "SAMLRequest=%s&x=1;SAMLRequest=%s&SigAlg=%s&Signature=%s" % (
        sf.q(sf.redirect_value(outer_xml)), p["SAMLRequest"], p["SigAlg"], p["Signature"])


# ---- the cases ----

def baseline(idp, alice):
    accepted("signed AuthnRequest (HTTP-POST)", post(idp, idp.sso, signed_authn(idp),
                                                      browser=alice), idp.acs)
    accepted("signed AuthnRequest (HTTP-Redirect)",
             get(idp, idp.sso, signed_query(idp, "a b"), alice), idp.acs)
    accepted("unsigned AuthnRequest to an SP that does not sign",
             post(idp, idp.sso, authn(idp, idp.open), browser=alice), idp.open_acs)


def xsw_authn(idp, alice):
    def evil(root):
        # What the attacker wants processed: the answer sent to the other ACS.
        root.set("AssertionConsumerServiceURL", idp.acs2)
        root.set("ProviderName", "evil")

    for v in range(1, 9):
        doc = sf.xsw(signed_authn(idp), v, evil)
        refused(idp, "XSW%d AuthnRequest (%s)" % (v, sf.XSW_NAMES[v]),
                post(idp, idp.sso, doc, browser=alice))


def signature_profile(idp, alice):
    ext_id = sf.new_id()
    cases = [
        ("two References", {"references": 2}, {}),
        ("Reference URI \"\" (whole document)", {"ref_uri": ""}, {}),
        ("Reference URI to a child element", {"ref_uri": "#" + ext_id},
         {"extensions": '<saml:x ID="%s"/>' % ext_id}),
        ("extra XPath Transform", {"transforms": (sf.ENVELOPED, sf.XPATH, sf.EXC_C14N)}, {}),
        ("exc-c14n WithComments Transform",
         {"transforms": (sf.ENVELOPED, sf.EXC_C14N_COMMENTS)}, {}),
        ("exc-c14n WithComments CanonicalizationMethod", {"c14n_alg": sf.EXC_C14N_COMMENTS},
         {}),
    ]
    for name, sign_kw, kw in cases:
        refused(idp, "signature profile: " + name,
                post(idp, idp.sso, signed_authn(idp, sign_kw=sign_kw, **kw), browser=alice))
    # The same ID twice: the root's and an element's in Extensions.
    rid = sf.new_id()
    doc = signed_authn(idp, id=rid, extensions='<saml:x ID="%s"/>' % rid)
    refused(idp, "signature profile: duplicate ID attributes",
            post(idp, idp.sso, doc, browser=alice))


def signed_query(idp, relay=None, xml=None, key=None, **kw):
    """A fresh signed HTTP-Redirect query (a new ID each time: a case wrongly accepted
    must not make the next one fail as a replay)."""
    return sf.redirect_query(xml or authn(idp), key or idp.k_signed, relay_state=relay, **kw)


def stripped_and_foreign_keys(idp, alice):
    refused(idp, "signature stripped (HTTP-POST)",
            post(idp, idp.sso, sf.strip_signature(signed_authn(idp)), browser=alice))
    for name, q in (("Signature dropped", drop(signed_query(idp), "Signature")),
                    ("SigAlg dropped", drop(signed_query(idp), "SigAlg")),
                    ("Signature and SigAlg dropped",
                     drop(drop(signed_query(idp), "SigAlg"), "Signature"))):
        refused(idp, "Redirect: " + name, get(idp, idp.sso, q, alice))
    refused(idp, "KeyInfo with the attacker's certificate, signed by the attacker",
            post(idp, idp.sso, signed_authn(idp, key=idp.k_attacker), browser=alice))
    refused(idp, "attacker's key, KeyInfo naming the SP's certificate",
            post(idp, idp.sso, signed_authn(idp, key=idp.k_attacker,
                                            sign_kw={"keyinfo": idp.k_signed}),
                 browser=alice))
    refused(idp, "Redirect signed with the attacker's key",
            get(idp, idp.sso, signed_query(idp, key=idp.k_attacker), alice))
    # Where signatures are optional, one that is present must still verify.
    refused(idp, "optional signature by the attacker's key (HTTP-POST)",
            post(idp, idp.sso, sf.sign(authn(idp, idp.open), idp.k_attacker), browser=alice))
    refused(idp, "optional signature by the attacker's key (HTTP-Redirect)",
            get(idp, idp.sso, sf.redirect_query(authn(idp, idp.open), idp.k_attacker), alice))


def lower_escapes(raw):
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), raw)


def redirect_tampering(idp, alice):
    # The message changed after signing (the signature is over the old bytes).
    xml = authn(idp)
    changed = xml.replace('Version="2.0"', 'Version="2.0" ForceAuthn="false"', 1)
    refused(idp, "Redirect: SAMLRequest changed after signing",
            get(idp, idp.sso, replace(signed_query(idp, xml=xml), "SAMLRequest",
                                      sf.q(sf.redirect_value(changed))), alice))
    q = signed_query(idp)
    v = raw_value(q, "SAMLRequest")
    flipped = v[:10] + ("B" if v[10] != "B" else "C") + v[11:]
    refused(idp, "Redirect: one base64 character of SAMLRequest changed",
            get(idp, idp.sso, replace(q, "SAMLRequest", flipped), alice))

    refused(idp, "Redirect: RelayState swapped after signing",
            get(idp, idp.sso, replace(signed_query(idp, "one"), "RelayState", "two"), alice))
    refused(idp, "Redirect: RelayState removed after signing",
            get(idp, idp.sso, drop(signed_query(idp, "one"), "RelayState"), alice))
    p = params(signed_query(idp))
    added = sf.join_params(p[:1] + [("RelayState", "added")] + p[1:])
    refused(idp, "Redirect: RelayState added after signing", get(idp, idp.sso, added, alice))

    for name in ("SAMLRequest", "SigAlg", "Signature", "RelayState"):
        refused(idp, "Redirect: duplicated %s parameter" % name,
                get(idp, idp.sso, duplicate(signed_query(idp, "one"), name), alice))
    body = "SAMLRequest=%s&SAMLRequest=%s" % ((sf.q(sf.post_value(signed_authn(idp))),) * 2)
    refused(idp, "POST: duplicated SAMLRequest field",
            send(idp, alice, "POST", idp.sso, data=body,
                 headers={"Content-Type": "application/x-www-form-urlencoded"}))

    # Same decoded values, other bytes: the signature covers the bytes as sent.
    refused(idp, "Redirect: RelayState re-encoded ('+' as %20)",
            get(idp, idp.sso, replace(signed_query(idp, "one two"), "RelayState", "one%20two"),
                alice))
    q = signed_query(idp)
    refused(idp, "Redirect: SigAlg with lower-case percent-escapes",
            get(idp, idp.sso, replace(q, "SigAlg", lower_escapes(raw_value(q, "SigAlg"))),
                alice))
    q = signed_query(idp, "a/b")
    refused(idp, "Redirect: RelayState with lower-case percent-escapes",
            get(idp, idp.sso, replace(q, "RelayState", lower_escapes(raw_value(q, "RelayState"))),
                alice))
    q = signed_query(idp)
    v = raw_value(q, "SAMLRequest")
    i = next(i for i, c in enumerate(v) if c.isalnum())
    refused(idp, "Redirect: a SAMLRequest character needlessly percent-encoded",
            get(idp, idp.sso, replace(q, "SAMLRequest", v[:i] + "%%%02X" % ord(v[i]) + v[i + 1:]),
                alice))
    # Parameter names percent-encoded: one parser decodes names, another may not.
    for name in ("SAMLRequest", "RelayState", "SigAlg", "Signature"):
        encoded = name[:-1] + "%%%02X" % ord(name[-1])
        refused(idp, "Redirect: parameter name %s percent-encoded" % name,
                get(idp, idp.sso, signed_query(idp, "one").replace(name + "=", encoded + "=", 1),
                    alice))

    # lasso splits the query at ';' as well as '&': nothing hidden behind a ';' from
    # Sekisho's checks may reach lasso.  First a weak SigAlg with its Signature...
    p = params(signed_query(idp, sigalg=sf.RSA_SHA1))
    hidden = sf.join_params(p[:1]) + "&x=1;" + sf.join_params(p[1:]).replace("&", ";")
    refused(idp, "Redirect: rsa-sha1 SigAlg and Signature behind ';'",
            get(idp, idp.sso, hidden, alice))
    # ...then a second message: a harmless one for the checks, a signed bad one for lasso.
    for name, xml in (
            ("an hour old", authn(idp, issue_instant=sf.instant(-3600))),
            ("for another Destination", sf.authn_request(idp.signed, idp.slo, acs_url=idp.acs)),
            ("with Version 1.1", authn(idp, version="1.1")),
            ("with a comment in its Issuer", authn(idp, issuer_xml=idp.signed[:12] + "<!---->" +
                                                   idp.signed[12:]))):
        refused(idp, "Redirect: a signed AuthnRequest %s behind ';'" % name,
                get(idp, idp.sso, behind_semicolon(authn(idp), signed_query(idp, xml=xml)),
                    alice))
    xml = authn(idp)
    refused(idp, "Redirect: the same signed SAMLRequest twice, once behind ';'",
            get(idp, idp.sso, behind_semicolon(xml, signed_query(idp, xml=xml)), alice))

    # '+' where the signer sent %2B: decodes to a space, and the bytes differ anyway.
    q = next(q for q in (signed_query(idp) for _ in range(50))
             if "%2B" in raw_value(q, "SAMLRequest"))
    refused(idp, "Redirect: SAMLRequest with '+' for %2B",
            get(idp, idp.sso, replace(q, "SAMLRequest",
                                      raw_value(q, "SAMLRequest").replace("%2B", "+")), alice))


def weak_algorithms(idp, alice):
    refused(idp, "Redirect: SigAlg rsa-sha1 (valid signature)",
            get(idp, idp.sso, signed_query(idp, sigalg=sf.RSA_SHA1), alice))
    # Our keys are RSA: the label alone must be refused, before any verification.
    refused(idp, "Redirect: SigAlg dsa-sha1",
            get(idp, idp.sso, signed_query(idp, sigalg=sf.DSA_SHA1), alice))
    for name, kw in (("SignatureMethod rsa-sha1", {"sigalg": sf.RSA_SHA1}),
                     ("DigestMethod sha1", {"digest_alg": sf.SHA1}),
                     ("DigestMethod md5", {"digest_alg": sf.MD5})):
        refused(idp, "POST: %s (valid signature)" % name,
                post(idp, idp.sso, signed_authn(idp, sign_kw=kw), browser=alice))


def issuer_injection(idp, alice):
    """The evil SP's entity ID extends the signed SP's: a parser that stops at the comment
    or the CDATA would read the victim SP's name while the evil SP's key verifies."""
    def evil_request(issuer_xml):
        return sf.sign(sf.authn_request(idp.evil, idp.sso, acs_url=idp.evil_acs,
                                        issuer_xml=issuer_xml), idp.k_evil)

    # Without the markup the evil SP is served normally: the refusals below are the markup's.
    accepted("control: the evil SP's plain request",
             post(idp, idp.sso, evil_request(None), browser=alice), idp.evil_acs)
    for name, inner in (("comment", idp.signed + "<!---->.evil"),
                        ("CDATA", idp.signed + "<![CDATA[.evil]]>")):
        refused(idp, "%s injected in Issuer" % name,
                post(idp, idp.sso, evil_request(inner), browser=alice))
        blamed = [f for _, f in REFUSALS[-1][2] if re.search(
            r"\bsp=%s(\s|$)" % re.escape(idp.signed), f)]
        t.ok(not blamed, "%s injected in Issuer never resolves the other SP" % name,
             repr(blamed))
    refused(idp, "comment in the Issuer of an unsigned request",
            post(idp, idp.sso, sf.authn_request(idp.open, idp.sso, issuer_xml=idp.open[:10] +
                                                 "<!---->" + idp.open[10:]), browser=alice))


def entities_and_structure(idp, alice):
    listener = Listener()
    here = "http://127.0.0.1:%d" % listener.port

    def carrier(issuer_xml=None):
        return sf.authn_request(idp.open, idp.sso, issuer_xml=issuer_xml)

    def utf7(s):
        return s.replace("<", "+ADw-").replace(">", "+AD4-")

    docs = [
        ("DOCTYPE with an internal entity",
         sf.with_doctype(carrier("&e;"), '<!DOCTYPE r [<!ENTITY e "%s">]>' % idp.open)),
        ("billion laughs", sf.with_doctype(carrier("&lol9;"), sf.BILLION_LAUGHS)),
        ("external entity file:///etc/passwd", sf.with_doctype(
            carrier("&x;"), '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>')),
        ("external entity over HTTP",
         sf.with_doctype(carrier("&x;"), '<!DOCTYPE r [<!ENTITY x SYSTEM "%s/x">]>' % here)),
        ("external entity at a closed port", sf.with_doctype(
            carrier("&x;"), '<!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:%d/">]>'
            % st.free_port())),
        ("external parameter entity",
         sf.with_doctype(carrier(), '<!DOCTYPE r [<!ENTITY %% p SYSTEM "%s/p"> %%p;]>' % here)),
        ("external DTD", sf.with_doctype(carrier(), '<!DOCTYPE r SYSTEM "%s/dtd">' % here)),
        ("entity reference without a DOCTYPE", carrier("&e;")),
        ("DOCTYPE hidden behind a UTF-7 declaration",
         '<?xml version="1.0" encoding="UTF-7"?>' + utf7(sf.with_doctype(
             carrier("&x;"), '<!DOCTYPE r [<!ENTITY x SYSTEM "%s/u7">]>' % here))),
        ("UTF-16 with a DOCTYPE", ("\ufeff" + sf.with_doctype(
            carrier("&x;"), '<!DOCTYPE r [<!ENTITY x SYSTEM "%s/u16">]>' % here))
            .encode("utf-16-le")),
    ]
    for name, doc in docs:
        refused(idp, "HTTP-POST: " + name, post(idp, idp.sso, doc, browser=alice), limit=QUICK)
    for name, doc in docs[1:4]:
        refused(idp, "HTTP-Redirect: " + name,
                get(idp, idp.sso, sf.redirect_query(doc), alice), limit=QUICK)
    lr = sf.with_doctype(sf.logout_request(idp.signed, idp.slo, "&x;", name_id_xml="&x;"),
                         '<!DOCTYPE r [<!ENTITY x SYSTEM "%s/slo">]>' % here)
    refused(idp, "LogoutRequest: external entity", post(idp, idp.slo, lr, browser=alice),
            event="saml.slo.reject", limit=QUICK)
    # XInclude is never processed (the request itself may well be answered).
    xi = ('<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="%s/xi" '
          'parse="text"/>' % here)
    post(idp, idp.sso, sf.authn_request(idp.open, idp.sso, extensions=xi), browser=alice)
    time.sleep(0.2)
    t.eq(listener.hits, 0, "nothing was fetched from the URLs in the payloads")
    listener.close()

    x = carrier()
    for name, doc in (("two root elements", x + x), ("text after the root", x + "trailing"),
                      ("an element after the root", x + "<saml:Issuer/>"),
                      ("a comment after the root", x + "<!-- c -->"),
                      ("a processing instruction before the root", '<?pi x?>' + x)):
        refused(idp, "structure: " + name, post(idp, idp.sso, doc, browser=alice))


def bombs_and_caps(idp, alice):
    bomb = sf.deflate_bomb(1 << 20)
    t.ok(len(bomb) < 2048, "the small deflate bomb is about 1 KB (%d bytes)" % len(bomb))
    refused(idp, "deflate bomb, ~1 KB inflating to 1 MB",
            get(idp, idp.sso, "SAMLRequest=" + sf.q(bomb), alice), limit=1.0 * SLOW)
    # The biggest bomb a URL can carry (Sekisho's URI limit is 16 KiB).
    size = 8 << 20
    while len(sf.q(sf.deflate_bomb(size))) > 16000:
        size //= 2
    refused(idp, "deflate bomb inflating to %d MiB" % (size >> 20),
            get(idp, idp.sso, "SAMLRequest=" + sf.q(sf.deflate_bomb(size)), alice),
            limit=1.0 * SLOW)
    # DEFLATE cannot beat ~1:1032, so 100 MB needs ~100 KB: refused as an oversized URL.
    r = get(idp, idp.sso, "SAMLRequest=" + sf.q(sf.deflate_bomb(100 << 20)), alice)
    refused(idp, "deflate bomb inflating to 100 MB (an oversized URL)", r, audit=False,
            page=False, limit=1.0 * SLOW)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    big = b"SAMLRequest=" + b"A" * (300 << 10)
    r = raw_request(idp, "POST", idp.sso, alice, dict(form, **{"Content-Length": str(len(big))}))
    t.ok(r.status_code == 413 and r.elapsed.total_seconds() < QUICK,
         "POST announcing over 256 KiB: 413 before the body is even read", describe(r))
    chunks = [big[i:i + 16384] for i in range(0, len(big), 16384)]
    r = raw_request(idp, "POST", idp.sso, alice, dict(form, **{"Transfer-Encoding": "chunked"}),
                    chunks)
    t.ok(r.status_code == 413 and r.elapsed.total_seconds() < QUICK,
         "chunked POST body over 256 KiB: 413 before decoding", describe(r))
    refused(idp, "nesting deeper than 32",
            post(idp, idp.sso, signed_authn(idp, extensions=sf.nested(40)), browser=alice))
    refused(idp, "more than 4000 nodes",
            post(idp, idp.sso, signed_authn(idp, extensions=sf.many_nodes(4100)), browser=alice))
    # Just under the caps: the same shapes are fine.
    accepted("nesting 25 deep", post(idp, idp.sso, signed_authn(idp, extensions=sf.nested(25)),
                                     browser=alice), idp.acs)
    accepted("1000 nodes", post(idp, idp.sso, signed_authn(idp, extensions=sf.many_nodes(1000)),
                                browser=alice), idp.acs)


def acs_games(idp, alice):
    sp_host = "127.0.0.1:%d" % idp.sp_port
    other = "http://127.0.0.1:%d/acs" % (idp.sp_port + 1 if idp.sp_port < 65535 else 1024)
    variants = [
        ("not in metadata", "http://%s/elsewhere" % sp_host),
        ("case change", idp.acs.replace("/acs", "/ACS")),
        ("trailing path", idp.acs + "/x"),
        ("trailing slash", idp.acs + "/"),
        ("added ?x", idp.acs + "?x"),
        ("added #x", idp.acs + "#x"),
        ("user@host", "http://%s@evil.example/acs" % sp_host),
        ("userinfo before the host", "http://evil@%s/acs" % sp_host),
        ("%2e%2e", idp.acs + "/%2e%2e/acs"),
        ("..;/", idp.acs + "/..;/acs"),
        ("https instead of http", idp.acs.replace("http:", "https:")),
        ("other port", other),
    ]
    for name, url in variants:
        refused(idp, "ACS URL %s (signed request)" % name,
                post(idp, idp.sso, signed_authn(idp, acs_url=url), browser=alice))
    open_variants = [("not in metadata", idp.open_acs.replace("/open/", "/other/")),
                     ("case change", idp.open_acs.upper().replace("HTTP:", "http:")),
                     ("trailing path", idp.open_acs + "/x"),
                     ("added ?x", idp.open_acs + "?x"),
                     ("%2e%2e", idp.open_acs + "/%2e%2e/acs"),
                     ("https instead of http", idp.open_acs.replace("http:", "https:"))]
    for name, url in open_variants:
        refused(idp, "ACS URL %s (unsigned request)" % name,
                post(idp, idp.sso, sf.authn_request(idp.open, idp.sso, acs_url=url),
                     browser=alice))
    accepted("AssertionConsumerServiceIndex 1",
             post(idp, idp.sso, signed_authn(idp, acs_url=None, acs_index=1,
                                             protocol_binding=None), browser=alice), idp.acs2)
    refused(idp, "AssertionConsumerServiceIndex not in metadata",
            post(idp, idp.sso, signed_authn(idp, acs_url=None, acs_index=7,
                                            protocol_binding=None), browser=alice))
    for name, binding in (("HTTP-Redirect", sf.BINDING_REDIRECT), ("SOAP", sf.BINDING_SOAP),
                          ("PAOS", sf.BINDING_PAOS), ("HTTP-Artifact", sf.BINDING_ARTIFACT)):
        refused(idp, "ProtocolBinding %s" % name,
                post(idp, idp.sso, signed_authn(idp, acs_url=None, protocol_binding=binding),
                     browser=alice))


def header_checks(idp, alice):
    base = idp.srv.base()
    for name, dest in (("the SLO endpoint", idp.slo),
                       ("another tenant", idp.srv.url + "/t/other/saml/sso"),
                       ("a trailing slash", idp.sso + "/"),
                       ("another host", idp.sso.replace("127.0.0.1", "localhost"))):
        doc = sf.sign(sf.authn_request(idp.signed, dest, acs_url=idp.acs), idp.k_signed)
        refused(idp, "Destination %s" % name, post(idp, idp.sso, doc, browser=alice))
    doc = sf.sign(sf.authn_request(idp.signed, None, acs_url=idp.acs), idp.k_signed)
    refused(idp, "signed request without Destination", post(idp, idp.sso, doc, browser=alice))
    refused(idp, "unknown Issuer (unsigned)",
            post(idp, idp.sso, sf.authn_request(base + "/nobody", idp.sso), browser=alice))
    refused(idp, "unknown Issuer (signed by its own key)",
            post(idp, idp.sso, sf.sign(sf.authn_request(base + "/nobody", idp.sso),
                                       idp.k_attacker), browser=alice))
    refused(idp, "Version 1.1", post(idp, idp.sso, signed_authn(idp, version="1.1"),
                                     browser=alice))
    for off in (-600, 600):
        refused(idp, "IssueInstant %+d min" % (off // 60),
                post(idp, idp.sso, signed_authn(idp, issue_instant=sf.instant(off)),
                     browser=alice))
    for off in (-100, 100):
        accepted("IssueInstant %+d s (within the 3 min skew)" % off,
                 post(idp, idp.sso, signed_authn(idp, issue_instant=sf.instant(off)),
                      browser=alice), idp.acs)


def encodings(idp, alice):
    """Sekisho's check reads every message as UTF-8, lasso's parser honours a declared
    encoding: unless any other encoding is refused, the two read different messages."""
    hidden = sf.utf7_hidden_issuer(idp.open, idp.signed, idp.sso, idp.acs)
    # To lasso an unsigned request from signed, whose metadata says it signs its requests;
    # to a UTF-8 reader a request from open, which need not.
    refused(idp, "UTF-7 hiding the Issuer of an SP that must sign (HTTP-Redirect)",
            get(idp, idp.sso, sf.redirect_query(hidden), alice))
    refused(idp, "UTF-7 hiding the Issuer of an SP that must sign (HTTP-POST)",
            post(idp, idp.sso, hidden, browser=alice))
    for name, decl in (("UTF-7", '<?xml version="1.0" encoding="UTF-7"?>'),
                       ("utf-7 in lower case", '<?xml version="1.0" encoding="utf-7"?>'),
                       ("UTF-7, single quotes, blanks around '='",
                        "<?xml version='1.0' encoding = 'UTF-7' ?>"),
                       ("UTF-7 after tabs and line breaks",
                        '<?xml\tversion="1.0"\r\n\tencoding="UTF-7"\n?>'),
                       ("ISO-8859-1", '<?xml version="1.0" encoding="ISO-8859-1"?>')):
        refused(idp, "declared encoding %s on a plain request (HTTP-Redirect)" % name,
                get(idp, idp.sso, sf.redirect_query(decl + authn(idp, idp.open)), alice))
    for name, bom, codec in (("UTF-8", b"\xef\xbb\xbf", "utf-8"),
                             ("UTF-16BE", b"\xfe\xff", "utf-16-be"),
                             ("UTF-7", b"+/v8", "utf-7")):
        refused(idp, "%s byte-order mark (HTTP-POST)" % name,
                post(idp, idp.sso, bom + authn(idp, idp.open).encode(codec), browser=alice))
    for decl in ("<?xml version='1.0' encoding='utf-8'?>",
                 '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'):
        accepted("declared %s" % decl.strip(),
                 get(idp, idp.sso, sf.redirect_query(decl + authn(idp, idp.open)), alice),
                 idp.open_acs)


def redirect_destination(idp, alice):
    """SAML bindings 3.4.5.2: a signed message says where it is sent, also when the
    signature is the Redirect binding's query signature."""
    refused(idp, "query-signed AuthnRequest without Destination",
            get(idp, idp.sso, signed_query(idp, xml=sf.authn_request(idp.signed, None,
                                                                    acs_url=idp.acs)), alice))
    refused(idp, "query-signed AuthnRequest without Destination (an SP that need not sign)",
            get(idp, idp.sso, sf.redirect_query(sf.authn_request(idp.open, None), idp.k_open),
                alice))
    accepted("unsigned AuthnRequest without Destination (HTTP-Redirect)",
             get(idp, idp.sso, sf.redirect_query(sf.authn_request(idp.open, None)), alice),
             idp.open_acs)
    victor = Person(idp, "victor")
    name = "query-signed LogoutRequest without Destination"
    refused(idp, name, get(idp, idp.slo, sf.redirect_query(
        victor.logout_request(no_destination=True), idp.k_signed), victor.browser),
        event="saml.slo.reject")
    t.ok(victor.sso(), name + ": victor's session survives")
    r = get(idp, idp.slo, sf.redirect_query(victor.logout_request(), idp.k_signed),
            victor.browser)
    t.eq(logout_status(r), SUCCESS, "a query-signed LogoutRequest with Destination succeeds")


def logout_response_replay(idp, alice):
    """A LogoutResponse counts only as the answer to the LogoutRequest Sekisho sent in
    that logout: a recent signed answer of the same SP to another logout is refused, and
    the logout goes on without that SP's confirmation."""
    def start():
        """A new session of victor with signed, logged out at Sekisho: the browser, and the
        ID and RelayState of the LogoutRequest sent to signed."""
        b = Person(idp, "victor").browser
        r = send(idp, b, "GET", idp.srv.base() + "/logout")
        form = next(f for f in st.parse_forms(r.text)
                    if f["method"] == "post" and "csrf" in f["fields"])
        r = send(idp, b, "POST", urllib.parse.urljoin(r.url, form["action"]),
                 data=form["fields"])
        msg, relay = sent_message(r, "SAMLRequest")
        if msg is None:
            raise RuntimeError("no LogoutRequest to signed: " + describe(r))
        return b, msg.get("ID"), relay

    def signed(in_response_to):
        return sf.sign(sf.logout_response(idp.signed, idp.slo, in_response_to), idp.k_signed)

    def ended(name, r, partial):
        recs = idp.new_audit()
        if partial:
            REFUSALS.append((name, "saml.slo.reject", recs))
        want = "partial=%s" % ("yes" if partial else "no")
        logged = [f for e, f in recs if e == "logout" and re.search(r"(^|\s)%s(\s|$)" % want, f)]
        t.ok(r.status_code == 200 and ("did not confirm" in r.text) == partial and logged,
             "%s: %s" % (name, "refused, the logout ends as partial" if partial else
                         "confirms the logout"), describe(r) + "\n" + repr(recs))

    b, rid, relay = start()
    kept = signed(rid)
    ended("the answer to our LogoutRequest (HTTP-POST)",
          post(idp, idp.slo, kept, relay=relay, browser=b, field="SAMLResponse"), False)
    for name, make in (("replayed from another logout of the same SP", lambda rid: kept),
                       ("without InResponseTo", lambda rid: signed(None)),
                       ("answering another ID", lambda rid: signed(sf.new_id()))):
        b, rid, relay = start()
        ended("LogoutResponse " + name,
              post(idp, idp.slo, make(rid), relay=relay, browser=b, field="SAMLResponse"), True)
    b, rid, relay = start()
    q = sf.redirect_query(sf.logout_response(idp.signed, None, rid), idp.k_signed,
                          relay_state=relay, param="SAMLResponse")
    ended("query-signed LogoutResponse without Destination", get(idp, idp.slo, q, b), True)
    b, rid, relay = start()
    q = sf.redirect_query(sf.logout_response(idp.signed, idp.slo, rid), idp.k_signed,
                          relay_state=relay, param="SAMLResponse")
    ended("the answer to our LogoutRequest (HTTP-Redirect)", get(idp, idp.slo, q, b), False)


def replay(idp, alice):
    # A refused request leaves nothing behind: its ID stays usable.
    rid = sf.new_id()
    refused(idp, "replay set-up: request with a wrong Destination",
            post(idp, idp.sso, sf.sign(sf.authn_request(idp.signed, idp.slo, acs_url=idp.acs,
                                                        id=rid), idp.k_signed), browser=alice))
    accepted("a refused request's ID can still be used",
             post(idp, idp.sso, signed_authn(idp, id=rid), browser=alice), idp.acs)

    rid = sf.new_id()
    doc = signed_authn(idp, id=rid)
    accepted("replay: first use", post(idp, idp.sso, doc, browser=alice), idp.acs)
    r = post(idp, idp.sso, doc, browser=alice)
    refused(idp, "replay: the same signed AuthnRequest again", r)
    t.ok("already used" in (error_message(r) or ""), "replay: the replay page", describe(r))
    refused(idp, "replay: the same ID over HTTP-Redirect",
            get(idp, idp.sso, sf.redirect_query(authn(idp, id=rid), idp.k_signed), alice))
    refused(idp, "replay: the same ID from a browser without a session",
            post(idp, idp.sso, doc))
    idp.srv.restart()
    idp.audit_seen = len(idp.srv.audit())
    r = post(idp, idp.sso, doc, browser=alice)
    refused(idp, "replay after a restart", r)
    t.ok("already used" in (error_message(r) or ""), "replay after a restart: the replay page",
         describe(r))


def _date(s):
    """Seconds since the epoch of an xs:dateTime in UTC (fractions dropped)."""
    return calendar.timegm(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S"))


def our_assertions(idp, alice):
    rid = sf.new_id()
    form = accepted("assertion checks: the request",
                    post(idp, idp.sso, signed_authn(idp, id=rid), browser=alice), idp.acs)
    if form is None:
        return
    raw = base64.b64decode(form["fields"]["SAMLResponse"])
    resp = etree.fromstring(raw)
    a = resp.find("saml:Assertion", sf.NS)
    if not t.ok(a is not None, "the Response carries a plain Assertion"):
        return
    scd = a.find("saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", sf.NS)
    cond = a.find("saml:Conditions", sf.NS)
    issued = _date(a.get("IssueInstant"))
    t.eq(resp.get("InResponseTo"), rid, "Response InResponseTo = request ID")
    t.eq(resp.get("Destination"), idp.acs, "Response Destination = ACS")
    t.eq(a.findtext("saml:Issuer", namespaces=sf.NS), idp.entity, "Assertion Issuer = IdP")
    t.eq(scd.get("Recipient"), idp.acs, "SubjectConfirmationData Recipient = ACS")
    t.eq(scd.get("InResponseTo"), rid, "SubjectConfirmationData InResponseTo = request ID")
    for name, el in (("SubjectConfirmationData", scd), ("Conditions", cond)):
        life = _date(el.get("NotOnOrAfter")) - issued
        t.ok(0 < life <= 300, "%s NotOnOrAfter <= 5 min after issue (%d s)" % (name, life))
    t.eq([e.text for e in cond.findall("saml:AudienceRestriction/saml:Audience", sf.NS)],
         [idp.signed], "Audience = SP entity ID")
    t.ok(a.find("ds:Signature", sf.NS) is not None, "the Assertion is signed")
    methods = {e.get("Algorithm") for e in resp.iter("{%s}SignatureMethod" % sf.DS)}
    digests = {e.get("Algorithm") for e in resp.iter("{%s}DigestMethod" % sf.DS)}
    t.eq(methods, {sf.RSA_SHA256}, "signature algorithm rsa-sha256")
    t.eq(digests, {sf.SHA256}, "digest sha256")
    ref = a.find("ds:Signature/ds:SignedInfo/ds:Reference", sf.NS)
    t.eq(ref.get("URI") if ref is not None else None, "#" + a.get("ID"),
         "the Assertion's signature references the Assertion")
    # And it verifies with the certificate of our published metadata.
    md = etree.fromstring(requests.get(idp.entity, verify=idp.srv.ca, timeout=10).content)
    cert = md.findtext(".//ds:X509Certificate", namespaces=sf.NS).strip()
    pem = os.path.join(idp.srv.tmp, "idp.pem")
    with open(pem, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % cert)
    path = os.path.join(idp.srv.tmp, "response.xml")
    with open(path, "wb") as f:
        f.write(raw)
    r = subprocess.run(["xmlsec1", "--verify", "--pubkey-cert-pem", pem, "--id-attr:ID",
                        "urn:oasis:names:tc:SAML:2.0:assertion:Assertion", path],
                       capture_output=True, text=True)
    t.ok(r.returncode == 0, "the Assertion's signature verifies with the IdP certificate",
         r.stderr[-800:])


def relay_state(idp, alice):
    refused(idp, "RelayState of 81 bytes (HTTP-POST)",
            post(idp, idp.sso, signed_authn(idp), relay="r" * 81, browser=alice))
    refused(idp, "RelayState of 81 bytes (HTTP-Redirect, signed)",
            get(idp, idp.sso, signed_query(idp, "r" * 81), alice))
    refused(idp, "RelayState of 27 three-byte characters (81 bytes)",
            post(idp, idp.sso, signed_authn(idp), relay="\u3042" * 27, browser=alice))
    hostile = "\"><script>alert(1)</script><a href='x'>&amp;&#x3c;"
    for name, value in (("80 bytes with markup", (hostile + "-" * 80)[:80]),
                        ("80 bytes of UTF-8", "\u3042" * 26 + "ab")):
        assert len(value.encode()) == 80
        for binding in ("HTTP-POST", "HTTP-Redirect"):
            if binding == "HTTP-POST":
                r = post(idp, idp.sso, signed_authn(idp), relay=value, browser=alice)
            else:
                r = get(idp, idp.sso, signed_query(idp, value), alice)
            form = accepted("RelayState %s (%s)" % (name, binding), r, idp.acs)
            got = form and form["fields"].get("RelayState")
            t.eq(got, value, "RelayState %s (%s) echoed byte for byte" % (name, binding))
            t.ok("<script>alert" not in r.text and "<a href='x'>" not in r.text,
                 "RelayState %s (%s) is HTML-escaped" % (name, binding))
    r = post(idp, idp.sso, sf.authn_request(idp.odd, idp.sso), browser=alice)
    accepted("ACS URL with HTML metacharacters: round trip", r, idp.odd_acs)
    t.ok("a=1&b='x'&amp;=1" not in r.text, "ACS URL is HTML-escaped in the form",
         re.findall(r"<form[^>]*>", r.text))

    # RelayState is data for the SP, never where the IdP sends the browser.
    evil = "https://evil.example/steal"
    for name, r in (
            ("HTTP-POST", post(idp, idp.sso, signed_authn(idp), relay=evil, browser=alice)),
            ("HTTP-Redirect", get(idp, idp.sso, signed_query(idp, evil), alice)),
            ("IdP-initiated", send(idp, alice, "GET", "%s/saml/init/%s?RelayState=%s" % (
                idp.srv.base(), APP_SIGNED, sf.q(evil))))):
        form = accepted("RelayState URL (%s)" % name, r, idp.acs)
        t.ok(form and form["fields"].get("RelayState") == evil and "Location" not in r.headers,
             "RelayState URL (%s) is not a redirect target" % name, describe(r))
    # Through a login: every hop of the way.
    b = idp.browser()
    try:
        b.get(idp.sso + "?" + signed_query(idp, evil))
        b.submit_login(b.history[-1], "alice", idp.password("alice"))
    except requests.ConnectionError:
        pass    # the browser auto-posted to the ACS, where nothing listens
    hops = [h.headers.get("Location", "") for h in b.history]
    last = [h for h in b.history if autopost(h)]
    t.ok(last and autopost(last[-1])["action"] == idp.acs and
         autopost(last[-1])["fields"].get("RelayState") == evil and
         not any("evil.example" in h for h in hops),
         "RelayState URL through the login: posted to the ACS, never redirected to", hops)


class Person:
    """A user with a browser and the NameID/SessionIndex of their last SSO to signed."""

    def __init__(self, idp, name):
        self.idp, self.name = idp, name
        self.login()

    def login(self):
        """A new browser and session (after a case that wrongly ended the old one)."""
        self.browser = self.idp.browser(self.name)
        self.name_id = self.session_index = None
        if not self.sso():
            raise RuntimeError("%s cannot SSO" % self.name)

    def sso(self):
        """SSO to signed without a login page: True when the session is alive."""
        r = post(self.idp, self.idp.sso, signed_authn(self.idp), browser=self.browser)
        form = autopost(r)
        if form is None or form["action"] != self.idp.acs:
            return False
        resp = sf.parse_b64(form["fields"]["SAMLResponse"])
        self.name_id = resp.find(".//saml:Subject/saml:NameID", sf.NS)
        self.session_index = resp.find(".//saml:AuthnStatement", sf.NS).get("SessionIndex")
        return True

    def logout_request(self, issuer=None, name_id=None, session_index=None,
                       no_destination=False, **kw):
        n = self.name_id
        return sf.logout_request(issuer or self.idp.signed,
                                 None if no_destination else self.idp.slo,
                                 name_id or n.text, n.get("Format"),
                                 session_index or self.session_index,
                                 name_qualifier=n.get("NameQualifier"),
                                 sp_name_qualifier=n.get("SPNameQualifier"), **kw)


def sent_message(r, field):
    """(parsed message, RelayState) that answer r sends on as field (auto-POST or
    redirect), or (None, None)."""
    form = autopost(r)
    if form and field in form["fields"]:
        return (etree.fromstring(base64.b64decode(form["fields"][field])),
                form["fields"].get("RelayState"))
    if field + "=" in r.headers.get("Location", ""):
        qs = urllib.parse.parse_qs(urllib.parse.urlsplit(r.headers["Location"]).query)
        return (etree.fromstring(zlib.decompress(base64.b64decode(qs[field][0]), -15)),
                qs.get("RelayState", [None])[0])
    return None, None


def logout_status(r):
    """The StatusCode of the LogoutResponse in answer r (auto-POST or redirect), or None."""
    msg, _ = sent_message(r, "SAMLResponse")
    code = msg.find("samlp:Status/samlp:StatusCode", sf.NS) if msg is not None else None
    return code.get("Value") if code is not None else None


SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"


def logout_attacks(idp, alice):
    victor, mallory = Person(idp, "victor"), Person(idp, "mallory")

    def survives(name):
        if not t.ok(victor.sso(), name + ": victor's session survives"):
            victor.login()      # so that the next cases test something

    def not_success(name, r, event="saml.slo.reject"):
        REFUSALS.append((name, event, idp.new_audit()))
        status = logout_status(r)
        t.ok(r.status_code < 500 and status != SUCCESS,
             name + ": answered with an error", "status %r; %s" % (status, describe(r)))

    # Through mallory's own browser, naming victor.
    name = "LogoutRequest naming victor's NameID and SessionIndex (mallory's browser)"
    not_success(name, post(idp, idp.slo, sf.sign(victor.logout_request(), idp.k_signed),
                           browser=mallory.browser))
    survives(name)
    name = "LogoutRequest with victor's SessionIndex (mallory's browser)"
    r = post(idp, idp.slo, sf.sign(mallory.logout_request(session_index=victor.session_index),
                                   idp.k_signed), browser=mallory.browser)
    not_success(name, r)
    survives(name)

    # Through victor's browser: an SP his session never used.
    name = "LogoutRequest from an SP victor's session never used"
    r = post(idp, idp.slo, sf.sign(victor.logout_request(issuer=idp.open), idp.k_open),
             browser=victor.browser)
    REFUSALS.append((name, "saml.slo.nosession", idp.new_audit()))
    survives(name)

    # Through victor's browser: unsigned (logout CSRF).
    name = "unsigned LogoutRequest for victor (HTTP-POST)"
    not_success(name, post(idp, idp.slo, victor.logout_request(), browser=victor.browser))
    survives(name)
    name = "unsigned LogoutRequest for victor (HTTP-Redirect)"
    not_success(name, get(idp, idp.slo, sf.redirect_query(victor.logout_request()),
                          victor.browser))
    survives(name)

    # Through victor's browser: mallory's signed LogoutRequest, wrapped to name victor.
    def evil(root):
        root.find("saml:NameID", sf.NS).text = victor.name_id.text
        root.find("samlp:SessionIndex", sf.NS).text = victor.session_index

    for v in range(1, 9):
        doc = sf.xsw(sf.sign(mallory.logout_request(), idp.k_signed), v, evil)
        refused(idp, "XSW%d LogoutRequest (%s)" % (v, sf.XSW_NAMES[v]),
                post(idp, idp.slo, doc, browser=victor.browser), event="saml.slo.reject")
    survives("XSW LogoutRequests")

    # Markup inside NameID / SessionIndex, signed: "victor@example.org<!---->.evil.org"
    # is mallory's NameID to a canonicaliser, victor's to a careless reader.
    v_nid, si = victor.name_id.text, victor.session_index
    for name, kw in (
            ("comment in NameID", {"name_id_xml": v_nid + "<!---->.evil.org"}),
            ("CDATA in NameID", {"name_id_xml": v_nid + "<![CDATA[.evil.org]]>"}),
            ("comment in SessionIndex", {"session_index_xml": si[:8] + "<!---->" + si[8:]}),
            ("CDATA in SessionIndex", {"session_index_xml": si + "<![CDATA[x]]>"})):
        refused(idp, "LogoutRequest with a %s" % name,
                post(idp, idp.slo, sf.sign(victor.logout_request(**kw), idp.k_signed),
                     browser=victor.browser), event="saml.slo.reject")
        survives("LogoutRequest with a %s" % name)

    # A stale signed LogoutRequest for victor, hidden from Sekisho's checks behind ';'.
    name = "an hour-old LogoutRequest for victor behind ';'"
    stale = sf.redirect_query(victor.logout_request(issue_instant=sf.instant(-3600)),
                              idp.k_signed)
    refused(idp, name, get(idp, idp.slo, behind_semicolon(mallory.logout_request(), stale),
                           victor.browser), event="saml.slo.reject")
    survives(name)

    # The control: victor's own SP, correctly signed, does end his session.
    r = post(idp, idp.slo, sf.sign(victor.logout_request(), idp.k_signed),
             browser=victor.browser)
    t.eq(logout_status(r), SUCCESS, "a valid LogoutRequest is answered with Success")
    t.ok(not victor.sso(), "a valid LogoutRequest ends the session")
    t.ok(mallory.sso(), "mallory's session was never touched by victor's logout")
    t.ok(post(idp, idp.sso, signed_authn(idp), browser=alice).status_code == 200,
         "alice is still served")


def memory_under_bad_input(idp, alice):
    """VmRSS over BAD_INPUTS refusals, after a warm-up.  VmRSS includes LMDB's mapped
    pages, which grow with the audit records the refusals write; the heap (RssAnon) must
    not grow at all once warm: a leak of a few hundred bytes a request shows there."""
    pid = idp.worker_pid()
    if not t.ok(pid is not None, "found the sekishod worker"):
        return
    signed = signed_authn(idp)

    def form(xml):
        return {"data": {"SAMLRequest": sf.post_value(xml)}}

    bad = [
        ("POST", idp.sso, form(sf.with_doctype(authn(idp, idp.open), sf.BILLION_LAUGHS))),
        ("GET", idp.sso + "?SAMLRequest=" + sf.q(sf.deflate_bomb(1 << 20)), {}),
        ("POST", idp.sso, form(signed_authn(idp, extensions=sf.nested(40)))),
        ("POST", idp.sso, form(sf.xsw(signed, 2, lambda r: None))),
        # These reach the signature checks (XML, then Redirect: bad, then good but refused).
        ("POST", idp.sso, form(sf.set_attr(signed, "ForceAuthn", "false"))),
        ("GET", idp.sso + "?" + replace(signed_query(idp), "SAMLRequest",
                                        sf.q(sf.redirect_value(authn(idp)))), {}),
        ("GET", idp.sso + "?" + signed_query(idp, xml=authn(idp, acs_url=idp.acs + "/x")), {}),
        ("POST", idp.slo, form(sf.logout_request(idp.signed, idp.slo, "x", session_index="y"))),
    ]
    s = requests.Session()
    s.trust_env = False
    s.cookies = alice.s.cookies     # with a session: no shortcut through the login page
    statuses = {}

    def run(n):
        for i in range(n):
            method, url, kw = bad[i % len(bad)]
            code = s.request(method, url, verify=idp.srv.ca, allow_redirects=False,
                             timeout=30, **kw).status_code
            statuses[code] = statuses.get(code, 0) + 1

    run(800)    # warm-up: caches, thread pools, malloc arenas
    statuses.clear()
    audit_before = len(idp.srv.audit())
    start = time.monotonic()
    mem = [memory(pid)]
    run(BAD_INPUTS // 2)
    mem.append(memory(pid))
    run(BAD_INPUTS - BAD_INPUTS // 2)
    mem.append(memory(pid))
    took = time.monotonic() - start
    t.ok(set(statuses) <= {200, 303, 400}, "%d bad inputs answered (%.1f s): %r" % (
        BAD_INPUTS, took, statuses))
    vm = [m["VmRSS"] for m in mem]
    heap = [m["RssAnon"] for m in mem]
    if st.SANITIZED:
        # ASan's quarantine keeps freed memory: RSS says nothing there, LeakSanitizer
        # (checked at the end of the scenario) says whether anything leaked.
        t.ok(True, "memory growth not judged under a sanitizer build (LeakSanitizer is)")
    else:
        t.ok(vm[2] - vm[0] < RSS_SLACK_KIB, "worker VmRSS flat over %d bad inputs: %d -> %d "
             "KiB" % (BAD_INPUTS, vm[0], vm[2]))
        t.ok(heap[2] - heap[1] < HEAP_SLACK_KIB, "worker heap flat over the last %d: %s KiB"
             % (BAD_INPUTS - BAD_INPUTS // 2, " -> ".join(map(str, heap))))
    t.eq(idp.worker_pid(), pid, "the same worker served them all (no crash)")
    t.ok(len(idp.srv.audit()) - audit_before >= BAD_INPUTS,
         "every bad input left an audit record")
    idp.audit_seen = len(idp.srv.audit())


def memory(pid):
    """VmRSS and RssAnon of pid, in KiB."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key = line.split(":")[0]
            if key in ("VmRSS", "RssAnon"):
                out[key] = int(line.split()[1])
    return out


def closing(idp, alice):
    missing = [name for name, event, recs in REFUSALS
               if event not in [e for e, _ in recs]]
    t.ok(not missing, "each of %d refusals left an audit record" % len(REFUSALS),
         "\n".join(missing))
    accepted("a normal SSO still works at the end",
             post(idp, idp.sso, signed_authn(idp), browser=alice), idp.acs)
    fresh = idp.browser()
    r = fresh.get(idp.sso + "?" + signed_query(idp))
    t.ok(fresh.login_form(r) is not None, "a new browser still gets the login page")
    died = [line for line in idp.srv.log().splitlines() if "worker exited" in line]
    t.ok(not died, "the worker never died", "\n".join(died))


def main():
    idp = Idp()
    try:
        alice = idp.browser("alice")
        for name, fn in (("baseline", baseline), ("XSW on AuthnRequests", xsw_authn),
                         ("signature profile", signature_profile),
                         ("stripped signatures and foreign keys", stripped_and_foreign_keys),
                         ("Redirect tampering", redirect_tampering),
                         ("weak algorithms", weak_algorithms),
                         ("Issuer injection", issuer_injection),
                         ("entities and structure", entities_and_structure),
                         ("bombs and caps", bombs_and_caps), ("ACS games", acs_games),
                         ("header checks", header_checks), ("encodings", encodings),
                         ("Redirect Destination", redirect_destination),
                         ("our assertions", our_assertions),
                         ("RelayState", relay_state), ("logout attacks", logout_attacks),
                         ("LogoutResponse replay", logout_response_replay),
                         ("replay", replay), ("memory", memory_under_bad_input),
                         ("closing checks", closing)):
            t.run(name, fn, idp, alice)
    finally:
        if t.failed:
            print("# last server log lines:")
            for line in idp.srv.log().splitlines()[-15:]:
                print("#   " + line)
        idp.srv.close()
    t.done()


main()
