"""Event delivery rules shared by the worker, the relay and the operator commands: how a failed
event is retried, when it is given up, how long what failed is kept. Pure (no broker client,
no nameko) so that every rule is testable on its own.

A handler that fails does not put its event back at the head of its queue (where a database
outage of a few seconds used up every delivery at once); the worker parks a copy in a delay
queue of the next retry level and acknowledges the original. Levels grow (`retry_delays`),
and an event is dead-lettered only when its next retry would end more than
`retry_max_seconds` after its first failure.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Failed attempts so far (a retry copy carries the count of the failure that scheduled it).
HEADER_ATTEMPT = "x-coop-attempt"
#: Unix time (seconds, float) of the event's first failed attempt at this consumer.
HEADER_FIRST_FAILED_AT = "x-coop-first-failed-at"
#: The error of the last failed attempt (shortened).
HEADER_LAST_ERROR = "x-coop-last-error"
#: The exchange and routing key the event first arrived through, kept on retries and replays
#: so the consumer can check a copy arriving through its own retry exchange like the original.
HEADER_ORIGIN_EXCHANGE = "x-coop-origin-exchange"
HEADER_ORIGIN_ROUTING_KEY = "x-coop-origin-routing-key"
#: Why the worker dead-lettered a message: "retries exhausted" or "refused: <reason>".
HEADER_DEAD_LETTER_REASON = "x-coop-dead-letter-reason"
HEADER_DEAD_LETTERED_AT = "x-coop-dead-lettered-at"
#: Set by `coop dlq replay`: when, and how many times, an operator replayed the message.
HEADER_REPLAYED_AT = "x-coop-replayed-at"
HEADER_REPLAY_COUNT = "x-coop-replay-count"

DEFAULT_RETRY_DELAYS = (1.0, 5.0, 30.0, 120.0, 600.0)
MAX_ERROR_TEXT = 500


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class DeliverySettings:
    """COOP_* settings of event delivery and retention (read by workers, the relay and `coop`)."""

    #: Delay of each retry level in seconds; the last level repeats.
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    #: A failing event is dead-lettered once its next retry would end later than this many
    #: seconds after its first failure.
    retry_max_seconds: float = 3600.0
    #: Sent outbox rows are deleted this long after they were written; quarantined rows this
    #: long after they were quarantined.
    outbox_retention_days: float = 7.0
    #: Messages in dead-letter and unroutable queues expire after this long (broker policy).
    dead_letter_retention_days: float = 14.0
    #: How often a worker purges its outbox, its inbox and its idempotency keys.
    outbox_purge_interval_seconds: float = 600.0
    #: Processed-event ids are forgotten this long after their processing. At least the
    #: dead-letter retention: an event replayed from a dead-letter queue must still be known.
    inbox_retention_days: float = 30.0

    def __post_init__(self) -> None:
        if not self.retry_delays or any(d <= 0 for d in self.retry_delays):
            raise ValueError("COOP_EVENT_RETRY_DELAYS must list positive seconds, e.g. 1,5,30,120,600")
        if self.retry_max_seconds <= 0:
            raise ValueError("COOP_EVENT_RETRY_MAX_SECONDS must be positive")
        if self.outbox_retention_days <= 0 or self.dead_letter_retention_days <= 0:
            raise ValueError("COOP_OUTBOX_RETENTION_DAYS and COOP_DEAD_LETTER_RETENTION_DAYS must be positive")
        if self.inbox_retention_days < self.dead_letter_retention_days:
            raise ValueError(
                f"COOP_INBOX_RETENTION_DAYS ({self.inbox_retention_days:g}) must be at least "
                f"COOP_DEAD_LETTER_RETENTION_DAYS ({self.dead_letter_retention_days:g}): a replayed dead "
                "letter must still be recognised as processed")

    @classmethod
    def from_env(cls) -> DeliverySettings:
        delays = _env("COOP_EVENT_RETRY_DELAYS", ",".join(f"{d:g}" for d in DEFAULT_RETRY_DELAYS))
        return cls(
            retry_delays=tuple(float(d) for d in delays.split(",") if d.strip()),
            retry_max_seconds=float(_env("COOP_EVENT_RETRY_MAX_SECONDS", "3600")),
            outbox_retention_days=float(_env("COOP_OUTBOX_RETENTION_DAYS", "7")),
            dead_letter_retention_days=float(_env("COOP_DEAD_LETTER_RETENTION_DAYS", "14")),
            outbox_purge_interval_seconds=float(_env("COOP_OUTBOX_PURGE_INTERVAL_SECONDS", "600")),
            inbox_retention_days=float(_env("COOP_INBOX_RETENTION_DAYS", "30")),
        )

    @property
    def dead_letter_ttl_ms(self) -> int:
        return int(self.dead_letter_retention_days * 86400 * 1000)


@dataclass(frozen=True)
class RetryDecision:
    """What to do with an event whose handler just failed."""

    attempt: int  # this failure's number: 1 for the first
    first_failed_at: float
    delay_seconds: float | None  # None: give up, dead-letter it

    @property
    def give_up(self) -> bool:
        return self.delay_seconds is None


def decide_retry(headers: Mapping[str, Any] | None, now: float, settings: DeliverySettings) -> RetryDecision:
    """The next step for a failed event, from the retry headers it carries.

    Attempt n waits `retry_delays[n-1]` (the last level repeats). The event is given up
    when that wait would end more than `retry_max_seconds` after its first failure, so it is
    dead-lettered no later than that bound and only ever parked in a queue of the ladder."""
    headers = headers or {}
    attempt = _int(headers.get(HEADER_ATTEMPT)) + 1
    first = _float(headers.get(HEADER_FIRST_FAILED_AT)) or now
    delays = settings.retry_delays
    delay = delays[min(attempt, len(delays)) - 1]
    if now - first + delay > settings.retry_max_seconds:
        return RetryDecision(attempt, first, None)
    return RetryDecision(attempt, first, delay)


def retry_headers(headers: Mapping[str, Any] | None, decision: RetryDecision, error: str,
                  origin_exchange: str, origin_routing_key: str) -> dict[str, Any]:
    """Headers of the copy parked for a retry (or dead-lettered): the message's own headers
    plus the retry state. The origin is kept from the first arrival."""
    out = dict(headers or {})
    out[HEADER_ATTEMPT] = decision.attempt
    out[HEADER_FIRST_FAILED_AT] = decision.first_failed_at
    out[HEADER_LAST_ERROR] = error[:MAX_ERROR_TEXT]
    out.setdefault(HEADER_ORIGIN_EXCHANGE, origin_exchange)
    out.setdefault(HEADER_ORIGIN_ROUTING_KEY, origin_routing_key)
    return out


def origin_of(headers: Mapping[str, Any] | None, exchange: str, routing_key: str,
              retry_exchange: str) -> tuple[str | None, str | None]:
    """The exchange and routing key an event first arrived through. A copy that comes back
    through the consumer's own retry exchange (a retry or an operator's replay: only the
    service itself and an administrator may publish there) carries them in its headers;
    anything else arrived where it says."""
    if exchange == retry_exchange:
        headers = headers or {}
        return _str(headers.get(HEADER_ORIGIN_EXCHANGE)), _str(headers.get(HEADER_ORIGIN_ROUTING_KEY))
    return exchange, routing_key


def _int(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _str(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None
