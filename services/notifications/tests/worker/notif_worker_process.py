"""Helpers of the notifications reliability tests: the real worker process (as `make run` starts
it) on a PostgreSQL database and a RabbitMQ vhost of its own, the events that lead to mail, and
an in-process relay (aiosmtpd, coop_testkit.smtp_fault) that records what it accepted and can
answer 421/450 for a while.

The tests run in the eventlet-patched pytest process of this directory: the relay's thread is a
green thread, so the test itself sleeps (never spins) and reads PostgreSQL through the green
psycopg2 of coop_platform.worker."""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import json
import random
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from coop_notifications.domain import ledger
from coop_platform.amqp import ConfirmingPublisher
from coop_platform.envelope import make_envelope
from coop_testkit import ServiceProcess, postgres_database, scratch_vhost, wait_until
from coop_testkit.smtp_fault import Received, SmtpFaultServer

WORKER_MODULE = "coop_notifications.entrypoints.worker"
MAIL_DOMAIN = "reliability.coop.test"
MEETING_TITLE = re.compile(r"Reliability meeting (\d{4})")


# --- the relay ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Arrival:
    """One message the relay accepted (250 after DATA)."""

    at: float  # time.monotonic() of the 250
    message_id: str
    rcpt: str
    subject: str


class RecordingRelay(SmtpFaultServer):
    """SmtpFaultServer keeping only each accepted message's arrival time and headers (ten
    thousand whole messages would weigh hundreds of megabytes), and able to refuse every
    message with a temporary failure for a while (``refuse_for``): each refused transaction
    gets either a 421 to MAIL FROM (the connection closes) or a 450 to RCPT TO, at random."""

    def __init__(self, seed: int = 13) -> None:
        super().__init__()
        self.arrivals: list[Arrival] = []
        self.mail_commands: list[float] = []  # time.monotonic() of every MAIL FROM
        self.refusals: list[tuple[float, int]] = []  # (time of the MAIL FROM, code)
        self.refusing_until = 0.0
        self._rng = random.Random(seed)
        self._refuse_rcpt: float | None = None
        self._parser = email.parser.BytesHeaderParser(policy=email.policy.default)

    def refuse_for(self, seconds: float) -> float:
        """Refuse every message for `seconds` from now; returns when the refusals end."""
        with self._lock:
            self.refusing_until = time.monotonic() + seconds
            return self.refusing_until

    def _next_fault(self, stage: str) -> str | None:  # the relay's thread, per SMTP command
        now = time.monotonic()
        with self._lock:
            if stage == "mail":
                self.mail_commands.append(now)
                self._refuse_rcpt = None
                if now < self.refusing_until:
                    if self._rng.random() < 0.5:
                        self.refusals.append((now, 421))
                        return "421 4.3.2 Service not available, closing transmission channel"
                    self._refuse_rcpt = now  # this transaction's RCPT TO gets the 450
            if stage == "rcpt" and self._refuse_rcpt is not None:
                self.refusals.append((self._refuse_rcpt, 450))  # when the transaction began
                self._refuse_rcpt = None
                return "450 4.2.1 Mailbox unavailable, try again later"
        return super()._next_fault(stage)

    def _received(self, received: Received) -> None:
        headers = self._parser.parsebytes(received.data)
        arrival = Arrival(time.monotonic(), str(headers["Message-ID"] or ""),
                          received.rcpt_tos[0].lower(), str(headers["Subject"] or ""))
        with self._lock:
            self.arrivals.append(arrival)

    def arrived(self) -> list[Arrival]:
        with self._lock:
            return list(self.arrivals)


# --- the worker process ---------------------------------------------------------------------

@dataclass
class Stack:
    """A database and a broker vhost of the test's own, and the relay."""

    database_url: str
    amqp_url: str
    relay: RecordingRelay
    folder: Path
    engine: Engine

    def worker_env(self, **settings: str) -> dict[str, str]:
        return {
            "COOP_DATABASE_URL": self.database_url, "COOP_AMQP_URL": self.amqp_url,
            "COOP_DATA_DIR": str(self.folder), "COOP_METRICS_PORT": "0", "COOP_DEV_MODE": "1",
            "COOP_SMTP_URL": self.relay.url(), "COOP_MAIL_DOMAIN": MAIL_DOMAIN,
            "COOP_SMTP_RATE": "0", "COOP_SMTP_BURST": "1", "COOP_SMTP_CONNECTIONS": "1",
            "COOP_BOUNCE_IMAP_URL": "", "COOP_NOTIFICATIONS_TICK_SECONDS": "0.2",
            **settings,
        }

    def rows(self, sql: str, **params: Any) -> list[tuple]:
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]


@contextlib.contextmanager
def stack(folder: Path, prefix: str) -> Iterator[Stack]:
    """Everything a test's worker needs, removed afterwards whatever happens."""
    from coop_platform.worker import make_psycopg2_green

    make_psycopg2_green()  # the test's own reads must not stall the relay's green thread
    with postgres_database(prefix) as database_url, scratch_vhost(prefix.replace("_", "-")) as amqp_url, \
            RecordingRelay() as relay:
        engine = create_engine(database_url, poolclass=NullPool)
        try:
            yield Stack(database_url, amqp_url, relay, folder, engine)
        finally:
            engine.dispose()


class Worker:
    """The real worker process, started, killed and restarted; its lives share one log."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env, self.log_path = env, log_path
        self.process: ServiceProcess | None = None
        self.exit_codes: list[int | None] = []  # one per ended life

    def start(self) -> ServiceProcess:
        self.process = ServiceProcess(WORKER_MODULE, self.env, self.log_path).start()
        return self.process

    def wait_consuming(self, timeout: float = 90) -> None:
        """Until this life printed that it consumes (its queues are declared)."""
        before = self.log().count("worker: consuming")
        process = self.process
        assert process is not None and process.proc is not None

        def consuming() -> bool:
            if process.proc.poll() is not None:
                raise AssertionError(f"the worker exited ({process.proc.returncode}):\n{self.log()[-4000:]}")
            return self.log().count("worker: consuming") > before

        wait_until(consuming, timeout=timeout, interval=0.1, message="the notifications worker consuming")

    def kill(self) -> bool:
        """SIGKILL this life; True when it was running until then (a real kill)."""
        assert self.process is not None and self.process.proc is not None
        was_alive = self.process.proc.poll() is None
        self.process.stop(sig=9, timeout=30)
        self.exit_codes.append(self.process.proc.returncode)
        return was_alive and self.process.proc.returncode == -9

    def stop(self) -> int | None:
        """SIGTERM (a clean stop), SIGKILL after 30 s."""
        if self.process is None:
            return None
        code = self.process.stop(sig=15, timeout=30)
        self.exit_codes.append(code)
        self.process = None
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class Chaos:
    """Kills the running worker `kills` times, each life at a random moment `life` seconds after
    its start (some during its start-up), restarting it each time; the last life is left
    running."""

    worker: Worker
    kills: int
    life: tuple[float, float]
    seed: int
    killed_at: list[float] = field(default_factory=list)  # time.time() of each real kill
    ended_early: int = 0  # lives that had ended by themselves when their moment came
    error: BaseException | None = None

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._thread = threading.Thread(target=self._run, name="worker-chaos", daemon=True)
        self._stop = threading.Event()

    def start(self) -> Chaos:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            for _ in range(self.kills):
                if self._stop.wait(self._rng.uniform(*self.life)):
                    return
                moment = time.time()
                if self.worker.kill():
                    self.killed_at.append(moment)
                else:
                    self.ended_early += 1
                self.worker.start()
        except BaseException as exc:  # noqa: BLE001 - join() raises it in the test
            self.error = exc

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)
        if self._thread.is_alive():
            self.abort()
            raise AssertionError(f"the chaos did not end within {timeout}s ({len(self.killed_at)} kills)")
        if self.error is not None:
            raise self.error

    def abort(self) -> None:
        self._stop.set()
        self._thread.join(30)


# --- events -------------------------------------------------------------------------------

def admission(member_id: str, number: int, address: str, language: str) -> dict[str, Any]:
    """membership's member.admitted: the member becomes a recipient and is welcomed."""
    return make_envelope("membership", "member.admitted", {"member": {
        "memberId": member_id, "memberNumber": f"M{number:06d}", "givenName": f"Member {number}",
        "email": address, "preferredLanguage": language, "status": "MEMBER_STATUS_ACTIVE",
        "joinedOn": "2027-03-01"}}, subject=member_id)


def meeting_scheduled(number: int, directors: Sequence[str]) -> dict[str, Any]:
    """board's meeting.scheduled: each convened director gets a convocation whose subject names
    the meeting ("Reliability meeting 0042" in every language)."""
    title = f"Reliability meeting {number:04d}"
    return make_envelope("board", "meeting.scheduled", {
        "meetingId": f"meeting-{number:04d}", "tenant": "coop",
        "title": {"fr": title, "nl": title, "en": title}, "startsAt": "2027-06-01T16:00:00Z",
        "place": "Room 1", "convenedDirectorIds": list(directors), "revision": 1})


def _route(envelope: dict[str, Any]) -> tuple[str, str]:
    """(exchange, routing key) of an envelope: type "coop.<service>.<event name>.v1"."""
    _, service, rest = envelope["type"].split(".", 2)
    return f"{service}.events", rest.rsplit(".", 1)[0]


def publish(amqp_url: str, envelopes: Sequence[dict[str, Any]], chunk: int = 250,
            pause: float = 0.0) -> None:
    """Publish persistent, confirmed and routed (every event reaches the worker's queue)."""
    publisher = ConfirmingPublisher(amqp_url)
    try:
        for start in range(0, len(envelopes), chunk):
            batch = [(*_route(e), json.dumps(e), e["id"], e["correlationid"])
                     for e in envelopes[start:start + chunk]]
            publisher.publish_many(batch)
            assert not publisher.unroutable, f"unroutable events (no worker queue): {publisher.unroutable[:3]}"
            if pause:
                time.sleep(pause)
    finally:
        publisher.close()


def dead_lettered(amqp_url: str, *events: tuple[str, str]) -> int:
    """Messages in the dead-letter queues of the worker's handlers of (source, event): events
    given up on, by the broker (x-delivery-limit: consumers kept dying holding them) or the
    handler (retries exhausted)."""
    from kombu import Connection

    from coop_notifications.entrypoints.worker import handler_name
    from coop_platform.amqp import dead_letter_queue_name

    total = 0
    with Connection(amqp_url) as conn:
        for source, event in events:
            queue = f"evt-{source}-{event}--notifications.{handler_name(event)}"
            with conn.channel() as channel:  # the worker declared it: passive
                total += channel.queue_declare(dead_letter_queue_name(queue), passive=True).message_count
    return total


def expected_message_id(event_id: str, member_id: str) -> str:
    return ledger.message_id(ledger.delivery_key(event_id, member_id, "email"), MAIL_DOMAIN)

