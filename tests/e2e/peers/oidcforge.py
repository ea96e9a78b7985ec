"""A hand-made OAuth 2.0 / OpenID Connect client for attacking Sekisho's provider.

It builds what a relying party sends (authorization URLs, PKCE pairs, client
authentication for the token endpoint) and, mostly, what a relying party must never be
able to get accepted: client assertions (RFC 7523) with forged algorithms, bad or zeroed
signatures, keys of their own in the header, wrong claims.  JWS compact serialisation is
done by hand here so that every byte of a forgery is under the test's control; keys come
from jwcrypto and signatures from the cryptography package it is built on.  Keys are made
at test time.
"""
import base64
import datetime
import hashlib
import hmac
import json
import re
import secrets
import socket
import threading
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import (decode_dss_signature,
                                                             encode_dss_signature)
from cryptography.x509.oid import NameOID
from jwcrypto import jwk

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# The order of the P-256 group: r or s equal to it is out of range.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(obj):
    return b64url(json.dumps(obj, separators=(",", ":")))


def unverified_claims(token):
    """The claims of a compact JWT, read without checking anything."""
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


# ---- PKCE (RFC 7636) ----

def s256(verifier):
    return b64url(hashlib.sha256(verifier.encode()).digest())


def pkce_pair():
    """A well-formed (verifier, challenge): 64 unreserved characters."""
    verifier = secrets.token_urlsafe(48)
    return verifier, s256(verifier)


# ---- keys ----

class Key:
    """An RSA (2048 bits unless said) or EC (P-256 unless said) key pair, with the JWK and
    PEM forms the cases need."""

    def __init__(self, kty="RSA", size=2048, crv="P-256"):
        self.jwk = (jwk.JWK.generate(kty="RSA", size=size) if kty == "RSA"
                    else jwk.JWK.generate(kty="EC", crv=crv))
        self.ec = kty != "RSA"
        self.alg = "ES256" if self.ec else "RS256"
        self.kid = self.jwk.thumbprint()
        self.private = self.jwk.get_op_key("sign")

    def public_jwk(self):
        d = self.jwk.export_public(as_dict=True)
        d.update(kid=self.kid, use="sig", alg=self.alg)
        return d

    def public_pem(self):
        return self.jwk.export_to_pem()     # the public key, SubjectPublicKeyInfo

    def public_der(self):
        return self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    def self_signed_der(self):
        """A self-signed certificate for this key (for an x5c header)."""
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attacker")])
        now = datetime.datetime.utcnow()
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self.private.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=1))
                .sign(self.private, hashes.SHA256()))
        return cert.public_bytes(serialization.Encoding.DER)

    def sign(self, data):
        """The JWS signature over data: PKCS#1 v1.5 for RSA, raw r||s (64 bytes) for EC."""
        if self.ec:
            r, s = decode_dss_signature(self.private.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return self.private.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def sign_pss(self, data):
        """An RSASSA-PSS signature (PS256) with this RSA key."""
        return self.private.sign(data, padding.PSS(padding.MGF1(hashes.SHA256()),
                                                   padding.PSS.DIGEST_LENGTH), hashes.SHA256())

    def sign_der(self, data):
        """An ECDSA signature in DER (what OpenSSL produces, not what JOSE wants)."""
        raw = self.sign(data)
        return encode_dss_signature(int.from_bytes(raw[:32], "big"),
                                    int.from_bytes(raw[32:], "big"))


def jwks(*keys):
    return json.dumps({"keys": [k.public_jwk() for k in keys]})


# ---- JWS compact, by hand ----

def compact(header, claims, signature=b""):
    """header.claims.signature, each part base64url; header/claims dicts or raw bytes."""
    h = b64url(header) if isinstance(header, bytes) else b64url_json(header)
    c = b64url(claims) if isinstance(claims, bytes) else b64url_json(claims)
    return "%s.%s.%s" % (h, c, b64url(signature))


def signing_input(header, claims):
    return compact(header, claims).rsplit(".", 1)[0].encode()


def signed(key, claims, alg=None, **header_extra):
    """A JWS over claims signed with key; header_extra adds (or, as None, drops) members."""
    header = {"alg": alg or key.alg, "kid": key.kid, "typ": "JWT"}
    header.update(header_extra)
    header = {k: v for k, v in header.items() if v is not None}
    return compact(header, claims, key.sign(signing_input(header, claims)))


def with_signature(token, signature):
    """token with its signature replaced by these bytes."""
    return token.rsplit(".", 1)[0] + "." + b64url(signature)


def hs256(secret, claims, **header_extra):
    """An HMAC-SHA256 JWS keyed with secret (bytes): the classic algorithm confusion."""
    header = {"alg": "HS256", "typ": "JWT"}
    header.update(header_extra)
    mac = hmac.new(secret, signing_input(header, claims), hashlib.sha256).digest()
    return compact(header, claims, mac)


def unsigned(claims, alg="none", **header_extra):
    header = {"alg": alg, "typ": "JWT"}
    header.update(header_extra)
    return compact(header, claims)


# ---- client assertions (RFC 7523 section 3) ----

def assertion_claims(client_id, audience, lifetime=120, **override):
    """Claims of a valid assertion; override changes members (None removes one)."""
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": audience, "iat": now,
              "exp": now + lifetime, "jti": secrets.token_urlsafe(16)}
    claims.update(override)
    return {k: v for k, v in claims.items() if v is not None}


def assertion_form(assertion, client_id=None):
    form = {"client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}
    if client_id is not None:
        form["client_id"] = client_id
    return form


# ---- client_secret_basic (RFC 6749 section 2.3.1) ----

def basic(client_id, secret, encode=True, lower_hex=False):
    """An Authorization header value.  RFC 6749 2.3.1 has the client form-urlencode id and
    secret before base64; encode=False sends them raw (what sloppy clients do)."""
    if encode:
        client_id = urllib.parse.quote(client_id, safe="")
        secret = urllib.parse.quote(secret, safe="")
        if lower_hex:   # hex digits are case-insensitive in percent-encoding
            secret = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), secret)
    raw = ("%s:%s" % (client_id, secret)).encode()
    return "Basic " + base64.b64encode(raw).decode()


# ---- registration output ----

def parse_registration(stdout):
    """client_id and client_secret (or None) from `sekisho app add-oidc` output."""
    out = {}
    for line in stdout.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out.get("client_id"), out.get("client_secret")


# ---- proof that nothing was fetched ----

class Listener:
    """A TCP port on 127.0.0.1 that counts connections (and reads what comes)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
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
