"""The elections repository: one object over the SQL rows of each aggregate (one module each),
so the use cases read `uow.elections.<method>` whatever the table."""

from __future__ import annotations

from coop_elections.adapters.repository_ballots import BallotRows
from coop_elections.adapters.repository_elections import (
    ElectionRows,
    texts_from_json,
    texts_to_json,
)
from coop_elections.adapters.repository_members import MemberRows
from coop_elections.adapters.repository_roll import RollRows


class SqlElectionRepository(ElectionRows, RollRows, BallotRows, MemberRows):
    """Implements service_layer.ports.ElectionRepository on one session."""


__all__ = ["SqlElectionRepository", "texts_from_json", "texts_to_json"]
