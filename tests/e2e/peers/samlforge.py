"""Build, sign and mutate SAML protocol messages for the attack scenarios.

A hand-rolled SP: AuthnRequests and LogoutRequests as text, enveloped XML signatures made
here (exclusive C14N from lxml, digests from hashlib, RSA from `openssl dgst`), so a test
can produce exactly the signature it wants, valid or subtly wrong: extra References, other
Reference URIs, odd transforms, weak algorithms.  Then the classic wrapping variants
(XSW1-8), the HTTP-Redirect encoding (DEFLATE, base64, detached query signature) and a few
hostile payloads (entities, deflate bombs, deep trees).

Keys and certificates are made at run time with openssl; nothing here is a fixture.
"""
import base64
import copy
import datetime
import hashlib
import os
import subprocess
import urllib.parse
import uuid
import zlib
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"samlp": SAMLP, "saml": SAML, "md": MD, "ds": DS}

BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
BINDING_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
BINDING_ARTIFACT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"
BINDING_SOAP = "urn:oasis:names:tc:SAML:2.0:bindings:SOAP"
BINDING_PAOS = "urn:oasis:names:tc:SAML:2.0:bindings:PAOS"

RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
DSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#dsa-sha1"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
MD5 = "http://www.w3.org/2001/04/xmldsig-more#md5"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_COMMENTS = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
XPATH = "http://www.w3.org/TR/1999/REC-xpath-19991116"

NAMEID_EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"

# Algorithm URI -> digest name for openssl dgst and hashlib.  Our keys are RSA: a
# "dsa-sha1" signature here is an RSA one under that label, for allow-list tests.
_SIG_HASH = {RSA_SHA256: "sha256", RSA_SHA1: "sha1", DSA_SHA1: "sha1"}
_DIGEST_HASH = {SHA256: "sha256", SHA1: "sha1", MD5: "md5"}


class Keypair:
    """An RSA key and a self-signed certificate in directory d (PEM files)."""

    def __init__(self, d, name, bits=2048):
        self.key = os.path.join(d, name + ".key")
        self.cert = os.path.join(d, name + ".crt")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:%d" % bits, "-nodes",
                        "-keyout", self.key, "-out", self.cert, "-days", "30",
                        "-subj", "/CN=" + name], check=True, capture_output=True)
        with open(self.cert) as f:
            pem = f.read()
        # The base64 DER body, as metadata and KeyInfo carry it.
        self.cert_b64 = "".join(l for l in pem.splitlines() if "-----" not in l)

    def sign(self, data, hash_name="sha256"):
        """Raw PKCS#1 v1.5 signature of data."""
        return subprocess.run(["openssl", "dgst", "-" + hash_name, "-sign", self.key],
                              input=data, check=True, capture_output=True).stdout


def new_id():
    return "_" + uuid.uuid4().hex


def instant(offset=0):
    """An xs:dateTime in UTC, offset seconds from now."""
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def sp_metadata(entity_id, acs_urls, slo_url, cert_b64=None, authn_requests_signed=None):
    """SP metadata: ACS endpoints (HTTP-POST, index 0, 1, ...), SLO Redirect and POST."""
    signed = "" if authn_requests_signed is None else \
        ' AuthnRequestsSigned="%s"' % ("true" if authn_requests_signed else "false")
    key = ""
    if cert_b64:
        key = ('<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>'
               '<ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo>'
               '</md:KeyDescriptor>' % cert_b64)
    acs = "".join('<md:AssertionConsumerService Binding="%s" Location=%s index="%d"%s/>'
                  % (BINDING_POST, quoteattr(u), i, ' isDefault="true"' if i == 0 else "")
                  for i, u in enumerate(acs_urls))
    return ('<?xml version="1.0"?>\n'
            '<md:EntityDescriptor xmlns:md="%s" xmlns:ds="%s" entityID=%s>'
            '<md:SPSSODescriptor protocolSupportEnumeration="%s"%s WantAssertionsSigned="true">'
            '%s'
            '<md:SingleLogoutService Binding="%s" Location=%s/>'
            '<md:SingleLogoutService Binding="%s" Location=%s/>'
            '%s</md:SPSSODescriptor></md:EntityDescriptor>\n'
            % (MD, DS, quoteattr(entity_id), SAMLP, signed, key,
               BINDING_REDIRECT, quoteattr(slo_url), BINDING_POST, quoteattr(slo_url), acs))


def _attrs(pairs):
    return "".join(" %s=%s" % (k, quoteattr(str(v))) for k, v in pairs if v is not None)


def authn_request(issuer, destination, acs_url=None, acs_index=None,
                  protocol_binding=BINDING_POST, id=None, issue_instant=None, version="2.0",
                  extensions=None, issuer_xml=None):
    """An AuthnRequest as text.  issuer_xml: raw content of Issuer (to inject markup);
    extensions: raw XML placed in samlp:Extensions."""
    head = _attrs([("ID", id or new_id()), ("Version", version),
                   ("IssueInstant", issue_instant or instant()), ("Destination", destination),
                   ("ProtocolBinding", protocol_binding),
                   ("AssertionConsumerServiceURL", acs_url),
                   ("AssertionConsumerServiceIndex", acs_index)])
    ext = "<samlp:Extensions>%s</samlp:Extensions>" % extensions if extensions else ""
    return ('<samlp:AuthnRequest xmlns:samlp="%s" xmlns:saml="%s"%s>'
            '<saml:Issuer>%s</saml:Issuer>%s</samlp:AuthnRequest>'
            % (SAMLP, SAML, head, issuer_xml if issuer_xml is not None else escape(issuer), ext))


def logout_request(issuer, destination, name_id, name_id_format=NAMEID_EMAIL,
                   session_index=None, id=None, issue_instant=None, name_qualifier=None,
                   sp_name_qualifier=None, name_id_xml=None, session_index_xml=None):
    """A LogoutRequest as text; *_xml: raw content (to inject markup)."""
    head = _attrs([("ID", id or new_id()), ("Version", "2.0"),
                   ("IssueInstant", issue_instant or instant()), ("Destination", destination)])
    nid = _attrs([("Format", name_id_format), ("NameQualifier", name_qualifier),
                  ("SPNameQualifier", sp_name_qualifier)])
    si = ""
    if session_index is not None or session_index_xml is not None:
        si = "<samlp:SessionIndex>%s</samlp:SessionIndex>" % (
            session_index_xml if session_index_xml is not None else escape(session_index))
    return ('<samlp:LogoutRequest xmlns:samlp="%s" xmlns:saml="%s"%s>'
            '<saml:Issuer>%s</saml:Issuer><saml:NameID%s>%s</saml:NameID>%s'
            '</samlp:LogoutRequest>'
            % (SAMLP, SAML, head, escape(issuer), nid,
               name_id_xml if name_id_xml is not None else escape(name_id), si))


def logout_response(issuer, destination, in_response_to, status=STATUS_SUCCESS, id=None,
                    issue_instant=None):
    """An SP's LogoutResponse as text; in_response_to None leaves the attribute out."""
    head = _attrs([("ID", id or new_id()), ("Version", "2.0"),
                   ("IssueInstant", issue_instant or instant()), ("Destination", destination),
                   ("InResponseTo", in_response_to)])
    return ('<samlp:LogoutResponse xmlns:samlp="%s" xmlns:saml="%s"%s>'
            '<saml:Issuer>%s</saml:Issuer><samlp:Status><samlp:StatusCode Value=%s/>'
            '</samlp:Status></samlp:LogoutResponse>'
            % (SAMLP, SAML, head, escape(issuer), quoteattr(status)))


def c14n(el, with_comments=False):
    """Exclusive canonical form of el (a subtree), as xmlsec computes it."""
    return etree.tostring(el, method="c14n", exclusive=True, with_comments=with_comments)


def _q(ns, name):
    return "{%s}%s" % (ns, name)


def _parse(xml):
    if isinstance(xml, str):
        xml = xml.encode()
    # Keep CDATA sections as they are: some cases inject them on purpose.
    return etree.fromstring(xml, etree.XMLParser(resolve_entities=False, strip_cdata=False))


def _reference(parent, uri, transforms, digest_alg, digest_value):
    ref = etree.SubElement(parent, _q(DS, "Reference"))
    if uri is not None:
        ref.set("URI", uri)
    tr = etree.SubElement(ref, _q(DS, "Transforms"))
    for t in transforms:
        el = etree.SubElement(tr, _q(DS, "Transform"), Algorithm=t)
        if t == XPATH:
            # Equivalent to the enveloped transform, so the signature stays valid.
            etree.SubElement(el, _q(DS, "XPath")).text = "not(ancestor-or-self::ds:Signature)"
    etree.SubElement(ref, _q(DS, "DigestMethod"), Algorithm=digest_alg)
    etree.SubElement(ref, _q(DS, "DigestValue")).text = digest_value


def sign(xml, key, sigalg=RSA_SHA256, digest_alg=SHA256, transforms=(ENVELOPED, EXC_C14N),
         c14n_alg=EXC_C14N, ref_uri=None, references=1, keyinfo=True):
    """Add an enveloped ds:Signature right after the root's Issuer and return bytes.

    ref_uri: the Reference URI (default "#" + root ID); references: how many identical
    References; keyinfo: a Keypair whose certificate goes into KeyInfo (True: key's own,
    False: none).  The digest covers the element the Reference names (the root without
    its signature by default), so the signature is cryptographically sound whatever
    profile oddity was asked for: only a profile check can refuse it."""
    root = _parse(xml)
    if ref_uri is None:
        ref_uri = "#" + root.get("ID")
    target = root
    if ref_uri.startswith("#") and ref_uri[1:] != root.get("ID"):
        found = root.xpath("//*[@ID=$id]", id=ref_uri[1:])
        target = found[0] if found else root
    digest = base64.b64encode(hashlib.new(_DIGEST_HASH[digest_alg], c14n(target)).digest())

    sig = etree.Element(_q(DS, "Signature"), nsmap={"ds": DS})
    si = etree.SubElement(sig, _q(DS, "SignedInfo"))
    etree.SubElement(si, _q(DS, "CanonicalizationMethod"), Algorithm=c14n_alg)
    etree.SubElement(si, _q(DS, "SignatureMethod"), Algorithm=sigalg)
    for _ in range(references):
        _reference(si, ref_uri, transforms, digest_alg, digest.decode())
    sv = etree.SubElement(sig, _q(DS, "SignatureValue"))
    if keyinfo:
        kp = key if keyinfo is True else keyinfo
        ki = etree.SubElement(sig, _q(DS, "KeyInfo"))
        x5 = etree.SubElement(ki, _q(DS, "X509Data"))
        etree.SubElement(x5, _q(DS, "X509Certificate")).text = kp.cert_b64
    issuer = root.find("saml:Issuer", NS)
    root.insert(root.index(issuer) + 1 if issuer is not None else 0, sig)
    si = sig.find("ds:SignedInfo", NS)
    sv.text = base64.b64encode(key.sign(c14n(si), _SIG_HASH[sigalg])).decode()
    return etree.tostring(root)


def strip_signature(xml):
    root = _parse(xml)
    for s in root.findall("ds:Signature", NS):
        root.remove(s)
    return etree.tostring(root)


def xsw(signed, variant, mutate):
    """Signature wrapping of a root-signed message (bytes); returns the wrapped document.

    The evil message is a copy of the original with a fresh ID, changed by mutate(root).
    1 copy inside Signature, 2 detached sibling, 3 evil sibling before (two roots),
    4 evil sibling after (two roots), 5 original nested in the evil element,
    6 signature moved (into Extensions, original appended), 7 original in Extensions,
    8 original in ds:Object."""
    orig = _parse(signed)
    sig = orig.find("ds:Signature", NS)
    pristine = copy.deepcopy(orig)
    pristine.remove(pristine.find("ds:Signature", NS))
    evil = copy.deepcopy(pristine)
    evil.set("ID", new_id())
    mutate(evil)
    after_issuer = 1

    def extensions(child):
        ext = etree.Element(_q(SAMLP, "Extensions"))
        ext.append(child)
        return ext

    if variant == 1:
        s = copy.deepcopy(sig)
        s.append(pristine)
        evil.insert(after_issuer, s)
    elif variant == 2:
        evil.insert(after_issuer, pristine)
        evil.insert(after_issuer + 1, copy.deepcopy(sig))
    elif variant == 3:
        return etree.tostring(evil) + etree.tostring(orig)
    elif variant == 4:
        return etree.tostring(orig) + etree.tostring(evil)
    elif variant == 5:
        evil.append(orig)
    elif variant == 6:
        evil.insert(after_issuer, extensions(copy.deepcopy(sig)))
        evil.append(pristine)
    elif variant == 7:
        evil.insert(after_issuer, copy.deepcopy(sig))
        evil.insert(after_issuer + 1, extensions(pristine))
    elif variant == 8:
        s = copy.deepcopy(sig)
        obj = etree.SubElement(s, _q(DS, "Object"))
        obj.append(pristine)
        evil.insert(after_issuer, s)
    else:
        raise ValueError("no XSW variant %r" % variant)
    return etree.tostring(evil)


XSW_NAMES = {1: "copy inside Signature", 2: "detached sibling", 3: "evil sibling before",
             4: "evil sibling after", 5: "original nested in the evil element",
             6: "signature moved", 7: "original in Extensions", 8: "original in ds:Object"}


def set_attr(xml, name, value):
    """Change a root attribute (after signing: breaks the signature)."""
    root = _parse(xml)
    root.set(name, value)
    return etree.tostring(root)


# ---- bindings ----

def post_value(xml):
    """The HTTP-POST binding value: base64 of the XML."""
    if isinstance(xml, str):
        xml = xml.encode()
    return base64.b64encode(xml).decode()


def deflate(data):
    """Raw DEFLATE (no zlib header), as the HTTP-Redirect binding wants."""
    if isinstance(data, str):
        data = data.encode()
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def redirect_value(xml):
    return base64.b64encode(deflate(xml)).decode()


def q(s):
    """URL-encode a query value the usual way (quote_plus: space as '+', upper-case hex)."""
    return urllib.parse.quote_plus(s, safe="")


def redirect_query(xml, key=None, sigalg=RSA_SHA256, relay_state=None, param="SAMLRequest"):
    """The query string of an HTTP-Redirect message, signed (SAML bindings 3.4.4.1) with
    key when given: the signature covers the URL-encoded bytes in this order."""
    parts = ["%s=%s" % (param, q(redirect_value(xml)))]
    if relay_state is not None:
        parts.append("RelayState=" + q(relay_state))
    if key is None:
        return "&".join(parts)
    parts.append("SigAlg=" + q(sigalg))
    return sign_query("&".join(parts), key, _SIG_HASH[sigalg])


def sign_query(signed_part, key, hash_name="sha256"):
    sig = key.sign(signed_part.encode(), hash_name)
    return signed_part + "&Signature=" + q(base64.b64encode(sig).decode())


def query_params(query):
    """[(name, raw value)] in order, without decoding."""
    return [tuple(p.split("=", 1)) for p in query.split("&")]


def join_params(params):
    return "&".join("%s=%s" % p for p in params)


# ---- hostile payloads ----

def deflate_bomb(inflated_size):
    """A SAMLRequest value that inflates to inflated_size bytes (a start tag, then spaces)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = [c.compress(b"<samlp:AuthnRequest ")]
    chunk = b" " * (1 << 20)
    left = inflated_size
    while left > 0:
        out.append(c.compress(chunk[:min(left, len(chunk))]))
        left -= len(chunk)
    out.append(c.flush())
    return base64.b64encode(b"".join(out)).decode()


def with_doctype(xml, doctype):
    """Prefix a message with a DOCTYPE (and its internal subset)."""
    if isinstance(xml, bytes):
        xml = xml.decode()
    return doctype + xml


BILLION_LAUGHS = ('<!DOCTYPE samlp:AuthnRequest [<!ENTITY lol "lol">'
                  + "".join('<!ENTITY lol%d "%s">' % (i, ("&lol%d;" % (i - 1) if i > 1
                                                          else "&lol;") * 10)
                            for i in range(1, 10))
                  + "]>")


def utf7_shift(s, chars='<>"'):
    """s with each of chars written as a UTF-7 base64 run ('<' is "+ADw-"): the same text
    to a UTF-7 reader, harmless characters to a UTF-8 one."""
    return "".join("+%s-" % base64.b64encode(c.encode("utf-16-be")).decode().rstrip("=")
                   if c in chars else c for c in s)


def utf7_hidden_issuer(shown, hidden, destination, acs_url):
    """An unsigned AuthnRequest declared as UTF-7 whose Issuer is `shown` to a parser that
    reads it as UTF-8, and `hidden` to one that honours the declaration: there the
    ProviderName value ends at once, `hidden`'s Issuer follows, and `shown`'s is pushed
    down into Extensions.  Nothing in it may contain '+', '~' or '\\'."""
    return ('<?xml version="1.0" encoding="UTF-7"?>'
            '<samlp:AuthnRequest xmlns:samlp="%s" xmlns:saml="%s" ID="%s" Version="2.0" '
            'IssueInstant="%s" Destination="%s" AssertionConsumerServiceURL="%s" '
            'ProtocolBinding="%s" ProviderName="%s"><saml:Issuer>%s</saml:Issuer>%s'
            '</samlp:AuthnRequest>'
            % (SAMLP, SAML, new_id(), instant(), destination, acs_url, BINDING_POST,
               utf7_shift('"><saml:Issuer>%s</saml:Issuer><samlp:Extensions><x y="' % hidden),
               escape(shown), utf7_shift("</x></samlp:Extensions>")))


def nested(depth, tag="saml:x"):
    """depth nested elements for samlp:Extensions (the root declares the saml prefix)."""
    return "<%s>" % tag * depth + "</%s>" % tag * depth


def many_nodes(n, tag="saml:x"):
    """n sibling elements for samlp:Extensions."""
    return "<%s/>" % tag * n


# ---- reading our answers ----

def parse_b64(value):
    """The XML of a base64 HTTP-POST value (a SAMLResponse), parsed."""
    return _parse(base64.b64decode(value))
