#!/usr/bin/env bash
# Fleet database benchmark: 10,000 image SBOMs of about 300 packages each into SQLite and
# into PostgreSQL 15, then the queries the issue names.
#
#   bench/fleet.sh [IMAGES]      default 10000
#
# The SBOMs are made by crates/cairn-db/examples/fleet.rs from a real package list, the
# Debian archive's own indexes on this machine (/var/lib/apt/lists: bookworm,
# bookworm-updates, bookworm-security; names, versions, sections): 20 base images of about
# 200 Debian packages on two shared layers, in two builds each, under 500 repositories of 20
# tags, each tag one application layer of about 100 packages (Debian libraries and the Python
# and Node packages Debian ships, as pypi and npm) whose versions move from tag to tag.
#
# PostgreSQL 15 (Debian's postgresql-15) runs from a fresh initdb in bench/work/fleet/pg on a
# free loopback port with its default settings (durable commits: fsync and
# synchronous_commit on). Ingestion is one `cairn db ingest` of every file (release build,
# 200 documents per transaction); sizes are the databases' own (pg_database_size, SQLite
# pages); query latencies are timed in-process over RUNS runs (median and slowest).
#
# Targets (issue "Fleet"): PostgreSQL ingestion under 60 s, the version-range query across
# all images under 10 ms, layer → images under 1 ms. The issue's reference, a hand-written
# schema on PostgreSQL 15 with 3 million rows in 294 MB: 8.7 ms and 0.1 ms. No peer tool runs
# here offline (Dependency-Track and GUAC need services and registries this machine cannot
# reach), so that reference is the comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES="${1:-10000}"
RUNS="${RUNS:-50}"
WORK="$PWD/bench/work/fleet"
mkdir -p "$WORK"
SHM=/dev/shm
[ -w "$SHM" ] || SHM="$WORK"
DOCS="$SHM/cairn-fleet-sboms-$IMAGES"

cargo build --release -q -p cairn
cargo build --release -q -p cairn-db --example fleet
CAIRN="$PWD/target/release/cairn"
FLEET="$PWD/target/release/examples/fleet"

if [ ! -s "$WORK/avail.txt" ]; then
  for f in /var/lib/apt/lists/*_Packages*; do /usr/lib/apt/apt-helper cat-file "$f"; echo; done > "$WORK/avail.txt"
fi
if [ ! -d "$DOCS" ] || [ "$(ls "$DOCS" | wc -l)" -ne "$IMAGES" ]; then
  rm -rf "$DOCS"
  "$FLEET" gen "$WORK/avail.txt" "$DOCS" "$IMAGES"
fi
echo "documents: $(ls "$DOCS" | wc -l) files, $(du -sm "$DOCS" | cut -f1) MB of cairn JSON"

# --- PostgreSQL 15 ------------------------------------------------------------------------
PGBIN=/usr/lib/postgresql/15/bin
[ -x "$PGBIN/initdb" ] || { echo "bench/fleet.sh: needs postgresql-15 (scripts/setup)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
PGDIR="$WORK/pg"
if [ -f "$PGDIR/data/postmaster.pid" ]; then as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop || true; fi
rm -rf "$PGDIR"; mkdir -p "$PGDIR"
[ "$(id -u)" -eq 0 ] && chown postgres: "$PGDIR"
as_pg "$PGBIN/initdb" -D "$PGDIR/data" -U cairn --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -w -l "$PGDIR/server.log" \
  -o "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PGDIR" start >/dev/null
trap 'as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast stop >/dev/null 2>&1 || true' EXIT
as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U cairn cairn
PG="postgres://cairn@127.0.0.1:$PORT/cairn"
SQLITE="$WORK/fleet.db"
rm -f "$SQLITE" "$SQLITE-wal" "$SQLITE-shm"

ingest() {
  local url=$1 name=$2 start end
  sync
  start=$(date +%s.%N)
  find "$DOCS" -name '*.json' | sort | xargs -s 2000000 "$CAIRN" db ingest -q --db "$url" --batch 200 \
    || { echo "ingest into $name failed" >&2; exit 1; }
  end=$(date +%s.%N)
  printf '%s ingestion: %.1f s for %s SBOMs\n' "$name" "$(echo "$end - $start" | bc)" "$IMAGES"
}

for target in "PostgreSQL 15:$PG" "SQLite:$SQLITE"; do
  name=${target%%:*}; url=${target#*:}
  echo "=== $name"
  ingest "$url" "$name"
  "$FLEET" queries "$url" "$RUNS"
  # Ingesting the same documents again stores nothing new.
  start=$(date +%s.%N)
  find "$DOCS" -name '*.json' | sort | xargs -s 2000000 "$CAIRN" db ingest -q --db "$url" --batch 200
  printf '%s re-ingesting the same %s SBOMs (nothing new): %.1f s\n' "$name" "$IMAGES" "$(echo "$(date +%s.%N) - $start" | bc)"
  "$CAIRN" db query --db "$url" stats | grep -E '^(images|image_packages) '
done
