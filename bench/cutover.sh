#!/usr/bin/env bash
# bench/cutover.sh: the README's "Cut over with deltas" runbook, run as
# written on the 2M-row OpenIM fixture, with the time of each step
# (issue 12, item 3). A background writer changes the source (inserts,
# updates, deletes of chat_logs rows and users) while the site is "live";
# it stops for the freeze. The results go to bench/results/cutover-DATE.md.
#
#   CUT_MESSAGES   chat_logs rows of the fixture (default 2000000)
#   CUT_MYSQL      user@host:port (default root@127.0.0.1:3306)
# Databases imbundle_cut_src (reused once built) and imbundle_cut_dst
# (dropped first) are used; the bundles go to bench/out/cutover/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

MSGS=${CUT_MESSAGES:-2000000}
ADDR=${CUT_MYSQL:-root@127.0.0.1:3306}
USER=${ADDR%@*}
HOSTPORT=${ADDR#*@}
SRC="mysql://$ADDR/imbundle_cut_src"
DST="mysql://$ADDR/imbundle_cut_dst"
WORK=bench/out/cutover
mkdir -p "$WORK"
echo '*' >bench/out/.gitignore
sql() { mariadb -u"$USER" -h"${HOSTPORT%:*}" -P"${HOSTPORT#*:}" "$@"; }
log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

go build -o "$WORK/imbundle" ./cmd/imbundle
IMB=$WORK/imbundle
if [ "$(sql -N -e "SELECT COUNT(*) FROM imbundle_cut_src.chat_logs" 2>/dev/null || echo 0)" -lt "$MSGS" ]; then
	log "creating imbundle_cut_src ($MSGS chat_logs rows)"
	"$IMB" -q fixtures mysql --target "$SRC" --messages "$MSGS" --replace >/dev/null
fi
sql -e "DROP DATABASE IF EXISTS imbundle_cut_dst"
rm -f "$WORK"/*.imb "$WORK"/*.imb.*

# The live site: every half second some messages arrive, some change
# status, some are deleted, a user changes a nickname.
live() {
	local i=0 run
	run=$(date +%s)
	while [ ! -e "$WORK/freeze" ]; do
		i=$((i + 1))
		# One statement per client call: a failure of one (logged) does
		# not skip the others. IDs carry the run's time: a second run
		# inserts new rows, not duplicates of the first run's.
		sql imbundle_cut_src -e "INSERT IGNORE INTO chat_logs SELECT CONCAT('live-$run-$i-', LEFT(server_msg_id, 32)), client_msg_id, send_id, recv_id, sender_platform_id,
			sender_nick_name, sender_face_url, session_type, msg_from, content_type, content, status, NOW(3), NOW(3), ex
			FROM chat_logs WHERE server_msg_id NOT LIKE 'live-%' ORDER BY server_msg_id LIMIT $((i * 37 % 500)), 200" || log "live insert failed"
		sql imbundle_cut_src -e "UPDATE chat_logs SET status = status + 1 WHERE server_msg_id NOT LIKE 'live-%' ORDER BY server_msg_id LIMIT 100" || log "live update failed"
		sql imbundle_cut_src -e "DELETE FROM chat_logs WHERE server_msg_id NOT LIKE 'live-%' ORDER BY send_time LIMIT 20" || log "live delete failed"
		sql imbundle_cut_src -e "UPDATE users SET name = CONCAT('nick-$run-$i') ORDER BY user_id LIMIT 1" || log "live user update failed"
		sleep 0.5
	done
}
rm -f "$WORK/freeze"
live &
LIVE=$!
trap 'touch "$WORK/freeze"; wait $LIVE 2>/dev/null || true' EXIT

declare -a STEP TOOK
step() { # name, command...
	local name=$1 t0 t1
	shift
	log "$name"
	t0=$(date +%s.%N)
	"$@"
	t1=$(date +%s.%N)
	STEP+=("$name")
	TOOK+=("$(echo "$t1 - $t0" | bc)")
}

step "1. full bundle while live: export" "$IMB" -q export --source "$SRC" -o "$WORK/base.imb"
step "2. carry and check it: verify" "$IMB" -q verify "$WORK/base.imb"
step "3. import it into the new site" "$IMB" -q import "$WORK/base.imb" --target "$DST" --no-rollback
step "4. delta while live: export --since" "$IMB" -q export --source "$SRC" --since "$WORK/base.imb" -o "$WORK/d1.imb"
step "5. import the delta" "$IMB" -q import "$WORK/d1.imb" --target "$DST"
touch "$WORK/freeze"
wait $LIVE || true
trap - EXIT
step "6. write freeze: last delta" "$IMB" -q export --source "$SRC" --since "$WORK/base.imb" --since "$WORK/d1.imb" -o "$WORK/d2.imb"
step "7. import the last delta" "$IMB" -q import "$WORK/d2.imb" --target "$DST"
step "8. verify the chain against the new site" "$IMB" -q verify "$WORK/base.imb" "$WORK/d1.imb" "$WORK/d2.imb" --against "$DST"

out=bench/results/cutover-$(date +%F).md
{
	echo "# Cutover with deltas: $MSGS chat_logs rows (bench/cutover.sh, $(date -u +%FT%TZ))"
	echo
	echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); load before the run: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
	echo "| step | seconds |"
	echo "|---|---:|"
	for i in "${!STEP[@]}"; do
		echo "| ${STEP[$i]} | ${TOOK[$i]} |"
	done
	echo
	echo "| bundle | bytes |"
	echo "|---|---:|"
	for f in base d1 d2; do
		echo "| $f.imb | $(stat -c %s "$WORK/$f.imb") |"
	done
	echo
	echo '```'
	"$IMB" inspect "$WORK/d2.imb" | sed -n '/^delta/,/^$/p'
	echo '```'
} >"$out"
log "wrote $out"
cat "$out"
