#!/usr/bin/env bash
# The main job end to end on fixture data: fill a MariaDB database with an
# OpenIM-shaped fixture, export it to a bundle, verify the bundle offline,
# import it into a second database and verify that database against the
# bundle. Scale with DEMO_MESSAGES (chat_logs rows, default 200000).
set -euo pipefail
cd "$(dirname "$0")/.."

out=${DEMO_DIR:-${TMPDIR:-/tmp}/imbundle-demo}
mysql=${DEMO_MYSQL:-root@127.0.0.1:3306}
src=imbundle_demo_src
dst=imbundle_demo_dst
mkdir -p "$out"
go build -o "$out/imbundle" ./cmd/imbundle
imb="$out/imbundle"
step() { printf '\n== %s\n' "$*"; }

step "fixture: OpenIM v3.4 MySQL schema, ${DEMO_MESSAGES:-200000} chat_logs rows, plus every type's edge values"
mariadb -uroot -h127.0.0.1 -e "DROP DATABASE IF EXISTS $src; DROP DATABASE IF EXISTS $dst"
"$imb" fixtures mysql --target "mysql://$mysql/$src" --messages "${DEMO_MESSAGES:-200000}"

step "export"
rm -f "$out/demo.imb"
"$imb" export --source "mysql://$mysql/$src" -o "$out/demo.imb"

step "verify (offline)"
"$imb" verify "$out/demo.imb"
"$imb" inspect "$out/demo.imb"

step "import into $dst"
"$imb" import "$out/demo.imb" --target "mysql://$mysql/$dst"

step "verify --against $dst"
"$imb" verify "$out/demo.imb" --against "mysql://$mysql/$dst"

printf '\ndemo OK: bundle at %s\n' "$out/demo.imb"
