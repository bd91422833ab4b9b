"""In-memory fakes of the roster family's repositories (service_layer/ports_roster.py)."""

from __future__ import annotations


class FakeRosterRepository:
    pass


class FakeMemberStandingRepository:
    pass
