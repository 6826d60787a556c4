#!/usr/bin/env bash
# HTML report benchmark: the page's size and its time to interactive in the system Chromium.
#
#   bench/report.sh [REPORT.html]
#
# Without an argument it builds bench/work/report-1000.html (never committed) from
# crates/cairn/tests/data/report-sample.json, its packages copied with distinct ids until
# there are at least $PACKAGES (default 1000), rendered by bench/report_data.py the way
# crates/cairn/src/report.rs renders it. Then prints the file's size in bytes and the median
# of $RUNS (default 5) runs of tests/browser/interactive.mjs: `ready_ms` (window.cairnReady:
# from navigation start until the table is built and its handlers attached),
# `dom_interactive_ms` and `load_event_end_ms` (PerformanceNavigationTiming).
#
# Needs node, tests/browser/node_modules (scripts/setup) and /usr/bin/chromium.
# Target: under 2 MB for 1,000 packages of sample-sized data; interactive well under 1 s.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-5}"
PACKAGES="${PACKAGES:-1000}"
page="${1:-}"
if [ -z "$page" ]; then
  mkdir -p bench/work
  python3 bench/report_data.py replicate crates/cairn/tests/data/report-sample.json \
    "bench/work/report-$PACKAGES.json" "$PACKAGES"
  python3 bench/report_data.py render "bench/work/report-$PACKAGES.json" "bench/work/report-$PACKAGES.html"
  page="bench/work/report-$PACKAGES.html"
fi
bytes=$(stat -c %s "$page")
results=()
for _ in $(seq "$RUNS"); do results+=("$(node tests/browser/interactive.mjs "$page")"); done
printf '%s\n' "${results[@]}" | python3 -c '
import json, statistics, sys
runs = [json.loads(l) for l in sys.stdin if l.strip()]
if not all(r.get("ok") for r in runs):
    sys.exit("interactive.mjs failed: %s" % [r for r in runs if not r.get("ok")])
med = lambda k: round(statistics.median(r[k] for r in runs), 1)
print(json.dumps({"file": sys.argv[1], "bytes": int(sys.argv[2]), "rows": runs[0]["rows"], "runs": len(runs),
  "ready_ms_median": med("ready_ms"), "dom_interactive_ms_median": med("dom_interactive_ms"),
  "load_event_end_ms_median": med("load_event_end_ms")}))
' "$page" "$bytes"
