"""Event consumer process: a queue bound to membership.events (as a subscriber binds one);
records the arrival time of every message.

Prints "ready" once consuming. Then reads one line on stdin, the number of events expected,
and stops when it has that many distinct events (or --grace seconds later). Writes
{event_id: [arrival_time, envelope_time, deliveries]} to --out.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
import uuid

from kombu import Connection, Consumer, Exchange, Queue


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--amqp-url", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--grace", type=float, default=30.0)
    args = p.parse_args(argv)

    got: dict[str, list] = {}
    expected: list[int] = []
    expected_at: list[float] = []

    def read_expected() -> None:
        line = sys.stdin.readline()
        expected.append(int(line.strip() or 0))
        expected_at.append(time.monotonic())

    def on_message(message) -> None:
        arrived = time.time()
        envelope = json.loads(message.body)
        entry = got.get(envelope["id"])
        if entry is None:
            got[envelope["id"]] = [arrived, envelope.get("time"), 1]
        else:
            entry[2] += 1

    with Connection(args.amqp_url) as conn:
        exchange = Exchange("membership.events", type="topic", durable=True)
        queue = Queue(f"bench-latency-{uuid.uuid4().hex[:8]}", exchange=exchange, routing_key="#",
                      durable=False, auto_delete=True, exclusive=True)
        with Consumer(conn, queues=[queue], on_message=on_message, no_ack=True, prefetch_count=0):
            print("ready", flush=True)
            threading.Thread(target=read_expected, daemon=True).start()
            while True:
                if expected and (len(got) >= expected[0] or time.monotonic() - expected_at[0] > args.grace):
                    break
                with contextlib.suppress(TimeoutError):
                    conn.drain_events(timeout=0.2)
    with open(args.out, "w") as handle:
        json.dump(got, handle)
    print(json.dumps({"received": len(got)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
