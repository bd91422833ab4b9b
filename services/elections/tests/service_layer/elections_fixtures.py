"""Shared values of the use-case tests: a definition, callers of every role, the clock's moments."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from coop_domain.principal import Principal
from coop_elections.domain.election import ElectionSpec, QuestionSpec, Text, make_spec
from coop_elections.domain.model import Method

OPENS = datetime(2027, 5, 1, 8, tzinfo=UTC)
BEFORE = OPENS - timedelta(days=3)
DURING = OPENS + timedelta(days=2)
AFTER = datetime(2027, 5, 15, 15, 0, 1, tzinfo=UTC)  # 17:00 Brussels has passed
ADMIN = Principal("admin-1", "coop", frozenset({"admin"}))
PARTNER = Principal("partner-admin", "partner-x", frozenset({"partner"}))
OTHER_PARTNER = Principal("other-admin", "partner-y", frozenset({"partner"}))
TELLER = Principal("teller-1", "coop", frozenset({"teller"}))


def member(subject: str, tenant: str = "coop") -> Principal:
    return Principal(subject, tenant, frozenset({"member"}))


def spec(*, opens: datetime = OPENS, cutoff: datetime | None = None, proxies: int = 0) -> ElectionSpec:
    return make_spec([Text("en", "Board")],
                     [QuestionSpec("accounts", Method.RESOLUTION, (Text("en", "Accounts"),)),
                      QuestionSpec("board", Method.PLURALITY, (Text("en", "Board"),), candidates=("ann", "bob"))],
                     opens_at=opens, assembly_day=date(2027, 5, 15), closes_local=time(17, 0),
                     tz="Europe/Brussels", roll_cutoff=cutoff, allow_revote=False, max_proxies_held=proxies,
                     nominations_open=None, nominations_close=None, max_permanent_staff_seats=0)
