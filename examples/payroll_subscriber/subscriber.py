"""Example payroll subscriber for the billing service's contract events.

How a payroll system consumes contract.created / contract.amended / contract.cancelled
without losing one or applying one twice:

* its OWN durable queue (default "payroll.contracts") bound to the topic exchange
  "billing.events" with the routing key "contract.*": events published while the
  subscriber is down or the broker unreachable wait in the queue;
* manual acknowledgements, sent only AFTER the effect is stored: a crash or a cut
  connection before the ack means the broker redelivers;
* idempotency by CloudEvents id: the effect and the processed id commit in one SQLite
  transaction, so a redelivered or re-published event changes nothing;
* amendments carry a revision: an older revision arriving late never overwrites a newer one;
* it reconnects forever (with a short pause) when the broker goes away;
* it keeps no names: the events identify the employee by member id and number only (personal
  data stays with membership; ask its GetMember when a payslip needs the name, and you never
  keep a copy that would outlive the member's erasure).

Run:  python examples/payroll_subscriber/subscriber.py --db payroll.sqlite3
      [--amqp-url amqp://guest:guest@127.0.0.1:5672/] [--queue payroll.contracts]
Only kombu and the standard library are needed (no coopgov import): copy it freely.
"""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
import threading
import time
from datetime import UTC, datetime
from typing import Any

from kombu import Connection, Consumer, Exchange, Queue

log = logging.getLogger("payroll_subscriber")
EXCHANGE = "billing.events"
ROUTING_KEY = "contract.*"
EVENT_TYPES = {
    "coop.billing.contract.created.v1": "created",
    "coop.billing.contract.amended.v1": "amended",
    "coop.billing.contract.cancelled.v1": "cancelled",
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS processed_events (
    event_id TEXT PRIMARY KEY, type TEXT NOT NULL, received_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS contracts (
    contract_id TEXT PRIMARY KEY, member_id TEXT NOT NULL, member_number TEXT NOT NULL, language TEXT NOT NULL,
    start_date TEXT NOT NULL, end_date TEXT NOT NULL, days INTEGER, hours TEXT,
    gross_cents INTEGER NOT NULL, job_title TEXT NOT NULL, joint_committee TEXT NOT NULL,
    state TEXT NOT NULL, revision INTEGER NOT NULL, updated_by_event TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS payroll_actions (
    event_id TEXT PRIMARY KEY REFERENCES processed_events(event_id),
    contract_id TEXT NOT NULL, action TEXT NOT NULL);
"""


def open_db(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(SCHEMA)
    return db


def apply_event(db: sqlite3.Connection, envelope: dict[str, Any]) -> bool:
    """Store one event's effect; False when it was already processed (a duplicate)."""
    action = EVENT_TYPES.get(envelope.get("type", ""))
    event_id = str(envelope.get("id") or "")
    if not event_id:
        raise ValueError("event without id")
    db.execute("BEGIN IMMEDIATE")
    try:
        inserted = db.execute(
            "INSERT OR IGNORE INTO processed_events (event_id, type, received_at) VALUES (?, ?, ?)",
            (event_id, envelope.get("type", ""), datetime.now(UTC).isoformat())).rowcount
        if not inserted:
            db.execute("ROLLBACK")
            return False
        if action is not None:  # other contract.* events (a future v2, say) are recorded, not applied
            data = envelope.get("data") or {}
            contract, employee = data.get("contract") or {}, data.get("employee") or {}
            terms = contract.get("terms") or {}
            revision = int(contract.get("revision") or 1)
            row = (contract["contractId"], employee.get("memberId", ""), employee.get("memberNumber", ""),
                   employee.get("preferredLanguage", ""), terms.get("startDate", ""), terms.get("endDate", ""),
                   int(terms.get("days") or 0) or None, terms.get("hours") or None,
                   int(terms.get("grossCents") or 0), terms.get("jobTitle", ""), terms.get("jointCommittee", ""),
                   "cancelled" if action == "cancelled" else "active", revision, event_id)
            # a cancellation always wins; otherwise the highest revision wins
            db.execute(
                """INSERT INTO contracts VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                   ON CONFLICT(contract_id) DO UPDATE SET
                     start_date=excluded.start_date, end_date=excluded.end_date, days=excluded.days,
                     hours=excluded.hours, gross_cents=excluded.gross_cents, job_title=excluded.job_title,
                     joint_committee=excluded.joint_committee, revision=excluded.revision,
                     updated_by_event=excluded.updated_by_event,
                     state=CASE WHEN contracts.state='cancelled' THEN 'cancelled' ELSE excluded.state END
                   WHERE excluded.state='cancelled' OR excluded.revision > contracts.revision""", row)
            db.execute("INSERT INTO payroll_actions (event_id, contract_id, action) VALUES (?, ?, ?)",
                       (event_id, contract["contractId"], action))
        db.execute("COMMIT")
        return True
    except BaseException:
        db.execute("ROLLBACK")
        raise


def declare(conn: Connection, queue_name: str) -> Queue:
    exchange = Exchange(EXCHANGE, type="topic", durable=True)
    queue = Queue(queue_name, exchange=exchange, routing_key=ROUTING_KEY, durable=True, auto_delete=False)
    queue(conn.default_channel).declare()
    return queue


class PayrollSubscriber:
    """Consume until stop() is called; reconnect whenever the broker goes away."""

    def __init__(self, amqp_url: str, queue: str, db_path: str, reconnect_pause: float = 0.5) -> None:
        self.amqp_url, self.queue_name, self.reconnect_pause = amqp_url, queue, reconnect_pause
        self.db = open_db(db_path)
        self.ready = threading.Event()  # set once the queue is declared (events are then kept)
        self.applied = 0
        self.duplicates = 0
        self.reconnects = 0
        self._stop = threading.Event()
        probe = Connection(amqp_url)  # lazy: only asks the transport which errors mean "broker gone"
        self._broker_errors = (OSError, *probe.connection_errors, *probe.channel_errors)

    def stop(self) -> None:
        self._stop.set()

    def _on_message(self, body: Any, message: Any) -> None:
        try:
            envelope = body if isinstance(body, dict) else json.loads(body)
            if apply_event(self.db, envelope):
                self.applied += 1
            else:
                self.duplicates += 1
        except (ValueError, KeyError, TypeError) as exc:  # poison: park it, never loop on it
            log.error("rejecting a malformed event: %s", exc)
            message.reject(requeue=False)
            return
        message.ack()  # only now: the effect is committed

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                with Connection(self.amqp_url, connect_timeout=3, heartbeat=10) as conn:
                    conn.ensure_connection(max_retries=1)
                    queue = declare(conn, self.queue_name)
                    with Consumer(conn.default_channel, queues=[queue], callbacks=[self._on_message],
                                  accept=["json"], no_ack=False, prefetch_count=50):
                        self.ready.set()
                        while not self._stop.is_set():
                            try:
                                conn.drain_events(timeout=0.5)
                            except TimeoutError:
                                conn.heartbeat_check()
            except self._broker_errors as exc:
                if self._stop.is_set():
                    break
                self.reconnects += 1
                log.warning("broker unreachable (%s); reconnecting", exc)
                time.sleep(self.reconnect_pause)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--queue", default="payroll.contracts")
    parser.add_argument("--db", default="payroll.sqlite3")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    subscriber = PayrollSubscriber(args.amqp_url, args.queue, args.db)
    try:
        subscriber.run()
    except KeyboardInterrupt:
        subscriber.stop()


if __name__ == "__main__":
    main()
