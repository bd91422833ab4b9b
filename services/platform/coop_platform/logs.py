"""Structured JSON logs that carry the correlation id across gRPC, outbox and handlers."""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import traceback
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


def describe_exception(exc: BaseException) -> str:
    """One line for a log: the exception's type and message, except for database errors, whose
    driver message and bound parameters may hold voter ids, ballot contents or personal data
    (PostgreSQL repeats the offending value: 'Key (email)=(anne@...) already exists'): those
    keep only their SQLSTATE, the schema objects the driver names and the statement."""
    original = getattr(exc, "orig", None)
    driver_error = original if original is not None else exc
    module = type(driver_error).__module__
    if not (module.startswith(("psycopg2", "sqlite3")) or type(exc).__module__.startswith("sqlalchemy.exc")):
        return f"{type(exc).__name__}: {exc}"
    parts = [type(exc).__name__]
    if original is not None:
        parts.append(f"({type(original).__module__}.{type(original).__name__})")
    code = getattr(driver_error, "pgcode", None) or getattr(driver_error, "sqlite_errorname", None)
    if code:
        parts.append(f"SQLSTATE {code}")
    diag = getattr(driver_error, "diag", None)
    for name in ("table_name", "column_name", "constraint_name"):
        value = getattr(diag, name, None) if diag is not None else None
        if value:
            parts.append(f"{name}={value}")
    statement = getattr(exc, "statement", None)
    if statement:
        parts.append(f"in statement {' '.join(str(statement).split())[:300]!r}")
    return " ".join(parts) + " (message and parameters withheld: they may hold personal data)"


def safe_traceback(exc: BaseException) -> str:
    """The traceback of `exc` and of the exceptions it was raised from, each ending with
    describe_exception's line instead of the raw message."""
    seen: set[int] = set()

    def chain(error: BaseException) -> list[str]:
        seen.add(id(error))
        lines: list[str] = []
        cause = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
        if cause is not None and id(cause) not in seen:
            lines += chain(cause)
            lines.append("\nThe above exception led to the following:\n\n")
        lines.append("Traceback (most recent call last):\n")
        lines += traceback.format_tb(error.__traceback__)
        lines.append(describe_exception(error) + "\n")
        return lines

    return "".join(chain(exc)).rstrip("\n")


class _SafeJsonFormatter(JsonFormatter):
    """JSON lines whose exception text never carries database values (describe_exception)."""

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        return safe_traceback(ei[1]) if ei and ei[1] is not None else super().formatException(ei)


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
        _SafeJsonFormatter(
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
