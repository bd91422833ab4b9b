"""SQL rows of the voter roll, the register of who voted, and the tellers' sign-in audit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select

from coop_elections.adapters import orm
from coop_elections.adapters.rows import Rows, mark_voted, roll_entry_by_voter


class RollRows(Rows):
    def roll_voters_present(self, election_id: str, voter_ids: list[str]) -> set[str]:
        found: set[str] = set()
        c = orm.voter_roll.c
        for start in range(0, len(voter_ids), 1000):
            chunk = voter_ids[start:start + 1000]
            found.update(self.session.execute(select(c.voter_id).where(
                c.election_id == election_id, c.voter_id.in_(chunk))).scalars())
        return found

    def add_roll_entries(self, election_id: str, entries: list[tuple[str, int, str | None]]) -> None:
        if entries:
            self.session.execute(insert(orm.voter_roll), [
                {"election_id": election_id, "voter_id": v, "weight": w, "category": cat}
                for v, w, cat in entries])

    def remove_roll_entries(self, election_id: str, voter_ids: Iterable[str]) -> int:
        """Take voters off a roll that is not frozen (a rebuild from the members); how many."""
        c, gone = orm.voter_roll.c, list(voter_ids)
        removed = 0
        for start in range(0, len(gone), 1000):
            removed += self.session.execute(delete(orm.voter_roll).where(
                c.election_id == election_id, c.voter_id.in_(gone[start:start + 1000]))).rowcount
        return removed

    def roll_entries_page(self, election_id: str, after: str, limit: int) -> list[tuple[str, int]]:
        """Entries in voter id order after `after` (the order the roll's hash is computed in)."""
        c = orm.voter_roll.c
        return [(r.voter_id, int(r.weight)) for r in self.session.execute(
            select(c.voter_id, c.weight).where(c.election_id == election_id, c.voter_id > after)
            .order_by(c.voter_id).limit(limit))]

    def roll_entries(self, election_id: str) -> list[tuple[str, int]]:
        c = orm.voter_roll.c
        return [(r.voter_id, r.weight) for r in self.session.execute(
            select(c.voter_id, c.weight).where(c.election_id == election_id))]

    def roll_entry(self, election_id: str, voter_id: str) -> Any:
        return self.session.execute(roll_entry_by_voter(),
                                    {"election_id": election_id, "voter_id": voter_id}).first()

    def roll_weights(self, election_id: str, voter_ids: Iterable[str]) -> dict[str, int]:
        """The roll weight of each of these voters who is on the roll (one query for a batch)."""
        c = orm.voter_roll.c
        return {r.voter_id: int(r.weight) for r in self.session.execute(
            select(c.voter_id, c.weight).where(c.election_id == election_id, c.voter_id.in_(set(voter_ids))))}

    def roll_weight_range(self, election_id: str) -> tuple[int | None, int | None]:
        """The smallest and largest weight on the roll (None, None for an empty roll)."""
        c = orm.voter_roll.c
        low, high = self.session.execute(select(func.min(c.weight), func.max(c.weight))
                                         .where(c.election_id == election_id)).one()
        return (int(low), int(high)) if low is not None else (None, None)

    def roll_totals(self, election_id: str) -> tuple[int, int]:
        c = orm.voter_roll.c
        size, weight = self.session.execute(select(func.count(), func.coalesce(func.sum(c.weight), 0))
                                            .where(c.election_id == election_id)).one()
        return int(size), int(weight)

    # -- register of who voted
    def mark_voted(self, election_id: str, voter_id: str, channel: str) -> bool:
        """Insert into the register; False when the voter is already in it (no exception, so the
        transaction stays usable; on PostgreSQL a concurrent insert waits for the other)."""
        result = self.session.execute(mark_voted(self.dialect, False),
                                      {"election_id": election_id, "voter_id": voter_id, "channel": channel})
        return result.rowcount == 1

    def mark_voted_many(self, election_id: str, voter_ids: list[str], channel: str) -> set[str]:
        """mark_voted for distinct voters in one statement; returns those newly in the register."""
        if not voter_ids:
            return set()
        rows = [{"election_id": election_id, "voter_id": v, "channel": channel} for v in voter_ids]
        return set(self.session.execute(mark_voted(self.dialect, True), rows).scalars())

    def has_voted(self, election_id: str, voter_id: str) -> bool:
        c = orm.voters_who_voted.c
        return self.session.execute(select(c.voter_id).where(
            c.election_id == election_id, c.voter_id == voter_id)).first() is not None

    def voted_count(self, election_id: str) -> int:
        c = orm.voters_who_voted.c
        return int(self.session.execute(select(func.count()).where(c.election_id == election_id)).scalar_one())

    def non_voters(self, election_id: str) -> list[str]:
        r, v = orm.voter_roll.c, orm.voters_who_voted.c
        voted = select(v.voter_id).where(v.election_id == election_id)
        return sorted(self.session.execute(select(r.voter_id).where(
            r.election_id == election_id, r.voter_id.not_in(voted))).scalars())

    def in_person_count(self, election_id: str) -> int:
        c = orm.voters_who_voted.c
        return int(self.session.execute(select(func.count()).where(
            c.election_id == election_id, c.channel == "in_person")).scalar_one())

    def register_channel(self, election_id: str, voter_id: str) -> str | None:
        """How this voter is in the register (online, proxy, in_person), or None."""
        c = orm.voters_who_voted.c
        return self.session.execute(select(c.channel).where(
            c.election_id == election_id, c.voter_id == voter_id)).scalar_one_or_none()

    def unmark_in_person(self, election_id: str, voter_id: str) -> bool:
        """Take a voter signed in at the Assembly out of the register (an undone sign-in)."""
        c = orm.voters_who_voted.c
        return self.session.execute(delete(orm.voters_who_voted).where(
            c.election_id == election_id, c.voter_id == voter_id, c.channel == "in_person")).rowcount == 1

    # -- tellers' sign-in audit
    def add_sign_in_audit(self, election_id: str, voter_id: str, teller: str, action: str, reason: str,
                          at: datetime) -> None:
        self.session.execute(insert(orm.sign_in_audit).values(
            election_id=election_id, voter_id=voter_id, teller_id=teller, action=action, reason=reason, at=at))

    def last_sign_in_audit(self, election_id: str, voter_id: str, action: str | None = None) -> Any:
        """The newest audit row of this voter (of this action, when given), or None."""
        c = orm.sign_in_audit.c
        query = select(orm.sign_in_audit).where(c.election_id == election_id, c.voter_id == voter_id)
        if action:
            query = query.where(c.action == action)
        return self.session.execute(query.order_by(c.sequence.desc()).limit(1)).first()

    def sign_in_audit_page(self, election_id: str, after: int, limit: int) -> list[Any]:
        c = orm.sign_in_audit.c
        return list(self.session.execute(select(orm.sign_in_audit).where(
            c.election_id == election_id, c.sequence > after).order_by(c.sequence).limit(limit)))

    def pending_undo(self, election_id: str, voter_id: str) -> Any:
        return self._locked_row(orm.pending_sign_in_undos, election_id, "voter_id", voter_id)

    def add_pending_undo(self, election_id: str, voter_id: str, teller: str, reason: str) -> None:
        self.session.execute(insert(orm.pending_sign_in_undos).values(
            election_id=election_id, voter_id=voter_id, requested_by=teller, reason=reason))

    def drop_pending_undo(self, election_id: str, voter_id: str) -> None:
        c = orm.pending_sign_in_undos.c
        self.session.execute(delete(orm.pending_sign_in_undos).where(
            c.election_id == election_id, c.voter_id == voter_id))
