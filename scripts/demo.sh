#!/usr/bin/env bash
# The main job end to end on fixture data: fill a MariaDB database and a
# Redis database with one OpenIM v3.4-shaped site (same users and
# conversations), export both into one bundle, verify the bundle offline,
# import it into a second MariaDB database and a second Redis database, and
# verify both against the bundle. Scale with DEMO_MESSAGES (default 200000).
set -euo pipefail
cd "$(dirname "$0")/.."

out=${DEMO_DIR:-${TMPDIR:-/tmp}/imbundle-demo}
mysql=${DEMO_MYSQL:-root@127.0.0.1:3306}
redis=${DEMO_REDIS:-127.0.0.1:6379}
src=imbundle_demo_src
dst=imbundle_demo_dst
rsrc=7 # Redis logical databases used by the demo (the tests use 9-15)
rdst=8
msgs=${DEMO_MESSAGES:-200000}
mkdir -p "$out"
go build -buildvcs=auto -o "$out/imbundle" ./cmd/imbundle # the revision goes into version and manifests
imb="$out/imbundle"
step() { printf '\n== %s\n' "$*"; }

step "fixture: OpenIM v3.4 MySQL schema with $msgs chat_logs rows and every type's edge values; its Redis seqs and tokens, and Redis edge keys"
mariadb -uroot -h127.0.0.1 -e "DROP DATABASE IF EXISTS $src; DROP DATABASE IF EXISTS $dst"
"$imb" fixtures mysql --target "mysql://$mysql/$src" --messages "$msgs"
"$imb" fixtures redis --target "redis://$redis/$rsrc" --messages "$msgs" --big 100000 --replace
redis-cli -h "${redis%:*}" -p "${redis#*:}" -n "$rdst" FLUSHDB >/dev/null

step "export MySQL and Redis into one bundle"
rm -f "$out/demo.imb"
"$imb" export --source "mysql://$mysql/$src" --source "redis://$redis/$rsrc" \
	--param relations="$("$imb" fixtures mysql relations)" -o "$out/demo.imb"

step "verify (offline)"
"$imb" verify "$out/demo.imb"
"$imb" inspect "$out/demo.imb"

step "import into MySQL database $dst and Redis database $rdst"
"$imb" import "$out/demo.imb" --target "mysql://$mysql/$dst"
"$imb" import "$out/demo.imb" --target "redis://$redis" --db-map "$rsrc:$rdst"

step "verify the targets against the bundle"
"$imb" verify "$out/demo.imb" --against "mysql://$mysql/$dst"
"$imb" verify "$out/demo.imb" --against "redis://$redis" --db-map "$rsrc:$rdst"

printf '\ndemo OK: bundle at %s\n' "$out/demo.imb"
