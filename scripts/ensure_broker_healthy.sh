#!/usr/bin/env bash
# Make sure the local RabbitMQ answers (coop_testkit.broker_check); restart it when it is
# wedged, and wipe its node data only if a plain restart does not bring it back (what is
# lost then is broker state the tests recreate; a `make run` redeclares its queues at start).
#
# A broker started with the shell's default of 1,024 open files runs out of them during a test
# run (every connection, classic queue index and quorum queue segment holds one): its file
# handle cache then makes new connections and queue operations wait for good, and the broker
# looks wedged (seen here: AMQP handshakes timing out, a vhost deletion hanging on a classic
# queue waiting in file_handle_cache). Debian's rabbitmq-server starts the node through `su
# rabbitmq`, whose PAM session puts the soft limit back to 1,024 whatever the caller's, so the
# limit is raised where the node's own start script reads its settings: rabbitmq-env.conf. A
# node whose soft limit is below its hard one is then restarted.
# Usage: ensure_broker_healthy.sh [--sweep]
set -u
cd "$(dirname "$0")/.."
ENV_CONF=/etc/rabbitmq/rabbitmq-env.conf
MARK="# coopgov (scripts/ensure_broker_healthy.sh): as many open files as the hard limit allows"

check() { timeout 120 .venv/bin/python -m coop_testkit.broker_check "$@"; }

# The host's own Erlang processes (a Compose stack's broker runs beam.smp too, in a container:
# another mount namespace, left alone).
host_pids() {
  local me pid
  me=$(readlink /proc/self/ns/mnt)
  for pid in $(pgrep -x "$1" 2>/dev/null; pgrep -f "$1" 2>/dev/null); do
    [ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" = "$me" ] && echo "$pid"
  done | sort -u
}

node_pid() { timeout 30 rabbitmqctl -q eval 'os:getpid().' 2>/dev/null | tr -dc '0-9'; }

open_files_limits() {  # "soft hard" open files of the running node, empty when unknown
  local pid
  pid=$(node_pid)
  [ -n "$pid" ] && awk '/^Max open files/ {print $4, $5}' "/proc/$pid/limits" 2>/dev/null
}

stop_broker() {
  timeout 30 rabbitmqctl stop >/dev/null 2>&1 || true
  local pids
  pids=$(host_pids beam.smp; host_pids rabbitmqctl; host_pids epmd)
  [ -n "$pids" ] && kill -9 $pids 2>/dev/null
  sleep 2
}

start_broker() {
  rabbitmq-server -detached >/dev/null 2>&1 || true
  local _
  for _ in $(seq 1 60); do
    timeout 30 rabbitmqctl -q await_startup >/dev/null 2>&1 && return 0
    sleep 2
  done
}

if [ -w "$ENV_CONF" ] || [ ! -e "$ENV_CONF" -a -w "$(dirname "$ENV_CONF")" ]; then
  grep -qF "$MARK" "$ENV_CONF" 2>/dev/null || printf '%s\nulimit -n "$(ulimit -Hn)" 2>/dev/null || true\n' "$MARK" >>"$ENV_CONF"
fi
read -r soft hard <<<"$(open_files_limits)"
if [ -n "${soft:-}" ] && [ "$soft" != "$hard" ] && [ "$soft" != unlimited ] && [ "$soft" -lt 65536 ]; then
  echo "RabbitMQ runs with at most $soft open files (hard limit $hard): restarting it with more" >&2
  stop_broker; start_broker
  echo "RabbitMQ: open files now $(open_files_limits | cut -d' ' -f1)" >&2
fi
check "$@" && exit 0

log=$(ls /var/log/rabbitmq/rabbit@*.log 2>/dev/null | grep -v upgrade | head -1)
if [ -n "$log" ]; then
  echo "--- the broker's last log lines ($log)" >&2
  tail -n 30 "$log" | cut -c1-300 >&2
fi
echo "restarting RabbitMQ" >&2
stop_broker; start_broker
check "$@" && exit 0
echo "RabbitMQ still unhealthy after a restart: wiping its node data" >&2
stop_broker
rm -rf /var/lib/rabbitmq/mnesia
start_broker
check "$@"
