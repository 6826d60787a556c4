#!/usr/bin/env python3
"""Verify a repository written by cairn with python-tuf's ngclient.

    verify_with_python_tuf.py REPO_DIR BASE_URL TARGET...

REPO_DIR holds the files of a repository served at BASE_URL (paths exactly as
in the URLs, role names already percent-encoded): metadata/ and targets/.
The client is initialized with metadata/1.root.json, refreshes, and downloads
each TARGET; for each it prints "TARGET <sha256 of the downloaded bytes>".
A verification failure raises and exits non-zero.
"""

import hashlib
import os
import shutil
import sys
import tempfile

from tuf.api import exceptions
from tuf.ngclient import FetcherInterface, Updater


class DirFetcher(FetcherInterface):
    def __init__(self, repo_dir: str, base_url: str) -> None:
        self.repo_dir = repo_dir
        self.base_url = base_url

    def _fetch(self, url: str):
        if not url.startswith(self.base_url):
            raise exceptions.DownloadHTTPError(f"unexpected url {url}", 404)
        path = os.path.join(self.repo_dir, url[len(self.base_url):])
        if not os.path.isfile(path):
            raise exceptions.DownloadHTTPError(f"not found: {url}", 404)
        with open(path, "rb") as f:
            return iter([f.read()])


def main() -> int:
    repo_dir, base_url, *targets = sys.argv[1:]
    work = tempfile.mkdtemp()
    try:
        md_dir = os.path.join(work, "metadata")
        dl_dir = os.path.join(work, "downloads")
        os.makedirs(md_dir)
        os.makedirs(dl_dir)
        shutil.copy(os.path.join(repo_dir, "metadata", "1.root.json"),
                    os.path.join(md_dir, "root.json"))
        updater = Updater(md_dir, base_url + "metadata/", dl_dir, base_url + "targets/",
                          fetcher=DirFetcher(repo_dir, base_url), bootstrap=None)
        updater.refresh()
        for name in targets:
            info = updater.get_targetinfo(name)
            if info is None:
                raise RuntimeError(f"{name}: not found by python-tuf")
            path = updater.download_target(info)
            with open(path, "rb") as f:
                print(name, hashlib.sha256(f.read()).hexdigest())
    finally:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
