#!/usr/bin/env bash
# The whole test suite (`make test`). Two kinds of pytest process (DESIGN D1): one for
# everything that uses grpcio, one per service for the eventlet-patched nameko worker tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin
bash scripts/ensure_services.sh
bash scripts/ensure_tools.sh
echo "== ruff"
$PY/ruff check services tests bench
status=0
echo "== unit, service, integration, reliability, end-to-end, deploy"
$PY/pytest services tests "$@" || status=$?
for dir in services/*/tests/worker; do
  [ -d "$dir" ] || continue
  echo "== nameko worker tests: $dir"
  $PY/pytest "$dir" "$@" || { rc=$?; [ $status -eq 0 ] && status=$rc; }
done
# pytest's 5 means "no tests ran": that is a failure here too.
exit $status
