"""An election as the service holds it (its definition plus its state) and the voter roll's
summary: the values the use cases read, answer with and publish."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .election import ElectionSpec


@dataclass
class StoredElection:
    """An election row, parsed."""

    election_id: str
    tenant: str
    spec: ElectionSpec
    tie_break_seed: str
    status: str
    roll_frozen: bool
    roll_size: int | None
    roll_weight: int | None
    roll_hash: str | None
    closing_soon_sent: bool
    election_key: str | None = None  # hex, once an encrypted election is opened

    @property
    def encrypted(self) -> bool:
        return self.spec.encryption is not None

    @property
    def closes_at(self) -> datetime:
        return self.spec.window.closes_at

    def roll_is_frozen(self, now: datetime) -> bool:
        return self.roll_frozen or now >= self.spec.roll_cutoff


@dataclass
class RollSummary:
    election_id: str
    size: int
    total_weight: int
    frozen: bool
    sha256: str
