#!/usr/bin/python3
"""End to end: Sekisho as the IdP of python3-pysaml2 service providers (Debian's, unmodified).

pysaml2 SPs on 127.0.0.1 (tests/e2e/peers/pysaml2_sp.py) against one sekishod:
  sp1       persistent NameID, no requested attributes (Sekisho sends email, displayName
            and groups), accepts IdP-initiated responses
  sp2       persistent NameID, refuses unsolicited responses, sends its LogoutRequest over
            HTTP-POST
  sptrans   transient NameID
  spmail    NameID = e-mail address, RequestedAttribute mail and displayName in metadata
  spstock   answers LogoutRequests with pysaml2's handle_logout_request as it is
Covered: SP-initiated SSO over HTTP-Redirect and HTTP-POST with signed AuthnRequests and
RelayState, the assertion as pysaml2 received it (times, Recipient, InResponseTo, audience,
algorithms, one signature), a tampered response refused by pysaml2, IdP-initiated SSO with
and without a session, SSO without asking again, ForceAuthn, IsPassive, NameID formats,
Single Logout started at an SP (either binding) with a second SP in the session and started
at Sekisho, a disabled user, and a session that outlives a restart of sekishod.
"""
import base64
import datetime
import re
import secrets
import signal
import sys
import time
import urllib.parse

from lxml import etree

import sekisho_test
from sekisho_test import Browser, Server, Tap
from peers.pysaml2_sp import PySaml2SP

RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
NS = {"ds": "http://www.w3.org/2000/09/xmldsig#",
      "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
      "samlp": "urn:oasis:names:tc:SAML:2.0:protocol"}
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
NO_PASSIVE = "urn:oasis:names:tc:SAML:2.0:status:NoPassive"
PERSISTENT_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")

# RelayState with characters that encode differently in a query string and a form body
# (space, plus, percent, ampersand, equals, slash, non-ASCII): 69 bytes, under 80.
RELAY = "https://app.example/next?a=1&b=x y+z%2F/é~!*'()"


def xml_time(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)


def query(url):
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)


def is_login_page(b, r, server):
    return r.url.startswith(server.base() + "/login") and b.login_form(r) is not None


def login_forms_seen(b, start, server):
    """Responses since history index start that showed Sekisho's login form."""
    return [h for h in b.history[start:]
            if h.url.startswith(server.base() + "/login") and b.login_form(h) is not None]


def sent_to(b, start, prefix):
    return [h for h in b.history[start:] if h.url.startswith(prefix)]


def submit_sp_form(b, r):
    """Post the SP's auto-submitting form (pysaml2's HTTP-POST binding page)."""
    forms = sekisho_test.parse_forms(r.text)
    if r.status_code != 200 or len(forms) != 1:
        raise RuntimeError("no SP form on %s (%d): %s" % (r.url, r.status_code, r.text[:300]))
    return b.post(urllib.parse.urljoin(r.url, forms[0]["action"]), forms[0]["fields"])


def sp_get(b, sp, binding="redirect", **kw):
    """Start SP-initiated SSO at sp in browser b; the page it ends on."""
    r = b.get(sp.login_url(binding, **kw))
    return submit_sp_form(b, r) if binding == "post" else r


def acs_answer(sp, r):
    """The SP's JSON answer if r is its ACS page, else None."""
    if r.url != sp.acs_url:
        return None
    try:
        return r.json()
    except ValueError:
        return None


class Scenario:
    def __init__(self, tap, server, sps, users):
        self.t = tap
        self.server = server
        self.sp1, self.sp2, self.sptrans, self.spmail, self.spstock = sps
        self.users = users
        self.nameids = {}
        self.browsers = []

    def browser(self):
        b = Browser(verify=self.server.ca)
        self.browsers.append(b)
        return b

    def sso_ok(self, sp, r, what):
        """A check that r is sp's ACS accepting Sekisho's response; its JSON answer."""
        ans = acs_answer(sp, r) or {}
        self.t.ok(r.status_code == 200 and ans.get("ok") is True,
                  "%s: pysaml2 accepts the response at its ACS" % what,
                  "%d %s\n%s\n%s" % (r.status_code, r.url, r.text[:800],
                                     (sp.last("response") or {}).get("error")))
        return ans

    def login_at(self, sp, user, binding="redirect", **kw):
        """SP-initiated SSO in a fresh browser through the login form; (browser, answer)."""
        b = self.browser()
        r = sp_get(b, sp, binding, **kw)
        if not is_login_page(b, r, self.server):
            raise RuntimeError("no Sekisho login form on the way from %s: %d %s\n%s" % (
                sp.app, r.status_code, r.url, r.text[:500]))
        r = b.submit_login(r, user, self.users[user])
        return b, r

    # 1
    def sp_initiated(self, binding):
        t, sp, what = self.t, self.sp1, "sp1 %s" % binding
        b = self.browser()
        r = b.get(sp.login_url(binding, relay=RELAY))
        req = sp.last("authn_request")
        if binding == "post":
            form = sekisho_test.parse_forms(r.text)
            fields = form[0]["fields"] if form else {}
            xml = base64.b64decode(fields.get("SAMLRequest", "")).decode()
            doc = etree.fromstring(xml.encode()) if xml else None
            algs = doc.xpath("//ds:SignatureMethod/@Algorithm | //ds:DigestMethod/@Algorithm",
                             namespaces=NS) if doc is not None else []
            t.ok(form and form[0]["action"] == self.server.base() + "/saml/sso" and
                 sorted(set(algs)) == sorted([RSA_SHA256, SHA256]),
                 "%s: pysaml2 posts an AuthnRequest signed rsa-sha256/sha256" % what,
                 "%s %s" % (form and form[0]["action"], algs))
            r = submit_sp_form(b, r)
        else:
            sso = sent_to(b, 0, self.server.base() + "/saml/sso?")
            q = query(sso[0].url) if sso else {}
            t.ok("SAMLRequest" in q and "Signature" in q and q.get("SigAlg") == [RSA_SHA256],
                 "%s: pysaml2's AuthnRequest is signed with rsa-sha256 (HTTP-Redirect)" % what,
                 sorted(q))
        t.ok(is_login_page(b, r, self.server), "%s: Sekisho shows its login form" % what,
             "%d %s\n%s" % (r.status_code, r.url, r.text[:400]))
        r = b.submit_login(r, "alice", self.users["alice"])
        ans = self.sso_ok(sp, r, what)
        t.eq(ans.get("relay_state"), RELAY, "%s: RelayState comes back byte for byte" % what)
        t.eq(ans.get("in_response_to"), req and req["id"],
             "%s: the response answers pysaml2's request" % what)
        attrs = ans.get("attributes") or {}
        t.eq(attrs.get("email"), ["alice@example.com"], "%s: attribute email" % what)
        t.eq(attrs.get("displayName"), ["Alice Example"], "%s: attribute displayName" % what)
        t.eq(sorted(attrs.get("groups") or []), ["admins", "staff"],
             "%s: attribute groups has both of alice's groups" % what)
        t.ok(ans.get("name_id_format") == PERSISTENT and
             PERSISTENT_RE.match(ans.get("name_id") or ""),
             "%s: persistent NameID" % what, ans.get("name_id"))
        rec = sp.last("response")
        self.assertion_checks(what, rec["xml"] if rec else "", sp, req and req["id"])
        self.nameids.setdefault("sp1", ans.get("name_id"))
        if binding == "redirect":
            self.alice = b
        return b

    def assertion_checks(self, what, xml, sp, request_id):
        """What pysaml2 received, read from the raw Response."""
        t = self.t
        idp = sp.idp_entity_id
        doc = etree.fromstring(xml.encode())
        a = doc.find("saml:Assertion", NS)
        sigs = doc.xpath("//ds:Signature", namespaces=NS)
        t.ok(a is not None and len(sigs) == 1 and sigs[0].getparent() is a,
             "%s: one signature, on the assertion (Response unsigned)" % what,
             "%d signatures" % len(sigs))
        if a is None:
            return
        refs = a.xpath("ds:Signature/ds:SignedInfo/ds:Reference/@URI", namespaces=NS)
        t.eq(refs, ["#" + a.get("ID")], "%s: the signature references the assertion" % what)
        t.eq(a.xpath("ds:Signature/ds:SignedInfo/ds:SignatureMethod/@Algorithm",
                     namespaces=NS), [RSA_SHA256], "%s: SignatureMethod rsa-sha256" % what)
        t.eq(a.xpath("ds:Signature/ds:SignedInfo/ds:Reference/ds:DigestMethod/@Algorithm",
                     namespaces=NS), [SHA256], "%s: DigestMethod sha256" % what)
        algs = doc.xpath("//@Algorithm")
        t.ok(algs and not [x for x in algs if "sha1" in x.lower() or "md5" in x.lower()],
             "%s: no SHA-1 or MD5 algorithm anywhere" % what, algs)
        t.eq([doc.findtext("saml:Issuer", None, NS), a.findtext("saml:Issuer", None, NS)],
             [idp, idp], "%s: Response and Assertion issuer = Sekisho's entity ID" % what)
        issued = xml_time(a.get("IssueInstant"))
        scd = a.find("saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", NS)
        cond = a.find("saml:Conditions", NS)
        limits = [xml_time(x.get("NotOnOrAfter")) for x in (scd, cond) if x is not None]
        t.ok(len(limits) == 2 and all(
            issued < x <= issued + datetime.timedelta(minutes=5) for x in limits),
             "%s: NotOnOrAfter within 5 minutes after IssueInstant" % what,
             "%s %s" % (issued, limits))
        t.eq(scd.get("Recipient") if scd is not None else None, sp.acs_url,
             "%s: Recipient = the ACS URL" % what)
        t.eq(doc.get("Destination"), sp.acs_url, "%s: Destination = the ACS URL" % what)
        t.eq([doc.get("InResponseTo"), scd.get("InResponseTo") if scd is not None else None],
             [request_id, request_id], "%s: InResponseTo = the request ID" % what
             if request_id else "%s: no InResponseTo (unsolicited)" % what)
        t.eq(a.xpath("saml:Conditions/saml:AudienceRestriction/saml:Audience/text()",
                     namespaces=NS), [sp.entity_id],
             "%s: AudienceRestriction = the SP's entity ID" % what)

    def tampered_response(self):
        """pysaml2 checks Sekisho's signature: a changed attribute is refused."""
        t, sp = self.t, self.sp1
        b = self.browser()
        r = b.follow(b._req("GET", sp.login_url("redirect")), autopost=False)
        login = b.login_form(r)
        data = dict(login["fields"], username="bob", password=self.users["bob"])
        r = b.follow(b._req("POST", urllib.parse.urljoin(r.url, login["action"]), data=data),
                     autopost=False)
        forms = [f for f in sekisho_test.parse_forms(r.text) if f["id"] == "sekisho-post"]
        if not t.ok(forms and forms[0]["action"] == sp.acs_url,
                    "tamper: Sekisho's auto-POST form targets the ACS",
                    "%d %s" % (r.status_code, r.url)):
            return
        fields = forms[0]["fields"]
        xml = base64.b64decode(fields["SAMLResponse"]).decode()
        evil = xml.replace(">bob@example.com<", ">alice@example.com<")
        r = b.post(sp.acs_url, dict(fields, SAMLResponse=base64.b64encode(
            evil.encode()).decode()))
        ans = acs_answer(sp, r) or {}
        t.ok(evil != xml and r.status_code == 403 and ans.get("ok") is False and
             "ignature" in ans.get("error", ""),
             "tamper: pysaml2 refuses the response with a changed attribute (signature)",
             "%d %s" % (r.status_code, r.text[:300]))
        r = b.post(sp.acs_url, fields)
        ans = self.sso_ok(sp, r, "tamper: the untouched response")
        t.eq((ans.get("attributes") or {}).get("email"), ["bob@example.com"],
             "tamper: the genuine one carries bob's e-mail")

    # 2
    def sso_and_nameids(self):
        t, b = self.t, self.alice
        start = len(b.history)
        r = sp_get(b, self.sp2, "redirect")
        ans = self.sso_ok(self.sp2, r, "sp2 with alice's session (SSO)")
        t.ok(not login_forms_seen(b, start, self.server),
             "sp2: reached without the login form")
        nid2 = ans.get("name_id") or ""
        t.ok(PERSISTENT_RE.match(nid2) and nid2 != self.nameids.get("sp1"),
             "persistent NameIDs differ per SP (sp2 vs sp1)", nid2)
        # The same user in a new browser at sp1: the same persistent NameID.
        _, r = self.login_at(self.sp1, "alice")
        ans = self.sso_ok(self.sp1, r, "sp1 alice again in a new browser")
        t.eq(ans.get("name_id"), self.nameids.get("sp1"), "sp1: persistent NameID is stable")
        # Transient: new at every login, in the same session too.
        b, r = self.login_at(self.sptrans, "alice")
        first = self.sso_ok(self.sptrans, r, "sptrans login")
        r = sp_get(b, self.sptrans, "redirect")
        second = self.sso_ok(self.sptrans, r, "sptrans SSO")
        seen = [first.get("name_id"), second.get("name_id")]
        t.ok(all(seen) and seen[0] != seen[1] and self.nameids.get("sp1") not in seen and
             first.get("name_id_format") == TRANSIENT == second.get("name_id_format"),
             "sptrans: transient NameID changes at each SSO", seen)
        # E-mail NameID, and the attributes the SP asked for in its metadata.
        r = sp_get(b, self.spmail, "post")
        ans = self.sso_ok(self.spmail, r, "spmail SSO over HTTP-POST")
        t.eq([ans.get("name_id"), ans.get("name_id_format")], ["alice@example.com", EMAIL],
             "spmail: NameID is alice's e-mail address")
        attrs = ans.get("attributes") or {}
        t.eq(sorted(attrs), ["displayName", "mail"],
             "spmail: exactly the requested attributes (mail, displayName)")
        t.eq(attrs.get("mail"), ["alice@example.com"], "spmail: mail attribute")

    # 3
    def force_and_passive(self):
        t, b, sp = self.t, self.alice, self.sp1
        start = len(b.history)
        began = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        time.sleep(1.1)     # AuthnInstant has one-second resolution
        r = sp_get(b, sp, "redirect", force=True)
        t.ok(is_login_page(b, r, self.server),
             "ForceAuthn=true with a session: the login form again",
             "%d %s\n%s" % (r.status_code, r.url, r.text[:300]))
        if is_login_page(b, r, self.server):
            r = b.submit_login(r, "alice", self.users["alice"])
        self.sso_ok(sp, r, "ForceAuthn")
        rec = sp.last("response")
        doc = etree.fromstring(rec["xml"].encode()) if rec else None
        inst = (doc.xpath("//saml:AuthnStatement/@AuthnInstant", namespaces=NS)
                if doc is not None else [])
        t.ok(inst and xml_time(inst[0]) > began,
             "ForceAuthn: AuthnInstant is the new login", "%s began %s" % (inst, began))

        start = len(b.history)
        r = sp_get(b, sp, "redirect", passive=True)
        ans = self.sso_ok(sp, r, "IsPassive with a session")
        t.ok(not login_forms_seen(b, start, self.server), "IsPassive with a session: no form")

        b2 = self.browser()
        r = sp_get(b2, sp, "redirect", passive=True)
        ans = acs_answer(sp, r) or {}
        rec = sp.last("response")
        codes = (etree.fromstring(rec["xml"].encode()).xpath(
            "//samlp:Status//samlp:StatusCode/@Value", namespaces=NS) if rec else [])
        t.ok(r.status_code == 403 and ans.get("ok") is False and NO_PASSIVE in codes and
             not login_forms_seen(b2, 0, self.server),
             "IsPassive without a session: a NoPassive Response at the ACS, no login page",
             "%d %s %s %s" % (r.status_code, r.url, codes, r.text[:300]))
        req = sp.last("authn_request")
        t.ok(rec and req and 'InResponseTo="%s"' % req["id"] in rec["xml"],
             "IsPassive without a session: the NoPassive Response answers the request")

    # 4
    def idp_initiated(self):
        t, sp = self.t, self.sp1
        b = self.alice
        r = b.get("%s/saml/init/%s?%s" % (self.server.base(), sp.app,
                                          urllib.parse.urlencode({"RelayState": "from-portal"})))
        ans = self.sso_ok(sp, r, "IdP-initiated with a session")
        t.ok(ans.get("in_response_to") is None and ans.get("relay_state") == "from-portal",
             "IdP-initiated: unsolicited (no InResponseTo), RelayState given to the SP",
             ans)
        t.eq(ans.get("name_id"), self.nameids.get("sp1"), "IdP-initiated: same NameID")
        rec = sp.last("response")
        if rec:
            self.assertion_checks("IdP-initiated", rec["xml"], sp, None)

        b = self.browser()
        r = b.get("%s/saml/init/%s" % (self.server.base(), sp.app))
        t.ok(is_login_page(b, r, self.server), "IdP-initiated without a session: login first",
             "%d %s" % (r.status_code, r.url))
        r = b.submit_login(r, "bob", self.users["bob"])
        ans = self.sso_ok(sp, r, "IdP-initiated after login")
        t.eq((ans.get("attributes") or {}).get("email"), ["bob@example.com"],
             "IdP-initiated after login: bob's attributes")

        # sp2 does not accept unsolicited responses: pysaml2 really checks.
        r = b.get("%s/saml/init/%s" % (self.server.base(), self.sp2.app))
        ans = acs_answer(self.sp2, r) or {}
        t.ok(r.status_code == 403 and ans.get("ok") is False and
             "nsolicited" in ans.get("error", ""),
             "sp2 (allow_unsolicited off) refuses the IdP-initiated response",
             "%d %s" % (r.status_code, r.text[:300]))

    # 5
    def slo_from_sp(self, origin, other, user):
        """user logs in at origin and other, then logs out at origin."""
        t, what = self.t, "slo from %s" % origin.app
        b, r = self.login_at(origin, user)
        self.sso_ok(origin, r, "%s: login at %s" % (what, origin.app))
        r = sp_get(b, other, "redirect")
        other_ans = self.sso_ok(other, r, "%s: SSO at %s" % (what, other.app))
        other_nid = other_ans.get("name_id")
        asked_before = other.count("logout_request")
        start = len(b.history)
        r = b.get(origin.logout_url)
        if r.url == origin.logout_url and r.status_code == 200:
            r = submit_sp_form(b, r)    # the SP's LogoutRequest over HTTP-POST
        sent = origin.last("logout_request_sent")
        t.ok(sent_to(b, start, self.server.base() + "/saml/slo"),
             "%s: pysaml2 sent its LogoutRequest to Sekisho (%s)" % (
                 what, sent and sent["binding"].rsplit(":", 1)[-1]))
        asked = other.last("logout_request") if other.count("logout_request") > asked_before \
            else None
        t.ok(asked and asked.get("name_id") == other_nid and asked.get("verified") is True,
             "%s: %s gets a signed LogoutRequest for its NameID of %s" % (
                 what, other.app, user), asked and {k: asked.get(k) for k in (
                     "name_id", "verified", "error")})
        t.ok(asked and asked.get("ended_session"), "%s: %s ended its session" % (what,
                                                                                   other.app))
        t.eq(asked and asked.get("session_indexes"), [other_ans.get("session_index")],
             "%s: the LogoutRequest names %s's SessionIndex" % (what, other.app))
        resp = origin.last("logout_response")
        t.ok(r.url.startswith(origin.slo_url) and resp and resp.get("status") ==
             STATUS_SUCCESS and resp.get("verified") is not False and "error" not in resp,
             "%s: %s gets a Success LogoutResponse that pysaml2 accepts (%s)" % (
                 what, origin.app, resp and resp["binding"].rsplit(":", 1)[-1]),
             "%d %s\n%s\n%s" % (r.status_code, r.url, r.text[:300], resp and {
                 k: resp.get(k) for k in ("status", "verified", "error")}))
        t.eq(resp and resp.get("in_response_to"), sent and sent["id"],
             "%s: the LogoutResponse answers pysaml2's LogoutRequest" % what)
        t.ok(sent and sent["relay_state"] and resp and
             resp.get("relay_state") == sent["relay_state"],
             "%s: the LogoutResponse carries pysaml2's RelayState back" % what,
             "sent %r, got %r" % (sent and sent["relay_state"], resp and resp.get(
                 "relay_state")))
        r = b.get(self.server.base() + "/portal")
        t.ok(is_login_page(b, r, self.server), "%s: the Sekisho session has ended" % what,
             "%d %s" % (r.status_code, r.url))
        for sp in (origin, other):
            r = b.get(sp.url + "/whoami")
            t.eq(r.status_code, 401, "%s: no session left at %s" % (what, sp.app))
        self.audit_has("saml.slo", "user=" + user, "sp=" + origin.entity_id)
        self.audit_has("logout", "user=" + user, "partial=no")

    # 6
    def slo_stock_answer(self):
        """spstock answers as pysaml2's handle_logout_request does by default: its
        HTTP-Redirect LogoutResponse also carries an XML signature (SAML Bindings 3.4.4.1
        says to remove it).  Whatever Sekisho thinks of that answer, the SP that started
        the logout must still get its LogoutResponse, and the session must end."""
        t, sp1, stock = self.t, self.sp1, self.spstock
        b, r = self.login_at(sp1, "erin")
        self.sso_ok(sp1, r, "stock answer: login at sp1")
        r = sp_get(b, stock, "redirect")
        self.sso_ok(stock, r, "stock answer: SSO at spstock")
        before = sp1.count("logout_response")
        r = b.get(sp1.logout_url)
        asked = stock.last("logout_request")
        t.ok(asked and asked.get("answered"), "stock answer: spstock was asked and answered")
        rejects = [f for e, f in self.server.audit() if e == "saml.slo.reject" and
                   "sp=" + stock.entity_id in f]
        t.ok(sp1.count("logout_response") > before and r.url.startswith(sp1.slo_url),
             "stock answer: sp1 still gets a LogoutResponse (logout propagation "
             "survives a LogoutResponse Sekisho refuses)",
             "ends on %d %s\naudit: %s" % (r.status_code, r.url[:100], rejects[-1:]))
        r = b.get(self.server.base() + "/portal")
        t.ok(is_login_page(b, r, self.server), "stock answer: the Sekisho session has ended")

    def slo_from_idp(self):
        """The logout button at Sekisho: every pysaml2 SP of the session is asked."""
        t, sp1, sp2 = self.t, self.sp1, self.sp2
        b, r = self.login_at(sp1, "heidi")
        nid1 = self.sso_ok(sp1, r, "idp logout: login at sp1").get("name_id")
        r = sp_get(b, sp2, "post")
        nid2 = self.sso_ok(sp2, r, "idp logout: SSO at sp2").get("name_id")
        r = b.get(self.server.base() + "/logout")
        forms = [f for f in sekisho_test.parse_forms(r.text)
                 if f["method"] == "post" and "csrf" in f["fields"]]
        if not t.ok(forms, "idp logout: /logout shows a confirmation form"):
            return
        counts = [sp.count("logout_request") for sp in (sp1, sp2)]
        r = b.post(urllib.parse.urljoin(r.url, forms[0]["action"]), forms[0]["fields"])
        t.ok(r.status_code == 200 and r.url.startswith(self.server.base()) and
             "Signed out" in r.text and "did not confirm" not in r.text,
             "idp logout: ends on Sekisho's signed-out page, every SP confirmed",
             "%d %s\n%s" % (r.status_code, r.url, r.text[:300]))
        for sp, nid, before in ((sp1, nid1, counts[0]), (sp2, nid2, counts[1])):
            asked = sp.last("logout_request") if sp.count("logout_request") > before else None
            t.ok(asked and asked.get("name_id") == nid and asked.get("verified") and
                 asked.get("ended_session"),
                 "idp logout: %s got a signed LogoutRequest for heidi's NameID" % sp.app,
                 asked and {k: asked.get(k) for k in ("name_id", "verified", "error")})
        r = b.get(self.server.base() + "/portal")
        t.ok(is_login_page(b, r, self.server), "idp logout: the Sekisho session has ended")
        self.audit_has("logout", "user=heidi", "partial=no")

    # 7
    def disabled_user(self):
        t, sp = self.t, self.sp1
        b, r = self.login_at(sp, "frank")
        self.sso_ok(sp, r, "disabled: frank logs in")
        self.server.cli("user", "disable", "frank")
        start = len(b.history)
        r = sp_get(b, sp, "redirect")
        t.ok(is_login_page(b, r, self.server) and not sent_to(b, start, sp.acs_url),
             "disabled: frank's session no longer answers the SP (login form)",
             "%d %s" % (r.status_code, r.url))
        r2 = b.get(self.server.base() + "/portal")
        t.ok(is_login_page(b, r2, self.server), "disabled: the portal asks for a login")
        r = b.submit_login(r, "frank", self.users["frank"])
        t.ok(r.status_code == 401 and is_login_page(b, r, self.server) and
             not sent_to(b, start, sp.acs_url) and not b.s.cookies.get("sekisho_sid"),
             "disabled: the right password is refused, no session",
             "%d %s" % (r.status_code, r.url))
        self.audit_has("login.fail", "user=frank", "reason=disabled")
        self.server.cli("user", "enable", "frank")
        b, r = self.login_at(sp, "frank")
        self.sso_ok(sp, r, "disabled then enabled: frank logs in again")

    # 8
    def restart_keeps_session(self):
        t, sp = self.t, self.sp1
        b, r = self.login_at(sp, "grace")
        self.sso_ok(sp, r, "restart: grace logs in")
        self.server.restart()
        start = len(b.history)
        r = sp_get(b, sp, "redirect")
        self.sso_ok(sp, r, "restart: SSO after sekishod restarted")
        t.ok(not login_forms_seen(b, start, self.server),
             "restart: the session survived (no login form)")

    def no_secrets_in_log(self):
        secret = set(self.users.values())
        for b in self.browsers:
            secret |= {c.value for c in b.s.cookies if c.name.startswith("sekisho_")
                       and c.name != "sekisho_lang" and c.value}
        leaks = sekisho_test.grep_secret_leaks(self.server.log(), sorted(secret))
        self.t.ok(not leaks, "no password or Sekisho cookie value (%d) in the server log" %
                  len(secret), leaks[:3])

    def audit_has(self, event, *fields):
        return self.server.audit_has(self.t, event, *fields)


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t = Tap()
    began = time.time()
    server = None
    sps = []
    try:
        server = Server()
        users = {}
        for name in ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"):
            users[name] = secrets.token_urlsafe(12)
            server.add_user(name, users[name], email=name + "@example.com",
                            display=name.capitalize() + " Example")
        for g in ("staff", "admins"):
            server.cli("group", "add", g)
            server.cli("group", "add-member", g, "alice")
        sps.append(PySaml2SP(server, "sp1"))
        sps.append(PySaml2SP(server, "sp2", allow_unsolicited=False, slo_binding="post"))
        sps.append(PySaml2SP(server, "sptrans", nameid="transient"))
        sps.append(PySaml2SP(server, "spmail", nameid="email",
                             attributes=["mail", "displayName"]))
        sps.append(PySaml2SP(server, "spstock", stock_logout_answer=True))
        s = Scenario(t, server, sps, users)
        t.run("SP-initiated SSO, HTTP-Redirect", s.sp_initiated, "redirect")
        t.run("SP-initiated SSO, HTTP-POST", s.sp_initiated, "post")
        t.run("tampered response", s.tampered_response)
        t.run("SSO and NameID formats", s.sso_and_nameids)
        t.run("ForceAuthn and IsPassive", s.force_and_passive)
        t.run("IdP-initiated SSO", s.idp_initiated)
        t.run("SLO from sp1 (HTTP-Redirect)", s.slo_from_sp, s.sp1, s.sp2, "carol")
        t.run("SLO from sp2 (HTTP-POST)", s.slo_from_sp, s.sp2, s.sp1, "dave")
        t.run("SLO with pysaml2's stock answer", s.slo_stock_answer)
        t.run("logout at Sekisho", s.slo_from_idp)
        t.run("disabled user", s.disabled_user)
        t.run("restart keeps the session", s.restart_keeps_session)
        t.run("secrets in the log", s.no_secrets_in_log)
    except Exception as e:
        t.ok(False, "set-up", "%s\n%s" % (e, server.log()[-3000:] if server else ""))
    finally:
        for sp in sps:
            sp.close()
        if server:
            server.close()
    print("# pysaml2 scenario took %.1f s" % (time.time() - began))
    t.done()


if __name__ == "__main__":
    main()
