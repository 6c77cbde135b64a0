#!/usr/bin/env bash
# Rows nested into documents (issue 10, SPEC.md §11.1 nested rows): a
# chat_logs-like MySQL table of N rows (default 2,000,000; N/250
# conversations of 250 messages, the primary key an MD5 so that the
# export's order scatters conversations and seqs), exported, then
# converted in-process (bench/nest: read, convert, drop the documents)
# plainly (§11.1, a document per row) and nested (msg documents of 100
# seqs, --sort-memory SORT_MIB, default 8, so that it spills many runs),
# and the nested documents imported into a FerretDB of tools/ferretdb and
# verified against it. Peak RSS and wall time of each from /usr/bin/time,
# and the most sort files seen at once. Uses the MariaDB database
# ${PREFIX}_src, dropped at the end.
#   bench/nest.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000000}
PREFIX=${PREFIX:-bench_nest}
SORT_MIB=${SORT_MIB:-8}
MY=${MYSQL_URL:-mysql://root@127.0.0.1:3306}
OUT=bench/out/nest
rm -rf "$OUT"
mkdir -p "$OUT/tmp" "$OUT/ferretdb"
go build -o "$OUT/imbundle" ./cmd/imbundle
go build -o "$OUT/nest" ./bench/nest
(cd tools/ferretdb && go build -o "../../$OUT/ferretdb-bin" .)
B="$OUT/imbundle"
sql() { mysql -uroot -h127.0.0.1 -N -B "$@"; }
FD_PID=
clean() { [ -n "$FD_PID" ] && kill "$FD_PID" 2>/dev/null; sql -e "DROP DATABASE IF EXISTS ${PREFIX}_src"; rm -rf "$OUT/ferretdb" "$OUT/tmp"; }
trap clean EXIT
timed() {
	local name=$1; shift
	/usr/bin/time -o "$OUT/time" -f "%e %U %S %M" "$@" >"$OUT/step.out" 2>&1 || { cat "$OUT/step.out"; exit 1; }
	read -r wall user sys rss <"$OUT/time"
	printf '| %s | %.1f s | %.1f s | %d MiB | %s |\n' "$name" "$wall" "$(echo "$user + $sys" | bc)" $((rss / 1024)) "$(grep -o 'docs=[0-9]* .*rejects=[0-9]*' "$OUT/step.out" || true)"
}
C=$((N / 250))
sql -e "DROP DATABASE IF EXISTS ${PREFIX}_src; CREATE DATABASE ${PREFIX}_src"
sql -D "${PREFIX}_src" -e "CREATE TABLE chat_logs (server_msg_id CHAR(32) PRIMARY KEY, conversation_id VARCHAR(64) NOT NULL, send_id VARCHAR(64), seq BIGINT NOT NULL, content TEXT, send_time DATETIME(3));
  INSERT INTO chat_logs SELECT MD5(seq), CONCAT('si_', seq % $C), CONCAT('u', seq % 97), seq DIV $C + 1,
    CONCAT('{\"content\":\"message ', seq, ' ', REPEAT('x', 60), '\"}'), FROM_UNIXTIME(1700000000 + seq / 1000) FROM mysql.seq_1_to_$N"
cat >"$OUT/msg.yaml" <<YAML
version: 1
datasets:
  - match: "${PREFIX}_src.chat_logs"
    target: msg
    rename: {server_msg_id: msg.server_msg_id, send_id: msg.send_id, seq: msg.seq, content: msg.content, send_time: msg.send_time}
    drop: [conversation_id]
    nest: {by: "conversation_id + ':' + string(int((seq - 1) / 100))", into: msgs, order: [seq], key: doc_id}
YAML
"$OUT/ferretdb-bin" -listen 127.0.0.1:0 -dir "$OUT/ferretdb" >"$OUT/ferretdb.out" 2>"$OUT/ferretdb.log" &
FD_PID=$!
for _ in $(seq 1 100); do grep -q '^listening ' "$OUT/ferretdb.out" 2>/dev/null && break; sleep 0.1; done
URI=$(sed -n 's/^listening //p' "$OUT/ferretdb.out")
watch_runs() { local most=0 n; while sleep 0.5; do n=$(find "$OUT/tmp" -name 'imbundle-sort-*' | wc -l); [ "$n" -gt "$most" ] && most=$n && echo "$most" >"$OUT/most-runs"; done; }
echo 0 >"$OUT/most-runs"
DS="${PREFIX}_src.chat_logs"
{
	echo "# Rows nested into documents, $(date -u +%Y-%m-%d)"
	echo
	echo "$N chat_logs rows ($C conversations of 250 messages: 3 msg documents each), MariaDB $(sql -e 'SELECT VERSION()'), FerretDB from tools/ferretdb, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at the start."
	echo
	echo "| step | wall | CPU | peak RSS | output |"
	echo "|---|---|---|---|---|"
	timed "export (MySQL)" "$B" -q export --source "$MY/${PREFIX}_src" -o "$OUT/chat.imb"
	timed "convert plain (§11.1, a document per row), in-process" "$OUT/nest" "$OUT/chat.imb" "$DS"
	watch_runs & W=$!
	timed "convert nested (--sort-memory $SORT_MIB), in-process" "$OUT/nest" "$OUT/chat.imb" "$DS" "$OUT/msg.yaml" "$SORT_MIB" "$OUT/tmp"
	timed "import nested into FerretDB (--sort-memory $SORT_MIB)" "$B" -q import "$OUT/chat.imb" --target "${URI%/}/${PREFIX}" --map "$OUT/msg.yaml" --sort-memory "$SORT_MIB" --temp-dir "$OUT/tmp"
	kill $W 2>/dev/null || true
	timed "verify --against nested (--sort-memory $SORT_MIB)" "$B" -q verify "$OUT/chat.imb" --against "${URI%/}/${PREFIX}" --map "$OUT/msg.yaml" --sort-memory "$SORT_MIB" --temp-dir "$OUT/tmp"
	echo
	echo "most sort files at once: $(cat "$OUT/most-runs"); left after: $(find "$OUT/tmp" -name 'imbundle-sort-*' | wc -l); bundle $(du -m "$OUT/chat.imb" | cut -f1) MiB."
} | tee "$OUT/result.md"
