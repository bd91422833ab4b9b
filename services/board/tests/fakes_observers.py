"""In-memory fakes of the observers family's repositories (service_layer/ports_observers.py)."""

from __future__ import annotations


class FakeObserverRepository:
    pass
