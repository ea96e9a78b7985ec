#!/usr/bin/python3
"""The layout the design promises, checked on the sources and the built objects.

- SAML (idp/saml/) and OpenID Connect (idp/oidc/) include nothing of each other, and the
  core (idp/) and the web front (idp/web/) include neither: what they share is the core's.
- Neither protocol's objects call a function the other defines; the core and the web front
  call neither, except the registration list (idp/protocol.c), which names each protocol's
  `struct protocol` and nothing else.
- Only idp/saml/saml.c includes lasso; only policies/store.c includes <lmdb.h>.
"""
import os
import re
import subprocess

import sekisho_test as st

SRC = st.SRCDIR
BUILD = st.BUILDDIR
GROUPS = {"saml": "idp/saml", "oidc": "idp/oidc", "core": "idp", "web": "idp/web"}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]', re.M)


def files(group, exts):
    d = os.path.join(SRC, GROUPS[group])
    return sorted(os.path.join(d, f) for f in os.listdir(d)
                  if os.path.splitext(f)[1] in exts)


def headers(group):
    return {os.path.basename(f) for f in files(group, (".h",))}


def includes(path):
    with open(path, encoding="utf-8") as f:
        return INCLUDE.findall(f.read())


def objects(group):
    d = os.path.join(BUILD, GROUPS[group])
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".o"))


def nm(path, *flags):
    out = subprocess.run(["nm", *flags, path], capture_output=True, text=True,
                         check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def defined(group):
    syms = set()
    for o in objects(group):
        syms |= nm(o, "--defined-only", "--extern-only")
    return syms


def check_includes(t):
    own = {g: headers(g) for g in GROUPS}
    forbidden = {"saml": own["oidc"], "oidc": own["saml"],
                 "core": own["saml"] | own["oidc"], "web": own["saml"] | own["oidc"]}
    for g in GROUPS:
        for path in files(g, (".c", ".h")):
            bad = sorted(set(includes(path)) & forbidden[g])
            t.ok(not bad, "%s includes nothing of another protocol"
                 % os.path.relpath(path, SRC), bad)


def check_calls(t):
    defs = {g: defined(g) for g in GROUPS}
    t.ok(defs["saml"] and defs["oidc"], "objects of both protocols are built")
    foreign = {"saml": defs["oidc"], "oidc": defs["saml"],
               "core": defs["saml"] | defs["oidc"], "web": defs["saml"] | defs["oidc"]}
    allowed = {"saml_protocol", "oidc_protocol"}
    for g in GROUPS:
        for o in objects(g):
            used = nm(o, "--undefined-only") & foreign[g]
            if g == "core" and o.endswith("protocol.o"):
                used -= allowed
            t.ok(not used, "%s calls nothing of another protocol" % os.path.basename(o),
                 sorted(used))


def check_library_users(t):
    for pattern, owner in ((r"^\s*#\s*include\s*<lasso/", "idp/saml/saml.c"),
                           (r"^\s*#\s*include\s*<lmdb\.h>", "policies/store.c")):
        users = []
        for top in ("lib", "policies", "connectors", "certs", "idp", "cli"):
            for root, _, names in os.walk(os.path.join(SRC, top)):
                for n in names:
                    if not n.endswith((".c", ".h")):
                        continue
                    p = os.path.join(root, n)
                    with open(p, encoding="utf-8") as f:
                        if re.search(pattern, f.read(), re.M):
                            users.append(os.path.relpath(p, SRC))
        t.eq(users, [owner], "only %s includes %s" % (owner, pattern.split("<")[1]))


def main():
    t = st.Tap()
    t.run("includes", check_includes, t)
    t.run("calls", check_calls, t)
    t.run("library users", check_library_users, t)
    t.done()


main()
