#!/usr/bin/env bash
# The whole test suite (`make test`). Two kinds of pytest process (DESIGN D1): one for
# everything that uses grpcio, one per service for the eventlet-patched nameko worker tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin
# Development mode: the services under test trust the development signing key of the tests'
# tokens (coop_testkit.bearer); tests of the production rules turn it off themselves.
export COOP_DEV_MODE=1
bash scripts/ensure_services.sh
bash scripts/ensure_tools.sh
# Postfix + Dovecot on loopback ports: the notifications tests' real mail path (IMAP read-back)
bash scripts/ensure_mail.sh || echo "warning: the test mail path is down; the mail-path tests will fail, saying why" >&2
# Docker engine for the Compose tests; on failure they skip, saying why (tests/e2e/conftest.py)
bash scripts/ensure_docker.sh || true
# Tests talk to RabbitMQ on a vhost of their own: their events (and the poison messages of the
# dead-letter tests) must never land in the durable queues a `make run` keeps on "/".
# Before each pytest stage the broker is checked (and restarted if wedged, see
# scripts/ensure_broker_healthy.sh), then the tests' vhost is made sure of.
broker_ready() {
  bash scripts/ensure_broker_healthy.sh "$@" || echo "warning: RabbitMQ is unhealthy; broker tests will fail" >&2
  [ -n "${COOP_TEST_AMQP_URL_GIVEN:-}" ] && return 0
  if url=$($PY/python -c "from coop_testkit import TEST_VHOST, ensure_vhost; print(ensure_vhost(TEST_VHOST))"); then
    export COOP_TEST_AMQP_URL="$url" COOP_AMQP_URL="$url"  # every process a test starts
  else
    echo "warning: could not create the RabbitMQ vhost for tests; they share \"/\" with make run" >&2
  fi
}
if [ -n "${COOP_TEST_AMQP_URL:-}" ]; then
  export COOP_TEST_AMQP_URL_GIVEN=1 COOP_AMQP_URL="$COOP_TEST_AMQP_URL"
fi
echo "== ruff"
$PY/ruff check services tests bench
status=0
bash scripts/proto_check.sh || status=$?
broker_ready --sweep
echo "== unit, service, integration, reliability, end-to-end, deploy"
$PY/pytest services tests "$@" || status=$?
for dir in services/*/tests/worker; do
  [ -d "$dir" ] || continue
  broker_ready
  echo "== nameko worker tests: $dir"
  $PY/pytest "$dir" "$@" || { rc=$?; [ $status -eq 0 ] && status=$rc; }
done
# pytest's 5 means "no tests ran": that is a failure here too.
exit $status
