#!/usr/bin/env bash
# Times parsing each rpm fixture database (bytes in memory -> packages with their file lists)
# with a release build of cairn-rpmdb. The issue's bar: well under 100 ms for the largest.
# Usage: bench/rpmdb.sh [FIXTURE_DIR]   (default fixtures/pkgdb); RUNS=30 by default.
set -euo pipefail
cd "$(dirname "$0")/.."
fixtures="${1:-fixtures/pkgdb}"
if [ ! -d "$fixtures/rpm" ]; then
  echo "bench/rpmdb.sh: no rpm fixtures at $fixtures/rpm; nothing to time" >&2
  exit 0
fi
mapfile -t dbs < <(find "$fixtures/rpm" -type f \( -name rpmdb.sqlite -o -name Packages -o -name Packages.db \) -printf '%s %p\n' | sort -rn | cut -d' ' -f2-)
cargo build --release --locked -q -p cairn-rpmdb --example rpmdb-bench
target/release/examples/rpmdb-bench "${dbs[@]}"
