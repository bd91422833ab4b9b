"""SQL rows of ballots, paper ballots, candidacies and proxies."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update

from coop_elections.adapters import orm
from coop_elections.adapters.rows import Rows, add_ballots


class BallotRows(Rows):
    # -- ballots
    def add_ballots(self, rows: list[dict[str, Any]]) -> set[str]:
        """Ballots (add_ballot's columns) in one statement; returns the trackers stored (a
        tracker already taken, a chance of one in 2**80, is skipped for the caller to retry)."""
        if not rows:
            return set()
        return set(self.session.execute(add_ballots(self.dialect), rows).scalars())

    def ballots_by_tracker(self, election_id: str, trackers: list[str]) -> dict[str, Any]:
        """tracker -> (content, ballot_hash) of those of these trackers whose ballot stands."""
        c = orm.ballots.c
        return {r.tracker: r for r in self.session.execute(select(c.tracker, c.content, c.ballot_hash).where(
            c.election_id == election_id, c.tracker.in_(set(trackers))))}

    def remove_ballot(self, election_id: str, tracker: str, revote_hash: str) -> bool:
        c = orm.ballots.c
        result = self.session.execute(delete(orm.ballots).where(
            c.election_id == election_id, c.tracker == tracker, c.revote_hash == revote_hash))
        return result.rowcount == 1

    def mark_superseded(self, election_id: str) -> None:
        self.session.execute(insert(orm.superseded_ballots).values(
            election_id=election_id, marker=str(uuid.uuid4())))

    def superseded_count(self, election_id: str) -> int:
        c = orm.superseded_ballots.c
        return int(self.session.execute(select(func.count()).where(c.election_id == election_id)).scalar_one())

    def discard_cast_ballots(self, election_id: str) -> None:
        """Delete an election's casting rows (ballots, superseded markers) once its box is
        published. On SQLite the freed space is overwritten (secure_delete), so the file keeps
        no copy of them; PostgreSQL keeps the dead row versions until VACUUM (see the docs)."""
        if self.dialect.is_sqlite:
            self.session.execute(text("PRAGMA secure_delete = ON"))
        for table in (orm.ballots, orm.superseded_ballots):
            self.session.execute(delete(table).where(table.c.election_id == election_id))
        self.set_paper_rows(election_id, content=None, tracker=None)  # kept only to answer retries

    def ballots(self, election_id: str) -> list[tuple[str, int, str]]:
        c = orm.ballots.c
        return [(r.tracker, r.weight, r.content) for r in self.session.execute(
            select(c.tracker, c.weight, c.content).where(c.election_id == election_id))]

    def ballots_in_order(self, election_id: str, page: int = 200) -> Iterator[tuple[str, int, str]]:
        """The ballots in tracker (box) order, read `page` rows at a time (keyset on the primary
        key): an encrypted box is gigabytes, and the caller holds one row at a time."""
        c = orm.ballots.c
        after = ""
        while True:
            rows = self.session.execute(select(c.tracker, c.weight, c.content).where(
                c.election_id == election_id, c.tracker > after).order_by(c.tracker).limit(page)).all()
            yield from ((r.tracker, r.weight, r.content) for r in rows)
            if len(rows) < page:
                return
            after = rows[-1].tracker

    def ballot_totals(self, election_id: str) -> tuple[int, int]:
        c = orm.ballots.c
        n, w = self.session.execute(select(func.count(), func.coalesce(func.sum(c.weight), 0))
                                    .where(c.election_id == election_id)).one()
        return int(n), int(w)

    # -- paper ballots
    def paper(self, election_id: str, paper_id: str) -> Any:
        return self._locked_row(orm.paper_ballots, election_id, "paper_id", paper_id)

    def add_paper(self, election_id: str, paper_id: str, content_json: str, teller: str) -> bool:
        result = self.session.execute(
            self.dialect.insert(orm.paper_ballots).values(
                election_id=election_id, paper_id=paper_id, state="pending", content=content_json,
                first_teller=teller)
            .on_conflict_do_nothing(index_elements=["election_id", "paper_id"]))
        return result.rowcount == 1

    def set_paper(self, election_id: str, paper_id: str, **values: Any) -> None:
        self.set_paper_rows(election_id, paper_id, **values)

    def set_paper_rows(self, election_id: str, paper_id: str | None = None, **values: Any) -> None:
        """Update one paper of the election, or all of them."""
        c = orm.paper_ballots.c
        where = [c.election_id == election_id] + ([c.paper_id == paper_id] if paper_id is not None else [])
        self.session.execute(update(orm.paper_ballots).where(*where).values(**values))

    def drop_paper(self, election_id: str, paper_id: str) -> None:
        c = orm.paper_ballots.c
        self.session.execute(delete(orm.paper_ballots).where(
            c.election_id == election_id, c.paper_id == paper_id))

    def papers_counted(self, election_id: str) -> int:
        c = orm.paper_ballots.c
        return int(self.session.execute(select(func.count()).where(
            c.election_id == election_id, c.state == "counted")).scalar_one())

    # -- candidacies
    def candidacies(self, election_id: str, question_id: str = "") -> list[Any]:
        c = orm.candidacies.c
        query = select(orm.candidacies).where(c.election_id == election_id)
        if question_id:
            query = query.where(c.question_id == question_id)
        return list(self.session.execute(query.order_by(c.question_id, c.candidate_id)))

    def candidacy(self, election_id: str, question_id: str, candidate_id: str) -> Any:
        c = orm.candidacies.c
        return self.session.execute(select(orm.candidacies).where(
            c.election_id == election_id, c.question_id == question_id,
            c.candidate_id == candidate_id)).first()

    def save_candidacy(self, election_id: str, question_id: str, candidate_id: str,
                       statement: str, category: str, withdrawn: bool) -> None:
        values = {"statement": statement, "category": category, "withdrawn": withdrawn}
        stmt = self.dialect.insert(orm.candidacies).values(
            election_id=election_id, question_id=question_id, candidate_id=candidate_id, **values)
        self.session.execute(stmt.on_conflict_do_update(
            index_elements=["election_id", "question_id", "candidate_id"], set_=values))

    def erase_candidacies(self, tenant: str, candidate_id: str, at: datetime) -> None:
        """Empty this candidate's statements in the tenant's elections; withdraw the candidacies
        whose nomination window is still open at `at`."""
        c, e = orm.candidacies.c, orm.elections.c
        of_tenant = select(e.election_id).where(e.tenant == tenant)
        nominating = of_tenant.where(e.nominations_open <= at, e.nominations_close > at)
        self.session.execute(update(orm.candidacies).where(
            c.candidate_id == candidate_id, c.election_id.in_(of_tenant)).values(statement="[]"))
        self.session.execute(update(orm.candidacies).where(
            c.candidate_id == candidate_id, c.election_id.in_(nominating)).values(withdrawn=True))

    # -- proxies
    def proxy(self, election_id: str, giver: str) -> Any:
        c = orm.proxies.c
        return self.session.execute(select(orm.proxies).where(
            c.election_id == election_id, c.giver_id == giver)).first()

    def proxies(self, election_id: str) -> list[Any]:
        c = orm.proxies.c
        return list(self.session.execute(select(orm.proxies).where(c.election_id == election_id)))

    def save_proxy(self, election_id: str, giver: str, holder: str, status: str) -> None:
        stmt = self.dialect.insert(orm.proxies).values(election_id=election_id, giver_id=giver,
                                                holder_id=holder, status=status)
        self.session.execute(stmt.on_conflict_do_update(
            index_elements=["election_id", "giver_id"], set_={"holder_id": holder, "status": status}))

    def usable_proxies(self, election_id: str, uses: list[tuple[str, str]]) -> set[str]:
        """Of these (giver, holder) pairs, the givers whose proxy is active and held by that holder."""
        if not uses:
            return set()
        c = orm.proxies.c
        active = {(r.giver_id, r.holder_id) for r in self.session.execute(select(c.giver_id, c.holder_id).where(
            c.election_id == election_id, c.status == "active", c.giver_id.in_({g for g, _ in uses})))}
        return {giver for giver, holder in uses if (giver, holder) in active}

    def set_proxy_status(self, election_id: str, giver: str, from_status: str, to_status: str,
                         holder: str | None = None) -> bool:
        c = orm.proxies.c
        where = [c.election_id == election_id, c.giver_id == giver, c.status == from_status]
        if holder is not None:
            where.append(c.holder_id == holder)
        return self.session.execute(update(orm.proxies).where(*where).values(status=to_status)).rowcount == 1
