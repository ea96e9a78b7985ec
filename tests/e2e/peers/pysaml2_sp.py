"""python3-pysaml2 as a SAML service provider, for the end-to-end scenarios.

PySaml2SP(server, app) runs a small web application on 127.0.0.1 (http.server in a
background thread of the test process) built on pysaml2's Saml2Client, as a Django or Flask
SP built on pysaml2 would be.  Its key and certificate are made with openssl at start, its
metadata is written by pysaml2 (signing key, ACS HTTP-POST, SLO HTTP-Redirect and
HTTP-POST, AuthnRequestsSigned="true"), Sekisho's IdP metadata is downloaded from the
running server, and the SP registers itself with `sekisho app add-saml`.

Endpoints (all answers about SAML are JSON, so a scenario can read them):
  GET  /login?binding=redirect|post[&relay=R][&force=1][&passive=1]
       SP-initiated SSO: a signed AuthnRequest (rsa-sha256, sha256 digests).  redirect:
       303 to Sekisho; post: an HTML page with a form that posts to Sekisho (the scenario
       submits it, as a browser running its script would).
  POST /acs       parse_authn_request_response against the outstanding requests; pysaml2
                  checks the IdP's signature, audience, recipient, times and InResponseTo.
                  200 {"ok": true, "name_id", "name_id_format", "attributes", "relay_state",
                  "in_response_to", "session_index"} and an SP session cookie, or 403
                  {"ok": false, "error", "status"}.
  GET|POST /slo   a LogoutRequest from Sekisho (answered with a LogoutResponse; the SP
                  session ends) or the LogoutResponse to our own LogoutRequest.
  GET  /logout    SP-initiated Single Logout with Saml2Client.global_logout.
  GET  /whoami    {"name_id": ...} of the SP session, or 401.
  GET  /metadata  the SP metadata.

Every SAML message received is appended to `records` (a list of dicts with "kind" and the
decoded XML in "xml"), for the scenario to check what pysaml2 was given.

Redirect-binding messages carry their signature in the query string, and pysaml2 7 does
not check it by itself: this SP checks it with pysaml2's verify_redirect_signature and
Sekisho's certificate from the IdP metadata, and refuses the message when it fails.
Nothing in pysaml2 is changed or switched off.

Environment: SEKISHO_KEEP=1 keeps the directory; SEKISHO_PYSAML2_DEBUG=1 logs pysaml2.
"""
import atexit
import base64
import http.server
import json
import logging
import os
import secrets
import shutil
import socketserver
import subprocess
import tempfile
import threading
import traceback
import urllib.parse
import zlib

import requests
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.response import StatusError
from saml2.s_utils import status_message_factory, success_status_factory
from saml2.samlp import STATUS_SUCCESS, STATUS_UNKNOWN_PRINCIPAL
from saml2.sigver import verify_redirect_signature

import sekisho_test

RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
XMLSEC1 = shutil.which("xmlsec1")

BINDINGS = {"redirect": BINDING_HTTP_REDIRECT, "post": BINDING_HTTP_POST}

if os.environ.get("SEKISHO_PYSAML2_DEBUG") == "1":
    logging.basicConfig(level=logging.DEBUG)
else:
    # Refusals are expected in the scenarios and land in `records`; keep TAP output clean.
    logging.getLogger("saml2").addHandler(logging.NullHandler())
    logging.getLogger("saml2").propagate = False

_live = []


@atexit.register
def _close_all():
    for sp in list(_live):
        sp.close()


def make_keypair(directory, name):
    """An RSA-2048 key and a self-signed certificate (PEM files) made with openssl."""
    key = os.path.join(directory, name + ".key")
    crt = os.path.join(directory, name + ".crt")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", key, "-out", crt, "-days", "2", "-subj",
                        "/CN=" + name], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("openssl req failed: %s" % r.stderr)
    return key, crt


def decode_message(value, binding):
    """The XML text of a SAML message as it came in over binding."""
    raw = base64.b64decode(value)
    if binding == BINDING_HTTP_REDIRECT:
        raw = zlib.decompress(raw, -15)
    return raw.decode("utf-8")


class PySaml2SP:
    """One pysaml2 SP, registered in Sekisho as app `app`.

    nameid: persistent (Sekisho's default), transient or email, given to `app add-saml`;
    attributes: friendly names (pysaml2's, e.g. "mail", "displayName") to list as
    RequestedAttribute in the metadata, None for none (Sekisho then sends its defaults
    email, displayName and groups); slo_binding: "redirect" or "post", the binding the SP
    prefers for its own LogoutRequest; allow_unsolicited: accept IdP-initiated responses;
    sign_response: ask Sekisho to sign the whole Response too; stock_logout_answer: answer
    Sekisho's LogoutRequest with pysaml2's handle_logout_request as it is (over
    HTTP-Redirect it leaves an XML signature in the message as well as signing the query
    string) instead of the answer SAML Bindings 3.4.4.1 describes; register: run `sekisho
    app add-saml`; tenant: the Sekisho tenant to trust.
    """

    def __init__(self, server, app, nameid=None, attributes=None, slo_binding="redirect",
                 allow_unsolicited=True, sign_response=False, stock_logout_answer=False,
                 register=True, tenant="default"):
        if XMLSEC1 is None:
            raise RuntimeError("xmlsec1 missing: apt-get install xmlsec1 python3-pysaml2")
        self.server = server
        self.app = app
        self.tenant = tenant
        self.stock_logout_answer = stock_logout_answer
        self.records = []
        self.outstanding = {}       # AuthnRequest ID -> RelayState sent with it
        self.sessions = {}          # SP session cookie value -> {"name_id": NameID}
        self.lock = threading.Lock()
        self.httpd = None
        self.dir = tempfile.mkdtemp(prefix="sekisho-pysaml2-%s-" % app)
        _live.append(self)
        try:
            self._setup(nameid, attributes, slo_binding, allow_unsolicited, sign_response,
                        register)
        except BaseException:
            self.close()
            raise

    # URLs and names a scenario uses.
    @property
    def idp_entity_id(self):
        return self.server.base(self.tenant) + "/saml/metadata"

    def login_url(self, binding="redirect", relay=None, force=False, passive=False):
        q = {"binding": binding}
        if relay is not None:
            q["relay"] = relay
        if force:
            q["force"] = "1"
        if passive:
            q["passive"] = "1"
        return "%s/login?%s" % (self.url, urllib.parse.urlencode(q))

    def last(self, kind):
        """The last record of this kind, or None."""
        with self.lock:
            for rec in reversed(self.records):
                if rec["kind"] == kind:
                    return rec
        return None

    def count(self, kind):
        with self.lock:
            return sum(1 for rec in self.records if rec["kind"] == kind)

    def _setup(self, nameid, attributes, slo_binding, allow_unsolicited, sign_response,
               register):
        self.port = sekisho_test.free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.entity_id = self.url + "/metadata"
        self.acs_url = self.url + "/acs"
        self.slo_url = self.url + "/slo"
        self.logout_url = self.url + "/logout"
        self.cookie = "pysaml2sp%d" % self.port     # SPs on 127.0.0.1 share cookies
        self.key, self.cert = make_keypair(self.dir, "sp")
        r = requests.get(self.idp_entity_id, verify=self.server.ca, timeout=30)
        r.raise_for_status()
        idp_md = os.path.join(self.dir, "idp-metadata.xml")
        with open(idp_md, "wb") as f:
            f.write(r.content)
        sp = {
            "endpoints": {
                "assertion_consumer_service": [(self.acs_url, BINDING_HTTP_POST)],
                "single_logout_service": [(self.slo_url, BINDING_HTTP_REDIRECT),
                                          (self.slo_url, BINDING_HTTP_POST)],
            },
            "authn_requests_signed": True,
            "logout_requests_signed": True,
            "logout_responses_signed": True,
            "want_assertions_signed": True,
            "want_response_signed": bool(sign_response),
            "allow_unsolicited": bool(allow_unsolicited),
        }
        if attributes:
            sp["optional_attributes"] = list(attributes)
        conf = {
            "entityid": self.entity_id,
            "name": "pysaml2 test SP " + self.app,
            "key_file": self.key,
            "cert_file": self.cert,
            "xmlsec_binary": XMLSEC1,
            "metadata": {"local": [idp_md]},
            "service": {"sp": sp},
            "allow_unknown_attributes": True,
            "signing_algorithm": RSA_SHA256,
            "digest_algorithm": SHA256,
            "preferred_binding": {"single_logout_service": [BINDINGS[slo_binding]]},
            "secret": secrets.token_hex(16),
        }
        cfg = SPConfig()
        cfg.load(conf)
        self.client = Saml2Client(cfg)
        self.metadata = os.path.join(self.dir, "sp-metadata.xml")
        with open(self.metadata, "wb") as f:
            f.write(create_metadata_string(None, config=cfg, sign=False))
        self.idp_certs = self.client.metadata.certs(self.idp_entity_id, "idpsso", "signing")
        if not self.idp_certs:
            raise RuntimeError("no signing certificate in Sekisho's metadata")
        self._serve()
        if register:
            self.register(nameid, sign_response)

    def register(self, nameid=None, sign_response=False):
        args = ["app", "add-saml", self.app, "--metadata", self.metadata]
        if nameid:
            args += ["--nameid", nameid]
        if sign_response:
            args.append("--sign-response")
        return self.server.cli(*args, tenant=self.tenant)

    def _serve(self):
        sp = self

        class Handler(_Handler):
            owner = sp

        self.httpd = _Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, name="pysaml2-sp-" + self.app,
                         daemon=True).start()

    def close(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        if self in _live:
            _live.remove(self)
        if os.environ.get("SEKISHO_KEEP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)

    # ---- the SP's work, called by the handler with self.lock held ----

    def _record(self, kind, **fields):
        fields["kind"] = kind
        self.records.append(fields)
        return fields

    def start_login(self, q):
        binding = BINDINGS.get(q.get("binding", "redirect"))
        if binding is None:
            return 400, {"error": "binding must be redirect or post"}, None
        relay = q.get("relay", "")
        kwargs = {}
        if q.get("force") == "1":
            kwargs["force_authn"] = "true"
        if q.get("passive") == "1":
            kwargs["is_passive"] = "true"
        reqid, info = self.client.prepare_for_authenticate(
            entityid=self.idp_entity_id, relay_state=relay, binding=binding,
            sigalg=RSA_SHA256, digest_alg=SHA256, **kwargs)
        self.outstanding[reqid] = relay
        self._record("authn_request", id=reqid, binding=binding, relay_state=relay,
                     **kwargs)
        return 0, info, None

    def acs(self, form):
        value = form.get("SAMLResponse")
        relay = form.get("RelayState")
        if value is None:
            return 400, {"ok": False, "error": "no SAMLResponse"}, None
        xml = decode_message(value, BINDING_HTTP_POST)
        rec = self._record("response", xml=xml, relay_state=relay, ok=False)
        try:
            resp = self.client.parse_authn_request_response(
                value, BINDING_HTTP_POST, outstanding=dict(self.outstanding))
        except StatusError as e:
            rec.update(error="%s: %s" % (type(e).__name__, e), status=str(e))
            return 403, {"ok": False, "error": rec["error"], "status": str(e),
                         "relay_state": relay}, None
        except Exception as e:
            rec.update(error="%s: %s" % (type(e).__name__, e))
            return 403, {"ok": False, "error": rec["error"], "relay_state": relay}, None
        if resp is None:
            rec.update(error="pysaml2 returned no response")
            return 403, {"ok": False, "error": rec["error"]}, None
        self.outstanding.pop(resp.in_response_to, None)
        nid = resp.name_id
        info = resp.session_info()
        result = {
            "ok": True,
            "name_id": nid.text,
            "name_id_format": nid.format,
            "attributes": resp.get_identity(),
            "relay_state": relay,
            "in_response_to": resp.in_response_to,
            "session_index": info.get("session_index"),
            "issuer": resp.issuer(),
        }
        rec.update(result)
        cookie = secrets.token_urlsafe(24)
        self.sessions[cookie] = {"name_id": nid}
        return 200, result, cookie

    def _session(self, cookies):
        c = cookies.get(self.cookie)
        return c, self.sessions.get(c) if c else None

    def start_logout(self, cookies):
        c, sess = self._session(cookies)
        if sess is None:
            return 401, {"error": "no SP session"}, None
        known = set(self.client.state)
        responses = self.client.global_logout(sess["name_id"], sign=True,
                                              sign_alg=RSA_SHA256, digest_alg=SHA256)
        if not responses:
            return 500, {"error": "global_logout found no IdP to ask"}, None
        binding, info = responses[self.idp_entity_id]
        ids = [k for k in self.client.state if k not in known]
        if binding == BINDING_HTTP_REDIRECT:
            location = dict(info["headers"])["Location"]
            relay = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query).get(
                "RelayState", [None])[0]
        else:
            relay = sekisho_test.parse_forms(info["data"])[0]["fields"].get("RelayState")
        self._record("logout_request_sent", binding=binding, id=ids[0] if ids else None,
                     relay_state=relay)
        return 0, info, None

    def _verify_redirect(self, query):
        """pysaml2's check of a Redirect-binding signature against Sekisho's certificate."""
        msg = {k: v[0] for k, v in query.items()}
        if "Signature" not in msg or "SigAlg" not in msg:
            return False, "not signed"
        for cert in self.idp_certs:
            try:
                if verify_redirect_signature(msg, self.client.sec.sec_backend, cert=cert):
                    return True, None
            except Exception as e:
                return False, "%s: %s" % (type(e).__name__, e)
        return False, "signature does not verify"

    def slo(self, method, query, form, cookies):
        src = form if method == "POST" else {k: v[0] for k, v in query.items()}
        binding = BINDING_HTTP_POST if method == "POST" else BINDING_HTTP_REDIRECT
        relay = src.get("RelayState", "")
        if "SAMLRequest" in src:
            return self._logout_request(src["SAMLRequest"], binding, relay, query, cookies)
        if "SAMLResponse" in src:
            return self._logout_response(src["SAMLResponse"], binding, relay, query, cookies)
        return 400, {"error": "no SAML message"}, None

    def _logout_request(self, value, binding, relay, query, cookies):
        xml = decode_message(value, binding)
        rec = self._record("logout_request", xml=xml, binding=binding, relay_state=relay,
                           verified=None, answered=False)
        if binding == BINDING_HTTP_REDIRECT:
            ok, why = self._verify_redirect(query)
            rec["verified"] = ok
            if not ok:
                rec["error"] = "redirect signature: %s" % why
                return 403, {"error": rec["error"]}, None
        try:
            req = self.client.parse_logout_request(value, binding)
        except Exception as e:
            rec["error"] = "%s: %s" % (type(e).__name__, e)
            return 403, {"error": rec["error"]}, None
        if binding == BINDING_HTTP_POST:
            # pysaml2 has checked an enveloped signature if there is one; insist on one.
            rec["verified"] = req.message.signature is not None
            if not rec["verified"]:
                rec["error"] = "unsigned LogoutRequest"
                return 403, {"error": rec["error"]}, None
        rec["name_id"] = req.message.name_id.text
        rec["session_indexes"] = [s.text for s in req.message.session_index]
        c, sess = self._session(cookies)
        name_id = sess["name_id"] if sess else None
        rec["had_session"] = sess is not None
        if self.stock_logout_answer:
            # Exactly what a pysaml2 application calls (djangosaml2 does): over
            # HTTP-Redirect it signs the XML *and* the query string.
            info = self.client.handle_logout_request(value, name_id, binding, sign=True,
                                                     sign_alg=RSA_SHA256,
                                                     digest_alg=SHA256, relay_state=relay)
            matched = name_id is not None and name_id == req.message.name_id
        else:
            info, matched = self._answer_logout(req.message, name_id, binding, relay)
        rec["status"] = STATUS_SUCCESS if matched else STATUS_UNKNOWN_PRINCIPAL
        if matched:
            del self.sessions[c]
            rec["ended_session"] = True
        rec["answered"] = True
        return 0, info, None

    def _answer_logout(self, message, name_id, binding, relay):
        """handle_logout_request's answer, signed as SAML Bindings 3.4.4.1 wants: over
        HTTP-Redirect only the query string is signed, over HTTP-POST only the XML."""
        matched = name_id is not None and name_id == message.name_id
        if matched:
            self.client.local_logout(name_id)
            status = success_status_factory()
        else:
            status = status_message_factory("Wrong user", STATUS_UNKNOWN_PRINCIPAL)
        response = self.client.create_logout_response(
            message, bindings=[binding], status=status, sign=binding == BINDING_HTTP_POST,
            sign_alg=RSA_SHA256, digest_alg=SHA256)
        rinfo = self.client.response_args(message, [binding])
        info = self.client.apply_binding(rinfo["binding"], str(response),
                                         rinfo["destination"], relay, response=True,
                                         sign=True, sigalg=RSA_SHA256)
        return info, matched

    def _logout_response(self, value, binding, relay, query, cookies):
        xml = decode_message(value, binding)
        rec = self._record("logout_response", xml=xml, binding=binding, relay_state=relay,
                           verified=None)
        if binding == BINDING_HTTP_REDIRECT:
            ok, why = self._verify_redirect(query)
            rec["verified"] = ok
            if not ok:
                rec["error"] = "redirect signature: %s" % why
                return 403, {"error": rec["error"]}, None
        try:
            resp = self.client.parse_logout_request_response(value, binding)
        except Exception as e:
            rec["error"] = "%s: %s" % (type(e).__name__, e)
            return 403, {"error": rec["error"]}, None
        if resp is None:
            rec["error"] = "pysaml2 returned no response"
            return 403, {"error": rec["error"]}, None
        if binding == BINDING_HTTP_POST:
            rec["verified"] = resp.response.signature is not None
            if not rec["verified"]:
                rec["error"] = "unsigned LogoutResponse"
                return 403, {"error": rec["error"]}, None
        status = resp.response.status.status_code.value
        rec["status"] = status
        rec["in_response_to"] = resp.in_response_to
        try:
            self.client.handle_logout_response(resp, sign_alg=RSA_SHA256, digest_alg=SHA256)
        except Exception as e:
            rec["error"] = "%s: %s" % (type(e).__name__, e)
        c, sess = self._session(cookies)
        if sess is not None:
            del self.sessions[c]
        return 200, {"logged_out": True, "status": status, "relay_state": relay}, None


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


class _Handler(http.server.BaseHTTPRequestHandler):
    owner = None    # the PySaml2SP, set by a subclass

    def log_message(self, *args):
        pass

    def _cookies(self):
        out = {}
        for part in (self.headers.get("Cookie") or "").split(";"):
            name, sep, value = part.strip().partition("=")
            if sep:
                out[name] = value
        return out

    def _form(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("ascii", "replace")
        return {k: v[0] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True)
                .items()}

    def _send(self, status, body, ctype, headers=(), cookie=None):
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers:
            self.send_header(name, value)
        if cookie is not None:
            self.send_header("Set-Cookie", "%s=%s; Path=/; HttpOnly; SameSite=Lax" % (
                self.owner.cookie, cookie))
        self.end_headers()
        self.wfile.write(data)

    def _answer(self, status, info, cookie):
        """status 0: info is pysaml2's http_info (a redirect or a form page)."""
        if status:
            self._send(status, json.dumps(info), "application/json", cookie=cookie)
            return
        headers = [h for h in info.get("headers", []) if h[0].lower() != "content-type"]
        location = [v for k, v in headers if k.lower() == "location"]
        if location:
            self._send(303, "", "text/plain", headers=headers, cookie=cookie)
        else:
            self._send(200, info["data"], "text/html; charset=utf-8", headers=headers,
                       cookie=cookie)

    def _dispatch(self, method):
        sp = self.owner
        parts = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        q = {k: v[0] for k, v in query.items()}
        form = self._form() if method == "POST" else {}
        try:
            with sp.lock:
                if parts.path == "/metadata" and method == "GET":
                    with open(sp.metadata, "rb") as f:
                        self._send(200, f.read(), "application/samlmetadata+xml")
                    return
                if parts.path == "/login" and method == "GET":
                    self._answer(*sp.start_login(q))
                elif parts.path == "/acs" and method == "POST":
                    self._answer(*sp.acs(form))
                elif parts.path == "/slo":
                    self._answer(*sp.slo(method, query, form, self._cookies()))
                elif parts.path == "/logout" and method == "GET":
                    self._answer(*sp.start_logout(self._cookies()))
                elif parts.path == "/whoami" and method == "GET":
                    _, sess = sp._session(self._cookies())
                    if sess is None:
                        self._send(401, json.dumps({"name_id": None}), "application/json")
                    else:
                        self._send(200, json.dumps({"name_id": sess["name_id"].text}),
                                   "application/json")
                else:
                    self._send(404, json.dumps({"error": "not found"}), "application/json")
        except Exception:
            sp.records.append({"kind": "exception", "error": traceback.format_exc()})
            self._send(500, json.dumps({"error": traceback.format_exc()}),
                       "application/json")

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")
