"""Key rotation (sekisho key rotate): the next OIDC key is in the JWKS before it signs,
signs after the rotation, and the old key stays published so tokens it signed still
verify (python3-jwcrypto); SAML: the first rotation publishes a next certificate in the
metadata without signing with it, the second makes it sign (SSO answers, checked with
xmlsec1: the signing key a tenant context keeps follows the rotation)."""
import base64
import hashlib
import html
import json
import os
import re
import secrets
import subprocess
import tempfile
import time
import urllib.parse

import requests
from jwcrypto import jwk, jwt

import sekisho_test as st

t = st.Tap()
REDIRECT = "http://127.0.0.1:9/cb"
SP = "https://sp.keys.invalid/sp"
SP_METADATA = """<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="%s">
<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.keys.invalid/acs" index="0"/>
</md:SPSSODescriptor></md:EntityDescriptor>""" % SP


def keys_by_state(srv, use):
    """{state: [kid, ...]} from `sekisho key list`."""
    out = {}
    for line in srv.cli("key", "list", "--use", use).stdout.splitlines():
        f = line.split("\t")
        out.setdefault(f[3], []).append(f[1])
    return out


def jwks(srv):
    r = requests.get(srv.base() + "/oidc/jwks", verify=srv.ca)
    return jwk.JWKSet.from_json(r.text), [k["kid"] for k in r.json()["keys"]]


def id_token(srv, browser, cid, secret):
    """A fresh ID token for the logged-in browser (code flow with PKCE)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    q = urllib.parse.urlencode({
        "client_id": cid, "redirect_uri": REDIRECT, "response_type": "code",
        "scope": "openid", "state": "s", "nonce": "n",
        "code_challenge": challenge.rstrip(b"=").decode(), "code_challenge_method": "S256"})
    r = browser.get(srv.base() + "/oidc/authorize?" + q)
    if browser.login_form(r):
        r = browser.submit_login(r, "kate", "kate-password-1")
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers["Location"]).query))["code"]
    tok = requests.post(srv.base() + "/oidc/token", auth=(urllib.parse.quote(cid, safe=""),
                        urllib.parse.quote(secret, safe="")), verify=srv.ca,
                        data={"grant_type": "authorization_code", "code": code,
                              "redirect_uri": REDIRECT, "code_verifier": verifier})
    return tok.json()["id_token"]


def kid_of(token):
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


def sso_signer(srv, browser):
    """The certificate in the assertion signature of a fresh SSO answer for the logged-in
    browser, and whether xmlsec1 verifies that signature with this certificate only."""
    dest = srv.base() + "/saml/sso"
    xml = ('<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
           'ID="_k%s" Version="2.0" IssueInstant="%s" Destination="%s"><saml:Issuer '
           'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">%s</saml:Issuer>'
           '</samlp:AuthnRequest>' % (secrets.token_hex(8), time.strftime(
               "%Y-%m-%dT%H:%M:%SZ", time.gmtime()), dest, SP))
    r = browser.s.post(dest, data={"SAMLRequest": base64.b64encode(xml.encode())},
                       verify=srv.ca, timeout=30)
    m = re.search(r'name="SAMLResponse" value="([^"]+)"', r.text)
    if m is None:
        return None, False
    resp = base64.b64decode(html.unescape(m.group(1)))
    cert = re.search(rb"<X509Certificate>([^<]+)<", resp).group(1).decode()
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "r.xml"), "wb") as f:
            f.write(resp)
        with open(os.path.join(d, "c.pem"), "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % "\n".join(
                cert[i:i + 64] for i in range(0, len(cert), 64)))
        v = subprocess.run(["xmlsec1", "--verify", "--pubkey-cert-pem", os.path.join(d, "c.pem"),
                            "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
                            os.path.join(d, "r.xml")], capture_output=True)
    return cert, v.returncode == 0


def main():
    srv = st.Server()
    try:
        srv.add_user("kate", "kate-password-1")
        out = srv.cli("app", "add-oidc", "rp", "--redirect-uri", REDIRECT).stdout
        cid = out.split("client_id=")[1].split()[0]
        secret = out.split("client_secret=")[1].split()[0]
        b = st.Browser(verify=srv.ca, stop_at=(REDIRECT,))

        before = keys_by_state(srv, "oidc")
        t.eq((len(before.get("active", [])), len(before.get("next", []))), (2, 2),
             "a new tenant has an active and a next OIDC key for RS256 and ES256")
        _, published = jwks(srv)
        t.ok(set(before["next"]) <= set(published), "the next keys are in the JWKS already")
        old_token = id_token(srv, b, cid, secret)
        t.ok(kid_of(old_token) in before["active"], "ID tokens are signed with an active key")

        r = srv.cli("key", "rotate", check=False)
        t.ok(r.returncode == 0 and "rotated" in r.stdout, "sekisho key rotate", r.stderr)
        after = keys_by_state(srv, "oidc")
        t.eq(sorted(after.get("active", [])), sorted(before["next"]),
             "after rotation the former next keys sign")
        t.eq(sorted(after.get("retired", [])), sorted(before["active"]),
             "the former active keys are retired, not gone")
        t.eq(len(after.get("next", [])), 2, "new next keys are published")
        keyset, published = jwks(srv)
        t.ok(set(before["active"] + after["active"] + after["next"]) <= set(published),
             "the JWKS has the retired, active and next keys (change seen without restart)")
        new_token = id_token(srv, b, cid, secret)
        t.ok(kid_of(new_token) in after["active"], "new ID tokens use the new active key")
        for name, tok in (("an ID token signed before the rotation", old_token),
                          ("an ID token signed after it", new_token)):
            try:
                jwt.JWT(jwt=tok, key=keyset, check_claims={"iss": srv.base(), "aud": cid})
                t.ok(True, name + " verifies with the published JWKS (jwcrypto)")
            except Exception as e:
                t.ok(False, name + " verifies with the published JWKS (jwcrypto)", e)

        # SAML: publish first, sign later.
        with tempfile.NamedTemporaryFile("w", suffix=".xml") as f:
            f.write(SP_METADATA)
            f.flush()
            srv.cli("app", "add-saml", "sp", "--metadata", f.name)
        md = requests.get(srv.base() + "/saml/metadata", verify=srv.ca).text
        certs0 = re.findall(r"<ds:X509Certificate>([^<]+)<", md)
        t.eq(len(certs0), 1, "a new tenant's SAML metadata has one signing certificate")
        srv.cli("key", "rotate", "--use", "saml")
        saml = keys_by_state(srv, "saml")
        md = requests.get(srv.base() + "/saml/metadata", verify=srv.ca).text
        certs1 = re.findall(r"<ds:X509Certificate>([^<]+)<", md)
        t.ok(len(certs1) == 2 and certs0[0] in certs1 and len(saml.get("active", [])) == 1 and
             len(saml.get("next", [])) == 1,
             "the first SAML rotation publishes a next certificate, the old one still signs")
        cert, ok = sso_signer(srv, b)
        t.ok(cert == certs0[0] and ok, "SSO answers are still signed with the old key")
        srv.cli("key", "rotate", "--use", "saml")
        saml2 = keys_by_state(srv, "saml")
        t.ok(saml2.get("active") == saml.get("next") and saml2.get("retired") == saml.get("active"),
             "the second SAML rotation makes the published next certificate sign")
        cert, ok = sso_signer(srv, b)
        t.ok(cert in certs1 and cert != certs0[0] and ok,
             "SSO answers are signed with the new key now, and verify with its certificate")
        r = srv.cli("key", "rotate", "--use", "nonsense", check=False)
        t.ok(r.returncode != 0 and "saml or oidc" in r.stderr, "an unknown key use is refused")
    finally:
        srv.close()
    t.done()


main()
