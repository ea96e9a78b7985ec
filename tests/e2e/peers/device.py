"""curl as the device of a device-restricted login, for the end-to-end scenarios.

A DeviceBrowser is the scripted browser of sekisho_test whose requests to the
device-check listener are made by curl with the device's certificate and key (the PKCS#12
file from `sekisho cert issue`, converted with `openssl pkcs12`), or with none.  Whether it
sends its cookies there is a choice: the browser that began a login sends them, another
browser opening a forwarded link has none of them.  It clicks Sekisho's "continue" on the
page that finishes a device check unless told not to.
"""
import base64
import os
import re
import subprocess
import tempfile
import urllib.parse

import requests

import sekisho_test
from sekisho_test import Browser, parse_forms

P12_PASSWORD = "device-p12-password"
CONTINUE_FORM = "sekisho-device-continue"


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)


def issue(srv, tmp, name, user, label, extra=(), env=None):
    """Issue a PKCS#12 for user and convert it with openssl into cert and key files:
    ((cert, key), serial)."""
    p12 = os.path.join(tmp, name + ".p12")
    cmd = [sekisho_test.SEKISHO, "--dir", srv.dir, "cert", "issue", user,
           "--label", label, "--out", p12, "--password-stdin"] + list(extra)
    r = subprocess.run(list(env or []) + cmd, input=P12_PASSWORD + "\n",
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("cert issue failed: %s%s" % (r.stdout, r.stderr))
    serial = re.search(r"^serial=([0-9A-F]+)$", r.stdout, re.M).group(1)
    cert = os.path.join(tmp, name + ".crt")
    key = os.path.join(tmp, name + ".key")
    for args, out in ((["-clcerts", "-nokeys"], cert), (["-nocerts", "-nodes"], key)):
        c = run(["openssl", "pkcs12", "-in", p12, "-passin", "pass:" + P12_PASSWORD,
                 "-out", out] + args)
        if c.returncode != 0:
            raise RuntimeError("openssl pkcs12: %s" % c.stderr)
    return (cert, key), serial


class Curled:
    """What curl got, shaped like the parts of a requests.Response the browser reads."""

    def __init__(self, url, status, headers, text):
        self.url = url
        self.status_code = status
        self.headers = headers
        self.text = text


def continue_form(r):
    """Sekisho's "continue" form that finishes a device check on page r, or None."""
    if getattr(r, "status_code", 0) != 200 or CONTINUE_FORM not in r.text:
        return None
    forms = [f for f in parse_forms(r.text) if f["id"] == CONTINUE_FORM]
    return forms[0] if forms else None


class DeviceBrowser(Browser):
    """A browser whose requests to the device-check listener are made by curl, with the
    device's certificate and key (cert=None: no certificate), from source address src,
    with the browser's cookies for that URL (cookies=False: none), and which clicks
    "continue" after a device check (auto_continue=False: stops on that page)."""

    def __init__(self, server, device_url, cert=None, src=None, headers=None, cookies=True,
                 auto_continue=True, ca=None, **kw):
        super().__init__(verify=server.ca, **kw)
        self.device_url = device_url
        self.cert = cert
        self.src = src
        self.extra_headers = headers or {}
        self.ca = ca or server.ca
        self.cookies = cookies
        self.auto_continue = auto_continue
        self.curl_calls = 0

    def cookie_header(self, url):
        """The Cookie header this browser sends to url ("" when none)."""
        prep = requests.Request("GET", url).prepare()
        return requests.cookies.get_cookie_header(self.s.cookies, prep) or ""

    def _req(self, method, url, **kw):
        if not url.startswith(self.device_url):
            return super()._req(method, url, **kw)
        self.curl_calls += 1
        with tempfile.TemporaryDirectory() as tmp:
            hdr = os.path.join(tmp, "h")
            body = os.path.join(tmp, "b")
            cmd = ["curl", "-sS", "--cacert", self.ca, "-D", hdr, "-o", body,
                   "-w", "%{http_code}", "-H", "Accept-Language: " +
                   self.s.headers.get("Accept-Language", "en")]
            if self.cert:
                cmd += ["--cert", self.cert[0], "--key", self.cert[1]]
            if self.src:
                cmd += ["--interface", self.src]
            cookie = self.cookie_header(url) if self.cookies else ""
            if cookie:
                cmd += ["-H", "Cookie: " + cookie]
            for k, v in self.extra_headers.items():
                cmd += ["-H", "%s: %s" % (k, v)]
            r = run(cmd + [url])
            if r.returncode != 0:
                raise RuntimeError("curl failed: %s" % r.stderr)
            headers = requests.structures.CaseInsensitiveDict()
            with open(hdr) as f:
                for line in f.read().splitlines()[1:]:
                    k, sep, v = line.partition(":")
                    if sep:
                        headers[k.strip()] = v.strip()
            with open(body, errors="replace") as f:
                text = f.read()
        resp = Curled(url, int(r.stdout), headers, text)
        self.history.append(resp)
        return resp

    def follow(self, r, max_hops=20, autopost=True):
        for _ in range(max_hops):
            r = super().follow(r, max_hops, autopost)
            form = continue_form(r) if self.auto_continue else None
            if form is None:
                return r
            r = self._req("POST", urllib.parse.urljoin(r.url, form["action"]),
                          data=form["fields"])
        raise RuntimeError("too many continue pages")


def saml_response(b, acs_prefix):
    """The last SAMLResponse the browser posted to an ACS starting with acs_prefix."""
    for h in reversed(b.history):
        req = getattr(h, "request", None)
        if req is not None and req.method == "POST" and h.url.startswith(acs_prefix) and \
                req.body:
            body = req.body if isinstance(req.body, str) else req.body.decode()
            q = urllib.parse.parse_qs(body)
            if "SAMLResponse" in q:
                return base64.b64decode(q["SAMLResponse"][0]).decode()
    return ""
