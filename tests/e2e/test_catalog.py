#!/usr/bin/python3
"""End to end: the app catalog (sekisho app catalog / app add --template, and the API).

- Every template in connectors/templates/ is added with its example parameters through
  the command line; its output is checked (what to paste: Sekisho's URLs, the signing
  certificate and its fingerprint, or the OIDC client's credentials), the portal shows
  the template's name and icon, bad parameters are refused naming the parameter, with
  nothing added.
- The IdP side of every SAML template, against values read from the template file by
  this script (not by Sekisho): an AuthnRequest from the template's entity ID is answered
  with a signed Response (xmlsec1) whose Destination and Recipient are the template's
  ACS, whose Audience is its entity ID, with its NameID format and attribute names.
- SP-initiated logins through apache2 + mod_auth_mellon playing seven vendors (Zoom,
  Slack, Google Workspace, Microsoft 365, Sentry, kintone, GitHub): one apache, a
  name-based virtual host per vendor with `ServerName https://HOST:443` and
  `UseCanonicalName On`; the browser sends https://HOST/... to 127.0.0.1 with that Host.
  mellon compares the Response's Destination and Recipient with the URL it rebuilds from
  the request (the vendor's ACS URL); a RewriteRule hands that path to mellon's own
  postResponse endpoint.  Atlassian's ACS has a query, which mellon cuts before comparing,
  and Salesforce's has no path, which a browser sends as "/": those and the others are
  checked on the IdP side only.
- The generic OpenID Connect template drives mod_auth_openidc configured from what
  `app add` printed (issuer, client id and secret).
- A broken template in catalog_dir is refused with its FILE:LINE by `sekishod -n`, by
  the daemon at start and by `sekisho app catalog`; a good one there overrides a
  built-in template.
- The API: GET catalog (paged), GET catalog/{template}, POST catalog/{template}/apps
  (201, Location, paste), bad input answered 400 naming the field with nothing added,
  404 for an unknown template, 403 for a read-only key.
"""
import base64
import datetime
import hashlib
import os
import re
import secrets
import subprocess
import tempfile
import urllib.parse
import zlib

import requests
from lxml import etree

import api_common as ac
import sekisho_test as st
from peers.apache import Apache, load_modules, parse_env, run_as
from peers.openidc import OidcRP

t = st.Tap()
PW = "Catalog-Passw0rd-31!"
EMAIL = "carol@example.co.jp"
DISPLAY = "Carol Example"
FIELDS = {"email": EMAIL, "displayName": DISPLAY, "uid": "carol"}
TEMPLATES = os.path.join(st.SRCDIR, "connectors", "templates")
SAMLP = "{urn:oasis:names:tc:SAML:2.0:protocol}"
SAML = "{urn:oasis:names:tc:SAML:2.0:assertion}"
NAMEID = {"persistent": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
          "transient": "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
          "email": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"}


# ---- the template files, read here independently of Sekisho ----

def read_template(name):
    """{key: [values]} and the params [{name, pattern, example, optional}] of NAME.tmpl."""
    keys, params = {}, []
    with open(os.path.join(TEMPLATES, name + ".tmpl")) as f:
        for line in f:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            k, _, v = line.strip().partition(" ")
            if line[0] in " \t":
                params[-1][k] = v.strip() or True
            elif k == "param":
                params.append({"name": v.strip()})
            else:
                keys.setdefault(k, []).append(v.strip())
    return keys, params


def fill(pattern, values):
    """pattern with {param} replaced; None when a parameter has no value."""
    if pattern is None:
        return None
    missing = [m for m in re.findall(r"\{(\w+)\}", pattern) if m not in values]
    if missing:
        return None
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], pattern)


def expected(keys, values):
    """What the template makes of values: entity ID, ACS URLs, SLO, NameID format."""
    first = lambda k: keys.get(k, [None])[0]
    return {"entity_id": fill(first("entity_id"), values),
            "acs": [u for u in (fill(p, values) for p in keys.get("acs", [])) if u],
            "slo": fill(first("slo"), values),
            "nameid": fill(first("nameid"), values),
            "attrs": [a.split()[1] for a in keys.get("attribute", [])],
            "sources": dict(a.split()[1::-1] for a in keys.get("attribute", []))}


def paste_lines(out):
    """The key: value lines of app add (a PEM follows its key on lines of its own)."""
    d, key = {}, None
    for line in out.splitlines()[1:]:
        if key == "certificate" and (line.startswith("-----") or re.match(r"^[A-Za-z0-9+/=]+$",
                                                                           line)):
            d[key] += line + "\n"
            continue
        key, _, value = line.partition(": ")
        key = key.rstrip(":")
        d[key] = value
    return d


def add(srv, name, tmpl, values, check=True):
    args = ["app", "add", name, "--template", tmpl]
    for k, v in values.items():
        args += ["--set", "%s=%s" % (k, v)]
    return srv.cli(*args, check=check)


# ---- the IdP side: an AuthnRequest from the template's SP, the Response checked ----

def authn_request(srv, entity_id, acs):
    rid = "_" + secrets.token_hex(16)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    xml = ('<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
           'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="%s" Version="2.0" '
           'IssueInstant="%s" Destination="%s/saml/sso" AssertionConsumerServiceURL="%s" '
           'ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">'
           '<saml:Issuer>%s</saml:Issuer></samlp:AuthnRequest>') % (
               rid, now, srv.base(), acs.replace("&", "&amp;"), entity_id)
    deflated = zlib.compress(xml.encode())[2:-4]
    return rid, "%s/saml/sso?%s" % (srv.base(), urllib.parse.urlencode(
        {"SAMLRequest": base64.b64encode(deflated).decode()}))


def verify_signature(xml, cert_pem, tmp):
    """xmlsec1 verifies the Assertion's signature with the IdP certificate."""
    path, cert = os.path.join(tmp, "response.xml"), os.path.join(tmp, "idp.pem")
    with open(path, "wb") as f:
        f.write(xml)
    with open(cert, "w") as f:
        f.write(cert_pem)
    r = subprocess.run(["xmlsec1", "--verify", "--pubkey-cert-pem", cert, "--id-attr:ID",
                        "urn:oasis:names:tc:SAML:2.0:assertion:Assertion", path],
                       capture_output=True, text=True, timeout=60)
    return r.returncode == 0, r.stderr[-300:]


def idp_side(srv, b, name, exp, cert_pem, tmp):
    """Send the AuthnRequest, check the Response Sekisho would post to the ACS."""
    rid, url = authn_request(srv, exp["entity_id"], exp["acs"][0])
    r = b.follow(b._req("GET", url), autopost=False)
    forms = [f for f in st.parse_forms(r.text) if f["id"] == "sekisho-post"]
    if not t.ok(r.status_code == 200 and forms, "%s: a Response for its SP" % name,
                r.text[:300]):
        return
    t.eq(forms[0]["action"], exp["acs"][0], "%s: posted to the template's ACS" % name)
    xml = base64.b64decode(forms[0]["fields"]["SAMLResponse"])
    doc = etree.fromstring(xml)
    a = doc.find(SAML + "Assertion")
    scd = a.find(".//%sSubjectConfirmationData" % SAML)
    nameid = a.find(".//%sNameID" % SAML)
    got = {"Destination": doc.get("Destination"), "InResponseTo": doc.get("InResponseTo"),
           "status": doc.find(".//%sStatusCode" % SAMLP).get("Value").rsplit(":", 1)[-1],
           "Issuer": a.findtext(SAML + "Issuer"),
           "Audience": a.findtext(".//%sAudience" % SAML),
           "Recipient": scd.get("Recipient"), "NameID Format": nameid.get("Format")}
    want = {"Destination": exp["acs"][0], "InResponseTo": rid, "status": "Success",
            "Issuer": srv.base() + "/saml/metadata", "Audience": exp["entity_id"],
            "Recipient": exp["acs"][0], "NameID Format": NAMEID[exp["nameid"]]}
    t.eq(got, want, "%s: Response and Assertion as the template says" % name)
    if exp["nameid"] == "email":
        t.eq(nameid.text, EMAIL, "%s: the NameID is the user's e-mail" % name)
    sent = {x.get("Name"): x.findtext(SAML + "AttributeValue")
            for x in a.iter(SAML + "Attribute")}
    if exp["attrs"]:
        t.eq(sorted(sent), sorted(exp["attrs"]), "%s: attributes under the vendor's "
             "names %s" % (name, exp["attrs"]))
    ok, err = verify_signature(xml, cert_pem, tmp)
    t.ok(ok, "%s: the Assertion's signature verifies with the pasted certificate" % name, err)


def every_template(srv, b, tmp):
    names = sorted(f[:-5] for f in os.listdir(TEMPLATES) if f.endswith(".tmpl"))
    listed = srv.cli("app", "catalog").stdout.splitlines()
    t.eq([ln.split("\t")[0] for ln in listed], names,
         "app catalog lists every template file, in name order (%d)" % len(names))
    t.ok(len(names) >= 26 and all(len(ln.split("\t")) == 3 for ln in listed),
         "at least 26 templates, NAME PROTOCOL DISPLAY NAME each")
    for name in names:
        keys, params = read_template(name)
        values = {p["name"]: p["example"] for p in params}
        r = add(srv, "c-" + name, name, values, check=False)
        if not t.ok(r.returncode == 0, "%s: instantiates with its examples" % name, r.stderr):
            continue
        paste = paste_lines(r.stdout)
        t.eq(sorted(paste), sorted(p.split()[0] for p in keys["paste"]),
             "%s: prints the values its paste lines name" % name)
        show = dict(ln.partition("=")[::2] for ln in
                    srv.cli("app", "show", "c-" + name).stdout.splitlines())
        t.ok(show.get("display_name") == keys["display_name"][0] and
             show.get("icon", "").startswith("image/svg+xml"),
             "%s: the portal shows its display name and icon" % name, str(show))
        if keys["protocol"][0] == "saml":
            check_saml_paste(srv, name, paste)
            idp_side(srv, b, name, expected(keys, values), certificate(srv), tmp)
        else:
            t.ok(paste.get("issuer") == srv.base() and paste.get("client_id") and
                 len(paste.get("client_secret", "")) == 43,
                 "%s: issuer, client id and the secret once" % name, r.stdout)
        srv.cli("app", "remove", "c-" + name)


_CERT = {}


def certificate(srv):
    if "pem" not in _CERT:
        r = srv.cli("app", "add", "c-cert", "--template", "dropbox")
        _CERT["pem"] = paste_lines(r.stdout)["certificate"]
        srv.cli("app", "remove", "c-cert")
    return _CERT["pem"]


def check_saml_paste(srv, name, paste):
    urls = {"idp_entity_id": "/saml/metadata", "metadata_url": "/saml/metadata",
            "sso_url": "/saml/sso", "slo_url": "/saml/slo"}
    bad = {k: v for k, v in paste.items() if k in urls and v != srv.base() + urls[k]}
    t.eq(bad, {}, "%s: Sekisho's URLs to paste" % name)
    if "certificate" in paste:
        r = requests.get(srv.base() + "/saml/metadata", verify=srv.ca, timeout=30)
        body = "".join(paste["certificate"].splitlines()[1:-1])
        t.ok(body in r.text, "%s: the certificate is the one in the IdP metadata" % name)
    if "certificate_sha256" in paste:
        der = base64.b64decode("".join(certificate(srv).splitlines()[1:-1]))
        fp = ":".join("%02X" % c for c in hashlib.sha256(der).digest())
        t.eq(paste["certificate_sha256"], fp, "%s: the certificate's SHA-256 fingerprint" % name)


def bad_parameters(srv):
    cases = [("zoom", {}, "missing parameter vanity"),
             ("zoom", {"vanity": "Acme!"}, "parameter vanity: Acme! does not match"),
             ("zoom", {"vanity": "acme", "colour": "blue"}, "unknown parameter colour"),
             ("generic-saml", {"entity_id": "x", "acs_url": "ftp://x/", "nameid": "email"},
              "parameter acs_url"),
             ("generic-saml", {"entity_id": "x", "acs_url": "http://sp.example.com/acs",
                               "nameid": "email"}, "http://sp.example.com/acs: "),
             ("nosuch", {}, "no template nosuch")]
    for tmpl, values, msg in cases:
        r = add(srv, "bad", tmpl, values, check=False)
        t.ok(r.returncode == 1 and msg in r.stderr, "%s %s refused: %s" % (tmpl, values, msg),
             r.stderr)
    r = srv.cli("app", "add", "bad", "--template", "zoom", "--set", "vanity", check=False)
    t.ok(r.returncode == 2 and "KEY=VALUE" in r.stderr, "--set without = is a usage error")
    t.ok("bad\t" not in srv.cli("app", "list").stdout, "nothing was added")


# ---- mellon playing the vendors ----

VENDORS = [("zoom", {"vanity": "acme"}), ("slack", {"workspace": "acme"}),
           ("google-workspace", {"domain": "acme.example"}), ("microsoft-365", {}),
           ("sentry", {"org": "acme"}), ("kintone", {"subdomain": "acme"}),
           ("github-enterprise-cloud", {"org": "acme"})]

ENV_CGI = r"""#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
printf 'REMOTE_USER=%s\n' "$REMOTE_USER"
env | grep '^MELLON_' | LC_ALL=C sort
"""

VHOST = """
<VirtualHost 127.0.0.1:{port}>
    ServerName https://{host}:443
    UseCanonicalName On
    RewriteEngine On
    RewriteCond %{{REQUEST_METHOD}} =POST
    RewriteRule ^{acs_path}$ /mellon/postResponse [PT]
    <Location />
        MellonEnable info
        MellonEndpointPath /mellon
        MellonSPentityId "{entity_id}"
        MellonSPMetadataFile "{dir}/{name}.xml"
        MellonIdPMetadataFile "{dir}/idp-metadata.xml"
        MellonSPPrivateKeyFile "{dir}/sp.key"
        MellonSPCertFile "{dir}/sp.crt"
        MellonSignatureMethod rsa-sha256
        MellonUser NAME_ID
        MellonVariable "{variable}"
    </Location>
    <Location /protected>
        SetHandler cgi-script
        AuthType Mellon
        MellonEnable auth
        Require valid-user
    </Location>
</VirtualHost>
"""

CONF = """ServerRoot "{dir}"
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
PidFile "{dir}/apache2.pid"
DefaultRuntimeDir "{dir}/run"
ErrorLog "{dir}/error.log"
LogLevel warn auth_mellon:info
{load}
{user}
TypesConfig "{dir}/mime.types"
ScriptSock "{dir}/run/cgisock"
DocumentRoot "{dir}/htdocs"
MellonLockFile "{dir}/run/mellon.lock"
MellonPostDirectory "{dir}/post"
<Directory "{dir}/htdocs">
    Options +ExecCGI
    Require all granted
</Directory>
{vhosts}
"""


def sp_metadata(exp):
    """The vendor's SP metadata as the vendor would publish it (no signing key)."""
    slo = ('<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:'
           'HTTP-Redirect" Location="%s"/>' % exp["slo"]) if exp["slo"] else ""
    return ('<?xml version="1.0"?>\n<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:'
            'metadata" entityID="%s"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:'
            'names:tc:SAML:2.0:protocol">%s<md:NameIDFormat>%s</md:NameIDFormat>'
            '<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"'
            ' Location="%s" index="0"/></md:SPSSODescriptor></md:EntityDescriptor>\n') % (
                exp["entity_id"], slo, NAMEID[exp["nameid"]], exp["acs"][0])


class Vendors(Apache):
    """One apache2 whose name-based virtual hosts play the vendors' SAML SPs."""

    def __init__(self, srv, vendors):
        super().__init__("sekisho-catalog-")
        self.port = st.free_port()
        os.chmod(self.dir, 0o755)
        r = requests.get(srv.base() + "/saml/metadata", verify=srv.ca, timeout=30)
        self._write("idp-metadata.xml", r.content, binary=True)
        self._write("mime.types", "")
        self._write("htdocs/protected/env.cgi", ENV_CGI, mode=0o755)
        for d in ("run", "post"):
            self._mkdir(d)
        # lasso will not make a login request without a key of the SP's own, though the
        # vendors' metadata (and so Sekisho) knows none: the requests go unsigned-checked.
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                        "2", "-subj", "/CN=vendor", "-keyout", os.path.join(self.dir, "sp.key"),
                        "-out", os.path.join(self.dir, "sp.crt")], check=True,
                       capture_output=True, timeout=60)
        self._chown_for_apache("post", "sp.key")
        vhosts = []
        for name, exp in vendors:
            u = urllib.parse.urlsplit(exp["acs"][0])
            self._write(name + ".xml", sp_metadata(exp))
            vhosts.append(VHOST.format(port=self.port, host=u.hostname, dir=self.dir,
                                       acs_path=re.escape(u.path), name=name,
                                       entity_id=exp["entity_id"],
                                       variable=re.sub(r"[^a-z]", "", name)))
        self._write("apache2.conf", CONF.format(
            dir=self.dir, port=self.port, user=run_as(), vhosts="".join(vhosts),
            load=load_modules(["mpm_event", "authz_core", "authn_core", "authz_user", "mime",
                               "env", "cgid", "rewrite", "auth_mellon"])))
        self.start()


class ToVendor(requests.adapters.HTTPAdapter):
    """https://HOST/... sent to the vendors' apache on 127.0.0.1 with Host: HOST."""

    def __init__(self, port):
        super().__init__()
        self.port = port

    def send(self, request, **kw):
        u = urllib.parse.urlsplit(request.url)
        sent = request.copy()
        sent.url = urllib.parse.urlunsplit(("http", "127.0.0.1:%d" % self.port, u.path,
                                            u.query, ""))
        sent.headers["Host"] = u.hostname
        r = super().send(sent, **kw)
        r.url, r.request = request.url, request
        return r


def mellon_logins(srv, tmp):
    vendors = []
    for name, values in VENDORS:
        keys, _ = read_template(name)
        exp = expected(keys, values)
        add(srv, "m-" + name, name, values)
        vendors.append((name, exp))
    sps = Vendors(srv, vendors)
    b = st.Browser(verify=srv.ca)
    for _, exp in vendors:
        b.s.mount("https://%s/" % urllib.parse.urlsplit(exp["acs"][0]).hostname,
                  ToVendor(sps.port))
    first = True
    for name, exp in vendors:
        host = urllib.parse.urlsplit(exp["acs"][0]).hostname
        page = "https://%s/protected/env.cgi" % host
        start = len(b.history)
        r = b.get(page)
        if first:
            r = b.submit_login(r, "carol", PW)
            first = False
        env = parse_env(r.text) if r.status_code == 200 else {}
        posted = [h for h in b.history[start:] if h.request.method == "POST" and
                  h.url == exp["acs"][0]]
        t.ok(r.status_code == 200 and r.url == page and env.get("REMOTE_USER") and posted,
             "%s: mellon as %s accepted Sekisho's Response at %s" % (name, host,
                                                                     exp["acs"][0]),
             "%d %s\n%s\n%s" % (r.status_code, r.url, r.text[:300], sps.error_log()[-1500:]))
        if exp["nameid"] == "email":
            t.eq(env.get("REMOTE_USER"), EMAIL, "%s: NameID the e-mail" % name)
        for attr in exp["attrs"]:
            var = "MELLON_" + re.sub(r"[^A-Za-z0-9]", "_", attr)
            t.eq(env.get(var), FIELDS[exp["sources"][attr]], "%s: %s arrives as %s" % (
                name, attr, var))
    sps.close()


# ---- OpenID Connect through mod_auth_openidc, configured from app add's output ----

class TemplateRP(OidcRP):
    def _register(self, id_token_alg):
        out = self.server.cli("app", "add", self.app, "--template", "generic-oidc", "--set",
                              "redirect_uri=" + self.redirect_uri, "--set",
                              "post_logout_uri=" + self.logged_out).stdout
        paste = paste_lines(out)
        self.client_id, self.client_secret = paste["client_id"], paste["client_secret"]
        self.issuer = paste["issuer"]
        t.eq(paste["discovery_url"], self.issuer + "/.well-known/openid-configuration",
             "generic-oidc: the discovery URL the RP reads")
        return ('OIDCClientSecret "%s"\nOIDCProviderTokenEndpointAuth client_secret_basic'
                % self.client_secret)


def openidc_login(srv):
    rp = TemplateRP(srv, "oidc-from-template")
    b = st.Browser(verify=srv.ca)
    r = b.submit_login(b.get(rp.protected), "carol", PW)
    env = parse_env(r.text)
    t.ok(r.status_code == 200 and r.url == rp.protected and env.get("OIDC_CLAIM_email") ==
         EMAIL, "generic-oidc: mod_auth_openidc signs in with the pasted client", r.text[:400])
    rp.close()


# ---- catalog_dir ----

def catalog_dir():
    d = tempfile.mkdtemp(prefix="sekisho-catalog-dir-")
    os.chmod(d, 0o755)
    bad = os.path.join(d, "ourapp.tmpl")
    with open(bad, "w") as f:
        f.write("name ourapp\ndisplay_name Our app\ndescription d\nprotocol saml\n"
                "setup_url https://example.com/\nacs https://{tenant}.example.com/acs\n")
    srv = st.Server(extra_config=["catalog_dir " + d], start=False)
    want = "%s:6: acs: parameter {tenant} is not declared" % bad
    r = subprocess.run([st.SEKISHOD, "--dir", srv.dir, "-n"], capture_output=True, text=True,
                       timeout=60)
    t.ok(r.returncode == 1 and want in r.stderr, "sekishod -n refuses a broken template "
         "with its FILE:LINE", r.stderr)
    r = srv.cli("app", "catalog", check=False)
    t.ok(r.returncode == 1 and want in r.stderr, "app catalog too", r.stderr)
    try:
        srv.start()
        t.ok(False, "sekishod does not start with a broken template")
    except RuntimeError as e:
        t.ok(want in str(e), "sekishod does not start with a broken template, and says why",
             str(e)[-500:])
    with open(bad, "w") as f:
        f.write("name zoom\ndisplay_name Our Zoom\ndescription ours\nprotocol saml\n"
                "setup_url https://example.com/\nentity_id https://zoom.example.com\n"
                "acs https://zoom.example.com/acs\nnameid email\npaste sso_url\n"
                "unverified ours\n")
    os.rename(bad, os.path.join(d, "zoom.tmpl"))
    out = srv.cli("app", "catalog").stdout
    t.ok("zoom\tsaml\tOur Zoom" in out and "slack\tsaml\tSlack" in out,
         "a template in catalog_dir replaces the built-in one of its name", out)
    r = srv.cli("app", "add", "z", "--template", "zoom", check=False)
    t.ok(r.returncode == 0 and "SAML SP https://zoom.example.com" in r.stdout,
         "and is the one used", r.stdout + r.stderr)
    srv.close()


# ---- the API ----

def api(srv):
    keys = ac.make_keys(srv, "default", "cat", 8, "read,write")
    reader = ac.make_key(srv, "default", "catread", "read")
    c = ac.ApiClient(srv, "default", keys)
    items = c.all_items("catalog", limit=10)
    t.eq(len(items), len(os.listdir(TEMPLATES)), "GET catalog pages through every template")
    z = c.call("GET", "catalog/zoom").body
    t.ok(z["saml"]["acs"] == ["https://{vanity}.zoom.us/saml/SSO"] and
         z["parameters"][0]["name"] == "vanity" and z["unverified"],
         "GET catalog/zoom: parameters, patterns and notes", str(z)[:300])
    c.call("GET", "catalog/nosuch", expect=404)
    r = c.call("POST", "catalog/zoom/apps", json={"name": "api-zoom",
                                                 "parameters": {"vanity": "apiacme"}},
               expect=201)
    t.ok(r.headers.get("Location") == srv.base() + "/api/v1/apps/api-zoom" and
         r.body["app"]["entity_id"] == "apiacme.zoom.us" and
         r.body["paste"]["sso_url"] == srv.base() + "/saml/sso",
         "POST catalog/zoom/apps: 201, Location, what to paste", r.text[:300])
    r = c.call("POST", "catalog/generic-oidc/apps", json={
        "name": "api-oidc", "parameters": {"redirect_uri": "https://o.example.com/cb"}},
        expect=201)
    t.ok(len(r.body["paste"].get("client_secret", "")) == 43 and r.body["app"]["client_id"],
         "an OIDC app's client secret, once")
    for body, field in [({"name": "api-bad", "parameters": {"vanity": "A B"}},
                         "parameters.vanity"),
                        ({"name": "api-bad", "parameters": {}}, "parameters.vanity"),
                        ({"name": "api-bad", "parameters": {"vanity": 3}}, "parameters.vanity"),
                        ({"name": "api-bad", "parameters": {"vanity": "x", "zz": "y"}},
                         "parameters.zz"),
                        ({"parameters": {"vanity": "x"}}, "name"),
                        ({"name": "api-bad", "vanity": "x"}, "vanity"),
                        ({"name": "api-zoom", "parameters": {"vanity": "other"}}, "name")]:
        r = c.call("POST", "catalog/zoom/apps", json=body, expect=(400, 409), raw=True)
        t.eq(r.body.get("field"), field, "POST %s refused naming %s" % (body, field))
    c.call("POST", "catalog/nosuch/apps", json={"name": "api-bad"}, expect=404)
    c.call("POST", "catalog/zoom/apps", json={"name": "api-bad", "parameters": {
        "vanity": "ro"}}, expect=403, key=reader)
    out = srv.cli("app", "list").stdout
    t.ok("api-zoom\t" in out and "api-bad" not in out, "nothing added by refused calls")


def main():
    srv = st.Server()
    tmp = tempfile.mkdtemp(prefix="sekisho-catalog-")
    try:
        srv.add_user("carol", PW, email=EMAIL, display=DISPLAY)
        b = st.Browser(verify=srv.ca)
        b.submit_login(b.get(srv.base() + "/portal"), "carol", PW)
        t.run("every template", every_template, srv, b, tmp)
        t.run("bad parameters", bad_parameters, srv)
        t.run("mellon as the vendors", mellon_logins, srv, tmp)
        t.run("mod_auth_openidc from generic-oidc", openidc_login, srv)
        t.run("api", api, srv)
        t.run("catalog_dir", catalog_dir)
    finally:
        srv.close()
    t.done()


if __name__ == "__main__":
    main()
