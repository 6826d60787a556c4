#!/usr/bin/env bash
# TUF client benchmark: cairn vs python-tuf (ngclient) vs sigstore-tuf.
#
# Serves a python-tuf repository with 16,384 hashed bins and 1,000,000 targets
# from nginx on loopback, then has a fresh client of each implementation
# refresh and download 1,000 targets in one invocation (the tuf-conformance
# client CLI, which all three speak), timed with /usr/bin/time -v.
#
# Usage: bench/tuf/run.sh [RUNS]
# Environment:
#   BINS, TARGETS, FETCHED   repository shape (default 16384, 1000000, 1000)
#   PYTHON                   python with tuf installed (default .venv/bin/python)
#   SIGSTORE_TUF_CLIENT      sigstore-tuf's examples/conformance_client binary
#                            (default /work/bench-peers/target/release/examples/conformance_client;
#                            build it from a local clone of sigstore/sigstore-rust with
#                            `cargo build --release -p sigstore-tuf --example conformance_client`)
#   PORT                     nginx port on 127.0.0.1 (default 8765)
#   CLIENT_DIR               where the clients keep metadata and targets (default: a
#                            directory in /dev/shm, the same for every client). A tmpfs
#                            measures the clients rather than the disk: on the 2-core VM
#                            this was written on, ext4 charged 0.3-1 ms of kernel CPU per
#                            file created (inode bitmap scans after many deletions), more
#                            than a client spends on the file, and more with every run.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
RUNS="${1:-3}"
BINS="${BINS:-16384}"; TARGETS="${TARGETS:-1000000}"; FETCHED="${FETCHED:-1000}"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
SIGSTORE="${SIGSTORE_TUF_CLIENT:-/work/bench-peers/target/release/examples/conformance_client}"
PORT="${PORT:-8765}"
WORK="$ROOT/bench/work/tuf"
REPO="$WORK/repo-$BINS-$TARGETS-$FETCHED"
mkdir -p "$WORK"
if [ -z "${CLIENT_DIR:-}" ]; then
  CLIENT_DIR="$WORK"
  if [ -d /dev/shm ] && [ -w /dev/shm ]; then CLIENT_DIR=/dev/shm/cairn-tuf-bench; fi
fi
mkdir -p "$CLIENT_DIR"
[ -x "$PYTHON" ] || scripts/setup >&2

command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo; $sudo apt-get install -y -qq nginx >/dev/null; }
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
[ -x /usr/bin/time ] || { sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo; $sudo apt-get install -y -qq time >/dev/null; }

if [ ! -f "$REPO/fetched.txt" ]; then
  echo "bench: generating repository ($BINS bins, $TARGETS targets) in $REPO" >&2
  rm -rf "$REPO"
  "$PYTHON" bench/tuf/make_repo.py "$REPO" --bins "$BINS" --targets "$TARGETS" --fetched "$FETCHED" >&2
fi

cargo build --release -q -p tuf-conformance-client
CAIRN="$ROOT/target/release/tuf-conformance-client"

# nginx: static files, keep-alive, no access log.
NG="$WORK/nginx"; mkdir -p "$NG"
cat > "$NG/nginx.conf" <<NGINX
worker_processes 1;
pid $NG/nginx.pid;
error_log $NG/error.log;
events { worker_connections 256; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path $NG/tmp;
  proxy_temp_path $NG/tmp;
  fastcgi_temp_path $NG/tmp;
  uwsgi_temp_path $NG/tmp;
  scgi_temp_path $NG/tmp;
  types { application/json json; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$PORT;
    root $REPO;
  }
}
NGINX
mkdir -p "$NG/tmp"
"$NGINX" -c "$NG/nginx.conf" -p "$NG"
trap '"$NGINX" -c "$NG/nginx.conf" -p "$NG" -s stop 2>/dev/null || true' EXIT
sleep 0.5
URL="http://127.0.0.1:$PORT"

# Every client reads the repository from the page cache (the first one timed would
# otherwise pay for the disk alone).
cat "$REPO"/metadata/* "$REPO"/targets/files/* > /dev/null

mapfile -t NAMES < "$REPO/fetched.txt"
TARGET_ARGS=()
for n in "${NAMES[@]}"; do TARGET_ARGS+=(--target-name "$n"); done

# run_client LABEL CMD...: fresh init, then one timed download of all targets.
run_client() {
  local label="$1"; shift
  local c="$CLIENT_DIR/client-$label"
  rm -rf "$c"; mkdir -p "$c/md" "$c/dl"
  "$@" --metadata-dir "$c/md" init "$REPO/metadata/1.root.json" >/dev/null
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -v -o "$c/time.txt" "$@" --metadata-url "$URL/metadata" --metadata-dir "$c/md" \
    "${TARGET_ARGS[@]}" --target-dir "$c/dl" --target-base-url "$URL/targets" download \
    >"$c/out.txt" 2>&1 || { echo "bench: $label failed:" >&2; tail -5 "$c/out.txt" >&2; return 1; }
  t1=$(date +%s%N)
  local n; n=$(find "$c/dl" -type f | wc -l)
  [ "$n" -eq "${#NAMES[@]}" ] || { echo "bench: $label downloaded $n of ${#NAMES[@]}" >&2; return 1; }
  # Wall time from the monotonic-enough system clock around the process
  # (GNU time's own "Elapsed" was seen jumping by hours on this VM);
  # peak RSS from GNU time.
  local secs rss
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", (b - a) / 1e9}')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$c/time.txt")
  printf '%s %s %s\n' "$label" "$secs" "$rss"
}

RESULTS="$WORK/results.txt"; : > "$RESULTS"
for run in $(seq 1 "$RUNS"); do
  run_client cairn "$CAIRN" | tee -a "$RESULTS"
  run_client python-tuf "$PYTHON" "$ROOT/bench/tuf/python_tuf_client.py" | tee -a "$RESULTS"
  if [ -x "$SIGSTORE" ]; then
    run_client sigstore-tuf "$SIGSTORE" | tee -a "$RESULTS"
  else
    echo "bench: sigstore-tuf client not found at $SIGSTORE (skipped)" >&2
  fi
done

# Memory follows the bins visited: cairn fetching 10 targets instead of all.
SMALL=("${TARGET_ARGS[@]:0:20}")
c="$CLIENT_DIR/client-cairn-10"; rm -rf "$c"; mkdir -p "$c/md" "$c/dl"
"$CAIRN" --metadata-dir "$c/md" init "$REPO/metadata/1.root.json"
/usr/bin/time -v -o "$c/time.txt" "$CAIRN" --metadata-url "$URL/metadata" --metadata-dir "$c/md" \
  "${SMALL[@]}" --target-dir "$c/dl" --target-base-url "$URL/targets" download
RSS10=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$c/time.txt")

echo
echo "TUF client benchmark: $BINS hashed bins, $TARGETS targets, fresh client downloading ${#NAMES[@]} targets (median of $RUNS runs; client files in $CLIENT_DIR)"
printf '%-14s %10s %14s\n' client "time (s)" "peak RSS (MiB)"
for label in cairn python-tuf sigstore-tuf; do
  grep -q "^$label " "$RESULTS" || continue
  t=$(awk -v l="$label" '$1==l {print $2}' "$RESULTS" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  m=$(awk -v l="$label" '$1==l {print $3}' "$RESULTS" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1024}')
  printf '%-14s %10s %14s\n' "$label" "$t" "$m"
  eval "T_${label//-/_}=$t"
done
echo "targets: cairn < 0.3 s; python-tuf / cairn >= 70; sigstore-tuf / cairn >= 20"
awk -v c="$T_cairn" -v p="${T_python_tuf:-0}" -v s="${T_sigstore_tuf:-0}" 'BEGIN {
  printf "python-tuf / cairn: %.1fx\n", p / c
  if (s > 0) printf "sigstore-tuf / cairn: %.1fx\n", s / c }'
printf 'cairn fetching 10 targets: peak RSS %.1f MiB\n' "$(echo "$RSS10" | awk '{print $1/1024}')"
