#!/usr/bin/env bash
# Start PostgreSQL and RabbitMQ when they are not running (CI and fresh machines).
set -u
pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
rabbit_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }
if ! pg_up; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if ! rabbit_up; then
  echo "starting RabbitMQ"
  rabbitmq-server -detached || true  # its open files: scripts/ensure_broker_healthy.sh
  for _ in $(seq 1 60); do rabbit_up && break; sleep 1; done
  rabbitmqctl await_startup >/dev/null 2>&1 || true
fi
pg_up && echo "PostgreSQL: up" || { echo "PostgreSQL: DOWN" >&2; exit 1; }
rabbit_up && echo "RabbitMQ: up" || { echo "RabbitMQ: DOWN" >&2; exit 1; }
