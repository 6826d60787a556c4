#!/usr/bin/env python3
"""Generate the benchmark repository with python-tuf.

    make_repo.py OUT_DIR [--bins 16384] [--targets 1000000] [--fetched 1000]

A consistent-snapshot repository whose top-level targets delegates to BINS
hashed bins the way python-tuf's hashed-bin example does: each bin is a
delegated role with `path_hash_prefixes` (4 hex digits; 16,384 bins take 4
prefixes each), signed by one ed25519 bin key. TARGETS target files
`files/NNNNNNN.txt` (content "target N\\n") are listed in the bins; only
FETCHED of them (evenly spread) are written to OUT_DIR/targets/, because
only those are downloaded. OUT_DIR/fetched.txt lists their target paths.
Every metadata file is compact JSON, lengths are not listed in snapshot and
timestamp (clients use their default limits).
"""

import argparse
import hashlib
import json
import os
from datetime import datetime, timedelta, timezone

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--bins", type=int, default=16384)
    ap.add_argument("--targets", type=int, default=1_000_000)
    ap.add_argument("--fetched", type=int, default=1000)
    args = ap.parse_args()

    md_dir = os.path.join(args.out, "metadata")
    tg_dir = os.path.join(args.out, "targets")
    os.makedirs(md_dir, exist_ok=True)
    os.makedirs(os.path.join(tg_dir, "files"), exist_ok=True)
    expires = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=365)
    ser = JSONSerializer(compact=True)

    keys = {role: CryptoSigner.generate_ed25519() for role in
            ("root", "timestamp", "snapshot", "targets", "bins")}

    def write(md: Metadata, name: str, signer: CryptoSigner) -> None:
        md.sign(signer)
        fname = "timestamp.json" if name == "timestamp" else f"{md.signed.version}.{name}.json"
        with open(os.path.join(md_dir, fname), "wb") as f:
            f.write(md.to_bytes(ser))

    root = Root(expires=expires, consistent_snapshot=True)
    for role in ("root", "timestamp", "snapshot", "targets"):
        root.add_key(keys[role].public_key, role)
    write(Metadata(root), "root", keys["root"])

    # Bins: prefix_len hex digits, prefixes_per_bin consecutive prefixes each.
    prefix_len = len(f"{args.bins - 1:x}")
    n_prefixes = 16 ** prefix_len
    per_bin = n_prefixes // args.bins
    bin_names = []
    roles = {}
    for b in range(args.bins):
        low = b * per_bin
        prefixes = [f"{p:0{prefix_len}x}" for p in range(low, low + per_bin)]
        name = f"bin-{prefixes[0]}" if per_bin == 1 else f"bin-{prefixes[0]}-{prefixes[-1]}"
        bin_names.append(name)
        roles[name] = DelegatedRole(name, [keys["bins"].public_key.keyid], 1, False,
                                    path_hash_prefixes=prefixes)
    targets = Targets(expires=expires)
    targets.delegations = Delegations(
        keys={keys["bins"].public_key.keyid: keys["bins"].public_key}, roles=roles)

    # Assign targets to bins by the sha256 of their path.
    members: list[list[int]] = [[] for _ in range(args.bins)]
    for i in range(args.targets):
        path = f"files/{i:07d}.txt"
        prefix = int(hashlib.sha256(path.encode()).hexdigest()[:prefix_len], 16)
        members[prefix // per_bin].append(i)

    step = max(1, args.targets // args.fetched)
    fetched = [f"files/{i:07d}.txt" for i in range(step // 2, args.targets, step)][: args.fetched]
    for path in fetched:
        data = f"target {int(path[6:13])}\n".encode()
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(tg_dir, "files", f"{digest}.{path[6:]}"), "wb") as f:
            f.write(data)

    snapshot = Snapshot(expires=expires)
    for name, ids in zip(bin_names, members):
        bin_md = Targets(expires=expires)
        for i in ids:
            data = f"target {i}\n".encode()
            path = f"files/{i:07d}.txt"
            bin_md.targets[path] = TargetFile(len(data), {"sha256": hashlib.sha256(data).hexdigest()}, path)
        write(Metadata(bin_md), name, keys["bins"])
        snapshot.meta[f"{name}.json"] = MetaFile(1)
    write(Metadata(targets), "targets", keys["targets"])
    snapshot.meta["targets.json"] = MetaFile(1)
    write(Metadata(snapshot), "snapshot", keys["snapshot"])
    write(Metadata(Timestamp(expires=expires)), "timestamp", keys["timestamp"])

    with open(os.path.join(args.out, "fetched.txt"), "w") as f:
        f.write("\n".join(fetched) + "\n")
    print(json.dumps({"bins": args.bins, "targets": args.targets, "fetched": len(fetched)}))


if __name__ == "__main__":
    main()
