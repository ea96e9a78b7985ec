"""apache2 + mod_auth_mellon as a SAML service provider, for the end-to-end scenarios.

MellonSP(server, app) makes a private apache2 instance on 127.0.0.1: its own temporary
directory, SP key, certificate and metadata from mellon_create_metadata, Sekisho's IdP
metadata downloaded from the running server, and a CGI page behind `AuthType Mellon` that
prints REMOTE_USER and every MELLON_* variable.  The SP is registered in Sekisho with
`sekisho app add-saml`.  close() stops apache and removes the directory; it also runs at
interpreter exit, so a failing scenario never leaves apache behind.

Nothing here is a modified mellon: only its documented directives are used.
Environment: SEKISHO_KEEP=1 keeps the directory (error.log is there);
SEKISHO_MELLON_LOGLEVEL sets apache's LogLevel ("warn auth_mellon:debug" to see mellon think).
"""
import os
import re
import shutil
import subprocess
import urllib.parse

import requests

import sekisho_test
from peers.apache import APACHE, Apache, load_modules, run_as
from peers.apache import parse_env  # noqa: F401  (the scenarios import it from here)

CREATE_METADATA = shutil.which("mellon_create_metadata",
                               path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")

# Every module the configuration below uses; mod_auth_mellon last.
LOAD = ["mpm_event", "authz_core", "authn_core", "authz_user", "mime", "dir", "headers",
        "env", "cgid", "auth_mellon"]

# The CGI page behind mellon: one NAME=value line per variable, sorted.
ENV_CGI = r"""#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
printf 'REMOTE_USER=%s\n' "$REMOTE_USER"
env | grep '^MELLON_' | LC_ALL=C sort
"""

CONF = """\
# A private apache2 for one mod_auth_mellon SP (written by tests/e2e/peers/mellon.py).
ServerRoot "{dir}"
Listen 127.0.0.1:{port}
ServerName {url}
UseCanonicalName On
PidFile "{dir}/apache2.pid"
DefaultRuntimeDir "{dir}/run"
ErrorLog "{dir}/error.log"
LogLevel {loglevel}
{load}
{user}
TypesConfig "{dir}/mime.types"
ScriptSock "{dir}/run/cgisock"
Timeout 30
DocumentRoot "{dir}/htdocs"
DirectoryIndex index.html
# One lock file per instance: several SPs run side by side.
MellonLockFile "{dir}/run/mellon.lock"
MellonPostDirectory "{dir}/post"

<Directory "{dir}/htdocs">
    Options +ExecCGI
    Require all granted
</Directory>

<Location />
    MellonEnable info
    MellonEndpointPath /mellon
    MellonSPentityId "{entity_id}"
    MellonSPMetadataFile "{dir}/{base}.xml"
    MellonSPPrivateKeyFile "{dir}/{base}.key"
    MellonSPCertFile "{dir}/{base}.cert"
    MellonIdPMetadataFile "{dir}/idp-metadata.xml"
    MellonSignatureMethod rsa-sha256
    MellonUser NAME_ID
    # SPs on 127.0.0.1 share one cookie jar host: each needs its own cookie name.
    MellonVariable "{variable}"
{extra}
</Location>

<Location /protected>
    SetHandler cgi-script
    AuthType Mellon
    MellonEnable auth
    Require valid-user
</Location>
"""


def _metadata_basename(entity_id):
    """The file name mellon_create_metadata derives from an entity ID (its own sed rule)."""
    return re.sub(r"_+", "_", re.sub(r"[^0-9A-Za-z.]", "_", entity_id))


class MellonSP(Apache):
    """One mod_auth_mellon SP, registered in Sekisho as app `app`.

    nameid: persistent (Sekisho's default), transient or email; sign_requests: whether the SP
    metadata says AuthnRequestsSigned (mellon then signs its requests); sign_response: ask
    Sekisho to sign the whole Response; extra: more Mellon* lines for `<Location />`;
    register: run `sekisho app add-saml`; tenant: the Sekisho tenant to trust.
    """

    def __init__(self, server, app, nameid=None, sign_requests=True, sign_response=False,
                 extra=(), register=True, tenant="default"):
        if APACHE is None or CREATE_METADATA is None:
            raise RuntimeError("apache2 or mellon_create_metadata missing: "
                               "apt-get install apache2 libapache2-mod-auth-mellon")
        self.server = server
        self.app = app
        self.tenant = tenant
        super().__init__("sekisho-mellon-%s-" % app)
        try:
            self._setup(nameid, sign_requests, sign_response, extra, register)
        except BaseException:
            self.close()
            raise

    # URLs a scenario uses.
    @property
    def protected(self):
        return self.url + "/protected/env.cgi"

    @property
    def public(self):
        return self.url + "/"

    def logout_url(self, return_to=None):
        return "%s/mellon/logout?ReturnTo=%s" % (
            self.url, urllib.parse.quote(return_to or self.public, safe=""))

    def _setup(self, nameid, sign_requests, sign_response, extra, register):
        self.port = sekisho_test.free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.entity_id = self.url + "/mellon/metadata"
        self.variable = re.sub(r"[^A-Za-z0-9]", "", self.app) or "sp"
        self.base = _metadata_basename(self.entity_id)
        # apache's children run as www-data: they must be able to reach this directory.
        os.chmod(self.dir, 0o755)
        # It writes its files into the current directory, its scratch files into TMPDIR.
        r = subprocess.run([CREATE_METADATA, self.entity_id, self.url + "/mellon"],
                           cwd=self.dir, env=dict(os.environ, TMPDIR=self.dir),
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError("mellon_create_metadata failed: %s%s" % (r.stdout, r.stderr))
        self.metadata = os.path.join(self.dir, self.base + ".xml")
        if not sign_requests:
            self._rewrite_metadata('AuthnRequestsSigned="true"', 'AuthnRequestsSigned="false"')
        r = requests.get(self.server.base(self.tenant) + "/saml/metadata",
                         verify=self.server.ca, timeout=30)
        r.raise_for_status()
        self._write("idp-metadata.xml", r.content, binary=True)
        self._write("mime.types", "")
        self._write("htdocs/index.html", "<html><body>public page</body></html>\n")
        self._write("htdocs/protected/env.cgi", ENV_CGI, mode=0o755)
        for d in ("run", "post"):
            self._mkdir(d)
        self._write("apache2.conf", self._config(extra))
        # As root, apache reads the SP key and writes POST data as www-data.
        self._chown_for_apache(self.base + ".key", "post")
        self.start()
        if register:
            self.register(nameid, sign_response)

    def _rewrite_metadata(self, old, new):
        with open(self.metadata) as f:
            text = f.read()
        if old not in text:
            raise RuntimeError("%s not in %s" % (old, self.metadata))
        with open(self.metadata, "w") as f:
            f.write(text.replace(old, new))

    def _config(self, extra):
        return CONF.format(
            dir=self.dir, port=self.port, url=self.url, entity_id=self.entity_id,
            base=self.base, variable=self.variable,
            loglevel=os.environ.get("SEKISHO_MELLON_LOGLEVEL", "warn auth_mellon:info"),
            load=load_modules(LOAD),
            user=run_as(),
            extra="\n".join("    " + line for line in extra))

    def register(self, nameid=None, sign_response=False):
        args = ["app", "add-saml", self.app, "--metadata", self.metadata]
        if nameid:
            args += ["--nameid", nameid]
        if sign_response:
            args.append("--sign-response")
        return self.server.cli(*args, tenant=self.tenant)

