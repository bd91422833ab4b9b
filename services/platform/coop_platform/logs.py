"""Structured JSON logs that carry the correlation id across gRPC, outbox and handlers."""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import uuid

from pythonjsonlogger.json import JsonFormatter

_correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None
)


def get_correlation_id() -> str | None:
    return _correlation_id.get()


def set_correlation_id(value: str | None) -> contextvars.Token:
    return _correlation_id.set(value)


def reset_correlation_id(token: contextvars.Token) -> None:
    _correlation_id.reset(token)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


#: What a caller's x-correlation-id may be: it travels into logs, event envelopes and the AMQP
#: correlation-id property (a short string of at most 255 bytes, or the publish fails).
_CORRELATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def clean_correlation_id(value: object) -> str:
    """The caller's correlation id when it is 1-128 characters of letters, digits and ._:-,
    otherwise a new one (a bad id is replaced, never refused: it is only a tracing aid)."""
    if isinstance(value, str) and _CORRELATION_ID.fullmatch(value):
        return value
    return new_correlation_id()


class _CorrelationFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = get_correlation_id()
        record.service = self.service
        return True


def configure_logging(service: str, level: str = "INFO", stream=None) -> None:
    """One JSON object per line on stderr: time, level, service, logger, message, correlation_id."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(service)s %(name)s %(message)s %(correlation_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(_CorrelationFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("amqp", "kombu", "nameko", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
