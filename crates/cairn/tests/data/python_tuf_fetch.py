#!/usr/bin/env python3
"""Fetch targets from a TUF repository over HTTP with python-tuf's ngclient.

    python_tuf_fetch.py ROOT METADATA_URL TARGETS_URL TARGET...

The client trusts ROOT, refreshes, and downloads each TARGET with its default
(urllib3) fetcher; for each it prints "TARGET <sha256 of the bytes>". Any
verification failure raises and exits non-zero.
"""

import hashlib
import os
import shutil
import sys
import tempfile

from tuf.ngclient import Updater


def main() -> int:
    root, metadata_url, targets_url, *targets = sys.argv[1:]
    work = tempfile.mkdtemp()
    try:
        md = os.path.join(work, "metadata")
        dl = os.path.join(work, "downloads")
        os.makedirs(md)
        os.makedirs(dl)
        shutil.copy(root, os.path.join(md, "root.json"))
        up = Updater(md, metadata_url.rstrip("/") + "/", dl, targets_url.rstrip("/") + "/", bootstrap=None)
        up.refresh()
        for t in targets:
            info = up.get_targetinfo(t)
            if info is None:
                print(f"{t} NOT FOUND")
                return 1
            path = up.download_target(info)
            with open(path, "rb") as f:
                print(t, hashlib.sha256(f.read()).hexdigest())
        return 0
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    sys.exit(main())
