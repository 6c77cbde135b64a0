#!/usr/bin/env bash
# Redis -> MySQL -> Redis with one big key (issue 10): a hash of N fields
# (default 2,000,000) with a TTL, exported, imported into MySQL through the
# default conversion (a row per field), exported from MySQL, imported back
# into another Redis database and verified against the first bundle; peak
# RSS and CPU of each step from /usr/bin/time. Then alternating rounds of
# the same rows into MySQL: converted from the Redis bundle (A) and plain
# from the MySQL bundle of the converted table (B), which is the
# conversion's cost. Uses Redis databases 2 and 3 and the MySQL databases
# ${PREFIX}_b1 and ${PREFIX}_b2, emptied and dropped at the end.
#   REDIS_PORT=6379 PREFIX=bench_rconv bench/redis/convert.sh [ROUNDS] [FIELDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
FIELDS=${2:-2000000}
PORT=${REDIS_PORT:-6379}
PREFIX=${PREFIX:-bench_rconv}
MY=${MYSQL_URL:-mysql://root@127.0.0.1:3306}
R="redis://127.0.0.1:$PORT"
OUT=bench/out/redis-convert
mkdir -p "$OUT"
go build -o "$OUT/imbundle" ./cmd/imbundle
B="$OUT/imbundle"
cli() { redis-cli -p "$PORT" "$@"; }
drop() { mysql -uroot -h127.0.0.1 -e "DROP DATABASE IF EXISTS ${PREFIX}_b1; DROP DATABASE IF EXISTS ${PREFIX}_b2"; }
clean() { cli -n 2 FLUSHDB >/dev/null; cli -n 3 FLUSHDB >/dev/null; drop; }
trap clean EXIT
clean
# timed NAME CMD...: one line of wall, CPU and peak RSS; fails with CMD.
timed() {
	local name=$1; shift
	/usr/bin/time -o "$OUT/time" -f "%e %U %S %M" "$@" >"$OUT/$name.out" 2>&1 || { cat "$OUT/$name.out"; exit 1; }
	read -r wall user sys rss <"$OUT/time"
	printf '%-24s wall %7.2fs  cpu %6.2fs  peak RSS %4d MiB\n' "$name" "$wall" "$(echo "$user + $sys" | bc)" $((rss / 1024))
}
python3 - "$FIELDS" <<'EOF' | cli -n 2 --pipe >/dev/null
import sys
n, out = int(sys.argv[1]), sys.stdout.buffer
def cmd(*a):
    out.write(b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a))
for c in range(0, n, 1000):
    args = [b"HSET", b"big:hash"]
    for i in range(c, min(n, c + 1000)):
        args += [b"f%07d" % i, b"value-%d-%s" % (i, b"x" * 40)]
    cmd(*args)
cmd(b"PEXPIRE", b"big:hash", b"86400000")
EOF
echo "big:hash: $(cli -n 2 HLEN big:hash) fields; load $(cut -d' ' -f1-3 /proc/loadavg)"
timed export-redis "$B" -q export --source "$R" --db 2 -o "$OUT/redis.imb"
timed import-into-mysql "$B" -q import "$OUT/redis.imb" --target "$MY/${PREFIX}_b1"
timed export-mysql "$B" -q export --source "$MY/${PREFIX}_b1" --param lock-wait=2 -o "$OUT/mysql.imb"
timed import-back-to-redis "$B" -q import "$OUT/mysql.imb" --target "$R" --db-map 2:3
timed verify-closure "$B" verify "$OUT/redis.imb" --against "$R" --db-map 2:3
for round in $(seq "$ROUNDS"); do
	drop
	timed "A$round-converted" "$B" -q import "$OUT/redis.imb" --target "$MY/${PREFIX}_b1"
	timed "B$round-plain" "$B" -q import "$OUT/mysql.imb" --target "$MY/${PREFIX}_b2"
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
