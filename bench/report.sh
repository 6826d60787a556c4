#!/usr/bin/env bash
# HTML report benchmark: the size of the page `cairn report` writes for a real image of
# more than 1,000 packages, and its time to interactive in the system Chromium.
#
#   bench/report.sh [IMAGE]
#
# Without an argument the image is a root filesystem built once in bench/work/npm-1000
# (never committed): `npm install react-scripts@5.0.1` (1,287 real npm packages from the
# registry, scripts not run) under /app. The page is written by the release build of
# cairn; then the script prints the page's size in bytes, its package count, and the
# median of $RUNS (default 5) runs of tests/browser/interactive.mjs: `ready_ms`
# (window.cairnReady: from navigation start until the table is built and its handlers
# attached), `dom_interactive_ms` and `load_event_end_ms` (PerformanceNavigationTiming).
#
# Needs node and npm (and the npm registry for the first build), tests/browser/node_modules
# (scripts/setup) and /usr/bin/chromium.
# Targets (issue "Explain"): under 2 MB for a 1,000-package image; interactive in under 1 s.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-5}"
WORK="$PWD/bench/work"
image="${1:-}"
if [ -z "$image" ]; then
  root="$WORK/npm-1000/root"
  if [ ! -d "$root/app/node_modules" ]; then
    echo "bench: installing react-scripts@5.0.1 into $root/app (first run only)" >&2
    mkdir -p "$root/app"
    (cd "$root/app" && echo '{"name":"bench-app","version":"1.0.0","private":true}' > package.json &&
      npm install --no-audit --no-fund --ignore-scripts --loglevel=error react-scripts@5.0.1 >&2)
  fi
  image="dir:$root"
fi
cargo build --release -q -p cairn
page="$WORK/report.html"
mkdir -p "$WORK"
./target/release/cairn report "$image" --html "$page" -q || [ $? -eq 1 ]
bytes=$(stat -c %s "$page")
results=()
for _ in $(seq "$RUNS"); do results+=("$(node tests/browser/interactive.mjs "$page")"); done
printf '%s\n' "${results[@]}" | python3 -c '
import json, statistics, sys
runs = [json.loads(l) for l in sys.stdin if l.strip()]
if not all(r.get("ok") for r in runs):
    sys.exit("interactive.mjs failed: %s" % [r for r in runs if not r.get("ok")])
med = lambda k: round(statistics.median(r[k] for r in runs), 1)
print(json.dumps({"image": sys.argv[3], "bytes": int(sys.argv[2]), "rows": runs[0]["rows"], "runs": len(runs),
  "ready_ms_median": med("ready_ms"), "dom_interactive_ms_median": med("dom_interactive_ms"),
  "load_event_end_ms_median": med("load_event_end_ms")}))
' "$page" "$bytes" "$image"
