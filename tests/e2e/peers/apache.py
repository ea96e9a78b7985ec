"""A private apache2 on 127.0.0.1 for the end-to-end scenarios: what the mod_auth_mellon
and mod_auth_openidc peers (peers/mellon.py, peers/openidc.py) share.

Apache(prefix) owns a temporary directory; a subclass writes apache2.conf there and calls
start().  close() stops apache and removes the directory (SEKISHO_KEEP=1 keeps it); every
instance still open is closed at interpreter exit, so a failing scenario never leaves
apache behind.
"""
import atexit
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

import sekisho_test

APACHE = shutil.which("apache2", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
# Debian's module directory (apache2 -V does not name it).
MODULES = os.environ.get("SEKISHO_APACHE_MODULES", "/usr/lib/apache2/modules")

_live = []


@atexit.register
def _close_all():
    for a in list(_live):
        a.close()


def load_modules(names):
    """LoadModule lines for the modules named (mpm_event, auth_mellon, ...)."""
    return "\n".join("LoadModule %s_module %s/mod_%s.so" % (m, MODULES, m) for m in names)


def run_as():
    """As root apache must drop to www-data; otherwise it runs as us."""
    return "User www-data\nGroup www-data" if os.geteuid() == 0 else ""


def parse_env(text):
    """The NAME=value lines of a protected page as a dict."""
    env = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            env[name] = value
    return env


class Apache:
    def __init__(self, prefix):
        self.proc = None
        self.dir = tempfile.mkdtemp(prefix=prefix)
        _live.append(self)

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

    def _chown_for_apache(self, *rels):
        """As root, apache reads keys and writes its files as www-data."""
        if os.geteuid() != 0:
            return
        pw = pwd.getpwnam("www-data")
        for rel in rels:
            os.chown(os.path.join(self.dir, rel), pw.pw_uid, pw.pw_gid)

    def start(self):
        conf = os.path.join(self.dir, "apache2.conf")
        # -DFOREGROUND keeps apache our child, in its own process group, so close() can
        # stop it (and its CGI daemon) for certain.  Before ErrorLog is open, apache
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
