#!/usr/bin/env bash
# Redis keys merged by key into MySQL (issue 10, SPEC.md §11.9): a keyspace
# of N conversations (default 3,000,000), each with MAX_SEQ:<conv> and
# MIN_SEQ:<conv> (OpenIM 3.4's sequence counters, 2N string keys), exported
# and imported into a pre-created MySQL table seq (conversation_id, max_seq,
# min_seq) through a mapping with merge_by, the sort's memory set low
# (SORT_MIB, default 8) so that it spills many runs; beside it the plain
# (unmapped, §11.5) conversion of the same bundle into MySQL, a row per
# layout row. Peak RSS and wall time of each from /usr/bin/time, and the
# most sort files seen at once. Uses Redis database 1 on REDIS_PORT and the
# MySQL databases ${PREFIX}_merge and ${PREFIX}_plain, dropped at the end.
#   REDIS_PORT=6383 bench/merge.sh [CONVERSATIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-3000000}
PORT=${REDIS_PORT:-6383}
PREFIX=${PREFIX:-bench_merge}
SORT_MIB=${SORT_MIB:-8}
MY=${MYSQL_URL:-mysql://root@127.0.0.1:3306}
R="redis://127.0.0.1:$PORT"
OUT=bench/out/merge
mkdir -p "$OUT" "$OUT/tmp"
rm -f "$OUT/keys.imb"
go build -o "$OUT/imbundle" ./cmd/imbundle
B="$OUT/imbundle"
cli() { redis-cli -p "$PORT" "$@"; }
sql() { mysql -uroot -h127.0.0.1 -N -B "$@"; }
drop() { sql -e "DROP DATABASE IF EXISTS ${PREFIX}_merge; DROP DATABASE IF EXISTS ${PREFIX}_plain"; }
clean() { cli -n 1 FLUSHDB >/dev/null; drop; }
trap clean EXIT
clean
timed() {
	local name=$1; shift
	/usr/bin/time -o "$OUT/time" -f "%e %U %S %M" "$@" >"$OUT/$name.out" 2>&1 || { cat "$OUT/$name.out"; exit 1; }
	read -r wall user sys rss <"$OUT/time"
	printf '| %s | %.1f s | %.1f s | %d MiB |\n' "$name" "$wall" "$(echo "$user + $sys" | bc)" $((rss / 1024))
}
python3 - "$N" <<'PY' | cli -n 1 --pipe >/dev/null
import sys
n, out = int(sys.argv[1]), sys.stdout.buffer
for i in range(n):
    conv = b"si_%08d_%08d" % (i, (i * 7919) % 100000000)
    for k, v in ((b"MAX_SEQ:" + conv, b"%d" % (i % 100000)), (b"MIN_SEQ:" + conv, b"%d" % (i % 1000))):
        out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
PY
keys=$(cli -n 1 DBSIZE)
cat >"$OUT/seq.yaml" <<YAML
version: 1
datasets:
  - match: "redis.db1"
    target: ${PREFIX}_merge.seq
    keys:
      - pattern: "MAX_SEQ:{conversation_id}"
        value: {field: max_seq, type: integer}
      - pattern: "MIN_SEQ:{conversation_id}"
        value: {field: min_seq, type: integer}
    merge_by: [conversation_id]
YAML
sql -e "CREATE DATABASE ${PREFIX}_merge; CREATE TABLE ${PREFIX}_merge.seq (conversation_id varchar(128) NOT NULL PRIMARY KEY, max_seq bigint, min_seq bigint)"
# The most sort files at once, sampled while the merge import runs.
watch_runs() { local most=0 n; while sleep 0.5; do n=$(find "$OUT/tmp" -name 'imbundle-sort-*' | wc -l); [ "$n" -gt "$most" ] && most=$n && echo "$most" >"$OUT/most-runs"; done; }
echo 0 >"$OUT/most-runs"
{
	echo "# Redis keys merged by key into MySQL, $(date -u +%Y-%m-%d)"
	echo
	echo "$keys string keys (MAX_SEQ:/MIN_SEQ: of $N conversations), Redis 127.0.0.1:$PORT db 1, MariaDB $(sql -e 'SELECT VERSION()'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at the start."
	echo
	echo "| step | wall | CPU | peak RSS |"
	echo "|---|---|---|---|"
	timed "export (Redis)" "$B" -q export --source "$R" --db 1 -o "$OUT/keys.imb"
	watch_runs & W=$!
	timed "import merged by key into seq (--sort-memory $SORT_MIB)" "$B" -q import "$OUT/keys.imb" --target "$MY/${PREFIX}_merge" --datasets redis.db1 --map "$OUT/seq.yaml" --sort-memory "$SORT_MIB" --temp-dir "$OUT/tmp"
	kill $W 2>/dev/null || true
	timed "import plain (§11.5, a row per key)" "$B" -q import "$OUT/keys.imb" --target "$MY/${PREFIX}_plain" --datasets redis.db1
	timed "verify --against merged" "$B" -q verify "$OUT/keys.imb" --against "$MY/${PREFIX}_merge" --datasets redis.db1 --map "$OUT/seq.yaml"
	echo
	echo "seq rows: $(sql -e "SELECT COUNT(*) FROM ${PREFIX}_merge.seq"); plain rows: $(sql -e "SELECT COUNT(*) FROM ${PREFIX}_plain.redis_db1"); most sort files at once: $(cat "$OUT/most-runs"); left after: $(find "$OUT/tmp" -name 'imbundle-sort-*' | wc -l); bundle $(du -m "$OUT/keys.imb" | cut -f1) MiB."
} | tee "$OUT/result.md"
