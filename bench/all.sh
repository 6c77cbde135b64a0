#!/usr/bin/env bash
# bench/all.sh: every comparison of issue 9 in one run, one markdown table
# of ratios against the tools users would pick instead and against the
# machine's limits, with peak RSS (issue 9, items 5 and 7).
#
#   shape                 imbundle step     peer (what the ratio divides by)
#   WildfireChat MySQL    export            mysqldump --single-transaction --quick | zstd -3
#                         bundle size       that dump's size
#                         import            zstd -dc dump | mysql
#   sakila-sized MySQL    export, import    mysqldump --routines --triggers --events | zstd -3, and mysql <
#   one big table         export            a raw client read (mysql --quick, output to /dev/null)
#   (OpenIM chat_logs)    import            one LOAD DATA LOCAL INFILE into the table without its
#                                           secondary indexes, plus one ALTER TABLE adding them
#   Redis big keys        export, import    pipelined DUMP+PTTL / RESTORE loop (4+4 connections)
#   Redis small keys      export            the same DUMP loop
#   Redis write ceiling   -                 redis-benchmark -P 64 -t set (keys/s, for scale)
#   MySQL to MongoDB      converted import  a plain import of the same documents as a MongoDB bundle
#                                           (issue 10: the conversion adds at most 25%)
#
# Every timed pair runs BENCH_ROUNDS times (default 3), alternating
# (imbundle, peer, imbundle, peer, ...), and the medians count: on a 2-core
# machine one run of either varies by 20-30%. Wall seconds from GNU time,
# peak RSS is the largest process's maximum resident set (for a pipeline,
# its largest member).
#
# Environment:
#   BENCH_SCALES   space-separated multipliers of every size (default "1");
#                  "1 10" runs everything twice and adds a linearity table
#                  (per-row time at 10x / at 1x; issue 9 item 5 wants <= 1.2)
#   BENCH_ONLY     sections to run (default "wildfire sakila bigtable bigkeys smallkeys convert")
#   BENCH_MONGO    mongodb:// URL for the convert section (default: a FerretDB started here)
#   BENCH_ROUNDS   alternating rounds per pair (default 3)
#   BENCH_MYSQL    user@host:port (default root@127.0.0.1:3306); the server must run on
#                  this machine (the LOAD DATA ceiling reads a file the server wrote)
#   REDIS_HOST, REDIS_PORT  (default 127.0.0.1:6379); databases 14 and 15 are used and emptied
#   Sizes at scale 1: WF_MESSAGES=300000, SAKILA_RENTALS=16044 (capped at 60000),
#   BIG_MESSAGES=400000, BIG_KEYS=6000, SMALL_KEYS=300000, CONVERT_MESSAGES=100000.
# Fixture databases (imbundle_bench_*) are created once and reused; targets are dropped.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

SCALES=${BENCH_SCALES:-1}
ONLY=${BENCH_ONLY:-wildfire sakila bigtable bigkeys smallkeys convert}
ROUNDS=${BENCH_ROUNDS:-3}
MYSQL_ADDR=${BENCH_MYSQL:-root@127.0.0.1:3306}
MYSQL_USER=${MYSQL_ADDR%@*}
MYSQL_HOSTPORT=${MYSQL_ADDR#*@}
MYSQL_HOST=${MYSQL_HOSTPORT%:*}
MYSQL_PORT=${MYSQL_HOSTPORT#*:}
RHOST=${REDIS_HOST:-127.0.0.1}
RPORT=${REDIS_PORT:-6379}
R="redis://$RHOST:$RPORT"
OUT=bench/out
WORK=$OUT/all-work
mkdir -p "$WORK"
echo '*' >"$OUT/.gitignore"

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

need=()
for t in zstd:zstd mysqldump:mariadb-client mariadb:mariadb-client redis-cli:redis-tools redis-benchmark:redis-tools bc:bc; do
	command -v "${t%%:*}" >/dev/null || need+=("${t#*:}")
done
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y "${need[@]}" >/dev/null || { apt-get update >/dev/null && apt-get install -y "${need[@]}" >/dev/null; }
fi

log "building"
go build -o "$WORK/imbundle" ./cmd/imbundle
go build -o "$WORK/redisbench" ./bench/redis
IMB=$WORK/imbundle

sql() { mariadb -u"$MYSQL_USER" -h"$MYSQL_HOST" -P"$MYSQL_PORT" --protocol=tcp -N -B "$@"; }
murl() { echo "mysql://$MYSQL_USER@$MYSQL_HOST:$MYSQL_PORT/$1"; }
myargs="-u$MYSQL_USER -h$MYSQL_HOST -P$MYSQL_PORT --protocol=tcp"
fresh_db() { sql -e "DROP DATABASE IF EXISTS \`$1\`; CREATE DATABASE \`$1\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"; }
drop_db() { sql -e "DROP DATABASE IF EXISTS \`$1\`"; }
cli() { redis-cli -h "$RHOST" -p "$RPORT" "$@"; }
rows_of() { sql -e "SELECT COALESCE(SUM(TABLE_ROWS),0) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$1' AND TABLE_TYPE='BASE TABLE'"; }
exact_rows() { # exact row count of every base table of a database
	local q
	q=$(sql -e "SELECT GROUP_CONCAT(CONCAT('SELECT COUNT(*) n FROM \`', TABLE_SCHEMA, '\`.\`', TABLE_NAME, '\`') SEPARATOR ' UNION ALL ') FROM information_schema.TABLES WHERE TABLE_SCHEMA='$1' AND TABLE_TYPE='BASE TABLE'")
	sql -e "SET SESSION group_concat_max_len = 1000000; SELECT SUM(n) FROM ($q) x"
}

# timed NAME CMD: runs CMD (a bash string) under GNU time; appends
# "wall_s rss_mib cpu_s" to $WORK/NAME.runs. A failure stops the benchmark.
timed() {
	local name=$1
	shift
	/usr/bin/time -f '%e %M %U %S' -o "$WORK/$name.time" bash -c "set -o pipefail; $*" >"$WORK/$name.log" 2>&1 || {
		log "$name FAILED:"
		tail -5 "$WORK/$name.log" >&2
		exit 1
	}
	# For a pipeline GNU time reports bash's largest child: the largest member.
	awk '{printf "%s %.0f %.2f\n", $1, $2/1024, $3+$4}' "$WORK/$name.time" >>"$WORK/$name.runs"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
med() { cut -d' ' -f1 "$WORK/$1.runs" | median; }
maxrss() { cut -d' ' -f2 "$WORK/$1.runs" | sort -n | tail -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a/b; else print "-"}'; }
size() { stat -c %s "$1"; }

# Result rows: shape|step|imbundle|peer|peer value|ratio|target|RSS imbundle|RSS peer
declare -a TABLE LINEAR
row() { TABLE+=("| $1 | $2 | $3 | $4 | $5 | $6 | $7 | $8 | $9 |"); }
# per-row time of each imbundle step at each scale, for the linearity table
declare -A PERROW LABEL
declare -a STEPS
perrow() { # perrow NAME LABEL SECONDS ROWS
	[ -n "${LABEL[$1]:-}" ] || { STEPS+=("$1"); LABEL[$1]=$2; }
	PERROW["$1@$SCALE"]=$(awk -v s="$3" -v n="$4" 'BEGIN {if (n > 0) printf "%.3f", s*1e6/n}')
}
pair() { # pair SHAPE STEP IMB_NAME PEER_NAME PEER_LABEL TARGET ROWS
	local a b
	a=$(med "$3")
	b=$(med "$4")
	row "$1" "$2" "${a} s" "$5" "${b} s" "$(ratio "$a" "$b")" "$6" "$(maxrss "$3")" "$(maxrss "$4")"
	perrow "$3" "${1% (x*}: $2" "$a" "$7"
}

section_wildfire() {
	local msgs=$((WF_MESSAGES * SCALE)) db dst
	db=imbundle_bench_wf_$msgs
	if [ "$(sql -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$db' AND TABLE_NAME LIKE 't\_messages\_%'")" -lt 36 ]; then
		log "creating $db (WildfireChat, $msgs messages)"
		"$IMB" -q fixtures wildfirechat --target "$(murl "$db")" --replace --messages "$msgs" >"$WORK/wf-fixture.log"
	fi
	local n tables
	n=$(exact_rows "$db")
	tables=$(sql -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$db'")
	local shape="WildfireChat ${tables} tables, $msgs msgs, $n rows (x$SCALE)"
	dst=imbundle_bench_wf_dst
	rm -f "$WORK"/wf-*.runs
	for i in $(seq "$ROUNDS"); do
		log "wildfire x$SCALE export round $i"
		rm -f "$WORK/wf.imb"
		timed wf-export "$IMB" -q --log-format json export --source "$(murl "$db")" -o "$WORK/wf.imb"
		timed wf-dump "mysqldump $myargs --single-transaction --quick $db | zstd -3 -q -f -o $WORK/wf.sql.zst"
	done
	pair "$shape" export wf-export wf-dump "mysqldump\\|zstd -3" "<= 1.0" "$n"
	row "$shape" "bundle size" "$(size "$WORK/wf.imb") B" "dump.sql.zst" "$(size "$WORK/wf.sql.zst") B" \
		"$(ratio "$(size "$WORK/wf.imb")" "$(size "$WORK/wf.sql.zst")")" "<= 1.0" "" ""
	for i in $(seq "$ROUNDS"); do
		log "wildfire x$SCALE import round $i"
		drop_db "$dst"
		timed wf-import "$IMB" -q --log-format json import "$WORK/wf.imb" --target "$(murl "$dst")"
		fresh_db "$dst"
		timed wf-load "zstd -dc $WORK/wf.sql.zst | mariadb $myargs $dst"
	done
	"$IMB" -q verify "$WORK/wf.imb" --against "$(murl "$dst")" >"$WORK/wf-verify.log" 2>&1 || log "wildfire: verify --against the mysql-loaded copy: $(tail -1 "$WORK/wf-verify.log")"
	pair "$shape" import wf-import wf-load "zstd -dc \\| mysql" "<= 1.0" "$n"
	drop_db "$dst"
}

section_sakila() {
	local rentals=$((SAKILA_RENTALS * SCALE)) db=imbundle_bench_sakila dst=imbundle_bench_sakila_dst
	[ "$rentals" -gt 60000 ] && rentals=60000
	db=${db}_$rentals
	if [ "$(sql -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$db'")" = 0 ]; then
		log "creating $db (sakila-shaped, $rentals extra rentals)"
		"$IMB" -q fixtures sakila --target "$(murl "$db")" --replace --rentals "$rentals" >"$WORK/sakila-fixture.log"
	fi
	local n
	n=$(exact_rows "$db")
	local shape="sakila-shaped, $n rows (x$SCALE)"
	rm -f "$WORK"/sk-*.runs
	for i in $(seq "$ROUNDS"); do
		log "sakila x$SCALE round $i"
		rm -f "$WORK/sk.imb"
		timed sk-export "$IMB" -q --log-format json export --source "$(murl "$db")" -o "$WORK/sk.imb"
		timed sk-dump "mysqldump $myargs --single-transaction --quick --routines --triggers --events --skip-add-locks $db | zstd -3 -q -f -o $WORK/sk.sql.zst"
		drop_db "$dst"
		timed sk-import "$IMB" -q --log-format json import "$WORK/sk.imb" --target "$(murl "$dst")"
		fresh_db "$dst"
		timed sk-load "zstd -dc $WORK/sk.sql.zst | mariadb $myargs $dst"
	done
	pair "$shape" export sk-export sk-dump "mysqldump -R -E --triggers --skip-add-locks \\| zstd" "<= 1.2" "$n"
	row "$shape" "bundle size" "$(size "$WORK/sk.imb") B" "dump.sql.zst" "$(size "$WORK/sk.sql.zst") B" \
		"$(ratio "$(size "$WORK/sk.imb")" "$(size "$WORK/sk.sql.zst")")" "-" "" ""
	pair "$shape" import sk-import sk-load "zstd -dc \\| mysql" "-" "$n"
	drop_db "$dst"
}

section_bigtable() {
	local msgs=$((BIG_MESSAGES * SCALE)) db dst=imbundle_bench_big_dst
	db=imbundle_bench_src_$msgs # the same fixture bench/mysql.sh makes
	if [ "$(sql -e "SELECT COUNT(*) FROM \`$db\`.chat_logs" 2>/dev/null || echo 0)" != "$msgs" ]; then
		log "creating $db (OpenIM v3.4, $msgs chat_logs rows)"
		"$IMB" -q fixtures mysql --target "$(murl "$db")" --replace --edge=false --messages "$msgs" >"$WORK/big-fixture.log"
	fi
	local shape="one big table: chat_logs $msgs rows (x$SCALE)"
	local ddl keys plain tsv
	ddl=$(sql -e "SHOW CREATE TABLE \`$db\`.chat_logs" | cut -f2- | sed 's/\\n/\n/g')
	# The ceiling's table: the same DDL without its secondary keys, which
	# one ALTER adds after the load.
	plain=$(printf '%s\n' "$ddl" | grep -v -E '^\s+(UNIQUE |FULLTEXT |SPATIAL )?KEY ' | sed -z 's/,\n)/\n)/')
	keys=$(printf '%s\n' "$ddl" | grep -E '^\s+(UNIQUE |FULLTEXT |SPATIAL )?KEY ' | sed -e 's/,$//' -e 's/^\s*/ADD /' | paste -sd, -)
	tsv=$(sql -e "SELECT @@secure_file_priv" | sed 's/NULL//')
	tsv=${tsv:-/tmp/}
	tsv=${tsv%/}/imbundle_bench_chat_logs_$msgs.tsv
	[ -f "$tsv" ] || sql -e "SELECT * FROM \`$db\`.chat_logs INTO OUTFILE '$tsv'"
	rm -f "$WORK"/bt-*.runs
	for i in $(seq "$ROUNDS"); do
		log "big table x$SCALE round $i"
		rm -f "$WORK/bt.imb"
		timed bt-export "$IMB" -q --log-format json export --source "$(murl "$db")" --tables chat_logs -o "$WORK/bt.imb"
		timed bt-read "mariadb $myargs --quick -N -B -e 'SELECT * FROM \`$db\`.chat_logs' >/dev/null"
		drop_db "$dst"
		timed bt-import "$IMB" -q --log-format json import "$WORK/bt.imb" --target "$(murl "$dst")"
		fresh_db "$dst"
		sql "$dst" -e "$plain"
		timed bt-load "mariadb $myargs --local-infile=1 $dst -e \"SET foreign_key_checks=0, unique_checks=0; LOAD DATA LOCAL INFILE '$tsv' INTO TABLE chat_logs\" && mariadb $myargs $dst -e 'ALTER TABLE chat_logs $keys'"
	done
	pair "$shape" export bt-export bt-read "raw client read (mysql --quick)" "<= 1.1" "$msgs"
	pair "$shape" import bt-import bt-load "LOAD DATA + ALTER ADD KEY" "<= 1.2" "$msgs"
	drop_db "$dst"
}

# redis_rounds PREFIX LABEL: alternating rounds of the DUMP/RESTORE loop, an
# export and an import of db 14 into db 15, then verify --against.
redis_rounds() {
	local p=$1 label=$2
	rm -f "$WORK/$p"-*.runs
	for i in $(seq "$ROUNDS"); do
		log "$label x$SCALE round $i"
		cli -n 15 FLUSHDB >/dev/null
		timed "$p-dump" "$WORK/redisbench" dumpcopy -from "$R/14" -to "$R/15"
		cli -n 15 FLUSHDB >/dev/null
		rm -f "$WORK/$p.imb"
		timed "$p-export" "$IMB" -q --log-format json export --source "$R/14" -o "$WORK/$p.imb"
		timed "$p-import" "$IMB" -q --log-format json import "$WORK/$p.imb" --target "$R" --db-map 14:15
	done
	"$IMB" -q verify "$WORK/$p.imb" --against "$R" --db-map 14:15 >"$WORK/$p-verify.log" 2>&1 || { log "$label: verify --against failed"; cat "$WORK/$p-verify.log" >&2; exit 1; }
}
flush_redis() { cli -n 14 FLUSHDB >/dev/null && cli -n 15 FLUSHDB >/dev/null; }

section_bigkeys() {
	local keys=$((BIG_KEYS * SCALE)) n
	flush_redis
	log "loading $keys big keys into db 14"
	"$WORK/redisbench" bigkeys -url "$R/14" -keys "$keys" -seed 1 >"$WORK/bk-fixture.log"
	n=$(awk '/bigkeys:/ {print $4}' "$WORK/bk-fixture.log")
	local shape="Redis $keys big keys, $n elements (x$SCALE)"
	redis_rounds bk "big keys"
	pair "$shape" export bk-export bk-dump "pipelined DUMP/RESTORE loop" "<= 2.0 (goal 1.0)" "$n"
	pair "$shape" import bk-import bk-dump "pipelined DUMP/RESTORE loop" "<= 2.0 (goal 1.0)" "$n"
	flush_redis
}

section_smallkeys() {
	local keys=$((SMALL_KEYS * SCALE)) rb
	flush_redis
	log "loading $keys small keys into db 14"
	"$WORK/redisbench" load -url "$R/14" -keys "$keys" >"$WORK/sm-fixture.log"
	local shape="Redis $keys small keys (x$SCALE)"
	redis_rounds sm "small keys"
	pair "$shape" export sm-export sm-dump "pipelined DUMP/RESTORE loop" "<= 1.0" "$keys"
	pair "$shape" import sm-import sm-dump "pipelined DUMP/RESTORE loop" "-" "$keys"
	cli -n 15 FLUSHDB >/dev/null
	rm -f "$WORK/rb.runs"
	timed rb "redis-benchmark -h $RHOST -p $RPORT --dbnum 15 -P 64 -t set -n $keys -q"
	rb=$(tr '\r' '\n' <"$WORK/rb.log" | grep -o 'SET: [0-9.]* requests' | tail -1 | awk '{printf "%.0f", $2}')
	row "$shape" "(ceiling)" "-" "redis-benchmark -P 64 SET" "$rb keys/s" "-" "-" "" "$(maxrss rb)"
	flush_redis
}

# The MongoDB server for the conversion section: BENCH_MONGO, or a
# FerretDB built from tools/ferretdb and started here.
FD_PID=""
stop_ferretdb() { [ -n "$FD_PID" ] && kill "$FD_PID" 2>/dev/null && wait "$FD_PID" 2>/dev/null; FD_PID=""; }
trap stop_ferretdb EXIT
mongo_uri() {
	[ -n "${MONGO_URI:-}" ] && return
	if [ -n "${BENCH_MONGO:-}" ]; then
		MONGO_URI=${BENCH_MONGO%/}
		return
	fi
	(cd tools/ferretdb && go build -o "../../$WORK/ferretdb" .)
	rm -rf "$WORK/ferretdb-data"
	"$WORK/ferretdb" -listen 127.0.0.1:0 -dir "$WORK/ferretdb-data" >"$WORK/ferretdb.out" 2>"$WORK/ferretdb.log" &
	FD_PID=$!
	for _ in $(seq 1 100); do grep -q '^listening ' "$WORK/ferretdb.out" 2>/dev/null && break; sleep 0.1; done
	MONGO_URI=$(sed -n 's/^listening //p' "$WORK/ferretdb.out")
	MONGO_URI=${MONGO_URI%/}
	[ -n "$MONGO_URI" ] || { log "FerretDB did not start"; cat "$WORK/ferretdb.log" >&2; exit 1; }
}

# section_convert: issue 10's target, a MySQL table imported into MongoDB
# through the default conversion against a plain import of the same rows
# as a MongoDB bundle (exported from the converted collection).
section_convert() {
	local msgs=$((CONVERT_MESSAGES * SCALE)) db
	db=imbundle_bench_src_$msgs
	if [ "$(sql -e "SELECT COUNT(*) FROM \`$db\`.chat_logs" 2>/dev/null || echo 0)" != "$msgs" ]; then
		log "creating $db (OpenIM v3.4, $msgs chat_logs rows)"
		"$IMB" -q fixtures mysql --target "$(murl "$db")" --replace --edge=false --messages "$msgs" >"$WORK/cv-fixture.log"
	fi
	mongo_uri
	local shape="MySQL chat_logs $msgs rows into MongoDB (x$SCALE)"
	rm -f "$WORK"/cv-*.runs "$WORK/cv.imb" "$WORK/cvm.imb"
	"$IMB" -q export --source "$(murl "$db")" --tables chat_logs -o "$WORK/cv.imb" 2>"$WORK/cv-export.log"
	for i in $(seq "$ROUNDS"); do
		log "convert x$SCALE round $i"
		timed cv-convert "$IMB" -q --log-format json import "$WORK/cv.imb" --target "$MONGO_URI/cv_a$i" --map "$db=cv_a$i"
		if [ ! -f "$WORK/cvm.imb" ]; then
			"$IMB" -q export --source "$MONGO_URI/cv_a$i" -o "$WORK/cvm.imb" 2>"$WORK/cvm-export.log"
		fi
		timed cv-plain "$IMB" -q --log-format json import "$WORK/cvm.imb" --target "$MONGO_URI/cv_b$i" --map "cv_a1=cv_b$i"
	done
	"$IMB" -q verify "$WORK/cv.imb" --against "$MONGO_URI/cv_a1" --map "$db=cv_a1" >"$WORK/cv-verify.log" 2>&1 || { log "convert: verify --against failed"; cat "$WORK/cv-verify.log" >&2; exit 1; }
	pair "$shape" "import, converted" cv-convert cv-plain "plain import of the same documents" "<= 1.25" "$msgs"
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date -u +%Y-%m-%dT%H:%MZ)
for SCALE in $SCALES; do
	WF_MESSAGES=${WF_MESSAGES:-300000} SAKILA_RENTALS=${SAKILA_RENTALS:-16044}
	BIG_MESSAGES=${BIG_MESSAGES:-400000} BIG_KEYS=${BIG_KEYS:-6000} SMALL_KEYS=${SMALL_KEYS:-300000}
	CONVERT_MESSAGES=${CONVERT_MESSAGES:-100000}
	for s in $ONLY; do "section_$s"; done
done

REPORT=$OUT/all-$(date -u +%Y-%m-%d).md
{
	echo "imbundle $(git describe --always --dirty), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), started $START, $ROUNDS alternating rounds (medians)"
	echo "MariaDB $(sql -e 'SELECT VERSION()'), Redis $(cli INFO server | awk -F: '/^redis_version/ {print $2}' | tr -d '\r')"
	echo "load average before: $LOAD0; after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "| shape | step | imbundle | peer | peer | imbundle / peer | target | imbundle peak RSS MiB | peer peak RSS MiB |"
	echo "|---|---|---:|---|---:|---:|---|---:|---:|"
	printf '%s\n' "${TABLE[@]}"
	if [ "$(echo "$SCALES" | wc -w)" -gt 1 ]; then
		first=${SCALES%% *}
		echo
		echo "Linearity: microseconds per row (per element for Redis big keys, per key for small keys) of each imbundle step at each scale, and the last scale's over the first's (issue 9 item 5 wants <= 1.2). Labels give the first scale's sizes."
		echo
		echo "| step |$(for s in $SCALES; do printf ' x%s us/row |' "$s"; done) ratio |"
		echo "|---|$(for s in $SCALES; do printf -- '---:|'; done)---:|"
		for st in "${STEPS[@]}"; do
			line="| ${LABEL[$st]} |"
			for s in $SCALES; do line+=" ${PERROW[$st@$s]:-} |"; done
			line+=" $(ratio "${PERROW[$st@${SCALES##* }]:-0}" "${PERROW[$st@$first]:-0}") |"
			echo "$line"
		done
	fi
} | tee "$REPORT"
log "report: $REPORT; logs and GNU time outputs in $WORK"
