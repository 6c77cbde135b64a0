#!/usr/bin/env bash
# Rows of another table embedded into documents (issue 10, SPEC.md §11.1
# embedded rows): a conversations table of N/250 rows and a chat_logs
# table of N rows (default 2,000,000; 250 messages a conversation, the
# primary key an MD5 so that the export's order scatters conversations),
# exported, then converted in-process (bench/nest: read, convert, drop the
# documents): the conversations plainly (§11.1), then with every
# conversation's messages embedded as an array ordered by seq, sorting
# with --sort-memory SORT_MIB (default 8) so that it spills many runs.
# Peak RSS and wall time of each from /usr/bin/time, and the most sort
# files seen at once. Uses the MariaDB database ${PREFIX}_src, dropped at
# the end.
#   bench/embed.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000000}
PREFIX=${PREFIX:-bench_embed}
SORT_MIB=${SORT_MIB:-8}
MY=${MYSQL_URL:-mysql://root@127.0.0.1:3306}
OUT=bench/out/embed
rm -rf "$OUT"
mkdir -p "$OUT/tmp"
go build -o "$OUT/imbundle" ./cmd/imbundle
go build -o "$OUT/nest" ./bench/nest
B="$OUT/imbundle"
sql() { mysql -uroot -h127.0.0.1 -N -B "$@"; }
clean() { sql -e "DROP DATABASE IF EXISTS ${PREFIX}_src"; rm -rf "$OUT/tmp"; }
trap clean EXIT
timed() {
	local name=$1; shift
	/usr/bin/time -o "$OUT/time" -f "%e %U %S %M" "$@" >"$OUT/step.out" 2>&1 || { cat "$OUT/step.out"; exit 1; }
	read -r wall user sys rss <"$OUT/time"
	printf '| %s | %.1f s | %.1f s | %d MiB | %s |\n' "$name" "$wall" "$(echo "$user + $sys" | bc)" $((rss / 1024)) "$(grep -o 'docs=[0-9]* .*rejects=[0-9]*' "$OUT/step.out" || true)"
}
C=$((N / 250))
sql -e "DROP DATABASE IF EXISTS ${PREFIX}_src; CREATE DATABASE ${PREFIX}_src"
sql -D "${PREFIX}_src" -e "CREATE TABLE conversations (conversation_id VARCHAR(64) PRIMARY KEY, owner_user_id VARCHAR(64), create_time DATETIME(3));
  INSERT INTO conversations SELECT CONCAT('si_', seq), CONCAT('u', seq % 97), FROM_UNIXTIME(1700000000 + seq) FROM mysql.seq_0_to_$((C - 1));
  CREATE TABLE chat_logs (server_msg_id CHAR(32) PRIMARY KEY, conversation_id VARCHAR(64) NOT NULL, send_id VARCHAR(64), seq BIGINT NOT NULL, content TEXT, send_time DATETIME(3));
  INSERT INTO chat_logs SELECT MD5(seq), CONCAT('si_', seq % $C), CONCAT('u', seq % 97), seq DIV $C + 1,
    CONCAT('{\"content\":\"message ', seq, ' ', REPEAT('x', 60), '\"}'), FROM_UNIXTIME(1700000000 + seq / 1000) FROM mysql.seq_1_to_$N"
cat >"$OUT/embed.yaml" <<YAML
version: 1
datasets:
  - match: "${PREFIX}_src.conversations"
    embed:
      - dataset: "${PREFIX}_src.chat_logs"
        on: {conversation_id: conversation_id}
        into: msgs
        order: [seq]
  - match: "${PREFIX}_src.chat_logs"
    drop: [conversation_id]
YAML
watch_runs() { local most=0 n; while sleep 0.5; do n=$(find "$OUT/tmp" -name 'imbundle-sort-*' | wc -l); [ "$n" -gt "$most" ] && most=$n && echo "$most" >"$OUT/most-runs"; done; }
echo 0 >"$OUT/most-runs"
DS="${PREFIX}_src.conversations"
{
	echo "# Rows of another table embedded into documents, $(date -u +%Y-%m-%d)"
	echo
	echo "$C conversations, $N chat_logs rows (250 a conversation), MariaDB $(sql -e 'SELECT VERSION()'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at the start."
	echo
	echo "| step | wall | CPU | peak RSS | output |"
	echo "|---|---|---|---|---|"
	timed "export (MySQL)" "$B" -q export --source "$MY/${PREFIX}_src" -o "$OUT/chat.imb"
	timed "convert conversations plain (§11.1), in-process" "$OUT/nest" "$OUT/chat.imb" "$DS"
	timed "convert chat_logs plain (§11.1), in-process" "$OUT/nest" "$OUT/chat.imb" "${PREFIX}_src.chat_logs"
	watch_runs & W=$!
	timed "convert conversations embedding chat_logs (--sort-memory $SORT_MIB), in-process" "$OUT/nest" "$OUT/chat.imb" "$DS" "$OUT/embed.yaml" "$SORT_MIB" "$OUT/tmp"
	kill $W 2>/dev/null || true
	echo
	echo "most sort files at once: $(cat "$OUT/most-runs"); left after: $(find "$OUT/tmp" -name 'imbundle-sort-*' | wc -l); bundle $(du -m "$OUT/chat.imb" | cut -f1) MiB."
} | tee "$OUT/result.md"
