"""Prometheus metrics shared by every process (DESIGN D7). No per-person labels, ever."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge, Histogram, start_http_server

# gRPC server: the names grpc-ecosystem/go-grpc-prometheus made standard.
GRPC_STARTED = Counter(
    "grpc_server_started_total", "RPCs started on the server.",
    ["grpc_type", "grpc_service", "grpc_method"],
)
GRPC_HANDLED = Counter(
    "grpc_server_handled_total", "RPCs completed on the server, by status code.",
    ["grpc_type", "grpc_service", "grpc_method", "grpc_code"],
)
GRPC_HANDLING_SECONDS = Histogram(
    "grpc_server_handling_seconds", "Time to handle an RPC on the server.",
    ["grpc_type", "grpc_service", "grpc_method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
# api side: group commit (coop_platform.batching).
BATCH_SIZE = Histogram(
    "coop_batch_size", "Calls served by one batch (one transaction) of a coalescer (group commit).", ["batch"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128))

# Worker side.
HANDLER_CALLS = Counter(
    "coop_worker_handler_calls_total", "Event handler invocations by outcome.",
    ["handler", "outcome"],
)
HANDLER_SECONDS = Histogram(
    "coop_worker_handler_seconds", "Event handler duration.", ["handler"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OUTBOX_PENDING = Gauge("coop_outbox_pending", "Outbox rows not yet confirmed by the broker.")
OUTBOX_OLDEST_AGE = Gauge(
    "coop_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row."
)
OUTBOX_PUBLISHED = Counter("coop_outbox_published_total", "Outbox rows published and confirmed.")
OUTBOX_PUBLISH_ERRORS = Counter(
    "coop_outbox_publish_errors_total", "Failed outbox publish attempts (broker trouble)."
)
INBOX_DUPLICATES = Counter(
    "coop_inbox_duplicates_total", "Redelivered or re-published events skipped by a consumer.",
    ["consumer"],
)
DEAD_LETTERED = Counter(
    "coop_dead_lettered_total",
    "Messages a worker put in a dead-letter queue (retries exhausted, or refused).", ["queue"]
)
DEAD_LETTER_QUEUE_MESSAGES = Gauge(
    "coop_dead_letter_queue_messages", "Messages waiting in a dead-letter queue.", ["queue"]
)
# Event delivery hardening (docs/events.md): quarantine, retries, refusals, unroutable, retention.
OUTBOX_QUARANTINED = Counter(
    "coop_outbox_quarantined_total",
    "Outbox rows set aside because the broker refused them alone while later rows went through.",
)
OUTBOX_QUARANTINED_ROWS = Gauge(
    "coop_outbox_quarantined_rows", "Outbox rows quarantined now (list and release: coop outbox)."
)
OUTBOX_UNROUTABLE = Counter(
    "coop_outbox_unroutable_total",
    "Outbox rows the broker returned as unroutable (no queue and no alternate exchange); quarantined.",
    ["exchange"],
)
OUTBOX_PURGED = Counter("coop_outbox_purged_total", "Outbox rows deleted after the retention.")
EVENT_RETRIES = Counter(
    "coop_event_retries_total", "Failed events parked in a delay queue for a later retry.", ["queue"]
)
EVENTS_REFUSED = Counter(
    "coop_events_refused_total",
    "Messages dead-lettered unread: their exchange, source or type do not match the handler.",
    ["queue"],
)
UNROUTABLE_QUEUE_MESSAGES = Gauge(
    "coop_unroutable_queue_messages",
    "Events kept by the alternate exchange of the service's events exchange (nobody was bound).",
    ["queue"],
)


def serve_metrics(port: int, addr: str = "127.0.0.1") -> Any:
    """Expose /metrics on `addr`:`port` (0 disables it, as in tests) and return the HTTP server.
    The address is the operator's (COOP_METRICS_HOST): containers bind 0.0.0.0 inside their
    network; everything else keeps its metrics on the loopback interface."""
    if port:
        server, _thread = start_http_server(port, addr=addr)
        return server
    return None
