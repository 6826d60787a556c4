#!/usr/bin/env python3
"""Write a target list for the repository benchmark.

    gen_list.py N [--start S] > LIST

One `PATH<TAB>LENGTH<TAB>SHA256` line per target, for targets S..S+N-1:
`files/NNNNNNNN.txt` with content "target N\\n" (the hashes are real; only
the files of targets that are fetched need to exist).
"""

import hashlib
import sys


def main() -> None:
    n = int(sys.argv[1])
    start = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--start" else 0
    out = sys.stdout
    for i in range(start, start + n):
        data = f"target {i}\n".encode()
        out.write(f"files/{i:08d}.txt\t{len(data)}\t{hashlib.sha256(data).hexdigest()}\n")


if __name__ == "__main__":
    main()
