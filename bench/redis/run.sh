#!/usr/bin/env bash
# Redis benchmark (issue 3): 1,000,000 mixed small keys (60% strings, 10%
# each of hashes, lists, sets and sorted sets of 5 elements; 10% with TTL),
# then the 1M-element big keys. Side by side in one run:
#   - redis-benchmark -P 64 -t set: the server's own write ceiling here;
#   - a DUMP/PTTL -> RESTORE copy loop (RedisShake's scan mode), pipelined,
#     4 connections per side, with imbundle's RESP client;
#   - imbundle export and import (and verify), peak RSS from /usr/bin/time.
# Uses Redis databases 14 and 15 only, and empties them at the end.
#   bench/redis/run.sh [KEYS] [BIG]
set -euo pipefail
cd "$(dirname "$0")/../.."
KEYS=${1:-1000000}
BIG=${2:-1000000}
HOST=${REDIS_HOST:-127.0.0.1}
PORT=${REDIS_PORT:-6379}
R="redis://$HOST:$PORT"
OUT=bench/out/redis
mkdir -p "$OUT"
export PATH="/usr/local/go/bin:$PATH"
go build -o "$OUT/imbundle" ./cmd/imbundle
go build -o "$OUT/redisbench" ./bench/redis
cli() { redis-cli -h "$HOST" -p "$PORT" "$@"; }
flush() { cli -n 14 FLUSHDB >/dev/null; cli -n 15 FLUSHDB >/dev/null; }
trap flush EXIT
flush
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# Redis server CPU seconds so far (user + sys), from INFO cpu.
rcpu() { cli INFO cpu | awk -F: '/^used_cpu_(user|sys):/ {s+=$2} END {printf "%.2f", s}'; }

# timed NAME CMD...: runs CMD under /usr/bin/time, records wall seconds,
# MaxRSS, the command's CPU seconds and the Redis server's CPU seconds.
# The machine is shared: CPU seconds say what a run costs whatever else
# runs beside it; wall seconds and keys/s depend on that.
timed() {
	local name=$1
	shift
	local r0
	r0=$(rcpu)
	/usr/bin/time -v -o "$OUT/$name.time" "$@" >"$OUT/$name.log" 2>&1 || { cat "$OUT/$name.log"; exit 1; }
	SECS=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$OUT/$name.time")
	RSS=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$OUT/$name.time")
	CPU=$(awk -F': ' '/User time|System time/ {s+=$2} END {printf "%.1f", s}' "$OUT/$name.time")
	RCPU=$(awk -v a="$r0" -v b="$(rcpu)" 'BEGIN {printf "%.1f", b-a}')
}
rate() { awk -v n="$1" -v s="$2" 'BEGIN {printf "%.0f", n/s}'; }
ROWS=()
row() { ROWS+=("$(printf '| %-46s | %10s | %7s | %12s | %7s | %9s | %9s |' "$1" "$2" "$3" "$4" "$5" "$CPU" "$RCPU")"); }

echo "loading $KEYS mixed keys into db 14..." >&2
"$OUT/redisbench" load -url "$R/14" -keys "$KEYS"
N=$(cli -n 14 DBSIZE)

timed rbench redis-benchmark -h "$HOST" -p "$PORT" --dbnum 15 -P 64 -t set -n "$KEYS" -q
RB=$(tr '\r' '\n' <"$OUT/rbench.log" | grep -o 'SET: [0-9.]* requests' | tail -1 | awk '{printf "%.0f", $2}')
row "redis-benchmark -P 64 -t set -n $KEYS" "$KEYS" "$SECS" "$RB" "-"
cli -n 15 FLUSHDB >/dev/null

timed dumpcopy "$OUT/redisbench" dumpcopy -from "$R/14" -to "$R/15"
row "DUMP+PTTL/RESTORE copy loop, 4+4 conns" "$N" "$SECS" "$(rate "$N" "$SECS")" "$RSS"
cli -n 15 FLUSHDB >/dev/null

rm -f "$OUT/mixed.imb"
timed export "$OUT/imbundle" -q export --source "$R/14" -o "$OUT/mixed.imb"
row "imbundle export (mixed)" "$N" "$SECS" "$(rate "$N" "$SECS")" "$RSS"
timed import "$OUT/imbundle" -q import "$OUT/mixed.imb" --target "$R" --db-map 14:15
row "imbundle import (mixed, --mode fail)" "$N" "$SECS" "$(rate "$N" "$SECS")" "$RSS"
timed verify "$OUT/imbundle" -q verify "$OUT/mixed.imb" --against "$R" --db-map 14:15
row "imbundle verify --against (mixed)" "$N" "$SECS" "$(rate "$N" "$SECS")" "$RSS"
BYTES=$(stat -c %s "$OUT/mixed.imb")
flush

echo "loading the big keys ($BIG elements each) into db 14..." >&2
"$OUT/imbundle" -q fixtures redis --target "$R/14" --openim=false --big "$BIG" >/dev/null
NB=$(cli -n 14 DBSIZE)
rm -f "$OUT/big.imb"
timed bexport "$OUT/imbundle" -q export --source "$R/14" -o "$OUT/big.imb"
ELEMS=$((4 * BIG))
row "imbundle export (4 big keys of $BIG + edge)" "$NB keys" "$SECS" "$(rate "$ELEMS" "$SECS") el/s" "$RSS"
timed bimport "$OUT/imbundle" -q import "$OUT/big.imb" --target "$R" --db-map 14:15
row "imbundle import (4 big keys of $BIG + edge)" "$NB keys" "$SECS" "$(rate "$ELEMS" "$SECS") el/s" "$RSS"
timed bverify "$OUT/imbundle" -q verify "$OUT/big.imb" --against "$R" --db-map 14:15
row "imbundle verify --against (big keys)" "$NB keys" "$SECS" "$(rate "$ELEMS" "$SECS") el/s" "$RSS"

{
	echo "Redis $(cli INFO server | awk -F: '/^redis_version/ {print $2}' | tr -d '\r'), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ); mixed bundle $((BYTES / 1024 / 1024)) MiB"
	echo
	echo "load average before: $LOAD0; after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	printf '| %-46s | %10s | %7s | %12s | %7s | %9s | %9s |\n' "run" "keys" "wall s" "keys/s" "RSS MiB" "CPU s" "Redis CPU s"
	printf '|%s|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..48})" "$(printf -- '-%.0s' {1..12})" "$(printf -- '-%.0s' {1..9})" "$(printf -- '-%.0s' {1..14})" "$(printf -- '-%.0s' {1..9})" "$(printf -- '-%.0s' {1..11})" "$(printf -- '-%.0s' {1..11})"
	printf '%s\n' "${ROWS[@]}"
} | tee "$OUT/table.md"
