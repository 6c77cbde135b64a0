#!/usr/bin/env bash
# bench/mongo/run.sh: imbundle's MongoDB path side by side with the plain Go
# driver (the server's ceiling) and mongodump, in one run, against one
# FerretDB started here (issue 4, item 6).
#
#   load:   plain InsertMany loop (1000 documents a call) of N OpenIM
#           message documents into bench_src: the import ceiling
#   import: imbundle import into bench_imb       vs  the plain InsertMany loop
#   read:   plain driver cursor over bench_src: the export ceiling
#   export: imbundle export bench_src            vs  the plain cursor, mongodump
#   verify: imbundle verify --against bench_imb
#
# Wall time, documents/s, and peak RSS (GNU time's "Maximum resident set
# size") for every process. The table is printed and saved to
# bench/out/mongo-<date>.md.
#
# Environment:
#   BENCH_DOCS   documents (default 200000)
#   BENCH_ROUNDS alternating rounds of each comparison (default 2)
#   BENCH_SORTED=1  also time a plain cursor sorted by _id (FerretDB sorts in
#                memory: slow, which is why imbundle reads in natural order)
#   BENCH_MONGO  mongodb://host:port/ of an existing server to use instead of
#                starting FerretDB (its bench_* databases are dropped)
set -euo pipefail
cd "$(dirname "$0")/../.."

N=${BENCH_DOCS:-200000}
OUT=bench/out
WORK=$OUT/mongo-work
mkdir -p "$OUT"
rm -rf "$WORK" && mkdir -p "$WORK"
echo '*' > "$OUT/.gitignore"

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- tools --------------------------------------------------------------
[ -x /usr/bin/time ] || { export DEBIAN_FRONTEND=noninteractive; apt-get install -y time >/dev/null || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }; }
log "building imbundle, the plain-driver tool and FerretDB"
go build -o "$OUT/imbundle" ./cmd/imbundle
go build -o "$OUT/mongo-plain" ./bench/mongo
(cd tools/ferretdb && go build -o "../../$OUT/ferretdb" .)

# mongodump from the Go module proxy, for the benchmark only.
MONGODUMP=""
MONGODUMP_WHY=""
if GOBIN="$PWD/$OUT" GOFLAGS=-mod=mod go install github.com/mongodb/mongo-tools/mongodump@latest >"$WORK/mongodump-build.log" 2>&1; then
  MONGODUMP="$OUT/mongodump"
else
  MONGODUMP_WHY=$(grep -m1 -v '^go: downloading' "$WORK/mongodump-build.log" | cut -c1-200)
  log "mongodump not built: $MONGODUMP_WHY"
fi

# --- server -------------------------------------------------------------
FD_PID=""
cleanup() { [ -n "$FD_PID" ] && kill "$FD_PID" 2>/dev/null && wait "$FD_PID" 2>/dev/null; rm -rf "$WORK/ferretdb" "$WORK/dump" "$WORK"/*.imb; }
trap cleanup EXIT
if [ -n "${BENCH_MONGO:-}" ]; then
  URI=${BENCH_MONGO%/}/
  SERVER="$URI (BENCH_MONGO)"
else
  "$OUT/ferretdb" -listen 127.0.0.1:0 -dir "$WORK/ferretdb" >"$WORK/ferretdb.out" 2>"$WORK/ferretdb.log" &
  FD_PID=$!
  for _ in $(seq 1 100); do grep -q '^listening ' "$WORK/ferretdb.out" 2>/dev/null && break; sleep 0.1; done
  URI=$(sed -n 's/^listening //p' "$WORK/ferretdb.out")
  [ -n "$URI" ] || { echo "FerretDB did not start:"; cat "$WORK/ferretdb.log"; exit 1; }
  SERVER="FerretDB v1.24.0 (SQLite handler, data in $WORK/ferretdb)"
fi
log "server $URI"

# timed LABEL CMD...: runs CMD under GNU time; sets SECS, RSS_MIB, and
# STDOUT (the command's output).
timed() {
  local label=$1; shift
  log "$label"
  local t0 t1
  t0=$(date +%s.%N)
  STDOUT=$(/usr/bin/time -v -o "$WORK/time.txt" "$@")
  t1=$(date +%s.%N)
  SECS=$(echo "$t1 - $t0" | bc -l)
  RSS_MIB=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$WORK/time.txt")
}
rate() { echo "$1 / $2" | bc -l | xargs printf '%.0f'; }

ROWS=()
row() { ROWS+=("| $1 | $2 | $(printf '%.1f' "$3") | $(rate "$2" "$3") | $4 | $5 |"); }

# --- runs ---------------------------------------------------------------
# The machine is shared and its load changes by the minute, so each
# comparison is paired: the plain tool and imbundle run alternately,
# BENCH_ROUNDS times each, and the ratio is taken over the totals.
ROUNDS=${BENCH_ROUNDS:-2}
secs_of() { echo "$1" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p'; }

PLAIN_READ_T=0; EXPORT_T=0; PLAIN_LOAD_T=0; IMPORT_T=0
PEAK_EXPORT=0; PEAK_IMPORT=0
# Setup: the source, loaded by the plain InsertMany loop (shown, not in the
# totals).
timed "setup: plain InsertMany loop, $N docs into bench_src" "$OUT/mongo-plain" load "${URI}bench_src" "$N"
BYTES=$(echo "$STDOUT" | sed -n 's/.*bytes=\([0-9]*\).*/\1/p')
row "setup: plain InsertMany loop into bench_src" "$N" "$(secs_of "$STDOUT")" "$RSS_MIB (holds the generated docs)" ""
for r in $(seq 1 "$ROUNDS"); do
  timed "round $r: plain cursor" "$OUT/mongo-plain" cursor "${URI}bench_src"
  S=$(secs_of "$STDOUT")
  row "round $r: plain driver cursor (export ceiling)" "$N" "$S" "$RSS_MIB" ""
  PLAIN_READ_T=$(echo "$PLAIN_READ_T + $S" | bc -l)

  rm -f "$WORK/b.imb"
  timed "round $r: imbundle export" "$OUT/imbundle" export -q --source "${URI}bench_src" -o "$WORK/b.imb"
  row "round $r: **imbundle export**" "$N" "$SECS" "$RSS_MIB" ""
  EXPORT_T=$(echo "$EXPORT_T + $SECS" | bc -l); PEAK_EXPORT=$(( RSS_MIB > PEAK_EXPORT ? RSS_MIB : PEAK_EXPORT ))

  "$OUT/mongo-plain" drop "${URI}bench_plain"
  timed "round $r: plain InsertMany loop" "$OUT/mongo-plain" load "${URI}bench_plain" "$N"
  S=$(secs_of "$STDOUT")
  row "round $r: plain InsertMany loop (import ceiling)" "$N" "$S" "$RSS_MIB (holds the generated docs)" ""
  PLAIN_LOAD_T=$(echo "$PLAIN_LOAD_T + $S" | bc -l)

  "$OUT/mongo-plain" drop "${URI}bench_imb"
  timed "round $r: imbundle import" "$OUT/imbundle" import -q "$WORK/b.imb" --target "${URI}bench_imb"
  row "round $r: **imbundle import**" "$N" "$SECS" "$RSS_MIB" ""
  IMPORT_T=$(echo "$IMPORT_T + $SECS" | bc -l); PEAK_IMPORT=$(( RSS_MIB > PEAK_IMPORT ? RSS_MIB : PEAK_IMPORT ))
done

if [ "${BENCH_SORTED:-0}" = 1 ]; then
  timed "plain cursor sorted by _id" "$OUT/mongo-plain" cursor-sorted "${URI}bench_src"
  row "plain driver cursor, sorted by _id" "$N" "$(secs_of "$STDOUT")" "$RSS_MIB" ""
fi

EXPORT_NOTE=""
if [ -n "$MONGODUMP" ]; then
  timed "mongodump" "$MONGODUMP" --quiet --uri "$URI" --db bench_src --out "$WORK/dump"
  row "mongodump" "$N" "$SECS" "$RSS_MIB" ""
  EXPORT_NOTE=", $(echo "$SECS / ($EXPORT_T / $ROUNDS)" | bc -l | xargs printf '%.2f')x mongodump"
fi

timed "imbundle verify --against" "$OUT/imbundle" verify "$WORK/b.imb" --against "${URI}bench_imb"
echo "$STDOUT" | grep -q '^OK: ' || { echo "verify failed:"; echo "$STDOUT"; exit 1; }
row "imbundle verify --against bench_imb (green)" "$N" "$SECS" "$RSS_MIB" ""

TOTAL=$((N * ROUNDS))
ROWS+=("| **export, all rounds** | $TOTAL | $(printf '%.1f' "$EXPORT_T") | $(rate $TOTAL "$EXPORT_T") | $PEAK_EXPORT | $(echo "$PLAIN_READ_T / $EXPORT_T" | bc -l | xargs printf '%.2f')x plain cursor ($(rate $TOTAL "$PLAIN_READ_T") docs/s)$EXPORT_NOTE |")
ROWS+=("| **import, all rounds** | $TOTAL | $(printf '%.1f' "$IMPORT_T") | $(rate $TOTAL "$IMPORT_T") | $PEAK_IMPORT | $(echo "$PLAIN_LOAD_T / $IMPORT_T" | bc -l | xargs printf '%.2f')x plain InsertMany ($(rate $TOTAL "$PLAIN_LOAD_T") docs/s) |")

# --- report -------------------------------------------------------------
REPORT="$OUT/mongo-$(date +%Y%m%d-%H%M%S).md"
{
  echo "MongoDB benchmark: $N OpenIM message documents, $ROUNDS alternating rounds ($((BYTES / N)) bytes each on average, $(echo "$BYTES / 1048576" | bc) MiB), server $SERVER, $(nproc) cores, bundle $(du -h "$WORK/b.imb" | cut -f1)."
  echo
  echo "| step | docs | seconds | docs/s | peak RSS MiB | ratio |"
  echo "|---|---:|---:|---:|---:|---|"
  printf '%s\n' "${ROWS[@]}"
  [ -z "$MONGODUMP" ] && echo && echo "mongodump: not measured: \`go install github.com/mongodb/mongo-tools/mongodump@latest\` failed: $MONGODUMP_WHY"
} | tee "$REPORT"
log "saved $REPORT"
