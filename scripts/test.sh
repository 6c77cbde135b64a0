#!/usr/bin/env bash
# Runs every test against the machine's real servers (MariaDB, Redis) and a
# FerretDB the tests start themselves. Set CI=true to turn a missing server
# into a failure instead of a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go test -count=1 -timeout 40m "$@" ./...
