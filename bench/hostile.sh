#!/usr/bin/env bash
# Hostile-input benchmark: the inputs of the Hardening issue at full size, built by
# fixtures/hostile.py into bench/work/hostile/ (never committed), each scanned by the
# release build of cairn and, where it is installed, by Syft, with wall time and peak RSS
# (GNU time) and cairn's exit code. Targets: the 2 MB deep .list path scans in under 10 s;
# the apk and rpm name amplifications and a layer of 3 million empty files stay under
# 1 GiB peak RSS (the amplified SBOMs marked incomplete, exit 1); the language files of
# lang-hostile (a jar inflating to 4 GiB, one nested 50 deep, damaged jars, gemspec,
# installed.json, deps.json) are warnings, with memory bounded by the archive limits.
#
#   bench/hostile.sh            # all cases
#   CASES="deep-list" bench/hostile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="$PWD/bench/work/hostile"
CASES="${CASES:-deep-list apk-amplify rpm-amplify empty-files lang-hostile}"
mkdir -p "$WORK"
cargo build --release -q -p cairn
CAIRN="$PWD/target/release/cairn"
SYFT="$(command -v syft || true)"
[ -z "$SYFT" ] && [ -x /tmp/syft-venv/bin/syft ] && SYFT=/tmp/syft-venv/bin/syft

measure() { # measure LABEL CMD...: one run; prints wall time, peak RSS and exit code
  local label=$1; shift
  local rc=0
  /usr/bin/time -f '%e %M' -o "$WORK/time.out" "$@" >"$WORK/out.json" 2>"$WORK/stderr.out" || rc=$?
  read -r t m < <(tail -n 1 "$WORK/time.out")
  printf '%-28s %8.2f s %8.0f MiB  exit %s\n' "$label" "$t" "$((m / 1024))" "$rc"
}

for c in $CASES; do
  src="$WORK/$c"
  [ -e "$src" ] || python3 fixtures/hostile.py "$c" "$src"
  case $c in empty-files) ref="oci-dir:$src" ;; *) ref="dir:$src" ;; esac
  measure "cairn $c" "$CAIRN" sbom "$ref" -q -o json
  python3 - "$WORK/out.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
kinds = sorted({w["kind"] for w in d["warnings"]})
print(f"  {len(d['packages'])} packages, complete={d['complete']}, warnings: {kinds}")
PY
  if [ -n "$SYFT" ]; then
    SYFT_CHECK_FOR_APP_UPDATE=false measure "syft $c" timeout 600 "$SYFT" "$ref" -q -o json
  fi
  # Hostile language files are found wherever they are: left on this machine they would
  # make a scan of its root (rootfs.rs host_root_equals_dpkg_query) incomplete.
  if [ "$c" = lang-hostile ]; then rm -rf "$src"; fi
done
