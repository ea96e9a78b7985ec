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
import atexit
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse

import requests

import sekisho_test

APACHE = shutil.which("apache2", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
CREATE_METADATA = shutil.which("mellon_create_metadata",
                               path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
# Debian's module directory (apache2 -V does not name it).
MODULES = os.environ.get("SEKISHO_APACHE_MODULES", "/usr/lib/apache2/modules")

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


_live = []


@atexit.register
def _close_all():
    for sp in list(_live):
        sp.close()


class MellonSP:
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
        self.proc = None
        self.dir = tempfile.mkdtemp(prefix="sekisho-mellon-%s-" % app)
        _live.append(self)
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
        self._chown_for_apache()
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

    def _mkdir(self, rel):
        """A directory www-data can enter, whatever the umask."""
        path = self.dir
        for part in rel.split("/"):
            path = os.path.join(path, part)
            os.makedirs(path, exist_ok=True)
            os.chmod(path, 0o755)

    def _write(self, rel, content, binary=False, mode=0o644):
        path = os.path.join(self.dir, rel)
        if os.path.dirname(rel):
            self._mkdir(os.path.dirname(rel))
        with open(path, "wb" if binary else "w") as f:
            f.write(content)
        os.chmod(path, mode)
        return path

    def _config(self, extra):
        as_root = os.geteuid() == 0
        return CONF.format(
            dir=self.dir, port=self.port, url=self.url, entity_id=self.entity_id,
            base=self.base, variable=self.variable,
            loglevel=os.environ.get("SEKISHO_MELLON_LOGLEVEL", "warn auth_mellon:info"),
            load="\n".join("LoadModule %s_module %s/mod_%s.so" % (m, MODULES, m)
                           for m in LOAD),
            user="User www-data\nGroup www-data" if as_root else "",
            extra="\n".join("    " + line for line in extra))

    def _chown_for_apache(self):
        """As root, apache reads the SP key and writes POST data as www-data."""
        if os.geteuid() != 0:
            return
        pw = pwd.getpwnam("www-data")
        for rel in (self.base + ".key", "post"):
            os.chown(os.path.join(self.dir, rel), pw.pw_uid, pw.pw_gid)

    def register(self, nameid=None, sign_response=False):
        args = ["app", "add-saml", self.app, "--metadata", self.metadata]
        if nameid:
            args += ["--nameid", nameid]
        if sign_response:
            args.append("--sign-response")
        return self.server.cli(*args, tenant=self.tenant)

    def start(self):
        conf = os.path.join(self.dir, "apache2.conf")
        # -DFOREGROUND keeps apache our child, in its own process group, so close()
        # can stop it (and its CGI daemon) for certain.  Before ErrorLog is open, apache
        # complains on stderr.
        with open(os.path.join(self.dir, "startup.log"), "ab") as out:
            self.proc = subprocess.Popen([APACHE, "-f", conf, "-k", "start", "-DFOREGROUND"],
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                         start_new_session=True)
        end = time.time() + 20
        while time.time() < end:
            if self.proc.poll() is not None:
                self.proc = None
                raise RuntimeError("apache2 exited:\n%s" % self.error_log())
            if sekisho_test.wait_port(self.port, timeout=0.2):
                return
        raise RuntimeError("apache2 did not listen on %d:\n%s" % (self.port, self.error_log()))

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        # A CGI child may outlive the parent by a moment; the group is ours alone.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc = None

    def error_log(self):
        """apache's start-up complaints and its error log."""
        text = ""
        for name in ("startup.log", "error.log"):
            try:
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    text += f.read()
            except OSError:
                pass
        return text

    def close(self):
        self.stop()
        if self in _live:
            _live.remove(self)
        if os.environ.get("SEKISHO_KEEP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)


def parse_env(text):
    """The NAME=value lines of the protected page as a dict."""
    env = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            env[name] = value
    return env
