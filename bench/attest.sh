#!/usr/bin/env bash
# Attestation benchmark: verifying one Sigstore bundle (an SBOM attestation of IMAGE) with
# a supplied key — cairn, sigstore-js (@sigstore/verify, tests/attest/sigstore.js) and
# securesystemslib's DSSE (tests/attest/dsse.py) — and making one (`cairn attest`: scan,
# render, sign). Each figure is the median wall time of $RUNS (default 7) runs, process
# start included, as a user would run each tool.
#
#   bench/attest.sh [IMAGE]      (default: the demo image's OCI layout)
#
# Needs the release build (cargo build --release -p cairn), .venv and tests/attest/node_modules
# (scripts/setup). There is no time target in the issue; these figures sit beside the peers'.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-7}"
image="${1:-fixtures/images/demo/oci}"
cairn=target/release/cairn
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$cairn" generate-key-pair --output-key-prefix "$work/k" -q
"$cairn" attest "$image" --key "$work/k.key" -o "$work/b.json" -q
echo "bundle: $(wc -c < "$work/b.json") bytes ($image)"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
bench() {
  local name=$1; shift
  for _ in $(seq "$RUNS"); do
    local s e
    s=$(date +%s%N); "$@" > /dev/null; e=$(date +%s%N)
    echo $(( (e - s) / 1000000 ))
  done | median | xargs printf "%-36s %6s ms\n" "$name"
}
bench "cairn verify-attestation (bundle)" "$cairn" verify-attestation "$work/b.json" --key "$work/k.pub"
bench "sigstore-js verify" node tests/attest/sigstore.js verify "$work/b.json" "$work/k.pub"
bench "securesystemslib DSSE verify" .venv/bin/python tests/attest/dsse.py verify "$work/b.json" "$work/k.pub"
bench "cairn attest (scan + sign)" "$cairn" attest "$image" --key "$work/k.key" -o "$work/c.json" -q
bench "cairn sbom -o spdx-json (scan only)" "$cairn" sbom "$image" -o spdx-json -q
