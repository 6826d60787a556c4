#!/usr/bin/env python3
"""The repository benchmark's operations with python-tuf's Metadata API.

    python_repo.py build LIST OUT [--bins 16384]
    python_repo.py batch LIST OUT

`build` makes a consistent-snapshot repository in OUT whose targets role
delegates to BINS classic hashed bins laid out as python-tuf's
examples/manual_repo/hashed_bin_delegation.py does (names "0000-0003", 4 hex
digit prefixes), then lists every target of LIST in its bin and signs every
bin, targets, snapshot (versions only) and timestamp, each with one ed25519
key, as cairn does for the same work. Keys go to OUT/keys.

`batch` adds the targets of LIST to an existing repository the way an
incremental upload would: it reads timestamp, snapshot and targets, finds
each target's bin through the delegations, loads only those bins, adds the
targets, bumps and re-signs them, then snapshot and timestamp.
"""

import argparse
import hashlib
import os
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives import serialization
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

SER = JSONSerializer(compact=True)
ROLES = ("root", "timestamp", "snapshot", "targets", "bins")


def read_list(path):
    with open(path) as f:
        for line in f:
            p, length, sha = line.rstrip("\n").split("\t")
            yield p, int(length), sha


def expiry(days):
    return datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=days)


def write(md_dir, md, name, signer):
    md.signatures.clear()
    md.sign(signer)
    fname = "timestamp.json" if name == "timestamp" else f"{md.signed.version}.{name}.json"
    with open(os.path.join(md_dir, fname), "wb") as f:
        f.write(md.to_bytes(SER))


def bin_layout(bins):
    prefix_len = len(f"{bins - 1:x}")
    per_bin = 16**prefix_len // bins
    out = []
    for b in range(bins):
        low, high = b * per_bin, b * per_bin + per_bin - 1
        name = f"{low:0{prefix_len}x}" if low == high else f"{low:0{prefix_len}x}-{high:0{prefix_len}x}"
        out.append((name, [f"{p:0{prefix_len}x}" for p in range(low, high + 1)]))
    return out, prefix_len, per_bin


def build(args):
    md_dir = os.path.join(args.out, "metadata")
    key_dir = os.path.join(args.out, "keys")
    os.makedirs(md_dir)
    os.makedirs(key_dir)
    keys = {r: CryptoSigner.generate_ed25519() for r in ROLES}
    for r, k in keys.items():
        pem = k._private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        with open(os.path.join(key_dir, f"{r}.pem"), "wb") as f:
            f.write(pem)
    root = Root(expires=expiry(365), consistent_snapshot=True)
    for r in ("root", "timestamp", "snapshot", "targets"):
        root.add_key(keys[r].public_key, r)
    write(md_dir, Metadata(root), "root", keys["root"])

    layout, prefix_len, per_bin = bin_layout(args.bins)
    targets = Targets(expires=expiry(365))
    targets.delegations = Delegations(
        keys={keys["bins"].public_key.keyid: keys["bins"].public_key},
        roles={
            name: DelegatedRole(name, [keys["bins"].public_key.keyid], 1, False, path_hash_prefixes=prefixes)
            for name, prefixes in layout
        },
    )
    bins = [Targets(expires=expiry(90)) for _ in layout]
    for path, length, sha in read_list(args.list):
        prefix = int(hashlib.sha256(path.encode()).hexdigest()[:prefix_len], 16)
        bins[prefix // per_bin].targets[path] = TargetFile(length, {"sha256": sha}, path)
    snapshot = Snapshot(expires=expiry(7))
    for (name, _), b in zip(layout, bins):
        write(md_dir, Metadata(b), name, keys["bins"])
        snapshot.meta[f"{name}.json"] = MetaFile(1)
    write(md_dir, Metadata(targets), "targets", keys["targets"])
    snapshot.meta["targets.json"] = MetaFile(1)
    write(md_dir, Metadata(snapshot), "snapshot", keys["snapshot"])
    ts = Timestamp(expires=expiry(1))
    write(md_dir, Metadata(ts), "timestamp", keys["timestamp"])


def load_signer(key_dir, role):
    with open(os.path.join(key_dir, f"{role}.pem"), "rb") as f:
        pk = serialization.load_pem_private_key(f.read(), None)
    return CryptoSigner(pk)


def batch(args):
    md_dir = os.path.join(args.out, "metadata")
    key_dir = os.path.join(args.out, "keys")
    ts = Metadata.from_file(os.path.join(md_dir, "timestamp.json"))
    snap_v = ts.signed.snapshot_meta.version
    snap = Metadata.from_file(os.path.join(md_dir, f"{snap_v}.snapshot.json"))
    tv = snap.signed.meta["targets.json"].version
    top = Metadata.from_file(os.path.join(md_dir, f"{tv}.targets.json"))
    delegations = top.signed.delegations
    by_prefix = {}
    for role in delegations.roles.values():
        for p in role.path_hash_prefixes:
            by_prefix[p] = role.name
    plen = len(next(iter(by_prefix)))
    touched = {}
    for path, length, sha in read_list(args.list):
        name = by_prefix[hashlib.sha256(path.encode()).hexdigest()[:plen]]
        if name not in touched:
            v = snap.signed.meta[f"{name}.json"].version
            touched[name] = Metadata.from_file(os.path.join(md_dir, f"{v}.{name}.json"))
        touched[name].signed.targets[path] = TargetFile(length, {"sha256": sha}, path)
    bins_key = load_signer(key_dir, "bins")
    for name, md in touched.items():
        md.signed.version += 1
        md.signed.expires = expiry(90)
        write(md_dir, md, name, bins_key)
        snap.signed.meta[f"{name}.json"].version = md.signed.version
    snap.signed.version += 1
    snap.signed.expires = expiry(7)
    write(md_dir, snap, "snapshot", load_signer(key_dir, "snapshot"))
    ts.signed.snapshot_meta = MetaFile(snap.signed.version)
    ts.signed.version += 1
    ts.signed.expires = expiry(1)
    write(md_dir, ts, "timestamp", load_signer(key_dir, "timestamp"))
    print(f"python-tuf: {len(touched)} bins re-signed")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("op", choices=["build", "batch"])
    ap.add_argument("list")
    ap.add_argument("out")
    ap.add_argument("--bins", type=int, default=16384)
    args = ap.parse_args()
    build(args) if args.op == "build" else batch(args)


if __name__ == "__main__":
    main()
