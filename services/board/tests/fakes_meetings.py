"""In-memory fakes of the meetings family's repositories (service_layer/ports_meetings.py)."""

from __future__ import annotations


class FakeMeetingRepository:
    pass
