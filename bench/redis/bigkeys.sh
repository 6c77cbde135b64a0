#!/usr/bin/env bash
# Redis big-key benchmark (issue 9): 6,000 keys of 50-800 elements (hashes,
# lists, sets, sorted sets in turn; 2.55M elements; fixtures.LoadRedisBigKeys,
# seed 1). Alternating rounds on a shared machine, each round:
#   - the pipelined DUMP+PTTL/RESTORE copy loop, 4+4 connections;
#   - imbundle export, then imbundle import (--mode fail) into a flushed db;
# and the medians of the rounds with the ratios to the DUMP/RESTORE loop.
# Peak RSS and the command's CPU seconds from /usr/bin/time, the Redis
# server's CPU seconds from INFO cpu: on a shared machine wall seconds
# follow the load, CPU seconds (command + server) say what a run costs.
# Uses databases 14 and 15 only, emptied at the end.
#   REDIS_PORT=6379 bench/redis/bigkeys.sh [ROUNDS] [KEYS]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-5}
KEYS=${2:-6000}
HOST=${REDIS_HOST:-127.0.0.1}
PORT=${REDIS_PORT:-6379}
R="redis://$HOST:$PORT"
OUT=bench/out/redis-bigkeys
mkdir -p "$OUT"
export PATH="/usr/local/go/bin:$PATH"
go build -o "$OUT/imbundle" ./cmd/imbundle
go build -o "$OUT/redisbench" ./bench/redis
cli() { redis-cli -h "$HOST" -p "$PORT" "$@"; }
flush() { cli -n 14 FLUSHDB >/dev/null; cli -n 15 FLUSHDB >/dev/null; }
trap flush EXIT
flush
"$OUT/redisbench" bigkeys -url "$R/14" -keys "$KEYS" -seed 1 >&2
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# Redis server CPU seconds so far (user + sys), from INFO cpu.
rcpu() { cli INFO cpu | awk -F: '/^used_cpu_(user|sys):/ {s+=$2} END {printf "%.2f", s}'; }

# timed NAME CMD...: appends "wall_s rss_mib cpu_s server_cpu_s" of CMD to
# $OUT/NAME.runs.
timed() {
	local name=$1 r0
	shift
	r0=$(rcpu)
	/usr/bin/time -f '%e %M %U %S' -o "$OUT/$name.time" "$@" >"$OUT/$name.log" 2>&1 || { cat "$OUT/$name.log"; exit 1; }
	awk -v a="$r0" -v b="$(rcpu)" '{printf "%s %.0f %.2f %.2f\n", $1, $2/1024, $3+$4, b-a}' "$OUT/$name.time" >>"$OUT/$name.runs"
}
rm -f "$OUT"/*.runs
for r in $(seq "$ROUNDS"); do
	echo "round $r/$ROUNDS" >&2
	cli -n 15 FLUSHDB >/dev/null
	timed dumpcopy "$OUT/redisbench" dumpcopy -from "$R/14" -to "$R/15"
	cli -n 15 FLUSHDB >/dev/null
	rm -f "$OUT/big.imb"
	timed export "$OUT/imbundle" -q export --source "$R/14" -o "$OUT/big.imb"
	timed import "$OUT/imbundle" -q import "$OUT/big.imb" --target "$R" --db-map 14:15
done
"$OUT/imbundle" -q verify "$OUT/big.imb" --against "$R" --db-map 14:15 >"$OUT/verify.log" 2>&1 || { cat "$OUT/verify.log"; exit 1; }

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
med() { cut -d' ' -f"$2" "$OUT/$1.runs" | median; }
D=$(med dumpcopy 1)
DC=$(awk '{print $3+$4}' "$OUT/dumpcopy.runs" | median)
{
	echo "Redis $(cli INFO server | awk -F: '/^redis_version/ {print $2}' | tr -d '\r'), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), $ROUNDS alternating rounds, $(cli -n 14 DBSIZE) keys"
	echo
	echo "load average before: $LOAD0; after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "| run | median wall s | all runs s | x DUMP/RESTORE loop | max RSS MiB | median CPU s (command + server) | CPU x DUMP/RESTORE loop |"
	echo "|-----|---------------|------------|---------------------|-------------|---------------------------------|-------------------------|"
	for n in dumpcopy export import; do
		M=$(med $n 1)
		C=$(awk '{print $3+$4}' "$OUT/$n.runs" | median)
		printf '| %s | %s | %s | %s | %s | %s (%s + %s) | %s |\n' "$n" "$M" "$(cut -d' ' -f1 "$OUT/$n.runs" | tr '\n' ' ')" \
			"$(awk -v a="$M" -v b="$D" 'BEGIN {printf "%.2f", a/b}')" "$(cut -d' ' -f2 "$OUT/$n.runs" | sort -n | tail -1)" \
			"$C" "$(med $n 3)" "$(med $n 4)" "$(awk -v a="$C" -v b="$DC" 'BEGIN {printf "%.2f", a/b}')"
	done
} | tee "$OUT/table.md"
