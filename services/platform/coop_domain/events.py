"""Domain events: facts a service publishes. Each service's adapters turn them into protobuf
(its `EventTranslator`); the service layer only calls `uow.publish(event)`."""

from __future__ import annotations

from typing import Any, Protocol


class EventTranslator(Protocol):
    """A service's adapter from its domain events to (event name, protobuf message, subject)."""

    def __call__(self, event: Any) -> tuple[str, Any, str | None]: ...
