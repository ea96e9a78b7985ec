"""Pages in a real browser: headless Chromium driven by Playwright (browser/login_sso.mjs)
against sekishod, with a tiny HTTP service provider endpoint that records what the
browser posts to it.  The recorded SAMLResponse is checked here."""
import base64
import http.server
import os
import tempfile
import threading
import urllib.parse

import sekisho_test as st

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
    cfg = {"spki": st.spki_hash(srv.ca), "base": srv.base(), "origin": srv.url,
           "tenant": "default", "app": "browserapp", "acs": acs, "user": "hanako",
           "password": "hanako-password-1", "display": "山田 花子"}
    st.browser_script(t, "login_sso.mjs", cfg, tmp)
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
