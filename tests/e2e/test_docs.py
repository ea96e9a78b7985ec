"""Documentation stays true: every key of the settings table is documented in
sekishod.conf(5), every documented key exists, the man pages render without warnings,
and `sekisho` mentions every command its manual lists."""
import os
import re
import subprocess

import sekisho_test as st

t = st.Tap()
with open(os.path.join(st.SRCDIR, "idp", "settings.c")) as f:
    code_keys = set(re.findall(r'^\s*S\("([a-z_0-9]+)"', f.read(), re.M))
with open(os.path.join(st.SRCDIR, "docs", "sekishod.conf.5")) as f:
    doc_keys = set(re.findall(r"^\.It Ic ([a-z_0-9]+)", f.read(), re.M))
t.ok(len(code_keys) > 20, "settings table found (%d keys)" % len(code_keys))
t.eq(sorted(code_keys - doc_keys), [], "every setting is documented in sekishod.conf.5")
t.eq(sorted(doc_keys - code_keys), [], "every documented setting exists")
for page in ("sekishod.8", "sekisho.8", "sekishod.conf.5"):
    r = subprocess.run(["mandoc", "-T", "lint", "-W", "warning",
                        os.path.join(st.SRCDIR, "docs", page)], capture_output=True, text=True)
    if r.returncode == 127 or "not found" in r.stderr:
        r = subprocess.run(["groff", "-man", "-ww", "-z",
                            os.path.join(st.SRCDIR, "docs", page)], capture_output=True,
                           text=True)
    t.ok(r.returncode == 0 and not r.stderr.strip() and not r.stdout.strip(),
         "%s renders without warnings" % page, r.stdout + r.stderr)
usage = subprocess.run([st.SEKISHO, "--help"], capture_output=True, text=True).stderr
with open(os.path.join(st.SRCDIR, "docs", "sekisho.8")) as f:
    manual = f.read()
for cmd in re.findall(r"^\.It Ic ([a-z]+ [a-z-]+)", manual, re.M):
    t.ok(cmd in usage, "sekisho usage lists \"%s\"" % cmd)
t.done()
