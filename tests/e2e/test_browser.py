"""Pages in a real browser: headless Chromium driven by Playwright (browser/login_sso.mjs)
against sekishod, with a tiny HTTP service provider endpoint that records what the
browser posts to it.  The recorded SAMLResponse is checked here."""
import base64
import http.server
import json
import os
import subprocess
import tempfile
import threading
import urllib.parse

import sekisho_test as st

HERE = os.path.dirname(os.path.abspath(__file__))
t = st.Tap()
received = []


class Acs(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        received.append(urllib.parse.parse_qs(self.rfile.read(n).decode()))
        body = b"<html><body>received SAMLResponse</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def spki_hash(cert):
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"],
                         capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         capture_output=True, check=True).stdout
    dgst = subprocess.run(["openssl", "dgst", "-sha256", "-binary"], input=der,
                          capture_output=True, check=True).stdout
    return base64.b64encode(dgst).decode()


srv = st.Server()
acs_srv = http.server.HTTPServer(("127.0.0.1", 0), Acs)
threading.Thread(target=acs_srv.serve_forever, daemon=True).start()
acs = "http://127.0.0.1:%d/acs" % acs_srv.server_port
try:
    tmp = tempfile.mkdtemp(prefix="sekisho-browser-")
    md = os.path.join(tmp, "sp.xml")
    with open(md, "w") as f:
        f.write('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
                'entityID="http://127.0.0.1/browser-sp"><md:SPSSODescriptor '
                'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
                '<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:'
                'HTTP-POST" Location="%s" index="0"/></md:SPSSODescriptor>'
                '</md:EntityDescriptor>' % acs)
    srv.cli("app", "add-saml", "browserapp", "--metadata", md)
    srv.add_user("hanako", "hanako-password-1", email="hanako@example.jp", display="山田 花子")
    cfg = {"chromium": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
           "spki": spki_hash(srv.ca), "base": srv.base(), "origin": srv.url,
           "tenant": "default", "app": "browserapp", "acs": acs, "user": "hanako",
           "password": "hanako-password-1", "display": "山田 花子"}
    cfg_path = os.path.join(tmp, "config.json")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    r = subprocess.run(["node", os.path.join(HERE, "browser", "login_sso.mjs"), cfg_path],
                       capture_output=True, text=True, timeout=180,
                       cwd=os.path.join(HERE, "browser"))
    for line in r.stdout.splitlines():
        if line.startswith(("ok ", "not ok ")):
            t.ok(line.startswith("ok "), line.split(" - ", 1)[-1])
        elif line.startswith("#"):
            print(line)
    t.ok(r.returncode in (0, 1) and "1.." in r.stdout, "the browser script ran",
         r.stdout[-2000:] + r.stderr[-2000:])
    t.eq(len(received), 1, "the ACS received exactly one post")
    if received:
        xml = base64.b64decode(received[0]["SAMLResponse"][0]).decode()
        t.ok("hanako@example.jp" in xml and "山田 花子" in xml,
             "the assertion carries the user's email and display name")
        t.ok("RelayState" not in received[0], "no RelayState was invented")
    t.ok("hanako-password-1" not in srv.log(), "the password never reaches the log")
finally:
    acs_srv.shutdown()
    srv.close()
t.done()
