"""In-memory fakes of the minutes family's repositories (service_layer/ports_minutes.py)."""

from __future__ import annotations


class FakeMinutesRepository:
    pass
