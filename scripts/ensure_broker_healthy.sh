#!/usr/bin/env bash
# Make sure the local RabbitMQ answers (coop_testkit.broker_check); restart it when it is
# wedged, and wipe its node data only if a plain restart does not bring it back (what is
# lost then is broker state the tests recreate; a `make run` redeclares its queues at start).
# Usage: ensure_broker_healthy.sh [--sweep]
set -u
cd "$(dirname "$0")/.."
check() { timeout 120 .venv/bin/python -m coop_testkit.broker_check "$@"; }
check "$@" && exit 0
log=$(ls /var/log/rabbitmq/rabbit@*.log 2>/dev/null | grep -v upgrade | head -1)
if [ -n "$log" ]; then
  echo "--- the broker's last log lines ($log)" >&2
  tail -n 30 "$log" | cut -c1-300 >&2
fi
stop_broker() {
  timeout 30 rabbitmqctl stop >/dev/null 2>&1 || true
  pkill -9 -f rabbitmqctl 2>/dev/null; pkill -9 -f beam.smp 2>/dev/null; pkill -9 epmd 2>/dev/null
  sleep 2
}
start_broker() {
  rabbitmq-server -detached >/dev/null 2>&1 || true
  timeout 120 rabbitmqctl await_startup >/dev/null 2>&1 || true
}
echo "restarting RabbitMQ" >&2
stop_broker; start_broker
check && exit 0
echo "RabbitMQ still unhealthy after a restart: wiping its node data" >&2
stop_broker
rm -rf /var/lib/rabbitmq/mnesia
start_broker
check
