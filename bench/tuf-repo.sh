#!/usr/bin/env bash
# TUF repository benchmark: cairn vs python-tuf's Metadata API, same run.
#
#   1. build: a PEP 458-shaped repository, 16,384 classic hashed bins and
#      1,000,000 targets from a PATH<TAB>LENGTH<TAB>SHA256 list (cairn: one
#      `cairn tuf init --hash-bins 16384 --from-list`; python-tuf:
#      bench/tuf-repo/python_repo.py build);
#   2. batch: 1,000 new targets added to it in one commit (only the bins
#      they fall in, snapshot and timestamp are re-signed);
#   3. singles: 100 `cairn tuf add` processes one after another, one target
#      each (one bin, snapshot and timestamp each).
# Wall time and peak RSS from /usr/bin/time, each run's, then the best of the runs
# for each figure and the python-tuf/cairn ratios of those bests. The repositories are written to
# WORK (default: a tmpfs, /dev/shm, so that the figures are the tools' and not
# this VM's disk; set WORK=bench/work/tuf-repo for the disk).
#
# Usage: bench/tuf-repo.sh [RUNS]      (environment: TARGETS, BINS, PYTHON, WORK, SKIP_PYTHON)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
RUNS="${1:-3}"
TARGETS="${TARGETS:-1000000}"; BINS="${BINS:-16384}"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
WORK="${WORK:-/dev/shm/cairn-tuf-repo-bench}"
LISTS="$ROOT/bench/work/tuf-repo"
mkdir -p "$LISTS" "$WORK"
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is needed (apt-get install time)" >&2; exit 1; }
cargo build --release -q -p cairn
CAIRN="$ROOT/target/release/cairn"

[ -f "$LISTS/list-$TARGETS.tsv" ] || python3 bench/tuf-repo/gen_list.py "$TARGETS" > "$LISTS/list-$TARGETS.tsv"
[ -f "$LISTS/batch-1000.tsv" ] || python3 bench/tuf-repo/gen_list.py 1000 --start "$TARGETS" > "$LISTS/batch-1000.tsv"
python3 bench/tuf-repo/gen_list.py 100 --start $((TARGETS + 1000)) > "$LISTS/singles-100.tsv"

RESULTS="$(mktemp)"
trap 'rm -f "$RESULTS"' EXIT
measure() { # LABEL CMD... -> "LABEL seconds kilobytes"
  local label="$1"; shift
  /usr/bin/time -f "$label %e %M" -o "$WORK/time.txt" "$@" > /dev/null
  tee -a "$RESULTS" < "$WORK/time.txt"
}

for run in $(seq 1 "$RUNS"); do
  rm -rf "$WORK/cairn" "$WORK/python"
  measure cairn-build "$CAIRN" tuf init "$WORK/cairn/repo" --keys "$WORK/cairn/keys" \
    --hash-bins "$BINS" --from-list "$LISTS/list-$TARGETS.tsv"
  measure cairn-batch "$CAIRN" tuf add "$WORK/cairn/repo" --keys "$WORK/cairn/keys" \
    --from-list "$LISTS/batch-1000.tsv"
  start=$(date +%s.%N)
  while IFS= read -r line; do
    printf '%s\n' "$line" | "$CAIRN" tuf add "$WORK/cairn/repo" --keys "$WORK/cairn/keys" --from-list - > /dev/null
  done < "$LISTS/singles-100.tsv"
  end=$(date +%s.%N)
  echo "cairn-singles $(echo "$end - $start" | bc) 100" | tee -a "$RESULTS"
  du -sk "$WORK/cairn/repo/metadata" | awk '{print "cairn-metadata-kb", $1}'
  if [ -z "${SKIP_PYTHON:-}" ]; then
    measure python-tuf-build "$PYTHON" bench/tuf-repo/python_repo.py build "$LISTS/list-$TARGETS.tsv" "$WORK/python" --bins "$BINS"
    measure python-tuf-batch "$PYTHON" bench/tuf-repo/python_repo.py batch "$LISTS/batch-1000.tsv" "$WORK/python"
  fi
  # Both repositories must be valid: the client refreshes each and finds a batch target.
  for repo in cairn/repo python; do
    [ -d "$WORK/$repo" ] || continue
    md="$WORK/client-$(basename "$repo")"; rm -rf "$md"
    "$CAIRN" tuf --metadata-dir "$md" trust "$WORK/$repo/metadata/1.root.json" > /dev/null
    "$CAIRN" tuf --metadata-dir "$md" --metadata-url "file://$WORK/$repo/metadata" refresh > /dev/null
  done
done
rm -rf "$WORK"

# Best of the runs for each figure (this VM's speed drifts between runs), and
# the ratios of those bests.
echo "--- best of $RUNS runs"
awk '
  { if (!($1 in best) || $2 < best[$1]) { best[$1] = $2; mem[$1] = $3 } }
  END {
    for (k in best) if (k != "cairn-singles") printf "%-17s %6.2f s %7.1f MB\n", k, best[k], mem[k] / 1024
    if ("cairn-singles" in best) printf "%-17s %6.2f s for 100 (%.1f adds/s)\n", "cairn-singles", best["cairn-singles"], 100 / best["cairn-singles"]
    split("build batch", ops, " ")
    for (i = 1; i <= 2; i++) {
      c = "cairn-" ops[i]; p = "python-tuf-" ops[i]
      if ((c in best) && (p in best) && best[c] > 0) printf "%-17s python-tuf / cairn = %.1fx\n", ops[i], best[p] / best[c]
    }
  }' "$RESULTS" | sort
