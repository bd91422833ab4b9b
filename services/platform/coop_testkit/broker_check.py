"""Is the local RabbitMQ broker healthy enough for a test run? (`python -m coop_testkit.broker_check`)

A broker can accept TCP connections and still be wedged (seen here on 2 cores after a long
run that created and deleted many quorum queues: the AMQP handshake never answered, and
rabbitmqctl hung). scripts/test.sh runs this check before each pytest stage and restarts
the broker when it fails, so one wedge costs a restart, not the rest of the run.

Exit code 0: an AMQP handshake, a quorum queue declared and deleted, and rabbitmqctl
answering, each within its timeout. 1 otherwise, with the reason on stderr. With
`--sweep`, also deletes the scratch vhosts that earlier runs left behind (coop_testkit's
`scratch_vhost` names), while the broker is idle.
"""

from __future__ import annotations

import argparse
import sys
import uuid

from kombu import Connection, Queue

from coop_testkit import _rabbitmqctl as rabbitmqctl

SCRATCH_PREFIXES = ("coop-test-", "coop-e2e")


def amqp_round_trip(url: str, timeout: float) -> None:
    """Handshake, declare and delete a quorum queue: what every worker does at start."""
    name = f"coop-broker-check-{uuid.uuid4().hex[:8]}"
    with Connection(url, connect_timeout=timeout, transport_options={"max_retries": 0}) as conn:
        conn.ensure_connection(max_retries=1, timeout=timeout)
        channel = conn.channel()
        try:
            queue = Queue(name, durable=True, queue_arguments={"x-queue-type": "quorum"})
            queue(channel).declare()
            channel.queue_delete(name)
        finally:
            channel.close()


def sweep_scratch_vhosts(timeout: float) -> list[str]:
    """Delete vhosts that scratch_vhost made and a killed run never deleted."""
    leftovers = [v for v in rabbitmqctl("list_vhosts", timeout=timeout).split()
                 if v.startswith(SCRATCH_PREFIXES)]
    for vhost in leftovers:
        rabbitmqctl("delete_vhost", vhost, timeout=timeout)
    return leftovers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per step")
    parser.add_argument("--sweep", action="store_true", help="delete leftover scratch vhosts")
    args = parser.parse_args(argv)
    try:
        amqp_round_trip(args.url, args.timeout)
        rabbitmqctl("list_vhosts", timeout=args.timeout)
        if args.sweep:
            swept = sweep_scratch_vhosts(timeout=max(args.timeout, 60.0))
            if swept:
                print(f"deleted {len(swept)} leftover scratch vhost(s)")
    except Exception as exc:  # any failure means "restart it"; say which step failed
        print(f"RabbitMQ is not healthy: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print("RabbitMQ: healthy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
