"""What the tests of tenant export, import and erase share: the raw content of the
database (mdb_dump from lmdb-utils), and a tenant's part of it."""
import os
import subprocess

# A SAML service provider for the tenants the tests make.
SP_MD = ('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
         'entityID="https://sp.example.com/acme"><md:SPSSODescriptor '
         'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
         '<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:'
         'HTTP-POST" Location="https://sp.example.com/acs" index="0"/>'
         '</md:SPSSODescriptor></md:EntityDescriptor>')


def raw_dump(srv):
    """{(database, key bytes): value bytes} of every named database (mdb_dump -a)."""
    r = subprocess.run(["mdb_dump", "-a", os.path.join(srv.dir, "data")],
                       capture_output=True, text=True, check=True)
    out, db, header, pending = {}, None, True, None
    for line in r.stdout.splitlines():
        if line.startswith("database="):
            db = line[len("database="):]
        elif line == "HEADER=END":
            header = False
        elif line == "DATA=END":
            header, pending = True, None
        elif not header and line.startswith(" "):
            if pending is None:
                pending = bytes.fromhex(line[1:])
            else:
                out[(db, pending)] = bytes.fromhex(line[1:])
                pending = None
    return out


def of_tenant(dump, tenant):
    """The entries of dump that are tenant's: keys starting with "T\\0", or "\\0T"."""
    p, rec = tenant.encode() + b"\0", b"\0" + tenant.encode()
    return {k: v for k, v in dump.items() if k[1].startswith(p) or k[1] == rec}
