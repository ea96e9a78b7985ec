"""Documentation stays true: every key of the settings table is documented in
sekishod.conf(5), every documented key exists, the man pages render without warnings,
`sekisho` mentions every command its manual lists, and every option either program's
usage shows is in its manual (and every option sekisho(8) names is in the usage)."""
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
for page in ("sekishod.8", "sekisho.8", "sekishod.conf.5", "sekisho-api.7",
             "sekisho-templates.5", "sekisho-export.5"):
    r = subprocess.run(["mandoc", "-T", "lint", "-W", "warning",
                        os.path.join(st.SRCDIR, "docs", page)], capture_output=True, text=True)
    if r.returncode == 127 or "not found" in r.stderr:
        r = subprocess.run(["groff", "-man", "-ww", "-z",
                            os.path.join(st.SRCDIR, "docs", page)], capture_output=True,
                           text=True)
    t.ok(r.returncode == 0 and not r.stderr.strip() and not r.stdout.strip(),
         "%s renders without warnings" % page, r.stdout + r.stderr)
r = subprocess.run([st.SEKISHO, "--help"], capture_output=True, text=True)
usage = r.stdout
t.ok(r.returncode == 0 and "commands:" in usage and not r.stderr,
     "sekisho --help prints the usage on standard output", r)
with open(os.path.join(st.SRCDIR, "docs", "sekisho.8")) as f:
    manual = f.read()
for cmd in re.findall(r"^\.It Ic ([a-z]+ [a-z-]+)", manual, re.M):
    t.ok(cmd in usage, "sekisho usage lists \"%s\"" % cmd)
usage_opts = set(re.findall(r"(--[a-z][a-z0-9-]*)", usage))
manual_opts = set("--" + o for o in re.findall(r"Fl -([a-z][a-z0-9-]*)", manual))
t.ok(len(usage_opts) > 30, "sekisho usage options found (%d)" % len(usage_opts))
t.eq(sorted(usage_opts - manual_opts), [], "every option in sekisho's usage is in sekisho.8")
t.eq(sorted(manual_opts - usage_opts), [], "every option sekisho.8 names is in the usage")
r = subprocess.run([st.SEKISHOD, "--help"], capture_output=True, text=True)
with open(os.path.join(st.SRCDIR, "docs", "sekishod.8")) as f:
    dmanual = f.read()
dopts = set(re.findall(r"(?<![a-z])(--?[a-z][a-z-]*)", r.stdout))
t.ok(r.returncode == 0 and "--dir" in dopts and "--version" in dopts,
     "sekishod --help prints the usage on standard output", r)
missing = [o for o in sorted(dopts)
           if not re.search(r"Fl %s(\s|$)" % re.escape(o[1:]), dmanual)
           and not (len(o) == 2 and re.search(r"Op Fl [a-z]*%s" % o[1], dmanual))]
t.eq(missing, [], "every option in sekishod's usage is in sekishod.8")
t.done()
