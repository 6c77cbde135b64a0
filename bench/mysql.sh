#!/usr/bin/env bash
# bench/mysql.sh: imbundle's MySQL path side by side with the usual tools,
# in one run, on one OpenIM fixture (issue 2, item 11).
#
#   export: imbundle export   vs  mysqldump --single-transaction --quick | zstd -3
#                              vs  mydumper --compress (0.10: gzip, not zstd)
#   import: imbundle import   vs  myloader   vs  one LOAD DATA LOCAL INFILE of a chat_logs TSV
#   verify: imbundle verify (offline)
#
# For each: wall time, rows, rows/s, output size, peak RSS (GNU time's
# "Maximum resident set size"; for a pipeline, the largest process of it),
# and the imbundle/peer ratios. The table is printed and saved to
# bench/out/mysql-<date>.md.
#
# Environment:
#   BENCH_MESSAGES  chat_logs rows (default 2000000); 50000 for a quick run
#   BENCH_USERS, BENCH_GROUPS  fixture scale (default: the fixture defaults)
#   BENCH_SEED      fixture seed (default 1)
#   BENCH_MYSQL     user@host:port of the server (default root@127.0.0.1:3306);
#                   the server must run on this machine (the LOAD DATA peer
#                   reads a file the server wrote with SELECT ... INTO OUTFILE)
#   BENCH_KEEP=1    keep the target databases afterwards
#   BENCH_EXPORT_RUNS  runs of each of the two timed exports (default 3; the median counts)
#
# The fixture database is created once and reused while it holds the right
# number of chat_logs rows.
set -euo pipefail
cd "$(dirname "$0")/.."

MESSAGES=${BENCH_MESSAGES:-2000000}
SEED=${BENCH_SEED:-1}
MYSQL_ADDR=${BENCH_MYSQL:-root@127.0.0.1:3306}
MYSQL_USER=${MYSQL_ADDR%@*}
MYSQL_HOSTPORT=${MYSQL_ADDR#*@}
MYSQL_HOST=${MYSQL_HOSTPORT%:*}
MYSQL_PORT=${MYSQL_HOSTPORT#*:}
SRC=imbundle_bench_src_${MESSAGES}
DST_IMB=imbundle_bench_imb
DST_MYL=imbundle_bench_myloader
DST_LD=imbundle_bench_loaddata
OUT=bench/out
WORK=$OUT/mysql-work
mkdir -p "$OUT" "$WORK"
echo '*' > "$OUT/.gitignore" # build outputs and data never get committed

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- tools --------------------------------------------------------------
need_apt=()
for t in mydumper:mydumper myloader:mydumper zstd:zstd mysqldump:mariadb-client mariadb:mariadb-client; do
  command -v "${t%%:*}" >/dev/null || need_apt+=("${t#*:}")
done
[ -x /usr/bin/time ] || need_apt+=(time)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y "${need_apt[@]}" >/dev/null || { apt-get update >/dev/null && apt-get install -y "${need_apt[@]}" >/dev/null; }
fi

sql() { mariadb -u"$MYSQL_USER" -h"$MYSQL_HOST" -P"$MYSQL_PORT" --protocol=tcp -N -B "$@"; }
url() { echo "mysql://$MYSQL_USER@$MYSQL_HOST:$MYSQL_PORT/$1"; }

log "building imbundle"
go build -o "$OUT/imbundle" ./cmd/imbundle
IMB=$OUT/imbundle

# --- fixture ------------------------------------------------------------
have=$(sql -e "SELECT COUNT(*) FROM \`$SRC\`.chat_logs" 2>/dev/null || echo 0)
if [ "$have" != "$MESSAGES" ]; then
  log "creating fixture $SRC ($MESSAGES chat_logs rows)"
  scale=(--messages "$MESSAGES" --seed "$SEED")
  [ -n "${BENCH_USERS:-}" ] && scale+=(--users "$BENCH_USERS")
  [ -n "${BENCH_GROUPS:-}" ] && scale+=(--groups "$BENCH_GROUPS")
  /usr/bin/time -v -o "$WORK/fixture.time" "$IMB" fixtures mysql --target "$(url "$SRC")" --replace --edge=false "${scale[@]}" >&2
  log "fixture loaded: $(grep -E 'Elapsed' "$WORK/fixture.time" | sed 's/.*: //')"
else
  log "reusing fixture $SRC"
fi
SRC_ROWS=$(sql -e "SELECT SUM(n) FROM (SELECT COUNT(*) n FROM \`$SRC\`.users $(for t in friends friend_requests blacks \`groups\` group_members group_requests conversations chat_logs logs object; do echo "UNION ALL SELECT COUNT(*) FROM \`$SRC\`.$t"; done)) x")
log "source: $SRC_ROWS rows in all tables, $MESSAGES in chat_logs"

# --- measurement ----------------------------------------------------------
# run NAME CMD: runs CMD under GNU time, records wall seconds and peak RSS.
declare -A WALL RSS ROWS SIZE STATUS
run() {
  local name=$1; shift
  log "run $name"
  local t0 t1
  t0=$(date +%s.%N)
  if /usr/bin/time -v -o "$WORK/$name.time" bash -c "$*" >"$WORK/$name.out" 2>"$WORK/$name.err"; then
    STATUS[$name]=ok
  else
    STATUS[$name]="failed (see $WORK/$name.err)"
    log "$name FAILED: $(tail -3 "$WORK/$name.err")"
  fi
  t1=$(date +%s.%N)
  WALL[$name]=$(echo "$t1 - $t0" | bc -l)
  RSS[$name]=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$WORK/$name.time")
}
size_of() { du -sb "$1" | awk '{print $1}'; }
fresh_db() { sql -e "DROP DATABASE IF EXISTS \`$1\`; CREATE DATABASE \`$1\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"; }

# --- export ---------------------------------------------------------------
# The two exports whose times the target compares run BENCH_EXPORT_RUNS
# times each (default 3), alternating, and the median wall time counts:
# on this 2-core machine a single run of either varies by 20-30%.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
max() { printf '%s\n' "$@" | sort -g | tail -1; }
declare -a IMB_WALLS IMB_RSS DUMP_WALLS DUMP_RSS
EXPORT_RUNS=${BENCH_EXPORT_RUNS:-3}
for i in $(seq 1 "$EXPORT_RUNS"); do
  rm -rf "$WORK/bench.imb" "$WORK/bench.imb.partial" "$WORK/dump.sql.zst"
  run imbundle_export "$IMB" -q export --source "$(url "$SRC")" -o "$WORK/bench.imb"
  IMB_WALLS+=("${WALL[imbundle_export]}"); IMB_RSS+=("${RSS[imbundle_export]}")
  run mysqldump_zstd "set -o pipefail; mysqldump -u$MYSQL_USER -h$MYSQL_HOST -P$MYSQL_PORT --protocol=tcp --single-transaction --quick $SRC | zstd -3 -q -f -o $WORK/dump.sql.zst"
  DUMP_WALLS+=("${WALL[mysqldump_zstd]}"); DUMP_RSS+=("${RSS[mysqldump_zstd]}")
done
log "export walls: imbundle ${IMB_WALLS[*]}; mysqldump|zstd ${DUMP_WALLS[*]}"
WALL[imbundle_export]=$(median "${IMB_WALLS[@]}"); RSS[imbundle_export]=$(max "${IMB_RSS[@]}")
WALL[mysqldump_zstd]=$(median "${DUMP_WALLS[@]}"); RSS[mysqldump_zstd]=$(max "${DUMP_RSS[@]}")
ROWS[imbundle_export]=$SRC_ROWS
[ -f "$WORK/bench.imb" ] && SIZE[imbundle_export]=$(size_of "$WORK/bench.imb")
ROWS[mysqldump_zstd]=$SRC_ROWS
SIZE[mysqldump_zstd]=$(size_of "$WORK/dump.sql.zst")
rm -rf "$WORK/mydumper"

# --long-query-guard: the server is shared with other work; mydumper would
# otherwise abort when any query anywhere has run for 60 s.
run mydumper_gzip mydumper -u "$MYSQL_USER" -h "$MYSQL_HOST" -P "$MYSQL_PORT" -B "$SRC" -o "$WORK/mydumper" --compress --long-query-guard 86400
ROWS[mydumper_gzip]=$SRC_ROWS
SIZE[mydumper_gzip]=$(size_of "$WORK/mydumper")

# --- import ---------------------------------------------------------------
count_rows() { # total rows of the OpenIM tables in database $1
  sql -e "SELECT COALESCE(SUM(n),0) FROM ($(first=1; for t in users friends friend_requests blacks \`groups\` group_members group_requests conversations chat_logs logs object; do
    [ $first = 1 ] || echo "UNION ALL"; first=0; echo "SELECT COUNT(*) n FROM \`$1\`.$t"; done)) x" 2>/dev/null || echo 0
}

sql -e "DROP DATABASE IF EXISTS \`$DST_IMB\`"
run imbundle_import "$IMB" -q import "$WORK/bench.imb" --target "$(url "$DST_IMB")"
ROWS[imbundle_import]=$(count_rows "$DST_IMB")

fresh_db "$DST_MYL"
run myloader myloader -u "$MYSQL_USER" -h "$MYSQL_HOST" -P "$MYSQL_PORT" -d "$WORK/mydumper" -B "$DST_MYL" -o
ROWS[myloader]=$(count_rows "$DST_MYL")

# The LOAD DATA peer: chat_logs only, from a TSV the server writes in
# LOAD DATA's own default format (so NULLs and escapes survive).
TSV=/tmp/imbundle_bench_chat_logs_$$.tsv
rm -f "$TSV"
sql -e "SELECT * FROM \`$SRC\`.chat_logs INTO OUTFILE '$TSV' CHARACTER SET utf8mb4"
SIZE[load_data]=$(size_of "$TSV")
fresh_db "$DST_LD"
sql -e "USE \`$SRC\`; SHOW CREATE TABLE chat_logs" | cut -f2 | sed 's/\\n/ /g' | sql "$DST_LD"
run load_data "mariadb -u$MYSQL_USER -h$MYSQL_HOST -P$MYSQL_PORT --protocol=tcp --local-infile=1 $DST_LD -e \"LOAD DATA LOCAL INFILE '$TSV' INTO TABLE chat_logs CHARACTER SET utf8mb4\""
ROWS[load_data]=$(sql -e "SELECT COUNT(*) FROM \`$DST_LD\`.chat_logs")
rm -f "$TSV"

# --- verify -----------------------------------------------------------------
run imbundle_verify "$IMB" -q verify "$WORK/bench.imb"
SIZE[imbundle_verify]=${SIZE[imbundle_export]:-0}
ROWS[imbundle_verify]=$SRC_ROWS
run imbundle_verify_against "$IMB" -q verify "$WORK/bench.imb" --against "$(url "$DST_IMB")"
ROWS[imbundle_verify_against]=$SRC_ROWS

# --- report -----------------------------------------------------------------
# A failed step reports no numbers, so no ratio can be built on it.
for n in "${!STATUS[@]}"; do
  if [ "${STATUS[$n]}" != ok ]; then unset "WALL[$n]" "ROWS[$n]" "SIZE[$n]" "RSS[$n]"; fi
done
num() { [[ "${1:-}" =~ ^[0-9.]+$ ]] && [ "$(echo "$1 > 0" | bc -l)" = 1 ]; }
mb() { num "${1:-}" && echo "scale=1; $1/1000000" | bc -l | sed 's/^\./0./' || echo "-"; }
rate() { num "${1:-}" && num "${2:-}" && echo "scale=0; $2/$1" | bc -l || echo "-"; }
ratio() { num "${1:-}" && num "${2:-}" && echo "scale=2; $1/$2" | bc -l | sed 's/^\./0./' || echo "-"; }
f1() { num "${1:-}" && printf '%.1f' "$1" || echo "-"; }

DATE=$(date +%Y-%m-%d)
REPORT=$OUT/mysql-$DATE.md
{
  echo "## MySQL benchmark, $DATE"
  echo
  echo "Fixture \`$SRC\`: OpenIM v3.4 world, seed $SEED, $MESSAGES chat_logs rows, $SRC_ROWS rows in all 11 tables. $(nproc) cores; MariaDB $(sql -e 'SELECT VERSION()') with its default settings (innodb_buffer_pool_size $(( $(sql -e 'SELECT @@innodb_buffer_pool_size') / 1048576 )) MiB)."
  echo
  echo "| step | tool | status | wall s | rows | rows/s | output MB | peak RSS MiB |"
  echo "|---|---|---|---:|---:|---:|---:|---:|"
  for n in imbundle_export mysqldump_zstd mydumper_gzip imbundle_import myloader load_data imbundle_verify imbundle_verify_against; do
    case $n in
      *export|mysqldump*|mydumper*) step=export ;;
      *import|myloader|load_data) step=import ;;
      *) step=verify ;;
    esac
    label=$n
    case $n in
      mysqldump_zstd) label="mysqldump --single-transaction --quick \\| zstd -3" ;;
      mydumper_gzip) label="mydumper 0.10 --compress (gzip; 0.10 has no zstd)" ;;
      load_data) label="LOAD DATA LOCAL INFILE (chat_logs TSV only)" ;;
      imbundle_verify) label="imbundle verify (offline)" ;;
      imbundle_verify_against) label="imbundle verify --against" ;;
      *) label="${n/_/ }" ;;
    esac
    echo "| $step | $label | ${STATUS[$n]} | $(f1 "${WALL[$n]:-}") | ${ROWS[$n]:--} | $(rate "${WALL[$n]:-}" "${ROWS[$n]:-}") | $(mb "${SIZE[$n]:-}") | ${RSS[$n]:--} |"
  done
  echo
  echo "Ratios (imbundle / peer; < 1 is better for time, size and RSS, > 1 is better for rows/s):"
  echo
  echo "| comparison | ratio |"
  echo "|---|---:|"
  echo "| export wall: imbundle / mysqldump\\|zstd | $(ratio "${WALL[imbundle_export]:-}" "${WALL[mysqldump_zstd]:-}") |"
  echo "| export size: imbundle / mysqldump\\|zstd | $(ratio "${SIZE[imbundle_export]:-}" "${SIZE[mysqldump_zstd]:-}") |"
  echo "| export wall: imbundle / mydumper | $(ratio "${WALL[imbundle_export]:-}" "${WALL[mydumper_gzip]:-}") |"
  echo "| export size: imbundle / mydumper | $(ratio "${SIZE[imbundle_export]:-}" "${SIZE[mydumper_gzip]:-}") |"
  echo "| import rows/s: imbundle / myloader | $(ratio "$(rate "${WALL[imbundle_import]:-}" "${ROWS[imbundle_import]:-}")" "$(rate "${WALL[myloader]:-}" "${ROWS[myloader]:-}")") |"
  echo "| import rows/s: imbundle / LOAD DATA | $(ratio "$(rate "${WALL[imbundle_import]:-}" "${ROWS[imbundle_import]:-}")" "$(rate "${WALL[load_data]:-}" "${ROWS[load_data]:-}")") |"
  echo "| export peak RSS: imbundle / mysqldump\\|zstd | $(ratio "${RSS[imbundle_export]:-}" "${RSS[mysqldump_zstd]:-}") |"
  echo "| import peak RSS: imbundle / myloader | $(ratio "${RSS[imbundle_import]:-}" "${RSS[myloader]:-}") |"
  echo "| verify offline throughput | $(rate "${WALL[imbundle_verify]:-}" "$(mb "${SIZE[imbundle_verify]:-}")") MB/s |"
  echo
  echo "Export walls of imbundle and mysqldump|zstd are the median of $EXPORT_RUNS alternating runs ($(echo "${IMB_WALLS[*]}" | awk '{for(i=1;i<=NF;i++) printf "%s%.1f", (i>1?", ":""), $i}') s and $(echo "${DUMP_WALLS[*]}" | awk '{for(i=1;i<=NF;i++) printf "%s%.1f", (i>1?", ":""), $i}') s), their RSS the largest. rows = rows written or read by that step: all 11 tables for imbundle, mysqldump, mydumper and myloader; chat_logs only for LOAD DATA, whose output MB is the size of its input TSV. Import rows are counted in the target afterwards. Peak RSS is the client's (for mysqldump|zstd the larger of the two), not the server's."
} | tee "$REPORT"
log "report saved to $REPORT"

if [ -z "${BENCH_KEEP:-}" ]; then
  sql -e "DROP DATABASE IF EXISTS \`$DST_IMB\`; DROP DATABASE IF EXISTS \`$DST_MYL\`; DROP DATABASE IF EXISTS \`$DST_LD\`"
fi
