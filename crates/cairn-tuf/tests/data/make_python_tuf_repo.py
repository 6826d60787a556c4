#!/usr/bin/env python3
"""Generate the python-tuf fixture repository used by cairn-tuf's interop tests.

Run from anywhere with a Python that has `tuf` (see scripts/requirements.txt):

    .venv/bin/python crates/cairn-tuf/tests/data/make_python_tuf_repo.py

It rewrites crates/cairn-tuf/tests/data/python-tuf/ with a consistent-snapshot
repository signed by python-tuf (securesystemslib CryptoSigner) using every
key type the TUF specification names:

  root       ed25519 + rsassa-pss-sha256, threshold 2, rotated once (1.root.json -> 2.root.json)
  timestamp  ecdsa-sha2-nistp256
  snapshot   ecdsa-sha2-nistp384
  targets    rsassa-pss-sha512
  delegations from targets (in this order):
    docs      paths ["docs/*", "*.md"], rsassa-pss-sha384
    hashed    paths ["hashed/*"], ed25519; delegates to 16 hashed bins
              hbin-0..hbin-f by path_hash_prefixes (one hex digit each)
    succinct  paths ["succinct/*"], ed25519; TAP 15 succinct_roles with
              bit_length 4 and name_prefix "sbin" (sbin-0..sbin-f)

Unknown fields are added to root, a key, a target and a delegated role: they
are signed bytes and must survive. One target path is not in Unicode NFC.
The files are the output of this script; the keys are thrown away.
"""

import hashlib
import json
import os
import shutil
from datetime import datetime, timezone

from cryptography.hazmat.primitives.asymmetric import ec
from securesystemslib.signer import CryptoSigner, SSlibKey
from tuf.api.metadata import (
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    SuccinctRoles,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "python-tuf")
EXPIRES = datetime(2099, 1, 1, tzinfo=timezone.utc)


def p384_signer() -> CryptoSigner:
    private = ec.generate_private_key(ec.SECP384R1())
    public = SSlibKey.from_crypto(private.public_key(), scheme="ecdsa-sha2-nistp384")
    return CryptoSigner(private, public)


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(os.path.join(OUT, "metadata"))
    os.makedirs(os.path.join(OUT, "targets"))

    root_ed = CryptoSigner.generate_ed25519()
    root_rsa = CryptoSigner.generate_rsa(scheme="rsassa-pss-sha256")
    root_new = CryptoSigner.generate_ed25519()
    ts = CryptoSigner.generate_ecdsa()
    sn = p384_signer()
    tg = CryptoSigner.generate_rsa(scheme="rsassa-pss-sha512")
    docs = CryptoSigner.generate_rsa(scheme="rsassa-pss-sha384")
    hashed = CryptoSigner.generate_ed25519()
    bins = CryptoSigner.generate_ed25519()
    succ = CryptoSigner.generate_ed25519()
    sbins = CryptoSigner.generate_ed25519()

    serializer = JSONSerializer(compact=False)
    written: dict[str, Metadata] = {}

    def write(md: Metadata, name: str, signers: list) -> None:
        md.signatures.clear()
        for s in signers:
            md.sign(s, append=True)
        data = md.to_bytes(serializer)
        if name == "timestamp":
            fname = "timestamp.json"
        else:
            fname = f"{md.signed.version}.{name}.json"
        with open(os.path.join(OUT, "metadata", fname), "wb") as f:
            f.write(data)
        written[name] = md

    artifacts: dict[str, bytes] = {}

    def add_target(targets: Targets, path: str, data: bytes, custom=None) -> None:
        tf = TargetFile.from_data(path, data, ["sha256", "sha512"])
        if custom is not None:
            tf.unrecognized_fields["custom"] = custom
        targets.targets[path] = tf
        artifacts[path] = data

    # Root v1
    root = Root(expires=EXPIRES, consistent_snapshot=True)
    for role, signer in [("root", root_ed), ("root", root_rsa), ("timestamp", ts),
                         ("snapshot", sn), ("targets", tg)]:
        root.add_key(signer.public_key, role)
    root.roles["root"].threshold = 2
    root.unrecognized_fields["x-cairn-unknown"] = {"nested": [1, "two", None, True]}
    root_md = Metadata(root)
    write(root_md, "root", [root_ed, root_rsa])

    # Root v2: threshold 2 of (ed25519, rsa, new ed25519) signed by old and new.
    root.version = 2
    root.add_key(root_new.public_key, "root")
    root.keys[tg.public_key.keyid].unrecognized_fields["x-key-note"] = "kept"
    write(root_md, "root", [root_ed, root_rsa, root_new])

    # Top-level targets and its delegations.
    targets = Targets(expires=EXPIRES)
    add_target(targets, "hello.txt", b"hello from python-tuf\n")
    add_target(targets, "dir/nested.txt", b"nested\n", custom={"mode": "0644", "tags": ["a"]})
    # Not in Unicode NFC ("e" + combining acute accent): canonical JSON must
    # keep the bytes as they are, as securesystemslib does.
    add_target(targets, "unicode/cafe\u0301.txt", b"decomposed\n", custom={"note": "e\u0301"})
    roles = {
        "docs": DelegatedRole("docs", [], 1, False, paths=["docs/*", "*.md"],
                              unrecognized_fields={"x-role-note": 7}),
        "hashed": DelegatedRole("hashed", [], 1, True, paths=["hashed/*"]),
        "succinct": DelegatedRole("succinct", [], 1, False, paths=["succinct/*"]),
    }
    targets.delegations = Delegations(keys={}, roles=roles)
    for name, signer in [("docs", docs), ("hashed", hashed), ("succinct", succ)]:
        targets.add_key(signer.public_key, name)

    docs_md = Targets(expires=EXPIRES)
    add_target(docs_md, "docs/guide.txt", b"the guide\n")
    add_target(docs_md, "README.md", b"# readme\n")

    # Hashed bins under "hashed": 16 roles by first hex digit of sha256(path).
    hashed_md = Targets(expires=EXPIRES)
    bin_roles = {}
    for i in range(16):
        name = f"hbin-{i:x}"
        bin_roles[name] = DelegatedRole(name, [], 1, False, path_hash_prefixes=[f"{i:x}"])
    hashed_md.delegations = Delegations(keys={}, roles=bin_roles)
    for name in bin_roles:
        hashed_md.add_key(bins.public_key, name)
    bin_mds = {name: Targets(expires=EXPIRES) for name in bin_roles}
    for i in range(24):
        path = f"hashed/file-{i}.bin"
        digit = hashlib.sha256(path.encode()).hexdigest()[0]
        add_target(bin_mds[f"hbin-{digit}"], path, f"hashed content {i}\n".encode())

    # Succinct hash bins under "succinct".
    succ_md = Targets(expires=EXPIRES)
    succinct = SuccinctRoles([], 1, 4, "sbin")
    succ_md.delegations = Delegations(keys={}, succinct_roles=succinct)
    succ_md.add_key(sbins.public_key)
    sbin_mds = {name: Targets(expires=EXPIRES) for name in succinct.get_roles()}
    for i in range(24):
        path = f"succinct/file-{i}.bin"
        add_target(sbin_mds[succinct.get_role_for_target(path)], path,
                   f"succinct content {i}\n".encode())

    write(Metadata(targets), "targets", [tg])
    write(Metadata(docs_md), "docs", [docs])
    write(Metadata(hashed_md), "hashed", [hashed])
    write(Metadata(succ_md), "succinct", [succ])
    for name, md in bin_mds.items():
        write(Metadata(md), name, [bins])
    for name, md in sbin_mds.items():
        write(Metadata(md), name, [sbins])

    snapshot = Snapshot(expires=EXPIRES)
    for name, md in written.items():
        if name != "root":
            snapshot.meta[f"{name}.json"] = MetaFile(md.signed.version)
    snap_md = Metadata(snapshot)
    write(snap_md, "snapshot", [sn])
    snap_bytes = snap_md.to_bytes(serializer)

    timestamp = Timestamp(expires=EXPIRES)
    timestamp.snapshot_meta = MetaFile(
        1, length=len(snap_bytes), hashes={"sha256": hashlib.sha256(snap_bytes).hexdigest()}
    )
    write(Metadata(timestamp), "timestamp", [ts])

    # Consistent-snapshot targets: HASH.NAME for every listed hash.
    for path, data in artifacts.items():
        dirname, _, base = path.rpartition("/")
        d = os.path.join(OUT, "targets", dirname)
        os.makedirs(d, exist_ok=True)
        for algo in ("sha256", "sha512"):
            h = hashlib.new(algo, data).hexdigest()
            with open(os.path.join(d, f"{h}.{base}"), "wb") as f:
                f.write(data)

    with open(os.path.join(OUT, "targets.list"), "w") as f:
        json.dump(sorted(artifacts), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
