#!/usr/bin/env bash
# bench/mysql-import-ab.sh: imbundle import against `zstd -dc dump | mysql`
# of the same database, alternating (A B A B ...), each into a fresh
# database dropped afterwards; prints every run and the medians (issue 9:
# WildfireChat-shaped import <= 1.0x the SQL dump's).
#
#   bench/mysql-import-ab.sh SOURCE_DB [ROUNDS] [-- extra import args]
#
# The source is read once: `imbundle export` to bench/out/SOURCE_DB.imb and
# `mysqldump --single-transaction --quick | zstd -3` to
# bench/out/SOURCE_DB.sql.zst (both reused when present; delete them to
# redo). Target databases are named ${BENCH_PREFIX:-imbundle_ab}_<kind>_<n>.
# Environment: BENCH_MYSQL user@host:port (default root@127.0.0.1:3306),
# IMBUNDLE (a built binary; default: go build ./cmd/imbundle).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=${1:?usage: $0 SOURCE_DB [ROUNDS] [-- import args]}
ROUNDS=${2:-3}
shift $(($# < 2 ? $# : 2))
[ "${1:-}" = "--" ] && shift
ADDR=${BENCH_MYSQL:-root@127.0.0.1:3306}
USER_=${ADDR%@*}; HOSTPORT=${ADDR#*@}; HOST=${HOSTPORT%:*}; PORT=${HOSTPORT#*:}
PREFIX=${BENCH_PREFIX:-imbundle_ab}
OUT=bench/out
mkdir -p "$OUT"
echo '*' > "$OUT/.gitignore"
sql() { mariadb -u"$USER_" -h"$HOST" -P"$PORT" --protocol=tcp "$@"; }
BIN=${IMBUNDLE:-$OUT/imbundle}
[ -n "${IMBUNDLE:-}" ] || go build -o "$BIN" ./cmd/imbundle
BUNDLE=$OUT/$SRC.imb DUMP=$OUT/$SRC.sql.zst
[ -s "$BUNDLE" ] || "$BIN" -q export --source "mysql://$USER_@$HOST:$PORT/$SRC" -o "$BUNDLE"
[ -s "$DUMP" ] || mysqldump -u"$USER_" -h"$HOST" -P"$PORT" --protocol=tcp --single-transaction --quick "$SRC" | zstd -3 -q >"$DUMP"

runs=$OUT/ab-$SRC.runs
: >"$runs"
for r in $(seq 1 "$ROUNDS"); do
  for kind in imbundle sql; do
    db=${PREFIX}_${kind}_$r
    sql -e "DROP DATABASE IF EXISTS \`$db\`"
    load=$(cut -d' ' -f1 /proc/loadavg)
    if [ $kind = imbundle ]; then
      /usr/bin/time -f "%e %U %S %M" -o "$OUT/ab.time" "$BIN" -q import "$@" --target "mysql://$USER_@$HOST:$PORT/$db" "$BUNDLE" >/dev/null
    else
      sql -e "CREATE DATABASE \`$db\`"
      /usr/bin/time -f "%e %U %S %M" -o "$OUT/ab.time" sh -c "zstd -dc '$DUMP' | mariadb -u'$USER_' -h'$HOST' -P'$PORT' --protocol=tcp '$db'"
    fi
    read -r wall user sys rss <"$OUT/ab.time"
    echo "$kind $r $wall $user $sys $rss $load" | tee -a "$runs"
    sql -e "DROP DATABASE IF EXISTS \`$db\`"
  done
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mi=$(awk '$1=="imbundle"{print $3}' "$runs" | median)
ms=$(awk '$1=="sql"{print $3}' "$runs" | median)
echo
echo "| $SRC ($ROUNDS rounds, alternating) | median wall s | client CPU s (user+sys, median) | peak RSS MiB (max) |"
echo "|---|---:|---:|---:|"
for kind in imbundle sql; do
  cpu=$(awk -v k=$kind '$1==k{print $4+$5}' "$runs" | median)
  rss=$(awk -v k=$kind '$1==k{if($6>m)m=$6} END{printf "%.0f", m/1024}' "$runs")
  w=$([ $kind = imbundle ] && echo "$mi" || echo "$ms")
  echo "| $kind | $w | $cpu | $rss |"
done
echo
echo "imbundle / sql: $(awk -v a="$mi" -v b="$ms" 'BEGIN{printf "%.2fx", a/b}')"
