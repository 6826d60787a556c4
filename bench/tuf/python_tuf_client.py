#!/usr/bin/env python3
"""python-tuf ngclient behind the tuf-conformance client CLI (the same CLI
cairn's and sigstore-tuf's conformance clients speak), for the benchmark.
Equivalent to the suite's clients/python-tuf/python_tuf.py."""

import argparse
import os
import shutil
import sys

from tuf.ngclient import Updater


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--metadata-url")
    p.add_argument("--metadata-dir", required=True)
    p.add_argument("--target-name", action="append")
    p.add_argument("--target-dir")
    p.add_argument("--target-base-url")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("init").add_argument("trusted_root")
    sub.add_parser("refresh")
    sub.add_parser("download")
    a = p.parse_args()
    if a.cmd == "init":
        shutil.copyfile(a.trusted_root, os.path.join(a.metadata_dir, "root.json"))
        return 0
    up = Updater(a.metadata_dir, a.metadata_url, a.target_dir, a.target_base_url, bootstrap=None)
    up.refresh()
    if a.cmd == "download":
        for name in a.target_name:
            info = up.get_targetinfo(name)
            if info is None:
                raise RuntimeError(f"{name} not found")
            if not up.find_cached_target(info):
                up.download_target(info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
