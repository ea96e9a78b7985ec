"""apache2 + mod_auth_openidc as an OpenID Connect relying party, for the end-to-end scenarios.

OidcRP(server, app) makes a private apache2 instance on 127.0.0.1 in its own temporary
directory, registers it in Sekisho with `sekisho app add-oidc` (client_secret_basic by
default, or private_key_jwt with an RSA key made here) and configures mod_auth_openidc from
Sekisho's discovery document, trusting Sekisho's TLS certificate and nothing else.  Behind
`AuthType openid-connect` a CGI page prints REMOTE_USER and every OIDC_* variable (claims,
the serialized ID token, the access token).  The redirect URI also answers the module's
info hook (`?info=json`), RP-initiated logout (`?logout=URL`) and back-channel logout
(`?logout=backchannel`).  close() stops apache and removes the directory; it also runs at
interpreter exit, so a failing scenario never leaves apache behind.

Nothing here is a modified mod_auth_openidc: only its documented directives are used.
Environment: SEKISHO_KEEP=1 keeps the directory (error.log is there);
SEKISHO_OIDC_LOGLEVEL sets apache's LogLevel ("warn auth_openidc:debug" to see it think).
"""
import json
import os
import secrets
import urllib.parse

from jwcrypto import jwk

import sekisho_test
from peers.apache import APACHE, MODULES, Apache, load_modules, run_as
from peers.apache import parse_env  # noqa: F401  (the scenarios import it from here)


LOAD = ["mpm_event", "authz_core", "authn_core", "authz_user", "mime", "dir", "env", "cgid",
        "auth_openidc"]

SCOPE = "openid email profile groups"

# The page behind mod_auth_openidc: one NAME=value line per variable, sorted.
ENV_CGI = r"""#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
printf 'REMOTE_USER=%s\n' "$REMOTE_USER"
env | grep '^OIDC_' | LC_ALL=C sort
"""

CONF = """\
# A private apache2 for one mod_auth_openidc RP (written by tests/e2e/peers/openidc.py).
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

<Directory "{dir}/htdocs">
    Options +ExecCGI
    Require all granted
</Directory>

OIDCProviderMetadataURL "{issuer}/.well-known/openid-configuration"
OIDCCABundlePath "{ca}"
OIDCSSLValidateServer On
OIDCClientID "{client_id}"
{client_auth}
OIDCRedirectURI "{redirect_uri}"
OIDCCryptoPassphrase "{passphrase}"
OIDCScope "{scope}"
OIDCPKCEMethod S256
OIDCRemoteUserClaim sub
OIDCPassIDTokenAs claims serialized
OIDCPassClaimsAs environment
OIDCInfoHook iat access_token access_token_expires id_token userinfo refresh_token exp session
OIDCDefaultLoggedOutURL "{url}/loggedout.html"
OIDCCacheType shm
OIDCCookie "{cookie}"
# Abandoned logins leave state cookies behind in a test's jar: drop the oldest.
OIDCStateMaxNumberOfCookies 7 true
{extra}

<Location /protected>
    SetHandler cgi-script
    AuthType openid-connect
    Require valid-user
</Location>
"""

def rsa_client_key():
    """A fresh RSA key for private_key_jwt: (private PEM, public PEM, public JWKS as JSON).

    mod_auth_openidc's default kid is its own hash of the modulus, not the RFC 7638
    thumbprint; the configuration names the kid explicitly, so both sides agree on it."""
    key = jwk.JWK.generate(kty="RSA", size=2048)
    kid = key.thumbprint()
    pub = json.loads(key.export_public())
    pub.update(kid=kid, use="sig", alg="RS256")
    return (key.export_to_pem(private_key=True, password=None).decode(),
            key.export_to_pem().decode(), kid, json.dumps({"keys": [pub]}))


class OidcRP(Apache):
    """One mod_auth_openidc RP, registered in Sekisho as app `app`.

    auth: client_secret_basic, client_secret_post or private_key_jwt; id_token_alg: RS256
    (Sekisho's default when None) or ES256; backchannel: register
    `<redirect_uri>?logout=backchannel` as the back-channel logout URI; extra: more
    directives for the server config."""

    def __init__(self, server, app, auth="client_secret_basic", id_token_alg=None,
                 backchannel=False, extra=(), tenant="default"):
        if APACHE is None or not os.path.exists(os.path.join(MODULES, "mod_auth_openidc.so")):
            raise RuntimeError("apache2 or mod_auth_openidc missing: "
                               "apt-get install apache2 libapache2-mod-auth-openidc")
        self.server = server
        self.app = app
        self.tenant = tenant
        self.auth = auth
        self.client_id = None
        self.client_secret = None
        self.kid = self.jwks_file = None
        super().__init__("sekisho-openidc-%s-" % app)
        try:
            self._setup(id_token_alg, backchannel, extra)
        except BaseException:
            self.close()
            raise

    # URLs a scenario uses.
    @property
    def protected(self):
        return self.url + "/protected/env.cgi"

    @property
    def logged_out(self):
        return self.url + "/loggedout.html"

    def info_url(self, refresh=False):
        """The info hook: the session's tokens and claims as JSON.  refresh: make the module
        refresh the access token first (its refresh interval 0 is always due)."""
        return self.redirect_uri + "?info=json" + (
            "&access_token_refresh_interval=0" if refresh else "")

    def logout_url(self, return_to=None):
        """RP-initiated logout: the module ends its session and sends the browser to
        Sekisho's end_session_endpoint with id_token_hint and return_to."""
        return "%s?logout=%s" % (self.redirect_uri,
                                 urllib.parse.quote(return_to or self.logged_out, safe=""))

    def _setup(self, id_token_alg, backchannel, extra):
        self.port = sekisho_test.free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.redirect_uri = self.url + "/protected/redirect_uri"
        self.backchannel_uri = self.redirect_uri + "?logout=backchannel" if backchannel else None
        self.issuer = self.server.base(self.tenant)
        # RPs on 127.0.0.1 share one cookie jar host: each needs its own session cookie.
        self.cookie = "oidc_" + "".join(ch for ch in self.app if ch.isalnum())
        # apache's children run as www-data: they must be able to reach this directory.
        os.chmod(self.dir, 0o755)
        # Sekisho's directory is private to root: the module gets its own copy of the CA.
        with open(self.server.ca) as f:
            self.ca = self._write("sekisho-ca.pem", f.read())
        client_auth = self._register(id_token_alg)
        self._write("mime.types", "")
        self._write("htdocs/index.html", "<html><body>public page</body></html>\n")
        self._write("htdocs/loggedout.html", "<html><body>logged out of %s</body></html>\n"
                    % self.app)
        self._write("htdocs/protected/env.cgi", ENV_CGI, mode=0o755)
        self._mkdir("run")
        self._write("apache2.conf", self._config(client_auth, extra))
        self.start()

    def _register(self, id_token_alg):
        """sekisho app add-oidc; returns the client authentication directives."""
        args = ["app", "add-oidc", self.app, "--redirect-uri", self.redirect_uri,
                "--post-logout-redirect-uri", self.logged_out, "--auth", self.auth]
        if id_token_alg:
            args += ["--id-token-alg", id_token_alg]
        if self.backchannel_uri:
            args += ["--backchannel-logout-uri", self.backchannel_uri]
        directives = []
        if self.auth == "private_key_jwt":
            private, public, self.kid, jwks = rsa_client_key()
            key = self._write("client.key", private, mode=0o600)
            pub = self._write("client.pub", public)
            self.jwks_file = self._write("client.jwks", jwks)
            args += ["--jwks", self.jwks_file]
            self._chown_for_apache(key)
            # The key files before the auth method: the module refuses private_key_jwt
            # until it has a private key.
            directives += ['OIDCPrivateKeyFiles "%s#%s"' % (self.kid, key),
                           'OIDCPublicKeyFiles "%s#%s"' % (self.kid, pub)]
        out = self.server.cli(*args, tenant=self.tenant).stdout
        for line in out.splitlines():
            name, sep, value = line.partition("=")
            if sep and name == "client_id":
                self.client_id = value
            elif sep and name == "client_secret":
                self.client_secret = value
        if not self.client_id or (self.auth.startswith("client_secret") and
                                  not self.client_secret):
            raise RuntimeError("app add-oidc printed no client credentials: %s" % out)
        if self.client_secret:
            directives.append('OIDCClientSecret "%s"' % self.client_secret)
        directives.append("OIDCProviderTokenEndpointAuth %s" % self.auth)
        return "\n".join(directives)

    def _config(self, client_auth, extra):
        return CONF.format(
            dir=self.dir, port=self.port, url=self.url, issuer=self.issuer,
            ca=self.ca, client_id=self.client_id, client_auth=client_auth,
            redirect_uri=self.redirect_uri, passphrase=secrets.token_hex(16), scope=SCOPE,
            cookie=self.cookie,
            loglevel=os.environ.get("SEKISHO_OIDC_LOGLEVEL", "warn"),
            load=load_modules(LOAD),
            user=run_as(),
            extra="\n".join(extra))

